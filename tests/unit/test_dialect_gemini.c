/* Golden and round-trip tests for the Gemini translators, with fixtures
 * shaped like Google's documented examples. */
#include <stdlib.h>

#include "dialect.h"
#include "hubutil.h"
#include "t.h"
#include "tr.h"

static const llf_dialect_ops *G;

/* The hub form of a Gemini request's text, or NULL (also on no memory,
 * as t_oom_sweep's op: oom_to_hub). */
static cJSON *hub_of(const char *json)
{
    cJSON *in = cJSON_Parse(json), *hub = NULL;
    llf_terr e = {{0}};
    if (!in || G->req_to_hub(in, "gemini-2.5-flash", &hub, &e) != LLF_TR_OK)
        hub = NULL;
    cJSON_Delete(in);
    return hub;
}

static cJSON *oom_to_hub(const void *json)
{
    return hub_of(json);
}

/* hub → Gemini → hub gives what went in, except (want_fix) where Gemini
 * cannot say it the same way. */
static void round_trip_to(const char *fixture, void (*want_fix)(cJSON *))
{
    cJSON *hub = t_fixture(fixture), *mid = NULL, *back = NULL;
    llf_terr e = {{0}};
    /* (through a model that thinks only when asked: one that thinks unasked
     * gets more room than the hub's limit, thinking_room()) */
    int rc = hub ? G->req_from_hub(hub, "gemini-2.5-flash-lite", &mid, &e) : -9;
    if (rc)
        fprintf(stderr, "  round trip %s: %s\n", fixture, e.detail);
    CHECK(rc == LLF_TR_OK);
    CHECK(mid && G->req_to_hub(mid, "gemini-2.5-flash", &back, &e) == LLF_TR_OK);
    if (hub && want_fix)
        want_fix(hub);
    t_json_same(back, hub, fixture);
    cJSON_Delete(hub);
    cJSON_Delete(mid);
    cJSON_Delete(back);
}

static void round_trip(const char *fixture)
{
    round_trip_to(fixture, NULL);
}

/* Tool results answered in another order than their calls come back in the
 * calls' order: Gemini pairs them by position. (The fixture answers call_1,
 * then call_0, as Google's example does.) */
static void results_in_call_order(cJSON *hub)
{
    cJSON *msgs = cJSON_GetObjectItem(hub, "messages");
    int n = cJSON_GetArraySize(msgs);
    cJSON *a = cJSON_DetachItemFromArray(msgs, n - 1);   /* call_0's */
    cJSON_InsertItemInArray(msgs, n - 2, a);
}

/* Nulls are "not given" both ways: an OpenAI program's reach no Gemini
 * generationConfig (nor a toolConfig without tools), a Gemini program's
 * none of the hub. */
static void nulls_both_ways(void)
{
    int rc;
    char d[160];
    cJSON *o = tr_across(LLF_OPENAI, LLF_GEMINI,
                         "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"top_p\":null,"
                         "\"temperature\":null,\"seed\":null,\"n\":null,\"max_tokens\":null,\"stop\":null,"
                         "\"tool_choice\":\"required\"}", "gemini-2.5-flash", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && o && !cJSON_GetObjectItem(o, "generationConfig") && !cJSON_GetObjectItem(o, "toolConfig"));
    cJSON_Delete(o);
    o = tr_across(LLF_GEMINI, LLF_OPENAI,
                  "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}],\"generationConfig\":"
                  "{\"temperature\":null,\"topP\":null,\"maxOutputTokens\":null,\"stopSequences\":null}}",
                  "gpt-4o", &rc, d, sizeof d);
    int nulls = 0;
    for (const cJSON *k = o ? o->child : NULL; k; k = k->next)
        nulls += cJSON_IsNull(k);
    CHECK(rc == LLF_TR_OK && o && nulls == 0);
    cJSON_Delete(o);
    /* a tool's parameters: null, as SDKs write one not given: none, to
     * Gemini (no empty schema) and to Claude (its default, an object) */
    static const char *tool_null = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                                   "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"now\",\"description\":null,"
                                   "\"parameters\":null}}]}";
    o = tr_across(LLF_OPENAI, LLF_GEMINI, tool_null, "gemini-2.5-flash", &rc, d, sizeof d);
    const cJSON *decl = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "tools"), 0), "functionDeclarations"), 0);
    CHECK(rc == LLF_TR_OK && decl && !cJSON_GetObjectItem(decl, "parameters") && !cJSON_GetObjectItem(decl, "description"));
    cJSON_Delete(o);
    o = tr_across(LLF_OPENAI, LLF_ANTHROPIC, tool_null, "claude-sonnet-4-5", &rc, d, sizeof d);
    const cJSON *schema = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "tools"), 0), "input_schema");
    CHECK(rc == LLF_TR_OK && cJSON_IsObject(schema) && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(schema, "type")), "object"));
    cJSON_Delete(o);
    /* a Gemini program's null parameters and systemInstruction are none
     * to OpenAI (which refuses "parameters": null), and a toolConfig
     * without tools gives OpenAI no tool_choice (a 400 without tools) */
    o = tr_across(LLF_GEMINI, LLF_OPENAI,
                  "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}],\"systemInstruction\":null,"
                  "\"tools\":[{\"functionDeclarations\":[{\"name\":\"now\",\"description\":\"time\",\"parameters\":null}]}]}",
                  "gpt-4o", &rc, d, sizeof d);
    const cJSON *fn = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "tools"), 0), "function");
    CHECK(rc == LLF_TR_OK && fn && !cJSON_GetObjectItem(fn, "parameters") &&
          cJSON_GetArraySize(cJSON_GetObjectItem(o, "messages")) == 1);
    cJSON_Delete(o);
    o = tr_across(LLF_GEMINI, LLF_OPENAI,
                  "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}],"
                  "\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"AUTO\"}}}", "gpt-4o", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && o && !cJSON_GetObjectItem(o, "tool_choice") && !cJSON_GetObjectItem(o, "tools"));
    cJSON_Delete(o);
    /* no stop sequences as a list: none (OpenAI refuses "stop": []) */
    o = tr_across(LLF_GEMINI, LLF_OPENAI,
                  "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}],\"generationConfig\":"
                  "{\"stopSequences\":[]}}", "gpt-4o", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && o && !cJSON_GetObjectItem(o, "stop"));
    cJSON_Delete(o);
}

/* What only Gemini can serve: a file of its Files API or at gs:// (no
 * other provider can fetch it); a conversation ending in a model turn; more
 * than 5 stop sequences to Gemini. allowedFunctionNames (several) offers
 * only those functions elsewhere. */
static void gemini_only_inputs(void)
{
    static const char *const uris[] = {"https://generativelanguage.googleapis.com/v1beta/files/abc123",
                                       "gs://bucket/cat.png"};
    int rc;
    char d[160], json[512];
    for (int i = 0; i < 2; i++)
        for (int to = LLF_OPENAI; to <= LLF_ANTHROPIC; to++) {
            snprintf(json, sizeof json, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"what is it\"},"
                     "{\"fileData\":{\"mimeType\":\"image/png\",\"fileUri\":\"%s\"}}]}]}", uris[i]);
            cJSON *o = tr_across(LLF_GEMINI, to, json, to ? "claude-sonnet-4-5" : "gpt-4o", &rc, d, sizeof d);
            CHECK(rc == LLF_TR_INCOMPATIBLE && !o && strstr(d, "fileData"));
            cJSON_Delete(o);
        }
    /* an image at a public URL is still an image URL */
    cJSON *o = tr_across(LLF_GEMINI, LLF_OPENAI, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"fileData\":{\"mimeType\":"
                         "\"image/png\",\"fileUri\":\"https://example.com/cat.png\"}}]}]}", "gpt-4o", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && o);
    cJSON_Delete(o);
    o = tr_across(LLF_GEMINI, LLF_OPENAI, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Say\"}]},"
                  "{\"role\":\"model\",\"parts\":[{\"text\":\"Once upon\"}]}]}", "gpt-4o", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_INCOMPATIBLE && !o && strstr(d, "model turn"));
    cJSON_Delete(o);
    o = tr_across(LLF_OPENAI, LLF_GEMINI, "{\"model\":\"g\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                  "\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]}", "gemini-2.5-flash", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_INCOMPATIBLE && !o && strstr(d, "stop"));
    cJSON_Delete(o);
    o = tr_across(LLF_OPENAI, LLF_GEMINI, "{\"model\":\"g\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                  "\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", "gemini-2.5-flash", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "generationConfig"),
                                                                      "stopSequences")) == 5);
    cJSON_Delete(o);
    /* ANY among a and b of a, b, c: only a and b offered, one of them required */
    static const char allowed[] =
        "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"x\"}]}],\"tools\":[{\"functionDeclarations\":["
        "{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"}]}],\"toolConfig\":{\"functionCallingConfig\":"
        "{\"mode\":\"ANY\",\"allowedFunctionNames\":[\"a\",\"b\"]}}}";
    o = tr_across(LLF_GEMINI, LLF_OPENAI, allowed, "gpt-4o", &rc, d, sizeof d);
    const cJSON *tools = cJSON_GetObjectItem(o, "tools");
    CHECK(rc == LLF_TR_OK && cJSON_GetArraySize(tools) == 2);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(tools, 1), "function"),
                                                       "name")), "b");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "tool_choice")), "required");
    cJSON_Delete(o);
    o = tr_across(LLF_GEMINI, LLF_ANTHROPIC, allowed, "claude-sonnet-4-5", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && cJSON_GetArraySize(cJSON_GetObjectItem(o, "tools")) == 2);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "tool_choice"), "type")), "any");
    cJSON_Delete(o);
    o = tr_across(LLF_GEMINI, LLF_OPENAI,
                  "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"x\"}]}],\"tools\":[{\"functionDeclarations\":"
                  "[{\"name\":\"a\"}]}],\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"ANY\","
                  "\"allowedFunctionNames\":[\"q\",\"r\"]}}}", "gpt-4o", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_INCOMPATIBLE && !o);
    cJSON_Delete(o);
}

/* The usage (key) of answer json through translator fn, compared with want. */
static void usage_is(int (*fn)(const cJSON *, cJSON **, llf_terr *), const char *json, const char *key,
                     const char *want, const char *label)
{
    cJSON *in = cJSON_Parse(json), *out = NULL, *w = cJSON_Parse(want);
    llf_terr e;
    CHECK(in && fn(in, &out, &e) == LLF_TR_OK);
    t_json_same(cJSON_GetObjectItem(out, key), w, label);
    cJSON_Delete(in);
    cJSON_Delete(out);
    cJSON_Delete(w);
}

static int to_gemini(const cJSON *hub, cJSON **out, llf_terr *e)
{
    return G->resp_from_hub(hub, "g", out, e);
}

/* Cached prompt tokens and thinking tokens survive a translation both
 * ways, the totals with them: Gemini's promptTokenCount counts its cached
 * content as OpenAI's prompt_tokens does, but its candidatesTokenCount
 * leaves out the thoughts that completion_tokens counts. A detail nobody
 * gave is not made up. */
static void usage_details(void)
{
#define ANS(u) "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"t\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"," \
               "\"index\":0}],\"usageMetadata\":" u ",\"responseId\":\"r\"}"
#define HUB(u) "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"t\"}," \
               "\"finish_reason\":\"stop\"}],\"usage\":" u "}"
    usage_is(G->resp_to_hub, ANS("{\"promptTokenCount\":100,\"candidatesTokenCount\":10,\"thoughtsTokenCount\":40,"
                                 "\"cachedContentTokenCount\":60,\"totalTokenCount\":150}"), "usage",
             "{\"prompt_tokens\":100,\"completion_tokens\":50,\"total_tokens\":150,"
             "\"prompt_tokens_details\":{\"cached_tokens\":60},\"completion_tokens_details\":{\"reasoning_tokens\":40}}",
             "gemini cache and thoughts → hub");
    usage_is(G->resp_to_hub, ANS("{\"promptTokenCount\":100,\"candidatesTokenCount\":10,\"totalTokenCount\":110}"), "usage",
             "{\"prompt_tokens\":100,\"completion_tokens\":10,\"total_tokens\":110}", "gemini without details → hub");
    usage_is(to_gemini, HUB("{\"prompt_tokens\":100,\"completion_tokens\":50,\"total_tokens\":150,"
                            "\"prompt_tokens_details\":{\"cached_tokens\":60,\"audio_tokens\":0},"
                            "\"completion_tokens_details\":{\"reasoning_tokens\":40}}"), "usageMetadata",
             "{\"promptTokenCount\":100,\"candidatesTokenCount\":10,\"totalTokenCount\":150,"
             "\"cachedContentTokenCount\":60,\"thoughtsTokenCount\":40}", "hub cache and reasoning → gemini");
    usage_is(to_gemini, HUB("{\"prompt_tokens\":100,\"completion_tokens\":50,\"total_tokens\":150}"), "usageMetadata",
             "{\"promptTokenCount\":100,\"candidatesTokenCount\":50,\"totalTokenCount\":150}",
             "hub without details → gemini");
    /* more reasoning than output (no provider's, but not ours to pass on) */
    usage_is(to_gemini, HUB("{\"prompt_tokens\":100,\"completion_tokens\":5,\"total_tokens\":105,"
                            "\"completion_tokens_details\":{\"reasoning_tokens\":40}}"), "usageMetadata",
             "{\"promptTokenCount\":100,\"candidatesTokenCount\":0,\"totalTokenCount\":105,\"thoughtsTokenCount\":5}",
             "hub over-reasoned → gemini");
#undef ANS
#undef HUB
}

/* OpenAI's allowed_tools: only the functions it names are declared to
 * Gemini, mode required ANY and auto AUTO. */
static void allowed_tools(void)
{
#define REQ(mode) "{\"model\":\"gpt-5\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":["           \
                  "{\"type\":\"function\",\"function\":{\"name\":\"a\",\"parameters\":{\"type\":\"object\"}}},"        \
                  "{\"type\":\"function\",\"function\":{\"name\":\"b\",\"parameters\":{\"type\":\"object\"}}}],"       \
                  "\"tool_choice\":{\"type\":\"allowed_tools\",\"allowed_tools\":{\"mode\":\"" mode "\",\"tools\":["   \
                  "{\"type\":\"function\",\"function\":{\"name\":\"a\"}}]}}}"
    static const char *const cases[][2] = {{REQ("required"), "ANY"}, {REQ("auto"), "AUTO"}};
    int rc;
    char d[160];
    for (size_t i = 0; i < 2; i++) {
        cJSON *o = tr_across(LLF_OPENAI, LLF_GEMINI, cases[i][0], "gemini-2.5-flash", &rc, d, sizeof d);
        const cJSON *decls = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "tools"), 0),
                                                 "functionDeclarations");
        CHECK(rc == LLF_TR_OK && cJSON_GetArraySize(decls) == 1);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(decls, 0), "name")), "a");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "toolConfig"),
                                                                               "functionCallingConfig"), "mode")),
                  cases[i][1]);
        cJSON_Delete(o);
    }
#undef REQ
}

/* A history of more function calls than any fixed table would hold (the
 * bookkeeping once stopped at 64, and such a history never fell back):
 * every call translated, each result paired with its own call. */
static void many_function_calls(void)
{
    enum { N = 300 };
    cJSON *req = cJSON_CreateObject(), *contents = cJSON_AddArrayToObject(req, "contents");
    cJSON_AddItemToArray(contents, cJSON_Parse("{\"role\":\"user\",\"parts\":[{\"text\":\"go\"}]}"));
    for (int i = 0; i < N; i++) {
        char turn[200];
        snprintf(turn, sizeof turn, "{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":\"f\","
                                    "\"args\":{\"i\":%d}}}]}", i);
        cJSON_AddItemToArray(contents, cJSON_Parse(turn));
        snprintf(turn, sizeof turn, "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"f\","
                                    "\"response\":{\"result\":\"r%d\"}}}]}", i);
        cJSON_AddItemToArray(contents, cJSON_Parse(turn));
    }
    char *json = cJSON_PrintUnformatted(req);
    int rc;
    char d[160];
    cJSON *o = json ? tr_across(LLF_GEMINI, LLF_OPENAI, json, "gpt-4o", &rc, d, sizeof d) : NULL;
    if (!o)
        fprintf(stderr, "  %d function calls: rc %d (%s)\n", N, json ? rc : -9, d);
    const cJSON *msgs = cJSON_GetObjectItem(o, "messages");
    CHECK(o && cJSON_GetArraySize(msgs) == 1 + 2 * N);
    int paired = 0;
    for (int i = 0; i < N && msgs; i++) {
        const cJSON *call = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 1 + 2 * i), "tool_calls"), 0);
        const cJSON *res = cJSON_GetArrayItem(msgs, 2 + 2 * i);
        char want[16];
        snprintf(want, sizeof want, "r%d", i);
        const char *cid = cJSON_GetStringValue(cJSON_GetObjectItem(call, "id"));
        const char *rid = cJSON_GetStringValue(cJSON_GetObjectItem(res, "tool_call_id"));
        const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(res, "content"));
        paired += cid && rid && text && !strcmp(cid, rid) && !strcmp(text, want);
    }
    CHECK(paired == N);
    cJSON_Delete(o);
    cJSON_Delete(req);
    free(json);
}

/* Calls and responses that carry Gemini's ids are paired by them, however
 * the responses are ordered (Rome's weather must not become Paris's); one
 * whose id names no call, or that has none, by its function's name. */
static void function_call_ids(void)
{
    static const char req[] =
        "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"weather in Paris and Rome?\"}]},"
        "{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"id\":\"fc-paris\",\"name\":\"w\",\"args\":"
        "{\"city\":\"Paris\"}}},{\"functionCall\":{\"id\":\"fc-rome\",\"name\":\"w\",\"args\":{\"city\":"
        "\"Rome\"}}},{\"functionCall\":{\"name\":\"w\",\"args\":{\"city\":\"Oslo\"}}},"
        "{\"functionCall\":{\"id\":\"fc-lima\",\"name\":\"w\",\"args\":{\"city\":\"Lima\"}}}]},"
        "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"id\":\"fc-rome\",\"name\":\"w\",\"response\":"
        "{\"output\":\"Rome\"}}},{\"functionResponse\":{\"id\":\"fc-paris\",\"name\":\"w\",\"response\":"
        "{\"output\":\"Paris\"}}},{\"functionResponse\":{\"id\":\"fc-nowhere\",\"name\":\"w\",\"response\":"
        "{\"output\":\"Oslo\"}}},{\"functionResponse\":{\"name\":\"w\",\"response\":{\"output\":\"Lima\"}}}]}]}";
    int rc;
    char d[160];
    cJSON *o = tr_across(LLF_GEMINI, LLF_OPENAI, req, "gpt-4o", &rc, d, sizeof d);
    const cJSON *msgs = cJSON_GetObjectItem(o, "messages");
    const cJSON *calls = cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 1), "tool_calls");
    CHECK(rc == LLF_TR_OK && cJSON_GetArraySize(msgs) == 6 && cJSON_GetArraySize(calls) == 4);
    for (int k = 2; k < 6 && calls; k++) {
        const cJSON *res = cJSON_GetArrayItem(msgs, k);
        const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(res, "content"));
        const char *to = cJSON_GetStringValue(cJSON_GetObjectItem(res, "tool_call_id"));
        cJSON *args = NULL;
        for (const cJSON *c = calls->child; c && !args; c = c->next)
            if (to && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "id")), to))
                args = cJSON_Parse(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(c, "function"),
                                                                            "arguments")));
        const char *city = cJSON_GetStringValue(cJSON_GetObjectItem(args, "city"));
        if (!text || !city || !strstr(text, city))
            fprintf(stderr, "FAIL result \"%s\" answers %s\n", text ? text : "(null)", city ? city : "no call");
        CHECK(text && city && strstr(text, city));
        cJSON_Delete(args);
    }
    cJSON_Delete(o);
}

/* A functionResponse's response as the tool message's text, as Google
 * documents it: "output" the function's output, "error" its error (the
 * message marked failed), and a response with neither the output whole.
 * A lone string content or result (what SDKs wrap a plain value in) or a
 * lone output is its value; beside other fields nothing is left out. */
static void function_response_fields(void)
{
    static const struct {
        const char *response, *text;   /* text: NULL when the whole response */
        int failed;
    } cases[] = {
        {"{\"result\":\"rain\",\"temperature_c\":-40,\"warning\":\"EVACUATE NOW\"}", NULL, 0},
        {"{\"content\":\"rain\",\"source\":\"met office\"}", NULL, 0},
        {"{\"output\":\"rain\",\"units\":\"mm\"}", NULL, 0},
        {"{\"on\":true}", NULL, 0},
        {"{\"content\":{\"a\":1}}", NULL, 0},
        {"{}", NULL, 0},
        {"{\"content\":\"rain\"}", "rain", 0},
        {"{\"result\":\"done\"}", "done", 0},
        {"{\"output\":\"ok\"}", "ok", 0},
        {"{\"output\":{\"t\":5,\"u\":[1,2]}}", "{\"t\":5,\"u\":[1,2]}", 0},
        {"{\"output\":\"ok\",\"error\":null}", "ok", 0},
        {"{\"error\":\"city not found\"}", "city not found", 1},
        {"{\"error\":{\"code\":404}}", "{\"code\":404}", 1},
        {"{\"output\":\"half\",\"error\":\"timed out\"}", NULL, 1},
        {"{\"error\":\"city not found\",\"code\":404}", NULL, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[600];
        snprintf(req, sizeof req, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"x\"}]},{\"role\":"
                                  "\"model\",\"parts\":[{\"functionCall\":{\"name\":\"w\",\"args\":{}}}]},{\"role\":"
                                  "\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"w\",\"response\":%s}}]}]}",
                 cases[i].response);
        cJSON *in = cJSON_Parse(req), *hub = NULL;
        llf_terr e = {{0}};
        CHECK(in && G->req_to_hub(in, "g", &hub, &e) == LLF_TR_OK);
        const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(hub, "messages"), 2);
        const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(m, "content"));
        cJSON *whole = cJSON_Parse(cases[i].response), *got = text ? cJSON_Parse(text) : NULL;
        int ok = text && (cases[i].text ? !strcmp(text, cases[i].text) : cJSON_Compare(got, whole, 1)) &&
                 cJSON_IsTrue(cJSON_GetObjectItem(m, LLF_HUB_TOOL_ERROR)) == cases[i].failed;
        if (!ok)
            fprintf(stderr, "FAIL functionResponse %s: \"%s\"%s\n", cases[i].response, text ? text : "(null)",
                    cJSON_GetObjectItem(m, LLF_HUB_TOOL_ERROR) ? " (failed)" : "");
        CHECK(ok);
        cJSON_Delete(whole);
        cJSON_Delete(got);
        cJSON_Delete(in);
        cJSON_Delete(hub);
    }
}

/* A repeated field written as a single value is a list of one, as Google
 * reads it (its own REST examples send "system_instruction": {"parts":
 * {"text": ...}}, "contents": {"parts": {"text": ...}}): none of the
 * prompt, the turns, the tools or what the answer must be is lost. */
static void single_values_as_lists(void)
{
    static const struct {
        const char *req, *want;   /* want: the hub's messages and tools, or NULL: refused */
    } cases[] = {
        {"{\"system_instruction\":{\"parts\":{\"text\":\"You are a cat.\"}},\"contents\":{\"parts\":{\"text\":\"Hi\"}}}",
         "{\"messages\":[{\"role\":\"system\",\"content\":\"You are a cat.\"},{\"role\":\"user\",\"content\":\"Hi\"}]}"},
        {"{\"contents\":[{\"role\":\"user\",\"parts\":{\"text\":\"I am Alice.\"}},{\"role\":\"model\",\"parts\":"
         "{\"text\":\"Hi Alice\"}},{\"role\":\"user\",\"parts\":[{\"text\":\"Who am I?\"}]}]}",
         "{\"messages\":[{\"role\":\"user\",\"content\":\"I am Alice.\"},{\"role\":\"assistant\",\"content\":\"Hi Alice\"},"
         "{\"role\":\"user\",\"content\":\"Who am I?\"}]}"},
        {"{\"contents\":[{\"role\":\"user\",\"parts\":{\"text\":\"w?\"}},{\"role\":\"model\",\"parts\":{\"functionCall\":"
         "{\"name\":\"w\",\"args\":{}}}},{\"role\":\"user\",\"parts\":{\"functionResponse\":{\"name\":\"w\",\"response\":"
         "{\"output\":\"rain\"}}}}],\"tools\":{\"functionDeclarations\":{\"name\":\"w\"}}}",
         "{\"messages\":[{\"role\":\"user\",\"content\":\"w?\"},{\"role\":\"assistant\",\"content\":null,\"tool_calls\":"
         "[{\"id\":\"call_0\",\"type\":\"function\",\"function\":{\"name\":\"w\",\"arguments\":\"{}\"}}]},"
         "{\"role\":\"tool\",\"tool_call_id\":\"call_0\",\"content\":\"rain\"}],"
         "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"w\"}}]}"},
        {"{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"tools\":[{\"function_declarations\":{\"name\":\"a\"}},"
         "{\"functionDeclarations\":[{\"name\":\"b\"}]}],\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"ANY\","
         "\"allowedFunctionNames\":\"b\"}}}",
         "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
         "\"a\"}},{\"type\":\"function\",\"function\":{\"name\":\"b\"}}],\"tool_choice\":{\"type\":\"function\","
         "\"function\":{\"name\":\"b\"}}}"},
        {"{\"contents\":{\"role\":\"model\",\"parts\":{\"text\":\"Once upon\"}}}", NULL},
        {"{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":{\"responseModalities\":\"IMAGE\"}}", NULL},
        {"{\"contents\":{\"parts\":{\"text\":\"x\"}},\"tools\":{\"googleSearch\":{}}}", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc;
        char d[160];
        cJSON *o = tr_across(LLF_GEMINI, LLF_OPENAI, cases[i].req, "gpt-4o", &rc, d, sizeof d);
        cJSON *want = cases[i].want ? cJSON_Parse(cases[i].want) : NULL;
        if (o)
            cJSON_DeleteItemFromObject(o, "model");
        if (cases[i].want ? !t_json_same(o, want, cases[i].req) : rc != LLF_TR_INCOMPATIBLE)
            fprintf(stderr, "FAIL %s: rc %d (%s)\n", cases[i].req, rc, d);
        CHECK(cases[i].want ? rc == LLF_TR_OK && cJSON_Compare(o, want, 1) : rc == LLF_TR_INCOMPATIBLE && !o);
        cJSON_Delete(o);
        cJSON_Delete(want);
    }
    /* a program's own body to Gemini before 3: no JSON output beside
     * function declarations, a declaration given alone too */
    cJSON *body = cJSON_Parse("{\"contents\":{\"parts\":{\"text\":\"x\"}},\"tools\":{\"functionDeclarations\":"
                              "{\"name\":\"w\"}},\"generationConfig\":{\"responseMimeType\":\"application/json\"}}");
    CHECK(G->fit(body, "gemini-2.0-flash", 0) == 1);
    cJSON_Delete(body);
}

/* Gemini 3's multimodal function responses: an image a tool returned, in
 * the functionResponse's "parts" (camelCase or snake_case, one or a list),
 * named by its displayName, which the response may refer to ({"$ref":
 * name}). It reaches an Anthropic member's tool_result beside the response
 * (once, it was left out and the member answered without it); an OpenAI
 * member, whose tool messages take text only, is skipped, as for a PDF or a
 * file only Gemini can read. The other way, another dialect's tool result
 * holding an image is a functionResponse's parts for Gemini 3, and skips
 * Gemini before 3, which takes none there. */
static void function_response_media(void)
{
#define CALL "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Show me the instrument\"}]},"          \
             "{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":\"get_image\",\"args\":{}}}]},"
    static const char *const reqs[] = {
        CALL "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"get_image\",\"response\":{\"image_ref\":"
             "{\"$ref\":\"instrument.jpg\"}},\"parts\":[{\"inlineData\":{\"displayName\":\"instrument.jpg\","
             "\"mimeType\":\"image/jpeg\",\"data\":\"QUJD\"}}]}}]}]}",
        CALL "{\"role\":\"user\",\"parts\":{\"function_response\":{\"name\":\"get_image\",\"response\":{\"image_ref\":"
             "{\"$ref\":\"instrument.jpg\"}},\"parts\":{\"inline_data\":{\"display_name\":\"instrument.jpg\","
             "\"mime_type\":\"image/jpeg\",\"data\":\"QUJD\"}}}}}]}",
    };
    static const char want[] =
        "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"call_0\",\"content\":["
        "{\"type\":\"text\",\"text\":\"{\\\"image_ref\\\":{\\\"$ref\\\":\\\"instrument.jpg\\\"}}\"},"
        "{\"type\":\"text\",\"text\":\"instrument.jpg\"},{\"type\":\"image\",\"source\":{\"type\":\"base64\","
        "\"media_type\":\"image/jpeg\",\"data\":\"QUJD\"}}]}]}";
    cJSON *w = cJSON_Parse(want);
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        int rc;
        char d[160];
        cJSON *o = tr_across(LLF_GEMINI, LLF_ANTHROPIC, reqs[i], "claude-sonnet-4-5", &rc, d, sizeof d);
        if (rc != LLF_TR_OK)
            fprintf(stderr, "  media to Anthropic: rc %d (%s)\n", rc, d);
        CHECK(rc == LLF_TR_OK);
        CHECK(t_json_same(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "messages"), 2), w, reqs[i]));
        cJSON_Delete(o);
        CHECK(tr_skipped(LLF_GEMINI, LLF_OPENAI, reqs[i], "gpt-4o", "image_url"));
    }
    cJSON_Delete(w);
    /* a file at a URL: Claude's url image; a PDF, or a file of Gemini's
     * own, reach no other dialect */
    int rc;
    cJSON *o = tr_across(LLF_GEMINI, LLF_ANTHROPIC,
                         CALL "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"get_image\",\"response\":"
                              "{},\"parts\":[{\"fileData\":{\"mimeType\":\"image/png\",\"fileUri\":"
                              "\"https://x.test/a.png\"}}]}}]}]}",
                         "claude-sonnet-4-5", &rc, NULL, 0);
    const cJSON *tr = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "messages"), 2),
                                                             "content"), 0);
    const cJSON *src = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(tr, "content"), 1), "source");
    CHECK(rc == LLF_TR_OK);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(src, "url")), "https://x.test/a.png");
    cJSON_Delete(o);
    static const char *const refused[][2] = {
        {"{\"inlineData\":{\"mimeType\":\"application/zip\",\"data\":\"UEsD\"}}", "application/zip"},
        {"{\"fileData\":{\"mimeType\":\"image/png\",\"fileUri\":\"gs://b/a.png\"}}", "gs://"},
        {"{\"text\":\"x\"}", "functionResponse part"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char req[600];
        snprintf(req, sizeof req, CALL "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"get_image\","
                                       "\"response\":{},\"parts\":[%s]}}]}]}", refused[i][0]);
        CHECK(tr_skipped(LLF_GEMINI, LLF_ANTHROPIC, req, "claude-sonnet-4-5", refused[i][1]));
    }
#undef CALL
    /* the other way */
    static const char hub[] =
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":null,"
        "\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"get_image\",\"arguments\":"
        "\"{}\"}}]},{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":[{\"type\":\"text\",\"text\":\"here\"},"
        "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,QUJD\"}}]}]}";
    o = tr_across(LLF_OPENAI, LLF_GEMINI, hub, "gemini-3-flash-preview", &rc, NULL, 0);
    cJSON *fr = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
                                        cJSON_GetObjectItem(o, "contents"), 2), "parts"), 0), "functionResponse");
    cJSON *gw = cJSON_Parse("{\"name\":\"get_image\",\"response\":{\"content\":\"here\"},\"parts\":[{\"inlineData\":"
                            "{\"mimeType\":\"image/png\",\"data\":\"QUJD\"}}]}");
    CHECK(rc == LLF_TR_OK && t_json_same(fr, gw, "tool image to Gemini 3"));
    cJSON_Delete(gw);
    cJSON_Delete(o);
    CHECK(tr_skipped(LLF_OPENAI, LLF_GEMINI, hub, "gemini-2.5-flash", "functionResponse"));
}

/* A tool result's image reaches a Gemini member's functionResponse.parts
 * only for the models known to take media there, Gemini 3 and later by
 * name; any other model (a -latest alias, robotics, experimental, Gemma, a
 * tuned model) is skipped, as Gemini before 3 is. And only as inline data:
 * the Gemini API takes no file by URI there, so an image by URL skips the
 * member. */
static void function_response_media_members(void)
{
#define TOOL_RESULT(img)                                                                                          \
    "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"Show me "  \
    "the instrument\"},{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":"  \
    "\"get_image\",\"input\":{}}]},{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":"     \
    "\"toolu_1\",\"content\":[{\"type\":\"text\",\"text\":\"here\"},{\"type\":\"image\",\"source\":" img "}]}]}]}"
    static const char by_url[] = TOOL_RESULT("{\"type\":\"url\",\"url\":\"https://x.test/a.png\"}");
    static const char inline_[] = TOOL_RESULT("{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"QUJD\"}");
#undef TOOL_RESULT
    CHECK(tr_skipped(LLF_ANTHROPIC, LLF_GEMINI, by_url, "gemini-3-flash-preview", "inline data only"));
    static const char *const takes[] = {"gemini-3-flash-preview", "models/gemini-3-pro-preview",
                                        "gemini-3.1-pro-preview", "gemini-4-flash"};
    for (size_t i = 0; i < sizeof takes / sizeof takes[0]; i++) {
        int rc;
        char d[160];
        cJSON *o = tr_across(LLF_ANTHROPIC, LLF_GEMINI, inline_, takes[i], &rc, d, sizeof d);
        const cJSON *fr = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
                                                  cJSON_GetObjectItem(o, "contents"), 2), "parts"), 0), "functionResponse");
        const cJSON *inl = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(fr, "parts"), 0), "inlineData");
        if (rc != LLF_TR_OK)
            fprintf(stderr, "  %s: rc %d (%s)\n", takes[i], rc, d);
        CHECK(rc == LLF_TR_OK);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(inl, "data")), "QUJD");
        cJSON_Delete(o);
    }
    static const char *const refuse[] = {"gemini-2.5-flash", "models/gemini-2.0-flash", "gemini-1.5-pro",
                                         "gemini-robotics-er-1.5-preview", "gemini-flash-latest",
                                         "gemini-exp-1206", "gemma-3-27b-it", "tunedModels/x", "gemini-"};
    for (size_t i = 0; i < sizeof refuse / sizeof refuse[0]; i++)
        CHECK(tr_skipped(LLF_ANTHROPIC, LLF_GEMINI, inline_, refuse[i], "functionResponse"));
}

/* A Gemini request req's schemas in the hub: its first tool's Schema
 * parameters, its second's JSON Schema ones, and its response schema, as
 * each of params, json_params and schema (labelled by what). */
static void hub_schemas_are(const char *req, const char *params, const char *json_params, const char *schema,
                            const char *what)
{
    cJSON *in = cJSON_Parse(req), *hub = NULL;
    llf_terr e = {{0}};
    char label[96];
    CHECK(G->req_to_hub(in, "gemini-2.5-flash", &hub, &e) == LLF_TR_OK);
    const cJSON *tools = cJSON_GetObjectItem(hub, "tools");
    cJSON *p = cJSON_Parse(params), *jp = cJSON_Parse(json_params), *sc = cJSON_Parse(schema);
    snprintf(label, sizeof label, "%sSchema parameters", what);
    CHECK(t_json_same(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(tools, 0), "function"), "parameters"),
                      p, label));
    snprintf(label, sizeof label, "%sJSON Schema parameters", what);
    CHECK(t_json_same(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(tools, 1), "function"), "parameters"),
                      jp, label));
    snprintf(label, sizeof label, "%sresponse schema", what);
    CHECK(t_json_same(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(hub, "response_format"),
                                                              "json_schema"), "schema"), sc, label));
    cJSON_Delete(p);
    cJSON_Delete(jp);
    cJSON_Delete(sc);
    cJSON_Delete(hub);
    cJSON_Delete(in);
}

/* Inside a Gemini Schema (responseSchema, a declaration's parameters) a
 * repeated field (required, enum, anyOf, propertyOrdering) given as a
 * single value is a list of one, as Google reads every repeated field of
 * its requests; sent on as it was, OpenAI and Anthropic refuse the schema
 * (400, "'a' is not of type 'array'"). A null field is not given. A JSON
 * Schema (responseJsonSchema, parametersJsonSchema) is no Schema, and an
 * example or default is data, not a schema: both go as written. */
static void schema_single_values(void)
{
    static const char req[] =
        "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"tools\":[{\"functionDeclarations\":[{\"name\":\"w\","
        "\"parameters\":{\"type\":\"OBJECT\",\"properties\":{\"u\":{\"type\":\"STRING\",\"enum\":\"C\"},\"v\":{\"anyOf\":"
        "{\"type\":\"STRING\"},\"example\":{\"type\":\"X\",\"required\":\"y\"}}},\"required\":\"u\",\"propertyOrdering\":"
        "\"u\",\"nullable\":null,\"enum\":null}},{\"name\":\"j\",\"parametersJsonSchema\":{\"type\":\"object\","
        "\"required\":\"k\"}}]}],\"generationConfig\":{\"responseMimeType\":\"application/json\",\"response_schema\":"
        "{\"type\":\"ARRAY\",\"items\":{\"type\":\"OBJECT\",\"properties\":{\"a\":{\"type\":\"STRING\"}},\"required\":"
        "\"a\"}}}}";
    static const char params[] =
        "{\"type\":\"object\",\"properties\":{\"u\":{\"type\":\"string\",\"enum\":[\"C\"]},\"v\":{\"anyOf\":[{\"type\":"
        "\"string\"}],\"example\":{\"type\":\"X\",\"required\":\"y\"}}},\"required\":[\"u\"],\"propertyOrdering\":[\"u\"]}";
    static const char json_params[] = "{\"type\":\"object\",\"required\":\"k\"}";
    static const char schema[] =
        "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},"
        "\"required\":[\"a\"]}}";
    hub_schemas_are(req, params, json_params, schema, "");
}

/* Gemini's Schema with its fields in snake_case, the proto names Google
 * takes as it takes camelCase (any_of, max_items, property_ordering...):
 * JSON Schema's names to the other dialects, a single value of a list
 * field a list of one as in camelCase, and a field given both ways once
 * (the first). Property names stay names; a JSON Schema goes as written. */
static void schema_snake_case(void)
{
    static const char req[] =
        "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"tools\":[{\"function_declarations\":[{\"name\":\"w\","
        "\"parameters\":{\"type\":\"OBJECT\",\"properties\":{\"max_items\":{\"type\":\"STRING\",\"min_length\":1,"
        "\"max_length\":9},\"v\":{\"any_of\":{\"type\":\"STRING\"}},\"o\":{\"type\":\"OBJECT\",\"min_properties\":1,"
        "\"max_properties\":3,\"property_ordering\":\"a\",\"properties\":{\"a\":{\"type\":\"INTEGER\"}}},"
        "\"both\":{\"anyOf\":[{\"type\":\"STRING\"}],\"any_of\":[{\"type\":\"NUMBER\"}]}},"
        "\"property_ordering\":[\"max_items\",\"v\"]}},{\"name\":\"j\",\"parameters_json_schema\":{\"type\":"
        "\"array\",\"max_items\":2}}]}],\"generation_config\":{\"response_mime_type\":\"application/json\","
        "\"response_schema\":{\"type\":\"ARRAY\",\"max_items\":2,\"min_items\":1,\"items\":{\"any_of\":[{\"type\":"
        "\"STRING\"},{\"type\":\"INTEGER\"}]}}}}";
    static const char params[] =
        "{\"type\":\"object\",\"properties\":{\"max_items\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":9},"
        "\"v\":{\"anyOf\":[{\"type\":\"string\"}]},\"o\":{\"type\":\"object\",\"minProperties\":1,\"maxProperties\":3,"
        "\"propertyOrdering\":[\"a\"],\"properties\":{\"a\":{\"type\":\"integer\"}}},"
        "\"both\":{\"anyOf\":[{\"type\":\"string\"}]}},\"propertyOrdering\":[\"max_items\",\"v\"]}";
    static const char json_params[] = "{\"type\":\"array\",\"max_items\":2}";
    static const char schema[] =
        "{\"type\":\"array\",\"maxItems\":2,\"minItems\":1,\"items\":{\"anyOf\":[{\"type\":\"string\"},"
        "{\"type\":\"integer\"}]}}";
    hub_schemas_are(req, params, json_params, schema, "snake_case ");
    t_oom_sweep(oom_to_hub, req, "gemini snake_case schema");
}

/* A Schema's bounds written as strings, as proto3 JSON writes its int64
 * ones ("maxItems": "2"): numbers to the other dialects, which refuse a
 * string there. A string that is no number, an example or a default
 * (data), and a JSON Schema go as written. */
static void schema_numbers_as_strings(void)
{
    static const char req[] =
        "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"tools\":[{\"functionDeclarations\":[{\"name\":\"w\","
        "\"parameters\":{\"type\":\"OBJECT\",\"min_properties\":\"1\",\"maxProperties\":\"4\",\"properties\":{"
        "\"maxItems\":{\"type\":\"ARRAY\",\"maxItems\":\"2\",\"min_items\":\"0\",\"example\":\"3\",\"items\":{"
        "\"type\":\"NUMBER\",\"minimum\":\"-1.5\",\"maximum\":\"1e2\",\"default\":\"7\"}},\"s\":{\"type\":\"STRING\","
        "\"minLength\":\"x\",\"max_length\":\"12\"}}}},{\"name\":\"j\",\"parametersJsonSchema\":{\"type\":\"array\","
        "\"maxItems\":\"2\"}}]}]}";
    static const char params[] =
        "{\"type\":\"object\",\"minProperties\":1,\"maxProperties\":4,\"properties\":{\"maxItems\":{\"type\":\"array\","
        "\"maxItems\":2,\"minItems\":0,\"example\":\"3\",\"items\":{\"type\":\"number\",\"minimum\":-1.5,\"maximum\":100,"
        "\"default\":\"7\"}},\"s\":{\"type\":\"string\",\"minLength\":\"x\",\"maxLength\":12}}}";
    static const char json_params[] = "{\"type\":\"array\",\"maxItems\":\"2\"}";
    cJSON *hub = hub_of(req), *p = cJSON_Parse(params), *jp = cJSON_Parse(json_params);
    const cJSON *tools = cJSON_GetObjectItem(hub, "tools");
    CHECK(t_json_same(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(tools, 0), "function"), "parameters"),
                      p, "Schema bounds as strings"));
    CHECK(t_json_same(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(tools, 1), "function"), "parameters"),
                      jp, "JSON Schema bounds as strings"));
    t_oom_sweep(oom_to_hub, req, "gemini Schema bounds as strings");
    cJSON_Delete(p);
    cJSON_Delete(jp);
    cJSON_Delete(hub);
}

/* Is every function name of a body sent to OpenAI or Anthropic one they
 * take (^[a-zA-Z0-9_-]{1,64}$), its tools', tool choice's and history's? */
static int names_taken(const cJSON *o)
{
    int ok = 1, n = 0;
    for (const cJSON *k = o ? o->child : NULL; k; k = k->next) {
        if (cJSON_IsObject(k) || cJSON_IsArray(k))
            ok &= names_taken(k);
        if (!k->string || strcmp(k->string, "name") || !cJSON_IsString(k))
            continue;
        const char *v = k->valuestring;
        for (n = 0; v[n]; n++)
            ok &= (v[n] >= 'a' && v[n] <= 'z') || (v[n] >= 'A' && v[n] <= 'Z') || (v[n] >= '0' && v[n] <= '9') ||
                  v[n] == '_' || v[n] == '-';
        ok &= n >= 1 && n <= 64;
    }
    return ok;
}

/* An OpenAI answer (arg[0], its text) with its calls given the program's
 * names (arg[1], LLF_HUB_NAMES' text), as a Gemini answer; NULL on no
 * memory: t_oom_sweep's op. */
static cJSON *oom_names_back(const void *arg)
{
    const char *const *a = arg;
    cJSON *ans = cJSON_Parse(a[0]), *names = cJSON_Parse(a[1]), *g = NULL;
    llf_terr e = {{0}};
    if (!ans || !names || llf_hub_names_back(ans, names) || G->resp_from_hub(ans, "m", &g, &e) != LLF_TR_OK)
        g = NULL;
    cJSON_Delete(ans);
    cJSON_Delete(names);
    return g;
}

/* Gemini's function names may hold '.' and ':' ("files.read",
 * "mcp:search"), which OpenAI and Anthropic refuse (400): they are sent
 * each such byte '_', made unlike every other name of the request (_2...,
 * within 64 bytes), the same wherever the request names the function
 * (declarations, the choice of one, the history's calls), and the
 * answer's calls get the program's names back. A Gemini member gets the
 * program's body, names and all. */
static void function_names_for_others(void)
{
    /* names of 64 bytes: one with a dot, its form declared too, and what
     * the first is sent as (_2 within 64) */
#define A60 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define A62_DOT "x.aa" A60
#define A62_UNDER "x_aa" A60
#define A62_SENT "x_" A60 "_2"
    static const char req[] =
        "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"read it\"}]},{\"role\":\"model\",\"parts\":["
        "{\"functionCall\":{\"name\":\"files.read\",\"args\":{\"p\":\"a\"}}},{\"functionCall\":{\"name\":\"mcp:search\","
        "\"args\":{}}}]},{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"mcp:search\",\"response\":"
        "{\"output\":\"s\"}}},{\"functionResponse\":{\"name\":\"files.read\",\"response\":{\"output\":\"r\"}}}]}],"
        "\"tools\":[{\"functionDeclarations\":[{\"name\":\"files.read\"},{\"name\":\"mcp:search\"},"
        "{\"name\":\"files_read\"},{\"name\":\"" A62_DOT "\"},{\"name\":\"" A62_UNDER "\"}]}],"
        "\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"ANY\",\"allowedFunctionNames\":[\"files.read\"]}}}";
    static const char want_names[] =
        "{\"files_read_2\":\"files.read\",\"mcp_search\":\"mcp:search\",\"" A62_SENT "\":\"" A62_DOT "\"}";
    cJSON *hub = hub_of(req), *wn = cJSON_Parse(want_names);
    CHECK(t_json_same(cJSON_GetObjectItem(hub, LLF_HUB_NAMES), wn, "names changed"));
    cJSON_Delete(wn);
    /* (allowedFunctionNames: the one allowed, by the name it is sent) */
    const cJSON *tc = cJSON_GetObjectItem(cJSON_GetObjectItem(hub, "tool_choice"), "function");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(tc, "name")), "files_read_2");
    t_oom_sweep(oom_to_hub, req, "gemini function names");
    cJSON_Delete(hub);

    /* the other dialects take every name; calls and declarations agree */
    for (int to = LLF_OPENAI; to <= LLF_ANTHROPIC; to++) {
        int rc;
        char d[160];
        cJSON *o = tr_across(LLF_GEMINI, to, req, to == LLF_OPENAI ? "gpt-4o" : "claude-sonnet-4-5", &rc, d, sizeof d);
        CHECK(rc == LLF_TR_OK && names_taken(o));
        CHECK(o && !cJSON_GetObjectItem(o, LLF_HUB_NAMES));
        char *t = cJSON_PrintUnformatted(o);
        CHECK(t && strstr(t, "\"files_read_2\"") && strstr(t, "\"mcp_search\"") && strstr(t, "\"files_read\"") &&
              strstr(t, "\"" A62_SENT "\"") && !strstr(t, "files.read") &&
              !strstr(t, "mcp:search"));
        free(t);
        cJSON_Delete(o);
    }

    /* an answer's calls by the program's names again; others as they are */
    static const char answer[] =
        "{\"id\":\"c\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
        "{\"id\":\"a\",\"type\":\"function\",\"function\":{\"name\":\"files_read_2\",\"arguments\":\"{}\"}},"
        "{\"id\":\"b\",\"type\":\"function\",\"function\":{\"name\":\"files_read\",\"arguments\":\"{}\"}},"
        "{\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"mcp_search\",\"arguments\":\"{}\"}}]},"
        "\"finish_reason\":\"tool_calls\"}]}";
    hub = hub_of(req);
    cJSON *ans = cJSON_Parse(answer), *g = NULL;
    llf_terr e = {{0}};
    CHECK(llf_hub_names_back(ans, cJSON_GetObjectItem(hub, LLF_HUB_NAMES)) == 0);
    CHECK(G->resp_from_hub(ans, "m", &g, &e) == LLF_TR_OK);
    const cJSON *parts = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(g, "candidates"),
                                                                                    0), "content"), "parts");
    static const char *const want[] = {"files.read", "files_read", "mcp:search"};
    CHECK(cJSON_GetArraySize(parts) == 3);
    for (int i = 0; i < 3 && i < cJSON_GetArraySize(parts); i++)
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(parts, i),
                                                                               "functionCall"), "name")), want[i]);
    cJSON_Delete(g);
    cJSON_Delete(ans);
    cJSON_Delete(hub);
    /* (a program's name longer than the one sent: renaming allocates) */
    const char *const sweep[] = {answer, "{\"files_read_2\":\"files.read.whole:file\"}"};
    t_oom_sweep(oom_names_back, sweep, "gemini function names back");

    /* names they take: no map at all */
    hub = hub_of("{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"tools\":[{\"functionDeclarations\":["
                 "{\"name\":\"get-weather_2\"}]}]}");
    CHECK(hub && !cJSON_GetObjectItem(hub, LLF_HUB_NAMES));
    cJSON_Delete(hub);
#undef A60
#undef A62_DOT
#undef A62_UNDER
#undef A62_SENT
}

/* What Gemini refuses of a schema OpenAI and Anthropic take (each its 400):
 * an array without items ("items: missing field"), given the tuple's
 * schema, an anyOf of its schemas, or the empty schema; an enum without a
 * type, or of another type than string ("enum: only allowed for STRING
 * type"), a string's then, or none; an empty string in an enum ("enum[0]:
 * cannot be empty"); format "enum" without an enum left. */
static void schemas_gemini_refuses(void)
{
    static const char *const cases[][2] = {
        {"{\"type\":\"array\"}", "{\"type\":\"array\",\"items\":{}}"},
        {"{\"type\":\"array\",\"prefixItems\":[{\"type\":\"integer\"},{\"type\":\"string\",\"const\":\"k\"}],"
         "\"minItems\":2}",
         "{\"type\":\"array\",\"minItems\":2,\"items\":{\"anyOf\":[{\"type\":\"integer\"},"
         "{\"type\":\"string\",\"enum\":[\"k\"]}]}}"},
        {"{\"type\":\"array\",\"items\":[{\"type\":\"number\"}]}", "{\"type\":\"array\",\"items\":{\"type\":\"number\"}}"},
        {"{\"type\":[\"array\",\"null\"]}", "{\"type\":\"array\",\"nullable\":true,\"items\":{}}"},
        {"{\"type\":[\"array\",\"string\"],\"items\":{\"type\":\"integer\"}}",
         "{\"items\":{\"type\":\"integer\"},\"anyOf\":[{\"type\":\"array\",\"items\":{\"type\":\"integer\"}},"
         "{\"type\":\"string\"}]}"},
        {"{\"type\":[\"array\",\"string\"]}", "{\"anyOf\":[{\"type\":\"array\",\"items\":{}},{\"type\":\"string\"}]}"},
        {"{\"type\":\"object\",\"properties\":{\"tags\":{\"type\":\"array\",\"description\":\"t\"}}}",
         "{\"type\":\"object\",\"properties\":{\"tags\":{\"type\":\"array\",\"description\":\"t\",\"items\":{}}}}"},
        {"{\"enum\":[\"fast\",\"slow\"],\"description\":\"m\"}",
         "{\"enum\":[\"fast\",\"slow\"],\"description\":\"m\",\"type\":\"string\"}"},
        {"{\"const\":\"k\"}", "{\"enum\":[\"k\"],\"type\":\"string\"}"},
        {"{\"type\":\"string\",\"enum\":[\"\",\"eq\",\"neq\"]}", "{\"type\":\"string\",\"enum\":[\"eq\",\"neq\"]}"},
        {"{\"type\":\"string\",\"format\":\"enum\",\"enum\":[\"\"]}", "{\"type\":\"string\"}"},
        {"{\"type\":\"integer\",\"enum\":[\"1\",\"2\"]}", "{\"type\":\"integer\"}"},
        {"{\"enum\":[\"a\",null]}", "{\"enum\":[\"a\"],\"type\":\"string\",\"nullable\":true}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[600];
        snprintf(req, sizeof req,
                 "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\","
                 "\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\",\"properties\":{\"v\":%s}}}}]}",
                 cases[i][0]);
        cJSON *hub = cJSON_Parse(req), *out = NULL, *want = cJSON_Parse(cases[i][1]);
        llf_terr e = {{0}};
        CHECK(hub && G->req_from_hub(hub, "gemini-2.5-flash", &out, &e) == LLF_TR_OK);
        const cJSON *decl = cJSON_GetArrayItem(
            cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(out, "tools"), 0), "functionDeclarations"), 0);
        const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(decl, "parameters"), "properties"), "v");
        CHECK(t_json_same(v, want, cases[i][0]));
        cJSON_Delete(want);
        cJSON_Delete(out);
        cJSON_Delete(hub);
    }
}

/* Gemini refuses a request without contents (400 "contents is not
 * specified"), which OpenAI takes: a system prompt alone is sent as the
 * user's turn; with no text at all the member is skipped. A
 * functionResponse that answers no call of the history (one cut short)
 * skips members of other dialects, which refuse such a tool result. */
static void requests_gemini_or_others_refuse(void)
{
    cJSON *hub = cJSON_Parse("{\"messages\":[{\"role\":\"system\",\"content\":\"Write a haiku.\"},"
                             "{\"role\":\"user\",\"content\":\"\"}]}"),
          *out = NULL;
    llf_terr e = {{0}};
    CHECK(hub && G->req_from_hub(hub, "gemini-2.5-flash", &out, &e) == LLF_TR_OK);
    cJSON *want = cJSON_Parse("[{\"role\":\"user\",\"parts\":[{\"text\":\"Write a haiku.\"}]}]");
    CHECK(out && t_json_same(cJSON_GetObjectItem(out, "contents"), want, "system prompt alone"));
    CHECK(out && !cJSON_GetObjectItem(out, "systemInstruction"));
    cJSON_Delete(want);
    cJSON_Delete(out);
    cJSON_Delete(hub);
    out = NULL;
    hub = cJSON_Parse("{\"messages\":[{\"role\":\"user\",\"content\":\"\"}]}");
    CHECK(hub && G->req_from_hub(hub, "gemini-2.5-flash", &out, &e) == LLF_TR_INCOMPATIBLE && !out);
    CHECK(strstr(e.detail, "no message"));
    cJSON_Delete(hub);

    static const char *const orphans[] = {
        "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"search\","
        "\"response\":{\"output\":\"3 results\"}}}]},{\"role\":\"user\",\"parts\":[{\"text\":\"summarise\"}]}]}",
        "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"go\"}]},{\"role\":\"model\",\"parts\":"
        "[{\"functionCall\":{\"name\":\"a\",\"args\":{}}}]},{\"role\":\"user\",\"parts\":[{\"functionResponse\":"
        "{\"name\":\"b\",\"response\":{\"output\":\"x\"}}}]}]}"};
    for (size_t i = 0; i < sizeof orphans / sizeof orphans[0]; i++) {
        cJSON *in = cJSON_Parse(orphans[i]);
        hub = NULL;
        CHECK(in && G->req_to_hub(in, "gemini-2.5-flash", &hub, &e) == LLF_TR_INCOMPATIBLE && !hub);
        CHECK(strstr(e.detail, "unknown call"));
        cJSON_Delete(in);
    }
    /* (the call answered: translated) */
    cJSON *in = cJSON_Parse("{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"go\"}]},{\"role\":\"model\","
                            "\"parts\":[{\"functionCall\":{\"name\":\"a\",\"args\":{}}}]},{\"role\":\"user\",\"parts\":"
                            "[{\"functionResponse\":{\"name\":\"a\",\"response\":{\"output\":\"x\"}}}]}]}");
    hub = NULL;
    CHECK(in && G->req_to_hub(in, "gemini-2.5-flash", &hub, &e) == LLF_TR_OK && hub);
    cJSON_Delete(hub);
    cJSON_Delete(in);
}

/* An OpenAI or Anthropic output limit is the answer's; Gemini's counts a
 * model's thoughts too, so a model that thinks unasked gets the room its
 * thinking takes besides (thinking_room), held to the model's most. */
static void output_limit_leaves_room_to_think(void)
{
    static const struct {
        const char *model;
        int limit, want;
    } cases[] = {{"gemini-2.5-flash", 300, 300 + 24576}, {"models/gemini-2.5-pro", 1024, 1024 + 32768},
                 {"gemini-3-pro-preview", 50000, 65536}, {"gemini-3-flash-preview", 10, 10 + 32768},
                 {"gemini-2.5-flash-lite", 300, 300}, {"gemini-2.0-flash", 300, 300},
                 {"gemini-flash-latest", 300, 300}, {"gemini-9-ultra", 300, 300}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[200];
        snprintf(req, sizeof req, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":%d}",
                 cases[i].limit);
        cJSON *hub = cJSON_Parse(req), *out = NULL;
        llf_terr e = {{0}};
        CHECK(hub && G->req_from_hub(hub, cases[i].model, &out, &e) == LLF_TR_OK);
        const cJSON *mo = cJSON_GetObjectItem(cJSON_GetObjectItem(out, "generationConfig"), "maxOutputTokens");
        if (!mo || mo->valueint != cases[i].want)
            fprintf(stderr, "  %s: maxOutputTokens %d, want %d\n", cases[i].model, mo ? mo->valueint : -1,
                    cases[i].want);
        CHECK(mo && mo->valueint == cases[i].want);
        cJSON_Delete(out);
        cJSON_Delete(hub);
    }
}

/* A null responseSchema or responseJsonSchema is none (proto3 JSON reads
 * null as unset): JSON mode without a schema, or the other one, never
 * "schema": null, which OpenAI refuses. */
static void null_response_schema(void)
{
    static const char *const gcs[] = {
        "{\"responseMimeType\":\"application/json\",\"responseSchema\":null}",
        "{\"responseMimeType\":\"application/json\",\"response_json_schema\":null}",
        "{\"responseMimeType\":\"application/json\",\"responseSchema\":null,\"responseJsonSchema\":"
        "{\"type\":\"object\"}}"};
    static const char *const want[] = {"{\"type\":\"json_object\"}", "{\"type\":\"json_object\"}",
                                       "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"response\","
                                       "\"schema\":{\"type\":\"object\"}}}"};
    for (size_t i = 0; i < sizeof gcs / sizeof gcs[0]; i++) {
        char req[300];
        snprintf(req, sizeof req, "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":%s}", gcs[i]);
        cJSON *in = cJSON_Parse(req), *hub = NULL, *w = cJSON_Parse(want[i]);
        llf_terr e = {{0}};
        CHECK(G->req_to_hub(in, "gemini-2.5-flash", &hub, &e) == LLF_TR_OK);
        CHECK(t_json_same(cJSON_GetObjectItem(hub, "response_format"), w, gcs[i]));
        cJSON_Delete(w);
        cJSON_Delete(hub);
        cJSON_Delete(in);
    }
}

/* A server-side tool (Google Search, code execution, URL context...) is
 * refused beside function declarations in one Tool object as in a Tool of
 * its own: another model would answer without it. */
static void server_tools_beside_functions(void)
{
    static const char *const tools[] = {"{\"googleSearch\":{}}", "{\"google_search_retrieval\":{}}",
                                        "{\"codeExecution\":{}}", "{\"url_context\":{}}"};
    static const char *const names[] = {"googleSearch", "google_search_retrieval", "codeExecution", "url_context"};
    for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) {
        char own[300], beside[300];
        snprintf(own, sizeof own, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"news?\"}]}],\"tools\":["
                                  "{\"functionDeclarations\":[{\"name\":\"f\"}]},%s]}", tools[i]);
        snprintf(beside, sizeof beside, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"news?\"}]}],\"tools\":"
                                        "[{\"functionDeclarations\":[{\"name\":\"f\"}],%.*s}]}",
                 (int)strlen(tools[i]) - 2, tools[i] + 1);
        for (int to = LLF_OPENAI; to <= LLF_ANTHROPIC; to++) {
            const char *model = to ? "claude-sonnet-4-5" : "gpt-4o";
            CHECK(tr_skipped(LLF_GEMINI, to, own, model, names[i]));
            CHECK(tr_skipped(LLF_GEMINI, to, beside, model, names[i]));
        }
    }
    /* (one not given: null) */
    int rc;
    char d[160];
    cJSON *o = tr_across(LLF_GEMINI, LLF_OPENAI, "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"tools\":[{"
                         "\"function_declarations\":[{\"name\":\"f\"}],\"googleSearch\":null}]}", "gpt-4o", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && cJSON_GetArraySize(cJSON_GetObjectItem(o, "tools")) == 1);
    cJSON_Delete(o);
}

/* Text that only begins with a JSON object (JSON lines, JSON then prose)
 * is text to Gemini: a tool result goes whole as {"content": text}, not
 * as its first object; such call arguments are no JSON object either. */
static void trailing_text_is_text(void)
{
    static const char *const results[] = {
        "{\"event\":\"login\",\"user\":\"bob\"}\n{\"event\":\"delete_all\",\"user\":\"mallory\"}",
        "{\"ok\":true} but the disk is full",
    };
    int rc;
    char d[160], json[600];
    for (size_t i = 0; i < sizeof results / sizeof results[0]; i++) {
        cJSON *hub = cJSON_Parse("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"},"
                                 "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"a\",\"type\":"
                                 "\"function\",\"function\":{\"name\":\"ev\",\"arguments\":\"{}\"}}]},"
                                 "{\"role\":\"tool\",\"tool_call_id\":\"a\"}]}");
        cJSON_AddStringToObject(cJSON_GetArrayItem(cJSON_GetObjectItem(hub, "messages"), 2), "content", results[i]);
        char *h = cJSON_PrintUnformatted(hub);
        cJSON *o = tr_across(LLF_OPENAI, LLF_GEMINI, h, "gemini-2.5-flash", &rc, d, sizeof d);
        const cJSON *r = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
            cJSON_GetArrayItem(cJSON_GetObjectItem(o, "contents"), 2), "parts"), 0), "functionResponse"), "response");
        CHECK(rc == LLF_TR_OK && cJSON_GetArraySize(r) == 1);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r, "content")), results[i]);
        cJSON_Delete(o);
        cJSON_Delete(hub);
        free(h);
    }
    /* (an object with white space around it is still the object) */
    cJSON *o = tr_across(LLF_OPENAI, LLF_GEMINI, "{\"model\":\"g\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"},"
                         "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"a\",\"type\":\"function\","
                         "\"function\":{\"name\":\"ev\",\"arguments\":\" {\\\"n\\\":1}\\n\"}}]},{\"role\":\"tool\","
                         "\"tool_call_id\":\"a\",\"content\":\"\\n{\\\"ok\\\":true}\\n\"}]}", "gemini-2.5-flash", &rc, d,
                         sizeof d);
    const cJSON *turns = cJSON_GetObjectItem(o, "contents");
    CHECK(rc == LLF_TR_OK && cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(turns, 2), "parts"), 0), "functionResponse"),
        "response"), "ok")));
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
        cJSON_GetArrayItem(turns, 1), "parts"), 0), "functionCall"), "args"), "n") != NULL);
    cJSON_Delete(o);
    /* call arguments of two objects, in a history and in an answer */
    snprintf(json, sizeof json, "{\"model\":\"g\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":"
                                "\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"a\",\"type\":\"function\","
                                "\"function\":{\"name\":\"w\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}"
                                "{\\\"city\\\":\\\"Rome\\\"}\"}}]},{\"role\":\"tool\",\"tool_call_id\":\"a\",\"content\":"
                                "\"r\"}]}");
    CHECK(tr_skipped(LLF_OPENAI, LLF_GEMINI, json, "gemini-2.5-flash", "arguments"));
    cJSON *hub = cJSON_Parse("{\"id\":\"c\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
                             "null,\"tool_calls\":[{\"id\":\"a\",\"type\":\"function\",\"function\":{\"name\":\"w\","
                             "\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"} and Rome\"}}]},\"finish_reason\":"
                             "\"tool_calls\"}]}"), *back = NULL;
    llf_terr e = {{0}};
    CHECK(G->resp_from_hub(hub, "g", &back, &e) == LLF_TR_OK);
    const cJSON *args = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(back, "candidates"), 0), "content"), "parts"), 0),
        "functionCall"), "args");
    CHECK(cJSON_IsObject(args) && !cJSON_GetObjectItem(args, "city"));
    cJSON_Delete(hub);
    cJSON_Delete(back);
}

/* What Gemini is sent ending with the model's turn is refused as a
 * conversation ending with it is: a system message after that turn goes to
 * systemInstruction, an empty user turn is left out. */
static void prefills_after_translation(void)
{
    tr_prefill_tails(LLF_GEMINI, "gemini-2.5-flash", 0);
}

/* The function responses a member is sent, in order: "name:text ...". */
static void responses(const cJSON *o, llf_buf *b)
{
    const cJSON *c, *p;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(o, "contents")) cJSON_ArrayForEach(p, cJSON_GetObjectItem(c, "parts"))
    {
        const cJSON *fr = cJSON_GetObjectItem(p, "functionResponse");
        if (fr)
            llf_buf_printf(b, "%s%s:%s", b->n ? " " : "", cJSON_GetStringValue(cJSON_GetObjectItem(fr, "name")),
                           cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(fr, "response"), "content")));
    }
}

/* Results in an OpenAI history whose calls have no ids ("id": "", as
 * Gemini's OpenAI-compatible endpoint gives them, or none) answer the
 * id-less calls of the assistant message before them in order, as OpenAI
 * pairs them by position (and as for Claude): each its own call's name.
 * A call's id repeated in a later turn (ids that restart each turn) is the
 * later turn's call. */
static void empty_tool_ids(void)
{
#define CALL(id, f) "{" id "\"type\":\"function\",\"function\":{\"name\":\"" f "\",\"arguments\":\"{}\"}}"
#define RESULT(id, text) "{\"role\":\"tool\"," id "\"content\":\"" text "\"}"
#define CALLS "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
    static const struct {
        const char *label, *msgs, *want;
    } cases[] = {
        {"two empty ids, answered in order",
         CALLS CALL("\"id\":\"\",", "weather") "," CALL("\"id\":\"\",", "time") "]},"
         RESULT("\"tool_call_id\":\"\",", "P") "," RESULT("\"tool_call_id\":\"\",", "T"),
         "weather:P time:T"},
        {"no ids at all, and one with an id between",
         CALLS CALL("", "weather") "," CALL("\"id\":\"call_x\",", "time") "," CALL("", "news") "]},"
         RESULT("", "P") "," RESULT("\"tool_call_id\":\"call_x\",", "T") "," RESULT("", "N"),
         "weather:P time:T news:N"},
        {"two turns: the second's results answer the second's calls",
         CALLS CALL("\"id\":\"\",", "weather") "]}," RESULT("\"tool_call_id\":\"\",", "P")
         ",{\"role\":\"user\",\"content\":\"and?\"}," CALLS CALL("\"id\":\"\",", "time") ","
         CALL("\"id\":\"\",", "news") "]}," RESULT("\"tool_call_id\":\"\",", "T") "," RESULT("\"tool_call_id\":\"\",", "N"),
         "weather:P time:T news:N"},
        {"an id each turn restarts: the latest turn's call",
         CALLS CALL("\"id\":\"call_0\",", "weather") "]}," RESULT("\"tool_call_id\":\"call_0\",", "P")
         ",{\"role\":\"user\",\"content\":\"and?\"}," CALLS CALL("\"id\":\"call_0\",", "time") "]},"
         RESULT("\"tool_call_id\":\"call_0\",", "T"),
         "weather:P time:T"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        tr_history(cases[i].label, LLF_GEMINI, "gemini-2.5-flash", cases[i].msgs, responses, cases[i].want);
    /* a result more than the id-less calls answers none: not sent */
    CHECK(tr_skipped(LLF_OPENAI, LLF_GEMINI,
                     "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"q\"}," CALLS
                     CALL("\"id\":\"\",", "weather") "]}," RESULT("\"tool_call_id\":\"\",", "P") ","
                     RESULT("\"tool_call_id\":\"\",", "X") "]}",
                     "gemini-2.5-flash", "unknown call"));
#undef CALL
#undef RESULT
#undef CALLS
}

/* A Gemini body fitted to gemini-2.5-pro (a copy, the fitted one), or
 * NULL when fit ran out of memory. */
static cJSON *oom_fit(const void *body)
{
    cJSON *c = cJSON_Duplicate(body, 1);
    if (c && G->fit(c, "gemini-2.5-pro", 1) < 0) {
        cJSON_Delete(c);
        c = NULL;
    }
    return c;
}

/* Numbers of a generationConfig written as strings, as proto3 JSON (which
 * Gemini's REST API reads) allows: numbers to the other dialects, whatever
 * the locale's decimal point, a number of more digits than a double holds
 * as written; a string that is no whole finite number goes on as a wrong
 * type always did. A Gemini member's own body is fitted by them too. */
static void numbers_as_strings(void)
{
    static const char req[] =
        "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}],\"generationConfig\":{"
        "\"maxOutputTokens\":\"50\",\"temperature\":\"0.2\",\"candidateCount\":\"1\",\"topP\":\"0.5\","
        "\"seed\":\"7\",\"presence_penalty\":\"-1.5e-1\",\"frequencyPenalty\":\"12345678901234567890\"}}";
    int comma = t_numeric_comma(1) == 0;
    CHECK(comma);
    cJSON *hub = hub_of(req);
    if (comma)
        CHECK(t_numeric_comma(0) == 0);
    cJSON *want = cJSON_Parse("{\"max_tokens\":50,\"temperature\":0.2,\"n\":1,\"top_p\":0.5,\"seed\":7,"
                              "\"presence_penalty\":-0.15,\"frequency_penalty\":12345678901234567890}");
    for (const cJSON *w = want ? want->child : NULL; w; w = w->next) {
        const cJSON *got = cJSON_GetObjectItem(hub, w->string);
        CHECK(cJSON_IsNumber(got) && got->valuedouble == w->valuedouble);
    }
    char *fp = cJSON_PrintUnformatted(cJSON_GetObjectItem(hub, "frequency_penalty"));
    CHECK_STR(fp, "12345678901234567890");
    free(fp);
    cJSON_Delete(want);
    cJSON_Delete(hub);
    t_oom_sweep(oom_to_hub, req, "gemini numbers as strings");

    /* to Claude: the program's own limit and temperature, and a number
     * for top_p (a Claude 3, which takes both) */
    int rc;
    char d[160];
    cJSON *a = tr_across(LLF_GEMINI, LLF_ANTHROPIC, req, "claude-3-5-sonnet-20241022", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && a);
    const cJSON *mt = cJSON_GetObjectItem(a, "max_tokens"), *t = cJSON_GetObjectItem(a, "temperature"),
                *tp = cJSON_GetObjectItem(a, "top_p");
    CHECK(cJSON_IsNumber(mt) && mt->valuedouble == 50);
    CHECK(cJSON_IsNumber(t) && t->valuedouble == 0.2);
    CHECK(cJSON_IsNumber(tp) && tp->valuedouble == 0.5);
    cJSON_Delete(a);
    /* to OpenAI: numbers, which it takes (a string it refuses) */
    cJSON *o = tr_across(LLF_GEMINI, LLF_OPENAI, req, "gpt-4o", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && o);
    static const char *const keys[] = {"max_tokens", "temperature", "top_p", "n", "seed"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        CHECK(cJSON_IsNumber(cJSON_GetObjectItem(o, keys[i])));
    cJSON_Delete(o);
    /* several answers, as a string, are several: Claude gives one */
    CHECK(tr_skipped(LLF_GEMINI, LLF_ANTHROPIC,
                     "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}],\"generationConfig\":{"
                     "\"candidateCount\":\"2\",\"maxOutputTokens\":\"50\"}}",
                     "claude-sonnet-4-5", "n > 1"));

    /* no whole finite number: as a wrong type, as it was */
    static const char *const bad[] = {"\"5x\"", "\" 5\"", "\"5 \"", "\"0x10\"", "\"\"", "\"1e999\"", "\"-\"",
                                      "\"1.\"", "\".5\"", "\"01\"", "\"1e\"", "\"NaN\"", "\"Infinity\"", "true"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char r[200];
        snprintf(r, sizeof r, "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":{\"topP\":%s}}",
                 bad[i]);
        cJSON *h = hub_of(r), *w = cJSON_Parse(bad[i]);
        CHECK(t_json_same(cJSON_GetObjectItem(h, "top_p"), w, bad[i]));
        cJSON_Delete(w);
        cJSON_Delete(h);
    }

    /* a Gemini member's own body: a limit above the model's, and a
     * thinking budget out of its range, written as strings */
    cJSON *body = cJSON_Parse("{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":{"
                              "\"maxOutputTokens\":\"100000\",\"thinkingConfig\":{\"thinkingBudget\":\"0\"}}}");
    CHECK(G->fit(body, "gemini-2.5-pro", 0) == 2);
    t_oom_sweep(oom_fit, body, "gemini fit of numbers as strings");
    CHECK(G->fit(body, "gemini-2.5-pro", 1) == 2);
    const cJSON *gc = cJSON_GetObjectItem(body, "generationConfig");
    const cJSON *mo = cJSON_GetObjectItem(gc, "maxOutputTokens"),
                *tb = cJSON_GetObjectItem(cJSON_GetObjectItem(gc, "thinkingConfig"), "thinkingBudget");
    CHECK(cJSON_IsNumber(mo) && mo->valuedouble == 65536);
    CHECK(cJSON_IsNumber(tb) && tb->valuedouble == 128);
    CHECK(G->fit(body, "gemini-2.5-pro", 0) == 0);
    cJSON_Delete(body);
    body = cJSON_Parse("{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":{"
                       "\"maxOutputTokens\":\"100\",\"thinkingConfig\":{\"thinking_budget\":\"0\"}}}");
    CHECK(G->fit(body, "gemini-3-pro-preview", 0) == 1);   /* (a budget of 0 a Pro cannot keep) */
    CHECK(G->fit(body, "gemini-2.5-flash", 0) == 0);       /* (within range and limit: as sent) */
    cJSON_Delete(body);
}

void test_dialect_gemini(void)
{
    G = llf_dialect_ops_of(LLF_GEMINI);
    numbers_as_strings();
    prefills_after_translation();
    empty_tool_ids();
    function_response_media();
    function_response_media_members();
    schema_single_values();
    schema_snake_case();
    schema_numbers_as_strings();
    function_names_for_others();
    null_response_schema();
    schemas_gemini_refuses();
    requests_gemini_or_others_refuse();
    output_limit_leaves_room_to_think();
    char d[160];
    tr_golden("gemini basic (snake_case) → hub", G->req_to_hub, "gemini-2.5-flash",
              "gemini/req_basic.gemini.json", "gemini/req_basic.hub.json");
    tr_golden("gemini tools → hub", G->req_to_hub, "gemini-2.5-flash", "gemini/req_tools.gemini.json",
              "gemini/req_tools.hub.json");
    tr_golden("gemini JSON mode → hub", G->req_to_hub, "gemini-2.5-flash", "gemini/req_json.gemini.json",
              "gemini/req_json.hub.json");
    tr_golden_resp("gemini text answer → hub", G->resp_to_hub, "gemini/resp_text.gemini.json",
                   "gemini/resp_text.hub.json");
    tr_golden_resp("gemini function call → hub", G->resp_to_hub, "gemini/resp_tool.gemini.json",
                   "gemini/resp_tool.hub.json");
    round_trip("gemini/req_basic.hub.json");
    round_trip_to("gemini/req_tools.hub.json", results_in_call_order);
    round_trip("gemini/req_json.hub.json");
    /* (tool-call ids cannot survive Gemini, which has none: its own fixtures
     * use the call_<n> ids it numbers) */

    /* hub → Gemini specifics */
    cJSON *h = cJSON_Parse("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"system\",\"content\":\"S\"},"
                           "{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":"
                           "\"https://x.test/cat.png?s=1\"}}]},{\"role\":\"user\",\"content\":\"and?\"}],"
                           "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"r\","
                           "\"strict\":true,\"schema\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":"
                           "\"string\"}},\"additionalProperties\":false}}},\"user\":\"u1\",\"stream\":true,"
                           "\"max_completion_tokens\":9,\"stop\":\"X\",\"presence_penalty\":0.5,"
                           "\"frequency_penalty\":0.2}");
    cJSON *o = NULL;
    llf_terr e;
    CHECK(G->req_from_hub(h, "gemini-2.5-pro", &o, &e) == LLF_TR_OK);
    cJSON *big = cJSON_Parse("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":100000}"), *bo = NULL;
    CHECK(G->req_from_hub(big, "gemini-2.0-flash", &bo, &e) == LLF_TR_OK);
    CHECK(bo && cJSON_GetObjectItem(cJSON_GetObjectItem(bo, "generationConfig"), "maxOutputTokens")->valueint == 8192);
    cJSON_Delete(big);
    cJSON_Delete(bo);
    if (o) {
        const cJSON *contents = cJSON_GetObjectItem(o, "contents");
        CHECK(cJSON_GetArraySize(contents) == 1);   /* consecutive user turns merged */
        const cJSON *fd = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(contents, 0), "parts"), 0), "fileData");
        CHECK_STR(cJSON_GetObjectItem(fd, "mimeType")->valuestring, "image/png");
        const cJSON *gc = cJSON_GetObjectItem(o, "generationConfig");
        CHECK_STR(cJSON_GetObjectItem(gc, "responseMimeType")->valuestring, "application/json");
        CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(gc, "responseSchema"), "additionalProperties") == NULL);
        /* 9 for the answer, and the room gemini-2.5-pro's thinking takes */
        CHECK(cJSON_GetObjectItem(gc, "maxOutputTokens")->valueint == 9 + 32768);
        /* Gemini 2.5 and 3 refuse penalties */
        CHECK(!cJSON_GetObjectItem(gc, "presencePenalty") && !cJSON_GetObjectItem(gc, "frequencyPenalty"));
        CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(gc, "stopSequences"), 0)->valuestring, "X");
        CHECK(!cJSON_GetObjectItem(o, "user") && !cJSON_GetObjectItem(o, "stream") && !cJSON_GetObjectItem(o, "model"));
        CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "systemInstruction"), "parts"), 0), "text")->valuestring, "S");
    }
    cJSON_Delete(h);
    cJSON_Delete(o);

    /* property names are names, not keywords: "strict" and "$ref" stay parameters */
    h = cJSON_Parse("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\","
                    "\"function\":{\"name\":\"s\",\"parameters\":{\"type\":\"object\",\"additionalProperties\":false,"
                    "\"properties\":{\"strict\":{\"type\":\"boolean\"},\"$ref\":{\"type\":\"string\"}},"
                    "\"required\":[\"strict\"]}}}]}");
    o = NULL;
    CHECK(G->req_from_hub(h, "gemini-2.5-pro", &o, &e) == LLF_TR_OK);
    const cJSON *params = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
        cJSON_GetObjectItem(o, "tools"), 0), "functionDeclarations"), 0), "parameters");
    const cJSON *props = cJSON_GetObjectItem(params, "properties");
    CHECK(cJSON_GetObjectItem(props, "strict") && cJSON_GetObjectItem(props, "$ref"));
    CHECK(!cJSON_GetObjectItem(params, "additionalProperties"));   /* the keyword still goes */
    cJSON_Delete(h);
    cJSON_Delete(o);

    /* JSON Schema's type lists, null branches and const, in Gemini's one
     * type with a nullable flag; a property named const stays */
    h = cJSON_Parse("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\","
                    "\"function\":{\"name\":\"s\",\"parameters\":{\"type\":\"object\",\"properties\":{"
                    "\"a\":{\"type\":[\"string\",\"null\"],\"description\":\"d\",\"enum\":[\"p\",null]},"
                    "\"b\":{\"type\":[\"integer\",\"String\"]},"
                    "\"c\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]},"
                    "\"d\":{\"type\":\"string\",\"const\":\"x\"},"
                    "\"const\":{\"type\":\"array\",\"items\":{\"type\":[\"number\",\"null\"]}}}}}}]}");
    o = NULL;
    CHECK(G->req_from_hub(h, "gemini-2.5-pro", &o, &e) == LLF_TR_OK);
    params = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
        cJSON_GetObjectItem(o, "tools"), 0), "functionDeclarations"), 0), "parameters");
    cJSON *want = cJSON_Parse("{\"type\":\"object\",\"properties\":{"
                              "\"a\":{\"description\":\"d\",\"enum\":[\"p\"],\"type\":\"string\",\"nullable\":true},"
                              "\"b\":{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"string\"}]},"
                              "\"c\":{\"anyOf\":[{\"type\":\"string\"}],\"nullable\":true},"
                              "\"d\":{\"type\":\"string\",\"enum\":[\"x\"]},"
                              "\"const\":{\"type\":\"array\",\"items\":{\"type\":\"number\",\"nullable\":true}}}}");
    t_json_same(params, want, "gemini schema types");
    cJSON_Delete(want);
    cJSON_Delete(h);
    cJSON_Delete(o);

    /* the first call of each model turn signed for Gemini 3 (the placeholder
     * for calls it did not make); a signature already there is kept */
    h = cJSON_Parse("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\","
                    "\"content\":\"t\",\"tool_calls\":[{\"id\":\"a\",\"type\":\"function\",\"function\":{\"name\":\"f\","
                    "\"arguments\":\"{}\"}},{\"id\":\"b\",\"type\":\"function\",\"function\":{\"name\":\"g\","
                    "\"arguments\":\"{}\"}}]},{\"role\":\"tool\",\"tool_call_id\":\"a\",\"content\":\"1\"},"
                    "{\"role\":\"tool\",\"tool_call_id\":\"b\",\"content\":\"2\"},{\"role\":\"assistant\","
                    "\"content\":null,\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"f\","
                    "\"arguments\":\"{}\"}}]},{\"role\":\"tool\",\"tool_call_id\":\"c\",\"content\":\"3\"}]}");
    o = NULL;
    CHECK(G->req_from_hub(h, "gemini-3-pro-preview", &o, &e) == LLF_TR_OK);
    const cJSON *turns = cJSON_GetObjectItem(o, "contents");
    CHECK(cJSON_GetArraySize(turns) == 5);
    for (int i = 1; i < 5; i += 2) {
        const cJSON *parts = cJSON_GetObjectItem(cJSON_GetArrayItem(turns, i), "parts");
        int first = i == 1 ? 1 : 0;   /* (the first turn opens with its text) */
        for (int k = 0; k < cJSON_GetArraySize(parts); k++) {
            const cJSON *sig = cJSON_GetObjectItem(cJSON_GetArrayItem(parts, k), "thoughtSignature");
            CHECK(k == first ? cJSON_IsString(sig) && !strcmp(sig->valuestring, "skip_thought_signature_validator")
                             : sig == NULL);
        }
    }
    cJSON *again = NULL;
    CHECK(G->req_to_hub(o, "gemini-3-pro-preview", &again, &e) == LLF_TR_OK);   /* and read back */
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(again, "messages")) == 6);
    cJSON_Delete(again);
    cJSON_Delete(h);
    cJSON_Delete(o);

    /* results answered in another order than the calls were made go in the
     * calls' order: Gemini pairs them by position (Paris's weather must not
     * become Rome's); one that answers a call of an earlier turn, after */
    h = cJSON_Parse("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\","
                    "\"content\":null,\"tool_calls\":[{\"id\":\"old\",\"type\":\"function\",\"function\":{"
                    "\"name\":\"w\",\"arguments\":\"{}\"}}]},{\"role\":\"tool\",\"tool_call_id\":\"old\","
                    "\"content\":\"O\"},{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
                    "{\"id\":\"P\",\"type\":\"function\",\"function\":{\"name\":\"w\",\"arguments\":\"{}\"}},"
                    "{\"id\":\"R\",\"type\":\"function\",\"function\":{\"name\":\"w\",\"arguments\":\"{}\"}},"
                    "{\"id\":\"M\",\"type\":\"function\",\"function\":{\"name\":\"w\",\"arguments\":\"{}\"}}]},"
                    "{\"role\":\"tool\",\"tool_call_id\":\"R\",\"content\":\"Rome\"},"
                    "{\"role\":\"tool\",\"tool_call_id\":\"old\",\"content\":\"again\"},"
                    "{\"role\":\"tool\",\"tool_call_id\":\"M\",\"content\":\"Madrid\"},"
                    "{\"role\":\"tool\",\"tool_call_id\":\"P\",\"content\":\"Paris\"}]}");
    o = NULL;
    CHECK(G->req_from_hub(h, "gemini-2.5-flash", &o, &e) == LLF_TR_OK);
    const cJSON *answers = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "contents"), 4), "parts");
    static const char *const in_order[] = {"Paris", "Rome", "Madrid", "again"};
    CHECK(cJSON_GetArraySize(answers) == 4);
    for (int k = 0; k < 4; k++) {
        const cJSON *r = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(answers, k), "functionResponse"),
                                             "response");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r, "content")), in_order[k]);
    }
    cJSON_Delete(h);
    cJSON_Delete(o);

    /* only the fields of Gemini's Schema, at every depth; values (an example,
     * a default) are kept whole; a string format only if Gemini takes it */
    h = cJSON_Parse("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":{\"type\":"
                    "\"json_schema\",\"json_schema\":{\"name\":\"r\",\"schema\":{\"type\":\"object\","
                    "\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":\"x\",\"title\":\"T\","
                    "\"patternProperties\":{\"^a\":{}},\"unevaluatedProperties\":false,"
                    "\"example\":{\"additionalProperties\":1},\"properties\":{"
                    "\"n\":{\"type\":\"integer\",\"format\":\"int64\",\"minimum\":0,\"exclusiveMaximum\":9,"
                    "\"multipleOf\":2,\"enum\":[2,4],\"default\":2},"
                    "\"s\":{\"type\":\"string\",\"format\":\"email\",\"examples\":[\"a@b\"],\"maxLength\":9},"
                    "\"t\":{\"type\":\"string\",\"format\":\"date-time\",\"deprecated\":true},"
                    "\"a\":{\"type\":\"array\",\"uniqueItems\":true,\"minItems\":1,\"items\":{\"type\":\"object\","
                    "\"additionalProperties\":false,\"properties\":{\"k\":{\"type\":\"string\",\"const\":\"v\"}}}},"
                    "\"p\":{\"type\":\"array\",\"items\":[{\"type\":\"string\"}]},"
                    "\"o\":{\"oneOf\":[{\"type\":\"string\",\"not\":{}},{\"type\":\"number\",\"exclusiveMinimum\":0}]},"
                    "\"u\":{\"allOf\":[{\"type\":\"string\"}],\"description\":\"d\"}},"
                    "\"required\":[\"n\"],\"propertyOrdering\":[\"n\",\"s\"]}}}}");
    o = NULL;
    CHECK(G->req_from_hub(h, "gemini-2.5-pro", &o, &e) == LLF_TR_OK);
    want = cJSON_Parse("{\"type\":\"object\",\"title\":\"T\",\"example\":{\"additionalProperties\":1},\"properties\":{"
                       "\"n\":{\"type\":\"integer\",\"format\":\"int64\",\"minimum\":0,\"default\":2},"
                       "\"s\":{\"type\":\"string\",\"maxLength\":9},"
                       "\"t\":{\"type\":\"string\",\"format\":\"date-time\"},"
                       "\"a\":{\"type\":\"array\",\"minItems\":1,\"items\":{\"type\":\"object\",\"properties\":{"
                       "\"k\":{\"type\":\"string\",\"enum\":[\"v\"]}}}},"
                       "\"p\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
                       "\"o\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"number\"}]},"
                       "\"u\":{\"description\":\"d\"}},"
                       "\"required\":[\"n\"],\"propertyOrdering\":[\"n\",\"s\"]}");
    t_json_same(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "generationConfig"), "responseSchema"), want,
                "gemini schema fields");
    cJSON_Delete(want);
    cJSON_Delete(h);
    cJSON_Delete(o);

    /* Gemini before 3 refuses JSON output beside function declarations */
    cJSON *gb;
    static const struct {
        const char *model;
        int         tools, json;
    } jt[] = {{"gemini-2.5-flash", 1, 0}, {"gemini-2.0-flash", 1, 0}, {"gemini-3-pro-preview", 1, 1},
              {"gemini-2.5-flash", 0, 1}};
    for (size_t i = 0; i < sizeof jt / sizeof jt[0]; i++) {
        char body[400];
        snprintf(body, sizeof body, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],%s\"response_format\":"
                                    "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"r\",\"schema\":"
                                    "{\"type\":\"object\"}}}}",
                 jt[i].tools ? "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]," : "");
        h = cJSON_Parse(body);
        o = NULL;
        CHECK(G->req_from_hub(h, jt[i].model, &o, &e) == LLF_TR_OK);
        const cJSON *gc = cJSON_GetObjectItem(o, "generationConfig");
        CHECK(!cJSON_GetObjectItem(gc, "responseMimeType") == !jt[i].json &&
              !cJSON_GetObjectItem(gc, "responseSchema") == !jt[i].json);
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(o, "tools")) == jt[i].tools);
        cJSON_Delete(h);
        cJSON_Delete(o);
    }
    gb = cJSON_Parse("{\"contents\":[],\"tools\":[{\"function_declarations\":[{\"name\":\"f\"}]}],"
                     "\"generationConfig\":{\"response_mime_type\":\"application/json\",\"responseSchema\":{}}}");
    CHECK(G->fit(gb, "gemini-3-flash-preview", 0) == 0);
    CHECK(G->fit(gb, "models/gemini-2.5-pro", 1) == 1 && G->fit(gb, "gemini-2.5-pro", 0) == 0);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(gb, "generationConfig")) == 0);
    cJSON_Delete(gb);

    /* the program's own Gemini body, fitted to a member's model */
    gb = cJSON_Parse("{\"contents\":[],\"generation_config\":{\"max_output_tokens\":65536}}");
    CHECK(G->fit(gb, "gemini-2.5-flash", 0) == 0 && G->fit(gb, "my-model", 0) == 0);
    CHECK(G->fit(gb, "gemini-2.0-flash", 1) == 1 && G->fit(gb, "gemini-2.0-flash", 0) == 0);
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(gb, "generation_config"), "max_output_tokens")->valueint == 8192);
    cJSON_Delete(gb);

    /* thinking: none before 2.5; for 2.5 no thinkingLevel and a budget in
     * the model's range; Gemini 3 and other models as written */
    static const struct {
        const char *config, *model;
        int         changes;
        const char *after;
    } th[] = {
        {"{\"thinkingBudget\":1024,\"includeThoughts\":true}", "gemini-2.0-flash", 1, NULL},
        {"{\"thinkingBudget\":1024}", "gemini-1.5-pro", 1, NULL},
        {"{\"thinkingBudget\":32768}", "gemini-2.5-pro", 0, "{\"thinkingBudget\":32768}"},
        {"{\"thinkingBudget\":32768}", "gemini-2.5-flash", 1, "{\"thinkingBudget\":24576}"},
        {"{\"thinkingBudget\":0}", "gemini-2.5-flash", 0, "{\"thinkingBudget\":0}"},
        {"{\"thinkingBudget\":0}", "gemini-2.5-pro", 1, "{\"thinkingBudget\":128}"},
        {"{\"thinking_budget\":100}", "models/gemini-2.5-flash-lite", 1, "{\"thinking_budget\":512}"},
        {"{\"thinkingBudget\":-1}", "gemini-2.5-pro", 0, "{\"thinkingBudget\":-1}"},
        {"{\"thinkingLevel\":\"high\"}", "gemini-2.5-flash", 1, "{}"},
        {"{\"thinkingLevel\":\"high\"}", "gemini-3-pro-preview", 0, "{\"thinkingLevel\":\"high\"}"},
        {"{\"thinkingBudget\":0}", "gemini-3-pro-preview", 1, "{\"thinkingLevel\":\"low\"}"},
        {"{\"thinkingBudget\":0}", "gemini-3-flash-preview", 0, "{\"thinkingBudget\":0}"},
        {"{\"thinkingBudget\":1000000}", "gemma-3-27b-it", 0, "{\"thinkingBudget\":1000000}"},
    };
    for (size_t i = 0; i < sizeof th / sizeof th[0]; i++) {
        char body[200];
        snprintf(body, sizeof body, "{\"generationConfig\":{\"thinkingConfig\":%s}}", th[i].config);
        gb = cJSON_Parse(body);
        int changes = G->fit(gb, th[i].model, 0);
        CHECK(changes == th[i].changes && G->fit(gb, th[i].model, 1) == changes && G->fit(gb, th[i].model, 0) == 0);
        char *after = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItem(gb, "generationConfig"),
                                                                 "thinkingConfig"));
        CHECK(th[i].after ? after && !strcmp(after, th[i].after) : !after);
        free(after);
        cJSON_Delete(gb);
    }

    /* call ids from the answer's responseId: unique across turns */
    char id[80];
    llf_gemini_call_id(id, sizeof id, "aB-_9/+=", 3);
    CHECK_STR(id, "call_aB-_9_3");
    llf_gemini_call_id(id, sizeof id, NULL, 2);
    CHECK_STR(id, "call_2");

    /* a function's parameters given as a JSON Schema (parametersJsonSchema) */
    static const char *const pjs[] = {"parametersJsonSchema", "parameters_json_schema"};
    for (size_t i = 0; i < 2; i++) {
        char body[300];
        snprintf(body, sizeof body, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"x\"}]}],\"tools\":"
                                    "[{\"functionDeclarations\":[{\"name\":\"f\",\"%s\":{\"type\":\"object\","
                                    "\"properties\":{\"a\":{\"type\":\"integer\",\"exclusiveMinimum\":0}}}}]}]}", pjs[i]);
        cJSON *gr = cJSON_Parse(body), *hr = NULL;
        CHECK(G->req_to_hub(gr, "gemini-2.5-flash", &hr, &e) == LLF_TR_OK);
        const cJSON *fp = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(hr, "tools"), 0),
                                                                  "function"), "parameters");
        want = cJSON_Parse("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"exclusiveMinimum\":0}}}");
        t_json_same(fp, want, pjs[i]);
        cJSON_Delete(want);
        cJSON_Delete(gr);
        cJSON_Delete(hr);
    }

    /* a part holding only a thought signature (a stream's last chunk's,
     * kept in the program's history) carries nothing to another dialect */
    {
        cJSON *gr = cJSON_Parse("{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"q\"}]},"
                                "{\"role\":\"model\",\"parts\":[{\"text\":\"a\"},{\"thoughtSignature\":\"c2ln\"}]},"
                                "{\"role\":\"model\",\"parts\":[{\"thought_signature\":\"c2ln\"}]},"
                                "{\"role\":\"user\",\"parts\":[{\"text\":\"r\"}]}]}");
        cJSON *hr = NULL, *msgs = cJSON_Parse("[{\"role\":\"user\",\"content\":\"q\"},"
                                              "{\"role\":\"assistant\",\"content\":\"a\"},"
                                              "{\"role\":\"user\",\"content\":\"r\"}]");
        CHECK(G->req_to_hub(gr, "gemini-2.5-flash", &hr, &e) == LLF_TR_OK);
        t_json_same(cJSON_GetObjectItem(hr, "messages"), msgs, "signature-only parts");
        cJSON_Delete(gr);
        cJSON_Delete(hr);
        cJSON_Delete(msgs);
    }
    CHECK(tr_code(G->req_to_hub, "g", "{\"contents\":[{\"role\":\"model\",\"parts\":[{\"thoughtSignature\":\"x\",\"executableCode\":{}}]}]}", d, sizeof d) == LLF_TR_INCOMPATIBLE);

    /* what Gemini cannot serve faithfully, or cannot be expressed in the hub */
    CHECK(tr_code(G->req_to_hub, "g", "{\"contents\":[{\"parts\":[{\"inlineData\":{\"mimeType\":\"application/zip\",\"data\":\"UEsD\"}}]}]}", d, sizeof d) == LLF_TR_INCOMPATIBLE);
    CHECK(strstr(d, "application/zip") != NULL);
    CHECK(tr_code(G->req_to_hub, "g", "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"tools\":[{\"googleSearch\":{}}]}", d, sizeof d) == LLF_TR_INCOMPATIBLE);
    CHECK(tr_code(G->req_from_hub, "g", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{\"$ref\":\"#/$defs/a\",\"$defs\":{\"a\":{}}}}}}", d, sizeof d) == LLF_TR_INCOMPATIBLE);
    /* a $ref anywhere, also under what Gemini's schema has no place for
     * (Pydantic's allOf of a described field, not, a tuple's items); not a
     * property named $ref, nor one in a value or an unused definition */
    {
        static const char *const with_ref[] = {
            "{\"type\":\"object\",\"properties\":{\"pet\":{\"allOf\":[{\"$ref\":\"#/$defs/Pet\"}],\"description\":\"d\"}},"
            "\"$defs\":{\"Pet\":{\"type\":\"string\"}}}",
            "{\"type\":\"object\",\"properties\":{\"a\":{\"not\":{\"$ref\":\"#/$defs/B\"}}},\"$defs\":{\"B\":{}}}",
            "{\"type\":\"array\",\"items\":[{\"$ref\":\"#/$defs/B\"}],\"$defs\":{\"B\":{}}}",
            "{\"type\":\"object\",\"patternProperties\":{\"^x\":{\"$ref\":\"#\"}}}",
        };
        static const char *const without[] = {
            "{\"type\":\"object\",\"properties\":{\"$ref\":{\"type\":\"string\"}}}",
            "{\"type\":\"object\",\"default\":{\"$ref\":\"x\"},\"enum\":[{\"$ref\":\"y\"}]}",
            "{\"type\":\"string\",\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{}}}",
        };
        for (int tool = 0; tool < 2; tool++)
            for (size_t i = 0; i < sizeof with_ref / sizeof with_ref[0] + sizeof without / sizeof without[0]; i++) {
                int has = i < sizeof with_ref / sizeof with_ref[0];
                const char *sch = has ? with_ref[i] : without[i - sizeof with_ref / sizeof with_ref[0]];
                char json[1024];
                snprintf(json, sizeof json,
                         tool ? "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":"
                                "\"function\",\"function\":{\"name\":\"f\",\"parameters\":%s}}]}"
                              : "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":"
                                "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"r\",\"schema\":%s}}}",
                         sch);
                int rc = tr_code(G->req_from_hub, "g", json, d, sizeof d);
                CHECK(has ? rc == LLF_TR_INCOMPATIBLE && strstr(d, "$ref") : rc == LLF_TR_OK);
            }
    }
    CHECK(tr_code(G->req_from_hub, "g", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"tool\",\"tool_call_id\":\"nope\",\"content\":\"r\"}]}", d, sizeof d) == LLF_TR_INCOMPATIBLE);
    CHECK(tr_code(G->req_from_hub, "g", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"logprobs\":true}", d, sizeof d) == LLF_TR_INCOMPATIBLE);
    CHECK(tr_code(G->req_from_hub, "g", "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"file\",\"file\":{}}]}]}", d, sizeof d) == LLF_TR_INCOMPATIBLE);
    CHECK(tr_code(G->req_to_hub, "g", "{\"prompt\":\"x\"}", d, sizeof d) == LLF_TR_ERROR);
    /* what no member of another dialect may be sent still has a hub, to
     * judge the program's own answer by (its JSON asked for), marked */
    {
        cJSON *req = cJSON_Parse("{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"cachedContent\":\"cachedContents/abc\","
                                 "\"generationConfig\":{\"responseMimeType\":\"application/json\",\"responseLogprobs\":true}}");
        cJSON *hub = NULL;
        CHECK(req && G->req_to_hub(req, "g", &hub, &e) == LLF_TR_OK && hub);
        CHECK(cJSON_GetObjectItem(hub, "response_format") != NULL);
        CHECK(llf_hub_refused(hub) && strstr(llf_hub_refused(hub), "logprobs"));
        cJSON_Delete(hub);
        cJSON_Delete(req);
    }
    /* a cached prompt only Gemini holds; an OpenAI program's audio output */
    CHECK(tr_code(G->req_to_hub, "g", "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"cachedContent\":\"cachedContents/abc\"}", d, sizeof d) == LLF_TR_INCOMPATIBLE);
    CHECK(strstr(d, "cachedContent") != NULL);
    CHECK(tr_code(G->req_to_hub, "g", "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"cached_content\":\"cachedContents/abc\"}", d, sizeof d) == LLF_TR_INCOMPATIBLE);
    CHECK(tr_code(G->req_to_hub, "g", "{\"contents\":[{\"parts\":[{\"text\":\"x\"}]}],\"cachedContent\":null}", d, sizeof d) == LLF_TR_OK);
    CHECK(tr_code(G->req_from_hub, "g", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"modalities\":[\"text\",\"audio\"],\"audio\":{\"voice\":\"alloy\",\"format\":\"wav\"}}", d, sizeof d) == LLF_TR_INCOMPATIBLE);
    CHECK(strstr(d, "audio") != NULL);
    CHECK(tr_code(G->req_from_hub, "g", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"modalities\":[\"image\"]}", d, sizeof d) == LLF_TR_INCOMPATIBLE);
    CHECK(tr_code(G->req_from_hub, "g", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"modalities\":[\"text\"]}", d, sizeof d) == LLF_TR_OK);

    /* what the generationConfig asks of the answer: a member of another
     * dialect that cannot honour it is skipped, not sent a request without
     * it (an enum's bare label, logprobs, images or audio); text and JSON
     * are translated */
    static const struct {
        const char *config, *detail;   /* detail: NULL when translated */
    } out_asks[] = {
        {"{\"responseMimeType\":\"text/x.enum\",\"responseSchema\":{\"type\":\"STRING\",\"enum\":[\"a\",\"b\"]}}",
         "responseMimeType text/x.enum"},
        {"{\"response_mime_type\":\"text/x.enum\"}", "responseMimeType text/x.enum"},
        {"{\"responseMimeType\":\"application/xml\"}", "responseMimeType application/xml"},
        {"{\"responseLogprobs\":true,\"logprobs\":3}", "logprobs"},
        {"{\"response_logprobs\":true}", "logprobs"},
        {"{\"logprobs\":2}", "logprobs"},
        {"{\"responseModalities\":[\"TEXT\",\"IMAGE\"]}", "modality IMAGE"},
        {"{\"response_modalities\":[\"AUDIO\"],\"speechConfig\":{}}", "modality AUDIO"},
        {"{\"responseMimeType\":\"text/plain\",\"responseModalities\":[\"TEXT\"],\"responseLogprobs\":false}", NULL},
        {"{\"responseMimeType\":\"application/json\"}", NULL},
        {"{\"responseMimeType\":null,\"logprobs\":null}", NULL},
    };
    for (size_t i = 0; i < sizeof out_asks / sizeof out_asks[0]; i++) {
        char body[400];
        snprintf(body, sizeof body, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"x\"}]}],"
                                    "\"generationConfig\":%s}", out_asks[i].config);
        int rc = tr_code(G->req_to_hub, "g", body, d, sizeof d);
        if (rc != (out_asks[i].detail ? LLF_TR_INCOMPATIBLE : LLF_TR_OK) ||
            (out_asks[i].detail && !strstr(d, out_asks[i].detail)))
            fprintf(stderr, "FAIL generationConfig %s: %d \"%s\"\n", out_asks[i].config, rc, d);
        CHECK(rc == (out_asks[i].detail ? LLF_TR_INCOMPATIBLE : LLF_TR_OK));
        CHECK(!out_asks[i].detail || strstr(d, out_asks[i].detail));
    }

    /* finish reasons; a blocked prompt is an empty, filtered answer */
    static const char *const pairs[][2] = {{"STOP", "stop"}, {"MAX_TOKENS", "length"}, {"SAFETY", "content_filter"},
                                           {"RECITATION", "content_filter"}, {"PROHIBITED_CONTENT", "content_filter"},
                                           {"BLOCKLIST", "content_filter"}};
    for (size_t i = 0; i < 6; i++) {
        char json[256];
        snprintf(json, sizeof json, "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"t\"}],\"role\":\"model\"},"
                                    "\"finishReason\":\"%s\",\"index\":0}]}", pairs[i][0]);
        cJSON *in = cJSON_Parse(json), *hub = NULL, *back = NULL;
        CHECK(G->resp_to_hub(in, &hub, &e) == LLF_TR_OK);
        CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(hub, "choices"), 0), "finish_reason")->valuestring, pairs[i][1]);
        CHECK(G->resp_from_hub(hub, "g2", &back, &e) == LLF_TR_OK);
        CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(back, "candidates"), 0), "finishReason")->valuestring,
                  i < 2 ? pairs[i][0] : "SAFETY");
        cJSON_Delete(in);
        cJSON_Delete(hub);
        cJSON_Delete(back);
    }
    cJSON *in = t_fixture("gemini/resp_blocked.gemini.json"), *hub = NULL;
    CHECK(in && G->resp_to_hub(in, &hub, &e) == LLF_TR_OK);
    const cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(hub, "choices"), 0);
    CHECK_STR(cJSON_GetObjectItem(c0, "finish_reason")->valuestring, "content_filter");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(c0, "message"), "content")));
    cJSON_Delete(in);
    cJSON_Delete(hub);
    /* an OpenAI tool-call answer in Gemini form */
    hub = t_fixture("gemini/resp_tool.hub.json");
    cJSON *back = NULL;
    CHECK(hub && G->resp_from_hub(hub, "g", &back, &e) == LLF_TR_OK);
    const cJSON *fc = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(back, "candidates"), 0), "content"), "parts"), 0), "functionCall");
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(fc, "args"), "brightness")->valueint == 25);
    /* signed, so that the program can send it back to its own Gemini 3 */
    const cJSON *cparts = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(back, "candidates"), 0),
                                                                  "content"), "parts");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(cparts, 0), "thoughtSignature")),
              "skip_thought_signature_validator");
    for (int k = 1; k < cJSON_GetArraySize(cparts); k++)
        CHECK(!cJSON_GetObjectItem(cJSON_GetArrayItem(cparts, k), "thoughtSignature"));
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(back, "usageMetadata"), "totalTokenCount")->valueint == 40);
    cJSON_Delete(hub);
    cJSON_Delete(back);

    /* OpenAI's refusal is the answer's text, ending STOP (not SAFETY: no
     * filter blocked it) */
    hub = cJSON_Parse("{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                      "\"content\":null,\"refusal\":\"I can't help with that.\"},\"finish_reason\":\"stop\"}]}");
    back = NULL;
    CHECK(G->resp_from_hub(hub, "g", &back, &e) == LLF_TR_OK);
    const cJSON *rc0 = cJSON_GetArrayItem(cJSON_GetObjectItem(back, "candidates"), 0);
    cparts = cJSON_GetObjectItem(cJSON_GetObjectItem(rc0, "content"), "parts");
    CHECK(cJSON_GetArraySize(cparts) == 1);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(cparts, 0), "text")), "I can't help with that.");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(rc0, "finishReason")), "STOP");
    cJSON_Delete(hub);
    cJSON_Delete(back);

    /* an answer with no text and no call (the verdict lets an empty one
     * through when told to) still has a part, {"text": ""}, as Gemini's
     * own: content with no parts is invalid to Google's SDKs */
    static const char *const empties[] = {"\"content\":\"\"", "\"content\":null", "\"content\":null,\"refusal\":\"\""};
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        char json[256];
        snprintf(json, sizeof json, "{\"id\":\"chatcmpl-2\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
                                    "\"assistant\",%s},\"finish_reason\":\"stop\"}]}", empties[i]);
        hub = cJSON_Parse(json);
        back = NULL;
        CHECK(G->resp_from_hub(hub, "g", &back, &e) == LLF_TR_OK);
        char *parts = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItem(
            cJSON_GetArrayItem(cJSON_GetObjectItem(back, "candidates"), 0), "content"), "parts"));
        CHECK_STR(parts ? parts : "", "[{\"text\":\"\"}]");
        free(parts);
        cJSON_Delete(hub);
        cJSON_Delete(back);
    }

    /* the responseId is the answer's id in the other dialects (Anthropic's
     * with its msg_ prefix); without one, a made-up id, another for each
     * answer, so that its calls' ids do not repeat in a conversation
     * (Anthropic refuses that) */
    static const char *const ids[][3] = {{",\"responseId\":\"mAitaLmkHPPlz7IPvtfUqQ4\"", "mAitaLmkHPPlz7IPvtfUqQ4",
                                          "msg_mAitaLmkHPPlz7IPvtfUqQ4"},
                                         {"", "gemini-", "msg_gemini-"}};
    char first_made[64] = "";
    for (size_t i = 0; i < 3; i++) {
        size_t k = i ? 1 : 0;
        char json[256];
        snprintf(json, sizeof json, "{\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"f\"}}],"
                                    "\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}]%s}", ids[k][0]);
        cJSON *ans = cJSON_Parse(json), *oai = NULL, *anth = NULL;
        hub = NULL;
        CHECK(G->resp_to_hub(ans, &hub, &e) == LLF_TR_OK &&
              llf_dialect_ops_of(LLF_OPENAI)->resp_from_hub(hub, "gpt", &oai, &e) == LLF_TR_OK &&
              llf_dialect_ops_of(LLF_ANTHROPIC)->resp_from_hub(hub, "claude", &anth, &e) == LLF_TR_OK);
        const char *oid = cJSON_GetStringValue(cJSON_GetObjectItem(oai, "id"));
        const char *aid = cJSON_GetStringValue(cJSON_GetObjectItem(anth, "id"));
        const char *call = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(oai, "choices"), 0), "message"),
            "tool_calls"), 0), "id"));
        char want_call[96];
        snprintf(want_call, sizeof want_call, "call_%s_0", oid ? oid : "?");
        if (k == 0) {
            CHECK_STR(oid, ids[k][1]);
            CHECK_STR(aid, ids[k][2]);
        } else {
            CHECK(oid && strlen(oid) == 23 && strncmp(oid, ids[k][1], 7) == 0 && strspn(oid + 7, "0123456789abcdef") == 16);
            CHECK(aid && strncmp(aid, ids[k][2], 11) == 0 && oid && strcmp(aid + 4, oid) == 0);
            CHECK(oid && strcmp(oid, first_made) != 0);   /* (another answer, another id) */
            snprintf(first_made, sizeof first_made, "%s", oid ? oid : "");
        }
        CHECK_STR(call, want_call);
        cJSON_Delete(ans);
        cJSON_Delete(hub);
        cJSON_Delete(oai);
        cJSON_Delete(anth);
    }
    nulls_both_ways();
    gemini_only_inputs();
    usage_details();
    allowed_tools();
    many_function_calls();
    function_call_ids();
    function_response_fields();
    single_values_as_lists();
    server_tools_beside_functions();
    trailing_text_is_text();
}
