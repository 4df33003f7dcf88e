/* rewrite.h — the request one chain member receives: its URL, the model it
 * was given, and only its own credentials. Pure, so the secret-handling rules
 * are unit-tested. */
#ifndef LLF_REWRITE_H
#define LLF_REWRITE_H

#include <cjson/cJSON.h>

#include "config.h"
#include "core.h"

/* Does this header carry a credential or an identity of the account?
 * (name only, case-insensitive) */
int llf_header_credential(const char *line);

/* Must it be dropped when forwarding to another provider: a credential, or
 * a framing header libcurl writes itself (Host, Content-Length,
 * Transfer-Encoding)? */
int llf_header_sensitive(const char *line);

/* The program's request, as every member's request is derived from it. */
typedef struct llf_origin {
    const llf_req *req;
    const cJSON   *body;       /* req's body, parsed */
    int            provider;
    llf_dialect    dialect;
    const char    *url_model;  /* the model the URL named (Gemini), else NULL */
    const char    *query;      /* the URL's query, or NULL */
    int            stream;
    cJSON         *hub;        /* the body in the hub format, made on first need */
    const llf_urlparts *server;   /* the base URL the program's URL starts with
                                   * (llf_match's): the server it addressed.
                                   * NULL: none, no member is sent there */
} llf_origin;

/* Build the request for (target, model): LLF_TR_OK and *out, or
 * LLF_TR_INCOMPATIBLE / LLF_TR_ERROR with e->detail. A member of another
 * dialect gets the body translated through the hub format. */
int llf_rewrite(const llf_config *cfg, llf_origin *o, int target, const char *model, llf_req *out,
                llf_terr *e);

/* o->hub made from the program's body if not yet (it says "stream": true
 * for a streaming call of any dialect): LLF_TR_OK, or another status with
 * e->detail and o->hub NULL. */
int llf_origin_hub(llf_origin *o, llf_terr *e);

void llf_req_free(llf_req *r);
/* A copy of src in dst (zeroed first); 0, or -1 with dst freed (memory). */
int  llf_req_copy(llf_req *dst, const llf_req *src);

#endif
