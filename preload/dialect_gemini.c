/* dialect_gemini.c — the Gemini generateContent dialect: POST
 * {base}/models/{model}:generateContent (or :streamGenerateContent), key in
 * `x-goog-api-key` (or a `key=` query parameter, which we never forward),
 * model in the URL, success = an object with a `candidates` array. */
#include "dialect.h"

#include <stdlib.h>
#include <string.h>

static int match_op(const char *rest, char **model, int *stream)
{
    static const char pre[] = "/models/";
    *model = NULL;
    *stream = 0;
    if (strncmp(rest, pre, sizeof pre - 1) != 0)
        return 0;
    const char *m = rest + sizeof pre - 1;
    const char *colon = strrchr(m, ':');
    if (!colon || colon == m || memchr(m, '/', (size_t)(colon - m)))
        return 0;
    if (strcmp(colon, ":generateContent") == 0)
        *stream = 0;
    else if (strcmp(colon, ":streamGenerateContent") == 0)
        *stream = 1;
    else
        return 0;
    *model = llf_strndup(m, (size_t)(colon - m));
    return *model != NULL;
}

static int op_path(llf_buf *out, const char *model, int stream)
{
    return llf_buf_printf(out, "/models/%s:%s", model,
                          stream ? "streamGenerateContent" : "generateContent");
}

static int auth_headers(llf_headers *h, const char *key)
{
    return key ? llf_headers_addf(h, "x-goog-api-key: %s", key) : 0;
}

static int body_streams(const cJSON *body)
{
    (void)body;
    return 0;   /* Gemini streams by operation name, not by a body field */
}

static int success_shape(const cJSON *body)
{
    return cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(body, "candidates"));
}

const llf_dialect_ops llf_dialect_gemini = {
    .name = "gemini",
    .match_op = match_op,
    .op_path = op_path,
    .auth_headers = auth_headers,
    .stream_query = "alt=sse",
    .model_in_body = 0,
    .body_streams = body_streams,
    .success_shape = success_shape,
};
