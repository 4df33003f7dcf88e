/* Running out of memory: every translator, and the helpers they share,
 * made to fail at each of cJSON's allocations in turn must return an error
 * without freeing anything twice or leaking (the ASan run sees both). */
#include <stdlib.h>

#include "dialect.h"
#include "hubutil.h"
#include "jsonmem.h"
#include "t.h"

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
    t_oom_sweep(tool_call, args, "tool call");
    t_oom_sweep(tool_call, NULL, "tool call without arguments");
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
            t_oom_sweep(translate, &a, path);
        cJSON_Delete(in);
    }
}
