/* targets.h — the providers' addresses: those of IP-literal and localhost
 * base URLs, resolved at load, and those the program's own getaddrinfo()
 * returned for a provider's host name. The socket hooks ask whether a
 * connect() goes to one; the relay asks which provider's a connection is,
 * and where else it may go. */
#ifndef LLF_TARGETS_H
#define LLF_TARGETS_H

#include <stddef.h>
#include <netdb.h>
#include <sys/socket.h>

#include "config.h"

/* The address a provider name that did not resolve is given (see
 * llf_targets_placeholder): 127.255.255.254, in host order. */
#define LLF_PLACEHOLDER_ADDR 0x7ffffffeu

int  llf_targets_init(const llf_config *cfg);
/* 0 (not a provider's), 1 (plain http), 2 (https). */
int  llf_target_kind(const struct sockaddr *sa, socklen_t len);
/* The program looked node up and got res: kept when node is a provider's
 * host (case and a trailing dot aside), in res's order. */
void llf_targets_note(const char *node, const struct addrinfo *res);
/* A lookup of a provider host failed: a result (one malloc block, freed by
 * freeaddrinfo) holding a placeholder address that is a target, so the
 * program's connect reaches the relay and the chain can answer. NULL when
 * node is not a provider host, hints exclude IPv4 TCP, or they ask for an
 * address literal (AI_NUMERICHOST) or a port number (AI_NUMERICSERV, and
 * service is a name): a name is neither, and the program asked to be told
 * so (EAI_NONAME). */
struct addrinfo *llf_targets_placeholder(const char *node, const char *service,
                                         const struct addrinfo *hints);
/* Is name the host of a provider reached over https? (SNI check) */
int  llf_is_tls_host(const char *name);

/* Does a URL's host and port (a name, localhost, or an address literal,
 * IPv6 in brackets or not) name sa, the address a program connected to?
 * An address literal names itself, localhost every loopback address, a
 * provider's host every address any lookup of it by the program gave. A
 * name the program never looked up names nothing. */
int  llf_targets_names(const char *host, long port, const struct sockaddr *sa);
/* The other addresses (with sa's port) of the name sa was learnt for, at
 * most max of them: where the program would have gone next had sa refused.
 * Those of the latest lookup that gave sa first, in the resolver's order,
 * then those of the name's other lookups, the latest first. The name is
 * host, the one the request names, when it gave sa (an address literal
 * has no others); else the one name that gave sa, and none when two names
 * share it (a tunnel names no host: another name's servers must not get
 * the program's bytes). */
size_t llf_targets_others(const struct sockaddr *sa, const char *host, struct sockaddr_storage *out, size_t max);

#endif
