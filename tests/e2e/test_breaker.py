"""Health memory: a provider that keeps failing is skipped for a cooldown,
then probed once; shared by the processes of one user through a 0600 file."""
import atexit
import json
import os
import re
import stat
import subprocess
import tempfile
import time

from harness import (CURL, KEYS, PY, Mock, Skipped, chat_body, check, env_for, eq, new_log, read_log, run, shared_mock, tmpdir,
                     write_config)
from pyclients import PEERS, PRELUDE, check_relayed

_m = None


def mock():
    global _m
    if _m is None:
        _m = Mock([{"name": "primary", "dialect": "openai", "key": KEYS["OPENAI_API_KEY"]},
                   {"name": "backup", "dialect": "openai", "key": KEYS["BACKUP_KEY"]}])
        atexit.register(_m.stop)
    _m.reset_all()
    for n in _m.servers:
        _m.set(n, behaviour="ok", retry_after=None, delay_ms=0)
    return _m


def config(m, **breaker):
    return write_config({"providers": {
        "openai": {"base_url": m.base("primary")},
        "backup": {"dialect": "openai", "base_url": m.base("backup"), "api_key_env": "BACKUP_KEY"}},
        "chain": ["backup/gpt-4o-mini"], "breaker": breaker}, "breaker.json")


def config_with(m, name, **top):
    """config(), with the other top-level keys given."""
    return write_config(dict({"providers": {
        "openai": {"base_url": m.base("primary")},
        "backup": {"dialect": "openai", "base_url": m.base("backup"), "api_key_env": "BACKUP_KEY"}},
        "chain": ["backup/gpt-4o-mini"]}, **top), name)


def call_argv(m, *opts, key=None):
    return [CURL, "-sS", *opts, m.base("primary") + "/chat/completions",
            "-H", f"Authorization: Bearer {key or KEYS['OPENAI_API_KEY']}", "-d", chat_body()]


def who(r):
    """Which server answered a call (its "Hello from NAME"), or None."""
    found = re.search(rb"Hello from ([a-z]+)", r.stdout)
    return found.group(1).decode() if found else None


def calls(m, cfg, n, shared_dir, log=None):
    argv = [CURL, "-sS", m.base("primary") + "/chat/completions",
            "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", chat_body()]
    outs = []
    for _ in range(n):
        env = env_for(cfg, log, extra={"XDG_RUNTIME_DIR": shared_dir})
        outs.append(json.loads(run(argv, env).stdout)["choices"][0]["message"]["content"])
    return outs


def test_many_processes_pay_a_dead_primary_a_few_times():
    m = mock()
    m.set("primary", behaviour="503")
    shared = tempfile.mkdtemp(dir=tmpdir())
    log = new_log("breaker.log")
    outs = calls(m, config(m, failures=3, cooldown_ms=60000), 12, shared, log)
    check(all(o.startswith("Hello from backup") for o in outs), "every process got an answer")
    eq(len(m.requests("primary")), 3, "twelve processes, the dead primary asked three times")
    skips = [l for l in read_log(log) if l.get("reason") == "breaker_open"]
    eq(len(skips), 9, "the other nine skipped it, logged as breaker_open")
    f = os.path.join(shared, f"llmfallback-health-{os.getuid()}")
    st = os.stat(f)
    eq(stat.S_IMODE(st.st_mode), 0o600, "the shared file is the user's alone")


def test_not_shared_means_per_process():
    m = mock()
    m.set("primary", behaviour="503")
    calls(m, config(m, failures=3, cooldown_ms=60000, shared=False), 5, tempfile.mkdtemp(dir=tmpdir()))
    eq(len(m.requests("primary")), 5, "each process asks the primary itself")


def test_a_provider_is_kept_by_its_base_url_too():
    """One name may mean another server to the user's other programs: an
    "openai" that failed at one base URL (a demo's mock, a dead proxy) is
    not skipped at another, which shares the breaker's file."""
    m = mock()
    m.set("primary", behaviour="503")
    other = Mock([{"name": "other", "dialect": "openai", "key": KEYS["OPENAI_API_KEY"]}])
    atexit.register(other.stop)
    shared = tempfile.mkdtemp(dir=tmpdir())
    calls(m, config(m, failures=3, cooldown_ms=60000), 4, shared)
    eq(len(m.requests("primary")), 3, "open for the primary's URL after three failures")
    cfg = write_config({"providers": {
        "openai": {"base_url": other.base("other")},
        "backup": {"dialect": "openai", "base_url": m.base("backup"), "api_key_env": "BACKUP_KEY"}},
        "chain": ["backup/gpt-4o-mini"], "breaker": {"failures": 3, "cooldown_ms": 60000}}, "other.json")
    log = new_log("other.log")
    argv = [CURL, "-sS", other.base("other") + "/chat/completions",
            "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", chat_body()]
    r = run(argv, env_for(cfg, log, extra={"XDG_RUNTIME_DIR": shared}))
    check(b"Hello from other" in r.stdout, f"the other server answers ({r.stdout[:200]!r})")
    eq(len(other.requests("other")), 1, "asked, not skipped")
    eq([l.get("reason") for l in read_log(log) if l.get("reason") == "breaker_open"], [], "nothing skipped")


def test_half_open_probe_then_recovery():
    m = mock()
    m.set("primary", behaviour="503")
    shared = tempfile.mkdtemp(dir=tmpdir())
    # (the cooldown must outlast the four calls' processes: an ASan curl on
    # a busy machine takes 0.3 s, and 400 ms ran out after two of them)
    cfg = config(m, failures=2, cooldown_ms=3000)
    calls(m, cfg, 4, shared)
    eq(len(m.requests("primary")), 2, "open after two failures")
    time.sleep(3.1)
    m.set("primary", behaviour="ok")
    outs = calls(m, cfg, 3, shared)
    eq(len(m.requests("primary")), 5, "after the cooldown one probe, then closed again")
    check(all(o.startswith("Hello from primary") for o in outs), "the primary answers again")


def test_a_probe_whose_process_was_killed_holds_no_lease():
    """The process sending the half-open probe is killed (a job's timeout):
    the next process probes at once, not when the probe's lease would have
    ended (timeouts_ms.total), skipping a recovered primary until then."""
    m = mock()
    m.set("primary", behaviour="503")
    shared = tempfile.mkdtemp(dir=tmpdir())
    cfg = write_config({"providers": {
        "openai": {"base_url": m.base("primary")},
        "backup": {"dialect": "openai", "base_url": m.base("backup"), "api_key_env": "BACKUP_KEY"}},
        "chain": ["backup/gpt-4o-mini"], "breaker": {"failures": 2, "cooldown_ms": 300},
        "timeouts_ms": {"total": 60000}}, "lease.json")
    calls(m, cfg, 2, shared)
    time.sleep(0.4)
    m.set("primary", behaviour="hang")
    argv = ["timeout", "-s", "KILL", "1", CURL, "-sS", m.base("primary") + "/chat/completions",
            "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", chat_body()]
    run(argv, env_for(cfg, extra={"XDG_RUNTIME_DIR": shared}))
    eq(len(m.requests("primary")), 3, "the killed process was the probe")
    m.set("primary", behaviour="ok")
    log = new_log("lease.log")
    out = calls(m, cfg, 1, shared, log)[0]
    eq(out[:18], "Hello from primary", f"the next process probes, and is answered ({read_log(log)})")


def test_a_shorter_total_respects_a_longer_probe():
    """Process A (total 60 s) sends the half-open probe, to a primary that
    hangs; processes B (total 2 s) skip the primary while it is out. They
    judged A's lease by their own total, took it for damage, and each sent
    a probe of their own."""
    m = mock()
    m.set("primary", behaviour="503")
    shared = tempfile.mkdtemp(dir=tmpdir())
    long_cfg = config_with(m, "long_total.json", breaker={"failures": 2, "cooldown_ms": 300},
                           timeouts_ms={"first_byte": 60000, "total": 60000})
    short_cfg = config_with(m, "short_total.json", breaker={"failures": 2, "cooldown_ms": 300},
                            timeouts_ms={"first_byte": 2000, "total": 2000})
    calls(m, long_cfg, 2, shared)
    time.sleep(0.4)
    m.set("primary", behaviour="hang")
    a = subprocess.Popen(call_argv(m), env=env_for(long_cfg, extra={"XDG_RUNTIME_DIR": shared}),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while len(m.requests("primary")) < 3 and time.time() < deadline:
            time.sleep(0.05)
        eq(len(m.requests("primary")), 3, "A's probe is out")
        log = new_log("short_total.log")
        for _ in range(2):
            eq(who(run(call_argv(m), env_for(short_cfg, log, extra={"XDG_RUNTIME_DIR": shared}))), "backup",
               "B is answered by the backup")
        eq(len(m.requests("primary")), 3, "B sent no probe of its own")
        eq([l.get("reason") for l in read_log(log) if l.get("provider") == "openai"], ["breaker_open"] * 2,
           "B skipped the primary")
    finally:
        a.kill()
        a.wait()


def test_a_restrictive_umask_still_makes_the_file_0600():
    """A first process under umask 0277 made the file 0400: every later
    process of the user was refused it ("Permission denied; not shared")."""
    m = mock()
    m.set("primary", behaviour="503")
    shared = tempfile.mkdtemp(dir=tmpdir())
    cfg = config(m, failures=1, cooldown_ms=60000)
    env = env_for(cfg, extra={"XDG_RUNTIME_DIR": shared})
    r = run(["sh", "-c", 'umask 0277; exec "$@"', "sh", *call_argv(m)], env)
    eq(who(r), "backup", "the first process is answered")
    f = os.path.join(shared, f"llmfallback-health-{os.getuid()}")
    eq(stat.S_IMODE(os.stat(f).st_mode), 0o600, "the file is 0600 whatever the umask")
    for _ in range(2):
        r = run(call_argv(m), env)
        eq(who(r), "backup", "a later process is answered")
        eq([l for l in r.stderr.decode().splitlines() if l.startswith("llmfallback:")], [], "without a warning")
    eq(len(m.requests("primary")), 1, "and shares the breaker")


def test_everything_open_still_asks_the_original():
    m = mock()
    for n in ("primary", "backup"):
        m.set(n, behaviour="503")
    shared = tempfile.mkdtemp(dir=tmpdir())
    cfg = config(m, failures=1, cooldown_ms=60000)
    argv = [CURL, "-sS", "-w", "\n%{http_code}", m.base("primary") + "/chat/completions",
            "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", chat_body()]
    logs = []
    for i in range(3):
        log = new_log(f"allopen-{i}.log")
        r = run(argv, env_for(cfg, log, extra={"XDG_RUNTIME_DIR": shared}))
        eq(r.stdout.decode().rpartition("\n")[2], "503", "the program gets the original failure")
        logs.append([(e.get("provider"), e.get("outcome"), e.get("reason")) for e in read_log(log)
                     if e.get("event") == "attempt"])
    eq(len(m.requests("primary")), 3, "the original is asked last when everything is open")
    eq(len(m.requests("backup")), 1, "the backup asked on the first call only")
    first = [("openai", "http_error", "overloaded"), ("backup", "http_error", "overloaded")]
    later = [("openai", "skipped", "breaker_open"), ("backup", "skipped", "breaker_open"),
             ("openai", "http_error", "overloaded")]
    eq(logs, [first, later, later], "both open after the first call: skipped, then the original asked")


def test_a_limit_spent_on_members_while_the_original_is_skipped_ends_the_call():
    """The primary's breaker is open, so the original waits at the end of
    the plan; the backup, slow, takes all of the program's own limit
    (curl -m 1). The program gets libcurl's error 28 then, as it would at
    its limit: the original is not sent after it (it was passed through
    with a whole new limit of its own, and the call took twice the
    program's, or answered past it)."""
    m = mock()
    m.set("primary", behaviour="503")
    shared = tempfile.mkdtemp(dir=tmpdir())
    cfg = config(m, failures=1, cooldown_ms=60000)
    r = run(call_argv(m), env_for(cfg, extra={"XDG_RUNTIME_DIR": shared}))
    eq(who(r), "backup", "the first call opens the primary's breaker")
    m.reset_all()
    m.set("primary", behaviour="ok")
    m.set("backup", delay_ms=4000)
    log = new_log("late-original.log")
    r = run(call_argv(m, "-m", "1"), env_for(cfg, log, extra={"XDG_RUNTIME_DIR": shared}))
    eq(r.returncode, 28, f"the program's own timeout ({r.stderr[-200:]!r})")
    check(b"Operation timed out after" in r.stderr, "said as libcurl says it")
    eq(len(m.requests("primary")), 0, "the original not sent after the program's limit")
    steps = [(e.get("provider"), e.get("outcome"), e.get("reason")) for e in read_log(log) if e.get("event") == "attempt"]
    eq(steps, [("openai", "skipped", "breaker_open"), ("backup", "transport_error", "program_timeout"),
               ("openai", "skipped", "deadline")], "what happened, logged")


def test_foreign_or_corrupt_file_is_ignored_with_a_warning():
    m = mock()
    m.set("primary", behaviour="503")
    for content, mode, why in ((b"garbage" * 10, 0o600, "is not ours (size 70)"),
                               (b"", 0o644, "is open to other users (its mode must be 0600)")):
        shared = tempfile.mkdtemp(dir=tmpdir())
        f = os.path.join(shared, f"llmfallback-health-{os.getuid()}")
        with open(f, "wb") as fh:
            fh.write(content)
        os.chmod(f, mode)
        argv = [CURL, "-sS", m.base("primary") + "/chat/completions",
                "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", chat_body()]
        r = run(argv, env_for(config(m, failures=3, cooldown_ms=60000), extra={"XDG_RUNTIME_DIR": shared}))
        check(b"Hello from backup" in r.stdout, "still works")
        warn = [l for l in r.stderr.decode().splitlines() if l.startswith("llmfallback: health memory")]
        eq(len(warn), 1, f"one warning ({r.stderr.decode()[-200:]})")
        check(why in warn[0], f"the warning says why ({warn[0]!r})")


def test_ratio_retry_budget():
    m = mock()
    m.set("primary", behaviour="503")
    cfg = write_config({"providers": {
        "openai": {"base_url": m.base("primary")},
        "backup": {"dialect": "openai", "base_url": m.base("backup"), "api_key_env": "BACKUP_KEY"}},
        "chain": ["backup/gpt-4o-mini"], "breaker": {"failures": 0},
        "attempts": {"retry_ratio": 0.25, "retry_burst": 2}}, "ratio.json")
    log = new_log("ratio.log")
    ex = os.path.join(os.environ.get("LLF_BUILD", "build"), "examples/chat_client")
    r = run([ex, m.base("primary") + "/chat/completions", "-n", "10", "-t", "1"], env_for(cfg, log))
    answered = [l.split()[1] for l in r.stdout.decode().splitlines() if "status=200" in l]
    eq(answered, ["0", "1", "4", "8"], "a burst of two, then one extra attempt per four calls")
    eq(len(m.requests("backup")), 4, "four extra attempts in ten calls")
    eq(sum(1 for l in read_log(log) if l.get("reason") == "retry_budget"), 6, "the others logged why")


def test_a_full_runtime_dir_costs_sharing_not_the_program():
    """$XDG_RUNTIME_DIR on a full tmpfs (a container's 64 MB /dev/shm that
    another program filled): the health file gets no memory, so this process
    keeps its breaker to itself, with one warning. Before, its first write to
    the mapped file killed the program (SIGBUS), and every process after it."""
    m = mock()
    m.set("primary", behaviour="503")
    d = tempfile.mkdtemp(dir=tmpdir())
    # a private mount of a 64 KiB tmpfs, filled, in a mount namespace of our
    # own (as root; else in a user namespace too), as harness.with_hosts does
    ns = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
    script = 'mount -t tmpfs -o size=64k tmpfs "$1" && head -c 1M /dev/zero > "$1/fill"; shift; exec "$@"'
    argv = ns + ["sh", "-c", script, "sh", d, CURL, "-sS", m.base("primary") + "/chat/completions",
                 "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", chat_body()]
    cfg = config(m, failures=3, cooldown_ms=60000)
    if run(ns + ["true"], env_for(cfg, preload=False)).returncode != 0:
        raise Skipped(f"no mount namespace of our own ({' '.join(ns)}: a chroot, a container without them)")
    probe = run(ns + ["sh", "-c", script, "sh", d, "df", d], env_for(cfg, preload=False))
    check(probe.returncode == 0 and b"100%" in probe.stdout, f"a full tmpfs of our own ({probe.stdout + probe.stderr!r})")
    for _ in range(2):
        r = run(argv, env_for(cfg, extra={"XDG_RUNTIME_DIR": d}))
        eq(r.returncode, 0, f"the program lives (not SIGBUS, 135) ({r.stderr.decode()[-200:]})")
        check(b"Hello from backup" in r.stdout, "and gets its answer")
        warn = [l for l in r.stderr.decode().splitlines() if l.startswith("llmfallback: health memory")]
        check(len(warn) == 1 and "No space left on device" in warn[0] and "not shared" in warn[0],
              f"one warning that says why ({warn})")


LATE_STREAM = PRELUDE + PEERS + """
import requests
b = json.loads(body("late"))
b["stream"] = True
r = requests.post(URL, json=b, headers=HDRS, timeout=10, stream=True)
print(r.status_code, r.headers.get("x-llmfallback-provider"))
for l in r.iter_lines(decode_unicode=True):
    if l:
        print(l)
"""


def same_ids(out):
    return re.sub(rb'"(chatcmpl-[a-z0-9]+)"', b'"chatcmpl-ID"', re.sub(rb'"created": [0-9]+', b'"created": 0', out))


def test_a_stream_that_errs_after_its_answer_began_counts_against_its_provider():
    """A stream that began (text went to the program) and then got the
    provider's error event cannot fall back: the program has it as sent,
    byte for byte. But the attempt failed: the log says so, the summary
    counts a failure, and the breaker counts it, so that a provider that
    keeps breaking off its answers is skipped like one that refuses them.
    Both paths: libcurl (curl -N) and the relay (Python requests)."""
    m = mock()
    m.set("primary", behaviour="stream_error_after_text")
    body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    argv = [CURL, "-sS", "-N", m.base("primary") + "/chat/completions",
            "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", body]
    plain = run(argv, env_for(preload=False))
    check(b"Hello" in plain.stdout and b'"error"' in plain.stdout, f"the mock's stream: text, then an error "
          f"({plain.stdout[-200:]!r})")
    py = os.path.join(tmpdir(), "late_stream.py")
    with open(py, "w") as f:
        f.write(LATE_STREAM)
    pyargv = [PY, py, m.base("primary") + "/chat/completions"]
    for path, program in (("curl", argv), ("socket", pyargv)):
        m.reset_all()
        shared = tempfile.mkdtemp(dir=tmpdir())
        cfg = config(m, failures=2, cooldown_ms=60000)
        log = new_log(f"late-{path}.log")
        outs = [run(program, env_for(cfg, log, extra={"XDG_RUNTIME_DIR": shared})) for _ in range(3)]
        if path == "curl":
            for r in outs[:2]:
                eq((r.returncode, same_ids(r.stdout)), (plain.returncode, same_ids(plain.stdout)),
                   "curl: the broken-off stream reaches the program as the provider sent it")
        else:
            for r in outs:
                check_relayed(r, m.port("primary"))
            for r in outs[:2]:
                out = r.stdout.decode()
                check(out.startswith("200 None") and "Hello" in out and '"error"' in out,
                      f"relay: the broken-off stream reaches the program as sent ({out[-300:]})")
        eq(len(m.requests("primary")), 2, f"{path}: two broken streams open the breaker; the third call skips it")
        eq(len(m.requests("backup")), 1, f"{path}: the backup answers the third")
        check(b"[DONE]" in outs[2].stdout and b'"error"' not in outs[2].stdout,
              f"{path}: with a whole stream ({outs[2].stdout[-300:]!r})")
        lines = read_log(log)
        late = [l for l in lines if l.get("provider") == "openai" and l.get("attempt") == 1]
        eq([(l.get("outcome"), l.get("reason"), l.get("path")) for l in late],
           [("invalid_body", "error_event", path)] * 2, f"{path}: each broken stream logged as a failed attempt")
        sums = [l for l in lines if l.get("event") == "summary"]
        eq([s.get("failures") for s in sums[:2]], [1, 1], f"{path}: and counted as a failed call")


def test_a_smaller_burst_does_not_drain_the_shared_budget():
    """Two programs share the ratio budget through the breaker's file, one
    with a burst of 10, one of 1. The small one's call used to write the
    saved budget back cut to its own burst, so the large one lost its
    savings and its fallbacks; now each spends at most its own burst of
    what is saved and never cuts what the others saved."""
    m = mock()
    m.set("primary", behaviour="503")
    shared = tempfile.mkdtemp(dir=tmpdir())
    big, small = (config_with(m, f"burst{b}.json", breaker={"failures": 1000000},
                              attempts={"retry_ratio": 0.1, "retry_burst": b}) for b in (10, 1))
    env = lambda cfg: env_for(cfg, extra={"XDG_RUNTIME_DIR": shared})
    eq([who(run(call_argv(m), env(big))) for _ in range(3)], ["backup"] * 3, "the large burst's fallbacks")
    m.set("primary", behaviour="ok")
    eq(who(run(call_argv(m), env(small))), "primary", "the small burst's call (earns, spends nothing)")
    m.set("primary", behaviour="503")
    eq([who(run(call_argv(m), env(big))) for _ in range(4)], ["backup"] * 4,
       "the large burst's savings are still there")


def test_the_programs_own_timeout_is_not_the_providers_failure():
    """A program's own short CURLOPT_TIMEOUT against a healthy but slow
    primary: each call ends in libcurl's error 28, as without the library,
    but the impatience is the program's: the breaker counts nothing, so the
    next, patient, program is answered by the primary. Logged as
    program_timeout every time (it was timeout or first_byte_timeout, by a
    race, though our first-byte limit never elapsed)."""
    m = mock()
    m.set("primary", delay_ms=1500)
    shared = tempfile.mkdtemp(dir=tmpdir())
    cfg = config(m, failures=2, cooldown_ms=60000)
    log = new_log("impatient.log")
    for _ in range(3):
        r = run(call_argv(m, "-m", "0.3"), env_for(cfg, log, extra={"XDG_RUNTIME_DIR": shared}))
        eq(r.returncode, 28, f"curl's own timeout, as without the library ({r.stderr[-200:]!r})")
    r = run(call_argv(m), env_for(cfg, log, extra={"XDG_RUNTIME_DIR": shared}))
    eq(who(r), "primary", "the patient program is answered by the (slow, healthy) primary")
    steps = [(l.get("provider"), l.get("outcome"), l.get("reason")) for l in read_log(log) if l.get("event") == "attempt"]
    eq(steps, [("openai", "transport_error", "program_timeout")] * 3 + [("openai", "ok", "ok")],
       "each impatient call logged as the program's timeout, nothing skipped")
    eq(len(m.requests("backup")), 0, "no member asked after the program's limit")


def test_a_credential_failure_does_not_open_the_breaker():
    """A program with a revoked key gets 401s from the primary (and falls
    back); that is its credential's failure, not the provider's: another
    program with a valid key still gets the primary."""
    m = mock()
    shared = tempfile.mkdtemp(dir=tmpdir())
    cfg = config(m, failures=2, cooldown_ms=60000)
    log = new_log("revoked.log")
    env = env_for(cfg, log, extra={"XDG_RUNTIME_DIR": shared})
    eq([who(run(call_argv(m, key="sk-revoked"), env)) for _ in range(3)], ["backup"] * 3,
       "the revoked key's calls fall back")
    eq(who(run(call_argv(m), env)), "primary", "a valid key's call goes to the primary")
    eq(len(m.requests("primary")), 4, "asked every time, never skipped")
    eq([l.get("reason") for l in read_log(log) if l.get("provider") == "openai"], ["auth"] * 3 + ["ok"],
       "logged as auth, then ok")


def test_an_account_out_of_credit_under_fail_does_not_open_the_breaker():
    """OpenAI's account out of credit is a 429 whose body says
    insufficient_quota. Under curl --fail (FAILONERROR) the original
    attempt used to stop at the 429's head, so it was judged rate_limited
    and counted against the provider: three such programs opened the
    shared breaker for everyone. Its body is read, as without --fail: billing,
    not counted; and when no member answers, the program still gets what
    libcurl alone gives (exit 22, nothing written)."""
    m = mock()
    m.set("primary", behaviour="no_credit")
    shared = tempfile.mkdtemp(dir=tmpdir())
    cfg = config(m, failures=2, cooldown_ms=60000)
    log = new_log("quota-fail.log")
    env = env_for(cfg, log, extra={"XDG_RUNTIME_DIR": shared})
    outs = [run(call_argv(m, "-f"), env) for _ in range(4)]
    eq([(r.returncode, who(r)) for r in outs], [(0, "backup")] * 4, "each --fail call answered by the backup")
    eq(len(m.requests("primary")), 4, "the primary asked every time, never skipped")
    eq([l.get("reason") for l in read_log(log) if l.get("provider") == "openai"], ["billing"] * 4,
       "logged as billing, as without --fail")
    m.set("backup", behaviour="503")
    a = run(call_argv(m, "-f", "-w", "%{http_code}"), env_for(preload=False))
    b = run(call_argv(m, "-f", "-w", "%{http_code}"), env)
    eq((b.returncode, b.stdout, b.stderr), (a.returncode, a.stdout, a.stderr),
       "no member answers: the same exit and output as without the library")
    eq((a.returncode, a.stdout), (22, b"429"), "(curl's exit 22 and the status, no body)")


def tls_mock():
    """A plain-HTTP primary, a TLS one, and two TLS members (one of each
    dialect), every one answering."""
    return shared_mock("breaker-tls", [
        {"name": "primary", "dialect": "openai", "key": KEYS["OPENAI_API_KEY"]},
        {"name": "tpri", "dialect": "openai", "key": KEYS["OPENAI_API_KEY"], "tls": True},
        {"name": "m1", "dialect": "openai", "key": KEYS["BACKUP_KEY"], "tls": True},
        {"name": "m2", "dialect": "anthropic", "key": KEYS["ANTHROPIC_API_KEY"], "tls": True}])


def tls_config(m, primary="primary"):
    return write_config({"providers": {
        "openai": {"base_url": m.base(primary)},
        "m1": {"dialect": "openai", "base_url": m.base("m1"), "api_key_env": "BACKUP_KEY"},
        "anthropic": {"base_url": m.base("m2")}},
        "chain": ["m1/gpt-4o-mini", "anthropic/claude-sonnet-4-5"], "breaker": {"failures": 2, "cooldown_ms": 60000}},
        "breaker-tls.json")


def test_a_ca_file_of_our_own_that_cannot_be_read_is_not_the_members_failure():
    """A process whose SSL_CERT_FILE names no file fails every TLS member
    with libcurl's error 77 (the CA file cannot be read): that process's
    own configuration, which says nothing of the members' health. It still
    falls back (another member may be reached), logged local_tls, but the
    breaker counts nothing: another process, whose CA file is fine, is
    answered by the first member (it used to find every member skipped)."""
    m = tls_mock()
    m.set("primary", behaviour="503")
    shared = tempfile.mkdtemp(dir=tmpdir())
    cfg = tls_config(m)
    log = new_log("badca.log")
    for _ in range(3):
        r = run(call_argv(m, "-w", "%{http_code}"),
                env_for(cfg, log, extra={"XDG_RUNTIME_DIR": shared, "SSL_CERT_FILE": "/nonexistent/ca.pem"}))
        check(r.stdout.endswith(b"503"), f"no member reached: the original 503 ({r.stdout[-80:]!r})")
    steps = [(l.get("provider"), l.get("reason")) for l in read_log(log)
             if l.get("event") == "attempt" and l.get("provider") != "openai"]
    eq(steps, [("m1", "local_tls"), ("anthropic", "local_tls")] * 3,
       "every member tried each time, the CA file's failure logged as local_tls")
    r = run(call_argv(m), env_for(cfg, log, extra={"XDG_RUNTIME_DIR": shared, "SSL_CERT_FILE": m.ca}))
    check(b"Hello from m1" in r.stdout,
          f"a process whose CA file is fine is answered by the first member ({r.stdout[-120:]!r})")


def test_a_client_certificate_of_the_programs_that_cannot_be_read_is_not_the_providers_failure():
    """A program whose client certificate file is missing (curl --cert,
    libcurl's error 58) cannot reach its provider; that is its own file's
    doing: it falls back (members are shown no client certificate),
    logged local_tls, and the breaker counts nothing, so a program without
    the bad file still gets its provider."""
    m = tls_mock()
    shared = tempfile.mkdtemp(dir=tmpdir())
    cfg = tls_config(m, "tpri")
    log = new_log("badcert.log")
    url = m.base("tpri") + "/chat/completions"
    argv = [CURL, "-sS", url, "--cacert", m.ca, "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}",
            "-d", chat_body()]
    env = env_for(cfg, log, extra={"XDG_RUNTIME_DIR": shared, "SSL_CERT_FILE": m.ca})
    eq(run(argv + ["--cert", "/nonexistent/client.pem"], env_for(preload=False)).returncode, 58,
       "(libcurl's own error for it)")
    outs = [run(argv + ["--cert", "/nonexistent/client.pem"], env) for _ in range(3)]
    check(all(b"Hello from m1" in r.stdout for r in outs), "each call answered by the first member")
    r = run(argv, env)
    check(b"Hello from tpri" in r.stdout, f"the program without the bad file gets its provider ({r.stdout[-120:]!r})")
    eq([l.get("reason") for l in read_log(log) if l.get("provider") == "openai"], ["local_tls"] * 3 + ["ok"],
       "logged local_tls, then ok")


def test_an_open_ended_probe_holds_its_turn():
    """timeouts_ms.total 0 (no limit): the half-open probe's turn used to
    last one cooldown, so against a hanging primary every process after
    that sent one more probe and waited for it. It now lasts until the
    probe reports (or its process ends)."""
    m = mock()
    m.set("primary", behaviour="503")
    shared = tempfile.mkdtemp(dir=tmpdir())
    cfg = config_with(m, "open_ended.json", breaker={"failures": 1, "cooldown_ms": 300},
                      timeouts_ms={"total": 0, "first_byte": 2500})
    env = env_for(cfg, extra={"XDG_RUNTIME_DIR": shared})
    eq(who(run(call_argv(m), env)), "backup", "open after one failure")
    m.set("primary", behaviour="hang")
    time.sleep(0.4)
    probe = subprocess.Popen(call_argv(m), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(0.6)   # (the old lease, one cooldown, has ended)
        others = [who(run(call_argv(m), env)) for _ in range(3)]
        out, _ = probe.communicate(timeout=30)
    finally:
        if probe.poll() is None:
            probe.kill()
            probe.wait()
    eq(others, ["backup"] * 3, "the others skip the primary while the probe is out")
    eq(len(m.requests("primary")), 2, "one failure, one probe: no other process asked the hanging primary")
    check(b"Hello from backup" in out, f"the probe's caller got the backup after its first-byte limit ({out[-200:]!r})")


def test_no_same_provider_retry_once_its_breaker_opened():
    """A 429 with a short Retry-After that opens the breaker (failures 1):
    the call goes to the next member at once; it used to wait and ask the
    provider its breaker had just opened for again."""
    m = mock()
    m.set("primary", behaviour="429", retry_after=1)
    cfg = config(m, failures=1, cooldown_ms=60000)
    log = new_log("ra_open.log")
    r = run(call_argv(m), env_for(cfg, log))
    eq(who(r), "backup", "the backup answers")
    eq(len(m.requests("primary")), 1, "the primary asked once, not again after its Retry-After")


def test_processes_with_other_cooldowns_respect_each_other():
    """Process A (cooldown 60 s) opens the breaker; process B (cooldown
    0.3 s) used to take A's open_until for a time from another clock and
    probe at once, then cut A's cooldown to its own with its failure."""
    m = mock()
    m.set("primary", behaviour="503")
    shared = tempfile.mkdtemp(dir=tmpdir())
    long_cfg = config(m, failures=1, cooldown_ms=60000)
    short_cfg = config_with(m, "short.json", breaker={"failures": 1, "cooldown_ms": 300})
    env = lambda cfg: env_for(cfg, extra={"XDG_RUNTIME_DIR": shared})
    run(call_argv(m), env(long_cfg))
    eq(len(m.requests("primary")), 1, "A opened it")
    for _ in range(2):
        eq(who(run(call_argv(m), env(short_cfg))), "backup", "B is answered by the backup")
    eq(len(m.requests("primary")), 1, "B respects A's cooldown")
    time.sleep(0.5)
    run(call_argv(m), env(short_cfg))
    run(call_argv(m), env(long_cfg))
    eq(len(m.requests("primary")), 1, "and past its own: still A's")


def test_a_retry_after_wait_leaves_room_for_a_fallback():
    """A 429 asking for 1 s, the program's own limit 2 s: the wait (with its
    jitter, up to 1.25 s) would take most of what is left, so the next
    member is asked at once. With 6 s the wait is made and the primary
    asked again."""
    m = mock()
    m.set("primary", behaviour="429", retry_after=1)
    cfg = config(m, failures=0)
    r = run(call_argv(m, "-m", "2"), env_for(cfg))
    eq((r.returncode, who(r)), (0, "backup"), "the backup answers within the program's limit")
    eq(len(m.requests("primary")), 1, "no wait that leaves no room: the primary asked once")
    m.reset_all()
    r = run(call_argv(m, "-m", "6"), env_for(cfg))
    eq((r.returncode, who(r)), (0, "backup"), "with room, the wait, then the backup")
    eq(len(m.requests("primary")), 2, "the primary asked again after its Retry-After")
