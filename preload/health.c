/* health.c — the shared circuit breaker (see health.h).
 *
 * The file holds a header and a fixed table of slots, one per provider/model
 * (FNV-1a hash, linear probing). Every field is updated with atomic
 * operations on the shared mapping, so processes need no lock. A slot whose
 * breaker holds nothing (closed, no failure counted) or whose state is long
 * past may be taken over by another provider/model when every slot it may
 * have is in use, and cleared; each of its words carries a tag of the key
 * that wrote it, so that a process still updating the slot for its former
 * key never touches the new one's state, and a claim is marked in the key
 * before it is made, so that one its former key writes to meanwhile is
 * called off (see find()). A file we did not create for this user, of
 * the wrong size or magic, is never trusted; one of an older layout of ours
 * is replaced (by rename: processes still mapping it keep theirs). What a
 * trusted file holds is still bounded on reading: a time further ahead than
 * the longest cooldown of the processes that opened the breaker (another
 * boot's clock or time namespace, or damage) counts as past, as does a
 * probe's lease beyond the longest lease of the processes that probed, and
 * a budget beyond the burst as the burst. */
#include "health.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define MAGIC 0x6c6c6668656c7436ULL   /* "llfhelt6": the low byte is the layout */
#define SLOTS 512
#define PROBE 8

/* A slot's words but its key and probe hold a value of VAL_BITS under the
 * tag of the key that wrote it (its top bits): a word a process still
 * updating the slot for its former key writes after the slot was taken
 * over (and cleared, see find()) reads as 0 to the new key, and an update
 * is a compare-and-swap made only while the slot is its key's (see put()).
 * Times are ms since boot, which fit 41 bits for 69 years. */
#define VAL_BITS 41
#define VAL_MASK ((1ULL << VAL_BITS) - 1)

/* A claim in progress of a slot another key holds: that key with a mark in
 * these bits, which no key has (key_of clears them; they are neither its
 * tag nor its place), unique to the claim (see claim()). */
#define MARK_MASK (((1ULL << 24) - 1) << 17)

typedef struct slot {
    uint64_t key;          /* 0 = free */
    uint64_t fails;        /* consecutive failures */
    uint64_t last;         /* when the last failure was reported */
    uint64_t open_until;   /* 0 = closed */
    uint64_t cool;         /* the longest cooldown of the processes that
                            * opened it since it last closed: how far ahead
                            * open_until may sanely be, so that a process
                            * with a shorter cooldown respects it */
    uint64_t span;         /* the longest lease of the processes that probed
                            * since it last closed: how far ahead a lease may
                            * sanely end, so that a process with a shorter
                            * total respects a longer probe */
    uint64_t probe;        /* a half-open probe out: until when (ms) << PID_BITS
                            * | the pid of the process sending it (no tag: a
                            * lease is one process's, and only compared
                            * whole; see llf_health_allow) */
} slot;

/* The prober's pid beside its lease, in one word, so that both change in
 * one compare-and-swap: a process that dies holding the lease (killed, a
 * timeout in CI) must not leave the provider skipped until the lease runs
 * out (timeouts_ms.total, ten minutes by default) for every process of the
 * user. Linux pids are below 2^22 (PID_MAX_LIMIT); ms since boot fit the
 * other 41 bits. */
#define PID_BITS 22
#define PID_MASK ((1LL << PID_BITS) - 1)
/* A cooldown or lease meant as "never": 35 years, so that times stay in the
 * lease word's 41 bits and sums do not overflow. */
#define NEVER_MS (1LL << 40)
/* How long after its last failure, and after its breaker's end, a slot's
 * state is long past: another provider/model may then take it over, and
 * this one, if ever asked again, starts afresh (its failures counted anew
 * rather than one probe). Only when every slot it may have is in use. */
#define STALE_MS 600000LL
/* How much older one caller's now may be than another's: each reads the
 * clock before it looks (and may wait for the processor in between), so a
 * time another wrote may be that much further ahead than its bound and
 * still be theirs, not another boot's or damage. (Without it, a breaker
 * opened a millisecond ago looked past to a caller whose now was read a
 * millisecond earlier: its place was taken over, or a second probe sent.) */
#define SKEW_MS 60000LL

typedef struct table {
    uint64_t magic;
    uint32_t version, nslots;
    int64_t  retry_milli;   /* the ratio budget's saved extra attempts, x1000 */
    int64_t  retry_stamp;   /* 0 until the first process set the burst (see budget_cell) */
    slot     s[SLOTS];
} table;

static table local;
static table *t = &local;
static llf_health_cfg hc;
static int shared;
static const char *shared_path;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int warned_full;

static uint64_t key_of(const char *provider, const char *model)
{
    uint64_t h = 14695981039346656037ULL;
    for (const char *p = provider; p && *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ '/') * 1099511628211ULL;
    for (const char *p = model; p && *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h &= ~MARK_MASK;
    return h ? h : 1;
}

/* A seam for the unit tests, which define it to act as another process at
 * a point: of a claim of key's slot (0 before it, 3 when marked, 5 made
 * but not yet cleared, 1 after it), of a write of key's (4 before it), or
 * of opening the file (2, the writable open refused). Undefined in the
 * library, where it is NULL. */
void llf_health_seam(int at, uint64_t key) __attribute__((weak, visibility("hidden")));

/* (sequentially consistent throughout: the simplest order to reason about
 * across processes, and the breaker is not on a hot path) */
static uint64_t ld(const uint64_t *w)
{
    return __atomic_load_n(w, __ATOMIC_SEQ_CST);
}

static int cas(uint64_t *w, uint64_t *seen, uint64_t v)
{
    return __atomic_compare_exchange_n(w, seen, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/* The key a slot's key word k names, marked or not. */
static uint64_t bare(uint64_t k)
{
    return k & ~MARK_MASK;
}

/* Is s key's? A claim of it in progress is called off: key is using it
 * (see find()). */
static int ours(slot *s, uint64_t key)
{
    uint64_t k = ld(&s->key);
    while (k != key && bare(k) == key)
        if (cas(&s->key, &k, key))
            return 1;
    return k == key;
}

/* key's value in word w: 0 in one another key wrote */
static int64_t val(uint64_t key, uint64_t w)
{
    return w >> VAL_BITS == key >> VAL_BITS ? (int64_t)(w & VAL_MASK) : 0;
}

/* Replaces key's word *w, last read as *seen, by v: 1 done; 0 the word
 * changed meanwhile (*seen reloaded: compute again); -1 the slot is no
 * longer key's, or was taken over as we wrote (what we wrote may be lost:
 * write it again where key is now). (The key is checked after *seen was
 * read: a word another key wrote after taking the slot over cannot be what
 * we read then, so the swap fails; one it has not written yet reads as 0 to
 * it whatever we put there. It is checked again after the write: a claim
 * marked before it saw it, or is called off.) */
static int put(slot *s, uint64_t key, uint64_t *w, uint64_t *seen, int64_t v)
{
    if (!ours(s, key))
        return -1;
    if (llf_health_seam)
        llf_health_seam(4, key);
    uint64_t word = (key >> VAL_BITS) << VAL_BITS | (v < 0 ? 0 : (uint64_t)v > VAL_MASK ? VAL_MASK : (uint64_t)v);
    if (!cas(w, seen, word))
        return 0;
    return ours(s, key) ? 1 : -1;
}

/* key's word set to v (0), or the slot is no longer key's (-1). One that
 * holds v already is not written: a write calls off a claim of the slot
 * (see find()), and the success of a provider whose breaker holds nothing
 * called off every claim of its place, until "no room". */
static int set(slot *s, uint64_t key, uint64_t *w, int64_t v)
{
    uint64_t seen = ld(w);
    int r = 1;
    while (val(key, seen) != v && (r = put(s, key, w, &seen, v)) == 0)
        ;
    if (r == 1)
        return bare(ld(&s->key)) == key ? 0 : -1;
    return r < 0 ? -1 : 0;
}

/* key's word raised to v at least (0), or the slot is no longer key's. */
static int raise_to(slot *s, uint64_t key, uint64_t *w, int64_t v)
{
    uint64_t seen = ld(w);
    int r = 1;
    while (val(key, seen) < v && (r = put(s, key, w, &seen, v)) == 0)
        ;
    return r < 0 ? -1 : 0;
}

/* No probe out any more (0), or the slot is no longer key's (-1). */
static int clear_probe(slot *s, uint64_t key)
{
    uint64_t p = ld(&s->probe);
    while (p != 0) {
        if (!ours(s, key))
            return -1;
        if (cas(&s->probe, &p, 0))
            break;
    }
    return 0;
}

/* An older layout of ours at path (its magic, read from fd): a fresh file
 * takes its place. 0 replaced (by us or by another process: open path
 * again), -1 not. One process replaces it, under a lock on the old file:
 * the others, which read the same old file, find path naming another one
 * once they hold the lock. (Each replaced it in turn, and processes that
 * had opened one replacement mapped a file another had renamed over: they
 * no longer shared.) The lock is held for a rename; waited for a fifth of
 * a second at most, not blocked on, lest a stopped process hold every
 * other's first call. */
static int replace_old(int fd, const char *path)
{
    uint64_t m = 0;
    if (pread(fd, &m, sizeof m, 0) != (ssize_t)sizeof m || (m & ~0xffULL) != (MAGIC & ~0xffULL) ||
        (m & 0xff) >= (MAGIC & 0xff))
        return -1;
    char tmp[PATH_MAX + 8];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
        return -1;
    int locked = 0, err = 0;
    for (int i = 0; i < 100 && !(locked = flock(fd, LOCK_EX | LOCK_NB) == 0) && (err = errno) == EWOULDBLOCK; i++)
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    if (!locked && err == EWOULDBLOCK)
        return -1;
    /* (a file system without locks: replaced unlocked, as before there
     * was a lock) */
    struct stat was, now;
    int rc = -1;
    if (fstat(fd, &was) == 0 && lstat(path, &now) == 0 && (was.st_dev != now.st_dev || was.st_ino != now.st_ino)) {
        rc = 0;   /* (replaced meanwhile) */
    } else {
        int nfd = mkostemp(tmp, O_CLOEXEC);
        if (nfd >= 0) {
            rc = fchmod(nfd, 0600) || rename(tmp, path) ? -1 : 0;
            if (rc)
                unlink(tmp);
            close(nfd);
        }
    }
    if (locked)
        flock(fd, LOCK_UN);
    return rc;
}

static int open_shared(const char *path)
{
    char def[PATH_MAX];
    if (!path) {
        /* (a relative one is invalid, and ignored, as the XDG spec says:
         * processes in other directories would not share) */
        const char *dir = getenv("XDG_RUNTIME_DIR");
        if (!dir || *dir != '/')
            dir = "/dev/shm";
        if (snprintf(def, sizeof def, "%s/llmfallback-health-%u", dir, (unsigned)getuid()) >= (int)sizeof def) {
            llf_warn("health memory: $XDG_RUNTIME_DIR is too long; not shared");
            return -1;
        }
        path = def;
    }
    int fd;
    struct stat st;
    for (int round = 0;; round++) {
        /* Made 0600 whatever the umask: made 0400 under a umask of 0277,
         * every later process of the user was refused it. One an older
         * library made so is replaced, from a read-only look. Opened
         * without blocking: a FIFO another user put there held every call
         * in the read-only open (rev29); it is "not a regular file" below,
         * and a regular file ignores the flag. */
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
        if (fd >= 0)
            fchmod(fd, 0600);
        else if (errno == EEXIST)
            fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0 && errno == EACCES && round == 0 && llf_health_seam)
            llf_health_seam(2, 0);
        if (fd < 0 && errno == EACCES && round == 0 && (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) >= 0) {
            /* Our own: replaced if old; if not, another process replaced
             * it since, or made it and has yet to make it 0600: the open
             * is tried once more (it gave up, and did not share) */
            int ours = fstat(fd, &st) == 0 && st.st_uid == getuid() && S_ISREG(st.st_mode);
            if (ours)
                replace_old(fd, path);
            close(fd);
            if (ours)
                continue;
            fd = -1;
            errno = EACCES;
        }
        if (fd < 0) {
            llf_warn("health memory %s: %s; not shared", path, strerror(errno));
            return -1;
        }
        if (fstat(fd, &st) || st.st_uid != getuid() || (st.st_mode & 077) || !S_ISREG(st.st_mode)) {
            /* (which of the three: the fix differs) */
            int known = fstat(fd, &st) == 0;
            llf_warn("health memory %s is %s; not shared", path,
                     !known                  ? "not to be read"
                     : st.st_uid != getuid() ? "not this user's own"
                     : !S_ISREG(st.st_mode)  ? "not a regular file"
                                             : "open to other users (its mode must be 0600)");
            close(fd);
            return -1;
        }
        if (round == 1 || st.st_size == 0 || replace_old(fd, path) != 0)
            break;   /* (the file to use, or to judge below) */
        close(fd);
    }
    if (st.st_size != 0 && st.st_size != (off_t)sizeof(table)) {
        llf_warn("health memory %s is not ours (size %lld); not shared", path, (long long)st.st_size);
        close(fd);
        return -1;
    }
    /* Blocks reserved now: on a full tmpfs a mapping's first write to a
     * page it has no block for kills the process (SIGBUS), and ftruncate()
     * reserves nothing. */
    int err = st.st_size == 0 && ftruncate(fd, sizeof(table)) ? errno : posix_fallocate(fd, 0, sizeof(table));
    if (err) {
        llf_warn("health memory %s: %s; not shared", path, strerror(err));
        close(fd);
        return -1;
    }
    table *m = mmap(NULL, sizeof(table), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        llf_warn("health memory %s: %s; not shared", path, strerror(errno));
        return -1;
    }
    uint64_t zero = 0;
    /* A new file is zeros: the first process stamps it. */
    if (__atomic_compare_exchange_n(&m->magic, &zero, MAGIC, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        m->version = 1;
        m->nslots = SLOTS;
    } else if (zero != MAGIC) {
        llf_warn("health memory %s is corrupt; not shared", path);
        munmap(m, sizeof(table));
        return -1;
    }
    t = m;
    return 0;
}

/* The file is opened at the first recognised call, not when the core loads:
 * a process that never calls a provider never touches it. */
static void open_once(void)
{
    shared = hc.failures > 0 && hc.shared && open_shared(shared_path) == 0;
}

int llf_health_init(const llf_health_cfg *cfg, const char *path)
{
    if (t != &local)
        munmap(t, sizeof(table));
    hc = *cfg;
    if (hc.cooldown_ms > NEVER_MS)
        hc.cooldown_ms = NEVER_MS;
    if (hc.probe_ms > NEVER_MS)
        hc.probe_ms = NEVER_MS;
    t = &local;
    memset(&local, 0, sizeof local);
    shared = warned_full = 0;
    shared_path = path;
    once = (pthread_once_t)PTHREAD_ONCE_INIT;   /* (no other thread uses it yet: see health.h) */
    return 0;
}

int llf_health_is_shared(void)
{
    pthread_once(&once, open_once);
    return shared;
}

/* Has process pid ended? A zombie has too: killed under `timeout -s KILL`
 * (which kills itself with it), a prober may wait unreaped under an init
 * that never reaps. Only asked while a probe is out, so not often. */
static int gone(pid_t pid)
{
    if (kill(pid, 0) != 0)
        return errno == ESRCH;
    char path[32], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *paren = strrchr(buf, ')');   /* (after the command, which may hold anything) */
    return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

/* How long a half-open probe may be out: as long as an attempt may take
 * (no total limit, 0: until the probe is reported or released, or its
 * process ends, see gone()), but an hour at most, unless the cooldown is
 * longer: a pid that is not what it seems (reused after a kill, or written
 * from another pid namespace sharing /dev/shm) must not keep a provider
 * skipped by every process for ever. */
#define LEASE_CAP_MS 3600000LL
static int64_t lease_ms(void)
{
    int64_t probe = hc.probe_ms > 0 && hc.probe_ms < LEASE_CAP_MS ? hc.probe_ms : LEASE_CAP_MS;
    return probe > hc.cooldown_ms ? probe : hc.cooldown_ms;
}

/* How far ahead of now key's open_until may sanely be: the longest
 * cooldown that opened it (stored beside it), or ours, and SKEW_MS. */
static int64_t open_bound(const slot *s, uint64_t key)
{
    int64_t theirs = val(key, ld(&s->cool));
    return (theirs > hc.cooldown_ms ? theirs : hc.cooldown_ms) + SKEW_MS;
}

/* Is the probe p (read from s) out at now? Until its lease ends, unless the
 * lease is further ahead than the longest any prober took (read after p:
 * it is raised before a lease is taken), or ours, or its prober has died.
 * (A pid read from another pid namespace sharing the file names nobody
 * here, or someone else: one more probe, or the lease's end, as before
 * pids were kept.) */
static int lease_out(const slot *s, uint64_t key, uint64_t p, int64_t now)
{
    int64_t out_until = (int64_t)(p >> PID_BITS), theirs = val(key, ld(&s->span)), span = lease_ms();
    pid_t owner = (pid_t)(p & PID_MASK);
    /* (in a table of this process's own, another pid's lease is a copy
     * fork() gave us of our parent's: its outcome can never reach us) */
    return out_until > now && out_until - now <= (theirs > span ? theirs : span) + SKEW_MS &&
           !(owner && owner != getpid() && (t == &local || gone(owner)));
}

/* May another key take over s, key's slot, at now? 2 its breaker holds
 * nothing (closed, no failure counted), 1 its state is long past (its last
 * failure and the end of its breaker STALE_MS ago, or times that count as
 * past), 0 no (nor with a probe out). */
static int idle(const slot *s, uint64_t key, int64_t now)
{
    if (lease_out(s, key, ld(&s->probe), now))
        return 0;
    int64_t fails = val(key, ld(&s->fails)), until = val(key, ld(&s->open_until)), last = val(key, ld(&s->last));
    if (fails == 0 && until == 0)
        return 2;
    if (until > now && until - now > open_bound(s, key))
        until = 0;
    if (last > now + SKEW_MS)
        last = 0;
    return now - until >= STALE_MS && now - last >= STALE_MS;
}

/* A mark for a claim: unique to it, or as good as (a process's claims
 * differ; two processes' marks of one slot at once, within a few loads of
 * each other, are the same one time in 2^24). */
static uint64_t mark_for(uint64_t key)
{
    static uint64_t n;
    uint64_t m = ((uint64_t)getpid() * 2654435761ULL + __atomic_add_fetch(&n, 1, __ATOMIC_RELAXED)) << 17 & MARK_MASK;
    return key | (m ? m : 1ULL << 17);
}

/* The words a claim clears, the probe last. */
#define WORDS 6
static void words_of(slot *s, uint64_t *w[WORDS])
{
    uint64_t *all[WORDS] = {&s->fails, &s->last, &s->open_until, &s->cool, &s->span, &s->probe};
    memcpy(w, all, sizeof all);
}

/* Claims s, which another key held as was (marked or not; 0 free) and
 * idle() let go, for key: 1 done, with its words as the claim found them
 * in seen (see find()); 0 not (claimed by another, or no longer idle). The
 * former key is marked first, then judged again: one it wrote before the
 * mark is judged; one it writes after calls the claim off (its writes see
 * the mark, put()), and our last swap, of our mark only, fails. Judged
 * once only, a slot whose key wrote between judging and claiming (a
 * failure, a breaker opened) lost that to the claim. A mark left by a
 * claimer that died or was called off is anyone's to replace. */
static int claim(slot *s, uint64_t was, uint64_t key, int64_t now, uint64_t seen[WORDS])
{
    uint64_t *w[WORDS];
    words_of(s, w);
    if (was == 0) {
        for (int i = 0; i < WORDS; i++)
            seen[i] = ld(w[i]);
        return cas(&s->key, &was, key);
    }
    uint64_t former = bare(was), mark = mark_for(former);
    if (!cas(&s->key, &was, mark))
        return 0;
    if (llf_health_seam)
        llf_health_seam(3, key);
    for (int i = 0; i < WORDS; i++)
        seen[i] = ld(w[i]);
    if (!idle(s, former, now)) {
        cas(&s->key, &mark, former);
        return 0;
    }
    return cas(&s->key, &mark, key);
}

/* key's slot: the first of its PROBE slots that holds it, or with create
 * one made for it, free or taken over (see idle()): NULL when there is
 * none. */
static slot *find(uint64_t key, int create, int64_t now)
{
    for (int i = 0; i < PROBE; i++) {
        slot *s = &t->s[(key + (uint64_t)i) % SLOTS];
        if (bare(ld(&s->key)) == key)
            return s;
    }
    /* (a few rounds: each lost one is another process's claim, or a slot
     * found in use after all, a slot less to take) */
    for (int round = 0; create && round < PROBE; round++) {
        slot *best = NULL;
        uint64_t was = 0;
        int rank = 0;
        for (int i = 0; i < PROBE && rank < 3; i++) {
            slot *s = &t->s[(key + (uint64_t)i) % SLOTS];
            uint64_t k = ld(&s->key);
            if (bare(k) == key)
                return s;   /* (another process made it meanwhile) */
            int r = k == 0 ? 3 : idle(s, bare(k), now);
            if (r > rank)
                best = s, was = k, rank = r;
        }
        if (!best)
            return NULL;
        if (llf_health_seam)
            llf_health_seam(0, key);
        uint64_t seen[WORDS], *w[WORDS];
        if (!claim(best, was, key, now, seen))
            continue;
        if (llf_health_seam)
            llf_health_seam(5, key);
        /* Cleared, tags or not: words the former key wrote read as 0 to
         * us only while our tag differs from theirs, and their key, or one
         * of the same tag, may be ours (a key taking back the slot it lost
         * found its old breaker there, and one failure reopened it). A
         * lease of the former key's that no longer counts is no lease of
         * ours. Each only if it still holds what the claim found: another
         * thread or process of ours may have found the slot ours and
         * written there already (stored over, its failure was lost). */
        words_of(best, w);
        for (int i = 0; i < WORDS; i++)
            if (seen[i])
                cas(w[i], &seen[i], 0);
        if (llf_health_seam)
            llf_health_seam(1, key);
        /* Two processes may claim two places for key at once: one is kept,
         * the first in probe order that holds anything (a failure, a
         * breaker, a probe out), else the first, and every other is freed
         * (the later of the two claims sees both). Left, one took a
         * failure before it was seen, and kept it past the key's next
         * success (only the first is ever cleared) until the first was
         * taken over. Kept by order alone, a place another thread had
         * claimed and written a failure to (a breaker opened) while we
         * were between our look and our claim was freed with it. Freed
         * only: whoever takes it next clears it, as above; a write of ours
         * under way there is done again in the kept one (see put()). */
        slot *keep = NULL, *first = NULL;
        for (int i = 0; i < PROBE && !keep; i++) {
            slot *s = &t->s[(key + (uint64_t)i) % SLOTS];
            if (bare(ld(&s->key)) != key)
                continue;
            if (!first)
                first = s;
            if (idle(s, key, now) != 2)
                keep = s;
        }
        keep = keep ? keep : first;
        for (int i = 0; i < PROBE && keep; i++) {
            slot *s = &t->s[(key + (uint64_t)i) % SLOTS];
            uint64_t k = ld(&s->key);
            if (s != keep && bare(k) == key)
                cas(&s->key, &k, 0);
        }
        if (keep)
            return keep;
        /* (taken over at once, holding nothing yet: claimed again, not
         * "no room") */
    }
    return NULL;
}

/* provider/model's key, or 0: no breaker. */
static uint64_t key_for(const char *provider, const char *model)
{
    if (hc.failures <= 0)
        return 0;
    pthread_once(&once, open_once);
    return key_of(provider, model);
}

/* The lease this thread took last (llf_health_release gives back only
 * that one): another thread of this process may have taken a new lease
 * since, after a failure reopened the breaker and it cooled down again. */
static __thread uint64_t my_lease;

/* llf_health_allow in key's slot s: -1 the slot went to another key. */
/* key's breaker in s at now, as allow_in reads it: BR_CLOSED, BR_SKIP (open, or
 * cooled down with another's probe out), or BR_PROBE (cooled down, none out);
 * *until its open_until, *probe its probe as read. */
enum { BR_CLOSED, BR_SKIP, BR_PROBE };

static int state_in(const slot *s, uint64_t key, int64_t now, int64_t *until, uint64_t *probe)
{
    *until = val(key, ld(&s->open_until));
    *probe = 0;
    if (*until == 0)
        return BR_CLOSED;
    if (now < *until && *until - now <= open_bound(s, key))
        return BR_SKIP;
    /* Cooled down: one probe at a time, the others keep skipping, unless
     * the prober has died. */
    *probe = ld(&s->probe);
    return lease_out(s, key, *probe, now) ? BR_SKIP : BR_PROBE;
}

static int allow_in(slot *s, uint64_t key, int64_t now)
{
    int64_t until;
    uint64_t probe;
    int st = state_in(s, key, now, &until, &probe);
    if (st != BR_PROBE)
        return st == BR_CLOSED;
    /* Our lease's span is recorded before the lease, so that no process
     * reads it with a smaller bound. */
    int64_t span = lease_ms();
    if (raise_to(s, key, &s->span, span) < 0)
        return -1;
    int64_t end = now + span < (1LL << 41) - 1 ? now + span : (1LL << 41) - 1;
    uint64_t lease = (uint64_t)end << PID_BITS | ((uint64_t)getpid() & PID_MASK);
    if (!cas(&s->probe, &probe, lease))
        return 0;
    /* A failure reported meanwhile reopened it (or a success closed it), or
     * the slot went to another key: no probe then. */
    int64_t now_until = val(key, ld(&s->open_until));
    int moved = !ours(s, key);
    if (now_until != until || moved) {
        cas(&s->probe, &lease, 0);
        return moved ? -1 : now_until == 0;
    }
    my_lease = lease;
    return 2;
}

int llf_health_allow(const char *provider, const char *model, long long now)
{
    uint64_t key = key_for(provider, model);
    for (int round = 0; key && round < 3; round++) {
        slot *s = find(key, 0, now);
        int r = s ? allow_in(s, key, now) : 1;
        if (r >= 0)
            return r;
    }
    return 1;
}

void llf_health_release(const char *provider, const char *model)
{
    uint64_t key = key_for(provider, model);
    slot *s = key ? find(key, 0, 0) : NULL;
    /* (this thread's own lease only: one taken over since is another's) */
    uint64_t p = s ? ld(&s->probe) : 0;
    if (p && p == my_lease && (p & PID_MASK) == ((uint64_t)getpid() & PID_MASK) && bare(ld(&s->key)) == key)
        cas(&s->probe, &p, 0);
    my_lease = 0;
}

/* llf_health_report in key's slot s: -1 the slot went to another key. */
static int report_in(slot *s, uint64_t key, int ok, int64_t now)
{
    if (ok) {
        int moved = set(s, key, &s->fails, 0) || set(s, key, &s->open_until, 0) || set(s, key, &s->cool, 0) ||
                    set(s, key, &s->span, 0) || clear_probe(s, key);
        return moved ? -1 : 0;
    }
    /* A failure while open (the probe's, or one that raced a success that
     * reset the count) opens it again at once. */
    uint64_t seen = ld(&s->fails);
    int64_t f;
    int r;
    do
        f = val(key, seen) + 1;
    while ((r = put(s, key, &s->fails, &seen, f)) == 0);
    if (r < 0 || set(s, key, &s->last, now) < 0)
        return -1;
    if (f < hc.failures && val(key, ld(&s->open_until)) == 0)
        return 0;
    /* Our cooldown first, then the time it bounds: a reader never sees our
     * open_until with a smaller bound than ours. */
    if (raise_to(s, key, &s->cool, hc.cooldown_ms) < 0)
        return -1;
    /* Never nearer than a sane open_until already there: a process with a
     * shorter cooldown does not cut another's. */
    int64_t want = now + hc.cooldown_ms;
    seen = ld(&s->open_until);
    for (r = 0; r == 0;) {
        int64_t cur = val(key, seen);
        if (cur >= want && cur - now <= open_bound(s, key))
            break;
        if ((r = put(s, key, &s->open_until, &seen, want)) < 0)
            return -1;
    }
    return clear_probe(s, key);
}

/* How much of a breaker id ("NAME BASE_URL", config.h) a message shows:
 * *n bytes, then the rest from *rest; its base URL's userinfo, a password
 * perhaps, left out. The id itself stays whole: it is the provider's
 * identity to every process sharing the file. (The URL is after the last
 * space: a base URL holds none, a name may.) */
static void shown_id(const char *id, int *n, const char **rest)
{
    const char *url = strrchr(id, ' '), *host = url ? strstr(url, "://") : NULL, *at = NULL;
    if (host)
        for (const char *p = host + 3; *p && !strchr("/?#", *p); p++)
            if (*p == '@')
                at = p;
    *n = at ? (int)(host + 3 - id) : (int)strlen(id);
    *rest = at ? at + 1 : "";
}

void llf_health_report(const char *provider, const char *model, int ok, long long now)
{
    uint64_t key = key_for(provider, model);
    /* (done again in the slot key has now when the one it had was taken
     * over meanwhile: what we wrote there is no longer anyone's) */
    for (int round = 0; key && round < 3; round++) {
        slot *s = find(key, !ok, now);
        if (!s) {
            if (!ok && !__atomic_exchange_n(&warned_full, 1, __ATOMIC_RELAXED)) {
                int n;
                const char *rest;
                shown_id(provider, &n, &rest);
                llf_warn("health memory: no room for the breaker of model %s (%.*s%s): every slot it may have "
                         "holds recent failures of others; its failures are not counted (nor those of others "
                         "without room; said once)",
                         model, n, provider, rest);
            }
            return;
        }
        if (report_in(s, key, ok, now) == 0 && bare(ld(&s->key)) == key)
            return;
    }
}

int llf_health_skips(const char *provider, const char *model, long long now)
{
    uint64_t key = key_for(provider, model);
    const slot *s = key ? find(key, 0, 0) : NULL;
    int64_t until;
    uint64_t probe;
    return s && state_in(s, key, now, &until, &probe) == BR_SKIP;
}

int llf_health_open(const char *provider, const char *model)
{
    uint64_t key = key_for(provider, model);
    slot *s = key ? find(key, 0, 0) : NULL;
    return s && val(key, ld(&s->open_until)) != 0;
}

static int64_t ratio_milli, burst_milli;

/* x1000, bounded (a ratio or burst past a trillion means "unlimited"). A
 * positive ratio under 0.0005 counts as 0.001, the finest the budget keeps:
 * rounded to 0 it would mean no budget at all, the opposite of strict. */
static int64_t milli(double x)
{
    int64_t m = !(x > 0) ? 0 : x >= 1e12 ? (int64_t)1e15 : (int64_t)llround(x * 1000.0);
    return x > 0 && m < 1 ? 1 : m;
}

void llf_retry_budget_init(double ratio, double burst)
{
    ratio_milli = milli(ratio);
    /* (a burst under one could never save the one attempt a fallback
     * needs: every member would be skipped, retry_budget) */
    burst_milli = milli(burst < 1 ? 1 : burst);
}

/* The budget starts full, once per table: retry_stamp 0 not yet, 2 being
 * filled, 1 full (1, as files of the same layout made before there was a
 * 2 say). A process that saw 0 read an empty budget while another filled
 * it, and was refused a retry. One that waits too long for the filler
 * (stopped, or dead) fills it itself. */
static int64_t *budget_cell(void)
{
    pthread_once(&once, open_once);
    int64_t st = __atomic_load_n(&t->retry_stamp, __ATOMIC_ACQUIRE), zero = 0;
    if (st == 1)
        return &t->retry_milli;
    if (st == 0 && __atomic_compare_exchange_n(&t->retry_stamp, &zero, 2, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&t->retry_milli, burst_milli, __ATOMIC_RELEASE);
        __atomic_store_n(&t->retry_stamp, 1, __ATOMIC_RELEASE);
        return &t->retry_milli;
    }
    /* (only 2 is waited for: any other value is damage, filled at once,
     * where every call waited its hundred yields and left it so) */
    for (int i = 0; i < 100 && __atomic_load_n(&t->retry_stamp, __ATOMIC_ACQUIRE) == 2; i++)
        sched_yield();
    int64_t seen = __atomic_load_n(&t->retry_stamp, __ATOMIC_ACQUIRE);
    if (seen != 1) {
        __atomic_store_n(&t->retry_milli, burst_milli, __ATOMIC_RELEASE);
        __atomic_compare_exchange_n(&t->retry_stamp, &seen, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    }
    return &t->retry_milli;
}

/* The cell's value, damage undone: below 0 is none, beyond the largest
 * burst any process can have (milli()'s) is ours. */
static int64_t sane(int64_t v)
{
    return v < 0 ? 0 : v > (int64_t)1e15 ? burst_milli : v;
}

/* What the cell holds as this process may spend it: within [0, its burst]
 * (another process's burst may be larger). Only read so: written back, it
 * would cut the others' savings to our burst. */
static int64_t bounded(int64_t v)
{
    v = sane(v);
    return v > burst_milli ? burst_milli : v;
}

void llf_retry_budget_earn(void)
{
    if (ratio_milli <= 0)
        return;
    int64_t *cell = budget_cell();
    int64_t v = __atomic_load_n(cell, __ATOMIC_ACQUIRE);
    int64_t n;
    do {
        /* (saving stops at our burst, or at what another process with a
         * larger one saved: never below what is there) */
        int64_t b = sane(v), cap = b > burst_milli ? b : burst_milli;
        n = b + ratio_milli > cap ? cap : b + ratio_milli;
        if (n == v)
            return;
    } while (!__atomic_compare_exchange_n(cell, &v, n, 1, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
}

int llf_retry_budget_left(int n)
{
    return ratio_milli <= 0 || bounded(__atomic_load_n(budget_cell(), __ATOMIC_ACQUIRE)) >= 1000 * (int64_t)n;
}

int llf_retry_budget_spend(void)
{
    if (ratio_milli <= 0)
        return 1;
    int64_t *cell = budget_cell();
    int64_t v = __atomic_load_n(cell, __ATOMIC_ACQUIRE);
    do {
        if (bounded(v) < 1000)
            return 0;
    } while (!__atomic_compare_exchange_n(cell, &v, sane(v) - 1000, 1, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    return 1;
}
