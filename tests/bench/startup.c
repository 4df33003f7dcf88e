/* startup.c — start-up cost of a preload: /bin/true exec'd with
 * LD_PRELOAD=A and LD_PRELOAD=B, interleaved to cancel drift, N times each;
 * prints the two medians in microseconds.
 *
 *   startup A.so B.so N */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static double once(const char *preload)
{
    char env[4096];
    snprintf(env, sizeof env, "LD_PRELOAD=%s", preload);
    char *envp[] = {env, "PATH=/usr/bin:/bin", NULL};
    char *argv[] = {"/bin/true", NULL};
    struct timespec a, b;
    pid_t pid;
    int st;
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, envp))
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
    if (argc != 4)
        return 2;
    int n = atoi(argv[3]);
    double *ta = calloc((size_t)n, sizeof *ta), *tb = calloc((size_t)n, sizeof *tb);
    for (int i = 0; i < 50; i++)
        once(argv[1]), once(argv[2]);
    for (int i = 0; i < n; i++) {
        ta[i] = once(argv[1]);
        tb[i] = once(argv[2]);
    }
    qsort(ta, (size_t)n, sizeof *ta, cmp);
    qsort(tb, (size_t)n, sizeof *tb, cmp);
    printf("a_us=%.1f b_us=%.1f\n", ta[n / 2], tb[n / 2]);
    free(ta);
    free(tb);
    return 0;
}
