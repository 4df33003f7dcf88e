/* stream.h — translating a streamed answer between dialects, event by event,
 * through hub chunks (OpenAI chat.completion.chunk): the member's events go
 * in as the SSE parser yields them, the program's dialect comes out as SSE
 * text. Pure: tested without sockets. */
#ifndef LLF_STREAM_H
#define LLF_STREAM_H

#include <stddef.h>

#include "buf.h"
#include "dialect.h"

typedef struct llf_stream_tr {
    llf_dialect from, to;
    char model[128];          /* reported to the program */
    /* reading the member */
    int  block_tool[64];      /* Anthropic content block → hub tool index + 1 */
    char block_args[64];      /* ... and a non-empty partial_json came for it */
    char *block_input[64];    /* ... the input its start gave, if not empty: its
                                 arguments if no partial_json comes, as
                                 Anthropic's SDKs take it (cJSON's memory) */
    int  ntools;
    int  lost;                /* a hub chunk could not be made (out of memory) */
    int  done;                /* the member's terminator came ([DONE], message_stop, Gemini's finishReason or blockReason) */
    /* A Gemini member's finish (hub finish_reason) and usage, held for the
     * end of its stream: usage is cumulative, and Gemini 3 sends the whole
     * of it in a chunk of its own after the finishReason. */
    char   held_finish[16];
    double held_in, held_out, held_cached, held_reasoning;
    int  role_sent;           /* the first hub chunk (with the role) was made */
    double created;           /* the hub chunks' "created" */
    /* writing the program's dialect */
    int  started, text_open, blocks, tool_block;
    char finish[16];          /* the hub finish_reason, once it came */
    int  refused;             /* its text is an OpenAI refusal (delta.refusal) */
    int  finished;            /* the closing event (message_delta, finishReason chunk) went out */
    int  usage_asked;         /* an OpenAI program asked its stream's usage
                                 (stream_options.include_usage): "usage": null
                                 in every chunk, then a chunk of its own with
                                 "choices": [] before [DONE], as OpenAI streams;
                                 unasked, none */
    char id[128];
    int  gemini_id;           /* id holds a Gemini answer's (its responseId, or one made up) */
    double in_tokens, out_tokens;
    double in_cached, out_reasoning;   /* the hub's usage details, -1 until given (hubutil.h) */
    /* The member's tool calls, as the writers gather them (write_anthropic,
     * gem_tools): one per tool_calls[].index, in the order they came. */
    struct llf_tool_call {
        int     index;        /* the member's tool_calls[].index; -1: it gave none */
        llf_buf id, name;     /* the first non-empty ones */
        llf_buf args;
        int     state;        /* Anthropic: 0 not yet a block, 1 its block is open, 2 its block went out */
    } *calls;
    int     ncalls, calls_cap;
    size_t  args_held;        /* the bytes of all calls' args, at most LLF_SSE_MAX */
    int     open_call;        /* Anthropic: the call whose block is open + 1; 0 none */
    cJSON  *names;            /* the member's function names -> the program's
                                 (LLF_HUB_NAMES, a copy), or NULL */
} llf_stream_tr;

void llf_stream_tr_free(llf_stream_tr *t);

void llf_stream_tr_init(llf_stream_tr *t, llf_dialect from, llf_dialect to, const char *model);
/* One member event; appends the program's SSE text to out. 0, or -1 when
 * the event cannot be read (the stream is then broken for the program). */
int  llf_stream_tr_event(llf_stream_tr *t, const char *event, const char *data, size_t len, llf_buf *out);
/* The member's stream ended cleanly (its transfer completed): whatever
 * closes the program's stream; -1 (nothing appended) when the member sent
 * neither its terminator nor a finish reason, so that the transport breaks
 * the program's stream instead of completing it. */
int  llf_stream_tr_end(llf_stream_tr *t, llf_buf *out);

/* Bytes of a member's stream in, the program's dialect out: SSE parsing and
 * translation together, for the transports. names: the request's
 * LLF_HUB_NAMES (copied), so that the calls made reach the program by its
 * own function names, or NULL. NULL on no memory. */
typedef struct llf_stream_pipe llf_stream_pipe;   /* also named in core.h */
llf_stream_pipe *llf_stream_pipe_new(int from, int to, const char *model, int usage_asked, const cJSON *names);
int  llf_stream_pipe_feed(llf_stream_pipe *p, const char *bytes, size_t n, llf_buf *out);
int  llf_stream_pipe_end(llf_stream_pipe *p, llf_buf *out);
void llf_stream_pipe_free(llf_stream_pipe *p);

#endif
