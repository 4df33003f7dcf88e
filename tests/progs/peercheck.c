/* peercheck.c — a C client in a common style (test_tls_path): SSL_VERIFY_NONE
 * with a CA file loaded, and the decision made after the handshake from
 * SSL_get_verify_result() and X509_check_host() on the peer's certificate.
 * It sends its key (OPENAI_API_KEY) only when both say the server is the one
 * it trusts.
 *   peercheck HOST PORT CAFILE
 * prints "verify=N host=0|1 issuer=...", then "refused", or the answer's
 * status line (read no further).
 *   peercheck HOST PORT CAFILE MODE
 * verifies with SSL_VERIFY_PEER and code of its own instead, MODE one of
 * vcb-reject, vcb-accept (a verify callback that refuses, or accepts,
 * whatever the chain), cvcb-reject (a cert-verify callback that refuses),
 * scb-reject, scb-accept (the same on its store, X509_STORE_set_verify_cb,
 * finding its own object through the session's app data as callbacks do,
 * and refusing a session that is not its own);
 * a handshake that succeeds sends at once. MODE info checks as the first
 * form, with an info callback that asks its own session (found through
 * its app data) for the cipher when a handshake is done: prints
 * "info cipher NAME" first. */
#include <netdb.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int yes(int ok, X509_STORE_CTX *c) { (void)ok; (void)c; return 1; }
static int no(int ok, X509_STORE_CTX *c) { (void)ok; (void)c; return 0; }
static int no_chain(X509_STORE_CTX *c, void *arg) { (void)c; (void)arg; return 0; }

/* What the program's callbacks find through its session's app data. */
static struct app { SSL *ssl; int accept; } app;

static int store_cb(int ok, X509_STORE_CTX *c)
{
    (void)ok;
    SSL *s = X509_STORE_CTX_get_ex_data(c, SSL_get_ex_data_X509_STORE_CTX_idx());
    return s && SSL_get_app_data(s) == &app && app.accept;
}

static void info_cb(const SSL *s, int where, int ret)
{
    (void)s, (void)ret;
    if (where & SSL_CB_HANDSHAKE_DONE) {
        const SSL_CIPHER *c = SSL_get_current_cipher(app.ssl);
        printf("info cipher %s\n", c ? SSL_CIPHER_get_name(c) : "none");
    }
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    const char *host = argv[1], *port = argv[2], *key = getenv("OPENAI_API_KEY");
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    if (!ctx || !SSL_CTX_load_verify_locations(ctx, argv[3], NULL))
        return 2;
    const char *mode = argc > 4 ? argv[4] : NULL;
    if (mode && strcmp(mode, "info") == 0) {
        SSL_CTX_set_info_callback(ctx, info_cb);
        mode = NULL;
    } else if (mode && strncmp(mode, "scb-", 4) == 0) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        X509_STORE_set_verify_cb(SSL_CTX_get_cert_store(ctx), store_cb);
        app.accept = strcmp(mode, "scb-accept") == 0;
    } else if (mode && strcmp(mode, "cvcb-reject") == 0) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_cert_verify_callback(ctx, no_chain, NULL);
    } else if (mode)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, strcmp(mode, "vcb-accept") == 0 ? yes : no);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai, *a;
    if (getaddrinfo(host, port, &hints, &ai))
        return 2;
    int fd = -1;
    for (a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen)) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0)
        return 2;
    SSL *s = SSL_new(ctx);
    app.ssl = s;
    SSL_set_app_data(s, &app);
    SSL_set_fd(s, fd);
    SSL_set_tlsext_host_name(s, host);
    if (SSL_connect(s) != 1) {
        printf("handshake failed\n");
        SSL_free(s);   /* (all freed on every path: the sanitized run reads leaks) */
        SSL_CTX_free(ctx);
        close(fd);
        return 3;
    }
    long vr = mode ? X509_V_OK : SSL_get_verify_result(s);
    X509 *peer = SSL_get1_peer_certificate(s);
    int host_ok = mode || (peer && X509_check_host(peer, host, 0, 0, NULL) == 1);
    char issuer[256] = "-";
    if (peer)
        X509_NAME_oneline(X509_get_issuer_name(peer), issuer, sizeof issuer);
    if (!mode)
        printf("verify=%ld host=%d issuer=%s\n", vr, host_ok, issuer);
    if (vr != X509_V_OK || !host_ok) {
        printf("refused\n");
        X509_free(peer);
        SSL_free(s);
        SSL_CTX_free(ctx);
        close(fd);
        return 1;
    }
    const char *body = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    char req[1024], buf[4096];
    int n = snprintf(req, sizeof req,
                     "POST /v1/chat/completions HTTP/1.1\r\nHost: %s:%s\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     host, port, key ? key : "", strlen(body), body);
    if (SSL_write(s, req, n) != n)
        return 4;
    int r, got = 0;   /* (the status line is enough: a server may keep the connection) */
    buf[0] = 0;
    while (!strstr(buf, "\r\n") && got < (int)sizeof buf - 1 && (r = SSL_read(s, buf + got, sizeof buf - 1 - got)) > 0)
        buf[got += r] = 0;
    printf("%.*s\n", (int)strcspn(buf, "\r\n"), buf);
    X509_free(peer);
    SSL_free(s);
    SSL_CTX_free(ctx);
    close(fd);
    return 0;
}
