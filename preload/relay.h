/* relay.h — the in-process HTTP/1.1 relay that serves connections the
 * socket hooks redirected to it, running the engine for LLM calls and
 * passing everything else through. It reads requests with http1.h. */
#ifndef LLF_RELAY_H
#define LLF_RELAY_H

#include <stddef.h>
#include <netdb.h>
#include <sys/socket.h>

#include "buf.h"
#include "http1.h"
#include "core.h"
#include "engine.h"
#include "targets.h"

int  llf_relay_init(llf_engine *e, const llf_shim_services *svc);
int  llf_relay_addr(int family, struct sockaddr_storage *out, socklen_t *len);
/* A connection from src (the program's socket fd, bound before it
 * connects) will come, meant for orig; flags (expect.h): the program will
 * speak TLS on it (virtual or tunnelled), src's address is the one the
 * program bound its socket to. Only announced connections are served. -1: no
 * room, or the process is too short of descriptors for the relay to serve
 * one more (the caller must not send the connection to the relay). unexpect
 * withdraws an announcement whose connect failed. */
int  llf_relay_expect(int fd, const struct sockaddr *src, socklen_t srclen, const struct sockaddr *orig,
                      socklen_t len, int flags);
/* Would the relay take a connection on the program's socket fd (the
 * descriptors llf_relay_expect counts)? 0, or -1: the caller should leave
 * the socket as it is, unbound, and connect it where the program asked. */
int  llf_relay_room(int fd);
/* Would one more connection at descriptor fd, with held others announced
 * and not yet accepted and live ones accepted and not yet ended, leave the
 * relay short of descriptors under a limit of lim? (pure) */
int  llf_relay_fds_short(long fd, unsigned held, unsigned live, long lim);
void llf_relay_unexpect(const struct sockaddr *src);

#endif
