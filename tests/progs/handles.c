/* handles.c — a libcurl program exercising handle life cycles under the
 * library: a call, curl_easy_duphandle and a call on the copy, fork() and a
 * call in the child, curl_easy_reset and a plain download on the reset
 * handle. Prints one line per step; exits 0 when every step got what a
 * program without the library would expect from a working provider.
 *
 *   handles CHAT_URL BLOB_URL BLOB_SHA_PREFIX_IGNORED */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

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

static int chat(CURL *h, const char *step)
{
    buf b = {0};
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    int ok = rc == CURLE_OK && code == 200 && b.p && strstr(b.p, "Hello from");
    const char *who = b.p ? strstr(b.p, "Hello from ") : NULL;
    printf("%s pid=%d status=%ld curl=%d answer=%.*s\n", step, (int)getpid(), code, (int)rc,
           who ? (int)strcspn(who + 11, " ") : 1, who ? who + 11 : "-");
    fflush(stdout);
    free(b.p);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    curl_global_init(CURL_GLOBAL_ALL);
    const char *key = getenv("OPENAI_API_KEY");
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key ? key : "");
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, auth);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, argv[1]);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    /* POSTFIELDS: libcurl 7.88 cannot duphandle after COPYPOSTFIELDS. */
    curl_easy_setopt(h, CURLOPT_POSTFIELDS,
                     "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    int ok = chat(h, "first");

    CURL *d = curl_easy_duphandle(h);
    ok &= chat(d, "duphandle");
    curl_easy_cleanup(d);

    pid_t pid = fork();
    if (pid == 0) {
        int c = chat(h, "child");
        curl_easy_cleanup(h);
        exit(c ? 0 : 1);
    }
    int status = 1;
    waitpid(pid, &status, 0);
    ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    ok &= chat(h, "parent-after-fork");

    /* A reset handle is a fresh handle: a plain GET download, untouched. */
    curl_easy_reset(h);
    buf b = {0};
    curl_easy_setopt(h, CURLOPT_URL, argv[2]);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    printf("reset-download status=%ld bytes=%zu\n", code, b.n);
    ok &= rc == CURLE_OK && code == 200 && b.n > 0;
    free(b.p);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    curl_global_cleanup();
    return ok ? 0 : 1;
}
