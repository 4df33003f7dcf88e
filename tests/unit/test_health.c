/* The breaker's states, with a fake clock, shared through a file. */
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "health.h"
#include "t.h"

/* The file's layout, as health.c writes it: a 32-byte header (magic,
 * version, slots, the budget's value and stamp), then 512 slots of 56 bytes
 * (key; then, each under the top 23 bits of the key that wrote it, the
 * failures, the last one's time, open_until, the opening cooldown, the
 * longest lease, all in 41 bits; then the probe: its lease's end << 22 |
 * the prober's pid). */
#define HDR 32
#define SLOT 56
#define SIZE (HDR + 512 * SLOT)
#define FAILS 8
#define OPEN_UNTIL 24
#define PROBE_AT 48
#define VAL_MASK ((1ULL << 41) - 1)
/* bits no key has: a claim in progress marks its slot's key there */
#define MARK_MASK (((1ULL << 24) - 1) << 17)

static char *fresh_path(void)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/llf-health-XXXXXX");
    int fd = mkstemp(path);
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    return path;
}

/* The offset of the one slot in use (the test uses one provider/model). */
static long used_slot(const char *path)
{
    int fd = open(path, O_RDONLY);
    long at = -1;
    for (int i = 0; i < 512 && fd >= 0 && at < 0; i++) {
        uint64_t key = 0;
        if (pread(fd, &key, sizeof key, HDR + (off_t)i * SLOT) == (ssize_t)sizeof key && key)
            at = HDR + (long)i * SLOT;
    }
    if (fd >= 0)
        close(fd);
    return at;
}

static void poke(const char *path, long off, const void *v, size_t n)
{
    int fd = open(path, O_WRONLY);
    if (fd >= 0) {
        CHECK(pwrite(fd, v, n, off) == (ssize_t)n);
        close(fd);
    }
}

/* Writes v into the word at field of the slot at `at`, under its key's tag. */
static void poke_val(const char *path, long at, int field, uint64_t v)
{
    uint64_t key = 0;
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0 && pread(fd, &key, 8, at) == 8);
    if (fd >= 0)
        close(fd);
    uint64_t w = (key >> 41) << 41 | (v & VAL_MASK);
    poke(path, at + field, &w, 8);
}

/* What a damaged or stale file holds is bounded; an old layout of ours is
 * replaced; a probe holds its lease as long as an attempt may take, and one
 * not sent is released. */
static void test_health_file(void)
{
    /* an older layout of ours (llfhelt1, another size; llfhelt2, a probe's
     * lease without its pid; llfhelt3, no cooldown beside open_until;
     * llfhelt4, slots that could not be taken over; llfhelt5, keys without
     * room for a claim's mark): replaced by a fresh file */
    char *path = fresh_path();
    llf_health_cfg cfg = {2, 1000, 1, 5000};
    static const uint64_t olds[] = {0x6c6c6668656c7431ULL, 0x6c6c6668656c7432ULL, 0x6c6c6668656c7433ULL,
                                    0x6c6c6668656c7434ULL, 0x6c6c6668656c7435ULL};
    for (int k = 0; k < 5; k++) {
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        CHECK(fd >= 0 && ftruncate(fd, k ? 32 + 512 * 32 : 16400) == 0 && pwrite(fd, &olds[k], 8, 0) == 8);
        close(fd);
        llf_health_init(&cfg, path);
        CHECK(llf_health_is_shared());
        struct stat st;
        uint64_t magic = 0;
        fd = open(path, O_RDONLY);
        CHECK(stat(path, &st) == 0 && st.st_size == SIZE && (st.st_mode & 0777) == 0600);
        CHECK(fd >= 0 && pread(fd, &magic, 8, 0) == 8 && magic == 0x6c6c6668656c7436ULL);
        close(fd);
    }

    /* the lease: a probe is out as long as an attempt may take (5000 > the
     * cooldown); released when it was not sent, the next caller probes */
    llf_health_report("p", "m", 0, 0);
    llf_health_report("p", "m", 0, 0);                  /* open until 1000 */
    long at = used_slot(path);
    CHECK(at > 0);
    CHECK(llf_health_allow("p", "m", 1001) == 2);      /* the probe */
    CHECK(llf_health_allow("p", "m", 2500) == 0);      /* still out at twice the cooldown */
    llf_health_release("p", "m");
    CHECK(llf_health_allow("p", "m", 2600) == 2);      /* the next one probes */

    /* a failure while open opens it again at once, whatever the count says
     * (a success that raced the opening failure reset it) */
    poke_val(path, at, FAILS, 0);
    llf_health_report("p", "m", 0, 3000);
    CHECK(llf_health_allow("p", "m", 3001) == 0 && llf_health_allow("p", "m", 3999) == 0);

    /* a count at the top of its range still opens it (no signed wrap) */
    llf_health_report("p", "m", 1, 4000);               /* closed */
    poke_val(path, at, FAILS, VAL_MASK);
    llf_health_report("p", "m", 0, 4100);
    CHECK(llf_health_allow("p", "m", 4101) == 0);

    /* a time further ahead than a cooldown (another boot's clock, damage)
     * counts as past: a probe, not a breaker open for ever */
    int64_t far = (int64_t)1 << 50;
    poke_val(path, at, OPEN_UNTIL, VAL_MASK);
    CHECK(llf_health_allow("p", "m", 4200) == 2);
    poke_val(path, at, OPEN_UNTIL, VAL_MASK);
    poke(path, at + PROBE_AT, &far, 8);                 /* and a probe "out" until then */
    CHECK(llf_health_allow("p", "m", 4300) == 2);

    /* a prober that died (killed, a job's timeout) holds no lease: the next
     * caller probes at once, not when the lease would have ended; a live
     * one's holds */
    llf_health_report("p", "m", 0, 10000);
    llf_health_report("p", "m", 0, 10000);              /* open until 11000 */
    int ready[2], go[2];
    CHECK(pipe(ready) == 0 && pipe(go) == 0);
    pid_t kid = t_fork(1);
    if (kid == 0) {
        char b = llf_health_allow("p", "m", 11001) == 2 ? 'y' : 'n';
        if (write(ready[1], &b, 1) != 1 || read(go[0], &b, 1) < 0)
            _exit(1);
        _exit(0);
    }
    char took = 0;
    CHECK(kid > 0 && read(ready[0], &took, 1) == 1 && took == 'y');   /* the child probes */
    CHECK(llf_health_allow("p", "m", 11002) == 0);      /* alive: its lease holds */
    siginfo_t info;
    CHECK(write(go[1], "x", 1) == 1 && waitid(P_PID, (id_t)kid, &info, WEXITED | WNOWAIT) == 0);
    CHECK(llf_health_allow("p", "m", 11003) == 2);      /* gone, a zombie yet: this one probes */
    CHECK(llf_health_allow("p", "m", 11004) == 0);      /* (and holds it itself) */
    CHECK(waitpid(kid, NULL, 0) == kid);
    llf_health_report("p", "m", 1, 11005);
    close(ready[0]), close(ready[1]), close(go[0]), close(go[1]);

    /* a total meant as "never" (beyond the lease word's 41 bits of time):
     * still one probe at a time */
    llf_health_cfg never = {2, 1000, 1, 3000000000000L};
    llf_health_init(&never, path);
    llf_health_report("q", "m", 0, 20000);
    llf_health_report("q", "m", 0, 20000);
    CHECK(llf_health_allow("q", "m", 21001) == 2 && llf_health_allow("q", "m", 21002) == 0);
    llf_health_init(&cfg, path);

    /* the budget's value, damaged either way: within [0, burst] when read */
    llf_retry_budget_init(1, 2);
    llf_retry_budget_earn();                            /* (the cell is set up) */
    int64_t big = INT64_MAX, small = INT64_MIN;
    poke(path, 16, &big, 8);
    llf_retry_budget_earn();
    CHECK(llf_retry_budget_spend() && llf_retry_budget_spend() && !llf_retry_budget_spend());
    poke(path, 16, &small, 8);
    CHECK(!llf_retry_budget_left(1));
    llf_retry_budget_earn();
    CHECK(llf_retry_budget_spend() && !llf_retry_budget_spend());
    /* ...and its mark damaged (neither 0, 1 nor 2): filled again, once,
     * not left so (every call had waited on it) */
    int64_t odd = 7, mark = 0;
    poke(path, 24, &odd, 8);
    CHECK(llf_retry_budget_spend() && llf_retry_budget_spend() && !llf_retry_budget_spend());
    int mfd = open(path, O_RDONLY);
    CHECK(mfd >= 0 && pread(mfd, &mark, 8, 24) == 8 && mark == 1);
    if (mfd >= 0)
        close(mfd);
    unlink(path);

    /* "practically unlimited" settings stay so (no overflow on conversion) */
    llf_health_cfg off = {0, 1000, 0, 0};
    llf_health_init(&off, NULL);
    llf_retry_budget_init(1e300, 1e18);
    int spent = 0;
    for (int i = 0; i < 1000; i++)
        spent += llf_retry_budget_spend();
    llf_retry_budget_earn();
    CHECK(spent == 1000 && llf_retry_budget_left(1));
    /* the strictest ratio is not none: under 0.0005 it counts as 0.001 */
    llf_health_init(&off, NULL);                        /* (a fresh budget) */
    llf_retry_budget_init(0.0004, 1);
    CHECK(llf_retry_budget_spend() && !llf_retry_budget_spend());   /* the burst of one */
    for (int i = 0; i < 999; i++)
        llf_retry_budget_earn();
    CHECK(!llf_retry_budget_spend());
    llf_retry_budget_earn();
    CHECK(llf_retry_budget_spend() && !llf_retry_budget_spend());   /* one in a thousand calls */
    llf_retry_budget_init(0, 0);
}

/* FNV-1a of provider/model, as health.c keys its slots. */
static uint64_t key_of(const char *provider, const char *model)
{
    uint64_t h = 14695981039346656037ULL;
    for (const char *c = provider; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    h = (h ^ '/') * 1099511628211ULL;
    for (const char *c = model; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    h &= ~MARK_MASK;
    return h ? h : 1;
}

static char said[4096];   /* what warnings() read last */

/* What fn writes on stderr (kept in said), the number of lines that start
 * with `start`. */
static int warnings(const char *start, void (*fn)(void))
{
    char path[] = "/tmp/llf-health-err-XXXXXX", *buf = said;
    int fd = mkstemp(path), saved = dup(2);
    CHECK(fd >= 0 && saved >= 0 && dup2(fd, 2) == 2);
    fn();
    dup2(saved, 2);
    close(saved);
    ssize_t n = pread(fd, buf, sizeof said - 1, 0);
    close(fd);
    unlink(path);
    int lines = 0;
    buf[n > 0 ? n : 0] = 0;
    for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        lines += strncmp(l, start, strlen(start)) == 0;
    return lines;
}

static char names[10][16];
/* a breaker id (config.h) whose base URL holds a password */
#define P "p 1 http://u:pw-0123456789@h:1/v1"

static void fail_9(void)
{
    llf_health_report(P, names[9], 0, 500);
    llf_health_report(P, names[9], 0, 501);
}

/* The table does not fill for good: a slot whose breaker holds nothing (a
 * success closed it), or whose state is long past, is taken over by
 * another provider/model when every slot it may have is in use; one with
 * a probe out is not. No slot at all: said once, not silently. */
static void test_health_slots(void)
{
    /* ten models whose slots are sought in the same eight places */
    int n = 0;
    for (int i = 0; n < 10; i++) {
        char m[16];
        snprintf(m, sizeof m, "m-%d", i);
        if (key_of(P, m) % 512 == key_of(P, "m-0") % 512)
            memcpy(names[n++], m, sizeof m);
    }
    char *path = fresh_path();
    llf_health_cfg cfg = {1, 1000, 1, 5000};
    llf_health_init(&cfg, path);
    for (int i = 0; i < 8; i++)
        llf_health_report(P, names[i], 0, 0);          /* eight open until 1000 */
    CHECK(llf_health_allow(P, names[7], 1) == 0);

    /* every place in use, none idle: the ninth gets no breaker, said once */
    CHECK(warnings("llmfallback: health memory: no room for the breaker of model m-", fail_9) == 1);
    CHECK(strstr(said, "m-") && strstr(said, " (p 1 http://h:1/v1): ") && !strstr(said, "pw-0123456789"));
    CHECK(llf_health_allow(P, names[9], 502) == 1);
    CHECK(warnings("llmfallback: health memory", fail_9) == 0);

    /* one closed by a success holds nothing: taken over (its model starts
     * afresh, as a model never seen) */
    llf_health_report(P, names[0], 1, 600);
    llf_health_report(P, names[8], 0, 700);
    CHECK(llf_health_allow(P, names[8], 701) == 0 && llf_health_open(P, names[8]));
    CHECK(llf_health_allow(P, names[0], 701) == 1 && !llf_health_open(P, names[0]));
    for (int i = 1; i < 8; i++)
        CHECK(llf_health_allow(P, names[i], 702) == 0);   /* the others kept */

    /* long past (ten minutes since its last failure and its end), and no
     * probe out: taken over */
    llf_health_report(P, names[9], 0, 1000 + 599999);
    CHECK(llf_health_allow(P, names[9], 1000 + 599999) == 1);   /* not yet */
    for (int i = 1; i < 8; i++)
        CHECK(llf_health_allow(P, names[i], 601000) == 2);      /* probes out */
    llf_health_report(P, names[9], 0, 601000);
    CHECK(llf_health_allow(P, names[9], 601001) == 1);          /* none idle */
    llf_health_release(P, names[3]);
    llf_health_report(P, names[9], 0, 601002);
    CHECK(llf_health_allow(P, names[9], 601003) == 0);          /* names[3]'s slot */
    CHECK(llf_health_allow(P, names[3], 601003) == 1);
    CHECK(llf_health_allow(P, names[2], 601003) == 0);          /* its probe still out */

    /* what another key wrote in a slot before it was taken over (a process
     * still updating it for the key it had) is not the new key's */
    long at = -1;
    int fd = open(path, O_RDONLY);
    for (int i = 0; i < 512 && fd >= 0 && at < 0; i++) {
        uint64_t k = 0;
        if (pread(fd, &k, 8, HDR + (off_t)i * SLOT) == 8 && k == key_of(P, names[9]))
            at = HDR + (long)i * SLOT;
    }
    if (fd >= 0)
        close(fd);
    CHECK(at > 0);
    llf_health_report(P, names[9], 1, 601004);                   /* closed */
    uint64_t tag = key_of(P, names[3]) >> 41 << 41, fails = tag | 5, open_far = tag | 602000;
    poke(path, at + FAILS, &fails, 8);
    poke(path, at + OPEN_UNTIL, &open_far, 8);
    CHECK(llf_health_allow(P, names[9], 601005) == 1 && !llf_health_open(P, names[9]));
    llf_health_report(P, names[9], 0, 601006);                   /* one failure of its own: open */
    CHECK(llf_health_allow(P, names[9], 601007) == 0);
    unlink(path);
}

#undef P
#define P2 "p 1 http://u:pw-0123456789@h:1/v1"

/* Processes of other settings sharing the file (switched to in turn, as
 * each process of its own settings would use it). */
static void test_health_mixed(void)
{
    char *path = fresh_path();
    /* the ratio budget: a process with a smaller burst spends at most its
     * burst of it, and never cuts what one with a larger burst saved */
    llf_health_cfg cfg = {1000000, 1000, 1, 60000};
    llf_health_init(&cfg, path);
    llf_retry_budget_init(0.1, 10);                     /* A: starts full, 10 */
    llf_retry_budget_earn();
    for (int i = 0; i < 3; i++)
        CHECK(llf_retry_budget_spend());                /* 7 left */
    llf_health_init(&cfg, path);
    llf_retry_budget_init(0.1, 1);                      /* B */
    llf_retry_budget_earn();                            /* (not raised past 7, nor cut to 1) */
    CHECK(llf_retry_budget_spend());                    /* 6 left */
    llf_health_init(&cfg, path);
    llf_retry_budget_init(0.1, 10);                     /* A again */
    int spent = 0;
    while (spent < 20 && llf_retry_budget_spend())
        spent++;
    CHECK(spent == 6);
    llf_health_init(&cfg, path);
    llf_retry_budget_init(1, 1);                        /* B earns up to its own burst */
    llf_retry_budget_earn();
    llf_retry_budget_earn();
    CHECK(llf_retry_budget_spend() && !llf_retry_budget_spend());
    unlink(path);

    /* cooldowns: B (2 s) respects the open_until of A (60 s), and its
     * failure does not shorten it */
    path = fresh_path();
    llf_health_cfg a = {1, 60000, 1, 5000}, b = {1, 2000, 1, 5000};
    llf_health_init(&a, path);
    llf_health_report("p", "m", 0, 1000);               /* open until 61000 */
    llf_health_init(&b, path);
    CHECK(llf_health_allow("p", "m", 5000) == 0);
    llf_health_report("p", "m", 0, 5000);
    CHECK(llf_health_allow("p", "m", 8000) == 0 && llf_health_allow("p", "m", 60000) == 0);
    CHECK(llf_health_open("p", "m"));
    llf_health_init(&a, path);
    CHECK(llf_health_allow("p", "m", 8000) == 0 && llf_health_allow("p", "m", 61001) == 2);
    llf_health_report("p", "m", 1, 61002);              /* closed: B's own cooldown again */
    CHECK(!llf_health_open("p", "m"));
    llf_health_init(&b, path);
    llf_health_report("p", "m", 0, 70000);              /* open until 72000 */
    CHECK(llf_health_allow("p", "m", 71000) == 0 && llf_health_allow("p", "m", 72001) == 2);
    unlink(path);

    /* leases: B (total 5 s) respects the probe of A (total 10 min), whose
     * lease the file bounds beside it; a lease beyond that bound and the
     * minute another caller's clock may be behind (damage) still counts as
     * past */
    path = fresh_path();
    llf_health_cfg la = {1, 1000, 1, 600000}, lb = {1, 1000, 1, 5000};
    llf_health_init(&la, path);
    llf_health_report("p", "m", 0, 0);                  /* open until 1000 */
    CHECK(llf_health_allow("p", "m", 1001) == 2);       /* A's probe, out until 601001 */
    llf_health_init(&lb, path);
    CHECK(llf_health_allow("p", "m", 7000) == 0 && llf_health_allow("p", "m", 601000) == 0);
    CHECK(llf_health_allow("p", "m", 601001) == 2);     /* its end: B probes */
    long at = used_slot(path);
    uint64_t beyond = (uint64_t)(602000 + 660001) << 22 | (uint64_t)getppid();   /* (a live pid) */
    poke(path, at + PROBE_AT, &beyond, 8);
    CHECK(llf_health_allow("p", "m", 602000) == 2);
    llf_health_report("p", "m", 1, 602001);
    unlink(path);

    /* no limit on an attempt's total: the probe's lease lasts until it is
     * reported or released (or its process ends), not one cooldown */
    path = fresh_path();
    llf_health_cfg open_ended = {1, 1000, 1, 0};
    llf_health_init(&open_ended, path);
    llf_health_report("p", "m", 0, 0);
    CHECK(llf_health_allow("p", "m", 1001) == 2);
    CHECK(llf_health_allow("p", "m", 2500) == 0 && llf_health_allow("p", "m", 3600000) == 0);
    llf_health_release("p", "m");
    CHECK(llf_health_allow("p", "m", 3600001) == 2);
    /* but an hour at most: a live pid that is not the prober's (reused, or
     * of another pid namespace) does not keep the provider skipped for ever */
    CHECK(llf_health_allow("p", "m", 3600001 + 3599999) == 0 && llf_health_allow("p", "m", 3600001 + 3600000) == 2);
    llf_health_release("p", "m");
    llf_health_cfg never2 = {1, 1000, 1, 3000000000000L};   /* (a total meant as never: the same hour) */
    llf_health_init(&never2, path);
    CHECK(llf_health_allow("p", "m", 10000000) == 2);
    CHECK(llf_health_allow("p", "m", 10000000 + 3599999) == 0 && llf_health_allow("p", "m", 10000000 + 3600000) == 2);
    llf_health_release("p", "m");
    unlink(path);
    llf_health_cfg off = {0, 1000, 0, 0};
    llf_health_init(&off, NULL);
    llf_retry_budget_init(0, 0);
}

/* A provider/model whose slot was taken over and which comes back starts
 * afresh, as README says: what it had left in the slot (a breaker long
 * past, under its own tag) is not its state when it takes the slot again,
 * nor that of another key whose tag is the same. Its old open_until made
 * one failure reopen the breaker for a whole cooldown. */
static void test_health_return(void)
{
    char *path = fresh_path();
    llf_health_cfg cfg = {2, 1000, 1, 5000};
    llf_health_init(&cfg, path);
    for (int i = 0; i < 8; i++) {
        llf_health_report(P2, names[i], 0, 0);
        llf_health_report(P2, names[i], 0, 0);           /* eight open until 1000 */
    }
    llf_health_report(P2, names[8], 0, 700000);          /* takes names[0]'s, long past */
    CHECK(!llf_health_open(P2, names[0]));
    llf_health_report(P2, names[0], 0, 1400000);         /* and names[0] takes it back */
    CHECK(llf_health_allow(P2, names[0], 1400001) == 1 && !llf_health_open(P2, names[0]));
    llf_health_report(P2, names[0], 0, 1400002);         /* its second failure: open */
    CHECK(llf_health_allow(P2, names[0], 1400003) == 0);

    /* nor does a key of the same tag that takes the slot (names[9]'s tag
     * stands in for names[0]'s, as if they were the same) */
    long at = used_slot(path);                           /* (names[0]'s: the first) */
    llf_health_report(P2, names[0], 1, 1400004);         /* closed: holds nothing */
    uint64_t open_far = key_of(P2, names[9]) >> 41 << 41 | 1401000;
    poke(path, at + OPEN_UNTIL, &open_far, 8);
    llf_health_report(P2, names[9], 0, 1400005);         /* takes it (the others are long past) */
    CHECK(llf_health_allow(P2, names[9], 1400006) == 1);
    unlink(path);
}

/* The seam in health.c's claims: what another process does at that point. */
void llf_health_seam(int at, uint64_t key);
static void (*seam_act)(int at, uint64_t key);
void llf_health_seam(int at, uint64_t key)
{
    if (seam_act)
        seam_act(at, key);
}

static char *seam_path;
static uint64_t seam_key;

/* How many slots of the file hold key. */
static int slots_of(const char *path, uint64_t key)
{
    int fd = open(path, O_RDONLY), n = 0;
    for (int i = 0; i < 512 && fd >= 0; i++) {
        uint64_t k = 0;
        n += pread(fd, &k, 8, HDR + (off_t)i * SLOT) == 8 && k == key;
    }
    if (fd >= 0)
        close(fd);
    return n;
}

/* Before our claim: another process of the same key claims its sixth
 * place (an idle one) and counts a failure there. */
static void claim_later(int at, uint64_t key)
{
    if (at != 0 || key != seam_key)
        return;
    seam_act = NULL;
    long off = HDR + (long)((key + 5) % 512) * SLOT;
    uint64_t tag = key >> 41 << 41, one = tag | 1, when = tag | 700000;
    poke(seam_path, off + FAILS, &one, 8);
    poke(seam_path, off + 16, &when, 8);
    poke(seam_path, off, &key, 8);
}

/* Right after our claim: another key takes the place, which holds
 * nothing yet. */
static void take_at_once(int at, uint64_t key)
{
    if (at != 1 || key != seam_key)
        return;
    seam_act = NULL;
    uint64_t other = key_of(P2, "another-model");
    poke(seam_path, HDR + (long)(key % 512) * SLOT, &other, 8);
}

static void fail_8(void)
{
    llf_health_report(P2, names[8], 0, 700000);
}

/* A fresh file (seam_path) under cfg whose eight places for names[0..8]
 * hold eight other models, each holding nothing (a failure, then a
 * success). */
static void eight_idle(const llf_health_cfg *cfg)
{
    seam_path = fresh_path();
    llf_health_init(cfg, seam_path);
    for (int i = 0; i < 8; i++) {
        llf_health_report(P2, names[i], 0, 0);
        llf_health_report(P2, names[i], 1, 1);
    }
}

/* Two processes claiming two places for one key at once: the place that
 * holds something is kept (here the other's, with its failure: freed for
 * being later in probe order, it was lost, and two failures counted one),
 * and the other freed, not left with what it took (it outlived the key's
 * next success, and came back when the first place was taken over: one
 * failure of two opened the breaker). A place taken from us right after our claim
 * (it held nothing yet) is claimed again elsewhere: the failure was
 * dropped, and "no room" said, with places to spare. */
static void test_health_claims(void)
{
    llf_health_cfg cfg = {2, 1000, 1, 5000};
    eight_idle(&cfg);
    seam_key = key_of(P2, names[8]);
    seam_act = claim_later;
    llf_health_report(P2, names[8], 0, 700000);
    CHECK(seam_act == NULL && slots_of(seam_path, seam_key) == 1);
    CHECK(llf_health_open(P2, names[8]));                 /* the other's failure kept, and ours: two */
    llf_health_report(P2, names[8], 1, 700001);
    llf_health_report(P2, names[9], 0, 700002);
    llf_health_report(P2, names[8], 0, 700003);          /* one failure since its success */
    CHECK(llf_health_allow(P2, names[8], 700004) == 1);
    unlink(seam_path);

    llf_health_cfg one = {1, 1000, 1, 5000};
    eight_idle(&one);
    seam_act = take_at_once;
    CHECK(warnings("llmfallback: health memory", fail_8) == 0 && seam_act == NULL);
    CHECK(llf_health_allow(P2, names[8], 700001) == 0);
    unlink(seam_path);
    llf_health_cfg off = {0, 1000, 0, 0};
    llf_health_init(&off, NULL);
}

/* The key word of the slot at `at`. */
static uint64_t key_at(const char *path, long at)
{
    uint64_t k = 0;
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0 && pread(fd, &k, 8, at) == 8);
    if (fd >= 0)
        close(fd);
    return k;
}

/* As the former key of the place our claim judged idle (names[0], in the
 * first of the eight), at seam point seam_at: two failures, which open its
 * breaker. */
static int seam_at;
static void former_fails(int at, uint64_t key)
{
    if (at != seam_at || key != seam_key)
        return;
    seam_act = NULL;
    llf_health_report(P2, names[0], 0, 700000);
    llf_health_report(P2, names[0], 0, 700000);
}

/* As another process's claim of the place a failure's last write (its
 * time, after its count) is about to go to: its mark in the key. */
static int writes_seen;
static void marked_meanwhile(int at, uint64_t key)
{
    if (at != 4 || key != seam_key || ++writes_seen < 2)
        return;
    seam_act = NULL;
    uint64_t marked = key | 1ULL << 17;
    poke(seam_path, HDR + (long)(key % 512) * SLOT, &marked, 8);
}

/* A claim of a place whose key writes to it between the claim's judging
 * it idle and the claim: the claim is called off, and the key keeps what
 * it wrote. (It was cleared: a breaker opened, or failures counted, just
 * before another key took the place, were lost.) Whether the key writes
 * before our mark (the second judging sees it) or after (its write sees
 * the mark and calls the claim off); and a mark made between a write's
 * look at the key and the write itself is called off after it. */
static void test_health_claim_off(void)
{
    llf_health_cfg cfg = {2, 1000, 1, 5000};
    int points[] = {0, 3};
    for (int i = 0; i < 2; i++) {
        eight_idle(&cfg);
        long first = HDR + (long)(key_of(P2, names[0]) % 512) * SLOT;
        CHECK(key_at(seam_path, first) == key_of(P2, names[0]));
        seam_key = key_of(P2, names[8]);
        seam_at = points[i];
        seam_act = former_fails;
        llf_health_report(P2, names[8], 0, 700000);
        CHECK(seam_act == NULL);
        CHECK(key_at(seam_path, first) == key_of(P2, names[0]) && llf_health_open(P2, names[0]));
        CHECK(llf_health_allow(P2, names[0], 700001) == 0);
        CHECK(slots_of(seam_path, seam_key) == 1);      /* names[8]'s failure, in another place */
        llf_health_report(P2, names[8], 0, 700002);
        CHECK(llf_health_open(P2, names[8]));
        unlink(seam_path);
    }

    eight_idle(&cfg);
    seam_key = key_of(P2, names[0]);
    writes_seen = 0;
    seam_act = marked_meanwhile;
    llf_health_report(P2, names[0], 0, 700000);
    CHECK(seam_act == NULL);
    CHECK(key_at(seam_path, HDR + (long)(seam_key % 512) * SLOT) == seam_key);
    llf_health_report(P2, names[0], 0, 700001);
    CHECK(llf_health_open(P2, names[0]));
    unlink(seam_path);
    llf_health_cfg off = {0, 1000, 0, 0};
    llf_health_init(&off, NULL);
}

/* As the healthy former key of the place being claimed (names[0]), at
 * every claim's mark: a success. */
static void former_succeeds(int at, uint64_t key)
{
    if (at == 3 && key == seam_key)
        llf_health_report(P2, names[0], 1, 700000);
}

/* As another thread of ours, between our claim and its clearing: a
 * failure of ours, in the place it finds ours already. */
static void ours_fails(int at, uint64_t key)
{
    if (at != 5 || key != seam_key)
        return;
    seam_act = NULL;
    llf_health_report(P2, names[8], 0, 700000);
}

static void fail_8_early(void)
{
    llf_health_report(P2, names[8], 0, 1999999);
}

/* A claim and the writes of others at the same time, judged right: a
 * success of a provider whose breaker holds nothing changes nothing and
 * calls off no claim (each one was, until "no room" and the failure
 * uncounted); a failure another thread of ours wrote in the place we had
 * just claimed is not cleared with the former key's state (two failures
 * counted as one). And a time another caller wrote a moment after our
 * clock was read is theirs, not past: a breaker opened a millisecond
 * "ahead" is neither taken over nor probed at once, nor a probe's lease
 * broken by a second one. */
static void test_health_claim_others(void)
{
    llf_health_cfg one = {1, 1000, 1, 5000};
    eight_idle(&one);
    seam_key = key_of(P2, names[8]);
    seam_act = former_succeeds;
    CHECK(warnings("llmfallback: health memory", fail_8) == 0);
    seam_act = NULL;
    CHECK(llf_health_open(P2, names[8]) && slots_of(seam_path, seam_key) == 1);
    unlink(seam_path);

    llf_health_cfg two = {2, 1000, 1, 5000};
    eight_idle(&two);
    seam_act = ours_fails;
    llf_health_report(P2, names[8], 0, 700000);
    CHECK(seam_act == NULL && llf_health_open(P2, names[8]));
    unlink(seam_path);

    llf_health_cfg cool = {1, 30000, 1, 5000};
    char *path = fresh_path();
    llf_health_init(&cool, path);
    for (int i = 0; i < 8; i++)
        llf_health_report(P2, names[i], 0, 2000000);      /* open until 2030000 */
    CHECK(warnings("llmfallback: health memory: no room", fail_8_early) == 1);
    CHECK(llf_health_open(P2, names[0]) && llf_health_allow(P2, names[0], 1999999) == 0);
    CHECK(llf_health_allow(P2, names[1], 2030005) == 2);  /* the probe */
    CHECK(llf_health_allow(P2, names[1], 2030003) == 0);  /* a caller 2 ms behind: its lease holds */
    unlink(path);
    llf_health_cfg off = {0, 1000, 0, 0};
    llf_health_init(&off, NULL);
}

/* Between the writable open of an old read-only file, refused, and the
 * read-only look: another process replaces the file. */
static void replace_between(int at, uint64_t key)
{
    (void)key;
    if (at != 2)
        return;
    seam_act = NULL;
    char tmp[96];
    snprintf(tmp, sizeof tmp, "%s.new", seam_path);
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd >= 0)
        close(fd);
    if (fd < 0 || rename(tmp, seam_path) != 0)
        _exit(3);
}

/* Processes starting at once beside an old file made read-only (umask
 * 0277): one that found the replacement at its read-only look gave up
 * ("Permission denied; not shared") instead of opening it. As nobody in a
 * child when root, who may open anything for writing. A budget whose
 * filler died between its two steps is filled by the next process (it
 * stayed empty: no retry ever). */
static void test_health_races(void)
{
    char dir[] = "/tmp/llf-ro-XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL && chmod(dir, 0777) == 0);
    snprintf(path, sizeof path, "%s/health", dir);
    pid_t kid = t_fork(1);
    if (kid == 0) {
        alarm(5);
        if (geteuid() == 0 && (setgid(65534) || setuid(65534)))
            _exit(2);
        uint64_t old = 0x6c6c6668656c7434ULL;
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd < 0 || ftruncate(fd, 32 + 512 * 32) || pwrite(fd, &old, 8, 0) != 8 || fchmod(fd, 0400))
            _exit(4);
        close(fd);
        seam_path = path;
        seam_act = replace_between;
        llf_health_cfg cfg = {2, 1000, 1, 0};
        llf_health_init(&cfg, path);
        _exit(llf_health_is_shared() && seam_act == NULL ? 0 : 1);
    }
    int st = -1;
    CHECK(kid > 0 && waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    unlink(path);
    rmdir(dir);

    char *p = fresh_path();
    llf_health_cfg cfg = {2, 1000, 1, 0};
    llf_health_init(&cfg, p);
    CHECK(llf_health_is_shared());
    int64_t filling = 2, none = 0;
    poke(p, 24, &filling, 8);
    poke(p, 16, &none, 8);
    llf_retry_budget_init(0.1, 3);
    CHECK(llf_retry_budget_spend() && llf_retry_budget_spend() && llf_retry_budget_spend() && !llf_retry_budget_spend());
    llf_retry_budget_init(0, 0);
    unlink(p);
    llf_health_cfg off = {0, 1000, 0, 0};
    llf_health_init(&off, NULL);
}

/* A process of its own table (shared off, or the file refused) forked
 * while a half-open probe was out: the parent's lease is a copy in the
 * child, and the parent's outcome can never reach it. The child skipped
 * the provider for the whole lease (ten minutes by default). */
static void test_health_fork_local(void)
{
    llf_health_cfg c = {1, 1000, 0, 600000};
    llf_health_init(&c, NULL);
    llf_health_report("p", "m", 0, 0);
    CHECK(llf_health_allow("p", "m", 1001) == 2);       /* the parent's probe */
    int st = -1;
    pid_t kid = t_fork(1);
    if (kid == 0) {
        int first = llf_health_allow("p", "m", 1002), again = llf_health_allow("p", "m", 1003);
        _exit(first == 2 && again == 0 ? 0 : 1);         /* its own probe, then held */
    }
    CHECK(kid > 0 && waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(llf_health_allow("p", "m", 1004) == 0);       /* the parent's still out */
    llf_health_release("p", "m");
    llf_health_cfg off = {0, 1000, 0, 0};
    llf_health_init(&off, NULL);
}

/* Many processes finding an older layout at once: one replaces it, and
 * every one maps the same new file. Each replaced it in turn, renaming over
 * a file another had just made, and some wrote to a file nobody else saw
 * (16 of 40 rounds split, with 16 processes). Each child opens its breaker
 * for a model of its own; all of them must be in the file. */
static void test_health_upgrade_race(void)
{
    enum { KIDS = 12, ROUNDS = 15 };
    int split = 0;
    for (int round = 0; round < ROUNDS; round++) {
        char *path = fresh_path();
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        uint64_t old = 0x6c6c6668656c7434ULL;
        CHECK(fd >= 0 && ftruncate(fd, 32 + 512 * 32) == 0 && pwrite(fd, &old, 8, 0) == 8);
        close(fd);
        int go[2];
        CHECK(pipe(go) == 0);
        pid_t kids[KIDS];
        for (int k = 0; k < KIDS; k++) {
            kids[k] = t_fork(1);
            if (kids[k] == 0) {
                char b, m[24];
                close(go[1]);
                if (read(go[0], &b, 1) < 0)
                    _exit(2);
                llf_health_cfg cfg = {1, 100000, 1, 5000};
                llf_health_init(&cfg, path);
                snprintf(m, sizeof m, "race-%d", k);
                llf_health_report("p", m, 0, 1000);
                _exit(llf_health_is_shared() ? 0 : 1);
            }
        }
        close(go[0]);
        close(go[1]);                                    /* all go at once */
        for (int k = 0; k < KIDS; k++) {
            int st = -1;
            CHECK(kids[k] > 0 && waitpid(kids[k], &st, 0) == kids[k] && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        }
        llf_health_cfg cfg = {1, 100000, 1, 5000};
        llf_health_init(&cfg, path);
        for (int k = 0; k < KIDS; k++) {
            char m[24];
            snprintf(m, sizeof m, "race-%d", k);
            split += !llf_health_open("p", m);
        }
        unlink(path);
    }
    CHECK(split == 0);
    llf_health_cfg off = {0, 1000, 0, 0};
    llf_health_init(&off, NULL);
}

/* A thread's probe and its release, in two steps (sem go between them). */
static sem_t took, go;
static int first_probe;

static void *slow_prober(void *arg)
{
    (void)arg;
    first_probe = llf_health_allow("p", "m", 10001500);
    sem_post(&took);
    sem_wait(&go);
    llf_health_release("p", "m");   /* its outcome said nothing (a 400) */
    return NULL;
}

/* A release gives back the releasing thread's own lease: one thread's
 * probe outlived a failure that reopened the breaker and its cooldown, and
 * another thread of the process took the next probe; the first one's
 * release cleared the second's, and a third probe went out beside it. */
static void test_health_threads(void)
{
    llf_health_cfg c = {1, 1000, 0, 600000};
    llf_health_init(&c, NULL);
    sem_init(&took, 0, 0);
    sem_init(&go, 0, 0);
    llf_health_report("p", "m", 0, 10000000);           /* open until +1000 */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, slow_prober, NULL) == 0);
    sem_wait(&took);
    CHECK(first_probe == 2);
    llf_health_report("p", "m", 0, 10001600);           /* another attempt's failure: open again */
    CHECK(llf_health_allow("p", "m", 10002700) == 2);   /* this thread's probe */
    sem_post(&go);
    pthread_join(t, NULL);
    CHECK(llf_health_allow("p", "m", 10002710) == 0);   /* still out */
    llf_health_release("p", "m");
    CHECK(llf_health_allow("p", "m", 10002720) == 2);   /* given back by its own thread */
    llf_health_release("p", "m");
    sem_destroy(&took);
    sem_destroy(&go);
    llf_health_cfg off = {0, 1000, 0, 0};
    llf_health_init(&off, NULL);
}

/* A FIFO where the file goes (any user may make one in /dev/shm): the
 * read-only open, after the file was found not writable, waited for a
 * writer, and every LLM call of the process with it (rev29). Now it is
 * "not a regular file": not shared, at once. As nobody in a child when
 * root, who may open anything for writing; the child's alarm ends a wait. */
static void test_health_fifo(void)
{
    char dir[] = "/tmp/llf-fifo-XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL && chmod(dir, 0755) == 0);
    snprintf(path, sizeof path, "%s/health", dir);
    CHECK(mkfifo(path, 0644) == 0 && chmod(path, geteuid() == 0 ? 0644 : 0400) == 0);
    pid_t kid = t_fork(1);
    if (kid == 0) {
        alarm(5);
        if (geteuid() == 0 && (setgid(65534) || setuid(65534)))
            _exit(2);
        llf_health_cfg cfg = {2, 1000, 1, 0};
        llf_health_init(&cfg, path);
        _exit(llf_health_is_shared() ? 1 : 0);
    }
    int st = -1;
    CHECK(kid > 0 && waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    unlink(path);
    rmdir(dir);
}

void test_health(void)
{
    char path[] = "/tmp/llf-health-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    unlink(path);   /* created fresh, 0600, by the library */
    llf_health_cfg cfg = {2, 1000, 1, 0};
    llf_health_init(&cfg, path);
    /* 0600 whatever the umask: one of 0277 made it 0400, and every later
     * process of the user was refused it */
    mode_t mask = umask(0277);
    CHECK(llf_health_is_shared());
    umask(mask);
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
    llf_health_cfg off = {0, 1000, 1, 0};
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
    llf_health_cfg solo = {0, 1000, 0, 0};
    llf_health_init(&solo, NULL);                      /* (a fresh budget) */
    llf_retry_budget_init(1, 0);                       /* a burst under one is one */
    CHECK(llf_retry_budget_spend() && !llf_retry_budget_spend());
    llf_retry_budget_earn();
    CHECK(llf_retry_budget_spend());
    test_health_file();
    test_health_mixed();
    test_health_slots();
    test_health_threads();
    test_health_fifo();
    test_health_return();
    test_health_claims();
    test_health_claim_off();
    test_health_claim_others();
    test_health_races();
    test_health_fork_local();
    test_health_upgrade_race();
}
