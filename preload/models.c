/* models.c — context windows and output limits of well-known models, and
 * request size estimates (see models.h). Figures are the providers'
 * published ones; a chain entry's "context" in the config overrides a
 * window. */
#include "models.h"
#include "ascii.h"
#include "hubutil.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *prefix;
    long tokens;
} figure;

static const figure windows[] = {
    /* longest prefixes first within a family; a dashed name before a dotted
     * one it also starts (gpt-4-1106 is gpt-4.1 to lookup(), below) */
    {"gpt-4o-mini", 128000}, {"gpt-4o", 128000}, {"gpt-4-1106", 128000}, {"gpt-4-0125", 128000},
    {"gpt-4-vision", 128000}, {"gpt-4.1", 1047576}, {"gpt-4.5", 128000}, {"gpt-4-turbo", 128000},
    {"gpt-4-32k", 32768}, {"gpt-4", 8192}, {"gpt-3.5-turbo", 16385},
    /* ChatGPT's models in the API (gpt-5-chat-latest, gpt-5.1-chat-latest)
     * have 128k, not gpt-5's 400k */
    {"gpt-5-chat", 128000}, {"gpt-5.1-chat", 128000}, {"gpt-5.2-chat", 128000}, {"gpt-5", 400000},
    {"o1-mini", 128000}, {"o1-preview", 128000}, {"o1", 200000}, {"o3", 200000},
    {"o4-mini", 200000}, {"claude-", 200000},
    {"gemini-1.5-pro", 2097152}, {"gemini-1.5-flash", 1048576}, {"gemini-2", 1048576},
    {"gemini-3", 1048576},
    {"llama-3.1", 131072}, {"llama-3.2", 131072}, {"llama-3.3", 131072}, {"llama3.1", 131072},
    {"llama3.2", 131072}, {"llama3.3", 131072},
    /* Llama 3 before 3.1 (Llama-3-70b-chat-hf, Groq's llama3-8b-8192): 8k */
    {"meta-llama/llama-3", 8192}, {"llama-3-", 8192}, {"llama3-", 8192},
    {"mistral-large", 131072}, {"mistral-medium", 131072},
    /* Mistral Small took 128k with 3.1 (2503); the dated ones before had 32k */
    {"mistral-small-2402", 32768}, {"mistral-small-2409", 32768}, {"mistral-small-2501", 32768},
    {"mistral-small", 131072},
    {"deepseek-chat", 128000}, {"deepseek-reasoner", 128000},
    {"grok-4-fast", 2000000}, {"grok-4.1-fast", 2000000}, {"grok-4", 256000}, {"grok-3", 131072},
};

/* The most output a model may be asked for (max_tokens and its kin); a
 * larger request is refused with a 400. */
static const figure outputs[] = {
    /* longest prefixes first within a family */
    {"gpt-4o-2024-05-13", 4096}, {"gpt-4o", 16384}, {"gpt-4-1106", 4096}, {"gpt-4-0125", 4096},
    {"gpt-4-vision", 4096}, {"gpt-4.1", 32768}, {"gpt-4.5", 16384}, {"gpt-4-turbo", 4096},
    {"gpt-4-32k", 32768}, {"gpt-4", 8192},
    {"gpt-3.5-turbo", 4096}, {"gpt-5-chat", 16384}, {"gpt-5.1-chat", 16384}, {"gpt-5.2-chat", 16384},
    {"gpt-5", 128000},
    {"o1-mini", 65536}, {"o1-preview", 32768}, {"o1", 100000}, {"o3", 100000}, {"o4-mini", 100000},
    {"claude-3-haiku", 4096}, {"claude-3-opus", 4096}, {"claude-3-sonnet", 4096}, {"claude-3-5", 8192},
    {"claude-opus-4-8", 128000}, {"claude-opus-4-7", 128000}, {"claude-opus-4-6", 128000},
    {"claude-sonnet-4-6", 128000}, {"claude-opus-4-5", 64000}, {"claude-opus-4", 32000}, {"claude-", 64000},
    {"gemini-1.5", 8192}, {"gemini-2.0", 8192}, {"gemini-2.5", 65536}, {"gemini-3", 65536},
    /* DeepSeek: 400 "the valid range of max_tokens is [1, 8192]" (agents ask 32000) */
    {"deepseek-chat", 8192}, {"deepseek-reasoner", 65536},
};

#define LOOKUP(table, model) lookup(table, sizeof table / sizeof table[0], model)

const char *llf_model_name(const char *model)
{
    const char *slash = strrchr(model, '/');
    return slash ? slash + 1 : model;
}

/* s[i] for comparing names: lower case, and a '.' between two digits as
 * '-', since a router may write a version dotted (OpenRouter's
 * anthropic/claude-3.5-sonnet is Anthropic's claude-3-5-sonnet). */
static int name_char(const char *s, size_t i)
{
    int c = llf_ascii_lower(s[i]);   /* (the table is ASCII) */
    return c == '.' && i > 0 && llf_ascii_digit(s[i - 1]) && llf_ascii_digit(s[i + 1]) ? '-' : c;
}

static int starts(const char *s, const char *prefix)
{
    for (size_t i = 0; prefix[i]; i++)
        if (!s[i] || name_char(s, i) != name_char(prefix, i))
            return 0;
    return 1;
}

int llf_model_mistral(const char *model)
{
    static const char *const families[] = {"mistral",  "mixtral",   "magistral", "codestral",
                                           "devstral", "ministral", "pixtral",   "voxtral"};
    if (!model)
        return 0;
    const char *name = llf_model_name(model);
    if (strncmp(name, "ft:", 3) == 0)
        name += 3;
    if (starts(name, "open-") || starts(name, "labs-"))
        name += 5;
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (starts(name, families[i]))
            return 1;
    return 0;
}

/* By the name, or the whole model for a table entry naming its vendor. A
 * fine-tune (ft:gpt-4o-mini:org::id) has its base model's figures. */
static long lookup(const figure *t, size_t n, const char *model)
{
    if (!model)
        return 0;
    const char *name = llf_model_name(model);
    if (strncmp(name, "ft:", 3) == 0)
        name += 3;
    for (size_t i = 0; i < n; i++)
        if (starts(name, t[i].prefix) || starts(model, t[i].prefix))
            return t[i].tokens;
    return 0;
}

long llf_model_context(const char *model)
{
    return LOOKUP(windows, model);
}

long llf_model_max_output(const char *model)
{
    return LOOKUP(outputs, model);
}

static long json_bytes(const cJSON *j)
{
    char *s = j ? cJSON_PrintUnformatted(j) : NULL;
    long n = s ? (long)strlen(s) : 0;
    free(s);
    return n;
}

static long output_tokens(const cJSON *hub)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(hub, "max_completion_tokens");
    if (!cJSON_IsNumber(m))
        m = cJSON_GetObjectItemCaseSensitive(hub, "max_tokens");
    return cJSON_IsNumber(m) && m->valuedouble > 0 ? llf_num_long(m->valuedouble) : 0;
}

/* A provider counts an image by its pixels after resizing it, not by its
 * bytes, and the count is bounded: OpenAI (high detail) fits it in 2048 px,
 * then its short side in 768, and counts 85 + 170 per 512 px tile, at most
 * 1,445 (8 tiles); Anthropic resizes it to at most 1.15 MP, about 1,600
 * (pixels / 750); Gemini counts 258 per 768 px tile (258 for one of at most
 * 384 px a side). The largest stands for every image. A PDF is counted by
 * its pages: Anthropic's each cost their text (1,500 to 3,000 tokens) and
 * their image, OpenAI's alike, Gemini's 258; the largest again, for a PDF
 * whose pages can be counted (pdf_pages). Audio, and a PDF whose pages
 * cannot, keep their bytes: they cost by their seconds or pages, which
 * grow with their size, without such a bound. */
#define IMAGE_TOKENS 1600
#define PDF_PAGE_TOKENS (3000 + IMAGE_TOKENS)

/* Does a page object's type begin at p (n bytes on): "/Type", white space
 * or none, "/Page" and no more of a name ("/Pages" is the page tree's)? */
static int page_at(const unsigned char *p, size_t n)
{
    size_t i = 5;
    if (n < 10 || memcmp(p, "/Type", 5))
        return 0;
    while (i < n && (p[i] == ' ' || p[i] == '\r' || p[i] == '\n' || p[i] == '\t'))
        i++;
    if (n - i < 5 || memcmp(p + i, "/Page", 5))
        return 0;
    return n - i == 5 || !llf_ascii_alnum(p[i + 5]);
}

/* The pages of a PDF given in base64 (n bytes of it): its page objects,
 * counted as it is decoded a window at a time (no copy of the whole is
 * made). 0 when none is seen: PDF 1.5 writers may compress them into object
 * streams. */
static long pdf_pages(const char *b64, size_t n)
{
    enum { WIN = 4096, KEEP = 32 };   /* (KEEP: the longest match judged across a window's end) */
    unsigned char buf[WIN];
    const char *p = b64, *end = b64 + n;
    llf_b64 st = {0, 0};
    size_t have = 0;
    long pages = 0;
    for (;;) {
        have += llf_b64_decode(&st, &p, end, buf + have, WIN - have);
        int last = have < WIN;   /* (its end, or what is not base64, came first) */
        size_t stop = last ? have : have - KEEP;
        for (size_t k = 0; k < stop; k++)
            pages += buf[k] == '/' && page_at(buf + k, have - k);
        if (last)
            return pages;
        memmove(buf, buf + stop, have - stop);   /* (judged with the next window) */
        have -= stop;
    }
}

/* The tokens of the images and countable PDFs of the hub's messages
 * (above), and in *url_bytes the bytes of their URLs, as cJSON prints them
 * when printed is set, else their length (never more than the text they
 * were parsed from). */
static long media_tokens(const cJSON *messages, int printed, long *url_bytes)
{
    long tokens = 0;
    const cJSON *m, *p;
    *url_bytes = 0;
    if (!cJSON_IsArray(messages))
        return 0;
    cJSON_ArrayForEach(m, messages) {
        const cJSON *content = llf_get(m, "content");
        if (!cJSON_IsArray(content))
            continue;
        cJSON_ArrayForEach(p, content) {
            const char *type = llf_get_str(p, "type"), *name, *pdf;
            const cJSON *url = NULL;
            long pages;
            if (type && !strcmp(type, "image_url")) {
                url = llf_get(llf_get(p, "image_url"), "url");
                tokens += IMAGE_TOKENS;
            } else if (type && !strcmp(type, "file") && (pdf = llf_pdf_data(p, &name)) &&
                       (pages = pdf_pages(pdf, strlen(pdf))) > 0) {
                url = llf_get(llf_get(p, "file"), "file_data");
                tokens += pages * PDF_PAGE_TOKENS;
            }
            if (cJSON_IsString(url))
                *url_bytes += printed ? json_bytes(url) : (long)strlen(url->valuestring);
        }
    }
    return tokens;
}

long llf_estimate_input(const cJSON *hub)
{
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(hub, "messages");
    long urls, k = media_tokens(msgs, 1, &urls);
    long bytes = json_bytes(msgs);
    bytes = (bytes > urls ? bytes - urls : 0) + json_bytes(cJSON_GetObjectItemCaseSensitive(hub, "tools"));
    return bytes / 4 + k;
}

long llf_estimate_output(const cJSON *hub, long max_output)
{
    long out = output_tokens(hub);
    return max_output > 0 && out > max_output ? max_output : out;
}

long llf_estimate_tokens(const cJSON *hub, long max_output)
{
    return llf_estimate_input(hub) + llf_estimate_output(hub, max_output);
}

/* cJSON prints parsed text at most 4 times as long (a number such as 1e14
 * grows the most; strings and structure only shrink: a raw control byte,
 * which it would print as \u00XX, is not JSON, and our copy of cJSON
 * refuses it), and the estimate counts 4 printed bytes a token. Images
 * and PDFs of counted pages count their tokens (media_tokens) instead of
 * their URLs, which took at least their length of the text. */
int llf_estimate_within(const cJSON *hub, const char *text, size_t text_len, long window, long max_output)
{
    long urls, k = media_tokens(cJSON_GetObjectItemCaseSensitive(hub, "messages"), 0, &urls);
    long n = (long)(text_len > 1000000000000000 ? 1000000000000000 : text_len);
    long out = llf_estimate_output(hub, max_output) + k;
    n = n > urls ? n - urls : 0;
    return n + out <= window;
}
