/* curl_tls.c — the program's TLS options on the libcurl path, and a
 * member's in their place (see tls_opts). */
#include "curl_tls.h"

#include <stdlib.h>
#include <string.h>

#include "curl_handle.h"

static int ctxfn_seen;   /* a handle of the process set an SSL_CTX_FUNCTION */

/* The program's TLS options for its own server (not its proxy's, the
 * PROXY_* ones: the proxy is the program's whoever the member is). They
 * verify the program's provider as the program asked; a member is verified
 * with the library's trust instead, as on the relay path (its ca_bundle,
 * else libcurl's default; peer and host checked) and is shown none of the
 * program's identity (client certificate and key, TLS-SRP login) nor its
 * pins, CRL or issuer. libcurl has no option getters, so setopt records
 * the program's values (llf_tls_record); a member's attempt sets the library's
 * (llf_tls_member) and the next original attempt, or the end of the call, puts
 * the program's back (llf_tls_back). Running members on a handle of their own
 * would lose the program's proxy, limits, callbacks and pauses, which every
 * attempt here runs under. Options the program never set are libcurl's
 * defaults, the library's too, and are not touched (but CAINFO for a
 * configured ca_bundle). A connection or TLS session made under one trust
 * is not reused under the other: libcurl compares these options (its
 * Curl_ssl_config_matches) before it reuses either, but for the
 * SSL_CTX_FUNCTION (see llf_tls_member) and the key (the certificate with it
 * is compared). */
enum { TK_LONG, TK_STR, TK_BLOB, TK_FN };
static const struct {
    CURLoption o;
    int kind;
    long member;   /* TK_LONG: the library's (libcurl's default); others: none */
} tls_opts[] = {
    {CURLOPT_SSL_VERIFYPEER, TK_LONG, 1}, {CURLOPT_SSL_VERIFYHOST, TK_LONG, 2},
    {CURLOPT_SSL_VERIFYSTATUS, TK_LONG, 0}, {CURLOPT_SSL_OPTIONS, TK_LONG, 0},
    {CURLOPT_SSL_SESSIONID_CACHE, TK_LONG, 1},
    {CURLOPT_CAINFO, TK_STR, 0}, {CURLOPT_CAPATH, TK_STR, 0}, {CURLOPT_CAINFO_BLOB, TK_BLOB, 0},
    {CURLOPT_CRLFILE, TK_STR, 0}, {CURLOPT_ISSUERCERT, TK_STR, 0},
    {CURLOPT_ISSUERCERT_BLOB, TK_BLOB, 0}, {CURLOPT_PINNEDPUBLICKEY, TK_STR, 0},
    {CURLOPT_SSLCERT, TK_STR, 0}, {CURLOPT_SSLCERT_BLOB, TK_BLOB, 0},
    {CURLOPT_SSLKEY, TK_STR, 0}, {CURLOPT_SSLKEY_BLOB, TK_BLOB, 0},
    {CURLOPT_TLSAUTH_USERNAME, TK_STR, 0}, {CURLOPT_TLSAUTH_PASSWORD, TK_STR, 0},
    {CURLOPT_SSL_CTX_FUNCTION, TK_FN, 0},
};
_Static_assert(sizeof tls_opts / sizeof *tls_opts == NTLS, "NTLS is the size of tls_opts");

int llf_tls_index(CURLoption o)
{
    for (size_t i = 0; i < NTLS; i++)
        if (tls_opts[i].o == o)
            return (int)i;
    return -1;
}

struct curl_blob *llf_blob_copy(const struct curl_blob *b)
{
    struct curl_blob *c = b ? malloc(sizeof *c + b->len) : NULL;
    if (c) {
        if (b->len)
            memcpy(c + 1, b->data, b->len);
        c->data = c + 1;
        c->len = b->len;
        c->flags = CURL_BLOB_COPY;
    }
    return c;
}

/* A copy of the program's value p of tls_opts[i] (strings and blobs
 * copied: libcurl keeps a blob the program may free, and a string is the
 * program's); 0, or -1 with no memory. */
static int tls_copy(tlsval *v, size_t i, long l, const void *p)
{
    memset(v, 0, sizeof *v);
    switch (tls_opts[i].kind) {
    case TK_LONG: v->l = l; return 0;
    case TK_STR: v->str = p ? strdup(p) : NULL; return p && !v->str ? -1 : 0;
    case TK_BLOB: v->blob = llf_blob_copy(p); return p && !v->blob ? -1 : 0;
    default: v->fn = (void (*)(void))p; return 0;
    }
}

void llf_tls_free(hstate *s)
{
    for (size_t i = 0; i < NTLS; i++) {
        if (tls_opts[i].kind == TK_STR)
            free(s->tls[i].str);
        else if (tls_opts[i].kind == TK_BLOB)
            free(s->tls[i].blob);
        memset(&s->tls[i], 0, sizeof s->tls[i]);
    }
}

/* n's own copies of s's TLS values (n a copy of s, its pointers s's). */
void llf_tls_dup(hstate *n, const hstate *s)
{
    for (size_t i = 0; i < NTLS; i++) {
        int kind = tls_opts[i].kind;
        if (kind == TK_STR || kind == TK_BLOB) {
            const void *p = kind == TK_STR ? (const void *)s->tls[i].str : (const void *)s->tls[i].blob;
            if (tls_copy(&n->tls[i], i, 0, p)) {
                n->tls_set &= ~(1u << i);
                n->tls_lost = 1;
            }
        }
    }
}

/* Mirror of one TLS option the program set (libcurl accepted it). */
void llf_tls_record(hstate *s, int i, long l, const void *p)
{
    tlsval v;
    if (tls_copy(&v, (size_t)i, l, p)) {
        s->tls_lost = 1;
        return;
    }
    if (tls_opts[i].kind == TK_STR)
        free(s->tls[i].str);
    else if (tls_opts[i].kind == TK_BLOB)
        free(s->tls[i].blob);
    s->tls[i] = v;
    s->tls_set |= 1u << i;
    if (tls_opts[i].o == CURLOPT_SSL_CTX_FUNCTION && p)
        __atomic_store_n(&ctxfn_seen, 1, __ATOMIC_RELAXED);
}

/* libcurl's own CAINFO and CAPATH (CURLINFO_CAINFO, _CAPATH: the
 * built-in ones, whatever is set; 7.84 on), or 0 when it cannot say. */
static int ca_defaults(const llf_curl_api *rc, CURL *h, char **cainfo, char **capath)
{
    *cainfo = *capath = NULL;
    return rc->easy_getinfo(h, CURLINFO_CAINFO, cainfo) == CURLE_OK &&
           rc->easy_getinfo(h, CURLINFO_CAPATH, capath) == CURLE_OK;
}

static int tls_has_ctxfn(const hstate *s)
{
    int i = llf_tls_index(CURLOPT_SSL_CTX_FUNCTION);
    return (s->tls_set & 1u << i) && s->tls[i].fn;
}

/* What an SSL_CTX_FUNCTION did to a connection or a TLS session (trusted
 * anything, presented a certificate) is not among what libcurl compares
 * before reusing one: a member neither takes nor leaves either where one
 * could be such, on its own handle's or, through a share holding
 * connections or TLS sessions, on another's. */
static int apart_from_ctxfn(const hstate *s)
{
    return tls_has_ctxfn(s) || (__atomic_load_n(&ctxfn_seen, __ATOMIC_RELAXED) && s->share &&
                                llf_share_holds(s->share, SH_CONNECT | SH_SSL));
}

/* A member's TLS: the library's trust, none of the program's own (see
 * tls_opts). Only what the program set, and CAINFO for a ca_bundle, is
 * changed. A libcurl that cannot say its default CA file and path (before
 * 7.84) gets a ca_bundle only in place of a CA file of the program's (its
 * own default could not be put back), and no CA file or path where the
 * program set one and there is no ca_bundle: the member then fails, never
 * trusts what the program does. D_TLS when anything was changed. */
unsigned llf_tls_member(const llf_curl_api *rc, CURL *h, const hstate *s, const char *ca)
{
    char *cainfo, *capath;
    int known = ca_defaults(rc, h, &cainfo, &capath);
    int ci = llf_tls_index(CURLOPT_CAINFO), cp = llf_tls_index(CURLOPT_CAPATH);
    int ca_own = ca && known && !(s->tls_set & 1u << ci), apart = apart_from_ctxfn(s);
    if (!s->tls_set && !ca_own && !apart)
        return 0;   /* (the program's settings are libcurl's defaults) */
    for (size_t i = 0; i < NTLS; i++) {
        if (!(s->tls_set & 1u << i))
            continue;
        CURLoption o = tls_opts[i].o;
        switch (tls_opts[i].kind) {
        case TK_LONG: rc->easy_setopt(h, o, tls_opts[i].member); break;
        case TK_STR:
            rc->easy_setopt(h, o, (int)i == ci ? (ca ? ca : cainfo) : (int)i == cp ? capath : (char *)NULL);
            break;
        case TK_BLOB: rc->easy_setopt(h, o, (struct curl_blob *)NULL); break;
        default: rc->easy_setopt(h, o, (void (*)(void))NULL); break;
        }
    }
    if (ca_own)
        rc->easy_setopt(h, CURLOPT_CAINFO, ca);
    if (apart) {
        rc->easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        rc->easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
        rc->easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    }
    return D_TLS;
}

/* The program's TLS options back, as it set them (undoes llf_tls_member). */
void llf_tls_back(const llf_curl_api *rc, CURL *h, const hstate *s)
{
    char *cainfo, *capath;
    int known = ca_defaults(rc, h, &cainfo, &capath);
    int ci = llf_tls_index(CURLOPT_CAINFO), si = llf_tls_index(CURLOPT_SSL_SESSIONID_CACHE);
    for (size_t i = 0; i < NTLS; i++) {
        if (!(s->tls_set & 1u << i))
            continue;
        CURLoption o = tls_opts[i].o;
        switch (tls_opts[i].kind) {
        case TK_LONG: rc->easy_setopt(h, o, s->tls[i].l); break;
        case TK_STR: rc->easy_setopt(h, o, s->tls[i].str); break;
        case TK_BLOB: rc->easy_setopt(h, o, s->tls[i].blob); break;
        default: rc->easy_setopt(h, o, s->tls[i].fn); break;
        }
    }
    if (known && !(s->tls_set & 1u << ci))
        rc->easy_setopt(h, CURLOPT_CAINFO, cainfo);
    if (tls_has_ctxfn(s) || s->share) {   /* (apart_from_ctxfn's, or more: the program's own again) */
        rc->easy_setopt(h, CURLOPT_FRESH_CONNECT, s->fresh_connect);
        rc->easy_setopt(h, CURLOPT_FORBID_REUSE, s->forbid_reuse);
        rc->easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, s->tls_set & 1u << si ? s->tls[si].l : 1L);
    }
}
