#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* slow_once.c — preloaded ahead of the library by one test: it widens the
 * moment between the end of the pthread_once() routine that loads a library
 * named SLOW_ONCE_CORE and pthread_once()'s own end (SLOW_ONCE_MS, 300 by
 * default), so that a fork can be timed to land in it: the file SLOW_ONCE_MARK
 * is made as it begins. (Whether the library
 * is loaded is asked of dl_iterate_phdr, not dlopen, which the library under
 * test hooks.) Test scaffolding, never installed. */
static int seen(struct dl_phdr_info *i, size_t n, void *name)
{
    (void)n;
    const char *s = strrchr(i->dlpi_name, '/');
    return s && strcmp(s + 1, (const char *)name) == 0;
}

static int loaded(void)
{
    const char *core = getenv("SLOW_ONCE_CORE");
    return core && dl_iterate_phdr(seen, (void *)core);
}

static __thread void (*inner)(void);
static void widened(void)
{
    int before = loaded();
    inner();
    if (!before && loaded()) {
        const char *mark = getenv("SLOW_ONCE_MARK");
        int fd = mark ? open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) : -1;
        if (fd >= 0)
            close(fd);
        usleep(atoi(getenv("SLOW_ONCE_MS") ? getenv("SLOW_ONCE_MS") : "300") * 1000);
    }
}

int pthread_once(pthread_once_t *ctl, void (*fn)(void))
{
    static int (*real)(pthread_once_t *, void (*)(void));
    if (!real)
        real = (int (*)(pthread_once_t *, void (*)(void)))dlsym(RTLD_NEXT, "pthread_once");
    void (*saved)(void) = inner;
    inner = fn;
    int rc = real(ctl, widened);
    inner = saved;
    return rc;
}
