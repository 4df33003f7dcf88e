/* gate.h — may a name or an address be a provider's? Asked by the socket
 * hooks before the core is loaded, so that a process that never comes near
 * a provider never loads it (nor libcurl with it: milliseconds, once). */
#ifndef LLF_GATE_H
#define LLF_GATE_H

#include <sys/socket.h>

#include "buf.h"

/* 1 when host (a name, or an address written as text) occurs in text as a
 * URL's host would (bounded by what may stand around a host in a URL or a
 * JSON string), with port as that URL's port (written, or its scheme's;
 * port 0, or a URL whose port cannot be told: any). text is in lower case,
 * with JSON's escaped slashes read (llf_gate_lower), host in any; a trailing dot of host, or of the
 * host in text, is ignored. Pure. */
int  llf_gate_mentions(const char *text, const char *host, long port);
void llf_gate_lower(char *text);
/* Appended to text (lower case, NUL-terminated, as llf_gate_lower leaves
 * it): each IPv6 literal of a URL written otherwise than inet_ntop writes
 * it ("[0:0::1]", "[FD00:0::1]"), in that form, and an IPv4-mapped one
 * ("[::ffff:127.0.0.1]") as its IPv4 address, which is what connect() is
 * matched by; each with its URL's scheme and port. 0, or -1 on no memory.
 * Pure. */
int  llf_gate_v6_forms(llf_buf *text);

/* 1 maybe (load the core and ask it), 0 surely not: node (with the port
 * service names, if it names one) is mentioned in no base URL (the built-in
 * ones, $LLMFALLBACK_CONFIG's text). A config that cannot be read says
 * maybe to everything (the core then says why). localhost and address
 * literals are never a lookup's to decide: llf_gate_addr decides at
 * connect. */
int llf_gate_name(const char *node, const char *service);
/* The same for an address and its port: its text form mentioned, or
 * "localhost" for a loopback address. */
int llf_gate_addr(const struct sockaddr *sa, socklen_t len);

#endif
