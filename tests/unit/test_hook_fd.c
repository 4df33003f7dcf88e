/* Descriptors made on the library's own threads are close-on-exec (the
 * socketpair and pipe hooks, hook_fd.c); on the program's threads they are
 * as it asked. The descriptor lock makes one look and act of ours wait for
 * another's. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "hooks.h"
#include "t.h"

static int cloexec(int fd)
{
    int f = fcntl(fd, F_GETFD);
    return f < 0 ? -1 : (f & FD_CLOEXEC) != 0;
}

/* The pair's and the pipe's flags, as made on this thread: 1 each
 * close-on-exec, 0 none, -1 a failure. */
static int made_here(int type_flags)
{
    int sv[2], p[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | type_flags, 0, sv))
        return -1;
    if (pipe(p)) {
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    int a = cloexec(sv[0]), b = cloexec(sv[1]), c = cloexec(p[0]), d = cloexec(p[1]);
    close(sv[0]);
    close(sv[1]);
    close(p[0]);
    close(p[1]);
    return a == b && b == c && c == d ? a : -1;
}

static void *ours(void *arg)
{
    llf_own_thread = 1;   /* (as the shim's enter() does) */
    *(int *)arg = made_here(0);
    return NULL;
}

/* Another thread of ours, closing a number of ours as one step. */
static void *our_close(void *arg)
{
    llf_ownfd *o = arg;
    llf_fds_hold();
    int rc = llf_fd_ours(o) ? close(o->fd) : -1;
    llf_fds_release();
    o->fd = rc == 0 ? -2 : -3;   /* (closed: -2) */
    return NULL;
}

/* While one look and act holds the lock, another thread's waits (a tenth
 * of a second is time enough for one that does not wait to have closed
 * the number); released, it completes. The program's close does not wait
 * (see hook_fd.c). */
static void held_against(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
        CHECK(0);
        return;
    }
    llf_ownfd o;
    CHECK(llf_fd_own(&o, sv[0]) == 0);
    llf_fds_hold();
    pthread_t t;
    CHECK(pthread_create(&t, NULL, our_close, &o) == 0);
    struct timespec tenth = {0, 100 * 1000 * 1000};
    nanosleep(&tenth, NULL);
    CHECK(fcntl(sv[0], F_GETFD) >= 0);   /* still open: the other waits */
    CHECK(close(sv[1]) == 0);   /* (the program's close: no wait, and none for ourselves) */
    llf_fds_release();
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(o.fd == -2 && fcntl(sv[0], F_GETFD) < 0 && errno == EBADF);
}

void test_hook_fd(void)
{
    held_against();
    /* held twice by one thread, released twice */
    llf_fds_hold();
    llf_fds_hold();
    llf_fds_release();
    llf_fds_release();

    /* the program's thread: as asked */
    CHECK(llf_own_thread == 0);
    CHECK(made_here(0) == 0);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    CHECK(cloexec(sv[0]) == 1 && cloexec(sv[1]) == 1);
    close(sv[0]);
    close(sv[1]);
    /* a thread of ours: close-on-exec, asked or not */
    pthread_t t;
    int got = -2;
    CHECK(pthread_create(&t, NULL, ours, &got) == 0 && pthread_join(t, NULL) == 0);
    CHECK(got == 1);
    CHECK(made_here(0) == 0);   /* (the flag is the thread's) */
}
