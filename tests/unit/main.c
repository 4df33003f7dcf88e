/* main.c — runs every unit suite. The logic modules call libcurl only through
 * the llf_curl table (curl_url, curl_getdate), filled here from the linked
 * libcurl. */
#include <stdlib.h>

#include "curlapi.h"
#include "t.h"

int t_pass, t_fail;
const llf_curl_api *llf_curl;

static struct { const char *k, *v; } env[32];

const char *t_env(const char *name)
{
    for (int i = 0; i < 32; i++)
        if (env[i].k && strcmp(env[i].k, name) == 0)
            return env[i].v;
    return NULL;
}

void t_setenv(const char *name, const char *value)
{
    for (int i = 0; i < 32; i++)
        if (!env[i].k || strcmp(env[i].k, name) == 0) {
            env[i].k = name;
            env[i].v = value;
            return;
        }
}

void t_clearenv(void)
{
    memset(env, 0, sizeof env);
}

#define SUITE(name) void name(void);
#include "suites.h"
#undef SUITE

int main(void)
{
    static llf_curl_api api;
    api.url = curl_url;
    api.url_cleanup = curl_url_cleanup;
    api.url_set = curl_url_set;
    api.url_get = (CURLUcode(*)(const CURLU *, CURLUPart, char **, unsigned int))curl_url_get;
    api.free = curl_free;
    api.getdate = curl_getdate;
    api.easy_strerror = curl_easy_strerror;
    llf_curl = &api;
#define SUITE(name) name();
#include "suites.h"
#undef SUITE
    printf("unit: %d passed, %d failed\n", t_pass, t_fail);
    return t_fail != 0;
}
