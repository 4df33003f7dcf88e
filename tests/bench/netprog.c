/* netprog.c — a program that uses the network but no LLM: it looks up a
 * name and connects to a port nobody listens on (refused at once), then
 * exits. Its start-up cost, with the library, is what a networking program
 * that never calls a provider pays for it. */
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo("localhost", "6379", &hints, &res) == 0)
        freeaddrinfo(res);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(1);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0) {
        (void)connect(fd, (struct sockaddr *)&a, sizeof a);
        close(fd);
    }
    return 0;
}
