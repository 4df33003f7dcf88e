/* curlstate.c — libcurl programs that check what a handle is like after a
 * managed call: the options the program set (or left at libcurl's defaults)
 * must behave as they would without the library. One case per run; prints
 * what it saw, one "name value" per line, for the test to compare.
 *
 *   curlstate CASE CHAT_URL [OTHER_URL]
 *
 * stdout    no write callback (libcurl writes to stdout), then a download
 * readsize  a read-callback body of declared size from a pipe left open,
 *           with more bytes behind it
 * upload    POSTFIELDS for one call, then an upload (UPLOAD + CUSTOMREQUEST
 *           POST) from a read callback on the same handle
 * creds     USERPWD "a:b", then PASSWORD "c"; two calls
 * cookies   a cookie jar of the handle's own: COOKIEFILE OTHER_URL/cookies.txt
 *           (OTHER_URL a directory), COOKIEJAR OTHER_URL/jar.txt, a cookie
 *           given with COOKIELIST; two calls (the jar is written at cleanup)
 * resolve   RESOLVE OTHER_URL (one entry); two calls; a copy of the handle
 *           (duphandle); curl_easy_reset (libcurl keeps what the entry put
 *           in its DNS cache) and two calls with the options set again,
 *           RESOLVE aside; the handle cleaned up, then a call on the copy
 * port      PORT OTHER_URL (a number); two calls
 * progress  the old PROGRESSFUNCTION; a download after the call
 * errbuf    ERRORBUFFER after a failed transfer, then a good call
 * multi     a call, then a download through the multi interface
 * curlu     the URL given as CURLOPT_CURLU; EFFECTIVE_URL after the call
 * verbose   VERBOSE without a debug callback (libcurl's own "> " lines)
 * sigchld   a SIGCHLD handler reaping every child (waitpid(-1)), then a call
 * sigign    SIGCHLD ignored (children reaped by the kernel), then a call
 * get       a plain GET of OTHER_URL (a provider's host); then this process's
 *           thread count
 * liveinfo  a streamed call whose write callback asks EFFECTIVE_URL and
 *           RESPONSE_CODE as the stream comes; then again after it
 * nobody0   POSTFIELDS, then NOBODY 0 (a POST still, as libcurl has it)
 * unixsock  UNIX_SOCKET_PATH OTHER_URL (a socket's path); two calls
 * pause     a call (OTHER_URL "stream": streamed) whose write callback
 *           pauses (CURL_WRITEFUNC_PAUSE) at each new piece, up to four
 *           times, and is unpaused from the progress callback (libcurl's
 *           own pattern); prints whether each paused piece came again,
 *           then what it got
 * readpause a call whose body comes from a read callback that pauses
 *           (CURL_READFUNC_PAUSE) once, unpaused from the progress callback
 * longjmp   a call left by a jump from a SIGALRM handler after a second
 *           (its handle abandoned), then a call on a new handle
 * streams2  two streamed calls, each on a new handle
 * pausetime a call whose write callback always pauses, with TIMEOUT_MS 1500
 * pauseabort a call whose write callback pauses once and whose progress
 *           callback then aborts
 * pauserecv a call whose write callback pauses receiving with
 *           curl_easy_pause(CURLPAUSE_RECV) (and takes the bytes), unpaused
 *           from the progress callback; counts writes while paused
 *           (OTHER_URL "stream": a streamed call)
 * pausecont a call whose header callback pauses receiving and unpauses at
 *           once, on its first line
 * bigstdin  a POST of stdin with libcurl's own reader (no READFUNCTION, no
 *           READDATA), then an upload of what is left of stdin to OTHER_URL
 * doh       a GET through DoH (OTHER_URL, which serves no DNS: it fails),
 *           its handle kept; then a new handle's call with libcurl's default
 *           writer (stdout): libcurl made and freed DoH handles of its own,
 *           and the new one may sit where one of them was
 * children  a call, its handle cleaned up; then (OTHER_URL: the log) waits
 *           10 s at most for a "shadow" line in it; makes sockets of its own,
 *           inheritable (a socket, a socketpair) and not (SOCK_CLOEXEC);
 *           prints "kids own" and those it left inheritable, then starts a
 *           child by system(), popen() and posix_spawn(), each printing
 *           "kids HOW" and the sockets it found open, as socket:[INODE]
 * trailers  a call (OTHER_URL containing "stream": streamed, "inbody":
 *           CURLOPT_HEADER on too) whose header and write callbacks print, in the order
 *           they are called, "H LINE" for each header line and "W BYTES"
 *           for each run of writes (CR and LF shown as \r \n); then what
 *           curl_easy_header finds of X-Tr as a header and as a trailer,
 *           the trailers curl_easy_nextheader lists, and HEADER_SIZE
 * tls       the program's own TLS, set once: curlstate tls CHAT_URL CA CERT
 *           KEY (CAINFO_BLOB of CA's bytes, not copied; SSLCERT CERT;
 *           SSLKEY_BLOB of KEY's); two calls; a copy of the handle
 *           (duphandle), the handle cleaned up, two calls on the copy
 * dupmid    a call whose progress callback copies the handle (duphandle)
 *           at each new EFFECTIVE_URL it sees (each attempt's); then each
 *           copy, its URL set to OTHER_URL, is performed: prints "copy
 *           URL-SEEN RC CODE HEADER-LINES" (the program's header callback
 *           counts its lines)
 * resetmid  a call whose progress callback resets the handle
 *           (curl_easy_reset) once; then a POST to OTHER_URL on it, no
 *           option set but the URL and POSTFIELDS
 * setmid    a call whose progress callback, at each new EFFECTIVE_URL it
 *           sees (each attempt's), sets the handle's headers to a new list
 *           (the program's and "X-Mid: 1"), its URL to OTHER_URL and its
 *           body (COPYPOSTFIELDS of a buffer wiped right after) to one
 *           with rid:Q, and after the second time copies the handle
 *           (duphandle); then a call with nothing set, and one on the
 *           copy: prints "call RC CODE SETS", "after RC CODE", "copy RC
 *           CODE"
 * multiin   a download of OTHER_URL (easy, not a call) whose progress
 *           callback, at its first call, runs the chat call through a multi
 *           handle to its end: prints "inside RC CODE marked|plain
 *           NEW-CONNECTIONS" (the answer marked by the library or not),
 *           then "get RC CODE"
 * sharedconn three handles sharing connections (CURL_LOCK_DATA_CONNECT): the
 *           first downloads OTHER_URL (the provider's host) with
 *           curl_easy_perform ("get RC CODE"); then the second makes the
 *           chat call through a multi handle ("multi ..." as multiin's),
 *           a third makes it with curl_easy_perform ("easy RC CODE"), and
 *           the second downloads OTHER_URL twice through multi handles
 *           ("mget ..."); then the second makes the call through a multi
 *           handle, sets FRESH_CONNECT 0 and makes it again through one
 *           cleaned up with it inside, and downloads OTHER_URL twice
 *           with curl_easy_perform ("get RC CODE NEW-CONNECTIONS"); then,
 *           in another such share, one downloads OTHER_URL through a multi
 *           handle ("mget2 ...") and another makes the call with
 *           curl_easy_perform ("easy2 RC CODE")
 * outmid    a call whose header callback, at its first line, sets a new
 *           write callback and a new error buffer (the old one freed), and
 *           whose progress callback turns itself off (NOPROGRESS) at its
 *           first call; the new writer takes one piece and fails it:
 *           prints "outmid RC CODE OLD-WRITES NEW-BYTES PROGRESS-CALLS
 *           [ERRORBUFFER]" */
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CURL_DISABLE_DEPRECATION 1   /* the old PROGRESSFUNCTION is what a case checks */
#include <curl/curl.h>

static void fill_body(char *b, size_t n, const char *rid)
{
    snprintf(b, n, "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi [rid:%s]\"}]}", rid);
}

static const char *body(const char *rid)
{
    static char b[256];
    fill_body(b, sizeof b, rid);
    return b;
}

static const char *streamed_body(const char *rid)
{
    static char b[256];
    snprintf(b, sizeof b,
             "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi [rid:%s]\"}]}", rid);
    return b;
}

static size_t sink(char *p, size_t size, size_t nmemb, void *ud)
{
    (void)p, (void)ud;
    return size * nmemb;
}

static size_t show(char *p, size_t size, size_t nmemb, void *ud)
{
    (void)ud;
    return fwrite(p, 1, size * nmemb, stdout);
}

static char seen_url[512];
static long seen_code = -1;

static size_t ask_info(char *p, size_t size, size_t nmemb, void *ud)
{
    (void)p;
    if (seen_code < 0) {
        char *u = NULL;
        curl_easy_getinfo((CURL *)ud, CURLINFO_EFFECTIVE_URL, &u);
        curl_easy_getinfo((CURL *)ud, CURLINFO_RESPONSE_CODE, &seen_code);
        snprintf(seen_url, sizeof seen_url, "%s", u ? u : "-");
    }
    return size * nmemb;
}

static CURL *chat_handle(const char *url, struct curl_slist **hdrs)
{
    const char *key = getenv("OPENAI_API_KEY");
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key ? key : "");
    *hdrs = curl_slist_append(curl_slist_append(NULL, "Content-Type: application/json"), auth);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
    return h;
}

/* A call (rid in its body) on a new handle, in share sh if any, cleaned up
 * after: its result, and its status in *code. */
static CURLcode call_on_new(const char *chat, const char *rid, curl_write_callback wf, CURLSH *sh, long *code)
{
    struct curl_slist *hl;
    CURL *n = chat_handle(chat, &hl);
    if (sh)
        curl_easy_setopt(n, CURLOPT_SHARE, sh);
    curl_easy_setopt(n, CURLOPT_POSTFIELDS, body(rid));
    curl_easy_setopt(n, CURLOPT_WRITEFUNCTION, wf);
    CURLcode rc = curl_easy_perform(n);
    *code = 0;
    curl_easy_getinfo(n, CURLINFO_RESPONSE_CODE, code);
    curl_easy_cleanup(n);
    curl_slist_free_all(hl);
    return rc;
}

/* children: does the file at path hold text (within 10 s)? */
static int wait_for(const char *path, const char *text)
{
    for (int i = 0; i < 200; i++) {
        char b[1 << 16];
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(b, 1, sizeof b - 1, f) : 0;
        if (f)
            fclose(f);
        b[n] = '\0';
        if (strstr(b, text))
            return 1;
        struct timespec t = {0, 50 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    return 0;
}

static void print_socket(int fd)
{
    char path[64], link[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    printf(" %.*s", n > 0 ? (int)n : 1, n > 0 ? link : "-");
}

/* children: one child each way that keeps descriptors, each printing the
 * sockets it found open */
static void children(const char *tag)
{
    extern char **environ;
    const char *fmt = "echo %s %s $(ls -l /proc/self/fd | grep -o 'socket:\\[[0-9]*\\]')";
    char cmd[256];
    snprintf(cmd, sizeof cmd, fmt, tag, "system");
    fflush(stdout);
    if (system(cmd) != 0)
        printf("%s system failed\n", tag);
    snprintf(cmd, sizeof cmd, fmt, tag, "popen");
    FILE *f = popen(cmd, "r");
    char line[4096];
    while (f && fgets(line, sizeof line, f))
        fputs(line, stdout);
    if (f)
        pclose(f);
    snprintf(cmd, sizeof cmd, fmt, tag, "posix_spawn");
    char *argv[] = {"sh", "-c", cmd, NULL};
    pid_t pid;
    fflush(stdout);
    if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) == 0)
        waitpid(pid, NULL, 0);
}

static long code_of(CURL *h)
{
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

/* pause: the pieces the write callback took, and the one it paused on */
static CURL *pause_h;
static int pauses, paused_now, again_same = 1;
static char took[1 << 16], held[64];
static size_t ntook, nheld;

/* the bytes a write callback took, kept to print */
static size_t keep(const char *p, size_t n)
{
    if (ntook + n < sizeof took) {
        memcpy(took + ntook, p, n);
        ntook += n;
    }
    return n;
}

static size_t pausing(char *p, size_t size, size_t nmemb, void *ud)
{
    (void)ud;
    size_t n = size * nmemb;
    if (paused_now)
        return CURL_WRITEFUNC_PAUSE;   /* (not unpaused yet: libcurl would not call) */
    if (nheld) {   /* the piece it paused on, offered again */
        again_same &= n >= nheld && memcmp(p, held, nheld) == 0;
        nheld = 0;
    } else if (pauses < 4) {
        pauses++;
        paused_now = 1;
        nheld = n < sizeof held ? n : sizeof held;
        memcpy(held, p, nheld);
        return CURL_WRITEFUNC_PAUSE;
    }
    return keep(p, n);
}

static int unpausing(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)ud, (void)dt, (void)dn, (void)ut, (void)un;
    if (paused_now) {
        paused_now = 0;
        curl_easy_pause(pause_h, CURLPAUSE_CONT);
    }
    return 0;
}

static sigjmp_buf jumped;
static void on_alarm(int sig)
{
    (void)sig;
    siglongjmp(jumped, 1);
}

static size_t always_pause(char *p, size_t size, size_t nmemb, void *ud)
{
    (void)p, (void)size, (void)nmemb, (void)ud;
    return CURL_WRITEFUNC_PAUSE;
}

static int aborting(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)ud, (void)dt, (void)dn, (void)ut, (void)un;
    return paused_now;   /* abort while paused */
}

static int recv_paused, writes_while_paused;
static size_t pausing_recv(char *p, size_t size, size_t nmemb, void *ud)
{
    (void)ud;
    size_t n = size * nmemb;
    writes_while_paused += recv_paused == 1;
    if (!recv_paused) {
        recv_paused = 1;
        curl_easy_pause(pause_h, CURLPAUSE_RECV);
    }
    return keep(p, n);
}

static int unpausing_recv(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)ud, (void)dt, (void)dn, (void)ut, (void)un;
    if (recv_paused == 1) {
        recv_paused = 2;
        curl_easy_pause(pause_h, CURLPAUSE_CONT);
    }
    return 0;
}

static int header_lines;
static size_t pause_and_go(char *p, size_t size, size_t nmemb, void *ud)
{
    (void)p, (void)ud;
    if (!header_lines++) {
        curl_easy_pause(pause_h, CURLPAUSE_RECV);
        curl_easy_pause(pause_h, CURLPAUSE_CONT);
    }
    return size * nmemb;
}

static size_t body_off;
static size_t pausing_read(char *buf, size_t size, size_t nmemb, void *ud)
{
    const char *b = ud;
    if (!pauses) {
        pauses = paused_now = 1;
        return CURL_READFUNC_PAUSE;
    }
    size_t n = strlen(b) - body_off < size * nmemb ? strlen(b) - body_off : size * nmemb;
    memcpy(buf, b + body_off, n);
    body_off += n;
    return n;
}

/* A call whose write callback (wf) pauses and whose progress callback (pf)
 * unpauses, on pause_h. */
static CURLcode perform_pausing(CURL *h, const char *b, curl_write_callback wf, curl_xferinfo_callback pf)
{
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, b);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, wf);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, pf);
    pause_h = h;
    return curl_easy_perform(h);
}

static int pipe_fd;
static size_t from_pipe(char *buf, size_t size, size_t nmemb, void *ud)
{
    (void)ud;
    ssize_t k = read(pipe_fd, buf, size * nmemb);
    return k < 0 ? CURL_READFUNC_ABORT : (size_t)k;
}

static const char *upload_text;
static size_t upload_off;
static size_t from_text(char *buf, size_t size, size_t nmemb, void *ud)
{
    (void)ud;
    size_t k = strlen(upload_text) - upload_off;
    if (k > size * nmemb)
        k = size * nmemb;
    memcpy(buf, upload_text + upload_off, k);
    upload_off += k;
    return k;
}

static int progress_calls;
static int on_progress(void *p, double dt, double dn, double ut, double un)
{
    (void)p, (void)dt, (void)dn, (void)ut, (void)un;
    progress_calls++;
    return 0;
}

/* Calls on h, each printed as "WHAT rc code". */
static void calls(CURL *h, const char *what, int n)
{
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body(what));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    for (int i = 0; i < n; i++) {
        CURLcode rc = curl_easy_perform(h);
        printf("%s %d %ld\n", what, rc, code_of(h));
    }
}

/* trailers: the order of the callbacks, a run of writes as one line */
static int in_write;

static void escaped(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fputs(p[i] == '\r' ? "\\r" : p[i] == '\n' ? "\\n" : (char[]){p[i], 0}, stdout);
}

static size_t order_header(char *p, size_t size, size_t nmemb, void *ud)
{
    (void)ud;
    printf("%sH ", in_write ? "\n" : "");
    in_write = 0;
    escaped(p, size * nmemb);
    printf("\n");
    return size * nmemb;
}

static size_t order_write(char *p, size_t size, size_t nmemb, void *ud)
{
    (void)ud;
    if (!in_write)
        printf("W ");
    in_write = 1;
    escaped(p, size * nmemb);
    return size * nmemb;
}

static void find_header(CURL *h, const char *what, unsigned origin)
{
    struct curl_header *hd = NULL;
    CURLHcode hc = curl_easy_header(h, "X-Tr", 0, origin, -1, &hd);
    if (hc == CURLHE_OK)
        printf("%s %d %s %zu %zu %u\n", what, hc, hd->value, hd->amount, hd->index,
               hd->origin & (CURLH_HEADER | CURLH_TRAILER | CURLH_CONNECT | CURLH_1XX | CURLH_PSEUDO));
    else
        printf("%s %d\n", what, hc);
}

/* dupmid: copies made from inside the call. */
static CURL *dup_of[4];
static char dup_url[4][256];
static int ndup, dup_header_lines;

static int copying(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    char *u = NULL;
    curl_easy_getinfo((CURL *)ud, CURLINFO_EFFECTIVE_URL, &u);
    if (!u || ndup == 4 || (ndup && !strcmp(dup_url[ndup - 1], u)))
        return 0;
    snprintf(dup_url[ndup], sizeof dup_url[ndup], "%s", u);
    dup_of[ndup++] = curl_easy_duphandle((CURL *)ud);
    return 0;
}

static int resets;

static int resetting(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    if (!resets++)
        curl_easy_reset((CURL *)ud);
    return 0;
}

/* outmid: where the answer goes, changed from inside the call. */
static CURL *out_h;
static char *out_err;
static int out_old, out_progress, out_switched;
static size_t out_new;

static size_t out_old_writer(char *p, size_t size, size_t nmemb, void *ud)
{
    (void)p, (void)ud;
    out_old++;
    return size * nmemb;
}

static size_t out_new_writer(char *p, size_t size, size_t nmemb, void *ud)
{
    (void)p, (void)ud;
    out_new += size * nmemb;
    return 0;   /* (libcurl: "Failure writing output to destination") */
}

static size_t out_header(char *p, size_t size, size_t nmemb, void *ud)
{
    (void)p, (void)ud;
    if (!out_switched++) {
        char *fresh = calloc(1, CURL_ERROR_SIZE);
        curl_easy_setopt(out_h, CURLOPT_WRITEFUNCTION, out_new_writer);
        curl_easy_setopt(out_h, CURLOPT_ERRORBUFFER, fresh);
        free(out_err);   /* (no longer libcurl's) */
        out_err = fresh;
    }
    return size * nmemb;
}

static int out_progress_cb(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)ud, (void)dt, (void)dn, (void)ut, (void)un;
    if (!out_progress++)
        curl_easy_setopt(out_h, CURLOPT_NOPROGRESS, 1L);
    return 0;
}

/* setmid: options set from inside the call, for the next transfer. */
static const char *mid_url;
static struct curl_slist *mid_hdrs;
static char mid_seen[256];
static int mid_on, mid_sets;
static CURL *mid_copy;

static int setting(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    char *u = NULL;
    curl_easy_getinfo((CURL *)ud, CURLINFO_EFFECTIVE_URL, &u);
    if (!mid_on || !u || !strcmp(mid_seen, u))
        return 0;
    snprintf(mid_seen, sizeof mid_seen, "%s", u);
    char b[256];   /* (libcurl copies it: so must anyone who keeps it) */
    fill_body(b, sizeof b, "Q");
    curl_easy_setopt((CURL *)ud, CURLOPT_HTTPHEADER, mid_hdrs);
    curl_easy_setopt((CURL *)ud, CURLOPT_URL, mid_url);
    curl_easy_setopt((CURL *)ud, CURLOPT_COPYPOSTFIELDS, b);
    memset(b, 'x', sizeof b - 1);
    if (++mid_sets == 2)
        mid_copy = curl_easy_duphandle((CURL *)ud);
    return 0;
}

static size_t count_header(char *p, size_t size, size_t nmemb, void *ud)
{
    (void)p, (void)ud;
    dup_header_lines++;
    return size * nmemb;
}

/* multiin, sharedconn: h's transfer through a multi handle of its own, to
 * its end: prints "WHAT RC CODE marked|plain NEW-CONNECTIONS". The multi
 * handle is cleaned up with h removed first, or (keep) with h inside. */
static void through_multi(CURL *h, const char *what, int keep)
{
    CURLM *m = curl_multi_init();
    curl_multi_add_handle(m, h);
    int running = 1;
    CURLcode done = CURLE_OK;
    while (running) {
        curl_multi_perform(m, &running);
        if (running)
            curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
    int left = 0;
    for (CURLMsg *msg; (msg = curl_multi_info_read(m, &left));)
        if (msg->msg == CURLMSG_DONE)
            done = msg->data.result;
    struct curl_header *hd = NULL;
    int marked = curl_easy_header(h, "x-llmfallback-provider", 0, CURLH_HEADER, -1, &hd) == CURLHE_OK;
    long fresh = -1;
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &fresh);
    printf("%s %d %ld %s %ld\n", what, done, code_of(h), marked ? "marked" : "plain", fresh);
    if (!keep)
        curl_multi_remove_handle(m, h);
    curl_multi_cleanup(m);
}

/* sharedconn: a new share of connections (*sh), and a new handle in it
 * that downloads url. */
static CURL *in_new_share(CURLSH **sh, const char *url)
{
    *sh = curl_share_init();
    curl_share_setopt(*sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    CURL *g = curl_easy_init();
    curl_easy_setopt(g, CURLOPT_SHARE, *sh);
    curl_easy_setopt(g, CURLOPT_URL, url);
    curl_easy_setopt(g, CURLOPT_WRITEFUNCTION, sink);
    return g;
}

static CURL *inner_h;
static int inner_done;
static int run_inner(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)ud, (void)dt, (void)dn, (void)ut, (void)un;
    if (!inner_done++)
        through_multi(inner_h, "inside", 0);
    return 0;
}

static volatile sig_atomic_t reaped;
static void reap(int sig)
{
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        reaped++;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *cas = argv[1], *chat = argv[2], *other = argc > 3 ? argv[3] : NULL;
    curl_global_init(CURL_GLOBAL_ALL);
    struct curl_slist *hdrs;
    CURL *h = chat_handle(chat, &hdrs);
    CURLcode rc;

    if (!strcmp(cas, "stdout") && other) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("A"));
        rc = curl_easy_perform(h);
        fprintf(stderr, "chat %d %ld\n", rc, code_of(h));
        curl_easy_setopt(h, CURLOPT_URL, other);
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        rc = curl_easy_perform(h);
        fprintf(stderr, "download %d %ld\n", rc, code_of(h));
    } else if (!strcmp(cas, "readsize")) {
        const char *b = body("R");
        int p[2];
        if (pipe(p))
            return 2;
        if (write(p[1], b, strlen(b)) < 0 || write(p[1], "TRAILING", 8) < 0)
            return 2;
        pipe_fd = p[0];   /* the writer stays open: no end of file */
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(b));
        curl_easy_setopt(h, CURLOPT_READFUNCTION, from_pipe);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, show);
        rc = curl_easy_perform(h);
        printf("\nchat %d %ld\n", rc, code_of(h));
    } else if (!strcmp(cas, "upload")) {
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, show);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("A"));
        rc = curl_easy_perform(h);
        printf("\nfirst %d %ld\n", rc, code_of(h));
        upload_text = body("B");
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "POST");
        curl_easy_setopt(h, CURLOPT_READFUNCTION, from_text);
        curl_easy_setopt(h, CURLOPT_INFILESIZE, (long)strlen(upload_text));
        rc = curl_easy_perform(h);
        printf("\nsecond %d %ld\n", rc, code_of(h));
    } else if (!strcmp(cas, "dupmid") && other) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("P"));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, count_header);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, copying);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, h);
        rc = curl_easy_perform(h);
        printf("call %d %ld\n", rc, code_of(h));
        for (int i = 0; i < ndup; i++) {
            CURL *c = dup_of[i];
            if (!c) {
                printf("copy %s none\n", dup_url[i]);
                continue;
            }
            dup_header_lines = 0;
            curl_easy_setopt(c, CURLOPT_URL, other);
            curl_easy_setopt(c, CURLOPT_NOPROGRESS, 1L);
            rc = curl_easy_perform(c);
            printf("copy %s %d %ld %s\n", dup_url[i], rc, code_of(c), dup_header_lines ? "some" : "none");
            curl_easy_cleanup(c);
        }
    } else if (!strcmp(cas, "resetmid") && other) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("P"));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, resetting);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, h);
        rc = curl_easy_perform(h);
        printf("\ncall %d %d\n", rc, resets);
        curl_easy_setopt(h, CURLOPT_URL, other);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("Q"));
        rc = curl_easy_perform(h);
        printf("\nafter %d %ld\n", rc, code_of(h));
    } else if (!strcmp(cas, "outmid")) {
        out_h = h;
        out_err = calloc(1, CURL_ERROR_SIZE);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("O"));
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, out_err);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, out_old_writer);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, out_header);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, out_progress_cb);
        rc = curl_easy_perform(h);
        printf("outmid %d %ld %d %zu %d [%s]\n", rc, code_of(h), out_old, out_new, out_progress, out_err);
        curl_easy_cleanup(h);
        h = NULL;
        free(out_err);
    } else if (!strcmp(cas, "setmid") && other) {
        mid_url = other;
        for (const struct curl_slist *l = hdrs; l; l = l->next)
            mid_hdrs = curl_slist_append(mid_hdrs, l->data);
        mid_hdrs = curl_slist_append(mid_hdrs, "X-Mid: 1");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("P"));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, setting);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, h);
        mid_on = 1;
        rc = curl_easy_perform(h);
        mid_on = 0;
        printf("call %d %ld %d\n", rc, code_of(h), mid_sets);
        rc = curl_easy_perform(h);
        printf("after %d %ld\n", rc, code_of(h));
        curl_easy_cleanup(h);
        h = NULL;
        if (mid_copy) {
            rc = curl_easy_perform(mid_copy);
            printf("copy %d %ld\n", rc, code_of(mid_copy));
            curl_easy_cleanup(mid_copy);
        }
        curl_slist_free_all(mid_hdrs);
    } else if (!strcmp(cas, "creds")) {
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(h, CURLOPT_USERPWD, "a:b");
        curl_easy_setopt(h, CURLOPT_PASSWORD, "c");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("A"));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        for (int i = 0; i < 2; i++) {
            rc = curl_easy_perform(h);
            printf("call %d %ld\n", rc, code_of(h));
        }
    } else if (!strcmp(cas, "cookies") && other) {
        char in[512], out[512];
        snprintf(in, sizeof in, "%s/cookies.txt", other);
        snprintf(out, sizeof out, "%s/jar.txt", other);
        curl_easy_setopt(h, CURLOPT_COOKIEFILE, in);
        curl_easy_setopt(h, CURLOPT_COOKIEJAR, out);
        curl_easy_setopt(h, CURLOPT_COOKIELIST, "127.0.0.1\tFALSE\t/\tFALSE\t0\tgiven\tIN-MEMORY");
        calls(h, "call", 2);
    } else if (!strcmp(cas, "resolve") && other) {
        struct curl_slist *pins = curl_slist_append(NULL, other);
        curl_easy_setopt(h, CURLOPT_RESOLVE, pins);
        calls(h, "call", 2);
        CURL *d = curl_easy_duphandle(h);
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, chat);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        calls(h, "reset", 2);
        curl_easy_cleanup(h);
        h = NULL;
        calls(d, "copy", 1);
        curl_easy_cleanup(d);
        curl_slist_free_all(pins);
    } else if (!strcmp(cas, "port") && other) {
        curl_easy_setopt(h, CURLOPT_PORT, atol(other));
        calls(h, "call", 2);
    } else if (!strcmp(cas, "unixsock") && other) {
        curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, other);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("A"));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        for (int i = 0; i < 2; i++) {
            rc = curl_easy_perform(h);
            printf("call %d %ld\n", rc, code_of(h));
        }
    } else if (!strcmp(cas, "progress") && other) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("A"));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_PROGRESSFUNCTION, on_progress);
        rc = curl_easy_perform(h);
        printf("chat %d %ld\n", rc, code_of(h));
        progress_calls = 0;
        curl_easy_setopt(h, CURLOPT_URL, other);
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        rc = curl_easy_perform(h);
        printf("download %d %ld\n", rc, code_of(h));
        printf("progress_calls %s\n", progress_calls > 0 ? "some" : "none");
    } else if (!strcmp(cas, "errbuf")) {
        char err[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(h, CURLOPT_URL, "http://127.0.0.1:9/refused");
        rc = curl_easy_perform(h);
        printf("refused %d %s\n", rc, err[0] ? "message" : "empty");
        curl_easy_setopt(h, CURLOPT_URL, chat);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("A"));
        rc = curl_easy_perform(h);
        printf("chat %d %ld %s\n", rc, code_of(h), err[0] ? "message" : "empty");
    } else if (!strcmp(cas, "multi") && other) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("A"));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        rc = curl_easy_perform(h);
        printf("chat %d %ld\n", rc, code_of(h));
        curl_easy_setopt(h, CURLOPT_URL, other);
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        CURLM *m = curl_multi_init();
        curl_multi_add_handle(m, h);
        int running = 1;
        while (running) {
            curl_multi_perform(m, &running);
            if (running)
                curl_multi_poll(m, NULL, 0, 1000, NULL);
        }
        struct curl_header *hd = NULL;
        int marked = curl_easy_header(h, "x-llmfallback-provider", 0, CURLH_HEADER, -1, &hd) == CURLHE_OK;
        printf("download %ld %s\n", code_of(h), marked ? "marked" : "plain");
        curl_multi_remove_handle(m, h);
        curl_multi_cleanup(m);
    } else if (!strcmp(cas, "multiin") && other) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("A"));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        inner_h = h;
        CURL *g = curl_easy_init();
        curl_easy_setopt(g, CURLOPT_URL, other);
        curl_easy_setopt(g, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(g, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(g, CURLOPT_XFERINFOFUNCTION, run_inner);
        rc = curl_easy_perform(g);
        printf("get %d %ld\n", rc, code_of(g));
        curl_easy_cleanup(g);
    } else if (!strcmp(cas, "sharedconn") && other) {
        CURLSH *sh;
        CURL *g = in_new_share(&sh, other);
        rc = curl_easy_perform(g);
        printf("get %d %ld\n", rc, code_of(g));
        curl_easy_setopt(h, CURLOPT_SHARE, sh);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        for (int round = 0; round < 2; round++) {
            curl_easy_setopt(h, CURLOPT_URL, chat);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("A"));
            through_multi(h, "multi", round);
            if (round == 1) {   /* (the program sets its own FRESH_CONNECT, as before each call) */
                curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 0L);
                through_multi(h, "multi", 0);
            }
            if (round == 0) {
                long code;
                rc = call_on_new(chat, "B", sink, sh, &code);
                printf("easy %d %ld\n", rc, code);
            }
            curl_easy_setopt(h, CURLOPT_URL, other);
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
            for (int i = 0; i < 2; i++) {
                if (round == 0) {
                    through_multi(h, "mget", 0);
                } else {
                    rc = curl_easy_perform(h);
                    long fresh = -1;
                    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &fresh);
                    printf("get %d %ld %ld\n", rc, code_of(h), fresh);
                }
            }
        }
        /* a share where the only connection is one to the relay (a
         * download's through a multi handle), then a call */
        CURLSH *sh2;
        CURL *d = in_new_share(&sh2, other);
        through_multi(d, "mget2", 0);
        long code;
        rc = call_on_new(chat, "C", sink, sh2, &code);
        printf("easy2 %d %ld\n", rc, code);
        curl_easy_cleanup(d);
        curl_share_cleanup(sh2);
        curl_easy_cleanup(g);
        curl_easy_cleanup(h);
        h = NULL;
        curl_share_cleanup(sh);
    } else if (!strcmp(cas, "curlu")) {
        CURLU *u = curl_url();
        curl_url_set(u, CURLUPART_URL, chat, 0);
        curl_easy_setopt(h, CURLOPT_URL, NULL);
        curl_easy_setopt(h, CURLOPT_CURLU, u);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("A"));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        for (int i = 0; i < 2; i++) {
            char *eff = NULL;
            rc = curl_easy_perform(h);
            curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
            printf("call %d %ld %s\n", rc, code_of(h), eff ? eff : "(null)");
        }
        curl_easy_cleanup(h);
        curl_url_cleanup(u);
        h = NULL;
    } else if (!strcmp(cas, "sigchld") || !strcmp(cas, "sigign")) {
        struct sigaction sa = {.sa_handler = !strcmp(cas, "sigign") ? SIG_IGN : reap, .sa_flags = SA_RESTART};
        sigaction(SIGCHLD, &sa, NULL);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("A"));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, show);
        rc = curl_easy_perform(h);
        printf("\nchat %d %ld reaped %d\n", rc, code_of(h), (int)reaped);
    } else if (!strcmp(cas, "get") && other) {
        curl_easy_setopt(h, CURLOPT_URL, other);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        rc = curl_easy_perform(h);
        int threads = 0;
        char line[256];
        FILE *f = fopen("/proc/self/status", "r");
        while (f && fgets(line, sizeof line, f))
            if (!strncmp(line, "Threads:", 8))
                threads = atoi(line + 8);
        if (f)
            fclose(f);
        printf("get %d %ld threads %d\n", rc, code_of(h), threads);
    } else if (!strcmp(cas, "liveinfo")) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS,
                         "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ask_info);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, h);
        rc = curl_easy_perform(h);
        char *u = NULL;
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &u);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        printf("during %ld %s\nafter %d %ld %s\n", seen_code, seen_url, rc, code, u ? u : "-");
    } else if (!strcmp(cas, "nobody0")) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("N"));
        curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, show);
        rc = curl_easy_perform(h);
        printf("chat %d %ld\n", rc, code_of(h));
    } else if (!strcmp(cas, "doh") && other) {
        CURL *d = curl_easy_init();
        curl_easy_setopt(d, CURLOPT_URL, "http://example.invalid/x");
        curl_easy_setopt(d, CURLOPT_DOH_URL, other);
        curl_easy_setopt(d, CURLOPT_WRITEFUNCTION, sink);
        rc = curl_easy_perform(d);
        fprintf(stderr, "doh %d\n", rc);
        CURL *n = curl_easy_init();
        curl_easy_setopt(n, CURLOPT_URL, chat);
        curl_easy_setopt(n, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(n, CURLOPT_POSTFIELDS, body("D"));
        rc = curl_easy_perform(n);
        fprintf(stderr, "chat %d %ld\n", rc, code_of(n));
        curl_easy_cleanup(n);
        curl_easy_cleanup(d);
    } else if (!strcmp(cas, "pause")) {
        rc = perform_pausing(h, other && !strcmp(other, "stream") ? streamed_body("P") : body("P"), pausing, unpausing);
        printf("pause %d %ld paused %d again %s\n%.*s\n", rc, code_of(h), pauses,
               again_same && !nheld ? "same" : "lost", (int)ntook, took);
    } else if (!strcmp(cas, "readpause")) {
        const char *b = body("R");
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(b));
        curl_easy_setopt(h, CURLOPT_READFUNCTION, pausing_read);
        curl_easy_setopt(h, CURLOPT_READDATA, (void *)b);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, show);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, unpausing);
        pause_h = h;
        rc = curl_easy_perform(h);
        printf("\nreadpause %d %ld paused %d\n", rc, code_of(h), pauses);
    } else if (!strcmp(cas, "longjmp")) {
        struct sigaction sa = {.sa_handler = on_alarm};
        sigaction(SIGALRM, &sa, NULL);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("J"));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        if (!sigsetjmp(jumped, 1)) {
            alarm(1);
            rc = curl_easy_perform(h);
            alarm(0);
            printf("first %d %ld\n", rc, code_of(h));
        } else {
            printf("first jumped\n");
        }
        h = NULL;   /* (a handle left by a jump is not to be used again) */
        long code;
        rc = call_on_new(chat, "K", show, NULL, &code);
        printf("\nsecond %d %ld\n", rc, code);
    } else if (!strcmp(cas, "streams2")) {
        for (int i = 0; i < 2; i++) {
            struct curl_slist *hl;
            CURL *n = chat_handle(chat, &hl);
            curl_easy_setopt(n, CURLOPT_POSTFIELDS, streamed_body("S"));
            curl_easy_setopt(n, CURLOPT_WRITEFUNCTION, show);
            rc = curl_easy_perform(n);
            printf("\nstream %d %ld\n", rc, code_of(n));
            curl_easy_cleanup(n);
            curl_slist_free_all(hl);
        }
    } else if (!strcmp(cas, "pausetime") || !strcmp(cas, "pauseabort")) {
        int abort_ = !strcmp(cas, "pauseabort");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("T"));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, abort_ ? pausing : always_pause);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 1500L);
        if (abort_) {
            curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
            curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, aborting);
        }
        rc = curl_easy_perform(h);
        printf("%s %d\n", cas, rc);
    } else if (!strcmp(cas, "pausecont")) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("C"));
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, pause_and_go);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, show);
        pause_h = h;
        rc = curl_easy_perform(h);
        printf("\npausecont %d %ld\n", rc, code_of(h));
    } else if (!strcmp(cas, "pauserecv")) {
        rc = perform_pausing(h, other && !strcmp(other, "stream") ? streamed_body("R") : body("R"), pausing_recv,
                             unpausing_recv);
        printf("pauserecv %d %ld while_paused %d\n%.*s\n", rc, code_of(h), writes_while_paused, (int)ntook, took);
    } else if (!strcmp(cas, "bigstdin") && other) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, show);
        rc = curl_easy_perform(h);
        printf("\nbig %d %ld\n", rc, code_of(h));
        curl_easy_setopt(h, CURLOPT_URL, other);
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        rc = curl_easy_perform(h);
        printf("upload %d\n", rc);
    } else if (!strcmp(cas, "children") && other) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("A"));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        rc = curl_easy_perform(h);
        printf("chat %d %ld\n", rc, code_of(h));
        curl_easy_cleanup(h);   /* (its descriptors, the program's, closed) */
        h = NULL;
        printf("copied %d\n", wait_for(other, "\"shadow\""));
        int mine = socket(AF_INET, SOCK_STREAM, 0), pair[2] = {-1, -1};
        int hidden = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (mine < 0 || hidden < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, pair))
            return 2;
        printf("kids own");
        print_socket(mine);
        print_socket(pair[0]);
        print_socket(pair[1]);
        printf("\n");
        children("kids");
    } else if (!strcmp(cas, "trailers")) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, other && strstr(other, "stream") ? streamed_body("T") : body("T"));
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, order_header);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, order_write);
        curl_easy_setopt(h, CURLOPT_HEADER, other && strstr(other, "inbody") ? 1L : 0L);
        rc = curl_easy_perform(h);
        printf("%scall %d %ld\n", in_write ? "\n" : "", rc, code_of(h));
        find_header(h, "header", CURLH_HEADER);
        find_header(h, "trailer", CURLH_TRAILER);
        find_header(h, "either", CURLH_HEADER | CURLH_TRAILER);
        printf("trailers");
        for (struct curl_header *t = NULL; (t = curl_easy_nextheader(h, CURLH_TRAILER, -1, t));)
            printf(" %s=%s", t->name, t->value);
        long hsize = -1;
        curl_easy_getinfo(h, CURLINFO_HEADER_SIZE, &hsize);
        printf("\nheader_size %ld\n", hsize);
    } else if (!strcmp(cas, "tls") && argc > 5) {
        static char ca[1 << 16], key[1 << 14];
        FILE *f = fopen(argv[3], "r"), *g = fopen(argv[5], "r");
        size_t nca = f ? fread(ca, 1, sizeof ca, f) : 0, nkey = g ? fread(key, 1, sizeof key, g) : 0;
        if (f)
            fclose(f);
        if (g)
            fclose(g);
        struct curl_blob cab = {ca, nca, CURL_BLOB_NOCOPY}, keyb = {key, nkey, CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &cab);
        curl_easy_setopt(h, CURLOPT_SSLCERT, argv[4]);
        curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &keyb);
        memset(key, 0, sizeof key);   /* (copied by libcurl) */
        calls(h, "call", 2);
        CURL *d = curl_easy_duphandle(h);
        curl_easy_cleanup(h);
        h = NULL;
        calls(d, "copy", 2);
        curl_easy_cleanup(d);
    } else if (!strcmp(cas, "verbose")) {
        curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body("A"));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        rc = curl_easy_perform(h);
        printf("chat %d %ld\n", rc, code_of(h));
    } else {
        return 2;
    }
    if (h)
        curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    curl_global_cleanup();
    return 0;
}
