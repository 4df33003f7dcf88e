/* shim.c — finding and loading libllmfallback-core.so beside this library.
 *
 * Loaded RTLD_LOCAL so none of its symbols (nor cJSON's) can collide with the
 * host's, and only when a hook meets something that may be an LLM call. */
#include "shim.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atload.h"
#include "forklock.h"
#include "hooks.h"
#include "lineout.h"
#include "trust.h"

static const llf_core_api *core;
static int tried;   /* the core was looked for (loaded, or said why not) */

/* (called by each thread of ours as it starts) */
static void enter(void)
{
    llf_in_lib = 1;
    llf_own_thread = 1;
}

/* The directory this library was loaded from a relative path in, as the
 * program started (NULL when the path was absolute, as the wrapper makes it):
 * the core beside it is loaded at the first call, by then perhaps in
 * another directory (daemon(), os.chdir, make -C), where the relative path
 * found nothing and every call passed through. */
static char *loaded_in;   /* (malloc'ed, when it is: PATH_MAX bytes in .bss cost every process a page) */

LLF_AT_LOAD static void note_loaded_in(void)
{
    /* (the strings on the stack, not in .rodata: a page fewer touched) */
    char name[] = "LD_PRELOAD", seps[] = ": \t";
    const char *pre = getenv(name);
    Dl_info self;
    /* (LD_PRELOAD looked at first: a dladdr() and a getcwd() only when
     * one of its paths is relative, not in every process) */
    int relative = 0;
    for (const char *p = pre; p && *p; p += strcspn(p, seps)) {
        p += strspn(p, seps);
        relative |= *p && *p != '/';
    }
    if (relative && dladdr((void *)note_loaded_in, &self) && self.dli_fname && self.dli_fname[0] != '/')
        loaded_in = getcwd(NULL, 0);
}

/* What fd 2 is as the program starts: its stderr, or closed (2>&-), in
 * which case the number may soon be its own file's (see lineout.h). */
__attribute__((constructor)) static void note_stderr(void)
{
    note_loaded_in();
    llf_stderr_note();
    /* The fork handlers, before the program's (see forklock.c); the
     * descriptor lock's first, whose child handler the others' need. */
    llf_fds_ready();
    llf_forklock_ready();
}

static llf_shim_services services = {LLF_CORE_ABI, enter, llf_curl_for_transfers, llf_real_connect, llf_trust_set,
                                     llf_trust_done, NULL, llf_fds_hold, llf_fds_release, NULL};
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void say(const char *msg, const char *detail)
{
    char line[PATH_MAX + 256];
    int n = snprintf(line, sizeof line, "llmfallback: %s%s%s; passing calls through untouched\n",
                     msg, detail ? ": " : "", detail ? detail : "");
    mode_t type;
    int fd = llf_stderr_fd(&type), torn = 0;
    if (n > 0 && fd >= 0)
        llf_line_write(fd, type, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, &torn);
}

static void load_core(void)
{
    Dl_info self;
    char path[PATH_MAX];
    if (!dladdr((void *)llf_core, &self) || !self.dli_fname) {
        say("cannot locate myself", NULL);
        return;
    }
    const char *slash = strrchr(self.dli_fname, '/');
    int dir = slash ? (int)(slash - self.dli_fname + 1) : 0, rel = self.dli_fname[0] != '/' && loaded_in;
    if (snprintf(path, sizeof path, "%s%s%.*slibllmfallback-core.so", rel ? loaded_in : "", rel ? "/" : "", dir,
                 self.dli_fname) >= (int)sizeof path)
        return;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        say("cannot load the core", dlerror());
        return;
    }
    llf_core_entry_fn entry = (llf_core_entry_fn)dlsym(h, LLF_CORE_ENTRY);
    services.stderr_at_load = llf_stderr_at_load();
    services.forkreg = llf_forkreg_own();
    const llf_core_api *api = entry ? entry(llf_real_curl(), &services) : NULL;
    if (api && api->abi != LLF_CORE_ABI) {
        say("core version mismatch", path);
        api = NULL;
    }
    core = api;
    if (core) {
        llf_exec_resolve();
        llf_fork_resolve();
    }
}

/* tried is set here, before the load's end, not only once pthread_once()
 * has marked it done: a child forked in between (the fork waits for the
 * load's end, so lands there) finds the once under way in a generation
 * before its own, and glibc runs load() again in it (the core was entered
 * twice, its configuration read and its warnings said again). */
static void load(void)
{
    if (llf_forked_mid_load() || __atomic_load_n(&tried, __ATOMIC_ACQUIRE))
        return;   /* (not even the handlers: see forklock.h) */
    llf_load_begin();   /* (a fork() waits for it) */
    load_core();
    __atomic_store_n(&tried, 1, __ATOMIC_RELEASE);
    llf_load_end();
}

int llf_core_tried(void)
{
    return __atomic_load_n(&tried, __ATOMIC_ACQUIRE);
}

const llf_core_api *llf_core_loaded(void)
{
    /* (tried is set after the load has ended, with core written) */
    return __atomic_load_n(&tried, __ATOMIC_ACQUIRE) ? core : NULL;
}

const llf_core_api *llf_core(void)
{
    if (llf_disabled())
        return NULL;
    /* The load (dlopen, the core's start) runs with every signal blocked,
     * until it is over: a handler that longjmps out of the program's
     * connect(), as old C code times out a connect with SIGALRM, would
     * otherwise leave it half done (the loader's lock held, pthread_once
     * never finished: every other thread hung, this one's llf_in_lib
     * stuck). A signal that comes meanwhile is delivered after. */
    sigset_t all, was;
    int masked = !__atomic_load_n(&tried, __ATOMIC_ACQUIRE) && sigfillset(&all) == 0 &&
                 pthread_sigmask(SIG_SETMASK, &all, &was) == 0;
    int saved = llf_in_lib;
    llf_in_lib = 1;   /* the core's own curl_url calls must not land in hooks */
    pthread_once(&once, load);
    __atomic_store_n(&tried, 1, __ATOMIC_RELEASE);   /* (whichever way load ended) */
    llf_in_lib = saved;
    if (masked)
        pthread_sigmask(SIG_SETMASK, &was, NULL);
    return core;
}
