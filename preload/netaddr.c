/* netaddr.c — socket addresses compared (see netaddr.h). */
#include "netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

int llf_same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family)
        return 0;
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return a->sa_family == AF_INET6 && x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

int llf_local_name(const char *host)
{
    struct in6_addr a6;
    struct in_addr a4;
    return strcasecmp(host, "localhost") == 0 || inet_pton(AF_INET, host, &a4) == 1 ||
           inet_pton(AF_INET6, host, &a6) == 1;
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
