/* targets.c — the providers' addresses, for the socket hooks and the relay
 * (see targets.h).
 *
 * Resolving is the program's business: only names that need no DNS
 * (address literals, localhost) are resolved here, at load; the others are
 * learnt when the program itself looks them up. Each address is also kept
 * under every provider name a lookup gave it for, with its place in the
 * latest such lookup: the relay needs them to try the next address when the
 * one the program connected to refuses (the program's own connect() to the
 * relay succeeded, so the program cannot), and to tell whether the host a
 * request names is where it was sent. A later lookup adds to the earlier
 * ones, never replaces them: round-robin DNS, a lookup per family, a
 * client's own cache, and the library's own lookups (libcurl's resolver
 * thread is no thread of ours, and passes through the hook) all leave
 * connections to addresses the latest did not give. */
#include "targets.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "forklock.h"
#include "log.h"
#include "netaddr.h"

typedef union anyaddr {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
} anyaddr;

/* Every address learnt, a set that only grows, read without a lock by each
 * connect() of the program's, LLM call or not: open addressing, a slot's
 * kind written last (a release store), a slot never changed once set, at
 * most half the slots used. A long-lived process whose provider's name
 * resolves to another address at each lookup (a CDN's, Google's front
 * ends) learns many: a table of 256 filled, and the calls to every address
 * after were silently its provider's, unmanaged. Past TARGETS_MAX, one
 * line says so. */
#define TARGET_SLOTS 8192
#define TARGETS_MAX (TARGET_SLOTS / 2)
typedef struct target {
    anyaddr addr;
    int kind;   /* 1 http, 2 https; 0 an empty slot */
} target;

static target targets[TARGET_SLOTS];
static size_t ntargets;   /* under targets_lock */
static pthread_mutex_t targets_lock = LLF_FORKLOCK_INIT;
static const llf_config *tcfg;

/* Where an address's probe starts: its address and port, IPv4 (or IPv6's
 * IPv4-mapped form of one) as IPv4, as llf_same_addr compares them. */
static size_t slot_of(const struct sockaddr *sa)
{
    struct sockaddr_in v4;
    const unsigned char *p;
    size_t n;
    unsigned short port;
    if (llf_addr_v4(sa, sizeof(struct sockaddr_in6), &v4)) {
        p = (const unsigned char *)&v4.sin_addr;
        n = sizeof v4.sin_addr;
        port = v4.sin_port;
    } else {
        const struct sockaddr_in6 *x = (const void *)sa;
        p = x->sin6_addr.s6_addr;
        n = sizeof x->sin6_addr;
        port = x->sin6_port;
    }
    uint32_t h = 2166136261u ^ port;   /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h & (TARGET_SLOTS - 1);
}

#define BINDINGS 512     /* (when full, the one no lookup gave for longest goes) */
/* Of one lookup, kept: a name with more addresses (a large round-robin
 * pool) has its first 64 bound to it, and a call to another of them passes
 * through, unmanaged. 16 left out names of many A records; more than a
 * tenth of BINDINGS would let one lookup crowd out the others. */
#define LOOKUP_ADDRS 64

/* An address (with a base URL's port) a lookup of a provider's host gave. */
typedef struct binding {
    char host[256];      /* the base URL's host, as the config normalised it */
    anyaddr a;
    unsigned long seq;   /* the latest lookup that gave it (0: an empty entry) */
    unsigned rank;       /* its place in that lookup */
} binding;

static binding bindings[BINDINGS];   /* under targets_lock */
static unsigned long lookup_seq;

static unsigned short port_of(const struct sockaddr *sa)
{
    return ntohs(sa->sa_family == AF_INET ? ((const struct sockaddr_in *)sa)->sin_port
                                          : ((const struct sockaddr_in6 *)sa)->sin6_port);
}

/* sa as a target's address: with port, or NULL when it is neither IPv4 nor
 * IPv6. An IPv4-mapped one (AI_V4MAPPED) as the IPv4 address it is: the
 * relay goes there as the program would have. */
static const anyaddr *with_port(const struct sockaddr *sa, socklen_t len, long port, anyaddr *out)
{
    if ((sa->sa_family != AF_INET || len < sizeof out->v4) && (sa->sa_family != AF_INET6 || len < sizeof out->v6))
        return NULL;
    memset(out, 0, sizeof *out);
    if (!llf_addr_v4(sa, len, &out->v4))
        memcpy(out, sa, sa->sa_family == AF_INET ? sizeof out->v4 : sizeof out->v6);
    if (out->v4.sin_family == AF_INET)
        out->v4.sin_port = htons((unsigned short)port);
    else
        out->v6.sin6_port = htons((unsigned short)port);
    return out;
}

static void add_target(const anyaddr *a, int kind)
{
    static int told;
    pthread_mutex_lock(&targets_lock);
    size_t i = slot_of(&a->sa);
    while (targets[i].kind && !llf_same_addr(&a->sa, &targets[i].addr.sa))
        i = (i + 1) & (TARGET_SLOTS - 1);
    int full = !targets[i].kind && ntargets == TARGETS_MAX;
    if (!targets[i].kind && !full) {
        targets[i].addr = *a;
        __atomic_store_n(&targets[i].kind, kind, __ATOMIC_RELEASE);
        ntargets++;
    }
    int say = full && !told;
    told |= full;
    pthread_mutex_unlock(&targets_lock);
    if (say)
        llf_warn("%d addresses of providers learnt; connections to others they resolve to go unmanaged",
                 TARGETS_MAX);
}

/* A host as a URL writes it, bare: no brackets around an IPv6 literal, no
 * trailing dot of a fully qualified name. */
static void bare_host(const char *in, char *out, size_t n)
{
    snprintf(out, n, "%s", in);
    size_t l = strlen(out);
    if (l > 2 && out[0] == '[' && out[l - 1] == ']') {   /* IPv6 literal */
        memmove(out, out + 1, l - 2);
        out[l -= 2] = '\0';
    }
    if (l > 1 && out[l - 1] == '.')
        out[l - 1] = '\0';
}

/* Do two hosts name the same host (case and a trailing dot aside)? */
static int same_host(const char *a, const char *b)
{
    char x[256], y[256];
    bare_host(a, x, sizeof x);
    bare_host(b, y, sizeof y);
    return strcasecmp(x, y) == 0;
}

static int scheme_kind(const llf_urlparts *u)
{
    return strcmp(u->scheme, "https") == 0 ? 2 : 1;
}

/* Every address of res (in its order, each once) a target of base u, and
 * bound to u's host with its place in res. */
static void learn(const llf_urlparts *u, const struct addrinfo *res)
{
    anyaddr got[LOOKUP_ADDRS], a;
    size_t n = 0;
    for (const struct addrinfo *r = res; r; r = r->ai_next) {
        if ((r->ai_socktype != SOCK_STREAM && r->ai_socktype != 0) || !r->ai_addr ||
            !with_port(r->ai_addr, r->ai_addrlen, u->port, &a))
            continue;
        add_target(&a, scheme_kind(u));
        int dup = 0;
        for (size_t i = 0; i < n && !dup; i++)
            dup = llf_same_addr(&got[i].sa, &a.sa);
        if (!dup && n < LOOKUP_ADDRS)
            got[n++] = a;
    }
    if (!n)
        return;
    pthread_mutex_lock(&targets_lock);
    unsigned long seq = ++lookup_seq;
    for (size_t k = 0; k < n; k++) {
        binding *slot = &bindings[0];
        for (size_t i = 0; i < BINDINGS; i++) {
            binding *b = &bindings[i];
            if (b->seq && llf_same_addr(&b->a.sa, &got[k].sa) && same_host(b->host, u->host)) {
                slot = b;
                break;
            }
            if (b->seq < slot->seq)
                slot = b;   /* (an empty one, or else the oldest; never this lookup's) */
        }
        snprintf(slot->host, sizeof slot->host, "%s", u->host);
        slot->a = got[k];
        slot->seq = seq;
        slot->rank = (unsigned)k;
    }
    pthread_mutex_unlock(&targets_lock);
}

int llf_targets_init(const llf_config *cfg)
{
    static int registered;
    if (!registered)
        registered = llf_forklock(&targets_lock) == 0;
    tcfg = cfg;
    for (size_t i = 0; i < cfg->nbases; i++) {
        const llf_urlparts *u = &cfg->bases[i].url;
        char host[256];
        bare_host(u->host, host, sizeof host);
        if (!llf_local_name(host))
            continue;
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
        if (getaddrinfo(host, NULL, &hints, &res) != 0)
            continue;
        learn(u, res);
        freeaddrinfo(res);
    }
    return 0;
}

void llf_targets_note(const char *node, const struct addrinfo *res)
{
    for (size_t i = 0; tcfg && node && i < tcfg->nbases; i++)
        if (same_host(tcfg->bases[i].url.host, node))
            learn(&tcfg->bases[i].url, res);
}

struct addrinfo *llf_targets_placeholder(const char *node, const char *service,
                                         const struct addrinfo *hints)
{
    char *end = NULL;
    long port = service && *service ? strtol(service, &end, 10) : 0;
    /* (AI_NUMERICHOST asks whether node is an address literal, and a name
     * is not: glibc's EAI_NONAME stands; so with AI_NUMERICSERV for a
     * service that is a name) */
    if (hints && ((hints->ai_family != AF_UNSPEC && hints->ai_family != AF_INET) ||
                  (hints->ai_socktype && hints->ai_socktype != SOCK_STREAM) || (hints->ai_flags & AI_NUMERICHOST) ||
                  ((hints->ai_flags & AI_NUMERICSERV) && end && *end)))
        return NULL;
    if (end && *end) {   /* a service name ("http"): its port, as glibc's lookup gives it, or glibc's error stands */
        struct servent se, *sp = NULL;
        char sb[1024];
        if (getservbyname_r(service, "tcp", &se, sb, sizeof sb, &sp) != 0 || !sp)
            return NULL;
        port = ntohs((uint16_t)sp->s_port);
    }
    for (size_t i = 0; tcfg && node && i < tcfg->nbases; i++) {
        const llf_urlparts *u = &tcfg->bases[i].url;
        if (!same_host(u->host, node))
            continue;
        /* 127.255.255.254: loopback, never a server of ours; only its
         * port tells providers apart, and the relay reads the real host
         * from Host or SNI. */
        struct {
            struct addrinfo ai;
            struct sockaddr_in sin;
        } *b = calloc(1, sizeof *b);
        if (!b)
            return NULL;
        if (port <= 0 || port > 65535)
            port = u->port;
        b->sin.sin_family = AF_INET;
        b->sin.sin_addr.s_addr = htonl(LLF_PLACEHOLDER_ADDR);
        b->ai.ai_family = AF_INET;
        b->ai.ai_socktype = SOCK_STREAM;
        b->ai.ai_protocol = IPPROTO_TCP;
        b->ai.ai_addrlen = sizeof b->sin;
        b->ai.ai_addr = (struct sockaddr *)&b->sin;
        /* (kept as the name's lookup, under the base's port as any other) */
        llf_urlparts at = *u;
        at.port = port;
        learn(&at, &b->ai);
        b->sin.sin_port = htons((unsigned short)port);
        return &b->ai;
    }
    return NULL;
}

int llf_is_tls_host(const char *name)
{
    for (size_t i = 0; tcfg && name && i < tcfg->nbases; i++)
        if (strcmp(tcfg->bases[i].url.scheme, "https") == 0 && same_host(tcfg->bases[i].url.host, name))
            return 1;
    return 0;
}

int llf_target_kind(const struct sockaddr *sa, socklen_t len)
{
    if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
        (sa->sa_family == AF_INET && len < sizeof(struct sockaddr_in)) ||
        (sa->sa_family == AF_INET6 && len < sizeof(struct sockaddr_in6)))
        return 0;
    int kind;
    for (size_t i = slot_of(sa); (kind = __atomic_load_n(&targets[i].kind, __ATOMIC_ACQUIRE));
         i = (i + 1) & (TARGET_SLOTS - 1))
        if (llf_same_addr(sa, &targets[i].addr.sa))
            return kind;
    return 0;
}

/* The host as an address literal: 1 and *out (port 0), or 0. */
static int literal(const char *host, anyaddr *out)
{
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, host, &out->v4.sin_addr) == 1) {
        out->v4.sin_family = AF_INET;
        return 1;
    }
    if (inet_pton(AF_INET6, host, &out->v6.sin6_addr) == 1) {
        out->v6.sin6_family = AF_INET6;
        return 1;
    }
    return 0;
}

static int loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24 == 127;
    return sa->sa_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

/* The binding of sa to host (bare), or NULL. Under targets_lock. */
static const binding *bound(const char *host, const struct sockaddr *sa)
{
    for (size_t i = 0; i < BINDINGS; i++)
        if (bindings[i].seq && llf_same_addr(&bindings[i].a.sa, sa) && same_host(bindings[i].host, host))
            return &bindings[i];
    return NULL;
}

int llf_targets_names(const char *host, long port, const struct sockaddr *sa)
{
    char h[256];
    anyaddr lit;
    if (!host || !sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) || port != port_of(sa))
        return 0;
    bare_host(host, h, sizeof h);
    if (literal(h, &lit)) {
        lit.v4.sin_port = htons((unsigned short)port);   /* (the same place in both) */
        return llf_same_addr(&lit.sa, sa);
    }
    if (strcasecmp(h, "localhost") == 0)
        return loopback(sa);
    pthread_mutex_lock(&targets_lock);
    int found = bound(h, sa) != NULL;
    pthread_mutex_unlock(&targets_lock);
    return found;
}

/* The binding of sa when one name alone gave it (a name binds an address
 * once: a second binding is another name's), else NULL. Under targets_lock. */
static const binding *sole(const struct sockaddr *sa)
{
    const binding *one = NULL;
    for (size_t i = 0; i < BINDINGS; i++)
        if (bindings[i].seq && llf_same_addr(&bindings[i].a.sa, sa)) {
            if (one)
                return NULL;
            one = &bindings[i];
        }
    return one;
}

/* Does candidate c of the same name go before d, for a connection whose
 * address the lookup `seq` last gave: that lookup's addresses first, in its
 * order, then the others, those of later lookups first? */
static int before(const binding *c, const binding *d, unsigned long seq)
{
    if ((c->seq == seq) != (d->seq == seq))
        return c->seq == seq;
    return c->seq != d->seq ? c->seq > d->seq : c->rank < d->rank;
}

size_t llf_targets_others(const struct sockaddr *sa, const char *host, struct sockaddr_storage *out, size_t max)
{
    anyaddr lit;
    char h[256];
    if (host) {
        bare_host(host, h, sizeof h);
        if (literal(h, &lit))
            return 0;   /* (the program named the address itself) */
    }
    size_t n = 0;
    pthread_mutex_lock(&targets_lock);
    /* Whose name: the host the request names, else the one name alone
     * that gave sa (one of two names sharing an address may not take the
     * program's bytes to the other's servers). */
    const binding *me = host ? bound(h, sa) : NULL;
    if (!me)
        me = sole(sa);
    /* its other addresses on sa's port, best first (selected in turn:
     * only a failed connection asks) */
    const binding *last = NULL;
    while (me && n < max) {
        const binding *next = NULL;
        for (size_t i = 0; i < BINDINGS; i++) {
            const binding *b = &bindings[i];
            if (b == me || !b->seq || port_of(&b->a.sa) != port_of(sa) || !same_host(b->host, me->host) ||
                (last && !before(last, b, me->seq)) || (next && !before(b, next, me->seq)))
                continue;
            next = b;
        }
        if (!next)
            break;
        memset(&out[n], 0, sizeof out[n]);
        memcpy(&out[n++], &next->a, sizeof next->a);
        last = next;
    }
    pthread_mutex_unlock(&targets_lock);
    return n;
}
