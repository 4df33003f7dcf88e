/* forklock.h — the library's mutexes across fork(), in the shim and the
 * core alike.
 *
 * A child forked while another thread held one of our locks would find it
 * held for ever, and what it guards (a hash table, a list, an address's
 * binding) half changed. A lock registered here is taken by fork() before
 * it forks, so what it guards is whole in the child; it is given back in
 * the parent and made anew in the child (whose thread has another id).
 *
 * Each is recursive: a host may fork from a signal handler that
 * interrupted this very thread inside one of our locks, and must not wait
 * for itself (that one thing may then be half changed in the child, as it
 * would be without the lock). None of these is held while another is
 * taken, so the order fork() takes them in does not matter.
 *
 * A lock under which one of these is taken (the relay's pool: a handle's
 * clean-up closes its sockets through guest.c and frees its sessions
 * through hook_ssl.c) is not registered here: its handlers are chained
 * (llf_fork_chain), and its prepare one runs before these are taken.
 *
 * The shim installs the handlers as it is loaded, before the program can
 * install its own, so that ours run after the program's (see forklock.c);
 * the core's registrations go to the shim's registry (llf_forklock_use),
 * none to glibc's. */
#ifndef LLF_FORKLOCK_H
#define LLF_FORKLOCK_H

#include <pthread.h>

#define LLF_FORKLOCK_INIT PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP

/* The library's own loading (the core's dlopen() and set-up, libcurl's
 * for its transfers), which the program never asked for and cannot time
 * its forks around: a child forked mid-dlopen() has the dynamic loader's
 * lists half changed, and its next dlopen() anywhere fails glibc's
 * assertions (seen: a Python child whose parent's other thread was making
 * its first call). So fork() waits for a load under way, up to a second:
 * first before it forks (llf_fork_settle, from hook_fork.c), then in its
 * prepare handler for one begun since (there a load may wait on the fork:
 * pthread_atfork() waits while handlers run). Still, a child forked in the
 * second case lacks the fork handlers the load installed
 * meanwhile (glibc runs those installed when the fork began), so the
 * core's state is not safe there: a child forked while a load was under
 * way loads nothing and passes everything through (llf_forked_mid_load),
 * and so do its children. */
void llf_load_begin(void);
void llf_load_end(void);
int llf_forked_mid_load(void);
/* What fork() does before it forks (hook_fork.c): waits for the loads
 * under way, a second at most, holding no lock, while a load may still
 * install its fork handlers, which it cannot once the fork has begun.
 * Returns whether this fork was counted; llf_fork_settled(that) after the
 * fork, in the parent, lets the load that waited for it go on. */
int llf_fork_settle(void);
void llf_fork_settled(int counted);

/* Installs the handlers now (else at the first llf_forklock). 0 or -1. */
int llf_forklock_ready(void);

/* Registers m (made with LLF_FORKLOCK_INIT), once, before its first use.
 * 0, or -1 when the handlers could not be installed (no
 * memory) or the registry is full. */
int llf_forklock(pthread_mutex_t *m);

/* Handlers of a lock that is taken before the registered ones (as
 * pthread_atfork's; any may be NULL), run by the registry's own: prepare
 * before the registered locks are taken, parent and child after they are
 * given back or made anew. A child handler must not allocate nor free:
 * what needs to goes in `after`, run in the child once every fork handler
 * has (llf_fork_child_done, from the fork hooks). The same four chained
 * again are kept once. 0, or -1 when full. */
int llf_fork_chain(void (*prepare)(void), void (*parent)(void), void (*child)(void), void (*after)(void));
/* In a child, as fork() returns there: the chained "after" handlers. */
void llf_fork_child_done(void);

/* The registry as the shim gives it to the core, and the core's use of it
 * (at its entry, before any registration): one set of handlers in all. */
typedef struct llf_forkreg {
    int (*lock)(pthread_mutex_t *m);
    int (*chain)(void (*prepare)(void), void (*parent)(void), void (*child)(void), void (*after)(void));
} llf_forkreg;
const llf_forkreg *llf_forkreg_own(void);
void llf_forklock_use(const llf_forkreg *shim);

#endif
