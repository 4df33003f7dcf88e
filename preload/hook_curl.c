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
 * straight through: same callbacks, no buffering, byte-identical. */
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core.h"
#include "forklock.h"
#include "hooks.h"
#include "netaddr.h"
#include "shim.h"
#include "sse.h"

static int table_oom;
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(e) (table_oom = 1)
#include <uthash.h>

#define MAX_BODY ((size_t)256 << 20)
#define WRITE_CHUNK 16384   /* CURL_MAX_WRITE_SIZE: callbacks may rely on it */

enum method { M_GET, M_POST, M_PUT, M_HEAD, M_MIME };

/* Where a handle's cookies are (libcurl's data->cookies): nowhere, in a jar
 * of its own, or in the jar of a share handle (CURL_LOCK_DATA_COOKIE). */
enum { JAR_NONE, JAR_OWN, JAR_SHARED };

/* What curl_easy_getinfo said of one transfer, for the items that describe
 * it beyond its answer (the answer's own, its status, type, sizes, head, are
 * the override's: see ov). Taken of the original attempt when more than one
 * ran, so that a program handed the original failure reads that transfer,
 * not the last member's (the curl CLI's --retry waits by RETRY_AFTER). */
static const CURLINFO snap_items[] = {
    CURLINFO_EFFECTIVE_URL, CURLINFO_REDIRECT_URL, CURLINFO_PRIMARY_IP, CURLINFO_LOCAL_IP,
    CURLINFO_SCHEME, CURLINFO_EFFECTIVE_METHOD, CURLINFO_REFERER,
    CURLINFO_HTTP_CONNECTCODE, CURLINFO_REQUEST_SIZE, CURLINFO_SSL_VERIFYRESULT,
    CURLINFO_PROXY_SSL_VERIFYRESULT, CURLINFO_FILETIME, CURLINFO_REDIRECT_COUNT,
    CURLINFO_HTTPAUTH_AVAIL, CURLINFO_PROXYAUTH_AVAIL, CURLINFO_OS_ERRNO, CURLINFO_NUM_CONNECTS,
    CURLINFO_PRIMARY_PORT, CURLINFO_LOCAL_PORT, CURLINFO_CONDITION_UNMET, CURLINFO_PROXY_ERROR,
    CURLINFO_PROTOCOL,
    CURLINFO_RETRY_AFTER, CURLINFO_SIZE_UPLOAD_T, CURLINFO_SPEED_DOWNLOAD_T,
    CURLINFO_SPEED_UPLOAD_T, CURLINFO_FILETIME_T, CURLINFO_NAMELOOKUP_TIME_T,
    CURLINFO_CONNECT_TIME_T, CURLINFO_APPCONNECT_TIME_T, CURLINFO_PRETRANSFER_TIME_T,
    CURLINFO_STARTTRANSFER_TIME_T, CURLINFO_REDIRECT_TIME_T, CURLINFO_CONTENT_LENGTH_UPLOAD_T,
};
#define NSNAP (sizeof snap_items / sizeof *snap_items)

/* The double items, answered from their curl_off_t twins as libcurl
 * computes them (microseconds over a million, or the same count), not
 * asked for again: a snapshot is taken on every failover. */
static const struct {
    CURLINFO d, o;
    double per;
} snap_twins[] = {
    {CURLINFO_NAMELOOKUP_TIME, CURLINFO_NAMELOOKUP_TIME_T, 1e6},
    {CURLINFO_CONNECT_TIME, CURLINFO_CONNECT_TIME_T, 1e6},
    {CURLINFO_APPCONNECT_TIME, CURLINFO_APPCONNECT_TIME_T, 1e6},
    {CURLINFO_PRETRANSFER_TIME, CURLINFO_PRETRANSFER_TIME_T, 1e6},
    {CURLINFO_STARTTRANSFER_TIME, CURLINFO_STARTTRANSFER_TIME_T, 1e6},
    {CURLINFO_REDIRECT_TIME, CURLINFO_REDIRECT_TIME_T, 1e6},
    {CURLINFO_SPEED_DOWNLOAD, CURLINFO_SPEED_DOWNLOAD_T, 1},
    {CURLINFO_SPEED_UPLOAD, CURLINFO_SPEED_UPLOAD_T, 1},
    {CURLINFO_SIZE_UPLOAD, CURLINFO_SIZE_UPLOAD_T, 1},
    {CURLINFO_CONTENT_LENGTH_UPLOAD, CURLINFO_CONTENT_LENGTH_UPLOAD_T, 1},
};

typedef struct snapval {
    CURLINFO info;
    int ok;                           /* libcurl answered it */
    union { long l; double d; curl_off_t o; char *str; } v;   /* str: a copy */
} snapval;

typedef struct snapshot {
    /* CURLINFO_CERTINFO's chains, copied (certs_ok: libcurl answered, a
     * chain of none for a transfer without TLS). A pointer into the
     * handle would describe its next transfer, a member's. */
    int certs_ok;
    struct curl_certinfo certs;
    size_t n;
    snapval v[];   /* n of them: all of snap_items, or one */
} snapshot;

/* The program's TLS options for its own server (not its proxy's, the
 * PROXY_* ones: the proxy is the program's whoever the member is). They
 * verify the program's provider as the program asked; a member is verified
 * with the library's trust instead, as on the relay path (its ca_bundle,
 * else libcurl's default; peer and host checked) and is shown none of the
 * program's identity (client certificate and key, TLS-SRP login) nor its
 * pins, CRL or issuer. libcurl has no option getters, so setopt records
 * the program's values (tls_record); a member's attempt sets the library's
 * (tls_member) and the next original attempt, or the end of the call, puts
 * the program's back (tls_back). Running members on a handle of their own
 * would lose the program's proxy, limits, callbacks and pauses, which every
 * attempt here runs under. Options the program never set are libcurl's
 * defaults, the library's too, and are not touched (but CAINFO for a
 * configured ca_bundle). A connection or TLS session made under one trust
 * is not reused under the other: libcurl compares these options (its
 * Curl_ssl_config_matches) before it reuses either, but for the
 * SSL_CTX_FUNCTION (see tls_member) and the key (the certificate with it
 * is compared). */
enum { TK_LONG, TK_STR, TK_BLOB, TK_FN };
static const struct {
    CURLoption o;
    int kind;
    long member;   /* TK_LONG: the library's (libcurl's default); others: none */
} tls_opts[] = {
    {CURLOPT_SSL_VERIFYPEER, TK_LONG, 1}, {CURLOPT_SSL_VERIFYHOST, TK_LONG, 2},
    {CURLOPT_SSL_VERIFYSTATUS, TK_LONG, 0}, {CURLOPT_SSL_OPTIONS, TK_LONG, 0},
    {CURLOPT_SSL_SESSIONID_CACHE, TK_LONG, 1},
    {CURLOPT_CAINFO, TK_STR, 0}, {CURLOPT_CAPATH, TK_STR, 0}, {CURLOPT_CAINFO_BLOB, TK_BLOB, 0},
    {CURLOPT_CRLFILE, TK_STR, 0}, {CURLOPT_ISSUERCERT, TK_STR, 0},
    {CURLOPT_ISSUERCERT_BLOB, TK_BLOB, 0}, {CURLOPT_PINNEDPUBLICKEY, TK_STR, 0},
    {CURLOPT_SSLCERT, TK_STR, 0}, {CURLOPT_SSLCERT_BLOB, TK_BLOB, 0},
    {CURLOPT_SSLKEY, TK_STR, 0}, {CURLOPT_SSLKEY_BLOB, TK_BLOB, 0},
    {CURLOPT_TLSAUTH_USERNAME, TK_STR, 0}, {CURLOPT_TLSAUTH_PASSWORD, TK_STR, 0},
    {CURLOPT_SSL_CTX_FUNCTION, TK_FN, 0},
};
#define NTLS (sizeof tls_opts / sizeof *tls_opts)

typedef union tlsval {
    long l;
    char *str;                 /* copy */
    struct curl_blob *blob;    /* copy, its data with it */
    void (*fn)(void);
} tlsval;

/* An option the program set while a call of ours ran on its handle, set
 * at the call's end (see defer): p is the program's (an object, as libcurl
 * would hold it) or own, a copy. */
typedef struct deferred {
    struct deferred *next;
    CURLoption o;
    long l;
    void *p;
    curl_off_t off;
    void *own;
} deferred;

/* What the program set on one handle. Pointers marked "program's" are owned
 * by the program (libcurl's rules keep them valid until the transfer ends). */
typedef struct hstate {
    CURL *h;
    char *url;                        /* copy */
    char default_proto[16];           /* CURLOPT_DEFAULT_PROTOCOL's ("" none; "?" one too long to be a call's) */
    CURLU *curlu;                     /* program's */
    struct curl_slist *headers;       /* program's */
    enum method method;
    const char *postfields;           /* program's (POSTFIELDS) */
    char *copypost;                   /* copy (COPYPOSTFIELDS) */
    size_t copypost_len;
    curl_off_t postsize;              /* -1 unset */
    curl_off_t infilesize;            /* -1 unset */
    char *customrequest;
    int request_target;               /* CURLOPT_REQUEST_TARGET set */
    curl_read_callback readfn;
    void *readdata;
    curl_seek_callback seekfn;        /* the reader's rewind, put back after ours */
    void *seekdata;
    curl_write_callback writefn, headerfn;
    void *writedata, *headerdata;
    long header_in_body, failonerror;
    long timeout_ms, connect_ms;
    long noprogress;
    curl_xferinfo_callback xferfn;
    curl_progress_callback progfn;
    int progfn_last;                  /* PROGRESSFUNCTION set after XFERINFOFUNCTION */
    void *progressdata;
    char *errorbuffer;                /* program's */
    long verbose;
    long follow, unrestricted_auth;   /* FOLLOWLOCATION, UNRESTRICTED_AUTH */
    /* Where the program sends its URL other than by its name: a Unix socket
     * (UNIX_SOCKET_PATH or ABSTRACT_UNIX_SOCKET, one setting in libcurl: the
     * last set wins) and CONNECT_TO (the program's list). */
    char *unix_path;                  /* copy */
    int unix_abstract;
    struct curl_slist *connect_to;
    long port;                        /* CURLOPT_PORT: the URL's port overridden, 0 none */
    /* LOCALPORT and LOCALPORTRANGE (0: libcurl's 1): the port the program's
     * connections are made from, which its provider's connection, kept
     * alive, still holds while a member of another server connects. */
    long localport, localportrange;
    /* Socket callbacks: OPENSOCKETFUNCTION may rewrite the address it is
     * given, and SOCKOPTFUNCTION may connect the socket itself
     * (CURL_SOCKOPT_ALREADY_CONNECTED); CLOSESOCKETFUNCTION closes what the
     * first opened. (PREREQFUNCTION and INTERFACE cannot send a connection
     * to another host: they stay.) */
    curl_opensocket_callback opensocketfn;
    curl_sockopt_callback sockoptfn;
    curl_closesocket_callback closesocketfn;
    void *opensocketdata, *sockoptdata, *closesocketdata;
    /* RESOLVE: our copy of the program's last list, kept while libcurl may
     * hold what it said (its DNS cache keeps the entries, and a wildcard's
     * switch, across curl_easy_reset); see resolve_for. */
    struct curl_slist *resolve_copy;
    int resolve_set;                  /* libcurl's RESOLVE option is a list (not NULL) */
    int resolve_ours;                 /* ...and it is resolve_copy (put back by set_route) */
    int resolve_off;                  /* a member's list is set instead (set_route puts ours back) */
    int resolve_lost;                 /* no memory for the copy: members of other providers fail */
    struct curl_slist *member_resolve;   /* that list */
    long fresh_connect, forbid_reuse;
    long netrc;                       /* CURLOPT_NETRC: libcurl's own credentials from a .netrc */
    /* The cookie engine (see jar_aside): the program's cookie files
     * (COOKIEFILE, in order), its jar file, and where the handle's cookies
     * are: none, its own, or a share's. */
    struct curl_slist *cookiefiles;   /* copies */
    char *cookiejar;                  /* copy */
    int jar;                          /* JAR_* */
    CURLSH *share;                    /* CURLOPT_SHARE */
    int conn_apart;                   /* FRESH_CONNECT set for a multi call (see
                                       * curl_multi_add_handle) */
    int jar_aside;                    /* the jar a member's attempt runs without (JAR_*) */
    struct curl_slist *aside;         /* a handle's own cookies meanwhile (CURLINFO_COOKIELIST) */
    curl_debug_callback debugfn;
    void *debugdata;
    FILE *stderr_fp;                  /* CURLOPT_STDERR, NULL: stderr */
    /* Credentials as libcurl holds them: USERPWD sets user and password,
     * USERNAME and PASSWORD one each; restored through the last two. */
    char *user, *pass, *bearer, *cookie;   /* copies */
    int has_creds;                    /* one of those was ever set (even if its copy failed) */
    struct curl_slist *member_hdrs;   /* the last member's header list, reused while unchanged */
    unsigned tls_set;                 /* bit i: the program set tls_opts[i] */
    tlsval tls[NTLS];                 /* ...to this */
    int tls_lost;                     /* no memory for a copy: members fail */
    /* A callback of the program's that paused (see wait_unpause). Reset at
     * each curl_easy_perform, not copied by duphandle. */
    unsigned unpauses[2];             /* curl_easy_pause calls that unpause receiving, sending */
    int waiting;                      /* a delivery of ours waits for one */
    int delivering;                   /* we hand the program bytes */
    int in_transfer;                  /* inside libcurl's transfer of an attempt */
    int want_pause;                   /* curl_easy_pause paused receiving meanwhile, */
    unsigned pause_seen;              /* when unpauses[RECV] was this */
    CURLcode pause_rc;                /* how a wait ended a call: timeout, or aborted */
    struct timespec call_t0;          /* the call's start, for its CURLOPT_TIMEOUT */
    /* While a call of ours runs on the handle: the options (D_*) it may
     * have set away from the program's, beside the callbacks and headers
     * every attempt takes over (see restore); NULL otherwise. A callback
     * of the program's that duplicates the handle then gets its options,
     * not ours (curl_easy_duphandle). */
    const unsigned *call_dirty;
    int reset_due;                    /* curl_easy_reset meanwhile: done again at the call's end */
    deferred *due;                    /* options the program set meanwhile, in order (defer) */
    curl_off_t meter[4];              /* what libcurl last told the progress callback */

    /* What the last managed call delivered, for getinfo/header. */
    struct {
        int active;
        long code, http_version, header_size;
        curl_off_t size, clen;
        curl_off_t upload;            /* the program's request body, whoever was sent one */
        double total_s;
        char *url;                    /* what the program asked for */
        char *ctype;
        llf_buf head;
        llf_buf trailers;             /* the answer's trailer lines, if it had any */
        int parsed;                   /* names/values/ctype/clen filled from head */
        char **names, **values;       /* the last header block, then its trailers, parsed on first need */
        unsigned *origins;            /* of each: CURLH_HEADER or CURLH_TRAILER */
        size_t nh;
        snapshot *snap;               /* getinfo items of the transfer the program got, or NULL */
        struct curl_header hout;
    } ov;
    UT_hash_handle hh;
} hstate;

static hstate *table;
static pthread_mutex_t table_lock = LLF_FORKLOCK_INIT;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void lock_table(void) { pthread_mutex_lock(&table_lock); }
static void unlock_table(void) { pthread_mutex_unlock(&table_lock); }
static void install_atfork(void) { llf_forklock(&table_lock); }

/* How many handles' overrides hold a snapshot: getinfo looks for one only
 * then (most programs never have one). */
static int snaps_live;

/* How many calls of ours run (hstate.call_dirty set): the guarded hooks
 * look for the handle's state only then. */
static int calls_live;

static void snap_free(snapshot *sn)
{
    if (!sn)
        return;
    for (int i = 0; i < sn->certs.num_of_certs; i++)
        llf_real_curl()->slist_free_all(sn->certs.certinfo[i]);
    free(sn->certs.certinfo);
    for (size_t i = 0; i < sn->n; i++)
        if (((int)sn->v[i].info & CURLINFO_TYPEMASK) == CURLINFO_STRING)
            free(sn->v[i].v.str);
    free(sn);
}

/* The handle's CURLINFO_CERTINFO into sn, copied; none (certs_ok 0) when
 * libcurl does not answer or memory runs out. */
static void snap_certs(const llf_curl_api *rc, CURL *h, snapshot *sn)
{
    struct curl_certinfo *ci = NULL;
    sn->certs_ok = 0;
    sn->certs = (struct curl_certinfo){0, NULL};
    if (rc->easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci)
        return;
    if (ci->num_of_certs > 0 && ci->certinfo) {
        if (!(sn->certs.certinfo = calloc((size_t)ci->num_of_certs, sizeof *sn->certs.certinfo)))
            return;
        for (; sn->certs.num_of_certs < ci->num_of_certs; sn->certs.num_of_certs++) {
            struct curl_slist **to = &sn->certs.certinfo[sn->certs.num_of_certs];
            for (const struct curl_slist *l = ci->certinfo[sn->certs.num_of_certs]; l; l = l->next) {
                struct curl_slist *more = rc->slist_append(*to, l->data);
                if (!more) {
                    sn->certs.num_of_certs++;   /* (freed with the rest) */
                    return;
                }
                *to = more;
            }
        }
    }
    sn->certs_ok = 1;
}

/* Each snap_items entry as the handle describes its last transfer now.
 * NULL with no memory. */
static snapshot *snap_take(CURL *h)
{
    const llf_curl_api *rc = llf_real_curl();
    snapshot *sn = malloc(sizeof *sn + NSNAP * sizeof sn->v[0]);   /* (calloc skips the thread cache) */
    if (!sn)
        return NULL;
    sn->n = 0;
    snap_certs(rc, h, sn);
    for (size_t i = 0; i < NSNAP; i++) {
        snapval *v = &sn->v[sn->n++];
        v->info = snap_items[i];
        v->v.str = NULL;
        if (((int)v->info & CURLINFO_TYPEMASK) == CURLINFO_STRING) {
            char *str = NULL;
            v->ok = rc->easy_getinfo(h, v->info, &str) == CURLE_OK;
            if (v->ok && str && !(v->v.str = strdup(str)))
                v->ok = 0;
        } else {
            v->ok = rc->easy_getinfo(h, v->info, &v->v) == CURLE_OK;
        }
    }
    return sn;
}

/* One item of a snapshot into getinfo's argument; 0, or -1 when it has none. */
static int snap_answer(const snapshot *sn, CURLINFO info, void *arg)
{
    if (info == CURLINFO_CERTINFO) {
        if (!sn->certs_ok)
            return -1;
        *(const struct curl_certinfo **)arg = &sn->certs;
        return 0;
    }
    for (size_t k = 0; k < sizeof snap_twins / sizeof *snap_twins; k++) {
        curl_off_t o;
        if (snap_twins[k].d != info)
            continue;
        if (snap_answer(sn, snap_twins[k].o, &o) != 0)
            return -1;
        *(double *)arg = (double)o / snap_twins[k].per;
        return 0;
    }
    for (size_t i = 0; i < sn->n; i++) {
        const snapval *v = &sn->v[i];
        if (v->info != info)
            continue;
        if (!v->ok)
            return -1;
        switch ((int)info & CURLINFO_TYPEMASK) {
        case CURLINFO_STRING: *(char **)arg = v->v.str; break;
        case CURLINFO_LONG: *(long *)arg = v->v.l; break;
        case CURLINFO_DOUBLE: *(double *)arg = v->v.d; break;
        case CURLINFO_OFF_T: *(curl_off_t *)arg = v->v.o; break;
        default: return -1;
        }
        return 0;
    }
    return -1;
}

static void ov_clear(hstate *s)
{
    if (s->ov.snap)
        __atomic_sub_fetch(&snaps_live, 1, __ATOMIC_SEQ_CST);
    snap_free(s->ov.snap);
    free(s->ov.ctype);
    free(s->ov.url);
    llf_buf_free(&s->ov.head);
    llf_buf_free(&s->ov.trailers);
    for (size_t i = 0; i < s->ov.nh; i++) {
        free(s->ov.names[i]);
        free(s->ov.values[i]);
    }
    free(s->ov.names);
    free(s->ov.values);
    free(s->ov.origins);
    memset(&s->ov, 0, sizeof s->ov);
}

/* Remember what the program is given (code: its status, 0 for none), so
 * that getinfo and curl_easy_header describe it rather than the handle's
 * last attempt. */
static void set_override(hstate *s, long code, long http_version, const char *url, const char *head,
                         size_t headlen, curl_off_t size, curl_off_t upload, double total_s)
{
    ov_clear(s);
    s->ov.active = 1;
    s->ov.code = code;
    s->ov.http_version = http_version;
    s->ov.header_size = (long)headlen;
    s->ov.size = size;
    s->ov.upload = upload;
    s->ov.total_s = total_s;
    s->ov.clen = -1;
    s->ov.url = strdup(url);
    llf_buf_add(&s->ov.head, head ? head : "", headlen);
}

static void ov_snap(hstate *s, snapshot *sn)
{
    if (!sn)
        return;
    if (s->ov.snap)
        __atomic_sub_fetch(&snaps_live, 1, __ATOMIC_SEQ_CST);
    snap_free(s->ov.snap);
    s->ov.snap = sn;
    __atomic_add_fetch(&snaps_live, 1, __ATOMIC_SEQ_CST);
}

static void slist_drop(struct curl_slist **l)
{
    if (*l)
        llf_real_curl()->slist_free_all(*l);
    *l = NULL;
}

/* A copy of a list of the program's (NULL with no memory, or for none). */
static struct curl_slist *slist_copy(const struct curl_slist *l)
{
    const llf_curl_api *rc = llf_real_curl();
    struct curl_slist *out = NULL;
    for (; l; l = l->next) {
        struct curl_slist *n = l->data ? rc->slist_append(out, l->data) : out;
        if (!n) {
            slist_drop(&out);
            return NULL;
        }
        out = n;
    }
    return out;
}

static int tls_index(CURLoption o)
{
    for (size_t i = 0; i < NTLS; i++)
        if (tls_opts[i].o == o)
            return (int)i;
    return -1;
}

static struct curl_blob *blob_copy(const struct curl_blob *b)
{
    struct curl_blob *c = b ? malloc(sizeof *c + b->len) : NULL;
    if (c) {
        if (b->len)
            memcpy(c + 1, b->data, b->len);
        c->data = c + 1;
        c->len = b->len;
        c->flags = CURL_BLOB_COPY;
    }
    return c;
}

/* A copy of the program's value p of tls_opts[i] (strings and blobs
 * copied: libcurl keeps a blob the program may free, and a string is the
 * program's); 0, or -1 with no memory. */
static int tls_copy(tlsval *v, size_t i, long l, const void *p)
{
    memset(v, 0, sizeof *v);
    switch (tls_opts[i].kind) {
    case TK_LONG: v->l = l; return 0;
    case TK_STR: v->str = p ? strdup(p) : NULL; return p && !v->str ? -1 : 0;
    case TK_BLOB: v->blob = blob_copy(p); return p && !v->blob ? -1 : 0;
    default: v->fn = (void (*)(void))p; return 0;
    }
}

static void tls_free(hstate *s)
{
    for (size_t i = 0; i < NTLS; i++) {
        if (tls_opts[i].kind == TK_STR)
            free(s->tls[i].str);
        else if (tls_opts[i].kind == TK_BLOB)
            free(s->tls[i].blob);
        memset(&s->tls[i], 0, sizeof s->tls[i]);
    }
}

/* n's own copies of s's TLS values (n a copy of s, its pointers s's). */
static void tls_dup(hstate *n, const hstate *s)
{
    for (size_t i = 0; i < NTLS; i++) {
        int kind = tls_opts[i].kind;
        if (kind == TK_STR || kind == TK_BLOB) {
            const void *p = kind == TK_STR ? (const void *)s->tls[i].str : (const void *)s->tls[i].blob;
            if (tls_copy(&n->tls[i], i, 0, p)) {
                n->tls_set &= ~(1u << i);
                n->tls_lost = 1;
            }
        }
    }
}

/* Mirror of one TLS option the program set (libcurl accepted it). */
static void tls_record(hstate *s, int i, long l, const void *p)
{
    tlsval v;
    if (tls_copy(&v, (size_t)i, l, p)) {
        s->tls_lost = 1;
        return;
    }
    if (tls_opts[i].kind == TK_STR)
        free(s->tls[i].str);
    else if (tls_opts[i].kind == TK_BLOB)
        free(s->tls[i].blob);
    s->tls[i] = v;
    s->tls_set |= 1u << i;
}

static void due_free(deferred *q)
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
    ov_clear(s);
    due_free(s->due);
    slist_drop(&s->resolve_copy);
    slist_drop(&s->member_resolve);
    slist_drop(&s->cookiefiles);
    slist_drop(&s->aside);
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
    tls_free(s);
    free(s);
}

static void state_init(hstate *s, CURL *h)
{
    memset(s, 0, sizeof *s);
    s->h = h;
    s->postsize = s->infilesize = -1;
    s->noprogress = 1;
    s->writedata = stdout;   /* libcurl's defaults: restore() puts them back */
    s->readdata = stdin;
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

static hstate *state_find(CURL *h)
{
    hstate *s = NULL;
    lock_table();
    HASH_FIND_PTR(table, &h, s);
    unlock_table();
    return s;
}

static hstate *state_get(CURL *h)
{
    pthread_once(&atfork_once, install_atfork);
    hstate *s = state_find(h);
    if (s)
        return s;
    s = malloc(sizeof *s);
    if (!s)
        return NULL;
    state_init(s, h);
    lock_table();
    table_oom = 0;
    HASH_ADD_PTR(table, h, s);
    int oom = table_oom;
    unlock_table();
    if (oom) {
        free(s);
        return NULL;
    }
    return s;
}

static void state_drop(CURL *h)
{
    hstate *s = NULL;
    lock_table();
    HASH_FIND_PTR(table, &h, s);
    if (s)
        HASH_DEL(table, s);
    unlock_table();
    state_free(s);
}

/* Share handles that hold cookies (CURLSHOPT_SHARE of CURL_LOCK_DATA_COOKIE):
 * what a handle's CURLOPT_SHARE does to its cookies depends on it; or
 * connections (CURL_LOCK_DATA_CONNECT): the curl path's and the relay's
 * then meet in one cache (see curl_multi_add_handle). libcurl cannot be
 * asked. */
enum { SH_COOKIE = 1, SH_CONNECT = 2, SH_RELAYED = 4 /* a handle went through a multi handle */ };
typedef struct shstate {
    CURLSH *sh;
    unsigned holds;                   /* SH_* */
    UT_hash_handle hh;
} shstate;
static shstate *shares;

static int share_holds(CURLSH *sh, unsigned what)
{
    shstate *e = NULL;
    lock_table();
    HASH_FIND_PTR(shares, &sh, e);
    int r = e && (e->holds & what);
    unlock_table();
    return r;
}

/* sh now holds `what` (on) or not; what 0: sh is gone. */
static void share_note(CURLSH *sh, unsigned what, int on)
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

static int interesting(CURLoption o)
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
        return tls_index(o) >= 0;
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
static void record(hstate *s, CURLoption o, long l, void *p, curl_off_t off)
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
            slist_drop(&s->resolve_copy);
            s->resolve_copy = slist_copy(p);
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
            slist_drop(&s->cookiefiles);
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
        if (p && share_holds(p, SH_COOKIE))
            s->jar = JAR_SHARED;
        break;
    case CURLOPT_DEBUGFUNCTION: s->debugfn = (curl_debug_callback)p; break;
    case CURLOPT_DEBUGDATA: s->debugdata = p; break;
    case CURLOPT_STDERR: s->stderr_fp = p; break;
    default: {
        int i = tls_index(o);
        if (i >= 0)
            tls_record(s, i, l, p);
        break;
    }
    }
}

typedef void (*anyfn)(void);

/* libcurl's setopt, the argument forwarded with the type its option number
 * implies (see pitfalls.md). */
static CURLcode setopt_as(const llf_curl_api *rc, CURL *h, CURLoption o, long l, void *p, curl_off_t off)
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
 * call's end would put the old value back (restore). So it waits, in
 * order, for the call's end (curl_easy_perform), and is recorded then, as
 * libcurl accepts it. What libcurl would have copied at once (a string, a
 * blob and its data when CURL_BLOB_COPY, COPYPOSTFIELDS' bytes) is copied
 * here, for the program may free its own; an object (a list, a CURLU, a
 * callback's data) is the program's to keep, as libcurl would hold it.
 * CURLE_OK, or CURLE_OUT_OF_MEMORY, or CURLE_NOT_BUILT_IN for a pointer
 * when libcurl cannot say whether it is a string (before 7.73): nothing is
 * set then. */
static CURLcode defer(const llf_curl_api *rc, hstate *s, CURLoption o, long l, void *p, curl_off_t off)
{
    deferred *d = malloc(sizeof *d);
    if (!d)
        return CURLE_OUT_OF_MEMORY;
    *d = (deferred){NULL, o, l, p, off, NULL};
    if (p && o == CURLOPT_COPYPOSTFIELDS) {   /* (as record copies it) */
        curl_off_t size = due_postsize(s);
        size_t n = size >= 0 ? (size_t)size : strlen(p);
        if ((d->own = malloc(n + 1))) {
            memcpy(d->own, p, n);
            ((char *)d->own)[n] = '\0';
        }
    } else if (p && o >= CURLOPTTYPE_BLOB) {
        const struct curl_blob *b = p;
        if (b->flags & CURL_BLOB_COPY)
            d->own = blob_copy(b);
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

/* The options put off (defer) set on h, in order, and recorded in s (NULL:
 * no state to record them in). */
static void due_apply(const llf_curl_api *rc, CURL *h, hstate *s, const deferred *q)
{
    for (; q; q = q->next)
        if (setopt_as(rc, h, q->o, q->l, q->p, q->off) == CURLE_OK && s)
            record(s, q->o, q->l, q->p, q->off);
}

static hstate *busy_state(CURL *h);
static int output_taken(const hstate *s, CURLoption o);

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
    int ours = interesting(o) && !llf_disabled();
    hstate *busy = ours ? busy_state(h) : NULL;
    int taken = busy ? output_taken(busy, o) : -1;
    if (busy && taken < 0)   /* (libcurl's own checks of the value come when it is set: see defer) */
        return defer(rc, busy, o, l, p, off);
    if (busy) {
        /* Where the answer goes (see output_taken): the program's at once,
         * as with libcurl, which applies these mid-transfer. */
        CURLcode res = taken ? CURLE_OK : setopt_as(rc, h, o, l, p, off);
        if (res == CURLE_OK)
            record(busy, o, l, p, off);
        return res;
    }
    CURLcode res = setopt_as(rc, h, o, l, p, off);
    if (res == CURLE_OK && !LLF_IN_LIB() && ours) {
        hstate *s = state_get(h);
        if (s)
            record(s, o, l, p, off);
    }
    return res;
}

/* ---- delivery through the program's own callbacks ---------------------- */

static double since_ms(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Around a callback of the program's: its own curl calls are the program's,
 * not libcurl's (the guard off), and the guard is put back as it was (on
 * inside a transfer of ours, off after one, where a delivery ends). */
#define PROGRAM_BEGIN() { int guard_ = llf_in_lib; llf_in_lib = 0;
#define PROGRAM_END() llf_in_lib = guard_; }

/* A real transfer with a guard on (llf_in_lib: libcurl's own calls to the
 * hooks go straight to it; llf_curl_direct: its connections go where the
 * program sent them), put back as it was after, and the frame that set it
 * kept for llf_guard_live. */
static CURLcode guarded_perform(const llf_curl_api *rc, CURL *h, int *guard)
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
    CURLcode res = guarded_perform(rc, h, &llf_curl_direct);
    direct_easy = easy;
    direct_multi = multi;
    return res;
}

/* The program's progress callback, as libcurl calls it: XFERINFOFUNCTION
 * when set, else PROGRESSFUNCTION. */
static int call_progress(const hstate *s, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    if (s->xferfn)
        return s->xferfn(s->progressdata, dt, dn, ut, un);
    if (s->progfn)
        return s->progfn(s->progressdata, (double)dt, (double)dn, (double)ut, (double)un);
    return 0;
}

/* A write or header callback of the program's returned CURL_WRITEFUNC_PAUSE
 * while we deliver an answer (the transfer it came from is over, or is
 * ours to translate): libcurl would keep the bytes, call the progress
 * callback while paused (where programs usually unpause), and hand the same
 * bytes over again once curl_easy_pause unpauses receiving, from there or
 * from another thread. So do we, unpauses that way (RECV; SEND for a read
 * callback's CURL_READFUNC_PAUSE) counted from seen, the count before the
 * callback ran. -1: the progress callback asked to abort. */
enum { RECV = 0, SEND = 1 };
static int wait_unpause(hstate *s, int way, unsigned seen)
{
    struct timespec nap = {0, 1000000};
    __atomic_store_n(&s->waiting, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&s->unpauses[way], __ATOMIC_SEQ_CST) == seen) {
        /* (libcurl keeps the transfer's own limit while it is paused) */
        if (s->timeout_ms > 0 && since_ms(&s->call_t0) > (double)s->timeout_ms) {
            s->pause_rc = CURLE_OPERATION_TIMEDOUT;
            break;
        }
        if (!s->noprogress) {
            int r = call_progress(s, s->meter[0], s->meter[1], s->meter[2], s->meter[3]);
            if (r && r != CURL_PROGRESSFUNC_CONTINUE) {
                s->pause_rc = CURLE_ABORTED_BY_CALLBACK;
                break;
            }
            if (__atomic_load_n(&s->unpauses[way], __ATOMIC_SEQ_CST) != seen)
                break;
        }
        nanosleep(&nap, NULL);
        if (nap.tv_nsec < 64000000)
            nap.tv_nsec *= 2;
    }
    __atomic_store_n(&s->waiting, 0, __ATOMIC_SEQ_CST);
    return s->pause_rc ? -1 : 0;
}

static size_t write_once(curl_write_callback fn, void *data, const char *buf, size_t n)
{
    if (fn)
        return fn((char *)buf, 1, n, data);
    return fwrite(buf, 1, n, data ? (FILE *)data : stdout);
}

/* n bytes to a write or header callback (fn; NULL: fwrite to data), at most
 * `most` at a time, each piece again after a pause. 0, or -1 when the
 * callback took less (or the program aborted while paused). */
static int call_write(hstate *s, curl_write_callback fn, void *data, const char *buf, size_t n, size_t most)
{
    s->delivering = 1;
    int rc = 0;
    for (size_t off = 0; off < n && !rc;) {
        size_t k = n - off < most ? n - off : most;
        unsigned seen = __atomic_load_n(&s->unpauses[RECV], __ATOMIC_SEQ_CST);
        /* (curl_easy_pause(CURLPAUSE_RECV) from a callback: no more bytes
         * until it is unpaused, perhaps already) */
        if (s->want_pause) {
            s->want_pause = 0;
            if (wait_unpause(s, RECV, s->pause_seen)) {
                rc = -1;
                break;
            }
            seen = __atomic_load_n(&s->unpauses[RECV], __ATOMIC_SEQ_CST);
        }
        size_t w = write_once(fn, data, buf + off, k);
        if (w == CURL_WRITEFUNC_PAUSE && fn) {
            rc = wait_unpause(s, RECV, seen);
            continue;
        }
        if (w != k)
            rc = -1;
        off += k;
    }
    if (!rc && s->want_pause) {   /* (paused on the last piece: libcurl waits too) */
        s->want_pause = 0;
        rc = wait_unpause(s, RECV, s->pause_seen);
    }
    s->delivering = 0;
    return rc;
}

static int give_body(hstate *s, const char *buf, size_t n)
{
    return call_write(s, s->writefn, s->writedata, buf, n, WRITE_CHUNK);
}

/* One header line, as libcurl hands it (sendf.c, chop_write): into the
 * body stream under CURLOPT_HEADER (in_body), then to the header callback
 * (or the write callback on HEADERDATA). A trailer line goes the same way
 * but never into the body: libcurl 7.88 writes trailers as
 * CLIENTWRITE_HEADER|CLIENTWRITE_TRAILER, without CLIENTWRITE_BODY
 * (http_chunks.c). */
enum { GAVE_BODY_FAIL = -1, GAVE_HEADER_FAIL = -2 };   /* which of libcurl's two messages */
static int give_header_line(hstate *s, const char *line, size_t n, int in_body)
{
    if (in_body && s->header_in_body && call_write(s, s->writefn, s->writedata, line, n, n))
        return GAVE_BODY_FAIL;
    if (s->headerfn) {
        if (call_write(s, s->headerfn, s->headerdata, line, n, n))
            return GAVE_HEADER_FAIL;
    } else if (s->headerdata) {
        if (call_write(s, s->writefn, s->headerdata, line, n, n))
            return GAVE_HEADER_FAIL;
    }
    return 0;
}

/* 0, or GAVE_*_FAIL. */
static int give_lines(hstate *s, const char *p, size_t n, int in_body)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p + 1) : n;
        int e = give_header_line(s, p, k, in_body);
        if (e)
            return e;
        p += k;
        n -= k;
    }
    return 0;
}

static int give_head(hstate *s, const char *p, size_t n)
{
    return give_lines(s, p, n, 1);
}

/* A chunked answer's trailer lines (llf_resp.trailers), after its body's
 * last byte, as libcurl hands them. */
static int give_trailers(hstate *s, const char *p, size_t n)
{
    return give_lines(s, p, n, 0);
}

/* ---- one attempt on the program's handle ------------------------------- */

/* A reader (and its rewind) over a copy of the program's upload. */
typedef struct copy_reader {
    const llf_buf *b;
    size_t off;
} copy_reader;

/* A member's credentials its trace may show: its key, its base URL's user,
 * password and their Basic value, a key= of its base URL's query. */
#define NSECRET 8

typedef struct attempt_ctx {
    hstate *s;
    CURL *h;
    const llf_req *orig;
    unsigned dirty;         /* D_*: options an attempt set away from the program's */
    /* a body the program's reader gave (read_body): the original sends it
     * through a reader of ours over this copy, as the program framed it */
    const llf_buf *upload;
    copy_reader reader;
    /* per attempt */
    llf_resp *out;
    const llf_attempt *at;
    int live, got_byte;
    int original;       /* this attempt is the program's own request */
    int fail_at_head;   /* ...and the program set FAILONERROR (see cap_header) */
    int passing;        /* an answer over MAX_BODY, handed on as it comes (over_cap) */
    int gated;          /* a 2xx stream, held back until its answer's first event */
    int tunnel;         /* this header block is a proxy's reply to CONNECT */
    int pipe_broke;     /* the member's translated stream failed mid-way (an error event) */
    int first_ok;
    llf_sse sse;
    struct llf_gate *gate;          /* judging the held-back events */
    struct llf_stream_pipe *pipe;   /* translating a member's stream, or NULL */
    size_t block_start;
    long block_status;
    size_t trailers_given;   /* of out->trailers, what the program was handed */
    struct timespec t0;
    struct timespec fb_t0;   /* whence the first byte is awaited: the upload's end */
    curl_off_t up_seen;      /* the upload's progress at the last look */
    int up_done;             /* the request reached the server whole (llf_upload_done) */
    /* what a live delivery gave the program, for getinfo */
    llf_buf given_head;
    curl_off_t given;
    /* the original attempt's transfer, as getinfo described it (taken
     * before the next attempt: a call of one attempt needs none) */
    const llf_resp *orig_out;     /* what its first attempt got */
    int snap_due;                 /* the last attempt was that one */
    snapshot *snap;
    /* the program's progress callback between transfers (curl_left) */
    struct timespec progress_t;   /* when it was last called */
    int aborted;                  /* it asked to abort */
    /* a member attempt's own credentials (pointers into its request), kept
     * out of the program's verbose trace */
    const char *secret[NSECRET];
    size_t secret_n[NSECRET];
    int nsecret;
} attempt_ctx;

/* Options an attempt may leave other than the program set them; restore()
 * puts back only these (and the callbacks, always taken over). A call
 * answered by its original attempt touches few: every setopt costs. */
enum { D_URL = 1, D_POST = 2, D_FLAGS = 4, D_TIMEOUTS = 8, D_PROGRESS = 16, D_CREDS = 32,
       D_DEBUG = 64, D_FOLLOW = 128, D_ROUTE = 256, D_JAR = 512, D_READ = 1024, D_TLS = 2048,
       D_CONN = 4096, D_ALL = 8191 };

/* A call that only runs a reader of ours, or reads the program's body
 * (hstate.call_dirty). */
static const unsigned dirty_read = D_READ, dirty_none = 0;

static void call_begin(hstate *s, const unsigned *dirty)
{
    s->call_dirty = dirty;
    __atomic_add_fetch(&calls_live, 1, __ATOMIC_SEQ_CST);
}

static void call_end(hstate *s)
{
    s->call_dirty = NULL;
    __atomic_sub_fetch(&calls_live, 1, __ATOMIC_SEQ_CST);
}

static void forget(CURL *h, hstate *s);

/* Options that say where the answer goes (its writer and header
 * callbacks, the error buffer, the progress callback and whether it is
 * called), set from a callback while a call runs: libcurl applies them at
 * once, mid-transfer (a header callback choosing the file the body goes
 * to, a progress callback turning itself off, a new error buffer and the
 * old one freed), and they carry nothing to a provider. So they are the
 * program's at once (recorded: our delivery reads them), and go to the
 * handle at once unless the attempt under way has its own there, which
 * restore() replaces with them at the call's end: 1 then, 0 when they go
 * to the handle, -1 for any other option (see defer). */
static int output_taken(const hstate *s, CURLoption o)
{
    const unsigned *d = s->call_dirty;
    switch (o) {
    case CURLOPT_WRITEFUNCTION: case CURLOPT_WRITEDATA: case CURLOPT_HEADERFUNCTION:
    case CURLOPT_HEADERDATA: case CURLOPT_ERRORBUFFER:
        return d != &dirty_none && d != &dirty_read;   /* (an attempt's: ours capture) */
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
static hstate *busy_state(CURL *h)
{
    if (!__atomic_load_n(&calls_live, __ATOMIC_SEQ_CST) || !h)
        return NULL;
    hstate *s = state_find(h);
    return s && s->call_dirty ? s : NULL;
}

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
        set_override(c->s, c->block_status, r->http_version, c->orig->url, c->given_head.p, c->given_head.n, 0,
                     (curl_off_t)c->orig->body.n,
                     since_ms(&c->t0) / 1e3);
    int bad;
    PROGRAM_BEGIN()
    bad = give_head(c->s, r->head.p, end) || give_head(c->s, extra, strlen(extra)) ||
          give_head(c->s, r->head.p + end, n - end);
    PROGRAM_END()
    c->live = 1;
    r->delivered = 1;
    llf_sse_free(&c->sse);   /* from here on it watches (watch()), from the first byte */
    memset(&c->sse, 0, sizeof c->sse);
    return bad ? -1 : 0;
}

/* The trailers that came and were not handed over yet (see cap_header). */
static int give_trailers_due(attempt_ctx *c)
{
    llf_buf *t = &c->out->trailers;
    if (c->trailers_given >= t->n)
        return 0;
    int bad;
    PROGRAM_BEGIN()
    bad = give_trailers(c->s, t->p + c->trailers_given, t->n - c->trailers_given);
    PROGRAM_END()
    c->trailers_given = t->n;
    return bad;
}

/* Every header line libcurl hands over, kept where it belongs (llf_head_take):
 * the head, replayed before the body, or a chunked body's trailers, which
 * come after it. A live answer's trailers are the program's as they come,
 * as libcurl would hand them; a translated stream's only after its own
 * ending (perform_attempt), and a held one's after its body (gate_at_end,
 * or the delivery of the final answer). */
static size_t cap_header(char *p, size_t size, size_t nmemb, void *ud)
{
    attempt_ctx *c = ud;
    size_t n = size * nmemb;
    if (c->live) {   /* (after a 2xx block: only its trailers come) */
        if (llf_buf_add(&c->out->trailers, p, n))
            return 0;
        return c->pipe || !give_trailers_due(c) ? n : 0;
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
    bad = core ? (t.n && give_body(c->s, t.p, t.n)) : give_body(c->s, p, n);
    PROGRAM_END()
    c->given += (curl_off_t)(core ? t.n : n);
    llf_buf_free(&t);
    c->pipe_broke |= broke && !bad;
    return bad || broke ? -1 : 0;
}

/* Held back to the end (verdict.stream_refusal): judge the whole, then
 * either deliver all of it now or let the next member answer. */
static void gate_at_end(attempt_ctx *c)
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
    bad = give_body(c->s, c->out->body.p ? c->out->body.p : "", c->out->body.n);
    PROGRAM_END()
    c->given += (curl_off_t)c->out->body.n;
    llf_buf_reset(&c->out->body);
    return bad ? -1 : 0;
}

static size_t cap_write(char *p, size_t size, size_t nmemb, void *ud)
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
        w = write_once(c->s->writefn, c->s->writedata, p, n);
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

static int cap_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
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
    if (!c->got_byte && c->at->first_byte_ms > 0 && since_ms(&c->fb_t0) > (double)c->at->first_byte_ms) {
        c->out->first_byte_timeout = 1;
        return 1;
    }
    /* (the first-token limit is met by the answer's first event, not by
     * framing alone: message_start, a role chunk; a stream whose head has
     * not come has no first event either) */
    int no_event = c->gated ? !(c->gate && llf_core()->gate_started(c->gate)) : c->at->live && !c->got_byte;
    if (no_event && c->at->first_token_ms > 0 && since_ms(&c->t0) > (double)c->at->first_token_ms) {
        c->out->first_token_timeout = 1;
        return 1;
    }
    hstate *s = c->s;
    s->meter[0] = dt, s->meter[1] = dn, s->meter[2] = ut, s->meter[3] = un;
    if (s->noprogress)
        return 0;
    int r;
    PROGRAM_BEGIN()
    r = call_progress(s, dt, dn, ut, un);
    PROGRAM_END()
    return r;
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

/* libcurl's own CAINFO and CAPATH (CURLINFO_CAINFO, _CAPATH: the
 * built-in ones, whatever is set; 7.84 on), or 0 when it cannot say. */
static int ca_defaults(const llf_curl_api *rc, CURL *h, char **cainfo, char **capath)
{
    *cainfo = *capath = NULL;
    return rc->easy_getinfo(h, CURLINFO_CAINFO, cainfo) == CURLE_OK &&
           rc->easy_getinfo(h, CURLINFO_CAPATH, capath) == CURLE_OK;
}

static int tls_has_ctxfn(const hstate *s)
{
    int i = tls_index(CURLOPT_SSL_CTX_FUNCTION);
    return (s->tls_set & 1u << i) && s->tls[i].fn;
}

/* A member's TLS: the library's trust, none of the program's own (see
 * tls_opts). Only what the program set, and CAINFO for a ca_bundle, is
 * changed. A libcurl that cannot say its default CA file and path (before
 * 7.84) gets a ca_bundle only in place of a CA file of the program's (its
 * own default could not be put back), and no CA file or path where the
 * program set one and there is no ca_bundle: the member then fails, never
 * trusts what the program does. D_TLS when anything was changed. */
static unsigned tls_member(const llf_curl_api *rc, CURL *h, const hstate *s, const char *ca)
{
    char *cainfo, *capath;
    int known = ca_defaults(rc, h, &cainfo, &capath);
    int ci = tls_index(CURLOPT_CAINFO), cp = tls_index(CURLOPT_CAPATH);
    int ca_own = ca && known && !(s->tls_set & 1u << ci);
    if (!s->tls_set && !ca_own)
        return 0;   /* (the program's settings are libcurl's defaults) */
    for (size_t i = 0; i < NTLS; i++) {
        if (!(s->tls_set & 1u << i))
            continue;
        CURLoption o = tls_opts[i].o;
        switch (tls_opts[i].kind) {
        case TK_LONG: rc->easy_setopt(h, o, tls_opts[i].member); break;
        case TK_STR:
            rc->easy_setopt(h, o, (int)i == ci ? (ca ? ca : cainfo) : (int)i == cp ? capath : (char *)NULL);
            break;
        case TK_BLOB: rc->easy_setopt(h, o, (struct curl_blob *)NULL); break;
        default: rc->easy_setopt(h, o, (void (*)(void))NULL); break;
        }
    }
    if (ca_own)
        rc->easy_setopt(h, CURLOPT_CAINFO, ca);
    /* What the program's SSL_CTX_FUNCTION did to a connection or a TLS
     * session (trusted anything, presented a certificate) is not among
     * what libcurl compares before reusing one: the member neither takes
     * nor leaves either. */
    if (tls_has_ctxfn(s)) {
        rc->easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        rc->easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
        rc->easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    }
    return D_TLS;
}

/* The program's TLS options back, as it set them (undoes tls_member). */
static void tls_back(const llf_curl_api *rc, CURL *h, const hstate *s)
{
    char *cainfo, *capath;
    int known = ca_defaults(rc, h, &cainfo, &capath);
    int ci = tls_index(CURLOPT_CAINFO), si = tls_index(CURLOPT_SSL_SESSIONID_CACHE);
    for (size_t i = 0; i < NTLS; i++) {
        if (!(s->tls_set & 1u << i))
            continue;
        CURLoption o = tls_opts[i].o;
        switch (tls_opts[i].kind) {
        case TK_LONG: rc->easy_setopt(h, o, s->tls[i].l); break;
        case TK_STR: rc->easy_setopt(h, o, s->tls[i].str); break;
        case TK_BLOB: rc->easy_setopt(h, o, s->tls[i].blob); break;
        default: rc->easy_setopt(h, o, s->tls[i].fn); break;
        }
    }
    if (known && !(s->tls_set & 1u << ci))
        rc->easy_setopt(h, CURLOPT_CAINFO, cainfo);
    if (tls_has_ctxfn(s)) {
        rc->easy_setopt(h, CURLOPT_FRESH_CONNECT, s->fresh_connect);
        rc->easy_setopt(h, CURLOPT_FORBID_REUSE, s->forbid_reuse);
        rc->easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, s->tls_set & 1u << si ? s->tls[si].l : 1L);
    }
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
        slist_drop(&s->member_resolve);
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
    slist_drop(&s->member_resolve);   /* (a member's before: libcurl holds l now) */
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
    slist_drop(&s->aside);
}

/* The credentials of a member's request: of each credential header, the
 * value's last word (the key of "Bearer KEY" and of a bare KEY); and those
 * it carries otherwise (req->creds: its base URL's login, as the Basic
 * header libcurl makes of it too, and its query's key=). */
static void note_secrets(attempt_ctx *c, const llf_core_api *core, const llf_req *req)
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
static int cap_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
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

static void read_from(const llf_curl_api *rc, CURL *h, copy_reader *r)
{
    rc->easy_setopt(h, CURLOPT_READFUNCTION, copy_read);
    rc->easy_setopt(h, CURLOPT_READDATA, r);
    rc->easy_setopt(h, CURLOPT_SEEKFUNCTION, copy_seek);
    rc->easy_setopt(h, CURLOPT_SEEKDATA, r);
}

static void read_back(const llf_curl_api *rc, CURL *h, const hstate *s)
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
        c->snap = snap_take(h);
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
        tls_back(rc, h, s);   /* a member went first: the program's trust again */
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
    if (s->share && strncasecmp(req->url, "http://", 7) == 0 && share_holds(s->share, SH_RELAYED)) {
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
            c->dirty |= tls_member(rc, h, s, llf_core()->ca_bundle());
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
            note_secrets(c, llf_core(), req);
        if (s->verbose && !(c->dirty & D_DEBUG)) {
            rc->easy_setopt(h, CURLOPT_DEBUGFUNCTION, cap_debug);
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
        read_from(rc, h, &c->reader);
        c->dirty |= D_READ;
    } else if (!original || req->body.p != s->postfields || (c->dirty & D_POST)) {
        rc->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.n);
        rc->easy_setopt(h, CURLOPT_POSTFIELDS, req->body.p ? req->body.p : "");
        c->dirty |= D_POST;
    }
    rc->easy_setopt(h, CURLOPT_WRITEFUNCTION, cap_write);
    rc->easy_setopt(h, CURLOPT_WRITEDATA, c);
    rc->easy_setopt(h, CURLOPT_HEADERFUNCTION, cap_header);
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
        rc->easy_setopt(h, CURLOPT_XFERINFOFUNCTION, cap_progress);
        rc->easy_setopt(h, CURLOPT_XFERINFODATA, c);
        c->dirty |= D_PROGRESS;
    }

    s->in_transfer = 1;
    llf_guard_connect = -1;
    out->curlcode = guarded_perform(rc, h, &llf_in_lib);
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
    gate_at_end(c);
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
                give_body(s, t.p, t.n);
                PROGRAM_END()
                c->given += (curl_off_t)t.n;
            }
        }
        llf_buf_free(&t);
        core->pipe_free(c->pipe);
        c->pipe = NULL;
    }
    /* A live answer's trailers not handed over as they came: a held one's
     * (gate_at_end), a translated one's (after its ending). */
    if (out->delivered && out->curlcode == CURLE_OK && give_trailers_due(c))
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
    if (c->aborted || s->noprogress || (!s->xferfn && !s->progfn) || since_ms(&c->progress_t) < 1000)
        return c->aborted;
    clock_gettime(CLOCK_MONOTONIC, &c->progress_t);
    int r;
    PROGRAM_BEGIN()
    r = call_progress(s, s->meter[0], s->meter[1], s->meter[2], s->meter[3]);
    PROGRAM_END()
    c->aborted = r && r != CURL_PROGRESSFUNC_CONTINUE;
    return c->aborted;
}

/* Put back every option an attempt changed, as the program left it. */
static void restore(CURL *h, hstate *s, unsigned dirty)
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
        read_back(rc, h, s);
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
        tls_back(rc, h, s);
    if (dirty & D_CONN)
        rc->easy_setopt(h, CURLOPT_FRESH_CONNECT, s->fresh_connect);
}

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
            if (wait_unpause(s, SEND, seen))
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
    call_begin(s, &dirty_read);
    CURLcode res = pass(rc, h);
    rc->easy_setopt(h, CURLOPT_READFUNCTION, s->readfn);
    rc->easy_setopt(h, CURLOPT_READDATA, s->readdata);
    call_end(s);
    return res;
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

static int ov_add_header(hstate *s, const char *line, size_t n, unsigned origin)
{
    const char *colon = memchr(line, ':', n);
    if (!colon)
        return 0;
    size_t vl;
    const char *v = llf_trim(colon + 1, line + n, &vl);
    char **nn = realloc(s->ov.names, (s->ov.nh + 1) * sizeof *nn);
    if (!nn)
        return -1;
    s->ov.names = nn;
    char **vv = realloc(s->ov.values, (s->ov.nh + 1) * sizeof *vv);
    if (!vv)
        return -1;
    s->ov.values = vv;
    unsigned *oo = realloc(s->ov.origins, (s->ov.nh + 1) * sizeof *oo);
    if (!oo)
        return -1;
    s->ov.origins = oo;
    nn[s->ov.nh] = strndup(line, (size_t)(colon - line));
    vv[s->ov.nh] = strndup(v, vl);
    oo[s->ov.nh] = origin;
    if (!nn[s->ov.nh] || !vv[s->ov.nh]) {
        free(nn[s->ov.nh]);
        free(vv[s->ov.nh]);
        return -1;
    }
    if (origin != CURLH_HEADER) {
        /* (a trailer is neither the content's type nor its length) */
    } else if (strcasecmp(nn[s->ov.nh], "content-type") == 0) {
        free(s->ov.ctype);
        s->ov.ctype = strdup(vv[s->ov.nh]);
    } else if (strcasecmp(nn[s->ov.nh], "content-length") == 0) {
        s->ov.clen = strtoll(vv[s->ov.nh], NULL, 10);
    }
    s->ov.nh++;
    return 0;
}

/* The delivered head's last block as names and values, made when the
 * program first asks for a header, its content type or length: most
 * programs never do, and splitting it on every call was a measurable share
 * of a fallback's cost. */
static void ov_parse(hstate *s)
{
    if (s->ov.parsed || !s->ov.head.p)
        return;
    s->ov.parsed = 1;
    const char *line = strchr(llf_head_last_block(s->ov.head.p, s->ov.head.n), '\n');
    for (line = line ? line + 1 : NULL; line && *line && *line != '\r' && *line != '\n';) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (ov_add_header(s, line, n, CURLH_HEADER))
            return;
        line = nl ? nl + 1 : NULL;
    }
    /* The trailers after them, as libcurl lists them (origin CURLH_TRAILER). */
    for (line = s->ov.trailers.p; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (ov_add_header(s, line, n, CURLH_TRAILER))
            return;
        line = nl ? nl + 1 : NULL;
    }
}

/* A call of one attempt leaves getinfo to the handle, which describes it;
 * to tell the program otherwise of one item, the override takes over, with
 * the rest as the handle has it. */
static void ov_from_handle(hstate *s, CURL *h, const llf_resp *r, const char *url, const char *head,
                           size_t headlen, double total_s)
{
    if (s->ov.active)
        return;
    curl_off_t up = 0;
    llf_real_curl()->easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
    set_override(s, r->status, r->http_version, url, head, headlen, (curl_off_t)r->body.n, up, total_s);
    ov_snap(s, snap_take(h));
}

/* upload: the body as the program's reader gave it (body is its bytes), or
 * NULL for its postfields. */
static CURLcode managed(CURL *h, hstate *s, const llf_core_api *core, const char *url,
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
    call_begin(s, &ctx.dirty);
    int rc_run = core->run(call, &args, &fin);
    restore(h, s, ctx.dirty);
    /* The handle is the program's again, but the call goes on until its
     * answer is handed over: what a callback sets meanwhile waits too (see
     * defer), and a reset is done after it (curl_easy_reset). */
    s->call_dirty = &dirty_none;
    llf_headers_free(&orig.headers);
    llf_headers_free(&orig.creds);
    if (rc_run) {
        llf_buf_free(&ctx.given_head);
        snap_free(ctx.snap);
        core->call_free(call);
        int timed_out = fin.timed_out && !ctx.aborted;
        if (timed_out) {
            /* (its original skipped by its breaker, and the members took
             * all of the program's limit: libcurl's timeout, no answer) */
            double ms = since_ms(&t0);
            set_override(s, 0, 0, url, "", 0, 0, 0, ms / 1e3);
            if (s->errorbuffer)
                snprintf(s->errorbuffer, CURL_ERROR_SIZE,
                         "Operation timed out after %.0f milliseconds with 0 bytes received", ms);
        }
        call_end(s);
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
        snap_free(ctx.snap);
        set_override(s, 0, r->http_version, url, "", 0, 0, (curl_off_t)orig.body.n, since_ms(&t0) / 1e3);
        if (s->errorbuffer)
            snprintf(s->errorbuffer, CURL_ERROR_SIZE, "Callback aborted");
        call_end(s);
        core->call_free(call);
        return CURLE_ABORTED_BY_CALLBACK;
    }
    if (fin.attempts <= 1 && fin.from_original)
        ov_clear(s);   /* the handle itself describes what the program got */
    else   /* (a transfer that failed after its head keeps the status libcurl had: 0 before one) */
        set_override(s, r->status, r->http_version, url, head, headlen,
                     fin.delivered ? ctx.given : (curl_off_t)r->body.n, (curl_off_t)orig.body.n,
                     since_ms(&t0) / 1e3);
    /* The rest of getinfo: the original's transfer when the program gets
     * it after others ran (NULL when it ran last: the handle's); after a
     * member's answer, the member's but for OS_ERRNO and the length of the
     * body the program sent (the original's, as SIZE_UPLOAD's override:
     * the member's differs by its model's name). */
    if (s->ov.active && fin.from_original && r == ctx.orig_out) {
        ov_snap(s, ctx.snap);
        ctx.snap = NULL;
    } else if (s->ov.active && !fin.from_original) {
        snapshot *sn = malloc(sizeof *sn + 2 * sizeof sn->v[0]);   /* (on every call after a fallback) */
        if (sn) {
            curl_off_t sent = (curl_off_t)orig.body.n;
            if (ctx.snap)
                snap_answer(ctx.snap, CURLINFO_CONTENT_LENGTH_UPLOAD_T, &sent);   /* (-1 unknown, as libcurl) */
            sn->n = 0;
            sn->certs_ok = 0;   /* (the member's, the handle's) */
            sn->certs = (struct curl_certinfo){0, NULL};
            sn->v[sn->n++] = (snapval){CURLINFO_OS_ERRNO, 1, {.l = errno0}};
            sn->v[sn->n++] = (snapval){CURLINFO_CONTENT_LENGTH_UPLOAD_T, 1, {.o = sent}};
            ov_snap(s, sn);
        }
    }
    snap_free(ctx.snap);
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
            ov_from_handle(s, h, r, url, head, headlen, since_ms(&t0) / 1e3);
            s->ov.size = 0;
            snprintf(failmsg, sizeof failmsg, "The requested URL returned error: %ld", r->status);
            err = failmsg;
            res = CURLE_HTTP_RETURNED_ERROR;
            gave = give_head(s, head ? head : "", headlen);
        } else if (!(gave = give_head(s, head ? head : "", headlen))) {
            in_body = 1;   /* (trailers go the header's way, after the body) */
            if (give_body(s, r->body.p ? r->body.p : "", r->body.n))
                gave = GAVE_BODY_FAIL;
            else if (fin.from_original)
                gave = give_trailers(s, r->trailers.p, r->trailers.n);
        }
        if (gave) {
            /* As libcurl says it: a header callback's (or HEADERDATA
             * writer's) refusal apart from the body's; one of a header
             * line leaves no body downloaded. */
            err = gave == GAVE_HEADER_FAIL ? "Failed writing header" : "Failure writing output to destination";
            res = CURLE_WRITE_ERROR;
            if (!in_body) {
                ov_from_handle(s, h, r, url, head, headlen, since_ms(&t0) / 1e3);
                s->ov.size = 0;
            }
        }
    }
    if (s->pause_rc) {   /* a pause of the program's ended the call (wait_unpause) */
        res = s->pause_rc;
        err = res == CURLE_OPERATION_TIMEDOUT ? "Operation timed out while the transfer was paused"
                                              : "Callback aborted";
    }
    if (res != CURLE_OK && s->errorbuffer)
        snprintf(s->errorbuffer, CURL_ERROR_SIZE, "%s", err);
    call_end(s);
    core->call_free(call);
    return res;
}

/* What the program did to a handle from its callbacks while a call ran on
 * it, done now to h (the handle at the call's end, or a copy made
 * meanwhile), whose state is s: the reset it made (curl_easy_reset), then
 * the options it set after it (defer), recorded as libcurl takes them. */
static void catch_up(const llf_curl_api *rc, CURL *h, hstate *s, int reset, const deferred *due)
{
    if (reset) {
        forget(h, s);
        rc->easy_reset(h);
        s = due ? state_get(h) : NULL;
    }
    due_apply(rc, h, s, due);
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
    hstate *s = state_find(h);
    if (!s)
        return pass(rc, h);
    conn_back(rc, h, s);
    ov_clear(s);
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
        res = managed(h, s, core, url, s->postfields, n, NULL);
        if (res == CURLE_AGAIN)
            res = pass(rc, h);
    } else if (!core->is_endpoint(url)) {
        res = pass(rc, h);   /* an upload elsewhere: streamed as the program set it */
    } else {
        /* A read-callback body is consumed once, here; then every attempt,
         * and a pass-through, sends the copy. */
        llf_buf b = {0};
        call_begin(s, &dirty_none);   /* (its reader may reset the handle) */
        int got = read_body(s, &b);
        call_end(s);
        if (got != RB_OK) {
            res = got == RB_LARGE ? pass_read(rc, h, s, &b) : got == RB_BAD ? CURLE_READ_ERROR
                  : s->pause_rc ? s->pause_rc : CURLE_ABORTED_BY_CALLBACK;
            llf_buf_free(&b);
        } else {
            res = managed(h, s, core, url, b.p ? b.p : "", b.n, &b);
            if (res == CURLE_AGAIN) {
                /* (not a call: the copy goes as the program framed it) */
                copy_reader cr = {&b, 0};
                read_from(rc, h, &cr);
                call_begin(s, &dirty_read);
                res = guarded_perform(rc, h, &llf_in_lib);
                read_back(rc, h, s);
                call_end(s);
            }
            llf_buf_free(&b);
        }
    }
    if (curlu_url)
        rc->free(curlu_url);
    deferred *due = s->due;
    s->due = NULL;
    catch_up(rc, h, s, s->reset_due, due);
    due_free(due);
    return res;
}

/* Unpausing a delivery of ours that waits (wait_unpause) is counted, not
 * passed on: the transfer libcurl knows of is not paused. Every unpause is
 * counted, so that one racing the paused callback's return is not lost. */
LLF_EXPORT CURLcode curl_easy_pause(CURL *h, int bitmask)
{
    const llf_curl_api *rc = llf_real_curl();
    hstate *s = h && !llf_disabled() ? state_find(h) : NULL;
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
    if (LLF_IN_LIB() || !table)
        return rc->easy_getinfo(h, info, arg);
    if (__atomic_load_n(&snaps_live, __ATOMIC_RELAXED) && arg) {
        hstate *s = state_find(h);
        if (s && s->ov.active && s->ov.snap && snap_answer(s->ov.snap, info, arg) == 0)
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
    hstate *s = state_find(h);
    if (!s || !s->ov.active || !arg)
        return rc->easy_getinfo(h, info, arg);
    if (info == CURLINFO_CONTENT_TYPE || info == CURLINFO_CONTENT_LENGTH_DOWNLOAD ||
        info == CURLINFO_CONTENT_LENGTH_DOWNLOAD_T)
        ov_parse(s);
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

/* Fill the handle's curl_header for header i of the delivered block: its
 * index and amount among those of its name that the origin mask takes, as
 * libcurl counts them. */
static struct curl_header *ov_header(hstate *s, size_t i, unsigned origin)
{
    size_t amount = 0, index = 0;
    for (size_t k = 0; k < s->ov.nh; k++)
        if ((s->ov.origins[k] & origin) && strcasecmp(s->ov.names[k], s->ov.names[i]) == 0) {
            if (k < i)
                index++;
            amount++;
        }
    s->ov.hout = (struct curl_header){s->ov.names[i], s->ov.values[i], amount, index,
                                      s->ov.origins[i], (void *)(uintptr_t)i};
    return &s->ov.hout;
}

LLF_EXPORT CURLHcode curl_easy_header(CURL *h, const char *name, size_t index, unsigned int origin,
                                      int request, struct curl_header **hout)
{
    const llf_curl_api *rc = llf_real_curl();
    hstate *s = LLF_IN_LIB() || !table ? NULL : state_find(h);
    if (!s || !s->ov.active)
        return rc->easy_header ? rc->easy_header(h, name, index, origin, request, hout)
                               : CURLHE_NOT_BUILT_IN;
    if (!hout || !name || (origin & ~(unsigned)(CURLH_HEADER | CURLH_TRAILER | CURLH_CONNECT |
                                                CURLH_1XX | CURLH_PSEUDO)) || !origin)
        return CURLHE_BAD_ARGUMENT;
    if (request > 0)
        return CURLHE_NOREQUEST;
    ov_parse(s);
    size_t seen = 0;
    for (size_t i = 0; i < s->ov.nh; i++) {
        if (!(s->ov.origins[i] & origin) || strcasecmp(s->ov.names[i], name) != 0)
            continue;
        if (seen++ == index) {
            *hout = ov_header(s, i, origin);
            return CURLHE_OK;
        }
    }
    return seen ? CURLHE_BADINDEX : CURLHE_MISSING;
}

LLF_EXPORT struct curl_header *curl_easy_nextheader(CURL *h, unsigned int origin, int request,
                                                    struct curl_header *prev)
{
    const llf_curl_api *rc = llf_real_curl();
    hstate *s = LLF_IN_LIB() || !table ? NULL : state_find(h);
    if (!s || !s->ov.active)
        return rc->easy_nextheader ? rc->easy_nextheader(h, origin, request, prev) : NULL;
    if (request > 0)
        return NULL;
    ov_parse(s);
    size_t i = prev ? (size_t)(uintptr_t)prev->anchor + 1 : 0;
    while (i < s->ov.nh && !(s->ov.origins[i] & origin))
        i++;
    return i < s->ov.nh ? ov_header(s, i, origin) : NULL;
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
    hstate *s = LLF_IN_LIB() || !table ? NULL : state_find(h);
    if (s) {
        ov_clear(s);
        pause_fresh(s);   /* (its pauses are libcurl's from here) */
    }
    if (!s || libcurls)
        return rc->multi_add_handle(m, h);
    int apart = 0;
    if (s->share && !llf_disabled() && share_holds(s->share, SH_CONNECT)) {
        char *own;
        const char *url = next_url(rc, s, &own);
        /* (any transfer over http:// may leave a connection to the relay
         * in the share: from then on the curl path takes none there) */
        if (url && strncasecmp(url, "http://", 7) == 0)
            share_note(s->share, SH_RELAYED, 1);
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
    if (h && !LLF_IN_LIB() && __atomic_load_n(&table, __ATOMIC_ACQUIRE))
        state_drop(h);
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
    state_drop(h);
    hstate *n = keep.jar || keep.share || keep.resolve_copy || keep.resolve_lost ? state_get(h) : NULL;
    if (n) {
        n->jar = keep.jar;
        n->share = keep.share;
        n->resolve_copy = keep.resolve_copy;
        n->resolve_lost = keep.resolve_lost;
    } else {
        slist_drop(&keep.resolve_copy);
    }
}

/* From a callback of the program's while a call of ours runs on the
 * handle, the call still needs what the program set (its URL, its body),
 * and puts it back at its end: the reset is done again then, and the state
 * forgotten (curl_easy_perform). */
LLF_EXPORT void curl_easy_reset(CURL *h)
{
    const llf_curl_api *rc = llf_real_curl();
    hstate *busy = LLF_IN_LIB() && !llf_disabled() ? busy_state(h) : NULL;
    if (!LLF_IN_LIB() || busy) {
        hstate *s = busy ? busy : state_find(h);
        if (s && s->call_dirty) {
            s->reset_due = 1;
            due_free(s->due);   /* (what was set before it is gone) */
            s->due = NULL;
        } else {
            forget(h, s);
        }
    }
    if (rc->easy_reset)
        rc->easy_reset(h);
}

LLF_EXPORT void curl_easy_cleanup(CURL *h)
{
    const llf_curl_api *rc = llf_real_curl();
    if (!LLF_IN_LIB() && h)
        state_drop(h);
    if (rc->easy_cleanup)
        rc->easy_cleanup(h);
}

/* Which share handles hold cookies, for what CURLOPT_SHARE does to a
 * handle's jar (share_holds). The argument is forwarded with the
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
    if (r == CURLSHE_OK && (data == CURL_LOCK_DATA_COOKIE || data == CURL_LOCK_DATA_CONNECT) && !llf_disabled())
        share_note(sh, data == CURL_LOCK_DATA_COOKIE ? SH_COOKIE : SH_CONNECT | (o == CURLSHOPT_SHARE ? 0 : SH_RELAYED),
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
        share_note(sh, SH_COOKIE | SH_CONNECT | SH_RELAYED, 0);   /* (a new share may be given its address) */
    return r;
}

/* libcurl copies the options the handle has now: during a call of ours
 * (a callback of the program's duplicating its handle) those of an
 * attempt, a member's URL, key, body and trust, and callbacks whose data
 * lives in the attempt's frame. The copy gets the program's instead, put
 * back on it as restore() puts them back on the handle after the call. */
LLF_EXPORT CURL *curl_easy_duphandle(CURL *h)
{
    const llf_curl_api *rc = llf_real_curl();
    if (!rc->easy_duphandle)
        return NULL;
    CURL *d = rc->easy_duphandle(h);
    hstate *busy = d && LLF_IN_LIB() && !llf_disabled() ? busy_state(h) : NULL;
    if (!d || (LLF_IN_LIB() && !busy))
        return d;
    state_drop(d);   /* (as in curl_easy_init) */
    hstate *s = busy ? busy : state_find(h);
    if (!s)
        return d;
    hstate *n = state_get(d);
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
    tls_dup(n, s);   /* (libcurl's copy has the same options) */
    /* libcurl's copy has a jar of its own if this one has a jar, no share,
     * and the same RESOLVE list to load into a DNS cache of its own. */
    n->cookiefiles = slist_copy(s->cookiefiles);
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
    n->resolve_copy = s->resolve_set ? slist_copy(s->resolve_copy) : NULL;
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
            n->aside = slist_copy(s->aside);
            dirty |= D_JAR;
        }
        if (s->resolve_off) {
            n->resolve_off = 1;
            dirty |= D_ROUTE;
        }
        restore(d, n, dirty);
        rc->easy_setopt(d, CURLOPT_HTTPHEADER, n->headers);
    }
    catch_up(rc, d, n, s->reset_due, s->due);   /* (held back until the call's end) */
    return d;
}
