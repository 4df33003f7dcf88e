/* The library's locks across fork() (forklock.h): fork() waits for a lock
 * another thread holds, so the child never sees what it guards half
 * changed; the child's copy is free; a fork from a signal handler on the
 * thread that holds one does not wait for itself; a fork waits for the
 * library's own loading, and its child loads nothing. Each case runs in a
 * process of its own: a failure may leave a thread stuck inside fork(),
 * holding the registry. */
#include <pthread.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "forklock.h"
#include "t.h"

static pthread_mutex_t lock = LLF_FORKLOCK_INIT;
static int forked;
static pid_t child;

static void fork_and_note(void)
{
    pid_t p = fork();
    if (p == 0) {
        /* free in the child, and recursive still */
        int ok = pthread_mutex_trylock(&lock) == 0 && pthread_mutex_trylock(&lock) == 0 &&
                 pthread_mutex_unlock(&lock) == 0 && pthread_mutex_unlock(&lock) == 0;
        _exit(ok ? 0 : 1);
    }
    child = p;
    __atomic_store_n(&forked, 1, __ATOMIC_SEQ_CST);
}

static void *forker(void *unused)
{
    (void)unused;
    fork_and_note();
    return NULL;
}

static void on_signal(int sig)
{
    (void)sig;
    fork_and_note();
}

/* holds the lock, as mid-update, when its signal handler forks */
static void *interrupted(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&lock);
    raise(SIGUSR2);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static int wait_forked(int ms)
{
    const struct timespec tick = {0, 1000000};
    for (int i = 0; i < ms && !__atomic_load_n(&forked, __ATOMIC_SEQ_CST); i++)
        nanosleep(&tick, NULL);
    return __atomic_load_n(&forked, __ATOMIC_SEQ_CST);
}

static int exited_0(pid_t p, int ms)
{
    const struct timespec tick = {0, 1000000};
    int st = -1;
    for (int i = 0; i < ms; i++) {
        pid_t w = waitpid(p, &st, WNOHANG);
        if (w == p)
            return WIFEXITED(st) && WEXITSTATUS(st) == 0;
        if (w < 0)
            return 0;
        nanosleep(&tick, NULL);
    }
    kill(p, SIGKILL);
    waitpid(p, &st, 0);
    return 0;
}

/* 0: the lock held here, as by a thread mid-update, while another forks */
static int held_by_another(void)
{
    pthread_mutex_lock(&lock);
    pthread_t t;
    if (pthread_create(&t, NULL, forker, NULL))
        return 1;
    if (wait_forked(100))
        return 2;   /* fork() did not wait for the lock */
    pthread_mutex_unlock(&lock);
    if (!wait_forked(5000))
        return 3;
    pthread_join(t, NULL);
    if (!exited_0(child, 5000))
        return 4;   /* the child's copy was not free */
    /* the parent has it back */
    return pthread_mutex_trylock(&lock) == 0 && pthread_mutex_unlock(&lock) == 0 ? 0 : 5;
}

/* 0: a signal handler on the thread holding it forks */
static int held_by_the_forker(void)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGUSR2, &sa, NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, interrupted, NULL))
        return 1;
    if (!wait_forked(5000))
        return 2;   /* it waits for itself */
    pthread_join(t, NULL);
    if (!exited_0(child, 5000))
        return 3;
    return pthread_mutex_trylock(&lock) == 0 && pthread_mutex_unlock(&lock) == 0 ? 0 : 4;
}

/* 0: a fork while another thread loads waits for the load, and its child
 * loads nothing; one after the load, or while none is, is a plain fork */
static void *loader(void *unused)
{
    (void)unused;
    const struct timespec ms200 = {0, 200000000};
    nanosleep(&ms200, NULL);
    llf_load_end();
    return NULL;
}

static int mid_load_of_child(void)
{
    pid_t p = fork();
    if (p == 0)
        _exit(llf_forked_mid_load() ? 7 : 0);
    int st = -1;
    return p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int forked_while_loading(void)
{
    if (mid_load_of_child() != 0)
        return 1;   /* no load: a plain child */
    llf_load_begin();
    pthread_t t;
    if (pthread_create(&t, NULL, loader, NULL))
        return 2;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int got = mid_load_of_child();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(t, NULL);
    if (got != 7)
        return 3;   /* the child would load on a loader half changed */
    if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 150)
        return 4;   /* fork() did not wait for the load */
    if (mid_load_of_child() != 0)
        return 5;   /* after it: a plain child */
    /* a load that does not end: the fork goes on after a while */
    llf_load_begin();
    return mid_load_of_child() == 7 ? 0 : 6;
}

/* 0: a fork that settles the loads first (hook_fork.c) lets a load that
 * installs a fork handler midway end, and the child has it and a whole
 * load; waited for in the handlers alone, the load stopped at
 * pthread_atfork(), which waits while the handlers run, until the wait
 * gave up (a second), and the child had neither. */
static int marked;
static void mark_child(void)
{
    marked = 1;
}

static void *installs_midway(void *unused)
{
    (void)unused;
    const struct timespec ms100 = {0, 100000000};
    nanosleep(&ms100, NULL);   /* (the fork is under way by then) */
    pthread_atfork(NULL, NULL, mark_child);
    llf_load_end();
    return NULL;
}

static int settled_before_the_fork(void)
{
    llf_load_begin();
    pthread_t t;
    if (pthread_create(&t, NULL, installs_midway, NULL))
        return 1;
    int counted = llf_fork_settle();
    pid_t p = fork();
    if (p == 0)
        _exit(marked && !llf_forked_mid_load() ? 0 : 7);
    llf_fork_settled(counted);
    pthread_join(t, NULL);
    int st = -1;
    return p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) ? WEXITSTATUS(st) : 2;
}

/* 0: the load that a settling fork waited for does not go on until that
 * fork is done (its thread would be caught in its first call), and a fork
 * settled at no load lets a later load end at once */
static int forked, load_ended, settling;
static void *settling_forker(void *unused)
{
    (void)unused;
    __atomic_store_n(&settling, 1, __ATOMIC_SEQ_CST);
    int counted = llf_fork_settle();
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    __atomic_store_n(&forked, __atomic_load_n(&load_ended, __ATOMIC_SEQ_CST) ? 1 : 2, __ATOMIC_SEQ_CST);
    llf_fork_settled(counted);
    int st;
    waitpid(p, &st, 0);
    return NULL;
}

static int load_waits_for_the_fork(void)
{
    llf_load_begin();
    pthread_t t;
    if (pthread_create(&t, NULL, settling_forker, NULL))
        return 1;
    const struct timespec ms1 = {0, 1000000}, ms100 = {0, 100000000};
    while (!__atomic_load_n(&settling, __ATOMIC_SEQ_CST))
        nanosleep(&ms1, NULL);
    nanosleep(&ms100, NULL);   /* (the fork is settling by then) */
    llf_load_end();
    __atomic_store_n(&load_ended, 1, __ATOMIC_SEQ_CST);
    int got = __atomic_load_n(&forked, __ATOMIC_SEQ_CST);
    pthread_join(t, NULL);
    if (got != 2)
        return 2;   /* the load went on before the fork was done */
    llf_fork_settled(llf_fork_settle());
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    llf_load_begin();
    llf_load_end();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 500 ? 0 : 3;
}

/* 0: chained handlers run around the registry's (prepare before its locks
 * are taken, child after they are made anew), and a child's "after" ones
 * only at llf_fork_child_done, once; the same ones chained twice run once */
static char seq[16];
static void seq_add(char c)
{
    size_t n = strlen(seq);
    if (n + 1 < sizeof seq)
        seq[n] = c;
}
static void *try_lock(void *unused)
{
    (void)unused;
    int got = pthread_mutex_trylock(&lock) == 0;
    if (got)
        pthread_mutex_unlock(&lock);
    return (void *)(long)got;
}
static int lock_free_elsewhere(void)
{
    pthread_t t;
    void *got = NULL;
    return pthread_create(&t, NULL, try_lock, NULL) == 0 && pthread_join(t, &got) == 0 && got;
}
static void c_prepare(void) { seq_add(lock_free_elsewhere() ? 'P' : 'p'); }
static void c_parent(void) { seq_add('A'); }
static void c_child(void) { seq_add('C'); }
static void c_after(void) { seq_add('F'); }

static int chained_in_order(void)
{
    /* (the same four chained again, as at a second init: run once) */
    if (llf_fork_chain(c_prepare, c_parent, c_child, c_after) || llf_fork_chain(c_prepare, c_parent, c_child, c_after))
        return 1;
    pid_t p = fork();
    if (p == 0) {
        int before = strcmp(seq, "PC") == 0;
        llf_fork_child_done();
        llf_fork_child_done();
        _exit(before && strcmp(seq, "PCF") == 0 ? 0 : 7);
    }
    int st = -1;
    if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st))
        return 2;
    return strcmp(seq, "PA") == 0 ? 0 : 3;
}

static int isolated(int (*scenario)(void))
{
    pid_t p = t_fork(1);
    if (p == 0)
        _exit(scenario());
    return p > 0 && exited_0(p, 15000);
}

void test_forklock(void)
{
    CHECK(llf_forklock(&lock) == 0);
    /* recursive from the start (in a child, made so again) */
    int once = pthread_mutex_trylock(&lock) == 0;
    int twice = once && pthread_mutex_trylock(&lock) == 0;
    if (twice)
        pthread_mutex_unlock(&lock);
    if (once)
        pthread_mutex_unlock(&lock);
    CHECK(once && twice);
    CHECK(isolated(held_by_another));
    CHECK(isolated(held_by_the_forker));
    CHECK(isolated(forked_while_loading));
    CHECK(isolated(settled_before_the_fork));
    CHECK(isolated(load_waits_for_the_fork));
    CHECK(isolated(chained_in_order));
    /* (and the process that ran them has the lock free) */
    CHECK(pthread_mutex_trylock(&lock) == 0 && pthread_mutex_unlock(&lock) == 0);
}
