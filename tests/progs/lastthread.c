/* lastthread.c — a program that ends by its last thread ending: its main
 * thread leaves with pthread_exit (glibc then calls exit(0) in the last
 * thread to end).
 *
 *   lastthread PORT|URL [LATER]
 *
 * One chat call, over plain http on a raw socket to 127.0.0.1:PORT (the
 * relay's path), or with libcurl to URL (the libcurl path), on a thread
 * the main one waits for; then a second thread makes another call, after
 * LATER seconds (default 0), and the main thread leaves at once. Prints
 * "NAME answered" or "NAME no answer" per call. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

static int port, later;
static const char *url;

static size_t keep(char *p, size_t s, size_t n, void *ud)
{
    char *buf = ud;
    size_t have = strlen(buf), add = s * n;
    if (have + add < 8192) {
        memcpy(buf + have, p, add);
        buf[have + add] = 0;
    }
    return s * n;
}

/* The call with libcurl, its answer in buf: its status. */
static long curl_call(const char *body, const char *auth, char *buf)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hl = curl_slist_append(curl_slist_append(NULL, auth), "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, buf);
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    curl_slist_free_all(hl);
    return status;
}

static void *answered(const char *name, int ok, const char *buf)
{
    char rid[64];
    snprintf(rid, sizeof rid, "[rid:%s]", name);
    printf("%s %s\n", name, ok && strstr(buf, rid) ? "answered" : "no answer");
    fflush(stdout);
    return NULL;
}

static void *call(void *arg)
{
    const char *name = arg;
    if (strcmp(name, "second") == 0 && later)
        sleep((unsigned)later);
    const char *key = getenv("OPENAI_API_KEY");
    char body[256], req[1024], buf[8192] = "";
    int bl = snprintf(body, sizeof body,
                      "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi [rid:%s]\"}]}", name);
    if (url) {
        snprintf(req, sizeof req, "Authorization: Bearer %s", key ? key : "");
        long status = curl_call(body, req, buf);
        return answered(name, status == 200, buf);
    }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a)) {
        perror("connect");
        return NULL;
    }
    int rl = snprintf(req, sizeof req,
                      "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                      "Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
                      port, key ? key : "", bl, body);
    if (write(s, req, (size_t)rl) != rl)
        perror("write");
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf - 1 && (n = read(s, buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = 0;
    close(s);
    return answered(name, strncmp(buf, "HTTP/1.1 200 ", 13) == 0, buf);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (strncmp(argv[1], "http", 4) == 0)
        url = argv[1];
    else
        port = atoi(argv[1]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    later = argc > 2 ? atoi(argv[2]) : 0;
    pthread_t t;
    pthread_create(&t, NULL, call, "first");
    pthread_join(t, NULL);
    pthread_create(&t, NULL, call, "second");   /* still running when main leaves */
    pthread_exit(NULL);
}
