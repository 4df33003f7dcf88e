/* guest.c — the library's own descriptors and threads in a host (see guest.h). */
#include "guest.h"

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>

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

curl_socket_t llf_curl_socket(void *unused, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)unused, (void)purpose;
    int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    llf_curl_last_socket = fd;
    return fd < 0 ? CURL_SOCKET_BAD : fd;
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
