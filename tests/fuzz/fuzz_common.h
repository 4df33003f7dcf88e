/* fuzz_common.h — what every libFuzzer target shares: the libcurl table the
 * logic calls through (curl_url, curl_getdate), filled from the linked
 * libcurl once. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "curlapi.h"
#include "../unit/linked_curl.h"

const llf_curl_api *llf_curl;

static void fuzz_init(void)
{
    static llf_curl_api api;
    if (llf_curl)
        return;
    linked_curl(&api);
    llf_curl = &api;
}

/* A NUL-terminated copy of the input. */
static char *fuzz_str(const uint8_t *d, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, d, n);
        s[n] = '\0';
    }
    return s;
}

#endif
