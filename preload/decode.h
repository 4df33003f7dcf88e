/* decode.h — a response body as its Content-Encoding says, for judging only:
 * what the program receives is always the body as it came. Pure (zlib). */
#ifndef LLF_DECODE_H
#define LLF_DECODE_H

#include <stddef.h>

#include "buf.h"

enum {
    LLF_DEC_NONE = 0,    /* no Content-Encoding (or identity): the body is the text */
    LLF_DEC_OK = 1,      /* decoded into *out */
    LLF_DEC_OPAQUE = 2,  /* an encoding we do not read (br, zstd, several), or one that
                            reads to more than max bytes: not ours to judge */
    LLF_DEC_BROKEN = 3   /* gzip/deflate that does not decode */
};

/* How much a body may decode to, for the judge and shadow's comparison. */
#define LLF_DECODE_MAX ((size_t)32 << 20)

/* The last header block of head says how body (n bytes) is encoded. */
int llf_decode_body(const llf_buf *head, const char *body, size_t n, size_t max, llf_buf *out);

/* A member's answer (never the program's, which it gets as it came) made
 * plain where it reads: body decoded, and head's Content-Encoding and
 * Content-Length dropped. Otherwise both are left as they were. */
void llf_decode_answer(llf_buf *head, llf_buf *body);

#endif
