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
 * A tree that is parsed, read and deleted within one function on one thread
 * (an answer being judged) needs no blocks of its own at all: its nodes and
 * strings are cut from a per-thread scratch area, and deleting it is
 * forgetting them (llf_json_parse_scratch). Blocks that do not fit come
 * from malloc(), and the tree is then deleted as usual, free() passing over
 * the blocks in the scratch area.
 *
 * The copy of cJSON is our own (third_party/cjson), built with hidden
 * symbols: its hooks are global, and in a shared libcjson they would belong
 * to the host. Sanitizer builds keep no blocks, so that AddressSanitizer
 * still sees every use after free; the scratch area is poisoned around its
 * blocks and after each tree, for the same reason. */
#include "jsonmem.h"
#include "hubutil.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#include "cjson/cJSON.h"
#include "forklock.h"

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

#if LLF_JSONMEM_CACHE
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#define REDZONE        0
#else
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#define REDZONE        16   /* poisoned between blocks: an overrun is reported */
#endif

#define CLASSES 17   /* usable sizes up to 271 bytes */
#define DEPTH   64
/* A judged answer of a few KB makes a tree of some ten times its size. */
#define SCRATCH (32 * 1024)

typedef struct cache {
    void          *head[CLASSES];   /* each block's first word links the next */
    unsigned short n[CLASSES];
    int            state;           /* 0 new, 1 released at exit, -1 no caching */
    char          *scratch;         /* SCRATCH bytes, made on first use */
    size_t         used;            /* cut from it for the live scratch tree (0: none) */
    int            on;              /* a scratch tree is being parsed */
    int            spilled;         /* ...and some of it came from malloc() */
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
    if (c->scratch) {
        UNPOISON(c->scratch, SCRATCH);
        free(c->scratch);
        c->scratch = NULL;
    }
    c->state = -1;   /* frees later in this thread's exit go straight to free() */
}

static llf_exit_key exit_key = {release, 0, 0};

static pthread_mutex_t key_lock = LLF_FORKLOCK_INIT;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static void key_atfork(void) { llf_forklock(&key_lock); }

int llf_at_thread_exit(llf_exit_key *k, void *arg)
{
    if (!__atomic_load_n(&k->state, __ATOMIC_ACQUIRE)) {
        pthread_once(&key_once, key_atfork);
        pthread_mutex_lock(&key_lock);
        if (!k->state)
            __atomic_store_n(&k->state, pthread_key_create(&k->key, k->fn) == 0 ? 1 : -1, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&key_lock);
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
    if (t->on) {
        size_t need = (c << 4) + REDZONE;
        if (n && need <= SCRATCH - t->used) {
            void *p = t->scratch + t->used;
            t->used += need;
            UNPOISON(p, n);
            return p;
        }
        t->spilled = 1;
        return malloc(n);
    }
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

static int in_scratch(const cache *t, const void *p)
{
    return t->scratch && (const char *)p >= t->scratch && (const char *)p < t->scratch + SCRATCH;
}

void llf_json_free(void *p)
{
    if (!p)
        return;
    cache *t = here();
    if (in_scratch(t, p))
        return;   /* forgotten with its tree (llf_json_delete_scratch) */
    size_t c = malloc_usable_size(p) >> 4;
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

/* This thread's scratch area, made on first use. 0 ok. */
static int have_scratch(cache *t)
{
    if (t->scratch)
        return 0;
    if (t->state < 0 || !(t->scratch = malloc(SCRATCH)))
        return -1;
    if (t->state == 0 && adopt(t) != 0) {   /* (its release at exit is the caches') */
        free(t->scratch);
        t->scratch = NULL;
        return -1;
    }
    POISON(t->scratch, SCRATCH);
    return 0;
}

/* The scratch tree's blocks, forgotten. */
static void forget(cache *t)
{
    if (t->scratch)
        POISON(t->scratch, t->used);
    t->used = 0;
    t->spilled = 0;
}

cJSON *llf_json_parse_scratch(const char *p, size_t n)
{
    cache *t = here();
    /* one scratch tree at a time: another one is parsed as usual */
    if (t->used || t->on || have_scratch(t) != 0)
        return llf_json_parse_exact(p, n);
    t->on = 1;
    t->spilled = 0;
    cJSON *j = llf_json_parse_exact(p, n);
    t->on = 0;
    if (!j)
        forget(t);   /* what the failed parse cut */
    return j;
}

void llf_json_delete_scratch(cJSON *j)
{
    if (!j)
        return;
    cache *t = here();
    if (!in_scratch(t, j)) {
        cJSON_Delete(j);
        return;
    }
    if (t->spilled)
        cJSON_Delete(j);   /* for its blocks from malloc() */
    forget(t);
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
