/* dialect_openai.c — the OpenAI chat-completions dialect: POST
 * {base}/chat/completions, `Authorization: Bearer`, model in the body,
 * success = an object with a `choices` array. It is also the hub format, so
 * its translators are copies (from the hub with the member's model and
 * output limit). */
#include "ascii.h"
#include "dialect.h"
#include "hubutil.h"
#include "models.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int match_op(const char *rest, char **model, int *stream)
{
    *model = NULL;
    *stream = 0;
    return strcmp(rest, "/chat/completions") == 0;
}

static int op_path(llf_buf *out, const char *model, int stream)
{
    (void)model;
    (void)stream;
    return llf_buf_adds(out, "/chat/completions");
}

static int auth_headers(llf_headers *h, const char *key)
{
    return key ? llf_headers_add2(h, "Authorization: Bearer ", key) : 0;
}

static int body_streams(const cJSON *body)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "stream"));
}

static int success_shape(const cJSON *body)
{
    return cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(body, "choices"));
}

/* o's members named as the hub's marks ("llf:..."), deleted. */
static void drop_marks(cJSON *o)
{
    for (cJSON *k = o->child, *next; k; k = next) {
        next = k->next;
        if (k->string && strncmp(k->string, "llf:", 4) == 0)
            cJSON_Delete(cJSON_DetachItemViaPointer(o, k));
    }
}

static int req_to_hub(const cJSON *req, const char *url_model, cJSON **out, llf_terr *e)
{
    (void)url_model;
    if (!cJSON_IsObject(req)) {
        llf_terr_set(e, "request is not a JSON object");
        return LLF_TR_ERROR;
    }
    *out = cJSON_Duplicate(req, 1);
    if (!*out)
        return LLF_TR_ERROR;
    /* A null field is OpenAI's "not given" (SDKs write them): the hub has
     * none, so that no translator sends one on, or reads tool_choice: null
     * as a tool choice. */
    llf_drop_nulls(*out);
    /* The hub's own marks (LLF_HUB_REFUSED, a tool message's
     * LLF_HUB_TOOL_ERROR) are ours to set: a program's field so named
     * would skip members, or reach the log as a detail. */
    drop_marks(*out);
    cJSON *msgs = cJSON_GetObjectItemCaseSensitive(*out, "messages");
    for (cJSON *m = cJSON_IsArray(msgs) ? msgs->child : NULL; m; m = m->next)
        if (cJSON_IsObject(m))
            drop_marks(m);
    return LLF_TR_OK;
}

static int set_model(cJSON *o, const char *model)
{
    cJSON *m = cJSON_CreateString(model ? model : "");
    if (!m)
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(o, "model"))
        return cJSON_ReplaceItemInObjectCaseSensitive(o, "model", m) ? 0 : (cJSON_Delete(m), -1);
    return cJSON_AddItemToObject(o, "model", m) ? 0 : (cJSON_Delete(m), -1);
}

/* OpenAI's families, by the model's name after any "vendor/" prefix; a
 * fine-tune ("ft:gpt-4o-mini:org::id") is of its base model's. MISTRAL:
 * Mistral's models (llf_model_mistral). OTHER: neither OpenAI's nor
 * Mistral's (Llama, DeepSeek...), or not known. */
enum { OTHER, REASONING, PLAIN, MISTRAL };

static int family(const char *model)
{
    const char *n = llf_model_name(model);
    if (strncmp(n, "ft:", 3) == 0)
        n += 3;
    if (strncmp(n, "gpt-5-chat", 10) == 0 || strncmp(n, "gpt-4", 5) == 0 || strncmp(n, "gpt-3.5", 7) == 0 ||
        strncmp(n, "chatgpt-", 8) == 0)
        return PLAIN;
    if ((n[0] == 'o' && (n[1] == '1' || n[1] == '3' || n[1] == '4')) || strncmp(n, "gpt-5", 5) == 0)
        return REASONING;
    return llf_model_mistral(model) ? MISTRAL : OTHER;
}

int llf_openai_reasoning_model(const char *model)
{
    return family(model) == REASONING;
}

/* What a body's key is to fit(), by a switch on its first letter, since
 * this runs over every key of every call to a member of the program's own
 * dialect. K_OPENAI: what only OpenAI's API takes and an answer does not
 * depend on (its account, billing and stream options). */
enum {
    K_OTHER, K_SAMPLING, K_TUNING, K_BIAS, K_MAX_TOKENS, K_MAX_COMPLETION, K_EFFORT, K_VERBOSITY, K_STOP,
    K_STORE, K_SEED, K_OPENAI
};

static int key_kind(const char *s)
{
    switch (s[0]) {
    case 't':
        return !strcmp(s, "temperature") || !strcmp(s, "top_p") ? K_SAMPLING
               : !strcmp(s, "top_logprobs")                     ? K_TUNING
                                                                : K_OTHER;
    case 'p':
        return !strcmp(s, "presence_penalty") ? K_TUNING : K_OTHER;
    case 'f':
        return !strcmp(s, "frequency_penalty") ? K_TUNING : K_OTHER;
    case 'l':
        return !strcmp(s, "logit_bias") ? K_BIAS : !strcmp(s, "logprobs") ? K_TUNING : K_OTHER;
    case 'm':
        return !strcmp(s, "max_tokens") ? K_MAX_TOKENS : !strcmp(s, "max_completion_tokens") ? K_MAX_COMPLETION : K_OTHER;
    case 'r':
        return !strcmp(s, "reasoning_effort") ? K_EFFORT : K_OTHER;
    case 'v':
        return !strcmp(s, "verbosity") ? K_VERBOSITY : K_OTHER;
    case 's':
        return !strcmp(s, "stop")    ? K_STOP
               : !strcmp(s, "store") ? K_STORE
               : !strcmp(s, "seed")  ? K_SEED
               : !strcmp(s, "stream_options") || !strcmp(s, "service_tier") || !strcmp(s, "safety_identifier")
                   ? K_OPENAI
                   : K_OTHER;
    case 'u':
        return !strcmp(s, "user") ? K_OPENAI : K_OTHER;
    default:
        return K_OTHER;
    }
}

/* The reasoning_effort a reasoning model takes in place of v, or NULL when
 * it takes v. The o-series take low, medium and high; gpt-5 adds minimal;
 * gpt-5.1 has none in its place ("Unsupported value: 'minimal' is not
 * supported with the 'gpt-5.1' model. Supported values are: 'none', 'low',
 * 'medium', and 'high'."); gpt-5.2 and gpt-5.1-codex-max add xhigh. A value
 * a model lacks becomes its nearest: its least for none and minimal, high
 * for xhigh. Later models: as written. */
static const char *effort_for(const char *model, const char *v)
{
    const char *n = llf_model_name(model), *least;
    int xhigh;
    if (n[0] == 'o')
        least = "low", xhigh = 0;
    else if (strncmp(n, "gpt-5.1", 7) == 0)
        least = "none", xhigh = strstr(n, "codex-max") != NULL;
    else if (strncmp(n, "gpt-5.2", 7) == 0)
        least = "none", xhigh = 1;
    else if (strcmp(n, "gpt-5") == 0 || strncmp(n, "gpt-5-", 6) == 0)
        least = "minimal", xhigh = 0;
    else
        return NULL;
    if (!strcmp(v, "none") || !strcmp(v, "minimal"))
        return strcmp(v, least) ? least : NULL;
    return !strcmp(v, "xhigh") && !xhigh ? "high" : NULL;
}

/* An object member's key changed to name, where it stands. 0, or -1. */
static int rename_key(cJSON *k, const char *name)
{
    size_t len = strlen(name) + 1;
    char *s = cJSON_malloc(len);
    if (!s)
        return -1;
    memcpy(s, name, len);
    if (!(k->type & cJSON_StringIsConst))
        cJSON_free(k->string);
    k->string = s;
    k->type &= ~cJSON_StringIsConst;
    return 0;
}

/* A body fitted to what its model accepts; with apply 0, only counted.
 * OpenAI's reasoning models (o-series, gpt-5) refuse max_tokens ("use
 * max_completion_tokens") and any sampling setting but the default ("only
 * the default (1) value is supported"); its other models refuse
 * reasoning_effort and verbosity ("not supported with this model"); each
 * reasoning model takes its own reasoning_effort values (effort_for); no model
 * takes an output limit above its own. Models of other servers get
 * max_tokens, which every compatible server knows, for
 * max_completion_tokens, OpenAI's own newer name, and no store (OpenAI's
 * stored completions): some refuse both (Mistral: 422 "extra_forbidden");
 * their other fields are left as they are (some take reasoning_effort).
 * Mistral's API refuses with that 422 every field its request schema
 * lacks (the schema: its OpenAPI as mistralai/client-python's
 * docs/models/chatcompletionrequest.md lists it, June 2026: model,
 * messages, temperature, top_p, max_tokens, stream, stop, random_seed,
 * metadata, response_format, tools, tool_choice, presence_penalty,
 * frequency_penalty, n, prediction, parallel_tool_calls, reasoning_effort,
 * prompt_mode, guardrails, prompt_cache_key, safe_prompt), so its models
 * get random_seed ("the seed to use for random sampling") for seed, and
 * no stream_options (its usage comes in the last chunk unasked: avante.nvim
 * #2347), user, safety_identifier, service_tier, logit_bias or verbosity.
 * Log-probabilities, which it has not, stay: refused, the member is passed
 * over, as members of other dialects are, rather than answer without them.
 * Returns the number of changes, or -1 on no memory. */
#define REASONING_ROOM 25000.0   /* "reserve at least 25,000 tokens for reasoning and outputs" */

/* OpenAI refuses a tool call's id longer than 40 characters (400 "string
 * too long ... maximum length 40"), which other servers make (vLLM's
 * chatcmpl-tool-<32 hex>, 46) and a conversation keeps once one of them
 * answered: such an id is sent as call_<32 hex of it> (llf_short_hash), the
 * same for the call and its result; to a Mistral model, any id but one of
 * its own form (mistral_id) as the first 9 of those hex digits. 1 when v
 * is such an id, -1 on no memory. */
#define OPENAI_ID_MAX 40

/* Mistral's models take a tool call id of exactly 9 letters and digits
 * (400 "Tool call id was call_0fypS1hVX but must be a-z, A-Z, 0-9, with a
 * length of 9.", Mistral's API and vLLM serving them alike), which no
 * other provider makes: is v one? */
static int mistral_id(const char *v)
{
    size_t n = 0;
    while (n < 10 && llf_ascii_alnum(v[n]))
        n++;
    return n == 9 && !v[9];
}

static int short_id(cJSON *v, int mistral, int apply)
{
    if (!cJSON_IsString(v) || (mistral ? mistral_id(v->valuestring) : strlen(v->valuestring) <= OPENAI_ID_MAX))
        return 0;
    if (apply) {
        char h[33], s[40];
        llf_short_hash(v->valuestring, h);
        snprintf(s, sizeof s, mistral ? "%.9s" : "call_%s", h);   /* (hex digits: Mistral's letters and digits) */
        if (!cJSON_SetValuestring(v, s))
            return -1;
    }
    return 1;
}

/* What fit() changes in the messages: a developer message is a system one
 * for servers other than OpenAI's (DeepSeek refuses "unknown variant
 * `developer`", chat templates know none); DeepSeek takes a message's
 * content as a string only (400 "invalid type: sequence, expected a
 * string"), so one of text parts alone is joined; tool call ids that
 * OpenAI or Mistral would refuse are made ones they take (short_id). The
 * number of changes, -1 on no memory. */
static int fit_messages(cJSON *o, const char *model, int fam, int apply)
{
    int n = 0, deepseek = strncmp(llf_model_name(model), "deepseek", 8) == 0;
    cJSON *msgs = cJSON_GetObjectItemCaseSensitive(o, "messages"), *m;
    cJSON_ArrayForEach(m, msgs)
    {
        cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role"), *c;
        if ((fam == OTHER || fam == MISTRAL) && cJSON_IsString(role) && !strcmp(role->valuestring, "developer")) {
            n++;
            if (apply && !cJSON_SetValuestring(role, "system"))
                return -1;
        }
        cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (deepseek && cJSON_IsArray(content) && !llf_content_other(content)) {
            n++;
            if (apply) {
                char *t = llf_content_text(content, "\n");
                cJSON *str = t ? cJSON_CreateString(t) : NULL;
                free(t);
                if (!str || !cJSON_ReplaceItemInObjectCaseSensitive(m, "content", str)) {
                    cJSON_Delete(str);
                    return -1;
                }
            }
        }
        int rc = short_id(cJSON_GetObjectItemCaseSensitive(m, "tool_call_id"), fam == MISTRAL, apply);
        if (rc < 0)
            return -1;
        n += rc;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "tool_calls"))
        {
            if ((rc = short_id(cJSON_GetObjectItemCaseSensitive(c, "id"), fam == MISTRAL, apply)) < 0)
                return -1;
            n += rc;
        }
    }
    return n;
}

static int fit(cJSON *o, const char *model, int apply)
{
    if (!model || !cJSON_IsObject(o))
        return 0;
    int fam = family(model), n = 0, other = fam == OTHER || fam == MISTRAL;
    long limit = -1;   /* looked up at the first output limit met */
    int has_mct = fam == REASONING && cJSON_GetObjectItemCaseSensitive(o, "max_completion_tokens");
    int has_mt = other && cJSON_GetObjectItemCaseSensitive(o, "max_tokens");
    int has_rs = fam == MISTRAL && cJSON_GetObjectItemCaseSensitive(o, "random_seed");
    for (cJSON *k = o->child, *next; k; k = next) {
        next = k->next;
        int kind = key_kind(k->string ? k->string : "");
        if (kind == K_OTHER)
            continue;
        /* Reasoning models refuse stop ("Unsupported parameter: 'stop'"):
         * an answer is cut at it afterwards (stop_at); a stream, which is
         * not, keeps it and goes on to the next member if refused. */
        int drop = fam == REASONING ? (kind == K_SAMPLING && !(cJSON_IsNumber(k) && k->valuedouble == 1)) ||
                                          kind == K_TUNING || kind == K_BIAS || (kind == K_MAX_TOKENS && has_mct) ||
                                          (kind == K_STOP && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "stream")))
                   : fam == PLAIN ? kind == K_EFFORT || kind == K_VERBOSITY
                                  : kind == K_STORE || (kind == K_MAX_COMPLETION && has_mt) ||
                                        (fam == MISTRAL && (kind == K_OPENAI || kind == K_BIAS ||
                                                            kind == K_VERBOSITY || (kind == K_SEED && has_rs)));
        if (drop) {
            n++;
            if (apply)
                cJSON_Delete(cJSON_DetachItemViaPointer(o, k));
            continue;
        }
        if (fam == MISTRAL && kind == K_SEED) {
            n++;
            has_rs = 1;
            if (apply && rename_key(k, "random_seed"))
                return -1;
            continue;
        }
        if (fam == REASONING && kind == K_EFFORT && cJSON_IsString(k)) {
            const char *v = k->valuestring ? effort_for(model, k->valuestring) : NULL;
            if (v) {
                n++;
                if (apply && !cJSON_SetValuestring(k, v))
                    return -1;
            }
            continue;
        }
        if ((kind == K_MAX_TOKENS || kind == K_MAX_COMPLETION) && limit < 0)
            limit = llf_model_max_output(model);
        /* max_tokens, which reasoning models refuse, limited the answer of a
         * model that does not reason; a reasoning model's limit also counts
         * its reasoning, which would leave it no room to answer (an empty
         * answer cut at "length"): given the room OpenAI's guide says to
         * keep for it, where the model's own most is known (and held to
         * below). */
        if (fam == REASONING && kind == K_MAX_TOKENS && cJSON_IsNumber(k) && limit > 0 && apply)
            cJSON_SetNumberValue(k, k->valuedouble + REASONING_ROOM);   /* (counted with the renaming below) */
        if ((kind == K_MAX_TOKENS || kind == K_MAX_COMPLETION) && limit > 0 && cJSON_IsNumber(k) &&
            k->valuedouble > (double)limit) {
            n++;
            if (apply)
                cJSON_SetNumberValue(k, (double)limit);
        }
        /* renamed where it stands; any later one of the two is then dropped */
        if (fam == REASONING && kind == K_MAX_TOKENS) {
            n++;
            has_mct = 1;
            if (apply && rename_key(k, "max_completion_tokens"))
                return -1;
        } else if (other && kind == K_MAX_COMPLETION) {
            n++;
            has_mt = 1;
            if (apply && rename_key(k, "max_tokens"))
                return -1;
        }
    }
    int msgs = fit_messages(o, model, fam, apply);
    return msgs < 0 ? -1 : n + msgs;
}

/* The stop sequences fit() left out for a reasoning model, applied to its
 * answer (see dialect.h). */
static int stop_at(const char *model, const cJSON *hub, llf_buf *body)
{
    const cJSON *stop = llf_get(hub, "stop");
    if (!stop || family(model) != REASONING || cJSON_IsTrue(llf_get(hub, "stream")))
        return 0;
    cJSON *j = llf_json_parse_mended(cJSON_ParseWithLength, body->p ? body->p : "", body->n);
    const cJSON *choices = llf_get(j, "choices");
    int changed = 0;
    for (cJSON *ch = cJSON_IsArray(choices) ? choices->child : NULL; ch; ch = ch->next) {
        cJSON *content = (cJSON *)llf_get(llf_get(ch, "message"), "content");
        if (!cJSON_IsString(content) || !content->valuestring)
            continue;
        char *text = content->valuestring, *cut = NULL;
        const char *which = NULL;
        for (const cJSON *w = cJSON_IsArray(stop) ? stop->child : stop; w; w = cJSON_IsArray(stop) ? w->next : NULL) {
            char *at = cJSON_IsString(w) && w->valuestring[0] ? strstr(text, w->valuestring) : NULL;
            if (at && (!cut || at < cut)) {
                cut = at;
                which = w->valuestring;
            }
        }
        if (!cut)
            continue;
        *cut = '\0';   /* (the string shrinks in place: cJSON keeps its length nowhere) */
        /* what came after the text, its calls, a model stopped there would
         * not have made: a program reading finish_reason "stop" would drop
         * them anyway, and one that ran them would act on what it cut */
        cJSON *msg = (cJSON *)llf_get(ch, "message");
        cJSON_DeleteItemFromObjectCaseSensitive(msg, "tool_calls");
        cJSON_DeleteItemFromObjectCaseSensitive(msg, "function_call");
        /* finish_reason "stop", and the sequence it stopped at where vLLM
         * names it (stop_reason): an Anthropic program's answer says it
         * (stop_sequence) */
        static const char *const keys[] = {"finish_reason", "stop_reason"};
        for (int i = 0; i < 2; i++) {
            cJSON *v = cJSON_CreateString(i ? which : "stop");
            if (!v || !(llf_get(ch, keys[i]) ? cJSON_ReplaceItemInObjectCaseSensitive(ch, keys[i], v)
                                             : cJSON_AddItemToObject(ch, keys[i], v))) {
                cJSON_Delete(v);
                cJSON_Delete(j);
                return -1;
            }
        }
        changed = 1;
    }
    char *s = changed ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (changed && !s)
        return -1;
    if (s)
        llf_buf_adopt(body, s);
    return changed;
}

/* Does a message's text (its content, a string or text parts) say "json",
 * in any case? */
static int says_json(const cJSON *msgs)
{
    for (const cJSON *m = msgs->child; m; m = m->next) {
        const cJSON *c = llf_get(m, "content");
        for (const cJSON *p = cJSON_IsArray(c) ? c->child : c; p; p = cJSON_IsArray(c) ? p->next : NULL) {
            const char *t = cJSON_IsString(p) ? p->valuestring : llf_get_str(p, "text");
            if (t && strcasestr(t, "json"))
                return 1;
        }
    }
    return 0;
}

/* OpenAI takes response_format json_object only when a message says
 * "json" (400 "'messages' must contain the word 'json' in some form, to
 * use 'response_format' of type 'json_object'"), which a Gemini program's
 * JSON mode without a schema need not: the model is told so, as Claude is
 * (dialect_anthropic.c), at the head of the first message when it is the
 * system's (or developer's), else in a system message of its own before
 * the others (some servers' chat templates take one system message, first).
 * 0, -1 on no memory. */
static int ask_json(cJSON *o)
{
    static const char note[] = LLF_JSON_ONLY_TEXT;
    const char *type = llf_get_str(llf_get(o, "response_format"), "type");
    cJSON *msgs = cJSON_GetObjectItemCaseSensitive(o, "messages");
    if (!type || strcmp(type, "json_object") || !cJSON_IsArray(msgs) || says_json(msgs))
        return 0;
    const char *role = llf_get_str(msgs->child, "role");
    cJSON *c = cJSON_GetObjectItemCaseSensitive(msgs->child, "content");
    if (role && (!strcmp(role, "system") || !strcmp(role, "developer")) && (cJSON_IsString(c) || cJSON_IsArray(c))) {
        if (cJSON_IsArray(c)) {
            cJSON *t = llf_text_part(note);
            return t && cJSON_InsertItemInArray(c, 0, t) ? 0 : (cJSON_Delete(t), -1);
        }
        llf_buf b = {0};
        if (llf_buf_adds(&b, note) || llf_buf_adds(&b, "\n\n") || llf_buf_adds(&b, c->valuestring) ||
            !cJSON_SetValuestring(c, b.p)) {
            llf_buf_free(&b);
            return -1;
        }
        llf_buf_free(&b);
        return 0;
    }
    cJSON *m = cJSON_CreateObject();
    if (!m || llf_add(m, "role", cJSON_CreateString("system")) || llf_add(m, "content", cJSON_CreateString(note)) ||
        !cJSON_InsertItemInArray(msgs, 0, m)) {
        cJSON_Delete(m);
        return -1;
    }
    return 0;
}

static int req_from_hub(const cJSON *hub, const char *model, cJSON **out, llf_terr *e)
{
    /* An image a tool returned (a Gemini 3 program's functionResponse.parts):
     * OpenAI's tool messages take text only, and the answer would be given
     * without it. */
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(hub, "messages");
    for (const cJSON *m = cJSON_IsArray(msgs) ? msgs->child : NULL; m; m = m->next) {
        const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "role"));
        const char *media = role && !strcmp(role, "tool") ? llf_content_other(llf_get(m, "content")) : NULL;
        if (media) {
            llf_terr_set(e, "a tool result's %s part (OpenAI's tool messages take text only)", llf_terr_word(media));
            return LLF_TR_INCOMPATIBLE;
        }
    }
    cJSON *o = cJSON_IsObject(hub) ? cJSON_Duplicate(hub, 1) : NULL;
    if (o)
        drop_marks(o);   /* (the hub's own, LLF_HUB_NAMES: never sent) */
    if (!o || set_model(o, model) || llf_hub_tool_errors(o) || fit(o, model, 1) < 0 || ask_json(o)) {
        cJSON_Delete(o);
        llf_terr_set(e, "out of memory");
        return LLF_TR_ERROR;
    }
    /* A tool choice without tools, or tools: [] (a program of another
     * dialect may send either), OpenAI refuses with a 400: neither is sent. */
    if (!cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "tools"))) {
        cJSON_DeleteItemFromObjectCaseSensitive(o, "tools");
        cJSON_DeleteItemFromObjectCaseSensitive(o, "tool_choice");
        cJSON_DeleteItemFromObjectCaseSensitive(o, "parallel_tool_calls");
    }
    /* OpenAI takes up to 4 stop sequences (400 beyond), as Groq and xAI
     * do; a model that takes none had them left out by fit (stop_at). */
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "stop")) > 4) {
        cJSON_Delete(o);
        llf_terr_set(e, "more than 4 stop sequences");
        return LLF_TR_INCOMPATIBLE;
    }
    *out = o;
    return LLF_TR_OK;
}

/* An answer's content given as an array of chunks (Mistral's Magistral:
 * [{"type": "thinking", ...}, {"type": "text", "text": ...}], as a
 * request's content may be written) is, in the hub, its text: the text
 * chunks joined, the thinking left out; null when there is none. 0, -1 on
 * no memory. */
static int content_as_text(cJSON *hub)
{
    const cJSON *choices = llf_get(hub, "choices");
    for (cJSON *ch = cJSON_IsArray(choices) ? choices->child : NULL; ch; ch = ch->next)
        if (llf_content_flatten((cJSON *)llf_get(ch, "message"), 1))
            return -1;
    return 0;
}

static int resp_to_hub(const cJSON *resp, cJSON **out, llf_terr *e)
{
    if (!cJSON_IsObject(resp) || !success_shape(resp)) {
        llf_terr_set(e, "not a chat.completion");
        return LLF_TR_ERROR;
    }
    *out = cJSON_Duplicate(resp, 1);
    if (*out && content_as_text(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return *out ? LLF_TR_OK : LLF_TR_ERROR;
}

static int resp_from_hub(const cJSON *hub, const char *model, cJSON **out, llf_terr *e)
{
    return req_from_hub(hub, model, out, e);
}

const llf_dialect_ops llf_dialect_openai = {
    .name = "openai",
    .match_op = match_op,
    .op_path = op_path,
    .auth_headers = auth_headers,
    .model_in_body = 1,
    .body_streams = body_streams,
    .success_shape = success_shape,
    .req_to_hub = req_to_hub,
    .req_from_hub = req_from_hub,
    .resp_to_hub = resp_to_hub,
    .resp_from_hub = resp_from_hub,
    .fit = fit,
    .stop_at = stop_at,
};
