/* PDFs across dialects: a program's PDF given inline (OpenAI's file part,
 * Anthropic's document block, Gemini's inlineData) reaches a member of
 * every other dialect as that dialect takes one, in a message and in a
 * tool's result; what only its own provider can read is refused. A Gemini
 * program's text file is its text. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dialect.h"
#include "hubutil.h"
#include "t.h"
#include "tr.h"

#define PDF "JVBERi0xLjQKJcK1wrYK"   /* "%PDF-1.4\n%µ¶\n" */

/* o's value at a path of object keys and array indices ("messages", "0",
 * "content", ...), NULL-terminated. */
static const cJSON *at(const cJSON *o, ...)
{
    va_list ap;
    va_start(ap, o);
    for (const char *k; o && (k = va_arg(ap, const char *));)
        o = cJSON_IsArray(o) ? cJSON_GetArrayItem(o, atoi(k)) : cJSON_GetObjectItemCaseSensitive(o, k);
    va_end(ap);
    return o;
}

static const char *str_at(const cJSON *o, const char *a, const char *b, const char *c, const char *d,
                          const char *e, const char *f)
{
    return cJSON_GetStringValue(at(o, a, b, c, d, e, f, (char *)NULL));
}

static const char openai_req[] =
    "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"sum it up\"},"
    "{\"type\":\"file\",\"file\":{\"filename\":\"report.pdf\",\"file_data\":\"data:application/pdf;base64," PDF
    "\"}}]}]}";
static const char anthropic_req[] =
    "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":["
    "{\"type\":\"document\",\"source\":{\"type\":\"base64\",\"media_type\":\"application/pdf\",\"data\":\"" PDF "\"},"
    "\"title\":\"Q3 report\",\"context\":\"from finance\",\"citations\":{\"enabled\":true},"
    "\"cache_control\":{\"type\":\"ephemeral\"}},{\"type\":\"text\",\"text\":\"sum it up\"}]}]}";
static const char gemini_req[] =
    "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"sum it up\"},"
    "{\"inline_data\":{\"mime_type\":\"application/pdf\",\"data\":\"" PDF "\"}}]}]}";

static void to_openai(void)
{
    int rc;
    cJSON *o = tr_across(LLF_ANTHROPIC, LLF_OPENAI, anthropic_req, "gpt-4o", &rc, NULL, 0);
    CHECK(rc == LLF_TR_OK && o);
    CHECK_STR(str_at(o, "messages", "0", "content", "0", "type", NULL), "file");
    CHECK_STR(str_at(o, "messages", "0", "content", "0", "file", "filename"), "Q3 report");
    CHECK_STR(str_at(o, "messages", "0", "content", "0", "file", "file_data"), "data:application/pdf;base64," PDF);
    CHECK_STR(str_at(o, "messages", "0", "content", "1", "text", NULL), "from finance");   /* its context */
    CHECK_STR(str_at(o, "messages", "0", "content", "2", "text", NULL), "sum it up");
    char *text = cJSON_PrintUnformatted(o);
    CHECK(text && !strstr(text, "citations") && !strstr(text, "cache_control"));
    free(text);
    cJSON_Delete(o);
    o = tr_across(LLF_GEMINI, LLF_OPENAI, gemini_req, "gpt-4o", &rc, NULL, 0);
    CHECK(rc == LLF_TR_OK && o);
    CHECK_STR(str_at(o, "messages", "0", "content", "1", "file", "filename"), "document.pdf");   /* OpenAI asks one */
    CHECK_STR(str_at(o, "messages", "0", "content", "1", "file", "file_data"), "data:application/pdf;base64," PDF);
    cJSON_Delete(o);
    /* a plain-text document is its text */
    o = tr_across(LLF_ANTHROPIC, LLF_OPENAI,
                  "{\"model\":\"c\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
                  "\"document\",\"source\":{\"type\":\"text\",\"media_type\":\"text/plain\",\"data\":\"The grass is "
                  "green.\"}},{\"type\":\"text\",\"text\":\"what colour?\"}]}]}",
                  "gpt-4o", &rc, NULL, 0);
    CHECK(rc == LLF_TR_OK);
    CHECK_STR(str_at(o, "messages", "0", "content", "0", "text", NULL), "The grass is green.");
    CHECK_STR(str_at(o, "messages", "0", "content", "1", "text", NULL), "what colour?");
    cJSON_Delete(o);
}

static void to_anthropic(void)
{
    int rc;
    cJSON *o = tr_across(LLF_OPENAI, LLF_ANTHROPIC, openai_req, "claude-sonnet-4-5", &rc, NULL, 0);
    CHECK(rc == LLF_TR_OK && o);
    CHECK_STR(str_at(o, "messages", "0", "content", "1", "type", NULL), "document");
    CHECK_STR(str_at(o, "messages", "0", "content", "1", "source", "type"), "base64");
    CHECK_STR(str_at(o, "messages", "0", "content", "1", "source", "media_type"), "application/pdf");
    CHECK_STR(str_at(o, "messages", "0", "content", "1", "source", "data"), PDF);
    CHECK_STR(str_at(o, "messages", "0", "content", "1", "title", NULL), "report.pdf");
    cJSON_Delete(o);
    o = tr_across(LLF_GEMINI, LLF_ANTHROPIC, gemini_req, "claude-sonnet-4-5", &rc, NULL, 0);
    CHECK(rc == LLF_TR_OK && o);
    CHECK_STR(str_at(o, "messages", "0", "content", "1", "source", "data"), PDF);
    cJSON_Delete(o);
    /* the data URL's type read as MIME reads it: any case, with parameters */
    o = tr_across(LLF_OPENAI, LLF_ANTHROPIC,
                  "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"file\",\"file\":{"
                  "\"file_data\":\"data:Application/PDF;name=a.pdf;base64," PDF "\"}}]}]}",
                  "claude-sonnet-4-5", &rc, NULL, 0);
    CHECK(rc == LLF_TR_OK);
    CHECK_STR(str_at(o, "messages", "0", "content", "0", "source", "data"), PDF);
    CHECK(!at(o, "messages", "0", "content", "0", "title", (char *)NULL));   /* (no filename, no title) */
    cJSON_Delete(o);
}

static void to_gemini(void)
{
    int rc;
    cJSON *o = tr_across(LLF_OPENAI, LLF_GEMINI, openai_req, "gemini-2.5-pro", &rc, NULL, 0);
    CHECK(rc == LLF_TR_OK && o);
    CHECK_STR(str_at(o, "contents", "0", "parts", "1", "inlineData", "mimeType"), "application/pdf");
    CHECK_STR(str_at(o, "contents", "0", "parts", "1", "inlineData", "data"), PDF);
    cJSON_Delete(o);
    o = tr_across(LLF_ANTHROPIC, LLF_GEMINI, anthropic_req, "gemini-2.5-pro", &rc, NULL, 0);
    CHECK(rc == LLF_TR_OK && o);
    CHECK_STR(str_at(o, "contents", "0", "parts", "0", "inlineData", "data"), PDF);
    CHECK_STR(str_at(o, "contents", "0", "parts", "1", "text", NULL), "from finance");
    cJSON_Delete(o);
}

/* What only the program's own provider can read, or no other takes. */
static void refused(void)
{
    static const char *const openai[][2] = {
        {"{\"type\":\"file\",\"file\":{\"file_id\":\"file-abc\"}}", "PDF given inline"},
        {"{\"type\":\"file\",\"file\":{\"filename\":\"a.csv\",\"file_data\":\"data:text/csv;base64,YSxi\"}}",
         "PDF given inline"},
        {"{\"type\":\"file\",\"file\":{\"filename\":\"a.pdf\",\"file_data\":\"" PDF "\"}}", "PDF given inline"},
    };
    for (size_t i = 0; i < sizeof openai / sizeof openai[0]; i++) {
        char req[512];
        snprintf(req, sizeof req, "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":[%s]}]}",
                 openai[i][0]);
        CHECK(tr_skipped(LLF_OPENAI, LLF_ANTHROPIC, req, "claude-sonnet-4-5", openai[i][1]));
        CHECK(tr_skipped(LLF_OPENAI, LLF_GEMINI, req, "gemini-2.5-pro", openai[i][1]));
    }
    static const char *const sources[] = {
        "{\"type\":\"url\",\"url\":\"https://x.test/a.pdf\"}",
        "{\"type\":\"file\",\"file_id\":\"file_011\"}",
        "{\"type\":\"content\",\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}",
        "{\"type\":\"base64\",\"media_type\":\"text/plain\",\"data\":\"eA==\"}",
    };
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        char req[512];
        snprintf(req, sizeof req, "{\"model\":\"c\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":"
                                  "[{\"type\":\"document\",\"source\":%s}]}]}", sources[i]);
        CHECK(tr_skipped(LLF_ANTHROPIC, LLF_OPENAI, req, "gpt-4o", "document source"));
    }
    /* a PDF by URL: no hub form for a file's URL */
    CHECK(tr_skipped(LLF_GEMINI, LLF_OPENAI,
                     "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"fileData\":{\"mimeType\":\"application/pdf\","
                     "\"fileUri\":\"https://x.test/a.pdf\"}}]}]}",
                     "gpt-4o", "application/pdf"));
}

/* A PDF a tool returned: Claude's tool_result takes a document, Gemini 3's
 * functionResponse takes it in its parts, an OpenAI tool message takes
 * text only. */
static void tool_results(void)
{
    static const char anthropic[] =
        "{\"model\":\"c\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":\"read it\"},"
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"fetch\","
        "\"input\":{}}]},{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\","
        "\"content\":[{\"type\":\"text\",\"text\":\"here\"},{\"type\":\"document\",\"source\":{\"type\":\"base64\","
        "\"media_type\":\"application/pdf\",\"data\":\"" PDF "\"}}]}]}]}";
    int rc;
    cJSON *o = tr_across(LLF_ANTHROPIC, LLF_GEMINI, anthropic, "gemini-3-pro-preview", &rc, NULL, 0);
    CHECK(rc == LLF_TR_OK && o);
    const cJSON *fr = at(o, "contents", "2", "parts", "0", "functionResponse", (char *)NULL);
    CHECK_STR(str_at(fr, "parts", "0", "inlineData", "mimeType", NULL, NULL), "application/pdf");
    CHECK_STR(str_at(fr, "parts", "0", "inlineData", "data", NULL, NULL), PDF);
    cJSON_Delete(o);
    CHECK(tr_skipped(LLF_ANTHROPIC, LLF_GEMINI, anthropic, "gemini-2.5-pro", "functionResponse"));
    CHECK(tr_skipped(LLF_ANTHROPIC, LLF_OPENAI, anthropic, "gpt-4o", "text only"));
    static const char gemini[] =
        "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"read it\"}]},{\"role\":\"model\",\"parts\":["
        "{\"functionCall\":{\"name\":\"fetch\",\"args\":{}}}]},{\"role\":\"user\",\"parts\":[{\"functionResponse\":"
        "{\"name\":\"fetch\",\"response\":{},\"parts\":[{\"inlineData\":{\"mimeType\":\"application/pdf\","
        "\"displayName\":\"q3.pdf\",\"data\":\"" PDF "\"}}]}}]}]}";
    o = tr_across(LLF_GEMINI, LLF_ANTHROPIC, gemini, "claude-sonnet-4-5", &rc, NULL, 0);
    CHECK(rc == LLF_TR_OK && o);
    const cJSON *blocks = at(o, "messages", "2", "content", "0", "content", (char *)NULL);
    const cJSON *doc = NULL;
    for (const cJSON *b = blocks ? blocks->child : NULL; b; b = b->next)
        if (cJSON_IsString(cJSON_GetObjectItem(b, "type")) && !strcmp(cJSON_GetObjectItem(b, "type")->valuestring, "document"))
            doc = b;
    CHECK_STR(str_at(doc, "source", "data", NULL, NULL, NULL, NULL), PDF);
    CHECK_STR(str_at(doc, "title", NULL, NULL, NULL, NULL, NULL), "q3.pdf");
    cJSON_Delete(o);
}

/* A Gemini program's text file given inline (text/plain, text/csv, code,
 * JSON) reaches other dialects as its text; bytes that are not UTF-8 text
 * skip them as other media do. */
static void text_files(void)
{
    static const char *const ok[][2] = {
        {"text/plain", "SGVsbG8sIHdvcmxkIQ=="},                 /* Hello, world! */
        {"text/csv", "SGVsbG8s\\nIHdvcmxkIQ"},                  /* (a line break in it, no padding) */
        {"application/json", "SGVsbG8sIHdvcmxkIQ=="},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char req[512];
        snprintf(req, sizeof req, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"sum it up\"},"
                                  "{\"inlineData\":{\"mimeType\":\"%s\",\"data\":\"%s\"}}]}]}", ok[i][0], ok[i][1]);
        int rc;
        cJSON *o = tr_across(LLF_GEMINI, LLF_OPENAI, req, "gpt-4o", &rc, NULL, 0);
        CHECK(rc == LLF_TR_OK);
        CHECK_STR(str_at(o, "messages", "0", "content", "1", "text", NULL), "Hello, world!");
        cJSON_Delete(o);
        o = tr_across(LLF_GEMINI, LLF_ANTHROPIC, req, "claude-sonnet-4-5", &rc, NULL, 0);
        CHECK(rc == LLF_TR_OK);
        CHECK_STR(str_at(o, "messages", "0", "content", "1", "text", NULL), "Hello, world!");
        cJSON_Delete(o);
    }
    static const char *const refused[][2] = {
        {"text/plain", "//4="},          /* (0xff 0xfe: not UTF-8) */
        {"text/plain", "SGkAdGhlcmU="},  /* (a NUL in it) */
        {"text/plain", "SGk*"},          /* (not base64) */
        {"audio/wav", "UklGRg=="},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char req[512];
        snprintf(req, sizeof req, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"inlineData\":{\"mimeType\":"
                                  "\"%s\",\"data\":\"%s\"}}]}]}", refused[i][0], refused[i][1]);
        CHECK(tr_skipped(LLF_GEMINI, LLF_OPENAI, req, "gpt-4o", refused[i][0]));
    }
    /* a tool's result that is a text file: Claude's tool_result text */
    static const char tool[] =
        "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"read it\"}]},{\"role\":\"model\",\"parts\":["
        "{\"functionCall\":{\"name\":\"cat\",\"args\":{}}}]},{\"role\":\"user\",\"parts\":[{\"functionResponse\":"
        "{\"name\":\"cat\",\"response\":{},\"parts\":[{\"inlineData\":{\"mimeType\":\"text/plain\","
        "\"data\":\"SGVsbG8sIHdvcmxkIQ==\"}}]}}]}]}";
    int rc;
    cJSON *o = tr_across(LLF_GEMINI, LLF_ANTHROPIC, tool, "claude-sonnet-4-5", &rc, NULL, 0);
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    CHECK(rc == LLF_TR_OK && text && strstr(text, "\"tool_result\"") && strstr(text, "Hello, world!"));
    free(text);
    cJSON_Delete(o);
}

void test_documents(void)
{
    text_files();
    to_openai();
    to_anthropic();
    to_gemini();
    refused();
    tool_results();
    /* the hub's own form, both ways */
    cJSON *p = llf_pdf_part("a.pdf", PDF);
    const char *name = NULL;
    CHECK(p && llf_pdf_data(p, &name) && !strcmp(llf_pdf_data(p, &name), PDF) && name && !strcmp(name, "a.pdf"));
    cJSON_Delete(p);
}
