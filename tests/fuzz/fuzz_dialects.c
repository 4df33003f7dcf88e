/* Fuzz target: every translator (requests and responses, to and from the
 * hub) of every dialect, fitting a body to a member's model (a fitted body
 * needs no more fitting) and cutting its answer at the stop sequences it
 * was not sent, the verdict on any response body, shadow mode's
 * answer facts and similarity (the body against its own text), the size
 * estimates of its hub form, and the scan
 * that finds the top-level "model" in the text (it must agree with cJSON). */
#include <cjson/cJSON.h>

#include "dialect.h"
#include "fuzz_common.h"
#include "hubutil.h"
#include "models.h"
#include "shadow.h"
#include "verdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    fuzz_init();
    if (n < 1)
        return 0;
    int dialect = d[0] % 3, status = d[0] & 0x80 ? 200 : 503;
    /* the member's model: one the library knows nothing of, or one of each
     * family whose limits and parameters requests are fitted to */
    static const char *const models[] = {"m", "o3", "gpt-4o-mini", "gpt-5-chat-latest", "claude-opus-4-1",
                                         "claude-3-haiku", "gemini-2.0-flash", "vendor/o1-mini",
                                         "claude-3-7-sonnet", "claude-sonnet-4-5", "gemini-2.5-pro",
                                         "gemini-2.5-flash-lite", "models/gemini-2.5-flash",
                                         "gemini-3-pro-preview", "gpt-5", "claude-3-5-haiku-latest",
                                         "claude-opus-4-7", "claude-sonnet-4-6", "claude-haiku-4-5",
                                         "claude-opus-4-20250514", "gpt-5.1", "gpt-5.2", "gemini-2.5-flash",
                                         "claude-fable-5", "o4-mini", "gpt-4.1", "claude-sonnet-5",
                                         "models/gemini-1.5-pro", "deepseek-chat", "claude-instant-1.2",
                                         "gemini-3-flash-preview", "gpt-5.1-codex-max"};
    const char *model = models[(d[0] >> 2) & 31];
    cJSON *j = cJSON_ParseWithLength((const char *)d + 1, n - 1);
    const llf_dialect_ops *ops = llf_dialect_ops_of((llf_dialect)dialect);
    llf_terr e;
    cJSON *out = NULL, *back = NULL;
    if (j) {
        if (ops->req_to_hub(j, "m", &out, &e) == LLF_TR_OK) {
            /* the size estimates: a PDF's pages are read from its bytes */
            (void)llf_estimate_tokens(out, 0);
            (void)llf_estimate_within(out, (const char *)d + 1, n - 1, 128000, 0);
            for (int t = 0; t < 3; t++) {
                cJSON *x = NULL;
                if (llf_dialect_ops_of((llf_dialect)t)->req_from_hub(out, model, &x, &e) == LLF_TR_OK)
                    cJSON_Delete(x);
            }
        }
        cJSON_Delete(out);
        out = NULL;
        if (ops->req_from_hub(j, model, &out, &e) == LLF_TR_OK)
            cJSON_Delete(out);
        out = NULL;
        if (ops->fit) {
            /* a fitted body needs no more fitting */
            cJSON *f = cJSON_Duplicate(j, 1);
            int changes = ops->fit(j, model, 0);
            if (f && ops->fit(f, model, 1) == changes && ops->fit(f, model, 0) != 0)
                __builtin_trap();
            cJSON_Delete(f);
        }
        if (ops->refuses)
            ops->refuses(j, model, &e);
        if (ops->stop_at) {
            /* the input as both the request and the answer cut at its stop sequences */
            llf_buf b = {0};
            if (llf_buf_add(&b, (const char *)d + 1, n - 1) == 0)
                ops->stop_at(model, j, &b);
            llf_buf_free(&b);
        }
        if (ops->resp_to_hub(j, &out, &e) == LLF_TR_OK) {
            for (int t = 0; t < 3; t++)
                if (llf_dialect_ops_of((llf_dialect)t)->resp_from_hub(out, "m", &back, &e) == LLF_TR_OK) {
                    cJSON_Delete(back);
                    back = NULL;
                }
        }
        cJSON_Delete(out);
        out = NULL;
        if (ops->resp_from_hub(j, "m", &out, &e) == LLF_TR_OK)
            cJSON_Delete(out);
    }
    size_t ms, me;
    if (llf_json_top_string((const char *)d + 1, n - 1, "model", &ms, &me)) {
        /* Found in text cJSON accepts as an object: cJSON's "model" is that
         * string (read raw: without escapes it is the same bytes). */
        const cJSON *m = j ? cJSON_GetObjectItemCaseSensitive(j, "model") : NULL;
        const char *v = (const char *)d + 1 + ms + 1;
        size_t vl = me - ms - 2;
        if (cJSON_IsObject(j) && !memchr(v, '\\', vl) && !memchr(v, '\0', vl) &&
            (!cJSON_IsString(m) || strlen(m->valuestring) != vl || memcmp(m->valuestring, v, vl) != 0))
            __builtin_trap();
    }
    llf_resp r;
    memset(&r, 0, sizeof r);
    r.status = status;
    llf_buf_adds(&r.head, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n");
    llf_buf_add(&r.body, d + 1, n - 1);
    llf_verdict_cfg vc = {1, 1, 1, 1, 1, 400, 0, NULL, 0, NULL, 1000};
    llf_judge_in in = {(llf_dialect)dialect, "m", d[0] & 0x40, j, &vc, 0};
    llf_judge_ex(&in, &r, 0);
    char *text = NULL, *raw = llf_strndup(r.body.p ? r.body.p : "", r.body.n);
    long ti, to;
    if (llf_answer_facts((llf_dialect)dialect, r.body.p, r.body.n, &text, &ti, &to) == 0 && raw) {
        double s = llf_similarity(text, raw);
        if (!(s >= 0 && s <= 1))
            __builtin_trap();   /* a similarity is a figure from 0 to 1 */
    }
    free(text);
    free(raw);
    llf_resp_free(&r);
    cJSON_Delete(j);
    return 0;
}
