/* Fuzz target: the configuration loader, on any file contents. */
#include "config.h"
#include "fuzz_common.h"

static const char *env(const char *name)
{
    return strcmp(name, "OPENAI_API_KEY") == 0 ? "k" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    fuzz_init();
    char err[256];
    llf_config *c = NULL;
    char *s = fuzz_str(d, n);
    if (s && llf_config_load(s, n, "fuzz", NULL, NULL, env, &c, err, sizeof err) == 0)
        llf_config_free(c);
    free(s);
    return 0;
}
