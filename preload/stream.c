/* stream.c — stream translation between dialects (see stream.h).
 *
 * Reading: each dialect's events become hub chunks (OpenAI's
 * chat.completion.chunk: a delta of role, content or tool calls, a
 * finish_reason, usage); a Gemini member's finish waits for the end of its
 * stream, as usage may still come after it. Writing: hub chunks become the
 * program's events — OpenAI `data:` chunks and `[DONE]`; Anthropic
 * message_start, content_block_start/delta/stop, message_delta,
 * message_stop; Gemini `data:` GenerateContentResponse chunks, whose
 * function calls carry whole arguments, so those are gathered and sent with
 * the last chunk. */
#include "stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hubutil.h"
#include "sse.h"

void llf_stream_tr_init(llf_stream_tr *t, llf_dialect from, llf_dialect to, const char *model)
{
    memset(t, 0, sizeof *t);
    t->from = from;
    t->to = to;
    snprintf(t->model, sizeof t->model, "%s", model ? model : "");
    snprintf(t->id, sizeof t->id, "llmfallback");
    t->created = (double)(long long)llf_now_s();
    t->in_cached = t->out_reasoning = t->held_cached = t->held_reasoning = -1;
}

void llf_stream_tr_free(llf_stream_tr *t)
{
    for (int i = 0; i < t->ncalls; i++) {
        llf_buf_free(&t->calls[i].id);
        llf_buf_free(&t->calls[i].name);
        llf_buf_free(&t->calls[i].args);
    }
    free(t->calls);
    t->calls = NULL;
    cJSON_Delete(t->names);
    t->names = NULL;
    t->ncalls = t->calls_cap = t->open_call = 0;
    for (int i = 0; i < 64; i++) {
        cJSON_free(t->block_input[i]);
        t->block_input[i] = NULL;
    }
}

/* ---- the member's tool calls, gathered ----------------------------------- */

/* The most calls one answer may make (distinct indexes): a member sending
 * more is not one to translate. */
#define MAX_CALLS 1024

/* The call a hub tool_calls element c is a piece of, the piece added; its
 * slot, or -1 (no memory, too many calls). OpenAI names a call by its
 * index, as its SDKs read a stream: the first delta of an index carries the
 * id, the type and the name, the later ones pieces of the arguments, and
 * an id may come again on every delta (vLLM's do), empty, or never. The
 * first non-empty id and name are the call's. An element without an index
 * (not OpenAI's), or with one a call of another id has, is a piece of the
 * last call of that index, unless it names another id. */
static int tool_call(llf_stream_tr *t, const cJSON *c)
{
    const cJSON *ix = llf_get(c, "index"), *f = llf_get(c, "function");
    const char *id = llf_get_str(c, "id"), *name = llf_get_str(f, "name"), *args = llf_get_str(f, "arguments");
    int k = -1;
    if (cJSON_IsNumber(ix)) {
        for (int i = t->ncalls - 1; i >= 0 && k < 0; i--)
            if (t->calls[i].index == ix->valueint)
                k = i;
        /* An index given again with another id is another call: Gemini's
         * OpenAI-compatible API gives every parallel call index 0, and
         * their arguments, run together, were one call's, not JSON. */
        if (k >= 0 && id && *id && t->calls[k].id.n && strcmp(t->calls[k].id.p, id))
            k = -1;
    } else if (t->ncalls) {
        const llf_buf *last = &t->calls[t->ncalls - 1].id;
        if (!(id && *id && last->n && strcmp(last->p, id)))
            k = t->ncalls - 1;
    }
    if (k < 0) {   /* a new call */
        if (t->ncalls == MAX_CALLS)
            return -1;
        if (t->ncalls == t->calls_cap) {
            int cap = t->calls_cap ? 2 * t->calls_cap : 4;
            struct llf_tool_call *g = realloc(t->calls, (size_t)cap * sizeof *g);
            if (!g)
                return -1;
            t->calls = g;
            t->calls_cap = cap;
        }
        k = t->ncalls++;
        memset(&t->calls[k], 0, sizeof t->calls[k]);
        t->calls[k].index = cJSON_IsNumber(ix) ? ix->valueint : -1;
    }
    struct llf_tool_call *g = &t->calls[k];
    /* (arguments are gathered whole for a Gemini program, and for calls
     * that wait their turn: as much as one event may hold, no more) */
    size_t more = args ? strlen(args) : 0;
    if (more > LLF_SSE_MAX - t->args_held)
        return -1;
    t->args_held += more;
    if ((!g->id.n && id && *id && llf_buf_adds(&g->id, id)) ||
        (!g->name.n && name && *name && llf_buf_adds(&g->name, name)) ||
        (args && *args && llf_buf_adds(&g->args, args)))
        return -1;
    return k;
}

/* ---- writing the program's dialect -------------------------------------- */

static int sse(llf_buf *out, const char *event, cJSON *data)
{
    char *s = cJSON_PrintUnformatted(data);
    cJSON_Delete(data);
    int rc = !s || (event && llf_buf_printf(out, "event: %s\n", event)) ||
             llf_buf_printf(out, "data: %s\n\n", s);
    free(s);
    return rc ? -1 : 0;
}

static cJSON *parse(const char *json)
{
    return cJSON_Parse(json);
}

/* sse() for an event whose building may have failed (ok 0): it is deleted
 * then, not written. */
static int sse_if(llf_buf *out, const char *event, cJSON *data, int ok)
{
    if (!ok) {
        cJSON_Delete(data);
        return -1;
    }
    return sse(out, event, data);
}

static int anth_stop_block(llf_stream_tr *t, llf_buf *out)
{
    if (!t->text_open && !t->tool_block)
        return 0;
    char j[64];
    snprintf(j, sizeof j, "{\"type\":\"content_block_stop\",\"index\":%d}", t->blocks - 1);
    t->text_open = t->tool_block = 0;
    if (t->open_call)
        t->calls[t->open_call - 1].state = 2;
    t->open_call = 0;
    return sse(out, "content_block_stop", parse(j));
}

static int anth_start(llf_stream_tr *t, llf_buf *out)
{
    if (t->started)
        return 0;
    t->started = 1;
    cJSON *m = cJSON_Parse("{\"type\":\"message_start\",\"message\":{\"type\":\"message\",\"role\":\"assistant\","
                           "\"content\":[],\"stop_reason\":null,\"stop_sequence\":null}}");
    cJSON *msg = cJSON_GetObjectItem(m, "message"), *u = cJSON_CreateObject();
    char id[160];
    snprintf(id, sizeof id, "%s%s", strncmp(t->id, "msg_", 4) ? "msg_" : "", t->id);
    int ok = m && u && !llf_add(msg, "id", cJSON_CreateString(id)) &&
             !llf_add(msg, "model", cJSON_CreateString(t->model)) &&
             !llf_anthropic_usage_input(u, t->in_tokens, t->in_cached) &&
             !llf_add(u, "output_tokens", cJSON_CreateNumber(0)) && !llf_add_own(msg, "usage", &u);
    cJSON_Delete(u);   /* (NULL once added) */
    return sse_if(out, "message_start", m, ok);
}

/* A refusal that ended by itself is stop_reason "refusal", and an answer
 * with calls "tool_use" though the member said "stop" (OpenAI's forced
 * call), as in a whole answer (dialect_anthropic.c says why). */
static const char *anth_reason(const llf_stream_tr *t)
{
    const char *fr = t->finish[0] ? t->finish : "stop";
    return !strcmp(fr, "length") ? "max_tokens" : !strcmp(fr, "tool_calls") ? "tool_use"
           : !strcmp(fr, "content_filter") ? "refusal" : t->ncalls ? "tool_use" : t->refused ? "refusal" : "end_turn";
}

static const char *gem_reason(const char *fr)
{
    return !strcmp(fr, "length") ? "MAX_TOKENS" : !strcmp(fr, "content_filter") ? "SAFETY" : "STOP";
}

/* The text of a hub delta: its content, or OpenAI's refusal (it sends one
 * or the other), which the other dialects have no field for: the program
 * gets it as text (and Anthropic's stop_reason "refusal": anth_reason). */
static const char *delta_text(llf_stream_tr *t, const cJSON *d)
{
    const char *c = llf_get_str(d, "content"), *r = llf_get_str(d, "refusal");
    if (c && *c)
        return c;
    if (r && *r)
        t->refused = 1;
    return r && *r ? r : c;
}

/* A piece of the open tool_use block's input. */
static int anth_args(llf_stream_tr *t, const char *args, llf_buf *out)
{
    if (!args || !*args)
        return 0;
    cJSON *e = parse("{\"type\":\"content_block_delta\",\"delta\":{\"type\":\"input_json_delta\"}}");
    return sse_if(out, "content_block_delta", e,
                  e && !llf_add(e, "index", cJSON_CreateNumber(t->blocks - 1)) &&
                      !llf_add(cJSON_GetObjectItem(e, "delta"), "partial_json", cJSON_CreateString(args)));
}

/* Call k's tool_use block opened, with the arguments gathered so far. Its
 * id is the one a whole answer of the member gives it (llf_anthropic_tool_id):
 * one Anthropic takes, which the program's next request carries to its own
 * Claude (Kimi's functions.get_weather:0 is refused there), and a call the
 * member gave no id gets one made up, as Gemini's calls do (every tool_use
 * block has one, and a tool_result must name it). */
static int anth_open_call(llf_stream_tr *t, int k, llf_buf *out)
{
    struct llf_tool_call *g = &t->calls[k];
    char *id = llf_anthropic_tool_id(g->id.n ? g->id.p : NULL, t->id, k);
    if (!id || anth_stop_block(t, out)) {
        free(id);
        return -1;
    }
    cJSON *e = parse("{\"type\":\"content_block_start\",\"content_block\":{\"type\":\"tool_use\",\"input\":{}}}");
    cJSON *b = cJSON_GetObjectItem(e, "content_block");
    int rc = sse_if(out, "content_block_start", e,
                    e && !llf_add(e, "index", cJSON_CreateNumber(t->blocks++)) &&
                        !llf_add(b, "id", cJSON_CreateString(id)) &&
                        !llf_add(b, "name", cJSON_CreateString(g->name.n ? g->name.p : "")));
    free(id);
    if (rc)
        return -1;
    t->tool_block = 1;
    t->open_call = k + 1;
    g->state = 1;
    return anth_args(t, g->args.p, out);
}

/* Every call's block out, in the member's order: the open one closed, the
 * others whole. Then no call is left half said. */
static int anth_flush_calls(llf_stream_tr *t, llf_buf *out)
{
    for (int k = 0; k < t->ncalls; k++)
        if ((t->calls[k].state == 0 && anth_open_call(t, k, out)) ||
            (t->calls[k].state == 1 && anth_stop_block(t, out)))
            return -1;
    return 0;
}

/* A tool-call piece for call k, its arguments already gathered
 * (tool_call). Anthropic's stream has one content block open at a time and
 * never goes back to one, while an OpenAI member may send the pieces of
 * its calls interleaved (by index) and may go back to an earlier call at
 * any time until its finish reason. So only one call is live: the first
 * whose block can open (its name known, the calls before it all sent),
 * whose pieces go out as they come; the calls after it are gathered and
 * go out whole, each in its block, at the finish (anth_flush_calls), when
 * none can change any more. That is as soon as is faithful for any order,
 * and live for the usual one call. Text between calls sends them all
 * first; a piece of a call sent already cannot be said: the stream breaks
 * rather than give the program a call that is not the member's. */
static int anth_tool_piece(llf_stream_tr *t, int k, const char *args, llf_buf *out)
{
    struct llf_tool_call *g = &t->calls[k];
    if (g->state == 1)
        return anth_args(t, args, out);
    if (g->state == 2)
        return args && *args ? -1 : 0;
    if (t->open_call || !g->name.n)
        return 0;
    for (int i = 0; i < k; i++)
        if (t->calls[i].state != 2)
            return 0;
    return anth_open_call(t, k, out);
}

/* The content's end: every call said, the last block closed. */
static int anth_end_blocks(llf_stream_tr *t, llf_buf *out)
{
    return anth_flush_calls(t, out) || anth_stop_block(t, out) ? -1 : 0;
}

static int write_anthropic(llf_stream_tr *t, const cJSON *choice, llf_buf *out)
{
    const cJSON *d = llf_get(choice, "delta");
    const char *text = delta_text(t, d);
    const cJSON *tools = llf_get(d, "tool_calls");
    if (anth_start(t, out))
        return -1;
    if (text && *text) {
        if (!t->text_open && anth_end_blocks(t, out))   /* (the calls before it) */
            return -1;
        if (!t->text_open) {
            char j[96];
            snprintf(j, sizeof j, "{\"type\":\"content_block_start\",\"index\":%d,\"content_block\":"
                                  "{\"type\":\"text\",\"text\":\"\"}}", t->blocks++);
            t->text_open = 1;
            if (sse(out, "content_block_start", parse(j)))
                return -1;
        }
        cJSON *e = parse("{\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\"}}");
        if (sse_if(out, "content_block_delta", e,
                   e && !llf_add(e, "index", cJSON_CreateNumber(t->blocks - 1)) &&
                       !llf_add(cJSON_GetObjectItem(e, "delta"), "text", cJSON_CreateString(text))))
            return -1;
    }
    for (const cJSON *c = cJSON_IsArray(tools) ? tools->child : NULL; c; c = c->next) {
        int k = tool_call(t, c);
        if (k < 0 || anth_tool_piece(t, k, llf_get_str(llf_get(c, "function"), "arguments"), out))
            return -1;
    }
    /* The content ends with the finish reason (a Gemini member's, said at
     * its end); message_delta waits for the usage (anth_close). An OpenAI
     * member's content ends at its [DONE], or its stream's end: see
     * write_hub. */
    return t->finish[0] && t->from != LLF_OPENAI ? anth_end_blocks(t, out) : 0;
}

/* message_delta: the stop reason and the usage, once both are known. */
static int anth_close(llf_stream_tr *t, llf_buf *out)
{
    t->finished = 1;
    cJSON *e = parse("{\"type\":\"message_delta\",\"delta\":{\"stop_sequence\":null},\"usage\":{}}");
    cJSON *u = cJSON_GetObjectItem(e, "usage");
    int ok = e && !anth_end_blocks(t, out) &&
             !llf_add(cJSON_GetObjectItem(e, "delta"), "stop_reason",
                      cJSON_CreateString(anth_reason(t))) &&
             !llf_anthropic_usage_input(u, t->in_tokens, t->in_cached) &&
             !llf_add(u, "output_tokens", cJSON_CreateNumber(t->out_tokens));
    return sse_if(out, "message_delta", e, ok);
}

/* One Gemini chunk: text, and when closing the gathered function calls
 * (Gemini sends them whole), the finish reason and the usage. A closing
 * chunk with neither text nor calls says {"text": ""}, as Gemini's own
 * does: content with no parts is invalid to Google's SDKs (@google/genai's
 * chat then drops the whole exchange from its history). */
static int gem_chunk(llf_stream_tr *t, const char *text, int closing, llf_buf *out)
{
    /* (each part is deleted at the end unless it was added: _own sets it
     * to NULL once it is no longer ours) */
    cJSON *o = cJSON_CreateObject(), *cands = cJSON_CreateArray(), *cand = cJSON_CreateObject(),
          *content = cJSON_CreateObject(), *parts = cJSON_CreateArray(), *um = NULL;
    int ok = o && cands && cand && content && parts;
    if (ok && ((text && *text) || (closing && !t->ncalls))) {
        cJSON *tp = cJSON_CreateObject();
        ok = tp && !llf_add(tp, "text", cJSON_CreateString(text ? text : "")) && !llf_append_own(parts, &tp);
        cJSON_Delete(tp);
    }
    for (int i = 0; ok && closing && i < t->ncalls; i++) {
        const struct llf_tool_call *g = &t->calls[i];
        /* (exact: arguments that only begin with an object are not one,
         * and get {} as a whole answer's do; a lone surrogate is JSON; a
         * raw control character too: see llf_stream_tr_event) */
        cJSON *args = g->args.p ? llf_json_parse_mended(llf_json_parse_exact_raw_controls, g->args.p, g->args.n)
                                : cJSON_CreateObject();
        if (!cJSON_IsObject(args)) {
            cJSON_Delete(args);
            args = cJSON_CreateObject();
        }
        cJSON *p = cJSON_CreateObject(), *fc = cJSON_CreateObject();
        /* the first signed, for the program's own Gemini 3 (see hubutil.h) */
        ok = p && fc && args && !llf_add(fc, "name", cJSON_CreateString(g->name.n ? g->name.p : "")) &&
             !llf_add_own(fc, "args", &args) && !llf_add_own(p, "functionCall", &fc) &&
             !(i == 0 && llf_add(p, "thoughtSignature", cJSON_CreateString(LLF_GEMINI_SKIP_SIGNATURE))) &&
             !llf_append_own(parts, &p);
        cJSON_Delete(args);
        cJSON_Delete(fc);
        cJSON_Delete(p);
    }
    ok = ok && !llf_add_own(content, "parts", &parts) && !llf_add(content, "role", cJSON_CreateString("model")) &&
         !llf_add_own(cand, "content", &content) &&
         !(closing && llf_add(cand, "finishReason",
                              cJSON_CreateString(gem_reason(t->finish[0] ? t->finish : "stop")))) &&
         !llf_add(cand, "index", cJSON_CreateNumber(0)) && !llf_append_own(cands, &cand) &&
         !llf_add_own(o, "candidates", &cands);
    if (ok && closing) {
        t->finished = 1;
        um = llf_gemini_usage(t->in_tokens, t->out_tokens, t->in_tokens + t->out_tokens, t->in_cached,
                              t->out_reasoning);
        ok = um && !llf_add_own(o, "usageMetadata", &um);
    }
    ok = ok && !llf_add(o, "modelVersion", cJSON_CreateString(t->model));
    cJSON_Delete(um);
    cJSON_Delete(parts);
    cJSON_Delete(content);
    cJSON_Delete(cand);
    cJSON_Delete(cands);
    return sse_if(out, NULL, o, ok);
}

/* The tool-call deltas, gathered for the closing chunk (tool_call). */
static int gem_tools(llf_stream_tr *t, const cJSON *choice)
{
    const cJSON *tools = llf_get(llf_get(choice, "delta"), "tool_calls");
    for (const cJSON *c = cJSON_IsArray(tools) ? tools->child : NULL; c; c = c->next)
        if (tool_call(t, c) < 0)
            return -1;
    return 0;
}

/* The program's closing event, once: its finish reason came and its usage
 * came too, or the member's stream ended. */
static int close_program(llf_stream_tr *t, llf_buf *out)
{
    if (t->finished)
        return 0;
    if (t->to == LLF_GEMINI)
        return gem_chunk(t, NULL, 1, out);
    return anth_start(t, out) || anth_close(t, out) ? -1 : 0;
}

/* One hub chunk into the program's dialect. The closing event is held
 * until the usage is known: an OpenAI member sends it in a chunk of its own
 * after the finish reason ("choices": []), others with it. */
static int write_hub(llf_stream_tr *t, cJSON *chunk, llf_buf *out)
{
    const cJSON *u = llf_get(chunk, "usage");
    int has_usage = 0;
    if (cJSON_IsNumber(llf_get(u, "prompt_tokens")))
        t->in_tokens = llf_get(u, "prompt_tokens")->valuedouble, has_usage = 1;
    if (cJSON_IsNumber(llf_get(u, "completion_tokens")))
        t->out_tokens = llf_get(u, "completion_tokens")->valuedouble, has_usage = 1;
    double cached = llf_hub_cached(u), reasoning = llf_hub_reasoning(u);
    if (cached >= 0)
        t->in_cached = cached;
    if (reasoning >= 0)
        t->out_reasoning = reasoning;
    if (llf_get_str(chunk, "id") && *llf_get_str(chunk, "id"))   /* (Azure's first chunk: "id": "") */
        snprintf(t->id, sizeof t->id, "%s", llf_get_str(chunk, "id"));
    const cJSON *choice = cJSON_GetArrayItem(llf_get(chunk, "choices"), 0);
    const char *fr = llf_get_str(choice, "finish_reason");
    /* An OpenAI member's finish is said when its stream ends, the last one
     * said having the last word: OpenAI-compatible proxies put one on a
     * chunk before the end (on the reasoning chunk, or on every chunk with
     * the usage so far), and what follows it is still the answer's. Its
     * finish chunk and its usage chunk come at once before [DONE]. */
    if (fr && (!t->finish[0] || t->from == LLF_OPENAI))
        snprintf(t->finish, sizeof t->finish, "%s", fr);
    if (t->to == LLF_OPENAI) {
        /* made by chunk_new, with the program's model; its usage goes in a
         * chunk of its own at the end (oai_usage) */
        cJSON_DeleteItemFromObjectCaseSensitive(chunk, "usage");
        if (t->usage_asked && !cJSON_AddNullToObject(chunk, "usage")) {
            cJSON_Delete(chunk);
            return -1;
        }
        return sse(out, NULL, chunk);
    }
    int closing = t->finish[0] && has_usage && !t->finished && t->from != LLF_OPENAI, rc = 0;
    if (t->to == LLF_ANTHROPIC) {
        /* (a chunk with no choice says nothing yet: Azure's first, its
         * prompt filter results with "id": "", comes before the answer's
         * id, which message_start is to carry) */
        rc = choice ? write_anthropic(t, choice, out) : closing ? anth_start(t, out) : 0;
        if (!rc && closing)
            rc = anth_close(t, out);
    } else {
        const char *text = delta_text(t, llf_get(choice, "delta"));
        rc = gem_tools(t, choice);
        if (!rc && (closing || (text && *text && !t->finished)))
            rc = gem_chunk(t, text, closing, out);
    }
    cJSON_Delete(chunk);
    return rc;
}

/* ---- reading the member -------------------------------------------------- */

/* A chat.completion.chunk with every field OpenAI's always has: created,
 * a finish_reason (null until the end), and the role in the first delta. */
static cJSON *chunk_new(llf_stream_tr *t)
{
    cJSON *c = cJSON_CreateObject(), *choices, *ch, *d;
    int ok = c && cJSON_AddStringToObject(c, "id", t->id) &&
             cJSON_AddStringToObject(c, "object", "chat.completion.chunk") &&
             cJSON_AddNumberToObject(c, "created", t->created) && cJSON_AddStringToObject(c, "model", t->model) &&
             (choices = cJSON_AddArrayToObject(c, "choices")) && !llf_append(choices, ch = cJSON_CreateObject()) &&
             cJSON_AddNumberToObject(ch, "index", 0) && (d = cJSON_AddObjectToObject(ch, "delta")) &&
             (t->role_sent || cJSON_AddStringToObject(d, "role", "assistant")) &&
             cJSON_AddNullToObject(ch, "finish_reason");
    if (!ok) {
        cJSON_Delete(c);
        return NULL;
    }
    t->role_sent = 1;
    return c;
}

static cJSON *delta_of(cJSON *chunk)
{
    return cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(chunk, "choices"), 0), "delta");
}

/* Mistral's Magistral streams its content as an array of chunks
 * ({"type": "thinking", ...}, {"type": "text", "text": ...}): the hub's
 * delta has the text chunks' text as its string (the thinking is not the
 * answer's). 0, or -1 out of memory. */
static int flat_content(cJSON *chunk)
{
    return llf_content_flatten(delta_of(chunk), 0);
}

static int finish(cJSON *chunk, const char *fr)
{
    cJSON *s = cJSON_CreateString(fr);
    if (!s || !cJSON_ReplaceItemInObjectCaseSensitive(
                  cJSON_GetArrayItem(cJSON_GetObjectItem(chunk, "choices"), 0), "finish_reason", s)) {
        cJSON_Delete(s);
        return -1;
    }
    return 0;
}

static int usage(cJSON *chunk, double in, double out, double cached, double reasoning)
{
    return llf_add(chunk, "usage", llf_hub_usage(in, out, in + out, cached, reasoning));
}

static cJSON *tool_delta(int index, const char *id, const char *name, const char *args)
{
    cJSON *a = cJSON_CreateArray(), *c = cJSON_CreateObject(), *f = cJSON_CreateObject();
    int ok = a && c && f && !llf_add(c, "index", cJSON_CreateNumber(index)) &&
             !(id && (llf_add(c, "id", cJSON_CreateString(id)) || llf_add(c, "type", cJSON_CreateString("function")))) &&
             !(name && llf_add(f, "name", cJSON_CreateString(name))) &&
             !llf_add(f, "arguments", cJSON_CreateString(args ? args : "")) && !llf_add_own(c, "function", &f) &&
             !llf_append_own(a, &c);
    cJSON_Delete(f);   /* (NULL once added) */
    cJSON_Delete(c);
    if (!ok) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

/* A hub chunk of one tool-call delta. */
static cJSON *tool_chunk(llf_stream_tr *t, int index, const char *id, const char *name, const char *args)
{
    cJSON *c = chunk_new(t), *td = c ? tool_delta(index, id, name, args) : NULL;
    if (!td || llf_add(delta_of(c), "tool_calls", td)) {
        cJSON_Delete(c);
        return NULL;
    }
    return c;
}

static cJSON *from_anthropic(llf_stream_tr *t, const cJSON *j)
{
    const char *type = llf_get_str(j, "type");
    type = type ? type : "";
    if (!strcmp(type, "message_stop")) {
        t->done = 1;
        return NULL;
    }
    if (!strcmp(type, "message_start")) {
        const cJSON *m = llf_get(j, "message");
        if (llf_get_str(m, "id"))
            snprintf(t->id, sizeof t->id, "%s", llf_get_str(m, "id"));
        double in = llf_anthropic_input(llf_get(m, "usage"));
        t->in_tokens = in < 0 ? 0 : in;
        t->in_cached = llf_num(llf_get(m, "usage"), "cache_read_input_tokens", -1);
        cJSON *role = chunk_new(t);   /* the role */
        t->lost |= !role;
        return role;
    }
    /* (blocks come one after another: a slot per index modulo 64, made
     * anew at each block's start, so a 65th block is not the 1st) */
    const cJSON *ix = llf_get(j, "index");
    int index = cJSON_IsNumber(ix) && ix->valueint >= 0 ? ix->valueint % 64 : 0;
    cJSON *c = NULL;
    int meant = 1;   /* a chunk is to be made (none made: out of memory) */
    if (!strcmp(type, "content_block_start")) {
        const cJSON *b = llf_get(j, "content_block");
        const char *bt = llf_get_str(b, "type");
        /* Anthropic starts a block empty ("input": {}, "text": ""); servers
         * that speak its dialect may give the whole of it here instead. */
        const cJSON *in = llf_get(b, "input");
        /* (any other block, a server_tool_use with input_json_delta too,
         * holds no call: its pieces go to none) */
        t->block_tool[index] = 0;
        t->block_args[index] = 0;
        cJSON_free(t->block_input[index]);
        t->block_input[index] = NULL;
        if (bt && !strcmp(bt, "tool_use")) {
            t->block_tool[index] = ++t->ntools;
            t->block_input[index] = cJSON_IsObject(in) && in->child ? cJSON_PrintUnformatted(in) : NULL;
            t->lost |= cJSON_IsObject(in) && in->child && !t->block_input[index];
            c = tool_chunk(t, t->ntools - 1, llf_get_str(b, "id"), llf_get_str(b, "name"), "");
        } else if (bt && !strcmp(bt, "text") && llf_get_str(b, "text") && *llf_get_str(b, "text")) {
            c = chunk_new(t);
            if (c && llf_add(delta_of(c), "content", cJSON_CreateString(llf_get_str(b, "text"))))
                cJSON_Delete(c), c = NULL;
        } else
            meant = 0;
    } else if (!strcmp(type, "content_block_delta")) {
        const cJSON *d = llf_get(j, "delta");
        const char *dt = llf_get_str(d, "type");
        /* thinking and other deltas: nothing to say */
        int text = dt && !strcmp(dt, "text_delta"), args = dt && !strcmp(dt, "input_json_delta") && t->block_tool[index];
        const char *pj = llf_get_str(d, "partial_json");
        if (text) {
            c = chunk_new(t);
            if (c && llf_add(delta_of(c), "content", cJSON_CreateString(llf_get_str(d, "text") ? llf_get_str(d, "text") : "")))
                cJSON_Delete(c), c = NULL;
        } else if (args) {
            t->block_args[index] |= pj && *pj;
            c = tool_chunk(t, t->block_tool[index] - 1, NULL, NULL, pj);
        } else
            meant = 0;
    } else if (!strcmp(type, "content_block_stop") && t->block_tool[index] && !t->block_args[index]) {
        /* A tool without input streams only partial_json "": its arguments
         * are "{}", as a whole answer's are, never "" (not JSON). */
        t->block_args[index] = 1;
        c = tool_chunk(t, t->block_tool[index] - 1, NULL, NULL, t->block_input[index] ? t->block_input[index] : "{}");
        cJSON_free(t->block_input[index]);
        t->block_input[index] = NULL;
    } else if (!strcmp(type, "message_delta")) {
        const char *sr = llf_get_str(llf_get(j, "delta"), "stop_reason");
        const cJSON *ot = llf_get(llf_get(j, "usage"), "output_tokens");
        double in = llf_anthropic_input(llf_get(j, "usage"));   /* cumulative, when it says */
        if (in >= 0)
            t->in_tokens = in;
        t->in_cached = llf_num(llf_get(j, "usage"), "cache_read_input_tokens", t->in_cached);
        c = chunk_new(t);
        if (c && (finish(c, llf_anthropic_finish(sr)) ||
                  usage(c, t->in_tokens, cJSON_IsNumber(ot) ? ot->valuedouble : 0, t->in_cached, -1)))
            cJSON_Delete(c), c = NULL;
    } else
        meant = 0;
    t->lost |= meant && !c;
    return c;
}

/* Gemini's usage, cumulative: the last usageMetadata has it all. The
 * output counted as a whole answer's is: thinking included, and its count
 * kept for the hub's reasoning_tokens. */
static void gemini_usage(llf_stream_tr *t, const cJSON *um)
{
    if (!cJSON_IsObject(um))
        return;
    t->held_in = llf_num(um, "promptTokenCount", 0);
    t->in_tokens = t->held_in;   /* (known at once: an Anthropic program's message_start says it) */
    t->held_out = llf_num(um, "candidatesTokenCount", 0) + llf_num(um, "thoughtsTokenCount", 0);
    t->held_cached = llf_num(um, "cachedContentTokenCount", -1);
    t->held_reasoning = llf_num(um, "thoughtsTokenCount", -1);
}

/* A Gemini chunk's text and calls, live. Its finish is held for the end of
 * the stream (gemini_close): a chunk of usage may still follow it, and
 * servers that speak Gemini's dialect through a translation (one-hub,
 * CLIProxyAPI) say a finishReason on every chunk, so what comes after one
 * is still the answer's, and the last finish said has the last word. */
static cJSON *from_gemini(llf_stream_tr *t, const cJSON *j)
{
    gemini_usage(t, llf_get(j, "usageMetadata"));
    const cJSON *cand = cJSON_GetArrayItem(llf_get(j, "candidates"), 0);
    const cJSON *parts = llf_get(llf_get(cand, "content"), "parts");
    /* the answer's id, as a whole answer's is: before the chunk takes it
     * (write_hub keeps the chunk's id as the stream's) */
    if (llf_get_str(j, "responseId"))
        snprintf(t->id, sizeof t->id, "%s", llf_get_str(j, "responseId"));
    else if (!t->gemini_id)   /* (none: one made up, as a whole answer's) */
        llf_gemini_made_id(t->id);
    t->gemini_id = 1;
    int first = !t->role_sent;
    cJSON *c = chunk_new(t);
    llf_buf text = {0};
    int ok = c != NULL, calls = 0;
    for (const cJSON *p = cJSON_IsArray(parts) ? parts->child : NULL; p && ok; p = p->next) {
        const cJSON *fc = llf_get(p, "functionCall");
        if (llf_get_str(p, "text") && !cJSON_IsTrue(llf_get(p, "thought"))) {
            ok = !llf_buf_adds(&text, llf_get_str(p, "text"));
        } else if (fc) {
            char id[80], *args = llf_get(fc, "args") ? cJSON_PrintUnformatted(llf_get(fc, "args")) : NULL;
            ok = !llf_get(fc, "args") || args;
            llf_gemini_call_id(id, sizeof id, t->id, t->ntools);
            cJSON *td = tool_delta(t->ntools++, id, llf_get_str(fc, "name"), args ? args : "{}");
            free(args);
            cJSON *arr = cJSON_GetObjectItem(delta_of(c), "tool_calls");
            if (!td)
                ok = 0;
            else if (arr) {
                cJSON_AddItemToArray(arr, cJSON_DetachItemFromArray(td, 0));
                cJSON_Delete(td);
            } else
                ok = !llf_add(delta_of(c), "tool_calls", td);
            calls++;
        }
    }
    if (ok && text.n)
        ok = !llf_add(delta_of(c), "content", cJSON_CreateString(text.p));
    /* The last chunk has a finishReason, or (the prompt blocked) a
     * promptFeedback.blockReason and no candidate: an empty answer ended
     * by the filter, as dialect_gemini.c reads a whole one. */
    const char *f = llf_get_str(cand, "finishReason");
    int blocked = llf_get(llf_get(j, "promptFeedback"), "blockReason") != NULL;
    if (f || blocked) {
        t->done = 1;
        snprintf(t->held_finish, sizeof t->held_finish, "%s",
                 blocked ? "content_filter" : llf_gemini_finish(f, t->ntools));
    }
    int said = first || text.n || calls;   /* (no chunk for one with nothing new to say) */
    llf_buf_free(&text);
    t->lost |= !ok;
    if (!ok || !said) {
        cJSON_Delete(c);
        return NULL;
    }
    return c;
}

/* A Gemini member's stream ended after its finish: the finish and the last
 * usage, in one hub chunk, as from the other dialects. */
static int gemini_close(llf_stream_tr *t, llf_buf *out)
{
    cJSON *c = chunk_new(t);
    if (!c || finish(c, t->held_finish) ||
        usage(c, t->held_in, t->held_out, t->held_cached, t->held_reasoning)) {
        cJSON_Delete(c);
        return -1;
    }
    return write_hub(t, c, out);
}

int llf_stream_tr_event(llf_stream_tr *t, const char *event, const char *data, size_t len, llf_buf *out)
{
    (void)event;
    if (t->from == LLF_OPENAI && llf_sse_done(data, len)) {
        t->done = 1;
        return t->to != LLF_OPENAI ? close_program(t, out) : 0;   /* if no usage came */
    }
    /* (a lone surrogate: U+FFFD; a raw control character in a string is
     * taken and printed escaped: the gate judged the events before the
     * stream went live as JSON, strictly, and a later one can no longer
     * fall back, so it is mended as cJSON always did, not made a broken
     * stream) */
    cJSON *j = llf_json_parse_mended(llf_json_parse_raw_controls, data, len);
    if (!cJSON_IsObject(j) || llf_names_error(j) ||
        (llf_get_str(j, "type") && !strcmp(llf_get_str(j, "type"), "error"))) {
        cJSON_Delete(j);
        return -1;
    }
    cJSON *chunk = t->from == LLF_OPENAI ? j : t->from == LLF_ANTHROPIC ? from_anthropic(t, j) : from_gemini(t, j);
    if (chunk != j)
        cJSON_Delete(j);
    /* (an OpenAI member's content flattened, every chunk's calls given the
     * program's function names; a chunk that could not be made: the stream
     * breaks, never goes on without it) */
    if ((chunk == j && flat_content(chunk)) || t->lost || llf_hub_names_back(chunk, t->names)) {
        cJSON_Delete(chunk);
        return -1;
    }
    return chunk ? write_hub(t, chunk, out) : 0;
}

/* OpenAI's usage chunk, for a program that asked it: after the finish,
 * before [DONE], with no choices. */
static int oai_usage(llf_stream_tr *t, llf_buf *out)
{
    cJSON *c = cJSON_CreateObject();
    int ok = c && cJSON_AddStringToObject(c, "id", t->id) &&
             cJSON_AddStringToObject(c, "object", "chat.completion.chunk") &&
             cJSON_AddNumberToObject(c, "created", t->created) && cJSON_AddStringToObject(c, "model", t->model) &&
             cJSON_AddArrayToObject(c, "choices") &&
             !usage(c, t->in_tokens, t->out_tokens, t->in_cached, t->out_reasoning);
    return sse_if(out, NULL, c, ok);
}

int llf_stream_tr_end(llf_stream_tr *t, llf_buf *out)
{
    /* No terminator from the member and no finish reason either: the
     * stream was cut, and closing it in the program's dialect would pass a
     * partial answer off as whole. A stream that ended cleanly (the caller
     * calls this only then) after its finish reason said all it had: some
     * OpenAI-compatible servers end theirs without [DONE], and OpenAI's
     * SDKs take that as complete. A Gemini member's finish and usage go out
     * now that nothing can follow. */
    if (t->finish[0])
        t->done = 1;
    if (!t->done || (t->from == LLF_GEMINI && gemini_close(t, out)))
        return -1;
    if (t->to == LLF_OPENAI)
        return (t->usage_asked && oai_usage(t, out)) || llf_buf_adds(out, "data: [DONE]\n\n") ? -1 : 0;
    if (close_program(t, out))
        return -1;
    return t->to == LLF_GEMINI ? 0 : sse(out, "message_stop", parse("{\"type\":\"message_stop\"}"));
}

struct llf_stream_pipe {
    llf_sse sse;
    llf_stream_tr tr;
    llf_buf *out;
    int bad;
};

static int pipe_event(void *ctx, const char *event, const char *data, size_t len)
{
    llf_stream_pipe *p = ctx;
    if (llf_stream_tr_event(&p->tr, event, data, len, p->out))
        p->bad = 1;
    return p->bad;
}

llf_stream_pipe *llf_stream_pipe_new(int from, int to, const char *model, int usage_asked, const cJSON *names)
{
    llf_stream_pipe *p = calloc(1, sizeof *p);
    if (p) {
        llf_stream_tr_init(&p->tr, (llf_dialect)from, (llf_dialect)to, model);
        p->tr.usage_asked = usage_asked;
        if (names && !(p->tr.names = cJSON_Duplicate(names, 1))) {
            llf_stream_pipe_free(p);
            p = NULL;
        }
    }
    return p;
}

int llf_stream_pipe_feed(llf_stream_pipe *p, const char *bytes, size_t n, llf_buf *out)
{
    p->out = out;
    int rc = llf_sse_feed(&p->sse, bytes, n, pipe_event, p);
    return rc || p->bad ? -1 : 0;
}

int llf_stream_pipe_end(llf_stream_pipe *p, llf_buf *out)
{
    return llf_stream_tr_end(&p->tr, out);
}

void llf_stream_pipe_free(llf_stream_pipe *p)
{
    if (!p)
        return;
    llf_sse_free(&p->sse);
    llf_stream_tr_free(&p->tr);
    free(p);
}
