/* The log line: every field design.md promises, valid JSON. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "t.h"

void test_log(void)
{
    llf_log_rec r = {"curl", 7, 2, "backup", "gpt-4o-mini", 503, "http_error", "overloaded", 12.34, NULL, NULL};
    char *s = llf_log_format(&r, 1764036000.5, 4242);
    CHECK(s != NULL);
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    CHECK(j != NULL);
    static const char *const fields[] = {"ts", "pid", "path", "call", "attempt", "provider",
                                         "model", "status", "outcome", "reason", "ms"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        CHECK(cJSON_GetObjectItem(j, fields[i]) != NULL);
    CHECK_STR(cJSON_GetObjectItem(j, "ts")->valuestring, "2025-11-25T02:00:00.500Z");
    CHECK(cJSON_GetObjectItem(j, "pid")->valueint == 4242);
    CHECK(cJSON_GetObjectItem(j, "status")->valueint == 503);
    CHECK(cJSON_GetObjectItem(j, "ms")->valuedouble == 12.3);
    CHECK_STR(cJSON_GetObjectItem(j, "reason")->valuestring, "overloaded");
    CHECK(strchr(s, '\n') == NULL);
    cJSON_Delete(j);
    free(s);
}

/* The time stamp is worked out without gmtime_r (see log.c): it must say
 * what gmtime_r says, leap days and centuries included. 1 when it does. */
static int ts_agrees(double now)
{
    llf_log_rec r = {"curl", 1, 1, "p", "m", 200, "ok", "", 1.0, NULL, NULL};
    char *s = llf_log_format(&r, now, 1);
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    cJSON *ts = j ? cJSON_GetObjectItem(j, "ts") : NULL;
    time_t t = (time_t)now;
    struct tm tm;
    char want[40];
    gmtime_r(&t, &tm);
    size_t n = strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(want + n, sizeof want - n, ".%03dZ", (int)((now - (double)t) * 1000.0) % 1000);
    int ok = ts && cJSON_IsString(ts) && strcmp(ts->valuestring, want) == 0;
    if (!ok)
        fprintf(stderr, "  (ts of %.3f: %s, want %s)\n", now, ts && cJSON_IsString(ts) ? ts->valuestring : "none", want);
    cJSON_Delete(j);
    free(s);
    return ok;
}

void test_log_ts(void)
{
    static const double days[] = {0, 59, 60, 365, 10956, 11016, 11017, 11046, 11047, 24855,
                                  47541, 47542, 47600, 47906, 47907, 2932896};
    int bad = 0;
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++)
        for (double sec = 0; sec < 86400; sec += 86399.25 / 3)
            bad += !ts_agrees(days[i] * 86400 + sec);
    CHECK(bad == 0);
    unsigned long long x = 88172645463325252ULL;   /* xorshift: times up to the year 2500 */
    bad = 0;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        bad += !ts_agrees((double)(x % 16725225600ULL) + (double)(x >> 54) / 1024.0);
    }
    CHECK(bad == 0);
}

/* The summary line, made without cJSON (it is written from exec): valid
 * JSON with its five counts; too small a buffer is said, not overrun. */
void test_log_summary(void)
{
    llf_summary sm = {3, 1, 2, 4000000000UL, 0};
    char line[256];
    int n = llf_log_summary_format(line, sizeof line, &sm, 1764036000.5, 4242);
    CHECK(n > 0 && (size_t)n == strlen(line));
    cJSON *j = n > 0 ? cJSON_Parse(line) : NULL;
    CHECK(j != NULL);
    CHECK_STR(cJSON_GetObjectItem(j, "ts")->valuestring, "2025-11-25T02:00:00.500Z");
    CHECK_STR(cJSON_GetObjectItem(j, "event")->valuestring, "summary");
    CHECK(cJSON_GetObjectItem(j, "pid")->valueint == 4242);
    CHECK(cJSON_GetObjectItem(j, "calls")->valueint == 3);
    CHECK(cJSON_GetObjectItem(j, "fallbacks")->valueint == 1);
    CHECK(cJSON_GetObjectItem(j, "failures")->valueint == 2);
    CHECK(cJSON_GetObjectItem(j, "attempts")->valuedouble == 4000000000.0);
    CHECK(cJSON_GetObjectItem(j, "dropped") == NULL);   /* (only when some were) */
    cJSON_Delete(j);
    sm.dropped = 7;
    n = llf_log_summary_format(line, sizeof line, &sm, 1764036000.5, 4242);
    j = n > 0 ? cJSON_Parse(line) : NULL;
    CHECK(j && cJSON_GetObjectItem(j, "dropped") && cJSON_GetObjectItem(j, "dropped")->valueint == 7);
    cJSON_Delete(j);
    sm.dropped = 0;
    memset(line, 'x', sizeof line);
    CHECK(llf_log_summary_format(line, 20, &sm, 1764036000.5, 4242) == -1);
    CHECK(line[19] == '\0' && line[20] == 'x');
}

/* The lines dropped on a log whose reader stopped reading, in the summary
 * that follows: each summary counts those since the one before (a failed
 * exec's process goes on, and its next summary counted them again), and a
 * forked child's first call forgets its parent's. In a child of its own:
 * the log stays set for the process. */
static int drops_in(int rd, const char *want)
{
    char buf[1 << 16];
    ssize_t n, all = 0;
    while ((n = read(rd, buf + all, sizeof buf - 1 - (size_t)all)) > 0 && (size_t)(all += n) < sizeof buf - 1)
        ;
    buf[all] = '\0';
    const char *last = all > 1 ? buf + all - 2 : buf;
    while (last > buf && last[-1] != '\n')
        last--;
    return strstr(last, "\"event\":\"summary\"") && (want ? strstr(last, want) != NULL : !strstr(last, "dropped"));
}

void test_log_summary_drops(void)
{
    char dir[] = "/tmp/llf-drops-XXXXXX", fifo[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(fifo, sizeof fifo, "%s/log", dir);
    CHECK(mkfifo(fifo, 0600) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGPIPE, SIG_IGN);
        int rd = open(fifo, O_RDONLY | O_NONBLOCK), bad = 0;
        llf_log_rec r = {"curl", 1, 1, "p", "m", 503, "http_error", "overloaded", 1.0, NULL, NULL};
        llf_summary sm = {1, 0, 1, 1, 0};
        bad |= rd < 0 || llf_log_open(fifo) != 0;
        for (int i = 0; i < 2000; i++)   /* (some 64 KiB fit; the rest dropped) */
            llf_log_attempt(&r);
        char buf[4096];
        while (read(rd, buf, sizeof buf) > 0)
            ;
        llf_log_summary(&sm);
        bad |= !drops_in(rd, "\"dropped\":") << 1;
        llf_log_summary(&sm);   /* (an exec that failed, and the exit after) */
        bad |= !drops_in(rd, NULL) << 2;
        for (int i = 0; i < 2000; i++)
            llf_log_attempt(&r);
        while (read(rd, buf, sizeof buf) > 0)
            ;
        llf_log_forked();
        llf_log_summary(&sm);
        bad |= !drops_in(rd, NULL) << 3;
        _exit(bad);
    }
    int st = -1;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        fprintf(stderr, "  (child: %d)\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    unlink(fifo);
    rmdir(dir);
}

/* Every string of a line is UTF-8 (JSON is): a model's name from the
 * program's request or the chain, a provider's Sunset header, may not be. */
void test_log_utf8(void)
{
    static const struct { const char *in, *want; } cases[] = {
        {"gpt-4o", NULL},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", NULL},   /* é € 😀 */
        {"gpt-4o\xff\xfe", "gpt-4o\xef\xbf\xbd\xef\xbf\xbd"},
        {"mini\xc3", "mini\xef\xbf\xbd"},                        /* cut short at the end */
        {"a\xc3(b", "a\xef\xbf\xbd(b"},                          /* a lead byte without its follower */
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},                /* overlong '/' */
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* a surrogate */
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* past U+10FFFF */
        {"\x80x", "\xef\xbf\xbdx"},
        {"m\xc0\x80x", NULL},   /* our cJSON's \u0000 (a request's, managed now), printed so again */
        {"m\xc0\x81", "m\xef\xbf\xbd\xef\xbf\xbd"},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *fixed = (char *)"unset";
        int rc = llf_utf8_clean(cases[i].in, &fixed);
        CHECK(rc == (cases[i].want ? 1 : 0));
        CHECK(cases[i].want ? fixed && strcmp(fixed, cases[i].want) == 0 : fixed == NULL);
        if (rc == 1)
            free(fixed);
    }
    llf_log_rec nul = {"curl", 1, 1, "p", "m\xc0\x80x", 200, "ok", NULL, 1.0, NULL, NULL};
    char *n0 = llf_log_format(&nul, 1764036000.5, 1);
    CHECK(n0 && strstr(n0, "\"model\":\"m\\u0000x\""));
    free(n0);
    llf_log_rec r = {"curl", 1, 2, "backup", "mini\xc3", 503, "http_error", "overloaded", 1.0, "gpt-4o\xff\xfe", NULL};
    char *s = llf_log_format(&r, 1764036000.5, 1);
    CHECK(s && strstr(s, "\"model\":\"mini\xef\xbf\xbd\"") && strstr(s, "\"detail\":\"gpt-4o\xef\xbf\xbd\xef\xbf\xbd\""));
    char *fixed = NULL;
    CHECK(s && llf_utf8_clean(s, &fixed) == 0);   /* the whole line is UTF-8 */
    free(fixed);
    free(s);
}

/* fd 2 on a file while a warning is written; what it got, in out. */
static int warn_to(void)
{
    char path[] = "/tmp/llf-warn-XXXXXX";
    int f = mkstemp(path);
    if (f >= 0)
        unlink(path);
    return f;
}

static void warned(int f, int saved, char *out, size_t n)
{
    dup2(saved, 2);
    ssize_t got = pread(f, out, n - 1, 0);
    out[got > 0 ? got : 0] = '\0';
    close(f);
    close(saved);
}

/* A warning is one line of text: control characters in what it shows (an
 * unknown key of the config, "unkn\u001b[2Jown") reach the terminal as
 * '?', not as the escape sequences they are; a line break or a tab as a
 * space. UTF-8 text stays, but for C1 controls (U+0080..U+009F). */
void test_log_warn_clean(void)
{
    char out[1024];
    int saved = dup(2), f = warn_to();
    CHECK(saved >= 0 && f >= 0);
    dup2(f, 2);
    llf_warn("unknown key \"%s\" in %s", "unkn\x1b[2Jown\x07\x7f\x01\xc2\x9b" "2J caf\xc3\xa9\r\n\tx", "the configuration");
    warned(f, saved, out, sizeof out);
    CHECK_STR(out, "llmfallback: unknown key \"unkn?[2Jown????2J caf\xc3\xa9   x\" in the configuration\n");
    /* bidirectional format characters (U+202E RIGHT-TO-LEFT OVERRIDE ...)
     * and the Unicode line and paragraph separators; other text stays */
    f = warn_to();
    saved = dup(2);
    CHECK(saved >= 0 && f >= 0);
    dup2(f, 2);
    llf_warn("provider %s", "a\xe2\x80\xae" "b\xe2\x81\xa6" "c\xe2\x81\xa9" "d\xe2\x80\x8f" "e\xd8\x9c"
                            "f\xe2\x80\xa8" "g\xe2\x80\xa9" "h\xe2\x80\x94" "i\xe2\x81\xa5" "j\xe2\x80\xaf" "k\xe2\x80");
    warned(f, saved, out, sizeof out);
    CHECK_STR(out, "llmfallback: provider a?b?c?d?e?f g h\xe2\x80\x94" "i\xe2\x81\xa5" "j\xe2\x80\xaf" "k\xe2\x80\n");
}

/* The longest one-line reason a caller has (512 bytes with its NUL: the
 * config's, core.c) is shown whole, with what the caller adds after it. */
void test_log_warn_long(void)
{
    char reason[512], out[2048];
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    int saved = dup(2), f = warn_to();
    CHECK(saved >= 0 && f >= 0);
    dup2(f, 2);
    llf_warn("cannot read config %s; passing calls through untouched", reason);
    warned(f, saved, out, sizeof out);
    size_t n = strlen(out);
    CHECK(n == 13 + 19 + 511 + 34 && strstr(out, reason) &&
          strcmp(out + n - 34, "; passing calls through untouched\n") == 0);
    /* a longer one (a 5,000-byte log path) loses its middle, never its end,
     * where the reason and what is done about it are */
    char path[5001];
    memset(path, 'a', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    f = warn_to();
    saved = dup(2);
    CHECK(saved >= 0 && f >= 0);
    dup2(f, 2);
    llf_warn("cannot open log /tmp/%s: %s; not logging", path, "File name too long");
    warned(f, saved, out, sizeof out);
    n = strlen(out);
    CHECK(n == 13 + 1023 + 1 && strncmp(out, "llmfallback: cannot open log /tmp/aaa", 37) == 0 && strstr(out, "aaa ... aaa") &&
          strcmp(out + n - 37, "aaa: File name too long; not logging\n") == 0);
}

/* Opening the log: a file made under a umask that would make it read-only
 * is mode 0600 (the user's next process appends to it); a FIFO whose
 * reader has not come yet drops lines, counted, until one comes, and the
 * log goes on then; the program's stderr named as a file is stderr. Each
 * in a child: the log stays set for the process. */
static int child(int (*fn)(const char *), const char *arg)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn(arg));
    int st = -1;
    return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

/* One line logged at log (made there under umask 0277): is made, the file
 * it makes, mode 0600? */
static int logged_0600(const char *log, const char *made)
{
    umask(0277);
    llf_log_rec r = {"curl", 1, 1, "p", "m", 200, "ok", NULL, 1.0, NULL, NULL};
    struct stat st;
    if (llf_log_open(log) != 0)
        return 1;
    llf_log_attempt(&r);
    if (stat(made, &st) != 0 || (st.st_mode & 0777) != 0600)
        return 2;
    return 0;
}

static int made_0600(const char *path)
{
    return logged_0600(path, path);
}

/* a symbolic link to a file not made yet: its target made so too */
static int made_0600_through_a_link(const char *link)
{
    char target[256];
    snprintf(target, sizeof target, "%s.target", link);
    return symlink(target, link) != 0 ? 3 : logged_0600(link, target);
}

static int fifo_read_late(const char *fifo)
{
    signal(SIGPIPE, SIG_IGN);
    llf_log_rec r = {"curl", 1, 1, "p", "m", 503, "http_error", "overloaded", 1.0, NULL, NULL};
    llf_summary sm = {1, 0, 1, 1, 0};
    if (llf_log_open(fifo) != 0)
        return 1;
    llf_log_attempt(&r);   /* nobody reads yet: dropped */
    llf_log_attempt(&r);
    int rd = open(fifo, O_RDONLY | O_NONBLOCK);
    if (rd < 0)
        return 2;
    llf_log_attempt(&r);   /* read now */
    llf_log_summary(&sm);
    char buf[8192];
    ssize_t n = read(rd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    if (!strstr(buf, "\"outcome\":\"http_error\""))
        return 3;
    /* (the two lines, and the warning that says so, logged too) */
    if (!strstr(buf, "\"event\":\"summary\"") || !strstr(buf, "\"dropped\":3"))
        return 4;
    return 0;
}

static int stderr_by_name(const char *name)
{
    int p[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) != 0 || dup2(p[1], 2) != 2)
        return 1;
    llf_log_rec r = {"curl", 1, 1, "p", "m", 200, "ok", NULL, 1.0, NULL, NULL};
    if (llf_log_open(name) != 0)
        return 2;
    llf_log_attempt(&r);
    char buf[4096];
    ssize_t n = recv(p[0], buf, sizeof buf - 1, MSG_DONTWAIT);
    buf[n > 0 ? n : 0] = '\0';
    return strstr(buf, "\"outcome\":\"ok\"") ? 0 : 3;
}

/* llf_log_ready opens the log before any line is written: a file is made
 * there, empty; one that cannot be opened is known then, and the log is
 * off after; a FIFO not read yet is still the log, and no line of it was
 * dropped. */
static int ready_made(const char *path)
{
    struct stat st;
    if (llf_log_open(path) != 0 || !llf_log_enabled() || llf_log_ready() != 1)
        return 1;
    return stat(path, &st) != 0 || st.st_size != 0 ? 2 : 0;
}

static int ready_not(const char *path)
{
    int nul = open("/dev/null", O_WRONLY);   /* (the warning it says) */
    if (nul < 0 || dup2(nul, 2) != 2)
        return 1;
    if (llf_log_open(path) != 0 || !llf_log_enabled())
        return 2;
    if (llf_log_ready() != 0 || llf_log_enabled())
        return 3;
    return 0;
}

static int ready_fifo(const char *fifo)
{
    signal(SIGPIPE, SIG_IGN);
    llf_summary sm = {0, 0, 0, 0, 0};
    if (llf_log_open(fifo) != 0 || llf_log_ready() != 1)
        return 1;
    int rd = open(fifo, O_RDONLY | O_NONBLOCK);
    if (rd < 0)
        return 2;
    llf_log_summary(&sm);
    char buf[4096];
    ssize_t n = read(rd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    return !strstr(buf, "\"event\":\"summary\"") ? 3 : strstr(buf, "dropped") ? 4 : 0;
}

void test_log_open(void)
{
    char dir[] = "/tmp/llf-logopen-XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/log.jsonl", dir);
    CHECK(child(made_0600, path) == 0);
    unlink(path);
    CHECK(child(made_0600_through_a_link, path) == 0);
    unlink(path);
    char target[80];
    snprintf(target, sizeof target, "%s.target", path);
    unlink(target);
    CHECK(mkfifo(path, 0600) == 0);
    CHECK(child(fifo_read_late, path) == 0);
    CHECK(child(ready_fifo, path) == 0);
    unlink(path);
    CHECK(child(ready_made, path) == 0);
    unlink(path);
    char missing[80];
    snprintf(missing, sizeof missing, "%s/no-such-dir/log.jsonl", dir);
    CHECK(child(ready_not, missing) == 0);
    rmdir(dir);
    CHECK(child(stderr_by_name, "/dev/stderr") == 0);
    CHECK(child(stderr_by_name, "/proc/self/fd/2") == 0);
}
