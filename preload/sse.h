/* sse.h — an incremental Server-Sent Events parser: bytes go in as they
 * arrive, split anywhere; events come out whole. Pure (and libc only: the
 * preload shim uses it too); tested at every byte boundary. */
#ifndef LLF_SSE_H
#define LLF_SSE_H

#include <stddef.h>

#include "buf.h"

typedef struct llf_sse {
    llf_buf line;      /* the current, unfinished line */
    llf_buf event;     /* the current event's name */
    llf_buf data;      /* the current event's data lines, joined by '\n' */
    int     has_data;
    int     cr;        /* the last byte was a CR (a CRLF may be split) */
    int     bom;       /* bytes of a leading BOM seen so far; 3 or -1 once past the start */
    int     over;      /* an event passed max: nothing more is read */
    size_t  max;       /* the most of one event held (its line and data); 0: LLF_SSE_MAX */
} llf_sse;

/* A server that never ends a line or an event would have a host hold it
 * all (libcurl alone streams it on); as much as an answer is held to. */
#define LLF_SSE_MAX ((size_t)256 << 20)

/* Called for each complete event; a non-zero return stops the feed. */
typedef int (*llf_sse_fn)(void *ctx, const char *event, const char *data, size_t len);

/* Feed n bytes; returns 0, the callback's non-zero value, or -1 (memory,
 * or an event past max: its bytes are let go, and every later feed is -1). */
int  llf_sse_feed(llf_sse *p, const char *buf, size_t n, llf_sse_fn fn, void *ctx);
void llf_sse_free(llf_sse *p);

/* Is an event's data OpenAI's end of stream? As its SDKs read it: data
 * that begins "[DONE]" (whatever a server puts after it). */
int  llf_sse_done(const char *data, size_t len);

/* The gate's words for a stream that was Gemini's blocked prompt (its one
 * event, so whole): judged a refusal, or with refusal checks off empty. */
#define LLF_PROBLEM_BLOCKED "blocked_prompt"
#define LLF_PROBLEM_BLOCKED_EMPTY "blocked_prompt_empty"

/* A stream stopped before its answer began (problem: the gate's word for it),
 * with the head and body_n bytes that came: did it come whole, as the
 * program would have had it? When it has all its Content-Length; without
 * one, only after an error event or a blocked prompt (in practice a
 * stream's last). Both paths hand such an original back whole, or broken
 * as a cut transfer is. */
int  llf_sse_stopped_whole(const llf_buf *head, size_t body_n, const char *problem);

#endif
