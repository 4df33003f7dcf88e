/* guest.c — the library's own descriptors and threads in a host (see guest.h). */
#include "guest.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
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
    return 0;
}

int llf_fd_ours(const llf_ownfd *o)
{
    struct stat st;
    return o->fd >= 0 && fstat(o->fd, &st) == 0 && st.st_dev == o->dev && st.st_ino == o->ino;
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

/* 0, or -1 when it cannot be remembered (then it is not used). */
static int remember(int fd)
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
    int rc = m ? llf_fd_own(&m->own, fd) : -1;
    pthread_mutex_unlock(&made_lock);
    return rc;
}

curl_socket_t llf_curl_socket(void *unused, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)unused, (void)purpose;
    int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd >= 0 && remember(fd)) {
        close(fd);
        fd = -1;
    }
    llf_curl_last_socket = fd;
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

int llf_curl_close(void *unused, curl_socket_t fd)
{
    (void)unused;
    pthread_mutex_lock(&made_lock);
    made *m = NULL;
    HASH_FIND_INT(mades, &fd, m);
    int ours = m && llf_fd_ours(&m->own);
    if (m) {
        HASH_DEL(mades, m);
        free(m);
    }
    pthread_mutex_unlock(&made_lock);
    return ours ? close(fd) : 0;
}

int llf_spawn(void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    int rc = pthread_create(&t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        return -1;
    pthread_detach(t);
    return 0;
}
