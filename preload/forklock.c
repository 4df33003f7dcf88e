/* forklock.c — the library's mutexes across fork() (see forklock.h).
 *
 * One set of fork handlers for every lock, installed with the first. The
 * registry's own lock is taken first in prepare: a lock registered while
 * another thread forks is either in the child's list whole or not at all. */
#include "forklock.h"

#include <errno.h>
#include <time.h>

#define MAX_LOCKS 16

static pthread_mutex_t *locks[MAX_LOCKS];
static int nlocks;   /* under reg */
static pthread_mutex_t reg = LLF_FORKLOCK_INIT;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int installed;

static pthread_mutex_t loads_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t loads_cond;   /* (on CLOCK_MONOTONIC, made in install) */
static int loads;                   /* under way, under loads_lock */
static int forks;                   /* fork() calls settling (llf_fork_settle), under loads_lock */
static int load_at_fork;            /* one was when this fork began, under loads_lock */
static int mid_load;

static void make_cond(void)
{
    pthread_condattr_t at;
    pthread_condattr_init(&at);
    pthread_condattr_setclock(&at, CLOCK_MONOTONIC);
    pthread_cond_init(&loads_cond, &at);
    pthread_condattr_destroy(&at);
}

static void deadline(struct timespec *until)
{
    clock_gettime(CLOCK_MONOTONIC, until);
    until->tv_sec += 1;
}

/* Waits for the loads under way, a second at most, and keeps loads_lock
 * until the fork is done: no load begins meanwhile. A load that ended
 * meanwhile still counts for the child: glibc runs the handlers that were
 * installed when the fork began, and the load installed the core's since
 * (seen: a child without the relay's, whose lock another thread held). */
static void wait_loads(void)
{
    struct timespec until;
    deadline(&until);
    pthread_mutex_lock(&loads_lock);
    load_at_fork = loads > 0;
    while (loads && pthread_cond_timedwait(&loads_cond, &loads_lock, &until) != ETIMEDOUT)
        ;
}

/* (Nothing before the handlers are in: no load has begun. The lock is
 * waited for 100 ms at most: a signal handler that forks may have
 * interrupted this very thread inside llf_load_begin or _end, and such a
 * fork settles nothing. Another fork holds it from its prepare handler to
 * its parent one.) */
int llf_fork_settle(void)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += 100000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    if (!__atomic_load_n(&installed, __ATOMIC_ACQUIRE) ||
        pthread_mutex_clocklock(&loads_lock, CLOCK_MONOTONIC, &until) != 0)
        return 0;
    forks++;
    deadline(&until);
    while (loads && pthread_cond_timedwait(&loads_cond, &loads_lock, &until) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&loads_lock);
    return 1;
}

void llf_fork_settled(int counted)
{
    if (!counted)
        return;
    pthread_mutex_lock(&loads_lock);
    if (--forks == 0)
        pthread_cond_broadcast(&loads_cond);
    pthread_mutex_unlock(&loads_lock);
}

static void prepare(void)
{
    wait_loads();
    pthread_mutex_lock(&reg);
    for (int i = 0; i < nlocks; i++)
        pthread_mutex_lock(locks[i]);
}

static void parent(void)
{
    for (int i = nlocks; i-- > 0;)
        pthread_mutex_unlock(locks[i]);
    pthread_mutex_unlock(&reg);
    pthread_mutex_unlock(&loads_lock);
}

static void remake(pthread_mutex_t *m)
{
    pthread_mutexattr_t at;
    pthread_mutexattr_init(&at);
    pthread_mutexattr_settype(&at, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(m, &at);
    pthread_mutexattr_destroy(&at);
}

static void child(void)
{
    for (int i = 0; i < nlocks; i++)
        remake(locks[i]);
    remake(&reg);
    if (load_at_fork)   /* (loads under way now were then: see wait_loads) */
        mid_load = 1;
    loads = forks = 0;
    pthread_mutex_init(&loads_lock, NULL);
    make_cond();
}

static void install(void)
{
    make_cond();
    __atomic_store_n(&installed, pthread_atfork(prepare, parent, child) == 0, __ATOMIC_RELEASE);
}

int llf_forklock_ready(void)
{
    pthread_once(&once, install);
    return installed ? 0 : -1;
}

int llf_forklock(pthread_mutex_t *m)
{
    if (llf_forklock_ready())
        return -1;
    int rc = -1;
    pthread_mutex_lock(&reg);
    if (nlocks < MAX_LOCKS) {
        locks[nlocks++] = m;
        rc = 0;
    }
    pthread_mutex_unlock(&reg);
    return rc;
}

void llf_load_begin(void)
{
    llf_forklock_ready();
    pthread_mutex_lock(&loads_lock);
    loads++;
    pthread_mutex_unlock(&loads_lock);
}

/* The last load to end lets the forks waiting for it go, and waits, a
 * second at most, until they are done: the loading thread goes on into its
 * first call, where it allocates and initialises most, and a fork timed to
 * the load's end would otherwise catch it there. (A lock another library
 * does not make fork-safe, as ASan's allocator under gcc 12, was held at
 * such a fork, and the child's first thread waited for it for ever.) */
void llf_load_end(void)
{
    pthread_mutex_lock(&loads_lock);
    if (--loads == 0) {
        pthread_cond_broadcast(&loads_cond);
        struct timespec until;
        deadline(&until);
        while (forks && pthread_cond_timedwait(&loads_cond, &loads_lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&loads_lock);
}

int llf_forked_mid_load(void)
{
    return __atomic_load_n(&mid_load, __ATOMIC_RELAXED);
}
