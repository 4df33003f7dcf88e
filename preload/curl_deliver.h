/* curl_deliver.h — handing the program an answer through its own callbacks,
 * as libcurl would: its write and header callbacks (or the writer on
 * HEADERDATA), in pieces of libcurl's size, each again after a pause, with
 * its progress callback called while it pauses. */
#ifndef LLF_CURL_DELIVER_H
#define LLF_CURL_DELIVER_H

#include "curl_handle.h"
#include "hooks.h"

#define WRITE_CHUNK 16384   /* CURL_MAX_WRITE_SIZE: callbacks may rely on it */

/* Around a callback of the program's: its own curl calls are the program's,
 * not libcurl's (the guard off), and the guard is put back as it was (on
 * inside a transfer of ours, off after one, where a delivery ends). */
#define PROGRAM_BEGIN() { int guard_ = llf_in_lib; llf_in_lib = 0;
#define PROGRAM_END() llf_in_lib = guard_; }

/* Milliseconds since t0 (CLOCK_MONOTONIC). */
double llf_since_ms(const struct timespec *t0);

/* The program's progress callback, as libcurl calls it. */
int llf_call_progress(const hstate *s, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un);

/* A pause of the program's waited out, as libcurl would wait (the unpauses
 * of hstate.unpauses, each way, counted from seen). */
enum { RECV = 0, SEND = 1 };
int llf_wait_unpause(hstate *s, int way, unsigned seen);

/* Bytes to a write or header callback once (fn NULL: fwrite to data); an
 * answer's body, head and trailers as libcurl hands them over: 0, or -1
 * (the head's and the trailers': GAVE_*_FAIL). */
size_t llf_write_once(curl_write_callback fn, void *data, const char *buf, size_t n);
enum { GAVE_BODY_FAIL = -1, GAVE_HEADER_FAIL = -2 };   /* which of libcurl's two messages */
int llf_give_body(hstate *s, const char *buf, size_t n);
int llf_give_head(hstate *s, const char *p, size_t n);
int llf_give_trailers(hstate *s, const char *p, size_t n);

#endif
