/* jsonmem: cJSON's blocks kept per thread, bounded, released at thread exit,
 * and ordinary malloc blocks throughout. */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "hubutil.h"
#include "jsonmem.h"
#include "t.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

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

/* A lone UTF-16 surrogate escape, which cJSON refuses, mended to U+FFFD
 * (each, in place); a pair, an escaped backslash before "u", and text
 * without one left alone (NULL). */
static void mend_surrogates(void)
{
    static const char *const cases[][2] = {
        {"\"Hello \\ud83d there\"", "\"Hello \\ufffd there\""},
        {"\"\\uDE00\"", "\"\\ufffd\""},                                   /* a low half alone */
        {"\"\\ud83d\\u0041\"", "\"\\ufffd\\u0041\""},                    /* a high half before no low */
        {"\"\\ud83d\\ud83d\\ude00\"", "\"\\ufffd\\ud83d\\ude00\""},         /* then a pair */
        {"{\"a\":\"\\ud83d\",\"b\":\"\\n\\udfff\"}", "{\"a\":\"\\ufffd\",\"b\":\"\\n\\ufffd\"}"},
        {"\"\\ud83d\\ude00 \\u00e9\"", NULL},                                   /* a pair */
        {"\"\\\\ud83d\"", NULL},                                                /* a backslash, then text */
        {"\"\\ud8\"", NULL},                                                     /* no escape at all */
        {"\"plain\"", NULL},
        {"\"ab\\", NULL}};                                                        /* cut after a backslash */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *m = llf_json_mend_surrogates(cases[i][0], strlen(cases[i][0]));
        if (cases[i][1])
            CHECK_STR(m, cases[i][1]);
        else
            CHECK(m == NULL);
        free(m);
    }
    CHECK(llf_json_mend_surrogates(NULL, 0) == NULL);
    /* parsed mended only when it would not parse as it is */
    const char *doc = "{\"t\":\"Hello \\ud83d there\"}";
    CHECK(cJSON_ParseWithLength(doc, strlen(doc)) == NULL);
    cJSON *j = llf_json_parse_mended(llf_json_parse_exact, doc, strlen(doc));
    CHECK(j && strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "t")), "Hello \xef\xbf\xbd there") == 0);
    cJSON_Delete(j);
    CHECK(llf_json_parse_mended(llf_json_parse_exact, "{\"t\":\"\\ud83d\"", 10) == NULL);   /* still not JSON */
}

void test_jsonmem(void)
{
    mend_surrogates();
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

/* Scratch trees (the judged answer): read like any tree, forgotten at
 * delete, one at a time per thread, spilling to malloc() when large. */
static const char doc[] = "{\"id\":\"x\",\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"ok\\n\"},"
                          "\"finish_reason\":\"stop\"}],\"n\":[1,2.5,-3e2,true,false,null]}";

static int reads_back(const cJSON *j)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "choices"), 0), "message");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "n");
    return m && strcmp(cJSON_GetObjectItemCaseSensitive(m, "content")->valuestring, "ok\n") == 0 &&
           cJSON_GetArraySize(n) == 6 && cJSON_GetArrayItem(n, 2)->valuedouble == -300 &&
           cJSON_IsNull(cJSON_GetArrayItem(n, 5));
}

/* A document whose tree is far larger than the scratch area. */
static char *big_doc(void)
{
    size_t cap = 200000, n = 0;
    char *s = malloc(cap);
    n += (size_t)sprintf(s + n, "{\"a\":[");
    for (int i = 0; i < 5000; i++)
        n += (size_t)sprintf(s + n, "%s{\"k%d\":\"v%d\"}", i ? "," : "", i, i);
    sprintf(s + n, "]}");
    return s;
}

static void *scratch_thread(void *arg)
{
    int ok = 1;
    for (int i = 0; i < 200; i++) {
        cJSON *j = llf_json_parse_scratch(doc, sizeof doc - 1);
        ok &= j && reads_back(j);
        llf_json_delete_scratch(j);
    }
    *(int *)arg = ok;
    return NULL;
}

void test_jsonmem_scratch(void)
{
    cJSON *a = llf_json_parse_scratch(doc, sizeof doc - 1);
    CHECK(a && reads_back(a));
    /* one at a time: a second one, parsed while the first lives, is its own */
    cJSON *b = llf_json_parse_scratch(doc, sizeof doc - 1);
    CHECK(b && b != a && reads_back(b));
    llf_json_delete_scratch(b);
    CHECK(reads_back(a));
    /* nor does a failed one, or deleting none, forget the live one */
    CHECK(llf_json_parse_scratch("{\"a\":", 5) == NULL);
    llf_json_delete_scratch(NULL);
    b = llf_json_parse_scratch(doc, sizeof doc - 1);
    CHECK(b && b != a && reads_back(a) && reads_back(b));
    llf_json_delete_scratch(b);
    /* forgotten, not leaked: the next one takes the same place */
    llf_json_delete_scratch(a);
#if defined(__SANITIZE_ADDRESS__)
    CHECK(__asan_address_is_poisoned(a));   /* a use after delete is reported */
#endif
    cJSON *c = llf_json_parse_scratch(doc, sizeof doc - 1);
    CHECK(c == a && reads_back(c));
    llf_json_delete_scratch(c);
    /* not JSON, or more than one value: none, and nothing kept */
    CHECK(llf_json_parse_scratch("{\"a\":[1,2", 9) == NULL);
    CHECK(llf_json_parse_scratch("{} {}", 5) == NULL);
    CHECK(llf_json_parse_scratch(NULL, 0) == NULL);
    c = llf_json_parse_scratch(doc, sizeof doc - 1);
    CHECK(c == a);
    llf_json_delete_scratch(c);
    llf_json_delete_scratch(NULL);

    /* larger than the area: the rest from malloc(), all of it released */
    char *s = big_doc();
    cJSON *j = llf_json_parse_scratch(s, strlen(s));
    CHECK(j && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "a")) == 5000);
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "a"), 4999),
                                               "k4999")->valuestring, "v4999");
    llf_json_delete_scratch(j);
    struct mallinfo2 before = mallinfo2();
    for (int i = 0; i < 20; i++)
        llf_json_delete_scratch(llf_json_parse_scratch(s, strlen(s)));
    struct mallinfo2 after = mallinfo2();
    CHECK(after.uordblks < before.uordblks + 64 * 1024);
    free(s);
    c = llf_json_parse_scratch(doc, sizeof doc - 1);
    CHECK(c == a && reads_back(c));
    llf_json_delete_scratch(c);

    /* each thread its own area, released when it exits */
    pthread_t t[4];
    int ok[4] = {0};
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, scratch_thread, &ok[i]) == 0);
    for (int i = 0; i < 4; i++)
        CHECK(pthread_join(t[i], NULL) == 0 && ok[i]);
    before = mallinfo2();
    for (int i = 0; i < 40; i++)
        CHECK(pthread_create(&t[0], NULL, scratch_thread, &ok[0]) == 0 && pthread_join(t[0], NULL) == 0 && ok[0]);
    after = mallinfo2();
    CHECK(after.uordblks < before.uordblks + 32 * 1024);   /* 40 areas of 32 KB otherwise */
}
