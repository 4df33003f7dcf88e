/* curlinfo.c — libcurl programs for what a managed call looks like to the
 * program beyond its bytes: its socket callbacks, its progress callback's
 * abort, what curl_easy_getinfo says, a header callback's failure. One case
 * per run; prints "name value" lines for the test to compare.
 *
 *   curlinfo CASE CHAT_URL [ARG]
 *
 * osock    OPENSOCKETFUNCTION rewriting every address's port to ARG (a
 *          forwarder of the program's), a SOCKOPTFUNCTION and a
 *          CLOSESOCKETFUNCTION; two calls; how often each was called
 * xabort   an XFERINFOFUNCTION that aborts once the call has run ARG ms;
 *          prints rc, errbuf, the status, the bytes and progress calls
 * pabort   the same with the old PROGRESSFUNCTION
 * info     a call, then every getinfo item that describes its transfer
 *          (ARG "fail": under FAILONERROR)
 * habort   a HEADERFUNCTION that fails at its first line */
#define CURL_DISABLE_DEPRECATION 1   /* the old PROGRESSFUNCTION is what a case checks */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int fwd_port, opens, sockopts, closes;
static size_t got;
static int progress_calls, abort_after_ms;
static struct timespec t0;

static double ms_since(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0.tv_sec) * 1e3 + (double)(t.tv_nsec - t0.tv_nsec) / 1e6;
}

static curl_socket_t opensock(void *u, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)u, (void)purpose;
    opens++;
    ((struct sockaddr_in *)&a->addr)->sin_port = htons((unsigned short)fwd_port);
    return socket(a->family, a->socktype, a->protocol);
}

/* (CURL_SOCKOPT_ALREADY_CONNECTED, by which this callback could send the
 * connection anywhere, fails every TCP connect in libcurl 7.88) */
static int sockopt(void *u, curl_socket_t fd, curlsocktype p)
{
    (void)u, (void)fd, (void)p;
    sockopts++;
    return CURL_SOCKOPT_OK;
}

static int closesock(void *u, curl_socket_t fd)
{
    (void)u;
    closes++;
    return close(fd);
}

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p, (void)u;
    got += s * n;
    return s * n;
}

static size_t hfail(char *p, size_t s, size_t n, void *u)
{
    (void)p, (void)s, (void)n, (void)u;
    return 0;
}

static int xferinfo(void *u, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)u, (void)dt, (void)dn, (void)ut, (void)un;
    progress_calls++;
    return ms_since() > abort_after_ms;
}

static int oldprogress(void *u, double dt, double dn, double ut, double un)
{
    (void)u, (void)dt, (void)dn, (void)ut, (void)un;
    progress_calls++;
    return ms_since() > abort_after_ms;
}

static CURL *chat_handle(const char *url, struct curl_slist **hl, char *err)
{
    CURL *h = curl_easy_init();
    *hl = curl_slist_append(NULL, "Content-Type: application/json");
    const char *key = getenv("OPENAI_API_KEY");
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key ? key : "");
    *hl = curl_slist_append(*hl, auth);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hl);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS,
                     "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    return h;
}

static void info(CURL *h)
{
    static const struct { CURLINFO i; const char *name; } items[] = {
        {CURLINFO_RESPONSE_CODE, "RESPONSE_CODE"}, {CURLINFO_EFFECTIVE_URL, "EFFECTIVE_URL"},
        {CURLINFO_RETRY_AFTER, "RETRY_AFTER"}, {CURLINFO_PRIMARY_IP, "PRIMARY_IP"},
        {CURLINFO_PRIMARY_PORT, "PRIMARY_PORT"}, {CURLINFO_LOCAL_IP, "LOCAL_IP"},
        {CURLINFO_NUM_CONNECTS, "NUM_CONNECTS"}, {CURLINFO_REQUEST_SIZE, "REQUEST_SIZE"},
        {CURLINFO_SCHEME, "SCHEME"}, {CURLINFO_SIZE_UPLOAD_T, "SIZE_UPLOAD_T"},
        {CURLINFO_SIZE_DOWNLOAD_T, "SIZE_DOWNLOAD_T"}, {CURLINFO_REDIRECT_COUNT, "REDIRECT_COUNT"},
        {CURLINFO_OS_ERRNO, "OS_ERRNO"}, {CURLINFO_HEADER_SIZE, "HEADER_SIZE"},
        {CURLINFO_CONTENT_LENGTH_UPLOAD_T, "CONTENT_LENGTH_UPLOAD_T"},
    };
    for (size_t k = 0; k < sizeof items / sizeof *items; k++) {
        CURLINFO i = items[k].i;
        int type = (int)i & CURLINFO_TYPEMASK;
        if (type == CURLINFO_STRING) {
            char *v = NULL;
            curl_easy_getinfo(h, i, &v);
            printf("%s %s\n", items[k].name, v ? v : "(nil)");
        } else if (type == CURLINFO_LONG) {
            long v = -7;
            curl_easy_getinfo(h, i, &v);
            printf("%s %ld\n", items[k].name, v);
        } else {
            curl_off_t v = -7;
            curl_easy_getinfo(h, i, &v);
            printf("%s %ld\n", items[k].name, (long)v);
        }
    }
    /* the double items, and whether each agrees with its curl_off_t twin
     * as libcurl computes it */
    static const struct { CURLINFO d, o; double per; } twins[] = {
        {CURLINFO_NAMELOOKUP_TIME, CURLINFO_NAMELOOKUP_TIME_T, 1e6}, {CURLINFO_CONNECT_TIME, CURLINFO_CONNECT_TIME_T, 1e6},
        {CURLINFO_PRETRANSFER_TIME, CURLINFO_PRETRANSFER_TIME_T, 1e6},
        {CURLINFO_STARTTRANSFER_TIME, CURLINFO_STARTTRANSFER_TIME_T, 1e6},
        {CURLINFO_SPEED_UPLOAD, CURLINFO_SPEED_UPLOAD_T, 1}, {CURLINFO_SIZE_UPLOAD, CURLINFO_SIZE_UPLOAD_T, 1},
        {CURLINFO_CONTENT_LENGTH_UPLOAD, CURLINFO_CONTENT_LENGTH_UPLOAD_T, 1},
    };
    int agree = 1;
    for (size_t k = 0; k < sizeof twins / sizeof *twins; k++) {
        double d = -7;
        curl_off_t o = -7;
        curl_easy_getinfo(h, twins[k].d, &d);
        curl_easy_getinfo(h, twins[k].o, &o);
        agree &= d == (double)o / twins[k].per;
    }
    double up = -7;
    curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD, &up);
    printf("SIZE_UPLOAD %.0f\nTWINS %d\n", up, agree);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *cas = argv[1], *url = argv[2], *arg = argc > 3 ? argv[3] : "";
    char err[CURL_ERROR_SIZE] = "";
    struct curl_slist *hl = NULL;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = chat_handle(url, &hl, err);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!strcmp(cas, "osock")) {
        fwd_port = atoi(arg);
        curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, opensock);
        curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, sockopt);
        curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, closesock);
        /* (no reuse: each call's original goes by the callbacks again) */
        curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
        for (int i = 0; i < 2; i++) {
            long code = 0;
            CURLcode rc = curl_easy_perform(h);
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
            printf("call %d %ld\n", (int)rc, code);
        }
        printf("opens %d sockopts %d closes %d\n", opens, sockopts, closes);
    } else if (!strcmp(cas, "xabort") || !strcmp(cas, "pabort")) {
        abort_after_ms = atoi(arg);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        if (!strcmp(cas, "xabort"))
            curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xferinfo);
        else
            curl_easy_setopt(h, CURLOPT_PROGRESSFUNCTION, oldprogress);
        CURLcode rc = curl_easy_perform(h);
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        printf("rc %d\nerr %s\ncode %ld\ngot %zu\nms %.0f\nprogress %d\n", (int)rc, err, code, got,
               ms_since(), progress_calls);
    } else if (!strcmp(cas, "info")) {
        if (!strcmp(arg, "fail"))
            curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
        if (!strcmp(arg, "follow"))
            curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        CURLcode rc = curl_easy_perform(h);
        printf("rc %d\n", (int)rc);
        info(h);
    } else if (!strcmp(cas, "habort")) {
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, hfail);
        CURLcode rc = curl_easy_perform(h);
        curl_off_t size = -1;
        curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &size);
        printf("rc %d\nerr %s\nsize %ld\ngot %zu\n", (int)rc, err, (long)size, got);
    } else {
        return 2;
    }
    curl_easy_cleanup(h);
    curl_slist_free_all(hl);
    curl_global_cleanup();
    return 0;
}
