/* heldlock.c — a libcurl program that makes itself fork-safe the usual way:
 * its lock M is taken by its own fork handler (pthread_atfork(lock, unlock,
 * unlock)), and held by a thread across each chat call. One thread makes
 * the calls (with "after", one call first, then the timed one); another
 * forks DELAY ms after that call began. The child only exits; the parent
 * prints "call N ms, fork N ms, child S". An alarm ends a hung run.
 *
 *   heldlock URL DELAY_MS [after] */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t M = PTHREAD_MUTEX_INITIALIZER;
static void take(void) { pthread_mutex_lock(&M); }
static void give(void) { pthread_mutex_unlock(&M); }

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static const char *url;
static double call_ms;
static long status;

static void *call(void *unused)
{
    (void)unused;
    CURL *h = curl_easy_init();
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    const char *key = getenv("OPENAI_API_KEY");
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key ? key : "");
    hd = curl_slist_append(hd, auth);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS,
                     "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    pthread_mutex_lock(&M);
    double t0 = now_ms();
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    call_ms = now_ms() - t0;
    pthread_mutex_unlock(&M);
    curl_easy_cleanup(h);
    curl_slist_free_all(hd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    url = argv[1];
    alarm(20);
    pthread_atfork(take, give, give);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (argc > 3 && strcmp(argv[3], "after") == 0)
        call(NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, call, NULL))
        return 2;
    usleep((useconds_t)atoi(argv[2]) * 1000);
    double t0 = now_ms();
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    double fork_ms = now_ms() - t0;
    int st = -1;
    waitpid(p, &st, 0);
    pthread_join(t, NULL);
    printf("call %.0f ms, fork %.0f ms, status %ld, child %d\n", call_ms, fork_ms, status,
           WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
