/* A descriptor of ours, known by what it is (guest.h): its number closed,
 * or given to another file or socket since, is not ours. The sockets
 * libcurl opens for our handles are close-on-exec. */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "t.h"

static void *wait_on(void *arg)
{
    char c;
    while (read(*(int *)arg, &c, 1) < 0)
        ;
    return NULL;
}

/* Our threads, counted while they run; a process's threads all ours (see
 * guest.h). */
static void threads(void)
{
    char st;
    long n;
    const char *stat = "4242 (a) b (c) 7) Z 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 12345 0 0";
    CHECK(llf_proc_stat(stat, &st, &n) == 0 && st == 'Z' && n == 3);
    CHECK(llf_proc_stat("4242 (a) R 1 2 3", &st, &n) == -1);
    CHECK(llf_proc_stat("4242 a R 1", &st, &n) == -1);
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY);
    ssize_t got = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    buf[got > 0 ? got : 0] = 0;
    CHECK(llf_proc_stat(buf, &st, &n) == 0 && st == 'R' && n >= 1);

    CHECK(llf_threads_ready() == 0);
    int before = llf_threads_own();
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK(llf_spawn(wait_on, &p[0]) == 0);
    for (int i = 0; i < 1000 && llf_threads_own() == before; i++)
        usleep(1000);
    CHECK(llf_threads_own() == before + 1);
    CHECK(llf_threads_last() == 0);   /* (this thread, the main one, is the program's) */
    pid_t child = t_fork(2);
    if (child == 0)
        _exit(llf_threads_own() == 0 ? 0 : 1);   /* (none of ours is in a child) */
    int status = -1;
    CHECK(child > 0 && waitpid(child, &status, 0) == child && status == 0);
    CHECK(write(p[1], "x", 1) == 1);
    for (int i = 0; i < 1000 && llf_threads_own() != before; i++)
        usleep(1000);
    CHECK(llf_threads_own() == before);
    close(p[0]);
    close(p[1]);
}

void test_guest(void)
{
    threads();
    llf_ownfd o = LLF_NO_FD;
    CHECK(!llf_fd_ours(&o));
    CHECK(llf_fd_own(&o, -1) == -1 && o.fd == -1);

    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    CHECK(llf_fd_own(&o, sv[0]) == 0 && o.fd == sv[0] && llf_fd_ours(&o));
    llf_ownfd copy = o;
    CHECK(llf_fd_ours(&copy));   /* (a value: each holder checks for itself) */
    close(sv[0]);
    CHECK(!llf_fd_ours(&o));   /* closed */
    CHECK(llf_fd_own(&o, sv[0]) == -1 && o.fd == -1);

    /* the number given to another socket, then to a file */
    CHECK(llf_fd_own(&o, sv[1]) == 0);
    int other = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(other >= 0 && dup2(other, sv[1]) == sv[1]);
    CHECK(!llf_fd_ours(&o));
    int file = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(file >= 0 && dup2(file, sv[1]) == sv[1]);
    CHECK(!llf_fd_ours(&o));
    /* a copy of ours at another number is ours, at that number */
    CHECK(llf_fd_own(&o, file) == 0);
    int dup = fcntl(file, F_DUPFD_CLOEXEC, 0);
    llf_ownfd d = o;
    d.fd = dup;
    CHECK(llf_fd_ours(&d));
    close(dup);
    close(file);
    close(other);
    close(sv[1]);
    CHECK(!llf_fd_ours(&o));

    struct curl_sockaddr a = {.family = AF_INET, .socktype = SOCK_STREAM, .protocol = 0};
    curl_socket_t s = llf_curl_socket(NULL, CURLSOCKTYPE_IPCXN, &a);
    CHECK(s != CURL_SOCKET_BAD && (fcntl(s, F_GETFD) & FD_CLOEXEC));
    if (s != CURL_SOCKET_BAD)
        close(s);
    a.family = -1;
    CHECK(llf_curl_socket(NULL, CURLSOCKTYPE_IPCXN, &a) == CURL_SOCKET_BAD);
}
