/* dialect.h — what llmfallback knows about each API dialect.
 *
 * A dialect is a wire format: OpenAI chat completions (also spoken by
 * OpenRouter, Groq, Mistral, DeepSeek, Together, xAI, Fireworks, Ollama…),
 * Anthropic messages, Gemini generateContent. Each dialect_*.c fills one
 * descriptor: how its completion operation is named in a URL, how it
 * authenticates, where the model lives, and what a success body looks like. */
#ifndef LLF_DIALECT_H
#define LLF_DIALECT_H

#include <cjson/cJSON.h>

#include "buf.h"

typedef enum { LLF_OPENAI = 0, LLF_ANTHROPIC, LLF_GEMINI, LLF_NDIALECTS } llf_dialect;

/* Result of a translation. */
enum {
    LLF_TR_OK = 0,
    LLF_TR_INCOMPATIBLE = 1,   /* the target cannot serve this faithfully: skip it */
    LLF_TR_ERROR = -1,         /* malformed input or out of memory */
};

/* Why a translation refused, for the log (never contains request content
 * beyond field names). */
typedef struct llf_terr {
    char detail[160];
} llf_terr;

void llf_terr_set(llf_terr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A name taken from a request for a detail (which reaches the log): itself
 * when it reads as an API name (letters, digits, "_.+/-", at most 40), else
 * a placeholder, so that no text of the program's gets logged. */
const char *llf_terr_word(const char *s);

/* In a hub request: why no member of another dialect may be sent it (a
 * string), when the program's request still has a hub form to be judged
 * by (its JSON schema, its limits): rewrite.c refuses the translation. */
#define LLF_HUB_REFUSED "llf:refused"

/* In a hub request's tool message: true when the tool failed (Anthropic's
 * tool_result is_error, a Gemini functionResponse with only an "error").
 * OpenAI has no such field: its member is sent the text after "Error: "
 * (llf_hub_tool_errors); Gemini's a response {"error": ...}. */
#define LLF_HUB_TOOL_ERROR "llf:is_error"

/* In a hub request made from a Gemini or an Anthropic one: the function
 * names it changed for the members of other dialects, since OpenAI takes
 * ^[a-zA-Z0-9_-]{1,64}$ only, where Gemini also takes '.' and ':'
 * ("files.read", "mcp:search") and Anthropic names of up to 128 bytes
 * (Claude Code's "mcp__plugin_<plugin>_<server>__<tool>"); an object of
 * each name as sent -> the program's. A member's answer has its calls
 * renamed back (llf_hub_names_back) before it reaches the program. */
#define LLF_HUB_NAMES "llf:names"

/* The hub's function names that OpenAI refuses (and Anthropic, those it
 * refuses of them) made names they take, wherever the request names them
 * (its tools, its tool_choice, its history's calls), and LLF_HUB_NAMES the
 * way back: the program is answered with its own names. (A member of the
 * program's dialect is sent the program's body.) 0, or -1 on no memory. */
int llf_hub_names_for_others(cJSON *hub);

/* Each tool call of a hub answer or stream chunk (choices[].message or
 * .delta) whose function name names (LLF_HUB_NAMES; NULL: none) holds,
 * given the program's name. 0, -1 on no memory. */
int llf_hub_names_back(cJSON *answer, const cJSON *names);

/* A hub request's tool messages made ready for an OpenAI member: each
 * marked LLF_HUB_TOOL_ERROR unmarked, its text after "Error: ". 0, -1 on
 * no memory. */
int llf_hub_tool_errors(cJSON *body);

/* A translated request whose last turn as sent has this role (NULL: none):
 * the assistant's is a prefill, which Anthropic continues (the answer is
 * the rest of it) where OpenAI and Gemini answer after it with a message
 * of their own, so between dialects the answer would change its meaning.
 * What is sent decides, not the hub's last message: a system message after
 * the assistant's turn goes to Anthropic's system, an empty user turn is
 * left out, and an empty assistant turn is too. LLF_TR_INCOMPATIBLE saying
 * so, else LLF_TR_OK. */
int llf_prefill_role(const char *role, llf_terr *e);

/* The reason a hub request carries that no member of another dialect may be
 * sent it, or NULL. */
const char *llf_hub_refused(const cJSON *hub);

/* A hub request asking what only OpenAI's own dialect carries: output
 * other than text ("audio", a "modalities" entry other than "text"), a
 * call of the deprecated "functions" (its answer's "function_call" has no
 * form in the others, and tools would come back as tool calls the program
 * did not ask for), or a web search ("web_search_options", which OpenAI's
 * search models run themselves). LLF_TR_INCOMPATIBLE naming it, else
 * LLF_TR_OK. */
int llf_hub_openai_only(const cJSON *hub, llf_terr *e);

/* A hub tool_choice that limits which tools may be called, OpenAI's
 * {"type": "allowed_tools", "allowed_tools": {"mode": "auto"|"required",
 * "tools": [{"type": "function", "function": {"name": ...}}...]}}, for a
 * dialect that names one tool or any: *allowed its list of tools (NULL for
 * any other choice: every tool is offered) and *required its mode.
 * LLF_TR_INCOMPATIBLE (naming it) for a mode OpenAI does not have, a list
 * naming none of the request's tools, or a tool_choice object of a type
 * no other dialect has; else LLF_TR_OK. */
int llf_hub_allowed_tools(const cJSON *hub, const cJSON **allowed, int *required, llf_terr *e);

/* Is hub tool t offered under allowed (a list from llf_hub_allowed_tools;
 * NULL: every tool is)? */
int llf_hub_tool_offered(const cJSON *allowed, const cJSON *t);

/* to_hub run on req with its null top-level fields as not given (every
 * dialect's SDKs write "tool_choice": null, "system": null for it): on req
 * itself when it has none, else on a copy without them. */
int llf_given_to_hub(int (*to_hub)(const cJSON *, const char *, cJSON **, llf_terr *), const cJSON *req,
                     const char *url_model, cJSON **out, llf_terr *e);
/* A tool-call id as Anthropic takes one (tool_use.id, tool_result.
 * tool_use_id: ^[a-zA-Z0-9_-]+$, else a 400): id itself when it is one,
 * else id with every other byte '_' -- one mapping, for whole answers and
 * streams alike, so that a call and the result answering it, in one turn
 * and the next, stay paired (Kimi's
 * "functions.get_weather:0" is "functions_get_weather_0"). No id (NULL or
 * "") gets one made up as Gemini's calls are, call_<response_id>_<n>
 * (llf_gemini_call_id). malloc'ed; NULL on no memory. */
char *llf_anthropic_tool_id(const char *id, const char *response_id, int n);
/* Is c a byte of ^[a-zA-Z0-9_-]$, all that Anthropic's tool ids and OpenAI's
 * and Anthropic's function names may hold? */
int llf_name_byte(char c);

typedef struct llf_dialect_ops {
    const char *name;
    /* Does the path after a provider's base path name a completion operation?
     * rest starts with '/', has no query. On success sets *model (malloc'ed;
     * only for dialects that carry the model in the URL, else NULL) and
     * *stream when the operation itself streams. */
    int (*match_op)(const char *rest, char **model, int *stream);
    /* Append the operation's path (from '/', no query) for model to out. */
    int (*op_path)(llf_buf *out, const char *model, int stream);
    /* Query a streaming request needs (Gemini's alt=sse), or NULL. */
    const char *stream_query;
    /* Add this dialect's authentication and required headers for key. */
    int (*auth_headers)(llf_headers *h, const char *key);
    /* Does the request body carry the model (1), or the URL (0)? */
    int model_in_body;
    /* Does the request body ask for a stream? */
    int (*body_streams)(const cJSON *body);
    /* Does a 2xx body have this dialect's success shape? */
    int (*success_shape)(const cJSON *body);

    /* Translation through the hub format, an OpenAI chat-completions request
     * or response held as cJSON. All four take memory and return new memory
     * (*out, owned by the caller) and never modify their input.
     *
     * req_to_hub: a request body of this dialect (url_model: the model named
     *   by the URL, for dialects that carry it there, else NULL) → hub request.
     * req_from_hub: hub request → request body of this dialect for model.
     *   LLF_TR_INCOMPATIBLE (with e->detail) when this dialect cannot express
     *   the request faithfully (n > 1 to Anthropic, audio input, …).
     * resp_to_hub: a 2xx response body of this dialect → hub chat.completion.
     * resp_from_hub: hub chat.completion → response body of this dialect;
     *   model is what the response reports as its model. */
    int (*req_to_hub)(const cJSON *req, const char *url_model, cJSON **out, llf_terr *e);
    int (*req_from_hub)(const cJSON *hub, const char *model, cJSON **out, llf_terr *e);
    int (*resp_to_hub)(const cJSON *resp, cJSON **out, llf_terr *e);
    int (*resp_from_hub)(const cJSON *hub, const char *model, cJSON **out, llf_terr *e);
    /* A request body of this dialect fitted to what model accepts (fields
     * it would refuse with a 400, an output limit above its own): with
     * apply 0 only counted, with apply 1 changed. The number of changes, or
     * -1 on no memory. NULL: nothing to fit. */
    int (*fit)(cJSON *body, const char *model, int apply);
    /* A program's own request body of this dialect, for a member of it
     * (the body goes on as sent, but for fit()), that model would refuse
     * for what it holds rather than for a field fit() could change:
     * LLF_TR_INCOMPATIBLE with e->detail, else LLF_TR_OK. NULL: none. */
    int (*refuses)(const cJSON *body, const char *model, llf_terr *e);
    /* The stop sequences of the program's request (hub) that fit() (or
     * req_from_hub) left out for model, applied to a 2xx answer of this
     * dialect: each answer's text cut where the first of them begins, as a
     * server that took them would have stopped, saying so as this dialect
     * says it stopped at a sequence (naming it where it can). 1 changed, 0
     * not, -1 on no memory. NULL: every stop sequence is sent. */
    int (*stop_at)(const char *model, const cJSON *hub, llf_buf *body);
    /* The output limit a translated request that sets none is sent with
     * (Anthropic requires one), for model. NULL: none is sent. */
    long (*default_output)(const char *model);
} llf_dialect_ops;

const llf_dialect_ops *llf_dialect_ops_of(llf_dialect d);
int llf_dialect_from_name(const char *name);   /* -1 when unknown */

extern const llf_dialect_ops llf_dialect_openai;
extern const llf_dialect_ops llf_dialect_anthropic;
extern const llf_dialect_ops llf_dialect_gemini;

/* Does a Gemini answer's part hold content other than text or a function
 * call: an image or audio (inlineData), a file (fileData), code the model
 * ran and its result (executableCode, codeExecutionResult)? Such parts are
 * the answer to a Gemini program, though the hub form has no place for them
 * (a thought is none of the answer). llf_gemini_beyond_text: does the first
 * candidate of the answer resp hold one? */
int llf_gemini_part_beyond_text(const cJSON *part);
int llf_gemini_beyond_text(const cJSON *resp);

/* An OpenAI reasoning model (o-series, gpt-5): it streams nothing of its
 * thinking, so its answer's first event may come minutes after its role. */
int llf_openai_reasoning_model(const char *model);

#endif
