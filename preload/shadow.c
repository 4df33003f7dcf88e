/* shadow.c — mode "shadow" (see shadow.h).
 *
 * The program's thread only decides (sampling) and copies the request and
 * the primary's answer; one worker thread, started at the first copy,
 * rewrites the request for the candidate, sends it with its own libcurl
 * handle and writes one "shadow" line per copy. The queue is bounded, in
 * copies and in bytes: a backlog drops copies (logged), never memory or
 * time of the program. After fork() the child starts with an empty queue
 * and no worker (the parent's is not there); at exit the queue is drained
 * for at most shadow.timeout_ms. The worker's descriptors are close-on-exec
 * (open_sock; hook_fd.c for its libcurl's wake-up pair). */
#include "shadow.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "decode.h"
#include "guest.h"
#include "engine.h"
#include "forklock.h"
#include "hubutil.h"
#include "log.h"
#include "rewrite.h"
#include "verdict.h"

static int sim_oom;
#define uthash_nonfatal_oom(e) (sim_oom = 1)
#include <uthash.h>

/* ---- comparison (pure) ----------------------------------------------------- */

typedef struct word {
    const char    *p;
    size_t         n;
    double         ca, cb;
    UT_hash_handle hh;
} word;

#define MAX_WORDS 200000   /* bounds the work on a huge answer */

static int is_wordc(unsigned char c)
{
    return isalnum(c) || c >= 0x80;
}

/* Count the words of lowered text s into tab (which: 0 → ca, 1 → cb). */
static int count_words(word **tab, const char *s, int which, size_t *budget)
{
    while (*s) {
        while (*s && !is_wordc((unsigned char)*s))
            s++;
        const char *w = s;
        while (*s && is_wordc((unsigned char)*s))
            s++;
        if (s == w)
            break;
        if (*budget == 0)
            return 0;
        (*budget)--;
        word *e;
        HASH_FIND(hh, *tab, w, (size_t)(s - w), e);
        if (!e) {
            if (!(e = calloc(1, sizeof *e)))
                return -1;
            e->p = w;
            e->n = (size_t)(s - w);
            sim_oom = 0;
            HASH_ADD_KEYPTR(hh, *tab, e->p, e->n, e);
            if (sim_oom) {
                free(e);
                return -1;
            }
        }
        if (which)
            e->cb += 1;
        else
            e->ca += 1;
    }
    return 0;
}

static char *lowered(const char *s)
{
    char *d = llf_strdup(s ? s : "");
    for (char *p = d; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

double llf_similarity(const char *a, const char *b)
{
    char *la = lowered(a), *lb = lowered(b);
    word *tab = NULL, *e, *tmp;
    /* (each text its own half: two long answers alike are cut alike) */
    size_t budget_a = MAX_WORDS / 2, budget_b = MAX_WORDS / 2;
    double sim = -1;
    if (la && lb && count_words(&tab, la, 0, &budget_a) == 0 && count_words(&tab, lb, 1, &budget_b) == 0) {
        double dot = 0, na = 0, nb = 0;
        HASH_ITER(hh, tab, e, tmp) {
            dot += e->ca * e->cb;
            na += e->ca * e->ca;
            nb += e->cb * e->cb;
        }
        sim = na == 0 && nb == 0 ? 1.0 : na == 0 || nb == 0 ? 0.0 : dot / (sqrt(na) * sqrt(nb));
        if (sim > 1)
            sim = 1;   /* rounding */
    }
    HASH_ITER(hh, tab, e, tmp) {
        HASH_DEL(tab, e);
        free(e);
    }
    free(la);
    free(lb);
    return sim;
}

static int by_key(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* The members of every object in j sorted by key: JSON as compared, the
 * order its writer chose aside. 0, or -1 on no memory. (Depth: cJSON's
 * parser stops at CJSON_NESTING_LIMIT.) */
static int sort_keys(cJSON *j)
{
    size_t n = 0;
    for (cJSON *c = j->child; c; c = c->next, n++)
        if ((c->type & (cJSON_Object | cJSON_Array)) && sort_keys(c))
            return -1;
    if (!(j->type & cJSON_Object) || n < 2)
        return 0;
    cJSON **v = malloc(n * sizeof *v);
    if (!v)
        return -1;
    n = 0;
    for (cJSON *c = j->child; c; c = c->next)
        v[n++] = c;
    qsort(v, n, sizeof *v, by_key);
    for (size_t i = 0; i < n; i++) {
        v[i]->prev = v[i ? i - 1 : n - 1];   /* (the first's prev: the last, as cJSON keeps it) */
        v[i]->next = i + 1 < n ? v[i + 1] : NULL;
    }
    j->child = v[0];
    free(v);
    return 0;
}

/* A hub answer's tool calls as compared: "name(arguments)" a line each,
 * the arguments parsed and printed again with their keys sorted (so that
 * spacing, escapes, number forms and key order do not count; as they came
 * when they are no JSON). Not the call's id, which each provider makes up
 * afresh for every answer (call_…, toolu_…), nor its type. NULL on no
 * memory. */
static char *calls_text(const cJSON *calls)
{
    llf_buf b = {0};
    int bad = 0;
    for (const cJSON *c = calls->child; c && !bad; c = c->next) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(c, "function");
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "name"));
        const char *args = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "arguments"));
        cJSON *j = args ? llf_json_parse_exact(args, strlen(args)) : NULL;
        char *canon = j && sort_keys(j) == 0 ? cJSON_PrintUnformatted(j) : NULL;
        bad = (j && !canon) ||
              llf_buf_cats(&b, name ? name : "", "(", canon ? canon : args ? args : "", ")\n", (char *)NULL);
        free(canon);
        cJSON_Delete(j);
    }
    if (bad) {
        llf_buf_free(&b);
        return NULL;
    }
    return llf_buf_steal(&b);
}

int llf_answer_facts(llf_dialect d, const char *body, size_t n, char **text, long *tokens_in,
                     long *tokens_out)
{
    *text = NULL;
    *tokens_in = *tokens_out = -1;
    const llf_dialect_ops *ops = llf_dialect_ops_of(d);
    cJSON *j = llf_json_parse_mended(cJSON_ParseWithLength, body ? body : "", n);
    cJSON *hub = NULL;
    llf_terr e;
    int rc = -1;
    if (j && ops->resp_to_hub && ops->resp_to_hub(j, &hub, &e) == LLF_TR_OK) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(hub, "choices"), 0), "message");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
        const cJSON *calls = cJSON_GetObjectItemCaseSensitive(msg, "tool_calls");
        if (cJSON_IsString(content))
            *text = llf_strdup(content->valuestring);
        else if (cJSON_IsArray(calls))
            *text = calls_text(calls);
        else
            *text = llf_strdup("");
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(hub, "usage");
        const cJSON *pi = cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens");
        const cJSON *po = cJSON_GetObjectItemCaseSensitive(u, "completion_tokens");
        if (cJSON_IsNumber(pi) && pi->valuedouble >= 0)
            *tokens_in = llf_num_long(pi->valuedouble);
        if (cJSON_IsNumber(po) && po->valuedouble >= 0)
            *tokens_out = llf_num_long(po->valuedouble);
        rc = *text ? 0 : -1;
    }
    cJSON_Delete(j);
    cJSON_Delete(hub);
    return rc;
}

int llf_shadow_pick(double *acc, double sample)
{
    *acc += sample;
    if (*acc >= 1.0 - 1e-9) {
        *acc -= 1.0;
        return 1;
    }
    return 0;
}

/* ---- the worker -------------------------------------------------------------- */

typedef struct job {
    struct job   *next;
    llf_req       orig;        /* the program's request and the primary's */
    llf_buf       prim_head;   /* answer as it came, copied on its thread, */
    llf_buf       prim_raw;
    char         *url_model, *query;   /* and what its URL said */
    llf_origin    o;           /* the request, parsed on the worker */
    size_t        bytes;       /* what they hold, counted while queued */
    llf_req       req;         /* the candidate's (made on the worker) */
    const char   *path;
    unsigned long call;
    char         *prim_model;
    const char   *prim_provider;
    double        prim_ms;
    llf_dialect   prim_dialect;
    llf_buf       prim_body;
    /* while it runs: kept here, not on the worker's stack, so that in a
     * child forked meanwhile (which has no worker) it is still reachable */
    llf_resp      resp;
    struct curl_slist *hl;
} job;

#define MAX_QUEUE 64
#define MAX_QUEUE_BYTES ((size_t)64 << 20)   /* (one copy alone may hold more) */
#define MAX_SHADOW_BODY (16u << 20)

static const llf_config *cfg;
static const llf_shim_services *svc;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static job *head, *tail;
static int queued;
static size_t queued_bytes;
static int worker_pid;   /* the process whose worker runs, 0 none */
static double acc = -1;  /* sampling accumulator; < 0 until seeded */
static int acc_pid;      /* the process it was seeded in */
static pthread_once_t once = PTHREAD_ONCE_INIT;
/* The copy being sent (NULL when the worker is idle) and the worker's
 * libcurl and handle. After fork() the child keeps
 * both as they were: the transfer belongs to the parent (cleaning the handle
 * up could close the parent's TLS session), so they are left alone, reachable. */
static job *current;
static const llf_curl_api *worker_api;
static CURL *worker_curl;
static int closing;   /* the process is exiting: no new copies */
static int stopped;   /* and the wait for those out is over: none taken up,
                       * the one in flight aborted (libcurl must not run on
                       * while the process's exit handlers clean TLS up) */
static void *orphans[32];   /* the parents' current copies and handles, per fork */
static unsigned norphans;

/* The worker's descriptors. A program that closes every descriptor (a
 * daemon's start) frees the numbers of the worker's sockets and reuses them
 * for its own: libcurl, finding its kept-alive connection still open, would
 * write the next copy, the candidate's key with it, to the program's socket,
 * or close it. So the worker's sockets are opened through open_sock, which
 * remembers what each one is, and closed through close_sock, which closes
 * only what is still ours; and a handle any of whose descriptors is no
 * longer ours is abandoned before the next copy, never cleaned up, and a new
 * one made (fresh_handle). The canary, made with the handle, stands for the
 * descriptors libcurl opens without the callback (its multi's wake-up
 * pair). Touched by the worker's thread, but for start_worker and the fork
 * child, when there is none. */
#define NSOCK 8
static llf_ownfd socks[NSOCK] = {[0 ... NSOCK - 1] = LLF_NO_FD};
static llf_ownfd canary = LLF_NO_FD;
static int has_canary;

static curl_socket_t open_sock(void *p, curlsocktype purpose, struct curl_sockaddr *a)
{
    curl_socket_t fd = llf_curl_socket(p, purpose, a);   /* (close-on-exec) */
    if (fd == CURL_SOCKET_BAD)
        return CURL_SOCKET_BAD;
    /* (what it was as it was made: it may be the program's by now) */
    for (int i = 0; i < NSOCK; i++)
        if (socks[i].fd < 0)
            return llf_curl_own(fd, &socks[i]) ? (llf_curl_close(p, fd), CURL_SOCKET_BAD) : fd;
    llf_curl_close(p, fd);   /* (more than a handle to one candidate ever holds) */
    return CURL_SOCKET_BAD;
}

static int close_sock(void *p, curl_socket_t fd)
{
    for (int i = 0; i < NSOCK; i++)
        if (socks[i].fd == fd)
            socks[i].fd = -1;
    return llf_curl_close(p, fd);   /* (only while still ours) */
}

/* (a socket: each has an inode of its own, where every eventfd, epoll and
 * timerfd shares one, and one of the program's could pass for ours) */
static void make_canary(void)
{
    llf_fd_hold();   /* (made and owned in one step: see guest.h) */
    has_canary = llf_fd_own(&canary, socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == 0;
    llf_fd_release();
}

static void forget_sockets(void)
{
    for (int i = 0; i < NSOCK; i++)
        socks[i].fd = -1;
}

static void job_free(job *j)
{
    if (!j)
        return;
    cJSON_Delete((cJSON *)j->o.body);
    cJSON_Delete(j->o.hub);
    free(j->url_model);
    free(j->query);
    llf_req_free(&j->orig);
    llf_buf_free(&j->prim_head);
    llf_buf_free(&j->prim_raw);
    llf_req_free(&j->req);
    llf_buf_free(&j->prim_body);
    llf_resp_free(&j->resp);
    free(j->prim_model);
    free(j);
}

/* The parent's jobs in a child, freed once every fork handler has run. */
static job *child_jobs;

static void after_fork_free(void)
{
    for (job *j = child_jobs, *n; j; j = n) {
        n = j->next;
        job_free(j);
    }
    child_jobs = NULL;
}

/* In the child of fork(): no worker, nothing queued (the parent sends its own). */
static void after_fork_child(void)
{
    if (worker_pid && norphans + 2 <= sizeof orphans / sizeof orphans[0]) {
        orphans[norphans++] = current;
        orphans[norphans++] = worker_curl;
    }
    current = NULL;
    worker_curl = NULL;
    /* (the parent's connections: closed here, where nothing uses them, so
     * that a long-lived child does not keep one open past the parent's
     * close, the candidate's server never told) */
    for (int i = 0; i < NSOCK; i++)
        if (llf_fd_ours(&socks[i]))
            close(socks[i].fd);
    forget_sockets();
    if (llf_fd_ours(&canary))
        close(canary.fd);
    canary.fd = -1;
    has_canary = 0;
    pthread_mutex_init(&lock, NULL);
    pthread_cond_init(&changed, NULL);
    child_jobs = head;   /* (freed by after_fork_free: see forklock.h) */
    head = tail = NULL;
    queued = 0;
    queued_bytes = 0;
    worker_pid = 0;
    closing = 0;
    stopped = 0;
    acc = -1;
}

void llf_shadow_init(const llf_config *c, const llf_shim_services *s)
{
    cfg = c;
    svc = s;
    /* A copy exists for its log line: without a log it would be paid for
     * and never seen. (A log file is opened at its first line: one that
     * cannot be is known only then, see log_ready.) */
    if (c && c->mode == LLF_MODE_SHADOW && !llf_log_enabled()) {
        llf_warn("mode shadow has no log to write to (set \"log\" or LLMFALLBACK_LOG); no copy is sent");
        cfg = NULL;
    }
    /* (now, in the load: chained by the first worker's start, under lock, a
     * fork already under way would not run it in its child) */
    if (cfg && cfg->mode == LLF_MODE_SHADOW)
        llf_fork_chain(NULL, NULL, after_fork_child, after_fork_free);
}

/* Whether a copy may be sent: its line has somewhere to go. A log named
 * but not to be opened (its directory not there) is no log either, said
 * once. */
static int log_ready(void)
{
    static int said;
    if (llf_log_ready())
        return 1;
    if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
        llf_warn("mode shadow: the log cannot be opened; no copy is sent");
    return 0;
}

static void log_copy(const job *j, long status, const char *outcome, const char *reason, double ms,
                     long tin, long tout, long pin, long pout, double sim)
{
    const llf_chain_entry *cand = &cfg->candidate;
    llf_shadow_rec r = {j->path, j->call, cfg->providers[cand->provider].name, cand->model,
                        status, outcome, reason, ms, tin, tout, j->prim_provider,
                        j->prim_model, j->prim_ms, pin, pout, sim};
    llf_log_shadow(&r);
}

static size_t on_data(char *p, size_t s, size_t n, void *ud)
{
    llf_buf *b = ud;
    size_t len = s * n;
    if (b->n + len > MAX_SHADOW_BODY || llf_buf_add(b, p, len))
        return 0;
    return len;
}

/* The copy in flight stops when the exit's wait for it is over. */
static int on_progress(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)p, (void)dt, (void)dn, (void)ut, (void)un;
    return __atomic_load_n(&stopped, __ATOMIC_ACQUIRE);
}

static void run_copy(const llf_curl_api *c, CURL *h, job *j)
{
    const llf_chain_entry *cand = &cfg->candidate;
    llf_dialect cd = cfg->providers[cand->provider].dialect;
    llf_resp *rp = &j->resp;
    struct curl_slist *hl = NULL;
    for (size_t i = 0; i < j->req.headers.n; i++)
        if (!llf_header_hop(j->req.headers.v[i]))
            j->hl = hl = c->slist_append(hl, j->req.headers.v[i]);
    j->hl = hl = c->slist_append(hl, "Expect:");
    c->easy_reset(h);
    c->easy_setopt(h, CURLOPT_URL, j->req.url);
    c->easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    c->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->req.body.n);
    c->easy_setopt(h, CURLOPT_POSTFIELDS, j->req.body.p ? j->req.body.p : "");
    c->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_data);
    c->easy_setopt(h, CURLOPT_HEADERDATA, &rp->head);
    c->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    c->easy_setopt(h, CURLOPT_WRITEDATA, &rp->body);
    c->easy_setopt(h, CURLOPT_ERRORBUFFER, rp->errmsg);
    c->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    c->easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_sock);
    c->easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, close_sock);
    c->easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    c->easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    c->easy_setopt(h, CURLOPT_TIMEOUT_MS, cfg->shadow_timeout_ms);
    c->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_ms);
    const char *ca = llf_ca_bundle(cfg);
    if (ca)
        c->easy_setopt(h, CURLOPT_CAINFO, ca);
    double t0 = llf_mono_ms();
    rp->curlcode = c->easy_perform(h);
    rp->ms = llf_mono_ms() - t0;
    c->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rp->status);
    c->easy_getinfo(h, CURLINFO_HTTP_VERSION, &rp->http_version);
    c->easy_setopt(h, CURLOPT_HTTPHEADER, (void *)NULL);
    c->slist_free_all(hl);
    j->hl = NULL;
    /* (asked for no coding, as a member is: one that used one all the same
     * is read as the engine reads a member's) */
    llf_decode_answer(&rp->head, &rp->body);

    llf_verdict v = llf_judge(cd, cand->model, 0, rp, time(NULL));
    long tin = -1, tout = -1, pin = -1, pout = -1;
    double sim = -1;
    char *ct = NULL, *pt = NULL;
    if (v.outcome == LLF_OK) {
        int got = llf_answer_facts(cd, rp->body.p, rp->body.n, &ct, &tin, &tout) == 0;
        if (llf_answer_facts(j->prim_dialect, j->prim_body.p, j->prim_body.n, &pt, &pin, &pout) == 0 &&
            got)
            sim = llf_similarity(ct, pt);
    }
    log_copy(j, rp->status, llf_outcome_name(v.outcome), v.reason, rp->ms, tin, tout, pin, pout, sim);
    free(ct);
    free(pt);
}

/* With lock held: the worker's handle, or a new one when a descriptor of
 * the old one is no longer ours (see open_sock); NULL when none can be
 * made. The old one stays reachable, unused. */
static CURL *fresh_handle(const llf_curl_api *c)
{
    int stale = has_canary && !llf_fd_ours(&canary);
    for (int i = 0; i < NSOCK && !stale; i++)
        stale = socks[i].fd >= 0 && !llf_fd_ours(&socks[i]);
    if (!stale && worker_curl)
        return worker_curl;
    if (worker_curl && norphans < sizeof orphans / sizeof orphans[0])
        orphans[norphans++] = worker_curl;
    forget_sockets();
    if (has_canary && !llf_fd_ours(&canary))
        make_canary();   /* (the old number may be the program's: forgotten, not closed) */
    return worker_curl = c->easy_init();
}

static int plain_json(const llf_buf *b)
{
    cJSON *j = cJSON_ParseWithLength(b->p ? b->p : "", b->n);
    cJSON_Delete(j);
    return j != NULL;
}

/* On the worker: the candidate's request, and the primary's answer as
 * text. NULL, or why the copy is not sent. */
static const char *prepare(job *j)
{
    const llf_chain_entry *cand = &cfg->candidate;
    llf_terr te = {{0}};
    j->o.req = &j->orig;
    if (!(j->o.body = llf_engine_parse_body(j->orig.body.p, j->orig.body.n)))
        return "rewrite";   /* (it parsed on the program's thread: no memory) */
    int tr = llf_rewrite(cfg, &j->o, cand->provider, cand->model, &j->req, &te);
    if (tr != LLF_TR_OK)
        return tr == LLF_TR_INCOMPATIBLE ? "incompatible" : "rewrite";
    /* The primary's answer as text: decoded when the program asked for it
     * compressed (the candidate is asked for none, rewrite.c). (A head
     * naming gzip over text that reads: libcurl decoded it, for a program
     * that asked it to, curl --compressed.) */
    int dec = llf_decode_body(&j->prim_head, j->prim_raw.p, j->prim_raw.n, LLF_DECODE_MAX, &j->prim_body);
    if (dec == LLF_DEC_BROKEN && plain_json(&j->prim_raw))
        dec = LLF_DEC_NONE;
    if (dec == LLF_DEC_BROKEN || dec == LLF_DEC_OPAQUE)
        return "encoding";
    if (dec == LLF_DEC_NONE) {   /* (the text as it came: taken over, not copied) */
        llf_buf_free(&j->prim_body);
        j->prim_body = j->prim_raw;
        j->prim_raw = (llf_buf){0};
    }
    return NULL;
}

static void *worker(void *arg)
{
    (void)arg;
    svc->enter();   /* this thread's transfers bypass the hooks */
    pthread_mutex_lock(&lock);
    const llf_curl_api *c = worker_api;
    for (;;) {
        while (!head || stopped) {
            /* (idle: a look a second whether the program has a thread
             * left, see guest.h; without the lock, which exit's drain
             * takes) */
            struct timespec tick;
            clock_gettime(CLOCK_REALTIME, &tick);
            tick.tv_sec++;
            if (pthread_cond_timedwait(&changed, &lock, &tick) == ETIMEDOUT) {
                pthread_mutex_unlock(&lock);
                llf_threads_last();
                pthread_mutex_lock(&lock);
            }
        }
        job *j = current = head;
        head = j->next;
        if (!head)
            tail = NULL;
        queued--;
        queued_bytes -= j->bytes;
        CURL *h = fresh_handle(c);
        pthread_mutex_unlock(&lock);
        const char *skip = NULL;
        if (!log_ready())
            ;   /* (the log failed since it was queued: not sent, nor logged) */
        else if ((skip = prepare(j)))
            log_copy(j, 0, "skipped", skip, 0, -1, -1, -1, -1, -1);
        else if (h)
            run_copy(c, h, j);
        else
            log_copy(j, 0, "skipped", "no_handle", 0, -1, -1, -1, -1, -1);
        pthread_mutex_lock(&lock);
        current = NULL;
        job_free(j);
        pthread_cond_broadcast(&changed);
    }
    return NULL;
}

/* The wait at exit comes after the program's output is written: atexit
 * handlers run before stdio's own flush, and a program's answer still in
 * stdout's buffer (printf, libcurl's default writer, to a pipe) waited with
 * the copy. Tried, not waited for: a thread of the program's stuck holding
 * stdout's lock must not hold up the exit, which glibc's own flush does
 * not lock for either. */
static void drain_at_exit(void)
{
    if (!cfg)
        return;
    if (__atomic_load_n(&worker_pid, __ATOMIC_RELAXED) == (int)getpid() && ftrylockfile(stdout) == 0) {
        fflush_unlocked(stdout);
        funlockfile(stdout);
    }
    llf_shadow_drain(cfg->shadow_timeout_ms);
}

static void register_handlers(void)
{
    atexit(drain_at_exit);
}

/* With lock held, on the program's (or a relay) thread. The handle is made
 * here, not on the worker: making it may initialise libcurl and OpenSSL, and
 * the exit handler registered after it then runs before OpenSSL's own
 * (atexit order is last in, first out), so copies still running at exit
 * finish while TLS is intact. A worker starting its first transfer after
 * OpenSSL's exit cleanup would crash the host. The worker gets every signal
 * blocked: they are the program's. */
static int start_worker(void)
{
    int me = (int)getpid();
    if (worker_pid == me)
        return 0;
    if (!(worker_api = svc->curl_for_transfers()) || !(worker_curl = worker_api->easy_init()))
        return -1;
    make_canary();
    pthread_once(&once, register_handlers);
    if (llf_spawn(worker, NULL)) {
        /* (made again at the next copy's try: these are not left behind) */
        worker_api->easy_cleanup(worker_curl);
        worker_curl = NULL;
        if (has_canary && llf_fd_ours(&canary))
            close(canary.fd);
        canary.fd = -1;
        has_canary = 0;
        return -1;
    }
    worker_pid = me;
    return 0;
}

/* With lock held: would a copy of this many bytes pass the queue's bound?
 * (one alone may wait, however large) */
static int over_bytes(size_t bytes)
{
    return queued && queued_bytes + bytes > MAX_QUEUE_BYTES;
}

void llf_shadow_offer(struct llf_call *c, const char *path, int provider, const char *model,
                      const llf_resp *resp)
{
    if (!cfg || cfg->mode != LLF_MODE_SHADOW || cfg->candidate.provider < 0 || !svc)
        return;
    const llf_chain_entry *cand = &cfg->candidate;
    if (cand->provider == provider && strcmp(cand->model, model) == 0)
        return;   /* the candidate answered: nothing to compare with */
    pthread_mutex_lock(&lock);
    /* A phase of the process's own, spread by its pid (Knuth's
     * multiplicative hash), so that one-call processes are sampled at the
     * same rate; drawn again in a forked child, whose fork handler may not
     * be in yet (it is made with the first copy). */
    int me = (int)llf_self_pid();
    if (acc < 0 || acc_pid != me) {
        acc = (double)((unsigned)me * 2654435761u % 1000u) / 1000.0;
        acc_pid = me;
    }
    int pick = llf_shadow_pick(&acc, cfg->shadow_sample);
    /* (a copy not to be queued is not made: decided again when queued) */
    size_t bytes = c->o.req->body.n + resp->head.n + resp->body.n;
    int full = over_bytes(bytes);
    pthread_mutex_unlock(&lock);
    if (!pick || !log_ready())
        return;
    job *j = calloc(1, sizeof *j);
    if (!j)
        return;
    j->path = path;
    j->call = c->id;
    j->prim_provider = cfg->providers[provider].name;
    j->prim_model = llf_strdup(model);
    j->prim_ms = resp->ms;
    j->prim_dialect = c->m.dialect;
    if (c->stream || resp->delivered) {
        log_copy(j, 0, "skipped", "stream", 0, -1, -1, -1, -1, -1);
        job_free(j);
        return;
    }
    /* Copied here, no more: the rewrite and the decoding, whose time grows
     * with the request's size, are the worker's. */
    j->bytes = bytes;
    const char *why = NULL;
    if (full)
        why = "queue_full";
    else if (!j->prim_model || llf_req_copy(&j->orig, c->o.req) ||
             llf_buf_add(&j->prim_head, resp->head.p, resp->head.n) ||
             llf_buf_add(&j->prim_raw, resp->body.p, resp->body.n) ||
             (c->o.url_model && !(j->url_model = llf_strdup(c->o.url_model))) ||
             (c->o.query && !(j->query = llf_strdup(c->o.query))))
        why = "rewrite";   /* (no memory) */
    /* (the config's server, as the config, lives as long as the process) */
    j->o = (llf_origin){NULL, NULL, c->o.provider, c->o.dialect, j->url_model, j->query, c->o.stream, NULL,
                        c->o.server};
    pthread_mutex_lock(&lock);
    if (!why)
        why = closing ? "exiting"
            : queued >= MAX_QUEUE || over_bytes(j->bytes) ? "queue_full"
            : start_worker() ? "no_thread" : NULL;
    if (!why) {
        if (tail)
            tail->next = j;
        else
            head = j;
        tail = j;
        queued++;
        queued_bytes += j->bytes;
        pthread_cond_broadcast(&changed);
    }
    pthread_mutex_unlock(&lock);
    if (why) {
        log_copy(j, 0, "skipped", why, 0, -1, -1, -1, -1, -1);
        job_free(j);
    }
}

void llf_shadow_drain(long timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    /* (waited for no longer than the copies are: an exit() from a signal
     * handler that interrupted this thread inside the lock must not hang) */
    if (pthread_mutex_timedlock(&lock, &until))
        return;
    closing = 1;
    if (worker_pid == (int)getpid()) {
        while ((head || current) && pthread_cond_timedwait(&changed, &lock, &until) == 0)
            ;
        if (head || current) {
            /* Out of time: the copy in flight is aborted (libcurl looks at
             * least once a second), and waited for that long at most. */
            __atomic_store_n(&stopped, 1, __ATOMIC_RELEASE);
            until.tv_sec += 2;
            while (current && pthread_cond_timedwait(&changed, &lock, &until) == 0)
                ;
        }
    }
    pthread_mutex_unlock(&lock);
}
