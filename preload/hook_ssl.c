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
 * Hooks cover the whole family Python 3.11 uses (do_handshake, the _ex
 * calls, pending, get_error, shutdown state); libssl is found with RTLD_NEXT
 * or, for hosts that loaded it RTLD_LOCAL (Python's _ssl), RTLD_NOLOAD
 * (sslsym.c). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
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

static int vtable_oom;
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(e) (vtable_oom = 1)
#include <uthash.h>

typedef struct vssl {
    const SSL *ssl;
    int fd, err, shut;
    size_t wdone;   /* bytes of a write that wanted to be retried already sent */
    char host[256];
    UT_hash_handle hh;
} vssl;

static vssl *vtable;
static int nvirtual;
static pthread_mutex_t vlock = LLF_FORKLOCK_INIT;

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
    void (*ext_free)(X509_EXTENSION *);
} real;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void resolve(void)
{
    llf_forklock(&vlock);
#define R(m, s) *(void **)&real.m = llf_openssl_sym(s)
    R(connect, "SSL_connect");
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
#undef R
}

#define REAL(f) (pthread_once(&once, resolve), real.f)

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
    free(v);
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
        !peer_is_relay(core, fd))
        return NULL;
    vssl *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->ssl = s;
    v->fd = fd;
    snprintf(v->host, sizeof v->host, "%s", sni);
    pthread_mutex_lock(&vlock);
    vtable_oom = 0;
    HASH_ADD_PTR(vtable, ssl, v);
    int oom = vtable_oom;
    if (!oom)
        __atomic_add_fetch(&nvirtual, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&vlock);
    if (oom) {
        free(v);
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

LLF_EXPORT int SSL_read(SSL *s, void *buf, int num)
{
    vssl *v = find(s);
    return v ? clamp(vio(v, buf, num > 0 ? (size_t)num : 0, 0, 0)) : REAL(read)(s, buf, num);
}

LLF_EXPORT int SSL_peek(SSL *s, void *buf, int num)
{
    vssl *v = find(s);
    return v ? clamp(vio(v, buf, num > 0 ? (size_t)num : 0, 0, 1)) : REAL(peek)(s, buf, num);
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
    vssl *v = find(s);
    return v ? clamp(vwrite(s, v, buf, num > 0 ? (size_t)num : 0)) : REAL(write)(s, buf, num);
}

/* A read or peek of the _ex kind (writes: vwrite). */
static int ex(vssl *v, void *buf, size_t n, size_t *done, int peek)
{
    long r = vio(v, buf, n, 0, peek);
    if (done)
        *done = r > 0 ? (size_t)r : 0;
    return r > 0;
}

LLF_EXPORT int SSL_read_ex(SSL *s, void *buf, size_t num, size_t *got)
{
    vssl *v = find(s);
    return v ? ex(v, buf, num, got, 0) : REAL(read_ex)(s, buf, num, got);
}

LLF_EXPORT int SSL_peek_ex(SSL *s, void *buf, size_t num, size_t *got)
{
    vssl *v = find(s);
    return v ? ex(v, buf, num, got, 1) : REAL(peek_ex)(s, buf, num, got);
}

LLF_EXPORT int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *put)
{
    vssl *v = find(s);
    if (!v)
        return REAL(write_ex)(s, buf, num, put);
    long r = vwrite(s, v, buf, num);
    if (put)
        *put = r > 0 ? (size_t)r : 0;
    return r > 0;
}

LLF_EXPORT int SSL_get_error(const SSL *s, int ret)
{
    vssl *v = find(s);
    return v ? v->err : REAL(get_error)(s, ret);
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

LLF_EXPORT void SSL_free(SSL *s)
{
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

/* A virtual session negotiated nothing: no ALPN (so an h2-capable client
 * speaks HTTP/1.1 to the relay), verification by the relay, no peer
 * certificate to show. */
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

LLF_EXPORT long SSL_get_verify_result(const SSL *s)
{
    return find(s) ? X509_V_OK : REAL(get_verify_result)(s);
}

LLF_EXPORT int SSL_is_init_finished(const SSL *s)
{
    return find(s) ? 1 : REAL(is_init_finished)(s);
}

/* What a virtual session shows as its peer: a certificate naming the host
 * the program asked for, issued by "llmfallback relay". It is never
 * verified (the relay verified the provider's real one); it lets clients
 * that match host names themselves (urllib3 1.26) see the name they expect. */
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

LLF_EXPORT X509 *SSL_get1_peer_certificate(const SSL *s)
{
    vssl *v = find(s);
    return v ? relay_cert(v->host) : REAL(get1_peer_certificate)(s);
}
