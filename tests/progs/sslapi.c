/* sslapi.c — a C client that asks OpenSSL's API what a program may ask of
 * a session, and prints what it said, for test_tls_path to compare with
 * and without the library:
 *   sslapi PORT HOST [connect]
 * connects to 127.0.0.1:PORT with the length of a sockaddr_storage (the
 * kernel takes it), leaves the handshake to its first write
 * (SSL_set_connect_state, no SSL_connect: OpenSSL's implicit handshake),
 * or with "connect" makes it with SSL_connect, asks the handshake's state, writes nothing, reads with nothing to read
 * on a non-blocking socket, sends a chat call, reads nothing, then the
 * answer; prints its status line last. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *E(int e)
{
    static const char *n[] = {"NONE", "SSL", "WANT_READ", "WANT_WRITE", "WANT_X509_LOOKUP", "SYSCALL", "ZERO_RETURN"};
    return e >= 0 && e < 7 ? n[e] : "?";
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    int port = atoi(argv[1]);
    const char *host = argv[2];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &sin->sin_addr);
    if (connect(fd, (struct sockaddr *)&ss, sizeof ss)) {
        perror("connect");
        return 1;
    }
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    getpeername(fd, (struct sockaddr *)&peer, &pl);
    printf("getpeername: the port asked %d\n", ntohs(((struct sockaddr_in *)&peer)->sin_port) == port);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL *s = SSL_new(ctx);
    SSL_set_tlsext_host_name(s, host);
    SSL_set_fd(s, fd);
    SSL_set_connect_state(s);
    if (argc > 3 && strcmp(argv[3], "connect") == 0) {
        int c = SSL_connect(s);
        printf("SSL_connect: %d %s\n", c, E(SSL_get_error(s, c)));
    }

    int r = SSL_write(s, "", 0);
    printf("SSL_write of none: %d %s\n", r, E(SSL_get_error(s, r)));
    ERR_clear_error();
    size_t w = 99;
    r = SSL_write_ex(s, "", 0, &w);
    printf("SSL_write_ex of none: %d written %zu %s\n", r, w, E(SSL_get_error(s, r)));
    ERR_clear_error();
    printf("SSL_in_init %d SSL_is_init_finished %d SSL_get_state %d\n", SSL_in_init(s), SSL_is_init_finished(s),
           (int)SSL_get_state(s));
    r = SSL_key_update(s, SSL_KEY_UPDATE_NOT_REQUESTED);
    printf("SSL_key_update %d\n", r);
    ERR_clear_error();

    char c[16];
    fcntl(fd, F_SETFL, O_NONBLOCK);
    r = SSL_read(s, c, sizeof c);
    printf("non-blocking SSL_read: %d %s SSL_want_read %d\n", r, E(SSL_get_error(s, r)), SSL_want_read(s));
    r = SSL_do_handshake(s);
    printf("SSL_do_handshake after it: %d %s\n", r, E(SSL_get_error(s, r)));
    fcntl(fd, F_SETFL, 0);

    const char *body = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    char req[1024];
    const char *key = getenv("OPENAI_API_KEY");
    int n = snprintf(req, sizeof req,
                     "POST /v1/chat/completions HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     host, port, key ? key : "", strlen(body), body);
    r = SSL_write(s, req, n);
    printf("SSL_write of the call: %d %s\n", r == n, E(SSL_get_error(s, r)));
    r = SSL_read(s, c, 0);
    printf("SSL_read of none: %d %s shutdown %d\n", r, E(SSL_get_error(s, r)), SSL_get_shutdown(s));
    ERR_clear_error();
    char buf[65536], first[64] = "";
    size_t total = 0;
    while ((r = SSL_read(s, buf + total, (int)(sizeof buf - 1 - total))) > 0)
        total += (size_t)r;
    buf[total] = '\0';
    char *cr = strchr(buf, '\r');
    snprintf(first, sizeof first, "%.*s", cr ? (int)(cr - buf) : 0, buf);
    printf("%s\n", first);
    SSL_free(s);
    SSL_CTX_free(ctx);
    close(fd);
    return 0;
}
