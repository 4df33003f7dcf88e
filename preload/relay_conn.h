/* relay_conn.h — a connection the relay serves, as the relay's files share
 * it (private to them): what it holds (conn), and its bytes, read and
 * written only while its number is still ours: a request's head and body
 * read from it, and its end by a reset or a lingering close (relay_conn.c).
 * relay.c accepts it, keeps it across fork and ends it; relay_serve.c
 * serves its requests; relay_tunnel.c carries its bytes as they came. */
#ifndef LLF_RELAY_CONN_H
#define LLF_RELAY_CONN_H

#include <sys/types.h>

#include "expect.h"
#include "guest.h"
#include "relay.h"

#define MAX_HEAD LLF_HTTP_MAX_HEAD

typedef llf_expectation expectation;

/* How a connection stands, for a process that would take it over (see
 * standing, relay.c): between requests, in the middle of one, or a
 * tunnel (never taken over). */
typedef struct standing standing;
enum { IDLE, BUSY, TUNNEL };

typedef struct conn {
    struct conn *next;  /* waiting for a parked thread */
    struct conn *lnext, *lprev;   /* every connection the process holds (see pool.live, relay.c) */
    int fd;
    llf_ownfd own;      /* fd, as it was accepted (see guest.h) */
    llf_ownfd up;       /* a tunnel's connection upstream, or none */
    standing *st;       /* its entry in shared memory (see standing, relay.c), or NULL */
    int st_mine;        /* ...given out by this process, which takes it back */
    int started;        /* past its first byte: one taken over resumes at its next request */
    expectation from;   /* where the program meant to go */
    char buf[MAX_HEAD + 1];
    size_t have;
    int http10;         /* the request being served is HTTP/1.0 */
    int ended;          /* reset, tunnelled or lingered: no lingering close (see llf_relay_linger) */
    int pumping;        /* a tunnel carrying its bytes (see drain_at_exit, relay.c) */
    CURL *curl;
    const llf_curl_api *c;
    llf_engine *eng;
} conn;

/* The shim's services, as llf_relay_init was given them (relay.c). */
extern const llf_shim_services *llf_relay_svc;

/* How k stands, in its entry in shared memory (relay.c: see standing). */
void llf_relay_stand(conn *k, int state);

/* All of p to own's socket, or to the program's end of k, only while the
 * number is still ours: 0, or -1. */
int llf_relay_write_all(const llf_ownfd *own, const char *p, size_t n);
int llf_relay_kwrite(conn *k, const char *p, size_t n);
/* A read from the program's end of k, only while its number is ours. */
ssize_t llf_relay_kread(conn *k, void *p, size_t n);
/* k's buffer: filled with what the program sent next (0, or -1: nothing
 * came, or it is full), and its first n bytes taken. */
int llf_relay_fill(conn *k);
void llf_relay_consume(conn *k, size_t n);
/* The next line, consumed whole; line holds its first max - 1 bytes. */
int llf_relay_read_line(conn *k, char *line, size_t max);
/* A request's head, its body left to read: 0; -1 (the connection ended),
 * or -2: no request the relay reads (see llf_relay_not_http). */
int llf_relay_read_request(conn *k, llf_http_req *r);
/* A chunk's size line; after the last (0), the trailers are read too. */
int llf_relay_read_chunk_size(conn *k, unsigned long *n);
/* r's body read whole when it is no longer than limit, else *rest set and
 * *left the bytes still to come, to be passed on as they come. */
int llf_relay_read_body(conn *k, llf_http_req *r, size_t limit, int *rest, long *left);
/* The connection reset, as a transport failure is shown; it ends k. */
void llf_relay_reset(conn *k);
/* A lingering close, after an answer the program may still be sending on. */
void llf_relay_linger(conn *k);

#endif
