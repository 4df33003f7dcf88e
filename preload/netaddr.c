/* netaddr.c — socket addresses compared (see netaddr.h). */
#include "netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

int llf_addr_v4(const struct sockaddr *sa, socklen_t len, struct sockaddr_in *out)
{
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    if (sa->sa_family == AF_INET && len >= sizeof *out) {
        const struct sockaddr_in *x = (const void *)sa;
        out->sin_port = x->sin_port;
        out->sin_addr = x->sin_addr;
        return 1;
    }
    const struct sockaddr_in6 *x = (const void *)sa;
    if (sa->sa_family != AF_INET6 || len < sizeof *x || !IN6_IS_ADDR_V4MAPPED(&x->sin6_addr))
        return 0;
    out->sin_port = x->sin6_port;
    memcpy(&out->sin_addr, &x->sin6_addr.s6_addr[12], sizeof out->sin_addr);
    return 1;
}

void llf_addr_map4(const struct sockaddr_in *v4, struct sockaddr_in6 *out)
{
    memset(out, 0, sizeof *out);
    out->sin6_family = AF_INET6;
    out->sin6_port = v4->sin_port;
    out->sin6_addr.s6_addr[10] = out->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&out->sin6_addr.s6_addr[12], &v4->sin_addr, sizeof v4->sin_addr);
}

/* (ports: compared; scope: an IPv6 address's scope too) */
static int same(const struct sockaddr *a, const struct sockaddr *b, int ports, int scope)
{
    struct sockaddr_in p, q;
    int pa = llf_addr_v4(a, sizeof(struct sockaddr_in6), &p), qb = llf_addr_v4(b, sizeof(struct sockaddr_in6), &q);
    if (pa || qb)
        return pa && qb && (!ports || p.sin_port == q.sin_port) && p.sin_addr.s_addr == q.sin_addr.s_addr;
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return a->sa_family == AF_INET6 && b->sa_family == AF_INET6 && (!ports || x->sin6_port == y->sin6_port) &&
           (!scope || x->sin6_scope_id == y->sin6_scope_id) && memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

int llf_same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
    return same(a, b, 1, 0);
}

int llf_same_host(const struct sockaddr *a, const struct sockaddr *b)
{
    return same(a, b, 0, 1);
}

int llf_local_name(const char *host)
{
    struct in6_addr a6;
    struct in_addr a4;
    return strcasecmp(host, "localhost") == 0 || inet_pton(AF_INET, host, &a4) == 1 ||
           inet_pton(AF_INET6, host, &a6) == 1;
}

int llf_addr_loopback(const struct sockaddr *a)
{
    struct sockaddr_in v4;
    if (llf_addr_v4(a, a->sa_family == AF_INET ? sizeof v4 : sizeof(struct sockaddr_in6), &v4))
        return (ntohl(v4.sin_addr.s_addr) >> 24) == 127;
    return a->sa_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr);
}

int llf_addr_source(const struct sockaddr_storage *src, const struct sockaddr *dst, struct sockaddr_storage *out,
                    socklen_t *len)
{
    const struct sockaddr *s = (const struct sockaddr *)src;
    if ((s->sa_family != AF_INET && s->sa_family != AF_INET6) || (llf_addr_loopback(s) && !llf_addr_loopback(dst)))
        return -1;
    memset(out, 0, sizeof *out);
    struct sockaddr_in v4;
    if (llf_addr_v4(s, sizeof *src, &v4)) {
        v4.sin_port = 0;
        memcpy(out, &v4, sizeof v4);
        *len = sizeof v4;
    } else {
        struct sockaddr_in6 v6;
        memcpy(&v6, src, sizeof v6);
        v6.sin6_port = 0;
        v6.sin6_flowinfo = 0;
        memcpy(out, &v6, sizeof v6);
        *len = sizeof v6;
    }
    return out->ss_family == dst->sa_family ? 0 : -1;
}

long llf_unsent(int fd)
{
    int n = 0;
    return fd >= 0 && ioctl(fd, SIOCOUTQ, &n) == 0 && n > 0 ? n : 0;
}

int llf_upload_done(int fd, long long total, long long sent, long long before)
{
    return (total > 0 ? sent >= total : sent == before) && llf_unsent(fd) == 0;
}
