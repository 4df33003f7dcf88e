/* relay.c — the in-process relay (see relay.h and design.md).
 *
 * Connections the socket hooks redirect arrive here over real loopback
 * sockets, so the program's fd, readiness, timeouts and keep-alive behave as
 * they would with the provider. The relay listens on 127.0.0.1 and ::1 on
 * ephemeral ports and serves a connection only when the hook announced its
 * source port first: no other process can use it (it holds the keys), since
 * a source port is ours until our socket closes. Each connection gets a
 * serving thread, parked for the next one after it; requests are read as
 * HTTP/1.1 (Content-Length or chunked), LLM calls go through the engine with
 * the serving thread's libcurl handle, anything
 * else is performed once and relayed as it arrives (head, then body), except
 * an upgrade (WebSocket), which is tunnelled byte for byte. Answers
 * to LLM calls are written whole with a Content-Length (chunked when the
 * provider's came with trailers, to carry them: see respond,
 * relay_serve.c), except the 2xx stream
 * of a streaming call, which is held back to its answer's first event (an
 * error event or garbage before it falls back) and then written chunked as it arrives; a
 * stream that breaks after that breaks the connection, as the provider's
 * would. After fork()
 * the child starts its own relay on first use, and takes over the
 * connections it inherited when its parent lets them go (see take_over);
 * after the program closed the relay's descriptors (a daemon's start), the
 * relay starts afresh (see start). Every descriptor the relay keeps is
 * close-on-exec as it is made, its libcurl handles' too (llf_curl_socket
 * for their connections, hook_fd.c for libcurl's own pairs): a child the
 * program starts holds none of them.
 *
 * A request's head is parsed by http1.c; its body is read in relay_conn.c,
 * as the connection gives it.
 *
 * This file holds who may connect, who serves a connection (its life
 * across fork), the serving threads with their libcurl handles, and the
 * listening sockets. A connection's bytes are relay_conn.c's; a request on
 * it, relay_serve.c's (where the relay's connections for it go and leave
 * from, relay_route.c's); a byte tunnel, relay_tunnel.c's. */
#include "relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "forklock.h"
#include "hubutil.h"
#include "log.h"
#include "netaddr.h"
#include "guest.h"
#include "expect.h"
#include "relay_conn.h"
#include "relay_route.h"
#include "relay_serve.h"
#include "relay_tunnel.h"

const llf_shim_services *llf_relay_svc;

/* ---- who may connect (see expect.h) ---------------------------------------- */

/* Descriptors: the relay spends up to four more on each connection it
 * serves (its end of it, the one upstream, and a new libcurl handle's
 * wake-up pair), so a program near its open-file limit (1,024 by default)
 * would have run out in the relay, its calls reset or hung, where alone it
 * had enough. A connection that could make it so goes straight to its
 * provider, as it would without us. Numbers are given lowest first, so
 * the program's new socket's is about how many are open; those announced
 * and not yet accepted will each need as many again. A quarter of the
 * limit is left to the program's own growth (a burst still being made). */
#define FDS_PER_CONN 4
#define FDS_SPARE 32   /* (the log, a handle's DNS and the like) */

/* Connections accepted and not yet ended: each may still have to make its
 * upstream connection and handle (counted twice when it has: a margin). */
static unsigned live_n;

int llf_relay_fds_short(long fd, unsigned held, unsigned live, long lim)
{
    return lim > 0 &&
           fd + (long)FDS_PER_CONN * ((long)held + 1) + (long)(FDS_PER_CONN - 1) * live + FDS_SPARE > lim - lim / 4;
}

int llf_relay_room(int fd)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur != RLIM_INFINITY &&
        llf_relay_fds_short(fd, llf_expect_held(), __atomic_load_n(&live_n, __ATOMIC_RELAXED), r.rlim_cur > LONG_MAX ? LONG_MAX : (long)r.rlim_cur)) {
        static int told;
        if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
            llf_warn("near the open-file limit (%ld); calls that would pass it go to their provider unmanaged",
                     (long)r.rlim_cur);
        return -1;
    }
    return 0;
}

int llf_relay_expect(int fd, const struct sockaddr *src, socklen_t srclen, const struct sockaddr *orig,
                     socklen_t len, int flags)
{
    /* (asked again: other threads' connections may have come since) */
    if (llf_relay_room(fd))
        return -1;
    return llf_expect_add(fd, src, srclen, orig, len, flags, llf_mono_ms());
}

void llf_relay_unexpect(const struct sockaddr *src)
{
    llf_expect_drop(src);
}

/* Was the connection fd, from peer, announced? Consumes the announcement.
 * One announced longer ago than its time (a burst of a thousand accepted
 * one by one, on a slow machine) is still the program's while the socket
 * it was announced for holds that source and is connected to us: no other
 * process can hold that address meanwhile. */
static int expected(int fd, const struct sockaddr_storage *peer, expectation *out)
{
    int found = llf_expect_take((const struct sockaddr *)peer, llf_mono_ms(), out);
    if (found != 2)
        return found;
    struct sockaddr_storage src, to, here;
    socklen_t sl = sizeof src, tl = sizeof to, hl = sizeof here;
    return getsockname(out->fd, (struct sockaddr *)&src, &sl) == 0 &&
           llf_same_addr((struct sockaddr *)&src, (const struct sockaddr *)peer) &&
           getpeername(out->fd, (struct sockaddr *)&to, &tl) == 0 &&   /* (our own thread: the kernel's) */
           getsockname(fd, (struct sockaddr *)&here, &hl) == 0 && llf_same_addr((struct sockaddr *)&to, (struct sockaddr *)&here);
}

/* ---- who serves a connection ----------------------------------------------
 *
 * A connection to the relay is in every process forked while it was open:
 * the program's socket, and our end of it. The process that serves our end
 * holds a lock on it (a POSIX lock, which is the process's: its children do
 * not inherit it, and it goes when the process closes the connection or
 * exits). A forked child takes over the connections it inherited once
 * that lock is free (see pool_child): the child of a daemon's start, whose
 * parent has left, goes on with the connection its program inherited, as
 * it would with the provider. While the parent lives a connection stays
 * its relay's, and a request the child's program sends on it is answered
 * there (as a provider answers whoever writes on a connection); the child
 * never reads it, so no request is split between two readers.
 *
 * Whether the process that let a connection go left it between requests or
 * in the middle of one is kept in memory the processes share: one page of
 * entries, made with a process's relay and given out by it. A request
 * taken by a process that then left is lost with it: the next one resets
 * the connection, so that the program does not wait for an answer that
 * will never come. A request is taken only when its first byte is in (a
 * peek, see await_request): one sent to a process that leaves before that
 * is left whole for the next. (The alternative, a child closing its copies
 * at the fork, never hangs either, but a connection would then break when
 * the parent leaves, which a client that does not reconnect by itself
 * sees as an error.) */
struct standing {
    uint64_t ino;    /* our end's socket; 0: free, or the connection ended */
    uint32_t state;  /* IDLE, BUSY (a request taken, not yet answered), TUNNEL */
    uint32_t pad;
};

#define NSTANDING (4096 / sizeof(standing))

static standing *standings;                    /* this process's page, or NULL */
static unsigned char standing_used[NSTANDING]; /* its entries given out, under pool_lock */
static int standings_pid;

void llf_relay_stand(conn *k, int state)
{
    if (k->st)
        __atomic_store_n(&k->st->state, (uint32_t)state, __ATOMIC_SEQ_CST);
}

/* An entry for a new connection (pool_lock held), or none: then no child
 * takes it over. */
static void stand_new(conn *k)
{
    for (size_t i = 0; standings && i < NSTANDING; i++)
        if (!standing_used[i]) {
            standing_used[i] = 1;
            k->st = &standings[i];
            k->st_mine = 1;
            llf_relay_stand(k, IDLE);
            __atomic_store_n(&k->st->ino, (uint64_t)k->own.ino, __ATOMIC_SEQ_CST);
            return;
        }
}

/* The connection ended here (pool_lock held): for a process that would take
 * it over, and for the entry's next connection. */
static void stand_end(conn *k)
{
    if (!k->st || __atomic_load_n(&k->st->ino, __ATOMIC_SEQ_CST) != (uint64_t)k->own.ino)
        return;
    llf_relay_stand(k, IDLE);
    __atomic_store_n(&k->st->ino, 0, __ATOMIC_SEQ_CST);
    if (k->st_mine)
        standing_used[k->st - standings] = 0;
}

/* An inherited connection is ours once the process that served it let it
 * go. Then its entry says whether it left between requests (0: serve on,
 * from its next request: what this process had read of it at the fork is
 * stale), in the middle of one (reset: 1) or after ending it (1). -1: it
 * is not ours (the number is the program's now, or no lock can be had). */
/* The lock is tried, not waited for (F_SETLKW): the try is one step with
 * the look under the descriptor lock (see guest.h), which must not be held
 * through a wait, and a wait outside it could lock a file of the
 * program's that took the number meanwhile (an unlock after would drop
 * the program's own lock: the kernel's are per process). Tried again
 * every 200 ms at most: a connection's next request waits that long, at
 * most, once its parent is gone. */
static int take_over(conn *k)
{
    struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1};
    for (long ms = 5;; ms = ms < 200 ? ms * 2 : 200) {
        llf_fd_hold();
        int ours = llf_fd_ours(&k->own);
        int rc = ours ? fcntl(k->fd, F_SETLK, &l) : -1;
        int e = errno;
        llf_fd_release();
        if (!ours)
            return -1;
        if (rc == 0)
            break;
        if (e != EAGAIN && e != EACCES && e != EINTR)
            return -1;
        struct timespec t = {0, ms * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    if (!llf_fd_ours(&k->own))
        return -1;
    if (__atomic_load_n(&k->st->ino, __ATOMIC_SEQ_CST) != (uint64_t)k->own.ino)
        return 1;
    if (__atomic_load_n(&k->st->state, __ATOMIC_SEQ_CST) != IDLE) {
        llf_relay_reset(k);
        return 1;
    }
    k->have = 0;
    return 0;
}

/* The next request's first byte, peeked, not taken: a process that leaves
 * before taking any leaves the request whole for the one that takes the
 * connection over. From then on the connection is busy until its answer is
 * out. -1: the connection ended, or is no longer ours (the program closed
 * our end; its number may be the program's own by now). */
static int await_request(conn *k, unsigned char *first)
{
    if (k->have) {   /* (the next request came with the last one) */
        *first = (unsigned char)k->buf[0];
        llf_relay_stand(k, BUSY);
        return 0;
    }
    ssize_t n;
    while ((n = recv(k->fd, first, 1, MSG_PEEK)) < 0 && errno == EINTR)
        ;
    if (n != 1 || !llf_fd_ours(&k->own))
        return -1;
    llf_relay_stand(k, BUSY);
    return 0;
}

/* ---- serving threads ---------------------------------------------------------
 *
 * A serving thread never ends: after its connection it parks for the next
 * one. A thread's end runs OpenSSL's per-thread clean-up under a global
 * lock; a fork() at that moment left the child with the lock held, and the
 * child's atexit clean-up then waited for ever. The number of threads is
 * the most connections the program ever had open to the relay at once,
 * counting one whose thread was still finishing when the next arrived.
 *
 * Their libcurl handles are not all kept: each holds its connections to
 * the providers and libcurl's wake-up pair (7.88), about three
 * descriptors, and after a burst of 200 connections at once 200 parked
 * handles held 600 for the process's life (a program near its limit then
 * got EMFILE where it would not without us). The handles of at most
 * KEEP_HANDLES parked threads (or threads whose connection sits idle: see
 * IDLE_KEEP_MS) are kept, the ones used last, and a thread given a
 * connection, or its next request, takes the newest of them when it has none of its
 * own (of those whose connections leave from where its call's will: a
 * program's socket bound to an address, or not; see llf_relay_leave_from:
 * its own, when they leave from elsewhere, is set aside and kept as a
 * parked thread's); a handle beyond them is cleaned up, with pool_lock held
 * (fork() waits for it: a child never has a handle half freed, nor a lock
 * the clean-up held), and only while its descriptors are still ours (see
 * closable). */

/* Enough for a client that opens a connection per call (urllib; a pool's
 * connections beyond its size) to find the providers' connections kept
 * alive at the concurrency it usually runs at (Python's default thread
 * pool: CPUs + 4 workers); at about three descriptors each (more for one
 * that fell back), some 50. */
#define KEEP_HANDLES 16
/* Of them, at most this many set aside by a thread whose next call came
 * from another source (see set_aside): enough for a program's calls that
 * alternate between its default address and one it binds, at a few
 * threads; a program that binds to a new address for each call would
 * otherwise keep 16 handles of addresses it may never use again. */
#define KEEP_HOLDERS 4

/* A serving thread's own state, or a holder: a handle set aside, owned by
 * no thread (see set_aside). All of them stay listed: a forked child keeps
 * its parent's handles (copies it must not use or free, since freeing
 * would close connections it shares with the parent) reachable, not leaked;
 * so is a handle made before the program closed our descriptors. */
typedef struct server {
    struct server *next;
    const llf_curl_api *c;
    CURL *h;          /* (NULL: none yet, cleaned up, or taken by another: see pick_up) */
    unsigned epoch;   /* fd_epoch when h was made */
    conn *cur;        /* the connection it serves */
    struct sockaddr_storage src;   /* where h's connections leave from, */
    int own_src;                   /* if the program chose it (see llf_relay_leave_from) */
    int holder;
    int warm;         /* h's last request kept its upstream connection (see lay_down) */
} server;

static struct {
    conn *head, *tail;   /* each one promised to a parked thread */
    int parked;          /* parked threads not yet promised a connection */
    server *all;
    conn *live;          /* every connection the process holds (for fork) */
    server *kept[KEEP_HANDLES];   /* parked threads and holders whose handle is kept, oldest first */
    int nkept;
    int nholders;                 /* holders among them */
} pool;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;
/* How many times the program closed the relay's descriptors (see start). */
static unsigned fd_epoch;

static void live_add(conn *k)
{
    __atomic_add_fetch(&live_n, 1, __ATOMIC_RELAXED);
    k->lprev = NULL;
    k->lnext = pool.live;
    if (pool.live)
        pool.live->lprev = k;
    pool.live = k;
}

static void live_remove(conn *k)
{
    if (k->lprev || pool.live == k)
        __atomic_sub_fetch(&live_n, 1, __ATOMIC_RELAXED);
    if (k->lprev)
        k->lprev->lnext = k->lnext;
    else if (pool.live == k)
        pool.live = k->lnext;
    if (k->lnext)
        k->lnext->lprev = k->lprev;
    k->lnext = k->lprev = NULL;
}

/* The end of a connection we served, as every process holding it sees it:
 * a forked child's copy of our end must not keep the program waiting for
 * the close that ends an answer (a close only drops our reference), so it
 * is shut down (a reset was sent already, see llf_relay_reset()). A number
 * that is no longer ours is left alone, and so is its entry: a child may
 * serve on.
 * served 0: one we never served (another process does): our copy closed. */
static void conn_end(conn *k, int served)
{
    /* (the look and the close one step under the descriptor lock, as in
     * llf_relay_write_all: the next connection's accept, or the program, may
     * otherwise take the number in between, and this closed it) */
    pthread_mutex_lock(&pool_lock);
    llf_fd_hold();
    int mine = llf_fd_ours(&k->own);
    live_remove(k);
    if (mine && served)
        stand_end(k);
    if (mine && served)
        shutdown(k->fd, SHUT_RDWR);
    if (mine)
        close(k->fd);
    llf_fd_release();
    pthread_mutex_unlock(&pool_lock);
}

/* A handle made before the program closed our descriptors: the numbers of
 * its connections may be the program's now, and libcurl would reuse them (or
 * close them). Kept, unused. */
static void keep_unused(server *me)
{
    pthread_mutex_lock(&pool_lock);   /* (see dispatch) */
    server *old = calloc(1, sizeof *old);
    if (old) {
        old->c = me->c;
        old->h = me->h;
        old->next = pool.all;
        pool.all = old;
    }
    pthread_mutex_unlock(&pool_lock);
    me->h = NULL;
}

static int fds_still_ours(void);

/* May the descriptors of a handle made at epoch be closed? Only while they
 * are still ours: the program closed the relay's descriptors neither
 * before the relay last looked (start: the epoch is the current one) nor
 * since (its listening sockets, which stand for all of ours, are its own).
 * One that may not is left as it is: its thread's, unused (see
 * serving_thread). */
static int closable(unsigned epoch)
{
    return epoch == __atomic_load_n(&fd_epoch, __ATOMIC_ACQUIRE) && fds_still_ours();
}

static void unkeep(int i)
{
    pool.nholders -= pool.kept[i]->holder;
    memmove(pool.kept + i, pool.kept + i + 1, (size_t)(pool.nkept - i - 1) * sizeof *pool.kept);
    pool.nkept--;
}

/* A holder whose handle is gone, out of the list and freed (pool_lock held). */
static void unlist(server *s)
{
    for (server **p = &pool.all; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            free(s);
            return;
        }
}

/* s's handle cleaned up (pool_lock held), if its descriptors are still
 * ours: 1, or 0 (left as it is, listed). */
static int clean_up(server *s)
{
    if (!closable(s->epoch))
        return 0;
    s->c->easy_reset(s->h);   /* (its options point into a transfer long over) */
    s->c->easy_cleanup(s->h);
    s->h = NULL;
    return 1;
}

/* As me parks, idles or is set aside (pool_lock held): its handle kept,
 * the newest, and the oldest one kept beyond KEEP_HANDLES (of holders,
 * beyond KEEP_HOLDERS) cleaned up; of those, the oldest whose last request
 * closed its upstream connection first (a urllib call's, Connection: close,
 * costs only a new handle to make again, where a kept-alive connection's
 * handle holds its provider connection, whose TLS handshake it saves). */
static void lay_down(server *me)
{
    for (int i = 0; i < pool.nkept; i++)
        if (pool.kept[i] == me)
            return;   /* (laid down already, idle: see serve_conn) */
    if (!me->h || !closable(me->epoch))
        return;
    int holders_full = me->holder && pool.nholders == KEEP_HOLDERS, i = 0;
    while (holders_full && !pool.kept[i]->holder)
        i++;   /* (then the oldest holder goes) */
    for (int k = 0; !holders_full && k < pool.nkept; k++)
        if (!pool.kept[k]->warm) {
            i = k;
            break;
        }
    if (pool.nkept == KEEP_HANDLES || holders_full) {
        server *old = pool.kept[i];
        unkeep(i);
        if (clean_up(old) && old->holder)
            unlist(old);
    }
    pool.nholders += me->holder;
    pool.kept[pool.nkept++] = me;
}

static const struct sockaddr_storage *handle_src(const server *s)
{
    return s->own_src ? &s->src : NULL;
}

/* me's handle, whose connections leave from elsewhere than its next
 * call's (pool_lock held): kept as a parked thread's is, by a holder, for
 * a later call from there (a program whose calls alternate between a
 * bound socket and an unbound one keeps both kinds of connections); with
 * no memory for one, cleaned up. */
static void set_aside(server *me)
{
    server *s = calloc(1, sizeof *s);
    if (s) {
        *s = *me;
        s->cur = NULL;
        s->holder = 1;
        s->next = pool.all;
        pool.all = s;
        lay_down(s);   /* (one it may not keep stays listed, unused) */
    } else {
        clean_up(me);
    }
    me->h = NULL;
}

/* As me is given a request (pool_lock held): its own handle, kept or not,
 * if its connections leave from where me's will (see llf_relay_leave_from);
 * else the newest kept one that does, one whose last request kept its upstream
 * connection alive (warm) first; or none (one is made). A request that
 * closes its connection (urllib's) closes the upstream one libcurl reuses
 * for it: it takes no warm handle, which it took from a kept-alive
 * connection idle meanwhile, whose next request then made a new one. */
static void pick_up(server *me, int warm)
{
    for (int i = 0; i < pool.nkept; i++)
        if (pool.kept[i] == me) {
            unkeep(i);
            break;
        }
    if (me->h && !llf_relay_same_source(handle_src(me), llf_relay_chosen_src(me->cur)))
        set_aside(me);
    int at = -1;
    for (int i = pool.nkept - 1; !me->h && i >= 0; i--)
        if (llf_relay_same_source(handle_src(pool.kept[i]), llf_relay_chosen_src(me->cur)) &&
            (warm || !pool.kept[i]->warm) && (at < 0 || (pool.kept[i]->warm && !pool.kept[at]->warm)))
            at = i;
    if (at >= 0) {
        server *from = pool.kept[at];
        unkeep(at);
        me->c = from->c;
        me->h = from->h;
        me->epoch = from->epoch;
        me->src = from->src;
        me->own_src = from->own_src;
        me->warm = from->warm;
        from->h = NULL;
        if (from->holder)
            unlist(from);
    }
}

/* me's handle for its connection's next request (warm: one that keeps the
 * connection alive): its own, kept or not, one of those kept, or a new one
 * (see pick_up). NULL: no libcurl. */
static CURL *take_handle(server *me, int warm)
{
    pthread_mutex_lock(&pool_lock);
    pick_up(me, warm);
    pthread_mutex_unlock(&pool_lock);
    unsigned epoch = __atomic_load_n(&fd_epoch, __ATOMIC_ACQUIRE);
    if (me->h && me->epoch != epoch)
        keep_unused(me);
    if (!me->h && (me->c = llf_relay_svc->curl_for_transfers())) {
        me->h = me->c->easy_init();
        me->warm = 0;
        me->epoch = epoch;
        me->own_src = me->cur->from.own_src;
        me->src = me->cur->from.src;
    }
    return me->h;
}

/* A connection the program keeps open between requests for longer than
 * this lays its handle down as a parked thread does, to be taken up again
 * (or another) at its next request: a pool of 100 kept-alive connections
 * (requests' Session, httpx, a Node agent) otherwise held 100 handles, each
 * with its connections to the providers and libcurl's wake-up pair, 5 or 6
 * descriptors, for as long as the program kept them. Not at once: calls in
 * quick succession keep theirs, and their connections, without a look. */
#define IDLE_KEEP_MS 1000

/* Has the connection sat idle for IDLE_KEEP_MS, nothing to read? */
static int idle(conn *k)
{
    if (k->have)
        return 0;
    struct pollfd p = {k->fd, POLLIN, 0};
    int n;
    while ((n = poll(&p, 1, IDLE_KEEP_MS)) < 0 && errno == EINTR)
        ;
    return n == 0;
}

/* Does the program have bytes on its way to us, unread? */
static int unread(conn *k)
{
    struct pollfd p = {k->fd, POLLIN, 0};
    return k->have || (llf_fd_ours(&k->own) && poll(&p, 1, 0) > 0);
}

/* One connection, on serving thread me. */
static void serve_conn(conn *k, server *me)
{
    int one = 1;
    unsigned char first;
    setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (k->from.tls && !k->started) {
        /* A ClientHello (0x16) means a real handshake to carry through. */
        if (await_request(k, &first))
            return;
        if (first == 0x16) {
            llf_relay_tunnel(k);
            return;
        }
    }
    k->started = 1;
    for (int n = 0;; n++) {
        if (n > 0 && idle(k)) {
            pthread_mutex_lock(&pool_lock);
            lay_down(me);
            pthread_mutex_unlock(&pool_lock);
        }
        if (await_request(k, &first))
            break;
        llf_http_req r = {0};
        int got = llf_relay_read_request(k, &r);
        if (got) {
            llf_http_req_free(&r);
            if (got == -2)
                llf_relay_not_http(k);
            if (got == -2 && unread(k))
                llf_relay_linger(k);   /* (the rest of a head too long, after our 431) */
            break;
        }
        k->curl = take_handle(me, r.keep_alive);
        k->c = me->c;
        if (!k->curl) {
            llf_http_req_free(&r);
            llf_warn("the relay has no libcurl; closing a redirected connection");
            llf_relay_reset(k);
            return;
        }
        k->http10 = r.http10;
        int ok = llf_relay_serve_one(k, &r) == 0 && r.keep_alive;
        me->warm = r.keep_alive;   /* (a call that fell back kept its member's: not told) */
        llf_http_req_free(&r);
        if (!ok) {
            if (unread(k))
                llf_relay_linger(k);   /* (a request sent after this one, say) */
            break;
        }
        if (!k->have)
            llf_relay_stand(k, IDLE);   /* between requests */
    }
}

static void *serving_thread(void *arg)
{
    server *me = arg;
    llf_relay_svc->enter();
    for (;;) {
        conn *k = me->cur;
        serve_conn(k, me);
        conn_end(k, 1);
        pthread_mutex_lock(&pool_lock);
        me->cur = NULL;
        free(k);
        lay_down(me);
        pool.parked++;
        while (!pool.head)
            pthread_cond_wait(&pool_cond, &pool_lock);
        me->cur = pool.head;
        if (!(pool.head = me->cur->next))
            pool.tail = NULL;
        pthread_mutex_unlock(&pool_lock);
    }
    return NULL;
}

/* To a parked thread, or a new one. 0, or -1 when there is none. */
static int dispatch(conn *k)
{
    pthread_mutex_lock(&pool_lock);
    int to_parked = pool.parked > 0;
    if (to_parked) {
        pool.parked--;
        k->next = NULL;
        if (pool.tail)
            pool.tail->next = k;
        else
            pool.head = k;
        pool.tail = k;
        pthread_cond_signal(&pool_cond);
    }
    /* (made and listed under the lock, which fork() waits for: a child
     * forked in between would hold it unlisted, owned by no thread) */
    server *me = to_parked ? NULL : calloc(1, sizeof *me);
    if (me) {
        me->cur = k;
        me->next = pool.all;
        pool.all = me;
    }
    pthread_mutex_unlock(&pool_lock);
    if (to_parked)
        return 0;
    if (!me)
        return -1;
    if (llf_spawn(serving_thread, me) == 0)
        return 0;
    pthread_mutex_lock(&pool_lock);
    for (server **p = &pool.all; *p; p = &(*p)->next)
        if (*p == me) {
            *p = me->next;
            break;
        }
    pthread_mutex_unlock(&pool_lock);
    free(me);
    return -1;
}

/* fork() waits for the lists to be whole. */
static void pool_prepare(void)
{
    pthread_mutex_lock(&pool_lock);
}

static void pool_parent(void)
{
    pthread_mutex_unlock(&pool_lock);
}

/* Can a child take k over (see take_over)? Not a tunnel, nor one without
 * an entry. One in the middle of a request may be between requests by the
 * time the parent lets it go: its entry says then. */
static int adoptable(const conn *k)
{
    return k->st && __atomic_load_n(&k->st->ino, __ATOMIC_SEQ_CST) == (uint64_t)k->own.ino &&
           __atomic_load_n(&k->st->state, __ATOMIC_SEQ_CST) != TUNNEL && llf_fd_ours(&k->own);
}

/* A forked child's thread that takes over the connections it inherited
 * (a list), one after the other as the parent lets them go (at its exit,
 * all at once), and hands each to a serving thread. One thread for them
 * all: a child that takes nothing over (its parent lives on) pays for one
 * thread, trying the lock now and then (see take_over). It ends when done
 * (it never touches OpenSSL, whose clean-up at a thread's end is why
 * serving threads never end), or, in a child without a relay of its own,
 * once one starts. */
static int relay_pid;   /* (see listening) */
static void *adopter(void *arg)
{
    llf_relay_svc->enter();
    for (conn *k = arg, *next; k; k = next) {
        next = k->next;
        int ours = take_over(k);
        if (ours == 0 && dispatch(k) == 0)
            continue;
        conn_end(k, ours >= 0);
        free(k);
    }
    /* Until this process has a relay of its own, whose thread looks: the
     * serving threads it started may be ours alone here (see guest.h). */
    while (__atomic_load_n(&relay_pid, __ATOMIC_RELAXED) != (int)getpid()) {
        sleep(1);
        llf_threads_last();
    }
    return NULL;
}

/* In a forked child: none of the parent's threads are here. Each connection
 * the parent held is the child's too. Those it may take over go to an
 * adopter thread; of any other (a tunnel), and of every tunnel's upstream,
 * the child's copies are closed now, while their numbers are still ours (a
 * copy would keep the connection open after the parent ended it). Nothing
 * is allocated nor freed in the fork handler (see forklock.h): the parent's
 * entries are freed, and the adopter started, by pool_after_fork. */
static conn *child_adopt, *child_drop;

static void pool_child(void)
{
    pthread_mutex_init(&pool_lock, NULL);
    pthread_cond_init(&pool_cond, NULL);
    conn *adopt = NULL, *drop = NULL;
    for (conn *k = pool.live, *next; k; k = next) {
        next = k->lnext;
        if (llf_fd_ours(&k->up))
            close(k->up.fd);
        k->up.fd = -1;
        if (adoptable(k)) {
            k->st_mine = 0;   /* (the entry is in the parent's page) */
            k->next = adopt;
            adopt = k;
            continue;
        }
        if (llf_fd_ours(&k->own))
            close(k->fd);
        k->next = drop;
        drop = k;
    }
    pool.live = pool.head = pool.tail = NULL;
    live_n = 0;
    pool.parked = 0;
    pool.nkept = pool.nholders = 0;   /* (the parent's handles: listed, never used nor freed here) */
    for (conn *k = adopt; k; k = k->next)
        live_add(k);
    child_adopt = adopt;
    child_drop = drop;
}

static void pool_after_fork(void)
{
    for (conn *k = child_drop, *next; k; k = next) {
        next = k->next;
        free(k);
    }
    conn *adopt = child_adopt;
    child_adopt = child_drop = NULL;
    if (adopt && llf_spawn(adopter, adopt))
        for (conn *k = adopt, *next; k; k = next) {
            next = k->next;
            conn_end(k, 0);
            free(k);
        }
}

/* ---- listening --------------------------------------------------------------- */

static llf_ownfd lfd[2] = {LLF_NO_FD, LLF_NO_FD};
static struct sockaddr_storage laddr[2];
static socklen_t llen[2];
static int relay_pid;
static llf_engine *engine;
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;

/* One connection from listening socket l's backlog, kept (with pool_lock
 * held throughout: a child forked between the accept and the listing would
 * hold a copy nobody knows of), or NULL: none, or not one of ours. Taken
 * and owned in one step, while l is still ours (see guest.h). */
static conn *accept_one(const llf_ownfd *l, int *short_of)
{
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    expectation from;
    llf_ownfd own;
    conn *k = NULL;
    pthread_mutex_lock(&pool_lock);
    llf_fd_hold();
    int fd = llf_fd_ours(l) ? accept4(l->fd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC) : -1;
    if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM))
        *short_of = 1;
    if (fd >= 0 && llf_fd_own(&own, fd))
        fd = -1;   /* (cannot be: it is open) */
    llf_fd_release();
    if (fd >= 0 && expected(fd, &peer, &from) && (k = calloc(1, sizeof *k))) {
        struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1};
        k->own = own;
        k->from = from;
        k->fd = fd;
        k->up.fd = -1;
        k->eng = engine;
        llf_fd_hold();
        int locked = llf_fd_ours(&own) && fcntl(fd, F_SETLK, &lock) == 0;
        llf_fd_release();
        if (locked)
            stand_new(k);   /* (without the lock, no child may take it over) */
        live_add(k);
    } else if (fd >= 0) {
        llf_fd_close(&own);   /* not one of ours */
    }
    pthread_mutex_unlock(&pool_lock);
    return k;
}

/* A relay over, its sockets closed by the program: until the next one
 * starts (fd_epoch moves on), its thread still looks whether the program
 * has a thread left (see guest.h). */
static void *relay_over(unsigned epoch)
{
    while (__atomic_load_n(&fd_epoch, __ATOMIC_ACQUIRE) == epoch) {
        sleep(1);
        llf_threads_last();
    }
    return NULL;
}

/* l: this relay's two listening sockets (fd -1: none), its own copy. */
static void *accept_loop(void *arg)
{
    llf_ownfd l[2];
    memcpy(l, arg, sizeof l);
    free(arg);
    llf_relay_svc->enter();
    unsigned epoch = __atomic_load_n(&fd_epoch, __ATOMIC_ACQUIRE);
    struct pollfd p[2] = {{l[0].fd, POLLIN, 0}, {l[1].fd, POLLIN, 0}};
    for (;;) {
        /* (a look every second as well: a wait on a descriptor another
         * thread closed is not woken, and wake() did not always reach it;
         * a program closing every descriptor again and again left one such
         * thread behind each time. And the program's last thread may have
         * ended: see guest.h) */
        int r = poll(p, 2, 1000);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        if (r == 0)
            llf_threads_last();
        /* Sockets the program closed (their numbers may be its own now, or
         * a newer relay's): this relay is over, and its successor listens
         * elsewhere (see start). */
        for (int i = 0; i < 2; i++)
            if (l[i].fd >= 0 && !llf_fd_ours(&l[i]))
                return relay_over(epoch);
        int short_of = 0;
        for (int i = 0; i < 2; i++) {
            conn *k = p[i].revents & POLLIN ? accept_one(&l[i], &short_of) : NULL;
            if (k && dispatch(k)) {
                conn_end(k, 1);
                free(k);
            }
        }
        /* Out of descriptors (the program's own, or ours, at its limit):
         * the connection waits in the backlog while calls end and give
         * theirs back; poll() would say it is there at once, again and
         * again, a thread spinning. */
        if (short_of)
            poll(NULL, 0, 20);
    }
}

static int listen_made(int i, int family)
{
    /* (not blocking: accept_one holds a lock) */
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_storage a;
    memset(&a, 0, sizeof a);
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *v4 = (void *)&a;
        v4->sin_family = AF_INET;
        v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *v4;
    } else {
        struct sockaddr_in6 *v6 = (void *)&a;
        v6->sin6_family = AF_INET6;
        v6->sin6_addr = in6addr_loopback;
        len = sizeof *v6;
    }
    if (bind(fd, (struct sockaddr *)&a, len) || listen(fd, SOMAXCONN) ||
        getsockname(fd, (struct sockaddr *)&laddr[i], &llen[i]) || llf_fd_own(&lfd[i], fd)) {
        close(fd);
        return -1;
    }
    return 0;
}

/* (made, set up and owned in one step under the descriptor lock: see
 * guest.h) */
static int listen_on(int i, int family)
{
    llf_fd_hold();
    int rc = listen_made(i, family);
    llf_fd_release();
    return rc;
}

/* In a forked child: the parent's threads are not here, and a lock one of
 * them held would stay held. Its listening sockets are closed now, while
 * their numbers are still ours (later, the child may have reused them). */
static void relay_atfork_child(void)
{
    pthread_mutex_init(&start_lock, NULL);
    for (int i = 0; i < 2; i++) {
        if (llf_fd_ours(&lfd[i]))
            close(lfd[i].fd);
        lfd[i].fd = -1;
    }
    relay_pid = 0;
    pool_child();
}

static void relay_after_fork(void)
{
    llf_expect_clear();
    pool_after_fork();
}

static void drain_at_exit(void);

int llf_relay_init(llf_engine *e, const llf_shim_services *s)
{
    static int at_exit;
    engine = e;
    llf_relay_svc = s;
    /* (each once: one that failed is tried again, never the other twice;
     * the handlers are chained once however often they are given) */
    llf_fork_chain(pool_prepare, pool_parent, relay_atfork_child, relay_after_fork);
    if (!at_exit)
        at_exit = atexit(drain_at_exit) == 0;
    return 0;
}

/* At exit, bytes the program wrote into a tunnel just before it ended
 * (nc -N's last line, a WebSocket's close frame) may still wait in the
 * relay's socket, and the relay is a thread of the process, ended with it:
 * over a direct connection the kernel would have carried them. A moment
 * is given for them, while a tunnel's end of the program has bytes unread,
 * EXIT_DRAIN_MS at most; a process with none waits not at all. */
#define EXIT_DRAIN_MS 300
/* Has a tunnel bytes of the program's it has not carried yet (pool_lock
 * held)? (Its number looked at without the descriptor lock: at exit, and
 * a look at another's socket's count does no harm.) */
static int tunnel_bytes_left(void)
{
    for (conn *k = relay_pid == (int)getpid() ? pool.live : NULL; k; k = k->lnext) {
        int pumping = __atomic_load_n(&k->pumping, __ATOMIC_ACQUIRE), n = 0;
        if (pumping == 2 || (pumping && llf_fd_ours(&k->own) && ioctl(k->fd, FIONREAD, &n) == 0 && n > 0))
            return 1;
    }
    return 0;
}

static void drain_at_exit(void)
{
    for (int waited = 0; waited < EXIT_DRAIN_MS; waited += 5) {
        /* (tried, not waited for: exit() from a handler of a signal that
         * came while this thread held it would wait on itself) */
        int left = pthread_mutex_trylock(&pool_lock) != 0;
        if (!left) {
            left = tunnel_bytes_left();
            pthread_mutex_unlock(&pool_lock);
        }
        if (!left)
            return;
        struct timespec t = {0, 5 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
}

/* Are this relay's listening sockets still the ones it made? */
static int intact(void)
{
    for (int i = 0; i < 2; i++)
        if (lfd[i].fd >= 0 && !llf_fd_ours(&lfd[i]))
            return 0;
    return 1;
}

/* Are the descriptors the relay made still its own: this process's relay
 * started, its listening sockets the ones it made? A program closes all of
 * ours at once (a daemon's start), or none. */
static int fds_still_ours(void)
{
    pthread_mutex_lock(&start_lock);   /* (after pool_lock, never before it) */
    int ok = relay_pid == (int)getpid() && intact();
    pthread_mutex_unlock(&start_lock);
    return ok;
}

/* The thread of a relay whose sockets the program closed waits on them
 * still (its poll holds them open after their numbers were closed): a
 * connection to one wakes it, to poll the numbers again; a number closed
 * (or a file of the program's, always readable) ends its wait, and it sees
 * they are not ours, and ends. Done before a new relay takes the numbers
 * back; a number that is the program's socket by then leaves it waiting,
 * harmless (whenever it wakes, it ends without a look at the socket). */
static void wake(const struct sockaddr_storage *a)
{
    int timed_out = 0;
    llf_ownfd s;
    if (llf_relay_dial(a, 100, &timed_out, &s, NULL) >= 0)
        llf_fd_close(&s);
}

/* The relay of this process: started at its first use, in a forked child
 * at its own, and again when the program closed the sockets it listens on
 * (a daemon's start closes every descriptor): those numbers may be the
 * program's own now, so they are forgotten, not closed, and whatever else
 * the relay held then is as stale (see serving_thread). Checked at every
 * use, so only a connection about to be redirected pays for it. */
static int start(void)
{
    int me = (int)getpid();
    if (relay_pid == me && intact())
        return 0;
    int lost = relay_pid == me;
    if (lost)
        __atomic_add_fetch(&fd_epoch, 1, __ATOMIC_RELEASE);
    relay_pid = 0;
    /* (sockets left by a start whose thread failed, or the one of the pair
     * the program did not close; a forked child's were closed at fork) */
    for (int i = 0; i < 2; i++)
        llf_fd_close(&lfd[i]);
    for (int i = 0; i < 2; i++) {
        if (lost && lfd[i].fd >= 0)
            wake(&laddr[i]);
        lfd[i].fd = -1;
        llen[i] = sizeof laddr[i];
    }
    if (standings_pid != me) {
        void *page = mmap(NULL, NSTANDING * sizeof(standing), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        standings = page == MAP_FAILED ? NULL : page;
        memset(standing_used, 0, sizeof standing_used);
        standings_pid = me;
    }
    int v4 = listen_on(0, AF_INET), v6 = listen_on(1, AF_INET6);
    llf_ownfd *l = v4 && v6 ? NULL : malloc(sizeof lfd);
    if (!l)
        return -1;
    memcpy(l, lfd, sizeof lfd);
    if (llf_spawn(accept_loop, l)) {
        free(l);
        return -1;
    }
    relay_pid = me;
    return 0;
}

int llf_relay_addr(int family, struct sockaddr_storage *out, socklen_t *len)
{
    pthread_mutex_lock(&start_lock);
    int rc = start();
    int i = family == AF_INET6 ? 1 : 0;
    if (rc == 0 && lfd[i].fd >= 0) {
        *out = laddr[i];
        *len = llen[i];
    } else {
        rc = -1;
    }
    pthread_mutex_unlock(&start_lock);
    return rc;
}
