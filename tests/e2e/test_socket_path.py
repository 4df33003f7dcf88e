"""The plain-socket path: unmodified Python programs (Debian's /usr/bin/python3
with urllib, http.client, requests, httpx) reaching providers over http://,
redirected at connect() to the in-process relay."""
import atexit
import json
import os
import socket
import subprocess
import threading
import time

from harness import (BUILD, DEBIAN_HOSTS, KEYS, PY, SANITIZED, Failed, Skipped, Mock, chat_body, check, env_for, eq, free_ports, new_log, read_log, run,
                     tmpdir,
                     with_hosts,
                     write_config)

_m = None


def mock():
    global _m
    if _m is None:
        _m = Mock([
            {"name": "primary", "dialect": "openai", "key": KEYS["OPENAI_API_KEY"]},
            {"name": "backup", "dialect": "openai", "key": KEYS["BACKUP_KEY"]},
            {"name": "claude", "dialect": "anthropic", "key": KEYS["ANTHROPIC_API_KEY"]},
        ])
        atexit.register(_m.stop)
    _m.reset_all()
    for n in _m.servers:
        _m.set(n, behaviour="ok", retry_after=None)
    return _m


def config(m, primary_base=None, chain=("backup/gpt-4o-mini",), raw=None, total=5000, connect=2000):
    providers = {
        "openai": {"base_url": primary_base or m.base("primary")},
        "backup": {"dialect": "openai", "base_url": m.base("backup"), "api_key_env": "BACKUP_KEY"},
        "anthropic": {"base_url": m.base("claude")}}
    if raw:   # a RawServer's port, as a provider: its connections reach the relay
        providers["raw"] = {"dialect": "openai", "base_url": f"http://127.0.0.1:{raw}/v1", "api_key_env": ""}
    return write_config({"providers": providers, "chain": list(chain),
                         "timeouts_ms": {"connect": connect, "total": total}}, "socket.json")


from pyclients import (CHILDREN, CLIENTS, DIRECT, GIVES_UP, PEERS, PRELUDE, SEND_READ_ALL, SOCKET_INODES, STREAM_OR_NOT, TO_END, UPLOADS, WALKS_AWAY, WEBSOCKET,  # noqa: E402
                       check_left_mid_attempt, check_children, check_relayed, check_uploads,
                       check_websocket_tunnelled, proxy_env)
from rawserver import RawServer, echo, half_close, huge_answer, ticks, took_it, unauthorized, websocket_echo  # noqa: E402


def py(m, script, cfg, *args, log=None, timeout=60):
    return run([PY, "-c", PRELUDE + script, m.base("primary") + "/chat/completions", *args],
               env_for(cfg, log), timeout=timeout)


def test_python_clients_fall_back():
    m = mock()
    for name, script in CLIENTS.items():
        m.reset_all()
        m.set("primary", behaviour="503")
        log = new_log("sock.log")
        r = py(m, script, config(m), log=log)
        out = r.stdout.decode().split(" ", 2)
        eq(r.returncode, 0, f"{name}: exit ({r.stderr.decode()[-300:]})")
        eq(out[:2], ["200", "backup"], f"{name}: status and provider header")
        check(out[2].startswith("Hello from backup (gpt-4o-mini) [rid:"), f"{name}: the backup's answer")
        eq(m.requests("backup")[0]["credential"], KEYS["BACKUP_KEY"], f"{name}: the backup's own key")
        check(KEYS["OPENAI_API_KEY"] not in json.dumps(m.requests("backup")), f"{name}: no other key")
        paths = {l["path"] for l in read_log(log) if l["event"] == "attempt"}
        eq(paths, {"socket"}, f"{name}: logged as the socket path")
    # the head names who answered, with which model, after how many attempts
    script = """
import requests
r = requests.post(URL, data=body(), headers=HDRS, timeout=10)
print(*(r.headers.get("x-llmfallback-" + h) for h in ("provider", "model", "attempts")))
"""
    eq(py(m, script, config(m)).stdout.decode().split(), ["backup", "gpt-4o-mini", "2"], "the x-llmfallback-* headers")


def test_a_config_read_from_a_pipe():
    """LLMFALLBACK_CONFIG=<(...): a pipe can be read once. The shim's gate,
    which reads the file to know the providers' hosts, leaves a pipe to the
    core (it used it up, and the core read nothing: "not valid JSON")."""
    m = mock()
    m.set("primary", behaviour="503")
    cfg = config(m)
    env = env_for(cfg)
    del env["LLMFALLBACK_CONFIG"]
    script = PRELUDE + "print(urllib_chat('pipe'))"
    r = run(["bash", "-c", 'LLMFALLBACK_CONFIG=<(cat "$1") exec "$2" -c "$3" "$4"', "-", cfg, PY, script,
             m.base("primary") + "/chat/completions"], env)
    check(r.stdout.decode().startswith("Hello from backup"), f"the backup answers ({r.stderr.decode()[-300:]})")


def test_a_config_written_to_a_named_fifo():
    """LLMFALLBACK_CONFIG naming a FIFO a writer waits on (mkfifo f; cat
    cfg > f &): the gate opened it to see what it was, which let the writer
    go on, and closed it at once: the writer died of SIGPIPE, and the core
    found the FIFO empty. The gate now looks without opening: the writer
    ends as it should, and the call falls back."""
    m = mock()
    m.set("primary", behaviour="503")
    env = env_for(config(m))
    cfg = env.pop("LLMFALLBACK_CONFIG")
    fifo = os.path.join(tmpdir(), "config.fifo")
    if os.path.exists(fifo):
        os.unlink(fifo)
    os.mkfifo(fifo, 0o600)
    script = PRELUDE + "print(urllib_chat('fifo'))"
    r = run(["bash", "-c", 'cat "$1" > "$2" & w=$!; LLMFALLBACK_CONFIG=$2 "$3" -c "$4" "$5"; wait $w; echo "writer $?"',
             "-", cfg, fifo, PY, script, m.base("primary") + "/chat/completions"], env)
    out = r.stdout.decode().splitlines()
    check(out[:1] and out[0].startswith("Hello from backup"), f"the backup answers ({r.stderr.decode()[-300:]})")
    eq(out[-1:], ["writer 0"], "the FIFO's writer wrote it all")


def test_a_piped_config_used_up_by_another_process_is_told():
    """A script given LLMFALLBACK_CONFIG=<(...) whose first process connects
    somewhere unrelated: that process reads the pipe (the library loads its
    configuration at a process's first lookup or connect), and the script's
    later call has none. It passes through, and its one line says why; it
    said only "empty". (The wrapper's --config copies a pipe for every
    process: test_the_wrapper_gives_a_piped_config_to_every_process.)"""
    m = mock()
    m.set("primary", behaviour="503")
    env = env_for(config(m))
    cfg = env.pop("LLMFALLBACK_CONFIG")
    first = "import socket; s = socket.socket(); s.settimeout(1); s.connect_ex(('127.0.0.1', 9))"
    r = run(["bash", "-c", 'LLMFALLBACK_CONFIG=<(cat "$1") exec bash -c \'"$1" -c "$2"; exec "$1" -c "$3" "$4"\' - "${@:2}"',
             "-", cfg, PY, first, PRELUDE + "print(urllib_chat('used'))", m.base("primary") + "/chat/completions"], env)
    err = r.stderr.decode()
    check("503" in err and "Hello" not in r.stdout.decode(), f"the call passed through ({err[-300:]})")
    check("empty (a pipe or FIFO: nothing written to it, or read already by another process)" in err,
          f"and says why ({err[-300:]})")


# A raw client's start: the mock's host and port, and reply(f), one answer
# (status line, body by its Content-Length) read from the socket's file.
RAW_REPLY = r"""
import socket
host, port = URL.split("/")[2].split(":")
port = int(port)
def reply(f):
    status = f.readline().strip(); n = 0
    for l in iter(f.readline, b"\r\n"):
        if l.lower().startswith(b"content-length:"): n = int(l.split(b":")[1])
    return status, f.read(n)
"""


def test_requests_written_oddly_but_legally_by_hand():
    """Chunked bodies with a long extension or trailer (a line left behind
    was read as the next request, and its answer given to the one after),
    an empty line after a body (the connection became a tunnel: no
    fallback for its later calls), an absolute target in capitals, one
    whose scheme is https (served as a server serves it on its plain port:
    over this connection, in plain HTTP; it was tunnelled, with no
    fallback), a
    request with bare LF line ends and another protocol (carried as they
    came, answered at once, not kept waiting for a blank line: the parser's
    unit test). Extensions and trailers longer than the relay's buffer
    (64 KiB) too: one ended the body early and the rest went to the server as
    another request (two answers to one), the other closed the connection
    with no answer. And chunk lines ended by a bare LF, as RFC 9112 lets a
    server take them: the relay waited for a CRLF, and the call hung."""
    m = mock()
    m.set("primary", behaviour="503")
    script = PRELUDE + RAW_REPLY + r"""
def head(extra, te=None):
    return (b"POST %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: %s\r\nContent-Type: application/json\r\n%s\r\n"
            % (te or b"/v1/chat/completions", host.encode(), port, HDRS["Authorization"].encode(), extra))
s = socket.create_connection((host, port), timeout=10); f = s.makefile("rb")
b = body("t1").encode()
s.sendall(head(b"Transfer-Encoding: chunked\r\n") + b"%x;sig=%s\r\n%s\r\n0\r\nX-Checksum: %s\r\n\r\n" % (len(b), b"f" * 80, b, b"a" * 80))
print(reply(f)[1].count(b"[rid:t1]"))
b = body("t2").encode()
s.sendall(head(b"Content-Length: %d\r\n" % len(b)) + b + b"\r\n")
print(reply(f)[1].count(b"[rid:t2]"))
b = body("t3").encode()
s.sendall(head(b"Content-Length: %d\r\n" % len(b), b"HTTP://%s:%d/v1/chat/completions" % (host.encode(), port)) + b)
st, a = reply(f)
print(a.count(b"[rid:t3]"), json.loads(a)["choices"][0]["message"]["content"].split()[2])
b = body("t4").encode()
s.sendall(head(b"Content-Length: %d\r\n" % len(b), b"hTTpS://%s:%d/v1/chat/completions" % (host.encode(), port)) + b)
st, a = reply(f)
print(a.count(b"[rid:t4]"), json.loads(a)["choices"][0]["message"]["content"].split()[2])
b = body("t5").encode()
s.sendall(head(b"Transfer-Encoding: chunked\r\n") + b"%x;sig=%s\r\n%s\r\n0\r\n\r\n" % (len(b), b"f" * 70000, b))
print(reply(f)[1].count(b"[rid:t5]"))
b = body("t6").encode()
s.sendall(head(b"Transfer-Encoding: chunked\r\n") + b"%x\r\n%s\r\n0\r\nX-Checksum: %s\r\nX-B: 1\r\n\r\n" % (len(b), b, b"a" * 70000))
print(reply(f)[1].count(b"[rid:t6]"))
b = body("t7").encode()
s.sendall(head(b"Transfer-Encoding: chunked\r\n") + b"%x\n%s\n0\n\n" % (len(b), b))
print(reply(f)[1].count(b"[rid:t7]"))
s.settimeout(1)
try:
    print("more", len(s.recv(100)))
except socket.timeout:
    print("nothing more")
"""
    r = py(m, script, config(m), timeout=60)
    eq(r.stdout.decode().split(), ["1", "1", "1", "backup", "1", "backup", "1", "1", "1", "nothing", "more"],
       f"each answer its own request, each fallen back, and no answer more ({r.stderr.decode()[-300:]})")


def test_another_protocol_or_a_head_with_a_nul_is_carried_as_it_came():
    """A client that speaks first in another protocol, in a binary message
    with no LF (a PostgreSQL SSLRequest, to a provider's address and port),
    reaches the server at once: the relay waited for a line that never came,
    and the client for ever. A head with a NUL in its target or a header is
    carried as it came: the relay cut both at the NUL. So is one with two
    Hosts, which the relay sent on with the first only."""
    got = []
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            c.settimeout(5)
            data = b""
            try:
                while len(data) < 8 or (data[:1].isalpha() and b"\r\n\r\n" not in data):
                    d = c.recv(65536)
                    if not d:
                        break
                    data += d
                got.append(data)
                c.sendall(b"PONG" if not data[:1].isalpha() else b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            except OSError:
                pass
            c.close()
    threading.Thread(target=serve, daemon=True).start()
    port = srv.getsockname()[1]
    m = mock()
    script = PRELUDE + TO_END + r"""
port = int(sys.argv[2])
for msg in (b"\x00\x00\x00\x08\x04\xd2\x16\x2f", b"GET /a\x00b HTTP/1.1\r\nHost: x\r\nX-A: a\x00hidden\r\n\r\n",
            b"GET /h HTTP/1.1\r\nHost: x\r\nHost: other.example\r\n\r\n"):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(msg)
    print(to_end(s).decode("latin-1").replace("\r\n", "|"))
    s.close()
"""
    try:
        r = py(m, "import socket\n" + script, config(m, raw=port), str(port), timeout=30)
    finally:
        srv.close()
    eq(r.stdout.decode().splitlines(), ["PONG"] + ["HTTP/1.1 200 OK|Content-Length: 2||ok"] * 2,
       f"each answered by the server ({r.stderr.decode()[-300:]})")
    eq(got, [b"\x00\x00\x00\x08\x04\xd2\x16\x2f", b"GET /a\x00b HTTP/1.1\r\nHost: x\r\nX-A: a\x00hidden\r\n\r\n",
             b"GET /h HTTP/1.1\r\nHost: x\r\nHost: other.example\r\n\r\n"],
       "the server got each as it was sent (two Hosts not cut to one: a server must refuse them)")


def test_a_base_url_host_written_with_json_escapes():
    """A base URL whose host is written with JSON's \\u escapes
    ("http://\\u0031\\u0032\\u0037.0.0.1:PORT/v1"), as the core reads it: the
    shim's gate did not, so the program's connections to it were never
    redirected, and its calls got the primary's 503 (curl's fell back)."""
    m = mock()
    m.set("primary", behaviour="503")
    with open(config(m)) as f:
        text = f.read()
    cfg = write_config(text.replace('"openai": {"base_url": "http://127.0.0.1:',
                                    '"openai": {"base_url": "http://\\u0031\\u0032\\u0037.0.0.1:', 1), "escaped.json")
    with open(cfg) as f:
        check("\\u0031" in f.read(), "the config has the escaped host")
    r = py(m, CLIENTS["urllib"], cfg)
    eq(r.stdout.decode().split()[:2], ["200", "backup"], f"the call fell back ({r.stderr.decode()[-300:]})")


def test_a_host_no_url_can_carry_is_sent_as_it_came():
    """An empty Host (legal, RFC 9112 §3.2), one with userinfo, a "#" or a
    space: the relay pasted it into the URL, so http:///v1/chat/completions
    asked host "v1" for /chat/completions, "u:p@h" became a Basic
    Authorization, "h#x" asked for /. Now the URL names the address the
    program connected to and the Host goes on as the header it was."""
    m = mock()
    m.set("primary", behaviour="503")
    script = PRELUDE + RAW_REPLY + r"""
for i, h in enumerate([b"", b"alice:secret@%s:%d" % (host.encode(), port), b"%s:%d#x" % (host.encode(), port), b"a b"]):
    s = socket.create_connection((host, port), timeout=10); f = s.makefile("rb")
    b = body("h%d" % i).encode()
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % (h, HDRS["Authorization"].encode(), len(b)) + b)
    st, a = reply(f)
    print(st.split()[1].decode(), a.count(b"[rid:h%d]" % i), json.loads(a)["choices"][0]["message"]["content"].split()[2])
    s.close()
"""
    r = py(m, script, config(m), timeout=60)
    eq(r.stdout.decode().split(), ["200", "1", "backup"] * 4,
       f"each asked for its own path and fallen back ({r.stderr.decode()[-300:]})")
    seen = [q for q in m.requests("primary") if q.get("path")]
    eq(sorted({q["path"] for q in seen}), ["/v1/chat/completions"], "the primary was asked for the path the program wrote")
    eq([q for q in seen if "basic" in str(q.get("headers", {})).lower()], [], "no credentials made of a Host")


def test_keep_alive_connection_serves_many_calls():
    m = mock()
    m.set("primary", behaviour=["503", "ok", "503"])
    script = """
import http.client, urllib.parse
u = urllib.parse.urlsplit(URL)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
for i in range(3):
    if i == 2:   # a chunked request body
        c.request("POST", u.path, body=iter([body(str(i)).encode()[:20], body(str(i)).encode()[20:]]),
                  headers=HDRS, encode_chunked=True)
    else:
        c.request("POST", u.path, body=body(str(i)), headers=HDRS)
    r = c.getresponse()
    d = json.loads(r.read())
    print(r.status, r.getheader("x-llmfallback-provider") or "-", d["choices"][0]["message"]["content"].split()[2])
print("socket", id(c.sock))
"""
    r = py(m, script, config(m))
    lines = r.stdout.decode().splitlines()
    eq(lines[:3], ["200 backup backup", "200 - primary", "200 backup backup"], "three calls, one connection")
    eq(json.loads(m.requests("primary")[2]["body"])["messages"][0]["content"], "hi [rid:2]",
       "a chunked body arrives whole")


def test_serving_threads_park_and_keep_their_connections():
    """A relay thread does not end with the program's connection: it parks
    for the next one (a thread's end could leave a fork()ed child hung in
    OpenSSL's clean-up, see test_processes), and keeps its connections to
    the providers. urllib opens a connection per call: twelve calls in a
    row are served by the thread of the first (or, when a call's connection
    arrives before the last one's thread has parked, by one or two more),
    over as few connections to each provider. The relay's threads take none
    of the program's signals. (Each call's own request says close, as urllib
    does: that connection to the primary is not kept.)"""
    m = mock()
    m.set("primary", behaviour="503")
    script = """
import signal, time
def threads():
    time.sleep(0.3)                         # (a thread that ends is gone by then)
    return len(os.listdir("/proc/self/task"))
before = threads()
urllib_chat("a")
one = threads()
for i in range(11):
    urllib_chat("b%d" % i)
print(before, one, threads())
def blocked(tid):
    for l in open("/proc/self/task/%s/status" % tid):
        if l.startswith("SigBlk:"):
            return int(l.split()[1], 16)
wanted = sum(1 << (s - 1) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM, signal.SIGCHLD, signal.SIGPIPE))
print(blocked(os.getpid()) & wanted == wanted,
      all(blocked(t) & wanted == wanted for t in os.listdir("/proc/self/task") if t != str(os.getpid())))
"""
    r = py(m, script, config(m))
    lines = r.stdout.decode().splitlines()
    eq(len(lines), 2, f"counted ({r.stderr.decode()[-300:]})")
    eq(lines[1], "False True", "the relay's threads block the program's signals; its main thread does not")
    before, one, twelve = map(int, lines[0].split())
    eq(one - before, 2, "after one call: the relay's accepting thread, and its serving thread parked")
    serving = twelve - before - 1
    check(1 <= serving <= 3, f"twelve calls in a row, served by {serving} thread(s)")
    eq(len({q["conn"] for q in m.requests("primary")}), 12, "primary: a connection per call, as urllib's own")
    conns = len({q["conn"] for q in m.requests("backup")})
    check(1 <= conns <= serving, f"backup: twelve calls over {conns} connection(s)")


BURST = """
import concurrent.futures, time
def count():
    time.sleep(1)                           # (the burst's threads have parked by then)
    return len(os.listdir("/proc/self/fd")), len(os.listdir("/proc/self/task"))
urllib_chat("warm")                         # the relay, and a serving thread parked
before = count()
gate = threading.Barrier(100)
def one(i):
    gate.wait()
    return "[rid:b%d]" % i in urllib_chat("b%d" % i)
with concurrent.futures.ThreadPoolExecutor(100) as ex:
    answered = sum(ex.map(one, range(100)))
burst = count()
for i in range(5):
    urllib_chat("after%d" % i)
print(answered, *before, *burst, *count())
"""


def test_a_burst_of_connections_leaves_few_descriptors():
    """A hundred urllib calls at once, each on a connection of its own,
    make a hundred serving threads, which park after it (they never end:
    see test_serving_threads_park_and_keep_their_connections). Parked,
    at most 16 of them keep their libcurl handle, with its connection to
    the provider and libcurl's wake-up pair; the others' are cleaned up.
    Each parked thread kept its handle, about three descriptors: 300 more
    for the process's life after this burst, and a program near its
    descriptor limit (1024 by default) got EMFILE later where it would not
    without the library. Each call's own request says close, as urllib
    does: no handle keeps that connection, and each call after the burst
    goes over one of its own, as without the library."""
    m = mock()
    m.set("primary", behaviour="slow:500")   # (the hundred connections are open at once)
    r = py(m, BURST, config(m), timeout=120)
    out = r.stdout.decode().split()
    eq(len(out), 7, f"counted ({r.stdout!r}, {r.stderr.decode()[-300:]})")
    answered, fds0, threads0, fds1, threads1, fds2, threads2 = map(int, out)
    eq(answered, 100, "every call of the burst answered with its own tag")
    check(threads1 - threads0 >= 50, f"the burst made {threads1 - threads0} more serving threads (at least 50)")
    check(fds1 - fds0 <= 60, f"after the burst, {fds1 - fds0} more descriptors than before it (at most 60: "
                             "16 handles kept, 3 each, and a few)")
    check(fds2 - fds0 <= 60, f"after five more calls, {fds2 - fds0} more descriptors than before the burst")
    burst_conns = {q["conn"] for q in m.requests("primary") if "[rid:b" in q["body"]}
    after_conns = {q["conn"] for q in m.requests("primary") if "[rid:after" in q["body"]}
    eq((len(after_conns), len(after_conns & burst_conns)), (5, 0), "the calls after the burst each over a connection of its own")


# N connections the program keeps alive, and a call on each of them at once
KEPT = """
import concurrent.futures, http.client, time
host, port = URL.split("/")[2].split(":")
conns = [http.client.HTTPConnection(host, int(port), timeout=20) for _ in range(N)]
def burst(tag):
    gate = threading.Barrier(N)
    def one(i):
        gate.wait()
        conns[i].request("POST", "/v1/chat/completions", body=body("%s%d" % (tag, i)), headers=HDRS)
        return "[rid:%s%d]" % (tag, i) in conns[i].getresponse().read().decode()
    with concurrent.futures.ThreadPoolExecutor(N) as ex:
        return sum(ex.map(one, range(N)))
"""

KEPT_ALIVE = "N = 60" + KEPT + """
def count():
    return len(os.listdir("/proc/self/fd"))
urllib_chat("warm")
before = count()
first = burst("a")
busy = count()
time.sleep(2.5)                             # idle, kept alive
idle = count()
second = burst("b")                         # the same connections again
print(first, second, before, busy, idle, count())
"""


def test_connections_kept_alive_but_idle_hold_few_descriptors():
    """Sixty connections a program keeps alive (a requests Session's pool, an
    httpx or Node agent), then idle: each kept its serving thread's libcurl
    handle, with its connection to the provider (to each provider of a call
    that fell back) and libcurl's wake-up pair, for as long as the program
    kept it open, 4 to 6 descriptors each (a program well within its limit
    then ran out). Idle for a second, a connection lays its handle down as
    a parked thread does, at most 16 kept: it holds its end alone. Its next
    call takes one up again, and is answered."""
    m = mock()
    m.set("primary", delay_ms=300)   # (the sixty are under way at once)
    r = py(m, KEPT_ALIVE, config(m), timeout=120)
    out = r.stdout.decode().split()
    eq(len(out), 6, f"counted ({r.stdout!r}, {r.stderr.decode()[-300:]})")
    first, second, before, busy, idle, after = map(int, out)
    eq((first, second), (60, 60), "every call answered with its own tag, before and after the idle time")
    check(busy - before >= 60 * 4, f"under way: {busy - before} more descriptors (each connection "
                                   "its two ends, its handle's wake-up pair and upstream connection)")
    # the program's 60, the relay's 60 ends, 16 handles kept (4 each at most), a few
    check(idle - before <= 60 + 60 + 16 * 4 + 8, f"idle: {idle - before} more descriptors than before")


KEPT_AND_CLOSED = "N = 14" + KEPT + """
def closing(tag):                           # urllib's: Connection: close
    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        return sum(ex.map(lambda i: "[rid:u%s%d]" % (tag, i) in urllib_chat("u%s%d" % (tag, i)), range(6)))
got = 0
for r in range(4):
    got += burst("k%d-" % r)
    time.sleep(1.5)                         # the fourteen idle: their handles laid down
    got += closing(r)
print(got)
"""


def test_idle_kept_alive_connections_keep_their_upstream_ones_beside_closing_calls():
    """Fourteen connections kept alive and idle between rounds, and between
    them six urllib calls at once, each closing its connection: a closing
    call takes no handle of a kept-alive connection (libcurl would close its
    upstream connection after it), and a handle kept beyond 16 is one of
    theirs before a kept-alive one. The fourteen keep their fourteen
    connections to the provider over four rounds (with the handles first
    laid down idle, the closing calls took and evicted theirs: 26)."""
    m = mock()
    r = py(m, KEPT_AND_CLOSED, config(m), timeout=120)
    eq(r.stdout.decode().split(), ["80"], f"every call answered with its own tag ({r.stderr.decode()[-300:]})")
    kept = {q["conn"] for q in m.requests("primary") if "[rid:k" in q["body"]}
    eq(len(kept), 14, "the kept-alive calls' connections to the provider")


BURST_THEN_CLOSE = """
import concurrent.futures, http.client, socket, time
def burst(tag, n):
    def one(i):
        try:
            return "[rid:%s%d]" % (tag, i) in urllib_chat("%s%d" % (tag, i))
        except Exception:
            return False
    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        return sum(ex.map(one, range(n)))
host, port = URL.split("/")[2].split(":")
kept = http.client.HTTPConnection(host, int(port), timeout=10)   # kept alive, idle
kept.request("POST", "/v1/chat/completions", body=body("kept"), headers=HDRS)
print("kept", "[rid:kept]" in kept.getresponse().read().decode())
os.dup2(kept.sock.fileno(), 0)      # (its end is kept past the closerange below: on 0)
kept.sock.close()
print("first", burst("a", 24))      # 16 handles kept as their threads park
time.sleep(0.5)
os.closerange(3, 1024)              # the relay's among them, its end of the kept connection too
mine = []
for i in range(200):                # the program's own, on the numbers just freed
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    mine.append((s, os.fstat(s.fileno()).st_ino))
def intact():
    def same(s, ino):
        try:
            return os.fstat(s.fileno()).st_ino == ino
        except OSError:
            return False
    return sum(same(s, ino) for s, ino in mine)
os.close(0)                         # the kept connection ends: its thread parks, the relay unaware
os.open("/dev/null", os.O_RDONLY)
time.sleep(0.5)
print("parked", intact())
print("second", burst("b", 24))     # a relay afresh; the first burst's handles are stale
time.sleep(0.5)
print("after", intact())
"""


def test_a_burst_after_the_program_closed_every_descriptor_leaves_its_own_alone():
    """Handles beyond the 16 kept are cleaned up as their threads park,
    but never one whose descriptors may be the program's now: a thread
    that parks after the program closed every descriptor and took their
    numbers for its own, before the relay saw it, cleans up no kept handle
    (the oldest one's descriptors, closed, were three of the program's
    sockets), and the next burst, served by a relay afresh, leaves them
    alone too. The program's 200 sockets on the freed numbers stay its
    own."""
    m = mock()
    m.set("primary", behaviour="slow:300")
    r = py(m, BURST_THEN_CLOSE, config(m), timeout=60)
    lines = r.stdout.decode().splitlines()
    eq(len(lines), 5, f"ran to its end ({lines} {r.stderr.decode()[-300:]})")
    eq(lines[:2], ["kept True", "first 24"], "a call on a kept-alive connection, and the first burst answered")
    eq(lines[2], "parked 200", "the program's sockets, after the kept connection's thread parked")
    eq(lines[3], "second 24", "the second burst answered, by a relay afresh")
    eq(lines[4], "after 200", "the program's sockets, after the second burst's threads parked")


IN_FLIGHT_THEN_CLOSE = """
import socket, time
host, port = URL.split("/")[2].split(":")
b = body("inflight").encode()
slow = socket.create_connection((host, int(port)))
slow.sendall(("POST /v1/chat/completions HTTP/1.1\\r\\nHost: %s:%s\\r\\nContent-Type: application/json\\r\\n"
              "Authorization: %s\\r\\nContent-Length: %d\\r\\n\\r\\n" % (host, port, HDRS["Authorization"], len(b))).encode() + b)
slow.detach()
time.sleep(0.5)   # (the relay's transfer is under way, the provider silent)
os.closerange(3, 1024)
mine = []
for _ in range(200):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    mine.append((s, os.fstat(s.fileno()).st_ino))
def same(s, ino):
    try:
        return os.fstat(s.fileno()).st_ino == ino
    except OSError:
        return False
time.sleep(6)   # (past the transfer's end, and its total limit of 5 s)
print(sum(1 for s, ino in mine if same(s, ino)))
"""


def test_a_transfer_ended_after_the_program_closed_every_descriptor_closes_none_of_its():
    """The relay's transfer for a call is under way when the program closes
    every descriptor and takes the numbers for sockets of its own. libcurl
    ends that transfer later (its program's end gone) and closes its
    connection's number: by then the program's. It closed one of the
    program's 200 sockets, every time; now a socket of ours is closed only
    while its number still names it."""
    m = mock()
    m.set("primary", behaviour="slow:3000")
    r = py(m, IN_FLIGHT_THEN_CLOSE, config(m), timeout=60)
    eq(r.stdout.decode().strip(), "200", f"the program's 200 sockets are all its own ({r.stderr.decode()[-300:]})")


def test_sixteen_threads_one_session():
    m = mock()
    m.set("primary", behaviour=["503", "ok"] * 50)
    script = """
import requests
s = requests.Session()
bad = []
def work(t):
    for i in range(5):
        tag = "%d-%d" % (t, i)
        r = s.post(URL, data=body(tag), headers=HDRS, timeout=20)
        if r.status_code != 200 or "[rid:%s]" % tag not in r.json()["choices"][0]["message"]["content"]:
            bad.append(tag)
ts = [threading.Thread(target=work, args=(t,)) for t in range(16)]
[t.start() for t in ts]
[t.join() for t in ts]
print(len(bad))
"""
    r = py(m, script, config(m), timeout=120)
    eq(r.stdout.decode().strip(), "0", f"80 calls, each answered with its own tag ({r.stderr.decode()[-300:]})")
    eq(len(m.requests("primary")), 80, "every call went to the primary first")
    check(len(m.requests("backup")) > 0, "some fell back")


def test_total_failure_and_pass_through_are_unchanged():
    m = mock()
    script = """
import http.client, urllib.parse
u = urllib.parse.urlsplit(URL)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
c.request(sys.argv[2], sys.argv[3], body=body() if sys.argv[2] == "POST" else None, headers=HDRS)
r = c.getresponse()
print(r.status, r.getheader("content-type"), r.read().decode())
"""
    for behaviour, method, path in (("503", "POST", "/v1/chat/completions"), ("ok", "GET", "/v1/models"),
                                    ("ok", "POST", "/v1/embeddings")):
        m.reset_all()
        for n in ("primary", "backup"):
            m.set(n, behaviour=behaviour)
        a = py(m, PEERS + script, config(m), method, path)
        check_relayed(a, m.port("primary"), f"{behaviour} {method} {path}")
        if behaviour == "503":
            eq(len(m.requests("backup")), 1, "the chain was asked before the original went back")
        b = run([PY, "-c", PRELUDE + script, m.base("primary") + "/chat/completions", method, path], env_for(preload=False))
        eq(a.stdout, b.stdout, f"{behaviour} {method} {path}: what the program sees is unchanged")


BURST_PROG = os.path.join(BUILD, "progs/burst")


def burst(m, n, nofile, log=None):
    """build/progs/burst: n non-blocking connects to the primary made before
    any request (an event loop's burst), under an open-file limit of nofile
    (Skipped where the hard limit is lower)."""
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < nofile:
        raise Skipped(f"the hard open-file limit is {hard}, below {nofile}")
    argv = ["bash", "-c", f'ulimit -n {nofile} && exec "$0" "$@"', BURST_PROG, "127.0.0.1", str(m.port("primary")), str(n)]
    cfg = write_config({"providers": {"openai": {"base_url": m.base("primary")},
                                      "backup": {"dialect": "openai", "base_url": m.base("backup"), "api_key_env": "BACKUP_KEY"}},
                        "chain": ["backup/gpt-4o-mini"], "attempts": {"per_process": 100000, "retry_ratio": 0},
                        "breaker": {"failures": 0}}, "burst.json")   # (every call may fall back)
    return run(argv, env_for(cfg, log), timeout=120)


def test_a_burst_of_a_thousand_connects_all_fall_back():
    """A thousand calls whose connects are all under way at once (Node's
    Promise.all, an epoll program): each is announced to the relay before it
    connects. The relay had room for 256 announcements, and sent the rest
    straight to the primary (its 503, no line in the log); and its backlog
    of 128 reset some of those it had room for."""
    m = mock()
    m.set("primary", behaviour="503")
    log = new_log("burst.log")
    r = burst(m, 1000, 8192, log)
    eq(r.stdout.decode().strip(), "ok 1000 bad 0 hung 0", f"every call's own answer, from the backup ({r.stderr.decode()[-300:]})")
    s = [l for l in read_log(log) if l["event"] == "summary"]
    eq([(x["calls"], x["fallbacks"]) for x in s], [(1000, 1000)], "each call logged, and fell back")


def test_a_burst_near_the_open_file_limit_is_served_or_passed_through():
    """600 calls at once under the usual limit of 1,024 descriptors, which
    the program alone stays within. The relay spends up to four more on each
    call it serves: calls that would take the process past its limit go to
    their provider untouched (said once on stderr), and the relay waits for
    a descriptor rather than failing a call it took. Before, calls were
    reset or hung, and the relay's thread spun on accept()."""
    m = mock()
    r0 = run(["bash", "-c", 'ulimit -n 1024 && exec "$0" "$@"', BURST_PROG, "127.0.0.1", str(m.port("primary")), "600"],
             env_for(preload=False), timeout=120)
    eq(r0.stdout.decode().strip(), "ok 600 bad 0 hung 0", "the program alone (control)")
    log = new_log("burst-limit.log")
    r = burst(m, 600, 1024, log)
    eq(r.stdout.decode().strip(), "ok 600 bad 0 hung 0", f"every call answered ({r.stderr.decode()[-300:]})")
    check("near the open-file limit" in r.stderr.decode(), "said why some calls were not managed")
    s = [l for l in read_log(log) if l["event"] == "summary"]
    check(len(s) == 1 and 0 < s[0]["calls"] < 600, f"some calls managed, the others passed through ({s})")


# A provider on another host: a private network namespace (unshare -rn)
# joined by a veth pair to a second one, where a server listens on
# 10.9.0.2:8080; the library is preloaded into the client alone. argv:
# the client's preload, python, the client's open-file limit, the number
# of files it holds open first.
ELSEWHERE = r"""
set -e
T_PRELOAD=$1 PY=$2
ip link set lo up
unshare -n --fork --kill-child sleep 60 </dev/null >/dev/null 2>&1 & B=$!
while [ "$(readlink /proc/$B/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.05; done
ip link add va type veth peer name vb
ip link set vb netns $B
ip addr add 10.9.0.1/24 dev va; ip link set va up
nsenter -t $B -n sh -c 'ip link set lo up; ip addr add 10.9.0.2/24 dev vb; ip link set vb up'
nsenter -t $B -n "$PY" -c '
import http.server, json, socket
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        b = json.dumps({"id": "x", "object": "chat.completion", "model": "gpt-4o", "choices": [{"index": 0,
            "message": {"role": "assistant", "content": "Hello from elsewhere"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4}}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass
http.server.HTTPServer(("10.9.0.2", 8080), H).serve_forever()' & S=$!
for i in $(seq 100); do "$PY" -c 'import socket; socket.create_connection(("10.9.0.2", 8080), 0.2)' 2>/dev/null && break; sleep 0.05; done
for run in "${@:3}"; do
    ( ulimit -n ${run%/*}; LD_PRELOAD=$T_PRELOAD "$PY" -c '
import json, os, sys, urllib.request
keep = [open("/dev/null") for _ in range(int(sys.argv[1]))]
req = urllib.request.Request("http://10.9.0.2:8080/v1/chat/completions",
    data=json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}).encode(),
    headers={"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
try:
    print(json.loads(urllib.request.urlopen(req, timeout=10).read())["choices"][0]["message"]["content"])
except Exception as e:
    print("ERR", repr(e))' ${run#*/} ) || true
done
kill $S $B
"""


def test_a_call_near_the_open_file_limit_reaches_a_provider_elsewhere():
    """A program near its open-file limit calls a provider on another host:
    the call goes to the provider unmanaged, as the README says. The hook
    bound the socket to the relay's loopback address before the relay
    refused it, and Linux refuses a loopback source to another host: the
    program got EINVAL. Far from the limit, the same call is managed.
    Skipped where no network namespace of our own can be had."""
    probe = subprocess.run(["unshare", "-rn", "--fork", "sh", "-c", "ip link add va type veth peer name vb && which nsenter"],
                           capture_output=True)
    if probe.returncode != 0:
        raise Skipped(f"no network namespace with a veth pair here (unshare -rn, ip, nsenter: "
                      f"{probe.stderr.decode().strip()[-200:]})")
    cfg = write_config({"providers": {"openai": {"base_url": "http://10.9.0.2:8080/v1"}}, "chain": []}, "elsewhere.json")
    log = new_log("elsewhere.log")
    env = env_for(cfg, log)
    pre = env.pop("LD_PRELOAD")   # (the client's alone: not unshare's, ip's, the server's)
    # far from the limit; then 40 of 64 descriptors held, past 3/4 with the relay's
    r = run(["unshare", "-rn", "--fork", "bash", "-c", ELSEWHERE, "elsewhere", pre, PY, "256/5", "64/40"], env, timeout=60)
    eq(r.stdout.decode().splitlines(), ["Hello from elsewhere"] * 2, f"both calls answered ({r.stderr.decode()[-400:]})")
    eq([l["outcome"] for l in read_log(log) if l["event"] == "attempt"], ["ok"], "the first managed, the second not")
    check("near the open-file limit" in r.stderr.decode(), "said why the second was not managed")


def test_the_program_sees_its_provider_as_its_peer():
    """getpeername() on a socket sent to the relay names the provider the
    program connected to (Node's socket.remotePort, a program logging its
    peer), not the relay; before and after a call on it. A socket to
    another server is told the truth."""
    m = mock()
    script = """
import socket, urllib.parse
u = urllib.parse.urlsplit(URL)
s = socket.create_connection((u.hostname, u.port))
before = s.getpeername()
answer = raw_chat(s, "peer")
after = s.getpeername()
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
o = socket.create_connection(l.getsockname())
print(before[1], after[1], u.port, answer.split(b" ")[1].decode(), o.getpeername() == l.getsockname())
"""
    r = py(m, script, config(m))
    out = r.stdout.decode().split()
    check(len(out) == 5, f"ran ({r.stderr.decode()[-300:]})")
    eq(out[0], out[2], "the provider's port, before the call")
    eq(out[1], out[2], "and after it")
    eq(out[3], "200", "the call itself answered")
    eq(out[4], "True", "another server's socket is told the truth")


MAPPED = """
import socket
host, port = URL.split("/")[2].split(":")
s = socket.socket(socket.AF_INET6)
s.connect(("::ffff:" + host, int(port)))
peer = s.getpeername()
out = raw_chat(s, "mapped")
print(out.split(b"\\r\\n")[0].decode(), [l.decode() for l in out.split(b"\\r\\n") if l.lower().startswith(b"x-llmfallback-provider")],
      peer[:2] == ("::ffff:" + host, int(port)))
o = socket.socket(socket.AF_INET6)
o.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
try:
    o.connect(("::ffff:" + host, int(port)))
    print("v6only: connected")
except OSError as e:
    print("v6only:", e.errno)
"""


def test_a_dual_stack_socket_reaches_its_provider_by_its_ipv4_address():
    """An IPv6 socket reaches an IPv4 address as ::ffff:a.b.c.d: the JDK's
    sockets always do (every plain-HTTP Java client), and so does a C
    program's AF_INET6 socket given AI_V4MAPPED results. Such a connection
    never reached the relay: no fallback. It does now, through the relay's
    IPv4 side, and getpeername() names the address the program asked for.
    A socket with IPV6_V6ONLY reaches no such address, with or without the
    library."""
    m = mock()
    m.set("primary", behaviour="503")
    argv = [PY, "-c", PRELUDE + PEERS + MAPPED, m.base("primary") + "/chat/completions"]
    plain = run(argv, env_for(preload=False))
    eq(plain.stdout.decode().splitlines()[0], "HTTP/1.1 503 Service Unavailable [] True", f"without the library ({plain.stderr.decode()[-300:]})")
    log = new_log("mapped.log")
    r = run(argv, env_for(config(m), log))
    out = r.stdout.decode().splitlines()
    eq(out[:1], ["HTTP/1.1 200 OK ['x-llmfallback-provider: backup'] True"],
       f"the backup answered, and the peer is the program's ({r.stderr.decode()[-300:]})")
    check_relayed(r, m.port("primary"), "the dual-stack socket")
    eq([(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt"],
       [("openai", "http_error"), ("backup", "ok")], "logged as a fallback")
    eq(out[1:], plain.stdout.decode().splitlines()[1:], "an IPV6_V6ONLY socket is told what it was told")


def test_a_base_url_with_an_ipv6_literal_in_another_spelling():
    """A base URL naming its server as an IPv6 literal written otherwise than
    the standard form: an IPv4-mapped one ("[::ffff:127.0.0.1]"), or the
    same written out ("[0:0:0:0:0:ffff:7f00:1]"). The core takes it; the
    shim's gate, which matches a connect() by the address's standard text,
    found neither, never loaded the core, and the call passed through."""
    m = mock()
    port = m.port("primary")
    for spelling in ("::ffff:127.0.0.1", "0:0:0:0:0:ffff:7f00:1"):
        m.reset_all()
        m.set("primary", behaviour="503")
        url = f"http://[{spelling}]:{port}/v1"
        r = run([PY, "-c", PRELUDE + "print(urllib_chat('v6'))", url + "/chat/completions"],
                env_for(config(m, primary_base=url)))
        check(r.stdout.decode().startswith("Hello from backup"), f"{spelling}: the backup answered ({r.stderr.decode()[-300:]})")


JAVA_CALL = """
import java.net.*;
public class Call {
  public static void main(String[] a) throws Exception {
    HttpURLConnection c = (HttpURLConnection) new URL(a[0]).openConnection();
    c.setRequestMethod("POST"); c.setDoOutput(true);
    c.setRequestProperty("Content-Type", "application/json");
    c.setRequestProperty("Authorization", "Bearer " + System.getenv("OPENAI_API_KEY"));
    c.getOutputStream().write(a[1].getBytes());
    System.out.println(c.getResponseCode() + " " + c.getHeaderField("x-llmfallback-provider"));
  }
}
"""


def test_a_java_client_falls_back():
    """Java's HttpURLConnection, on its default dual-stack sockets (IPv4
    as ::ffff:a.b.c.d): it got the primary's 503. Skipped without java."""
    import shutil
    java = shutil.which("java")
    if not java:
        raise Skipped("no java on PATH")
    m = mock()
    m.set("primary", behaviour="503")
    src = os.path.join(tmpdir(), "Call.java")
    with open(src, "w") as f:
        f.write(JAVA_CALL)
    log = new_log("java.log")
    env = env_for(config(m), log)
    if SANITIZED:   # (LeakSanitizer's own tracer crashes in the JVM at its exit: ASan still runs)
        env["ASAN_OPTIONS"] = env["ASAN_OPTIONS"].replace("detect_leaks=1", "detect_leaks=0")
    r = run([java, src, m.base("primary") + "/chat/completions", chat_body()], env, timeout=120)
    eq(r.stdout.decode().strip(), "200 backup", f"the backup answered ({r.stderr.decode()[-300:]})")
    eq([(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt"],
       [("openai", "http_error"), ("backup", "ok")], "logged as a fallback")


JAVA_HTTPCLIENT = """
import java.net.URI;
import java.net.http.*;
public class Calls {
  public static void main(String[] a) throws Exception {
    HttpClient c = HttpClient.newHttpClient();   // HTTP_2 by default: every http:// request asks Upgrade: h2c
    for (String step : a[2].split(",")) {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(a[0] + (step.equals("get") ? "/models" : "/chat/completions")))
          .header("Authorization", "Bearer " + System.getenv("OPENAI_API_KEY")).header("Content-Type", "application/json");
      HttpResponse<String> r = c.send(step.equals("get") ? b.GET().build() : b.POST(HttpRequest.BodyPublishers.ofString(a[1])).build(),
                                      HttpResponse.BodyHandlers.ofString());
      System.out.println(step + " " + r.statusCode() + " " + r.headers().firstValue("x-llmfallback-provider").orElse("-"));
    }
  }
}
"""

H2C = """
import http.client, urllib.parse
u = urllib.parse.urlsplit(URL)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
asks = dict(HDRS, **{"Connection": "Upgrade, HTTP2-Settings", "Upgrade": "h2c",
                     "HTTP2-Settings": "AAEAAEAAAAIAAAAAAAMAAAAAAAQBAAAAAAUAAEAAAAYABgAA"})
for i, (method, path) in enumerate((("POST", u.path), ("GET", "/v1/models"), ("POST", u.path))):
    c.request(method, path, body=body(str(i)) if method == "POST" else None, headers=asks)
    r = c.getresponse()
    r.read()
    print(method, r.status, r.getheader("x-llmfallback-provider") or "-", id(c.sock))
"""


def test_a_request_asking_for_h2c_keeps_its_connection_for_later_calls():
    """Java's HttpClient asks for an h2c upgrade on every http:// request
    (Connection: Upgrade, HTTP2-Settings; Upgrade: h2c) and goes on in
    HTTP/1.1 on the same connection when the server does not switch. Taken
    for an upgrade, one request that was no call (a list of models) turned
    the connection into a tunnel, and every later call on it got the
    primary's 503. h2c is not an upgrade here: each request is served, its
    Upgrade not passed on (a hop-by-hop header), and calls still fall back.
    Written with http.client, and with Java's HttpClient where java is."""
    m = mock()
    m.set("primary", behaviour="503")   # (the mock answers a list of models 404, and records only calls)
    r = py(m, H2C, config(m))
    lines = [l.rsplit(" ", 1) for l in r.stdout.decode().splitlines()]
    eq([l[0] for l in lines], ["POST 200 backup", "GET 404 -", "POST 200 backup"],
       f"a call, a list of models, a call ({r.stderr.decode()[-300:]})")
    eq(len({l[1] for l in lines}), 1, "one connection")
    eq((len(m.requests("primary")), len(m.requests("backup"))), (2, 2), "both calls asked of both")
    import shutil
    java = shutil.which("java")
    if not java:
        raise Skipped("no java on PATH (http.client's part passed)")
    m.reset_all()
    m.set("primary", behaviour="503")
    src = os.path.join(tmpdir(), "Calls.java")
    with open(src, "w") as f:
        f.write(JAVA_HTTPCLIENT)
    env = env_for(config(m))
    if SANITIZED:   # (as in test_a_java_client_falls_back)
        env["ASAN_OPTIONS"] = env["ASAN_OPTIONS"].replace("detect_leaks=1", "detect_leaks=0")
    r = run([java, src, m.base("primary"), chat_body(), "get,post"], env, timeout=120)
    eq(r.stdout.decode().split("\n")[:2], ["get 404 -", "post 200 backup"],
       f"Java's HttpClient: the call after a list of models fell back ({r.stderr.decode()[-300:]})")


NUMERIC = """
import socket
host, port = URL.split("/")[2].split(":")
def ask(service, flags):
    try:
        return socket.getaddrinfo(host, service, type=socket.SOCK_STREAM, flags=flags)[0][4][0]
    except socket.gaierror as e:
        return e.errno == socket.EAI_NONAME
print(ask(port, 0), ask(port, socket.AI_NUMERICHOST), ask("http", socket.AI_NUMERICSERV), ask(port, socket.AI_NUMERICSERV))
"""


def test_a_numeric_lookup_of_a_provider_name_is_told_it_is_a_name():
    """A provider name that does not resolve is given a placeholder address,
    so that the chain answers; but getaddrinfo() with AI_NUMERICHOST asks
    whether the text is an address literal (a common idiom), and with
    AI_NUMERICSERV whether the service is a port number: a name is neither,
    and the program is told so (EAI_NONAME), as without the library. It was
    given the placeholder."""
    m = mock()
    cfg = config(m, primary_base=f"http://api.llf.invalid:{m.port('primary')}/v1")
    argv = [PY, "-c", PRELUDE + NUMERIC, f"http://api.llf.invalid:{m.port('primary')}/v1/chat/completions"]
    eq(run(argv, env_for(cfg, preload=False)).stdout.decode().split(), ["True"] * 4, "without the library: no such name")
    r = run(argv, env_for(cfg))
    eq(r.stdout.decode().split(), ["127.255.255.254", "True", "True", "127.255.255.254"],
       f"the placeholder for a lookup of the name, not for a numeric one ({r.stderr.decode()[-300:]})")


def test_refused_primary_is_answered_by_the_chain():
    m = mock()
    dead = free_ports(1)[0]
    script = CLIENTS["urllib"].replace("URL", "sys.argv[2]")
    r = py(m, script, config(m, primary_base=f"http://127.0.0.1:{dead}/v1"), f"http://127.0.0.1:{dead}/v1/chat/completions")
    eq(r.stdout.decode().split(" ")[:2], ["200", "backup"], f"nothing listens, the chain answers ({r.stderr.decode()[-200:]})")


def test_cross_dialect_through_the_relay():
    m = mock()
    m.set("primary", behaviour="500")
    r = py(m, CLIENTS["requests"], config(m, chain=("anthropic/claude-haiku-4-5",)))
    eq(r.stdout.decode().split(" ")[:2], ["200", "anthropic"], "answered by Anthropic, in OpenAI's shape")
    eq(m.requests("claude")[0]["credential"], KEYS["ANTHROPIC_API_KEY"], "Anthropic's own key")


# The program's own listening sockets (the relay's): their ports, from the
# socket inodes among its descriptors.
RELAY_PORTS = SOCKET_INODES + """
import socket
def relay_ports(files=("/proc/self/net/tcp", "/proc/self/net/tcp6")):
    inodes = socket_inodes()
    ports = []
    for f in files:
        for line in open(f).read().splitlines()[1:]:
            p = line.split()
            if p[3] == "0A" and p[9] in inodes:
                ports.append(int(p[1].split(":")[1], 16))
    return ports
"""


def test_relay_refuses_other_processes():
    m = mock()
    m.set("primary", behaviour="503")
    script = CLIENTS["urllib"] + RELAY_PORTS + """
print("relay", " ".join(map(str, relay_ports())), flush=True)
import time; time.sleep(4)
"""
    p = subprocess.Popen([PY, "-c", PRELUDE + script, m.base("primary") + "/chat/completions"],
                         env=env_for(config(m)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = p.stdout.readline()
        relay = p.stdout.readline().split()
        check(first.startswith("200 backup"), "the program was answered")
        check(len(relay) >= 2, f"the relay listens ({relay})")
        for port in relay[1:]:
            fam = socket.AF_INET if relay[1:].index(port) == 0 else socket.AF_INET6
            host = "127.0.0.1" if fam == socket.AF_INET else "::1"
            s = socket.socket(fam)
            s.settimeout(5)
            s.connect((host, int(port)))
            s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 2\r\n\r\n{}"
                      % m.port("primary"))
            try:
                data = s.recv(1024)
            except OSError:
                data = b""
            eq(data, b"", f"another process gets nothing from the relay on {host}")
            s.close()
    finally:
        p.kill()
        p.wait()


def test_relay_serves_the_announced_source_only():
    """Another local process that connects to the relay first, from another
    loopback address with the program's source port (readable in
    /proc/net/tcp), is not served in the program's place."""
    m = mock()
    m.set("primary", behaviour="503")
    script = CLIENTS["urllib"] + RELAY_PORTS + """
import socket, sys
relay = relay_ports(("/proc/self/net/tcp",))
s = socket.socket()
s.bind(("127.0.0.1", 0))
print("ports", relay[0], s.getsockname()[1], flush=True)
sys.stdin.readline()                       # the other process has connected
host, port = URL.split("/")[2].split(":")
s.connect((host, int(port)))
data = raw_chat(s, "own")
print("own", data.split(b"\\r\\n")[0].decode(), b"[rid:own]" in data, flush=True)
"""
    p = subprocess.Popen([PY, "-c", PRELUDE + script, m.base("primary") + "/chat/completions"],
                         env=env_for(config(m)), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        check(p.stdout.readline().startswith("200 backup"), "the first call was answered")
        line = p.stdout.readline().split()
        if len(line) != 3:
            p.kill()
            raise Failed(f"the program printed its ports ({line}; {p.stderr.read()[-600:]})")
        _, relay, src = line
        other = socket.socket()
        other.settimeout(5)
        other.bind(("127.0.0.2", int(src)))
        other.connect(("127.0.0.1", int(relay)))
        other.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 2\r\n\r\n{}"
                      % m.port("primary"))
        time.sleep(0.2)
        p.stdin.write("go\n")
        p.stdin.flush()
        try:
            data = other.recv(1024)
        except OSError:
            data = b""
        other.close()
        eq(data, b"", "the other process got nothing")
        eq(p.stdout.readline().split(), ["own", "HTTP/1.1", "200", "OK", "True"], "the program was served")
    finally:
        p.kill()
        p.wait()


def test_forked_child_keeps_its_own_descriptors():
    """A child forked after the relay started, which closes every descriptor
    and opens its own files (a daemon's start), keeps them through its first
    call: the parent's listening sockets are not closed later by number."""
    m = mock()
    m.set("primary", behaviour="503")
    script = """
print("parent", urllib_chat("p1"), flush=True)
d = os.environ["LLF_TEST_DIR"]
pid = os.fork()
if pid == 0:
    os.closerange(3, 1024)
    files = [open(os.path.join(d, "child-%d" % i), "w") for i in range(8)]
    print("child", urllib_chat("c1"), flush=True)
    lost = []
    for f in files:
        try:
            f.write("x")
            f.flush()
        except OSError as e:
            lost.append(f.fileno())
    print("lost", lost, flush=True)
    os._exit(0)
os.waitpid(pid, 0)
"""
    env = env_for(config(m))
    env["LLF_TEST_DIR"] = os.path.dirname(new_log("fork-fds"))
    r = run([PY, "-c", PRELUDE + script, m.base("primary") + "/chat/completions"], env)
    lines = r.stdout.decode().splitlines()
    eq(len(lines), 3, f"parent, child, files ({r.stderr.decode()[-300:]})")
    check("[rid:c1]" in lines[1], "the child's call was answered")
    eq(lines[2], "lost []", "the child's files stayed open")


def test_fork_child_gets_its_own_relay():
    m = mock()
    m.set("primary", behaviour="503")
    script = """
print("parent", urllib_chat("p1"), flush=True)
pid = os.fork()
if pid == 0:
    print("child", urllib_chat("c1"), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
print("parent", urllib_chat("p2"), flush=True)
"""
    r = py(m, script, config(m))
    lines = r.stdout.decode().splitlines()
    eq(len(lines), 3, f"three calls ({r.stderr.decode()[-300:]})")
    check(all("Hello from backup" in l for l in lines), "each fell back, in parent and child")
    check("[rid:c1]" in lines[1], "the child's own answer")


def test_children_inherit_no_descriptor_of_the_library():
    """A program's children (os.system, subprocess with close_fds=False,
    posix_spawn) hold the sockets the program left inheritable, and none of
    the relay's: not its libcurl connections to the providers (kept alive
    after an answer, with or without a fallback), nor libcurl's internal
    wake-up pair, nor the relay's end of the program's connection. The
    program's own socket, inheritable and redirected to the relay at
    connect(), keeps its flag."""
    m = mock()
    # urllib's call and the kept connection's, answered; then both fall back
    m.set("primary", behaviour=["ok", "ok", "503", "503"])
    script = PEERS + CHILDREN + """
import http.client, socket, urllib.parse, urllib.request
u = urllib.parse.urlsplit(URL)
s = socket.socket()
s.set_inheritable(True)
s.connect((u.hostname, u.port))
c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
c.sock = s
def kept(tag):
    c.request("POST", u.path, body=body(tag), headers=HDRS)
    r = c.getresponse()
    return r.status, r.getheader("x-llmfallback-provider"), r.read()
def both(tag):
    r = urllib.request.urlopen(urllib.request.Request(URL, data=body(tag).encode(), headers=HDRS), timeout=10)
    r.read()
    print("call", tag, r.status, r.headers.get("x-llmfallback-provider"), *kept(tag)[:2], flush=True)
both("answered")
children("answered", [s])
both("fallback")
children("fallback", [s])
"""
    r = py(m, script, config(m))
    out = r.stdout.decode().splitlines()
    eq([l.split()[1:] for l in out if l.startswith("call ")],
       [["answered", "200", "None", "200", "None"], ["fallback", "200", "backup", "200", "backup"]],
       f"the calls, answered then fallen back ({r.stderr.decode()[-300:]})")
    check_relayed(r, m.port("primary"))
    check_children(r, ("answered", "fallback"))


PHP = r'''<?php
$c = curl_init($argv[1]);
curl_setopt($c, CURLOPT_POST, true);
curl_setopt($c, CURLOPT_POSTFIELDS, json_encode(["model" => "gpt-4o", "messages" => [["role" => "user", "content" => "hi [rid:php]"]]]));
curl_setopt($c, CURLOPT_HTTPHEADER, ["Content-Type: application/json", "Authorization: Bearer " . getenv("OPENAI_API_KEY")]);
curl_setopt($c, CURLOPT_RETURNTRANSFER, true);
$out = curl_exec($c);
echo curl_getinfo($c, CURLINFO_RESPONSE_CODE), " ", json_decode($out, true)["choices"][0]["message"]["content"], "\n";
'''


def test_php_curl_via_the_libcurl_path():
    if SANITIZED:
        raise Skipped("ASan refuses PHP's RTLD_DEEPBIND extensions before our hook sees them (google/sanitizers#611)")
    m = mock()
    m.set("primary", behaviour="503")
    script = write_config(PHP, "t.php")
    log = new_log("php.log")
    r = run(["php", script, m.base("primary") + "/chat/completions"], env_for(config(m), log))
    eq(r.stdout.decode().strip(), "200 Hello from backup (gpt-4o-mini) [rid:php]", f"PHP answered ({r.stderr.decode()[-200:]})")
    paths = {l["path"] for l in read_log(log) if l["event"] == "attempt"}
    eq(paths, {"curl"}, "through the libcurl hooks (RTLD_DEEPBIND cleared for curl.so)")


def test_node_openai_sdk_over_plain_http():
    m = mock()
    m.set("primary", behaviour="503")
    here = os.path.dirname(os.path.abspath(__file__))
    chat = os.path.join(here, "..", "node", "chat.mjs")
    check(os.path.isdir(os.path.join(here, "..", "node", "node_modules", "openai")),
          "the openai package is installed (scripts/install-deps)")
    r = run(["node", chat, m.base("primary")], env_for(config(m)))
    eq(r.stdout.decode().strip(), "200 backup Hello from backup (gpt-4o-mini) [rid:node]",
       f"the SDK got the fallback's answer ({r.stderr.decode()[-300:]})")


def test_stream_with_error_event_falls_back_through_the_relay():
    m = mock()
    m.set("primary", behaviour="stream_error")
    script = """
import requests
r = requests.post(URL, data=json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]}),
                  headers=HDRS, stream=True, timeout=10)
text = "".join(l.decode() + "\\\\n" for l in r.iter_lines() if l)
print(r.status_code, r.headers.get("x-llmfallback-provider"), "DONE" in text, "error" in text)
"""
    r = py(m, script, config(m))
    eq(r.stdout.decode().split(), ["200", "backup", "True", "False"], f"the backup's stream ({r.stderr.decode()[-300:]})")


STREAM = """
import time, requests
t0 = time.monotonic()
r = requests.post(URL, data=json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]}),
                  headers=HDRS, stream=True, timeout=10)
first = None
n = 0
try:
    for line in r.iter_lines():
        if line:
            n += 1
            first = first or time.monotonic() - t0
    print("complete", n, round(first, 2), round(time.monotonic() - t0, 2), r.headers.get("x-llmfallback-provider"))
except Exception as e:
    print("broken", n, type(e).__name__)
"""


def test_streams_arrive_as_they_come_through_the_relay():
    m = mock()
    m.set("primary", behaviour="stream_drip:300")   # 6 events, 0.3 s apart
    r = py(m, STREAM, config(m))
    out = r.stdout.decode().split()
    eq(out[:2], ["complete", "6"], f"the whole stream ({r.stderr.decode()[-300:]})")
    # (held whole, every event would come at the end; live, the first comes
    # well before it: the role chunk is held with the first text, 0.3 s in)
    check(float(out[3]) - float(out[2]) > 1.0, f"first event at {out[2]} s, end at {out[3]} s: live")
    # after a fallback too, with the fallback's header
    m.reset_all()
    m.set("primary", behaviour="stream_error")
    m.set("backup", behaviour="stream_drip:300")
    out = py(m, STREAM, config(m)).stdout.decode().split()
    check(out[0] == "complete" and float(out[3]) - float(out[2]) > 1.0 and out[4] == "backup", f"live from the backup ({out})")


def test_a_stream_broken_after_its_first_token_stays_broken():
    m = mock()
    m.set("primary", behaviour="stream_break")
    r = py(m, PEERS + STREAM, config(m))
    check_relayed(r, m.port("primary"))
    out = r.stdout.decode().split()
    eq(out[0], "broken", f"the program sees the break, never a complete answer ({out})")
    eq(len(m.requests("backup")), 0, "no fallback once tokens were delivered")


def test_a_translated_stream_that_errs_after_text_breaks_after_the_text():
    """A member of another dialect sends text and then an error event in
    one read: the relay delivers the text translated before it, then breaks
    the connection (never a complete answer)."""
    m = mock()
    m.set("primary", behaviour="503")
    m.set("claude", behaviour="stream_error_after_text")
    script = STREAM.replace("n += 1", "n += line.startswith(b'data: {') and b'Hello' in line")
    out = py(m, script, config(m, chain=("anthropic/claude-sonnet-4-5",))).stdout.decode().split()
    eq(out[:2], ["broken", "1"], f"the text, then the break ({out})")


def test_node_openai_sdk_stream():
    m = mock()
    m.set("primary", behaviour="stream_error")
    here = os.path.dirname(os.path.abspath(__file__))
    r = run(["node", os.path.join(here, "..", "node", "chat.mjs"), m.base("primary"), "stream"], env_for(config(m)))
    eq(r.stdout.decode().strip(), "stream Hello from backup (gpt-4o-mini) [rid:node]",
       f"the SDK's stream came from the backup ({r.stderr.decode()[-300:]})")


def test_stream_translated_through_the_relay():
    m = mock()
    m.set("primary", behaviour="503")
    script = """
import requests
r = requests.post(URL, data=json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]}),
                  headers=HDRS, stream=True, timeout=10)
chunks = [json.loads(l[6:]) for l in r.iter_lines(decode_unicode=True) if l.startswith("data: {")]
print(r.headers.get("x-llmfallback-provider"), "|", "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks),
      "|", chunks[-1]["choices"][0]["finish_reason"])
"""
    r = py(m, script, config(m, chain=("anthropic/claude-haiku-4-5",)))
    eq(r.stdout.decode().strip(), "anthropic | Hello from claude (claude-haiku-4-5) | stop",
       f"Anthropic's events as OpenAI chunks ({r.stderr.decode()[-300:]})")
    # a tool call streamed by Anthropic, assembled as the OpenAI SDK does
    script = """
import requests
tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
          "properties": {"city": {"type": "string"}}}}}]
r = requests.post(URL, data=json.dumps({"model": "gpt-4o", "stream": True, "tools": tools,
                  "messages": [{"role": "user", "content": "weather? [call:get_weather]"}]}),
                  headers=HDRS, stream=True, timeout=10)
chunks = [json.loads(l[6:]) for l in r.iter_lines(decode_unicode=True) if l.startswith("data: {")]
calls = [t for c in chunks for t in c["choices"][0]["delta"].get("tool_calls") or []]
print(calls[0]["function"]["name"], json.loads("".join(t["function"].get("arguments") or "" for t in calls)),
      chunks[-1]["choices"][0]["finish_reason"])
"""
    r = py(m, script, config(m, chain=("anthropic/claude-haiku-4-5",)))
    eq(r.stdout.decode().strip(), "get_weather {'city': 'Paris'} tool_calls",
       f"Anthropic's streamed tool_use as OpenAI tool-call deltas ({r.stderr.decode()[-300:]})")


def test_sixteen_threads_random_failures_through_the_relay():
    """16 Python threads x 10 calls on one Session, every provider failing
    30 % of the time at random: each call ends in its own answer or in the
    original 503, nothing hangs, the relay survives."""
    m = mock()
    for n in ("primary", "backup"):
        m.set(n, behaviour="random:30")
    script = """
import requests
s = requests.Session()
res = {"own": 0, "original": 0, "other": 0}
lock = threading.Lock()
def work(t):
    for i in range(10):
        tag = "%d-%d" % (t, i)
        r = s.post(URL, data=body(tag), headers=HDRS, timeout=20)
        if r.status_code == 200 and "[rid:%s]" % tag in r.json()["choices"][0]["message"]["content"]:
            k = "own"
        elif r.status_code == 503 and r.json()["error"]["type"] == "server_error":
            k = "original"
        else:
            k = "other"
        with lock:
            res[k] += 1
ts = [threading.Thread(target=work, args=(t,)) for t in range(16)]
[t.start() for t in ts]
[t.join() for t in ts]
print(res["own"], res["original"], res["other"])
"""
    r = py(m, script, config(m), timeout=180)
    own, original, other = map(int, r.stdout.decode().split())
    eq((own + original, other), (160, 0), f"every call: its own answer or the original failure ({r.stderr.decode()[-300:]})")
    check(own > original, "most were answered")
    # (the primary alone fails 48 of 160 calls on average: none failing is 0.7^160)
    check(len(m.requests("backup")) > 0, f"the backup was asked ({len(m.requests('backup'))} times)")


def test_soft_failures_through_the_relay():
    m = mock()
    for behaviour in ("refusal_text", "malformed", "empty_answer", "not_http"):
        m.reset_all()
        m.set("primary", behaviour=behaviour)
        r = py(m, CLIENTS["requests"], config(m))
        eq(r.stdout.decode().split(" ")[:2], ["200", "backup"], f"{behaviour}: the backup answered ({r.stderr.decode()[-200:]})")


def test_a_client_that_gives_up_outlives_the_late_answer():
    """A program that restores the default SIGPIPE and leaves, before its
    answer or in the middle of a live stream, outlives the relay's writes to
    its closed connection."""
    m = mock()
    m.set("primary", behaviour="slow:1500")
    r = py(m, PEERS + GIVES_UP, config(m))
    check_relayed(r, m.port("primary"))
    eq((r.returncode, r.stdout.decode().split()), (0, ["gave", "up", "alive"]),
       f"no SIGPIPE when the program left before its answer ({r.stderr.decode()[-200:]})")
    m.set("primary", behaviour="stream_drip:200")
    log = new_log("walks.log")
    r = py(m, WALKS_AWAY, config(m), log=log)
    eq((r.returncode, r.stdout.decode().split()), (0, ["read", "some", "alive"]),
       f"no SIGPIPE when the program left a live stream ({r.stderr.decode()[-200:]})")
    steps = [(l["provider"], l["status"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"]
    eq(steps, [("openai", 200, "client_gone")], "the primary's live stream, stopped when the program left; no member asked")
    # (an answer it stopped taking was an answer: no failure; a member's, a
    # fallback, not a failure)
    eq([(s["calls"], s["fallbacks"], s["failures"]) for s in read_log(log) if s["event"] == "summary"], [(1, 0, 0)],
       "the summary: a call, no failure")
    m.set("primary", behaviour="503")
    m.set("backup", behaviour="stream_drip:200")
    log = new_log("walks-member.log")
    r = py(m, WALKS_AWAY, config(m), log=log)
    eq((r.returncode, r.stdout.decode().split()), (0, ["read", "some", "alive"]), "it left the member's stream")
    steps = [(l["provider"], l["status"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"]
    eq([s[::2] for s in steps], [("openai", "overloaded"), ("backup", "client_gone")], f"the member's stream ({steps})")
    eq([(s["calls"], s["fallbacks"], s["failures"]) for s in read_log(log) if s["event"] == "summary"], [(1, 1, 0)],
       "the summary: a fallback, no failure")


def broken_anthropic(c, req):
    """An Anthropic stream that begins well, then sends what is no event."""
    events = [("message_start", {"type": "message_start", "message": {
                  "id": "m1", "type": "message", "role": "assistant", "model": "claude-x", "content": [],
                  "stop_reason": None, "usage": {"input_tokens": 1, "output_tokens": 0}}}),
              ("content_block_start", {"type": "content_block_start", "index": 0,
                                       "content_block": {"type": "text", "text": ""}}),
              ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                       "delta": {"type": "text_delta", "text": "Hello"}})]
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
    for d in [b"event: %s\ndata: %s\n\n" % (e.encode(), json.dumps(p).encode()) for e, p in events] + \
             [b"data: <html>upstream reset</html>\n\n"]:
        c.sendall(b"%x\r\n%s\r\n" % (len(d), d))
        time.sleep(0.05)
    c.sendall(b"0\r\n\r\n")
    return True


def test_a_translated_stream_that_breaks_is_a_failure():
    """A member's stream, translated for the program, that breaks after it
    went live: the program's transfer breaks, and the call is a failure, not
    a fallback. (The relay's translation ended as a failed write of its own,
    "local", which reads as the program refusing the rest.)"""
    m = mock()
    m.set("primary", behaviour="503")
    raw = RawServer(broken_anthropic)
    try:
        cfg = write_config({"providers": {
            "openai": {"base_url": m.base("primary")},
            "ant": {"dialect": "anthropic", "base_url": f"http://127.0.0.1:{raw.port}/v1", "api_key_env": "ANTHROPIC_API_KEY"}},
            "chain": ["ant/claude-x"], "timeouts_ms": {"connect": 2000, "total": 5000}})
        log = new_log("broken-translated.log")
        r = py(m, STREAM_OR_NOT, cfg, "stream", log=log)
        steps = [(l["provider"], l["status"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"]
        eq([s[:2] for s in steps], [("openai", 503), ("ant", 200)], f"the member's stream went live ({r.stderr.decode()[-300:]})")
        check(steps[-1][2] != "local", f"its break is the member's, not the program's refusal ({steps})")
        eq([(s["calls"], s["fallbacks"], s["failures"]) for s in read_log(log) if s["event"] == "summary"], [(1, 0, 1)],
           "the summary: a failure")
    finally:
        raw.stop()


def held_until(flag):
    """A stream whose role chunk comes at once, then an SSE comment every
    5 ms (the relay looks for its program as they come, ten times a second)
    until the file flag exists, then its text at once; anything but a call
    gets a small answer."""
    def answer(c, req):
        if req["method"] != "POST":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
            return True

        def chunk(d):
            return b"%x\r\n%s\r\n" % (len(d), d)

        def event(delta, finish=None):
            return chunk(b"data: %s\n\n" % json.dumps({"id": "c1", "object": "chat.completion.chunk", "model": "gpt-4o",
                                                      "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}).encode())
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
                  event({"role": "assistant", "content": ""}))
        end = time.time() + 3
        while not os.path.exists(flag) and time.time() < end:
            c.sendall(chunk(b": ping\n\n"))
            time.sleep(0.005)
        c.sendall(event({"content": "Hello"}) + event({}, "stop") + chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
        return True
    return answer


def test_a_program_that_leaves_as_its_stream_goes_live_is_gone():
    """The program left while its stream was held to its first event, and
    the relay found out by the write that would have made it live, between
    two of its looks: the attempt is logged client_gone, as when a later
    live write finds it, not as a failure of ours (local), and no member is
    asked. (The program leaves an answer unread, so that its close is a
    reset and that first write fails; the first event comes as soon as it
    has left.)"""
    m = mock()
    script = """
import socket, time
host, port = URL.split("/")[2].split(":")
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(("GET /v1/models HTTP/1.1\\r\\nHost: %s:%s\\r\\n\\r\\n" % (host, port)).encode())
time.sleep(0.3)   # (its answer, left unread)
b = json.loads(body("w")); b["stream"] = True; b = json.dumps(b).encode()
s.sendall(("POST /v1/chat/completions HTTP/1.1\\r\\nHost: %s:%s\\r\\nContent-Type: application/json\\r\\n"
           "Authorization: %s\\r\\nContent-Length: %d\\r\\n\\r\\n" % (host, port, HDRS["Authorization"], len(b))).encode() + b)
time.sleep(0.3)   # (its role chunk is in, held)
s.close()
open(sys.argv[2], "w").close()
time.sleep(1)
print("left")
"""
    for i in range(3):
        flag = new_log(f"gone-live-{i}.flag")
        raw = RawServer(held_until(flag))
        try:
            log = new_log("gone-live.log")
            base = f"http://127.0.0.1:{raw.port}/v1"
            r = run([PY, "-c", PRELUDE + PEERS + script, base + "/chat/completions", flag],
                    env_for(config(m, primary_base=base), log))
            check_relayed(r, raw.port)
            eq(r.stdout.decode().split(), ["left"], f"the program left ({r.stderr.decode()[-200:]})")
            steps = [(l["provider"], l["outcome"], l["reason"]) for l in read_log(log) if l.get("event") == "attempt"]
            check(bool(steps) and steps[0][::2] == ("openai", "client_gone"), f"{i}: the primary's attempt: client_gone ({steps})")
            eq(len(m.requests("backup")), 0, f"{i}: no member asked")
        finally:
            raw.stop()


def test_no_member_is_asked_for_a_program_that_left():
    """The program gave up (its timeout) and closed its connection before
    the primary failed: no member is asked for an answer nobody will read
    (and pay for), and the log says why."""
    m = mock()
    m.set("primary", behaviour="slow:1000:503")
    log = new_log("gone.log")
    r = py(m, GIVES_UP, config(m), log=log)
    eq(r.stdout.decode().split(), ["gave", "up", "alive"], f"the program gave up ({r.stderr.decode()[-200:]})")
    eq(len(m.requests("primary")), 1, "the primary was asked")
    eq(len(m.requests("backup")), 0, "the backup was not")
    skips = [(l["provider"], l["reason"]) for l in read_log(log) if l.get("outcome") == "skipped"]
    eq(skips, [("backup", "client_gone")], "logged as skipped: client_gone")


def test_an_attempt_stops_when_its_program_leaves():
    """The program gave up while the primary was still working on it: the
    relay stops that attempt there (nobody will read the generation), the
    primary's breaker does not count it, and no member is asked."""
    m = mock()
    m.set("primary", behaviour="slow:4000:503")
    log = new_log("gone-mid.log")
    r = py(m, GIVES_UP, config(m), log=log)
    check_left_mid_attempt(r, log, len(m.requests("backup")))


def test_first_byte_and_first_token_limits_through_the_relay():
    """timeouts_ms.first_byte and first_token hold on the socket path as on
    libcurl's: a primary that sends nothing, or a stream whose first event is
    late (or its head: no event came either), falls back before the total
    limit."""
    m = mock()
    cases = [("slow:3000", {"connect": 2000, "first_byte": 600, "total": 8000}, False, "first_byte_timeout"),
             ("stream_slow:3000", {"connect": 2000, "first_token": 600, "total": 8000}, True, "first_token_timeout"),
             ("slow:5000", {"connect": 2000, "first_token": 600, "total": 3000}, True, "first_token_timeout")]
    for behaviour, limits, stream, reason in cases:
        m.reset_all()
        m.set("primary", behaviour=behaviour)
        cfg = json.load(open(config(m)))
        cfg["timeouts_ms"] = limits
        log = new_log("limits.log")
        r = py(m, STREAM_OR_NOT, write_config(cfg, "limits.json"), "stream" if stream else "whole", log=log)
        eq(r.stdout.decode().split(" ")[:2], ["200", "backup"], f"{behaviour}: the backup answered ({r.stderr.decode()[-200:]})")
        steps = [(l["provider"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"]
        eq(steps[0], ("openai", reason), f"{behaviour}: the primary's attempt, cut by its limit")


def test_relay_ignores_proxy_variables():
    """The program connected directly: so do the relay's attempts, whatever
    http_proxy says (the key must not go to a proxy the program never used)."""
    m = mock()
    m.set("primary", behaviour="503")
    proxy = RawServer()
    try:
        r = run([PY, "-c", PRELUDE + DIRECT, m.base("primary") + "/chat/completions"],
                env_for(config(m), extra=proxy_env(proxy.port)))
        eq(r.stdout.decode().split(" ")[:2], ["200", "backup"], f"the backup answered ({r.stderr.decode()[-200:]})")
        eq(len(m.requests("primary")), 1, "the primary was asked directly")
        eq(proxy.connections, 0, "nothing reached the proxy")
    finally:
        proxy.stop()



# Sends argv[3] on a connection to 127.0.0.1:argv[2] and prints what comes
# back until the relay closes.
RAW = """
import socket
s = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=5)
""" + SEND_READ_ALL


def raw_call(m, port, request, cfg):
    r = run([PY, "-c", PRELUDE + PEERS + RAW, m.base("primary"), str(port), request], env_for(cfg))
    check_relayed(r, port)
    return r.stdout


def test_requests_go_where_the_program_connected():
    """Host names the URL, not the destination: a request goes to the address
    the program connected to, with the program's key, whatever its Host says
    (another authority, no port, none at all)."""
    m = mock()
    other = RawServer()
    p = m.port("primary")
    key = f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}\r\n"
    call = chat_body()
    try:
        for what, req in (
                ("Host naming another server",
                 f"GET /echo HTTP/1.1\r\nHost: localhost:{other.port}\r\n{key}Connection: close\r\n\r\n"),
                ("Host without a port", f"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n{key}Connection: close\r\n\r\n"),
                ("HTTP/1.0 without Host", f"GET /echo HTTP/1.0\r\n{key}\r\n")):
            out = raw_call(m, p, req, config(m))
            check(out.startswith(b"HTTP/1.1 404 ") and b"Invalid URL (GET /echo)" in out,
                  f"{what}: the primary answered ({out[:200]!r})")
        out = raw_call(m, p, f"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost:{other.port}\r\n{key}"
                             f"Content-Type: application/json\r\nContent-Length: {len(call)}\r\n"
                             f"Connection: close\r\n\r\n{call}", config(m))
        check(out.startswith(b"HTTP/1.1 200 ") and b"Hello from primary" in out, f"a chat call too ({out[:200]!r})")
        eq(m.requests("primary")[0]["credential"], KEYS["OPENAI_API_KEY"], "with the program's key")
        eq(other.connections, 0, "nothing reached the server Host named")
    finally:
        other.stop()


def test_what_the_relay_cannot_read_as_http_is_carried_as_it_came():
    """A request head longer than the relay reads (64 KiB), bytes that are
    no HTTP/1.1 request, or a request whose body has a transfer coding other
    than chunked alone, on a provider's port are no call: the connection is
    carried to where the program connected, byte for byte (the relay reset
    it before, and sent such a body de-chunked, as if not coded). (Over
    virtual TLS: test_tls_path.)"""
    m = mock()
    srv = RawServer(lambda c, req: echo(c, req) and False)   # (one answer, then the close)
    try:
        cfg = config(m, raw=srv.port)
        big = "GET /big HTTP/1.1\r\nHost: x\r\nX-Big: " + "a" * 70000 + "\r\nConnection: close\r\n\r\n"
        odd = "HELLO relay\r\nNot: http\r\n\r\n"
        # (a transfer coding under chunked: de-chunked, the gzip bytes went
        # out under a Content-Length, as if plain)
        coded = ("POST /v1/files HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n"
                 "4\r\nGZIP\r\n0\r\n\r\n")
        for what, req in (("a 70 KB head", big), ("no HTTP/1.1 request line", odd),
                          ("a body gzip'ed under chunked", coded)):
            plain = run([PY, "-c", PRELUDE + RAW, m.base("primary"), str(srv.port), req], env_for(preload=False)).stdout
            check(plain.startswith(b"HTTP/1.1 200 "), f"{what}: the server answers it ({plain[:100]!r})")
            eq(raw_call(m, srv.port, req, cfg), plain, f"{what}: through the library, the same bytes")
        eq([q["head"] for q in srv.requests[1::2]], [q["head"] for q in srv.requests[0::2]],
           "the server saw the same request both times")
    finally:
        srv.stop()


def test_an_answer_with_two_content_lengths_reaches_the_program_framed_once():
    """A server's answer to a request that is no call, with two Content-Length
    lines that differ (5, then 3, and 5 bytes): libcurl reads 3, and the
    relay passed both lines on; http.client, taking the first, waited for
    two bytes that never came, and its next request on the connection
    failed. Now the body goes out in the relay's own framing, with neither
    line, and each request on the connection gets an answer."""
    def two_lengths(c, req):
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 3\r\n\r\nabcde")
        return False   # (the close: what follows the 3 bytes is no answer to read)
    m = mock()
    srv = RawServer(two_lengths)
    prog = r"""
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[2]), timeout=5)
for p in ("/a", "/b"):
    try:
        c.request("GET", p)
        r = c.getresponse()
        print(p, r.status, r.getheader("content-length"), r.read().decode())
    except Exception as e:
        print(p, type(e).__name__)
"""
    try:
        r = py(m, prog, config(m, raw=srv.port), str(srv.port), timeout=30)
    finally:
        srv.stop()
    eq(r.stdout.decode().splitlines(), ["/a 200 None abc", "/b 200 None abc"],
       f"each request answered, framed once ({r.stderr.decode()[-300:]})")


def test_an_answers_spaced_or_folded_header_lines_are_passed_on_as_a_proxy_must():
    """A server's header with white space before its colon ("Content-Length
    : 5", which libcurl does not take for framing) went on beside the
    relay's own framing, so a lenient client saw a length and chunks; and a
    line folded onto a header the relay leaves out (obs-fold) went on as a
    continuation of the header before. RFC 9112 §5.1 and §5.2: the white
    space is taken out (the line is then the framing header it names, and
    left out), and a fold joins its own header with a space."""
    def spaced(c, req):
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length : 5\r\nX-Fold: a\r\n  b\r\nConnection: x\r\n c\r\n"
                  b"X-Spaced\t: 1\r\nX-After: 2\r\n\r\nabc")
        return False
    m = mock()
    srv = RawServer(spaced)
    try:
        out = raw_call(m, srv.port, "GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                       config(m, raw=srv.port))
    finally:
        srv.stop()
    head, _, body = out.partition(b"\r\n\r\n")
    eq(head.split(b"\r\n"), [b"HTTP/1.1 200 OK", b"X-Fold: a b", b"X-Spaced: 1", b"X-After: 2",
                             b"Transfer-Encoding: chunked", b"Connection: close"], "the head as a proxy passes it on")
    eq(body, b"3\r\nabc\r\n0\r\n\r\n", "the body, in the relay's framing alone")


def test_a_101_to_a_request_that_asked_no_upgrade_reaches_the_program_at_once():
    """A server that answers 101 to a request with no Upgrade (RFC 9110
    §15.2.2 forbids it) speaks something else from there on, which libcurl
    cannot read: it waited for another head until the server closed, and
    the program's connection was reset. A server that waits for its client
    to go first (this one) kept the program waiting past its own time limit.
    The program now gets the 101 at once, and the close after it."""
    def switches(c, req):
        c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\nfoo-hello")
        c.settimeout(10)
        try:
            while c.recv(4096):
                pass
        except OSError:
            pass
        return False
    m = mock()
    srv = RawServer(switches)
    try:
        out = raw_call(m, srv.port, "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n", config(m, raw=srv.port))
    finally:
        srv.stop()
    eq(out, b"HTTP/1.1 101 Switching Protocols\r\nConnection: close\r\n\r\n", "the 101, then the close")


def test_a_head_with_bare_lf_header_lines_is_carried_as_it_came():
    """A request line ending in CRLF with header lines, or only the empty
    line, ending in a bare LF: no CRLF CRLF ends that head, and the relay
    waited for one up to 64 KiB. It is carried as it came, at once, and the
    server reads it as it reads such lines (Python's http.server: 200)."""
    import http.server
    import threading

    class Models(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *a):
            pass

    m = mock()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Models)
    port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        cfg = config(m, raw=port)
        for what, req in (("bare LF header lines", "GET /v1/models HTTP/1.1\r\nHost: x\nX-A: 1\nConnection: close\n\n"),
                          ("a bare LF empty line", "GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\n")):
            t0 = time.monotonic()
            out = raw_call(m, port, req, cfg)
            check(time.monotonic() - t0 < 4, f"{what}: answered at once ({time.monotonic() - t0:.1f} s)")
            check(out.startswith(b"HTTP/1.1 200 ") and out.endswith(b"\r\n\r\n{}"), f"{what}: the server's answer ({out[:200]!r})")
    finally:
        srv.shutdown()
        srv.server_close()


ONE_AT_A_TIME = """
import urllib.request
base = "http://%s:" + sys.argv[2] + "/v1/"
def get(host):
    return urllib.request.urlopen(base % host + "models", timeout=4).read().decode()
def chat(host):
    r = urllib.request.Request(base % host + "chat/completions", data=body().encode(), headers=HDRS)
    return json.loads(urllib.request.urlopen(r, timeout=4).read())["choices"][0]["message"]["content"]
out = []
for what, host in (("get", "127.0.0.1"), ("get", "localhost"), ("chat", "127.0.0.1"), ("chat", "localhost"),
                   ("get", "127.0.0.1")):
    try:
        out.append((get if what == "get" else chat)(host))
    except Exception as e:
        out.append(repr(e))
both = []
ts = [threading.Thread(target=lambda: both.append(get("127.0.0.1"))) for _ in range(2)]
[t.start() for t in ts]
[t.join() for t in ts]
print(json.dumps(out + both))
"""


def test_a_connection_close_ends_the_upstream_connection_too():
    """urllib says Connection: close on every request. A server that serves
    one connection at a time (Python's http.server.HTTPServer) must see it
    and the connection end: the relay kept the upstream connection, with no
    Connection: close, and the program's next request (another Host, or
    another serving thread's handle, is another connection) waited on it
    until it timed out. Pass-through requests and calls alike."""
    import http.server
    import threading
    seen = []

    class One(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self, body):
            seen.append((self.command, self.headers.get("Connection")))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self.answer(b'"models"')

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.answer(json.dumps({"id": "x", "object": "chat.completion", "model": "gpt-4o", "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "one at a time"},
                 "finish_reason": "stop"}]}).encode())

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), One)   # (one connection at a time)
    port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        m = mock()
        r = run([PY, "-c", PRELUDE + PEERS + ONE_AT_A_TIME, m.base("primary"), str(port)],
                env_for(config(m, raw=port)), timeout=60)
        check_relayed(r, port)
        eq(json.loads(r.stdout or b"null"), ['"models"', '"models"', "one at a time", "one at a time", '"models"',
                                             '"models"', '"models"'], f"every answer ({r.stderr.decode()[-300:]})")
        eq(seen, [("GET", "close")] * 2 + [("POST", "close")] * 2 + [("GET", "close")] * 3,
           "each request said Connection: close to the server")
        out = raw_call(m, port, "GET /v1/models HTTP/1.0\r\n\r\n", config(m, raw=port))
        check(out.startswith(b"HTTP/1.1 200 "), f"HTTP/1.0: answered ({out[:100]!r})")
        eq(seen[-1], ("GET", "close"), "HTTP/1.0's close, unsaid, said to the server")
    finally:
        srv.shutdown()
        srv.server_close()


def test_an_http10_client_gets_its_stream_unchunked():
    """HTTP/1.0 knows no chunks: a live stream (the primary's, or a fallback's
    translated from another dialect) reaches such a client as it is, ended
    by the close."""
    m = mock()
    p = m.port("primary")
    key = f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}\r\n"
    call = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    req = (f"POST /v1/chat/completions HTTP/1.0\r\nHost: 127.0.0.1:{p}\r\n{key}"
           f"Content-Type: application/json\r\nContent-Length: {len(call)}\r\n\r\n{call}")
    for primary, chain, who in (("ok", ("backup/gpt-4o-mini",), "primary"),
                                ("503", ("anthropic/claude-3-5-haiku-latest",), "claude")):
        m.reset_all()
        m.set("primary", behaviour=primary)
        out = raw_call(m, p, req, config(m, chain=chain))
        head, _, body = out.partition(b"\r\n\r\n")
        check(out.startswith(b"HTTP/1.1 200 ") and b"transfer-encoding" not in head.lower(),
              f"{who}: a 200 without chunked framing ({head[:300]!r})")
        check(body.startswith(b"data: {") and body.rstrip().endswith(b"data: [DONE]"),
              f"{who}: the stream as it is, to its end ({body[:80]!r}...{body[-80:]!r})")
        eq(b"x-llmfallback-provider: anthropic" in head.lower(), who == "claude", f"{who}: who answered")


class CountingServer(RawServer):
    """An upload endpoint that counts what it receives (Content-Length or
    chunked) without keeping it, and answers with the count."""
    def __init__(self):
        self.seen = []
        super().__init__()

    @staticmethod
    def _skip(f, left):
        """Reads left bytes without keeping them; how many."""
        n = left
        while left:
            d = f.read(min(left, 1 << 20))
            if not d:
                raise OSError
            left -= len(d)
        return n

    def _handle(self, c):
        f = c.makefile("rb", buffering=1 << 20)
        try:
            while True:
                line = f.readline()
                if not line:
                    break
                headers = {}
                while True:
                    h = f.readline()
                    if h in (b"\r\n", b""):
                        break
                    k, _, v = h.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                n = 0
                if "content-length" in headers:
                    n = self._skip(f, int(headers["content-length"]))
                elif "chunked" in headers.get("transfer-encoding", ""):
                    while True:
                        size = int(f.readline().split(b";")[0], 16)
                        if size == 0:
                            f.readline()
                            break
                        n += self._skip(f, size)
                        f.readline()
                self.seen.append((line.split()[0].decode(), n, headers.get("authorization")))
                body = json.dumps({"bytes": n}).encode()
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                          % (len(body), body))
        except (OSError, ValueError):
            pass
        finally:
            c.close()


def test_an_upload_larger_than_an_answer_passes_as_it_comes():
    """A body no call could have (a 300 MiB upload to a files endpoint) is
    passed on through the relay as it arrives, with its Content-Length or in
    chunks, never held whole in the program's memory; a call after it on the
    same connection is served as usual."""
    up = CountingServer()
    size = 300 << 20
    script = """
import requests
size = int(sys.argv[2])
class Zeros:   # a file of known length, read as requests sends it
    def __init__(self, n): self.left = n
    def __len__(self): return self.left
    def read(self, n=-1):
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return bytes(n)
def chunks(n):
    while n:
        k = min(n, 1 << 20)
        n -= k
        yield bytes(k)
s = requests.Session()
h = {"Authorization": HDRS["Authorization"]}
a = s.post(URL, data=Zeros(size), headers=h, timeout=60).json()["bytes"]
b = s.put(URL, data=chunks(size), headers=h, timeout=60).json()["bytes"]
c = s.post(URL, data=b"x" * 1000, headers=h, timeout=60).json()["bytes"]
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(a, b, c, int(hwm) // 1024)
"""
    try:
        m = mock()
        r = run([PY, "-c", PRELUDE + PEERS + script, f"http://127.0.0.1:{up.port}/v1/files", str(size)],
                env_for(config(m, raw=up.port)), timeout=180)
        check_relayed(r, up.port)
        out = r.stdout.decode().split()
        eq(out[:3], [str(size), str(size), "1000"], f"every byte, both ways, then a small one ({r.stderr.decode()[-300:]})")
        eq([(x[0], x[1]) for x in up.seen], [("POST", size), ("PUT", size), ("POST", 1000)], "as the upstream saw them")
        # (under ASan the program's freed memory is held in quarantine)
        check(SANITIZED or int(out[3]) < 150, f"never held whole: the program's peak memory {out[3]} MiB")
    finally:
        up.stop()


def test_an_early_answer_to_an_upload_reaches_the_program():
    """A server that answers an upload (no call) right after its head, as
    nginx answers a 401 or 413, and reads on and drops the body: the program
    gets that answer whole, whether it was still sending its body (the
    relay's close lingers: no reset discards the answer) or waiting on its
    Expect: 100-continue, which goes on to the server, whose final answer
    the program gets instead of a 100 of the relay's, and sends no body. A
    server that takes the body gets it after its own 100."""
    for refuses in (True, False):
        raw = RawServer(unauthorized, early=True) if refuses else RawServer()
        try:
            m = mock()
            r = run([PY, "-c", PRELUDE + PEERS + UPLOADS, f"http://127.0.0.1:{raw.port}/v1/chat/completions"],
                    env_for(config(m, raw=raw.port)), timeout=120)
            check_relayed(r, raw.port)
            check_uploads(r, raw, refuses)
        finally:
            raw.stop()


def test_a_417_to_an_expect_is_the_programs_answer():
    """A server that will not honour the program's Expect: 100-continue
    (417), and answers every head that carries one so, keeping its
    connection: the program gets the 417 (its head: the transfer stops
    there) and the end of the connection, nothing after it, and the server
    gets the request once. libcurl resent it, with the program's Expect,
    to another 417, thousands of times a second."""
    raw = RawServer(refuse_expect=True)
    try:
        m = mock()
        out = raw_call(m, raw.port, f"POST /v1/files HTTP/1.1\r\nHost: 127.0.0.1:{raw.port}\r\nContent-Length: 5\r\n"
                                    "Expect: 100-continue\r\n\r\n", config(m, raw=raw.port))
        eq(out, b"HTTP/1.1 417 Expectation Failed\r\nX-Server: early\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
           "the 417, then the close")
        time.sleep(0.5)
        eq(len(raw.requests), 1, "the server got the request once")
        eq(raw.requests[0]["headers"].get("expect"), "100-continue", "the Expect went to the server")
    finally:
        raw.stop()


def drip_events(c, req):
    """A streaming endpoint the library does not know (e.g. /v1/responses)."""
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
    for i in range(4):
        d = b"data: %d\n\n" % i
        c.sendall(b"%x\r\n%s\r\n" % (len(d), d))
        time.sleep(0.4)
    c.sendall(b"0\r\n\r\n")
    return True


def test_other_streams_pass_through_as_they_come():
    raw = RawServer(drip_events)
    script = """
import time, requests
t0 = time.monotonic()
s = requests.Session()
for i in range(2):   # twice on one connection: the end of the first is clean
    r = s.post(URL, json={"model": "gpt-4o", "stream": True, "input": "hi"}, stream=True, timeout=10)
    times = [time.monotonic() - t0 for l in r.iter_lines() if l]
    print(len(times), round(times[0], 2), round(times[-1], 2))
    t0 = time.monotonic()
"""
    try:
        m = mock()
        r = run([PY, "-c", PRELUDE + PEERS + script, f"http://127.0.0.1:{raw.port}/v1/responses"],
                env_for(config(m, raw=raw.port)))
        check_relayed(r, raw.port)
        lines = [l.split() for l in r.stdout.decode().splitlines()]
        eq(len(lines), 2, f"two streams ({r.stderr.decode()[-300:]})")
        for n, first, last in lines:
            eq(n, "4", "every event")
            check(float(last) - float(first) > 0.8, f"first event at {first} s, last at {last} s: live")
        eq(raw.connections, 1, "one connection to the server")
    finally:
        raw.stop()


def bodiless(c, req):
    """Answers that carry no body, with and without a Content-Length."""
    if req["target"] == "/head":
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12345\r\n\r\n" +
                  (b"" if req["method"] == "HEAD" else b"x" * 12345))
    elif req["target"] == "/204":
        c.sendall(b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n")
    else:
        c.sendall(b"HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\nContent-Length: 99\r\n\r\n")
    return True


def test_bodiless_answers_keep_their_framing():
    """HEAD, 204 and 304 pass with the upstream's Content-Length as it was
    (or none), never a length the relay made up."""
    raw = RawServer(bodiless)
    try:
        m = mock()
        cfg = config(m, raw=raw.port)
        for method, path, want in (("HEAD", "/head", b"Content-Length: 12345\r\n"), ("GET", "/304", b"Content-Length: 99\r\n"),
                                   ("GET", "/204", None)):
            out = raw_call(m, raw.port, f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{raw.port}\r\n"
                                        "Connection: close\r\n\r\n", cfg)
            head, _, body = out.partition(b"\r\n\r\n")
            lengths = [l + b"\r\n" for l in head.split(b"\r\n") if l.lower().startswith((b"content-length:", b"transfer-encoding:"))]
            eq((lengths, body), ([want] if want else [], b""), f"{method} {path}: framing as upstream sent it ({out[:200]!r})")
    finally:
        raw.stop()


def test_a_failed_stream_gives_back_the_original():
    """A stream whose first event is an error, and a chain that fails too:
    the program gets the primary's stream as it was sent, as without us."""
    m = mock()
    m.set("primary", behaviour="stream_error")
    m.set("backup", behaviour="503")
    script = """
import requests
r = requests.post(URL, data=json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]}),
                  headers=HDRS, timeout=10)
print(r.status_code, r.headers.get("content-type"), r.text)
"""
    a = py(m, script, config(m))
    b = run([PY, "-c", PRELUDE + script, m.base("primary") + "/chat/completions"], env_for(preload=False))
    check(b.stdout.startswith(b"200 text/event-stream data: {"), f"the primary's own stream ({b.stdout[:100]!r})")
    eq(a.stdout, b.stdout, f"the same through the relay ({a.stderr.decode()[-300:]})")
    eq(len(m.requests("backup")), 1, "after the backup failed")


def test_a_stream_stopped_at_its_first_event_is_not_given_as_whole():
    """The primary's stream began with garbage and had more to come; we
    stopped it there, and the chain failed too: the program gets what came,
    as a broken transfer (never as a complete stream), as curl gets error 18."""
    m = mock()
    m.set("primary", behaviour="stream_garbage_more")
    m.set("backup", behaviour="503")
    script = """
import requests
r = requests.post(URL, data=json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]}),
                  headers=HDRS, timeout=10, stream=True)
got = b""
try:
    for c in r.iter_content(None):
        got += c
    print(r.status_code, "whole", got)
except Exception as e:
    print(r.status_code, "broken", type(e).__name__, got)
"""
    r = py(m, script, config(m))
    out = r.stdout.decode()
    check(out.startswith("200 broken ") and "upstream reset" in out,
          f"the primary's start, as a broken transfer ({out[:200]!r} {r.stderr.decode()[-300:]})")
    eq(len(m.requests("backup")), 1, "after the backup failed")


def test_long_urls_pass_whole():
    raw = RawServer()
    try:
        m = mock()
        target = "/v1/files?q=" + "a" * 6000 + "&end=1"
        out = raw_call(m, raw.port, f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{raw.port}\r\nConnection: close\r\n\r\n",
                       config(m, raw=raw.port))
        check(out.startswith(b"HTTP/1.1 200 "), f"answered ({out[:100]!r})")
        eq([len(r["target"]) for r in raw.requests], [len(target)], "the whole URL arrived")
    finally:
        raw.stop()


def test_pass_through_adds_no_headers():
    """What the program did not send, the server does not get (libcurl's own
    Accept: */* and form Content-Type); what it did, it gets (its Connection:
    close too)."""
    raw = RawServer()
    try:
        m = mock()
        host = f"Host: 127.0.0.1:{raw.port}\r\nConnection: close\r\n"
        for req in (f"GET /v1/files HTTP/1.1\r\n{host}\r\n",
                    f"POST /v1/files HTTP/1.1\r\n{host}Content-Length: 3\r\n\r\nabc"):
            out = raw_call(m, raw.port, req, config(m, raw=raw.port))
            check(out.startswith(b"HTTP/1.1 200 "), f"answered ({out[:100]!r})")
        eq([sorted(r["headers"]) for r in raw.requests], [["connection", "host"], ["connection", "content-length", "host"]],
           "the program's headers and no others")
        eq([r["headers"]["connection"] for r in raw.requests], ["close"] * 2, "its Connection as it sent it")
    finally:
        raw.stop()


def test_malformed_chunks_go_no_further():
    """A chunked body the relay cannot read as chunks (a size with 0x or a
    space before it, bytes between a chunk's data and its CRLF) is not
    sent on as something else (strtoul read "0x5" and " 5" as 5, and the
    bytes after a chunk's data were dropped): the connection ends, and the
    server gets nothing of it."""
    raw = RawServer()
    try:
        m = mock()
        for what, chunks in (("0x5", "0x5\r\nhello\r\n0\r\n\r\n"), ("space", " 5\r\nhello\r\n0\r\n\r\n"),
                             ("bytes after the data", "5\r\nhelloXX\r\n0\r\n\r\n")):
            out = raw_call(m, raw.port, f"POST /v1/files HTTP/1.1\r\nHost: 127.0.0.1:{raw.port}\r\n"
                                        f"Transfer-Encoding: chunked\r\n\r\n{chunks}", config(m, raw=raw.port))
            check(not out.startswith(b"HTTP/1.1 200"), f"{what}: no answer from the server ({out[:100]!r})")
        eq(raw.requests, [], "the server got none of them")
    finally:
        raw.stop()


def test_a_chunk_size_with_many_leading_zeros_is_read():
    """RFC 9112 bounds no chunk size's digits: 70 leading zeros (and a last
    chunk "0000…") are a size like any other, as servers read them; the
    relay, which kept 63 characters of a size line, closed the connection
    without a reply, for a call and for a request it passes on. A size
    that overflows still ends the connection."""
    raw = RawServer()
    try:
        m = mock()
        m.set("primary", behaviour="503")
        call = chat_body().encode()
        key = f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}\r\n"
        for zeros in (70, 1000):
            z, a, b = "0" * zeros, call[:20].decode(), call[20:].decode()
            chunks = f"{z}{len(a):x}\r\n{a}\r\n{z}{len(b):X};x=y\r\n{b}\r\n{z}\r\n\r\n"
            out = raw_call(m, m.port("primary"), f"POST /v1/chat/completions HTTP/1.1\r\n"
                                                 f"Host: 127.0.0.1:{m.port('primary')}\r\n{key}"
                                                 f"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                                                 f"Connection: close\r\n\r\n{chunks}", config(m))
            check(out.startswith(b"HTTP/1.1 200") and b"Hello from backup" in out,
                  f"{zeros} zeros: a call, fallen back ({out[:100]!r})")
            raw.requests.clear()
            out = raw_call(m, raw.port, f"POST /v1/files HTTP/1.1\r\nHost: 127.0.0.1:{raw.port}\r\n"
                                        f"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{chunks}",
                           config(m, raw=raw.port))
            check(out.startswith(b"HTTP/1.1 200"), f"{zeros} zeros: passed on, answered ({out[:100]!r})")
            eq([r["body"] for r in raw.requests], [call], f"{zeros} zeros: the body whole")
        raw.requests.clear()
        out = raw_call(m, raw.port, f"POST /v1/files HTTP/1.1\r\nHost: 127.0.0.1:{raw.port}\r\n"
                                    f"Transfer-Encoding: chunked\r\n\r\n{'f' * 18}\r\nhello\r\n0\r\n\r\n",
                       config(m, raw=raw.port))
        check(not out.startswith(b"HTTP/1.1 200"), f"an overflowing size: no answer ({out[:100]!r})")
        eq(raw.requests, [], "and nothing sent on")
    finally:
        raw.stop()


def test_providers_closing_without_a_reply_close_cleanly():
    """Every provider closes without a word: so does the relay (a clean end
    of stream, as the primary's own, not a reset)."""
    m = mock()
    for n in ("primary", "backup"):
        m.set(n, behaviour="empty")
    call = chat_body()
    req = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{m.port('primary')}\r\n"
           f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}\r\nContent-Type: application/json\r\n"
           f"Content-Length: {len(call)}\r\n\r\n{call}")
    eq(raw_call(m, m.port("primary"), req, config(m)), b"", "end of stream, no reset")
    eq(len(m.requests("backup")), 1, "after the backup was asked")


def test_websocket_upgrades_are_tunnelled():
    """A WebSocket to a provider's host (a realtime API) is no call: the
    upgrade reaches the server as the program wrote it (Upgrade and
    Connection are hop-by-hop, which a transfer would drop: the server would
    answer 426), with the frame sent right behind it; then frames go both
    ways, a large one too, to the closing handshake."""
    raw = RawServer(websocket_echo)
    try:
        m = mock()
        r = run([PY, "-c", PRELUDE + PEERS + WEBSOCKET, f"http://127.0.0.1:{raw.port}/v1/realtime?model=gpt-4o-realtime"],
                env_for(config(m, raw=raw.port)))
        check_websocket_tunnelled(r, raw)
        check_relayed(r, raw.port)
    finally:
        raw.stop()


def test_a_tunnel_leaves_from_the_programs_address():
    """A program whose socket is bound to an address of its choice (here
    127.0.0.2, create_connection's source_address) before it connects to a
    provider's host: the relay's tunnel for its WebSocket leaves from that
    address, as its own connection would have (it left from the default
    one)."""
    raw = RawServer(websocket_echo)
    try:
        m = mock()
        bound = WEBSOCKET.replace("timeout=10)", 'timeout=10, source_address=("127.0.0.2", 0))', 1)
        check(bound != WEBSOCKET, "(the program binds its socket)")
        r = run([PY, "-c", PRELUDE + PEERS + bound, f"http://127.0.0.1:{raw.port}/v1/realtime?model=gpt-4o-realtime"],
                env_for(config(m, raw=raw.port)))
        check_websocket_tunnelled(r, raw)
        check_relayed(r, raw.port)
        eq(raw.peers, ["127.0.0.2"], "the tunnel left from the program's address")
    finally:
        raw.stop()


# call_from(src, tag): one call on a connection of its own from a socket
# bound to src (None: unbound); its status and who answered
BOUND_CALL = """
import http.client
port = int(URL.split("/")[2].split(":")[1])
def call_from(src, tag):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(src, 0) if src else None)
    c.request("POST", "/v1/chat/completions", body(tag), HDRS)
    r = c.getresponse()
    r.read()
    c.close()
    return r.status, r.getheader("x-llmfallback-provider")
"""

BOUND_THEN_NOT = BOUND_CALL + """
for src in ("127.0.0.2", None, "127.0.0.2"):
    print(*call_from(src, src or "-"))
"""


def test_a_call_from_an_unbound_socket_leaves_from_the_default_address():
    """A call from a socket bound to 127.0.0.2, then one from an unbound
    socket, then a bound one again, in one process: each leaves from its own
    address. (The relay's libcurl handle kept the first's connection, which
    left from 127.0.0.2, and the second reused it; a handle keeps only one
    source's connections, and the third must not reuse the second's.)"""
    m = mock()
    r = py(m, BOUND_THEN_NOT, config(m))
    eq(r.stdout.decode().split(), ["200", "None"] * 3, f"all answered ({r.stderr.decode()[-200:]})")
    eq([q["peer_addr"] for q in m.requests("primary")], ["127.0.0.2", "127.0.0.1", "127.0.0.2"],
       "each from its own address")


BOUND_KEEPS = """
import http.client
port = int(URL.split("/")[2].split(":")[1])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=("127.0.0.2", 0))
for i in range(3):
    c.request("POST", "/v1/chat/completions", body("k%d" % i), HDRS)
    r = c.getresponse()
    print(r.status, r.getheader("x-llmfallback-provider"))
    r.read()
"""


def all_fall_back(script, n):
    """The mock after script's n calls, each printing its status and who
    answered, the primary failing: each answered by the backup."""
    m = mock()
    m.set("primary", behaviour="503")
    r = py(m, script, config(m))
    eq(r.stdout.decode().split(), ["200", "backup"] * n, f"all fell back ({r.stderr.decode()[-200:]})")
    return m


def test_a_bound_programs_calls_keep_their_connections():
    """Three calls on one connection from a socket bound to 127.0.0.2, the
    primary failing: the relay's connections to the primary and to the
    backup leave from 127.0.0.2 and are kept alive from call to call, as
    for a program that binds nothing. (Each call took new ones: libcurl
    cannot tell a bound connection from another, so none was kept.)"""
    m = all_fall_back(BOUND_KEEPS, 3)
    for name in ("primary", "backup"):
        qs = m.requests(name)
        eq({q["peer_addr"] for q in qs}, {"127.0.0.2"}, f"{name}: from the program's address")
        eq((len(qs), len({q["conn"] for q in qs})), (3, 1), f"{name}: three calls on one connection")


ALTERNATING = BOUND_CALL + """
for i in range(24):
    print(*call_from("127.0.0.2" if i % 4 == 3 else None, "a%d" % i))
"""


def test_a_program_alternating_bound_and_unbound_calls_keeps_both_connections():
    """24 calls, each on a connection of its own, every fourth from a socket
    bound to 127.0.0.2, the primary failing: the relay keeps its connections
    from each address for that address's next call, to the primary and to
    the backup. (A handle whose connections left from elsewhere was cleaned
    up at each change of address: 6 connections or more from each.)"""
    m = all_fall_back(ALTERNATING, 24)
    for name in ("primary", "backup"):
        qs = m.requests(name)
        eq([q["peer_addr"] for q in qs], ["127.0.0.2" if i % 4 == 3 else "127.0.0.1" for i in range(24)],
           f"{name}: each call from its socket's address")
        for addr in ("127.0.0.1", "127.0.0.2"):
            conns = {q["conn"] for q in qs if q["peer_addr"] == addr}
            # (a serving thread each for calls that overlap as one ends and
            # the next begins: a few, never one per change)
            check(len(conns) <= 3, f"{name}: {len(conns)} connections from {addr} for its calls")


THREADS_FROM_THREE = BOUND_CALL + """
import threading
srcs = ("127.0.0.2", "127.0.0.3", None)
bad = []
def calls(t):
    for i in range(9):
        src = srcs[(t + i) % 3]
        try:
            status, _ = call_from(src, "%s-%d-%d" % (src or "none", t, i))
            if status != 200:
                bad.append(status)
        except Exception as e:
            bad.append(repr(e))
ts = [threading.Thread(target=calls, args=(t,)) for t in range(6)]
[t.start() for t in ts]
[t.join() for t in ts]
print("bad", bad)
"""


def test_concurrent_calls_from_three_sources_each_leave_from_their_own():
    """Six threads, each call on a connection of its own from a socket bound
    to 127.0.0.2, to 127.0.0.3 or to none, in turn, the primary failing:
    every request to the primary and to the backup leaves from its call's
    address, whichever serving thread's kept handle served it. (A handle is
    given to another thread's next call only when its connections leave from
    that call's address.)"""
    m = mock()
    m.set("primary", behaviour="503")
    r = py(m, THREADS_FROM_THREE, config(m))
    eq(r.stdout.decode().strip(), "bad []", f"all answered ({r.stderr.decode()[-200:]})")
    for name in ("primary", "backup"):
        qs = m.requests(name)
        eq(len(qs), 54, f"{name}: every call")
        wrong = [(q["body"].split("[rid:")[1].split("-")[0], q["peer_addr"]) for q in qs
                 if q["peer_addr"] != q["body"].split("[rid:")[1].split("-")[0].replace("none", "127.0.0.1")]
        eq(wrong, [], f"{name}: calls that left from another address (theirs, where)")


NEW_ADDRESS_EACH_CALL = BOUND_CALL + """
import time
def count():
    time.sleep(0.5)                         # (the serving thread has parked by then)
    return len(os.listdir("/proc/self/fd"))
call_from(None, "warm")
before = count()
codes = [call_from("127.0.0.%d" % (2 + i % 30), "s%d" % i)[0] for i in range(60)]
print(codes.count(200), count() - before)
"""


def test_a_program_binding_a_new_address_for_each_call_keeps_few_handles():
    """60 calls, each from a socket bound to the next of 30 addresses: the
    handles set aside for addresses the program may not use again are at
    most four (about three descriptors each), not the sixteen a pool of
    parked threads' handles may keep."""
    m = mock()
    r = py(m, NEW_ADDRESS_EACH_CALL, config(m))
    out = r.stdout.decode().split()
    eq(len(out), 2, f"counted ({r.stdout!r}, {r.stderr.decode()[-300:]})")
    answered, more = map(int, out)
    eq(answered, 60, "every call answered")
    check(more <= 20, f"{more} more descriptors after the calls than before them (at most 20: its own handle, "
                      "four set aside, three each, and a few)")


MAPPED_WILDCARD = """
import socket
host, port = URL.split("/")[2].split(":")
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::ffff:0.0.0.0", 0))
s.settimeout(10)
s.connect(("::ffff:" + host, int(port)))
out = raw_chat(s, "mw")
print(out.split(b"\\r\\n")[0].decode(), b"Hello from backup" in out)
"""


def test_a_dual_stack_socket_bound_to_the_ipv4_wildcard_falls_back():
    """A dual-stack socket bound to ::ffff:0.0.0.0 (the IPv4 wildcard, as
    an IPv6 address) before it connects to an IPv4 provider: the relay takes
    it, and the call falls back. (The relay was told that address for the
    socket's, and refused the connection: the program saw a reset.)"""
    m = mock()
    m.set("primary", behaviour="503")
    r = py(m, MAPPED_WILDCARD, config(m))
    eq(r.stdout.decode().split(), ["HTTP/1.1", "200", "OK", "True"], f"fell back ({r.stderr.decode()[-300:]})")


def test_a_connect_limit_of_weeks_is_a_limit():
    """timeouts_ms.connect of 35 days (3e9 ms, past an int's milliseconds)
    for a tunnel's connection: the wait was converted to int, undefined
    beyond INT_MAX (the sanitized library stopped there)."""
    raw = RawServer(websocket_echo)
    try:
        m = mock()
        r = run([PY, "-c", PRELUDE + PEERS + WEBSOCKET, f"http://127.0.0.1:{raw.port}/v1/realtime?model=gpt-4o-realtime"],
                env_for(config(m, raw=raw.port, connect=3000000000)))
        check_websocket_tunnelled(r, raw)
    finally:
        raw.stop()


def test_empty_header_values_pass():
    """A header with an empty value is the program's to send (requests sends
    headers={"X": ""} as "X: "); libcurl would take "X:" for "remove X"."""
    raw = RawServer()
    script = """
import requests
r = requests.get(URL, headers={"X-Empty": "", "X-Full": "1"}, timeout=10)
print(r.status_code)
"""
    try:
        m = mock()
        r = run([PY, "-c", PRELUDE + PEERS + script, f"http://127.0.0.1:{raw.port}/v1/models"], env_for(config(m, raw=raw.port)))
        check_relayed(r, raw.port)
        eq(r.stdout.decode().strip(), "200", f"answered ({r.stderr.decode()[-300:]})")
        eq([(h.get("x-empty"), h.get("x-full")) for h in (q["headers"] for q in raw.requests)], [("", "1")],
           "the empty header arrived, empty")
    finally:
        raw.stop()


def test_request_bodies_go_as_the_program_framed_them():
    """A body goes with any method that has one (a GET too: search APIs send
    them), and none is made up for a DELETE or an OPTIONS that had none."""
    raw = RawServer()
    try:
        m = mock()
        cfg = config(m, raw=raw.port)
        cases = (("GET", "abc"), ("DELETE", None), ("OPTIONS", None), ("DELETE", ""), ("PATCH", "{}"))
        for method, body in cases:
            length = f"Content-Length: {len(body)}\r\n" if body is not None else ""
            out = raw_call(m, raw.port, f"{method} /v1/files/f HTTP/1.1\r\nHost: 127.0.0.1:{raw.port}\r\n{length}"
                                        f"Connection: close\r\n\r\n{body or ''}", cfg)
            check(out.startswith(b"HTTP/1.1 200 "), f"{method}: answered ({out[:100]!r})")
        eq([(q["method"], q["headers"].get("content-length"), q["body"].decode()) for q in raw.requests],
           [(mt, None if b is None else str(len(b)), b or "") for mt, b in cases], "method, length and body as sent")
    finally:
        raw.stop()


def test_dot_segments_pass_as_written():
    raw = RawServer()
    try:
        m = mock()
        target = "/v1/files/../models/./x//y/%2e%2e/z?a=../b"
        out = raw_call(m, raw.port, f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{raw.port}\r\nConnection: close\r\n\r\n",
                       config(m, raw=raw.port))
        check(out.startswith(b"HTTP/1.1 200 "), f"answered ({out[:100]!r})")
        eq([q["target"] for q in raw.requests], [target], "the path as the program wrote it")
    finally:
        raw.stop()


def test_odd_targets_pass_as_written():
    """A request passed through goes with its target as the program wrote
    it, byte for byte, as over a direct connection: from the URL libcurl
    sent raw UTF-8 percent-encoded and dropped a fragment, and refused a
    DEL (the program's connection was reset). An absolute target still
    goes as its path and query, the Host its authority."""
    raw = RawServer()
    try:
        m = mock()
        cfg = config(m, raw=raw.port)
        targets = ("/v1/files/\xc3\xa9", "/v1/files?q=a#frag", "/v1/files/\x7f", "/v1/files/{x}|?a=%zz")
        for t in targets:
            out = raw_call(m, raw.port, f"GET {t} HTTP/1.1\r\nHost: 127.0.0.1:{raw.port}\r\nConnection: close\r\n\r\n", cfg)
            check(out.startswith(b"HTTP/1.1 200 "), f"{t!r}: answered ({out[:100]!r})")
        out = raw_call(m, raw.port, f"GET http://127.0.0.1:{raw.port}/v1/files/\xc3\xa9?x#y HTTP/1.1\r\n"
                                    f"Host: elsewhere\r\nConnection: close\r\n\r\n", cfg)
        check(out.startswith(b"HTTP/1.1 200 "), f"an absolute target: answered ({out[:100]!r})")
        eq([q["target"] for q in raw.requests], list(targets) + ["/v1/files/\xc3\xa9?x#y"], "each target as written")
        eq(raw.requests[-1]["headers"].get("host"), f"127.0.0.1:{raw.port}", "the absolute target's Host, its authority")
    finally:
        raw.stop()


def test_a_passed_through_stream_stops_when_its_program_leaves():
    """An idle stream passed through (no call of ours: an event, then
    nothing for a long time) is given up within about a second of the
    program closing its connection, as an attempt is: it must not hold a
    relay thread and the upstream connection until the server ends it."""
    closed = []

    def one_event_then_idle(c, req):
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"9\r\ndata: 0\n\n\r\n")
        t0 = time.monotonic()
        c.settimeout(8)
        try:
            closed.append(round(time.monotonic() - t0, 1) if c.recv(1) == b"" else "data")
        except socket.timeout:
            closed.append("held")
        return False

    raw = RawServer(one_event_then_idle)
    script = """
import socket, time
host, port = URL.split("/")[2].split(":")
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(("GET /v1/responses/r/events HTTP/1.1\\r\\nHost: %s:%s\\r\\n\\r\\n" % (host, port)).encode())
got = b""
while b"data: 0" not in got:
    got += s.recv(65536)
s.close()
print("left", flush=True)
time.sleep(5)
print("alive")
"""
    try:
        m = mock()
        r = run([PY, "-c", PRELUDE + PEERS + script, f"http://127.0.0.1:{raw.port}/v1"], env_for(config(m, raw=raw.port)))
        check_relayed(r, raw.port)
        eq(r.stdout.decode().split(), ["left", "alive"], f"the program read an event and left ({r.stderr.decode()[-300:]})")
        # (the program lives 5 s after it left: a close after that is its exit's)
        check(len(closed) == 1 and closed[0] not in ("data", "held") and closed[0] < 4.5,
              f"the upstream connection closed while the program lived on ({closed})")
    finally:
        raw.stop()


def test_an_http10_client_is_told_its_connection_is_kept():
    """An HTTP/1.0 client that asked for keep-alive closes unless the answer
    says the connection is kept: a call passed through and an LLM call on
    one connection both say so. Nor does it get a 100 Continue (1.0 has no
    1xx): its answer comes first."""
    m = mock()
    script = """
import socket
host, port = URL.split("/")[2].split(":")
s = socket.create_connection((host, int(port)), timeout=5)
f = s.makefile("rb")
b = body("k").encode()
auth = "Authorization: %s\\r\\nConnection: keep-alive\\r\\n" % HDRS["Authorization"]
for r in (("GET /v1/models HTTP/1.0\\r\\n%s\\r\\n" % auth).encode(),
          ("POST /v1/chat/completions HTTP/1.0\\r\\n%sContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n"
           % (auth, len(b))).encode() + b):
    s.sendall(r)
    status = f.readline().decode().split()[1]
    head = {}
    for l in iter(f.readline, b"\\r\\n"):
        k, _, v = l.decode().partition(":")
        head[k.strip().lower()] = v.strip()
    f.read(int(head.get("content-length", 0)))
    print(status, head.get("connection"))
"""
    r = py(m, script, config(m))
    # (the mock has no /v1/models: its 404, passed through)
    eq(r.stdout.decode().splitlines(), ["404 keep-alive", "200 keep-alive"], f"kept, and said so ({r.stderr.decode()[-300:]})")
    call = chat_body()
    out = raw_call(m, m.port("primary"), f"POST /v1/chat/completions HTTP/1.0\r\nHost: 127.0.0.1:{m.port('primary')}\r\n"
                                         f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}\r\nExpect: 100-continue\r\n"
                                         f"Content-Type: application/json\r\nContent-Length: {len(call)}\r\n\r\n{call}",
                   config(m))
    check(out.startswith(b"HTTP/1.1 200 ") and b"Hello from primary" in out, f"no 100 Continue first ({out[:100]!r})")


def test_chunked_wins_over_a_content_length():
    """A request with both Transfer-Encoding: chunked and a Content-Length
    is read as chunked, whichever comes first, and its connection closes
    after the answer (RFC 9112 §6.3): two readers must not disagree on where
    it ends."""
    raw = RawServer()
    try:
        m = mock()
        for first, second in (("Transfer-Encoding: chunked", "Content-Length: 3"),
                              ("Content-Length: 3", "Transfer-Encoding: chunked")):
            out = raw_call(m, raw.port, f"POST /v1/files HTTP/1.1\r\nHost: 127.0.0.1:{raw.port}\r\n{first}\r\n{second}\r\n\r\n"
                                        "5\r\nhello\r\n0\r\n\r\n", config(m, raw=raw.port))
            head = out.partition(b"\r\n\r\n")[0]
            check(out.startswith(b"HTTP/1.1 200 ") and b"\r\nConnection: close" in head,
                  f"{first} first: answered, then closed ({out[:300]!r})")
        eq([q["body"] for q in raw.requests], [b"hello", b"hello"], "the chunked body arrived")
    finally:
        raw.stop()


def lf_only(c, req):
    """Answers whose head lines end in a bare LF (some servers' way; libcurl
    and the clients take them): a chat completion and a plain one."""
    if req["target"].endswith("/chat/completions"):
        body = json.dumps({"id": "c1", "object": "chat.completion", "model": "gpt-4o", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "Hello over LF"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4}}).encode()
        kind = b"application/json"
    else:
        body, kind = b"hello", b"text/plain"
    c.sendall(b"HTTP/1.1 200 OK\nContent-Type: %s\nX-Lf: 1\nContent-Length: %d\n\n%s" % (kind, len(body), body))
    return True


def test_answers_with_bare_lf_lines_pass():
    raw = RawServer(lf_only)
    script = """
import requests
s = requests.Session()
r = s.get(URL + "/files", timeout=10)
print(r.status_code, r.headers.get("x-lf"), r.text)
r = s.post(URL + "/chat/completions", data=body(), headers=HDRS, timeout=10)
print(r.status_code, r.headers.get("x-lf"), r.headers.get("x-llmfallback-provider"), r.json()["choices"][0]["message"]["content"])
"""
    try:
        m = mock()
        r = run([PY, "-c", PRELUDE + PEERS + script, f"http://127.0.0.1:{raw.port}/v1"],
                env_for(config(m, primary_base=f"http://127.0.0.1:{raw.port}/v1")))
        check_relayed(r, raw.port)
        eq(r.stdout.decode().splitlines(), ["200 1 hello", "200 1 None Hello over LF"],
           f"both answers, as sent ({r.stderr.decode()[-300:]})")
    finally:
        raw.stop()


def dechunk(out):
    """An answer's head, its body (de-chunked when chunked) and the trailer
    lines after its last chunk."""
    head, _, rest = out.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" not in head.lower():
        return head, rest, b""
    body = b""
    while True:
        size, _, rest = rest.partition(b"\r\n")
        n = int(size, 16)
        if n == 0:
            return head, body, rest
        body, rest = body + rest[:n], rest[n + 2:]


def test_trailers_are_carried_after_the_last_chunk():
    """A chunked answer's trailer fields (announced by Trailer:) reach the
    program after its last chunk, as the provider sent them: a good answer
    (held, a live stream, a stream held to its end), the original failure
    after the member failed, and a call passed through. An HTTP/1.0 client,
    which knows no chunks, gets neither the trailers nor a Trailer header
    announcing them."""
    from rawserver import TRAILED_ANSWER, TRAILED_EVENTS, with_trailers
    m = mock()
    key = f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}\r\n"
    for status in ("200", "503"):
        raw = RawServer(with_trailers(status))
        try:
            p = raw.port
            for verdict in ({}, {"verdict": {"stream_refusal": True}}):
                cfg = write_config({
                    "providers": {"openai": {"base_url": f"http://127.0.0.1:{p}/v1"},
                                  "backup": {"dialect": "openai", "base_url": m.base("backup"), "api_key_env": "BACKUP_KEY"}},
                    "chain": ["backup/gpt-4o-mini"], "timeouts_ms": {"connect": 2000, "total": 5000}, **verdict},
                    "socket.json")
                for stream in ((False, True) if status == "200" else (False,)):
                    for version in ("1.1", "1.0"):
                        m.reset_all()
                        m.set("backup", behaviour="503")
                        what = f"{status}{' stream' if stream else ''}{' held to its end' if verdict else ''} HTTP/{version}"
                        call = json.dumps({"model": "gpt-4o", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
                        out = raw_call(m, p, f"POST /v1/chat/completions HTTP/{version}\r\nHost: 127.0.0.1:{p}\r\n{key}"
                                             f"Content-Type: application/json\r\nContent-Length: {len(call)}\r\n"
                                             f"Connection: close\r\n\r\n{call}", cfg)
                        head, body, trailers = dechunk(out)
                        want = (TRAILED_EVENTS if stream else TRAILED_ANSWER) if status == "200" else b'{"error":{"message":"overloaded"}}'
                        check(head.startswith(b"HTTP/1.1 " + (b"200 OK" if status == "200" else b"503 Service Unavailable")),
                              f"{what}: the primary's status ({out[:200]!r})")
                        eq(body, want, f"{what}: its body")
                        if version == "1.1":
                            check(b"\r\nTrailer: X-Tr, X-Sum" in head, f"{what}: the Trailer header, as sent ({head!r})")
                            eq(trailers, b"X-Tr: trailer-value\r\nX-Sum: %d\r\n\r\n" % len(want), f"{what}: the trailers, after the last chunk")
                        else:
                            check(b"railer" not in head and trailers == b"",
                                  f"{what}: no trailers, and no Trailer header announcing them ({out[:300]!r})")
                        eq(len(m.requests("backup")), 1 if status == "503" else 0, f"{what}: the member asked")
            # not a call (a list of models): passed through as it comes
            out = raw_call(m, p, f"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\n{key}Connection: close\r\n\r\n", cfg)
            head, body, trailers = dechunk(out)
            check(b"\r\nTrailer: X-Tr, X-Sum" in head and body == (TRAILED_ANSWER if status == "200" else b'{"error":{"message":"overloaded"}}'),
                  f"{status} passed through: head and body ({out[:300]!r})")
            eq(trailers, b"X-Tr: trailer-value\r\nX-Sum: %d\r\n\r\n" % len(body), f"{status} passed through: the trailers")
        finally:
            raw.stop()


def test_an_answer_over_the_cap_reaches_the_program_whole():
    """An answer larger than the relay may hold is the program's all the
    same, whole, as it would be without the library: passed on as it comes,
    not cut nor replaced by a member's."""
    m = mock()
    answer, size, whole = huge_answer()
    raw = RawServer(answer)
    script = """
import hashlib, http.client
host, port = URL.split("/")[2].split(":")
c = http.client.HTTPConnection(host, int(port), timeout=60)
c.request("POST", "/" + URL.split("/", 3)[3], body=body(), headers=HDRS)
r = c.getresponse()
data = r.read()
print(r.status, len(data), hashlib.sha256(data).hexdigest())
"""
    try:
        log = new_log("sock_over_cap.jsonl")
        # (a limit past what 256 MiB takes an ASan relay on a busy machine:
        # 5 s ran out there, and a member answered)
        r = run([PY, "-c", PRELUDE + script, f"http://127.0.0.1:{raw.port}/v1/chat/completions"],
                env_for(config(m, raw=raw.port, total=120000), log), timeout=180)
        eq(r.stdout.decode().split(), ["200", str(size), whole.sha256()], f"the answer whole ({r.stderr.decode()[-300:]})")
        eq(len(m.requests("backup")), 0, "no member asked")
        eq([(x["provider"], x["outcome"]) for x in read_log(log) if x.get("event") == "attempt"], [("raw", "ok")], "(logged as the primary's)")
    finally:
        raw.stop()


def test_the_first_byte_is_awaited_from_the_uploads_end():
    """timeouts_ms.first_byte counts from the end of the upload: a provider
    that takes a large body slowly (~1.3 s) and answers at once is not
    stopped as silent at 0.8 s."""
    m = mock()
    raw = RawServer(took_it, read_rate=1_000_000)
    script = """
import requests
big = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "x" * 1300000}]})
r = requests.post(URL, data=big, headers=HDRS, timeout=30)
print(r.status_code, r.json()["choices"][0]["message"]["content"])
"""
    try:
        cfg = write_config({"providers": {"raw": {"dialect": "openai", "base_url": f"http://127.0.0.1:{raw.port}/v1", "api_key_env": ""},
                                          "backup": {"dialect": "openai", "base_url": m.base("backup"), "api_key_env": "BACKUP_KEY"}},
                            "chain": ["backup/gpt-4o-mini"], "breaker": {"failures": 0},
                            "timeouts_ms": {"connect": 2000, "first_byte": 800, "total": 8000}}, "socket_fb.json")
        log = new_log("sock_first_byte.jsonl")
        r = run([PY, "-c", PRELUDE + script, f"http://127.0.0.1:{raw.port}/v1/chat/completions"], env_for(cfg, log))
        eq(r.stdout.decode().strip(), "200 took it", f"the primary's answer ({r.stderr.decode()[-300:]})")
        eq([(x["provider"], x["outcome"]) for x in read_log(log) if x.get("event") == "attempt"], [("raw", "ok")], "at its first attempt")
    finally:
        raw.stop()


def test_a_method_in_another_case_is_not_a_call():
    """HTTP methods are case-sensitive: a "post" to a chat URL is not a POST,
    is not a call, and reaches the program's server as it was written."""
    m = mock()
    m.set("primary", behaviour="503")
    log = new_log("lower.log")
    call = chat_body()
    key = f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}\r\n"
    r = run([PY, "-c", PRELUDE + PEERS + RAW, m.base("primary"), str(m.port("primary")),
             f"post /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{m.port('primary')}\r\n{key}Content-Type: application/json\r\n"
             f"Content-Length: {len(call)}\r\nConnection: close\r\n\r\n{call}"], env_for(config(m), log))
    check_relayed(r, m.port("primary"))
    check(r.stdout.startswith(b"HTTP/1.1 404 ") and b"Invalid URL (post " in r.stdout,
          f"the primary's own answer to its method ({r.stdout[:200]!r})")
    eq(len(m.requests("backup")), 0, "no member asked")
    eq([l for l in read_log(log) if l["event"] == "attempt"], [], "no attempt logged")


def drip_gemini_array(c, req):
    """Gemini's streamGenerateContent without alt=sse: one JSON array, its
    elements sent as they are made."""
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\nTransfer-Encoding: chunked\r\n\r\n")
    for i in range(4):
        d = b'%s{"candidates":[{"content":{"role":"model","parts":[{"text":"t%d"}]}}]}\n' % (b"[" if i == 0 else b",", i)
        c.sendall(b"%x\r\n%s\r\n" % (len(d), d))
        time.sleep(0.4)
    c.sendall(b"3\r\n]\n\r\n0\r\n\r\n")
    return True


def test_a_gemini_json_array_stream_passes_as_it_comes():
    """Without alt=sse a Gemini stream is no call the library judges: it
    passes through the relay untouched, piece by piece (as the README says)."""
    raw = RawServer(drip_gemini_array)
    script = """
import time, requests
t0 = time.monotonic()
r = requests.post(URL, json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}, stream=True, timeout=10)
times = [time.monotonic() - t0 for l in r.iter_lines() if l]
print(len(times), round(times[0], 2), round(times[-1], 2))
"""
    try:
        cfg = write_config({"providers": {"gem": {"dialect": "gemini", "base_url": f"http://127.0.0.1:{raw.port}/v1beta",
                                                  "api_key_env": ""}},
                            "chain": ["gem/gemini-2.0-flash"]}, "gemarray.json")
        r = run([PY, "-c", PRELUDE + PEERS + script,
                 f"http://127.0.0.1:{raw.port}/v1beta/models/gemini-2.5-flash:streamGenerateContent"], env_for(cfg))
        check_relayed(r, raw.port)
        n, first, last = r.stdout.decode().split()
        eq(n, "5", f"every piece ({r.stderr.decode()[-300:]})")
        check(float(last) - float(first) > 1.0, f"first piece at {first} s, last at {last} s: as they came")
    finally:
        raw.stop()


# One chat call, then calls that are none of the library's (a model list, a
# blob): each printed as it came, for a run without the library to match.
NEXT_ADDRESS = """
import hashlib, requests
base = URL.split("/v1/")[0]
r = requests.post(URL, data=body("a"), headers=HDRS, timeout=10)
print(r.status_code, r.headers.get("x-llmfallback-provider") or "-", r.json()["choices"][0]["message"]["content"].split()[2])
for path in ("/v1/models", "/_mock/blob?size=200000&seed=4"):
    g = requests.get(base + path, headers=HDRS, timeout=10)
    print(path, g.status_code, len(g.content), hashlib.sha256(g.content).hexdigest())
"""


def test_a_name_whose_first_address_refuses_reaches_the_next():
    """A base URL on localhost, which Debian's /etc/hosts resolves to ::1
    first, and a server on 127.0.0.1 only (Ollama's way): the program's
    connect() to ::1 reached the relay and succeeded, so the program never
    saw the refusal that would have sent it to 127.0.0.1. The relay goes on
    to the next address of the name itself: the healthy primary answers,
    logged as its success (it was a transport error, and the backup
    answered), and what is no call gets the server's own bytes (it got a
    reset)."""
    m = mock()
    p = m.port("primary")
    hosts = DEBIAN_HOSTS + ["::1 multi.llf.test", "127.0.0.1 multi.llf.test"]
    # localhost (resolved by the library at load), and a name the program's
    # own lookup teaches it
    for name in ("localhost", "multi.llf.test"):
        m.reset_all()
        cfg = config(m, primary_base=f"http://{name}:{p}/v1")
        argv = [PY, "-c", PRELUDE + PEERS + NEXT_ADDRESS, f"http://{name}:{p}/v1/chat/completions"]
        plain = run(with_hosts(hosts, argv), env_for(cfg, preload=False))
        eq(plain.stdout.decode().splitlines()[:1], ["200 - primary"],
           f"{name}: without the library ({plain.stderr.decode()[-300:]})")
        log = new_log("next-address.log")
        r = run(with_hosts(hosts, argv), env_for(cfg, log))
        check_relayed(r, p, f"{name}: the program's connections")
        eq(r.stdout, plain.stdout, f"{name}: the same answers as without the library ({r.stderr.decode()[-300:]})")
        eq([(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt"], [("openai", "ok")],
           f"{name}: one attempt, the primary's success")
        eq(len(m.requests("backup")), 0, f"{name}: the backup was not asked")


RELOOK = """
import socket
host, port = URL.split("/")[2].split(":")
ai = socket.getaddrinfo(host, int(port), socket.AF_INET, socket.SOCK_STREAM)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(ai[0][4])
# another lookup of the name before the request goes: another thread's, a
# pool's, one per family (happy eyeballs)
socket.getaddrinfo(host, int(port), socket.AF_INET6, socket.SOCK_STREAM)
out = raw_chat(s, "relook")
print(out.split(b"\\r\\n")[0].decode(), [l.decode() for l in out.split(b"\\r\\n") if l.lower().startswith(b"x-llmfallback-provider")])
"""


def test_a_later_lookup_of_the_name_leaves_its_earlier_addresses_the_providers():
    """The program looks its provider's name up for IPv4, connects, and
    looks it up again for IPv6 before it sends (round-robin DNS, a lookup
    per family, a client's own cache do the same): the connection still
    goes to an address of the name, and the primary's 503 falls back. The
    library kept only the latest lookup of a name, so the request was taken
    for no call of the provider: the 503 reached the program, and nothing
    was logged."""
    m = mock()
    m.set("primary", behaviour="503")
    p = m.port("primary")
    hosts = ["127.0.0.1 localhost", "127.0.0.1 relook.llf.test", "::1 relook.llf.test"]
    cfg = config(m, primary_base=f"http://relook.llf.test:{p}/v1")
    log = new_log("relook.log")
    r = run(with_hosts(hosts, [PY, "-c", PRELUDE + PEERS + RELOOK, f"http://relook.llf.test:{p}/v1/chat/completions"]),
            env_for(cfg, log))
    check_relayed(r, p)
    eq(r.stdout.decode().strip(), "HTTP/1.1 200 OK ['x-llmfallback-provider: backup']",
       f"the backup answers ({r.stderr.decode()[-300:]})")
    eq([(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt"],
       [("openai", "http_error"), ("backup", "ok")], "the primary's 503, then the backup")


class Blackhole:
    """Listeners on each of addrs at port whose backlog is full: a connect()
    there gets no answer (its SYN is dropped), as behind a firewall that
    drops. Skipped when a connect there is answered after all."""

    def __init__(self, addrs, port):
        self.socks = []
        for a in addrs:
            ls = socket.socket()
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind((a, port))
            ls.listen(0)
            self.socks.append(ls)
            for _ in range(8):
                c = socket.socket()
                c.setblocking(False)
                try:
                    c.connect((a, port))
                except BlockingIOError:
                    pass
                self.socks.append(c)
        time.sleep(0.3)
        for a in addrs:
            probe = socket.socket()
            probe.settimeout(0.5)
            try:
                probe.connect((a, port))
            except socket.timeout:
                continue
            except OSError:
                pass
            finally:
                probe.close()
            self.stop()
            raise Skipped(f"a connect to a full backlog at {a} was answered")

    def stop(self):
        for s in self.socks:
            s.close()


ANSWER = """
import socket
def answer(s):
    # what a tunnel gave back: its first bytes, or how it ended
    try:
        return s.recv(100) or b"closed"
    except ConnectionResetError:
        return b"reset"
    except socket.timeout:
        return b"no-answer"
"""

DARK = """
import time
t = time.time()
try:
    print(urllib_chat("dark").split()[2], round(time.time() - t, 2))
except Exception as e:
    print(type(e).__name__, round(time.time() - t, 2))
# a WebSocket: no call, a tunnel to where the program connected
host, port = URL.split("/")[2].split(":")
s = socket.create_connection((host, int(port)), timeout=8)
t = time.time()
s.sendall(("GET /v1/realtime HTTP/1.1\\r\\nHost: %s:%s\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n" % (host, port)).encode())
print(answer(s).decode(), round(time.time() - t, 2))
"""


def test_a_blackholed_name_costs_one_connect_limit():
    """A name whose every address drops connections (three of them), and
    a connect limit of 1 s: the primary's attempt ends when its limit has
    passed, and the backup answers, in about a second. The next address was
    also tried when a connect ran out of time, each with the whole limit:
    the backup answered after 3 s (with the default limit, up to 90 s),
    logged as one attempt. A tunnel to the name (a WebSocket) ends within
    the limit too: its connects were blocking, with no limit but the
    kernel's (two minutes an address)."""
    m = mock()
    port = free_ports(1)[0]
    addrs = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
    dark = Blackhole(addrs, port)
    try:
        cfg = json.load(open(config(m, primary_base=f"http://dark.llf.test:{port}/v1")))
        cfg["timeouts_ms"] = {"connect": 1000, "total": 20000}
        cfg = write_config(cfg, "dark.json")
        hosts = ["127.0.0.1 localhost"] + [f"{a} dark.llf.test" for a in addrs]
        log = new_log("dark.log")
        r = run(with_hosts(hosts, [PY, "-c", PRELUDE + ANSWER + DARK, f"http://dark.llf.test:{port}/v1/chat/completions"]),
                env_for(cfg, log), timeout=120)
        out = r.stdout.decode().split()
        check(len(out) == 4, f"the program's report ({r.stdout!r}, {r.stderr.decode()[-300:]})")
        eq(out[0], "backup", "the backup answers the call")
        check(float(out[1]) < 1.7, f"within about one connect limit ({out[1]} s)")
        att = [l for l in read_log(log) if l["event"] == "attempt"]
        eq([(l["provider"], l["reason"]) for l in att[:1]], [("openai", "timeout")], "the primary's timeout")
        check(att and att[0]["ms"] < 1600, f"logged as taking one connect limit ({att[:1]})")
        eq(out[2], "reset", "the tunnel is refused as the connection was")
        check(float(out[3]) < 1.7, f"within about one connect limit ({out[3]} s)")
    finally:
        dark.stop()


SHARED = """
port = int(URL.split("/")[2].split(":")[1])
socket.getaddrinfo("mine.llf.test", port, socket.AF_INET, socket.SOCK_STREAM)
socket.getaddrinfo("cdn.llf.test", port, socket.AF_INET, socket.SOCK_STREAM)   # the latest lookup
s = socket.create_connection(("127.0.0.5", port), timeout=5)   # (the one both gave)
s.sendall(b"SSH-2.0-OpenSSH_9.2\\r\\n" + b"\\x00" * 64 + b"\\r\\n\\r\\n")
print(answer(s)[:40])
"""


def test_a_tunnel_takes_no_other_names_bytes_elsewhere():
    """Two provider names share an address (a CDN's), which refuses; one
    of them has another address too. A connection to the shared address
    that is no HTTP names no host: its bytes may go to no other address,
    since which name the program meant is unknown (they went to the other
    name's, the latest lookup's, with whatever credentials they carry)."""
    m = mock()
    other = RawServer()   # the second name's second address: 127.0.0.1
    try:
        p = other.port
        cfg = json.load(open(config(m, primary_base=f"http://mine.llf.test:{p}/v1")))
        cfg["providers"]["cdn"] = {"dialect": "openai", "base_url": f"http://cdn.llf.test:{p}/v1", "api_key_env": ""}
        cfg = write_config(cfg, "shared.json")
        hosts = ["127.0.0.1 localhost", "127.0.0.5 mine.llf.test", "127.0.0.5 cdn.llf.test", "127.0.0.1 cdn.llf.test"]
        r = run(with_hosts(hosts, [PY, "-c", PRELUDE + PEERS + ANSWER + SHARED, f"http://mine.llf.test:{p}/v1/chat/completions"]),
                env_for(cfg))
        check_relayed(r, p)
        eq(other.connections, 0, f"nothing reached the other name's address ({r.stdout!r})")
        check(r.stdout.decode().strip() in ("b'reset'", "b'closed'"),
              f"refused, as the connection was ({r.stdout!r}, {r.stderr.decode()[-300:]})")
    finally:
        other.stop()


def run_at(raw, script):
    """script (with PEERS) run with raw's port a provider's, URL on it;
    its connections there reached the relay."""
    r = run([PY, "-c", PRELUDE + PEERS + script, f"http://127.0.0.1:{raw.port}/v1/chat/completions"],
            env_for(config(mock(), raw=raw.port)))
    check_relayed(r, raw.port)
    return r


HALF_CLOSE = TO_END + """
import socket
host, port = URL.split("/")[2].split(":")
port = int(port)
def pinged(head):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(head + b"PING hello\\n")
    s.shutdown(socket.SHUT_WR)   # (as nc -N: all is sent, the answer still to read)
    return to_end(s)
print(pinged(b"PING x\\r\\n\\r\\n"))   # another protocol (not_http)
print(pinged(b"GET /v1/realtime HTTP/1.1\\r\\nHost: %s:%d\\r\\nUpgrade: raw\\r\\nConnection: Upgrade\\r\\n\\r\\n"
             % (host.encode(), port)))
s = socket.create_connection((host, port), timeout=10)
s.sendall(b"GREET x\\r\\n\\r\\n")
print(to_end(s))   # the server's greeting, and its end
try:
    s.sendall(b"LATE\\n")   # (the other way is still open)
    s.shutdown(socket.SHUT_WR)
except OSError as e:
    print(type(e).__name__)
print(to_end(s))
"""


def test_a_tunnel_carries_a_half_close_and_goes_on_the_other_way():
    """A tunnel (another protocol on a provider's port, an upgrade) carries
    one side's end of its bytes (a half-close: nc -N, a client that sends
    all, shuts its writing and reads the answer) as such, and the other way
    goes on to its own end, as a direct connection does. The tunnel ended
    at either side's end: the answer to a client that half-closed was lost
    (it got nothing), and what a client sent after the server's end never
    reached the server."""
    raw = RawServer(half_close)
    try:
        r = run_at(raw, HALF_CLOSE)
        eq(r.stdout.decode().splitlines(), ["b'PONG:PING hello\\n'"] * 2 + ["b'HELLO\\n'", "b''"],
           f"the answers after the client's end; the greeting, then the end ({r.stderr.decode()[-300:]})")
        for _ in range(30):   # (the server reads the last to its end after the program is gone)
            if all("late" in q for q in raw.requests):
                break
            time.sleep(0.1)
        eq([q.get("late") for q in raw.requests], [b"PING hello\n"] * 2 + [b"LATE\n"],
           "what each client sent before its end (after the server's, for the last)")
    finally:
        raw.stop()


CLOSE_ALL_IN_A_TUNNEL = """
import socket, time
host, port = URL.split("/")[2].split(":")
s = socket.create_connection((host, int(port)))
s.sendall(b"TICKS x\\r\\n\\r\\n")
print(s.recv(100))   # (the tunnel is up)
s.detach()
os.closerange(3, 1024)   # the relay's ends of the tunnel among them
pairs = [socket.socketpair() for _ in range(15)]   # the program's own, on the numbers just freed
time.sleep(1)
for a, b in pairs:
    a.sendall(b"to-b-%d" % b.fileno())
    b.sendall(b"to-a-%d" % a.fileno())
time.sleep(1)
lost = []
for a, b in pairs:
    for x, want in ((a, b"to-a-%d" % a.fileno()), (b, b"to-b-%d" % b.fileno())):
        x.setblocking(False)
        try:
            d = x.recv(1000)
        except BlockingIOError:
            d = b""
        if d != want:
            lost.append((x.fileno(), want, d))
print(lost)
"""


def test_a_tunnel_leaves_the_numbers_the_program_took_alone():
    """A tunnel is open (another protocol on a provider's port, its server
    sending a tick every 0.3 s) when the program closes every descriptor
    and takes the numbers for socket pairs of its own. The tunnel carried
    bytes between two of them (each read of one went to another: the
    messages of four sockets lost or doubled); now it ends, its numbers no
    longer its own."""
    raw = RawServer(ticks)
    try:
        r = run_at(raw, CLOSE_ALL_IN_A_TUNNEL)
        eq(r.stdout.decode().splitlines(), ["b'TICK0\\n'", "[]"],
           f"every message of the program's own sockets as written ({r.stderr.decode()[-300:]})")
    finally:
        raw.stop()


def test_a_call_is_the_providers_it_went_to():
    """A program connected to its provider (the primary, 127.0.0.1:P) whose
    request names another provider's address in Host, or in an absolute
    target: the call is not that provider's, nor the primary's (its URL is
    not the primary's). It passes through untouched, to where the program
    connected. Before, it was taken for the named provider: the primary's
    503 was logged against it, and its chain member, counted as the same
    provider, got the program's own key on another server."""
    m = mock()
    named = RawServer()   # a keyless provider's server
    try:
        cfg = config(m, chain=("raw/other-model",), raw=named.port)
        p = m.port("primary")
        key = f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}\r\n"
        call = chat_body()
        for what, target in (("Host naming another provider", "/v1/chat/completions"),
                             ("an absolute target naming it", f"http://127.0.0.1:{named.port}/v1/chat/completions")):
            m.reset("primary")
            m.set("primary", behaviour="503")
            out = raw_call(m, p, f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1:{named.port}\r\n{key}"
                                 f"Content-Type: application/json\r\nContent-Length: {len(call)}\r\n"
                                 f"Connection: close\r\n\r\n{call}", cfg)
            check(out.startswith(b"HTTP/1.1 503 ") and b"x-llmfallback" not in out.lower(),
                  f"{what}: the primary's own 503, untouched ({out[:200]!r})")
            eq(len(m.requests("primary")), 1, f"{what}: the request went where the program connected")
        eq(named.connections, 0, "nothing reached the provider the request named")
    finally:
        named.stop()


def test_a_base_url_host_with_a_trailing_dot():
    """A base URL on "localhost." (fully qualified) names localhost: hosts
    compare case and a trailing dot aside, on the socket path as on the
    curl path (the shim's first look at the configuration missed it)."""
    m = mock()
    m.set("primary", behaviour="503")
    p = m.port("primary")
    cfg = config(m, primary_base=f"http://localhost.:{p}/v1")
    r = run([PY, "-c", PRELUDE + PEERS + "print(urllib_chat('dot'))", f"http://localhost:{p}/v1/chat/completions"],
            env_for(cfg))
    check_relayed(r, p)
    check(r.stdout.decode().startswith("Hello from backup"), f"the backup answers ({r.stderr.decode()[-300:]})")
