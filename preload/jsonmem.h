/* jsonmem.h — the allocator behind the library's own copy of cJSON. */
#ifndef LLF_JSONMEM_H
#define LLF_JSONMEM_H

#include <pthread.h>
#include <stddef.h>

/* cJSON's allocation hooks (installed when the library is loaded). Blocks are
 * ordinary malloc() blocks: free() may release any of them, from any thread. */
void *llf_json_alloc(size_t n);
void  llf_json_free(void *p);

/* llf_json_parse_exact() for a tree parsed, read and deleted within one
 * function on one thread, with llf_json_delete_scratch(), and given to no
 * other tree or free(): its blocks are cut from this thread's scratch area
 * (one such tree at a time; another one is parsed as usual). */
struct cJSON;
struct cJSON *llf_json_parse_scratch(const char *p, size_t n);
void llf_json_delete_scratch(struct cJSON *j);

/* Blocks this thread holds for reuse (for tests). */
size_t llf_json_cached(void);

/* A release of per-thread memory at each thread's exit (the block caches
 * here, endpoints.c's last match): fn, with what the thread registered. */
typedef struct llf_exit_key {
    void (*fn)(void *);
    int state;   /* 0 not made yet, 1 made, -1 cannot be */
    pthread_key_t key;
} llf_exit_key;

/* Have k->fn(arg) run when this thread exits. 0 ok, -1 it will not. */
int llf_at_thread_exit(llf_exit_key *k, void *arg);

#endif
