/* A line of ours on a descriptor whose reader is not ours: never waited
 * for (a full pipe drops it whole), never torn by a pipe's room. */
#include <fcntl.h>
#include <poll.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "lineout.h"
#include "t.h"

static int unread(int fd)
{
    int n = -1;
    ioctl(fd, FIONREAD, &n);
    return n;
}

void test_lineout(void)
{
    CHECK(llf_pipe_room(9000, 0, 65536));
    CHECK(!llf_pipe_room(9000, 193, 65536));   /* (its pages may be taken whatever it holds) */
    CHECK(!llf_pipe_room(70000, 0, 65536));
    CHECK(!llf_pipe_room(9000, -1, 65536));
    CHECK(!llf_pipe_room(9000, 0, -1));

    int p[2], torn = 0;
    CHECK(pipe(p) == 0);   /* blocking, as a program's stderr usually is */
    char line[300], big[9000];
    memset(line, 'a', sizeof line);
    memset(big, 'b', sizeof big);
    line[sizeof line - 1] = big[sizeof big - 1] = '\n';
    CHECK(llf_line_write(p[1], S_IFIFO, line, sizeof line, &torn) == 1);
    CHECK(unread(p[0]) == (int)sizeof line);
    /* fill it to the brim, as a reader that stopped reading leaves it */
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    char fill[4096] = {0};
    while (write(p[1], fill, sizeof fill) > 0)
        ;
    while (write(p[1], fill, 1) > 0)
        ;
    fcntl(p[1], F_SETFL, 0);
    int full = unread(p[0]);
    CHECK(llf_line_write(p[1], S_IFIFO, line, sizeof line, &torn) == 0);   /* (would block for ever) */
    CHECK(unread(p[0]) == full);
    /* some room, not enough for a long line: dropped whole, nothing torn */
    char take[8192];
    CHECK(read(p[0], take, sizeof take) == (ssize_t)sizeof take);
    CHECK(llf_line_write(p[1], S_IFIFO, big, sizeof big, &torn) == 0);
    CHECK(unread(p[0]) == full - (int)sizeof take);
    CHECK(llf_line_write(p[1], S_IFIFO, line, sizeof line, &torn) == 1);
    close(p[0]);
    /* its reader gone: no SIGPIPE (the default action would end us here) */
    void (*was)(int) = signal(SIGPIPE, SIG_DFL);
    CHECK(llf_line_write(p[1], S_IFIFO, line, sizeof line, &torn) == 0);
    signal(SIGPIPE, was);
    close(p[1]);
}

/* Ours go on fd 2 only while it is what it was at load: a program started
 * with it closed gets the number for a file of its own. */
void test_lineout_stderr(void)
{
    int saved = dup(2);
    mode_t type = 0;
    llf_stderr_note();   /* fd 2 as it is now */
    CHECK(llf_stderr_fd(&type) == 2);
    char path[] = "/tmp/llf-lineout-XXXXXX";
    int own = mkstemp(path);
    CHECK(own >= 0);
    unlink(path);
    dup2(own, 2);   /* the program's data file took the number */
    CHECK(llf_stderr_fd(&type) == -1);
    dup2(saved, 2);
    CHECK(llf_stderr_fd(&type) == 2);
    llf_ownfd closed = LLF_NO_FD;   /* 2>&-: never */
    llf_stderr_use(&closed);
    dup2(own, 2);
    CHECK(llf_stderr_fd(&type) == -1);
    dup2(saved, 2);
    CHECK(llf_stderr_fd(&type) == -1);
    llf_stderr_note();
    CHECK(llf_stderr_fd(&type) == 2);
    llf_stderr_use(NULL);   /* not known: fd 2 as it is, whatever it names */
    dup2(own, 2);
    CHECK(llf_stderr_fd(&type) == 2);
    dup2(saved, 2);
    close(own);
    close(saved);
}

/* A line cut short (a full disk; here the file size limit, which cuts a
 * write as ENOSPC does) is not glued to the next. */
void test_lineout_torn(void)
{
    char path[] = "/tmp/llf-torn-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    struct rlimit was;
    getrlimit(RLIMIT_FSIZE, &was);
    void (*xfsz)(int) = signal(SIGXFSZ, SIG_IGN);
    int torn = 0;
    CHECK(llf_line_write(fd, S_IFREG, "{\"a\":1}\n", 8, &torn) == 1);
    struct rlimit small = {12, was.rlim_max};   /* room for 4 bytes more: not even a newline after */
    setrlimit(RLIMIT_FSIZE, &small);
    CHECK(llf_line_write(fd, S_IFREG, "{\"b\":2}\n", 8, &torn) == 0);
    CHECK(torn == 1);
    CHECK(llf_line_write(fd, S_IFREG, "{\"c\":3}\n", 8, &torn) == 0);   /* dropped: still full */
    setrlimit(RLIMIT_FSIZE, &was);   /* room again */
    CHECK(llf_line_write(fd, S_IFREG, "{\"d\":4}\n", 8, &torn) == 1);
    CHECK(torn == 0);
    small.rlim_cur = 21 + 4;   /* full again, 4 bytes into the next line */
    setrlimit(RLIMIT_FSIZE, &small);
    CHECK(llf_line_write(fd, S_IFREG, "{\"e\":5}\n", 8, &torn) == 0);
    CHECK(torn == 1);
    setrlimit(RLIMIT_FSIZE, &was);
    CHECK(llf_line_write(fd, S_IFREG, "{\"f\":6}\n", 8, &torn) == 1);
    CHECK(torn == 0);
    signal(SIGXFSZ, xfsz);
    char got[64] = {0};
    CHECK(pread(fd, got, sizeof got - 1, 0) > 0);
    CHECK_STR(got, "{\"a\":1}\n{\"b\"\n{\"d\":4}\n{\"e\"\n{\"f\":6}\n");
    close(fd);
    unlink(path);
}

/* A terminal whose reader has stopped (a pty nobody reads): a line that
 * does not fit in the room left is not waited for. Written in a child,
 * which an alarm ends if the write holds it (exit 3), so that the old
 * failure shows as one, not as a hung test. */
void test_lineout_tty(void)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
    const char *name = m >= 0 ? ptsname(m) : NULL;
    int t = name ? open(name, O_RDWR | O_NOCTTY) : -1;   /* blocking, as a program's stderr */
    CHECK(t >= 0);
    if (t < 0) {
        if (m >= 0)
            close(m);
        return;
    }
    struct termios raw;   /* (no echo, no processing: bytes in, bytes queued) */
    if (tcgetattr(t, &raw) == 0) {
        cfmakeraw(&raw);
        tcsetattr(t, TCSANOW, &raw);
    }
    int fill = open(name, O_WRONLY | O_NOCTTY | O_NONBLOCK);
    CHECK(fill >= 0);
    char chunk[512];
    memset(chunk, 'f', sizeof chunk);
    while (fill >= 0 && write(fill, chunk, sizeof chunk) > 0)
        ;
    while (fill >= 0 && write(fill, chunk, 1) > 0)
        ;
    char take[600];   /* some room now: less than the line */
    CHECK(read(m, take, sizeof take) > 0);
    static char big[6000];
    memset(big, 'b', sizeof big);
    big[sizeof big - 1] = '\n';
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGALRM, SIG_DFL);
        alarm(3);
        int torn = 0;
        int whole = llf_line_write(t, S_IFCHR, big, sizeof big, &torn);
        _exit(whole ? 2 : 0);
    }
    int status = -1;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);   /* (killed by the alarm: it waited) */
    /* with room for it, a short line goes whole */
    for (;;) {
        struct pollfd p = {m, POLLIN, 0};
        if (poll(&p, 1, 100) != 1 || read(m, take, sizeof take) <= 0)
            break;
    }
    int torn = 0;
    CHECK(llf_line_write(t, S_IFCHR, "{\"a\":1}\n", 8, &torn) == 1);
    if (fill >= 0)
        close(fill);
    close(t);
    close(m);
}
