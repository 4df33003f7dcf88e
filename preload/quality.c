/* quality.c — running the quality gate (see quality.h).
 *
 * The command runs under /bin/sh without LD_PRELOAD (it must not recurse into
 * this library), with LLMFALLBACK_PROVIDER and LLMFALLBACK_MODEL set. The
 * answer goes in over a socketpair written with MSG_NOSIGNAL, so a command
 * that exits without reading cannot raise SIGPIPE in the host.
 *
 * The child is the host's too: posix_spawn's would end with SIGCHLD, and a
 * host reaping with waitpid(-1) in its handler (many daemons do) would take
 * its status, and with it the verdict. So the command runs under a small
 * keeper, cloned with no exit signal: a "clone" child, which only a wait
 * with __WALL or __WCLONE sees (ours), and which sends no SIGCHLD. The
 * keeper cannot exec the command itself (execve resets the exit signal to
 * SIGCHLD): it forks it, waits for it, and exits with its status. It makes
 * system calls only (it is a copy of a threaded process). It leads a process
 * group, which the command and its children share: when the time is up the
 * group is killed. */
#include "quality.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "forklock.h"
#include "log.h"

extern char **environ;

#define CACHE 256

static struct {
    uint64_t hash;
    int verdict;
} cache[CACHE];
static pthread_mutex_t cache_lock = LLF_FORKLOCK_INIT;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static void cache_atfork(void) { llf_forklock(&cache_lock); }

/* FNV-1a: a cache key, not a security boundary. */
static uint64_t fnv(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ^ 0xff;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Is environment entry e one of the variables named in hide? */
static int hidden(const char *e, char *const *hide)
{
    size_t n = strcspn(e, "=");
    for (size_t i = 0; hide && hide[i]; i++)
        if (strlen(hide[i]) == n && strncmp(e, hide[i], n) == 0)
            return 1;
    return 0;
}

static char **child_env(const char *provider, const char *model, char *const *hide)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **env = calloc(n + 3, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0 &&
            strncmp(environ[i], "LLMFALLBACK_PROVIDER=", 21) != 0 &&
            strncmp(environ[i], "LLMFALLBACK_MODEL=", 18) != 0 && !hidden(environ[i], hide))
            env[k++] = environ[i];
    if (asprintf(&env[k++], "LLMFALLBACK_PROVIDER=%s", provider) < 0 ||
        asprintf(&env[k++], "LLMFALLBACK_MODEL=%s", model) < 0) {
        free(env);   /* (a failed asprintf leaves nothing to free) */
        return NULL;
    }
    return env;
}

/* The keeper (see the top): never returns. It starts with every signal
 * blocked (the caller blocks them around the clone), so no handler of the
 * host's runs in this copy of it; old is the caller's own mask. */
static void keeper(int in, int nul, char **argv, char **env, const sigset_t *old)
    __attribute__((noreturn));
static void keeper(int in, int nul, char **argv, char **env, const sigset_t *old)
{
    /* A group of its own, the command's and its children's too: a command
     * out of time is killed whole (sh forks for all but a simple command,
     * and the fork would outlive the keeper). */
    setpgid(0, 0);
    /* A host that ignores SIGCHLD (SIG_IGN, SA_NOCLDWAIT) would have the
     * command reaped by the kernel, and its status lost. */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGCHLD, &dfl, NULL);
    /* Only the command's stdin and /dev/null stay: a copy of the host's
     * other descriptors (its connections, our end of the socketpair) would
     * keep them open while the command runs. */
    int a = fcntl(in, F_DUPFD, 10), b = fcntl(nul, F_DUPFD, 10);
    if (a < 0 || b < 0 || dup2(a, 0) != 0 || dup2(b, 1) != 1 || dup2(b, 2) != 2)
        _exit(127);
    if (syscall(SYS_close_range, 3U, ~0U, 0U))
        for (int fd = 3; fd < 4096; fd++)
            close(fd);
    pid_t keeper_pid = getpid();
    pid_t c = (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, NULL);
    if (c == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* As posix_spawn: the host's handlers reset before the mask opens. */
        for (int sig = 1; sig < NSIG; sig++) {
            struct sigaction sa;
            if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_IGN && sa.sa_handler != SIG_DFL)
                sigaction(sig, &dfl, NULL);
        }
        /* (the system call itself: execve() is the shim's exec hook, which
         * this copy, allowed nothing but system calls, must not run) */
        if (getppid() == keeper_pid && sigprocmask(SIG_SETMASK, old, NULL) == 0)
            syscall(SYS_execve, "/bin/sh", argv, env);
        _exit(127);
    }
    int status = 0;
    pid_t w = -1;
    while (c > 0 && (w = waitpid(c, &status, 0)) < 0 && errno == EINTR)
        ;
    /* (a command killed by a signal, sh exec'd into it, ends as the shell
     * tells of one: 128 and the signal, a failure like any non-zero exit;
     * as 127 it was said to be "not found", and judged nothing) */
    _exit(w != c                ? 127
          : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
          : WIFEXITED(status)   ? WEXITSTATUS(status)
                                : 127);
}

static int run(const char *cmd, long timeout_ms, const char *text, const char *provider,
               const char *model, char *const *hide)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        return -1;
    char **env = child_env(provider, model, hide);
    char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
    int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = env && nul >= 0 ? (pid_t)syscall(SYS_clone, 0UL, NULL, NULL, NULL, NULL) : -1;
    if (pid == 0)
        keeper(sv[1], nul, argv, env, &old);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid > 0)
        setpgid(pid, pid);   /* (as the keeper does: whichever runs first) */
    int rc = pid < 0 ? -1 : 0;
    if (nul >= 0)
        close(nul);
    if (env) {
        size_t n = 0;
        while (env[n])
            n++;
        free(env[n - 1]);
        free(env[n - 2]);
        free(env);
    }
    close(sv[1]);
    if (rc) {
        close(sv[0]);
        return -1;
    }
    double deadline = now_ms() + (double)timeout_ms;
    size_t len = strlen(text), off = 0;
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    while (off < len && now_ms() < deadline) {
        ssize_t w = send(sv[0], text + off, len - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
        } else if (w < 0 && errno == EAGAIN) {
            struct pollfd p = {sv[0], POLLOUT, 0};
            poll(&p, 1, 10);
        } else {
            break;   /* the command stopped reading: its exit status decides */
        }
    }
    close(sv[0]);
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG | __WALL);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            return -1;
        if (now_ms() >= deadline) {
            if (kill(-pid, SIGKILL))
                kill(pid, SIGKILL);
            while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
                ;
            return -1;
        }
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    /* The shell's "not found" and "cannot run" (and the keeper's own
     * failures): a command that never ran judged nothing, and rejecting
     * every answer for it would give the program only its original
     * failures, with no word why. Said once. */
    if (WIFEXITED(status) && (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127)) {
        static int said;
        if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
            llf_warn("verdict.validate.command could not be run (/bin/sh's exit status %d: %s); answers are "
                     "not judged by it", WEXITSTATUS(status),
                     WEXITSTATUS(status) == 127 ? "command not found" : "not executable");
        return -1;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 1 : 0;
}

int llf_quality_check(const char *cmd, long timeout_ms, const char *text, const char *provider,
                      const char *model, char *const *hide)
{
    pthread_once(&cache_once, cache_atfork);
    uint64_t h = fnv(fnv(fnv(fnv(14695981039346656037ULL, cmd), provider), model), text);
    pthread_mutex_lock(&cache_lock);
    int hit = cache[h % CACHE].hash == h ? cache[h % CACHE].verdict : -2;
    pthread_mutex_unlock(&cache_lock);
    if (hit != -2)
        return hit;
    int v = run(cmd, timeout_ms, text ? text : "", provider, model, hide);
    if (v >= 0) {
        pthread_mutex_lock(&cache_lock);
        cache[h % CACHE].hash = h;
        cache[h % CACHE].verdict = v;
        pthread_mutex_unlock(&cache_lock);
    }
    return v;
}
