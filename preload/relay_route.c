/* relay_route.c — where the relay's connections for a program's connection
 * go, and where they leave from (see relay_route.h). */
#include "relay_route.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

#include "hubutil.h"
#include "netaddr.h"

#define MAX_OTHERS 8   /* addresses tried after the program's own */

socklen_t llf_relay_addr_len(const struct sockaddr_storage *a)
{
    return a->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* An address as a URL authority ("[::1]:443"). */
int llf_relay_authority(const struct sockaddr_storage *a, char *out, size_t n)
{
    char ip[INET6_ADDRSTRLEN];
    const struct sockaddr_in *v4 = (const void *)a;
    const struct sockaddr_in6 *v6 = (const void *)a;
    int six = a->ss_family == AF_INET6;
    if ((a->ss_family != AF_INET && !six) ||
        !inet_ntop(a->ss_family, six ? (const void *)&v6->sin6_addr : (const void *)&v4->sin_addr, ip, sizeof ip))
        return -1;
    int m = snprintf(out, n, six ? "[%s]:%u" : "%s:%u", ip, ntohs(six ? v6->sin6_port : v4->sin_port));
    return m > 0 && (size_t)m < n ? 0 : -1;
}

/* CURLOPT_CONNECT_TO for the program's own request: any host and port in
 * its URL, connected at address a. None for the placeholder of a name that
 * did not resolve: nothing listens there, and libcurl's own lookup is the
 * better try. */
int llf_relay_connect_to_line(const struct sockaddr_storage *a, char *out, size_t n)
{
    const struct sockaddr_in *v4 = (const void *)a;
    if (a->ss_family == AF_INET && v4->sin_addr.s_addr == htonl(LLF_PLACEHOLDER_ADDR))
        return -1;
    char at[INET6_ADDRSTRLEN + 8];
    return llf_relay_authority(a, at, sizeof at) == 0 && snprintf(out, n, "::%s", at) < (int)n ? 0 : -1;
}

/* The address the program bound k's socket to, or NULL: none of its
 * choosing. */
const struct sockaddr_storage *llf_relay_chosen_src(const conn *k)
{
    return k->from.own_src ? &k->from.src : NULL;
}

/* Binds fd, about to connect to dst, to the address of src (the
 * program's socket's, when it chose one), its port left to the connect as
 * for the program's own socket: 0, or -1 not (src cannot reach dst, see
 * llf_addr_source; or the bind failed), the system's choice then. */
int llf_relay_bind_source(int fd, const struct sockaddr_storage *src, const struct sockaddr *dst)
{
    struct sockaddr_storage me;
    socklen_t ml = sizeof me;
    int one = 1;
    if (llf_addr_source(src, dst, &me, &ml))
        return -1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    return bind(fd, (struct sockaddr *)&me, ml) ? -1 : 0;
}

/* CURLOPT_OPENSOCKETFUNCTION of the relay's handles: the socket leaves
 * from the program's address, clientp, if it chose one (see
 * llf_relay_leave_from). */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    curl_socket_t fd = llf_curl_socket(NULL, purpose, a);
    if (fd != CURL_SOCKET_BAD && clientp)
        llf_relay_bind_source(fd, clientp, &a->addr);
    return fd;
}

/* Where the relay's connections for k, on h, leave from: the address the
 * program bound its socket to, as the program's own would have (a host
 * with more than one address, whose provider or firewall knows it by one),
 * unless that cannot reach the address libcurl connects to (see
 * llf_relay_bind_source). Bound as each socket is made, where its
 * destination is known (as CURLOPT_INTERFACE, it bound a member of the
 * other family too, which then could not be reached). libcurl cannot tell
 * such a connection from another, so a pooled handle serves calls from one
 * source only (see pick_up, relay.c), and a program that binds its sockets
 * keeps its connections to the providers as any other does. */
void llf_relay_leave_from(conn *k, CURL *h)
{
    const llf_curl_api *c = k->c;
    c->easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    c->easy_setopt(h, CURLOPT_OPENSOCKETDATA, (void *)llf_relay_chosen_src(k));
}

/* Do the relay's connections for a and b (llf_relay_chosen_src's: NULL, none)
 * leave from one address? */
int llf_relay_same_source(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    return a && b ? llf_same_host((const struct sockaddr *)a, (const struct sockaddr *)b) : a == b;
}

/* Where the program would have gone had the address it connected to
 * refused: the others of its lookup of the name (of host's, when the
 * request names one), at most MAX_OTHERS. */
static size_t others(conn *k, const char *host, struct sockaddr_storage *out)
{
    return llf_targets_others((struct sockaddr *)&k->from.orig, host, out, MAX_OTHERS);
}

/* What is left of limit (0: none), ms after it began; 0 when nothing is. */
long llf_relay_left_of(long limit, double spent, int *none)
{
    long left = limit - (long)spent;
    if (limit > 0 && left <= 0)
        *none = 1;
    return limit > 0 ? left : 0;
}

/* Where the program meant to go (k->from.orig), and when that refuses,
 * the other addresses its resolver gave for the name, in order (see
 * others), as the program would have gone on without us: its connect()
 * reached the relay, so it cannot. Each next address only after a
 * refusal, and all of them within one connect limit (a blackholed address
 * spends it, and the chain answers; the next address gets only what a
 * refusal left). The address reached is the connection's from then on.
 * 0: reached; -1: not. */
int llf_relay_reach(conn *k, const char *host, long limit, reach_try fn, void *ud)
{
    struct sockaddr_storage alt[MAX_OTHERS + 1];
    alt[0] = k->from.orig;
    size_t n = 1;
    double t0 = llf_mono_ms();
    for (size_t i = 0; i < n; i++) {
        int none = 0;
        double spent = llf_mono_ms() - t0;
        long left = llf_relay_left_of(limit, spent, &none);
        if (none)
            return -1;
        int got = fn(ud, &alt[i], left, spent);
        if (got == REACHED) {
            k->from.orig = alt[i];
            return 0;
        }
        if (got == FAILED)
            return -1;
        if (i == 0)
            n += others(k, host, alt + 1);
    }
    return -1;
}
