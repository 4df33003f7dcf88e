/* The SSE parser, fed every stream split at every byte boundary, and the
 * judgement of first events in each dialect. */
#include <stdlib.h>

#include "sse.h"
#include "verdict.h"
#include "t.h"

typedef struct got {
    llf_buf all;
    int n;
} got;

static int collect(void *ctx, const char *event, const char *data, size_t len)
{
    got *g = ctx;
    g->n++;
    llf_buf_printf(&g->all, "[%s|%.*s]", event, (int)len, data);
    return 0;
}

static int stop_at_first(void *ctx, const char *event, const char *data, size_t len)
{
    (void)event;
    (void)data;
    (void)len;
    (*(int *)ctx)++;
    return 7;
}

static void every_split(const char *stream, const char *want, int nwant)
{
    size_t n = strlen(stream);
    int ok = 1;
    for (size_t a = 0; a <= n; a++)
        for (size_t b = a; b <= n; b++) {
            llf_sse p = {0};
            got g = {{0}, 0};
            llf_sse_feed(&p, stream, a, collect, &g);
            llf_sse_feed(&p, stream + a, b - a, collect, &g);
            llf_sse_feed(&p, stream + b, n - b, collect, &g);
            if (g.n != nwant || strcmp(g.all.p ? g.all.p : "", want) != 0) {
                if (ok)
                    fprintf(stderr, "  split %zu/%zu: %s\n", a, b, g.all.p ? g.all.p : "");
                ok = 0;
            }
            llf_buf_free(&g.all);
            llf_sse_free(&p);
        }
    CHECK(ok);
}

/* What the stream gate makes of one event (after an answer began, when
 * started): its problem, NULL for none. */
static const char *event_problem(llf_dialect d, const char *event, const char *data, int started)
{
    static const char *const first[] = {"{\"choices\":[{\"delta\":{\"content\":\"x\"}}]}",
                                        "{\"type\":\"content_block_start\"}", "{\"candidates\":[]}"};
    llf_gate *g = llf_gate_new(d, NULL, 0);
    if (!g)
        return "no gate";
    if (started)
        llf_gate_event(g, "message", first[d], strlen(first[d]));
    int rc = llf_gate_event(g, event, data, strlen(data));
    const char *p = rc == LLF_GATE_FAIL ? llf_gate_problem(g) : NULL;
    llf_gate_free(g);
    return p;
}

void test_sse(void)
{
    every_split("data: {\"a\":1}\n\ndata: [DONE]\n\n", "[message|{\"a\":1}][message|[DONE]]", 2);
    every_split("event: message_start\r\ndata: {\"type\":\"message_start\"}\r\n\r\n: ping\r\n\r\n"
                "event: content_block_delta\ndata: {\"x\":\n data:2}\n\n",
                "[message_start|{\"type\":\"message_start\"}][content_block_delta|{\"x\":]", 2);
    every_split("data:a\rdata:b\r\rdata: c\n\n", "[message|a\nb][message|c]", 2);
    every_split("event: ping\n\n: comment\ndata\n\ndata: x\n\n", "[message|x]", 1);   /* empty data: not dispatched */
    every_split("data: unfinished", "", 0);
    /* one BOM at the start is no part of the stream (WHATWG); a second, or
     * the start of one, is (and makes this field no "data") */
    every_split("\xEF\xBB\xBF" "data: {\"a\":1}\n\n", "[message|{\"a\":1}]", 1);
    every_split("\xEF\xBB\xBF" "\xEF\xBB\xBF" "data: a\n\ndata: b\n\n", "[message|b]", 1);
    every_split("\xEF\xBB" "data: a\n\ndata: b\n\n", "[message|b]", 1);
    every_split("\xEF\xBB\xBF" ": hi\n\ndata: b\n\n", "[message|b]", 1);
    /* a callback can stop the feed */
    llf_sse p = {0};
    int calls = 0;
    CHECK(llf_sse_feed(&p, "data: 1\n\ndata: 2\n\n", 18, stop_at_first, &calls) == 7 && calls == 1);
    llf_sse_free(&p);
    /* an event held to max (its lines and data): one past it is let go, and
     * nothing after it is read; the events before it came */
    {
        llf_sse q = {.max = 16};
        got g = {{0}, 0};
        CHECK(llf_sse_feed(&q, "data: 123456789\n\n", 17, collect, &g) == 0 && g.n == 1);
        CHECK(llf_sse_feed(&q, "data: 12345678\ndata: 9abcdefgh", 30, collect, &g) == -1);
        CHECK(q.over && !q.line.p && !q.data.p);
        CHECK(llf_sse_feed(&q, "\n\ndata: 1\n\n", 13, collect, &g) == -1 && g.n == 1);
        llf_buf_free(&g.all);
        llf_sse_free(&q);
    }

    /* events, wherever they come (through the gate that judges them) */
    CHECK(event_problem(LLF_OPENAI, "message", "{\"id\":\"c\",\"choices\":[]}", 0) == NULL);
    CHECK_STR(event_problem(LLF_OPENAI, "message", "{\"error\":{\"message\":\"x\"}}", 0), "error_event");
    CHECK(event_problem(LLF_OPENAI, "message", "[DONE]", 1) == NULL);   /* the gate judges an end */
    CHECK(event_problem(LLF_OPENAI, "message", "[DONE] ", 1) == NULL);   /* (as the SDKs: data that starts so) */
    CHECK_STR(event_problem(LLF_OPENAI, "message", "[DONE] ", 0), "empty_stream");
    CHECK(llf_sse_done("[DONE]", 6) && llf_sse_done("[DONE]\r", 7) && !llf_sse_done("[DONE", 5) &&
          !llf_sse_done(" [DONE]", 7));
    CHECK_STR(event_problem(LLF_OPENAI, "message", "<html>", 0), "not_json");
    CHECK(event_problem(LLF_ANTHROPIC, "message_start", "{\"type\":\"message_start\"}", 0) == NULL);
    CHECK_STR(event_problem(LLF_ANTHROPIC, "error", "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}", 0),
              "error_event");
    CHECK_STR(event_problem(LLF_GEMINI, "message", "{\"error\":{\"code\":503}}", 0), "error_event");
    CHECK(event_problem(LLF_GEMINI, "message", "{\"candidates\":[]}", 0) == NULL);

    /* A stream stopped at its first event: whole by its Content-Length, or
     * without one only after an error event. */
    llf_buf h = {0};
    llf_buf_adds(&h, "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n");
    CHECK(llf_sse_stopped_whole(&h, 30, "not_json"));
    CHECK(!llf_sse_stopped_whole(&h, 29, "error_event"));
    llf_buf_free(&h);
    llf_buf_adds(&h, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    CHECK(llf_sse_stopped_whole(&h, 10, "error_event"));
    CHECK(!llf_sse_stopped_whole(&h, 10, "not_json"));
    CHECK(!llf_sse_stopped_whole(&h, 10, NULL));
    llf_buf_free(&h);
}
