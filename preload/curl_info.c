/* curl_info.c — what getinfo and curl_easy_header tell the program after a
 * managed call (see curl_info.h). */
#include "curl_info.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "curl_handle.h"
#include "hooks.h"

/* What curl_easy_getinfo said of one transfer, for the items that describe
 * it beyond its answer (the answer's own, its status, type, sizes, head, are
 * the override's: see ov). Taken of the original attempt when more than one
 * ran, so that a program handed the original failure reads that transfer,
 * not the last member's (the curl CLI's --retry waits by RETRY_AFTER). */
static const CURLINFO snap_items[] = {
    CURLINFO_EFFECTIVE_URL, CURLINFO_REDIRECT_URL, CURLINFO_PRIMARY_IP, CURLINFO_LOCAL_IP,
    CURLINFO_SCHEME, CURLINFO_EFFECTIVE_METHOD, CURLINFO_REFERER,
    CURLINFO_HTTP_CONNECTCODE, CURLINFO_REQUEST_SIZE, CURLINFO_SSL_VERIFYRESULT,
    CURLINFO_PROXY_SSL_VERIFYRESULT, CURLINFO_FILETIME, CURLINFO_REDIRECT_COUNT,
    CURLINFO_HTTPAUTH_AVAIL, CURLINFO_PROXYAUTH_AVAIL, CURLINFO_OS_ERRNO, CURLINFO_NUM_CONNECTS,
    CURLINFO_PRIMARY_PORT, CURLINFO_LOCAL_PORT, CURLINFO_CONDITION_UNMET, CURLINFO_PROXY_ERROR,
    CURLINFO_PROTOCOL,
    CURLINFO_RETRY_AFTER, CURLINFO_SIZE_UPLOAD_T, CURLINFO_SPEED_DOWNLOAD_T,
    CURLINFO_SPEED_UPLOAD_T, CURLINFO_FILETIME_T, CURLINFO_NAMELOOKUP_TIME_T,
    CURLINFO_CONNECT_TIME_T, CURLINFO_APPCONNECT_TIME_T, CURLINFO_PRETRANSFER_TIME_T,
    CURLINFO_STARTTRANSFER_TIME_T, CURLINFO_REDIRECT_TIME_T, CURLINFO_CONTENT_LENGTH_UPLOAD_T,
};
#define NSNAP (sizeof snap_items / sizeof *snap_items)

/* The double items, answered from their curl_off_t twins as libcurl
 * computes them (microseconds over a million, or the same count), not
 * asked for again: a snapshot is taken on every failover. */
static const struct {
    CURLINFO d, o;
    double per;
} snap_twins[] = {
    {CURLINFO_NAMELOOKUP_TIME, CURLINFO_NAMELOOKUP_TIME_T, 1e6},
    {CURLINFO_CONNECT_TIME, CURLINFO_CONNECT_TIME_T, 1e6},
    {CURLINFO_APPCONNECT_TIME, CURLINFO_APPCONNECT_TIME_T, 1e6},
    {CURLINFO_PRETRANSFER_TIME, CURLINFO_PRETRANSFER_TIME_T, 1e6},
    {CURLINFO_STARTTRANSFER_TIME, CURLINFO_STARTTRANSFER_TIME_T, 1e6},
    {CURLINFO_REDIRECT_TIME, CURLINFO_REDIRECT_TIME_T, 1e6},
    {CURLINFO_SPEED_DOWNLOAD, CURLINFO_SPEED_DOWNLOAD_T, 1},
    {CURLINFO_SPEED_UPLOAD, CURLINFO_SPEED_UPLOAD_T, 1},
    {CURLINFO_SIZE_UPLOAD, CURLINFO_SIZE_UPLOAD_T, 1},
    {CURLINFO_CONTENT_LENGTH_UPLOAD, CURLINFO_CONTENT_LENGTH_UPLOAD_T, 1},
};

/* How many handles' overrides hold a snapshot: getinfo looks for one only
 * then (most programs never have one). */
int llf_snaps_live;

void llf_snap_free(snapshot *sn)
{
    if (!sn)
        return;
    for (int i = 0; i < sn->certs.num_of_certs; i++)
        llf_real_curl()->slist_free_all(sn->certs.certinfo[i]);
    free(sn->certs.certinfo);
    for (size_t i = 0; i < sn->n; i++)
        if (((int)sn->v[i].info & CURLINFO_TYPEMASK) == CURLINFO_STRING)
            free(sn->v[i].v.str);
    free(sn);
}

/* The handle's CURLINFO_CERTINFO into sn, copied; none (certs_ok 0) when
 * libcurl does not answer or memory runs out. */
static void snap_certs(const llf_curl_api *rc, CURL *h, snapshot *sn)
{
    struct curl_certinfo *ci = NULL;
    sn->certs_ok = 0;
    sn->certs = (struct curl_certinfo){0, NULL};
    if (rc->easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci)
        return;
    if (ci->num_of_certs > 0 && ci->certinfo) {
        if (!(sn->certs.certinfo = calloc((size_t)ci->num_of_certs, sizeof *sn->certs.certinfo)))
            return;
        for (; sn->certs.num_of_certs < ci->num_of_certs; sn->certs.num_of_certs++) {
            struct curl_slist **to = &sn->certs.certinfo[sn->certs.num_of_certs];
            for (const struct curl_slist *l = ci->certinfo[sn->certs.num_of_certs]; l; l = l->next) {
                struct curl_slist *more = rc->slist_append(*to, l->data);
                if (!more) {
                    sn->certs.num_of_certs++;   /* (freed with the rest) */
                    return;
                }
                *to = more;
            }
        }
    }
    sn->certs_ok = 1;
}

/* Each snap_items entry as the handle describes its last transfer now.
 * NULL with no memory. */
snapshot *llf_snap_take(CURL *h)
{
    const llf_curl_api *rc = llf_real_curl();
    snapshot *sn = malloc(sizeof *sn + NSNAP * sizeof sn->v[0]);   /* (calloc skips the thread cache) */
    if (!sn)
        return NULL;
    sn->n = 0;
    snap_certs(rc, h, sn);
    for (size_t i = 0; i < NSNAP; i++) {
        snapval *v = &sn->v[sn->n++];
        v->info = snap_items[i];
        v->v.str = NULL;
        if (((int)v->info & CURLINFO_TYPEMASK) == CURLINFO_STRING) {
            char *str = NULL;
            v->ok = rc->easy_getinfo(h, v->info, &str) == CURLE_OK;
            if (v->ok && str && !(v->v.str = strdup(str)))
                v->ok = 0;
        } else {
            v->ok = rc->easy_getinfo(h, v->info, &v->v) == CURLE_OK;
        }
    }
    return sn;
}

/* One item of a snapshot into getinfo's argument; 0, or -1 when it has none. */
int llf_snap_answer(const snapshot *sn, CURLINFO info, void *arg)
{
    if (info == CURLINFO_CERTINFO) {
        if (!sn->certs_ok)
            return -1;
        *(const struct curl_certinfo **)arg = &sn->certs;
        return 0;
    }
    for (size_t k = 0; k < sizeof snap_twins / sizeof *snap_twins; k++) {
        curl_off_t o;
        if (snap_twins[k].d != info)
            continue;
        if (llf_snap_answer(sn, snap_twins[k].o, &o) != 0)
            return -1;
        *(double *)arg = (double)o / snap_twins[k].per;
        return 0;
    }
    for (size_t i = 0; i < sn->n; i++) {
        const snapval *v = &sn->v[i];
        if (v->info != info)
            continue;
        if (!v->ok)
            return -1;
        switch ((int)info & CURLINFO_TYPEMASK) {
        case CURLINFO_STRING: *(char **)arg = v->v.str; break;
        case CURLINFO_LONG: *(long *)arg = v->v.l; break;
        case CURLINFO_DOUBLE: *(double *)arg = v->v.d; break;
        case CURLINFO_OFF_T: *(curl_off_t *)arg = v->v.o; break;
        default: return -1;
        }
        return 0;
    }
    return -1;
}

void llf_ov_clear(hstate *s)
{
    if (s->ov.snap)
        __atomic_sub_fetch(&llf_snaps_live, 1, __ATOMIC_SEQ_CST);
    llf_snap_free(s->ov.snap);
    free(s->ov.ctype);
    free(s->ov.url);
    llf_buf_free(&s->ov.head);
    llf_buf_free(&s->ov.trailers);
    for (size_t i = 0; i < s->ov.nh; i++) {
        free(s->ov.names[i]);
        free(s->ov.values[i]);
    }
    free(s->ov.names);
    free(s->ov.values);
    free(s->ov.origins);
    memset(&s->ov, 0, sizeof s->ov);
}

/* Remember what the program is given (code: its status, 0 for none), so
 * that getinfo and curl_easy_header describe it rather than the handle's
 * last attempt. */
void llf_set_override(hstate *s, long code, long http_version, const char *url, const char *head,
                      size_t headlen, curl_off_t size, curl_off_t upload, double total_s)
{
    llf_ov_clear(s);
    s->ov.active = 1;
    s->ov.code = code;
    s->ov.http_version = http_version;
    s->ov.header_size = (long)headlen;
    s->ov.size = size;
    s->ov.upload = upload;
    s->ov.total_s = total_s;
    s->ov.clen = -1;
    s->ov.url = strdup(url);
    llf_buf_add(&s->ov.head, head ? head : "", headlen);
}

void llf_ov_snap(hstate *s, snapshot *sn)
{
    if (!sn)
        return;
    if (s->ov.snap)
        __atomic_sub_fetch(&llf_snaps_live, 1, __ATOMIC_SEQ_CST);
    llf_snap_free(s->ov.snap);
    s->ov.snap = sn;
    __atomic_add_fetch(&llf_snaps_live, 1, __ATOMIC_SEQ_CST);
}

static int ov_add_header(hstate *s, const char *line, size_t n, unsigned origin)
{
    const char *colon = memchr(line, ':', n);
    if (!colon)
        return 0;
    size_t vl;
    const char *v = llf_trim(colon + 1, line + n, &vl);
    char **nn = realloc(s->ov.names, (s->ov.nh + 1) * sizeof *nn);
    if (!nn)
        return -1;
    s->ov.names = nn;
    char **vv = realloc(s->ov.values, (s->ov.nh + 1) * sizeof *vv);
    if (!vv)
        return -1;
    s->ov.values = vv;
    unsigned *oo = realloc(s->ov.origins, (s->ov.nh + 1) * sizeof *oo);
    if (!oo)
        return -1;
    s->ov.origins = oo;
    nn[s->ov.nh] = strndup(line, (size_t)(colon - line));
    vv[s->ov.nh] = strndup(v, vl);
    oo[s->ov.nh] = origin;
    if (!nn[s->ov.nh] || !vv[s->ov.nh]) {
        free(nn[s->ov.nh]);
        free(vv[s->ov.nh]);
        return -1;
    }
    if (origin != CURLH_HEADER) {
        /* (a trailer is neither the content's type nor its length) */
    } else if (strcasecmp(nn[s->ov.nh], "content-type") == 0) {
        free(s->ov.ctype);
        s->ov.ctype = strdup(vv[s->ov.nh]);
    } else if (strcasecmp(nn[s->ov.nh], "content-length") == 0) {
        s->ov.clen = strtoll(vv[s->ov.nh], NULL, 10);
    }
    s->ov.nh++;
    return 0;
}

/* The delivered head's last block as names and values, made when the
 * program first asks for a header, its content type or length: most
 * programs never do, and splitting it on every call was a measurable share
 * of a fallback's cost. */
void llf_ov_parse(hstate *s)
{
    if (s->ov.parsed || !s->ov.head.p)
        return;
    s->ov.parsed = 1;
    const char *line = strchr(llf_head_last_block(s->ov.head.p, s->ov.head.n), '\n');
    for (line = line ? line + 1 : NULL; line && *line && *line != '\r' && *line != '\n';) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (ov_add_header(s, line, n, CURLH_HEADER))
            return;
        line = nl ? nl + 1 : NULL;
    }
    /* The trailers after them, as libcurl lists them (origin CURLH_TRAILER). */
    for (line = s->ov.trailers.p; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (ov_add_header(s, line, n, CURLH_TRAILER))
            return;
        line = nl ? nl + 1 : NULL;
    }
}

/* A call of one attempt leaves getinfo to the handle, which describes it;
 * to tell the program otherwise of one item, the override takes over, with
 * the rest as the handle has it. */
void llf_ov_from_handle(hstate *s, CURL *h, const llf_resp *r, const char *url, const char *head,
                        size_t headlen, double total_s)
{
    if (s->ov.active)
        return;
    curl_off_t up = 0;
    llf_real_curl()->easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
    llf_set_override(s, r->status, r->http_version, url, head, headlen, (curl_off_t)r->body.n, up, total_s);
    llf_ov_snap(s, llf_snap_take(h));
}

/* Fill the handle's curl_header for header i of the delivered block: its
 * index and amount among those of its name that the origin mask takes, as
 * libcurl counts them. */
struct curl_header *llf_ov_header(hstate *s, size_t i, unsigned origin)
{
    size_t amount = 0, index = 0;
    for (size_t k = 0; k < s->ov.nh; k++)
        if ((s->ov.origins[k] & origin) && strcasecmp(s->ov.names[k], s->ov.names[i]) == 0) {
            if (k < i)
                index++;
            amount++;
        }
    s->ov.hout = (struct curl_header){s->ov.names[i], s->ov.values[i], amount, index,
                                      s->ov.origins[i], (void *)(uintptr_t)i};
    return &s->ov.hout;
}
