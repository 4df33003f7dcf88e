/* forklock.c — the library's mutexes across fork() (see forklock.h).
 *
 * One set of fork handlers for every lock, installed by the shim as it is
 * loaded (the core's registrations reach the shim's registry: see
 * llf_forklock_use). The registry's own lock is taken first in prepare: a
 * lock registered while another thread forks is either in the child's list
 * whole or not at all. Installed as the shim is loaded, these prepare
 * handlers run after the program's own and after those of libraries loaded
 * later (glibc runs prepare handlers last installed first): a program whose
 * own handler takes a lock that its thread holds across a call would
 * otherwise find the fork holding ours while it waited, and its call
 * needing one of ours: both hung. (Libraries the program links were
 * started before the shim: their handlers still run after ours.) Child
 * handlers run in the order installed, so ours run before those of an
 * allocator installed later, whose locks are still held then: nothing is
 * allocated nor freed in them (llf_fork_child_done). */
#include "forklock.h"
#include "atload.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

#define MAX_LOCKS 24
#define MAX_CHAINED 8

static pthread_mutex_t *locks[MAX_LOCKS];
static int nlocks;   /* under reg */
static pthread_mutex_t reg = LLF_FORKLOCK_INIT;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int installed;

/* Handlers run by ours (llf_fork_chain), appended only: an entry is whole
 * before the count that shows it. A fork runs those counted at its prepare. */
static struct {
    void (*prepare)(void), (*parent)(void), (*child)(void), (*after)(void);
} chained[MAX_CHAINED];
static int nchained, nchained_at_fork;
static int after_due;   /* in a child: the chained "after" handlers are still to run */

/* In the core: the shim's registry, where its registrations go. */
static const llf_forkreg *shim;

static pthread_mutex_t loads_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t loads_cond;   /* (on CLOCK_MONOTONIC, made in install) */
static int loads;                   /* under way, under loads_lock */
static int forks;                   /* fork() calls settling (llf_fork_settle), under loads_lock */
static int load_at_fork;            /* one was when this fork began, under loads_lock */
static int mid_load;

LLF_AT_LOAD static void make_cond(void)
{
    pthread_condattr_t at;
    pthread_condattr_init(&at);
    pthread_condattr_setclock(&at, CLOCK_MONOTONIC);
    pthread_cond_init(&loads_cond, &at);
    pthread_condattr_destroy(&at);
}

static void deadline(struct timespec *until, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, until);
    until->tv_sec += ms / 1000;
    until->tv_nsec += ms % 1000 * 1000000;
    if (until->tv_nsec >= 1000000000) {
        until->tv_sec++;
        until->tv_nsec -= 1000000000;
    }
}

/* This thread's fork already waited its second for a load that did not
 * end (llf_fork_settle): its handlers do not wait another. */
static __thread int settle_gave_up;

static int prepare_counted;   /* this fork waited in prepare, so is in forks */

/* Waits for the loads under way, a second at most, and keeps loads_lock
 * until the fork is done: no load begins meanwhile. A load that ended
 * meanwhile still counts for the child: glibc runs the handlers that were
 * installed when the fork began, and the load installed the core's since
 * (seen: a child without the relay's, whose lock another thread held). */

static void wait_loads(void)
{
    struct timespec until;
    deadline(&until, 1000);
    pthread_mutex_lock(&loads_lock);
    load_at_fork = loads > 0;
    /* (counted, as llf_fork_settle counts: the load waited for here then
     * waits for this fork in turn) */
    if ((prepare_counted = loads > 0))
        forks++;
    while (loads && !settle_gave_up && pthread_cond_timedwait(&loads_cond, &loads_lock, &until) != ETIMEDOUT)
        ;
    settle_gave_up = 0;
}

/* Nothing is done unless a load is under way (then a load that begins
 * before the fork is waited for in the handlers, as before this). Signals
 * are held off while loads_lock is held: a handler that forked then would
 * wait for it in prepare, held by its own thread. (The lock is waited for
 * 100 ms at most besides: a signal handler may have interrupted this very
 * thread inside llf_load_begin or _end, and such a fork settles nothing;
 * another fork holds it from its prepare handler to its parent one.) */
int llf_fork_settle(void)
{
    settle_gave_up = 0;
    if (!__atomic_load_n(&installed, __ATOMIC_ACQUIRE) || !__atomic_load_n(&loads, __ATOMIC_ACQUIRE))
        return 0;
    sigset_t all, was;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &was);
    struct timespec until;
    deadline(&until, 100);
    int counted = pthread_mutex_clocklock(&loads_lock, CLOCK_MONOTONIC, &until) == 0;
    if (counted) {
        forks++;
        deadline(&until, 1000);
        int rc = 0;
        while (loads && (rc = pthread_cond_timedwait(&loads_cond, &loads_lock, &until)) != ETIMEDOUT)
            ;
        settle_gave_up = loads && rc == ETIMEDOUT;
        pthread_mutex_unlock(&loads_lock);
    }
    pthread_sigmask(SIG_SETMASK, &was, NULL);
    return counted;
}

void llf_fork_settled(int counted)
{
    settle_gave_up = 0;   /* (a fork that never reached prepare) */
    if (!counted)
        return;
    sigset_t all, was;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &was);
    pthread_mutex_lock(&loads_lock);
    if (--forks == 0)
        pthread_cond_broadcast(&loads_cond);
    pthread_mutex_unlock(&loads_lock);
    pthread_sigmask(SIG_SETMASK, &was, NULL);
}

/* The chained prepare handlers run before the registry is taken, last
 * chained first, as glibc would have run them (the relay's takes a lock
 * under which registered ones are taken); their parent and child ones
 * after, in order. */
static void prepare(void)
{
    wait_loads();
    nchained_at_fork = __atomic_load_n(&nchained, __ATOMIC_ACQUIRE);
    for (int i = nchained_at_fork; i-- > 0;)
        if (chained[i].prepare)
            chained[i].prepare();
    pthread_mutex_lock(&reg);
    for (int i = 0; i < nlocks; i++)
        pthread_mutex_lock(locks[i]);
}

static void parent(void)
{
    for (int i = nlocks; i-- > 0;)
        pthread_mutex_unlock(locks[i]);
    pthread_mutex_unlock(&reg);
    for (int i = 0; i < nchained_at_fork; i++)
        if (chained[i].parent)
            chained[i].parent();
    if (prepare_counted && --forks == 0)
        pthread_cond_broadcast(&loads_cond);
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
    loads = forks = prepare_counted = settle_gave_up = 0;
    pthread_mutex_init(&loads_lock, NULL);
    make_cond();
    for (int i = 0; i < nchained_at_fork; i++)
        if (chained[i].child)
            chained[i].child();
    after_due = 1;
}

/* What a child does that allocates (frees, a thread) waits until every
 * fork handler has run: a program's allocator of its own, which installed
 * its handlers after ours, makes its locks anew only in its child handler,
 * after ours (glibc runs them in the order installed). */
void llf_fork_child_done(void)
{
    if (!after_due)
        return;
    after_due = 0;
    for (int i = 0; i < nchained_at_fork; i++)
        if (chained[i].after)
            chained[i].after();
}

/* (A child forked between pthread_atfork() and the once's end runs this
 * again, glibc finding the once under way in an older fork generation:
 * installed twice, its next fork would take loads_lock twice.) */
LLF_AT_LOAD static void install(void)
{
    if (__atomic_load_n(&installed, __ATOMIC_ACQUIRE))
        return;
    make_cond();
    __atomic_store_n(&installed, pthread_atfork(prepare, parent, child) == 0, __ATOMIC_RELEASE);
}

LLF_AT_LOAD int llf_forklock_ready(void)
{
    if (shim)
        return 0;
    pthread_once(&once, install);
    return installed ? 0 : -1;
}

int llf_forklock(pthread_mutex_t *m)
{
    if (shim)
        return shim->lock(m);
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

int llf_fork_chain(void (*prepare_fn)(void), void (*parent_fn)(void), void (*child_fn)(void),
                   void (*after_fn)(void))
{
    if (shim)
        return shim->chain(prepare_fn, parent_fn, child_fn, after_fn);
    if (llf_forklock_ready())
        return -1;
    int rc = -1;
    pthread_mutex_lock(&reg);   /* (between those who chain; a fork reads the count alone) */
    int n = __atomic_load_n(&nchained, __ATOMIC_RELAXED);
    for (int i = 0; i < n; i++)   /* (chained again, as at every init: once is enough) */
        if (chained[i].prepare == prepare_fn && chained[i].parent == parent_fn && chained[i].child == child_fn &&
            chained[i].after == after_fn) {
            pthread_mutex_unlock(&reg);
            return 0;
        }
    if (n < MAX_CHAINED) {
        chained[n].prepare = prepare_fn;
        chained[n].parent = parent_fn;
        chained[n].child = child_fn;
        chained[n].after = after_fn;
        __atomic_store_n(&nchained, n + 1, __ATOMIC_RELEASE);
        rc = 0;
    }
    pthread_mutex_unlock(&reg);
    return rc;
}

static const llf_forkreg own = {llf_forklock, llf_fork_chain};

const llf_forkreg *llf_forkreg_own(void)
{
    return &own;
}

void llf_forklock_use(const llf_forkreg *r)
{
    shim = r;
}

void llf_load_begin(void)
{
    llf_forklock_ready();
    pthread_mutex_lock(&loads_lock);
    __atomic_add_fetch(&loads, 1, __ATOMIC_RELEASE);   /* (read unlocked by llf_fork_settle) */
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
    if (__atomic_sub_fetch(&loads, 1, __ATOMIC_RELEASE) == 0) {
        pthread_cond_broadcast(&loads_cond);
        struct timespec until;
        deadline(&until, 1000);
        while (forks && pthread_cond_timedwait(&loads_cond, &loads_lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&loads_lock);
}

int llf_forked_mid_load(void)
{
    return __atomic_load_n(&mid_load, __ATOMIC_RELAXED);
}
