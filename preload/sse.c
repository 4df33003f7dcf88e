/* sse.c — Server-Sent Events (see sse.h), as the WHATWG spec frames them:
 * lines end in LF, CR or CRLF; "field: value" (one optional space);
 * "data" lines accumulate; a blank line dispatches; ":" lines are comments.
 * Hand-written because no Debian library parses SSE, and the framing is a
 * few lines. */
#include "sse.h"

#include <stdlib.h>
#include <string.h>

static int dispatch(llf_sse *p, llf_sse_fn fn, void *ctx)
{
    int rc = 0;
    if (p->has_data && p->data.n)   /* the spec drops events whose data is empty */
        rc = fn(ctx, p->event.n ? p->event.p : "message", p->data.p ? p->data.p : "", p->data.n);
    llf_buf_reset(&p->event);
    llf_buf_reset(&p->data);
    p->has_data = 0;
    return rc;
}

static int line_done(llf_sse *p, llf_sse_fn fn, void *ctx)
{
    const char *l = p->line.p ? p->line.p : "";
    size_t n = p->line.n;
    int rc = 0;
    if (n == 0) {
        rc = dispatch(p, fn, ctx);
    } else if (l[0] != ':') {
        const char *colon = memchr(l, ':', n);
        size_t fl = colon ? (size_t)(colon - l) : n;
        const char *v = colon ? colon + 1 : l + n;
        if (colon && v < l + n && *v == ' ')
            v++;
        size_t vl = (size_t)(l + n - v);
        if (fl == 4 && memcmp(l, "data", 4) == 0) {
            if ((p->has_data && llf_buf_add(&p->data, "\n", 1)) || llf_buf_add(&p->data, v, vl))
                rc = -1;
            p->has_data = 1;
        } else if (fl == 5 && memcmp(l, "event", 5) == 0) {
            llf_buf_reset(&p->event);
            if (llf_buf_add(&p->event, v, vl))
                rc = -1;
        }
    }
    llf_buf_reset(&p->line);
    return rc;
}

int llf_sse_feed(llf_sse *p, const char *buf, size_t n, llf_sse_fn fn, void *ctx)
{
    static const char bom[] = "\xEF\xBB\xBF";
    size_t max = p->max ? p->max : LLF_SSE_MAX;
    if (p->over)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (p->bom >= 0 && p->bom < 3) {   /* one BOM at the start is not data (WHATWG), split or not */
            if (c == bom[p->bom]) {
                p->bom++;
                continue;
            }
            if (p->bom && llf_buf_add(&p->line, bom, (size_t)p->bom))   /* it was not one */
                return -1;
            p->bom = -1;
        }
        if (c == '\n' && p->cr) {   /* the LF of a CRLF whose CR ended the line */
            p->cr = 0;
            continue;
        }
        p->cr = c == '\r';
        if (c == '\n' || c == '\r') {
            int rc = line_done(p, fn, ctx);
            if (rc)
                return rc;
        } else if (p->line.n + p->data.n >= max) {
            llf_sse_free(p);
            p->over = 1;
            return -1;
        } else if (llf_buf_add(&p->line, &c, 1)) {
            return -1;
        }
    }
    return 0;
}

void llf_sse_free(llf_sse *p)
{
    llf_buf_free(&p->line);
    llf_buf_free(&p->event);
    llf_buf_free(&p->data);
}

int llf_sse_done(const char *data, size_t len)
{
    return len >= 6 && memcmp(data, "[DONE]", 6) == 0;
}

int llf_sse_stopped_whole(const llf_buf *head, size_t body_n, const char *problem)
{
    size_t n;
    const char *clen = llf_head_get(head, "content-length", &n);
    if (clen)
        return strtoull(clen, NULL, 10) == body_n;
    return problem && (strcmp(problem, "error_event") == 0 || strcmp(problem, LLF_PROBLEM_BLOCKED) == 0 ||
                       strcmp(problem, LLF_PROBLEM_BLOCKED_EMPTY) == 0);
}
