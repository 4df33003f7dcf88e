/* trust.h — the program's own trust for its provider on the TLS path.
 *
 * A virtual TLS session's handshake never reaches the provider: the relay
 * speaks TLS to it. The program's own request (the original attempt) is
 * made there as the program would have made it: verified with its trust
 * store, verify mode and verify parameters (SSL_VERIFY_NONE: no
 * verification, nor a host name check), under its protocol versions and
 * ciphers, showing its client certificate (trust.c says what exactly).
 * Members keep the library's own trust and settings, and no certificate.
 *
 * The hooks keep a session's trust from its handshake until the session
 * ends, filed under the source address of its connection to the relay (what
 * the relay knows a connection by, see relay_expect). Only in the process
 * that made it: a forked child that takes a connection over uses the
 * library's trust. */
#ifndef LLF_TRUST_H
#define LLF_TRUST_H

#include <openssl/ssl.h>

#include "curlapi.h"

/* The handshake of s on fd made it virtual: keep its trust. */
void llf_trust_keep(const SSL *s, int fd);
/* The program was shown the peer of s (hook_ssl.c's probe): its own
 * requests then go only to a server with that public key (pin:
 * CURLOPT_PINNEDPUBLICKEY's "sha256//BASE64"). The first pin holds. */
void llf_trust_pin(const SSL *s, const char *pin);
/* s is no virtual session any more. */
void llf_trust_forget(const SSL *s);

/* For the relay (see core.h's llf_shim_services): the options of an
 * attempt on h for the program's own request on the connection from src
 * (h shares its connections only with transfers under the same trust).
 * Returns what tls_trust_done releases after the transfer, or NULL: no
 * trust of the program's known (the library's own applies). */
void *llf_trust_set(const llf_curl_api *c, CURL *h, const struct sockaddr *src);
void llf_trust_done(void *trust);

#endif
