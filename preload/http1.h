/* http1.h — reading an HTTP/1.1 request head, and the few pure checks the
 * relay makes on what it read (a Host, a chunk-size line), and the URL a
 * request means. */
#ifndef LLF_HTTP1_H
#define LLF_HTTP1_H

#include <stddef.h>

#include "buf.h"

#define LLF_HTTP_MAX_HEAD (64 * 1024)   /* a longer head is not read (carried as it came) */

/* One request read from a client. */
typedef struct llf_http_req {
    char        method[16];
    char       *target;      /* as sent: origin-form path (or absolute URL) */
    llf_headers headers;
    llf_buf     body;
    int         keep_alive;
    int         http10;      /* an HTTP/1.0 client: no chunked responses */
    int         expect_continue;
    int         upgrade;     /* asks to switch protocols (Upgrade, Connection: upgrade) */
    long        clen;        /* the body's framing: its Content-Length, -1 chunked, 0 none */
    llf_buf     head;        /* the head as the program wrote it: kept for an upgrade only */
} llf_http_req;

/* Parse a request head (up to and including CRLF CRLF) in buf[0..n).
 * Returns the head's length, 0 when more bytes are needed, -1 when it is not
 * HTTP/1.x. Body framing is read from the headers into *clen (-1 chunked,
 * 0 none). Pure: unit-tested. */
long llf_http_parse_head(const char *buf, size_t n, llf_http_req *r, long *clen);
void llf_http_req_free(llf_http_req *r);
/* The URL a request for target means, appended to url: on a TLS session
 * (tls) always https, whatever scheme an absolute-form target names; the
 * authority an absolute-form target's (RFC 9112 §3.2.2), else host (its
 * Host, or the address connected to); then the target's path and query.
 * -1: no host to name, or no memory. Pure: unit-tested. */
int  llf_http_req_url(const char *target, const char *host, int tls, llf_buf *url);
/* A request passed through goes with its target as the program wrote it
 * (CURLOPT_REQUEST_TARGET): from the URL libcurl would send it rewritten
 * (raw UTF-8 percent-encoded, a "#..." dropped) or not at all (a DEL: the
 * URL refused, the program's connection reset). In *path the target to
 * send: target itself in origin form, an absolute target's path and query
 * (the origin form, as before); in root url's scheme and
 * authority and "/", a URL libcurl takes whatever the target holds. -1
 * when the target has no path to send so (an absolute one with none, or a
 * query alone: the URL says it), or no memory. Pure: unit-tested. */
int  llf_http_req_as_is(const char *target, const char *url, llf_buf *root, const char **path);
/* Can a Host value stand in a URL as the authority: host[:port], the host
 * a reg-name of unreserved characters and %, or an [IPv6] literal? Pure. */
int  llf_http_host_ok(const char *h);
/* A chunk-size line, without its CRLF: hex digits (no sign, no 0x, no
 * white space before), then nothing but white space and a chunk extension
 * (";..."). 0 with the size in *n, or -1. Pure: unit-tested. */
int llf_http_chunk_size(const char *line, unsigned long *n);

#endif
