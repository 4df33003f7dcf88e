/* tr.h — helpers shared by the translator tests. */
#ifndef TR_H
#define TR_H

#include <cjson/cJSON.h>

#include "dialect.h"

/* Run a translator on fixture `in` and compare with fixture `want` (with
 * "created" removed from the result). Also checks the input is unmodified. */
void tr_golden(const char *label, int (*fn)(const cJSON *, const char *, cJSON **, llf_terr *),
               const char *model, const char *in, const char *want);
void tr_golden_resp(const char *label, int (*fn)(const cJSON *, cJSON **, llf_terr *),
                    const char *in, const char *want);
/* The translator's result code on an inline JSON text; *detail filled. */
int tr_code(int (*fn)(const cJSON *, const char *, cJSON **, llf_terr *), const char *model,
            const char *json, char *detail, size_t dlen);

/* A program's request of dialect from as a member of dialect to is sent it
 * (through the hub, as rewrite.c does, a refused hub refusing): the body,
 * or NULL; *rc the result code, detail its reason. */
cJSON *tr_across(int from, int to, const char *json, const char *model, int *rc, char *detail, size_t dlen);
/* Is a program's request of dialect from skipped by a member of dialect to
 * (tr_across: LLF_TR_INCOMPATIBLE, no body) with a detail that names word?
 * The detail is printed when not. */
int tr_skipped(int from, int to, const char *json, const char *model, const char *word);
/* An OpenAI program's conversation (a user's question, then msgs, the
 * text of a list's items) as sent a member of dialect to: sent, and what
 * show writes of the body is want; label printed when not. */
void tr_history(const char *label, int to, const char *model, const char *msgs,
                void (*show)(const cJSON *body, llf_buf *b), const char *want);
/* An OpenAI program's conversation whose last turn a member of dialect to
 * would be sent as the assistant's (the assistant's own, a system message
 * or an empty user turn after it; a blank one too when blank_user) is
 * skipped as a prefill; one whose last, empty, assistant turn is left out
 * is sent. */
void tr_prefill_tails(int to, const char *model, int blank_user);

#endif
