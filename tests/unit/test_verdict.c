/* Verdicts: which failures are worth a fallback, and Retry-After. */
#include <regex.h>
#include <stdlib.h>

#include "sse.h"
#include "verdict.h"
#include "t.h"

static llf_resp resp(long status, const char *head, const char *body)
{
    llf_resp r;
    memset(&r, 0, sizeof r);
    r.status = status;
    llf_buf_adds(&r.head, head ? head : "HTTP/1.1 200 OK\r\n\r\n");
    if (body)
        llf_buf_adds(&r.body, body);
    return r;
}

static llf_verdict judge(long status, const char *head, const char *body)
{
    llf_resp r = resp(status, head, body);
    llf_verdict v = llf_judge(LLF_OPENAI, "gpt-4o", 0, &r, 1000000);
    llf_resp_free(&r);
    return v;
}

static llf_verdict transport(int code, int fb)
{
    llf_resp r;
    memset(&r, 0, sizeof r);
    r.curlcode = code;
    r.first_byte_timeout = fb;
    return llf_judge(LLF_OPENAI, "gpt-4o", 0, &r, 0);
}

/* A Gemini stream whose candidate a filter stopped: a refusal like a
 * whole answer's (llf_gemini_finish), held or not. As its first event it
 * is the whole answer, judged at the stream's end (the original then
 * whole); held after text, at once. */
static void gemini_gate(void)
{
    static const char *const reasons[][2] = {{"SAFETY", "content_filter"}, {"SPII", "content_filter"},
                                             {"IMAGE_SAFETY", "content_filter"}, {"STOP", NULL}};
    static const char text[] = "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Paris\"}]},\"index\":0}]}";
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        for (int hold = 0; hold < 2; hold++) {
            char ev[256];
            snprintf(ev, sizeof ev, "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}],\"role\":"
                                    "\"model\"},\"finishReason\":\"%s\",\"index\":0}]}", reasons[i][0]);
            llf_gate *g = llf_gate_new(LLF_GEMINI, NULL, hold);
            int rc = llf_gate_event(g, NULL, ev, strlen(ev));
            CHECK(rc == (reasons[i][1] || hold ? LLF_GATE_WAIT : LLF_GATE_GO) && llf_gate_started(g));
            rc = llf_gate_end(g);
            CHECK(rc == (reasons[i][1] ? LLF_GATE_FAIL : LLF_GATE_GO));
            if (reasons[i][1])
                CHECK_STR(llf_gate_problem(g), reasons[i][1]);
            llf_gate_free(g);
            if (!hold)
                continue;
            g = llf_gate_new(LLF_GEMINI, NULL, hold);
            llf_gate_event(g, NULL, text, strlen(text));
            rc = llf_gate_event(g, NULL, ev, strlen(ev));
            CHECK(rc == (reasons[i][1] ? LLF_GATE_FAIL : LLF_GATE_WAIT));
            if (reasons[i][1])
                CHECK_STR(llf_gate_problem(g), reasons[i][1]);
            llf_gate_free(g);
        }
}

/* A gate fed a whole stream: its decision (the stream's end decides when
 * no event did), its reason, and whether the answer had started. */
typedef struct {
    int rc, started;
    const char *problem;
} gated;

static int gate_cb(void *ctx, const char *event, const char *data, size_t len)
{
    return llf_gate_event(ctx, event, data, len) != LLF_GATE_WAIT;
}

static gated gate_with(llf_dialect d, int hold, const char *sse, int refusal, int empty)
{
    static llf_verdict_cfg cfg;
    cfg.refusal_max_chars = 400;
    cfg.refusal = refusal;
    cfg.empty = empty;
    llf_gate *g = llf_gate_new(d, &cfg, hold);
    llf_sse p = {0};
    int rc = llf_sse_feed(&p, sse, strlen(sse), gate_cb, g);
    gated r = {rc ? (llf_gate_problem(g) ? LLF_GATE_FAIL : LLF_GATE_GO) : llf_gate_end(g), llf_gate_started(g), NULL};
    r.problem = llf_gate_problem(g);
    llf_sse_free(&p);
    llf_gate_free(g);
    return r;
}

/* Checks of empty answers and refusals on, with one refusal pattern and
 * the default refusal_max_chars. */
static void refusing(llf_verdict_cfg *cfg, regex_t *re, const char *pattern)
{
    CHECK(regcomp(re, pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB) == 0);
    cfg->refusal = cfg->empty = 1;
    cfg->refusal_max_chars = 400;
    cfg->patterns = re;
    cfg->npatterns = 1;
}

static gated gate_stream(llf_dialect d, int hold, const char *sse)
{
    return gate_with(d, hold, sse, 1, 1);
}

#define A_START "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":1}}}\n\n"
#define A_PING "event: ping\ndata: {\"type\":\"ping\"}\n\n"
#define A_ERROR "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
#define A_BLOCK "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
#define A_TEXT "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"The answer is\"}}\n\n"
#define A_STOP "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
#define O_ROLE "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n"
#define O_TEXT "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"The answer is\"},\"finish_reason\":null}]}\n\n"
#define O_ERROR "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n"

/* Events that only frame an answer (Anthropic's message_start and ping,
 * an OpenAI role chunk) decide nothing and do not meet the first-token
 * limit; an error after them falls back; with hold, an error after text
 * falls back too. */
static void stream_gate(void)
{
    gated r = gate_stream(LLF_ANTHROPIC, 0, A_START A_PING A_ERROR);
    CHECK(r.rc == LLF_GATE_FAIL && !r.started);
    CHECK_STR(r.problem, "error_event");
    r = gate_stream(LLF_ANTHROPIC, 0, A_START A_PING);
    CHECK(r.rc == LLF_GATE_FAIL && !r.started);
    CHECK_STR(r.problem, "empty_stream");   /* ended with no answer */
    r = gate_stream(LLF_ANTHROPIC, 0, A_START A_STOP);
    CHECK(r.rc == LLF_GATE_FAIL);
    CHECK_STR(r.problem, "empty_stream");
    /* a text block's start with no text yet is framing too (Anthropic sends
     * it with message_start, at once): an overload after it falls back */
    r = gate_stream(LLF_ANTHROPIC, 0, A_START A_PING A_BLOCK A_ERROR);
    CHECK(r.rc == LLF_GATE_FAIL && !r.started);
    CHECK_STR(r.problem, "error_event");
    r = gate_stream(LLF_ANTHROPIC, 0, A_START A_BLOCK A_TEXT A_ERROR);
    CHECK(r.rc == LLF_GATE_GO && r.started && !r.problem);   /* live from the first text */
    r = gate_stream(LLF_ANTHROPIC, 0, A_START "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
                                      "\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{}}}\n\n" A_ERROR);
    CHECK(r.rc == LLF_GATE_GO && r.started);                   /* a tool call's start is the answer's */
    /* the first-token clock: framing alone has not started the answer */
    llf_gate *g = llf_gate_new(LLF_ANTHROPIC, NULL, 0);
    llf_sse p = {0};
    CHECK(llf_sse_feed(&p, A_START A_PING A_BLOCK, strlen(A_START A_PING A_BLOCK), gate_cb, g) == 0 && !llf_gate_started(g));
    CHECK(llf_sse_feed(&p, A_TEXT, strlen(A_TEXT), gate_cb, g) == 1 && llf_gate_started(g));
    llf_sse_free(&p);
    llf_gate_free(g);

    r = gate_stream(LLF_OPENAI, 0, O_ROLE O_ERROR);
    CHECK(r.rc == LLF_GATE_FAIL && !r.started);
    CHECK_STR(r.problem, "error_event");
    r = gate_stream(LLF_OPENAI, 0, O_ROLE "data: [DONE]\n\n");
    CHECK_STR(r.problem, "empty_stream");
    r = gate_stream(LLF_OPENAI, 0, O_ROLE O_TEXT);
    CHECK(r.rc == LLF_GATE_GO && r.started);
    /* "error": null in every chunk (some OpenAI-compatible servers) is no
     * error, before the answer or in what is held */
#define O_NULL_ERR(delta, fr) "data: {\"choices\":[{\"index\":0,\"delta\":" delta ",\"finish_reason\":" fr "}],\"error\":null}\n\n"
    for (int hold = 0; hold < 2; hold++) {
        r = gate_stream(LLF_OPENAI, hold, O_NULL_ERR("{\"role\":\"assistant\",\"content\":\"\"}", "null")
                        O_NULL_ERR("{\"content\":\"Hi\"}", "null") O_NULL_ERR("{}", "\"stop\"") "data: [DONE]\n\n");
        CHECK(r.rc == LLF_GATE_GO && r.started && !r.problem);
    }
    r = gate_stream(LLF_GEMINI, 0, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]},\"index\":0}],\"error\":null}\r\n\r\n");
    CHECK(r.rc == LLF_GATE_GO && !r.problem);

    /* held (verdict.stream_refusal): an error after some text */
    r = gate_stream(LLF_ANTHROPIC, 1, A_START A_BLOCK A_TEXT A_ERROR);
    CHECK(r.rc == LLF_GATE_FAIL);
    CHECK_STR(r.problem, "error_event");
    r = gate_stream(LLF_OPENAI, 1, O_ROLE O_TEXT O_ERROR);
    CHECK(r.rc == LLF_GATE_FAIL);
    CHECK_STR(r.problem, "error_event");
    r = gate_stream(LLF_ANTHROPIC, 1, A_START A_BLOCK A_TEXT A_STOP);
    CHECK(r.rc == LLF_GATE_GO && !r.problem);

    /* held, with refusal checks off: a refusal is the answer, as a whole one
     * is (structured, filtered or in words); with empty off, white space */
#define O_REFUSAL "data: {\"choices\":[{\"index\":0,\"delta\":{\"refusal\":\"I can't help with that.\"},\"finish_reason\":null}]}\n\n"
#define O_FILTER "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"content_filter\"}]}\n\n"
#define O_WORDS "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"I'm sorry, but I can't help with that.\"},\"finish_reason\":null}]}\n\n"
#define O_BLANK "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"  \"},\"finish_reason\":null}]}\n\n"
    static const char *const refusals[] = {O_ROLE O_REFUSAL "data: [DONE]\n\n", O_ROLE O_FILTER "data: [DONE]\n\n"};
    for (int i = 0; i < 2; i++) {
        r = gate_with(LLF_OPENAI, 1, refusals[i], 1, 1);
        CHECK(r.rc == LLF_GATE_FAIL);
        CHECK_STR(r.problem, i ? "content_filter" : "refusal");
        r = gate_with(LLF_OPENAI, 1, refusals[i], 0, 1);
        /* (a filtered answer with no text is empty, as a whole one is) */
        CHECK(i ? r.rc == LLF_GATE_FAIL && !strcmp(r.problem, "empty_stream") : r.rc == LLF_GATE_GO && !r.problem);
        r = gate_with(LLF_OPENAI, 1, refusals[i], 0, 0);
        CHECK(r.rc == LLF_GATE_GO && !r.problem);
    }
    r = gate_with(LLF_OPENAI, 1, O_ROLE O_WORDS "data: [DONE]\n\n", 0, 1);
    CHECK(r.rc == LLF_GATE_GO);   /* (the textual patterns are the config's: none here) */
    r = gate_with(LLF_OPENAI, 1, O_ROLE O_BLANK "data: [DONE]\n\n", 1, 1);
    CHECK_STR(r.problem, "empty_stream");
    r = gate_with(LLF_OPENAI, 1, O_ROLE O_BLANK "data: [DONE]\n\n", 1, 0);
    CHECK(r.rc == LLF_GATE_GO && !r.problem);

    /* Gemini: a blocked prompt (feedback, no candidate) is the whole
     * stream, filtered: it falls back held or not; thought summaries are
     * not the answer's text */
#define G_BLOCKED "data: {\"promptFeedback\":{\"blockReason\":\"SAFETY\"},\"usageMetadata\":{\"promptTokenCount\":3}}\r\n\r\n"
#define G_THOUGHT(t) "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"" t "\",\"thought\":true}],\"role\":\"model\"},\"index\":0}]}\r\n\r\n"
#define G_END(why) "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\"}],\"role\":\"model\"},\"finishReason\":\"" why "\",\"index\":0}]}\r\n\r\n"
#define G_TEXT "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Paris is the capital.\"}],\"role\":\"model\"},\"index\":0}]}\r\n\r\n"
    for (int hold = 0; hold < 2; hold++) {
        r = gate_stream(LLF_GEMINI, hold, G_BLOCKED);
        CHECK(r.rc == LLF_GATE_FAIL);
        CHECK_STR(r.problem, LLF_PROBLEM_BLOCKED);
        r = gate_with(LLF_GEMINI, hold, G_BLOCKED, 0, 1);
        CHECK(r.rc == LLF_GATE_FAIL);
        CHECK_STR(r.problem, LLF_PROBLEM_BLOCKED_EMPTY);
        r = gate_with(LLF_GEMINI, hold, G_BLOCKED, 0, 0);
        CHECK(r.rc == LLF_GATE_GO && !r.problem);
    }
    /* judged as the whole answer is; and it was the whole stream, which
     * the program gets back whole when nothing replaces it */
    llf_resp bp = resp(200, "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n", G_BLOCKED);
    bp.stream_problem = LLF_PROBLEM_BLOCKED;
    llf_verdict bv = llf_judge(LLF_GEMINI, "gemini-2.5-flash", 1, &bp, 0);
    CHECK(bv.outcome == LLF_REFUSAL && bv.fallback && !strcmp(bv.reason, "content_filter"));
    bp.stream_problem = LLF_PROBLEM_BLOCKED_EMPTY;
    bv = llf_judge(LLF_GEMINI, "gemini-2.5-flash", 1, &bp, 0);
    CHECK(bv.outcome == LLF_EMPTY && !strcmp(bv.reason, "empty_stream"));
    bp.stream_problem = NULL;   /* judged from its body: the same reason */
    bv = llf_judge(LLF_GEMINI, "gemini-2.5-flash", 1, &bp, 0);
    CHECK(bv.outcome == LLF_REFUSAL && !strcmp(bv.reason, "content_filter"));
    CHECK(llf_sse_stopped_whole(&bp.head, bp.body.n, LLF_PROBLEM_BLOCKED) &&
          llf_sse_stopped_whole(&bp.head, bp.body.n, LLF_PROBLEM_BLOCKED_EMPTY) &&
          !llf_sse_stopped_whole(&bp.head, bp.body.n, "content_filter"));
    llf_resp_free(&bp);
    r = gate_stream(LLF_GEMINI, 1, G_THOUGHT("Thinking it over") G_END("MAX_TOKENS"));
    CHECK(r.rc == LLF_GATE_FAIL);
    CHECK_STR(r.problem, "empty_stream");
    static llf_verdict_cfg words;
    regex_t re;
    refusing(&words, &re, "^[[:space:]]*I cannot");
    g = llf_gate_new(LLF_GEMINI, &words, 1);
    const char *ev = G_THOUGHT("I cannot answer that without checking the map.") G_TEXT G_END("STOP");
    CHECK(llf_sse_feed(&p, ev, strlen(ev), gate_cb, g) == 0 && llf_gate_end(g) == LLF_GATE_GO && !llf_gate_problem(g));
    llf_sse_free(&p);
    llf_gate_free(g);
    /* Mistral's Magistral streams content as chunks: the text ones' text
     * is the answer's, the thinking ones' is not */
#define O_CHUNKS(c) "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":" c "},\"finish_reason\":null}]}\n\n"
#define O_THINKING O_CHUNKS("[{\"type\":\"thinking\",\"thinking\":[{\"type\":\"text\",\"text\":\"Let me compute 2+2.\"}]}]")
    r = gate_stream(LLF_OPENAI, 1, O_ROLE O_THINKING O_CHUNKS("[{\"type\":\"text\",\"text\":\"2 + 2 = 4.\"}]") "data: [DONE]\n\n");
    CHECK(r.rc == LLF_GATE_GO && !r.problem);
    r = gate_stream(LLF_OPENAI, 1, O_ROLE O_THINKING "data: [DONE]\n\n");
    CHECK_STR(r.problem, "empty_stream");
    g = llf_gate_new(LLF_OPENAI, &words, 1);
    ev = O_ROLE O_THINKING O_CHUNKS("[{\"type\":\"text\",\"text\":\"I cannot \"},{\"type\":\"text\",\"text\":\"say.\"}]") "data: [DONE]\n\n";
    CHECK(llf_sse_feed(&p, ev, strlen(ev), gate_cb, g) == 0 && llf_gate_end(g) == LLF_GATE_FAIL);
    CHECK_STR(llf_gate_problem(g), "textual");
    llf_sse_free(&p);
    llf_gate_free(g);
    regfree(&re);
    /* Not held (the default): a finish that refuses before any content is
     * the whole answer, a refusal (an empty answer with refusal checks off),
     * judged at the stream's end; not the start of a stream to go live
     * with. An ordinary finish with no content goes live as before. */
#define A_REFUSAL "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"refusal\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":0}}\n\n"
#define A_END_TURN "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":0}}\n\n"
#define G_SAFETY "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"\"}]},\"finishReason\":\"SAFETY\",\"index\":0}]}\r\n\r\n"
#define A_BLOCK_STOP "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
#define O_USAGE "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":0,\"total_tokens\":1}}\n\n"
    static const struct {
        llf_dialect d;
        const char *sse, *why;
    } refused[] = {{LLF_ANTHROPIC, A_START A_PING A_REFUSAL A_STOP, "refusal"},
                   {LLF_ANTHROPIC, A_START A_BLOCK A_REFUSAL A_STOP, "refusal"},
                   /* (an empty text block closed before the refusal: its stop says nothing) */
                   {LLF_ANTHROPIC, A_START A_BLOCK A_BLOCK_STOP A_REFUSAL A_STOP, "refusal"},
                   /* (with n > 1, another choice's text is not the answer's) */
                   {LLF_OPENAI, O_ROLE "data: {\"choices\":[{\"index\":1,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n"
                    O_FILTER "data: [DONE]\n\n", "content_filter"},
                   {LLF_OPENAI, O_ROLE O_FILTER O_USAGE "data: [DONE]\n\n", "content_filter"},
                   {LLF_OPENAI, O_FILTER, "content_filter"},
                   {LLF_GEMINI, G_SAFETY, "content_filter"},
                   {LLF_GEMINI, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\",\"thoughtSignature\":\"c2ln\"}]},"
                                "\"finishReason\":\"SAFETY\"}]}\n\n", "content_filter"},
                   {LLF_GEMINI, G_END("PROHIBITED_CONTENT") "data: {\"usageMetadata\":{\"promptTokenCount\":3}}\r\n\r\n",
                    "content_filter"}};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        r = gate_stream(refused[i].d, 0, refused[i].sse);
        CHECK(r.rc == LLF_GATE_FAIL && r.started);   /* (the first-token limit met) */
        CHECK_STR(r.problem, refused[i].why);
        r = gate_with(refused[i].d, 0, refused[i].sse, 0, 1);
        CHECK(r.rc == LLF_GATE_FAIL);
        CHECK_STR(r.problem, "empty_stream");
        r = gate_with(refused[i].d, 0, refused[i].sse, 0, 0);
        CHECK(r.rc == LLF_GATE_GO && !r.problem);
        /* a stream that never reached the program: judged the same */
        llf_resp rs = resp(200, "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n", refused[i].sse);
        llf_verdict rv = llf_judge(refused[i].d, "m", 1, &rs, 0);
        CHECK(rv.outcome == LLF_REFUSAL && rv.fallback);
        CHECK_STR(rv.reason, refused[i].why);
        llf_resp_free(&rs);
    }
    /* OpenAI's refusal, not held: its first delta says it, as the whole
     * answer's refusal member would (finish_reason is then "stop"); with
     * refusal checks off it is the answer */
    const char *o_refused = O_ROLE O_REFUSAL "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
                            "data: [DONE]\n\n";
    r = gate_stream(LLF_OPENAI, 0, o_refused);
    CHECK(r.rc == LLF_GATE_FAIL && r.started);
    CHECK_STR(r.problem, "refusal");
    r = gate_with(LLF_OPENAI, 0, o_refused, 0, 1);
    CHECK(r.rc == LLF_GATE_GO && !r.problem);
    llf_resp ors = resp(200, "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n", o_refused);
    llf_verdict orv = llf_judge(LLF_OPENAI, "m", 1, &ors, 0);
    CHECK(orv.outcome == LLF_REFUSAL && orv.fallback);
    CHECK_STR(orv.reason, "refusal");
    llf_resp_free(&ors);
    /* what came with the filter's stop in the first event is filtered too;
     * with refusal checks off it is the answer */
    r = gate_stream(LLF_GEMINI, 0, G_END("SAFETY") G_TEXT);
    CHECK_STR(r.problem, "content_filter");
    r = gate_with(LLF_GEMINI, 0, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Paris\"}]},\"finishReason\":\"SAFETY\"}]}\n\n", 0, 1);
    CHECK(r.rc == LLF_GATE_GO && !r.problem);
    /* after the answer began, not held: too late, live */
    r = gate_stream(LLF_ANTHROPIC, 0, A_START A_BLOCK A_TEXT A_REFUSAL A_STOP);
    CHECK(r.rc == LLF_GATE_GO && !r.problem);
    /* an ordinary finish with no content: live at once, as before */
    r = gate_stream(LLF_ANTHROPIC, 0, A_START A_END_TURN A_STOP);
    CHECK(r.rc == LLF_GATE_GO && !r.problem);
    r = gate_stream(LLF_OPENAI, 0, O_ROLE "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    CHECK(r.rc == LLF_GATE_GO && !r.problem);
    r = gate_stream(LLF_GEMINI, 0, G_END("STOP"));
    CHECK(r.rc == LLF_GATE_GO && !r.problem);
    /* an error after the refusal is still an error */
    r = gate_stream(LLF_ANTHROPIC, 0, A_START A_REFUSAL A_ERROR);
    CHECK_STR(r.problem, "error_event");
    /* OpenAI: audio deltas are an answer that is no text */
    r = gate_stream(LLF_OPENAI, 1, O_ROLE "data: {\"choices\":[{\"index\":0,\"delta\":{\"audio\":{\"id\":\"a\",\"transcript\":\"\"}},\"finish_reason\":null}]}\n\n" "data: [DONE]\n\n");
    CHECK(r.rc == LLF_GATE_GO && !r.problem);

    /* a stream that never reached the program is judged the same way */
    llf_resp resp_ = resp(200, "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n", A_START A_PING A_ERROR);
    llf_verdict v = llf_judge(LLF_ANTHROPIC, "claude", 1, &resp_, 0);
    CHECK(v.outcome == LLF_INVALID_BODY && v.fallback);
    CHECK_STR(v.reason, "error_event");
    llf_resp_free(&resp_);
    resp_ = resp(200, NULL, A_START A_BLOCK A_TEXT);
    v = llf_judge(LLF_ANTHROPIC, "claude", 1, &resp_, 0);
    CHECK(v.outcome == LLF_OK);
    llf_resp_free(&resp_);
    /* Anthropic's turn a server tool paused holds no text yet: an answer,
     * for the program to send back */
    resp_ = resp(200, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n",
                 "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude\",\"content\":"
                 "[{\"type\":\"server_tool_use\",\"id\":\"srvtoolu_1\",\"name\":\"web_search\",\"input\":{\"query\":\"q\"}}],"
                 "\"stop_reason\":\"pause_turn\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":3}}");
    v = llf_judge(LLF_ANTHROPIC, "claude", 0, &resp_, 0);
    CHECK(v.outcome == LLF_OK);
    llf_resp_free(&resp_);
    resp_ = resp(200, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n",
                 "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude\",\"content\":[],"
                 "\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":0}}");
    v = llf_judge(LLF_ANTHROPIC, "claude", 0, &resp_, 0);
    CHECK(v.outcome == LLF_EMPTY);
    llf_resp_free(&resp_);
}

/* One event of a live stream, watched from its first byte. */
static const char *late(llf_dialect d, const char *event, const char *data)
{
    llf_buf sse = {0};
    llf_buf_printf(&sse, "event: %s\ndata: %s\n\n", event, data);
    llf_sse p = {0};
    const char *problem = llf_stream_watch(&p, d, sse.p, sse.n);
    llf_sse_free(&p);
    llf_buf_free(&sse);
    return problem;
}

/* Several answers asked for (n > 1): their chunks interleave, each choice
 * under its own index. A stream is judged by choice 0 (or a choice with no
 * index), as a whole answer is by its first: another choice's filter stop,
 * refusal or text decides nothing. */
static void other_choices_in_a_stream(void)
{
#define O_FILTER1 "data: {\"choices\":[{\"index\":1,\"delta\":{},\"finish_reason\":\"content_filter\"}]}\n\n"
#define O_REFUSAL1 "data: {\"choices\":[{\"index\":1,\"delta\":{\"refusal\":\"I can't help with that.\"},\"finish_reason\":null}]}\n\n"
#define O_BOTH(a, b) "data: {\"choices\":[" a "," b "]}\n\n"
#define C_TEXT0 "{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}"
#define C_FILTER1 "{\"index\":1,\"delta\":{},\"finish_reason\":\"content_filter\"}"
#define O_FILTER_NOINDEX "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"content_filter\"}]}\n\n"
    static const char *const answered[] = {
        O_FILTER1 O_TEXT "data: [DONE]\n\n",
        O_ROLE O_TEXT O_FILTER1 "data: [DONE]\n\n",
        O_ROLE O_REFUSAL1 O_TEXT "data: [DONE]\n\n",
        O_BOTH(C_FILTER1, C_TEXT0) "data: [DONE]\n\n",
        O_BOTH(C_TEXT0, C_FILTER1) "data: [DONE]\n\n"};
    for (size_t i = 0; i < sizeof answered / sizeof answered[0]; i++)
        for (int hold = 0; hold < 2; hold++) {
            gated r = gate_stream(LLF_OPENAI, hold, answered[i]);
            CHECK(r.rc == LLF_GATE_GO && !r.problem);
        }
    llf_resp rs = resp(200, "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n", answered[0]);
    CHECK(llf_judge(LLF_OPENAI, "m", 1, &rs, 0).outcome == LLF_OK);
    llf_resp_free(&rs);
    /* choice 0's own filter stop, or one without an index, still refuses */
    static const char *const refused[] = {O_ROLE O_TEXT O_FILTER "data: [DONE]\n\n",
                                          O_FILTER O_FILTER1 "data: [DONE]\n\n",
                                          O_FILTER_NOINDEX "data: [DONE]\n\n"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        gated r = gate_stream(LLF_OPENAI, 1, refused[i]);
        CHECK(r.rc == LLF_GATE_FAIL);
        CHECK_STR(r.problem, "content_filter");
    }
#undef O_FILTER1
#undef O_REFUSAL1
#undef O_BOTH
#undef C_TEXT0
#undef C_FILTER1
#undef O_FILTER_NOINDEX
}

/* After a stream went live: only the provider's error event is named, and
 * a delivered stream that got one is a failed attempt (for the log and the
 * breaker), not an answer, though it cannot fall back. */
static void late_stream_error(void)
{
#define LATE(d, ev, data) late(d, ev, data)
    CHECK_STR(LATE(LLF_ANTHROPIC, "error", "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}"),
              "error_event");
    CHECK_STR(LATE(LLF_ANTHROPIC, "error", "not json"), "error_event");   /* the event's name says it */
    CHECK_STR(LATE(LLF_ANTHROPIC, "message", "{\"type\":\"error\",\"error\":{}}"), "error_event");
    CHECK_STR(LATE(LLF_OPENAI, "message", "{\"error\":{\"message\":\"overloaded\"}}"), "error_event");
    CHECK_STR(LATE(LLF_GEMINI, "message", "{\"error\":{\"code\":503,\"status\":\"UNAVAILABLE\"}}"), "error_event");
    /* text that speaks of an error, a nested "error" key, [DONE], garbage: not the provider's error */
    CHECK(!LATE(LLF_OPENAI, "message", "{\"choices\":[{\"delta\":{\"content\":\"an \\\"error\\\" here\"}}]}"));
    CHECK(!LATE(LLF_OPENAI, "message", "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"x\":{\"error\":1}}]}}]}"));
    CHECK(!LATE(LLF_OPENAI, "message", "[DONE]"));
    CHECK(!LATE(LLF_OPENAI, "message", "<html>\"error\"</html>"));
    CHECK(!LATE(LLF_ANTHROPIC, "content_block_delta",
                "{\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"error\"}}"));
    /* "error": null (or false, or "") is no error: some OpenAI-compatible
     * servers write it in every chunk */
    CHECK(!LATE(LLF_OPENAI, "message", "{\"choices\":[{\"delta\":{\"content\":\"!\"}}],\"error\":null}"));
    CHECK(!LATE(LLF_OPENAI, "message", "{\"choices\":[],\"error\":false}"));
    CHECK(!LATE(LLF_GEMINI, "message", "{\"candidates\":[],\"error\":\"\"}"));
    CHECK_STR(LATE(LLF_OPENAI, "message", "{\"error\":\"upstream failed\"}"), "error_event");
    /* a lone surrogate escape in its message is JSON, as in a body */
    CHECK_STR(LATE(LLF_OPENAI, "message", "{\"error\":{\"message\":\"overloaded \\ud83d\"}}"), "error_event");
#undef LATE
    /* bytes as they come: text, then the error split across two reads */
    llf_sse w = {0};
    const char *live = A_BLOCK A_TEXT A_ERROR;
    size_t cut = strlen(A_BLOCK A_TEXT) + 20;
    CHECK(llf_stream_watch(&w, LLF_ANTHROPIC, live, cut) == NULL);
    CHECK_STR(llf_stream_watch(&w, LLF_ANTHROPIC, live + cut, strlen(live) - cut), "error_event");
    llf_sse_free(&w);
    llf_resp r = resp(200, "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n", A_START A_BLOCK A_TEXT A_ERROR);
    r.delivered = 1;
    llf_verdict v = llf_judge(LLF_ANTHROPIC, "claude", 1, &r, 0);
    CHECK(v.outcome == LLF_OK);   /* what the transport did not name is not judged again */
    r.late_problem = "error_event";
    v = llf_judge(LLF_ANTHROPIC, "claude", 1, &r, 0);
    CHECK(v.outcome == LLF_INVALID_BODY && v.fallback);
    CHECK_STR(v.reason, "error_event");
    r.curlcode = CURLE_PARTIAL_FILE;   /* translated: the program's transfer broke at it */
    v = llf_judge(LLF_ANTHROPIC, "claude", 1, &r, 0);
    CHECK_STR(v.reason, "error_event");
    llf_resp_free(&r);
}

/* Answers a transfer stopped on purpose: at the head under the program's
 * --fail (judged by the status alone), or over the size an answer may be
 * held to (a member's fails over; the original's, handed on, is taken). */
static void stopped_answers(void)
{
    /* the statuses whose verdict reads the body, and only those */
    for (long st = 400; st < 600; st++)
        CHECK(llf_error_needs_body(st) == (st == 400 || st == 404 || st == 410 || st == 413 || st == 429));
    static const struct { long status; int fallback; const char *reason; } head[] = {
        {503, 1, "overloaded"}, {429, 1, "rate_limited"}, {500, 1, "server_error"},
        {401, 1, "auth"}, {422, 0, "client_error"}, {405, 0, "client_error"}};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++) {
        llf_resp r = resp(head[i].status, "HTTP/1.1 503 x\r\nRetry-After: 2\r\n\r\n", NULL);
        r.curlcode = CURLE_WRITE_ERROR;
        r.head_only = 1;
        llf_verdict v = llf_judge(LLF_OPENAI, "gpt-4o", 0, &r, 1000000);
        CHECK(v.outcome == LLF_HTTP_ERROR && v.fallback == head[i].fallback);
        CHECK_STR(v.reason, head[i].reason);
        llf_resp_free(&r);
    }
    /* a redirect: no failure, and nothing to fall back from (the original's
     * is the program's to follow) */
    for (long st = 300; st < 400; st += 7) {
        llf_resp rr = resp(st, NULL, NULL);
        llf_verdict rv = llf_judge(LLF_OPENAI, "gpt-4o", 0, &rr, 1000000);
        CHECK(rv.outcome == LLF_REDIRECT && !rv.fallback);
        CHECK_STR(llf_outcome_name(rv.outcome), "redirect");
        llf_resp_free(&rr);
    }
    /* (without the mark, the same stop is the program's own write error) */
    llf_resp r = resp(503, NULL, NULL);
    r.curlcode = CURLE_WRITE_ERROR;
    llf_verdict v = llf_judge(LLF_OPENAI, "gpt-4o", 0, &r, 1000000);
    CHECK(!v.fallback && strcmp(v.reason, "local") == 0);
    /* over the cap: a member's stopped answer is worth the next member */
    r.status = 200;
    r.too_large = 1;
    v = llf_judge(LLF_OPENAI, "gpt-4o", 0, &r, 1000000);
    CHECK(v.outcome == LLF_INVALID_BODY && v.fallback);
    CHECK_STR(v.reason, "too_large");
    /* the original's, handed on whole (its start was all we saw): taken */
    r.curlcode = CURLE_OK;
    r.delivered = 1;
    llf_buf_adds(&r.body, "{\"choices\":[{\"message\":{\"content\":\"x");
    v = llf_judge(LLF_OPENAI, "gpt-4o", 0, &r, 1000000);
    CHECK(v.outcome == LLF_OK);
    llf_resp_free(&r);
}

/* A Gemini answer whose parts are an image, audio, a file or code it ran,
 * with no text: the answer to a Gemini program (not empty), held or
 * streamed; translated for another dialect, which has no place for them,
 * nothing. */
static void gemini_beyond_text(void)
{
    static const char *const parts[] = {
        "{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"iVBORw0KGgo=\"}}",
        "{\"inline_data\":{\"mime_type\":\"audio/L16;codec=pcm;rate=24000\",\"data\":\"AAAA\"}}",
        "{\"fileData\":{\"mimeType\":\"video/mp4\",\"fileUri\":\"https://example.invalid/f\"}}",
        "{\"executableCode\":{\"language\":\"PYTHON\",\"code\":\"print(1)\"}},"
        "{\"codeExecutionResult\":{\"outcome\":\"OUTCOME_OK\",\"output\":\"1\\n\"}}"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        char body[512];
        snprintf(body, sizeof body, "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[%s]},"
                                    "\"finishReason\":\"STOP\",\"index\":0}]}", parts[i]);
        llf_resp r = resp(200, NULL, body);
        llf_judge_in in = {LLF_GEMINI, "gemini-2.5-flash-image", 0, NULL, NULL, 0};
        llf_verdict v = llf_judge_ex(&in, &r, 0);
        CHECK(v.outcome == LLF_OK);
        in.translated = 1;
        v = llf_judge_ex(&in, &r, 0);
        CHECK(v.outcome == LLF_EMPTY && strcmp(v.reason, "no_content") == 0);
        llf_resp_free(&r);
        /* streamed, held for its text: an answer at its first such part */
        char sse[600];
        snprintf(sse, sizeof sse, "data: %s\n\n", body);
        gated g = gate_stream(LLF_GEMINI, 1, sse);
        CHECK(g.rc == LLF_GATE_GO);
    }
    /* a thought is not the answer, whatever it holds; nor is a filtered image */
    llf_resp r = resp(200, NULL, "{\"candidates\":[{\"content\":{\"parts\":[{\"thought\":true,\"inlineData\":"
                                 "{\"mimeType\":\"image/png\",\"data\":\"iVBO\"}}]},\"finishReason\":\"STOP\"}]}");
    CHECK(llf_judge(LLF_GEMINI, "g", 0, &r, 0).outcome == LLF_EMPTY);
    llf_resp_free(&r);
    r = resp(200, NULL, "{\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":{\"mimeType\":\"image/png\","
                        "\"data\":\"iVBO\"}}]},\"finishReason\":\"IMAGE_SAFETY\"}]}");
    CHECK(llf_judge(LLF_GEMINI, "g", 0, &r, 0).outcome == LLF_REFUSAL);
    llf_resp_free(&r);
}

void test_verdict(void)
{
    const char *ok = "{\"choices\":[{\"message\":{\"content\":\"hi\"}}]}";
    llf_verdict v = judge(200, NULL, ok);
    CHECK(v.outcome == LLF_OK && !v.fallback);

    static const long worth[] = {408, 429, 500, 502, 503, 504, 529, 401, 402, 403};
    for (size_t i = 0; i < sizeof worth / sizeof worth[0]; i++) {
        v = judge(worth[i], "HTTP/1.1 500 x\r\n\r\n", "{\"error\":{}}");
        CHECK(v.outcome == LLF_HTTP_ERROR && v.fallback);
    }
    CHECK_STR(judge(401, NULL, "{}").reason, "auth");
    CHECK_STR(judge(402, NULL, "{}").reason, "billing");
    CHECK_STR(judge(403, NULL, "{}").reason, "forbidden");
    CHECK_STR(judge(529, NULL, "{}").reason, "overloaded");
    CHECK_STR(judge(429, NULL, "{}").reason, "rate_limited");
    /* OpenAI's account out of credit is a 429 too: billing, and with the
     * other credential failures none of the provider's health */
    v = judge(429, "HTTP/1.1 429 x\r\nretry-after: 1\r\n\r\n",
              "{\"error\":{\"type\":\"insufficient_quota\",\"code\":\"insufficient_quota\"}}");
    CHECK(v.fallback && v.retry_after_ms < 0);
    CHECK_STR(v.reason, "billing");
    CHECK(llf_verdict_credential(&v));
    static const long cred[] = {401, 402, 403}, health[] = {429, 500, 503, 408};
    for (size_t i = 0; i < 3; i++) {
        v = judge(cred[i], NULL, "{}");
        CHECK(llf_verdict_credential(&v));
    }
    for (size_t i = 0; i < 4; i++) {
        v = judge(health[i], NULL, "{}");
        CHECK(!llf_verdict_credential(&v));
    }
    /* A plain 400 and other client errors go back unchanged. */
    v = judge(400, NULL, "{\"error\":{\"message\":\"bad\"}}");
    CHECK(v.outcome == LLF_HTTP_ERROR && !v.fallback);
    CHECK(!judge(422, NULL, "{}").fallback);
    /* 404/410 only when they name the model (retirement). */
    v = judge(404, NULL, "{\"error\":{\"message\":\"The model `gpt-4o` does not exist\",\"code\":\"model_not_found\"}}");
    CHECK(v.fallback && strcmp(v.reason, "model_not_found") == 0);
    CHECK(judge(410, NULL, "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"message\":\"model: gpt-4o\"}}").fallback);
    CHECK(!judge(404, NULL, "{\"error\":{\"message\":\"Invalid URL (POST /v1/chat/completion)\"}}").fallback);

    /* Transport failures. */
    CHECK_STR(transport(CURLE_COULDNT_CONNECT, 0).reason, "connect");
    CHECK_STR(transport(CURLE_COULDNT_RESOLVE_HOST, 0).reason, "resolve");
    CHECK_STR(transport(CURLE_OPERATION_TIMEDOUT, 0).reason, "timeout");
    CHECK_STR(transport(CURLE_GOT_NOTHING, 0).reason, "empty_reply");
    {   /* not HTTP at all: the provider's; a protocol the program ruled out: its own */
        llf_resp r;
        memset(&r, 0, sizeof r);
        r.curlcode = CURLE_UNSUPPORTED_PROTOCOL;
        snprintf(r.errmsg, sizeof r.errmsg, "Received HTTP/0.9 when not allowed");
        v = llf_judge(LLF_OPENAI, "gpt-4o", 0, &r, 0);
        CHECK(v.fallback);
        CHECK_STR(v.reason, "bad_reply");
        snprintf(r.errmsg, sizeof r.errmsg, "Protocol \"http\" not supported or disabled in libcurl");
        v = llf_judge(LLF_OPENAI, "gpt-4o", 0, &r, 0);
        CHECK(!v.fallback);
        CHECK_STR(v.reason, "local");
    }
    CHECK_STR(transport(CURLE_BAD_CONTENT_ENCODING, 0).reason, "bad_reply");
    CHECK_STR(transport(CURLE_RECV_ERROR, 0).reason, "recv");
    CHECK_STR(transport(CURLE_SSL_CONNECT_ERROR, 0).reason, "tls");
    CHECK_STR(transport(CURLE_PEER_FAILED_VERIFICATION, 0).reason, "tls");
    v = transport(CURLE_PEER_FAILED_VERIFICATION, 0);
    CHECK(!llf_verdict_credential(&v));   /* the provider's certificate: its health */
    {   /* a CA file or client certificate of this side's that cannot be
         * read: worth another member, no word on the provider's health */
        static const int local_tls[] = {CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM};
        for (size_t i = 0; i < 2; i++) {
            v = transport(local_tls[i], 0);
            CHECK(v.outcome == LLF_TRANSPORT_ERROR && v.fallback);
            CHECK_STR(v.reason, "local_tls");
            CHECK(llf_verdict_credential(&v));
        }
        v = transport(CURLE_COULDNT_CONNECT, 0);
        CHECK(!llf_verdict_credential(&v));
    }
    CHECK(transport(CURLE_ABORTED_BY_CALLBACK, 1).fallback);
    CHECK_STR(transport(CURLE_ABORTED_BY_CALLBACK, 1).reason, "first_byte_timeout");
    CHECK(!transport(CURLE_ABORTED_BY_CALLBACK, 0).fallback);   /* the program's abort */
    CHECK_STR(transport(CURLE_ABORTED_BY_CALLBACK, 0).reason, "aborted");
    {   /* the relay's, when the program closed its connection: no fallback */
        llf_resp r;
        memset(&r, 0, sizeof r);
        r.curlcode = CURLE_ABORTED_BY_CALLBACK;
        r.client_gone = 1;
        v = llf_judge(LLF_OPENAI, "gpt-4o", 0, &r, 0);
        CHECK(!v.fallback && v.outcome == LLF_TRANSPORT_ERROR);
        CHECK_STR(v.reason, "client_gone");
        r.curlcode = CURLE_WRITE_ERROR;   /* a live write that failed for it */
        v = llf_judge(LLF_OPENAI, "gpt-4o", 0, &r, 0);
        CHECK(!v.fallback && strcmp(v.reason, "client_gone") == 0);
    }
    CHECK(!transport(CURLE_WRITE_ERROR, 0).fallback);
    CHECK(transport(CURLE_COULDNT_CONNECT, 0).outcome == LLF_TRANSPORT_ERROR);

    /* A 200 that is not an answer. */
    CHECK_STR(judge(200, NULL, "{\"choices\": [").reason, "not_json");
    CHECK_STR(judge(200, NULL, "").reason, "empty_body");
    CHECK_STR(judge(200, NULL, "<html>oops</html>").reason, "not_json");
    CHECK_STR(judge(200, NULL, "{\"choices\":[]} trailing").reason, "not_json");
    CHECK_STR(judge(200, NULL, "{\"id\":\"x\"}").reason, "wrong_shape");
    /* what cJSON took and Python's json, JSON.parse and Go refuse: a raw
     * control character in a string (a tab in the content), a leading zero,
     * a number ending in its point; escaped, the tab is an answer */
    CHECK_STR(judge(200, NULL, "{\"choices\":[{\"message\":{\"content\":\"a\tb\"}}]}").reason, "not_json");
    CHECK_STR(judge(200, NULL, "{\"choices\":[{\"index\":00,\"message\":{\"content\":\"ab\"}}]}").reason, "not_json");
    CHECK_STR(judge(200, NULL, "{\"choices\":[{\"message\":{\"content\":\"ab\"}}],\"created\":1.}").reason, "not_json");
    CHECK(judge(200, NULL, "{\"choices\":[{\"message\":{\"content\":\"a\\tb\"}}]}").outcome == LLF_OK);
    CHECK(gate_stream(LLF_OPENAI, 0, "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\x01\"}}]}\n\n").rc == LLF_GATE_FAIL);
    /* a lone surrogate escape (half an emoji), which cJSON refuses: an answer still */
    v = judge(200, NULL, "{\"choices\":[{\"message\":{\"content\":\"Hello \\ud83d there\"}}]}");
    CHECK(v.outcome == LLF_OK);
    CHECK_STR(judge(200, NULL, "{\"choices\":[{\"message\":{\"content\":\"\\ud83d\"}}").reason, "not_json");
    CHECK(gate_stream(LLF_OPENAI, 0, "data: {\"choices\":[{\"delta\":{\"content\":\"Hi \\ud83d\"}}]}\n\n").rc == LLF_GATE_GO);
    /* the content type, read as media types are, whatever their case */
    static const struct {
        const char *type;
        int json;
    } types[] = {{"application/json", 1}, {"Application/JSON", 1}, {"APPLICATION/JSON; charset=UTF-8", 1},
                 {"application/problem+json", 1}, {"text/html", 0}, {"TEXT/PLAIN", 0},
                 {"text/plain; note=json", 0}, {"", 1} /* an empty value: none, as an absent header */};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char head[128];
        snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n\r\n", types[i].type);
        v = judge(200, head, ok);
        CHECK(types[i].json ? v.outcome == LLF_OK : strcmp(v.reason, "content_type") == 0);
    }
    CHECK(judge(200, NULL, "{\"id\":\"x\"}").fallback);
    llf_resp r = resp(200, NULL, "{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}");
    CHECK(llf_judge(LLF_ANTHROPIC, "c", 0, &r, 0).outcome == LLF_OK);
    CHECK(llf_judge(LLF_GEMINI, "g", 0, &r, 0).outcome == LLF_INVALID_BODY);
    llf_resp_free(&r);
    /* A stream is judged by its status here. */
    r = resp(200, NULL, "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n");
    CHECK(llf_judge(LLF_OPENAI, "m", 1, &r, 0).outcome == LLF_OK);
    llf_resp_free(&r);

    /* Retry-After: seconds, HTTP date, -ms, absent; the last header block counts. */
    v = judge(429, "HTTP/1.1 429 Too Many\r\nRetry-After: 2\r\n\r\n", "{}");
    CHECK(v.retry_after_ms == 2000);
    v = judge(503, "HTTP/1.1 503 x\r\nretry-after-ms: 150\r\nretry-after: 9\r\n\r\n", "{}");
    CHECK(v.retry_after_ms == 150);
    v = judge(503, "HTTP/1.1 503 x\r\n\r\n", "{}");
    CHECK(v.retry_after_ms == -1);
    v = judge(500, "HTTP/1.1 500 x\r\nRetry-After: 1\r\n\r\n", "{}");
    CHECK(v.retry_after_ms == -1);
    v = judge(429, "HTTP/1.1 100 Continue\r\nRetry-After: 5\r\n\r\nHTTP/1.1 429 x\r\nRetry-After: 1\r\n\r\n", "{}");
    CHECK(v.retry_after_ms == 1000);
    /* no header: the wait the body asks for (Gemini's RetryInfo, OpenAI's
     * "try again in"); the header wins where both are */
    static const struct {
        const char *head, *body;
        long ms;
    } waits[] = {
        {"HTTP/1.1 429 x\r\n\r\n",
         "{\"error\":{\"code\":429,\"status\":\"RESOURCE_EXHAUSTED\",\"details\":[{\"@type\":"
         "\"type.googleapis.com/google.rpc.QuotaFailure\"},{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\","
         "\"retryDelay\":\"38s\"}]}}", 38000},
        {"HTTP/1.1 429 x\r\n\r\n", "{\"error\":{\"message\":\"Rate limit reached for gpt-4o. Please try again in 6ms. "
         "Visit https://platform.openai.com/account/rate-limits\"}}", 6},
        {"HTTP/1.1 429 x\r\n\r\n", "{\"error\":{\"message\":\"Please try again in 1.5s.\"}}", 1500},
        {"HTTP/1.1 429 x\r\n\r\n", "{\"error\":{\"message\":\"Please try again in 1m30s.\"}}", -1},
        {"HTTP/1.1 429 x\r\n\r\n", "{\"error\":{\"message\":\"\\ud83d Please try again in 20ms.\"}}", 20},
        {"HTTP/1.1 429 x\r\nRetry-After: 2\r\n\r\n", "{\"error\":{\"message\":\"try again in 9s\"}}", 2000}};
    for (size_t i = 0; i < sizeof waits / sizeof waits[0]; i++)
        CHECK(judge(429, waits[i].head, waits[i].body).retry_after_ms == waits[i].ms);
    /* the same in a program that set a comma for the decimal point (its
     * strtod read "1.5s" as 1 and ".5s"), and a fraction of a millisecond */
    CHECK(t_numeric_comma(1) == 0);
    for (size_t i = 0; i < sizeof waits / sizeof waits[0]; i++)
        CHECK(judge(429, waits[i].head, waits[i].body).retry_after_ms == waits[i].ms);
    CHECK(judge(429, "HTTP/1.1 429 x\r\nretry-after-ms: 1500.7\r\n\r\n", "{}").retry_after_ms == 1500);
    CHECK(t_numeric_comma(0) == 0);

    /* A 400 about the account, in each provider's words, falls back; a
     * plain 400 is the request's own. */
    static const char *const account[][2] = {
        {"{\"error\":{\"code\":400,\"message\":\"API key not valid. Please pass a valid API key.\",\"status\":"
         "\"INVALID_ARGUMENT\",\"details\":[{\"reason\":\"API_KEY_INVALID\"}]}}", "auth"},
        {"{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Your credit balance is too "
         "low to access the Anthropic API.\"}}", "billing"},
        {"{\"error\":{\"code\":400,\"message\":\"User location is not supported for the API use.\",\"status\":"
         "\"FAILED_PRECONDITION\"}}", "forbidden"},
        {"{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"input length and `max_tokens` "
         "exceed context limit: 178959 + 64000 > 200000\"}}", "context"},
        /* (a thinking conversation whose last call a member of another
         * dialect made: Claude refuses the request, a member takes it) */
        {"{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"messages.1.content.0.type: "
         "Expected `thinking` or `redacted_thinking`, but found `tool_use`. When `thinking` is enabled, a final "
         "`assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and "
         "`tool_result` blocks).\"}}", "thinking_history"}};
    for (size_t i = 0; i < sizeof account / sizeof account[0]; i++) {
        v = judge(400, "HTTP/1.1 400 x\r\n\r\n", account[i][0]);
        CHECK(v.fallback && strcmp(v.reason, account[i][1]) == 0);
    }
    v = judge(400, "HTTP/1.1 400 x\r\n\r\n", "{\"error\":{\"message\":\"Invalid value for 'temperature'.\"}}");
    CHECK(!v.fallback && strcmp(v.reason, "client_error") == 0);
    llf_buf h = {0};
    llf_buf_adds(&h, "HTTP/1.1 429 x\r\nRetry-After: Sun, 06 Nov 1994 08:49:40 GMT\r\n\r\n");
    time_t when = curl_getdate("Sun, 06 Nov 1994 08:49:37 GMT", NULL);
    CHECK(llf_retry_after_ms(&h, when) == 3000);
    CHECK(llf_retry_after_ms(&h, when + 10) == 0);
    llf_buf_free(&h);
    llf_buf_adds(&h, "HTTP/1.1 429 x\r\nRetry-After: soon\r\n\r\n");
    CHECK(llf_retry_after_ms(&h, 0) == -1);
    llf_buf_free(&h);
    gemini_gate();
    stream_gate();
    late_stream_error();
    other_choices_in_a_stream();
    stopped_answers();
    gemini_beyond_text();
}

static llf_verdict answer(const char *content_json, const char *finish, const char *req,
                          const llf_verdict_cfg *cfg)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "{\"choices\":[{\"index\":0,\"message\":%s,\"finish_reason\":\"%s\"}]}",
             content_json, finish);
    cJSON *a = cJSON_Parse(buf), *r = req ? cJSON_Parse(req) : NULL;
    llf_verdict v = llf_judge_answer(a, r, cfg);
    cJSON_Delete(a);
    cJSON_Delete(r);
    return v;
}

/* refusal_max_chars counts characters, not bytes: a Russian refusal of 234
 * characters (428 bytes) was long under the default 400 (found by reviewer
 * rev22). 43 characters of refusal, then "ж" (2 bytes) to 400 characters
 * (791 bytes), a refusal whole or in a held stream; to 401, an answer. */
static void refusal_characters(void)
{
    static llf_verdict_cfg cfg;
    regex_t re;
    refusing(&cfg, &re, "^Извините, я не могу");
    for (int chars = 400; chars <= 401; chars++) {
        char text[1024] = "Извините, я не могу помочь с этим запросом.", j[1100], sse[8192];
        for (int i = 43; i < chars; i++)
            strcat(text, "ж");
        snprintf(j, sizeof j, "{\"content\":\"%s\"}", text);
        llf_verdict v = answer(j, "stop", NULL, &cfg);
        CHECK(chars == 400 ? v.outcome == LLF_REFUSAL && !strcmp(v.reason, "textual") : v.outcome == LLF_OK);
        /* the same text streamed in pieces of 20 bytes (a character split
         * between two of them) */
        size_t o = (size_t)snprintf(sse, sizeof sse, "%s", O_ROLE);
        for (size_t at = 0; at < strlen(text); at += 20)
            o += (size_t)snprintf(sse + o, sizeof sse - o,
                                  "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"%.20s\"},"
                                  "\"finish_reason\":null}]}\n\n", text + at);
        snprintf(sse + o, sizeof sse - o, "data: [DONE]\n\n");
        llf_gate *g = llf_gate_new(LLF_OPENAI, &cfg, 1);
        llf_sse p = {0};
        int rc = llf_sse_feed(&p, sse, strlen(sse), gate_cb, g) ? LLF_GATE_GO : llf_gate_end(g);
        CHECK(chars == 400 ? rc == LLF_GATE_FAIL && llf_gate_problem(g) && !strcmp(llf_gate_problem(g), "textual")
                           : rc == LLF_GATE_GO && !llf_gate_problem(g));
        llf_sse_free(&p);
        llf_gate_free(g);
    }
    regfree(&re);
}

void test_verdict_answers(void)
{
    char err[256];
    llf_config *c = NULL;
    t_clearenv();
    CHECK(llf_config_load(NULL, 0, "t", NULL, NULL, t_env, &c, err, sizeof err) == 0);
    if (!c)
        return;
    const llf_verdict_cfg *vc = &c->verdict;
    CHECK(answer("{\"content\":\"Paris.\"}", "stop", NULL, vc).outcome == LLF_OK);
    CHECK(answer("{\"content\":\"  \"}", "stop", NULL, vc).outcome == LLF_EMPTY);
    CHECK(answer("{\"content\":null}", "stop", NULL, vc).outcome == LLF_EMPTY);
    CHECK(answer("{\"content\":null,\"refusal\":\"I can't.\"}", "stop", NULL, vc).outcome == LLF_REFUSAL);
    CHECK(answer("{\"content\":\"x\"}", "content_filter", NULL, vc).outcome == LLF_REFUSAL);
    /* JSON carried in a string holding a NUL ("\u0000" in the outer text)
     * is refused, as the program's parser refuses its raw NUL and as a raw
     * tab is; a "\\u0000" escape there is JSON's own (rev28) */
    static const char json_mode[] = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"json\"}],"
                                    "\"response_format\":{\"type\":\"json_object\"}}";
    CHECK(answer("{\"content\":\"{\\\"a\\\":\\\"x\\u0000y\\\"}\"}", "stop", json_mode, vc).outcome == LLF_SCHEMA);
    CHECK(answer("{\"content\":\"{\\\"a\\\":\\\"x\\ty\\\"}\"}", "stop", json_mode, vc).outcome == LLF_SCHEMA);
    CHECK(answer("{\"content\":\"{\\\"a\\\":\\\"x\\\\u0000y\\\"}\"}", "stop", json_mode, vc).outcome == LLF_OK);
    llf_verdict args = answer("{\"content\":null,\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\",\"function\":"
                              "{\"name\":\"f\",\"arguments\":\"{\\\"q\\\":\\\"a\\u0000b\\\"}\"}}]}",
                              "tool_calls", NULL, vc);
    CHECK(args.outcome != LLF_OK && strcmp(args.reason, "tool_arguments") == 0);
    /* textual refusals: short and matching; never a long answer that merely contains "I can't" */
    static const char *const refusals[] = {
        "I'm sorry, but I can't help with that.", "I’m sorry, but I can’t assist with that request.",
        "I cannot help with that.", "Sorry, I can't do that.", "As an AI language model, I cannot do this.",
        "I am unable to provide that information.", "I'm really sorry, but I am unable to comply."};
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        char j[512];
        snprintf(j, sizeof j, "{\"content\":\"%s\"}", refusals[i]);
        llf_verdict v = answer(j, "stop", NULL, vc);
        CHECK(v.outcome == LLF_REFUSAL && strcmp(v.reason, "textual") == 0);
    }
    static const char *const fine[] = {
        "I can't believe how simple this is: use a hash map.",
        "Sorry for the delay! Here is the code you asked for.",
        "The error says 'I cannot open file'. Check the path."};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        char j[512];
        snprintf(j, sizeof j, "{\"content\":\"%s\"}", fine[i]);
        CHECK(answer(j, "stop", NULL, vc).outcome == LLF_OK);
    }
    char longtext[2048] = "{\"content\":\"I'm sorry, but I can't ";
    for (int i = 0; i < 40; i++)
        strcat(longtext, "really overstate this. ");
    strcat(longtext, "\"}");
    CHECK(answer(longtext, "stop", NULL, vc).outcome == LLF_OK);   /* over refusal_max_chars */
    refusal_characters();
    /* JSON and schemas */
    const char *jo = "{\"response_format\":{\"type\":\"json_object\"}}";
    const char *js = "{\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":"
                     "{\"type\":\"object\",\"required\":[\"a\"]}}}}";
    CHECK(answer("{\"content\":\"{\\\"a\\\":1}\"}", "stop", jo, vc).outcome == LLF_OK);
    CHECK(answer("{\"content\":\"Sure: {\\\"a\\\":1}\"}", "stop", jo, vc).outcome == LLF_SCHEMA);
    CHECK(answer("{\"content\":\"{\\\"b\\\":1}\"}", "stop", js, vc).outcome == LLF_SCHEMA);
    CHECK(answer("{\"content\":\"{\\\"a\\\":1}\"}", "stop", js, vc).outcome == LLF_OK);
    /* a lone surrogate escape (half an emoji) in the JSON content or in a
     * call's arguments is JSON, as the body holding it is */
    CHECK(answer("{\"content\":\"{\\\"mood\\\": \\\"happy \\\\ud83d\\\"}\"}", "stop", jo, vc).outcome == LLF_OK);
    CHECK(answer("{\"content\":\"{\\\"a\\\": \\\"\\\\ud83d\\\"}\"}", "stop", js, vc).outcome == LLF_OK);
    CHECK(answer("{\"content\":\"{\\\"b\\\": \\\"\\\\ud83d\\\"}\"}", "stop", js, vc).outcome == LLF_SCHEMA);
    CHECK(answer("{\"content\":null,\"tool_calls\":[{\"id\":\"1\",\"type\":\"function\",\"function\":"
                 "{\"name\":\"f\",\"arguments\":\"{\\\"c\\\":\\\"\\\\udc00\\\"}\"}}]}", "tool_calls", NULL, vc).outcome == LLF_OK);
    /* verdict.json off: text where JSON was asked for, or against the
     * schema, is an answer like any other */
    llf_verdict_cfg nojson = *vc;
    nojson.json = 0;
    CHECK(answer("{\"content\":\"Sure: {\\\"a\\\":1}\"}", "stop", jo, &nojson).outcome == LLF_OK);
    CHECK(answer("{\"content\":\"{\\\"b\\\":1}\"}", "stop", js, &nojson).outcome == LLF_OK);
    /* one JSON value and nothing after it (white space aside) */
    CHECK(answer("{\"content\":\"{\\\"a\\\":1}\\n\\nHope this helps!\"}", "stop", jo, vc).outcome == LLF_SCHEMA);
    CHECK(answer("{\"content\":\" {\\\"a\\\":1}\\n\"}", "stop", js, vc).outcome == LLF_OK);
    CHECK(answer("{\"content\":null,\"tool_calls\":[{\"id\":\"1\",\"type\":\"function\",\"function\":"
                 "{\"name\":\"f\",\"arguments\":\"{\\\"c\\\":1}}\"}}]}", "tool_calls", NULL, vc).outcome == LLF_SCHEMA);
    CHECK(answer("{\"content\":\"not json\"}", "stop", NULL, vc).outcome == LLF_OK);
    CHECK(answer("{\"content\":null,\"tool_calls\":[{\"id\":\"1\",\"type\":\"function\",\"function\":"
                 "{\"name\":\"f\",\"arguments\":\"{\\\"x\\\":\"}}]}", "tool_calls", NULL, vc).outcome == LLF_SCHEMA);
    CHECK(answer("{\"content\":null,\"tool_calls\":[{\"id\":\"1\",\"type\":\"function\",\"function\":"
                 "{\"name\":\"f\",\"arguments\":\"{}\"}}]}", "tool_calls", NULL, vc).outcome == LLF_OK);
    /* answers that are no text: OpenAI's audio, the deprecated function
     * call (its arguments JSON like a tool call's), a custom tool's free
     * text input */
    CHECK(answer("{\"content\":null,\"audio\":{\"id\":\"a\",\"data\":\"UklGRg==\",\"transcript\":\"Hi\"}}", "stop", NULL, vc).outcome == LLF_OK);
    CHECK(answer("{\"content\":null,\"audio\":{\"id\":\"a\",\"data\":\"UklGRg==\"}}", "stop", js, vc).outcome == LLF_OK);
    CHECK(answer("{\"content\":null,\"function_call\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":1}\"}}", "function_call", NULL, vc).outcome == LLF_OK);
    CHECK(answer("{\"content\":null,\"function_call\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":\"}}", "function_call", NULL, vc).outcome == LLF_SCHEMA);
    CHECK(answer("{\"content\":null,\"function_call\":null}", "stop", NULL, vc).outcome == LLF_EMPTY);
    CHECK(answer("{\"content\":null,\"tool_calls\":[{\"id\":\"1\",\"type\":\"custom\",\"custom\":"
                 "{\"name\":\"grep\",\"input\":\"foo bar\"}}]}", "tool_calls", NULL, vc).outcome == LLF_OK);
    CHECK(answer("{\"content\":null,\"tool_calls\":[{\"id\":\"1\",\"function\":"
                 "{\"name\":\"f\",\"arguments\":\"nope\"}}]}", "tool_calls", NULL, vc).outcome == LLF_SCHEMA);
    /* arguments are an object's text, and a call names its function (a
     * member's tool_use with a null name and a string input, translated) */
    CHECK(answer("{\"content\":null,\"tool_calls\":[{\"id\":\"1\",\"type\":\"function\",\"function\":"
                 "{\"name\":\"f\",\"arguments\":\"\\\"x\\\"\"}}]}", "tool_calls", NULL, vc).outcome == LLF_SCHEMA);
    llf_verdict nameless = answer("{\"content\":null,\"tool_calls\":[{\"id\":\"\",\"type\":\"function\",\"function\":"
                                  "{\"name\":\"\",\"arguments\":\"{}\"}}]}", "tool_calls", NULL, vc);
    CHECK(nameless.outcome == LLF_INVALID_BODY && strcmp(nameless.reason, "wrong_shape") == 0);
    CHECK(answer("{\"content\":null,\"tool_calls\":[{\"id\":\"1\",\"type\":\"function\",\"function\":"
                 "{\"arguments\":\"{}\"}}]}", "tool_calls", NULL, vc).outcome == LLF_INVALID_BODY);
    CHECK(answer("{\"content\":null,\"function_call\":{\"name\":null,\"arguments\":\"{}\"}}", "function_call", NULL, vc).outcome ==
          LLF_INVALID_BODY);
    /* content as an array of chunks (Mistral's Magistral): its text parts
     * are the text, judged as a string's is; its thinking is none */
#define THINK "{\"type\":\"thinking\",\"thinking\":[{\"type\":\"text\",\"text\":\"Let me see.\"}]}"
    CHECK(answer("{\"content\":[" THINK ",{\"type\":\"text\",\"text\":\"2 + 2 = 4.\"}]}", "stop", NULL, vc).outcome == LLF_OK);
    CHECK(answer("{\"content\":[{\"type\":\"text\",\"text\":\"Paris.\"}]}", "stop", NULL, vc).outcome == LLF_OK);
    CHECK(answer("{\"content\":[" THINK "]}", "stop", NULL, vc).outcome == LLF_EMPTY);
    CHECK(answer("{\"content\":[]}", "stop", NULL, vc).outcome == LLF_EMPTY);
    CHECK(answer("{\"content\":[" THINK ",{\"type\":\"text\",\"text\":\"I cannot help with that.\"}]}", "stop", NULL,
                 vc).outcome == LLF_REFUSAL);
    CHECK(answer("{\"content\":[" THINK ",{\"type\":\"text\",\"text\":\"{\\\"a\\\":\"},{\"type\":\"text\",\"text\":\"1}\"}]}",
                 "stop", js, vc).outcome == LLF_OK);
    CHECK(answer("{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"b\\\":1}\"}]}", "stop", js, vc).outcome == LLF_SCHEMA);
#undef THINK
    /* an error in a 200 (OpenRouter's, mid-generation): in the choice,
     * beside the choices, or the finish reason alone (DeepSeek's too); a
     * null error is none */
    static const char *const errs[] = {
        "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"The answer is\"},"
        "\"finish_reason\":\"error\",\"error\":{\"code\":502,\"message\":\"Provider disconnected\"}}]}",
        "{\"error\":{\"message\":\"Upstream error\",\"code\":502},\"choices\":[{\"index\":0,\"message\":"
        "{\"role\":\"assistant\",\"content\":\"partial\"},\"finish_reason\":null}]}",
        "{\"choices\":[{\"index\":0,\"message\":{\"content\":\"The answer is\"},\"finish_reason\":\"error\"}]}",
        "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"The answer is\"},"
        "\"finish_reason\":\"insufficient_system_resource\"}]}"};   /* (DeepSeek's) */
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        cJSON *a = cJSON_Parse(errs[i]);
        llf_verdict v = llf_judge_answer(a, NULL, vc);
        CHECK(v.outcome == LLF_INVALID_BODY && v.fallback && strcmp(v.reason, "error_in_body") == 0);
        cJSON_Delete(a);
    }
    {
        cJSON *a = cJSON_Parse("{\"error\":null,\"choices\":[{\"index\":0,\"error\":null,\"message\":"
                               "{\"content\":\"Paris.\"},\"finish_reason\":\"stop\"}]}");
        CHECK(llf_judge_answer(a, NULL, vc).outcome == LLF_OK);
        cJSON_Delete(a);
        llf_resp r = resp(200, NULL, errs[0]);   /* (whole, as a 200 comes) */
        CHECK_STR(llf_judge(LLF_OPENAI, "m", 0, &r, 0).reason, "error_in_body");
        llf_resp_free(&r);
    }
    /* truncation: accepted by default; with the fallback policy only when the program set no limit */
    CHECK(answer("{\"content\":\"cut\"}", "length", NULL, vc).outcome == LLF_OK);
    c->verdict.truncated_fallback = 1;
    CHECK(answer("{\"content\":\"cut\"}", "length", "{}", vc).outcome == LLF_TRUNCATED);
    CHECK(answer("{\"content\":\"cut\"}", "length", "{\"max_tokens\":5}", vc).outcome == LLF_OK);
    /* switches */
    c->verdict.refusal = 0;
    CHECK(answer("{\"content\":\"I cannot help with that.\"}", "stop", NULL, vc).outcome == LLF_OK);
    /* ... and OpenAI's refusal is the answer: neither empty nor JSON that
     * does not parse (it comes in place of the JSON asked for) */
    CHECK(answer("{\"content\":null,\"refusal\":\"I can't.\"}", "stop", NULL, vc).outcome == LLF_OK);
    CHECK(answer("{\"content\":null,\"refusal\":\"I can't.\"}", "stop", js, vc).outcome == LLF_OK);
    CHECK(answer("{\"content\":null,\"refusal\":\" \"}", "stop", NULL, vc).outcome == LLF_EMPTY);
    CHECK(answer("{\"content\":\"{}\",\"refusal\":null}", "stop", js, vc).outcome == LLF_SCHEMA);
    c->verdict.empty = 0;
    CHECK(answer("{\"content\":\"\"}", "stop", NULL, vc).outcome == LLF_OK);
    /* retirement headers */
    llf_buf h = {0};
    char date[64];
    llf_buf_adds(&h, "HTTP/1.1 200 OK\r\nSunset: Thu, 01 Jan 2026 00:00:00 GMT\r\n\r\n");
    CHECK(llf_deprecation(&h, date, sizeof date) == 1 && strcmp(date, "Thu, 01 Jan 2026 00:00:00 GMT") == 0);
    llf_buf_free(&h);
    llf_buf_adds(&h, "HTTP/1.1 200 OK\r\nDeprecation: true\r\n\r\n");
    CHECK(llf_deprecation(&h, date, sizeof date) == 1 && date[0] == '\0');
    llf_buf_free(&h);
    llf_buf_adds(&h, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n");
    CHECK(llf_deprecation(&h, date, sizeof date) == 0);
    llf_buf_free(&h);
    llf_config_free(c);
}

/* One finder of the last header block serves the verdict, the relay and the
 * hook's record of what the program got. */
void test_head_block(void)
{
    const char *h = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-A: HTTP/9\r\n\r\n";
    CHECK(llf_head_last_block(h, strlen(h)) == strstr(h, "HTTP/1.1 200"));
    const char *none = "X-A: b\r\n";
    CHECK(llf_head_last_block(none, strlen(none)) == none);
    /* bounded by the length, not a terminator */
    CHECK(llf_head_last_block(h, 20) == h);
    llf_buf b = {0};
    llf_buf_adds(&b, h);
    size_t n;
    const char *v = llf_head_get(&b, "x-a", &n);
    CHECK(v && n == 6 && strncmp(v, "HTTP/9", 6) == 0);
    llf_buf_free(&b);
    /* a header's every line out, in each block, others as they were */
    llf_buf_adds(&b, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nX-Content-Encoding: 1\r\n"
                     "content-encoding: br\r\nContent-Length: 9\r\n\r\n");
    llf_head_drop(&b, "content-encoding");
    CHECK_STR(b.p, "HTTP/1.1 200 OK\r\nX-Content-Encoding: 1\r\nContent-Length: 9\r\n\r\n");
    CHECK(b.n == strlen(b.p));
    llf_head_drop(&b, "content-length");
    llf_head_drop(&b, "x-none");
    CHECK_STR(b.p, "HTTP/1.1 200 OK\r\nX-Content-Encoding: 1\r\n\r\n");
    llf_buf_free(&b);
}

/* Header lines as libcurl hands them, trailers kept apart: those after the
 * blank line that ends a block; a next block's status line takes the ones
 * before it (a redirect's) into the head, where they came. */
void test_head_take(void)
{
    static const char *const lines[] = {
        "HTTP/1.1 100 Continue\r\n", "\r\n",
        "HTTP/1.1 307 Temporary Redirect\r\n", "Trailer: X-A\r\n", "\r\n", "X-A: 1\r\n",
        "HTTP/1.1 200 OK\n", "Trailer: X-B, X-C\n", "\n", "X-B: 2\r\n", "X-C: 3\r\n", NULL};
    static const int trailer[] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1};
    llf_buf head = {0}, tr = {0};
    int ok = 1;
    for (size_t i = 0; lines[i]; i++)
        ok &= llf_head_take(&head, &tr, lines[i], strlen(lines[i])) == trailer[i];
    CHECK(ok);
    CHECK(head.p && strcmp(head.p, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 307 Temporary Redirect\r\n"
                                    "Trailer: X-A\r\n\r\nX-A: 1\r\nHTTP/1.1 200 OK\nTrailer: X-B, X-C\n\n") == 0);
    CHECK(tr.p && strcmp(tr.p, "X-B: 2\r\nX-C: 3\r\n") == 0);
    /* no trailer before a head ended */
    llf_buf_free(&head);
    llf_buf_free(&tr);
    CHECK(llf_head_take(&head, &tr, "\n", 1) == 0 && llf_head_take(&head, &tr, "X-D: 4\r\n", 8) == 0 && tr.n == 0);
    llf_buf_free(&head);
    llf_buf_free(&tr);
}
