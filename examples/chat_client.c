/* chat_client.c — an ordinary libcurl program that knows nothing of
 * llmfallback: it makes several OpenAI-style chat calls per thread, reusing
 * one easy handle per thread (keep-alive), from several threads at once.
 *
 *   chat_client URL [-n CALLS] [-t THREADS] [-m MODEL] [-k KEYVAR]
 *               [--body posts|copy|read]
 *
 * Each call's prompt carries a tag [rid:T-I]; a mock provider echoes it, so
 * the output shows that every answer belongs to its own request. Prints one
 * line per call: "T I status=S provider=P rid=ok|bad bytes=N". Exits 0 when
 * every call got a 200 whose answer carries its own tag. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

static const char *url, *model = "gpt-4o", *keyvar = "OPENAI_API_KEY", *mode = "posts";
static int calls = 3, threads = 1;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct buf {
    char *p;
    size_t n;
} buf;

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    buf *b = ud;
    size_t n = size * nmemb;
    char *q = realloc(b->p, b->n + n + 1);
    if (!q)
        return 0;
    memcpy(q + b->n, p, n);
    b->n += n;
    q[b->n] = '\0';
    b->p = q;
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    char *provider = ud;
    size_t n = size * nmemb;
    static const char name[] = "x-llmfallback-provider:";
    if (n > sizeof name && strncasecmp(p, name, sizeof name - 1) == 0) {
        size_t v = sizeof name - 1;
        while (v < n && p[v] == ' ')
            v++;
        size_t e = n;
        while (e > v && (p[e - 1] == '\r' || p[e - 1] == '\n'))
            e--;
        snprintf(provider, 64, "%.*s", (int)(e - v), p + v);
    }
    return n;
}

typedef struct reader {
    const char *p;
    size_t left;
} reader;

static size_t on_read(char *dst, size_t size, size_t nmemb, void *ud)
{
    reader *r = ud;
    size_t n = size * nmemb < r->left ? size * nmemb : r->left;
    memcpy(dst, r->p, n);
    r->p += n;
    r->left -= n;
    return n;
}

static void *worker(void *arg)
{
    long t = (long)arg, bad = 0;
    CURL *h = curl_easy_init();
    if (!h)
        return (void *)1L;
    char auth[512];
    const char *key = getenv(keyvar);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key ? key : "");
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, auth);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    for (int i = 0; i < calls; i++) {
        char body[512], tag[64], provider[64] = "-";
        snprintf(tag, sizeof tag, "[rid:%ld-%d]", t, i);
        snprintf(body, sizeof body,
                 "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"hello %s\"}]}",
                 model, tag);
        buf b = {0};
        reader r = {body, strlen(body)};
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, provider);
        if (strcmp(mode, "copy") == 0) {
            curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body);
        } else if (strcmp(mode, "read") == 0) {
            curl_easy_setopt(h, CURLOPT_POST, 1L);
            curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(h, CURLOPT_READDATA, &r);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        } else {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        }
        CURLcode rc = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        int rid_ok = b.p && strstr(b.p, tag) != NULL;
        pthread_mutex_lock(&out_lock);
        printf("%ld %d status=%ld provider=%s rid=%s bytes=%zu curl=%d\n", t, i, status, provider,
               rid_ok ? "ok" : "bad", b.n, (int)rc);
        fflush(stdout);
        pthread_mutex_unlock(&out_lock);
        bad += rc != CURLE_OK || status != 200 || !rid_ok;
        free(b.p);
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return (void *)bad;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [-n CALLS] [-t THREADS] [-m MODEL] [-k KEYVAR] "
                        "[--body posts|copy|read]\n", argv[0]);
        return 2;
    }
    url = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-n") == 0) calls = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "-t") == 0) threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "-m") == 0) model = argv[i + 1];
        else if (strcmp(argv[i], "-k") == 0) keyvar = argv[i + 1];
        else if (strcmp(argv[i], "--body") == 0) mode = argv[i + 1];
    }
    if (threads < 1 || threads > 256 || calls < 1) {
        fprintf(stderr, "bad -n or -t\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_ALL);
    pthread_t tid[256];
    for (long t = 0; t < threads; t++)
        pthread_create(&tid[t], NULL, worker, (void *)t);
    long bad = 0;
    for (long t = 0; t < threads; t++) {
        void *r;
        pthread_join(tid[t], &r);
        bad += (long)r;
    }
    curl_global_cleanup();
    return bad ? 1 : 0;
}
