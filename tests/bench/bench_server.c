/* bench_server.c — a minimal HTTP/1.1 keep-alive server for loopback
 * benchmarks: every request is answered at once with a fixed OpenAI chat
 * completion (mode ok) or a 503 in OpenAI's error shape (mode 503), in one
 * write, with TCP_NODELAY. Binds 127.0.0.1 only; exits after 10 minutes.
 *
 *   bench_server PORT ok|503 [STATS] (prints READY once listening)
 *
 * With STATS, the file STATS always holds "accepts=A requests=R": how many
 * connections and requests the server has had (to see whether a client or
 * gateway keeps its connection to a failing provider alive). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static const char ok_body[] =
    "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":"
    "\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"ok\"},"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}}";
static const char err_body[] = "{\"error\":{\"message\":\"The server is overloaded or not ready yet.\","
                               "\"type\":\"server_error\",\"param\":null,\"code\":null}}";
static char response[1024];
static size_t response_len;
static atomic_long accepts, requests;

static void *stats(void *arg)   /* rewrites the STATS file every 20 ms */
{
    int fd = (int)(long)arg;
    for (;;) {
        char line[64];
        int len = snprintf(line, sizeof line, "accepts=%ld requests=%ld\n", atomic_load(&accepts),
                           atomic_load(&requests));
        if (pwrite(fd, line, (size_t)len, 0) == len && ftruncate(fd, len) == 0)
            usleep(20000);
        else
            usleep(200000);
    }
    return NULL;
}

static void *serve(void *arg)
{
    int fd = (int)(long)arg;
    char buf[65536];
    size_t have = 0;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = '\0';
        for (;;) {   /* every complete request in the buffer */
            char *end = strstr(buf, "\r\n\r\n");
            if (!end)
                break;
            size_t head = (size_t)(end - buf) + 4, body = 0;
            for (char *p = buf; p < end; p = strchr(p, '\n') + 1) {
                if (strncasecmp(p, "content-length:", 15) == 0)
                    body = strtoul(p + 15, NULL, 10);
                if (strncasecmp(p, "expect: 100-continue", 20) == 0 &&
                    write(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0)
                    goto out;
                if (!strchr(p, '\n'))
                    break;
            }
            if (body > sizeof buf - 1 - head)
                goto out;   /* not for this server */
            if (have < head + body)
                break;
            atomic_fetch_add(&requests, 1);
            if (write(fd, response, response_len) != (ssize_t)response_len)
                goto out;
            memmove(buf, buf + head + body, have - head - body);
            have -= head + body;
            buf[have] = '\0';
        }
        if (have == sizeof buf - 1)
            break;
    }
out:
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4)
        return 2;
    int ok = strcmp(argv[2], "503") != 0;
    const char *body = ok ? ok_body : err_body;
    response_len = (size_t)snprintf(response, sizeof response,
                                    "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                                    "Content-Length: %zu\r\n\r\n%s",
                                    ok ? "200 OK" : "503 Service Unavailable", strlen(body), body);
    signal(SIGPIPE, SIG_IGN);
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 128)) {
        perror("bench_server");
        return 1;
    }
    alarm(600);
    if (argc == 4) {
        int sf = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        pthread_t st;
        if (sf < 0 || pthread_create(&st, NULL, stats, (void *)(long)sf)) {
            perror("bench_server stats");
            return 1;
        }
    }
    printf("READY\n");
    fflush(stdout);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        atomic_fetch_add(&accepts, 1);
        pthread_t t;
        if (pthread_create(&t, NULL, serve, (void *)(long)c))
            close(c);
        else
            pthread_detach(t);
    }
}
