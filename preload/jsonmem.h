/* jsonmem.h — the allocator behind the library's own copy of cJSON. */
#ifndef LLF_JSONMEM_H
#define LLF_JSONMEM_H

#include <stddef.h>

/* cJSON's allocation hooks (installed when the library is loaded). Blocks are
 * ordinary malloc() blocks: free() may release any of them, from any thread. */
void *llf_json_alloc(size_t n);
void  llf_json_free(void *p);

/* Blocks this thread holds for reuse (for tests). */
size_t llf_json_cached(void);

#endif
