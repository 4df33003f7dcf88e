/* Fuzz target: the JSON Schema validator, schema and value from one input
 * (split at the first NUL). */
#include <cjson/cJSON.h>

#include "fuzz_common.h"
#include "schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    const uint8_t *nul = memchr(d, 0, n);
    size_t a = nul ? (size_t)(nul - d) : n;
    cJSON *s = cJSON_ParseWithLength((const char *)d, a);
    cJSON *v = nul ? cJSON_ParseWithLength((const char *)nul + 1, n - a - 1) : NULL;
    char why[128];
    if (s && v)
        llf_schema_validate(s, v, why, sizeof why);
    cJSON_Delete(s);
    cJSON_Delete(v);
    return 0;
}
