/* The relay's table of announced connections (expect.c): a burst of
 * connects larger than any fixed table is held whole, each consumed once,
 * expired ones neither served nor kept. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "expect.h"
#include "netaddr.h"
#include "t.h"

static struct sockaddr_in src(int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

void test_expect(void)
{
    llf_expect_clear();
    struct sockaddr_in prov = src(443);
    /* 2,000 connects under way at once (a Promise.all of as many calls) */
    int added = 0;
    for (int p = 20000; p < 22000; p++) {
        struct sockaddr_in s = src(p);
        added += llf_expect_add(7, (struct sockaddr *)&s, sizeof s, (struct sockaddr *)&prov, sizeof prov, p & 1,
                                1000.0) == 0;
    }
    CHECK(added == 2000);
    CHECK(llf_expect_held() == 2000);
    int taken = 0, right = 1;
    for (int p = 21999; p >= 20000; p--) {
        struct sockaddr_in s = src(p);
        llf_expectation e;
        if (llf_expect_take((struct sockaddr *)&s, 1500.0, &e) == 1) {
            taken++;
            right &= e.tls == (p & 1) && ((struct sockaddr_in *)&e.src)->sin_port == htons((unsigned short)p) &&
                     ((struct sockaddr_in *)&e.orig)->sin_port == htons(443);
        }
    }
    CHECK(taken == 2000 && right);
    CHECK(llf_expect_held() == 0);

    /* consumed once; another address or port is not announced */
    struct sockaddr_in a = src(30000), b = src(30001), other = src(30000);
    other.sin_addr.s_addr = htonl(0x7f000002);
    llf_expectation e;
    CHECK(llf_expect_add(7, (struct sockaddr *)&a, sizeof a, (struct sockaddr *)&prov, sizeof prov, 0, 0) == 0);
    CHECK(!llf_expect_take((struct sockaddr *)&b, 1, &e));
    CHECK(!llf_expect_take((struct sockaddr *)&other, 1, &e));
    CHECK(llf_expect_take((struct sockaddr *)&a, 1, &e));
    CHECK(!llf_expect_take((struct sockaddr *)&a, 1, &e));

    /* the same source again replaces its own; a withdrawn one is gone */
    CHECK(llf_expect_add(7, (struct sockaddr *)&a, sizeof a, (struct sockaddr *)&prov, sizeof prov, 0, 0) == 0);
    CHECK(llf_expect_add(7, (struct sockaddr *)&a, sizeof a, (struct sockaddr *)&prov, sizeof prov, 1, 10) == 0);
    CHECK(llf_expect_held() == 1);
    CHECK(llf_expect_take((struct sockaddr *)&a, 11, &e) && e.tls == 1);
    CHECK(llf_expect_add(7, (struct sockaddr *)&b, sizeof b, (struct sockaddr *)&prov, sizeof prov, 0, 0) == 0);
    llf_expect_drop((struct sockaddr *)&b);
    CHECK(!llf_expect_take((struct sockaddr *)&b, 1, &e) && llf_expect_held() == 0);

    /* A dual-stack socket's source (::ffff:127.0.0.1, as its connect to the
     * relay's IPv4 side makes it) is the IPv4 source the relay sees */
    struct sockaddr_in6 m6;
    llf_addr_map4(&a, &m6);
    CHECK(llf_same_addr((struct sockaddr *)&m6, (struct sockaddr *)&a) && !llf_same_addr((struct sockaddr *)&m6, (struct sockaddr *)&b));
    CHECK(llf_expect_add(7, (struct sockaddr *)&m6, sizeof m6, (struct sockaddr *)&prov, sizeof prov, 0, 0) == 0);
    CHECK(llf_expect_take((struct sockaddr *)&a, 1, &e) == 1 && llf_expect_held() == 0);
    CHECK(llf_expect_add(7, (struct sockaddr *)&m6, sizeof m6, (struct sockaddr *)&prov, sizeof prov, 0, 0) == 0);
    llf_expect_drop((struct sockaddr *)&a);
    CHECK(llf_expect_held() == 0);
    struct sockaddr_in6 lo6 = {.sin6_family = AF_INET6, .sin6_port = a.sin_port, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    CHECK(!llf_same_addr((struct sockaddr *)&lo6, (struct sockaddr *)&a) && !llf_same_addr((struct sockaddr *)&lo6, (struct sockaddr *)&m6));
    struct sockaddr_in back;
    CHECK(llf_addr_v4((struct sockaddr *)&m6, sizeof m6, &back) && llf_same_addr((struct sockaddr *)&back, (struct sockaddr *)&a));
    CHECK(!llf_addr_v4((struct sockaddr *)&lo6, sizeof lo6, &back) && !llf_addr_v4((struct sockaddr *)&m6, sizeof a, &back));

    /* an expired announcement is told apart, with the socket it named (the
     * relay then looks whether that socket still holds the source) */
    CHECK(llf_expect_add(9, (struct sockaddr *)&a, sizeof a, (struct sockaddr *)&prov, sizeof prov, 0, 0) == 0);
    CHECK(llf_expect_take((struct sockaddr *)&a, LLF_EXPECT_TTL_MS + 1, &e) == 2 && e.fd == 9);
    CHECK(!llf_expect_take((struct sockaddr *)&a, LLF_EXPECT_TTL_MS + 1, &e));

    /* expired ones are swept as the table grows: a long-lived program whose
     * connects failed unseen does not keep them all */
    for (int round = 0; round < 20; round++)
        for (int p = 0; p < 300; p++) {
            struct sockaddr_in s = src(40000 + round * 300 + p);
            llf_expect_add(7, (struct sockaddr *)&s, sizeof s, (struct sockaddr *)&prov, sizeof prov, 0,
                           round * (LLF_EXPECT_TTL_MS + 1));
        }
    CHECK(llf_expect_held() < 1000);

    /* IPv6, and a family that is not IP */
    struct sockaddr_in6 v6;
    memset(&v6, 0, sizeof v6);
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(30000);
    v6.sin6_addr = in6addr_loopback;
    CHECK(llf_expect_add(7, (struct sockaddr *)&v6, sizeof v6, (struct sockaddr *)&prov, sizeof prov, 1, 0) == 0);
    CHECK(!llf_expect_take((struct sockaddr *)&a, 1, &e));   /* (127.0.0.1:30000 is another address) */
    CHECK(llf_expect_take((struct sockaddr *)&v6, 1, &e) && e.tls && !e.own_src);
    CHECK(llf_expect_add(7, (struct sockaddr *)&v6, sizeof v6, (struct sockaddr *)&prov, sizeof prov,
                         LLF_EXPECT_OWN_SRC, 0) == 0);
    CHECK(llf_expect_take((struct sockaddr *)&v6, 1, &e) && !e.tls && e.own_src);
    struct sockaddr un = {.sa_family = AF_UNIX};
    CHECK(llf_expect_add(7, &un, sizeof un, (struct sockaddr *)&prov, sizeof prov, 0, 0) == -1);
    llf_expect_clear();
    CHECK(llf_expect_held() == 0);
}

/* Where the relay's connections for a program that bound its socket leave
 * from: its address, port 0 (an IPv4-mapped one as IPv4), unless it is a
 * loopback address and the destination is not. */
void test_source_addr(void)
{
    struct sockaddr_in lo2 = src(5000), other = src(5001), m4;
    lo2.sin_addr.s_addr = htonl(0x7f000002);
    other.sin_addr.s_addr = htonl(0xc0000202);   /* 192.0.2.2 */
    struct sockaddr_in6 m6, lo6 = {.sin6_family = AF_INET6, .sin6_port = htons(5), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    struct sockaddr_in6 g6 = lo6;
    CHECK(inet_pton(AF_INET6, "2001:db8::7", &g6.sin6_addr) == 1);
    llf_addr_map4(&other, &m6);
    CHECK(llf_addr_loopback((struct sockaddr *)&lo2) && !llf_addr_loopback((struct sockaddr *)&other));
    CHECK(llf_addr_loopback((struct sockaddr *)&lo6) && !llf_addr_loopback((struct sockaddr *)&g6) &&
          !llf_addr_loopback((struct sockaddr *)&m6));
    llf_addr_map4(&lo2, &m6);
    CHECK(llf_addr_loopback((struct sockaddr *)&m6));

    struct sockaddr_storage in, out;
    socklen_t n = 0;
    struct sockaddr_in lo = src(80), far4 = src(80);
    far4.sin_addr.s_addr = htonl(0xc0000209);   /* 192.0.2.9 */
    struct sockaddr_in6 far6 = g6;
    CHECK(inet_pton(AF_INET6, "2001:db8::9", &far6.sin6_addr) == 1);
    struct sockaddr *to_lo = (struct sockaddr *)&lo, *to_far = (struct sockaddr *)&far4;
    struct sockaddr *to_far6 = (struct sockaddr *)&far6;
    memset(&in, 0, sizeof in);
    memcpy(&in, &lo2, sizeof lo2);
    CHECK(llf_addr_source(&in, to_far, &out, &n) == -1);   /* loopback cannot reach another host */
    CHECK(llf_addr_source(&in, to_lo, &out, &n) == 0 && n == sizeof lo2 && out.ss_family == AF_INET &&
          ((struct sockaddr_in *)&out)->sin_port == 0 &&
          ((struct sockaddr_in *)&out)->sin_addr.s_addr == lo2.sin_addr.s_addr);
    memcpy(&in, &other, sizeof other);
    CHECK(llf_addr_source(&in, to_far, &out, &n) == 0 && llf_addr_source(&in, to_lo, &out, &n) == 0);
    CHECK(llf_addr_source(&in, to_far6, &out, &n) == -1);   /* nor one family the other */
    llf_addr_map4(&other, &m6);
    memset(&in, 0, sizeof in);
    memcpy(&in, &m6, sizeof m6);
    CHECK(llf_addr_source(&in, to_far, &out, &n) == 0 && n == sizeof m4 && out.ss_family == AF_INET &&
          ((struct sockaddr_in *)&out)->sin_addr.s_addr == other.sin_addr.s_addr);
    memcpy(&in, &g6, sizeof g6);
    CHECK(llf_addr_source(&in, to_far6, &out, &n) == 0 && n == sizeof g6 && out.ss_family == AF_INET6 &&
          ((struct sockaddr_in6 *)&out)->sin6_port == 0);
    CHECK(llf_addr_source(&in, to_far, &out, &n) == -1);
    in.ss_family = AF_UNIX;
    CHECK(llf_addr_source(&in, to_lo, &out, &n) == -1);

    /* one source, whatever the port (a handle's connections: see relay.c) */
    struct sockaddr_in lo2b = lo2;
    lo2b.sin_port = htons(6000);
    llf_addr_map4(&lo2b, &m6);
    CHECK(llf_same_host((struct sockaddr *)&lo2, (struct sockaddr *)&lo2b) &&
          !llf_same_addr((struct sockaddr *)&lo2, (struct sockaddr *)&lo2b));
    CHECK(llf_same_host((struct sockaddr *)&lo2, (struct sockaddr *)&m6) &&
          llf_same_host((struct sockaddr *)&m6, (struct sockaddr *)&lo2));
    CHECK(!llf_same_host((struct sockaddr *)&lo2, (struct sockaddr *)&other) &&
          !llf_same_host((struct sockaddr *)&lo2, (struct sockaddr *)&lo6));
    struct sockaddr_in6 ll = {.sin6_family = AF_INET6, .sin6_port = htons(7), .sin6_scope_id = 1}, ll2;
    CHECK(inet_pton(AF_INET6, "fe80::7", &ll.sin6_addr) == 1);
    ll2 = ll;
    ll2.sin6_port = htons(8);
    CHECK(llf_same_host((struct sockaddr *)&ll, (struct sockaddr *)&ll2));
    ll2.sin6_scope_id = 2;   /* (another link) */
    CHECK(!llf_same_host((struct sockaddr *)&ll, (struct sockaddr *)&ll2));
    CHECK(!llf_same_host((struct sockaddr *)&in, (struct sockaddr *)&in));   /* (AF_UNIX) */
}
