/* Shadow mode's pure parts: similarity, answer facts, sampling, the log line. */
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "shadow.h"
#include "t.h"

static int near(double a, double b)
{
    return a > b - 1e-6 && a < b + 1e-6;
}

void test_shadow(void)
{
    /* Similarity: cosine of word counts, case-folded, punctuation ignored. */
    CHECK(near(llf_similarity("The cat sat.", "the CAT sat"), 1.0));
    CHECK(near(llf_similarity("a b", "c d"), 0.0));
    CHECK(near(llf_similarity("", ""), 1.0));
    CHECK(near(llf_similarity("word", ""), 0.0));
    CHECK(near(llf_similarity("a b c", "a b d"), 2.0 / 3.0));
    CHECK(near(llf_similarity("a a b", "a b b"), 4.0 / 5.0));
    CHECK(near(llf_similarity("héllo wörld", "wörld héllo"), 1.0));
    CHECK(llf_similarity("héllo", "hello") < 0.5);
    CHECK(near(llf_similarity(NULL, NULL), 1.0));
    /* Long answers, past the words counted (200,000): two alike are alike,
     * each cut as the other (they shared one count, and the second was cut
     * short or, past its end, counted without bound) */
    {
        size_t words = 150000;
        char *l = malloc(words * 8 + 1);
        for (size_t i = 0; l && i < words; i++)
            snprintf(l + i * 8, 9, "w%06zu ", i);
        CHECK(l && near(llf_similarity(l, l), 1.0));
        free(l);
    }

    /* Facts from each dialect's answer. */
    char *text;
    long in, out;
    static const struct {
        llf_dialect d;
        const char *body, *text;
        long in, out;
    } facts[] = {
        {LLF_OPENAI,
         "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"Paris\"},"
         "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3}}",
         "Paris", 12, 3},
        {LLF_ANTHROPIC,
         "{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"text\","
         "\"text\":\"Lyon\"}],\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":7,"
         "\"output_tokens\":2}}",
         "Lyon", 7, 2},
        {LLF_GEMINI,
         "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Nice\"}]},"
         "\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":5,"
         "\"candidatesTokenCount\":1}}",
         "Nice", 5, 1},
    };
    for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++) {
        CHECK(llf_answer_facts(facts[i].d, facts[i].body, strlen(facts[i].body), &text, &in, &out) == 0);
        CHECK(text && strcmp(text, facts[i].text) == 0 && in == facts[i].in && out == facts[i].out);
        free(text);
    }
    const char *nousage = "{\"choices\":[{\"message\":{\"content\":\"x\"}}]}";
    CHECK(llf_answer_facts(LLF_OPENAI, nousage, strlen(nousage), &text, &in, &out) == 0);
    CHECK(in == -1 && out == -1);
    free(text);
    const char *tools = "{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[{\"id\":\"c1\","
                        "\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{}\"}}]}}]}";
    CHECK(llf_answer_facts(LLF_OPENAI, tools, strlen(tools), &text, &in, &out) == 0);
    CHECK(text && strstr(text, "get_weather") != NULL);
    free(text);
    /* The same calls from two providers compare as the same: each call's
     * name and arguments (parsed, printed with keys sorted), not its id,
     * random per answer (call_…, toolu_…), nor its type. */
    const char *oa = "{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[{\"id\":\"call_x7Gq2\","
                     "\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":"
                     "\"{\\\"city\\\": \\\"Paris\\\", \\\"units\\\": {\\\"t\\\": \\\"C\\\", \\\"w\\\": 1.0}}\"}}]}}]}";
    const char *an = "{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\","
                     "\"id\":\"toolu_01AbCd\",\"name\":\"get_weather\",\"input\":{\"units\":{\"w\":1,\"t\":\"C\"},"
                     "\"city\":\"Paris\"}}],\"stop_reason\":\"tool_use\",\"usage\":{\"input_tokens\":7,\"output_tokens\":2}}";
    char *ta = NULL, *tb = NULL;
    CHECK(llf_answer_facts(LLF_OPENAI, oa, strlen(oa), &ta, &in, &out) == 0);
    CHECK(llf_answer_facts(LLF_ANTHROPIC, an, strlen(an), &tb, &in, &out) == 0);
    CHECK(ta && tb && strcmp(ta, tb) == 0);
    CHECK_STR(ta, "get_weather({\"city\":\"Paris\",\"units\":{\"t\":\"C\",\"w\":1}})\n");
    CHECK(near(llf_similarity(ta, tb), 1.0));
    free(tb);
    const char *other = "{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[{\"id\":\"call_x7Gq2\","
                        "\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"arguments\":\"{\\\"city\\\":"
                        "\\\"Paris\\\"}\"}}]}}]}";
    CHECK(llf_answer_facts(LLF_OPENAI, other, strlen(other), &tb, &in, &out) == 0);
    CHECK(tb && llf_similarity(ta, tb) < 1.0);   /* another function */
    free(ta);
    free(tb);
    /* arguments that are no JSON compare as the text they are */
    const char *broken = "{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[{\"id\":\"c1\","
                         "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"city\\\": Par\"}}]}}]}";
    CHECK(llf_answer_facts(LLF_OPENAI, broken, strlen(broken), &text, &in, &out) == 0);
    CHECK_STR(text, "f({\"city\": Par)\n");
    free(text);
    /* ...and so do arguments with text after their JSON, not as that JSON */
    const char *trailing = "{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[{\"id\":\"c1\","
                           "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\": 1} junk\"}}]}}]}";
    CHECK(llf_answer_facts(LLF_OPENAI, trailing, strlen(trailing), &text, &in, &out) == 0);
    CHECK_STR(text, "f({\"a\": 1} junk)\n");
    free(text);
    CHECK(llf_answer_facts(LLF_OPENAI, "not json", 8, &text, &in, &out) == -1 && text == NULL);
    CHECK(llf_answer_facts(LLF_ANTHROPIC, facts[0].body, strlen(facts[0].body), &text, &in, &out) == -1);   /* an OpenAI answer */
    free(text);

    /* Sampling: exactly the share asked for, spread evenly. */
    double acc = 0;
    int picked = 0, first = -1;
    for (int i = 0; i < 100; i++)
        if (llf_shadow_pick(&acc, 0.25)) {
            picked++;
            if (first < 0)
                first = i;
        }
    CHECK(picked == 25 && first == 3);
    acc = 0;
    picked = 0;
    for (int i = 0; i < 50; i++)
        picked += llf_shadow_pick(&acc, 0);
    CHECK(picked == 0);
    acc = 0.5;
    for (int i = 0; i < 50; i++)
        picked += llf_shadow_pick(&acc, 1);
    CHECK(picked == 50);
    acc = 0;
    picked = 0;
    for (int i = 0; i < 1000; i++)
        picked += llf_shadow_pick(&acc, 0.1);
    CHECK(picked == 100);

    /* The log line: both sides, figures rounded, unknown ones left out. */
    llf_shadow_rec r = {"curl", 7, "anthropic", "claude-x", 200, "ok", "ok", 12.345, 10, 4,
                        "openai", "gpt-4o", 20.06, -1, 5, 0.83333};
    char *line = llf_log_shadow_format(&r, 1700000000.5, 42);
    cJSON *j = line ? cJSON_Parse(line) : NULL;
    CHECK(j != NULL);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "event")), "shadow");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "provider")), "anthropic");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "primary_model")), "gpt-4o");
    CHECK(cJSON_GetObjectItem(j, "ms") && near(cJSON_GetObjectItem(j, "ms")->valuedouble, 12.3));
    CHECK(cJSON_GetObjectItem(j, "primary_ms") && near(cJSON_GetObjectItem(j, "primary_ms")->valuedouble, 20.1));
    CHECK(cJSON_GetObjectItem(j, "similarity") &&
          near(cJSON_GetObjectItem(j, "similarity")->valuedouble, 0.833));
    CHECK(cJSON_GetObjectItem(j, "tokens_out") && cJSON_GetObjectItem(j, "tokens_out")->valuedouble == 4);
    CHECK(!cJSON_GetObjectItem(j, "primary_tokens_in") && cJSON_GetObjectItem(j, "primary_tokens_out"));
    cJSON_Delete(j);
    free(line);
    r.similarity = -1;
    line = llf_log_shadow_format(&r, 1700000000.5, 42);
    CHECK(line && !strstr(line, "similarity"));
    free(line);

    /* An attempt line names the override candidate's role. */
    llf_log_rec a = {"curl", 1, 1, "groq", "llama", 200, "ok", "ok", 1.0, NULL, "override"};
    line = llf_log_format(&a, 1700000000.5, 42);
    CHECK(line && strstr(line, "\"role\":\"override\""));
    free(line);
    a.role = NULL;
    line = llf_log_format(&a, 1700000000.5, 42);
    CHECK(line && !strstr(line, "role"));
    free(line);
}
