/* budget.c — the per-process attempt budget (see budget.h). */
#include "budget.h"

#include <unistd.h>

void llf_budget_init(llf_budget *b, long limit)
{
    b->limit = limit;
    __atomic_store_n(&b->used, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&b->pid, (int)getpid(), __ATOMIC_SEQ_CST);
}

static void fork_check(llf_budget *b)
{
    int me = (int)getpid();
    int owner = __atomic_load_n(&b->pid, __ATOMIC_ACQUIRE);
    if (owner != me && __atomic_compare_exchange_n(&b->pid, &owner, me, 0, __ATOMIC_SEQ_CST,
                                                   __ATOMIC_SEQ_CST))
        __atomic_store_n(&b->used, 0, __ATOMIC_SEQ_CST);
}

int llf_budget_take(llf_budget *b)
{
    fork_check(b);
    long used = __atomic_load_n(&b->used, __ATOMIC_ACQUIRE);
    do {
        if (used >= b->limit)
            return 0;
    } while (!__atomic_compare_exchange_n(&b->used, &used, used + 1, 1, __ATOMIC_SEQ_CST,
                                          __ATOMIC_ACQUIRE));
    return 1;
}

long llf_budget_used(llf_budget *b)
{
    fork_check(b);
    return __atomic_load_n(&b->used, __ATOMIC_ACQUIRE);
}
