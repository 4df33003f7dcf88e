/* schema.c — a JSON Schema subset validator (see schema.h).
 *
 * Hand-written because Debian packages no C JSON Schema library that works on
 * cJSON values; the subset is the one OpenAI/Gemini structured outputs
 * accept, so answers are checked against exactly what was asked. */
#include "schema.h"

#include <math.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubutil.h"

/* Nesting of value and schema (the C stack), and $ref hops on the current
 * chain, counted apart so that a recursive $defs tree is not cut short by its
 * own references; both stop a $ref cycle. */
#define MAX_DEPTH 128
#define MAX_REFS 128
/* anyOf/oneOf/allOf/$ref let a small schema demand exponential work (each
 * level of nesting multiplies the branches tried); past this many checks the
 * schema is treated as unusable rather than stalling the host's call. The
 * budget grows with the answer, so a large plain answer is still judged. */
#define MAX_STEPS 100000
#define STEPS_PER_NODE 16
/* Reading a text (a compare, a hash, a length) is a step per this many
 * bytes: a long string looked at again and again is work like any other. */
#define TEXT_PER_STEP 1024

/* Where in the answer a check is: built on the stack, spelled out only
 * when a failure is reported. */
typedef struct vpath {
    const struct vpath *up;
    const char *key;   /* member name, or NULL for an array index */
    int index;
} vpath;

/* Patterns compiled once per validation (a pattern on every row of a long
 * array would otherwise be compiled for each); keyed by the schema node.
 * Past this many, each use compiles again, and pays for it again. */
#define MAX_REGEX 64
typedef struct rxent {
    const cJSON *key;
    int usable, bytewise, anchored;
    long size;   /* the ERE's size (rx_translate), what its work grows with */
    regex_t re;
} rxent;

typedef struct vctx {
    const cJSON *root;
    char *why;
    size_t whylen;
    int bad_schema;
    int refs;
    long steps, max_steps;
    /* keywords passed without being judged (an unusable pattern, format…):
     * a pass that counted one cannot make `not` or oneOf reject */
    long unsure;
    int nrx;
    rxent rx[MAX_REGEX];
} vctx;

/* n units of work against the budget; 0 (the schema unusable) past it. */
static int spend_n(vctx *c, long n)
{
    if ((c->steps += n) <= c->max_steps)
        return 1;
    c->bad_schema = 1;
    return 0;
}

static int spend(vctx *c)
{
    return spend_n(c, 1);
}

/* strlen, paid for. */
static size_t text_len(vctx *c, const char *s)
{
    size_t n = strlen(s);
    spend_n(c, (long)(n / TEXT_PER_STEP));
    return n;
}

static const cJSON *get(const cJSON *s, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(s, name);
}

static size_t put_path(char *b, size_t len, const vpath *p)
{
    if (!p)
        return (size_t)snprintf(b, len, "$");
    size_t o = put_path(b, len, p->up);
    if (o >= len)
        return o;
    return o + (size_t)(p->key ? snprintf(b + o, len - o, ".%s", p->key)
                               : snprintf(b + o, len - o, "[%d]", p->index));
}

static int fail(vctx *c, const vpath *path, const char *reason)
{
    if (c->why && c->whylen && !c->why[0]) {
        size_t o = put_path(c->why, c->whylen, path);
        if (o < c->whylen)
            snprintf(c->why + o, c->whylen - o, ": %s", reason);
    }
    return 0;
}

/* Nodes of the answer, as deep as checks can go. */
static long count_nodes(const cJSON *v, int depth)
{
    long n = 1;
    if (depth < MAX_DEPTH)
        for (const cJSON *e = v->child; e; e = e->next)
            n += count_nodes(e, depth + 1);
    return n;
}

static int type_is(const cJSON *v, const char *t)
{
    if (strcmp(t, "object") == 0) return cJSON_IsObject(v);
    if (strcmp(t, "array") == 0) return cJSON_IsArray(v);
    if (strcmp(t, "string") == 0) return cJSON_IsString(v);
    if (strcmp(t, "boolean") == 0) return cJSON_IsBool(v);
    if (strcmp(t, "null") == 0) return cJSON_IsNull(v);
    if (strcmp(t, "number") == 0) return cJSON_IsNumber(v);
    if (strcmp(t, "integer") == 0)
        return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && isfinite(v->valuedouble);
    return -1;   /* an unknown type name: not judged */
}

/* Upper-case type names (Gemini's OpenAPI style) mean the same. */
static int type_matches(const cJSON *v, const char *t)
{
    char low[16];
    size_t n = strlen(t);
    if (n >= sizeof low)
        return -1;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)(t[i] >= 'A' && t[i] <= 'Z' ? t[i] + 32 : t[i]);
    return type_is(v, low);
}

/* ECMA-262 patterns as POSIX EREs (regcomp REG_EXTENDED): an approximation
 * of the common subset. What ERE cannot say the same way (lookarounds,
 * backreferences, \b, \p{…}, \u…, non-ASCII) makes the pattern unusable, so
 * the keyword is not judged. Laziness (*?) is dropped: it changes which match
 * is found, not whether one exists. */
#define RX_MAX_LEN 4096
#define RX_MAX_GROUPS 32
/* glibc copies a counted repeat's atom for each count, and its work grows
 * faster than that size ((a?){99}){99} takes seconds): patterns are bounded
 * by the size they would reach, and the strings matched by their length */
#define RX_MAX_SIZE 1000
#define RX_MAX_SUBJECT 4096

/* An escape outside a class; NULL when ERE has no equivalent. */
static char *rx_escape(char *o, char e, int *bytewise)
{
    static const char *const classes[][2] = {
        {"d", "[0-9]"}, {"D", "[^0-9]"}, {"w", "[A-Za-z0-9_]"}, {"W", "[^A-Za-z0-9_]"},
        {"s", "[[:space:]]"}, {"S", "[^[:space:]]"}, {"n", "\n"}, {"t", "\t"},
        {"r", "\r"}, {"f", "\f"}, {"v", "\v"}};
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (e && e == classes[i][0][0]) {
            *bytewise |= strchr("DWsS", e) != NULL;
            return stpcpy(o, classes[i][1]);
        }
    if (!e || (unsigned char)e >= 0x80 || (e >= '0' && e <= '9') || (e >= 'A' && e <= 'Z') ||
        (e >= 'a' && e <= 'z'))
        return NULL;
    if (strchr(".[]{}()*+?|^$\\", e))
        *o++ = '\\';
    *o++ = e;
    return o;
}

/* One part of a class: a character, a range lo-hi, or a named set. */
typedef struct {
    unsigned char lo, hi;
    const char *set;
} rxpart;

#define RX_MAX_PARTS 256

/* A class's atom at p into a; returns past it, NULL when not translatable. */
static const char *rx_class_atom(const char *p, rxpart *a, int *bytewise)
{
    unsigned char ch = (unsigned char)*p;
    a->set = NULL;
    if (!ch || ch >= 0x80)
        return NULL;
    if (ch != '\\') {
        a->lo = a->hi = ch;
        return p + 1;
    }
    char e = p[1];
    if (e == 'd' || e == 'w' || e == 's') {
        a->set = e == 'd' ? "0-9" : e == 'w' ? "A-Za-z0-9_" : "[:space:]";
        *bytewise |= e == 's';
    } else if (e && strchr("ntrfvb", e)) {
        a->lo = (unsigned char)"\n\t\r\f\v\b"[strchr("ntrfvb", e) - "ntrfvb"];
    } else if (e && (unsigned char)e < 0x80 && !(e >= '0' && e <= '9') && !(e >= 'A' && e <= 'Z') &&
               !(e >= 'a' && e <= 'z')) {
        a->lo = (unsigned char)e;   /* \] \- \^ \\ \. ... */
    } else {
        return NULL;
    }
    a->hi = a->lo;
    return p + 2;
}

/* A class [...] at p; returns past its ']', NULL when not translatable.
 * ECMA's class is read into its parts, then written as an ERE bracket
 * wants them, since there a backslash is literal and place gives ']' '-'
 * '^' their meaning: a ']' first, '^' anywhere but first, '-' last, and '['
 * where it cannot start "[:" "[." "[=". Moving a character in place would
 * make ranges of its neighbours ([%^&=-] is not [%&=-^]). A range ending in
 * one of those four is not judged. */
static const char *rx_class(const char *p, char **out, int *bytewise)
{
    rxpart parts[RX_MAX_PARTS];
    size_t n = 0;
    int negated = p[1] == '^';
    p += 1 + negated;
    if (*p == ']')
        return NULL;   /* ECMA's [] and [^]: no ERE spelling */
    while (*p != ']') {
        if (n + 3 > RX_MAX_PARTS || !(p = rx_class_atom(p, &parts[n], bytewise)))
            return NULL;
        if (*p == '-' && p[1] && p[1] != ']') {
            rxpart to;
            const char *q = rx_class_atom(p + 1, &to, bytewise);
            if (!q)
                return NULL;
            if (!parts[n].set && !to.set) {
                if (parts[n].lo > to.lo)
                    return NULL;   /* ECMA's syntax error */
                parts[n++].hi = to.lo;
            } else {   /* Annex B: [\w-.] has a literal '-' */
                parts[++n] = (rxpart){'-', '-', NULL};
                parts[++n] = to;
                n++;
            }
            p = q;
            continue;
        }
        n++;
    }
    int has[4] = {0};   /* ']' '^' '-' '[' as characters */
    char *o = *out;
    *o++ = '[';
    if (negated) {
        *o++ = '^';
        *bytewise = 1;
    }
    char *start = o;
    for (size_t i = 0; i < n; i++) {
        const char *sp = parts[i].set ? NULL : strchr("]^-[", parts[i].lo);
        if (parts[i].lo != parts[i].hi && (sp || strchr("]^-[", parts[i].hi)))
            return NULL;
        if (parts[i].lo == parts[i].hi && sp)
            has[sp - "]^-["] = 1;
    }
    if (has[0])
        *o++ = ']';
    for (size_t i = 0; i < n; i++) {
        if (parts[i].set) {
            o = stpcpy(o, parts[i].set);
        } else if (parts[i].lo != parts[i].hi) {
            *o++ = (char)parts[i].lo;
            *o++ = '-';
            *o++ = (char)parts[i].hi;
        } else if (!strchr("]^-[", parts[i].lo)) {
            *o++ = (char)parts[i].lo;
        }
    }
    if (has[3])
        *o++ = '[';
    if (has[1] && o == start && !has[2] && !negated) {   /* [\^]: ERE's [^] would negate */
        o = stpcpy(*out, "\\^");
        *out = o;
        return p + 1;
    }
    if (has[1] && o == start && !negated) {   /* [-^] */
        *o++ = '-';
        has[2] = 0;
    }
    if (has[1])
        *o++ = '^';
    if (has[2])
        *o++ = '-';
    *o++ = ']';
    *out = o;
    return p + 1;
}

static const char *rx_digits(const char *q, long *n)
{
    if (*q < '0' || *q > '9')
        return NULL;
    for (*n = 0; *q >= '0' && *q <= '9'; q++)
        *n = *n < 100000 ? *n * 10 + (*q - '0') : *n;
    return q;
}

/* A count {n}, {n,} or {n,m} at p: its length, with *most the copies ERE
 * makes of the atom; 0 when p starts no count. */
static size_t rx_count(const char *p, long *most)
{
    long lo, hi;
    const char *q = rx_digits(p + 1, &lo);
    if (q && *q == ',')
        q = q[1] == '}' ? (hi = lo + 1, q + 1) : rx_digits(q + 1, &hi);
    else
        hi = lo;
    if (!q || *q != '}')
        return 0;
    *most = hi;
    return (size_t)(q + 1 - p);
}

/* 1 when translated into out (8 times p's length, plus 2). Sets e's
 * bytewise when the pattern has '.', a negated class or \s, which ERE
 * matches on bytes where ECMA matches characters and excludes line breaks
 * differently; its size, the atoms it has once counts are expanded; and
 * anchored when it starts with '^' and has no '|' outside a group. */
static int rx_translate(const char *p, char *o, rxent *e)
{
    long sum[RX_MAX_GROUPS + 1] = {0}, last = 0;
    int g = 0, quant = 0, atom = 0;   /* atom: what precedes can be repeated */
    int *bytewise = &e->bytewise;
    e->anchored = *p == '^';
    while (*p) {
        unsigned char ch = (unsigned char)*p;
        long times = 1;
        if (ch >= 0x80)
            return 0;
        if (quant && ch == '?') {   /* lazy */
            quant = 0;
            p++;
            continue;
        }
        int repeatable = atom;
        quant = 0;
        atom = 1;
        if (ch == '\\') {
            if (!(o = rx_escape(o, p[1], bytewise)))
                return 0;
            p += 2;
            last = 1;
        } else if (ch == '[') {
            if (!(p = rx_class(p, &o, bytewise)))
                return 0;
            last = 1;
        } else if (ch == '(') {
            if (p[1] == '?' && p[2] != ':')
                return 0;   /* lookarounds, named groups */
            p += p[1] == '?' ? 3 : 1;
            if (++g > RX_MAX_GROUPS)
                return 0;
            sum[g] = 0;
            *o++ = '(';
            atom = 0;
            continue;
        } else if (ch == ')') {
            if (g == 0)
                return 0;
            last = sum[g--];
            *o++ = *p++;
        } else if (ch == '{' && !rx_count(p, &times)) {
            o = stpcpy(o, "\\{");   /* ECMA reads a brace that starts no count as itself */
            p++;
            last = 1;
        } else if (ch == '*' || ch == '+' || ch == '?' || ch == '{') {
            size_t n = ch == '{' ? rx_count(p, &times) : 1;
            if (times > 1000 || !repeatable)
                return 0;   /* ECMA's "nothing to repeat" (a** and a+++ make glibc work hard) */
            times = ch == '+' ? 2 : ch == '{' && times > 1 ? times : 1;
            memcpy(o, p, n);
            o += n;
            p += n;
            quant = 1;
            atom = 0;
            sum[g] += last * (times - 1);
            last *= times;
            if (sum[g] > RX_MAX_SIZE || last > RX_MAX_SIZE)
                return 0;
            continue;
        } else {
            *bytewise |= ch == '.';
            e->anchored &= !(ch == '|' && g == 0);
            last = atom = !strchr("|^$", ch);
            *o++ = *p++;
        }
        sum[g] += last;
        if (sum[g] > RX_MAX_SIZE)
            return 0;
    }
    *o = '\0';
    e->size = sum[0];
    return g == 0;
}

/* What regcomp and regexec cost against the budget: a match its string's
 * length times the pattern's size (a{0,900}b on 4096 a's: 38 ms, some
 * 115,000 steps), and when the pattern is not anchored, which makes glibc
 * start again at each position, the length squared as well ([a-z]+@ on
 * 4096 a's: 37 ms; 4096^2/32 is 524,000 steps); a compile the square of the
 * size (11 ms for a{0,900}b, 3,200 steps). glibc's regexec builds its DFA
 * as it goes, so one match of a pathological pattern can cost more than
 * this counts (see the README): the count bounds how many matches a schema
 * can ask for, not each one. */
#define RX_WORK_PER_STEP 32
#define RX_COMPILE_PER_STEP 256

static rxent *rx_compile(vctx *c, rxent *tmp, const cJSON *key, const char *pattern)
{
    for (int i = 0; i < c->nrx; i++)
        if (c->rx[i].key == key)
            return &c->rx[i];
    rxent *e = c->nrx < MAX_REGEX ? &c->rx[c->nrx++] : tmp;
    size_t n = strlen(pattern);
    char *ere = n <= RX_MAX_LEN ? malloc(8 * n + 2) : NULL;
    e->key = key;
    e->bytewise = e->anchored = 0;
    e->size = 0;
    e->usable = ere && rx_translate(pattern, ere, e);
    if (e->usable) {
        long w = e->size + (long)strlen(ere);
        e->usable = spend_n(c, 1 + w * w / RX_COMPILE_PER_STEP) &&
                    regcomp(&e->re, ere, REG_EXTENDED | REG_NOSUB) == 0;
    }
    free(ere);
    return e;
}

/* No byte where ERE's '.' and classes could differ from ECMA's. */
static int ascii_line(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80 || *s == '\n' || *s == '\r')
            return 0;
    return 1;
}

/* 1 when pattern (the string at key) matches s, 0 when not, -1 not judged. */
static int rx_match(vctx *c, const cJSON *key, const char *pattern, const char *s)
{
    size_t n = strnlen(s, RX_MAX_SUBJECT + 1);
    if (n > RX_MAX_SUBJECT)
        return -1;
    rxent tmp;
    rxent *e = rx_compile(c, &tmp, key, pattern);
    int r = -1;
    if (e->usable && !(e->bytewise && !ascii_line(s)) &&
        spend_n(c, 1 + (long)n * (e->size + 1 + (e->anchored ? 0 : (long)n)) / RX_WORK_PER_STEP)) {
        int rc = regexec(&e->re, s, 0, NULL, 0);
        r = rc == 0 ? 1 : rc == REG_NOMATCH ? 0 : -1;
    }
    if (e == &tmp && e->usable)
        regfree(&e->re);
    return r;
}

static int hex(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
         : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* A URI fragment percent-decoded into out (RFC 3986); 0 when malformed or
 * when it holds a NUL, which no member name does. */
static int fragment_decode(const char *p, char *out)
{
    for (; *p; out++) {
        int hi = *p == '%' ? hex(p[1]) : 0, lo = hi < 0 ? -1 : *p == '%' ? hex(p[2]) : 0;
        if (lo < 0 || (*p == '%' && hi == 0 && lo == 0))
            return 0;
        *out = *p == '%' ? (char)(hi * 16 + lo) : *p;
        p += *p == '%' ? 3 : 1;
    }
    *out = '\0';
    return 1;
}

/* The reference token of a JSON Pointer (RFC 6901) after the '/' at p,
 * into tok, unescaped (~1 is '/', ~0 '~'); returns where the next begins,
 * NULL when an escape is malformed. */
static const char *pointer_token(const char *p, char *tok)
{
    for (p++; *p && *p != '/'; p++, tok++) {
        if (*p == '~' && p[1] != '0' && p[1] != '1')
            return NULL;
        *tok = *p == '~' ? (*++p == '0' ? '~' : '/') : *p;
    }
    *tok = '\0';
    return p;
}

/* An array index in a JSON Pointer: digits, no leading zero; -1 if not. */
static long pointer_index(const char *t)
{
    long n = 0;
    if (!*t || (t[0] == '0' && t[1]))
        return -1;
    for (; *t >= '0' && *t <= '9' && n < 100000000; t++)
        n = n * 10 + (*t - '0');
    return *t ? -1 : n;
}

/* A $ref within this schema: "#" or a JSON Pointer fragment such as
 * "#/$defs/a" or "#/properties/a~1b/items/0" (percent-escapes decoded
 * first); NULL for anything else (another document, an anchor), which makes
 * the schema unusable. Each token, and each 16 members or items walked past,
 * is a step. */
static const cJSON *resolve(vctx *c, const char *ref)
{
    if (ref[0] != '#')
        return NULL;
    size_t n = strlen(ref) + 1;
    char *buf = malloc(2 * n), *tok = buf ? buf + n : NULL;
    const char *p = buf;
    const cJSON *at = buf && fragment_decode(ref + 1, buf) && (!*buf || *buf == '/') ? c->root : NULL;
    while (at && *p == '/' && spend(c)) {
        if (!(p = pointer_token(p, tok)))
            break;
        long index = cJSON_IsArray(at) ? pointer_index(tok) : 0, i = 0;
        const cJSON *e = index >= 0 && (cJSON_IsArray(at) || cJSON_IsObject(at)) ? at->child : NULL;
        for (; e && (i % 16 || spend(c)); e = e->next, i++)
            if (cJSON_IsArray(at) ? i == index : e->string && strcmp(e->string, tok) == 0)
                break;
        at = e;
    }
    at = p ? at : NULL;
    free(buf);
    return c->bad_schema ? NULL : at;
}

static int check(vctx *c, const cJSON *s, const cJSON *v, const vpath *path, int depth);

/* Two texts equal, a step per TEXT_PER_STEP bytes compared. */
static int same_text(vctx *c, const char *a, const char *b)
{
    for (;;) {
        size_t n = strnlen(a, TEXT_PER_STEP);
        if (strncmp(a, b, n) != 0)
            return 0;
        if (!a[n])
            return !b[n];
        if (!spend(c))
            return 0;
        a += n;
        b += n;
    }
}

/* JSON Schema's equality (enum, const, uniqueItems), not cJSON_Compare's,
 * which takes numbers within a relative DBL_EPSILON as equal (and infinity
 * as equal to minus infinity): numbers by value, so 1 equals 1.0 and -0
 * equals 0, and doubles that differ are different, however close. cJSON
 * reads every number as a double: integers past 2^53 that round to the same
 * one, or two numbers too large for one (1e400, 1e500: both infinity),
 * cannot be told apart. Strings by bytes, arrays item by item, objects by
 * the same names with equal values in any order. The nesting counts on
 * from the check's, and each item or member compared, and each
 * TEXT_PER_STEP bytes of a string, is a step: a compare of two large values
 * is work like any other. */
static int same(vctx *c, const cJSON *a, const cJSON *b, int depth)
{
    if (depth > MAX_DEPTH) {
        c->bad_schema = 1;
        return 0;
    }
    if ((a->type & 0xFF) != (b->type & 0xFF))
        return 0;
    if (cJSON_IsNumber(a))
        return a->valuedouble == b->valuedouble;
    if (cJSON_IsString(a) || cJSON_IsRaw(a))
        return a->valuestring && b->valuestring ? same_text(c, a->valuestring, b->valuestring)
                                                : a->valuestring == b->valuestring;
    if (cJSON_IsArray(a)) {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!spend(c) || !same(c, x, y, depth + 1))
                return 0;
        return !x && !y;
    }
    if (!cJSON_IsObject(a))
        return 1;   /* null, true, false */
    const cJSON *x = a->child, *y = b->child;
    while (x && y)   /* as many members (a walk no longer than the shorter) */
        x = x->next, y = y->next;
    if (x || y)
        return 0;
    /* b's member of the same name: the one at the same place when the
     * order is the same, else the first so named (as get() reads it) */
    for (x = a->child, y = b->child; x; x = x->next, y = y ? y->next : NULL) {
        const char *name = x->string ? x->string : "";
        const cJSON *m = y && y->string && strcmp(y->string, name) == 0 ? y : NULL;
        for (const cJSON *z = b->child; z && !m; z = z->next) {
            if (!spend(c))
                return 0;
            m = z->string && strcmp(z->string, name) == 0 ? z : NULL;
        }
        if (!m || !spend(c) || !same(c, x, m, depth + 1))
            return 0;
    }
    return 1;
}

static uint64_t mix(uint64_t x)   /* splitmix64's finaliser */
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

static uint64_t text_hash(vctx *c, const char *s)   /* FNV-1a, paid for */
{
    uint64_t h = 0xcbf29ce484222325u;
    const char *p = s;
    for (; p && *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3u;
    spend_n(c, (long)((size_t)(p - s) / TEXT_PER_STEP));
    return h;
}

/* A hash on which values same() finds equal agree: numbers by their double
 * (-0 as 0), objects by a sum over their members, whatever the order. (An
 * object that repeats a name may hash apart from one same() finds equal to
 * it: uniqueItems then lets that pair pass.) A step per node. */
static uint64_t value_hash(vctx *c, const cJSON *v, int depth)
{
    if (depth > MAX_DEPTH) {
        c->bad_schema = 1;
        return 0;
    }
    if (!spend(c))
        return 0;
    uint64_t h = (uint64_t)(v->type & 0xFF);
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble == 0 ? 0.0 : v->valuedouble;
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        h ^= bits;
    } else if (cJSON_IsString(v) || cJSON_IsRaw(v)) {
        h ^= text_hash(c, v->valuestring);
    } else if (cJSON_IsArray(v)) {
        for (const cJSON *e = v->child; e && !c->bad_schema; e = e->next)
            h = mix(h) + value_hash(c, e, depth + 1);
    } else if (cJSON_IsObject(v)) {
        uint64_t sum = 0;
        for (const cJSON *m = v->child; m && !c->bad_schema; m = m->next)
            sum += mix(text_hash(c, m->string) ^ mix(value_hash(c, m, depth + 1)));
        h ^= sum;
    }
    return mix(h);
}

typedef struct hashed {
    uint64_t h;
    const cJSON *item;
} hashed;

static int by_hash(const void *a, const void *b)
{
    uint64_t x = ((const hashed *)a)->h, y = ((const hashed *)b)->h;
    return (x > y) - (x < y);
}

/* uniqueItems: the items sorted by hash, and only those of equal hash
 * compared, not every pair (2048 rows of 200 numbers took seconds); each
 * compare is a step. 1 unique, 0 not (or the budget ran out), -1 not judged
 * (no memory). */
static int unique_items(vctx *c, const cJSON *v, int depth)
{
    int n = cJSON_GetArraySize(v), i = 0, dup = 0;
    hashed *t = n > 1 ? malloc((size_t)n * sizeof *t) : NULL;
    if (!t)
        return n > 1 ? -1 : 1;
    for (const cJSON *e = v->child; e && i < n && !c->bad_schema; e = e->next, i++)
        t[i] = (hashed){value_hash(c, e, depth + 1), e};
    if (!c->bad_schema)
        qsort(t, (size_t)n, sizeof *t, by_hash);
    for (i = 0; i < n && !dup && !c->bad_schema; i++)
        for (int j = i + 1; j < n && t[j].h == t[i].h && !dup; j++)
            dup = spend(c) && same(c, t[i].item, t[j].item, depth + 1);
    free(t);
    return !dup && !c->bad_schema;
}

/* A sub-check whose failure is not the reason the answer is wrong (a branch
 * of anyOf, `not`, `if`…): it records no why. */
static int quiet(vctx *c, const cJSON *s, const cJSON *v, const vpath *path, int depth)
{
    char *saved = c->why;
    c->why = NULL;
    int ok = check(c, s, v, path, depth + 1);
    c->why = saved;
    return ok;
}

static int check_all(vctx *c, const cJSON *list, const cJSON *v, const vpath *path, int depth,
                     const char *kw)
{
    int all = strcmp(kw, "allOf") == 0, one = strcmp(kw, "oneOf") == 0;
    int matches = 0, misses = 0;
    long unsure = c->unsure;
    /* stop as soon as the answer is known: anyOf at the first match, allOf at
     * the first miss, oneOf at the second match */
    for (const cJSON *sub = list ? list->child : NULL; sub; sub = sub->next) {
        int ok = quiet(c, sub, v, path, depth);
        matches += ok;
        misses += !ok;
        if (c->bad_schema || (all && !ok) || (one && matches > 1) || (!all && !one && ok))
            break;
    }
    if (all)
        return misses == 0 ? 1 : fail(c, path, "allOf");
    if (one)   /* a second match that was not judged in full may be none */
        return matches == 1 || (matches > 1 && c->unsure != unsure) ? 1 : fail(c, path, "oneOf");
    return matches > 0 ? 1 : fail(c, path, "anyOf");
}

/* if/then/else: then applies where the value matches if, else where it does
 * not, a missing branch asserting nothing. An if passed on keywords not
 * judged may really have failed, so then either branch could be the one that
 * applies: the value is rejected only when it fails both. */
static int check_cond(vctx *c, const cJSON *s, const cJSON *v, const vpath *path, int depth)
{
    const cJSON *cond = get(s, "if"), *then = get(s, "then"), *other = get(s, "else");
    if (!cond || (!then && !other))
        return 1;
    long unsure = c->unsure;
    int ok = quiet(c, cond, v, path, depth);
    if (c->bad_schema)
        return 0;
    if (!ok || c->unsure == unsure) {
        const cJSON *branch = ok ? then : other;
        return !branch || check(c, branch, v, path, depth + 1);
    }
    if (!then || quiet(c, then, v, path, depth) || !other || quiet(c, other, v, path, depth))
        return 1;
    return fail(c, path, "fails both then and else");
}

/* A count against the keywords bounding it: -1 below, 1 above, 0 within. */
static int bounds(const cJSON *s, const char *min, const char *max, double n)
{
    const cJSON *lo = get(s, min), *hi = get(s, max);
    return cJSON_IsNumber(lo) && n < lo->valuedouble ? -1 : cJSON_IsNumber(hi) && n > hi->valuedouble;
}

/* Every name in list present in the object v; with, the member whose
 * presence asks for them (a dependency), else none (required). */
static int has_all(vctx *c, const cJSON *list, const cJSON *v, const vpath *path, const char *with)
{
    for (const cJSON *r = list ? list->child : NULL; r; r = r->next)
        if (cJSON_IsString(r) && !get(v, r->valuestring)) {
            char reason[96];
            snprintf(reason, sizeof reason, "required%s%s", with ? " with " : "", with ? with : "");
            return fail(c, &(vpath){path, r->valuestring, 0}, reason);
        }
    return 1;
}

/* What a present member brings with it: names that must be present too (an
 * array: dependentRequired) or a schema the whole object must then match
 * (dependentSchemas); draft-07's dependencies takes either. */
static int check_deps(vctx *c, const cJSON *deps, int lists, int schemas, const cJSON *v, const vpath *path,
                      int depth)
{
    for (const cJSON *d = cJSON_IsObject(deps) ? deps->child : NULL; d; d = d->next) {
        if (!get(v, d->string))
            continue;
        if (lists && cJSON_IsArray(d)) {
            if (!has_all(c, d, v, path, d->string))
                return 0;
        } else if (!schemas) {
            c->unsure++;   /* dependentRequired with no list: not judged */
        } else if (!check(c, d, v, path, depth + 1)) {
            return 0;
        }
    }
    return 1;
}

/* Checks of one kind of value; 1 valid, 0 invalid (reason set). */
static int check_object(vctx *c, const cJSON *s, const cJSON *v, const vpath *path, int depth)
{
    const cJSON *props = get(s, "properties"), *addl = get(s, "additionalProperties");
    if (!has_all(c, get(s, "required"), v, path, NULL) ||
        !check_deps(c, get(s, "dependentRequired"), 1, 0, v, path, depth) ||
        !check_deps(c, get(s, "dependentSchemas"), 0, 1, v, path, depth) ||
        !check_deps(c, get(s, "dependencies"), 1, 1, v, path, depth))
        return 0;
    const cJSON *pats = get(s, "patternProperties"), *names = get(s, "propertyNames");
    for (const cJSON *m = v->child; m; m = m->next) {
        const char *name = m->string ? m->string : "";
        const vpath *sub = &(vpath){path, name, 0};
        /* each name is checked as a string value (one made on the stack) */
        if (names && !quiet(c, names, &(cJSON){.type = cJSON_String, .valuestring = (char *)name}, sub, depth))
            return fail(c, sub, "name not allowed by propertyNames");
        const cJSON *ps = props ? get(props, name) : NULL;
        int named = ps != NULL, maybe = 0;
        if (ps && !check(c, ps, m, sub, depth + 1))
            return 0;
        for (const cJSON *pp = cJSON_IsObject(pats) ? pats->child : NULL; pp; pp = pp->next) {
            int r = rx_match(c, pp, pp->string, name);
            maybe |= r < 0;
            named |= r > 0;
            if (r > 0 && !check(c, pp, m, sub, depth + 1))
                return 0;
        }
        if (named) {
            continue;
        } else if (maybe) {
            c->unsure++;   /* it may match a pattern that cannot be judged */
        } else if (cJSON_IsFalse(addl)) {
            return fail(c, sub, "additional property");
        } else if (addl && !check(c, addl, m, sub, depth + 1)) {
            return 0;
        }
    }
    int b = bounds(s, "minProperties", "maxProperties", cJSON_GetArraySize(v));
    return b ? fail(c, path, b < 0 ? "too few properties" : "too many properties") : 1;
}

/* contains: how many items match it, against minContains (1 unless given; 0
 * lets contains pass) and maxContains. An item passed on keywords not judged
 * may not really match: it counts toward the minimum, not the maximum. */
static int check_contains(vctx *c, const cJSON *s, const cJSON *v, const vpath *path, int depth)
{
    const cJSON *sub = get(s, "contains"), *lo = get(s, "minContains"), *hi = get(s, "maxContains");
    if (!sub)
        return 1;
    double least = cJSON_IsNumber(lo) ? lo->valuedouble : 1;
    hi = cJSON_IsNumber(hi) ? hi : NULL;
    long sure = 0, maybe = 0;
    int i = 0;
    /* stop once the answer is known: at the minimum, or past the maximum */
    for (const cJSON *e = v->child; e && (hi || sure < least); e = e->next, i++) {
        long unsure = c->unsure;
        int ok = quiet(c, sub, e, &(vpath){path, NULL, i}, depth);
        if (c->bad_schema)
            return 0;
        sure += ok && c->unsure == unsure;
        maybe += ok && c->unsure != unsure;
        if (hi && sure > hi->valuedouble)
            return fail(c, path, "too many items match contains");
    }
    if (sure + maybe < least)
        return fail(c, path, cJSON_IsNumber(lo) ? "too few items match contains" : "no item matches contains");
    return 1;
}

static int check_array(vctx *c, const cJSON *s, const cJSON *v, const vpath *path, int depth)
{
    /* prefixItems then items (2020-12), or draft-07's tuple: an items list
     * then additionalItems */
    const cJSON *prefix = get(s, "prefixItems"), *items = get(s, "items"), *rest = items;
    if (cJSON_IsArray(prefix)) {
        rest = cJSON_IsArray(items) ? NULL : items;
    } else if (cJSON_IsArray(items)) {
        prefix = items;
        rest = get(s, "additionalItems");
    } else {
        prefix = NULL;
    }
    const cJSON *at = prefix ? prefix->child : NULL;
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        const cJSON *es = at ? at : rest;
        at = at ? at->next : NULL;
        if (es && !check(c, es, e, &(vpath){path, NULL, i}, depth + 1))
            return 0;
    }
    if (!check_contains(c, s, v, path, depth))
        return 0;
    int n = cJSON_GetArraySize(v), over = bounds(s, "minItems", "maxItems", n);
    if (over)
        return fail(c, path, over < 0 ? "too few items" : "too many items");
    if (cJSON_IsTrue(get(s, "uniqueItems"))) {
        int r = unique_items(c, v, depth);
        if (r == 0)
            return fail(c, path, "items not unique");
        c->unsure += r < 0;
    }
    return 1;
}

static int check_string(vctx *c, const cJSON *s, const cJSON *v, const vpath *path)
{
    if (get(s, "minLength") || get(s, "maxLength")) {   /* (characters, not bytes) */
        size_t n = text_len(c, v->valuestring);
        int b = bounds(s, "minLength", "maxLength", (double)llf_utf8_count(v->valuestring, n));
        if (b)
            return fail(c, path, b < 0 ? "too short" : "too long");
    }
    const cJSON *k;
    if ((k = get(s, "pattern")) && cJSON_IsString(k)) {
        int r = rx_match(c, k, k->valuestring, v->valuestring);
        if (r == 0)
            return fail(c, path, "does not match pattern");
        c->unsure += r < 0;
    }
    /* format (date-time, email…) is not checked: 2020-12 makes it an
     * annotation, and checkers differ on the details of each format */
    c->unsure += get(s, "format") != NULL;
    return 1;
}

/* multipleOf within floating-point error: 1 yes, 0 no, -1 not judged. */
static int multiple_of(double n, double d)
{
    if (!(d > 0) || !isfinite(d))
        return -1;
    double q = n / d;
    if (!isfinite(q) || fabs(q) > 1e15)
        return -1;   /* past 2^50 every double looks like an integer */
    /* (relative error only: an absolute one took any number much smaller
     * than d, 1e-12 for multipleOf 0.01, for a multiple of it) */
    return q == 0 || fabs(q - nearbyint(q)) <= 1e-9 * fabs(q);
}

static int check_number(vctx *c, const cJSON *s, const cJSON *v, const vpath *path)
{
    double n = v->valuedouble;
    const cJSON *min = get(s, "minimum"), *max = get(s, "maximum");
    const cJSON *xmin = get(s, "exclusiveMinimum"), *xmax = get(s, "exclusiveMaximum"), *k;
    /* draft-04's exclusiveMinimum/Maximum: true makes the bound exclusive */
    if (cJSON_IsNumber(min) && (n < min->valuedouble || (cJSON_IsTrue(xmin) && n == min->valuedouble)))
        return fail(c, path, "below minimum");
    if (cJSON_IsNumber(max) && (n > max->valuedouble || (cJSON_IsTrue(xmax) && n == max->valuedouble)))
        return fail(c, path, "above maximum");
    if (cJSON_IsNumber(xmin) && n <= xmin->valuedouble)
        return fail(c, path, "not above exclusiveMinimum");
    if (cJSON_IsNumber(xmax) && n >= xmax->valuedouble)
        return fail(c, path, "not below exclusiveMaximum");
    if ((k = get(s, "multipleOf")) && cJSON_IsNumber(k)) {
        int r = multiple_of(n, k->valuedouble);
        if (r == 0)
            return fail(c, path, "not a multipleOf");
        c->unsure += r < 0;
    }
    return 1;
}

static int check(vctx *c, const cJSON *s, const cJSON *v, const vpath *path, int depth)
{
    if (depth > MAX_DEPTH) {
        c->bad_schema = 1;
        return 0;
    }
    if (!spend(c))
        return 0;
    if (cJSON_IsBool(s))
        return cJSON_IsTrue(s) ? 1 : fail(c, path, "not allowed");
    if (!cJSON_IsObject(s)) {
        c->bad_schema = 1;
        return 0;
    }
    const cJSON *k;
    if ((k = get(s, "$ref"))) {
        const cJSON *target = cJSON_IsString(k) ? resolve(c, k->valuestring) : NULL;
        if (!target || c->refs >= MAX_REFS) {
            c->bad_schema = 1;
            return 0;
        }
        c->refs++;
        int ok = check(c, target, v, path, depth);
        c->refs--;
        if (!ok)
            return 0;
    }
    if (cJSON_IsTrue(get(s, "nullable")) && cJSON_IsNull(v))
        return 1;   /* OpenAPI's way (Gemini schemas) of allowing null */
    if ((k = get(s, "type"))) {
        int ok = 0, unknown = 0;
        for (const cJSON *t = cJSON_IsArray(k) ? k->child : k; t && !ok; t = t == k ? NULL : t->next) {
            int r = cJSON_IsString(t) ? type_matches(v, t->valuestring) : -1;
            ok = r == 1;
            unknown |= r < 0;
        }
        if (!ok && !unknown)
            return fail(c, path, "wrong type");
        c->unsure += !ok;
    }
    if ((k = get(s, "enum"))) {
        int ok = 0;
        for (const cJSON *e = k->child; e && !ok && spend(c); e = e->next)   /* each value compared a step */
            ok = same(c, e, v, depth);
        if (!ok)
            return fail(c, path, "not one of enum");
    }
    if ((k = get(s, "const")) && !same(c, k, v, depth))
        return fail(c, path, "not the const value");
    static const char *const combos[] = {"anyOf", "oneOf", "allOf"};
    for (size_t i = 0; i < 3; i++)
        if ((k = get(s, combos[i])) && !check_all(c, k, v, path, depth, combos[i]))
            return 0;
    if ((k = get(s, "not"))) {
        long unsure = c->unsure;
        int ok = quiet(c, k, v, path, depth);
        if (c->bad_schema)
            return 0;
        if (ok && c->unsure == unsure)
            return fail(c, path, "matches not");
    }
    if (!check_cond(c, s, v, path, depth))
        return 0;
    /* assertions not implemented: a pass is not a judgement of them */
    static const char *const unknown[] = {"unevaluatedProperties", "unevaluatedItems", "$dynamicRef",
                                          "$recursiveRef"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        c->unsure += get(s, unknown[i]) != NULL;
    if (cJSON_IsObject(v))
        return check_object(c, s, v, path, depth);
    if (cJSON_IsArray(v))
        return check_array(c, s, v, path, depth);
    if (cJSON_IsString(v))
        return check_string(c, s, v, path);
    if (cJSON_IsNumber(v))
        return check_number(c, s, v, path);
    return 1;
}

int llf_schema_validate(const cJSON *schema, const cJSON *value, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    vctx c = {.root = schema, .why = why, .whylen = whylen};
    c.max_steps = MAX_STEPS + STEPS_PER_NODE * count_nodes(value, 0);
    int ok = check(&c, schema, value, NULL, 0);
    for (int i = 0; i < c.nrx; i++)
        if (c.rx[i].usable)
            regfree(&c.rx[i].re);
    if (c.bad_schema) {
        if (why && whylen)
            snprintf(why, whylen, "unusable schema");
        return -1;
    }
    return ok;
}
