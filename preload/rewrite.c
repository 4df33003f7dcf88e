/* rewrite.c — per-member requests (see rewrite.h).
 *
 * Credentials: every header that could carry a secret or identify the
 * program's account (Authorization, *-api-key, cookies, anything named like a
 * key, token, secret or session, OpenAI organisation/project, Google's
 * billing project) is dropped, then
 * the member's own key is added in its dialect's header; another provider's
 * member gets no header whose value carries one of the program's
 * credentials either, whatever its name (nor one given otherwise: a libcurl
 * login option, the password of a Basic header or of its URL). Only a
 * member of the program's own provider without a configured key, sent to
 * the very server the program addressed (scheme, host and port), keeps the
 * program's own credentials: they were already going there. A provider whose base URL the config
 * moved is still called at its official one by some programs (both are
 * recognised): a member of it goes to the other server, as another
 * provider's would, with its own key or none. */
#include "rewrite.h"

#include "curlapi.h"
#include "hubutil.h"
#include "models.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern const llf_curl_api *llf_curl;   /* (core.c) */

#define W(s) {s, sizeof s - 1}
typedef struct {
    const char *w;
    size_t      n;
} word;

static int exact_in(const char *line, size_t n, const word *list, size_t k)
{
    for (size_t i = 0; i < k; i++)
        if (list[i].n == n && strncasecmp(line, list[i].w, n) == 0)
            return 1;
    return 0;
}

/* line's name is its first n bytes. */
static int credential(const char *line, size_t n)
{
    static const word exact[] = {W("authorization"), W("cookie"), W("openai-organization"),
                                 W("openai-project"), W("x-goog-user-project")};
    static const word words[] = {W("key"), W("token"), W("secret"), W("auth"), W("session"),
                                 W("password"), W("credential")};
    if (exact_in(line, n, exact, sizeof exact / sizeof exact[0]))
        return 1;
    /* Each word wherever it starts in the name. The letters that start one
     * (ASCII, either case) rule out most places at once. */
    unsigned starts = 0;
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        starts |= 1u << (words[k].w[0] - 'a');
    for (size_t i = 0; i < n; i++) {
        unsigned l = ((unsigned char)line[i] | 0x20) - 'a';
        if (l >= 26 || !(starts >> l & 1))
            continue;
        char c = (char)('a' + l);
        for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
            if (c == words[k].w[0] && n - i >= words[k].n &&
                strncasecmp(line + i, words[k].w, words[k].n) == 0)
                return 1;
    }
    return 0;
}

int llf_header_credential(const char *line)
{
    return credential(line, strcspn(line, ":;"));
}

/* Is a base URL's host (as the config split it: lower case, no trailing
 * dot) Azure OpenAI's (RESOURCE.openai.azure.com, and the Foundry ones,
 * *.cognitiveservices.azure.com, *.services.ai.azure.com)? Its API keys go
 * in an "api-key" header, as Azure's SDKs send them; as a Bearer token only
 * its v1 API takes one. */
static int azure_host(const char *host)
{
    static const char *const suffixes[] = {".openai.azure.com", ".cognitiveservices.azure.com",
                                           ".services.ai.azure.com"};
    size_t n = host ? strlen(host) : 0;
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && strcmp(host + n - k, suffixes[i]) == 0)
            return 1;
    }
    return 0;
}

int llf_header_sensitive(const char *line)
{
    static const word framing[] = {W("host"), W("content-length"), W("transfer-encoding")};
    size_t n = strcspn(line, ":;");
    return exact_in(line, n, framing, sizeof framing / sizeof framing[0]) || credential(line, n);
}
#undef W

/* Is the query parameter q (its first n bytes) named like a credential
 * (Gemini's key=, api_key=, access_token=)? */
static int credential_param(const char *q, size_t n)
{
    const char *eq = memchr(q, '=', n);
    return credential(q, eq ? (size_t)(eq - q) : n);
}

/* Shorter words are no one's secret alone, and would match too much. */
#define SECRET_MIN 8

/* Does line hold a word of the credential value v? Words are split at
 * white space, ',', ';' and '&', and a word's value after its '=' (a
 * cookie's, a key= parameter's) is one too; a scheme ("Bearer") is too
 * short to count. */
static int holds_word_of(const char *line, const char *v)
{
    static const char sep[] = " \t,;&";
    size_t len = strlen(line);
    while (*v) {
        v += strspn(v, sep);
        size_t n = strcspn(v, sep);
        const char *eq = memchr(v, '=', n);
        size_t m = eq ? n - (size_t)(eq + 1 - v) : 0;
        if ((n >= SECRET_MIN && memmem(line, len, v, n)) || (m >= SECRET_MIN && memmem(line, len, eq + 1, m)))
            return 1;
        v += n;
    }
    return 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* n bytes at p in base64, appended to out. (Written here: libcurl keeps
 * its own base64 private, and the core links no OpenSSL, whose
 * EVP_EncodeBlock the shim uses.) */
static int base64_add(llf_buf *out, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        char q[4] = {b64[v >> 18], b64[v >> 12 & 63], i + 1 < n ? b64[v >> 6 & 63] : '=', i + 2 < n ? b64[v & 63] : '='};
        if (llf_buf_add(out, q, 4))
            return -1;
    }
    return 0;
}

/* A login's user and password added to list as values (but empty ones);
 * with basic, also the value of the Basic credential libcurl makes of them
 * ("user:password" in base64). */
static int add_login(llf_headers *list, const char *user, const char *pass, int basic)
{
    if ((*user && llf_headers_add(list, user)) || (*pass && llf_headers_add(list, pass)))
        return -1;
    if (!basic)
        return 0;
    llf_buf up = {0}, v = {0};
    int rc = llf_buf_cats(&up, user, ":", pass, NULL) || base64_add(&v, (const unsigned char *)up.p, up.n) ||
             llf_headers_add(list, v.p);
    llf_buf_free(&up);
    llf_buf_free(&v);
    return rc ? -1 : 0;
}

/* The login in a URL's userinfo (scheme://USER:PASSWORD@host/), as libcurl
 * sends it (curl_url's, decoded), added to list (add_login). */
static int add_url_login(llf_headers *list, const char *url, int basic)
{
    /* (no '@', no login: the common case costs no parse) */
    if (!url || !strchr(url, '@') || !llf_curl || !llf_curl->url)
        return 0;
    CURLU *u = llf_curl->url();
    if (!u)
        return -1;
    char *user = NULL, *pass = NULL;
    int rc = 0;
    if (llf_curl->url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        llf_curl->url_get(u, CURLUPART_USER, &user, CURLU_URLDECODE);
        llf_curl->url_get(u, CURLUPART_PASSWORD, &pass, CURLU_URLDECODE);
        if (user || pass)
            rc = add_login(list, user ? user : "", pass ? pass : "", basic);
    }
    llf_curl->free(user);
    llf_curl->free(pass);
    llf_curl->url_cleanup(u);
    return rc;
}

/* The login a Basic credential's value carries (n bytes of base64 at s)
 * added to list (add_login): its password shows in no word of that value. */
static int add_basic_login(llf_headers *list, const char *s, size_t n)
{
    char *d = malloc(n / 4 * 3 + 3);
    if (!d)
        return -1;
    size_t k = 0;
    unsigned acc = 0;
    int bits = 0;
    const char *c;
    for (size_t i = 0; i < n && s[i] && (c = strchr(b64, s[i])); i++) {   /* (to its padding) */
        acc = acc << 6 | (unsigned)(c - b64);
        if ((bits += 6) >= 8) {
            bits -= 8;
            d[k++] = (char)(acc >> bits & 0xff);
        }
    }
    d[k] = '\0';
    char *colon = memchr(d, ':', k);
    if (colon)
        *colon = '\0';
    int rc = add_login(list, d, colon ? colon + 1 : "", 0);
    free(d);
    return rc;
}

/* The values of query's parameters named like a credential (a base URL's
 * key=) added to list. */
static int add_param_values(llf_headers *list, const char *query)
{
    for (const char *q = query; *q;) {
        size_t n = strcspn(q, "&");
        const char *eq = memchr(q, '=', n);
        if (eq && eq + 1 < q + n && credential_param(q, n)) {
            char *v = strndup(eq + 1, n - (size_t)(eq + 1 - q));
            int rc = v ? llf_headers_add(list, v) : -1;
            free(v);
            if (rc)
                return -1;
        }
        q += n + (q[n] == '&');
    }
    return 0;
}

/* The program's credentials that no word of its header lines shows, as
 * values: those it gave libcurl as options (req->creds), and the user and
 * password of a Basic header of its and of its URL's userinfo. */
static int program_logins(const llf_req *req, llf_headers *out)
{
    for (size_t i = 0; i < req->creds.n; i++)
        if (llf_headers_add(out, req->creds.v[i]))
            return -1;
    for (size_t i = 0; i < req->headers.n; i++) {
        const char *h = req->headers.v[i], *colon = strchr(h, ':');
        size_t n;
        const char *v = colon ? llf_trim(colon + 1, colon + strlen(colon), &n) : NULL;
        if (v && n > 6 && strncasecmp(v, "basic", 5) == 0 && (v[5] == ' ' || v[5] == '\t') &&
            llf_header_credential(h)) {
            size_t sp = 5 + strspn(v + 5, " \t");
            if (add_basic_login(out, v + sp, n - sp))
                return -1;
        }
    }
    return add_url_login(out, req->url, 0);
}

/* A header whose name says nothing of a secret but whose value carries the
 * program's own credential (X-Custom: sk-...): the value of a credential
 * header of the program's, one of its logins (program_logins), or the
 * value of a parameter of its query named like a credential (key=,
 * api_key=). */
static int carries_credential(const char *h, const llf_headers *in, const llf_headers *logins, const char *query)
{
    /* (the value first: reading a name as a credential's costs more, and
     * this runs for every header a member of another provider is sent) */
    for (size_t i = 0; i < in->n; i++) {
        const char *c = in->v[i], *colon = strchr(c, ':');
        if (c != h && colon && holds_word_of(h, colon + 1) && llf_header_credential(c))
            return 1;
    }
    for (size_t i = 0; i < logins->n; i++)   /* (whole too: a password may hold a ';') */
        if ((strlen(logins->v[i]) >= SECRET_MIN && strstr(h, logins->v[i])) || holds_word_of(h, logins->v[i]))
            return 1;
    while (query && *query) {
        size_t n = strcspn(query, "&");
        const char *eq = memchr(query, '=', n);
        size_t m = eq ? n - (size_t)(eq + 1 - query) : 0;
        if (m >= SECRET_MIN && credential_param(query, n) && memmem(h, strlen(h), eq + 1, m))
            return 1;
        query += n + (query[n] == '&');
    }
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

/* The query without parameters named like credentials (Gemini accepts its
 * key there). */
static int add_query_without_key(llf_buf *url, const char *q)
{
    int first = 1;
    while (q && *q) {
        size_t n = strcspn(q, "&");
        if (!credential_param(q, n) && n > 0) {
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
    llf_headers_free(&r->creds);
    llf_buf_free(&r->body);
    memset(r, 0, sizeof *r);
}

static int headers_copy(llf_headers *dst, const llf_headers *src)
{
    for (size_t i = 0; i < src->n; i++)
        if (llf_headers_add(dst, src->v[i]))
            return -1;
    return 0;
}

int llf_req_copy(llf_req *dst, const llf_req *src)
{
    memset(dst, 0, sizeof *dst);
    dst->same_provider = src->same_provider;
    dst->own_server = src->own_server;
    if ((src->url && !(dst->url = llf_strdup(src->url))) || headers_copy(&dst->headers, &src->headers) ||
        headers_copy(&dst->creds, &src->creds) || llf_buf_add(&dst->body, src->body.p, src->body.n)) {
        llf_req_free(dst);
        return -1;
    }
    return 0;
}

/* body printed into out. */
static int print_into(llf_buf *out, const cJSON *body)
{
    char *s = cJSON_PrintUnformatted(body);
    if (!s)
        return LLF_TR_ERROR;
    llf_buf_adopt(out, s);
    return LLF_TR_OK;
}

/* No escaping needed to write s as a JSON string. */
static int plain(const char *s)
{
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
            return 0;
    return 1;
}

/* The program's body with its top-level model (old, as parsed) replaced by
 * model in the text. -1 when the text does not allow it plainly (the value
 * or key written with escapes, or a model that would need them): the
 * caller prints the tree instead. */
static int splice_model(const llf_req *req, const char *old, const char *model, llf_buf *out)
{
    const char *p = req->body.p;
    size_t n = req->body.n, s, e, ol = strlen(old);
    if (!p || !plain(model) || !llf_json_top_string(p, n, "model", &s, &e) || e - s != ol + 2 ||
        memcmp(p + s + 1, old, ol) != 0)
        return -1;
    if (llf_buf_add(out, p, s + 1) || llf_buf_adds(out, model) || llf_buf_add(out, p + e - 1, n - e + 1)) {
        llf_buf_free(out);
        return -1;
    }
    return 0;
}

int llf_origin_hub(llf_origin *o, llf_terr *e)
{
    if (o->hub)
        return LLF_TR_OK;
    const llf_dialect_ops *from = llf_dialect_ops_of(o->dialect);
    if (!from->req_to_hub) {
        llf_terr_set(e, "no translation from %s", from->name);
        return LLF_TR_INCOMPATIBLE;
    }
    int rc = from->req_to_hub(o->body, o->url_model, &o->hub, e);
    /* Gemini streams by its URL: the hub says so as OpenAI does, in its
     * body, for what reads it there (a stream's stop sequences are not
     * cut afterwards, so they are kept or the member is refused). */
    if (rc == LLF_TR_OK && o->stream && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o->hub, "stream"))) {
        cJSON_DeleteItemFromObjectCaseSensitive(o->hub, "stream");
        if (!cJSON_AddTrueToObject(o->hub, "stream")) {
            llf_terr_set(e, "out of memory");
            rc = LLF_TR_ERROR;
        }
    }
    if (rc != LLF_TR_OK) {
        cJSON_Delete(o->hub);
        o->hub = NULL;
    }
    return rc;
}

/* The member's body: the program's own, with only the model replaced, when
 * the dialect is the same (every field the program sent stays, but those
 * the member's model would refuse; a body it would refuse for what it
 * holds skips it); else translated through the hub. */
static int member_body(llf_origin *o, const llf_dialect_ops *ops, llf_dialect target, int ask_usage,
                       const char *model, llf_buf *out, llf_terr *e)
{
    if (target == o->dialect) {
        if (ops->refuses && ops->refuses(o->body, model, e) != LLF_TR_OK)
            return LLF_TR_INCOMPATIBLE;
        /* A member's model that would refuse part of the body (another
         * family's parameters, more output than it writes) gets a copy
         * fitted to it. */
        if (ops->fit && ops->fit((cJSON *)o->body, model, 0) > 0) {   /* (counted, not changed) */
            cJSON *b = cJSON_Duplicate(o->body, 1), *m = ops->model_in_body ? cJSON_CreateString(model) : NULL;
            int ok = b && (!ops->model_in_body || (m && cJSON_ReplaceItemInObjectCaseSensitive(b, "model", m)));
            if (!ok)
                cJSON_Delete(m);
            int rc = ok && ops->fit(b, model, 1) >= 0 ? print_into(out, b) : LLF_TR_ERROR;
            if (rc != LLF_TR_OK)
                llf_terr_set(e, "out of memory");
            cJSON_Delete(b);
            return rc;
        }
        if (!ops->model_in_body)
            return llf_buf_add(out, o->req->body.p ? o->req->body.p : "", o->req->body.n)
                       ? LLF_TR_ERROR : LLF_TR_OK;
        /* The model swapped in for the printing only, not the tree
         * duplicated to change one string. A recognised call of a dialect
         * with the model in its body always has it there as a string
         * (llf_engine_recognise); the body belongs to this call and its
         * thread alone. */
        cJSON *mi = cJSON_GetObjectItemCaseSensitive(o->body, "model");
        if (!cJSON_IsString(mi)) {
            llf_terr_set(e, "the request names no model");
            return LLF_TR_ERROR;
        }
        /* Cheaper still, and byte for byte the program's body: the new
         * model written over the old one in the text itself. */
        if (splice_model(o->req, mi->valuestring, model, out) == 0)
            return LLF_TR_OK;
        char *keep = mi->valuestring;
        mi->valuestring = (char *)model;
        int rc = print_into(out, o->body);
        mi->valuestring = keep;
        return rc;
    }
    const llf_dialect_ops *from = llf_dialect_ops_of(o->dialect);
    if (!from->req_to_hub || !ops->req_from_hub) {
        llf_terr_set(e, "no translation from %s to %s", from->name, ops->name);
        return LLF_TR_INCOMPATIBLE;
    }
    cJSON *body = NULL;
    int rc = llf_origin_hub(o, e);
    const char *refused = rc == LLF_TR_OK ? llf_hub_refused(o->hub) : NULL;
    if (refused) {
        llf_terr_set(e, "%s", refused);
        return LLF_TR_INCOMPATIBLE;
    }
    /* Streams are translated one answer at a time (stream.c): several in
     * one stream (n, candidateCount) would be run together. */
    const cJSON *n = rc == LLF_TR_OK ? cJSON_GetObjectItemCaseSensitive(o->hub, "n") : NULL;
    if (o->stream && cJSON_IsNumber(n) && n->valuedouble > 1) {
        llf_terr_set(e, "several answers in one stream");
        return LLF_TR_INCOMPATIBLE;
    }
    if (rc == LLF_TR_OK)
        rc = ops->req_from_hub(o->hub, model, &body, e);
    if (rc != LLF_TR_OK)
        return rc;
    /* A streaming call streams in the member's dialect too (Gemini by its
     * URL, the others by a body field the hub may not carry). An OpenAI
     * member reports a stream's usage only when asked, and the program's
     * dialect carries it. */
    if (o->stream && target != LLF_GEMINI) {
        cJSON_DeleteItemFromObjectCaseSensitive(body, "stream");
        cJSON_DeleteItemFromObjectCaseSensitive(body, "stream_options");
        cJSON *so = ask_usage ? cJSON_AddObjectToObject(body, "stream_options") : NULL;
        if (!cJSON_AddTrueToObject(body, "stream") || (ask_usage && !cJSON_AddTrueToObject(so, "include_usage")))
            rc = LLF_TR_ERROR;
    }
    if (rc == LLF_TR_OK)
        rc = print_into(out, body);
    cJSON_Delete(body);
    return rc;
}

/* Are two base URLs on one server: scheme, host and port (as curl_url
 * normalised them; a host by its name as written, so localhost is not
 * 127.0.0.1 here)? */
static int same_server(const llf_urlparts *a, const llf_urlparts *b)
{
    return a && b && a->port == b->port && strcmp(a->scheme, b->scheme) == 0 && strcmp(a->host, b->host) == 0;
}

int llf_rewrite(const llf_config *cfg, llf_origin *o, int target, const char *model, llf_req *out,
                llf_terr *e)
{
    memset(out, 0, sizeof *out);
    const llf_provider *t = &cfg->providers[target];
    const llf_dialect_ops *ops = llf_dialect_ops_of(t->dialect);
    /* The program's own provider, at the server the program addressed:
     * else another provider as far as its credentials go. */
    int same = target == o->provider && same_server(o->server, &cfg->bases[t->base].url);
    int keep_creds = same && !t->key;
    /* Mistral refuses stream_options (422) and sends a stream's usage
     * anyway, in its last chunk with the finish reason: neither its models,
     * by their names wherever they are served (as fit() reads them), nor
     * its own API are asked. */
    int ask_usage = o->stream && t->dialect == LLF_OPENAI && !llf_model_mistral(model) &&
                    !strstr(t->base_url, "api.mistral.ai");
    int rc = member_body(o, ops, t->dialect, ask_usage, model, &out->body, e);
    if (rc != LLF_TR_OK) {
        llf_buf_free(&out->body);
        return rc;
    }
    llf_buf url = {0};
    llf_headers logins = {0};   /* the program's, for another server's member */
    if (llf_buf_adds(&url, t->base_url) || ops->op_path(&url, model, o->stream))
        goto fail;
    if (same && o->query) {
        if (keep_creds ? (llf_buf_adds(&url, "?") || llf_buf_adds(&url, o->query))
                       : add_query_without_key(&url, o->query))
            goto fail;
    } else {
        /* the base URL's own query, then what a stream needs */
        const char *sep = "?";
        if (t->base_query && (llf_buf_adds(&url, sep) || llf_buf_adds(&url, t->base_query) ||
                              add_param_values(&out->creds, t->base_query)))
            goto fail;
        if (t->base_query)
            sep = "&";
        if (o->stream && ops->stream_query && (llf_buf_adds(&url, sep) || llf_buf_adds(&url, ops->stream_query)))
            goto fail;
    }
    out->url = llf_buf_steal(&url);
    out->same_provider = keep_creds;
    out->own_server = same;
    /* (libcurl sends a base URL's login as its own Authorization: Basic) */
    if (add_url_login(&out->creds, t->base_url, 1))
        goto fail;

    const llf_headers *in = &o->req->headers;
    if (!same && program_logins(o->req, &logins))
        goto fail;
    for (size_t i = 0; i < in->n; i++) {
        const char *h = in->v[i];
        /* (the sensitive ones include the framing headers below) */
        if (keep_creds ? llf_header_is(h, "content-length") || llf_header_is(h, "host") ||
                             llf_header_is(h, "transfer-encoding")
                       : llf_header_sensitive(h))
            continue;
        if (!same && (other_dialect_header(h, t->dialect) || carries_credential(h, in, &logins, o->query)))
            continue;
        /* A member is asked for no coding: its answer is judged, perhaps
         * translated, and handed over under a head of ours. (Not in so many
         * words, "Accept-Encoding: identity": the providers answer plainly
         * unasked, and the header cost some 5,000 instructions of libcurl's
         * on every member's call; one that encodes all the same is decoded,
         * engine.c's member_decoded.) */
        if (llf_header_is(h, "accept-encoding"))
            continue;
        if (llf_headers_add(&out->headers, h))
            goto fail;
    }
    if (!keep_creds && (t->dialect == LLF_OPENAI && t->key && azure_host(cfg->bases[t->base].url.host)
                            ? llf_headers_add2(&out->headers, "api-key: ", t->key)
                            : ops->auth_headers(&out->headers, t->key)))
        goto fail;
    if (!llf_headers_get(&out->headers, "content-type", NULL) &&
        llf_headers_add(&out->headers, "Content-Type: application/json"))
        goto fail;
    llf_headers_free(&logins);
    return LLF_TR_OK;
fail:
    llf_headers_free(&logins);
    llf_buf_free(&url);
    llf_req_free(out);
    llf_terr_set(e, "out of memory");
    return LLF_TR_ERROR;
}
