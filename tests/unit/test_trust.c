/* The program's own trust on the TLS path (trust.c): kept per connection
 * source address from the handshake to the session's end, handed to the
 * relay's transfer as options, in the process that kept it only. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "t.h"
#include "trust.h"

/* What the relay's transfer was given. */
static struct {
    long verifypeer, verifyhost, fresh, forbid, sessions;
    int cainfo_set;
    char capath[64];   /* "-": not set */
    CURLcode ctx_rc;   /* what setting CURLOPT_SSL_CTX_FUNCTION answers */
    curl_ssl_ctx_callback fn;
    void *data;
} got;

static CURLcode fake_setopt(CURL *h, CURLoption o, ...)
{
    va_list ap;
    va_start(ap, o);
    switch (o) {
    case CURLOPT_SSL_VERIFYPEER: got.verifypeer = va_arg(ap, long); break;
    case CURLOPT_SSL_VERIFYHOST: got.verifyhost = va_arg(ap, long); break;
    case CURLOPT_FRESH_CONNECT: got.fresh = va_arg(ap, long); break;
    case CURLOPT_FORBID_REUSE: got.forbid = va_arg(ap, long); break;
    case CURLOPT_SSL_SESSIONID_CACHE: got.sessions = va_arg(ap, long); break;
    case CURLOPT_SSL_CTX_FUNCTION:
        got.fn = va_arg(ap, curl_ssl_ctx_callback);
        va_end(ap);
        return got.fn ? got.ctx_rc : CURLE_OK;
    case CURLOPT_SSL_CTX_DATA: got.data = va_arg(ap, void *); break;
    case CURLOPT_CAINFO: got.cainfo_set = va_arg(ap, char *) == NULL ? 2 : 1; break;
    case CURLOPT_CAPATH: {
        const char *p = va_arg(ap, char *);
        snprintf(got.capath, sizeof got.capath, "%s", p ? p : "(null)");
        break;
    }
    default: break;
    }
    va_end(ap);
    return CURLE_OK;
}

static void clear(void)
{
    CURLcode rc = got.ctx_rc;
    memset(&got, 0, sizeof got);
    got.verifypeer = got.verifyhost = got.sessions = -1;
    got.capath[0] = '-';
    got.ctx_rc = rc;
}

/* A loopback connection: its client end in *c (the program's), the
 * server's in *s; the client's source address in *src. */
static int loopback(int *c, int *s, struct sockaddr_storage *src)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a, sl = sizeof *src;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, l) || listen(lfd, 4) || getsockname(lfd, (struct sockaddr *)&a, &l))
        return -1;
    *c = socket(AF_INET, SOCK_STREAM, 0);
    if (*c < 0 || connect(*c, (struct sockaddr *)&a, l) || (*s = accept(lfd, NULL, NULL)) < 0 ||
        getsockname(*c, (struct sockaddr *)src, &sl))
        return -1;
    close(lfd);
    return 0;
}

void test_trust(void)
{
    llf_curl_api c = {.easy_setopt = fake_setopt, .easy_perform = curl_easy_perform};
    int cfd = -1, sfd = -1;
    struct sockaddr_storage src, other;
    socklen_t ol = sizeof other;
    CHECK(loopback(&cfd, &sfd, &src) == 0);
    CHECK(getsockname(sfd, (struct sockaddr *)&other, &ol) == 0);
    CURL *h = (CURL *)&c;   /* (never used as a handle by the fake) */

    /* Nothing kept: the library's trust, no option touched. */
    clear();
    CHECK(llf_trust_set(&c, h, (struct sockaddr *)&src) == NULL);
    CHECK(got.verifypeer == -1 && got.fresh == 0);

    /* CERT_NONE: no verification (VERIFYPEER 0 keys its connections). */
    SSL_CTX *none = SSL_CTX_new(TLS_client_method());
    SSL *sn = SSL_new(none);
    SSL_set_verify(sn, SSL_VERIFY_NONE, NULL);
    llf_trust_keep(sn, cfd);
    clear();
    void *t = llf_trust_set(&c, h, (struct sockaddr *)&src);
    CHECK(t != NULL);
    CHECK(got.verifypeer == 0 && got.verifyhost == 0 && got.fn == NULL);
    CHECK(got.capath[0] == '-' && got.cainfo_set == 0 && got.fresh == 0 && got.forbid == 0);
    llf_trust_done(t);
    clear();
    CHECK(llf_trust_set(&c, h, (struct sockaddr *)&other) == NULL);   /* another connection */

    /* CERT_REQUIRED with its own store: a later session from the same
     * source replaces the stale one; the store goes to libcurl's SSL_CTX
     * as its verify store, and outlives the program's objects while the
     * transfer holds it; no CA file, and a CA path of the trust's own,
     * which keys its connections. */
    SSL_CTX *mine = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(mine, SSL_VERIFY_PEER, NULL);
    X509_STORE *store = SSL_CTX_get_cert_store(mine);
    SSL *sp = SSL_new(mine);
    llf_trust_keep(sp, cfd);
    clear();
    got.ctx_rc = CURLE_OK;
    t = llf_trust_set(&c, h, (struct sockaddr *)&src);
    CHECK(t != NULL && got.fn != NULL && got.data == t);
    CHECK(got.verifypeer == -1 && got.fresh == 0 && got.forbid == 0 && got.sessions == -1);
    CHECK(got.cainfo_set == 2 && strncmp(got.capath, "/proc/self/llmfallback-trust-", 29) == 0);
    char key[64];
    snprintf(key, sizeof key, "%s", got.capath);
    void *again = llf_trust_set(&c, h, (struct sockaddr *)&src);
    CHECK(again == t && strcmp(got.capath, key) == 0);   /* the same trust, the same key */
    llf_trust_done(again);
    llf_trust_forget(sp);   /* (SSL_free) */
    SSL_free(sp);
    SSL_CTX_free(mine);
    SSL_CTX *curls = SSL_CTX_new(TLS_client_method());
    CHECK(got.fn && got.fn(h, curls, got.data) == CURLE_OK);
    X509_STORE *verify = NULL;
    CHECK(SSL_CTX_get0_verify_cert_store(curls, &verify) == 1 && verify == store);
    CHECK(SSL_CTX_get_cert_store(curls) != store);   /* (libcurl's own, for its CA file) */
    SSL_CTX_free(curls);
    llf_trust_done(t);
    clear();
    CHECK(llf_trust_set(&c, h, (struct sockaddr *)&src) == NULL);   /* forgotten */

    /* Another trust (the same context as a new session), another key. */
    mine = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(mine, SSL_VERIFY_PEER, NULL);
    sp = SSL_new(mine);
    llf_trust_keep(sp, cfd);
    clear();
    t = llf_trust_set(&c, h, (struct sockaddr *)&src);
    CHECK(t != NULL && strncmp(got.capath, "/proc/self/llmfallback-trust-", 29) == 0 && strcmp(got.capath, key) != 0);
    llf_trust_done(t);

    /* A libcurl without CURLOPT_SSL_CTX_FUNCTION: as before. */
    clear();
    got.ctx_rc = CURLE_NOT_BUILT_IN;
    CHECK(llf_trust_set(&c, h, (struct sockaddr *)&src) == NULL);
    CHECK(got.fresh == 0 && got.fn == NULL && got.verifypeer == 1 && got.capath[0] == '-' && got.cainfo_set == 0);
    got.ctx_rc = CURLE_OK;

    /* A forked child has the entries, not the trust: the library's. */
    pid_t pid = fork();
    if (pid == 0)
        _exit(llf_trust_set(&c, h, (struct sockaddr *)&src) == NULL ? 0 : 1);
    int st = -1;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK((t = llf_trust_set(&c, h, (struct sockaddr *)&src)) != NULL);   /* the parent still has it */
    llf_trust_done(t);

    llf_trust_forget(sp);
    SSL_free(sp);
    SSL_CTX_free(mine);
    llf_trust_forget(sn);   /* (replaced already: nothing) */
    SSL_free(sn);
    SSL_CTX_free(none);
    close(cfd);
    close(sfd);
}
