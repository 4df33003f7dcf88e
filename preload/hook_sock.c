/* hook_sock.c — the socket path: capture only.
 *
 * A TCP connect() to a provider's address is sent to the in-process relay
 * instead, on the program's own socket, so the fd never changes: epoll sets,
 * socket options and non-blocking connects (EINPROGRESS) behave as before.
 * The relay serves the connection only after we announce its source port.
 * Provider addresses are those of IP-literal/localhost base URLs and those
 * the program's own getaddrinfo() returned for a provider's host name; an
 * IPv6 socket's ::ffff:a.b.c.d is the IPv4 address a.b.c.d (the JDK's way).
 * For https providers the fd is marked, and the SSL hooks decide at the
 * handshake (by SNI) whether the session is virtual or tunnelled. Everything
 * else — other addresses, UDP, the library's own threads — goes straight to
 * the real connect(). */
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <net/if.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "gate.h"
#include "netaddr.h"
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

/* Two tables by descriptor number, in pages of 4,096 numbers made at a
 * page's first entry: a process allowed a million descriptors (Docker's
 * default) gets pages for the high numbers it uses only. A page is never
 * freed, so a reader needs no lock. Numbers below 2^24 (Linux allows 2^20
 * unless fs.nr_open is raised); one past them is neither marked nor told
 * as its provider's peer. The list of a table's pages (32 KB) is made at
 * its first page too: in .bss the two made the loader map memory of its
 * own for them, and their neighbours, in every process as it started. */
#define FD_PAGE 4096
#define FD_PAGES 4096

static void **tls_pages;    /* fd → sent to the relay for a TLS provider (unsigned char) */
static void **orig_pages;   /* fd → where it meant to go, for getpeername() (struct sockaddr_in6) */

/* fd's page in the table *pages (entry bytes each), made (and the table's
 * list of pages) if make and it has none; NULL when it has none (or no
 * memory). */
static void *fd_page(void ***table, int fd, size_t entry, int make)
{
    if (fd < 0 || fd / FD_PAGE >= FD_PAGES)
        return NULL;
    void **pages = __atomic_load_n(table, __ATOMIC_ACQUIRE);
    if (!pages) {
        void **made = make ? calloc(FD_PAGES, sizeof *made) : NULL;
        if (!made)
            return NULL;
        if (__atomic_compare_exchange_n(table, &pages, made, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            pages = made;
        else
            free(made);   /* another thread's came first */
    }
    void **slot = &pages[fd / FD_PAGE];
    void *page = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (page || !make)
        return page;
    void *fresh = calloc(FD_PAGE, entry);   /* (pages of it touched only as numbers are used) */
    if (!fresh)
        return NULL;
    if (__atomic_compare_exchange_n(slot, &page, fresh, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return fresh;
    free(fresh);   /* another thread's came first */
    return page;
}

void llf_fd_mark(int fd, int tls_redirected)
{
    unsigned char *page = fd_page(&tls_pages, fd, 1, tls_redirected);
    if (page)
        __atomic_store_n(&page[fd % FD_PAGE], (unsigned char)tls_redirected, __ATOMIC_RELEASE);
}

int llf_fd_tls_redirected(int fd)
{
    const unsigned char *page = fd_page(&tls_pages, fd, 1, 0);
    return page && __atomic_load_n(&page[fd % FD_PAGE], __ATOMIC_ACQUIRE);
}

static void note_orig(int fd, const struct sockaddr *sa, socklen_t len)
{
    /* (the address's own size at most: a program may pass a larger length,
     * sizeof(struct sockaddr_storage), which the kernel takes) */
    size_t n = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    struct sockaddr_in6 *page = fd_page(&orig_pages, fd, sizeof *page, 1);
    if (page) {
        memset(&page[fd % FD_PAGE], 0, sizeof *page);
        memcpy(&page[fd % FD_PAGE], sa, len < n ? len : n);
    }
}

/* fd's entry in the getpeername() table, or NULL (none made). */
static const struct sockaddr_in6 *orig_of(int fd)
{
    const struct sockaddr_in6 *page = fd_page(&orig_pages, fd, sizeof *page, 0);
    return page && page[fd % FD_PAGE].sin6_family ? &page[fd % FD_PAGE] : NULL;
}

int llf_fd_orig(int fd, struct sockaddr_storage *out)
{
    const struct sockaddr_in6 *o = orig_of(fd);
    if (!o)
        return -1;
    memset(out, 0, sizeof *out);
    memcpy(out, o, sizeof *o);
    return 0;
}

typedef int (*gpn_fn)(int, struct sockaddr *, socklen_t *);

int llf_real_getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
    static gpn_fn real_gpn;
    if (!real_gpn)
        real_gpn = (gpn_fn)dlsym(RTLD_NEXT, "getpeername");
    if (!real_gpn) {
        errno = ENOSYS;
        return -1;
    }
    return real_gpn(fd, sa, len);
}

int llf_is_relay(const llf_core_api *core, const struct sockaddr *peer)
{
    struct sockaddr_in v4;   /* (a dual-stack socket's peer: the IPv4 relay) */
    struct sockaddr_storage relay = {.ss_family = llf_addr_v4(peer, sizeof(struct sockaddr_in6), &v4) ? AF_INET : peer->sa_family};
    socklen_t rl = sizeof relay;
    return (peer->sa_family == AF_INET || peer->sa_family == AF_INET6) && core->relay_addr(&relay, &rl) == 0 &&
           llf_same_addr(peer, (struct sockaddr *)&relay);
}

/* A socket sent to the relay is connected to the relay; the program asked
 * for its provider, and is told so (Node's socket.remotePort, a program
 * logging its peer). Only while its peer really is the relay: a number
 * used again for another socket is told the truth. */
LLF_EXPORT int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
    socklen_t room = len ? *len : 0;
    int rc = llf_real_getpeername(fd, sa, len);
    const struct sockaddr_in6 *o = rc == 0 && sa && !LLF_IN_LIB() ? orig_of(fd) : NULL;
    if (!o || room < (socklen_t)sizeof(struct sockaddr_in6) * (sa->sa_family == AF_INET6))
        return rc;
    const llf_core_api *core = llf_core_loaded();
    if (!core || !llf_is_relay(core, sa))
        return rc;
    socklen_t ol = o->sin6_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    memcpy(sa, o, room < ol ? room : ol);
    *len = ol;
    return rc;
}

typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

LLF_EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                           struct addrinfo **res)
{
    static gai_fn real_gai;
    if (!real_gai)
        real_gai = (gai_fn)dlsym(RTLD_NEXT, "getaddrinfo");
    if (!real_gai)
        return EAI_SYSTEM;
    int rc = real_gai(node, service, hints, res);
    if (!node || LLF_IN_LIB() || llf_disabled() || (!llf_core_tried() && !llf_gate_name(node, service)))
        return rc;
    const llf_core_api *core = llf_core();
    if (core && rc == 0) {
        core->note_resolved(node, *res);
    } else if (core && (rc == EAI_NONAME || rc == EAI_AGAIN || rc == EAI_FAIL || rc == EAI_NODATA)) {
        /* A provider whose name does not resolve: let the chain answer. */
        struct addrinfo *p = core->placeholder(node, service, hints);
        if (p) {
            *res = p;
            rc = 0;
        }
    }
    return rc;
}

LLF_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    int guarded = LLF_IN_LIB() || llf_curl_direct;
    if (guarded)
        llf_guard_connect = fd;
    if (guarded || !sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) || llf_disabled())
        return llf_real_connect(fd, sa, len);
    /* (the address first: no system call for a connection that is not a
     * provider's, and no core for one that cannot be) */
    const llf_core_api *core = llf_core_tried() || llf_gate_addr(sa, len) ? llf_core() : NULL;
    int kind = core ? core->target_kind(sa, len) : 0;
    if (!kind) {
        if (core && llf_fd_tls_redirected(fd))   /* (marks come with the core) */
            llf_fd_mark(fd, 0);   /* a new connection on a reused fd */
        return llf_real_connect(fd, sa, len);
    }
    int type = 0;
    socklen_t tl = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) || type != SOCK_STREAM)
        return llf_real_connect(fd, sa, len);
    /* connect() again on a socket already connecting or connected (the
     * EINPROGRESS polling of some clients): its state answers, EALREADY or
     * EISCONN, and it keeps its announcement and mark. */
    struct tcp_info ti;
    socklen_t til = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &til) == 0 && ti.tcpi_state != TCP_CLOSE)
        return llf_real_connect(fd, sa, len);
    llf_fd_mark(fd, 0);   /* a new connection on a possibly reused fd */
    /* An IPv4 address on a dual-stack socket (::ffff:a.b.c.d: the JDK's
     * way, AI_V4MAPPED's) goes to the IPv4 relay the same way, and the
     * relay is told the IPv4 address, as it sees the connection. A socket
     * with IPV6_V6ONLY reaches no such address: the kernel says so. */
    struct sockaddr_in v4;
    int mapped = sa->sa_family == AF_INET6 && llf_addr_v4(sa, len, &v4);
    int only = 0;
    socklen_t ol = sizeof only;
    if (mapped && (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, &ol) || only))
        return llf_real_connect(fd, sa, len);
    /* A socket bound to a device (SO_BINDTODEVICE: curl --interface eth0
     * as root) reaches the relay on loopback only through lo: to another
     * device it goes where it was sent, as the program made it (its
     * connect to the relay would wait for a connect limit). */
    char dev[IFNAMSIZ + 1] = "";
    socklen_t dl = sizeof dev - 1;
    if (getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &dl) == 0 && dl > 0 && dev[0] && strcmp(dev, "lo") != 0)
        return llf_real_connect(fd, sa, len);
    /* (before the socket is touched: one near the open-file limit is left
     * as the program made it) */
    /* (or past our tables, or their pages for its number not to be had:
     * its mark and address must hold once it goes to the relay) */
    if (core->relay_room(fd) || !fd_page(&tls_pages, fd, 1, 1) ||
        !fd_page(&orig_pages, fd, sizeof(struct sockaddr_in6), 1))
        return llf_real_connect(fd, sa, len);
    struct sockaddr_storage relay = {.ss_family = mapped ? AF_INET : sa->sa_family};
    socklen_t rl = sizeof relay;
    if (core->relay_addr(&relay, &rl))
        return llf_real_connect(fd, sa, len);
    if (mapped) {
        struct sockaddr_in r4 = *(struct sockaddr_in *)&relay;
        llf_addr_map4(&r4, (struct sockaddr_in6 *)&relay);
        rl = sizeof(struct sockaddr_in6);
    }
    /* The relay serves announced sources only: bound first (as connect()
     * would bind it), so the announcement precedes the connection. Bound
     * to the address the program bound it to, if any, else to the wildcard
     * address, not the relay's: a socket the relay then refuses after all
     * (its table full, other threads' connections taking the descriptors)
     * still reaches the provider. One bound to loopback cannot leave the
     * host: EINVAL. A program's address without a port yet (bound with
     * IP_BIND_ADDRESS_NO_PORT, as curl's --interface does) is given one
     * there: bound to the wildcard again, the socket lost the address the
     * program chose and, still without a port, went past the relay. */
    struct sockaddr_storage me = {0};
    socklen_t ml = sizeof me;
    if (getsockname(fd, (struct sockaddr *)&me, &ml) || port_of(&me) == 0) {
        struct sockaddr_storage at = {.ss_family = relay.ss_family};
        socklen_t al = rl;
        if (ml <= sizeof me && me.ss_family == relay.ss_family)
            at = me, al = ml;   /* (the wildcard if the program bound nothing) */
        int noport = 0, off = 0;
        socklen_t nl = sizeof noport;
        if (getsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &noport, &nl) || nl != sizeof noport)
            noport = 0;
        if (noport)
            setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &off, sizeof off);
        ml = sizeof me;
        int bad = bind(fd, (struct sockaddr *)&at, al) || getsockname(fd, (struct sockaddr *)&me, &ml) || port_of(&me) == 0;
        if (noport)
            setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &noport, sizeof noport);
        if (bad)
            return llf_real_connect(fd, sa, len);
    }
    /* A socket bound to the wildcard address reaches loopback from
     * loopback. Bound to another, the program chose where its connections
     * leave from: the relay's leave from there too. */
    int flags = (kind == 2 ? LLF_EXPECT_TLS : 0) | LLF_EXPECT_OWN_SRC;
    if (me.ss_family == AF_INET && ((struct sockaddr_in *)&me)->sin_addr.s_addr == htonl(INADDR_ANY)) {
        ((struct sockaddr_in *)&me)->sin_addr = ((struct sockaddr_in *)&relay)->sin_addr;
        flags &= ~LLF_EXPECT_OWN_SRC;
    } else if (me.ss_family == AF_INET6 && (IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&me)->sin6_addr) ||
                                            (IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&me)->sin6_addr) &&
                                             ((struct sockaddr_in6 *)&me)->sin6_addr.s6_addr32[3] == 0))) {
        /* (::ffff:0.0.0.0, the IPv4 wildcard on a dual-stack socket, too:
         * the relay was told that address, and refused the connection) */
        ((struct sockaddr_in6 *)&me)->sin6_addr = ((struct sockaddr_in6 *)&relay)->sin6_addr;
        flags &= ~LLF_EXPECT_OWN_SRC;
    }
    const struct sockaddr *to = mapped ? (const struct sockaddr *)&v4 : sa;
    if (core->relay_expect(fd, (struct sockaddr *)&me, ml, to, mapped ? sizeof v4 : len, flags))
        return llf_real_connect(fd, sa, len);   /* no room, or no descriptors to spare: straight to the provider */
    llf_fd_mark(fd, kind == 2);
    note_orig(fd, sa, len);   /* (as the program wrote it: getpeername()) */
    int rc = llf_real_connect(fd, (const struct sockaddr *)&relay, rl);
    int err = errno;
    if (rc != 0 && err != EINPROGRESS) {
        llf_fd_mark(fd, 0);
        core->relay_unexpect((struct sockaddr *)&me);
    }
    errno = err;
    return rc;
}
