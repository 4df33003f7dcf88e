/* curl_tls.h — the program's TLS options for its own server on the libcurl
 * path: recorded as it sets them (libcurl has no getters), the library's
 * trust set in their place for a member's attempt, and put back for the
 * program's own (curl_tls.c says why). */
#ifndef LLF_CURL_TLS_H
#define LLF_CURL_TLS_H

#include "curlapi.h"

typedef struct hstate hstate;   /* curl_handle.h */

#define NTLS 19   /* the TLS options the program may set (tls_opts) */

typedef union tlsval {
    long l;
    char *str;                 /* copy */
    struct curl_blob *blob;    /* copy, its data with it */
    void (*fn)(void);
} tlsval;

/* tls_opts' index of o, or -1: not one of them. */
int llf_tls_index(CURLoption o);
/* A copy of a blob, its data with it (NULL with no memory, or for none). */
struct curl_blob *llf_blob_copy(const struct curl_blob *b);
void llf_tls_free(hstate *s);
void llf_tls_dup(hstate *n, const hstate *s);
void llf_tls_record(hstate *s, int i, long l, const void *p);
/* A member's TLS in place of the program's (D_TLS when anything changed),
 * and the program's back. */
unsigned llf_tls_member(const llf_curl_api *rc, CURL *h, const hstate *s, const char *ca);
void llf_tls_back(const llf_curl_api *rc, CURL *h, const hstate *s);

#endif
