/* relay.c — the in-process relay (see relay.h and design.md).
 *
 * Connections the socket hooks redirect arrive here over real loopback
 * sockets, so the program's fd, readiness, timeouts and keep-alive behave as
 * they would with the provider. The relay listens on 127.0.0.1 and ::1 on
 * ephemeral ports and serves a connection only when the hook announced its
 * source port first: no other process can use it (it holds the keys), since
 * a source port is ours until our socket closes. Each connection gets a
 * serving thread, parked for the next one after it; requests are read as
 * HTTP/1.1 (Content-Length or chunked), LLM calls go through the engine with
 * the serving thread's libcurl handle, anything
 * else is performed once and relayed as it arrives (head, then body), except
 * an upgrade (WebSocket), which is tunnelled byte for byte. Answers
 * to LLM calls are written whole with a Content-Length (chunked when the
 * provider's came with trailers, to carry them: see respond), except the 2xx stream
 * of a streaming call, which is held back to its answer's first event (an
 * error event or garbage before it falls back) and then written chunked as it arrives; a
 * stream that breaks after that breaks the connection, as the provider's
 * would. After fork()
 * the child starts its own relay on first use, and takes over the
 * connections it inherited when its parent lets them go (see take_over);
 * after the program closed the relay's descriptors (a daemon's start), the
 * relay starts afresh (see start). Every descriptor the relay keeps is
 * close-on-exec as it is made, its libcurl handles' too (llf_curl_socket
 * for their connections, hook_fd.c for libcurl's own pairs): a child the
 * program starts holds none of them.
 *
 * A request's head is parsed by http1.c; its body is read here, as the
 * connection gives it. */
#include "relay.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "endpoints.h"
#include "forklock.h"
#include "hubutil.h"
#include "log.h"
#include "netaddr.h"
#include "guest.h"
#include "rewrite.h"
#include "sse.h"
#include "expect.h"
#include "stream.h"
#include "verdict.h"

#define MAX_HEAD LLF_HTTP_MAX_HEAD
#define MAX_BODY ((size_t)256 << 20)
#define STREAM_ABOVE ((size_t)1 << 20)   /* a body passed through larger than this is not read first */
#define MAX_OTHERS 8   /* addresses tried after the program's own */
#define LINGER_MS 30000.0   /* a lingering close's bounds (nginx's lingering_time... */
#define LINGER_IDLE_S 5     /* ...and lingering_timeout): see linger */

static const llf_shim_services *svc;

/* ---- who may connect (see expect.h) ---------------------------------------- */

typedef llf_expectation expectation;

/* Descriptors: the relay spends up to four more on each connection it
 * serves (its end of it, the one upstream, and a new libcurl handle's
 * wake-up pair), so a program near its open-file limit (1,024 by default)
 * would have run out in the relay, its calls reset or hung, where alone it
 * had enough. A connection that could make it so goes straight to its
 * provider, as it would without us. Numbers are given lowest first, so
 * the program's new socket's is about how many are open; those announced
 * and not yet accepted will each need as many again. A quarter of the
 * limit is left to the program's own growth (a burst still being made). */
#define FDS_PER_CONN 4
#define FDS_SPARE 32   /* (the log, a handle's DNS and the like) */

/* Connections accepted and not yet ended: each may still have to make its
 * upstream connection and handle (counted twice when it has: a margin). */
static unsigned live_n;

int llf_relay_fds_short(long fd, unsigned held, unsigned live, long lim)
{
    return lim > 0 &&
           fd + (long)FDS_PER_CONN * ((long)held + 1) + (long)(FDS_PER_CONN - 1) * live + FDS_SPARE > lim - lim / 4;
}

int llf_relay_room(int fd)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur != RLIM_INFINITY &&
        llf_relay_fds_short(fd, llf_expect_held(), __atomic_load_n(&live_n, __ATOMIC_RELAXED), r.rlim_cur > LONG_MAX ? LONG_MAX : (long)r.rlim_cur)) {
        static int told;
        if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
            llf_warn("near the open-file limit (%ld); calls that would pass it go to their provider unmanaged",
                     (long)r.rlim_cur);
        return -1;
    }
    return 0;
}

int llf_relay_expect(int fd, const struct sockaddr *src, socklen_t srclen, const struct sockaddr *orig,
                     socklen_t len, int flags)
{
    /* (asked again: other threads' connections may have come since) */
    if (llf_relay_room(fd))
        return -1;
    return llf_expect_add(fd, src, srclen, orig, len, flags, llf_mono_ms());
}

void llf_relay_unexpect(const struct sockaddr *src)
{
    llf_expect_drop(src);
}

/* Was the connection fd, from peer, announced? Consumes the announcement.
 * One announced longer ago than its time (a burst of a thousand accepted
 * one by one, on a slow machine) is still the program's while the socket
 * it was announced for holds that source and is connected to us: no other
 * process can hold that address meanwhile. */
static int expected(int fd, const struct sockaddr_storage *peer, expectation *out)
{
    int found = llf_expect_take((const struct sockaddr *)peer, llf_mono_ms(), out);
    if (found != 2)
        return found;
    struct sockaddr_storage src, to, here;
    socklen_t sl = sizeof src, tl = sizeof to, hl = sizeof here;
    return getsockname(out->fd, (struct sockaddr *)&src, &sl) == 0 &&
           llf_same_addr((struct sockaddr *)&src, (const struct sockaddr *)peer) &&
           getpeername(out->fd, (struct sockaddr *)&to, &tl) == 0 &&   /* (our own thread: the kernel's) */
           getsockname(fd, (struct sockaddr *)&here, &hl) == 0 && llf_same_addr((struct sockaddr *)&to, (struct sockaddr *)&here);
}

/* ---- writing ------------------------------------------------------------- */

/* Every socket write of ours: MSG_NOSIGNAL, because a client that gave up
 * must not have the host killed by SIGPIPE (many set it back to default).
 * On a number own says we hold, only while it is still ours: the look and
 * each send are one step under the descriptor lock (see guest.h), else a
 * number ours at the look could be the next connection's by the send (seen
 * under load: about one first call in 40,000 after a program's
 * closerange). The send does not wait inside the lock;
 * room is waited for outside it, and the number looked at again. */
static int write_all(const llf_ownfd *own, const char *p, size_t n)
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

/* How a connection stands, for a process that would take it over (see
 * standing): between requests, in the middle of one, or a tunnel (never
 * taken over). */
typedef struct standing standing;
enum { IDLE, BUSY, TUNNEL };

typedef struct conn {
    struct conn *next;  /* waiting for a parked thread */
    struct conn *lnext, *lprev;   /* every connection the process holds (see live) */
    int fd;
    llf_ownfd own;      /* fd, as it was accepted (see guest.h) */
    llf_ownfd up;       /* a tunnel's connection upstream, or none */
    standing *st;       /* its entry in shared memory (see standing), or NULL */
    int st_mine;        /* ...given out by this process, which takes it back */
    int started;        /* past its first byte: one taken over resumes at its next request */
    expectation from;   /* where the program meant to go */
    char buf[MAX_HEAD + 1];
    size_t have;
    int http10;         /* the request being served is HTTP/1.0 */
    int ended;          /* reset, tunnelled or lingered: no lingering close (see linger) */
    int pumping;        /* a tunnel carrying its bytes (see drain_at_exit) */
    CURL *curl;
    const llf_curl_api *c;
    llf_engine *eng;
} conn;

static void stand(conn *k, int state);

/* The program's end of k, written or read only while its number is still
 * ours: a program that closes every descriptor (a daemon's start) while we
 * serve k frees the number, and its next socket, or the next relay's
 * connection, may take it; an answer written there went to another call
 * (seen: one call's body in front of the next one's head), and a read
 * there would take the program's own bytes. (A system call per look: the
 * relay's reads and writes are a few per call.) */
static int kwrite(conn *k, const char *p, size_t n)
{
    return write_all(&k->own, p, n);
}

/* A read from own's socket, as write_all writes: the look and the recv one
 * step under the descriptor lock, the wait for bytes outside it (a second
 * at a time: a number no longer ours may be a socket of the program's that
 * never has any), up to ms (-1: no limit; then -1 with EAGAIN). */
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

static ssize_t kread(conn *k, void *p, size_t n)
{
    return read_own(&k->own, p, n, -1);
}

static int fill(conn *k)
{
    if (k->have >= sizeof k->buf - 1)
        return -1;
    ssize_t n = kread(k, k->buf + k->have, sizeof k->buf - 1 - k->have);
    if (n <= 0)
        return -1;
    k->have += (size_t)n;
    return 0;
}

static void consume(conn *k, size_t n)
{
    memmove(k->buf, k->buf + n, k->have - n);
    k->have -= n;
}

static int read_exact(conn *k, llf_buf *out, size_t n)
{
    while (n) {
        if (!k->have && fill(k))
            return -1;
        size_t take = k->have < n ? k->have : n;
        if (llf_buf_add(out, k->buf, take))
            return -1;
        consume(k, take);
        n -= take;
    }
    return 0;
}

/* The next line, consumed whole however long (a long chunk extension or
 * trailer left behind would be read as the next request); line holds its
 * first max - 1 bytes. It ends at LF, a CR before it dropped, as the head's
 * lines do (RFC 9112 lets a recipient take a bare LF; waiting for a CRLF
 * that never comes would hang the program's call). */
static int read_line(conn *k, char *line, size_t max)
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
            consume(k, n + 1);
            return 0;
        }
        consume(k, n);
        if (fill(k))
            return -1;
    }
}

/* The request's head; its body is left to read_body, or to the transfer
 * that passes it through as it comes (on_read). */
static int read_request(conn *k, llf_http_req *r)
{
    long clen = 0, head;
    while ((head = llf_http_parse_head(k->buf, k->have, r, &clen)) == 0)
        if (fill(k))
            return k->have >= MAX_HEAD ? -2 : -1;   /* (a head too long to read: see not_http) */
    if (head < 0)
        return -2;   /* no request the relay reads: see not_http */
    if (r->upgrade && llf_buf_add(&r->head, k->buf, (size_t)head))
        return -1;
    consume(k, (size_t)head);
    return 0;   /* (its Expect is answered in serve_url) */
}

/* A chunk's size line; after the last (0), the trailers are read too. Its
 * first KiB is kept: room for a size with any sane run of leading zeros,
 * which RFC 9112 allows and servers read (an extension after it may be
 * cut there: it is not read). */
static int read_chunk_size(conn *k, unsigned long *n)
{
    char line[1024];
    if (read_line(k, line, sizeof line))
        return -1;
    if (llf_http_chunk_size(line, n) || (strlen(line) == sizeof line - 1 && !strchr(line, ';')))
        return -1;   /* (no size, or one that may go on past what was kept) */
    if (*n == 0)
        do   /* trailers, to the empty line that ends them (a read failing first: no end) */
            if (read_line(k, line, sizeof line))
                return -1;
        while (line[0]);
    return 0;
}

/* The body read whole when it is no longer than limit. A longer one is
 * left to be passed on as it comes (on_read): *rest is set, r->body holds
 * what was read of it (chunked: the chunks before the one that would pass
 * the limit, whose size line is read), *left the bytes still to come (of all,
 * or of that chunk). */
static int read_body(conn *k, llf_http_req *r, size_t limit, int *rest, long *left)
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
            if (read_chunk_size(k, &n))
                return -1;
            if (n == 0)
                break;
            if (r->body.n + n > limit) {
                *rest = 1;
                *left = (long)n;
                return 0;
            }
            if (read_exact(k, &r->body, n) || read_line(k, line, sizeof line) || line[0])
                return -1;   /* (a chunk's data is followed by its CRLF alone) */
        }
    }
    return 0;
}

/* ---- attempts through libcurl ---------------------------------------------- */

typedef struct rctx {
    conn *k;
    const char *method;
    const llf_req *orig;         /* the program's own request */
    const char *host;            /* the host its URL names, or NULL */
    const char *target;          /* its request target, as the program wrote it */
    int through;                 /* passed through (no call): sent with that target (see perform_at) */
    llf_resp *out;
    const llf_attempt *at;
    llf_attempt left;            /* at, with what is left of it for the next address */
    int got_byte;
    int original;                /* the attempt is the program's own request */
    int passing;                 /* its answer, over MAX_BODY, goes on as it comes (over_cap) */
    long block_status;
    int gated, first_ok, live;   /* a 2xx stream: held to its first event, then live */
    int pipe_broke;              /* its translation ended in the member's error (or garbage) */
    llf_sse sse;
    llf_gate *gate;              /* judging the held-back events */
    llf_stream_pipe *pipe;       /* translating a member's stream, or NULL */
    int keep_alive, http10;
    int close_asked;             /* the program's request ends its connection (see perform_at) */
    /* Pass-through (no recognised call): the head goes out once complete,
     * the body as it arrives, framed by `framing` (see write_head). */
    int up_length, up_chunked;   /* the upstream's framing of the current block */
    long up_clen;                /* ... its Content-Length; -1 when two differ */
    int sent;                    /* the head went out */
    long framing;
    double t0, next_look;        /* the attempt's start; when to look for the program next */
    double fb_t0;                /* whence the first byte is awaited: the upload's end */
    curl_off_t up_seen;          /* the upload's progress at the last look */
    int up_done;                 /* the request reached the server whole */
    long req_size;               /* bytes of the request sent (CURLINFO_REQUEST_SIZE) */
    int orig_sent;               /* the program's own request was performed */
    /* A body passed on as it comes (on_read), not read whole first: what
     * was read of it (in_pre, from in_off), bytes left (of all, or of the
     * current chunk), chunked, all read. */
    int in_stream, in_chunked, in_started, in_done;
    /* ...whose Expect: 100-continue went on to the server, whether the
     * program was told to continue (see go_on), and whether the server
     * answered 417 instead, which ends the transfer at its head, as a 101
     * does (see on_header) */
    int fwd_expect, continued, at_head;
    long in_left;
    const llf_buf *in_pre;
    size_t in_off;
} rctx;

/* write_head's framings besides a Content-Length (>= 0). */
enum { FRAME_CHUNKED = -1, FRAME_UPSTREAM = -2, FRAME_TO_CLOSE = -3 };

static int write_head(conn *k, const char *head, size_t headlen, const char *extra, long framing, int keep);

static int write_chunk(conn *k, const char *p, size_t n)
{
    char size[32];
    int m = snprintf(size, sizeof size, "%zx\r\n", n);
    return n == 0 ? 0 : kwrite(k, size, (size_t)m) || kwrite(k, p, n) || kwrite(k, "\r\n", 2);
}

/* Body bytes in a framing of write_head's: a chunk, or as they are. */
static int write_framed(conn *k, long framing, const char *p, size_t n)
{
    return framing == FRAME_CHUNKED ? write_chunk(k, p, n) : n ? kwrite(k, p, n) : 0;
}

/* The end of a chunked body: the last chunk, then the trailers the
 * upstream sent after its own (libcurl's lines, each with its CRLF). */
static int write_end(conn *k, const llf_buf *trailers)
{
    if (!trailers->n)
        return kwrite(k, "0\r\n\r\n", 5);
    llf_buf b = {0};   /* (one write: see pitfalls.md, Nagle) */
    int bad = llf_buf_adds(&b, "0\r\n") || llf_buf_add(&b, trailers->p, trailers->n) ||
              llf_buf_adds(&b, "\r\n") || kwrite(k, b.p, b.n);
    llf_buf_free(&b);
    return bad ? -1 : 0;
}

/* A passed-through body keeps the upstream's framing when it gave a length
 * (or has none: HEAD, 204, 304, whose Content-Length is passed as it was);
 * otherwise it is chunked, or runs to the close for an HTTP/1.0 client. */
static long pass_framing(const rctx *x)
{
    if (strcmp(x->method, "HEAD") == 0 || x->block_status == 204 || x->block_status == 304 ||
        (x->up_length && x->up_clen >= 0 && !x->up_chunked))
        return FRAME_UPSTREAM;
    return x->http10 ? FRAME_TO_CLOSE : FRAME_CHUNKED;
}

/* The program may send its body (its Expect: 100-continue). */
static int say_continue(conn *k)
{
    static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
    return kwrite(k, line, sizeof line - 1);
}

/* The program whose Expect: 100-continue went on to the server is told to
 * send its body once: when the server says 100, or when libcurl, done
 * waiting for that (CURLOPT_EXPECT_100_TIMEOUT_MS), asks for the body, so
 * that a program that waits for a 100 (Node's 'continue') is not left
 * waiting by a server that sends none. A server's final answer before
 * either goes to the program instead, and it sends no body. */
static int go_on(rctx *x)
{
    if (!x->fwd_expect || x->continued || x->sent)
        return 0;
    x->continued = 1;
    return say_continue(x->k);
}

/* Header lines as libcurl hands them: the head's, and after the body a
 * chunked answer's trailers (llf_head_take), kept apart to be written after
 * the last chunk (see write_end). */
static size_t on_header(char *p, size_t s, size_t n, void *ud)
{
    rctx *x = ud;
    size_t len = s * n;
    x->got_byte = 1;
    int trailer = llf_head_take(&x->out->head, &x->out->trailers, p, len);
    if (trailer || x->sent)
        return trailer < 0 ? 0 : len;
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        const char *sp = memchr(p, ' ', len);
        x->block_status = sp ? strtol(sp + 1, NULL, 10) : 0;
        x->up_length = x->up_chunked = 0;
    } else if (len > 18 && llf_header_is(p, "content-length")) {
        /* Two that differ (RFC 9112 §6.3: no framing to trust): the body
         * goes out framed by us, as libcurl read it, with neither line; as
         * they came, a client that took the other would read past it or
         * wait for bytes that never come. */
        const char *v = memchr(p, ':', len);
        long cl = v ? strtol(v + 1, NULL, 10) : -1;
        x->up_clen = x->up_length && cl != x->up_clen ? -1 : x->up_length ? x->up_clen : cl;
        x->up_length = 1;
    } else if (len > 18 && llf_header_is(p, "transfer-encoding")) {
        x->up_chunked = 1;
    }
    int blank = (len == 2 && p[0] == '\r') || (len == 1 && p[0] == '\n');
    if (blank && x->at && x->at->live && x->block_status >= 200 && x->block_status < 300)
        x->gated = 1;
    if (blank && !x->at && x->block_status == 100 && go_on(x))
        return 0;
    if (blank && !x->at && (x->block_status >= 200 || x->block_status == 101)) {
        /* An answer before the program's body is all read (a 401 or 413
         * after the head, as servers give) ends the connection, as the
         * server's would (RFC 9110 §10.1.1): the program is told so, and
         * what it still sends is read and dropped (see linger). */
        x->keep_alive &= !(x->in_stream && !x->in_done);
        x->framing = pass_framing(x);
        /* A 417 to the program's Expect is the program's, to send its body
         * again without one as it sees fit. libcurl would do it itself,
         * dropping the 417's body, and with the program's Expect, which is
         * ours to send, again: a server that keeps its connection got the
         * request thousands of times a second. The transfer stops at the
         * 417's head, which the program gets with no body. */
        int expect_failed = x->fwd_expect && !x->continued && x->block_status == 417;
        if (expect_failed)
            x->framing = 0;
        /* A 101 to a request that asked for no upgrade (an upgrade is
         * tunnelled, not performed: see upgrade_plain) is the last HTTP on
         * the connection, whose protocol libcurl cannot read: it waited
         * for another head until the server closed, and the program's
         * connection was reset. The program gets the 101 at once, and the
         * close that follows it. */
        if (x->block_status == 101) {
            x->framing = FRAME_UPSTREAM;
            x->keep_alive = 0;
        }
        x->at_head = expect_failed || x->block_status == 101;
        x->sent = 1;
        if (write_head(x->k, x->out->head.p, x->out->head.n, NULL, x->framing,
                       x->keep_alive && x->framing != FRAME_TO_CLOSE) ||
            x->at_head)
            return 0;
    }
    return len;
}

/* A stream's bytes framed for the client: chunked, or as they are for an
 * HTTP/1.0 client, which knows no chunks (its stream ends with the
 * connection). */
static long live_framing(const rctx *x)
{
    return x->http10 ? FRAME_TO_CLOSE : FRAME_CHUNKED;
}

static int live_write(rctx *x, const char *p, size_t n)
{
    return write_framed(x->k, live_framing(x), p, n);
}

/* Live bytes to the client: as they are, or translated into its dialect.
 * The provider's are watched, not changed, for its error event: too late
 * for a fallback, but the attempt failed for the log and the breaker. */
static int live_out(rctx *x, const char *p, size_t n)
{
    if (!x->out->late_problem)
        x->out->late_problem = llf_stream_watch(&x->sse, (llf_dialect)x->at->dialect, p, n);
    if (!x->pipe)
        return live_write(x, p, n);
    llf_buf t = {0};
    /* a member's error event ends the translation (and the connection), but
     * what came before it in this read is delivered first */
    int broke = llf_stream_pipe_feed(x->pipe, p, n, &t);
    int bad = live_write(x, t.p, t.n);
    llf_buf_free(&t);
    x->pipe_broke |= broke && !bad;
    return bad || broke ? -1 : 0;
}

static int gate_event(void *ud, const char *event, const char *data, size_t len)
{
    rctx *x = ud;
    const llf_verdict_cfg *vc = &x->k->eng->cfg->verdict;
    if (!x->gate && !(x->gate = llf_gate_new((llf_dialect)x->at->dialect, vc, vc->stream_refusal))) {
        x->out->stream_problem = "no_memory";
        return 1;
    }
    int d = llf_gate_event(x->gate, event, data, len);
    if (d < 0)
        x->out->stream_problem = llf_gate_problem(x->gate);
    x->first_ok = d > 0;
    return d != 0;
}

/* The head and what came so far, then live from here on. */
static int go_live(rctx *x)
{
    x->gated = 0;
    x->live = 1;
    x->out->delivered = 1;
    llf_sse_free(&x->sse);   /* from here on it watches (live_out), from the first byte */
    memset(&x->sse, 0, sizeof x->sse);
    if (x->at->translate_to >= 0 &&
        !(x->pipe = llf_stream_pipe_new(x->at->dialect, x->at->translate_to, x->at->model, x->at->usage_asked,
                                        x->at->tool_names))) {
        x->live = x->out->delivered = 0;   /* (nothing went: no answer, ours failed) */
        return -1;
    }
    int bad = write_head(x->k, x->out->head.p, x->out->head.n, x->at->live_extra, live_framing(x),
                         x->keep_alive && !x->http10) ||
              live_out(x, x->out->body.p, x->out->body.n);
    llf_buf_reset(&x->out->body);
    return bad ? -1 : 0;
}

/* The program closed its connection: it will read no answer, so the
 * attempt in flight stops and no member is asked for one. A client that only
 * shut its sending side (EOF with no request after it: nc -N does it) looks
 * the same from here and counts as gone too; the HTTP clients programs use
 * do not do that. */
static int client_gone(void *ud)
{
    int fd = ((rctx *)ud)->k->fd;
    struct pollfd p = {fd, POLLIN | POLLRDHUP, 0};
    char b;
    if (poll(&p, 1, 0) <= 0)
        return 0;
    return (p.revents & (POLLHUP | POLLERR)) ||
           ((p.revents & POLLRDHUP) && recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0);
}

/* An answer larger than we hold (MAX_BODY). The original's is the
 * program's, whole, as it would have been without us: from here on it is
 * passed through as it comes, in the upstream's framing (see pass_framing),
 * unjudged. A member's is stopped, and the next one tried. 0, or -1: stop. */
static int over_cap(rctx *x)
{
    x->out->too_large = 1;
    if (!x->original)
        return -1;
    x->gated = 0;
    x->passing = x->sent = 1;
    x->out->delivered = 1;
    x->framing = pass_framing(x);
    int bad = write_head(x->k, x->out->head.p, x->out->head.n, NULL, x->framing,
                         x->keep_alive && x->framing != FRAME_TO_CLOSE) ||
              write_framed(x->k, x->framing, x->out->body.p, x->out->body.n);
    llf_buf_reset(&x->out->body);
    return bad ? -1 : 0;
}

static size_t on_body(char *p, size_t s, size_t n, void *ud)
{
    rctx *x = ud;
    size_t len = s * n;
    if (!x->live && !x->sent && x->out->body.n + len > MAX_BODY && over_cap(x)) {
        x->out->client_gone = x->passing && client_gone(x);
        return 0;
    }
    if (x->live) {
        if (live_out(x, p, len) == 0)
            return len;
        /* (a write that failed because the program left says so, whichever
         * of the two noticed first) */
        x->out->client_gone = client_gone(x);
        return 0;
    }
    if (x->sent)
        return x->at_head ? len : write_framed(x->k, x->framing, p, len) ? 0 : len;
    if (llf_buf_add(&x->out->body, p, len))
        return 0;
    if (!x->gated)
        return len;
    if (llf_sse_feed(&x->sse, p, len, gate_event, x) < 0 || x->out->stream_problem)
        return 0;   /* not an answer: stop it, the next member is tried */
    if (!x->first_ok)
        return len;
    /* The gate says this is an answer: from here on it is the program's,
     * as it arrives. */
    if (go_live(x) == 0)
        return len;
    x->out->client_gone = client_gone(x);   /* (as for a live write, above) */
    return 0;
}

/* The program's body, as libcurl sends it on: from what the connection
 * has read already, then from the socket, to its Content-Length or its last
 * chunk (de-chunked: libcurl chunks it again). */
static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
    rctx *x = ud;
    conn *k = x->k;
    size_t want = size * nitems;
    /* (a body the program was not told to send: it had a final answer
     * instead, a 2xx, and libcurl wants to send it after all, see go_on) */
    if ((x->fwd_expect && !x->continued && x->sent) || go_on(x))
        return CURL_READFUNC_ABORT;
    if (x->in_pre && x->in_off < x->in_pre->n) {
        size_t take = x->in_pre->n - x->in_off < want ? x->in_pre->n - x->in_off : want;
        memcpy(buf, x->in_pre->p + x->in_off, take);
        x->in_off += take;
        return take;
    }
    if (x->in_chunked && x->in_left == 0 && !x->in_done) {
        char line[64];
        unsigned long n;
        /* (the CRLF that ends the chunk before, then the next one's size) */
        if ((x->in_started && (read_line(k, line, sizeof line) || line[0])) || read_chunk_size(k, &n))
            return CURL_READFUNC_ABORT;
        x->in_started = 1;
        if (n == 0) {
            x->in_done = 1;
            return 0;
        }
        x->in_left = (long)n;
    }
    if (x->in_left <= 0)
        return 0;
    if (!k->have && fill(k))
        return CURL_READFUNC_ABORT;
    size_t take = k->have < want ? k->have : want;
    take = (size_t)x->in_left < take ? (size_t)x->in_left : take;
    memcpy(buf, k->buf, take);
    consume(k, take);
    x->in_left -= (long)take;
    if (!x->in_chunked && x->in_left == 0)
        x->in_done = 1;
    return take;
}

/* Every time libcurl reports progress (on data, and at least once a
 * second): an attempt's own limits, as the libcurl hook keeps them (no first
 * byte, or a stream's first event, in time), and whether the program is
 * still there. A program that left reads no answer: the attempt stops, and
 * no generation nobody will read goes on being paid for; a call passed
 * through (no attempt) stops too, or an idle stream or long poll would hold
 * this thread and its upstream connection until the server closed it.
 * Looked at ten times a second at most (a poll() each). */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    rctx *x = ud;
    double now = llf_mono_ms(), ms = now - x->t0;
    /* The first byte is awaited from the end of the upload, as the libcurl
     * hook awaits it (llf_upload_done): a large body a provider reads
     * slowly is no silence of its. */
    if (!x->up_done && un > 0) {
        x->up_done = llf_upload_done(llf_curl_last_socket, ut, un, x->up_seen);
        x->up_seen = un;
        x->fb_t0 = now;
    }
    if (x->at && !x->got_byte && x->at->first_byte_ms > 0 && now - x->fb_t0 > (double)x->at->first_byte_ms) {
        x->out->first_byte_timeout = 1;
        return 1;
    }
    /* (met by the answer's first event, not by framing alone, nor before
     * the head) */
    int no_event = x->gated ? !(x->gate && llf_gate_started(x->gate)) : x->at && x->at->live && !x->got_byte;
    if (x->at && no_event && x->at->first_token_ms > 0 && ms > (double)x->at->first_token_ms) {
        x->out->first_token_timeout = 1;
        return 1;
    }
    if (ms >= x->next_look) {
        x->next_look = ms + 100;
        if (client_gone(x)) {
            x->out->client_gone = 1;
            return 1;
        }
    }
    return 0;
}

/* A request header for libcurl, which takes "Name:" for "remove Name":
 * one with an empty value goes as "Name;", its spelling for that. */
static struct curl_slist *add_header(const llf_curl_api *c, struct curl_slist *hl, const char *line)
{
    const char *colon = strchr(line, ':');
    if (!colon || colon[1 + strspn(colon + 1, " \t")])
        return c->slist_append(hl, line);
    char *empty = llf_strndup(line, (size_t)(colon - line) + 1);
    if (!empty)
        return hl;
    empty[colon - line] = ';';
    hl = c->slist_append(hl, empty);
    free(empty);
    return hl;
}

/* ---- where the program's own request goes ------------------------------------ */

static socklen_t addr_len(const struct sockaddr_storage *a)
{
    return a->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* An address as a URL authority ("[::1]:443"). */
static int authority(const struct sockaddr_storage *a, char *out, size_t n)
{
    char ip[INET6_ADDRSTRLEN];
    const struct sockaddr_in *v4 = (const void *)a;
    const struct sockaddr_in6 *v6 = (const void *)a;
    int six = a->ss_family == AF_INET6;
    if ((a->ss_family != AF_INET && !six) ||
        !inet_ntop(a->ss_family, six ? (const void *)&v6->sin6_addr : (const void *)&v4->sin_addr, ip, sizeof ip))
        return -1;
    int m = snprintf(out, n, six ? "[%s]:%u" : "%s:%u", ip, ntohs(six ? v6->sin6_port : v4->sin_port));
    return m > 0 && (size_t)m < n ? 0 : -1;
}

/* CURLOPT_CONNECT_TO for the program's own request: any host and port in
 * its URL, connected at address a. None for the placeholder of a name that
 * did not resolve: nothing listens there, and libcurl's own lookup is the
 * better try. */
static int connect_to_line(const struct sockaddr_storage *a, char *out, size_t n)
{
    const struct sockaddr_in *v4 = (const void *)a;
    if (a->ss_family == AF_INET && v4->sin_addr.s_addr == htonl(LLF_PLACEHOLDER_ADDR))
        return -1;
    char at[INET6_ADDRSTRLEN + 8];
    return authority(a, at, sizeof at) == 0 && snprintf(out, n, "::%s", at) < (int)n ? 0 : -1;
}

/* The address the program bound k's socket to, or NULL: none of its
 * choosing. */
static const struct sockaddr_storage *chosen_src(const conn *k)
{
    return k->from.own_src ? &k->from.src : NULL;
}

/* Binds fd, about to connect to dst, to the address of src (the
 * program's socket's, when it chose one), its port left to the connect as
 * for the program's own socket: 0, or -1 not (src cannot reach dst, see
 * llf_addr_source; or the bind failed), the system's choice then. */
static int bind_source(int fd, const struct sockaddr_storage *src, const struct sockaddr *dst)
{
    struct sockaddr_storage me;
    socklen_t ml = sizeof me;
    int one = 1;
    if (llf_addr_source(src, dst, &me, &ml))
        return -1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    return bind(fd, (struct sockaddr *)&me, ml) ? -1 : 0;
}

/* CURLOPT_OPENSOCKETFUNCTION of the relay's handles: the socket leaves
 * from the program's address, clientp, if it chose one (see leave_from). */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    curl_socket_t fd = llf_curl_socket(NULL, purpose, a);
    if (fd != CURL_SOCKET_BAD && clientp)
        bind_source(fd, clientp, &a->addr);
    return fd;
}

/* Where the relay's connections for k, on h, leave from: the address the
 * program bound its socket to, as the program's own would have (a host
 * with more than one address, whose provider or firewall knows it by one),
 * unless that cannot reach the address libcurl connects to (see
 * bind_source). Bound as each socket is made, where its destination is
 * known (as CURLOPT_INTERFACE, it bound a member of the other family too,
 * which then could not be reached). libcurl cannot tell such a connection
 * from another, so a pooled handle serves calls from one source only (see
 * pick_up), and a program that binds its sockets keeps its connections to
 * the providers as any other does. */
static void leave_from(conn *k, CURL *h)
{
    const llf_curl_api *c = k->c;
    c->easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    c->easy_setopt(h, CURLOPT_OPENSOCKETDATA, (void *)chosen_src(k));
}

/* Do the relay's connections for a and b (chosen_src's: NULL, none)
 * leave from one address? */
static int same_source(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    return a && b ? llf_same_host((const struct sockaddr *)a, (const struct sockaddr *)b) : a == b;
}

/* Where the program would have gone had the address it connected to
 * refused: the others of its lookup of the name (of host's, when the
 * request names one), at most MAX_OTHERS. */
static size_t others(conn *k, const char *host, struct sockaddr_storage *out)
{
    return llf_targets_others((struct sockaddr *)&k->from.orig, host, out, MAX_OTHERS);
}

/* One attempt; the program's own request connected at connect_to
 * (CURLOPT_CONNECT_TO's form), or NULL. */
static void perform_at(rctx *x, const llf_req *req, const llf_attempt *at, llf_resp *out, const char *connect_to)
{
    const llf_curl_api *c = x->k->c;
    CURL *h = x->k->curl;
    memset(out, 0, sizeof *out);
    x->out = out;
    x->at = at;
    x->gated = x->first_ok = x->live = x->sent = x->got_byte = x->pipe_broke = 0;
    x->block_status = 0;
    x->t0 = x->fb_t0 = llf_mono_ms();
    x->up_seen = 0;
    x->up_done = 0;
    x->next_look = 100;
    x->orig_sent |= req == x->orig;
    x->original = req == x->orig;
    x->passing = 0;
    memset(&x->sse, 0, sizeof x->sse);
    x->pipe = NULL;
    x->gate = NULL;
    /* (the fields a Connection header names go on, unlike a proxy's
     * (RFC 9110 §7.6.1): the program's next hop, as it sees it, is the
     * server, and they were meant for it; the framing and connection
     * fields alone are libcurl's to write) */
    struct curl_slist *hl = NULL;
    for (size_t i = 0; i < req->headers.n; i++)
        if (!llf_header_hop(req->headers.v[i]))
            hl = add_header(c, hl, req->headers.v[i]);
    /* (the program's own Expect goes on with the body it holds back, see
     * go_on; libcurl's own, for a large or chunked body, is not sent) */
    hl = c->slist_append(hl, x->fwd_expect && req == x->orig ? "Expect: 100-continue" : "Expect:");
    /* The program's own request, when it ends the program's connection
     * (Connection: close, or HTTP/1.0), ends the upstream one too, or a
     * server that serves one connection at a time (Python's http.server)
     * waits on the one libcurl would keep, and the program's next request,
     * on another connection (another Host, another serving thread's
     * handle), on it: it says so as the program did (HTTP/1.0's unsaid
     * close said), and libcurl does not keep that connection. A member's
     * connection is ours, not the program's: kept for the next fallback. */
    int closing = x->close_asked && req == x->orig;
    const char *said = NULL;
    for (size_t i = 0; closing && !said && i < req->headers.n; i++)
        if (llf_header_is(req->headers.v[i], "connection") && strcasestr(req->headers.v[i], "close"))
            said = req->headers.v[i];
    if (closing)
        hl = c->slist_append(hl, said ? said : "Connection: close");
    if (x->in_stream && x->in_chunked)
        hl = c->slist_append(hl, "Transfer-Encoding: chunked");
    /* Nor libcurl's defaults the program did not send. */
    if (!llf_headers_get(&req->headers, "accept", NULL))
        hl = c->slist_append(hl, "Accept:");
    if (!llf_headers_get(&req->headers, "content-type", NULL))
        hl = c->slist_append(hl, "Content-Type:");
    c->easy_reset(h);
    /* (close-on-exec; closed only while the number is still ours: guest.h) */
    leave_from(x->k, h);
    c->easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, llf_curl_close);
    /* A request passed through goes with its target as the program wrote
     * it (see llf_http_req_as_is); where libcurl has no such option (before
     * 7.55), with the URL. */
    llf_buf root = {0};
    const char *as_is = NULL;
    if (!(x->through && req == x->orig && x->target && llf_http_req_as_is(x->target, req->url, &root, &as_is) == 0 &&
          c->easy_setopt(h, CURLOPT_REQUEST_TARGET, as_is) == CURLE_OK))
        as_is = NULL;
    c->easy_setopt(h, CURLOPT_URL, as_is ? root.p : req->url);
    llf_buf_free(&root);   /* (libcurl keeps copies of both) */
    c->easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);   /* ("/a/../b" is the server's to read) */
    if (closing)
        c->easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    c->easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    /* The program's own request goes where the program connected, its URL
     * (Host, SNI, certificate name) unchanged; members go to their own URLs. */
    struct curl_slist *to = connect_to ? c->slist_append(NULL, connect_to) : NULL;
    c->easy_setopt(h, CURLOPT_CONNECT_TO, to);
    /* A body goes when the program framed one, whatever the method (a GET
     * may carry one); none is made up for a DELETE that had none. A HEAD
     * goes without: libcurl sends none with NOBODY, and without NOBODY it
     * would wait for an answer's body that never comes. */
    int framed = x->in_stream || req->body.n || llf_headers_get(&req->headers, "content-length", NULL) ||
                 llf_headers_get(&req->headers, "transfer-encoding", NULL);
    if (strcmp(x->method, "HEAD") == 0) {
        c->easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (!framed) {
        c->easy_setopt(h, CURLOPT_HTTPGET, 1L);
        if (strcmp(x->method, "GET") != 0)
            c->easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
    } else {
        if (x->in_stream) {
            /* (a new connection: a reused one the provider had closed would
             * need the body sent again, and it is gone) */
            c->easy_setopt(h, CURLOPT_POST, 1L);
            c->easy_setopt(h, CURLOPT_READFUNCTION, on_read);
            c->easy_setopt(h, CURLOPT_READDATA, x);
            c->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(x->in_chunked ? -1 : x->in_left + (long)x->in_pre->n));
            c->easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        } else {
            c->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.n);
            c->easy_setopt(h, CURLOPT_POSTFIELDS, req->body.p ? req->body.p : "");
        }
        if (strcmp(x->method, "POST") != 0)
            c->easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
    }
    c->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    c->easy_setopt(h, CURLOPT_HEADERDATA, x);
    c->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    c->easy_setopt(h, CURLOPT_WRITEDATA, x);
    c->easy_setopt(h, CURLOPT_ERRORBUFFER, out->errmsg);
    c->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    /* The program's connection was direct (that is what was redirected):
     * no proxy from the environment may see the call or its key. */
    c->easy_setopt(h, CURLOPT_PROXY, "");
    c->easy_setopt(h, CURLOPT_TIMEOUT_MS, at ? at->total_ms : 0L);
    c->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, at ? at->connect_ms : 0L);
    const char *ca = llf_ca_bundle(x->k->eng->cfg);
    if (ca)
        c->easy_setopt(h, CURLOPT_CAINFO, ca);
    /* (the program's own request over its TLS: verified with its trust) */
    void *trust = x->original && x->k->from.tls && svc && svc->tls_trust
                      ? svc->tls_trust(c, h, (struct sockaddr *)&x->k->from.src)
                      : NULL;
    c->easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    c->easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    c->easy_setopt(h, CURLOPT_XFERINFODATA, x);
    llf_curl_last_socket = -1;
    out->curlcode = c->easy_perform(h);
    c->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    c->easy_getinfo(h, CURLINFO_HTTP_VERSION, &out->http_version);
    x->req_size = 0;
    c->easy_getinfo(h, CURLINFO_REQUEST_SIZE, &x->req_size);
    c->easy_setopt(h, CURLOPT_HTTPHEADER, (void *)NULL);
    c->easy_setopt(h, CURLOPT_CONNECT_TO, (void *)NULL);
    c->slist_free_all(hl);
    c->slist_free_all(to);
    if (trust)
        svc->tls_trust_done(trust);
    if (x->gated && out->curlcode == CURLE_OK) {
        /* Held to the end (verdict.stream_refusal): the whole decides. */
        if (!x->gate || llf_gate_end(x->gate) < 0)
            out->stream_problem = x->gate ? llf_gate_problem(x->gate) : "empty_stream";
        else if (go_live(x)) {
            out->curlcode = CURLE_WRITE_ERROR;
            out->client_gone = client_gone(x);
        }
    }
    llf_sse_free(&x->sse);
    llf_gate_free(x->gate);
    x->gate = NULL;
    if (x->pipe) {
        /* A complete translated stream gets its dialect's ending; one the
         * member cut short (no terminator) breaks the connection, and so
         * does one that ended in the member's error: a broken transfer
         * (not our write's failure, "local", which reads as the program's
         * refusal of the rest, an answer all the same). */
        llf_buf t = {0};
        if (x->pipe_broke && out->curlcode == CURLE_WRITE_ERROR && !out->client_gone) {
            out->curlcode = CURLE_PARTIAL_FILE;
            snprintf(out->errmsg, sizeof out->errmsg, "the answering provider's stream ended in an error");
        } else if (out->curlcode == CURLE_OK && llf_stream_pipe_end(x->pipe, &t))
            out->curlcode = CURLE_PARTIAL_FILE;
        else if (out->curlcode == CURLE_OK)
            live_write(x, t.p, t.n);
        llf_buf_free(&t);
        llf_stream_pipe_free(x->pipe);
        x->pipe = NULL;
    }
}

/* Was no connection made (refused, no route, no such address: what ends
 * a connect at once)? Then nothing of the request went, and it may go
 * elsewhere. Not a connect that ran out of time: the limit is the
 * attempt's, and it is spent. */
static int refused(const rctx *x, const llf_resp *out)
{
    return !x->got_byte && !out->client_gone && out->curlcode == CURLE_COULDNT_CONNECT;
}

/* Was the connection made (not refused, nor timed out connecting)? */
static int connected(const rctx *x, const llf_resp *out)
{
    return !refused(x, out) && !(out->curlcode == CURLE_OPERATION_TIMEDOUT && x->req_size == 0);
}

/* What is left of limit (0: none), ms after it began; 0 when nothing is. */
static long left_of(long limit, double spent, int *none)
{
    long left = limit - (long)spent;
    if (limit > 0 && left <= 0)
        *none = 1;
    return limit > 0 ? left : 0;
}

/* How one try at an address ended (see reach). */
enum { REACHED, REFUSED, FAILED };

/* One try at address a, within left ms of the connect limit (0: none),
 * spent ms after the first try began: REACHED (connected, whatever came
 * after), REFUSED (nothing went: the next address may be tried), or
 * FAILED (timed out connecting, or what went cannot go again). */
typedef int (*reach_try)(void *ud, const struct sockaddr_storage *a, long left, double spent);

/* Where the program meant to go (k->from.orig), and when that refuses,
 * the other addresses its resolver gave for the name, in order (see
 * others), as the program would have gone on without us: its connect()
 * reached the relay, so it cannot. Each next address only after a
 * refusal, and all of them within one connect limit (a blackholed address
 * spends it, and the chain answers; the next address gets only what a
 * refusal left). The address reached is the connection's from then on.
 * 0: reached; -1: not. */
static int reach(conn *k, const char *host, long limit, reach_try fn, void *ud)
{
    struct sockaddr_storage alt[MAX_OTHERS + 1];
    alt[0] = k->from.orig;
    size_t n = 1;
    double t0 = llf_mono_ms();
    for (size_t i = 0; i < n; i++) {
        int none = 0;
        double spent = llf_mono_ms() - t0;
        long left = left_of(limit, spent, &none);
        if (none)
            return -1;
        int got = fn(ud, &alt[i], left, spent);
        if (got == REACHED) {
            k->from.orig = alt[i];
            return 0;
        }
        if (got == FAILED)
            return -1;
        if (i == 0)
            n += others(k, host, alt + 1);
    }
    return -1;
}

/* relay_perform's try: the program's own request, connected at a. */
typedef struct perform_try {
    rctx *x;
    const llf_req *req;
    const llf_attempt *at;
    llf_resp *out;
    int tried;
} perform_try;

static int perform_to(void *ud, const struct sockaddr_storage *a, long left, double spent)
{
    perform_try *p = ud;
    rctx *x = p->x;
    char to[INET6_ADDRSTRLEN + 10];
    if (connect_to_line(a, to, sizeof to))
        return REFUSED;   /* (a placeholder: nothing listens there) */
    const llf_attempt *at = p->at;
    if (p->tried && at) {
        /* the attempt's own limits, less what the refusals spent */
        int none = 0;
        x->left = *at;
        x->left.connect_ms = left;
        x->left.total_ms = left_of(at->total_ms, spent, &none);
        if (none)
            return FAILED;
        at = &x->left;
    }
    if (p->tried)
        llf_resp_free(p->out);
    p->tried = 1;
    perform_at(x, p->req, at, p->out, to);
    return refused(x, p->out) ? REFUSED : connected(x, p->out) ? REACHED : FAILED;
}

/* The program's own request goes where the program connected, and when
 * that refuses, to the next addresses of its name (see reach): all of
 * them are one attempt, within its limits. Members go to their own URLs. */
static int relay_perform(void *ud, const llf_req *req, const llf_attempt *at, llf_resp *out)
{
    rctx *x = ud;
    char to[INET6_ADDRSTRLEN + 10];
    if (req != x->orig || connect_to_line(&x->k->from.orig, to, sizeof to)) {
        perform_at(x, req, at, out, NULL);
        return 0;
    }
    perform_try p = {x, req, at, out, 0};
    reach(x->k, x->host, at ? at->connect_ms : 0, perform_to, &p);
    return 0;
}

/* ---- responses ------------------------------------------------------------- */

/* The last header block of head, re-framed for our connection: its status
 * line and headers (less hop-by-hop ones), extra lines, and our framing:
 * a Content-Length of `framing` bytes, chunked, the upstream's own
 * Content-Length line if it had one, or none (the body ends at the close). */
/* The line of a head that starts at l: where its LF is (NULL: none before
 * end) and, in *len, its length without CRLF, or the bare LF some servers
 * end lines with (libcurl takes them, and so do clients). */
static const char *head_line(const char *l, const char *end, size_t *len)
{
    const char *lf = memchr(l, '\n', (size_t)(end - l));
    if (lf)
        *len = (size_t)(lf - l) - (lf > l && lf[-1] == '\r');
    return lf;
}

static int write_head(conn *k, const char *head, size_t headlen, const char *extra, long framing, int keep)
{
    const char *end = head + headlen;
    const char *last = head ? llf_head_last_block(head, headlen) : NULL;
    size_t n = 0;
    const char *lf = head ? head_line(last, end, &n) : NULL;
    if (!lf)
        return -1;
    llf_buf out = {0};
    /* Whatever HTTP version the provider spoke, our client speaks 1.1. */
    const char *sp = memchr(last, ' ', n);
    int bad = llf_buf_adds(&out, "HTTP/1.1") || llf_buf_add(&out, sp ? sp : " 502", sp ? (size_t)(last + n - sp) : 4) ||
              llf_buf_adds(&out, "\r\n");
    int kept = 0;
    for (const char *l = lf + 1; !bad && l < end; l = lf + 1) {
        if (!(lf = head_line(l, end, &n)) || n == 0)
            break;
        /* A line folded onto the one before (obs-fold) goes where that one
         * goes, joined to it by a space (RFC 9112 §5.2): on a line of its
         * own after a header left out, it would continue another. */
        if (*l == ' ' || *l == '\t') {
            size_t w = strspn(l, " \t");
            if (kept && w < n) {
                out.n -= 2;
                bad = llf_buf_adds(&out, " ") || llf_buf_add(&out, l + w, n - w) || llf_buf_adds(&out, "\r\n");
            }
            continue;
        }
        /* White space before the colon is taken out (§5.1: a proxy must),
         * and such a line is read by its name: "Content-Length : 5" went on
         * beside the framing libcurl read, which did not take it. */
        const char *colon = memchr(l, ':', n);
        size_t nl = colon ? (size_t)(colon - l) : n;
        while (colon && nl && (l[nl - 1] == ' ' || l[nl - 1] == '\t'))
            nl--;
        int spaced = colon && l + nl != colon;
        char name[64];
        snprintf(name, sizeof name, "%.*s%s", (int)(nl < 62 ? nl : 62), l, colon ? ":" : "");
        /* (Trailer announces fields after the last chunk: a body we frame
         * otherwise ends without them, see respond) */
        kept = (!llf_header_hop(name) ||
                (framing == FRAME_UPSTREAM && !spaced && llf_header_is(name, "content-length"))) &&
               (framing == FRAME_CHUNKED || framing == FRAME_UPSTREAM || !llf_header_is(name, "trailer"));
        if (kept)
            bad = llf_buf_add(&out, l, nl) ||
                  llf_buf_add(&out, colon ? colon : l + n, colon ? (size_t)(l + n - colon) : 0) ||
                  llf_buf_adds(&out, "\r\n");
    }
    if (!bad && extra)
        bad = llf_buf_adds(&out, extra);
    if (!bad && framing == FRAME_CHUNKED)
        bad = llf_buf_adds(&out, "Transfer-Encoding: chunked\r\n");
    else if (!bad && framing >= 0)
        bad = llf_buf_printf(&out, "Content-Length: %ld\r\n", framing);
    /* (an HTTP/1.0 client closes unless told the connection is kept) */
    if (!bad)
        bad = llf_buf_printf(&out, "%s\r\n", !keep       ? "Connection: close\r\n"
                                             : k->http10 ? "Connection: keep-alive\r\n"
                                                         : "");
    int rc = bad ? -1 : kwrite(k, out.p, out.n);
    llf_buf_free(&out);
    return rc;
}

/* An answer read whole, with a Content-Length, or, when it came with
 * trailers (trailers: the provider's own answer's, NULL for a head of ours),
 * chunked as it came, its trailers after the last chunk: they are part of
 * what the provider sent (a checksum, a status), and "exactly as sent" wins
 * over one framing for all. An HTTP/1.0 client knows no chunks, hence no
 * trailers: it gets a Content-Length, and no Trailer header announcing what
 * never comes (write_head drops it, as for every body framed by length). */
static int respond(conn *k, const char *head, size_t headlen, const llf_buf *body, const llf_buf *trailers,
                   int keep)
{
    if (trailers && trailers->n && !k->http10)
        return write_head(k, head, headlen, NULL, FRAME_CHUNKED, keep) || write_chunk(k, body->p, body->n) ||
                       write_end(k, trailers)
                   ? -1
                   : 0;
    if (write_head(k, head, headlen, NULL, (long)body->n, keep))
        return -1;
    return kwrite(k, body->p ? body->p : "", body->n);
}

/* A transport failure cannot be replayed once our connect() succeeded: the
 * closest the program can see is the connection reset. It is sent now, by a
 * disconnect: a close would send it only if no forked child held a copy of
 * our end. */
static void reset(conn *k)
{
    struct sockaddr none = {.sa_family = AF_UNSPEC};
    k->ended = 1;
    llf_fd_hold();
    if (llf_fd_ours(&k->own))
        svc->real_connect(k->fd, &none, sizeof none);
    llf_fd_release();
}

/* Does the program have bytes on its way to us, unread? */
static int unread(conn *k)
{
    struct pollfd p = {k->fd, POLLIN, 0};
    return k->have || (llf_fd_ours(&k->own) && poll(&p, 1, 0) > 0);
}

/* The end of a connection the program may still be sending on, after an
 * answer (one before its body's end, a 431 to a head too long): a close
 * with bytes unread makes the kernel send a reset, and a reset discards the
 * answer the program has not read yet. So, as a server's lingering close
 * (RFC 9112 §9.6): our side is shut first (the answer, then its end), and
 * what the program sends is read and dropped until it closes, each read
 * within LINGER_IDLE_S and all within LINGER_MS; then conn_end closes. */
static void linger(conn *k)
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

/* Before any reply: a provider that closed without one is shown as it was,
 * a clean close; anything else as a reset. */
static void fail_before_reply(conn *k, int curlcode)
{
    if (curlcode != CURLE_GOT_NOTHING)
        reset(k);
}

static const char *host_of(const llf_http_req *r)
{
    size_t n;
    const char *h = llf_headers_get(&r->headers, "host", &n);
    static __thread char host[256];
    if (!h || n >= sizeof host)
        return NULL;
    memcpy(host, h, n);
    host[n] = '\0';
    return host;
}

/* The program's request performed once and relayed as it comes (see
 * on_header): a call not ours to judge. */
static int pass_through(rctx *x, const llf_req *orig)
{
    llf_resp resp;
    x->orig = orig;
    x->through = 1;
    relay_perform(x, orig, NULL, &resp);
    int rc = -1;
    if (!x->sent)
        fail_before_reply(x->k, resp.curlcode);
    else if (resp.curlcode != CURLE_OK && !x->at_head)
        reset(x->k);   /* broken within the body, as upstream's was (not a 417 or 101, stopped at its head: on_header) */
    else if (x->framing != FRAME_CHUNKED || write_end(x->k, &resp.trailers) == 0)
        rc = x->framing == FRAME_TO_CLOSE || !x->keep_alive ? -1 : 0;   /* (an answer before the body's end said close: on_header) */
    if (rc && x->sent && x->in_stream && !x->in_done)
        linger(x->k);   /* (what is still on its way, or still to be sent) */
    llf_resp_free(&resp);
    return rc;
}

/* ---- byte tunnels ----------------------------------------------------------- */

/* A blocking connection to a, made within ms (0: no limit of ours), owned
 * in *own as it is made (see guest.h), from the address the program bound
 * its socket to, from (NULL: none; see leave_from), or -1 with *timed_out
 * set when the time ran out. */
static int dial(const struct sockaddr_storage *a, long ms, int *timed_out, llf_ownfd *own,
                const struct sockaddr_storage *from)
{
    llf_fd_hold();
    int up = socket(a->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (up >= 0 && from)
        bind_source(up, from, (const struct sockaddr *)a);
    int err = up < 0 || llf_fd_own(own, up) ? -1 : svc->real_connect(up, (const struct sockaddr *)a, addr_len(a));
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
 * address its program chose if any (see leave_from). */
static int dial_to(void *ud, const struct sockaddr_storage *a, long left, double spent)
{
    conn *k = ud;
    int timed_out = 0;
    return dial(a, left, &timed_out, &k->up, chosen_src(k)) >= 0 ? REACHED : timed_out ? FAILED : REFUSED;
}

/* A connection to where the program meant to go (or, as for a request,
 * the next address of its name when that refuses: see reach), or -1.
 * host: the one the request names, or NULL. Kept in k->up (a child forked
 * meanwhile closes its copy: see pool_child) until hang_up. */
static int dial_orig(conn *k, const char *host)
{
    if (reach(k, host, k->eng->cfg->connect_ms, dial_to, k))
        return -1;
    int one = 1;
    setsockopt(k->up.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   /* (harmless on a socket not ours) */
    stand(k, TUNNEL);
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
 * descriptor is used only while its number is still ours (see kwrite):
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
            __atomic_store_n(&k->pumping, 2, __ATOMIC_RELEASE);   /* (bytes in hand: see drain_at_exit) */
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
            if (n < 0 || (n > 0 && write_all(own[1 - i], buf, (size_t)n)))
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
static void tunnel(conn *k)
{
    int up = dial_orig(k, NULL);
    if (up < 0) {
        reset(k);
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
static int upgrade_plain(conn *k, const llf_http_req *r, const char *host)
{
    int up = dial_orig(k, host);
    k->ended = 1;   /* (a tunnel ends as its server ended it) */
    if (up < 0 || write_all(&k->up, r->head.p, r->head.n) || write_all(&k->up, k->buf, k->have))
        reset(k);
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
static void not_http(conn *k)
{
    static const char big[] = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
                              "Connection: close\r\n\r\n";
    static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    if (k->from.tls) {
        if (k->have >= MAX_HEAD)
            kwrite(k, big, sizeof big - 1);
        else
            kwrite(k, bad, sizeof bad - 1);
        return;
    }
    llf_http_req none = {0};
    upgrade_plain(k, &none, NULL);
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
            if (rc != CURLE_OK || (n && kwrite(k, buf, n)))
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
            ssize_t n = kread(k, buf, sizeof buf);
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

/* upgrade_tls's try: its connect-only handle's connection made at a (or
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
    struct curl_slist *to = connect_to_line(a, line, sizeof line) ? NULL : c->slist_append(NULL, line);
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

/* upgrade_plain() for a virtual TLS session: the relay speaks TLS to the
 * server itself, as for its transfers (HTTP/1.1 offered, the certificate
 * verified as the program would, no proxy), on a connect-only handle of
 * its own that closes the connection when it is freed. */
static int upgrade_tls(conn *k, const llf_http_req *r, const char *url, const char *host)
{
    const llf_curl_api *c = k->c;
    stand(k, TUNNEL);
    k->ended = 1;   /* (as upgrade_plain's) */
    CURL *h = c->easy_send && c->easy_recv ? c->easy_init() : NULL;
    void *trust = NULL;   /* (the program's, as for its requests) */
    curl_socket_t s = CURL_SOCKET_BAD;
    if (h) {
        leave_from(k, h);
        c->easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, llf_curl_close);
        c->easy_setopt(h, CURLOPT_URL, url);
        c->easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
        c->easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        c->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        c->easy_setopt(h, CURLOPT_PROXY, "");
        const char *ca = llf_ca_bundle(k->eng->cfg);
        if (ca)
            c->easy_setopt(h, CURLOPT_CAINFO, ca);
        trust = svc && svc->tls_trust ? svc->tls_trust(c, h, (struct sockaddr *)&k->from.src) : NULL;
        connect_try t = {c, h, &s};
        reach(k, host, k->eng->cfg->connect_ms, connect_at, &t);
    }
    if (s == CURL_SOCKET_BAD || curl_send_all(c, h, s, r->head.p, r->head.n) ||
        curl_send_all(c, h, s, k->buf, k->have))
        reset(k);
    else
        pump_curl(k, c, h, s);
    if (h)
        c->easy_cleanup(h);
    if (trust)
        svc->tls_trust_done(trust);
    return -1;
}

/* One request for url: through the engine when it is an LLM call, else
 * passed through. */
static int serve_url(conn *k, llf_http_req *r, char *url)
{
    if (k->from.tls && strncmp(url, "https://", 8) != 0) {
        reset(k);   /* (never: see llf_http_req_url; a TLS session's bytes never go in the clear) */
        return -1;
    }
    llf_req orig = {url, r->headers, r->body, 0, 0, {0}};
    /* A call is a provider's only when it went to that provider: the host
     * its URL names (Host, or an absolute target) must be where the program
     * connected. Else its key could follow the name to another server (a
     * member of the same provider keeps the program's credentials): the
     * request passes through, to where the program connected, as it is. */
    char host[256];
    llf_urlparts u;
    int named = 0;
    host[0] = '\0';
    if (llf_url_split(url, &u) == 0) {
        snprintf(host, sizeof host, "%s", u.host);
        named = llf_targets_names(u.host, u.port, (struct sockaddr *)&k->from.orig);
        llf_urlparts_free(&u);
    }
    rctx x = {.k = k, .method = r->method, .keep_alive = r->keep_alive, .close_asked = !r->keep_alive,
              .http10 = r->http10, .orig = &orig, .host = host[0] ? host : NULL, .target = r->target};
    /* Only a POST to a model endpoint can be a call: its body is read whole
     * up to what an answer may be (MAX_BODY; no call is larger). Any other
     * body is read whole only when small; a larger one (an upload to a files
     * endpoint may be larger than an answer) is passed on as it comes, on a
     * new upstream connection (a kept one the provider closed meanwhile
     * would need it sent again, and it is gone). */
    llf_match m = {0};
    int may_call = named && strcmp(r->method, "POST") == 0 && llf_endpoint_match(k->eng->cfg, url, &m);
    llf_match_free(&m);   /* (only whether it matched: the engine matches again) */
    if (r->upgrade && !may_call)
        return k->from.tls ? upgrade_tls(k, r, url, x.host) : upgrade_plain(k, r, x.host);
    int body_kind = strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0;
    /* Expect: 100-continue (an HTTP/1.0 client knows no 1xx, RFC 9110
     * §10.1.1). A body that is no call's goes on as it comes, whatever its
     * size, with the program's Expect: the server says whether to send it
     * (its 100, or a final answer the program gets instead: see go_on),
     * not us. A body read first (a call's, which a fallback needs whole) is
     * asked for by the relay's own 100. */
    int wants_100 = r->expect_continue && !r->http10;
    if (wants_100 && body_kind && !may_call && r->clen != 0) {
        x.in_stream = x.fwd_expect = 1;
        x.in_chunked = r->clen < 0;
        x.in_left = r->clen < 0 ? 0 : r->clen;
        x.in_pre = &r->body;   /* (empty: nothing of it is read yet) */
        return pass_through(&x, &orig);
    }
    if (wants_100 && say_continue(k))
        return -1;
    int rest;
    long left;
    if (read_body(k, r, may_call || !body_kind ? MAX_BODY : STREAM_ABOVE, &rest, &left))
        return -1;
    if (rest && !body_kind)
        return -1;   /* (a GET with a body larger than an answer: not HTTP anyone sends) */
    orig.body = r->body;
    if (rest) {
        x.in_stream = 1;
        x.in_chunked = r->clen < 0;
        x.in_started = 1;
        x.in_left = left;
        x.in_pre = &r->body;
        return pass_through(&x, &orig);
    }
    llf_call *call = named ? llf_engine_recognise(k->eng, url, r->method, r->body.p, r->body.n) : NULL;
    if (!call)
        return pass_through(&x, &orig);
    /* The engine judges bodies: ask for them uncompressed. */
    llf_headers plain = {0};
    for (size_t i = 0; i < r->headers.n; i++)
        if (!llf_header_is(r->headers.v[i], "accept-encoding") && llf_headers_add(&plain, r->headers.v[i])) {
            llf_headers_free(&plain);
            llf_call_free(call);
            return -1;
        }
    orig.headers = plain;
    /* (logged as the program's path: its TLS, or its plain socket) */
    llf_run_args a = {&orig, 0, 0, relay_perform, &x, k->from.tls ? "ssl" : "socket", client_gone};
    llf_final fin = {0};
    int rc = -1;
    int ran = llf_engine_run(k->eng, call, &a, &fin);
    if (ran != 0 && !x.orig_sent && !client_gone(&x)) {
        /* Nothing to give, and the program's own request never went (an
         * override candidate that failed locally, out of memory): it goes
         * now, as without us (core.h: the path passes it through). */
        llf_req own = {url, r->headers, r->body, 0, 0, {0}};
        rc = pass_through(&x, &own);
    } else if (ran == 0) {
        const llf_resp *f = fin.resp;
        if (fin.delivered) {
            /* A live stream, or an answer over the cap passed through: end
             * it cleanly (an HTTP/1.0 client's by the close), or break it
             * as the provider did. */
            long framing = x.passing ? x.framing : live_framing(&x);
            if (f->curlcode == CURLE_OK && (framing != FRAME_CHUNKED || write_end(k, &f->trailers) == 0))
                rc = framing == FRAME_TO_CLOSE ? -1 : 0;
            else
                reset(k);
        } else if (f->curlcode != CURLE_OK && !(fin.from_original && f->stream_problem)) {
            /* A transport failure. The original stopped by us at a bad first
             * event is not one: it is given back as far as it came. */
            fail_before_reply(k, f->curlcode);
        } else if (f->curlcode != CURLE_OK && !llf_sse_stopped_whole(&f->head, f->body.n, f->stream_problem)) {
            /* ...and, when more was coming, as a transfer cut short: the
             * program must not take the start of a stream for all of it. */
            if (write_head(k, f->head.p, f->head.n, NULL, live_framing(&x), 0) == 0)
                live_write(&x, f->body.p, f->body.n);
            reset(k);
        } else {
            const llf_buf *h = fin.from_original ? &f->head : &fin.head;
            rc = respond(k, h->p, h->n, &f->body, fin.from_original ? &f->trailers : NULL, r->keep_alive);
        }
    }
    llf_headers_free(&plain);
    llf_call_free(call);
    return rc;
}

/* Every header of h named name taken out. */
static void drop_header(llf_headers *h, const char *name)
{
    size_t j = 0;
    for (size_t i = 0; i < h->n; i++)
        if (llf_header_is(h->v[i], name))
            free(h->v[i]);
        else
            h->v[j++] = h->v[i];
    h->n = j;
}

static int serve_one(conn *k, llf_http_req *r)
{
    char addr[INET6_ADDRSTRLEN + 8];
    /* Without a Host (HTTP/1.0), the URL names the address itself. */
    const char *host = host_of(r);
    /* A Host no URL can carry as it stands (see llf_http_host_ok) is sent
     * as it came, as a header, and the URL names the address connected to:
     * pasted in, its "@", "#" or emptiness would change what is asked for. */
    if (host && !llf_http_host_ok(host))
        host = NULL;
    if (!host && authority(&k->from.orig, addr, sizeof addr) == 0)
        host = addr;
    llf_buf url = {0};
    int bad = llf_http_req_url(r->target, host, k->from.tls, &url);
    /* An absolute-form target names the host (RFC 9112 §3.2.2): the URL's
     * Host, libcurl's, goes on instead of the program's. */
    if (!bad && *r->target != '/')
        drop_header(&r->headers, "host");
    int rc = bad ? -1 : serve_url(k, r, url.p);
    llf_buf_free(&url);
    return rc;
}

/* ---- who serves a connection ----------------------------------------------
 *
 * A connection to the relay is in every process forked while it was open:
 * the program's socket, and our end of it. The process that serves our end
 * holds a lock on it (a POSIX lock, which is the process's: its children do
 * not inherit it, and it goes when the process closes the connection or
 * exits). A forked child takes over the connections it inherited once
 * that lock is free (see pool_child): the child of a daemon's start, whose
 * parent has left, goes on with the connection its program inherited, as
 * it would with the provider. While the parent lives a connection stays
 * its relay's, and a request the child's program sends on it is answered
 * there (as a provider answers whoever writes on a connection); the child
 * never reads it, so no request is split between two readers.
 *
 * Whether the process that let a connection go left it between requests or
 * in the middle of one is kept in memory the processes share: one page of
 * entries, made with a process's relay and given out by it. A request
 * taken by a process that then left is lost with it: the next one resets
 * the connection, so that the program does not wait for an answer that
 * will never come. A request is taken only when its first byte is in (a
 * peek, see await_request): one sent to a process that leaves before that
 * is left whole for the next. (The alternative, a child closing its copies
 * at the fork, never hangs either, but a connection would then break when
 * the parent leaves, which a client that does not reconnect by itself
 * sees as an error.) */
struct standing {
    uint64_t ino;    /* our end's socket; 0: free, or the connection ended */
    uint32_t state;  /* IDLE, BUSY (a request taken, not yet answered), TUNNEL */
    uint32_t pad;
};

#define NSTANDING (4096 / sizeof(standing))

static standing *standings;                    /* this process's page, or NULL */
static unsigned char standing_used[NSTANDING]; /* its entries given out, under pool_lock */
static int standings_pid;

static void stand(conn *k, int state)
{
    if (k->st)
        __atomic_store_n(&k->st->state, (uint32_t)state, __ATOMIC_SEQ_CST);
}

/* An entry for a new connection (pool_lock held), or none: then no child
 * takes it over. */
static void stand_new(conn *k)
{
    for (size_t i = 0; standings && i < NSTANDING; i++)
        if (!standing_used[i]) {
            standing_used[i] = 1;
            k->st = &standings[i];
            k->st_mine = 1;
            stand(k, IDLE);
            __atomic_store_n(&k->st->ino, (uint64_t)k->own.ino, __ATOMIC_SEQ_CST);
            return;
        }
}

/* The connection ended here (pool_lock held): for a process that would take
 * it over, and for the entry's next connection. */
static void stand_end(conn *k)
{
    if (!k->st || __atomic_load_n(&k->st->ino, __ATOMIC_SEQ_CST) != (uint64_t)k->own.ino)
        return;
    stand(k, IDLE);
    __atomic_store_n(&k->st->ino, 0, __ATOMIC_SEQ_CST);
    if (k->st_mine)
        standing_used[k->st - standings] = 0;
}

/* An inherited connection is ours once the process that served it let it
 * go. Then its entry says whether it left between requests (0: serve on,
 * from its next request: what this process had read of it at the fork is
 * stale), in the middle of one (reset: 1) or after ending it (1). -1: it
 * is not ours (the number is the program's now, or no lock can be had). */
/* The lock is tried, not waited for (F_SETLKW): the try is one step with
 * the look under the descriptor lock (see guest.h), which must not be held
 * through a wait, and a wait outside it could lock a file of the
 * program's that took the number meanwhile (an unlock after would drop
 * the program's own lock: the kernel's are per process). Tried again
 * every 200 ms at most: a connection's next request waits that long, at
 * most, once its parent is gone. */
static int take_over(conn *k)
{
    struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1};
    for (long ms = 5;; ms = ms < 200 ? ms * 2 : 200) {
        llf_fd_hold();
        int ours = llf_fd_ours(&k->own);
        int rc = ours ? fcntl(k->fd, F_SETLK, &l) : -1;
        int e = errno;
        llf_fd_release();
        if (!ours)
            return -1;
        if (rc == 0)
            break;
        if (e != EAGAIN && e != EACCES && e != EINTR)
            return -1;
        struct timespec t = {0, ms * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    if (!llf_fd_ours(&k->own))
        return -1;
    if (__atomic_load_n(&k->st->ino, __ATOMIC_SEQ_CST) != (uint64_t)k->own.ino)
        return 1;
    if (__atomic_load_n(&k->st->state, __ATOMIC_SEQ_CST) != IDLE) {
        reset(k);
        return 1;
    }
    k->have = 0;
    return 0;
}

/* The next request's first byte, peeked, not taken: a process that leaves
 * before taking any leaves the request whole for the one that takes the
 * connection over. From then on the connection is busy until its answer is
 * out. -1: the connection ended, or is no longer ours (the program closed
 * our end; its number may be the program's own by now). */
static int await_request(conn *k, unsigned char *first)
{
    if (k->have) {   /* (the next request came with the last one) */
        *first = (unsigned char)k->buf[0];
        stand(k, BUSY);
        return 0;
    }
    ssize_t n;
    while ((n = recv(k->fd, first, 1, MSG_PEEK)) < 0 && errno == EINTR)
        ;
    if (n != 1 || !llf_fd_ours(&k->own))
        return -1;
    stand(k, BUSY);
    return 0;
}

/* ---- serving threads ---------------------------------------------------------
 *
 * A serving thread never ends: after its connection it parks for the next
 * one. A thread's end runs OpenSSL's per-thread clean-up under a global
 * lock; a fork() at that moment left the child with the lock held, and the
 * child's atexit clean-up then waited for ever. The number of threads is
 * the most connections the program ever had open to the relay at once,
 * counting one whose thread was still finishing when the next arrived.
 *
 * Their libcurl handles are not all kept: each holds its connections to
 * the providers and libcurl's wake-up pair (7.88), about three
 * descriptors, and after a burst of 200 connections at once 200 parked
 * handles held 600 for the process's life (a program near its limit then
 * got EMFILE where it would not without us). The handles of at most
 * KEEP_HANDLES parked threads (or threads whose connection sits idle: see
 * IDLE_KEEP_MS) are kept, the ones used last, and a thread given a
 * connection, or its next request, takes the newest of them when it has none of its
 * own (of those whose connections leave from where its call's will: a
 * program's socket bound to an address, or not; see leave_from: its own,
 * when they leave from elsewhere, is set aside and kept as a parked
 * thread's); a handle beyond them is cleaned up, with pool_lock held
 * (fork() waits for it: a child never has a handle half freed, nor a lock
 * the clean-up held), and only while its descriptors are still ours (see
 * closable). */

/* Enough for a client that opens a connection per call (urllib; a pool's
 * connections beyond its size) to find the providers' connections kept
 * alive at the concurrency it usually runs at (Python's default thread
 * pool: CPUs + 4 workers); at about three descriptors each (more for one
 * that fell back), some 50. */
#define KEEP_HANDLES 16
/* Of them, at most this many set aside by a thread whose next call came
 * from another source (see set_aside): enough for a program's calls that
 * alternate between its default address and one it binds, at a few
 * threads; a program that binds to a new address for each call would
 * otherwise keep 16 handles of addresses it may never use again. */
#define KEEP_HOLDERS 4

/* A serving thread's own state, or a holder: a handle set aside, owned by
 * no thread (see set_aside). All of them stay listed: a forked child keeps
 * its parent's handles (copies it must not use or free, since freeing
 * would close connections it shares with the parent) reachable, not leaked;
 * so is a handle made before the program closed our descriptors. */
typedef struct server {
    struct server *next;
    const llf_curl_api *c;
    CURL *h;          /* (NULL: none yet, cleaned up, or taken by another: see pick_up) */
    unsigned epoch;   /* fd_epoch when h was made */
    conn *cur;        /* the connection it serves */
    struct sockaddr_storage src;   /* where h's connections leave from, */
    int own_src;                   /* if the program chose it (see leave_from) */
    int holder;
    int warm;         /* h's last request kept its upstream connection (see lay_down) */
} server;

static struct {
    conn *head, *tail;   /* each one promised to a parked thread */
    int parked;          /* parked threads not yet promised a connection */
    server *all;
    conn *live;          /* every connection the process holds (for fork) */
    server *kept[KEEP_HANDLES];   /* parked threads and holders whose handle is kept, oldest first */
    int nkept;
    int nholders;                 /* holders among them */
} pool;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;
/* How many times the program closed the relay's descriptors (see start). */
static unsigned fd_epoch;

static void live_add(conn *k)
{
    __atomic_add_fetch(&live_n, 1, __ATOMIC_RELAXED);
    k->lprev = NULL;
    k->lnext = pool.live;
    if (pool.live)
        pool.live->lprev = k;
    pool.live = k;
}

static void live_remove(conn *k)
{
    if (k->lprev || pool.live == k)
        __atomic_sub_fetch(&live_n, 1, __ATOMIC_RELAXED);
    if (k->lprev)
        k->lprev->lnext = k->lnext;
    else if (pool.live == k)
        pool.live = k->lnext;
    if (k->lnext)
        k->lnext->lprev = k->lprev;
    k->lnext = k->lprev = NULL;
}

/* The end of a connection we served, as every process holding it sees it:
 * a forked child's copy of our end must not keep the program waiting for
 * the close that ends an answer (a close only drops our reference), so it
 * is shut down (a reset was sent already, see reset()). A number that is
 * no longer ours is left alone, and so is its entry: a child may serve on.
 * served 0: one we never served (another process does): our copy closed. */
static void conn_end(conn *k, int served)
{
    /* (the look and the close one step under the descriptor lock, as in
     * write_all: the next connection's accept, or the program, may
     * otherwise take the number in between, and this closed it) */
    pthread_mutex_lock(&pool_lock);
    llf_fd_hold();
    int mine = llf_fd_ours(&k->own);
    live_remove(k);
    if (mine && served)
        stand_end(k);
    if (mine && served)
        shutdown(k->fd, SHUT_RDWR);
    if (mine)
        close(k->fd);
    llf_fd_release();
    pthread_mutex_unlock(&pool_lock);
}

/* A handle made before the program closed our descriptors: the numbers of
 * its connections may be the program's now, and libcurl would reuse them (or
 * close them). Kept, unused. */
static void keep_unused(server *me)
{
    pthread_mutex_lock(&pool_lock);   /* (see dispatch) */
    server *old = calloc(1, sizeof *old);
    if (old) {
        old->c = me->c;
        old->h = me->h;
        old->next = pool.all;
        pool.all = old;
    }
    pthread_mutex_unlock(&pool_lock);
    me->h = NULL;
}

static int fds_still_ours(void);

/* May the descriptors of a handle made at epoch be closed? Only while they
 * are still ours: the program closed the relay's descriptors neither
 * before the relay last looked (start: the epoch is the current one) nor
 * since (its listening sockets, which stand for all of ours, are its own).
 * One that may not is left as it is: its thread's, unused (see
 * serving_thread). */
static int closable(unsigned epoch)
{
    return epoch == __atomic_load_n(&fd_epoch, __ATOMIC_ACQUIRE) && fds_still_ours();
}

static void unkeep(int i)
{
    pool.nholders -= pool.kept[i]->holder;
    memmove(pool.kept + i, pool.kept + i + 1, (size_t)(pool.nkept - i - 1) * sizeof *pool.kept);
    pool.nkept--;
}

/* A holder whose handle is gone, out of the list and freed (pool_lock held). */
static void unlist(server *s)
{
    for (server **p = &pool.all; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            free(s);
            return;
        }
}

/* s's handle cleaned up (pool_lock held), if its descriptors are still
 * ours: 1, or 0 (left as it is, listed). */
static int clean_up(server *s)
{
    if (!closable(s->epoch))
        return 0;
    s->c->easy_reset(s->h);   /* (its options point into a transfer long over) */
    s->c->easy_cleanup(s->h);
    s->h = NULL;
    return 1;
}

/* As me parks, idles or is set aside (pool_lock held): its handle kept,
 * the newest, and the oldest one kept beyond KEEP_HANDLES (of holders,
 * beyond KEEP_HOLDERS) cleaned up; of those, the oldest whose last request
 * closed its upstream connection first (a urllib call's, Connection: close,
 * costs only a new handle to make again, where a kept-alive connection's
 * handle holds its provider connection, whose TLS handshake it saves). */
static void lay_down(server *me)
{
    for (int i = 0; i < pool.nkept; i++)
        if (pool.kept[i] == me)
            return;   /* (laid down already, idle: see serve_conn) */
    if (!me->h || !closable(me->epoch))
        return;
    int holders_full = me->holder && pool.nholders == KEEP_HOLDERS, i = 0;
    while (holders_full && !pool.kept[i]->holder)
        i++;   /* (then the oldest holder goes) */
    for (int k = 0; !holders_full && k < pool.nkept; k++)
        if (!pool.kept[k]->warm) {
            i = k;
            break;
        }
    if (pool.nkept == KEEP_HANDLES || holders_full) {
        server *old = pool.kept[i];
        unkeep(i);
        if (clean_up(old) && old->holder)
            unlist(old);
    }
    pool.nholders += me->holder;
    pool.kept[pool.nkept++] = me;
}

static const struct sockaddr_storage *handle_src(const server *s)
{
    return s->own_src ? &s->src : NULL;
}

/* me's handle, whose connections leave from elsewhere than its next
 * call's (pool_lock held): kept as a parked thread's is, by a holder, for
 * a later call from there (a program whose calls alternate between a
 * bound socket and an unbound one keeps both kinds of connections); with
 * no memory for one, cleaned up. */
static void set_aside(server *me)
{
    server *s = calloc(1, sizeof *s);
    if (s) {
        *s = *me;
        s->cur = NULL;
        s->holder = 1;
        s->next = pool.all;
        pool.all = s;
        lay_down(s);   /* (one it may not keep stays listed, unused) */
    } else {
        clean_up(me);
    }
    me->h = NULL;
}

/* As me is given a request (pool_lock held): its own handle, kept or not,
 * if its connections leave from where me's will (see leave_from); else the
 * newest kept one that does, one whose last request kept its upstream
 * connection alive (warm) first; or none (one is made). A request that
 * closes its connection (urllib's) closes the upstream one libcurl reuses
 * for it: it takes no warm handle, which it took from a kept-alive
 * connection idle meanwhile, whose next request then made a new one. */
static void pick_up(server *me, int warm)
{
    for (int i = 0; i < pool.nkept; i++)
        if (pool.kept[i] == me) {
            unkeep(i);
            break;
        }
    if (me->h && !same_source(handle_src(me), chosen_src(me->cur)))
        set_aside(me);
    int at = -1;
    for (int i = pool.nkept - 1; !me->h && i >= 0; i--)
        if (same_source(handle_src(pool.kept[i]), chosen_src(me->cur)) && (warm || !pool.kept[i]->warm) &&
            (at < 0 || (pool.kept[i]->warm && !pool.kept[at]->warm)))
            at = i;
    if (at >= 0) {
        server *from = pool.kept[at];
        unkeep(at);
        me->c = from->c;
        me->h = from->h;
        me->epoch = from->epoch;
        me->src = from->src;
        me->own_src = from->own_src;
        me->warm = from->warm;
        from->h = NULL;
        if (from->holder)
            unlist(from);
    }
}

/* me's handle for its connection's next request (warm: one that keeps the
 * connection alive): its own, kept or not, one of those kept, or a new one
 * (see pick_up). NULL: no libcurl. */
static CURL *take_handle(server *me, int warm)
{
    pthread_mutex_lock(&pool_lock);
    pick_up(me, warm);
    pthread_mutex_unlock(&pool_lock);
    unsigned epoch = __atomic_load_n(&fd_epoch, __ATOMIC_ACQUIRE);
    if (me->h && me->epoch != epoch)
        keep_unused(me);
    if (!me->h && (me->c = svc->curl_for_transfers())) {
        me->h = me->c->easy_init();
        me->warm = 0;
        me->epoch = epoch;
        me->own_src = me->cur->from.own_src;
        me->src = me->cur->from.src;
    }
    return me->h;
}

/* A connection the program keeps open between requests for longer than
 * this lays its handle down as a parked thread does, to be taken up again
 * (or another) at its next request: a pool of 100 kept-alive connections
 * (requests' Session, httpx, a Node agent) otherwise held 100 handles, each
 * with its connections to the providers and libcurl's wake-up pair, 5 or 6
 * descriptors, for as long as the program kept them. Not at once: calls in
 * quick succession keep theirs, and their connections, without a look. */
#define IDLE_KEEP_MS 1000

/* Has the connection sat idle for IDLE_KEEP_MS, nothing to read? */
static int idle(conn *k)
{
    if (k->have)
        return 0;
    struct pollfd p = {k->fd, POLLIN, 0};
    int n;
    while ((n = poll(&p, 1, IDLE_KEEP_MS)) < 0 && errno == EINTR)
        ;
    return n == 0;
}

/* One connection, on serving thread me. */
static void serve_conn(conn *k, server *me)
{
    int one = 1;
    unsigned char first;
    setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (k->from.tls && !k->started) {
        /* A ClientHello (0x16) means a real handshake to carry through. */
        if (await_request(k, &first))
            return;
        if (first == 0x16) {
            tunnel(k);
            return;
        }
    }
    k->started = 1;
    for (int n = 0;; n++) {
        if (n > 0 && idle(k)) {
            pthread_mutex_lock(&pool_lock);
            lay_down(me);
            pthread_mutex_unlock(&pool_lock);
        }
        if (await_request(k, &first))
            break;
        llf_http_req r = {0};
        int got = read_request(k, &r);
        if (got) {
            llf_http_req_free(&r);
            if (got == -2)
                not_http(k);
            if (got == -2 && unread(k))
                linger(k);   /* (the rest of a head too long, after our 431) */
            break;
        }
        k->curl = take_handle(me, r.keep_alive);
        k->c = me->c;
        if (!k->curl) {
            llf_http_req_free(&r);
            llf_warn("the relay has no libcurl; closing a redirected connection");
            reset(k);
            return;
        }
        k->http10 = r.http10;
        int ok = serve_one(k, &r) == 0 && r.keep_alive;
        me->warm = r.keep_alive;   /* (a call that fell back kept its member's: not told) */
        llf_http_req_free(&r);
        if (!ok) {
            if (unread(k))
                linger(k);   /* (a request sent after this one, say) */
            break;
        }
        if (!k->have)
            stand(k, IDLE);   /* between requests */
    }
}

static void *serving_thread(void *arg)
{
    server *me = arg;
    svc->enter();
    for (;;) {
        conn *k = me->cur;
        serve_conn(k, me);
        conn_end(k, 1);
        pthread_mutex_lock(&pool_lock);
        me->cur = NULL;
        free(k);
        lay_down(me);
        pool.parked++;
        while (!pool.head)
            pthread_cond_wait(&pool_cond, &pool_lock);
        me->cur = pool.head;
        if (!(pool.head = me->cur->next))
            pool.tail = NULL;
        pthread_mutex_unlock(&pool_lock);
    }
    return NULL;
}

/* To a parked thread, or a new one. 0, or -1 when there is none. */
static int dispatch(conn *k)
{
    pthread_mutex_lock(&pool_lock);
    int to_parked = pool.parked > 0;
    if (to_parked) {
        pool.parked--;
        k->next = NULL;
        if (pool.tail)
            pool.tail->next = k;
        else
            pool.head = k;
        pool.tail = k;
        pthread_cond_signal(&pool_cond);
    }
    /* (made and listed under the lock, which fork() waits for: a child
     * forked in between would hold it unlisted, owned by no thread) */
    server *me = to_parked ? NULL : calloc(1, sizeof *me);
    if (me) {
        me->cur = k;
        me->next = pool.all;
        pool.all = me;
    }
    pthread_mutex_unlock(&pool_lock);
    if (to_parked)
        return 0;
    if (!me)
        return -1;
    if (llf_spawn(serving_thread, me) == 0)
        return 0;
    pthread_mutex_lock(&pool_lock);
    for (server **p = &pool.all; *p; p = &(*p)->next)
        if (*p == me) {
            *p = me->next;
            break;
        }
    pthread_mutex_unlock(&pool_lock);
    free(me);
    return -1;
}

/* fork() waits for the lists to be whole. */
static void pool_prepare(void)
{
    pthread_mutex_lock(&pool_lock);
}

static void pool_parent(void)
{
    pthread_mutex_unlock(&pool_lock);
}

/* Can a child take k over (see take_over)? Not a tunnel, nor one without
 * an entry. One in the middle of a request may be between requests by the
 * time the parent lets it go: its entry says then. */
static int adoptable(const conn *k)
{
    return k->st && __atomic_load_n(&k->st->ino, __ATOMIC_SEQ_CST) == (uint64_t)k->own.ino &&
           __atomic_load_n(&k->st->state, __ATOMIC_SEQ_CST) != TUNNEL && llf_fd_ours(&k->own);
}

/* A forked child's thread that takes over the connections it inherited
 * (a list), one after the other as the parent lets them go (at its exit,
 * all at once), and hands each to a serving thread. One thread for them
 * all: a child that takes nothing over (its parent lives on) pays for one
 * thread, trying the lock now and then (see take_over). It ends when done
 * (it never touches OpenSSL, whose clean-up at a thread's end is why
 * serving threads never end), or, in a child without a relay of its own,
 * once one starts. */
static int relay_pid;   /* (see listening) */
static void *adopter(void *arg)
{
    svc->enter();
    for (conn *k = arg, *next; k; k = next) {
        next = k->next;
        int ours = take_over(k);
        if (ours == 0 && dispatch(k) == 0)
            continue;
        conn_end(k, ours >= 0);
        free(k);
    }
    /* Until this process has a relay of its own, whose thread looks: the
     * serving threads it started may be ours alone here (see guest.h). */
    while (__atomic_load_n(&relay_pid, __ATOMIC_RELAXED) != (int)getpid()) {
        sleep(1);
        llf_threads_last();
    }
    return NULL;
}

/* In a forked child: none of the parent's threads are here. Each connection
 * the parent held is the child's too. Those it may take over go to an
 * adopter thread; of any other (a tunnel), and of every tunnel's upstream,
 * the child's copies are closed now, while their numbers are still ours (a
 * copy would keep the connection open after the parent ended it). Nothing
 * is allocated nor freed in the fork handler (see forklock.h): the parent's
 * entries are freed, and the adopter started, by pool_after_fork. */
static conn *child_adopt, *child_drop;

static void pool_child(void)
{
    pthread_mutex_init(&pool_lock, NULL);
    pthread_cond_init(&pool_cond, NULL);
    conn *adopt = NULL, *drop = NULL;
    for (conn *k = pool.live, *next; k; k = next) {
        next = k->lnext;
        if (llf_fd_ours(&k->up))
            close(k->up.fd);
        k->up.fd = -1;
        if (adoptable(k)) {
            k->st_mine = 0;   /* (the entry is in the parent's page) */
            k->next = adopt;
            adopt = k;
            continue;
        }
        if (llf_fd_ours(&k->own))
            close(k->fd);
        k->next = drop;
        drop = k;
    }
    pool.live = pool.head = pool.tail = NULL;
    live_n = 0;
    pool.parked = 0;
    pool.nkept = pool.nholders = 0;   /* (the parent's handles: listed, never used nor freed here) */
    for (conn *k = adopt; k; k = k->next)
        live_add(k);
    child_adopt = adopt;
    child_drop = drop;
}

static void pool_after_fork(void)
{
    for (conn *k = child_drop, *next; k; k = next) {
        next = k->next;
        free(k);
    }
    conn *adopt = child_adopt;
    child_adopt = child_drop = NULL;
    if (adopt && llf_spawn(adopter, adopt))
        for (conn *k = adopt, *next; k; k = next) {
            next = k->next;
            conn_end(k, 0);
            free(k);
        }
}

/* ---- listening --------------------------------------------------------------- */

static llf_ownfd lfd[2] = {LLF_NO_FD, LLF_NO_FD};
static struct sockaddr_storage laddr[2];
static socklen_t llen[2];
static int relay_pid;
static llf_engine *engine;
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;

/* One connection from listening socket l's backlog, kept (with pool_lock
 * held throughout: a child forked between the accept and the listing would
 * hold a copy nobody knows of), or NULL: none, or not one of ours. Taken
 * and owned in one step, while l is still ours (see guest.h). */
static conn *accept_one(const llf_ownfd *l, int *short_of)
{
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    expectation from;
    llf_ownfd own;
    conn *k = NULL;
    pthread_mutex_lock(&pool_lock);
    llf_fd_hold();
    int fd = llf_fd_ours(l) ? accept4(l->fd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC) : -1;
    if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM))
        *short_of = 1;
    if (fd >= 0 && llf_fd_own(&own, fd))
        fd = -1;   /* (cannot be: it is open) */
    llf_fd_release();
    if (fd >= 0 && expected(fd, &peer, &from) && (k = calloc(1, sizeof *k))) {
        struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1};
        k->own = own;
        k->from = from;
        k->fd = fd;
        k->up.fd = -1;
        k->eng = engine;
        llf_fd_hold();
        int locked = llf_fd_ours(&own) && fcntl(fd, F_SETLK, &lock) == 0;
        llf_fd_release();
        if (locked)
            stand_new(k);   /* (without the lock, no child may take it over) */
        live_add(k);
    } else if (fd >= 0) {
        llf_fd_close(&own);   /* not one of ours */
    }
    pthread_mutex_unlock(&pool_lock);
    return k;
}

/* A relay over, its sockets closed by the program: until the next one
 * starts (fd_epoch moves on), its thread still looks whether the program
 * has a thread left (see guest.h). */
static void *relay_over(unsigned epoch)
{
    while (__atomic_load_n(&fd_epoch, __ATOMIC_ACQUIRE) == epoch) {
        sleep(1);
        llf_threads_last();
    }
    return NULL;
}

/* l: this relay's two listening sockets (fd -1: none), its own copy. */
static void *accept_loop(void *arg)
{
    llf_ownfd l[2];
    memcpy(l, arg, sizeof l);
    free(arg);
    svc->enter();
    unsigned epoch = __atomic_load_n(&fd_epoch, __ATOMIC_ACQUIRE);
    struct pollfd p[2] = {{l[0].fd, POLLIN, 0}, {l[1].fd, POLLIN, 0}};
    for (;;) {
        /* (a look every second as well: a wait on a descriptor another
         * thread closed is not woken, and wake() did not always reach it;
         * a program closing every descriptor again and again left one such
         * thread behind each time. And the program's last thread may have
         * ended: see guest.h) */
        int r = poll(p, 2, 1000);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        if (r == 0)
            llf_threads_last();
        /* Sockets the program closed (their numbers may be its own now, or
         * a newer relay's): this relay is over, and its successor listens
         * elsewhere (see start). */
        for (int i = 0; i < 2; i++)
            if (l[i].fd >= 0 && !llf_fd_ours(&l[i]))
                return relay_over(epoch);
        int short_of = 0;
        for (int i = 0; i < 2; i++) {
            conn *k = p[i].revents & POLLIN ? accept_one(&l[i], &short_of) : NULL;
            if (k && dispatch(k)) {
                conn_end(k, 1);
                free(k);
            }
        }
        /* Out of descriptors (the program's own, or ours, at its limit):
         * the connection waits in the backlog while calls end and give
         * theirs back; poll() would say it is there at once, again and
         * again, a thread spinning. */
        if (short_of)
            poll(NULL, 0, 20);
    }
}

static int listen_made(int i, int family)
{
    /* (not blocking: accept_one holds a lock) */
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_storage a;
    memset(&a, 0, sizeof a);
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *v4 = (void *)&a;
        v4->sin_family = AF_INET;
        v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *v4;
    } else {
        struct sockaddr_in6 *v6 = (void *)&a;
        v6->sin6_family = AF_INET6;
        v6->sin6_addr = in6addr_loopback;
        len = sizeof *v6;
    }
    if (bind(fd, (struct sockaddr *)&a, len) || listen(fd, SOMAXCONN) ||
        getsockname(fd, (struct sockaddr *)&laddr[i], &llen[i]) || llf_fd_own(&lfd[i], fd)) {
        close(fd);
        return -1;
    }
    return 0;
}

/* (made, set up and owned in one step under the descriptor lock: see
 * guest.h) */
static int listen_on(int i, int family)
{
    llf_fd_hold();
    int rc = listen_made(i, family);
    llf_fd_release();
    return rc;
}

/* In a forked child: the parent's threads are not here, and a lock one of
 * them held would stay held. Its listening sockets are closed now, while
 * their numbers are still ours (later, the child may have reused them). */
static void relay_atfork_child(void)
{
    pthread_mutex_init(&start_lock, NULL);
    for (int i = 0; i < 2; i++) {
        if (llf_fd_ours(&lfd[i]))
            close(lfd[i].fd);
        lfd[i].fd = -1;
    }
    relay_pid = 0;
    pool_child();
}

static void relay_after_fork(void)
{
    llf_expect_clear();
    pool_after_fork();
}

static void drain_at_exit(void);

int llf_relay_init(llf_engine *e, const llf_shim_services *s)
{
    static int at_exit;
    engine = e;
    svc = s;
    /* (each once: one that failed is tried again, never the other twice;
     * the handlers are chained once however often they are given) */
    llf_fork_chain(pool_prepare, pool_parent, relay_atfork_child, relay_after_fork);
    if (!at_exit)
        at_exit = atexit(drain_at_exit) == 0;
    return 0;
}

/* At exit, bytes the program wrote into a tunnel just before it ended
 * (nc -N's last line, a WebSocket's close frame) may still wait in the
 * relay's socket, and the relay is a thread of the process, ended with it:
 * over a direct connection the kernel would have carried them. A moment
 * is given for them, while a tunnel's end of the program has bytes unread,
 * EXIT_DRAIN_MS at most; a process with none waits not at all. */
#define EXIT_DRAIN_MS 300
/* Has a tunnel bytes of the program's it has not carried yet (pool_lock
 * held)? (Its number looked at without the descriptor lock: at exit, and
 * a look at another's socket's count does no harm.) */
static int tunnel_bytes_left(void)
{
    for (conn *k = relay_pid == (int)getpid() ? pool.live : NULL; k; k = k->lnext) {
        int pumping = __atomic_load_n(&k->pumping, __ATOMIC_ACQUIRE), n = 0;
        if (pumping == 2 || (pumping && llf_fd_ours(&k->own) && ioctl(k->fd, FIONREAD, &n) == 0 && n > 0))
            return 1;
    }
    return 0;
}

static void drain_at_exit(void)
{
    for (int waited = 0; waited < EXIT_DRAIN_MS; waited += 5) {
        /* (tried, not waited for: exit() from a handler of a signal that
         * came while this thread held it would wait on itself) */
        int left = pthread_mutex_trylock(&pool_lock) != 0;
        if (!left) {
            left = tunnel_bytes_left();
            pthread_mutex_unlock(&pool_lock);
        }
        if (!left)
            return;
        struct timespec t = {0, 5 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
}

/* Are this relay's listening sockets still the ones it made? */
static int intact(void)
{
    for (int i = 0; i < 2; i++)
        if (lfd[i].fd >= 0 && !llf_fd_ours(&lfd[i]))
            return 0;
    return 1;
}

/* Are the descriptors the relay made still its own: this process's relay
 * started, its listening sockets the ones it made? A program closes all of
 * ours at once (a daemon's start), or none. */
static int fds_still_ours(void)
{
    pthread_mutex_lock(&start_lock);   /* (after pool_lock, never before it) */
    int ok = relay_pid == (int)getpid() && intact();
    pthread_mutex_unlock(&start_lock);
    return ok;
}

/* The thread of a relay whose sockets the program closed waits on them
 * still (its poll holds them open after their numbers were closed): a
 * connection to one wakes it, to poll the numbers again; a number closed
 * (or a file of the program's, always readable) ends its wait, and it sees
 * they are not ours, and ends. Done before a new relay takes the numbers
 * back; a number that is the program's socket by then leaves it waiting,
 * harmless (whenever it wakes, it ends without a look at the socket). */
static void wake(const struct sockaddr_storage *a)
{
    int timed_out = 0;
    llf_ownfd s;
    if (dial(a, 100, &timed_out, &s, NULL) >= 0)
        llf_fd_close(&s);
}

/* The relay of this process: started at its first use, in a forked child
 * at its own, and again when the program closed the sockets it listens on
 * (a daemon's start closes every descriptor): those numbers may be the
 * program's own now, so they are forgotten, not closed, and whatever else
 * the relay held then is as stale (see serving_thread). Checked at every
 * use, so only a connection about to be redirected pays for it. */
static int start(void)
{
    int me = (int)getpid();
    if (relay_pid == me && intact())
        return 0;
    int lost = relay_pid == me;
    if (lost)
        __atomic_add_fetch(&fd_epoch, 1, __ATOMIC_RELEASE);
    relay_pid = 0;
    /* (sockets left by a start whose thread failed, or the one of the pair
     * the program did not close; a forked child's were closed at fork) */
    for (int i = 0; i < 2; i++)
        llf_fd_close(&lfd[i]);
    for (int i = 0; i < 2; i++) {
        if (lost && lfd[i].fd >= 0)
            wake(&laddr[i]);
        lfd[i].fd = -1;
        llen[i] = sizeof laddr[i];
    }
    if (standings_pid != me) {
        void *page = mmap(NULL, NSTANDING * sizeof(standing), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        standings = page == MAP_FAILED ? NULL : page;
        memset(standing_used, 0, sizeof standing_used);
        standings_pid = me;
    }
    int v4 = listen_on(0, AF_INET), v6 = listen_on(1, AF_INET6);
    llf_ownfd *l = v4 && v6 ? NULL : malloc(sizeof lfd);
    if (!l)
        return -1;
    memcpy(l, lfd, sizeof lfd);
    if (llf_spawn(accept_loop, l)) {
        free(l);
        return -1;
    }
    relay_pid = me;
    return 0;
}

int llf_relay_addr(int family, struct sockaddr_storage *out, socklen_t *len)
{
    pthread_mutex_lock(&start_lock);
    int rc = start();
    int i = family == AF_INET6 ? 1 : 0;
    if (rc == 0 && lfd[i].fd >= 0) {
        *out = laddr[i];
        *len = llen[i];
    } else {
        rc = -1;
    }
    pthread_mutex_unlock(&start_lock);
    return rc;
}
