/* execafter.c — a libcurl program that makes a chat call and then replaces
 * itself with another program, through the exec function it is told:
 *
 *   execafter [-a] CHAT_URL HOW PROGRAM [ARG...]
 *
 * HOW is execve, execv, execvp, execvpe, execl, execlp, execle, fexecve or
 * execveat (PROGRAM is a path, or a name looked up on PATH for the p
 * forms; the list forms take up to 4 arguments), or vfork: a vfork() child
 * execs PROGRAM with execv while this process waits for it, then exits; or
 * signal: a SIGALRM handler execs PROGRAM with execv, while the program
 * loops on localtime_r and malloc.
 * An exec that fails is said ("exec failed errno=N"), and the program
 * exits 0, after one more call with -a. Prints one line per call:
 * "call pid=N status=S answer=WHO". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

extern char **environ;

static void chat(const char *url)
{
    const char *key = getenv("OPENAI_API_KEY");
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key ? key : "");
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, auth);
    CURL *h = curl_easy_init();
    char *body = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&body, &len);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS,
                     "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    curl_easy_perform(h);
    fclose(out);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    const char *who = body ? strstr(body, "Hello from ") : NULL;
    printf("call pid=%d status=%ld answer=%.*s\n", (int)getpid(), code,
           who ? (int)strcspn(who + 11, " ") : 1, who ? who + 11 : "-");
    fflush(stdout);
    free(body);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
}

static char **volatile sig_argv;   /* (read by the handler only) */

static void exec_on_signal(int sig)
{
    (void)sig;
    execv(sig_argv[0], sig_argv);
    _exit(127);
}

static int run(const char *how, char **a, int n)
{
    const char *p = a[0];
#define L(i) ((i) < n ? a[i] : NULL)
    if (!strcmp(how, "execve"))
        return execve(p, a, environ);
    if (!strcmp(how, "execv"))
        return execv(p, a);
    if (!strcmp(how, "execvp"))
        return execvp(p, a);
    if (!strcmp(how, "execvpe"))
        return execvpe(p, a, environ);
    if (!strcmp(how, "execl"))
        return n > 4 ? -2 : execl(p, a[0], L(1), L(2), L(3), (char *)NULL);
    if (!strcmp(how, "execlp"))
        return n > 4 ? -2 : execlp(p, a[0], L(1), L(2), L(3), (char *)NULL);
    if (!strcmp(how, "execle"))
        switch (n) {
        case 1: return execle(p, a[0], (char *)NULL, environ);
        case 2: return execle(p, a[0], a[1], (char *)NULL, environ);
        case 3: return execle(p, a[0], a[1], a[2], (char *)NULL, environ);
        case 4: return execle(p, a[0], a[1], a[2], a[3], (char *)NULL, environ);
        default: return -2;
        }
    if (!strcmp(how, "fexecve")) {
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        return fd < 0 ? -1 : fexecve(fd, a, environ);
    }
    if (!strcmp(how, "execveat"))
        return execveat(AT_FDCWD, p, a, environ, 0);
    if (!strcmp(how, "vfork")) {
        pid_t pid = vfork();
        if (pid == 0) {
            execv(p, a);
            _exit(127);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) != pid)
            return -1;
        printf("vfork child status=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        fflush(stdout);
        return 0;
    }
#undef L
    if (!strcmp(how, "signal")) {
        /* exec from a signal handler (async-signal-safe), interrupting
         * code that takes glibc's locks: the time zone's, malloc's */
        sig_argv = a;
        signal(SIGALRM, exec_on_signal);
        struct itimerval it = {{0, 0}, {0, 20000}};
        setitimer(ITIMER_REAL, &it, NULL);
        for (;;) {
            time_t t = time(NULL);
            struct tm tm;
            localtime_r(&t, &tm);
            free(malloc(64 + (size_t)tm.tm_sec));
        }
    }
    return -2;
}

int main(int argc, char **argv)
{
    int again = argc > 1 && !strcmp(argv[1], "-a");
    if (argc < 4 + again)
        return 2;
    const char *url = argv[1 + again], *how = argv[2 + again];
    curl_global_init(CURL_GLOBAL_ALL);
    chat(url);
    int rc = run(how, argv + 3 + again, argc - 3 - again);
    if (rc == -2) {
        fprintf(stderr, "execafter: %s: unknown, or too many arguments\n", how);
        return 2;
    }
    if (rc < 0) {
        printf("exec failed errno=%d\n", errno);
        fflush(stdout);
        if (again)
            chat(url);
    }
    curl_global_cleanup();
    return 0;
}
