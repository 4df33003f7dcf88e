/* curl_capture.h — an attempt's transfer as libcurl hands it to our
 * callbacks: its head and body kept for the judge, a 2xx stream held to its
 * first event, then handed to the program as it comes (translated when a
 * member of another dialect answers); our first-byte and first-token limits
 * in its progress callback; a member's key kept out of the program's
 * verbose trace. attempt_ctx is what they share with curl_attempt.c. */
#ifndef LLF_CURL_CAPTURE_H
#define LLF_CURL_CAPTURE_H

#include <time.h>

#include "core.h"
#include "curl_attempt.h"
#include "curl_handle.h"
#include "sse.h"

/* A member's credentials its trace may show: its key, its base URL's user,
 * password and their Basic value, a key= of its base URL's query. */
#define NSECRET 8

/* A managed call's attempts, as curl_attempt.c sets each up and our
 * callbacks on its transfer see it. */
typedef struct attempt_ctx {
    hstate *s;
    CURL *h;
    const llf_req *orig;
    unsigned dirty;         /* D_*: options an attempt set away from the program's */
    /* a body the program's reader gave (read_body): the original sends it
     * through a reader of ours over this copy, as the program framed it */
    const llf_buf *upload;
    copy_reader reader;
    /* per attempt */
    llf_resp *out;
    const llf_attempt *at;
    int live, got_byte;
    int original;       /* this attempt is the program's own request */
    int fail_at_head;   /* ...and the program set FAILONERROR (see llf_cap_header) */
    int passing;        /* an answer over MAX_BODY, handed on as it comes (over_cap) */
    int gated;          /* a 2xx stream, held back until its answer's first event */
    int tunnel;         /* this header block is a proxy's reply to CONNECT */
    int pipe_broke;     /* the member's translated stream failed mid-way (an error event) */
    int first_ok;
    llf_sse sse;
    struct llf_gate *gate;          /* judging the held-back events */
    struct llf_stream_pipe *pipe;   /* translating a member's stream, or NULL */
    size_t block_start;
    long block_status;
    size_t trailers_given;   /* of out->trailers, what the program was handed */
    struct timespec t0;
    struct timespec fb_t0;   /* whence the first byte is awaited: the upload's end */
    curl_off_t up_seen;      /* the upload's progress at the last look */
    int up_done;             /* the request reached the server whole (llf_upload_done) */
    /* what a live delivery gave the program, for getinfo */
    llf_buf given_head;
    curl_off_t given;
    /* the original attempt's transfer, as getinfo described it (taken
     * before the next attempt: a call of one attempt needs none) */
    const llf_resp *orig_out;     /* what its first attempt got */
    int snap_due;                 /* the last attempt was that one */
    snapshot *snap;
    /* the program's progress callback between transfers (curl_left) */
    struct timespec progress_t;   /* when it was last called */
    int aborted;                  /* it asked to abort */
    /* a member attempt's own credentials (pointers into its request), kept
     * out of the program's verbose trace */
    const char *secret[NSECRET];
    size_t secret_n[NSECRET];
    int nsecret;
} attempt_ctx;

/* libcurl's header, write, progress and debug callbacks on an attempt's
 * transfer (ud: its attempt_ctx). */
size_t llf_cap_header(char *p, size_t size, size_t nmemb, void *ud);
size_t llf_cap_write(char *p, size_t size, size_t nmemb, void *ud);
int llf_cap_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un);
int llf_cap_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud);
/* A member's credentials, for llf_cap_debug to keep out of the trace. */
void llf_note_secrets(attempt_ctx *c, const llf_core_api *core, const llf_req *req);
/* After the transfer: a stream held to its end judged, and handed over or
 * not; the trailers not handed over yet, handed over. */
void llf_gate_at_end(attempt_ctx *c);
int llf_give_trailers_due(attempt_ctx *c);

#endif
