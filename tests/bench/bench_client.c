/* bench_client.c — an ordinary libcurl program that times chat calls on
 * keep-alive handles and prints the distribution:
 *
 *   bench_client URL N [WARMUP [CONNECTIONS]]
 *   → median_us=… p10_us=… p90_us=… ok=K status=LAST calls_per_s=…
 *
 * CONNECTIONS threads each make N calls (after WARMUP) on their own handle.
 * $BENCH_HEADER, when set, is sent as one more request header (a gateway's
 * routing header).
 *
 * With $BENCH_URL2, each thread also has a second handle on that URL and
 * calls the two in turn (which goes first alternates), and the line adds
 *   median2_us=… paired_us=… sum_us=…
 * the second URL's median, the median of the per-turn differences (second
 * minus first): two setups compared within one process and one stretch of
 * time, so that drift between runs on a busy machine, which is larger than
 * the difference measured, cancels; and the median per-turn sum: the two
 * round trips made back to back by one client, as a failover makes them
 * (about 6 us more each, here, than either measured alone: two servers and
 * two connections take turns in the caches). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

static const char *url, *url2, *extra;
static int n, warm;
static double *t, *t2;
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

static CURL *handle(const char *to, struct curl_slist *hd)
{
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, to);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    return h;
}

/* One timed call; its status in *status, whether it was answered 200 returned. */
static int timed(CURL *h, double *us, long *status)
{
    double a = now_us();
    CURLcode rc = curl_easy_perform(h);
    *us = now_us() - a;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    return rc == CURLE_OK && *status == 200;
}

static void *worker(void *arg)
{
    double *mine = t + (long)arg * n, *mine2 = t2 ? t2 + (long)arg * n : NULL, us, us2;
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", getenv("OPENAI_API_KEY") ? getenv("OPENAI_API_KEY") : "");
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    hd = curl_slist_append(hd, auth);
    if (extra)
        hd = curl_slist_append(hd, extra);
    CURL *h = handle(url, hd), *h2 = url2 ? handle(url2, hd) : NULL;
    int ok = 0;
    long status = 0, status2 = 0;
    for (int i = -warm; i < n; i++) {
        int good;
        if (!h2)
            good = timed(h, &us, &status);
        else if (i & 1)
            good = timed(h2, &us2, &status2) + timed(h, &us, &status) == 2;
        else
            good = timed(h, &us, &status) + timed(h2, &us2, &status2) == 2;
        if (i >= 0) {
            mine[i] = us;
            if (mine2)
                mine2[i] = us2;
            ok += good;
        }
    }
    pthread_mutex_lock(&mu);
    ok_total += ok;
    last_status = status;
    pthread_mutex_unlock(&mu);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    if (h2)
        curl_easy_cleanup(h2);
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
    url2 = getenv("BENCH_URL2");
    if (n < 1 || conns < 1 || conns > 256)
        return 2;
    t = calloc((size_t)n * (size_t)conns, sizeof *t);
    t2 = url2 ? calloc((size_t)n * (size_t)conns, sizeof *t2) : NULL;
    if (!t || (url2 && !t2))
        return 2;
    curl_global_init(CURL_GLOBAL_ALL);
    pthread_t th[256];
    double a = now_us();
    for (long i = 0; i < conns; i++)
        pthread_create(&th[i], NULL, worker, (void *)i);
    for (int i = 0; i < conns; i++)
        pthread_join(th[i], NULL);
    double secs = (now_us() - a) / 1e6;
    size_t total = (size_t)n * (size_t)conns;
    if (t2) {   /* the per-turn differences and sums, before t is sorted */
        double *d = calloc(total, sizeof *d), *sum = calloc(total, sizeof *sum);
        if (!d || !sum)
            return 2;
        for (size_t i = 0; i < total; i++) {
            d[i] = t2[i] - t[i];
            sum[i] = t2[i] + t[i];
        }
        qsort(d, total, sizeof *d, cmp);
        qsort(sum, total, sizeof *sum, cmp);
        qsort(t2, total, sizeof *t2, cmp);
        printf("median2_us=%.1f paired_us=%.2f sum_us=%.1f ", t2[total / 2], d[total / 2], sum[total / 2]);
        free(d);
        free(sum);
    }
    qsort(t, total, sizeof *t, cmp);
    printf("median_us=%.1f p10_us=%.1f p90_us=%.1f ok=%d status=%ld calls_per_s=%.0f\n", t[total / 2],
           t[total / 10], t[total * 9 / 10], ok_total, last_status, (double)(total + (size_t)warm * conns) / secs);
    curl_global_cleanup();
    free(t);
    free(t2);
    return 0;
}
