/* Fuzz target: the SSE parser (split where the first byte says), the stream
 * gate of each dialect, the watch on a live stream for a late error, and
 * stream translation between each pair. */
#include "fuzz_common.h"
#include "sse.h"
#include "stream.h"
#include "verdict.h"

static int gate_cb(void *ctx, const char *event, const char *data, size_t len)
{
    return llf_gate_event(ctx, event, data, len) != LLF_GATE_WAIT;
}

static int count(void *ctx, const char *event, const char *data, size_t len)
{
    (void)event;
    (void)data;
    *(size_t *)ctx += len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n < 2)
        return 0;
    size_t split = d[0] % n, total = 0;
    int from = d[1] % 3, to = (d[1] / 3) % 3;
    d += 2;
    n -= 2;
    split = split > n ? n : split;
    llf_sse p = {0};
    llf_sse_feed(&p, (const char *)d, split, count, &total);
    llf_sse_feed(&p, (const char *)d + split, n - split, count, &total);
    llf_sse_free(&p);
    llf_sse w = {0};
    if (!llf_stream_watch(&w, (llf_dialect)from, (const char *)d, split))
        llf_stream_watch(&w, (llf_dialect)from, (const char *)d + split, n - split);
    llf_sse_free(&w);

    llf_verdict_cfg vc = {1, 1, 1, 1, 0, 400, 1, NULL, 0, NULL, 1000};
    llf_gate *g = llf_gate_new((llf_dialect)from, &vc, 1);
    llf_stream_pipe *pipe = llf_stream_pipe_new(from, to, "m", d[-1] >= 128, NULL);   /* (every pair either way) */
    llf_buf out = {0};
    if (pipe)
        llf_stream_pipe_feed(pipe, (const char *)d, n, &out);
    if (pipe)
        llf_stream_pipe_end(pipe, &out);
    if (g) {
        llf_sse q = {0};
        llf_sse_feed(&q, (const char *)d, n, gate_cb, g);
        llf_sse_free(&q);
        llf_gate_end(g);
    }
    llf_gate_free(g);
    llf_stream_pipe_free(pipe);
    llf_buf_free(&out);
    return 0;
}
