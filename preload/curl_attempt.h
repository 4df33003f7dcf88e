/* curl_attempt.h — a managed call on the program's own handle: the engine
 * runs it there, each attempt with the program's options but for what a
 * member must not share (URL, headers, body, credentials, cookies, trust,
 * route) and our capturing callbacks; afterwards every option goes back as
 * the program left it, and the final answer to the program. */
#ifndef LLF_CURL_ATTEMPT_H
#define LLF_CURL_ATTEMPT_H

#include "core.h"
#include "curl_handle.h"

/* A reader (and its rewind) over a copy of the program's upload. */
typedef struct copy_reader {
    const llf_buf *b;
    size_t off;
} copy_reader;

/* libcurl's transfer on h with *guard on (llf_in_lib: an attempt of ours;
 * llf_curl_direct: a transfer passed on), put back as it was after. */
CURLcode llf_guarded_perform(const llf_curl_api *rc, CURL *h, int *guard);
/* The handle's reader: one over a copy, then the program's again. */
void llf_read_from(const llf_curl_api *rc, CURL *h, copy_reader *r);
void llf_read_back(const llf_curl_api *rc, CURL *h, const hstate *s);
/* Every option an attempt changed (dirty: D_*) as the program left it. */
void llf_restore(CURL *h, hstate *s, unsigned dirty);
/* A POST of len bytes of body to url run as a managed call on h (upload:
 * the copy of what the program's reader gave, or NULL for its
 * postfields), its final answer handed to the program. CURLE_AGAIN: not a
 * call of ours, passed on by the caller. */
CURLcode llf_managed(CURL *h, hstate *s, const llf_core_api *core, const char *url,
                     const char *body, size_t len, const llf_buf *upload);

#endif
