/* lineout.c — a line of ours on a descriptor we do not read (see lineout.h). */
#include "lineout.h"
#include "atload.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

static llf_ownfd at_load = LLF_NO_FD;
static int noted;   /* 0: not known (fd 2 is taken as it is) */

LLF_AT_LOAD void llf_stderr_note(void)
{
    struct stat st;
    if (fstat(2, &st) == 0)
        at_load = (llf_ownfd){.fd = 2, .dev = st.st_dev, .ino = st.st_ino, .type = st.st_mode & S_IFMT};
    noted = 1;
}

const llf_ownfd *llf_stderr_at_load(void)
{
    return noted ? &at_load : NULL;
}

void llf_stderr_use(const llf_ownfd *o)
{
    at_load = o ? *o : (llf_ownfd)LLF_NO_FD;
    noted = o != NULL;
}

int llf_stderr_fd(mode_t *type)
{
    struct stat st;
    if ((noted && at_load.fd < 0) || fstat(2, &st))
        return -1;
    if (noted && (st.st_dev != at_load.dev || st.st_ino != at_load.ino))
        return -1;   /* the program's own file or socket now */
    *type = st.st_mode & S_IFMT;
    return 2;
}

int llf_pipe_room(size_t n, long unread, long capacity)
{
    /* A pipe is a ring of pages, each write's last partly filled, so the
     * bytes unread do not say how many are taken: only an empty pipe is
     * known to take capacity bytes. */
    return unread == 0 && capacity > 0 && (long long)n <= capacity;
}

/* Would a write of n bytes go in now, whole? Asked of anything that is not
 * a regular file. A line up to PIPE_BUF goes whole into a pipe that polls
 * writable (a page is free); a longer one only into an empty pipe. */
static int takes_now(int fd, mode_t type, size_t n)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int r;
    do
        r = poll(&p, 1, 0);
    while (r < 0 && errno == EINTR);
    if (r != 1 || !(p.revents & POLLOUT))
        return 0;
    if (!S_ISFIFO(type) || n <= PIPE_BUF)
        return 1;
    int unread;
    long capacity = fcntl(fd, F_GETPIPE_SZ);
    return ioctl(fd, FIONREAD, &unread) == 0 && llf_pipe_room(n, unread, capacity);
}

/* (a socket: send() does not wait, whatever the program made its socket) */
static ssize_t put(int fd, mode_t type, const char *p, size_t n)
{
    ssize_t w;
    do
        w = S_ISSOCK(type) ? send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL) : write(fd, p, n);
    while (w < 0 && errno == EINTR);
    return w;
}

/* A log or stderr whose reader has left (a pipe into `head`, a FIFO)
 * raises SIGPIPE, which ends a program that does not ignore it, on a line
 * of ours. Blocked in this thread for the write; one the write raised is
 * taken back, one already pending is left (as curl's sigpipe.h does). */
static ssize_t put_quiet(int fd, mode_t type, const char *p, size_t n)
{
    sigset_t pipe_only, old, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    int blocked = pthread_sigmask(SIG_BLOCK, &pipe_only, &old) == 0;
    int was = blocked && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
    ssize_t w = put(fd, type, p, n);
    if (blocked && w < 0 && errno == EPIPE && !was) {
        const struct timespec now = {0, 0};
        sigtimedwait(&pipe_only, NULL, &now);
    }
    if (blocked)
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    return w;
}

/* A terminal the program's descriptor blocks on (its stderr, a pty whose
 * reader has stopped reading) is written through a descriptor of our own
 * on it that does not block: poll() calls a terminal writable at any room
 * at all, which a long line may not fit, and one write() would then hold
 * this thread (the relay's, say) for ever. Opened by /proc, open(2)'s
 * reopening of the same terminal; -1 when there is none to be had (then
 * the program's own is written, as any other). Not a pty's master, which
 * opened again is another pty. (No snprintf: the summary may be written
 * from a signal handler.) */
static int tty_own(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    struct stat st, own_st;
    if (fl < 0 || (fl & O_NONBLOCK) || !isatty(fd) || fstat(fd, &st) || st.st_rdev == makedev(5, 2))
        return -1;
    char path[32] = "/proc/self/fd/", digits[12];
    size_t n = 0, at = strlen(path);
    for (unsigned v = (unsigned)fd; n == 0 || v; v /= 10)
        digits[n++] = (char)('0' + v % 10);
    while (n)
        path[at++] = digits[--n];
    path[at] = 0;
    int own = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (own >= 0 && (fstat(own, &own_st) || own_st.st_rdev != st.st_rdev)) {
        close(own);
        own = -1;
    }
    return own;
}

/* A line cut short (a full disk, a non-blocking pipe or socket taking part
 * of it) is ended with a newline at once, so that the next line, ours or
 * another process's, starts a line of its own; when even that cannot be
 * written, *torn says so and the next line here writes it first (and is
 * dropped whole when it cannot). The torn line stays torn. */
int llf_line_write(int fd, mode_t type, const char *p, size_t n, int *torn)
{
    int saved = errno;   /* (the host's errno is not ours to change) */
    int whole = 0;
    int own = S_ISCHR(type) ? tty_own(fd) : -1;
    if (own >= 0)
        fd = own;
    if (S_ISREG(type) || takes_now(fd, type, n + 1)) {
        if (__atomic_load_n(torn, __ATOMIC_RELAXED) && put_quiet(fd, type, "\n", 1) == 1)
            __atomic_store_n(torn, 0, __ATOMIC_RELAXED);
        if (!__atomic_load_n(torn, __ATOMIC_RELAXED)) {
            ssize_t w = put_quiet(fd, type, p, n);
            whole = w >= 0 && (size_t)w == n;
            if (w > 0 && !whole && put_quiet(fd, type, "\n", 1) != 1)
                __atomic_store_n(torn, 1, __ATOMIC_RELAXED);
        }
    }
    if (own >= 0)
        close(own);
    errno = saved;
    return whole;
}
