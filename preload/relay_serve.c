/* relay_serve.c — one request on a connection to the relay (see
 * relay_serve.h): its URL made of its target and Host, its body read, and
 * then an LLM call run through the engine, each attempt a transfer on the
 * serving thread's libcurl handle (the program's own request going where
 * the program connected: relay_route.c), its answer written back whole, or
 * live from a stream's first event on; anything else performed once and
 * relayed as it arrives (head, then body), an upgrade tunnelled
 * (relay_tunnel.c). */
#include "relay_serve.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints.h"
#include "hubutil.h"
#include "netaddr.h"
#include "sse.h"
#include "stream.h"
#include "verdict.h"
#include "relay_route.h"
#include "relay_tunnel.h"

#define MAX_BODY ((size_t)256 << 20)
#define STREAM_ABOVE ((size_t)1 << 20)   /* a body passed through larger than this is not read first */

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
    return n == 0 ? 0
                  : llf_relay_kwrite(k, size, (size_t)m) || llf_relay_kwrite(k, p, n) || llf_relay_kwrite(k, "\r\n", 2);
}

/* Body bytes in a framing of write_head's: a chunk, or as they are. */
static int write_framed(conn *k, long framing, const char *p, size_t n)
{
    return framing == FRAME_CHUNKED ? write_chunk(k, p, n) : n ? llf_relay_kwrite(k, p, n) : 0;
}

/* The end of a chunked body: the last chunk, then the trailers the
 * upstream sent after its own (libcurl's lines, each with its CRLF). */
static int write_end(conn *k, const llf_buf *trailers)
{
    if (!trailers->n)
        return llf_relay_kwrite(k, "0\r\n\r\n", 5);
    llf_buf b = {0};   /* (one write: see pitfalls.md, Nagle) */
    int bad = llf_buf_adds(&b, "0\r\n") || llf_buf_add(&b, trailers->p, trailers->n) ||
              llf_buf_adds(&b, "\r\n") || llf_relay_kwrite(k, b.p, b.n);
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
    return llf_relay_kwrite(k, line, sizeof line - 1);
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
         * what it still sends is read and dropped (see llf_relay_linger). */
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
         * tunnelled, not performed: see llf_relay_upgrade_plain) is the last
         * HTTP on the connection, whose protocol libcurl cannot read: it
         * waited for another head until the server closed, and the program's
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
        if ((x->in_started && (llf_relay_read_line(k, line, sizeof line) || line[0])) ||
            llf_relay_read_chunk_size(k, &n))
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
    if (!k->have && llf_relay_fill(k))
        return CURL_READFUNC_ABORT;
    size_t take = k->have < want ? k->have : want;
    take = (size_t)x->in_left < take ? (size_t)x->in_left : take;
    memcpy(buf, k->buf, take);
    llf_relay_consume(k, take);
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
    llf_relay_leave_from(x->k, h);
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
    void *trust = x->original && x->k->from.tls && llf_relay_svc && llf_relay_svc->tls_trust
                      ? llf_relay_svc->tls_trust(c, h, (struct sockaddr *)&x->k->from.src)
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
        llf_relay_svc->tls_trust_done(trust);
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
    if (llf_relay_connect_to_line(a, to, sizeof to))
        return REFUSED;   /* (a placeholder: nothing listens there) */
    const llf_attempt *at = p->at;
    if (p->tried && at) {
        /* the attempt's own limits, less what the refusals spent */
        int none = 0;
        x->left = *at;
        x->left.connect_ms = left;
        x->left.total_ms = llf_relay_left_of(at->total_ms, spent, &none);
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
 * that refuses, to the next addresses of its name (see llf_relay_reach): all of
 * them are one attempt, within its limits. Members go to their own URLs. */
static int relay_perform(void *ud, const llf_req *req, const llf_attempt *at, llf_resp *out)
{
    rctx *x = ud;
    char to[INET6_ADDRSTRLEN + 10];
    if (req != x->orig || llf_relay_connect_to_line(&x->k->from.orig, to, sizeof to)) {
        perform_at(x, req, at, out, NULL);
        return 0;
    }
    perform_try p = {x, req, at, out, 0};
    llf_relay_reach(x->k, x->host, at ? at->connect_ms : 0, perform_to, &p);
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
    int rc = bad ? -1 : llf_relay_kwrite(k, out.p, out.n);
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
    return llf_relay_kwrite(k, body->p ? body->p : "", body->n);
}

/* Before any reply: a provider that closed without one is shown as it was,
 * a clean close; anything else as a reset. */
static void fail_before_reply(conn *k, int curlcode)
{
    if (curlcode != CURLE_GOT_NOTHING)
        llf_relay_reset(k);
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
        llf_relay_reset(x->k);   /* broken within the body, as upstream's was (not a 417 or 101, stopped at its head: on_header) */
    else if (x->framing != FRAME_CHUNKED || write_end(x->k, &resp.trailers) == 0)
        rc = x->framing == FRAME_TO_CLOSE || !x->keep_alive ? -1 : 0;   /* (an answer before the body's end said close: on_header) */
    if (rc && x->sent && x->in_stream && !x->in_done)
        llf_relay_linger(x->k);   /* (what is still on its way, or still to be sent) */
    llf_resp_free(&resp);
    return rc;
}

/* ---- serving one request ------------------------------------------------- */

/* One request for url: through the engine when it is an LLM call, else
 * passed through. */
static int serve_url(conn *k, llf_http_req *r, char *url)
{
    if (k->from.tls && strncmp(url, "https://", 8) != 0) {
        llf_relay_reset(k);   /* (never: see llf_http_req_url; a TLS session's bytes never go in the clear) */
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
        return k->from.tls ? llf_relay_upgrade_tls(k, r, url, x.host) : llf_relay_upgrade_plain(k, r, x.host);
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
    if (llf_relay_read_body(k, r, may_call || !body_kind ? MAX_BODY : STREAM_ABOVE, &rest, &left))
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
                llf_relay_reset(k);
        } else if (f->curlcode != CURLE_OK && !(fin.from_original && f->stream_problem)) {
            /* A transport failure. The original stopped by us at a bad first
             * event is not one: it is given back as far as it came. */
            fail_before_reply(k, f->curlcode);
        } else if (f->curlcode != CURLE_OK && !llf_sse_stopped_whole(&f->head, f->body.n, f->stream_problem)) {
            /* ...and, when more was coming, as a transfer cut short: the
             * program must not take the start of a stream for all of it. */
            if (write_head(k, f->head.p, f->head.n, NULL, live_framing(&x), 0) == 0)
                live_write(&x, f->body.p, f->body.n);
            llf_relay_reset(k);
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

int llf_relay_serve_one(conn *k, llf_http_req *r)
{
    char addr[INET6_ADDRSTRLEN + 8];
    /* Without a Host (HTTP/1.0), the URL names the address itself. */
    const char *host = host_of(r);
    /* A Host no URL can carry as it stands (see llf_http_host_ok) is sent
     * as it came, as a header, and the URL names the address connected to:
     * pasted in, its "@", "#" or emptiness would change what is asked for. */
    if (host && !llf_http_host_ok(host))
        host = NULL;
    if (!host && llf_relay_authority(&k->from.orig, addr, sizeof addr) == 0)
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
