/* curl_attempt.c — one managed call on the program's handle, its attempts
 * and what it hands the program at its end (see curl_attempt.h). */
#include "curl_attempt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "curl_capture.h"
#include "curl_deliver.h"
#include "curl_info.h"
#include "curl_tls.h"
#include "hooks.h"
#include "shim.h"
#include "sse.h"

/* A real transfer with a guard on (llf_in_lib: libcurl's own calls to the
 * hooks go straight to it; llf_curl_direct: its connections go where the
 * program sent them), put back as it was after, and the frame that set it
 * kept for llf_guard_live. */
CURLcode llf_guarded_perform(const llf_curl_api *rc, CURL *h, int *guard)
{
    int keep = *guard;
    void *frame = llf_guard_frame;
    llf_guard_frame = __builtin_frame_address(0);
    *guard = 1;
    CURLcode res = rc->easy_perform(h);
    *guard = keep;
    llf_guard_frame = frame;
    return res;
}

static struct curl_slist *to_slist(const llf_curl_api *rc, const llf_headers *h)
{
    struct curl_slist *l = NULL;
    for (size_t i = 0; i < h->n; i++) {
        struct curl_slist *n = rc->slist_append(l, h->v[i]);
        if (!n) {
            rc->slist_free_all(l);
            return NULL;
        }
        l = n;
    }
    return l;
}

/* A member's header list for libcurl: the handle's last one when it is the
 * same lines (a program sends the same headers call after call), else
 * built anew. NULL with no memory. */
static struct curl_slist *member_slist(const llf_curl_api *rc, hstate *s, const llf_headers *h)
{
    const struct curl_slist *l = s->member_hdrs;
    size_t i = 0;
    while (l && i < h->n && strcmp(l->data, h->v[i]) == 0) {
        l = l->next;
        i++;
    }
    if (s->member_hdrs && !l && i == h->n)
        return s->member_hdrs;
    if (s->member_hdrs)
        rc->slist_free_all(s->member_hdrs);
    s->member_hdrs = to_slist(rc, h);
    return s->member_hdrs;
}

/* The program's own credentials (NULL ones clear), and whether libcurl
 * looks for more in a .netrc. */
static void set_creds(const llf_curl_api *rc, CURL *h, const hstate *s)
{
    rc->easy_setopt(h, CURLOPT_USERNAME, s->user);
    rc->easy_setopt(h, CURLOPT_PASSWORD, s->pass);
    rc->easy_setopt(h, CURLOPT_XOAUTH2_BEARER, s->bearer);
    rc->easy_setopt(h, CURLOPT_COOKIE, s->cookie);
    rc->easy_setopt(h, CURLOPT_NETRC, s->netrc);
}

static void set_follow(const llf_curl_api *rc, CURL *h, const hstate *s)
{
    rc->easy_setopt(h, CURLOPT_FOLLOWLOCATION, s->follow);
    rc->easy_setopt(h, CURLOPT_UNRESTRICTED_AUTH, s->unrestricted_auth);
}

static void set_route(const llf_curl_api *rc, CURL *h, hstate *s)
{
    rc->easy_setopt(h, s->unix_abstract ? CURLOPT_ABSTRACT_UNIX_SOCKET : CURLOPT_UNIX_SOCKET_PATH, s->unix_path);
    rc->easy_setopt(h, CURLOPT_CONNECT_TO, s->connect_to);
    rc->easy_setopt(h, CURLOPT_PORT, s->port);
    rc->easy_setopt(h, CURLOPT_LOCALPORT, s->localport);
    rc->easy_setopt(h, CURLOPT_LOCALPORTRANGE, s->localportrange ? s->localportrange : 1L);
    rc->easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, s->opensocketfn);
    rc->easy_setopt(h, CURLOPT_OPENSOCKETDATA, s->opensocketdata);
    rc->easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, s->sockoptfn);
    rc->easy_setopt(h, CURLOPT_SOCKOPTDATA, s->sockoptdata);
    rc->easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, s->closesocketfn);
    rc->easy_setopt(h, CURLOPT_CLOSESOCKETDATA, s->closesocketdata);
    if (s->resolve_off) {
        /* (loaded into the DNS cache at the next transfer's start: the
         * program's entries, and its wildcard, hold again from there) */
        rc->easy_setopt(h, CURLOPT_RESOLVE, s->resolve_copy);
        rc->easy_setopt(h, CURLOPT_FRESH_CONNECT, s->fresh_connect);
        rc->easy_setopt(h, CURLOPT_FORBID_REUSE, s->forbid_reuse);
        llf_slist_drop(&s->member_resolve);
        s->resolve_off = 0;
        s->resolve_set = s->resolve_ours = 1;
    }
}

/* What the program told libcurl's DNS cache (CURLOPT_RESOLVE) must not take
 * a member of another provider elsewhere than its base URL names: a
 * wildcard ("*:PORT:ADDR") sends every host on that port to the program's
 * address, IP literals too, and an entry for the member's own host and port
 * does as much for it. libcurl loads a list into the cache at the start of
 * the next transfer (Curl_loadhostpairs) and the entries stay there (in a
 * share's cache for all the share's handles), the wildcard's switch on the
 * handle: setting the option to NULL takes nothing back. Loading a list of
 * removals does: the switch is on only while the last list loaded had a
 * wildcard, and each "-HOST:PORT" deletes that entry. So the member runs
 * with one removal: of the program's entry for the member's host and port
 * if it has one, else of a name no cache holds (that only turns the
 * wildcard off; deleting what another handle put into a shared cache would
 * change that handle's way too). libcurl picks a live connection by name,
 * not address: the member takes none that the program's entries made, and
 * leaves none for the program's. set_route loads the program's list again.
 * 0, or -1 with no memory. */
static int resolve_for(const llf_curl_api *rc, CURL *h, hstate *s, const char *url)
{
    if (s->resolve_lost)
        return -1;
    char *host = NULL, *port = NULL;
    CURLU *u = rc->url ? rc->url() : NULL;
    if (u && rc->url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        rc->url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
        rc->url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    int wildcard = 0, pinned = 0;
    for (const struct curl_slist *l = s->resolve_copy; l; l = l->next) {
        const char *e = l->data + (l->data[0] == '+');
        const char *colon = strchr(e, ':');
        if (e[0] == '-' || !colon)
            continue;
        size_t n = (size_t)(colon - e);
        if (n == 1 && e[0] == '*')
            wildcard = 1;
        else if (host && port && n == strlen(host) && strncasecmp(e, host, n) == 0 &&
                 strtoul(colon + 1, NULL, 10) == strtoul(port, NULL, 10))
            pinned = 1;
    }
    struct curl_slist *l = NULL;
    if (wildcard || pinned) {
        char entry[320];
        snprintf(entry, sizeof entry, "-%s:%s", pinned ? host : "llmfallback.invalid", pinned ? port : "1");
        l = rc->slist_append(NULL, entry);
    }
    if (host)
        rc->free(host);
    if (port)
        rc->free(port);
    if (u)
        rc->url_cleanup(u);
    if (!wildcard && !pinned)
        return 0;
    if (!l)
        return -1;
    rc->easy_setopt(h, CURLOPT_RESOLVE, l);
    rc->easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    rc->easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    llf_slist_drop(&s->member_resolve);   /* (a member's before: libcurl holds l now) */
    s->member_resolve = l;
    s->resolve_off = 1;
    return 0;
}

/* The handle's cookies are the program's: a member of another provider is
 * sent none of them and leaves none of its own there. libcurl turns a
 * handle's cookie engine off only with COOKIEFILE NULL, which also clears
 * the list of cookie files (read again at every transfer's start in 7.88:
 * a jar emptied with "ALL" would be filled again from them for the
 * member). A share's jar is only left by it (libcurl throws away only a
 * jar of the handle's own), and joined again by setting the share again;
 * the program's other handles use it meanwhile, so it is never emptied,
 * filled or written here. A jar of the handle's own is thrown away, so its
 * cookies are listed first (CURLINFO_COOKIELIST, the jar file's lines) and
 * given back one by one (CURLOPT_COOKIELIST) into a new engine (jar_back). */
static void jar_aside(const llf_curl_api *rc, CURL *h, hstate *s)
{
    int jar = s->jar == JAR_NONE && s->cookiefiles ? JAR_OWN : s->jar;
    if (jar == JAR_NONE)
        return;
    if (jar == JAR_OWN) {
        struct curl_slist *l = NULL;
        if (rc->easy_getinfo(h, CURLINFO_COOKIELIST, &l) == CURLE_OK)
            s->aside = l;
    }
    rc->easy_setopt(h, CURLOPT_COOKIEFILE, (char *)NULL);
    s->jar_aside = jar;
}

static void jar_back(const llf_curl_api *rc, CURL *h, hstate *s)
{
    int jar = s->jar_aside;
    if (jar == JAR_NONE)
        return;
    s->jar_aside = JAR_NONE;
    for (const struct curl_slist *l = s->cookiefiles; l; l = l->next)
        rc->easy_setopt(h, CURLOPT_COOKIEFILE, l->data);
    if (jar == JAR_SHARED) {
        rc->easy_setopt(h, CURLOPT_SHARE, s->share);
        return;
    }
    /* An empty engine (COOKIEJAR starts one, whatever the name), then the
     * cookies in the order listed: a site's cookies are listed oldest
     * first, and the jar file lists the newest first. The files are read
     * again at the next transfer's start, as they would be; a cookie there
     * does not replace one given here (libcurl keeps the one it did not
     * read from a file). */
    rc->easy_setopt(h, CURLOPT_COOKIEJAR, s->cookiejar);
    for (const struct curl_slist *l = s->aside; l; l = l->next)
        rc->easy_setopt(h, CURLOPT_COOKIELIST, l->data);
    llf_slist_drop(&s->aside);
}

/* The program's body options as it set them. */
static void restore_post(const llf_curl_api *rc, CURL *h, const hstate *s)
{
    /* Size first: COPYPOSTFIELDS copies that many bytes (or up to the NUL
     * when it is -1), and a size set after it would drop libcurl's copy. */
    rc->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, s->postsize);
    if (s->copypost && s->postfields == s->copypost) {
        rc->easy_setopt(h, CURLOPT_COPYPOSTFIELDS, s->copypost);
    } else {
        rc->easy_setopt(h, CURLOPT_POSTFIELDS, (void *)s->postfields);
    }
    if (s->method == M_PUT)
        rc->easy_setopt(h, CURLOPT_UPLOAD, 1L);
    else if (s->method == M_POST && !s->postfields)
        rc->easy_setopt(h, CURLOPT_POST, 1L);
}

/* copy_reader: libcurl reads the copy, and rewinds it when it must send it
 * again (a redirect, an authentication, a connection found dead). */
static size_t copy_read(char *buf, size_t size, size_t nmemb, void *ud)
{
    copy_reader *r = ud;
    size_t room = size * nmemb, k = r->b->n - r->off < room ? r->b->n - r->off : room;
    if (k)
        memcpy(buf, r->b->p + r->off, k);
    r->off += k;
    return k;
}

static int copy_seek(void *ud, curl_off_t offset, int origin)
{
    copy_reader *r = ud;
    if (origin != SEEK_SET || offset < 0 || (curl_off_t)r->b->n < offset)
        return CURL_SEEKFUNC_CANTSEEK;
    r->off = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

void llf_read_from(const llf_curl_api *rc, CURL *h, copy_reader *r)
{
    rc->easy_setopt(h, CURLOPT_READFUNCTION, copy_read);
    rc->easy_setopt(h, CURLOPT_READDATA, r);
    rc->easy_setopt(h, CURLOPT_SEEKFUNCTION, copy_seek);
    rc->easy_setopt(h, CURLOPT_SEEKDATA, r);
}

void llf_read_back(const llf_curl_api *rc, CURL *h, const hstate *s)
{
    rc->easy_setopt(h, CURLOPT_READFUNCTION, s->readfn);
    rc->easy_setopt(h, CURLOPT_READDATA, s->readdata);
    rc->easy_setopt(h, CURLOPT_SEEKFUNCTION, s->seekfn);
    rc->easy_setopt(h, CURLOPT_SEEKDATA, s->seekdata);
}

static int perform_attempt(void *ud, const llf_req *req, const llf_attempt *at, llf_resp *out)
{
    attempt_ctx *c = ud;
    const llf_curl_api *rc = llf_real_curl();
    hstate *s = c->s;
    CURL *h = c->h;
    int original = req == c->orig;

    if (c->snap_due && !c->snap)
        c->snap = llf_snap_take(h);
    c->snap_due = original && !c->orig_out;
    if (c->snap_due)
        c->orig_out = out;
    memset(out, 0, sizeof *out);
    c->out = out;
    c->at = at;
    c->live = c->got_byte = c->gated = c->tunnel = c->pipe_broke = c->first_ok = c->passing = 0;
    c->original = original;
    c->fail_at_head = original && s->failonerror;
    memset(&c->sse, 0, sizeof c->sse);
    c->pipe = NULL;
    c->gate = NULL;
    c->block_start = 0;
    c->block_status = 0;
    c->trailers_given = 0;
    clock_gettime(CLOCK_MONOTONIC, &c->t0);
    c->fb_t0 = c->t0;
    c->up_seen = 0;
    c->up_done = 0;

    if (!original || s->curlu || (c->dirty & D_URL)) {
        if (s->curlu)
            rc->easy_setopt(h, CURLOPT_CURLU, (void *)NULL);
        rc->easy_setopt(h, CURLOPT_URL, req->url);
        c->dirty |= D_URL;
    }
    if (original && (c->dirty & D_CREDS))
        set_creds(rc, h, s);   /* an override candidate went first */
    if (original && (c->dirty & D_FOLLOW))
        set_follow(rc, h, s);
    if (original && (c->dirty & D_TLS)) {
        llf_tls_back(rc, h, s);   /* a member went first: the program's trust again */
        c->dirty &= ~(unsigned)D_TLS;
    }
    if ((original || req->own_server) && (c->dirty & D_ROUTE)) {
        set_route(rc, h, s);
        c->dirty &= ~(unsigned)D_ROUTE;
    }
    if ((original || req->same_provider) && (c->dirty & D_JAR)) {
        jar_back(rc, h, s);
        c->dirty &= ~(unsigned)D_JAR;
    }
    /* A share of connections may hold one a multi transfer of the
     * program's made to the relay (the socket path), which would manage
     * the attempt a second time: over http:// (over https:// the relay's
     * is a tunnel), each attempt on a handle of a share any of whose
     * handles went through a multi handle takes a new one (the curl
     * tool's handles share their connections whether it runs them so or
     * not). (Set again each time: putting back the program's route or
     * trust above puts back its FRESH_CONNECT too.) */
    if (s->share && strncasecmp(req->url, "http://", 7) == 0 && llf_share_holds(s->share, SH_RELAYED)) {
        rc->easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        c->dirty |= D_CONN;
    }
    if (original)
        c->nsecret = 0;   /* the program's own credentials are its to show */
    if (!original) {
        struct curl_slist *hdrs = member_slist(rc, s, &req->headers);
        if ((!hdrs && req->headers.n) || s->tls_lost ||
            (!req->own_server && (s->resolve_copy || s->resolve_lost) && resolve_for(rc, h, s, req->url))) {
            out->curlcode = CURLE_OUT_OF_MEMORY;
            return -1;
        }
        /* Every member, the program's own provider's too, is verified with
         * the library's trust (tls_opts), as on the relay path. A member
         * over plain HTTP (a local server) has no TLS of its own to verify
         * and follows no redirect: the options stay (a proxy's TLS is the
         * program's, PROXY_* options, whoever the member is). */
        if (strncasecmp(req->url, "http://", 7) != 0)
            c->dirty |= llf_tls_member(rc, h, s, llf_core()->ca_bundle());
        rc->easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        /* The program's credentials (only those it set: the others are
         * not on the handle, but for a .netrc's, which libcurl reads
         * itself) never reach another provider; nor do its cookies. */
        if (!req->same_provider && (s->has_creds || s->netrc)) {
            c->dirty |= D_CREDS;
            rc->easy_setopt(h, CURLOPT_USERNAME, (char *)NULL);
            rc->easy_setopt(h, CURLOPT_PASSWORD, (char *)NULL);
            rc->easy_setopt(h, CURLOPT_XOAUTH2_BEARER, (char *)NULL);
            rc->easy_setopt(h, CURLOPT_COOKIE, (char *)NULL);
            rc->easy_setopt(h, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
        }
        if (!req->same_provider && !(c->dirty & D_JAR) && (s->jar != JAR_NONE || s->cookiefiles)) {
            jar_aside(rc, h, s);
            c->dirty |= D_JAR;
        }
        /* A redirect would carry the member's key to whatever host the
         * member names (libcurl drops only Authorization, and not even
         * that under UNRESTRICTED_AUTH): a member's 3xx is its answer. */
        if (s->follow || s->unrestricted_auth) {
            rc->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
            rc->easy_setopt(h, CURLOPT_UNRESTRICTED_AUTH, 0L);
            c->dirty |= D_FOLLOW;
        }
        /* The program's own way to its server (a Unix socket, --connect-to,
         * a port of its own, its DNS entries: resolve_for, socket callbacks
         * that pick the address or connect themselves) leads to that
         * server, whatever the URL says: another provider's member goes
         * where its base URL names, or its key would go to the program's
         * server and the fallback never reach the member. A local port of
         * the program's (curl --local-port) is its provider's connection's,
         * still held: a member of another server connecting from it failed
         * to bind, every time. */
        if (!req->own_server && !(c->dirty & D_ROUTE) &&
            (s->unix_path || s->connect_to || s->port || s->opensocketfn || s->sockoptfn ||
             s->closesocketfn || s->localport)) {
            rc->easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, (char *)NULL);
            rc->easy_setopt(h, CURLOPT_CONNECT_TO, (struct curl_slist *)NULL);
            rc->easy_setopt(h, CURLOPT_PORT, 0L);
            rc->easy_setopt(h, CURLOPT_LOCALPORT, 0L);
            rc->easy_setopt(h, CURLOPT_LOCALPORTRANGE, 1L);
            rc->easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, (curl_opensocket_callback)NULL);
            rc->easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, (curl_sockopt_callback)NULL);
            rc->easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, (curl_closesocket_callback)NULL);
            c->dirty |= D_ROUTE;
        }
        if (s->resolve_off)
            c->dirty |= D_ROUTE;
        if (s->verbose)
            llf_note_secrets(c, llf_core(), req);
        if (s->verbose && !(c->dirty & D_DEBUG)) {
            rc->easy_setopt(h, CURLOPT_DEBUGFUNCTION, llf_cap_debug);
            rc->easy_setopt(h, CURLOPT_DEBUGDATA, c);
            c->dirty |= D_DEBUG;
        }
    }
    /* The original's body is the program's own postfields, already set; or
     * its reader's, read into a copy and sent through a reader of ours, so
     * that libcurl frames it as the program asked (upload or POST, its size
     * or chunked, its Expect, no Content-Type of its own added). */
    if (original && c->upload) {
        if (c->dirty & D_POST) {   /* (an override candidate went first) */
            restore_post(rc, h, s);
            c->dirty &= ~(unsigned)D_POST;
        }
        c->reader = (copy_reader){c->upload, 0};
        llf_read_from(rc, h, &c->reader);
        c->dirty |= D_READ;
    } else if (!original || req->body.p != s->postfields || (c->dirty & D_POST)) {
        rc->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.n);
        rc->easy_setopt(h, CURLOPT_POSTFIELDS, req->body.p ? req->body.p : "");
        c->dirty |= D_POST;
    }
    rc->easy_setopt(h, CURLOPT_WRITEFUNCTION, llf_cap_write);
    rc->easy_setopt(h, CURLOPT_WRITEDATA, c);
    rc->easy_setopt(h, CURLOPT_HEADERFUNCTION, llf_cap_header);
    rc->easy_setopt(h, CURLOPT_HEADERDATA, c);
    if (s->header_in_body || s->failonerror || (c->dirty & D_FLAGS)) {
        rc->easy_setopt(h, CURLOPT_HEADER, 0L);
        rc->easy_setopt(h, CURLOPT_FAILONERROR, 0L);
        c->dirty |= D_FLAGS;
    }
    if (at->total_ms != s->timeout_ms || at->connect_ms != s->connect_ms ||
        (c->dirty & D_TIMEOUTS)) {
        rc->easy_setopt(h, CURLOPT_TIMEOUT_MS, at->total_ms);
        rc->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, at->connect_ms);
        c->dirty |= D_TIMEOUTS;
    }
    rc->easy_setopt(h, CURLOPT_ERRORBUFFER, out->errmsg);
    /* The program's own progress meter (NOPROGRESS 0 without a callback) is
     * libcurl's internal one, which our callback would silence: on the
     * original attempt leave it (and do without the first-byte and
     * first-token limits: curl without -s, its meter on stderr); on
     * fallbacks silence it, so the program's stderr shows one transfer. */
    int meter = !s->noprogress && !s->xferfn && !s->progfn;
    if (!(meter && original) && (at->first_byte_ms > 0 || (at->live && at->first_token_ms > 0) || meter)) {
        rc->easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        rc->easy_setopt(h, CURLOPT_XFERINFOFUNCTION, llf_cap_progress);
        rc->easy_setopt(h, CURLOPT_XFERINFODATA, c);
        c->dirty |= D_PROGRESS;
    }

    s->in_transfer = 1;
    llf_guard_connect = -1;
    out->curlcode = llf_guarded_perform(rc, h, &llf_in_lib);
    s->in_transfer = 0;
    rc->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    rc->easy_getinfo(h, CURLINFO_HTTP_VERSION, &out->http_version);
    if (!s->noprogress && (s->xferfn || s->progfn)) {
        /* What the program's progress callback is shown between transfers
         * (curl_left): this one's meter, as libcurl shows an idle one. */
        curl_off_t clen = 0;
        rc->easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clen);
        rc->easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &s->meter[1]);
        rc->easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &s->meter[3]);
        s->meter[0] = clen > 0 ? clen : 0;
        s->meter[2] = (curl_off_t)req->body.n;
        clock_gettime(CLOCK_MONOTONIC, &c->progress_t);   /* (libcurl called it at the end) */
    }
    if (out->curlcode == CURLE_ABORTED_BY_CALLBACK && !out->first_byte_timeout && !out->first_token_timeout)
        c->aborted = 1;   /* the program's progress callback: the call ends (curl_left says so) */
    if (out->curlcode != CURLE_OK && !out->errmsg[0] && rc->easy_strerror)
        snprintf(out->errmsg, sizeof out->errmsg, "%s", rc->easy_strerror(out->curlcode));

    if (!original)
        rc->easy_setopt(h, CURLOPT_HTTPHEADER, s->headers);
    llf_gate_at_end(c);
    llf_sse_free(&c->sse);
    if (c->gate) {
        llf_core()->gate_free(c->gate);
        c->gate = NULL;
    }
    if (c->pipe) {
        /* A complete translated stream gets its dialect's ending; a broken
         * one stays broken, and one the member cut short (no terminator)
         * becomes a broken transfer. */
        const llf_core_api *core = llf_core();
        llf_buf t = {0};
        if (c->pipe_broke && out->curlcode == CURLE_WRITE_ERROR) {
            /* The member said it failed (an error event) and the program
             * cannot be told so in its own dialect: a broken transfer, as
             * a cut one is, not a failure of its own write callback. */
            out->curlcode = CURLE_PARTIAL_FILE;
            snprintf(out->errmsg, sizeof out->errmsg, "the answering provider's stream ended in an error");
        } else if (out->curlcode == CURLE_OK && out->delivered) {
            if (core->pipe_end(c->pipe, &t)) {
                out->curlcode = CURLE_PARTIAL_FILE;
                snprintf(out->errmsg, sizeof out->errmsg, "the answering provider's stream ended incomplete");
            } else if (t.n) {
                PROGRAM_BEGIN()
                llf_give_body(s, t.p, t.n);
                PROGRAM_END()
                c->given += (curl_off_t)t.n;
            }
        }
        llf_buf_free(&t);
        core->pipe_free(c->pipe);
        c->pipe = NULL;
    }
    /* A live answer's trailers not handed over as they came: a held one's
     * (llf_gate_at_end), a translated one's (after its ending). */
    if (out->delivered && out->curlcode == CURLE_OK && llf_give_trailers_due(c))
        out->curlcode = CURLE_WRITE_ERROR;
    return 0;
}

/* Between transfers (a Retry-After wait, before the next attempt) libcurl
 * would still call the program's progress callback at least once a second:
 * with the last transfer's meter, and an abort ends the call. */
static int curl_left(void *ud)
{
    attempt_ctx *c = ud;
    hstate *s = c->s;
    if (c->aborted || s->noprogress || (!s->xferfn && !s->progfn) || llf_since_ms(&c->progress_t) < 1000)
        return c->aborted;
    clock_gettime(CLOCK_MONOTONIC, &c->progress_t);
    int r;
    PROGRAM_BEGIN()
    r = llf_call_progress(s, s->meter[0], s->meter[1], s->meter[2], s->meter[3]);
    PROGRAM_END()
    c->aborted = r && r != CURL_PROGRESSFUNC_CONTINUE;
    return c->aborted;
}

/* Put back every option an attempt changed, as the program left it. */
void llf_restore(CURL *h, hstate *s, unsigned dirty)
{
    const llf_curl_api *rc = llf_real_curl();
    if (dirty & D_URL) {
        rc->easy_setopt(h, CURLOPT_URL, s->url);
        if (s->curlu)
            rc->easy_setopt(h, CURLOPT_CURLU, s->curlu);
    }
    /* (CURLOPT_HTTPHEADER is put back right after each attempt that set it.) */
    if (dirty & D_POST)
        restore_post(rc, h, s);
    if (dirty & D_READ)
        llf_read_back(rc, h, s);
    rc->easy_setopt(h, CURLOPT_WRITEFUNCTION, s->writefn);
    rc->easy_setopt(h, CURLOPT_WRITEDATA, s->writedata);
    rc->easy_setopt(h, CURLOPT_HEADERFUNCTION, s->headerfn);
    rc->easy_setopt(h, CURLOPT_HEADERDATA, s->headerdata);
    if (dirty & D_FLAGS) {
        rc->easy_setopt(h, CURLOPT_HEADER, s->header_in_body);
        rc->easy_setopt(h, CURLOPT_FAILONERROR, s->failonerror);
    }
    if (dirty & D_TIMEOUTS) {
        rc->easy_setopt(h, CURLOPT_TIMEOUT_MS, s->timeout_ms);
        rc->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s->connect_ms);
    }
    if (dirty & D_PROGRESS) {
        /* Each of the two sets whether libcurl's own meter runs: the one the
         * program set last goes last. */
        rc->easy_setopt(h, CURLOPT_NOPROGRESS, s->noprogress);
        if (s->progfn_last)
            rc->easy_setopt(h, CURLOPT_XFERINFOFUNCTION, s->xferfn);
        rc->easy_setopt(h, s->progfn_last ? CURLOPT_PROGRESSFUNCTION : CURLOPT_XFERINFOFUNCTION,
                        s->progfn_last ? (anyfn)s->progfn : (anyfn)s->xferfn);
        rc->easy_setopt(h, CURLOPT_XFERINFODATA, s->progressdata);
    }
    if (dirty & D_FOLLOW)
        set_follow(rc, h, s);
    if (dirty & D_ROUTE)
        set_route(rc, h, s);
    if (dirty & D_DEBUG) {
        rc->easy_setopt(h, CURLOPT_DEBUGFUNCTION, s->debugfn);
        rc->easy_setopt(h, CURLOPT_DEBUGDATA, s->debugdata);
    }
    rc->easy_setopt(h, CURLOPT_ERRORBUFFER, s->errorbuffer);
    if (dirty & D_CREDS)
        set_creds(rc, h, s);
    if (dirty & D_JAR)
        jar_back(rc, h, s);
    if (dirty & D_TLS)
        llf_tls_back(rc, h, s);
    if (dirty & D_CONN)
        rc->easy_setopt(h, CURLOPT_FRESH_CONNECT, s->fresh_connect);
}

static const char *method_name(const hstate *s)
{
    if (s->customrequest)
        return s->customrequest;
    switch (s->method) {
    case M_POST: return "POST";
    case M_PUT: return "PUT";
    case M_HEAD: return "HEAD";
    case M_MIME: return "MIME";
    default: return "GET";
    }
}

/* upload: the body as the program's reader gave it (body is its bytes), or
 * NULL for its postfields. */
CURLcode llf_managed(CURL *h, hstate *s, const llf_core_api *core, const char *url,
                     const char *body, size_t len, const llf_buf *upload)
{
    llf_call *call = core->recognise(url, method_name(s), body, len, NULL);
    if (!call)
        return CURLE_AGAIN;   /* not ours: caller passes through */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (s->errorbuffer)
        s->errorbuffer[0] = '\0';   /* as libcurl does at every transfer */
    /* (libcurl keeps a transfer's OS_ERRNO until another sets one: after a
     * member's answer, the handle's from before the call, not a refused
     * original's) */
    long errno0 = 0;
    llf_real_curl()->easy_getinfo(h, CURLINFO_OS_ERRNO, &errno0);

    llf_req orig = {0};
    orig.url = (char *)url;
    orig.body.p = (char *)body;
    orig.body.n = len;
    int oom = 0;
    for (const struct curl_slist *l = s->headers; l && !oom; l = l->next)
        oom = llf_headers_add(&orig.headers, l->data);
    /* Its login options, which no header line shows: another server's
     * member is sent no header that carries one either. */
    const char *creds[] = {s->user, s->pass, s->bearer, s->cookie};
    for (size_t i = 0; i < sizeof creds / sizeof creds[0] && !oom; i++)
        oom = creds[i] && *creds[i] && llf_headers_add(&orig.creds, creds[i]);
    if (oom) {
        llf_headers_free(&orig.headers);
        llf_headers_free(&orig.creds);
        core->call_free(call);
        return CURLE_AGAIN;
    }
    attempt_ctx ctx = {.s = s, .h = h, .orig = &orig, .progress_t = t0, .upload = upload};
    llf_run_args args = {&orig, s->connect_ms, s->timeout_ms, perform_attempt, &ctx, "curl", curl_left};
    llf_final fin = {0};
    llf_call_begin(s, &ctx.dirty);
    int rc_run = core->run(call, &args, &fin);
    llf_restore(h, s, ctx.dirty);
    /* The handle is the program's again, but the call goes on until its
     * answer is handed over: what a callback sets meanwhile waits too (see
     * llf_defer), and a reset is done after it (curl_easy_reset). */
    s->call_dirty = &llf_dirty_none;
    llf_headers_free(&orig.headers);
    llf_headers_free(&orig.creds);
    if (rc_run) {
        llf_buf_free(&ctx.given_head);
        llf_snap_free(ctx.snap);
        core->call_free(call);
        int timed_out = fin.timed_out && !ctx.aborted;
        if (timed_out) {
            /* (its original skipped by its breaker, and the members took
             * all of the program's limit: libcurl's timeout, no answer) */
            double ms = llf_since_ms(&t0);
            llf_set_override(s, 0, 0, url, "", 0, 0, 0, ms / 1e3);
            if (s->errorbuffer)
                snprintf(s->errorbuffer, CURL_ERROR_SIZE,
                         "Operation timed out after %.0f milliseconds with 0 bytes received", ms);
        }
        llf_call_end(s);
        if (ctx.aborted && s->errorbuffer)   /* (stopped before its original went: not sent now) */
            snprintf(s->errorbuffer, CURL_ERROR_SIZE, "Callback aborted");
        return ctx.aborted ? CURLE_ABORTED_BY_CALLBACK : timed_out ? CURLE_OPERATION_TIMEDOUT : CURLE_AGAIN;
    }

    /* What the program got: a live stream's head and bytes as given, else
     * the answer's. */
    const llf_resp *r = fin.resp;
    const llf_buf *given = fin.delivered ? &ctx.given_head : fin.from_original ? &r->head : &fin.head;
    const char *head = given->p;
    size_t headlen = given->n;
    if (fin.aborted) {
        /* The program's progress callback stopped a later attempt or a
         * wait between two: as libcurl ends a transfer aborted before its
         * answer came (nothing of the answers held back was the program's
         * yet). */
        llf_buf_free(&ctx.given_head);
        llf_snap_free(ctx.snap);
        llf_set_override(s, 0, r->http_version, url, "", 0, 0, (curl_off_t)orig.body.n, llf_since_ms(&t0) / 1e3);
        if (s->errorbuffer)
            snprintf(s->errorbuffer, CURL_ERROR_SIZE, "Callback aborted");
        llf_call_end(s);
        core->call_free(call);
        return CURLE_ABORTED_BY_CALLBACK;
    }
    if (fin.attempts <= 1 && fin.from_original)
        llf_ov_clear(s);   /* the handle itself describes what the program got */
    else   /* (a transfer that failed after its head keeps the status libcurl had: 0 before one) */
        llf_set_override(s, r->status, r->http_version, url, head, headlen,
                         fin.delivered ? ctx.given : (curl_off_t)r->body.n, (curl_off_t)orig.body.n,
                         llf_since_ms(&t0) / 1e3);
    /* The rest of getinfo: the original's transfer when the program gets
     * it after others ran (NULL when it ran last: the handle's); after a
     * member's answer, the member's but for OS_ERRNO and the length of the
     * body the program sent (the original's, as SIZE_UPLOAD's override:
     * the member's differs by its model's name). */
    if (s->ov.active && fin.from_original && r == ctx.orig_out) {
        llf_ov_snap(s, ctx.snap);
        ctx.snap = NULL;
    } else if (s->ov.active && !fin.from_original) {
        snapshot *sn = malloc(sizeof *sn + 2 * sizeof sn->v[0]);   /* (on every call after a fallback) */
        if (sn) {
            curl_off_t sent = (curl_off_t)orig.body.n;
            if (ctx.snap)
                llf_snap_answer(ctx.snap, CURLINFO_CONTENT_LENGTH_UPLOAD_T, &sent);   /* (-1 unknown, as libcurl) */
            sn->n = 0;
            sn->certs_ok = 0;   /* (the member's, the handle's) */
            sn->certs = (struct curl_certinfo){0, NULL};
            sn->v[sn->n++] = (snapval){CURLINFO_OS_ERRNO, 1, {.l = errno0}};
            sn->v[sn->n++] = (snapval){CURLINFO_CONTENT_LENGTH_UPLOAD_T, 1, {.o = sent}};
            llf_ov_snap(s, sn);
        }
    }
    llf_snap_free(ctx.snap);
    /* (the answer's trailers, when what the program got is the answer's own:
     * not a head of ours, which frames its body with a Content-Length) */
    if (s->ov.active && (fin.from_original || fin.delivered))
        llf_buf_add(&s->ov.trailers, r->trailers.p ? r->trailers.p : "", r->trailers.n);
    llf_buf_free(&ctx.given_head);
    CURLcode res = r->curlcode;
    if (fin.from_original && !fin.delivered && r->stream_problem && res == CURLE_WRITE_ERROR)
        res = llf_sse_stopped_whole(&r->head, r->body.n, r->stream_problem) ? CURLE_OK : CURLE_PARTIAL_FILE;
    const char *err = r->errmsg;
    char failmsg[128];
    if (fin.from_original && !fin.delivered && res == CURLE_ABORTED_BY_CALLBACK &&
        (r->first_byte_timeout || r->first_token_timeout)) {
        /* Our limit stopped it, not a callback of the program's: a timeout,
         * as libcurl reports one (error 28, not 42). */
        res = CURLE_OPERATION_TIMEDOUT;
        snprintf(failmsg, sizeof failmsg, "Operation timed out after %.0f milliseconds (llmfallback: timeouts_ms.%s)",
                 r->ms, r->first_byte_timeout ? "first_byte" : "first_token");
        err = failmsg;
    }
    if (!fin.delivered) {
        int gave = 0, in_body = 0;   /* a refusal (GAVE_*_FAIL), and whether after the head */
        /* (what a progress callback is told while the program pauses us) */
        s->meter[0] = s->meter[1] = (curl_off_t)r->body.n;
        s->meter[2] = s->meter[3] = (curl_off_t)orig.body.n;
        if (fin.from_original && s->failonerror && r->status >= 400) {
            /* --fail: libcurl hands over the header block, then stops before
             * the body and reports the status (and no body downloaded):
             * whatever became of the body after it (stopped at the head by
             * us, cut short, stalled), it was never the program's. */
            llf_ov_from_handle(s, h, r, url, head, headlen, llf_since_ms(&t0) / 1e3);
            s->ov.size = 0;
            snprintf(failmsg, sizeof failmsg, "The requested URL returned error: %ld", r->status);
            err = failmsg;
            res = CURLE_HTTP_RETURNED_ERROR;
            gave = llf_give_head(s, head ? head : "", headlen);
        } else if (!(gave = llf_give_head(s, head ? head : "", headlen))) {
            in_body = 1;   /* (trailers go the header's way, after the body) */
            if (llf_give_body(s, r->body.p ? r->body.p : "", r->body.n))
                gave = GAVE_BODY_FAIL;
            else if (fin.from_original)
                gave = llf_give_trailers(s, r->trailers.p, r->trailers.n);
        }
        if (gave) {
            /* As libcurl says it: a header callback's (or HEADERDATA
             * writer's) refusal apart from the body's; one of a header
             * line leaves no body downloaded. */
            err = gave == GAVE_HEADER_FAIL ? "Failed writing header" : "Failure writing output to destination";
            res = CURLE_WRITE_ERROR;
            if (!in_body) {
                llf_ov_from_handle(s, h, r, url, head, headlen, llf_since_ms(&t0) / 1e3);
                s->ov.size = 0;
            }
        }
    }
    if (s->pause_rc) {   /* a pause of the program's ended the call (llf_wait_unpause) */
        res = s->pause_rc;
        err = res == CURLE_OPERATION_TIMEDOUT ? "Operation timed out while the transfer was paused"
                                              : "Callback aborted";
    }
    if (res != CURLE_OK && s->errorbuffer)
        snprintf(s->errorbuffer, CURL_ERROR_SIZE, "%s", err);
    llf_call_end(s);
    core->call_free(call);
    return res;
}
