/* hook_dlopen.c — letting the libcurl hooks reach PHP.
 *
 * Debian's PHP loads its extensions with dlopen(..., RTLD_DEEPBIND), so
 * curl.so binds to libcurl before any preload and the curl hooks never fire.
 * We clear RTLD_DEEPBIND for that one extension only (a file named curl.so):
 * every other library keeps the binding its loader asked for. */
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include "hooks.h"

typedef void *(*dlopen_fn)(const char *, int);
static dlopen_fn real;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void resolve(void)
{
    real = (dlopen_fn)dlsym(RTLD_NEXT, "dlopen");
}

static int is_php_curl(const char *file)
{
    const char *base = file ? strrchr(file, '/') : NULL;
    return base && strcmp(base + 1, "curl.so") == 0;
}

/* Both returns are tail calls (see the Makefile): glibc takes the return
 * address as the caller of dlopen. */
LLF_EXPORT void *dlopen(const char *file, int mode)
{
    pthread_once(&once, resolve);
    if (!real)
        return NULL;
    if ((mode & RTLD_DEEPBIND) && is_php_curl(file) && !llf_disabled())
        mode &= ~RTLD_DEEPBIND;
    return real(file, mode);
}
