/* The per-process budget: exact under concurrency, fresh in a forked child. */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "budget.h"
#include "t.h"

static llf_budget b;
static long taken[8];

static void *taker(void *arg)
{
    long *mine = arg;
    for (int i = 0; i < 2000; i++)
        *mine += llf_budget_take(&b);
    return NULL;
}

void test_budget(void)
{
    llf_budget_init(&b, 3);
    CHECK(llf_budget_take(&b) && llf_budget_take(&b) && llf_budget_take(&b));
    CHECK(!llf_budget_take(&b));
    CHECK(llf_budget_used(&b) == 3);

    llf_budget_init(&b, 5000);
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, taker, &taken[i]);
    long sum = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        sum += taken[i];
    }
    CHECK(sum == 5000);
    CHECK(llf_budget_used(&b) == 5000);

    llf_budget_init(&b, 0);
    CHECK(!llf_budget_take(&b));

    /* A child is a new process with its own budget. */
    llf_budget_init(&b, 1);
    CHECK(llf_budget_take(&b));
    pid_t pid = fork();
    if (pid == 0) {
        if (!llf_budget_take(&b) || llf_budget_take(&b))
            _exit(1);
        /* and so is a grandchild: the cached pid is refreshed at every fork */
        pid_t g = fork();
        if (g == 0)
            _exit(llf_budget_take(&b) && !llf_budget_take(&b) ? 0 : 1);
        int gs = -1;
        waitpid(g, &gs, 0);
        _exit(WIFEXITED(gs) && WEXITSTATUS(gs) == 0 && !llf_budget_take(&b) ? 0 : 1);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(!llf_budget_take(&b));   /* the parent's stays spent */

    /* One taken and not spent goes back; a child owes nothing of the parent's. */
    llf_budget_init(&b, 2);
    CHECK(llf_budget_take(&b) && llf_budget_take(&b) && !llf_budget_take(&b));
    llf_budget_give(&b);
    CHECK(llf_budget_used(&b) == 1 && llf_budget_take(&b));
    pid = fork();
    if (pid == 0) {
        llf_budget_give(&b);
        _exit(llf_budget_used(&b) == 0 ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* A child's threads racing for its first attempts get exactly its limit:
     * the pid and the count change together (apart, a thread could read the
     * parent's count before the reset, or have its attempt erased by it). A
     * guard: the old race was about one fork in 20,000. */
    int exact = 1;
    for (int k = 0; k < 200 && exact; k++) {
        llf_budget_init(&b, 4);
        for (int i = 0; i < 3; i++)
            llf_budget_take(&b);
        pid = fork();
        if (pid == 0) {
            pthread_t ct[4];
            long got[4] = {0};
            for (int i = 0; i < 4; i++)
                pthread_create(&ct[i], NULL, taker, &got[i]);
            long n = 0;
            for (int i = 0; i < 4; i++) {
                pthread_join(ct[i], NULL);
                n += got[i];
            }
            _exit(n == 4 ? 0 : 1);
        }
        waitpid(pid, &status, 0);
        exact = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    CHECK(exact);
}
