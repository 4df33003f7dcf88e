/* test_decode.c — bodies decoded for the judge: gzip (one member or
 * several), HTTP's deflate (zlib, and the raw deflate some servers send),
 * identity, encodings we do not read, and what does not decode. */
#include <stdlib.h>
#include <zlib.h>

#include "decode.h"
#include "t.h"

/* text compressed with windowBits bits (31 gzip, 15 zlib, -15 raw). */
static size_t squeeze(const char *text, int bits, unsigned char *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    z.next_in = (Bytef *)text;
    z.avail_in = (uInt)strlen(text);
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? n : 0;
}

static int dec(const char *encoding, const unsigned char *body, size_t n, size_t max, llf_buf *out)
{
    llf_buf head = {0};
    llf_buf_adds(&head, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\n");
    if (encoding)
        llf_buf_cats(&head, "Content-Encoding: ", encoding, "\r\n", (char *)NULL);
    llf_buf_adds(&head, "\r\n");
    int rc = llf_decode_body(&head, (const char *)body, n, max, out);
    llf_buf_free(&head);
    return rc;
}

void test_decode(void)
{
    const char *text = "{\"choices\":[{\"message\":{\"content\":\"hello hello hello hello\"}}]}";
    unsigned char z[512], two[1024];
    llf_buf out = {0};

    size_t n = squeeze(text, 31, z, sizeof z);
    CHECK(n > 0);
    CHECK(dec("gzip", z, n, 1 << 20, &out) == LLF_DEC_OK && out.n == strlen(text) && memcmp(out.p, text, out.n) == 0);
    llf_buf_free(&out);
    CHECK(dec("x-gzip", z, n, 1 << 20, &out) == LLF_DEC_OK);
    llf_buf_free(&out);
    /* two gzip members one after the other: both */
    memcpy(two, z, n);
    memcpy(two + n, z, n);
    CHECK(dec("gzip", two, 2 * n, 1 << 20, &out) == LLF_DEC_OK && out.n == 2 * strlen(text));
    llf_buf_free(&out);
    /* cut short: broken, and nothing left behind */
    CHECK(dec("gzip", z, n - 4, 1 << 20, &out) == LLF_DEC_BROKEN && out.n == 0 && !out.p);
    /* bigger than allowed: not ours to judge (a healthy answer may be that
     * large), and nothing left behind */
    CHECK(dec("gzip", z, n, 10, &out) == LLF_DEC_OPAQUE && !out.p);
    CHECK(dec("gzip", (const unsigned char *)text, strlen(text), 1 << 20, &out) == LLF_DEC_BROKEN);
    CHECK(dec("gzip", NULL, 0, 1 << 20, &out) == LLF_DEC_BROKEN);

    n = squeeze(text, 15, z, sizeof z);
    CHECK(dec("deflate", z, n, 1 << 20, &out) == LLF_DEC_OK && out.n == strlen(text));
    llf_buf_free(&out);
    CHECK(dec("deflate", z, n, 10, &out) == LLF_DEC_OPAQUE && !out.p);
    n = squeeze(text, -15, z, sizeof z);
    CHECK(dec("DEFLATE", z, n, 1 << 20, &out) == LLF_DEC_OK && out.n == strlen(text));
    llf_buf_free(&out);

    CHECK(dec(NULL, (const unsigned char *)text, strlen(text), 1 << 20, &out) == LLF_DEC_NONE && !out.p);
    CHECK(dec("identity", (const unsigned char *)text, strlen(text), 1 << 20, &out) == LLF_DEC_NONE);
    CHECK(dec("br", z, n, 1 << 20, &out) == LLF_DEC_OPAQUE && !out.p);
    CHECK(dec("gzip, br", z, n, 1 << 20, &out) == LLF_DEC_OPAQUE);
}
