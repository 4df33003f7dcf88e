/* trust.c — the program's own trust for its provider (see trust.h).
 *
 * What is kept is a reference to the store of the program's SSL_CTX
 * (X509_STORE_up_ref) and whether it verifies at all, taken at the
 * handshake, through the libssl the program itself uses. The relay's
 * libcurl gets the store with CURLOPT_SSL_CTX_FUNCTION, only when that
 * libcurl runs on the same libssl (else the objects are not its kind: the
 * library's trust applies), as the store its connection verifies the
 * server's chain with (SSL_CTX_set1_verify_cert_store), not as the
 * SSL_CTX's own store: libcurl 7.88 loads its CA file into that one lazily,
 * after the callback, and would have filled the program's store with the
 * library's CAs (and set its flags) for every later use of it.
 *
 * libcurl reuses a kept connection (and resumes a TLS session) only for a
 * transfer whose TLS options match the ones it was made with, and it knows
 * nothing of a store given in a callback: a connection verified under one
 * trust would serve a transfer that asked for another (seen: a call under
 * the default trust rode the connection a call under the program's CA had
 * left). So each trust has a CURLOPT_CAPATH of its own, which libcurl
 * compares: a path that cannot exist (under /proc/self) and names the
 * trust's serial number. libcurl's own store, which it adds the path to, is
 * not the one the chain is verified with. Transfers under one trust (one
 * virtual session's calls) share connections; those under another, or the
 * library's, never do. CERT_NONE needs no path: VERIFYPEER 0 is its key,
 * and every such transfer trusts alike. */
#include "trust.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "forklock.h"
#include "hooks.h"
#include "netaddr.h"

typedef struct trust {
    int refs;
    unsigned long serial;   /* this trust's, in the process (see the CA path) */
    int verify;          /* SSL_VERIFY_PEER: the chain, and the host name */
    X509_STORE *store;   /* the program's (a reference of ours) when verify */
    char pin[64];        /* the key the program was shown (llf_trust_pin), when pinned */
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

static struct {
    SSL_CTX *(*get_ssl_ctx)(const SSL *);
    X509_STORE *(*get_store)(const SSL_CTX *);
    int (*verify_mode)(const SSL *);
    int (*store_up_ref)(X509_STORE *);
    void (*store_free)(X509_STORE *);
    long (*ctx_ctrl)(SSL_CTX *, int, long, void *);
} real;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* (none of these is hooked) */
static void resolve(void)
{
    llf_forklock(&lock);
    *(void **)&real.get_ssl_ctx = llf_openssl_sym("SSL_get_SSL_CTX");
    *(void **)&real.get_store = llf_openssl_sym("SSL_CTX_get_cert_store");
    *(void **)&real.verify_mode = llf_openssl_sym("SSL_get_verify_mode");
    *(void **)&real.ctx_ctrl = llf_openssl_sym("SSL_CTX_ctrl");
    *(void **)&real.store_up_ref = llf_openssl_sym("X509_STORE_up_ref");
    *(void **)&real.store_free = llf_openssl_sym("X509_STORE_free");
}

static void unref(trust *t)
{
    if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL))
        return;
    if (t->store && real.store_free)
        real.store_free(t->store);
    free(t);
}

/* The trust s verifies its peer with, or NULL when it cannot be had. */
static trust *trust_of(const SSL *s)
{
    trust *t = real.verify_mode ? calloc(1, sizeof *t) : NULL;
    if (!t)
        return NULL;
    static unsigned long serials;
    t->refs = 1;
    t->serial = __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
    t->verify = (real.verify_mode(s) & SSL_VERIFY_PEER) != 0;
    if (t->verify) {
        SSL_CTX *ctx = real.get_ssl_ctx ? real.get_ssl_ctx(s) : NULL;
        X509_STORE *st = ctx && real.get_store ? real.get_store(ctx) : NULL;
        if (!st || !real.store_free || !real.ctx_ctrl || !real.store_up_ref || !real.store_up_ref(st)) {
            free(t);
            return NULL;
        }
        t->store = st;
    }
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

/* (a connection that cannot verify as the program would is not made) */
static CURLcode apply(CURL *h, void *ssl_ctx, void *ud)
{
    const trust *t = ud;
    return real.ctx_ctrl(ssl_ctx, SSL_CTRL_SET_VERIFY_CERT_STORE, 1, t->store) == 1 ? CURLE_OK
                                                                                  : CURLE_SSL_CACERT_BADFILE;
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
     * the library's trust, as before) */
    int set = t->verify ? same_libssl(c) && c->easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, apply) == CURLE_OK &&
                              c->easy_setopt(h, CURLOPT_SSL_CTX_DATA, t) == CURLE_OK
                        : c->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L) == CURLE_OK &&
                              c->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L) == CURLE_OK;
    /* (libcurl checks a pin with verification off too, and shares a
     * connection only among transfers with the same one) */
    if (set && __atomic_load_n(&t->pinned, __ATOMIC_ACQUIRE))
        set = c->easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, t->pin) == CURLE_OK;
    if (!set) {
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
    if (t->verify && (c->easy_setopt(h, CURLOPT_CAINFO, (void *)NULL) != CURLE_OK ||
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
