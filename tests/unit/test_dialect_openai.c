/* The OpenAI dialect's translators (the hub itself), context windows, and
 * context-exceeded verdicts. */
#include <stdlib.h>
#include <string.h>

#include "dialect.h"
#include "hubutil.h"
#include "models.h"
#include "verdict.h"
#include "t.h"
#include "tr.h"

static void models(void)
{
    CHECK(llf_model_context("gpt-4o-mini") == 128000);
    CHECK(llf_model_context("gpt-4") == 8192);
    CHECK(llf_model_context("gpt-4.1-mini") == 1047576);
    CHECK(llf_model_context("openai/gpt-4o") == 128000);
    CHECK(llf_model_context("claude-opus-4-7") == 200000);
    CHECK(llf_model_context("gemini-1.5-pro-002") == 2097152);
    CHECK(llf_model_context("meta-llama/Llama-3.3-70B-Instruct-Turbo") == 131072);
    CHECK(llf_model_context("my-private-model") == 0);
    CHECK(llf_model_context(NULL) == 0);
    /* Llama 3 before 3.1 has 8k; ChatGPT's models 128k (and 16k out);
     * Grok 4 Fast 2M */
    CHECK(llf_model_context("meta-llama/llama-3-8b-instruct") == 8192 &&
          llf_model_context("meta-llama/Llama-3-70b-chat-hf") == 8192 && llf_model_context("llama3-70b-8192") == 8192 &&
          llf_model_context("meta-llama/llama-3.1-8b-instruct") == 131072 && llf_model_context("llama3.1:8b") == 131072);
    CHECK(llf_model_context("gpt-5-chat-latest") == 128000 && llf_model_context("gpt-5.1-chat-latest") == 128000 &&
          llf_model_context("gpt-5.1") == 400000 && llf_model_max_output("gpt-5.1-chat-latest") == 16384 &&
          llf_model_max_output("gpt-5.1") == 128000);
    CHECK(llf_model_context("grok-4-fast-non-reasoning") == 2000000 && llf_model_context("grok-4-1-fast-reasoning") == 2000000 &&
          llf_model_context("x-ai/grok-4.1-fast") == 2000000 && llf_model_context("grok-4-0709") == 256000);
    CHECK(llf_model_max_output("gpt-4o-mini-2024-07-18") == 16384);
    CHECK(llf_model_max_output("gpt-4o-2024-05-13") == 4096);
    CHECK(llf_model_max_output("openai/o3-mini") == 100000);
    CHECK(llf_model_max_output("claude-opus-4-1") == 32000 && llf_model_max_output("claude-opus-4-5") == 64000);
    CHECK(llf_model_max_output("claude-3-5-haiku-latest") == 8192);
    CHECK(llf_model_max_output("gemini-2.5-flash") == 65536);
    CHECK(llf_model_max_output("my-private-model") == 0);
    /* OpenAI's 128k previews are not gpt-4 (8k); newer figures of Mistral
     * Small and DeepSeek; a router's dotted versions, and a fine-tune, are
     * their models' (-1: not checked) */
    static const struct {
        const char *model;
        long context, output;
    } fig[] = {{"gpt-4-0125-preview", 128000, 4096}, {"gpt-4-1106-preview", 128000, 4096},
               {"gpt-4-vision-preview", 128000, 4096}, {"gpt-4.5-preview", 128000, 16384},
               {"openai/gpt-4-turbo-preview", 128000, 4096}, {"gpt-4-0613", 8192, 8192},
               {"gpt-4.1-mini", 1047576, 32768}, {"o1-preview", 128000, 32768},
               {"mistral-small-latest", 131072, -1}, {"mistral-small-2501", 32768, -1},
               {"deepseek-chat", 128000, 8192}, {"deepseek-reasoner", 128000, 65536}, {"anthropic/claude-opus-4.6", 200000, 128000},
               {"anthropic/claude-opus-4.5", 200000, 64000}, {"anthropic/claude-3.5-sonnet", 200000, 8192},
               {"Anthropic/Claude-3.5-Haiku", 200000, 8192}, {"ft:gpt-4o-mini:org::id", 128000, 16384},
               {"ft:gpt-4o-mini-2024-07-18:org:x:id", 128000, 16384}, {"llama3.1:8b", 131072, -1},
               {"gemini-2.0-flash", 1048576, 8192}};
    for (size_t i = 0; i < sizeof fig / sizeof fig[0]; i++) {
        long c = llf_model_context(fig[i].model), o = llf_model_max_output(fig[i].model);
        int ok = c == fig[i].context && (fig[i].output < 0 || o == fig[i].output);
        if (!ok)
            fprintf(stderr, "%s: context %ld, output %ld\n", fig[i].model, c, o);
        CHECK(ok);
    }
    cJSON *hub = cJSON_Parse("{\"messages\":[{\"role\":\"user\",\"content\":\"0123456789012345678901234567890123456789\"}],\"max_tokens\":100}");
    long est = llf_estimate_tokens(hub, 0);
    CHECK(est > 100 && est < 140);
    /* output counted as a member is asked it: at most its model's most */
    CHECK(llf_estimate_tokens(hub, 30) == est - 70 && llf_estimate_tokens(hub, 500) == est);
    CHECK(llf_estimate_input(hub) + llf_estimate_output(hub, 30) == est - 70);
    CHECK(!llf_estimate_within(hub, "{}", 2, 101, 0) && llf_estimate_within(hub, "{}", 2, 101, 30));
    cJSON_Delete(hub);
    /* The shortcut without printing never passes a window the estimate
     * exceeds: for text that prints longer than written (numbers with
     * exponents), and for plain text; and it passes a plain request at its
     * own size. Raw control bytes, which cJSON would print as \u00XX, 6
     * bytes for 1, are not JSON, and our copy of cJSON refuses them. */
    char raw[4200];
    int rn = snprintf(raw, sizeof raw, "{\"messages\":[{\"role\":\"user\",\"content\":\"");
    memset(raw + rn, 1, 4000);
    snprintf(raw + rn + 4000, sizeof raw - (size_t)rn - 4000, "\"}]}");
    CHECK(cJSON_Parse(raw) == NULL);
    const char *const texts[] = {
        "{\"messages\":[1e14,1e14,1e14,1e14,1e14,1e14,1e14,1e14],\"tools\":[9e13,1e-7,-1e14],\"max_tokens\":7}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"\\u00e9\\/ \\n x\"}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_completion_tokens\":5e3}"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        size_t n = strlen(texts[i]);
        cJSON *t = cJSON_Parse(texts[i]);
        long e = t ? llf_estimate_tokens(t, 0) : 0;
        CHECK(t && !llf_estimate_within(t, texts[i], n, e - 1, 0));
        CHECK(t && llf_estimate_within(t, texts[i], n, (long)n + (i == 2 ? 5000 : 7), 0));
        cJSON_Delete(t);
    }

    static const char *const bodies[] = {
        "{\"error\":{\"message\":\"This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.\",\"type\":\"invalid_request_error\",\"param\":\"messages\",\"code\":\"context_length_exceeded\"}}",
        "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"prompt is too long: 210000 tokens > 200000 maximum\"}}",
        "{\"error\":{\"code\":400,\"message\":\"The input token count (3000000) exceeds the maximum number of tokens allowed (2097152).\",\"status\":\"INVALID_ARGUMENT\"}}",
    };
    for (size_t i = 0; i < 3; i++) {
        llf_resp r;
        memset(&r, 0, sizeof r);
        r.status = 400;
        llf_buf_adds(&r.head, "HTTP/1.1 400 Bad Request\r\n\r\n");
        llf_buf_adds(&r.body, bodies[i]);
        llf_verdict v = llf_judge((llf_dialect)i, "m", 0, &r, 0);
        CHECK(v.fallback && strcmp(v.reason, "context") == 0);
        llf_resp_free(&r);
    }
}

/* An image counts a fixed 1,600 tokens, whatever its URL's size; the rest of
 * the messages their printed bytes / 4. The pieces of the messages around
 * each URL are written as cJSON prints them, so the rest is their length;
 * every request asks for 300 tokens of output. */
/* out = prefix, then n bytes of raw in base64. */
static void b64_into(char *out, const char *prefix, const unsigned char *raw, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *w = out + sprintf(out, "%s", prefix);
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)raw[i] << 16 | (i + 1 < n ? (unsigned)raw[i + 1] << 8 : 0) | (i + 2 < n ? raw[i + 2] : 0);
        *w++ = a[v >> 18 & 63];
        *w++ = a[v >> 12 & 63];
        *w++ = i + 1 < n ? a[v >> 6 & 63] : '=';
        *w++ = i + 2 < n ? a[v & 63] : '=';
    }
    *w = 0;
}

static long with_urls(const char *const *piece, size_t n, const char *url, long *rest)
{
    static const char head[] = "{\"messages\":", tail[] = ",\"max_tokens\":300}";
    size_t len = sizeof head + sizeof tail;
    *rest = 0;
    for (size_t i = 0; i < n; i++)
        len += strlen(piece[i]) + (i + 1 < n ? strlen(url) + 2 : 0);
    char *text = malloc(len), *w = text;
    if (text)
        w += sprintf(w, "%s", head);
    for (size_t i = 0; text && i < n; i++) {
        w += sprintf(w, i + 1 < n ? "%s\"%s\"" : "%s", piece[i], url);
        *rest += (long)strlen(piece[i]);
    }
    if (text)
        w += sprintf(w, "%s", tail);
    cJSON *hub = text ? cJSON_Parse(text) : NULL;
    long e = hub ? llf_estimate_tokens(hub, 0) : -1;
    /* and the bound without printing never passes a window the estimate
     * exceeds, however small the URLs */
    CHECK(hub && !llf_estimate_within(hub, text, (size_t)(w - text), e - 1, 0));
    cJSON_Delete(hub);
    free(text);
    return e;
}

static void image_estimates(void)
{
    static const char *const one[] = {
        "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is this?\"},"
        "{\"type\":\"image_url\",\"image_url\":{\"url\":",
        "}}]}]"};
    static const char *const two[] = {"[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":",
                                      "}},{\"type\":\"image_url\",\"image_url\":{\"url\":", "}}]}]"};
    static const char *const audio[] = {
        "[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\",\"input_audio\":{\"format\":\"wav\",\"data\":",
        "}}]}]"};
    size_t big = 800 * 1024;
    char *data = malloc(big + 1);
    CHECK(data != NULL);
    if (!data)
        return;
    memset(data, 'Q', big);
    memcpy(data, "data:image/png;base64,", 22);
    data[big] = 0;
    long rest, e;
    /* an 800 KB data URL: 1,600 tokens, not 200k; so does an http URL */
    e = with_urls(one, 2, data, &rest);
    CHECK(e == rest / 4 + 1600 + 300 && e < 2000);
    e = with_urls(one, 2, "https://example.com/cat.png", &rest);
    CHECK(e == rest / 4 + 1600 + 300);
    /* two images, twice */
    e = with_urls(two, 3, data, &rest);
    CHECK(e == rest / 4 + 3200 + 300);
    e = with_urls(two, 3, "http://x/a.png", &rest);
    CHECK(e == rest / 4 + 3200 + 300);
    /* audio costs by its seconds: its bytes (and quotes) still count */
    e = with_urls(audio, 2, data + 22, &rest);
    CHECK(e == (rest + (long)big - 22 + 2) / 4 + 300);
    /* a PDF whose page objects can be read counts 4,600 tokens a page,
     * its URL nothing (three pages, in each way a writer puts the type,
     * the page tree not one, a window's end anywhere in them); one whose
     * pages are compressed away counts its bytes */
    static const char *const pdf[] = {
        "[{\"role\":\"user\",\"content\":[{\"type\":\"file\",\"file\":{\"filename\":\"a.pdf\",\"file_data\":",
        "}}]}]"};
    static const char objs[] = "1 0 obj<</Type /Pages /Kids[2 0 R 3 0 R 4 0 R]/Count 3>>endobj\n"
                               "2 0 obj<</Type /Page/Parent 1 0 R>>endobj\n3 0 obj<</Type/Page /Parent 1 0 R>>endobj\n"
                               "4 0 obj<</Type\r\n/Page>>endobj\n5 0 obj<</Type /PageLabel>>endobj\n";
    for (size_t pad = 0; pad < 5000; pad += 997) {   /* (where the windows of 4096 bytes end) */
        size_t plen = 9 + pad + sizeof objs - 1 + 200000;
        unsigned char *raw = malloc(plen);
        char *url = malloc(29 + (plen + 2) / 3 * 4 + 1);
        if (!raw || !url) {
            free(raw);
            free(url);
            break;
        }
        memcpy(raw, "%PDF-1.4\n", 9);
        memset(raw + 9, 'x', pad);
        memcpy(raw + 9 + pad, objs, sizeof objs - 1);
        memset(raw + 9 + pad + sizeof objs - 1, 'y', 200000);   /* (a scanned page's bytes) */
        b64_into(url, "data:application/pdf;base64,", raw, plen);
        e = with_urls(pdf, 2, url, &rest);
        CHECK(e == rest / 4 + 3 * 4600 + 300);
        for (size_t k = 9 + pad; k + 5 < 9 + pad + sizeof objs; k++)
            if (!memcmp(raw + k, "/Type", 5))
                raw[k + 1] = 'X';   /* (no page objects: as if compressed away) */
        b64_into(url, "data:application/pdf;base64,", raw, plen);
        e = with_urls(pdf, 2, url, &rest);
        CHECK(e > (long)plen / 3 && e == (rest + (long)strlen(url) + 2) / 4 + 300);
        free(raw);
        free(url);
    }
    /* the hub dialect's bound takes the image request into a 128k window
     * without printing it */
    char *text = malloc(big + 200);
    if (text) {
        int n = sprintf(text, "{\"messages\":%s\"%s\"%s}", one[0], data, one[1]);
        cJSON *hub = cJSON_Parse(text);
        CHECK(hub && llf_estimate_within(hub, text, (size_t)n, 128000, 0));
        cJSON_Delete(hub);
    }
    free(text);
    free(data);
}

/* A reasoning model's answer cut at the stop sequences it could not be
 * sent, naming the one it stopped at as vLLM does (stop_reason). */
static void stops(const llf_dialect_ops *o)
{
    static const struct {
        const char *hub, *model, *answer, *want;   /* want NULL: unchanged */
    } cases[] = {
        {"{\"stop\":[\"there\",\"END\"]}", "o3",
         "{\"choices\":[{\"index\":0,\"message\":{\"content\":\"Hello END there\"},\"finish_reason\":\"length\"}]}",
         "{\"choices\":[{\"index\":0,\"message\":{\"content\":\"Hello \"},\"finish_reason\":\"stop\","
         "\"stop_reason\":\"END\"}]}"},
        {"{\"stop\":\"lo\"}", "openai/gpt-5-mini", "{\"choices\":[{\"message\":{\"content\":\"Hello\"}}]}",
         "{\"choices\":[{\"message\":{\"content\":\"Hel\"},\"finish_reason\":\"stop\",\"stop_reason\":\"lo\"}]}"},
        /* the calls made after the text it stopped at go with it */
        {"{\"stop\":[\"END\"]}", "o3",
         "{\"choices\":[{\"message\":{\"content\":\"Done END then\",\"tool_calls\":[{\"id\":\"c1\",\"type\":"
         "\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}]}",
         "{\"choices\":[{\"message\":{\"content\":\"Done \"},\"finish_reason\":\"stop\",\"stop_reason\":\"END\"}]}"},
        /* models that take stop, answers without it, streams, tool calls, no stop */
        {"{\"stop\":[\"lo\"]}", "gpt-4o", "{\"choices\":[{\"message\":{\"content\":\"Hello\"}}]}", NULL},
        {"{\"stop\":[\"zz\", \"\"]}", "o3", "{\"choices\":[{\"message\":{\"content\":\"Hello\"}}]}", NULL},
        {"{\"stop\":[\"lo\"],\"stream\":true}", "o3", "{\"choices\":[{\"message\":{\"content\":\"Hello\"}}]}", NULL},
        {"{\"stop\":[\"lo\"]}", "o3", "{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[]}}]}", NULL},
        {"{}", "o3", "{\"choices\":[{\"message\":{\"content\":\"Hello\"}}]}", NULL},
        {"{\"stop\":[\"lo\"]}", "o3", "not json", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *hub = cJSON_Parse(cases[i].hub);
        llf_buf body = {0};
        llf_buf_adds(&body, cases[i].answer);
        int rc = o->stop_at(cases[i].model, hub, &body);
        CHECK(rc == (cases[i].want != NULL));
        CHECK_STR(body.p, cases[i].want ? cases[i].want : cases[i].answer);
        llf_buf_free(&body);
        cJSON_Delete(hub);
    }
}

/* An answer's content as an array of chunks (Mistral's Magistral) is its
 * text in the hub, thinking left out, and so reaches a program of another
 * dialect; only thinking is no text. */
static void content_chunks(const llf_dialect_ops *o)
{
    cJSON *resp = cJSON_Parse("{\"id\":\"c\",\"object\":\"chat.completion\",\"model\":\"magistral-medium-2509\","
                              "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":["
                              "{\"type\":\"thinking\",\"thinking\":[{\"type\":\"text\",\"text\":\"Let me add.\"}]},"
                              "{\"type\":\"text\",\"text\":\"2 + 2 \"},{\"type\":\"text\",\"text\":\"= 4.\"}]},"
                              "\"finish_reason\":\"stop\"},{\"index\":1,\"message\":{\"role\":\"assistant\",\"content\":["
                              "{\"type\":\"thinking\",\"thinking\":[{\"type\":\"text\",\"text\":\"Hmm.\"}]}]},"
                              "\"finish_reason\":\"stop\"}]}");
    cJSON *before = cJSON_Duplicate(resp, 1), *hub = NULL, *out = NULL;
    llf_terr e;
    CHECK(o->resp_to_hub(resp, &hub, &e) == LLF_TR_OK);
    CHECK(cJSON_Compare(resp, before, 1));   /* (its input untouched) */
    const cJSON *c0 = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(hub, "choices"), 0), "message"), "content");
    const cJSON *c1 = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(hub, "choices"), 1), "message"), "content");
    CHECK(cJSON_IsString(c0) && strcmp(c0->valuestring, "2 + 2 = 4.") == 0);
    CHECK(cJSON_IsNull(c1));
    CHECK(llf_dialect_anthropic.resp_from_hub(hub, "m", &out, &e) == LLF_TR_OK);
    const cJSON *block = cJSON_GetArrayItem(cJSON_GetObjectItem(out, "content"), 0);
    CHECK(block && strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(block, "text")), "2 + 2 = 4.") == 0);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(out, "content")) == 1);
    cJSON_Delete(out);
    cJSON_Delete(hub);
    cJSON_Delete(before);
    cJSON_Delete(resp);
}

/* Is each message's text free of "json", or does one say it? */
static int any_json(const cJSON *body)
{
    char *s = cJSON_PrintUnformatted(cJSON_GetObjectItem(body, "messages"));
    int yes = s && strcasestr(s, "json");
    free(s);
    return yes;
}

static cJSON *json_mode_across(const void *arg)
{
    return tr_across(LLF_GEMINI, LLF_OPENAI, arg, "gpt-4o", NULL, NULL, 0);
}

/* A Gemini program's JSON mode without a schema is response_format
 * json_object, which OpenAI takes only when a message says "json" (else
 * 400): the member is told, in the system message there is or in one of
 * its own, first; a conversation that says it already goes as it is. */
static void json_object_said(void)
{
    static const char *const gcs[] = {
        "\"generationConfig\":{\"responseMimeType\":\"application/json\"}",
        "\"generationConfig\":{\"responseMimeType\":\"application/json\",\"responseSchema\":null}",
        "\"generationConfig\":{\"response_mime_type\":\"application/json\"},\"systemInstruction\":{\"parts\":"
        "[{\"text\":\"Be brief.\"}]}",
        "\"generationConfig\":{\"responseMimeType\":\"application/json\"},\"systemInstruction\":{\"parts\":"
        "[{\"text\":\"Be brief.\"},{\"text\":\"Use French.\"}]}",
        "\"generationConfig\":{\"responseMimeType\":\"application/json\"},\"systemInstruction\":{\"parts\":"
        "[{\"text\":\"Answer in Json.\"}]}",
        "\"generationConfig\":{\"responseMimeType\":\"application/json\",\"responseSchema\":{\"type\":\"OBJECT\"}}",
        "\"generationConfig\":{\"responseMimeType\":\"text/plain\"}",
    };
    /* the first message's role and text, the number of messages */
    static const struct {
        const char *role, *text;
        int n;
    } want[] = {
        {"system", "Respond with a single JSON object and nothing else.", 2},
        {"system", "Respond with a single JSON object and nothing else.", 2},
        {"system", "Respond with a single JSON object and nothing else.\n\nBe brief.", 2},
        {"system", "Respond with a single JSON object and nothing else.\n\nBe brief.\nUse French.", 2},
        {"system", "Answer in Json.", 2},
        {"user", "List three colors.", 1},
        {"user", "List three colors.", 1},
    };
    for (size_t i = 0; i < sizeof gcs / sizeof gcs[0]; i++) {
        char req[400];
        snprintf(req, sizeof req, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"List three colors.\"}]}],%s}",
                 gcs[i]);
        int rc;
        char d[160];
        cJSON *o = tr_across(LLF_GEMINI, LLF_OPENAI, req, "gpt-4o", &rc, d, sizeof d);
        const cJSON *msgs = cJSON_GetObjectItem(o, "messages"), *first = cJSON_GetArrayItem(msgs, 0);
        char *text = llf_content_text(cJSON_GetObjectItem(first, "content"), "\n");
        CHECK(rc == LLF_TR_OK && cJSON_GetArraySize(msgs) == want[i].n);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(first, "role")), want[i].role);
        CHECK_STR(text, want[i].text);
        CHECK(i >= 5 || any_json(o));
        free(text);
        cJSON_Delete(o);
        if (i == 2)
            t_oom_sweep(json_mode_across, req, "json_object said");
    }
    /* a developer message first (as o-series models are given the
     * system's) is the one told; an OpenAI program's own body never comes
     * here, it goes to an OpenAI member as it was sent */
    cJSON *hub = cJSON_Parse("{\"messages\":[{\"role\":\"developer\",\"content\":\"Be brief.\"},{\"role\":\"user\","
                             "\"content\":\"x\"}],\"response_format\":{\"type\":\"json_object\"}}"),
          *out = NULL;
    llf_terr e = {{0}};
    CHECK(llf_dialect_openai.req_from_hub(hub, "o3", &out, &e) == LLF_TR_OK);
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(out, "messages"), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(first, "role")), "developer");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(first, "content")),
              "Respond with a single JSON object and nothing else.\n\nBe brief.");
    cJSON_Delete(out);
    cJSON_Delete(hub);
}

void test_dialect_openai(void)
{
    const llf_dialect_ops *o = llf_dialect_ops_of(LLF_OPENAI);
    llf_terr e;
    cJSON *req = cJSON_Parse("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"seed\":7}");
    cJSON *before = cJSON_Duplicate(req, 1);
    cJSON *hub = NULL, *out = NULL;
    CHECK(o->req_to_hub(req, NULL, &hub, &e) == LLF_TR_OK);
    t_json_same(hub, req, "openai → hub is the request itself");
    CHECK(o->req_from_hub(hub, "gpt-4o-mini", &out, &e) == LLF_TR_OK);
    CHECK_STR(cJSON_GetObjectItem(out, "model")->valuestring, "gpt-4o-mini");
    CHECK(cJSON_GetObjectItem(out, "seed")->valueint == 7);
    t_json_same(req, before, "input unmodified");
    cJSON_Delete(hub);
    cJSON_Delete(out);
    hub = out = NULL;
    CHECK(o->req_to_hub(cJSON_GetObjectItem(req, "model"), NULL, &hub, &e) == LLF_TR_ERROR);
    /* The hub's marks are the translators' own: a program's fields so named
     * are not taken for them (a refusal would skip every other dialect's
     * member, its text logged as the detail; an is_error would reach
     * Claude), and go to no member of another dialect. */
    cJSON *marked = cJSON_Parse("{\"model\":\"gpt-4o\",\"llf:refused\":\"my secret prompt\",\"llf:other\":1,"
                                "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},"
                                "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
                                "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
                                "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"42\",\"llf:is_error\":true}]}");
    CHECK(marked && o->req_to_hub(marked, NULL, &hub, &e) == LLF_TR_OK);
    CHECK(hub && !llf_hub_refused(hub) && !cJSON_GetObjectItem(hub, "llf:other"));
    const cJSON *tool = hub ? cJSON_GetArrayItem(cJSON_GetObjectItem(hub, "messages"), 2) : NULL;
    CHECK(tool && !cJSON_GetObjectItem(tool, LLF_HUB_TOOL_ERROR) && cJSON_GetObjectItem(tool, "content"));
    cJSON *claude = NULL;
    CHECK(hub && llf_dialect_ops_of(LLF_ANTHROPIC)->req_from_hub(hub, "claude-haiku-4-5", &claude, &e) == LLF_TR_OK);
    char *sent = claude ? cJSON_PrintUnformatted(claude) : NULL;
    CHECK(sent && !strstr(sent, "is_error") && !strstr(sent, "llf:") && !strstr(sent, "secret"));
    free(sent);
    cJSON_Delete(claude);
    cJSON_Delete(hub);
    cJSON_Delete(marked);
    hub = NULL;
    /* A translated output limit: lowered to the model's, and named
     * max_completion_tokens for the reasoning models, which refuse max_tokens
     * and any sampling setting; for them raised by the room their reasoning
     * takes (25000: max_tokens limited the answer of a model that does not
     * reason), then lowered to the model's (o1-preview's 32768). */
    static const struct {
        const char *model, *field;
        int tokens;
        int sampling;   /* temperature and top_p kept */
    } limits[] = {{"gpt-4o-mini", "max_tokens", 16384, 1}, {"o3", "max_completion_tokens", 57000, 0},
                  {"openai/gpt-5-mini", "max_completion_tokens", 57000, 0}, {"o1-preview", "max_completion_tokens", 32768, 0}, {"my-model", "max_tokens", 32000, 1}};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        hub = cJSON_Parse("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":32000,"
                          "\"temperature\":0.2,\"top_p\":0.5}");
        CHECK(o->req_from_hub(hub, limits[i].model, &out, &e) == LLF_TR_OK);
        const cJSON *mt = cJSON_GetObjectItem(out, limits[i].field);
        CHECK(mt && mt->valueint == limits[i].tokens && cJSON_GetArraySize(out) == 3 + 2 * limits[i].sampling);
        cJSON_Delete(hub);
        cJSON_Delete(out);
    }
    /* Models not OpenAI's get max_tokens for max_completion_tokens and no
     * store (Mistral refuses both); Mistral's, whatever serves them,
     * random_seed for seed and none of what else its API refuses (422
     * extra_forbidden): stream_options, user, safety_identifier,
     * service_tier, logit_bias, verbosity; what it takes stays. A fine-tune
     * is of its base's family. */
    static const struct {
        const char *model, *body, *after;
        int changes;
    } fam[] = {
        {"mistral-large-latest",
         "{\"max_completion_tokens\":300,\"store\":true,\"seed\":1,\"stream\":true,\"stream_options\":"
         "{\"include_usage\":true},\"user\":\"u1\",\"safety_identifier\":\"s1\",\"service_tier\":\"auto\","
         "\"logit_bias\":{\"50256\":-100},\"verbosity\":\"low\",\"presence_penalty\":0.1,\"frequency_penalty\":0.2,"
         "\"n\":2,\"logprobs\":true,\"reasoning_effort\":\"high\",\"parallel_tool_calls\":false,\"metadata\":{\"a\":\"b\"},"
         "\"prompt_cache_key\":\"k\",\"prediction\":{\"type\":\"content\",\"content\":\"x\"}}",
         "{\"max_tokens\":300,\"random_seed\":1,\"stream\":true,\"presence_penalty\":0.1,\"frequency_penalty\":0.2,"
         "\"n\":2,\"logprobs\":true,\"reasoning_effort\":\"high\",\"parallel_tool_calls\":false,\"metadata\":{\"a\":\"b\"},"
         "\"prompt_cache_key\":\"k\",\"prediction\":{\"type\":\"content\",\"content\":\"x\"}}", 9},
        {"mistralai/mistral-small", "{\"max_tokens\":100,\"max_completion_tokens\":300}", "{\"max_tokens\":100}", 1},
        {"labs-devstral-small-2512", "{\"seed\":1,\"random_seed\":2}", "{\"random_seed\":2}", 1},
        {"mistralai/Mixtral-8x7B-Instruct-v0.1", "{\"stream_options\":{\"include_usage\":true}}", "{}", 1},
        {"open-mistral-nemo", "{\"user\":\"u1\"}", "{}", 1},
        {"ft:open-mistral-7b:587a6b29:20240514:7e773925", "{\"seed\":3}", "{\"random_seed\":3}", 1},
        {"magistral-medium-latest", "{\"seed\":3}", "{\"random_seed\":3}", 1},
        {"deepseek-chat", "{\"max_tokens\":100}", "{\"max_tokens\":100}", 0},
        {"deepseek-chat", "{\"seed\":1,\"user\":\"u1\",\"stream_options\":{\"include_usage\":true}}",
         "{\"seed\":1,\"user\":\"u1\",\"stream_options\":{\"include_usage\":true}}", 0},
        {"gpt-4o-mini", "{\"seed\":1,\"user\":\"u1\",\"logit_bias\":{\"1\":2},\"stream_options\":{\"include_usage\":true}}",
         "{\"seed\":1,\"user\":\"u1\",\"logit_bias\":{\"1\":2},\"stream_options\":{\"include_usage\":true}}", 0},
        {"gpt-4o-mini", "{\"max_completion_tokens\":300,\"store\":true}", "{\"max_completion_tokens\":300,\"store\":true}", 0},
        {"ft:gpt-4o-mini-2024-07-18:org::abc", "{\"max_completion_tokens\":300,\"store\":true}",
         "{\"max_completion_tokens\":300,\"store\":true}", 0},
        {"ft:o4-mini-2025-04-16:org::abc", "{\"max_tokens\":300,\"store\":true}",
         "{\"max_completion_tokens\":25300,\"store\":true}", 1},
        {"o3", "{\"max_completion_tokens\":300}", "{\"max_completion_tokens\":300}", 0},
        {"o3-made-here", "{\"max_tokens\":300}", "{\"max_completion_tokens\":25300}", 1},
        {"o4-preview-x", "{\"max_tokens\":300}", "{\"max_completion_tokens\":300}", 1},
        /* the messages: a developer message is a system one but for
         * OpenAI's own models; DeepSeek's content a string; a tool call id
         * over OpenAI's 40 characters (vLLM's) shortened alike in the call
         * and its result */
        {"deepseek-chat", "{\"messages\":[{\"role\":\"developer\",\"content\":\"Be brief.\"},{\"role\":\"user\","
                          "\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]}]}",
         "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"a\\nb\"}]}", 2},
        {"llama-3.3-70b-versatile", "{\"messages\":[{\"role\":\"developer\",\"content\":\"Be brief.\"},{\"role\":\"user\","
                                    "\"content\":[{\"type\":\"text\",\"text\":\"a\"}]}]}",
         "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":"
         "[{\"type\":\"text\",\"text\":\"a\"}]}]}", 1},
        {"gpt-4o", "{\"messages\":[{\"role\":\"developer\",\"content\":\"Be brief.\"},{\"role\":\"assistant\","
                   "\"tool_calls\":[{\"id\":\"chatcmpl-tool-0123456789abcdef0123456789abcdef\",\"type\":\"function\","
                   "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}},{\"id\":\"call_2\",\"type\":\"function\","
                   "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},{\"role\":\"tool\",\"tool_call_id\":"
                   "\"chatcmpl-tool-0123456789abcdef0123456789abcdef\",\"content\":\"1\"},{\"role\":\"tool\","
                   "\"tool_call_id\":\"call_2\",\"content\":\"2\"}]}",
         "{\"messages\":[{\"role\":\"developer\",\"content\":\"Be brief.\"},{\"role\":\"assistant\","
         "\"tool_calls\":[{\"id\":\"call_7059c8a482880eebdfca9c56df394ec3\",\"type\":\"function\","
         "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}},{\"id\":\"call_2\",\"type\":\"function\","
         "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},{\"role\":\"tool\",\"tool_call_id\":"
         "\"call_7059c8a482880eebdfca9c56df394ec3\",\"content\":\"1\"},{\"role\":\"tool\","
         "\"tool_call_id\":\"call_2\",\"content\":\"2\"}]}", 2},
    };
    for (size_t i = 0; i < sizeof fam / sizeof fam[0]; i++) {
        cJSON *b = cJSON_Parse(fam[i].body), *want = cJSON_Parse(fam[i].after);
        int changes = o->fit(b, fam[i].model, 0);
        CHECK(changes == fam[i].changes && o->fit(b, fam[i].model, 1) == changes && o->fit(b, fam[i].model, 0) == 0);
        t_json_same(b, want, fam[i].model);
        cJSON_Delete(b);
        cJSON_Delete(want);
    }
    /* a Mistral model takes tool call ids of 9 letters and digits alone:
     * any other is sent as the first 9 hex digits of its hash, alike in
     * the call and its result; one of that form stays */
    {
        cJSON *b = cJSON_Parse("{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"call_0fypS1hVX\","
                               "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}},{\"id\":"
                               "\"aB3xK9mP2\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
                               "{\"role\":\"tool\",\"tool_call_id\":\"call_0fypS1hVX\",\"content\":\"1\"},{\"role\":"
                               "\"tool\",\"tool_call_id\":\"aB3xK9mP2\",\"content\":\"2\"}]}");
        char h[33], want[10];
        llf_short_hash("call_0fypS1hVX", h);
        snprintf(want, sizeof want, "%.9s", h);
        CHECK(o->fit(b, "devstral-small-2507", 0) == 2 && o->fit(b, "devstral-small-2507", 1) == 2 &&
              o->fit(b, "devstral-small-2507", 0) == 0 && o->fit(b, "gpt-4o", 0) == 0);
        const cJSON *msgs = cJSON_GetObjectItem(b, "messages");
        const cJSON *calls = cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "tool_calls");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(calls, 0), "id")), want);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 1), "tool_call_id")), want);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(calls, 1), "id")), "aB3xK9mP2");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 2), "tool_call_id")), "aB3xK9mP2");
        cJSON_Delete(b);
    }
    /* translated for a Mistral member: an Anthropic program's
     * metadata.user_id (the hub's user) and a Gemini program's seed */
    hub = cJSON_Parse("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"user\":\"u1\",\"seed\":5}");
    CHECK(o->req_from_hub(hub, "mistral-small-latest", &out, &e) == LLF_TR_OK);
    CHECK(out && !cJSON_GetObjectItem(out, "user") && !cJSON_GetObjectItem(out, "seed") &&
          cJSON_GetObjectItem(out, "random_seed") && cJSON_GetObjectItem(out, "random_seed")->valueint == 5);
    cJSON_Delete(hub);
    cJSON_Delete(out);
    hub = out = NULL;
    cJSON *resp = cJSON_Parse("{\"id\":\"x\",\"object\":\"chat.completion\",\"model\":\"m\",\"choices\":[]}");
    CHECK(o->resp_to_hub(resp, &hub, &e) == LLF_TR_OK);
    CHECK(o->resp_from_hub(hub, "reported", &out, &e) == LLF_TR_OK);
    CHECK_STR(cJSON_GetObjectItem(out, "model")->valuestring, "reported");
    CHECK(o->resp_to_hub(req, &resp, &e) == LLF_TR_ERROR);   /* not a completion */
    cJSON_Delete(hub);
    cJSON_Delete(out);
    cJSON_Delete(resp);
    cJSON_Delete(req);
    cJSON_Delete(before);
    content_chunks(o);
    json_object_said();
    stops(o);
    models();
    image_estimates();
}
