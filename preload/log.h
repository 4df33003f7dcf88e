/* log.h — the JSON-lines attempt log, the exit summary, and the one-line
 * warnings on stderr. Keys and bodies never pass through here: callers hand
 * over names, numbers and reasons only. */
#ifndef LLF_LOG_H
#define LLF_LOG_H

#include <stddef.h>

typedef struct llf_log_rec {
    const char   *path;      /* curl | ssl | socket */
    unsigned long call;      /* per-process call number */
    int           attempt;   /* 1 = the original; 0 for a skipped member */
    const char   *provider, *model;
    long          status;    /* HTTP status, 0 without a response */
    const char   *outcome;   /* ok, http_error, …, skipped */
    const char   *reason;
    double        ms;
    const char   *detail;    /* optional: why a member was skipped (no content) */
    const char   *role;      /* optional: "override" for a mode-override candidate */
} llf_log_rec;

/* One shadow comparison: the candidate's copy beside the answer the program
 * got (the "primary"). Figures unknown are -1 and left out of the line. */
typedef struct llf_shadow_rec {
    const char   *path;
    unsigned long call;
    const char   *provider, *model;     /* the candidate */
    long          status;
    const char   *outcome, *reason;
    double        ms;
    long          tokens_in, tokens_out;
    const char   *primary_provider, *primary_model;
    double        primary_ms;
    long          primary_tokens_in, primary_tokens_out;
    double        similarity;           /* 0..1, -1 when the copy gave no answer */
} llf_shadow_rec;

typedef struct llf_summary {
    unsigned long calls, fallbacks, failures, attempts;
    unsigned long dropped;   /* lines of ours a reader not reading cost (log.c
                                fills it in); in the line when not 0 */
} llf_summary;

int  llf_log_open(const char *path);   /* NULL: no log; "stderr"; else a file */
int  llf_log_enabled(void);
/* Whether a line written now has somewhere to go: a log file not opened
 * yet (it is opened at its first line) is opened here, so that one that
 * cannot be is known, and said, before what it would record is done. 0
 * with no log, or one that failed to open (llf_log_enabled is 0 after). */
int  llf_log_ready(void);
void llf_log_attempt(const llf_log_rec *r);
/* The summary line; it allocates nothing and waits for no lock for long
 * (exec, which writes it too, may be called from a signal handler). */
void llf_log_summary(const llf_summary *s);
/* A forked child's first call: the lines its parent dropped, and said so,
 * are not its own. */
void llf_log_forked(void);
/* A model announced its retirement (once per model and process, by the caller). */
void llf_log_deprecation(const char *provider, const char *model, const char *date);
/* One line "llmfallback: <msg>" on stderr (and a warning event in the log). */
void llf_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* s as valid UTF-8: 0 when it is (*fixed = NULL), 1 when *fixed is a
 * malloc'ed copy with U+FFFD for every byte that is not part of a valid
 * sequence, -1 when out of memory. */
int   llf_utf8_clean(const char *s, char **fixed);

/* The JSON line for r (no newline), malloc'ed: for tests and for the writer. */
char *llf_log_format(const llf_log_rec *r, double now, int pid);
char *llf_log_shadow_format(const llf_shadow_rec *r, double now, int pid);
/* The summary line (no newline) in out: its length, or -1 when it does not fit. */
int   llf_log_summary_format(char *out, size_t size, const llf_summary *s, double now, int pid);
void  llf_log_shadow(const llf_shadow_rec *r);

#endif
