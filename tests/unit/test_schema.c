/* The JSON Schema subset validator. */
#include "schema.h"
#include "t.h"

#include <stdlib.h>

static int valid(const char *schema, const char *value, const char *why_has)
{
    cJSON *s = cJSON_Parse(schema), *v = cJSON_Parse(value);
    char why[128];
    int r = s && v ? llf_schema_validate(s, v, why, sizeof why) : -2;
    if (r == 0 && why_has && !strstr(why, why_has)) {
        fprintf(stderr, "  why \"%s\" lacks \"%s\"\n", why, why_has);
        r = -3;
    }
    cJSON_Delete(s);
    cJSON_Delete(v);
    return r;
}

/* Levels l0…l24 in $defs, each the level format with every %d naming the
 * next, and l25 a string: a schema that followed in full takes 2^25 checks. */
static void chain(char *out, size_t len, const char *level)
{
    size_t o = (size_t)snprintf(out, len, "{\"$ref\":\"#/$defs/l0\",\"$defs\":{");
    for (int i = 0; i < 25; i++) {
        o += (size_t)snprintf(out + o, len - o, "\"l%d\":", i);
        o += (size_t)snprintf(out + o, len - o, level, i + 1, i + 1, i + 1);
        o += (size_t)snprintf(out + o, len - o, ",");
    }
    snprintf(out + o, len - o, "\"l25\":{\"type\":\"string\"}}}");
}

/* if/then/else, where an if passed on keywords not judged leaves either
 * branch possible */
static void if_then_else(void)
{
    const char *kind = "{\"if\":{\"properties\":{\"kind\":{\"const\":\"a\"}},\"required\":[\"kind\"]},"
                       "\"then\":{\"required\":[\"x\"]},\"else\":{\"required\":[\"y\"]}}";
    CHECK(valid(kind, "{\"kind\":\"a\",\"x\":1}", NULL) == 1);
    CHECK(valid(kind, "{\"kind\":\"b\",\"y\":1}", NULL) == 1);
    CHECK(valid(kind, "{\"kind\":\"a\",\"y\":1}", "$.x: required") == 0);
    CHECK(valid(kind, "{\"kind\":\"b\",\"x\":1}", "$.y: required") == 0);
    /* the if's own failure ($.kind: required) is not the reason given */
    CHECK(valid(kind, "{}", "$.y: required") == 0);
    CHECK(valid("{\"properties\":{\"n\":{\"if\":{\"type\":\"integer\"},\"then\":{\"minimum\":0}}}}",
                "{\"n\":-1}", "$.n: below minimum") == 0);
    /* without then or else, if asserts nothing; then/else without if neither */
    CHECK(valid("{\"if\":false}", "1", NULL) == 1);
    CHECK(valid("{\"if\":{\"type\":\"string\"}}", "1", NULL) == 1);
    CHECK(valid("{\"then\":false,\"else\":false}", "1", NULL) == 1);
    CHECK(valid("{\"if\":true,\"else\":false}", "1", NULL) == 1);
    CHECK(valid("{\"if\":false,\"then\":false}", "1", NULL) == 1);
    CHECK(valid("{\"if\":true,\"then\":false}", "1", "not allowed") == 0);
    CHECK(valid("{\"if\":false,\"else\":false}", "1", "not allowed") == 0);
    /* an if not judged (a lookahead) may have matched or not: only a value
     * failing both branches is rejected, a missing branch passing */
    const char *maybe = "{\"if\":{\"pattern\":\"(?=a)\"},\"then\":{\"maxLength\":1},\"else\":{\"minLength\":5}}";
    CHECK(valid(maybe, "\"a\"", NULL) == 1);
    CHECK(valid(maybe, "\"abcdef\"", NULL) == 1);
    CHECK(valid(maybe, "\"abc\"", "$: fails both then and else") == 0);
    CHECK(valid("{\"if\":{\"pattern\":\"(?=a)\"},\"then\":{\"maxLength\":1}}", "\"bcd\"", NULL) == 1);
    CHECK(valid("{\"if\":{\"pattern\":\"(?=a)\"},\"else\":{\"maxLength\":1}}", "\"abc\"", NULL) == 1);
    /* under not: a sure match rejects, one through an if not judged does not */
    CHECK(valid("{\"not\":{\"if\":{\"const\":\"a\"},\"then\":{\"maxLength\":1}}}", "\"a\"", "matches not") == 0);
    CHECK(valid("{\"not\":{\"if\":{\"const\":\"a\"},\"then\":{\"maxLength\":0}}}", "\"a\"", NULL) == 1);
    CHECK(valid("{\"not\":{\"if\":{\"pattern\":\"(?=a)\"},\"then\":{\"maxLength\":1}}}", "\"a\"", NULL) == 1);
    /* if → then → if …, 25 levels deep: the work limit gives up, not the host */
    char deep[4096];
    chain(deep, sizeof deep, "{\"if\":{\"$ref\":\"#/$defs/l%d\"},\"then\":{\"$ref\":\"#/$defs/l%d\"},"
                             "\"else\":{\"$ref\":\"#/$defs/l%d\"}}");
    CHECK(valid(deep, "1", NULL) == -1);
}

/* contains, minContains, maxContains: on arrays only */
static void contains(void)
{
    const char *ints = "{\"contains\":{\"type\":\"integer\"}}";
    CHECK(valid(ints, "[\"a\",1]", NULL) == 1);
    CHECK(valid(ints, "[\"a\",\"b\"]", "$: no item matches contains") == 0);
    CHECK(valid(ints, "[]", "no item matches contains") == 0);
    CHECK(valid(ints, "\"abc\"", NULL) == 1);
    CHECK(valid(ints, "{\"a\":\"b\"}", NULL) == 1);
    CHECK(valid("{\"properties\":{\"xs\":{\"contains\":{\"const\":1}}}}", "{\"xs\":[2,3]}",
                "$.xs: no item matches contains") == 0);
    CHECK(valid("{\"contains\":false}", "[1]", "no item matches contains") == 0);
    const char *two = "{\"contains\":{\"const\":1},\"minContains\":2}";
    CHECK(valid(two, "[1,2,1]", NULL) == 1);
    CHECK(valid(two, "[1,2]", "$: too few items match contains") == 0);
    const char *one = "{\"contains\":{\"const\":1},\"maxContains\":1}";
    CHECK(valid(one, "[1,2]", NULL) == 1);
    CHECK(valid(one, "[1,2,1]", "$: too many items match contains") == 0);
    CHECK(valid(one, "[2]", "no item matches contains") == 0);
    /* minContains 0: contains passes, maxContains still bounds */
    CHECK(valid("{\"contains\":{\"const\":1},\"minContains\":0}", "[]", NULL) == 1);
    CHECK(valid("{\"contains\":false,\"minContains\":0}", "[1,2]", NULL) == 1);
    CHECK(valid("{\"contains\":{\"const\":1},\"minContains\":0,\"maxContains\":1}", "[2]", NULL) == 1);
    CHECK(valid("{\"contains\":{\"const\":1},\"minContains\":0,\"maxContains\":1}", "[1,1]", "too many") == 0);
    CHECK(valid("{\"minContains\":2,\"maxContains\":0}", "[1,1]", NULL) == 1);   /* without contains */
    /* an item matching on keywords not judged counts toward the minimum, not the maximum */
    CHECK(valid("{\"contains\":{\"pattern\":\"(?=a)\"}}", "[\"b\"]", NULL) == 1);
    CHECK(valid("{\"contains\":{\"pattern\":\"(?=a)\"},\"maxContains\":1}", "[\"a\",\"b\"]", NULL) == 1);
    CHECK(valid("{\"not\":{\"contains\":{\"pattern\":\"(?=a)\"}}}", "[\"a\"]", NULL) == 1);
    CHECK(valid("{\"not\":{\"contains\":{\"const\":1}}}", "[2,1]", "matches not") == 0);
    CHECK(valid("{\"not\":{\"contains\":{\"const\":1}}}", "[2]", NULL) == 1);
}

/* propertyNames: each member's name checked as a string, on objects only */
static void property_names(void)
{
    const char *short_names = "{\"propertyNames\":{\"maxLength\":3}}";
    CHECK(valid(short_names, "{\"abc\":1,\"d\":2}", NULL) == 1);
    CHECK(valid(short_names, "{\"abc\":1,\"defg\":2}", "$.defg: name not allowed by propertyNames") == 0);
    CHECK(valid(short_names, "\"abcdef\"", NULL) == 1);   /* not an object: no names */
    CHECK(valid(short_names, "[\"abcdef\"]", NULL) == 1);
    CHECK(valid("{\"propertyNames\":{\"pattern\":\"^[a-z]+$\"}}", "{\"ab\":1,\"Ab\":1}", "$.Ab: name") == 0);
    CHECK(valid("{\"propertyNames\":{\"type\":\"string\",\"enum\":[\"a\",\"b\"]}}", "{\"a\":1,\"b\":2}", NULL) == 1);
    CHECK(valid("{\"propertyNames\":{\"enum\":[\"a\",\"b\"]}}", "{\"a\":1,\"c\":2}", "$.c: name") == 0);
    CHECK(valid("{\"propertyNames\":{\"type\":\"integer\"}}", "{\"1\":1}", "$.1: name") == 0);
    CHECK(valid("{\"propertyNames\":{\"minimum\":5}}", "{\"1\":1}", NULL) == 1);   /* a name is no number */
    CHECK(valid("{\"propertyNames\":false}", "{}", NULL) == 1);
    CHECK(valid("{\"propertyNames\":false}", "{\"a\":1}", "$.a: name") == 0);
    CHECK(valid("{\"properties\":{\"o\":{\"propertyNames\":{\"const\":\"k\"}}}}", "{\"o\":{\"j\":1}}",
                "$.o.j: name") == 0);
    CHECK(valid("{\"propertyNames\":{\"pattern\":\"(?=a)\"}}", "{\"b\":1}", NULL) == 1);   /* not judged */
    CHECK(valid("{\"not\":{\"propertyNames\":{\"pattern\":\"(?=a)\"}}}", "{\"a\":1}", NULL) == 1);
    CHECK(valid("{\"not\":{\"propertyNames\":{\"maxLength\":1}}}", "{\"ab\":1}", NULL) == 1);
    CHECK(valid("{\"not\":{\"propertyNames\":{\"maxLength\":1}}}", "{\"a\":1}", "matches not") == 0);
}

/* dependentRequired, dependentSchemas and draft-07's dependencies: on objects only */
static void dependencies(void)
{
    const char *card = "{\"dependentRequired\":{\"card\":[\"billing\",\"name\"]}}";
    CHECK(valid(card, "{\"card\":1,\"billing\":2,\"name\":3}", NULL) == 1);
    CHECK(valid(card, "{\"billing\":2}", NULL) == 1);
    CHECK(valid(card, "{\"card\":1,\"billing\":2}", "$.name: required with card") == 0);
    CHECK(valid(card, "[\"card\"]", NULL) == 1);
    CHECK(valid("{\"properties\":{\"o\":{\"dependentRequired\":{\"a\":[\"b\"]}}}}", "{\"o\":{\"a\":1}}",
                "$.o.b: required with a") == 0);
    CHECK(valid("{\"dependentRequired\":{\"a\":{\"required\":[\"b\"]}}}", "{\"a\":1}", NULL) == 1);   /* no list */
    CHECK(valid("{\"not\":{\"dependentRequired\":{\"a\":\"b\"}}}", "{\"a\":1}", NULL) == 1);
    const char *billing = "{\"dependentSchemas\":{\"card\":{\"properties\":{\"billing\":{\"type\":\"string\"}},"
                          "\"required\":[\"billing\"]}}}";
    CHECK(valid(billing, "{\"card\":1,\"billing\":\"x\"}", NULL) == 1);
    CHECK(valid(billing, "{\"billing\":2}", NULL) == 1);
    CHECK(valid(billing, "{\"card\":1,\"billing\":2}", "$.billing: wrong type") == 0);
    CHECK(valid(billing, "{\"card\":1}", "$.billing: required") == 0);
    CHECK(valid(billing, "\"card\"", NULL) == 1);
    CHECK(valid("{\"dependentSchemas\":{\"a\":false}}", "{\"a\":1}", "not allowed") == 0);
    CHECK(valid("{\"dependentSchemas\":{\"a\":[\"b\"]}}", "{\"a\":1}", NULL) == -1);   /* a list is no schema */
    CHECK(valid("{\"not\":{\"dependentSchemas\":{\"a\":{\"required\":[\"b\"]}}}}", "{\"a\":1,\"b\":2}",
                "matches not") == 0);
    /* draft-07: a list of names or a schema */
    CHECK(valid("{\"dependencies\":{\"a\":[\"b\"]}}", "{\"a\":1,\"b\":1}", NULL) == 1);
    CHECK(valid("{\"dependencies\":{\"a\":[\"b\"]}}", "{\"a\":1}", "$.b: required with a") == 0);
    CHECK(valid("{\"dependencies\":{\"a\":{\"required\":[\"c\"]}}}", "{\"a\":1}", "$.c: required") == 0);
    CHECK(valid("{\"dependencies\":{\"a\":{\"required\":[\"c\"]}}}", "{\"b\":1}", NULL) == 1);
    CHECK(valid("{\"dependencies\":{\"a\":false}}", "{\"a\":1}", "not allowed") == 0);
    CHECK(valid("{\"dependencies\":{\"a\":false}}", "{\"b\":1}", NULL) == 1);
    CHECK(valid("{\"dependencies\":{\"a\":[\"b\"]}}", "[\"a\"]", NULL) == 1);
    /* still not judged */
    CHECK(valid("{\"not\":{\"unevaluatedProperties\":false}}", "{}", NULL) == 1);
    CHECK(valid("{\"not\":{\"unevaluatedItems\":false}}", "[]", NULL) == 1);
}

/* enum, const and uniqueItems compare as JSON Schema does: numbers by value
 * (1 equals 1.0, and two doubles that differ are different, however close),
 * strings by bytes, objects whatever their members' order */
static void equality(void)
{
    CHECK(valid("{\"uniqueItems\":true}", "[9007199254740994, 9007199254740996]", NULL) == 1);
    CHECK(valid("{\"uniqueItems\":true}", "[1800000000000000000, 1800000000000000256]", NULL) == 1);
    CHECK(valid("{\"enum\":[10000000000000000]}", "10000000000000002", "not one of enum") == 0);
    CHECK(valid("{\"const\":1}", "1.0000000000000002", "not the const value") == 0);
    CHECK(valid("{\"const\":1}", "1.0", NULL) == 1);
    CHECK(valid("{\"const\":0}", "-0", NULL) == 1);
    CHECK(valid("{\"uniqueItems\":true}", "[0, -0.0]", "not unique") == 0);
    CHECK(valid("{\"uniqueItems\":true}", "[1, 1.0]", "not unique") == 0);
    CHECK(valid("{\"uniqueItems\":true}", "[1e2, 100]", "not unique") == 0);
    /* 1e400 is read as infinity, as a number too large for a double is */
    CHECK(valid("{\"const\":1e400}", "1e400", NULL) == 1);
    CHECK(valid("{\"enum\":[-1e400]}", "-1e400", NULL) == 1);
    CHECK(valid("{\"const\":1e400}", "-1e400", "const") == 0);
    CHECK(valid("{\"const\":{\"a\":[1,{\"b\":null}],\"c\":\"x\"}}", "{\"c\":\"x\",\"a\":[1.0,{\"b\":null}]}", NULL) == 1);
    CHECK(valid("{\"const\":{\"a\":1,\"c\":2}}", "{\"a\":1}", "const") == 0);
    CHECK(valid("{\"const\":{\"a\":1}}", "{\"a\":1,\"c\":2}", "const") == 0);
    CHECK(valid("{\"const\":{\"a\":1,\"b\":2}}", "{\"a\":1,\"c\":2}", "const") == 0);
    CHECK(valid("{\"const\":[1,2]}", "[2,1]", "const") == 0);
    CHECK(valid("{\"const\":[1,2]}", "[1,2,3]", "const") == 0);
    CHECK(valid("{\"const\":\"A\"}", "\"a\"", "const") == 0);
    CHECK(valid("{\"const\":null}", "false", "const") == 0);
    CHECK(valid("{\"enum\":[true,false]}", "false", NULL) == 1);
    CHECK(valid("{\"enum\":[true]}", "false", "enum") == 0);
    CHECK(valid("{\"enum\":[\"1\"]}", "1", "enum") == 0);
    CHECK(valid("{\"uniqueItems\":true}", "[[1,{\"a\":2,\"b\":[3]}],[1,{\"b\":[3],\"a\":2.0}]]", "not unique") == 0);
    CHECK(valid("{\"uniqueItems\":true}", "[[1,{\"a\":2,\"b\":[3]}],[1,{\"b\":[3],\"a\":2.5}]]", NULL) == 1);
    CHECK(valid("{\"uniqueItems\":true}", "[{},[],\"\",0,false,null,true]", NULL) == 1);
    CHECK(valid("{\"uniqueItems\":true}", "[\"a\",\"b\",null,\"a\"]", "$: items not unique") == 0);
    CHECK(valid("{\"uniqueItems\":true}", "[]", NULL) == 1);
}

/* uniqueItems on large arrays: judged (not every pair compared), and its
 * work counted toward the step limit like every other keyword's */
static void unique_work(void)
{
    /* 2048 rows of 200 zeros and a distinct last number (found by reviewer
     * rev22: 1.8 s, 8 s under an allOf of five, every pair compared) */
    size_t cap = 4 << 20;
    char *rows = malloc(cap);
    size_t o = 0;
    rows[o++] = '[';
    for (int i = 0; i < 2048; i++) {
        rows[o++] = '[';
        for (int k = 0; k < 200; k++)
            o += (size_t)snprintf(rows + o, cap - o, "0,");
        o += (size_t)snprintf(rows + o, cap - o, "%d],", i);
    }
    rows[o - 1] = ']';
    rows[o] = '\0';
    const char *five = "{\"allOf\":[{\"uniqueItems\":true},{\"uniqueItems\":true},{\"uniqueItems\":true},"
                       "{\"uniqueItems\":true},{\"uniqueItems\":true}]}";
    CHECK(valid("{\"uniqueItems\":true}", rows, NULL) == 1);
    CHECK(valid(five, rows, NULL) == 1);
    /* the same rows and a copy of row 5 at the end */
    o--;
    o += (size_t)snprintf(rows + o, cap - o, ",[");
    for (int k = 0; k < 200; k++)
        o += (size_t)snprintf(rows + o, cap - o, "0,");
    snprintf(rows + o, cap - o, "5]]");
    CHECK(valid("{\"uniqueItems\":true}", rows, "not unique") == 0);
    /* more items than were ever compared pair by pair are judged too */
    o = (size_t)snprintf(rows, cap, "[");
    for (int i = 0; i < 5000; i++)
        o += (size_t)snprintf(rows + o, cap - o, "\"item %d\",", i);
    snprintf(rows + o, cap - o, "\"item 17\"]");
    CHECK(valid("{\"uniqueItems\":true}", rows, "not unique") == 0);
    /* uniqueItems asked 40 times of 300 rows of 51 numbers: work past the
     * limit (the rows' 15,601 nodes looked at each time), so the schema is
     * unusable, as any other that asks for that much */
    o = (size_t)snprintf(rows, cap, "{\"allOf\":[");
    for (int i = 0; i < 40; i++)
        o += (size_t)snprintf(rows + o, cap - o, "%s{\"uniqueItems\":true}", i ? "," : "");
    snprintf(rows + o, cap - o, "]}");
    char *many = strdup(rows);
    o = (size_t)snprintf(rows, cap, "[");
    for (int i = 0; i < 300; i++) {
        o += (size_t)snprintf(rows + o, cap - o, "[");
        for (int k = 0; k < 50; k++)
            o += (size_t)snprintf(rows + o, cap - o, "0,");
        o += (size_t)snprintf(rows + o, cap - o, "%d]%s", i, i < 299 ? "," : "]");
    }
    CHECK(valid(many, rows, NULL) == -1);
    free(many);
    free(rows);
}

/* A growing buffer for the large schemas and answers below. */
static char *big;
static size_t big_len;
#define BIG_CAP (4u << 20)
#define PUT(...) (big_len += (size_t)snprintf(big + big_len, BIG_CAP - big_len, __VA_ARGS__))

/* pattern: each compile and each match is work counted toward the step
 * limit (glibc's regexec does not stop early), so a schema asking for more
 * of them than the answer's size allows is unusable, not a stall */
static void pattern_work(void)
{
    big = malloc(BIG_CAP);
    /* 300 copies of one pattern (each its own node: compiled each time) */
    big_len = 0;
    PUT("{\"allOf\":[");
    for (int i = 0; i < 300; i++)
        PUT("%s{\"pattern\":\"^[a-z]{0,300}$\"}", i ? "," : "");
    PUT("]}");
    CHECK(valid(big, "\"abc\"", NULL) == -1);
    /* 60 patternProperties tried on each of 300 names of 200 characters */
    char *many = malloc(BIG_CAP);
    big_len = 0;
    PUT("{\"patternProperties\":{");
    for (int i = 0; i < 60; i++)
        PUT("%s\"^(x|y){0,30}z%d$\":{}", i ? "," : "", i);
    PUT("}}");
    strcpy(many, big);
    big_len = 0;
    PUT("{");
    for (int i = 0; i < 300; i++)
        PUT("%s\"%0200d\":1", i ? "," : "", i);
    PUT("}");
    CHECK(valid(many, big, NULL) == -1);
    /* a pattern of size 900 on 10 strings of 4096 a's (38 ms a match) */
    big_len = 0;
    PUT("[");
    for (int i = 0; i < 10; i++) {
        PUT("%s\"", i ? "," : "");
        memset(big + big_len, 'a', 4096);
        big_len += 4096;
        PUT("\"");
    }
    PUT("]");
    CHECK(valid("{\"items\":{\"not\":{\"pattern\":\"a{0,900}b\"}}}", big, NULL) == -1);
    /* a small pattern not anchored, which glibc tries from each position
     * (37 ms a match on 4096 characters) */
    CHECK(valid("{\"items\":{\"not\":{\"pattern\":\"[a-z]+@[a-z]+\\\\.com\"}}}", big, NULL) == -1);
    CHECK(valid("{\"items\":{\"pattern\":\"@mail\\\\.com\"}}", "[\"a@mail.com\",\"b@mail.org\"]",
                "$[1]: does not match pattern") == 0);
    /* what a real schema asks is still judged: 3,000 addresses, the last wrong */
    big_len = 0;
    PUT("[");
    for (int i = 0; i < 3000; i++)
        PUT("\"user.%d@mail-%d.com\",", i, i);
    PUT("\"user@mail.org\"]");
    const char *mail = "{\"items\":{\"type\":\"string\",\"pattern\":\"^[\\\\w.-]+@[\\\\w-]+\\\\.com$\"}}";
    CHECK(valid(mail, big, "$[3000]: does not match pattern") == 0);
    big[big_len - 5] = 'c', big[big_len - 4] = 'o', big[big_len - 3] = 'm';
    CHECK(valid(mail, big, NULL) == 1);
    free(many);
    free(big);
}

/* enum and const: each value compared, and each 1,024 bytes of a string
 * compared or measured, is a step */
static void equality_work(void)
{
    big = malloc(BIG_CAP);
    char *many = malloc(BIG_CAP);
    /* 20 answers against an enum of 20,000 (400,000 compares) */
    big_len = 0;
    for (int i = 0; i < 20000; i++)
        PUT("%s\"v%d\"", i ? "," : "", i);
    snprintf(many, BIG_CAP, "{\"items\":{\"not\":{\"enum\":[%s]}}}", big);
    CHECK(valid(many, "[\"w0\",\"w1\",\"w2\",\"w3\",\"w4\",\"w5\",\"w6\",\"w7\",\"w8\",\"w9\","
                      "\"w10\",\"w11\",\"w12\",\"w13\",\"w14\",\"w15\",\"w16\",\"w17\",\"w18\",\"w19\"]", NULL) == -1);
    /* one answer against the same enum is judged, found at its end or not found */
    snprintf(many, BIG_CAP, "{\"items\":{\"enum\":[%s]}}", big);
    CHECK(valid(many, "[\"v19999\"]", NULL) == 1);
    CHECK(valid(many, "[\"w1\"]", "$[0]: not one of enum") == 0);
    /* a 1 MB const compared 300 times (through a $ref), and a 1 MB string's
     * length asked 300 times */
    big_len = 0;
    PUT("\"");
    memset(big + big_len, 'a', 1 << 20);
    big_len += 1 << 20;
    PUT("\"");
    size_t o = (size_t)snprintf(many, BIG_CAP, "{\"$defs\":{\"s\":{\"const\":%s}},\"allOf\":[", big);
    for (int i = 0; i < 300; i++)
        o += (size_t)snprintf(many + o, BIG_CAP - o, "%s{\"$ref\":\"#/$defs/s\"}", i ? "," : "");
    snprintf(many + o, BIG_CAP - o, "]}");
    CHECK(valid(many, big, NULL) == -1);
    o = (size_t)snprintf(many, BIG_CAP, "{\"allOf\":[");
    for (int i = 0; i < 300; i++)
        o += (size_t)snprintf(many + o, BIG_CAP - o, "%s{\"maxLength\":2000000}", i ? "," : "");
    snprintf(many + o, BIG_CAP - o, "]}");
    CHECK(valid(many, big, NULL) == -1);
    CHECK(valid("{\"maxLength\":2000000,\"minLength\":1048577}", big, "$: too short") == 0);
    free(many);
    free(big);
}

/* $ref: any JSON Pointer into the schema (RFC 6901) */
static void ref_pointers(void)
{
    const char *reuse = "{\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"$ref\":\"#/properties/a\"},"
                        "\"c\":{\"type\":\"array\",\"items\":{\"minLength\":2}},\"d\":{\"$ref\":\"#/properties/c/items\"}}}";
    CHECK(valid(reuse, "{\"b\":3,\"d\":\"xy\"}", NULL) == 1);
    CHECK(valid(reuse, "{\"b\":\"x\"}", "$.b: wrong type") == 0);
    CHECK(valid(reuse, "{\"d\":\"x\"}", "$.d: too short") == 0);
    /* array indexes; ~1 for '/', ~0 for '~', percent-escapes decoded first */
    const char *defs = "{\"$defs\":{\"list\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"a/b\":{\"const\":1},"
                       "\"m~n\":{\"const\":2},\"a%b\":{\"const\":3},\"sp ace\":{\"const\":4},\"\":{\"const\":5}},"
                       "\"properties\":{\"s\":{\"$ref\":\"#/$defs/list/0\"},\"i\":{\"$ref\":\"#/$defs/list/1\"},"
                       "\"ab\":{\"$ref\":\"#/$defs/a~1b\"},\"mn\":{\"$ref\":\"#/$defs/m~0n\"},"
                       "\"pc\":{\"$ref\":\"#/$defs/a%25b\"},\"sp\":{\"$ref\":\"#/$defs/sp%20ace\"},"
                       "\"empty\":{\"$ref\":\"#/$defs/\"},\"slash\":{\"$ref\":\"#%2F$defs%2Flist/1\"}}}";
    CHECK(valid(defs, "{\"s\":\"x\",\"i\":1,\"ab\":1,\"mn\":2,\"pc\":3,\"sp\":4,\"empty\":5,\"slash\":6}", NULL) == 1);
    CHECK(valid(defs, "{\"s\":1}", "$.s: wrong type") == 0);
    CHECK(valid(defs, "{\"i\":\"x\"}", "$.i: wrong type") == 0);
    const char *named[] = {"ab", "mn", "pc", "sp", "empty"};
    for (size_t i = 0; i < sizeof named / sizeof *named; i++) {
        char v[64], why[64];
        snprintf(v, sizeof v, "{\"%s\":99}", named[i]);
        snprintf(why, sizeof why, "$.%s: not the const", named[i]);
        CHECK(valid(defs, v, why) == 0);
    }
    CHECK(valid(defs, "{\"slash\":\"x\"}", "$.slash: wrong type") == 0);
    /* what cannot be resolved here leaves the schema unusable, as before:
     * another document, an anchor, a bad escape, an index out of range or
     * with a leading zero, a pointer to what is no schema */
    const char *bad[] = {"other.json#/$defs/list", "#foo", "#/$defs/a~2b", "#/$defs/a%2", "#/$defs/list/2",
                         "#/$defs/list/01", "#/$defs/list/-1", "#/$defs/list", "#/$defs/nope/0", "#/$defs/a%00b"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char s[512];
        snprintf(s, sizeof s, "{\"$defs\":{\"list\":[{},{}],\"a~b\":{}},\"$ref\":\"%s\"}", bad[i]);
        CHECK(valid(s, "1", NULL) == -1);
    }
    /* a pointer cycle is stopped, as a $defs one is */
    CHECK(valid("{\"properties\":{\"a\":{\"$ref\":\"#/properties/a\"}}}", "{\"a\":1}", NULL) == -1);
    CHECK(valid("{\"properties\":{\"a\":{\"$ref\":\"#/properties/b\"},\"b\":{\"$ref\":\"#/properties/a\"}}}",
                "{\"a\":1}", NULL) == -1);
    CHECK(valid("{\"properties\":{\"a\":{\"$ref\":\"#/properties/a\"}}}", "{\"b\":1}", NULL) == 1);
}

void test_schema(void)
{
    const char *person =
        "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"minLength\":1},"
        "\"age\":{\"type\":\"integer\",\"minimum\":0},\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
        "\"role\":{\"enum\":[\"admin\",\"user\"]},\"address\":{\"type\":\"object\",\"properties\":"
        "{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"],\"additionalProperties\":false}},"
        "\"required\":[\"name\",\"age\"],\"additionalProperties\":false}";
    CHECK(valid(person, "{\"name\":\"Ann\",\"age\":30}", NULL) == 1);
    CHECK(valid(person, "{\"name\":\"Ann\",\"age\":30,\"tags\":[\"a\",\"b\"],\"role\":\"user\","
                        "\"address\":{\"city\":\"Oslo\"}}", NULL) == 1);
    CHECK(valid(person, "{\"name\":\"Ann\"}", "$.age: required") == 0);
    CHECK(valid(person, "{\"name\":\"Ann\",\"age\":\"30\"}", "$.age: wrong type") == 0);
    CHECK(valid(person, "{\"name\":\"Ann\",\"age\":30.5}", "$.age: wrong type") == 0);
    CHECK(valid(person, "{\"name\":\"Ann\",\"age\":-1}", "below minimum") == 0);
    CHECK(valid(person, "{\"name\":\"\",\"age\":1}", "too short") == 0);
    CHECK(valid(person, "{\"name\":\"Ann\",\"age\":3,\"x\":1}", "$.x: additional property") == 0);
    CHECK(valid(person, "{\"name\":\"Ann\",\"age\":3,\"tags\":[\"a\",2]}", "$.tags[1]: wrong type") == 0);
    CHECK(valid(person, "{\"name\":\"Ann\",\"age\":3,\"role\":\"root\"}", "enum") == 0);
    CHECK(valid(person, "{\"name\":\"Ann\",\"age\":3,\"address\":{}}", "$.address.city: required") == 0);
    CHECK(valid(person, "{\"name\":\"Ann\",\"age\":3,\"address\":{\"city\":\"O\",\"zip\":1}}",
                "$.address.zip: additional property") == 0);
    CHECK(valid(person, "[1,2]", "wrong type") == 0);
    /* type lists, nullable, anyOf, $ref to $defs, Gemini's upper-case types */
    CHECK(valid("{\"type\":[\"string\",\"null\"]}", "null", NULL) == 1);
    CHECK(valid("{\"type\":\"STRING\",\"nullable\":true}", "null", NULL) == 1);
    CHECK(valid("{\"type\":\"OBJECT\",\"properties\":{\"n\":{\"type\":\"INTEGER\"}}}", "{\"n\":2}", NULL) == 1);
    CHECK(valid("{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "7", NULL) == 1);
    CHECK(valid("{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "true", "anyOf") == 0);
    const char *refs = "{\"$defs\":{\"step\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}},"
                       "\"required\":[\"n\"]}},\"type\":\"object\",\"properties\":{\"steps\":{\"type\":\"array\","
                       "\"items\":{\"$ref\":\"#/$defs/step\"}}},\"required\":[\"steps\"]}";
    CHECK(valid(refs, "{\"steps\":[{\"n\":1},{\"n\":2}]}", NULL) == 1);
    CHECK(valid(refs, "{\"steps\":[{\"n\":1},{}]}", "$.steps[1].n: required") == 0);
    CHECK(valid("{\"$ref\":\"#/$defs/nope\"}", "1", NULL) == -1);
    CHECK(valid("{\"const\":\"x\"}", "\"x\"", NULL) == 1);
    CHECK(valid("{\"type\":\"array\",\"minItems\":2}", "[1]", "too few") == 0);
    /* lengths count characters: "é" is one (two bytes), U+1F600 one (four) */
    CHECK(valid("{\"type\":\"string\",\"maxLength\":1}", "\"\\u00e9\"", NULL) == 1);
    CHECK(valid("{\"maxLength\":1}", "\"\xf0\x9f\x98\x80\"", NULL) == 1);
    CHECK(valid("{\"minLength\":2}", "\"\\u00e9\"", "too short") == 0);
    CHECK(valid("{\"maxLength\":2}", "\"\\u00e9\\u00e9\\u00e9\"", "too long") == 0);
    /* patternProperties: matching members are checked and are not additional */
    const char *pp = "{\"properties\":{\"id\":{}},\"patternProperties\":{\"^x_\":{\"type\":\"string\"}},"
                     "\"additionalProperties\":false}";
    CHECK(valid(pp, "{\"id\":1,\"x_a\":\"s\"}", NULL) == 1);
    CHECK(valid(pp, "{\"x_a\":1}", "$.x_a: wrong type") == 0);
    CHECK(valid(pp, "{\"y_a\":\"s\"}", "$.y_a: additional property") == 0);
    CHECK(valid("{\"patternProperties\":{\"^(?=x)\":{}},\"additionalProperties\":false}", "{\"y\":1}", NULL) == 1);
    /* prefixItems, then items for the rest; draft-07's items list, then additionalItems */
    const char *tuple = "{\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"items\":false}";
    CHECK(valid(tuple, "[\"a\"]", NULL) == 1);
    CHECK(valid(tuple, "[\"a\",2]", NULL) == 1);
    CHECK(valid(tuple, "[\"a\",2,3]", "$[2]: not allowed") == 0);
    CHECK(valid(tuple, "[1]", "$[0]: wrong type") == 0);
    CHECK(valid("{\"prefixItems\":[{\"type\":\"string\"}],\"items\":{\"type\":\"boolean\"}}", "[\"a\",true,1]",
                "$[2]: wrong type") == 0);
    CHECK(valid("{\"items\":[{\"type\":\"string\"}],\"additionalItems\":false}", "[\"a\"]", NULL) == 1);
    CHECK(valid("{\"items\":[{\"type\":\"string\"}],\"additionalItems\":false}", "[\"a\",1]", "$[1]: not allowed") == 0);
    CHECK(valid("{\"items\":[{\"type\":\"string\"}]}", "[2,1]", "$[0]: wrong type") == 0);
    CHECK(valid("{\"items\":[{\"type\":\"string\"}]}", "[\"a\",1]", NULL) == 1);
    /* the keywords of OpenAI's strict mode */
    CHECK(valid("{\"exclusiveMinimum\":0}", "0", "exclusiveMinimum") == 0);
    CHECK(valid("{\"exclusiveMinimum\":0}", "0.5", NULL) == 1);
    CHECK(valid("{\"exclusiveMaximum\":10}", "10", "exclusiveMaximum") == 0);
    CHECK(valid("{\"minimum\":0,\"exclusiveMinimum\":true}", "0", "below minimum") == 0);   /* draft-04 */
    CHECK(valid("{\"maximum\":1,\"exclusiveMaximum\":true}", "0.5", NULL) == 1);
    CHECK(valid("{\"type\":\"integer\",\"multipleOf\":5}", "3", "multipleOf") == 0);
    CHECK(valid("{\"multipleOf\":5}", "-15", NULL) == 1);
    CHECK(valid("{\"multipleOf\":0.01}", "19.99", NULL) == 1);   /* 1999.0000000000002 */
    CHECK(valid("{\"multipleOf\":0.1}", "0.3", NULL) == 1);
    CHECK(valid("{\"multipleOf\":0.1}", "0.35", "multipleOf") == 0);
    CHECK(valid("{\"multipleOf\":0}", "3", NULL) == 1);   /* not judged */
    /* a number far smaller than multipleOf is no multiple of it (it was,
     * within an absolute error), and 0 is one of everything */
    CHECK(valid("{\"multipleOf\":0.01}", "1e-12", "multipleOf") == 0);
    CHECK(valid("{\"multipleOf\":3}", "1e-10", "multipleOf") == 0);
    CHECK(valid("{\"not\":{\"multipleOf\":10}}", "1e-9", NULL) == 1);
    CHECK(valid("{\"multipleOf\":0.01}", "0", NULL) == 1 && valid("{\"multipleOf\":0.01}", "-0.0", NULL) == 1);
    CHECK(valid("{\"multipleOf\":0.1}", "0.09999999999999999", NULL) == 1);
    CHECK(valid("{\"not\":{\"type\":\"string\"}}", "\"x\"", "matches not") == 0);
    CHECK(valid("{\"not\":{\"type\":\"string\"}}", "1", NULL) == 1);
    CHECK(valid("{\"minProperties\":2}", "{\"a\":1}", "too few properties") == 0);
    CHECK(valid("{\"maxProperties\":1}", "{\"a\":1,\"b\":2}", "too many properties") == 0);
    CHECK(valid("{\"maxProperties\":1}", "{\"a\":1}", NULL) == 1);
    CHECK(valid("{\"uniqueItems\":true}", "[1,2,1]", "not unique") == 0);
    CHECK(valid("{\"uniqueItems\":true}", "[{\"a\":1,\"b\":2},{\"b\":2,\"a\":1}]", "not unique") == 0);
    CHECK(valid("{\"uniqueItems\":true}", "[1,\"1\",[1],{\"a\":1}]", NULL) == 1);
    const char *pat = "{\"type\":\"string\",\"pattern\":\"^[a-z]+$\"}";
    CHECK(valid(pat, "\"abc\"", NULL) == 1);
    CHECK(valid(pat, "\"ABC\"", "does not match pattern") == 0);
    CHECK(valid("{\"pattern\":\"^\\\\d{3}-\\\\d{4}$\"}", "\"555-1234\"", NULL) == 1);
    CHECK(valid("{\"pattern\":\"^\\\\d{3}-\\\\d{4}$\"}", "\"55a-1234\"", "pattern") == 0);
    CHECK(valid("{\"pattern\":\"^[\\\\w.-]+@[\\\\w-]+\\\\.com$\"}", "\"a.b@x-y.com\"", NULL) == 1);
    CHECK(valid("{\"pattern\":\"^[\\\\w.-]+@[\\\\w-]+\\\\.com$\"}", "\"a b@x-y.com\"", "pattern") == 0);
    CHECK(valid("{\"pattern\":\"^(?:ab)+?$\"}", "\"abab\"", NULL) == 1);   /* (?: and laziness */
    CHECK(valid("{\"pattern\":\"^(?:ab)+?$\"}", "\"aba\"", "pattern") == 0);
    CHECK(valid("{\"pattern\":\"^a{2,}\\\\{$\"}", "\"aaa{\"", NULL) == 1);
    CHECK(valid("{\"pattern\":\"^[\\\\-^]$\"}", "\"^\"", NULL) == 1);
    /* a class's ']' '^' '-' '[' placed as ERE wants them, its other parts left where
     * they are: moved, they made ranges of their neighbours (=-^ is = to ^) */
    CHECK(valid("{\"pattern\": \"^[A-Za-z0-9!@#$%^&*()_+=-]+$\"}", "\"pass-word\"", NULL) == 1);
    CHECK(valid("{\"pattern\": \"^[A-Za-z0-9!@#$%^&*()_+=-]+$\"}", "\"a?b\"", "pattern") == 0);
    CHECK(valid("{\"pattern\": \"^[a-z!@#$%^&*()_+=-]+$\"}", "\"a?b\"", "pattern") == 0);
    CHECK(valid("{\"pattern\": \"^[0-9+*/^-]+$\"}", "\"2^3-1\"", NULL) == 1);
    CHECK(valid("{\"pattern\": \"^[0-9+*/^-]+$\"}", "\"ABC\"", "pattern") == 0);
    CHECK(valid("{\"pattern\": \"^[\\\\s-\\\\n-]+$\"}", "\" -\\n\"", NULL) == 1);
    CHECK(valid("{\"pattern\": \"^[\\\\s-\\\\n-]+$\"}", "\"a\"", "pattern") == 0);
    CHECK(valid("{\"pattern\": \"^[\\\\^]$\"}", "\"^\"", NULL) == 1);
    CHECK(valid("{\"pattern\": \"^[\\\\^]$\"}", "\"a\"", "pattern") == 0);
    CHECK(valid("{\"pattern\": \"^[^\\\\^]$\"}", "\"^\"", "pattern") == 0);
    CHECK(valid("{\"pattern\": \"^[^\\\\^]$\"}", "\"a\"", NULL) == 1);
    CHECK(valid("{\"pattern\": \"^[-^]$\"}", "\"-\"", NULL) == 1);
    CHECK(valid("{\"pattern\": \"^[-^]$\"}", "\"^\"", NULL) == 1);
    CHECK(valid("{\"pattern\": \"^[-^]$\"}", "\"a\"", "pattern") == 0);
    CHECK(valid("{\"pattern\": \"^[\\\\]a]$\"}", "\"]\"", NULL) == 1);
    CHECK(valid("{\"pattern\": \"^[\\\\]a]$\"}", "\"b\"", "pattern") == 0);
    CHECK(valid("{\"pattern\": \"^[[:]+$\"}", "\"[:\"", NULL) == 1);
    CHECK(valid("{\"pattern\": \"^[[:]+$\"}", "\"a\"", "pattern") == 0);
    CHECK(valid("{\"pattern\": \"^[!-~]+$\"}", "\"a~!\"", NULL) == 1);
    CHECK(valid("{\"pattern\": \"^[!-~]+$\"}", "\"a b\"", "pattern") == 0);
    CHECK(valid("{\"pattern\": \"^[+-^]$\"}", "\"~\"", NULL) == 1);
    /* what ERE cannot say is not judged: lookarounds, \p, \b, unbalanced,
     * '.' on non-ASCII, a counted repeat too large to compile */
    CHECK(valid("{\"pattern\":\"^(?!x)\"}", "\"x\"", NULL) == 1);
    CHECK(valid("{\"pattern\":\"^\\\\p{L}+$\"}", "\"1\"", NULL) == 1);
    CHECK(valid("{\"pattern\":\"\\\\bx\"}", "\"ax\"", NULL) == 1);
    CHECK(valid("{\"pattern\":\"(\"}", "\"x\"", NULL) == 1);
    CHECK(valid("{\"pattern\":\"^.$\"}", "\"\\u00e9\"", NULL) == 1);
    CHECK(valid("{\"pattern\":\"^.$\"}", "\"ab\"", "pattern") == 0);
    CHECK(valid("{\"pattern\":\"^((a{0,999}){0,999}){0,999}$\"}", "\"b\"", NULL) == 1);
    /* ECMA's "nothing to repeat", which glibc compiles, slowly (found by fuzz_schema) */
    CHECK(valid("{\"pattern\":\"^a?++++++++++++++$\"}", "\"b\"", NULL) == 1);
    /* a keyword not judged is not a match that `not` or oneOf can hold against the answer */
    CHECK(valid("{\"not\":{\"pattern\":\"(?=a)\"}}", "\"a\"", NULL) == 1);
    CHECK(valid("{\"oneOf\":[{\"pattern\":\"(?<=a)\"},{\"type\":\"string\"}]}", "\"a\"", NULL) == 1);
    CHECK(valid("{\"not\":{\"format\":\"email\"}}", "\"x\"", NULL) == 1);
    CHECK(valid("{\"format\":\"date-time\"}", "\"nope\"", NULL) == 1);   /* format is not checked */
    CHECK(valid("{\"unknownKeyword\":5}", "{\"a\":1}", NULL) == 1);
    CHECK(valid("false", "1", NULL) == 0);
    /* self-reference deeper than any real answer is refused, not followed forever */
    CHECK(valid("{\"$ref\":\"#\"}", "1", NULL) == -1);
    /* 25 levels of anyOf, each naming the next level twice: 2^25 branches if
     * followed; the work limit gives up (unusable schema) instead of stalling */
    char deep[4096];
    chain(deep, sizeof deep, "{\"anyOf\":[{\"$ref\":\"#/$defs/l%d\"},{\"$ref\":\"#/$defs/l%d\"}]}");
    CHECK(valid(deep, "1", NULL) == -1);
    CHECK(valid(deep, "\"s\"", NULL) == 1);   /* a match found early is still a match */
    /* a large plain answer is judged, not given up on: 30,001 rows, the last wrong */
    size_t cap = 1 << 21;
    char *rows = malloc(cap);
    size_t o = (size_t)snprintf(rows, cap, "{\"rows\":[");
    for (int i = 0; i < 30000; i++)
        o += (size_t)snprintf(rows + o, cap - o, "{\"a\":1,\"b\":\"x\",\"c\":true},");
    snprintf(rows + o, cap - o, "{\"a\":\"WRONG\",\"b\":\"x\",\"c\":true}]}");
    const char *row_schema = "{\"type\":\"object\",\"properties\":{\"rows\":{\"type\":\"array\",\"items\":"
                             "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":"
                             "{\"type\":\"string\"},\"c\":{\"type\":\"boolean\"}},\"required\":[\"a\",\"b\",\"c\"],"
                             "\"additionalProperties\":false}}},\"required\":[\"rows\"]}";
    CHECK(valid(row_schema, rows, "$.rows[30000].a: wrong type") == 0);
    /* a recursive $defs tree 40 levels deep: its $ref hops are not nesting */
    const char *tree = "{\"$defs\":{\"node\":{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"integer\"},"
                       "\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/node\"}}},"
                       "\"required\":[\"v\",\"kids\"]}},\"$ref\":\"#/$defs/node\"}";
    for (int bad = 0; bad < 2; bad++) {
        o = 0;
        for (int i = 0; i < 40; i++)
            o += (size_t)snprintf(rows + o, cap - o, "{\"v\":1,\"kids\":[");
        o += (size_t)snprintf(rows + o, cap - o, "{\"v\":%s,\"kids\":[]}", bad ? "\"x\"" : "2");
        for (int i = 0; i < 40; i++)
            o += (size_t)snprintf(rows + o, cap - o, "]}");
        CHECK(valid(tree, rows, NULL) == !bad);
    }
    free(rows);
    if_then_else();
    contains();
    property_names();
    dependencies();
    equality();
    unique_work();
    pattern_work();
    equality_work();
    ref_pointers();
}
