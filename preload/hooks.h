/* hooks.h — what every hook shares: the reentrancy guard and the real
 * functions behind the hooked symbols.
 *
 * The guard is thread-local: while llmfallback itself is inside libcurl (an
 * attempt on the program's handle), libcurl's own calls through the PLT to
 * exported curl_* functions must go straight to the real ones. */
#ifndef LLF_HOOKS_H
#define LLF_HOOKS_H

#include <sys/socket.h>

#include "curlapi.h"

#define LLF_EXPORT __attribute__((visibility("default")))

extern __thread int llf_in_lib __attribute__((tls_model("initial-exec")));

/* Set while a libcurl transfer the curl hook let pass runs on this thread:
 * its connections go where the program sent them, not to the relay (the
 * curl path does its own fallback, and has decided this one needs none).
 * Only connect() looks at it, for the whole transfer, but for the multi
 * calls the program's callbacks make meanwhile on a multi handle of its
 * own (hook_curl.c, curl_multi_perform): a connection a callback opens
 * otherwise (a socket of its own) goes direct too. */
extern __thread int llf_curl_direct __attribute__((tls_model("initial-exec")));

/* The socket the last connect() under either guard on this thread was
 * made on (-1: none since it was reset): the connection a transfer of
 * ours opened, whose send queue tells when its request has reached the
 * server (curl_capture.c, llf_cap_progress). */
extern __thread int llf_guard_connect __attribute__((tls_model("initial-exec")));

/* The frame of the hook that set either guard around a real transfer (NULL:
 * none, or a thread of ours, guarded for good). The program may leave that
 * transfer by a jump (siglongjmp from a signal handler) and skip the reset:
 * a call from a frame above it cannot be nested in it (the stack grows
 * down), so there the guards are stale (see curl_easy_perform). */
extern __thread void *llf_guard_frame __attribute__((tls_model("initial-exec")));

/* Set for good on the library's own threads (the relay's, the shadow
 * worker): socketpair() and pipe() made there are close-on-exec (see
 * hook_fd.c). Never set on a thread of the program. */
extern __thread int llf_own_thread __attribute__((tls_model("initial-exec")));

/* The descriptor lock (hook_fd.c): the library holds it for each look at
 * a number of its own and the act on it, and while it makes and owns one,
 * so that no thread of ours frees or takes a number in between (see
 * guest.h; the program's closes do not wait for it). Recursive within a
 * thread. Never taken before a lock of ours (it is the innermost), and
 * nothing held under it waits: send and recv without waiting, no libcurl
 * call. */
void llf_fds_hold(void);
void llf_fds_release(void);
/* Installs its fork handler (a child's lock made anew), as the shim loads. */
void llf_fds_ready(void);

/* llf_in_lib as a hook the program calls reads it: both guards reset first
 * when they are stale, seen from the hook's frame. */
int llf_guard_live(const void *frame);
#define LLF_IN_LIB() llf_guard_live(__builtin_frame_address(0))

/* The real libcurl, resolved once, thread-safely, never our own hooks.
 * NULL members mean the symbol could not be found. */
const llf_curl_api *llf_real_curl(void);

/* The same table, with libcurl.so.4 dlopen'ed (RTLD_LOCAL) when the host has
 * none: for transfers the library makes itself (the relay). NULL when no
 * libcurl can be had. */
const llf_curl_api *llf_curl_for_transfers(void);

/* The real connect(), resolved once. */
int llf_real_connect(int fd, const struct sockaddr *sa, socklen_t len);

/* fds the connect hook sent to the relay for a TLS provider: the SSL hooks
 * make their sessions virtual when the SNI names the provider. */
void llf_fd_mark(int fd, int tls_redirected);
/* The kernel's getpeername(), past our hook (which names the provider on a
 * socket sent to the relay). */
int  llf_real_getpeername(int fd, struct sockaddr *sa, socklen_t *len);
/* Is peer the relay's listening address (of its family)? */
struct llf_core_api;
int  llf_is_relay(const struct llf_core_api *core, const struct sockaddr *peer);
int  llf_fd_tls_redirected(int fd);
/* Where fd, sent to the relay, meant to go (its last such connect): 0, or
 * -1 when it never was. */
int  llf_fd_orig(int fd, struct sockaddr_storage *out);

/* The real exec functions looked up ahead of need (hook_exec.c): at the
 * core's load, so that a vfork child of a process that made a call need not
 * look them up itself. */
void llf_exec_resolve(void);
/* The real fork(), looked up now (hook_fork.c): at the core's load, so that
 * a process that made a call has it before a signal handler forks. */
void llf_fork_resolve(void);

/* 1 when LLMFALLBACK_DISABLE asks for pure pass-through (read once). */
int llf_disabled(void);
/* The program's libssl or libcrypto function name, or NULL (sslsym.c). */
void *llf_openssl_sym(const char *name);

#endif
