/* dialect_anthropic.c — the Anthropic messages dialect: POST {base}/messages,
 * `x-api-key` plus the mandatory `anthropic-version`, model in the body,
 * success = a `message` object with a `content` array. */
#include "dialect.h"

#include <string.h>

#define ANTHROPIC_VERSION "2023-06-01"

static int match_op(const char *rest, char **model, int *stream)
{
    *model = NULL;
    *stream = 0;
    return strcmp(rest, "/messages") == 0 || strcmp(rest, "/v1/messages") == 0;
}

static int op_path(llf_buf *out, const char *model, int stream)
{
    (void)model;
    (void)stream;
    return llf_buf_adds(out, "/messages");
}

static int auth_headers(llf_headers *h, const char *key)
{
    if (key && llf_headers_addf(h, "x-api-key: %s", key))
        return -1;
    if (!llf_headers_get(h, "anthropic-version", NULL))
        return llf_headers_add(h, "anthropic-version: " ANTHROPIC_VERSION);
    return 0;
}

static int body_streams(const cJSON *body)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "stream"));
}

static int success_shape(const cJSON *body)
{
    return cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(body, "content"));
}

const llf_dialect_ops llf_dialect_anthropic = {
    .name = "anthropic",
    .match_op = match_op,
    .op_path = op_path,
    .auth_headers = auth_headers,
    .model_in_body = 1,
    .body_streams = body_streams,
    .success_shape = success_shape,
};
