/* slowload.c — preloaded ahead of the library by the tests of a fork timed
 * against its first load; test scaffolding, never installed. Widens one of
 * two moments of the load of a library named SLOWLOAD_CORE, makes the file
 * SLOWLOAD_MARK as that moment begins, and sleeps SLOWLOAD_MS (300):
 *  - SLOWLOAD_AT=once: after the pthread_once() routine that loaded it has
 *    ended, before pthread_once() itself returns;
 *  - SLOWLOAD_AT=dlopen: within the load, right after its dlopen(), and
 *    then installs a fork handler, as a library the load initialises would
 *    (OpenSSL does).
 * (Whether the library is loaded is asked of dl_iterate_phdr, not dlopen,
 * which the library under test hooks.) */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int seen(struct dl_phdr_info *i, size_t n, void *name)
{
    (void)n;
    const char *s = strrchr(i->dlpi_name, '/');
    return s && strcmp(s + 1, (const char *)name) == 0;
}

static int loaded(void)
{
    const char *core = getenv("SLOWLOAD_CORE");
    return core && dl_iterate_phdr(seen, (void *)core);
}

static int at(const char *where)
{
    const char *a = getenv("SLOWLOAD_AT");
    return a && strcmp(a, where) == 0;
}

static void widen(void)
{
    const char *mark = getenv("SLOWLOAD_MARK");
    int fd = mark ? open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) : -1;
    if (fd >= 0)
        close(fd);
    usleep(atoi(getenv("SLOWLOAD_MS") ? getenv("SLOWLOAD_MS") : "300") * 1000);
}

static __thread void (*inner)(void);
static void widened(void)
{
    int before = loaded();
    inner();
    if (!before && loaded() && at("once"))
        widen();
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

static void nothing(void)
{
}

void *dlopen(const char *name, int flags)
{
    static void *(*real)(const char *, int);
    if (!real)
        real = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
    int before = loaded();
    void *h = real(name, flags);
    if (h && !before && loaded() && at("dlopen")) {
        widen();
        pthread_atfork(NULL, NULL, nothing);
    }
    return h;
}
