/* curl_info.h — what the program reads back of a managed call
 * (curl_easy_getinfo, curl_easy_header): the answer it was handed, not
 * whichever attempt ran last on its handle (the override, hstate.ov), and
 * the other getinfo items of the transfer that brought it (a snapshot). */
#ifndef LLF_CURL_INFO_H
#define LLF_CURL_INFO_H

#include "core.h"

typedef struct hstate hstate;   /* curl_handle.h */

/* What getinfo said of one transfer: each of curl_info.c's snap_items. */
typedef struct snapval {
    CURLINFO info;
    int ok;                           /* libcurl answered it */
    union { long l; double d; curl_off_t o; char *str; } v;   /* str: a copy */
} snapval;

typedef struct snapshot {
    /* CURLINFO_CERTINFO's chains, copied (certs_ok: libcurl answered, a
     * chain of none for a transfer without TLS). A pointer into the
     * handle would describe its next transfer, a member's. */
    int certs_ok;
    struct curl_certinfo certs;
    size_t n;
    snapval v[];   /* n of them: all of snap_items, or one */
} snapshot;

/* How many handles' overrides hold a snapshot (see curl_info.c). */
extern int llf_snaps_live;

/* A snapshot of the handle's last transfer (NULL with no memory), freed;
 * one item of it into getinfo's argument (0, or -1 when it has none). */
snapshot *llf_snap_take(CURL *h);
void llf_snap_free(snapshot *sn);
int llf_snap_answer(const snapshot *sn, CURLINFO info, void *arg);

/* The override (hstate.ov): cleared; set to what the program is given, with
 * a snapshot, or from the handle for one item; its head's lines parsed on
 * first need, and one of them as curl_easy_header hands it. */
void llf_ov_clear(hstate *s);
void llf_set_override(hstate *s, long code, long http_version, const char *url, const char *head,
                      size_t headlen, curl_off_t size, curl_off_t upload, double total_s);
void llf_ov_snap(hstate *s, snapshot *sn);
void llf_ov_from_handle(hstate *s, CURL *h, const llf_resp *r, const char *url, const char *head,
                        size_t headlen, double total_s);
void llf_ov_parse(hstate *s);
struct curl_header *llf_ov_header(hstate *s, size_t i, unsigned origin);

#endif
