/* bench_client.c — an ordinary libcurl program that times N sequential chat
 * calls on one keep-alive handle and prints the distribution:
 *
 *   bench_client URL N [WARMUP]
 *   → median_us=… p10_us=… p90_us=… ok=K status=LAST */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    int n = atoi(argv[2]), warm = argc > 3 ? atoi(argv[3]) : 0;
    if (n < 1)
        return 2;
    double *t = calloc((size_t)n, sizeof *t);
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", getenv("OPENAI_API_KEY") ? getenv("OPENAI_API_KEY") : "");
    curl_global_init(CURL_GLOBAL_ALL);
    CURL *h = curl_easy_init();
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    hd = curl_slist_append(hd, auth);
    curl_easy_setopt(h, CURLOPT_URL, argv[1]);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    int ok = 0;
    long status = 0;
    for (int i = -warm; i < n; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        CURLcode rc = curl_easy_perform(h);
        clock_gettime(CLOCK_MONOTONIC, &b);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (i >= 0) {
            t[i] = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
            ok += rc == CURLE_OK && status == 200;
        }
    }
    qsort(t, (size_t)n, sizeof *t, cmp);
    printf("median_us=%.1f p10_us=%.1f p90_us=%.1f ok=%d status=%ld\n", t[n / 2], t[n / 10], t[n * 9 / 10], ok, status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    free(t);
    return 0;
}
