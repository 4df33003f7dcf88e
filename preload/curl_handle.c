/* curl_handle.c — the libcurl path's per-handle table (see curl_handle.h):
 * each handle's state found, made and dropped, what setopt is told
 * recorded or put off, and the share handles' holdings. */

/* (uthash's out-of-memory handling, chosen before curl_handle.h includes
 * uthash.h: an add that finds no memory sets table_oom and makes no entry,
 * where uthash would end the program) */
static int table_oom;
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(e) (table_oom = 1)
#include "curl_handle.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "forklock.h"
#include "hooks.h"

hstate *llf_curl_table;
static pthread_mutex_t table_lock = LLF_FORKLOCK_INIT;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void lock_table(void) { pthread_mutex_lock(&table_lock); }
static void unlock_table(void) { pthread_mutex_unlock(&table_lock); }
static void install_atfork(void) { llf_forklock(&table_lock); }

/* How many calls of ours run (hstate.call_dirty set): the guarded hooks
 * look for the handle's state only then. */
static int calls_live;

void llf_slist_drop(struct curl_slist **l)
{
    if (*l)
        llf_real_curl()->slist_free_all(*l);
    *l = NULL;
}

/* A copy of a list of the program's (NULL with no memory, or for none). */
struct curl_slist *llf_slist_copy(const struct curl_slist *l)
{
    const llf_curl_api *rc = llf_real_curl();
    struct curl_slist *out = NULL;
    for (; l; l = l->next) {
        struct curl_slist *n = l->data ? rc->slist_append(out, l->data) : out;
        if (!n) {
            llf_slist_drop(&out);
            return NULL;
        }
        out = n;
    }
    return out;
}

void llf_due_free(deferred *q)
{
    while (q) {
        deferred *next = q->next;
        free(q->own);
        free(q);
        q = next;
    }
}

static void state_free(hstate *s)
{
    if (!s)
        return;
    llf_ov_clear(s);
    llf_due_free(s->due);
    llf_slist_drop(&s->resolve_copy);
    llf_slist_drop(&s->member_resolve);
    llf_slist_drop(&s->cookiefiles);
    llf_slist_drop(&s->aside);
    free(s->cookiejar);
    free(s->url);
    free(s->copypost);
    free(s->customrequest);
    free(s->user);
    free(s->pass);
    free(s->bearer);
    free(s->cookie);
    free(s->unix_path);
    if (s->member_hdrs)
        llf_real_curl()->slist_free_all(s->member_hdrs);
    llf_tls_free(s);
    free(s);
}

static void state_init(hstate *s, CURL *h)
{
    memset(s, 0, sizeof *s);
    s->h = h;
    s->postsize = s->infilesize = -1;
    s->noprogress = 1;
    s->writedata = stdout;   /* libcurl's defaults: llf_restore() puts them back */
    s->readdata = stdin;
}

hstate *llf_state_find(CURL *h)
{
    hstate *s = NULL;
    lock_table();
    HASH_FIND_PTR(llf_curl_table, &h, s);
    unlock_table();
    return s;
}

hstate *llf_state_get(CURL *h)
{
    pthread_once(&atfork_once, install_atfork);
    hstate *s = llf_state_find(h);
    if (s)
        return s;
    s = malloc(sizeof *s);
    if (!s)
        return NULL;
    state_init(s, h);
    lock_table();
    table_oom = 0;
    HASH_ADD_PTR(llf_curl_table, h, s);
    int oom = table_oom;
    unlock_table();
    if (oom) {
        free(s);
        return NULL;
    }
    return s;
}

void llf_state_drop(CURL *h)
{
    hstate *s = NULL;
    lock_table();
    HASH_FIND_PTR(llf_curl_table, &h, s);
    if (s)
        HASH_DEL(llf_curl_table, s);
    unlock_table();
    state_free(s);
}

/* The share handles that hold any of SH_* (see curl_handle.h). */
typedef struct shstate {
    CURLSH *sh;
    unsigned holds;                   /* SH_* */
    UT_hash_handle hh;
} shstate;
static shstate *shares;

int llf_share_holds(CURLSH *sh, unsigned what)
{
    shstate *e = NULL;
    lock_table();
    HASH_FIND_PTR(shares, &sh, e);
    int r = e && (e->holds & what);
    unlock_table();
    return r;
}

/* sh now holds `what` (on) or not; what 0: sh is gone. */
void llf_share_note(CURLSH *sh, unsigned what, int on)
{
    shstate *e = NULL;
    pthread_once(&atfork_once, install_atfork);
    lock_table();
    HASH_FIND_PTR(shares, &sh, e);
    unsigned holds = ((e ? e->holds : 0) & ~what) | (on ? what : 0);
    if (e && !holds) {
        HASH_DEL(shares, e);
        free(e);
    } else if (e) {
        e->holds = holds;
    } else if (holds && (e = calloc(1, sizeof *e))) {
        e->sh = sh;
        e->holds = holds;
        table_oom = 0;
        HASH_ADD_PTR(shares, sh, e);
        if (table_oom)
            free(e);
    }
    unlock_table();
}

static void set_str(char **dst, const char *src)
{
    free(*dst);
    *dst = src ? strdup(src) : NULL;
}

int llf_interesting(CURLoption o)
{
    switch (o) {
    case CURLOPT_URL: case CURLOPT_CURLU: case CURLOPT_HTTPHEADER:
    case CURLOPT_POSTFIELDS: case CURLOPT_COPYPOSTFIELDS: case CURLOPT_POSTFIELDSIZE:
    case CURLOPT_POSTFIELDSIZE_LARGE: case CURLOPT_POST: case CURLOPT_UPLOAD:
    case CURLOPT_HTTPGET: case CURLOPT_NOBODY: case CURLOPT_MIMEPOST: case CURLOPT_HTTPPOST:
    case CURLOPT_CUSTOMREQUEST: case CURLOPT_REQUEST_TARGET: case CURLOPT_READFUNCTION: case CURLOPT_READDATA:
    case CURLOPT_SEEKFUNCTION: case CURLOPT_SEEKDATA:
    case CURLOPT_INFILESIZE: case CURLOPT_INFILESIZE_LARGE:
    case CURLOPT_WRITEFUNCTION: case CURLOPT_WRITEDATA: case CURLOPT_HEADERFUNCTION:
    case CURLOPT_HEADERDATA: case CURLOPT_HEADER: case CURLOPT_FAILONERROR:
    case CURLOPT_TIMEOUT: case CURLOPT_TIMEOUT_MS: case CURLOPT_CONNECTTIMEOUT:
    case CURLOPT_CONNECTTIMEOUT_MS: case CURLOPT_NOPROGRESS: case CURLOPT_XFERINFOFUNCTION:
    case CURLOPT_PROGRESSFUNCTION: case CURLOPT_XFERINFODATA: case CURLOPT_ERRORBUFFER:
    case CURLOPT_USERPWD: case CURLOPT_USERNAME: case CURLOPT_PASSWORD:
    case CURLOPT_XOAUTH2_BEARER: case CURLOPT_COOKIE: case CURLOPT_VERBOSE:
    case CURLOPT_DEBUGFUNCTION: case CURLOPT_DEBUGDATA: case CURLOPT_STDERR:
    case CURLOPT_FOLLOWLOCATION: case CURLOPT_UNRESTRICTED_AUTH:
    case CURLOPT_UNIX_SOCKET_PATH: case CURLOPT_ABSTRACT_UNIX_SOCKET: case CURLOPT_CONNECT_TO:
    case CURLOPT_PORT: case CURLOPT_RESOLVE: case CURLOPT_FRESH_CONNECT: case CURLOPT_FORBID_REUSE:
    case CURLOPT_NETRC: case CURLOPT_COOKIEFILE: case CURLOPT_COOKIEJAR: case CURLOPT_COOKIELIST:
    case CURLOPT_SHARE: case CURLOPT_OPENSOCKETFUNCTION: case CURLOPT_OPENSOCKETDATA:
    case CURLOPT_SOCKOPTFUNCTION: case CURLOPT_SOCKOPTDATA: case CURLOPT_CLOSESOCKETFUNCTION:
    case CURLOPT_CLOSESOCKETDATA: case CURLOPT_DEFAULT_PROTOCOL:
    case CURLOPT_LOCALPORT: case CURLOPT_LOCALPORTRANGE:
        return 1;
    default:
        return llf_tls_index(o) >= 0;
    }
}

/* USERPWD as libcurl splits it (Curl_parse_login_details): the user before
 * the first colon; the password after it, NULL when empty. */
static void set_userpwd(hstate *s, const char *p)
{
    free(s->user);
    free(s->pass);
    s->user = s->pass = NULL;
    if (!p)
        return;
    const char *colon = strchr(p, ':');
    size_t ulen = colon ? (size_t)(colon - p) : strlen(p);
    s->user = strndup(p, ulen);   /* (libcurl 7.88 sends "" as a user too) */
    if (colon && colon[1])
        s->pass = strdup(colon + 1);
}

/* Mirror of what libcurl does with the option (called after it accepted it). */
void llf_record(hstate *s, CURLoption o, long l, void *p, curl_off_t off)
{
    switch (o) {
    case CURLOPT_URL: set_str(&s->url, p); break;
    case CURLOPT_DEFAULT_PROTOCOL:
        snprintf(s->default_proto, sizeof s->default_proto, "%s",
                 !p ? "" : strlen(p) < sizeof s->default_proto ? (const char *)p : "?");
        break;
    case CURLOPT_CURLU: s->curlu = p; break;
    case CURLOPT_HTTPHEADER: s->headers = p; break;
    case CURLOPT_POSTFIELDS:
        s->postfields = p;
        free(s->copypost);
        s->copypost = NULL;
        s->method = M_POST;
        break;
    case CURLOPT_COPYPOSTFIELDS: {
        size_t n = !p ? 0 : s->postsize >= 0 ? (size_t)s->postsize : strlen(p);
        free(s->copypost);
        s->copypost = p ? malloc(n + 1) : NULL;
        if (s->copypost) {
            memcpy(s->copypost, p, n);
            s->copypost[n] = '\0';
        }
        s->copypost_len = n;
        s->postfields = s->copypost;
        s->method = M_POST;
        break;
    }
    case CURLOPT_POSTFIELDSIZE: s->postsize = l; break;
    case CURLOPT_POSTFIELDSIZE_LARGE: s->postsize = off; break;
    case CURLOPT_POST: s->method = l ? M_POST : M_GET; break;
    case CURLOPT_UPLOAD: s->method = l ? M_PUT : M_GET; break;
    case CURLOPT_HTTPGET: if (l) s->method = M_GET; break;
    case CURLOPT_NOBODY:   /* (as libcurl: off again undoes only a HEAD) */
        s->method = l ? M_HEAD : s->method == M_HEAD ? M_GET : s->method;
        break;
    case CURLOPT_MIMEPOST: case CURLOPT_HTTPPOST: if (p) s->method = M_MIME; break;
    case CURLOPT_CUSTOMREQUEST: set_str(&s->customrequest, p); break;
    case CURLOPT_REQUEST_TARGET: s->request_target = p != NULL; break;
    case CURLOPT_READFUNCTION: s->readfn = (curl_read_callback)p; break;
    case CURLOPT_READDATA: s->readdata = p; break;
    case CURLOPT_SEEKFUNCTION: s->seekfn = (curl_seek_callback)p; break;
    case CURLOPT_SEEKDATA: s->seekdata = p; break;
    case CURLOPT_INFILESIZE: s->infilesize = l; break;
    case CURLOPT_INFILESIZE_LARGE: s->infilesize = off; break;
    case CURLOPT_WRITEFUNCTION: s->writefn = (curl_write_callback)p; break;
    case CURLOPT_WRITEDATA: s->writedata = p; break;
    case CURLOPT_HEADERFUNCTION: s->headerfn = (curl_write_callback)p; break;
    case CURLOPT_HEADERDATA: s->headerdata = p; break;
    case CURLOPT_HEADER: s->header_in_body = l; break;
    case CURLOPT_FAILONERROR: s->failonerror = l; break;
    case CURLOPT_TIMEOUT: s->timeout_ms = l * 1000; break;
    case CURLOPT_TIMEOUT_MS: s->timeout_ms = l; break;
    case CURLOPT_CONNECTTIMEOUT: s->connect_ms = l * 1000; break;
    case CURLOPT_CONNECTTIMEOUT_MS: s->connect_ms = l; break;
    case CURLOPT_NOPROGRESS: s->noprogress = l; break;
    case CURLOPT_XFERINFOFUNCTION: s->xferfn = (curl_xferinfo_callback)p; s->progfn_last = 0; break;
    case CURLOPT_PROGRESSFUNCTION: s->progfn = (curl_progress_callback)p; s->progfn_last = 1; break;
    case CURLOPT_XFERINFODATA: s->progressdata = p; break;   /* == PROGRESSDATA */
    case CURLOPT_ERRORBUFFER: s->errorbuffer = p; break;
    case CURLOPT_USERPWD: set_userpwd(s, p); s->has_creds |= p != NULL; break;
    case CURLOPT_USERNAME: set_str(&s->user, p); s->has_creds |= p != NULL; break;
    case CURLOPT_PASSWORD: set_str(&s->pass, p); s->has_creds |= p != NULL; break;
    case CURLOPT_XOAUTH2_BEARER: set_str(&s->bearer, p); s->has_creds |= p != NULL; break;
    case CURLOPT_COOKIE: set_str(&s->cookie, p); s->has_creds |= p != NULL; break;
    case CURLOPT_VERBOSE: s->verbose = l; break;
    case CURLOPT_FOLLOWLOCATION: s->follow = l; break;
    case CURLOPT_UNRESTRICTED_AUTH: s->unrestricted_auth = l; break;
    case CURLOPT_UNIX_SOCKET_PATH:
    case CURLOPT_ABSTRACT_UNIX_SOCKET:
        set_str(&s->unix_path, p);
        s->unix_abstract = o == CURLOPT_ABSTRACT_UNIX_SOCKET;
        break;
    case CURLOPT_CONNECT_TO: s->connect_to = p; break;
    case CURLOPT_PORT: s->port = l; break;
    case CURLOPT_LOCALPORT: s->localport = l; break;
    case CURLOPT_LOCALPORTRANGE: s->localportrange = l; break;
    case CURLOPT_OPENSOCKETFUNCTION: s->opensocketfn = (curl_opensocket_callback)p; break;
    case CURLOPT_OPENSOCKETDATA: s->opensocketdata = p; break;
    case CURLOPT_SOCKOPTFUNCTION: s->sockoptfn = (curl_sockopt_callback)p; break;
    case CURLOPT_SOCKOPTDATA: s->sockoptdata = p; break;
    case CURLOPT_CLOSESOCKETFUNCTION: s->closesocketfn = (curl_closesocket_callback)p; break;
    case CURLOPT_CLOSESOCKETDATA: s->closesocketdata = p; break;
    case CURLOPT_RESOLVE:
        /* (a NULL list takes back nothing libcurl was told: the entries it
         * loaded stay in its cache, so the copy of the last list stays) */
        s->resolve_set = p != NULL;
        s->resolve_ours = 0;
        if (p) {
            llf_slist_drop(&s->resolve_copy);
            s->resolve_copy = llf_slist_copy(p);
            s->resolve_lost = !s->resolve_copy && ((struct curl_slist *)p)->data;
        }
        break;
    case CURLOPT_FRESH_CONNECT: s->fresh_connect = l; break;
    case CURLOPT_FORBID_REUSE: s->forbid_reuse = l; break;
    case CURLOPT_NETRC: s->netrc = l; break;
    case CURLOPT_COOKIEFILE:
        if (p) {   /* read at every transfer's start (libcurl 7.88) */
            struct curl_slist *n = llf_real_curl()->slist_append(s->cookiefiles, p);
            if (n)
                s->cookiefiles = n;
        } else {   /* the list cleared, and the engine off (a jar of its own thrown away) */
            llf_slist_drop(&s->cookiefiles);
            s->jar = JAR_NONE;
        }
        break;
    case CURLOPT_COOKIEJAR:   /* (starts the engine, whatever the name) */
        set_str(&s->cookiejar, p);
        if (s->jar == JAR_NONE)
            s->jar = JAR_OWN;
        break;
    case CURLOPT_COOKIELIST:
        /* A cookie line starts the engine, and so does RELOAD with files;
         * ALL, SESS and FLUSH work on the jar there is. */
        if (p && s->jar == JAR_NONE && strcasecmp(p, "ALL") != 0 && strcasecmp(p, "SESS") != 0 &&
            strcasecmp(p, "FLUSH") != 0 && (strcasecmp(p, "RELOAD") != 0 || s->cookiefiles))
            s->jar = JAR_OWN;
        break;
    case CURLOPT_SHARE:
        /* Leaving a share leaves its jar; joining one that holds cookies
         * throws a jar of the handle's own away for the share's. */
        if (s->jar == JAR_SHARED)
            s->jar = JAR_NONE;
        s->share = p;
        if (p && llf_share_holds(p, SH_COOKIE))
            s->jar = JAR_SHARED;
        break;
    case CURLOPT_DEBUGFUNCTION: s->debugfn = (curl_debug_callback)p; break;
    case CURLOPT_DEBUGDATA: s->debugdata = p; break;
    case CURLOPT_STDERR: s->stderr_fp = p; break;
    default: {
        int i = llf_tls_index(o);
        if (i >= 0)
            llf_tls_record(s, i, l, p);
        break;
    }
    }
}

/* libcurl's setopt, the argument forwarded with the type its option number
 * implies (see pitfalls.md). */
CURLcode llf_setopt_as(const llf_curl_api *rc, CURL *h, CURLoption o, long l, void *p, curl_off_t off)
{
    if (o < CURLOPTTYPE_OBJECTPOINT)
        return rc->easy_setopt(h, o, l);
    if (o < CURLOPTTYPE_FUNCTIONPOINT || o >= CURLOPTTYPE_BLOB)
        return rc->easy_setopt(h, o, p);
    if (o < CURLOPTTYPE_OFF_T)
        return rc->easy_setopt(h, o, (anyfn)p);
    return rc->easy_setopt(h, o, off);
}

/* The size COPYPOSTFIELDS will copy when the options put off so far are
 * set: the last POSTFIELDSIZE among them, else the handle's (-1 after a
 * reset made meanwhile, which they follow). */
static curl_off_t due_postsize(const hstate *s)
{
    curl_off_t size = s->reset_due ? -1 : s->postsize;
    for (const deferred *q = s->due; q; q = q->next)
        if (q->o == CURLOPT_POSTFIELDSIZE)
            size = q->l;
        else if (q->o == CURLOPT_POSTFIELDSIZE_LARGE)
            size = q->off;
    return size;
}

/* A setopt of the program's, of an option the library takes over, on a
 * handle a call of ours runs on: from one of its callbacks (libcurl does
 * not sanction setting options there; PHP programs do it from progress
 * callbacks), whoever calls it, libcurl or we. It is the program's for
 * its next transfer, not for the attempt under way, which may be a
 * member's: set now, the program's key, URL or body would go to the
 * member, or the member's to the program's server on a resend, and the
 * call's end would put the old value back (llf_restore). So it waits, in
 * order, for the call's end (curl_easy_perform), and is recorded then, as
 * libcurl accepts it. What libcurl would have copied at once (a string, a
 * blob and its data when CURL_BLOB_COPY, COPYPOSTFIELDS' bytes) is copied
 * here, for the program may free its own; an object (a list, a CURLU, a
 * callback's data) is the program's to keep, as libcurl would hold it.
 * CURLE_OK, or CURLE_OUT_OF_MEMORY, or CURLE_NOT_BUILT_IN for a pointer
 * when libcurl cannot say whether it is a string (before 7.73): nothing is
 * set then. */
CURLcode llf_defer(const llf_curl_api *rc, hstate *s, CURLoption o, long l, void *p, curl_off_t off)
{
    deferred *d = malloc(sizeof *d);
    if (!d)
        return CURLE_OUT_OF_MEMORY;
    *d = (deferred){NULL, o, l, p, off, NULL};
    if (p && o == CURLOPT_COPYPOSTFIELDS) {   /* (as llf_record copies it) */
        curl_off_t size = due_postsize(s);
        size_t n = size >= 0 ? (size_t)size : strlen(p);
        if ((d->own = malloc(n + 1))) {
            memcpy(d->own, p, n);
            ((char *)d->own)[n] = '\0';
        }
    } else if (p && o >= CURLOPTTYPE_BLOB) {
        const struct curl_blob *b = p;
        if (b->flags & CURL_BLOB_COPY)
            d->own = llf_blob_copy(b);
        else if ((d->own = malloc(sizeof *b)))
            memcpy(d->own, b, sizeof *b);
    } else if (p && o >= CURLOPTTYPE_OBJECTPOINT && o < CURLOPTTYPE_FUNCTIONPOINT) {
        const struct curl_easyoption *e = rc->easy_option_by_id ? rc->easy_option_by_id(o) : NULL;
        if (!e) {
            free(d);
            return CURLE_NOT_BUILT_IN;
        }
        if (e->type == CURLOT_STRING && !(d->own = strdup(p))) {
            free(d);
            return CURLE_OUT_OF_MEMORY;
        }
    }
    if (p && !d->own && (o == CURLOPT_COPYPOSTFIELDS || o >= CURLOPTTYPE_BLOB)) {
        free(d);
        return CURLE_OUT_OF_MEMORY;
    }
    if (d->own)
        d->p = d->own;
    deferred **end = &s->due;
    while (*end)
        end = &(*end)->next;
    *end = d;
    return CURLE_OK;
}

/* The options put off (llf_defer) set on h, in order, and recorded in s (NULL:
 * no state to record them in). */
void llf_due_apply(const llf_curl_api *rc, CURL *h, hstate *s, const deferred *q)
{
    for (; q; q = q->next)
        if (llf_setopt_as(rc, h, q->o, q->l, q->p, q->off) == CURLE_OK && s)
            llf_record(s, q->o, q->l, q->p, q->off);
}

const unsigned llf_dirty_read = D_READ, llf_dirty_none = 0;

void llf_call_begin(hstate *s, const unsigned *dirty)
{
    s->call_dirty = dirty;
    __atomic_add_fetch(&calls_live, 1, __ATOMIC_SEQ_CST);
}

void llf_call_end(hstate *s)
{
    s->call_dirty = NULL;
    __atomic_sub_fetch(&calls_live, 1, __ATOMIC_SEQ_CST);
}

/* Options that say where the answer goes (its writer and header
 * callbacks, the error buffer, the progress callback and whether it is
 * called), set from a callback while a call runs: libcurl applies them at
 * once, mid-transfer (a header callback choosing the file the body goes
 * to, a progress callback turning itself off, a new error buffer and the
 * old one freed), and they carry nothing to a provider. So they are the
 * program's at once (recorded: our delivery reads them), and go to the
 * handle at once unless the attempt under way has its own there, which
 * llf_restore() replaces with them at the call's end: 1 then, 0 when they go
 * to the handle, -1 for any other option (see llf_defer). */
int llf_output_taken(const hstate *s, CURLoption o)
{
    const unsigned *d = s->call_dirty;
    switch (o) {
    case CURLOPT_WRITEFUNCTION: case CURLOPT_WRITEDATA: case CURLOPT_HEADERFUNCTION:
    case CURLOPT_HEADERDATA: case CURLOPT_ERRORBUFFER:
        return d != &llf_dirty_none && d != &llf_dirty_read;   /* (an attempt's: ours capture) */
    case CURLOPT_NOPROGRESS: case CURLOPT_XFERINFOFUNCTION: case CURLOPT_PROGRESSFUNCTION:
    case CURLOPT_XFERINFODATA:
        return (*d & D_PROGRESS) != 0;
    default:
        return -1;
    }
}

/* The state of a handle a call of ours runs on, or NULL. Inside one the
 * guard is on, yet a callback of the program's that libcurl calls itself
 * (its progress, debug or socket callbacks) may call the hooks: on that
 * handle they are the program's (libcurl does not set options on, nor
 * duplicate, a handle it is running). */
hstate *llf_busy_state(CURL *h)
{
    if (!__atomic_load_n(&calls_live, __ATOMIC_SEQ_CST) || !h)
        return NULL;
    hstate *s = llf_state_find(h);
    return s && s->call_dirty ? s : NULL;
}
