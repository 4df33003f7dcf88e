/* bench_client.c — an ordinary libcurl program that times chat calls on
 * keep-alive handles and prints the distribution:
 *
 *   bench_client URL N [WARMUP [CONNECTIONS]]
 *   → median_us=… p10_us=… p90_us=… ok=K status=LAST calls_per_s=…
 *
 * CONNECTIONS threads each make N calls (after WARMUP) on their own handle.
 * $BENCH_HEADER, when set, is sent as one more request header (a gateway's
 * routing header). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

static const char *url, *extra;
static int n, warm;
static double *t;
static int ok_total;
static long last_status;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static size_t sink(char *p, size_t s, size_t m, void *u)
{
    (void)p;
    (void)u;
    return s * m;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double now_us(void)
{
    struct timespec a;
    clock_gettime(CLOCK_MONOTONIC, &a);
    return (double)a.tv_sec * 1e6 + (double)a.tv_nsec / 1e3;
}

static void *worker(void *arg)
{
    double *mine = t + (long)arg * n;
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", getenv("OPENAI_API_KEY") ? getenv("OPENAI_API_KEY") : "");
    CURL *h = curl_easy_init();
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    hd = curl_slist_append(hd, auth);
    if (extra)
        hd = curl_slist_append(hd, extra);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    int ok = 0;
    long status = 0;
    for (int i = -warm; i < n; i++) {
        double a = now_us();
        CURLcode rc = curl_easy_perform(h);
        double b = now_us();
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (i >= 0) {
            mine[i] = b - a;
            ok += rc == CURLE_OK && status == 200;
        }
    }
    pthread_mutex_lock(&mu);
    ok_total += ok;
    last_status = status;
    pthread_mutex_unlock(&mu);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    url = argv[1];
    n = atoi(argv[2]);
    warm = argc > 3 ? atoi(argv[3]) : 0;
    int conns = argc > 4 ? atoi(argv[4]) : 1;
    extra = getenv("BENCH_HEADER");
    if (n < 1 || conns < 1 || conns > 256)
        return 2;
    t = calloc((size_t)n * (size_t)conns, sizeof *t);
    curl_global_init(CURL_GLOBAL_ALL);
    pthread_t th[256];
    double a = now_us();
    for (long i = 0; i < conns; i++)
        pthread_create(&th[i], NULL, worker, (void *)i);
    for (int i = 0; i < conns; i++)
        pthread_join(th[i], NULL);
    double secs = (now_us() - a) / 1e6;
    size_t total = (size_t)n * (size_t)conns;
    qsort(t, total, sizeof *t, cmp);
    printf("median_us=%.1f p10_us=%.1f p90_us=%.1f ok=%d status=%ld calls_per_s=%.0f\n", t[total / 2],
           t[total / 10], t[total * 9 / 10], ok_total, last_status, (double)(total + (size_t)warm * conns) / secs);
    curl_global_cleanup();
    free(t);
    return 0;
}
