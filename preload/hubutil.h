/* hubutil.h — small helpers the dialect translators share for building and
 * reading cJSON (hub format: OpenAI chat completions). */
#ifndef LLF_HUBUTIL_H
#define LLF_HUBUTIL_H

#include <cjson/cJSON.h>

const cJSON *llf_get(const cJSON *o, const char *key);
const char  *llf_get_str(const cJSON *o, const char *key);   /* NULL unless a string */
/* Does the object o carry an error, in the "error" member every dialect
 * reports one in? Not when it is absent, null, false or "": some
 * OpenAI-compatible servers write "error": null in every stream chunk. */
int llf_names_error(const cJSON *o);
/* Add a copy of src[key] to dst as dkey when present and not null (every
 * dialect's null means "not given", and a null sent on is refused: 400
 * "top_p: Input should be a valid number"). 0 ok, -1 no memory. */
int llf_copy(cJSON *dst, const char *dkey, const cJSON *src, const char *key);
/* o's members that are null deleted: every dialect's "not given" (SDKs
 * write "tool_choice": null, "top_p": null). */
void llf_drop_nulls(cJSON *o);
/* Add an item, deleting it on failure. 0 ok, -1. */
int llf_add(cJSON *o, const char *key, cJSON *item);
int llf_append(cJSON *arr, cJSON *item);
/* The same for an item held in a variable: *item is set to NULL once it is no
 * longer the caller's (added, or deleted), so that an error path deletes just
 * what is still its own, whichever step failed. */
int llf_add_own(cJSON *o, const char *key, cJSON **item);
int llf_append_own(cJSON *arr, cJSON **item);
/* {"type": "text", "text": t}: a hub (OpenAI) text part, and an Anthropic
 * text block alike. NULL on no memory. */
cJSON *llf_text_part(const char *t);
/* A hub image part, {"type": "image_url", "image_url": {"url": url}}. NULL
 * on no memory. */
cJSON *llf_image_part(const char *url);
/* A hub part holding a PDF, as OpenAI's Chat Completions takes one:
 * {"type": "file", "file": {"filename": name, "file_data":
 * "data:application/pdf;base64,<b64>"}}. Every dialect takes a PDF inline
 * (Anthropic's document block, Gemini's inlineData); a filename is always
 * given, since OpenAI refuses file_data without one. NULL on no memory. */
cJSON *llf_pdf_part(const char *filename, const char *b64);
/* The base64 bytes of a hub part that is a PDF given inline (a file part
 * whose file_data is a data URL of application/pdf), with its filename in
 * *filename (NULL when it has none); NULL for any other part (a file_id,
 * which only OpenAI can read, or another type of file). */
const char *llf_pdf_data(const cJSON *part, const char **filename);
/* The text of OpenAI message content: a string, or text parts joined by sep. */
char *llf_content_text(const cJSON *content, const char *sep);
/* The type of the first part of a content list (OpenAI's parts, Anthropic's
 * blocks) that is not text ("?" for one of no type), or NULL when there is
 * none (or content is no list). */
const char *llf_content_other(const cJSON *content);
/* o's "content", when it is an array of chunks (Mistral's Magistral answers
 * and streams so: thinking, then text), made its text (llf_content_text,
 * joined with nothing), or when it has none, null with empty_null, else "".
 * 0 (also for content that is no array), -1 on no memory. */
int llf_content_flatten(cJSON *o, int empty_null);
/* Base64 (RFC 4648's alphabet; white space skipped) decoded a piece at a
 * time, st zeroed at first: up to cap bytes from *p (which advances,
 * towards end) into out; returns how many. It stops at padding or at a
 * byte that is not base64, *p left there. */
typedef struct llf_b64 {
    unsigned acc;
    int bits;
} llf_b64;
size_t llf_b64_decode(llf_b64 *st, const char **p, const char *end, unsigned char *out, size_t cap);
/* Split "data:<mime>;base64,<data>"; 1 on success (pointers into url). */
int llf_data_url(const char *url, const char **mime, size_t *mimelen, const char **data);
/* A hub tool call {"id", "type": "function", "function": {"name",
 * "arguments"}}, the arguments being args serialised ("{}" when absent), as
 * every dialect's call (tool_use, functionCall) becomes. NULL on no memory. */
cJSON *llf_hub_tool_call(const char *id, const char *name, const cJSON *args);
/* An id for the n-th function call of a Gemini answer, which gives calls
 * none: call_<responseId>_<n> (letters, digits, _ and - of the id), unique
 * across the turns of a conversation (Anthropic refuses a history whose
 * tool_use ids repeat); call_<n> without a responseId. */
void llf_gemini_call_id(char *out, size_t size, const char *response_id, int n);
/* 32 hex digits of s (FNV-1a forwards and backwards), for an id too long
 * for a server, shortened the same wherever it appears: ids are no secret,
 * and the logic links no libcrypto. */
void llf_short_hash(const char *s, char out[33]);
/* A Gemini finishReason (NULL: none yet) as a hub finish_reason, calls
 * telling whether the answer made function calls: one mapping for answers
 * whole and streamed, and for the stream gate. */
const char *llf_gemini_finish(const char *reason, int calls);
/* The thoughtSignature Gemini's documentation gives for a function call it
 * did not make itself (ai.google.dev/gemini-api/docs/thought-signatures):
 * Gemini 3 refuses a model turn whose first call has no signature, 400
 * "Function call is missing a thought_signature in functionCall parts". */
#define LLF_GEMINI_SKIP_SIGNATURE "skip_thought_signature_validator"
/* What a member told to answer in JSON mode without a schema is told
 * (dialect_anthropic.c's system text, dialect_openai.c's ask_json): one
 * sentence, so that the two say the same. */
#define LLF_JSON_ONLY_TEXT "Respond with a single JSON object and nothing else."
/* An Anthropic stop_reason (NULL: none) as a hub finish_reason, for answers
 * whole and streamed. */
const char *llf_anthropic_finish(const char *stop_reason);
/* An Anthropic usage's input tokens as the hub counts them: input_tokens
 * plus the cache's (cache_creation_input_tokens, cache_read_input_tokens),
 * which input_tokens leaves out; -1 when it has none of the three. */
double llf_anthropic_input(const cJSON *usage);
/* o[key] when it is a number, else dflt. */
double llf_num(const cJSON *o, const char *key, double dflt);
/* Usage details, in the hub as OpenAI has them: the prompt's tokens read
 * from a cache (prompt_tokens_details.cached_tokens, which prompt_tokens
 * counts) and the output's reasoning tokens
 * (completion_tokens_details.reasoning_tokens, which completion_tokens
 * counts); -1 for one not given. A detail is carried only where its
 * source gave it: a program pricing cache reads must not be told "none"
 * when nobody said. */
double llf_hub_cached(const cJSON *usage);
double llf_hub_reasoning(const cJSON *usage);
/* A hub usage object of those counts, each detail only when >= 0. NULL on
 * no memory. */
cJSON *llf_hub_usage(double in, double out, double total, double cached, double reasoning);
/* An Anthropic usage's input of a hub prompt count: input_tokens counts
 * only what no cache served, so cached (when known, >= 0) moves out of it
 * into cache_read_input_tokens and the sum stays the prompt. 0, -1. */
int llf_anthropic_usage_input(cJSON *u, double in, double cached);
/* A Gemini usageMetadata of hub counts: thoughtsTokenCount is apart from
 * candidatesTokenCount (totalTokenCount adds both), cachedContentTokenCount
 * is within promptTokenCount, as in the hub. NULL on no memory. */
cJSON *llf_gemini_usage(double in, double out, double total, double cached, double reasoning);
double llf_now_s(void);
/* An answer's id made up for a Gemini answer that has no responseId (a
 * Gemini-compatible server's): "gemini-" and 16 hex digits, random, so
 * that the ids of its calls (llf_gemini_call_id) differ from one answer to
 * the next, as the responseIds they come from do (Anthropic refuses a
 * history whose tool_use ids repeat). out has room for 24 bytes. */
void llf_gemini_made_id(char out[24]);
double llf_mono_ms(void);   /* CLOCK_MONOTONIC in milliseconds: for durations */
int llf_self_pid(void);     /* getpid(), without a system call after the first */
/* A JSON number as a long, clamped to +-1e15 (token counts and limits never
 * come near; converting a double beyond long's range would be undefined, and
 * sums of clamped values cannot overflow). 0 for NaN. */
long llf_num_long(double v);
/* Where the top-level member key of the JSON object text p[0..n) has its
 * value, when that value is a string: [*start, *end) spans it with its
 * quotes. 1 found, 0 not (or not a string, or the key written with escapes).
 * The first such member, as cJSON finds it. */
int llf_json_top_string(const char *p, size_t n, const char *key, size_t *start, size_t *end);

/* p[0..n) as exactly one JSON value (white space around it only), or NULL.
 * cJSON_Parse stops after the first value, and took `{"a":1} thanks!` for
 * JSON. */
cJSON *llf_json_parse_exact(const char *p, size_t n);
/* cJSON_ParseWithLength and llf_json_parse_exact taking a raw control
 * character in a string (printed back escaped) or between tokens, as cJSON
 * upstream does and ours otherwise refuses: for text translated when it is
 * too late to judge it (a stream's events after it went live), which the
 * program had better get mended than cut short. */
cJSON *llf_json_parse_raw_controls(const char *p, size_t n);
cJSON *llf_json_parse_exact_raw_controls(const char *p, size_t n);
/* A copy of the JSON text p[0..n) (n bytes and a NUL) in which each \u
 * escape of a UTF-16 surrogate (\uD800-\uDFFF) that is not half of a pair
 * is \ufffd, the replacement character; NULL when p has none (or on no
 * memory). cJSON refuses a lone surrogate, which Python's json and the
 * providers' SDKs take: an answer with one ("Hello \ud83d there", a model's
 * emoji cut in half) is still an answer. */
char *llf_json_mend_surrogates(const char *p, size_t n);
/* parse(p, n), and when that fails on text with a lone surrogate, parse of
 * it mended (llf_json_mend_surrogates): for answers read to be judged or
 * translated (the program still gets its own answer's bytes as they came). */
cJSON *llf_json_parse_mended(cJSON *(*parse)(const char *, size_t), const char *p, size_t n);
/* A key given twice in one object of j, at any depth: cJSON keeps both and
 * every lookup sees the first, where most servers take the last. 1 (and the
 * name in *dup) when there is one, 0 none, -1 out of memory. */
int llf_json_dup_key(const cJSON *j, const char **dup);
/* What follows a JSON value that ends at end, up to limit: the first byte
 * that is not white space, or NULL when there is none. */
const char *llf_json_trailing(const char *end, const char *limit);
/* Characters (code points) in n bytes of UTF-8, as JSON Schema's string
 * lengths and refusal_max_chars count them: the bytes that do not continue
 * a sequence (10xxxxxx). */
size_t llf_utf8_count(const char *p, size_t n);

#endif
