/* hook_ssl.c — the OpenSSL path: capture and deliver, never decide.
 *
 * A connection the socket hook sent to the relay for an https provider is
 * made *virtual* at its handshake when its SNI names a provider host: the
 * handshake succeeds at once and reads and writes carry plaintext over the
 * real fd to the relay, which speaks TLS to the providers itself (with
 * certificate verification: the program's own trust for its own request,
 * see trust.h). Every byte still moves through a real socket,
 * so poll/epoll readiness, timeouts and keep-alive behave; on a non-blocking
 * fd we report WANT_READ/WANT_WRITE as OpenSSL would. A clean end of stream
 * looks clean (ZERO_RETURN, SSL_RECEIVED_SHUTDOWN). Any other session —
 * another SNI (the relay then tunnels its real handshake), or a connection
 * we did not redirect — goes straight to libssl.
 *
 * A program that asks a virtual session about its peer (certificate, chain,
 * verify result, cipher, version) is answered by the real peer: once per
 * session, at the first such question, a real handshake is made to where
 * the connection meant to go, with a copy of the program's own SSL (its
 * SSL_CTX, verify parameters, SNI, callbacks: SSL_dup), bounded in time,
 * then closed; that session answers from then on, and the relay's own
 * requests for the program then go only to a server with the key it showed
 * (llf_trust_pin). No server at all (every address refused, or none
 * answered in time): the certificate is a stand-in naming the host, never
 * verified (the verify result says so), for clients that only match names
 * (Debian's urllib3 1.26, whose requests then falls back as before); a
 * handshake that failed: no certificate, a failed verify result. Sessions
 * whose program never asks (Python's own hostname check, urllib3 2, httpx)
 * pay nothing.
 *
 * Hooks cover the whole family Python 3.11 uses (do_handshake, the _ex
 * calls, pending, get_error, shutdown state); libssl is found with RTLD_NEXT
 * or, for hosts that loaded it RTLD_LOCAL (Python's _ssl), RTLD_NOLOAD
 * (sslsym.c). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "forklock.h"
#include "hooks.h"
#include "netaddr.h"
#include "shim.h"
#include "trust.h"

/* (per thread: set by uthash under vlock or nlock, read right after) */
static __thread int vtable_oom __attribute__((tls_model("initial-exec")));
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(e) (vtable_oom = 1)
#include <uthash.h>

typedef struct vssl {
    const SSL *ssl;
    int fd, err, shut;
    size_t wdone;   /* bytes of a write that wanted to be retried already sent */
    char host[256];
    struct sockaddr_storage orig;   /* where the connection meant to go */
    pthread_mutex_t plock;          /* the peer probe, made once (see peer) */
    int probed, nobody;             /* nobody: no server took the probe's connection */
    int verifies;                   /* the program's SSL_VERIFY_PEER (see trusted) */
    SSL *probe;                     /* the real session that answers, or NULL */
    X509 *standin;                  /* nobody's certificate (relay_cert) */
    UT_hash_handle hh;
} vssl;

static vssl *vtable;
static int nvirtual;
/* The session this thread is probing, and the probe's session (see peer). */
static __thread const vssl *probing __attribute__((tls_model("initial-exec")));
static __thread SSL *probing_copy __attribute__((tls_model("initial-exec")));
static pthread_mutex_t vlock = LLF_FORKLOCK_INIT;

/* Contexts given a cert-verify callback and sessions given DANE: OpenSSL
 * has no getter for either, so their setters are hooked and note them
 * here (see followable). A context's note is never taken back: libssl
 * calls SSL_CTX_free for every session's reference, so a hook there could
 * not tell the last; a new context at a freed one's address is then taken
 * for one with a callback, and gets its real handshake. */
typedef struct noted {
    const void *p;
    UT_hash_handle hh;
} noted;
static noted *notes;
/* Sessions whose own ALPN list offers no HTTP/1 (h2_only: an HTTP/2
 * client's, h2 alone), and contexts whose list does: the relay reads
 * HTTP/1.1 only, so they get their real handshake and no fallback, where a
 * virtual session got the program's HTTP/2 preface answered with a 400. A
 * list set again counts anew, and a session's own list (h1_too: one that
 * offers HTTP/1) comes before its context's. A context is marked in its own ex_data
 * (ctx_h2_only), not noted by its address: a new context made at a freed
 * one's address has no mark. (A hook on SSL_CTX_new to forget its address
 * put our frame under the allocation of every context a program leaks at
 * its exit, Python's, which LeakSanitizer then laid at the library's
 * door.) */
static noted *h2_only, *h1_too;
static int ctx_h2_only(const SSL_CTX *ctx);
static pthread_mutex_t nlock = LLF_FORKLOCK_INIT;

static void note_in(noted **table, const void *p, int on)
{
    noted *n = NULL;
    pthread_mutex_lock(&nlock);
    HASH_FIND_PTR(*table, &p, n);
    if (on && !n && (n = calloc(1, sizeof *n))) {
        n->p = p;
        vtable_oom = 0;
        HASH_ADD_PTR(*table, p, n);
        if (vtable_oom)
            free(n);
    } else if (!on && n) {
        HASH_DEL(*table, n);
        free(n);
    }
    pthread_mutex_unlock(&nlock);
}

static void note(const void *p, int on)
{
    note_in(&notes, p, on);
}

static int noted_in(noted *const *table, const void *p)
{
    noted *n = NULL;
    pthread_mutex_lock(&nlock);
    HASH_FIND_PTR(*table, &p, n);
    pthread_mutex_unlock(&nlock);
    return n != NULL;
}

static int noted_here(const void *p)
{
    return noted_in(&notes, p);
}

/* X509_STORE_get_verify_cb and its kin: each gives one function of the
 * program's the store runs while it verifies, or NULL (see store_code).
 * (They differ only in the type of pointer they return.) */
typedef void (*anyfn)(void);
typedef anyfn (*store_getter)(const X509_STORE *);
static const char *const store_getter_names[] = {
    "X509_STORE_get_verify_cb", "X509_STORE_get_verify", "X509_STORE_get_get_issuer",
    "X509_STORE_get_check_issued", "X509_STORE_get_check_revocation", "X509_STORE_get_get_crl",
    "X509_STORE_get_check_crl", "X509_STORE_get_cert_crl", "X509_STORE_get_check_policy",
    "X509_STORE_get_lookup_certs", "X509_STORE_get_lookup_crls",
};
#define N_STORE_GETTERS (sizeof store_getter_names / sizeof *store_getter_names)

static struct {
    int (*connect)(SSL *);
    int (*do_handshake)(SSL *);
    int (*read)(SSL *, void *, int);
    int (*read_ex)(SSL *, void *, size_t, size_t *);
    int (*peek)(SSL *, void *, int);
    int (*peek_ex)(SSL *, void *, size_t, size_t *);
    int (*write)(SSL *, const void *, int);
    int (*write_ex)(SSL *, const void *, size_t, size_t *);
    int (*get_error)(const SSL *, int);
    int (*pending)(const SSL *);
    int (*clear)(SSL *);
    long (*ctrl)(SSL *, int, long, void *);
    int (*has_pending)(const SSL *);
    int (*shutdown)(SSL *);
    int (*get_shutdown)(const SSL *);
    void (*free)(SSL *);
    void (*get0_alpn_selected)(const SSL *, const unsigned char **, unsigned int *);
    long (*get_verify_result)(const SSL *);
    X509 *(*get1_peer_certificate)(const SSL *);
    int (*get_fd)(const SSL *);
    const char *(*get_servername)(const SSL *, int);
    int (*is_init_finished)(const SSL *);
    int (*is_server)(const SSL *);
    int (*in_before)(const SSL *);
    int (*in_init)(const SSL *);
    OSSL_HANDSHAKE_STATE (*get_state)(const SSL *);
    int (*want)(const SSL *);
    int (*key_update)(SSL *, int);
    /* the peer probe, and what it answers */
    X509 *(*get0_peer_certificate)(const SSL *);
    STACK_OF(X509) *(*get_peer_cert_chain)(const SSL *);
    STACK_OF(X509) *(*get0_verified_chain)(const SSL *);
    const SSL_CIPHER *(*get_current_cipher)(const SSL *);
    const char *(*get_version)(const SSL *);
    int (*version)(const SSL *);
    SSL *(*ssl_new)(SSL_CTX *);
    SSL_CTX *(*get_ssl_ctx)(const SSL *);
    X509_VERIFY_PARAM *(*get0_param)(SSL *);
    int (*set1_param)(SSL *, X509_VERIFY_PARAM *);
    uint64_t (*get_options)(const SSL *);
    uint64_t (*set_options)(SSL *, uint64_t);
    int (*set_fd)(SSL *, int);
    void (*set_verify)(SSL *, int, SSL_verify_cb);
    SSL_verify_cb (*get_verify_callback)(const SSL *);
    void (*set_connect_state)(SSL *);
    void *(*get_ex_data)(const SSL *, int);
    int (*set_ex_data)(SSL *, int, void *);
    int (*x509_up_ref)(X509 *);
    X509_PUBKEY *(*get_x509_pubkey)(const X509 *);
    int (*i2d_pubkey)(const X509_PUBKEY *, unsigned char **);
    int (*digest)(const void *, size_t, unsigned char *, unsigned int *, const EVP_MD *, ENGINE *);
    const EVP_MD *(*sha256)(void);
    int (*encode_block)(unsigned char *, const unsigned char *, int);
    void (*crypto_free)(void *, const char *, int);
    int (*err_set_mark)(void);
    int (*err_pop_to_mark)(void);
    /* libcrypto, for the certificate a virtual session shows */
    X509 *(*x509_new)(void);
    void (*x509_free)(X509 *);
    int (*x509_set_version)(X509 *, long);
    ASN1_TIME *(*gmtime_adj)(ASN1_TIME *, long);
    ASN1_TIME *(*get_not_before)(const X509 *);
    ASN1_TIME *(*get_not_after)(const X509 *);
    X509_NAME *(*get_subject)(const X509 *);
    X509_NAME *(*get_issuer)(const X509 *);
    int (*name_add)(X509_NAME *, const char *, int, const unsigned char *, int, int, int);
    X509_EXTENSION *(*ext_conf_nid)(void *, void *, int, const char *);
    int (*add_ext)(X509 *, X509_EXTENSION *, int);
    int (*get_verify_mode)(const SSL *);
    void (*ctx_set_cert_verify_callback)(SSL_CTX *, int (*)(X509_STORE_CTX *, void *), void *);
    int (*ctx_set_alpn_protos)(SSL_CTX *, const unsigned char *, unsigned int);
    int (*set_alpn_protos)(SSL *, const unsigned char *, unsigned int);
    int (*ctx_set_ex_data)(SSL_CTX *, int, void *);
    void *(*ctx_get_ex_data)(const SSL_CTX *, int);
    int (*get_ex_new_index)(int, long, void *, CRYPTO_EX_new *, CRYPTO_EX_dup *, CRYPTO_EX_free *);
    int (*dane_enable)(SSL *, const char *);
    void (*ext_free)(X509_EXTENSION *);
    /* a store's own code (see store_code) */
    X509_STORE *(*ctx_get_store)(const SSL_CTX *);
    store_getter store_getters[N_STORE_GETTERS];
} real;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void resolve(void)
{
    llf_forklock(&vlock);
    llf_forklock(&nlock);
#define R(m, s) *(void **)&real.m = llf_openssl_sym(s)
    R(connect, "SSL_connect");
    R(get_verify_mode, "SSL_get_verify_mode");
    R(ctx_set_cert_verify_callback, "SSL_CTX_set_cert_verify_callback");
    R(dane_enable, "SSL_dane_enable");
    R(ctx_set_alpn_protos, "SSL_CTX_set_alpn_protos");
    R(set_alpn_protos, "SSL_set_alpn_protos");
    R(ctx_set_ex_data, "SSL_CTX_set_ex_data");
    R(ctx_get_ex_data, "SSL_CTX_get_ex_data");
    R(get_ex_new_index, "CRYPTO_get_ex_new_index");
    R(do_handshake, "SSL_do_handshake");
    R(read, "SSL_read");
    R(read_ex, "SSL_read_ex");
    R(peek, "SSL_peek");
    R(peek_ex, "SSL_peek_ex");
    R(write, "SSL_write");
    R(write_ex, "SSL_write_ex");
    R(get_error, "SSL_get_error");
    R(pending, "SSL_pending");
    R(has_pending, "SSL_has_pending");
    R(shutdown, "SSL_shutdown");
    R(get_shutdown, "SSL_get_shutdown");
    R(free, "SSL_free");
    R(clear, "SSL_clear");
    R(ctrl, "SSL_ctrl");
    R(get0_alpn_selected, "SSL_get0_alpn_selected");
    R(get_verify_result, "SSL_get_verify_result");
    R(get1_peer_certificate, "SSL_get1_peer_certificate");
    R(get_fd, "SSL_get_fd");
    R(get_servername, "SSL_get_servername");
    R(is_init_finished, "SSL_is_init_finished");
    R(is_server, "SSL_is_server");
    R(in_before, "SSL_in_before");
    R(in_init, "SSL_in_init");
    R(get_state, "SSL_get_state");
    R(want, "SSL_want");
    R(key_update, "SSL_key_update");
    R(get0_peer_certificate, "SSL_get0_peer_certificate");
    R(get_peer_cert_chain, "SSL_get_peer_cert_chain");
    R(get0_verified_chain, "SSL_get0_verified_chain");
    R(get_current_cipher, "SSL_get_current_cipher");
    R(get_version, "SSL_get_version");
    R(version, "SSL_version");
    R(ssl_new, "SSL_new");
    R(get_ssl_ctx, "SSL_get_SSL_CTX");
    R(get0_param, "SSL_get0_param");
    R(set1_param, "SSL_set1_param");
    R(get_options, "SSL_get_options");
    R(set_options, "SSL_set_options");
    R(set_fd, "SSL_set_fd");
    R(set_verify, "SSL_set_verify");
    R(get_verify_callback, "SSL_get_verify_callback");
    R(set_connect_state, "SSL_set_connect_state");
    R(get_ex_data, "SSL_get_ex_data");
    R(set_ex_data, "SSL_set_ex_data");
    R(x509_up_ref, "X509_up_ref");
    R(get_x509_pubkey, "X509_get_X509_PUBKEY");
    R(i2d_pubkey, "i2d_X509_PUBKEY");
    R(digest, "EVP_Digest");
    R(sha256, "EVP_sha256");
    R(encode_block, "EVP_EncodeBlock");
    R(crypto_free, "CRYPTO_free");
    R(err_set_mark, "ERR_set_mark");
    R(err_pop_to_mark, "ERR_pop_to_mark");
    R(x509_new, "X509_new");
    R(x509_free, "X509_free");
    R(x509_set_version, "X509_set_version");
    R(gmtime_adj, "X509_gmtime_adj");
    R(get_not_before, "X509_getm_notBefore");
    R(get_not_after, "X509_getm_notAfter");
    R(get_subject, "X509_get_subject_name");
    R(get_issuer, "X509_get_issuer_name");
    R(name_add, "X509_NAME_add_entry_by_txt");
    R(ext_conf_nid, "X509V3_EXT_conf_nid");
    R(add_ext, "X509_add_ext");
    R(ext_free, "X509_EXTENSION_free");
    R(ctx_get_store, "SSL_CTX_get_cert_store");
    for (size_t i = 0; i < N_STORE_GETTERS; i++)
        R(store_getters[i], store_getter_names[i]);
#undef R
}

#define REAL(f) (pthread_once(&once, resolve), real.f)

/* ex_data indices copied to a probe: the program's objects its callbacks
 * find there (Python's socket at 0, PHP's stream at its own index) */
#define EX_DATA_MAX 256

/* A probe's session freed. Its ex_data are the program's (copy_of copies
 * the pointers): emptied first, so that no free function the program
 * registered runs on the program's own objects. */
static void drop_probe(SSL *p)
{
    if (!p)
        return;
    if (real.get_ex_data && real.set_ex_data)
        for (int i = 0; i < EX_DATA_MAX; i++)
            if (real.get_ex_data(p, i))
                real.set_ex_data(p, i, NULL);
    if (real.free)
        real.free(p);
}

static void vssl_free(vssl *v)
{
    if (!v)
        return;
    drop_probe(v->probe);
    if (v->standin && real.x509_free)
        real.x509_free(v->standin);
    pthread_mutex_destroy(&v->plock);
    free(v);
}

/* s is no virtual session any more (freed, cleared for reuse). */
static void forget(const SSL *s)
{
    vssl *v = NULL;
    if (!__atomic_load_n(&nvirtual, __ATOMIC_ACQUIRE))
        return;
    pthread_mutex_lock(&vlock);
    HASH_FIND_PTR(vtable, &s, v);
    if (v) {
        HASH_DEL(vtable, v);
        __atomic_sub_fetch(&nvirtual, 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&vlock);
    if (v)
        llf_trust_forget(s);
    vssl_free(v);
}

static vssl *find(const SSL *s)
{
    if (!__atomic_load_n(&nvirtual, __ATOMIC_ACQUIRE))
        return NULL;   /* the common case: no virtual session in the process */
    vssl *v = NULL;
    pthread_mutex_lock(&vlock);
    HASH_FIND_PTR(vtable, &s, v);
    pthread_mutex_unlock(&vlock);
    /* An object given another fd since (reused without SSL_clear) is not
     * the session we made virtual: its plaintext must not go to a real TLS
     * server. */
    if (v && real.get_fd && real.get_fd(s) != v->fd) {
        forget(s);
        return NULL;
    }
    return v;
}

/* Is fd (still) connected to our relay? */
static int peer_is_relay(const llf_core_api *core, int fd)
{
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    /* (the kernel's peer, not our own hook's answer) */
    return llf_real_getpeername(fd, (struct sockaddr *)&peer, &pl) == 0 && llf_is_relay(core, (struct sockaddr *)&peer);
}

/* Does a store run code of the program's while it verifies (a verify
 * callback of its own, X509_STORE_set_verify_cb, or any other function
 * it set on it)? A store the relay is given (trust.h) would run it in the
 * relay's thread, on libcurl's session, where the program's callback finds
 * libcurl's objects instead of its own. Yes when it cannot be told. */
static int store_code(X509_STORE *st)
{
    if (!st)
        return 0;
    for (size_t i = 0; i < N_STORE_GETTERS; i++)
        if (!real.store_getters[i] || real.store_getters[i](st))
            return 1;
    return 0;
}

/* Can the relay verify the server as this program's session would? It
 * carries the program's store, parameters, versions, ciphers and client
 * certificate (trust.h), not code of the program's: a verify callback
 * (which may refuse, or accept what the chain does not: PHP's streams,
 * a pin), one on its store, a cert-verify callback, an OCSP status
 * request, DANE. A session that verifies with any of them gets its real
 * handshake, tunnelled, and no fallback: vouching for it (see trusted)
 * could send its request where the program would refuse to. One that does
 * not verify keeps them for its probe, but not code on the store its
 * client certificate's chain is built from (the relay builds it). */
static int followable(SSL *s)
{
    if (!real.ctrl || !real.get_ssl_ctx || !real.ctx_get_store)
        return 0;
    SSL_CTX *ctx = real.get_ssl_ctx(s);
    X509_STORE *verify_st = NULL, *chain_st = NULL;
    real.ctrl(s, SSL_CTRL_GET_VERIFY_CERT_STORE, 0, &verify_st);
    real.ctrl(s, SSL_CTRL_GET_CHAIN_CERT_STORE, 0, &chain_st);
    if (store_code(chain_st) || store_code(ctx ? real.ctx_get_store(ctx) : NULL))
        return 0;
    if (!real.get_verify_mode || !(real.get_verify_mode(s) & SSL_VERIFY_PEER))
        return 1;
    if (!real.get_verify_callback || real.get_verify_callback(s) || store_code(verify_st))
        return 0;
    if (real.ctrl(s, SSL_CTRL_GET_TLSEXT_STATUS_REQ_TYPE, 0, NULL) != -1)
        return 0;
    return !noted_here(s) && !noted_here(ctx);
}

/* At the handshake: make the session virtual when the connection was sent
 * to the relay for a provider and the SNI names that provider. Only a
 * client session that has not begun its handshake, and only once per
 * redirected connection: the fd number may be reused later by a connection
 * that is not ours (accept(), a server session). */
static vssl *make_virtual(SSL *s)
{
    if (llf_in_lib || llf_disabled() || !REAL(get_fd) || !real.get_servername || !real.is_server ||
        !real.in_before)
        return NULL;
    int fd = real.get_fd(s);
    if (!llf_fd_tls_redirected(fd))
        return NULL;
    llf_fd_mark(fd, 0);
    const char *sni = real.get_servername(s, TLSEXT_NAMETYPE_host_name);
    const llf_core_api *core = llf_core();
    if (real.is_server(s) || !real.in_before(s) || !sni || !core || !core->is_tls_host(sni) ||
        !peer_is_relay(core, fd) || !followable(s) || noted_in(&h2_only, s) ||
        (real.get_ssl_ctx && !noted_in(&h1_too, s) && ctx_h2_only(real.get_ssl_ctx(s))))
        return NULL;
    vssl *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->ssl = s;
    v->fd = fd;
    snprintf(v->host, sizeof v->host, "%s", sni);
    v->verifies = real.get_verify_mode && (real.get_verify_mode(s) & SSL_VERIFY_PEER);
    pthread_mutex_init(&v->plock, NULL);
    if (llf_fd_orig(fd, &v->orig))
        v->orig.ss_family = AF_UNSPEC;
    pthread_mutex_lock(&vlock);
    vtable_oom = 0;
    HASH_ADD_PTR(vtable, ssl, v);
    int oom = vtable_oom;
    if (!oom)
        __atomic_add_fetch(&nvirtual, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&vlock);
    if (oom) {
        vssl_free(v);
        return NULL;
    }
    llf_trust_keep(s, fd);   /* (the relay verifies the provider with it) */
    return v;
}

static int handshake(SSL *s, int (*fn)(SSL *))
{
    if (find(s) || make_virtual(s))
        return 1;
    return fn ? fn(s) : -1;
}

LLF_EXPORT int SSL_connect(SSL *s) { return handshake(s, REAL(connect)); }
LLF_EXPORT int SSL_do_handshake(SSL *s) { return handshake(s, REAL(do_handshake)); }

/* The virtual session a read or write is on. A program may leave the
 * handshake to its first read or write (SSL_set_connect_state, then
 * SSL_write: OpenSSL's implicit handshake): that call is its handshake,
 * and the session is made virtual there as at SSL_connect; it went to the
 * provider with no fallback. (Asked only once the core is loaded, which
 * every connection sent to the relay needs, and then in_before first: a
 * process's other TLS reads and writes pay one load, or one cheap
 * question for a session past its handshake.) */
static vssl *session(SSL *s)
{
    vssl *v = find(s);
    return v || !llf_core_loaded() || !REAL(in_before) || !real.in_before(s) ? v : make_virtual(s);
}

/* One plaintext read or write on a virtual session, with OpenSSL's results. */
static long vio(vssl *v, void *buf, size_t n, int writing, int peek)
{
    ssize_t r = writing ? send(v->fd, buf, n, MSG_NOSIGNAL) : recv(v->fd, buf, n, peek ? MSG_PEEK : 0);
    if (r > 0) {
        v->err = SSL_ERROR_NONE;
        return (long)r;
    }
    if (r == 0 && !writing) {
        v->err = SSL_ERROR_ZERO_RETURN;
        v->shut |= SSL_RECEIVED_SHUTDOWN;
        return 0;
    }
    /* What OpenSSL's socket BIO takes for "try again" (BIO_sock_non_fatal_error):
     * a signal (Python installs its handlers without SA_RESTART) is no
     * failure of the connection. */
    int again = errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ENOTCONN ||
                errno == EPROTO || errno == EINPROGRESS || errno == EALREADY;
    v->err = again ? (writing ? SSL_ERROR_WANT_WRITE : SSL_ERROR_WANT_READ) : SSL_ERROR_SYSCALL;
    return -1;
}

static int clamp(long r)
{
    return r > 0 ? (int)r : r == 0 ? 0 : -1;
}

/* What OpenSSL makes of a length it will not read or write: a negative
 * one is refused (-1, SSL_ERROR_SSL); a read of none, or SSL_write of
 * none, returns 0 with SSL_ERROR_SYSCALL (no data, no error, no end):
 * recv() of 0 bytes said 0, which was taken for the server's clean end,
 * and set SSL_RECEIVED_SHUTDOWN for good. */
static int no_length(vssl *v, int num)
{
    v->err = num < 0 ? SSL_ERROR_SSL : SSL_ERROR_SYSCALL;
    return num < 0 ? -1 : 0;
}

LLF_EXPORT int SSL_read(SSL *s, void *buf, int num)
{
    vssl *v = session(s);
    return !v ? REAL(read)(s, buf, num) : num > 0 ? clamp(vio(v, buf, (size_t)num, 0, 0)) : no_length(v, num);
}

LLF_EXPORT int SSL_peek(SSL *s, void *buf, int num)
{
    vssl *v = session(s);
    return !v ? REAL(peek)(s, buf, num) : num > 0 ? clamp(vio(v, buf, (size_t)num, 0, 1)) : no_length(v, num);
}

/* A write as OpenSSL does it: all of it, or WANT_WRITE with the part sent
 * kept for the retry (which comes with the same bytes); only a program that
 * set SSL_MODE_ENABLE_PARTIAL_WRITE is told of a part. */
static long vwrite(SSL *s, vssl *v, const char *buf, size_t n)
{
    if (real.ctrl && (real.ctrl(s, SSL_CTRL_MODE, 0, NULL) & SSL_MODE_ENABLE_PARTIAL_WRITE))
        return vio(v, (void *)buf, n, 1, 0);
    if (v->wdone > n)
        v->wdone = 0;
    while (v->wdone < n) {
        long r = vio(v, (void *)(buf + v->wdone), n - v->wdone, 1, 0);
        if (r < 0)
            return -1;
        v->wdone += (size_t)r;
    }
    v->wdone = 0;
    return (long)n;
}

LLF_EXPORT int SSL_write(SSL *s, const void *buf, int num)
{
    vssl *v = session(s);
    return !v ? REAL(write)(s, buf, num) : num > 0 ? clamp(vwrite(s, v, buf, (size_t)num)) : no_length(v, num);
}

/* A read or peek of the _ex kind (writes: vwrite). */
static int ex(vssl *v, void *buf, size_t n, size_t *done, int peek)
{
    long r = n ? vio(v, buf, n, 0, peek) : no_length(v, 0);
    if (done)
        *done = r > 0 ? (size_t)r : 0;
    return r > 0;
}

LLF_EXPORT int SSL_read_ex(SSL *s, void *buf, size_t num, size_t *got)
{
    vssl *v = session(s);
    return v ? ex(v, buf, num, got, 0) : REAL(read_ex)(s, buf, num, got);
}

LLF_EXPORT int SSL_peek_ex(SSL *s, void *buf, size_t num, size_t *got)
{
    vssl *v = session(s);
    return v ? ex(v, buf, num, got, 1) : REAL(peek_ex)(s, buf, num, got);
}

LLF_EXPORT int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *put)
{
    vssl *v = session(s);
    if (!v)
        return REAL(write_ex)(s, buf, num, put);
    /* (nothing to write is written: 1, none put, as OpenSSL says; Python's
     * send(b"") counts on it) */
    long r = num ? vwrite(s, v, buf, num) : 0;
    if (!num)
        v->err = SSL_ERROR_NONE;
    if (put)
        *put = r > 0 ? (size_t)r : 0;
    return r > 0 || !num;
}

/* (a call that succeeded has no error, whatever the last I/O said:
 * OpenSSL's rule, and Python's _ssl calls this after every call) */
LLF_EXPORT int SSL_get_error(const SSL *s, int ret)
{
    vssl *v = find(s);
    return !v ? REAL(get_error)(s, ret) : ret > 0 ? SSL_ERROR_NONE : v->err;
}

/* SSL_want_read() and SSL_want_write() ask this: what the last I/O waits
 * for, as SSL_get_error said it. */
LLF_EXPORT int SSL_want(const SSL *s)
{
    vssl *v = find(s);
    if (!v)
        return REAL(want) ? real.want(s) : SSL_NOTHING;
    return v->err == SSL_ERROR_WANT_READ ? SSL_READING : v->err == SSL_ERROR_WANT_WRITE ? SSL_WRITING : SSL_NOTHING;
}

LLF_EXPORT int SSL_pending(const SSL *s)
{
    return find(s) ? 0 : REAL(pending)(s);
}

LLF_EXPORT int SSL_has_pending(const SSL *s)
{
    return find(s) ? 0 : REAL(has_pending)(s);
}

LLF_EXPORT int SSL_shutdown(SSL *s)
{
    vssl *v = find(s);
    if (!v)
        return REAL(shutdown)(s);
    v->shut |= SSL_SENT_SHUTDOWN;
    return 1;
}

LLF_EXPORT int SSL_get_shutdown(const SSL *s)
{
    vssl *v = find(s);
    return v ? v->shut : REAL(get_shutdown)(s);
}

LLF_EXPORT void SSL_CTX_set_cert_verify_callback(SSL_CTX *ctx, int (*cb)(X509_STORE_CTX *, void *), void *arg)
{
    pthread_once(&once, resolve);
    note(ctx, cb != NULL);
    if (real.ctx_set_cert_verify_callback)
        real.ctx_set_cert_verify_callback(ctx, cb, arg);
}

/* Does an ALPN list (protocols each after its length) offer no HTTP/1? */
static int offers_no_http1(const unsigned char *p, unsigned int n)
{
    if (!p || !n)
        return 0;
    for (unsigned int i = 0; i < n; i += 1u + p[i])
        if (i + 1u + p[i] <= n && p[i] == 8 && (!memcmp(p + i + 1, "http/1.1", 8) || !memcmp(p + i + 1, "http/1.0", 8)))
            return 0;
    return 1;
}

static char h2_mark;
static int h2_index = -1;
static pthread_once_t h2_index_once = PTHREAD_ONCE_INIT;

static void make_h2_index(void)
{
    if (real.get_ex_new_index)
        h2_index = real.get_ex_new_index(CRYPTO_EX_INDEX_SSL_CTX, 0, NULL, NULL, NULL, NULL);
}

/* Is ctx a context whose own ALPN list offers no HTTP/1: does it carry
 * our mark? (No index yet: no context was ever so marked.) */
static int ctx_h2_only(const SSL_CTX *ctx)
{
    return ctx && h2_index >= 0 && real.ctx_get_ex_data && real.ctx_get_ex_data(ctx, h2_index) == &h2_mark;
}

LLF_EXPORT int SSL_CTX_set_alpn_protos(SSL_CTX *ctx, const unsigned char *protos, unsigned int len)
{
    pthread_once(&once, resolve);
    if (offers_no_http1(protos, len)) {
        pthread_once(&h2_index_once, make_h2_index);
        if (h2_index >= 0 && real.ctx_set_ex_data)
            real.ctx_set_ex_data(ctx, h2_index, &h2_mark);
    } else if (ctx_h2_only(ctx) && real.ctx_set_ex_data) {   /* (set again, offering HTTP/1) */
        real.ctx_set_ex_data(ctx, h2_index, NULL);
    }
    return real.ctx_set_alpn_protos ? real.ctx_set_alpn_protos(ctx, protos, len) : 1;
}

LLF_EXPORT int SSL_set_alpn_protos(SSL *s, const unsigned char *protos, unsigned int len)
{
    pthread_once(&once, resolve);
    int none = offers_no_http1(protos, len);
    note_in(&h2_only, s, none);
    note_in(&h1_too, s, !none);
    return real.set_alpn_protos ? real.set_alpn_protos(s, protos, len) : 1;
}

LLF_EXPORT int SSL_dane_enable(SSL *s, const char *basedomain)
{
    pthread_once(&once, resolve);
    int r = real.dane_enable ? real.dane_enable(s, basedomain) : -1;
    if (r > 0)
        note(s, 1);
    return r;
}

LLF_EXPORT void SSL_free(SSL *s)
{
    if (__atomic_load_n(&notes, __ATOMIC_RELAXED))
        note(s, 0);
    if (__atomic_load_n(&h2_only, __ATOMIC_RELAXED) || __atomic_load_n(&h1_too, __ATOMIC_RELAXED)) {
        note_in(&h2_only, s, 0);
        note_in(&h1_too, s, 0);
    }
    forget(s);
    if (REAL(free))
        real.free(s);
}

/* A cleared object starts a new session, maybe to a real TLS server. */
LLF_EXPORT int SSL_clear(SSL *s)
{
    forget(s);
    return REAL(clear) ? real.clear(s) : 0;
}

/* A virtual session negotiated no ALPN (so an h2-capable client speaks
 * HTTP/1.1 to the relay), whatever its probe did. */
LLF_EXPORT void SSL_get0_alpn_selected(const SSL *s, const unsigned char **data, unsigned int *len)
{
    if (find(s)) {
        *data = NULL;
        *len = 0;
        return;
    }
    if (REAL(get0_alpn_selected))
        real.get0_alpn_selected(s, data, len);
}

/* A virtual session's handshake is done, whichever way it is asked; libssl,
 * which made none, would say it is still before it. */
LLF_EXPORT int SSL_is_init_finished(const SSL *s)
{
    return find(s) ? 1 : REAL(is_init_finished)(s);
}

LLF_EXPORT int SSL_in_init(const SSL *s)
{
    return find(s) ? 0 : REAL(in_init) ? real.in_init(s) : 0;
}

LLF_EXPORT int SSL_in_before(const SSL *s)
{
    return find(s) ? 0 : REAL(in_before) ? real.in_before(s) : 0;
}

LLF_EXPORT OSSL_HANDSHAKE_STATE SSL_get_state(const SSL *s)
{
    return find(s) ? TLS_ST_OK : REAL(get_state) ? real.get_state(s) : TLS_ST_BEFORE;
}

/* A key update on a virtual session: the relay's own sessions with the
 * providers are its own; libssl refused it (no handshake made) and left an
 * error on the queue. */
LLF_EXPORT int SSL_key_update(SSL *s, int updatetype)
{
    if (!find(s))
        return REAL(key_update) ? real.key_update(s, updatetype) : 0;
    return updatetype == SSL_KEY_UPDATE_NOT_REQUESTED || updatetype == SSL_KEY_UPDATE_REQUESTED;
}

/* ---- the peer, on demand ---------------------------------------------------- */

#define PROBE_MS 3000   /* the probe's connect and handshake, together */
#define PROBE_OTHERS 8  /* addresses tried after the first refused */

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* PROBE_MS, or the shorter timeout the program gave its own socket. */
static long probe_limit(int fd)
{
    long ms = PROBE_MS;
    int opts[2] = {SO_RCVTIMEO, SO_SNDTIMEO};
    for (int i = 0; i < 2; i++) {
        struct timeval tv = {0, 0};
        socklen_t l = sizeof tv;
        long t = getsockopt(fd, SOL_SOCKET, opts[i], &tv, &l) == 0 ? tv.tv_sec * 1000L + tv.tv_usec / 1000 : 0;
        if ((tv.tv_sec || tv.tv_usec) && t < ms)
            ms = t > 0 ? t : 1;
    }
    return ms;
}

/* Is ev ready on fd before deadline? */
static int ready(int fd, short ev, double deadline)
{
    for (;;) {
        double left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {fd, ev, 0};
        int r = poll(&p, 1, (int)left + 1);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return 0;
    }
}

enum { REACHED, REFUSED, SILENT };

/* A TCP connection to a in *out (REACHED); REFUSED: failed at once (the
 * next address may be tried); SILENT: no answer in time. */
static int dial(const struct sockaddr_storage *a, double deadline, int *out)
{
    int fd = socket(a->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return SILENT;
    socklen_t len = a->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    int err = llf_real_connect(fd, (const struct sockaddr *)a, len) == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
        socklen_t el = sizeof err;
        if (!ready(fd, POLLOUT, deadline))
            err = ETIMEDOUT;
        else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el))
            err = errno;
    }
    if (!err) {
        *out = fd;
        return REACHED;
    }
    close(fd);
    return err == ETIMEDOUT ? SILENT : REFUSED;
}

/* A session like s, before its handshake: s's SSL_CTX (trust, ciphers,
 * versions, client certificate, callbacks), s's verify parameters (the
 * host name to check, flags, depth), options and versions, its ex_data
 * (the pointers: the program's callbacks find their objects), its verify
 * callback, and its SNI; SSL_VERIFY_NONE, so that the handshake keeps its
 * verify result rather than failing on it. Not SSL_dup: OpenSSL 3.0's
 * fails on a Python socket's SSL (CRYPTO_dup_ex_data), and it would call
 * the program's ex_data dup functions. NULL when it cannot be made. */
static SSL *copy_of(SSL *s, const char *host)
{
    SSL_CTX *ctx = real.get_ssl_ctx(s);
    SSL *p = ctx ? real.ssl_new(ctx) : NULL;
    if (!p)
        return NULL;
    real.set_options(p, real.get_options(s));
    for (int i = 0; i < EX_DATA_MAX; i++) {
        void *d = real.get_ex_data(s, i);
        if (d && !real.set_ex_data(p, i, d))
            goto fail;
    }
    real.set_verify(p, SSL_VERIFY_NONE, real.get_verify_callback(s));
    long lo = real.ctrl(s, SSL_CTRL_GET_MIN_PROTO_VERSION, 0, NULL);
    long hi = real.ctrl(s, SSL_CTRL_GET_MAX_PROTO_VERSION, 0, NULL);
    if (real.set1_param(p, real.get0_param(s)) && real.ctrl(p, SSL_CTRL_SET_MIN_PROTO_VERSION, lo, NULL) == 1 &&
        real.ctrl(p, SSL_CTRL_SET_MAX_PROTO_VERSION, hi, NULL) == 1 &&
        real.ctrl(p, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, (void *)host) == 1)
        return p;
fail:
    drop_probe(p);
    return NULL;
}

/* The program's own handshake, made now over fd with a copy of s. The
 * session, or NULL. */
static SSL *handshake_copy(SSL *s, const char *host, int fd, double deadline)
{
    SSL *p = copy_of(s, host);
    if (!p)
        return NULL;
    probing_copy = p;
    if (!real.set_fd(p, fd)) {
        drop_probe(p);
        return NULL;
    }
    real.set_connect_state(p);
    for (;;) {
        int r = real.connect(p);
        if (r == 1)
            return p;
        int e = real.get_error(p, r);
        short ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (!ev || !ready(fd, ev, deadline)) {
            drop_probe(p);
            return NULL;
        }
    }
}

/* The relay's requests for v's program go only to the key v->probe saw. */
static void pin(vssl *v)
{
    X509 *leaf = v->probe ? real.get0_peer_certificate(v->probe) : NULL;
    X509_PUBKEY *k = leaf ? real.get_x509_pubkey(leaf) : NULL;
    unsigned char *der = NULL, md[32];
    unsigned int mdl = 0;
    int n = k ? real.i2d_pubkey(k, &der) : -1;
    char p[64] = "sha256//";   /* (+ 44 characters of base64) */
    if (n > 0 && real.digest(der, (size_t)n, md, &mdl, real.sha256(), NULL) && mdl == sizeof md &&
        real.encode_block((unsigned char *)p + 8, md, sizeof md) == 44)
        llf_trust_pin(v->ssl, p);
    if (der)
        real.crypto_free(der, __FILE__, __LINE__);
}

/* v's real peer, probed now: where the connection meant to go, and when
 * that refuses, the next addresses of its name (as the relay goes on). Our
 * hooks are out of the way (llf_in_lib), and the thread's OpenSSL error
 * queue is left as it was. The session, or NULL; *nobody when no server
 * took the connection. */
static SSL *probe(vssl *v, int *nobody)
{
    SSL *got = NULL;
    *nobody = 1;
    if (!real.ssl_new || !real.get_ssl_ctx || !real.get0_param || !real.set1_param || !real.get_options ||
        !real.set_options || !real.set_fd || !real.set_verify || !real.get_verify_callback || !real.set_connect_state ||
        !real.connect || !real.get_error || !real.ctrl || !real.shutdown || !real.free || !real.get_ex_data ||
        !real.set_ex_data || !real.get0_peer_certificate || !real.get_x509_pubkey || !real.i2d_pubkey ||
        !real.digest || !real.sha256 || !real.encode_block || !real.crypto_free || !real.err_set_mark ||
        !real.err_pop_to_mark)
        return NULL;
    int saved = llf_in_lib;
    llf_in_lib = 1;
    real.err_set_mark();
    double deadline = now_ms() + probe_limit(v->fd);
    struct sockaddr_storage alt[PROBE_OTHERS + 1];
    size_t n = v->orig.ss_family == AF_INET || v->orig.ss_family == AF_INET6;
    alt[0] = v->orig;
    int fd = -1, reached = SILENT;
    for (size_t i = 0; i < n; i++) {
        reached = dial(&alt[i], deadline, &fd);
        if (reached != REFUSED)
            break;
        const llf_core_api *core = llf_core_loaded();
        if (i == 0 && core)
            n += core->others((struct sockaddr *)&alt[0], v->host, alt + 1, PROBE_OTHERS);
    }
    *nobody = reached != REACHED;
    if (reached == REACHED) {
        const vssl *outer = probing;
        SSL *outer_copy = probing_copy;
        probing = v;
        probing_copy = NULL;
        got = handshake_copy((SSL *)v->ssl, v->host, fd, deadline);
        probing = outer;
        probing_copy = outer_copy;
        if (got)
            real.shutdown(got);   /* (our close_notify; the socket closes next) */
        close(fd);
    }
    real.err_pop_to_mark();
    llf_in_lib = saved;
    return got;
}

/* What a virtual session shows when no server took the probe's
 * connection: a certificate naming the host the program asked for,
 * issued by "llmfallback relay", never verified (the verify result says
 * so). It lets clients that match host names themselves (urllib3 1.26)
 * fall back as before; a program that checks the verify result or pins a
 * key refuses it. */
static X509 *relay_cert(const char *host)
{
    char san[300];
    X509 *x = REAL(x509_new) ? real.x509_new() : NULL;
    if (!x || !real.x509_set_version || !real.gmtime_adj || !real.get_subject || !real.name_add ||
        !real.ext_conf_nid || !real.add_ext)
        goto fail;
    snprintf(san, sizeof san, "DNS:%s", host);
    X509_EXTENSION *e = real.ext_conf_nid(NULL, NULL, NID_subject_alt_name, san);
    int ok = real.x509_set_version(x, 2) && real.gmtime_adj(real.get_not_before(x), -3600) &&
             real.gmtime_adj(real.get_not_after(x), 86400) &&
             real.name_add(real.get_subject(x), "CN", MBSTRING_ASC, (const unsigned char *)host, -1, -1, 0) &&
             real.name_add(real.get_issuer(x), "CN", MBSTRING_ASC,
                           (const unsigned char *)"llmfallback relay", -1, -1, 0) &&
             e && real.add_ext(x, e, -1);
    if (e && real.ext_free)
        real.ext_free(e);
    if (ok)
        return x;
fail:
    if (x && real.x509_free)
        real.x509_free(x);
    return NULL;
}

/* v's real peer session (probed at the first question), or NULL. The
 * probe's handshake runs the program's callbacks (an info callback, its
 * verify callback), which may ask the program's own session about its
 * peer: they are answered by the handshake under way, as the program's
 * would be answered by its own, and plock is not held meanwhile (it would
 * be this thread's already). Two threads asking at once may both probe:
 * the first to finish is kept. */
static SSL *peer(vssl *v)
{
    if (probing == v)
        return probing_copy;
    pthread_mutex_lock(&v->plock);
    int done = v->probed;
    pthread_mutex_unlock(&v->plock);
    if (done)
        return v->probe;
    int nobody;
    SSL *got = probe(v, &nobody), *extra = NULL;
    pthread_mutex_lock(&v->plock);
    if (!v->probed) {
        v->probe = got;
        v->nobody = nobody;
        v->probed = 1;
        if (nobody && !v->standin)
            v->standin = relay_cert(v->host);
        pin(v);
    } else {
        extra = got;
    }
    pthread_mutex_unlock(&v->plock);
    drop_probe(extra);
    return v->probe;
}

/* Is v's peer, not yet probed, vouched for without a probe? When the
 * program verifies (SSL_VERIFY_PEER), the relay verifies the real server
 * with the program's trust and name before a byte of the request goes
 * (trust.h): its certificate and verify result are what a verified one's
 * are, and the stand-in (relay_cert) names the host. A probe there would
 * cost every connection of the commonest client (Debian's urllib3 1.26
 * asks getpeercert() for its own name check) one more handshake, and a
 * blackholed provider its whole wait, even with its breaker open. A
 * program that pins the certificate on top of verifying it sees the
 * stand-in and refuses (fail closed). Any other question (chain, cipher,
 * version) is probed. */
static int trusted(vssl *v)
{
    if (!v->verifies || probing == v)
        return 0;
    pthread_mutex_lock(&v->plock);
    int vouched = !v->probed;
    if (vouched && !v->standin)
        v->standin = relay_cert(v->host);
    pthread_mutex_unlock(&v->plock);
    return vouched;
}

/* The certificate v shows (no reference taken). */
static X509 *shown(vssl *v)
{
    if (trusted(v))
        return v->standin;
    SSL *p = peer(v);
    return p ? real.get0_peer_certificate(p) : v->standin;
}

LLF_EXPORT long SSL_get_verify_result(const SSL *s)
{
    vssl *v = find(s);
    if (!v)
        return REAL(get_verify_result)(s);
    if (trusted(v))
        return X509_V_OK;
    SSL *p = peer(v);
    return p && real.get_verify_result ? real.get_verify_result(p)
           : v->nobody                 ? X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
                                       : X509_V_ERR_UNSPECIFIED;
}

LLF_EXPORT X509 *SSL_get1_peer_certificate(const SSL *s)
{
    vssl *v = find(s);
    if (!v)
        return REAL(get1_peer_certificate)(s);
    X509 *x = shown(v);
    return x && real.x509_up_ref && real.x509_up_ref(x) ? x : NULL;
}

LLF_EXPORT X509 *SSL_get0_peer_certificate(const SSL *s)
{
    vssl *v = find(s);
    return v ? shown(v) : REAL(get0_peer_certificate)(s);
}

LLF_EXPORT STACK_OF(X509) *SSL_get_peer_cert_chain(const SSL *s)
{
    vssl *v = find(s);
    SSL *p = v ? peer(v) : NULL;
    return v ? (p ? real.get_peer_cert_chain(p) : NULL) : REAL(get_peer_cert_chain)(s);
}

LLF_EXPORT STACK_OF(X509) *SSL_get0_verified_chain(const SSL *s)
{
    vssl *v = find(s);
    SSL *p = v ? peer(v) : NULL;
    return v ? (p && real.get0_verified_chain ? real.get0_verified_chain(p) : NULL) : REAL(get0_verified_chain)(s);
}

LLF_EXPORT const SSL_CIPHER *SSL_get_current_cipher(const SSL *s)
{
    vssl *v = find(s);
    SSL *p = v ? peer(v) : NULL;
    return v ? (p && real.get_current_cipher ? real.get_current_cipher(p) : NULL) : REAL(get_current_cipher)(s);
}

/* (a session whose probe failed negotiated nothing) */
LLF_EXPORT const char *SSL_get_version(const SSL *s)
{
    vssl *v = find(s);
    if (v && trusted(v))
        return REAL(get_version)(s);   /* (urllib3 1.26 asks on every connection: see trusted) */
    SSL *p = v ? peer(v) : NULL;
    return v && !p ? "unknown" : REAL(get_version)(p ? p : s);
}

LLF_EXPORT int SSL_version(const SSL *s)
{
    vssl *v = find(s);
    if (v && trusted(v))
        return REAL(version)(s);
    SSL *p = v ? peer(v) : NULL;
    return REAL(version)(p ? p : s);
}
