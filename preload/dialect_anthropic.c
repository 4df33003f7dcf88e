/* dialect_anthropic.c — the Anthropic messages dialect: POST {base}/messages,
 * `x-api-key` plus the mandatory `anthropic-version`, model in the body,
 * success = a `message` object with a `content` array; and its translators
 * to and from the hub (OpenAI chat).
 *
 * Differences bridged here: the system prompt is a top-level field; turns
 * must alternate user/assistant (consecutive turns are merged); tool results
 * are user-turn blocks, not `tool` messages; tool inputs are objects, not
 * JSON strings; max_tokens is mandatory (a per-model default); temperature
 * tops out at 1 (higher values are clamped), and top_p goes to Claude 4
 * models only without it (fit, as for a program's own body). A request for
 * JSON becomes an instruction in the system prompt (the closest equivalent
 * every Claude takes; the answer is then checked like any JSON answer), and
 * an Anthropic program's own structured output (output_config.format) the
 * hub's response_format. Assistant thinking blocks mean nothing to another
 * provider and are left out of the hub. Tool-call ids reach Anthropic in
 * the form it takes (llf_anthropic_tool_id); OpenAI's allowed_tools offers
 * only the tools it names; a strict tool is OpenAI's function.strict where
 * OpenAI's strict mode reads its schema alike. What only Anthropic's
 * servers do (server tools, MCP servers) is refused to other dialects.
 * Claude refuses blank text and stop sequences: such text is left out, and
 * an answer is cut at such a sequence afterwards (stop_at). An answer with
 * calls is stop_reason tool_use whatever the member's finish reason.
 * Hub fields Anthropic would reject and that do not change the answer's
 * meaning are dropped: seed, frequency_penalty, presence_penalty, logit_bias,
 * service_tier, store, metadata, stream_options, reasoning_effort,
 * prediction, modalities (text only), and any other unknown field. */
#include "dialect.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hubutil.h"
#include "models.h"

#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(e) ((e)->lost = 1)
#include <uthash.h>

/* A call's arguments (OpenAI's string) as JSON: all of it, so that text
 * that only begins with an object (JSON lines, an object then prose) is no
 * object, not its first one; a lone surrogate escape is JSON, as in a body. */
static cJSON *parse_args(const char *args)
{
    return llf_json_parse_mended(llf_json_parse_exact, args, strlen(args));
}

#define ANTHROPIC_VERSION "2023-06-01"

static int match_op(const char *rest, char **model, int *stream)
{
    *model = NULL;
    *stream = 0;
    return strcmp(rest, "/messages") == 0;
}

static int op_path(llf_buf *out, const char *model, int stream)
{
    (void)model;
    (void)stream;
    return llf_buf_adds(out, "/messages");
}

static int auth_headers(llf_headers *h, const char *key)
{
    if (key && llf_headers_add2(h, "x-api-key: ", key))
        return -1;
    if (!llf_headers_get(h, "anthropic-version", NULL))
        return llf_headers_add(h, "anthropic-version: " ANTHROPIC_VERSION);
    return 0;
}

static int body_streams(const cJSON *body)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "stream"));
}

static int success_shape(const cJSON *body)
{
    return cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(body, "content"));
}

/* The last item of array a, or NULL: cJSON keeps it as the first item's
 * prev, where cJSON_GetArrayItem(a, size - 1) walks the whole array (once
 * per message, a long conversation's translation was quadratic: 40,000
 * messages took seconds). */
static cJSON *last_item(const cJSON *a)
{
    return cJSON_IsArray(a) && a->child ? a->child->prev : NULL;
}

static int empty_list(const cJSON *a)
{
    return cJSON_IsArray(a) && !a->child;
}

/* Is s white space only (or empty)? Claude refuses such a stop sequence
 * (400 "stop_sequences: each stop sequence must contain non-whitespace")
 * and such a text block ("messages: text content blocks must contain
 * non-whitespace text"). White space as Python's str.isspace() has it,
 * ASCII's and Unicode's (U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028,
 * U+2029, U+202F, U+205F, U+3000, in UTF-8), where the API's own check
 * is not documented: taken for blank, such text is left out, which the API
 * would have refused or taken as saying nothing. */
static int blank(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (p && *p) {
        if ((*p >= 0x09 && *p <= 0x0d) || (*p >= 0x1c && *p <= 0x20))
            p++;
        else if (p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
            p += 2;
        else if ((p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80) || (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80) ||
                 (p[0] == 0xe2 && p[1] == 0x80 && (p[2] <= 0x8a || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf) &&
                  p[2] >= 0x80) ||
                 (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f))
            p += 3;
        else
            return 0;
    }
    return 1;
}

/* ---- requests: Anthropic → hub ---------------------------------------- */

static char *block_text(const cJSON *content)
{
    return llf_content_text(content, "\n");
}

/* An image block as the hub's image_url part, appended to parts. */
static int image_to_hub(const cJSON *b, cJSON *parts, llf_terr *e)
{
    const cJSON *src = llf_get(b, "source");
    const char *st = llf_get_str(src, "type");
    char *url = NULL;
    if (st && strcmp(st, "base64") == 0 && llf_get_str(src, "media_type") && llf_get_str(src, "data")) {
        if (asprintf(&url, "data:%s;base64,%s", llf_get_str(src, "media_type"), llf_get_str(src, "data")) < 0)
            url = NULL;
    } else if (st && strcmp(st, "url") == 0 && llf_get_str(src, "url")) {
        url = llf_strdup(llf_get_str(src, "url"));
    } else {
        llf_terr_set(e, "anthropic image source \"%s\"", llf_terr_word(st));
        return LLF_TR_INCOMPATIBLE;
    }
    int rc = url && !llf_append(parts, llf_image_part(url)) ? LLF_TR_OK : LLF_TR_ERROR;
    free(url);
    return rc;
}

/* A document block as hub parts appended to parts: a PDF as a file part
 * (its title the filename OpenAI asks for), a plain-text document as a
 * text part, its context (what the program says of it) a text part after
 * it. Anthropic's citations, which no other dialect gives, are not asked.
 * A document by URL, by a file id or of content blocks is Claude's alone:
 * LLF_TR_INCOMPATIBLE. */
static int document_to_hub(const cJSON *b, cJSON *parts, llf_terr *e)
{
    const cJSON *src = llf_get(b, "source");
    const char *st = llf_get_str(src, "type"), *mt = llf_get_str(src, "media_type");
    const char *data = llf_get_str(src, "data"), *title = llf_get_str(b, "title");
    const char *context = llf_get_str(b, "context");
    cJSON *p;
    if (st && !strcmp(st, "base64") && mt && !strcasecmp(mt, "application/pdf") && data)
        p = llf_pdf_part(title && *title ? title : "document.pdf", data);
    else if (st && !strcmp(st, "text") && data)
        p = llf_text_part(data);
    else {
        llf_terr_set(e, "anthropic document source \"%s\" has no equivalent in other dialects", llf_terr_word(st));
        return LLF_TR_INCOMPATIBLE;
    }
    return llf_append(parts, p) || (context && *context && llf_append(parts, llf_text_part(context)))
               ? LLF_TR_ERROR : LLF_TR_OK;
}

/* A tool_result's content as a hub tool message's: its text, or with an
 * image or a document its text and media parts, in *out. */
static int tool_content(const cJSON *content, cJSON **out, llf_terr *e)
{
    const char *other = llf_content_other(content);
    if (!other) {
        char *text = block_text(content);
        *out = text ? cJSON_CreateString(text) : NULL;
        free(text);
        return *out ? LLF_TR_OK : LLF_TR_ERROR;
    }
    cJSON *parts = cJSON_CreateArray();
    int rc = parts ? LLF_TR_OK : LLF_TR_ERROR;
    for (const cJSON *b = parts ? content->child : NULL; b && rc == LLF_TR_OK; b = b->next) {
        const char *type = llf_get_str(b, "type");
        if (type && strcmp(type, "text") == 0) {
            rc = llf_append(parts, llf_text_part(llf_get_str(b, "text") ? llf_get_str(b, "text") : ""))
                     ? LLF_TR_ERROR : LLF_TR_OK;
        } else if (type && strcmp(type, "image") == 0) {
            rc = image_to_hub(b, parts, e);
        } else if (type && strcmp(type, "document") == 0) {
            rc = document_to_hub(b, parts, e);
        } else {
            llf_terr_set(e, "anthropic tool_result block \"%s\" has no equivalent in other dialects",
                         llf_terr_word(type ? type : "?"));
            rc = LLF_TR_INCOMPATIBLE;
        }
    }
    if (rc == LLF_TR_OK)
        *out = parts;
    else
        cJSON_Delete(parts);
    return rc;
}

/* One Anthropic turn → hub messages appended to msgs. */
static int turn_to_hub(const cJSON *turn, cJSON *msgs, llf_terr *e)
{
    const char *role = llf_get_str(turn, "role");
    const cJSON *content = llf_get(turn, "content");
    if (!role || (strcmp(role, "user") && strcmp(role, "assistant"))) {
        llf_terr_set(e, "anthropic role \"%s\"", llf_terr_word(role));
        return LLF_TR_INCOMPATIBLE;
    }
    if (cJSON_IsString(content)) {
        cJSON *m = cJSON_CreateObject();
        if (!m || llf_add(m, "role", cJSON_CreateString(role)) ||
            llf_add(m, "content", cJSON_CreateString(content->valuestring)) || llf_append_own(msgs, &m)) {
            cJSON_Delete(m);
            return LLF_TR_ERROR;
        }
        return LLF_TR_OK;
    }
    if (!cJSON_IsArray(content))
        return LLF_TR_ERROR;
    cJSON *parts = cJSON_CreateArray(), *calls = cJSON_CreateArray();
    int rc = parts && calls ? LLF_TR_OK : LLF_TR_ERROR;
    int media = 0;
    for (const cJSON *b = content->child; b && rc == LLF_TR_OK; b = b->next) {
        const char *type = llf_get_str(b, "type");
        type = type ? type : "";
        if (strcmp(type, "text") == 0) {
            cJSON *p = cJSON_CreateObject();
            if (!p || llf_add(p, "type", cJSON_CreateString("text")) ||
                llf_copy(p, "text", b, "text") || llf_append_own(parts, &p)) {
                cJSON_Delete(p);
                rc = LLF_TR_ERROR;
            }
        } else if (strcmp(type, "image") == 0 || strcmp(type, "document") == 0) {
            rc = type[0] == 'i' ? image_to_hub(b, parts, e) : document_to_hub(b, parts, e);
            media++;
        } else if (strcmp(type, "tool_use") == 0 && strcmp(role, "assistant") == 0) {
            if (llf_append(calls, llf_hub_tool_call(llf_get_str(b, "id"), llf_get_str(b, "name"),
                                                    llf_get(b, "input"))))
                rc = LLF_TR_ERROR;
        } else if ((strcmp(type, "thinking") == 0 || strcmp(type, "redacted_thinking") == 0) &&
                   strcmp(role, "assistant") == 0) {
            /* Claude's reasoning, signed for Claude alone: nothing another
             * model could read, and no part of the answer. (A Claude
             * member gets the program's own body, blocks and all.) */
            continue;
        } else if (strcmp(type, "tool_result") == 0 && strcmp(role, "user") == 0) {
            /* Tool results become `tool` messages, ahead of the turn's text:
             * their text, or with an image a tool returned their text and
             * image parts (which an OpenAI member's tool message does not
             * take, and Gemini 3's functionResponse does: see their
             * req_from_hub); a document's as a PDF or text part. */
            cJSON *m = cJSON_CreateObject(), *tc = NULL;
            rc = m ? tool_content(llf_get(b, "content"), &tc, e) : LLF_TR_ERROR;
            if (rc == LLF_TR_OK &&
                (llf_add(m, "role", cJSON_CreateString("tool")) || llf_copy(m, "tool_call_id", b, "tool_use_id") ||
                 llf_add_own(m, "content", &tc) ||
                 (cJSON_IsTrue(llf_get(b, "is_error")) && llf_add(m, LLF_HUB_TOOL_ERROR, cJSON_CreateTrue())) ||
                 llf_append_own(msgs, &m)))
                rc = LLF_TR_ERROR;
            cJSON_Delete(tc);
            cJSON_Delete(m);
        } else {
            llf_terr_set(e, "anthropic block \"%s\" has no equivalent in other dialects", llf_terr_word(type));
            rc = LLF_TR_INCOMPATIBLE;
        }
    }
    int nparts = cJSON_GetArraySize(parts), ncalls = cJSON_GetArraySize(calls);
    if (rc == LLF_TR_OK && (nparts || ncalls)) {
        cJSON *m = cJSON_CreateObject();
        cJSON *c;
        if (nparts == 1 && !media) {
            c = cJSON_CreateString(llf_get_str(parts->child, "text"));
        } else if (nparts == 0) {
            c = cJSON_CreateNull();
        } else {
            c = parts;
            parts = NULL;
        }
        if (!m || llf_add(m, "role", cJSON_CreateString(role)) || llf_add_own(m, "content", &c) ||
            (ncalls && llf_add_own(m, "tool_calls", &calls)) || llf_append_own(msgs, &m))
            rc = LLF_TR_ERROR;
        cJSON_Delete(c);
        cJSON_Delete(m);
    }
    cJSON_Delete(parts);
    cJSON_Delete(calls);
    return rc;
}

/* A table of strings (uthash): a key, or a key and what it maps to. */
typedef struct id_entry {
    char *key, *sent;   /* sent: NULL in a set */
    int lost;           /* not added to its table: no memory */
    unsigned next_k;    /* in the table of ids sent: the <id>_<k> to try next, 0 for 2 */
    UT_hash_handle hh;
} id_entry;

static void id_free(id_entry *x)
{
    free(x->key);
    free(x->sent);
    free(x);
}

static void id_table_free(id_entry **t)
{
    id_entry *x, *tmp;
    HASH_ITER(hh, *t, x, tmp) {
        HASH_DEL(*t, x);
        id_free(x);
    }
}

static const char *id_find(id_entry *t, const char *key)
{
    id_entry *x;
    HASH_FIND_STR(t, key, x);
    return x ? (x->sent ? x->sent : x->key) : NULL;
}

/* t[key] = sent (NULL: key alone, as a set). 0, or -1. */
static int id_put(id_entry **t, const char *key, const char *sent)
{
    id_entry *x;
    char *v = sent ? llf_strdup(sent) : NULL;
    if (sent && !v)
        return -1;
    HASH_FIND_STR(*t, key, x);
    if (x) {
        free(x->sent);
        x->sent = v;
        return 0;
    }
    if (!(x = calloc(1, sizeof *x)) || !(x->key = llf_strdup(key))) {
        free(x);
        free(v);
        return -1;
    }
    x->sent = v;
    HASH_ADD_KEYPTR(hh, *t, x->key, strlen(x->key), x);
    if (x->lost) {
        id_free(x);
        return -1;
    }
    return 0;
}

/* Does a JSON schema read the same under OpenAI's strict mode? It takes
 * only closed objects (additionalProperties false) that require each of
 * their properties, and no allOf, oneOf, not or conditionals; it refuses
 * any other strict schema with a 400 ("'required' is required to be
 * supplied and to be an array including every key in properties"), where
 * Anthropic's strict tools take optional properties. */
static int openai_strict_form(const cJSON *s)
{
    static const char *const never[] = {"allOf", "oneOf", "not", "if", "patternProperties",
                                        "dependentRequired", "dependentSchemas"};
    if (!cJSON_IsObject(s))
        return 0;
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        if (llf_get(s, never[i]))
            return 0;
    const cJSON *props = llf_get(s, "properties"), *type = llf_get(s, "type");
    int object = props || (cJSON_IsString(type) && !strcmp(type->valuestring, "object"));
    for (const cJSON *t = cJSON_IsArray(type) ? type->child : NULL; t; t = t->next)
        object |= cJSON_IsString(t) && !strcmp(t->valuestring, "object");
    if (object && !cJSON_IsFalse(llf_get(s, "additionalProperties")))
        return 0;
    /* every property required: looked up in a set of the names required,
     * not by going through them for each (40,000 took seconds) */
    const cJSON *req = llf_get(s, "required");
    id_entry *set = NULL;
    int ok = 1;
    for (const cJSON *r = cJSON_IsArray(req) ? req->child : NULL; r && ok; r = r->next)
        ok = !cJSON_IsString(r) || !id_put(&set, r->valuestring, NULL);
    for (const cJSON *p = cJSON_IsObject(props) ? props->child : NULL; p && ok; p = p->next)
        ok = id_find(set, p->string ? p->string : "") && openai_strict_form(p);
    id_table_free(&set);
    if (!ok)
        return 0;
    /* the sub-schemas: items, each of anyOf, each definition */
    static const char *const subs[] = {"anyOf", "$defs", "definitions"};
    const cJSON *items = llf_get(s, "items");
    if (items && !openai_strict_form(items))
        return 0;
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        for (const cJSON *b = llf_get(s, subs[i]) ? llf_get(s, subs[i])->child : NULL; b; b = b->next)
            if (!openai_strict_form(b))
                return 0;
    return 1;
}

/* metadata.user_id as the hub's user: as it is up to 64 characters, else
 * (Claude Code's, some 155) 32 hex digits of it, one per user still, as
 * OpenAI asks a user to be given (400 beyond 64; OpenRouter's beyond 128).
 * 0, -1 on no memory. */
static int hub_user(cJSON *hub, const char *user_id)
{
    char h[33];
    if (!user_id)
        return 0;
    if (strlen(user_id) > 64) {
        llf_short_hash(user_id, h);
        user_id = h;
    }
    return llf_add(hub, "user", cJSON_CreateString(user_id));
}

static int given_to_hub(const cJSON *req, const char *url_model, cJSON **out, llf_terr *e)
{
    (void)url_model;
    if (!cJSON_IsObject(req) || !cJSON_IsArray(llf_get(req, "messages"))) {
        llf_terr_set(e, "not an Anthropic messages request");
        return LLF_TR_ERROR;
    }
    cJSON *hub = cJSON_CreateObject(), *msgs = cJSON_CreateArray(), *own = msgs;
    int rc = hub && msgs && !llf_add_own(hub, "messages", &own) ? LLF_TR_OK : LLF_TR_ERROR;
    cJSON_Delete(own);   /* (msgs, when not in hub) */
    if (rc == LLF_TR_OK && llf_copy(hub, "model", req, "model"))
        rc = LLF_TR_ERROR;
    const cJSON *sys = llf_get(req, "system");
    if (rc == LLF_TR_OK && sys) {
        char *text = block_text(sys);
        cJSON *m = cJSON_CreateObject();
        if (!text || !m || llf_add(m, "role", cJSON_CreateString("system")) ||
            llf_add(m, "content", cJSON_CreateString(text)) || llf_append_own(msgs, &m)) {
            cJSON_Delete(m);
            rc = LLF_TR_ERROR;
        }
        free(text);
    }
    for (const cJSON *t = llf_get(req, "messages")->child; t && rc == LLF_TR_OK; t = t->next)
        rc = turn_to_hub(t, msgs, e);
    /* What only Claude serves leaves a hub to judge by, for no other
     * dialect: MCP servers (the MCP connector: tools Anthropic's servers
     * call, which another model would answer without), and a last turn of
     * the assistant's, a prefill, which only Claude continues. */
    const cJSON *turns = llf_get(req, "messages");
    const char *lrole = llf_get_str(last_item(turns), "role");
    const char *refused = cJSON_GetArraySize(llf_get(req, "mcp_servers"))
                              ? "anthropic mcp_servers (the MCP connector: tools only Anthropic's servers call)"
                          : lrole && !strcmp(lrole, "assistant")
                              ? "anthropic prefill (the conversation ends with an assistant turn, which only "
                                "Claude continues)"
                              : NULL;
    if (rc == LLF_TR_OK && refused && llf_add(hub, LLF_HUB_REFUSED, cJSON_CreateString(refused)))
        rc = LLF_TR_ERROR;
    /* (stop_sequences [] is no sequence, and stays none: OpenAI refuses
     * "stop": [] with a 400, and Ollama reads it as dropping the model's
     * own stop tokens.) */
    if (rc == LLF_TR_OK &&
        (llf_copy(hub, "max_tokens", req, "max_tokens") || llf_copy(hub, "temperature", req, "temperature") ||
         llf_copy(hub, "top_p", req, "top_p") || llf_copy(hub, "stream", req, "stream") ||
         (!empty_list(llf_get(req, "stop_sequences")) && llf_copy(hub, "stop", req, "stop_sequences")) ||
         hub_user(hub, llf_get_str(llf_get(req, "metadata"), "user_id"))))
        rc = LLF_TR_ERROR;
    /* Structured output (output_config.format; output_format in the beta
     * before it): the hub's JSON-schema response_format, for members of
     * other dialects and for judging every answer against the schema. */
    const cJSON *fmt = llf_get(llf_get(req, "output_config"), "format");
    if (!fmt)
        fmt = llf_get(req, "output_format");
    const char *ft = llf_get_str(fmt, "type");
    if (rc == LLF_TR_OK && ft && strcmp(ft, "json_schema") == 0 && cJSON_IsObject(llf_get(fmt, "schema"))) {
        cJSON *rf = cJSON_CreateObject(), *js = cJSON_CreateObject();
        if (!rf || !js || llf_add(rf, "type", cJSON_CreateString("json_schema")) ||
            llf_add(js, "name", cJSON_CreateString("response")) || llf_copy(js, "schema", fmt, "schema") ||
            llf_add_own(rf, "json_schema", &js)) {
            cJSON_Delete(js);
            cJSON_Delete(rf);
            rc = LLF_TR_ERROR;
        } else if (llf_add(hub, "response_format", rf)) {
            rc = LLF_TR_ERROR;
        }
    }
    const cJSON *tools = llf_get(req, "tools");
    if (rc == LLF_TR_OK && cJSON_IsArray(tools)) {
        cJSON *ht = cJSON_CreateArray();
        rc = ht && !llf_add(hub, "tools", ht) ? LLF_TR_OK : LLF_TR_ERROR;
        for (const cJSON *t = tools->child; t && rc == LLF_TR_OK; t = t->next) {
            if (llf_get_str(t, "type") && strcmp(llf_get_str(t, "type"), "custom") != 0) {
                llf_terr_set(e, "anthropic tool type \"%s\"", llf_terr_word(llf_get_str(t, "type")));
                rc = LLF_TR_INCOMPATIBLE;
                break;
            }
            /* strict (inputs that match the schema) is OpenAI's
             * function.strict where OpenAI's strict mode reads the schema
             * alike; with any other schema OpenAI would refuse the tool,
             * which then goes without it */
            int strict = cJSON_IsTrue(llf_get(t, "strict")) && openai_strict_form(llf_get(t, "input_schema"));
            cJSON *w = cJSON_CreateObject(), *f = cJSON_CreateObject();
            if (!w || !f || llf_add(w, "type", cJSON_CreateString("function")) ||
                llf_copy(f, "name", t, "name") || llf_copy(f, "description", t, "description") ||
                llf_copy(f, "parameters", t, "input_schema") || (strict && llf_add(f, "strict", cJSON_CreateTrue())) ||
                llf_add_own(w, "function", &f) || llf_append_own(ht, &w)) {
                cJSON_Delete(f);
                cJSON_Delete(w);
                rc = LLF_TR_ERROR;
            }
        }
    }
    const cJSON *tc = llf_get(req, "tool_choice");
    if (rc == LLF_TR_OK && tc) {
        const char *t = llf_get_str(tc, "type");
        cJSON *h = NULL;
        if (t && strcmp(t, "auto") == 0)
            h = cJSON_CreateString("auto");
        else if (t && strcmp(t, "any") == 0)
            h = cJSON_CreateString("required");
        else if (t && strcmp(t, "none") == 0)
            h = cJSON_CreateString("none");
        else if (t && strcmp(t, "tool") == 0) {
            cJSON *f = cJSON_CreateObject();
            h = cJSON_CreateObject();
            if (!f || !h || llf_add(h, "type", cJSON_CreateString("function")) ||
                llf_copy(f, "name", tc, "name") || llf_add_own(h, "function", &f)) {
                cJSON_Delete(f);
                cJSON_Delete(h);
                h = NULL;
            }
        }
        if (!h || llf_add(hub, "tool_choice", h))
            rc = LLF_TR_ERROR;
        if (rc == LLF_TR_OK && cJSON_IsTrue(llf_get(tc, "disable_parallel_tool_use")) &&
            llf_add(hub, "parallel_tool_calls", cJSON_CreateFalse()))
            rc = LLF_TR_ERROR;
    }
    /* Names of 65 to 128 bytes, which Claude takes and OpenAI refuses */
    if (rc == LLF_TR_OK && llf_hub_names_for_others(hub))
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

/* ---- requests: hub → Anthropic ---------------------------------------- */

/* Claude 4 and later refuse temperature with top_p ("cannot both be
 * specified"); Claude 3 takes both. */
static int refuses_both(const char *model)
{
    const char *n = llf_model_name(model);
    return strncmp(n, "claude-", 7) == 0 && strncmp(n, "claude-3", 8) != 0;
}

/* The thinking a model takes. Extended thinking (type "enabled", with a
 * budget_tokens) came with Claude 3.7; before it a request with thinking is
 * refused ("'claude-3-5-haiku-…' does not support thinking."). Adaptive
 * thinking (type "adaptive": the model decides how much) came with Opus and
 * Sonnet 4.6, which take both; Opus 4.7 and later and every Claude 5 take
 * only it ("\"thinking.type.enabled\" is not supported for this model"),
 * and the models before 4.6 refuse it ("adaptive thinking is not supported
 * on this model"). A model that is not Claude: as the program wrote it. */
enum { TH_ANY, TH_NONE, TH_ENABLED, TH_BOTH, TH_ADAPTIVE };

static int thinking_kind(const char *model)
{
    /* claude-<family>-<major>[-<minor>][-<date>] since Claude 4
     * (claude-opus-4-7, claude-sonnet-4-20250514), and before it
     * claude-<major>[-<minor>]-<family> (claude-3-7-sonnet, claude-3-opus) */
    const char *n = llf_model_name(model);
    if (strncmp(n, "claude-", 7) != 0)
        return TH_ANY;
    n += 7;
    int haiku = strncmp(n, "haiku-", 6) == 0;
    if (*n < '0' || *n > '9') {
        n = strchr(n, '-');
        if (!n)
            return TH_ANY;
        n++;   /* (claude-instant-1.2 reads as 1: none) */
    }
    size_t digits = strspn(n, "0123456789");
    if (digits == 0 || digits > 2)
        return TH_ANY;
    long major = strtol(n, NULL, 10), minor = 0;
    size_t md = n[digits] == '-' ? strspn(n + digits + 1, "0123456789") : 0;
    if (md >= 1 && md <= 2)   /* (eight digits are a date) */
        minor = strtol(n + digits + 1, NULL, 10);
    if (major < 3 || (major == 3 && minor != 7))
        return TH_NONE;
    if (major == 3 || (major == 4 && (haiku || minor <= 5)))
        return TH_ENABLED;
    return major == 4 && minor == 6 ? TH_BOTH : TH_ADAPTIVE;
}

/* Anthropic requires max_tokens; these are conservative defaults that every
 * listed model accepts (its documented output limit or less). */
static long default_max_tokens(const char *model)
{
    static const struct {
        const char *prefix;
        long tokens;
    } t[] = {{"claude-3-haiku", 4096}, {"claude-3-opus", 4096}, {"claude-3-sonnet", 4096},
             {"claude-3-5", 8192}, {"claude-", 8192}};
    for (size_t i = 0; model && i < sizeof t / sizeof t[0]; i++)
        if (strncmp(model, t[i].prefix, strlen(t[i].prefix)) == 0)
            return t[i].tokens;
    return 4096;
}

/* Append blocks to the last turn when it has the same role (turns must
 * alternate), else start a new turn. Takes ownership of blocks. */
static int add_turn(cJSON *msgs, const char *role, cJSON *blocks)
{
    cJSON *last = last_item(msgs);
    if (last && strcmp(llf_get_str(last, "role"), role) == 0) {
        cJSON *content = cJSON_GetObjectItemCaseSensitive(last, "content");
        while (blocks->child) {
            cJSON *b = cJSON_DetachItemViaPointer(blocks, blocks->child);
            cJSON_AddItemToArray(content, b);
        }
        cJSON_Delete(blocks);
        return 0;
    }
    cJSON *m = cJSON_CreateObject();
    if (!m || llf_add(m, "role", cJSON_CreateString(role)) || llf_add_own(m, "content", &blocks)) {
        cJSON_Delete(blocks);
        cJSON_Delete(m);
        return -1;
    }
    return llf_append(msgs, m);
}

/* The media type of an image Claude is sent, whose base64 data begins at
 * data: what its bytes are, when they are one of the four kinds Claude
 * takes, else the type written, in lower case, "image/jpg" (which OpenAI
 * takes) as "image/jpeg". Claude refuses a type that is not what the bytes
 * are, or not one of its four (400), where OpenAI and Gemini look at the
 * bytes. The four's first bytes in base64: FF D8 FF, 89 "PNG", "GIF8",
 * "RIFF" and, eight bytes in, "WEBP" ("EBP" at 9: "RUJQ" at 12). */
static void image_type(const char *data, const char *written, size_t wl, char *mt, size_t n)
{
    static const struct {
        const char *b64, *type;
    } kinds[] = {{"/9j/", "image/jpeg"}, {"iVBORw0KGgo", "image/png"}, {"R0lGOD", "image/gif"}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strncmp(data, kinds[i].b64, strlen(kinds[i].b64))) {
            snprintf(mt, n, "%s", kinds[i].type);
            return;
        }
    if (!strncmp(data, "UklGR", 5) && strnlen(data, 16) == 16 && !strncmp(data + 12, "RUJQ", 4)) {
        snprintf(mt, n, "image/webp");
        return;
    }
    snprintf(mt, n, "%.*s", (int)wl, written);
    for (char *c = mt; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    if (!strcmp(mt, "image/jpg"))
        snprintf(mt, n, "image/jpeg");
}

/* {"type": type, "source": {"type": "base64", "media_type", "data"}}, an
 * image's or a document's block given inline; NULL on no memory. */
static cJSON *base64_block(const char *type, const char *media_type, const char *data)
{
    cJSON *b = cJSON_CreateObject(), *src = cJSON_CreateObject();
    if (!b || !src || llf_add(b, "type", cJSON_CreateString(type)) ||
        llf_add(src, "type", cJSON_CreateString("base64")) ||
        llf_add(src, "media_type", cJSON_CreateString(media_type)) ||
        llf_add(src, "data", cJSON_CreateString(data)) || llf_add_own(b, "source", &src)) {
        cJSON_Delete(src);
        cJSON_Delete(b);
        return NULL;
    }
    return b;
}

/* The block of an image Claude is sent, into *out: a data URL's bytes
 * must be JPEG, PNG, GIF or WebP (HEIC, AVIF, BMP, TIFF, which Gemini
 * takes, are refused with a 400: LLF_TR_INCOMPATIBLE); a URL's, Claude
 * fetches and judges. */
static int image_block(const char *url, cJSON **out, llf_terr *e)
{
    const char *mime, *data;
    size_t ml;
    char mt[128];
    int inline_data = llf_data_url(url, &mime, &ml, &data);
    if (inline_data) {
        image_type(data, mime, ml, mt, sizeof mt);
        if (strcmp(mt, "image/jpeg") && strcmp(mt, "image/png") && strcmp(mt, "image/gif") &&
            strcmp(mt, "image/webp")) {
            llf_terr_set(e, "image type \"%s\" is not one Claude takes", llf_terr_word(mt));
            return LLF_TR_INCOMPATIBLE;
        }
        *out = base64_block("image", mt, data);
        return *out ? LLF_TR_OK : LLF_TR_ERROR;
    }
    cJSON *b = cJSON_CreateObject(), *src = cJSON_CreateObject();
    if (!b || !src || llf_add(b, "type", cJSON_CreateString("image")) ||
        llf_add(src, "type", cJSON_CreateString("url")) || llf_add(src, "url", cJSON_CreateString(url)) ||
        llf_add_own(b, "source", &src)) {
        cJSON_Delete(src);
        cJSON_Delete(b);
        return LLF_TR_ERROR;
    }
    *out = b;
    return LLF_TR_OK;
}

/* A hub file part as a document block appended to blocks: a PDF given
 * inline, titled by its filename. Else (a file_id, which only OpenAI can
 * read, another type of file) LLF_TR_INCOMPATIBLE, e said. */
static int document_block(const cJSON *part, cJSON *blocks, llf_terr *e)
{
    const char *name, *data = llf_pdf_data(part, &name);
    if (!data) {
        llf_terr_set(e, "a file part other than a PDF given inline has no Anthropic equivalent");
        return LLF_TR_INCOMPATIBLE;
    }
    cJSON *b = base64_block("document", "application/pdf", data);
    if (!b || (name && *name && llf_add(b, "title", cJSON_CreateString(name))) || llf_append_own(blocks, &b)) {
        cJSON_Delete(b);
        return LLF_TR_ERROR;
    }
    return LLF_TR_OK;
}

/* Hub message content → Anthropic blocks appended to blocks. */
static int content_blocks(const cJSON *content, cJSON *blocks, llf_terr *e)
{
    /* Claude refuses empty text blocks and blank ones: they say nothing,
     * and are left out (a message of nothing else with them) */
    if (cJSON_IsString(content)) {
        if (blank(content->valuestring))
            return LLF_TR_OK;
        return llf_append(blocks, llf_text_part(content->valuestring)) ? LLF_TR_ERROR : LLF_TR_OK;
    }
    for (const cJSON *p = cJSON_IsArray(content) ? content->child : NULL; p; p = p->next) {
        const char *type = llf_get_str(p, "type");
        type = type ? type : "";
        if (strcmp(type, "text") == 0) {
            const char *t = llf_get_str(p, "text");
            if (t && !blank(t) && llf_append(blocks, llf_text_part(t)))
                return LLF_TR_ERROR;
        } else if (strcmp(type, "image_url") == 0) {
            const char *url = llf_get_str(llf_get(p, "image_url"), "url");
            cJSON *img = NULL;
            int rc = url ? image_block(url, &img, e) : LLF_TR_ERROR;
            if (rc != LLF_TR_OK)
                return rc;
            if (llf_append(blocks, img))
                return LLF_TR_ERROR;
        } else if (strcmp(type, "file") == 0) {
            int rc = document_block(p, blocks, e);
            if (rc != LLF_TR_OK)
                return rc;
        } else {
            llf_terr_set(e, "content part \"%s\" has no Anthropic equivalent", llf_terr_word(type));
            return LLF_TR_INCOMPATIBLE;
        }
    }
    return LLF_TR_OK;
}

/* o[key]: a tool-call id as Anthropic takes it (llf_anthropic_tool_id),
 * made up when there is none. 0, or -1. */
static int add_tool_id(cJSON *o, const char *key, const char *id, const char *response_id, int n)
{
    char *s = llf_anthropic_tool_id(id, response_id, n);
    int rc = s ? llf_add(o, key, cJSON_CreateString(s)) : -1;
    free(s);
    return rc;
}

/* Ids for a history's calls that have none ("id": "", as Gemini's
 * OpenAI-compatible endpoint gives them, or no id): each call its own,
 * call_llf_<n> through the conversation (Anthropic refuses a history whose
 * tool_use ids repeat, and "" for every call was one id), and a result
 * without an id answers the oldest call not yet answered among the
 * id-less calls of the assistant message before it: OpenAI pairs such
 * results with their calls by position, and its results follow the
 * message that made the calls. A result left over gets an id of its own
 * (it answers no call, as one naming an id no call has).
 *
 * A call whose id an earlier call had (a program whose ids restart each
 * turn, call_0 in every turn; two ids Anthropic's form makes one) is sent
 * as <id>_<k>, the first k no id sent has, and a result naming the id
 * answers the latest call that had it, as Gemini's side pairs them. The
 * id a result names is the program's own, not its Anthropic form: call:1
 * and call_1 are two calls, each with its own result. */
typedef struct call_ids {
    int made;               /* ids made up so far */
    int next, end;          /* the last assistant message's: [next, end) not yet answered */
    id_entry *latest;       /* a program's id (as it wrote it) → the id its latest call was sent as */
    id_entry *sent;         /* every program's id sent */
} call_ids;

static void ids_free(call_ids *ids)
{
    id_table_free(&ids->latest);
    id_table_free(&ids->sent);
}

/* o[key]: a call's id (answer 0) or a result's (1) as sent to Claude, or
 * for none the next made-up one (answer: the oldest unanswered call's, for
 * a result). 0, or -1. */
static int add_history_id(cJSON *o, const char *key, const char *id, call_ids *ids, int answer)
{
    if (!id || !*id) {
        int n = answer && ids->next < ids->end ? ids->next++ : ids->made++;
        return add_tool_id(o, key, NULL, "llf", n);
    }
    char *own = llf_anthropic_tool_id(id, NULL, 0);
    if (!own)
        return -1;
    const char *v = answer ? id_find(ids->latest, id) : NULL;
    int rc;
    if (v) {
        rc = llf_add(o, key, cJSON_CreateString(v));
    } else if (answer) {
        rc = llf_add(o, key, cJSON_CreateString(own));
    } else {
        llf_buf u = {0};
        rc = llf_buf_adds(&u, own);
        /* (from where the last search for this id stopped: a history of
         * thousands of calls with one id is not searched again each time) */
        id_entry *base;
        HASH_FIND_STR(ids->sent, own, base);
        unsigned k = base && base->next_k ? base->next_k : 2;
        for (; rc == 0 && id_find(ids->sent, u.p); k++) {
            u.n = 0;
            rc = llf_buf_printf(&u, "%s_%u", own, k);
        }
        if (base)
            base->next_k = k;
        rc = rc || id_put(&ids->sent, u.p, NULL) || id_put(&ids->latest, id, u.p) ||
             llf_add(o, key, cJSON_CreateString(u.p));
        free(u.p);
    }
    free(own);
    return rc ? -1 : 0;
}

static int message_from_hub(const cJSON *m, cJSON *msgs, llf_buf *system, call_ids *ids, llf_terr *e)
{
    const char *role = llf_get_str(m, "role");
    const cJSON *content = llf_get(m, "content");
    role = role ? role : "";
    if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
        char *t = llf_content_text(content, "\n");
        int bad = !t || (system->n && llf_buf_adds(system, "\n\n")) || llf_buf_adds(system, t);
        free(t);
        return bad ? LLF_TR_ERROR : LLF_TR_OK;
    }
    cJSON *blocks = cJSON_CreateArray();
    if (!blocks)
        return LLF_TR_ERROR;
    int rc = LLF_TR_OK;
    const char *arole = "user";
    if (strcmp(role, "user") == 0) {
        rc = content_blocks(content, blocks, e);
    } else if (strcmp(role, "assistant") == 0) {
        arole = "assistant";
        rc = content_blocks(content, blocks, e);
        ids->next = ids->end = ids->made;
        for (const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "tool_calls") ?
                                  cJSON_GetObjectItemCaseSensitive(m, "tool_calls")->child : NULL;
             c && rc == LLF_TR_OK; c = c->next) {
            const cJSON *f = llf_get(c, "function");
            const char *args = llf_get_str(f, "arguments");
            cJSON *input = args ? parse_args(args) : NULL;
            if (!cJSON_IsObject(input)) {
                cJSON_Delete(input);
                llf_terr_set(e, "tool call arguments are not a JSON object");
                rc = LLF_TR_INCOMPATIBLE;
                break;
            }
            /* (a history's ids as its answers' were given to an Anthropic
             * program: the same mapping, so that calls and results pair) */
            cJSON *b = cJSON_CreateObject();
            if (!b || llf_add(b, "type", cJSON_CreateString("tool_use")) ||
                add_history_id(b, "id", llf_get_str(c, "id"), ids, 0) || llf_copy(b, "name", f, "name") ||
                llf_add_own(b, "input", &input) || llf_append_own(blocks, &b)) {
                cJSON_Delete(input);
                cJSON_Delete(b);
                rc = LLF_TR_ERROR;
            }
        }
        ids->end = ids->made;
    } else if (strcmp(role, "tool") == 0) {
        /* its text, or with an image a tool returned (a Gemini 3 program's
         * functionResponse.parts) its blocks, as a tool_result takes them */
        char *t = llf_content_text(content, "\n");
        cJSON *b = cJSON_CreateObject();
        /* (a blank result, a command's empty output, has no content: Claude
         * refuses white space alone as text, "\n" as well) */
        int other = t && llf_content_other(content), none = t && !other && blank(t);
        cJSON *tc = !t ? NULL : other ? cJSON_CreateArray() : none ? cJSON_CreateNull() : cJSON_CreateString(t);
        if (cJSON_IsArray(tc))
            rc = content_blocks(content, tc, e);
        if (rc == LLF_TR_OK &&
            (!tc || !b || llf_add(b, "type", cJSON_CreateString("tool_result")) ||
             add_history_id(b, "tool_use_id", llf_get_str(m, "tool_call_id"), ids, 1) ||
             (!none && llf_add_own(b, "content", &tc)) ||
             (cJSON_IsTrue(llf_get(m, LLF_HUB_TOOL_ERROR)) && llf_add(b, "is_error", cJSON_CreateTrue())) ||
             llf_append_own(blocks, &b)))
            rc = LLF_TR_ERROR;
        cJSON_Delete(tc);
        cJSON_Delete(b);
        free(t);
    } else {
        llf_terr_set(e, "message role \"%s\" has no Anthropic equivalent", llf_terr_word(role));
        rc = LLF_TR_INCOMPATIBLE;
    }
    if (rc != LLF_TR_OK || cJSON_GetArraySize(blocks) == 0) {
        cJSON_Delete(blocks);
        return rc;
    }
    return add_turn(msgs, arole, blocks) ? LLF_TR_ERROR : LLF_TR_OK;
}

static int tools_from_hub(const cJSON *hub, cJSON *out, llf_terr *e)
{
    const cJSON *tools = llf_get(hub, "tools"), *allowed;
    int ntools = cJSON_GetArraySize(tools), required;
    /* OpenAI's allowed_tools: only those offered, one of them required
     * (any) or a choice (auto), as for Gemini's allowedFunctionNames */
    if (llf_hub_allowed_tools(hub, &allowed, &required, e) != LLF_TR_OK)
        return LLF_TR_INCOMPATIBLE;
    if (cJSON_IsArray(tools) && ntools) {
        cJSON *at = cJSON_CreateArray();
        if (!at || llf_add(out, "tools", at))
            return LLF_TR_ERROR;
        for (const cJSON *t = tools->child; t; t = t->next) {
            if (!llf_hub_tool_offered(allowed, t))
                continue;
            const char *type = llf_get_str(t, "type");
            const cJSON *f = llf_get(t, "function");
            if (!f || (type && strcmp(type, "function") != 0)) {
                llf_terr_set(e, "tool type \"%s\" has no Anthropic equivalent", llf_terr_word(type));
                return LLF_TR_INCOMPATIBLE;
            }
            cJSON *w = cJSON_CreateObject();
            const cJSON *params = llf_get(f, "parameters");   /* (null: not given, as nulls are) */
            cJSON *schema = params && !cJSON_IsNull(params) ? cJSON_Duplicate(params, 1)
                                                            : cJSON_Parse("{\"type\":\"object\",\"properties\":{}}");
            /* Claude's input_schema must say its type (400 "input_schema.type:
             * Field required"), where OpenAI and Gemini take {} and MCP
             * servers' schemas often leave it out: a call's input is an object */
            if (cJSON_IsObject(schema) && !llf_get(schema, "type") &&
                llf_add(schema, "type", cJSON_CreateString("object"))) {
                cJSON_Delete(schema);
                schema = NULL;
            }
            int bad = !w || llf_copy(w, "name", f, "name") || llf_copy(w, "description", f, "description");
            if (bad)
                cJSON_Delete(schema);
            if (bad || llf_add(w, "input_schema", schema) || llf_append_own(at, &w)) {
                cJSON_Delete(w);
                return LLF_TR_ERROR;
            }
        }
    }
    const cJSON *tc = llf_get(hub, "tool_choice");
    int no_parallel = cJSON_IsFalse(llf_get(hub, "parallel_tool_calls"));
    /* Without tools a choice among them means nothing, and Anthropic refuses
     * it (400 "tool_choice may only be specified while providing tools"). */
    if ((!tc && !no_parallel) || !cJSON_IsArray(tools) || !ntools)
        return LLF_TR_OK;
    cJSON *c = cJSON_CreateObject();
    const char *type = "auto";
    const char *name = NULL;
    if (cJSON_IsString(tc))
        type = strcmp(tc->valuestring, "required") == 0 ? "any"
               : strcmp(tc->valuestring, "none") == 0   ? "none"
                                                        : "auto";
    else if (allowed)
        type = required ? "any" : "auto";
    else if (cJSON_IsObject(tc) && (name = llf_get_str(llf_get(tc, "function"), "name")))
        type = "tool";
    if (!c || llf_add(c, "type", cJSON_CreateString(type)) ||
        (name && llf_add(c, "name", cJSON_CreateString(name))) ||
        (no_parallel && strcmp(type, "none") && llf_add(c, "disable_parallel_tool_use", cJSON_CreateTrue())) ||
        llf_add_own(out, "tool_choice", &c)) {
        cJSON_Delete(c);
        return LLF_TR_ERROR;
    }
    return LLF_TR_OK;
}

/* Is the hub's stop sequence w one Claude refuses (blank), which an
 * answer is cut at instead (stop_at)? */
static int cut_here(const cJSON *w)
{
    return cJSON_IsString(w) && *w->valuestring && blank(w->valuestring);
}

/* The hub's stop (a string or a list) as stop_sequences, without those
 * Claude refuses: an empty one means nothing, and a blank one ("\n", which
 * OpenAI programs often give) is cut at afterwards in a whole answer
 * (stop_at), as for OpenAI's models that refuse stop. A stream, which
 * cannot be, is refused to Claude with one (LLF_TR_INCOMPATIBLE). */
static int stops_from_hub(const cJSON *hub, cJSON *o, llf_terr *e)
{
    const cJSON *stop = llf_get(hub, "stop");
    if (!cJSON_IsString(stop) && !cJSON_IsArray(stop))
        return LLF_TR_OK;
    cJSON *a = cJSON_CreateArray();
    int cut = 0;
    for (const cJSON *w = cJSON_IsArray(stop) ? stop->child : stop; w && a; w = cJSON_IsArray(stop) ? w->next : NULL) {
        cut |= cut_here(w);
        if (!cJSON_IsString(w) || !blank(w->valuestring)) {
            if (llf_append(a, cJSON_Duplicate(w, 1))) {
                cJSON_Delete(a);
                a = NULL;
            }
        }
    }
    if (cut && cJSON_IsTrue(llf_get(hub, "stream"))) {
        cJSON_Delete(a);
        llf_terr_set(e, "a stop sequence of white space only, streamed (Claude refuses it, and a stream "
                        "is not cut afterwards)");
        return LLF_TR_INCOMPATIBLE;
    }
    if (a && !a->child) {
        cJSON_Delete(a);
        return LLF_TR_OK;
    }
    int rc = a && !llf_add_own(o, "stop_sequences", &a) ? LLF_TR_OK : LLF_TR_ERROR;
    cJSON_Delete(a);   /* (NULL once added) */
    return rc;
}

static int fit(cJSON *o, const char *model, int apply);

static int req_from_hub(const cJSON *hub, const char *model, cJSON **out, llf_terr *e)
{
    const cJSON *msgs = llf_get(hub, "messages");
    if (!cJSON_IsArray(msgs)) {
        llf_terr_set(e, "request has no messages");
        return LLF_TR_ERROR;
    }
    const cJSON *n = llf_get(hub, "n");
    if (cJSON_IsNumber(n) && n->valuedouble > 1) {
        llf_terr_set(e, "n > 1");
        return LLF_TR_INCOMPATIBLE;
    }
    if (llf_hub_openai_only(hub, e) != LLF_TR_OK)
        return LLF_TR_INCOMPATIBLE;
    if (cJSON_IsTrue(llf_get(hub, "logprobs"))) {
        llf_terr_set(e, "logprobs");
        return LLF_TR_INCOMPATIBLE;
    }
    cJSON *o = cJSON_CreateObject(), *am = cJSON_CreateArray();
    llf_buf system = {0};
    int rc = o && am && !llf_add(o, "model", cJSON_CreateString(model ? model : "")) ? LLF_TR_OK
                                                                                     : LLF_TR_ERROR;
    call_ids ids = {0, 0, 0, NULL, NULL};
    for (const cJSON *m = msgs->child; m && rc == LLF_TR_OK; m = m->next)
        rc = message_from_hub(m, am, &system, &ids, e);
    ids_free(&ids);
    /* Anthropic refuses a request without messages (400 "messages: at
     * least one message is required"), which OpenAI takes: a system prompt
     * alone is the user's turn then. */
    if (rc == LLF_TR_OK && !am->child) {
        cJSON *m = NULL;
        if (!system.n) {
            llf_terr_set(e, "no message to send");
            rc = LLF_TR_INCOMPATIBLE;
        } else if (!(m = cJSON_CreateObject()) || llf_add(m, "role", cJSON_CreateString("user")) ||
                   llf_add(m, "content", cJSON_CreateString(system.p)) || llf_append_own(am, &m)) {
            rc = LLF_TR_ERROR;
        } else {
            system.n = 0;
        }
        cJSON_Delete(m);
    }
    if (rc == LLF_TR_OK && cJSON_GetArraySize(am) &&
        strcmp(llf_get_str(am->child, "role"), "user") != 0) {
        llf_terr_set(e, "conversation starts with assistant");
        rc = LLF_TR_INCOMPATIBLE;
    }
    /* Claude would continue a last turn of the assistant's (a prefill),
     * as sent: after the hub's system messages have gone to "system" and
     * its empty turns been left out, `assistant, system` ends with it */
    if (rc == LLF_TR_OK && llf_prefill_role(llf_get_str(last_item(am), "role"), e) != LLF_TR_OK)
        rc = LLF_TR_INCOMPATIBLE;
    const cJSON *rf = llf_get(hub, "response_format");
    const char *rft = llf_get_str(rf, "type");
    if (rc == LLF_TR_OK && rft && strcmp(rft, "json_object") == 0) {
        if ((system.n && llf_buf_adds(&system, "\n\n")) ||
            llf_buf_adds(&system, LLF_JSON_ONLY_TEXT))
            rc = LLF_TR_ERROR;
    } else if (rc == LLF_TR_OK && rft && strcmp(rft, "json_schema") == 0) {
        const cJSON *js = llf_get(llf_get(rf, "json_schema"), "schema");
        /* (what the schema's root is, when it says: an array asked for as
         * "a JSON object" was answered with one wrapping it) */
        const cJSON *root = llf_get(js, "type");
        const char *what = !root || (cJSON_IsString(root) && !strcmp(root->valuestring, "object")) ? "object"
                           : cJSON_IsString(root) && !strcmp(root->valuestring, "array")              ? "array"
                                                                                                      : "value";
        char *schema = cJSON_PrintUnformatted(js);
        if (!schema || (system.n && llf_buf_adds(&system, "\n\n")) ||
            llf_buf_printf(&system, "Respond with a single JSON %s that conforms to this JSON "
                                    "Schema, and nothing else:\n%s", what, schema))
            rc = LLF_TR_ERROR;
        free(schema);
    }
    if (rc == LLF_TR_OK && system.n && llf_add(o, "system", cJSON_CreateString(system.p)))
        rc = LLF_TR_ERROR;
    /* A turn of one text block is written as a plain string, as in
     * Anthropic's own examples. */
    for (cJSON *m = rc == LLF_TR_OK ? am->child : NULL; m; m = m->next) {
        cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        const char *t = cJSON_GetArraySize(content) == 1 ? llf_get_str(content->child, "text") : NULL;
        const char *type = cJSON_GetArraySize(content) == 1 ? llf_get_str(content->child, "type") : NULL;
        cJSON *str = t && type && !strcmp(type, "text") ? cJSON_CreateString(t) : NULL;
        if (str && !cJSON_ReplaceItemInObjectCaseSensitive(m, "content", str))
            cJSON_Delete(str);
    }
    if (rc == LLF_TR_OK && llf_add_own(o, "messages", &am))
        rc = LLF_TR_ERROR;
    const cJSON *mt = llf_get(hub, "max_completion_tokens");
    if (!cJSON_IsNumber(mt))
        mt = llf_get(hub, "max_tokens");
    long max = cJSON_IsNumber(mt) ? llf_num_long(mt->valuedouble) : default_max_tokens(model);
    if (rc == LLF_TR_OK && llf_add(o, "max_tokens", cJSON_CreateNumber((double)max)))
        rc = LLF_TR_ERROR;
    const cJSON *temp = llf_get(hub, "temperature");
    if (rc == LLF_TR_OK && cJSON_IsNumber(temp) &&
        llf_add(o, "temperature", cJSON_CreateNumber(temp->valuedouble > 1 ? 1 : temp->valuedouble)))
        rc = LLF_TR_ERROR;
    if (rc == LLF_TR_OK)
        rc = stops_from_hub(hub, o, e);
    if (rc == LLF_TR_OK && (llf_copy(o, "top_p", hub, "top_p") || llf_copy(o, "stream", hub, "stream")))
        rc = LLF_TR_ERROR;
    if (rc == LLF_TR_OK && llf_get_str(hub, "user")) {
        cJSON *md = cJSON_CreateObject();
        if (!md || llf_copy(md, "user_id", hub, "user") || llf_add_own(o, "metadata", &md)) {
            cJSON_Delete(md);
            rc = LLF_TR_ERROR;
        }
    }
    if (rc == LLF_TR_OK)
        rc = tools_from_hub(hub, o, e);
    llf_buf_free(&system);
    cJSON_Delete(am);
    /* Then fitted to the model, as a program's own body is (fit). */
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

static int resp_to_hub(const cJSON *resp, cJSON **out, llf_terr *e)
{
    const cJSON *content = llf_get(resp, "content");
    if (!cJSON_IsArray(content)) {
        llf_terr_set(e, "not an Anthropic message");
        return LLF_TR_ERROR;
    }
    llf_buf text = {0};
    int has_text = 0, rc = LLF_TR_OK;
    cJSON *calls = cJSON_CreateArray();
    for (const cJSON *b = content->child; b && calls && rc == LLF_TR_OK; b = b->next) {
        const char *type = llf_get_str(b, "type");
        if (type && strcmp(type, "text") == 0 && llf_get_str(b, "text")) {
            has_text = 1;
            if (llf_buf_adds(&text, llf_get_str(b, "text")))
                rc = LLF_TR_ERROR;
        } else if (type && strcmp(type, "tool_use") == 0) {
            if (llf_append(calls, llf_hub_tool_call(llf_get_str(b, "id"), llf_get_str(b, "name"),
                                                    llf_get(b, "input"))))
                rc = LLF_TR_ERROR;
        }
    }
    const char *fr = llf_anthropic_finish(llf_get_str(resp, "stop_reason"));
    const cJSON *u = llf_get(resp, "usage");
    double in = llf_anthropic_input(u), outt = llf_num(u, "output_tokens", 0);
    in = in < 0 ? 0 : in;
    /* cache writes stay in prompt_tokens: OpenAI has no field for them */
    cJSON *hub = cJSON_CreateObject(), *choices = cJSON_CreateArray(), *choice = cJSON_CreateObject(),
          *msg = cJSON_CreateObject(),
          *usage = llf_hub_usage(in, outt, in + outt, llf_num(u, "cache_read_input_tokens", -1), -1);
    int ok = rc == LLF_TR_OK && calls && hub && choices && choice && msg && usage &&
             !llf_copy(hub, "id", resp, "id") && !llf_add(hub, "object", cJSON_CreateString("chat.completion")) &&
             !llf_add(hub, "created", cJSON_CreateNumber(llf_now_s())) && !llf_copy(hub, "model", resp, "model") &&
             !llf_add(msg, "role", cJSON_CreateString("assistant")) &&
             !llf_add(msg, "content", has_text ? cJSON_CreateString(text.p) : cJSON_CreateNull()) &&
             !(cJSON_GetArraySize(calls) && llf_add_own(msg, "tool_calls", &calls)) &&
             !llf_add(msg, "refusal", cJSON_CreateNull()) && !llf_add(choice, "index", cJSON_CreateNumber(0)) &&
             !llf_add_own(choice, "message", &msg) && !llf_add(choice, "logprobs", cJSON_CreateNull()) &&
             !llf_add(choice, "finish_reason", cJSON_CreateString(fr)) && !llf_append_own(choices, &choice) &&
             !llf_add_own(hub, "choices", &choices) && !llf_add_own(hub, "usage", &usage);
    if (ok) {
        *out = hub;
        hub = NULL;
    }
    llf_buf_free(&text);
    cJSON_Delete(calls);
    cJSON_Delete(msg);
    cJSON_Delete(choice);
    cJSON_Delete(choices);
    cJSON_Delete(usage);
    cJSON_Delete(hub);
    return ok ? LLF_TR_OK : (rc == LLF_TR_OK ? LLF_TR_ERROR : rc);
}

static int resp_from_hub(const cJSON *hub, const char *model, cJSON **out, llf_terr *e)
{
    const cJSON *choice = cJSON_GetArrayItem(llf_get(hub, "choices"), 0);
    const cJSON *msg = llf_get(choice, "message");
    if (!msg) {
        llf_terr_set(e, "completion has no message");
        return LLF_TR_ERROR;
    }
    cJSON *o = cJSON_CreateObject(), *content = cJSON_CreateArray(), *usage = cJSON_CreateObject();
    int rc = o && content && usage ? LLF_TR_OK : LLF_TR_ERROR;
    const char *id = llf_get_str(hub, "id");
    char idbuf[160];
    snprintf(idbuf, sizeof idbuf, "%s%s", id && strncmp(id, "msg_", 4) == 0 ? "" : "msg_", id ? id : "llmfallback");
    char *text = llf_content_text(llf_get(msg, "content"), "");
    const char *refusal = llf_get_str(msg, "refusal");
    if (rc == LLF_TR_OK && ((text && *text && llf_append(content, llf_text_part(text))) ||
                            (refusal && *refusal && llf_append(content, llf_text_part(refusal)))))
        rc = LLF_TR_ERROR;
    free(text);
    const cJSON *calls = llf_get(msg, "tool_calls");
    int ncall = 0;
    for (const cJSON *c = cJSON_IsArray(calls) ? calls->child : NULL; c && rc == LLF_TR_OK; c = c->next, ncall++) {
        const cJSON *f = llf_get(c, "function");
        const char *args = llf_get_str(f, "arguments");
        cJSON *input = args ? parse_args(args) : NULL;
        if (!cJSON_IsObject(input)) {
            cJSON_Delete(input);
            input = cJSON_CreateObject();
        }
        /* an id Anthropic takes, which the program's next request carries
         * to its own Claude (a member's call without one gets one made up) */
        cJSON *b = cJSON_CreateObject();
        if (!b || llf_add(b, "type", cJSON_CreateString("tool_use")) ||
            add_tool_id(b, "id", llf_get_str(c, "id"), id, ncall) || llf_copy(b, "name", f, "name") ||
            llf_add_own(b, "input", &input) || llf_append_own(content, &b)) {
            cJSON_Delete(input);
            cJSON_Delete(b);
            rc = LLF_TR_ERROR;
        }
    }
    /* OpenAI's refusal (the model declining, with its reason, in place of
     * the content or of the JSON asked for) is Anthropic's stop_reason
     * "refusal" ("the model declined"), which Claude's structured outputs
     * give for the same case: a program told to check it before parsing
     * its JSON does so here too, and still gets the reason as text. A
     * refusal cut short keeps its max_tokens. */
    const char *fr = llf_get_str(choice, "finish_reason");
    const char *stop = !fr                                 ? "end_turn"
                       : strcmp(fr, "length") == 0         ? "max_tokens"
                       : strcmp(fr, "tool_calls") == 0 || strcmp(fr, "function_call") == 0 ? "tool_use"
                       : strcmp(fr, "content_filter") == 0 ? "refusal"
                                                           : "end_turn";
    /* A call the model was made to make (tool_choice naming a function)
     * OpenAI and vLLM end with "stop", not "tool_calls": Anthropic's answer
     * with tool_use blocks says tool_use whatever the reason, and programs
     * run their tools on it (a Gemini member's calls say it too). */
    if (ncall && !strcmp(stop, "end_turn"))
        stop = "tool_use";
    /* The stop sequence the answer ended at, where the hub names it as
     * vLLM does (choice.stop_reason, the string it stopped at; a token id
     * is none of the program's): Claude's "stop_sequence", naming it. The
     * library's own cut of an answer (stop_at) names it so. */
    const char *seq = llf_get_str(choice, "stop_reason");
    if (seq && *seq && fr && !strcmp(fr, "stop") && !strcmp(stop, "end_turn"))
        stop = "stop_sequence";
    else
        seq = NULL;
    if (refusal && *refusal && !strcmp(stop, "end_turn"))
        stop = "refusal";
    const cJSON *u = llf_get(hub, "usage");
    if (rc == LLF_TR_OK &&
        (llf_add(o, "id", cJSON_CreateString(idbuf)) || llf_add(o, "type", cJSON_CreateString("message")) ||
         llf_add(o, "role", cJSON_CreateString("assistant")) ||
         llf_add(o, "model", cJSON_CreateString(model ? model : "")) || llf_add_own(o, "content", &content)))
        rc = LLF_TR_ERROR;
    if (rc == LLF_TR_OK &&
        (llf_add(o, "stop_reason", cJSON_CreateString(stop)) ||
         llf_add(o, "stop_sequence", seq ? cJSON_CreateString(seq) : cJSON_CreateNull()) ||
         llf_anthropic_usage_input(usage, llf_num(u, "prompt_tokens", 0), llf_hub_cached(u)) ||
         llf_add(usage, "output_tokens", cJSON_CreateNumber(llf_num(u, "completion_tokens", 0))) ||
         llf_add_own(o, "usage", &usage)))
        rc = LLF_TR_ERROR;
    cJSON_Delete(content);
    cJSON_Delete(usage);
    if (rc != LLF_TR_OK) {
        cJSON_Delete(o);
        return rc;
    }
    *out = o;
    return LLF_TR_OK;
}

/* o[key] = v, replacing one there. 0, or -1 (v deleted). */
static int put(cJSON *o, const char *key, cJSON *v)
{
    if (v && llf_get(o, key))
        return cJSON_ReplaceItemInObjectCaseSensitive(o, key, v) ? 0 : (cJSON_Delete(v), -1);
    return llf_add(o, key, v);
}

/* The stop sequences req_from_hub left out (blank: cut_here), applied to
 * Claude's answer (see dialect.h): its text cut where the first of them
 * begins, the blocks after it left out (the model would not have gone on
 * to them), and the stop reason Claude gives for a sequence of its own,
 * "stop_sequence", naming it. */
static int stop_at(const char *model, const cJSON *hub, llf_buf *body)
{
    (void)model;
    const cJSON *stop = llf_get(hub, "stop");
    int any = 0;
    for (const cJSON *w = cJSON_IsArray(stop) ? stop->child : stop; w && !any; w = cJSON_IsArray(stop) ? w->next : NULL)
        any = cut_here(w);
    if (!any || cJSON_IsTrue(llf_get(hub, "stream")))
        return 0;
    cJSON *j = llf_json_parse_mended(cJSON_ParseWithLength, body->p ? body->p : "", body->n);
    cJSON *content = (cJSON *)llf_get(j, "content");
    const char *which = NULL;
    for (cJSON *b = cJSON_IsArray(content) ? content->child : NULL; b && !which; b = b->next) {
        const char *type = llf_get_str(b, "type");
        cJSON *text = (cJSON *)llf_get(b, "text");
        if (!type || strcmp(type, "text") || !cJSON_IsString(text))
            continue;
        char *cut = NULL;
        for (const cJSON *w = cJSON_IsArray(stop) ? stop->child : stop; w; w = cJSON_IsArray(stop) ? w->next : NULL) {
            char *at = cut_here(w) ? strstr(text->valuestring, w->valuestring) : NULL;
            if (at && (!cut || at < cut)) {
                cut = at;
                which = w->valuestring;
            }
        }
        if (!cut)
            continue;
        *cut = '\0';   /* (the string shrinks in place: cJSON keeps its length nowhere) */
        while (b->next)
            cJSON_Delete(cJSON_DetachItemViaPointer(content, b->next));
    }
    int rc = which ? 1 : 0;
    if (which && (put(j, "stop_reason", cJSON_CreateString("stop_sequence")) ||
                  put(j, "stop_sequence", cJSON_CreateString(which))))
        rc = -1;
    char *s = rc == 1 ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (rc == 1 && !s)
        return -1;
    if (s)
        llf_buf_adopt(body, s);
    return rc;
}

/* The thinking of a body fitted to model (thinking_kind), before its
 * max_tokens is: none for a model without thinking, or without the
 * adaptive kind the body asks for; extended thinking turned adaptive for a
 * model that has only that (the model decides how much: the budget goes);
 * else a budget_tokens the lowered max_tokens would no longer exceed (400
 * "`max_tokens` must be greater than `thinking.budget_tokens`") lowered in
 * the program's own proportion, at least the API's 1024, or no thinking
 * when even that does not fit. A budget the program set at or above its own
 * max_tokens (interleaved thinking allows it) is left alone. kind: the
 * model's thinking_kind; limit: its output limit, 0 unknown. The number of
 * changes, -1 on no memory. */
static int fit_thinking(cJSON *o, int kind, long limit, int apply)
{
    cJSON *th = cJSON_GetObjectItemCaseSensitive(o, "thinking");
    if (!th)
        return 0;
    cJSON *type = (cJSON *)llf_get(th, "type");
    const char *t = cJSON_IsString(type) ? type->valuestring : "";
    cJSON *b = (cJSON *)llf_get(th, "budget_tokens");
    cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "max_tokens");
    int drop = kind == TH_NONE || (kind == TH_ENABLED && !strcmp(t, "adaptive"));
    if (!drop && kind == TH_ADAPTIVE && !strcmp(t, "enabled")) {
        if (apply) {
            if (!cJSON_SetValuestring(type, "adaptive"))
                return -1;
            while ((b = (cJSON *)llf_get(th, "budget_tokens")))
                cJSON_Delete(cJSON_DetachItemViaPointer(th, b));
        }
        return 1;
    }
    double budget = 0;
    if (!drop && cJSON_IsNumber(b) && cJSON_IsNumber(m) && limit > 0 && m->valuedouble > (double)limit &&
        b->valuedouble < m->valuedouble && b->valuedouble >= (double)limit) {
        budget = (double)(long)(b->valuedouble * (double)limit / m->valuedouble);   /* < limit */
        if (budget < 1024)
            budget = 1024;
        drop = budget >= (double)limit;
    } else if (!drop) {
        return 0;
    }
    if (apply && drop)   /* every one: a second would surface at the next fitting */
        while ((th = cJSON_GetObjectItemCaseSensitive(o, "thinking")))
            cJSON_Delete(cJSON_DetachItemViaPointer(o, th));
    else if (apply)
        cJSON_SetNumberValue(b, budget);
    return 1;
}

/* Does the conversation's last assistant turn call a tool without its
 * thinking first? With thinking on, Claude refuses it (400 "a final
 * `assistant` message must start with a thinking block"): it is what a
 * member of another dialect answered a thinking program's turn with, and
 * Claude's signed thinking cannot be made up for it. */
static int calls_unthought(const cJSON *o)
{
    const cJSON *msgs = llf_get(o, "messages"), *last = NULL, *m;
    cJSON_ArrayForEach(m, msgs)
    {
        if (llf_get_str(m, "role") && !strcmp(llf_get_str(m, "role"), "assistant"))
            last = m;
    }
    const cJSON *blocks = llf_get(last, "content"), *b;
    if (!cJSON_IsArray(blocks))
        return 0;
    const char *first = llf_get_str(blocks->child, "type");
    if (first && (!strcmp(first, "thinking") || !strcmp(first, "redacted_thinking")))
        return 0;
    cJSON_ArrayForEach(b, blocks)
    {
        if (llf_get_str(b, "type") && !strcmp(llf_get_str(b, "type"), "tool_use"))
            return 1;
    }
    return 0;
}

/* A program's own Anthropic body fitted to a member's model: max_tokens no
 * higher than the model writes (it answers 400 "max_tokens: N > M"), no
 * top_p beside a temperature for the models that refuse the pair, no
 * sampling settings for those that have none, and thinking only as the
 * model takes it (translated requests carry none), and not after a tool
 * call another dialect's member made (calls_unthought). With apply 0 only
 * counted; the number of changes. */
static int fit(cJSON *o, const char *model, int apply)
{
    if (!model || !cJSON_IsObject(o))
        return 0;
    int kind = thinking_kind(model), pair = refuses_both(model);
    long limit = llf_model_max_output(model);
    const char *tt = llf_get_str(llf_get(o, "thinking"), "type");
    /* (no thinking, as for a model without: fit_thinking drops it) */
    int unthought = tt && strcmp(tt, "disabled") != 0 && calls_unthought(o);
    int n = fit_thinking(o, unthought ? TH_NONE : kind, limit, apply);
    if (n < 0)
        return -1;
    /* The models that think only adaptively have no sampling settings: a
     * temperature other than 1 (the default), a top_p or a top_k is refused
     * ("`temperature` is deprecated for this model.") */
    int fixed = kind == TH_ADAPTIVE;
    for (cJSON *k = o->child, *next; k; k = next) {
        next = k->next;
        const char *s = k->string ? k->string : "";
        if (fixed && s[0] == 't' &&
            ((!strcmp(s, "temperature") && !(cJSON_IsNumber(k) && k->valuedouble == 1)) || !strcmp(s, "top_p") ||
             !strcmp(s, "top_k"))) {
            n++;
            if (apply)
                cJSON_Delete(cJSON_DetachItemViaPointer(o, k));
        } else if (s[0] == 'm' && !strcmp(s, "max_tokens") && cJSON_IsNumber(k)) {
            if (limit && k->valuedouble > (double)limit) {
                n++;
                if (apply)
                    cJSON_SetNumberValue(k, (double)limit);
            }
        } else if (pair && s[0] == 't' && !strcmp(s, "top_p") && cJSON_GetObjectItemCaseSensitive(o, "temperature")) {
            n++;
            if (apply)
                cJSON_Delete(cJSON_DetachItemViaPointer(o, k));
        }
    }
    return n;
}

const llf_dialect_ops llf_dialect_anthropic = {
    .name = "anthropic",
    .match_op = match_op,
    .op_path = op_path,
    .auth_headers = auth_headers,
    .model_in_body = 1,
    .body_streams = body_streams,
    .success_shape = success_shape,
    .req_to_hub = req_to_hub,
    .req_from_hub = req_from_hub,
    .resp_to_hub = resp_to_hub,
    .resp_from_hub = resp_from_hub,
    .fit = fit,
    .default_output = default_max_tokens,
    .stop_at = stop_at,
};
