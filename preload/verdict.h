/* verdict.h — deciding whether a response is a usable answer, and if not,
 * whether another provider is worth trying. Pure: memory in, verdict out. */
#ifndef LLF_VERDICT_H
#define LLF_VERDICT_H

#include "core.h"
#include "dialect.h"

typedef enum {
    LLF_OK = 0,
    LLF_HTTP_ERROR,
    LLF_TRANSPORT_ERROR,
    LLF_INVALID_BODY,
    LLF_EMPTY,
    LLF_REFUSAL,
    LLF_SCHEMA,
    LLF_TRUNCATED,
} llf_outcome;

typedef struct llf_verdict {
    llf_outcome outcome;
    const char *reason;     /* static string, e.g. "overloaded", "connect" */
    int         fallback;   /* 1: worth trying the next provider */
    long        retry_after_ms; /* from Retry-After on 429/503, -1 when absent */
} llf_verdict;

const char *llf_outcome_name(llf_outcome o);

/* Judge r, the answer to a request in dialect d for model. now: for
 * Retry-After dates. */
llf_verdict llf_judge(llf_dialect d, const char *model, int stream, const llf_resp *r,
                      time_t now);

/* The value of header name in the last header block of head, or NULL
 * (points into head; *len set). */
const char *llf_head_get(const llf_buf *head, const char *name, size_t *len);

/* Retry-After (seconds or HTTP date) and retry-after-ms in ms, or -1. */
long llf_retry_after_ms(const llf_buf *head, time_t now);

#endif
