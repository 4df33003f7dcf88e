/* relay_tunnel.h — byte tunnels (relay_tunnel.c): a connection that is no
 * HTTP the relay serves (a real TLS handshake, an upgrade to another
 * protocol, bytes it cannot read as a request) carried byte for byte to
 * where the program connected. */
#ifndef LLF_RELAY_TUNNEL_H
#define LLF_RELAY_TUNNEL_H

#include "relay_conn.h"

/* A blocking connection to a, made within ms (0: no limit of ours), owned
 * in *own, from the address from (NULL: none): its descriptor, or -1
 * (*timed_out set when the time ran out). */
int llf_relay_dial(const struct sockaddr_storage *a, long ms, int *timed_out, llf_ownfd *own,
                   const struct sockaddr_storage *from);
/* k, whose program began a real TLS handshake, carried to where it meant
 * to connect. */
void llf_relay_tunnel(conn *k);
/* k, whose request r asks to switch protocols, a tunnel from here on: over
 * plain TCP, or for a virtual TLS session over the relay's own TLS to url.
 * -1: the connection ends with the tunnel. */
int llf_relay_upgrade_plain(conn *k, const llf_http_req *r, const char *host);
int llf_relay_upgrade_tls(conn *k, const llf_http_req *r, const char *url, const char *host);
/* k's bytes, no request the relay can read, carried as they came (a
 * virtual TLS session's answered with a status instead). */
void llf_relay_not_http(conn *k);

#endif
