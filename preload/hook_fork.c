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
 * their handlers alone wait, as before this hook.)
 *
 * The real fork() is looked up when the core loads, or at the first fork
 * of a process without it, as exec's are (hook_exec.c): a dlsym, the one
 * step here that is not async-signal-safe but for the wait, which waits
 * only while a load is under way, as the fork handlers' did already. */
#include <dlfcn.h>
#include <errno.h>
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

LLF_EXPORT pid_t fork(void)
{
    fork_fn f = real();
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    int counted = llf_fork_settle();
    pid_t pid = f();
    if (pid != 0)   /* (the child's counts start afresh: forklock.c) */
        llf_fork_settled(counted);
    return pid;
}
