/* Header rewriting: each member gets its own key and nothing of another's. */
#include <stdlib.h>

#include "endpoints.h"
#include "hubutil.h"
#include "rewrite.h"
#include "t.h"

static int has(const llf_req *r, const char *line)
{
    for (size_t i = 0; i < r->headers.n; i++)
        if (strcasecmp(r->headers.v[i], line) == 0)
            return 1;
    return 0;
}

static int any_contains(const llf_req *r, const char *needle)
{
    for (size_t i = 0; i < r->headers.n; i++)
        if (strstr(r->headers.v[i], needle))
            return 1;
    return strstr(r->url, needle) != NULL || (r->body.p && strstr(r->body.p, needle));
}

/* One member's request from the program's request via llf_rewrite, the
 * program having called provider at its base URL; the program's dialect is
 * Gemini when the body has "contents". */
static int rw(const llf_config *c, const llf_req *orig, const cJSON *body, int provider,
              const char *query, int target, const char *model, int stream, llf_req *out)
{
    int gem = cJSON_GetObjectItem(body, "contents") != NULL;
    llf_origin o = {orig, body, provider, gem ? LLF_GEMINI : LLF_OPENAI, gem ? "gemini-a" : NULL,
                    query, stream, NULL, &c->bases[c->providers[provider].base].url};
    llf_terr e;
    int rc = llf_rewrite(c, &o, target, model, out, &e);
    cJSON_Delete(o.hub);
    return rc;
}

/* The same, the call recognised from orig's URL as the engine does (its
 * provider, query and server). */
static int rw_url(const llf_config *c, const llf_req *orig, const cJSON *body, int target, const char *model,
                  llf_req *out)
{
    llf_match m;
    if (!llf_endpoint_match(c, orig->url, &m))
        return -1;
    llf_origin o = {orig, body, m.provider, m.dialect, m.url_model, m.query, 0, NULL, m.server};
    llf_terr e;
    int rc = llf_rewrite(c, &o, target, model, out, &e);
    cJSON_Delete(o.hub);
    llf_match_free(&m);
    return rc;
}

/* An Azure OpenAI member gets its key as Azure's SDKs send it, in an
 * "api-key" header (its deployments API takes no key as a Bearer token),
 * and nothing of the program's; a gateway elsewhere, a Bearer token. */
static void test_rewrite_azure_key(const cJSON *body)
{
    char err[512];
    t_clearenv();
    t_setenv("OPENAI_API_KEY", "sk-prog-header-1");
    t_setenv("AZ_KEY", "az-key-0123456789");
    static const char *const hosts[] = {"https://res.openai.azure.com/openai/deployments/d1?api-version=2024-06-01",
                                        "https://res.cognitiveservices.azure.com/openai/v1",
                                        "https://RES.services.ai.azure.com./models", "https://azure.com.example/v1",
                                        "https://openai.azure.com.evil.example/v1"};
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        char cfg[400];
        snprintf(cfg, sizeof cfg, "{\"providers\":{\"az\":{\"dialect\":\"openai\",\"base_url\":\"%s\","
                 "\"api_key_env\":\"AZ_KEY\"}}}", hosts[i]);
        llf_config *c = NULL;
        CHECK(llf_config_load(cfg, strlen(cfg), "t", NULL, NULL, t_env, &c, err, sizeof err) == 0);
        if (!c)
            continue;
        llf_req p = {0}, r;
        p.url = "https://api.openai.com/v1/chat/completions";
        llf_headers_add(&p.headers, "Authorization: Bearer sk-prog-header-1");
        CHECK(rw_url(c, &p, body, llf_config_provider(c, "az"), "gpt-4o-mini", &r) == 0);
        int azure = i < 3;
        CHECK(!any_contains(&r, "sk-prog-"));
        CHECK(azure ? has(&r, "api-key: az-key-0123456789") && !any_contains(&r, "Authorization")
                    : has(&r, "Authorization: Bearer az-key-0123456789") && !any_contains(&r, "api-key"));
        llf_req_free(&r);
        llf_headers_free(&p.headers);
        llf_config_free(c);
    }
    t_clearenv();
}

/* A provider whose base URL the config moved, called by the program at its
 * official one (still recognised): a member of it goes to the other server,
 * and is another provider there: its own key or none, nothing of the
 * program's (headers, query, a header carrying one). At the server the
 * program addressed, a member without a key of its own keeps them. */
static void test_rewrite_same_provider_other_server(const cJSON *body)
{
    char err[256];
    t_clearenv();
    t_setenv("GW_KEY", "sk-gateway-own-1");
    for (int keyed = 0; keyed < 2; keyed++) {
        char cfg[256];
        snprintf(cfg, sizeof cfg, "{\"providers\":{\"openai\":{\"base_url\":\"http://127.0.0.1:5/v1\",\"api_key_env\":\"%s\"}}}",
                 keyed ? "GW_KEY" : "");
        llf_config *c = NULL;
        CHECK(llf_config_load(cfg, strlen(cfg), "t", NULL, NULL, t_env, &c, err, sizeof err) == 0);
        if (!c)
            continue;
        int openai = llf_config_provider(c, "openai");
        llf_req p = {0}, r;
        p.url = "https://api.openai.com/v1/chat/completions?key=sk-prog-query-1&api_key=sk-prog-query-2&v=1";
        llf_headers_add(&p.headers, "Authorization: Bearer sk-prog-header-1");
        llf_headers_add(&p.headers, "X-Custom: sk-prog-header-1");
        llf_headers_add(&p.headers, "X-Trace: t-1");
        CHECK(rw_url(c, &p, body, openai, "gpt-4o-mini", &r) == 0);
        CHECK_STR(r.url, "http://127.0.0.1:5/v1/chat/completions");
        CHECK(!any_contains(&r, "sk-prog-") && !any_contains(&r, "X-Custom") && has(&r, "X-Trace: t-1"));
        CHECK(keyed ? has(&r, "Authorization: Bearer sk-gateway-own-1") : !any_contains(&r, "Authorization"));
        CHECK(!r.same_provider && !r.own_server);
        llf_req_free(&r);
        /* called at the configured base URL: the same server */
        p.url = "http://127.0.0.1:5/v1/chat/completions?key=sk-prog-query-1&api_key=sk-prog-query-2&v=1";
        CHECK(rw_url(c, &p, body, openai, "gpt-4o-mini", &r) == 0);
        CHECK(r.own_server && r.same_provider == !keyed);
        if (keyed) {   /* its own key; the program's query without what is named like a credential */
            CHECK_STR(r.url, "http://127.0.0.1:5/v1/chat/completions?v=1");
            CHECK(has(&r, "Authorization: Bearer sk-gateway-own-1") && !any_contains(&r, "Bearer sk-prog"));
        } else {
            CHECK(has(&r, "Authorization: Bearer sk-prog-header-1") && strstr(r.url, "api_key=sk-prog-query-2"));
        }
        llf_req_free(&r);
        llf_headers_free(&p.headers);
        llf_config_free(c);
    }
    t_clearenv();
}

void test_rewrite(void)
{
    char err[256];
    llf_config *c = NULL;
    t_clearenv();
    t_setenv("OPENAI_API_KEY", "sk-openai");
    t_setenv("BACKUP_KEY", "sk-backup");
    t_setenv("ANTHROPIC_API_KEY", "ak-anth");
    t_setenv("GEMINI_API_KEY", "gk-gem");
    static const char cfg[] =
        "{\"providers\":{\"backup\":{\"base_url\":\"http://127.0.0.1:1/v1\",\"api_key_env\":"
        "\"BACKUP_KEY\"},\"local\":{\"base_url\":\"http://127.0.0.1:2/v1\"}}}";
    int rc = llf_config_load(cfg, strlen(cfg), "t", NULL, NULL, t_env, &c, err, sizeof err);
    CHECK(rc == 0);
    if (rc)
        return;

    /* Header sensitivity. */
    CHECK(llf_header_sensitive("Authorization: Bearer x"));
    CHECK(llf_header_sensitive("x-api-key: x"));
    CHECK(llf_header_sensitive("X-Goog-Api-Key: x"));
    CHECK(llf_header_sensitive("api-key: x"));
    CHECK(llf_header_sensitive("Cookie: a=b"));
    CHECK(llf_header_sensitive("Helicone-Auth: x"));
    CHECK(llf_header_sensitive("X-Portkey-Api-Key: x"));
    CHECK(llf_header_sensitive("OpenAI-Organization: org-1"));
    CHECK(llf_header_sensitive("x-session-id;"));
    CHECK(!llf_header_sensitive("Content-Type: application/json"));
    CHECK(!llf_header_sensitive("User-Agent: curl/7.88"));
    CHECK(!llf_header_sensitive("Accept: */*"));
    /* every word, in any case, at the start, inside and at the end of a
     * name; and the exact names whole only */
    static const char *const words[] = {"key", "TOKEN", "Secret", "aUTH", "session", "PassWord",
                                        "credential"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "%s-x: v", words[i]);
        CHECK(llf_header_sensitive(line));
        snprintf(line, sizeof line, "X-%sid: v", words[i]);
        CHECK(llf_header_sensitive(line));
        snprintf(line, sizeof line, "X-My%s;", words[i]);
        CHECK(llf_header_sensitive(line));
        snprintf(line, sizeof line, "X-Val: %s", words[i]);   /* in the value only */
        CHECK(!llf_header_sensitive(line));
    }
    CHECK(llf_header_sensitive("HOST: a") && llf_header_sensitive("content-LENGTH: 1") &&
          llf_header_sensitive("Transfer-Encoding: chunked") &&
          llf_header_sensitive("openai-project: p") && llf_header_sensitive("X-Goog-User-Project: billing"));
    CHECK(!llf_header_sensitive("Hosted: a") && !llf_header_sensitive("X-Tok: a") &&
          !llf_header_sensitive("X-\xcb\xc5\xd9: a") && !llf_header_sensitive("X-[Ke]y: a"));

    const char *body = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":0.5}";
    llf_req orig = {0};
    orig.url = "https://api.openai.com/v1/chat/completions";
    llf_headers_add(&orig.headers, "Authorization: Bearer sk-program-own");
    llf_headers_add(&orig.headers, "Content-Type: application/json");
    llf_headers_add(&orig.headers, "OpenAI-Organization: org-secret");
    llf_headers_add(&orig.headers, "X-Custom-Token: tok-secret");
    llf_headers_add(&orig.headers, "Content-Length: 12");
    llf_headers_add(&orig.headers, "User-Agent: legacy-tool/1.0");
    llf_buf_adds(&orig.body, body);
    cJSON *j = cJSON_Parse(body);
    int openai = llf_config_provider(c, "openai");

    /* To another OpenAI-dialect provider: its key, nothing of the original's. */
    llf_req r;
    CHECK(rw(c, &orig, j, openai, NULL, llf_config_provider(c, "backup"), "gpt-4o-mini",
                      0, &r) == 0);
    CHECK_STR(r.url, "http://127.0.0.1:1/v1/chat/completions");
    CHECK(has(&r, "Authorization: Bearer sk-backup"));
    CHECK(has(&r, "Content-Type: application/json"));
    CHECK(has(&r, "User-Agent: legacy-tool/1.0"));
    CHECK(!any_contains(&r, "sk-program-own") && !any_contains(&r, "org-secret") &&
          !any_contains(&r, "tok-secret") && !any_contains(&r, "sk-openai"));
    CHECK(!any_contains(&r, "Content-Length"));
    cJSON *rb = cJSON_Parse(r.body.p);
    CHECK_STR(cJSON_GetObjectItem(rb, "model")->valuestring, "gpt-4o-mini");
    CHECK(cJSON_GetObjectItem(rb, "temperature")->valuedouble == 0.5);
    cJSON_Delete(rb);
    CHECK(!r.same_provider);
    llf_req_free(&r);

    /* A header named like nothing secret whose value carries the program's
     * own credential (X-Custom: its key, a cookie's value, the key= of a
     * Gemini query) goes to no other provider; shorter words (a scheme)
     * and other values stay. */
    {
        llf_req p = {0};
        p.url = orig.url;
        llf_headers_add(&p.headers, "Authorization: Bearer sk-test-openai-7f3a");
        llf_headers_add(&p.headers, "Cookie: a=1; sess=cookie-value-123");
        llf_headers_add(&p.headers, "X-Custom: sk-test-openai-7f3a");
        llf_headers_add(&p.headers, "X-Echo: from cookie-value-123");
        llf_headers_add(&p.headers, "X-Scheme: Bearer");
        llf_headers_add(&p.headers, "X-Trace: abc-123");
        llf_headers_add(&p.headers, "X-Query: qkey-0123456789");
        llf_buf_adds(&p.body, body);
        CHECK(rw(c, &p, j, openai, "alt=sse&key=qkey-0123456789", llf_config_provider(c, "backup"), "gpt-4o-mini", 0, &r) == 0);
        CHECK(!any_contains(&r, "sk-test-openai-7f3a") && !any_contains(&r, "cookie-value-123") &&
              !any_contains(&r, "X-Custom") && !any_contains(&r, "X-Echo") && !any_contains(&r, "qkey-0123456789"));
        CHECK(has(&r, "X-Scheme: Bearer") && has(&r, "X-Trace: abc-123") && has(&r, "Authorization: Bearer sk-backup"));
        llf_req_free(&r);
        CHECK(rw(c, &p, j, openai, NULL, llf_config_provider(c, "anthropic"), "claude-x", 0, &r) == 0);
        CHECK(!any_contains(&r, "sk-test-openai-7f3a") && has(&r, "X-Trace: abc-123"));
        llf_req_free(&r);
        /* (its own provider was sent it by the program already) */
        CHECK(rw(c, &p, j, openai, NULL, openai, "gpt-4o-mini", 0, &r) == 0);
        CHECK(has(&r, "X-Custom: sk-test-openai-7f3a"));
        llf_req_free(&r);
        llf_headers_free(&p.headers);
        llf_buf_free(&p.body);
    }

    /* Credentials no word of the program's header lines shows: its libcurl
     * login options (req->creds: -u, --oauth2-bearer, -b), the password of
     * its Basic header (whole, ';' and all), its URL's userinfo (decoded),
     * an api_key= of its query; a user as long as a key (some take one as
     * the user). No header carrying one goes to another provider's member;
     * a word that is none of them (a short user) stays. */
    {
        llf_req p = {0};
        p.url = "https://u2:url-pass-%41bcdefgh@api.openai.com/v1/chat/completions";
        llf_headers_add(&p.creds, "u1");
        llf_headers_add(&p.creds, "opt-pass-0123456789");
        llf_headers_add(&p.creds, "sid=cookie-0123456789; x=1");
        llf_headers_add(&p.headers, "Authorization: Basic YmFzaWN1c2VyOmJhc2ljLXBhc3MtMDEyMzs0NTY=");
        llf_headers_add(&p.headers, "X-A: opt-pass-0123456789");
        llf_headers_add(&p.headers, "X-B: v cookie-0123456789");
        llf_headers_add(&p.headers, "X-C: basic-pass-0123;456");
        llf_headers_add(&p.headers, "X-D: url-pass-Abcdefgh");
        llf_headers_add(&p.headers, "X-E: ?api_key=qk-0123456789");
        llf_headers_add(&p.headers, "X-F: basicuser-is-long");
        llf_headers_add(&p.headers, "X-Trace: u1 abc-123");
        CHECK(rw(c, &p, j, openai, "api_key=qk-0123456789", llf_config_provider(c, "backup"), "gpt-4o-mini", 0, &r) == 0);
        for (const char *x = "ABCDEF"; *x; x++) {
            char name[8];
            snprintf(name, sizeof name, "X-%c:", *x);
            CHECK(!any_contains(&r, name));
        }
        CHECK(has(&r, "X-Trace: u1 abc-123") &&
              has(&r, "Authorization: Bearer sk-backup") && !any_contains(&r, "Basic"));
        llf_req_free(&r);
        llf_headers_free(&p.headers);
        llf_headers_free(&p.creds);
    }

    /* A keyless local provider gets no Authorization at all. */
    CHECK(rw(c, &orig, j, openai, NULL, llf_config_provider(c, "local"), "llama", 0, &r) == 0);
    CHECK(!any_contains(&r, "Authorization") && !any_contains(&r, "sk-"));
    llf_req_free(&r);

    /* Same provider, another model, key configured: the configured key. */
    CHECK(rw(c, &orig, j, openai, NULL, openai, "gpt-4o-mini", 0, &r) == 0);
    CHECK(has(&r, "Authorization: Bearer sk-openai"));
    CHECK(!any_contains(&r, "sk-program-own"));
    CHECK(has(&r, "OpenAI-Organization: org-secret") == 0);
    llf_req_free(&r);

    /* Same provider without a configured key: the program's own credentials stay. */
    int groq = llf_config_provider(c, "groq");
    CHECK(rw(c, &orig, j, groq, NULL, groq, "llama-2", 0, &r) == 0);
    CHECK(has(&r, "Authorization: Bearer sk-program-own") && r.same_provider);
    llf_req_free(&r);

    /* Anthropic target: x-api-key and anthropic-version, no Bearer. */
    CHECK(rw(c, &orig, j, openai, NULL, llf_config_provider(c, "anthropic"), "claude-x",
                      0, &r) == 0);
    CHECK_STR(r.url, "https://api.anthropic.com/v1/messages");
    CHECK(has(&r, "x-api-key: ak-anth") && has(&r, "anthropic-version: 2023-06-01"));
    CHECK(!any_contains(&r, "Bearer"));
    llf_req_free(&r);

    /* Gemini: key header, model in the URL, the program's key= query dropped. */
    int gem = llf_config_provider(c, "gemini");
    const char *gbody = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}]}";
    llf_req g = {0};
    g.url = "https://generativelanguage.googleapis.com/v1beta/models/gemini-a:generateContent?key=prog-key";
    llf_buf_adds(&g.body, gbody);
    cJSON *gj = cJSON_Parse(gbody);
    CHECK(rw(c, &g, gj, gem, "key=prog-key", gem, "gemini-b", 0, &r) == 0);
    CHECK_STR(r.url, "https://generativelanguage.googleapis.com/v1beta/models/gemini-b:generateContent");
    CHECK(has(&r, "x-goog-api-key: gk-gem"));
    CHECK(!any_contains(&r, "prog-key"));
    CHECK_STR(r.body.p, gbody);
    llf_req_free(&r);
    CHECK(rw(c, &g, gj, gem, "alt=sse&key=prog-key", gem, "gemini-b", 1, &r) == 0);
    CHECK_STR(r.url, "https://generativelanguage.googleapis.com/v1beta/models/gemini-b:streamGenerateContent?alt=sse");
    llf_req_free(&r);
    /* a tuned model is asked at its own path, and a model written as
     * Google's SDKs write it (models/M) at its path too */
    CHECK(rw(c, &g, gj, gem, "key=prog-key", gem, "tunedModels/my-tune-7", 0, &r) == 0);
    CHECK_STR(r.url, "https://generativelanguage.googleapis.com/v1beta/tunedModels/my-tune-7:generateContent");
    llf_req_free(&r);
    CHECK(rw(c, &g, gj, gem, "alt=sse", gem, "models/gemini-b", 1, &r) == 0);
    CHECK_STR(r.url, "https://generativelanguage.googleapis.com/v1beta/models/gemini-b:streamGenerateContent?alt=sse");
    llf_req_free(&r);
    /* Streamed by an OpenAI-dialect member: asked for its usage, which
     * OpenAI streams only on request. */
    CHECK(rw(c, &g, gj, gem, "alt=sse", llf_config_provider(c, "backup"), "gpt-4o-mini", 1, &r) == 0);
    CHECK(r.body.p && strstr(r.body.p, "\"stream\":true") &&
          strstr(r.body.p, "\"stream_options\":{\"include_usage\":true}"));
    llf_req_free(&r);
    CHECK(rw(c, &g, gj, gem, "alt=sse", llf_config_provider(c, "mistral"), "mistral-small", 1, &r) == 0);
    CHECK(r.body.p && !strstr(r.body.p, "stream_options"));   /* Mistral refuses it */
    llf_req_free(&r);
    /* and its models do wherever they are served (here a provider of the
     * OpenAI dialect at another base URL): they send the usage unasked */
    CHECK(rw(c, &g, gj, gem, "alt=sse", llf_config_provider(c, "backup"), "mistral-large-latest", 1, &r) == 0);
    CHECK(r.body.p && strstr(r.body.p, "\"stream\":true") && !strstr(r.body.p, "stream_options"));
    llf_req_free(&r);
    /* A Gemini program streams by its URL, not its body: its stop sequences
     * are still those of a stream, which is not cut afterwards. A reasoning
     * model keeps them (and goes on to the next member if it refuses them);
     * Claude, which refuses a blank one, is not asked; unstreamed, both
     * leave them to the cut. */
    {
        const char *sb = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}],"
                         "\"generationConfig\":{\"stopSequences\":[\"END\",\" \"]}}";
        llf_req sr = {0};
        sr.url = g.url;
        llf_buf_adds(&sr.body, sb);
        cJSON *sj = cJSON_Parse(sb);
        int backup = llf_config_provider(c, "backup"), anth = llf_config_provider(c, "anthropic");
        CHECK(rw(c, &sr, sj, gem, "alt=sse", backup, "o3", 1, &r) == 0);
        CHECK(r.body.p && strstr(r.body.p, "\"stop\":[\"END\",\" \"]"));
        llf_req_free(&r);
        CHECK(rw(c, &sr, sj, gem, NULL, backup, "o3", 0, &r) == 0);
        CHECK(r.body.p && !strstr(r.body.p, "\"stop\""));
        llf_req_free(&r);
        CHECK(rw(c, &sr, sj, gem, "alt=sse", anth, "claude-x", 1, &r) == LLF_TR_INCOMPATIBLE);
        llf_req_free(&r);
        CHECK(rw(c, &sr, sj, gem, NULL, anth, "claude-x", 0, &r) == 0);
        CHECK(r.body.p && strstr(r.body.p, "\"stop_sequences\":[\"END\"]") && !strstr(r.body.p, "\"stream\""));
        llf_req_free(&r);
        cJSON_Delete(sj);
        sr.url = NULL;
        llf_req_free(&sr);
    }
    /* A Gemini program's own functionResponse with media in its parts goes
     * to a Gemini member as sent: Gemini before 3 answers it 400
     * ("Multimodal function responses are not supported for this model"),
     * and a model not known to take them may too: skipped, as when
     * translated. Gemini 3 is sent the program's bytes. */
    {
        static const char *const bodies[] = {
            "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Show me\"}]},{\"role\":\"model\","
            "\"parts\":[{\"functionCall\":{\"name\":\"get_image\",\"args\":{}}}]},{\"role\":\"user\",\"parts\":"
            "[{\"functionResponse\":{\"name\":\"get_image\",\"response\":{},\"parts\":[{\"inlineData\":"
            "{\"mimeType\":\"image/png\",\"data\":\"QUJD\"}}]}}]}]}",
            "{\"contents\":{\"role\":\"user\",\"parts\":{\"function_response\":{\"name\":\"f\",\"response\":{},"
            "\"parts\":{\"file_data\":{\"mime_type\":\"image/png\",\"file_uri\":\"https://x.test/a.png\"}}}}}}",
        };
        static const char *const skip[] = {"gemini-2.5-flash", "models/gemini-2.0-flash", "gemini-flash-latest",
                                           "tunedModels/x"};
        for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
            llf_req fr = {0};
            fr.url = g.url;
            llf_buf_adds(&fr.body, bodies[i]);
            cJSON *fj = cJSON_Parse(bodies[i]);
            for (size_t k = 0; k < sizeof skip / sizeof skip[0]; k++) {
                CHECK(rw(c, &fr, fj, gem, "key=prog-key", gem, skip[k], 0, &r) == LLF_TR_INCOMPATIBLE);
                CHECK(!r.body.p);
                llf_req_free(&r);
            }
            CHECK(rw(c, &fr, fj, gem, "key=prog-key", gem, "gemini-3-flash-preview", 0, &r) == LLF_TR_OK);
            CHECK_STR(r.body.p, bodies[i]);
            llf_req_free(&r);
            cJSON_Delete(fj);
            llf_buf_free(&fr.body);
        }
        /* no media: any member */
        CHECK(rw(c, &g, gj, gem, "key=prog-key", gem, "gemini-2.5-flash", 0, &r) == LLF_TR_OK);
        llf_req_free(&r);
    }
    /* A base URL with a query (Azure's api-version): the operation's path
     * before it, the query kept, a stream's alt=sse after it; recognised
     * by its path. */
    t_setenv("AZ_KEY", "az-1");
    static const char qcfg[] =
        "{\"providers\":{\"azure\":{\"base_url\":\"http://127.0.0.1:3/openai/deployments/d1/?api-version=2024-06-01#x\","
        "\"api_key_env\":\"AZ_KEY\"},\"gq\":{\"dialect\":\"gemini\",\"base_url\":\"http://127.0.0.1:4/v1beta?x=1\","
        "\"api_key_env\":\"\"}}}";
    llf_config *d = NULL;
    CHECK(llf_config_load(qcfg, strlen(qcfg), "t", NULL, NULL, t_env, &d, err, sizeof err) == 0);
    if (d) {
        int az = llf_config_provider(d, "azure"), gq = llf_config_provider(d, "gq");
        CHECK_STR(d->providers[az].base_url, "http://127.0.0.1:3/openai/deployments/d1");
        CHECK(rw(d, &orig, j, llf_config_provider(d, "openai"), NULL, az, "gpt-4o", 0, &r) == 0);
        CHECK_STR(r.url, "http://127.0.0.1:3/openai/deployments/d1/chat/completions?api-version=2024-06-01");
        llf_req_free(&r);
        CHECK(rw(d, &g, gj, gem, "alt=sse", gq, "gemini-b", 1, &r) == 0);
        CHECK_STR(r.url, "http://127.0.0.1:4/v1beta/models/gemini-b:streamGenerateContent?x=1&alt=sse");
        llf_req_free(&r);
        llf_match m;
        CHECK(llf_endpoint_match(d, "http://127.0.0.1:3/openai/deployments/d1/chat/completions?api-version=2024-06-01",
                                 &m) && m.provider == az);
        llf_match_free(&m);
        llf_config_free(d);
    }
    /* A member's credentials in its base URL (a login, which libcurl sends
     * as its own Authorization: Basic, and a key= in the query) are listed
     * in its request's creds, for the program's verbose trace to hide:
     * the user and password decoded, the Basic value, the key's value, and
     * no other parameter's. */
    static const char lcfg[] =
        "{\"providers\":{\"gw\":{\"base_url\":\"http://us%65r-name:p%40ss-word-12@127.0.0.1:7/v1?v=2024-06-01&key=sk-base-query-1\","
        "\"api_key_env\":\"\"}}}";
    CHECK(llf_config_load(lcfg, strlen(lcfg), "t", NULL, NULL, t_env, &d, err, sizeof err) == 0);
    if (d) {
        CHECK(rw(d, &orig, j, llf_config_provider(d, "openai"), NULL, llf_config_provider(d, "gw"), "m", 0, &r) == 0);
        CHECK(r.creds.n == 4);
        if (r.creds.n == 4) {
            CHECK_STR(r.creds.v[0], "sk-base-query-1");
            CHECK_STR(r.creds.v[1], "user-name");
            CHECK_STR(r.creds.v[2], "p@ss-word-12");
            CHECK_STR(r.creds.v[3], "dXNlci1uYW1lOnBAc3Mtd29yZC0xMg==");   /* base64 of user-name:p@ss-word-12 */
        }
        llf_req_free(&r);
        llf_config_free(d);
    }
    cJSON_Delete(gj);
    llf_buf_free(&g.body);

    cJSON_Delete(j);
    llf_headers_free(&orig.headers);
    llf_buf_free(&orig.body);
    llf_config_free(c);
    t_clearenv();
    cJSON *b = cJSON_Parse(body);
    test_rewrite_same_provider_other_server(b);
    test_rewrite_azure_key(b);
    cJSON_Delete(b);
}

static const char *top(const char *json, char *buf, size_t n)
{
    size_t s, e;
    if (!llf_json_top_string(json, strlen(json), "model", &s, &e))
        return "-";
    snprintf(buf, n, "%.*s", (int)(e - s), json + s);
    return buf;
}

/* The member's body for the program's own dialect is the program's text with
 * only the model's value replaced (found by a scan at the top level); where the
 * text does not allow that plainly, the parsed body is printed instead. */
void test_rewrite_splice(void)
{
    char b[128];
    CHECK_STR(top("{\"model\":\"a\"}", b, sizeof b), "\"a\"");
    CHECK_STR(top(" { \"x\" : {\"model\":\"in\"}, \"s\":\"\\\"model\\\":\\\"q\\\"\" ,\n\"model\" :\t\"top\" }", b, sizeof b),
              "\"top\"");
    CHECK_STR(top("{\"messages\":[{\"model\":\"in\"}],\"model\":\"t\\\"x\"}", b, sizeof b), "\"t\\\"x\"");
    CHECK_STR(top("{\"model\":1}", b, sizeof b), "-");
    CHECK_STR(top("{\"mod\\u0065l\":\"esc\",\"model\":\"b\"}", b, sizeof b), "-");
    CHECK_STR(top("[{\"model\":\"a\"}]", b, sizeof b), "-");
    CHECK_STR(top("{\"a\":[1,{\"model\":\"x\"}]}", b, sizeof b), "-");
    CHECK_STR(top("{\"model\":\"unterminated", b, sizeof b), "-");
    /* a key with a NUL in it, which cJSON reads as cut there: "model" */
    static const char nul[] = "{\"model\0x\":\"a\",\"model\":\"b\"}";
    size_t s0, e0;
    CHECK(!llf_json_top_string(nul, sizeof nul - 1, "model", &s0, &e0));

    char err[256];
    llf_config *c = NULL;
    t_clearenv();
    t_setenv("OPENAI_API_KEY", "sk-openai");
    t_setenv("BACKUP_KEY", "sk-backup");
    static const char cfg[] = "{\"providers\":{\"backup\":{\"base_url\":\"http://127.0.0.1:1/v1\","
                              "\"api_key_env\":\"BACKUP_KEY\"}}}";
    CHECK(llf_config_load(cfg, strlen(cfg), "t", NULL, NULL, t_env, &c, err, sizeof err) == 0);
    if (!c)
        return;
    int openai = llf_config_provider(c, "openai"), backup = llf_config_provider(c, "backup");
    static const struct {
        const char *in, *model, *want;
    } cases[] = {
        /* spliced: spacing, key order and numbers exactly as the program wrote them */
        {"{ \"messages\": [{\"role\":\"user\",\"content\":\"model\"}],\n  \"model\": \"gpt-4o\", \"temperature\": 1.0e0 }",
         "gpt-4o-mini",
         "{ \"messages\": [{\"role\":\"user\",\"content\":\"model\"}],\n  \"model\": \"gpt-4o-mini\", \"temperature\": 1.0e0 }"},
        /* printed: the program's model written with an escape ... */
        {"{\"model\":\"gpt\\u002d4o\", \"temperature\": 1.0e0}", "m", "{\"model\":\"m\",\"temperature\":1}"},
        /* ... a member's model that needs one ... */
        {"{\"model\":\"gpt-4o\", \"n\": 1}", "a\"b", "{\"model\":\"a\\\"b\",\"n\":1}"},
        /* ... and a key written with one, which cJSON reads as "model" too */
        {"{\"mod\\u0065l\":\"gpt-4o\",\"model\":\"gpt-4o\"}", "m", "{\"model\":\"m\",\"model\":\"gpt-4o\"}"},
        /* printed, fitted to a member's model that would refuse part of it:
         * another family's parameters, more output than it writes */
        {"{\"model\":\"gpt-5\", \"reasoning_effort\":\"high\", \"max_completion_tokens\":100000, \"n\":1}",
         "gpt-4o-mini", "{\"model\":\"gpt-4o-mini\",\"max_completion_tokens\":16384,\"n\":1}"},
        {"{\"model\":\"gpt-4o\", \"temperature\":0.2, \"top_p\":1, \"max_tokens\":500}", "o3",
         "{\"model\":\"o3\",\"top_p\":1,\"max_completion_tokens\":25500}"},
        /* each reasoning model's own reasoning_effort values: the nearest it has */
        {"{\"model\":\"gpt-5\", \"reasoning_effort\":\"minimal\"}", "o3", "{\"model\":\"o3\",\"reasoning_effort\":\"low\"}"},
        {"{\"model\":\"gpt-5\", \"reasoning_effort\":\"minimal\"}", "gpt-5.1",
         "{\"model\":\"gpt-5.1\",\"reasoning_effort\":\"none\"}"},
        {"{\"model\":\"gpt-5.1\", \"reasoning_effort\":\"none\"}", "openai/gpt-5-mini",
         "{\"model\":\"openai/gpt-5-mini\",\"reasoning_effort\":\"minimal\"}"},
        {"{\"model\":\"gpt-5.2\", \"reasoning_effort\":\"xhigh\"}", "gpt-5.1",
         "{\"model\":\"gpt-5.1\",\"reasoning_effort\":\"high\"}"},
        {"{\"model\": \"gpt-5.2\", \"reasoning_effort\": \"xhigh\"}", "gpt-5.1-codex-max",
         "{\"model\": \"gpt-5.1-codex-max\", \"reasoning_effort\": \"xhigh\"}"},
        {"{\"model\": \"o3\", \"reasoning_effort\": \"high\"}", "gpt-5.1",
         "{\"model\": \"gpt-5.1\", \"reasoning_effort\": \"high\"}"},
        /* a reasoning model refuses stop: left out (its answer is cut at it
         * afterwards), but not from a stream, which is not */
        {"{\"model\":\"gpt-4o\", \"stop\":[\"END\"]}", "gpt-5-mini", "{\"model\":\"gpt-5-mini\"}"},
        {"{\"model\": \"gpt-4o\", \"stop\": [\"END\"], \"stream\": true}", "o3",
         "{\"model\": \"o3\", \"stop\": [\"END\"], \"stream\": true}"},
        /* a Mistral model refuses what its API lacks: the program's own
         * stream_options (its usage comes unasked), store, seed by that name */
        {"{\"model\": \"gpt-4o\", \"stream\": true, \"stream_options\": {\"include_usage\": true}, \"store\": true, "
         "\"seed\": 7}",
         "mistral-large-latest", "{\"model\":\"mistral-large-latest\",\"stream\":true,\"random_seed\":7}"},
        /* spliced: a model the library knows nothing of keeps everything */
        {"{\"model\": \"gpt-5\", \"reasoning_effort\": \"high\"}", "my-model",
         "{\"model\": \"my-model\", \"reasoning_effort\": \"high\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        llf_req orig = {0}, r;
        orig.url = "https://api.openai.com/v1/chat/completions";
        llf_buf_adds(&orig.body, cases[i].in);
        cJSON *j = cJSON_Parse(cases[i].in);
        CHECK(j && rw(c, &orig, j, openai, NULL, backup, cases[i].model, 0, &r) == 0);
        if (j) {
            CHECK_STR(r.body.p, cases[i].want);
            llf_req_free(&r);
        }
        cJSON_Delete(j);
        llf_buf_free(&orig.body);
    }
    llf_config_free(c);
    t_clearenv();
}
