/* models.h — what llmfallback knows about well-known models: their context
 * windows and output limits, and a rough size of a request, so that a long
 * prompt is never sent to a member whose window cannot hold it. */
#ifndef LLF_MODELS_H
#define LLF_MODELS_H

#include <cjson/cJSON.h>

/* A model's own name: without the vendor prefix a router adds
 * ("openai/gpt-4o" on OpenRouter → "gpt-4o"). */
const char *llf_model_name(const char *model);

/* 1 when a model is Mistral's, by its name: a name of Mistral's families
 * (mistral, mixtral, magistral, codestral, devstral, ministral, pixtral,
 * voxtral), after any vendor prefix, "ft:" (a fine-tune) and Mistral's
 * "open-" or "labs-" (open-mistral-nemo, labs-devstral-small-2512), in
 * any case (Together's mistralai/Mixtral-8x7B-Instruct-v0.1). */
int llf_model_mistral(const char *model);

/* Context window in tokens of a model, 0 when unknown. A provider prefix
 * is ignored. */
long llf_model_context(const char *model);

/* The most output tokens a model may be asked for, 0 when unknown. A
 * translated request asking for more is lowered to it: the model would
 * refuse it (400), and could not have written more anyway. */
long llf_model_max_output(const char *model);

/* Estimated tokens a hub request needs: its messages and tools (about four
 * bytes of JSON per token, but a fixed 1,600 for each image, whatever its
 * URL's size, and 4,600 for each page of a PDF whose pages can be counted)
 * plus the output it asks room for, at most max_output (the
 * member's own most, which a request asking more is lowered to; 0 when
 * unknown): llf_estimate_input + llf_estimate_output. */
long llf_estimate_tokens(const cJSON *hub, long max_output);
long llf_estimate_input(const cJSON *hub);
long llf_estimate_output(const cJSON *hub, long max_output);

/* 1 when llf_estimate_tokens(hub, max_output) is surely at most window, hub
 * having been parsed from text (text_len bytes); 0 when that cannot be told
 * without the printing the estimate does. */
int llf_estimate_within(const cJSON *hub, const char *text, size_t text_len, long window, long max_output);

#endif
