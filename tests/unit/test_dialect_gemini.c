/* Golden and round-trip tests for the gemini translators (dialect_gemini.c). */
#include "dialect.h"
#include "t.h"

void test_dialect_gemini(void)
{
}
