/* A descriptor of ours, known by what it is (guest.h): its number closed,
 * or given to another file or socket since, is not ours. The sockets
 * libcurl opens for our handles are close-on-exec. */
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest.h"
#include "t.h"

void test_guest(void)
{
    llf_ownfd o = LLF_NO_FD;
    CHECK(!llf_fd_ours(&o));
    CHECK(llf_fd_own(&o, -1) == -1 && o.fd == -1);

    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    CHECK(llf_fd_own(&o, sv[0]) == 0 && o.fd == sv[0] && llf_fd_ours(&o));
    llf_ownfd copy = o;
    CHECK(llf_fd_ours(&copy));   /* (a value: each holder checks for itself) */
    close(sv[0]);
    CHECK(!llf_fd_ours(&o));   /* closed */
    CHECK(llf_fd_own(&o, sv[0]) == -1 && o.fd == -1);

    /* the number given to another socket, then to a file */
    CHECK(llf_fd_own(&o, sv[1]) == 0);
    int other = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(other >= 0 && dup2(other, sv[1]) == sv[1]);
    CHECK(!llf_fd_ours(&o));
    int file = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(file >= 0 && dup2(file, sv[1]) == sv[1]);
    CHECK(!llf_fd_ours(&o));
    /* a copy of ours at another number is ours, at that number */
    CHECK(llf_fd_own(&o, file) == 0);
    int dup = fcntl(file, F_DUPFD_CLOEXEC, 0);
    llf_ownfd d = o;
    d.fd = dup;
    CHECK(llf_fd_ours(&d));
    close(dup);
    close(file);
    close(other);
    close(sv[1]);
    CHECK(!llf_fd_ours(&o));

    struct curl_sockaddr a = {.family = AF_INET, .socktype = SOCK_STREAM, .protocol = 0};
    curl_socket_t s = llf_curl_socket(NULL, CURLSOCKTYPE_IPCXN, &a);
    CHECK(s != CURL_SOCKET_BAD && (fcntl(s, F_GETFD) & FD_CLOEXEC));
    if (s != CURL_SOCKET_BAD)
        close(s);
    a.family = -1;
    CHECK(llf_curl_socket(NULL, CURLSOCKTYPE_IPCXN, &a) == CURL_SOCKET_BAD);
}
