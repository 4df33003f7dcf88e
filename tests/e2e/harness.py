"""harness.py — what every end-to-end test shares.

Starts the mock providers (tests/mock/mockprov.py) on free loopback ports,
makes a test CA, writes llmfallback configs, runs unmodified programs with the
library preloaded, reads what each mock received, and counts checks. Tests are
functions named test_* in the test_*.py modules; run.py runs them all and
prints "N passed, N failed".
"""
import atexit
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("LLF_BUILD", os.path.join(ROOT, "build"))
LIB = os.path.join(BUILD, "libllmfallback.so")
# LLF_SANITIZED=DIR: the library under test is an ASan+UBSan build (make
# sanlib). The sanitizer runtimes are preloaded ahead of it, and every report
# any process writes lands in DIR, which a final test requires to be empty.
SANITIZED = os.environ.get("LLF_SANITIZED", "")
if SANITIZED:
    LIB = os.path.join(BUILD, "sanlib", "libllmfallback.so")
    _SAN_RT = [subprocess.run(["gcc", "-print-file-name=" + n], capture_output=True, text=True).stdout.strip()
               for n in ("libasan.so", "libubsan.so")] + [os.path.join(BUILD, "sanlib", "san_first.so")]
    _SAN_ENV = {
        # (allocation stacks kept whole: a leak on one of the library's
        # threads is told by the thread's first frames, own_thread and
        # serving_thread, which the default 30 frames cut off from a
        # relay's TLS transfer, and a leak its stack alone held, unscanned,
        # counted as the library's; see test_zzz_sanitizers)
        "ASAN_OPTIONS": f"log_path={SANITIZED}/asan:detect_leaks=1:abort_on_error=0:exitcode=0:fast_unwind_on_malloc=0"
                        ":malloc_context_size=64",
        "UBSAN_OPTIONS": f"log_path={SANITIZED}/ubsan:print_stacktrace=1:halt_on_error=1",
        "LSAN_OPTIONS": f"suppressions={os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lsan.supp')}",
    }
# (what a test that runs its programs through the wrapper says in the
# sanitized pass: the wrapper preloads the plain library, so running it again
# there would count the same run twice)
WRAPPED = "runs through the wrapper, which preloads the plain library (the plain pass runs it)"
PY = "/usr/bin/python3"
CURL = "/usr/bin/curl"

# Keys the tests use: every one is checked never to reach another provider
# and never to reach a log.
KEYS = {
    "OPENAI_API_KEY": "sk-test-openai-7f3a",
    "BACKUP_KEY": "sk-test-backup-91c2",
    "SPARE_KEY": "sk-test-spare-44d0",
    "ANTHROPIC_API_KEY": "ak-test-anthropic-5e11",
    "GEMINI_API_KEY": "gk-test-gemini-a8b7",
}


class Failed(Exception):
    pass


class Skipped(Exception):
    """Raised by a test that cannot run in this pass (say why): reported as
    skipped, never counted as passed."""


class Counter:
    passed = 0
    failed = 0


def check(cond, what):
    if cond:
        Counter.passed += 1
    else:
        Counter.failed += 1
        raise Failed(what)


def eq(got, want, what):
    check(got == want, f"{what}: got {got!r}, want {want!r}")


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


_tmp = tempfile.mkdtemp(prefix="llf-e2e-")


def tmpdir():
    return _tmp


def certs():
    d = os.path.join(_tmp, "certs")
    os.makedirs(d, exist_ok=True)
    subprocess.run(["bash", os.path.join(ROOT, "tests/mock/mkcerts.sh"), d], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return d


class Mock:
    """The mock providers, one process, one port per server entry."""

    def __init__(self, servers, tls=False):
        self.servers = {s["name"]: s for s in servers}
        ports = free_ports(len(servers))
        for s, p in zip(servers, ports):
            s.setdefault("port", p)
        cfg = {"record": os.path.join(_tmp, f"requests-{ports[0]}.jsonl"), "servers": servers}
        if tls or any(s.get("tls") for s in servers):
            d = certs()
            cfg["tls"] = {"cert": os.path.join(d, "server.pem"), "key": os.path.join(d, "server.key")}
            self.ca = os.path.join(d, "ca.pem")
        path = os.path.join(_tmp, f"mock-{ports[0]}.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        self.proc = subprocess.Popen([PY, os.path.join(ROOT, "tests/mock/mockprov.py"), path],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line.strip() != "READY":
            self.stop()
            raise Failed(f"mock did not start: {line!r} {self.proc.stderr.read()[:500]}")

    def port(self, name):
        return self.servers[name]["port"]

    def base(self, name, path="/v1"):
        s = self.servers[name]
        scheme = "https" if s.get("tls") else "http"
        host = "localhost" if s.get("tls") else "127.0.0.1"
        return f"{scheme}://{host}:{s['port']}{path}"

    def _admin(self, name, path, body=None):
        url = f"http://127.0.0.1:{self.port(name)}{path}"
        if self.servers[name].get("tls"):
            import ssl
            ctx = ssl.create_default_context(cafile=self.servers[name].get("ca", self.ca))
            url = f"https://localhost:{self.port(name)}{path}"
        else:
            ctx = None
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            return json.loads(r.read() or b"null")

    def requests(self, name):
        return self._admin(name, "/_mock/requests")

    def set(self, name, **kw):
        self._admin(name, "/_mock/set", kw)

    def reset(self, name):
        self._admin(name, "/_mock/reset", {})

    def reset_all(self):
        for n in self.servers:
            self.reset(n)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


_shared = {}


def shared_mock(key, servers):
    """One Mock per key for the whole run, reset to "ok" for each test."""
    m = _shared.get(key)
    if m is None:
        import atexit
        m = _shared[key] = Mock(servers)
        atexit.register(m.stop)
    m.reset_all()
    for n in m.servers:
        m.set(n, behaviour="ok", retry_after=None, delay_ms=0)
    return m


def write_config(cfg, name="config.json"):
    # Tests exercise one behaviour at a time: the breaker (which would skip a
    # primary after a few failures) is off unless a test configures it.
    if isinstance(cfg, dict) and "breaker" not in cfg:
        cfg = dict(cfg, breaker={"failures": 0})
    path = os.path.join(_tmp, name)
    with open(path, "w") as f:
        json.dump(cfg, f) if not isinstance(cfg, str) else f.write(cfg)
    return path


def env_for(config=None, log=None, preload=True, extra=None, keys=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMFALLBACK_")}
    for k in list(env):
        if k.endswith("_API_KEY") or k in ("BACKUP_KEY", "SPARE_KEY", "LD_PRELOAD"):
            del env[k]
    if keys:
        env.update(KEYS)
    if preload:
        env["LD_PRELOAD"] = " ".join(_SAN_RT + [LIB]) if SANITIZED else LIB
        if SANITIZED:
            env.update(_SAN_ENV)
    if config:
        env["LLMFALLBACK_CONFIG"] = config
    if log:
        env["LLMFALLBACK_LOG"] = log
    # health memory is per test unless a test shares a directory on purpose
    env["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="run-", dir=_tmp)
    if extra:
        env.update(extra)
    return env


LIBRARY_STDERR = []   # every "llmfallback:" line any test's program printed


_runs = 0


def _kill_marked(mark):
    """SIGKILL every process whose environment carries mark: what a program
    forked, even a daemon's grandchild that left its session (setsid) and
    still holds the output pipes."""
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if mark in f.read().split(b"\0"):
                    os.kill(int(pid), signal.SIGKILL)
        except (OSError, ValueError):
            pass


def as_nobody(path):
    """(argv prefix, path) to run a command where file modes bind: as root
    (who reads any file), setpriv to nobody, with path, or where nobody
    cannot reach it (a checkout under /root, mode 0700) with a copy of its
    directory that nobody can; Skipped when neither can be had."""
    if os.geteuid() != 0:
        return [], path
    who = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    if not shutil.which("setpriv"):
        raise Skipped("as root, and no setpriv to become nobody")
    if subprocess.run(who + ["test", "-x", path]).returncode != 0:
        d = tempfile.mkdtemp(prefix="llf-nobody-")
        atexit.register(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        copy = os.path.join(d, os.path.basename(os.path.dirname(path)))
        shutil.copytree(os.path.dirname(path), copy)
        path = os.path.join(copy, os.path.basename(path))
        if subprocess.run(who + ["test", "-x", path]).returncode != 0:
            raise Skipped(f"as root, and nobody cannot run {path}")
    return who, path


def with_hosts(lines, argv):
    """argv, to be run where /etc/hosts holds lines: in a mount namespace of
    its own (unshare -m as root, else in a user namespace too, unshare -rm),
    with a file of ours bound over it. Skipped when no such namespace can be
    had."""
    path = os.path.join(_tmp, "hosts-" + hashlib.sha256("\n".join(lines).encode()).hexdigest()[:12])
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    ns = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
    script = 'mount --bind "$1" /etc/hosts && shift && exec "$@"'
    probe = subprocess.run(ns + ["sh", "-c", script, "sh", path, "true"], capture_output=True)
    if probe.returncode != 0:
        raise Skipped(f"no mount namespace for a hosts file of our own ({' '.join(ns)}: "
                      f"{probe.stderr.decode(errors='replace').strip()[:200]})")
    return ns + ["sh", "-c", script, "sh", path, *argv]


# /etc/hosts as Debian writes it: localhost is ::1 first, then 127.0.0.1
# (the servers of these tests listen on 127.0.0.1 only).
DEBIAN_HOSTS = ["::1 localhost ip6-localhost ip6-loopback", "127.0.0.1 localhost"]


def run(argv, env, input=None, timeout=60, cwd=None):
    """argv to its end, or TimeoutExpired after timeout seconds. A timeout
    kills what it forked too (its session, and anything that carries the
    run's mark in its environment): a hung child must not outlive its test,
    nor hold its output open for ever."""
    global _runs
    _runs += 1
    mark = f"LLF_E2E_RUN={os.getpid()}.{_runs}"
    env = dict(env, LLF_E2E_RUN=mark.split("=", 1)[1])
    with subprocess.Popen(argv, env=env, stdin=subprocess.PIPE if input is not None else None, cwd=cwd,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True) as p:
        try:
            out, err = p.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            _kill_marked(mark.encode())
            p.communicate()
            raise
    r = subprocess.CompletedProcess(argv, p.returncode, out, err)
    LIBRARY_STDERR.extend(l for l in r.stderr.decode("utf-8", "replace").splitlines()
                          if l.startswith("llmfallback:") or l.startswith('{"ts"'))
    return r


def read_log(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def new_log(name):
    path = os.path.join(_tmp, name)
    if os.path.exists(path):
        os.unlink(path)
    return path


def sha(data):
    return hashlib.sha256(data).hexdigest()


def chat_body(model="gpt-4o", text="hello"):
    return json.dumps({"model": model, "messages": [{"role": "user", "content": text}]})


def run_tests(modules):
    """Run every test_* function of the modules; each is one test case that
    counts its checks, and fails if it made none. Prints per-test status and
    the closing line."""
    cases_ok = cases_bad = 0
    skipped = []
    failed = []
    for mod in modules:
        for name in sorted(n for n in dir(mod) if n.startswith("test_")):
            fn = getattr(mod, name)
            t0 = time.time()
            before = Counter.passed + Counter.failed
            try:
                fn()
                if Counter.passed + Counter.failed == before:
                    # (a test that checked nothing shows nothing: not a pass)
                    Counter.failed += 1
                    raise Failed("made no check")
                cases_ok += 1
                print(f"ok   {mod.__name__}.{name} ({time.time() - t0:.1f}s)", flush=True)
            except Skipped as e:
                skipped.append(name)
                print(f"skip {mod.__name__}.{name}: {e}", flush=True)
            except Failed as e:
                cases_bad += 1
                failed.append(f"{mod.__name__}.{name}: {str(e).splitlines()[0] if str(e) else ''}")
                print(f"FAIL {mod.__name__}.{name}: {e}", flush=True)
            except Exception:
                cases_bad += 1
                Counter.failed += 1
                failed.append(f"{mod.__name__}.{name}: exception {traceback.format_exc().splitlines()[-1]}")
                print(f"FAIL {mod.__name__}.{name}: exception\n{traceback.format_exc()}", flush=True)
    # (again at the end, where a CI log cut to its tail still shows them)
    for f in failed:
        print(f"e2e: failed {f}")
    print(f"e2e checks: {Counter.passed} passed, {Counter.failed} failed")
    if skipped:
        print(f"e2e: {len(skipped)} skipped in this pass: {', '.join(skipped)}")
    print(f"e2e: {cases_ok} passed, {cases_bad} failed")
    return cases_bad == 0
