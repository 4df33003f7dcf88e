/* The log line: every field design.md promises, valid JSON. */
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "t.h"

void test_log(void)
{
    llf_log_rec r = {"curl", 7, 2, "backup", "gpt-4o-mini", 503, "http_error", "overloaded", 12.34, NULL, NULL};
    char *s = llf_log_format(&r, 1764036000.5, 4242);
    CHECK(s != NULL);
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    CHECK(j != NULL);
    static const char *const fields[] = {"ts", "pid", "path", "call", "attempt", "provider",
                                         "model", "status", "outcome", "reason", "ms"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        CHECK(cJSON_GetObjectItem(j, fields[i]) != NULL);
    CHECK_STR(cJSON_GetObjectItem(j, "ts")->valuestring, "2025-11-25T02:00:00.500Z");
    CHECK(cJSON_GetObjectItem(j, "pid")->valueint == 4242);
    CHECK(cJSON_GetObjectItem(j, "status")->valueint == 503);
    CHECK(cJSON_GetObjectItem(j, "ms")->valuedouble == 12.3);
    CHECK_STR(cJSON_GetObjectItem(j, "reason")->valuestring, "overloaded");
    CHECK(strchr(s, '\n') == NULL);
    cJSON_Delete(j);
    free(s);
}
