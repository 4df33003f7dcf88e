/* curl_capture.c — our callbacks on an attempt's transfer (see
 * curl_capture.h). */
#include "curl_capture.h"

#include <stdlib.h>
#include <string.h>

#include "curl_deliver.h"
#include "curl_info.h"
#include "hooks.h"
#include "netaddr.h"
#include "shim.h"

/* The end of a 2xx header block of a streaming call: from here on the answer
 * goes to the program as it arrives. */
static int go_live(attempt_ctx *c)
{
    llf_resp *r = c->out;
    /* A stream translated into the program's dialect is not the length
     * the member framed it with: the program would be told it (its header
     * callback, CURLINFO_CONTENT_LENGTH_DOWNLOAD), and is told none. */
    if (c->at->translate_to >= 0)
        llf_head_drop(&r->head, "content-length");
    size_t n = r->head.n;
    size_t end = n >= 2 && r->head.p[n - 2] == '\r' ? n - 2 : n - 1;
    const char *extra = c->at->live_extra ? c->at->live_extra : "";
    llf_buf_reset(&c->given_head);
    llf_buf_add(&c->given_head, r->head.p, end);
    llf_buf_adds(&c->given_head, extra);
    llf_buf_add(&c->given_head, r->head.p + end, n - end);
    if (c->at->live_extra)   /* a member's: getinfo in the program's callbacks describes what it is given */
        llf_set_override(c->s, c->block_status, r->http_version, c->orig->url, c->given_head.p, c->given_head.n, 0,
                         (curl_off_t)c->orig->body.n,
                         llf_since_ms(&c->t0) / 1e3);
    int bad;
    PROGRAM_BEGIN()
    bad = llf_give_head(c->s, r->head.p, end) || llf_give_head(c->s, extra, strlen(extra)) ||
          llf_give_head(c->s, r->head.p + end, n - end);
    PROGRAM_END()
    c->live = 1;
    r->delivered = 1;
    llf_sse_free(&c->sse);   /* from here on it watches (watch()), from the first byte */
    memset(&c->sse, 0, sizeof c->sse);
    return bad ? -1 : 0;
}

/* The trailers that came and were not handed over yet (see llf_cap_header). */
int llf_give_trailers_due(attempt_ctx *c)
{
    llf_buf *t = &c->out->trailers;
    if (c->trailers_given >= t->n)
        return 0;
    int bad;
    PROGRAM_BEGIN()
    bad = llf_give_trailers(c->s, t->p + c->trailers_given, t->n - c->trailers_given);
    PROGRAM_END()
    c->trailers_given = t->n;
    return bad;
}

/* Every header line libcurl hands over, kept where it belongs (llf_head_take):
 * the head, replayed before the body, or a chunked body's trailers, which
 * come after it. A live answer's trailers are the program's as they come,
 * as libcurl would hand them; a translated stream's only after its own
 * ending (perform_attempt), and a held one's after its body (llf_gate_at_end,
 * or the delivery of the final answer). */
size_t llf_cap_header(char *p, size_t size, size_t nmemb, void *ud)
{
    attempt_ctx *c = ud;
    size_t n = size * nmemb;
    if (c->live) {   /* (after a 2xx block: only its trailers come) */
        if (llf_buf_add(&c->out->trailers, p, n))
            return 0;
        return c->pipe || !llf_give_trailers_due(c) ? n : 0;
    }
    if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        const char *sp = memchr(p, ' ', n);
        c->block_status = sp ? strtol(sp + 1, NULL, 10) : 0;
        /* A proxy's reply to CONNECT comes first through this callback;
         * libcurl sets the response code only for the server's status
         * line, so a 0 here is the proxy's. Its 2xx block must neither
         * gate the server's answer (an error status would be judged as an
         * empty stream) nor count as the answer's first byte. */
        long code = -1;
        c->tunnel = llf_real_curl()->easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code == 0;
        c->gated = 0;
    }
    if (!c->tunnel)
        c->got_byte = 1;
    int trailer = llf_head_take(&c->out->head, &c->out->trailers, p, n);
    if (trailer)
        return trailer < 0 ? 0 : n;
    if (n >= 5 && strncmp(p, "HTTP/", 5) == 0)
        c->block_start = c->out->head.n - n;
    int blank = (n == 2 && p[0] == '\r') || (n == 1 && p[0] == '\n');
    if (blank && !c->tunnel && c->at->live && c->block_status >= 200 && c->block_status < 300)
        c->gated = 1;   /* decide at the first event, not at the status */
    /* Under the program's FAILONERROR libcurl ends at an error status's
     * head (error 22) and reads no body. So does the original attempt where
     * its verdict needs none: judged by the head, and given back without
     * waiting for a body that may be slow or never come. (Not a 401 libcurl
     * may answer with the program's credentials, nor a proxy's 407: as
     * http_should_fail.) */
    if (blank && !c->tunnel && c->fail_at_head && c->block_status >= 400 && c->block_status != 407 &&
        !(c->block_status == 401 && (c->s->has_creds || c->s->netrc)) &&
        !llf_core()->error_needs_body(c->block_status)) {
        c->out->head_only = 1;
        return 0;
    }
    return n;
}

static int gate_event(void *ud, const char *event, const char *data, size_t len)
{
    attempt_ctx *c = ud;
    const llf_core_api *core = llf_core();
    if (!c->gate && !(c->gate = core->gate_new(c->at->dialect))) {
        c->out->stream_problem = "no_memory";
        return 1;
    }
    int d = core->gate_event(c->gate, event, data, len);
    if (d < 0)
        c->out->stream_problem = core->gate_problem(c->gate);
    c->first_ok = d > 0;
    return d != 0;   /* a decision stops the feed */
}

/* A live stream's bytes are watched, not changed, for the provider's error
 * event: too late for a fallback, but the attempt failed for the log and
 * the breaker. */
static void watch(attempt_ctx *c, const char *p, size_t n)
{
    if (!c->out->late_problem)
        c->out->late_problem = llf_core()->watch(&c->sse, c->at->dialect, p, n);
}

/* Live bytes to the program: as they are, or translated into its dialect. */
static int live_out(attempt_ctx *c, const char *p, size_t n)
{
    const llf_core_api *core = c->pipe ? llf_core() : NULL;
    watch(c, p, n);
    llf_buf t = {0};
    /* A member's error event ends the translation; what came before it
     * in this read is the program's all the same. */
    int broke = core && core->pipe_feed(c->pipe, p, n, &t);
    int bad;
    PROGRAM_BEGIN()
    bad = core ? (t.n && llf_give_body(c->s, t.p, t.n)) : llf_give_body(c->s, p, n);
    PROGRAM_END()
    c->given += (curl_off_t)(core ? t.n : n);
    llf_buf_free(&t);
    c->pipe_broke |= broke && !bad;
    return bad || broke ? -1 : 0;
}

/* Held back to the end (verdict.stream_refusal): judge the whole, then
 * either deliver all of it now or let the next member answer. */
void llf_gate_at_end(attempt_ctx *c)
{
    const llf_core_api *core = llf_core();
    if (!c->gated || c->out->curlcode != CURLE_OK || !core)
        return;
    int d = c->gate ? core->gate_end(c->gate) : -1;
    if (d < 0) {
        c->out->stream_problem = c->gate ? core->gate_problem(c->gate) : "empty_stream";
        return;
    }
    c->gated = 0;
    if ((c->at->translate_to >= 0 && !(c->pipe = core->pipe_new(c->at->dialect, c->at->translate_to, c->at->model,
                                                                c->at->usage_asked, c->at->tool_names))) ||
        go_live(c) || live_out(c, c->out->body.p, c->out->body.n))
        c->out->curlcode = CURLE_WRITE_ERROR;
    llf_buf_reset(&c->out->body);
}

/* A held-back stream: buffer until the gate decides (its first event, or
 * with verdict.stream_refusal enough text); then either stop it (an error
 * event, garbage, a refusal: the next member is tried and the program sees
 * nothing of this one) or hand over what came so far and go live. */
static size_t gated_write(attempt_ctx *c, const char *p, size_t n)
{
    if (llf_buf_add(&c->out->body, p, n) || llf_sse_feed(&c->sse, p, n, gate_event, c) < 0)
        return 0;   /* (a gate that never decides holds no more than an answer may: over_cap) */
    if (c->out->stream_problem)
        return 0;
    if (!c->first_ok)
        return n;
    c->gated = 0;
    const llf_core_api *core = c->at->translate_to >= 0 ? llf_core() : NULL;
    if (core && !(c->pipe = core->pipe_new(c->at->dialect, c->at->translate_to, c->at->model, c->at->usage_asked,
                                           c->at->tool_names)))
        return 0;
    if (go_live(c))
        return 0;
    int bad = live_out(c, c->out->body.p, c->out->body.n);
    llf_buf_reset(&c->out->body);
    return bad ? 0 : n;
}

/* An answer larger than we hold (MAX_BODY). The original's is the
 * program's, whole, as libcurl alone would hand it over: from here on it
 * goes to the program as it comes, unjudged. A member's is stopped (the next
 * is tried), and so is the original's error status under FAILONERROR, which
 * libcurl would have ended at its head. 0, or -1: stop the transfer. */
static int over_cap(attempt_ctx *c)
{
    c->out->too_large = 1;
    if (!c->original || (c->fail_at_head && c->block_status >= 400)) {
        c->out->head_only = c->original;
        return -1;
    }
    c->gated = 0;
    c->passing = 1;
    if (go_live(c))
        return -1;
    int bad;
    PROGRAM_BEGIN()
    bad = llf_give_body(c->s, c->out->body.p ? c->out->body.p : "", c->out->body.n);
    PROGRAM_END()
    c->given += (curl_off_t)c->out->body.n;
    llf_buf_reset(&c->out->body);
    return bad ? -1 : 0;
}

size_t llf_cap_write(char *p, size_t size, size_t nmemb, void *ud)
{
    attempt_ctx *c = ud;
    size_t n = size * nmemb;
    c->got_byte = 1;
    if (!c->live && c->out->body.n + n > MAX_BODY && over_cap(c))
        return 0;
    if (c->gated)
        return gated_write(c, p, n);
    if (c->live && c->pipe)
        return live_out(c, p, n) ? 0 : n;
    if (c->live) {
        size_t w;
        PROGRAM_BEGIN()
        w = llf_write_once(c->s->writefn, c->s->writedata, p, n);
        PROGRAM_END()
        if (w == n && !c->passing)   /* (a paused write comes again; a JSON body is no stream) */
            watch(c, p, n);
        c->given += (curl_off_t)(w == n ? n : 0);
        return w;
    }
    if (llf_buf_add(&c->out->body, p, n))
        return 0;
    return n;
}

int llf_cap_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    attempt_ctx *c = ud;
    /* The first byte is awaited from the end of the upload: a large body a
     * provider reads slowly is no silence of its. (Counted from the first
     * look that finds it done: at most a progress interval late.) */
    if (!c->up_done && un > 0) {
        /* (libcurl hands a large body to the kernel long before a slow
         * server has read it: llf_upload_done looks at the send queue of the
         * socket this attempt connected; on a connection it reused, not
         * known, handed over whole is as near as we see. The progress
         * callback comes about once a second while libcurl waits: the clock
         * may start that much late, never early.) */
        c->up_done = llf_upload_done(llf_guard_connect, ut, un, c->up_seen);
        c->up_seen = un;
        clock_gettime(CLOCK_MONOTONIC, &c->fb_t0);
    }
    if (!c->got_byte && c->at->first_byte_ms > 0 && llf_since_ms(&c->fb_t0) > (double)c->at->first_byte_ms) {
        c->out->first_byte_timeout = 1;
        return 1;
    }
    /* (the first-token limit is met by the answer's first event, not by
     * framing alone: message_start, a role chunk; a stream whose head has
     * not come has no first event either) */
    int no_event = c->gated ? !(c->gate && llf_core()->gate_started(c->gate)) : c->at->live && !c->got_byte;
    if (no_event && c->at->first_token_ms > 0 && llf_since_ms(&c->t0) > (double)c->at->first_token_ms) {
        c->out->first_token_timeout = 1;
        return 1;
    }
    hstate *s = c->s;
    s->meter[0] = dt, s->meter[1] = dn, s->meter[2] = ut, s->meter[3] = un;
    if (s->noprogress)
        return 0;
    int r;
    PROGRAM_BEGIN()
    r = llf_call_progress(s, dt, dn, ut, un);
    PROGRAM_END()
    return r;
}

/* The credentials of a member's request: of each credential header, the
 * value's last word (the key of "Bearer KEY" and of a bare KEY); and those
 * it carries otherwise (req->creds: its base URL's login, as the Basic
 * header libcurl makes of it too, and its query's key=). */
void llf_note_secrets(attempt_ctx *c, const llf_core_api *core, const llf_req *req)
{
    const llf_headers *h = &req->headers;
    c->nsecret = 0;
    for (size_t i = 0; i < req->creds.n && c->nsecret < NSECRET; i++)
        if (strlen(req->creds.v[i]) >= 6) {
            c->secret[c->nsecret] = req->creds.v[i];
            c->secret_n[c->nsecret++] = strlen(req->creds.v[i]);
        }
    for (size_t i = 0; i < h->n && c->nsecret < NSECRET; i++) {
        const char *colon = strchr(h->v[i], ':');
        if (!colon || !core->header_credential(h->v[i]))
            continue;
        size_t n;
        const char *v = llf_trim(colon + 1, colon + strlen(colon), &n);
        const char *e = v + n, *b = e;
        while (b > v && b[-1] != ' ' && b[-1] != '\t')
            b--;
        if (e - b >= 6) {
            c->secret[c->nsecret] = b;
            c->secret_n[c->nsecret++] = (size_t)(e - b);
        }
    }
    /* Longest first: redact() takes the first that matches where it reads,
     * and a shorter one (a user) may begin a longer one. */
    for (int i = 1; i < c->nsecret; i++)
        for (int k = i; k > 0 && c->secret_n[k - 1] < c->secret_n[k]; k--) {
            const char *p = c->secret[k];
            size_t n = c->secret_n[k];
            c->secret[k] = c->secret[k - 1];
            c->secret_n[k] = c->secret_n[k - 1];
            c->secret[k - 1] = p;
            c->secret_n[k - 1] = n;
        }
}

/* data with every credential of the attempt replaced; 0 when none is in it. */
static int redact(const attempt_ctx *c, const char *p, size_t n, llf_buf *out)
{
    int found = 0;
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        for (int j = 0; j < c->nsecret && !k; j++)
            if (n - i >= c->secret_n[j] && memcmp(p + i, c->secret[j], c->secret_n[j]) == 0)
                k = c->secret_n[j];
        if (k) {
            if (!found && llf_buf_add(out, p, i))
                return -1;
            found = 1;
            if (llf_buf_adds(out, "[redacted by llmfallback]"))
                return -1;
            i += k;
        } else {
            if (found && llf_buf_add(out, p + i, 1))
                return -1;
            i++;
        }
    }
    return found;
}

/* A member's verbose trace, as the program would see it (its debug
 * callback, or libcurl's own "* ", "< ", "> " lines on its stderr), without
 * the member's key wherever it shows (the request's header lines, and over
 * HTTP/2 libcurl's informational "h2h3 [authorization: ...]" lines): that
 * key is the library's, not the program's. */
int llf_cap_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
    static const char prefix[3][3] = {"* ", "< ", "> "};
    attempt_ctx *c = ud;
    const hstate *s = c->s;
    llf_buf red = {0};
    int found = c->nsecret ? redact(c, data, size, &red) : 0;
    if (found < 0) {
        llf_buf_free(&red);
        return 0;   /* shown not at all rather than with the key */
    }
    if (found) {
        data = red.p;
        size = red.n;
    }
    int r = 0;
    PROGRAM_BEGIN()
    if (s->debugfn) {
        r = s->debugfn(h, type, data, size, s->debugdata);
    } else if (type <= CURLINFO_HEADER_OUT) {
        FILE *f = s->stderr_fp ? s->stderr_fp : stderr;
        fwrite(prefix[type], 2, 1, f);
        fwrite(data, size, 1, f);
    }
    PROGRAM_END()
    llf_buf_free(&red);
    return r;
}
