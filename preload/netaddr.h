/* netaddr.h — socket addresses compared, for the shim (is this fd still the
 * relay's?) and the core (announced sources, provider addresses) alike. */
#ifndef LLF_NETADDR_H
#define LLF_NETADDR_H

#include <sys/socket.h>

/* Same family, address and port (IPv4 or IPv6; anything else differs). */
int llf_same_addr(const struct sockaddr *a, const struct sockaddr *b);
/* localhost, or an IPv4 or IPv6 address written as text (no brackets): a
 * host that needs no DNS. */
int llf_local_name(const char *host);
/* Bytes written to socket fd that its peer has not acknowledged yet
 * (SIOCOUTQ): a request libcurl handed over whole may still be on its way
 * to a server that reads it slowly. 0 when unknown. */
long llf_unsent(int fd);

/* Has a request's body reached the server whole? All of a known size
 * (total > 0) handed over, or of a chunked one no more since the last look
 * (before), and none of it still in fd's send queue. */
int llf_upload_done(int fd, long long total, long long sent, long long before);

#endif
