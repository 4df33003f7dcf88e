/* health.h — the circuit breaker: after `failures` consecutive failures of
 * a provider/model, skip it for `cooldown_ms`, then let one probe through
 * (half-open). Shared by the processes of one user through a small
 * memory-mapped file, so that a CI job of many short processes pays a dead
 * primary's timeout a handful of times, not once per process. */
#ifndef LLF_HEALTH_H
#define LLF_HEALTH_H

typedef struct llf_health_cfg {
    int  failures;     /* 0: no breaker */
    long cooldown_ms;
    int  shared;       /* across processes (the file) or this process only */
    long probe_ms;     /* the longest an attempt may take (timeouts_ms.total): a
                        * half-open probe holds its lease at least that long;
                        * 0 (no limit): until reported, released, or its
                        * process ends */
} llf_health_cfg;

/* path: the file to share, or NULL for the default ($XDG_RUNTIME_DIR or
 * /dev/shm, one per user). A missing directory, a foreign or corrupt file
 * falls back to process-local memory with a warning. Called before any other
 * thread uses the breaker (the core calls it once, as it loads; tests call it
 * again, to start afresh). */
int  llf_health_init(const llf_health_cfg *cfg, const char *path);
/* May we try provider/model now? 1 yes (closed), 2 yes as the half-open
 * probe (the others skip until it is reported, or released), 0 skip it. */
int  llf_health_allow(const char *provider, const char *model, long long now_ms);
void llf_health_report(const char *provider, const char *model, int ok, long long now_ms);
/* A probe (allow gave 2) that was not sent, or whose outcome says nothing
 * about the provider's health: the next caller may probe. */
void llf_health_release(const char *provider, const char *model);
/* Would llf_health_allow skip provider/model at now (its breaker open, or
 * cooled down with another's probe out)? Asks only: takes no probe. */
int  llf_health_skips(const char *provider, const char *model, long long now_ms);
/* Is provider/model's breaker open (or half-open) now? A same-provider
 * retry is not made then: the next member is asked instead. */
int  llf_health_open(const char *provider, const char *model);
int  llf_health_is_shared(void);

/* The ratio retry budget, in the manner of Finagle's RetryBudget: each call
 * earns `ratio` of an extra attempt, up to `burst` saved; each extra attempt
 * spends one. Kept in the shared file when the breaker is shared, so a job's
 * processes share it: each process spends at most its own burst of it,
 * and never cuts what others with a larger burst saved. ratio <= 0: no
 * ratio budget. */
void llf_retry_budget_init(double ratio, double burst);
void llf_retry_budget_earn(void);     /* once per call */
int  llf_retry_budget_spend(void);    /* 1 may retry, 0 spent */
int  llf_retry_budget_left(int n);    /* 1 when n attempts could be spent now */

#endif
