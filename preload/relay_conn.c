/* relay_conn.c — the program's connection to the relay, as every part of
 * the relay reads and writes it (see relay_conn.h): each read and write
 * only while its number is still ours, a request's head (parsed by http1.c)
 * and body read as the connection gives them, and its end, by a reset or a
 * lingering close. */
#include "relay_conn.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include "hubutil.h"

#define LINGER_MS 30000.0   /* a lingering close's bounds (nginx's lingering_time... */
#define LINGER_IDLE_S 5     /* ...and lingering_timeout): see llf_relay_linger */

/* ---- writing ------------------------------------------------------------- */

/* Every socket write of ours: MSG_NOSIGNAL, because a client that gave up
 * must not have the host killed by SIGPIPE (many set it back to default).
 * On a number own says we hold, only while it is still ours: the look and
 * each send are one step under the descriptor lock (see guest.h), else a
 * number ours at the look could be the next connection's by the send (seen
 * under load: about one first call in 40,000 after a program's
 * closerange). The send does not wait inside the lock;
 * room is waited for outside it, and the number looked at again. */
int llf_relay_write_all(const llf_ownfd *own, const char *p, size_t n)
{
    while (n) {
        llf_fd_hold();
        int ours = llf_fd_ours(own);
        ssize_t w = ours ? send(own->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT) : -1;
        int e = ours ? errno : EBADF;
        llf_fd_release();
        if (w < 0 && (e == EAGAIN || e == EWOULDBLOCK)) {
            struct pollfd q = {own->fd, POLLOUT, 0};
            poll(&q, 1, 1000);   /* (on a number no longer ours: harmless, looked at again) */
            continue;
        }
        if (w < 0 && e == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ---- request reading ------------------------------------------------------- */

/* The program's end of k, written or read only while its number is still
 * ours: a program that closes every descriptor (a daemon's start) while we
 * serve k frees the number, and its next socket, or the next relay's
 * connection, may take it; an answer written there went to another call
 * (seen: one call's body in front of the next one's head), and a read
 * there would take the program's own bytes. (A system call per look: the
 * relay's reads and writes are a few per call.) */
int llf_relay_kwrite(conn *k, const char *p, size_t n)
{
    return llf_relay_write_all(&k->own, p, n);
}

/* A read from own's socket, as llf_relay_write_all writes: the look and
 * the recv one step under the descriptor lock, the wait for bytes outside
 * it (a second at a time: a number no longer ours may be a socket of the
 * program's that never has any), up to ms (-1: no limit; then -1 with
 * EAGAIN). */
static ssize_t read_own(const llf_ownfd *own, void *p, size_t n, long ms)
{
    double end = llf_mono_ms() + (double)ms;
    for (;;) {
        llf_fd_hold();
        int ours = llf_fd_ours(own);
        ssize_t r = ours ? recv(own->fd, p, n, MSG_DONTWAIT) : -1;
        int e = ours ? errno : EBADF;
        llf_fd_release();
        if (r >= 0)
            return r;
        if (e != EAGAIN && e != EWOULDBLOCK && e != EINTR) {
            errno = e;
            return -1;
        }
        double left = ms < 0 ? 1000 : end - llf_mono_ms();
        if (left <= 0) {
            errno = EAGAIN;
            return -1;
        }
        struct pollfd q = {own->fd, POLLIN, 0};
        poll(&q, 1, left < 1000 ? (int)left + 1 : 1000);
    }
}

ssize_t llf_relay_kread(conn *k, void *p, size_t n)
{
    return read_own(&k->own, p, n, -1);
}

int llf_relay_fill(conn *k)
{
    if (k->have >= sizeof k->buf - 1)
        return -1;
    ssize_t n = llf_relay_kread(k, k->buf + k->have, sizeof k->buf - 1 - k->have);
    if (n <= 0)
        return -1;
    k->have += (size_t)n;
    return 0;
}

void llf_relay_consume(conn *k, size_t n)
{
    memmove(k->buf, k->buf + n, k->have - n);
    k->have -= n;
}

static int read_exact(conn *k, llf_buf *out, size_t n)
{
    while (n) {
        if (!k->have && llf_relay_fill(k))
            return -1;
        size_t take = k->have < n ? k->have : n;
        if (llf_buf_add(out, k->buf, take))
            return -1;
        llf_relay_consume(k, take);
        n -= take;
    }
    return 0;
}

/* The next line, consumed whole however long (a long chunk extension or
 * trailer left behind would be read as the next request); line holds its
 * first max - 1 bytes. It ends at LF, a CR before it dropped, as the head's
 * lines do (RFC 9112 lets a recipient take a bare LF; waiting for a CRLF
 * that never comes would hang the program's call). */
int llf_relay_read_line(conn *k, char *line, size_t max)
{
    size_t kept = 0;
    for (;;) {
        char *eol = memchr(k->buf, '\n', k->have);
        /* (a buffer full of a longer line: all of it but a last byte that
         * may be the CR of its end, taken now, and the rest read after) */
        size_t n = eol ? (size_t)(eol - k->buf) : k->have >= sizeof k->buf - 1 ? k->have - 1 : 0;
        size_t text = eol && n && k->buf[n - 1] == '\r' ? n - 1 : n;
        size_t c = text < max - 1 - kept ? text : max - 1 - kept;
        memcpy(line + kept, k->buf, c);
        kept += c;
        line[kept] = '\0';
        if (eol) {
            llf_relay_consume(k, n + 1);
            return 0;
        }
        llf_relay_consume(k, n);
        if (llf_relay_fill(k))
            return -1;
    }
}

/* The request's head; its body is left to llf_relay_read_body, or to the
 * transfer that passes it through as it comes (on_read, relay_serve.c). */
int llf_relay_read_request(conn *k, llf_http_req *r)
{
    long clen = 0, head;
    while ((head = llf_http_parse_head(k->buf, k->have, r, &clen)) == 0)
        if (llf_relay_fill(k))
            return k->have >= MAX_HEAD ? -2 : -1;   /* (a head too long to read: see llf_relay_not_http) */
    if (head < 0)
        return -2;   /* no request the relay reads: see llf_relay_not_http */
    if (r->upgrade && llf_buf_add(&r->head, k->buf, (size_t)head))
        return -1;
    llf_relay_consume(k, (size_t)head);
    return 0;   /* (its Expect is answered in serve_url, relay_serve.c) */
}

/* A chunk's size line; after the last (0), the trailers are read too. Its
 * first KiB is kept: room for a size with any sane run of leading zeros,
 * which RFC 9112 allows and servers read (an extension after it may be
 * cut there: it is not read). */
int llf_relay_read_chunk_size(conn *k, unsigned long *n)
{
    char line[1024];
    if (llf_relay_read_line(k, line, sizeof line))
        return -1;
    if (llf_http_chunk_size(line, n) || (strlen(line) == sizeof line - 1 && !strchr(line, ';')))
        return -1;   /* (no size, or one that may go on past what was kept) */
    if (*n == 0)
        do   /* trailers, to the empty line that ends them (a read failing first: no end) */
            if (llf_relay_read_line(k, line, sizeof line))
                return -1;
        while (line[0]);
    return 0;
}

/* The body read whole when it is no longer than limit. A longer one is
 * left to be passed on as it comes (on_read, relay_serve.c): *rest is set,
 * r->body holds what was read of it (chunked: the chunks before the one
 * that would pass the limit, whose size line is read), *left the bytes
 * still to come (of all, or of that chunk). */
int llf_relay_read_body(conn *k, llf_http_req *r, size_t limit, int *rest, long *left)
{
    long clen = r->clen;
    *rest = 0;
    if (clen > 0 && (size_t)clen > limit) {
        *rest = 1;
        *left = clen;
        return 0;
    }
    if (clen > 0)
        return read_exact(k, &r->body, (size_t)clen);
    if (clen == -1) {
        char line[64];
        for (;;) {
            unsigned long n;
            if (llf_relay_read_chunk_size(k, &n))
                return -1;
            if (n == 0)
                break;
            if (r->body.n + n > limit) {
                *rest = 1;
                *left = (long)n;
                return 0;
            }
            if (read_exact(k, &r->body, n) || llf_relay_read_line(k, line, sizeof line) || line[0])
                return -1;   /* (a chunk's data is followed by its CRLF alone) */
        }
    }
    return 0;
}

/* ---- a connection's end ------------------------------------------------- */

/* A transport failure cannot be replayed once our connect() succeeded: the
 * closest the program can see is the connection reset. It is sent now, by a
 * disconnect: a close would send it only if no forked child held a copy of
 * our end. */
void llf_relay_reset(conn *k)
{
    struct sockaddr none = {.sa_family = AF_UNSPEC};
    k->ended = 1;
    llf_fd_hold();
    if (llf_fd_ours(&k->own))
        llf_relay_svc->real_connect(k->fd, &none, sizeof none);
    llf_fd_release();
}

/* The end of a connection the program may still be sending on, after an
 * answer (one before its body's end, a 431 to a head too long): a close
 * with bytes unread makes the kernel send a reset, and a reset discards the
 * answer the program has not read yet. So, as a server's lingering close
 * (RFC 9112 §9.6): our side is shut first (the answer, then its end), and
 * what the program sends is read and dropped until it closes, each read
 * within LINGER_IDLE_S and all within LINGER_MS; then conn_end (relay.c)
 * closes. */
void llf_relay_linger(conn *k)
{
    if (k->ended || !llf_fd_ours(&k->own))
        return;
    k->ended = 1;
    k->have = 0;
    llf_fd_shutdown(&k->own, SHUT_WR);
    char sink[16384];
    double end = llf_mono_ms() + LINGER_MS;
    while (llf_mono_ms() < end && read_own(&k->own, sink, sizeof sink, LINGER_IDLE_S * 1000L) > 0)
        ;
}
