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
 * (guest.h). The look and the act must be one step: a number can become
 * another's only by being closed first (an open number is never given
 * out), and we close ours only in our own acts, so the program's ways of
 * closing a number (close, close_range, closefrom, and dup2 and dup3 onto
 * it) wait here while the library holds the lock, and each look and act
 * of ours holds it. Taking a number needs no lock then. Idle (the core
 * never loaded: nothing of ours to close) these hooks are one load and a
 * call; armed at the core's start (llf_fds_hold's first call), each takes
 * the lock around the real call. A thread's own depth lets a close inside
 * our act (or a signal handler on a thread already inside a hooked close)
 * through without taking it again, so a handler never waits for its own
 * thread; one that interrupts the lock's taking itself may close
 * unguarded, a risk taken rather than a deadlock. fork() takes it last of
 * every lock of ours (its handlers are installed first, as the shim
 * loads), so that a child, whose first handlers may close, never finds it
 * held by a thread it does not have; the child's is made anew. A close
 * already past the idle look when the core arms the lock is not waited
 * for: the core makes no descriptor before it arms, so only a thread
 * stopped those few instructions for the whole of the core's start could
 * close one. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hooks.h"

__thread int llf_own_thread __attribute__((tls_model("initial-exec")));

typedef int (*socketpair_fn)(int, int, int, int[2]);
typedef int (*pipe_fn)(int[2]);
static socketpair_fn real_socketpair;
static pipe_fn real_pipe;
static pthread_once_t once = PTHREAD_ONCE_INIT;

typedef int (*close_fn)(int);
typedef int (*close_range_fn)(unsigned, unsigned, int);
typedef void (*closefrom_fn)(int);
typedef int (*dup2_fn)(int, int);
typedef int (*dup3_fn)(int, int, int);
static close_fn real_close;
static close_range_fn real_close_range;
static closefrom_fn real_closefrom;
static dup2_fn real_dup2;
static dup3_fn real_dup3;

static void resolve(void)
{
    real_socketpair = (socketpair_fn)dlsym(RTLD_NEXT, "socketpair");
    real_pipe = (pipe_fn)dlsym(RTLD_NEXT, "pipe");
    real_close = (close_fn)dlsym(RTLD_NEXT, "close");
    real_close_range = (close_range_fn)dlsym(RTLD_NEXT, "close_range");
    real_closefrom = (closefrom_fn)dlsym(RTLD_NEXT, "closefrom");
    real_dup2 = (dup2_fn)dlsym(RTLD_NEXT, "dup2");
    real_dup3 = (dup3_fn)dlsym(RTLD_NEXT, "dup3");
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

static pthread_mutex_t fds_lock = PTHREAD_MUTEX_INITIALIZER;
static int fds_armed;
static __thread int fds_depth __attribute__((tls_model("initial-exec")));
static pthread_once_t fds_once = PTHREAD_ONCE_INIT;

static __thread int fds_forking __attribute__((tls_model("initial-exec")));

static void fds_prepare(void)
{
    if ((fds_forking = __atomic_load_n(&fds_armed, __ATOMIC_ACQUIRE)))
        llf_fds_hold();
}

static void fds_parent(void)
{
    if (fds_forking)
        llf_fds_release();
    fds_forking = 0;
}

static void fds_child(void)
{
    pthread_mutex_init(&fds_lock, NULL);
    fds_depth -= fds_forking;
    fds_forking = 0;
    if (fds_depth)   /* (forked from a handler inside a hooked close: its release comes) */
        pthread_mutex_lock(&fds_lock);
}

static void fds_install(void)
{
    pthread_atfork(fds_prepare, fds_parent, fds_child);
}

/* (before any fork handler of ours, and of the program's, most likely) */
__attribute__((constructor)) void llf_fds_ready(void)
{
    pthread_once(&fds_once, fds_install);
}

void llf_fds_hold(void)
{
    if (!__atomic_load_n(&fds_armed, __ATOMIC_ACQUIRE)) {
        /* (the real functions resolved now, not under the lock: dlsym
         * takes the loader's, which a thread in dlopen holds while a
         * constructor may close a descriptor) */
        pthread_once(&once, resolve);
        llf_fds_ready();
        __atomic_store_n(&fds_armed, 1, __ATOMIC_SEQ_CST);
    }
    if (fds_depth++ == 0)   /* (counted first: see the top) */
        pthread_mutex_lock(&fds_lock);
}

void llf_fds_release(void)
{
    int e = errno;
    if (--fds_depth == 0)
        pthread_mutex_unlock(&fds_lock);
    errno = e;
}

/* Does a hooked close take the lock? Resolves the real functions first. */
static int fds_guard(void)
{
    pthread_once(&once, resolve);
    return __atomic_load_n(&fds_armed, __ATOMIC_ACQUIRE) && !fds_depth;
}

static int close_now(int fd)
{
    return real_close ? real_close(fd) : (int)syscall(SYS_close, fd);
}

static int close_range_now(unsigned first, unsigned last, int flags)
{
    return real_close_range ? real_close_range(first, last, flags)
                            : (int)syscall(SYS_close_range, first, last, flags);
}

static void closefrom_now(int first)
{
    if (real_closefrom)
        real_closefrom(first);
    else
        close_range_now((unsigned)first, ~0U, 0);
}

static int dup3_now(int old, int fd, int flags)
{
    return real_dup3 ? real_dup3(old, fd, flags) : (int)syscall(SYS_dup3, old, fd, flags);
}

static int dup2_now(int old, int fd)
{
    if (real_dup2)
        return real_dup2(old, fd);
    if (old == fd)   /* (dup3 refuses it; dup2 says whether old is open) */
        return fcntl(old, F_GETFD) < 0 ? -1 : fd;
    return dup3_now(old, fd, 0);
}

/* call, under the lock while it is armed and not already held here */
#define GUARDED(call)                 \
    do {                              \
        int held_ = fds_guard();      \
        if (held_)                    \
            llf_fds_hold();           \
        call;                         \
        if (held_)                    \
            llf_fds_release();        \
    } while (0)

LLF_EXPORT int close(int fd)
{
    int rc;
    GUARDED(rc = close_now(fd));
    return rc;
}

LLF_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    int rc;
    GUARDED(rc = close_range_now(first, last, flags));
    return rc;
}

LLF_EXPORT void closefrom(int first)
{
    GUARDED(closefrom_now(first));
}

/* (replacing a number closes what it named) */
LLF_EXPORT int dup2(int old, int fd)
{
    int rc;
    GUARDED(rc = dup2_now(old, fd));
    return rc;
}

LLF_EXPORT int dup3(int old, int fd, int flags)
{
    int rc;
    GUARDED(rc = dup3_now(old, fd, flags));
    return rc;
}
