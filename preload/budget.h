/* budget.h — how many extra attempts the process may still spend.
 *
 * attempts.per_process counts every attempt beyond a call's original, over
 * the life of the process; it is enforced exactly under concurrency (an
 * atomic compare-and-swap) and starts afresh in a forked child, which is a
 * new process with its own budget. */
#ifndef LLF_BUDGET_H
#define LLF_BUDGET_H

#include <stdint.h>

typedef struct llf_budget {
    long     limit;
    uint64_t state;   /* atomic: the owner's pid << 32 | attempts it used */
} llf_budget;

void llf_budget_init(llf_budget *b, long limit);
int  llf_budget_take(llf_budget *b);   /* 1 taken, 0 spent */
void llf_budget_give(llf_budget *b);   /* one taken and not spent, back */
long llf_budget_used(llf_budget *b);

#endif
