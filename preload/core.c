/* core.c — the core library's entry: reads the environment and the config
 * once, opens the log, and hands the shim its interface (see core.h).
 * Writes the exit summary when the process made any recognised call (and
 * before an exec, which skips the exit). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtins.h"
#include "config.h"
#include "core.h"
#include "endpoints.h"
#include "engine.h"
#include "forklock.h"
#include "guest.h"
#include "health.h"
#include "lineout.h"
#include "log.h"
#include "relay.h"
#include "rewrite.h"
#include "shadow.h"
#include "stream.h"
#include "verdict.h"

#define LLF_EXPORT __attribute__((visibility("default")))

const llf_curl_api *llf_curl;

static llf_engine engine;
static llf_config *config;

static llf_call *api_recognise(const char *url, const char *method, const char *body, size_t len,
                               const llf_headers *headers)
{
    (void)headers;
    return llf_engine_recognise(&engine, url, method, body, len);
}

static int api_is_endpoint(const char *url)
{
    llf_match m;
    if (!llf_endpoint_match(config, url, &m))
        return 0;
    llf_match_free(&m);
    return 1;
}

static int api_run(llf_call *call, const llf_run_args *a, llf_final *fin)
{
    return llf_engine_run(&engine, call, a, fin);
}

static int api_is_stream(const llf_call *call)
{
    return call->stream;
}

static const char *api_watch(struct llf_sse *p, int dialect, const char *bytes, size_t n)
{
    return llf_stream_watch(p, (llf_dialect)dialect, bytes, n);
}

static llf_gate *api_gate_new(int dialect)
{
    return llf_gate_new((llf_dialect)dialect, &config->verdict, config->verdict.stream_refusal);
}

static int api_relay_addr(struct sockaddr_storage *out, socklen_t *len)
{
    return llf_relay_addr(out->ss_family, out, len);
}

static const char *api_ca_bundle(void)
{
    return llf_ca_bundle(config);
}

static void exec_summary(void);

static const llf_core_api api = {
    .abi = LLF_CORE_ABI,
    .recognise = api_recognise,
    .run = api_run,
    .call_free = llf_call_free,
    .call_is_stream = api_is_stream,
    .gate_new = api_gate_new,
    .gate_event = llf_gate_event,
    .gate_end = llf_gate_end,
    .gate_started = llf_gate_started,
    .gate_problem = llf_gate_problem,
    .gate_free = llf_gate_free,
    .watch = api_watch,
    .pipe_new = llf_stream_pipe_new,
    .pipe_feed = llf_stream_pipe_feed,
    .pipe_end = llf_stream_pipe_end,
    .pipe_free = llf_stream_pipe_free,
    .target_kind = llf_target_kind,
    .note_resolved = llf_targets_note,
    .placeholder = llf_targets_placeholder,
    .is_tls_host = llf_is_tls_host,
    .others = llf_targets_others,
    .relay_addr = api_relay_addr,
    .relay_expect = llf_relay_expect,
    .relay_unexpect = llf_relay_unexpect,
    .relay_room = llf_relay_room,
    .is_endpoint = api_is_endpoint,
    .header_credential = llf_header_credential,
    .exec_summary = exec_summary,
    .error_needs_body = llf_error_needs_body,
    .ca_bundle = api_ca_bundle,
};

static const char *env(const char *name)
{
    return getenv(name);
}

/* The file's text, or NULL with a reason. Config files are small. */
static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
    llf_buf b = {0};
    const char *cut, *shown = llf_config_path_tail(path, &cut);
    if (llf_buf_read_file(&b, path, LLF_CONFIG_MAX, 0)) {
        if (errno == EFBIG || errno == ENOMEM)
            snprintf(err, errlen, "%s%s: larger than %zu KiB, or out of memory", cut, shown, LLF_CONFIG_MAX >> 10);
        else if (errno == ETIMEDOUT)
            snprintf(err, errlen, "%s%s: its writer has not ended it after %d s", cut, shown,
                     LLF_READ_WAIT_MS / 1000);
        else
            snprintf(err, errlen, "%s%s: %s", cut, shown, strerror(errno));
        llf_buf_free(&b);
        return NULL;
    }
    if (!b.n) {
        struct stat st;
        snprintf(err, errlen, "%s%s: empty%s", cut, shown,
                 stat(path, &st) == 0 && !S_ISREG(st.st_mode)
                     ? " (a pipe or FIFO: nothing written to it, or read already by another process)"
                     : "");
        return NULL;
    }
    *len = b.n;
    return llf_buf_steal(&b);
}

/* Is there a summary to write, and is it this process's? A forked child
 * that made no call of its own holds its parent's counts (they are reset at
 * a child's first call): no summary of its own. Nor has a vfork child,
 * which runs on its parent's memory under a pid of its own. (The pid is
 * asked last: it is a system call.) */
static int summary_due(void)
{
    return config && __atomic_load_n(&engine.stats.calls, __ATOMIC_SEQ_CST) &&
           __atomic_load_n(&engine.pid, __ATOMIC_SEQ_CST) == getpid();
}

static void summary(void) __attribute__((destructor));
static void summary(void)
{
    if (summary_due())
        llf_log_summary(&engine.stats);
}

static unsigned long take(unsigned long *count)
{
    return __atomic_exchange_n(count, 0, __ATOMIC_SEQ_CST);
}

/* Before an exec (the shim's exec hooks): exec replaces the image without
 * running destructors, so the summary above is written here, once per
 * process image (the program exec runs writes its own, under the same pid).
 * The counts are taken, not read: should the exec fail, the process goes on
 * from zero, and its exit (or its next exec) writes a summary only of the
 * calls made after. The summary lines of a pid then add up to what it did,
 * and no call is counted twice. Each count is taken on its own: a call
 * that another thread ends just now is counted once, in this line or the
 * next (its figures may fall on both sides; the sums hold). Nothing is
 * touched unless the summary is ours: in a vfork child this only reads. */
static void exec_summary(void)
{
    if (!summary_due())
        return;
    llf_summary s = {take(&engine.stats.calls), take(&engine.stats.fallbacks),
                     take(&engine.stats.failures), take(&engine.stats.attempts), 0};
    if (s.calls) {
        llf_log_summary(&s);
        return;
    }
    /* (another thread's exec took the calls first: what is left goes back,
     * for the summary that follows) */
    __atomic_add_fetch(&engine.stats.fallbacks, s.fallbacks, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&engine.stats.failures, s.failures, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&engine.stats.attempts, s.attempts, __ATOMIC_SEQ_CST);
}

/* An endpoint copied into base_url (".../v1/chat/completions"): the
 * program's calls to it would be looked for at BASE/chat/completions, which
 * nobody calls, and pass through without a word. */
static int ends_in_endpoint(const char *path)
{
    static const char *const tails[] = {"/chat/completions", "/completions", "/responses", "/messages",
                                        "/embeddings", ":generateContent", ":streamGenerateContent"};
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    for (size_t i = 0; i < sizeof tails / sizeof *tails; i++) {
        size_t t = strlen(tails[i]);
        if (n >= t && strncmp(path + n - t, tails[i], t) == 0)
            return 1;
    }
    return 0;
}

/* A base URL with no path, for a dialect whose official API is under /v1
 * (Gemini's /v1beta):
 * calls are recognised right under it (BASE/chat/completions), so a
 * program calling BASE/v1/... (an SDK's base URL copied into the config)
 * would pass through without a word; so would its calls with an endpoint
 * at the end of one (ends_in_endpoint). Said once; the URL is not echoed
 * (it may hold a password). */
static void warn_bare_bases(const llf_config *c)
{
    size_t nb;
    const llf_builtin *b = llf_builtins(&nb);
    for (size_t i = 0; i < c->nproviders; i++) {
        const llf_provider *p = &c->providers[i];
        int official = 0;   /* (DeepSeek's own API answers right under its host) */
        for (size_t k = 0; k < nb && !official; k++)
            official = strcmp(b[k].name, p->name) == 0 && strcmp(b[k].base_url, p->base_url) == 0;
        llf_urlparts u;
        if (official || llf_url_split(p->base_url, &u))
            continue;
        /* (Gemini's under /v1beta: google-genai's base_url is the host alone) */
        int gem = p->dialect == LLF_GEMINI;
        if (!u.path || !*u.path || strcmp(u.path, "/") == 0)
            llf_warn("provider %s: base_url has no path, so its calls are recognised and its members sent "
                     "right under it (%s); if the API is under %s, write the base URL with %s",
                     p->name, p->dialect == LLF_OPENAI ? "/chat/completions" : gem ? "/models/M:generateContent" : "/messages",
                     gem ? "/v1beta" : "/v1", gem ? "/v1beta" : "/v1");
        else if (ends_in_endpoint(u.path))
            llf_warn("provider %s: base_url ends in an endpoint, so its calls are looked for under it and never "
                     "recognised; write the base URL without the endpoint (as an SDK's base_url)", p->name);
        llf_urlparts_free(&u);
    }
}

/* A key refused (config.c) of a provider the config could do without: said
 * once, as a member's would have been, in its stead. */
static void warn_refused_keys(const llf_config *c)
{
    for (size_t i = 0; i < c->nproviders; i++)
        if (c->providers[i].key_refused)
            llf_warn("provider %s: %s " LLF_KEY_REFUSED "; %s", c->providers[i].name,
                     llf_shown_var(c->providers[i].key_refused),
                     c->providers[i].key ? "its other variable's key is used" : "it is used as if it had none");
}

LLF_EXPORT const llf_core_api *llf_core_entry(const llf_curl_api *curl, const llf_shim_services *svc)
{
    char err[512];
    if (svc && svc->abi != LLF_CORE_ABI)
        return NULL;   /* (the shim says so: its ABI is not the core's) */
    if (svc)
        llf_fd_lock_use(svc->fds_hold, svc->fds_release);   /* (before any descriptor of ours) */
    if (svc && svc->forkreg)
        llf_forklock_use(svc->forkreg);   /* (before any lock is registered) */
    if (svc)
        llf_stderr_use(svc->stderr_at_load);   /* (before any warning) */
    /* URL parsing needs libcurl; a host without it (Python, Node) gets the
     * one the library loads for its own transfers. */
    llf_curl = curl && curl->url ? curl : svc ? svc->curl_for_transfers() : NULL;
    if (!llf_curl) {
        llf_warn("libcurl.so.4 cannot be loaded; passing calls through untouched");
        return NULL;
    }
    const char *path = getenv("LLMFALLBACK_CONFIG");
    char *text = NULL;
    size_t len = 0;
    if (path && *path && !(text = slurp(path, &len, err, sizeof err))) {
        llf_warn("cannot read config %s; passing calls through untouched", err);
        return NULL;
    }
    int rc = llf_config_load(text, len, path && *path ? path : "configuration",
                             getenv("LLMFALLBACK_CHAIN"), getenv("LLMFALLBACK_LOG"), env, &config,
                             err, sizeof err);
    free(text);
    if (rc) {
        llf_warn("%s; passing calls through untouched", err);
        return NULL;
    }
    warn_bare_bases(config);
    warn_refused_keys(config);
    llf_threads_ready();    /* (and this one: see guest.h) */
    llf_log_open(config->log_path);
    llf_health_init(&config->breaker, NULL);
    llf_retry_budget_init(config->retry_ratio, config->retry_burst);
    llf_engine_init(&engine, config);
    /* (quick_exit() runs no destructor: a program so ended, in order, had
     * its calls in no summary) */
    at_quick_exit(summary);
    llf_targets_init(config);
    llf_relay_init(&engine, svc);
    llf_shadow_init(config, svc);
    return &api;
}
