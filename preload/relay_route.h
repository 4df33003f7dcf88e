/* relay_route.h — where the relay's connections for a program's connection
 * go, and where they leave from (relay_route.c): the address the program
 * connected to, then, when that refuses, the others its lookup of the name
 * gave, as its own connect() would have gone on (llf_relay_reach); and the
 * address the program bound its socket to, for the relay's sockets and
 * libcurl's. For the program's own request (relay_serve.c), a tunnel
 * (relay_tunnel.c) and the choice of a handle (relay.c). */
#ifndef LLF_RELAY_ROUTE_H
#define LLF_RELAY_ROUTE_H

#include "relay_conn.h"

/* How one try at an address ended (see llf_relay_reach). */
enum { REACHED, REFUSED, FAILED };

/* One try at address a, within left ms of the connect limit (0: none),
 * spent ms after the first try began: REACHED (connected, whatever came
 * after), REFUSED (nothing went: the next address may be tried), or
 * FAILED (timed out connecting, or what went cannot go again). */
typedef int (*reach_try)(void *ud, const struct sockaddr_storage *a, long left, double spent);

/* The length of a's kind of address. */
socklen_t llf_relay_addr_len(const struct sockaddr_storage *a);
/* An address as a URL authority ("[::1]:443"). */
int llf_relay_authority(const struct sockaddr_storage *a, char *out, size_t n);
/* CURLOPT_CONNECT_TO for the program's own request, at address a: 0, or
 * -1 (none for the placeholder of a name that did not resolve). */
int llf_relay_connect_to_line(const struct sockaddr_storage *a, char *out, size_t n);
/* The address the program bound k's socket to, or NULL. */
const struct sockaddr_storage *llf_relay_chosen_src(const conn *k);
/* fd, about to connect to dst, bound to the address of src: 0, or -1. */
int llf_relay_bind_source(int fd, const struct sockaddr_storage *src, const struct sockaddr *dst);
/* The relay's connections for k, on h, leave from where the program's
 * would have. */
void llf_relay_leave_from(conn *k, CURL *h);
/* Do the relay's connections for a and b leave from one address? */
int llf_relay_same_source(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
/* What is left of limit (0: none), ms after it began; *none set when
 * nothing is. */
long llf_relay_left_of(long limit, double spent, int *none);
/* Where the program meant to go, and after a refusal the next addresses of
 * its name, each tried by fn, within one connect limit: 0 reached, -1 not. */
int llf_relay_reach(conn *k, const char *host, long limit, reach_try fn, void *ud);

#endif
