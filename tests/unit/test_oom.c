/* Running out of memory: every translator, and the helpers they share,
 * made to fail at each of cJSON's allocations in turn must return an error
 * without freeing anything twice or leaking (the ASan run sees both). */
#include <stdlib.h>

#include "dialect.h"
#include "hubutil.h"
#include "jsonmem.h"
#include "t.h"

static long countdown = -1;   /* allocations left before one fails; -1: none fails */

static void *failing_malloc(size_t n)
{
    if (countdown == 0)
        return NULL;
    if (countdown > 0)
        countdown--;
    return malloc(n);
}

typedef cJSON *(*op_fn)(const void *arg);

/* op run with the 1st, 2nd... allocation failing until it runs through; its
 * result freed each time. */
static void sweep(op_fn op, const void *arg, const char *label)
{
    cJSON_Hooks h = {failing_malloc, free}, back = {llf_json_alloc, llf_json_free};
    long n = 0;
    for (; n < 100000; n++) {
        countdown = n;
        cJSON_InitHooks(&h);
        cJSON *out = op(arg);
        long left = countdown;
        countdown = -1;
        cJSON_InitHooks(&back);
        cJSON_Delete(out);
        if (left > 0)
            break;   /* ran through without a failure */
    }
    if (n == 100000)
        fprintf(stderr, "%s: never ran through\n", label);
    CHECK(n < 100000);
}

static cJSON *tool_call(const void *arg)
{
    return llf_hub_tool_call("id1", "fn", arg);
}

typedef struct {
    const llf_dialect_ops *ops;
    const cJSON *in;
    int which;   /* 0 req_to_hub, 1 req_from_hub, 2 resp_to_hub, 3 resp_from_hub */
} tr_arg;

static cJSON *translate(const void *arg)
{
    const tr_arg *a = arg;
    cJSON *out = NULL;
    llf_terr e;
    int rc = a->which == 0   ? a->ops->req_to_hub(a->in, "gemini-2.5-flash", &out, &e)
             : a->which == 1 ? a->ops->req_from_hub(a->in, "m-1", &out, &e)
             : a->which == 2 ? a->ops->resp_to_hub(a->in, &out, &e)
                             : a->ops->resp_from_hub(a->in, "m-1", &out, &e);
    if (rc != LLF_TR_OK) {
        cJSON_Delete(out);
        out = NULL;
    }
    return out;
}

void test_oom(void)
{
    cJSON *args = cJSON_Parse("{\"a\":[1,2,{\"b\":\"c\"}]}");
    sweep(tool_call, args, "tool call");
    sweep(tool_call, NULL, "tool call without arguments");
    cJSON_Delete(args);

    static const struct {
        const char *dialect, *name;
        int which;
    } fx[] = {{"anthropic", "req_basic.anthropic", 0}, {"anthropic", "req_tools.anthropic", 0},
              {"anthropic", "req_basic.hub", 1},       {"anthropic", "req_tools.hub", 1},
              {"anthropic", "resp_text.anthropic", 2}, {"anthropic", "resp_tool.anthropic", 2},
              {"anthropic", "resp_text.hub", 3},       {"anthropic", "resp_tool.hub", 3},
              {"gemini", "req_basic.gemini", 0},       {"gemini", "req_json.gemini", 0},
              {"gemini", "req_tools.gemini", 0},       {"gemini", "req_basic.hub", 1},
              {"gemini", "req_json.hub", 1},           {"gemini", "req_tools.hub", 1},
              {"gemini", "resp_text.gemini", 2},       {"gemini", "resp_tool.gemini", 2},
              {"gemini", "resp_blocked.gemini", 2},    {"gemini", "resp_text.hub", 3},
              {"gemini", "resp_tool.hub", 3}};
    for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s.json", fx[i].dialect, fx[i].name);
        cJSON *in = t_fixture(path);
        tr_arg a = {llf_dialect_ops_of((llf_dialect)llf_dialect_from_name(fx[i].dialect)), in, fx[i].which};
        CHECK(in != NULL);
        if (in)
            sweep(translate, &a, path);
        cJSON_Delete(in);
    }
}
