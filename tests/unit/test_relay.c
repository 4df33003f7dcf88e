/* The relay's HTTP/1.1 request-head parser. */
#include "relay.h"
#include "t.h"

static long parse(const char *s, llf_http_req *r, long *clen)
{
    return llf_http_parse_head(s, strlen(s), r, clen);
}

void test_relay(void)
{
    llf_http_req r;
    long clen;
    const char *req = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:18001\r\n"
                      "Content-Length: 42\r\nConnection: keep-alive\r\n\r\n{\"model\":";
    long n = parse(req, &r, &clen);
    CHECK(n == (long)(strstr(req, "\r\n\r\n") - req) + 4);
    CHECK_STR(r.method, "POST");
    CHECK_STR(r.target, "/v1/chat/completions");
    CHECK(clen == 42 && r.keep_alive && !r.expect_continue && r.headers.n == 3);
    CHECK_STR(llf_headers_get(&r.headers, "host", NULL), "127.0.0.1:18001");
    llf_http_req_free(&r);

    CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\n", &r, &clen) == 0);   /* incomplete: need more */
    CHECK(parse("GET / HTTP/1.0\r\n\r\n", &r, &clen) > 0 && !r.keep_alive && clen == 0);
    llf_http_req_free(&r);
    CHECK(parse("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n"
                "Connection: close\r\n\r\n", &r, &clen) > 0);
    CHECK(clen == -1 && r.expect_continue && !r.keep_alive);
    llf_http_req_free(&r);
    CHECK(parse("HELLO\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("GET / SPDY/3\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("AVERYVERYLONGMETHODNAME / HTTP/1.1\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", &r, &clen) == -1);
    CHECK(parse("POST / HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n", &r, &clen) == -1);
}
