/* expect.h — the relay's table of announced connections: who may connect.
 *
 * The relay serves only connections our connect hook announced, by their
 * full source address (family, address, port): any local user can connect
 * to a loopback port, and read the program's port in /proc/net/tcp, but not
 * connect from an address:port the program's socket holds. The hook binds
 * and announces before it connects, so an accepted connection is either
 * announced already or not ours: nothing waits. An announcement whose
 * connect failed is withdrawn, or expires.
 *
 * As many announcements as the program has connects under way: a burst of
 * a thousand (Node's Promise.all, an epoll program's non-blocking connects)
 * is held whole; a table with room for fewer sent the rest straight to the
 * provider, without fallback or a line in the log. */
#ifndef LLF_EXPECT_H
#define LLF_EXPECT_H

#include <sys/socket.h>

#define LLF_EXPECT_TTL_MS 5000.0   /* a loopback connect is accepted in far less */
#define LLF_EXPECT_MAX 65536       /* (one per source port there can be) */

/* What an announcement says of its connection (llf_expect_add's flags). */
#define LLF_EXPECT_TLS 1       /* the program will speak TLS on it */
#define LLF_EXPECT_OWN_SRC 2   /* src's address is one the program bound its socket to */

typedef struct llf_expectation {
    int tls;                          /* the program will speak TLS on it */
    int own_src;                      /* src's address is the program's choice:
                                       * the relay's connections leave from it */
    int fd;                           /* the program's socket, by number */
    struct sockaddr_storage src;
    struct sockaddr_storage orig;     /* where it meant to go (zeroes: none) */
} llf_expectation;

/* A connection from src (the program's socket fd) will come, meant for
 * orig, at now (ms, monotonic); flags LLF_EXPECT_*.
 * The same source again (a connect() repeated) replaces its own. 0, or -1:
 * no memory, or LLF_EXPECT_MAX live ones (the caller must then not send the
 * connection to the relay). */
int llf_expect_add(int fd, const struct sockaddr *src, socklen_t srclen, const struct sockaddr *orig, socklen_t len,
                   int flags, double now);
/* Was a connection from peer announced? 1: no longer than LLF_EXPECT_TTL_MS
 * before now; 2: before that (the caller may still find the program's
 * socket behind it: a burst the relay took long to accept); 0: not. The
 * announcement is consumed, and *out is it. */
int llf_expect_take(const struct sockaddr *peer, double now, llf_expectation *out);
/* Withdraws src's announcement (its connect failed). */
void llf_expect_drop(const struct sockaddr *src);
/* Forgets every announcement (a forked child: they were the parent's). */
void llf_expect_clear(void);
/* How many are held, expired ones included until swept (for tests). */
unsigned llf_expect_held(void);

#endif
