/* config.h — the immutable configuration of one process.
 *
 * Built once from the JSON file (LLMFALLBACK_CONFIG), LLMFALLBACK_CHAIN and the
 * provider key variables, merged over the built-in provider table
 * (endpoints.c). Loading is a pure function of its inputs, so it is tested
 * without a process environment. */
#ifndef LLF_CONFIG_H
#define LLF_CONFIG_H

/* A chain's most entries: a call's plan holds them with the override
 * candidate and the original, twice (engine.h's LLF_MAX_STEPS). */
#define LLF_CHAIN_MAX 60

#include <regex.h>
#include <stddef.h>

#include "dialect.h"
#include "health.h"

typedef struct llf_urlparts {
    char *scheme, *host, *path;   /* host lower-case; path without trailing '/' */
    long  port;
} llf_urlparts;

typedef struct llf_provider {
    char       *name;
    char       *base_url;       /* where attempts go; no trailing '/', no query */
    char       *base_query;     /* the base URL's query (Azure's api-version=),
                                 * sent with every attempt; NULL when none */
    llf_dialect dialect;
    char       *key_env;        /* variable the key came from (for messages) */
    char       *key;            /* NULL when unset; without the white space around it */
    const char *key_refused;    /* the variable whose value was refused (a control
                                 * character or a space inside it), or NULL: the
                                 * provider then has no key from it */
    int         needs_key;
    int         configured;      /* named in the file's "providers" */
    char       *default_model;  /* NULL when none */
    char       *breaker_id;     /* name and base URL: what the breaker's slots
                                 * are kept by (one name may mean other servers
                                 * to the user's other programs) */
    size_t      base;           /* base_url's entry in the config's bases: the
                                 * server its members are sent to */
} llf_provider;

/* A URL prefix that identifies a provider (its official and configured base). */
typedef struct llf_base {
    int          provider;
    llf_urlparts url;
} llf_base;

typedef struct llf_chain_entry {
    int   provider;
    char *model;
    long  context;   /* context window override in tokens, 0 = the built-in table's */
} llf_chain_entry;

/* What makes a 2xx a usable answer (issue: soft failures). */
typedef struct llf_verdict_cfg {
    int      invalid_body;        /* not JSON, wrong shape, wrong content type */
    int      empty;               /* no text and no tool calls */
    int      refusal;             /* structured and textual refusals */
    int      json;                /* JSON asked for must parse (and validate) */
    int      truncated_fallback;  /* finish "length" without a program limit */
    long     refusal_max_chars;   /* longer answers are never textual refusals */
    int      stream_refusal;      /* hold streams until refusal_max_chars of text */
    regex_t *patterns;            /* textual refusal patterns (POSIX ERE, icase) */
    size_t   npatterns;
    char    *validate_cmd;        /* quality gate, or NULL */
    long     validate_timeout_ms;
    char   **key_vars;            /* the variables keys are read from (NULL-ended): not the gate's */
} llf_verdict_cfg;

/* What a recognised call does (issue: experiments without code changes). */
typedef enum {
    LLF_MODE_FALLBACK,   /* the program's request first, the chain after it */
    LLF_MODE_OVERRIDE,   /* the candidate first; the program's own request is the first fallback */
    LLF_MODE_SHADOW      /* as fallback, and a share of answered calls is also sent to the
                            candidate in the background for comparison (shadow.c) */
} llf_mode;

typedef struct llf_config {
    llf_provider    *providers;
    size_t           nproviders;
    llf_base        *bases;
    size_t           nbases;
    llf_chain_entry *chain;
    size_t           nchain;        /* at most LLF_CHAIN_MAX */
    int   per_call;             /* attempts of one call, the original included */
    long  per_process;          /* extra attempts the process may ever make */
    double retry_ratio, retry_burst;   /* the ratio budget (health.h) */
    long  connect_ms, first_byte_ms, total_ms;   /* 0: no limit of ours */
    long  first_token_ms;       /* 0: none; unset (-1): first_byte's */
    long  retry_max_wait_ms;    /* Retry-After up to this is waited for */
    int   retry_same_provider;  /* 0 disables the same-provider retry */
    char *log_path;             /* NULL: no log; "stderr" */
    char *ca_bundle;
    llf_verdict_cfg verdict;
    llf_health_cfg  breaker;
    llf_mode        mode;
    llf_chain_entry candidate;  /* override/shadow target; provider -1 when unset */
    double shadow_sample;       /* share of answered calls copied, 0..1 */
    long   shadow_timeout_ms;   /* a shadow copy's whole transfer; also the exit wait */
} llf_config;

/* The default textual refusal patterns (a NULL-terminated list). */
extern const char *const llf_default_refusals[];

typedef const char *(*llf_getenv_fn)(const char *name);

/* text: the file's contents or NULL; origin names it in messages; chain_env:
 * LLMFALLBACK_CHAIN or NULL; log_env: LLMFALLBACK_LOG or NULL. Returns 0 and
 * *out, or -1 with a one-line reason in err. */
/* A path as messages show it: its last 200 bytes at most, after *cut
 * ("…" when cut, else ""), so that the reason after it stays on the line. */
const char *llf_config_path_tail(const char *path, const char **cut);
int  llf_config_load(const char *text, size_t len, const char *origin, const char *chain_env,
                     const char *log_env, llf_getenv_fn env, llf_config **out, char *err,
                     size_t errlen);
void llf_config_free(llf_config *c);
int  llf_config_provider(const llf_config *c, const char *name);   /* index or -1 */
/* A variable's name as a message shows it: itself when it is written as
 * variables are by convention (OPENAI_API_KEY), else a phrase (a key pasted
 * as api_key_env may fit a variable's name). */
const char *llf_shown_var(const char *name);
/* Why a variable's key was refused, after its name in a message (the value
 * is never shown). */
#define LLF_KEY_REFUSED "is not a usable key: it holds a control character or a space (the value is not shown)"

/* The CA bundle for the library's own TLS: the config's, else the usual
 * variables; NULL for libcurl's default. */
const char *llf_ca_bundle(const llf_config *c);

int  llf_url_split(const char *url, llf_urlparts *out);             /* 0 ok */
void llf_urlparts_free(llf_urlparts *u);

#endif
