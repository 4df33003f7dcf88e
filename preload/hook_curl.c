/* hook_curl.c — the libcurl path: capture and deliver, never decide.
 *
 * curl_easy_setopt records what the program asked for (URL, headers, body,
 * callbacks, limits, credentials, TLS) in a per-handle table. curl_easy_perform
 * on a POST that the core recognises runs the engine inline, on the program's
 * own handle, so its proxy and timeout options apply to every attempt (its
 * TLS trust and identity to its own provider's only: see tls_opts): for
 * each attempt we swap in our URL, headers, body and capturing callbacks, and
 * afterwards we put every option back and hand the program the final answer
 * through its own callbacks. curl_easy_getinfo and curl_easy_header then
 * report that answer, not whichever attempt ran last. Everything else passes
 * straight through: same callbacks, no buffering, byte-identical.
 *
 * This file holds the hooked entry points: setopt, perform, pause, getinfo
 * and the header API, the multi calls, and the handles' life cycle (init,
 * reset, duphandle, cleanup, share handles). The per-handle table and what
 * setopt recorded are curl_handle.c's; a managed call, its attempts and the
 * options put back after them, curl_attempt.c's (the callbacks on its
 * transfers curl_capture.c's, the program's TLS options curl_tls.c's);
 * delivery through the program's callbacks, curl_deliver.c's; what getinfo
 * and the header API report, curl_info.c's. */
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core.h"
#include "curl_attempt.h"
#include "curl_deliver.h"
#include "curl_handle.h"
#include "curl_info.h"
#include "curl_tls.h"
#include "hooks.h"
#include "shim.h"

LLF_EXPORT CURLcode curl_easy_setopt(CURL *h, CURLoption o, ...)
{
    const llf_curl_api *rc = llf_real_curl();
    if (!rc->easy_setopt)
        return CURLE_FAILED_INIT;
    va_list ap;
    va_start(ap, o);
    long l = 0;
    void *p = NULL;
    curl_off_t off = 0;
    if (o < CURLOPTTYPE_OBJECTPOINT)
        l = va_arg(ap, long);
    else if (o < CURLOPTTYPE_FUNCTIONPOINT || o >= CURLOPTTYPE_BLOB)
        p = va_arg(ap, void *);
    else if (o < CURLOPTTYPE_OFF_T)
        p = (void *)va_arg(ap, anyfn);
    else
        off = va_arg(ap, curl_off_t);
    va_end(ap);
    int ours = llf_interesting(o) && !llf_disabled();
    hstate *busy = ours ? llf_busy_state(h) : NULL;
    int taken = busy ? llf_output_taken(busy, o) : -1;
    if (busy && taken < 0)   /* (libcurl's own checks of the value come when it is set: see llf_defer) */
        return llf_defer(rc, busy, o, l, p, off);
    if (busy) {
        /* Where the answer goes (see llf_output_taken): the program's at once,
         * as with libcurl, which applies these mid-transfer. */
        CURLcode res = taken ? CURLE_OK : llf_setopt_as(rc, h, o, l, p, off);
        if (res == CURLE_OK)
            llf_record(busy, o, l, p, off);
        return res;
    }
    CURLcode res = llf_setopt_as(rc, h, o, l, p, off);
    if (res == CURLE_OK && !LLF_IN_LIB() && ours) {
        hstate *s = llf_state_get(h);
        if (s)
            llf_record(s, o, l, p, off);
    }
    return res;
}

/* ---- a transfer: passed on, or a managed call -------------------------- */

/* The handle of the transfer we let pass on this thread, and the multi
 * handle libcurl runs it on (the handle's own, added through our
 * curl_multi_add_handle): a multi call the program's callbacks make on any
 * other is the program's, whose connections are not the passed
 * transfer's (see curl_multi_perform). */
static __thread CURL *direct_easy __attribute__((tls_model("initial-exec")));
static __thread CURLM *direct_multi __attribute__((tls_model("initial-exec")));

/* A transfer we let pass, straight to where the program sent it. */
static CURLcode pass(const llf_curl_api *rc, CURL *h)
{
    CURL *easy = direct_easy;
    CURLM *multi = direct_multi;
    direct_easy = h;
    direct_multi = NULL;
    CURLcode res = llf_guarded_perform(rc, h, &llf_curl_direct);
    direct_easy = easy;
    direct_multi = multi;
    return res;
}

/* At the start of a call: no pause of an earlier one (or of a handle this
 * one was duplicated from, or left by a jump) carries over. */
static void pause_fresh(hstate *s)
{
    __atomic_store_n(&s->waiting, 0, __ATOMIC_SEQ_CST);
    s->delivering = s->in_transfer = s->want_pause = 0;
    s->pause_rc = CURLE_OK;
    clock_gettime(CLOCK_MONOTONIC, &s->call_t0);
}

static void forget(CURL *h, hstate *s);

/* The body of a read-callback upload, read once so every attempt can send it. */
static size_t read_once(const hstate *s, char *buf, size_t room)
{
    return s->readfn ? s->readfn(buf, 1, room, s->readdata)
                     : fread(buf, 1, room, s->readdata ? s->readdata : stdin);
}

/* What read_body found: the whole body, or what libcurl would make of the
 * reader's answer (abort, a "funny value"), or one too large to keep
 * (MAX_BODY): that one passes through, see pass_read. */
enum { RB_OK, RB_ABORT, RB_BAD, RB_LARGE };
static int read_body(hstate *s, llf_buf *b)
{
    char chunk[WRITE_CHUNK];
    /* A declared size is all libcurl would read: the source may hold more,
     * or stay open after it (a pipe). */
    curl_off_t want = s->method == M_PUT ? s->infilesize : s->postsize;
    for (;;) {
        size_t room = sizeof chunk;
        if (want >= 0 && (curl_off_t)b->n >= want)
            return RB_OK;
        if (want >= 0 && want - (curl_off_t)b->n < (curl_off_t)room)
            room = (size_t)(want - (curl_off_t)b->n);
        unsigned seen = __atomic_load_n(&s->unpauses[SEND], __ATOMIC_SEQ_CST);
        size_t n = read_once(s, chunk, room);
        if (n == CURL_READFUNC_PAUSE && s->readfn) {
            s->meter[0] = s->meter[1] = 0;
            s->meter[2] = want > 0 ? want : 0;
            s->meter[3] = (curl_off_t)b->n;
            if (llf_wait_unpause(s, SEND, seen))
                return RB_ABORT;
            continue;
        }
        if (n == 0)
            return RB_OK;
        if (n == CURL_READFUNC_ABORT)
            return RB_ABORT;
        if (n > room)
            return RB_BAD;
        int large = b->n + n > MAX_BODY;   /* (kept all the same: it is sent first) */
        if (llf_buf_add(b, chunk, n))
            return RB_ABORT;
        if (large)
            return RB_LARGE;
    }
}

/* A body too large to keep passes through as the program set it: what was
 * read of it first, then the rest from the program's reader. */
typedef struct replay {
    const hstate *s;
    const llf_buf *b;
    size_t off;
} replay;

static size_t replay_read(char *buf, size_t size, size_t nmemb, void *ud)
{
    replay *r = ud;
    size_t room = size * nmemb;
    if (r->off < r->b->n) {
        size_t k = r->b->n - r->off < room ? r->b->n - r->off : room;
        memcpy(buf, r->b->p + r->off, k);
        r->off += k;
        return k;
    }
    return read_once(r->s, buf, room);
}

static CURLcode pass_read(const llf_curl_api *rc, CURL *h, hstate *s, const llf_buf *b)
{
    replay r = {s, b, 0};
    rc->easy_setopt(h, CURLOPT_READFUNCTION, replay_read);
    rc->easy_setopt(h, CURLOPT_READDATA, &r);
    llf_call_begin(s, &llf_dirty_read);
    CURLcode res = pass(rc, h);
    rc->easy_setopt(h, CURLOPT_READFUNCTION, s->readfn);
    rc->easy_setopt(h, CURLOPT_READDATA, s->readdata);
    llf_call_end(s);
    return res;
}

/* What the program did to a handle from its callbacks while a call ran on
 * it, done now to h (the handle at the call's end, or a copy made
 * meanwhile), whose state is s: the reset it made (curl_easy_reset), then
 * the options it set after it (llf_defer), recorded as libcurl takes them. */
static void catch_up(const llf_curl_api *rc, CURL *h, hstate *s, int reset, const deferred *due)
{
    if (reset) {
        forget(h, s);
        rc->easy_reset(h);
        s = due ? llf_state_get(h) : NULL;
    }
    llf_due_apply(rc, h, s, due);
}

/* The program's FRESH_CONNECT back on a handle whose multi call took a
 * new connection (see curl_multi_add_handle), at the handle's next use:
 * its multi may have been cleaned up with it inside (libcurl then calls
 * no remove), and until then it is in a transfer of that multi. */
static void conn_back(const llf_curl_api *rc, CURL *h, hstate *s)
{
    if (s && s->conn_apart) {
        s->conn_apart = 0;
        rc->easy_setopt(h, CURLOPT_FRESH_CONNECT, s->fresh_connect);
    }
}

/* The URL the handle's next transfer goes to, as libcurl reads it: a
 * CURLOPT_CURLU's, or one without a scheme given the program's
 * CURLOPT_DEFAULT_PROTOCOL (curl --proto-default) or else the scheme
 * libcurl guesses for it (http but for hosts named ftp., imap. and the
 * like: "localhost:11434/api/chat" is a call). *own: NULL or a copy to
 * curl_free. */
static const char *next_url(const llf_curl_api *rc, const hstate *s, char **own)
{
    *own = NULL;
    if (s->curlu)
        return rc->url_get && rc->url_get(s->curlu, CURLUPART_URL, own, 0) == CURLUE_OK ? *own : s->url;
    if (!s->url || strstr(s->url, "://") || !rc->url || !rc->url_set || !rc->url_get)
        return s->url;
    CURLU *u = rc->url();
    int set;
    if (s->default_proto[0]) {
        /* (libcurl puts it first as it is, and its URL parser reads that) */
        size_t n = strlen(s->default_proto) + 3 + strlen(s->url) + 1;
        char *with = malloc(n);
        if (with)
            snprintf(with, n, "%s://%s", s->default_proto, s->url);
        set = u && with ? rc->url_set(u, CURLUPART_URL, with, CURLU_NON_SUPPORT_SCHEME) : CURLUE_OUT_OF_MEMORY;
        free(with);
    } else {
        set = u ? rc->url_set(u, CURLUPART_URL, s->url, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) : CURLUE_OUT_OF_MEMORY;
    }
    if (set == CURLUE_OK && rc->url_get(u, CURLUPART_URL, own, 0) != CURLUE_OK)
        *own = NULL;
    if (u)
        rc->url_cleanup(u);
    /* (a default scheme that did not parse: no call's) */
    return *own ? *own : s->default_proto[0] ? NULL : s->url;
}

/* Is the handle's next transfer a POST, as a completion call is (see
 * curl_easy_perform)? */
static int is_post(const hstate *s)
{
    return (s->method == M_POST || s->method == M_PUT) && (!s->customrequest || strcmp(s->customrequest, "POST") == 0) &&
           (s->method == M_POST || s->customrequest) && !s->request_target;
}

LLF_EXPORT CURLcode curl_easy_perform(CURL *h)
{
    const llf_curl_api *rc = llf_real_curl();
    if (!rc->easy_perform)
        return CURLE_FAILED_INIT;
    if (LLF_IN_LIB() || llf_disabled())
        return rc->easy_perform(h);
    hstate *s = llf_state_find(h);
    if (!s)
        return pass(rc, h);
    conn_back(rc, h, s);
    llf_ov_clear(s);
    pause_fresh(s);
    /* Only a POST to http(s) can be a completion call: everything else passes
     * before the core is even loaded. Methods are case-sensitive (a "post"
     * is another, which libcurl sends as written), and a request target of
     * the program's own (CURLOPT_REQUEST_TARGET) is what is asked, not the
     * URL's path: such a handle's transfer is not one the URL tells. */
    int post = is_post(s);
    char *curlu_url = NULL;
    const char *url = post ? next_url(rc, s, &curlu_url) : s->url;
    const llf_core_api *core = NULL;
    if (!post || !url || strncasecmp(url, "http", 4) != 0 || !(core = llf_core())) {
        if (curlu_url)
            rc->free(curlu_url);
        return pass(rc, h);
    }
    CURLcode res;
    if (s->postfields && s->method == M_POST) {
        size_t n = s->postsize >= 0 ? (size_t)s->postsize : strlen(s->postfields);
        res = llf_managed(h, s, core, url, s->postfields, n, NULL);
        if (res == CURLE_AGAIN)
            res = pass(rc, h);
    } else if (!core->is_endpoint(url)) {
        res = pass(rc, h);   /* an upload elsewhere: streamed as the program set it */
    } else {
        /* A read-callback body is consumed once, here; then every attempt,
         * and a pass-through, sends the copy. */
        llf_buf b = {0};
        llf_call_begin(s, &llf_dirty_none);   /* (its reader may reset the handle) */
        int got = read_body(s, &b);
        llf_call_end(s);
        if (got != RB_OK) {
            res = got == RB_LARGE ? pass_read(rc, h, s, &b) : got == RB_BAD ? CURLE_READ_ERROR
                  : s->pause_rc ? s->pause_rc : CURLE_ABORTED_BY_CALLBACK;
            llf_buf_free(&b);
        } else {
            res = llf_managed(h, s, core, url, b.p ? b.p : "", b.n, &b);
            if (res == CURLE_AGAIN) {
                /* (not a call: the copy goes as the program framed it) */
                copy_reader cr = {&b, 0};
                llf_read_from(rc, h, &cr);
                llf_call_begin(s, &llf_dirty_read);
                res = llf_guarded_perform(rc, h, &llf_in_lib);
                llf_read_back(rc, h, s);
                llf_call_end(s);
            }
            llf_buf_free(&b);
        }
    }
    if (curlu_url)
        rc->free(curlu_url);
    deferred *due = s->due;
    s->due = NULL;
    catch_up(rc, h, s, s->reset_due, due);
    llf_due_free(due);
    return res;
}

/* Unpausing a delivery of ours that waits (llf_wait_unpause) is counted, not
 * passed on: the transfer libcurl knows of is not paused. Every unpause is
 * counted, so that one racing the paused callback's return is not lost. */
LLF_EXPORT CURLcode curl_easy_pause(CURL *h, int bitmask)
{
    const llf_curl_api *rc = llf_real_curl();
    hstate *s = h && !llf_disabled() ? llf_state_find(h) : NULL;
    if (s) {
        if (!(bitmask & CURLPAUSE_RECV))
            __atomic_add_fetch(&s->unpauses[RECV], 1, __ATOMIC_SEQ_CST);
        if (!(bitmask & CURLPAUSE_SEND))
            __atomic_add_fetch(&s->unpauses[SEND], 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&s->waiting, __ATOMIC_SEQ_CST))
            return CURLE_OK;
        /* From a callback we deliver to after the transfer libcurl knows of
         * is over: the pause is ours to keep (call_write), from this count
         * of unpauses. Inside that transfer it is libcurl's. */
        if (s->delivering && !s->in_transfer) {
            if (bitmask & CURLPAUSE_RECV) {
                s->pause_seen = __atomic_load_n(&s->unpauses[RECV], __ATOMIC_SEQ_CST);
                s->want_pause = 1;
            }
            return CURLE_OK;
        }
    }
    return rc->easy_pause ? rc->easy_pause(h, bitmask) : CURLE_FAILED_INIT;
}

/* ---- what the program reads back --------------------------------------- */

LLF_EXPORT CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
    const llf_curl_api *rc = llf_real_curl();
    va_list ap;
    va_start(ap, info);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (!rc->easy_getinfo)
        return CURLE_FAILED_INIT;
    if (LLF_IN_LIB() || !llf_curl_table)
        return rc->easy_getinfo(h, info, arg);
    if (__atomic_load_n(&llf_snaps_live, __ATOMIC_RELAXED) && arg) {
        hstate *s = llf_state_find(h);
        if (s && s->ov.active && s->ov.snap && llf_snap_answer(s->ov.snap, info, arg) == 0)
            return CURLE_OK;
    }
    switch (info) {
    case CURLINFO_RESPONSE_CODE: case CURLINFO_EFFECTIVE_URL: case CURLINFO_CONTENT_TYPE:
    case CURLINFO_SIZE_DOWNLOAD: case CURLINFO_SIZE_DOWNLOAD_T: case CURLINFO_HEADER_SIZE:
    case CURLINFO_CONTENT_LENGTH_DOWNLOAD: case CURLINFO_CONTENT_LENGTH_DOWNLOAD_T:
    case CURLINFO_TOTAL_TIME: case CURLINFO_TOTAL_TIME_T: case CURLINFO_HTTP_VERSION:
    case CURLINFO_SIZE_UPLOAD: case CURLINFO_SIZE_UPLOAD_T:
        break;
    default:
        return rc->easy_getinfo(h, info, arg);
    }
    hstate *s = llf_state_find(h);
    if (!s || !s->ov.active || !arg)
        return rc->easy_getinfo(h, info, arg);
    if (info == CURLINFO_CONTENT_TYPE || info == CURLINFO_CONTENT_LENGTH_DOWNLOAD ||
        info == CURLINFO_CONTENT_LENGTH_DOWNLOAD_T)
        llf_ov_parse(s);
    switch (info) {
    case CURLINFO_RESPONSE_CODE: *(long *)arg = s->ov.code; break;
    case CURLINFO_EFFECTIVE_URL: *(char **)arg = s->ov.url; break;
    case CURLINFO_CONTENT_TYPE: *(char **)arg = s->ov.ctype; break;
    case CURLINFO_SIZE_DOWNLOAD: *(double *)arg = (double)s->ov.size; break;
    case CURLINFO_SIZE_DOWNLOAD_T: *(curl_off_t *)arg = s->ov.size; break;
    case CURLINFO_HEADER_SIZE: *(long *)arg = s->ov.header_size; break;
    case CURLINFO_CONTENT_LENGTH_DOWNLOAD: *(double *)arg = (double)s->ov.clen; break;
    case CURLINFO_CONTENT_LENGTH_DOWNLOAD_T: *(curl_off_t *)arg = s->ov.clen; break;
    case CURLINFO_TOTAL_TIME: *(double *)arg = s->ov.total_s; break;
    case CURLINFO_TOTAL_TIME_T: *(curl_off_t *)arg = (curl_off_t)(s->ov.total_s * 1e6); break;
    case CURLINFO_HTTP_VERSION: *(long *)arg = s->ov.http_version; break;
    case CURLINFO_SIZE_UPLOAD: *(double *)arg = (double)s->ov.upload; break;
    case CURLINFO_SIZE_UPLOAD_T: *(curl_off_t *)arg = s->ov.upload; break;
    default: break;
    }
    return CURLE_OK;
}

LLF_EXPORT CURLHcode curl_easy_header(CURL *h, const char *name, size_t index, unsigned int origin,
                                      int request, struct curl_header **hout)
{
    const llf_curl_api *rc = llf_real_curl();
    hstate *s = LLF_IN_LIB() || !llf_curl_table ? NULL : llf_state_find(h);
    if (!s || !s->ov.active)
        return rc->easy_header ? rc->easy_header(h, name, index, origin, request, hout)
                               : CURLHE_NOT_BUILT_IN;
    if (!hout || !name || (origin & ~(unsigned)(CURLH_HEADER | CURLH_TRAILER | CURLH_CONNECT |
                                                CURLH_1XX | CURLH_PSEUDO)) || !origin)
        return CURLHE_BAD_ARGUMENT;
    if (request > 0)
        return CURLHE_NOREQUEST;
    llf_ov_parse(s);
    size_t seen = 0;
    for (size_t i = 0; i < s->ov.nh; i++) {
        if (!(s->ov.origins[i] & origin) || strcasecmp(s->ov.names[i], name) != 0)
            continue;
        if (seen++ == index) {
            *hout = llf_ov_header(s, i, origin);
            return CURLHE_OK;
        }
    }
    return seen ? CURLHE_BADINDEX : CURLHE_MISSING;
}

LLF_EXPORT struct curl_header *curl_easy_nextheader(CURL *h, unsigned int origin, int request,
                                                    struct curl_header *prev)
{
    const llf_curl_api *rc = llf_real_curl();
    hstate *s = LLF_IN_LIB() || !llf_curl_table ? NULL : llf_state_find(h);
    if (!s || !s->ov.active)
        return rc->easy_nextheader ? rc->easy_nextheader(h, origin, request, prev) : NULL;
    if (request > 0)
        return NULL;
    llf_ov_parse(s);
    size_t i = prev ? (size_t)(uintptr_t)prev->anchor + 1 : 0;
    while (i < s->ov.nh && !(s->ov.origins[i] & origin))
        i++;
    return i < s->ov.nh ? llf_ov_header(s, i, origin) : NULL;
}

/* ---- handle life cycle ------------------------------------------------- */

/* Could the handle's next transfer, to url, be a completion call the relay
 * takes: a POST to a provider's endpoint over http:// (one over https://
 * passes through the relay untouched)? (Loads the core, as
 * curl_easy_perform does for any POST to http.) */
static int relayed_call(const llf_curl_api *rc, const hstate *s, const char *url)
{
    const llf_core_api *core = is_post(s) && url && strncasecmp(url, "http://", 7) == 0 ? llf_core() : NULL;
    return core && core->is_endpoint(url);
}

/* A handle run through the multi interface passes through (the socket
 * path, the relay, takes its call): from then on getinfo describes that
 * transfer, not the last managed call. A handle whose share holds
 * connections meets there the curl path's, which go straight to the
 * provider: a call over http:// reusing one went past the relay. Such a
 * call takes a new connection (to the relay, which keeps the provider's
 * alive itself); the one it leaves in the share the curl path does not
 * take (perform_attempt). */
LLF_EXPORT CURLMcode curl_multi_add_handle(CURLM *m, CURL *h)
{
    const llf_curl_api *rc = llf_real_curl();
    if (!rc->multi_add_handle)
        return CURLM_INTERNAL_ERROR;
    int libcurls = llf_curl_direct && h == direct_easy;   /* (its own, in a transfer we let pass) */
    if (libcurls && !direct_multi)
        direct_multi = m;
    hstate *s = LLF_IN_LIB() || !llf_curl_table ? NULL : llf_state_find(h);
    if (s) {
        llf_ov_clear(s);
        pause_fresh(s);   /* (its pauses are libcurl's from here) */
    }
    if (!s || libcurls)
        return rc->multi_add_handle(m, h);
    int apart = 0;
    if (s->share && !llf_disabled() && llf_share_holds(s->share, SH_CONNECT)) {
        char *own;
        const char *url = next_url(rc, s, &own);
        /* (any transfer over http:// may leave a connection to the relay
         * in the share: from then on the curl path takes none there) */
        if (url && strncasecmp(url, "http://", 7) == 0)
            llf_share_note(s->share, SH_RELAYED, 1);
        apart = relayed_call(rc, s, url);
        if (own)
            rc->free(own);
    }
    if (apart)   /* (again each time: the program may have set its own meanwhile) */
        rc->easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    CURLMcode r = rc->multi_add_handle(m, h);
    if (r == CURLM_OK && !apart)
        conn_back(rc, h, s);   /* (its last multi was cleaned up with it inside) */
    else if (r == CURLM_OK)
        s->conn_apart = 1;
    else if (apart && !s->conn_apart)
        rc->easy_setopt(h, CURLOPT_FRESH_CONNECT, s->fresh_connect);
    return r;
}

/* A multi call of the program's from a callback of a transfer we let pass
 * (llf_curl_direct on) is the program's: its connections go through the
 * relay like any multi call's. (They went straight to the provider, and
 * its call had no fallback.) */
#define PROGRAM_MULTI(m, call)                                      \
    do {                                                            \
        if (!llf_curl_direct || (m) == direct_multi)                \
            return call;                                            \
        llf_curl_direct = 0;                                        \
        CURLMcode r_ = call;                                        \
        llf_curl_direct = 1;                                        \
        return r_;                                                  \
    } while (0)

LLF_EXPORT CURLMcode curl_multi_perform(CURLM *m, int *running)
{
    const llf_curl_api *rc = llf_real_curl();
    if (!rc->multi_perform)
        return CURLM_INTERNAL_ERROR;
    PROGRAM_MULTI(m, rc->multi_perform(m, running));
}

LLF_EXPORT CURLMcode curl_multi_socket_action(CURLM *m, curl_socket_t fd, int ev, int *running)
{
    const llf_curl_api *rc = llf_real_curl();
    if (!rc->multi_socket_action)
        return CURLM_INTERNAL_ERROR;
    PROGRAM_MULTI(m, rc->multi_socket_action(m, fd, ev, running));
}

/* (curl.h makes the old name a macro for curl_multi_socket_action, for
 * programs built since; those built before call it) */
#undef curl_multi_socket
LLF_EXPORT CURLMcode curl_multi_socket(CURLM *m, curl_socket_t fd, int *running)
{
    const llf_curl_api *rc = llf_real_curl();
    if (!rc->multi_socket)
        return CURLM_INTERNAL_ERROR;
    PROGRAM_MULTI(m, rc->multi_socket(m, fd, running));
}

LLF_EXPORT CURLMcode curl_multi_socket_all(CURLM *m, int *running)
{
    const llf_curl_api *rc = llf_real_curl();
    if (!rc->multi_socket_all)
        return CURLM_INTERNAL_ERROR;
    PROGRAM_MULTI(m, rc->multi_socket_all(m, running));
}

/* A new handle may sit where a freed one was: one libcurl made and freed
 * itself (its DoH probes), whose options went through our setopt but whose
 * end we never saw. What we held for that address is not this handle's. */
LLF_EXPORT CURL *curl_easy_init(void)
{
    const llf_curl_api *rc = llf_real_curl();
    CURL *h = rc->easy_init ? rc->easy_init() : NULL;
    if (h && !LLF_IN_LIB() && __atomic_load_n(&llf_curl_table, __ATOMIC_ACQUIRE))
        llf_state_drop(h);
    return h;
}

/* curl_easy_reset forgets the options, not what libcurl keeps beside them
 * (its cookies, its share, its DNS cache): the jar and the share stay the
 * handle's, and so do the entries of a RESOLVE list (see resolve_for). */
static void forget(CURL *h, hstate *s)
{
    hstate keep = {0};
    if (s) {
        keep.jar = s->jar;
        keep.share = s->share;
        keep.resolve_copy = s->resolve_copy;
        keep.resolve_lost = s->resolve_lost;
        s->resolve_copy = NULL;
    }
    llf_state_drop(h);
    hstate *n = keep.jar || keep.share || keep.resolve_copy || keep.resolve_lost ? llf_state_get(h) : NULL;
    if (n) {
        n->jar = keep.jar;
        n->share = keep.share;
        n->resolve_copy = keep.resolve_copy;
        n->resolve_lost = keep.resolve_lost;
    } else {
        llf_slist_drop(&keep.resolve_copy);
    }
}

/* From a callback of the program's while a call of ours runs on the
 * handle, the call still needs what the program set (its URL, its body):
 * the reset is done at the call's end, and the state forgotten then
 * (curl_easy_perform). Not before: libcurl, whose own transfer on the
 * handle may be the one calling back, frees what that transfer is using
 * (libcurl's rule: no call of its from inside its callbacks), and curl
 * went on with it into freed memory now and then. */
LLF_EXPORT void curl_easy_reset(CURL *h)
{
    const llf_curl_api *rc = llf_real_curl();
    hstate *busy = LLF_IN_LIB() && !llf_disabled() ? llf_busy_state(h) : NULL;
    if (!LLF_IN_LIB() || busy) {
        hstate *s = busy ? busy : llf_state_find(h);
        if (s && s->call_dirty) {
            s->reset_due = 1;
            llf_due_free(s->due);   /* (what was set before it is gone) */
            s->due = NULL;
            return;
        }
        forget(h, s);
    }
    if (rc->easy_reset)
        rc->easy_reset(h);
}

LLF_EXPORT void curl_easy_cleanup(CURL *h)
{
    const llf_curl_api *rc = llf_real_curl();
    if (!LLF_IN_LIB() && h)
        llf_state_drop(h);
    if (rc->easy_cleanup)
        rc->easy_cleanup(h);
}

/* Which share handles hold cookies, for what CURLOPT_SHARE does to a
 * handle's jar, and connections or TLS sessions (llf_share_holds). The argument is forwarded with the
 * type libcurl reads for the option. */
LLF_EXPORT CURLSHcode curl_share_setopt(CURLSH *sh, CURLSHoption o, ...)
{
    const llf_curl_api *rc = llf_real_curl();
    if (!rc->share_setopt)
        return CURLSHE_NOT_BUILT_IN;
    va_list ap;
    va_start(ap, o);
    CURLSHcode r;
    int data = -1;
    if (o == CURLSHOPT_SHARE || o == CURLSHOPT_UNSHARE) {
        data = va_arg(ap, int);
        r = rc->share_setopt(sh, o, data);
    } else if (o == CURLSHOPT_LOCKFUNC || o == CURLSHOPT_UNLOCKFUNC) {
        anyfn f = va_arg(ap, anyfn);
        r = rc->share_setopt(sh, o, f);
    } else {
        void *p = va_arg(ap, void *);
        r = rc->share_setopt(sh, o, p);
    }
    va_end(ap);
    if (r == CURLSHE_OK && !llf_disabled() &&
        (data == CURL_LOCK_DATA_COOKIE || data == CURL_LOCK_DATA_CONNECT || data == CURL_LOCK_DATA_SSL_SESSION))
        llf_share_note(sh,
                       data == CURL_LOCK_DATA_COOKIE ? SH_COOKIE
                       : data == CURL_LOCK_DATA_SSL_SESSION ? SH_SSL
                                                            : SH_CONNECT | (o == CURLSHOPT_SHARE ? 0 : SH_RELAYED),
                       o == CURLSHOPT_SHARE);
    return r;
}

LLF_EXPORT CURLSHcode curl_share_cleanup(CURLSH *sh)
{
    const llf_curl_api *rc = llf_real_curl();
    if (!rc->share_cleanup)
        return CURLSHE_NOT_BUILT_IN;
    CURLSHcode r = rc->share_cleanup(sh);
    if (r == CURLSHE_OK)
        llf_share_note(sh, SH_COOKIE | SH_CONNECT | SH_RELAYED, 0);   /* (a new share may be given its address) */
    return r;
}

/* libcurl copies the options the handle has now: during a call of ours
 * (a callback of the program's duplicating its handle) those of an
 * attempt, a member's URL, key, body and trust, and callbacks whose data
 * lives in the attempt's frame. The copy gets the program's instead, put
 * back on it as llf_restore() puts them back on the handle after the call. */
LLF_EXPORT CURL *curl_easy_duphandle(CURL *h)
{
    const llf_curl_api *rc = llf_real_curl();
    if (!rc->easy_duphandle)
        return NULL;
    CURL *d = rc->easy_duphandle(h);
    hstate *busy = d && LLF_IN_LIB() && !llf_disabled() ? llf_busy_state(h) : NULL;
    if (!d || (LLF_IN_LIB() && !busy))
        return d;
    llf_state_drop(d);   /* (as in curl_easy_init) */
    hstate *s = busy ? busy : llf_state_find(h);
    if (!s)
        return d;
    hstate *n = llf_state_get(d);
    if (!n) {
        if (s->call_dirty) {   /* (no state to give it: not ours at least) */
            rc->easy_cleanup(d);
            return NULL;
        }
        return d;
    }
    UT_hash_handle keep = n->hh;
    *n = *s;
    n->hh = keep;
    n->h = d;
    n->call_dirty = NULL;
    n->reset_due = 0;
    n->due = NULL;
    memset(&n->ov, 0, sizeof n->ov);
    pause_fresh(n);
    n->url = s->url ? strdup(s->url) : NULL;
    n->customrequest = s->customrequest ? strdup(s->customrequest) : NULL;
    n->user = s->user ? strdup(s->user) : NULL;
    n->pass = s->pass ? strdup(s->pass) : NULL;
    n->bearer = s->bearer ? strdup(s->bearer) : NULL;
    n->cookie = s->cookie ? strdup(s->cookie) : NULL;
    n->unix_path = s->unix_path ? strdup(s->unix_path) : NULL;
    n->member_hdrs = NULL;
    llf_tls_dup(n, s);   /* (libcurl's copy has the same options) */
    /* libcurl's copy has a jar of its own if this one has a jar, no share,
     * and the same RESOLVE list to load into a DNS cache of its own. */
    n->cookiefiles = llf_slist_copy(s->cookiefiles);
    n->cookiejar = s->cookiejar ? strdup(s->cookiejar) : NULL;
    n->jar = s->jar != JAR_NONE ? JAR_OWN : JAR_NONE;
    n->share = NULL;
    n->conn_apart = 0;
    if (s->conn_apart)   /* (a copy made during or after a multi call: its options are the program's) */
        rc->easy_setopt(d, CURLOPT_FRESH_CONNECT, s->fresh_connect);
    n->jar_aside = JAR_NONE;
    n->aside = NULL;
    n->member_resolve = NULL;
    n->resolve_off = 0;
    n->resolve_copy = s->resolve_set ? llf_slist_copy(s->resolve_copy) : NULL;
    n->resolve_lost = s->resolve_set && (s->resolve_lost || (s->resolve_copy && !n->resolve_copy));
    if (!n->resolve_copy)
        n->resolve_set = n->resolve_ours = 0;
    else if (n->resolve_ours)   /* (libcurl's copy holds ours: its own copy instead) */
        rc->easy_setopt(d, CURLOPT_RESOLVE, n->resolve_copy);
    n->copypost = NULL;
    if (s->copypost && (n->copypost = malloc(s->copypost_len + 1))) {
        memcpy(n->copypost, s->copypost, s->copypost_len + 1);
        if (s->postfields == s->copypost)
            n->postfields = n->copypost;
    } else if (s->postfields == s->copypost) {
        n->postfields = NULL;
    }
    if (s->call_dirty) {
        /* A member's cookie jar set aside (jar_aside): the copy's own
         * jar, as libcurl would have copied it (never the share's), with
         * the cookies the handle had; a member's DNS removals: the
         * program's list. */
        unsigned dirty = *s->call_dirty;
        if (s->jar_aside != JAR_NONE) {
            n->jar_aside = JAR_OWN;
            n->aside = llf_slist_copy(s->aside);
            dirty |= D_JAR;
        }
        if (s->resolve_off) {
            n->resolve_off = 1;
            dirty |= D_ROUTE;
        }
        llf_restore(d, n, dirty);
        rc->easy_setopt(d, CURLOPT_HTTPHEADER, n->headers);
    }
    catch_up(rc, d, n, s->reset_due, s->due);   /* (held back until the call's end) */
    return d;
}
