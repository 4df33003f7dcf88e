/* Fuzz target: bodies decoded for the judge (decode.c), under each encoding
 * the first byte picks, with a small output limit as well as a large one. */
#include "decode.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    static const char *const enc[] = {"gzip", "deflate", "x-gzip", "identity", "br", "gzip, gzip"};
    if (n < 1)
        return 0;
    llf_buf head = {0}, out = {0};
    llf_buf_cats(&head, "HTTP/1.1 200 OK\r\nContent-Encoding: ", enc[d[0] % 6], "\r\n\r\n", (char *)NULL);
    int rc = llf_decode_body(&head, (const char *)d + 1, n - 1, (d[0] & 0x80) ? 64 : (size_t)1 << 24, &out);
    if (rc != LLF_DEC_OK && out.p)
        __builtin_trap();   /* nothing may be left behind but a decoded body */
    llf_buf_free(&out);
    llf_buf_free(&head);
    return 0;
}
