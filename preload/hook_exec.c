/* hook_exec.c — the summary of a process image that exec replaces.
 *
 * exec runs no destructor, so the core's exit summary of the calls made
 * before it was never written (a wrapper that calls and then execs, a
 * program that restarts itself). Each exec function a program can call
 * has the core write it first, and then passes on to the real one. When
 * the core is not loaded (the process made no recognised call, or the
 * library is disabled) nothing happens but that: the core is not loaded
 * for this. A program that never execs pays nothing.
 *
 * Which functions: glibc 2.36 calls its own execve directly, not through
 * the PLT, from execv, execl, execle and fexecve (its fallback without
 * execveat), and its own execvpe from execvp and execlp; execveat and
 * fexecve make the system call themselves. So hooking execve alone misses
 * most of them: every exported one is hooked, execve, execv, execvp,
 * execvpe, execl, execlp, execle, fexecve and execveat. posix_spawn(p),
 * system and popen reach no hook: their child (clone(CLONE_VM|CLONE_VFORK))
 * calls execve through an address glibc takes inside itself. That child is
 * a new process that made no call, which writes no summary anyway.
 *
 * A vfork child that calls exec (Python's subprocess does) runs this on
 * its parent's memory and stack: the core writes nothing there and changes
 * nothing (the summary is not that pid's: see core.c), and the only state
 * kept here is the cache of the real functions, which holds the value the
 * parent would store. Those are looked up when the core loads, so that a
 * process that made a call has them before any vfork child needs them; a
 * process without the core looks one up at its first exec.
 *
 * Threads and signals: another thread may be inside a call at the exec.
 * That call is lost with the image, as it would be without the library;
 * the summary counts the calls that ended. Writing it allocates nothing
 * and waits for no lock for long (log.c), so neither another thread nor
 * the code a signal handler interrupted to exec (exec is async-signal-safe)
 * can hold it up. The one call here that is not async-signal-safe is the
 * dlsym at a first exec in a process without the core. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>

#include "hooks.h"
#include "shim.h"

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);
typedef int (*execveat_fn)(int, const char *, char *const[], char *const[], int);

enum { EXECVE, EXECV, EXECVP, EXECVPE, FEXECVE, EXECVEAT, NREAL };
static const char *const names[NREAL] = {"execve", "execv", "execvp", "execvpe", "fexecve", "execveat"};
static void *reals[NREAL];

/* The real function, looked up once (racing threads store the same). */
static void *real(int which)
{
    void *f = __atomic_load_n(&reals[which], __ATOMIC_ACQUIRE);
    if (!f && (f = dlsym(RTLD_NEXT, names[which])) != NULL)
        __atomic_store_n(&reals[which], f, __ATOMIC_RELEASE);
    return f;
}

void llf_exec_resolve(void)
{
    for (int i = 0; i < NREAL; i++)
        real(i);
}

/* The process image ends here if the exec succeeds. The core, if loaded,
 * writes its summary (and counts afresh, should the exec fail). */
static void *before(int which)
{
    void *f = real(which);
    const llf_core_api *c = llf_core_loaded();
    if (c && f) {
        int saved = errno;
        c->exec_summary();
        errno = saved;
    }
    if (!f)
        errno = ENOSYS;
    return f;
}

static int run_execve(const char *path, char *const argv[], char *const envp[])
{
    execve_fn f = (execve_fn)before(EXECVE);
    return f ? f(path, argv, envp) : -1;
}

static int run_execv(int which, const char *path, char *const argv[])
{
    execv_fn f = (execv_fn)before(which);
    return f ? f(path, argv) : -1;
}

LLF_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    return run_execve(path, argv, envp);
}

LLF_EXPORT int execv(const char *path, char *const argv[])
{
    return run_execv(EXECV, path, argv);
}

LLF_EXPORT int execvp(const char *file, char *const argv[])
{
    return run_execv(EXECVP, file, argv);
}

LLF_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    execve_fn f = (execve_fn)before(EXECVPE);
    return f ? f(file, argv, envp) : -1;
}

LLF_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    fexecve_fn f = (fexecve_fn)before(FEXECVE);
    return f ? f(fd, argv, envp) : -1;
}

LLF_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                        int flags)
{
    execveat_fn f = (execveat_fn)before(EXECVEAT);
    return f ? f(dirfd, path, argv, envp, flags) : -1;
}

/* The list forms, as glibc builds them: the arguments counted, then an
 * array on the stack (no allocation: exec may run in a vfork child or a
 * signal handler), handed to the vector form: execl to execv, execlp to
 * execvp, execle to execve with the envp that follows the list. */
static int run_list(int which, const char *path, const char *arg, va_list *ap)
{
    va_list c;
    va_copy(c, *ap);
    ptrdiff_t argc = arg ? 1 : 0;
    while (arg && va_arg(c, const char *))
        if (++argc == INT_MAX) {
            va_end(c);
            errno = E2BIG;
            return -1;
        }
    va_end(c);
    char *argv[argc + 1];
    argv[0] = (char *)arg;
    for (ptrdiff_t i = 1; i < argc; i++)
        argv[i] = va_arg(*ap, char *);
    argv[argc] = NULL;
    if (which != EXECVE)
        return run_execv(which, path, argv);
    if (argc > 0)
        (void)va_arg(*ap, char *);   /* the list's NULL */
    return run_execve(path, argv, va_arg(*ap, char *const *));
}

LLF_EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int rc = run_list(EXECV, path, arg, &ap);
    va_end(ap);
    return rc;
}

LLF_EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int rc = run_list(EXECVP, file, arg, &ap);
    va_end(ap);
    return rc;
}

LLF_EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int rc = run_list(EXECVE, path, arg, &ap);
    va_end(ap);
    return rc;
}
