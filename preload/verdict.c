/* verdict.c — judging responses (see verdict.h).
 *
 * Transport failures and the statuses that mean "this provider cannot answer
 * now" (408, 429, 5xx, 529) or "cannot answer us" (401, 402, 403, and a
 * 404/410 that names the model) are worth a fallback; a plain 400 is the
 * request's own fault and goes back to the program unchanged. A 2xx must have
 * its dialect's shape. */
#include "verdict.h"

#include "forklock.h"
#include "hubutil.h"
#include "jsonmem.h"
#include "schema.h"
#include "sse.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

extern const llf_curl_api *llf_curl;

int llf_verdict_request_own(const llf_verdict *v)
{
    return v->outcome == LLF_HTTP_ERROR && v->reason &&
           (strcmp(v->reason, "context") == 0 || strcmp(v->reason, "thinking_history") == 0);
}

int llf_verdict_credential(const llf_verdict *v)
{
    if (v->outcome == LLF_TRANSPORT_ERROR)
        return v->reason && strcmp(v->reason, "local_tls") == 0;
    return v->outcome == LLF_HTTP_ERROR && v->reason &&
           (strcmp(v->reason, "auth") == 0 || strcmp(v->reason, "billing") == 0 ||
            strcmp(v->reason, "forbidden") == 0);
}

const char *llf_outcome_name(llf_outcome o)
{
    static const char *const names[] = {"ok",        "http_error", "transport_error",
                                        "invalid_body", "empty",   "refusal",
                                        "schema",    "truncated",  "degraded",
                                        "redirect"};
    return (unsigned)o < sizeof names / sizeof names[0] ? names[o] : "unknown";
}

/* The number s begins with (after any whitespace), read as cJSON reads
 * one: in the C locale, whatever the program set (strtod follows
 * LC_NUMERIC: in a program that set de_DE, "1.5s" was 1 and ".5s"). -1
 * when there is none; *end: what follows it. */
static double number_at(const char *s, const char **end)
{
    cJSON *j = cJSON_ParseWithOpts(s, end, 0);
    double v = cJSON_IsNumber(j) ? j->valuedouble : -1;
    cJSON_Delete(j);
    return v;
}

long llf_retry_after_ms(const llf_buf *head, time_t now)
{
    size_t n;
    char tmp[64];
    const char *v = llf_head_get(head, "retry-after-ms", &n);
    if (v && n && n < sizeof tmp) {
        memcpy(tmp, v, n);
        tmp[n] = '\0';
        const char *end = NULL;
        double ms = number_at(tmp, &end);
        if (end && *end == '\0' && ms >= 0 && ms < 86400e3)
            return (long)ms;
    }
    v = llf_head_get(head, "retry-after", &n);
    if (!v || !n || n >= sizeof tmp)
        return -1;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    char *end;
    long s = strtol(tmp, &end, 10);
    if (*end == '\0' && end != tmp)
        return s >= 0 && s < 86400 ? s * 1000 : -1;
    time_t when = llf_curl && llf_curl->getdate ? llf_curl->getdate(tmp, NULL) : (time_t)-1;
    if (when == (time_t)-1)
        return -1;
    return when <= now ? 0 : (long)(when - now) * 1000;
}

static llf_verdict transport(const llf_resp *r)
{
    llf_verdict v = {LLF_TRANSPORT_ERROR, "transport", 1, -1};
    if (r->client_gone)   /* the program left (relay): nobody to fall back for */
        return (llf_verdict){LLF_TRANSPORT_ERROR, "client_gone", 0, -1};
    if (r->too_large && !r->delivered)   /* (ours: another provider's answer may fit) */
        return (llf_verdict){LLF_INVALID_BODY, "too_large", 1, -1};
    switch (r->curlcode) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: v.reason = "resolve"; break;
    case CURLE_COULDNT_CONNECT: v.reason = "connect"; break;
    case CURLE_OPERATION_TIMEDOUT: v.reason = r->first_byte_timeout ? "first_byte_timeout" : "timeout"; break;
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        /* A CA file (ours, or the program's --cacert) or the program's
         * client certificate that cannot be read: this side's files, no
         * word on the provider's health; another member (its own trust,
         * no client certificate) may still be reached. */
        v.reason = "local_tls";
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH: v.reason = "tls"; break;
    case CURLE_SEND_ERROR: v.reason = "send"; break;
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3: v.reason = "recv"; break;
    case CURLE_GOT_NOTHING: v.reason = "empty_reply"; break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        /* A reply that is not HTTP at all (libcurl: "Received HTTP/0.9 when
         * not allowed") is the provider's, or whatever answers in its place;
         * a protocol the program's own settings rule out is the program's. */
        if (!strstr(r->errmsg, "HTTP/0.9")) {
            v.reason = "local";
            v.fallback = 0;
            break;
        }
        /* fall through */
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:   /* a body its own Content-Encoding does not decode */
        v.reason = "bad_reply";
        break;
    case CURLE_ABORTED_BY_CALLBACK:
        /* Ours when the first byte never came; the program's own otherwise. */
        v.reason = r->first_byte_timeout ? "first_byte_timeout" : "aborted";
        v.fallback = r->first_byte_timeout;
        break;
    default:
        /* The program's doing (write/read callback errors, bad options):
         * another provider would fail the same way. */
        v.reason = "local";
        v.fallback = 0;
        break;
    }
    return v;
}

/* (the statuses whose verdict below reads r->body: context_exceeded,
 * account_400, names_model, and a 429's insufficient_quota and
 * body_retry_ms) */
int llf_error_needs_body(long status)
{
    return status == 400 || status == 404 || status == 410 || status == 413 || status == 429;
}

/* Each dialect's way of saying the prompt does not fit the model's window. */
static int context_exceeded(const llf_resp *r)
{
    static const char *const signs[] = {
        "context_length_exceeded", "maximum context length", "prompt is too long",
        "exceeds the maximum number of tokens", "input token count", "context window",
        "too many tokens", "exceed context limit" /* Anthropic: input length and max_tokens */, NULL};
    const char *b = r->body.p ? r->body.p : "";
    for (const char *const *s = signs; *s; s++)
        if (strcasestr(b, *s))
            return 1;
    return 0;
}

/* A 400 that is about the account, not the request, in the words each
 * provider uses for it (another provider would answer): Gemini's invalid
 * key (400 INVALID_ARGUMENT, reason API_KEY_INVALID) and unsupported
 * region (400 FAILED_PRECONDITION), Anthropic's spent credit (400
 * invalid_request_error). NULL for a 400 that is the request's own. */
static const char *account_400(const llf_resp *r)
{
    static const struct {
        const char *sign, *reason;
    } signs[] = {{"API_KEY_INVALID", "auth"},
                 {"API key not valid", "auth"},
                 {"API key expired", "auth"},
                 {"credit balance is too low", "billing"},
                 {"User location is not supported", "forbidden"}};
    const char *b = r->body.p ? r->body.p : "";
    for (size_t i = 0; i < sizeof signs / sizeof signs[0]; i++)
        if (strstr(b, signs[i].sign))
            return signs[i].reason;
    return NULL;
}

/* The wait an error body asks for when no header does: Gemini's
 * google.rpc.RetryInfo ("retryDelay": "38s" in error.details), and
 * OpenAI's "Please try again in 6ms" / "in 1.5s" in error.message. -1 none. */
static long body_retry_ms(const llf_resp *r)
{
    /* (parsed only where one of them is: a 503 on every failover) */
    if (!r->body.p || (!memmem(r->body.p, r->body.n, "retryDelay", 10) &&
                       !memmem(r->body.p, r->body.n, "try again in ", 13)))
        return -1;
    cJSON *j = llf_json_parse_mended(llf_json_parse_exact, r->body.p, r->body.n);   /* (a lone surrogate is JSON) */
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    double ms = -1;
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(err, "details"))
    {
        const cJSON *rd = cJSON_GetObjectItemCaseSensitive(d, "retryDelay");
        const char *end = NULL;
        double s = cJSON_IsString(rd) ? number_at(rd->valuestring, &end) : -1;
        if (s >= 0 && end && strcmp(end, "s") == 0) {
            ms = s * 1000;
            break;
        }
    }
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(err, "message");
    const char *at = ms < 0 && cJSON_IsString(msg) ? strstr(msg->valuestring, "try again in ") : NULL;
    if (at) {
        const char *end = NULL;
        double x = number_at(at + 13, &end);
        ms = x < 0 || !end ? -1 : strncmp(end, "ms", 2) == 0 ? x : *end == 's' ? x * 1000 : -1;
    }
    cJSON_Delete(j);
    return ms >= 0 && ms < 86400e3 ? (long)ms : -1;
}

static int names_model(const llf_resp *r, const char *model)
{
    const char *b = r->body.p ? r->body.p : "";
    return (model && *model && strstr(b, model)) || strstr(b, "model_not_found") ||
           strstr(b, "model:");
}

static llf_verdict bad(llf_outcome o, const char *reason)
{
    llf_verdict v = {o, reason, 1, -1};
    return v;
}

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    return s;
}

/* The JSON the program asked for: 0 none, 1 any object, 2 with a schema. */
static int json_wanted(const cJSON *hub_req, const cJSON **schema)
{
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(hub_req, "response_format");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(rf, "type");
    *schema = NULL;
    if (!cJSON_IsString(t))
        return 0;
    if (strcmp(t->valuestring, "json_object") == 0)
        return 1;
    if (strcmp(t->valuestring, "json_schema") == 0) {
        *schema = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rf, "json_schema"),
                                                   "schema");
        return *schema ? 2 : 1;
    }
    return 0;
}

static int program_limited(const cJSON *hub_req)
{
    return cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(hub_req, "max_tokens")) ||
           cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(hub_req, "max_completion_tokens"));
}

/* glibc's regexec takes a lock inside the shared compiled pattern: a child
 * forked while another thread was matching would find it held for ever. So
 * matching holds ours, which fork() takes first (forklock.h): no thread is
 * inside regexec when the process is copied. */
static pthread_mutex_t re_lock = LLF_FORKLOCK_INIT;
static pthread_once_t re_once = PTHREAD_ONCE_INIT;
static void re_atfork(void) { llf_forklock(&re_lock); }

static int textual_refusal(const char *text, const llf_verdict_cfg *cfg)
{
    if (!cfg || !cfg->npatterns || (long)llf_utf8_count(text, strlen(text)) > cfg->refusal_max_chars)
        return 0;
    pthread_once(&re_once, re_atfork);
    int hit = 0;
    pthread_mutex_lock(&re_lock);
    for (size_t i = 0; i < cfg->npatterns && !hit; i++)
        hit = regexec(&cfg->patterns[i], text, 0, NULL, 0) == 0;
    pthread_mutex_unlock(&re_lock);
    return hit;
}

static int is_str(const cJSON *j, const char *s)
{
    return cJSON_IsString(j) && strcmp(j->valuestring, s) == 0;
}

/* Does a function call's "arguments" hold a JSON object's text (as every
 * API defines them; "\"x\"" is JSON, and no arguments)? (A lone surrogate
 * escape in it is JSON, as in the body: llf_json_parse_mended.) */
static int json_arguments(const cJSON *fn)
{
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(fn, "arguments");
    cJSON *parsed = cJSON_IsString(args) ? llf_json_parse_mended(llf_json_parse_exact, args->valuestring,
                                                                 strlen(args->valuestring))
                                         : NULL;
    int ok = cJSON_IsObject(parsed);
    cJSON_Delete(parsed);
    return ok;
}

/* llf_judge_answer of answer, whose first choice is choice and its message
 * msg; beyond: the answer holds content its hub form does not show (a
 * Gemini image, its code run), which counts as audio does; text: the
 * answer's text. */
static llf_verdict judge_text(const cJSON *answer, const cJSON *choice, const cJSON *msg, const cJSON *hub_req,
                              const llf_verdict_cfg *cfg, int beyond, const char *text)
{
    int on_empty = cfg ? cfg->empty : 1, on_refusal = cfg ? cfg->refusal : 1;
    int on_json = cfg ? cfg->json : 1, on_trunc = cfg ? cfg->truncated_fallback : 0;
    const cJSON *finish = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
    const char *fr = cJSON_IsString(finish) ? finish->valuestring : "";
    const cJSON *refusal = cJSON_GetObjectItemCaseSensitive(msg, "refusal");
    const cJSON *calls = cJSON_GetObjectItemCaseSensitive(msg, "tool_calls");
    /* the deprecated function call, still answered to a program that sent
     * "functions": a call like a tool call */
    const cJSON *legacy = cJSON_GetObjectItemCaseSensitive(msg, "function_call");
    int ncalls = cJSON_GetArraySize(calls) + cJSON_IsObject(legacy);
    /* audio asked for comes in place of the text (its transcript beside it) */
    int audio = beyond || cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(msg, "audio"));
    if (!choice)
        return cfg && !cfg->invalid_body ? (llf_verdict){LLF_OK, "ok", 0, -1}
                                         : bad(LLF_INVALID_BODY, "no_choices");
    /* An error after the answer began, in a 200 (OpenRouter's when the
     * model's provider fails mid-generation: finish_reason "error" and the
     * error in the choice, or beside the choices; DeepSeek's
     * "insufficient_system_resource", its inference interrupted for want
     * of resources): what text there is was cut short. */
    if ((!cfg || cfg->invalid_body) &&
        (strcmp(fr, "error") == 0 || strcmp(fr, "insufficient_system_resource") == 0 ||
         llf_names_error(choice) || llf_names_error(answer)))
        return bad(LLF_INVALID_BODY, "error_in_body");
    /* OpenAI's refusal comes in place of the content, and of the JSON asked
     * for: with refusal checks off it is the answer, not an empty one, and
     * it is not judged as JSON (the program gets its text) */
    int refused = cJSON_IsString(refusal) && *skip_space(refusal->valuestring);
    if (on_refusal && refused)
        return bad(LLF_REFUSAL, "refusal");
    if (on_refusal && strcmp(fr, "content_filter") == 0)
        return bad(LLF_REFUSAL, "content_filter");
    if (on_empty && !refused && !*skip_space(text) && ncalls == 0 && !audio)
        return bad(LLF_EMPTY, "no_content");
    /* A function call names its function: one without (a member's tool_use
     * or functionCall with a null name, translated) is no call at all. */
    if (!cfg || cfg->invalid_body) {
        for (const cJSON *c = calls ? calls->child : NULL; c; c = c->next) {
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(c, "type");
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "function"), "name");
            if ((!type || is_str(type, "function")) && !(cJSON_IsString(name) && *name->valuestring))
                return bad(LLF_INVALID_BODY, "wrong_shape");
        }
        const cJSON *lname = cJSON_GetObjectItemCaseSensitive(legacy, "name");
        if (cJSON_IsObject(legacy) && !(cJSON_IsString(lname) && *lname->valuestring))
            return bad(LLF_INVALID_BODY, "wrong_shape");
    }
    if (on_json) {
        /* (a custom tool's input is free text, not JSON arguments) */
        for (const cJSON *c = calls ? calls->child : NULL; c; c = c->next) {
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(c, "type");
            if ((!type || is_str(type, "function")) && !json_arguments(cJSON_GetObjectItemCaseSensitive(c, "function")))
                return bad(LLF_SCHEMA, "tool_arguments");
        }
        if (cJSON_IsObject(legacy) && !json_arguments(legacy))
            return bad(LLF_SCHEMA, "tool_arguments");
        const cJSON *schema;
        int want = json_wanted(hub_req, &schema);
        if (want && ncalls == 0 && !refused && !audio) {
            cJSON *j = llf_json_parse_mended(llf_json_parse_exact, text, strlen(text));
            int rc = !j ? 0 : want == 2 ? llf_schema_validate(schema, j, NULL, 0) : 1;
            cJSON_Delete(j);
            if (!j)
                return bad(LLF_SCHEMA, "not_json");
            if (rc == 0)
                return bad(LLF_SCHEMA, "schema");
        }
    }
    if (on_refusal && ncalls == 0 && textual_refusal(text, cfg))
        return bad(LLF_REFUSAL, "textual");
    if (on_trunc && strcmp(fr, "length") == 0 && !program_limited(hub_req))
        return bad(LLF_TRUNCATED, "length");
    return (llf_verdict){LLF_OK, "ok", 0, -1};
}

/* The content an answer's text is: a string, or (Mistral's Magistral, and
 * OpenAI-compatible servers that answer as a request is written) an array
 * of chunks, whose text parts are the text and whose thinking is not. */
static llf_verdict judge_answer(const cJSON *answer, const cJSON *hub_req, const llf_verdict_cfg *cfg, int beyond)
{
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(answer, "choices"), 0);
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(choice, "message");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
    if (!cJSON_IsArray(content))
        return judge_text(answer, choice, msg, hub_req, cfg, beyond,
                          cJSON_IsString(content) ? content->valuestring : "");
    char *text = llf_content_text(content, "");
    llf_verdict v = text ? judge_text(answer, choice, msg, hub_req, cfg, beyond, text)
                         : bad(LLF_INVALID_BODY, "no_memory");
    free(text);
    return v;
}

llf_verdict llf_judge_answer(const cJSON *answer, const cJSON *hub_req, const llf_verdict_cfg *cfg)
{
    return judge_answer(answer, hub_req, cfg, 0);
}

int llf_deprecation(const llf_buf *head, char *date, size_t datelen)
{
    static const char *const names[] = {"sunset", "deprecation", "x-model-deprecation",
                                        "openai-deprecation", NULL};
    size_t len;
    const char *v = llf_head_get_any(head, names, &len);
    if (!v)
        return 0;
    /* "Deprecation: @1735689600" (RFC 9745) or "true"; Sunset is a date. */
    snprintf(date, datelen, "%.*s", (int)len, v);
    if (strcmp(date, "true") == 0 || strcmp(date, "?1") == 0)
        date[0] = '\0';
    return 1;
}

llf_verdict llf_judge(llf_dialect d, const char *model, int stream, const llf_resp *r, time_t now)
{
    llf_judge_in in = {d, model, stream, NULL, NULL, 0};
    return llf_judge_ex(&in, r, now);
}

/* What makes one event of a dialect-d stream no part of an answer, wherever
 * it comes: NULL, "error_event" or "not_json". j: the event parsed. */
static const char *event_problem(llf_dialect d, const char *event, const cJSON *j)
{
    if (d == LLF_ANTHROPIC && event && strcmp(event, "error") == 0)
        return "error_event";
    if (!cJSON_IsObject(j))
        return "not_json";
    if (llf_names_error(j))
        return "error_event";
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (d == LLF_ANTHROPIC && cJSON_IsString(t) && strcmp(t->valuestring, "error") == 0)
        return "error_event";
    return NULL;
}

/* Does an OpenAI delta say anything but the role (an empty string, a null
 * says nothing)? */
static int delta_says(const cJSON *delta)
{
    for (const cJSON *m = delta ? delta->child : NULL; m; m = m->next)
        if (m->string && strcmp(m->string, "role") != 0 && !cJSON_IsNull(m) &&
            !(cJSON_IsString(m) && !*m->valuestring))
            return 1;
    return 0;
}

/* The choice of an OpenAI chunk that is the answer's: index 0, or one with
 * no index. With n > 1 the chunks of the others interleave; a whole answer
 * is judged by its first choice, and a stream by this one. NULL: none. */
static const cJSON *chunk_choice(const cJSON *j)
{
    const cJSON *ch;
    cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(j, "choices"))
    {
        const cJSON *i = cJSON_GetObjectItemCaseSensitive(ch, "index");
        if (!cJSON_IsNumber(i) || i->valuedouble == 0)
            return ch;
    }
    return NULL;
}

/* An event that only frames an answer still to come, and so decides
 * nothing: of Anthropic's, any but content_block_* and message_delta
 * (message_start comes first and at once, then ping; unknown types are
 * to be passed over), and the start of a text block that has no text yet
 * (it comes with message_start, at once, as the role chunk does: an
 * overload reported just after it is no answer begun, nor is a stall);
 * an OpenAI chunk whose delta carries no more than the
 * role (always first) or that has no choice (usage, Azure's prompt filter
 * results); a Gemini chunk with neither candidates nor prompt feedback. An
 * error may follow any of them, and they do not meet the first-token
 * limit. */
static int frames_only(llf_dialect d, const char *event, const cJSON *j)
{
    if (d == LLF_ANTHROPIC) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
        const char *type = cJSON_IsString(t) ? t->valuestring : event ? event : "";
        if (strcmp(type, "content_block_start") == 0) {
            const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "content_block");
            const cJSON *bt = cJSON_GetObjectItemCaseSensitive(b, "type"), *text = cJSON_GetObjectItemCaseSensitive(b, "text");
            return cJSON_IsString(bt) && strcmp(bt->valuestring, "text") == 0 &&
                   (!text || (cJSON_IsString(text) && !*text->valuestring));
        }
        /* (a block's stop carries nothing: a block that had any started
         * the answer with its start or a delta) */
        return (strncmp(type, "content_block_", 14) != 0 || strcmp(type, "content_block_stop") == 0) &&
               strcmp(type, "message_delta") != 0;
    }
    if (d == LLF_GEMINI)
        return !cJSON_GetObjectItemCaseSensitive(j, "candidates") &&
               !cJSON_GetObjectItemCaseSensitive(j, "promptFeedback");
    const cJSON *ch = chunk_choice(j);   /* (another choice's text, with n > 1, is not the answer's) */
    if (!ch)
        return 1;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(ch, "finish_reason");
    if (f && !cJSON_IsNull(f))
        return 0;
    return !delta_says(cJSON_GetObjectItemCaseSensitive(ch, "delta"));
}

/* The refusal an event's stop reason makes (Anthropic's stop_reason
 * "refusal"; OpenAI's finish_reason "content_filter", or a delta's
 * refusal; Gemini's SAFETY and
 * kin, llf_gemini_finish, or a prompt blocked): "refusal",
 * "content_filter", or NULL. */
static const char *refusal_stop(llf_dialect d, const cJSON *j)
{
    if (d == LLF_ANTHROPIC) {
        const cJSON *sr = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "delta"), "stop_reason");
        return is_str(sr, "refusal") ? "refusal" : NULL;
    }
    if (d == LLF_OPENAI) {
        /* (a refusal comes as deltas of its own, then finish_reason
         * "stop": its first delta says it, as a whole answer's refusal) */
        const cJSON *ch = chunk_choice(j);
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ch, "delta"), "refusal");
        if (cJSON_IsString(r) && *skip_space(r->valuestring))
            return "refusal";
        return is_str(cJSON_GetObjectItemCaseSensitive(ch, "finish_reason"), "content_filter") ? "content_filter"
                                                                                                : NULL;
    }
    const cJSON *cand = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "candidates"), 0);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(cand, "finishReason");
    if (cJSON_IsString(f) && !strcmp(llf_gemini_finish(f->valuestring, 0), "content_filter"))
        return "content_filter";
    if (cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "promptFeedback"), "blockReason"))
        return "content_filter";
    return NULL;
}

/* Does an event that ends an answer carry any of it (text, a call, ...)?
 * Anthropic's stop reason comes in message_delta, which has none; a
 * Gemini part of empty text (and a signature) is none. */
static int carries_content(llf_dialect d, const cJSON *j)
{
    if (d == LLF_ANTHROPIC)
        return 0;
    if (d == LLF_OPENAI)
        return delta_says(cJSON_GetObjectItemCaseSensitive(chunk_choice(j), "delta"));
    const cJSON *cand = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "candidates"), 0);
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cand, "content"), "parts");
    for (const cJSON *p = cJSON_IsArray(parts) ? parts->child : NULL; p; p = p->next)
        for (const cJSON *m = p->child; m; m = m->next) {
            const char *k = m->string ? m->string : "";
            if (strcmp(k, "thoughtSignature") != 0 && !(!strcmp(k, "text") && cJSON_IsString(m) && !*m->valuestring))
                return 1;
        }
    return 0;
}

struct llf_gate {
    llf_dialect d;
    const llf_verdict_cfg *cfg;
    int hold;
    int started;   /* an event of the answer itself came (not only framing) */
    const char *refused;   /* the answer was a refusal, judged at the stream's end */
    llf_buf text;
    size_t counted;   /* of text's bytes, those in chars */
    long chars;
    const char *problem;
};

llf_gate *llf_gate_new(llf_dialect d, const llf_verdict_cfg *cfg, int hold_text)
{
    llf_gate *g = calloc(1, sizeof *g);
    if (g) {
        g->d = d;
        g->cfg = cfg;
        g->hold = hold_text;
    }
    return g;
}

void llf_gate_free(llf_gate *g)
{
    if (g)
        llf_buf_free(&g->text);
    free(g);
}

const char *llf_gate_problem(const llf_gate *g)
{
    return g->problem;
}

static int gate_fail(llf_gate *g, const char *why)
{
    g->problem = why;
    return LLF_GATE_FAIL;
}

/* The text (and structured refusals) an event carries, per dialect. */
static int gate_text(llf_gate *g, const char *event, const cJSON *j)
{
    const char *t = NULL;
    /* (with refusal checks off a refusal is the answer, as a whole one is) */
    int on_refusal = !g->cfg || g->cfg->refusal;
    if (g->d == LLF_OPENAI) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(chunk_choice(j), "delta");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(d, "refusal");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(d, "content");
        t = cJSON_IsString(c) ? c->valuestring : NULL;
        /* Mistral's Magistral: chunks, whose text ones are the answer's
         * (its thinking is not) */
        if (cJSON_IsArray(c)) {
            char *a = llf_content_text(c, "");
            int bad = !a || llf_buf_adds(&g->text, a);
            free(a);
            if (bad)
                return gate_fail(g, "no_memory");
        }
        if (cJSON_IsString(r) && *r->valuestring) {
            if (on_refusal)
                return gate_fail(g, "refusal");
            t = t ? t : r->valuestring;
        }
        if (cJSON_GetObjectItemCaseSensitive(d, "tool_calls") || cJSON_GetObjectItemCaseSensitive(d, "function_call") ||
            cJSON_GetObjectItemCaseSensitive(d, "audio"))
            g->hold = 0;   /* a tool call is an answer, and audio one that is no text */
    } else if (g->d == LLF_ANTHROPIC) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "delta");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(d, "text");
        t = cJSON_IsString(c) ? c->valuestring : NULL;
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "content_block");
        const cJSON *bt = cJSON_GetObjectItemCaseSensitive(b, "type");
        if (cJSON_IsString(bt) && !strcmp(bt->valuestring, "tool_use"))
            g->hold = 0;
        (void)event;
    } else {
        const cJSON *cand = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "candidates"), 0);
        const cJSON *parts = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cand, "content"), "parts");
        for (const cJSON *p = cJSON_IsArray(parts) ? parts->child : NULL; p; p = p->next) {
            const cJSON *pt = cJSON_GetObjectItemCaseSensitive(p, "text");
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "thought")))
                continue;   /* a thought summary is not the answer */
            if (cJSON_IsString(pt) && llf_buf_adds(&g->text, pt->valuestring))
                return gate_fail(g, "no_memory");
            if (cJSON_GetObjectItemCaseSensitive(p, "functionCall") || llf_gemini_part_beyond_text(p))
                g->hold = 0;   /* a call, an image, code run: an answer that is no text */
        }
    }
    const char *stop = refusal_stop(g->d, j);
    if (stop && on_refusal)
        return gate_fail(g, stop);
    if (t && llf_buf_adds(&g->text, t))
        return gate_fail(g, "no_memory");
    return LLF_GATE_WAIT;
}

/* Gemini's answer to a prompt it blocked: feedback and no candidate, the
 * whole stream. An empty answer, filtered: judged as the whole one is,
 * whether or not the stream's text is held. Its own problem names say the
 * stream was whole (llf_sse_stopped_whole); llf_judge_ex reports them as
 * the whole answer's reasons. */
static const char *blocked_prompt(const llf_gate *g, const cJSON *j)
{
    if (g->d != LLF_GEMINI || cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "candidates")) ||
        !cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "promptFeedback"), "blockReason"))
        return NULL;
    return !g->cfg || g->cfg->refusal ? LLF_PROBLEM_BLOCKED : g->cfg->empty ? LLF_PROBLEM_BLOCKED_EMPTY : NULL;
}

/* A stop reason that refuses, before the answer began: the answer is that
 * refusal, as a whole one would be, and no stream to go live with. Its
 * problem, "refusal" or "content_filter" (whatever the event carries), or
 * with refusal checks off "empty_stream" when it carries nothing and empty
 * checks are on; else NULL (an answer, or no such stop). */
static const char *refusing_finish(const llf_gate *g, const cJSON *j)
{
    const char *stop = refusal_stop(g->d, j);
    if (!stop || !g->cfg || g->cfg->refusal)
        return stop;
    return g->cfg->empty && !carries_content(g->d, j) ? "empty_stream" : NULL;
}

int llf_gate_event(llf_gate *g, const char *event, const char *data, size_t len)
{
    if (g->d == LLF_OPENAI && llf_sse_done(data, len))   /* the end */
        return g->started || g->refused ? LLF_GATE_WAIT : gate_fail(g, "empty_stream");
    cJSON *j = llf_json_parse_mended(llf_json_parse_exact, data, len);
    const char *p = event_problem(g->d, event, j);
    int before = !g->started && !g->refused;   /* the answer has not begun */
    if (!p && before)
        p = blocked_prompt(g, j);
    int rc = p ? gate_fail(g, p) : LLF_GATE_WAIT;
    /* (a refusal's stream is held to its end, and judged there: an original
     * given back when no member answers is then whole) */
    if (!p && before && !(g->refused = refusing_finish(g, j)))
        g->started = !frames_only(g->d, event, j);
    if (!p && g->started && g->hold)
        rc = gate_text(g, event, j);   /* every held event: an error may come after text */
    cJSON_Delete(j);
    if (rc != LLF_GATE_WAIT || !g->started)
        return rc;
    long max = g->cfg ? g->cfg->refusal_max_chars : 400;
    if (g->text.n > g->counted) {   /* (each byte counted once) */
        g->chars += (long)llf_utf8_count(g->text.p + g->counted, g->text.n - g->counted);
        g->counted = g->text.n;
    }
    return !g->hold || g->chars > max ? LLF_GATE_GO : LLF_GATE_WAIT;
}

typedef struct watch {
    llf_dialect d;
    const char *problem;
} watch;

static int late_event(void *ctx, const char *event, const char *data, size_t len)
{
    watch *w = ctx;
    /* (most events of a stream are text: only one that names an error is
     * parsed; one that does not parse is the program's to read) */
    if (!(event && strcmp(event, "error") == 0) && !memmem(data, len, "\"error\"", 7))
        return 0;
    cJSON *j = llf_json_parse_mended(llf_json_parse_exact, data, len);   /* (a lone surrogate is JSON) */
    const char *p = event_problem(w->d, event, j);
    cJSON_Delete(j);
    w->problem = p && strcmp(p, "not_json") != 0 ? p : NULL;
    return w->problem != NULL;   /* (one is enough) */
}

const char *llf_stream_watch(llf_sse *p, llf_dialect d, const char *bytes, size_t n)
{
    watch w = {d, NULL};
    llf_sse_feed(p, bytes, n, late_event, &w);   /* (out of memory: unwatched) */
    return w.problem;
}

int llf_gate_started(const llf_gate *g)
{
    return g->started || g->refused;
}

int llf_gate_end(llf_gate *g)
{
    if (g->refused)
        return gate_fail(g, g->refused);
    if (!g->started)
        return gate_fail(g, "empty_stream");
    if (!g->hold)
        return LLF_GATE_GO;
    const char *t = g->text.p ? g->text.p : "";
    while (*t == ' ' || *t == '\n' || *t == '\t' || *t == '\r')
        t++;
    if (!*t)   /* (white space alone: empty, unless that check is off) */
        return g->cfg && !g->cfg->empty ? LLF_GATE_GO : gate_fail(g, "empty_stream");
    if (g->cfg && g->cfg->refusal && textual_refusal(t, g->cfg))
        return gate_fail(g, "textual");
    return LLF_GATE_GO;
}

static int judge_event(void *ctx, const char *event, const char *data, size_t len)
{
    return llf_gate_event(ctx, event, data, len) != LLF_GATE_WAIT;
}

/* A gate's word for a stream that stopped it, as a verdict (a blocked
 * prompt's words as a whole answer's reasons). */
static llf_verdict stream_verdict(const char *p)
{
    if (!strcmp(p, LLF_PROBLEM_BLOCKED))
        return bad(LLF_REFUSAL, "content_filter");
    if (!strcmp(p, LLF_PROBLEM_BLOCKED_EMPTY))
        return bad(LLF_EMPTY, "empty_stream");
    return bad(!strcmp(p, "empty_stream") ? LLF_EMPTY
               : !strcmp(p, "refusal") || !strcmp(p, "textual") || !strcmp(p, "content_filter") ? LLF_REFUSAL
                                                                                               : LLF_INVALID_BODY,
               p);
}

/* A stream that never reached the program: was it the start of an answer?
 * The same gate as a live one, without holding for text. */
static llf_verdict judge_stream(llf_dialect d, const llf_resp *r)
{
    llf_gate *g = llf_gate_new(d, NULL, 0);
    if (!g)
        return bad(LLF_INVALID_BODY, "no_memory");
    llf_sse p = {0};
    if (llf_sse_feed(&p, r->body.p ? r->body.p : "", r->body.n, judge_event, g) == 0)
        llf_gate_end(g);   /* no event decided */
    llf_sse_free(&p);
    const char *why = g->problem;
    llf_gate_free(g);
    return why ? stream_verdict(why) : (llf_verdict){LLF_OK, "ok", 0, -1};
}

/* Does a Content-Type value name JSON (application/json,
 * application/problem+json...)? Media types are case-insensitive (RFC
 * 9110 §8.3.1): Application/JSON is JSON. Its parameters are not read. */
static int media_json(const char *ct, size_t n)
{
    const char *semi = memchr(ct, ';', n);
    size_t end = semi ? (size_t)(semi - ct) : n;
    for (size_t i = 0; i + 4 <= end; i++)   /* (by letters: this runs on every answer) */
        if ((ct[i] | 0x20) == 'j' && (ct[i + 1] | 0x20) == 's' && (ct[i + 2] | 0x20) == 'o' &&
            (ct[i + 3] | 0x20) == 'n')
            return 1;
    return 0;
}

llf_verdict llf_judge_ex(const llf_judge_in *in, const llf_resp *r, time_t now)
{
    llf_verdict v = {LLF_OK, "ok", 0, -1};
    const char *model = in->model;
    if (r->stream_problem)   /* the transport stopped a stream before delivering it */
        return stream_verdict(r->stream_problem);
    if (r->first_token_timeout)
        return (llf_verdict){LLF_TRANSPORT_ERROR, "first_token_timeout", 1, -1};
    /* A live stream the provider ended with an error event: the program has
     * it as sent (or, translated, as a broken transfer); too late for a
     * fallback, but a failure for the log, the summary and the breaker. */
    if (r->delivered && r->late_problem)
        return bad(LLF_INVALID_BODY, r->late_problem);
    if (r->curlcode != CURLE_OK && !r->head_only)
        return transport(r);
    long s = r->status;
    if (s < 200 || s >= 300) {
        v.outcome = LLF_HTTP_ERROR;
        v.fallback = 1;
        if ((s == 400 || s == 413) && context_exceeded(r)) {
            v.reason = "context";
            return v;
        }
        /* Claude's refusal of a thinking conversation whose last tool call
         * has no thinking before it: a member of another dialect answered
         * the turn before (its call has none), and Claude will take none of
         * the conversation's turns until its tool loop ends; a member will */
        if (s == 400 && r->body.p && memmem(r->body.p, r->body.n, "must start with a thinking block", 32)) {
            v.reason = "thinking_history";
            return v;
        }
        if (s == 400 && (v.reason = account_400(r)) != NULL)
            return v;
        /* OpenAI's account out of credit is a 429 (no wait helps it) */
        if (s == 429 && r->body.p && memmem(r->body.p, r->body.n, "insufficient_quota", 18)) {
            v.reason = "billing";
            return v;
        }
        switch (s) {
        case 408: v.reason = "timeout"; break;
        case 429: v.reason = "rate_limited"; break;
        case 503:
        case 529: v.reason = "overloaded"; break;
        case 401: v.reason = "auth"; break;
        case 402: v.reason = "billing"; break;
        case 403: v.reason = "forbidden"; break;
        case 404:
        case 410:
            v.fallback = names_model(r, model);
            v.reason = v.fallback ? "model_not_found" : "not_found";
            break;
        default:
            if (s >= 500 && s < 600) {
                v.reason = "server_error";
            } else if (s >= 300 && s < 400) {
                v.outcome = LLF_REDIRECT;
                v.reason = "not_followed";
                v.fallback = 0;
            } else {
                v.reason = s >= 400 ? "client_error" : "not_final";
                v.fallback = 0;
            }
        }
        if (s == 429 || s == 503 || s == 529) {
            v.retry_after_ms = llf_retry_after_ms(&r->head, now);
            if (v.retry_after_ms < 0)
                v.retry_after_ms = body_retry_ms(r);
        }
        return v;
    }
    if (r->too_large)   /* the original's, handed over as it came: unjudged */
        return v;
    if (in->stream)
        return r->delivered ? v : judge_stream(in->dialect, r);
    int check_body = !in->cfg || in->cfg->invalid_body;
    size_t ctn;
    const char *ct = llf_head_get(&r->head, "content-type", &ctn);
    /* (an empty value names no type: judged as an absent header, by the body) */
    if (check_body && ct && ctn && !media_json(ct, ctn))
        return bad(LLF_INVALID_BODY, "content_type");
    if (r->body.n == 0)
        return check_body ? bad(LLF_INVALID_BODY, "empty_body") : v;
    /* (read here and gone when judged: a scratch tree, see jsonmem.h) */
    cJSON *j = llf_json_parse_mended(llf_json_parse_scratch, r->body.p, r->body.n);
    const llf_dialect_ops *ops = llf_dialect_ops_of(in->dialect);
    if (!j) {
        v = bad(LLF_INVALID_BODY, "not_json");
    } else if (!cJSON_IsObject(j) || !ops->success_shape(j)) {
        v = bad(LLF_INVALID_BODY, "wrong_shape");
    } else if (in->dialect == LLF_OPENAI) {
        v = llf_judge_answer(j, in->hub_req, in->cfg);   /* already the hub format */
    } else if (in->dialect == LLF_ANTHROPIC && is_str(cJSON_GetObjectItemCaseSensitive(j, "stop_reason"), "pause_turn")) {
        /* a turn a server tool (web search) paused, for the program to send
         * back and go on: an answer, though it may hold no text yet */
    } else if (ops->resp_to_hub) {
        cJSON *hub = NULL;
        llf_terr e;
        /* (a Gemini answer's images, files and code run are the answer to
         * a Gemini program; translated, they are lost) */
        int beyond = in->dialect == LLF_GEMINI && !in->translated && llf_gemini_beyond_text(j);
        if (ops->resp_to_hub(j, &hub, &e) == LLF_TR_OK)
            v = judge_answer(hub, in->hub_req, in->cfg, beyond);
        else
            v = bad(LLF_INVALID_BODY, "wrong_shape");
        cJSON_Delete(hub);
    }
    llf_json_delete_scratch(j);
    if (v.outcome == LLF_INVALID_BODY && !check_body)
        v = (llf_verdict){LLF_OK, "ok", 0, -1};
    return v;
}
