/* expect.c — the relay's table of announced connections (see expect.h).
 *
 * A hash on the source address (uthash), swept of expired announcements
 * whenever it has doubled since the last sweep, so that a burst costs
 * O(1) per connect and an idle table stays small. */
#include "expect.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "forklock.h"
#include "netaddr.h"

static int oom;
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(e) (oom = 1)
#include <uthash.h>

typedef struct key {
    unsigned short family, port;
    unsigned char addr[16];
} key;

typedef struct entry {
    key k;
    double stamp;   /* when announced */
    llf_expectation e;
    UT_hash_handle hh;
} entry;

static entry *table;
static unsigned sweep_at = 256;
static pthread_mutex_t lock = LLF_FORKLOCK_INIT;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void registered(void)
{
    llf_forklock(&lock);
}

/* (the fields llf_same_addr compares, and nothing else: no padding; an
 * IPv4-mapped source as its IPv4 address, as the relay's IPv4 listener
 * sees a dual-stack socket's connection) */
static int key_of(const struct sockaddr *a, key *k)
{
    struct sockaddr_in v4;
    memset(k, 0, sizeof *k);
    k->family = a->sa_family;
    if (llf_addr_v4(a, sizeof(struct sockaddr_in6), &v4)) {
        k->family = AF_INET;
        k->port = v4.sin_port;
        memcpy(k->addr, &v4.sin_addr, sizeof v4.sin_addr);
    } else if (a->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const void *)a;
        k->port = v6->sin6_port;
        memcpy(k->addr, &v6->sin6_addr, sizeof v6->sin6_addr);
    } else {
        return -1;
    }
    return 0;
}

static void sweep(double now)
{
    entry *x, *tmp;
    HASH_ITER(hh, table, x, tmp)
        if (now - x->stamp > LLF_EXPECT_TTL_MS) {
            HASH_DEL(table, x);
            free(x);
        }
    unsigned n = HASH_COUNT(table);
    sweep_at = n * 2 > 256 ? n * 2 : 256;
}

int llf_expect_add(int fd, const struct sockaddr *src, socklen_t srclen, const struct sockaddr *orig, socklen_t len,
                   int flags, double now)
{
    key k;
    if (srclen > sizeof(struct sockaddr_storage) || key_of(src, &k))
        return -1;
    pthread_once(&once, registered);
    pthread_mutex_lock(&lock);
    entry *x;
    HASH_FIND(hh, table, &k, sizeof k, x);
    if (!x && HASH_COUNT(table) >= sweep_at)
        sweep(now);
    if (!x && HASH_COUNT(table) < LLF_EXPECT_MAX && (x = calloc(1, sizeof *x))) {
        x->k = k;
        oom = 0;
        HASH_ADD(hh, table, k, sizeof k, x);
        if (oom) {   /* (uthash could not grow its buckets: x is not in) */
            free(x);
            x = NULL;
        }
    }
    if (x) {
        x->stamp = now;
        memset(&x->e, 0, sizeof x->e);
        x->e.tls = (flags & LLF_EXPECT_TLS) != 0;
        x->e.own_src = (flags & LLF_EXPECT_OWN_SRC) != 0;
        x->e.fd = fd;
        memcpy(&x->e.src, src, srclen);
        if (len <= sizeof x->e.orig)
            memcpy(&x->e.orig, orig, len);
    }
    pthread_mutex_unlock(&lock);
    return x ? 0 : -1;
}

int llf_expect_take(const struct sockaddr *peer, double now, llf_expectation *out)
{
    key k;
    if (key_of(peer, &k))
        return 0;
    pthread_once(&once, registered);
    pthread_mutex_lock(&lock);
    entry *x;
    HASH_FIND(hh, table, &k, sizeof k, x);
    int found = !x ? 0 : now - x->stamp <= LLF_EXPECT_TTL_MS ? 1 : 2;
    if (x) {
        *out = x->e;
        HASH_DEL(table, x);
        free(x);
    }
    pthread_mutex_unlock(&lock);
    return found;
}

void llf_expect_drop(const struct sockaddr *src)
{
    key k;
    if (key_of(src, &k))
        return;
    pthread_once(&once, registered);
    pthread_mutex_lock(&lock);
    entry *x;
    HASH_FIND(hh, table, &k, sizeof k, x);
    if (x) {
        HASH_DEL(table, x);
        free(x);
    }
    pthread_mutex_unlock(&lock);
}

void llf_expect_clear(void)
{
    pthread_once(&once, registered);
    pthread_mutex_lock(&lock);
    entry *x, *tmp;
    HASH_ITER(hh, table, x, tmp) {
        HASH_DEL(table, x);
        free(x);
    }
    sweep_at = 256;
    pthread_mutex_unlock(&lock);
}

unsigned llf_expect_held(void)
{
    pthread_mutex_lock(&lock);
    unsigned n = HASH_COUNT(table);
    pthread_mutex_unlock(&lock);
    return n;
}
