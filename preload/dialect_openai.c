/* dialect_openai.c — the OpenAI chat-completions dialect: POST
 * {base}/chat/completions, `Authorization: Bearer`, model in the body,
 * success = an object with a `choices` array. */
#include "dialect.h"

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
    return key ? llf_headers_addf(h, "Authorization: Bearer %s", key) : 0;
}

static int body_streams(const cJSON *body)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "stream"));
}

static int success_shape(const cJSON *body)
{
    return cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(body, "choices"));
}

const llf_dialect_ops llf_dialect_openai = {
    .name = "openai",
    .match_op = match_op,
    .op_path = op_path,
    .auth_headers = auth_headers,
    .model_in_body = 1,
    .body_streams = body_streams,
    .success_shape = success_shape,
};
