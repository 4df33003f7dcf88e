/* cjson_patch: the changes in our copy of cJSON (marked "llmfallback:" in
 * third_party/cjson/cJSON.c). The speed changes give what upstream's
 * code gives: numbers their value as strtod() reads it, which upstream
 * calls for every number (in the "C" locale, as here); strings against a
 * decoding of their escapes written here (string_ref); values of each
 * kind chosen by their first byte.
 * The parser takes only JSON as RFC 8259 writes it: a number is checked
 * against the RFC's grammar as a POSIX regular expression. */
#include <math.h>
#include <locale.h>
#include <regex.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "t.h"

static unsigned long long seed = 88172645463325252ull;
static unsigned next(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return (unsigned)seed;
}

/* text as the value of [text]: parsed when it is a JSON number as the
 * RFC's grammar has it (re), to strtod's value; refused otherwise. */
static int number_agrees(const regex_t *re, const char *text)
{
    char doc[96], *end;
    snprintf(doc, sizeof doc, "[%s]", text);
    double want = strtod(text, &end);
    int ok = regexec(re, text, 0, NULL, 0) == 0;
    cJSON *j = cJSON_Parse(doc);
    int agree;
    if (!ok) {
        agree = j == NULL;
    } else {
        const cJSON *v = cJSON_GetArrayItem(j, 0);
        agree = *end == 0 && cJSON_IsNumber(v) && memcmp(&v->valuedouble, &want, sizeof want) == 0 &&
                v->valueint == (want >= 2147483647.0 ? 2147483647 : want <= -2147483648.0 ? -2147483647 - 1 : (int)want);
    }
    if (!agree)
        fprintf(stderr, "cjson_patch: number %s\n", text);
    cJSON_Delete(j);
    return agree;
}

/* What doc, ["<string>"], parses to as RFC 8259 and our changes have it:
 * 1 and the string's value in out (U+0000 as C0 80), or 0 when it is not
 * JSON. raw: raw control characters (and a raw C0 80) are taken. Only the
 * escapes \u0041, \u00e9 and \u0000 are ever made by the caller. */
static int string_ref(const char *doc, size_t n, int raw, char *out)
{
    size_t i = 2, o = 0;
    if (n < 2 || doc[0] != '[' || doc[1] != '"')
        return 0;
    for (;;) {
        if (i >= n)
            return 0;
        unsigned char c = (unsigned char)doc[i];
        if (c == '"')
            break;
        if (c < 0x20 && !raw)
            return 0;
        if (c == 0xC0 && i + 1 < n && (unsigned char)doc[i + 1] == 0x80 && !raw)
            return 0;
        if (c != '\\') {
            out[o++] = (char)c;
            i++;
            continue;
        }
        if (i + 1 >= n)
            return 0;
        char e = doc[i + 1];
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        if (e == 'u') {
            if (i + 6 > n)
                return 0;
            if (!strncmp(doc + i, "\\u0041", 6))
                out[o++] = 'A';
            else if (!strncmp(doc + i, "\\u00e9", 6))
                out[o++] = (char)0xC3, out[o++] = (char)0xA9;
            else if (!strncmp(doc + i, "\\u0000", 6))
                out[o++] = (char)0xC0, out[o++] = (char)0x80;
            else
                return 0;
            i += 6;
        } else if (e && strchr(from, e)) {
            out[o++] = to[strchr(from, e) - from];
            i += 2;
        } else {
            return 0;
        }
    }
    out[o] = 0;
    /* white space, then the end of the array (what follows it is not looked
     * at by cJSON_ParseWithLength) */
    for (i++; i < n && ((doc[i] && strchr(" \t\n\r", doc[i])) || (raw && (unsigned char)doc[i] <= 32)); i++)
        ;
    return i < n && doc[i] == ']';
}

void test_cjson_patch(void)
{
    /* Numbers: the fast path's edges and the cases it leaves to strtod,
     * and what strtod takes that JSON does not ("007", "12.", ".5"). */
    regex_t re;
    CHECK(regcomp(&re, "^-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][+-]?[0-9]+)?$", REG_EXTENDED | REG_NOSUB) == 0);
    static const char *fixed[] = {"0", "-0", "7", "007", "-12", "999999999999999", "-999999999999999",
                                  "9999999999999999", "12345678901234567890", "2147483647", "2147483648",
                                  "-2147483649", "1.5", "1e3", "1E3", "-1e-3", "12-3", "1+2", "12.", "-",
                                  "--1", "+1", ".5", "0x10", "1.2.3", "5e", "1e400", "-1e400", "00", "-01", "0.5", "-0.0e+5", "1.e5", "0e", "1E+", "2.e", "-.5"};
    int bad = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        bad += !number_agrees(&re, fixed[i]);
    CHECK(bad == 0);
    /* and 200,000 random runs of those characters, mostly digits */
    static const char alpha[] = "0123456789012345678901234567890123456789-+eE.";
    bad = 0;
    for (int i = 0; i < 200000; i++) {
        char t[24];
        int len = 1 + (int)(next() % 20);
        for (int k = 0; k < len; k++)
            t[k] = alpha[next() % (sizeof alpha - 1)];
        t[len] = 0;
        bad += !number_agrees(&re, t);
    }
    CHECK(bad == 0);
    regfree(&re);

    /* Numbers are read and written in the C locale, whatever the program
     * set: under a comma locale strtod took 0.7 as 0 followed by ".7" (the
     * number refused) and printf wrote 0,7; the program's locale is its
     * own again after. */
    CHECK(t_numeric_comma(1) == 0);
    cJSON *loc = cJSON_Parse("{\"t\":0.7,\"e\":-1.5e3,\"f\":2.5e-7,\"big\":12345678901234567890}");
    CHECK(loc && cJSON_GetObjectItem(loc, "t")->valuedouble == 0.7 &&
          cJSON_GetObjectItem(loc, "f")->valuedouble == 2.5e-7);
    cJSON_AddNumberToObject(loc, "made", 0.25);
    char *lp = loc ? cJSON_PrintUnformatted(loc) : NULL;
    CHECK_STR(lp, "{\"t\":0.7,\"e\":-1500,\"f\":2.5e-07,\"big\":12345678901234567890,\"made\":0.25}");
    CHECK(localeconv()->decimal_point[0] == ',');
    free(lp);
    cJSON_Delete(loc);
    CHECK(t_numeric_comma(0) == 0);

    /* Strings with and without escapes, keys included. */
    cJSON *j = cJSON_Parse("{\"plain\":\"hello world\",\"esc\":\"a\\\"b\\\\c\\n\\u00e9\\/\",\"\":\"\","
                           "\"k\\u0041y\":\"x\"}");
    CHECK(j != NULL);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "plain")), "hello world");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "esc")), "a\"b\\c\n\xc3\xa9/");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "")), "");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "kAy")), "x");
    cJSON_Delete(j);
    /* unterminated, or a bad escape, still fails */
    CHECK(cJSON_Parse("[\"abc]") == NULL);
    CHECK(cJSON_Parse("[\"a\\qb\"]") == NULL);
    CHECK(cJSON_Parse("[\"ab\\") == NULL);
    /* a raw control character, in a string or between tokens, is not JSON
     * (Python's json and JSON.parse refuse it); escaped, and DEL raw, it is */
    static const char *const raw[] = {"[\"a\tb\"]", "[\"a\nb\"]", "[\"\x01\"]", "{\"\x1f\":1}", "[1,\x01 2]",
                                      "\x0b[1]", "[1]\x0c"};
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        const char *end = NULL;
        j = cJSON_ParseWithOpts(raw[i], &end, 1);
        if (j)
            fprintf(stderr, "cjson_patch: took raw control character in %zu\n", i);
        CHECK(j == NULL);
        cJSON_Delete(j);
        /* ... but for cJSON_ParseWithLengthRawControls, as upstream took it */
        j = cJSON_ParseWithLengthRawControls(raw[i], strlen(raw[i]), NULL);
        if (!j)
            fprintf(stderr, "cjson_patch: raw controls refused in %zu\n", i);
        CHECK(j != NULL);
        cJSON_Delete(j);
    }
    /* taken in a string, printed back escaped; between tokens, white space */
    static const char *const mended[][2] = {{"[\"a\tb\x01\"]", "[\"a\\tb\\u0001\"]"},
                                            {"{\"\x1f\n\":\x0b" "1}", "{\"\\u001f\\n\":1}"}};
    for (size_t i = 0; i < sizeof mended / sizeof mended[0]; i++) {
        j = cJSON_ParseWithLengthRawControls(mended[i][0], strlen(mended[i][0]), NULL);
        char *p = j ? cJSON_PrintUnformatted(j) : NULL;
        CHECK_STR(p, mended[i][1]);
        cJSON_free(p);
        cJSON_Delete(j);
    }
    /* a \u escape with anything but 4 hex digits is not JSON (upstream read
     * a bad digit as U+0000 and cut the string there), in either entry point */
    static const char *const bad_u[] = {"[\"a\\u00zzb\"]", "[\"\\u12G4\"]", "[\"\\u-123\"]", "[\"Hi \\uZZZZ\"]",
                                        "[\"\\u 123\"]", "[\"\\ud83d\\uDE0G\"]", "[\"\\ud83d\\u00zz\"]"};
    for (size_t i = 0; i < sizeof bad_u / sizeof bad_u[0]; i++) {
        j = cJSON_Parse(bad_u[i]);
        cJSON *k = cJSON_ParseWithLengthRawControls(bad_u[i], strlen(bad_u[i]), NULL);
        if (j || k)
            fprintf(stderr, "cjson_patch: took a bad \\u escape in %s\n", bad_u[i]);
        CHECK(j == NULL && k == NULL);
        cJSON_Delete(j);
        cJSON_Delete(k);
    }
    j = cJSON_Parse("[\"\\u00e9\\u00C9\\uFFFF\\ud83d\\ude00\\u0041\"]");
    CHECK(j && !strcmp(cJSON_GetArrayItem(j, 0)->valuestring, "\xc3\xa9\xc3\x89\xef\xbf\xbf\xf0\x9f\x98\x80" "A"));
    cJSON_Delete(j);
    /* \u0000 is kept inside the C string as C0 80 (which no valid UTF-8
     * holds), the text after it with it, and printed as \u0000 again; a
     * C0 80 that came raw is one too where raw control characters are
     * taken, and refused where they are not: it is what a NUL the parser
     * decoded looks like in JSON carried in a string, parsed again (a
     * JSON-mode answer {"a":"x\u0000y"}, which the program's parser
     * refuses for its raw NUL), and no UTF-8 on the wire (rev28) */
    static const char *const nul[][3] = {
        {"[\"\\u0000Hello\"]", "\xc0\x80Hello", "[\"\\u0000Hello\"]"},
        {"{\"a\\u0000b\":\"x\\u0000\\u0000\"}", "x\xc0\x80\xc0\x80", "{\"a\\u0000b\":\"x\\u0000\\u0000\"}"},
        {"[\"\xc0\x80\\t\xc0\"]", "\xc0\x80\t\xc0", "[\"\\u0000\\t\xc0\"]"},
    };
    static const char *const nested[] = {"[\"\xc0\x80\"]", "{\"a\":\"x\xc0\x80y\"}", "[\"\xc0\x80\xc0\"]"};
    for (size_t i = 0; i < sizeof nested / sizeof nested[0]; i++) {
        CHECK(cJSON_Parse(nested[i]) == NULL);
        j = cJSON_ParseWithLengthRawControls(nested[i], strlen(nested[i]), NULL);
        CHECK(j != NULL);
        cJSON_Delete(j);
    }
    j = cJSON_Parse("[\"\xc0\"]");   /* (a lone C0 is invalid UTF-8, taken as such) */
    CHECK(j != NULL);
    cJSON_Delete(j);
    for (size_t i = 0; i < sizeof nul / sizeof nul[0]; i++) {
        j = i == 2 ? cJSON_ParseWithLengthRawControls(nul[i][0], strlen(nul[i][0]), NULL) : cJSON_Parse(nul[i][0]);
        const cJSON *v = cJSON_IsArray(j) ? cJSON_GetArrayItem(j, 0) : j ? j->child : NULL;
        CHECK_STR(v ? v->valuestring : NULL, nul[i][1]);
        char *p = j ? cJSON_PrintUnformatted(j) : NULL;
        CHECK_STR(p, nul[i][2]);
        cJSON_free(p);
        cJSON_Delete(j);
    }
    /* the strict entry points stay strict after it (no state left behind) */
    CHECK(cJSON_Parse(raw[0]) == NULL);
    j = cJSON_Parse(" \t\r\n[\"a\\tb\\u0001\x7f\" ,\n\t1 ]\r\n ");
    CHECK(j && !strcmp(cJSON_GetArrayItem(j, 0)->valuestring, "a\tb\x01\x7f"));
    cJSON_Delete(j);
    /* random printable strings round-trip through print and parse */
    bad = 0;
    for (int i = 0; i < 20000; i++) {
        char s[40];
        int len = (int)(next() % 39);
        for (int k = 0; k < len; k++)
            s[k] = (char)(1 + next() % 126);
        s[len] = 0;
        cJSON *str = cJSON_CreateString(s);
        char *printed = cJSON_PrintUnformatted(str);
        cJSON *back = printed ? cJSON_Parse(printed) : NULL;
        bad += !(back && cJSON_IsString(back) && strcmp(back->valuestring, s) == 0);
        cJSON_Delete(back);
        cJSON_free(printed);
        cJSON_Delete(str);
    }
    CHECK(bad == 0);

    /* Strings of the bytes the parser stops at in a string (a quote, an
     * escape, control characters, C0), and others, against string_ref:
     * taken or refused alike, to the same value, in both entry points. */
    static const char *const piece[] = {"a", "\xc3\xa9", "\\\\", "\\\"", "\\n", "\\t", "\\/", "\\u0041",
                                        "\\u00e9", "\\u0000", "\\q", "\\", "\t", "\x01", "\x1f", "\xc0",
                                        "\x80", "\xc0\x80", " ", "\x7f", "\xff", "\"", "]"};
    bad = 0;
    int taken = 0;
    for (int i = 0; i < 100000; i++) {
        char doc[128], want[128];
        size_t n = 0;
        doc[n++] = '[', doc[n++] = '"';
        for (int k = (int)(next() % 9); k > 0; k--) {
            const char *p = piece[next() % (sizeof piece / sizeof piece[0])];
            memcpy(doc + n, p, strlen(p));
            n += strlen(p);
        }
        if (next() % 8) {   /* (mostly closed as a string in an array is) */
            doc[n++] = '"';
            doc[n++] = ']';
        }
        for (int rc = 0; rc < 2; rc++) {
            int ok = string_ref(doc, n, rc, want);
            cJSON *s = rc ? cJSON_ParseWithLengthRawControls(doc, n, NULL) : cJSON_ParseWithLength(doc, n);
            const cJSON *v = cJSON_GetArrayItem(s, 0);
            int agree = ok ? (cJSON_GetArraySize(s) == 1 && cJSON_IsString(v) && !strcmp(v->valuestring, want))
                           : s == NULL;
            if (!agree && bad < 5) {
                fprintf(stderr, "cjson_patch: string (raw %d, want %s):", rc, ok ? "taken" : "refused");
                for (size_t b = 0; b < n; b++)
                    fprintf(stderr, " %02x", (unsigned char)doc[b]);
                fprintf(stderr, "\n");
            }
            bad += !agree;
            taken += ok;
            cJSON_Delete(s);
        }
    }
    CHECK(bad == 0);
    CHECK(taken > 10000);   /* (the test sees both outcomes) */

    /* Literals: each by its whole word, as before. */
    j = cJSON_Parse("[null,false,true]");
    CHECK(j && cJSON_IsNull(cJSON_GetArrayItem(j, 0)) && cJSON_IsFalse(cJSON_GetArrayItem(j, 1)) &&
          cJSON_IsTrue(cJSON_GetArrayItem(j, 2)));
    cJSON_Delete(j);
    CHECK(cJSON_Parse("[nul]") == NULL);
    CHECK(cJSON_Parse("[fals]") == NULL);
    CHECK(cJSON_Parse("[tru]") == NULL);
    CHECK(cJSON_Parse("[nulL]") == NULL);
    CHECK(cJSON_Parse("n") == NULL);

    /* Numbers a double does not hold print as they came (a 64-bit id was
     * 1.2345678901234568e+18, 1e400 null), their value still the double;
     * those it holds as upstream prints them. */
    static const char *const kept[][2] = {
        {"1234567890123456789", "1234567890123456789"}, {"-9223372036854775808", "-9223372036854775808"},
        {"1e400", "1e400"}, {"-1.5E+400", "-1.5E+400"}, {"0.30000000000000004", "0.30000000000000004"},
        {"123456789012345678.25e-3", "123456789012345678.25e-3"}, {"9007199254740993", "9007199254740993"},
        {"999999999999999", "999999999999999"}, {"1.5", "1.5"}, {"1e3", "1000"}, {"0.000000000000000001", "1e-18"},
        {"1.10", "1.1"}, {"-0", "0"}};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        char doc[64];
        snprintf(doc, sizeof doc, "[%s]", kept[i][0]);
        j = cJSON_Parse(doc);
        char *p = cJSON_PrintUnformatted(cJSON_GetArrayItem(j, 0));
        if (!p || strcmp(p, kept[i][1]))
            fprintf(stderr, "cjson_patch: %s printed %s\n", kept[i][0], p ? p : "(nothing)");
        CHECK(p && !strcmp(p, kept[i][1]));
        CHECK(cJSON_GetArrayItem(j, 0) && cJSON_GetArrayItem(j, 0)->valuedouble == strtod(kept[i][0], NULL));
        cJSON_free(p);
        cJSON_Delete(j);
    }
    /* copied with its item; a value set is printed as the value */
    j = cJSON_Parse("{\"id\":1234567890123456789,\"n\":12345678901234567890}");
    cJSON *dup = cJSON_Duplicate(j, 1);
    cJSON_SetNumberValue(cJSON_GetObjectItem(dup, "n"), 7);
    char *p = cJSON_PrintUnformatted(dup);
    CHECK_STR(p, "{\"id\":1234567890123456789,\"n\":7}");
    cJSON_free(p);
    cJSON_Delete(dup);
    cJSON_Delete(j);
}
