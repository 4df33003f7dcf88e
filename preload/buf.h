/* buf.h — a growable byte buffer and a list of header lines.
 *
 * Shared by the hooks (capturing what libcurl hands them) and the core
 * (building requests and responses). Every function reports allocation
 * failure as a return value: nothing here may end the host process. */
#ifndef LLF_BUF_H
#define LLF_BUF_H

#include <stddef.h>

typedef struct llf_buf {
    char  *p;     /* always NUL-terminated when non-NULL */
    size_t n;
    size_t cap;
} llf_buf;

int  llf_buf_add(llf_buf *b, const void *data, size_t n);   /* 0 ok, -1 no memory */
int  llf_buf_adds(llf_buf *b, const char *s);
int  llf_buf_printf(llf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The strings up to a NULL, appended with one size check (at most 24). */
int  llf_buf_cats(llf_buf *b, ...) __attribute__((sentinel));
/* v in decimal in d (printf's cost showed on a fallback's path); returns
 * where the digits start. */
const char *llf_utoa(char d[24], unsigned long v);
void llf_buf_reset(llf_buf *b);                             /* keep memory, n = 0 */
void llf_buf_free(llf_buf *b);
char *llf_buf_steal(llf_buf *b);                            /* caller frees */
/* The file at path appended to b, to its end: 0, or -1 with errno (a read
 * error, EISDIR, EINVAL for a file that is not regular when regular_only,
 * EFBIG when b would hold more than max bytes,
 * ENOMEM, ETIMEDOUT when a pipe's writer has not ended it within
 * LLF_READ_WAIT_MS). open, read, close: the shim uses it too, at a
 * process's first name lookup. */
#define LLF_READ_WAIT_MS 5000
int   llf_buf_read_file(llf_buf *b, const char *path, size_t max, int regular_only);
void  llf_buf_adopt(llf_buf *b, char *s);   /* b's memory freed; b now owns string s */

/* A list of "Name: value" strings (no CR/LF), as a request carries them. */
typedef struct llf_headers {
    char  **v;
    size_t  n;
    size_t  cap;
} llf_headers;

int  llf_headers_add(llf_headers *h, const char *line);
int  llf_headers_add2(llf_headers *h, const char *head, const char *tail);   /* head then tail, one line */
void llf_headers_free(llf_headers *h);
/* Value of the first header named `name` (case-insensitive), trimmed, or NULL.
 * Points into the list. */
const char *llf_headers_get(const llf_headers *h, const char *name, size_t *len);
/* Does the "Name: value" line carry header `name`? */
int  llf_header_is(const char *line, const char *name);
/* A header line as libcurl hands it to a header callback (n bytes at p),
 * put where it belongs. libcurl hands a chunked body's trailer fields to
 * the same callback, one line each, after the body's last byte (7.88:
 * Curl_httpchunk_read; HTTP/2: at the stream's close), and nothing tells
 * the callback they are no header: they are the lines that come after the
 * blank line ending a header block, before any next status line. Those go
 * to trailers, the rest to head; a status line first moves the trailers
 * before it (of a block that was not the last: a redirect followed) to
 * head, where they came. 1: a trailer, 0: a head line, -1: no memory. */
int llf_head_take(llf_buf *head, llf_buf *trailers, const char *p, size_t n);
/* Where the last header block of head[0..len) starts (its status line):
 * after 1xx answers and redirects, the one that counts. head when none. */
const char *llf_head_last_block(const char *head, size_t len);
/* The value of header name in the last header block of head, or NULL
 * (points into head; *len set). _any: of the first of the NULL-ended names
 * (in the list's order) that the block carries, in one pass over it. */
/* A header value v..e without the blanks around it (and the CR): its start,
 * and its length in *len. */
const char *llf_trim(const char *v, const char *e, size_t *len);
const char *llf_head_get(const llf_buf *head, const char *name, size_t *len);
const char *llf_head_get_any(const llf_buf *head, const char *const *names, size_t *len);
/* Every line of header name out of head, in each of its blocks. */
void llf_head_drop(llf_buf *head, const char *name);
/* A hop-by-hop or framing header (connection, content-length, ...): the
 * business of whoever sends the bytes, never forwarded. */
int  llf_header_hop(const char *line);

char *llf_strdup(const char *s);
/* calloc(1, n) for what is made and freed on every call: glibc's calloc()
 * does not take blocks from the per-thread cache, malloc() does. */
void *llf_zalloc(size_t n);
char *llf_strndup(const char *s, size_t n);
/* path made absolute against the directory the process is in now (as it
 * is when already absolute, or when that directory cannot be told): for a
 * file opened later, maybe again, after a chdir (a daemon's to "/").
 * malloc'ed; NULL on no memory. */
char *llf_path_abs(const char *path);

#endif
