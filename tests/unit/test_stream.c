/* Stream translation between every pair of dialects: the text and the tool
 * calls of the member's stream reach the program's dialect intact, framed
 * the way that dialect frames a stream. Input is fed one byte at a time. */
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "sse.h"
#include "stream.h"
#include "t.h"

static const char *const TEXT[3] = {
    /* OpenAI */
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello fro\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"m x\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8}}\n\n"
    "data: [DONE]\n\n",
    /* Anthropic */
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
    "event: ping\ndata: {\"type\":\"ping\"}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello fro\"}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"m x\"}}\n\n"
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":3}}\n\n"
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    /* Gemini */
    "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hello fro\"}],\"role\":\"model\"},\"index\":0}],\"modelVersion\":\"m\"}\r\n\r\n"
    "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"m x\"}],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":3,\"totalTokenCount\":8},\"modelVersion\":\"m\"}\r\n\r\n",
};

static const char *const TOOLS[3] = {
    "data: {\"id\":\"c2\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c2\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c2\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c2\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
    "data: [DONE]\n\n",
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_2\",\"usage\":{\"input_tokens\":9}}}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{}}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\":\"}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"Paris\\\"}\"}}\n\n"
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":7}}\n\n"
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    "data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"get_weather\",\"args\":{\"city\":\"Paris\"}}}],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}]}\n\n",
};

typedef struct run {
    llf_stream_tr tr;
    llf_buf out;
    int bad;
} run_t;

static int feed_event(void *ctx, const char *event, const char *data, size_t len)
{
    run_t *r = ctx;
    if (llf_stream_tr_event(&r->tr, event, data, len, &r->out))
        r->bad = 1;
    return 0;
}

/* What the program's dialect says, read back: text, tool name, arguments,
 * finish, and whether it was framed right (start and end). */
typedef struct seen {
    llf_buf text, args;
    char tool[64], finish[32];
    int events, framed_start, framed_end;
    int invalid;   /* Gemini chunks whose content Google's SDKs reject */
    llf_dialect d;
} seen;

/* A Gemini chunk as @google/genai's chat judges it (isValidResponse): a
 * candidate whose content has parts, none of them empty. A chat that gets
 * one invalid chunk drops the whole exchange from its history. */
static int gemini_chunk_valid(const cJSON *chunk)
{
    const cJSON *cand = cJSON_GetArrayItem(cJSON_GetObjectItem(chunk, "candidates"), 0);
    const cJSON *parts = cJSON_GetObjectItem(cJSON_GetObjectItem(cand, "content"), "parts");
    if (cJSON_GetArraySize(parts) == 0)
        return 0;
    for (const cJSON *p = parts->child; p; p = p->next)
        if (!cJSON_IsObject(p) || !p->child)
            return 0;
    return 1;
}

static int read_event(void *ctx, const char *event, const char *data, size_t len)
{
    seen *s = ctx;
    s->events++;
    if (s->d == LLF_OPENAI && len == 6 && !memcmp(data, "[DONE]", 6)) {
        s->framed_end = 1;
        return 0;
    }
    cJSON *j = cJSON_ParseWithLength(data, len);
    if (!j)
        return 1;
    if (s->d == LLF_OPENAI) {
        const cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0), *d = cJSON_GetObjectItem(ch, "delta");
        const cJSON *c = cJSON_GetObjectItem(d, "content"), *f = cJSON_GetObjectItem(ch, "finish_reason");
        s->framed_start |= s->events == 1 && strcmp(cJSON_GetObjectItem(j, "object") ? cJSON_GetObjectItem(j, "object")->valuestring : "", "chat.completion.chunk") == 0;
        if (cJSON_IsString(c))
            llf_buf_adds(&s->text, c->valuestring);
        if (cJSON_IsString(f))
            snprintf(s->finish, sizeof s->finish, "%s", f->valuestring);
        for (const cJSON *t = cJSON_GetObjectItem(d, "tool_calls") ? cJSON_GetObjectItem(d, "tool_calls")->child : NULL; t; t = t->next) {
            const cJSON *fn = cJSON_GetObjectItem(t, "function");
            if (cJSON_GetObjectItem(fn, "name"))
                snprintf(s->tool, sizeof s->tool, "%s", cJSON_GetObjectItem(fn, "name")->valuestring);
            if (cJSON_IsString(cJSON_GetObjectItem(fn, "arguments")))
                llf_buf_adds(&s->args, cJSON_GetObjectItem(fn, "arguments")->valuestring);
        }
    } else if (s->d == LLF_ANTHROPIC) {
        s->framed_start |= s->events == 1 && strcmp(event, "message_start") == 0;
        s->framed_end = strcmp(event, "message_stop") == 0;
        const cJSON *d = cJSON_GetObjectItem(j, "delta"), *b = cJSON_GetObjectItem(j, "content_block");
        if (cJSON_GetObjectItem(d, "text"))
            llf_buf_adds(&s->text, cJSON_GetObjectItem(d, "text")->valuestring);
        if (cJSON_GetObjectItem(d, "partial_json"))
            llf_buf_adds(&s->args, cJSON_GetObjectItem(d, "partial_json")->valuestring);
        if (cJSON_GetObjectItem(d, "stop_reason"))
            snprintf(s->finish, sizeof s->finish, "%s", cJSON_GetObjectItem(d, "stop_reason")->valuestring);
        if (b && cJSON_GetObjectItem(b, "name"))
            snprintf(s->tool, sizeof s->tool, "%s", cJSON_GetObjectItem(b, "name")->valuestring);
    } else {
        const cJSON *cand = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "candidates"), 0);
        s->framed_start = 1;
        s->invalid += !gemini_chunk_valid(j);
        const cJSON *parts = cJSON_GetObjectItem(cJSON_GetObjectItem(cand, "content"), "parts");
        for (const cJSON *p = parts ? parts->child : NULL; p; p = p->next) {
            if (cJSON_GetObjectItem(p, "text"))
                llf_buf_adds(&s->text, cJSON_GetObjectItem(p, "text")->valuestring);
            const cJSON *fc = cJSON_GetObjectItem(p, "functionCall");
            if (fc) {
                snprintf(s->tool, sizeof s->tool, "%s", cJSON_GetObjectItem(fc, "name")->valuestring);
                char *a = cJSON_PrintUnformatted(cJSON_GetObjectItem(fc, "args"));
                llf_buf_adds(&s->args, a);
                free(a);
            }
        }
        if (cJSON_GetObjectItem(cand, "finishReason")) {
            snprintf(s->finish, sizeof s->finish, "%s", cJSON_GetObjectItem(cand, "finishReason")->valuestring);
            s->framed_end = 1;
        }
    }
    cJSON_Delete(j);
    return 0;
}

/* What a program in dialect d reads of the SSE text out. */
static seen read_seen(llf_dialect d, const llf_buf *out)
{
    seen s = {.d = d};
    llf_sse q = {0};
    llf_sse_feed(&q, out->p ? out->p : "", out->n, read_event, &s);
    llf_sse_free(&q);
    return s;
}

static void seen_free(seen *s)
{
    llf_buf_free(&s->text);
    llf_buf_free(&s->args);
}

static void check_pair(llf_dialect from, llf_dialect to, const char *in, int tools)
{
    static const char *const names[] = {"openai", "anthropic", "gemini"};
    static const char *const stops[] = {"stop", "end_turn", "STOP"};
    static const char *const toolstops[] = {"tool_calls", "tool_use", "STOP"};
    run_t r = {.out = {0}};
    llf_stream_tr_init(&r.tr, from, to, "reported-model");
    llf_sse p = {0};
    for (size_t i = 0; in[i]; i++)   /* one byte at a time */
        llf_sse_feed(&p, in + i, 1, feed_event, &r);
    llf_sse_free(&p);
    CHECK(!r.bad && llf_stream_tr_end(&r.tr, &r.out) == 0);
    seen s = read_seen(to, &r.out);
    char label[64];
    snprintf(label, sizeof label, "%s → %s%s", names[from], names[to], tools ? " (tools)" : "");
    int ok = s.framed_start && s.framed_end && !s.invalid &&
             !strcmp(s.finish, tools ? toolstops[to] : stops[to]) &&
             (tools ? !strcmp(s.tool, "get_weather") && !strcmp(s.args.p ? s.args.p : "", "{\"city\":\"Paris\"}")
                    : !strcmp(s.text.p ? s.text.p : "", "Hello from x"));
    if (!ok)
        fprintf(stderr, "FAIL stream %s: start %d end %d invalid %d finish '%s' text '%s' tool '%s' args '%s'\n%s\n",
                label, s.framed_start, s.framed_end, s.invalid, s.finish, s.text.p ? s.text.p : "", s.tool,
                s.args.p ? s.args.p : "", r.out.p ? r.out.p : "");
    CHECK(ok);
    seen_free(&s);
    llf_buf_free(&r.out);
    llf_stream_tr_free(&r.tr);
}

/* A member stream cut after its first text (no finish, no terminator) must
 * not be closed in the program's dialect: the end reports it broken and
 * adds nothing. */
static void check_cut(llf_dialect from, llf_dialect to)
{
    const char *in = TEXT[from], *hello = strstr(in, "Hello fro");
    const char *lf = strstr(hello, "\n\n"), *crlf = strstr(hello, "\r\n\r\n");
    const char *end = crlf && (!lf || crlf < lf) ? crlf + 4 : lf + 2;
    llf_stream_pipe *p = llf_stream_pipe_new(from, to, "m", 0, NULL);
    llf_buf out = {0};
    CHECK(p && llf_stream_pipe_feed(p, in, (size_t)(end - in), &out) == 0);
    size_t n = out.n;
    CHECK(n > 0);   /* the text so far went out live */
    CHECK(llf_stream_pipe_end(p, &out) == -1);
    CHECK(out.n == n);
    llf_buf_free(&out);
    llf_stream_pipe_free(p);
}

/* OpenAI with stream_options.include_usage: the finish reason in one chunk,
 * the usage in a later one with no choices. The program's closing event
 * (message_delta, Gemini's finishReason chunk) carries that usage. */
static const char OAI_USAGE[] =
    "data: {\"id\":\"c3\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"c3\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}],\"usage\":null}\n\n"
    "data: {\"id\":\"c3\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":2,\"total_tokens\":14}}\n\n"
    "data: [DONE]\n\n";

typedef struct closing {
    int closes, in, out;
    char reason[32];
} closing;

static int read_closing(void *ctx, const char *event, const char *data, size_t len)
{
    closing *c = ctx;
    cJSON *j = cJSON_ParseWithLength(data, len);
    const cJSON *cand = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "candidates"), 0);
    const cJSON *u = NULL, *r = NULL;
    if (!strcmp(event, "message_delta")) {
        u = cJSON_GetObjectItem(j, "usage");
        r = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "delta"), "stop_reason");
        c->in = cJSON_GetObjectItem(u, "input_tokens") ? cJSON_GetObjectItem(u, "input_tokens")->valueint : -1;
        c->out = cJSON_GetObjectItem(u, "output_tokens") ? cJSON_GetObjectItem(u, "output_tokens")->valueint : -1;
    } else if (cJSON_GetObjectItem(cand, "finishReason")) {
        u = cJSON_GetObjectItem(j, "usageMetadata");
        r = cJSON_GetObjectItem(cand, "finishReason");
        c->in = cJSON_GetObjectItem(u, "promptTokenCount") ? cJSON_GetObjectItem(u, "promptTokenCount")->valueint : -1;
        c->out = cJSON_GetObjectItem(u, "candidatesTokenCount") ? cJSON_GetObjectItem(u, "candidatesTokenCount")->valueint : -1;
    }
    if (cJSON_IsString(r)) {
        c->closes++;
        snprintf(c->reason, sizeof c->reason, "%s", r->valuestring);
    }
    cJSON_Delete(j);
    return 0;
}

static void check_late_usage(llf_dialect to, const char *reason)
{
    llf_stream_pipe *p = llf_stream_pipe_new(LLF_OPENAI, to, "m", 0, NULL);
    llf_buf out = {0};
    CHECK(p && llf_stream_pipe_feed(p, OAI_USAGE, strlen(OAI_USAGE), &out) == 0);
    CHECK(llf_stream_pipe_end(p, &out) == 0);
    closing c = {0};
    llf_sse q = {0};
    llf_sse_feed(&q, out.p ? out.p : "", out.n, read_closing, &c);
    llf_sse_free(&q);
    CHECK(c.closes == 1 && !strcmp(c.reason, reason));
    if (c.in != 12 || c.out != 2)
        fprintf(stderr, "FAIL late usage: in %d out %d\n%s\n", c.in, c.out, out.p ? out.p : "");
    CHECK(c.in == 12 && c.out == 2);
    llf_buf_free(&out);
    llf_stream_pipe_free(p);
}

/* Translated OpenAI chunks have what OpenAI's always have: object, created,
 * model, a finish_reason (null until the last), the role in the first. */
typedef struct oai_fields {
    int chunks, bad, finals;
} oai_fields;

static int read_oai_fields(void *ctx, const char *event, const char *data, size_t len)
{
    oai_fields *f = ctx;
    if (len == 6 && !memcmp(data, "[DONE]", 6))
        return 0;
    cJSON *j = cJSON_ParseWithLength(data, len);
    const cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0);
    const cJSON *fr = cJSON_GetObjectItem(ch, "finish_reason");
    const cJSON *role = cJSON_GetObjectItem(cJSON_GetObjectItem(ch, "delta"), "role");
    int ok = cJSON_IsNumber(cJSON_GetObjectItem(j, "created")) && cJSON_GetObjectItem(j, "created")->valuedouble > 0 &&
             cJSON_IsString(cJSON_GetObjectItem(j, "model")) && cJSON_IsString(cJSON_GetObjectItem(j, "id")) &&
             (cJSON_IsNull(fr) || cJSON_IsString(fr)) &&
             (f->chunks > 0 || (cJSON_IsString(role) && !strcmp(role->valuestring, "assistant")));
    f->finals += cJSON_IsString(fr);
    f->chunks++;
    if (!ok) {
        f->bad++;
        fprintf(stderr, "FAIL chunk %d lacks a field: %.*s\n", f->chunks, (int)len, data);
    }
    cJSON_Delete(j);
    return 0;
}

static void check_oai_fields(llf_dialect from, const char *in)
{
    llf_stream_pipe *p = llf_stream_pipe_new(from, LLF_OPENAI, "m", 0, NULL);
    llf_buf out = {0};
    CHECK(p && llf_stream_pipe_feed(p, in, strlen(in), &out) == 0 && llf_stream_pipe_end(p, &out) == 0);
    oai_fields f = {0};
    llf_sse q = {0};
    llf_sse_feed(&q, out.p ? out.p : "", out.n, read_oai_fields, &f);
    llf_sse_free(&q);
    CHECK(f.chunks > 0 && f.bad == 0 && f.finals == 1);
    llf_buf_free(&out);
    llf_stream_pipe_free(p);
}

/* To Gemini, whose calls go out whole at the end: 20 calls, the first with
 * a 64-character name (the longest OpenAI and Gemini allow), all kept. */
static void check_many_gemini_calls(void)
{
    char name[65], ev[512];
    memset(name, 'a', 63);
    name[63] = 'Z';
    name[64] = '\0';
    llf_buf in = {0};
    for (int i = 0; i < 20; i++) {
        snprintf(ev, sizeof ev, "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":%d,"
                 "\"id\":\"call_%d\",\"type\":\"function\",\"function\":{\"name\":\"%s\",\"arguments\":\"{\\\"n\\\":%d}\"}}]},"
                 "\"finish_reason\":null}]}\n\n", i, i, i ? "f" : name, i);
        llf_buf_adds(&in, ev);
    }
    llf_buf_adds(&in, "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
                      "data: [DONE]\n\n");
    llf_stream_pipe *p = llf_stream_pipe_new(LLF_OPENAI, LLF_GEMINI, "m", 0, NULL);
    llf_buf out = {0};
    CHECK(p && llf_stream_pipe_feed(p, in.p, in.n, &out) == 0 && llf_stream_pipe_end(p, &out) == 0);
    const char *d = out.p ? strstr(out.p, "data: ") : NULL;
    cJSON *j = d ? cJSON_Parse(d + 6) : NULL;
    const cJSON *parts = cJSON_GetObjectItem(cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "candidates"), 0), "content"), "parts");
    const cJSON *first = cJSON_GetObjectItem(cJSON_GetArrayItem(parts, 0), "functionCall");
    const cJSON *last = cJSON_GetObjectItem(cJSON_GetArrayItem(parts, 19), "functionCall");
    CHECK(cJSON_GetArraySize(parts) == 20);
    /* the first call signed for the program's own Gemini 3, the others not */
    const cJSON *sig = cJSON_GetObjectItem(cJSON_GetArrayItem(parts, 0), "thoughtSignature");
    CHECK(cJSON_IsString(sig) && !strcmp(sig->valuestring, "skip_thought_signature_validator"));
    CHECK(!cJSON_GetObjectItem(cJSON_GetArrayItem(parts, 1), "thoughtSignature"));
    CHECK(cJSON_IsString(cJSON_GetObjectItem(first, "name")) &&
          !strcmp(cJSON_GetObjectItem(first, "name")->valuestring, name));
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(last, "args"), "n") &&
          cJSON_GetObjectItem(cJSON_GetObjectItem(last, "args"), "n")->valueint == 19);
    cJSON_Delete(j);
    llf_buf_free(&in);
    llf_buf_free(&out);
    llf_stream_pipe_free(p);
}

/* A member's closing event read as its whole answer would be: the finish
 * reason and the output tokens of the last OpenAI chunk. */
typedef struct final {
    char finish[32];
    int out;
} final;

static int read_final(void *ctx, const char *event, const char *data, size_t len)
{
    final *f = ctx;
    cJSON *j = cJSON_ParseWithLength(data, len);
    const cJSON *fr = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0), "finish_reason");
    const cJSON *ct = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "usage"), "completion_tokens");
    if (cJSON_IsString(fr))
        snprintf(f->finish, sizeof f->finish, "%s", fr->valuestring);
    if (cJSON_IsNumber(ct))
        f->out = ct->valueint;
    cJSON_Delete(j);
    return 0;
}

static void check_final(llf_dialect from, const char *in, const char *finish, int out_tokens)
{
    llf_stream_pipe *p = llf_stream_pipe_new(from, LLF_OPENAI, "m", 1, NULL)   /* (usage asked) */;
    llf_buf out = {0};
    CHECK(p && llf_stream_pipe_feed(p, in, strlen(in), &out) == 0 && llf_stream_pipe_end(p, &out) == 0);
    final f = {{0}, -1};
    llf_sse q = {0};
    llf_sse_feed(&q, out.p ? out.p : "", out.n, read_final, &f);
    llf_sse_free(&q);
    CHECK_STR(f.finish, finish);
    CHECK(f.out == out_tokens);
    llf_buf_free(&out);
    llf_stream_pipe_free(p);
}

/* Finish reasons and usage as the whole answers' translators read them:
 * Gemini's SPII and IMAGE_SAFETY are filters, its thinking is output;
 * Anthropic's full context window cut the answer short. */
static void check_finals(void)
{
    static const char gem[] =
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}],\"role\":\"model\"},"
        "\"finishReason\":\"%s\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":5,"
        "\"candidatesTokenCount\":3,\"thoughtsTokenCount\":40,\"totalTokenCount\":48}}\n\n";
    static const char *const gemini[][2] = {{"SPII", "content_filter"}, {"IMAGE_SAFETY", "content_filter"},
                                            {"SAFETY", "content_filter"}, {"MAX_TOKENS", "length"},
                                            {"STOP", "stop"}};
    for (size_t i = 0; i < sizeof gemini / sizeof gemini[0]; i++) {
        char ev[512];
        snprintf(ev, sizeof ev, gem, gemini[i][0]);
        check_final(LLF_GEMINI, ev, gemini[i][1], 43);
    }
    check_final(LLF_ANTHROPIC,
                "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_3\","
                "\"usage\":{\"input_tokens\":9}}}\n\n"
                "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
                "\"model_context_window_exceeded\"},\"usage\":{\"output_tokens\":7}}\n\n"
                "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
                "length", 7);
}

/* What an OpenAI program reads of a translated stream: the first tool
 * call's arguments put together, and the usage. */
typedef struct oai_read {
    char args[64];
    int calls, prompt;
} oai_read;

static int read_oai(void *ctx, const char *event, const char *data, size_t len)
{
    oai_read *r = ctx;
    cJSON *j = cJSON_ParseWithLength(data, len);
    const cJSON *d = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0), "delta");
    const cJSON *a = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(d, "tool_calls"), 0),
                                                             "function"), "arguments");
    const cJSON *pt = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "usage"), "prompt_tokens");
    if (cJSON_IsString(a)) {
        r->calls++;
        strncat(r->args, a->valuestring, sizeof r->args - strlen(r->args) - 1);
    }
    if (cJSON_IsNumber(pt))
        r->prompt = pt->valueint;
    cJSON_Delete(j);
    return 0;
}

static oai_read to_openai(const char *in)
{
    llf_stream_pipe *p = llf_stream_pipe_new(LLF_ANTHROPIC, LLF_OPENAI, "m", 1, NULL)   /* (usage asked) */;
    llf_buf out = {0};
    CHECK(p && llf_stream_pipe_feed(p, in, strlen(in), &out) == 0 && llf_stream_pipe_end(p, &out) == 0);
    oai_read r = {{0}, 0, -1};
    llf_sse q = {0};
    llf_sse_feed(&q, out.p ? out.p : "", out.n, read_oai, &r);
    llf_sse_free(&q);
    llf_buf_free(&out);
    llf_stream_pipe_free(p);
    return r;
}

#define A_MSG(usage) "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"usage\":" usage "}}\n\n"
#define A_DELTA(usage) "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":" usage "}\n\n" \
                       "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"

/* An Anthropic tool that takes no input streams only partial_json "": the
 * OpenAI program gets arguments "{}", as from a whole answer. Input tokens
 * count the cache's, as a whole answer's do, and message_delta's usage
 * (cumulative) has the last word. */
static void check_anthropic_details(void)
{
    oai_read r = to_openai(A_MSG("{\"input_tokens\":5}")
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"now\",\"input\":{}}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" A_DELTA("{\"output_tokens\":3}"));
    CHECK_STR(r.args, "{}");
    CHECK(r.prompt == 5);
    r = to_openai(A_MSG("{\"input_tokens\":5}")
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"at\",\"input\":{}}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\":\"}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"1}\"}}\n\n"
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" A_DELTA("{\"output_tokens\":3}"));
    CHECK_STR(r.args, "{\"a\":1}");   /* nothing added to real arguments */
    r = to_openai(A_MSG("{\"input_tokens\":12,\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":48000}")
                  A_DELTA("{\"output_tokens\":5}"));
    CHECK(r.prompt == 48112);
    r = to_openai(A_MSG("{\"input_tokens\":1}")
                  A_DELTA("{\"input_tokens\":12,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":48000,\"output_tokens\":5}"));
    CHECK(r.prompt == 48012);
}

/* A block that holds no call (a server_tool_use, with input_json_delta of
 * its own; text) takes its index afresh: its pieces are added to no call,
 * neither where a server gives every block index 0 nor past the 64th block
 * (web search with citations splits text into many). */
#define A_STOP(i) "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":" #i "}\n\n"
#define A_BLOCK(i, type, extra) "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":" #i \
    ",\"content_block\":{\"type\":\"" type "\"" extra "}}\n\n"
#define A_ARGS(i, json) "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":" #i \
    ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"" json "\"}}\n\n"
static void check_blocks_without_calls(void)
{
    oai_read r = to_openai(A_MSG("{\"input_tokens\":5}")
        A_BLOCK(0, "tool_use", ",\"id\":\"toolu_1\",\"name\":\"f\",\"input\":{}") A_ARGS(0, "{\\\"a\\\":1}") A_STOP(0)
        A_BLOCK(0, "server_tool_use", ",\"id\":\"srvtoolu_1\",\"name\":\"web_search\",\"input\":{}")
        A_ARGS(0, "{\\\"query\\\":\\\"x\\\"}") A_STOP(0) A_DELTA("{\"output_tokens\":3}"));
    CHECK_STR(r.args, "{\"a\":1}");
    CHECK(r.calls == 2);   /* the call's start and its one piece */
    llf_buf in = {0};
    llf_buf_adds(&in, A_MSG("{\"input_tokens\":5}"));
    for (int i = 0; i < 64; i++)
        llf_buf_printf(&in, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":%d,"
                            "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
                            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":%d}\n\n", i, i);
    llf_buf_adds(&in, A_BLOCK(64, "tool_use", ",\"id\":\"toolu_1\",\"name\":\"f\",\"input\":{}") A_ARGS(64, "{\\\"a\\\":1}")
                      A_STOP(64) A_BLOCK(65, "server_tool_use", ",\"id\":\"srvtoolu_1\",\"name\":\"web_search\",\"input\":{}")
                      A_ARGS(65, "{\\\"query\\\":\\\"x\\\"}") A_STOP(65) A_DELTA("{\"output_tokens\":3}"));
    r = to_openai(in.p ? in.p : "");
    CHECK_STR(r.args, "{\"a\":1}");
    llf_buf_free(&in);
}

/* A tool's input or a block's text given whole in content_block_start,
 * as some servers speaking Anthropic's dialect do (Anthropic starts blocks
 * empty): the program gets them, as Anthropic's SDKs would; input_json_delta
 * after it has the last word, as in those SDKs. */
#define A_TOOL_START(input) "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1," \
    "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":" input "}}\n\n"
static const char A_WHOLE_START[] = A_MSG("{\"input_tokens\":5}")
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"Let me \"}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"look.\"}}\n\n"
    A_STOP(0) A_TOOL_START("{\"city\":\"Paris\"}") A_STOP(1)
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":3}}\n\n"
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

static void check_whole_block_starts(void)
{
    for (int to = 0; to < 3; to++) {
        if (to == LLF_ANTHROPIC)
            continue;
        llf_stream_pipe *p = llf_stream_pipe_new(LLF_ANTHROPIC, to, "m", 0, NULL);
        llf_buf out = {0};
        CHECK(p && llf_stream_pipe_feed(p, A_WHOLE_START, strlen(A_WHOLE_START), &out) == 0 &&
              llf_stream_pipe_end(p, &out) == 0);
        seen s = read_seen((llf_dialect)to, &out);
        CHECK_STR(s.text.p ? s.text.p : "", "Let me look.");
        CHECK_STR(s.tool, "get_weather");
        cJSON *args = cJSON_Parse(s.args.p ? s.args.p : "");
        CHECK(args && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(args, "city")) ? cJSON_GetStringValue(cJSON_GetObjectItem(args, "city")) : "", "Paris"));
        cJSON_Delete(args);
        seen_free(&s);
        llf_buf_free(&out);
        llf_stream_pipe_free(p);
    }
    /* deltas after a start that gave input: theirs */
    oai_read r = to_openai(A_MSG("{\"input_tokens\":5}") A_TOOL_START("{\"city\":\"Paris\"}")
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\":\\\"Rome\\\"}\"}}\n\n"
        A_STOP(1) A_DELTA("{\"output_tokens\":3}"));
    CHECK_STR(r.args, "{\"city\":\"Rome\"}");
    /* an empty start, as Anthropic's, and no delta: "{}" as before */
    r = to_openai(A_MSG("{\"input_tokens\":5}") A_TOOL_START("{}") A_STOP(1) A_DELTA("{\"output_tokens\":3}"));
    CHECK_STR(r.args, "{}");
}

/* Out of memory at each of cJSON's allocations in turn, a translated
 * stream breaks cleanly: nothing freed twice, nothing leaked; and one that
 * did not break is whole (a chunk that could not be made is never left
 * out of a stream that goes on). */
typedef struct {
    llf_dialect from, to;
    const char *in;
    seen want;   /* what the program reads of it, allocations working */
    int ok;      /* the last run went through */
    llf_buf out; /* ... and gave this */
    const cJSON *names;   /* the request's function names changed (LLF_HUB_NAMES), or NULL */
} oom_arg;

static cJSON *translate_all(const void *arg)
{
    oom_arg *a = (oom_arg *)arg;
    llf_stream_pipe *p = llf_stream_pipe_new(a->from, a->to, "m", 0, a->names);
    llf_buf_free(&a->out);
    a->ok = p && llf_stream_pipe_feed(p, a->in, strlen(a->in), &a->out) == 0 &&
            llf_stream_pipe_end(p, &a->out) == 0;
    llf_stream_pipe_free(p);
    return NULL;
}

static void whole_if_through(const void *arg)
{
    oom_arg *a = (oom_arg *)arg;
    if (a->ok) {
        seen s = read_seen(a->to, &a->out);
        int same = !strcmp(s.text.p ? s.text.p : "", a->want.text.p ? a->want.text.p : "") &&
                   !strcmp(s.args.p ? s.args.p : "", a->want.args.p ? a->want.args.p : "") &&
                   !strcmp(s.tool, a->want.tool) && !strcmp(s.finish, a->want.finish);
        if (!same)
            fprintf(stderr, "out of memory, %d to %d: a stream went on without a part: [%s] [%s] [%s]\n", a->from,
                    a->to, s.text.p ? s.text.p : "", s.args.p ? s.args.p : "", s.finish);
        CHECK(same);
        seen_free(&s);
    }
    llf_buf_free(&a->out);
}

static void sweep_named(llf_dialect from, llf_dialect to, const char *in, const cJSON *names, const char *label)
{
    oom_arg a = {from, to, in, {.d = to}, 0, {0}, names};
    translate_all(&a);
    CHECK(a.ok);
    a.want = read_seen(to, &a.out);
    llf_buf_free(&a.out);
    t_oom_sweep_then(translate_all, whole_if_through, &a, label);
    seen_free(&a.want);
}

static void sweep(llf_dialect from, llf_dialect to, const char *in, const char *label)
{
    sweep_named(from, to, in, NULL, label);
}

/* A Gemini program's function names that OpenAI and Anthropic refuse were
 * sent changed (LLF_HUB_NAMES: "get_weather" for its "weather:get.now"): a
 * member's streamed call reaches it by its own name again. */
static void check_names_back(void)
{
    /* (a program's name longer than the one sent: renaming allocates) */
    cJSON *names = cJSON_Parse("{\"get_weather\":\"weather:get.now\",\"other\":\"x:y\"}");
    for (int f = LLF_OPENAI; f <= LLF_ANTHROPIC; f++) {
        llf_stream_pipe *p = llf_stream_pipe_new(f, LLF_GEMINI, "m", 0, names);
        llf_buf out = {0};
        CHECK(p && llf_stream_pipe_feed(p, TOOLS[f], strlen(TOOLS[f]), &out) == 0 && llf_stream_pipe_end(p, &out) == 0);
        seen s = read_seen(LLF_GEMINI, &out);
        CHECK_STR(s.tool, "weather:get.now");
        CHECK_STR(s.args.p ? s.args.p : "", "{\"city\":\"Paris\"}");
        seen_free(&s);
        llf_buf_free(&out);
        llf_stream_pipe_free(p);
        sweep_named((llf_dialect)f, LLF_GEMINI, TOOLS[f], names, "stream tools renamed");
    }
    cJSON_Delete(names);
}

static void stream_oom(void)
{
    for (int f = 0; f < 3; f++)
        for (int t = 0; t < 3; t++)
            if (f != t) {
                sweep((llf_dialect)f, (llf_dialect)t, TEXT[f], "stream text");
                sweep((llf_dialect)f, (llf_dialect)t, TOOLS[f], "stream tools");
                if (f == LLF_ANTHROPIC)
                    sweep((llf_dialect)f, (llf_dialect)t, A_WHOLE_START, "stream whole starts");
            }
}

/* An OpenAI member's refusal (delta.refusal, content null) is the text of
 * its answer in the dialects that have no field for it: an Anthropic text
 * block with stop_reason "refusal", Gemini text ending STOP, as whole
 * answers are translated (why: dialect_anthropic.c, dialect_gemini.c). */
static const char OAI_REFUSAL[] =
    "data: {\"id\":\"c4\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"refusal\":\"\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c4\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"refusal\":\"I'm sorry, I can\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c4\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"refusal\":\"not help with that.\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c4\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    "data: [DONE]\n\n";

static void check_refusal(llf_dialect to, const char *finish)
{
    llf_stream_pipe *p = llf_stream_pipe_new(LLF_OPENAI, to, "m", 0, NULL);
    llf_buf out = {0};
    CHECK(p && llf_stream_pipe_feed(p, OAI_REFUSAL, strlen(OAI_REFUSAL), &out) == 0 &&
          llf_stream_pipe_end(p, &out) == 0);
    seen s = read_seen(to, &out);
    CHECK_STR(s.text.p ? s.text.p : "", "I'm sorry, I cannot help with that.");
    CHECK_STR(s.finish, finish);
    CHECK(s.framed_start && s.framed_end && !s.invalid);
    seen_free(&s);
    llf_buf_free(&out);
    llf_stream_pipe_free(p);
}

/* A member's text with a lone UTF-16 surrogate escape (half an emoji),
 * which cJSON refuses and the SDKs take: translated as U+FFFD, not a broken
 * stream. And one with raw control characters in its text (a tab, \x01),
 * which Python's json refuses, after the stream went live (the gate judged
 * the events before): taken and printed escaped, as cJSON always did. */
#define MENDED(text) \
    "data: {\"id\":\"c9\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"" text "\"},\"finish_reason\":null}]}\n\n" \
    "data: {\"id\":\"c9\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" \
    "data: [DONE]\n\n"

static void check_mended(llf_dialect to, const char *in, const char *want)
{
    llf_stream_pipe *p = llf_stream_pipe_new(LLF_OPENAI, to, "m", 0, NULL);
    llf_buf out = {0};
    CHECK(p && llf_stream_pipe_feed(p, in, strlen(in), &out) == 0 && llf_stream_pipe_end(p, &out) == 0);
    seen s = read_seen(to, &out);
    CHECK_STR(s.text.p ? s.text.p : "", want);
    CHECK(!out.p || !memchr(out.p, '\t', out.n));   /* (escaped) */
    CHECK(s.framed_start && s.framed_end);
    seen_free(&s);
    llf_buf_free(&out);
    llf_stream_pipe_free(p);
}

/* A member's stream with no text and no call (an empty answer, which the
 * verdict lets through when told to) closes the Gemini program's stream
 * with one part, {"text": ""}, as Gemini's own text-less chunk: never with
 * "parts": []. */
static const char *const EMPTY[2] = {
    "data: {\"id\":\"c5\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"c5\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    "data: [DONE]\n\n",
    A_MSG("{\"input_tokens\":5}") A_DELTA("{\"output_tokens\":0}"),
};

static void check_gemini_empty(llf_dialect from)
{
    llf_stream_pipe *p = llf_stream_pipe_new(from, LLF_GEMINI, "m", 0, NULL);
    llf_buf out = {0};
    CHECK(p && llf_stream_pipe_feed(p, EMPTY[from], strlen(EMPTY[from]), &out) == 0 &&
          llf_stream_pipe_end(p, &out) == 0);
    seen s = read_seen(LLF_GEMINI, &out);
    const char *d = out.p ? strstr(out.p, "data: ") : NULL;
    cJSON *j = d ? cJSON_Parse(d + 6) : NULL;
    char *parts = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "candidates"), 0), "content"), "parts"));
    CHECK(s.events == 1 && !s.invalid && s.framed_end);
    CHECK_STR(parts ? parts : "", "[{\"text\":\"\"}]");
    CHECK_STR(s.finish, "STOP");
    free(parts);
    cJSON_Delete(j);
    seen_free(&s);
    llf_buf_free(&out);
    llf_stream_pipe_free(p);
}

/* A Gemini stream's responseId is the translated answer's id, as a whole
 * answer's is (Anthropic's with its msg_ prefix); without one, ours. */
static int read_ids(void *ctx, const char *event, const char *data, size_t len)
{
    llf_buf *ids = ctx;
    cJSON *j = cJSON_ParseWithLength(data, len);
    const cJSON *id = cJSON_GetObjectItem(j, "id");
    if (event && !strcmp(event, "message_start"))
        id = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "message"), "id");
    if (cJSON_IsString(id))
        llf_buf_printf(ids, "%s%s", ids->n ? " " : "", id->valuestring);
    cJSON_Delete(j);
    return 0;
}

static void check_gemini_id(llf_dialect to, int with_id, const char *want)
{
    char in[1024];
    const char *rid = with_id ? ",\"responseId\":\"mAitaLmkHPPlz7IPvtfUqQ4\"" : "";
    snprintf(in, sizeof in,
             "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}],\"role\":\"model\"},\"index\":0}]%s}\r\n\r\n"
             "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" there\"}],\"role\":\"model\"},"
             "\"finishReason\":\"STOP\",\"index\":0}]%s}\r\n\r\n", rid, rid);
    llf_stream_pipe *p = llf_stream_pipe_new(LLF_GEMINI, to, "m", 0, NULL);
    llf_buf out = {0}, ids = {0};
    CHECK(p && llf_stream_pipe_feed(p, in, strlen(in), &out) == 0 && llf_stream_pipe_end(p, &out) == 0);
    llf_sse q = {0};
    llf_sse_feed(&q, out.p ? out.p : "", out.n, read_ids, &ids);
    llf_sse_free(&q);
    if (with_id) {
        CHECK_STR(ids.p ? ids.p : "", want);
    } else {   /* want: the made-up id's prefix; every chunk's the same */
        const char *g = ids.p ? strstr(ids.p, "gemini-") : NULL;
        CHECK(ids.p && strncmp(ids.p, want, strlen(want)) == 0 && g && strspn(g + 7, "0123456789abcdef") == 16);
        for (const char *sp = ids.p ? strchr(ids.p, ' ') : NULL; sp; sp = strchr(sp + 1, ' '))
            CHECK(strncmp(sp + 1, ids.p, strlen(want) + 23 - 7) == 0);
    }
    llf_buf_free(&ids);
    llf_buf_free(&out);
    llf_stream_pipe_free(p);
}

/* Azure OpenAI's first chunk, its prompt filter results, has "id": "" and
 * no choice: the Anthropic program's message_start carries the answer's
 * id, which comes with the next, not an empty one. */
static void check_azure_first_chunk(void)
{
    static const char in[] =
        "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\",\"prompt_filter_results\":"
        "[{\"prompt_index\":0,\"content_filter_results\":{}}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"\",\"role\":\"assistant\"},\"finish_reason\":null,\"index\":0}],"
        "\"created\":1,\"id\":\"chatcmpl-A1\",\"model\":\"gpt-4o\",\"object\":\"chat.completion.chunk\"}\n\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null,\"index\":0}],"
        "\"created\":1,\"id\":\"chatcmpl-A1\",\"model\":\"gpt-4o\",\"object\":\"chat.completion.chunk\"}\n\n"
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\",\"index\":0}],"
        "\"created\":1,\"id\":\"chatcmpl-A1\",\"model\":\"gpt-4o\",\"object\":\"chat.completion.chunk\"}\n\n"
        "data: [DONE]\n\n";
    llf_stream_pipe *p = llf_stream_pipe_new(LLF_OPENAI, LLF_ANTHROPIC, "m", 0, NULL);
    llf_buf out = {0}, ids = {0};
    CHECK(p && llf_stream_pipe_feed(p, in, strlen(in), &out) == 0 && llf_stream_pipe_end(p, &out) == 0);
    llf_sse q = {0};
    llf_sse_feed(&q, out.p ? out.p : "", out.n, read_ids, &ids);
    llf_sse_free(&q);
    CHECK_STR(ids.p ? ids.p : "", "msg_chatcmpl-A1");
    seen s = read_seen(LLF_ANTHROPIC, &out);
    CHECK(s.framed_start && s.framed_end && !strcmp(s.text.p ? s.text.p : "", "Hi"));
    seen_free(&s);
    llf_buf_free(&ids);
    llf_buf_free(&out);
    llf_stream_pipe_free(p);
}

/* A Gemini member's stream as Gemini ends one: a blocked prompt (one
 * chunk: promptFeedback.blockReason, no candidate), and Gemini 3's usage,
 * whole only in a chunk of its own after the finishReason. */
static const char GEM_BLOCKED[] =
    "data: {\"promptFeedback\":{\"blockReason\":\"SAFETY\",\"safetyRatings\":[{\"category\":"
    "\"HARM_CATEGORY_DANGEROUS_CONTENT\",\"probability\":\"HIGH\"}]},\"usageMetadata\":{\"promptTokenCount\":10,"
    "\"totalTokenCount\":10},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}\r\n\r\n";
static const char GEM_TEXT1[] =
    "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hello \"}],\"role\":\"model\"},\"index\":0}],"
    "\"usageMetadata\":{\"promptTokenCount\":10,\"totalTokenCount\":10},\"modelVersion\":\"gemini-3-pro-preview\"}\r\n\r\n";
static const char GEM_TEXT2_STOP[] =
    "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"world\"}],\"role\":\"model\"},\"finishReason\":\"STOP\","
    "\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":10,\"totalTokenCount\":10},\"modelVersion\":\"gemini-3-pro-preview\"}\r\n\r\n";
static const char GEM_USAGE_ONLY[] =
    "data: {\"usageMetadata\":{\"promptTokenCount\":10,\"candidatesTokenCount\":2,\"thoughtsTokenCount\":3,"
    "\"totalTokenCount\":15},\"modelVersion\":\"gemini-3-pro-preview\"}\r\n\r\n";

/* How the program's stream ends: its finish (how many), the usage it
 * reports, its terminator ([DONE], message_stop), and how many events came
 * after the finish other than that terminator (none may). */
typedef struct ending {
    llf_dialect d;
    char finish[32];
    int finishes, in, out, terminated, after;
} ending;

static int read_ending(void *ctx, const char *event, const char *data, size_t len)
{
    ending *e = ctx;
    if (e->terminated) {
        e->after++;
        return 0;
    }
    if ((len == 6 && !memcmp(data, "[DONE]", 6)) || (event && !strcmp(event, "message_stop"))) {
        e->terminated = 1;
        return 0;
    }
    cJSON *j = cJSON_ParseWithLength(data, len);
    const cJSON *u = cJSON_GetObjectItem(j, "usage"), *fr;
    int oai = e->d == LLF_OPENAI;
    /* (OpenAI's usage chunk, "choices": [], comes after the finish) */
    e->after += e->finishes > 0 && !(oai && !cJSON_GetArraySize(cJSON_GetObjectItem(j, "choices")));
    if (oai)
        fr = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0), "finish_reason");
    else
        fr = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "delta"), "stop_reason");
    if (cJSON_IsString(fr)) {
        e->finishes++;
        snprintf(e->finish, sizeof e->finish, "%s", fr->valuestring);
    }
    const cJSON *in = cJSON_GetObjectItem(u, oai ? "prompt_tokens" : "input_tokens");
    const cJSON *out = cJSON_GetObjectItem(u, oai ? "completion_tokens" : "output_tokens");
    if (cJSON_IsNumber(in))
        e->in = in->valueint;
    if (cJSON_IsNumber(out))
        e->out = out->valueint;
    cJSON_Delete(j);
    return 0;
}

static ending read_end(llf_dialect d, const llf_buf *out)
{
    ending e = {.d = d, .in = -1, .out = -1};
    llf_sse q = {0};
    llf_sse_feed(&q, out->p ? out->p : "", out->n, read_ending, &e);
    llf_sse_free(&q);
    return e;
}


/* A blocked prompt ends the answer, empty, with the filter's finish, as a
 * whole one is translated (dialect_gemini.c): a complete stream in the
 * program's dialect, never one left open. */
static void check_gemini_blocked(llf_dialect to, const char *finish)
{
    llf_stream_pipe *p = llf_stream_pipe_new(LLF_GEMINI, to, "m", to == LLF_OPENAI, NULL);
    llf_buf out = {0};
    CHECK(p && llf_stream_pipe_feed(p, GEM_BLOCKED, strlen(GEM_BLOCKED), &out) == 0);
    CHECK(llf_stream_pipe_end(p, &out) == 0);
    seen s = read_seen(to, &out);
    ending e = read_end(to, &out);
    int ok = s.framed_start && s.framed_end && !s.text.n && !s.tool[0] && e.finishes == 1 &&
             !strcmp(e.finish, finish) && e.terminated && !e.after && e.in == 10 && e.out == 0;
    if (!ok)
        fprintf(stderr, "FAIL blocked prompt → %s:\n%s\n", to == LLF_OPENAI ? "openai" : "anthropic",
                out.p ? out.p : "");
    CHECK(ok);
    seen_free(&s);
    llf_buf_free(&out);
    llf_stream_pipe_free(p);
}

/* Usage after the finish: the text goes out live, the close (finish and the
 * last usage, thinking counted as output) once the stream ends, and nothing
 * after it. A stream with usage but no finish is still a cut one. */
static void check_gemini_usage_last(llf_dialect to, const char *finish)
{
    llf_stream_pipe *p = llf_stream_pipe_new(LLF_GEMINI, to, "m", to == LLF_OPENAI, NULL);
    llf_buf out = {0};
    CHECK(p && llf_stream_pipe_feed(p, GEM_TEXT1, strlen(GEM_TEXT1), &out) == 0 &&
          llf_stream_pipe_feed(p, GEM_TEXT2_STOP, strlen(GEM_TEXT2_STOP), &out) == 0);
    seen s = read_seen(to, &out);
    CHECK_STR(s.text.p ? s.text.p : "", "Hello world");   /* live */
    seen_free(&s);
    CHECK(llf_stream_pipe_feed(p, GEM_USAGE_ONLY, strlen(GEM_USAGE_ONLY), &out) == 0);
    CHECK(llf_stream_pipe_end(p, &out) == 0);
    s = read_seen(to, &out);
    ending e = read_end(to, &out);
    int ok = s.framed_start && s.framed_end && !strcmp(s.text.p ? s.text.p : "", "Hello world") &&
             e.finishes == 1 && !strcmp(e.finish, finish) && e.terminated && !e.after && e.in == 10 && e.out == 5;
    if (!ok)
        fprintf(stderr, "FAIL usage after the finish → %s: finishes %d after %d in %d out %d\n%s\n",
                to == LLF_OPENAI ? "openai" : "anthropic", e.finishes, e.after, e.in, e.out, out.p ? out.p : "");
    CHECK(ok);
    seen_free(&s);
    llf_buf_free(&out);
    llf_stream_pipe_free(p);

    p = llf_stream_pipe_new(LLF_GEMINI, to, "m", 0, NULL);
    CHECK(p && llf_stream_pipe_feed(p, GEM_TEXT1, strlen(GEM_TEXT1), &out) == 0 &&
          llf_stream_pipe_feed(p, GEM_USAGE_ONLY, strlen(GEM_USAGE_ONLY), &out) == 0);
    size_t n = out.n;
    CHECK(llf_stream_pipe_end(p, &out) == -1 && out.n == n);
    llf_buf_free(&out);
    llf_stream_pipe_free(p);
}

/* A server speaking Gemini's dialect through a translation (one-hub,
 * CLIProxyAPI) says finishReason STOP on every chunk: what follows the
 * first is still the answer's, and the stream ends once, as Gemini's. */
static void check_gemini_finish_on_every_chunk(llf_dialect to, const char *finish)
{
    static const char in[] =
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hello \"}],\"role\":\"model\"},\"finishReason\":\"STOP\","
        "\"index\":0}],\"responseId\":\"r1\"}\r\n\r\n"
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"world\"}],\"role\":\"model\"},\"finishReason\":\"STOP\","
        "\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":3,\"totalTokenCount\":8},"
        "\"responseId\":\"r1\"}\r\n\r\n";
    llf_stream_pipe *p = llf_stream_pipe_new(LLF_GEMINI, to, "m", to == LLF_OPENAI, NULL);
    llf_buf out = {0};
    CHECK(p && llf_stream_pipe_feed(p, in, strlen(in), &out) == 0 && llf_stream_pipe_end(p, &out) == 0);
    seen s = read_seen(to, &out);
    ending e = read_end(to, &out);
    CHECK_STR(s.text.p ? s.text.p : "", "Hello world");
    CHECK(e.finishes == 1 && !strcmp(e.finish, finish) && e.terminated && !e.after && e.in == 5 && e.out == 3);
    seen_free(&s);
    llf_buf_free(&out);
    llf_stream_pipe_free(p);
}

static void check_gemini_endings(void)
{
    static char usage_last[1024];
    snprintf(usage_last, sizeof usage_last, "%s%s%s", GEM_TEXT1, GEM_TEXT2_STOP, GEM_USAGE_ONLY);
    check_gemini_blocked(LLF_OPENAI, "content_filter");
    check_gemini_blocked(LLF_ANTHROPIC, "refusal");
    check_oai_fields(LLF_GEMINI, GEM_BLOCKED);
    check_gemini_usage_last(LLF_OPENAI, "stop");
    check_gemini_usage_last(LLF_ANTHROPIC, "end_turn");
    check_gemini_finish_on_every_chunk(LLF_OPENAI, "stop");
    check_gemini_finish_on_every_chunk(LLF_ANTHROPIC, "end_turn");
    check_oai_fields(LLF_GEMINI, usage_last);
    for (int t = LLF_OPENAI; t <= LLF_ANTHROPIC; t++) {
        sweep(LLF_GEMINI, (llf_dialect)t, GEM_BLOCKED, "stream blocked prompt");
        sweep(LLF_GEMINI, (llf_dialect)t, usage_last, "stream usage last");
    }
}

/* An OpenAI program's stream translated from another dialect carries its
 * usage as OpenAI's does: asked (stream_options.include_usage), "usage":
 * null in every chunk and one chunk more, "choices": [], before [DONE];
 * unasked, none at all. */
typedef struct usage_seen {
    int chunks, nulls, usage_only, after_usage, in, out, total;
} usage_seen;

static int read_usage(void *ctx, const char *event, const char *data, size_t len)
{
    usage_seen *s = ctx;
    if (len == 6 && !memcmp(data, "[DONE]", 6))
        return 0;
    cJSON *j = cJSON_ParseWithLength(data, len);
    const cJSON *u = cJSON_GetObjectItem(j, "usage"), *ch = cJSON_GetObjectItem(j, "choices");
    s->chunks++;
    s->after_usage += s->usage_only > 0;
    s->nulls += cJSON_IsNull(u);
    if (cJSON_IsArray(ch) && !cJSON_GetArraySize(ch) && cJSON_IsObject(u)) {
        s->usage_only++;
        s->in = cJSON_GetObjectItem(u, "prompt_tokens")->valueint;
        s->out = cJSON_GetObjectItem(u, "completion_tokens")->valueint;
        s->total = cJSON_GetObjectItem(u, "total_tokens")->valueint;
    }
    cJSON_Delete(j);
    return 0;
}

static void usage_chunks(void)
{
    for (int from = LLF_ANTHROPIC; from <= LLF_GEMINI; from++)
        for (int asked = 0; asked < 2; asked++) {
            llf_stream_pipe *p = llf_stream_pipe_new(from, LLF_OPENAI, "m", asked, NULL);
            llf_buf out = {0};
            CHECK(p && llf_stream_pipe_feed(p, TEXT[from], strlen(TEXT[from]), &out) == 0 &&
                  llf_stream_pipe_end(p, &out) == 0);
            usage_seen s = {0};
            llf_sse q = {0};
            llf_sse_feed(&q, out.p ? out.p : "", out.n, read_usage, &s);
            llf_sse_free(&q);
            if (asked) {
                CHECK(s.usage_only == 1 && s.after_usage == 0 && s.nulls == s.chunks - 1);
                CHECK(s.in == 5 && s.out == 3 && s.total == 8);
            } else {
                CHECK(s.usage_only == 0 && s.nulls == 0);
                CHECK(!strstr(out.p ? out.p : "", "usage"));
            }
            CHECK(out.n > 14 && !strcmp(out.p + out.n - 14, "data: [DONE]\n\n"));
            llf_buf_free(&out);
            llf_stream_pipe_free(p);
        }
}

/* The last usage a program's stream reports: OpenAI's usage chunk,
 * Anthropic's message_delta, Gemini's last usageMetadata. */
static int read_last_usage(void *ctx, const char *event, const char *data, size_t len)
{
    cJSON **last = ctx;
    cJSON *j = cJSON_ParseWithLength(data, len);
    cJSON *u = cJSON_GetObjectItem(j, "usage");
    if (!cJSON_IsObject(u) || (event && !strcmp(event, "message_start")))
        u = cJSON_GetObjectItem(j, "usageMetadata");
    if (cJSON_IsObject(u)) {
        cJSON_Delete(*last);
        *last = cJSON_DetachItemViaPointer(j, u);
    }
    cJSON_Delete(j);
    return 0;
}

static void usage_through(llf_dialect from, llf_dialect to, const char *in, const char *want, const char *label)
{
    llf_stream_pipe *p = llf_stream_pipe_new(from, to, "m", to == LLF_OPENAI, NULL);
    llf_buf out = {0};
    CHECK(p && llf_stream_pipe_feed(p, in, strlen(in), &out) == 0 && llf_stream_pipe_end(p, &out) == 0);
    cJSON *last = NULL, *w = cJSON_Parse(want);
    llf_sse q = {0};
    llf_sse_feed(&q, out.p ? out.p : "", out.n, read_last_usage, &last);
    llf_sse_free(&q);
    if (!t_json_same(last, w, label))
        fprintf(stderr, "%s\n", out.p ? out.p : "");
    cJSON_Delete(last);
    cJSON_Delete(w);
    llf_buf_free(&out);
    llf_stream_pipe_free(p);
}

/* Cache reads and reasoning tokens reach the program's stream as they
 * reach a whole answer (dialect_*.c): Anthropic's in message_start (and,
 * cumulative, message_delta), Gemini's in its last usageMetadata, OpenAI's
 * in its usage chunk; none made up where the member gave none. */
#define OAI_USAGE(u) \
    "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n" \
    "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" \
    "data: {\"id\":\"c1\",\"choices\":[],\"usage\":" u "}\n\n" \
    "data: [DONE]\n\n"
#define ANT_USAGE(start, delta) \
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"usage\":" start "}}\n\n" \
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" \
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n" \
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" \
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":" delta "}\n\n" \
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
#define GEM_USAGE(u) \
    "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}],\"role\":\"model\"},\"index\":0}]," \
    "\"usageMetadata\":{\"promptTokenCount\":100,\"totalTokenCount\":100}}\r\n\r\n" \
    "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"!\"}],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}]," \
    "\"usageMetadata\":" u "}\r\n\r\n"
static void usage_details(void)
{
    static const char anth_cached[] = ANT_USAGE(
        "{\"input_tokens\":5,\"cache_creation_input_tokens\":10,\"cache_read_input_tokens\":100,\"output_tokens\":1}",
        "{\"output_tokens\":7}");
    usage_through(LLF_ANTHROPIC, LLF_OPENAI, anth_cached,
                  "{\"prompt_tokens\":115,\"completion_tokens\":7,\"total_tokens\":122,"
                  "\"prompt_tokens_details\":{\"cached_tokens\":100}}", "anthropic cache read → openai stream");
    usage_through(LLF_ANTHROPIC, LLF_GEMINI, anth_cached,
                  "{\"promptTokenCount\":115,\"candidatesTokenCount\":7,\"totalTokenCount\":122,"
                  "\"cachedContentTokenCount\":100}", "anthropic cache read → gemini stream");
    /* message_delta's usage, cumulative, has the last word */
    usage_through(LLF_ANTHROPIC, LLF_OPENAI,
                  ANT_USAGE("{\"input_tokens\":5}", "{\"input_tokens\":5,\"cache_read_input_tokens\":40,\"output_tokens\":7}"),
                  "{\"prompt_tokens\":45,\"completion_tokens\":7,\"total_tokens\":52,"
                  "\"prompt_tokens_details\":{\"cached_tokens\":40}}", "anthropic cache read late → openai stream");

    static const char oai_details[] = OAI_USAGE(
        "{\"prompt_tokens\":100,\"completion_tokens\":50,\"total_tokens\":150,"
        "\"prompt_tokens_details\":{\"cached_tokens\":80,\"audio_tokens\":0},"
        "\"completion_tokens_details\":{\"reasoning_tokens\":40}}");
    usage_through(LLF_OPENAI, LLF_ANTHROPIC, oai_details,
                  "{\"input_tokens\":20,\"cache_read_input_tokens\":80,\"output_tokens\":50}",
                  "openai cached → anthropic stream");
    usage_through(LLF_OPENAI, LLF_GEMINI, oai_details,
                  "{\"promptTokenCount\":100,\"candidatesTokenCount\":10,\"totalTokenCount\":150,"
                  "\"cachedContentTokenCount\":80,\"thoughtsTokenCount\":40}", "openai details → gemini stream");

    static const char gem_details[] = GEM_USAGE(
        "{\"promptTokenCount\":100,\"candidatesTokenCount\":10,\"thoughtsTokenCount\":40,"
        "\"cachedContentTokenCount\":60,\"totalTokenCount\":150}");
    usage_through(LLF_GEMINI, LLF_OPENAI, gem_details,
                  "{\"prompt_tokens\":100,\"completion_tokens\":50,\"total_tokens\":150,"
                  "\"prompt_tokens_details\":{\"cached_tokens\":60},\"completion_tokens_details\":{\"reasoning_tokens\":40}}",
                  "gemini details → openai stream");
    usage_through(LLF_GEMINI, LLF_ANTHROPIC, gem_details,
                  "{\"input_tokens\":40,\"cache_read_input_tokens\":60,\"output_tokens\":50}",
                  "gemini cached → anthropic stream");

    /* none given, none said */
    usage_through(LLF_OPENAI, LLF_ANTHROPIC, OAI_USAGE("{\"prompt_tokens\":100,\"completion_tokens\":50,\"total_tokens\":150}"),
                  "{\"input_tokens\":100,\"output_tokens\":50}", "openai without details → anthropic stream");
    usage_through(LLF_OPENAI, LLF_GEMINI, OAI_USAGE("{\"prompt_tokens\":100,\"completion_tokens\":50,\"total_tokens\":150}"),
                  "{\"promptTokenCount\":100,\"candidatesTokenCount\":50,\"totalTokenCount\":150}",
                  "openai without details → gemini stream");
    usage_through(LLF_ANTHROPIC, LLF_OPENAI, ANT_USAGE("{\"input_tokens\":5}", "{\"output_tokens\":7}"),
                  "{\"prompt_tokens\":5,\"completion_tokens\":7,\"total_tokens\":12}",
                  "anthropic without details → openai stream");
    usage_through(LLF_GEMINI, LLF_OPENAI,
                  GEM_USAGE("{\"promptTokenCount\":100,\"candidatesTokenCount\":10,\"totalTokenCount\":110}"),
                  "{\"prompt_tokens\":100,\"completion_tokens\":10,\"total_tokens\":110}",
                  "gemini without details → openai stream");

    sweep(LLF_ANTHROPIC, LLF_GEMINI, anth_cached, "stream usage details anthropic");
    sweep(LLF_OPENAI, LLF_GEMINI, oai_details, "stream usage details openai");
    sweep(LLF_GEMINI, LLF_ANTHROPIC, gem_details, "stream usage details gemini");
}


/* Streamed tool calls from an OpenAI member, as OpenAI's SDKs read them:
 * each piece belongs to the call of its tool_calls[].index; the first
 * delta of an index has the id and the name, an id may repeat on every
 * delta (vLLM), be empty, or never come. */
#define OC(delta, fin) "data: {\"id\":\"c9\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":" delta ",\"finish_reason\":" fin "}]}\n\n"
#define OT(calls) OC("{\"tool_calls\":[" calls "]}", "null")
#define OCALL(ix, id, name, args) "{\"index\":" #ix id ",\"type\":\"function\",\"function\":{" name "\"arguments\":\"" args "\"}}"
#define ROLE OC("{\"role\":\"assistant\",\"content\":null}", "null")
#define TOOLS_END OC("{}", "\"tool_calls\"") "data: [DONE]\n\n"
#define CITY1 "{\\\"city\\\":"
#define CITY2 "\\\"Paris\\\"}"

static const char OAI_INTERLEAVED[] = ROLE
    OT(OCALL(0, ",\"id\":\"call_A\"", "\"name\":\"get_weather\",", ""))
    OT(OCALL(1, ",\"id\":\"call_B\"", "\"name\":\"get_time\",", ""))
    OT(OCALL(0, "", "", CITY1))
    OT(OCALL(1, "", "", "{}"))
    OT(OCALL(0, "", "", CITY2)) TOOLS_END;
static const char OAI_REPEATED_ID[] = ROLE
    OT(OCALL(0, ",\"id\":\"call_A\"", "\"name\":\"get_weather\",", ""))
    OT(OCALL(0, ",\"id\":\"call_A\"", "", CITY1))
    OT(OCALL(0, ",\"id\":\"call_A\"", "", CITY2)) TOOLS_END;
static const char OAI_EMPTY_ID[] = ROLE
    OT(OCALL(0, ",\"id\":\"call_A\"", "\"name\":\"get_weather\",", ""))
    OT(OCALL(0, ",\"id\":\"\"", "\"name\":\"\",", CITY1))
    OT(OCALL(0, ",\"id\":\"\"", "", CITY2)) TOOLS_END;
static const char OAI_NO_ID[] = ROLE
    OT(OCALL(0, "", "\"name\":\"get_weather\",", CITY1))
    OT(OCALL(0, "", "", CITY2)) TOOLS_END;
/* two calls in one chunk, then text between calls and after them */
static const char OAI_ONE_CHUNK[] = OC("{\"role\":\"assistant\",\"content\":\"Let me look.\"}", "null")
    OT(OCALL(0, ",\"id\":\"call_A\"", "\"name\":\"get_weather\",", CITY1 CITY2) ","
       OCALL(1, ",\"id\":\"call_B\"", "\"name\":\"get_time\",", "{}")) TOOLS_END;
/* every parallel call index 0, each with its own id (Gemini's
 * OpenAI-compatible API): a new id is a new call; the pieces after it,
 * with no id, are its own */
static const char OAI_SAME_INDEX[] = ROLE
    OT(OCALL(0, ",\"id\":\"call_A\"", "\"name\":\"get_weather\",", CITY1))
    OT(OCALL(0, "", "", CITY2))
    OT(OCALL(0, ",\"id\":\"call_B\"", "\"name\":\"get_time\",", "{}")) TOOLS_END;
/* no index at all (not OpenAI's; some servers'): a new id is a new call */
static const char OAI_NO_INDEX[] = ROLE
    OT("{\"id\":\"call_A\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"" CITY1 "\"}}")
    OT("{\"function\":{\"arguments\":\"" CITY2 "\"}}")
    OT("{\"id\":\"call_B\",\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"arguments\":\"{}\"}}") TOOLS_END;

/* a call the model was made to make (tool_choice naming the function),
 * which OpenAI and vLLM end with finish_reason "stop" */
static const char OAI_FORCED[] = ROLE
    OT(OCALL(0, ",\"id\":\"call_A\"", "\"name\":\"get_weather\",", CITY1 CITY2))
    OC("{}", "\"stop\"") "data: [DONE]\n\n";

/* Kimi's ids (functions.NAME:INDEX), which Anthropic refuses, and one with
 * bytes outside ASCII; then a call with such an id and one with none */
static const char OAI_KIMI_IDS[] = ROLE
    OT(OCALL(0, ",\"id\":\"functions.get_weather:0\"", "\"name\":\"get_weather\",", CITY1 CITY2))
    OT(OCALL(1, ",\"id\":\"functions.get_time:1\"", "\"name\":\"get_time\",", "{}"))
    OT(OCALL(2, ",\"id\":\"t\u00e9 1\"", "\"name\":\"get_time\",", "{}")) TOOLS_END;
static const char OAI_KIMI_AND_NONE[] = ROLE
    OT(OCALL(0, ",\"id\":\"functions.get_weather:0\"", "\"name\":\"get_weather\",", CITY1 CITY2))
    OT(OCALL(1, "", "\"name\":\"get_time\",", "{}")) TOOLS_END;

/* An Anthropic program's stream read back block by block: "type id name
 * input" for each (input as JSON, "!" if it is none), then the stop
 * reason; "BAD" where the blocks are not one open at a time, in order, or
 * a tool_use has no id. */
typedef struct ant_blocks {
    llf_buf summary, input;
    int open, n, bad, stopped;
    char head[160];
} ant_blocks;

static int read_blocks(void *ctx, const char *event, const char *data, size_t len)
{
    ant_blocks *a = ctx;
    cJSON *j = cJSON_ParseWithLength(data, len);
    const cJSON *ix = cJSON_GetObjectItem(j, "index"), *d = cJSON_GetObjectItem(j, "delta");
    int i = cJSON_IsNumber(ix) ? ix->valueint : -1;
    if (!strcmp(event, "content_block_start")) {
        const cJSON *b = cJSON_GetObjectItem(j, "content_block");
        const cJSON *type = cJSON_GetObjectItem(b, "type"), *id = cJSON_GetObjectItem(b, "id"),
                    *name = cJSON_GetObjectItem(b, "name");
        a->bad |= a->open || i != a->n || !cJSON_IsString(type);
        if (cJSON_IsString(type) && !strcmp(type->valuestring, "tool_use"))
            a->bad |= !cJSON_IsString(id) || !*id->valuestring || !cJSON_IsString(name);
        snprintf(a->head, sizeof a->head, "%s %s %s", cJSON_IsString(type) ? type->valuestring : "?",
                 cJSON_IsString(id) ? id->valuestring : "-", cJSON_IsString(name) ? name->valuestring : "-");
        a->open = 1;
        a->n++;
        llf_buf_reset(&a->input);
    } else if (!strcmp(event, "content_block_delta")) {
        const cJSON *pj = cJSON_GetObjectItem(d, "partial_json"), *t = cJSON_GetObjectItem(d, "text");
        a->bad |= !a->open || i != a->n - 1;
        llf_buf_adds(&a->input, cJSON_IsString(pj) ? pj->valuestring : cJSON_IsString(t) ? t->valuestring : "");
    } else if (!strcmp(event, "content_block_stop")) {
        a->bad |= !a->open || i != a->n - 1;
        a->open = 0;
        cJSON *in = strncmp(a->head, "text", 4) ? cJSON_Parse(a->input.n ? a->input.p : "{}") : NULL;
        char *s = in ? cJSON_PrintUnformatted(in) : NULL;
        llf_buf_printf(&a->summary, "%s %s | ", a->head, s ? s : strncmp(a->head, "text", 4) ? "!" : a->input.p);
        free(s);
        cJSON_Delete(in);
    } else if (!strcmp(event, "message_delta")) {
        const cJSON *sr = cJSON_GetObjectItem(d, "stop_reason");
        a->bad |= a->open;
        llf_buf_printf(&a->summary, "%s", cJSON_IsString(sr) ? sr->valuestring : "?");
    } else if (!strcmp(event, "message_stop")) {
        a->stopped = 1;
    }
    cJSON_Delete(j);
    return 0;
}

/* A Gemini program's stream read back: "name args" of each functionCall,
 * then the finishReason. */
static int read_gem_calls(void *ctx, const char *event, const char *data, size_t len)
{
    llf_buf *b = ctx;
    cJSON *j = cJSON_ParseWithLength(data, len);
    const cJSON *cand = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "candidates"), 0);
    const cJSON *parts = cJSON_GetObjectItem(cJSON_GetObjectItem(cand, "content"), "parts");
    for (const cJSON *p = parts ? parts->child : NULL; p; p = p->next) {
        const cJSON *fc = cJSON_GetObjectItem(p, "functionCall"), *name = cJSON_GetObjectItem(fc, "name");
        char *args = fc ? cJSON_PrintUnformatted(cJSON_GetObjectItem(fc, "args")) : NULL;
        if (fc)
            llf_buf_printf(b, "%s %s | ", cJSON_IsString(name) ? name->valuestring : "?", args ? args : "!");
        free(args);
    }
    const cJSON *fr = cJSON_GetObjectItem(cand, "finishReason");
    if (cJSON_IsString(fr))
        llf_buf_printf(b, "%s", fr->valuestring);
    cJSON_Delete(j);
    return 0;
}

/* in, fed in one piece or a byte at a time, as the program's dialect
 * reads back (read_blocks, read_gem_calls), its end -1 when cut. */
static void check_calls(const char *label, const char *in, llf_dialect to, int bytewise, const char *want)
{
    llf_stream_pipe *p = llf_stream_pipe_new(LLF_OPENAI, to, "m", 0, NULL);
    llf_buf out = {0}, got = {0};
    int fed = 0;
    for (size_t i = 0, n = strlen(in), step = bytewise ? 1 : n; p && i < n && !fed; i += step)
        fed = llf_stream_pipe_feed(p, in + i, step, &out);
    int ended = p && !fed ? llf_stream_pipe_end(p, &out) : -2;
    llf_sse q = {0};
    if (to == LLF_ANTHROPIC) {
        ant_blocks a = {0};
        llf_sse_feed(&q, out.p ? out.p : "", out.n, read_blocks, &a);
        llf_buf_printf(&got, "%s%s%s", a.bad ? "BAD " : "", a.summary.p ? a.summary.p : "", a.stopped ? " STOP" : "");
        llf_buf_free(&a.summary);
        llf_buf_free(&a.input);
    } else {
        llf_sse_feed(&q, out.p ? out.p : "", out.n, read_gem_calls, &got);
    }
    llf_sse_free(&q);
    if (ended)
        llf_buf_printf(&got, " (end %d)", ended);
    if (strcmp(got.p ? got.p : "", want))
        fprintf(stderr, "FAIL stream calls %s → %s:\n%s\n", label, to == LLF_ANTHROPIC ? "anthropic" : "gemini",
                out.p ? out.p : "");
    CHECK_STR(got.p ? got.p : "", want);
    llf_buf_free(&got);
    llf_buf_free(&out);
    llf_stream_pipe_free(p);
}

/* arguments that only begin with JSON (an object, then more): not an
 * object, so {} as a whole answer gives them, not the first object alone */
static const char OAI_TRAILING[] = ROLE
    OT(OCALL(0, ",\"id\":\"call_A\"", "\"name\":\"get_weather\",", CITY1 CITY2 " {\\\"x\\\":2}")) TOOLS_END;

static void check_oai_call_shapes(void)
{
    check_calls("arguments with text after their object", OAI_TRAILING, LLF_GEMINI, 0, "get_weather {} | STOP");
    /* arguments whose string holds a raw tab (escaped in the event, so raw
     * in the arguments' own JSON): taken, as in the events (see
     * check_mended), not made {} */
    static const char raw_tab[] = ROLE OT(OCALL(0, ",\"id\":\"call_A\"", "\"name\":\"get_weather\",",
                                                CITY1 "\\\"Pa\\tris\\\"}")) TOOLS_END;
    check_calls("a raw tab in a string of the arguments", raw_tab, LLF_GEMINI, 0,
                "get_weather {\"city\":\"Pa\\tris\"} | STOP");
    static const struct {
        const char *label, *in, *anthropic, *gemini;
    } shapes[] = {
        {"interleaved indexes", OAI_INTERLEAVED,
         "tool_use call_A get_weather {\"city\":\"Paris\"} | tool_use call_B get_time {} | tool_use STOP",
         "get_weather {\"city\":\"Paris\"} | get_time {} | STOP"},
        {"the id on every delta", OAI_REPEATED_ID, "tool_use call_A get_weather {\"city\":\"Paris\"} | tool_use STOP",
         "get_weather {\"city\":\"Paris\"} | STOP"},
        {"an empty id after the first", OAI_EMPTY_ID,
         "tool_use call_A get_weather {\"city\":\"Paris\"} | tool_use STOP", "get_weather {\"city\":\"Paris\"} | STOP"},
        {"no id", OAI_NO_ID, "tool_use call_c9_0 get_weather {\"city\":\"Paris\"} | tool_use STOP",
         "get_weather {\"city\":\"Paris\"} | STOP"},
        {"two calls in one chunk after text", OAI_ONE_CHUNK,
         "text - - Let me look. | tool_use call_A get_weather {\"city\":\"Paris\"} | tool_use call_B get_time {} | "
         "tool_use STOP",
         "get_weather {\"city\":\"Paris\"} | get_time {} | STOP"},
        {"every call index 0", OAI_SAME_INDEX,
         "tool_use call_A get_weather {\"city\":\"Paris\"} | tool_use call_B get_time {} | tool_use STOP",
         "get_weather {\"city\":\"Paris\"} | get_time {} | STOP"},
        {"no index", OAI_NO_INDEX,
         "tool_use call_A get_weather {\"city\":\"Paris\"} | tool_use call_B get_time {} | tool_use STOP",
         "get_weather {\"city\":\"Paris\"} | get_time {} | STOP"},
        /* an answer with calls is tool_use, whatever the member's reason */
        {"a forced call, finish \"stop\"", OAI_FORCED,
         "tool_use call_A get_weather {\"city\":\"Paris\"} | tool_use STOP", "get_weather {\"city\":\"Paris\"} | STOP"},
        /* ids as Anthropic takes them (llf_anthropic_tool_id): é is two bytes */
        {"Kimi's ids", OAI_KIMI_IDS,
         "tool_use functions_get_weather_0 get_weather {\"city\":\"Paris\"} | "
         "tool_use functions_get_time_1 get_time {} | tool_use t___1 get_time {} | tool_use STOP",
         "get_weather {\"city\":\"Paris\"} | get_time {} | get_time {} | STOP"},
        {"Kimi's id, then none", OAI_KIMI_AND_NONE,
         "tool_use functions_get_weather_0 get_weather {\"city\":\"Paris\"} | tool_use call_c9_1 get_time {} | "
         "tool_use STOP",
         "get_weather {\"city\":\"Paris\"} | get_time {} | STOP"},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            check_calls(shapes[i].label, shapes[i].in, LLF_ANTHROPIC, bytewise, shapes[i].anthropic);
            check_calls(shapes[i].label, shapes[i].in, LLF_GEMINI, bytewise, shapes[i].gemini);
        }
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int t = LLF_ANTHROPIC; t <= LLF_GEMINI; t++) {
            sweep(LLF_OPENAI, (llf_dialect)t, shapes[i].in, shapes[i].label);
        }
}

/* The tool_use ids of an Anthropic stream, or of a whole Anthropic answer,
 * space-separated. */
static int read_use_ids(void *ctx, const char *event, const char *data, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(data, len);
    const cJSON *b = cJSON_GetObjectItem(j, "content_block"), *id = cJSON_GetObjectItem(b, "id");
    if (!strcmp(event, "content_block_start") && cJSON_IsString(id))
        llf_buf_printf(ctx, "%s%s", ((llf_buf *)ctx)->n ? " " : "", id->valuestring);
    cJSON_Delete(j);
    return 0;
}

static void whole_use_ids(const cJSON *a, llf_buf *ids)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(a, "content"))
        if (cJSON_IsString(cJSON_GetObjectItem(c, "id")))
            llf_buf_printf(ids, "%s%s", ids->n ? " " : "", cJSON_GetObjectItem(c, "id")->valuestring);
}

/* An Anthropic program gets the same id for a call streamed as for the
 * same call in a whole answer of the member (its own Claude then takes the
 * history either way): a member's id mapped alike, one made up alike. */
static void check_ids_as_whole(llf_dialect from, const char *stream, const char *whole, const char *want)
{
    const llf_dialect_ops *F = llf_dialect_ops_of(from), *A = llf_dialect_ops_of(LLF_ANTHROPIC);
    llf_stream_pipe *p = llf_stream_pipe_new(from, LLF_ANTHROPIC, "m", 0, NULL);
    llf_buf out = {0}, sids = {0}, wids = {0};
    CHECK(p && llf_stream_pipe_feed(p, stream, strlen(stream), &out) == 0 && llf_stream_pipe_end(p, &out) == 0);
    llf_sse q = {0};
    llf_sse_feed(&q, out.p ? out.p : "", out.n, read_use_ids, &sids);
    llf_sse_free(&q);
    cJSON *in = cJSON_Parse(whole), *hub = NULL, *a = NULL;
    llf_terr e = {{0}};
    CHECK(in && F->resp_to_hub(in, &hub, &e) == LLF_TR_OK && A->resp_from_hub(hub, "m", &a, &e) == LLF_TR_OK);
    whole_use_ids(a, &wids);
    CHECK_STR(sids.p ? sids.p : "", want);
    CHECK_STR(wids.p ? wids.p : "", want);
    cJSON_Delete(in);
    cJSON_Delete(hub);
    cJSON_Delete(a);
    llf_buf_free(&sids);
    llf_buf_free(&wids);
    llf_buf_free(&out);
    llf_stream_pipe_free(p);
}

static void check_ids_stream_and_whole(void)
{
    check_ids_as_whole(
        LLF_OPENAI, OAI_KIMI_AND_NONE,
        "{\"id\":\"c9\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
        "\"content\":null,\"tool_calls\":[{\"id\":\"functions.get_weather:0\",\"type\":\"function\",\"function\":"
        "{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}},{\"type\":\"function\","
        "\"function\":{\"name\":\"get_time\",\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}]}",
        "functions_get_weather_0 call_c9_1");
    /* Gemini's calls have no ids: both make them up from its responseId */
    check_ids_as_whole(
        LLF_GEMINI,
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"get_weather\",\"args\":"
        "{\"city\":\"Paris\"}}},{\"functionCall\":{\"name\":\"get_time\",\"args\":{}}}],\"role\":\"model\"},"
        "\"finishReason\":\"STOP\",\"index\":0}],\"responseId\":\"mAit.aLm+k\"}\r\n\r\n",
        "{\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"get_weather\",\"args\":"
        "{\"city\":\"Paris\"}}},{\"functionCall\":{\"name\":\"get_time\",\"args\":{}}}],\"role\":\"model\"},"
        "\"finishReason\":\"STOP\",\"index\":0}],\"responseId\":\"mAit.aLm+k\"}",
        "call_mAitaLmk_0 call_mAitaLmk_1");
}

/* The first call goes out live, piece by piece, as the member sends it;
 * a later call's pieces, which the member may yet interleave with an
 * earlier call's, are held for the finish. */
static void check_first_call_live(void)
{
    static const char head[] = ROLE OT(OCALL(0, ",\"id\":\"call_A\"", "\"name\":\"get_weather\",", CITY1));
    static const char second[] = OT(OCALL(1, ",\"id\":\"call_B\"", "\"name\":\"get_time\",", "{"));
    llf_stream_pipe *p = llf_stream_pipe_new(LLF_OPENAI, LLF_ANTHROPIC, "m", 0, NULL);
    llf_buf out = {0};
    CHECK(p && llf_stream_pipe_feed(p, head, strlen(head), &out) == 0);
    CHECK(out.p && strstr(out.p, "\"name\":\"get_weather\"") && strstr(out.p, "\"partial_json\":\"{\\\"city\\\":\""));
    size_t n = out.n;
    CHECK(llf_stream_pipe_feed(p, second, strlen(second), &out) == 0 && out.n == n);
    llf_buf_free(&out);
    llf_stream_pipe_free(p);
}

/* A member that ends its stream cleanly after its finish reason but
 * without [DONE] (some OpenAI-compatible servers do; OpenAI's SDKs take it
 * whole) gave a whole answer: the program's stream is closed in its
 * dialect. One that ends before any finish reason was cut: still broken. */
static void check_no_done(void)
{
    static const char text[] = OC("{\"role\":\"assistant\",\"content\":\"\"}", "null")
        OC("{\"content\":\"Hello world\"}", "null") OC("{}", "\"stop\"");
    static const char usage_after[] = OC("{\"role\":\"assistant\",\"content\":\"Hello world\"}", "null")
        OC("{}", "\"length\"") "data: {\"id\":\"c9\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":2}}\n\n";
    static const char tools[] = ROLE OT(OCALL(0, ",\"id\":\"call_A\"", "\"name\":\"get_weather\",", CITY1))
        OT(OCALL(0, "", "", CITY2)) OC("{}", "\"tool_calls\"");
    static const char cut_text[] = OC("{\"role\":\"assistant\",\"content\":\"\"}", "null") OC("{\"content\":\"Hello\"}", "null");
    static const char cut_call[] = ROLE OT(OCALL(0, ",\"id\":\"call_A\"", "\"name\":\"get_weather\",", CITY1));
    for (int t = LLF_ANTHROPIC; t <= LLF_GEMINI; t++) {
        llf_dialect to = (llf_dialect)t;
        llf_buf out = {0};
        llf_stream_pipe *p = llf_stream_pipe_new(LLF_OPENAI, to, "m", 0, NULL);
        CHECK(p && llf_stream_pipe_feed(p, text, strlen(text), &out) == 0 && llf_stream_pipe_end(p, &out) == 0);
        seen s = read_seen(to, &out);
        ending e = read_end(to, &out);
        CHECK(s.framed_start && s.framed_end && !s.invalid);
        CHECK_STR(s.text.p ? s.text.p : "", "Hello world");
        CHECK_STR(s.finish, to == LLF_ANTHROPIC ? "end_turn" : "STOP");
        CHECK(to != LLF_ANTHROPIC || (e.finishes == 1 && e.terminated && !e.after));
        seen_free(&s);
        llf_buf_free(&out);
        llf_stream_pipe_free(p);

        /* [DONE] with more after it, as OpenAI's SDKs take it (they read
         * data that starts so as the end), and then nothing */
        static const char done_spaced[] = OC("{\"role\":\"assistant\",\"content\":\"Hi\"}", "null")
            "data: {\"id\":\"c9\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
            "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\ndata: [DONE] \n\n";
        p = llf_stream_pipe_new(LLF_OPENAI, to, "m", 0, NULL);
        CHECK(p && llf_stream_pipe_feed(p, done_spaced, strlen(done_spaced), &out) == 0 &&
              llf_stream_pipe_end(p, &out) == 0);
        s = read_seen(to, &out);
        CHECK(s.framed_start && s.framed_end && !strcmp(s.text.p ? s.text.p : "", "Hi"));
        seen_free(&s);
        llf_buf_free(&out);
        llf_stream_pipe_free(p);

        p = llf_stream_pipe_new(LLF_OPENAI, to, "m", 0, NULL);   /* its usage after the finish, still no [DONE] */
        CHECK(p && llf_stream_pipe_feed(p, usage_after, strlen(usage_after), &out) == 0 &&
              llf_stream_pipe_end(p, &out) == 0);
        closing c = {0};
        llf_sse q = {0};
        llf_sse_feed(&q, out.p ? out.p : "", out.n, read_closing, &c);
        llf_sse_free(&q);
        CHECK(c.closes == 1 && !strcmp(c.reason, to == LLF_ANTHROPIC ? "max_tokens" : "MAX_TOKENS") && c.in == 12 &&
              c.out == 2);
        llf_buf_free(&out);
        llf_stream_pipe_free(p);

        check_calls("tool call, no [DONE]", tools, to, 1,
                    to == LLF_ANTHROPIC ? "tool_use call_A get_weather {\"city\":\"Paris\"} | tool_use STOP"
                                        : "get_weather {\"city\":\"Paris\"} | STOP");
        /* cut before any finish: broken, nothing added at the end */
        const char *cut[] = {cut_text, cut_call};
        for (int i = 0; i < 2; i++) {
            p = llf_stream_pipe_new(LLF_OPENAI, to, "m", 0, NULL);
            CHECK(p && llf_stream_pipe_feed(p, cut[i], strlen(cut[i]), &out) == 0);
            size_t n = out.n;
            CHECK(llf_stream_pipe_end(p, &out) == -1 && out.n == n);
            llf_buf_free(&out);
            llf_stream_pipe_free(p);
        }
        sweep(LLF_OPENAI, to, text, "stream without [DONE]");
        sweep(LLF_OPENAI, to, tools, "stream of a call without [DONE]");
    }
}

/* "error": null in every chunk (some OpenAI-compatible servers write it)
 * is no error event: the stream translates as without it. */
static void check_null_error(void)
{
    llf_buf in = {0};
    const char *p = TEXT[LLF_OPENAI];
    for (const char *q; (q = strstr(p, "}\n\n")); p = q + 3) {
        llf_buf_add(&in, p, (size_t)(q - p));
        llf_buf_adds(&in, ",\"error\":null}\n\n");
    }
    llf_buf_adds(&in, p);   /* [DONE] */
    for (int t = LLF_ANTHROPIC; t <= LLF_GEMINI; t++)
        check_pair(LLF_OPENAI, (llf_dialect)t, in.p, 0);
    llf_buf_free(&in);
}

/* Mistral's Magistral streams content as an array of chunks: the text
 * ones' text reaches the program, the thinking ones' does not. */
static void check_content_chunks(void)
{
    static const char in[] =
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"magistral-medium-2509\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n"
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"magistral-medium-2509\",\"choices\":[{\"index\":0,\"delta\":{\"content\":[{\"type\":\"thinking\",\"thinking\":[{\"type\":\"text\",\"text\":\"Let me think.\"}]}]},\"finish_reason\":null}]}\n\n"
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"magistral-medium-2509\",\"choices\":[{\"index\":0,\"delta\":{\"content\":[{\"type\":\"text\",\"text\":\"Hello fro\"}]},\"finish_reason\":null}]}\n\n"
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"magistral-medium-2509\",\"choices\":[{\"index\":0,\"delta\":{\"content\":[{\"type\":\"text\",\"text\":\"m \"},{\"type\":\"text\",\"text\":\"x\"}]},\"finish_reason\":null}]}\n\n"
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"magistral-medium-2509\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8}}\n\n"
        "data: [DONE]\n\n";
    for (int t = LLF_ANTHROPIC; t <= LLF_GEMINI; t++)
        check_pair(LLF_OPENAI, (llf_dialect)t, in, 0);
}

/* An early finish_reason, as OpenAI-compatible proxies write one (on the
 * reasoning chunk; on every chunk, with the usage so far): what follows it
 * is still the answer's, in one text block, and the program's stream
 * closes once, at the end, with the last finish said. */
#define OAI_CH(delta, fr, usage) \
    "data: {\"id\":\"c3\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":" delta \
    ",\"finish_reason\":" fr "}]" usage "}\n\n"
#define OAI_U(n) ",\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":" #n ",\"total_tokens\":" #n "}"
static size_t count_of(const llf_buf *b, const char *what)
{
    size_t n = 0;
    for (const char *p = b->p; p && (p = strstr(p, what)); p++)
        n++;
    return n;
}

static void check_early_finish(void)
{
    static const char reasoned[] =
        OAI_CH("{\"role\":\"assistant\",\"reasoning_content\":\"think\"}", "\"stop\"", "")
        OAI_CH("{\"content\":\"Hello fro\"}", "null", "") OAI_CH("{\"content\":\"m x\"}", "null", "")
        OAI_CH("{}", "\"stop\"", OAI_U(3)) "data: [DONE]\n\n";
    static const char every[] =
        OAI_CH("{\"role\":\"assistant\",\"content\":\"Hello fro\"}", "\"stop\"", OAI_U(1))
        OAI_CH("{\"content\":\"m x\"}", "\"stop\"", OAI_U(3)) "data: [DONE]\n\n";
    static const char call[] =
        OAI_CH("{\"role\":\"assistant\",\"reasoning_content\":\"think\"}", "\"stop\"", "")
        OAI_CH("{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}", "null", "")
        OAI_CH("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]}", "null", "")
        OAI_CH("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]}", "null", "")
        OAI_CH("{}", "\"tool_calls\"", OAI_U(7)) "data: [DONE]\n\n";
    const char *ins[] = {reasoned, every, call};
    for (int t = LLF_ANTHROPIC; t <= LLF_GEMINI; t++)
        for (int i = 0; i < 3; i++) {
            check_pair(LLF_OPENAI, (llf_dialect)t, ins[i], i == 2);
            run_t r = {.out = {0}};
            llf_stream_tr_init(&r.tr, LLF_OPENAI, (llf_dialect)t, "m");
            llf_sse p = {0};
            llf_sse_feed(&p, ins[i], strlen(ins[i]), feed_event, &r);
            llf_sse_free(&p);
            CHECK(!r.bad && llf_stream_tr_end(&r.tr, &r.out) == 0);
            if (t == LLF_ANTHROPIC) {
                CHECK(count_of(&r.out, "event: content_block_start") == 1);
                CHECK(count_of(&r.out, "event: message_delta") == 1);
                const char *md = r.out.p ? strstr(r.out.p, "event: message_delta") : NULL;
                CHECK(md && !strstr(md, "content_block"));   /* (nothing of the answer after it) */
                CHECK(md && strstr(md, i == 2 ? "\"output_tokens\":7" : "\"output_tokens\":3"));
            } else {
                CHECK(count_of(&r.out, "finishReason") == 1);
            }
            llf_buf_free(&r.out);
            llf_stream_tr_free(&r.tr);
        }
}

/* A call's arguments are gathered (whole for a Gemini program) up to what
 * one event may hold, all calls together: past that the stream breaks
 * rather than grow with it (the count set near its end, not 256 MiB fed). */
static void check_args_cap(void)
{
    const char *first = "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\","
                        "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":\"}}]},\"finish_reason\":null}]}";
    const char *piece = "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
                        "{\"arguments\":\"1234567890\"}}]},\"finish_reason\":null}]}";
    for (int room = 9; room <= 10; room++) {
        llf_stream_tr tr;
        llf_buf out = {0};
        llf_stream_tr_init(&tr, LLF_OPENAI, LLF_GEMINI, "m");
        CHECK(llf_stream_tr_event(&tr, NULL, first, strlen(first), &out) == 0);
        CHECK(tr.args_held == 5);
        tr.args_held = LLF_SSE_MAX - (size_t)room;
        CHECK(llf_stream_tr_event(&tr, NULL, piece, strlen(piece), &out) == (room < 10 ? -1 : 0));
        llf_buf_free(&out);
        llf_stream_tr_free(&tr);
    }
}

/* A Gemini member says its prompt's count in every chunk: an Anthropic
 * program's message_start carries it (it said 0 until the end). */
static void check_gemini_input_at_start(void)
{
    const char *in =
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}],\"role\":\"model\"},\"index\":0}],"
        "\"usageMetadata\":{\"promptTokenCount\":7,\"totalTokenCount\":7}}\r\n\r\n"
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" there\"}],\"role\":\"model\"},\"finishReason\":\"STOP\","
        "\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":7,\"candidatesTokenCount\":2,\"totalTokenCount\":9}}\r\n\r\n";
    run_t r = {.out = {0}};
    llf_stream_tr_init(&r.tr, LLF_GEMINI, LLF_ANTHROPIC, "m");
    llf_sse p = {0};
    llf_sse_feed(&p, in, strlen(in), feed_event, &r);
    llf_sse_free(&p);
    CHECK(!r.bad && llf_stream_tr_end(&r.tr, &r.out) == 0);
    const char *start = r.out.p ? strstr(r.out.p, "event: message_start") : NULL;
    const char *end = start ? strstr(start, "\n\n") : NULL;
    CHECK(start && end && memmem(start, (size_t)(end - start), "\"input_tokens\":7", 16));
    llf_buf_free(&r.out);
    llf_stream_tr_free(&r.tr);
}

void test_stream(void)
{
    check_early_finish();
    check_gemini_input_at_start();
    check_args_cap();
    stream_oom();
    for (int f = 0; f < 3; f++)
        for (int t = 0; t < 3; t++)
            if (f != t) {
                check_pair((llf_dialect)f, (llf_dialect)t, TEXT[f], 0);
                check_pair((llf_dialect)f, (llf_dialect)t, TOOLS[f], 1);
                check_cut((llf_dialect)f, (llf_dialect)t);
            }
    for (int f = LLF_ANTHROPIC; f <= LLF_GEMINI; f++) {
        check_oai_fields((llf_dialect)f, TEXT[f]);
        check_oai_fields((llf_dialect)f, TOOLS[f]);
    }
    check_many_gemini_calls();
    check_names_back();
    check_late_usage(LLF_ANTHROPIC, "max_tokens");
    check_late_usage(LLF_GEMINI, "MAX_TOKENS");
    check_finals();
    check_anthropic_details();
    check_blocks_without_calls();
    check_whole_block_starts();
    check_refusal(LLF_ANTHROPIC, "refusal");
    check_refusal(LLF_GEMINI, "STOP");
    for (int t = LLF_ANTHROPIC; t <= LLF_GEMINI; t++) {
        check_mended((llf_dialect)t, MENDED("Hi \\ud83d there"), "Hi \xef\xbf\xbd there");
        check_mended((llf_dialect)t, MENDED("Hi\tthere\x01"), "Hi\tthere\x01");
        check_mended((llf_dialect)t, MENDED("\\u0000Hi"), "\xc0\x80" "Hi");   /* (U+0000: cJSON.c) */
    }
    check_gemini_empty(LLF_OPENAI);
    check_gemini_empty(LLF_ANTHROPIC);
    check_gemini_endings();
    for (int t = LLF_ANTHROPIC; t <= LLF_GEMINI; t++) {
        sweep(LLF_OPENAI, (llf_dialect)t, OAI_REFUSAL, "stream refusal");
    }
    /* every chunk, the first (with the role) and the closing one too */
    check_gemini_id(LLF_OPENAI, 1, "mAitaLmkHPPlz7IPvtfUqQ4 mAitaLmkHPPlz7IPvtfUqQ4 mAitaLmkHPPlz7IPvtfUqQ4");
    check_gemini_id(LLF_OPENAI, 0, "gemini-");
    check_gemini_id(LLF_ANTHROPIC, 1, "msg_mAitaLmkHPPlz7IPvtfUqQ4");
    check_gemini_id(LLF_ANTHROPIC, 0, "msg_gemini-");
    check_azure_first_chunk();
    /* an error event mid-stream cannot be translated: the stream breaks */
    llf_stream_tr tr;
    llf_buf out = {0};
    llf_stream_tr_init(&tr, LLF_ANTHROPIC, LLF_OPENAI, "m");
    const char *err = "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}";
    CHECK(llf_stream_tr_event(&tr, "error", err, strlen(err), &out) == -1);
    llf_buf_free(&out);
    llf_stream_tr_free(&tr);
    check_null_error();
    check_content_chunks();
    usage_chunks();
    usage_details();
    check_oai_call_shapes();
    check_ids_stream_and_whole();
    check_first_call_live();
    check_no_done();
}
