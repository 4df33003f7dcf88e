/* Planning: order, skips, and per-attempt limits. */
#include "engine.h"
#include "t.h"

void test_plan(void)
{
    char err[256];
    llf_config *c = NULL;
    t_clearenv();
    t_setenv("OPENAI_API_KEY", "sk-1");
    t_setenv("ANTHROPIC_API_KEY", "ak-1");
    t_setenv("GROQ_API_KEY", "gq-1");
    int rc = llf_config_load(NULL, 0, "t", "openai/gpt-4o,anthropic/claude-x,openai/gpt-4o-mini,groq/llama",
                             NULL, t_env, &c, err, sizeof err);
    CHECK(rc == 0);
    if (rc)
        return;
    llf_step s[LLF_MAX_STEPS];
    int openai = llf_config_provider(c, "openai");
    size_t n = llf_plan(c, openai, "gpt-4o", LLF_OPENAI, s, LLF_MAX_STEPS);
    /* original, then: gpt-4o again is dropped, anthropic (translated),
     * gpt-4o-mini, groq */
    CHECK(n == 4);
    CHECK(s[0].original && s[0].provider == openai && strcmp(s[0].model, "gpt-4o") == 0);
    CHECK(!s[1].original && strcmp(c->providers[s[1].provider].name, "anthropic") == 0);
    CHECK(s[1].skip == NULL);
    CHECK(s[0].context == 128000 && s[1].context == 200000);
    CHECK_STR(s[2].model, "gpt-4o-mini");
    CHECK(s[2].skip == NULL);
    CHECK_STR(c->providers[s[3].provider].name, "groq");
    CHECK(llf_plan(c, openai, "gpt-4o", LLF_OPENAI, s, 2) == 2);
    CHECK(llf_plan(c, openai, "gpt-4o", LLF_OPENAI, s, 0) == 0);
    /* a member named twice in the chain is asked once */
    llf_config *d = NULL;
    CHECK(llf_config_load(NULL, 0, "t", "groq/llama,anthropic/claude-x,groq/llama,groq/other", NULL, t_env, &d,
                          err, sizeof err) == 0);
    if (d) {
        CHECK(llf_plan(d, llf_config_provider(d, "openai"), "gpt-4o", LLF_OPENAI, s, LLF_MAX_STEPS) == 4);
        CHECK_STR(s[1].model, "llama");
        CHECK_STR(s[2].model, "claude-x");
        CHECK_STR(s[3].model, "other");
        llf_config_free(d);
    }

    /* Gemini's models/M is M, the model a call's URL names: the program's
     * own model is not asked again under the other name (tunedModels/M is
     * a name of its own, kept whole). */
    t_setenv("GEMINI_API_KEY", "g-1");
    d = NULL;
    CHECK(llf_config_load(NULL, 0, "t", "gemini/models/gemini-2.0-flash,gemini/tunedModels/t,groq/models/x",
                          NULL, t_env, &d, err, sizeof err) == 0);
    if (d) {
        int gem = llf_config_provider(d, "gemini");
        CHECK_STR(d->chain[0].model, "gemini-2.0-flash");
        CHECK_STR(d->chain[1].model, "tunedModels/t");
        CHECK_STR(d->chain[2].model, "models/x");   /* (another dialect's name, as written) */
        CHECK(llf_plan(d, gem, "gemini-2.0-flash", LLF_GEMINI, s, LLF_MAX_STEPS) == 3);
        CHECK_STR(s[1].model, "tunedModels/t");
        llf_config_free(d);
    }

    /* A chain entry's context window is the original's too when it names
     * the original's provider and model: the table's figure for it may be
     * wrong, and after the original's context failure every member no
     * larger than that figure is skipped. */
    static const char win[] = "{\"chain\": [{\"provider\": \"groq\", \"model\": \"llama-x\", \"context\": 8192},"
                              " \"anthropic/claude-x\"]}";
    d = NULL;
    CHECK(llf_config_load(win, sizeof win - 1, "t", NULL, NULL, t_env, &d, err, sizeof err) == 0);
    if (d) {
        CHECK(llf_plan(d, llf_config_provider(d, "groq"), "llama-x", LLF_OPENAI, s, LLF_MAX_STEPS) == 2);
        CHECK(s[0].original && s[0].context == 8192 && s[1].context == 200000);
        CHECK(llf_plan(d, llf_config_provider(d, "groq"), "gpt-4o", LLF_OPENAI, s, LLF_MAX_STEPS) == 3);
        CHECK(s[0].context == 128000 && s[1].context == 8192);   /* (another model: the table's) */
        llf_config_free(d);
    }

    /* An Anthropic caller: every member is planned, in chain order. */
    int anth = llf_config_provider(c, "anthropic");
    n = llf_plan(c, anth, "claude-y", LLF_ANTHROPIC, s, LLF_MAX_STEPS);
    CHECK(n == 5 && !s[1].skip && !s[2].skip && !s[3].skip && !s[4].skip);
    CHECK_STR(s[2].model, "claude-x");

    /* Limits: the config's, never longer than the program's own. */
    llf_attempt at;
    c->connect_ms = 3000;
    c->first_byte_ms = 30000;
    c->total_ms = 120000;
    llf_attempt_limits(c, 0, 0, &at);
    CHECK(at.connect_ms == 3000 && at.first_byte_ms == 30000 && at.total_ms == 120000);
    /* (a first-byte limit no shorter than the whole is none of its own: its
     * end is the whole attempt's, a "timeout") */
    llf_attempt_limits(c, 1000, 5000, &at);
    CHECK(at.connect_ms == 1000 && at.total_ms == 5000 && at.first_byte_ms == 0 && at.first_token_ms == 0);
    llf_attempt_limits(c, 1000, 30001, &at);
    CHECK(at.total_ms == 30001 && at.first_byte_ms == 30000 && at.first_token_ms == 30000);
    c->connect_ms = 0;
    llf_attempt_limits(c, 700, 0, &at);
    CHECK(at.connect_ms == 700);
    /* first_token unset is first_byte's; 0 is no first-token limit, as 0
     * is for the others (it had been taken for unset: first_byte's). */
    {
        static const char *const files[] = {"{\"timeouts_ms\":{\"first_byte\":1000}}",
                                            "{\"timeouts_ms\":{\"first_byte\":1000,\"first_token\":0}}",
                                            "{\"timeouts_ms\":{\"first_byte\":1000,\"first_token\":2000}}"};
        static const long want[] = {1000, 0, 2000};
        for (int i = 0; i < 3; i++) {
            llf_config *f = NULL;
            CHECK(llf_config_load(files[i], strlen(files[i]), "t", NULL, NULL, t_env, &f, err, sizeof err) == 0);
            if (!f)
                continue;
            llf_attempt_limits(f, 0, 0, &at);
            CHECK(at.first_byte_ms == 1000 && at.first_token_ms == want[i]);
            llf_attempt_limits(f, 0, 5000, &at);   /* (within the program's limit) */
            CHECK(at.first_byte_ms == 1000 && at.first_token_ms == want[i]);
            llf_config_free(f);
        }
    }
    /* The program's limit is on the whole call: each attempt has what is
     * left of it, and none starts without a few ms of it. */
    c->connect_ms = 3000;
    CHECK(llf_attempt_window(c, 0, 1500, 1500, &at) == 0 && at.total_ms == 1500 && at.connect_ms == 3000 &&
          at.first_byte_ms == 0);
    CHECK(llf_attempt_window(c, 0, 1500, 300.2, &at) == 0 && at.total_ms == 301 && at.first_byte_ms == 0);
    CHECK(llf_attempt_window(c, 0, 1500, 1499.9, &at) == 0 && at.total_ms == 1500);   /* (the original's, as set) */
    CHECK(llf_attempt_window(c, 0, 1500, LLF_MIN_ATTEMPT_MS - 1, &at) == -1);
    CHECK(llf_attempt_window(c, 0, 1500, -20, &at) == -1);
    CHECK(llf_attempt_window(c, 0, 0, 0, &at) == 0 && at.total_ms == 120000);   /* (no limit of the program's) */
    c->total_ms = 200;
    CHECK(llf_attempt_window(c, 0, 1500, 900, &at) == 0 && at.total_ms == 200);   /* ours is shorter */
    llf_config_free(c);
    t_clearenv();
}
