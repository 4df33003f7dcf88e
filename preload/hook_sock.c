/* hook_sock.c — the plain-socket path: capture only.
 *
 * A TCP connect() to the address of a provider reached over plain http://
 * (resolved once when the core loads) is sent to the in-process relay
 * instead, on the program's own socket, so the fd never changes: epoll sets,
 * socket options and non-blocking connects (EINPROGRESS) behave as before.
 * The relay serves the connection only after we announce its source port.
 * Everything else — other addresses, UDP, the library's own threads — goes
 * straight to the real connect(). */
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>

#include "hooks.h"
#include "shim.h"

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
static connect_fn real;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void resolve(void)
{
    real = (connect_fn)dlsym(RTLD_NEXT, "connect");
}

int llf_real_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    pthread_once(&once, resolve);
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    return real(fd, sa, len);
}

static unsigned short port_of(const struct sockaddr_storage *a)
{
    return ntohs(a->ss_family == AF_INET ? ((const struct sockaddr_in *)a)->sin_port
                                         : ((const struct sockaddr_in6 *)a)->sin6_port);
}

LLF_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    if (llf_in_lib || !sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
        llf_disabled())
        return llf_real_connect(fd, sa, len);
    int type = 0;
    socklen_t tl = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) || type != SOCK_STREAM)
        return llf_real_connect(fd, sa, len);
    const llf_core_api *core = llf_core();
    if (!core || !core->is_http_target(sa, len))
        return llf_real_connect(fd, sa, len);
    struct sockaddr_storage relay = {.ss_family = sa->sa_family};
    socklen_t rl = sizeof relay;
    if (core->relay_addr(&relay, &rl))
        return llf_real_connect(fd, sa, len);
    int rc = llf_real_connect(fd, (const struct sockaddr *)&relay, rl);
    int err = errno;
    if (rc == 0 || err == EINPROGRESS) {
        struct sockaddr_storage me;
        socklen_t ml = sizeof me;
        if (getsockname(fd, (struct sockaddr *)&me, &ml) == 0)
            core->relay_expect(port_of(&me), sa, len);
    }
    errno = err;
    return rc;
}
