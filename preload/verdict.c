/* verdict.c — judging responses (see verdict.h).
 *
 * Transport failures and the statuses that mean "this provider cannot answer
 * now" (408, 429, 5xx, 529) or "cannot answer us" (401, 402, 403, and a
 * 404/410 that names the model) are worth a fallback; a plain 400 is the
 * request's own fault and goes back to the program unchanged. A 2xx must have
 * its dialect's shape. */
#include "verdict.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

extern const llf_curl_api *llf_curl;

const char *llf_outcome_name(llf_outcome o)
{
    static const char *const names[] = {"ok",    "http_error", "transport_error", "invalid_body",
                                        "empty", "refusal",    "schema",          "truncated"};
    return (unsigned)o < sizeof names / sizeof names[0] ? names[o] : "unknown";
}

/* The last header block starts at the last status line. */
static const char *last_block(const llf_buf *head)
{
    const char *start = head->p ? head->p : "";
    for (const char *p = start; p && *p;) {
        if (strncmp(p, "HTTP/", 5) == 0)
            start = p;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return start;
}

const char *llf_head_get(const llf_buf *head, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (const char *p = last_block(head); p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        if (n > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            const char *e = p + n;
            while (v < e && (*v == ' ' || *v == '\t'))
                v++;
            while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
                e--;
            *len = (size_t)(e - v);
            return v;
        }
        p = eol ? eol + 1 : NULL;
    }
    return NULL;
}

long llf_retry_after_ms(const llf_buf *head, time_t now)
{
    size_t n;
    char tmp[64];
    const char *v = llf_head_get(head, "retry-after-ms", &n);
    if (v && n && n < sizeof tmp) {
        memcpy(tmp, v, n);
        tmp[n] = '\0';
        char *end;
        double ms = strtod(tmp, &end);
        if (*end == '\0' && ms >= 0 && ms < 86400e3)
            return (long)ms;
    }
    v = llf_head_get(head, "retry-after", &n);
    if (!v || !n || n >= sizeof tmp)
        return -1;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    char *end;
    long s = strtol(tmp, &end, 10);
    if (*end == '\0' && end != tmp)
        return s >= 0 && s < 86400 ? s * 1000 : -1;
    time_t when = llf_curl && llf_curl->getdate ? llf_curl->getdate(tmp, NULL) : (time_t)-1;
    if (when == (time_t)-1)
        return -1;
    return when <= now ? 0 : (long)(when - now) * 1000;
}

static llf_verdict transport(const llf_resp *r)
{
    llf_verdict v = {LLF_TRANSPORT_ERROR, "transport", 1, -1};
    switch (r->curlcode) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: v.reason = "resolve"; break;
    case CURLE_COULDNT_CONNECT: v.reason = "connect"; break;
    case CURLE_OPERATION_TIMEDOUT: v.reason = r->first_byte_timeout ? "first_byte_timeout" : "timeout"; break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH: v.reason = "tls"; break;
    case CURLE_SEND_ERROR: v.reason = "send"; break;
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3: v.reason = "recv"; break;
    case CURLE_GOT_NOTHING: v.reason = "empty_reply"; break;
    case CURLE_WEIRD_SERVER_REPLY: v.reason = "bad_reply"; break;
    case CURLE_ABORTED_BY_CALLBACK:
        /* Ours when the first byte never came; the program's own otherwise. */
        v.reason = r->first_byte_timeout ? "first_byte_timeout" : "aborted";
        v.fallback = r->first_byte_timeout;
        break;
    default:
        /* The program's doing (write/read callback errors, bad options):
         * another provider would fail the same way. */
        v.reason = "local";
        v.fallback = 0;
        break;
    }
    return v;
}

static int names_model(const llf_resp *r, const char *model)
{
    const char *b = r->body.p ? r->body.p : "";
    return (model && *model && strstr(b, model)) || strstr(b, "model_not_found") ||
           strstr(b, "model:");
}

llf_verdict llf_judge(llf_dialect d, const char *model, int stream, const llf_resp *r, time_t now)
{
    llf_verdict v = {LLF_OK, "ok", 0, -1};
    if (r->curlcode != CURLE_OK)
        return transport(r);
    long s = r->status;
    if (s < 200 || s >= 300) {
        v.outcome = LLF_HTTP_ERROR;
        v.fallback = 1;
        switch (s) {
        case 408: v.reason = "timeout"; break;
        case 429: v.reason = "rate_limited"; break;
        case 503:
        case 529: v.reason = "overloaded"; break;
        case 401: v.reason = "auth"; break;
        case 402: v.reason = "billing"; break;
        case 403: v.reason = "forbidden"; break;
        case 404:
        case 410:
            v.fallback = names_model(r, model);
            v.reason = v.fallback ? "model_not_found" : "not_found";
            break;
        default:
            if (s >= 500 && s < 600) {
                v.reason = "server_error";
            } else {
                v.reason = s >= 400 ? "client_error" : "not_final";
                v.fallback = 0;
            }
        }
        if (s == 429 || s == 503 || s == 529)
            v.retry_after_ms = llf_retry_after_ms(&r->head, now);
        return v;
    }
    if (stream)
        return v;   /* a stream is judged by its status until streams are parsed */
    if (r->body.n == 0) {
        v = (llf_verdict){LLF_INVALID_BODY, "empty_body", 1, -1};
        return v;
    }
    cJSON *j = cJSON_ParseWithLength(r->body.p, r->body.n);
    if (!j) {
        v = (llf_verdict){LLF_INVALID_BODY, "not_json", 1, -1};
    } else if (!cJSON_IsObject(j) || !llf_dialect_ops_of(d)->success_shape(j)) {
        v = (llf_verdict){LLF_INVALID_BODY, "wrong_shape", 1, -1};
    }
    cJSON_Delete(j);
    return v;
}
