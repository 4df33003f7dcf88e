/* dialect_gemini.c — the Gemini generateContent dialect: POST
 * {base}/models/{model}:generateContent (or :streamGenerateContent; a tuned
 * model's {base}/tunedModels/{name}:...), key in
 * `x-goog-api-key` (or a `key=` query parameter, which we never forward),
 * model in the URL, success = an object with a `candidates` array; and its
 * translators to and from the hub (OpenAI chat).
 *
 * Differences bridged here: roles are user/model and must alternate
 * (consecutive turns merge); the system prompt is systemInstruction; function
 * calls carry no ids, or optional ones (we name them call_<responseId>_<n>,
 * unique across turns, and pair each functionResponse with the call of its
 * id when both have one, else with the oldest unanswered call of that
 * name); the first call of a model turn carries the placeholder thought
 * signature, which Gemini 3 requires of calls it did not make; arguments
 * are objects;
 * sampling lives in generationConfig; JSON output is responseMimeType plus
 * responseSchema, an OpenAPI subset (only its fields are kept, so
 * additionalProperties, $schema, $defs, exclusiveMinimum and the like go; a
 * $ref cannot be expressed). Input is accepted in
 * camelCase or snake_case, and numbers also as strings (proto3 JSON);
 * output is camelCase, with numbers. Hub fields Gemini would
 * reject and that do not change the answer are dropped: stream (the URL
 * says it), stream_options, user, logit_bias, parallel_tool_calls, store,
 * metadata, service_tier, reasoning_effort, presence_penalty,
 * frequency_penalty, and any other unknown field. A Gemini request asking
 * what the hub cannot carry (an enum's bare label, logprobs, images or
 * audio out) is refused, not sent without it (output_refused), as is one
 * with a cachedContent (its prompt is Gemini's), and an OpenAI one asking
 * for audio out, a web search or calling the deprecated functions
 * (llf_hub_openai_only). OpenAI's allowed_tools declares only the functions
 * it names. Gemini 3's multimodal function responses (images in a
 * functionResponse's parts) are the hub tool message's image parts. A
 * function name OpenAI and Anthropic refuse ("files.read") is sent as one
 * they take, and an answer's calls are named back (llf_hub_names_for_others). */
#include "dialect.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ascii.h"
#include "hubutil.h"
#include "log.h"
#include "models.h"

/* The last ':' of s, or of its percent-encoding "%3A", which some HTTP
 * clients write in a path; *seplen: its length. NULL when none. */
static const char *last_colon(const char *s, size_t *seplen)
{
    const char *at = NULL;
    for (const char *p = s; *p; p++)
        if (*p == ':' || (p[0] == '%' && p[1] == '3' && (p[2] == 'A' || p[2] == 'a')))
            at = p;
    if (at)
        *seplen = *at == ':' ? 1 : 3;
    return at;
}

/* The major version of a Gemini model by its name, "gemini-" and a number
 * ("gemini-3-pro-preview", "models/gemini-2.5-flash": 3, 2), after any
 * "models/" or other prefix; 0 for any other name ("gemini-flash-latest",
 * "gemini-exp-1206", "gemma-3-27b-it", a tuned model). */
static int gemini_major(const char *model)
{
    const char *n = llf_model_name(model);
    int v = 0;
    if (strncmp(n, "gemini-", 7) != 0)
        return 0;
    for (n += 7; *n >= '0' && *n <= '9' && v < 1000; n++)
        v = v * 10 + (*n - '0');
    return v;
}

/* /models/M:generateContent, or a tuned model's /tunedModels/M:... (its
 * model then "tunedModels/M", the name Gemini gives it) */
static int match_op(const char *rest, char **model, int *stream)
{
    static const char pre[] = "/models/", tuned[] = "/tunedModels/";
    *model = NULL;
    *stream = 0;
    int is_tuned = !strncmp(rest, tuned, sizeof tuned - 1);
    const char *m = is_tuned ? rest + sizeof tuned - 1 : !strncmp(rest, pre, sizeof pre - 1) ? rest + sizeof pre - 1 : NULL;
    size_t seplen = 0;
    const char *colon = m ? last_colon(m, &seplen) : NULL;
    if (!colon || colon == m || memchr(m, '/', (size_t)(colon - m)))
        return 0;
    if (strcmp(colon + seplen, "generateContent") == 0)
        *stream = 0;
    else if (strcmp(colon + seplen, "streamGenerateContent") == 0)
        *stream = 1;
    else
        return 0;
    const char *name = is_tuned ? rest + 1 : m;
    *model = llf_strndup(name, (size_t)(colon - name));
    return *model != NULL;
}

/* A model that names its collection (tunedModels/M, or models/M as Google's
 * SDKs write it) is the path itself; any other is one of models/. */
static int op_path(llf_buf *out, const char *model, int stream)
{
    int named = !strncmp(model, "tunedModels/", 12) || !strncmp(model, "models/", 7);
    return llf_buf_printf(out, "/%s%s:%s", named ? "" : "models/", model,
                          stream ? "streamGenerateContent" : "generateContent");
}

static int auth_headers(llf_headers *h, const char *key)
{
    return key ? llf_headers_add2(h, "x-goog-api-key: ", key) : 0;
}

static int body_streams(const cJSON *body)
{
    (void)body;
    return 0;   /* Gemini streams by operation name, not by a body field */
}

static int success_shape(const cJSON *body)
{
    /* A blocked prompt is answered with promptFeedback and no candidates:
     * well-formed, and judged later as a refusal. */
    return cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(body, "candidates")) ||
           cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(body, "promptFeedback"),
                                            "blockReason");
}

/* camelCase or snake_case */
static const cJSON *get2(const cJSON *o, const char *camel, const char *snake)
{
    const cJSON *v = llf_get(o, camel);
    return v ? v : llf_get(o, snake);
}

/* Is s one whole JSON number, as RFC 8259 writes one
 * (-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?), nothing around it? */
static int number_text(const char *s)
{
#define DIGIT(c) ((c) >= '0' && (c) <= '9')
    const char *p = s + (*s == '-');
    if (*p == '0')
        p++;
    else if (DIGIT(*p))
        while (DIGIT(*p))
            p++;
    else
        return 0;
    if (*p == '.') {
        if (!DIGIT(p[1]))
            return 0;
        for (p++; DIGIT(*p); p++)
            ;
    }
    if (*p == 'e' || *p == 'E') {
        p += 1 + (p[1] == '+' || p[1] == '-');
        if (!DIGIT(*p))
            return 0;
        while (DIGIT(*p))
            p++;
    }
#undef DIGIT
    return *p == '\0';
}

/* A number of a Gemini request as a number. Gemini's REST API reads
 * proto3 JSON, where a numeric field may be written as a string
 * ("maxOutputTokens": "50", "temperature": "0.2"; proto3 JSON writes
 * 64-bit integers so): a string that is one whole finite number is that
 * number. 1 and *num (new) for a number or such a string; 0 for any other
 * value (invalid as a wrong type is: copied as it is); -1 on no memory. */
static int proto_number(const cJSON *v, cJSON **num)
{
    *num = NULL;
    if (cJSON_IsNumber(v))
        return (*num = cJSON_Duplicate(v, 0)) ? 1 : -1;
    if (!cJSON_IsString(v) || !number_text(v->valuestring))
        return 0;
    /* (cJSON's reading: locale-proof, and a number a double does not hold
     * keeps its digits, as one written bare would) */
    cJSON *n = llf_json_parse_exact(v->valuestring, strlen(v->valuestring));
    if (!n)
        return -1;   /* (it is a number: only memory can fail) */
    if (!isfinite(n->valuedouble)) {
        cJSON_Delete(n);
        return 0;
    }
    *num = n;
    return 1;
}

/* v read as proto_number reads it: 1 and *d, 0 not a number, -1 on no
 * memory. */
static int proto_double(const cJSON *v, double *d)
{
    if (cJSON_IsNumber(v)) {   /* (the usual case, without a copy) */
        *d = v->valuedouble;
        return 1;
    }
    cJSON *n;
    int rc = proto_number(v, &n);
    if (rc == 1)
        *d = n->valuedouble;
    cJSON_Delete(n);
    return rc;
}

/* A repeated field of a request, element by element: Google reads a
 * single value given for one as a list of one, and its own REST examples
 * write "contents": {"parts": {"text": ...}}, so a program may send either.
 * for (p = each_first(f); p; p = each_next(f, p)) */
static const cJSON *each_first(const cJSON *f)
{
    return cJSON_IsArray(f) ? f->child : f && !cJSON_IsNull(f) ? f : NULL;
}

static const cJSON *each_next(const cJSON *f, const cJSON *at)
{
    return cJSON_IsArray(f) ? at->next : NULL;
}

static const cJSON *each_last(const cJSON *f)
{
    return cJSON_IsArray(f) ? cJSON_GetArrayItem(f, cJSON_GetArraySize(f) - 1) : each_first(f);
}

/* The text of a Content's parts (each_first), joined by newlines. NULL on
 * no memory. */
static char *parts_text(const cJSON *parts)
{
    llf_buf b = {0};
    int first = 1;
    for (const cJSON *p = each_first(parts); p; p = each_next(parts, p)) {
        const char *t = llf_get_str(p, "text");
        if (t && ((!first && llf_buf_adds(&b, "\n")) || llf_buf_adds(&b, t))) {
            llf_buf_free(&b);
            return NULL;
        }
        first &= !t;
    }
    return llf_buf_steal(&b);
}

/* Gemini's upper-case OpenAPI type names → JSON Schema's. */
static cJSON *lower_type(const char *t)
{
    char low[32];
    snprintf(low, sizeof low, "%s", t);
    for (char *p = low; *p; p++)
        *p = (char)llf_ascii_lower(*p);
    return cJSON_CreateString(low);
}

/* Is key one of a schema's keywords whose value is data, not a schema? */
static int data_keyword(const char *key)
{
    static const char *const data[] = {"enum", "example", "examples", "default", "const"};
    for (size_t i = 0; i < sizeof data / sizeof data[0]; i++)
        if (!strcmp(key, data[i]))
            return 1;
    return 0;
}

/* A field of Gemini's Schema by the name JSON Schema gives it: the proto
 * field names (any_of, max_items...), which Google takes in a request as
 * it takes the camelCase ones, are key's camelCase; any other key is
 * itself. */
static const char *schema_field(const char *key)
{
    static const char *const snake[][2] = {
        {"any_of", "anyOf"},         {"property_ordering", "propertyOrdering"},
        {"max_items", "maxItems"},   {"min_items", "minItems"},
        {"min_length", "minLength"}, {"max_length", "maxLength"},
        {"min_properties", "minProperties"}, {"max_properties", "maxProperties"}};
    for (size_t i = 0; i < sizeof snake / sizeof snake[0]; i++)
        if (!strcmp(key, snake[i][0]))
            return snake[i][1];
    return key;
}

/* Is key (schema_field's) a number of Gemini's Schema: its bounds, int64
 * (which proto3 JSON writes as strings: "maxItems": "2") or double? */
static int schema_number(const char *key)
{
    static const char *const nums[] = {"maxItems",      "minItems",      "minLength", "maxLength",
                                       "minProperties", "maxProperties", "minimum",   "maximum"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (!strcmp(key, nums[i]))
            return 1;
    return 0;
}

/* A copy of a Gemini schema with its type names lower-cased (Gemini's
 * upper-case OpenAPI names → JSON Schema). NULL on no memory.
 * names: s maps property names to schemas ("properties"): its keys are
 * names, never keywords to lowercase. proto: s is Gemini's Schema
 * (responseSchema, parameters), read as Google reads a request's
 * messages: a field may be named in snake_case (schema_field, the
 * camelCase one written; given both ways, the first), a number written
 * as a string (proto_number: a bound is int64, a string in proto3 JSON's
 * own writing, which OpenAI and Anthropic refuse), a repeated field
 * (required, enum, anyOf, propertyOrdering) written as a single value is
 * a list of one, and a null field is not given (but a null example or
 * default, which may be any value). A JSON Schema (responseJsonSchema,
 * parametersJsonSchema) is no message: its keys go as written. */
static cJSON *schema_from_gemini(const cJSON *s, int names, int proto)
{
    cJSON *c = cJSON_Duplicate(s, 0);
    if (!c)
        return NULL;
    if (cJSON_IsString(c) || !(cJSON_IsObject(s) || cJSON_IsArray(s)))
        return c;
    for (const cJSON *k = s->child; k; k = k->next) {
        const char *key = names || !k->string ? NULL : proto ? schema_field(k->string) : k->string;
        if (proto && key && cJSON_IsNull(k) && strcmp(key, "example") && strcmp(key, "default"))
            continue;
        if (proto && key && cJSON_GetObjectItemCaseSensitive(c, key))
            continue;   /* (named both ways) */
        cJSON *v;
        int is_num = proto && key && schema_number(key) ? proto_number(k, &v) : 0;
        if (is_num) {
            /* (v: the number, or NULL on no memory) */
        } else if (key && !strcmp(key, "type") && cJSON_IsString(k)) {
            v = lower_type(k->valuestring);
        } else if (key && data_keyword(key)) {
            v = cJSON_Duplicate(k, 1);
        } else {
            int are_names = key && cJSON_IsObject(k) &&
                            (!strcmp(key, "properties") || !strcmp(key, "patternProperties"));
            v = schema_from_gemini(k, are_names, proto);
        }
        int listed = key && (!strcmp(key, "required") || !strcmp(key, "enum") || !strcmp(key, "anyOf") ||
                             !strcmp(key, "propertyOrdering"));
        if (v && proto && listed && !cJSON_IsArray(v)) {
            cJSON *one = cJSON_CreateArray();
            if (!one || llf_append(one, v)) {   /* (which frees v when it fails) */
                if (!one)
                    cJSON_Delete(v);
                cJSON_Delete(one);
                v = NULL;
            } else {
                v = one;
            }
        }
        if (!v || (cJSON_IsArray(s) ? llf_append(c, v) : llf_add(c, key ? key : k->string, v))) {
            cJSON_Delete(c);
            return NULL;
        }
    }
    return c;
}

/* Is key a field of Gemini's Schema (google.genai.types.Schema, an OpenAPI
 * subset)? It refuses any other, 400 "Invalid JSON payload received.
 * Unknown name \"exclusiveMinimum\" at '...': Cannot find field." */
static int gemini_field(const char *key)
{
    static const char *const fields[] = {
        "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
        "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
        "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (!strcmp(key, fields[i]))
            return 1;
    return 0;
}

static int gemini_types(cJSON *c);
static int array_items(const cJSON *s, cJSON *c);

/* Does schema s use a $ref, which Gemini's form cannot express without its
 * definitions, anywhere: also under what that form leaves out (allOf, as
 * Pydantic writes a described field's model, not, a tuple's items),
 * whose $ref would otherwise go unseen and leave a field unconstrained.
 * Values (const, enum, default, examples) and unused definitions are not
 * schemas; the keys of properties and the like are names. */
static int uses_ref(const cJSON *s)
{
    static const char *const values[] = {"const", "enum", "default", "example", "examples", "$defs", "definitions"};
    static const char *const names[] = {"properties", "patternProperties", "dependentSchemas", "dependencies"};
    if (cJSON_IsArray(s)) {
        for (const cJSON *k = s->child; k; k = k->next)
            if (uses_ref(k))
                return 1;
        return 0;
    }
    for (const cJSON *k = cJSON_IsObject(s) ? s->child : NULL; k; k = k->next) {
        int value = 0, named = 0;
        for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
            value |= !strcmp(k->string, values[i]);
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            named |= !strcmp(k->string, names[i]) && cJSON_IsObject(k);
        if (!strcmp(k->string, "$ref"))
            return 1;
        for (const cJSON *v = named ? k->child : NULL; v; v = v->next)
            if (uses_ref(v))
                return 1;
        if (!value && !named && uses_ref(k))
            return 1;
    }
    return 0;
}

/* A JSON Schema in the form Gemini's takes: only its fields, through
 * properties, items and anyOf (a oneOf read as an anyOf, a little looser);
 * one type, nullable and no const (gemini_types); a string's format only
 * "enum" or "date-time", the two Gemini takes for it. What is left out
 * narrows nothing Gemini could have kept, and the answer is still checked
 * against the program's own schema (one with a $ref is not sent:
 * uses_ref). NULL on no memory. */
static cJSON *schema_for_gemini(const cJSON *s)
{
    cJSON *c = cJSON_CreateObject();
    if (!c || !cJSON_IsObject(s))
        return c;   /* (true, false: Gemini has no such schema) */
    for (const cJSON *k = s->child; k; k = k->next) {
        const char *key = k->string;
        if (!strcmp(key, "oneOf") && !cJSON_GetObjectItemCaseSensitive(s, "anyOf"))
            key = "anyOf";
        else if (strcmp(key, "const") && !gemini_field(key))
            continue;   /* (const: made an enum by gemini_types) */
        int sub = !strcmp(key, "properties") || !strcmp(key, "items") || !strcmp(key, "anyOf");
        if (cJSON_GetObjectItemCaseSensitive(c, key) ||
            (sub && !(strcmp(key, "anyOf") ? cJSON_IsObject(k) : cJSON_IsArray(k))))
            continue;   /* (twice, or not a shape Gemini's takes: the tuple form of items) */
        cJSON *v;
        if (!strcmp(key, "properties") || !strcmp(key, "anyOf")) {
            v = cJSON_IsArray(k) ? cJSON_CreateArray() : cJSON_CreateObject();
            for (const cJSON *b = k->child; v && b; b = b->next) {
                cJSON *one = schema_for_gemini(b);
                if (cJSON_IsArray(v) ? llf_append(v, one) : llf_add(v, b->string, one)) {
                    cJSON_Delete(v);
                    v = NULL;
                }
            }
        } else if (!strcmp(key, "items")) {
            v = schema_for_gemini(k);
        } else {
            v = !strcmp(key, "type") && cJSON_IsString(k) ? lower_type(k->valuestring) : cJSON_Duplicate(k, 1);
        }
        if (!v || llf_add(c, key, v)) {
            cJSON_Delete(c);
            return NULL;
        }
    }
    if (gemini_types(c) || array_items(s, c)) {
        cJSON_Delete(c);
        return NULL;
    }
    const char *type = llf_get_str(c, "type");
    const cJSON *fm = llf_get(c, "format");
    int keep = cJSON_IsString(fm) && (!type || strcmp(type, "string") || !strcmp(fm->valuestring, "date-time") ||
                                      (!strcmp(fm->valuestring, "enum") && llf_get(c, "enum")));
    if (fm && !keep)   /* (format "enum" without one: 400 "should be non-empty for STRING type with enum format") */
        cJSON_DeleteItemFromObjectCaseSensitive(c, "format");
    return c;
}

/* An array's items, which Gemini requires of every array (400
 * "...properties[tags].items: missing field"), where JSON Schema, OpenAI
 * and Anthropic need none: given c (s in Gemini's form) none, a tuple's
 * (prefixItems, or items as a list) its one schema or an anyOf of them,
 * and an array of anything an empty schema, which narrows nothing. 0, or
 * -1 on no memory. */
static int array_items(const cJSON *s, cJSON *c)
{
    const char *type = llf_get_str(c, "type");
    /* (the branches a list of types became: the array's items, or none) */
    cJSON *any = cJSON_GetObjectItemCaseSensitive(c, "anyOf");
    const cJSON *own = cJSON_GetObjectItemCaseSensitive(c, "items");
    for (cJSON *b = !type && cJSON_IsArray(any) ? any->child : NULL; b; b = b->next) {
        const char *bt = llf_get_str(b, "type");
        if (bt && !strcasecmp(bt, "array") && !cJSON_GetObjectItemCaseSensitive(b, "items") &&
            llf_add(b, "items", own ? cJSON_Duplicate(own, 1) : cJSON_CreateObject()))
            return -1;
    }
    if (!type || strcasecmp(type, "array") || own)
        return 0;
    const cJSON *tuple = cJSON_GetObjectItemCaseSensitive(s, "prefixItems");
    if (!cJSON_IsArray(tuple))
        tuple = cJSON_GetObjectItemCaseSensitive(s, "items");
    int n = cJSON_IsArray(tuple) ? cJSON_GetArraySize(tuple) : 0;
    cJSON *items = n == 1 ? schema_for_gemini(tuple->child) : cJSON_CreateObject();
    any = NULL;
    if (items && n > 1 && (!(any = cJSON_CreateArray()) || llf_add(items, "anyOf", any)))
        any = NULL, cJSON_Delete(items), items = NULL;   /* (llf_add frees any when it fails) */
    for (const cJSON *b = any ? tuple->child : NULL; b; b = b->next)
        if (llf_append(any, schema_for_gemini(b))) {
            cJSON_Delete(items);
            return -1;
        }
    return items && !llf_add(c, "items", items) ? 0 : -1;
}

/* A copied schema object (and its own sub-schemas, already fixed) in the
 * form Gemini's schema takes, an OpenAPI subset with one type and a
 * nullable flag: a type list ["string","null"] becomes type + nullable (it
 * answers 400, "Proto field is not repeating"), a list of several types an
 * anyOf of each, a {"type":"null"} branch of anyOf or a null in an enum the
 * nullable flag, a string const an enum of one (Gemini has no const), and
 * an enum of other than strings none. 0, or -1. */
static int gemini_types(cJSON *c)
{
    int nullable = 0;
    cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "type");
    if (cJSON_IsArray(t)) {
        cJSON *kinds = cJSON_CreateArray();
        if (!kinds)
            return -1;
        for (const cJSON *k = t->child; k; k = k->next)
            if (cJSON_IsString(k) && strcasecmp(k->valuestring, "null") == 0)
                nullable = 1;
            else if (cJSON_IsString(k) && llf_append(kinds, lower_type(k->valuestring)))
                return cJSON_Delete(kinds), -1;
        cJSON_DeleteItemFromObjectCaseSensitive(c, "type");
        int n = cJSON_GetArraySize(kinds);
        if (n > 1 && cJSON_GetObjectItemCaseSensitive(c, "anyOf"))
            n = 1;   /* (an anyOf of its own already: the first type) */
        if (n == 1) {
            cJSON *one = cJSON_DetachItemFromArray(kinds, 0);
            cJSON_Delete(kinds);
            if (llf_add(c, "type", one))
                return -1;
        } else if (n > 1) {
            cJSON *any = cJSON_CreateArray();
            for (cJSON *k = kinds->child; any && k; k = k->next) {
                cJSON *b = cJSON_CreateObject();
                int bad = !b || llf_add(b, "type", cJSON_Duplicate(k, 0));
                if (bad)
                    cJSON_Delete(b);
                if (bad || llf_append(any, b)) {   /* (which frees b when it fails) */
                    cJSON_Delete(any);
                    any = NULL;
                }
            }
            cJSON_Delete(kinds);
            if (!any || llf_add(c, "anyOf", any))
                return -1;
        } else {
            cJSON_Delete(kinds);
        }
    }
    cJSON *any = cJSON_GetObjectItemCaseSensitive(c, "anyOf");
    for (cJSON *b = cJSON_IsArray(any) ? any->child : NULL, *next; b; b = next) {
        next = b->next;
        const cJSON *bt = cJSON_GetObjectItemCaseSensitive(b, "type");
        if (cJSON_GetArraySize(b) == 1 && cJSON_IsString(bt) && strcasecmp(bt->valuestring, "null") == 0) {
            cJSON_Delete(cJSON_DetachItemViaPointer(any, b));
            nullable = 1;
        }
    }
    cJSON *en = cJSON_GetObjectItemCaseSensitive(c, "enum");
    int strings = 1;
    for (cJSON *v = cJSON_IsArray(en) ? en->child : NULL, *next; v; v = next) {
        next = v->next;
        if (cJSON_IsNull(v)) {
            cJSON_Delete(cJSON_DetachItemViaPointer(en, v));
            nullable = 1;
        } else {
            strings &= cJSON_IsString(v);
        }
    }
    if (en && (!strings || !cJSON_IsArray(en)))   /* Gemini's enum takes strings only */
        cJSON_DeleteItemFromObjectCaseSensitive(c, "enum");
    cJSON *k = cJSON_DetachItemFromObjectCaseSensitive(c, "const");
    if (cJSON_IsString(k)) {
        cJSON *one = cJSON_CreateArray();
        if (!one || llf_append(one, k)) {   /* (which frees k when it fails) */
            if (!one)
                cJSON_Delete(k);
            cJSON_Delete(one);
            return -1;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(c, "enum");
        if (llf_add(c, "enum", one))
            return -1;
    } else {
        cJSON_Delete(k);   /* Gemini's enum takes strings only */
    }
    /* An enum is a string's only (400 "enum: only allowed for STRING
     * type", which a JSON Schema without a type also gets), and holds no
     * empty string (400 "enum[0]: cannot be empty"). */
    en = cJSON_GetObjectItemCaseSensitive(c, "enum");
    for (cJSON *v = en ? en->child : NULL, *next; v; v = next) {
        next = v->next;
        if (cJSON_IsString(v) && v->valuestring && !v->valuestring[0])
            cJSON_Delete(cJSON_DetachItemViaPointer(en, v));
    }
    t = cJSON_GetObjectItemCaseSensitive(c, "type");
    if (en && (!en->child || (t && !(cJSON_IsString(t) && !strcasecmp(t->valuestring, "string")))))
        cJSON_DeleteItemFromObjectCaseSensitive(c, "enum");
    else if (en && !t && !cJSON_GetObjectItemCaseSensitive(c, "anyOf") && !cJSON_AddStringToObject(c, "type", "string"))
        return -1;
    if (nullable && !cJSON_GetObjectItemCaseSensitive(c, "nullable") && !cJSON_AddTrueToObject(c, "nullable"))
        return -1;
    return 0;
}

static int is_image(const char *mime)
{
    return mime && strncmp(mime, "image/", 6) == 0;
}

/* ---- requests: Gemini → hub ------------------------------------------- */

/* The function calls of a Gemini history so far, each waiting for its
 * response: as many as the history holds (no table of fixed size, which
 * would leave a long agent run no member to fall back to). */
typedef struct pending {
    const char *name;   /* its function (the request's own string) */
    const char *gid;    /* Gemini's id of it (functionCall.id), or NULL */
    char id[32];        /* the hub's: call_<n> */
    int answered;
} pending;

typedef struct pendings {
    pending *v;
    size_t n, cap;
} pendings;

/* A new call's place at the end of calls (its fields unset), or NULL on
 * no memory. */
static pending *pending_add(pendings *calls)
{
    if (calls->n == calls->cap) {
        size_t cap = calls->cap ? calls->cap * 2 : 16;
        pending *v = realloc(calls->v, cap * sizeof *v);
        if (!v)
            return NULL;
        calls->v = v;
        calls->cap = cap;
    }
    return &calls->v[calls->n++];
}

/* The call a functionResponse answers, marked answered: the one of its id
 * (gid, Gemini's functionResponse.id), which pairs results given in any
 * order; when it has none or names no call, the oldest unanswered call of
 * its function's name. NULL when none. */
static pending *pending_answered(pendings *calls, const char *gid, const char *name)
{
    pending *to = NULL;
    for (size_t i = 0; i < calls->n && gid && !to; i++)
        if (!calls->v[i].answered && calls->v[i].gid && !strcmp(calls->v[i].gid, gid))
            to = &calls->v[i];
    for (size_t i = 0; i < calls->n && name && !to; i++)
        if (!calls->v[i].answered && !strcmp(calls->v[i].name, name))
            to = &calls->v[i];
    if (to)
        to->answered = 1;
    return to;
}

/* A functionResponse's response as a tool message's text, as Google
 * documents it: "Use 'output' key to specify function output and 'error'
 * key to specify error details (if any). If 'output' and 'error' keys are
 * not specified, then whole 'response' is treated as function output." A
 * lone output is its value (a string as it is), a lone string content or
 * result (what SDKs wrap a plain value in) that string, a lone error its
 * details with *failed set (the hub marks the message:
 * LLF_HUB_TOOL_ERROR); any other response goes whole, as JSON, so that no
 * field of it is lost, *failed set when it has an error. (A null member is
 * one not given.) NULL on no memory, or when there is no response. */
static char *response_text(const cJSON *resp, int *failed)
{
    const cJSON *only = NULL;
    int n = 0;
    for (const cJSON *k = cJSON_IsObject(resp) ? resp->child : NULL; k; k = k->next)
        if (!cJSON_IsNull(k) && n++ == 0)
            only = k;
    const cJSON *err = llf_get(resp, "error");
    *failed = err && !cJSON_IsNull(err);
    if (n != 1)
        return cJSON_PrintUnformatted(resp);
    const char *key = only->string;
    if (!strcmp(key, "error") || !strcmp(key, "output") ||
        (cJSON_IsString(only) && (!strcmp(key, "content") || !strcmp(key, "result"))))
        return cJSON_IsString(only) ? llf_strdup(only->valuestring) : cJSON_PrintUnformatted(only);
    return cJSON_PrintUnformatted(resp);
}

/* A text file given inline (text/plain, text/markdown, text/csv, source
 * code, JSON: what Gemini reads as plain text) as its text, malloc'ed;
 * NULL when its bytes are not text (not base64, not UTF-8, or holding a
 * NUL) or on no memory. */
static char *inline_text(const char *mime, const char *b64)
{
    if (!mime || (strncasecmp(mime, "text/", 5) && strcasecmp(mime, "application/json") &&
                  strcasecmp(mime, "application/xml")))
        return NULL;
    size_t n = strlen(b64), cap = n / 4 * 3 + 3;
    unsigned char *t = malloc(cap + 1);
    const char *p = b64, *end = b64 + n;
    llf_b64 st = {0, 0};
    size_t len = t ? llf_b64_decode(&st, &p, end, t, cap) : 0;
    char *fixed = NULL;
    p += strspn(p, "= \t\r\n");   /* (its padding) */
    if (!t || p != end || memchr(t, '\0', len)) {
        free(t);
        return NULL;
    }
    t[len] = '\0';
    if (llf_utf8_clean((char *)t, &fixed) != 0) {   /* (not UTF-8: bytes of another charset) */
        free(fixed);
        free(t);
        return NULL;
    }
    return (char *)t;
}

/* An inlineData or a fileData (a part's, or a functionResponse part's) as
 * the hub's image_url part, an inline PDF as its file part (named by its
 * displayName, if any: OpenAI asks for a filename), an inline text file as
 * its text (inline_text), appended to parts. LLF_TR_INCOMPATIBLE for what
 * no other dialect reads: other media, or a file only Gemini can fetch. */
static int media_to_hub(const cJSON *inl, const cJSON *fd, cJSON *parts, llf_terr *e)
{
    const cJSON *src = inl ? inl : fd;
    const char *mime = cJSON_GetStringValue(get2(src, "mimeType", "mime_type"));
    const char *uri = cJSON_GetStringValue(get2(src, "fileUri", "file_uri"));
    const char *data = llf_get_str(src, "data");
    /* A file uploaded to Gemini (its Files API) or in Google Cloud
     * Storage: no other provider can fetch it, as a cachedContent. */
    if (fd && uri && (!strncasecmp(uri, "gs://", 5) || strstr(uri, "generativelanguage.googleapis.com/"))) {
        llf_terr_set(e, "gemini fileData %s (a file only Gemini can read)",
                     strncasecmp(uri, "gs://", 5) ? "from the Files API" : "at gs://");
        return LLF_TR_INCOMPATIBLE;
    }
    if (inl && data && mime && !strcasecmp(mime, "application/pdf")) {
        const char *name = cJSON_GetStringValue(get2(inl, "displayName", "display_name"));
        return llf_append(parts, llf_pdf_part(name && *name ? name : "document.pdf", data)) ? LLF_TR_ERROR
                                                                                           : LLF_TR_OK;
    }
    char *text = inl && data ? inline_text(mime, data) : NULL;
    if (text) {
        int rc = llf_append(parts, llf_text_part(text)) ? LLF_TR_ERROR : LLF_TR_OK;
        free(text);
        return rc;
    }
    if (!is_image(mime) || (inl && !data) || (fd && !uri)) {
        llf_terr_set(e, "gemini %s of type %s has no equivalent in other dialects", inl ? "inlineData" : "fileData",
                     llf_terr_word(mime));
        return LLF_TR_INCOMPATIBLE;
    }
    char *url = NULL;
    if (inl && asprintf(&url, "data:%s;base64,%s", mime, data) < 0)
        url = NULL;
    if (!inl)
        url = llf_strdup(uri);
    int rc = url && !llf_append(parts, llf_image_part(url)) ? LLF_TR_OK : LLF_TR_ERROR;
    free(url);
    return rc;
}

/* A functionResponse as a tool message's content: the text of its response
 * (response_text), and after it the media of its "parts" (Gemini 3's
 * multimodal function responses: an image a tool returned, an inlineData or
 * fileData), each after its displayName, by which the response may name it
 * ({"$ref": name}). Media make the content a list of parts (an Anthropic
 * member's tool_result takes images, an OpenAI member's tool message does
 * not: refused there). *content: the new content. */
static int response_content(const cJSON *fr, const char *text, cJSON **content, llf_terr *e)
{
    const cJSON *media = llf_get(fr, "parts");
    cJSON *parts = cJSON_CreateArray();
    int rc = parts && !llf_append(parts, llf_text_part(text)) ? LLF_TR_OK : LLF_TR_ERROR;
    for (const cJSON *p = each_first(media); p && rc == LLF_TR_OK; p = each_next(media, p)) {
        const cJSON *inl = get2(p, "inlineData", "inline_data"), *fd = get2(p, "fileData", "file_data");
        const char *name = cJSON_GetStringValue(get2(inl ? inl : fd, "displayName", "display_name"));
        if (!inl && !fd) {
            llf_terr_set(e, "gemini functionResponse part has no equivalent in other dialects");
            rc = LLF_TR_INCOMPATIBLE;
        } else if (name && llf_append(parts, llf_text_part(name))) {
            rc = LLF_TR_ERROR;
        } else {
            rc = media_to_hub(inl, fd, parts, e);
        }
    }
    if (rc == LLF_TR_OK && cJSON_GetArraySize(parts) > 1) {
        *content = parts;
        return LLF_TR_OK;
    }
    cJSON_Delete(parts);
    if (rc == LLF_TR_OK && !(*content = cJSON_CreateString(text)))
        rc = LLF_TR_ERROR;
    return rc;
}

/* A part holding nothing but a thought signature, as Gemini's last streamed
 * chunk can carry one, kept by the program in its history: nothing for
 * another dialect, which has no use for the signature. */
static int signature_only(const cJSON *p)
{
    int n = 0;
    for (const cJSON *f = cJSON_IsObject(p) ? p->child : NULL; f; f = f->next, n++)
        if (strcmp(f->string, "thoughtSignature") && strcmp(f->string, "thought_signature"))
            return 0;
    return n > 0;
}

static int content_to_hub(const cJSON *turn, cJSON *msgs, pendings *calls, llf_terr *e)
{
    const char *role = llf_get_str(turn, "role");
    int model = role && strcmp(role, "model") == 0;
    cJSON *parts = cJSON_CreateArray(), *tcs = cJSON_CreateArray();
    int rc = parts && tcs ? LLF_TR_OK : LLF_TR_ERROR, images = 0;
    const cJSON *gparts = llf_get(turn, "parts");
    for (const cJSON *p = each_first(gparts); p && rc == LLF_TR_OK; p = each_next(gparts, p)) {
        const cJSON *inl = get2(p, "inlineData", "inline_data"), *fd = get2(p, "fileData", "file_data");
        const cJSON *fc = get2(p, "functionCall", "function_call");
        const cJSON *fr = get2(p, "functionResponse", "function_response");
        if (cJSON_IsTrue(llf_get(p, "thought")) || signature_only(p))
            continue;
        if (llf_get_str(p, "text")) {
            if (llf_append(parts, llf_text_part(llf_get_str(p, "text"))))
                rc = LLF_TR_ERROR;
        } else if (inl || fd) {
            rc = media_to_hub(inl, fd, parts, e);
            images++;
        } else if (fc && model) {
            pending *pc = pending_add(calls);
            if (!pc) {
                rc = LLF_TR_ERROR;
                break;
            }
            pc->name = llf_get_str(fc, "name") ? llf_get_str(fc, "name") : "";
            pc->gid = llf_get_str(fc, "id");
            snprintf(pc->id, sizeof pc->id, "call_%zu", calls->n - 1);
            pc->answered = 0;
            if (llf_append(tcs, llf_hub_tool_call(pc->id, pc->name, llf_get(fc, "args"))))
                rc = LLF_TR_ERROR;
        } else if (fr && !model) {
            const char *name = llf_get_str(fr, "name");
            pending *to = pending_answered(calls, llf_get_str(fr, "id"), name);
            if (!to) {
                /* (OpenAI and Anthropic refuse a tool result that answers no
                 * call of the turn before: a history cut short) */
                llf_terr_set(e, "function response for an unknown call");
                rc = LLF_TR_INCOMPATIBLE;
                break;
            }
            const char *id = to->id;
            int failed = 0;
            char *text = response_text(llf_get(fr, "response"), &failed);
            cJSON *m = cJSON_CreateObject(), *content = NULL;
            rc = text && m ? response_content(fr, text, &content, e) : LLF_TR_ERROR;
            if (rc == LLF_TR_OK &&
                (llf_add(m, "role", cJSON_CreateString("tool")) ||
                 llf_add(m, "tool_call_id", cJSON_CreateString(id)) ||
                 llf_add_own(m, "content", &content) ||
                 (failed && llf_add(m, LLF_HUB_TOOL_ERROR, cJSON_CreateTrue())) || llf_append_own(msgs, &m)))
                rc = LLF_TR_ERROR;
            cJSON_Delete(content);
            cJSON_Delete(m);
            free(text);
        } else {
            llf_terr_set(e, "gemini part has no equivalent in other dialects");
            rc = LLF_TR_INCOMPATIBLE;
        }
    }
    int np = cJSON_GetArraySize(parts), nc = cJSON_GetArraySize(tcs);
    if (rc == LLF_TR_OK && (np || nc)) {
        cJSON *m = cJSON_CreateObject();
        cJSON *c = np == 1 && !images ? cJSON_CreateString(llf_get_str(parts->child, "text"))
                   : np == 0          ? cJSON_CreateNull()
                                      : cJSON_Duplicate(parts, 1);
        if (!m || llf_add(m, "role", cJSON_CreateString(model ? "assistant" : "user")) ||
            llf_add_own(m, "content", &c) || (nc && llf_add(m, "tool_calls", cJSON_Duplicate(tcs, 1))) ||
            llf_append_own(msgs, &m))
            rc = LLF_TR_ERROR;
        cJSON_Delete(c);
        cJSON_Delete(m);
    }
    cJSON_Delete(parts);
    cJSON_Delete(tcs);
    return rc;
}

/* What a generationConfig asks of the answer that the hub cannot carry, so
 * that a member of another dialect would answer unconstrained: another
 * format than text or JSON (text/x.enum wants the bare label; a JSON schema
 * would give it quoted), the tokens' logprobs (an answer's are not
 * translated back), images or audio. LLF_TR_INCOMPATIBLE naming the field,
 * else LLF_TR_OK. (A member of the program's dialect gets the body itself.) */
static int output_refused(const cJSON *gc, llf_terr *e)
{
    const cJSON *mt = get2(gc, "responseMimeType", "response_mime_type");
    if (mt && !cJSON_IsNull(mt) &&
        (!cJSON_IsString(mt) ||
         (strcasecmp(mt->valuestring, "text/plain") && strcasecmp(mt->valuestring, "application/json")))) {
        llf_terr_set(e, "gemini responseMimeType %s has no equivalent in other dialects",
                     llf_terr_word(cJSON_GetStringValue(mt)));
        return LLF_TR_INCOMPATIBLE;
    }
    const cJSON *lp = llf_get(gc, "logprobs");
    if (cJSON_IsTrue(get2(gc, "responseLogprobs", "response_logprobs")) || (lp && !cJSON_IsNull(lp))) {
        llf_terr_set(e, "gemini logprobs (an answer's are not translated)");
        return LLF_TR_INCOMPATIBLE;
    }
    const cJSON *mods = get2(gc, "responseModalities", "response_modalities");
    for (const cJSON *m = each_first(mods); m; m = each_next(mods, m))
        if (!cJSON_IsString(m) || strcasecmp(m->valuestring, "TEXT")) {
            llf_terr_set(e, "gemini response modality %s has no equivalent in other dialects",
                         llf_terr_word(cJSON_GetStringValue(m)));
            return LLF_TR_INCOMPATIBLE;
        }
    return LLF_TR_OK;
}

/* The hub's tools but those allowed (allowedFunctionNames) gone; none
 * left is LLF_TR_INCOMPATIBLE (a call was required of no function). */
static int only_allowed(cJSON *tools, const cJSON *allowed, llf_terr *e)
{
    for (cJSON *t = cJSON_IsArray(tools) ? tools->child : NULL, *next; t; t = next) {
        next = t->next;
        const char *name = llf_get_str(llf_get(t, "function"), "name");
        int ok = 0;
        for (const cJSON *a = each_first(allowed); a && !ok && name; a = each_next(allowed, a))
            ok = cJSON_IsString(a) && !strcmp(a->valuestring, name);
        if (!ok)
            cJSON_Delete(cJSON_DetachItemViaPointer(tools, t));
    }
    if (!cJSON_GetArraySize(tools)) {
        llf_terr_set(e, "gemini allowedFunctionNames names no declared function");
        return LLF_TR_INCOMPATIBLE;
    }
    return LLF_TR_OK;
}

static int given_to_hub(const cJSON *req, const char *url_model, cJSON **out, llf_terr *e)
{
    const cJSON *contents = llf_get(req, "contents");
    if (!cJSON_IsArray(contents) && !cJSON_IsObject(contents)) {
        llf_terr_set(e, "not a Gemini generateContent request");
        return LLF_TR_ERROR;
    }
    const cJSON *gc = get2(req, "generationConfig", "generation_config");
    /* What no member of another dialect can honour still leaves a hub to
     * judge the program's own answer by, marked (LLF_HUB_REFUSED). A cached
     * prompt (system instruction, documents, turns) is part of the request
     * that only the Gemini project holding it can read. */
    llf_terr refused = {{0}};
    const cJSON *cached = get2(req, "cachedContent", "cached_content");
    if (output_refused(gc, &refused) == LLF_TR_OK && cached && !cJSON_IsNull(cached))
        llf_terr_set(&refused, "gemini cachedContent (a cached prompt only Gemini holds)");
    /* A last turn of the model's: what it means to Gemini is Gemini's (it
     * may continue it); Claude would, the others answer after it. */
    const char *lrole = llf_get_str(each_last(contents), "role");
    if (!refused.detail[0] && lrole && !strcmp(lrole, "model"))
        llf_terr_set(&refused, "the conversation ends with a model turn");
    cJSON *hub = cJSON_CreateObject(), *msgs = cJSON_CreateArray(), *own = msgs;
    int rc = hub && msgs && !llf_add(hub, "model", cJSON_CreateString(url_model ? url_model : "")) &&
                     !llf_add_own(hub, "messages", &own)
                 ? LLF_TR_OK : LLF_TR_ERROR;
    cJSON_Delete(own);   /* (msgs, when not in hub) */
    const cJSON *si = get2(req, "systemInstruction", "system_instruction");
    if (rc == LLF_TR_OK && si) {
        char *text = parts_text(llf_get(si, "parts"));
        cJSON *m = cJSON_CreateObject();
        if (!text || !m || llf_add(m, "role", cJSON_CreateString("system")) ||
            llf_add(m, "content", cJSON_CreateString(text)) || llf_append_own(msgs, &m)) {
            cJSON_Delete(m);
            rc = LLF_TR_ERROR;
        }
        free(text);
    }
    pendings calls = {0};
    for (const cJSON *t = each_first(contents); t && rc == LLF_TR_OK; t = each_next(contents, t))
        rc = content_to_hub(t, msgs, &calls, e);
    free(calls.v);
    if (rc == LLF_TR_OK && gc) {
        static const char *const map[][3] = {{"temperature", "temperature", "temperature"},
                                             {"topP", "top_p", "top_p"},
                                             {"maxOutputTokens", "max_output_tokens", "max_tokens"},
                                             {"stopSequences", "stop_sequences", "stop"},
                                             {"candidateCount", "candidate_count", "n"},
                                             {"seed", "seed", "seed"},
                                             {"presencePenalty", "presence_penalty", "presence_penalty"},
                                             {"frequencyPenalty", "frequency_penalty", "frequency_penalty"}};
        /* (stopSequences [] is none, and stays none: OpenAI refuses "stop":
         * []; the others are numbers, which may come as strings) */
        for (size_t i = 0; i < sizeof map / sizeof map[0] && rc == LLF_TR_OK; i++) {
            const cJSON *v = get2(gc, map[i][0], map[i][1]);
            if (!v || cJSON_IsNull(v) || (cJSON_IsArray(v) && !v->child))
                continue;
            cJSON *num;
            int is_num = strcmp(map[i][2], "stop") ? proto_number(v, &num) : 0;
            if (is_num < 0 || llf_add(hub, map[i][2], is_num ? num : cJSON_Duplicate(v, 1)))
                rc = LLF_TR_ERROR;
        }
        const cJSON *mt = get2(gc, "responseMimeType", "response_mime_type");
        /* (a null one is none, as proto3 JSON reads null) */
        const cJSON *sch = get2(gc, "responseSchema", "response_schema");
        if (cJSON_IsNull(sch))
            sch = NULL;
        int proto = sch != NULL;   /* (Gemini's Schema, not a JSON Schema) */
        if (!sch)
            sch = get2(gc, "responseJsonSchema", "response_json_schema");
        if (cJSON_IsNull(sch))
            sch = NULL;
        if (rc == LLF_TR_OK && cJSON_IsString(mt) && strcasecmp(mt->valuestring, "application/json") == 0) {
            cJSON *rf = cJSON_CreateObject();
            if (!rf || llf_add(rf, "type", cJSON_CreateString(sch ? "json_schema" : "json_object")))
                rc = LLF_TR_ERROR;
            if (rc == LLF_TR_OK && sch) {
                cJSON *js = cJSON_CreateObject();
                if (!js || llf_add(js, "name", cJSON_CreateString("response")) ||
                    llf_add(js, "schema", schema_from_gemini(sch, 0, proto)) || llf_add_own(rf, "json_schema", &js)) {
                    cJSON_Delete(js);
                    rc = LLF_TR_ERROR;
                }
            }
            if (rc != LLF_TR_OK || llf_add_own(hub, "response_format", &rf)) {
                cJSON_Delete(rf);
                rc = LLF_TR_ERROR;
            }
        }
    }
    const cJSON *tools = llf_get(req, "tools");
    if (rc == LLF_TR_OK && each_first(tools)) {
        cJSON *ht = cJSON_CreateArray();
        if (!ht || llf_add(hub, "tools", ht))
            rc = LLF_TR_ERROR;
        for (const cJSON *t = each_first(tools); t && rc == LLF_TR_OK; t = each_next(tools, t)) {
            const cJSON *decls = get2(t, "functionDeclarations", "function_declarations");
            /* A server-side tool (googleSearch, codeExecution, urlContext...)
             * may share a Tool object with the declarations: refused there
             * as in a Tool of its own (another model would answer without
             * it). A null one is not given. */
            const cJSON *server = cJSON_IsObject(t) ? t->child : NULL;
            while (server && (cJSON_IsNull(server) || !strcmp(server->string, "functionDeclarations") ||
                              !strcmp(server->string, "function_declarations")))
                server = server->next;
            if (server || (!cJSON_IsArray(decls) && !cJSON_IsObject(decls))) {
                llf_terr_set(e, "gemini tool \"%s\" has no equivalent in other dialects",
                             llf_terr_word(server ? server->string : t->child ? t->child->string : NULL));
                rc = LLF_TR_INCOMPATIBLE;
                break;
            }
            for (const cJSON *d = each_first(decls); d && rc == LLF_TR_OK; d = each_next(decls, d)) {
                /* the parameters as Gemini's Schema, or as a JSON Schema
                 * (a null one is none, as proto3 JSON reads null) */
                const cJSON *params = llf_get(d, "parameters");
                if (cJSON_IsNull(params))
                    params = NULL;
                int proto = params != NULL;
                if (!params)
                    params = get2(d, "parametersJsonSchema", "parameters_json_schema");
                if (cJSON_IsNull(params))
                    params = NULL;
                cJSON *w = cJSON_CreateObject(), *f = cJSON_CreateObject();
                if (!w || !f || llf_add(w, "type", cJSON_CreateString("function")) ||
                    llf_copy(f, "name", d, "name") || llf_copy(f, "description", d, "description") ||
                    (params && llf_add(f, "parameters", schema_from_gemini(params, 0, proto))) ||
                    llf_add_own(w, "function", &f) || llf_append_own(ht, &w)) {
                    cJSON_Delete(f);
                    cJSON_Delete(w);
                    rc = LLF_TR_ERROR;
                }
            }
        }
    }
    const cJSON *fcc = get2(get2(req, "toolConfig", "tool_config"), "functionCallingConfig",
                            "function_calling_config");
    const char *mode = llf_get_str(fcc, "mode");
    if (rc == LLF_TR_OK && mode) {
        const cJSON *allowed = get2(fcc, "allowedFunctionNames", "allowed_function_names");
        cJSON *tc;
        const cJSON *one = each_first(allowed);
        if (!strcasecmp(mode, "ANY") && one && !each_next(allowed, one) && cJSON_IsString(one)) {
            tc = cJSON_CreateObject();
            cJSON *f = cJSON_CreateObject();
            if (!tc || !f || llf_add(tc, "type", cJSON_CreateString("function")) ||
                llf_add(f, "name", cJSON_CreateString(one->valuestring)) ||
                llf_add_own(tc, "function", &f)) {
                cJSON_Delete(f);
                cJSON_Delete(tc);
                tc = NULL;
            }
        } else {
            tc = cJSON_CreateString(!strcasecmp(mode, "ANY") ? "required" : !strcasecmp(mode, "NONE") ? "none" : "auto");
            /* Several allowed among more declared: OpenAI and Anthropic
             * name one tool or any, so the others are not offered. */
            if (tc && one &&
                (!strcasecmp(mode, "ANY") || !strcasecmp(mode, "VALIDATED")))
                rc = only_allowed((cJSON *)llf_get(hub, "tools"), allowed, e);
        }
        if (llf_add(hub, "tool_choice", tc))
            rc = LLF_TR_ERROR;
    }
    if (rc == LLF_TR_OK && llf_hub_names_for_others(hub))
        rc = LLF_TR_ERROR;
    if (rc == LLF_TR_OK && refused.detail[0] && llf_add(hub, LLF_HUB_REFUSED, cJSON_CreateString(refused.detail)))
        rc = LLF_TR_ERROR;
    if (rc != LLF_TR_OK) {
        cJSON_Delete(hub);
        return rc;
    }
    *out = hub;
    return LLF_TR_OK;
}

/* A null field is not given: a null "system" is no system message, a null
 * "tool_choice" no choice, not an error. */
static int req_to_hub(const cJSON *req, const char *url_model, cJSON **out, llf_terr *e)
{
    return llf_given_to_hub(given_to_hub, req, url_model, out, e);
}

/* ---- requests: hub → Gemini ------------------------------------------- */

static const char *guess_mime(const char *url)
{
    static const char *const ext[][2] = {{".png", "image/png"}, {".jpg", "image/jpeg"},
                                         {".jpeg", "image/jpeg"}, {".webp", "image/webp"},
                                         {".gif", "image/gif"}, {".heic", "image/heic"}};
    size_t n = strcspn(url, "?#");
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t k = strlen(ext[i][0]);
        if (n >= k && strncasecmp(url + n - k, ext[i][0], k) == 0)
            return ext[i][1];
    }
    return "image/jpeg";
}

static cJSON *blob_part(const char *key, const char *mime, const char *dkey, const char *data)
{
    cJSON *p = cJSON_CreateObject(), *b = cJSON_CreateObject();
    if (!p || !b || llf_add(b, "mimeType", cJSON_CreateString(mime)) || llf_add(b, dkey, cJSON_CreateString(data)) ||
        llf_add_own(p, key, &b)) {
        cJSON_Delete(b);
        cJSON_Delete(p);
        return NULL;
    }
    return p;
}

static cJSON *text_part(const char *t)
{
    cJSON *p = cJSON_CreateObject();
    if (!p || llf_add(p, "text", cJSON_CreateString(t))) {
        cJSON_Delete(p);
        return NULL;
    }
    return p;
}

static int parts_from_hub(const cJSON *content, cJSON *parts, llf_terr *e)
{
    if (cJSON_IsString(content))
        return !*content->valuestring || !llf_append(parts, text_part(content->valuestring)) ? LLF_TR_OK
                                                                                             : LLF_TR_ERROR;
    for (const cJSON *p = cJSON_IsArray(content) ? content->child : NULL; p; p = p->next) {
        const char *type = llf_get_str(p, "type");
        type = type ? type : "";
        cJSON *g = NULL;
        if (!strcmp(type, "text")) {
            const char *t = llf_get_str(p, "text");
            if (!t || !*t)
                continue;   /* (as an empty string content: Gemini refuses an empty text part) */
            g = text_part(t);
        } else if (!strcmp(type, "image_url")) {
            const char *url = llf_get_str(llf_get(p, "image_url"), "url"), *mime, *data;
            size_t ml;
            char mt[128];
            if (!url)
                return LLF_TR_ERROR;
            if (llf_data_url(url, &mime, &ml, &data)) {
                snprintf(mt, sizeof mt, "%.*s", (int)ml, mime);
                g = blob_part("inlineData", mt, "data", data);
            } else {
                g = blob_part("fileData", guess_mime(url), "fileUri", url);
            }
        } else if (!strcmp(type, "file")) {
            const char *name, *data = llf_pdf_data(p, &name);
            if (!data) {
                llf_terr_set(e, "a file part other than a PDF given inline has no Gemini equivalent");
                return LLF_TR_INCOMPATIBLE;
            }
            g = blob_part("inlineData", "application/pdf", "data", data);
        } else if (!strcmp(type, "input_audio")) {
            const cJSON *a = llf_get(p, "input_audio");
            char mt[64];
            snprintf(mt, sizeof mt, "audio/%s", llf_get_str(a, "format") ? llf_get_str(a, "format") : "wav");
            g = llf_get_str(a, "data") ? blob_part("inlineData", mt, "data", llf_get_str(a, "data")) : NULL;
        } else {
            llf_terr_set(e, "content part \"%s\" has no Gemini equivalent", llf_terr_word(type));
            return LLF_TR_INCOMPATIBLE;
        }
        if (llf_append(parts, g))
            return LLF_TR_ERROR;
    }
    return LLF_TR_OK;
}

static int add_content(cJSON *contents, const char *role, cJSON *parts)
{
    cJSON *last = cJSON_GetArrayItem(contents, cJSON_GetArraySize(contents) - 1);
    if (last && !strcmp(llf_get_str(last, "role"), role)) {
        cJSON *lp = cJSON_GetObjectItemCaseSensitive(last, "parts");
        while (parts->child)
            cJSON_AddItemToArray(lp, cJSON_DetachItemViaPointer(parts, parts->child));
        cJSON_Delete(parts);
        return 0;
    }
    cJSON *c = cJSON_CreateObject();
    if (!c || llf_add(c, "role", cJSON_CreateString(role)) || llf_add_own(c, "parts", &parts)) {
        cJSON_Delete(parts);
        cJSON_Delete(c);
        return -1;
    }
    return llf_append(contents, c);
}

/* The message before m in msgs, or NULL (cJSON's first item's prev is the
 * last). */
static const cJSON *before(const cJSON *msgs, const cJSON *m)
{
    return m == msgs->child ? NULL : m->prev;
}

/* The tool_calls, before m, that hold the call named id, and in *index its
 * place there; NULL when none has that id. The latest such turn: programs
 * whose ids restart each turn (call_0, call_1...) answer their last. */
static const cJSON *calls_with(const cJSON *msgs, const cJSON *m, const char *id, int *index)
{
    for (const cJSON *p = id && *id ? before(msgs, m) : NULL; p; p = before(msgs, p)) {
        const cJSON *calls = llf_get(p, "tool_calls");
        int i = 0;
        for (const cJSON *c = cJSON_IsArray(calls) ? calls->child : NULL; c; c = c->next, i++)
            if (llf_get_str(c, "id") && !strcmp(llf_get_str(c, "id"), id)) {
                *index = i;
                return calls;
            }
    }
    return NULL;
}

/* A result without an id (Gemini's OpenAI-compatible endpoint gives its
 * calls "id": "") answers the oldest call not yet answered among the
 * id-less calls of the assistant message before the run, as OpenAI pairs
 * them by position (as dialect_anthropic.c's call_ids): the k-th such
 * result the k-th such call. NULL when there is none left. */
static const cJSON *idless_call(const cJSON *msgs, const cJSON *m, int k, int *index)
{
    const cJSON *p = before(msgs, m), *calls = llf_get(p, "tool_calls");
    int i = 0;
    for (const cJSON *c = cJSON_IsArray(calls) ? calls->child : NULL; c; c = c->next, i++) {
        const char *id = llf_get_str(c, "id");
        if ((!id || !*id) && k-- == 0) {
            *index = i;
            return calls;
        }
    }
    return NULL;
}

/* Does model take media in a functionResponse's "parts" (Gemini 3's
 * multimodal function responses)? Only Gemini 3 and later do: Gemini
 * before 3 answers 400 "Multimodal function responses are not supported
 * for this model", and a model not named gemini-N (a -latest alias, Gemma,
 * a tuned model, an experimental one) is not known to. */
static int takes_response_media(const char *model)
{
    return model && gemini_major(model) >= 3;
}

/* The images and PDFs of a tool message (another dialect's tool result
 * holding one) as a functionResponse's "parts", Gemini 3's multimodal
 * function responses, for model; *media NULL when it has none. Only for a
 * model that takes them (takes_response_media), and only as inline data,
 * since the Gemini API takes no file by its URI there (Google's SDKs say
 * so). Else LLF_TR_INCOMPATIBLE, as for other media. */
static int tool_media(const cJSON *m, const char *model, cJSON **media, llf_terr *e)
{
    const cJSON *content = llf_get(m, "content");
    const char *other = llf_content_other(content), *n = model ? llf_model_name(model) : "";
    *media = NULL;
    if (!other)
        return LLF_TR_OK;
    if ((strcmp(other, "image_url") && strcmp(other, "file")) || !takes_response_media(n)) {
        llf_terr_set(e, "a tool result's %s part has no equivalent in a functionResponse of %s",
                     llf_terr_word(other), llf_terr_word(n));
        return LLF_TR_INCOMPATIBLE;
    }
    cJSON *all = cJSON_CreateArray();
    int rc = all ? parts_from_hub(content, all, e) : LLF_TR_ERROR;
    for (cJSON *p = rc == LLF_TR_OK ? all->child : NULL, *next; p; p = next) {
        next = p->next;
        if (llf_get(p, "text"))
            cJSON_Delete(cJSON_DetachItemViaPointer(all, p));   /* (in the response) */
        else if (llf_get(p, "fileData")) {
            llf_terr_set(e, "a tool result's image by URL (a functionResponse takes inline data only)");
            rc = LLF_TR_INCOMPATIBLE;
        } else if (!llf_get(p, "inlineData"))
            rc = LLF_TR_INCOMPATIBLE;
    }
    if (rc == LLF_TR_INCOMPATIBLE && !e->detail[0])
        llf_terr_set(e, "a tool result's part has no equivalent in a functionResponse");
    if (rc == LLF_TR_OK)
        *media = all;
    else
        cJSON_Delete(all);
    return rc;
}

/* One tool message as a functionResponse part; name: the function of the
 * call it answers, or NULL (no call has its id). */
static int tool_part(const cJSON *m, const char *name, const char *model, cJSON *parts, llf_terr *e)
{
    cJSON *media = NULL;
    int rc = tool_media(m, model, &media, e);
    if (rc != LLF_TR_OK)
        return rc;
    char *t = llf_content_text(llf_get(m, "content"), "\n");
    /* (exactly an object: JSON lines, or JSON then prose, are text) */
    cJSON *resp = t ? llf_json_parse_exact(t, strlen(t)) : NULL;
    if (!cJSON_IsObject(resp)) {
        cJSON_Delete(resp);
        resp = cJSON_CreateObject();
        if (resp && llf_add(resp, "content", cJSON_CreateString(t ? t : ""))) {
            cJSON_Delete(resp);
            resp = NULL;
        }
    }
    free(t);
    /* a failed tool's: Gemini's "error" key, the details under it */
    if (resp && cJSON_IsTrue(llf_get(m, LLF_HUB_TOOL_ERROR))) {
        cJSON *err = cJSON_CreateObject();
        const cJSON *c = llf_get(resp, "content");
        cJSON *inner = resp->child && !resp->child->next && c ? cJSON_DetachItemViaPointer(resp, (cJSON *)c) : resp;
        if (inner != resp)
            cJSON_Delete(resp);
        if (!err)
            cJSON_Delete(inner);
        else if (llf_add(err, "error", inner))   /* (inner deleted) */
            cJSON_Delete(err), err = NULL;
        resp = err;
    }
    cJSON *p = cJSON_CreateObject(), *fr = cJSON_CreateObject();
    if (!name) {
        llf_terr_set(e, "tool result for an unknown call");
        rc = LLF_TR_INCOMPATIBLE;
    } else if (!resp || !p || !fr || llf_add(fr, "name", cJSON_CreateString(name)) ||
               llf_add_own(fr, "response", &resp) || (media && llf_add_own(fr, "parts", &media)) ||
               llf_add_own(p, "functionResponse", &fr) || llf_append_own(parts, &p)) {
        rc = LLF_TR_ERROR;
    }
    cJSON_Delete(media);
    cJSON_Delete(resp);
    cJSON_Delete(p);
    cJSON_Delete(fr);
    return rc;
}

typedef struct {
    const cJSON *m;
    const char *name;     /* the function of the call it answers, or NULL */
    size_t order, came;   /* that call's place in its turn's calls (or past
                           * them all); its place in the run */
} tool_at;

static int by_call(const void *a, const void *b)
{
    const tool_at *x = a, *y = b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return x->came < y->came ? -1 : x->came > y->came;
}

/* A run of tool messages (m to last) as one turn's functionResponses.
 * Gemini pairs them with the turn's calls by position (it has no ids), and
 * a program may answer its calls in any order: they go in the order of the
 * calls they answer (Paris's weather must not become Rome's), any other
 * after them as it came. */
static int tool_parts(const cJSON *msgs, const cJSON *m, const cJSON *last, const char *model, cJSON *parts,
                      llf_terr *e)
{
    size_t n = 1;
    for (const cJSON *t = m; t != last; t = t->next)
        n++;
    tool_at *run = malloc(n * sizeof *run);
    if (!run)
        return LLF_TR_ERROR;
    int at = 0, idless = 0;
    const cJSON *turn = NULL, *t = m;   /* (the turn: the first result's call's) */
    for (size_t i = 0; i < n; i++, t = t->next) {
        const char *id = llf_get_str(t, "tool_call_id");
        const cJSON *calls = id && *id ? calls_with(msgs, m, id, &at) : idless_call(msgs, m, idless++, &at);
        if (i == 0)
            turn = calls;
        const char *name = calls ? llf_get_str(llf_get(cJSON_GetArrayItem(calls, at), "function"), "name") : NULL;
        run[i] = (tool_at){t, name, calls && calls == turn ? (size_t)at : SIZE_MAX, i};
    }
    qsort(run, n, sizeof *run, by_call);
    int rc = LLF_TR_OK;
    for (size_t i = 0; i < n && rc == LLF_TR_OK; i++)
        rc = tool_part(run[i].m, run[i].name, model, parts, e);
    free(run);
    return rc;
}

/* A hub call's function's arguments parsed, when they are exactly one JSON
 * value (cJSON_Parse would take the first of several, or a value followed
 * by prose); else NULL. */
static cJSON *call_args(const cJSON *f)
{
    const char *a = llf_get_str(f, "arguments");
    return a ? llf_json_parse_exact(a, strlen(a)) : NULL;
}

/* The first function call of a model turn's parts signed, when it is not
 * yet: calls Gemini did not make carry the placeholder signature, which
 * Gemini 3 requires (LLF_GEMINI_SKIP_SIGNATURE). 0, or -1. */
static int sign_calls(cJSON *parts)
{
    for (cJSON *p = cJSON_IsArray(parts) ? parts->child : NULL; p; p = p->next)
        if (get2(p, "functionCall", "function_call"))
            return get2(p, "thoughtSignature", "thought_signature") ||
                           cJSON_AddStringToObject(p, "thoughtSignature", LLF_GEMINI_SKIP_SIGNATURE)
                       ? 0 : -1;
    return 0;
}

static int fit(cJSON *o, const char *model, int apply);

/* How far a translated output limit is raised for model: OpenAI's and
 * Anthropic's limit the answer a model writes, which thinks only when asked
 * (but OpenAI's reasoning models), where Gemini's maxOutputTokens also
 * counts the thoughts of a model that thinks unasked (2.5 Pro and Flash,
 * and 3): a limit of 300 left gemini-2.5-flash no room to answer after its
 * thinking (an empty answer cut at MAX_TOKENS). So it is given room for the
 * most such a model thinks, where its own most output is known (which fit()
 * then holds it to); 0 for a model that does not think unasked (2.5
 * Flash-Lite, before 2.5). A reasoning model's limit counted its thinking
 * already, and is only the larger. */
static long thinking_room(const char *model)
{
    const char *n = model ? llf_model_name(model) : "";
    if (!llf_model_max_output(model) || !strncmp(n, "gemini-2.5-flash-lite", 21))
        return 0;
    if (!strncmp(n, "gemini-2.5-flash", 16))
        return 24576;
    return !strncmp(n, "gemini-2.5-pro", 14) || gemini_major(n) >= 3 ? 32768 : 0;
}

static int req_from_hub(const cJSON *hub, const char *model, cJSON **out, llf_terr *e)
{
    const cJSON *msgs = llf_get(hub, "messages");
    if (!cJSON_IsArray(msgs)) {
        llf_terr_set(e, "request has no messages");
        return LLF_TR_ERROR;
    }
    if (llf_hub_openai_only(hub, e) != LLF_TR_OK)   /* (Gemini's speech output is configured otherwise) */
        return LLF_TR_INCOMPATIBLE;
    if (cJSON_IsTrue(llf_get(hub, "logprobs"))) {
        llf_terr_set(e, "logprobs");
        return LLF_TR_INCOMPATIBLE;
    }
    cJSON *o = cJSON_CreateObject(), *contents = cJSON_CreateArray(), *gc = cJSON_CreateObject();
    llf_buf system = {0};
    int rc = o && contents && gc ? LLF_TR_OK : LLF_TR_ERROR;
    for (const cJSON *m = msgs->child; m && rc == LLF_TR_OK; m = m->next) {
        const char *role = llf_get_str(m, "role");
        role = role ? role : "";
        if (!strcmp(role, "system") || !strcmp(role, "developer")) {
            char *t = llf_content_text(llf_get(m, "content"), "\n");
            if (!t || (system.n && llf_buf_adds(&system, "\n\n")) || llf_buf_adds(&system, t))
                rc = LLF_TR_ERROR;
            free(t);
            continue;
        }
        cJSON *parts = cJSON_CreateArray();
        if (!parts) {
            rc = LLF_TR_ERROR;
            break;
        }
        const char *grole = "user";
        if (!strcmp(role, "user")) {
            rc = parts_from_hub(llf_get(m, "content"), parts, e);
        } else if (!strcmp(role, "assistant")) {
            grole = "model";
            rc = parts_from_hub(llf_get(m, "content"), parts, e);
            const cJSON *tcs = llf_get(m, "tool_calls");
            for (const cJSON *c = cJSON_IsArray(tcs) ? tcs->child : NULL; c && rc == LLF_TR_OK; c = c->next) {
                const cJSON *f = llf_get(c, "function");
                cJSON *args = call_args(f);
                if (!cJSON_IsObject(args)) {
                    cJSON_Delete(args);
                    llf_terr_set(e, "tool call arguments are not a JSON object");
                    rc = LLF_TR_INCOMPATIBLE;
                    break;
                }
                cJSON *fc = cJSON_CreateObject();
                if (!fc || llf_copy(fc, "name", f, "name") || llf_add_own(fc, "args", &args)) {
                    cJSON_Delete(args);
                    cJSON_Delete(fc);
                    rc = LLF_TR_ERROR;
                    break;
                }
                cJSON *p = cJSON_CreateObject();
                if (!p || llf_add_own(p, "functionCall", &fc) || llf_append_own(parts, &p)) {
                    cJSON_Delete(fc);
                    cJSON_Delete(p);
                    rc = LLF_TR_ERROR;
                }
            }
        } else if (!strcmp(role, "tool")) {
            const cJSON *last = m;
            while (last->next && llf_get_str(last->next, "role") && !strcmp(llf_get_str(last->next, "role"), "tool"))
                last = last->next;
            rc = tool_parts(msgs, m, last, model, parts, e);
            m = last;   /* (the loop goes on after the run) */
        } else {
            llf_terr_set(e, "message role \"%s\" has no Gemini equivalent", llf_terr_word(role));
            rc = LLF_TR_INCOMPATIBLE;
        }
        if (rc != LLF_TR_OK || cJSON_GetArraySize(parts) == 0)
            cJSON_Delete(parts);
        else if (add_content(contents, grole, parts))
            rc = LLF_TR_ERROR;
    }
    /* judged again as sent: a system message after the model's turn goes
     * to systemInstruction, an empty user turn is left out, and the model's
     * turn would end the contents all the same */
    const cJSON *lastc = rc == LLF_TR_OK && contents->child ? contents->child->prev : NULL;
    if (lastc && !strcmp(llf_get_str(lastc, "role"), "model") && llf_prefill_role("assistant", e) != LLF_TR_OK)
        rc = LLF_TR_INCOMPATIBLE;
    /* Gemini refuses a request without contents (400 "contents is not
     * specified"), which OpenAI takes: a system prompt alone is the user's
     * turn then. */
    if (rc == LLF_TR_OK && !contents->child) {
        cJSON *sp = cJSON_CreateArray();
        if (!system.n) {
            llf_terr_set(e, "no message to send");
            rc = LLF_TR_INCOMPATIBLE;
        } else if (!sp || llf_append(sp, text_part(system.p))) {
            rc = LLF_TR_ERROR;
        } else {
            rc = add_content(contents, "user", sp) ? LLF_TR_ERROR : LLF_TR_OK;   /* (which takes sp) */
            sp = NULL;
            system.n = 0;
        }
        cJSON_Delete(sp);
    }
    if (rc == LLF_TR_OK && system.n) {
        cJSON *si = cJSON_CreateObject(), *sp = cJSON_CreateArray();
        if (!si || !sp || llf_append(sp, text_part(system.p)) || llf_add_own(si, "parts", &sp) ||
            llf_add_own(o, "systemInstruction", &si))
            rc = LLF_TR_ERROR;
        cJSON_Delete(sp);
        cJSON_Delete(si);
    }
    for (cJSON *c = rc == LLF_TR_OK ? contents->child : NULL; c; c = c->next)
        if (!strcmp(llf_get_str(c, "role"), "model") && sign_calls(cJSON_GetObjectItemCaseSensitive(c, "parts")))
            rc = LLF_TR_ERROR;
    if (rc == LLF_TR_OK && llf_add_own(o, "contents", &contents))
        rc = LLF_TR_ERROR;
    /* generationConfig. No presence or frequency penalty: Gemini 2.5 and 3
     * refuse them (400 "Penalty is not enabled for models/..."), and they
     * only nudge the sampling, as for Anthropic, which has none. */
    static const char *const map[][2] = {{"temperature", "temperature"}, {"top_p", "topP"},
                                         {"max_completion_tokens", "maxOutputTokens"},
                                         {"n", "candidateCount"}, {"seed", "seed"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0] && rc == LLF_TR_OK; i++)
        if (llf_copy(gc, map[i][1], hub, map[i][0]))
            rc = LLF_TR_ERROR;
    if (rc == LLF_TR_OK && !llf_get(gc, "maxOutputTokens") && llf_copy(gc, "maxOutputTokens", hub, "max_tokens"))
        rc = LLF_TR_ERROR;
    cJSON *mot = cJSON_GetObjectItemCaseSensitive(gc, "maxOutputTokens");
    long room = rc == LLF_TR_OK && cJSON_IsNumber(mot) ? thinking_room(model) : 0;
    if (room)
        cJSON_SetNumberValue(mot, mot->valuedouble + (double)room);   /* (fit() holds it to the model's most) */
    const cJSON *stop = llf_get(hub, "stop");
    if (rc == LLF_TR_OK && cJSON_GetArraySize(stop) > 5) {   /* Gemini's most */
        llf_terr_set(e, "more than 5 stop sequences");
        rc = LLF_TR_INCOMPATIBLE;
    } else if (rc == LLF_TR_OK && (cJSON_IsString(stop) || cJSON_IsArray(stop))) {
        cJSON *a = cJSON_IsArray(stop) ? cJSON_Duplicate(stop, 1) : cJSON_CreateArray();
        if (!a || (cJSON_IsString(stop) && llf_append(a, cJSON_CreateString(stop->valuestring))) ||
            llf_add(gc, "stopSequences", a))
            rc = LLF_TR_ERROR;
    }
    const cJSON *rf = llf_get(hub, "response_format");
    const char *rft = llf_get_str(rf, "type");
    if (rc == LLF_TR_OK && rft && (!strcmp(rft, "json_object") || !strcmp(rft, "json_schema"))) {
        const cJSON *sch = llf_get(llf_get(rf, "json_schema"), "schema");
        int bad = uses_ref(sch);
        if (llf_add(gc, "responseMimeType", cJSON_CreateString("application/json")) ||
            (sch && llf_add(gc, "responseSchema", schema_for_gemini(sch))))
            rc = LLF_TR_ERROR;
        if (bad) {
            llf_terr_set(e, "response schema uses $ref");
            rc = LLF_TR_INCOMPATIBLE;
        }
    }
    if (rc == LLF_TR_OK && cJSON_GetArraySize(gc)) {
        if (llf_add(o, "generationConfig", gc))
            rc = LLF_TR_ERROR;
        gc = NULL;
    }
    /* OpenAI's allowed_tools: only those declared, one of them required
     * (ANY) or a choice (AUTO) */
    const cJSON *tools = llf_get(hub, "tools"), *offered = NULL;
    int required = 0;
    if (rc == LLF_TR_OK && llf_hub_allowed_tools(hub, &offered, &required, e) != LLF_TR_OK)
        rc = LLF_TR_INCOMPATIBLE;
    if (rc == LLF_TR_OK && cJSON_GetArraySize(tools)) {
        cJSON *decls = cJSON_CreateArray(), *wrap = cJSON_CreateObject(), *gt = cJSON_CreateArray();
        cJSON *own = decls;   /* (decls stays in use) */
        if (!decls || !wrap || !gt || llf_add_own(wrap, "functionDeclarations", &own) ||
            llf_append_own(gt, &wrap) || llf_add_own(o, "tools", &gt))
            rc = LLF_TR_ERROR;
        cJSON_Delete(own);
        cJSON_Delete(wrap);
        cJSON_Delete(gt);
        for (const cJSON *t = tools->child; t && rc == LLF_TR_OK; t = t->next) {
            const cJSON *f = llf_get(t, "function");
            int bad = uses_ref(llf_get(f, "parameters"));
            if (!llf_hub_tool_offered(offered, t))
                continue;
            cJSON *d = cJSON_CreateObject();
            if (!f) {
                llf_terr_set(e, "tool type \"%s\" has no Gemini equivalent",
                             llf_terr_word(llf_get_str(t, "type")));
                rc = LLF_TR_INCOMPATIBLE;
            } else if (!d || llf_copy(d, "name", f, "name") || llf_copy(d, "description", f, "description") ||
                       (llf_get(f, "parameters") && !cJSON_IsNull(llf_get(f, "parameters")) &&
                        llf_add(d, "parameters", schema_for_gemini(llf_get(f, "parameters")))) ||
                       llf_append_own(decls, &d)) {
                rc = LLF_TR_ERROR;
            }
            cJSON_Delete(d);
            if (bad) {
                llf_terr_set(e, "tool parameters use $ref");
                rc = LLF_TR_INCOMPATIBLE;
            }
        }
    }
    /* (a choice among no tools: none to make) */
    const cJSON *tc = cJSON_GetArraySize(tools) ? llf_get(hub, "tool_choice") : NULL;
    if (rc == LLF_TR_OK && tc && !cJSON_IsNull(tc)) {
        cJSON *cfg = cJSON_CreateObject(), *fcc = cJSON_CreateObject();
        const char *name = llf_get_str(llf_get(tc, "function"), "name");
        const char *mode = name || (offered && required) ? "ANY"
                           : offered                     ? "AUTO"
                           : cJSON_IsString(tc) && !strcmp(tc->valuestring, "required") ? "ANY"
                           : cJSON_IsString(tc) && !strcmp(tc->valuestring, "none")     ? "NONE"
                                                                                        : "AUTO";
        cJSON *allowed = name ? cJSON_CreateArray() : NULL;
        if (!cfg || !fcc || llf_add(fcc, "mode", cJSON_CreateString(mode)) ||
            (name && (llf_append(allowed, cJSON_CreateString(name)) ||
                      llf_add_own(fcc, "allowedFunctionNames", &allowed))) ||
            llf_add_own(cfg, "functionCallingConfig", &fcc) || llf_add_own(o, "toolConfig", &cfg))
            rc = LLF_TR_ERROR;
        cJSON_Delete(allowed);
        cJSON_Delete(fcc);
        cJSON_Delete(cfg);
    }
    llf_buf_free(&system);
    cJSON_Delete(contents);
    cJSON_Delete(gc);
    /* Then fitted to the model (its output limit), as a program's own body is. */
    if (rc == LLF_TR_OK && fit(o, model, 1) < 0)
        rc = LLF_TR_ERROR;
    if (rc != LLF_TR_OK) {
        cJSON_Delete(o);
        return rc;
    }
    *out = o;
    return LLF_TR_OK;
}

/* ---- responses --------------------------------------------------------- */

int llf_gemini_part_beyond_text(const cJSON *part)
{
    if (cJSON_IsTrue(llf_get(part, "thought")))
        return 0;   /* (a thought, whatever it holds, is not the answer) */
    return get2(part, "inlineData", "inline_data") || get2(part, "fileData", "file_data") ||
           get2(part, "executableCode", "executable_code") ||
           get2(part, "codeExecutionResult", "code_execution_result");
}

int llf_gemini_beyond_text(const cJSON *resp)
{
    const cJSON *cand = cJSON_GetArrayItem(llf_get(resp, "candidates"), 0);
    const cJSON *parts = llf_get(llf_get(cand, "content"), "parts");
    for (const cJSON *p = cJSON_IsArray(parts) ? parts->child : NULL; p; p = p->next)
        if (llf_gemini_part_beyond_text(p))
            return 1;
    return 0;
}

static cJSON *candidate_to_choice(const cJSON *cand, int index, const char *rid, int *ncall)
{
    llf_buf text = {0};
    int has_text = 0, ok = 1;
    cJSON *calls = cJSON_CreateArray();
    const cJSON *parts = llf_get(llf_get(cand, "content"), "parts");
    for (const cJSON *p = cJSON_IsArray(parts) ? parts->child : NULL; p && ok && calls; p = p->next) {
        const cJSON *fc = get2(p, "functionCall", "function_call");
        if (cJSON_IsTrue(llf_get(p, "thought")) || signature_only(p))
            continue;
        if (llf_get_str(p, "text")) {
            has_text = 1;
            ok = !llf_buf_adds(&text, llf_get_str(p, "text"));
        } else if (fc) {
            char id[80];
            llf_gemini_call_id(id, sizeof id, rid, (*ncall)++);
            ok = !llf_append(calls, llf_hub_tool_call(id, llf_get_str(fc, "name"), llf_get(fc, "args")));
        }
    }
    int ncalls = cJSON_GetArraySize(calls);
    cJSON *ch = cJSON_CreateObject(), *msg = cJSON_CreateObject();
    ok = ok && calls && ch && msg && !llf_add(ch, "index", cJSON_CreateNumber(index)) &&
         !llf_add(msg, "role", cJSON_CreateString("assistant")) &&
         !llf_add(msg, "content", has_text ? cJSON_CreateString(text.p) : cJSON_CreateNull()) &&
         !(ncalls && llf_add(msg, "tool_calls", cJSON_Duplicate(calls, 1))) &&
         !llf_add(msg, "refusal", cJSON_CreateNull()) && !llf_add_own(ch, "message", &msg);
    ok = ok && !llf_add(ch, "logprobs", cJSON_CreateNull()) &&
         !llf_add(ch, "finish_reason", cJSON_CreateString(llf_gemini_finish(llf_get_str(cand, "finishReason"), ncalls)));
    llf_buf_free(&text);
    cJSON_Delete(calls);
    cJSON_Delete(msg);
    if (!ok) {
        cJSON_Delete(ch);
        return NULL;
    }
    return ch;
}

static int resp_to_hub(const cJSON *resp, cJSON **out, llf_terr *e)
{
    const cJSON *cands = llf_get(resp, "candidates");
    const cJSON *pf = llf_get(resp, "promptFeedback");
    if (!cJSON_IsArray(cands) && !llf_get(pf, "blockReason")) {
        llf_terr_set(e, "not a Gemini response");
        return LLF_TR_ERROR;
    }
    /* the answer's id, and its calls' (call_<id>_<n>): its responseId, or
     * one made up, a server's that gives none being no less a new answer */
    char made[24];
    const char *rid = llf_get_str(resp, "responseId");
    if (!rid) {
        llf_gemini_made_id(made);
        rid = made;
    }
    cJSON *hub = cJSON_CreateObject(), *choices = cJSON_CreateArray(), *usage = NULL;
    int ok = hub && choices, ncall = 0, i = 0;
    for (const cJSON *c = cJSON_IsArray(cands) ? cands->child : NULL; c && ok; c = c->next, i++)
        ok = !llf_append(choices, candidate_to_choice(c, i, rid, &ncall));
    if (ok && cJSON_GetArraySize(choices) == 0) {
        /* The prompt itself was blocked: an empty, filtered answer. */
        cJSON *ch = cJSON_Parse("{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,"
                                "\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"content_filter\"}");
        ok = !llf_append(choices, ch);
    }
    const cJSON *um = llf_get(resp, "usageMetadata");
    /* thoughts are output, as OpenAI counts reasoning in completion_tokens */
    double pt = llf_num(um, "promptTokenCount", 0), thoughts = llf_num(um, "thoughtsTokenCount", -1);
    double ct = llf_num(um, "candidatesTokenCount", 0) + (thoughts > 0 ? thoughts : 0);
    double tt = llf_num(um, "totalTokenCount", pt + ct);
    ok = ok && !llf_add(hub, "id", cJSON_CreateString(rid)) &&
         !llf_add(hub, "object", cJSON_CreateString("chat.completion")) &&
         !llf_add(hub, "created", cJSON_CreateNumber(llf_now_s())) &&
         !llf_add(hub, "model", cJSON_CreateString(llf_get_str(resp, "modelVersion") ? llf_get_str(resp, "modelVersion") : "")) &&
         !llf_add_own(hub, "choices", &choices);
    ok = ok && (usage = llf_hub_usage(pt, ct, tt, llf_num(um, "cachedContentTokenCount", -1), thoughts)) &&
         !llf_add_own(hub, "usage", &usage);
    cJSON_Delete(choices);
    cJSON_Delete(usage);
    if (!ok) {
        cJSON_Delete(hub);
        return LLF_TR_ERROR;
    }
    *out = hub;
    return LLF_TR_OK;
}

static int resp_from_hub(const cJSON *hub, const char *model, cJSON **out, llf_terr *e)
{
    const cJSON *choices = llf_get(hub, "choices");
    if (!cJSON_IsArray(choices)) {
        llf_terr_set(e, "completion has no choices");
        return LLF_TR_ERROR;
    }
    const cJSON *u = llf_get(hub, "usage");
    cJSON *o = cJSON_CreateObject(), *cands = cJSON_CreateArray(),
          *um = llf_gemini_usage(llf_num(u, "prompt_tokens", 0), llf_num(u, "completion_tokens", 0),
                                 llf_num(u, "total_tokens", 0), llf_hub_cached(u), llf_hub_reasoning(u));
    int ok = o && cands && um;
    for (const cJSON *ch = choices->child; ch && ok; ch = ch->next) {
        const cJSON *msg = llf_get(ch, "message");
        cJSON *cand = cJSON_CreateObject(), *content = cJSON_CreateObject(), *parts = cJSON_CreateArray();
        char *text = llf_content_text(llf_get(msg, "content"), "");
        /* OpenAI's refusal (the model declining, with its reason) is text
         * ending STOP, as Gemini's own models decline: Gemini has no field
         * for it, and its SAFETY says that a filter blocked the content
         * (which a stream then gives empty), not that the model spoke. */
        const char *refusal = llf_get_str(msg, "refusal");
        ok = cand && content && parts && text;
        if (ok && *text)
            ok = !llf_append(parts, text_part(text));
        if (ok && refusal && *refusal)
            ok = !llf_append(parts, text_part(refusal));
        free(text);
        const cJSON *tcs = llf_get(msg, "tool_calls");
        for (const cJSON *c = cJSON_IsArray(tcs) ? tcs->child : NULL; c && ok; c = c->next) {
            const cJSON *f = llf_get(c, "function");
            cJSON *args = call_args(f);
            if (!cJSON_IsObject(args)) {
                cJSON_Delete(args);
                args = cJSON_CreateObject();
            }
            cJSON *p = cJSON_CreateObject(), *fc = cJSON_CreateObject();
            ok = p && fc && args && !llf_copy(fc, "name", f, "name") && !llf_add_own(fc, "args", &args) &&
                 !llf_add_own(p, "functionCall", &fc) && !llf_append_own(parts, &p);
            cJSON_Delete(args);
            cJSON_Delete(fc);
            cJSON_Delete(p);
        }
        /* signed, so that the program may send the call back to its own
         * Gemini 3 */
        ok = ok && !sign_calls(parts);
        /* An answer with nothing in it still has a part, {"text": ""}, as
         * Gemini's own text-less chunk: content with no parts is invalid
         * to Google's SDKs (a chat drops the exchange from its history). */
        if (ok && !cJSON_GetArraySize(parts))
            ok = !llf_append(parts, text_part(""));
        const char *fr = llf_get_str(ch, "finish_reason");
        const char *gf = !fr                              ? "STOP"
                         : !strcmp(fr, "length")          ? "MAX_TOKENS"
                         : !strcmp(fr, "content_filter")  ? "SAFETY"
                                                          : "STOP";
        ok = ok && !llf_add_own(content, "parts", &parts) &&
             !llf_add(content, "role", cJSON_CreateString("model")) && !llf_add_own(cand, "content", &content) &&
             !llf_add(cand, "finishReason", cJSON_CreateString(gf)) && !llf_copy(cand, "index", ch, "index") &&
             !llf_append_own(cands, &cand);
        cJSON_Delete(parts);
        cJSON_Delete(content);
        cJSON_Delete(cand);
    }
    ok = ok && !llf_add_own(o, "candidates", &cands) && !llf_add_own(o, "usageMetadata", &um);
    ok = ok && !llf_add(o, "modelVersion", cJSON_CreateString(model ? model : "")) &&
         !llf_add(o, "responseId", cJSON_CreateString(llf_get_str(hub, "id") ? llf_get_str(hub, "id") : ""));
    cJSON_Delete(cands);
    cJSON_Delete(um);
    if (!ok) {
        cJSON_Delete(o);
        return LLF_TR_ERROR;
    }
    *out = o;
    return LLF_TR_OK;
}

/* Every member of o named camel or snake, gone: a key written twice would
 * otherwise surface at the next fitting. */
static void drop2(cJSON *o, const char *camel, const char *snake)
{
    cJSON *k;
    while ((k = (cJSON *)get2(o, camel, snake)))
        cJSON_Delete(cJSON_DetachItemViaPointer(o, k));
}

/* Member item of o made the number v, in place of a number or of a
 * number written as a string. 0, or -1 on no memory. */
static int set_number(cJSON *o, cJSON *item, double v)
{
    if (cJSON_IsNumber(item)) {
        cJSON_SetNumberValue(item, v);
        return 0;
    }
    cJSON *n = cJSON_CreateNumber(v);
    if (!n || !cJSON_ReplaceItemInObjectCaseSensitive(o, item->string, n)) {
        cJSON_Delete(n);
        return -1;
    }
    return 0;
}

/* A thinkingConfig fitted to model: none before Gemini 2.5 (400
 * "thinking_config is not supported."); for 2.5, no thinkingLevel, which
 * came with Gemini 3 (400 "Thinking level is not supported for this
 * model."), and a thinkingBudget inside the model's range (400 "The thinking
 * budget (N) is invalid."): -1 (dynamic) or 0 (none, but Pro always thinks)
 * or from its least to its most. Gemini 3 Pro cannot stop thinking either
 * ("Budget 0 is invalid. This model only works in thinking mode."). Other
 * Gemini 3 and models not named here: as written. A budget may be written
 * as a string (proto_number). The number of changes, or -1 on no memory. */
static int fit_thinking(cJSON *gc, const char *model, int apply)
{
    static const struct {
        const char *prefix;
        double      least, most;
        int         can_stop;
    } range[] = {{"gemini-2.5-pro", 128, 32768, 0},
                 {"gemini-2.5-flash-lite", 512, 24576, 1},
                 {"gemini-2.5-flash", 1, 24576, 1}};
    cJSON *tc = (cJSON *)get2(gc, "thinkingConfig", "thinking_config");
    const char *n = llf_model_name(model);
    if (!tc)
        return 0;
    if (gemini_major(n) == 1 || strncmp(n, "gemini-2.0", 10) == 0) {
        if (apply)
            drop2(gc, "thinkingConfig", "thinking_config");
        return 1;
    }
    if (gemini_major(n) == 3 && strstr(n, "-pro")) {
        /* a Pro cannot stop thinking; the least it does is level "low" */
        double v = 0;
        int got = proto_double(get2(tc, "thinkingBudget", "thinking_budget"), &v);
        if (got <= 0 || v != 0)
            return got < 0 ? -1 : 0;
        if (apply) {
            drop2(tc, "thinkingBudget", "thinking_budget");
            if (!get2(tc, "thinkingLevel", "thinking_level"))
                cJSON_AddStringToObject(tc, "thinkingLevel", "low");
        }
        return 1;
    }
    size_t i = 0;
    while (i < sizeof range / sizeof range[0] && strncmp(n, range[i].prefix, strlen(range[i].prefix)) != 0)
        i++;
    if (i == sizeof range / sizeof range[0])
        return 0;
    int changes = 0;
    cJSON *level = (cJSON *)get2(tc, "thinkingLevel", "thinking_level");
    if (level) {
        changes++;
        if (apply)
            drop2(tc, "thinkingLevel", "thinking_level");
    }
    cJSON *b = (cJSON *)get2(tc, "thinkingBudget", "thinking_budget");
    double v = -1;
    int got = proto_double(b, &v);
    if (got < 0)
        return -1;
    if (!got)
        v = -1;
    double want = v;
    if (v == 0 && !range[i].can_stop)
        want = range[i].least;
    else if (v != 0 && v != -1)
        want = v < range[i].least ? range[i].least : v > range[i].most ? range[i].most : v;
    if (want != v) {
        changes++;
        if (apply && set_number(tc, b, want))
            return -1;
    }
    return changes;
}

/* JSON output fitted to model: Gemini before 3 refuses it beside function
 * declarations (400 "Function calling with a response mime type:
 * 'application/json' is unsupported"), so then it is not asked for; the
 * answer is still checked as the JSON the program asked for. The number of
 * changes. */
static int fit_json(const cJSON *o, cJSON *gc, const char *model, int apply)
{
    int v = gemini_major(model);
    const cJSON *mt = get2(gc, "responseMimeType", "response_mime_type");
    if (v < 1 || v > 2 || !cJSON_IsString(mt) ||
        strcmp(mt->valuestring, "application/json") != 0)
        return 0;
    const cJSON *tools = llf_get(o, "tools");
    int decls = 0;
    for (const cJSON *t = each_first(tools); t && !decls; t = each_next(tools, t))
        decls = each_first(get2(t, "functionDeclarations", "function_declarations")) != NULL;
    if (!decls)
        return 0;
    if (apply) {
        drop2(gc, "responseMimeType", "response_mime_type");
        drop2(gc, "responseSchema", "response_schema");
        drop2(gc, "responseJsonSchema", "response_json_schema");
    }
    return 1;
}

/* A program's own Gemini body fitted to a member's model: maxOutputTokens
 * no higher than the model writes (it answers 400, "the supported range is
 * from 1 to ..."), thinking as the model takes it, and JSON output only
 * where the model takes it (fit_json). Numbers may be written as strings
 * (proto_number); one changed is written as a number. With apply 0 only
 * counted; the number of changes, or -1 on no memory. */
static int fit(cJSON *o, const char *model, int apply)
{
    cJSON *gc = (cJSON *)get2(o, "generationConfig", "generation_config");
    if (!model || !cJSON_IsObject(gc))
        return 0;
    int thinking = fit_thinking(gc, model, apply);
    if (thinking < 0)
        return -1;
    int changes = thinking + fit_json(o, gc, model, apply);
    cJSON *mo = (cJSON *)get2(gc, "maxOutputTokens", "max_output_tokens");
    double v = 0;
    int got = proto_double(mo, &v);
    long limit = got > 0 ? llf_model_max_output(model) : 0;
    if (got < 0)
        return -1;
    if (!limit || v <= (double)limit)
        return changes;
    if (apply && set_number(gc, mo, (double)limit))
        return -1;
    return changes + 1;
}

/* A Gemini program's own functionResponse with media in its "parts" goes
 * to a Gemini member as sent: one whose model does not take them
 * (takes_response_media) is skipped, as when translated. */
static int refuses(const cJSON *body, const char *model, llf_terr *e)
{
    if (takes_response_media(model))
        return LLF_TR_OK;
    const cJSON *contents = llf_get(body, "contents");
    for (const cJSON *t = each_first(contents); t; t = each_next(contents, t)) {
        const cJSON *parts = llf_get(t, "parts");
        for (const cJSON *p = each_first(parts); p; p = each_next(parts, p))
            if (each_first(llf_get(get2(p, "functionResponse", "function_response"), "parts"))) {
                llf_terr_set(e, "a functionResponse's parts (media), which %s does not take",
                             llf_terr_word(model ? llf_model_name(model) : ""));
                return LLF_TR_INCOMPATIBLE;
            }
    }
    return LLF_TR_OK;
}

const llf_dialect_ops llf_dialect_gemini = {
    .name = "gemini",
    .match_op = match_op,
    .op_path = op_path,
    .auth_headers = auth_headers,
    .stream_query = "alt=sse",
    .model_in_body = 0,
    .body_streams = body_streams,
    .success_shape = success_shape,
    .req_to_hub = req_to_hub,
    .req_from_hub = req_from_hub,
    .resp_to_hub = resp_to_hub,
    .resp_from_hub = resp_from_hub,
    .fit = fit,
    .refuses = refuses,
};
