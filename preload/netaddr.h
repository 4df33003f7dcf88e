/* netaddr.h — socket addresses compared, for the shim (is this fd still the
 * relay's?) and the core (announced sources, provider addresses) alike. */
#ifndef LLF_NETADDR_H
#define LLF_NETADDR_H

#include <sys/socket.h>

/* Same address and port (IPv4 or IPv6; anything else differs). An
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address it maps:
 * a dual-stack socket (the JDK's, one given AI_V4MAPPED results) reaches
 * an IPv4 host by it, and the other end sees that host's IPv4 address. */
int llf_same_addr(const struct sockaddr *a, const struct sockaddr *b);
/* Same address, whatever the ports (an IPv6 one in the same scope; an
 * IPv4-mapped one is the IPv4 address it maps): where connections bound to
 * either leave from. */
int llf_same_host(const struct sockaddr *a, const struct sockaddr *b);
/* sa (IPv4, or IPv6 of at least len sizeof(struct sockaddr_in6)) as an
 * IPv4 address and port: 1 with *out, or 0 (not IPv4, nor IPv4-mapped). */
int llf_addr_v4(const struct sockaddr *sa, socklen_t len, struct sockaddr_in *out);
/* The IPv4 address v4 as an IPv4-mapped IPv6 one, with its port. */
void llf_addr_map4(const struct sockaddr_in *v4, struct sockaddr_in6 *out);
/* localhost, or an IPv4 or IPv6 address written as text (no brackets): a
 * host that needs no DNS. */
int llf_local_name(const char *host);
/* Is a a loopback address (127/8, ::1, an IPv4-mapped 127/8)? */
int llf_addr_loopback(const struct sockaddr *a);
/* Where a connection to dst made for a program whose socket is bound to
 * src leaves from: src's address, port 0, in *out (an IPv4-mapped one as
 * IPv4), 0. -1: from where the system picks, since src cannot reach dst
 * (a loopback address, dst not; another family than dst's), or src is
 * neither IPv4 nor IPv6. */
int llf_addr_source(const struct sockaddr_storage *src, const struct sockaddr *dst, struct sockaddr_storage *out,
                    socklen_t *len);
/* Bytes written to socket fd that its peer has not acknowledged yet
 * (SIOCOUTQ): a request libcurl handed over whole may still be on its way
 * to a server that reads it slowly. 0 when unknown. */
long llf_unsent(int fd);

/* Has a request's body reached the server whole? All of a known size
 * (total > 0) handed over, or of a chunked one no more since the last look
 * (before), and none of it still in fd's send queue. */
int llf_upload_done(int fd, long long total, long long sent, long long before);

#endif
