/* decode.c — response bodies decoded for the judge (see decode.h).
 *
 * libcurl decodes only when the program set CURLOPT_ACCEPT_ENCODING (curl
 * --compressed). A program that writes its own Accept-Encoding header gets
 * the provider's gzip as it came, and so does the engine: without this, a
 * healthy provider's compressed answer was judged not JSON and every member
 * was asked in vain (and counted against). Members are asked for no encoding
 * (rewrite.c), so only the program's own attempt needs this. */
#include "decode.h"

#include <limits.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* windowBits: 15+16 gzip, 15 zlib (HTTP's "deflate"), -15 raw deflate (what
 * some servers send as "deflate"). 0, -1 when it does not decode, or
 * TOO_LARGE when it decodes to more than max (so far without an error). */
enum { TOO_LARGE = -2 };
static int inflate_all(const char *p, size_t n, int bits, size_t max, llf_buf *out)
{
    if (n > UINT_MAX)
        return -1;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, bits) != Z_OK)
        return -1;
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    char chunk[16384];
    int rc;
    do {
        z.next_out = (Bytef *)chunk;
        z.avail_out = sizeof chunk;
        rc = inflate(&z, Z_NO_FLUSH);
        size_t got = sizeof chunk - z.avail_out;
        if (got && out->n + got > max) {
            inflateEnd(&z);
            llf_buf_free(out);
            return TOO_LARGE;
        }
        if (got && llf_buf_add(out, chunk, got)) {
            rc = Z_MEM_ERROR;
            break;
        }
        /* (a gzip body may hold several members, one after the other) */
        if (rc == Z_STREAM_END && z.avail_in > 0 && bits == 15 + 16)
            rc = inflateReset(&z) == Z_OK ? Z_OK : Z_DATA_ERROR;
    } while (rc == Z_OK);
    inflateEnd(&z);
    if (rc != Z_STREAM_END || z.avail_in > 0) {
        llf_buf_free(out);
        return -1;
    }
    return 0;
}

int llf_decode_body(const llf_buf *head, const char *body, size_t n, size_t max, llf_buf *out)
{
    size_t len;
    const char *v = llf_head_get(head, "content-encoding", &len);
    if (!v || len == 0 || (len == 8 && strncasecmp(v, "identity", 8) == 0))
        return LLF_DEC_NONE;
    int gzip = (len == 4 && strncasecmp(v, "gzip", 4) == 0) || (len == 6 && strncasecmp(v, "x-gzip", 6) == 0);
    int deflate = len == 7 && strncasecmp(v, "deflate", 7) == 0;
    if (!gzip && !deflate)
        return LLF_DEC_OPAQUE;
    /* (one that reads well up to max is not ours to judge either: nothing
     * says it is broken, and the program may read all of it) */
    int rc = inflate_all(body ? body : "", n, gzip ? 15 + 16 : 15, max, out);
    if (rc == -1 && deflate)
        rc = inflate_all(body ? body : "", n, -15, max, out);
    return rc == 0 ? LLF_DEC_OK : rc == TOO_LARGE ? LLF_DEC_OPAQUE : LLF_DEC_BROKEN;
}

void llf_decode_answer(llf_buf *head, llf_buf *body)
{
    llf_buf plain = {0};
    if (llf_decode_body(head, body->p, body->n, LLF_DECODE_MAX, &plain) == LLF_DEC_OK) {
        llf_buf_free(body);
        *body = plain;
        llf_head_drop(head, "content-encoding");
        llf_head_drop(head, "content-length");
    } else {
        llf_buf_free(&plain);
    }
}
