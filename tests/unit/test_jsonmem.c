/* jsonmem: cJSON's blocks kept per thread, bounded, released at thread exit,
 * and ordinary malloc blocks throughout. */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "jsonmem.h"
#include "t.h"

static void *keep_many(void *arg)
{
    void *b[200];
    for (int i = 0; i < 200; i++)
        b[i] = llf_json_alloc(40);
    for (int i = 0; i < 200; i++)
        llf_json_free(b[i]);
    *(size_t *)arg = llf_json_cached();
    return NULL;
}

static void *free_other(void *arg)
{
    llf_json_free(arg);   /* made on another thread */
    return NULL;
}

void test_jsonmem(void)
{
    /* A class keeps at most 64 blocks (none in sanitizer builds). */
    size_t kept = 999;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, keep_many, &kept) == 0 && pthread_join(t, NULL) == 0);
    CHECK(kept <= 64);

    /* Blocks kept by threads that have exited are released: 40 threads each
     * keeping 64 blocks would leave ~120 KB in use otherwise. */
    struct mallinfo2 before = mallinfo2();
    for (int i = 0; i < 40; i++)
        CHECK(pthread_create(&t, NULL, keep_many, &kept) == 0 && pthread_join(t, NULL) == 0);
    struct mallinfo2 after = mallinfo2();
    CHECK(after.uordblks < before.uordblks + 32 * 1024);

    /* A block is a malloc block: free() and another thread may release it;
     * one handed out again is usable at its full size. */
    char *p = llf_json_alloc(100);
    CHECK(p != NULL);
    free(p);
    p = llf_json_alloc(30);
    CHECK(p && pthread_create(&t, NULL, free_other, p) == 0 && pthread_join(t, NULL) == 0);
    for (int i = 0; i < 3; i++) {
        char *q = llf_json_alloc(48);
        CHECK(q && malloc_usable_size(q) >= 48);
        memset(q, 'x', 48);
        llf_json_free(q);
    }

    /* cJSON uses it: a printed document is freed with free(). */
    cJSON *j = cJSON_Parse("{\"a\":[1,2,{\"b\":\"c\"}],\"d\":\"e\"}");
    char *s = cJSON_PrintUnformatted(j);
    CHECK_STR(s, "{\"a\":[1,2,{\"b\":\"c\"}],\"d\":\"e\"}");
    free(s);
    cJSON_Delete(j);
}
