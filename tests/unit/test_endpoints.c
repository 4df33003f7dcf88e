/* Recognition: built-in and configured base URLs, each dialect's operation. */
#include <pthread.h>
#include <stdlib.h>

#include "endpoints.h"
#include "t.h"

static llf_config *load(const char *json)
{
    char err[256];
    llf_config *c = NULL;
    t_clearenv();
    if (llf_config_load(json, json ? strlen(json) : 0, "test", NULL, NULL, t_env, &c, err,
                        sizeof err))
        fprintf(stderr, "load: %s\n", err);
    return c;
}

static int match(const llf_config *c, const char *url, const char *provider, int dialect)
{
    llf_match m;
    int ok = llf_endpoint_match(c, url, &m);
    int good = ok && strcmp(c->providers[m.provider].name, provider) == 0 &&
               (int)m.dialect == dialect;
    if (ok)
        llf_match_free(&m);
    return good;
}

static int no_match(const llf_config *c, const char *url)
{
    llf_match m;
    int ok = llf_endpoint_match(c, url, &m);
    if (ok)
        llf_match_free(&m);
    return !ok;
}

/* A thread that recognises a call and exits: the match it cached (the
 * model, and a query holding the key) is freed with it, which the ASan
 * run's leak check sees. */
static void *one_call(void *arg)
{
    llf_match m;
    if (llf_endpoint_match(arg, "https://generativelanguage.googleapis.com/v1beta/models/"
                                "gemini-2.5-flash:generateContent?key=SECRET", &m))
        llf_match_free(&m);
    return NULL;
}

static void thread_exit(const llf_config *c)
{
    for (int i = 0; i < 3; i++) {
        pthread_t t;
        CHECK(pthread_create(&t, NULL, one_call, (void *)c) == 0 && pthread_join(t, NULL) == 0);
    }
}

void test_endpoints(void)
{
    llf_config *c = load("{\"providers\":{\"backup\":{\"base_url\":\"http://127.0.0.1:18003/v1/\"},"
                         "\"openai\":{\"base_url\":\"http://127.0.0.1:18001/v1\"}}}");
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK(match(c, "https://api.openai.com/v1/chat/completions", "openai", LLF_OPENAI));
    CHECK(match(c, "https://API.OpenAI.com:443/v1/chat/completions", "openai", LLF_OPENAI));
    CHECK(match(c, "http://127.0.0.1:18001/v1/chat/completions", "openai", LLF_OPENAI));
    CHECK(match(c, "http://127.0.0.1:18003/v1/chat/completions", "backup", LLF_OPENAI));
    CHECK(match(c, "https://api.anthropic.com/v1/messages", "anthropic", LLF_ANTHROPIC));
    CHECK(match(c, "https://api.deepseek.com/chat/completions", "deepseek", LLF_OPENAI));
    CHECK(match(c, "https://api.deepseek.com/v1/chat/completions", "deepseek", LLF_OPENAI));
    CHECK(match(c, "https://openrouter.ai/api/v1/chat/completions", "openrouter", LLF_OPENAI));
    CHECK(match(c, "https://api.groq.com/openai/v1/chat/completions", "groq", LLF_OPENAI));
    CHECK(match(c, "http://localhost:11434/v1/chat/completions", "ollama", LLF_OPENAI));
    /* a loopback address for localhost; a fully qualified name; Gemini's
     * stable API beside v1beta */
    CHECK(match(c, "http://127.0.0.1:11434/v1/chat/completions", "ollama", LLF_OPENAI));
    CHECK(match(c, "http://[::1]:11434/v1/chat/completions", "ollama", LLF_OPENAI));
    /* ...but a provider at the address itself is that address's: the
     * built-in ollama took its calls, and its model was asked again */
    llf_config *own = load("{\"providers\":{\"local\":{\"dialect\":\"openai\",\"base_url\":"
                           "\"http://127.0.0.1:11434/v1\",\"api_key_env\":\"\"}}}");
    CHECK(own && match(own, "http://127.0.0.1:11434/v1/chat/completions", "local", LLF_OPENAI));
    CHECK(own && match(own, "http://localhost:11434/v1/chat/completions", "ollama", LLF_OPENAI));
    CHECK(own && match(own, "http://[::1]:11434/v1/chat/completions", "ollama", LLF_OPENAI));
    llf_config_free(own);
    CHECK(match(c, "https://api.openai.com./v1/chat/completions", "openai", LLF_OPENAI));
    CHECK(match(c, "https://generativelanguage.googleapis.com/v1/models/gemini-2.5-flash:generateContent",
                "gemini", LLF_GEMINI));
    CHECK(match(c, "https://generativelanguage.googleapis.com/v1/models/gemini-2.5-flash:"
                   "streamGenerateContent?alt=sse", "gemini", LLF_GEMINI));

    llf_match m;
    CHECK(llf_endpoint_match(c,
                             "https://generativelanguage.googleapis.com/v1beta/models/"
                             "gemini-2.5-pro:generateContent?key=abc",
                             &m));
    CHECK_STR(m.url_model, "gemini-2.5-pro");
    CHECK(m.stream == 0);
    CHECK_STR(m.query, "key=abc");
    llf_match_free(&m);
    CHECK(llf_endpoint_match(c,
                             "https://generativelanguage.googleapis.com/v1beta/models/"
                             "gemini-2.5-flash:streamGenerateContent?alt=sse",
                             &m));
    CHECK(m.stream == 1);
    CHECK_STR(m.url_model, "gemini-2.5-flash");
    llf_match_free(&m);
    CHECK(llf_endpoint_match(c,
                             "https://generativelanguage.googleapis.com/v1beta/models/"
                             "gemini-2.5-flash:streamGenerateContent?key=k&alt=sse",
                             &m));
    llf_match_free(&m);
    /* A tuned model (its model "tunedModels/NAME", as Gemini names it), and
     * the colon percent-encoded, as some HTTP clients write it. */
    static const char *const gem_ok[][3] = {
        {"/v1beta/tunedModels/my-tune-7:generateContent", "tunedModels/my-tune-7", "0"},
        {"/v1beta/tunedModels/my-tune-7:streamGenerateContent?alt=sse", "tunedModels/my-tune-7", "1"},
        {"/v1beta/models/gemini-2.0-flash%3AgenerateContent", "gemini-2.0-flash", "0"},
        {"/v1beta/models/gemini-2.0-flash%3astreamGenerateContent?alt=sse", "gemini-2.0-flash", "1"},
        {"/v1/tunedModels/t%3AgenerateContent", "tunedModels/t", "0"},
    };
    for (size_t i = 0; i < sizeof gem_ok / sizeof gem_ok[0]; i++) {
        char url[200];
        snprintf(url, sizeof url, "https://generativelanguage.googleapis.com%s", gem_ok[i][0]);
        int ok = llf_endpoint_match(c, url, &m);
        CHECK(ok);
        if (!ok)
            continue;
        CHECK((int)m.dialect == LLF_GEMINI);
        CHECK_STR(m.url_model, gem_ok[i][1]);
        CHECK(m.stream == (gem_ok[i][2][0] == '1'));
        llf_match_free(&m);
    }
    /* Without alt=sse Gemini streams a JSON array, not events: passed through. */
    CHECK(no_match(c, "https://generativelanguage.googleapis.com/v1beta/models/"
                      "gemini-2.5-flash:streamGenerateContent"));
    CHECK(no_match(c, "https://generativelanguage.googleapis.com/v1beta/models/"
                      "gemini-2.5-flash:streamGenerateContent?key=k&alt=ssex"));
    thread_exit(c);

    /* Not completion calls, or not providers. */
    CHECK(no_match(c, "https://api.openai.com/v1/embeddings"));
    CHECK(no_match(c, "https://api.openai.com/v1/models"));
    CHECK(no_match(c, "https://api.anthropic.com/v1/messages/count_tokens"));
    CHECK(no_match(c, "https://api.openai.com.evil.example/v1/chat/completions"));
    CHECK(no_match(c, "http://api.openai.com/v1/chat/completions"));       /* scheme */
    CHECK(no_match(c, "http://127.0.0.1:18002/v1/chat/completions"));      /* port */
    CHECK(no_match(c, "http://127.0.0.1:18001/v2/chat/completions"));      /* path prefix */
    CHECK(no_match(c, "http://127.0.0.1:18001/v1x/chat/completions"));
    CHECK(no_match(c, "https://api.openai.com/v1/v1/chat/completions"));   /* /v1 twice */
    CHECK(no_match(c, "http://127.0.0.1:18003/v1/v1/chat/completions"));
    CHECK(no_match(c, "https://api.anthropic.com/v1/v1/messages"));
    CHECK(no_match(c, "http://127.0.0.2:11434/v1/chat/completions"));
    CHECK(no_match(c, "https://api.deepseek.com/v2/chat/completions"));
    CHECK(no_match(c, "https://generativelanguage.googleapis.com/v2/models/gemini-2.5-flash:generateContent"));
    CHECK(no_match(c, "https://example.com/download.tar.gz"));
    CHECK(no_match(c, "ftp://api.openai.com/v1/chat/completions"));
    CHECK(no_match(c, "not a url"));
    CHECK(no_match(c, NULL));
    CHECK(no_match(c, "https://generativelanguage.googleapis.com/v1beta/models/x:embedContent"));
    CHECK(no_match(c, "https://generativelanguage.googleapis.com/v1beta/models/:generateContent"));
    static const char *const gem_no[] = {"/tunedModels/:generateContent", "/tunedModels/a/b:generateContent",
                                         "/tunedModels/t", "/models/x%3AembedContent", "/models/x%3BgenerateContent",
                                         "/models/x%3", "/models/%3AgenerateContent"};
    for (size_t i = 0; i < sizeof gem_no / sizeof gem_no[0]; i++) {
        char url[200];
        snprintf(url, sizeof url, "https://generativelanguage.googleapis.com/v1beta%s", gem_no[i]);
        if (!no_match(c, url))
            fprintf(stderr, "FAIL recognised: %s\n", url);
        CHECK(no_match(c, url));
    }
    llf_config_free(c);
    /* The rest of the path is the operation a member of that provider is
     * sent (base + /chat/completions), not something ending in it: a base
     * without /v1 does not take calls under /v1 (a member would be sent
     * base/chat/completions, another path). */
    c = load("{\"providers\":{\"strict\":{\"base_url\":\"http://127.0.0.1:18004\",\"api_key_env\":\"\"},"
             "\"claude\":{\"dialect\":\"anthropic\",\"base_url\":\"http://127.0.0.1:18005\",\"api_key_env\":\"\"}}}");
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK(match(c, "http://127.0.0.1:18004/chat/completions", "strict", LLF_OPENAI));
    CHECK(no_match(c, "http://127.0.0.1:18004/v1/chat/completions"));
    CHECK(no_match(c, "http://127.0.0.1:18004/x/chat/completions"));
    CHECK(match(c, "http://127.0.0.1:18005/messages", "claude", LLF_ANTHROPIC));
    CHECK(no_match(c, "http://127.0.0.1:18005/v1/messages"));
    llf_config_free(c);
}
