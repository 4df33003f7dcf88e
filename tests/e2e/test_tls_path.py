"""The OpenSSL path: unmodified Python programs speaking HTTPS (Debian's
/usr/bin/python3 with urllib, requests, httpx) to providers whose connections
become virtual TLS sessions to the in-process relay; everything else over TLS
passes through untouched."""
import atexit
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

from harness import (BUILD, DEBIAN_HOSTS, KEYS, PY, ROOT, SANITIZED, Mock, Skipped, check, env_for, eq, free_ports, new_log, read_log, run, sha, tmpdir,
                     with_hosts,
                     write_config)

_m = None


def mock():
    global _m
    if _m is None:
        _m = Mock([
            {"name": "tp", "dialect": "openai", "key": KEYS["OPENAI_API_KEY"], "tls": True},
            {"name": "tb", "dialect": "openai", "key": KEYS["BACKUP_KEY"], "tls": True},
            {"name": "tc", "dialect": "anthropic", "key": KEYS["ANTHROPIC_API_KEY"], "tls": True},
        ])
        atexit.register(_m.stop)
    _m.reset_all()
    for n in _m.servers:
        _m.set(n, behaviour="ok", retry_after=None)
    return _m


def config(m, primary=None, chain=("backup/gpt-4o-mini",)):
    return write_config({"providers": {
        "openai": {"base_url": primary or m.base("tp")},
        "backup": {"dialect": "openai", "base_url": m.base("tb"), "api_key_env": "BACKUP_KEY"},
        "anthropic": {"base_url": m.base("tc")}},
        "chain": list(chain), "timeouts_ms": {"connect": 2000, "total": 5000}}, "tls.json")


def env(m, cfg, log=None, extra=None):
    return env_for(cfg, log, extra=dict(extra or {}, SSL_CERT_FILE=m.ca, REQUESTS_CA_BUNDLE=m.ca))


from pyclients import (CHILDREN, CLIENTS as ALL_CLIENTS, DIRECT, GIVES_UP, PEERS, PRELUDE, SEND_READ_ALL, TO_END, UPLOADS, WEBSOCKET,  # noqa: E402
                       check_children, check_left_mid_attempt, check_relayed, check_uploads,
                       check_websocket_tunnelled, proxy_env)
from rawserver import RawServer, half_close, took_it, unauthorized, websocket_echo  # noqa: E402

# asyncio drives TLS through MemoryBIO: tested apart, below
CLIENTS = {k: v for k, v in ALL_CLIENTS.items() if k != "httpx-async"}


def py(m, script, cfg, *args, url=None, log=None, timeout=60):
    return run([PY, "-c", PRELUDE + script, url or m.base("tp") + "/chat/completions", *args], env(m, cfg, log),
               timeout=timeout)


def test_python_clients_fall_back_over_https():
    m = mock()
    for name, script in CLIENTS.items():
        m.reset_all()
        m.set("tp", behaviour="503")
        log = new_log("tls.log")
        r = py(m, script, config(m), log=log)
        out = r.stdout.decode().split(" ", 2)
        eq(r.returncode, 0, f"{name}: exit ({r.stderr.decode()[-300:]})")
        eq(out[:2], ["200", "backup"], f"{name}: the backup answered")
        check(out[2].startswith("Hello from tb (gpt-4o-mini)"), f"{name}: its answer")
        eq(len(m.requests("tp")), 1, f"{name}: the primary was asked, over real TLS by the relay")
        eq(m.requests("tb")[0]["credential"], KEYS["BACKUP_KEY"], f"{name}: the backup's own key")
        eq({l["path"] for l in read_log(log) if l["event"] == "attempt"}, {"ssl"}, f"{name}: relayed, logged as the TLS path")


def test_sixteen_threads_one_session_over_https():
    m = mock()
    m.set("tp", behaviour=["503", "ok"] * 40)
    script = """
import requests
s = requests.Session()
bad = []
def work(t):
    for i in range(4):
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
    eq(r.stdout.decode().strip(), "0", f"64 calls, each with its own answer ({r.stderr.decode()[-300:]})")
    check(len(m.requests("tb")) > 0, "some fell back")


def test_total_failure_unchanged_over_https():
    m = mock()
    script = """
import requests
r = requests.post(URL, data=body(), headers=HDRS, timeout=10)
print(r.status_code, r.headers.get("content-type"), r.text)
"""
    for n in ("tp", "tb"):
        m.set(n, behaviour="503")
    a = py(m, script, config(m))
    eq(len(m.requests("tb")), 1, "the backup was asked before the original went back")
    b = run([PY, "-c", PRELUDE + script, m.base("tp") + "/chat/completions"],
            env_for(preload=False, extra={"REQUESTS_CA_BUNDLE": m.ca}))
    eq(a.stdout, b.stdout, "the original 503, as without the library")


def test_other_tls_passes_through_untouched():
    m = mock()
    # No SNI (an IP address) on a provider's address: a real handshake,
    # tunnelled by the relay to the server, certificate checked by the client.
    script = """
import urllib.request, ssl, hashlib
ctx = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
data = urllib.request.urlopen(URL, context=ctx, timeout=10).read()
print(len(data), hashlib.sha256(data).hexdigest())
"""
    url = f"https://127.0.0.1:{m.port('tp')}/_mock/blob?size=300000&seed=9"
    a = run([PY, "-c", PRELUDE + script, url], env_for(preload=False, extra={"SSL_CERT_FILE": m.ca}))
    b = py(m, PEERS + script, config(m), url=url)
    check_relayed(b, m.port("tp"), "the handshake")
    eq(b.stdout, a.stdout, f"same bytes through the tunnel ({b.stderr.decode()[-300:]})")
    check(a.stdout.startswith(b"300000 "), "the whole blob")


def test_another_sni_on_a_providers_address_passes_untouched():
    """A TLS client naming another host (SNI) on a provider's address and
    port: not a call; the relay tunnels its real handshake to the server,
    which the client verifies itself, and every byte comes back as sent."""
    m = mock()
    script = """
import socket, ssl, hashlib
host, port = URL.split("/")[2].rsplit(":", 1)
ctx = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
ctx.check_hostname = False   # (the mock's certificate names localhost; the chain is still verified)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(port)), timeout=10), server_hostname="files.example.org")
s.sendall(b"GET /_mock/blob?size=200000&seed=4 HTTP/1.1\\r\\nHost: files.example.org\\r\\nConnection: close\\r\\n\\r\\n")
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
s.close()   # (a socket left open at exit is a leak LeakSanitizer reports)
body = data.split(b"\\r\\n\\r\\n", 1)[1]
print(data.split(b" ")[1].decode(), len(body), hashlib.sha256(body).hexdigest())
"""
    url = m.base("tp") + "/chat/completions"
    a = run([PY, "-c", PRELUDE + script, url], env_for(preload=False, extra={"SSL_CERT_FILE": m.ca}))
    b = py(m, PEERS + script, config(m), url=url)
    check_relayed(b, m.port("tp"), "the handshake")
    eq(b.stdout, a.stdout, f"same bytes through the tunnel ({b.stderr.decode()[-300:]})")
    check(a.stdout.startswith(b"200 200000 "), f"the whole blob ({a.stdout[:80]!r} {a.stderr.decode()[-200:]})")


def test_an_attempt_stops_when_its_program_leaves_over_https():
    """As over http://: the program gave up while the primary was still
    working; the relay stops that attempt there and asks no member."""
    m = mock()
    m.set("tp", behaviour="slow:4000:503")
    log = new_log("gone-mid.log")
    r = py(m, GIVES_UP, config(m), log=log)
    check_left_mid_attempt(r, log, len(m.requests("tb")))


def test_unreachable_https_primary():
    m = mock()
    dead = free_ports(1)[0]
    r = py(m, CLIENTS["requests"], config(m, primary=f"https://localhost:{dead}/v1"),
           url=f"https://localhost:{dead}/v1/chat/completions")
    eq(r.stdout.decode().split(" ")[:2], ["200", "backup"], f"refused primary, the chain answers ({r.stderr.decode()[-300:]})")


def test_asyncio_memory_bio_passes_through():
    """asyncio clients drive TLS through ssl.MemoryBIO: no fd for a virtual
    session. They are detected (no fd) and tunnelled untouched: they work,
    without fallback."""
    m = mock()
    script = """
import asyncio, httpx
async def main():
    async with httpx.AsyncClient(timeout=10) as c:
        return await c.post(URL, content=body("a"), headers=HDRS)
r = asyncio.run(main())
print(r.status_code, r.headers.get("x-llmfallback-provider"))
"""
    r = py(m, script, config(m))
    eq(r.stdout.decode().split(), ["200", "None"], f"answered by the primary itself ({r.stderr.decode()[-300:]})")
    m.reset_all()
    m.set("tp", behaviour="503")
    r = py(m, script, config(m))
    eq(r.stdout.decode().split()[0], "503", "no fallback for MemoryBIO clients (documented limit)")


def test_a_gnutls_program_over_https_passes_through():
    """wget links GnuTLS, not OpenSSL: over https:// its TLS is its own,
    which the library cannot make virtual. Its calls pass through untouched,
    answered by the primary, and with no fallback (documented; over http://
    it is a socket program like any other)."""
    wget = shutil.which("wget")
    if not wget:
        raise Skipped("no wget (scripts/install-deps installs it)")
    m = mock()
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    argv = [wget, "-q", "-t", "1", "-O", "-", "--content-on-error", f"--ca-certificate={m.ca}",
            "--header=Content-Type: application/json", f"--header=Authorization: Bearer {KEYS['OPENAI_API_KEY']}",
            f"--post-data={body}", m.base("tp") + "/chat/completions"]
    log = new_log("wget.log")
    r = run(argv, env(m, config(m), log))
    eq(r.returncode, 0, f"answered ({r.stderr.decode()[-300:]})")
    check(b"Hello from tp" in r.stdout, "by the primary itself")
    m.reset_all()
    m.set("tp", behaviour="503")
    r = run(argv, env(m, config(m), log))
    eq(r.returncode, 8, "the primary's 503 (wget: a server error), no fallback")
    eq((len(m.requests("tp")), len(m.requests("tb"))), (1, 0), "the primary asked, the backup not")
    eq([e for e in read_log(log) if e.get("event") != "summary"], [], "no call seen")


def test_a_client_that_gives_up_outlives_the_late_answer_over_https():
    m = mock()
    m.set("tp", behaviour="slow:1500")
    r = py(m, PEERS + GIVES_UP, config(m))
    check_relayed(r, m.port("tp"))
    eq((r.returncode, r.stdout.decode().split()), (0, ["gave", "up", "alive"]),
       f"no SIGPIPE when the relay answers a closed connection ({r.stderr.decode()[-200:]})")


def test_no_member_is_asked_for_a_program_that_left_over_https():
    m = mock()
    m.set("tp", behaviour="slow:1000:503")
    log = new_log("gone.log")
    r = py(m, GIVES_UP, config(m), log=log)
    eq(r.stdout.decode().split(), ["gave", "up", "alive"], f"the program gave up ({r.stderr.decode()[-200:]})")
    eq((len(m.requests("tp")), len(m.requests("tb"))), (1, 0), "the primary was asked, the backup was not")
    skips = [(l["provider"], l["reason"]) for l in read_log(log) if l.get("outcome") == "skipped"]
    eq(skips, [("backup", "client_gone")], "logged as skipped: client_gone")


def test_relay_ignores_proxy_variables_over_https():
    m = mock()
    m.set("tp", behaviour="503")
    proxy = RawServer()
    try:
        r = run([PY, "-c", PRELUDE + DIRECT, m.base("tp") + "/chat/completions"],
                env(m, config(m), extra=proxy_env(proxy.port)))
        eq(r.stdout.decode().split(" ")[:2], ["200", "backup"], f"the backup answered ({r.stderr.decode()[-200:]})")
        eq(len(m.requests("tp")), 1, "the primary was asked directly")
        eq(proxy.connections, 0, "nothing reached the proxy")
    finally:
        proxy.stop()


def test_a_reused_fd_serving_tls_gets_a_real_handshake():
    """A process that called its provider over https, then serves TLS on an
    accepted socket that got the same fd number: the server-side handshake
    is its own (a virtual session there would answer the client nothing)."""
    m = mock()
    script = """
import socket, ssl, subprocess, requests
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
ca, cert, key = sys.argv[2:5]
env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
cli = subprocess.Popen([sys.executable, "-c", "import ssl, socket, sys; c = ssl.create_default_context(cafile=sys.argv[1]); "
                        "s = c.wrap_socket(socket.create_connection(('127.0.0.1', int(sys.argv[2]))), server_hostname='localhost'); "
                        "s.sendall(b'ping'); print(s.recv(10).decode())", ca, str(srv.getsockname()[1])], env=env,
                       stdout=subprocess.PIPE, text=True)
s = requests.Session()
r = s.post(URL, data=body(), headers=HDRS, timeout=10)
fd = s.get_adapter("https://").poolmanager.connection_from_url(URL).pool.queue[-1].sock.fileno()
s.close()
c, _ = srv.accept()   # the lowest free fd: the provider connection's
reused = fd == c.fileno()
c.settimeout(5)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
try:
    t = ctx.wrap_socket(c, server_side=True)
    got = t.recv(10).decode()
    t.sendall(b"pong")
except Exception as e:
    got = type(e).__name__
print(r.status_code, reused, got, cli.communicate(timeout=10)[0].strip())
"""
    d = os.path.dirname(m.ca)
    r = py(m, script, config(m), m.ca, os.path.join(d, "server.pem"), os.path.join(d, "server.key"))
    eq(r.stdout.decode().split(), ["200", "True", "ping", "pong"], f"a real handshake ({r.stderr.decode()[-300:]})")


def test_connect_polled_again_keeps_its_redirect():
    """A client that polls a non-blocking connect by calling connect() again
    until EISCONN (Perl's IO::Socket, Ruby's connect_nonblock) keeps the
    redirect and its TLS mark: the session is still virtual and falls back."""
    m = mock()
    m.set("tp", behaviour="503")
    script = """
import errno, socket, ssl, time
host, port = URL.split("/")[2].split(":")
s = socket.socket()
s.setblocking(False)
rcs = []
for _ in range(500):
    rcs.append(s.connect_ex((host, int(port))))
    if rcs[-1] == errno.EISCONN:
        break
    time.sleep(0.005)
assert len(rcs) >= 2, rcs                 # connect() was called again
s.setblocking(True)
t = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"]).wrap_socket(s, server_hostname=host)
data = raw_chat(t, "again")
print(data.split(b"\\r\\n")[0].decode(), b"Hello from tb" in data)
"""
    r = py(m, script, config(m))
    eq(r.stdout.decode().split(), ["HTTP/1.1", "200", "OK", "True"], f"answered by the backup ({r.stderr.decode()[-300:]})")


def websocket_server(m):
    """A RawServer echoing WebSocket frames over TLS, with the mock's certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    d = os.path.dirname(m.ca)
    ctx.load_cert_chain(os.path.join(d, "server.pem"), os.path.join(d, "server.key"))
    return RawServer(websocket_echo, tls=ctx)


def websocket_run(m, raw, prog):
    """prog (a WEBSOCKET program) run against raw as a provider's realtime URL."""
    base = f"https://localhost:{raw.port}/v1"
    return py(m, prog, config(m, primary=base), url=base + "/realtime?model=gpt-4o-realtime")


def test_websocket_upgrades_are_tunnelled_over_https():
    """A WebSocket over a virtual TLS session (OpenAI's sync realtime client:
    websockets.sync on an ssl socket): the relay speaks TLS to the server
    itself, certificate checked, and carries the upgrade and the frames both
    ways as they are."""
    m = mock()
    raw = websocket_server(m)
    try:
        r = websocket_run(m, raw, PEERS + WEBSOCKET)
        check_websocket_tunnelled(r, raw)
        check_relayed(r, raw.port)
    finally:
        raw.stop()


def test_a_websocket_over_https_leaves_from_the_programs_address():
    """The same from a socket bound to an address of the program's choice
    (create_connection's source_address): the relay's own TLS connection to
    the server leaves from that address, as the program's would have."""
    m = mock()
    raw = websocket_server(m)
    try:
        bound = WEBSOCKET.replace("timeout=10)", 'timeout=10, source_address=("127.0.0.2", 0))', 1)
        check(bound != WEBSOCKET, "(the program binds its socket)")
        r = websocket_run(m, raw, PEERS + bound)
        check_websocket_tunnelled(r, raw)
        check_relayed(r, raw.port)
        eq(raw.peers, ["127.0.0.2"], "the relay's connection left from the program's address")
    finally:
        raw.stop()


HALF_CLOSE_TLS = TO_END + """
import socket, ssl
host, port = URL.split("/")[2].rsplit(":", 1)
s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
t = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"]).wrap_socket(s, server_hostname=host)
t.sendall(b"GET /v1/realtime HTTP/1.1\\r\\nHost: %s:%s\\r\\nUpgrade: raw\\r\\nConnection: Upgrade\\r\\n\\r\\n"
          b"PING hello\\n" % (host.encode(), port.encode()))
socket.socket(fileno=os.dup(t.fileno())).shutdown(socket.SHUT_WR)   # the connection's end of its sending
print(to_end(t))
"""


def test_a_tunnel_over_https_carries_the_programs_end_and_the_answer_after_it():
    """An upgrade over a virtual TLS session, tunnelled through the relay's
    own TLS: the program ends its sending (its connection's, as a virtual
    session's program can: its SSL_shutdown sends nothing) and reads on.
    The end goes on to the server as the end of the relay's connection
    (libcurl has no half-close of TLS: what the server would have had of
    a program that shut its socket), and the server's answer after it
    comes back. The tunnel ended at the program's end: it got nothing."""
    m = mock()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*mock_cert(m))
    raw = RawServer(half_close, tls=ctx)
    try:
        base = f"https://localhost:{raw.port}/v1"
        r = py(m, PEERS + HALF_CLOSE_TLS, config(m, primary=base), url=base + "/realtime")
        check_relayed(r, raw.port)
        eq(r.stdout.decode().strip(), "b'PONG:PING hello\\n'", f"the answer after the end ({r.stderr.decode()[-300:]})")
        eq([q.get("late") for q in raw.requests], [b"PING hello\n"], "what the program sent, to its end")
    finally:
        raw.stop()


def test_children_inherit_no_descriptor_of_the_library_over_https():
    """The relay's TLS connections to the providers (answered, fallen back)
    and the connect-only one it tunnels a WebSocket over are close-on-exec,
    as libcurl's wake-up pairs are: a child holds only the program's own
    inheritable socket (a virtual TLS session on it keeps its flag)."""
    m = mock()
    m.set("tp", behaviour=["ok", "ok", "503", "503"])
    script = CHILDREN + """
import http.client, socket, ssl, urllib.parse, urllib.request
u = urllib.parse.urlsplit(URL)
s = socket.socket()
s.set_inheritable(True)
s.connect(("127.0.0.1", u.port))
t = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"]).wrap_socket(s, server_hostname=u.hostname)
c = http.client.HTTPSConnection(u.hostname, u.port, timeout=10)
c.sock = t
def both(tag):
    r = urllib.request.urlopen(urllib.request.Request(URL, data=body(tag).encode(), headers=HDRS), timeout=10)
    r.read()
    c.request("POST", u.path, body=body(tag), headers=HDRS)
    k = c.getresponse()
    k.read()
    print("call", tag, r.status, r.headers.get("x-llmfallback-provider"), k.status, k.getheader("x-llmfallback-provider"), flush=True)
both("answered")
children("answered", [t])
both("fallback")
children("fallback", [t])
"""
    r = py(m, script, config(m))
    eq([l.split()[1:] for l in r.stdout.decode().splitlines() if l.startswith("call ")],
       [["answered", "200", "None", "200", "None"], ["fallback", "200", "backup", "200", "backup"]],
       f"the calls, answered then fallen back ({r.stderr.decode()[-300:]})")
    eq(len(m.requests("tp")), 4, "each reached the primary over the relay's TLS")
    check_children(r, ("answered", "fallback"))
    # a WebSocket tunnelled over TLS, with children started while it is open
    raw = websocket_server(m)
    try:
        echoed = 'print(recv_frame() == (1, b"hello"))\n'
        check(echoed in WEBSOCKET, "(the WebSocket program echoes its first frame)")
        r = websocket_run(m, raw, CHILDREN + WEBSOCKET.replace(echoed, echoed + 'children("tunnel")\n'))
        eq([l for l in r.stdout.decode().splitlines() if not l.startswith("tunnel ")],
           ["HTTP/1.1 101 Switching Protocols True", "True", "True", "8 True"],
           f"upgraded, echoed, closed ({r.stderr.decode()[-300:]})")
        check_children(r, ("tunnel",), what="a child during a tunnel")
    finally:
        raw.stop()


def test_a_signal_during_a_virtual_read_is_no_failure():
    """A program with a signal handler (Python installs its handlers without
    SA_RESTART) whose timer fires while it waits, on a blocking socket, for a
    slow answer: each interrupted read is "try again", as OpenSSL's socket BIO
    says, not a broken connection. The primary fails after its delay, so
    that only a session the library made virtual can be answered (by the
    backup)."""
    m = mock()
    m.set("tp", delay_ms=1500, behaviour="503")
    script = """
import http.client, signal, ssl
n = [0]
def tick(*a):
    n[0] += 1
signal.signal(signal.SIGALRM, tick)
signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
host, port = URL.split("/")[2].split(":")
c = http.client.HTTPSConnection(host, int(port), context=ssl.create_default_context())
c.request("POST", "/v1/chat/completions", body("s"), HDRS)
r = c.getresponse()
text = json.loads(r.read())["choices"][0]["message"]["content"]
signal.setitimer(signal.ITIMER_REAL, 0)   # (Python's exit gives SIGALRM its default again: it would kill)
print(r.status, r.headers.get("x-llmfallback-provider"), n[0] > 5, text)
"""
    r = py(m, script, config(m))
    eq(r.returncode, 0, f"exit ({r.stderr.decode()[-300:]})")
    out = r.stdout.decode().split(" ", 3)
    eq(out[:3], ["200", "backup", "True"], f"the backup's answer, through many signals ({r.stdout[:100]!r})")
    check(out[3].startswith("Hello from tb"), "its text")


def test_a_large_body_written_without_blocking_arrives_whole():
    """A program with a timeout (its socket non-blocking) writing an 8 MiB
    call: each SSL_write is all of it, or "want write" with the rest sent on
    the retry, as OpenSSL does it; every byte reaches the provider, through the relay
    (its attempt is logged: the library carried it)."""
    m = mock()
    log = new_log("big.log")
    script = """
import http.client, ssl
host, port = URL.split("/")[2].split(":")
c = http.client.HTTPSConnection(host, int(port), timeout=20, context=ssl.create_default_context())
big = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "x" * (8 << 20)}]})
c.request("POST", "/v1/chat/completions", big, HDRS)
r = c.getresponse()
print(r.status, len(big), json.loads(r.read())["choices"][0]["message"]["content"][:18])
"""
    r = py(m, script, config(m), log=log)
    eq(r.returncode, 0, f"exit ({r.stderr.decode()[-300:]})")
    status, n, text = r.stdout.decode().split(" ", 2)
    eq((status, text.strip()), ("200", "Hello from tp (gpt"), "the primary's answer")
    eq(len(m.requests("tp")[0]["body"]), int(n), "the whole body arrived")
    eq([(l["path"], l["status"]) for l in read_log(log) if l["event"] == "attempt"], [("ssl", 200)],
       "one attempt, on the TLS path")


def test_the_relay_speaks_http2_to_providers_that_offer_it():
    """Through the relay, as from curl: the program's own HTTPS is HTTP/1.1
    (a virtual session reports http/1.1), and the relay's libcurl speaks
    HTTP/2 to providers that offer it, as the real ones do; a 503 there falls
    back to a member also on HTTP/2."""
    from h2front import H2Front
    tm = mock()
    plain = Mock([{"name": "hp", "dialect": "openai", "key": KEYS["OPENAI_API_KEY"]},
                  {"name": "hb", "dialect": "openai", "key": KEYS["BACKUP_KEY"]}])
    d = os.path.dirname(tm.ca)
    pem, key = os.path.join(d, "server.pem"), os.path.join(d, "server.key")
    fp, fb = H2Front(plain.port("hp"), pem, key), H2Front(plain.port("hb"), pem, key)
    try:
        cfg = write_config({"providers": {
            "openai": {"base_url": f"https://localhost:{fp.port}/v1"},
            "backup": {"dialect": "openai", "base_url": f"https://localhost:{fb.port}/v1", "api_key_env": "BACKUP_KEY"}},
            "chain": ["backup/gpt-4o-mini"], "timeouts_ms": {"connect": 2000, "total": 5000}}, "h2.json")
        plain.set("hp", behaviour="503")
        r = py(tm, CLIENTS["requests"], cfg, url=f"https://localhost:{fp.port}/v1/chat/completions")
        out = r.stdout.decode().split(" ", 2)
        eq(out[:2], ["200", "backup"], f"the backup answered ({r.stderr.decode()[-300:]})")
        check(out[2].startswith("Hello from hb (gpt-4o-mini)"), "its answer")
        eq((len(plain.requests("hp")), len(plain.requests("hb"))), (1, 1), "the primary, then the backup")
        # (the primary also had the program's own handshake, which offers
        # http/1.1 only: Debian's urllib3 1.26 asks its peer, see
        # test_a_session_is_probed_only_when_its_program_asks)
        eq((set(fp.protocols) - {None}, set(fb.protocols)), ({"h2"}, {"h2"}), "the relay spoke HTTP/2 to both")
    finally:
        fp.stop()
        fb.stop()
        plain.stop()


AGAIN_H1 = """
import http.client, ssl, gc
def call(ctx):
    host, port = URL.split("/")[2].split(":")
    c = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)
    c.request("POST", "/v1/chat/completions", body("a"), HDRS)
    r = c.getresponse()
    print(r.status, r.getheader("x-llmfallback-provider"))
    r.read()
    c.close()
ctx = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
ctx.set_alpn_protocols(["h2"])
ctx.set_alpn_protocols(["http/1.1"])
call(ctx)
for i in range(20):   # (h2-only contexts freed, new ones made where they were)
    old = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    old.set_alpn_protocols(["h2"])
    del old
    gc.collect()
call(ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"]))
"""


def test_a_client_that_offers_http2_alone_gets_its_real_handshake():
    """A client whose ALPN offers h2 alone (an HTTP/2 client on Python's
    ssl, as grpclib's) will speak HTTP/2 only: the relay reads HTTP/1.1, so
    such a session is not made virtual. It gets its real handshake and the
    server's answer over HTTP/2, as without the library (no fallback); a
    virtual one had its preface answered with a 400. A client that offers
    HTTP/1.1 too (httpx's http2=True) still falls back."""
    from h2front import H2Front
    tm = mock()
    plain = Mock([{"name": "hp", "dialect": "openai", "key": KEYS["OPENAI_API_KEY"]},
                  {"name": "hb", "dialect": "openai", "key": KEYS["BACKUP_KEY"]}])
    d = os.path.dirname(tm.ca)
    fp = H2Front(plain.port("hp"), os.path.join(d, "server.pem"), os.path.join(d, "server.key"))
    h2_alone = """
import socket, ssl, h2.config, h2.connection, h2.events
ctx = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
ctx.set_alpn_protocols(["h2"])
host, port = URL.split("/")[2].split(":")
s = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=10), server_hostname=host)
c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
c.initiate_connection()
b = body("h").encode()
c.send_headers(1, [(":method", "POST"), (":path", "/v1/chat/completions"), (":scheme", "https"),
                   (":authority", host + ":" + port), ("authorization", HDRS["Authorization"]),
                   ("content-type", "application/json"), ("content-length", str(len(b)))])
c.send_data(1, b, end_stream=True)
s.sendall(c.data_to_send())
status, data, done = None, b"", False
while not done:
    got = s.recv(65536)
    if not got:
        break
    for ev in c.receive_data(got):
        if isinstance(ev, h2.events.ResponseReceived):
            status = dict(ev.headers)[b":status"].decode()
        elif isinstance(ev, h2.events.DataReceived):
            data += ev.data
            c.acknowledge_received_data(len(ev.data), ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            done = True
    s.sendall(c.data_to_send())
print(status, s.selected_alpn_protocol(), json.loads(data)["choices"][0]["message"]["content"])
"""
    both = """
import httpx
with httpx.Client(timeout=10, http2=True) as c:
    r = c.post(URL, content=body("h"), headers=HDRS)
print(r.status_code, r.http_version, r.headers.get("x-llmfallback-provider"), r.json()["choices"][0]["message"]["content"])
"""
    try:
        cfg = write_config({"providers": {
            "openai": {"base_url": f"https://localhost:{fp.port}/v1"},
            "backup": {"dialect": "openai", "base_url": plain.base("hb"), "api_key_env": "BACKUP_KEY"}},
            "chain": ["backup/gpt-4o-mini"], "timeouts_ms": {"connect": 2000, "total": 5000}}, "h2only.json")
        url = f"https://localhost:{fp.port}/v1/chat/completions"
        r = py(tm, h2_alone, cfg, url=url)
        eq(r.returncode, 0, f"exit ({r.stderr.decode()[-300:]})")
        out = r.stdout.decode().split(" ", 2)
        eq(out[:2], ["200", "h2"], "the server's own answer, over HTTP/2")
        check(out[2].startswith("Hello from hp"), f"from the provider it asked ({out})")
        plain.set("hp", behaviour="503")
        r = py(tm, both, cfg, url=url)
        out = r.stdout.decode().split(" ", 3)
        eq(out[:3], ["200", "HTTP/1.1", "backup"], f"offering HTTP/1.1 too: a fallback ({r.stderr.decode()[-300:]})")
        # a context whose list offers HTTP/1.1 again, and a new one made
        # where an h2-only one was freed, are no longer h2-only: fallback
        r = py(tm, AGAIN_H1, cfg, url=url)
        eq(r.stdout.decode().split(), ["200", "backup", "200", "backup"],
           f"a list set again, a context made anew ({r.stderr.decode()[-300:]})")
    finally:
        fp.stop()
        plain.stop()


TLS_RAW = """
import socket, ssl
ctx = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=5), server_hostname="localhost")
""" + SEND_READ_ALL


def test_a_head_too_long_for_the_relay_gets_a_status_not_a_reset():
    """A request head longer than the relay reads (64 KiB) over a virtual
    TLS session: no call, and a session that cannot be carried on to the
    server (the relay does not know the name to verify it by). The program
    gets 431, as from a server that will not read such a head, not a reset."""
    m = mock()
    big = "GET /big HTTP/1.1\r\nHost: localhost\r\nX-Big: " + "a" * 70000 + "\r\nConnection: close\r\n\r\n"
    r = run([PY, "-c", PRELUDE + PEERS + TLS_RAW, m.base("tp"), str(m.port("tp")), big], env(m, config(m)))
    check_relayed(r, m.port("tp"))
    check(r.stdout.startswith(b"HTTP/1.1 431 "), f"431, not a reset ({r.stdout[:100]!r})")


class PeekingServer(RawServer):
    """A RawServer over TLS that records, in .plaintext, the first bytes of
    any connection that begins with no TLS handshake: what a relay sent in
    the clear."""

    def __init__(self, answer, tls):
        self.plaintext = []
        super().__init__(answer, tls=tls)

    def _handle(self, c):
        c.settimeout(5)
        try:
            first = c.recv(1, socket.MSG_PEEK)
        except OSError:
            first = b""
        if first and first != b"\x16":
            time.sleep(0.3)
            self.plaintext.append(c.recv(65536, socket.MSG_PEEK))
            c.close()
            return
        super()._handle(c)


ABSOLUTE = """
import http.client, ssl
host, port = URL.split("/")[2].split(":")
ctx = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
for target in sys.argv[2:]:
    c = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)
    try:
        c.request("POST", target, body=body(), headers=HDRS)
        r = c.getresponse()
        d = r.read()
        print(r.status, r.getheader("x-llmfallback-provider") or "-", json.loads(d)["choices"][0]["message"]["content"]
              if r.status == 200 else d[:100])
    except Exception as e:
        print("failed", type(e).__name__, e)
    c.close()
"""


def test_an_absolute_form_target_goes_over_tls_whatever_its_scheme():
    """A program writes its call's target in absolute form over its TLS
    connection (HTTPSConnection.request("POST", "http://host:port/v1/...")),
    which a server must accept (RFC 9112 §3.2.2). Its request, key and
    prompt, goes to the server over TLS, for the path the target names, and
    never in the clear (an http:// target was sent as plain HTTP to the
    provider's TLS port); an https:// one (any case) is served too, where
    the relay answered 400. The provider's 200 reaches the program, and its
    503 falls back."""
    m = mock()
    d = os.path.dirname(m.ca)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "server.pem"), os.path.join(d, "server.key"))

    def answer(c, req):
        if req["target"].startswith("/v1/chat/") and "503" in req["target"]:
            body = b'{"error":{"message":"overloaded"}}'
            c.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            return True
        return took_it(c, req)

    raw = PeekingServer(answer, tls=ctx)
    try:
        p = raw.port
        base = f"https://localhost:{p}/v1"
        targets = [f"http://localhost:{p}/v1/chat/completions", f"HTTPS://localhost:{p}/v1/chat/completions",
                   f"hTTp://localhost:{p}/v1/chat/completions?503"]
        log = new_log("absolute-form.log")
        r = py(m, PEERS + ABSOLUTE, config(m, primary=base), *targets, url=base + "/chat/completions", log=log)
        check_relayed(r, p)
        eq(raw.plaintext, [], "nothing reached the server in the clear")
        eq(r.stdout.decode().splitlines(), ["200 - took it", "200 - took it", "200 backup Hello from tb (gpt-4o-mini) [rid:x]"],
           f"the server's answers, then the backup's ({r.stderr.decode()[-300:]})")
        got = [(q["target"], q["headers"].get("host"), q["headers"].get("authorization")) for q in raw.requests]
        want = (f"localhost:{p}", "Bearer " + KEYS["OPENAI_API_KEY"])
        eq(got, [("/v1/chat/completions",) + want, ("/v1/chat/completions",) + want,
                 ("/v1/chat/completions?503",) + want], "the server got each over TLS, for the target's path")
        eq([(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt"],
           [("openai", "ok"), ("openai", "ok"), ("openai", "http_error"), ("backup", "ok")], "the attempts")
    finally:
        raw.stop()


def test_a_head_passed_through_is_the_servers_own_over_https():
    """A non-LLM answer over a virtual session keeps the server's head byte
    for byte while the connection is kept (two requests on one session);
    a request that says Connection: close gets the server's head with
    Connection: close added, as the relay then closes (RFC 9112 §9.6: a
    server told close closes, and should say so)."""
    m = mock()
    d = os.path.dirname(m.ca)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "server.pem"), os.path.join(d, "server.key"))
    head = b"HTTP/1.1 200 OK\r\nServer: raw\r\nContent-Type: application/octet-stream\r\nX-Odd:  two  spaces\r\nContent-Length: 5"

    def answer(c, req):
        c.sendall(head + b"\r\n\r\nhello")
        return True

    raw = RawServer(answer, tls=ctx)
    try:
        p = raw.port
        get = f"GET /v1/files/x HTTP/1.1\r\nHost: localhost:{p}\r\n\r\n"
        r = run([PY, "-c", PRELUDE + PEERS + TLS_RAW, m.base("tp"), str(p), get + get.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")],
                env(m, config(m, primary=f"https://localhost:{p}/v1")))
        check_relayed(r, p)
        eq(r.stdout, head + b"\r\n\r\nhello" + head + b"\r\nConnection: close\r\n\r\nhello",
           "the server's head as it came, then with the close the program asked for")
    finally:
        raw.stop()


def test_an_early_answer_to_an_upload_reaches_the_program_over_https():
    """As over a plain socket (test_socket_path): a server's answer to an
    upload before its body's end (a 401 after the head) reaches the program
    whole over a virtual TLS session, and its Expect: 100-continue goes on
    to the server, which says whether the body comes."""
    m = mock()
    d = os.path.dirname(m.ca)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "server.pem"), os.path.join(d, "server.key"))
    for refuses in (True, False):
        raw = RawServer(unauthorized, tls=ctx, early=True) if refuses else RawServer(tls=ctx)
        try:
            base = f"https://localhost:{raw.port}/v1"
            r = py(m, PEERS + UPLOADS, config(m, primary=base), url=base + "/chat/completions", timeout=120)
            check_relayed(r, raw.port)
            check_uploads(r, raw, refuses)
        finally:
            raw.stop()


def test_trailers_are_carried_after_the_last_chunk_over_https():
    """Over a virtual TLS session as over a plain socket (test_socket_path):
    a chunked answer's trailers come after its last chunk, for the original
    failure after the member failed and for a good stream."""
    from rawserver import TRAILED_EVENTS, with_trailers
    from test_socket_path import dechunk
    m = mock()
    d = os.path.dirname(m.ca)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "server.pem"), os.path.join(d, "server.key"))
    key = f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}\r\n"
    for status, stream, want in (("503", False, b'{"error":{"message":"overloaded"}}'), ("200", True, TRAILED_EVENTS)):
        raw = RawServer(with_trailers(status), tls=ctx)
        try:
            m.reset_all()
            m.set("tb", behaviour="503")
            p = raw.port
            call = json.dumps({"model": "gpt-4o", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
            r = run([PY, "-c", PRELUDE + PEERS + TLS_RAW, m.base("tp"), str(p),
                     f"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost:{p}\r\n{key}Content-Type: application/json\r\n"
                     f"Content-Length: {len(call)}\r\nConnection: close\r\n\r\n{call}"],
                    env(m, config(m, primary=f"https://localhost:{p}/v1")))
            check_relayed(r, p)
            head, body, trailers = dechunk(r.stdout)
            check(head.startswith(b"HTTP/1.1 " + status.encode()) and b"\r\nTrailer: X-Tr, X-Sum" in head,
                  f"{status}: the primary's status and Trailer header ({r.stdout[:300]!r})")
            eq(body, want, f"{status}: its body")
            eq(trailers, b"X-Tr: trailer-value\r\nX-Sum: %d\r\n\r\n" % len(want), f"{status}: the trailers, after the last chunk")
            eq(len(m.requests("tb")), 1 if status == "503" else 0, f"{status}: the member asked")
        finally:
            raw.stop()


def test_a_name_whose_first_address_refuses_reaches_the_next_over_https():
    """test_socket_path's test of the same name, over TLS: localhost is ::1
    first (Debian's /etc/hosts), the server listens on 127.0.0.1 only. A
    virtual session's call and its other requests, and a tunnelled session
    (another SNI, on a name that resolves the same way), reach the server at
    the next address, as the program would have without the library."""
    m = mock()
    p = m.port("tp")
    hosts = DEBIAN_HOSTS + ["::1 other.llf.test", "127.0.0.1 other.llf.test"]
    script = PEERS + """
import hashlib, requests, ssl, urllib.request
base = URL.split("/v1/")[0]
r = requests.post(URL, data=body("a"), headers=HDRS, timeout=10)
print(r.status_code, r.headers.get("x-llmfallback-provider") or "-", r.json()["choices"][0]["message"]["content"].split()[2])
g = requests.get(base + "/_mock/blob?size=200000&seed=5", timeout=10)
print(g.status_code, len(g.content), hashlib.sha256(g.content).hexdigest())
ctx = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
ctx.check_hostname = False   # (the certificate names localhost; the SNI is other.llf.test)
t = urllib.request.urlopen(base.replace("localhost", "other.llf.test") + "/_mock/blob?size=100000&seed=6",
                           context=ctx, timeout=10).read()
print(len(t), hashlib.sha256(t).hexdigest())
"""
    argv = [PY, "-c", PRELUDE + script, m.base("tp") + "/chat/completions"]
    plain = run(with_hosts(hosts, argv), env_for(config(m), preload=False,
                                                 extra={"SSL_CERT_FILE": m.ca, "REQUESTS_CA_BUNDLE": m.ca}))
    eq(plain.stdout.decode().splitlines()[:1], ["200 - tp"], f"without the library ({plain.stderr.decode()[-300:]})")
    log = new_log("next-address-tls.log")
    r = run(with_hosts(hosts, argv), env(m, config(m), log))
    check_relayed(r, p)
    eq(r.stdout, plain.stdout, f"the same answers as without the library ({r.stderr.decode()[-300:]})")
    eq([(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt"], [("openai", "ok")],
       "one attempt, the primary's success")
    eq(len(m.requests("tb")), 0, "the backup was not asked")


# ---- the program's own trust ---------------------------------------------------

CA_VARS = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")

OWN_TRUST = """
import requests
VERIFY = {"cafile": os.environ["PROG_CA"], "none": False, "default": True}[sys.argv[2]]
try:
    r = requests.post(URL, data=body(), headers=HDRS, timeout=10, verify=VERIFY)
    print(r.status_code, r.headers.get("x-llmfallback-provider") or "-", r.text.replace("\\n", " ")[:200])
except requests.exceptions.RequestException as e:
    print("failed", type(e).__name__)
"""


_lib_ca = None


def lib_ca():
    """A CA of the library's own (config ca_bundle) that is not the mock's:
    small, so that no test waits for the system store to be read (slow in
    the sanitized pass)."""
    global _lib_ca
    if _lib_ca is None:
        d = tempfile.mkdtemp(prefix="lib-ca-")
        subprocess.run(["bash", os.path.join(ROOT, "tests/mock/mkcerts.sh"), d], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _lib_ca = os.path.join(d, "ca.pem")
    return _lib_ca


def own_config(m, primary=None, chain=("backup/gpt-4o-mini",), ca=None):
    return write_config({"providers": {
        "openai": {"base_url": primary or m.base("tp")},
        "backup": {"dialect": "openai", "base_url": m.base("tb"), "api_key_env": "BACKUP_KEY"}},
        "chain": list(chain), "ca_bundle": ca or lib_ca(), "timeouts_ms": {"connect": 2000, "total": 5000}},
        "tls-own.json")


def own_trust(m, verify, cfg, log=None, preload=True):
    """The program sets its trust in code (requests' verify=): no CA
    variable in its environment, and the library's own trust (cfg's
    ca_bundle, lib_ca unless a test says) does not know the mock's CA."""
    e = env_for(cfg, log, preload=preload, extra={"PROG_CA": m.ca})
    for k in CA_VARS:
        e.pop(k, None)
    return run([PY, "-c", PRELUDE + OWN_TRUST, m.base("tp") + "/chat/completions", verify], e)


def attempts(log):
    return [(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt"]


def test_the_programs_own_ca_verifies_its_provider():
    """requests' verify=CAFILE, ssl.create_default_context(cafile=...): the
    relay verifies the program's provider with the program's own trust
    store, as the program would, and the call is answered."""
    m = mock()
    alone = own_trust(m, "cafile", own_config(m), preload=False)
    eq(alone.stdout.decode().split()[:2], ["200", "-"], f"without the library ({alone.stderr.decode()[-300:]})")
    log = new_log("own-ca.log")
    r = own_trust(m, "cafile", own_config(m), log)
    eq(r.stdout.decode().split()[:2], ["200", "-"], f"the primary's own answer ({r.stderr.decode()[-300:]})")
    eq(attempts(log), [("openai", "ok")], "one attempt, verified and answered")


def test_a_program_that_verifies_nothing_reaches_its_provider():
    """verify=False (ssl.CERT_NONE, check_hostname off): a self-hosted
    server whose certificate nobody trusts. The program's original attempt
    does not verify either; it gets its answer."""
    m = mock()
    log = new_log("own-none.log")
    r = own_trust(m, "none", own_config(m), log)
    eq(r.stdout.decode().split()[:2], ["200", "-"], f"the primary's own answer ({r.stderr.decode()[-300:]})")
    eq(attempts(log), [("openai", "ok")], "one attempt, answered")
    # nor its host name (the certificate names localhost)
    base = f"https://self.llf.test:{m.port('tp')}/v1"
    e = env_for(own_config(m, primary=base), preload=True, extra={"PROG_CA": m.ca})
    for k in CA_VARS:
        e.pop(k, None)
    r = run(with_hosts(DEBIAN_HOSTS + ["127.0.0.1 self.llf.test"],
                       [PY, "-c", PRELUDE + OWN_TRUST, base + "/chat/completions", "none"]), e)
    eq(r.stdout.decode().split()[:2], ["200", "-"], f"another name: answered ({r.stderr.decode()[-300:]})")


def test_members_keep_the_librarys_trust():
    """A fallback from a call verified with the program's trust (or none):
    the member is verified with the library's own trust, which does not know
    the mock's CA: it is not used, and the program gets its original 503.
    With the CA in the library's configuration the member answers."""
    m = mock()
    for verify in ("cafile", "none"):
        m.reset_all()
        m.set("tp", behaviour="503")
        log = new_log(f"own-{verify}-member.log")
        r = own_trust(m, verify, own_config(m), log)
        eq(r.stdout.decode().split()[:2], ["503", "-"], f"{verify}: the original failure ({r.stderr.decode()[-300:]})")
        eq(len(m.requests("tb")), 0, f"{verify}: nothing reached the untrusted member")
        got = [(l["provider"], l["outcome"], l.get("reason")) for l in read_log(log) if l["event"] == "attempt"]
        eq([g[:2] for g in got], [("openai", "http_error"), ("backup", "transport_error")],
           f"{verify}: the member's attempt failed ({got})")
        check("tls" in str(got[1][2]) or "certificate" in str(got[1][2]).lower(),
              f"{verify}: at its certificate ({got[1]})")
    m.reset_all()
    m.set("tp", behaviour="503")
    r = own_trust(m, "none", own_config(m, ca=m.ca))
    eq(r.stdout.decode().split()[:2], ["200", "backup"], f"a member the library trusts answers ({r.stderr.decode()[-300:]})")


def test_a_relative_ca_bundle_holds_after_a_chdir():
    """A ca_bundle written relative to where the program starts is read by
    libcurl at each new connection to a member: after the program's
    chdir("/"), the member's first connection still finds it."""
    m = mock()
    m.set("tp", behaviour=["ok", "503"])
    cfg = own_config(m, ca=os.path.relpath(m.ca))
    e = env_for(cfg, extra={"PROG_CA": m.ca})
    for k in CA_VARS:
        e.pop(k, None)
    script = """
import requests
def one():
    r = requests.post(URL, data=body(), headers=HDRS, timeout=10, verify=os.environ["PROG_CA"])
    print(r.status_code, r.headers.get("x-llmfallback-provider") or "-")
one()
os.chdir("/")
one()
"""
    r = run([PY, "-c", PRELUDE + script, m.base("tp") + "/chat/completions"], e)
    eq(r.stdout.decode().split("\n")[:2], ["200 -", "200 backup"],
       f"the primary, then the member after the chdir ({r.stderr.decode()[-300:]})")
    eq(m.requests("tb")[0]["credential"] if m.requests("tb") else None, KEYS["BACKUP_KEY"], "the member was asked")


def test_a_program_with_default_trust_still_refuses_an_unknown_ca():
    """The program's default trust (CERT_REQUIRED, the system store) does not
    know the mock's CA: alone it fails at the handshake; with the library its
    request reaches no server it would not trust, and it gets a failure, not
    an answer."""
    m = mock()
    alone = own_trust(m, "default", own_config(m, chain=()), preload=False)
    eq(alone.stdout.decode().split()[0], "failed", f"without the library ({alone.stdout!r})")
    log = new_log("own-default.log")
    r = own_trust(m, "default", own_config(m, chain=()), log)
    eq(r.stdout.decode().split()[0], "failed", f"with the library ({r.stdout!r} {r.stderr.decode()[-300:]})")
    eq(len(m.requests("tp")), 0, "the request never reached the unverified server")
    got = [(l["provider"], l["outcome"], l.get("reason")) for l in read_log(log) if l["event"] == "attempt"]
    eq([g[:2] for g in got], [("openai", "transport_error")], f"the original attempt failed ({got})")


def test_a_connection_verified_under_one_trust_serves_no_other():
    """One process, one call after the other (each its own connection to
    the relay, served by the same parked thread and its libcurl handle):
    the first verified with the program's CA, the second with the default
    trust, which does not know that CA. The second must not ride the
    connection the first left open: it fails as it would alone."""
    m = mock()
    script = """
import requests
for verify in (os.environ["PROG_CA"], True, False, True):
    try:
        r = requests.post(URL, data=body(), headers=HDRS, timeout=10, verify=verify)
        print(r.status_code, end=" ")
    except requests.exceptions.RequestException as e:
        print("failed", end=" ")
"""
    outs = []
    for preload in (False, True):
        e = env_for(own_config(m, chain=()), preload=preload, extra={"PROG_CA": m.ca})
        for k in CA_VARS:
            e.pop(k, None)
        outs.append(run([PY, "-W", "ignore", "-c", PRELUDE + script, m.base("tp") + "/chat/completions"], e))
    eq(outs[0].stdout.decode().split(), ["200", "failed", "200", "failed"], f"without the library ({outs[0].stderr.decode()[-300:]})")
    eq(outs[1].stdout, outs[0].stdout, f"the same with it ({outs[1].stderr.decode()[-300:]})")


def test_a_child_that_takes_a_connection_over_uses_the_librarys_trust():
    """A call on a session verified with the program's CA, fork(), the
    parent leaves; the child goes on with the session, and its relay takes
    the connection over. The trust kept is the parent's (its store's state
    at the fork is not the child's to rely on): the child's relay verifies
    with the library's own, here configured to know the CA."""
    m = mock()
    cfg = own_config(m, chain=(), ca=m.ca)
    prog = """
import requests, time
s = requests.Session()
s.verify = os.environ["PROG_CA"]
def call(tag):
    try:
        r = s.post(URL, data=body(tag), headers=HDRS, timeout=5)
        return "%d %s" % (r.status_code, r.json()["choices"][0]["message"]["content"].split()[2])
    except Exception as e:
        return type(e).__name__
print("parent", call("p"), flush=True)
time.sleep(1.0 if LLF_SAN else 0.2)
if os.fork():
    os._exit(0)
time.sleep(0.5)
print("child", os.getpid(), call("c"), flush=True)
""".replace("LLF_SAN", "True" if SANITIZED else "False")
    log = new_log("tls-fork.log")
    e = env_for(cfg, log, extra={"PROG_CA": m.ca})
    for k in CA_VARS:
        e.pop(k, None)
    r = run([PY, "-c", PRELUDE + PEERS + prog, m.base("tp") + "/chat/completions"], e, timeout=30)
    lines = r.stdout.decode().splitlines()
    eq(len(lines), 2, f"parent and child ({r.stderr.decode()[-300:]})")
    eq(lines[0], "parent 200 tp", "the parent's call")
    child = lines[1].split(" ", 2)
    eq(child[2], "200 tp", "the child's call, on the same connection")
    check_relayed(r, m.port("tp"), "the connection")
    steps = [(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt" and l["pid"] == int(child[1])]
    eq(steps, [("openai", "ok")], "the child's relay ran its call")


def test_a_websocket_is_verified_with_the_programs_trust():
    """A WebSocket over a virtual session whose program trusts the server's
    CA in code only (no CA variable): the relay's own TLS to the server for
    the tunnel verifies with that trust, and the upgrade goes through."""
    m = mock()
    raw = websocket_server(m)
    try:
        base = f"https://localhost:{raw.port}/v1"
        e = env_for(own_config(m, primary=base), extra={"PROG_CA": m.ca})
        for k in CA_VARS:
            e.pop(k, None)
        prog = PEERS + WEBSOCKET.replace('os.environ["SSL_CERT_FILE"]', 'os.environ["PROG_CA"]')
        r = run([PY, "-c", PRELUDE + prog, base + "/realtime?model=gpt-4o-realtime"], e)
        check_websocket_tunnelled(r, raw)
        check_relayed(r, raw.port)
    finally:
        raw.stop()


def test_calls_under_one_trust_share_the_providers_connection():
    """The calls of one session verified with the program's CA go over one
    connection of the relay's to the provider, kept alive; another session
    (another trust, though the same CA) gets a connection of its own."""
    m = mock()
    script = """
import requests
for n in (3, 2):
    s = requests.Session()
    s.verify = os.environ["PROG_CA"]
    print(*[s.post(URL, data=body(), headers=HDRS, timeout=10).status_code for i in range(n)])
    s.close()
"""
    e = env_for(own_config(m, chain=()), extra={"PROG_CA": m.ca})
    for k in CA_VARS:
        e.pop(k, None)
    r = run([PY, "-c", PRELUDE + script, m.base("tp") + "/chat/completions"], e)
    eq(r.stdout.decode().splitlines(), ["200 200 200", "200 200"], f"every call answered ({r.stderr.decode()[-300:]})")
    conns = [q["conn"] for q in m.requests("tp") if q["path"].endswith("/chat/completions")]
    eq(len(conns), 5, "five calls reached the provider")
    eq((len(set(conns[:3])), len(set(conns[3:])), conns[0] != conns[3]), (1, 1, True),
       f"one connection per session ({conns})")


# ---- what a program is told of its peer ----------------------------------------
def tls_server(pem, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pem, key)
    return RawServer(tls=ctx)


def mock_cert(m):
    d = os.path.dirname(m.ca)
    return os.path.join(d, "server.pem"), os.path.join(d, "server.key")


def self_signed():
    """A certificate for localhost that no CA vouches for: (pem, key)."""
    d = tempfile.mkdtemp(prefix="selfsigned-", dir=tmpdir())
    pem, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", pem, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    return pem, key


def test_a_virtual_session_answers_openssls_api_as_a_real_one():
    """sslapi, a C client, asks of its session what programs ask: its
    peer's address (connected with a sockaddr_storage's length), writes
    and reads of nothing, the handshake's state, a key update, SSL_want
    and SSL_get_error after a call that succeeded; and it leaves the
    handshake to its first write. Each answer is the one OpenSSL gives
    without the library. Before: getpeername named the relay, a read of
    nothing said the server had ended, SSL_write_ex of nothing failed
    (Python's send(b"") raised), SSL_get_error said the last I/O's want
    after a success, SSL_in_init and SSL_get_state said "before the
    handshake" (a loop on SSL_in_init never ended), SSL_want_read said no
    and the key update failed; and a session whose handshake came with its
    first write went to the failing provider, with no fallback."""
    m = mock()
    m.set("tp", behaviour="503")
    cfg = config(m)
    said = ["SSL_write of none: 0 SYSCALL", "SSL_write_ex of none: 1 written 0 NONE",
            "SSL_in_init 0 SSL_is_init_finished 1 SSL_get_state 1", "SSL_key_update 1",
            "non-blocking SSL_read: -1 WANT_READ SSL_want_read 1", "SSL_do_handshake after it: 1 NONE",
            "SSL_write of the call: 1 NONE", "SSL_read of none: 0 SYSCALL shutdown 0"]
    for how, first in (("implicit", []), ("connect", ["SSL_connect: 1 NONE"])):
        out = {}
        for preload in (False, True):
            log = new_log("sslapi.log")
            r = run([os.path.join(BUILD, "progs/sslapi"), str(m.port("tp")), "localhost", how],
                    env_for(cfg, log, preload=preload, extra={"SSL_CERT_FILE": m.ca}))
            out[preload] = r.stdout.decode().splitlines()
            eq(r.returncode, 0, f"{how}, {'with' if preload else 'without'} the library: exit ({r.stderr.decode()[-300:]})")
        eq(out[False][:-1], ["getpeername: the port asked 1"] + first + said, f"{how}: what OpenSSL says without the library")
        eq(out[True][:-1], out[False][:-1], f"{how}: the same with it")
        eq((out[False][-1], out[True][-1]), ("HTTP/1.1 503 Service Unavailable", "HTTP/1.1 200 OK"),
           f"{how}: the failing provider's answer, and with the library the backup's")
        eq([a["provider"] for a in read_log(log) if a.get("event") == "attempt"], ["openai", "backup"], f"{how}: the attempts")


def test_a_program_that_checks_its_peer_itself_refuses_an_untrusted_one():
    """peercheck (SSL_VERIFY_NONE, then its own check of
    SSL_get_verify_result and X509_check_host) against its provider's
    self-signed certificate, which the CA it loaded does not know: it is
    told what the server showed (18, self-signed) and refuses, as without
    the library, and the server gets no key (it was told "verified" by a
    made-up certificate, and sent it). With that certificate as its CA it
    sends, and its call is answered by that server."""
    m = mock()
    pem, key = self_signed()
    raw = tls_server(pem, key)
    try:
        cfg = config(m, primary=f"https://localhost:{raw.port}/v1", chain=())
        for ca, want in ((m.ca, ["verify=18 host=1 issuer=/CN=localhost", "refused"]),
                         (pem, ["verify=0 host=1 issuer=/CN=localhost", "HTTP/1.1 200 OK"])):
            for preload in (False, True):
                raw.requests.clear()
                r = run([os.path.join(BUILD, "progs/peercheck"), "localhost", str(raw.port), ca],
                        env_for(cfg, preload=preload))
                what = f"{'with' if preload else 'without'} the library, CA {os.path.basename(ca)}"
                eq(r.stdout.decode().splitlines(), want, f"{what} ({r.stderr.decode()[-300:]})")
                keyed = [q for q in raw.requests if KEYS["OPENAI_API_KEY"] in q["head"]]
                eq(len(keyed), 0 if want[1] == "refused" else 1, f"{what}: requests with the key")
    finally:
        raw.stop()


def test_a_program_that_verifies_with_code_of_its_own_gets_its_real_handshake():
    """peercheck with SSL_VERIFY_PEER and code of its own deciding: a verify
    callback or a cert-verify callback that refuses a server its CA file
    trusts, a verify callback that accepts a self-signed one; the same with
    the callback on its store (X509_STORE_set_verify_cb), which finds its
    own object through the session's app data. The relay cannot run the
    program's code: such a session was made virtual and vouched for, so the
    refusing program sent its key where it would not have, and the
    accepting one lost its answer; a store's callback ran in the relay on
    libcurl's session (a program that follows its app data there crashes).
    It now gets its real handshake, tunnelled (no fallback), and decides as
    without the library."""
    m = mock()
    pem, key = self_signed()
    raw = tls_server(pem, key)
    try:
        cfg = config(m, primary=f"https://localhost:{raw.port}/v1", chain=())
        for mode, ca, want in (("vcb-reject", pem, "handshake failed"), ("cvcb-reject", pem, "handshake failed"),
                               ("vcb-accept", m.ca, "HTTP/1.1 200 OK"), ("scb-reject", pem, "handshake failed"),
                               ("scb-accept", m.ca, "HTTP/1.1 200 OK")):
            for preload in (False, True):
                raw.requests.clear()
                r = run([os.path.join(BUILD, "progs/peercheck"), "localhost", str(raw.port), ca, mode],
                        env_for(cfg, preload=preload))
                what = f"{mode} {'with' if preload else 'without'} the library"
                eq(r.stdout.decode().splitlines(), [want], f"{what} ({r.stderr.decode()[-300:]})")
                keyed = [q for q in raw.requests if KEYS["OPENAI_API_KEY"] in q["head"]]
                eq(len(keyed), 1 if want.startswith("HTTP") else 0, f"{what}: requests with the key")
    finally:
        raw.stop()


def test_a_programs_callback_may_ask_its_session_during_the_probe():
    """peercheck (SSL_VERIFY_NONE, its own check after the handshake) with
    an info callback that asks its own session, found through its app data,
    for the cipher when a handshake is done. With the library the session
    is virtual, and the real handshake is the probe's, made when the
    program first asks of its peer: the callback runs in it and asks the
    program's session, whose answer is the probe's. It hung for ever (the
    probe's lock, held by this very thread). It is told the cipher, and its
    call goes on, as without the library."""
    m = mock()
    raw = tls_server(*mock_cert(m))
    try:
        cfg = config(m, primary=f"https://localhost:{raw.port}/v1", chain=())
        got = {}
        for preload in (False, True):
            r = run([os.path.join(BUILD, "progs/peercheck"), "localhost", str(raw.port), m.ca, "info"],
                    env_for(cfg, preload=preload), timeout=20)
            got[preload] = r.stdout.decode().splitlines()
            what = "with" if preload else "without"
            eq(r.returncode, 0, f"{what} the library: ended ({got[preload]}, {r.stderr.decode()[-300:]})")
        eq(got[True], got[False], "as without the library")
        check(got[True][0].startswith("info cipher TLS_") and got[True][-1] == "HTTP/1.1 200 OK", f"{got[True]}")
    finally:
        raw.stop()


def test_a_program_is_shown_its_servers_own_certificate():
    """A program pinning its provider's certificate (getpeercert's DER) as
    its only check (CERT_NONE: the pin is its trust), and asking cipher()
    and version(), gets what the server itself showed, as without the
    library, and its call goes on (getpeercert(True) raised, and cipher()
    was None). A program that verifies as well is shown a stand-in without
    a probe (see test_a_verifying_program_that_also_pins_refuses_the_stand_in)."""
    m = mock()
    script = """
import hashlib, socket, ssl
host, port = URL.split("/")[2].split(":")
ctx = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=10), server_hostname=host)
print(hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest(), s.getpeercert(), s.cipher(), s.version())
print(raw_chat(s, "pin").split(b"\\r\\n")[0].decode())
"""
    argv = [PY, "-c", PRELUDE + script, m.base("tp") + "/chat/completions"]
    plain = run(argv, env_for(config(m), preload=False, extra={"SSL_CERT_FILE": m.ca}))
    with open(mock_cert(m)[0]) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    eq(plain.stdout.decode().split(" ")[0], sha(der), f"without the library ({plain.stderr.decode()[-300:]})")
    r = py(m, script, config(m))
    eq(r.stdout, plain.stdout, f"what the program saw, as without the library ({r.stderr.decode()[-300:]})")
    eq(len(m.requests("tp")), 2, "the call reached the server (with the control's)")


# ---- the program's own TLS settings -------------------------------------------

_pki = None


def pki():
    """A CA that revokes, with its leaves (tests/mock/mkpki.sh)."""
    global _pki
    if _pki is None:
        d = tempfile.mkdtemp(prefix="pki-")
        subprocess.run(["bash", os.path.join(ROOT, "tests/mock/mkpki.sh"), d], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _pki = d
    return _pki


def pki_server(cert="good", answer=None, client_certs=None, **versions):
    """A RawServer over TLS with pki()'s cert; client_certs: ssl.CERT_REQUIRED
    or CERT_OPTIONAL (issued by pki()'s CA), each request's as its "client";
    versions: minimum_version/maximum_version, ciphers."""
    from rawserver import took_it
    d = pki()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, cert + ".pem"), os.path.join(d, cert + ".key"))
    if client_certs is not None:
        ctx.verify_mode = client_certs
        ctx.load_verify_locations(os.path.join(d, "ca.pem"))
    ciphers = versions.pop("ciphers", None)
    if ciphers:
        ctx.set_ciphers(ciphers)
    for k, v in versions.items():
        setattr(ctx, k, v)

    def recorded(c, req):
        req["client"] = dict(x[0] for x in c.getpeercert().get("subject", ())) if c.getpeercert() else None
        return (answer or took_it)(c, req)
    return RawServer(recorded, tls=ctx)


def failing_503(c, req):
    body = b'{"error":{"message":"overloaded","type":"server_error"}}'
    c.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
              % (len(body), body))
    return True


OWN_TLS = """
import http.client, ssl, urllib.parse
MODE, PKI = sys.argv[2], os.environ["PROG_PKI"]
u = urllib.parse.urlsplit(URL)
def ctx():
    c = ssl.create_default_context(cafile=PKI + ("/ca_crl.pem" if MODE == "crl" else "/ca.pem"))
    if MODE == "crl":
        c.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    if MODE == "min13":
        c.minimum_version = ssl.TLSVersion.TLSv1_3
    if MODE == "chacha":
        c.maximum_version = ssl.TLSVersion.TLSv1_2
        c.set_ciphers("ECDHE-RSA-CHACHA20-POLY1305")
    return c
try:
    if MODE in ("cert", "cert-none", "host"):
        import requests
        kw = {"cert": (PKI + "/client.pem", PKI + "/client.key")} if MODE.startswith("cert") else {}
        h = dict(HDRS, Host="other.llf.test:%d" % u.port) if MODE == "host" else HDRS
        r = requests.post(URL, data=body(), headers=h, timeout=10, verify=False if MODE == "cert-none" else PKI + "/ca.pem", **kw)
        print(r.status_code, r.headers.get("x-llmfallback-provider") or "-")
    else:
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx(), timeout=10)
        conn.request("POST", u.path, body=body(), headers=HDRS)
        r = conn.getresponse()
        r.read()
        print(r.status, r.getheader("x-llmfallback-provider") or "-")
except Exception as e:
    print("failed", type(e).__name__)
"""


def own_tls(raw, mode, member=None, preload=True, log=None, ca=None):
    """OWN_TLS in mode against raw as the program's provider (member: a
    RawServer as "backup", the chain's one entry); the library's own trust
    is lib_ca() unless ca; no CA variable."""
    cfg = {"providers": {"openai": {"base_url": f"https://localhost:{raw.port}/v1"}},
           "chain": [], "ca_bundle": ca or lib_ca(), "timeouts_ms": {"connect": 2000, "total": 5000}}
    if member:
        cfg["providers"]["backup"] = {"dialect": "openai", "base_url": f"https://localhost:{member.port}/v1",
                                      "api_key_env": "BACKUP_KEY"}
        cfg["chain"] = ["backup/gpt-4o-mini"]
    e = env_for(write_config(cfg, "tls-settings.json"), log, preload=preload, extra={"PROG_PKI": pki()})
    for k in CA_VARS:
        e.pop(k, None)
    return run([PY, "-W", "ignore", "-c", PRELUDE + PEERS + OWN_TLS, f"https://localhost:{raw.port}/v1/chat/completions",
                mode], e)


def check_refused_alike(raw, mode, what, attempt=True):
    """The program refuses raw's handshake alone; with the library its
    request reaches raw no more than without it (attempt: a call, logged as
    one attempt failed; else a request the relay passes on unlogged)."""
    alone = own_tls(raw, mode, preload=False)
    eq(alone.stdout.decode().split()[:1], ["failed"], f"{what}: refused without the library ({alone.stdout!r})")
    log = new_log(f"tls-settings-{mode}.log")
    r = own_tls(raw, mode, log=log)
    check_relayed(r, raw.port)
    eq(r.stdout.decode().split()[:1], ["failed"], f"{what}: refused with it ({r.stdout!r} {r.stderr.decode()[-300:]})")
    eq(raw.requests, [], f"{what}: no request reached the server")
    eq([(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt"],
       [("openai", "transport_error")] if attempt else [], f"{what}: the one attempt failed at its handshake")


def test_a_certificate_the_programs_crl_revokes_is_refused():
    """The program's CA file carries a CRL and it checks the leaf against it
    (VERIFY_CRL_CHECK_LEAF, in its SSL's verify parameters): the relay
    checks as it would, and a provider whose certificate is revoked gets no
    request; one whose certificate is not revoked answers."""
    raw = pki_server("revoked")
    try:
        check_refused_alike(raw, "crl", "revoked")
    finally:
        raw.stop()
    raw = pki_server("good")
    try:
        r = own_tls(raw, "crl")
        eq(r.stdout.decode().split(), ["200", "-"], f"not revoked: answered ({r.stderr.decode()[-300:]})")
        eq(len(raw.requests), 1, "the provider was asked")
    finally:
        raw.stop()


def test_a_session_is_probed_only_when_its_program_asks():
    """urllib, httpx and Debian's requests (urllib3 1.26, which asks
    getpeercert() and version() on every connection, its own name check)
    with their default settings make no probe: their server sees one
    connection per call, the relay's (requests's version() probed, two
    connections per call). A program that asks (getpeercert twice, cipher) costs it one
    more connection, once."""
    m = mock()
    raw = tls_server(*mock_cert(m))
    ask = """
import socket, ssl
host, port = URL.split("/")[2].split(":")
ctx = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=10), server_hostname=host)
s.getpeercert(), s.getpeercert(True), s.cipher()
print(raw_chat(s, "ask").split(b" ")[1].decode())
"""
    scripts = {"urllib": """
import urllib.request
print(urllib.request.urlopen(urllib.request.Request(URL, data=body().encode(), headers=HDRS), timeout=10).status)
""", "httpx": """
import httpx
print(httpx.post(URL, content=body(), headers=HDRS, timeout=10).status_code)
""", "requests": """
import requests   # Debian's, on urllib3 1.26: getpeercert() and version() on every connection
s = requests.Session()
print(*{s.post(URL, data=body(), headers={**HDRS, "Connection": "close"}, timeout=10).status_code for _ in range(2)})
""", "asks": ask}
    try:
        cfg = config(m, primary=f"https://localhost:{raw.port}/v1", chain=())
        for name, script in scripts.items():
            before = raw.connections
            r = py(m, script, cfg, url=f"https://localhost:{raw.port}/v1/chat/completions")
            eq(r.stdout.decode().split(), ["200"], f"{name}: answered ({r.stderr.decode()[-300:]})")
            eq(raw.connections - before, {"asks": 2, "requests": 2}.get(name, 1), f"{name}: the server's connections")
    finally:
        raw.stop()


def test_the_programs_tls_versions_and_ciphers_hold():
    """A program that will not speak below TLS 1.3, against a provider that
    speaks no higher than 1.2; one that allows one TLS 1.2 cipher only,
    against a provider with another: each refused as the program refuses it,
    not made over what the relay's libcurl would allow."""
    raw = pki_server(maximum_version=ssl.TLSVersion.TLSv1_2)
    try:
        check_refused_alike(raw, "min13", "version pin")
    finally:
        raw.stop()
    raw = pki_server(maximum_version=ssl.TLSVersion.TLSv1_2, ciphers="AES128-SHA")
    try:
        check_refused_alike(raw, "chacha", "cipher pin")
    finally:
        raw.stop()


def test_the_programs_client_certificate_goes_to_its_own_provider_only():
    """mTLS: a provider that requires a client certificate gets the
    program's (requests' cert=, with verify= or verify=False); a member,
    which asks for one, is shown none: the program's certificate is for its
    own provider."""
    raw = pki_server(client_certs=ssl.CERT_REQUIRED)
    member = pki_server(client_certs=ssl.CERT_OPTIONAL)
    try:
        alone = own_tls(raw, "cert", preload=False)
        eq(alone.stdout.decode().split(), ["200", "-"], f"without the library ({alone.stderr.decode()[-300:]})")
        for mode in ("cert", "cert-none"):
            raw.requests.clear()
            r = own_tls(raw, mode, member)
            check_relayed(r, raw.port)
            eq(r.stdout.decode().split(), ["200", "-"], f"{mode}: the provider answered ({r.stderr.decode()[-300:]})")
            eq([q["client"] for q in raw.requests], [{"commonName": "client1"}], f"{mode}: it was shown the certificate")
        raw.stop()
        raw = pki_server(answer=failing_503, client_certs=ssl.CERT_REQUIRED)
        r = own_tls(raw, "cert", member, ca=os.path.join(pki(), "ca.pem"))
        eq(r.stdout.decode().split(), ["200", "backup"], f"the member answered the 503 ({r.stderr.decode()[-300:]})")
        eq([q["client"] for q in raw.requests], [{"commonName": "client1"}], "the provider was shown the certificate")
        eq([q["client"] for q in member.requests], [None], "the member was shown none")
    finally:
        raw.stop()
        member.stop()


def test_the_name_checked_is_the_one_the_program_checks():
    """requests to https://localhost with its own Host header naming
    other.llf.test, against a certificate valid for other.llf.test only:
    the program checks the certificate against localhost (its SNI) and
    refuses it; the relay, whose URL names the Host header's host, checks
    the program's name too, and refuses it alike. (A URL of a host no
    provider has: the relay passes the request on, not as a call.)"""
    raw = pki_server("other")
    try:
        check_refused_alike(raw, "host", "a certificate for the Host header's name", attempt=False)
    finally:
        raw.stop()


def test_a_verifying_program_that_also_pins_refuses_the_stand_in():
    """A program that verifies its provider (CERT_REQUIRED) is shown a
    stand-in certificate without a probe: the relay verifies the real one
    with the program's trust before anything is sent, and a probe would
    cost every verified connection (Debian's urllib3 1.26 asks getpeercert()
    on each) a handshake, and a blackholed provider its whole wait. A pin on
    top of that fails closed: the program refuses, nothing reaches the
    server, and the server saw no probe."""
    m = mock()
    raw = tls_server(*mock_cert(m))
    script = """
import socket, ssl
host, port = URL.split("/")[2].split(":")
ctx = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
s = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=10), server_hostname=host)
try:
    s.getpeercert(True)
    print("not refused")
except ssl.SSLError:
    print("refused")
print(s.getpeercert()["subject"])
"""
    try:
        cfg = config(m, primary=f"https://localhost:{raw.port}/v1", chain=())
        before = raw.connections
        r = py(m, script, cfg, url=f"https://localhost:{raw.port}/v1/chat/completions")
        eq(r.stdout.decode().split("\n")[0], "refused", f"the pin fails closed ({r.stderr.decode()[-300:]})")
        eq(r.stdout.decode().split("\n")[1], "((('commonName', 'localhost'),),)", "the stand-in names the host")
        eq(raw.connections - before, 0, "no probe, no request")
    finally:
        raw.stop()


def test_a_pin_holds_when_the_relays_libcurl_is_on_another_tls_library():
    """A program that verifies its provider with its own CA (the mock's)
    and asks its session's cipher, so its peer is probed and its key pinned,
    in a process whose libcurl is GnuTLS's (the relay's libcurl is then not
    on the program's OpenSSL: the program's request is verified with the
    library's trust, here pki()'s CA, as the README says). The server shows
    the mock's certificate to the probe and pki()'s, another key, after it:
    the relay refuses it, and the program's key never reaches it. (The pin
    was dropped with the program's trust, and the key went to the server
    the program would not have trusted.)"""
    if not os.path.exists("/usr/lib/x86_64-linux-gnu/libcurl-gnutls.so.4"):
        raise Skipped("no libcurl-gnutls.so.4 (scripts/install-deps installs libcurl3-gnutls)")
    m = mock()
    first = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    first.load_cert_chain(*mock_cert(m))
    later = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    later.load_cert_chain(os.path.join(pki(), "good.pem"), os.path.join(pki(), "good.key"))
    shown = []

    def pick(sock, name, ctx):   # (the probe's connection first, then the relay's)
        shown.append(name)
        if len(shown) > 1:
            sock.context = later
    first.sni_callback = pick
    raw = RawServer(tls=first)
    script = """
import ctypes, socket, ssl
ctypes.CDLL("libcurl-gnutls.so.4", mode=os.RTLD_GLOBAL)
host, port = URL.split("/")[2].split(":")
ctx = ssl.create_default_context(cafile=os.environ["PROG_CA"])
s = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=60), server_hostname=host)
print(s.cipher()[0].startswith("TLS_"))
try:
    print(raw_chat(s, "pin").split(b" ")[1].decode())
except (OSError, IndexError):
    print("refused")
"""
    try:
        cfg = json.load(open(config(m, primary=f"https://localhost:{raw.port}/v1", chain=())))
        cfg["ca_bundle"] = os.path.join(pki(), "ca.pem")
        # (GnuTLS's start mallocs much: seconds under the sanitized pass's malloc)
        cfg["timeouts_ms"] = {"connect": 30000, "total": 40000}
        r = run([PY, "-c", PRELUDE + script, f"https://localhost:{raw.port}/v1/chat/completions"],
                env(m, write_config(cfg, "pin-gnutls.json"), extra={"PROG_CA": m.ca}), timeout=120)
        out = r.stdout.decode().split()
        check(len(shown) >= 2, f"probed, then the relay connected ({shown}, {out}, {r.stderr.decode()[-300:]})")
        check(out[:1] == ["True"] and out[1:] != ["200"], f"the program was not answered by the other key ({out})")
        check(all(KEYS["OPENAI_API_KEY"] not in json.dumps(q) for q in raw.requests),
              f"the program's key never reached the server behind another key ({len(raw.requests)} requests)")
    finally:
        raw.stop()


def test_a_member_takes_no_connection_another_handles_tls_callback_accepted():
    """curlshare: handle A talks to a gateway of the program's own at the
    backup's server, whose self-signed certificate A's SSL_CTX_FUNCTION
    accepts; handle B, in the same share (connections, as the curl tool's
    handles, or TLS sessions only), calls the failing primary. The backup,
    which the library's trust does not vouch for, fails: the member took
    neither A's connection nor its session, and its key never reached that
    server. (It took them: libcurl does not compare what a callback did,
    and the key went to a server no one had verified.)"""
    m = mock()
    m.set("tp", behaviour="503")
    gateway = tls_server(*self_signed())
    try:
        cfg = json.load(open(config(m)))
        cfg["providers"]["backup"]["base_url"] = f"https://localhost:{gateway.port}/v1"
        cfg = write_config(cfg, "share-gateway.json")
        for mode in ("connect", "ssl"):
            gateway.requests.clear()
            log = new_log(f"share-{mode}.log")
            # (A's CA file the library's trust, SSL_CERT_FILE: the options
            # libcurl compares are the same, and a small file, where the
            # system's, under the sanitized pass's malloc, takes seconds)
            r = run([os.path.join(BUILD, "progs/curlshare"), m.base("tp") + "/chat/completions",
                     f"https://localhost:{gateway.port}", mode],
                    env(m, cfg, log, extra={"PROG_CA": m.ca, "GATEWAY_CA": m.ca}))
            eq(r.stdout.decode().split(), ["0", "0", "503"],
               f"{mode}: A reached its gateway; B got the primary's 503 ({r.stderr.decode()[-300:]})")
            eq([(e["provider"], e["reason"]) for e in read_log(log) if e.get("event") == "attempt"],
               [("openai", "overloaded"), ("backup", "tls")], f"{mode}: the backup's certificate refused")
            eq([q["target"] for q in gateway.requests], ["/health"], f"{mode}: the gateway had A's request only")
    finally:
        gateway.stop()


HIGH_FD = """
import resource, socket, ssl, urllib.parse
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = int(sys.argv[2])
try:
    resource.setrlimit(resource.RLIMIT_NOFILE, (want * 2, max(hard, want * 2)))
except (ValueError, OSError):
    # (no CAP_SYS_RESOURCE: as high as the hard limit allows, with the
    # quarter of it the relay leaves to the program's own growth)
    want = hard * 3 // 4 - 1024
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
u = urllib.parse.urlsplit(URL)
s0 = socket.socket()
os.dup2(s0.fileno(), want)
s0.close()
s = socket.socket(fileno=want)
s.settimeout(10)
s.connect((u.hostname, u.port))
peer = s.getpeername()[1]
t = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"]).wrap_socket(s, server_hostname=u.hostname)
reply = raw_chat(t, "high")
print(t.fileno(), peer == u.port, reply.split(b" ")[1].decode(), b"Hello from tb" in reply)
"""


def test_a_descriptor_numbered_high_falls_back_over_https():
    """A program allowed many descriptors (Docker's default is a million)
    whose socket to its provider has a high number: its TLS is virtual as
    for a low one, so its call falls back, and getpeername() names the
    provider. Numbers past 65,535 (the tables' old end) where the open-file
    limit can be raised so far; else the highest the hard limit allows,
    which the tables hold in another page than the first 4,096 numbers'."""
    m = mock()
    seen = []
    for fd in (70000, 300000, 5000000):
        m.reset_all()
        m.set("tp", behaviour="503")
        r = py(m, HIGH_FD, config(m), str(fd))
        out = r.stdout.decode().split()
        check(len(out) == 4 and int(out[0]) >= 4096, f"a socket numbered past the first page ({out}, "
                                                       f"{r.stderr.decode()[-300:]})")
        eq(out[1:], ["True", "200", "True"], f"descriptor {out[0]}: answered by the backup, the provider its peer")
        eq(len(m.requests("tb")), 1, f"descriptor {out[0]}: the backup was asked")
        seen.append(int(out[0]))
        if seen[-1] != fd:
            break   # (the hard limit's: the same number again)
