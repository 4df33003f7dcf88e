/* log.c — attempt log and warnings (see log.h).
 *
 * Each line is written with one write() on an O_APPEND descriptor, so lines
 * from the threads and processes sharing a log file never interleave. The
 * file is opened at the first line, not at load: a process that makes no
 * call creates nothing. The descriptor lives among the program's own, which
 * a program may close wholesale (daemons do) and reuse: before each line it
 * must still be the file we opened, else the log is opened again and the
 * number left to its new owner; the look and the write (and the opening
 * and the owning) are one step under the descriptor lock (guest.h), so
 * that the number cannot change hands in between. */
#include "log.h"

#include "buf.h"
#include "forklock.h"
#include "guest.h"
#include "lineout.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

enum { LOG_NONE, LOG_STDERR, LOG_FILE, LOG_FAILED };
static int log_mode;
static char *log_path;
static llf_ownfd log_fd = LLF_NO_FD;   /* LOG_FILE */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void log_lock_reinit(void)
{
    pthread_mutex_init(&log_lock, NULL);
}

/* The program's descriptor a path names (/dev/stdout, /dev/stderr,
 * /dev/fd/N, /proc/self/fd/N, N written as the number it is), or -1. */
static int names_fd(const char *path)
{
    static const char *const dirs[] = {"/dev/fd/", "/proc/self/fd/"};
    if (strcmp(path, "/dev/stdout") == 0)
        return 1;
    if (strcmp(path, "/dev/stderr") == 0)
        return 2;
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        size_t n = strlen(dirs[i]), k = strncmp(path, dirs[i], n) == 0 ? strspn(path + n, "0123456789") : 0;
        if (k && k <= 9 && !path[n + k] && (k == 1 || path[n] != '0'))
            return atoi(path + n);
    }
    return -1;
}

int llf_log_open(const char *path)
{
    if (!path || !*path)
        return 0;
    /* (the names of the program's stderr as a file too: opened, a socket's
     * (the journal's, under systemd) is ENXIO, and a terminal's or pipe's
     * would be another description of it, which stderr's handling fits) */
    if (strcmp(path, "stderr") == 0 || names_fd(path) == 2) {
        log_mode = LOG_STDERR;
        return 0;
    }
    /* Opened later, maybe again: relative to where the process is now, not
     * to wherever it may have gone by then (a daemon's chdir("/")). */
    if (!(log_path = llf_path_abs(path)))
        return -1;
    llf_fork_chain(NULL, NULL, log_lock_reinit, NULL);   /* a child forked mid-line */
    log_mode = LOG_FILE;
    return 0;
}

int llf_log_enabled(void)
{
    int m = __atomic_load_n(&log_mode, __ATOMIC_ACQUIRE);
    return m == LOG_STDERR || m == LOG_FILE;
}

/* The log's lock, waited for at most about a second: the summary is
 * written from exec too, which a signal handler may call on a thread that
 * holds it (that line is then lost, not the process). */
static int lock_briefly(void)
{
    const struct timespec ms = {0, 1000000};
    for (int i = 0; i < 1000; i++) {
        if (pthread_mutex_trylock(&log_lock) == 0)
            return 0;
        nanosleep(&ms, NULL);
    }
    return -1;
}

/* Where to write a line: the log file's descriptor as it was opened (a
 * copy, in *copy, and returned), TO_STDERR, or NULL for nowhere. brief: the
 * lock is waited for only briefly (see lock_briefly). probe: no line is to
 * be written (llf_log_ready), so none is lost to a failure for now. */
static int said_short, said_unread;
/* Lines dropped (a log that could not be opened for them, and those of
 * put_line below), for the summary. */
static unsigned long dropped;
static const llf_ownfd to_stderr_mark = LLF_NO_FD;
#define TO_STDERR (&to_stderr_mark)

/* The log at path opened to append, without blocking (see below); a file
 * made here is mode 0600 whatever the umask (under 0277 it would be made
 * read-only, and the user's next process refused it), one that was there
 * keeps its mode. -1 with errno. A path that names a descriptor of the
 * program's on a regular file (LLMFALLBACK_LOG=/dev/stdout, its stdout
 * redirected with >) is that descriptor's copy, sharing its offset
 * (*shared set): opened anew, the file had two offsets, and the program's
 * writes, at its own, went over the log's lines, which went at the end.
 * (Anything else, a pipe or a terminal, is opened as it was.) */
static int open_log(const char *path, int *shared)
{
    struct stat st;
    int own = names_fd(path);
    *shared = own >= 0 && fstat(own, &st) == 0 && S_ISREG(st.st_mode);
    if (*shared)
        return fcntl(own, F_DUPFD_CLOEXEC, 3);
    for (int tries = 0; tries < 3; tries++) {
        int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NONBLOCK);
        if (fd >= 0 || errno != ENOENT)
            return fd;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0600);
        if (fd >= 0) {
            fchmod(fd, 0600);
            return fd;
        }
        if (errno != EEXIST)   /* (EEXIST: another process made it meanwhile) */
            return -1;
    }
    /* (still there and not: a symbolic link to a file not made yet, which
     * O_EXCL does not follow; its target, not there before, made here) */
    int there = stat(path, &st) == 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0600);
    if (fd >= 0 && !there)
        fchmod(fd, 0600);
    return fd;
}

static const llf_ownfd *log_acquire(int brief, int probe, llf_ownfd *copy)
{
    int m = __atomic_load_n(&log_mode, __ATOMIC_ACQUIRE);
    if (m == LOG_STDERR)
        return TO_STDERR;
    if (m != LOG_FILE)
        return NULL;
    int err = 0;
    if (!brief)
        pthread_mutex_lock(&log_lock);
    else if (lock_briefly())
        return NULL;
    llf_fd_hold();   /* (log_lock, then this: it is the innermost) */
    if (log_fd.fd >= 0 && !llf_fd_ours(&log_fd))
        log_fd.fd = -1;   /* closed, or the program's now: not ours to close */
    if (log_fd.fd < 0) {
        /* (non-blocking to open: a FIFO with no reader would hold the
         * call, and every thread behind this lock, for ever; and so kept
         * for anything but a regular file, whose reader may stop reading) */
        int shared = 0;
        int fd = open_log(log_path, &shared);
        /* (a copy of the program's descriptor keeps its flags: they are
         * the program's too) */
        if (fd < 0 || llf_fd_own(&log_fd, fd) ||
            (!shared && fcntl(fd, F_SETFL, O_APPEND | (S_ISREG(log_fd.type) ? 0 : O_NONBLOCK)) != 0)) {
            log_fd.fd = -1;
            err = errno;
            if (fd >= 0)
                close(fd);
            /* (what an ENXIO was opened on: a FIFO with no reader, a socket) */
            struct stat st;
            mode_t kind = err == ENXIO && stat(log_path, &st) == 0 ? st.st_mode & S_IFMT : 0;
            int fifo = S_ISFIFO(kind);
            /* (out of descriptors for now, the process at its limit, or a
             * FIFO whose reader has not come yet: this line is lost, not
             * the log, and counted as dropped; said once; for a probe,
             * no line was lost) */
            int for_now = err == EMFILE || err == ENFILE || fifo;
            if (for_now && probe) {
                err = 0;
            } else if (for_now) {
                __atomic_add_fetch(&dropped, 1, __ATOMIC_RELAXED);
                err = __atomic_exchange_n(fifo ? &said_unread : &said_short, 1, __ATOMIC_RELAXED) ? 0 : fifo ? -1 : err;
            } else {
                __atomic_store_n(&log_mode, LOG_FAILED, __ATOMIC_RELEASE);
                if (S_ISSOCK(kind))
                    err = -2;
            }
        }
    }
    llf_fd_release();
    *copy = log_fd;
    pthread_mutex_unlock(&log_lock);
    /* (not said from the summary, which exec may write in a signal handler:
     * llf_warn allocates; a call's lines before it have said it) */
    if (brief)
        err = 0;
    if (err == EMFILE || err == ENFILE)
        llf_warn("cannot open log %s: %s; lines are lost until descriptors free up", log_path, strerror(err));
    else if (err == -1)
        llf_warn("log %s is a FIFO that nobody reads yet; lines are dropped until it is read", log_path);
    else if (err == -2)
        llf_warn("cannot open log %s: a socket, which is not opened as a file (LLMFALLBACK_LOG=stderr writes "
                 "to the program's stderr, whatever it is); not logging", log_path);
    else if (err)
        llf_warn("cannot open log %s: %s; not logging", log_path, strerror(err));
    return copy->fd >= 0 ? copy : NULL;
}

/* (a log that cannot be opened for now only, a FIFO not read yet, is
 * still the log: ready) */
int llf_log_ready(void)
{
    llf_ownfd copy;
    if (__atomic_load_n(&log_mode, __ATOMIC_ACQUIRE) == LOG_FILE)
        log_acquire(0, 1, &copy);
    return llf_log_enabled();
}

static double now_s(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) for now, a time since 1970, worked out
 * here: gmtime_r takes glibc's time zone lock, which the summary written
 * from exec must not wait for (exec may be called from a signal handler
 * that interrupted localtime, or in a child forked while another thread
 * held it). The days to a civil date as in Howard Hinnant's
 * civil_from_days, for days since 1970 >= 0. */
static void format_ts(char ts[40], double now)
{
    long long s = (long long)now;
    int ms = (int)((now - (double)s) * 1000.0) % 1000;
    long long secs = s % 86400, z = s / 86400 + 719468;
    long long era = z / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    long long d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    long long y = yoe + era * 400 + (m <= 2);
    snprintf(ts, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, (int)m, (int)d,
             (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60), ms);
}

/* The length of the UTF-8 sequence at p (1 to 4), or 0 when it is not a
 * valid one (RFC 3629: no overlong form, no surrogate, nothing past
 * U+10FFFF). A NUL is no continuation byte: nothing past it is read. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
#define CONT(b) (((b) & 0xC0) == 0x80)
    if (c < 0x80)
        return 1;
    if (c == 0xC0 && p[1] == 0x80)
        return 2;   /* our cJSON's \u0000 (see third_party/cjson), which it prints so again */
    if (c < 0xC2 || c > 0xF4 || !CONT(p[1]))
        return 0;
    if (c < 0xE0)
        return 2;
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) || (c == 0xF0 && p[1] < 0x90) ||
        (c == 0xF4 && p[1] > 0x8F) || !CONT(p[2]))
        return 0;
    if (c < 0xF0)
        return 3;
    return CONT(p[3]) ? 4 : 0;
#undef CONT
}

int llf_utf8_clean(const char *s, char **fixed)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n, bad = 0, len = 0;
    *fixed = NULL;
    for (; p[len]; len += n ? n : 1)
        bad += !(n = utf8_len(p + len));
    if (!bad)
        return 0;
    char *out = malloc(len + 2 * bad + 1), *o = out;   /* (U+FFFD is 3 bytes for 1) */
    if (!out)
        return -1;
    for (size_t i = 0; p[i]; i += n ? n : 1) {
        if ((n = utf8_len(p + i)))
            memcpy(o, p + i, n), o += n;
        else
            memcpy(o, "\xEF\xBF\xBD", 3), o += 3;
    }
    *o = '\0';
    *fixed = out;
    return 1;
}

/* A string field of a log line: JSON is UTF-8, and a model's name (the
 * program's, the chain's) or a provider's header may not be. */
static void add_str(cJSON *o, const char *key, const char *v)
{
    char *fixed = NULL;
    if (v && llf_utf8_clean(v, &fixed) >= 0)
        cJSON_AddStringToObject(o, key, fixed ? fixed : v);
    free(fixed);
}

static void add_ts(cJSON *o, double now)
{
    char ts[40];
    format_ts(ts, now);
    add_str(o, "ts", ts);
}

/* Lines a reader not reading cost (see lineout.h), or a full disk, and
 * lines cut short, counted in dropped (above) and said once: by llf_warn,
 * whose own line, dropped too, is only counted. */
static int said_dropped;
static int torn_err, torn_log;   /* (see llf_line_write) */

/* One line on to (log_acquire's), never waited for, while its number is
 * still what it was (stderr: what it was at load): the look and the write
 * one step under the descriptor lock (see the top), nothing waited for
 * inside it. may_say: a dropped line may be said, after it (not from the
 * summary, which may be written in a signal handler). */
static void put_line(const llf_ownfd *to, const char *p, size_t n, int may_say)
{
    if (!to)
        return;
    llf_fd_hold();
    mode_t type = to->type;
    int fd = to == TO_STDERR ? llf_stderr_fd(&type) : llf_fd_ours(to) ? to->fd : -1;
    int put = fd < 0 || llf_line_write(fd, type, p, n, to == TO_STDERR ? &torn_err : &torn_log);
    llf_fd_release();
    if (put)
        return;
    __atomic_add_fetch(&dropped, 1, __ATOMIC_RELAXED);
    if (may_say && !__atomic_exchange_n(&said_dropped, 1, __ATOMIC_RELAXED))
        llf_warn("%s does not take every line (not read, or full): lines of the log and warnings are "
                 "dropped, the program is not held up for them",
                 to == TO_STDERR ? "stderr" : log_path ? log_path : "the log");
}

/* One line with one write(); s (from cJSON) has room for the newline that
 * replaces its terminator. Frees s. */
static void write_line(char *s)
{
    if (!s)
        return;
    size_t n = strlen(s);
    s[n] = '\n';
    llf_ownfd copy;
    put_line(log_acquire(0, 0, &copy), s, n + 1, 1);
    free(s);
}

static void emit(cJSON *o)
{
    write_line(o ? cJSON_PrintUnformatted(o) : NULL);
    cJSON_Delete(o);
}

static double tenth(double ms)
{
    return (double)(long)(ms * 10.0 + 0.5) / 10.0;
}

/* The fields every per-call line starts with. */
static cJSON *line_start(double now, const char *event, int pid, const char *path,
                         unsigned long call)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    add_ts(o, now);
    add_str(o, "event", event);
    cJSON_AddNumberToObject(o, "pid", pid);
    add_str(o, "path", path ? path : "");
    cJSON_AddNumberToObject(o, "call", (double)call);
    return o;
}

/* Who was asked and how it went: an attempt's and a shadow copy's alike. */
static void add_result(cJSON *o, const char *provider, const char *model, long status,
                       const char *outcome, const char *reason, double ms)
{
    add_str(o, "provider", provider ? provider : "");
    add_str(o, "model", model ? model : "");
    cJSON_AddNumberToObject(o, "status", (double)status);
    add_str(o, "outcome", outcome ? outcome : "");
    add_str(o, "reason", reason ? reason : "");
    cJSON_AddNumberToObject(o, "ms", tenth(ms));
}

static char *print_line(cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return s;
}

char *llf_log_format(const llf_log_rec *r, double now, int pid)
{
    cJSON *o = line_start(now, "attempt", pid, r->path, r->call);
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "attempt", r->attempt);
    add_result(o, r->provider, r->model, r->status, r->outcome, r->reason, r->ms);
    if (r->detail)
        add_str(o, "detail", r->detail);
    if (r->role)
        add_str(o, "role", r->role);
    return print_line(o);
}

void llf_log_attempt(const llf_log_rec *r)
{
    if (llf_log_enabled())
        write_line(llf_log_format(r, now_s(), (int)getpid()));
}

char *llf_log_shadow_format(const llf_shadow_rec *r, double now, int pid)
{
    cJSON *o = line_start(now, "shadow", pid, r->path, r->call);
    if (!o)
        return NULL;
    add_result(o, r->provider, r->model, r->status, r->outcome, r->reason, r->ms);
    if (r->tokens_in >= 0)
        cJSON_AddNumberToObject(o, "tokens_in", (double)r->tokens_in);
    if (r->tokens_out >= 0)
        cJSON_AddNumberToObject(o, "tokens_out", (double)r->tokens_out);
    add_str(o, "primary_provider", r->primary_provider ? r->primary_provider : "");
    add_str(o, "primary_model", r->primary_model ? r->primary_model : "");
    cJSON_AddNumberToObject(o, "primary_ms", tenth(r->primary_ms));
    if (r->primary_tokens_in >= 0)
        cJSON_AddNumberToObject(o, "primary_tokens_in", (double)r->primary_tokens_in);
    if (r->primary_tokens_out >= 0)
        cJSON_AddNumberToObject(o, "primary_tokens_out", (double)r->primary_tokens_out);
    if (r->similarity >= 0)
        cJSON_AddNumberToObject(o, "similarity", (double)(long)(r->similarity * 1000.0 + 0.5) / 1000.0);
    return print_line(o);
}

void llf_log_shadow(const llf_shadow_rec *r)
{
    if (llf_log_enabled())
        write_line(llf_log_shadow_format(r, now_s(), (int)getpid()));
}

int llf_log_summary_format(char *out, size_t size, const llf_summary *sm, double now, int pid)
{
    char ts[40];
    format_ts(ts, now);
    char more[40] = "";
    if (sm->dropped)
        snprintf(more, sizeof more, ",\"dropped\":%lu", sm->dropped);
    int n = snprintf(out, size,
                     "{\"ts\":\"%s\",\"event\":\"summary\",\"pid\":%d,\"calls\":%lu,"
                     "\"fallbacks\":%lu,\"failures\":%lu,\"attempts\":%lu%s}",
                     ts, pid, sm->calls, sm->fallbacks, sm->failures, sm->attempts, more);
    return n > 0 && (size_t)n < size ? n : -1;
}

/* Written at exit and from exec (which may run in a signal handler): with
 * no allocation, no cJSON, and the log's lock waited for only briefly. */
void llf_log_summary(const llf_summary *sm)
{
    if (!llf_log_enabled())
        return;
    char line[256];
    llf_summary all = *sm;
    /* (taken: a failed exec's process goes on, and its next summary
     * counts only what it dropped after, as it does its calls) */
    all.dropped = __atomic_exchange_n(&dropped, 0, __ATOMIC_RELAXED);
    int n = llf_log_summary_format(line, sizeof line - 1, &all, now_s(), (int)getpid());
    if (n < 0)
        return;
    line[n++] = '\n';
    llf_ownfd copy;
    put_line(log_acquire(1, 0, &copy), line, (size_t)n, 0);
}

void llf_log_forked(void)
{
    __atomic_store_n(&dropped, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&said_dropped, 0, __ATOMIC_RELAXED);   /* (its own stderr may be another's) */
    __atomic_store_n(&said_unread, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&said_short, 0, __ATOMIC_RELAXED);
}

void llf_log_deprecation(const char *provider, const char *model, const char *date)
{
    if (!llf_log_enabled())
        return;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    add_ts(o, now_s());
    add_str(o, "event", "deprecation");
    cJSON_AddNumberToObject(o, "pid", (int)getpid());
    add_str(o, "provider", provider);
    add_str(o, "model", model);
    add_str(o, "date", date ? date : "");
    emit(o);
}

/* The length of a UTF-8 bidirectional format character at c (U+061C,
 * U+200E/F, U+202A..E, U+2066..9), or 0: they reorder the text shown after
 * them ("Trojan Source"), so a name could read as another on a terminal. */
static int bidi_at(const unsigned char *c)
{
    if (c[0] == 0xd8 && c[1] == 0x9c)
        return 2;
    if (c[0] != 0xe2 || !c[1] || !c[2])
        return 0;
    if (c[1] == 0x80 && (c[2] == 0x8e || c[2] == 0x8f || (c[2] >= 0xaa && c[2] <= 0xae)))
        return 3;
    return c[1] == 0x81 && c[2] >= 0xa6 && c[2] <= 0xa9 ? 3 : 0;
}

/* s as one line of text, in place: a line break or a tab a space (U+2028
 * and U+2029 too), any other control character (C0, DEL, and C1 as UTF-8
 * writes it) or bidirectional format character a '?'. What a warning
 * shows may come from the config or a server ("unkn\u001b[2Jown", an
 * unknown key): on a terminal it must be text, not escape sequences. */
static void one_line(char *s)
{
    char *o = s;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        int n = bidi_at(c);
        if (*c == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f)
            c++, *o++ = '?';
        else if (n)
            c += n - 1, *o++ = '?';
        else if (c[0] == 0xe2 && c[1] == 0x80 && (c[2] == 0xa8 || c[2] == 0xa9))
            c += 2, *o++ = ' ';
        else
            *o++ = *c == '\n' || *c == '\r' || *c == '\t' ? ' ' : *c < ' ' || *c == 0x7f ? '?' : (char)*c;
    }
    *o = '\0';
}

void llf_warn(const char *fmt, ...)
{
    /* (room for a reason of 512 bytes, the config's, with what its caller
     * adds: "; passing calls through untouched" had been cut off) */
    char msg[1024];
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int need = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* A longer one loses its middle, not its end: the reason and what is
     * done about it come last (a 5,000-byte log path hid "File name too
     * long; not logging"). */
    char *full = need >= (int)sizeof msg ? malloc((size_t)need + 1) : NULL;
    if (full && vsnprintf(full, (size_t)need + 1, fmt, again) == need) {
        static const char cut[] = " ... ";
        size_t head = 256, tail = sizeof msg - 1 - head - (sizeof cut - 1);
        memcpy(msg + head, cut, sizeof cut - 1);
        memcpy(msg + head + sizeof cut - 1, full + need - tail, tail + 1);
    }
    free(full);
    va_end(again);
    one_line(msg);
    char line[sizeof msg + 16];
    int n = snprintf(line, sizeof line, "llmfallback: %s\n", msg);
    if (n > 0)
        put_line(TO_STDERR, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, 1);
    if (__atomic_load_n(&log_mode, __ATOMIC_ACQUIRE) == LOG_FILE) {
        cJSON *o = cJSON_CreateObject();
        if (o) {
            add_ts(o, now_s());
            add_str(o, "event", "warning");
            cJSON_AddNumberToObject(o, "pid", (int)getpid());
            add_str(o, "message", msg);
            emit(o);
        }
    }
}
