/* schema.h — validating a JSON value against a JSON Schema, for answers to
 * requests that asked for structured output. Covers what structured-output
 * schemas use: type (one or a list), properties, patternProperties,
 * propertyNames, required, dependentRequired and dependentSchemas (or
 * draft-07's dependencies), additionalProperties (false or a schema),
 * prefixItems and items (or draft-07's items list and additionalItems),
 * contains (with minContains/maxContains), enum, const, anyOf/oneOf/allOf,
 * not, if/then/else, $ref to any JSON Pointer within the schema,
 * string/array/object/number bounds (exclusive ones too, multipleOf,
 * uniqueItems), pattern (as a POSIX ERE where it can be one), and any
 * nesting of these. Unknown keywords and format are ignored, and
 * unevaluatedProperties/unevaluatedItems, $dynamicRef and $recursiveRef not
 * judged: what cannot be judged is never held against a value. */
#ifndef LLF_SCHEMA_H
#define LLF_SCHEMA_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* 1 valid, 0 invalid (why: a short path and reason, e.g. "$.items[2].id:
 * required"), -1 when the schema itself is unusable. */
int llf_schema_validate(const cJSON *schema, const cJSON *value, char *why, size_t whylen);

#endif
