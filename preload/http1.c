/* http1.c — reading an HTTP/1.1 request head, for the relay (see http1.h).
 *
 * Pure: text in, a parsed request or a "no" out. What the relay cannot read
 * as it stands (another protocol, a NUL, an obs-fold, a bare LF, two Hosts, framing it
 * would have to guess) is refused here, and carried to the server as it
 * came (relay_tunnel.c, llf_relay_not_http), never repaired. Hand-written:
 * the relay needs the request line, the headers and the body's framing
 * from our own process's clients, a few dozen lines; a parser library
 * would add a dependency for that. */
#include "http1.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void llf_http_req_free(llf_http_req *r)
{
    free(r->target);
    llf_headers_free(&r->headers);
    llf_buf_free(&r->body);
    llf_buf_free(&r->head);
    memset(r, 0, sizeof *r);
}

/* The authority of an absolute-form target t (http:// or https://, the
 * scheme in any case: RFC 3986 §3.1) of len bytes, its length in *n; NULL
 * for origin form, or for one naming no host the relay could go to: an
 * empty authority, or userinfo (RFC 9110 §4.2.4: an error to the
 * recipient). */
static const char *abs_authority(const char *t, size_t len, size_t *n)
{
    size_t s = len > 7 && strncasecmp(t, "http://", 7) == 0 ? 7 : len > 8 && strncasecmp(t, "https://", 8) == 0 ? 8 : 0;
    size_t e = s;
    while (s && e < len && t[e] != '/' && t[e] != '?')
        e++;
    if (!s || e == s || memchr(t + s, '@', e - s))
        return NULL;
    *n = e - s;
    return t + s;
}

int llf_http_req_url(const char *target, const char *host, int tls, llf_buf *url)
{
    size_t n = 0;
    const char *auth = abs_authority(target, strlen(target), &n);
    const char *path = auth ? auth + n : target;
    if (!auth && (!host || !*host || *target != '/'))
        return -1;
    /* (the scheme is the connection's: a TLS session's bytes go out over
     * TLS whatever its target says, a plain one's as they came) */
    return llf_buf_adds(url, tls ? "https://" : "http://") ||
                   (auth ? llf_buf_add(url, auth, n) : llf_buf_adds(url, host)) ||
                   (*path != '/' && llf_buf_adds(url, "/")) || llf_buf_adds(url, path)
               ? -1
               : 0;
}

int llf_http_req_as_is(const char *target, const char *url, llf_buf *root, const char **path)
{
    size_t n = 0;
    const char *auth = abs_authority(target, strlen(target), &n);
    const char *sep = strstr(url, "://");
    const char *end = sep ? strchr(sep + 3, '/') : NULL;   /* (an authority holds no "/": see llf_http_req_url) */
    *path = auth ? auth + n : target;
    if (**path != '/' || !end)
        return -1;
    return llf_buf_add(root, url, (size_t)(end - url) + 1);
}

/* Is [l, e) a request line the relay reads: METHOD SP target SP HTTP/1.x,
 * the target in origin form or absolute form (see abs_authority)? Others
 * (OPTIONS *, CONNECT's authority form, another protocol) are carried to
 * the server as they came (llf_relay_not_http). */
static int request_line(const char *l, const char *e, const char **sp1, const char **sp2)
{
    size_t n;
    if (memchr(l, '\0', (size_t)(e - l)))
        return 0;   /* (a NUL would cut the target short: see header_line) */
    *sp1 = memchr(l, ' ', (size_t)(e - l));
    *sp2 = *sp1 ? memchr(*sp1 + 1, ' ', (size_t)(e - *sp1 - 1)) : NULL;
    for (const char *c = l; *sp1 && c < *sp1; c++)
        if (!isalpha((unsigned char)*c))
            return 0;   /* (a method is letters) */
    return *sp1 && *sp2 && *sp1 > l && (size_t)(*sp1 - l) < sizeof ((llf_http_req *)0)->method &&
           e - *sp2 - 1 == 8 && strncmp(*sp2 + 1, "HTTP/1.", 7) == 0 && (*sp2)[8] >= '0' && (*sp2)[8] <= '1' &&
           (*sp2 - *sp1 > 1) && ((*sp1)[1] == '/' || abs_authority(*sp1 + 1, (size_t)(*sp2 - *sp1 - 1), &n));
}

/* A header line the relay can forward as it stands: a name (no white space)
 * and a colon; no obs-fold (a line that continues the one before), no CR,
 * LF or NUL inside (a NUL would end the value the relay sends on). One it
 * cannot is not "repaired": the request is carried as it came, for the
 * server to answer (RFC 9112 §5.2, §5). */
static int header_line(const char *l, const char *e)
{
    const char *colon = memchr(l, ':', (size_t)(e - l));
    if (!colon || colon == l || memchr(l, '\r', (size_t)(e - l)) || memchr(l, '\n', (size_t)(e - l)) ||
        memchr(l, '\0', (size_t)(e - l)))
        return 0;
    for (const char *c = l; c < colon; c++)
        if (*c == ' ' || *c == '\t')
            return 0;
    return 1;
}

/* Does an Upgrade value ask for h2c alone? Java's HttpClient asks for it on
 * every http:// request, and goes on in HTTP/1.1 on the same connection when
 * the server does not switch (RFC 9110 §7.8 lets a server ignore Upgrade;
 * RFC 9113 deprecates h2c): so it is not an upgrade, lest one request that
 * is no call turn the connection into a tunnel for every later call. (The
 * header is hop-by-hop: it goes no further.) */
static int only_h2c(const char *v)
{
    int any = 0;
    for (const char *p = v; *p;) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, " \t,");
        if (n && (n != 3 || strncasecmp(p, "h2c", 3) != 0))
            return 0;
        any |= n != 0;
        p += n;
    }
    return any;
}

/* Can the n bytes at l, with no LF yet, begin a request line: a method
 * (letters, as request_line takes them) and then anything but a NUL? A
 * client that speaks first in another protocol, in a binary message with
 * no LF to wait for, is told apart at its first bytes. A CR alone may
 * still be the start of an empty line. */
static int may_begin_request(const char *l, size_t n)
{
    if (n == 1 && l[0] == '\r')
        return 1;
    const char *sp = memchr(l, ' ', n);
    size_t m = sp ? (size_t)(sp - l) : n;
    if ((sp && m == 0) || m >= sizeof ((llf_http_req *)0)->method || memchr(l, '\0', n))
        return 0;
    for (size_t i = 0; i < m; i++)
        if (!isalpha((unsigned char)l[i]))
            return 0;
    return 1;
}

long llf_http_parse_head(const char *buf, size_t n, llf_http_req *r, long *clen)
{
    /* Empty lines before a request line are passed over (RFC 9112 §2.2:
     * some clients send one after a body). */
    size_t skip = 0;
    while (skip + 2 <= n && buf[skip] == '\r' && buf[skip + 1] == '\n')
        skip += 2;
    const char *start = buf + skip, *sp1, *sp2;
    /* The request line decides at once: a client that speaks first in
     * another protocol, or ends its lines with a bare LF, is not kept
     * waiting for a blank line that will not come. */
    const char *lf = memchr(start, '\n', n - skip);
    if (!lf)
        return n > LLF_HTTP_MAX_HEAD || !may_begin_request(start, n - skip) ? -1 : 0;
    if (lf == start || lf[-1] != '\r' || !request_line(start, lf - 1, &sp1, &sp2))
        return -1;
    /* So does a bare LF ending a header line, or the empty line, as soon as
     * it is read: a head with one has no CRLF CRLF to wait for (it is
     * carried as it came, for the server to read as it reads such lines). */
    const char *end = NULL;
    for (const char *l = lf + 1, *e; !end && (e = memchr(l, '\n', (size_t)(buf + n - l))); l = e + 1) {
        if (e == l || e[-1] != '\r')
            return -1;
        if (e == l + 1)
            end = l - 2;   /* (the CRLF CRLF that ends the head) */
    }
    if (!end)
        return n > LLF_HTTP_MAX_HEAD ? -1 : 0;
    memset(r, 0, sizeof *r);
    const char *eol = lf - 1;
    memcpy(r->method, start, (size_t)(sp1 - start));
    r->target = llf_strndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
    for (char *c = r->target; r->target && *r->target != '/' && *c != ':'; c++)
        *c = (char)tolower((unsigned char)*c);   /* (an absolute target's scheme: see abs_authority) */
    r->keep_alive = sp2[8] == '1';   /* HTTP/1.1 keeps alive by default */
    r->http10 = sp2[8] == '0';
    *clen = 0;
    int upgrade = 0, conn_upgrade = 0, chunked = 0, length = 0, hosts = 0;
    for (const char *l = eol + 2; l < end; l = eol + 2) {
        eol = memmem(l, (size_t)(end - l) + 2, "\r\n", 2);
        char *line = header_line(l, eol) ? llf_strndup(l, (size_t)(eol - l)) : NULL;
        if (!line || !r->target) {
            free(line);
            llf_http_req_free(r);
            return -1;
        }
        const char *v = strchr(line, ':');
        v = v ? v + 1 + strspn(v + 1, " \t") : "";
        /* Two Hosts: a server must answer 400 (RFC 9112 §3.2), and libcurl,
         * sending the head again, would keep the first only: not repaired */
        if (llf_header_is(line, "host") && hosts++) {
            free(line);
            llf_http_req_free(r);
            return -1;
        }
        if (llf_header_is(line, "content-length")) {
            /* digits only, and one length however often given (a request
             * with two is carried as it came: the server says 400) */
            char *e;
            errno = 0;
            long cl = strtol(v, &e, 10);
            e += strspn(e, " \t");
            if (*v < '0' || *v > '9' || *e || errno == ERANGE || (length && cl != *clen)) {
                free(line);
                llf_http_req_free(r);
                return -1;
            }
            *clen = cl;
        }
        else if (llf_header_is(line, "transfer-encoding")) {
            /* chunked alone is read here; another coding under it (gzip,
             * chunked) could not go on as it came (de-chunked, it went out
             * as gzip bytes under a Content-Length): such a request is no
             * HTTP the relay reads, carried as it came (see llf_relay_not_http) */
            size_t vn = strlen(v);
            while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
                vn--;
            if (vn != 7 || strncasecmp(v, "chunked", 7) != 0 || chunked) {   /* (twice: chunked, chunked) */
                free(line);
                llf_http_req_free(r);
                return -1;
            }
            chunked = 1;
        }
        else if (llf_header_is(line, "connection"))
            r->keep_alive = strcasestr(v, "close") ? 0 : strcasestr(v, "keep-alive") ? 1 : r->keep_alive;
        else if (llf_header_is(line, "upgrade"))
            upgrade |= !only_h2c(v);
        else if (llf_header_is(line, "expect") && strcasestr(v, "100-continue"))
            r->expect_continue = 1;
        conn_upgrade |= llf_header_is(line, "connection") && strcasestr(v, "upgrade");
        length |= llf_header_is(line, "content-length");
        int bad = llf_headers_add(&r->headers, line);
        free(line);
        if (bad) {
            llf_http_req_free(r);
            return -1;
        }
    }
    if (*clen < 0) {
        llf_http_req_free(r);
        return -1;
    }
    /* Chunked wins over a Content-Length, wherever each stands, and a
     * message that had both closes its connection (RFC 9112 §6.3): it may
     * be a smuggling attempt, and the length someone else read is unknown.
     * So does an HTTP/1.0 one with a Transfer-Encoding, which 1.0 has not:
     * a 1.0 hop before us may have read it otherwise (§6.1). */
    if (chunked) {
        *clen = -1;
        r->keep_alive &= !length && !r->http10;
    }
    r->clen = *clen;
    r->upgrade = upgrade && conn_upgrade;
    return (long)(end - buf) + 4;   /* (the empty lines before it included) */
}

int llf_http_chunk_size(const char *line, unsigned long *n)
{
    static const char hex[] = "0123456789abcdef";
    const char *c = line;
    for (*n = 0; *c && strchr(hex, tolower((unsigned char)*c)); c++) {
        if (*n > (unsigned long)LONG_MAX / 16)
            return -1;
        *n = *n * 16 + (unsigned long)(strchr(hex, tolower((unsigned char)*c)) - hex);
    }
    c += strspn(c, " \t");
    return c == line || *n > (unsigned long)LONG_MAX || (*c && *c != ';') ? -1 : 0;
}

int llf_http_host_ok(const char *h)
{
    /* host[:port]: a reg-name or IPv4 address of letters, digits and
     * "-._~%", or an [IPv6] literal; a port of digits. Anything else (an
     * empty Host, "user@host", "h#x", "a b", which libcurl would read as
     * credentials, a fragment or another path) cannot stand in a URL. */
    const char *p = h;
    if (*p == '[') {
        p += 1 + strspn(p + 1, "0123456789abcdefABCDEF:.");
        if (*p++ != ']' || p - h < 4)
            return 0;
    } else {
        size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%");
        if (!n)
            return 0;
        p += n;
    }
    if (*p == ':') {
        size_t d = strspn(++p, "0123456789");
        if (!d || d > 5)
            return 0;
        p += d;
    }
    return *p == '\0';
}
