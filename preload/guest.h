/* guest.h — what the library keeps of its own inside a host process.
 *
 * Descriptors: a program may close every descriptor it has (a daemon's
 * start: closerange(3, ...)), ours among them, and get the numbers back for
 * files and sockets of its own. A number of ours is acted on (closed, read,
 * written, polled, locked) only while it still names what we opened.
 *
 * Threads: signals are the program's; ours take none. */
#ifndef LLF_GUEST_H
#define LLF_GUEST_H

#include <sys/types.h>

#include "curlapi.h"

typedef struct llf_ownfd {
    int   fd;    /* -1: none */
    dev_t dev;
    ino_t ino;
} llf_ownfd;

#define LLF_NO_FD {.fd = -1}   /* (an initializer) */

/* Remembers what fd is. 0, or -1 (o->fd = -1) when fd is not open. */
int llf_fd_own(llf_ownfd *o, int fd);
/* Does o->fd still name what it named when it was owned? */
int llf_fd_ours(const llf_ownfd *o);

/* CURLOPT_OPENSOCKETFUNCTION for the library's own handles: the socket
 * libcurl asks for, close-on-exec as it is made (a child the program starts
 * must not hold our connections; see hook_fd.c for libcurl's other
 * descriptors). */
curl_socket_t llf_curl_socket(void *unused, curlsocktype purpose, struct curl_sockaddr *a);
/* CURLOPT_CLOSESOCKETFUNCTION beside it: closes a socket llf_curl_socket
 * made only while its number still names it (the program may have closed
 * every descriptor and taken the number since); never another. 0, or
 * close()'s -1. */
int llf_curl_close(void *unused, curl_socket_t fd);
/* The last socket llf_curl_socket made on this thread (-1: none since reset):
 * the relay's attempt's connection, for when its request reached the server. */
extern __thread int llf_curl_last_socket;

/* A detached thread running fn(arg) with every signal blocked. 0, or -1. */
int llf_spawn(void *(*fn)(void *), void *arg);

#endif
