/* curlapi.h — the table of libcurl functions llmfallback calls.
 *
 * Neither library links libcurl: a process that never calls an LLM must not
 * pay for loading it (see pitfalls.md). The shim fills this table from the
 * libcurl the host already has (RTLD_NEXT, or RTLD_NOLOAD for hosts that loaded
 * it RTLD_LOCAL), and dlopens libcurl.so.4 only when it must transfer itself.
 * The core receives the filled table; unit tests fill it from a linked libcurl. */
#ifndef LLF_CURLAPI_H
#define LLF_CURLAPI_H

/* Our hooks define the functions curl.h wraps in type-checking macros. */
#define CURL_DISABLE_TYPECHECK 1
#define CURL_DISABLE_DEPRECATION 1
#include <curl/curl.h>

typedef struct llf_curl_api {
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_reset)(CURL *);
    CURL *(*easy_duphandle)(CURL *);
    void (*easy_cleanup)(CURL *);
    CURLHcode (*easy_header)(CURL *, const char *, size_t, unsigned int, int,
                             struct curl_header **);
    struct curl_header *(*easy_nextheader)(CURL *, unsigned int, int, struct curl_header *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    CURLU *(*url)(void);
    void (*url_cleanup)(CURLU *);
    CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
    CURLUcode (*url_get)(const CURLU *, CURLUPart, char **, unsigned int);
    void (*free)(void *);
    time_t (*getdate)(const char *, const time_t *);
    CURL *(*easy_init)(void);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_perform)(CURLM *, int *);
    CURLMcode (*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
    CURLMcode (*multi_socket_all)(CURLM *, int *);
    CURLMcode (*multi_socket)(CURLM *, curl_socket_t, int *);   /* (deprecated, still exported) */
    CURLcode (*easy_send)(CURL *, const void *, size_t, size_t *);
    CURLcode (*easy_recv)(CURL *, void *, size_t, size_t *);
    CURLcode (*easy_pause)(CURL *, int);
    CURLSHcode (*share_setopt)(CURLSH *, CURLSHoption, ...);
    CURLSHcode (*share_cleanup)(CURLSH *);
    const struct curl_easyoption *(*easy_option_by_id)(CURLoption);   /* 7.73 on */
} llf_curl_api;

#endif
