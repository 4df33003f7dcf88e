/* curlshare.c — two libcurl handles in one share (test_tls_path): handle A
 * talks to a gateway of the program's own, whose certificate its
 * SSL_CTX_FUNCTION accepts (a cert-verify callback that accepts anything:
 * libcurl's options still say VERIFYPEER 1); handle B then makes the LLM
 * call, verified with PROG_CA, its key OPENAI_API_KEY.
 *   curlshare PRIMARY_URL GATEWAY_URL connect|ssl
 * shares connections (as the curl tool's handles do), or TLS sessions only
 * (A's connection then not kept). Prints B's status. A's CA file:
 * GATEWAY_CA, if set. */
#include <curl/curl.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int accept_all(X509_STORE_CTX *c, void *arg)
{
    (void)c, (void)arg;
    return 1;
}

static CURLcode ctxfn(CURL *h, void *ctx, void *ud)
{
    (void)h, (void)ud;
    SSL_CTX_set_cert_verify_callback((SSL_CTX *)ctx, accept_all, NULL);
    return CURLE_OK;
}

static size_t sink(char *p, size_t s, size_t n, void *ud)
{
    (void)p, (void)ud;
    return s * n;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    int ssl_only = strcmp(argv[3], "ssl") == 0;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLSH *sh = curl_share_init();
    curl_share_setopt(sh, CURLSHOPT_SHARE, ssl_only ? CURL_LOCK_DATA_SSL_SESSION : CURL_LOCK_DATA_CONNECT);
    CURL *a = curl_easy_init(), *b = curl_easy_init();
    curl_easy_setopt(a, CURLOPT_SHARE, sh);
    curl_easy_setopt(b, CURLOPT_SHARE, sh);
    char health[1024];
    snprintf(health, sizeof health, "%s/health", argv[2]);
    curl_easy_setopt(a, CURLOPT_URL, health);
    curl_easy_setopt(a, CURLOPT_SSL_CTX_FUNCTION, ctxfn);
    if (getenv("GATEWAY_CA"))   /* (as a CA file of its own: otherwise libcurl's default) */
        curl_easy_setopt(a, CURLOPT_CAINFO, getenv("GATEWAY_CA"));
    curl_easy_setopt(a, CURLOPT_WRITEFUNCTION, sink);
    if (ssl_only)
        curl_easy_setopt(a, CURLOPT_FORBID_REUSE, 1L);
    CURLcode ra = curl_easy_perform(a);
    char auth[512];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", getenv("OPENAI_API_KEY") ? getenv("OPENAI_API_KEY") : "");
    struct curl_slist *hl = curl_slist_append(curl_slist_append(NULL, auth), "Content-Type: application/json");
    curl_easy_setopt(b, CURLOPT_URL, argv[1]);
    curl_easy_setopt(b, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(b, CURLOPT_POSTFIELDS, "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    curl_easy_setopt(b, CURLOPT_CAINFO, getenv("PROG_CA"));
    curl_easy_setopt(b, CURLOPT_WRITEFUNCTION, sink);
    CURLcode rb = curl_easy_perform(b);
    long status = 0;
    curl_easy_getinfo(b, CURLINFO_RESPONSE_CODE, &status);
    printf("%d %d %ld\n", (int)ra, (int)rb, status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(a);
    curl_easy_cleanup(b);
    curl_share_cleanup(sh);
    return 0;
}
