/* schema.c — a JSON Schema subset validator (see schema.h).
 *
 * Hand-written because Debian packages no C JSON Schema library that works on
 * cJSON values; the subset is the one OpenAI/Gemini structured outputs
 * accept, so answers are checked against exactly what was asked. */
#include "schema.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

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

/* Where in the answer a check is: built on the stack, spelled out only
 * when a failure is reported. */
typedef struct vpath {
    const struct vpath *up;
    const char *key;   /* member name, or NULL for an array index */
    int index;
} vpath;

typedef struct vctx {
    const cJSON *root;
    char *why;
    size_t whylen;
    int bad_schema;
    int refs;
    long steps, max_steps;
} vctx;

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
    return 1;   /* an unknown type name constrains nothing */
}

/* Upper-case type names (Gemini's OpenAPI style) mean the same. */
static int type_matches(const cJSON *v, const char *t)
{
    char low[16];
    size_t n = strlen(t);
    if (n >= sizeof low)
        return 1;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)(t[i] >= 'A' && t[i] <= 'Z' ? t[i] + 32 : t[i]);
    return type_is(v, low);
}

/* String lengths are in characters (code points), not bytes: count the
 * bytes that do not continue a UTF-8 sequence (10xxxxxx). */
static size_t utf8_chars(const char *p)
{
    size_t n = 0;
    for (; *p; p++)
        n += ((unsigned char)*p & 0xC0) != 0x80;
    return n;
}

static const cJSON *resolve(vctx *c, const char *ref)
{
    static const char *const bases[] = {"#/$defs/", "#/definitions/"};
    if (strcmp(ref, "#") == 0)
        return c->root;
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(bases[i]);
        if (strncmp(ref, bases[i], n) == 0) {
            const cJSON *defs = cJSON_GetObjectItemCaseSensitive(c->root, i ? "definitions" : "$defs");
            return cJSON_GetObjectItemCaseSensitive(defs, ref + n);
        }
    }
    return NULL;
}

static int check(vctx *c, const cJSON *s, const cJSON *v, const vpath *path, int depth);

static int check_all(vctx *c, const cJSON *list, const cJSON *v, const vpath *path, int depth,
                     const char *kw)
{
    int all = strcmp(kw, "allOf") == 0, one = strcmp(kw, "oneOf") == 0;
    int matches = 0, misses = 0;
    /* stop as soon as the answer is known: anyOf at the first match, allOf at
     * the first miss, oneOf at the second match */
    for (const cJSON *sub = list ? list->child : NULL; sub; sub = sub->next) {
        char *saved = c->why;
        c->why = NULL;   /* a failing branch is not the reason */
        int ok = check(c, sub, v, path, depth + 1);
        c->why = saved;
        matches += ok;
        misses += !ok;
        if (c->bad_schema || (all && !ok) || (one && matches > 1) || (!all && !one && ok))
            break;
    }
    if (all)
        return misses == 0 ? 1 : fail(c, path, "allOf");
    if (one)
        return matches == 1 ? 1 : fail(c, path, "oneOf");
    return matches > 0 ? 1 : fail(c, path, "anyOf");
}

static int check(vctx *c, const cJSON *s, const cJSON *v, const vpath *path, int depth)
{
    if (depth > MAX_DEPTH || ++c->steps > c->max_steps) {
        c->bad_schema = 1;
        return 0;
    }
    if (cJSON_IsBool(s))
        return cJSON_IsTrue(s) ? 1 : fail(c, path, "not allowed");
    if (!cJSON_IsObject(s)) {
        c->bad_schema = 1;
        return 0;
    }
    const cJSON *k;
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "$ref"))) {
        const cJSON *target = cJSON_IsString(k) ? resolve(c, k->valuestring) : NULL;
        if (!target) {
            c->bad_schema = 1;
            return 0;
        }
        if (c->refs >= MAX_REFS) {
            c->bad_schema = 1;
            return 0;
        }
        c->refs++;
        int ok = check(c, target, v, path, depth);
        c->refs--;
        if (!ok)
            return 0;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "nullable")) && cJSON_IsNull(v))
        return 1;   /* OpenAPI's way (Gemini schemas) of allowing null */
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "type"))) {
        int ok = 0;
        if (cJSON_IsString(k))
            ok = type_matches(v, k->valuestring);
        else if (cJSON_IsArray(k))
            for (const cJSON *t = k->child; t && !ok; t = t->next)
                ok = cJSON_IsString(t) && type_matches(v, t->valuestring);
        if (!ok)
            return fail(c, path, "wrong type");
    }
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "enum"))) {
        int ok = 0;
        for (const cJSON *e = k->child; e && !ok; e = e->next)
            ok = cJSON_Compare(e, v, 1);
        if (!ok)
            return fail(c, path, "not one of enum");
    }
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "const")) && !cJSON_Compare(k, v, 1))
        return fail(c, path, "not the const value");
    static const char *const combos[] = {"anyOf", "oneOf", "allOf"};
    for (size_t i = 0; i < 3; i++)
        if ((k = cJSON_GetObjectItemCaseSensitive(s, combos[i])) &&
            !check_all(c, k, v, path, depth, combos[i]))
            return 0;
    if (cJSON_IsObject(v)) {
        const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
        const cJSON *addl = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
        for (const cJSON *r = (k = cJSON_GetObjectItemCaseSensitive(s, "required")) ? k->child : NULL;
             r; r = r->next)
            if (cJSON_IsString(r) && !cJSON_GetObjectItemCaseSensitive(v, r->valuestring))
                return fail(c, &(vpath){path, r->valuestring, 0}, "required");
        for (const cJSON *m = v->child; m; m = m->next) {
            const vpath *sub = &(vpath){path, m->string ? m->string : "", 0};
            const cJSON *ps = props ? cJSON_GetObjectItemCaseSensitive(props, m->string) : NULL;
            if (ps) {
                if (!check(c, ps, m, sub, depth + 1))
                    return 0;
            } else if (cJSON_IsFalse(addl)) {
                return fail(c, sub, "additional property");
            } else if (addl && !check(c, addl, m, sub, depth + 1)) {
                return 0;
            }
        }
    }
    if (cJSON_IsArray(v)) {
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items");
        int i = 0;
        for (const cJSON *e = v->child; e && items; e = e->next, i++)
            if (!check(c, items, e, &(vpath){path, NULL, i}, depth + 1))
                return 0;
        int n = cJSON_GetArraySize(v);
        if ((k = cJSON_GetObjectItemCaseSensitive(s, "minItems")) && cJSON_IsNumber(k) && n < k->valuedouble)
            return fail(c, path, "too few items");
        if ((k = cJSON_GetObjectItemCaseSensitive(s, "maxItems")) && cJSON_IsNumber(k) && n > k->valuedouble)
            return fail(c, path, "too many items");
    }
    if (cJSON_IsString(v)) {
        double n = (double)utf8_chars(v->valuestring);
        if ((k = cJSON_GetObjectItemCaseSensitive(s, "minLength")) && cJSON_IsNumber(k) && n < k->valuedouble)
            return fail(c, path, "too short");
        if ((k = cJSON_GetObjectItemCaseSensitive(s, "maxLength")) && cJSON_IsNumber(k) && n > k->valuedouble)
            return fail(c, path, "too long");
    }
    if (cJSON_IsNumber(v)) {
        double n = v->valuedouble;
        if ((k = cJSON_GetObjectItemCaseSensitive(s, "minimum")) && cJSON_IsNumber(k) && n < k->valuedouble)
            return fail(c, path, "below minimum");
        if ((k = cJSON_GetObjectItemCaseSensitive(s, "maximum")) && cJSON_IsNumber(k) && n > k->valuedouble)
            return fail(c, path, "above maximum");
    }
    return 1;
}

int llf_schema_validate(const cJSON *schema, const cJSON *value, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    vctx c = {schema, why, whylen, 0, 0, 0, 0};
    c.max_steps = MAX_STEPS + STEPS_PER_NODE * count_nodes(value, 0);
    int ok = check(&c, schema, value, NULL, 0);
    if (c.bad_schema) {
        if (why && whylen)
            snprintf(why, whylen, "unusable schema");
        return -1;
    }
    return ok;
}
