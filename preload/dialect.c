/* dialect.c — the dialect registry (see dialect.h). */
#include "dialect.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "hubutil.h"

const llf_dialect_ops *llf_dialect_ops_of(llf_dialect d)
{
    switch (d) {
    case LLF_OPENAI: return &llf_dialect_openai;
    case LLF_ANTHROPIC: return &llf_dialect_anthropic;
    case LLF_GEMINI: return &llf_dialect_gemini;
    default: return NULL;
    }
}

int llf_dialect_from_name(const char *name)
{
    for (int d = 0; d < LLF_NDIALECTS; d++)
        if (name && strcmp(name, llf_dialect_ops_of((llf_dialect)d)->name) == 0)
            return d;
    return -1;
}

const char *llf_terr_word(const char *s)
{
    if (!s)
        return "?";
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+/-");
    /* API names are one case, or digits-free, and short where they have
     * digits (image/png, AUDIO, tool_result, audio/mp3): a word of both
     * cases and digits (Gemini's AIza..., Mistral's 32) or a long one with
     * digits (DeepSeek's sk- and 32 hex) is what keys look like, and the
     * log shows no body text. A long one whose digits are all at its end,
     * after a '_', is a versioned name (Anthropic's web_search_20250305):
     * a key's digits are spread through it. */
    int upper = 0, lower = 0, digit = 0;
    size_t first = n;   /* (its first digit) */
    for (size_t i = 0; i < n; i++) {
        upper |= s[i] >= 'A' && s[i] <= 'Z';
        lower |= s[i] >= 'a' && s[i] <= 'z';
        if (s[i] >= '0' && s[i] <= '9' && !digit++)
            first = i;
    }
    int dated = digit && first > 0 && s[first - 1] == '_' && strspn(s + first, "0123456789") == n - first;
    return n && n <= 40 && !s[n] && !(upper && lower && digit) && !(digit && n > 16 && !dated) ? s
                                                                                              : "(not an API name)";
}

void llf_terr_set(llf_terr *e, const char *fmt, ...)
{
    if (!e)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->detail, sizeof e->detail, fmt, ap);
    va_end(ap);
}

int llf_hub_openai_only(const cJSON *hub, llf_terr *e)
{
    if (cJSON_GetObjectItemCaseSensitive(hub, "audio")) {
        llf_terr_set(e, "audio output");
        return LLF_TR_INCOMPATIBLE;
    }
    const cJSON *fns = cJSON_GetObjectItemCaseSensitive(hub, "functions");
    if (cJSON_GetArraySize(fns) > 0) {
        llf_terr_set(e, "functions (deprecated: tools translate, functions do not)");
        return LLF_TR_INCOMPATIBLE;
    }
    const cJSON *mods = cJSON_GetObjectItemCaseSensitive(hub, "modalities");
    for (const cJSON *mo = cJSON_IsArray(mods) ? mods->child : NULL; mo; mo = mo->next)
        if (cJSON_IsString(mo) && strcmp(mo->valuestring, "text") != 0) {
            llf_terr_set(e, "modality \"%s\"", llf_terr_word(mo->valuestring));
            return LLF_TR_INCOMPATIBLE;
        }
    /* The search models' own web search: another model would answer from
     * what it knows, as if it had searched. */
    if (cJSON_GetObjectItemCaseSensitive(hub, "web_search_options")) {
        llf_terr_set(e, "web_search_options (a web search only OpenAI's search models run)");
        return LLF_TR_INCOMPATIBLE;
    }
    return LLF_TR_OK;
}

/* The name of a tool in an allowed_tools list or a hub's tools: its
 * function's (Chat Completions), or its own (the Responses API's form). */
static const char *tool_name(const cJSON *t)
{
    const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(t, "function"), "name"));
    return n ? n : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "name"));
}

int llf_hub_tool_offered(const cJSON *allowed, const cJSON *t)
{
    if (!allowed)
        return 1;
    const char *name = tool_name(t);
    for (const cJSON *a = allowed->child; a && name; a = a->next)
        if (tool_name(a) && !strcmp(tool_name(a), name))
            return 1;
    return 0;
}

int llf_hub_allowed_tools(const cJSON *hub, const cJSON **allowed, int *required, llf_terr *e)
{
    *allowed = NULL;
    *required = 0;
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(hub, "tool_choice");
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(hub, "tools");
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tc, "type"));
    /* (no tools: no choice among them is sent) */
    if (!cJSON_IsObject(tc) || !cJSON_GetArraySize(tools) || (type && !strcmp(type, "function")))
        return LLF_TR_OK;
    if (!type || strcmp(type, "allowed_tools")) {
        llf_terr_set(e, "tool_choice type \"%s\"", llf_terr_word(type));
        return LLF_TR_INCOMPATIBLE;
    }
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(tc, "allowed_tools");
    const char *mode = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(at, "mode"));
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(at, "tools");
    if (!mode || (strcmp(mode, "auto") && strcmp(mode, "required"))) {
        llf_terr_set(e, "tool_choice allowed_tools mode \"%s\"", llf_terr_word(mode));
        return LLF_TR_INCOMPATIBLE;
    }
    int some = 0;
    for (const cJSON *t = cJSON_IsArray(tools) && cJSON_IsArray(list) ? tools->child : NULL; t && !some; t = t->next)
        some = llf_hub_tool_offered(list, t);
    if (!some) {
        llf_terr_set(e, "tool_choice allowed_tools names none of the tools");
        return LLF_TR_INCOMPATIBLE;
    }
    *allowed = list;
    *required = !strcmp(mode, "required");
    return LLF_TR_OK;
}

int llf_given_to_hub(int (*to_hub)(const cJSON *, const char *, cJSON **, llf_terr *), const cJSON *req,
                     const char *url_model, cJSON **out, llf_terr *e)
{
    const cJSON *k = cJSON_IsObject(req) ? req->child : NULL;
    while (k && !cJSON_IsNull(k))
        k = k->next;
    if (!k)
        return to_hub(req, url_model, out, e);
    cJSON *c = cJSON_Duplicate(req, 1);
    if (!c) {
        llf_terr_set(e, "out of memory");
        return LLF_TR_ERROR;
    }
    llf_drop_nulls(c);
    int rc = to_hub(c, url_model, out, e);
    cJSON_Delete(c);
    return rc;
}

char *llf_anthropic_tool_id(const char *id, const char *response_id, int n)
{
    if (!id || !*id) {
        char made[96];
        llf_gemini_call_id(made, sizeof made, response_id, n);
        return llf_strdup(made);
    }
    char *s = llf_strdup(id);
    for (char *p = s; p && *p; p++)
        if (!llf_name_byte(*p))
            *p = '_';
    return s;
}

int llf_name_byte(char c)
{
    return llf_ascii_alnum(c) || c == '_' || c == '-';
}

const char *llf_hub_refused(const cJSON *hub)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(hub, LLF_HUB_REFUSED));
}

/* Is name one OpenAI and Anthropic take (^[a-zA-Z0-9_-]{1,64}$)? */
static int other_name(const char *name)
{
    size_t n = 0;
    while (name[n] && llf_name_byte(name[n]))
        n++;
    return !name[n] && n >= 1 && n <= 64;
}

/* The function names of a hub request: its tools', its tool_choice's and
 * its history's calls', each passed to fn (the string item, which fn may
 * change). The first non-zero fn returns, else 0. */
static int each_name(cJSON *hub, int (*fn)(cJSON *name, void *ctx), void *ctx)
{
#define NAME(o) cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "function"), "name")
    cJSON *tools = cJSON_GetObjectItemCaseSensitive(hub, "tools");
    cJSON *tc = cJSON_GetObjectItemCaseSensitive(hub, "tool_choice");
    cJSON *msgs = cJSON_GetObjectItemCaseSensitive(hub, "messages");
    int rc = 0;
    for (cJSON *t = cJSON_IsArray(tools) ? tools->child : NULL; t && !rc; t = t->next)
        rc = fn(NAME(t), ctx);
    if (!rc && cJSON_IsObject(tc))
        rc = fn(NAME(tc), ctx);
    for (cJSON *m = cJSON_IsArray(msgs) ? msgs->child : NULL; m && !rc; m = m->next) {
        cJSON *calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
        for (cJSON *c = cJSON_IsArray(calls) ? calls->child : NULL; c && !rc; c = c->next)
            rc = fn(NAME(c), ctx);
    }
#undef NAME
    return rc;
}

typedef struct names_ctx {
    cJSON *taken;   /* every name the request holds or was given: a set (keys) */
    cJSON *sent;    /* a name OpenAI and Anthropic refuse -> the one sent in its place */
} names_ctx;

/* each_name: a name added to taken. */
static int name_seen(cJSON *name, void *ctx)
{
    names_ctx *x = ctx;
    if (!cJSON_IsString(name) || cJSON_GetObjectItemCaseSensitive(x->taken, name->valuestring))
        return 0;
    return llf_add(x->taken, name->valuestring, cJSON_CreateTrue());
}

/* each_name: a name OpenAI and Anthropic refuse made one they take, each
 * byte they refuse '_' ("files.read": files_read), cut to their 64 bytes,
 * and when the request holds that name already (or gave it to another),
 * with _2, _3... after it; the same name the same each time. */
static int name_sent(cJSON *name, void *ctx)
{
    names_ctx *x = ctx;
    if (!cJSON_IsString(name) || !*name->valuestring || other_name(name->valuestring))
        return 0;
    const char *to = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x->sent, name->valuestring));
    char base[65], made[65];
    if (!to) {
        size_t n = 0;
        for (const char *p = name->valuestring; *p && n < 64; p++)
            base[n++] = llf_name_byte(*p) ? *p : '_';
        base[n] = '\0';
        snprintf(made, sizeof made, "%s", base);
        for (unsigned k = 2; cJSON_GetObjectItemCaseSensitive(x->taken, made); k++) {
            char tail[16];
            int tl = snprintf(tail, sizeof tail, "_%u", k);
            snprintf(made, sizeof made, "%.*s%s", (int)n + tl > 64 ? 64 - tl : (int)n, base, tail);
        }
        if (llf_add(x->taken, made, cJSON_CreateTrue()) ||
            llf_add(x->sent, name->valuestring, cJSON_CreateString(made)))
            return -1;
        to = made;
    }
    return cJSON_SetValuestring(name, to) ? 0 : -1;
}

int llf_hub_names_for_others(cJSON *hub)
{
    names_ctx x = {cJSON_CreateObject(), cJSON_CreateObject()};
    int rc = x.taken && x.sent && !each_name(hub, name_seen, &x) && !each_name(hub, name_sent, &x) ? 0 : -1;
    cJSON *back = rc == 0 && x.sent->child ? cJSON_CreateObject() : NULL;
    for (const cJSON *k = back ? x.sent->child : NULL; k && rc == 0; k = k->next)
        rc = llf_add(back, k->valuestring, cJSON_CreateString(k->string));
    if (rc == 0 && back && llf_add(hub, LLF_HUB_NAMES, back))
        rc = -1;
    else if (rc)
        cJSON_Delete(back);
    cJSON_Delete(x.taken);
    cJSON_Delete(x.sent);
    return rc;
}

int llf_hub_names_back(cJSON *answer, const cJSON *names)
{
    if (!cJSON_IsObject(names) || !names->child)
        return 0;
    cJSON *choices = cJSON_GetObjectItemCaseSensitive(answer, "choices");
    for (cJSON *ch = cJSON_IsArray(choices) ? choices->child : NULL; ch; ch = ch->next) {
        cJSON *m = cJSON_GetObjectItemCaseSensitive(ch, "message");
        cJSON *calls = cJSON_GetObjectItemCaseSensitive(m ? m : cJSON_GetObjectItemCaseSensitive(ch, "delta"),
                                                        "tool_calls");
        for (cJSON *c = cJSON_IsArray(calls) ? calls->child : NULL; c; c = c->next) {
            cJSON *name = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "function"), "name");
            const char *own = cJSON_IsString(name) ? cJSON_GetStringValue(
                                                         cJSON_GetObjectItemCaseSensitive(names, name->valuestring))
                                                   : NULL;
            if (own && !cJSON_SetValuestring(name, own))
                return -1;
        }
    }
    return 0;
}

int llf_hub_tool_errors(cJSON *body)
{
    cJSON *msgs = cJSON_GetObjectItemCaseSensitive(body, "messages");
    for (cJSON *m = cJSON_IsArray(msgs) ? msgs->child : NULL; m; m = m->next) {
        cJSON *flag = cJSON_GetObjectItemCaseSensitive(m, LLF_HUB_TOOL_ERROR);
        if (!flag)
            continue;
        int err = cJSON_IsTrue(flag);
        cJSON_Delete(cJSON_DetachItemViaPointer(m, flag));
        if (!err)
            continue;
        char *t = llf_content_text(cJSON_GetObjectItemCaseSensitive(m, "content"), "\n");
        llf_buf b = {0};
        cJSON *s = t && !llf_buf_adds(&b, "Error: ") && !llf_buf_adds(&b, t) ? cJSON_CreateString(b.p) : NULL;
        free(t);
        llf_buf_free(&b);
        if (!s || !cJSON_ReplaceItemInObjectCaseSensitive(m, "content", s)) {
            cJSON_Delete(s);
            return -1;
        }
    }
    return 0;
}

int llf_prefill_role(const char *role, llf_terr *e)
{
    if (role && !strcmp(role, "assistant")) {
        llf_terr_set(e, "the conversation ends with an assistant turn (Anthropic continues it, "
                        "the others answer after it)");
        return LLF_TR_INCOMPATIBLE;
    }
    return LLF_TR_OK;
}
