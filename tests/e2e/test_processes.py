"""Processes: a shell script whose children all inherit LD_PRELOAD, a
stress run of many threads against providers failing at random, connections
across fork(), and daemons that close every descriptor."""
import atexit
import json
import os
import subprocess
import threading

from harness import (BUILD, CURL, LIB, SANITIZED, KEYS, PY, Failed, Mock, Skipped, chat_body, check, env_for, eq, new_log,
                     read_log, run, tmpdir, write_config)
from pyclients import PEERS, PRELUDE, check_relayed

_m = None


def mock():
    global _m
    if _m is None:
        _m = Mock([{"name": "primary", "dialect": "openai", "key": KEYS["OPENAI_API_KEY"]},
                   {"name": "backup", "dialect": "openai", "key": KEYS["BACKUP_KEY"]},
                   {"name": "spare", "dialect": "openai", "key": KEYS["SPARE_KEY"]}])
        atexit.register(_m.stop)
    _m.reset_all()
    for n in _m.servers:
        _m.set(n, behaviour="ok", retry_after=None)
    return _m


def config(m, **extra):
    cfg = {"providers": {
        "openai": {"base_url": m.base("primary")},
        "backup": {"dialect": "openai", "base_url": m.base("backup"), "api_key_env": "BACKUP_KEY"},
        "spare": {"dialect": "openai", "base_url": m.base("spare"), "api_key_env": "SPARE_KEY"}},
        "chain": ["backup/gpt-4o-mini", "spare/gpt-4o-mini"]}
    cfg.update(extra)
    return write_config(cfg, "processes.json")


def test_shell_script_children_each_behave():
    m = mock()
    m.set("primary", behaviour="503")
    log = new_log("script.log")
    script = f"""
for i in $(seq 20); do
  {CURL} -sS {m.base('primary')}/chat/completions -H "Authorization: Bearer $OPENAI_API_KEY" \\
    -d '{{"model":"gpt-4o","messages":[{{"role":"user","content":"hi [rid:s'$i']"}}]}}' | grep -o 'rid:s[0-9]*'
done
"""
    r = run(["/bin/bash", "-c", script], env_for(config(m), log), timeout=120)
    eq(r.stdout.decode().split(), [f"rid:s{i}" for i in range(1, 21)], "twenty answers, each its own")
    lines = read_log(log)
    summaries = [l for l in lines if l["event"] == "summary"]
    eq(len(summaries), 20, "one summary per curl process (bash itself made no call)")
    eq(len({l["pid"] for l in summaries}), 20, "twenty processes")
    check(all((s["calls"], s["fallbacks"]) == (1, 1) for s in summaries), "each counted its own call")


def test_two_copies_of_the_library_in_one_process_act_once():
    """Nested wrappers of two installs put two copies in LD_PRELOAD. The
    program's calls reach the first copy's hooks, and that copy's calls of
    the real functions the second's: only the first may act. (Before, curl's
    call was logged with a third, invented attempt and two summaries, and a
    Python program got a false "base_url is not a valid URL" line.)"""
    m = mock()
    m.set("primary", behaviour="503")
    other = os.path.join(tmpdir(), "second-install")
    os.makedirs(other, exist_ok=True)
    for f in ("libllmfallback.so", "libllmfallback-core.so"):
        subprocess.run(["cp", os.path.join(os.path.dirname(LIB), f), other], check=True)
    body = '{"model":"gpt-4o","messages":[{"role":"user","content":"hi [rid:two]"}]}'
    for prog in ([CURL, "-sS", m.base("primary") + "/chat/completions", "-H", "Authorization: Bearer " +
                  KEYS["OPENAI_API_KEY"], "-d", body],
                 [PY, "-c", "import sys, urllib.request; print(urllib.request.urlopen(urllib.request.Request("
                  "sys.argv[1], data=sys.argv[2].encode(), headers={'Authorization': 'Bearer ' + sys.argv[3], "
                  "'Content-Type': 'application/json'}), timeout=10).read().decode())",
                  m.base("primary") + "/chat/completions", body, KEYS["OPENAI_API_KEY"]]):
        log = new_log("two-copies.log")
        env = env_for(config(m), log)
        env["LD_PRELOAD"] += " " + os.path.join(other, "libllmfallback.so")
        r = run(prog, env)
        check(b"rid:two" in r.stdout, f"{prog[0]}: the backup's answer ({r.stdout[:200]!r} {r.stderr[-600:]!r})")
        eq([l for l in r.stderr.decode().splitlines() if "llmfallback" in l], [], f"{prog[0]}: nothing on stderr")
        lines = read_log(log)
        eq([(l["provider"], l["outcome"]) for l in lines if l["event"] == "attempt"],
           [("openai", "http_error"), ("backup", "ok")], f"{prog[0]}: the two attempts, once")
        eq(len([l for l in lines if l["event"] == "summary"]), 1, f"{prog[0]}: one summary")


def test_stress_threads_random_failures():
    """32 threads x 500 calls in one libcurl process; every provider fails 30 %
    of the time at random. Every call ends in a valid answer carrying its own
    tag or in its original failure; the per-process budget holds exactly."""
    m = mock()
    for n in ("primary", "backup", "spare"):
        m.set(n, behaviour="random:30")
    log = new_log("stress.log")
    budget = 3000
    cfg = config(m, attempts={"per_call": 3, "per_process": budget})
    ex = os.path.join(BUILD, "examples/chat_client")
    r = run([ex, m.base("primary") + "/chat/completions", "-n", "500", "-t", "32"], env_for(cfg, log), timeout=300)
    lines = r.stdout.decode().splitlines()
    eq(len(lines), 16000, f"16000 calls ended ({r.stderr.decode()[-300:]})")
    good = [l for l in lines if "status=200" in l]
    bad = [l for l in lines if "status=200" not in l]
    check(all("rid=ok" in l for l in good), "every answer belongs to its own request")
    check(all("status=503" in l and "provider=-" in l for l in bad), "the rest got their original failure")
    attempts = [l for l in read_log(log) if l["event"] == "attempt"]
    extra = sum(1 for a in attempts if a["attempt"] > 1)
    # (the primary alone fails some 4,800 of the calls, each wanting an extra
    # attempt or more: the budget is spent, to the last attempt and no further)
    eq(extra, budget, "extra attempts: the whole budget, exactly")
    summary = [l for l in read_log(log) if l["event"] == "summary"][0]
    eq(summary["calls"], 16000, "all counted")
    eq(sum(len(m.requests(n)) for n in ("primary", "backup", "spare")), 16000 + extra, "requests = calls + extra attempts")
    check(len(bad) > 0, "once the budget is spent, failures reach the program")


def python(m, script, env, timeout=60):
    """script after the Python prelude (urllib_chat), calling the primary."""
    return run([PY, "-c", PRELUDE + script, m.base("primary") + "/chat/completions"], env, timeout=timeout)


def test_log_file_opened_at_first_line_and_never_into_a_reused_fd():
    """The log is opened at the first line a process writes, not at load: a
    process that only resolves a name creates no file. A daemon that closes
    every descriptor and opens its own data file on the same number keeps
    its file clean: the log is opened again."""
    m = mock()
    m.set("primary", behaviour="503")
    log = new_log("lazy.log")
    idle = "import socket; socket.getaddrinfo('localhost', 9)"
    r = run(["/usr/bin/python3", "-c", idle], env_for(config(m), log))
    eq(r.returncode, 0, "idle process ran")
    check(not os.path.exists(log), "an idle process created no log file")
    data = log + ".data"
    daemon = f"""
import socket
socket.getaddrinfo('localhost', 9)          # the core loads
os.closerange(3, 1024)                      # a daemon's usual start
fd = os.open({data!r}, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
urllib_chat("d")
print("answered")
os.write(fd, b"mine\\n")
"""
    r = python(m, daemon, env_for(config(m), log))
    eq(r.stdout.decode().strip(), "answered", f"daemon answered ({r.stderr.decode()[-300:]})")
    eq(open(data).read(), "mine\n", "the daemon's own file holds only its own bytes")
    events = [l["event"] for l in read_log(log)]
    eq(events.count("attempt"), 2, "both attempts logged to the log file")


def test_a_log_nobody_reads_neither_kills_nor_holds_the_program():
    """A log whose reader has left (stderr into a pipe that closed, as
    `prog 2>&1 | head -1` does) raised SIGPIPE on a line of ours, and a
    program that does not ignore it (examples/chat_client) died of it; a log
    that is a FIFO no one has opened held the call, and every thread behind
    it, for ever. Each gets what the program would have without the
    library."""
    m = mock()
    m.set("primary", behaviour="503")
    m.set("backup", behaviour="503")
    m.set("spare", behaviour="503")
    ex = os.path.join(BUILD, "examples/chat_client")
    argv = [ex, m.base("primary") + "/chat/completions", "-n", "3"]

    def closed_stderr(env):
        with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              start_new_session=True) as p:
            p.stderr.close()   # its reader gone before the first line
            out, _ = p.communicate(timeout=30)
            return p.returncode, out
    plain = closed_stderr(env_for(preload=False))
    withlib = closed_stderr(env_for(config(m), "stderr"))
    eq(withlib, plain, "stderr into a closed pipe: the same exit and output as without the library")
    check(withlib[0] != -13, "not killed by SIGPIPE")
    fifo = new_log("nobody.fifo")
    os.mkfifo(fifo)
    m.set("backup", behaviour="ok")
    try:
        r = run([CURL, "-sS", m.base("primary") + "/chat/completions", "-H",
                 f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", '{"model":"gpt-4o","messages":[]}'],
                env_for(config(m), fifo), timeout=20)
    except subprocess.TimeoutExpired:
        raise Failed("a FIFO log with no reader held the call")
    check(b"Hello from backup" in r.stdout, f"a FIFO log with no reader: the call answered ({r.stdout[-200:]!r})")
    warn = [l for l in r.stderr.decode().splitlines() if l.startswith("llmfallback: log ") and "nobody reads yet" in l]
    eq(len(warn), 1, f"and one line saying its lines are dropped until it is read ({r.stderr.decode()[-300:]})")


def test_a_log_whose_reader_stopped_reading_does_not_hold_the_program():
    """A log whose reader stopped reading: a FIFO a stalled shipper holds
    open, or LLMFALLBACK_LOG=stderr under a parent that reads the program's
    stdout before its stderr. The pipe filled after ~330 lines and the next
    line's write() held the program for ever (and the parent waiting for it).
    Lines that do not fit are dropped, said once, counted."""
    m = mock()
    ex = os.path.join(BUILD, "examples/chat_client")
    argv = [ex, m.base("primary") + "/chat/completions", "-n", "600"]
    fifo = new_log("stalled.fifo")
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)   # open, never read
    try:
        r = run(argv, env_for(config(m), fifo), timeout=60)
    except subprocess.TimeoutExpired:
        raise Failed("a FIFO log nobody drains held the program")
    finally:
        os.close(reader)
    eq((r.returncode, len(r.stdout.splitlines())), (0, 600), f"FIFO: every call made ({r.stderr.decode()[-300:]})")
    said = [l for l in r.stderr.decode().splitlines() if "does not take every line" in l]
    eq(len(said), 1, f"FIFO: the dropped lines said once on stderr ({r.stderr.decode()[-300:]})")

    env = env_for(config(m), "stderr")
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          start_new_session=True) as p:
        timer = threading.Timer(60, lambda: os.killpg(p.pid, 9))
        timer.start()
        out = p.stdout.read()   # stdout first, as a harness may
        err = p.stderr.read()
        p.wait()
        timer.cancel()
    eq((p.returncode, len(out.splitlines())), (0, 600),
       "LLMFALLBACK_LOG=stderr read after stdout: every call made (-9: it and its parent waited for each other)")
    lines = err.decode().splitlines()
    check(lines and all(l.startswith('{"ts"') or "does not take every line" in l for l in lines),
          f"whole lines only ({lines[:2]})")


def test_a_program_started_with_stderr_closed_gets_none_of_ours_on_its_fd_2():
    """A program started with stderr closed (2>&-) gets number 2 for the
    next file it opens. The library wrote its warnings there, and with
    LLMFALLBACK_LOG=stderr its log lines: into the program's data file, or
    into its keep-alive connection to a provider, as the start of its next
    request. Nothing of ours goes on fd 2 unless it is the stderr the
    program started with."""
    m = mock()
    m.set("primary", behaviour="503")
    data = new_log("closed2.data")
    script = f"""
fd = os.open({data!r}, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, b"fd=%d\\n" % fd)
for i in range(2):
    try:
        urllib_chat("c%d" % i)
        os.write(fd, b"answered\\n")
    except Exception as e:
        os.write(fd, b"failed\\n")
"""
    typo = write_config({"providers": {"openai": {"base_url": m.base("primary")}}, "chian": []}, "typo.json")
    argv = ["/bin/sh", "-c", 'exec "$@" 2>&-', "sh", PY, "-c", PRELUDE + script, m.base("primary") + "/chat/completions"]
    for what, env, want in (("LLMFALLBACK_LOG=stderr", env_for(config(m), "stderr"), "answered"),
                            ("a log it cannot open (a warning)", env_for(config(m), "/nonexistent/x.log"), "answered"),
                            ("a config with a typo (a warning)", env_for(typo), "failed")):
        r = run(argv, env)
        eq(r.returncode, 0, f"{what}: ran ({r.stderr.decode()[-300:]})")
        eq(open(data).read(), f"fd=2\n{want}\n{want}\n", f"{what}: the program's file on fd 2 holds its own bytes only")


def test_a_log_on_the_programs_stdout_file_writes_at_its_offset():
    """LLMFALLBACK_LOG=/dev/stdout (or /proc/self/fd/1) with the program's
    stdout a file it was given with >: the log opened that file anew, at an
    offset of its own, and a script's echoes went over the log's lines
    (torn JSON, attempts lost). It now writes through a copy of the
    program's descriptor: every line of both, whole, in the order made."""
    m = mock()
    m.set("primary", behaviour="503")
    out, answers = new_log("stdout.txt"), new_log("answers.txt")
    # (the answers to a file of their own, by curl: its stdout is
    # buffered, and a log line may come between two of its writes, as on
    # any shared stream)
    script = 'for i in 1 2; do echo "line $i before"; curl -s -o "$2.$i" -H "content-type: application/json" ' \
             '-H "Authorization: Bearer $OPENAI_API_KEY" -d "$0" "$1"; echo "line $i after"; done'
    for name in ("/dev/stdout", "/proc/self/fd/1"):
        with open(out, "wb") as f:
            r = subprocess.run(["bash", "-c", script, chat_body(), m.base("primary") + "/chat/completions", answers],
                               env=env_for(config(m), name), stdout=f, stderr=subprocess.PIPE, timeout=60)
        eq(r.returncode, 0, f"{name}: ran ({r.stderr.decode()[-300:]})")
        lines = open(out).read().splitlines()
        eq([l for l in lines if not l.startswith('{"ts"')], ["line 1 before", "line 1 after", "line 2 before", "line 2 after"],
           f"{name}: the program's lines, whole and in order")
        eq([json.loads(l).get("event") for l in lines if l.startswith('{"ts"')], ["attempt", "attempt", "summary"] * 2,
           f"{name}: every log line, whole")
        eq(["Hello from backup" in open(f"{answers}.{i}").read() for i in (1, 2)], [True, True],
           f"{name}: both calls answered by the backup")


def test_a_set_user_id_program_passes_through():
    """A set-user-ID program (secure execution: a library listed in
    /etc/ld.so.preload reaches it, LD_PRELOAD does not) is no LLM client,
    and ran as root with a configuration and a log the user running it
    named: it read the configuration (its errors were said) and fell back.
    It now passes through, as with LLMFALLBACK_DISABLE. Run in a mount
    namespace of its own whose /etc is a copy holding ld.so.preload; the
    same program without its set-user-ID bit, there, still falls back."""
    import shutil
    if os.geteuid() != 0 or SANITIZED or not shutil.which("setpriv") or not shutil.which("unshare"):
        raise Skipped("needs root, setpriv and unshare, and the plain library (the sanitized one needs its runtime first)")
    m = mock()
    m.set("primary", behaviour="503")
    import tempfile
    top = tempfile.mkdtemp(prefix="llf-suid-")   # (where nobody reaches: the suite's own is 0700)
    atexit.register(shutil.rmtree, top, True)
    os.chmod(top, 0o777)   # (and where it writes its log)
    etc = os.path.join(top, "etc")
    shutil.copytree("/etc", etc, symlinks=True)
    os.chmod(etc, 0o755)
    with open(os.path.join(etc, "ld.so.preload"), "w") as f:
        f.write(LIB + "\n")
    prog = os.path.join(top, "plainout")
    shutil.copy(os.path.join(BUILD, "progs/plainout"), prog)
    cfg = os.path.join(top, "suid.json")
    shutil.copy(config(m), cfg)
    os.chmod(cfg, 0o644)
    ns = ["unshare", "-m", "sh", "-c", 'mount --bind "$1" /etc && shift && exec "$@"', "sh", etc,
          "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    for mode, want in ((0o755, "backup"), (0o4755, "primary")):
        os.chmod(prog, mode)
        log = os.path.join(top, f"log-{mode:o}")
        env = env_for(cfg, log, preload=False, extra={"XDG_RUNTIME_DIR": top})
        r = run(ns + [prog, m.base("primary") + "/chat/completions", chat_body()], env)
        who = "set-user-ID" if mode & 0o4000 else "plain"
        out = r.stdout.decode()
        if mode == 0o755 and "Hello from" not in out:
            raise Skipped(f"no /etc of our own for the program ({r.stderr.decode()[-200:]})")
        check(f"from {want}" in out if want == "backup" else "Hello from" not in out and '"error"' in out,
              f"{who}: {'the fallback' if want == 'backup' else 'the primary 503, passed through'} ({out[-200:]})")
        eq(os.path.exists(log), want == "backup", f"{who}: a log written only by the plain one")
        check(want == "backup" or "llmfallback" not in r.stderr.decode(), f"{who}: not a word ({r.stderr.decode()[-200:]})")


def test_forked_child_without_calls_writes_no_summary():
    """A child that made no call writes no summary of its parent's counts,
    and exits. It forks right after the call, when the relay thread that
    served it once ended: a fork at that moment left one of OpenSSL's locks
    held in the child, whose atexit clean-up then waited for ever. Serving
    threads now park instead of ending. The moment is narrow: the old
    relay hung here in about 1 of 4-10 processes under ASan (the suite's
    sanitized pass), rarely without it; ten processes."""
    m = mock()
    m.set("primary", behaviour="503")
    prog = """
urllib_chat("x")
pid = os.fork()
if pid == 0:
    raise SystemExit(0)                     # exits normally, having made no call
os.waitpid(pid, 0)
"""
    for i in range(10):
        log = new_log("forksummary.log")
        try:
            r = python(m, prog, env_for(config(m), log), timeout=30)
        except subprocess.TimeoutExpired:
            raise Failed(f"process {i} hung (its forked child did not exit)")
        eq(r.returncode, 0, f"process {i} ran ({r.stderr.decode()[-300:]})")
        sums = [l for l in read_log(log) if l["event"] == "summary"]
        eq([(s["calls"], s["fallbacks"]) for s in sums], [(1, 1)], f"process {i}: one summary, the parent's")


def test_relative_log_path_is_the_starting_directory():
    """LLMFALLBACK_LOG=relative/path names a file in the directory the
    process was in when the library loaded its configuration (its first
    lookup of a provider's host name, or connection to a provider's
    address), even if the program changed directory before its first line
    was written."""
    m = mock()
    m.set("primary", behaviour="503")
    log = new_log("rel.log")
    d = os.path.dirname(log)
    prog = f"""
import socket
os.chdir({d!r})                                            # where the process is when...
socket.create_connection(("127.0.0.1", PORT)).close()      # ...the library loads its configuration
os.chdir("/")
urllib_chat("x")
"""
    env = env_for(config(m))
    env["LLMFALLBACK_LOG"] = "rel.log"
    r = python(m, prog.replace("PORT", str(m.port("primary"))), env)
    eq(r.returncode, 0, f"answered ({r.stderr.decode()[-300:]})")
    eq([l["event"] for l in read_log(log)].count("attempt"), 2, "both attempts in the starting directory's file")


def test_a_relative_preload_path_serves_a_program_that_changed_directory():
    """LD_PRELOAD=build/libllmfallback.so, a path relative to where the
    program starts, as the dynamic loader reads it; the library loads its
    core from beside itself at the first call. A program that changed
    directory first (daemon(), os.chdir) found no core there: "cannot load
    the core", and every call passed through. The directory it was loaded
    from is kept as the program starts."""
    m = mock()
    m.set("primary", behaviour="503")
    env = env_for(config(m))
    lib = os.path.abspath(LIB)
    base = os.path.dirname(os.path.dirname(lib))
    env["LD_PRELOAD"] = env["LD_PRELOAD"].replace(LIB, os.path.relpath(lib, base))
    r = run([PY, "-c", PRELUDE + "os.chdir('/')\nprint(urllib_chat('rel'))", m.base("primary") + "/chat/completions"],
            env, cwd=base)
    err = r.stderr.decode()
    check(r.stdout.decode().startswith("Hello from backup"), f"the backup answered ({err[-300:]})")
    check("cannot load the core" not in err, f"the core was found ({err[-300:]})")


def test_a_program_closing_every_descriptor_between_calls_gets_its_own_answers():
    """A program that closes every descriptor again and again, calls in
    between (each answer's head read, its body left): the relay's thread may
    still be writing a body when its number is freed and taken by the next
    connection. Every call gets its own answer, never the last one's body in
    front of it (1 to 6 calls in 5000 did), and the relays the closes left
    behind end: their threads were kept for ever, one per close."""
    m = mock()
    script = """
import json, os, time, urllib.request
url = URL
errors, ok = [], 0
for c in range(400):
    for i in range(5):
        try:
            req = urllib.request.Request(url, data=json.dumps({"model": "gpt-4o", "messages": [
                {"role": "user", "content": f"hi [rid:{c}-{i}]"}]}).encode(), headers={"Content-Type": "application/json",
                "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
            with urllib.request.urlopen(req, timeout=30) as r:
                if i == 0:
                    body = r.read().decode()
                    if f"[rid:{c}-{i}]" not in body:
                        errors.append(f"{c}-{i}: {body[:80]}")
                ok += r.status == 200
        except Exception as e:
            errors.append(f"{c}-{i}: {e!r}"[:200])
    os.closerange(3, 4096)
def threads():
    return int([l for l in open("/proc/self/status") if l.startswith("Threads")][0].split()[1])
busy = threads()
time.sleep(6.5)
print(json.dumps({"ok": ok, "errors": errors[:5], "nerrors": len(errors), "busy": busy, "idle": threads()}))
"""
    log = new_log("closeall-calls.log")
    r = python(m, PEERS + script.replace("URL", "__import__('sys').argv[1]"), env_for(config(m), log), timeout=180)
    out = json.loads(r.stdout.decode().strip().splitlines()[-1])
    eq((out["ok"], out["nerrors"]), (2000, 0), f"every call its own answer ({out['errors']}; {r.stderr.decode()[-300:]})")
    check_relayed(r, m.port("primary"), "every call")
    eq(sum(e.get("event") == "attempt" for e in read_log(log)), 2000, "every call logged its attempt")
    check(out["idle"] <= 4, f"the relays the closes left behind ended ({out['busy']} threads busy, {out['idle']} idle)")


# ---- connections and descriptors across fork() and closerange() -------------

_t = None


def tls_mock():
    global _t
    if _t is None:
        _t = Mock([{"name": "tp", "dialect": "openai", "key": KEYS["OPENAI_API_KEY"], "tls": True},
                   {"name": "tb", "dialect": "openai", "key": KEYS["BACKUP_KEY"], "tls": True}])
        atexit.register(_t.stop)
    _t.reset_all()
    for n in _t.servers:
        _t.set(n, behaviour="ok", retry_after=None)
    return _t


def both_schemes():
    """(scheme, mock, primary, backup, config, env maker) for plain http
    (the socket path) and https (virtual TLS)."""
    m = mock()
    yield "http", m, "primary", "backup", config(m), lambda log=None: env_for(config(m), log)
    t = tls_mock()
    cfg = write_config({"providers": {
        "openai": {"base_url": t.base("tp")},
        "backup": {"dialect": "openai", "base_url": t.base("tb"), "api_key_env": "BACKUP_KEY"}},
        "chain": ["backup/gpt-4o-mini"]}, "processes-tls.json")
    yield "https", t, "tp", "tb", cfg, lambda log=None: env_for(
        cfg, log, extra={"SSL_CERT_FILE": t.ca, "REQUESTS_CA_BUNDLE": t.ca})


# Before a test program forks after a call: a moment for the relay thread
# that served it to finish with it. In the sanitized pass a fork while that
# thread frees memory can hand the child ASan's allocator lock held (gcc
# 12's ASan takes no fork lock; glibc's malloc does), and the child hangs on
# its first allocation: the sanitizer's limit, not the library's.
SETTLE = "time.sleep(0.2)\n"
# Under ASan, a fork waits for the adopter thread the fork before it started:
# GCC 12's libasan allocator is not fork-safe (no lock taken around fork), so
# a fork while another thread is inside malloc leaves that lock held in the
# child, which then hangs at its first allocation (5 of 12 runs, before
# this session's changes too). glibc's malloc is: the plain pass forks at once.
SAN_SETTLE = "time.sleep(1.0)\n" if SANITIZED else ""

# One connection (http.client, kept alive), plain or TLS as URL says; call(tag)
# is one call on it: "status provider-header answerer".
CONN = """
import http.client, socket, ssl, time, urllib.parse
u = urllib.parse.urlsplit(URL)
if u.scheme == "https":
    c = http.client.HTTPSConnection(u.hostname, u.port, timeout=5, context=ssl.create_default_context())
else:
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
def call(tag):
    c.request("POST", u.path, body=body(tag), headers=HDRS)
    r = c.getresponse()
    d = json.loads(r.read())
    return "%d %s %s" % (r.status, r.getheader("x-llmfallback-provider") or "-", d["choices"][0]["message"]["content"].split()[2])
def attempt(tag):
    t = time.time()
    try:
        return call(tag)
    except (OSError, http.client.HTTPException) as e:
        return "%s after %.1fs" % (type(e).__name__, time.time() - t)
"""


def test_a_child_keeps_the_connection_its_parent_left():
    """A call, then fork(), and the parent leaves (a daemon's start); the
    child goes on with the connection it inherited, kept alive, as it would
    with the provider: its relay takes the connection over (here its call
    falls back, so its own relay ran it). It used to wait for ever: nobody
    served the relay's end of the connection in the child."""
    for scheme, m, prim, back, cfg, envf in both_schemes():
        m.set(prim, behaviour=["ok", "503"])
        log = new_log(f"adopt-{scheme}.log")
        prog = PEERS + CONN + """
print("parent", call("p"), flush=True)
""" + SETTLE + """if os.fork():
    os._exit(0)
time.sleep(0.5)
print("child", os.getpid(), attempt("c"), flush=True)
"""
        r = run([PY, "-c", PRELUDE + prog, m.base(prim) + "/chat/completions"], envf(log), timeout=30)
        lines = r.stdout.decode().splitlines()
        eq(len(lines), 2, f"{scheme}: parent and child ({r.stderr.decode()[-300:]})")
        eq(lines[0], f"parent 200 - {prim}", f"{scheme}: the parent's call")
        child = lines[1].split(" ", 2)
        eq(child[2], f"200 backup {back}", f"{scheme}: the child's call, on the same connection")
        check_relayed(r, m.port(prim), f"{scheme}: the connection")
        steps = [(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt" and l["pid"] == int(child[1])]
        eq(steps, [("openai", "http_error"), ("backup", "ok")], f"{scheme}: the child's relay ran its call")


# How the parent leaves in the test below: glibc's daemon() and forkpty()
# fork inside glibc, past the fork() hook; the child still takes over.
# forkpty()'s child has the pty for its output, so it writes to the pipe it
# had, and shrugs off the hangup of its pty when the parent leaves; the
# parent leaves once the child has taken the pty for its terminal (glibc's
# forkpty() child ends at once if the master is closed before).
LEAVE = {
    "daemon": """import ctypes
if ctypes.CDLL(None).daemon(1, 1) != 0:
    raise SystemExit("daemon() failed")
out = 1
""",
    "forkpty": """import signal
out = os.dup(1)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
pid, master = os.forkpty()
if pid:
    os.read(master, 1)
    os._exit(0)
os.write(1, b".")
"""}


def test_a_child_of_daemon_or_forkpty_keeps_the_connection_its_parent_left():
    """As test_a_child_keeps_the_connection_its_parent_left, with the fork
    made inside glibc by daemon() or forkpty(): their child, too, takes the
    inherited connection over once their fork handlers have run (the
    after-fork step of hook_fork.c; without it the call waits for ever)."""
    for how, leave in LEAVE.items():
        for scheme, m, prim, back, cfg, envf in both_schemes():
            m.set(prim, behaviour=["ok", "503"])
            log = new_log(f"adopt-{how}-{scheme}.log")
            prog = CONN + """
print("parent", call("p"), flush=True)
""" + SETTLE + leave + """time.sleep(0.5)
os.write(out, ("child %d %s\\n" % (os.getpid(), attempt("c"))).encode())
"""
            r = run([PY, "-c", PRELUDE + prog, m.base(prim) + "/chat/completions"], envf(log), timeout=30)
            lines = r.stdout.decode().splitlines()
            what = f"{how}, {scheme}"
            eq(len(lines), 2, f"{what}: parent and child ({r.stderr.decode()[-300:]})")
            eq(lines[0], f"parent 200 - {prim}", f"{what}: the parent's call")
            child = lines[1].split(" ", 2)
            eq(child[2], f"200 backup {back}", f"{what}: the child's call, on the same connection")
            steps = [(l["provider"], l["outcome"]) for l in read_log(log)
                     if l["event"] == "attempt" and l["pid"] == int(child[1])]
            eq(steps, [("openai", "http_error"), ("backup", "ok")], f"{what}: the child's relay ran its call")


def test_a_daemons_grandchild_keeps_its_session():
    """The pattern in the wild: a call with a requests.Session, a double
    fork to become a daemon (parent and child leave), and the grandchild
    goes on with the same Session, over the connection kept alive since the
    first call (one connect in all)."""
    for scheme, m, prim, back, cfg, envf in both_schemes():
        prog = PEERS + """
import requests, time
s = requests.Session()
def call(tag):
    r = s.post(URL, data=body(tag), headers=HDRS, timeout=5)
    return "%d %s" % (r.status_code, r.json()["choices"][0]["message"]["content"].split()[2])
print("parent", call("p"), flush=True)
""" + SETTLE + """if os.fork():
    os._exit(0)
os.setsid()
""" + SAN_SETTLE + """if os.fork():
    os._exit(0)
time.sleep(0.5)
for tag in ("g1", "g2"):
    try:
        print("grandchild", call(tag), flush=True)
    except Exception as e:
        print("grandchild", type(e).__name__, flush=True)
"""
        r = run([PY, "-c", PRELUDE + prog, m.base(prim) + "/chat/completions"], envf(), timeout=30)
        eq(r.stdout.decode().splitlines(), [f"parent 200 {prim}", f"grandchild 200 {prim}", f"grandchild 200 {prim}"],
           f"{scheme}: the grandchild's calls on its session ({r.stderr.decode()[-300:]})")
        check_relayed(r, m.port(prim), f"{scheme}: the connection")
        peers = [l for l in r.stderr.decode().splitlines() if l.startswith("llf-peers")]
        eq(len(peers[-1].split()[1:]) if peers else 0, 1, f"{scheme}: one connection for all three calls")


def test_a_child_and_its_living_parent_take_turns_on_a_connection():
    """While the parent lives, the connection it handed down stays its relay's:
    the child's call on it is answered, and so is the parent's after it."""
    for scheme, m, prim, back, cfg, envf in both_schemes():
        prog = CONN + """
print("parent", call("p1"), flush=True)
""" + SETTLE + """pid = os.fork()
if pid == 0:
    print("child", attempt("c"), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
print("parent", attempt("p2"), flush=True)
"""
        r = run([PY, "-c", PRELUDE + prog, m.base(prim) + "/chat/completions"], envf(), timeout=30)
        eq(r.stdout.decode().splitlines(), [f"{who} 200 - {prim}" for who in ("parent", "child", "parent")],
           f"{scheme}: three calls on one connection ({r.stderr.decode()[-300:]})")


def test_a_parent_that_leaves_mid_call_does_not_leave_its_child_waiting():
    """The child's call on the inherited connection reaches the parent's relay
    (the parent still lives), and the parent leaves before the answer: the
    call is lost with it, and the child sees its connection reset at once,
    not an answer that never comes."""
    for scheme, m, prim, back, cfg, envf in both_schemes():
        m.set(prim, behaviour=["ok", "slow:3000"])
        prog = CONN + """
print("parent", call("p"), flush=True)
""" + SETTLE + """if os.fork():
    time.sleep(0.5)
    os._exit(0)
print("child", attempt("c"), flush=True)
"""
        r = run([PY, "-c", PRELUDE + prog, m.base(prim) + "/chat/completions"], envf(), timeout=30)
        lines = r.stdout.decode().splitlines()
        eq(len(lines), 2, f"{scheme}: parent and child ({r.stderr.decode()[-300:]})")
        what, _, after = lines[1][6:].rpartition(" after ")
        check(what in ("ConnectionResetError", "RemoteDisconnected", "SSLEOFError", "SSLError") and float(after[:-1]) < 2.5,
              f"{scheme}: the child's connection broke when its parent left ({lines[1]})")


def test_a_childs_copy_does_not_hold_back_the_end_of_a_connection():
    """A child forked while the parent's connection is open holds a copy of
    the relay's end of it. When the relay ends that connection for the
    parent (here: every attempt reset, so the program's connection is reset,
    as the primary's was), the parent sees it at once, not when the child
    exits (it used to wait for its timeout)."""
    for scheme, m, prim, back, cfg, envf in both_schemes():
        m.set(prim, behaviour=["ok", "reset"])
        for n in m.servers:
            if n != prim:
                m.set(n, behaviour="reset")
        prog = CONN + """
print("parent", call("p1"), flush=True)
""" + SETTLE + """pid = os.fork()
if pid == 0:
    time.sleep(10)
    os._exit(0)
print("parent", attempt("p2"), flush=True)
os.kill(pid, 9)
"""
        r = run([PY, "-c", PRELUDE + prog, m.base(prim) + "/chat/completions"], envf(), timeout=30)
        lines = r.stdout.decode().splitlines()
        eq(len(lines), 2, f"{scheme}: two calls ({r.stderr.decode()[-300:]})")
        what, _, after = lines[1][7:].rpartition(" after ")
        # (over https libcurl reports the reset as no reply at all, which
        # reaches the program as a close)
        check(what in ("ConnectionResetError", "RemoteDisconnected") and float(after[:-1]) < 2.5,
              f"{scheme}: the end reached the parent while the child lived ({lines[1]})")
        eq(len(m.requests(back)), 1, f"{scheme}: the reset came after the backup was asked")


def test_a_daemon_that_closes_every_descriptor_keeps_calling():
    """python-daemon and the like close every descriptor at start, the
    relay's among them, and reuse their numbers for their own servers and
    files. Calls after that are answered (the relay starts afresh), nothing
    of the program's is taken, closed or written to, and no thread of ours
    spins on a descriptor that is gone."""
    for scheme, m, prim, back, cfg, envf in both_schemes():
        m.set(prim, behaviour="503")
        data = new_log(f"daemon-{scheme}.data")
        prog = PEERS + """
import socket, time, urllib.error
def attempt(tag):
    try:
        return urllib_chat(tag)
    except (OSError, urllib.error.URLError) as e:
        return type(getattr(e, "reason", e)).__name__
print(attempt("a"), flush=True)
os.closerange(3, 1024)
mine = []
for i in range(8):                  # its own servers, on the numbers just freed
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    mine.append(s)
data = open(sys.argv[2], "w")
for tag in "bcd":
    print(attempt(tag), flush=True)
t = os.times()
time.sleep(1)
print("cpu", round(sum(os.times()[:2]) - sum(t[:2]), 1), flush=True)
got = 0
for s in mine:
    c = socket.create_connection(s.getsockname(), timeout=2)
    s.settimeout(2)
    try:
        s.accept()[0].close()
        got += 1
    except OSError:
        pass
    c.close()
print("own servers", got, flush=True)
data.write("mine\\n")
data.close()
"""
        r = run([PY, "-c", PRELUDE + prog, m.base(prim) + "/chat/completions", data], envf(), timeout=60)
        lines = r.stdout.decode().splitlines()
        eq(len(lines), 6, f"{scheme}: ran to its end ({lines} {r.stderr.decode()[-300:]})")
        eq([l.split()[2] if l.startswith("Hello") else l for l in lines[:4]], [back] * 4,
           f"{scheme}: every call answered, by the backup ({lines[:4]})")
        check_relayed(r, m.port(prim), f"{scheme}: the calls")
        check(float(lines[4].split()[1]) < 0.5, f"{scheme}: nothing spins while the program sleeps ({lines[4]})")
        eq(lines[5], "own servers 8", f"{scheme}: the program's own servers get their connections")
        eq(open(data).read(), "mine\n", f"{scheme}: the program's file holds its own bytes")


# ---- exec: one summary per process image -------------------------------------

EXECAFTER = os.path.join(BUILD, "progs/execafter")


def summaries(log, pid=None):
    """(pid, calls, fallbacks, failures, attempts) of each summary line."""
    return [(s["pid"], s["calls"], s["fallbacks"], s["failures"], s["attempts"]) for s in read_log(log)
            if s["event"] == "summary" and (pid is None or s["pid"] == pid)]


def test_a_python_program_that_execs_writes_its_summary_first():
    """exec replaces the process image without running its destructors: a
    program that called (and fell back) and then execs another program had
    its calls in no summary at all (the attempt lines, and no summary line).
    The summary is written before the exec."""
    m = mock()
    m.set("primary", behaviour="503")
    log = new_log("exec-python.log")
    prog = """
print(urllib_chat("x").split()[2], os.getpid(), flush=True)
os.execv("/bin/true", ["true"])
"""
    r = python(m, prog, env_for(config(m), log))
    eq(r.returncode, 0, f"ran ({r.stderr.decode()[-300:]})")
    who, pid = r.stdout.decode().split()
    eq(who, "backup", "the call fell back")
    steps = [(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt"]
    eq(steps, [("openai", "http_error"), ("backup", "ok")], "its attempts")
    eq(summaries(log), [(int(pid), 1, 1, 0, 2)], "one summary, written before the exec, with the call")


def test_a_program_that_ends_by_quick_exit_writes_its_summary():
    """quick_exit() ends a process in order, running what at_quick_exit
    registered and no destructor: a program so ended had its calls in no
    summary. The summary is registered there too, and written once."""
    m = mock()
    m.set("primary", behaviour="503")
    log = new_log("quickexit.log")
    prog = """
import ctypes
print(urllib_chat("x").split()[2], os.getpid(), flush=True)
ctypes.CDLL(None).quick_exit(3)
"""
    r = python(m, prog, env_for(config(m), log))
    eq(r.returncode, 3, f"ended by quick_exit ({r.stderr.decode()[-300:]})")
    who, pid = r.stdout.decode().split()
    eq(who, "backup", "the call fell back")
    eq(summaries(log), [(int(pid), 1, 1, 0, 2)], "one summary, with the call")


def test_a_libcurl_program_that_execs_curl_has_a_summary_per_image():
    """A wrapper that calls, then execs curl, which calls again: one summary
    per process image, both under the one pid (the exec'd curl's own, at
    its exit, counting its call only), never one that counts both calls."""
    m = mock()
    m.set("primary", behaviour="503")
    log = new_log("exec-curl.log")
    url = m.base("primary") + "/chat/completions"
    r = run([EXECAFTER, url, "execvp", "curl", "-sS", url, "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}",
             "-d", '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}'], env_for(config(m), log))
    out = r.stdout.decode()
    eq(r.returncode, 0, f"ran ({r.stderr.decode()[-300:]})")
    first = out.splitlines()[0].split()
    eq((first[0], first[2], first[3]), ("call", "status=200", "answer=backup"), "the wrapper's call fell back")
    check("Hello from backup" in out, f"curl's call fell back too ({out[-200:]!r})")
    pid = int(first[1][4:])
    eq([(l["call"], l["provider"]) for l in read_log(log) if l["event"] == "attempt" and l["pid"] == pid],
       [(1, "openai"), (1, "backup"), (1, "openai"), (1, "backup")], "each image's call, numbered in its image")
    eq(summaries(log), [(pid, 1, 1, 0, 2), (pid, 1, 1, 0, 2)], "two summaries under the pid: the wrapper's, then curl's")


def test_every_exec_function_writes_the_summary_first():
    """glibc's execv, execl, execle and fexecve reach its execve without the
    PLT, and execvp and execlp its execvpe: each is hooked itself. Each
    function, after a call: the exec happened (the new program prints the
    pid it has, the same, and a variable of the environment it was given),
    and the summary was written before it."""
    m = mock()
    m.set("primary", behaviour="503")
    url = m.base("primary") + "/chat/completions"
    for how in ("execve", "execv", "execvp", "execvpe", "execl", "execlp", "execle", "fexecve", "execveat"):
        log = new_log(f"exec-{how}.log")
        prog = "sh" if how in ("execvp", "execvpe", "execlp") else "/bin/sh"
        r = run([EXECAFTER, url, how, prog, "-c", "echo exec pid=$$ $EXEC_MARK"],
                env_for(config(m), log, extra={"EXEC_MARK": "environment"}))
        lines = r.stdout.decode().splitlines()
        eq(len(lines), 2, f"{how}: the call and the new program ({lines} {r.stderr.decode()[-300:]})")
        pid = int(lines[0].split()[1][4:])
        eq(lines[1], f"exec pid={pid} environment", f"{how}: the new program runs in the same process, with its environment")
        eq(summaries(log), [(pid, 1, 1, 0, 2)], f"{how}: the summary, before the exec")


def test_an_exec_that_fails_counts_each_call_once():
    """An exec that fails returns, and the process goes on: the summary
    written before it has taken its counts, so its exit writes none for the
    same calls again; a call made after the failure is in a summary of its
    own at the exit. The summaries of the pid add up to what it did."""
    m = mock()
    url = m.base("primary") + "/chat/completions"
    m.set("primary", behaviour="503")
    log = new_log("exec-fails.log")
    r = run([EXECAFTER, url, "execv", "/nonexistent/program"], env_for(config(m), log))
    lines = r.stdout.decode().splitlines()
    eq(lines[1:], ["exec failed errno=2"], f"the exec failed ({lines} {r.stderr.decode()[-300:]})")
    pid = int(lines[0].split()[1][4:])
    eq(summaries(log), [(pid, 1, 1, 0, 2)], "one summary, the call counted once")
    m.set("primary", behaviour=["503", "ok"])
    log = new_log("exec-fails-again.log")
    r = run([EXECAFTER, "-a", url, "execvp", "no-such-program-here"], env_for(config(m), log))
    lines = r.stdout.decode().splitlines()
    eq([l.split()[3] if l.startswith("call") else l for l in lines],
       ["answer=backup", "exec failed errno=2", "answer=primary"], f"a call, the failed exec, a call ({lines})")
    pid = int(lines[0].split()[1][4:])
    eq(summaries(log), [(pid, 1, 1, 0, 2), (pid, 1, 0, 0, 1)],
       "the call before the exec in its summary, the one after in the exit's")


def test_children_that_exec_write_no_summary_of_their_parents_calls():
    """A child that made no call of its own holds its parent's counts and
    writes no summary, exec or not: a forked child that execs, a vfork
    child (Python's subprocess uses vfork; the hook then runs on the
    parent's memory, which it must leave as it was), posix_spawn's child
    (which reaches no hook). The parent's summary at its exit counts its
    call once."""
    m = mock()
    m.set("primary", behaviour="503")
    log = new_log("exec-children.log")
    prog = """
urllib_chat("x")
import subprocess
pid = os.fork()
if pid == 0:
    os.execv("/bin/true", ["true"])
os.waitpid(pid, 0)
subprocess.run(["/bin/true"], check=True)
subprocess.run(["true"], check=True)
os.waitpid(os.posix_spawn("/bin/true", ["true"], os.environ), 0)
print(os.getpid(), flush=True)
"""
    r = python(m, prog, env_for(config(m), log))
    eq(r.returncode, 0, f"ran ({r.stderr.decode()[-300:]})")
    pid = int(r.stdout.decode())
    eq(summaries(log), [(pid, 1, 1, 0, 2)], "one summary, the parent's, at its exit")
    log = new_log("exec-vfork.log")
    r = run([EXECAFTER, m.base("primary") + "/chat/completions", "vfork", "/bin/sh", "-c", "echo exec pid=$$"],
            env_for(config(m), log))
    lines = r.stdout.decode().splitlines()
    eq(len(lines), 3, f"a call, the vfork child's program, its end ({lines} {r.stderr.decode()[-300:]})")
    pid = int(lines[0].split()[1][4:])
    check(lines[1] != f"exec pid={pid}" and lines[2] == "vfork child status=0", f"a child of its own ({lines})")
    eq(summaries(log), [(pid, 1, 1, 0, 2)], "vfork: one summary, the parent's, at its exit")


# A first call on a thread, and a fork by the main thread once the file
# argv[2] (if named) exists and argv[3] s more have passed; the child calls
# too. Prints whether the parent fell back and the child's exit status: 0 it
# fell back, 3 it got the primary's 503.
FORK_AT_LOAD = """
import signal, time, urllib.error
out = {}
def first():
    try: out["a"] = urllib_chat("a")
    except Exception as e: out["a"] = repr(e)
t = threading.Thread(target=first); t.start()
while sys.argv[2] and not os.path.exists(sys.argv[2]):   # (a mark to wait for, or none)
    time.sleep(0.001)
time.sleep(float(sys.argv[3]))
pid = os.fork()
if pid == 0:
    signal.alarm(20)
    try:
        os._exit(0 if "[rid:child]" in urllib_chat("child") else 5)
    except urllib.error.HTTPError as e:
        os._exit(3 if e.code == 503 else 6)
    except BaseException as e:
        print("child:", repr(e), file=sys.stderr, flush=True)
        os._exit(4)
t.join()
st = os.waitpid(pid, 0)[1]
print("[rid:a]" in out["a"], os.WEXITSTATUS(st) if os.WIFEXITED(st) else "signal %d" % os.WTERMSIG(st))
"""


def test_a_child_forked_during_the_first_calls_load_neither_crashes_nor_hangs():
    """The library loads its core (and, in Python, libcurl) at the first
    call, on the program's thread, at a moment the program cannot know: a
    child forked by another thread in the middle of that dlopen() inherited
    the dynamic loader half changed and crashed (SIGSEGV, or ld.so's
    "Inconsistency detected" and exit 127) or hung, in 27 of 40 runs. Now a
    fork waits for the load, and its child falls back as usual; one forked
    while a load begun in the moment before the fork was under way passes
    its calls through (it gets the provider's own 503). (And libcurl initialises itself, OpenSSL
    too, under a spin lock in its first curl_easy_init, which was a relay
    thread's: a child forked then spun in its own for ever, its call timed
    out, 2 in 600 runs; that is done in the load now.) Sixteen runs, the fork from 0 to 30 ms
    after the first call began."""
    m = mock()
    m.set("primary", behaviour="503")
    prog = """
import http.server
# (urllib's own lazy imports done first, on a server that is no provider's)
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        b = json.dumps({"choices": [{"message": {"content": "warm"}}]}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
w = threading.Thread(target=srv.handle_request); w.start()
real, URL = URL, "http://127.0.0.1:%d/v1/chat/completions" % srv.server_address[1]
urllib_chat("warm"); w.join(); srv.server_close(); URL = real
""" + FORK_AT_LOAD
    env = env_for(config(m))
    seen = []
    for i in range(16):
        r = run([PY, "-c", PRELUDE + prog, m.base("primary") + "/chat/completions", "", str(i * 0.002)], env,
                timeout=60)
        seen.append((r.stdout.decode().strip() or "") + " " + r.stderr.decode()[-200:].strip())
    check(all(s.strip() in ("True 0", "True 3") for s in seen),
          f"each parent fell back; each child answered or got the provider's own 503: {seen}")


def fork_at_load(path, where, delays):
    """Runs FORK_AT_LOAD with tests/progs/slowload.so ahead of the library,
    widening the moment `where` of the load, the fork made `delay` s into
    it: (stdout, stderr) of each run."""
    m = mock()
    m.set("primary", behaviour="503")
    env = env_for(path)
    pre = env["LD_PRELOAD"].split(" ")
    env["LD_PRELOAD"] = " ".join(pre[:-1] + [os.path.join(BUILD, "progs/slowload.so"), pre[-1]])
    env.update(SLOWLOAD_CORE="libllmfallback-core.so", SLOWLOAD_AT=where)
    got = []
    for delay in delays:
        mark = new_log("slowload.mark")
        env["SLOWLOAD_MARK"] = mark
        r = run([PY, "-c", PRELUDE + FORK_AT_LOAD, m.base("primary") + "/chat/completions", mark, delay], env,
                timeout=60)
        got.append((r.stdout.decode().strip(), r.stderr.decode()))
    return got


def test_a_child_forked_as_the_load_ends_does_not_load_the_core_again():
    """A fork waits for the library's load to end, so it lands just after
    it, before pthread_once() has marked the load done. glibc then finds the
    once under way in the child, in an older fork generation, and runs the
    load again there: the core was entered a second time, its configuration
    read and its warnings said again. A preloaded helper widens that moment
    to 300 ms and says when it begins, and the fork is timed into it; the
    warning of a provider without a path must be said once, by the parent,
    and the child's call still falls back."""
    m = mock()
    path = config(m)
    with open(path) as f:
        cfg = json.load(f)
    cfg["providers"]["bare"] = {"dialect": "openai", "base_url": "http://127.0.0.1:9", "api_key_env": "SPARE_KEY"}
    with open(path, "w") as f:
        json.dump(cfg, f)
    for delay, (out, err) in zip(("0", "0.1"), fork_at_load(path, "once", ("0", "0.1"))):
        eq(out, "True 0", f"parent and child both fell back (fork at {delay} s): {err[-300:]}")
        eq(err.count("provider bare: base_url has no path"), 1,
           f"the core was entered once, by the parent, not again in the child (fork at {delay} s)")


def test_a_fork_during_the_first_load_waits_for_it_and_its_child_is_served():
    """A fork while another thread loads the library waits for the load.
    Waited for in the fork handlers alone, a load that installs a fork
    handler of its own (as OpenSSL's initialisation does) could not end:
    glibc holds the lock pthread_atfork() needs while the handlers run. The
    fork then gave up after its second, and the child, forked mid-load,
    passed its calls through (the primary's 503). The fork() hook waits
    before the real fork. A preloaded helper holds the load 300 ms after its
    dlopen() and then installs a handler; the fork is timed into it."""
    m = mock()
    for delay, (out, err) in zip(("0", "0.1"), fork_at_load(config(m), "dlopen", ("0", "0.1"))):
        eq(out, "True 0", f"the child, forked {delay} s into the load, fell back as its parent did: {err[-300:]}")


def test_a_programs_own_fork_lock_held_across_a_call_does_not_hang_a_fork():
    """A program made fork-safe the usual way takes its lock in its own fork
    handler, and one thread holds that lock across each call. The library's
    fork handlers, installed at its first call, ran before the program's
    (glibc runs them last installed first) and held the library's locks;
    the program's then waited for its lock, held by the calling thread, and
    that thread's load waited for one of the library's: both for ever. The
    library's handlers are now installed as it is loaded, before the
    program's, and so run after them, and the core installs none of its
    own. A preloaded helper holds the first call's load 300 ms, and the
    fork is timed into it; the program's alarm ends a hung run."""
    m = mock()
    m.set("primary", behaviour="503")
    env = env_for(config(m))
    pre = env["LD_PRELOAD"].split(" ")
    env["LD_PRELOAD"] = " ".join(pre[:-1] + [os.path.join(BUILD, "progs/slowload.so"), pre[-1]])
    env.update(SLOWLOAD_CORE="libllmfallback-core.so", SLOWLOAD_AT="dlopen")
    prog = os.path.join(BUILD, "progs/heldlock")
    for delay in ("100", "200"):
        r = run([prog, m.base("primary") + "/chat/completions", delay], env, timeout=60)
        out = r.stdout.decode().strip()
        check(r.returncode == 0 and out.endswith("status 200, child 0"),
              f"the call fell back and the fork ended (fork {delay} ms into the load): {r.returncode} {out!r} "
              f"{r.stderr.decode()[-300:]!r}")


def test_an_exec_while_another_thread_is_mid_call():
    """Another thread is inside a call (its attempt waits on a slow
    provider) when the program execs: the summary of the calls that ended
    is written, and the exec neither waits for the other call nor hangs."""
    m = mock()
    m.set("primary", behaviour=["503", "slow:5000"])
    log = new_log("exec-midcall.log")
    prog = """
import time
urllib_chat("x")
t = threading.Thread(target=lambda: urllib_chat("y"), daemon=True)
t.start()
time.sleep(0.5)
print(os.getpid(), flush=True)
os.execv("/bin/true", ["true"])
"""
    import time
    t0 = time.time()
    r = python(m, prog, env_for(config(m), log), timeout=30)
    took = time.time() - t0
    eq(r.returncode, 0, f"ran ({r.stderr.decode()[-300:]})")
    check(took < 4, f"the exec did not wait for the other call ({took:.1f}s)")
    eq(len(m.requests("primary")), 2, "the other call had reached the provider")
    pid = int(r.stdout.decode())
    eq(summaries(log), [(pid, 1, 1, 0, 2)], "the call that ended, in the summary")


def test_an_exec_from_a_signal_handler_does_not_hang():
    """exec is async-signal-safe: a handler may call it whatever the code it
    interrupted was doing. Here that code loops on localtime_r and malloc,
    which hold glibc's time zone and heap locks: a summary that took either
    (gmtime_r for its time stamp, cJSON's allocations) hung about every
    third process for ever. Ten processes, each exec'd, each with its
    summary."""
    m = mock()
    m.set("primary", behaviour="503")
    url = m.base("primary") + "/chat/completions"
    for i in range(10):
        log = new_log("exec-signal.log")
        try:
            r = run([EXECAFTER, url, "signal", "/bin/sh", "-c", "echo exec pid=$$"], env_for(config(m), log), timeout=10)
        except subprocess.TimeoutExpired:
            raise Failed(f"process {i} hung in its exec from a signal handler")
        lines = r.stdout.decode().splitlines()
        eq(len(lines), 2, f"process {i}: the call and the new program ({lines} {r.stderr.decode()[-300:]})")
        pid = int(lines[0].split()[1][4:])
        eq(lines[1], f"exec pid={pid}", f"process {i}: the exec happened")
        eq(summaries(log), [(pid, 1, 1, 0, 2)], f"process {i}: the summary, before the exec")


# ---- a process whose last thread ends ---------------------------------------

LASTTHREAD = os.path.join(BUILD, "progs/lastthread")


def timed(argv, env, limit):
    """(result, seconds), or a failure when it still runs after limit."""
    import time
    t0 = time.time()
    try:
        r = run(argv, env, timeout=limit)
    except subprocess.TimeoutExpired:
        raise Failed(f"{os.path.basename(argv[0])} still running after {limit} s")
    return r, time.time() - t0


def test_a_program_whose_last_thread_ends_ends():
    """A process ends when its last thread ends (glibc calls exit(0) there):
    here the main thread leaves by pthread_exit while a second thread makes
    a call through the relay. The relay's threads never end (see README,
    Limits), and the process lived on with them for ever; now it ends, with
    status 0, about a second after the program's last thread."""
    m = mock()
    m.set("primary", behaviour="503")
    log = new_log("lastthread.log")
    r, took = timed([LASTTHREAD, str(m.port("primary"))], env_for(config(m), log), 15)
    eq(r.returncode, 0, f"ended as glibc ends it ({r.stderr.decode()[-300:]})")
    eq(sorted(r.stdout.decode().splitlines()), ["first answered", "second answered"], "both calls fell back")
    check(took < 6, f"ended soon after its last thread ({took:.1f} s)")
    eq(len([l for l in read_log(log) if l["event"] == "summary"]), 1, "its summary, written at that exit")


def test_a_program_whose_main_thread_left_is_not_ended_while_another_works():
    """The main thread has left, and the relay is idle while the program's
    other thread sleeps 3 s before its call: the process is not the
    library's alone, and lives until that thread is done."""
    m = mock()
    m.set("primary", behaviour="503")
    r, took = timed([LASTTHREAD, str(m.port("primary")), "3"], env_for(config(m)), 20)
    eq(r.returncode, 0, f"ended as glibc ends it ({r.stderr.decode()[-300:]})")
    eq(r.stdout.decode().splitlines(), ["first answered", "second answered"], "the late call was made and answered")
    check(3 <= took < 9, f"ended after its late call ({took:.1f} s)")


def test_a_child_forked_from_a_thread_ends_with_its_thread():
    """A program forks from a worker thread; the child's one thread makes a
    call and then ends (sys.exit in a thread ends the thread), which ends
    the child, as without the library. Its relay's threads kept it alive
    for ever. A call that falls back, and one passed through."""
    prog = """
import sys, threading, time
def worker():
    pid = os.fork()
    if pid == 0:
        print("child", urllib_chat("c").split()[2], flush=True)
        sys.exit(0)
    res["pid"] = pid
res = {}
t = threading.Thread(target=worker)
t.start()
t.join()
t0 = time.time()
while time.time() - t0 < 10:
    p, st = os.waitpid(res["pid"], os.WNOHANG)
    if p:
        print("ended", st, flush=True)
        break
    time.sleep(0.05)
else:
    print("alive after 10 s", flush=True)
    os.kill(res["pid"], 9)
    os.waitpid(res["pid"], 0)
"""
    for scheme, m, prim, back, cfg, envf in both_schemes():
        for behaviour, answerer in (("503", back), ("ok", prim)):
            m.set(prim, behaviour=behaviour)
            r = run([PY, "-c", PRELUDE + prog, m.base(prim) + "/chat/completions"], envf(), timeout=40)
            eq(r.stdout.decode().splitlines(), [f"child {answerer}", "ended 0"],
               f"{scheme} {behaviour}: the child's call, then its end ({r.stderr.decode()[-300:]})")


def test_a_child_that_took_over_its_parents_connection_ends_with_its_thread():
    """A call on a kept-alive connection, then a fork from a thread, and the
    parent leaves: the child takes the connection over (no relay of its
    own: it connects nowhere anew), calls on it, and its one thread ends.
    The serving threads it started kept it alive (and the output it holds
    open) for ever; its adopter now looks until it has a relay of its own."""
    for scheme, m, prim, back, cfg, envf in both_schemes():
        prog = CONN + """
print("parent", call("p"), flush=True)
""" + SETTLE + """def worker():
    if os.fork() == 0:
        time.sleep(0.5)
        print("child", attempt("c"), flush=True)
        sys.exit(0)
t = threading.Thread(target=worker)
t.start()
t.join()
os._exit(0)
"""
        r, took = timed([PY, "-c", PRELUDE + prog, m.base(prim) + "/chat/completions"], envf(), 20)
        eq(r.stdout.decode().splitlines(), [f"parent 200 - {prim}", f"child 200 - {prim}"],
           f"{scheme}: both calls on the connection ({r.stderr.decode()[-300:]})")
        check(took < 8, f"{scheme}: the child ended soon after its thread ({took:.1f} s)")


def test_a_program_that_jumps_out_of_its_first_connect_goes_on():
    """An old C program times out its first call with setitimer and a
    SIGALRM handler that siglongjmps out of connect(), 2 ms in: while the
    library was still loading at that first connection. The jump left the
    load half done (the loader's lock held, pthread_once never over): the
    other thread's call hung for ever, and the main thread's later calls
    passed through unmanaged. The load now runs with signals blocked, the
    jump comes after it, and every later call falls back."""
    m = mock()
    m.set("primary", behaviour="503")
    try:
        r = run([os.path.join(BUILD, "progs/jumpload"), str(m.port("primary")), KEYS["OPENAI_API_KEY"]],
                env_for(config(m)), timeout=30)
    except subprocess.TimeoutExpired:
        raise Failed("hung")
    eq(r.returncode, 0, f"ended ({r.stderr.decode()[-300:]})")
    out = r.stdout.decode().splitlines()
    eq(out[0], "call 0: timed out", "the first call timed out, as the program asked")
    eq(out[1:], ["call 1: 200 backup", "call 2: 200 backup", "call 3: 200 backup", "thread: 200 backup", "done"],
       "every later call fell back, on both threads")
