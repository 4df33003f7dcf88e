/* The relay's own arithmetic and choices, without a connection. */
#include "buf.h"
#include "relay.h"
#include "t.h"

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
    /* what is not passed on: hop-by-hop and framing headers, h2c's settings with its upgrade */
    CHECK(llf_header_hop("Connection: Upgrade, HTTP2-Settings") && llf_header_hop("upgrade: h2c") &&
          llf_header_hop("HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA") && llf_header_hop("Content-Length: 3") &&
          llf_header_hop("TE: trailers") && !llf_header_hop("Content-Type: application/json") &&
          !llf_header_hop("Authorization: Bearer x") && !llf_header_hop("Tea: earl grey"));
}
