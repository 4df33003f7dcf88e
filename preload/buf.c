/* buf.c — growable buffers and header lists (see buf.h). */
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int grow(llf_buf *b, size_t need)
{
    if (need + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need + 1) {
        if (cap > ((size_t)-1) / 2)
            return -1;
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

int llf_buf_add(llf_buf *b, const void *data, size_t n)
{
    if (n > ((size_t)-1) - b->n - 1 || grow(b, b->n + n))
        return -1;
    if (n)
        memcpy(b->p + b->n, data, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 0;
}

int llf_buf_adds(llf_buf *b, const char *s)
{
    return llf_buf_add(b, s, strlen(s));
}

int llf_buf_printf(llf_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0 || grow(b, b->n + (size_t)len))
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)len + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)len;
    return 0;
}

void llf_buf_reset(llf_buf *b)
{
    b->n = 0;
    if (b->p)
        b->p[0] = '\0';
}

void llf_buf_free(llf_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

int llf_buf_read_file(llf_buf *b, const char *path, size_t max, int regular_only)
{
    /* Opened without blocking: a FIFO nobody writes to would otherwise
     * block the open, and with it the host's first name lookup, for ever.
     * A FIFO without a writer reads as empty. A pipe's writer (a shell's
     * <(...)) is waited for, LLF_READ_WAIT_MS in all: the core's load that
     * reads the config holds the host's signals (shim.c), and a writer
     * that never ended held the host with them, past `timeout` (rev29). */
    struct stat st;
    /* (regular only: another file is not opened at all. Opened, a FIFO's
     * writer waiting for a reader went on, and met our close: SIGPIPE, and
     * the core, which reads it, found it used up) */
    if (regular_only && stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    int e = fstat(fd, &st) != 0                    ? errno
            : S_ISDIR(st.st_mode)                  ? EISDIR
            : regular_only && !S_ISREG(st.st_mode) ? EINVAL
                                                   : 0;
    if (e) {
        close(fd);
        errno = e;
        return -1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char chunk[4096];
    ssize_t n;
    int rc = 0;
    while (rc == 0 && ((n = read(fd, chunk, sizeof chunk)) != 0)) {
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            long left = LLF_READ_WAIT_MS - ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (left <= 0)
                errno = ETIMEDOUT, rc = -1;
            else
                poll(&p, 1, (int)left);
            continue;
        }
        if (n < 0) {
            if (errno != EINTR)
                rc = -1;   /* (an error is not the end of the file) */
            continue;
        }
        if (b->n > max || (size_t)n > max - b->n)
            errno = EFBIG, rc = -1;
        else if (llf_buf_add(b, chunk, (size_t)n))
            errno = ENOMEM, rc = -1;
    }
    e = errno;
    close(fd);
    errno = e;
    return rc;
}

void *llf_zalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        return NULL;
    /* (opaque, or GCC turns malloc and memset back into calloc) */
    __asm__("" : "+r"(p));
    return memset(p, 0, n);
}

char *llf_buf_steal(llf_buf *b)
{
    char *p = b->p;
    if (!p)
        p = calloc(1, 1);
    b->p = NULL;
    b->n = b->cap = 0;
    return p;
}

int llf_header_hop(const char *line)
{
    /* (HTTP2-Settings goes with an Upgrade to h2c, which is not passed on) */
    static const char *const hop[] = {"connection", "keep-alive", "proxy-connection", "te",
                                      "transfer-encoding", "upgrade", "http2-settings",
                                      "content-length", "expect", NULL};
    for (const char *const *p = hop; *p; p++)
        if (llf_header_is(line, *p))
            return 1;
    return 0;
}

int llf_head_take(llf_buf *head, llf_buf *trailers, const char *p, size_t n)
{
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        if (trailers->n && llf_buf_add(head, trailers->p, trailers->n))
            return -1;
        llf_buf_reset(trailers);
        return llf_buf_add(head, p, n);
    }
    /* (after a blank line: head ends "\n\r\n" or "\n\n") */
    const char *e = head->n >= 2 ? head->p + head->n : NULL;
    int ended = e && e[-1] == '\n' && (e[-2] == '\n' || (head->n >= 3 && e[-2] == '\r' && e[-3] == '\n'));
    if (trailers->n || ended)
        return llf_buf_add(trailers, p, n) ? -1 : 1;
    return llf_buf_add(head, p, n);
}

const char *llf_head_last_block(const char *head, size_t len)
{
    const char *last = head, *end = head + len;
    for (const char *p = head; p && end - p >= 5;) {
        if (memcmp(p, "HTTP/", 5) == 0)
            last = p;
        p = memchr(p, '\n', (size_t)(end - p));
        p = p ? p + 1 : NULL;
    }
    return last;
}

const char *llf_trim(const char *v, const char *e, size_t *len)
{
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *len = (size_t)(e - v);
    return v;
}

const char *llf_head_get_any(const llf_buf *head, const char *const *names, size_t *len)
{
    const char *best = NULL;
    size_t best_i = (size_t)-1;
    for (const char *p = head->p ? llf_head_last_block(head->p, head->n) : ""; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        const char *colon = memchr(p, ':', n);
        size_t nl = colon ? (size_t)(colon - p) : 0;
        for (size_t i = 0; colon && names[i] && i < best_i; i++) {
            if (strlen(names[i]) != nl || strncasecmp(p, names[i], nl) != 0)
                continue;
            best = llf_trim(colon + 1, p + n, len);
            best_i = i;
        }
        if (best_i == 0)
            break;
        p = eol ? eol + 1 : NULL;
    }
    return best;
}

const char *llf_head_get(const llf_buf *head, const char *name, size_t *len)
{
    const char *names[] = {name, NULL};
    return llf_head_get_any(head, names, len);
}

void llf_head_drop(llf_buf *head, const char *name)
{
    size_t nl = strlen(name), at = 0;
    while (head->p && at < head->n) {
        char *p = head->p + at, *eol = memchr(p, '\n', head->n - at);
        size_t n = eol ? (size_t)(eol - p) + 1 : head->n - at;
        if (n > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            memmove(p, p + n, head->n - at - n);
            head->n -= n;
            head->p[head->n] = '\0';
        } else {
            at += n;
        }
    }
}

void llf_buf_adopt(llf_buf *b, char *s)
{
    free(b->p);
    b->p = s;
    b->n = strlen(s);
    b->cap = b->n + 1;
}

char *llf_strdup(const char *s)
{
    return s ? llf_strndup(s, strlen(s)) : NULL;
}

char *llf_strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *llf_path_abs(const char *path)
{
    char cwd[4096];
    llf_buf abs = {0};
    if (path[0] != '/' && getcwd(cwd, sizeof cwd) ? llf_buf_cats(&abs, cwd, "/", path, (char *)NULL)
                                                   : llf_buf_adds(&abs, path)) {
        llf_buf_free(&abs);
        return NULL;
    }
    return llf_buf_steal(&abs);
}

/* Append a line the list then owns (freed here on failure). */
static int push(llf_headers *h, char *line)
{
    if (!line)
        return -1;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        char **v = realloc(h->v, cap * sizeof *v);
        if (!v) {
            free(line);
            return -1;
        }
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n++] = line;
    return 0;
}

int llf_headers_add(llf_headers *h, const char *line)
{
    return push(h, llf_strdup(line));
}

int llf_headers_add2(llf_headers *h, const char *head, const char *tail)
{
    size_t a = strlen(head), b = strlen(tail);
    char *line = malloc(a + b + 1);
    if (line) {
        memcpy(line, head, a);
        memcpy(line + a, tail, b + 1);
    }
    return push(h, line);
}

void llf_headers_free(llf_headers *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->v[i]);
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}

int llf_header_is(const char *line, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(line, name, n) == 0 && (line[n] == ':' || line[n] == ';');
}

const char *llf_headers_get(const llf_headers *h, const char *name, size_t *len)
{
    for (size_t i = 0; i < h->n; i++) {
        const char *l = h->v[i];
        if (!llf_header_is(l, name))
            continue;
        const char *v = l + strlen(name) + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t n = strlen(v);
        while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
            n--;
        if (len)
            *len = n;
        return v;
    }
    return NULL;
}

const char *llf_utoa(char d[24], unsigned long v)
{
    size_t i = 23;
    d[i] = '\0';
    do
        d[--i] = (char)('0' + v % 10);
    while ((v /= 10) && i);
    return d + i;
}

int llf_buf_cats(llf_buf *b, ...)
{
    enum { MAXPARTS = 24 };
    const char *part[MAXPARTS];
    size_t len[MAXPARTS], n = 0, total = 0;
    va_list ap;
    va_start(ap, b);
    for (const char *p; (p = va_arg(ap, const char *)) != NULL; n++) {
        if (n == MAXPARTS) {
            va_end(ap);
            return -1;
        }
        part[n] = p;
        len[n] = strlen(p);
        total += len[n];
    }
    va_end(ap);
    if (total > ((size_t)-1) - b->n - 1 || grow(b, b->n + total))
        return -1;
    for (size_t i = 0; i < n; i++) {
        memcpy(b->p + b->n, part[i], len[i]);
        b->n += len[i];
    }
    b->p[b->n] = '\0';
    return 0;
}
