/* dialect_openai.c — the OpenAI chat-completions dialect: POST
 * {base}/chat/completions, `Authorization: Bearer`, model in the body,
 * success = an object with a `choices` array. It is also the hub format, so
 * its translators are copies (from the hub with the member's model and
 * output limit). */
#include "dialect.h"
#include "models.h"

#include <string.h>

static int match_op(const char *rest, char **model, int *stream)
{
    *model = NULL;
    *stream = 0;
    return strcmp(rest, "/chat/completions") == 0 || strcmp(rest, "/v1/chat/completions") == 0;
}

static int op_path(llf_buf *out, const char *model, int stream)
{
    (void)model;
    (void)stream;
    return llf_buf_adds(out, "/chat/completions");
}

static int auth_headers(llf_headers *h, const char *key)
{
    return key ? llf_headers_add2(h, "Authorization: Bearer ", key) : 0;
}

static int body_streams(const cJSON *body)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "stream"));
}

static int success_shape(const cJSON *body)
{
    return cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(body, "choices"));
}

static int req_to_hub(const cJSON *req, const char *url_model, cJSON **out, llf_terr *e)
{
    (void)url_model;
    if (!cJSON_IsObject(req)) {
        llf_terr_set(e, "request is not a JSON object");
        return LLF_TR_ERROR;
    }
    *out = cJSON_Duplicate(req, 1);
    return *out ? LLF_TR_OK : LLF_TR_ERROR;
}

static int set_model(cJSON *o, const char *model)
{
    cJSON *m = cJSON_CreateString(model ? model : "");
    if (!m)
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(o, "model"))
        return cJSON_ReplaceItemInObjectCaseSensitive(o, "model", m) ? 0 : (cJSON_Delete(m), -1);
    return cJSON_AddItemToObject(o, "model", m) ? 0 : (cJSON_Delete(m), -1);
}

/* A translated request fitted to the model. Its output limit goes under the
 * name the model takes, no higher than it may be asked for. OpenAI's
 * reasoning models (o-series, gpt-5) refuse max_tokens ("use
 * max_completion_tokens"), and any sampling setting but the default ("only
 * the default (1) value is supported"), so those are left out; every other
 * OpenAI-compatible server knows max_tokens. */
static int fit_model(cJSON *o, const char *model)
{
    if (!model)
        return 0;
    const char *slash = strrchr(model, '/');
    const char *name = slash ? slash + 1 : model;
    int reasoning = (name[0] == 'o' && (name[1] == '1' || name[1] == '3' || name[1] == '4')) ||
                    strncmp(name, "gpt-5", 5) == 0;
    static const char *const sampling[] = {"temperature", "top_p", "presence_penalty", "frequency_penalty",
                                           "logit_bias", "logprobs", "top_logprobs"};
    for (size_t i = 0; reasoning && i < sizeof sampling / sizeof sampling[0]; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(o, sampling[i]);
    cJSON *mt = cJSON_GetObjectItemCaseSensitive(o, "max_tokens");
    if (reasoning && mt && !cJSON_GetObjectItemCaseSensitive(o, "max_completion_tokens")) {
        cJSON_DetachItemViaPointer(o, mt);
        if (!cJSON_AddItemToObject(o, "max_completion_tokens", mt)) {
            cJSON_Delete(mt);
            return -1;
        }
    }
    long limit = llf_model_max_output(model);
    for (cJSON *m = o->child; m && limit; m = m->next)
        if (cJSON_IsNumber(m) && m->valuedouble > (double)limit &&
            (strcmp(m->string, "max_tokens") == 0 || strcmp(m->string, "max_completion_tokens") == 0))
            cJSON_SetNumberValue(m, (double)limit);
    return 0;
}

static int req_from_hub(const cJSON *hub, const char *model, cJSON **out, llf_terr *e)
{
    cJSON *o = cJSON_IsObject(hub) ? cJSON_Duplicate(hub, 1) : NULL;
    if (!o || set_model(o, model) || fit_model(o, model)) {
        cJSON_Delete(o);
        llf_terr_set(e, "out of memory");
        return LLF_TR_ERROR;
    }
    *out = o;
    return LLF_TR_OK;
}

static int resp_to_hub(const cJSON *resp, cJSON **out, llf_terr *e)
{
    if (!cJSON_IsObject(resp) || !success_shape(resp)) {
        llf_terr_set(e, "not a chat.completion");
        return LLF_TR_ERROR;
    }
    *out = cJSON_Duplicate(resp, 1);
    return *out ? LLF_TR_OK : LLF_TR_ERROR;
}

static int resp_from_hub(const cJSON *hub, const char *model, cJSON **out, llf_terr *e)
{
    return req_from_hub(hub, model, out, e);
}

const llf_dialect_ops llf_dialect_openai = {
    .name = "openai",
    .match_op = match_op,
    .op_path = op_path,
    .auth_headers = auth_headers,
    .model_in_body = 1,
    .body_streams = body_streams,
    .success_shape = success_shape,
    .req_to_hub = req_to_hub,
    .req_from_hub = req_from_hub,
    .resp_to_hub = resp_to_hub,
    .resp_from_hub = resp_from_hub,
};
