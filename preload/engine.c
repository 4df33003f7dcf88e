/* engine.c — the attempt plan and loop (see engine.h).
 *
 * A call's first attempt is always the program's own request, untouched.
 * When it fails in a way another provider could fix, the chain members
 * follow in order, each with its own URL, model and key, within the
 * per-call cap and the per-process budget. A 429/503 that asks for a short
 * wait (Retry-After <= retry.max_wait_ms) is retried once on the same member
 * after that wait plus jitter. If nothing succeeds the program receives the
 * original failure exactly as it came. */
#include "engine.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "decode.h"
#include "forklock.h"
#include "health.h"
#include "hubutil.h"
#include "models.h"
#include "quality.h"
#include "rewrite.h"
#include "shadow.h"
#include "verdict.h"

/* The process's deprecation warnings so far (note_deprecation). */
static pthread_mutex_t dep_lock = LLF_FORKLOCK_INIT;
static pthread_once_t dep_once = PTHREAD_ONCE_INIT;
static void dep_atfork(void) { llf_forklock(&dep_lock); }

void llf_engine_init(llf_engine *e, const llf_config *cfg)
{
    pthread_once(&dep_once, dep_atfork);
    memset(e, 0, sizeof *e);
    e->cfg = cfg;
    llf_budget_init(&e->budget, cfg->per_process);
    e->pid = llf_self_pid();
}

/* A member other than the original: skipped when it cannot serve the call. */
static llf_step member(const llf_config *cfg, const llf_chain_entry *c, int provider,
                       llf_dialect caller)
{
    const llf_provider *p = &cfg->providers[c->provider];
    const llf_dialect_ops *from = llf_dialect_ops_of(caller), *to = llf_dialect_ops_of(p->dialect);
    const char *skip = NULL;
    if (p->dialect != caller && !(from->req_to_hub && from->resp_from_hub &&
                                  to->req_from_hub && to->resp_to_hub))
        skip = "dialect";
    else if (p->needs_key && !p->key && c->provider != provider)
        skip = "no_key";
    return (llf_step){c->provider, c->model, 0, 0, skip,
                      c->context ? c->context : llf_model_context(c->model)};
}

static int same(const llf_chain_entry *c, int provider, const char *model)
{
    return c->provider == provider && model && strcmp(c->model, model) == 0;
}

size_t llf_plan(const llf_config *cfg, int provider, const char *model, llf_dialect caller,
                llf_step *steps, size_t max)
{
    size_t n = 0;
    if (max == 0)
        return 0;
    const llf_chain_entry *cand = max >= 2 && cfg->mode == LLF_MODE_OVERRIDE &&
                                          cfg->candidate.provider >= 0 &&
                                          !same(&cfg->candidate, provider, model)
                                      ? &cfg->candidate : NULL;
    if (cand) {
        steps[n] = member(cfg, cand, provider, caller);
        steps[n++].candidate = 1;
    }
    /* (the original's window: a chain entry naming its provider and model
     * may say it, as for a member; a wrong table figure skipped every
     * member no larger after the original's context failure) */
    long window = llf_model_context(model);
    for (size_t i = 0; i < cfg->nchain; i++)
        if (same(&cfg->chain[i], provider, model) && cfg->chain[i].context)
            window = cfg->chain[i].context;
    steps[n++] = (llf_step){provider, model, 1, 0, NULL, window};
    for (size_t i = 0; i < cfg->nchain && n < max; i++) {
        const llf_chain_entry *c = &cfg->chain[i];
        if (same(c, provider, model))
            continue;   /* never the same provider and model again */
        if (cand && same(c, cand->provider, cand->model))
            continue;   /* the candidate was tried first */
        int again = 0;
        for (size_t k = 0; k < n && !again; k++)
            again = steps[k].provider == c->provider && strcmp(steps[k].model, c->model) == 0;
        if (again)
            continue;   /* named twice in the chain: asked once */
        steps[n++] = member(cfg, c, provider, caller);
    }
    return n;
}

void llf_attempt_limits(const llf_config *cfg, long prog_connect_ms, long prog_total_ms,
                        llf_attempt *at)
{
#define MINPOS(a, b) ((a) <= 0 ? (b) : (b) <= 0 ? (a) : (a) < (b) ? (a) : (b))
    at->connect_ms = MINPOS(cfg->connect_ms, prog_connect_ms);
    at->total_ms = MINPOS(cfg->total_ms, prog_total_ms);
    at->first_byte_ms = MINPOS(cfg->first_byte_ms, at->total_ms);
    at->first_token_ms = MINPOS(cfg->first_token_ms < 0 ? cfg->first_byte_ms : cfg->first_token_ms, at->total_ms);
#undef MINPOS
    /* A limit no shorter than the whole attempt's is the whole attempt's:
     * when it ends the attempt, that is a "timeout" (it was logged as a
     * first-byte one, which the configuration never asked for). */
    if (at->total_ms > 0 && at->first_byte_ms >= at->total_ms)
        at->first_byte_ms = 0;
    if (at->total_ms > 0 && at->first_token_ms >= at->total_ms)
        at->first_token_ms = 0;
}

int llf_attempt_window(const llf_config *cfg, long prog_connect_ms, long prog_total_ms, double left_ms,
                       llf_attempt *at)
{
    if (prog_total_ms <= 0) {
        llf_attempt_limits(cfg, prog_connect_ms, 0, at);
        return 0;
    }
    if (left_ms < LLF_MIN_ATTEMPT_MS)
        return -1;
    /* (rounded up: the original, sent at once, keeps the program's own
     * value, and no option is set for it; never 0, which is no limit) */
    long left = (long)ceil(left_ms);
    llf_attempt_limits(cfg, prog_connect_ms, left < prog_total_ms ? left : prog_total_ms, at);
    return 0;
}

/* The header lines naming the member that answered. */
static int member_lines(llf_buf *out, const char *provider, const char *model, int attempts)
{
    char n[24];
    return llf_buf_cats(out, "x-llmfallback-provider: ", provider, "\r\nx-llmfallback-model: ", model,
                        "\r\nx-llmfallback-attempts: ", llf_utoa(n, (unsigned long)attempts), "\r\n",
                        (char *)NULL);
}

int llf_synth_head(llf_buf *out, long http_version, const char *content_type, size_t body_len,
                   const char *provider, const char *model, int attempts)
{
    const char *status = http_version >= CURL_HTTP_VERSION_3   ? "HTTP/3 200 \r\n"
                         : http_version >= CURL_HTTP_VERSION_2 ? "HTTP/2 200 \r\n"
                                                               : "HTTP/1.1 200 OK\r\n";
    char len[24];
    return llf_buf_cats(out, status, "content-type: ", content_type, "\r\ncontent-length: ",
                        llf_utoa(len, body_len), "\r\n", (char *)NULL) ||
           member_lines(out, provider, model, attempts) || llf_buf_add(out, "\r\n", 2);
}

cJSON *llf_engine_parse_body(const char *body, size_t len)
{
    if (!body || !len || memchr(body, '\0', len))
        return NULL;
    cJSON *j = llf_json_parse_exact(body, len);
    const char *dup;
    if (!cJSON_IsObject(j) || llf_json_dup_key(j, &dup)) {   /* (no memory: not held either) */
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

llf_call *llf_engine_recognise(llf_engine *e, const char *url, const char *method,
                               const char *body, size_t len)
{
    llf_match m;
    /* (methods are case-sensitive, RFC 9110 §9.1: a "post" is another
     * method, which a server may refuse, and goes on as the program sent it) */
    if (!method || strcmp(method, "POST") != 0 || !llf_endpoint_match(e->cfg, url, &m))
        return NULL;
    llf_call *c = llf_zalloc(sizeof *c);
    cJSON *j = llf_engine_parse_body(body, len);
    const llf_dialect_ops *ops = llf_dialect_ops_of(m.dialect);
    const cJSON *model = j ? cJSON_GetObjectItemCaseSensitive(j, "model") : NULL;
    const char *name = ops->model_in_body ? (cJSON_IsString(model) ? model->valuestring : NULL)
                                          : m.url_model;
    if (!c || !j || !name || !*name || !(c->model = llf_strdup(name))) {
        free(c);
        cJSON_Delete(j);
        llf_match_free(&m);
        return NULL;
    }
    c->cfg = e->cfg;
    c->m = m;
    c->body = j;
    c->stream = m.stream || ops->body_streams(j);
    c->o = (llf_origin){NULL, j, m.provider, m.dialect, c->m.url_model, c->m.query, c->stream, NULL, m.server};
    c->id = __atomic_add_fetch(&e->next_call, 1, __ATOMIC_SEQ_CST);
    return c;
}

void llf_resp_free(llf_resp *r)
{
    llf_buf_free(&r->head);
    llf_buf_free(&r->body);
    llf_buf_free(&r->trailers);
}

void llf_call_free(llf_call *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nresps; i++) {
        llf_resp_free(c->resps[i]);
        free(c->resps[i]);
    }
    free(c->resps);
    llf_buf_free(&c->fin.head);
    llf_match_free(&c->m);
    cJSON_Delete(c->o.hub);
    cJSON_Delete(c->body);
    free(c->model);
    free(c);
}

static void log_step(const llf_run_args *a, const llf_call *c, const llf_step *s, int attempt,
                     long status, const char *outcome, const char *reason, double ms)
{
    llf_log_rec r = {a->path, c->id, attempt, c->cfg->providers[s->provider].name, s->model,
                     status, outcome, reason, ms, NULL, s->candidate ? "override" : NULL};
    llf_log_attempt(&r);
}

static void log_skip(const llf_run_args *a, const llf_call *c, const llf_step *s,
                     const char *reason, const char *detail)
{
    llf_log_rec r = {a->path, c->id, 0, c->cfg->providers[s->provider].name, s->model, 0,
                     "skipped", reason, 0, detail, s->candidate ? "override" : NULL};
    llf_log_attempt(&r);
}

/* The program's request in hub form (the body itself for the hub dialect). */
static const cJSON *hub_request(llf_call *c)
{
    if (c->o.dialect == LLF_OPENAI)
        return c->body;
    llf_terr e;
    llf_origin_hub(&c->o, &e);
    return c->o.hub;
}

/* The function names a translated request changed, and the program's
 * (LLF_HUB_NAMES), or NULL: from the hub the translators made, never an
 * OpenAI program's own body, which may name anything. */
static const cJSON *hub_names(llf_call *c)
{
    return c->o.dialect == LLF_OPENAI ? NULL : cJSON_GetObjectItemCaseSensitive(hub_request(c), LLF_HUB_NAMES);
}

/* Would the request fit this member's window (to: its dialect)? Its input
 * estimated once per call, on the hub form (for the hub dialect the body
 * itself, not a converted copy); its output as the member is asked it, at
 * most the member's model's own most, or, when the program set none, what
 * a dialect that needs one sends (Anthropic's default). */
static int fits(llf_call *c, const llf_step *s, llf_dialect to, long *input)
{
    long window = s->context;
    if (window <= 0)
        return 1;
    const llf_dialect_ops *ops = llf_dialect_ops_of(to);
    const cJSON *hub = ops->default_output && to != c->o.dialect ? hub_request(c) : NULL;
    long unasked = hub && llf_estimate_output(hub, 0) == 0 ? ops->default_output(s->model) : 0;
    /* The hub dialect's body is the program's text: most requests are far
     * below any window, which the bound shows without printing them (the
     * output uncapped: what fits so fits capped, and the model's most is
     * looked up only when it must be). */
    if (*input < 0 && c->o.dialect == LLF_OPENAI && c->o.req &&
        llf_estimate_within(c->body, c->o.req->body.p, c->o.req->body.n, window - unasked, 0))
        return 1;
    long max_out = llf_model_max_output(s->model);
    if (!hub)
        hub = hub_request(c);
    if (*input < 0)
        *input = hub ? llf_estimate_input(hub) : 0;
    return *input + (hub ? llf_estimate_output(hub, max_out) : 0) + unasked <= window;
}

/* The text of a 2xx answer of dialect d (malloc'ed; "" when it has none),
 * for the quality gate. */
static char *answer_text(llf_dialect d, const llf_resp *r)
{
    cJSON *j = llf_json_parse_mended(cJSON_ParseWithLength, r->body.p ? r->body.p : "", r->body.n);
    cJSON *hub = NULL;
    llf_terr e;
    char *text = NULL;
    const llf_dialect_ops *ops = llf_dialect_ops_of(d);
    if (j && ops->resp_to_hub && ops->resp_to_hub(j, &hub, &e) == LLF_TR_OK) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(hub, "choices"), 0), "message");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        text = llf_strdup(cJSON_IsString(content) ? content->valuestring : "");
    }
    cJSON_Delete(j);
    cJSON_Delete(hub);
    return text;
}

/* Is member s skipped for its window: one no larger than a window that
 * was already exceeded (too_small), or one the request does not fit? */
static int window_skips(llf_call *c, const llf_step *s, llf_dialect to, long too_small, long *estimate)
{
    return (too_small && s->context && s->context <= too_small) || !fits(c, s, to, estimate);
}

/* 1 when a member is left in the plan after step i (one not skipped
 * already; the original tried last is not one). */
static int member_after(const llf_config *cfg, llf_call *c, const llf_step *steps, size_t i, size_t nsteps,
                        long too_small, long *estimate)
{
    for (size_t k = i + 1; k < nsteps; k++) {
        const llf_step *s = &steps[k];
        const llf_provider *p = &cfg->providers[s->provider];
        /* (one the loop will skip, by its breaker or its window, is none) */
        if (s->skip || s->original || llf_health_skips(p->breaker_id, s->model, (long long)llf_mono_ms()) ||
            window_skips(c, s, p->dialect, too_small, estimate))
            continue;
        return 1;
    }
    return 0;
}

/* The verdict on r. A body that says it is compressed (a program that asks
 * for gzip itself, and decodes it itself, gets the bytes as they came from
 * libcurl, and so do we) is judged again on a decoded copy in *plain, *jr
 * pointing at a view of r with it: an answer that does not read as JSON, and
 * an error status, whose reason may be in its body (a retired model, an
 * exceeded context, an empty account). A 2xx in an encoding we cannot read
 * is not judged: it is the program's to read, but a member's (asked for
 * none, rewrite.c) is no answer: its bytes would go out under a head of
 * ours that names no coding. An answer that reads pays nothing for this. */
static llf_verdict judge_coded(const llf_judge_in *in, const llf_resp *r, int member, llf_resp *view,
                               llf_buf *plain, const llf_resp **jr)
{
    *jr = r;
    llf_verdict v = llf_judge_ex(in, r, time(NULL));
    /* (an error body is decoded when its head names a coding: not by its
     * first byte, since raw deflate, which some servers send as "deflate",
     * may start with any) */
    size_t len;
    int error = r->status >= 400 && v.outcome != LLF_OK && llf_head_get(&r->head, "content-encoding", &len);
    if ((v.outcome != LLF_INVALID_BODY && !error) || r->delivered || r->stream_problem)
        return v;
    switch (llf_decode_body(&r->head, r->body.p, r->body.n, LLF_DECODE_MAX, plain)) {
    case LLF_DEC_OK:
        *view = *r;
        view->body = *plain;
        *jr = view;
        return llf_judge_ex(in, view, time(NULL));
    case LLF_DEC_OPAQUE: return error || member ? v : (llf_verdict){LLF_OK, "ok", 0, -1};
    default: return v;   /* (not compressed, or not decodable: as it was judged) */
    }
}


/* Deprecation/Sunset on a success: one warning per provider/model and
 * process (for at most DEP_MODELS of them: past that, none more, where
 * each success of another logged its line again). */
#define DEP_MODELS 128
static void note_deprecation(const llf_provider *p, const char *model, const llf_resp *r)
{
    static char seen[DEP_MODELS][160];
    static int nseen;
    char date[96], key[160];
    if (!llf_deprecation(&r->head, date, sizeof date))
        return;
    snprintf(key, sizeof key, "%s/%s", p->name, model);
    pthread_mutex_lock(&dep_lock);
    int known = nseen == DEP_MODELS;
    for (int i = 0; i < nseen && !known; i++)
        known = strcmp(seen[i], key) == 0;
    if (!known)
        snprintf(seen[nseen++], sizeof seen[0], "%s", key);
    pthread_mutex_unlock(&dep_lock);
    if (!known)
        llf_log_deprecation(p->name, model, date);
}

/* A member's answer in the program's dialect: through the hub, its calls
 * given the program's function names (names: LLF_HUB_NAMES, or NULL).
 * Returns 0, or -1 when the answer cannot be translated (it then counts as
 * invalid). */
static int translate_answer(llf_dialect from, llf_dialect to, const char *model, const cJSON *names, llf_resp *r)
{
    if (from == to)
        return 0;
    llf_terr e;
    cJSON *in = llf_json_parse_mended(cJSON_ParseWithLength, r->body.p ? r->body.p : "", r->body.n);
    cJSON *hub = NULL, *out = NULL;
    int rc = in && llf_dialect_ops_of(from)->resp_to_hub(in, &hub, &e) == LLF_TR_OK &&
                     llf_hub_names_back(hub, names) == 0 &&
                     llf_dialect_ops_of(to)->resp_from_hub(hub, model, &out, &e) == LLF_TR_OK
                 ? 0 : -1;
    char *s = rc == 0 ? cJSON_PrintUnformatted(out) : NULL;
    cJSON_Delete(in);
    cJSON_Delete(hub);
    cJSON_Delete(out);
    if (!s)
        return -1;
    llf_buf_adopt(&r->body, s);
    return 0;
}

/* Has the program left (the relay: nobody to answer)? */
static int program_left(const llf_run_args *a)
{
    return a->gone && a->gone(a->ctx);
}

long llf_retry_jitter(long ms)
{
    /* (seeded again in a forked child: the children of one parent told the
     * same wait all waited exactly as long) */
    static __thread unsigned seed;
    static __thread int seeded_in;
    int pid = llf_self_pid();
    if (!seed || seeded_in != pid) {
        seed = (unsigned)pid ^ (unsigned)(unsigned long long)(llf_mono_ms() * 1000.0);
        seeded_in = pid;
    }
    return ms > 0 ? (long)(rand_r(&seed) % (unsigned)(ms / 4 + 1)) : rand_r(&seed) % 100;
}

/* Sleep for a Retry-After plus its jitter, so that many clients told the
 * same wait do not return at the same instant; in slices of 100 ms at
 * most, ending early when the program has left (the relay: nobody to wait
 * for), and never past deadline (0: none), where the program's own limit
 * on the whole call would have ended it. */
static void wait_retry_after(long ms, const llf_run_args *a, double deadline)
{
    double until = llf_mono_ms() + (double)(ms + llf_retry_jitter(ms));
    if (deadline > 0 && until > deadline)
        until = deadline;
    for (double left; (left = until - llf_mono_ms()) > 0;) {
        long slice = left > 100 ? 100 : (long)left + 1;
        struct timespec ts = {0, slice * 1000000L};
        nanosleep(&ts, NULL);
        if (program_left(a))
            return;
    }
}

/* Did the program's own limit on the whole call (its CURLOPT_TIMEOUT) end
 * this attempt, rather than one of ours? Then it is the program's
 * impatience: nothing about the provider's health, and no fallback can
 * start. Our first-byte and first-token limits are cut to what is left of
 * the program's, so either may be what fired at its end; one set shorter
 * than that is ours, even when its look (about once a second) came late. */
static int program_timed_out(const llf_verdict *v, const llf_attempt *at, double deadline)
{
    if (deadline <= 0 || v->outcome != LLF_TRANSPORT_ERROR || llf_mono_ms() < deadline - LLF_MIN_ATTEMPT_MS)
        return 0;
    if (strcmp(v->reason, "first_byte_timeout") == 0)
        return at->first_byte_ms <= 0 || at->first_byte_ms >= at->total_ms;
    if (strcmp(v->reason, "first_token_timeout") == 0)
        return at->first_token_ms <= 0 || at->first_token_ms >= at->total_ms;
    return strcmp(v->reason, "timeout") == 0;
}

int llf_wait_fits(long ra_ms, double left_ms)
{
    /* (the longest the wait may take: with its jitter, a quarter more, or
     * up to 99 ms for a wait of 0) */
    double longest = (double)ra_ms + (ra_ms > 0 ? (double)(ra_ms / 4) : 99.0);
    return 2.0 * longest <= left_ms;
}

static void stat_add(unsigned long *v, unsigned long n)
{
    __atomic_add_fetch(v, n, __ATOMIC_RELAXED);
}

/* A call ended, for the summary: its attempts, and how it ended (one of
 * e's failures or fallbacks, or NULL: neither). */
static void count_call(llf_engine *e, int attempts, unsigned long *ended)
{
    stat_add(&e->stats.calls, 1);
    stat_add(&e->stats.attempts, (unsigned long)attempts);
    if (ended)
        stat_add(ended, 1);
}

int llf_engine_run(llf_engine *e, llf_call *c, const llf_run_args *a, llf_final *fin)
{
    const llf_config *cfg = e->cfg;
    llf_step steps[LLF_MAX_STEPS];
    size_t nsteps = llf_plan(cfg, c->m.provider, c->model, c->m.dialect, steps, LLF_MAX_STEPS);
    /* Pointers here, each record allocated as its attempt is sent: one array
     * of the records themselves (per_call + 1 of ~360 bytes) was a large-bin
     * allocation that made malloc consolidate its fast bins on every call. */
    size_t cap = (size_t)cfg->per_call + 1;
    c->resps = llf_zalloc(cap * sizeof *c->resps);   /* (cap: per_call + 1, small) */
    if (!c->resps)
        return -1;
    memset(fin, 0, sizeof *fin);

    int pid = llf_self_pid();
    if (__atomic_exchange_n(&e->pid, pid, __ATOMIC_SEQ_CST) != pid) {
        memset(&e->stats, 0, sizeof e->stats);   /* a forked child counts its own */
        llf_log_forked();
    }

    /* The program's own limit (CURLOPT_TIMEOUT) is on the whole call, as
     * libcurl keeps it: every attempt, and a Retry-After wait, ends by
     * then, and none starts after (the library's own connect and
     * first-byte limits are what leave room for a fallback). */
    double deadline = a->prog_total_ms > 0 ? llf_mono_ms() + (double)a->prog_total_ms : 0;
    /* (an OpenAI program's stream_options, for a translated stream's usage) */
    int usage_asked = c->m.dialect == LLF_OPENAI &&
                      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                          cJSON_GetObjectItemCaseSensitive(c->body, "stream_options"), "include_usage"));
    c->o.req = a->orig;
    llf_retry_budget_earn();
    long estimate = -1;
    long too_small = 0;   /* after "context exceeded": windows up to this cannot help */
    int attempts = 0;
    int orig_pending = 0;        /* the original was skipped by its breaker */
    /* The original must be sent before the program can be given a failure:
     * members before it (an override candidate) leave it a slot. */
    int orig_first = nsteps > 0 && steps[0].original;
    llf_resp *orig_resp = NULL;  /* what the original attempt got */
    llf_verdict orig_v = {LLF_OK, "ok", 0, -1};   /* and how it was judged */
    const llf_step *orig_step = NULL;
    llf_resp *final = NULL;
    const llf_step *final_step = NULL;
    llf_verdict final_v = {LLF_OK, "ok", 0, -1};
    int stop = 0, aborted = 0, out_of_time = 0;

    for (size_t i = 0; i < nsteps && !stop; i++) {
        const llf_step *s = &steps[i];
        if (s->skip) {
            log_skip(a, c, s, s->skip, NULL);
            continue;
        }
        if (!s->original && window_skips(c, s, cfg->providers[s->provider].dialect, too_small, &estimate)) {
            log_skip(a, c, s, "context", NULL);
            continue;
        }
        const char *bid = cfg->providers[s->provider].breaker_id;
        int forced = s->original && orig_pending && i == nsteps - 1;
        int allowed = forced ? 1 : llf_health_allow(bid, s->model, (long long)llf_mono_ms());
        if (!allowed) {
            log_skip(a, c, s, "breaker_open", NULL);
            if (s->original && nsteps < LLF_MAX_STEPS) {
                /* Tried last, if nothing else answers: the program may
                 * only get the original failure if the original was asked. */
                orig_pending = 1;
                steps[nsteps++] = *s;
            }
            continue;
        }
        /* (a half-open probe's lease, allowed == 2, is released unless its
         * outcome was reported: not sent, or nothing said about health) */
        int retried = 0, reported = 0;
        for (;;) {
            /* Every send but the original's first is extra: a member, or the
             * original asked again after its Retry-After. */
            int extra_send = !s->original || retried;
            int reserve = !s->original && !orig_resp && (orig_pending || !orig_first);
            if (extra_send && attempts >= cfg->per_call - reserve) {
                log_skip(a, c, s, "per_call", NULL);
                if (!reserve)
                    stop = 1;
                break;
            }
            if (attempts > 0 && program_left(a)) {
                log_skip(a, c, s, "client_gone", NULL);
                stop = aborted = 1;
                break;
            }
            /* An override candidate, sent before the original, has half of
             * the program's time left: a candidate that hangs would else
             * take all of it, and the program's own provider, which would
             * have answered, would never be asked. */
            llf_attempt at;
            int halved = s->candidate && !orig_resp && deadline > 0;
            double time_left = deadline > 0 ? deadline - llf_mono_ms() : 0;
            if (llf_attempt_window(cfg, a->prog_connect_ms, a->prog_total_ms, halved ? time_left / 2 : time_left,
                                   &at)) {
                log_skip(a, c, s, "deadline", NULL);
                if (!halved)
                    stop = out_of_time = 1;
                break;
            }
            llf_req req;
            const llf_req *send = a->orig;
            if (!s->original) {
                llf_terr te = {{0}};
                int tr = llf_rewrite(cfg, &c->o, s->provider, s->model, &req, &te);
                if (tr != LLF_TR_OK) {
                    log_skip(a, c, s, tr == LLF_TR_INCOMPATIBLE ? "incompatible" : "rewrite",
                             te.detail[0] ? te.detail : NULL);
                    break;
                }
                send = &req;
            }
            /* (The first send of a call, even a member's in place of an
             * original skipped by its breaker, is the call itself.) */
            /* The process's own cap first: the shared ratio budget is
             * spent only by an attempt that will be sent, and the slot
             * taken here goes back when that budget refuses. */
            const char *refused = NULL;
            if (attempts > 0 && extra_send) {
                if (!llf_budget_take(&e->budget))
                    refused = "budget";
                else if (!llf_retry_budget_spend()) {
                    llf_budget_give(&e->budget);
                    refused = "retry_budget";
                }
            }
            if (refused) {
                if (send != a->orig)
                    llf_req_free(&req);
                log_skip(a, c, s, refused, NULL);
                stop = orig_resp != NULL;
                break;
            }
            llf_buf extra = {0};
            at.live = c->stream;
            at.dialect = (int)cfg->providers[s->provider].dialect;
            at.translate_to = at.dialect != (int)c->m.dialect ? (int)c->m.dialect : -1;
            at.model = s->model;
            at.usage_asked = usage_asked;
            at.tool_names = at.translate_to >= 0 ? hub_names(c) : NULL;
            /* The default first-token limit (first_byte's) is not for a
             * model that thinks in silence between its role chunk and its
             * answer: its first text may come minutes in, and the role
             * chunk, which met the limit before the gate held framing,
             * meets first_byte still. A limit set in the file holds. */
            if (cfg->first_token_ms < 0 && at.dialect == LLF_OPENAI && llf_openai_reasoning_model(s->model))
                at.first_token_ms = 0;
            at.live_extra = NULL;
            /* Only a stream delivered live needs them now; others get their
             * head built once the answer is chosen. */
            if (!s->original && c->stream &&
                member_lines(&extra, cfg->providers[s->provider].name, s->model, attempts + 1) == 0)
                at.live_extra = extra.p;
            llf_resp *r = llf_zalloc(sizeof *r);
            if (!r) {
                if (send != a->orig)
                    llf_req_free(&req);
                llf_buf_free(&extra);
                stop = 1;
                break;
            }
            c->resps[c->nresps++] = r;
            double t0 = llf_mono_ms();
            a->perform(a->ctx, send, &at, r);
            llf_buf_free(&extra);
            r->ms = llf_mono_ms() - t0;
            attempts++;
            if (send != a->orig)
                llf_req_free(&req);
            llf_dialect d = cfg->providers[s->provider].dialect;
            const llf_dialect_ops *dops = llf_dialect_ops_of(d);
            const cJSON *hub = hub_request(c);
            /* A member asked for no coding (rewrite.c) that used one all
             * the same, a server that ignores Accept-Encoding: decoded where
             * it lies before anything reads it (its stop sequences' cut, the
             * judge, translation, shadow mode's copy), and handed over
             * under our head. One that does not decode stays as it came,
             * and is no answer (judge_coded). */
            if (!s->original && !r->delivered)
                llf_decode_answer(&r->head, &r->body);
            /* (what the member could not be sent, done to its answer before
             * it is judged: a stop sequence ends an answer that went on) */
            if (!s->original && !r->delivered && r->status >= 200 && r->status < 300 && dops->stop_at && hub)
                dops->stop_at(s->model, hub, &r->body);
            llf_judge_in jin = {d, s->model, c->stream, hub, &cfg->verdict, d != c->m.dialect};
            llf_resp view;
            llf_buf plain = {0};
            const llf_resp *jr;
            llf_verdict v = judge_coded(&jin, r, !s->original, &view, &plain, &jr);
            /* (a stream passed on live too: its head says it as well) */
            if (v.outcome == LLF_OK)
                note_deprecation(&cfg->providers[s->provider], s->model, r);
            if (v.outcome == LLF_OK && !r->delivered) {
                if (cfg->verdict.validate_cmd) {
                    /* (an answer with no text, a tool call, audio, a paused
                     * turn, is judged by the other checks alone: the
                     * command would read nothing and judge that) */
                    char *text = answer_text(d, jr);
                    /* (within the program's limit on the whole call: a
                     * command still judging then has said nothing) */
                    long qms = cfg->verdict.validate_timeout_ms;
                    double left = deadline > 0 ? deadline - llf_mono_ms() : 0;
                    if (deadline > 0 && left < (double)qms)
                        qms = (long)left;
                    int q = text && *text && qms > 0
                                ? llf_quality_check(cfg->verdict.validate_cmd, qms, text,
                                                    cfg->providers[s->provider].name, s->model,
                                                    cfg->verdict.key_vars)
                                : -1;
                    free(text);
                    if (q == 0)
                        v = (llf_verdict){LLF_DEGRADED, "quality_gate", 1, -1};
                }
            }
            llf_buf_free(&plain);
            if (v.outcome == LLF_OK && !r->delivered &&
                translate_answer(d, c->m.dialect, s->model, at.tool_names, r))
                v = (llf_verdict){LLF_INVALID_BODY, "untranslatable", 1, -1};
            if (v.outcome == LLF_HTTP_ERROR && strcmp(v.reason, "context") == 0 && s->context)
                too_small = s->context > too_small ? s->context : too_small;
            if (program_timed_out(&v, &at, deadline))
                v = (llf_verdict){LLF_TRANSPORT_ERROR, "program_timeout", 0, -1};
            if (s->original && !orig_resp) {
                orig_resp = r;
                orig_step = s;
                orig_v = v;
            }
            /* (neither a request too long for the window, nor one whose
             * history Claude refuses, nor a credential that fails says
             * anything of the provider's health) */
            if (v.outcome == LLF_OK ||
                (v.fallback && !llf_verdict_request_own(&v) && !llf_verdict_credential(&v))) {
                llf_health_report(bid, s->model, v.outcome == LLF_OK, (long long)llf_mono_ms());
                reported = 1;
            }
            log_step(a, c, s, attempts, r->status, llf_outcome_name(v.outcome), v.reason, r->ms);
            /* (an attempt stopped because the program left goes on to the
             * look before the next member, which logs each as skipped; the
             * original's answer after its Retry-After that is no reason to
             * fall back, a plain 400 or a redirect, is the program's as the
             * first would have been; not what the program itself stopped
             * in the wait, its abort or its own limit: then the first
             * answer is the program's, the 429 with its Retry-After) */
            if (v.outcome == LLF_OK || r->delivered ||
                (s->original && !v.fallback && !r->client_gone &&
                 (!retried || v.outcome == LLF_HTTP_ERROR || v.outcome == LLF_REDIRECT))) {
                final = r;
                final_step = s;
                final_v = v;
                stop = 1;
                break;
            }
            if (!s->original && !v.fallback && r->curlcode != CURLE_OK &&
                strcmp(v.reason, "local") == 0) {
                stop = 1;   /* the program's own callbacks failed: do not go on */
                break;
            }
            if (!v.fallback && strcmp(v.reason, "aborted") == 0) {
                /* The program's progress callback stopped a later attempt
                 * (a member's, or the original's again): never retried. */
                stop = aborted = 1;
                break;
            }
            long ra = v.retry_after_ms;
            /* (no wait for an attempt the limits would refuse after it, nor
             * one that would take most of what is left of the program's
             * limit; none for a provider its breaker now skips, the
             * half-open probe's failure included: the next member instead.
             * With a member left, the limits must leave room for it after
             * the retry: in a 429 storm the budget went to retries of the
             * provider least likely to answer, and no member was asked.) */
            int may_wait = (r->status == 429 || r->status == 503) && ra >= 0 &&
                           ra <= cfg->retry_max_wait_ms && cfg->retry_same_provider && !retried;
            int room = may_wait ? 1 + member_after(cfg, c, steps, i, nsteps, too_small, &estimate) : 0;
            may_wait = may_wait && attempts + room <= cfg->per_call - reserve && llf_retry_budget_left(room) &&
                           llf_budget_used(&e->budget) + room <= e->budget.limit && !program_left(a) &&
                           (deadline <= 0 || llf_wait_fits(ra, deadline - llf_mono_ms())) &&
                           allowed != 2 && !llf_health_open(bid, s->model);
            if (!may_wait)
                break;
            retried = 1;
            wait_retry_after(ra, a, deadline);
        }
        if (allowed == 2 && !reported)
            llf_health_release(bid, s->model);
    }

    fin->attempts = attempts;
    fin->aborted = aborted && !final;
    if (!final) {
        /* Everything failed: the original failure, exactly as it came. */
        if (!orig_resp) {
            /* The original was never sent: the hook passes it through,
             * unless the program's limit ran out first (sent now, it
             * would have that limit again), or the program left or
             * stopped the call. A call still, and a failure: the
             * program's answer is our timeout, none, or, passed through
             * unjudged after every member failed, the answer of a
             * provider its breaker skipped. (It went uncounted: a dead
             * primary and a member that took the program's whole limit
             * left a process with no summary.) */
            fin->timed_out = out_of_time;
            count_call(e, attempts, &e->stats.failures);
            return -1;
        }
        /* (as it was judged: a refusal, a failed quality gate or schema,
         * handed over because nothing better came, is still a failure, and
         * no success for shadow mode to copy) */
        final = orig_resp;
        final_step = orig_step;
        final_v = orig_v;
    }
    fin->resp = final;
    fin->delivered = final->delivered;
    fin->from_original = final_step->original;
    if (!fin->from_original && !fin->delivered && !fin->aborted) {
        size_t n;
        const char *ct = llf_head_get(&final->head, "content-type", &n);
        char ctype[128] = "application/json";
        if (ct && n < sizeof ctype) {
            memcpy(ctype, ct, n);
            ctype[n] = '\0';
        }
        if (llf_synth_head(&fin->head, final->http_version, ctype, final->body.n,
                           cfg->providers[final_step->provider].name, final_step->model,
                           attempts))
            return -1;
    }
    /* A fallback: the answer came from another than the first choice (the
     * original; in mode override the candidate). A redirect handed over is
     * the program's to follow: neither a failure nor a fallback. An answer
     * live already that the program stopped taking (it left, or its own
     * callback refused more: curl -N | head) was an answer, counted by who
     * gave it: a program that read two lines of a member's stream and
     * closed it counted as a failure, not a fallback. (A 2xx one: an
     * error passed on as it came, over the cap, is a failure however
     * much of it was read.) */
    int ok = final_v.outcome == LLF_OK ||
             (final->delivered && final->status >= 200 && final->status < 300 &&
              final_v.outcome == LLF_TRANSPORT_ERROR &&
              (!strcmp(final_v.reason, "client_gone") || !strcmp(final_v.reason, "local") ||
               !strcmp(final_v.reason, "aborted")));
    unsigned long *ended = NULL;
    if (!ok && final_v.outcome != LLF_REDIRECT)
        ended = &e->stats.failures;
    else if (ok && !(final_step->original && orig_first) && !final_step->candidate)
        ended = &e->stats.fallbacks;
    count_call(e, attempts, ended);
    c->fin = *fin;
    if (cfg->mode == LLF_MODE_SHADOW && final_v.outcome == LLF_OK)
        llf_shadow_offer(c, a->path, final_step->provider, final_step->model, final);
    return 0;
}
