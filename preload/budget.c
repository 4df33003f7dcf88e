/* budget.c — the per-process attempt budget (see budget.h).
 *
 * The owner's pid and the count share one 64-bit word, changed by one
 * compare-and-swap: a forked child sees another pid and starts from zero in
 * the same step that counts its first attempt. (With the pid and the count
 * apart, a second thread of the child could read the parent's count between
 * the pid's swap and the count's reset, or have its attempt erased by it.) */
#include "budget.h"

#include "hubutil.h"

#define COUNT_MAX 0xffffffffu

static uint64_t word(uint32_t pid, uint32_t used)
{
    return (uint64_t)pid << 32 | used;
}

/* This process's count in w: 0 when w is another process's. */
static uint32_t mine(uint64_t w, uint32_t me)
{
    return (uint32_t)(w >> 32) == me ? (uint32_t)w : 0;
}

/* (the pid without a system call: llf_self_pid) */
static uint32_t self(void)
{
    return (uint32_t)llf_self_pid();
}

void llf_budget_init(llf_budget *b, long limit)
{
    b->limit = limit;
    __atomic_store_n(&b->state, word(self(), 0), __ATOMIC_SEQ_CST);
}

/* This process's count moved by d (+1 or -1) within [0, limit]: 1 moved. */
static int step(llf_budget *b, int d)
{
    uint32_t me = self();
    uint64_t w = __atomic_load_n(&b->state, __ATOMIC_ACQUIRE);
    uint32_t used;
    do {
        used = mine(w, me);
        if (d > 0 ? (long long)used >= (long long)b->limit || used == COUNT_MAX
                  : used == 0)   /* (taken in the parent: the child owes nothing) */
            return 0;
    } while (!__atomic_compare_exchange_n(&b->state, &w, word(me, used + (uint32_t)d), 1, __ATOMIC_SEQ_CST,
                                          __ATOMIC_ACQUIRE));
    return 1;
}

int llf_budget_take(llf_budget *b)
{
    return step(b, 1);
}

void llf_budget_give(llf_budget *b)
{
    step(b, -1);
}

long llf_budget_used(llf_budget *b)
{
    return (long)mine(__atomic_load_n(&b->state, __ATOMIC_ACQUIRE), self());
}
