/* shadow.h — mode "shadow": a share of answered calls is copied to the
 * candidate model in the background and the two answers are compared in the
 * log (latency, token usage, similarity), never touching what the program
 * gets. The comparison functions are pure; the worker thread starts at the
 * first copy, so a process that never shadows has no thread. */
#ifndef LLF_SHADOW_H
#define LLF_SHADOW_H

#include <stddef.h>

#include "config.h"
#include "core.h"

struct llf_call;

/* Cosine similarity of the two texts' word counts, 0..1 (words: runs of
 * letters and digits, case-folded; bytes >= 0x80 count as letters so that
 * non-Latin text compares too). Two empty texts are identical (1). */
double llf_similarity(const char *a, const char *b);

/* The answer text and token usage of a 2xx body in dialect d. text is
 * malloc'ed; a usage figure the body does not give is -1. Returns 0, or -1
 * when the body is not an answer of that dialect. */
int llf_answer_facts(llf_dialect d, const char *body, size_t n, char **text, long *tokens_in,
                     long *tokens_out);

/* Deterministic sampling: adds sample to *acc and says whether this call is
 * copied, so exactly that share of calls is (0.25: every fourth). */
int llf_shadow_pick(double *acc, double sample);

void llf_shadow_init(const llf_config *cfg, const llf_shim_services *svc);

/* After a call was answered (resp, in the program's dialect, from provider
 * / model in ms): maybe queue a copy of it to the candidate. Cheap: the copy
 * is rewritten here, sent by the worker. */
void llf_shadow_offer(struct llf_call *c, const char *path, int provider, const char *model,
                      const llf_resp *resp);

/* Wait up to timeout_ms for queued and running copies and take no new ones:
 * run at exit (an atexit handler registered when the worker starts), so that
 * a short-lived tool (curl) still logs its comparison after its output is out. */
void llf_shadow_drain(long timeout_ms);

#endif
