/* core.h — the interface between the preload shim (hooks) and the core.
 *
 * The shim (libllmfallback.so) is what LD_PRELOAD loads into every process:
 * hooks only, no dependency beyond libc. The core (libllmfallback-core.so:
 * config, recognition, engine, dialects, verdicts, log; links cJSON) is
 * dlopen'ed RTLD_LOCAL at the first call that might be an LLM call, so idle
 * processes never load it. Everything crosses this boundary as plain structs;
 * memory is malloc'ed and freed with free() on either side. */
#ifndef LLF_CORE_H
#define LLF_CORE_H

#include <stddef.h>
#include <netdb.h>
#include <sys/socket.h>

#include "buf.h"
#include "curlapi.h"

#define LLF_CORE_ABI 20
/* The configuration file's largest size: the core refuses a larger one,
 * and the shim's gate reads no more of it. */
#define LLF_CONFIG_MAX ((size_t)1 << 20)

/* One HTTP request as an attempt sends it. */
typedef struct llf_req {
    char       *url;
    llf_headers headers;   /* "Name: value" */
    llf_buf     body;
    int         same_provider; /* 1: the program's own credentials may stay */
    int         own_server;    /* 1: the program's own provider at the server the
                                  program addressed, so the program's own way to
                                  it (a Unix socket, --connect-to) holds */
    llf_headers creds;     /* credentials it carries but in its header lines, one
                              value each: the program's libcurl login options
                              (USERPWD's or USERNAME's user, the password,
                              XOAUTH2_BEARER, COOKIE), kept from another
                              server's members as its headers are; a member's
                              base URL login (user, password, the Basic value
                              libcurl makes of them) and query key= values,
                              kept out of the program's verbose trace */
} llf_req;

/* What one attempt got back. */
typedef struct llf_resp {
    int      curlcode;     /* CURLE_*; CURLE_OK when an HTTP response came */
    char     errmsg[CURL_ERROR_SIZE];
    long     status;       /* final status, 0 without a response */
    long     http_version; /* CURL_HTTP_VERSION_* of the final response */
    llf_buf  head;         /* header bytes exactly as received, all blocks */
    llf_buf  body;
    llf_buf  trailers;     /* the last block's trailer lines as received (libcurl
                              hands them to the header callback after the body:
                              see llf_head_take), each with its CRLF; delivered
                              after the body, never with the head */
    double   ms;
    int      delivered;    /* the transport already handed it to the program (a
                              live stream): nothing may replace it */
    int      first_byte_timeout; /* aborted for want of a first byte */
    int      first_token_timeout; /* a stream aborted for want of a first event */
    int      client_gone;  /* aborted: the program closed its connection (relay) */
    const char *stream_problem;  /* a stream aborted at a bad first event (static) */
    const char *late_problem;    /* a live stream's error after its answer began (static) */
    int      head_only;    /* stopped at its head on purpose (the program's --fail,
                              an error status whose verdict needs no body):
                              judged by its status, not as a transport error */
    int      too_large;    /* its body passed what an answer may be held to: the
                              original's went on to the program as it came
                              (delivered, unjudged); another's was stopped */
} llf_resp;

/* Limits and delivery wishes for one attempt. */
typedef struct llf_attempt {
    long connect_ms, first_byte_ms, total_ms;  /* 0 = none */
    long first_token_ms;    /* streams: the first event must come by then */
    int  dialect;           /* of the member answering (for its stream's events) */
    int  live;              /* a 2xx stream is passed through once its first event
                               is known to be the start of an answer */
    int  translate_to;      /* -1, or the program's dialect when it differs from
                               the member's: live bytes are translated */
    const char *model;      /* the member's model, reported in translated streams */
    int  usage_asked;       /* the program (OpenAI) asked its stream's usage
                               (stream_options.include_usage) */
    const struct cJSON *tool_names; /* the function names the translated request
                               changed (dialect.h's LLF_HUB_NAMES, the core's),
                               or NULL: for pipe_new */
    const char *live_extra; /* header lines ("Name: v\r\n"...) to add when a
                               live response is not the original attempt's */
} llf_attempt;

/* How the engine performs an attempt: supplied by the hook path. */
typedef int (*llf_perform_fn)(void *ctx, const llf_req *req, const llf_attempt *at,
                              llf_resp *out);

/* What a recognised call is, before it runs. */
typedef struct llf_call llf_call;   /* opaque to the shim */

/* What the program receives. */
typedef struct llf_final {
    int      from_original;   /* 1: deliver resp of attempt 1 exactly as captured */
    int      delivered;       /* already delivered live by the transport */
    llf_resp *resp;           /* the response to deliver (owned by the engine run) */
    llf_buf  head;            /* synthesized header block when !from_original */
    int      attempts;
    int      aborted;         /* the program stopped the call after its first
                                 attempt (its progress callback, or it left):
                                 it gets nothing it was not already given;
                                 resp is the original's, for a hook that
                                 needs one */
    int      timed_out;       /* no answer: the program's own limit on the
                                 whole call ran out before its original,
                                 skipped by its breaker, could be sent. The
                                 hook gives the timeout the program set,
                                 and passes nothing through */
} llf_final;

/* Everything a run needs from the hook path. */
typedef struct llf_run_args {
    const llf_req *orig;
    long prog_connect_ms, prog_total_ms;   /* the program's own limits, 0 = none */
    llf_perform_fn perform;
    void *ctx;
    const char *path;                      /* "curl" | "ssl" | "socket", for the log */
    /* Has the program stopped waiting (closed its connection; on the curl
     * path, its progress callback aborted)? Asked before every attempt but
     * the first, so that nobody pays for an answer no one will read, and
     * during a Retry-After wait (every 100 ms); NULL where the program
     * cannot leave. */
    int (*gone)(void *ctx);
} llf_run_args;

struct llf_sse;   /* sse.h */
struct cJSON;     /* opaque to the shim */

typedef struct llf_core_api {
    int abi;
    /* Is this a call we manage? url + method + body in, opaque call out (NULL
     * when not recognised). Cheap rejection comes first. */
    llf_call *(*recognise)(const char *url, const char *method, const char *body, size_t len,
                           const llf_headers *headers);
    /* The original request and how to perform attempts: runs the plan. Fills
     * fin; returns 0, or -1 when the call must be passed through untouched
     * (nothing was sent). */
    int (*run)(llf_call *call, const struct llf_run_args *args, llf_final *fin);
    void (*call_free)(llf_call *call);   /* also frees what fin points to */
    int (*call_is_stream)(const llf_call *call);
    /* Streams: judged event by event before the program sees them (see
     * verdict.h's llf_gate): event → 0 wait, 1 deliver, -1 fall back. */
    struct llf_gate *(*gate_new)(int dialect);
    int (*gate_event)(struct llf_gate *g, const char *event, const char *data, size_t len);
    int (*gate_end)(struct llf_gate *g);
    int (*gate_started)(const struct llf_gate *g);   /* the first-token limit is met */
    const char *(*gate_problem)(const struct llf_gate *g);
    void (*gate_free)(struct llf_gate *g);
    /* after it went live: the provider's error in its bytes, or NULL (see
     * verdict.h's llf_stream_watch) */
    const char *(*watch)(struct llf_sse *p, int dialect, const char *bytes, size_t n);
    /* Streams between dialects: bytes of the member's in, the program's out. */
    struct llf_stream_pipe *(*pipe_new)(int from, int to, const char *model, int usage_asked,
                                        const struct cJSON *names);
    int (*pipe_feed)(struct llf_stream_pipe *p, const char *bytes, size_t n, llf_buf *out);
    int (*pipe_end)(struct llf_stream_pipe *p, llf_buf *out);
    void (*pipe_free)(struct llf_stream_pipe *p);

    /* Socket path. Is addr a provider's? 0 no, 1 over http://, 2 over
     * https://. A lookup over addresses resolved at load or learnt from the
     * program's own name lookups (note_resolved). */
    int (*target_kind)(const struct sockaddr *addr, socklen_t len);
    void (*note_resolved)(const char *node, const struct addrinfo *res);
    struct addrinfo *(*placeholder)(const char *node, const char *service,
                                    const struct addrinfo *hints);
    /* TLS path: is this SNI a provider host? */
    int (*is_tls_host)(const char *name);
    /* Where a connection to sa would have gone next had sa refused
     * (targets.h's llf_targets_others): the peer probe follows them. */
    size_t (*others)(const struct sockaddr *sa, const char *host, struct sockaddr_storage *out, size_t max);
    /* The relay's loopback address (starting it on first use), or -1. */
    int (*relay_addr)(struct sockaddr_storage *out, socklen_t *len);
    /* A connection from src (the program's socket fd) was redirected
     * from `orig`: the relay serves only connections announced this way;
     * flags LLF_EXPECT_* (expect.h). -1: not to the relay (see relay.h). */
    int (*relay_expect)(int fd, const struct sockaddr *src, socklen_t srclen, const struct sockaddr *orig,
                        socklen_t len, int flags);
    void (*relay_unexpect)(const struct sockaddr *src);
    /* Asked before the socket is touched: -1 when relay_expect would
     * refuse it for want of descriptors (see relay.h's llf_relay_room). */
    int (*relay_room)(int fd);

    /* Could a POST to this URL be a call we manage (provider and operation
     * known)? For deciding before reading an upload's body. */
    int (*is_endpoint)(const char *url);
    /* Does this request header line name a credential? (rewrite.h) */
    int (*header_credential)(const char *line);
    /* The process image is about to be replaced (exec): write the summary
     * the exit would have written, if it is this process's, and count
     * afresh from zero (see core.c). Nothing else: it may run in a vfork
     * child, on its parent's memory. */
    void (*exec_summary)(void);
    /* Does the verdict on this error status read its body (verdict.h)? */
    int (*error_needs_body)(long status);
    /* The CA bundle the library verifies members with (ca_bundle, else
     * SSL_CERT_FILE, CURL_CA_BUNDLE, REQUESTS_CA_BUNDLE), or NULL for
     * libcurl's default. */
    const char *(*ca_bundle)(void);
} llf_core_api;

/* What the shim offers the core. */
typedef struct llf_shim_services {
    /* LLF_CORE_ABI, first: a core given another shim's services (another
     * install's) reads nothing else of them. */
    unsigned abi;
    /* Mark the calling thread as inside the library (its connects and curl
     * calls then bypass the hooks, and the pairs libcurl makes on it are
     * close-on-exec): the library's own threads do this for their life. */
    void (*enter)(void);
    /* libcurl for the library's own transfers (loaded on first need). */
    const llf_curl_api *(*curl_for_transfers)(void);
    /* The real connect(), for the relay's own sockets. */
    int (*real_connect)(int, const struct sockaddr *, socklen_t);
    /* The TLS path: the program's own request on the connection from src
     * (a virtual TLS session's) is verified as the program would (trust.h):
     * sets h's options for it and returns what tls_trust_done releases
     * after the transfer, or NULL (the library's trust applies). */
    void *(*tls_trust)(const llf_curl_api *c, CURL *h, const struct sockaddr *src);
    void (*tls_trust_done)(void *trust);
    /* What fd 2 was when the shim was loaded (lineout.h): the core writes
     * there only while it still is. */
    const struct llf_ownfd *stderr_at_load;
    /* The descriptor lock (hooks.h: llf_fds_hold), the core's from its
     * start: see guest.h. */
    void (*fds_hold)(void);
    void (*fds_release)(void);
    /* The shim's fork registry (forklock.h), where the core's locks go. */
    const struct llf_forkreg *forkreg;
} llf_shim_services;

/* The core's only exported symbol. Returns NULL when the core must stay out
 * of the way (disabled, broken config: it has said why on stderr). */
typedef const llf_core_api *(*llf_core_entry_fn)(const llf_curl_api *curl,
                                                 const llf_shim_services *svc);
#define LLF_CORE_ENTRY "llf_core_entry"

void llf_resp_free(llf_resp *r);

#endif
