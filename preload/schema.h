/* schema.h — validating a JSON value against a JSON Schema, for answers to
 * requests that asked for structured output. Covers what structured-output
 * schemas use: type (one or a list), properties, required, items,
 * additionalProperties (false or a schema), enum, const, anyOf/oneOf/allOf,
 * local $ref (#/$defs/…, #/definitions/…), string/array/number bounds, and
 * any nesting of these. Unknown keywords are ignored, as JSON Schema says. */
#ifndef LLF_SCHEMA_H
#define LLF_SCHEMA_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* 1 valid, 0 invalid (why: a short path and reason, e.g. "$.items[2].id:
 * required"), -1 when the schema itself is unusable. */
int llf_schema_validate(const cJSON *schema, const cJSON *value, char *why, size_t whylen);

#endif
