/* Fuzz target: the JSON Schema validator. An input "schema\0value" is
 * validated as such; any JSON input is also validated against itself (as a
 * schema) and against a schema using every keyword the validator knows. */
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
    static cJSON *rich;
    if (!rich)
        rich = cJSON_Parse("{\"$defs\":{\"n\":{\"type\":[\"integer\",\"null\"],\"minimum\":0,\"maximum\":9}},"
                           "\"type\":\"object\",\"required\":[\"a\"],\"additionalProperties\":{\"type\":\"string\","
                           "\"minLength\":1,\"maxLength\":5},\"properties\":{\"a\":{\"anyOf\":[{\"$ref\":\"#/$defs/n\"},"
                           "{\"type\":\"array\",\"items\":{\"enum\":[1,\"x\",null]},\"minItems\":1,\"maxItems\":3}]},"
                           "\"b\":{\"oneOf\":[{\"const\":true},{\"type\":\"OBJECT\",\"nullable\":true}]},"
                           "\"c\":{\"allOf\":[{\"type\":\"number\"},{\"minimum\":1}]},"
                           "\"d\":{\"prefixItems\":[{\"pattern\":\"^[\\\\w.-]+@\\\\d{2,}$\"}],\"items\":{\"not\":"
                           "{\"multipleOf\":0.5}},\"uniqueItems\":true},\"e\":{\"exclusiveMinimum\":0,"
                           "\"exclusiveMaximum\":1,\"format\":\"float\"},\"f\":{\"contains\":{\"const\":1},"
                           "\"minContains\":1,\"maxContains\":2,\"if\":{\"minItems\":2},\"then\":{\"maxItems\":5},"
                           "\"else\":{\"items\":{\"type\":\"number\"}}},\"g\":{\"propertyNames\":{\"maxLength\":3},"
                           "\"dependentRequired\":{\"a\":[\"b\"]},\"dependentSchemas\":{\"b\":{\"required\":[\"c\"]}},"
                           "\"dependencies\":{\"c\":[\"a\"],\"d\":{\"maxProperties\":3}}}},"
                           "\"patternProperties\":{\"^x(?:_[a-z]+)?$\":"
                           "{\"type\":\"object\",\"minProperties\":1,\"maxProperties\":2}}}");
    if (s && v)
        llf_schema_validate(s, v, why, sizeof why);
    if (s) {
        llf_schema_validate(s, s, why, sizeof why);
        llf_schema_validate(rich, s, why, sizeof why);
    }
    cJSON_Delete(s);
    cJSON_Delete(v);
    return 0;
}
