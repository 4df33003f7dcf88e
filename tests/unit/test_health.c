/* The breaker's states, with a fake clock, shared through a file. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "health.h"
#include "t.h"

void test_health(void)
{
    char path[] = "/tmp/llf-health-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    unlink(path);   /* created fresh, 0600, by the library */
    llf_health_cfg cfg = {2, 1000, 1};
    llf_health_init(&cfg, path);
    CHECK(llf_health_allow("p", "m", 0));
    llf_health_report("p", "m", 0, 10);
    CHECK(llf_health_allow("p", "m", 20));            /* one failure: still closed */
    llf_health_report("p", "m", 0, 30);                /* two: open until 1030 */
    CHECK(!llf_health_allow("p", "m", 40) && !llf_health_allow("p", "m", 1029));
    CHECK(llf_health_allow("p", "other-model", 40));  /* per provider/model */
    CHECK(llf_health_allow("p", "m", 1031));          /* half-open: one probe */
    CHECK(!llf_health_allow("p", "m", 1032));         /* the others keep skipping */
    llf_health_report("p", "m", 0, 1040);              /* the probe failed: open again */
    CHECK(!llf_health_allow("p", "m", 1500) && llf_health_allow("p", "m", 2041));
    llf_health_report("p", "m", 1, 2050);              /* the probe succeeded: closed */
    CHECK(llf_health_allow("p", "m", 2051) && llf_health_allow("p", "m", 2052));
    CHECK(llf_health_is_shared());
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    unlink(path);
    llf_health_cfg off = {0, 1000, 1};
    llf_health_init(&off, NULL);
    llf_health_report("p", "m", 0, 0);
    llf_health_report("p", "m", 0, 0);
    CHECK(llf_health_allow("p", "m", 1));            /* failures 0: no breaker */

    /* the ratio budget: full burst at first, then a share of each call */
    llf_retry_budget_init(0.5, 2);
    llf_retry_budget_earn();
    CHECK(llf_retry_budget_spend() && llf_retry_budget_spend());
    CHECK(!llf_retry_budget_spend());
    llf_retry_budget_earn();
    CHECK(!llf_retry_budget_spend());                  /* half a retry saved */
    llf_retry_budget_earn();
    CHECK(llf_retry_budget_spend() && !llf_retry_budget_spend());
    for (int i = 0; i < 100; i++)
        llf_retry_budget_earn();                       /* saving stops at the burst */
    CHECK(llf_retry_budget_spend() && llf_retry_budget_spend() && !llf_retry_budget_spend());
    llf_retry_budget_init(0, 0);
    CHECK(llf_retry_budget_spend());                   /* ratio 0: no ratio budget */
}
