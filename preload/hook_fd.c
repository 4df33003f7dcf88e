/* hook_fd.c — descriptors made on the library's own threads.
 *
 * Every descriptor the library makes for itself is close-on-exec, so that a
 * child the program starts (system, popen, posix_spawn, fork and exec)
 * holds none of the relay's or the shadow worker's connections, nor keeps
 * one open after the program is gone. The library's own are made with
 * SOCK_CLOEXEC or O_CLOEXEC, and libcurl's connections on the library's
 * handles through CURLOPT_OPENSOCKETFUNCTION (llf_curl_socket). Two kinds
 * of libcurl's descriptors no option reaches:
 *   - the wake-up pair of each easy handle's internal multi, made at its
 *     first transfer and kept for the handle's life: libcurl 7.88 (Debian
 *     12) makes it with socketpair(AF_UNIX, SOCK_STREAM, 0), 8.5 to 8.7
 *     with pipe(), neither close-on-exec; later ones set the flag
 *     themselves (up to 8.15 with fcntl after a pipe(): a window);
 *   - the threaded resolver's pair, one per lookup, made the same way.
 * Both are made on the thread that runs the transfer. On a thread of ours
 * (llf_own_thread: the relay's and the shadow worker's, set for good when
 * they start) socketpair() and pipe() therefore make close-on-exec
 * descriptors, in the same system call: no exec() of another thread can
 * come between the making and the flag. On every other thread, including a
 * transfer the curl path runs on the program's own handle (its descriptors
 * are the program's, as they would be without us), they pass untouched.
 *
 * Not chosen: setting FD_CLOEXEC afterwards on the descriptors that appeared
 * during our first transfer. The program's threads make descriptors
 * meanwhile (theirs would be changed) and may exec() before the flag is set;
 * and the multi's wake-up cannot be avoided, since curl_easy_perform makes
 * its multi whatever the options.
 *
 * The descriptor lock. A program may close every descriptor (closerange
 * after a daemon's fork) and get our numbers back for its own files, so
 * the library acts on a number only while it still names what it opened
 * (guest.h). Each look and act of ours, and each number we make and own,
 * holds this lock, so that no thread of ours frees or takes a number
 * between another's look and act. The program's own closes do not take
 * it: hooking close, close_range, closefrom, dup2 and dup3 to wait here
 * (tried in the seventeenth session) made unmodified programs hang: a
 * close held up by SO_LINGER held every other thread's, a library's
 * earlier fork handler waited under it, a siglongjmp out of a close left
 * it held, and the first close's dlsym raced dlopen's loader lock. So a
 * program that closes our number and takes it back within the few
 * instructions between a look of ours and its act is not covered. It is
 * recursive, so that a signal handler that writes the summary (an exec)
 * on a thread inside it, even between its lock and its count, does not
 * wait for itself; a child gets it anew, held as often as its thread held
 * it in the parent. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "atload.h"
#include "hooks.h"

__thread int llf_own_thread __attribute__((tls_model("initial-exec")));

typedef int (*socketpair_fn)(int, int, int, int[2]);
typedef int (*pipe_fn)(int[2]);
static socketpair_fn real_socketpair;
static pipe_fn real_pipe;
static pthread_once_t once = PTHREAD_ONCE_INIT;


static void resolve(void)
{
    real_socketpair = (socketpair_fn)dlsym(RTLD_NEXT, "socketpair");
    real_pipe = (pipe_fn)dlsym(RTLD_NEXT, "pipe");
}

LLF_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
    if (llf_own_thread)
        type |= SOCK_CLOEXEC;
    pthread_once(&once, resolve);
    if (real_socketpair)
        return real_socketpair(domain, type, protocol, sv);
    return (int)syscall(SYS_socketpair, domain, type, protocol, sv);
}

LLF_EXPORT int pipe(int fds[2])
{
    if (llf_own_thread)
        return pipe2(fds, O_CLOEXEC);
    pthread_once(&once, resolve);
    if (real_pipe)
        return real_pipe(fds);
    return (int)syscall(SYS_pipe2, fds, 0);
}

/* ---- the descriptor lock (see the top) ---- */

static pthread_mutex_t fds_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static __thread int fds_depth __attribute__((tls_model("initial-exec")));
static pthread_once_t fds_once = PTHREAD_ONCE_INIT;

/* (the forking thread's depth is kept: it holds the child's lock as often
 * as it held the parent's) */
static void fds_child(void)
{
    pthread_mutexattr_t at;
    pthread_mutexattr_init(&at);
    pthread_mutexattr_settype(&at, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&fds_lock, &at);
    pthread_mutexattr_destroy(&at);
    for (int i = 0; i < fds_depth; i++)
        pthread_mutex_lock(&fds_lock);
}

LLF_AT_LOAD static void fds_install(void)
{
    pthread_atfork(NULL, NULL, fds_child);
}

__attribute__((constructor)) void llf_fds_ready(void)
{
    pthread_once(&fds_once, fds_install);
}

void llf_fds_hold(void)
{
    pthread_mutex_lock(&fds_lock);
    fds_depth++;
}

void llf_fds_release(void)
{
    int e = errno;
    fds_depth--;
    pthread_mutex_unlock(&fds_lock);
    errno = e;
}
