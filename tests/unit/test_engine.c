/* The engine loop, driven by a scripted transport: order, caps, budget,
 * same-provider retry, what the program finally receives. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "health.h"
#include "hubutil.h"
#include "t.h"

typedef struct script {
    const char *steps[16];   /* the rest starts zeroed */   /* "503", "200", "400", "connect", "429ra0" … */
    int n;
    char *urls[16];
    char *auth[16];
    int gone_after;          /* the program leaves after this many attempts; 0 never */
    long first_token[16];    /* each attempt's first-token limit */
    long prog_total;         /* the program's own limit on the call, ms; 0 none */
    char *names[16];         /* each attempt's function names changed (its tool_names), printed */
} script;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int fake_gone(void *ctx)
{
    script *s = ctx;
    return s->gone_after && s->n >= s->gone_after;
}

static int fake_perform(void *ctx, const llf_req *req, const llf_attempt *at, llf_resp *out)
{
    script *s = ctx;
    const char *step = s->steps[s->n] ? s->steps[s->n] : "503";
    s->first_token[s->n] = at->first_token_ms;
    memset(out, 0, sizeof *out);
    s->urls[s->n] = strdup(req->url);
    const char *a = llf_headers_get(&req->headers, "authorization", NULL);
    s->auth[s->n] = a ? strdup(a) : NULL;
    s->names[s->n] = at->tool_names ? cJSON_PrintUnformatted(at->tool_names) : NULL;
    s->n++;
    if (strcmp(step, "aborted") == 0) {   /* the program's progress callback */
        out->curlcode = CURLE_ABORTED_BY_CALLBACK;
        snprintf(out->errmsg, sizeof out->errmsg, "Callback aborted");
        return 0;
    }
    if (strcmp(step, "timeout") == 0) {   /* an attempt that runs to its total */
        sleep_ms(at->total_ms);
        out->curlcode = CURLE_OPERATION_TIMEDOUT;
        return 0;
    }
    if (strcmp(step, "fbtimeout") == 0 || strcmp(step, "fblate") == 0) {   /* our first-byte limit */
        sleep_ms(step[2] == 'l' ? at->total_ms : at->first_byte_ms);   /* (late: seen at the end) */
        out->curlcode = CURLE_ABORTED_BY_CALLBACK;
        out->first_byte_timeout = 1;
        return 0;
    }
    if (strcmp(step, "connect") == 0) {
        out->curlcode = CURLE_COULDNT_CONNECT;
        snprintf(out->errmsg, sizeof out->errmsg, "Failed to connect");
        return 0;
    }
    if (strncmp(step, "live", 4) == 0) {   /* "live200gone", "live500": went live, then the
                                              * program stopped taking it (left, or its write refused) */
        out->status = strtol(step + 4, NULL, 10);
        out->http_version = CURL_HTTP_VERSION_1_1;
        llf_buf_printf(&out->head, "HTTP/1.1 %ld X\r\ncontent-type: text/event-stream\r\n\r\n", out->status);
        out->delivered = 1;
        out->client_gone = strstr(step, "gone") != NULL;
        out->curlcode = CURLE_WRITE_ERROR;
        return 0;
    }
    long code = strtol(step, NULL, 10);
    out->status = code;
    out->http_version = CURL_HTTP_VERSION_1_1;
    llf_buf_printf(&out->head, "HTTP/1.1 %ld X\r\ncontent-type: application/json\r\n", code);
    if (strstr(step, "ra0"))
        llf_buf_adds(&out->head, "retry-after-ms: 5\r\n");
    if (strstr(step, "ra1"))
        llf_buf_adds(&out->head, "retry-after: 1\r\n");
    if (strstr(step, "ra9"))
        llf_buf_adds(&out->head, "retry-after: 9\r\n");
    if (strstr(step, "br"))   /* a coding not read here (brotli): bytes that are no JSON */
        llf_buf_adds(&out->head, "content-encoding: br\r\n");
    llf_buf_adds(&out->head, "\r\n");
    if (code == 200 && strstr(step, "br"))
        llf_buf_add(&out->body, "\x1b\x0b\x00\xf8\x25", 5);
    else if (code == 200 && strstr(step, "refuse"))   /* a refusal in words */
        llf_buf_adds(&out->body, "{\"choices\":[{\"message\":{\"content\":\"I can't help with that.\"}}]}");
    else if (code == 200 && strstr(step, "named"))   /* a call of a function the request renamed */
        llf_buf_adds(&out->body, "{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[{\"id\":\"c1\","
                                 "\"type\":\"function\",\"function\":{\"name\":\"files_read\",\"arguments\":"
                                 "\"{}\"}}]},\"finish_reason\":\"tool_calls\"}]}");
    else if (code == 200 && strstr(step, "chunks"))   /* content in chunks, as Magistral's: thinking, then text */
        llf_buf_printf(&out->body, "{\"choices\":[{\"message\":{\"content\":[{\"type\":\"thinking\",\"thinking\":"
                                   "[{\"type\":\"text\",\"text\":\"from 2\"}]},{\"type\":\"text\",\"text\":\"from %d\"}]}}]}",
                       s->n);
    else if (code == 200 && strstr(step, "tool"))   /* a tool call, no text */
        llf_buf_adds(&out->body, "{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[{\"id\":\"c1\","
                                 "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
                                 "\"finish_reason\":\"tool_calls\"}]}");
    else if (code == 200)
        llf_buf_printf(&out->body, "{\"choices\":[{\"message\":{\"content\":\"from %d\"}}]}", s->n);
    else
        llf_buf_printf(&out->body, "{\"error\":{\"message\":\"e%d\"}}", s->n);
    return 0;
}

static llf_engine eng;
static llf_config *cfg;

/* What the breaker keeps a configured provider by (its name and base URL). */
static const char *bid(const char *name)
{
    return cfg->providers[llf_config_provider(cfg, name)].breaker_id;
}

static void setup(const char *chain, int per_call, long per_process)
{
    char err[256];
    llf_config_free(cfg);
    cfg = NULL;
    t_clearenv();
    t_setenv("OPENAI_API_KEY", "sk-openai");
    t_setenv("GROQ_API_KEY", "sk-groq");
    t_setenv("MISTRAL_API_KEY", "sk-mistral");
    t_setenv("ANTHROPIC_API_KEY", "ak");
    if (llf_config_load(NULL, 0, "t", chain, NULL, t_env, &cfg, err, sizeof err))
        fprintf(stderr, "setup: %s\n", err);
    cfg->per_call = per_call;
    cfg->per_process = per_process;
    llf_engine_init(&eng, cfg);
}

static const char *BODY = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

/* Run one call to url with body; returns the final and fills s. */
static int run_to(script *s, llf_final *fin, llf_call **callp, const char *url, const char *body)
{
    llf_req orig = {0};
    orig.url = (char *)url;
    llf_headers_add(&orig.headers, "Authorization: Bearer sk-program");
    llf_buf_adds(&orig.body, body);
    llf_call *c = llf_engine_recognise(&eng, orig.url, "POST", orig.body.p, orig.body.n);
    int rc = -1;
    if (c) {
        llf_run_args a = {&orig, 0, s->prog_total, fake_perform, s, "curl", fake_gone};
        rc = llf_engine_run(&eng, c, &a, fin);
        *callp = c;
    }
    llf_headers_free(&orig.headers);
    llf_buf_free(&orig.body);
    return rc;
}

static int run(script *s, llf_final *fin, llf_call **callp)
{
    return run_to(s, fin, callp, "https://api.openai.com/v1/chat/completions", BODY);
}

static void done(script *s, llf_call *c)
{
    for (int i = 0; i < s->n; i++) {
        free(s->auth[i]);
        free(s->urls[i]);
        free(s->names[i]);
    }
    llf_call_free(c);
}

/* One call whose original and first member fail and whose last member (of
 * another dialect) answers: recognition, plan, rewrites, translation,
 * judging and the final answer all run. */
static cJSON *oom_call(const void *arg)
{
    (void)arg;
    script s = {.steps = {"503", "503", "200"}};
    llf_final fin;
    llf_call *c = NULL;
    run(&s, &fin, &c);
    done(&s, c);
    return NULL;
}

/* A Gemini program's function names that OpenAI refuses ("files.read")
 * are sent changed (dialect_gemini.c); the OpenAI member's call of one
 * reaches the program by its own name, and a stream's transport is told
 * the names (its attempt's tool_names) for its pipe. */
static void gemini_names_back(void)
{
    static const char body[] =
        "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"read it\"}]}],\"tools\":[{"
        "\"functionDeclarations\":[{\"name\":\"files.read\"}]}]}";
    setup("groq/llama", 4, 100);
    script s = {.steps = {"503", "200named"}};
    llf_final fin;
    llf_call *c = NULL;
    static const char url[] = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent";
    CHECK(run_to(&s, &fin, &c, url, body) == 0);
    CHECK(s.n == 2 && !s.names[0]);   /* (the original is the program's own) */
    CHECK_STR(s.n == 2 ? s.names[1] : NULL, "{\"files_read\":\"files.read\"}");
    cJSON *g = c && fin.resp ? cJSON_ParseWithLength(fin.resp->body.p, fin.resp->body.n) : NULL;
    const cJSON *fc = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
                                              cJSON_GetObjectItem(g, "candidates"), 0), "content"), "parts"), 0),
                                          "functionCall");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(fc, "name")), "files.read");
    cJSON_Delete(g);
    done(&s, c);
}

void test_engine(void)
{
    gemini_names_back();
    llf_final fin;
    llf_call *c;

    /* Recognition needs POST, a JSON object body and a model. */
    setup("groq/llama,mistral/mistral-small", 4, 100);
    CHECK(llf_engine_recognise(&eng, "https://api.openai.com/v1/chat/completions", "GET", BODY,
                               strlen(BODY)) == NULL);
    CHECK(llf_engine_recognise(&eng, "https://api.openai.com/v1/chat/completions", "post", BODY,
                               strlen(BODY)) == NULL);   /* (methods are case-sensitive) */
    CHECK(llf_engine_recognise(&eng, "https://api.openai.com/v1/chat/completions", "Post", BODY,
                               strlen(BODY)) == NULL);
    CHECK(llf_engine_recognise(&eng, "https://api.openai.com/v1/chat/completions", "POST",
                               "not json", 8) == NULL);
    CHECK(llf_engine_recognise(&eng, "https://api.openai.com/v1/chat/completions", "POST",
                               "{\"messages\":[]}", 15) == NULL);
    /* one JSON object and nothing more, with no NUL for cJSON to cut a name at */
    cJSON *pb = llf_engine_parse_body("{\"model\":\"m\"} ", 14);
    CHECK(cJSON_IsObject(pb));
    cJSON_Delete(pb);
    CHECK(llf_engine_parse_body("{\"model\":\"m\"} thanks", 20) == NULL);
    /* (a \u0000 is kept whole, as the provider reads it: "model\u0000x" is
     * another key than "model", not a second one) */
    pb = llf_engine_parse_body("{\"model\\u0000x\":\"a\",\"model\":\"b\"}", 32);
    CHECK(pb && cJSON_GetArraySize(pb) == 2 && !strcmp(cJSON_GetObjectItemCaseSensitive(pb, "model")->valuestring, "b"));
    cJSON_Delete(pb);
    CHECK(llf_engine_parse_body("{\"model\0x\":\"a\"}", 15) == NULL);
    CHECK(llf_engine_parse_body("[1]", 3) == NULL);
    /* a key given twice, at any depth: cJSON reads the first, servers the
     * last (a "stream" or "model" of the program's would be misread) */
    static const char *const twice[] = {
        "{\"model\":\"m\",\"stream\":false,\"messages\":[],\"stream\":true}",
        "{\"model\":\"a\",\"model\":\"b\"}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"role\":\"system\"}]}",
        "{\"model\":\"m\",\"a\":{\"b\":[{\"c\":{\"d\":1,\"\\u0064\":2}}]}}",
        "{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,"
        "\"k10\":0,\"k11\":1,\"k12\":2,\"k13\":3,\"k14\":4,\"k15\":5,\"k16\":6,\"k17\":7,\"k3\":8}",
    };
    for (size_t i = 0; i < sizeof twice / sizeof *twice; i++)
        CHECK(llf_engine_parse_body(twice[i], strlen(twice[i])) == NULL);
    static const char many[] = "{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,"
                               "\"k9\":9,\"k10\":0,\"k11\":1,\"k12\":2,\"k13\":3,\"k14\":4,\"k15\":5,\"k16\":6,"
                               "\"k17\":7,\"K3\":8,\"o\":{\"k0\":1},\"l\":[{\"a\":1},{\"a\":2}]}";
    pb = llf_engine_parse_body(many, strlen(many));
    CHECK(cJSON_IsObject(pb));   /* (the same key in two objects is two keys) */
    cJSON_Delete(pb);

    /* Primary fails, first fallback answers: it is delivered with a coherent head. */
    script s = {.steps = {"503", "200"}};
    CHECK(run(&s, &fin, &c) == 0);
    CHECK(s.n == 2 && !fin.from_original && fin.attempts == 2);
    CHECK_STR(s.urls[1], "https://api.groq.com/openai/v1/chat/completions");
    CHECK_STR(s.auth[0], "Bearer sk-program");
    CHECK_STR(s.auth[1], "Bearer sk-groq");
    CHECK(strstr(fin.head.p, "HTTP/1.1 200 OK\r\n") == fin.head.p);
    char cl[64];
    snprintf(cl, sizeof cl, "content-length: %zu\r\n", fin.resp->body.n);
    CHECK(strstr(fin.head.p, cl) != NULL);
    CHECK(strstr(fin.head.p, "x-llmfallback-provider: groq\r\n") != NULL);
    CHECK(strstr(fin.head.p, "x-llmfallback-attempts: 2\r\n") != NULL);
    CHECK(strstr(fin.resp->body.p, "from 2") != NULL);
    done(&s, c);

    /* The program left after the primary failed: no member is asked, and
     * the original failure is what there is. */
    script sg = {.steps = {"503", "200"}, .gone_after = 1};
    CHECK(run(&sg, &fin, &c) == 0 && sg.n == 1 && fin.from_original && fin.resp->status == 503 &&
          fin.attempts == 1);
    done(&sg, c);

    CHECK(fin.aborted);   /* (a hook that can tell the program so does: curl's rc 42) */

    /* The program's progress callback aborts a member's attempt: never
     * retried, no member after it, and the call is the program's to end
     * (nothing held back is given). Its abort of the original at once is
     * the original's outcome, as it came. */
    script sa = {.steps = {"503", "aborted", "200"}};
    CHECK(run(&sa, &fin, &c) == 0 && sa.n == 2 && fin.aborted && fin.attempts == 2 && fin.head.n == 0);
    done(&sa, c);
    script sb = {.steps = {"aborted", "200"}};
    CHECK(run(&sb, &fin, &c) == 0 && sb.n == 1 && !fin.aborted && fin.from_original &&
          fin.resp->curlcode == CURLE_ABORTED_BY_CALLBACK);
    done(&sb, c);
    /* ...in the original's attempt after its Retry-After: */
    script sd = {.steps = {"429ra0", "aborted", "200"}};
    CHECK(run(&sd, &fin, &c) == 0 && sd.n == 2 && fin.aborted);
    done(&sd, c);
    /* ...and when it aborts between two attempts (gone: asked then). */
    script sc = {.steps = {"429ra0", "200", "200"}, .gone_after = 1};
    CHECK(run(&sc, &fin, &c) == 0 && sc.n == 1 && fin.aborted);
    done(&sc, c);

    /* Success at once: the original, untouched, one attempt. */
    script s1 = {.steps = {"200"}};
    CHECK(run(&s1, &fin, &c) == 0 && s1.n == 1 && fin.from_original && fin.attempts == 1);
    done(&s1, c);

    /* A plain 400 is the request's fault: no fallback. */
    script s2 = {.steps = {"400", "200"}};
    CHECK(run(&s2, &fin, &c) == 0 && s2.n == 1 && fin.from_original && fin.resp->status == 400);
    done(&s2, c);

    /* Everything fails: the original failure, exactly. */
    script s3 = {.steps = {"connect", "500", "502"}};
    CHECK(run(&s3, &fin, &c) == 0 && s3.n == 3 && fin.from_original);
    CHECK(fin.resp->curlcode == CURLE_COULDNT_CONNECT);
    CHECK_STR(fin.resp->errmsg, "Failed to connect");
    done(&s3, c);
    script s3b = {.steps = {"503", "500", "connect"}};
    CHECK(run(&s3b, &fin, &c) == 0 && fin.from_original && fin.resp->status == 503);
    CHECK(strstr(fin.resp->body.p, "e1") != NULL);
    done(&s3b, c);

    /* per_call counts every attempt, the original included. */
    setup("groq/a,groq/b,groq/c,groq/d,groq/e", 3, 100);
    script s4 = {.steps = {"503", "503", "503", "200"}};
    CHECK(run(&s4, &fin, &c) == 0 && s4.n == 3 && fin.attempts == 3 && fin.from_original);
    done(&s4, c);

    /* per_process counts every extra attempt the process makes. */
    setup("groq/a,groq/b,groq/c", 4, 5);
    int total = 0;
    for (int i = 0; i < 4; i++) {
        script sx = {.steps = {"503", "503", "503", "503"}};
        CHECK(run(&sx, &fin, &c) == 0);
        total += sx.n - 1;
        done(&sx, c);
    }
    CHECK(total == 5);
    CHECK(llf_budget_used(&eng.budget) == 5);
    script s5 = {.steps = {"503", "200"}};
    CHECK(run(&s5, &fin, &c) == 0 && s5.n == 1 && fin.from_original);   /* spent */
    done(&s5, c);

    /* A short Retry-After is waited for once on the same provider. */
    setup("groq/a", 4, 100);
    script s6 = {.steps = {"429ra0", "200"}};
    CHECK(run(&s6, &fin, &c) == 0 && s6.n == 2 && fin.from_original && fin.resp->status == 200);
    CHECK_STR(s6.urls[1], "https://api.openai.com/v1/chat/completions");
    done(&s6, c);
    /* A 2xx in a coding not read here is the program's own to read, but a
     * member's (asked for none) is no answer. */
    /* An original judged no answer (a refusal in words) handed over
     * because every member failed is a failure of the call, as judged, not
     * judged again without the configuration (which took it for an answer) */
    unsigned long fails0 = eng.stats.failures;
    script rf = {.steps = {"200refuse", "503"}};
    CHECK(run(&rf, &fin, &c) == 0 && rf.n == 2 && fin.from_original && fin.resp->status == 200);
    CHECK(eng.stats.failures == fails0 + 1);
    done(&rf, c);
    script br = {.steps = {"200br"}};
    CHECK(run(&br, &fin, &c) == 0 && br.n == 1 && fin.from_original);
    done(&br, c);
    script br2 = {.steps = {"503", "200br"}};
    CHECK(run(&br2, &fin, &c) == 0 && br2.n == 2 && fin.from_original && fin.resp->status == 503);
    done(&br2, c);
    /* what the original says after its wait that is no reason to fall
     * back is the program's, as at first: no member is asked */
    script s6b = {.steps = {"429ra0", "400", "200"}};
    CHECK(run(&s6b, &fin, &c) == 0 && s6b.n == 2 && fin.from_original && fin.resp->status == 400);
    CHECK(strstr(fin.resp->body.p, "e2") != NULL);
    done(&s6b, c);
    /* ...but not what the program itself stopped in it: its own limit ran
     * out on the retry, and its answer is the 429 it got, as without the
     * wait (it was our timeout: curl's 28 for a prompt 429) */
    script s6c = {.steps = {"429ra0", "timeout", "200"}, .prog_total = 200};
    CHECK(run(&s6c, &fin, &c) == 0 && s6c.n == 2 && fin.from_original && fin.resp->status == 429);
    done(&s6c, c);
    script s7 = {.steps = {"429ra0", "429ra0", "200"}};   /* once only, then the chain */
    CHECK(run(&s7, &fin, &c) == 0 && s7.n == 3 && !fin.from_original);
    CHECK_STR(s7.urls[2], "https://api.groq.com/openai/v1/chat/completions");
    done(&s7, c);
    script s8 = {.steps = {"503ra9", "200"}};             /* too long: move on at once */
    CHECK(run(&s8, &fin, &c) == 0 && s8.n == 2 && !fin.from_original);
    CHECK_STR(s8.urls[1], "https://api.groq.com/openai/v1/chat/completions");
    done(&s8, c);
    /* The default first-token limit is first_byte's, but not for an OpenAI
     * reasoning model, silent from its role chunk to its answer; a limit
     * set in the file holds for it too. */
    setup("openai/o3-pro,groq/llama", 4, 100);
    script ft = {.steps = {"503", "503", "200"}};
    CHECK(run(&ft, &fin, &c) == 0 && ft.n == 3);
    CHECK(ft.first_token[0] == cfg->first_byte_ms && ft.first_token[1] == 0 && ft.first_token[2] == cfg->first_byte_ms);
    done(&ft, c);
    cfg->first_token_ms = 5000;
    script ft2 = {.steps = {"503", "200"}};
    CHECK(run(&ft2, &fin, &c) == 0 && ft2.n == 2 && ft2.first_token[1] == 5000);
    done(&ft2, c);
    setup("groq/a", 4, 100);
    /* retry.same_provider off: no resend, the chain at once */
    cfg->retry_same_provider = 0;
    script s8b = {.steps = {"429ra0", "200"}};
    CHECK(run(&s8b, &fin, &c) == 0 && s8b.n == 2 && !fin.from_original);
    CHECK_STR(s8b.urls[1], "https://api.groq.com/openai/v1/chat/completions");
    done(&s8b, c);

    /* A retry of the provider that said 429 is made only with room left for
     * a member after it: with room for one more attempt, the member is asked
     * (a 429 storm spent every call's budget on retries, and no member was
     * asked), whichever limit leaves it: per_call, per_process, the ratio. */
    setup("groq/a", 2, 100);
    script s8c = {.steps = {"429ra0", "200"}};
    CHECK(run(&s8c, &fin, &c) == 0 && s8c.n == 2 && !fin.from_original);
    CHECK_STR(s8c.urls[1], "https://api.groq.com/openai/v1/chat/completions");
    done(&s8c, c);
    setup("groq/a", 4, 1);
    script s8d = {.steps = {"429ra0", "200"}};
    CHECK(run(&s8d, &fin, &c) == 0 && s8d.n == 2 && !fin.from_original);
    CHECK_STR(s8d.urls[1], "https://api.groq.com/openai/v1/chat/completions");
    done(&s8d, c);
    setup("groq/a", 4, 100);
    llf_health_cfg fresh = {0, 1000, 0, 0};
    llf_health_init(&fresh, NULL);   /* (a fresh budget) */
    llf_retry_budget_init(1.0, 1);
    script s8e = {.steps = {"429ra0", "200"}};
    CHECK(run(&s8e, &fin, &c) == 0 && s8e.n == 2 && !fin.from_original);
    CHECK_STR(s8e.urls[1], "https://api.groq.com/openai/v1/chat/completions");
    done(&s8e, c);
    llf_retry_budget_init(0, 0);   /* (unlimited again) */

    /* Other-dialect members are tried in chain order, at their own URL; an
     * answer in the wrong shape for its dialect counts as invalid. */
    setup("anthropic/claude-x,groq/a", 4, 100);
    script s9 = {.steps = {"503", "200", "200"}};
    CHECK(run(&s9, &fin, &c) == 0 && s9.n == 3);
    CHECK_STR(s9.urls[1], "https://api.anthropic.com/v1/messages");
    CHECK(s9.auth[1] == NULL);   /* no Bearer to Anthropic */
    CHECK_STR(s9.urls[2], "https://api.groq.com/openai/v1/chat/completions");
    done(&s9, c);

    /* Synthesized heads follow the HTTP version. */
    llf_buf h = {0};
    llf_synth_head(&h, CURL_HTTP_VERSION_2_0, "application/json", 5, "p", "m", 2);
    CHECK(strncmp(h.p, "HTTP/2 200 \r\n", 13) == 0 && strstr(h.p, "content-length: 5\r\n"));
    CHECK(h.n >= 4 && strcmp(h.p + h.n - 4, "\r\n\r\n") == 0);
    llf_buf_free(&h);
    llf_synth_head(&h, CURL_HTTP_VERSION_1_1, "text/event-stream", 1234567, "backup", "gpt-4o-mini", 12);
    CHECK_STR(h.p, "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: 1234567\r\n"
                   "x-llmfallback-provider: backup\r\nx-llmfallback-model: gpt-4o-mini\r\n"
                   "x-llmfallback-attempts: 12\r\n\r\n");
    llf_buf_free(&h);
    char d0[24], d1[24], d2[24];
    CHECK(llf_buf_cats(&h, "[", llf_utoa(d0, 0), " ", llf_utoa(d1, 10), " ",
                       llf_utoa(d2, 18446744073709551615UL), (char *)NULL) == 0);
    CHECK(llf_buf_cats(&h, "", "]", (char *)NULL) == 0);   /* appends to what is there */
    CHECK_STR(h.p, "[0 10 18446744073709551615]");
    CHECK(h.n == strlen(h.p));
    /* more parts than it takes: refused, the buffer as it was */
    CHECK(llf_buf_cats(&h, "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n",
                       "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", (char *)NULL) == -1);
    CHECK_STR(h.p, "[0 10 18446744073709551615]");
    llf_buf_free(&h);
    CHECK(llf_buf_cats(&h, (char *)NULL) == 0 && h.p && h.n == 0 && h.p[0] == '\0');
    llf_buf_free(&h);

    CHECK(eng.stats.calls == 1 && eng.stats.fallbacks == 1 && eng.stats.failures == 0 &&
          eng.stats.attempts == 3);

    /* Mode override: the candidate first, with its own URL and key; the
     * program's own request is the first fallback, then the chain without
     * the candidate; the program gets the original failure when all fail. */
#define OVERRIDE(per_call, per_process)                                                       \
    do {                                                                                      \
        setup("groq/llama,mistral/mistral-small", per_call, per_process);                    \
        cfg->mode = LLF_MODE_OVERRIDE;                                                        \
        cfg->candidate = (llf_chain_entry){llf_config_provider(cfg, "groq"), strdup("llama"), 0}; \
    } while (0)
    OVERRIDE(4, 100);
    script o1 = {.steps = {"200"}};
    CHECK(run(&o1, &fin, &c) == 0 && o1.n == 1 && !fin.from_original && fin.attempts == 1);
    CHECK_STR(o1.urls[0], "https://api.groq.com/openai/v1/chat/completions");
    CHECK_STR(o1.auth[0], "Bearer sk-groq");
    CHECK(strstr(fin.head.p, "x-llmfallback-provider: groq\r\n") != NULL);
    CHECK(eng.stats.fallbacks == 0);   /* the candidate is the first choice */
    done(&o1, c);
    script o2 = {.steps = {"503", "200"}};
    CHECK(run(&o2, &fin, &c) == 0 && o2.n == 2 && fin.from_original);
    CHECK_STR(o2.urls[1], "https://api.openai.com/v1/chat/completions");
    CHECK_STR(o2.auth[1], "Bearer sk-program");
    CHECK(eng.stats.fallbacks == 1);
    done(&o2, c);
    script o3 = {.steps = {"503", "503", "200"}};
    CHECK(run(&o3, &fin, &c) == 0 && o3.n == 3 && !fin.from_original);
    CHECK_STR(o3.urls[2], "https://api.mistral.ai/v1/chat/completions");
    done(&o3, c);
    script o4 = {.steps = {"500", "connect", "502"}};
    CHECK(run(&o4, &fin, &c) == 0 && o4.n == 3 && fin.from_original);
    CHECK(fin.resp->curlcode == CURLE_COULDNT_CONNECT);
    done(&o4, c);
    /* No room for the candidate: the original alone. */
    OVERRIDE(1, 100);
    script o5 = {.steps = {"200"}};
    CHECK(run(&o5, &fin, &c) == 0 && o5.n == 1 && fin.from_original);
    CHECK_STR(o5.urls[0], "https://api.openai.com/v1/chat/completions");
    done(&o5, c);
    /* The process budget spent: candidate and original still go (neither is
     * an extra attempt), the chain does not. */
    OVERRIDE(4, 0);
    script o6 = {.steps = {"503", "503", "200"}};
    CHECK(run(&o6, &fin, &c) == 0 && o6.n == 2 && fin.from_original && fin.resp->status == 503);
    done(&o6, c);
    /* The candidate says 429, Retry-After 9 s, with one attempt left that
     * the original holds: no wait for a resend the cap would refuse. */
    OVERRIDE(2, 100);
    cfg->retry_max_wait_ms = 20000;
    script o7 = {.steps = {"429ra9", "200"}};
    double t0 = llf_mono_ms();
    CHECK(run(&o7, &fin, &c) == 0 && o7.n == 2 && fin.from_original && fin.resp->status == 200);
    CHECK(llf_mono_ms() - t0 < 4000);   /* (the wait would be 9 s or more) */
    done(&o7, c);
    /* A program that left is not waited for either. */
    OVERRIDE(4, 100);
    cfg->retry_max_wait_ms = 20000;
    script o8 = {.steps = {"429ra9", "200"}, .gone_after = 1};
    t0 = llf_mono_ms();
    CHECK(run(&o8, &fin, &c) == -1 && o8.n == 1);   /* (nothing to give: the original never went) */
    CHECK(llf_mono_ms() - t0 < 4000);
    done(&o8, c);
    /* A call already to the candidate runs as in fallback mode. */
    OVERRIDE(4, 100);
    llf_step st[LLF_MAX_STEPS];
    size_t ns = llf_plan(cfg, llf_config_provider(cfg, "groq"), "llama", LLF_OPENAI, st, LLF_MAX_STEPS);
    CHECK(ns == 2 && st[0].original && !st[0].candidate);
    ns = llf_plan(cfg, llf_config_provider(cfg, "openai"), "gpt-4o", LLF_OPENAI, st, LLF_MAX_STEPS);
    CHECK(ns == 3 && st[0].candidate && !st[0].original && st[1].original);
    CHECK_STR(st[2].model, "mistral-small");
#undef OVERRIDE

    /* A half-open probe that is not sent (the call's attempts spent, the
     * program gone) gives its lease back: the next caller probes, instead
     * of every caller skipping the member until the lease runs out. */
    setup("groq/llama", 1, 100);
    /* open after 1, cool after 100 ms (long enough that a busy machine does
     * not let the last check's probe out), a probe out up to 60 s */
    llf_health_cfg hc = {1, 100, 0, 60000};
    llf_health_init(&hc, NULL);
    llf_health_report(bid("groq"), "llama", 0, (long long)llf_mono_ms());
    struct timespec ms110 = {0, 110000000};
    nanosleep(&ms110, NULL);
    script p1 = {.steps = {"503"}};
    CHECK(run(&p1, &fin, &c) == 0 && p1.n == 1 && fin.from_original);   /* groq: per_call */
    done(&p1, c);
    CHECK(llf_health_allow(bid("groq"), "llama", (long long)llf_mono_ms()) == 2);
    llf_health_release(bid("groq"), "llama");
    setup("groq/llama", 4, 100);
    /* (the program's own provider failed too, and opened: closed again) */
    llf_health_report(bid("openai"), "gpt-4o", 1, (long long)llf_mono_ms());
    script p2 = {.steps = {"503"}, .gone_after = 1};
    CHECK(run(&p2, &fin, &c) == 0 && p2.n == 1);                         /* groq: client_gone */
    done(&p2, c);
    CHECK(llf_health_allow(bid("groq"), "llama", (long long)llf_mono_ms()) == 2);
    llf_health_release(bid("groq"), "llama");
    /* a probe that was sent and failed opens it again */
    llf_health_report(bid("openai"), "gpt-4o", 1, (long long)llf_mono_ms());
    script p3 = {.steps = {"503", "503"}};
    CHECK(run(&p3, &fin, &c) == 0 && p3.n == 2);
    done(&p3, c);
    CHECK(llf_health_allow(bid("groq"), "llama", (long long)llf_mono_ms()) == 0);
    /* A redirect is no failure: the original's is handed to the program
     * (which may follow it) as it came, and counts neither as a failure
     * nor against the breaker (open after 1 here); a member's is no answer,
     * and the next member is asked. */
    setup("groq/llama,mistral/mistral-small", 4, 100);
    llf_health_init(&hc, NULL);
    for (int i = 0; i < 2; i++) {
        script rd = {.steps = {"307"}};
        CHECK(run(&rd, &fin, &c) == 0 && rd.n == 1 && fin.from_original && fin.resp->status == 307);
        done(&rd, c);
    }
    CHECK(eng.stats.calls == 2 && eng.stats.failures == 0 && eng.stats.fallbacks == 0);
    CHECK(llf_health_allow(bid("openai"), "gpt-4o", (long long)llf_mono_ms()) == 1);
    script rm = {.steps = {"503", "307", "200"}};
    CHECK(run(&rm, &fin, &c) == 0 && rm.n == 3 && !fin.from_original);
    CHECK_STR(rm.urls[2], "https://api.mistral.ai/v1/chat/completions");
    done(&rm, c);
    llf_health_cfg off = {0, 1000, 0, 0};
    llf_health_init(&off, NULL);

    /* What the breaker is told, and what a failure that opened it leaves
     * for the same provider: */
    llf_health_cfg one = {1, 60000, 0, 60000};
    long long now;
    /* a same-provider retry is not made to a provider its breaker now
     * skips: the next member is asked at once */
    setup("groq/llama", 4, 100);
    llf_health_init(&one, NULL);
    script b1 = {.steps = {"429ra0", "200"}};
    CHECK(run(&b1, &fin, &c) == 0 && b1.n == 2 && strstr(b1.urls[1], "groq") && !fin.from_original);
    done(&b1, c);
    /* a member its breaker skips is no member to leave room for: with
     * attempts for the original's retry alone, the retry is made (it gave
     * the program the 429, the member skipped after all) */
    llf_health_cfg two = {2, 60000, 0, 60000};   /* (the original's 429 alone opens none) */
    setup("groq/llama", 2, 100);
    llf_health_init(&two, NULL);
    for (int i = 0; i < 2; i++)
        llf_health_report(bid("groq"), "llama", 0, (long long)llf_mono_ms());
    script b1b = {.steps = {"429ra0", "200"}};
    CHECK(run(&b1b, &fin, &c) == 0 && b1b.n == 2 && fin.from_original && fin.resp->status == 200);
    CHECK(b1b.n == 2 && strstr(b1b.urls[1], "openai"));
    done(&b1b, c);
    /* ...and one its breaker lets through, a member still: no retry */
    llf_health_init(&two, NULL);
    script b1c = {.steps = {"429ra0", "200"}};
    CHECK(run(&b1c, &fin, &c) == 0 && b1c.n == 2 && strstr(b1c.urls[1], "groq") && !fin.from_original);
    done(&b1c, c);
    setup("groq/llama", 4, 100);
    /* a revoked key is the credential's failure, not the provider's */
    llf_health_init(&one, NULL);
    script b2 = {.steps = {"401", "200", "403", "200", "402", "200"}};
    for (int i = 0; i < 3; i++) {
        CHECK(run(&b2, &fin, &c) == 0 && b2.n == 2 * (i + 1) && !fin.from_original);
        llf_call_free(c);
    }
    done(&b2, NULL);
    now = (long long)llf_mono_ms();
    CHECK(llf_health_allow(bid("openai"), "gpt-4o", now) == 1 && !llf_health_open(bid("openai"), "gpt-4o"));
    /* the program's own limit on the call ends an attempt: its impatience,
     * not the provider's failure (our first-byte limit is the provider's) */
    script b3 = {.steps = {"timeout", "200"}, .prog_total = 60};
    CHECK(run(&b3, &fin, &c) == 0 && b3.n == 1 && fin.from_original);
    done(&b3, c);
    CHECK(!llf_health_open(bid("openai"), "gpt-4o"));
    cfg->first_byte_ms = 20;
    script b4 = {.steps = {"fbtimeout", "200"}, .prog_total = 60000};
    CHECK(run(&b4, &fin, &c) == 0 && b4.n == 2 && !fin.from_original);
    done(&b4, c);
    CHECK(llf_health_open(bid("openai"), "gpt-4o"));
    llf_health_init(&one, NULL);
    script b5 = {.steps = {"fblate", "200"}, .prog_total = 60};
    CHECK(run(&b5, &fin, &c) == 0 && b5.n == 1 && fin.from_original);
    done(&b5, c);
    CHECK(llf_health_open(bid("openai"), "gpt-4o"));   /* (ours, set shorter, though seen at the end) */
    llf_health_init(&off, NULL);
    /* a Retry-After wait is not made when it would take most of what is
     * left of the program's limit: the next member at once instead */
    CHECK(llf_wait_fits(1000, 2500) && !llf_wait_fits(1000, 2499));
    CHECK(llf_wait_fits(0, 198) && !llf_wait_fits(0, 197) && llf_wait_fits(5, 12));
    /* the jitter: up to a quarter more (0 to 99 ms for 0), drawn anew in
     * each forked child: children of one parent all waited as long */
    int in_range = 1;
    for (int i = 0; i < 200; i++) {
        long j = llf_retry_jitter(1000), z = llf_retry_jitter(0);
        in_range &= j >= 0 && j <= 250 && z >= 0 && z <= 99;
    }
    CHECK(in_range);
    long drawn[2][4];
    for (int k = 0; k < 2; k++) {
        int fds[2];
        CHECK(pipe(fds) == 0);
        pid_t pid = t_fork(1);
        if (pid == 0) {
            long mine[4];
            for (int i = 0; i < 4; i++)
                mine[i] = llf_retry_jitter(1000000);
            _exit(write(fds[1], mine, sizeof mine) == (ssize_t)sizeof mine ? 0 : 1);
        }
        close(fds[1]);
        CHECK(pid > 0 && read(fds[0], drawn[k], sizeof drawn[k]) == (ssize_t)sizeof drawn[k]);
        close(fds[0]);
        waitpid(pid, NULL, 0);
    }
    CHECK(memcmp(drawn[0], drawn[1], sizeof drawn[0]) != 0);
    /* the original skipped by its breaker waits at the end of the plan; a
     * member that takes all of the program's limit ends the call with no
     * answer, and the original is not passed through after the limit (it
     * would have had a whole limit of its own again) */
    setup("groq/llama", 4, 100);
    llf_health_init(&one, NULL);
    llf_health_report(bid("openai"), "gpt-4o", 0, (long long)llf_mono_ms());
    script late1 = {.steps = {"timeout"}, .prog_total = 60};
    unsigned long calls0 = eng.stats.calls, failures0 = eng.stats.failures, attempts0 = eng.stats.attempts;
    CHECK(run(&late1, &fin, &c) == -1 && late1.n == 1 && strstr(late1.urls[0], "groq") && fin.timed_out);
    done(&late1, c);
    /* (a call and a failure, its one attempt counted: the summary had none) */
    CHECK(eng.stats.calls == calls0 + 1 && eng.stats.failures == failures0 + 1 &&
          eng.stats.attempts == attempts0 + 1);
    script late2 = {.steps = {"503", "503"}, .prog_total = 60000};   /* (time left: the original asked last) */
    CHECK(run(&late2, &fin, &c) == 0 && late2.n == 2 && fin.from_original && !fin.timed_out);
    done(&late2, c);
    llf_health_init(&off, NULL);
    setup("groq/llama", 4, 100);
    script w1 = {.steps = {"429ra1", "200"}, .prog_total = 2000};
    double w0 = llf_mono_ms();
    CHECK(run(&w1, &fin, &c) == 0 && w1.n == 2 && strstr(w1.urls[1], "groq") && !fin.from_original);
    CHECK(llf_mono_ms() - w0 < 900);
    done(&w1, c);

    /* A process whose own cap is spent sends no extra attempt, so it spends
     * none of the ratio budget it shares with the user's other processes
     * (which it used to, earning a quarter back per call). */
    setup("groq/llama", 4, 0);
    llf_retry_budget_init(0.25, 5);
    for (int i = 0; i < 8; i++) {
        script r1 = {.steps = {"503", "200"}};
        CHECK(run(&r1, &fin, &c) == 0 && r1.n == 1 && fin.from_original);
        done(&r1, c);
    }
    CHECK(llf_retry_budget_left(1));
    /* and a slot of the process's cap taken for an attempt the ratio budget
     * then refuses goes back */
    setup("groq/llama,mistral/m", 4, 100);
    llf_health_init(&off, NULL);   /* (a fresh budget: the last one saved 5) */
    llf_retry_budget_init(0.001, 1);
    script r2 = {.steps = {"503", "503", "200"}};
    CHECK(run(&r2, &fin, &c) == 0 && r2.n == 2 && fin.from_original);
    done(&r2, c);
    CHECK(llf_budget_used(&eng.budget) == 1);
    llf_retry_budget_init(0, 0);   /* (unlimited again) */

    /* The quality gate reads an answer's text: one with none (a tool
     * call) is judged by the other checks alone, not sent to it empty */
    setup("groq/llama", 4, 1000);
    cfg->verdict.validate_cmd = strdup("grep -q 'from 2'");   /* (it takes the second answer only) */
    script q1 = {.steps = {"200tool", "200"}};
    CHECK(run(&q1, &fin, &c) == 0 && q1.n == 1 && fin.from_original);
    done(&q1, c);
    script q2 = {.steps = {"200", "200"}};
    CHECK(run(&q2, &fin, &c) == 0 && q2.n == 2 && !fin.from_original);   /* (text: it is asked) */
    done(&q2, c);
    /* ...and an answer in chunks is judged by its text, not its thinking
     * (it was sent nothing, and so not judged) */
    script q3 = {.steps = {"200chunks", "200"}};
    CHECK(run(&q3, &fin, &c) == 0 && q3.n == 2 && !fin.from_original);
    done(&q3, c);

    /* An answer live already that the program stopped taking counts by who
     * gave it: a member's is a fallback, the original's nothing, and an
     * error status passed on live a failure all the same. */
    setup("groq/llama", 4, 100);
    unsigned long fb = eng.stats.fallbacks, fl = eng.stats.failures;
    script g1 = {.steps = {"503", "live200gone"}}, g2 = {.steps = {"live200"}}, g3 = {.steps = {"live500"}};
    CHECK(run(&g1, &fin, &c) == 0 && g1.n == 2 && fin.delivered);
    done(&g1, c);
    CHECK(eng.stats.fallbacks == fb + 1 && eng.stats.failures == fl);
    CHECK(run(&g2, &fin, &c) == 0 && g2.n == 1 && fin.delivered);
    done(&g2, c);
    CHECK(eng.stats.fallbacks == fb + 1 && eng.stats.failures == fl);
    CHECK(run(&g3, &fin, &c) == 0 && g3.n == 1 && fin.delivered);
    done(&g3, c);
    CHECK(eng.stats.fallbacks == fb + 1 && eng.stats.failures == fl + 1);

    /* Out of memory at any of cJSON's allocations in turn: the call ends
     * (an answer, its original, or passed through), nothing freed twice,
     * nothing leaked. */
    setup("groq/llama,anthropic/claude-sonnet-4-5", 4, 1000000);
    t_oom_sweep(oom_call, NULL, "a call through the engine");

    llf_config_free(cfg);
    cfg = NULL;
    t_clearenv();
}
