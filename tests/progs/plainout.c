/* plainout.c — the plainest libcurl program: one POST whose answer goes to
 * stdout through libcurl's default writer (fwrite: buffered by stdio when
 * stdout is a pipe), then it returns from main, so its reader gets the
 * answer only when exit() flushes stdio.
 *
 *   plainout URL BODY        (the bearer key from OPENAI_API_KEY) */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s URL BODY\n", argv[0]);
        return 2;
    }
    char auth[512];
    const char *key = getenv("OPENAI_API_KEY");
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key ? key : "");
    CURL *h = curl_easy_init();
    struct curl_slist *hd = curl_slist_append(curl_slist_append(NULL, "Content-Type: application/json"), auth);
    if (!h || !hd)
        return 1;
    curl_easy_setopt(h, CURLOPT_URL, argv[1]);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, argv[2]);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    return rc == CURLE_OK ? 0 : 1;
}
