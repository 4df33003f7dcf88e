/* forklock.c — the library's mutexes across fork() (see forklock.h).
 *
 * One set of fork handlers for every lock, installed with the first. The
 * registry's own lock is taken first in prepare: a lock registered while
 * another thread forks is either in the child's list whole or not at all. */
#include "forklock.h"

#define MAX_LOCKS 16

static pthread_mutex_t *locks[MAX_LOCKS];
static int nlocks;   /* under reg */
static pthread_mutex_t reg = LLF_FORKLOCK_INIT;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int installed;

static void prepare(void)
{
    pthread_mutex_lock(&reg);
    for (int i = 0; i < nlocks; i++)
        pthread_mutex_lock(locks[i]);
}

static void parent(void)
{
    for (int i = nlocks; i-- > 0;)
        pthread_mutex_unlock(locks[i]);
    pthread_mutex_unlock(&reg);
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
}

static void install(void)
{
    installed = pthread_atfork(prepare, parent, child) == 0;
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
