/* config.c — loading and validating the configuration (see config.h).
 *
 * Strict on purpose: an unknown key, a wrong type, an unknown provider or a
 * chain member without its key is an error with a one-line reason, and the
 * caller then leaves the process alone. A typo must not silently change where
 * a user's prompts go. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ascii.h"
#include "builtins.h"
#include "endpoints.h"
#include "hubutil.h"

#define DEFAULT_PER_CALL 4
#define DEFAULT_PER_PROCESS 100
#define DEFAULT_CONNECT_MS 10000
#define DEFAULT_FIRST_BYTE_MS 180000
#define DEFAULT_TOTAL_MS 600000
#define DEFAULT_RETRY_MAX_WAIT_MS 2000
#define DEFAULT_REFUSAL_MAX_CHARS 400
#define DEFAULT_VALIDATE_TIMEOUT_MS 10000
#define DEFAULT_SHADOW_SAMPLE 0.1
#define DEFAULT_SHADOW_TIMEOUT_MS 60000

/* Anchored at the start of a short answer, so an answer that merely contains
 * "I can't" somewhere is never taken for a refusal; and only a refusal's verb
 * counts, so "I can't find a bug", "I can't help but notice" or "I cannot
 * provide an exact figure, but it is about 8 billion" are answers. Verbs that
 * also begin answers (provide, give, write, answer...) count only before what
 * reads as a refusal's object ("that.", "that information", "instructions"). */
#define R_A "('|’)" /* a straight or a curly apostrophe */
#define R_END "([^[:alnum:]]|$)" /* the end of a word */
#define R_LEAD                                                                                   \
    "^[[:space:]]*(((I" R_A "m|I am)( very| really| truly| so)? sorry|sorry|I apologi[sz]e|"     \
    "my apologies|unfortunately|I" R_A "m afraid)[,.!]*( but)?[[:space:]]+)?"
#define R_AI                                                                                     \
    "(AI|artificial intelligence|LLM|(large )?language model|(text-based|virtual) AI)"           \
    "( language model| model| assistant)?"
#define R_SUBJ "(as an? " R_AI ",?[[:space:]]+I|I" R_A "m (just |only )?an? " R_AI "(,? so I|,? and( I)?)?|I)"
#define R_NEG                                                                                    \
    "((" R_A "m| am) (not able|unable|not going|not allowed|not permitted) to"                   \
    "| (can" R_A "t|cannot|can not|won" R_A "t|will not)( be able to)?"                          \
    "| (don" R_A "t|do not) have the ability to)"
#define R_OBJ                                                                                    \
    "(( you)?( with)? ((that|this|these|those|such|any|the requested|(this|that) (kind|type) of" \
    "|specific|detailed|further|medical|legal|financial) )?(information|instructions|guidance"   \
    "|advice|assistance|help|support|content|material|requests?|questions?)" R_END                \
    "|( you)? (that|this|such)( for you| here)?[[:space:]]*([^[:alnum:][:space:]]|$))"
#define R_VERB                                                                                   \
    "(assist|comply|fulfil|engage|participate|proceed with|do (that|this|so)" R_END              \
    "|help( (you|with|on|in|that|this|anyone|people|out|further|here)" R_END                      \
    "|[[:space:]]*([^[:alnum:][:space:]]|$))"                                                    \
    "|(provide|give|offer|share|create|generate|write|produce|support|answer|discuss)" R_OBJ ")"
/* (one pattern, the lead written once: a list is compiled pattern by
 * pattern and then again as one alternation; one is compiled once) */
const char *const llf_default_refusals[] = {
    R_LEAD "(" R_SUBJ R_NEG " " R_VERB
    "|I (must|have to|need to|will)( respectfully| politely)? decline"
    "|I(" R_A "m not| am not| (don" R_A "t|do not) feel) comfortable (helping|assisting|providing"
    "|writing|creating|generating|producing|sharing|engaging|discussing|participating)"
    "|(that|this)(" R_A "s| is) not something I(" R_A "m| am)? (can|able to) (help|assist|do)" R_END ")",
    NULL};
#undef R_A
#undef R_END
#undef R_LEAD
#undef R_AI
#undef R_SUBJ
#undef R_NEG
#undef R_OBJ
#undef R_VERB

typedef struct ctx {
    llf_config *c;
    char       *err;
    size_t      errlen;
    const char *origin;
    const char *entry;   /* what names a provider/model now: "chain" (NULL) or "candidate" */
} ctx;

/* A path in a message is shown by its last PATH_SHOWN bytes at most, after
 * *cut ("…" then, else ""): a long path to the file had filled the one
 * line, its reason lost. (Cut where a character starts.) */
#define PATH_SHOWN 200
const char *llf_config_path_tail(const char *path, const char **cut)
{
    size_t n = strlen(path);
    const char *t = path + (n > PATH_SHOWN ? n - PATH_SHOWN : 0);
    while ((*t & 0xc0) == 0x80)
        t++;
    *cut = t == path ? "" : "\xe2\x80\xa6";
    return t;
}

static int fail(ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(ctx *x, const char *fmt, ...)
{
    const char *cut, *o = llf_config_path_tail(x->origin, &cut);
    int n = snprintf(x->err, x->errlen, "%s%s: ", cut, o);
    if (n < 0 || (size_t)n >= x->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err + n, x->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

const char *llf_ca_bundle(const llf_config *c)
{
    const char *ca = c->ca_bundle;
    static const char *const vars[] = {"SSL_CERT_FILE", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE"};
    for (size_t i = 0; i < 3 && (!ca || !*ca); i++)
        ca = getenv(vars[i]);
    return ca && *ca ? ca : NULL;
}

int llf_config_provider(const llf_config *c, const char *name)
{
    for (size_t i = 0; i < c->nproviders; i++)
        if (strcmp(c->providers[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* How much of s a message shows, at most max bytes: cut where a character
 * starts (the line's end, where it is, must not be lost past the
 * message's room). */
static int shown_len(const char *s, int max)
{
    int n = (int)strlen(s), cut = n > max ? max : n;
    while (cut < n && cut > 0 && (s[cut] & 0xc0) == 0x80)
        cut--;
    return cut;
}

static int only_keys(ctx *x, const cJSON *obj, const char *where, const char *const *keys)
{
    for (const cJSON *it = obj->child; it; it = it->next) {
        int ok = 0;
        for (const char *const *k = keys; *k && !ok; k++)
            ok = strcmp(it->string, *k) == 0;
        if (!ok) {
            int cut = shown_len(it->string, 64);
            return fail(x, "unknown key \"%.*s%s\" in %s", cut, it->string, it->string[cut] ? "\xe2\x80\xa6" : "",
                        where);
        }
    }
    return 0;
}

/* A key as a message names it: "verdict.empty", "chain[].context", and
 * at the top (where NULL) "\"log\"" (the file's own words, whatever their
 * length: no buffer of its own cuts them). */
#define KEY_FMT "%s%s%s%s"
#define KEY_ARGS(where, key) (where) ? (where) : "\"", (where) ? "." : "", (key), (where) ? "" : "\""

static int get_long(ctx *x, const cJSON *obj, const char *where, const char *key, long min,
                    long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    /* Range first: converting a double beyond long's range is undefined.
     * One beyond it (every double that large is a whole number) is the
     * most a long holds, which each caller bounds as it does any large
     * value ("more than 1,000 count as 1,000"). */
    int huge = cJSON_IsNumber(v) && v->valuedouble >= 9.2e18;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)min) ||
        (!huge && v->valuedouble != (double)(long)v->valuedouble))
        return fail(x, KEY_FMT " must be an integer >= %ld", KEY_ARGS(where, key), min);
    *out = huge ? LONG_MAX : (long)v->valuedouble;
    return 0;
}

static int get_str(ctx *x, const cJSON *obj, const char *where, const char *key, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    if (!cJSON_IsString(v))
        return fail(x, KEY_FMT " must be a string", KEY_ARGS(where, key));
    char *s = llf_strdup(v->valuestring);
    if (!s)
        return fail(x, "out of memory");
    free(*out);
    *out = s;
    return 0;
}

static int add_provider(ctx *x, const char *name)
{
    llf_config *c = x->c;
    /* (a chain entry names its provider in at most 127 bytes) */
    if (strlen(name) > 127)
        return fail(x, "provider name \"%.*s...\" is longer than 127 characters", shown_len(name, 20), name);
    llf_provider *p = realloc(c->providers, (c->nproviders + 1) * sizeof *p);
    if (!p)
        return fail(x, "out of memory");
    c->providers = p;
    memset(&p[c->nproviders], 0, sizeof *p);
    p[c->nproviders].name = llf_strdup(name);
    if (!p[c->nproviders].name)
        return fail(x, "out of memory");
    c->nproviders++;
    return (int)c->nproviders - 1;
}

/* An environment variable's name: [A-Za-z_][A-Za-z0-9_]*. */
static int env_name(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    return n && !s[n] && !(*s >= '0' && *s <= '9');
}

/* A control character in s's first n bytes: a provider's or model's name
 * goes into the program's response headers (x-llmfallback-provider) and
 * the members' requests, where "\r\nX-Evil: 1" would be a header of its own. */
static int has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
            return 1;
    return 0;
}

/* A name shown in a message: one written as variables are by convention
 * (OPENAI_API_KEY). A key that fits env_name (gsk_..., fw_..., Mistral's
 * 32 letters and digits) pasted into api_key_env must not reach stderr. */
const char *llf_shown_var(const char *s)
{
    size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    return s[n] || !strchr(s, '_') || (*s >= '0' && *s <= '9')
               ? "the variable its api_key_env names (not shown: the name may be a key)"
               : s;
}

static int add_base(ctx *x, int provider, const char *url)
{
    llf_config *c = x->c;
    llf_urlparts u;
    /* (the URL not echoed: it may hold a password or a key=; "http:///v1",
     * no host, libcurl reads as host "v1") */
    const char *authority = strstr(url, "://");
    if ((authority && authority[3] == '/') || llf_url_split(url, &u))
        return fail(x, "provider %s: base_url is not a valid URL", c->providers[provider].name);
    if (strcmp(u.scheme, "http") != 0 && strcmp(u.scheme, "https") != 0) {
        llf_urlparts_free(&u);
        return fail(x, "provider %s: base_url must be http:// or https://",
                    c->providers[provider].name);
    }
    llf_base *b = realloc(c->bases, (c->nbases + 1) * sizeof *b);
    if (!b) {
        llf_urlparts_free(&u);
        return fail(x, "out of memory");
    }
    c->bases = b;
    b[c->nbases].provider = provider;
    b[c->nbases].url = u;
    c->nbases++;
    return 0;
}

static void strip_slash(char *s)
{
    size_t n = s ? strlen(s) : 0;
    while (n && s[n - 1] == '/')
        s[--n] = '\0';
}

static int load_builtins(ctx *x)
{
    size_t n;
    const llf_builtin *b = llf_builtins(&n);
    for (size_t i = 0; i < n; i++) {
        int idx = add_provider(x, b[i].name);
        if (idx < 0)
            return -1;
        llf_provider *p = &x->c->providers[idx];
        p->base_url = llf_strdup(b[i].base_url);
        p->dialect = b[i].dialect;
        p->key_env = llf_strdup(b[i].key_env);
        p->needs_key = b[i].needs_key;
        p->default_model = llf_strdup(b[i].default_model);
        if (!p->base_url || !p->key_env || !p->default_model)
            return fail(x, "out of memory");
    }
    return 0;
}

static int load_providers(ctx *x, const cJSON *provs)
{
    static const char *const keys[] = {"base_url", "dialect", "api_key_env", "model", NULL};
    if (!cJSON_IsObject(provs))
        return fail(x, "\"providers\" must be an object");
    for (const cJSON *it = provs->child; it; it = it->next) {
        char where[160];
        snprintf(where, sizeof where, "providers.%s", it->string);
        if (!cJSON_IsObject(it))
            return fail(x, "%s must be an object", where);
        /* (checked first: a name is not echoed with its control characters) */
        if (has_control(it->string, strlen(it->string)))
            return fail(x, "a provider's name in \"providers\" holds a control character");
        if (!*it->string || strchr(it->string, '/') || strchr(it->string, ','))
            return fail(x, "provider name \"%s\" must be non-empty without '/' or ','",
                        it->string);
        if (only_keys(x, it, where, keys))
            return -1;
        int idx = llf_config_provider(x->c, it->string);
        int builtin = idx >= 0;
        if (!builtin && (idx = add_provider(x, it->string)) < 0)
            return -1;
        llf_provider *p = &x->c->providers[idx];
        p->configured = 1;
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(it, "dialect");
        if (d) {
            int dd = cJSON_IsString(d) ? llf_dialect_from_name(d->valuestring) : -1;
            if (dd < 0)
                return fail(x, "%s.dialect must be one of openai, anthropic, gemini", where);
            p->dialect = (llf_dialect)dd;
        } else if (!builtin) {
            p->dialect = LLF_OPENAI;
        }
        char *base = NULL;
        if (get_str(x, it, where, "base_url", &base))
            return -1;
        if (base) {
            /* A query (Azure's ?api-version=) follows the operation's path,
             * not the base's: kept apart, and a fragment dropped, as curl
             * sends none. */
            char *q = base + strcspn(base, "?#");
            free(p->base_query);
            p->base_query = NULL;
            if (*q == '?' && q[1] && q[1] != '#' && !(p->base_query = llf_strndup(q + 1, strcspn(q + 1, "#"))))
                return fail(x, "out of memory");
            *q = '\0';
            strip_slash(base);
            free(p->base_url);
            p->base_url = base;
        } else if (!builtin) {
            return fail(x, "%s: base_url is required for a provider that is not built in",
                        where);
        }
        const cJSON *ke = cJSON_GetObjectItemCaseSensitive(it, "api_key_env");
        if (ke) {
            if (!cJSON_IsString(ke))
                return fail(x, "%s.api_key_env must be a string", where);
            /* Not echoed: a key pasted here by mistake must not reach stderr. */
            if (*ke->valuestring && !env_name(ke->valuestring))
                return fail(x, "%s.api_key_env must be the name of an environment variable "
                               "(letters, digits, _), not a key", where);
            free(p->key_env);
            p->key_env = *ke->valuestring ? llf_strdup(ke->valuestring) : NULL;
            p->needs_key = p->key_env != NULL;
        }
        if (get_str(x, it, where, "model", &p->default_model))
            return -1;
        if (p->default_model && has_control(p->default_model, strlen(p->default_model)))
            return fail(x, "%s.model holds a control character", where);
        /* (an empty one was asked of the provider as "model": "", which
         * every API refuses, as an empty chain entry is refused) */
        if (p->default_model && !p->default_model[strspn(p->default_model, " \t")])
            return fail(x, "%s.model is empty (leave it out for none)", where);
    }
    return 0;
}

/* A model's name as a message shows it, once model_is_key has refused one
 * that reads as a key: not one that holds 20 letters and digits in a row,
 * as a key without a known prefix does (Mistral's 32), nor a UUID's 32
 * hex digits in five groups (some gateways' keys), where models' names
 * are short words and numbers between '-', '.', ':', '_' and '/'
 * ("claude-sonnet-4-5", "gemini-2.5-flash-preview-05-20"). */
static const char *shown_model(const char *model)
{
    static const char hidden[] = "(a model not shown: it may be a key)";
    size_t run = 0;
    for (const char *p = model ? model : ""; *p; p++) {
        run = llf_ascii_alnum(*p) ? run + 1 : 0;
        if (run >= 20)
            return hidden;
    }
    /* (8-4-4-4-12: 32 hex digits, 4 dashes, 36 in all) */
    size_t n = model ? strlen(model) : 0;
    for (size_t i = 0; i + 36 <= n; i++) {
        const char *p = model + i;
        if (strspn(p, "0123456789abcdefABCDEF-") >= 36 && p[8] == '-' && p[13] == '-' && p[18] == '-' && p[23] == '-')
            return hidden;
    }
    return model ? model : "";
}

/* Does a model read as a key, one pasted after the provider's name
 * ("anthropic/sk-ant-...")? It would be sent as the model, and shown on
 * every line of the log. A key's own prefix (OpenAI's, Anthropic's,
 * OpenRouter's and DeepSeek's sk-, Gemini's AIza, Groq's gsk_, xAI's xai-,
 * Fireworks' fw_), which no model's name starts with, or a provider's key
 * itself inside it. */
static int model_is_key(const llf_config *c, const char *model)
{
    static const char prefixes[][5] = {"sk-", "AIza", "gsk_", "xai-", "fw_"};
    if (!model)
        return 0;
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (strncmp(model, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    for (size_t i = 0; i < c->nproviders; i++)
        if (c->providers[i].key && strlen(c->providers[i].key) >= 8 && strstr(model, c->providers[i].key))
            return 1;
    return 0;
}

/* One "provider" + model (NULL: the provider's default) as an entry. */
static int make_entry(ctx *x, const char *provider, size_t plen, const char *model, long context,
                      llf_chain_entry *out)
{
    char name[128];
    const char *what = x->entry ? x->entry : "chain", *entry = x->entry ? x->entry : "chain entry";
    if (plen == 0)
        return fail(x, "%s \"\" has no provider", entry);
    if (has_control(provider, plen) || (model && has_control(model, strlen(model))))
        return fail(x, "%s holds a control character in its %s", entry,
                    has_control(provider, plen) ? "provider's name" : "model");
    int idx = -1;
    if (plen < sizeof name) {   /* (no provider has a longer name) */
        memcpy(name, provider, plen);
        name[plen] = '\0';
        idx = llf_config_provider(x->c, name);
    }
    /* A key pasted as an entry (LLMFALLBACK_CHAIN="backup/x,sk-ant-...")
     * is no provider: not echoed when it reads as one, as the log's
     * details are not. */
    if (idx < 0 && (plen >= sizeof name || llf_terr_word(name) != name))
        return fail(x, "%s names an unknown provider (not shown: it may be a key; %zu characters)", what, plen);
    if (idx < 0)
        return fail(x, "%s names unknown provider \"%s\" (not built in, not in \"providers\")",
                    what, name);
    const llf_provider *p = &x->c->providers[idx];
    if (!model || !*model)
        model = p->default_model;
    if (!model)
        return fail(x, "%s \"%s\" needs a model (write %s/MODEL)", entry, name, name);
    /* Gemini's models/M (as Google's SDKs write it) is M, the name a call's
     * URL gives: one model, to the plan's "never the same again", the
     * breaker and the log. (tunedModels/M is its own collection's name.) */
    if (p->dialect == LLF_GEMINI && strncmp(model, "models/", 7) == 0 && model[7])
        model += 7;
    /* (the model goes back to the program in x-llmfallback-model: a line
     * past what its HTTP client takes, 16 KiB for Node's, failed the call
     * whose answer it was; no model's name comes near 256) */
    if (strlen(model) > 256)
        return fail(x, "%s \"%s\": its model is longer than 256 characters", entry, name);
    out->provider = idx;
    out->context = context;
    if (!(out->model = llf_strdup(model)))
        return fail(x, "out of memory");
    return 0;
}

/* e to the end of the chain (which then owns its model). */
static int append_chain(ctx *x, llf_chain_entry e)
{
    if (x->c->nchain >= LLF_CHAIN_MAX) {
        free(e.model);
        return fail(x, "chain: more than %d entries", LLF_CHAIN_MAX);
    }
    llf_chain_entry *c = realloc(x->c->chain, (x->c->nchain + 1) * sizeof *c);
    if (!c) {
        free(e.model);
        return fail(x, "out of memory");
    }
    x->c->chain = c;
    c[x->c->nchain++] = e;
    return 0;
}

static int add_chain(ctx *x, const char *provider, size_t plen, const char *model, long context)
{
    llf_chain_entry e;
    return make_entry(x, provider, plen, model, context, &e) || append_chain(x, e) ? -1 : 0;
}

/* "provider/model": the provider is up to the first '/', the model is the rest
 * (models such as openrouter's "openai/gpt-4o" contain slashes). What is in
 * trim is dropped around it. */
static int parse_entry(ctx *x, const char *s, size_t n, const char *trim, llf_chain_entry *out, int *empty)
{
    while (n && strchr(trim, *s))
        s++, n--;
    while (n && strchr(trim, s[n - 1]))
        n--;
    *empty = n == 0;
    if (!n)
        return 0;
    const char *slash = memchr(s, '/', n);
    size_t plen = slash ? (size_t)(slash - s) : n, skip = 0;
    /* (and around the slash: "openai / gpt-4o" named no provider "openai ",
     * and "openai/ gpt-4o" asked for the model " gpt-4o") */
    while (slash && plen && strchr(trim, s[plen - 1]))
        plen--;
    while (slash && slash + 1 + skip < s + n && strchr(trim, slash[1 + skip]))
        skip++;
    char *model = slash ? llf_strndup(slash + 1 + skip, (size_t)(s + n - slash - 1) - skip) : NULL;
    if (slash && !model)
        return fail(x, "out of memory");
    int rc = make_entry(x, s, plen, model, 0, out);
    free(model);
    return rc;
}

/* An empty entry is skipped, or an error unless empty_ok. */
static int add_chain_str(ctx *x, const char *s, size_t n, const char *trim, int empty_ok)
{
    llf_chain_entry e;
    int empty;
    if (parse_entry(x, s, n, trim, &e, &empty))
        return -1;
    if (empty && !empty_ok)
        return fail(x, "a chain entry is empty");
    return empty ? 0 : append_chain(x, e);
}

/* "mode", "candidate" and "shadow": what a recognised call does. */
static int load_mode(ctx *x, const cJSON *root)
{
    static const char *const skeys[] = {"sample", "timeout_ms", NULL};
    llf_config *c = x->c;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "mode");
    if (m) {
        static const char *const names[] = {"fallback", "override", "shadow"};
        int found = -1;
        for (int i = 0; i < 3 && cJSON_IsString(m); i++)
            if (strcmp(m->valuestring, names[i]) == 0)
                found = i;
        if (found < 0)
            return fail(x, "\"mode\" must be \"fallback\", \"override\" or \"shadow\"");
        c->mode = (llf_mode)found;
    }
    const cJSON *cand = cJSON_GetObjectItemCaseSensitive(root, "candidate");
    if (cand) {
        int empty = 1;
        if (!cJSON_IsString(cand))
            return fail(x, "\"candidate\" must be \"provider/model\"");
        x->entry = "candidate";
        int rc = parse_entry(x, cand->valuestring, strlen(cand->valuestring), " \t", &c->candidate,
                             &empty);
        x->entry = NULL;
        if (rc)
            return -1;
        if (empty)
            return fail(x, "\"candidate\" must be \"provider/model\"");
    }
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(root, "shadow");
    if (sh) {
        if (!cJSON_IsObject(sh))
            return fail(x, "\"shadow\" must be an object");
        if (only_keys(x, sh, "shadow", skeys) ||
            get_long(x, sh, "shadow", "timeout_ms", 1, &c->shadow_timeout_ms))
            return -1;
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(sh, "sample");
        if (s && (!cJSON_IsNumber(s) || !(s->valuedouble >= 0 && s->valuedouble <= 1)))
            return fail(x, "shadow.sample must be a number from 0 to 1");
        if (s)
            c->shadow_sample = s->valuedouble;
    }
    if (c->mode != LLF_MODE_FALLBACK && c->candidate.provider < 0)
        return fail(x, "mode \"%s\" needs \"candidate\": \"provider/model\"",
                    c->mode == LLF_MODE_OVERRIDE ? "override" : "shadow");
    return 0;
}

static int load_chain(ctx *x, const cJSON *chain)
{
    if (!cJSON_IsArray(chain))
        return fail(x, "\"chain\" must be an array of \"provider/model\" strings");
    for (const cJSON *it = chain->child; it; it = it->next) {
        if (cJSON_IsString(it)) {
            if (add_chain_str(x, it->valuestring, strlen(it->valuestring), " \t", 0))
                return -1;
            continue;
        }
        static const char *const keys[] = {"provider", "model", "context", NULL};
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "provider");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "model");
        if (!cJSON_IsObject(it) || !cJSON_IsString(p) || (m && !cJSON_IsString(m)))
            return fail(x, "each chain entry must be \"provider/model\" or "
                           "{\"provider\": ..., \"model\": ..., \"context\": TOKENS}");
        long context = 0;
        if (only_keys(x, it, "a chain entry", keys) ||
            get_long(x, it, "chain[]", "context", 0, &context) ||
            add_chain(x, p->valuestring, strlen(p->valuestring), m ? m->valuestring : NULL, context))
            return -1;
    }
    return 0;
}

static int get_bool(ctx *x, const cJSON *obj, const char *where, const char *key, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    if (!cJSON_IsBool(v))
        return fail(x, KEY_FMT " must be true or false", KEY_ARGS(where, key));
    *out = cJSON_IsTrue(v);
    return 0;
}

/* Would p mean what it means alone inside a group? Not when a ')' of its
 * own closes the group: glibc takes a ')' that closes nothing as a literal
 * ("primary \\(gpt-4o-mini)$" matches "... (gpt-4o-mini)"), which inside
 * "(...)" it no longer is. Asked of regcomp itself: "(" + p is missing its
 * ')' exactly when no ')' of p's closes the '(' (brackets, escapes and
 * p's own groups read as regcomp reads them). */
static int groups_alone(const char *p)
{
    llf_buf b = {0};
    if (llf_buf_adds(&b, "(") || llf_buf_adds(&b, p)) {
        llf_buf_free(&b);
        return 0;
    }
    regex_t r;
    int rc = regcomp(&r, b.p, REG_EXTENDED | REG_ICASE | REG_NOSUB);
    llf_buf_free(&b);
    if (rc == 0)
        regfree(&r);
    return rc == REG_EPAREN;
}

/* How large glibc's regcomp makes ERE p: its items, once each count is
 * expanded into the copies glibc makes ({0,30000} makes 30,000, and a
 * group's count copies the group whole), with compile time growing about
 * as its square (a{1,16000}: 2.2 s; a{1,32767}: 13.5 s, for each process's
 * first call; the default pattern is 1,168). Every item counts, an anchor
 * or an empty group too (glibc makes a node of each: (){30000} took 38 s).
 * Past limit (or groups nested past 32): limit + 1. -1: p repeats an item
 * that can match nothing (x?*, (a|)+, (\s*){0,100}, (){9}), whose copies
 * glibc's compile takes far longer over, with no size to tell it by
 * (\b(x?){0,1000}: 76 s; (x?{0,3000})*: 62 s; ^(\b\w*\W*){0,40}sorry:
 * 3.4 s and 770 MB; ((x?){0,16}){0,40}\s**(): minutes). Brackets and
 * escapes are one item each; what regcomp refuses is left for it to say. */
#define ERE_MAX_SIZE 3000
static long ere_size(const char *p, long limit)
{
    /* Per open group: its size so far; whether its current branch's items
     * before the last, and the last, can match nothing, and whether an
     * earlier branch can. last: the last item's size. */
    struct {
        long sum;
        int pre, cur, any;
    } L[33] = {{0, 1, 1, 0}};
    long last = 0;
    int g = 0;
    while (*p) {
        int empty = 0;   /* (the new item can match nothing) */
        if (*p == '\\') {
            empty = p[1] && strchr("bB<>`'", p[1]) != NULL;
            p += p[1] ? 2 : 1;
            last = 1;
        } else if (*p == '[') {
            const char *q = p + 1;
            q += *q == '^';
            q += *q == ']';   /* (a ']' first is itself) */
            for (; *q && *q != ']'; q++)
                if (*q == '[' && (q[1] == ':' || q[1] == '.' || q[1] == '=')) {
                    const char *e = strchr(q + 2, q[1]);
                    if (!e || e[1] != ']')
                        break;
                    q = e + 1;
                }
            p = *q ? q + 1 : q;
            last = 1;
        } else if (*p == '(') {
            if (++g >= (int)(sizeof L / sizeof *L))
                return limit + 1;
            L[g].sum = L[g].any = 0;
            L[g].pre = L[g].cur = 1;
            p++;
            continue;
        } else if (*p == ')' && g > 0) {
            empty = L[g].any || (L[g].pre && L[g].cur);
            last = L[g].sum ? L[g].sum : 1;
            g--;
            p++;
        } else if (*p == '|') {
            L[g].any |= L[g].pre && L[g].cur;
            L[g].pre = L[g].cur = 1;
            p++;
            continue;
        } else if (*p == '*' || *p == '+' || *p == '?' || *p == '{') {
            long lo = *p == '+', hi = *p == '?' ? 1 : 2, times = *p == '+' ? 2 : 1;   /* (glibc makes a+ into aa*) */
            const char *q = p + 1;
            if (*p == '{') {
                for (; *q >= '0' && *q <= '9'; q++)
                    lo = lo < 100000 ? lo * 10 + (*q - '0') : lo;
                hi = lo;
                if (*q == ',') {
                    hi = q[1] == '}' ? lo + 1 : 0;
                    for (q++; *q >= '0' && *q <= '9'; q++)
                        hi = hi < 100000 ? hi * 10 + (*q - '0') : hi;
                }
                q += *q == '}';
                times = hi > 1 ? hi : 1;
            }
            if (L[g].cur && hi > 1)
                return -1;
            L[g].cur |= lo == 0;
            L[g].sum += last * (times - 1);
            last *= times;
            p = q;
            if (L[g].sum > limit || last > limit)
                return limit + 1;
            continue;
        } else {
            empty = *p == '^' || *p == '$';
            last = 1;
            p++;
        }
        L[g].pre = L[g].pre && L[g].cur;
        L[g].cur = empty;
        L[g].sum += last;
        if (L[g].sum > limit)
            return limit + 1;
    }
    long size = L[0].sum + (g ? L[g].sum : 0);
    return size > limit ? limit + 1 : size;
}

/* The patterns, each checked on its own above, as one alternation: one
 * regexec per answer instead of one per pattern (each costs about as much,
 * most of it set-up, on a short answer). Back-references would change their
 * meaning inside added groups, and so would a ')' that closes nothing
 * (groups_alone): such lists stay separate, as does any list the
 * alternation fails for. */
static int combine_patterns(llf_verdict_cfg *vc, const char *const *list, size_t n)
{
    if (n < 2)
        return 0;
    llf_buf all = {0};
    for (size_t i = 0; i < n; i++) {
        if (!groups_alone(list[i])) {
            llf_buf_free(&all);
            return 0;
        }
        for (const char *b = strchr(list[i], '\\'); b; b = strchr(b + 2, '\\')) {
            if (b[1] >= '1' && b[1] <= '9') {
                llf_buf_free(&all);
                return 0;
            }
            if (!b[1])
                break;
        }
        if ((i && llf_buf_adds(&all, "|")) || llf_buf_adds(&all, "(") ||
            llf_buf_adds(&all, list[i]) || llf_buf_adds(&all, ")")) {
            llf_buf_free(&all);
            return 0;
        }
    }
    regex_t one;
    int rc = regcomp(&one, all.p, REG_EXTENDED | REG_ICASE | REG_NOSUB);
    llf_buf_free(&all);
    if (rc)
        return 0;
    for (size_t i = 0; i < vc->npatterns; i++)
        regfree(&vc->patterns[i]);
    vc->patterns[0] = one;
    vc->npatterns = 1;
    return 0;
}

static int compile_patterns(ctx *x, const char *const *list, size_t n)
{
    llf_verdict_cfg *vc = &x->c->verdict;
    vc->patterns = calloc(n ? n : 1, sizeof *vc->patterns);
    if (!vc->patterns)
        return fail(x, "out of memory");
    long total = 0;
    for (size_t i = 0; i < n; i++) {
        long size = ere_size(list[i], ERE_MAX_SIZE);
        if (size < 0)
            return fail(x, "verdict.refusal_patterns[%zu] repeats something that can match nothing (as x?* or "
                           "(\\s*){0,9}: write x* or (\\s+){0,9}), which glibc's regcomp can take minutes over",
                        i);
        if (size > ERE_MAX_SIZE)
            return fail(x, "verdict.refusal_patterns[%zu] is too large once its counts are expanded (over %d "
                           "items): compiling it would take each process seconds", i, ERE_MAX_SIZE);
        if ((total += size) > ERE_MAX_SIZE)
            return fail(x, "verdict.refusal_patterns are too large together once their counts are expanded "
                           "(over %d items): compiling them would take each process seconds", ERE_MAX_SIZE);
        int rc = regcomp(&vc->patterns[i], list[i], REG_EXTENDED | REG_ICASE | REG_NOSUB);
        if (rc) {
            char msg[128];
            regerror(rc, &vc->patterns[i], msg, sizeof msg);
            return fail(x, "verdict.refusal_patterns[%zu]: %s", i, msg);
        }
        vc->npatterns++;
    }
    return combine_patterns(vc, list, n);
}

static int load_verdict(ctx *x, const cJSON *v)
{
    static const char *const keys[] = {"invalid_body", "empty", "refusal", "refusal_patterns",
                                       "refusal_max_chars", "json", "truncated", "validate",
                                       "stream_refusal", NULL};
    static const char *const vkeys[] = {"command", "timeout_ms", NULL};
    llf_verdict_cfg *vc = &x->c->verdict;
    if (!cJSON_IsObject(v))
        return fail(x, "\"verdict\" must be an object");
    if (only_keys(x, v, "verdict", keys) || get_bool(x, v, "verdict", "invalid_body", &vc->invalid_body) ||
        get_bool(x, v, "verdict", "empty", &vc->empty) ||
        get_bool(x, v, "verdict", "refusal", &vc->refusal) ||
        get_bool(x, v, "verdict", "json", &vc->json) ||
        get_bool(x, v, "verdict", "stream_refusal", &vc->stream_refusal) ||
        get_long(x, v, "verdict", "refusal_max_chars", 0, &vc->refusal_max_chars))
        return -1;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, "truncated");
    if (t) {
        if (!cJSON_IsString(t) || (strcmp(t->valuestring, "accept") && strcmp(t->valuestring, "fallback")))
            return fail(x, "verdict.truncated must be \"accept\" or \"fallback\"");
        vc->truncated_fallback = strcmp(t->valuestring, "fallback") == 0;
    }
    const cJSON *pats = cJSON_GetObjectItemCaseSensitive(v, "refusal_patterns");
    if (pats) {
        int n = cJSON_GetArraySize(pats);
        const char **list = calloc((size_t)n + 1, sizeof *list);
        if (!cJSON_IsArray(pats) || !list) {
            free(list);
            return fail(x, "verdict.refusal_patterns must be an array of strings");
        }
        int i = 0;
        for (const cJSON *p = pats->child; p; p = p->next) {
            if (!cJSON_IsString(p)) {
                free(list);
                return fail(x, "verdict.refusal_patterns must be an array of strings");
            }
            if (!*p->valuestring) {
                free(list);
                return fail(x, "verdict.refusal_patterns[%d] is empty: it would call every short answer a refusal", i);
            }
            list[i++] = p->valuestring;
        }
        for (size_t k = 0; k < vc->npatterns; k++)
            regfree(&vc->patterns[k]);
        free(vc->patterns);
        vc->patterns = NULL;
        vc->npatterns = 0;
        int rc = compile_patterns(x, list, (size_t)n);
        free(list);
        if (rc)
            return -1;
    }
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(v, "validate");
    if (val) {
        if (!cJSON_IsObject(val) || only_keys(x, val, "verdict.validate", vkeys) ||
            get_str(x, val, "verdict.validate", "command", &vc->validate_cmd) ||
            get_long(x, val, "verdict.validate", "timeout_ms", 1, &vc->validate_timeout_ms))
            return cJSON_IsObject(val) ? -1 : fail(x, "verdict.validate must be an object");
    }
    return 0;
}

/* Where the first \u0000 escape of JSON text is, or NULL. A NUL is in no
 * model, provider, URL or variable name, and upstream cJSON ended the
 * string there ("gpt-4o\u0000-mini" asked for gpt-4o); ours keeps it as
 * C0 80 (see cJSON.c), which no provider knows either. (In valid JSON a
 * backslash is only ever in a string, a key's or a value's, and escapes
 * the byte after it: "\\u0000" is a backslash and "u0000".) */
static const char *nul_escape(const char *p, const char *end)
{
    for (const char *b = memchr(p, '\\', (size_t)(end - p)); b; b = b < end ? memchr(b, '\\', (size_t)(end - b)) : NULL) {
        if (end - b >= 6 && memcmp(b, "\\u0000", 6) == 0)
            return b;
        b += end - b >= 2 ? 2 : 1;
    }
    return NULL;
}

/* The line of at in text's first len bytes (1 when at is NULL). */
static int line_of(const char *text, size_t len, const char *at)
{
    int line = 1;
    for (const char *p = text; at && p < at && p < text + len; p++)
        line += *p == '\n';
    return line;
}

static int load_file(ctx *x, const char *text, size_t len, const char **chain_seen)
{
    static const char *const top[] = {"providers", "chain", "attempts", "timeouts_ms", "retry",
                                      "log", "ca_bundle", "verdict", "breaker", "mode",
                                      "candidate", "shadow", NULL};
    static const char *const attempts[] = {"per_call", "per_process", "retry_ratio", "retry_burst", NULL};
    static const char *const timeouts[] = {"connect", "first_byte", "first_token", "total", NULL};
    static const char *const retry[] = {"max_wait_ms", "same_provider", NULL};
    llf_config *c = x->c;
    /* (cJSON would end a string at one, or the text: a base URL cut short) */
    const char *nul = memchr(text, '\0', len);
    if (nul)
        return fail(x, "line %d: a NUL byte", line_of(text, len, nul));
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    const char *more = root ? llf_json_trailing(end, text + len) : NULL;   /* (cJSON stops after the first value) */
    if (!root || more) {
        const char *at = root ? more : end;
        const char *what = root ? "text after the JSON object" : "not valid JSON";
        cJSON_Delete(root);
        return fail(x, "line %d: %s", line_of(text, len, at), what);
    }
    int rc = -1;
    const cJSON *v;
    if ((nul = nul_escape(text, end))) {
        fail(x, "line %d: \"\\u0000\" in a string (a NUL, which would end it there)", line_of(text, len, nul));
        goto out;
    }
    const char *dup = NULL;
    /* (cJSON keeps both and every lookup sees the first: a second "chain"
     * would be ignored without a word) */
    int d = llf_json_dup_key(root, &dup);
    if (d) {
        if (d > 0)
            fail(x, "the key \"%.64s\" is given twice in one object", dup);
        else
            fail(x, "out of memory");
        goto out;
    }
    if (!cJSON_IsObject(root)) {
        fail(x, "the configuration must be a JSON object");
        goto out;
    }
    if (only_keys(x, root, "the configuration", top))
        goto out;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "providers")) && load_providers(x, v))
        goto out;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "attempts"))) {
        long pc = c->per_call;
        if (!cJSON_IsObject(v)) {
            fail(x, "\"attempts\" must be an object");
            goto out;
        }
        if (only_keys(x, v, "attempts", attempts) ||
            get_long(x, v, "attempts", "per_call", 1, &pc) ||
            get_long(x, v, "attempts", "per_process", 0, &c->per_process))
            goto out;
        c->per_call = pc > 1000 ? 1000 : (int)pc;
        static const char *const fl[] = {"retry_ratio", "retry_burst"};
        double *dst[] = {&c->retry_ratio, &c->retry_burst};
        for (int i = 0; i < 2; i++) {
            const cJSON *r = cJSON_GetObjectItemCaseSensitive(v, fl[i]);
            if (r && (!cJSON_IsNumber(r) || r->valuedouble < 0)) {
                fail(x, "attempts.%s must be a number >= 0", fl[i]);
                goto out;
            }
            if (r)
                *dst[i] = r->valuedouble;
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "timeouts_ms"))) {
        if (!cJSON_IsObject(v)) {
            fail(x, "\"timeouts_ms\" must be an object");
            goto out;
        }
        if (only_keys(x, v, "timeouts_ms", timeouts) ||
            get_long(x, v, "timeouts_ms", "connect", 0, &c->connect_ms) ||
            get_long(x, v, "timeouts_ms", "first_byte", 0, &c->first_byte_ms) ||
            get_long(x, v, "timeouts_ms", "first_token", 0, &c->first_token_ms) ||
            get_long(x, v, "timeouts_ms", "total", 0, &c->total_ms))
            goto out;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "retry"))) {
        if (!cJSON_IsObject(v)) {
            fail(x, "\"retry\" must be an object");
            goto out;
        }
        if (only_keys(x, v, "retry", retry) ||
            get_long(x, v, "retry", "max_wait_ms", 0, &c->retry_max_wait_ms))
            goto out;
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(v, "same_provider");
        if (sp && !cJSON_IsBool(sp)) {
            fail(x, "retry.same_provider must be true or false");
            goto out;
        }
        if (sp)
            c->retry_same_provider = cJSON_IsTrue(sp);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "verdict")) && load_verdict(x, v))
        goto out;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "breaker"))) {
        static const char *const bkeys[] = {"failures", "cooldown_ms", "shared", NULL};
        long f = c->breaker.failures;
        if (!cJSON_IsObject(v)) {
            fail(x, "\"breaker\" must be an object");
            goto out;
        }
        if (only_keys(x, v, "breaker", bkeys) || get_long(x, v, "breaker", "failures", 0, &f) ||
            get_long(x, v, "breaker", "cooldown_ms", 0, &c->breaker.cooldown_ms) ||
            get_bool(x, v, "breaker", "shared", &c->breaker.shared))
            goto out;
        c->breaker.failures = f > 1000000 ? 1000000 : (int)f;
    }
    c->breaker.probe_ms = c->total_ms;   /* (timeouts_ms, read above) */
    if (get_str(x, root, NULL, "log", &c->log_path) || get_str(x, root, NULL, "ca_bundle", &c->ca_bundle))
        goto out;
    /* A bundle that cannot be read would fail every HTTPS attempt, the
     * program's own to a healthy provider included. */
    if (c->ca_bundle && *c->ca_bundle) {
        struct stat st;
        const char *why = stat(c->ca_bundle, &st) != 0              ? strerror(errno)
                          : !S_ISREG(st.st_mode)                    ? "not a file"
                          : access(c->ca_bundle, R_OK) != 0         ? strerror(errno)
                                                                    : NULL;
        if (why) {
            const char *cut, *shown = llf_config_path_tail(c->ca_bundle, &cut);
            fail(x, "ca_bundle %s%s: %s", cut, shown, why);
            goto out;
        }
        /* Read by libcurl at each new connection: relative to where the
         * process is now (as it was checked), not to wherever it has gone
         * by then (a chdir would fail every member's TLS). As the log's. */
        char *abs = llf_path_abs(c->ca_bundle);
        if (!abs) {
            fail(x, "out of memory");
            goto out;
        }
        free(c->ca_bundle);
        c->ca_bundle = abs;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "chain"))) {
        /* Read even when LLMFALLBACK_CHAIN replaces it, so that a mistake
         * in the file is not found only the day the variable is unset. */
        if (load_chain(x, v))
            goto out;
        if (*chain_seen) {
            for (size_t i = 0; i < c->nchain; i++)
                free(c->chain[i].model);
            c->nchain = 0;
        }
        *chain_seen = "file";
    }
    if (load_mode(x, root))
        goto out;
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

/* p's key from var: the white space around it dropped (a secret made from a
 * file, a value read with its newline, ends in one); none when nothing is
 * left. A key with a control character or a space inside would break the
 * member's header lines or add some of its own: refused (p->key_refused),
 * and the provider has no key from it, as if the variable were unset. */
static int read_key(ctx *x, llf_getenv_fn env, const char *var, llf_provider *p)
{
    static const char ws[] = " \t\r\n";
    const char *v = var ? env(var) : NULL;
    if (!v)
        return 0;
    v += strspn(v, ws);
    size_t n = strlen(v);
    while (n && strchr(ws, v[n - 1]))
        n--;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f) {
            if (!p->key_refused)
                p->key_refused = var;
            return 0;
        }
    if (n && !(p->key = llf_strndup(v, n)))
        return fail(x, "out of memory");
    return 0;
}

/* With no chain anywhere: every provider whose key is set (or that needs
 * none and was configured: a built-in one that needs none, Ollama, only
 * then, as a local server it names may not run), with its default model,
 * in table order. */
static int default_chain(ctx *x)
{
    for (size_t i = 0; i < x->c->nproviders; i++) {
        const llf_provider *p = &x->c->providers[i];
        int usable = p->key || (!p->needs_key && p->configured);
        if (usable && p->default_model && x->c->nchain == LLF_CHAIN_MAX)
            return fail(x, "the default chain (every provider with a key, or needing none) would have more "
                           "than %d entries: name them in \"chain\"", LLF_CHAIN_MAX);
        if (usable && p->default_model && add_chain(x, p->name, strlen(p->name), NULL, 0))
            return -1;
    }
    return 0;
}

int llf_config_load(const char *text, size_t len, const char *origin, const char *chain_env,
                    const char *log_env, llf_getenv_fn env, llf_config **out, char *err,
                    size_t errlen)
{
    *out = NULL;
    llf_config *c = calloc(1, sizeof *c);
    ctx x = {c, err, errlen, origin ? origin : "configuration", NULL};
    if (!c)
        return fail(&x, "out of memory");
    c->per_call = DEFAULT_PER_CALL;
    c->per_process = DEFAULT_PER_PROCESS;
    c->retry_ratio = 1.0;   /* on average one extra attempt per call... */
    c->retry_burst = 20;    /* ...after a burst of twenty */
    c->connect_ms = DEFAULT_CONNECT_MS;
    c->first_byte_ms = DEFAULT_FIRST_BYTE_MS;
    c->total_ms = DEFAULT_TOTAL_MS;
    c->first_token_ms = -1;   /* (first_byte's, which the engine reads then) */
    c->retry_max_wait_ms = DEFAULT_RETRY_MAX_WAIT_MS;
    c->retry_same_provider = 1;
    c->verdict = (llf_verdict_cfg){1, 1, 1, 1, 0, DEFAULT_REFUSAL_MAX_CHARS, 0, NULL, 0, NULL,
                                   DEFAULT_VALIDATE_TIMEOUT_MS, NULL};
    c->breaker = (llf_health_cfg){3, 30000, 1, 0};
    c->mode = LLF_MODE_FALLBACK;
    c->candidate.provider = -1;
    c->shadow_sample = DEFAULT_SHADOW_SAMPLE;
    c->shadow_timeout_ms = DEFAULT_SHADOW_TIMEOUT_MS;
    const char *chain_seen = NULL;
    {
        size_t n = 0;
        while (llf_default_refusals[n])
            n++;
        if (compile_patterns(&x, llf_default_refusals, n))
            goto bad;
    }
    if (load_builtins(&x))
        goto bad;
    if (chain_env && *chain_env) {
        /* LLMFALLBACK_CHAIN wins over the file, but the file's providers
         * must be known first: remember it and apply it after the file. */
        chain_seen = "env";
    }
    if (text && load_file(&x, text, len, &chain_seen))
        goto bad;
    if (chain_env && *chain_env) {
        x.origin = "LLMFALLBACK_CHAIN";
        for (const char *s = chain_env; *s;) {
            const char *e = strchr(s, ',');
            size_t n = e ? (size_t)(e - s) : strlen(s);
            /* (a variable read from a file or a YAML block may end in a
             * newline, or put its entries on lines of their own) */
            if (add_chain_str(&x, s, n, " \t\r\n", 1))
                goto bad;
            s += n + (e != NULL);
        }
        if (!c->nchain) {
            fail(&x, "names no provider/model (unset it to use the file's chain)");
            goto bad;
        }
        x.origin = origin ? origin : "configuration";
    }
    size_t nb, nkey_vars = 0;
    const llf_builtin *b = llf_builtins(&nb);
    /* (two variables a provider at most: its own, and a built-in alternate) */
    if (!(c->verdict.key_vars = calloc(2 * c->nproviders + 1, sizeof *c->verdict.key_vars))) {
        fail(&x, "out of memory");
        goto bad;
    }
    for (size_t i = 0; i < c->nproviders; i++) {
        llf_provider *p = &c->providers[i];
        if (read_key(&x, env, p->key_env, p) ||
            (!p->key && i < nb && p->key_env && strcmp(p->key_env, b[i].key_env) == 0 && b[i].alt_key_env &&
             read_key(&x, env, b[i].alt_key_env, p)))
            goto bad;
        const char *vars[] = {p->key_env, i < nb ? b[i].alt_key_env : NULL};
        for (int v = 0; v < 2; v++)
            if (vars[v] && !(c->verdict.key_vars[nkey_vars++] = llf_strdup(vars[v]))) {
                fail(&x, "out of memory");
                goto bad;
            }
        p->base = c->nbases;
        if (add_base(&x, (int)i, p->base_url))
            goto bad;
        if (!(p->breaker_id = malloc(strlen(p->name) + strlen(p->base_url) + 2))) {
            fail(&x, "out of memory");
            goto bad;
        }
        sprintf(p->breaker_id, "%s %s", p->name, p->base_url);
        if (i < nb && strcmp(p->base_url, b[i].base_url) != 0 && add_base(&x, (int)i, b[i].base_url))
            goto bad;
#define ALSO(n, url) || (i < nb && !strcmp(p->name, n) && add_base(&x, (int)i, url))
        if (0 LLF_BUILTIN_ALSO(ALSO))
            goto bad;
#undef ALSO
    }
    if (!chain_seen && default_chain(&x))
        goto bad;
    if (chain_env && *chain_env)
        x.origin = "LLMFALLBACK_CHAIN";   /* (where the chain came from) */
    for (size_t i = 0; i < c->nchain; i++) {
        const llf_provider *p = &c->providers[c->chain[i].provider];
        if (model_is_key(c, c->chain[i].model)) {
            fail(&x, "chain entry %s/(a model not shown): it reads as a key", p->name);
            goto bad;
        }
        if (p->needs_key && !p->key) {
            fail(&x, "chain entry %s/%s: %s %s", p->name, shown_model(c->chain[i].model),
                 llf_shown_var(p->key_refused ? p->key_refused : p->key_env),
                 p->key_refused ? LLF_KEY_REFUSED : "is not set");
            goto bad;
        }
    }
    x.origin = origin ? origin : "configuration";
    if (c->mode != LLF_MODE_FALLBACK) {
        const llf_provider *p = &c->providers[c->candidate.provider];
        if (model_is_key(c, c->candidate.model)) {
            fail(&x, "candidate %s/(a model not shown): it reads as a key", p->name);
            goto bad;
        }
        if (p->needs_key && !p->key) {
            fail(&x, "candidate %s/%s: %s %s", p->name, shown_model(c->candidate.model),
                 llf_shown_var(p->key_refused ? p->key_refused : p->key_env), p->key_refused ? LLF_KEY_REFUSED : "is not set");
            goto bad;
        }
        /* (the original is always sent: with one attempt a call, the
         * candidate would never be) */
        if (c->mode == LLF_MODE_OVERRIDE && c->per_call < 2) {
            fail(&x, "mode \"override\" needs attempts.per_call of at least 2 (the candidate, then the program's "
                     "own request)");
            goto bad;
        }
    }
    if (log_env && *log_env) {
        free(c->log_path);
        if (!(c->log_path = llf_strdup(log_env))) {
            fail(&x, "out of memory");
            goto bad;
        }
    }
    *out = c;
    return 0;
bad:
    llf_config_free(c);
    return -1;
}

void llf_config_free(llf_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nproviders; i++) {
        llf_provider *p = &c->providers[i];
        free(p->name);
        free(p->base_url);
        free(p->base_query);
        free(p->key_env);
        if (p->key) {
            memset(p->key, 0, strlen(p->key));
            free(p->key);
        }
        free(p->default_model);
        free(p->breaker_id);
    }
    for (size_t i = 0; i < c->nbases; i++)
        llf_urlparts_free(&c->bases[i].url);
    for (size_t i = 0; i < c->nchain; i++)
        free(c->chain[i].model);
    free(c->candidate.model);
    free(c->providers);
    free(c->bases);
    free(c->chain);
    free(c->log_path);
    free(c->ca_bundle);
    for (size_t i = 0; i < c->verdict.npatterns; i++)
        regfree(&c->verdict.patterns[i]);
    free(c->verdict.patterns);
    free(c->verdict.validate_cmd);
    for (size_t i = 0; c->verdict.key_vars && c->verdict.key_vars[i]; i++)
        free(c->verdict.key_vars[i]);
    free(c->verdict.key_vars);
    free(c);
}
