/* relay_tunnel.c — byte tunnels (see relay_tunnel.h): bytes both ways
 * between the program and where it connected, as a direct connection
 * carries them, over a socket of the relay's own or, for a virtual TLS
 * session, over a connect-only libcurl handle's TLS. */
#include "relay_tunnel.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>

#include "hubutil.h"
#include "relay_route.h"

/* A blocking connection to a, made within ms (0: no limit of ours), owned
 * in *own as it is made (see guest.h), from the address the program bound
 * its socket to, from (NULL: none; see llf_relay_leave_from), or -1 with
 * *timed_out set when the time ran out. */
int llf_relay_dial(const struct sockaddr_storage *a, long ms, int *timed_out, llf_ownfd *own,
                   const struct sockaddr_storage *from)
{
    llf_fd_hold();
    int up = socket(a->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (up >= 0 && from)
        llf_relay_bind_source(up, from, (const struct sockaddr *)a);
    int err = up < 0 || llf_fd_own(own, up)
                  ? -1
                  : llf_relay_svc->real_connect(up, (const struct sockaddr *)a, llf_relay_addr_len(a));
    int e = errno;
    llf_fd_release();
    if (up < 0)
        return -1;
    if (err && e == EINPROGRESS) {
        struct pollfd p = {up, POLLOUT, 0};
        double end = llf_mono_ms() + (double)ms;
        int r;
        /* (a limit past an int's milliseconds, weeks, is waited for a
         * day at a time: converting it to int is undefined) */
        do {
            double wait = end - llf_mono_ms();
            r = poll(&p, 1, ms <= 0 ? -1 : wait > 86400000 ? 86400000 : wait > 0 ? (int)wait : 0);
        } while ((r < 0 && errno == EINTR) || (r == 0 && ms > 0 && end - llf_mono_ms() > 0));
        socklen_t el = sizeof err;
        *timed_out = r == 0;
        llf_fd_hold();
        if (r <= 0 || !llf_fd_ours(own) || getsockopt(up, SOL_SOCKET, SO_ERROR, &err, &el))
            err = -1;
        llf_fd_release();
    }
    llf_fd_hold();
    if (!err && llf_fd_ours(own))
        err = fcntl(up, F_SETFL, fcntl(up, F_GETFL) & ~O_NONBLOCK);
    llf_fd_release();
    if (err) {
        llf_fd_close(own);
        own->fd = -1;
        return -1;
    }
    return up;
}

/* dial_orig's try: a connection to a, in ud's (a conn's) up, from the
 * address its program chose if any (see llf_relay_leave_from). */
static int dial_to(void *ud, const struct sockaddr_storage *a, long left, double spent)
{
    conn *k = ud;
    int timed_out = 0;
    return llf_relay_dial(a, left, &timed_out, &k->up, llf_relay_chosen_src(k)) >= 0 ? REACHED
           : timed_out                                                              ? FAILED
                                                                                    : REFUSED;
}

/* A connection to where the program meant to go (or, as for a request,
 * the next address of its name when that refuses: see llf_relay_reach), or -1.
 * host: the one the request names, or NULL. Kept in k->up (a child forked
 * meanwhile closes its copy: see pool_child, relay.c) until hang_up. */
static int dial_orig(conn *k, const char *host)
{
    if (llf_relay_reach(k, host, k->eng->cfg->connect_ms, dial_to, k))
        return -1;
    int one = 1;
    setsockopt(k->up.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   /* (harmless on a socket not ours) */
    llf_relay_stand(k, TUNNEL);
    return k->up.fd;
}

static void hang_up(conn *k)
{
    llf_fd_close(&k->up);
    k->up.fd = -1;
}

/* After one side's end, the other way is carried while it moves; this long
 * silent ends the tunnel, as the kernel gives up on an orphaned socket's
 * FIN_WAIT2 (tcp_fin_timeout, 60 s). A program that closed its socket whole
 * looks here as one that only ended its sending, and a server that ignores
 * that end would hold this thread and its socket for ever. */
#define HALF_CLOSED_MS 60000

/* poll() for a tunnel: 0 silent too long after a half-close, -1 failed. */
static int pump_poll(struct pollfd *p)
{
    int r;
    while ((r = poll(p, 2, p[0].fd < 0 || p[1].fd < 0 ? HALF_CLOSED_MS : -1)) < 0 && errno == EINTR)
        ;
    return r;
}

/* Bytes both ways between the program and k->up, each way until its
 * sender ends it, as a direct connection carries them: one side's end (a
 * half-close: nc -N, a client that sends, shuts its writing and reads the
 * answer) is passed on as such, and the other way goes on to its own end;
 * an error on either ends both. Upstream's bytes are taken first in a
 * round: what the server sent before an error on the program's side is
 * on its way to the program first. Each
 * descriptor is used only while its number is still ours (see llf_relay_kwrite):
 * a program that closed every descriptor may have taken both numbers for
 * sockets of its own, between which the tunnel would carry its bytes. */
static void pump_ways(conn *k);

static void pump(conn *k)
{
    __atomic_store_n(&k->pumping, 1, __ATOMIC_RELEASE);
    pump_ways(k);
    __atomic_store_n(&k->pumping, 0, __ATOMIC_RELEASE);
}

static void pump_ways(conn *k)
{
    const llf_ownfd *own[2] = {&k->own, &k->up};
    struct pollfd p[2] = {{k->fd, POLLIN, 0}, {k->up.fd, POLLIN, 0}};
    char buf[16384];
    while (p[0].fd >= 0 || p[1].fd >= 0) {
        int r = pump_poll(p);
        if (r <= 0)
            return;
        for (int i = 1; i >= 0; i--) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
                continue;
            __atomic_store_n(&k->pumping, 2, __ATOMIC_RELEASE);   /* (bytes in hand: see drain_at_exit, relay.c) */
            llf_fd_hold();
            int ours = llf_fd_ours(own[0]) && llf_fd_ours(own[1]);
            ssize_t n = ours ? recv(p[i].fd, buf, sizeof buf, MSG_DONTWAIT) : -1;
            int e = errno;
            llf_fd_release();
            if (!ours)
                return;
            if (n < 0 && (e == EINTR || e == EAGAIN || e == EWOULDBLOCK)) {
                __atomic_store_n(&k->pumping, 1, __ATOMIC_RELEASE);
                continue;
            }
            if (n < 0 || (n > 0 && llf_relay_write_all(own[1 - i], buf, (size_t)n)))
                return;
            __atomic_store_n(&k->pumping, 1, __ATOMIC_RELEASE);
            if (n == 0) {
                llf_fd_shutdown(own[1 - i], SHUT_WR);
                p[i].fd = -1;   /* (read to its end: poll would say so again and again) */
            }
        }
    }
}

/* The program began a real TLS handshake (its SNI is not a provider's):
 * carry the bytes, untouched, to where it meant to connect. */
void llf_relay_tunnel(conn *k)
{
    int up = dial_orig(k, NULL);
    if (up < 0) {
        llf_relay_reset(k);
        return;
    }
    pump(k);
    hang_up(k);
}

/* A request to switch protocols (a WebSocket) is no call, and what follows
 * it is no HTTP the relay could pass on: the connection becomes a tunnel to
 * where the program connected, carrying its head as it wrote it (Upgrade and
 * Connection are hop-by-hop, and a transfer would drop them) and whatever
 * it sent after. It ends with the tunnel. */
int llf_relay_upgrade_plain(conn *k, const llf_http_req *r, const char *host)
{
    int up = dial_orig(k, host);
    k->ended = 1;   /* (a tunnel ends as its server ended it) */
    if (up < 0 || llf_relay_write_all(&k->up, r->head.p, r->head.n) || llf_relay_write_all(&k->up, k->buf, k->have))
        llf_relay_reset(k);
    else
        pump(k);
    hang_up(k);
    return -1;
}

/* Bytes that are no HTTP/1.1 request the relay can read (a head longer
 * than MAX_HEAD, another protocol on a provider's port) are no call: over
 * plain TCP the connection becomes a tunnel to where the program connected,
 * carrying them as they came. A virtual TLS session cannot be carried on
 * (the relay does not know the name to verify that server by): it gets the
 * status a server gives such a request, not a reset. */
void llf_relay_not_http(conn *k)
{
    static const char big[] = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
                              "Connection: close\r\n\r\n";
    static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    if (k->from.tls) {
        if (k->have >= MAX_HEAD)
            llf_relay_kwrite(k, big, sizeof big - 1);
        else
            llf_relay_kwrite(k, bad, sizeof bad - 1);
        return;
    }
    llf_http_req none = {0};
    llf_relay_upgrade_plain(k, &none, NULL);
}

/* All of p through a connect-only handle; libcurl says when the socket is
 * full (waits are capped: a TLS write may be waiting on a read instead). */
static int curl_send_all(const llf_curl_api *c, CURL *h, curl_socket_t s, const char *p, size_t n)
{
    while (n) {
        size_t sent = 0;
        CURLcode rc = c->easy_send(h, p, n, &sent);
        if (rc == CURLE_AGAIN) {
            struct pollfd w = {s, POLLOUT, 0};
            poll(&w, 1, 1000);
            continue;
        }
        if (rc != CURLE_OK)
            return -1;
        p += sent;
        n -= sent;
    }
    return 0;
}

/* pump() through libcurl's TLS: the upstream is read until CURLE_AGAIN
 * after every wake-up, since TLS may hold decrypted bytes the socket no
 * longer shows. The program's end of its bytes goes on as a bare end of
 * the connection's (a shutdown of its socket: libcurl has no half-close
 * of TLS), which is what the server would have had from the program
 * directly: a virtual session's SSL_shutdown sends nothing, so the relay
 * sees the program's end only when it shuts its socket itself. The
 * server's answer is carried on to its own end. libcurl's socket, like
 * the program's end, is used only while its number is still ours. */
static void pump_curl(conn *k, const llf_curl_api *c, CURL *h, curl_socket_t s)
{
    llf_ownfd us;
    struct pollfd p[2] = {{k->fd, POLLIN, 0}, {s, POLLIN, 0}};
    char buf[16384];
    if (llf_curl_own(s, &us))
        return;
    while (p[0].fd >= 0 || p[1].fd >= 0) {
        if (!llf_fd_ours(&us))
            return;
        while (p[1].fd >= 0) {
            size_t n = 0;
            CURLcode rc = c->easy_recv(h, buf, sizeof buf, &n);
            if (rc == CURLE_AGAIN)
                break;
            if (rc != CURLE_OK || (n && llf_relay_kwrite(k, buf, n)))
                return;
            if (n == 0) {
                llf_fd_shutdown(&k->own, SHUT_WR);
                p[1].fd = -1;
            }
        }
        if (p[0].fd < 0 && p[1].fd < 0)
            return;
        int r = pump_poll(p);
        if (r <= 0)
            return;
        if (p[0].fd >= 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))) {
            ssize_t n = llf_relay_kread(k, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 || !llf_fd_ours(&us) || (n > 0 && curl_send_all(c, h, s, buf, (size_t)n)))
                return;
            if (n == 0) {
                llf_fd_shutdown(&us, SHUT_WR);
                p[0].fd = -1;
            }
        }
    }
}

/* llf_relay_upgrade_tls's try: its connect-only handle's connection made at a (or
 * where libcurl's own lookup of the URL's name says, for a placeholder),
 * its socket in *s. */
typedef struct connect_try {
    const llf_curl_api *c;
    CURL *h;
    curl_socket_t *s;
} connect_try;

static int connect_at(void *ud, const struct sockaddr_storage *a, long left, double spent)
{
    connect_try *t = ud;
    const llf_curl_api *c = t->c;
    c->easy_setopt(t->h, CURLOPT_CONNECTTIMEOUT_MS, left);
    char line[INET6_ADDRSTRLEN + 10];
    struct curl_slist *to = llf_relay_connect_to_line(a, line, sizeof line) ? NULL : c->slist_append(NULL, line);
    c->easy_setopt(t->h, CURLOPT_CONNECT_TO, to);
    CURLcode rc = c->easy_perform(t->h);
    c->easy_setopt(t->h, CURLOPT_CONNECT_TO, (void *)NULL);
    c->slist_free_all(to);
    if (rc == CURLE_OK) {
        c->easy_getinfo(t->h, CURLINFO_ACTIVESOCKET, t->s);
        return REACHED;
    }
    return rc == CURLE_COULDNT_CONNECT ? REFUSED : FAILED;
}

/* llf_relay_upgrade_plain() for a virtual TLS session: the relay speaks
 * TLS to the server itself, as for its transfers (HTTP/1.1 offered, the
 * certificate verified as the program would, no proxy), on a connect-only
 * handle of its own that closes the connection when it is freed. */
int llf_relay_upgrade_tls(conn *k, const llf_http_req *r, const char *url, const char *host)
{
    const llf_curl_api *c = k->c;
    llf_relay_stand(k, TUNNEL);
    k->ended = 1;   /* (as llf_relay_upgrade_plain's) */
    CURL *h = c->easy_send && c->easy_recv ? c->easy_init() : NULL;
    void *trust = NULL;   /* (the program's, as for its requests) */
    curl_socket_t s = CURL_SOCKET_BAD;
    if (h) {
        llf_relay_leave_from(k, h);
        c->easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, llf_curl_close);
        c->easy_setopt(h, CURLOPT_URL, url);
        c->easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
        c->easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        c->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        c->easy_setopt(h, CURLOPT_PROXY, "");
        const char *ca = llf_ca_bundle(k->eng->cfg);
        if (ca)
            c->easy_setopt(h, CURLOPT_CAINFO, ca);
        trust = llf_relay_svc && llf_relay_svc->tls_trust
                    ? llf_relay_svc->tls_trust(c, h, (struct sockaddr *)&k->from.src)
                    : NULL;
        connect_try t = {c, h, &s};
        llf_relay_reach(k, host, k->eng->cfg->connect_ms, connect_at, &t);
    }
    if (s == CURL_SOCKET_BAD || curl_send_all(c, h, s, r->head.p, r->head.n) ||
        curl_send_all(c, h, s, k->buf, k->have))
        llf_relay_reset(k);
    else
        pump_curl(k, c, h, s);
    if (h)
        c->easy_cleanup(h);
    if (trust)
        llf_relay_svc->tls_trust_done(trust);
    return -1;
}
