/* Fuzz target: the request each chain member receives (llf_rewrite), from any
 * header lines and body the program sent, to every configured provider of
 * every dialect. Two properties are checked on every input:
 *   - nothing that names a credential reaches another provider: each such
 *     header in the member's request (by llf_header_sensitive, and by a list
 *     of well-known names kept here apart from it) is one the member's own
 *     dialect adds for its own key;
 *   - a member of the program's own dialect gets the program's body with only
 *     the model changed (the text splice must agree with cJSON); its model,
 *     m-new, is one no dialect fits a body to.
 * And recognition agrees with the path a member is asked at: the first header
 * line, as the rest of a URL after Gemini's base, when recognised as a call,
 * names the same model and operation once written again by op_path.
 * Input: byte 0 picks the program's provider and streaming; then header lines
 * ('\n'-separated) up to an empty line; then the body. */
#include <cjson/cJSON.h>
#include <strings.h>

#include "config.h"
#include "dialect.h"
#include "endpoints.h"
#include "engine.h"
#include "fuzz_common.h"
#include "rewrite.h"

static const char *env(const char *name)
{
    static const char *const kv[][2] = {{"OPENAI_API_KEY", "sk-openai"},
                                        {"BACKUP_KEY", "sk-backup"},
                                        {"ANTHROPIC_API_KEY", "ak-anth"},
                                        {"GEMINI_API_KEY", "gk-gem"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (strcmp(name, kv[i][0]) == 0)
            return kv[i][1];
    return NULL;
}

static llf_config *config(void)
{
    static llf_config *c;
    static const char text[] =
        "{\"providers\":{\"backup\":{\"base_url\":\"http://127.0.0.1:1/v1\",\"api_key_env\":"
        "\"BACKUP_KEY\"},\"local\":{\"base_url\":\"http://127.0.0.1:2/v1\"}}}";
    char err[256];
    if (!c && llf_config_load(text, sizeof text - 1, "fuzz", NULL, NULL, env, &c, err, sizeof err))
        __builtin_trap();
    return c;
}

/* Is line one of those the dialect adds for key? */
static int added(const llf_dialect_ops *ops, const char *key, const char *line)
{
    llf_headers a = {0};
    int found = 0;
    if (ops->auth_headers(&a, key) == 0)
        for (size_t i = 0; i < a.n && !found; i++)
            found = strcmp(a.v[i], line) == 0;
    llf_headers_free(&a);
    return found;
}

/* The credential headers every provider and proxy uses, named here apart
 * from llf_header_sensitive so that a fault in it shows too. */
static int known_secret(const char *line)
{
    static const char *const names[] = {"authorization", "proxy-authorization", "cookie",
                                        "x-api-key", "x-goog-api-key", "api-key",
                                        "openai-organization", "openai-project"};
    size_t n = strcspn(line, ":;");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && strncasecmp(line, names[i], n) == 0)
            return 1;
    return 0;
}

static void check(const llf_config *c, const llf_origin *o, int target, const llf_req *r)
{
    const llf_provider *t = &c->providers[target];
    const llf_dialect_ops *ops = llf_dialect_ops_of(t->dialect);
    if (!r->same_provider)
        for (size_t i = 0; i < r->headers.n; i++)
            if ((llf_header_sensitive(r->headers.v[i]) || known_secret(r->headers.v[i])) &&
                !added(ops, t->key, r->headers.v[i]))
                __builtin_trap();   /* a credential header that is not the member's own */
    if (t->dialect != o->dialect || !ops->model_in_body)
        return;
    cJSON *in = cJSON_Duplicate(o->body, 1), *out = cJSON_ParseWithLength(r->body.p, r->body.n);
    const cJSON *m = out ? cJSON_GetObjectItemCaseSensitive(out, "model") : NULL;
    if (!cJSON_IsString(m) || strcmp(m->valuestring, "m-new") != 0)
        __builtin_trap();   /* the member must get its own model */
    /* Compared printed, not with cJSON_Compare, which looks members up by
     * name and so finds two objects with a repeated key unequal. */
    cJSON_DeleteItemFromObjectCaseSensitive(in, "model");
    cJSON_DeleteItemFromObjectCaseSensitive(out, "model");
    /* (only where the member's model needs nothing fitted: another
     * server's model, say, gets max_tokens and no store) */
    int fitted = ops->fit && ops->fit((cJSON *)o->body, "m-new", 0) > 0;
    char *a = fitted ? NULL : cJSON_PrintUnformatted(in), *b = fitted ? NULL : cJSON_PrintUnformatted(out);
    if (a && b && strcmp(a, b) != 0)
        __builtin_trap();   /* and everything else as the program sent it */
    free(a);
    free(b);
    cJSON_Delete(in);
    cJSON_Delete(out);
}

static void check_gemini_path(const llf_config *c, const char *rest, size_t len)
{
    static const char base[] = "https://generativelanguage.googleapis.com/v1beta";
    llf_buf url = {0};
    llf_match m, again;
    if (llf_buf_adds(&url, base) || llf_buf_add(&url, rest, len) || !llf_endpoint_match(c, url.p, &m)) {
        llf_buf_free(&url);
        return;
    }
    llf_buf_reset(&url);
    if (m.dialect == LLF_GEMINI && !llf_buf_adds(&url, base) &&
        !llf_dialect_ops_of(LLF_GEMINI)->op_path(&url, m.url_model, m.stream) &&
        !llf_buf_adds(&url, m.stream ? "?alt=sse" : "")) {
        if (!llf_endpoint_match(c, url.p, &again))
            __builtin_trap();   /* a member would be asked at a path we do not take for a call */
        if (!again.url_model || strcmp(again.url_model, m.url_model) != 0 || again.stream != m.stream)
            __builtin_trap();   /* ... or for another model or operation */
        llf_match_free(&again);
    }
    llf_match_free(&m);
    llf_buf_free(&url);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    fuzz_init();
    llf_config *c = config();
    if (n < 1)
        return 0;
    static const char *const origins[] = {"openai", "anthropic", "gemini", "groq"};
    int provider = llf_config_provider(c, origins[(d[0] & 0x7f) % 4]);
    int stream = d[0] >> 7;
    char *s = fuzz_str(d + 1, n - 1);
    if (!s || provider < 0) {
        free(s);
        return 0;
    }
    check_gemini_path(c, s, strcspn(s, "\n"));
    llf_req req = {0};
    req.url = "http://127.0.0.1:3/v1/x";
    char *p = s, *end = s + (n - 1);
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == p) {   /* the empty line: the body follows */
            p++;
            break;
        }
        if (nl)
            *nl = '\0';
        llf_headers_add(&req.headers, p);
        p = nl ? nl + 1 : end;
    }
    llf_buf_add(&req.body, p, (size_t)(end - p));
    cJSON *body = llf_engine_parse_body(req.body.p, req.body.n);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(body, "model");
    llf_dialect dialect = c->providers[provider].dialect;
    int in_body = llf_dialect_ops_of(dialect)->model_in_body;
    /* As llf_engine_recognise admits a call: an object, with its model a
     * non-empty string where the dialect keeps it in the body. */
    if (cJSON_IsObject(body) && (!in_body || (cJSON_IsString(model) && *model->valuestring))) {
        llf_origin o = {&req, body, provider, dialect, in_body ? NULL : "m-old", NULL, stream, NULL};
        for (size_t t = 0; t < c->nproviders; t++) {
            llf_req r;
            llf_terr e;
            if (llf_rewrite(c, &o, (int)t, "m-new", &r, &e) == LLF_TR_OK) {
                check(c, &o, (int)t, &r);
                llf_req_free(&r);
            }
        }
        cJSON_Delete(o.hub);
    }
    cJSON_Delete(body);
    llf_headers_free(&req.headers);
    llf_buf_free(&req.body);
    free(s);
    return 0;
}
