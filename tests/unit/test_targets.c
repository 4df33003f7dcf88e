/* Provider addresses: learnt from lookups, tried in order, matched to hosts (targets.c). */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>

#include "netaddr.h"
#include "config.h"
#include "targets.h"
#include "t.h"

void test_targets(void)
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
