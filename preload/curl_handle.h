/* curl_handle.h — what the libcurl path knows of each handle (hstate, in a
 * table keyed by its CURL pointer): what the program set on it, recorded
 * as libcurl takes it, since libcurl has no getters; the options it sets
 * while a call of ours runs on it, put off to the call's end; which share
 * handles hold cookies or connections; and what the program is told of its
 * last managed call. */
#ifndef LLF_CURL_HANDLE_H
#define LLF_CURL_HANDLE_H

#include <stdio.h>
#include <time.h>
#include <uthash.h>

#include "buf.h"
#include "curl_info.h"
#include "curl_tls.h"
#include "curlapi.h"

#define MAX_BODY ((size_t)256 << 20)   /* the most of an answer, or of an upload, held */

enum method { M_GET, M_POST, M_PUT, M_HEAD, M_MIME };

/* Where a handle's cookies are (libcurl's data->cookies): nowhere, in a jar
 * of its own, or in the jar of a share handle (CURL_LOCK_DATA_COOKIE). */
enum { JAR_NONE, JAR_OWN, JAR_SHARED };

/* An option the program set while a call of ours ran on its handle, set
 * at the call's end (see llf_defer): p is the program's (an object, as libcurl
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
    /* A callback of the program's that paused (see llf_wait_unpause). Reset at
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
     * every attempt takes over (see llf_restore); NULL otherwise. A callback
     * of the program's that duplicates the handle then gets its options,
     * not ours (curl_easy_duphandle). */
    const unsigned *call_dirty;
    int reset_due;                    /* curl_easy_reset meanwhile: done again at the call's end */
    deferred *due;                    /* options the program set meanwhile, in order (llf_defer) */
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

/* The table (NULL while it holds no handle). */
extern hstate *llf_curl_table;

hstate *llf_state_find(CURL *h);
hstate *llf_state_get(CURL *h);   /* made when it has none; NULL with no memory */
void llf_state_drop(CURL *h);

/* Share handles that hold cookies (CURLSHOPT_SHARE of CURL_LOCK_DATA_COOKIE):
 * what a handle's CURLOPT_SHARE does to its cookies depends on it; or
 * connections (CURL_LOCK_DATA_CONNECT): the curl path's and the relay's
 * then meet in one cache (see curl_multi_add_handle). libcurl cannot be
 * asked. */
enum { SH_COOKIE = 1, SH_CONNECT = 2, SH_RELAYED = 4 /* a handle went through a multi handle */, SH_SSL = 8 };

int llf_share_holds(CURLSH *sh, unsigned what);
void llf_share_note(CURLSH *sh, unsigned what, int on);

void llf_slist_drop(struct curl_slist **l);
struct curl_slist *llf_slist_copy(const struct curl_slist *l);

typedef void (*anyfn)(void);

/* An option setopt records (the others pass untouched), and its record. */
int llf_interesting(CURLoption o);
void llf_record(hstate *s, CURLoption o, long l, void *p, curl_off_t off);
CURLcode llf_setopt_as(const llf_curl_api *rc, CURL *h, CURLoption o, long l, void *p, curl_off_t off);

/* Options an attempt may leave other than the program set them; llf_restore()
 * puts back only these (and the callbacks, always taken over). A call
 * answered by its original attempt touches few: every setopt costs. */
enum { D_URL = 1, D_POST = 2, D_FLAGS = 4, D_TIMEOUTS = 8, D_PROGRESS = 16, D_CREDS = 32,
       D_DEBUG = 64, D_FOLLOW = 128, D_ROUTE = 256, D_JAR = 512, D_READ = 1024, D_TLS = 2048,
       D_CONN = 4096, D_ALL = 8191 };

/* A call that only runs a reader of ours, or reads the program's body
 * (hstate.call_dirty). */
extern const unsigned llf_dirty_read, llf_dirty_none;

/* A call of ours on the handle, its options (D_*) in *dirty meanwhile. */
void llf_call_begin(hstate *s, const unsigned *dirty);
void llf_call_end(hstate *s);
hstate *llf_busy_state(CURL *h);
/* Options the program sets meanwhile: where the answer goes, at once, or
 * the rest put off to the call's end. */
int llf_output_taken(const hstate *s, CURLoption o);
CURLcode llf_defer(const llf_curl_api *rc, hstate *s, CURLoption o, long l, void *p, curl_off_t off);
void llf_due_apply(const llf_curl_api *rc, CURL *h, hstate *s, const deferred *q);
void llf_due_free(deferred *q);

#endif
