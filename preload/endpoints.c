/* endpoints.c — the built-in provider table and URL recognition.
 *
 * A URL is an LLM call when it starts with a provider's base URL (same
 * scheme, host, port and path prefix, compared after curl_url normalised
 * them) and the rest of its path is its dialect's completion operation:
 * the path a member of that provider is sent (base URL + operation), so
 * that what is recognised as a provider's call and what the library sends
 * it agree. (A server that takes its operations under two bases, DeepSeek
 * with and without /v1, has the second as one more base: builtins.h.) */
#include "endpoints.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "builtins.h"
#include "curlapi.h"
#include "jsonmem.h"

extern const llf_curl_api *llf_curl;

#define ROW(n, url, key, alt, model, d, needs) {n, url, key, alt, model, d, needs},
static const llf_builtin builtins[] = {LLF_BUILTIN_PROVIDERS(ROW)};
#undef ROW

const llf_builtin *llf_builtins(size_t *n)
{
    *n = sizeof builtins / sizeof builtins[0];
    return builtins;
}

void llf_urlparts_free(llf_urlparts *u)
{
    free(u->scheme);
    free(u->host);
    free(u->path);
    memset(u, 0, sizeof *u);
}

/* Split with curl_url so that case, default ports and dot segments are
 * normalised exactly as libcurl will send them. */
static int split(const char *url, llf_urlparts *out, char **query)
{
    memset(out, 0, sizeof *out);
    if (query)
        *query = NULL;
    if (!llf_curl || !llf_curl->url)
        return -1;
    CURLU *u = llf_curl->url();
    if (!u)
        return -1;
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *q = NULL;
    int rc = -1;
    if (llf_curl->url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        llf_curl->url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        llf_curl->url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        llf_curl->url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        llf_curl->url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
        goto done;
    if (query && llf_curl->url_get(u, CURLUPART_QUERY, &q, 0) == CURLUE_OK && q && *q)
        *query = llf_strdup(q);
    out->scheme = llf_strdup(scheme);
    out->host = llf_strdup(host);
    out->path = llf_strdup(path);
    out->port = strtol(port, NULL, 10);
    if (!out->scheme || !out->host || !out->path)
        goto done;
    for (char *c = out->host; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    size_t n = strlen(out->host);
    if (n > 1 && out->host[n - 1] == '.')
        out->host[n - 1] = '\0';   /* a fully qualified name: the same host */
    n = strlen(out->path);
    while (n > 0 && out->path[n - 1] == '/')
        out->path[--n] = '\0';
    rc = 0;
done:
    llf_curl->free(scheme);
    llf_curl->free(host);
    llf_curl->free(port);
    llf_curl->free(path);
    llf_curl->free(q);
    llf_curl->url_cleanup(u);
    if (rc) {
        llf_urlparts_free(out);
        if (query) {
            free(*query);
            *query = NULL;
        }
    }
    return rc;
}

int llf_url_split(const char *url, llf_urlparts *out)
{
    return split(url, out, NULL);
}

void llf_match_free(llf_match *m)
{
    free(m->url_model);
    free(m->query);
    memset(m, 0, sizeof *m);
}

/* The last URL this thread recognised: a program calls the same endpoint
 * again and again, and parsing it with curl_url costs more than the rest of
 * recognition together. Its match owns memory (Gemini's model, and a query
 * that may hold the program's key=), freed when the thread exits: a key's
 * destructor rather than not caching such matches, which would leave every
 * Gemini call (its alt=sse) to pay the parse. */
typedef struct last_match {
    const llf_config *cfg;
    char url[512];
    llf_match m;
    int registered;   /* 0 not yet, 1 freed at exit, -1 no caching */
} last_match;

static __thread last_match last;

static void forget(void *arg)
{
    last_match *l = arg;
    if (l->cfg)
        llf_match_free(&l->m);
    l->cfg = NULL;
    l->registered = -1;   /* (a match later in this thread's exit is not kept) */
}

static llf_exit_key last_key = {forget, 0, 0};

/* Whether this thread may keep a match: one whose exit will free it. */
static int may_cache(void)
{
    if (!last.registered)
        last.registered = llf_at_thread_exit(&last_key, &last) == 0 ? 1 : -1;
    return last.registered > 0;
}

static int copy_match(llf_match *dst, const llf_match *src)
{
    *dst = *src;
    dst->url_model = src->url_model ? llf_strdup(src->url_model) : NULL;
    dst->query = src->query ? llf_strdup(src->query) : NULL;
    if ((src->url_model && !dst->url_model) || (src->query && !dst->query)) {
        llf_match_free(dst);
        return -1;
    }
    return 0;
}

static int match_uncached(const llf_config *cfg, const char *url, llf_match *m);

int llf_endpoint_match(const llf_config *cfg, const char *url, llf_match *m)
{
    memset(m, 0, sizeof *m);
    m->provider = -1;
    /* Cheap rejection before any allocation: only http(s) can be a call. */
    if (!url || strncasecmp(url, "http", 4) != 0 || !cfg->nbases)
        return 0;
    if (last.cfg == cfg && strcmp(last.url, url) == 0)
        return copy_match(m, &last.m) == 0;
    if (!match_uncached(cfg, url, m))
        return 0;
    if (strlen(url) < sizeof last.url && may_cache()) {
        llf_match keep;
        if (copy_match(&keep, m) == 0) {
            if (last.cfg)
                llf_match_free(&last.m);
            last.cfg = cfg;
            strcpy(last.url, url);
            last.m = keep;
        }
    }
    return 1;
}

/* Whether the query holds the parameter param ("name=value"). */
static int has_param(const char *query, const char *param)
{
    size_t n = strlen(param);
    for (const char *q = query; q && *q; q = strchr(q, '&') ? strchr(q, '&') + 1 : NULL)
        if (!strncmp(q, param, n) && (q[n] == '&' || q[n] == '\0'))
            return 1;
    return 0;
}

/* A base URL's host names the URL's: the same text, or a base on localhost
 * and a URL on a loopback address (Ollama's http://localhost:11434 called as
 * 127.0.0.1:11434; the shim's gate takes a loopback address for localhost
 * too). */
static int same_host(const char *base, const char *host, int alias)
{
    return alias ? strcmp(base, "localhost") == 0 && (strcmp(host, "127.0.0.1") == 0 || strcmp(host, "[::1]") == 0)
                 : strcmp(base, host) == 0;
}

static int match_uncached(const llf_config *cfg, const char *url, llf_match *m)
{
    llf_urlparts u;
    char *query = NULL;
    if (split(url, &u, &query))
        return 0;
    int found = 0;
    /* (a base naming the URL's host as written first, then one on
     * localhost: the built-in ollama's localhost:11434 took the calls of a
     * provider configured at 127.0.0.1:11434, whose model it then asked
     * again as a member) */
    for (size_t j = 0; j < 2 * cfg->nbases && !found; j++) {
        size_t i = j % cfg->nbases;
        const llf_urlparts *b = &cfg->bases[i].url;
        size_t bl = strlen(b->path);
        if (b->port != u.port || strcasecmp(b->scheme, u.scheme) != 0 ||
            !same_host(b->host, u.host, j >= cfg->nbases) || strncmp(u.path, b->path, bl) != 0 || u.path[bl] != '/')
            continue;
        const llf_provider *p = &cfg->providers[cfg->bases[i].provider];
        char *model = NULL;
        int stream = 0;
        const llf_dialect_ops *ops = llf_dialect_ops_of(p->dialect);
        if (!ops->match_op(u.path + bl, &model, &stream))
            continue;
        /* A stream in a framing other than SSE (Gemini's JSON array without
         * alt=sse) cannot be judged by its first event nor translated live:
         * it passes through. */
        if (stream && ops->stream_query && !has_param(query, ops->stream_query)) {
            free(model);
            continue;
        }
        m->provider = cfg->bases[i].provider;
        m->dialect = p->dialect;
        m->url_model = model;
        m->stream = stream;
        m->query = query;
        m->server = b;
        query = NULL;
        found = 1;
    }
    free(query);
    llf_urlparts_free(&u);
    return found;
}
