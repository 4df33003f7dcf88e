/* t.h — a minimal test harness: CHECK counts, prints failures with their
 * place, and main prints "N passed, N failed". */
#ifndef T_H
#define T_H

#include <stdio.h>
#include <string.h>
#include <sys/types.h>

extern int t_pass, t_fail;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (cond) {                                                                     \
            t_pass++;                                                                   \
        } else {                                                                        \
            t_fail++;                                                                   \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);             \
        }                                                                               \
    } while (0)

#define CHECK_STR(a, b)                                                                 \
    do {                                                                                \
        const char *_a = (a), *_b = (b);                                                \
        if (_a && _b && strcmp(_a, _b) == 0) {                                          \
            t_pass++;                                                                   \
        } else {                                                                        \
            t_fail++;                                                                   \
            fprintf(stderr, "FAIL %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,    \
                    __LINE__, #a, _a ? _a : "(null)", _b ? _b : "(null)");              \
        }                                                                               \
    } while (0)

/* Test environment for config loading: a fixed table of variables. */
const char *t_env(const char *name);
void t_setenv(const char *name, const char *value);
void t_clearenv(void);

/* A JSON fixture under tests/fixtures/ (tests run from the repository
 * root), parsed; NULL with a message when missing or invalid. */
struct cJSON;
struct cJSON *t_fixture(const char *relpath);
/* Running out of memory: op run with cJSON's 1st, 2nd... allocation
 * failing until it runs through, its result freed each time; it must fail
 * cleanly (the ASan run sees a double free or a leak). */
void t_oom_sweep(struct cJSON *(*op)(const void *arg), const void *arg, const char *label);
/* The same, with after(arg) run after each run of op, allocations working
 * again: to check what op left in arg. */
void t_oom_sweep_then(struct cJSON *(*op)(const void *arg), void (*after)(const void *arg), const void *arg,
                      const char *label);
/* Compare two JSON values; on a difference print both, labelled. */
int t_json_same(const struct cJSON *got, const struct cJSON *want, const char *label);
/* fork(), once this process runs no more than `threads` threads (the
 * test's own live ones counted), 5 s at most. The ASan runtime of gcc 12
 * has no fork handlers: a fork while another thread is inside it, such as
 * an earlier test's detached thread handing its allocator cache back as it
 * exits, leaves the allocator locked in the child, whose first malloc then
 * hangs for good (seen once in CI in test_forklock). */
pid_t t_fork(int threads);
/* LC_NUMERIC of a locale whose decimal point is a comma (de_DE, which the
 * Makefile builds into T_LOCPATH), or (0) of "C" again. 0 when set. */
int t_numeric_comma(int on);

#endif
