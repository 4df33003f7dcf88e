/* gate.c — the shim's first look at names and addresses (see gate.h).
 *
 * The core knows the providers exactly, but loading it means loading
 * libcurl and its thirty libraries in a host without one: about 8 ms. The
 * gate knows less and costs nothing: the text of every base URL there can
 * be (the built-in ones, and the configuration file as it is, unparsed; a
 * base URL is in one or the other). A name or address it does not find
 * there cannot be a provider's. One it finds loads the core, which decides;
 * a false "maybe" costs only what every lookup cost before. */
#include "gate.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ascii.h"
#include "buf.h"
#include "builtins.h"
#include "core.h"
#include "netaddr.h"

static char *text;   /* NULL: say maybe to everything */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int before_host(char c)
{
    return c == '/' || c == '@' || c == '[' || c == '"' || isspace((unsigned char)c);
}

/* Where a URL's authority ends, seen from within it either way. */
static int authority_stop(char c)
{
    return c == '/' || c == '"' || isspace((unsigned char)c);
}

static int after_host(char c)
{
    return c == '\0' || c == ':' || c == '/' || c == ']' || c == '"' || c == '?' || c == '#' ||
           isspace((unsigned char)c);
}

/* The ASCII character a JSON escape \uXXXX at t stands for, or 0. */
static int ascii_escape(const char *t)
{
    int v = 0;
    if (t[0] != '\\' || t[1] != 'u')
        return 0;
    for (int i = 2; i < 6; i++) {
        if (!isxdigit((unsigned char)t[i]))
            return 0;
        v = v * 16 + (isdigit((unsigned char)t[i]) ? t[i] - '0' : llf_ascii_lower(t[i]) - 'a' + 10);
    }
    return v >= 0x20 && v < 0x7f ? v : 0;
}

void llf_gate_lower(char *t)
{
    /* (JSON may escape a slash, and PHP's json_encode does by default:
     * "https:\/\/llm.corp\/v1" is read by the core as the URL it is; so
     * may it any character, "\u0031\u0032\u0037.0.0.1"; an escaped
     * backslash escapes nothing after it) */
    char *o = t;
    for (; *t; t++) {
        int c = ascii_escape(t);
        if (c) {
            *o++ = (char)llf_ascii_lower(c);
            t += 5;
        } else if (t[0] == '\\' && t[1] == '\\') {
            *o++ = *t++;
        } else if (!(t[0] == '\\' && t[1] == '/')) {
            *o++ = (char)llf_ascii_lower(*t);   /* (hosts are ASCII: an IDN is its punycode) */
        }
    }
    *o = '\0';
}

/* The port of the URL whose host ends at e (its first byte after the host,
 * or after the ']' of an IPv6 literal) and starts at h: written, or its
 * scheme's; 0 unknown. */
static long url_port(const char *t, const char *h, const char *e)
{
    if (*e == ':' && isdigit((unsigned char)e[1]))
        return strtol(e + 1, NULL, 10);
    if (h - t >= 8 && strncasecmp(h - 8, "https://", 8) == 0)
        return 443;
    if (h - t >= 7 && strncasecmp(h - 7, "http://", 7) == 0)
        return 80;
    return 0;
}

int llf_gate_mentions(const char *t, const char *host, long port)
{
    char h[256];
    size_t n = host ? strlen(host) : 0;
    if (n && host[n - 1] == '.')
        n--;   /* (a fully qualified name) */
    if (!t || !n || n >= sizeof h)
        return 0;   /* (no name that long resolves) */
    for (size_t i = 0; i < n; i++)
        h[i] = (char)llf_ascii_lower(host[i]);
    h[n] = '\0';
    /* (strstr, not strcasestr: many times faster, and this runs in every
     * process that looks a name up; the text is in lower case) */
    for (const char *p = t; (p = strstr(p, h)) != NULL; p++) {
        size_t m = n + (p[n] == '.' && after_host(p[n + 1]));   /* (the text's own trailing dot) */
        if ((p != t && !before_host(p[-1])) || !after_host(p[m]))
            continue;
        /* Only a URL's host (the core takes no base URL without a scheme):
         * after its "://", a user@ or an IPv6 literal's '['. The same word
         * elsewhere, a provider's name, a model, a path, names no host, and
         * its lookup (a host named as a provider is, "vllm", "gateway")
         * must not load the core into a process that makes no call. */
        const char *q = p;
        if (q > t && q[-1] == '[')
            q--;
        if (q > t && q[-1] == '@')
            for (q--; q > t && !authority_stop(q[-1]);)
                q--;
        if (q - t < 3 || strncmp(q - 3, "://", 3) != 0)
            continue;
        const char *a = p + m;   /* (the user of a user@: an '@' before the authority's end) */
        while (*a && *a != '@' && !authority_stop(*a))
            a++;
        if (*a == '@')
            continue;
        int v6 = p != t && p[-1] == '[' && p[n] == ']';
        long u = url_port(t, v6 ? p - 1 : p, v6 ? p + n + 1 : p + m);
        if (!port || !u || u == port)
            return 1;
    }
    return 0;
}

int llf_gate_v6_forms(llf_buf *t)
{
    llf_buf more = {0};
    int rc = 0;
    for (const char *p = t->p ? t->p : ""; rc == 0 && (p = strstr(p, "://[")); p += 4) {
        const char *h = p + 4, *e = strchr(h, ']');
        char lit[INET6_ADDRSTRLEN + 1], std[INET6_ADDRSTRLEN], v4[INET_ADDRSTRLEN];
        struct in6_addr a;
        if (!e || (size_t)(e - h) >= sizeof lit)
            continue;
        memcpy(lit, h, (size_t)(e - h));
        lit[e - h] = '\0';
        if (inet_pton(AF_INET6, lit, &a) != 1 || !inet_ntop(AF_INET6, &a, std, sizeof std))
            continue;
        int mapped = IN6_IS_ADDR_V4MAPPED(&a) && inet_ntop(AF_INET, &a.s6_addr[12], v4, sizeof v4);
        if (!mapped && strcmp(std, lit) == 0)
            continue;
        const char *s = p;   /* (the scheme, which url_port reads a port from) */
        while (s > t->p && isalpha((unsigned char)s[-1]))
            s--;
        const char *port = e + 1;
        size_t pn = *port == ':' ? 1 + strspn(port + 1, "0123456789") : 0;
        rc = llf_buf_printf(&more, "\n%.*s://%s%s%s%.*s\n", (int)(p - s), s, mapped ? "" : "[", mapped ? v4 : std,
                            mapped ? "" : "]", (int)pn, port);
    }
    /* (after the string's end: llf_gate_lower shortens it in place) */
    if (rc == 0 && more.n && (t->n = strlen(t->p), llf_buf_add(t, more.p, more.n)))
        rc = -1;
    llf_buf_free(&more);
    return rc;
}

static void load(void)
{
#define URL(n, url, key, alt, model, d, needs) url "\n"
#define ALSO(n, url) url "\n"
    static const char builtin[] = LLF_BUILTIN_PROVIDERS(URL) LLF_BUILTIN_ALSO(ALSO);
#undef URL
#undef ALSO
    const char *path = getenv("LLMFALLBACK_CONFIG");
    llf_buf t = {0};
    if (llf_buf_add(&t, builtin, sizeof builtin - 1) ||
        /* (a pipe is read once, by the core: here it would be used up) */
        (path && *path && llf_buf_read_file(&t, path, LLF_CONFIG_MAX + sizeof builtin - 1, 1))) {
        llf_buf_free(&t);
        return;   /* unreadable (or no memory): maybe, always */
    }
    /* A NUL byte (the core refuses such a file, and says so where a call
     * loads it) is read past, not taken for the text's end. */
    for (char *p = t.p + sizeof builtin - 1; (p = memchr(p, '\0', (size_t)(t.p + t.n - p))); p++)
        *p = ' ';
    llf_gate_lower(t.p + sizeof builtin - 1);   /* (the built-in URLs are so already: test_gate) */
    if (llf_gate_v6_forms(&t)) {
        llf_buf_free(&t);
        return;   /* (no memory: maybe, always) */
    }
    text = t.p;
}

/* localhost, or an address written as text: names the core resolves
 * itself, so their lookup teaches it nothing, and connect(), which knows
 * the port, decides. A lookup of them without a port (Node's, always; any
 * getaddrinfo(host, NULL)) would otherwise match every provider on that
 * host, the built-in ollama's localhost:11434 among them, and load the
 * core and libcurl into a process that makes no LLM call. */
static int local_name(const char *node)
{
    char h[64];
    size_t n = strlen(node);
    if (n && node[n - 1] == '.')
        n--;
    if (n >= sizeof h)
        return 0;
    memcpy(h, node, n);
    h[n] = '\0';
    return llf_local_name(h);
}

int llf_gate_name(const char *node, const char *service)
{
    if (local_name(node))
        return 0;
    pthread_once(&once, load);
    if (!text)
        return 1;
    char *end;
    long port = service ? strtol(service, &end, 10) : 0;
    if (service && (end == service || *end))
        port = strcmp(service, "https") == 0 ? 443 : strcmp(service, "http") == 0 ? 80 : 0;
    return llf_gate_mentions(text, node, port > 0 && port < 65536 ? port : 0);
}

int llf_gate_addr(const struct sockaddr *sa, socklen_t len)
{
    pthread_once(&once, load);
    if (!text)
        return 1;
    char s[INET6_ADDRSTRLEN];
    int loop;
    long port;
    struct sockaddr_in v4;   /* (an IPv4-mapped address as the IPv4 one it is) */
    if (llf_addr_v4(sa, len, &v4)) {
        loop = (ntohl(v4.sin_addr.s_addr) >> 24) == 127;
        port = ntohs(v4.sin_port);
        inet_ntop(AF_INET, &v4.sin_addr, s, sizeof s);
    } else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        port = ntohs(a->sin6_port);
        loop = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
        inet_ntop(AF_INET6, &a->sin6_addr, s, sizeof s);
    } else {
        return 0;
    }
    return llf_gate_mentions(text, s, port) || (loop && llf_gate_mentions(text, "localhost", port));
}
