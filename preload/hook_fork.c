/* hook_fork.c — fork() waits for the library's loading before it forks.
 *
 * A fork() while another thread loads the library (the core, libcurl and
 * OpenSSL, at a process's first call) waits for that load, so that the
 * child has it whole (forklock.c). Waited for in the fork handlers alone,
 * the load often could not end: glibc runs them holding the lock that
 * pthread_atfork() takes, and the load installs handlers of its own (ours,
 * OpenSSL's), so it stopped there, the fork waited its full second, and
 * the child had no library (seen: 1 s forks, racing a first call). Here
 * the wait comes first, before the real fork() takes that lock; the
 * handlers' own wait is then left only a load begun in between. The load
 * that ended waits in turn until the fork is done, so that the fork does
 * not find its thread in the midst of its first call (forklock.c).
 * (posix_spawn, system, popen and vfork run no handlers, and wait for
 * nothing; daemon() and forkpty() fork inside glibc, not through this, so
 * their handlers alone wait, and they are hooked only for what their child
 * does after its handlers.)
 *
 * The real fork() is looked up when the core loads, or at the first fork
 * of a process without it, as exec's are (hook_exec.c): a dlsym, the one
 * step here that is not async-signal-safe but for the wait, which waits
 * only while a load is under way, as the fork handlers' did already. */
#include <dlfcn.h>
#include <errno.h>
#include <pty.h>
#include <unistd.h>

#include "forklock.h"
#include "hooks.h"

typedef pid_t (*fork_fn)(void);
static fork_fn real_fork;

static fork_fn real(void)
{
    fork_fn f = __atomic_load_n(&real_fork, __ATOMIC_ACQUIRE);
    if (!f && (f = (fork_fn)dlsym(RTLD_NEXT, "fork")) != NULL)
        __atomic_store_n(&real_fork, f, __ATOMIC_RELEASE);
    return f;
}

void llf_fork_resolve(void)
{
    real();
}

/* The real fork, in a child: what its fork handlers leave to be done once
 * all of them have run (forklock.h). */
static pid_t forked(pid_t (*f)(void))
{
    int counted = llf_fork_settle();
    pid_t pid = f();
    if (pid == 0)
        llf_fork_child_done();   /* (the child's counts start afresh: forklock.c) */
    else
        llf_fork_settled(counted);
    return pid;
}

LLF_EXPORT pid_t fork(void)
{
    fork_fn f = real();
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    return forked(f);
}

LLF_EXPORT pid_t __fork(void)
{
    return fork();
}

/* daemon() and forkpty() fork inside glibc, where this hook is not asked:
 * they run the fork handlers, and their child finishes here. */
typedef int (*daemon_fn)(int, int);
typedef pid_t (*forkpty_fn)(int *, char *, const struct termios *, const struct winsize *);

LLF_EXPORT int daemon(int nochdir, int noclose)
{
    static daemon_fn d;
    if (!d && !(d = (daemon_fn)dlsym(RTLD_NEXT, "daemon"))) {
        errno = ENOSYS;
        return -1;
    }
    int rc = d(nochdir, noclose);
    if (rc == 0)
        llf_fork_child_done();
    return rc;
}

LLF_EXPORT pid_t forkpty(int *amaster, char *name, const struct termios *termp, const struct winsize *winp)
{
    static forkpty_fn fp;
    if (!fp && !(fp = (forkpty_fn)dlsym(RTLD_NEXT, "forkpty"))) {
        errno = ENOSYS;
        return -1;
    }
    pid_t pid = fp(amaster, name, termp, winp);
    if (pid == 0)
        llf_fork_child_done();
    return pid;
}
