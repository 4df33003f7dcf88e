/* tr.c — translator test helpers (see tr.h). */
#include "tr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"

void tr_golden(const char *label, int (*fn)(const cJSON *, const char *, cJSON **, llf_terr *),
               const char *model, const char *in, const char *want)
{
    cJSON *i = t_fixture(in), *w = t_fixture(want), *before = i ? cJSON_Duplicate(i, 1) : NULL, *out = NULL;
    llf_terr e = {{0}};
    int rc = i ? fn(i, model, &out, &e) : -9;
    if (rc != LLF_TR_OK)
        fprintf(stderr, "  %s: rc %d (%s)\n", label, rc, e.detail);
    CHECK(rc == LLF_TR_OK);
    cJSON_DeleteItemFromObject(out, "created");
    t_json_same(out, w, label);
    t_json_same(i, before, "input unmodified");
    cJSON_Delete(i);
    cJSON_Delete(w);
    cJSON_Delete(before);
    cJSON_Delete(out);
}

void tr_golden_resp(const char *label, int (*fn)(const cJSON *, cJSON **, llf_terr *), const char *in,
                    const char *want)
{
    cJSON *i = t_fixture(in), *w = t_fixture(want), *out = NULL;
    llf_terr e = {{0}};
    int rc = i ? fn(i, &out, &e) : -9;
    CHECK(rc == LLF_TR_OK);
    cJSON_DeleteItemFromObject(out, "created");
    t_json_same(out, w, label);
    cJSON_Delete(i);
    cJSON_Delete(w);
    cJSON_Delete(out);
}

int tr_code(int (*fn)(const cJSON *, const char *, cJSON **, llf_terr *), const char *model,
            const char *json, char *detail, size_t dlen)
{
    cJSON *i = cJSON_Parse(json), *out = NULL;
    llf_terr e = {{0}};
    int rc = i ? fn(i, model, &out, &e) : -9;
    /* a hub built to judge by, that no other dialect may be sent: as a
     * member of one sees it (rewrite.c) */
    const char *refused = llf_hub_refused(out);
    if (rc == LLF_TR_OK && refused) {
        rc = LLF_TR_INCOMPATIBLE;
        llf_terr_set(&e, "%s", refused);
    }
    snprintf(detail, dlen, "%s", e.detail);
    cJSON_Delete(i);
    cJSON_Delete(out);
    return rc;
}

cJSON *tr_across(int from, int to, const char *json, const char *model, int *rc, char *detail, size_t dlen)
{
    const llf_dialect_ops *f = llf_dialect_ops_of((llf_dialect)from), *t = llf_dialect_ops_of((llf_dialect)to);
    cJSON *in = cJSON_Parse(json), *hub = NULL, *out = NULL;
    llf_terr e = {{0}};
    int r = in ? f->req_to_hub(in, from == LLF_GEMINI ? model : NULL, &hub, &e) : -9;
    if (r == LLF_TR_OK && llf_hub_refused(hub)) {
        r = LLF_TR_INCOMPATIBLE;
        llf_terr_set(&e, "%s", llf_hub_refused(hub));
    }
    if (r == LLF_TR_OK)
        r = t->req_from_hub(hub, model, &out, &e);
    if (rc)
        *rc = r;
    if (detail)
        snprintf(detail, dlen, "%s", e.detail);
    cJSON_Delete(in);
    cJSON_Delete(hub);
    return out;
}

int tr_skipped(int from, int to, const char *json, const char *model, const char *word)
{
    int rc;
    char d[160];
    cJSON *o = tr_across(from, to, json, model, &rc, d, sizeof d);
    int ok = rc == LLF_TR_INCOMPATIBLE && !o && strstr(d, word);
    if (!ok)
        fprintf(stderr, "  %d -> %d: rc %d, detail \"%s\", not naming \"%s\"\n", from, to, rc, d, word);
    cJSON_Delete(o);
    return ok;
}

void tr_history(const char *label, int to, const char *model, const char *msgs,
                void (*show)(const cJSON *body, llf_buf *b), const char *want)
{
    char json[2048];
    snprintf(json, sizeof json, "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"q\"},%s],"
                                "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"w\"}}]}", msgs);
    int rc;
    char d[160];
    cJSON *o = tr_across(LLF_OPENAI, to, json, model, &rc, d, sizeof d);
    llf_buf got = {0};
    show(o, &got);
    CHECK(rc == LLF_TR_OK);
    if (strcmp(got.p ? got.p : "", want))
        fprintf(stderr, "  %s\n", label);
    CHECK_STR(got.p ? got.p : "", want);
    llf_buf_free(&got);
    cJSON_Delete(o);
}

void tr_prefill_tails(int to, const char *model, int blank_user)
{
    static const char *const tails[] = {
        "{\"role\":\"system\",\"content\":\"Now summarize.\"}",
        "{\"role\":\"developer\",\"content\":\"Now summarize.\"}",
        "{\"role\":\"user\",\"content\":\"\"}",
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"\"}]}",
        "{\"role\":\"user\",\"content\":\" \\n\"}",   /* (last: blank_user) */
    };
    for (size_t i = 0; i < sizeof tails / sizeof tails[0] - !blank_user; i++) {
        char json[512];
        snprintf(json, sizeof json, "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me "
                                    "about Paris.\"},{\"role\":\"assistant\",\"content\":\"Paris is.\"},%s]}", tails[i]);
        CHECK(tr_skipped(LLF_OPENAI, to, json, model, "ends with an assistant turn"));
    }
    /* the assistant's turn itself last, and an empty one, which says
     * nothing and is not sent: the member answers the user */
    CHECK(tr_skipped(LLF_OPENAI, to, "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},"
                     "{\"role\":\"assistant\",\"content\":\"Well,\"}]}", model, "ends with an assistant turn"));
    int rc;
    char d[160];
    cJSON *o = tr_across(LLF_OPENAI, to, "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":"
                         "\"hi\"},{\"role\":\"assistant\",\"content\":\"\"}]}", model, &rc, d, sizeof d);
    CHECK(rc == LLF_TR_OK && cJSON_GetArraySize(cJSON_GetObjectItem(o, to == LLF_GEMINI ? "contents" : "messages")) == 1);
    cJSON_Delete(o);
}
