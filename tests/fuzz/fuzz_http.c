/* Fuzz target: the relay's HTTP/1.1 request-head parser. */
#include "fuzz_common.h"
#include "relay.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    llf_http_req r;
    long clen;
    if (llf_http_parse_head((const char *)d, n, &r, &clen) > 0)
        llf_http_req_free(&r);
    return 0;
}
