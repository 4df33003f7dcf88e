/* rewrite.h — the request one chain member receives: its URL, the model it
 * was given, and only its own credentials. Pure, so the secret-handling rules
 * are unit-tested. */
#ifndef LLF_REWRITE_H
#define LLF_REWRITE_H

#include <cjson/cJSON.h>

#include "config.h"
#include "core.h"

/* Would forwarding this header to another provider leak a credential or an
 * identity of the original one? (name only, case-insensitive) */
int llf_header_sensitive(const char *line);

/* Build the request for (target, model) from the program's request orig,
 * whose parsed body is body, sent to provider orig_provider with URL query
 * orig_query. Same dialect only (translation comes with dialect_*.c). */
int llf_rewrite(const llf_config *cfg, const llf_req *orig, const cJSON *body, int orig_provider,
                const char *orig_query, int target, const char *model, int stream, llf_req *out);

void llf_req_free(llf_req *r);

#endif
