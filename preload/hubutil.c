/* hubutil.c — cJSON helpers shared by the dialect translators (see hubutil.h). */
#include "hubutil.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "dialect.h"
#include "forklock.h"

const cJSON *llf_get(const cJSON *o, const char *key)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

const char *llf_get_str(const cJSON *o, const char *key)
{
    const cJSON *v = llf_get(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void llf_drop_nulls(cJSON *o)
{
    for (cJSON *k = cJSON_IsObject(o) ? o->child : NULL, *next; k; k = next) {
        next = k->next;
        if (cJSON_IsNull(k))
            cJSON_Delete(cJSON_DetachItemViaPointer(o, k));
    }
}

int llf_names_error(const cJSON *o)
{
    const cJSON *e = llf_get(o, "error");
    return e && !cJSON_IsNull(e) && !cJSON_IsFalse(e) && !(cJSON_IsString(e) && !*e->valuestring);
}

int llf_add(cJSON *o, const char *key, cJSON *item)
{
    if (!item)
        return -1;
    if (!cJSON_AddItemToObject(o, key, item)) {
        cJSON_Delete(item);
        return -1;
    }
    return 0;
}

int llf_append(cJSON *arr, cJSON *item)
{
    if (!item)
        return -1;
    if (!cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        return -1;
    }
    return 0;
}

int llf_add_own(cJSON *o, const char *key, cJSON **item)
{
    cJSON *it = *item;
    *item = NULL;
    return llf_add(o, key, it);
}

int llf_append_own(cJSON *arr, cJSON **item)
{
    cJSON *it = *item;
    *item = NULL;
    return llf_append(arr, it);
}

int llf_copy(cJSON *dst, const char *dkey, const cJSON *src, const char *key)
{
    const cJSON *v = llf_get(src, key);
    return v && !cJSON_IsNull(v) ? llf_add(dst, dkey, cJSON_Duplicate(v, 1)) : 0;
}

cJSON *llf_text_part(const char *t)
{
    cJSON *p = cJSON_CreateObject();
    if (!p || llf_add(p, "type", cJSON_CreateString("text")) || llf_add(p, "text", cJSON_CreateString(t))) {
        cJSON_Delete(p);
        return NULL;
    }
    return p;
}

cJSON *llf_image_part(const char *url)
{
    cJSON *p = cJSON_CreateObject(), *iu = cJSON_CreateObject();
    if (!p || !iu || llf_add(p, "type", cJSON_CreateString("image_url")) ||
        llf_add(iu, "url", cJSON_CreateString(url)) || llf_add_own(p, "image_url", &iu)) {
        cJSON_Delete(iu);
        cJSON_Delete(p);
        return NULL;
    }
    return p;
}

cJSON *llf_pdf_part(const char *filename, const char *b64)
{
    llf_buf url = {0};
    cJSON *p = cJSON_CreateObject(), *f = cJSON_CreateObject();
    int ok = p && f && !llf_buf_cats(&url, "data:application/pdf;base64,", b64, (char *)NULL) &&
             !llf_add(p, "type", cJSON_CreateString("file")) &&
             !llf_add(f, "filename", cJSON_CreateString(filename)) &&
             !llf_add(f, "file_data", cJSON_CreateString(url.p)) && !llf_add_own(p, "file", &f);
    llf_buf_free(&url);
    if (!ok) {
        cJSON_Delete(f);
        cJSON_Delete(p);
        return NULL;
    }
    return p;
}

const char *llf_pdf_data(const cJSON *part, const char **filename)
{
    static const char pdf[] = "application/pdf";
    const char *type = llf_get_str(part, "type"), *mime, *data;
    const cJSON *f = llf_get(part, "file");
    size_t ml;
    if (!type || strcmp(type, "file") || !llf_data_url(llf_get_str(f, "file_data"), &mime, &ml, &data))
        return NULL;
    size_t n = strcspn(mime, ";");   /* (the type's parameters, if any, are not its name) */
    if ((n < ml ? n : ml) != sizeof pdf - 1 || strncasecmp(mime, pdf, sizeof pdf - 1))
        return NULL;
    *filename = llf_get_str(f, "filename");
    return data;
}

char *llf_content_text(const cJSON *content, const char *sep)
{
    if (cJSON_IsString(content))
        return llf_strdup(content->valuestring);
    llf_buf b = {0};
    int first = 1;
    for (const cJSON *p = cJSON_IsArray(content) ? content->child : NULL; p; p = p->next) {
        const char *t = llf_get_str(p, "text");
        const char *type = llf_get_str(p, "type");
        if (!t || (type && strcmp(type, "text") != 0))
            continue;
        if ((!first && llf_buf_adds(&b, sep)) || llf_buf_adds(&b, t)) {
            llf_buf_free(&b);
            return NULL;
        }
        first = 0;
    }
    return llf_buf_steal(&b);
}

const char *llf_content_other(const cJSON *content)
{
    for (const cJSON *p = cJSON_IsArray(content) ? content->child : NULL; p; p = p->next) {
        const char *type = llf_get_str(p, "type");
        if (!type || strcmp(type, "text"))
            return type ? type : "?";
    }
    return NULL;
}

int llf_content_flatten(cJSON *o, int empty_null)
{
    if (!cJSON_IsArray(llf_get(o, "content")))
        return 0;
    char *t = llf_content_text(llf_get(o, "content"), "");
    cJSON *s = !t ? NULL : *t || !empty_null ? cJSON_CreateString(t) : cJSON_CreateNull();
    free(t);
    if (!s || !cJSON_ReplaceItemInObjectCaseSensitive(o, "content", s)) {
        cJSON_Delete(s);
        return -1;
    }
    return 0;
}

/* (Written here, as rewrite.c writes its encoder: the core links no
 * OpenSSL, whose EVP_DecodeBlock this would be.) */
static int b64_value(unsigned char c)
{
    return c >= 'A' && c <= 'Z'   ? c - 'A'
           : c >= 'a' && c <= 'z' ? c - 'a' + 26
           : c >= '0' && c <= '9' ? c - '0' + 52
           : c == '+'             ? 62
           : c == '/'             ? 63
                                  : -1;
}

size_t llf_b64_decode(llf_b64 *st, const char **p, const char *end, unsigned char *out, size_t cap)
{
    size_t n = 0;
    const char *s = *p;
    while (n < cap && s < end) {
        unsigned char c = (unsigned char)*s;
        int v = b64_value(c);
        if (v < 0 && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
            s++;
            continue;
        }
        if (v < 0)
            break;
        s++;
        st->acc = (st->acc << 6 | (unsigned)v) & 0xffffff;
        if ((st->bits += 6) >= 8) {
            st->bits -= 8;
            out[n++] = (unsigned char)(st->acc >> st->bits);
        }
    }
    *p = s;
    return n;
}

int llf_data_url(const char *url, const char **mime, size_t *mimelen, const char **data)
{
    if (!url || strncmp(url, "data:", 5) != 0)
        return 0;
    const char *m = url + 5;
    const char *b64 = strstr(m, ";base64,");
    if (!b64)
        return 0;
    *mime = m;
    *mimelen = (size_t)(b64 - m);
    *data = b64 + 8;
    return 1;
}

void llf_gemini_made_id(char out[24])
{
    static uint64_t count;
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        /* (no entropy yet, early at boot: unique in this process, and
         * unlikely to meet another's) */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ ((uint64_t)getpid() << 40) ^
            (__atomic_add_fetch(&count, 1, __ATOMIC_RELAXED) * 0x9e3779b97f4a7c15u);
    }
    snprintf(out, 24, "gemini-%016llx", (unsigned long long)r);
}

void llf_gemini_call_id(char *out, size_t size, const char *response_id, int n)
{
    char rid[48];
    size_t k = 0;
    for (const char *p = response_id ? response_id : ""; *p && k < sizeof rid - 1; p++)
        if (llf_name_byte(*p))
            rid[k++] = *p;
    rid[k] = 0;
    snprintf(out, size, k ? "call_%s_%d" : "call_%s%d", rid, n);
}

void llf_short_hash(const char *s, char out[33])
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    unsigned long long a = 14695981039346656037ULL, b = a;
    for (size_t i = 0; i < len; i++) {
        a = (a ^ p[i]) * 1099511628211ULL;
        b = (b ^ p[len - 1 - i]) * 1099511628211ULL;
    }
    snprintf(out, 33, "%016llx%016llx", a, b);
}

const char *llf_gemini_finish(const char *f, int calls)
{
    if (f && !strcmp(f, "MAX_TOKENS"))
        return "length";
    if (f && (!strcmp(f, "SAFETY") || !strcmp(f, "RECITATION") || !strcmp(f, "PROHIBITED_CONTENT") ||
              !strcmp(f, "BLOCKLIST") || !strcmp(f, "SPII") || !strcmp(f, "IMAGE_SAFETY")))
        return "content_filter";
    return calls ? "tool_calls" : "stop";
}

const char *llf_anthropic_finish(const char *s)
{
    /* a full context window cut the answer short, as max_tokens does */
    if (s && (!strcmp(s, "max_tokens") || !strcmp(s, "model_context_window_exceeded")))
        return "length";
    return !s                             ? "stop"
           : !strcmp(s, "tool_use")       ? "tool_calls"
           : !strcmp(s, "refusal")        ? "content_filter"
                                          : "stop";
}

double llf_anthropic_input(const cJSON *usage)
{
    static const char *const ins[] = {"input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"};
    double in = -1;
    for (size_t i = 0; i < 3; i++)
        if (cJSON_IsNumber(llf_get(usage, ins[i])))
            in = (in < 0 ? 0 : in) + llf_get(usage, ins[i])->valuedouble;
    return in;
}

double llf_num(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = llf_get(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

double llf_hub_cached(const cJSON *usage)
{
    return llf_num(llf_get(usage, "prompt_tokens_details"), "cached_tokens", -1);
}

double llf_hub_reasoning(const cJSON *usage)
{
    return llf_num(llf_get(usage, "completion_tokens_details"), "reasoning_tokens", -1);
}

/* o[outer][key] = v when v >= 0. 0, -1. */
static int add_detail(cJSON *o, const char *outer, const char *key, double v)
{
    if (v < 0)
        return 0;
    cJSON *d = cJSON_CreateObject();
    int rc = !d || llf_add(d, key, cJSON_CreateNumber(v)) || llf_add_own(o, outer, &d) ? -1 : 0;
    cJSON_Delete(d);   /* (NULL once added) */
    return rc;
}

cJSON *llf_hub_usage(double in, double out, double total, double cached, double reasoning)
{
    cJSON *u = cJSON_CreateObject();
    if (!u || llf_add(u, "prompt_tokens", cJSON_CreateNumber(in)) ||
        llf_add(u, "completion_tokens", cJSON_CreateNumber(out)) ||
        llf_add(u, "total_tokens", cJSON_CreateNumber(total)) ||
        add_detail(u, "prompt_tokens_details", "cached_tokens", cached) ||
        add_detail(u, "completion_tokens_details", "reasoning_tokens", reasoning)) {
        cJSON_Delete(u);
        return NULL;
    }
    return u;
}

/* A part no greater than its whole (a member's inconsistent count must not
 * make another dialect's parts negative or their sum change). */
static double part_of(double part, double whole)
{
    return part < 0 ? -1 : part > whole ? (whole < 0 ? 0 : whole) : part;
}

int llf_anthropic_usage_input(cJSON *u, double in, double cached)
{
    cached = part_of(cached, in);
    return llf_add(u, "input_tokens", cJSON_CreateNumber(cached < 0 ? in : in - cached)) ||
                   (cached >= 0 && llf_add(u, "cache_read_input_tokens", cJSON_CreateNumber(cached)))
               ? -1
               : 0;
}

cJSON *llf_gemini_usage(double in, double out, double total, double cached, double reasoning)
{
    cJSON *um = cJSON_CreateObject();
    cached = part_of(cached, in);
    reasoning = part_of(reasoning, out);
    if (!um || llf_add(um, "promptTokenCount", cJSON_CreateNumber(in)) ||
        llf_add(um, "candidatesTokenCount", cJSON_CreateNumber(reasoning < 0 ? out : out - reasoning)) ||
        llf_add(um, "totalTokenCount", cJSON_CreateNumber(total)) ||
        (cached >= 0 && llf_add(um, "cachedContentTokenCount", cJSON_CreateNumber(cached))) ||
        (reasoning >= 0 && llf_add(um, "thoughtsTokenCount", cJSON_CreateNumber(reasoning)))) {
        cJSON_Delete(um);
        return NULL;
    }
    return um;
}

cJSON *llf_hub_tool_call(const char *id, const char *name, const cJSON *args)
{
    char *a = args ? cJSON_PrintUnformatted(args) : llf_strdup("{}");
    cJSON *c = cJSON_CreateObject(), *f = cJSON_CreateObject();
    int ok = a && c && f && !llf_add(c, "id", cJSON_CreateString(id ? id : "")) &&
             !llf_add(c, "type", cJSON_CreateString("function")) &&
             !llf_add(f, "name", cJSON_CreateString(name ? name : "")) &&
             !llf_add(f, "arguments", cJSON_CreateString(a)) && !llf_add_own(c, "function", &f);
    free(a);
    cJSON_Delete(f);
    if (!ok) {
        cJSON_Delete(c);
        return NULL;
    }
    return c;
}

double llf_now_s(void)
{
    return (double)time(NULL);
}

/* The pid, refreshed in a forked child by an atfork handler. getpid() is a
 * system call (1.2 to 1.6 us on a VM with today's mitigations), and the
 * engine and the attempt budget ask on every call and extra attempt. (A
 * vfork child shares the parent's memory and makes no call before it
 * execs or exits.) */
static int self_pid;
static pthread_once_t self_once = PTHREAD_ONCE_INIT;

static void refresh_pid(void)
{
    __atomic_store_n(&self_pid, (int)getpid(), __ATOMIC_RELAXED);
}

static void watch_forks(void)
{
    refresh_pid();
    llf_fork_chain(NULL, NULL, refresh_pid, NULL);
}

int llf_self_pid(void)
{
    pthread_once(&self_once, watch_forks);
    return __atomic_load_n(&self_pid, __ATOMIC_RELAXED);
}

double llf_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

long llf_num_long(double v)
{
    if (!(v == v))
        return 0;
    return v > 1e15 ? 1000000000000000L : v < -1e15 ? -1000000000000000L : (long)v;
}

/* Skip a JSON string token starting at p[i] == '"'; the index after it, or
 * 0 when it does not end. */
static size_t skip_string(const char *p, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (p[i] == '\\')
            i++;
        else if (p[i] == '"')
            return i + 1;
    }
    return 0;
}

static size_t skip_ws(const char *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

/* cJSON keeps no source positions, so finding where a member's value lies in
 * the text takes this scan: strings skipped whole, nesting counted, keys
 * compared only at the top level. For text cJSON has already accepted. */
int llf_json_top_string(const char *p, size_t n, const char *key, size_t *start, size_t *end)
{
    size_t kl = strlen(key), i = skip_ws(p, n, 0);
    int depth = 0, expect_key = 0;
    if (i >= n || p[i] != '{')
        return 0;
    for (; i < n; i++) {
        char ch = p[i];
        if (ch == '"') {
            size_t e = skip_string(p, n, i);
            if (!e)
                return 0;
            if (depth == 1 && expect_key) {
                if (memchr(p + i, '\\', e - i) || memchr(p + i, '\0', e - i))
                    return 0;   /* an escaped key could be this one, and one cJSON cuts at a NUL */
                size_t colon = skip_ws(p, n, e);
                if (colon >= n || p[colon] != ':')
                    return 0;
                size_t v = skip_ws(p, n, colon + 1);
                if (e - i == kl + 2 && memcmp(p + i + 1, key, kl) == 0) {
                    if (v >= n || p[v] != '"')
                        return 0;
                    *start = v;
                    *end = skip_string(p, n, v);
                    return *end != 0;
                }
                expect_key = 0;
                i = colon;   /* the value follows */
                continue;
            }
            i = e - 1;
        } else if (ch == '{' || ch == '[') {
            depth++;
            expect_key = ch == '{' && depth == 1;
        } else if (ch == '}' || ch == ']') {
            depth--;
            if (depth <= 0)
                return 0;
        } else if (ch == ',' && depth == 1) {
            expect_key = 1;
        }
    }
    return 0;
}

const char *llf_json_trailing(const char *end, const char *limit)
{
    for (const char *q = end; q && q < limit; q++)
        if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r')
            return q;
    return NULL;
}

/* parse(p, n) as exactly one JSON value: nothing but white space after it. */
static cJSON *whole(cJSON *(*parse)(const char *, size_t, const char **), const char *p, size_t n)
{
    const char *end = NULL;
    cJSON *j = p ? parse(p, n, &end) : NULL;
    if (j && llf_json_trailing(end, p + n)) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static cJSON *strict_opts(const char *p, size_t n, const char **end)
{
    return cJSON_ParseWithLengthOpts(p, n, end, 0);
}

cJSON *llf_json_parse_exact(const char *p, size_t n)
{
    return whole(strict_opts, p, n);
}

cJSON *llf_json_parse_raw_controls(const char *p, size_t n)
{
    return cJSON_ParseWithLengthRawControls(p, n, NULL);
}

cJSON *llf_json_parse_exact_raw_controls(const char *p, size_t n)
{
    return whole(cJSON_ParseWithLengthRawControls, p, n);
}

/* The code unit of the \u escape at p[0..n) ("\uXXXX"), or -1. */
static long u_escape(const char *p, size_t n)
{
    if (n < 6 || p[0] != '\\' || p[1] != 'u')
        return -1;
    long v = 0;
    for (int i = 2; i < 6; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

char *llf_json_mend_surrogates(const char *p, size_t n)
{
    char *out = NULL;
    const char *end = p ? p + n : NULL;
    /* (a backslash is only ever in a string, and escapes the byte after it) */
    for (const char *b = p ? memchr(p, '\\', n) : NULL; b; b = b < end ? memchr(b, '\\', (size_t)(end - b)) : NULL) {
        long u = u_escape(b, (size_t)(end - b));
        if (u < 0xD800 || u > 0xDFFF) {
            b += end - b >= 2 ? 2 : 1;   /* another escape: its byte is not one */
            continue;
        }
        long low = u <= 0xDBFF ? u_escape(b + 6, (size_t)(end - b - 6)) : -1;
        if (low >= 0xDC00 && low <= 0xDFFF) {
            b += 12;   /* a pair */
            continue;
        }
        if (!out) {
            if (!(out = malloc(n + 1)))
                return NULL;
            memcpy(out, p, n);
            out[n] = '\0';
        }
        memcpy(out + (b - p), "\\ufffd", 6);   /* (as long as what it replaces) */
        b += 6;
    }
    return out;
}

cJSON *llf_json_parse_mended(cJSON *(*parse)(const char *, size_t), const char *p, size_t n)
{
    cJSON *j = parse(p, n);
    char *mended = j ? NULL : llf_json_mend_surrogates(p, n);
    if (mended)
        j = parse(mended, n);   /* (cJSON copies what it keeps) */
    free(mended);
    return j;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of one object: each against those before it while they are few
 * (most objects have a handful, and this runs on every call's body),
 * sorted beyond that (a configuration file of a megabyte could hold
 * 100,000 names). */
static int dup_in_object(const cJSON *o, const char **dup)
{
    enum { FEW = 16 };
    size_t n = 0;
    for (const cJSON *c = o->child; c; c = c->next, n++)
        if (n < FEW)
            for (const cJSON *p = o->child; p != c; p = p->next)
                if (p->string[0] == c->string[0] && strcmp(p->string, c->string) == 0) {
                    *dup = c->string;
                    return 1;
                }
    if (n <= FEW)
        return 0;
    const char **k = malloc(n * sizeof *k);
    if (!k)
        return -1;
    n = 0;
    for (const cJSON *c = o->child; c; c = c->next)
        k[n++] = c->string;
    qsort(k, n, sizeof *k, key_cmp);
    for (size_t i = 1; i < n && !*dup; i++)
        if (strcmp(k[i - 1], k[i]) == 0)
            *dup = k[i];
    free(k);
    return *dup != NULL;
}

static int dup_below(const cJSON *j, const char **dup)
{
    int rc = (j->type & cJSON_Object) ? dup_in_object(j, dup) : 0;
    for (const cJSON *c = j->child; c && !rc; c = c->next)
        if (c->type & (cJSON_Object | cJSON_Array))   /* (a leaf costs no call) */
            rc = dup_below(c, dup);
    return rc;
}

int llf_json_dup_key(const cJSON *j, const char **dup)
{
    *dup = NULL;
    return j && (j->type & (cJSON_Object | cJSON_Array)) ? dup_below(j, dup) : 0;
}

size_t llf_utf8_count(const char *p, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)p[i] & 0xC0) != 0x80;
    return c;
}
