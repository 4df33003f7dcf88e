/* rewrite.c — per-member requests (see rewrite.h).
 *
 * Credentials: every header that could carry a secret or identify the
 * program's account (Authorization, *-api-key, cookies, anything named like a
 * key, token, secret or session, OpenAI organisation/project) is dropped, then
 * the member's own key is added in its dialect's header. Only a member of the
 * program's own provider without a configured key keeps the program's own
 * credentials: they were already going there. */
#include "rewrite.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int name_has(const char *line, size_t n, const char *word)
{
    size_t w = strlen(word);
    for (size_t i = 0; i + w <= n; i++)
        if (strncasecmp(line + i, word, w) == 0)
            return 1;
    return 0;
}

int llf_header_sensitive(const char *line)
{
    static const char *const exact[] = {"authorization", "cookie", "host", "content-length",
                                        "transfer-encoding", "openai-organization",
                                        "openai-project", NULL};
    static const char *const words[] = {"key", "token", "secret", "auth", "session",
                                        "password", "credential", NULL};
    size_t n = strcspn(line, ":;");
    for (const char *const *e = exact; *e; e++)
        if (strlen(*e) == n && strncasecmp(line, *e, n) == 0)
            return 1;
    for (const char *const *w = words; *w; w++)
        if (name_has(line, n, *w))
            return 1;
    return 0;
}

/* Headers that belong to one dialect's API and mean nothing (or something
 * else) to another. */
static int other_dialect_header(const char *line, llf_dialect target)
{
    if (strncasecmp(line, "anthropic-", 10) == 0)
        return target != LLF_ANTHROPIC;
    if (strncasecmp(line, "x-goog-", 7) == 0)
        return target != LLF_GEMINI;
    if (strncasecmp(line, "openai-", 7) == 0)
        return target != LLF_OPENAI;
    return 0;
}

/* The query without key= parameters (Gemini accepts its key there). */
static int add_query_without_key(llf_buf *url, const char *q)
{
    int first = 1;
    while (q && *q) {
        size_t n = strcspn(q, "&");
        if (!(n >= 4 && strncmp(q, "key=", 4) == 0) && n > 0) {
            if (llf_buf_adds(url, first ? "?" : "&") || llf_buf_add(url, q, n))
                return -1;
            first = 0;
        }
        q += n + (q[n] == '&');
    }
    return 0;
}

void llf_req_free(llf_req *r)
{
    free(r->url);
    llf_headers_free(&r->headers);
    llf_buf_free(&r->body);
    memset(r, 0, sizeof *r);
}

int llf_rewrite(const llf_config *cfg, const llf_req *orig, const cJSON *body, int orig_provider,
                const char *orig_query, int target, const char *model, int stream, llf_req *out)
{
    memset(out, 0, sizeof *out);
    const llf_provider *t = &cfg->providers[target];
    const llf_dialect_ops *ops = llf_dialect_ops_of(t->dialect);
    int same = target == orig_provider;
    int keep_creds = same && !t->key;
    llf_buf url = {0};
    if (llf_buf_adds(&url, t->base_url) || ops->op_path(&url, model, stream))
        goto fail;
    if (same && orig_query) {
        if (keep_creds ? (llf_buf_adds(&url, "?") || llf_buf_adds(&url, orig_query))
                       : add_query_without_key(&url, orig_query))
            goto fail;
    } else if (stream && ops->stream_query) {
        if (llf_buf_adds(&url, "?") || llf_buf_adds(&url, ops->stream_query))
            goto fail;
    }
    out->url = llf_buf_steal(&url);
    out->same_provider = keep_creds;

    for (size_t i = 0; i < orig->headers.n; i++) {
        const char *h = orig->headers.v[i];
        if (!keep_creds && llf_header_sensitive(h))
            continue;
        if (!same && other_dialect_header(h, t->dialect))
            continue;
        if (llf_header_is(h, "content-length") || llf_header_is(h, "host") ||
            llf_header_is(h, "transfer-encoding"))
            continue;
        if (llf_headers_add(&out->headers, h))
            goto fail;
    }
    if (!keep_creds && ops->auth_headers(&out->headers, t->key))
        goto fail;
    if (!llf_headers_get(&out->headers, "content-type", NULL) &&
        llf_headers_add(&out->headers, "Content-Type: application/json"))
        goto fail;

    if (ops->model_in_body) {
        cJSON *copy = cJSON_Duplicate(body, 1);
        if (!copy)
            goto fail;
        cJSON *m = cJSON_CreateString(model);
        int ok = m && (cJSON_GetObjectItemCaseSensitive(copy, "model")
                           ? cJSON_ReplaceItemInObjectCaseSensitive(copy, "model", m)
                           : cJSON_AddItemToObject(copy, "model", m));
        if (!ok)
            cJSON_Delete(m);
        char *s = ok ? cJSON_PrintUnformatted(copy) : NULL;
        cJSON_Delete(copy);
        if (!s)
            goto fail;
        out->body.p = s;
        out->body.n = strlen(s);
        out->body.cap = out->body.n + 1;
    } else if (llf_buf_add(&out->body, orig->body.p ? orig->body.p : "", orig->body.n)) {
        goto fail;
    }
    return 0;
fail:
    llf_buf_free(&url);
    llf_req_free(out);
    return -1;
}
