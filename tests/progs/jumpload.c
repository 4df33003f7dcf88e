/* jumpload — a plain-socket client whose first call is timed out the old C
 * way, setitimer and a SIGALRM handler that siglongjmps out of connect()
 * (2 ms: while the library is still loading at that first connection).
 * Then three calls on the main thread and one on another thread, each
 * printing its status line and the provider that answered.
 * Usage: jumpload PORT KEY */
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <unistd.h>

static sigjmp_buf jb;
static volatile sig_atomic_t armed;
static volatile int curfd = -1;
static int port;
static const char *key;

static void on_alarm(int s)
{
    (void)s;
    if (armed)
        siglongjmp(jb, 1);
}

/* One call; its status line and provider header into out ("" if none). */
static void call(int i, char *out, size_t cap)
{
    static __thread char buf[65536];
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    out[0] = '\0';
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    curfd = fd;
    if (connect(fd, (struct sockaddr *)&a, sizeof a))
        goto done;
    char body[200], req[800];
    int bl = snprintf(body, sizeof body,
                      "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi [rid:%d]\"}]}", i);
    int rl = snprintf(req, sizeof req,
                      "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                      "Authorization: Bearer %s\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
                      port, key, bl, body);
    if (write(fd, req, (size_t)rl) != rl)
        goto done;
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    char *eol = strstr(buf, "\r\n");
    if (!eol)
        goto done;
    *eol = '\0';
    const char *p = strstr(eol + 2, "x-llmfallback-provider: ");
    snprintf(out, cap, "%.3s %.*s", buf + 9, p ? (int)strcspn(p + 24, "\r\n") : 0, p ? p + 24 : "");
done:
    close(fd);
    curfd = -1;
}

static void *other(void *unused)
{
    (void)unused;
    char out[200];
    call(77, out, sizeof out);
    printf("thread: %s\n", out);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    setvbuf(stdout, NULL, _IONBF, 0);
    port = atoi(argv[1]);
    key = argv[2];
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    char out[200];
    for (volatile int i = 0; i < 4; i++) {
        if (sigsetjmp(jb, 1)) {
            printf("call %d: timed out\n", i);
            if (curfd >= 0)
                close(curfd);
            curfd = -1;
            armed = 0;
            continue;
        }
        if (i == 0) {
            struct itimerval it = {{0, 0}, {0, 2000}};
            armed = 1;
            setitimer(ITIMER_REAL, &it, NULL);
        }
        call(i, out, sizeof out);
        armed = 0;
        printf("call %d: %s\n", i, out);
    }
    pthread_t t;
    pthread_create(&t, NULL, other, NULL);
    pthread_join(t, NULL);
    printf("done\n");
    return 0;
}
