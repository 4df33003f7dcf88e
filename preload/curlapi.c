/* curlapi.c — finding the real libcurl behind our hooks (see curlapi.h).
 *
 * Order: RTLD_NEXT (the host linked libcurl), then any libcurl flavour already
 * loaded RTLD_LOCAL (Python extensions, PHP), found with RTLD_NOLOAD. A symbol
 * that resolves back into this object is rejected: that happens when the real
 * library is not loaded yet and would make a hook call itself. So is one in
 * another copy of this library. */
#include "forklock.h"
#include "hooks.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>

__thread int llf_in_lib __attribute__((tls_model("initial-exec")));
__thread int llf_curl_direct __attribute__((tls_model("initial-exec")));
__thread int llf_guard_connect __attribute__((tls_model("initial-exec"))) = -1;
__thread void *llf_guard_frame __attribute__((tls_model("initial-exec")));

static llf_curl_api api;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* In this object, or in another copy of it (see llmfallback_shim below):
 * that copy's hooks would stand between us and libcurl, and in a process
 * that had not loaded libcurl when that copy looked, lead nowhere. */
static int is_ours(void *fn)
{
    Dl_info self, other;
    if (!fn || !dladdr((void *)llf_real_curl, &self) || !dladdr(fn, &other))
        return 0;
    if (self.dli_fbase == other.dli_fbase)
        return 1;
    void *h = other.dli_fname && *other.dli_fname ? dlopen(other.dli_fname, RTLD_LAZY | RTLD_NOLOAD) : NULL;
    int copy = h && dlsym(h, "llmfallback_shim");
    if (h)
        dlclose(h);
    return copy;
}

static void *handle_of_loaded_libcurl(void)
{
    static const char *const names[] = {"libcurl.so.4", "libcurl-gnutls.so.4", "libcurl-nss.so.4"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *h = dlopen(names[i], RTLD_LAZY | RTLD_NOLOAD);
        if (h)
            return h;
    }
    return NULL;
}

static void *find(void *lib, const char *name)
{
    void *fn = dlsym(RTLD_NEXT, name);
    if (fn && !is_ours(fn))
        return fn;
    fn = lib ? dlsym(lib, name) : NULL;
    return fn && !is_ours(fn) ? fn : NULL;
}

static void fill(void *lib)
{
#define R(member, sym) \
    if (!api.member) \
        *(void **)(&api.member) = find(lib, sym)
    R(easy_setopt, "curl_easy_setopt");
    R(easy_perform, "curl_easy_perform");
    R(easy_getinfo, "curl_easy_getinfo");
    R(easy_reset, "curl_easy_reset");
    R(easy_duphandle, "curl_easy_duphandle");
    R(easy_cleanup, "curl_easy_cleanup");
    R(easy_header, "curl_easy_header");
    R(easy_nextheader, "curl_easy_nextheader");
    R(easy_strerror, "curl_easy_strerror");
    R(slist_append, "curl_slist_append");
    R(slist_free_all, "curl_slist_free_all");
    R(url, "curl_url");
    R(url_cleanup, "curl_url_cleanup");
    R(url_set, "curl_url_set");
    R(url_get, "curl_url_get");
    R(free, "curl_free");
    R(getdate, "curl_getdate");
    R(easy_init, "curl_easy_init");
    R(multi_add_handle, "curl_multi_add_handle");
    R(multi_perform, "curl_multi_perform");
    R(multi_socket_action, "curl_multi_socket_action");
    R(multi_socket_all, "curl_multi_socket_all");
    R(multi_socket, "curl_multi_socket");
    R(easy_send, "curl_easy_send");
    R(easy_recv, "curl_easy_recv");
    R(easy_pause, "curl_easy_pause");
    R(share_setopt, "curl_share_setopt");
    R(share_cleanup, "curl_share_cleanup");
    R(easy_option_by_id, "curl_easy_option_by_id");
#undef R
}

static void resolve(void)
{
    fill(handle_of_loaded_libcurl());
}

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
    pthread_once(&once, resolve);
    if ((api.easy_perform && api.easy_init) || llf_forked_mid_load())
        return;
    llf_load_begin();   /* (a fork() waits for it) */
    void *lib = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_LOCAL);
    if (lib)
        fill(lib);
    /* libcurl initialises itself (and OpenSSL, some milliseconds) in the
     * first curl_easy_init, under a spin lock: a child forked meanwhile
     * spun in its own first one for ever (seen: a relay thread's, as
     * another thread forked). So that is done here, in the load. */
    CURL *h = api.easy_init && api.easy_cleanup ? api.easy_init() : NULL;
    if (h)
        api.easy_cleanup(h);
    llf_load_end();
}

const llf_curl_api *llf_curl_for_transfers(void)
{
    pthread_once(&load_once, load);
    return api.easy_perform && api.easy_init && api.easy_setopt ? &api : NULL;
}

const llf_curl_api *llf_real_curl(void)
{
    pthread_once(&once, resolve);
    return &api;
}

int llf_guard_live(const void *frame)
{
    if (llf_guard_frame && (const char *)frame > (const char *)llf_guard_frame) {
        llf_in_lib = llf_curl_direct = 0;
        llf_guard_frame = NULL;
    }
    return llf_in_lib;
}

/* Two copies of the library in one process (nested wrappers of two
 * installs put both in LD_PRELOAD): the program's calls reach the first
 * copy's hooks, and that copy's calls of the real functions reach the
 * second's, which would judge, log and count every call again. Only the
 * first acts; the second passes everything on. So each copy exports this
 * one name beside its hooks, and the copy that owns it in the search order
 * is the first. (Compared by a hidden alias: a reference to the exported
 * name itself would be bound to the first copy's, in every copy.) */
static const char own_marker[] = "llmfallback";
LLF_EXPORT extern const char llmfallback_shim[sizeof own_marker] __attribute__((alias("own_marker")));

int llf_disabled(void)
{
    static int state = -1; /* races are benign: every thread computes the same */
    if (state < 0) {
        /* (what a user would write for "not disabled" is not disabled) */
        static const char *const no[] = {"", "0", "false", "no", "off"};
        const char *v = getenv("LLMFALLBACK_DISABLE");
        int off = v != NULL;
        for (size_t i = 0; v && i < sizeof no / sizeof no[0]; i++)
            if (strcasecmp(v, no[i]) == 0)
                off = 0;
        const void *first = dlsym(RTLD_DEFAULT, "llmfallback_shim");
        /* A set-user-ID program (AT_SECURE: sudo, passwd; only a library
         * in /etc/ld.so.preload reaches one) is no LLM client, and must
         * not read a configuration, or write a log or a health file, that
         * the user running it names in its environment: it passes. */
        state = off || (first && first != (const void *)own_marker) || getauxval(AT_SECURE);
    }
    return state || llf_forked_mid_load();
}
