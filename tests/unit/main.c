/* main.c — runs every unit suite. The logic modules call libcurl only through
 * the llf_curl table (curl_url, curl_getdate), filled here from the linked
 * libcurl. */
#include <dirent.h>
#include <locale.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "curlapi.h"
#include "guest.h"
#include "hooks.h"
#include "jsonmem.h"
#include "linked_curl.h"
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

static long countdown = -1;   /* allocations left before one fails; -1: none fails */

static void *failing_malloc(size_t n)
{
    if (countdown == 0)
        return NULL;
    if (countdown > 0)
        countdown--;
    return malloc(n);
}

void t_oom_sweep(cJSON *(*op)(const void *arg), const void *arg, const char *label)
{
    t_oom_sweep_then(op, NULL, arg, label);
}

void t_oom_sweep_then(cJSON *(*op)(const void *arg), void (*after)(const void *arg), const void *arg, const char *label)
{
    cJSON_Hooks h = {failing_malloc, free}, back = {llf_json_alloc, llf_json_free};
    long n = 0;
    for (; n < 100000; n++) {
        countdown = n;
        cJSON_InitHooks(&h);
        cJSON *out = op(arg);
        long left = countdown;
        countdown = -1;
        cJSON_InitHooks(&back);
        cJSON_Delete(out);
        if (after)
            after(arg);
        if (left > 0)
            break;   /* ran through without a failure */
    }
    if (n == 100000)
        fprintf(stderr, "%s: never ran through\n", label);
    CHECK(n < 100000);
}

cJSON *t_fixture(const char *relpath)
{
    char path[512];
    snprintf(path, sizeof path, "tests/fixtures/%s", relpath);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "fixture %s: missing\n", path);
        return NULL;
    }
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *j = cJSON_Parse(buf);
    if (!j)
        fprintf(stderr, "fixture %s: not JSON\n", path);
    return j;
}

int t_json_same(const cJSON *got, const cJSON *want, const char *label)
{
    if (got && want && cJSON_Compare(got, want, 1)) {
        t_pass++;
        return 1;
    }
    t_fail++;
    char *g = got ? cJSON_Print(got) : NULL, *w = want ? cJSON_Print(want) : NULL;
    fprintf(stderr, "FAIL %s:\n got:  %s\n want: %s\n", label, g ? g : "(null)", w ? w : "(null)");
    free(g);
    free(w);
    return 0;
}

static int threads_now(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

pid_t t_fork(int threads)
{
    const struct timespec tick = {0, 1000000};
    int i = 0, n;
    /* (a task leaves /proc only once its thread has left user space) */
    while ((n = threads_now()) > threads && i++ < 5000)
        nanosleep(&tick, NULL);
    if (n > threads)
        fprintf(stderr, "t_fork: %d threads, not %d, after 5 s: forking anyway\n", n, threads);
    return fork();
}

int t_numeric_comma(int on)
{
    if (!on)
        return setlocale(LC_NUMERIC, "C") ? 0 : -1;
    setenv("LOCPATH", T_LOCPATH, 1);
    if (!setlocale(LC_NUMERIC, "de_DE.UTF-8") || localeconv()->decimal_point[0] != ',') {
        fprintf(stderr, "t_numeric_comma: no de_DE locale in %s (make %s/de_DE.UTF-8/LC_NUMERIC)\n", T_LOCPATH,
                T_LOCPATH);
        return -1;
    }
    return 0;
}

#define SUITE(name) void name(void);
#include "suites.h"
#undef SUITE

int main(void)
{
    static llf_curl_api api;
    linked_curl(&api);
    llf_curl = &api;
    llf_fd_lock_use(llf_fds_hold, llf_fds_release);   /* (as the core's start does) */
#define SUITE(name) name();
#include "suites.h"
#undef SUITE
    printf("unit: %d passed, %d failed\n", t_pass, t_fail);
    return t_fail != 0;
}
