/* guest.c — the library's own descriptors and threads in a host (see guest.h). */
#include "guest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "forklock.h"

#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(e) (made_oom = 1)
#include <uthash.h>

int llf_fd_own(llf_ownfd *o, int fd)
{
    struct stat st;
    o->fd = -1;
    if (fd < 0 || fstat(fd, &st))
        return -1;
    o->fd = fd;
    o->dev = st.st_dev;
    o->ino = st.st_ino;
    o->type = st.st_mode & S_IFMT;
    return 0;
}

int llf_fd_ours(const llf_ownfd *o)
{
    struct stat st;
    return o->fd >= 0 && fstat(o->fd, &st) == 0 && st.st_dev == o->dev && st.st_ino == o->ino;
}

static void (*fd_hold)(void), (*fd_release)(void);

void llf_fd_lock_use(void (*hold)(void), void (*release)(void))
{
    fd_hold = hold;
    fd_release = release;
}

void llf_fd_hold(void)
{
    if (fd_hold)
        fd_hold();
}

void llf_fd_release(void)
{
    if (fd_release)
        fd_release();
}

int llf_fd_close(const llf_ownfd *o)
{
    llf_fd_hold();
    int rc = llf_fd_ours(o) ? close(o->fd) : -1;
    llf_fd_release();
    return rc;
}

int llf_fd_shutdown(const llf_ownfd *o, int how)
{
    llf_fd_hold();
    int rc = llf_fd_ours(o) ? shutdown(o->fd, how) : -1;
    llf_fd_release();
    return rc;
}

__thread int llf_curl_last_socket = -1;

/* Every socket llf_curl_socket made and libcurl has not closed, by number,
 * with what it is: libcurl closes a connection long after making it (a
 * keep-alive one when its handle is cleaned up or its server ends it, an
 * attempt's when a limit ends it), and by then the program may have closed
 * every descriptor and taken the number for a socket of its own. */
typedef struct made {
    int            fd;
    llf_ownfd      own;
    UT_hash_handle hh;
} made;
static made *mades;
static int made_oom;
static pthread_mutex_t made_lock = LLF_FORKLOCK_INIT;
static pthread_once_t made_once = PTHREAD_ONCE_INIT;

static void made_init(void) { llf_forklock(&made_lock); }

/* 0, or -1 when it cannot be remembered (then it is not used). own: what
 * fd was as it was made (under the descriptor lock, which is not held
 * here: it is the innermost). */
static int remember(int fd, const llf_ownfd *own)
{
    pthread_once(&made_once, made_init);
    pthread_mutex_lock(&made_lock);
    made *m = NULL;
    HASH_FIND_INT(mades, &fd, m);   /* (a number closed behind our back, made again) */
    if (!m && (m = calloc(1, sizeof *m))) {
        m->fd = fd;
        made_oom = 0;
        HASH_ADD_INT(mades, fd, m);
        if (made_oom) {
            free(m);
            m = NULL;
        }
    }
    if (m)
        m->own = *own;
    pthread_mutex_unlock(&made_lock);
    return m ? 0 : -1;
}

/* A socket, remembered as it is made (see guest.h), or -1. */
static int make_socket(const struct curl_sockaddr *a)
{
    llf_ownfd own;
    llf_fd_hold();
    int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd >= 0 && llf_fd_own(&own, fd))
        fd = -1;   /* (cannot be: it is open) */
    llf_fd_release();
    if (fd >= 0 && remember(fd, &own)) {
        llf_fd_close(&own);
        fd = -1;
        errno = ENOMEM;
    }
    return fd;
}

curl_socket_t llf_curl_socket(void *unused, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)unused, (void)purpose;
    int fd = make_socket(a);
    /* Out of descriptors, the process at its open-file limit (a burst of
     * the program's own connections, ours among them): calls in flight
     * give theirs back within moments, so wait for one, a while, rather
     * than fail a call that would have had one without us. */
    for (int i = 0; fd < 0 && (errno == EMFILE || errno == ENFILE) && i < 250; i++) {
        poll(NULL, 0, 20);
        fd = make_socket(a);
    }
    llf_curl_last_socket = fd;
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

int llf_curl_own(curl_socket_t fd, llf_ownfd *out)
{
    pthread_mutex_lock(&made_lock);
    made *m = NULL;
    HASH_FIND_INT(mades, &fd, m);
    if (m)
        *out = m->own;
    pthread_mutex_unlock(&made_lock);
    return m ? 0 : -1;
}

/* (forgotten first, then closed while still ours: the number stays open
 * in between, so no socket made meanwhile is remembered under it) */
int llf_curl_close(void *unused, curl_socket_t fd)
{
    (void)unused;
    llf_ownfd own = LLF_NO_FD;
    pthread_mutex_lock(&made_lock);
    made *m = NULL;
    HASH_FIND_INT(mades, &fd, m);
    if (m) {
        own = m->own;
        HASH_DEL(mades, m);
        free(m);
    }
    pthread_mutex_unlock(&made_lock);
    llf_fd_hold();
    int rc = llf_fd_ours(&own) ? close(fd) : 0;
    llf_fd_release();
    return rc;
}

/* The library's own threads, for llf_threads_last: each counts itself in
 * once it runs and out just before it ends, so that the count is never
 * above the truth (a thread being made, or ending, is in the kernel's
 * count and not in ours). Two numbers that only grow: one read before the
 * kernel's count and the other after bound ours at that moment from below,
 * whatever starts or ends meanwhile. A forked child has none of them. */
static unsigned own_started, own_ended;
static int own_ok;   /* the child handler is in: a child's counts start at 0 */
static pthread_once_t own_once = PTHREAD_ONCE_INIT;
static int ending;

static void own_child(void)
{
    own_started = own_ended = 0;
    ending = 0;
}

static void own_install(void)
{
    own_ok = llf_fork_chain(NULL, NULL, own_child, NULL) == 0;
}

int llf_threads_ready(void)
{
    pthread_once(&own_once, own_install);
    return own_ok ? 0 : -1;
}

typedef struct spawned {
    void *(*fn)(void *);
    void *arg;
} spawned;

static void *own_thread(void *p)
{
    spawned s = *(spawned *)p;
    free(p);
    __atomic_add_fetch(&own_started, 1, __ATOMIC_SEQ_CST);
    void *r = s.fn(s.arg);
    __atomic_add_fetch(&own_ended, 1, __ATOMIC_SEQ_CST);
    return r;
}

int llf_spawn(void *(*fn)(void *), void *arg)
{
    spawned *s = malloc(sizeof *s);
    if (!s)
        return -1;
    s->fn = fn;
    s->arg = arg;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    int rc = pthread_create(&t, NULL, own_thread, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        free(s);
        return -1;
    }
    pthread_detach(t);
    return 0;
}

int llf_threads_own(void)
{
    return (int)(__atomic_load_n(&own_started, __ATOMIC_SEQ_CST) - __atomic_load_n(&own_ended, __ATOMIC_SEQ_CST));
}

int llf_proc_stat(const char *text, char *state, long *threads)
{
    const char *p = strrchr(text, ')');   /* (the name may hold anything, ')' too) */
    if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
        return -1;
    *state = p[2];
    p += 3;
    for (int field = 4; field < 20; field++)   /* state is the 3rd, num_threads the 20th */
        if (!(p = strchr(p + 1, ' ')))
            return -1;
    char *end;
    long n = strtol(p + 1, &end, 10);
    if (end == p + 1 || n < 1)
        return -1;
    *threads = n;
    return 0;
}

/* (opened, read and closed under the descriptor lock: a program closing
 * every descriptor meanwhile would otherwise have its own file read and
 * closed; /proc's reads do not wait) */
static int read_stat(char *state, long *threads)
{
    char buf[1024];
    llf_fd_hold();
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    llf_fd_release();
    if (n <= 0)
        return -1;
    buf[n] = 0;
    return llf_proc_stat(buf, state, threads);
}

int llf_threads_last(void)
{
    char state;
    long threads;
    /* The main thread gone (a zombie until the whole process ends) first:
     * it stays gone, so it is gone when the threads are counted. One
     * running is the program's. Ours are never the main one. */
    if (!own_ok || read_stat(&state, &threads) || (state != 'Z' && state != 'X'))
        return 0;
    unsigned started = __atomic_load_n(&own_started, __ATOMIC_SEQ_CST);
    if (read_stat(&state, &threads))
        return 0;
    unsigned ended = __atomic_load_n(&own_ended, __ATOMIC_SEQ_CST);
    if (threads - 1 != (long)(int)(started - ended))
        return 0;
    /* No thread of the program's left, and none can appear: only one of
     * its own makes one. */
    if (__atomic_exchange_n(&ending, 1, __ATOMIC_SEQ_CST) == 0)
        exit(0);
    return 1;
}
