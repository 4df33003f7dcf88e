/* guest.h — what the library keeps of its own inside a host process.
 *
 * Descriptors: a program may close every descriptor it has (a daemon's
 * start: closerange(3, ...)), ours among them, and get the numbers back for
 * files and sockets of its own. A number of ours is acted on (closed, read,
 * written, shut down, locked) only while it still names what we opened, and
 * the look and the act are one step under the descriptor lock (hook_fd.c),
 * under which every number of ours is also made and owned (llf_fd_own):
 * no thread of ours frees or takes a number in between. The program's own
 * close and open in that window of a few instructions are not covered
 * (see hook_fd.c for why its closes do not wait). Waiting is done outside the lock (the act does
 * not wait: send and recv with MSG_DONTWAIT), then the number looked at
 * again. A wait that only watches (poll, a peek) may fall on a number that
 * is no longer ours; a look after it says so.
 *
 * Threads: signals are the program's; ours take none. A process whose
 * threads are all ours ends, as it would without them. */
#ifndef LLF_GUEST_H
#define LLF_GUEST_H

#include <sys/types.h>

#include "curlapi.h"

typedef struct llf_ownfd {
    int   fd;    /* -1: none */
    dev_t dev;
    ino_t ino;
    mode_t type;   /* st_mode & S_IFMT */
} llf_ownfd;

#define LLF_NO_FD {.fd = -1}   /* (an initializer) */

/* Remembers what fd is. 0, or -1 (o->fd = -1) when fd is not open. */
int llf_fd_own(llf_ownfd *o, int fd);
/* Does o->fd still name what it named when it was owned? */
int llf_fd_ours(const llf_ownfd *o);

/* The descriptor lock (the shim's: see hooks.h), given to the core at its
 * start, before it makes any descriptor. Until then (and in a unit test
 * that sets none) holding it does nothing. */
void llf_fd_lock_use(void (*hold)(void), void (*release)(void));
void llf_fd_hold(void);
void llf_fd_release(void);
/* o->fd closed if it is still ours, one step (see above). 0, or -1 (not
 * ours, or close()'s). */
int llf_fd_close(const llf_ownfd *o);
/* shutdown(o->fd, how) if it is still ours, one step. 0, or -1. */
int llf_fd_shutdown(const llf_ownfd *o, int how);

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
/* What fd was when llf_curl_socket made it, in *out: 0, or -1 when it is
 * no socket it made (or one closed since). */
int llf_curl_own(curl_socket_t fd, llf_ownfd *out);
/* The last socket llf_curl_socket made on this thread (-1: none since reset):
 * the relay's attempt's connection, for when its request reached the server. */
extern __thread int llf_curl_last_socket;

/* A detached thread running fn(arg) with every signal blocked, counted as
 * the library's own while it runs. 0, or -1. */
int llf_spawn(void *(*fn)(void *), void *arg);

/* A process ends when its last thread ends (glibc's start_thread calls
 * exit(0) there), and ours never end (see relay.c): llf_threads_last,
 * called by our threads now and then (a second apart at most while any
 * waits), does what glibc would, and calls exit(0) once every thread left
 * in the process is ours. The one exit() of the library: the program has
 * no thread left to end it, and would have ended here without us. Our
 * count is never above the truth, so it errs only by waiting: a thread
 * another library makes on ours (libcurl's resolver) counts as the
 * program's until it ends. Returns 0 when a thread of the program's is
 * left (or the count is not known), 1 when another of ours is ending the
 * process; does not return when it ends it. */
int llf_threads_last(void);
/* Installs the fork handler that starts a child's count at 0; before any
 * other fork handler that starts a thread of ours (the relay's), else the
 * child's count stays below the truth. 0, or -1 (then llf_threads_last
 * never ends a process). */
int llf_threads_ready(void);
/* Our threads running now (as counted). */
int llf_threads_own(void);
/* The state (3rd field) and thread count (20th) of /proc/PID/stat text.
 * 0, or -1 when it is not such text. */
int llf_proc_stat(const char *text, char *state, long *threads);

#endif
