/* The program's own trust on the TLS path (trust.c): kept per connection
 * source address from the handshake to the session's end, handed to the
 * relay's transfer as options, in the process that kept it only. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

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

/* A self-signed certificate for key, named cn. */
static X509 *self_signed(EVP_PKEY *key, const char *cn)
{
    X509 *x = X509_new();
    if (!x)
        return NULL;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_set_pubkey(x, key);
    if (!X509_sign(x, key, EVP_sha256())) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* The names of ctx's ciphers, TLS 1.3 suites (tls13) or the others. */
static void names_of(SSL_CTX *ctx, int tls13, char *out, size_t n)
{
    STACK_OF(SSL_CIPHER) *l = SSL_CTX_get_ciphers(ctx);
    size_t at = 0;
    out[0] = '\0';
    for (int i = 0; l && i < sk_SSL_CIPHER_num(l); i++) {
        const SSL_CIPHER *c = sk_SSL_CIPHER_value(l, i);
        if ((strcmp(SSL_CIPHER_get_version(c), "TLSv1.3") == 0) == tls13)
            at += snprintf(out + at, n - at, "%s%s", at ? ":" : "", SSL_CIPHER_get_name(c));
    }
}

/* What the program set on its SSL beyond its store reaches libcurl's
 * SSL_CTX for its provider: the verify parameters (flags, depth, its host
 * name, else its SNI), versions, ciphers and suites, security level, client
 * certificate, key and chain; after the program has freed its own. */
static void settings(llf_curl_api *c, CURL *h, int cfd, const struct sockaddr *src)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = key ? self_signed(key, "client1") : NULL;
    X509 *inter = key ? self_signed(key, "intermediate") : NULL;
    CHECK(cert != NULL && inter != NULL);
    if (!cert || !inter)
        return;
    for (int verify = 1; verify >= 0; verify--) {
        SSL_CTX *p = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(p, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
        CHECK(SSL_CTX_use_certificate(p, cert) == 1 && SSL_CTX_use_PrivateKey(p, key) == 1);
        CHECK(SSL_CTX_add1_chain_cert(p, inter) == 1);
        SSL *s = SSL_new(p);
        X509_VERIFY_PARAM *vp = SSL_get0_param(s);
        X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_X509_STRICT);
        X509_VERIFY_PARAM_set_depth(vp, 3);
        if (verify)
            CHECK(SSL_set1_host(s, "api.example") == 1);
        CHECK(SSL_set_min_proto_version(s, TLS1_2_VERSION) == 1 && SSL_set_max_proto_version(s, TLS1_2_VERSION) == 1);
        CHECK(SSL_set_cipher_list(s, "ECDHE-RSA-CHACHA20-POLY1305:AES128-SHA") == 1);
        CHECK(SSL_set_ciphersuites(s, "TLS_AES_128_GCM_SHA256") == 1);
        SSL_set_options(s, SSL_OP_NO_TLSv1_1);
        SSL_set_security_level(s, 1);
        llf_trust_keep(s, cfd);
        clear();
        void *t = llf_trust_set(c, h, src);
        CHECK(t != NULL && got.fn != NULL);
        llf_trust_forget(s);
        SSL_free(s);
        SSL_CTX_free(p);
        SSL_CTX *curls = SSL_CTX_new(TLS_client_method());
        /* (what libcurl set before the callback is replaced) */
        SSL_CTX_set_options(curls, SSL_OP_NO_TLSv1_2);
        SSL_CTX_set_security_level(curls, 2);
        CHECK(got.fn && got.fn(h, curls, got.data) == CURLE_OK);
        X509_VERIFY_PARAM *cp = SSL_CTX_get0_param(curls);
        unsigned long want = X509_V_FLAG_CRL_CHECK | X509_V_FLAG_X509_STRICT;
        if (verify) {
            CHECK((X509_VERIFY_PARAM_get_flags(cp) & want) == want);
            CHECK(X509_VERIFY_PARAM_get_depth(cp) == 3);
            CHECK_STR(X509_VERIFY_PARAM_get0_host(cp, 0), "api.example");
            CHECK(X509_VERIFY_PARAM_get0_host(cp, 1) == NULL);
        } else {
            CHECK((X509_VERIFY_PARAM_get_flags(cp) & want) == 0);   /* (nothing is verified) */
        }
        CHECK(SSL_CTX_get_min_proto_version(curls) == TLS1_2_VERSION);
        CHECK(SSL_CTX_get_max_proto_version(curls) == TLS1_2_VERSION);
        CHECK((SSL_CTX_get_options(curls) & SSL_OP_NO_SSL_MASK) == SSL_OP_NO_TLSv1_1);
        CHECK(SSL_CTX_get_security_level(curls) == 1);
        char names[512];
        names_of(curls, 0, names, sizeof names);
        CHECK_STR(names, "ECDHE-RSA-CHACHA20-POLY1305:AES128-SHA");
        names_of(curls, 1, names, sizeof names);
        CHECK_STR(names, "TLS_AES_128_GCM_SHA256");
        CHECK(SSL_CTX_get0_certificate(curls) == cert && SSL_CTX_get0_privatekey(curls) == key);
        STACK_OF(X509) *chain = NULL;
        CHECK(SSL_CTX_get0_chain_certs(curls, &chain) == 1 && chain && sk_X509_num(chain) == 1 &&
              sk_X509_value(chain, 0) == inter);
        SSL_CTX_free(curls);
        llf_trust_done(t);
    }

    /* No host name of its own: its SNI is the name checked. No client
     * certificate: none is shown. Versions and ciphers left alone are
     * libssl's defaults, not libcurl's. */
    SSL_CTX *p = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(p, SSL_VERIFY_PEER, NULL);
    SSL *s = SSL_new(p);
    CHECK(SSL_set_tlsext_host_name(s, "sni.example") == 1);
    llf_trust_keep(s, cfd);
    clear();
    void *t = llf_trust_set(c, h, src);
    CHECK(t != NULL && got.fn != NULL);
    SSL_CTX *curls = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(curls, TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(curls, "AES128-SHA");
    CHECK(got.fn && got.fn(h, curls, got.data) == CURLE_OK);
    CHECK_STR(X509_VERIFY_PARAM_get0_host(SSL_CTX_get0_param(curls), 0), "sni.example");
    CHECK(X509_VERIFY_PARAM_get0_host(SSL_get0_param(s), 0) == NULL);   /* (the program's own untouched) */
    CHECK(SSL_CTX_get_min_proto_version(curls) == 0);
    CHECK(SSL_CTX_get0_certificate(curls) == NULL);
    char mine[4096], theirs[4096];
    names_of(curls, 0, theirs, sizeof theirs);
    names_of(p, 0, mine, sizeof mine);
    CHECK(strcmp(mine, theirs) == 0 && strlen(mine) > 100);
    SSL_CTX_free(curls);
    llf_trust_done(t);
    llf_trust_forget(s);
    SSL_free(s);
    SSL_CTX_free(p);
    X509_free(cert);
    X509_free(inter);
    EVP_PKEY_free(key);
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
    CHECK(got.verifypeer == 0 && got.verifyhost == 0 && got.fn != NULL && got.data == t);
    /* (its settings, a client certificate say, are its own: a path of its own) */
    CHECK(strncmp(got.capath, "/proc/self/llmfallback-trust-", 29) == 0 && got.cainfo_set == 2 && got.fresh == 0 &&
          got.forbid == 0);
    SSL_CTX *curls = SSL_CTX_new(TLS_client_method());
    X509_STORE *verify = NULL;
    CHECK(got.fn && got.fn(h, curls, got.data) == CURLE_OK);
    CHECK(SSL_CTX_get0_verify_cert_store(curls, &verify) == 1 && verify == NULL);   /* (nothing to verify with) */
    CHECK(SSL_CTX_get0_certificate(curls) == NULL);
    SSL_CTX_free(curls);
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
    curls = SSL_CTX_new(TLS_client_method());
    CHECK(got.fn && got.fn(h, curls, got.data) == CURLE_OK);
    verify = NULL;
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
    /* (nor for CERT_NONE: no verification, nothing else of the program's) */
    SSL *sn2 = SSL_new(none);
    SSL_set_verify(sn2, SSL_VERIFY_NONE, NULL);
    llf_trust_keep(sn2, cfd);
    clear();
    CHECK((t = llf_trust_set(&c, h, (struct sockaddr *)&src)) != NULL);
    CHECK(got.fn == NULL && got.verifypeer == 0 && got.verifyhost == 0 && got.capath[0] == '-');
    llf_trust_done(t);
    llf_trust_forget(sn2);
    SSL_free(sn2);
    got.ctx_rc = CURLE_OK;
    llf_trust_keep(sp, cfd);   /* (sn2's from the same source took its place) */

    /* A forked child has the entries, not the trust: the library's. */
    pid_t pid = t_fork(1);
    if (pid == 0)
        _exit(llf_trust_set(&c, h, (struct sockaddr *)&src) == NULL ? 0 : 1);
    int st = -1;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK((t = llf_trust_set(&c, h, (struct sockaddr *)&src)) != NULL);   /* the parent still has it */
    llf_trust_done(t);

    llf_trust_forget(sp);
    SSL_free(sp);
    SSL_CTX_free(mine);

    settings(&c, h, cfd, (struct sockaddr *)&src);

    llf_trust_forget(sn);   /* (replaced already: nothing) */
    SSL_free(sn);
    SSL_CTX_free(none);
    close(cfd);
    close(sfd);
}
