/* dialect.c — the dialect registry (see dialect.h). */
#include "dialect.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
     * log shows no body text. */
    int upper = 0, lower = 0, digit = 0;
    for (size_t i = 0; i < n; i++) {
        upper |= s[i] >= 'A' && s[i] <= 'Z';
        lower |= s[i] >= 'a' && s[i] <= 'z';
        digit |= s[i] >= '0' && s[i] <= '9';
    }
    return n && n <= 40 && !s[n] && !(upper && lower && digit) && !(digit && n > 16) ? s : "(not an API name)";
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
    return LLF_TR_OK;
}

const char *llf_hub_refused(const cJSON *hub)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(hub, LLF_HUB_REFUSED));
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

int llf_hub_prefill(const cJSON *hub, llf_terr *e)
{
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(hub, "messages");
    const cJSON *last = cJSON_GetArrayItem(msgs, cJSON_GetArraySize(msgs) - 1);
    const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(last, "role"));
    if (role && !strcmp(role, "assistant")) {
        llf_terr_set(e, "the conversation ends with an assistant turn (Anthropic continues it, "
                        "the others answer after it)");
        return LLF_TR_INCOMPATIBLE;
    }
    return LLF_TR_OK;
}
