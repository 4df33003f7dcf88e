/* Golden and round-trip tests for the Anthropic translators, with fixtures
 * shaped like Anthropic's documented examples. */
#include <stdlib.h>

#include "dialect.h"
#include "t.h"
#include "tr.h"

static const llf_dialect_ops *A;

/* hub → Anthropic → hub keeps the meaning of a hub request. */
static void round_trip(const char *fixture)
{
    cJSON *hub = t_fixture(fixture), *mid = NULL, *back = NULL;
    llf_terr e;
    CHECK(hub && A->req_from_hub(hub, cJSON_GetObjectItem(hub, "model")->valuestring, &mid, &e) == LLF_TR_OK);
    CHECK(mid && A->req_to_hub(mid, NULL, &back, &e) == LLF_TR_OK);
    t_json_same(back, hub, fixture);
    cJSON_Delete(hub);
    cJSON_Delete(mid);
    cJSON_Delete(back);
}

static cJSON *from_hub(const char *json, const char *model)
{
    cJSON *h = cJSON_Parse(json), *out = NULL;
    llf_terr e;
    if (A->req_from_hub(h, model, &out, &e) != LLF_TR_OK)
        fprintf(stderr, "  from_hub: %s\n", e.detail);
    cJSON_Delete(h);
    return out;
}

/* A body's thinking budget, -1 without one. */
static int budget(const cJSON *b)
{
    const cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(b, "thinking"), "budget_tokens");
    return cJSON_IsNumber(t) ? t->valueint : -1;
}

/* An image's media type to Claude, which refuses one that is not what the
 * bytes are or not one of its four: what the bytes say when they do
 * (JPEG written as PNG; WEBP), else the type written in lower case,
 * "image/jpg" (OpenAI takes it) as "image/jpeg". */
static void image_types(void)
{
    static const char *const cases[][2] = {
        {"data:image/jpg;base64,/9j/4AAQSkZJRg==", "image/jpeg"},
        {"data:image/png;base64,/9j/4AAQSkZJRg==", "image/jpeg"},
        {"data:image/jpeg;base64,iVBORw0KGgoAAA==", "image/png"},
        {"data:image/png;base64,R0lGODlhAQA=", "image/gif"},
        {"data:image/png;base64,UklGRhI0VnhXRUJQVlA4IA==", "image/webp"},
        {"data:IMAGE/PNG;base64,AAAA", "image/png"},
        {"data:image/jpg;base64,AAAA", "image/jpeg"},
        {"data:image/png;base64,UklG", "image/png"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[512], d[160];
        int rc;
        snprintf(req, sizeof req, "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":["
                 "{\"type\":\"text\",\"text\":\"what is it\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"%s\"}}]}]}",
                 cases[i][0]);
        cJSON *o = tr_across(LLF_OPENAI, LLF_ANTHROPIC, req, "claude-sonnet-4-5", &rc, d, sizeof d);
        const cJSON *blocks = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "messages"), 0), "content");
        const cJSON *src = cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 1), "source");
        const char *mt = cJSON_GetStringValue(cJSON_GetObjectItem(src, "media_type"));
        CHECK(rc == LLF_TR_OK && mt && !strcmp(mt, cases[i][1]));
        if (!mt || strcmp(mt, cases[i][1]))
            fprintf(stderr, "  %s: got %s\n", cases[i][0], mt ? mt : "(none)");
        cJSON_Delete(o);
    }
    /* bytes of a kind Claude refuses (400), where Gemini takes them: the
     * member is skipped, not sent them */
    static const char *const refused[] = {"data:image/heic;base64,AAAAGGZ0eXBoZWlj", "data:image/avif;base64,AAAA",
                                          "data:image/bmp;base64,Qk0="};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char req[512], d[160];
        int rc;
        snprintf(req, sizeof req, "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":["
                 "{\"type\":\"image_url\",\"image_url\":{\"url\":\"%s\"}}]}]}", refused[i]);
        cJSON *o = tr_across(LLF_OPENAI, LLF_ANTHROPIC, req, "claude-sonnet-4-5", &rc, d, sizeof d);
        CHECK(rc == LLF_TR_INCOMPATIBLE && !o && strstr(d, "not one Claude takes"));
        cJSON_Delete(o);
    }
}

/* What Claude refuses that OpenAI and Gemini take: a tool schema without
 * its type (an MCP server's {}), given "type": "object"; a blank tool
 * result (a command's empty output), sent without content. */
static void schemas_and_blank_results(void)
{
    int rc;
    char d[160];
    cJSON *o = tr_across(LLF_OPENAI, LLF_ANTHROPIC,
                         "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"ls\"},"
                         "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
                         "\"function\":{\"name\":\"sh\",\"arguments\":\"{}\"}},{\"id\":\"c2\",\"type\":\"function\","
                         "\"function\":{\"name\":\"sh\",\"arguments\":\"{}\"}}]},"
                         "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"\\n\"},"
                         "{\"role\":\"tool\",\"tool_call_id\":\"c2\",\"content\":[{\"type\":\"text\",\"text\":\" \"}]}],"
                         "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"sh\",\"parameters\":{}}},"
                         "{\"type\":\"function\",\"function\":{\"name\":\"ls\",\"parameters\":{\"properties\":"
                         "{\"d\":{\"type\":\"string\"}}}}}]}",
                         "claude-sonnet-4-5", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && o);
    const cJSON *tools = cJSON_GetObjectItem(o, "tools");
    cJSON *want = cJSON_Parse("[{\"name\":\"sh\",\"input_schema\":{\"type\":\"object\"}},"
                              "{\"name\":\"ls\",\"input_schema\":{\"properties\":{\"d\":{\"type\":\"string\"}},"
                              "\"type\":\"object\"}}]");
    CHECK(t_json_same(tools, want, "schemas given their type"));
    cJSON_Delete(want);
    const cJSON *results = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "messages"), 2), "content");
    CHECK(cJSON_GetArraySize(results) == 2);
    for (const cJSON *r = results ? results->child : NULL; r; r = r->next)
        CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(r, "type")), "tool_result") &&
              !cJSON_GetObjectItem(r, "content"));
    cJSON_Delete(o);
}

/* metadata.user_id as an OpenAI member's user: as it is up to 64
 * characters, else (Claude Code's) 32 hex digits of it. */
static void user_ids(void)
{
    static const char *const ids[][2] = {
        {"u-42", "u-42"},
        {"user_abababababababababababababababababababababababababababababababab_account_11111111-2222-3333-4444-"
         "555555555555_session_66666666-7777-8888-9999-000000000000", "e7e1eacce1e6f298b726bdeafd4d5c48"}};
    for (size_t i = 0; i < 2; i++) {
        char req[512], d[160];
        int rc;
        snprintf(req, sizeof req, "{\"model\":\"c\",\"max_tokens\":9,\"metadata\":{\"user_id\":\"%s\"},"
                 "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", ids[i][0]);
        cJSON *o = tr_across(LLF_ANTHROPIC, LLF_OPENAI, req, "gpt-4o", &rc, d, sizeof d);
        const char *user = cJSON_GetStringValue(cJSON_GetObjectItem(o, "user"));
        CHECK(rc == LLF_TR_OK && user && !strcmp(user, ids[i][1]));
        cJSON_Delete(o);
    }
}

/* Many calls of one id in a history (a program that numbers them per
 * turn): each sent as <id>_<k>, the first k free, all distinct. */
static void many_calls_of_one_id(void)
{
    llf_buf b = {0};
    llf_buf_adds(&b, "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"go\"}");
    for (int i = 0; i < 3000; i++)
        llf_buf_printf(&b, ",{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"x\",\"type\":\"function\","
                           "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
                           "{\"role\":\"tool\",\"tool_call_id\":\"x\",\"content\":\"%d\"}", i);
    llf_buf_adds(&b, "]}");
    int rc;
    char d[160];
    cJSON *o = tr_across(LLF_OPENAI, LLF_ANTHROPIC, b.p, "claude-sonnet-4-5", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && o);
    int n = 0, paired = 0;
    char want[32];
    const cJSON *msgs = cJSON_GetObjectItem(o, "messages"), *m;
    cJSON_ArrayForEach(m, msgs)
    {
        const cJSON *blk = cJSON_GetArrayItem(cJSON_GetObjectItem(m, "content"), 0);
        const char *use = cJSON_GetStringValue(cJSON_GetObjectItem(blk, "id"));
        const char *res = cJSON_GetStringValue(cJSON_GetObjectItem(blk, "tool_use_id"));
        if (use) {
            snprintf(want, sizeof want, n ? "x_%d" : "x", n + 1);
            n += !strcmp(use, want);
        }
        paired += res && !strcmp(res, want);
    }
    CHECK(n == 3000 && paired == 3000);
    cJSON_Delete(o);
    llf_buf_free(&b);
}

/* An OpenAI program's nulls are "not given": none reaches Anthropic, which
 * refuses them (top_p: null is a 400), and a tool_choice without tools is
 * not sent (a 400 too). */
static void nulls_from_openai(void)
{
    int rc;
    char d[160];
    cJSON *o = tr_across(LLF_OPENAI, LLF_ANTHROPIC,
                         "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"top_p\":null,"
                         "\"stream\":null,\"tool_choice\":null,\"temperature\":null,\"stop\":null,\"user\":null,"
                         "\"max_tokens\":null,\"tools\":null,\"parallel_tool_calls\":null,\"response_format\":null}",
                         "claude-sonnet-4-5", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && o);
    int nulls = 0;
    for (const cJSON *k = o ? o->child : NULL; k; k = k->next)
        nulls += cJSON_IsNull(k);
    CHECK(nulls == 0);
    CHECK(o && !cJSON_GetObjectItem(o, "top_p") && !cJSON_GetObjectItem(o, "stream") &&
          !cJSON_GetObjectItem(o, "tool_choice") && cJSON_GetObjectItem(o, "max_tokens")->valueint == 8192);
    cJSON_Delete(o);
    /* a tool choice with no tools at all: nothing to choose */
    o = tr_across(LLF_OPENAI, LLF_ANTHROPIC,
                  "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tool_choice\":\"none\","
                  "\"parallel_tool_calls\":false}", "claude-sonnet-4-5", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && o && !cJSON_GetObjectItem(o, "tool_choice"));
    cJSON_Delete(o);
    /* an Anthropic program's null as well, to another dialect */
    o = tr_across(LLF_ANTHROPIC, LLF_GEMINI,
                  "{\"model\":\"c\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                  "\"top_p\":null,\"temperature\":null,\"stop_sequences\":null}", "gemini-2.5-flash", &rc, d, sizeof d);
    const cJSON *gc = cJSON_GetObjectItem(o, "generationConfig");
    CHECK(rc == LLF_TR_OK && gc && !cJSON_GetObjectItem(gc, "topP") && !cJSON_GetObjectItem(gc, "temperature") &&
          !cJSON_GetObjectItem(gc, "stopSequences"));
    cJSON_Delete(o);
    /* an Anthropic program's null tool_choice and system, as SDKs write
     * them: no choice and no system message, to either other dialect (a
     * null tool_choice had failed the translation, skipping the member) */
    static const char anull[] = "{\"model\":\"c\",\"max_tokens\":5,\"system\":null,\"tool_choice\":null,"
                                "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                                "\"tools\":[{\"name\":\"f\",\"input_schema\":{\"type\":\"object\"}}]}";
    o = tr_across(LLF_ANTHROPIC, LLF_OPENAI, anull, "gpt-4o", &rc, d, sizeof d);
    const cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "messages"), 0);
    CHECK(rc == LLF_TR_OK && o && !cJSON_GetObjectItem(o, "tool_choice") &&
          cJSON_GetArraySize(cJSON_GetObjectItem(o, "messages")) == 1 &&
          !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(m0, "role")), "user") &&
          cJSON_GetArraySize(cJSON_GetObjectItem(o, "tools")) == 1);
    cJSON_Delete(o);
    o = tr_across(LLF_ANTHROPIC, LLF_GEMINI, anull, "gemini-2.5-flash", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && o && !cJSON_GetObjectItem(o, "systemInstruction") && !cJSON_GetObjectItem(o, "toolConfig"));
    cJSON_Delete(o);
    /* no tools, or none in the list: no tool choice reaches OpenAI, nor
     * "tools": [] (OpenAI refuses either with a 400) */
    o = tr_across(LLF_ANTHROPIC, LLF_OPENAI,
                  "{\"model\":\"c\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                  "\"tools\":[],\"tool_choice\":{\"type\":\"auto\",\"disable_parallel_tool_use\":true}}",
                  "gpt-4o", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && o && !cJSON_GetObjectItem(o, "tools") && !cJSON_GetObjectItem(o, "tool_choice") &&
          !cJSON_GetObjectItem(o, "parallel_tool_calls"));
    cJSON_Delete(o);
}

/* A tool_result with an image cannot be carried to OpenAI or to Gemini
 * before 3: skipped, not sent without it; Gemini 3 takes it in the
 * functionResponse's parts. A document goes nowhere else. A failed tool's result
 * (is_error) stays one: OpenAI's text after "Error: ", Gemini's "error"
 * key, and back to Anthropic from Gemini's. */
static void tool_results_across(void)
{
/* (a shot tool's call, then its result of the content blocks given) */
#define SHOT_RESULT(blocks)                                                                                           \
    "{\"model\":\"c\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"shot\"},"                            \
    "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"shot\",\"input\":{}}]}," \
    "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":[" blocks "]}]}]}"
    static const char img[] = SHOT_RESULT("{\"type\":\"text\",\"text\":\"here\"},{\"type\":\"image\",\"source\":{"
                                          "\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"iVBORw0KGgo=\"}}");
    int rc;
    char d[160];
    for (int to = LLF_OPENAI; to <= LLF_GEMINI; to += 2) {
        cJSON *o = tr_across(LLF_ANTHROPIC, to, img, to == LLF_OPENAI ? "gpt-4o" : "gemini-2.5-flash", &rc, d, sizeof d);
        CHECK(rc == LLF_TR_INCOMPATIBLE && !o && strstr(d, "tool result") && strstr(d, "image"));
        cJSON_Delete(o);
    }
    /* Gemini 3 takes it: the image in the functionResponse's parts */
    cJSON *g3 = tr_across(LLF_ANTHROPIC, LLF_GEMINI, img, "gemini-3-pro-preview", &rc, d, sizeof d);
    const cJSON *fres = NULL;
    for (const cJSON *t = cJSON_GetObjectItem(g3, "contents") ? cJSON_GetObjectItem(g3, "contents")->child : NULL; t;
         t = t->next)
        for (const cJSON *p = cJSON_GetObjectItem(t, "parts") ? cJSON_GetObjectItem(t, "parts")->child : NULL; p;
             p = p->next)
            fres = cJSON_GetObjectItem(p, "functionResponse") ? cJSON_GetObjectItem(p, "functionResponse") : fres;
    const cJSON *inl = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(fres, "parts"), 0), "inlineData");
    CHECK(rc == LLF_TR_OK && inl && !strcmp(cJSON_GetObjectItem(inl, "data")->valuestring, "iVBORw0KGgo="));
    cJSON_Delete(g3);
    /* a document by URL has no place in a tool message of any other
     * dialect (an inline one: test_documents.c) */
    static const char doc[] = SHOT_RESULT("{\"type\":\"document\",\"source\":{\"type\":\"url\","
                                          "\"url\":\"https://x.test/a.pdf\"}}");
    cJSON *od = tr_across(LLF_ANTHROPIC, LLF_GEMINI, doc, "gemini-3-pro-preview", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_INCOMPATIBLE && !od && strstr(d, "document source"));
    cJSON_Delete(od);
    static const char failed[] =
        "{\"model\":\"c\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"w\"},"
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"w\",\"input\":{}}]},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"is_error\":true,"
        "\"content\":\"city not found\"}]}]}";
    cJSON *o = tr_across(LLF_ANTHROPIC, LLF_OPENAI, failed, "gpt-4o", &rc, d, sizeof d);
    const cJSON *tm = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "messages"), 2);
    CHECK(rc == LLF_TR_OK && tm);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(tm, "content")), "Error: city not found");
    CHECK(tm && !cJSON_GetObjectItem(tm, LLF_HUB_TOOL_ERROR));
    cJSON_Delete(o);
    o = tr_across(LLF_ANTHROPIC, LLF_GEMINI, failed, "gemini-2.5-flash", &rc, d, sizeof d);
    const cJSON *fr = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
                                              cJSON_GetObjectItem(o, "contents"), 2), "parts"), 0), "functionResponse");
    CHECK(rc == LLF_TR_OK);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(fr, "response"), "error")), "city not found");
    cJSON_Delete(o);
    /* Gemini's "error" to Anthropic's is_error, and a plain result stays plain */
    static const char gem[] =
        "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"w\"}]},{\"role\":\"model\",\"parts\":[{\"functionCall\":"
        "{\"name\":\"w\",\"args\":{}}},{\"functionCall\":{\"name\":\"v\",\"args\":{}}}]},{\"role\":\"user\",\"parts\":["
        "{\"functionResponse\":{\"name\":\"w\",\"response\":{\"error\":\"city not found\"}}},"
        "{\"functionResponse\":{\"name\":\"v\",\"response\":{\"output\":\"ok\"}}}]}]}";
    o = tr_across(LLF_GEMINI, LLF_ANTHROPIC, gem, "claude-sonnet-4-5", &rc, d, sizeof d);
    const cJSON *blocks = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "messages"), 2), "content");
    CHECK(rc == LLF_TR_OK && cJSON_GetArraySize(blocks) == 2);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 0), "is_error")));
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 0), "content")), "city not found");
    CHECK(!cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 1), "is_error"));
    cJSON_Delete(o);
}

/* A conversation ending in an assistant turn: Claude continues it (a
 * prefill), OpenAI and Gemini answer after it; between dialects either way
 * is another answer, so no such member is sent one. */
static void prefills(void)
{
    static const char anth[] = "{\"model\":\"c\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":"
                               "\"JSON of Ada\"},{\"role\":\"assistant\",\"content\":\"{\"}]}";
    static const char oai[] = "{\"model\":\"g\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},"
                              "{\"role\":\"assistant\",\"content\":\"Hello\"}]}";
    int rc;
    char d[160];
    for (int to = LLF_OPENAI; to <= LLF_GEMINI; to += 2) {
        cJSON *o = tr_across(LLF_ANTHROPIC, to, anth, to ? "gemini-2.5-flash" : "gpt-4o", &rc, d, sizeof d);
        CHECK(rc == LLF_TR_INCOMPATIBLE && !o && strstr(d, "prefill"));
        cJSON_Delete(o);
    }
    for (int to = LLF_ANTHROPIC; to <= LLF_GEMINI; to++) {
        cJSON *o = tr_across(LLF_OPENAI, to, oai, to == LLF_GEMINI ? "gemini-2.5-flash" : "claude-sonnet-4-5", &rc, d,
                             sizeof d);
        CHECK(rc == LLF_TR_INCOMPATIBLE && !o && strstr(d, "assistant turn"));
        cJSON_Delete(o);
    }
    /* its own hub still judges the program's own answer (rewrite.c refuses
     * it to other dialects only) */
    cJSON *in = cJSON_Parse(anth), *hub = NULL;
    llf_terr e;
    CHECK(A->req_to_hub(in, NULL, &hub, &e) == LLF_TR_OK && llf_hub_refused(hub));
    cJSON_Delete(in);
    cJSON_Delete(hub);
    /* more stop sequences than OpenAI takes (4): skipped, not a 400 */
    cJSON *o = tr_across(LLF_ANTHROPIC, LLF_OPENAI,
                         "{\"model\":\"c\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                         "\"stop_sequences\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", "gpt-4o", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_INCOMPATIBLE && !o && strstr(d, "stop"));
    cJSON_Delete(o);
    /* none, as a list: no "stop" at all (OpenAI refuses "stop": []); one
     * sequence stays */
    static const struct {
        const char *seqs;
        int n;   /* -1: no "stop" */
    } stops[] = {{"[]", -1}, {"[\"END\"]", 1}};
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++) {
        char req[200];
        snprintf(req, sizeof req, "{\"model\":\"c\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                 "\"stop_sequences\":%s}", stops[i].seqs);
        o = tr_across(LLF_ANTHROPIC, LLF_OPENAI, req, "gpt-4o", &rc, d, sizeof d);
        const cJSON *stop = cJSON_GetObjectItem(o, "stop");
        CHECK(rc == LLF_TR_OK && o && (stops[i].n < 0 ? !stop : cJSON_GetArraySize(stop) == stops[i].n));
        cJSON_Delete(o);
    }
}

/* The usage of answer json through translator fn, compared with want. */
static void usage_is(int (*fn)(const cJSON *, cJSON **, llf_terr *), const char *json, const char *want,
                     const char *label)
{
    cJSON *in = cJSON_Parse(json), *out = NULL, *w = cJSON_Parse(want);
    llf_terr e;
    CHECK(in && fn(in, &out, &e) == LLF_TR_OK);
    t_json_same(cJSON_GetObjectItem(out, "usage"), w, label);
    cJSON_Delete(in);
    cJSON_Delete(out);
    cJSON_Delete(w);
}

static int to_anthropic(const cJSON *hub, cJSON **out, llf_terr *e)
{
    return A->resp_from_hub(hub, "m", out, e);
}

/* Cache reads survive a translation both ways, and the totals with them:
 * Anthropic's input_tokens counts only what no cache served (its cache
 * writes stay in OpenAI's prompt_tokens, which has no field for them). A
 * detail nobody gave is not made up. */
static void usage_details(void)
{
#define ANS(u) "{\"id\":\"msg_1\",\"model\":\"m\",\"content\":[{\"type\":\"text\",\"text\":\"t\"}]," \
               "\"stop_reason\":\"end_turn\",\"usage\":" u "}"
#define HUB(u) "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"t\"}," \
               "\"finish_reason\":\"stop\"}],\"usage\":" u "}"
    usage_is(A->resp_to_hub, ANS("{\"input_tokens\":5,\"cache_creation_input_tokens\":10,\"cache_read_input_tokens\":100,\"output_tokens\":7}"),
             "{\"prompt_tokens\":115,\"completion_tokens\":7,\"total_tokens\":122,"
             "\"prompt_tokens_details\":{\"cached_tokens\":100}}", "anthropic cache read → hub");
    usage_is(A->resp_to_hub, ANS("{\"input_tokens\":5,\"cache_read_input_tokens\":0,\"output_tokens\":7}"),
             "{\"prompt_tokens\":5,\"completion_tokens\":7,\"total_tokens\":12,"
             "\"prompt_tokens_details\":{\"cached_tokens\":0}}", "anthropic no cache read → hub");
    usage_is(A->resp_to_hub, ANS("{\"input_tokens\":5,\"cache_creation_input_tokens\":10,\"output_tokens\":7}"),
             "{\"prompt_tokens\":15,\"completion_tokens\":7,\"total_tokens\":22}", "anthropic cache write → hub");
    usage_is(to_anthropic, HUB("{\"prompt_tokens\":100,\"completion_tokens\":9,\"total_tokens\":109,"
                               "\"prompt_tokens_details\":{\"cached_tokens\":80,\"audio_tokens\":0},"
                               "\"completion_tokens_details\":{\"reasoning_tokens\":4}}"),
             "{\"input_tokens\":20,\"cache_read_input_tokens\":80,\"output_tokens\":9}", "hub cached → anthropic");
    usage_is(to_anthropic, HUB("{\"prompt_tokens\":100,\"completion_tokens\":9,\"total_tokens\":109}"),
             "{\"input_tokens\":100,\"output_tokens\":9}", "hub without details → anthropic");
    /* more cached than the prompt (no provider's, but not ours to pass on) */
    usage_is(to_anthropic, HUB("{\"prompt_tokens\":10,\"completion_tokens\":9,\"prompt_tokens_details\":{\"cached_tokens\":80}}"),
             "{\"input_tokens\":0,\"cache_read_input_tokens\":10,\"output_tokens\":9}", "hub over-cached → anthropic");
#undef ANS
#undef HUB
}

/* OpenAI's allowed_tools (its current way to limit the tools a call may
 * use): only those offered to Anthropic, mode required a call of one of
 * them (any), auto a choice (auto), as for Gemini's allowedFunctionNames. */
static void allowed_tools(void)
{
#define REQ(tc) "{\"model\":\"gpt-5\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":["          \
                "{\"type\":\"function\",\"function\":{\"name\":\"a\",\"parameters\":{\"type\":\"object\"}}},"          \
                "{\"type\":\"function\",\"function\":{\"name\":\"b\",\"parameters\":{\"type\":\"object\"}}},"          \
                "{\"type\":\"function\",\"function\":{\"name\":\"c\",\"parameters\":{\"type\":\"object\"}}}],"        \
                "\"tool_choice\":" tc "}"
#define ALLOWED(mode, names) \
    "{\"type\":\"allowed_tools\",\"allowed_tools\":{\"mode\":\"" mode "\",\"tools\":[" names "]}}"
#define FN(n) "{\"type\":\"function\",\"function\":{\"name\":\"" n "\"}}"
    static const struct {
        const char *json, *type;
        int ntools;
    } cases[] = {{REQ(ALLOWED("required", FN("a"))), "any", 1},
                 {REQ(ALLOWED("auto", FN("a") "," FN("c"))), "auto", 2},
                 {REQ(ALLOWED("required", FN("a") "," FN("zz"))), "any", 1}};
    int rc;
    char d[160];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *o = tr_across(LLF_OPENAI, LLF_ANTHROPIC, cases[i].json, "claude-sonnet-4-5", &rc, d, sizeof d);
        const cJSON *tools = cJSON_GetObjectItem(o, "tools");
        CHECK(rc == LLF_TR_OK && cJSON_GetArraySize(tools) == cases[i].ntools);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(tools, 0), "name")), "a");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "tool_choice"), "type")),
                  cases[i].type);
        for (const cJSON *t = tools ? tools->child : NULL; t; t = t->next)
            CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(t, "name")), "b") != 0);
        cJSON_Delete(o);
    }
    /* naming none of the tools, a mode OpenAI lacks, a choice of a type no
     * other dialect has: skipped, not sent with every tool on offer */
    static const char *const bad[] = {REQ(ALLOWED("required", FN("zz"))), REQ(ALLOWED("sometimes", FN("a"))),
                                      REQ("{\"type\":\"mystery\"}")};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(tr_skipped(LLF_OPENAI, LLF_ANTHROPIC, bad[i], "claude-sonnet-4-5", "tool_choice"));
#undef REQ
#undef ALLOWED
#undef FN
}

/* What a provider's own servers do (OpenAI's web search, Anthropic's MCP
 * connector) no member of another dialect can: it is skipped, not sent the
 * request without it. A refusal's detail names the field, not "OpenAI" for
 * every other dialect, and shows a dated tool type as it is. */
static void server_side_features(void)
{
    static const char search[] = "{\"model\":\"gpt-4o-search-preview\",\"messages\":[{\"role\":\"user\","
                                 "\"content\":\"news\"}],\"web_search_options\":{\"search_context_size\":\"high\"}}";
    CHECK(tr_skipped(LLF_OPENAI, LLF_ANTHROPIC, search, "claude-sonnet-4-5", "web_search_options"));
    CHECK(tr_skipped(LLF_OPENAI, LLF_GEMINI, search, "gemini-2.5-flash", "web_search_options"));
    static const char mcp[] = "{\"model\":\"c\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"my "
                              "tickets\"}],\"mcp_servers\":[{\"type\":\"url\",\"url\":\"https://mcp.example.com/sse\","
                              "\"name\":\"jira\"}]}";
    CHECK(tr_skipped(LLF_ANTHROPIC, LLF_OPENAI, mcp, "gpt-4o", "mcp_servers"));
    CHECK(tr_skipped(LLF_ANTHROPIC, LLF_GEMINI, mcp, "gemini-2.5-flash", "mcp_servers"));
    /* (no servers: nothing asked) */
    int rc;
    char d[160];
    cJSON *o = tr_across(LLF_ANTHROPIC, LLF_OPENAI, "{\"model\":\"c\",\"max_tokens\":9,\"messages\":[{\"role\":"
                         "\"user\",\"content\":\"x\"}],\"mcp_servers\":[]}", "gpt-4o", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && o);
    cJSON_Delete(o);
    CHECK(tr_skipped(LLF_ANTHROPIC, LLF_GEMINI, "{\"model\":\"c\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\","
                     "\"content\":\"x\"}],\"tools\":[{\"type\":\"web_search_20250305\",\"name\":\"web_search\"}]}",
                     "gemini-2.5-flash", "\"web_search_20250305\""));
    static const char google[] = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"x\"}]}],\"tools\":"
                                 "[{\"googleSearch\":{}}]}";
    o = tr_across(LLF_GEMINI, LLF_ANTHROPIC, google, "claude-sonnet-4-5", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_INCOMPATIBLE && strstr(d, "googleSearch") && !strstr(d, "OpenAI"));
    cJSON_Delete(o);
    /* dated API names are shown; a key with its digits spread is not */
    CHECK_STR(llf_terr_word("web_search_20250305"), "web_search_20250305");
    CHECK_STR(llf_terr_word("code_execution_20250825"), "code_execution_20250825");
    CHECK_STR(llf_terr_word("sk-3f9a2c4e8b1d4f6a_9c0e2b4d6f8a1c3e"), "(not an API name)");
    CHECK_STR(llf_terr_word("Web_Search_20250305"), "(not an API name)");
}

/* Tool-call ids Anthropic refuses (anything but ^[a-zA-Z0-9_-]+$), as an
 * OpenAI-dialect member such as Kimi writes them ("functions.a:0"), become
 * ones it takes, the same in an answer and in the history that brings it
 * back; a call without an id gets one made up. Ids it takes are kept. */
static void tool_ids(void)
{
    static const char ans[] =
        "{\"id\":\"chatcmpl-7\",\"object\":\"chat.completion\",\"model\":\"kimi-k2\",\"choices\":[{\"index\":0,"
        "\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
        "{\"id\":\"functions.a:0\",\"type\":\"function\",\"function\":{\"name\":\"a\",\"arguments\":\"{}\"}},"
        "{\"type\":\"function\",\"function\":{\"name\":\"a\",\"arguments\":\"{}\"}},"
        "{\"id\":\"toolu_01A-b\",\"type\":\"function\",\"function\":{\"name\":\"a\",\"arguments\":\"{}\"}}]},"
        "\"finish_reason\":\"tool_calls\"}]}";
    cJSON *hub = cJSON_Parse(ans), *out = NULL;
    llf_terr e;
    CHECK(A->resp_from_hub(hub, "claude", &out, &e) == LLF_TR_OK);
    const cJSON *blocks = cJSON_GetObjectItem(out, "content");
    CHECK(cJSON_GetArraySize(blocks) == 3);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 0), "id")), "functions_a_0");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 1), "id")), "call_chatcmpl-7_1");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 2), "id")), "toolu_01A-b");
    cJSON_Delete(hub);
    cJSON_Delete(out);
    /* an OpenAI program's history with such ids, to an Anthropic member */
    int rc;
    char d[160];
    cJSON *o = tr_across(LLF_OPENAI, LLF_ANTHROPIC,
                         "{\"model\":\"kimi-k2\",\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":"
                         "\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"functions.a:0\",\"type\":\"function\","
                         "\"function\":{\"name\":\"a\",\"arguments\":\"{}\"}}]},{\"role\":\"tool\",\"tool_call_id\":"
                         "\"functions.a:0\",\"content\":\"res\"}]}", "claude-sonnet-4-5", &rc, d, sizeof d);
    const cJSON *msgs = cJSON_GetObjectItem(o, "messages");
    CHECK(rc == LLF_TR_OK && cJSON_GetArraySize(msgs) == 3);
    const cJSON *use = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 1), "content"), 0);
    const cJSON *result = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 2), "content"), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(use, "id")), "functions_a_0");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(result, "tool_use_id")), "functions_a_0");
    cJSON_Delete(o);
    /* the function itself: bytes of UTF-8 too; none made up from a responseId */
    char *s = llf_anthropic_tool_id("call\xc3\xa9 1", NULL, 0);
    CHECK_STR(s, "call___1");
    free(s);
    s = llf_anthropic_tool_id("", "r.9", 2);
    CHECK_STR(s, "call_r9_2");
    free(s);
}

/* A tool name of 65 to 128 bytes, which Claude takes (Claude Code's MCP
 * plugins' "mcp__plugin_<plugin>_<server>__<tool>") and OpenAI refuses
 * (64 at most): members of other dialects are sent it cut to 64 bytes, in
 * the tools, the tool choice and the history's calls alike, a second name
 * cut alike made _2; their calls come back by the program's name. */
static void long_tool_names(void)
{
#define LONG1 "mcp__plugin_atlassian-mcp_atlassian__getJiraProjectIssueTypesMetadataForAProject"
#define LONG2 "mcp__plugin_atlassian-mcp_atlassian__getJiraProjectIssueTypesMetadataForAnIssue"
#define CUT1 "mcp__plugin_atlassian-mcp_atlassian__getJiraProjectIssueTypesMet"
#define CUT2 "mcp__plugin_atlassian-mcp_atlassian__getJiraProjectIssueTypesM_2"   /* (cut to 62, then _2) */
    static const char req[] =
        "{\"model\":\"c\",\"max_tokens\":9,\"tools\":[{\"name\":\"" LONG1 "\",\"input_schema\":{\"type\":\"object\"}},"
        "{\"name\":\"" LONG2 "\",\"input_schema\":{\"type\":\"object\"}},{\"name\":\"short\",\"input_schema\":"
        "{\"type\":\"object\"}}],\"tool_choice\":{\"type\":\"tool\",\"name\":\"" LONG2 "\"},\"messages\":["
        "{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\","
        "\"id\":\"toolu_1\",\"name\":\"" LONG1 "\",\"input\":{}}]},{\"role\":\"user\",\"content\":["
        "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":\"r\"}]}]}";
    CHECK(sizeof CUT1 - 1 == 64 && sizeof LONG1 - 1 > 64 && sizeof LONG1 - 1 <= 128);
    int rc;
    cJSON *o = tr_across(LLF_ANTHROPIC, LLF_OPENAI, req, "gpt-4o", &rc, NULL, 0);
    const cJSON *tools = cJSON_GetObjectItem(o, "tools");
#define FNAME(x) cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(x, "function"), "name"))
    CHECK(rc == LLF_TR_OK && cJSON_GetArraySize(tools) == 3);
    CHECK_STR(FNAME(cJSON_GetArrayItem(tools, 0)), CUT1);
    CHECK_STR(FNAME(cJSON_GetArrayItem(tools, 1)), CUT2);
    CHECK_STR(FNAME(cJSON_GetArrayItem(tools, 2)), "short");
    CHECK_STR(FNAME(cJSON_GetObjectItem(o, "tool_choice")), FNAME(cJSON_GetArrayItem(tools, 1)));
    CHECK_STR(FNAME(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "messages"), 1),
                                                           "tool_calls"), 0)), CUT1);
    CHECK(!cJSON_GetObjectItem(o, LLF_HUB_NAMES));   /* (the hub's own: never sent) */
    cJSON_Delete(o);
    /* the member's call reaches the program by its own name */
    cJSON *in = cJSON_Parse(req), *hub = NULL;
    llf_terr e;
    CHECK(A->req_to_hub(in, NULL, &hub, &e) == LLF_TR_OK);
    cJSON *ans = cJSON_Parse("{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"
                             "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":"
                             "\"function\",\"function\":{\"name\":\"" CUT1 "\",\"arguments\":\"{}\"}}]},"
                             "\"finish_reason\":\"tool_calls\"}]}"), *out = NULL;
    CHECK(llf_hub_names_back(ans, cJSON_GetObjectItem(hub, LLF_HUB_NAMES)) == 0);
    CHECK(A->resp_from_hub(ans, "c", &out, &e) == LLF_TR_OK);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(out, "content"), 0),
                                                       "name")), LONG1);
    cJSON_Delete(in);
    cJSON_Delete(hub);
    cJSON_Delete(ans);
    cJSON_Delete(out);
    /* names of 64 bytes or fewer are sent as they are, and named back by none */
    in = cJSON_Parse("{\"model\":\"c\",\"max_tokens\":9,\"tools\":[{\"name\":\"" CUT1 "\",\"input_schema\":"
                     "{\"type\":\"object\"}}],\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]}");
    CHECK(A->req_to_hub(in, NULL, &hub, &e) == LLF_TR_OK && !cJSON_GetObjectItem(hub, LLF_HUB_NAMES));
    cJSON_Delete(in);
    cJSON_Delete(hub);
#undef FNAME
#undef CUT2
#undef CUT1
#undef LONG2
#undef LONG1
}

/* Anthropic's strict tools (inputs that match the schema) are OpenAI's
 * function.strict where OpenAI's strict mode reads the schema alike
 * (closed objects, every property required); with an optional property
 * OpenAI would refuse the tool (400), so it goes as before, without. */
static void strict_tools(void)
{
#define TOOL(schema) "{\"model\":\"c\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]," \
                     "\"tools\":[{\"name\":\"w\",\"strict\":true,\"input_schema\":" schema "}]}"
    static const struct {
        const char *json;
        int strict;
    } cases[] = {
        {TOOL("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},\"at\":{\"type\":\"object\","
              "\"properties\":{\"d\":{\"type\":\"string\"}},\"required\":[\"d\"],\"additionalProperties\":false}},"
              "\"required\":[\"city\",\"at\"],\"additionalProperties\":false}"), 1},
        {TOOL("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},\"unit\":{\"type\":\"string\"}},"
              "\"required\":[\"city\"],\"additionalProperties\":false}"), 0},
        {TOOL("{\"type\":\"object\",\"properties\":{\"at\":{\"type\":\"object\",\"properties\":{}}},"
              "\"required\":[\"at\"],\"additionalProperties\":false}"), 0}};
    int rc;
    char d[160];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *o = tr_across(LLF_ANTHROPIC, LLF_OPENAI, cases[i].json, "gpt-4o", &rc, d, sizeof d);
        const cJSON *f = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "tools"), 0), "function");
        CHECK(rc == LLF_TR_OK && f);
        CHECK(cases[i].strict ? cJSON_IsTrue(cJSON_GetObjectItem(f, "strict")) : !cJSON_GetObjectItem(f, "strict"));
        cJSON_Delete(o);
    }
#undef TOOL
    /* many properties, required in the other order, all or all but one */
    for (int all = 0; all <= 1; all++) {
        llf_buf b = {0};
        llf_buf_adds(&b, "{\"model\":\"c\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                         "\"tools\":[{\"name\":\"w\",\"strict\":true,\"input_schema\":{\"type\":\"object\","
                         "\"additionalProperties\":false,\"properties\":{");
        for (int i = 0; i < 2000; i++)
            llf_buf_printf(&b, "%s\"p%d\":{\"type\":\"string\"}", i ? "," : "", i);
        llf_buf_adds(&b, "},\"required\":[");
        for (int i = 1999; i >= !all; i--)
            llf_buf_printf(&b, "%s\"p%d\"", i < 1999 ? "," : "", i);
        llf_buf_adds(&b, "]}}]}");
        cJSON *o = tr_across(LLF_ANTHROPIC, LLF_OPENAI, b.p, "gpt-4o", &rc, d, sizeof d);
        const cJSON *f = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "tools"), 0), "function");
        CHECK(rc == LLF_TR_OK && f && cJSON_IsTrue(cJSON_GetObjectItem(f, "strict")) == all);
        cJSON_Delete(o);
        llf_buf_free(&b);
    }
}

/* The stop_reason of hub answer json given to an Anthropic program, and
 * its stop_sequence ("" for null). */
static void stop_of(const char *json, const char *want, const char *want_seq)
{
    cJSON *in = cJSON_Parse(json), *out = NULL;
    llf_terr e;
    CHECK(in && A->resp_from_hub(in, "m", &out, &e) == LLF_TR_OK);
    const cJSON *seq = cJSON_GetObjectItem(out, "stop_sequence");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(out, "stop_reason")), want);
    CHECK_STR(cJSON_IsString(seq) ? seq->valuestring : cJSON_IsNull(seq) ? "" : "?", want_seq);
    cJSON_Delete(in);
    cJSON_Delete(out);
}

/* Arguments that only begin with an object (JSON lines, an object and
 * prose) are not one: refused in a history, {} in an answer, as for Gemini,
 * not the first object alone; a lone surrogate escape in them is JSON. */
static void arguments_read_whole(void)
{
    char d[256];
    CHECK(tr_code(A->req_from_hub, "c", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\","
                  "\"content\":null,\"tool_calls\":[{\"id\":\"1\",\"type\":\"function\",\"function\":{\"name\":\"f\","
                  "\"arguments\":\"{\\\"a\\\":1}\\n{\\\"a\\\":2}\"}}]},{\"role\":\"tool\",\"tool_call_id\":\"1\","
                  "\"content\":\"r\"}]}", d, sizeof d) == LLF_TR_INCOMPATIBLE);
    CHECK(strstr(d, "arguments") != NULL);
    static const struct {
        const char *args, *want;
    } answers[] = {{"{\\\"a\\\":1} and then some", "{}"},
                   {"{\\\"s\\\":\\\"\\\\ud83d\\\"}", "{\"s\":\"\\ufffd\"}"}};
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        llf_buf j = {0};
        llf_buf_printf(&j, "{\"id\":\"c\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,"
                           "\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"f\","
                           "\"arguments\":\"%s\"}}]},\"finish_reason\":\"tool_calls\"}]}", answers[i].args);
        cJSON *in = cJSON_Parse(j.p), *out = NULL;
        llf_terr e;
        CHECK(in && A->resp_from_hub(in, "m", &out, &e) == LLF_TR_OK);
        const cJSON *input = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(out, "content"), 0), "input");
        char *got = input ? cJSON_PrintUnformatted(input) : NULL;
        cJSON *want = cJSON_Parse(answers[i].want);
        CHECK(input && want && cJSON_Compare(input, want, 1));
        if (!(input && want && cJSON_Compare(input, want, 1)))
            fprintf(stderr, "  arguments %s gave %s\n", answers[i].args, got ? got : "(none)");
        free(got);
        cJSON_Delete(want);
        cJSON_Delete(in);
        cJSON_Delete(out);
        llf_buf_free(&j);
    }
}

/* A call the model was made to make (tool_choice naming its function)
 * OpenAI and vLLM end with finish_reason "stop": an Anthropic program,
 * which runs its tools on stop_reason "tool_use", gets that, as for any
 * answer with calls (a call cut short keeps its max_tokens). */
static void forced_calls(void)
{
#define CALLS_ENDING(fr) "{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\"," \
    "\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"w\"," \
    "\"arguments\":\"{}\"}}]},\"finish_reason\":" fr "}]}"
    stop_of(CALLS_ENDING("\"stop\""), "tool_use", "");
    stop_of(CALLS_ENDING("null"), "tool_use", "");
    stop_of(CALLS_ENDING("\"tool_calls\""), "tool_use", "");
    stop_of(CALLS_ENDING("\"length\""), "max_tokens", "");
#undef CALLS_ENDING
}

/* The sequence an answer stopped at, where the hub names it as vLLM does
 * (choice.stop_reason; the library's own cut, stop_at, names it so), is
 * Anthropic's stop_reason "stop_sequence" with it; a token id is not. */
static void stop_sequences_named(void)
{
    stop_of("{\"choices\":[{\"message\":{\"content\":\"Hello\"},\"finish_reason\":\"stop\",\"stop_reason\":\" from\"}]}",
            "stop_sequence", " from");
    stop_of("{\"choices\":[{\"message\":{\"content\":\"Hello\"},\"finish_reason\":\"stop\",\"stop_reason\":128009}]}",
            "end_turn", "");
    stop_of("{\"choices\":[{\"message\":{\"content\":\"Hello\"},\"finish_reason\":\"stop\",\"stop_reason\":null}]}",
            "end_turn", "");
    /* a reasoning model's answer cut by the library, to an Anthropic program */
    const llf_dialect_ops *O = llf_dialect_ops_of(LLF_OPENAI);
    cJSON *hub = cJSON_Parse("{\"stop\":[\" from\",\" (\"]}"), *in = NULL, *mid = NULL, *out = NULL;
    llf_buf body = {0};
    llf_terr e;
    llf_buf_adds(&body, "{\"id\":\"c\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
                        "\"Hello from backup (gpt-5-mini)\"},\"finish_reason\":\"stop\"}]}");
    CHECK(O->stop_at("gpt-5-mini", hub, &body) == 1);
    in = cJSON_Parse(body.p);
    CHECK(in && O->resp_to_hub(in, &mid, &e) == LLF_TR_OK && A->resp_from_hub(mid, "m", &out, &e) == LLF_TR_OK);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(out, "stop_reason")), "stop_sequence");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(out, "stop_sequence")), " from");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(out, "content"), 0),
                                                       "text")), "Hello");
    llf_buf_free(&body);
    cJSON_Delete(hub);
    cJSON_Delete(in);
    cJSON_Delete(mid);
    cJSON_Delete(out);
}

/* The tool_use ids and tool_use_ids of a translated history, in order,
 * space-separated ("?" for a block without one). */
static void history_ids(const cJSON *o, llf_buf *b)
{
    for (const cJSON *m = cJSON_GetObjectItem(o, "messages") ? cJSON_GetObjectItem(o, "messages")->child : NULL; m;
         m = m->next)
        for (const cJSON *bl = cJSON_IsArray(cJSON_GetObjectItem(m, "content")) ? cJSON_GetObjectItem(m, "content")->child
                                                                              : NULL; bl; bl = bl->next) {
            const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(bl, "type"));
            const char *key = t && !strcmp(t, "tool_use") ? "id" : t && !strcmp(t, "tool_result") ? "tool_use_id" : NULL;
            const char *id = key ? cJSON_GetStringValue(cJSON_GetObjectItem(bl, key)) : NULL;
            if (key)
                llf_buf_printf(b, "%s%s", b->n ? " " : "", id ? id : "?");
        }
}

/* Calls without ids in an OpenAI history ("id": "", as Gemini's
 * OpenAI-compatible endpoint gives them, or none): each its own id (Claude
 * refuses a history whose tool_use ids repeat), and each result without
 * one answers the oldest unanswered call of the assistant message before
 * it, as OpenAI pairs them by position. */
static void empty_tool_ids(void)
{
#define CALL(id, city) "{" id "\"type\":\"function\",\"function\":{\"name\":\"w\",\"arguments\":\"{\\\"city\\\":\\\"" city "\\\"}\"}}"
#define RESULT(id, text) "{\"role\":\"tool\"," id "\"content\":\"" text "\"}"
    static const struct {
        const char *label, *msgs, *want;
    } cases[] = {
        {"two empty ids, answered in order",
         "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" CALL("\"id\":\"\",", "Paris") ","
         CALL("\"id\":\"\",", "Rome") "]}," RESULT("\"tool_call_id\":\"\",", "P") "," RESULT("\"tool_call_id\":\"\",", "R"),
         "call_llf_0 call_llf_1 call_llf_0 call_llf_1"},
        {"no ids at all, and one with an id between",
         "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" CALL("", "Paris") "," CALL("\"id\":\"call_x\",", "Oslo")
         "," CALL("", "Rome") "]}," RESULT("", "P") "," RESULT("\"tool_call_id\":\"call_x\",", "O") "," RESULT("", "R"),
         "call_llf_0 call_x call_llf_1 call_llf_0 call_x call_llf_1"},
        {"two turns: the second's results answer the second's calls",
         "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" CALL("\"id\":\"\",", "Paris") "]},"
         RESULT("\"tool_call_id\":\"\",", "P") ",{\"role\":\"user\",\"content\":\"and?\"},"
         "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" CALL("\"id\":\"\",", "Rome") ","
         CALL("\"id\":\"\",", "Oslo") "]}," RESULT("\"tool_call_id\":\"\",", "R") "," RESULT("\"tool_call_id\":\"\",", "O"),
         "call_llf_0 call_llf_0 call_llf_1 call_llf_2 call_llf_1 call_llf_2"},
        {"a result more than the calls: an id of its own",
         "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" CALL("\"id\":\"\",", "Paris") "]},"
         RESULT("\"tool_call_id\":\"\",", "P") "," RESULT("\"tool_call_id\":\"\",", "X"),
         "call_llf_0 call_llf_0 call_llf_1"},
        /* ids that restart each turn: Claude refuses a history whose
         * tool_use ids repeat, so a repeat is sent renamed, and a result
         * answers the latest call with its id */
        {"ids that restart each turn",
         "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" CALL("\"id\":\"call_0\",", "Paris") "]},"
         RESULT("\"tool_call_id\":\"call_0\",", "P") ",{\"role\":\"user\",\"content\":\"and?\"},"
         "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" CALL("\"id\":\"call_0\",", "Rome") ","
         CALL("\"id\":\"call_1\",", "Oslo") "]}," RESULT("\"tool_call_id\":\"call_0\",", "R") ","
         RESULT("\"tool_call_id\":\"call_1\",", "O") ",{\"role\":\"user\",\"content\":\"more\"},"
         "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" CALL("\"id\":\"call_0\",", "Bern") "]},"
         RESULT("\"tool_call_id\":\"call_0\",", "B"),
         "call_0 call_0 call_0_2 call_1 call_0_2 call_1 call_0_3 call_0_3"},
        /* two ids Anthropic's form makes one (functions.w:0 and
         * functions_w_0), and a renaming that would meet an id the program
         * sent itself */
        {"ids that meet once in Anthropic's form",
         "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" CALL("\"id\":\"functions.w:0\",", "Paris") ","
         CALL("\"id\":\"x_2\",", "Rome") "]}," RESULT("\"tool_call_id\":\"functions.w:0\",", "P") ","
         RESULT("\"tool_call_id\":\"x_2\",", "R") ",{\"role\":\"user\",\"content\":\"and?\"},"
         "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" CALL("\"id\":\"functions_w_0\",", "Oslo") ","
         CALL("\"id\":\"x\",", "Bern") "," CALL("\"id\":\"x\",", "Nice") "]},"
         RESULT("\"tool_call_id\":\"functions_w_0\",", "O"),
         "functions_w_0 x_2 functions_w_0 x_2 functions_w_0_2 x x_3 functions_w_0_2"},
        /* two ids of one turn that Anthropic's form makes one (call:1 and
         * call_1), answered in another order: each result its own call's */
        {"ids that meet in one turn",
         "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" CALL("\"id\":\"call_0\",", "Paris") "]},"
         RESULT("\"tool_call_id\":\"call_0\",", "P") ",{\"role\":\"user\",\"content\":\"and?\"},"
         "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" CALL("\"id\":\"call_0\",", "Rome") ","
         CALL("\"id\":\"call:1\",", "Oslo") "," CALL("\"id\":\"call_1\",", "Bern") "]},"
         RESULT("\"tool_call_id\":\"call_1\",", "B") "," RESULT("\"tool_call_id\":\"call:1\",", "O") ","
         RESULT("\"tool_call_id\":\"call_0\",", "R"),
         "call_0 call_0 call_0_2 call_1 call_1_2 call_1_2 call_1 call_0_2"},
    };
#undef CALL
#undef RESULT
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        tr_history(cases[i].label, LLF_ANTHROPIC, "claude-sonnet-4-5", cases[i].msgs, history_ids, cases[i].want);
}

/* What Claude is sent ending with the assistant's turn is a prefill, which
 * it would continue where OpenAI answers after it: a system message after
 * that turn goes to "system", an empty or blank user turn is left out, and
 * either is refused as a conversation ending with it is. */
static void prefills_after_translation(void)
{
    tr_prefill_tails(LLF_ANTHROPIC, "claude-sonnet-4-5", 1);
}

/* Claude refuses blank stop sequences and text blocks (400 "each stop
 * sequence must contain non-whitespace", "text content blocks must contain
 * non-whitespace text"): a blank text block is left out like an empty one,
 * and a blank stop sequence is not sent, the answer cut at it (stop_at);
 * a stream, which cannot be cut, skips Claude. */
static void blank_text(void)
{
    int rc;
    char d[160];
    cJSON *o = tr_across(LLF_OPENAI, LLF_ANTHROPIC,
                         "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Say something\"},"
                         "{\"role\":\"assistant\",\"content\":\"\\n\\n\"},{\"role\":\"user\",\"content\":[{\"type\":"
                         "\"text\",\"text\":\"Try again\"},{\"type\":\"text\",\"text\":\"\\u00a0\\u3000\\t\"}]}],"
                         "\"stop\":[\"\\n\",\"END\",\" \",\"\"]}", "claude-sonnet-4-5", &rc, d, sizeof d);
    cJSON *want = cJSON_Parse("[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Say something\"},"
                              "{\"type\":\"text\",\"text\":\"Try again\"}]}]");
    CHECK(rc == LLF_TR_OK);
    t_json_same(cJSON_GetObjectItem(o, "messages"), want, "blank blocks left out");
    cJSON_Delete(want);
    want = cJSON_Parse("[\"END\"]");
    t_json_same(cJSON_GetObjectItem(o, "stop_sequences"), want, "blank stop sequences not sent");
    cJSON_Delete(want);
    cJSON_Delete(o);
    o = tr_across(LLF_OPENAI, LLF_ANTHROPIC, "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":"
                  "\"x\"}],\"stop\":\"\\n\"}", "claude-sonnet-4-5", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && o && !cJSON_GetObjectItem(o, "stop_sequences"));
    cJSON_Delete(o);
    CHECK(tr_skipped(LLF_OPENAI, LLF_ANTHROPIC, "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":"
                     "\"x\"}],\"stop\":[\"\\n\"],\"stream\":true}", "claude-sonnet-4-5", "white space"));
    /* the answer cut where the first blank one begins, the blocks after it
     * left out, and stopped as Claude stops at its own */
    static const struct {
        const char *hub, *answer, *want;   /* want NULL: unchanged */
    } cases[] = {
        {"{\"stop\":[\"END\",\"\\n\",\" \\n\"]}",
         "{\"content\":[{\"type\":\"thinking\",\"thinking\":\"a\\nb\"},{\"type\":\"text\",\"text\":\"one \\ntwo\\n\"},"
         "{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{}}],\"stop_reason\":\"tool_use\","
         "\"stop_sequence\":null}",
         "{\"content\":[{\"type\":\"thinking\",\"thinking\":\"a\\nb\"},{\"type\":\"text\",\"text\":\"one\"}],"
         "\"stop_reason\":\"stop_sequence\",\"stop_sequence\":\" \\n\"}"},
        {"{\"stop\":\"\\n\"}", "{\"content\":[{\"type\":\"text\",\"text\":\"\\nx\"}]}",
         "{\"content\":[{\"type\":\"text\",\"text\":\"\"}],\"stop_reason\":\"stop_sequence\",\"stop_sequence\":\"\\n\"}"},
        /* none there, none blank, a stream, no answer */
        {"{\"stop\":[\"\\n\"]}", "{\"content\":[{\"type\":\"text\",\"text\":\"one two\"}],\"stop_reason\":\"end_turn\"}",
         NULL},
        {"{\"stop\":[\"o\"]}", "{\"content\":[{\"type\":\"text\",\"text\":\"one two\"}]}", NULL},
        {"{\"stop\":[\"\\n\"],\"stream\":true}", "{\"content\":[{\"type\":\"text\",\"text\":\"a\\nb\"}]}", NULL},
        {"{\"stop\":[\"\\n\"]}", "not json", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *hub = cJSON_Parse(cases[i].hub);
        llf_buf body = {0};
        llf_buf_adds(&body, cases[i].answer);
        CHECK(A->stop_at && A->stop_at("claude-sonnet-4-5", hub, &body) == (cases[i].want != NULL));
        CHECK_STR(body.p, cases[i].want ? cases[i].want : cases[i].answer);
        llf_buf_free(&body);
        cJSON_Delete(hub);
    }
}

/* A long conversation translates in time linear in its length (each
 * message was appended after a walk to the last). */
static void long_conversation(void)
{
    enum { N = 40000 };
    cJSON *hub = cJSON_CreateObject(), *msgs = cJSON_AddArrayToObject(hub, "messages"), *out = NULL;
    for (int i = 0; i <= N; i++) {
        cJSON *m = cJSON_CreateObject();
        char t[32];
        snprintf(t, sizeof t, i == N ? "end" : "m%d", i);
        cJSON_AddStringToObject(m, "role", i % 2 ? "assistant" : "user");
        cJSON_AddStringToObject(m, "content", t);
        cJSON_AddItemToArray(msgs, m);
    }
    llf_terr e;
    CHECK(A->req_from_hub(hub, "claude-sonnet-4-5", &out, &e) == LLF_TR_OK);
    const cJSON *am = cJSON_GetObjectItem(out, "messages");
    CHECK(cJSON_GetArraySize(am) == N + 1);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(am ? am->child->prev : NULL, "content")), "end");
    cJSON_Delete(hub);
    cJSON_Delete(out);
}

/* Does the printed j hold text? */
static int prints(const cJSON *j, const char *text)
{
    char *p = cJSON_PrintUnformatted(j);
    int in = p && strstr(p, text);
    if (!in)
        fprintf(stderr, "  no %s in %s\n", text, p ? p : "(nothing)");
    free(p);
    return in;
}

/* A tool call's arguments keep their numbers as written, between the
 * hub's JSON text and Anthropic's input object, both ways, in answers and
 * histories, as a stream's pieces do: a 64-bit id is not a rounded float
 * (1.2345678901234568e+18), nor 1e400 null. */
static void big_numbers(void)
{
#define BIG "{\"channel_id\":1234567890123456789,\"x\":1e400,\"y\":0.1}"
#define BIG_ESC "{\\\"channel_id\\\":1234567890123456789,\\\"x\\\":1e400,\\\"y\\\":0.1}"
    cJSON *in = cJSON_Parse("{\"id\":\"msg_1\",\"model\":\"c\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\","
                            "\"name\":\"send\",\"input\":" BIG "}],\"stop_reason\":\"tool_use\"}"), *out = NULL;
    llf_terr e;
    CHECK(in && A->resp_to_hub(in, &out, &e) == LLF_TR_OK && prints(out, BIG_ESC));
    cJSON_Delete(in);
    cJSON_Delete(out);
    in = cJSON_Parse("{\"id\":\"c\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"tool_calls\":[{\"id\":"
                     "\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"send\",\"arguments\":\"" BIG_ESC "\"}}]},"
                     "\"finish_reason\":\"tool_calls\"}]}");
    out = NULL;
    CHECK(in && A->resp_from_hub(in, "c", &out, &e) == LLF_TR_OK && prints(out, "\"input\":" BIG));
    cJSON_Delete(in);
    cJSON_Delete(out);
    int rc;
    char d[160];
    out = tr_across(LLF_OPENAI, LLF_ANTHROPIC,
                    "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\","
                    "\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":"
                    "\"send\",\"arguments\":\"" BIG_ESC "\"}}]},{\"role\":\"tool\",\"tool_call_id\":\"call_1\","
                    "\"content\":\"ok\"}]}", "claude-sonnet-4-5", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && prints(out, "\"input\":" BIG));
    cJSON_Delete(out);
    out = tr_across(LLF_ANTHROPIC, LLF_OPENAI,
                    "{\"model\":\"c\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":"
                    "\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"send\",\"input\":"
                    BIG "}]},{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\","
                    "\"content\":\"ok\"}]}]}", "gpt-4o", &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && prints(out, BIG_ESC));
    cJSON_Delete(out);
#undef BIG
#undef BIG_ESC
}

/* Anthropic refuses a request without messages (400 "messages: at least
 * one message is required"), which OpenAI takes: a system prompt alone is
 * sent as the user's turn (and JSON output still asked in "system"); with
 * no text at all the member is skipped. */
static void system_prompt_alone(void)
{
    cJSON *hub = cJSON_Parse("{\"messages\":[{\"role\":\"system\",\"content\":\"Write a haiku.\"},"
                             "{\"role\":\"developer\",\"content\":\"About the sea.\"}],"
                             "\"response_format\":{\"type\":\"json_object\"}}"),
          *out = NULL;
    llf_terr e = {{0}};
    CHECK(hub && A->req_from_hub(hub, "claude-haiku-4-5", &out, &e) == LLF_TR_OK);
    cJSON *want = cJSON_Parse("[{\"role\":\"user\",\"content\":\"Write a haiku.\\n\\nAbout the sea.\"}]");
    CHECK(out && t_json_same(cJSON_GetObjectItem(out, "messages"), want, "system prompt alone"));
    const char *sys = cJSON_GetStringValue(cJSON_GetObjectItem(out, "system"));
    CHECK(sys && !strstr(sys, "haiku") && strstr(sys, "JSON"));
    cJSON_Delete(want);
    cJSON_Delete(out);
    cJSON_Delete(hub);
    out = NULL;
    hub = cJSON_Parse("{\"messages\":[]}");
    CHECK(hub && A->req_from_hub(hub, "claude-haiku-4-5", &out, &e) == LLF_TR_INCOMPATIBLE && !out);
    CHECK(strstr(e.detail, "no message"));
    cJSON_Delete(hub);
}

void test_dialect_anthropic(void)
{
    A = llf_dialect_ops_of(LLF_ANTHROPIC);
    system_prompt_alone();
    schemas_and_blank_results();
    many_calls_of_one_id();
    user_ids();
    arguments_read_whole();
    image_types();
    long_tool_names();
    char d[160];
    tr_golden("anthropic basic → hub", A->req_to_hub, NULL, "anthropic/req_basic.anthropic.json",
              "anthropic/req_basic.hub.json");
    tr_golden("anthropic tools → hub", A->req_to_hub, NULL, "anthropic/req_tools.anthropic.json",
              "anthropic/req_tools.hub.json");
    tr_golden("hub basic → anthropic", A->req_from_hub, "claude-sonnet-4-5", "anthropic/req_basic.hub.json",
              "anthropic/req_basic.anthropic.json");
    tr_golden_resp("anthropic text answer → hub", A->resp_to_hub, "anthropic/resp_text.anthropic.json",
                   "anthropic/resp_text.hub.json");
    tr_golden_resp("anthropic tool answer → hub", A->resp_to_hub, "anthropic/resp_tool.anthropic.json",
                   "anthropic/resp_tool.hub.json");
    round_trip("anthropic/req_basic.hub.json");
    round_trip("anthropic/req_tools.hub.json");

    /* hub → Anthropic specifics */
    cJSON *o = from_hub("{\"messages\":[{\"role\":\"system\",\"content\":\"A\"},{\"role\":\"developer\","
                        "\"content\":[{\"type\":\"text\",\"text\":\"B\"}]},{\"role\":\"user\",\"content\":\"x\"},"
                        "{\"role\":\"user\",\"content\":\"y\"}],\"temperature\":1.7,\"stop\":\"END\","
                        "\"seed\":3,\"frequency_penalty\":0.5,\"response_format\":{\"type\":\"json_object\"}}",
                        "claude-sonnet-4-5");
    CHECK(o != NULL);
    if (o) {
        CHECK(strncmp(cJSON_GetObjectItem(o, "system")->valuestring, "A\n\nB\n\nRespond with a single JSON object", 38) == 0);
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(o, "messages")) == 1);   /* merged */
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "messages"), 0), "content")) == 2);
        CHECK(cJSON_GetObjectItem(o, "temperature")->valuedouble == 1.0);   /* clamped */
        CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "stop_sequences"), 0)->valuestring, "END");
        CHECK(cJSON_GetObjectItem(o, "max_tokens")->valueint == 8192);     /* per-model default */
        CHECK(!cJSON_GetObjectItem(o, "seed") && !cJSON_GetObjectItem(o, "frequency_penalty") &&
              !cJSON_GetObjectItem(o, "response_format"));
    }
    cJSON_Delete(o);
    o = from_hub("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":{\"type\":"
                 "\"json_schema\",\"json_schema\":{\"name\":\"n\",\"schema\":{\"type\":\"object\"}}},"
                 "\"max_completion_tokens\":77}", "claude-3-haiku-20240307");
    CHECK(o && strstr(cJSON_GetObjectItem(o, "system")->valuestring, "{\"type\":\"object\"}"));
    CHECK(o && strstr(cJSON_GetObjectItem(o, "system")->valuestring, "a single JSON object that conforms"));
    CHECK(o && cJSON_GetObjectItem(o, "max_tokens")->valueint == 77);
    cJSON_Delete(o);
    /* a schema whose root is an array, or another value, is not asked for as an object */
    o = from_hub("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":{\"type\":"
                 "\"json_schema\",\"json_schema\":{\"name\":\"n\",\"schema\":{\"type\":\"array\"}}}}", "claude-sonnet-4-5");
    CHECK(o && strstr(cJSON_GetObjectItem(o, "system")->valuestring, "a single JSON array that conforms"));
    cJSON_Delete(o);
    o = from_hub("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":{\"type\":"
                 "\"json_schema\",\"json_schema\":{\"name\":\"n\",\"schema\":{\"type\":\"string\"}}}}", "claude-sonnet-4-5");
    CHECK(o && strstr(cJSON_GetObjectItem(o, "system")->valuestring, "a single JSON value that conforms"));
    cJSON_Delete(o);
    o = from_hub("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "claude-3-haiku-20240307");
    CHECK(o && cJSON_GetObjectItem(o, "max_tokens")->valueint == 4096);
    cJSON_Delete(o);
    o = from_hub("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_completion_tokens\":100000}",
                 "claude-opus-4-1");
    CHECK(o && cJSON_GetObjectItem(o, "max_tokens")->valueint == 32000);   /* the model's limit */
    cJSON_Delete(o);
    /* temperature and top_p together: Claude refuses both, temperature stays */
    o = from_hub("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":0.3,\"top_p\":0.9}",
                 "claude-sonnet-4-5");
    CHECK(o && cJSON_GetObjectItem(o, "temperature")->valuedouble == 0.3 && !cJSON_GetObjectItem(o, "top_p"));
    cJSON_Delete(o);
    o = from_hub("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_p\":0.9}", "claude-sonnet-4-5");
    CHECK(o && cJSON_GetObjectItem(o, "top_p")->valuedouble == 0.9);
    cJSON_Delete(o);
    o = from_hub("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":0.3,\"top_p\":0.9}",
                 "claude-3-5-haiku-latest");   /* Claude 3 takes both */
    CHECK(o && cJSON_GetObjectItem(o, "top_p") && cJSON_GetObjectItem(o, "temperature"));
    cJSON_Delete(o);

    /* the program's own Anthropic body, fitted to a member's model */
    cJSON *b = cJSON_Parse("{\"model\":\"claude-3-5-sonnet-latest\",\"max_tokens\":64000,\"temperature\":0.3,"
                           "\"top_p\":0.9,\"messages\":[]}");
    CHECK(A->fit(b, "claude-3-5-haiku-latest", 0) == 1 && A->fit(b, "claude-haiku-4-5", 0) == 1 &&
          A->fit(b, "claude-opus-4-1", 0) == 2 && A->fit(b, "my-model", 0) == 0);
    CHECK(A->fit(b, "claude-opus-4-1", 1) == 2 && A->fit(b, "claude-opus-4-1", 0) == 0);
    CHECK(cJSON_GetObjectItem(b, "max_tokens")->valueint == 32000 && !cJSON_GetObjectItem(b, "top_p"));
    cJSON_Delete(b);

    /* thinking: none for Claude before 3.7; a budget the lowered max_tokens
     * would not exceed lowered in the program's proportion, at least 1024 */
    b = cJSON_Parse("{\"max_tokens\":64000,\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":48000}}");
    CHECK(A->fit(b, "claude-3-5-haiku-latest", 0) == 2 && A->fit(b, "claude-3-haiku-20240307", 0) == 2 &&
          A->fit(b, "claude-3-7-sonnet-latest", 0) == 0 && A->fit(b, "claude-sonnet-4-5", 0) == 0 &&
          A->fit(b, "my-model", 0) == 0 && A->fit(b, "claude-opus-4-1", 0) == 2);
    CHECK(A->fit(b, "claude-opus-4-1", 1) == 2 && A->fit(b, "claude-opus-4-1", 0) == 0);
    CHECK(cJSON_GetObjectItem(b, "max_tokens")->valueint == 32000 && budget(b) == 24000);
    CHECK(A->fit(b, "claude-3-5-haiku-latest", 1) == 2 && !cJSON_GetObjectItem(b, "thinking") &&
          cJSON_GetObjectItem(b, "max_tokens")->valueint == 8192);
    cJSON_Delete(b);
    /* thinking on, and the last assistant turn a call without thinking (a
     * member of another dialect's answer): none, which Claude requires
     * then; a turn that thought first, or one without a call, keeps it */
    static const char *const turns[][2] = {
        {"[{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"f\",\"input\":{}}]", "1"},
        {"[{\"type\":\"text\",\"text\":\"Let me look.\"},{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"f\",\"input\":{}}]", "1"},
        {"[{\"type\":\"thinking\",\"thinking\":\"hm\",\"signature\":\"s\"},{\"type\":\"tool_use\",\"id\":\"t1\","
         "\"name\":\"f\",\"input\":{}}]", "0"},
        {"[{\"type\":\"redacted_thinking\",\"data\":\"x\"},{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"f\",\"input\":{}}]", "0"},
        {"[{\"type\":\"text\",\"text\":\"Done.\"}]", "0"}};
    for (size_t i = 0; i < sizeof turns / sizeof turns[0]; i++) {
        char body[1024];
        snprintf(body, sizeof body, "{\"max_tokens\":4000,\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":2000},"
                 "\"messages\":[{\"role\":\"user\",\"content\":\"go\"},{\"role\":\"assistant\",\"content\":%s},"
                 "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"content\":\"ok\"}]}]}",
                 turns[i][0]);
        b = cJSON_Parse(body);
        int drop = turns[i][1][0] == '1';
        CHECK(A->fit(b, "claude-sonnet-4-5", 0) == drop);
        CHECK(A->fit(b, "claude-sonnet-4-5", 1) == drop && (cJSON_GetObjectItem(b, "thinking") == NULL) == drop);
        cJSON_Delete(b);
    }
    /* no sampling settings for the models that think only adaptively (a
     * temperature of 1 is their default); Opus 4.6 refuses only the pair */
    b = cJSON_Parse("{\"max_tokens\":100,\"temperature\":0.3,\"top_p\":0.9,\"top_k\":5}");
    CHECK(A->fit(b, "claude-opus-4-6", 0) == 1 && A->fit(b, "claude-fable-5", 0) == 3);
    CHECK(A->fit(b, "claude-opus-4-8", 1) == 3 && A->fit(b, "claude-opus-4-8", 0) == 0);
    CHECK(!cJSON_GetObjectItem(b, "temperature") && !cJSON_GetObjectItem(b, "top_p") && !cJSON_GetObjectItem(b, "top_k"));
    cJSON_Delete(b);
    b = cJSON_Parse("{\"max_tokens\":100,\"temperature\":1}");
    CHECK(A->fit(b, "claude-opus-4-7", 0) == 0);
    cJSON_Delete(b);

    /* extended thinking, adaptive thinking or none, by the model */
    static const struct {
        const char *thinking, *model, *after;   /* after NULL: no thinking */
    } kinds[] = {
        {"{\"type\":\"enabled\",\"budget_tokens\":2048}", "claude-opus-4-7", "{\"type\":\"adaptive\"}"},
        {"{\"type\":\"enabled\",\"budget_tokens\":2048}", "claude-sonnet-5", "{\"type\":\"adaptive\"}"},
        {"{\"type\":\"enabled\",\"budget_tokens\":2048}", "claude-opus-4-6",
         "{\"type\":\"enabled\",\"budget_tokens\":2048}"},
        {"{\"type\":\"enabled\",\"budget_tokens\":2048}", "claude-opus-4-20250514",
         "{\"type\":\"enabled\",\"budget_tokens\":2048}"},
        {"{\"type\":\"enabled\",\"budget_tokens\":2048}", "claude-3-7-sonnet-latest",
         "{\"type\":\"enabled\",\"budget_tokens\":2048}"},
        {"{\"type\":\"enabled\",\"budget_tokens\":2048}", "claude-instant-1.2", NULL},
        {"{\"type\":\"adaptive\"}", "claude-sonnet-4-6", "{\"type\":\"adaptive\"}"},
        {"{\"type\":\"adaptive\"}", "anthropic/claude-fable-5", "{\"type\":\"adaptive\"}"},
        {"{\"type\":\"adaptive\"}", "claude-sonnet-4-5-20250929", NULL},
        {"{\"type\":\"adaptive\"}", "claude-haiku-4-5", NULL},
        {"{\"type\":\"adaptive\"}", "claude-opus-4-20250514", NULL},
        {"{\"type\":\"adaptive\"}", "claude-3-5-haiku-latest", NULL},
        {"{\"type\":\"adaptive\"}", "kimi-k2", "{\"type\":\"adaptive\"}"},
        {"{\"type\":\"disabled\"}", "claude-opus-4-7", "{\"type\":\"disabled\"}"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char j[200];
        snprintf(j, sizeof j, "{\"max_tokens\":4096,\"thinking\":%s}", kinds[i].thinking);
        b = cJSON_Parse(j);
        int changes = A->fit(b, kinds[i].model, 0);
        CHECK(A->fit(b, kinds[i].model, 1) == changes && A->fit(b, kinds[i].model, 0) == 0);
        char *after = cJSON_PrintUnformatted(cJSON_GetObjectItem(b, "thinking"));
        CHECK(kinds[i].after ? after && !strcmp(after, kinds[i].after) : !after);
        CHECK(changes == (kinds[i].after && !strcmp(kinds[i].after, kinds[i].thinking) ? 0 : 1));
        free(after);
        cJSON_Delete(b);
    }

    /* max_tokens, budget → the changes for Opus 4.1 (32000) and the budget after */
    static const struct {
        int max, budget, changes, want;
    } cases[] = {
        {64000, 16000, 1, 16000},    /* already below the lowered max_tokens: kept */
        {64000, 40000, 2, 20000},    /* the program's proportion */
        {2000000, 40000, 2, 1024},   /* 40000 * 32000 / 2000000 = 640: the API's least */
        {64000, 64000, 1, 64000},    /* at or above its own max_tokens (interleaved thinking): as written */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char j[160];
        snprintf(j, sizeof j, "{\"max_tokens\":%d,\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":%d}}",
                 cases[i].max, cases[i].budget);
        b = cJSON_Parse(j);
        CHECK(A->fit(b, "claude-opus-4-1", 1) == cases[i].changes && budget(b) == cases[i].want);
        cJSON_Delete(b);
    }

    /* Anthropic → hub: structured output is the hub's JSON schema request
     * (output_config.format, or the beta's output_format); thinking blocks
     * in the history mean nothing to another provider and are left out */
    static const char *const formats[] = {"\"output_config\":{\"effort\":\"low\",\"format\":", "\"output_format\":"};
    for (size_t i = 0; i < 2; i++) {
        char j[600];
        snprintf(j, sizeof j, "{\"model\":\"c\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                              "%s{\"type\":\"json_schema\",\"schema\":{\"type\":\"object\",\"required\":[\"a\"]}}%s}",
                 formats[i], i ? "" : "}");
        cJSON *in = cJSON_Parse(j), *h = NULL;
        llf_terr e;
        CHECK(in && A->req_to_hub(in, NULL, &h, &e) == LLF_TR_OK);
        cJSON *want = cJSON_Parse("{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"response\","
                                  "\"schema\":{\"type\":\"object\",\"required\":[\"a\"]}}}");
        t_json_same(cJSON_GetObjectItem(h, "response_format"), want, formats[i]);
        cJSON_Delete(want);
        cJSON_Delete(in);
        cJSON_Delete(h);
    }
    {
        cJSON *in = cJSON_Parse("{\"model\":\"c\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"x\"},"
                                "{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"hmm\","
                                "\"signature\":\"EqQB\"},{\"type\":\"redacted_thinking\",\"data\":\"EmwK\"},"
                                "{\"type\":\"text\",\"text\":\"Let me look.\"},{\"type\":\"tool_use\",\"id\":\"toolu_1\","
                                "\"name\":\"f\",\"input\":{}}]},{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
                                "\"tool_use_id\":\"toolu_1\",\"content\":\"r\"}]}]}"), *h = NULL;
        llf_terr e;
        CHECK(in && A->req_to_hub(in, NULL, &h, &e) == LLF_TR_OK);
        cJSON *want = cJSON_Parse("[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"Let me look.\","
                                  "\"tool_calls\":[{\"id\":\"toolu_1\",\"type\":\"function\",\"function\":{\"name\":\"f\","
                                  "\"arguments\":\"{}\"}}]},{\"role\":\"tool\",\"tool_call_id\":\"toolu_1\",\"content\":\"r\"}]");
        t_json_same(cJSON_GetObjectItem(h, "messages"), want, "thinking blocks left out");
        cJSON_Delete(want);
        cJSON_Delete(in);
        cJSON_Delete(h);
    }

    /* what Anthropic cannot serve faithfully */
    CHECK(tr_code(A->req_from_hub, "c", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":2}", d, sizeof d) == LLF_TR_INCOMPATIBLE);
    CHECK(strstr(d, "n > 1") != NULL);
    CHECK(tr_code(A->req_from_hub, "c", "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\",\"input_audio\":{\"data\":\"AA\",\"format\":\"wav\"}}]}]}", d, sizeof d) == LLF_TR_INCOMPATIBLE);
    CHECK(tr_code(A->req_from_hub, "c", "{\"messages\":[{\"role\":\"assistant\",\"content\":\"hi\"},{\"role\":\"user\",\"content\":\"x\"}]}", d, sizeof d) == LLF_TR_INCOMPATIBLE);
    CHECK(tr_code(A->req_from_hub, "c", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"not json\"}}]}]}", d, sizeof d) == LLF_TR_INCOMPATIBLE);
    CHECK(tr_code(A->req_from_hub, "c", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"logprobs\":true}", d, sizeof d) == LLF_TR_INCOMPATIBLE);
    CHECK(tr_code(A->req_to_hub, NULL, "{\"model\":\"c\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"document\",\"source\":{}}]}]}", d, sizeof d) == LLF_TR_INCOMPATIBLE);
    CHECK(strstr(d, "document") != NULL);
    CHECK(tr_code(A->req_to_hub, NULL, "[1]", d, sizeof d) == LLF_TR_ERROR);
    /* a detail names what it refused, never the program's text */
    CHECK(tr_code(A->req_from_hub, "c", "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"my password is hunter2\",\"text\":\"x\"}]}]}", d, sizeof d) == LLF_TR_INCOMPATIBLE);
    CHECK(strstr(d, "hunter2") == NULL && strstr(d, "(not an API name)") != NULL);
    CHECK(tr_code(A->req_from_hub, "c", "{\"messages\":[{\"role\":\"secret role text\",\"content\":\"x\"}]}", d, sizeof d) == LLF_TR_INCOMPATIBLE);
    CHECK(strstr(d, "secret") == NULL);
    CHECK(strcmp(llf_terr_word("input_audio"), "input_audio") == 0 && strcmp(llf_terr_word("image/png"), "image/png") == 0);
    CHECK(strcmp(llf_terr_word(NULL), "?") == 0 && strcmp(llf_terr_word(""), "(not an API name)") == 0);
    CHECK(strcmp(llf_terr_word("AUDIO"), "AUDIO") == 0 && strcmp(llf_terr_word("audio/mp3"), "audio/mp3") == 0);
    /* a word shaped like a key (both cases and digits: Gemini's, Mistral's) is not shown */
    CHECK(strcmp(llf_terr_word("AIzaSyD3x4mpl3K3yW1thThirtyN1neChars0"), "(not an API name)") == 0);
    CHECK(strcmp(llf_terr_word("Ab3dEf6GhJ0kLmNoPqRsTuVwXyZ12345"), "(not an API name)") == 0);
    CHECK(strcmp(llf_terr_word("sk-3f9a2c4e8b1d4f6a9c0e2b4d6f8a1c3e"), "(not an API name)") == 0);   /* one case */

    /* stop reasons, both ways (a full context window cut the answer short) */
    static const char *const pairs[][3] = {{"end_turn", "stop", "end_turn"}, {"stop_sequence", "stop", "end_turn"},
                                           {"max_tokens", "length", "max_tokens"}, {"tool_use", "tool_calls", "tool_use"},
                                           {"refusal", "content_filter", "refusal"},
                                           {"model_context_window_exceeded", "length", "max_tokens"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        char json[256];
        snprintf(json, sizeof json, "{\"id\":\"msg_1\",\"model\":\"m\",\"content\":[{\"type\":\"text\",\"text\":\"t\"}],"
                                    "\"stop_reason\":\"%s\",\"usage\":{\"input_tokens\":1,\"output_tokens\":2}}", pairs[i][0]);
        cJSON *in = cJSON_Parse(json), *hub = NULL, *back = NULL;
        llf_terr e;
        CHECK(A->resp_to_hub(in, &hub, &e) == LLF_TR_OK);
        CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(hub, "choices"), 0), "finish_reason")->valuestring, pairs[i][1]);
        CHECK(A->resp_from_hub(hub, "m2", &back, &e) == LLF_TR_OK);
        CHECK_STR(cJSON_GetObjectItem(back, "stop_reason")->valuestring, pairs[i][2]);
        CHECK_STR(cJSON_GetObjectItem(back, "model")->valuestring, "m2");
        CHECK_STR(cJSON_GetObjectItem(back, "id")->valuestring, "msg_1");
        cJSON_Delete(in);
        cJSON_Delete(hub);
        cJSON_Delete(back);
    }
    /* OpenAI's refusal: its text, and stop_reason "refusal" unless cut short */
    static const char *const refusals[][2] = {{"stop", "refusal"}, {"length", "max_tokens"}};
    for (size_t i = 0; i < 2; i++) {
        char json[256];
        snprintf(json, sizeof json, "{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
                                    "\"assistant\",\"content\":null,\"refusal\":\"I can't help with that.\"},"
                                    "\"finish_reason\":\"%s\"}]}", refusals[i][0]);
        cJSON *in = cJSON_Parse(json), *back = NULL;
        llf_terr e;
        CHECK(A->resp_from_hub(in, "m2", &back, &e) == LLF_TR_OK);
        const cJSON *content = cJSON_GetObjectItem(back, "content");
        CHECK(cJSON_GetArraySize(content) == 1);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(content, 0), "text")),
                  "I can't help with that.");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(back, "stop_reason")), refusals[i][1]);
        cJSON_Delete(in);
        cJSON_Delete(back);
    }
    /* a hub tool-call answer becomes tool_use blocks with parsed input */
    cJSON *hub = t_fixture("anthropic/resp_tool.hub.json"), *back = NULL;
    llf_terr e;
    CHECK(hub && A->resp_from_hub(hub, "claude-x", &back, &e) == LLF_TR_OK);
    const cJSON *blk = cJSON_GetArrayItem(cJSON_GetObjectItem(back, "content"), 0);
    CHECK_STR(cJSON_GetObjectItem(blk, "type")->valuestring, "tool_use");
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(blk, "input"), "unit")->valuestring, "celsius");
    /* its cache reads as Anthropic's, apart from input_tokens (the answer it came from) */
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(back, "usage"), "input_tokens")->valueint == 472);
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(back, "usage"), "cache_read_input_tokens")->valueint == 8);
    cJSON_Delete(hub);
    cJSON_Delete(back);
    nulls_from_openai();
    tool_results_across();
    prefills();
    usage_details();
    allowed_tools();
    server_side_features();
    tool_ids();
    strict_tools();
    forced_calls();
    stop_sequences_named();
    empty_tool_ids();
    prefills_after_translation();
    blank_text();
    long_conversation();
    big_numbers();
}
