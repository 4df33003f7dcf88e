/* Descriptors made on the library's own threads are close-on-exec (the
 * socketpair and pipe hooks, hook_fd.c); on the program's threads they are
 * as it asked. The program's ways of closing a number wait while the
 * library holds the descriptor lock. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* The program's thread, closing (or replacing) a number of ours. */
typedef struct closer {
    int how;   /* 0 close, 1 close_range, 2 dup2 onto it */
    int fd, other;
    int rc;
} closer;

static void *program_closes(void *arg)
{
    closer *c = arg;
    c->rc = c->how == 0 ? close(c->fd) : c->how == 1 ? close_range((unsigned)c->fd, (unsigned)c->fd, 0)
                                                     : dup2(c->other, c->fd);
    return NULL;
}

static ino_t ino_of(int fd)
{
    struct stat st;
    return fstat(fd, &st) ? 0 : st.st_ino;
}

/* While the lock is held, the program's close, close_range and dup2 onto a
 * number of ours wait (a tenth of a second is time enough for one that
 * does not wait to have closed it); released, each completes. */
static void held_against(int how)
{
    int sv[2], other[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || socketpair(AF_UNIX, SOCK_STREAM, 0, other)) {
        CHECK(0);
        return;
    }
    ino_t ours = ino_of(sv[0]);
    closer c = {how, sv[0], other[0], -2};
    llf_fds_hold();
    pthread_t t;
    CHECK(pthread_create(&t, NULL, program_closes, &c) == 0);
    struct timespec tenth = {0, 100 * 1000 * 1000};
    nanosleep(&tenth, NULL);
    CHECK(fcntl(sv[0], F_GETFD) >= 0 && ino_of(sv[0]) == ours);   /* still what we hold */
    CHECK(close(sv[1]) == 0);   /* (our own act under the lock: no wait for ourselves) */
    llf_fds_release();
    CHECK(pthread_join(t, NULL) == 0);
    if (how == 2) {
        CHECK(c.rc == sv[0] && ino_of(sv[0]) == ino_of(other[0]));
        close(sv[0]);
    } else {
        CHECK(c.rc == 0 && fcntl(sv[0], F_GETFD) < 0 && errno == EBADF);
    }
    close(other[0]);
    close(other[1]);
}

void test_hook_fd(void)
{
    held_against(0);
    held_against(1);
    held_against(2);
    /* held twice by one thread, released twice */
    llf_fds_hold();
    llf_fds_hold();
    llf_fds_release();
    llf_fds_release();
    int p[2];
    CHECK(pipe(p) == 0 && close(p[0]) == 0 && dup3(p[1], p[1] + 100, O_CLOEXEC) == p[1] + 100);
    CHECK(close(p[1] + 100) == 0 && close(p[1]) == 0);

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
