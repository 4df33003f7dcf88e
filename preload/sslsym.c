/* sslsym.c — finding the program's OpenSSL functions (see hooks.h), for the
 * OpenSSL hooks and the trust they keep: RTLD_NEXT (the host linked libssl),
 * else the copy a host loaded RTLD_LOCAL (Python's _ssl), found with
 * RTLD_NOLOAD, never loaded here. */
#include "hooks.h"

#include <dlfcn.h>
#include <pthread.h>

static void *libssl, *libcrypto;   /* (NULL: not loaded RTLD_LOCAL) */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void open_libs(void)
{
    libssl = dlopen("libssl.so.3", RTLD_LAZY | RTLD_NOLOAD);
    libcrypto = dlopen("libcrypto.so.3", RTLD_LAZY | RTLD_NOLOAD);
}

void *llf_openssl_sym(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (f)
        return f;
    pthread_once(&once, open_libs);
    f = libssl ? dlsym(libssl, name) : NULL;
    return f ? f : libcrypto ? dlsym(libcrypto, name) : NULL;
}
