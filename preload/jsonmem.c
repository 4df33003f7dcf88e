/* jsonmem.c — the allocator behind the library's own copy of cJSON.
 *
 * cJSON allocates every node, key, string and number on its own: judging one
 * small answer is some fifty malloc/free pairs of a few sizes. That many
 * blocks of one size overflow glibc's per-thread cache into its fast bins,
 * and the next large allocation (libcurl makes one per transfer) has to
 * consolidate them: together a fifth of what the library added to a call.
 * So freed small blocks are kept per thread, per 16-byte size class, and
 * handed out again. They stay ordinary malloc() blocks (a printed body is
 * adopted by an llf_buf and released with free(); a block may be freed on
 * another thread than made it), a class holds at most DEPTH of them, and a
 * thread's are released when it exits.
 *
 * The copy of cJSON is our own (third_party/cjson), built with hidden
 * symbols: its hooks are global, and in a shared libcjson they would belong
 * to the host. Sanitizer builds keep no blocks, so that AddressSanitizer
 * still sees every use after free. */
#include "jsonmem.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#include "cjson/cJSON.h"

#if defined(__SANITIZE_ADDRESS__)
#define LLF_JSONMEM_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LLF_JSONMEM_CACHE 0
#endif
#endif
#ifndef LLF_JSONMEM_CACHE
#define LLF_JSONMEM_CACHE 1
#endif

#define CLASSES 17   /* usable sizes up to 271 bytes */
#define DEPTH   64

typedef struct cache {
    void          *head[CLASSES];   /* each block's first word links the next */
    unsigned short n[CLASSES];
    int            state;           /* 0 new, 1 released at exit, -1 no caching */
} cache;

static __thread cache tc;

static void release(void *arg)
{
    cache *c = arg;
    for (int i = 0; i < CLASSES; i++) {
        while (c->head[i]) {
            void *p = c->head[i];
            c->head[i] = *(void **)p;
            free(p);
        }
        c->n[i] = 0;
    }
    c->state = -1;   /* frees later in this thread's exit go straight to free() */
}

static llf_exit_key exit_key = {release, 0, 0};

int llf_at_thread_exit(llf_exit_key *k, void *arg)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    if (!__atomic_load_n(&k->state, __ATOMIC_ACQUIRE)) {
        pthread_mutex_lock(&mu);
        if (!k->state)
            __atomic_store_n(&k->state, pthread_key_create(&k->key, k->fn) == 0 ? 1 : -1, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&mu);
    }
    return k->state > 0 && pthread_setspecific(k->key, arg) == 0 ? 0 : -1;
}

/* This thread's cache. In a dlopen()ed library the address of tc is a call
 * to __tls_get_addr, which GCC repeats at every use rather than keep in a
 * register; the empty asm makes the pointer opaque, so it is taken once. */
static inline cache *here(void)
{
    cache *t = &tc;
    __asm__("" : "+r"(t));
    return t;
}

void *llf_json_alloc(size_t n)
{
    size_t c = (n + 15) >> 4;   /* blocks of class c have at least 16c usable bytes */
    cache *t = here();
    if (c < CLASSES && t->head[c]) {
        void *p = t->head[c];
        t->head[c] = *(void **)p;
        t->n[c]--;
        return p;
    }
    return malloc(n);
}

/* The first block a thread keeps: register the release at its exit. 0 ok. */
__attribute__((noinline)) static int adopt(cache *t)
{
    t->state = llf_at_thread_exit(&exit_key, t) == 0 ? 1 : -1;
    return t->state > 0 ? 0 : -1;
}

void llf_json_free(void *p)
{
    if (!p)
        return;
    size_t c = malloc_usable_size(p) >> 4;
    cache *t = here();
    /* class 0 (under 16 usable bytes, which glibc never makes but valgrind's
     * exact-size blocks can be) might not hold the link */
    if (LLF_JSONMEM_CACHE && c >= 1 && c < CLASSES && t->n[c] < DEPTH && t->state >= 0 &&
        (t->state == 1 || adopt(t) == 0)) {
        *(void **)p = t->head[c];
        t->head[c] = p;
        t->n[c]++;
        return;
    }
    free(p);
}

size_t llf_json_cached(void)
{
    size_t n = 0;
    for (int i = 0; i < CLASSES; i++)
        n += tc.n[i];
    return n;
}

/* Before anything in this library parses: it is loaded (or the tests start)
 * with no JSON made yet. */
__attribute__((constructor)) static void install(void)
{
    cJSON_Hooks h = {llf_json_alloc, llf_json_free};
    cJSON_InitHooks(&h);
}
