/* The relay's HTTP/1.1 request-head parser and its pure checks (http1.c). */
#include <stdlib.h>

#include "http1.h"
#include "t.h"

static long parse(const char *s, llf_http_req *r, long *clen)
{
    return llf_http_parse_head(s, strlen(s), r, clen);
}

void test_http1(void)
{
    llf_http_req r;
    long clen;
    const char *req = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:18001\r\n"
                      "Content-Length: 42\r\nConnection: keep-alive\r\n\r\n{\"model\":";
    long n = parse(req, &r, &clen);
    CHECK(n == (long)(strstr(req, "\r\n\r\n") - req) + 4);
    CHECK_STR(r.method, "POST");
    CHECK_STR(r.target, "/v1/chat/completions");
    CHECK(clen == 42 && r.keep_alive && !r.http10 && !r.expect_continue && r.headers.n == 3);
    CHECK_STR(llf_headers_get(&r.headers, "host", NULL), "127.0.0.1:18001");
    llf_http_req_free(&r);

    CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\n", &r, &clen) == 0);   /* incomplete: need more */
    CHECK(parse("GET / HTTP/1.0\r\n\r\n", &r, &clen) > 0 && !r.keep_alive && r.http10 && clen == 0);
    llf_http_req_free(&r);
    CHECK(parse("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n"
                "Connection: close\r\n\r\n", &r, &clen) > 0);
    CHECK(clen == -1 && r.expect_continue && !r.keep_alive);
    llf_http_req_free(&r);
    /* an upgrade needs both headers (Connection may list other tokens) */
    CHECK(parse("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n", &r, &clen) > 0 &&
          r.upgrade);
    llf_http_req_free(&r);
    CHECK(parse("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", &r, &clen) > 0 && !r.upgrade);
    llf_http_req_free(&r);
    /* two Hosts are not cut to one (RFC 9112 §3.2: a server refuses them) */
    CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nX: y\r\nhost: b\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nX-Host: b\r\n\r\n", &r, &clen) > 0);
    llf_http_req_free(&r);
    /* h2c alone is not one: Java's HttpClient asks for it on every http://
     * request and goes on in HTTP/1.1 when the server does not switch */
    static const char *const h2c[][2] = {{"h2c", "0"}, {" H2C ", "0"}, {"h2c, h2c", "0"}, {"h2c, websocket", "1"},
                                         {"websocket/13", "1"}, {"", "1"}, {"h2", "1"}, {"h2cx", "1"}};
    for (size_t i = 0; i < sizeof h2c / sizeof h2c[0]; i++) {
        char head[200];
        snprintf(head, sizeof head,
                 "GET /v1/models HTTP/1.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade:%s\r\n"
                 "HTTP2-Settings: AAEAAEAAAAIAAAAAAAMAAAAAAAQBAAAAAAUAAEAAAAYABgAA\r\n\r\n", h2c[i][0]);
        CHECK(parse(head, &r, &clen) > 0 && r.upgrade == (h2c[i][1][0] == '1') && r.keep_alive);
        llf_http_req_free(&r);
    }

    /* empty lines before a request line are passed over, and counted in
     * what is consumed (a stray CRLF after a body tunnelled the connection) */
    CHECK(parse("\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n", &r, &clen) == (long)strlen("\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK_STR(r.target, "/v1/models");
    llf_http_req_free(&r);
    CHECK(parse("\r\n", &r, &clen) == 0);
    /* the request line decides at once, without waiting for a blank line:
     * another protocol, a bare LF, forms the relay does not serve */
    CHECK(parse("PING\r\n", &r, &clen) == -1);
    CHECK(parse("GET /v1/models HTTP/1.1\nHost: x\n", &r, &clen) == -1);
    /* ...and a bare LF after a CRLF request line, as soon as it is read (the
     * head has no CRLF CRLF to wait for) */
    CHECK(parse("GET /v1/models HTTP/1.1\r\nHost: x\nX-A: 1\n", &r, &clen) == -1);
    CHECK(parse("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\n", &r, &clen) == -1);
    CHECK(parse("GET /v1/models HTTP/1.1\r\n\n", &r, &clen) == -1);
    CHECK(parse("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n", &r, &clen) == 0);   /* (no LF yet: more) */
    CHECK(parse("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: x\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("GET /x HTTP/2.0\r\n\r\n", &r, &clen) == -1);
    /* an absolute target's scheme in any case, https:// too (a server
     * reads both: RFC 9112 §3.2.2) */
    CHECK(parse("POST HTTP://127.0.0.1:9/v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n", &r, &clen) > 0);
    CHECK_STR(r.target, "http://127.0.0.1:9/v1/chat/completions");
    llf_http_req_free(&r);
    CHECK(parse("POST hTTpS://Localhost:9/v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n", &r, &clen) > 0);
    CHECK_STR(r.target, "https://Localhost:9/v1/chat/completions");
    llf_http_req_free(&r);
    /* ...not one that names no host: carried as it came */
    CHECK(parse("GET http:///x HTTP/1.1\r\nHost: x\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("GET https://user:pw@127.0.0.1:9/x HTTP/1.1\r\nHost: x\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("GET ftp://127.0.0.1:9/x HTTP/1.1\r\nHost: x\r\n\r\n", &r, &clen) == -1);

    /* the URL requested: a TLS session's is https whatever its target's
     * scheme (an http:// one went out in the clear, key and all), the
     * authority an absolute target's, not Host's; a plain connection's is
     * http, as the program's bytes were */
    static const struct {
        const char *target, *host;
        int tls;
        const char *want;
    } urls[] = {
        {"http://localhost:9/v1/chat/completions?a=1", "other:7", 1, "https://localhost:9/v1/chat/completions?a=1"},
        {"https://localhost:9/v1/chat/completions", "localhost:9", 1, "https://localhost:9/v1/chat/completions"},
        {"HTTP://localhost:9/v1", NULL, 1, "https://localhost:9/v1"},
        {"https://127.0.0.1:9/v1/x", "127.0.0.1:9", 0, "http://127.0.0.1:9/v1/x"},
        {"http://[::1]:9/v1/x", NULL, 0, "http://[::1]:9/v1/x"},
        {"http://localhost:9", "x", 1, "https://localhost:9/"},        /* an empty path is "/" */
        {"http://localhost:9?q=1", "x", 1, "https://localhost:9/?q=1"},
        {"/v1/chat/completions", "localhost:9", 1, "https://localhost:9/v1/chat/completions"},
        {"/v1/chat/completions", "127.0.0.1:9", 0, "http://127.0.0.1:9/v1/chat/completions"},
        {"/v1/x", NULL, 1, NULL},   /* no host to name */
        {"/v1/x", "", 0, NULL},
        {"http://u@h:9/x", "h:9", 1, NULL},
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        llf_buf u = {0};
        int rc = llf_http_req_url(urls[i].target, urls[i].host, urls[i].tls, &u);
        if (urls[i].want) {
            CHECK(rc == 0);
            CHECK_STR(u.p, urls[i].want);
        } else
            CHECK(rc == -1);
        llf_buf_free(&u);
    }
    /* a request passed through goes with its target as written: origin
     * form whatever bytes it holds (raw UTF-8, a fragment, a DEL), an
     * absolute target's path and query; the URL its scheme and authority */
    struct { const char *target, *url, *root, *path; } as_is[] = {
        {"/echo/\xc3\xa9#frag\x7f", "http://h:9/echo/\xc3\xa9#frag\x7f", "http://h:9/", "/echo/\xc3\xa9#frag\x7f"},
        {"/", "https://[::1]:9/", "https://[::1]:9/", "/"},
        {"http://a:9/v1/x?q=%zz", "http://a:9/v1/x?q=%zz", "http://a:9/", "/v1/x?q=%zz"},
        {"https://a:9/v1/x", "https://a:9/v1/x", "https://a:9/", "/v1/x"},
        {"http://localhost:9", "https://localhost:9/", NULL, NULL},         /* no path: the URL's "/" */
        {"http://localhost:9?q=1", "https://localhost:9/?q=1", NULL, NULL},
        {"/x", "no-scheme", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof as_is / sizeof as_is[0]; i++) {
        llf_buf root = {0};
        const char *path = NULL;
        int rc = llf_http_req_as_is(as_is[i].target, as_is[i].url, &root, &path);
        if (as_is[i].root) {
            CHECK(rc == 0);
            CHECK_STR(root.p, as_is[i].root);
            CHECK_STR(path, as_is[i].path);
        } else
            CHECK(rc == -1);
        llf_buf_free(&root);
    }
    /* a Host is the URL's authority only when it can stand there: pasted
     * in, "" made http:///v1/models (host "v1"), "u:p@h" credentials,
     * "h#x" a fragment */
    CHECK(llf_http_host_ok("localhost"));
    CHECK(llf_http_host_ok("127.0.0.1:49001"));
    CHECK(llf_http_host_ok("api.openai.com"));
    CHECK(llf_http_host_ok("[::1]:8080"));
    CHECK(llf_http_host_ok("my_host.internal:80"));
    CHECK(!llf_http_host_ok(""));
    CHECK(!llf_http_host_ok("alice:secret@127.0.0.1:49001"));
    CHECK(!llf_http_host_ok("127.0.0.1:49001#x"));
    CHECK(!llf_http_host_ok("a b"));
    CHECK(!llf_http_host_ok("h/x"));
    CHECK(!llf_http_host_ok("h:"));
    CHECK(!llf_http_host_ok("h:123456"));
    CHECK(!llf_http_host_ok("[::1"));
    CHECK(!llf_http_host_ok("[]"));
    CHECK(!llf_http_host_ok("h?q"));
    /* heads that cannot be forwarded as they stand are carried as they came:
     * obs-fold, a line without a colon or with space before it, a length
     * that is not digits alone, two lengths that differ */
    CHECK(parse("POST /x HTTP/1.1\r\nX-Folded: first\r\n second\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("POST /x HTTP/1.1\r\nno colon here\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("POST /x HTTP/1.1\r\nHost : x\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("POST /x HTTP/1.1\r\nContent-Length: 3abc\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("POST /x HTTP/1.1\r\nContent-Length: +3\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("POST /x HTTP/1.1\r\nContent-Length: 8\r\nContent-Length: 3\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3 \r\n\r\n", &r, &clen) > 0 && clen == 3);
    llf_http_req_free(&r);
    CHECK(parse("HELLO\r\n\r\n", &r, &clen) == -1);
    /* another protocol's first message, with no LF: decided at its first
     * bytes, not waited on (a PostgreSQL SSLRequest; TLS's ClientHello) */
    CHECK(llf_http_parse_head("\0\0\0\x08\x04\xd2\x16\x2f", 8, &r, &clen) == -1);
    CHECK(parse("\x16\x03\x01\x02", &r, &clen) == -1);
    CHECK(parse("GE", &r, &clen) == 0 && parse("POST", &r, &clen) == 0 && parse("", &r, &clen) == 0);
    CHECK(parse("POST /v1/chat", &r, &clen) == 0 && parse("\r\n\r", &r, &clen) == 0 && parse("\r", &r, &clen) == 0);
    CHECK(parse("GET\t/", &r, &clen) == -1 && parse(" GET", &r, &clen) == -1 && parse("AVERYVERYLONGMETHOD", &r, &clen) == -1);
    CHECK(llf_http_parse_head("POST /a\0b", 9, &r, &clen) == -1);
    /* a NUL in the target or a header: carried as it came, never cut */
    CHECK(llf_http_parse_head("GET /a\0b HTTP/1.1\r\nHost: x\r\n\r\n", 30, &r, &clen) == -1);
    CHECK(llf_http_parse_head("GET /a HTTP/1.1\r\nX-A: a\0b\r\n\r\n", 29, &r, &clen) == -1);
    CHECK(parse("GET / SPDY/3\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("AVERYVERYLONGMETHODNAME / HTTP/1.1\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &r, &clen) == -1);   /* (not chunked) */
    /* chunked wins over a length wherever each stands; the connection closes after */
    CHECK(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", &r, &clen) > 0 &&
          clen == -1 && r.clen == -1 && !r.keep_alive);
    llf_http_req_free(&r);
    CHECK(parse("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", &r, &clen) > 0 &&
          clen == -1 && !r.keep_alive);
    llf_http_req_free(&r);
    /* chunked alone, in any case; another coding under it is no request the
     * relay reads (it is carried as it came), nor is one without chunked */
    CHECK(parse("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked \r\n\r\n", &r, &clen) > 0 && clen == -1);
    llf_http_req_free(&r);
    /* an HTTP/1.0 message with a Transfer-Encoding closes its connection,
     * kept alive as asked or not (RFC 9112 §6.1) */
    CHECK(parse("POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n", &r, &clen) > 0 &&
          clen == -1 && !r.keep_alive);
    llf_http_req_free(&r);
    CHECK(parse("POST / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n", &r, &clen) > 0 &&
          r.keep_alive);
    llf_http_req_free(&r);
    CHECK(parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nContent-Length: 4\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", &r, &clen) == -1);
    /* a length past what a long holds is no length the relay can carry */
    CHECK(parse("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", &r, &clen) == -1);
    /* chunk sizes: hex digits, then white space or an extension only */
    unsigned long cs;
    CHECK(llf_http_chunk_size("5", &cs) == 0 && cs == 5);
    CHECK(llf_http_chunk_size("1aF", &cs) == 0 && cs == 0x1af);
    CHECK(llf_http_chunk_size("10;name=value", &cs) == 0 && cs == 16);
    CHECK(llf_http_chunk_size("10 \t;x", &cs) == 0 && cs == 16);
    CHECK(llf_http_chunk_size("0", &cs) == 0 && cs == 0);
    CHECK(llf_http_chunk_size("0x5", &cs) == -1);
    CHECK(llf_http_chunk_size(" 5", &cs) == -1);
    CHECK(llf_http_chunk_size("+5", &cs) == -1);
    CHECK(llf_http_chunk_size("-5", &cs) == -1);
    CHECK(llf_http_chunk_size("", &cs) == -1);
    CHECK(llf_http_chunk_size("5z", &cs) == -1);
    CHECK(llf_http_chunk_size("8000000000000000", &cs) == -1);   /* (past LONG_MAX) */
    CHECK(llf_http_chunk_size("fffffffffffffffff", &cs) == -1);
    CHECK(llf_http_chunk_size("0000000000000000000000000000000000000000000000000000000000000000000000005", &cs) == 0 &&
          cs == 5);   /* (leading zeros: any number, no overflow) */
    /* (a body larger than an answer may be is passed through as it comes) */
    CHECK(parse("POST / HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n", &r, &clen) > 0 &&
          clen == 999999999999L && r.clen == clen);
    llf_http_req_free(&r);
}

