/* Fuzz target: the relay's HTTP/1.1 request-head parser, and what is made
 * of a head it reads: the URL (on a plain and a TLS connection, the input
 * itself as the Host), whether a Host can stand in a URL, a chunk-size
 * line. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        return 0;
    memcpy(s, d, n);
    s[n] = '\0';
    unsigned long size;
    (void)llf_http_chunk_size(s, &size);
    (void)llf_http_host_ok(s);
    llf_http_req r;
    long clen;
    if (llf_http_parse_head((const char *)d, n, &r, &clen) > 0) {
        llf_buf url = {0};
        (void)llf_http_req_url(r.target, s, n && (d[0] & 1), &url);
        llf_buf_free(&url);
        llf_http_req_free(&r);
    }
    free(s);
    return 0;
}
