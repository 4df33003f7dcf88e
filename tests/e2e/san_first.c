/* san_first.c — preloaded right after the sanitizer runtimes when the
 * end-to-end suite runs against the ASan+UBSan library (make sanlib).
 *
 * A preloaded ASan runtime initialises itself at the first malloc if that
 * comes before its own constructor. In curl that first malloc is inside
 * p11-kit's constructor, in newlocale(), while glibc's locale lock is held;
 * ASan's start-up then calls dlerror(), which takes the same lock, and the
 * process hangs at its next setlocale(). Interposing newlocale() lets ASan
 * initialise before the lock is taken. Test scaffolding, never installed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <locale.h>
#include <stdlib.h>

locale_t newlocale(int mask, const char *name, locale_t base)
{
    static locale_t (*real)(int, const char *, locale_t);
    void *volatile first = malloc(1);   /* volatile: the pair must not be optimised away */
    free(first);
    if (!real)
        real = (locale_t (*)(int, const char *, locale_t))dlsym(RTLD_NEXT, "newlocale");
    return real ? real(mask, name, base) : (locale_t)0;
}
