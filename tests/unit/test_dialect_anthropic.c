/* Golden and round-trip tests for the anthropic translators (dialect_anthropic.c). */
#include "dialect.h"
#include "t.h"

void test_dialect_anthropic(void)
{
}
