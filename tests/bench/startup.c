/* startup.c — start-up cost of a preload: a program exec'd with
 * LD_PRELOAD=A and LD_PRELOAD=B, interleaved (in turns first) to cancel drift
 * and order, N times each;
 * prints the two medians in microseconds.
 *
 *   startup A.so B.so N              /bin/true, in an empty environment
 *   startup A.so B.so N PROG ARG...  PROG, in this environment (its output
 *                                    to /dev/null) */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static char **prog = (char *[]){"/bin/true", NULL};
static int own_env;

static double once(const char *preload)
{
    char env[4096];
    snprintf(env, sizeof env, "LD_PRELOAD=%s", preload);
    char *bare[] = {env, "PATH=/usr/bin:/bin", NULL};
    char *mine[256];
    size_t k = 0;
    mine[k++] = env;
    for (char **e = environ; own_env && *e && k < 255; e++)
        if (strncmp(*e, "LD_PRELOAD=", 11) != 0)
            mine[k++] = *e;
    mine[k] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    struct timespec a, b;
    pid_t pid;
    int st;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = posix_spawn(&pid, prog[0], &fa, NULL, prog, own_env ? mine : bare);
    posix_spawn_file_actions_destroy(&fa);
    if (rc)
        return -1;
    waitpid(pid, &st, 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    if (argc > 4) {
        prog = argv + 4;
        own_env = 1;
    }
    int n = atoi(argv[3]);
    double *ta = calloc((size_t)n, sizeof *ta), *tb = calloc((size_t)n, sizeof *tb);
    for (int i = 0; i < 50; i++)
        once(argv[1]), once(argv[2]);
    /* (which goes first alternates: the second of a pair finds the first's
     * pages and caches warm) */
    for (int i = 0; i < n; i++) {
        if (i & 1) {
            tb[i] = once(argv[2]);
            ta[i] = once(argv[1]);
        } else {
            ta[i] = once(argv[1]);
            tb[i] = once(argv[2]);
        }
    }
    qsort(ta, (size_t)n, sizeof *ta, cmp);
    qsort(tb, (size_t)n, sizeof *tb, cmp);
    printf("a_us=%.1f b_us=%.1f\n", ta[n / 2], tb[n / 2]);
    free(ta);
    free(tb);
    return 0;
}
