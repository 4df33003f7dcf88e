/* Descriptors made on the library's own threads are close-on-exec (the
 * socketpair and pipe hooks, hook_fd.c); on the program's threads they are
 * as it asked. */
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
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

void test_hook_fd(void)
{
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
