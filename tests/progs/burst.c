/* burst.c — an event-loop program's burst: N non-blocking connects to one
 * provider, all made before any request is written (EINPROGRESS, sockets
 * in an edge-triggered epoll set, as Node's or any reactor's), then one chat
 * call on each (Connection: close, read to EOF). An answer is good when it
 * is a 200 carrying its own call's marker and no other's.
 *
 *   burst HOST PORT N      prints "ok N bad N hung N" */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd, sent, done;
    char req[1024], rid[32];
    size_t reqlen, len, cap;
    char *buf;
} call;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int good(call *c)
{
    char want[48];
    snprintf(want, sizeof want, "[rid:%s]", c->rid);
    if (strncmp(c->buf, "HTTP/1.1 200", 12) != 0 || !strstr(c->buf, want))
        return 0;
    for (char *p = strstr(c->buf, "[rid:"); p; p = strstr(p + 1, "[rid:"))
        if (strncmp(p, want, strlen(want)) != 0)
            return 0;   /* another call's answer */
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    const char *host = argv[1], *key = getenv("OPENAI_API_KEY");
    int port = atoi(argv[2]), n = atoi(argv[3]), ok = 0, bad = 0, alive = n;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    int ep = epoll_create1(0);
    call *cs = calloc((size_t)n, sizeof *cs);
    if (ep < 0 || !cs)
        return 2;
    for (int i = 0; i < n; i++) {
        call *c = &cs[i];
        snprintf(c->rid, sizeof c->rid, "burst%d", i);
        char body[256];
        int bl = snprintf(body, sizeof body,
                          "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi [rid:%s]\"}]}", c->rid);
        c->reqlen = (size_t)snprintf(c->req, sizeof c->req,
                                     "POST /v1/chat/completions HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"
                                     "Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
                                     host, port, key ? key : "", bl, body);
        c->cap = 1 << 16;
        c->buf = malloc(c->cap + 1);
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (!c->buf || c->fd < 0) {
            bad++, alive--, c->done = 1;
            continue;
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP, .data.u32 = (unsigned)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
            fprintf(stderr, "connect %s: %s\n", c->rid, strerror(errno));
            bad++, alive--, c->done = 1;
        }
    }
    double end = now() + 60;
    while (alive > 0 && now() < end) {
        struct epoll_event evs[64];
        int got = epoll_wait(ep, evs, 64, 100);
        for (int k = 0; k < got; k++) {
            call *c = &cs[evs[k].data.u32];
            if (c->done)
                continue;
            if ((evs[k].events & EPOLLOUT) && !c->sent) {
                int err = 0;
                socklen_t el = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
                if (err || write(c->fd, c->req, c->reqlen) != (ssize_t)c->reqlen) {
                    fprintf(stderr, "%s: %s\n", c->rid, err ? strerror(err) : "short write");
                    bad++, alive--, c->done = 1;
                    close(c->fd);
                    continue;
                }
                c->sent = 1;
            }
            if (!(evs[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
                continue;
            for (;;) {
                if (c->len == c->cap) {
                    c->cap *= 2;
                    c->buf = realloc(c->buf, c->cap + 1);
                }
                ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
                if (r > 0) {
                    c->len += (size_t)r;
                    continue;
                }
                if (r < 0 && errno == EAGAIN)
                    break;
                c->buf[c->len] = '\0';
                if (r == 0 && good(c)) {
                    ok++;
                } else {
                    bad++;
                    if (bad < 4)
                        fprintf(stderr, "%s: %s\n", c->rid, r < 0 ? strerror(errno) : c->buf);
                }
                close(c->fd);
                c->done = 1;
                alive--;
                break;
            }
        }
    }
    printf("ok %d bad %d hung %d\n", ok, bad, alive);
    return 0;
}
