/* verdict.h — deciding whether a response is a usable answer, and if not,
 * whether another provider is worth trying. Pure: memory in, verdict out. */
#ifndef LLF_VERDICT_H
#define LLF_VERDICT_H

#include "config.h"
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
    LLF_DEGRADED,       /* the quality gate said no */
    LLF_REDIRECT,       /* a 3xx: no answer, and no failure either (the library
                         * follows none; the original's is the program's own
                         * to follow, a member's is no answer to the call) */
} llf_outcome;

typedef struct llf_verdict {
    llf_outcome outcome;
    const char *reason;     /* static string, e.g. "overloaded", "connect" */
    int         fallback;   /* 1: worth trying the next provider */
    long        retry_after_ms; /* from Retry-After on 429/503, -1 when absent */
} llf_verdict;

const char *llf_outcome_name(llf_outcome o);

/* A failure of the credential or account the request was sent with (a bad
 * or revoked key, no credit, a forbidden region or project), or of this
 * side's own TLS files (local_tls: a CA file or client certificate that
 * cannot be read): another program's request to the same provider may
 * well succeed, so it says nothing of the provider's health (the breaker
 * does not count it). */
int llf_verdict_credential(const llf_verdict *v);
/* A failure of this request alone, whoever sends it: a prompt too long for
 * the model's window (context), a history Claude refuses
 * (thinking_history). It says nothing of the provider's health either. */
int llf_verdict_request_own(const llf_verdict *v);

/* What a judgement needs besides the response. */
typedef struct llf_judge_in {
    llf_dialect            dialect;  /* of the response */
    const char            *model;    /* the model it was asked of */
    int                    stream;
    const cJSON           *hub_req;  /* the program's request in hub form, or NULL */
    const llf_verdict_cfg *cfg;      /* NULL: every check on, no textual patterns */
    int                    translated; /* the answer reaches the program in another
                                        * dialect: what only its own carries (a
                                        * Gemini image) is none of it */
} llf_judge_in;

/* Judge r. now: for Retry-After dates. */
llf_verdict llf_judge_ex(const llf_judge_in *in, const llf_resp *r, time_t now);

/* Does the verdict on an error status (>= 400) read the body? Those of a
 * window exceeded (400, 413), an account's error (400; OpenAI's out of
 * credit, a 429, which also asks its wait there) and a model not found
 * (404, 410) do; every other is decided by status and head (a 503's wait
 * then by its Retry-After header alone). */
int llf_error_needs_body(long status);

/* The same with defaults (every check on, nothing known of the request). */
llf_verdict llf_judge(llf_dialect d, const char *model, int stream, const llf_resp *r,
                      time_t now);

/* Judge an answer already in hub form (a chat.completion) against the hub
 * request that asked for it: empty, refusals, JSON and schema, tool-call
 * arguments, truncation. */
llf_verdict llf_judge_answer(const cJSON *answer, const cJSON *hub_req, const llf_verdict_cfg *cfg);

/* Judging a stream as its events arrive, before the program sees any of
 * it. Events that only frame an answer (Anthropic's message_start and ping,
 * an OpenAI chunk with only the role) are held; the first event of the
 * answer itself decides, and every event held is checked for an error; a
 * stop reason that refuses before it (no text at all, or the filter's stop
 * with the first text) is the whole answer, a refusal judged at the end. With
 * hold_text (the config's verdict.stream_refusal) the stream is also held
 * until its text is longer than refusal_max_chars, so that an empty answer
 * or a refusal that is the whole answer falls back too. */
typedef struct llf_gate llf_gate;
enum { LLF_GATE_WAIT = 0, LLF_GATE_GO = 1, LLF_GATE_FAIL = -1 };
llf_gate   *llf_gate_new(llf_dialect d, const llf_verdict_cfg *cfg, int hold_text);
int         llf_gate_event(llf_gate *g, const char *event, const char *data, size_t len);
int         llf_gate_end(llf_gate *g);        /* the stream ended while held */
int         llf_gate_started(const llf_gate *g); /* the answer's first event came (first-token limit met) */
const char *llf_gate_problem(const llf_gate *g);
void        llf_gate_free(llf_gate *g);

/* A dialect-d stream after it went live, its bytes as they come (p: the
 * caller's parser, from the stream's first byte): "error_event" once an
 * event is the provider's error (the answer failed after it began), else
 * NULL. Watched, not changed; parses only an event that names an error, so
 * it is cheap on a stream's text. */
const char *llf_stream_watch(struct llf_sse *p, llf_dialect d, const char *bytes, size_t n);

/* A success that announces its model's retirement (Deprecation or Sunset
 * headers): 1 and the date text (or "") in date. */
int llf_deprecation(const llf_buf *head, char *date, size_t datelen);

/* Retry-After (seconds or HTTP date) and retry-after-ms in ms, or -1. */
long llf_retry_after_ms(const llf_buf *head, time_t now);

#endif
