/* engine.h — one recognised call: its plan of attempts and the loop that
 * runs it. The hook path supplies how to perform an attempt; everything
 * else (which member next, budgets, waiting, judging, logging, what the
 * program finally receives) is decided here. */
#ifndef LLF_ENGINE_H
#define LLF_ENGINE_H

#include <cjson/cJSON.h>

#include "budget.h"
#include "config.h"
#include "core.h"
#include "endpoints.h"
#include "log.h"
#include "rewrite.h"

/* One entry of a call's plan. */
typedef struct llf_step {
    int         provider;
    const char *model;
    int         original;      /* the program's own request, untouched */
    int         candidate;     /* mode override: the candidate, tried first */
    const char *skip;          /* reason this member is not tried, or NULL */
    long        context;       /* its context window in tokens, 0 unknown */
} llf_step;

#define LLF_MAX_STEPS 64
_Static_assert(LLF_MAX_STEPS >= LLF_CHAIN_MAX + 3, "a plan holds every chain entry");

/* The plan for a call to (provider, model) in dialect caller: the original,
 * then each chain member that is not the same provider and model, each
 * marked with a skip reason when it cannot serve the call. In mode override
 * the candidate comes first and the original is its first fallback. Returns
 * the count. */
size_t llf_plan(const llf_config *cfg, int provider, const char *model, llf_dialect caller,
                llf_step *steps, size_t max);

struct llf_call {
    const llf_config *cfg;
    llf_match         m;
    char             *model;   /* what the program asked for */
    cJSON            *body;
    int               stream;
    llf_origin        o;       /* what every member's request derives from */
    unsigned long     id;
    llf_resp        **resps;   /* one record per attempt, allocated as sent */
    size_t            nresps;
    llf_final         fin;
};

/* Process-wide state the engine reads and updates. */
typedef struct llf_engine {
    const llf_config *cfg;
    llf_budget        budget;
    llf_summary       stats;   /* updated atomically */
    unsigned long     next_call;
    int               pid;
} llf_engine;

void      llf_engine_init(llf_engine *e, const llf_config *cfg);
llf_call *llf_engine_recognise(llf_engine *e, const char *url, const char *method,
                               const char *body, size_t len);

/* The request body as recognition admits it: exactly one JSON object, with
 * no raw NUL in it (a \u0000 is kept whole: our cJSON holds it as C0 80,
 * so a key "model\u0000x" is no "model", to us as to the provider), and
 * no key given twice in any object (cJSON reads the first, servers the
 * last). NULL otherwise: such a call passes through untouched. */
cJSON    *llf_engine_parse_body(const char *body, size_t len);
int       llf_engine_run(llf_engine *e, llf_call *call, const llf_run_args *a, llf_final *fin);
/* What is added to a Retry-After of ms: up to a quarter more (for 0, up to
 * 99 ms), drawn per thread, and per process after a fork. */
long      llf_retry_jitter(long ms);
void      llf_call_free(llf_call *call);

/* Per-attempt limits: the config's, never longer than the program's own. */
void llf_attempt_limits(const llf_config *cfg, long prog_connect_ms, long prog_total_ms,
                        llf_attempt *at);

/* An attempt that would have less than this of the program's limit on
 * the whole call is not started: it could not answer in time. */
#define LLF_MIN_ATTEMPT_MS 5
/* The limits of an attempt started left_ms before the program's limit on
 * the whole call (prog_total_ms > 0; without one, llf_attempt_limits):
 * its total is what is left of it. 0, or -1 when none may start. */
int llf_attempt_window(const llf_config *cfg, long prog_connect_ms, long prog_total_ms, double left_ms,
                       llf_attempt *at);

/* May a Retry-After wait of ra_ms be made with left_ms of the program's
 * limit on the whole call left? Only when the wait, with its jitter, takes
 * at most half of it: the retry, and a member after it should it fail too,
 * keep at least as long as the wait. */
int llf_wait_fits(long ra_ms, double left_ms);

/* The header block a fallback answer is delivered with. */
int llf_synth_head(llf_buf *out, long http_version, const char *content_type, size_t body_len,
                   const char *provider, const char *model, int attempts);

#endif
