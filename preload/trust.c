/* trust.c — the program's own trust for its provider (see trust.h).
 *
 * What is kept, taken at the handshake through the libssl the program
 * itself uses, is a snapshot of how its SSL would have made the
 * connection: whether it verifies at all; the store it verifies with (a
 * reference: its CAs and the CRLs in it); a copy of its SSL's
 * X509_VERIFY_PARAM (flags such as CRL checks, X509_STRICT, PARTIAL_CHAIN,
 * depth, purpose, and the host name it verifies, which Python sets there;
 * the SNI when it names none: urllib3 1.26 matches the name itself after
 * the handshake, against the certificate a virtual session shows); its
 * minimum and maximum protocol versions (and the SSL_OP_NO_TLS* options);
 * its cipher list, TLS 1.3 ciphersuites and security level; and its client
 * certificate, key and chain (mTLS), with VERIFY_NONE too. Objects are
 * up-referenced or copied, never borrowed, so the program may free or
 * change its own meanwhile.
 *
 * The relay's libcurl gets them with CURLOPT_SSL_CTX_FUNCTION, only when
 * that libcurl runs on the same libssl (else the objects are not its kind:
 * the library's trust and libcurl's own TLS settings apply, VERIFYPEER 0
 * for VERIFY_NONE, and no client certificate is presented). The store goes
 * in as the store its connection verifies the server's chain with
 * (SSL_CTX_set1_verify_cert_store), not as the SSL_CTX's own store:
 * libcurl 7.88 loads its CA file into that one lazily, after the callback,
 * and would have filled the program's store with the library's CAs (and set
 * its flags) for every later use of it. libcurl still checks the URL's host
 * name (the Host header's) itself: the program's name is checked on top.
 * What cannot be set on libcurl's SSL_CTX fails the callback, and so the
 * connection: never a handshake weaker than the program's.
 *
 * libcurl reuses a kept connection (and resumes a TLS session) only for a
 * transfer whose TLS options match the ones it was made with, and it knows
 * nothing of what a callback set: a connection verified under one trust
 * (or showing one client certificate) would serve a transfer that asked for
 * another (seen: a call under the default trust rode the connection a call
 * under the program's CA had left). So each trust has a CURLOPT_CAPATH of
 * its own, which libcurl compares: a path that cannot exist (under
 * /proc/self) and names the trust's serial number. libcurl's own store,
 * which it adds the path to, is not the one the chain is verified with.
 * Transfers under one trust (one virtual session's calls) share
 * connections; those under another, or the library's, never do.
 * VERIFY_NONE on another libssl carries nothing of the program's:
 * VERIFYPEER 0 is then its key, and every such transfer trusts alike. */
#include "trust.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "forklock.h"
#include "hooks.h"
#include "netaddr.h"

typedef struct trust {
    int refs;
    unsigned long serial;   /* this trust's, in the process (see the CA path) */
    int broken;             /* part of it could not be copied: no connection */
    int verify;             /* SSL_VERIFY_PEER: the chain, and the host name */
    X509_STORE *store;      /* the program's (a reference of ours) when verify */
    X509_VERIFY_PARAM *param;   /* a copy of its SSL's, when verify */
    long min_version, max_version;   /* 0: no bound */
    uint64_t no_versions;   /* its SSL_OP_NO_SSLv3 .. SSL_OP_NO_TLSv1_3 */
    int seclevel;
    char *ciphers;          /* TLS 1.2 and below, ':'-joined; NULL: none */
    char *suites;           /* TLS 1.3, ':'-joined ("": none) */
    X509 *cert;             /* its client certificate and key, or NULL */
    EVP_PKEY *key;
    STACK_OF(X509) *chain;  /* sent after the certificate (a copy), or NULL: */
    X509_STORE *chain_store;   /* the chain is built from this one, or NULL: */
    int no_auto_chain;         /* none is sent */
    char pin[64];           /* the key the program was shown (llf_trust_pin), when pinned */
    int pinned;
} trust;

typedef struct kept {
    struct kept *next;
    const SSL *ssl;
    struct sockaddr_storage src;   /* its connection's source address */
    pid_t pid;                     /* the process that kept it */
    trust *t;
} kept;

static kept *kept_list;
static pthread_mutex_t lock = LLF_FORKLOCK_INIT;

/* (none of these is hooked) */
static struct {
    SSL_CTX *(*get_ssl_ctx)(const SSL *);
    X509_STORE *(*get_store)(const SSL_CTX *);
    int (*verify_mode)(const SSL *);
    long (*ctrl)(SSL *, int, long, void *);
    long (*ctx_ctrl)(SSL_CTX *, int, long, void *);
    X509_VERIFY_PARAM *(*get0_param)(SSL *);
    X509_VERIFY_PARAM *(*ctx_get0_param)(SSL_CTX *);
    const char *(*get_servername)(const SSL *, int);
    uint64_t (*get_options)(const SSL *);
    uint64_t (*ctx_set_options)(SSL_CTX *, uint64_t);
    uint64_t (*ctx_clear_options)(SSL_CTX *, uint64_t);
    int (*get_seclevel)(const SSL *);
    void (*ctx_set_seclevel)(SSL_CTX *, int);
    STACK_OF(SSL_CIPHER) *(*get_ciphers)(const SSL *);
    const char *(*cipher_name)(const SSL_CIPHER *);
    const char *(*cipher_version)(const SSL_CIPHER *);
    int (*ctx_set_cipher_list)(SSL_CTX *, const char *);
    int (*ctx_set_ciphersuites)(SSL_CTX *, const char *);
    X509 *(*get_certificate)(const SSL *);
    EVP_PKEY *(*get_privatekey)(const SSL *);
    int (*ctx_use_certificate)(SSL_CTX *, X509 *);
    int (*ctx_use_privatekey)(SSL_CTX *, EVP_PKEY *);
    /* libcrypto */
    int (*store_up_ref)(X509_STORE *);
    void (*store_free)(X509_STORE *);
    X509_VERIFY_PARAM *(*param_new)(void);
    void (*param_free)(X509_VERIFY_PARAM *);
    int (*param_set1)(X509_VERIFY_PARAM *, const X509_VERIFY_PARAM *);
    char *(*param_get0_host)(X509_VERIFY_PARAM *, int);
    int (*param_set1_host)(X509_VERIFY_PARAM *, const char *, size_t);
    int (*x509_up_ref)(X509 *);
    void (*x509_free)(X509 *);
    int (*pkey_up_ref)(EVP_PKEY *);
    void (*pkey_free)(EVP_PKEY *);
    STACK_OF(X509) *(*chain_up_ref)(STACK_OF(X509) *);
    int (*sk_num)(const OPENSSL_STACK *);
    void *(*sk_value)(const OPENSSL_STACK *, int);
    void (*sk_pop_free)(OPENSSL_STACK *, void (*)(void *));
} real;
static int have_all;   /* every one of them found */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void resolve(void)
{
    llf_forklock(&lock);
    static const struct {
        size_t at;
        const char *name;
    } syms[] = {
#define S(m, n) {offsetof(__typeof__(real), m), n}
        S(get_ssl_ctx, "SSL_get_SSL_CTX"),
        S(get_store, "SSL_CTX_get_cert_store"),
        S(verify_mode, "SSL_get_verify_mode"),
        S(ctrl, "SSL_ctrl"),
        S(ctx_ctrl, "SSL_CTX_ctrl"),
        S(get0_param, "SSL_get0_param"),
        S(ctx_get0_param, "SSL_CTX_get0_param"),
        S(get_servername, "SSL_get_servername"),
        S(get_options, "SSL_get_options"),
        S(ctx_set_options, "SSL_CTX_set_options"),
        S(ctx_clear_options, "SSL_CTX_clear_options"),
        S(get_seclevel, "SSL_get_security_level"),
        S(ctx_set_seclevel, "SSL_CTX_set_security_level"),
        S(get_ciphers, "SSL_get_ciphers"),
        S(cipher_name, "SSL_CIPHER_get_name"),
        S(cipher_version, "SSL_CIPHER_get_version"),
        S(ctx_set_cipher_list, "SSL_CTX_set_cipher_list"),
        S(ctx_set_ciphersuites, "SSL_CTX_set_ciphersuites"),
        S(get_certificate, "SSL_get_certificate"),
        S(get_privatekey, "SSL_get_privatekey"),
        S(ctx_use_certificate, "SSL_CTX_use_certificate"),
        S(ctx_use_privatekey, "SSL_CTX_use_PrivateKey"),
        S(store_up_ref, "X509_STORE_up_ref"),
        S(store_free, "X509_STORE_free"),
        S(param_new, "X509_VERIFY_PARAM_new"),
        S(param_free, "X509_VERIFY_PARAM_free"),
        S(param_set1, "X509_VERIFY_PARAM_set1"),
        S(param_get0_host, "X509_VERIFY_PARAM_get0_host"),
        S(param_set1_host, "X509_VERIFY_PARAM_set1_host"),
        S(x509_up_ref, "X509_up_ref"),
        S(x509_free, "X509_free"),
        S(pkey_up_ref, "EVP_PKEY_up_ref"),
        S(pkey_free, "EVP_PKEY_free"),
        S(chain_up_ref, "X509_chain_up_ref"),
        S(sk_num, "OPENSSL_sk_num"),
        S(sk_value, "OPENSSL_sk_value"),
        S(sk_pop_free, "OPENSSL_sk_pop_free"),
#undef S
    };
    int all = 1;
    for (size_t i = 0; i < sizeof syms / sizeof *syms; i++) {
        void *f = llf_openssl_sym(syms[i].name);
        *(void **)((char *)&real + syms[i].at) = f;
        all &= f != NULL;
    }
    have_all = all;
}

static void free_x509(void *x)
{
    real.x509_free(x);
}

static void unref(trust *t)
{
    if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL))
        return;
    /* (every pointer set was made with the functions resolved) */
    if (t->store)
        real.store_free(t->store);
    if (t->chain_store)
        real.store_free(t->chain_store);
    if (t->param)
        real.param_free(t->param);
    if (t->cert)
        real.x509_free(t->cert);
    if (t->key)
        real.pkey_free(t->key);
    if (t->chain)
        real.sk_pop_free((OPENSSL_STACK *)t->chain, free_x509);
    free(t->ciphers);
    free(t->suites);
    free(t);
}

/* The name of list's i-th cipher when it is a TLS 1.3 suite (tls13) or
 * one of the others (!tls13), else NULL. */
static const char *cipher_name(STACK_OF(SSL_CIPHER) *list, int i, int tls13)
{
    const SSL_CIPHER *c = real.sk_value((OPENSSL_STACK *)list, i);
    const char *v = c ? real.cipher_version(c) : NULL;
    return v && (strcmp(v, "TLSv1.3") == 0) == tls13 ? real.cipher_name(c) : NULL;
}

/* The names of list's TLS 1.3 suites (tls13) or of its other ciphers,
 * ':'-joined in its order: a string of malloc's ("" for none), or NULL. */
static char *cipher_names(STACK_OF(SSL_CIPHER) *list, int tls13)
{
    int n = list ? real.sk_num((OPENSSL_STACK *)list) : 0;
    size_t len = 1;
    for (int i = 0; i < n; i++) {
        const char *name = cipher_name(list, i, tls13);
        len += name ? strlen(name) + 1 : 0;
    }
    char *out = malloc(len);
    if (!out)
        return NULL;
    size_t at = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        const char *name = cipher_name(list, i, tls13);
        if (name)
            at += snprintf(out + at, len - at, "%s%s", at ? ":" : "", name);
    }
    return out;
}

/* The program's client certificate for s, its key and its chain, into t:
 * 0, or -1 when what it has could not be copied. */
static int keep_cert(trust *t, SSL *s, SSL_CTX *ctx)
{
    X509 *cert = real.get_certificate(s);
    EVP_PKEY *key = real.get_privatekey(s);
    if (!cert || !key)
        return 0;   /* (none to show) */
    if (!real.x509_up_ref(cert))
        return -1;
    t->cert = cert;
    if (!real.pkey_up_ref(key))
        return -1;
    t->key = key;
    /* The chain OpenSSL would send: the certificate's own, else the
     * context's extra certificates, else one built from the chain store
     * (its own, or the context's trust store) unless auto chain is off. */
    STACK_OF(X509) *chain = NULL;
    real.ctrl(s, SSL_CTRL_GET_CHAIN_CERTS, 0, &chain);
    if (!chain || !real.sk_num((OPENSSL_STACK *)chain))
        real.ctx_ctrl(ctx, SSL_CTRL_GET_EXTRA_CHAIN_CERTS, 1, &chain);
    if (chain && real.sk_num((OPENSSL_STACK *)chain))
        return (t->chain = real.chain_up_ref(chain)) ? 0 : -1;
    t->no_auto_chain = (real.ctrl(s, SSL_CTRL_MODE, 0, NULL) & SSL_MODE_NO_AUTO_CHAIN) != 0;
    X509_STORE *st = NULL;
    real.ctrl(s, SSL_CTRL_GET_CHAIN_CERT_STORE, 0, &st);
    if (!st)
        st = real.get_store(ctx);
    if (t->no_auto_chain || !st)
        return 0;
    if (!real.store_up_ref(st))
        return -1;
    t->chain_store = st;
    return 0;
}

/* The program's settings for s's handshake, into t: 0, or -1 when one
 * could not be copied. */
static int keep_settings(trust *t, SSL *s)
{
    SSL_CTX *ctx = real.get_ssl_ctx(s);
    if (!ctx)
        return -1;
    if (t->verify) {
        /* (the store it verifies with: SSL_set1_verify_cert_store's, else
         * its context's) */
        X509_STORE *st = NULL;
        real.ctrl(s, SSL_CTRL_GET_VERIFY_CERT_STORE, 0, &st);
        if (!st)
            st = real.get_store(ctx);
        if (!st || !real.store_up_ref(st))
            return -1;
        t->store = st;
        const X509_VERIFY_PARAM *p = real.get0_param(s);
        t->param = p ? real.param_new() : NULL;
        if (!t->param || !real.param_set1(t->param, p))
            return -1;
        /* (the name it checks; else the one it asked for, see above) */
        const char *sni = real.get_servername(s, TLSEXT_NAMETYPE_host_name);
        if (!real.param_get0_host(t->param, 0) && sni && !real.param_set1_host(t->param, sni, 0))
            return -1;
    }
    t->min_version = real.ctrl(s, SSL_CTRL_GET_MIN_PROTO_VERSION, 0, NULL);
    t->max_version = real.ctrl(s, SSL_CTRL_GET_MAX_PROTO_VERSION, 0, NULL);
    t->no_versions = real.get_options(s) & SSL_OP_NO_SSL_MASK;
    t->seclevel = real.get_seclevel(s);
    STACK_OF(SSL_CIPHER) *list = real.get_ciphers(s);
    t->ciphers = cipher_names(list, 0);
    t->suites = cipher_names(list, 1);
    if (!t->ciphers || !t->suites)
        return -1;
    if (!*t->ciphers) {
        /* (an empty list cannot be set; without one, only TLS 1.3 is
         * possible, as for the program) */
        free(t->ciphers);
        t->ciphers = NULL;
        if (t->min_version < TLS1_3_VERSION)
            t->min_version = TLS1_3_VERSION;
    }
    return keep_cert(t, s, ctx);
}

/* The trust s makes its connection with, or NULL when it cannot be had. */
static trust *trust_of(const SSL *s)
{
    trust *t = have_all ? calloc(1, sizeof *t) : NULL;
    if (!t)
        return NULL;
    static unsigned long serials;
    t->refs = 1;
    t->serial = __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
    t->verify = (real.verify_mode(s) & SSL_VERIFY_PEER) != 0;
    /* (read only: the getters take a non-const SSL) */
    t->broken = keep_settings(t, (SSL *)s) != 0;
    return t;
}

/* Unlinks the entries of s, or (s NULL) those from src; returns them. */
static kept *unlink_kept(const SSL *s, const struct sockaddr *src)
{
    kept *gone = NULL;
    for (kept **p = &kept_list; *p;) {
        kept *k = *p;
        if (s ? k->ssl == s : llf_same_addr(src, (struct sockaddr *)&k->src)) {
            *p = k->next;
            k->next = gone;
            gone = k;
        } else {
            p = &k->next;
        }
    }
    return gone;
}

static void free_kept(kept *k)
{
    for (kept *next; k; k = next) {
        next = k->next;
        unref(k->t);
        free(k);
    }
}

void llf_trust_keep(const SSL *s, int fd)
{
    pthread_once(&once, resolve);
    kept *k = calloc(1, sizeof *k);
    socklen_t l = sizeof k->src;
    if (!k || getsockname(fd, (struct sockaddr *)&k->src, &l)) {
        free(k);
        llf_trust_forget(s);
        return;
    }
    k->ssl = s;
    k->pid = getpid();
    k->t = trust_of(s);
    pthread_mutex_lock(&lock);
    /* (an entry from the same source is a connection's that ended without
     * SSL_free: stale) */
    kept *gone = unlink_kept(s, NULL);
    kept *stale = unlink_kept(NULL, (struct sockaddr *)&k->src);
    if (k->t) {
        k->next = kept_list;
        kept_list = k;
    }
    pthread_mutex_unlock(&lock);
    free_kept(gone);
    free_kept(stale);
    if (!k->t)
        free(k);
}

void llf_trust_forget(const SSL *s)
{
    pthread_once(&once, resolve);
    pthread_mutex_lock(&lock);
    kept *gone = unlink_kept(s, NULL);
    pthread_mutex_unlock(&lock);
    free_kept(gone);
}

void llf_trust_pin(const SSL *s, const char *pin)
{
    pthread_once(&once, resolve);
    pthread_mutex_lock(&lock);
    for (kept *k = kept_list; k; k = k->next)
        if (k->ssl == s && !k->t->pinned && snprintf(k->t->pin, sizeof k->t->pin, "%s", pin) < (int)sizeof k->t->pin)
            __atomic_store_n(&k->t->pinned, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&lock);
}

/* Does libcurl c run on the libssl the program's objects are from? */
static int same_libssl(const llf_curl_api *c)
{
    static int state;   /* 0: not looked yet, 1: yes, -1: no (races are benign) */
    int s = __atomic_load_n(&state, __ATOMIC_RELAXED);
    if (!s) {
        Dl_info i;
        void *lib = dladdr((void *)c->easy_perform, &i) && i.dli_fname
                        ? dlopen(i.dli_fname, RTLD_LAZY | RTLD_NOLOAD)
                        : NULL;
        void *f = lib ? dlsym(lib, "SSL_CTX_ctrl") : NULL;
        if (lib)
            dlclose(lib);
        s = f && f == (void *)real.ctx_ctrl ? 1 : -1;
        __atomic_store_n(&state, s, __ATOMIC_RELAXED);
    }
    return s > 0;
}

/* libcurl's SSL_CTX for the program's provider, made as the program's
 * would be: what cannot be set fails the connection. */
static CURLcode apply(CURL *h, void *ssl_ctx, void *ud)
{
    const trust *t = ud;
    SSL_CTX *ctx = ssl_ctx;
    if (t->broken)
        return CURLE_SSL_CONNECT_ERROR;
    if (t->verify && (real.ctx_ctrl(ctx, SSL_CTRL_SET_VERIFY_CERT_STORE, 1, t->store) != 1 ||
                      real.param_set1(real.ctx_get0_param(ctx), t->param) != 1))
        return CURLE_SSL_CACERT_BADFILE;
    /* (the program's versions replace libcurl's, options included) */
    real.ctx_clear_options(ctx, SSL_OP_NO_SSL_MASK & ~t->no_versions);
    real.ctx_set_options(ctx, t->no_versions);
    if (real.ctx_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, t->min_version, NULL) != 1 ||
        real.ctx_ctrl(ctx, SSL_CTRL_SET_MAX_PROTO_VERSION, t->max_version, NULL) != 1)
        return CURLE_SSL_CONNECT_ERROR;
    if ((t->ciphers && real.ctx_set_cipher_list(ctx, t->ciphers) != 1) ||
        real.ctx_set_ciphersuites(ctx, t->suites) != 1)
        return CURLE_SSL_CIPHER;
    real.ctx_set_seclevel(ctx, t->seclevel);
    if (t->cert && (real.ctx_use_certificate(ctx, t->cert) != 1 || real.ctx_use_privatekey(ctx, t->key) != 1 ||
                    (t->chain && real.ctx_ctrl(ctx, SSL_CTRL_CHAIN, 1, t->chain) != 1) ||
                    (t->chain_store && real.ctx_ctrl(ctx, SSL_CTRL_SET_CHAIN_CERT_STORE, 1, t->chain_store) != 1) ||
                    (t->no_auto_chain && !(real.ctx_ctrl(ctx, SSL_CTRL_MODE, SSL_MODE_NO_AUTO_CHAIN, NULL) &
                                           SSL_MODE_NO_AUTO_CHAIN))))
        return CURLE_SSL_CERTPROBLEM;
    return CURLE_OK;
}

void *llf_trust_set(const llf_curl_api *c, CURL *h, const struct sockaddr *src)
{
    pthread_once(&once, resolve);
    trust *t = NULL;
    pid_t me = getpid();
    pthread_mutex_lock(&lock);
    for (kept *k = kept_list; k && !t; k = k->next)
        if (k->pid == me && llf_same_addr(src, (struct sockaddr *)&k->src)) {
            t = k->t;
            __atomic_add_fetch(&t->refs, 1, __ATOMIC_ACQ_REL);
        }
    pthread_mutex_unlock(&lock);
    if (!t)
        return NULL;
    /* (a libcurl without CURLOPT_SSL_CTX_FUNCTION, or on another libssl:
     * the library's trust and TLS settings, as before; a pin still holds,
     * which every libcurl backend checks) */
    int own = same_libssl(c) && c->easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, apply) == CURLE_OK &&
              c->easy_setopt(h, CURLOPT_SSL_CTX_DATA, t) == CURLE_OK;
    if (!own)
        c->easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, (void *)NULL);
    int set = t->verify || (c->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L) == CURLE_OK &&
                            c->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L) == CURLE_OK);
    /* (libcurl checks a pin with verification off too, and shares a
     * connection only among transfers with the same one) */
    int pinned = __atomic_load_n(&t->pinned, __ATOMIC_ACQUIRE);
    if (set && pinned)
        set = c->easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, t->pin) == CURLE_OK;
    if (!set || (t->verify && !own && !pinned)) {
        /* (and verifying with nothing of the program's on h: the library's
         * own trust alone) */
        c->easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, (void *)NULL);
        c->easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, (void *)NULL);
        c->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        c->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        unref(t);
        return NULL;
    }
    /* (no CA file: it would be read for nothing; the path keys the
     * connections and TLS sessions, see above) */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/llmfallback-trust-%lu", t->serial);
    if (own && (c->easy_setopt(h, CURLOPT_CAINFO, (void *)NULL) != CURLE_OK ||
                c->easy_setopt(h, CURLOPT_CAPATH, path) != CURLE_OK)) {
        /* (never shared, then) */
        c->easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        c->easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
        c->easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    }
    return t;
}

void llf_trust_done(void *t)
{
    unref(t);
}
