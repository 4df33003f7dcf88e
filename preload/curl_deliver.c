/* curl_deliver.c — the program's callbacks called as libcurl would call
 * them, for an answer of ours (see curl_deliver.h). */
#include "curl_deliver.h"

#include <stdio.h>
#include <time.h>

double llf_since_ms(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The program's progress callback, as libcurl calls it: XFERINFOFUNCTION
 * when set, else PROGRESSFUNCTION. */
int llf_call_progress(const hstate *s, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    if (s->xferfn)
        return s->xferfn(s->progressdata, dt, dn, ut, un);
    if (s->progfn)
        return s->progfn(s->progressdata, (double)dt, (double)dn, (double)ut, (double)un);
    return 0;
}

/* A write or header callback of the program's returned CURL_WRITEFUNC_PAUSE
 * while we deliver an answer (the transfer it came from is over, or is
 * ours to translate): libcurl would keep the bytes, call the progress
 * callback while paused (where programs usually unpause), and hand the same
 * bytes over again once curl_easy_pause unpauses receiving, from there or
 * from another thread. So do we, unpauses that way (RECV; SEND for a read
 * callback's CURL_READFUNC_PAUSE) counted from seen, the count before the
 * callback ran. -1: the progress callback asked to abort. */
int llf_wait_unpause(hstate *s, int way, unsigned seen)
{
    struct timespec nap = {0, 1000000};
    __atomic_store_n(&s->waiting, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&s->unpauses[way], __ATOMIC_SEQ_CST) == seen) {
        /* (libcurl keeps the transfer's own limit while it is paused) */
        if (s->timeout_ms > 0 && llf_since_ms(&s->call_t0) > (double)s->timeout_ms) {
            s->pause_rc = CURLE_OPERATION_TIMEDOUT;
            break;
        }
        if (!s->noprogress) {
            int r = llf_call_progress(s, s->meter[0], s->meter[1], s->meter[2], s->meter[3]);
            if (r && r != CURL_PROGRESSFUNC_CONTINUE) {
                s->pause_rc = CURLE_ABORTED_BY_CALLBACK;
                break;
            }
            if (__atomic_load_n(&s->unpauses[way], __ATOMIC_SEQ_CST) != seen)
                break;
        }
        nanosleep(&nap, NULL);
        if (nap.tv_nsec < 64000000)
            nap.tv_nsec *= 2;
    }
    __atomic_store_n(&s->waiting, 0, __ATOMIC_SEQ_CST);
    return s->pause_rc ? -1 : 0;
}

size_t llf_write_once(curl_write_callback fn, void *data, const char *buf, size_t n)
{
    if (fn)
        return fn((char *)buf, 1, n, data);
    return fwrite(buf, 1, n, data ? (FILE *)data : stdout);
}

/* n bytes to a write or header callback (fn; NULL: fwrite to data), at most
 * `most` at a time, each piece again after a pause. 0, or -1 when the
 * callback took less (or the program aborted while paused). */
static int call_write(hstate *s, curl_write_callback fn, void *data, const char *buf, size_t n, size_t most)
{
    s->delivering = 1;
    int rc = 0;
    for (size_t off = 0; off < n && !rc;) {
        size_t k = n - off < most ? n - off : most;
        unsigned seen = __atomic_load_n(&s->unpauses[RECV], __ATOMIC_SEQ_CST);
        /* (curl_easy_pause(CURLPAUSE_RECV) from a callback: no more bytes
         * until it is unpaused, perhaps already) */
        if (s->want_pause) {
            s->want_pause = 0;
            if (llf_wait_unpause(s, RECV, s->pause_seen)) {
                rc = -1;
                break;
            }
            seen = __atomic_load_n(&s->unpauses[RECV], __ATOMIC_SEQ_CST);
        }
        size_t w = llf_write_once(fn, data, buf + off, k);
        if (w == CURL_WRITEFUNC_PAUSE && fn) {
            rc = llf_wait_unpause(s, RECV, seen);
            continue;
        }
        if (w != k)
            rc = -1;
        off += k;
    }
    if (!rc && s->want_pause) {   /* (paused on the last piece: libcurl waits too) */
        s->want_pause = 0;
        rc = llf_wait_unpause(s, RECV, s->pause_seen);
    }
    s->delivering = 0;
    return rc;
}

int llf_give_body(hstate *s, const char *buf, size_t n)
{
    return call_write(s, s->writefn, s->writedata, buf, n, WRITE_CHUNK);
}

/* One header line, as libcurl hands it (sendf.c, chop_write): into the
 * body stream under CURLOPT_HEADER (in_body), then to the header callback
 * (or the write callback on HEADERDATA). A trailer line goes the same way
 * but never into the body: libcurl 7.88 writes trailers as
 * CLIENTWRITE_HEADER|CLIENTWRITE_TRAILER, without CLIENTWRITE_BODY
 * (http_chunks.c). */
static int give_header_line(hstate *s, const char *line, size_t n, int in_body)
{
    if (in_body && s->header_in_body && call_write(s, s->writefn, s->writedata, line, n, n))
        return GAVE_BODY_FAIL;
    if (s->headerfn) {
        if (call_write(s, s->headerfn, s->headerdata, line, n, n))
            return GAVE_HEADER_FAIL;
    } else if (s->headerdata) {
        if (call_write(s, s->writefn, s->headerdata, line, n, n))
            return GAVE_HEADER_FAIL;
    }
    return 0;
}

/* 0, or GAVE_*_FAIL. */
static int give_lines(hstate *s, const char *p, size_t n, int in_body)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p + 1) : n;
        int e = give_header_line(s, p, k, in_body);
        if (e)
            return e;
        p += k;
        n -= k;
    }
    return 0;
}

int llf_give_head(hstate *s, const char *p, size_t n)
{
    return give_lines(s, p, n, 1);
}

/* A chunked answer's trailer lines (llf_resp.trailers), after its body's
 * last byte, as libcurl hands them. */
int llf_give_trailers(hstate *s, const char *p, size_t n)
{
    return give_lines(s, p, n, 0);
}
