/* The relay's HTTP/1.1 request-head parser. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>

#include "netaddr.h"
#include "relay.h"
#include "t.h"

static long parse(const char *s, llf_http_req *r, long *clen)
{
    return llf_http_parse_head(s, strlen(s), r, clen);
}

void test_relay(void)
{
    /* the relay spares descriptors: a connection it could not serve within
     * the open-file limit goes to its provider (llf_relay_expect) */
    CHECK(!llf_relay_fds_short(10, 0, 0, 1024));
    CHECK(!llf_relay_fds_short(300, 100, 0, 1024));   /* 300 + 4 * 101 + 32 = 736 <= 768 */
    CHECK(llf_relay_fds_short(400, 100, 0, 1024));    /* a quarter left for the program's own */
    CHECK(llf_relay_fds_short(1000, 0, 0, 1024));
    CHECK(llf_relay_fds_short(100, 250, 0, 1024));    /* the burst announced, not yet accepted */
    CHECK(llf_relay_fds_short(300, 0, 250, 1024));    /* accepted, their upstreams still to come */
    CHECK(!llf_relay_fds_short(300, 0, 100, 1024));   /* 300 + 4 + 300 + 32 = 636 */
    CHECK(!llf_relay_fds_short(100, 250, 250, 65536));

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
    /* what is not passed on: hop-by-hop and framing headers, h2c's settings with its upgrade */
    CHECK(llf_header_hop("Connection: Upgrade, HTTP2-Settings") && llf_header_hop("upgrade: h2c") &&
          llf_header_hop("HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA") && llf_header_hop("Content-Length: 3") &&
          llf_header_hop("TE: trailers") && !llf_header_hop("Content-Type: application/json") &&
          !llf_header_hop("Authorization: Bearer x") && !llf_header_hop("Tea: earl grey"));
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

void test_relay_targets(void)
{
    char err[256];
    llf_config *c = NULL;
    t_clearenv();
    static const char cfg[] = "{\"providers\":{\"openai\":{\"base_url\":\"https://api.example-llm.test/v1\"},"
                              "\"local\":{\"base_url\":\"http://127.0.0.1:18555/v1\"},"
                              "\"cdn\":{\"dialect\":\"openai\",\"base_url\":\"https://cdn.example-llm.test/v1\"}}}";
    CHECK(llf_config_load(cfg, strlen(cfg), "t", NULL, NULL, t_env, &c, err, sizeof err) == 0);
    if (!c)
        return;
    llf_targets_init(c);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(18555)};
    a.sin_addr.s_addr = htonl(0x7f000001);
    CHECK(llf_target_kind((struct sockaddr *)&a, sizeof a) == 1);   /* IP literal: known at load */
    a.sin_port = htons(18556);
    CHECK(llf_target_kind((struct sockaddr *)&a, sizeof a) == 0);
    /* a name is learnt from the program's own lookup, with the base URL's port */
    struct sockaddr_in r = {.sin_family = AF_INET, .sin_port = htons(443)};
    r.sin_addr.s_addr = htonl(0x7f000042);
    struct addrinfo ai = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM, .ai_addrlen = sizeof r,
                          .ai_addr = (struct sockaddr *)&r};
    CHECK(llf_target_kind((struct sockaddr *)&r, sizeof r) == 0);
    llf_targets_note("API.example-llm.test", &ai);
    CHECK(llf_target_kind((struct sockaddr *)&r, sizeof r) == 2);
    llf_targets_note("elsewhere.test", &ai);
    CHECK(llf_is_tls_host("api.example-llm.test") && !llf_is_tls_host("127.0.0.1") && !llf_is_tls_host(NULL));
    CHECK(llf_is_tls_host("API.example-llm.test."));   /* (case and a trailing dot aside) */

    /* A lookup is kept whole, in the resolver's order: the relay tries the
     * next address when the first refuses, and tells which provider a
     * connection is by where it went. */
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(443), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    struct sockaddr_in s4 = r;
    s4.sin_addr.s_addr = htonl(0x7f000043);
    struct addrinfo a3 = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM, .ai_addrlen = sizeof s4,
                          .ai_addr = (struct sockaddr *)&s4};
    struct addrinfo a2 = {.ai_family = AF_INET6, .ai_socktype = SOCK_STREAM, .ai_addrlen = sizeof s6,
                          .ai_addr = (struct sockaddr *)&s6, .ai_next = &a3};
    struct addrinfo a1 = ai;
    a1.ai_next = &a2;
    llf_targets_note("api.example-llm.test.", &a1);   /* (fully qualified: the same host) */
    CHECK(llf_target_kind((struct sockaddr *)&s6, sizeof s6) == 2 && llf_target_kind((struct sockaddr *)&s4, sizeof s4) == 2);
    struct sockaddr_storage o[4];
    CHECK(llf_targets_others((struct sockaddr *)&r, "api.example-llm.test", o, 4) == 2 &&
          llf_same_addr((struct sockaddr *)&o[0], (struct sockaddr *)&s6) &&
          llf_same_addr((struct sockaddr *)&o[1], (struct sockaddr *)&s4));
    CHECK(llf_targets_others((struct sockaddr *)&s6, NULL, o, 4) == 2 &&
          llf_same_addr((struct sockaddr *)&o[0], (struct sockaddr *)&r) &&
          llf_same_addr((struct sockaddr *)&o[1], (struct sockaddr *)&s4));
    CHECK(llf_targets_others((struct sockaddr *)&r, "127.0.0.66", o, 4) == 0);   /* an address named itself */
    CHECK(llf_targets_others((struct sockaddr *)&r, NULL, o, 1) == 1);
    CHECK(llf_targets_others((struct sockaddr *)&a, NULL, o, 4) == 0);          /* a literal's: none */
    CHECK(llf_targets_names("api.example-llm.test", 443, (struct sockaddr *)&s6));
    CHECK(llf_targets_names("API.example-llm.test.", 443, (struct sockaddr *)&r));
    CHECK(!llf_targets_names("api.example-llm.test", 444, (struct sockaddr *)&r));
    CHECK(!llf_targets_names("elsewhere.test", 443, (struct sockaddr *)&r));   /* not a provider's: never kept */
    a.sin_port = htons(18555);
    CHECK(llf_targets_names("127.0.0.1", 18555, (struct sockaddr *)&a) && llf_targets_names("localhost", 18555, (struct sockaddr *)&a));
    CHECK(!llf_targets_names("127.0.0.2", 18555, (struct sockaddr *)&a) && !llf_targets_names("127.0.0.1", 18556, (struct sockaddr *)&a));
    CHECK(llf_targets_names("[::1]", 443, (struct sockaddr *)&s6) && llf_targets_names("::1", 443, (struct sockaddr *)&s6));
    CHECK(!llf_targets_names("127.0.0.66", 443, (struct sockaddr *)&s6) && !llf_targets_names(NULL, 443, (struct sockaddr *)&s6));
    /* A later lookup adds to the earlier ones (round-robin DNS, a lookup
     * per family, a client's own cache): a connection to an address only an
     * earlier one gave still names the host, and may go on to every address
     * learnt for the name, those of the lookup that last gave it first, in
     * its order, then the others, the latest first. */
    llf_targets_note("api.example-llm.test", &a3);
    CHECK(llf_targets_names("api.example-llm.test", 443, (struct sockaddr *)&s6));
    CHECK(llf_targets_others((struct sockaddr *)&s4, "api.example-llm.test", o, 4) == 2 &&
          llf_same_addr((struct sockaddr *)&o[0], (struct sockaddr *)&r) &&
          llf_same_addr((struct sockaddr *)&o[1], (struct sockaddr *)&s6));
    CHECK(llf_targets_others((struct sockaddr *)&s6, "api.example-llm.test", o, 4) == 2 &&
          llf_same_addr((struct sockaddr *)&o[0], (struct sockaddr *)&r) &&
          llf_same_addr((struct sockaddr *)&o[1], (struct sockaddr *)&s4));
    /* An address two names share (a CDN's): with the host a request names,
     * the others are that name's; with none (a tunnel), only an address one
     * name alone gave has any, never another name's. */
    struct sockaddr_in t4 = r;
    t4.sin_addr.s_addr = htonl(0x7f000044);
    struct addrinfo b2 = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM, .ai_addrlen = sizeof t4,
                          .ai_addr = (struct sockaddr *)&t4};
    struct addrinfo b1 = a3;
    b1.ai_next = &b2;
    llf_targets_note("cdn.example-llm.test", &b1);
    CHECK(llf_targets_names("cdn.example-llm.test", 443, (struct sockaddr *)&s4) &&
          llf_targets_names("api.example-llm.test", 443, (struct sockaddr *)&s4) &&
          !llf_targets_names("cdn.example-llm.test", 443, (struct sockaddr *)&r));
    CHECK(llf_targets_others((struct sockaddr *)&s4, NULL, o, 4) == 0);
    CHECK(llf_targets_others((struct sockaddr *)&s4, "cdn.example-llm.test", o, 4) == 1 &&
          llf_same_addr((struct sockaddr *)&o[0], (struct sockaddr *)&t4));
    CHECK(llf_targets_others((struct sockaddr *)&s4, "api.example-llm.test", o, 4) == 2);
    CHECK(llf_targets_others((struct sockaddr *)&t4, NULL, o, 4) == 1 &&
          llf_same_addr((struct sockaddr *)&o[0], (struct sockaddr *)&s4));
    CHECK(llf_targets_others((struct sockaddr *)&r, NULL, o, 4) == 2);   /* (one name's alone) */
    CHECK(llf_targets_others((struct sockaddr *)&s4, "elsewhere.test", o, 4) == 0);   /* (a name that did not give it) */
    /* A name of many addresses (a large round-robin pool): its first 64
     * name it (16 did, and a call to the 17th passed through); past them
     * a lookup crowds out no other names'. */
    {
        struct sockaddr_in many[65];
        struct addrinfo chain[65];
        for (int i = 0; i < 65; i++) {
            many[i] = r;
            many[i].sin_addr.s_addr = htonl(0x7f010000u + (unsigned)i);
            chain[i] = (struct addrinfo){.ai_family = AF_INET, .ai_socktype = SOCK_STREAM,
                                         .ai_addrlen = sizeof many[i], .ai_addr = (struct sockaddr *)&many[i],
                                         .ai_next = i < 64 ? &chain[i + 1] : NULL};
        }
        llf_targets_note("api.example-llm.test", chain);
        CHECK(llf_targets_names("api.example-llm.test", 443, (struct sockaddr *)&many[16]) &&
              llf_targets_names("api.example-llm.test", 443, (struct sockaddr *)&many[63]));
        CHECK(!llf_targets_names("api.example-llm.test", 443, (struct sockaddr *)&many[64]));
        CHECK(llf_targets_names("api.example-llm.test", 443, (struct sockaddr *)&r));   /* (an earlier lookup's still) */
    }
    /* a provider name that does not resolve gets a placeholder that is a target */
    struct addrinfo *p = llf_targets_placeholder("api.example-llm.test", "443", NULL);
    CHECK(p && p->ai_family == AF_INET && llf_target_kind(p->ai_addr, p->ai_addrlen) == 2);
    freeaddrinfo(p);   /* glibc frees it like its own */
    struct addrinfo v6only = {.ai_family = AF_INET6};
    CHECK(llf_targets_placeholder("api.example-llm.test", "443", &v6only) == NULL);
    /* "is this an address literal?", "is this a port number?": a name is
     * not, and the program is told so (EAI_NONAME), placeholder or none */
    struct addrinfo numeric = {.ai_flags = AI_NUMERICHOST};
    CHECK(llf_targets_placeholder("api.example-llm.test", "443", &numeric) == NULL);
    numeric.ai_flags = AI_NUMERICSERV;
    CHECK(llf_targets_placeholder("api.example-llm.test", "https", &numeric) == NULL);
    CHECK((p = llf_targets_placeholder("api.example-llm.test", "443", &numeric)) != NULL);
    freeaddrinfo(p);
    CHECK((p = llf_targets_placeholder("api.example-llm.test", NULL, &numeric)) != NULL);
    freeaddrinfo(p);
    /* a service name is its port, as glibc's lookup would give it (not the
     * base URL's), and one that names no service gets no placeholder */
    CHECK((p = llf_targets_placeholder("api.example-llm.test", "http", NULL)) != NULL &&
          ntohs(((struct sockaddr_in *)p->ai_addr)->sin_port) == 80);
    freeaddrinfo(p);
    CHECK(llf_targets_placeholder("api.example-llm.test", "no-such-service-llf", NULL) == NULL);
    CHECK(llf_targets_placeholder("api.example-llm.test", "443x", NULL) == NULL);
    /* An IPv4 provider address reached as ::ffff:a.b.c.d (a dual-stack
     * socket: the JDK's, AI_V4MAPPED's) is the provider's; one a lookup
     * gave that way is kept as the IPv4 address it is. */
    struct sockaddr_in6 m6;
    llf_addr_map4(&r, &m6);
    CHECK(llf_target_kind((struct sockaddr *)&m6, sizeof m6) == 2);
    CHECK(llf_target_kind((struct sockaddr *)&m6, sizeof r) == 0);   /* (too short to be one) */
    a.sin_port = htons(18555);
    llf_addr_map4(&a, &m6);
    CHECK(llf_target_kind((struct sockaddr *)&m6, sizeof m6) == 1);
    struct sockaddr_in m4 = r;
    m4.sin_addr.s_addr = htonl(0x7f000045);
    llf_addr_map4(&m4, &m6);
    struct addrinfo am = {.ai_family = AF_INET6, .ai_socktype = SOCK_STREAM, .ai_addrlen = sizeof m6,
                          .ai_addr = (struct sockaddr *)&m6};
    llf_targets_note("api.example-llm.test", &am);
    CHECK(llf_target_kind((struct sockaddr *)&m4, sizeof m4) == 2);
    CHECK(llf_targets_names("api.example-llm.test", 443, (struct sockaddr *)&m4));
    size_t no = llf_targets_others((struct sockaddr *)&r, "api.example-llm.test", o, 4), kept4 = 0;
    for (size_t i = 0; i < no; i++)   /* (the relay goes there over IPv4) */
        kept4 += o[i].ss_family == AF_INET && llf_same_addr((struct sockaddr *)&o[i], (struct sockaddr *)&m4);
    CHECK(kept4 == 1);
    CHECK(llf_targets_placeholder("not-a-provider.test", "443", NULL) == NULL);
    /* A name that resolves to another address at each lookup (a CDN's):
     * every one of thousands is the provider's (a table of 256 filled, and
     * the rest passed unmanaged), IPv6 ones too, as is one reached as the
     * IPv4-mapped form of one; a socket of another family is none. */
    for (unsigned i = 0; i < 3000; i++) {
        struct sockaddr_in x = {.sin_family = AF_INET, .sin_port = htons(443)};
        struct sockaddr_in6 y = {.sin6_family = AF_INET6, .sin6_port = htons(443)};
        x.sin_addr.s_addr = htonl(0x0a000000u + i);
        y.sin6_addr.s6_addr[0] = 0x20;
        y.sin6_addr.s6_addr[14] = (unsigned char)(i >> 8);
        y.sin6_addr.s6_addr[15] = (unsigned char)i;
        struct addrinfo ay = {.ai_family = AF_INET6, .ai_socktype = SOCK_STREAM, .ai_addrlen = sizeof y,
                              .ai_addr = (struct sockaddr *)&y};
        struct addrinfo ax = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM, .ai_addrlen = sizeof x,
                              .ai_addr = (struct sockaddr *)&x};
        llf_targets_note("cdn.example-llm.test", i % 2 ? &ay : &ax);
    }
    int all = 1;
    for (unsigned i = 0; i < 3000; i++) {
        struct sockaddr_in x = {.sin_family = AF_INET, .sin_port = htons(443)};
        struct sockaddr_in6 y = {.sin6_family = AF_INET6, .sin6_port = htons(443)}, mx;
        x.sin_addr.s_addr = htonl(0x0a000000u + i);
        y.sin6_addr.s6_addr[0] = 0x20;
        y.sin6_addr.s6_addr[14] = (unsigned char)(i >> 8);
        y.sin6_addr.s6_addr[15] = (unsigned char)i;
        llf_addr_map4(&x, &mx);
        all &= i % 2 ? llf_target_kind((struct sockaddr *)&y, sizeof y) == 2 && llf_target_kind((struct sockaddr *)&x, sizeof x) == 0
                     : llf_target_kind((struct sockaddr *)&x, sizeof x) == 2 && llf_target_kind((struct sockaddr *)&mx, sizeof mx) == 2;
        x.sin_port = htons(444);
        all &= llf_target_kind((struct sockaddr *)&x, sizeof x) == 0;   /* (another port: not the base URL's) */
    }
    CHECK(all);
    struct sockaddr un = {.sa_family = AF_UNIX};
    CHECK(llf_target_kind(&un, sizeof un) == 0);
    llf_config_free(c);
}
