/* Config: defaults, the file, LLMFALLBACK_CHAIN, keys, and one-line errors. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "config.h"
#include "core.h"
#include "t.h"

static char err[512];

static llf_config *load(const char *json, const char *chain, const char *log)
{
    llf_config *c = NULL;
    err[0] = '\0';
    llf_config_load(json, json ? strlen(json) : 0, "cfg.json", chain, log, t_env, &c, err,
                    sizeof err);
    return c;
}

static int fails_with(const char *json, const char *chain, const char *needle)
{
    llf_config *c = load(json, chain, NULL);
    int ok = !c && strstr(err, needle) != NULL && !strchr(err, '\n');
    if (!ok)
        fprintf(stderr, "  (got \"%s\")\n", err);
    llf_config_free(c);
    return ok;
}

static const char *chain_str(const llf_config *c, size_t i, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", c->providers[c->chain[i].provider].name, c->chain[i].model);
    return buf;
}

void test_config(void)
{
    char b[256];
    t_clearenv();
    /* Nothing at all: defaults, no chain (no keys set). */
    llf_config *c = load(NULL, NULL, NULL);
    CHECK(c && c->nchain == 0 && c->per_call == 4 && c->per_process == 100);
    CHECK(c && c->retry_same_provider == 1 && c->log_path == NULL);
    llf_config_free(c);

    /* No config: the chain is every provider whose key is set, default models. */
    t_setenv("OPENAI_API_KEY", "sk-1");
    t_setenv("GOOGLE_API_KEY", "g-1");   /* Gemini's alternative variable */
    c = load(NULL, NULL, NULL);
    CHECK(c && c->nchain == 2);
    if (c && c->nchain == 2) {
        CHECK_STR(chain_str(c, 0, b, sizeof b), "openai/gpt-4o-mini");
        CHECK_STR(chain_str(c, 1, b, sizeof b), "gemini/gemini-2.5-flash");
        CHECK_STR(c->providers[llf_config_provider(c, "gemini")].key, "g-1");
    }
    llf_config_free(c);
    /* A built-in provider that needs no key (Ollama) only when the file
     * names it (it was never in, named or not), as a keyless one of the
     * file's own always is. */
    c = load("{\"providers\":{\"ollama\":{\"base_url\":\"http://127.0.0.1:11434/v1\"},"
             "\"local\":{\"base_url\":\"http://127.0.0.1:8000/v1\",\"api_key_env\":\"\",\"model\":\"m\"}}}",
             NULL, NULL);
    CHECK(c && c->nchain == 4);
    if (c && c->nchain == 4) {
        CHECK_STR(chain_str(c, 2, b, sizeof b), "ollama/llama3.2");
        CHECK_STR(chain_str(c, 3, b, sizeof b), "local/m");
    }
    llf_config_free(c);

    /* The file, in full. */
    t_setenv("BACKUP_KEY", "bk-1");
    t_setenv("ANTHROPIC_API_KEY", "ak-1");
    c = load("{\"providers\":{\"openai\":{\"base_url\":\"http://127.0.0.1:18001/v1\"},"
             "\"backup\":{\"dialect\":\"openai\",\"base_url\":\"http://127.0.0.1:18003/v1\","
             "\"api_key_env\":\"BACKUP_KEY\"}},"
             "\"chain\":[\"anthropic/claude-opus-4-7\",\"backup/gpt-4o-mini\","
             "{\"provider\":\"openai\"}],"
             "\"attempts\":{\"per_call\":3,\"per_process\":7},"
             "\"timeouts_ms\":{\"connect\":100,\"first_byte\":200,\"total\":300},"
             "\"retry\":{\"max_wait_ms\":50,\"same_provider\":false},\"log\":\"/tmp/x.log\"}",
             NULL, NULL);
    CHECK(c != NULL);
    if (c) {
        CHECK(c->nchain == 3);
        CHECK_STR(chain_str(c, 0, b, sizeof b), "anthropic/claude-opus-4-7");
        CHECK_STR(chain_str(c, 1, b, sizeof b), "backup/gpt-4o-mini");
        CHECK_STR(chain_str(c, 2, b, sizeof b), "openai/gpt-4o-mini");
        CHECK(c->per_call == 3 && c->per_process == 7);
        CHECK(c->connect_ms == 100 && c->first_byte_ms == 200 && c->total_ms == 300);
        CHECK(c->retry_max_wait_ms == 50 && c->retry_same_provider == 0);
        CHECK_STR(c->log_path, "/tmp/x.log");
        int o = llf_config_provider(c, "openai");
        CHECK_STR(c->providers[o].base_url, "http://127.0.0.1:18001/v1");
        CHECK_STR(c->providers[llf_config_provider(c, "backup")].key, "bk-1");
        /* openai is recognised at its official and its configured URL */
        int bases = 0;
        for (size_t i = 0; i < c->nbases; i++)
            bases += c->bases[i].provider == o;
        CHECK(bases == 2);
    }
    llf_config_free(c);

    /* LLMFALLBACK_CHAIN wins over the file; models may contain '/'. */
    t_setenv("OPENROUTER_API_KEY", "or-1");
    c = load("{\"chain\":[\"anthropic/claude-opus-4-7\"]}",
             " openrouter/openai/gpt-4o , openai/gpt-5 ", "stderr");
    CHECK(c && c->nchain == 2);
    if (c && c->nchain == 2) {
        CHECK_STR(chain_str(c, 0, b, sizeof b), "openrouter/openai/gpt-4o");
        CHECK_STR(chain_str(c, 1, b, sizeof b), "openai/gpt-5");
        CHECK_STR(c->log_path, "stderr");
    }
    llf_config_free(c);

    /* Errors: one line, naming the problem. */
    CHECK(fails_with("{\"chain\": [\"openai/x\",]}", NULL, "line 1: not valid JSON"));
    CHECK(fails_with("{\n\"chain\":\n[oops]}", NULL, "line 3"));
    /* what cJSON took that JSON is not: a leading zero, a bare point, a raw
     * tab in a string, a control byte between tokens */
    CHECK(fails_with("{\"chain\": [],\n\"breaker\": {\"failures\": 04}}", NULL, "line 2: not valid JSON"));
    CHECK(fails_with("{\"chain\": [],\n\n\"breaker\": {\"failures\": 4.}}", NULL, "line 3: not valid JSON"));
    CHECK(fails_with("{\"chain\": [\"openai/gpt\t4o\"]}", NULL, "line 1: not valid JSON"));
    CHECK(fails_with("{\"chain\":\x0b []}", NULL, "line 1: not valid JSON"));
    /* one object and nothing after it; no key twice (the second was ignored) */
    CHECK(fails_with("{\"chain\": []} xyz", NULL, "line 1: text after the JSON object"));
    CHECK(fails_with("{\"chain\": []}\n\n{\"chain\": 5}\n", NULL, "line 3: text after the JSON object"));
    c = load("{\"chain\": []}\n \t\r\n", NULL, NULL);   /* (white space is no text) */
    CHECK(c != NULL);
    llf_config_free(c);
    CHECK(fails_with("{\"chain\": [], \"chain\": [\"nosuch/x\"]}", NULL, "the key \"chain\" is given twice"));
    CHECK(fails_with("{\"providers\": {\"b\": {\"base_url\": \"http://h/v1\", \"dialect\": \"openai\", \"base_url\": \"http://i/v1\"}}}",
                     NULL, "the key \"base_url\" is given twice"));
    CHECK(fails_with("{\"providers\": {\"a\": {}, \"b\": {}, \"a\": {}}}", NULL, "the key \"a\" is given twice"));
    CHECK(fails_with("{\"chian\": []}", NULL, "unknown key \"chian\""));
    CHECK(fails_with("{\"chain\": [\"nosuch/model\"]}", NULL, "unknown provider \"nosuch\""));
    CHECK(fails_with(NULL, "nosuch/model", "unknown provider \"nosuch\""));
    {   /* a name longer than any provider's: that, in a line (it read "has no provider", and all of it) */
        char chain[400];
        snprintf(chain, sizeof chain, "%0300d/m", 0);
        CHECK(fails_with(NULL, chain, "names an unknown provider (not shown: it may be a key; 300 characters)"));
    }
    /* a key pasted as an entry or the candidate is not echoed; a typo is */
    {
        static const char key[] = "sk-ant-api03-Tyz2hbReelLIFuoqoWk91QZxhL4mrMo7Hr0FswvDMxu6VvAEJvHzmWktc0BYRarpNBNZaEFYwLJ1MAA";
        static const char *const pasted[] = {key, "gsk_8fK2mQ9xLp3RtV7wYz1AbC4dEf6GhJ0kLmNo", "AIzaSyD3xQ9vLm2Kp8Rt4Wn6Yb1Zc5Hf7Jg0Ab"};
        char j[512];
        for (size_t i = 0; i < 3; i++) {
            snprintf(j, sizeof j, "backup/x,%s", pasted[i]);
            CHECK(fails_with("{\"providers\":{\"backup\":{\"base_url\":\"http://h/v1\"}}}", j,
                             "LLMFALLBACK_CHAIN: chain names an unknown provider (not shown: it may be a key;"));
            CHECK(!strstr(err, pasted[i]) && !strstr(err, "Tyz2") && !strstr(err, "8fK2") && !strstr(err, "SyD3"));
            snprintf(j, sizeof j, "{\"chain\": [\"%s\"]}", pasted[i]);
            CHECK(fails_with(j, NULL, "cfg.json: chain names an unknown provider (not shown") && !strstr(err, pasted[i]));
            snprintf(j, sizeof j, "{\"chain\": [{\"provider\": \"%s\", \"model\": \"m\"}]}", pasted[i]);
            CHECK(fails_with(j, NULL, "cfg.json: chain names an unknown provider (not shown") && !strstr(err, pasted[i]));
            snprintf(j, sizeof j, "{\"mode\": \"override\", \"candidate\": \"%s\"}", pasted[i]);
            CHECK(fails_with(j, NULL, "cfg.json: candidate names an unknown provider (not shown") && !strstr(err, pasted[i]));
        }
        CHECK(fails_with(NULL, "antropic/claude-x", "unknown provider \"antropic\" (not built in"));
    }
    CHECK(fails_with("{\"chain\": [\"mistral/m\"]}", NULL, "cfg.json: chain entry mistral/m: MISTRAL_API_KEY is not set"));
    /* the entry came from the variable, so the message names it */
    CHECK(fails_with("{\"chain\": []}", "mistral/m", "LLMFALLBACK_CHAIN: chain entry mistral/m: MISTRAL_API_KEY is not set"));
    CHECK(fails_with("{\"providers\":{\"x\":{\"dialect\":\"openai\"}}}", NULL,
                     "base_url is required"));
    CHECK(fails_with("{\"providers\":{\"x\":{\"base_url\":\"http://h/v1\",\"dialect\":\"soap\"}}}",
                     NULL, "dialect must be one of"));
    CHECK(fails_with("{\"providers\":{\"x\":{\"base_url\":\"ftp://h/v1\"}}}", NULL,
                     "must be http:// or https://"));
    CHECK(fails_with("{\"attempts\":{\"per_call\":0}}", NULL, "per_call must be an integer >= 1"));
    CHECK(fails_with("{\"attempts\":{\"per_call\":\"3\"}}", NULL, "per_call must be an integer"));
    CHECK(fails_with("{\"timeouts_ms\":{\"connect\":-1}}", NULL, "connect must be an integer >= 0"));
    /* beyond long's range (a fuzzer-found undefined conversion): below it
     * an error, above it the most a long holds, which each value's own
     * bound takes down ("more than 1,000 count as 1,000") */
    CHECK(fails_with("{\"attempts\":{\"per_process\":-1e300}}", NULL, "per_process must be an integer >= 0"));
    c = load("{\"attempts\":{\"per_call\":1e19,\"per_process\":1e300},\"breaker\":{\"failures\":10000000000000000000},"
             "\"shadow\":{\"timeout_ms\":3.4e95}}", NULL, NULL);
    CHECK(c && c->per_call == 1000 && c->per_process == LONG_MAX && c->breaker.failures == 1000000 &&
          c->shadow_timeout_ms == LONG_MAX);
    llf_config_free(c);
    CHECK(fails_with("{\"retry\":{\"same_provider\":1}}", NULL, "true or false"));
    CHECK(fails_with("{\"providers\":{\"backup\":{\"base_url\":\"http://h/v1\"}},\"chain\":[\"backup\"]}",
                     NULL, "needs a model"));
    CHECK(fails_with("[1,2]", NULL, "must be a JSON object"));
    CHECK(fails_with("{\"mode\": \"shadow\"}", NULL, "mode \"shadow\" needs \"candidate\""));
    CHECK(fails_with("{\"mode\": \"mirror\"}", NULL, "\"mode\" must be"));
    CHECK(fails_with("{\"mode\": \"override\", \"candidate\": \"nosuch/m\"}", NULL,
                     "unknown provider \"nosuch\""));
    CHECK(fails_with("{\"mode\": \"override\", \"candidate\": \"mistral/m\"}", NULL,
                     "candidate mistral/m: MISTRAL_API_KEY is not set"));
    CHECK(fails_with("{\"candidate\": 3}", NULL, "\"candidate\" must be \"provider/model\""));
    /* a candidate's mistakes are named as the candidate's, not the chain's */
    CHECK(fails_with("{\"mode\": \"override\", \"candidate\": \"nosuch/m\"}", NULL,
                     "candidate names unknown provider \"nosuch\""));
    CHECK(fails_with("{\"mode\": \"override\", \"candidate\": \"/m\"}", NULL, "candidate \"\" has no provider"));
    /* a key pasted into api_key_env that happens to fit a variable's name
     * (gsk_..., Mistral's letters and digits) is not shown when unset; a
     * conventional name is */
    static const char *const pasted[] = {"gsk_8fK2mQ9xLp3RtV7wYz1AbC4dEf6GhJ0kLmNo", "Ab3dEf6GhJ0kLmNoPqRsTuVwXyZ12345",
                                         "AKIAIOSFODNN7EXAMPLE"};
    for (size_t i = 0; i < 3; i++) {
        char j[512];
        snprintf(j, sizeof j, "{\"providers\":{\"m\":{\"base_url\":\"http://h/v1\",\"api_key_env\":\"%s\"}},"
                              "\"chain\":[\"m/x\"]}", pasted[i]);
        CHECK(fails_with(j, NULL, "chain entry m/x: the variable its api_key_env names (not shown") && !strstr(err, pasted[i]));
    }
    CHECK(fails_with("{\"providers\":{\"m\":{\"base_url\":\"http://h/v1\",\"api_key_env\":\"M_KEY\"}},"
                     "\"chain\":[\"m/x\"]}", NULL, "chain entry m/x: M_KEY is not set"));
    /* a provider's name is at most what a chain entry can name */
    {
        char j[512], name[129];
        memset(name, 'b', 128);
        name[128] = 0;
        snprintf(j, sizeof j, "{\"providers\":{\"%s\":{\"base_url\":\"http://h/v1\"}}}", name);
        CHECK(fails_with(j, NULL, "is longer than 127 characters"));
        name[127] = 0;
        snprintf(j, sizeof j, "{\"providers\":{\"%s\":{\"base_url\":\"http://h/v1\",\"model\":\"x\"}},\"chain\":[\"%s\"]}",
                 name, name);
        c = load(j, NULL, NULL);
        CHECK(c && c->nchain == 1);
        llf_config_free(c);
    }
    /* a model is at most 256 characters (it goes back in a header), given
     * in the chain, LLMFALLBACK_CHAIN or as a provider's model */
    {
        char j[1024], model[258];
        memset(model, 'm', 257);
        model[257] = 0;
        snprintf(j, sizeof j, "{\"providers\":{\"m\":{\"base_url\":\"http://h/v1\",\"api_key_env\":\"\"}},\"chain\":[\"m/%s\"]}",
                 model);
        CHECK(fails_with(j, NULL, "chain entry \"m\": its model is longer than 256 characters") && !strstr(err, model));
        snprintf(j, sizeof j, "{\"providers\":{\"m\":{\"base_url\":\"http://h/v1\",\"api_key_env\":\"\",\"model\":\"%s\"}},"
                 "\"chain\":[\"m\"]}", model);
        CHECK(fails_with(j, NULL, "its model is longer than 256 characters"));
        char chain[300];
        snprintf(chain, sizeof chain, "m/%s", model);
        CHECK(fails_with("{\"providers\":{\"m\":{\"base_url\":\"http://h/v1\",\"api_key_env\":\"\"}}}", chain,
                         "its model is longer than 256 characters"));
        model[256] = 0;
        snprintf(j, sizeof j, "{\"providers\":{\"m\":{\"base_url\":\"http://h/v1\",\"api_key_env\":\"\"}},\"chain\":[\"m/%s\"]}",
                 model);
        c = load(j, NULL, NULL);
        CHECK(c && c->nchain == 1 && strlen(c->chain[0].model) == 256);
        llf_config_free(c);
    }
    /* Control characters in a provider's or a model's name would reach the
     * program's response headers and the members' requests: refused, in a
     * line of its own (the name not echoed); LLMFALLBACK_CHAIN's white
     * space around an entry, a newline included, is dropped. */
    CHECK(fails_with("{\"providers\": {\"bk\\r\\nX-Evil: 1\": {\"base_url\": \"http://h/v1\", \"api_key_env\": \"\"}},"
                     "\"chain\": [\"bk\\r\\nX-Evil: 1/gpt-4o-mini\"]}", NULL,
                     "cfg.json: a provider's name in \"providers\" holds a control character") && !strstr(err, "Evil"));
    CHECK(fails_with("{\"providers\": {\"bk\": {\"base_url\": \"http://h/v1\", \"api_key_env\": \"\", \"model\": \"m\\u0001\"}}}",
                     NULL, "providers.bk.model holds a control character"));
    /* white space around an entry's slash is no part of either name */
    llf_config *sp = load(NULL, "openai / gpt-4o ,anthropic/\tclaude-x,  ollama /", NULL);
    if (!sp)
        fprintf(stderr, "  (got \"%s\")\n", err);
    char one[96];
    CHECK(sp && sp->nchain == 3 && !strcmp(chain_str(sp, 0, one, sizeof one), "openai/gpt-4o") &&
          !strcmp(chain_str(sp, 1, one, sizeof one), "anthropic/claude-x") &&
          !strncmp(chain_str(sp, 2, one, sizeof one), "ollama/", 7) && one[7] && one[7] != ' ');
    llf_config_free(sp);
    /* an empty default model was sent as "model": "", which every API refuses */
    CHECK(fails_with("{\"providers\": {\"openai\": {\"model\": \"\"}}}", NULL, "providers.openai.model is empty"));
    CHECK(fails_with("{\"providers\": {\"openai\": {\"model\": \"  \"}}}", NULL, "providers.openai.model is empty"));
    CHECK(fails_with("{\"chain\": [\"ollama/m\\tx\"]}", NULL, "cfg.json: chain entry holds a control character in its model"));
    CHECK(fails_with("{\"chain\": [\"ollama/m\\n\"]}", NULL, "chain entry holds a control character in its model"));
    CHECK(fails_with("{\"chain\": [{\"provider\": \"ollama\", \"model\": \"m\\r\\nX-Evil: 1\"}]}", NULL,
                     "chain entry holds a control character in its model") && !strstr(err, "Evil"));
    CHECK(fails_with("{\"chain\": [{\"provider\": \"oll\\u007fama\", \"model\": \"m\"}]}", NULL,
                     "chain entry holds a control character in its provider's name"));
    CHECK(fails_with("{\"mode\": \"override\", \"candidate\": \"ollama/m\\r\\nX-Evil: 1\"}", NULL,
                     "cfg.json: candidate holds a control character in its model") && !strstr(err, "Evil"));
    CHECK(fails_with(NULL, "ollama/gpt-4o-mini\r\nX-Evil: 2", "LLMFALLBACK_CHAIN: chain entry holds a control character in its model") &&
          !strstr(err, "Evil"));
    CHECK(fails_with(NULL, "oll\x01ama/m", "LLMFALLBACK_CHAIN: chain entry holds a control character in its provider's name"));
    c = load(NULL, "ollama/m1\n", NULL);
    CHECK(c && c->nchain == 1 && strcmp(c->chain[0].model, "m1") == 0);
    llf_config_free(c);
    c = load(NULL, "\r\n ollama/m1,\n\tollama/m2 \r\n,\n", NULL);
    CHECK(c && c->nchain == 2 && strcmp(c->chain[0].model, "m1") == 0 && strcmp(c->chain[1].model, "m2") == 0);
    llf_config_free(c);
    /* a long unknown key is cut: the line still says where it is */
    {
        char j[3200];
        memset(j, 'k', sizeof j);
        memcpy(j, "{\"", 2);
        memcpy(j + 3000, "\": 1}", 6);
        j[3006] = '\0';
        CHECK(fails_with(j, NULL, "kkk\xe2\x80\xa6\" in the configuration") && strlen(err) < 200);
    }
    /* a key pasted as a model, its provider's key unset: not echoed */
    const char *had = t_env("ANTHROPIC_API_KEY");
    t_setenv("ANTHROPIC_API_KEY", NULL);
    CHECK(fails_with(NULL, "anthropic/sk-ant-api03-AbCdEf0123456789xyz",
                     "chain entry anthropic/(a model not shown): it reads as a key") && !strstr(err, "AbCdEf"));
    CHECK(fails_with(NULL, "anthropic/claude-opus-4-7", "chain entry anthropic/claude-opus-4-7: ANTHROPIC_API_KEY"));
    /* ...a model's name is shown, long and dated as it may be; a run of
     * letters and digits as a key without a known prefix has is not */
    CHECK(fails_with("{\"mode\":\"override\",\"candidate\":\"anthropic/claude-sonnet-4-5\"}", NULL,
                     "candidate anthropic/claude-sonnet-4-5: ANTHROPIC_API_KEY is not set"));
    CHECK(fails_with(NULL, "anthropic/claude-3-5-sonnet-20241022", "chain entry anthropic/claude-3-5-sonnet-20241022: "));
    CHECK(fails_with(NULL, "anthropic/Zq7Xw2Lk9Pm4Rt6Vb1Nc8Hd3", "chain entry anthropic/(a model not shown: it may be "
                     "a key): ANTHROPIC_API_KEY is not set") && !strstr(err, "Zq7X"));
    CHECK(fails_with(NULL, "anthropic/0f8fad5b-d9cb-469f-a165-70867728950e", "chain entry anthropic/(a model not "
                     "shown: it may be a key): ANTHROPIC_API_KEY is not set") && !strstr(err, "0f8fad5b"));
    t_setenv("ANTHROPIC_API_KEY", had);
    /* ...and with its key set: an error still (it would be the model sent,
     * and shown on every line of the log), by a key's prefix or by a
     * provider's own key in it; a model's name is none */
    t_setenv("ANTHROPIC_API_KEY", "sk-ant-real-0123456789");
    t_setenv("GROQ_API_KEY", "gsk_groqsecret42");
    CHECK(fails_with(NULL, "anthropic/sk-ant-api03-AbCdEf0123456789xyz",
                     "chain entry anthropic/(a model not shown): it reads as a key") && !strstr(err, "AbCdEf"));
    CHECK(fails_with(NULL, "groq/llama-gsk_groqsecret42", "chain entry groq/(a model not shown): it reads as a key") &&
          !strstr(err, "secret"));
    CHECK(fails_with("{\"mode\":\"override\",\"candidate\":\"anthropic/AIzaSyA0123456789\"}", NULL,
                     "candidate anthropic/(a model not shown): it reads as a key") && !strstr(err, "AIza"));
    /* override with one attempt a call would never ask the candidate */
    CHECK(fails_with("{\"mode\":\"override\",\"candidate\":\"anthropic/claude-sonnet-4-5\",\"attempts\":{\"per_call\":1}}",
                     NULL, "mode \"override\" needs attempts.per_call of at least 2"));
    c = load("{\"mode\":\"override\",\"candidate\":\"anthropic/claude-sonnet-4-5\",\"attempts\":{\"per_call\":2}}", NULL, NULL);
    CHECK(c && c->per_call == 2);
    llf_config_free(c);
    /* a chain of more entries than a plan holds is an error, not cut */
    {
        char many[61 * 16] = "";
        for (int i = 0; i < 61; i++)
            snprintf(many + strlen(many), sizeof many - strlen(many), "%sgroq/m%d", i ? "," : "", i);
        CHECK(fails_with(NULL, many, "chain: more than 60 entries"));
        *strrchr(many, ',') = '\0';
        c = load(NULL, many, NULL);
        CHECK(c && c->nchain == 60);
        llf_config_free(c);
        /* ...and a default chain that would have more says so */
        char *json = malloc(61 * 96 + 64);
        CHECK(json != NULL);
        if (json) {
            strcpy(json, "{\"providers\":{");
            for (int i = 0; i < 61; i++)
                sprintf(json + strlen(json), "%s\"p%d\":{\"base_url\":\"http://h%d/v1\",\"api_key_env\":\"\",\"model\":\"m\"}",
                        i ? "," : "", i, i);
            strcat(json, "}}");
            CHECK(fails_with(json, NULL, "the default chain (every provider with a key, or needing none) would have more than 60"));
            free(json);
        }
    }
    c = load(NULL, "anthropic/claude-sonnet-4-5,groq/llama-3.3-70b-versatile,openai/gpt-4o-2024-08-06", NULL);
    CHECK(c && c->nchain == 3);
    llf_config_free(c);
    t_setenv("GROQ_API_KEY", NULL);
    t_setenv("ANTHROPIC_API_KEY", had);
    /* a key named as the file names it (it said "the configuration.log",
     * "chain entry.context") */
    CHECK(fails_with("{\"log\": 5}", NULL, "cfg.json: \"log\" must be a string"));
    CHECK(fails_with("{\"ca_bundle\": true}", NULL, "cfg.json: \"ca_bundle\" must be a string"));
    CHECK(fails_with("{\"chain\": [{\"provider\": \"ollama\", \"model\": \"m\", \"context\": -1}]}", NULL,
                     "cfg.json: chain[].context must be an integer >= 0"));
    CHECK(fails_with("{\"verdict\": {\"empty\": 1}}", NULL, "cfg.json: verdict.empty must be true or false"));
    {   /* (a long provider's name, whole: a buffer of 128 bytes cut the key off) */
        char j[400], want[300];
        char name[121];
        memset(name, 'p', 120);
        name[120] = '\0';
        snprintf(j, sizeof j, "{\"providers\": {\"%s\": {\"base_url\": 5}}}", name);
        snprintf(want, sizeof want, "providers.%s.base_url must be a string", name);
        CHECK(fails_with(j, NULL, want));
    }
    /* an empty entry in the file is a mistake too, as "," in the variable */
    CHECK(fails_with("{\"chain\": [\"\"]}", NULL, "cfg.json: a chain entry is empty"));
    CHECK(fails_with("{\"chain\": [\"ollama/m\", \" \"]}", NULL, "cfg.json: a chain entry is empty"));
    /* LLMFALLBACK_CHAIN that names nothing is a mistake, not "no fallback";
     * the file's chain is checked even when the variable replaces it */
    CHECK(fails_with("{\"chain\": []}", " ", "LLMFALLBACK_CHAIN: names no provider/model"));
    CHECK(fails_with("{\"chain\": []}", ",", "LLMFALLBACK_CHAIN: names no provider/model"));
    CHECK(fails_with("{\"chain\": [\"nosuch/m\"]}", "openai/gpt-4o", "unknown provider \"nosuch\""));
    /* an empty refusal pattern would match every short answer */
    CHECK(fails_with("{\"verdict\": {\"refusal_patterns\": [\"sorry\", \"\"]}}", NULL,
                     "verdict.refusal_patterns[1] is empty"));
    /* a CA bundle that cannot be read would fail every HTTPS attempt */
    CHECK(fails_with("{\"ca_bundle\": \"/nonexistent/ca.pem\"}", NULL, "ca_bundle /nonexistent/ca.pem: No such file"));
    CHECK(fails_with("{\"ca_bundle\": \"/tmp\"}", NULL, "ca_bundle /tmp: not a file"));
    c = load("{\"ca_bundle\": \"tests/fixtures/config/full.json\"}", NULL, NULL);   /* (any readable file) */
    CHECK(c != NULL);
    /* made absolute where it was checked: libcurl reads it at each new
     * connection, maybe after the program's chdir() */
    {
        char cwd[4096], want[4200];
        snprintf(want, sizeof want, "%s/tests/fixtures/config/full.json", getcwd(cwd, sizeof cwd) ? cwd : "?");
        CHECK(c && c->ca_bundle && strcmp(c->ca_bundle, want) == 0);
        CHECK(c && strcmp(llf_ca_bundle(c), want) == 0);
        llf_config_free(c);
        char j[4300];   /* (an absolute one as it is) */
        snprintf(j, sizeof j, "{\"ca_bundle\": \"%s\"}", want);
        c = load(j, NULL, NULL);
        CHECK(c && c->ca_bundle && strcmp(c->ca_bundle, want) == 0);
    }
    llf_config_free(c);
    /* the breaker keeps a provider by its name and base URL */
    c = load("{\"providers\":{\"openai\":{\"base_url\":\"http://127.0.0.1:9/v1\"}}}", NULL, NULL);
    CHECK(c && strcmp(c->providers[llf_config_provider(c, "openai")].breaker_id, "openai http://127.0.0.1:9/v1") == 0);
    llf_config_free(c);
    CHECK(fails_with("{\"shadow\": {\"sample\": 1.5}}", NULL, "shadow.sample must be a number from 0 to 1"));
    CHECK(fails_with("{\"shadow\": {\"rate\": 1}}", NULL, "unknown key \"rate\""));
    CHECK(strncmp(err, "cfg.json: ", 10) == 0);
    /* what may be a secret is not echoed: a key pasted as api_key_env, a URL */
    CHECK(fails_with("{\"providers\": {\"b\": {\"dialect\": \"openai\", \"base_url\": \"http://h/v1\","
                     " \"api_key_env\": \"sk-SECRET-1\"}}}", NULL, "must be the name of an environment variable"));
    CHECK(!strstr(err, "SECRET"));
    CHECK(fails_with("{\"providers\": {\"b\": {\"dialect\": \"openai\","
                     " \"base_url\": \"https://u:sk-SECRET-2@ bad host/v1\"}}}", NULL, "base_url is not a valid URL"));
    CHECK(!strstr(err, "SECRET"));
    /* no host ("http:///v1": libcurl takes "v1" for one) */
    CHECK(fails_with("{\"providers\": {\"b\": {\"dialect\": \"openai\", \"base_url\": \"http:///v1\"}}}", NULL,
                     "provider b: base_url is not a valid URL"));

    /* Modes: the default is fallback with no candidate; shadow's defaults. */
    c = load("{\"chain\":[\"ollama/llama3.2\"]}", NULL, NULL);
    CHECK(c && c->mode == LLF_MODE_FALLBACK && c->candidate.provider == -1);
    CHECK(c && c->shadow_sample == 0.1 && c->shadow_timeout_ms == 60000);
    llf_config_free(c);
    c = load("{\"mode\":\"shadow\",\"candidate\":\"anthropic/claude-x\","
             "\"shadow\":{\"sample\":0.25,\"timeout_ms\":5000}}", NULL, NULL);
    CHECK(c && c->mode == LLF_MODE_SHADOW && c->shadow_sample == 0.25 && c->shadow_timeout_ms == 5000);
    CHECK(c && strcmp(c->providers[c->candidate.provider].name, "anthropic") == 0 &&
          strcmp(c->candidate.model, "claude-x") == 0);
    llf_config_free(c);
    c = load("{\"mode\":\"override\",\"candidate\":\"ollama\"}", NULL, NULL);
    CHECK(c && c->mode == LLF_MODE_OVERRIDE && c->candidate.model &&
          strcmp(c->candidate.model, c->providers[c->candidate.provider].default_model) == 0);
    llf_config_free(c);

    /* A provider that needs no key (ollama) may be in the chain without one. */
    c = load("{\"chain\":[\"ollama/llama3.2\"]}", NULL, NULL);
    CHECK(c && c->nchain == 1);
    llf_config_free(c);
    t_clearenv();
    /* A NUL byte: cJSON would have ended a string (a base URL) or the text
     * there; refused, with its line. */
    {
        static const char nul[] = "{\"providers\": {\"x\": {\"dialect\": \"openai\",\n"
                                  "  \"base_url\": \"http://127.0.0.1:9/v1\0.evil\"}}}";
        llf_config *nc = NULL;
        err[0] = '\0';
        llf_config_load(nul, sizeof nul - 1, "cfg.json", NULL, NULL, t_env, &nc, err, sizeof err);
        CHECK(!nc && strstr(err, "line 2: a NUL byte"));
        llf_config_free(nc);
    }
    /* A \u0000 escape is that NUL once cJSON decodes it: "gpt-4o\u0000-mini"
     * asked for gpt-4o, a provider "ba\u0000ckup" defined "ba". Refused
     * with its line, in a key as in a value; an escaped backslash before
     * "u0000" is no such escape. */
    t_setenv("OPENAI_API_KEY", "sk-1");
    CHECK(fails_with("{\"chain\":\n [\"openai/gpt-4o\\u0000-mini\"]}", NULL, "line 2: \"\\u0000\" in a string"));
    CHECK(fails_with("{\"providers\":{\"ba\\u0000ckup\":{\"base_url\":\"http://h/v1\"}}}", NULL,
                     "line 1: \"\\u0000\" in a string"));
    CHECK(fails_with("{\"log\":\"/tmp/x\\\\\\u0000.jsonl\"}", NULL, "\"\\u0000\" in a string"));
    CHECK(fails_with("{\"chain\":[],\n\n\"log\\u0000\":1}", NULL, "line 3: \"\\u0000\" in a string"));
    c = load("{\"log\":\"/tmp/x\\\\u0000.jsonl\",\"chain\":[\"openai/a\\\\\\\\u0000\"]}", NULL, NULL);
    CHECK(c && c->log_path && strcmp(c->log_path, "/tmp/x\\u0000.jsonl") == 0);
    CHECK(c && c->nchain == 1 && strcmp(c->chain[0].model, "a\\\\u0000") == 0);
    llf_config_free(c);
    t_clearenv();
}

/* A long path to the file is shown by its end, so that the reason, after
 * it, fits in the one line (a path of 505 characters had filled it). */
void test_config_long_origin(void)
{
    char origin[506], want[64];
    memset(origin, 'd', sizeof origin - 1);
    origin[sizeof origin - 1] = '\0';
    for (size_t i = 60; i < sizeof origin - 8; i += 61)
        origin[i] = '/';
    memcpy(origin + sizeof origin - 8, "/c.json", 7);
    static const char text[] = "{\"attempts\":{\"per_call\":0}}";
    llf_config *c = NULL;
    t_clearenv();
    CHECK(llf_config_load(text, sizeof text - 1, origin, NULL, NULL, t_env, &c, err, sizeof err) == -1);
    snprintf(want, sizeof want, "%s: attempts.per_call must be an integer >= 1", origin + sizeof origin - 20);
    CHECK(strncmp(err, "\xe2\x80\xa6", 3) == 0 && strstr(err, want) && strlen(err) < 300);
    if (!strstr(err, want))
        fprintf(stderr, "  (got \"%s\")\n", err);
    /* and so is a CA bundle's, after it */
    char bundle[600];
    snprintf(bundle, sizeof bundle, "{\"ca_bundle\": \"%s\"}", origin);
    CHECK(llf_config_load(bundle, strlen(bundle), origin, NULL, NULL, t_env, &c, err, sizeof err) == -1);
    CHECK(strlen(err) < 480 && strstr(err, "/c.json: ca_bundle \xe2\x80\xa6") &&
          strstr(err, "/c.json: No such file or directory"));
    /* a short one is shown whole */
    CHECK(llf_config_load(text, sizeof text - 1, "/etc/llf.json", NULL, NULL, t_env, &c, err, sizeof err) == -1);
    CHECK_STR(err, "/etc/llf.json: attempts.per_call must be an integer >= 1");
}

/* A key is sent as its variable holds it, but for the white space around
 * it (a Kubernetes secret made from a file ends in a newline); one with a
 * control character or a space inside, which would break or add to the
 * member's header lines, is refused without being shown, and the provider
 * has no key, as when the variable is unset. */
void test_config_keys(void)
{
    static const char backup[] = "{\"providers\":{\"b\":{\"base_url\":\"http://h/v1\",\"api_key_env\":\"B_KEY\"}},"
                                 "\"chain\":[\"b/m\"]}";
    static const struct {
        const char *value, *key;
    } kept[] = {{"sk-cap-1\n", "sk-cap-1"}, {" \t sk-cap-2 \r\n", "sk-cap-2"}, {"sk-cap-3", "sk-cap-3"}};
    t_clearenv();
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        t_setenv("B_KEY", kept[i].value);
        llf_config *c = load(backup, NULL, NULL);
        CHECK(c && strcmp(c->providers[llf_config_provider(c, "b")].key, kept[i].key) == 0);
        CHECK(c && !c->providers[llf_config_provider(c, "b")].key_refused);
        llf_config_free(c);
    }
    /* only white space: unset */
    t_setenv("B_KEY", " \t\r\n ");
    CHECK(fails_with(backup, NULL, "chain entry b/m: B_KEY is not set"));
    static const char *const refused[] = {"sk-1\r\nX-Injected: yes", "sk-SECRET 2", "sk-SECRET\x01" "3",
                                          "sk-SECRET\x7f" "4", "sk-SECRET\n5\n"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        t_setenv("B_KEY", refused[i]);
        CHECK(fails_with(backup, NULL, "chain entry b/m: B_KEY is not a usable key: it holds a control character"));
        CHECK(!strstr(err, "SECRET") && !strstr(err, "Injected"));
        t_setenv("B_KEY", "");
    }
    /* the same for the candidate */
    t_setenv("MISTRAL_API_KEY", "a b");
    CHECK(fails_with("{\"mode\": \"override\", \"candidate\": \"mistral/m\"}", NULL,
                     "candidate mistral/m: MISTRAL_API_KEY is not a usable key"));
    t_setenv("MISTRAL_API_KEY", "");
    /* a provider that is no member: no key, and the config loads (core.c
     * says so in a line); the default chain leaves it out */
    t_setenv("OPENAI_API_KEY", "sk-1\r\nX-Injected: yes");
    t_setenv("GROQ_API_KEY", "gsk-1\n");
    llf_config *c = load(NULL, NULL, NULL);
    CHECK(c && c->nchain == 1 && strcmp(c->providers[c->chain[0].provider].name, "groq") == 0);
    if (c) {
        const llf_provider *o = &c->providers[llf_config_provider(c, "openai")];
        CHECK(!o->key && o->key_refused && strcmp(o->key_refused, "OPENAI_API_KEY") == 0);
        CHECK_STR(c->providers[llf_config_provider(c, "groq")].key, "gsk-1");
    }
    llf_config_free(c);
    /* Gemini's other variable is read when its own is refused, as when unset */
    t_clearenv();
    t_setenv("GEMINI_API_KEY", "g\t1");
    t_setenv("GOOGLE_API_KEY", "g-2\n");
    c = load(NULL, NULL, NULL);
    if (c) {
        const llf_provider *g = &c->providers[llf_config_provider(c, "gemini")];
        CHECK(g->key && strcmp(g->key, "g-2") == 0 && g->key_refused && strcmp(g->key_refused, "GEMINI_API_KEY") == 0);
    }
    CHECK(c && c->nchain == 1);
    llf_config_free(c);
    t_clearenv();
}

/* The fixture that documents every key (and seeds the config fuzzer) loads. */
void test_config_full(void)
{
    cJSON *j = t_fixture("config/full.json");
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    llf_config *c = NULL;
    err[0] = '\0';
    t_clearenv();
    t_setenv("ANTHROPIC_API_KEY", "a");
    t_setenv("BACKUP_KEY", "b");
    t_setenv("OPENAI_API_KEY", "o");
    int rc = text ? llf_config_load(text, strlen(text), "full.json", NULL, NULL, t_env, &c, err, sizeof err) : -1;
    if (rc)
        fprintf(stderr, "  full.json: %s\n", err);
    CHECK(rc == 0);
    CHECK(c && c->nchain == 3 && c->chain[2].context == 128000 && c->verdict.npatterns == 1 &&
          c->breaker.failures == 3 && c->retry_burst == 20 && c->first_token_ms == 30000);
    llf_config_free(c);
    free(text);
    cJSON_Delete(j);
    t_clearenv();
}

static int refuses(const llf_verdict_cfg *vc, const char *text)
{
    for (size_t i = 0; i < vc->npatterns; i++)
        if (regexec(&vc->patterns[i], text, 0, NULL, 0) == 0)
            return 1;
    return 0;
}

/* Refusal patterns are checked one by one for errors, then matched as one
 * alternation; a list with back-references stays a list (groups added around
 * each pattern would renumber them). Either way, the same texts match. */
void test_config_patterns(void)
{
    static const struct {
        const char *config;           /* NULL: the default patterns */
        size_t      npatterns;        /* after combining */
        const char *refused[4], *kept[2];
    } cases[] = {
        {NULL, 1,
         {"I'm sorry, but I can't help with that.", "As an AI, I cannot do this."},
         {"Here you are: I can't stress enough how simple it is."}},
        {"{\"verdict\":{\"refusal_patterns\":[\"^nope\",\"declined$\",\"x|y{2}\"]}}", 1,
         {"Nope, not today", "request declined", "yy"},
         {"not declined here, nope"}},
        {"{\"verdict\":{\"refusal_patterns\":[\"^(no)\\\\1$\",\"declined$\"]}}", 2,
         {"nono", "request declined"},
         {"no"}},
        /* A lone ')' is a literal alone (glibc), but would close the group
         * added around it: such a list stays a list. A ')' in brackets or
         * escaped is a literal in the group too. */
        {"{\"verdict\":{\"refusal_patterns\":[\"primary \\\\(gpt-4o-mini)$\",\"^I will not answer\"]}}", 2,
         {"Hello from primary (gpt-4o-mini)", "I will not answer that"},
         {"primary (gpt-4o-mini) here"}},
        {"{\"verdict\":{\"refusal_patterns\":[\"^a)|b)$\",\"^c\"]}}", 2,
         {"a)", "xb)", "cc"},
         {"a", "b"}},
        {"{\"verdict\":{\"refusal_patterns\":[\"^no[)]\",\"^x\\\\)$\",\"^(y)\"]}}", 1,
         {"no)", "x)", "y"},
         {"no", "x"}},
    };
    t_clearenv();
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        llf_config *c = load(cases[k].config, NULL, NULL);
        CHECK(c && c->verdict.npatterns == cases[k].npatterns);
        for (size_t i = 0; c && i < 4 && cases[k].refused[i]; i++)
            CHECK(refuses(&c->verdict, cases[k].refused[i]));
        for (size_t i = 0; c && i < 2 && cases[k].kept[i]; i++)
            CHECK(!refuses(&c->verdict, cases[k].kept[i]));
        llf_config_free(c);
    }
    CHECK(fails_with("{\"verdict\":{\"refusal_patterns\":[\"ok\",\"(bad\"]}}", NULL,
                     "refusal_patterns[1]"));
    /* A pattern whose counts glibc expands into tens of thousands of atoms
     * (regcomp: 13.5 s for a{1,32767}, and each process compiles it) is
     * refused at once; the same counts kept small are not. */
    CHECK(fails_with("{\"verdict\":{\"refusal_patterns\":[\"ok\",\"a{1,32767}\"]}}", NULL,
                     "refusal_patterns[1] is too large once its counts are expanded"));
    CHECK(fails_with("{\"verdict\":{\"refusal_patterns\":[\"^.{0,30000}I cannot\"]}}", NULL,
                     "refusal_patterns[0] is too large"));
    CHECK(fails_with("{\"verdict\":{\"refusal_patterns\":[\"((ab){0,40}c){0,60}\"]}}", NULL,
                     "refusal_patterns[0] is too large"));   /* (a group's count copies the group) */
    CHECK(fails_with("{\"verdict\":{\"refusal_patterns\":[\"a{0,2500}\", \"y{2000}\"]}}", NULL,
                     "refusal_patterns are too large together"));
    CHECK(fails_with("{\"verdict\":{\"refusal_patterns\":[\"[[:alpha:]]{5000}\"]}}", NULL,
                     "refusal_patterns[0] is too large"));
    /* Repeating what can match nothing makes glibc's compile take seconds
     * to minutes, and gigabytes, at any size (\b(x?){0,1000}: 76 s): refused. */
    static const char *const costly[] = {"^(\\\\b\\\\w*\\\\W*){0,40}sorry", "(^){1,4000}", "(x?{0,3000}(a|))*",
                                         "x(){10000}", "a**", "(\\\\s*)+", "(a|){2}", "(\\\\b){1,40}"};
    for (size_t k = 0; k < sizeof costly / sizeof *costly; k++) {
        char j[160];
        snprintf(j, sizeof j, "{\"verdict\":{\"refusal_patterns\":[\"ok\",\"%s\"]}}", costly[k]);
        CHECK(fails_with(j, NULL, "refusal_patterns[1] repeats something that can match nothing"));
    }
    llf_config *c = load("{\"verdict\":{\"refusal_patterns\":[\"^(\\\\w+\\\\W+){0,40}sorry\", \"(\\\\bab){1,30}\", "
                         "\"x*?\", \"(a*)?\", \"(a{0,300}b)*\"]}}", NULL, NULL);
    CHECK(c && c->verdict.npatterns >= 1);
    llf_config_free(c);
    c = load("{\"verdict\":{\"refusal_patterns\":[\"^[[:space:]]*I (can't|cannot) help\", "
             "\"^.{0,200}(sorry|unable)\", \"[]a]{1,50}z\", \"x\\\\{9999\"]}}", NULL, NULL);
    CHECK(c && c->verdict.npatterns >= 1);
    llf_config_free(c);
}

/* The default patterns on how models refuse (Claude, GPT, Gemini, Llama,
 * Mistral, with straight and curly apostrophes), and on answers that begin
 * like a refusal but are not one: an inability that is not a refusal's verb,
 * "can't help but", "cannot provide <what an answer gives>, but". */
void test_config_default_refusals(void)
{
    static const char *const refused[] = {
        "I can't help with that.",
        "I can’t help with creating malware or other tools designed to cause harm.",
        "I'm not able to help with that request.",
        "I apologize, but I cannot fulfill this request.",
        "I'm not comfortable providing instructions for that.",
        "That's not something I can help with.",
        "I won't be able to help with this one.",
        "I'm sorry, but I can't assist with that.",
        "I’m sorry, but I can’t comply with that request.",
        "Sorry, I can't help.",
        "I'm sorry, I can't provide that information.",
        "I’m unable to help with that.",
        "I'm just a language model, so I can't help you with that.",
        "As a language model, I'm not able to assist you with that.",
        "I'm a text-based AI and can't assist with that.",
        "I can’t fulfill that request.",
        "I cannot provide information or guidance on illegal or harmful activities. Can I help you with "
        "something else?",
        "I can't create content that promotes violence.",
        "I'm sorry, but I am unable to help with that request.",
        "I must respectfully decline your request.",
        "I'm afraid I can't do that.",
        "Unfortunately, I can't engage in that kind of role-play.",
    };
    static const char *const answers[] = {
        "I can't help but notice the answer is 42.",
        "I can’t help but think the answer is 42.",
        "I cannot provide an exact figure, but it is roughly 8 billion.",
        "Sorry, I can't find any bug: the code is correct.",
        "Unfortunately, I cannot find a date in this document.",
        "I'm sorry, but I can't see anything wrong with this code…",
        "I can't wait to see what you build with it! Here is the function: def f(x): return x * 2",
        "Unfortunately, the API was deprecated in 2023, so use the v2 endpoint instead.",
        "I won't repeat the full code; here is the diff: - x = 1 + x = 2",
        "I can't help thinking the loop is the problem: move the allocation out of it.",
        "As an AI, I can't browse the web, but the docs say the limit is 100 requests per minute.",
        "I’m afraid I can’t recall the exact year, but it was around 1990.",
        "Sorry, I can't reproduce the crash; it works on Python 3.11 with the same input.",
        "I can't say for sure, but the most likely cause is a missing semicolon.",
        "Unfortunately, I can't give an exact date, but it was released in spring 2021.",
        "I'm sorry to hear that! Try restarting the router first.",
        "I cannot stress this enough: always close the file.",
        "I can't tell from the snippet alone; the stack trace would show where it fails.",
        "I won't go into the history; the short answer is yes.",
        "Sorry, I cannot write to /etc from here, so run: sudo tee /etc/hosts",
    };
    t_clearenv();
    llf_config *c = load(NULL, NULL, NULL);
    CHECK(c != NULL);
    for (size_t i = 0; c && i < sizeof refused / sizeof refused[0]; i++)
        if (!refuses(&c->verdict, refused[i])) {
            fprintf(stderr, "  not taken for a refusal: %s\n", refused[i]);
            CHECK(0);
        }
    for (size_t i = 0; c && i < sizeof answers / sizeof answers[0]; i++)
        if (refuses(&c->verdict, answers[i])) {
            fprintf(stderr, "  taken for a refusal: %s\n", answers[i]);
            CHECK(0);
        }
    llf_config_free(c);
}

/* The config's size limit is the file's: one of exactly LLF_CONFIG_MAX
 * bytes is read, one byte more is refused (EFBIG), counted with what the
 * buffer already held (gate.c reads the file after its built-in names). */
void test_config_read_limit(void)
{
    char path[] = "/tmp/llf-unit-limit-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    char *big = malloc(LLF_CONFIG_MAX + 1);
    CHECK(big != NULL);
    if (!big) {
        close(fd);
        unlink(path);
        return;
    }
    memset(big, ' ', LLF_CONFIG_MAX + 1);
    for (size_t size = LLF_CONFIG_MAX - 1; size <= LLF_CONFIG_MAX + 1; size++) {
        CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, big, size, 0) == (ssize_t)size);
        llf_buf b = {0};
        errno = 0;
        int rc = llf_buf_read_file(&b, path, LLF_CONFIG_MAX, 1);
        CHECK(size <= LLF_CONFIG_MAX ? rc == 0 && b.n == size : rc == -1 && errno == EFBIG);
        llf_buf_free(&b);
        /* after 10 bytes already held: 10 bytes less of the file fit */
        llf_buf_add(&b, "0123456789", 10);
        rc = llf_buf_read_file(&b, path, LLF_CONFIG_MAX + 10 - 1, 1);
        CHECK(size < LLF_CONFIG_MAX ? rc == 0 && b.n == size + 10 : rc == -1 && errno == EFBIG);
        llf_buf_free(&b);
    }
    free(big);
    close(fd);
    unlink(path);
}
