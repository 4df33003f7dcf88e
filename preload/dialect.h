/* dialect.h — what llmfallback knows about each API dialect.
 *
 * A dialect is a wire format: OpenAI chat completions (also spoken by
 * OpenRouter, Groq, Mistral, DeepSeek, Together, xAI, Fireworks, Ollama…),
 * Anthropic messages, Gemini generateContent. Each dialect_*.c fills one
 * descriptor: how its completion operation is named in a URL, how it
 * authenticates, where the model lives, and what a success body looks like. */
#ifndef LLF_DIALECT_H
#define LLF_DIALECT_H

#include <cjson/cJSON.h>

#include "buf.h"

typedef enum { LLF_OPENAI = 0, LLF_ANTHROPIC, LLF_GEMINI, LLF_NDIALECTS } llf_dialect;

typedef struct llf_dialect_ops {
    const char *name;
    /* Does the path after a provider's base path name a completion operation?
     * rest starts with '/', has no query. On success sets *model (malloc'ed;
     * only for dialects that carry the model in the URL, else NULL) and
     * *stream when the operation itself streams. */
    int (*match_op)(const char *rest, char **model, int *stream);
    /* Append the operation's path (from '/', no query) for model to out. */
    int (*op_path)(llf_buf *out, const char *model, int stream);
    /* Query a streaming request needs (Gemini's alt=sse), or NULL. */
    const char *stream_query;
    /* Add this dialect's authentication and required headers for key. */
    int (*auth_headers)(llf_headers *h, const char *key);
    /* Does the request body carry the model (1), or the URL (0)? */
    int model_in_body;
    /* Does the request body ask for a stream? */
    int (*body_streams)(const cJSON *body);
    /* Does a 2xx body have this dialect's success shape? */
    int (*success_shape)(const cJSON *body);
} llf_dialect_ops;

const llf_dialect_ops *llf_dialect_ops_of(llf_dialect d);
int llf_dialect_from_name(const char *name);   /* -1 when unknown */

extern const llf_dialect_ops llf_dialect_openai;
extern const llf_dialect_ops llf_dialect_anthropic;
extern const llf_dialect_ops llf_dialect_gemini;

#endif
