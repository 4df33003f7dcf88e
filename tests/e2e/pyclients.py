"""pyclients.py — the unmodified Python programs the socket and TLS tests run:
each prints "status provider-header answer" for one chat call to argv[1]
(and the check of what the WebSocket one saw)."""
from harness import KEYS, check, eq, read_log

# The socket inodes among this process's descriptors (a descriptor may close
# while listed, the listing's own or a thread's: a failed readlink is
# skipped), to find its connections and listeners in /proc/self/net/tcp.
SOCKET_INODES = """
import os
def socket_inodes():
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            l = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            continue
        if l.startswith("socket:["):
            inodes.add(l[8:-1])
    return inodes
"""

PRELUDE = """
import json, os, sys, threading
URL = sys.argv[1]
KEY = os.environ["OPENAI_API_KEY"]
def body(tag="x"):
    return json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi [rid:%s]" % tag}]})
HDRS = {"Authorization": "Bearer " + KEY, "Content-Type": "application/json"}
def urllib_chat(tag):
    # one chat call with urllib; the answer's text
    import urllib.request
    r = urllib.request.urlopen(urllib.request.Request(URL, data=body(tag).encode(), headers=HDRS), timeout=10)
    return json.loads(r.read())["choices"][0]["message"]["content"]
def raw_chat(s, tag):
    # one chat call written by hand on a connected socket; the reply, to its close
    host, port = URL.split("/")[2].split(":")
    b = body(tag).encode()
    s.sendall(("POST /v1/chat/completions HTTP/1.1\\r\\nHost: %s:%s\\r\\nContent-Type: application/json\\r\\n"
               "Authorization: %s\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n"
               % (host, port, HDRS["Authorization"], len(b))).encode() + b)
    data = b""
    while True:
        c = s.recv(65536)
        if not c:
            return data
        data += c
"""

# Appended to a program that should reach its server through the relay:
# each connect() it made, as "port>peer" on its stderr at exit. Connected to
# the relay instead, its socket's peer is the relay's port, not the one it
# asked for, which a test can tell without the library's help: a test of
# something the relay carries must not pass with no library at all. The
# peer is the kernel's, read in /proc/net/tcp by the socket's own port:
# getpeername() names the provider on such a socket (as the program meant).
PEERS = """
import atexit, socket as _socket
_llf_connect = _socket.socket.connect
_llf_peers = []
def _llf_peer(local):
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                for line in list(f)[1:]:
                    p = line.split()
                    if int(p[1].rsplit(":", 1)[1], 16) == local:
                        return int(p[2].rsplit(":", 1)[1], 16)
        except (OSError, ValueError, IndexError):
            pass
    raise OSError("no such socket")
def _llf_record(self, addr):
    _llf_connect(self, addr)
    try:
        _llf_peers.append("%s>%s" % (addr[1], _llf_peer(self.getsockname()[1])))
    except (OSError, IndexError, TypeError):
        pass
_socket.socket.connect = _llf_record
atexit.register(lambda: sys.stderr.write("llf-peers %s\\n" % " ".join(_llf_peers)))
"""


# The rest of a program whose socket s is connected: send argv[3], print
# all that comes back to the close (and what ended it, if not the close).
# to_end(s): what s reads to its end, and an error's name after it ("<...>").
TO_END = """
def to_end(s):
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return out
            out += d
    except OSError as e:
        return out + b"<" + type(e).__name__.encode() + b">"
"""
SEND_READ_ALL = TO_END + """
s.sendall(sys.argv[3].encode("latin-1"))
sys.stdout.buffer.write(to_end(s))
"""


def check_relayed(r, port, what="the program's connections"):
    """r: a run of a program with PEERS. Every connection it made to port
    reached the relay (and there was at least one)."""
    lines = [l for l in r.stderr.decode(errors="replace").splitlines() if l.startswith("llf-peers")]
    pairs = [p.split(">") for p in lines[-1].split()[1:]] if lines else []
    peers = [b for a, b in pairs if a == str(port)]
    direct = sum(b == str(port) for b in peers)
    check(bool(peers) and not direct,
          f"{what} to port {port} went to the relay ({direct} of {len(peers)} reached it directly; "
          f"connect>peer: {lines[-1][:300] if lines else 'none recorded'})")


CLIENTS = {
    "urllib": """
import urllib.request
r = urllib.request.urlopen(urllib.request.Request(URL, data=body("u").encode(), headers=HDRS), timeout=10)
print(r.status, r.headers.get("x-llmfallback-provider"), json.loads(r.read())["choices"][0]["message"]["content"])
""",
    "requests": """
import requests
r = requests.post(URL, data=body("r"), headers=HDRS, timeout=10)
print(r.status_code, r.headers.get("x-llmfallback-provider"), r.json()["choices"][0]["message"]["content"])
""",
    "httpx": """
import httpx
with httpx.Client(timeout=10) as c:
    r = c.post(URL, content=body("h"), headers=HDRS)
print(r.status_code, r.headers.get("x-llmfallback-provider"), r.json()["choices"][0]["message"]["content"])
""",
    "httpx-async": """
import asyncio, httpx
async def main():
    async with httpx.AsyncClient(timeout=10) as c:
        return await c.post(URL, content=body("a"), headers=HDRS)
r = asyncio.run(main())
print(r.status_code, r.headers.get("x-llmfallback-provider"), r.json()["choices"][0]["message"]["content"])
""",
}

# A program that restores the default SIGPIPE (as many command-line tools do)
# and gives up on a slow call: it must outlive the relay's late answer.
GIVES_UP = """
import signal, time, urllib.request
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
try:
    urllib.request.urlopen(urllib.request.Request(URL, data=body().encode(), headers=HDRS), timeout=0.5).read()
    print("answered", flush=True)
except Exception as e:
    print("gave up", flush=True)
time.sleep(2)
print("alive")
"""

# The same program reading the first lines of a live stream, then leaving.
WALKS_AWAY = """
import signal, socket, time
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
host, port = URL.split("/")[2].split(":")
b = json.loads(body("w"))
b["stream"] = True
b = json.dumps(b).encode()
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(("POST /v1/chat/completions HTTP/1.1\\r\\nHost: %s:%s\\r\\nContent-Type: application/json\\r\\n"
           "Authorization: %s\\r\\nContent-Length: %d\\r\\n\\r\\n" % (host, port, HDRS["Authorization"], len(b))).encode() + b)
got = b""
while b"data: {" not in got:
    got += s.recv(65536)
s.close()
print("read some", flush=True)
time.sleep(2)
print("alive")
"""

# One call with requests, streamed (argv[2] "stream") or not: prints the
# status, the provider header and the answer's text.
STREAM_OR_NOT = """
import requests
stream = sys.argv[2] == "stream"
b = json.loads(body("s"))
b["stream"] = stream
r = requests.post(URL, json=b, headers=HDRS, timeout=10, stream=stream)
if stream:
    text = "".join(json.loads(l[6:])["choices"][0]["delta"].get("content") or ""
                   for l in r.iter_lines(decode_unicode=True)
                   if l.startswith("data: {") and json.loads(l[6:])["choices"])
else:
    text = r.json()["choices"][0]["message"]["content"]
print(r.status_code, r.headers.get("x-llmfallback-provider"), text)
"""

# http.client, which never looks at proxy variables: the program connects
# straight to the provider whatever http_proxy says (as Node's fetch does).
DIRECT = """
import http.client, urllib.parse
u = urllib.parse.urlsplit(URL)
conn = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
c = conn(u.hostname, u.port, timeout=10)
c.request("POST", u.path, body=body("d"), headers=HDRS)
r = c.getresponse()
print(r.status, r.getheader("x-llmfallback-provider"), json.loads(r.read())["choices"][0]["message"]["content"])
"""

# A WebSocket client written by hand (websockets.sync does the same over a
# plain or an ssl socket): the upgrade and a first frame in one write, a
# frame of 300 kB, then the closing handshake. Prints the status line and
# whether the server's accept key is right, then whether each echo came back.
WEBSOCKET = """
import base64, hashlib, socket, ssl, struct
host, port = URL.split("/")[2].rsplit(":", 1)
s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
if URL.startswith("https:"):
    s = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"]).wrap_socket(s, server_hostname=host)
def frame(op, data):
    mask, n = os.urandom(4), len(data)
    size = bytes([0x80 | n]) if n < 126 else bytes([0x80 | 127]) + struct.pack(">Q", n)
    return bytes([0x80 | op]) + size + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))
buf = b""
def need(n):
    global buf
    while len(buf) < n:
        d = s.recv(65536)
        if not d:
            raise EOFError(buf[:200])
        buf += d
    out, buf = buf[:n], buf[n:]
    return out
def recv_frame():
    b0, b1 = need(2)
    n = b1 & 0x7f
    n = struct.unpack(">H", need(2))[0] if n == 126 else struct.unpack(">Q", need(8))[0] if n == 127 else n
    return b0 & 0x0f, need(n)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET /%s HTTP/1.1\\r\\nHost: %s:%s\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
           "Sec-WebSocket-Key: %s\\r\\nSec-WebSocket-Version: 13\\r\\nAuthorization: %s\\r\\n\\r\\n"
           % (URL.split("/", 3)[3], host, port, key, HDRS["Authorization"])).encode() + frame(1, b"hello"))
head = b""
while not head.endswith(b"\\r\\n\\r\\n"):
    head += need(1)
accept = base64.b64encode(hashlib.sha1(key.encode() + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
print(head.split(b"\\r\\n")[0].decode(), b"Sec-WebSocket-Accept: " + accept in head)
print(recv_frame() == (1, b"hello"))
big = os.urandom(300000)
s.sendall(frame(2, big))
print(recv_frame() == (2, big))
s.sendall(frame(8, struct.pack(">H", 1000)))
print(recv_frame()[0], s.recv(10) == b"")
"""


def check_websocket_tunnelled(r, raw):
    """WEBSOCKET's run r against raw (a RawServer with websocket_echo):
    upgraded, every frame echoed, closed; and the head reached the server as
    the program wrote it (Upgrade and Connection kept, the key in it)."""
    eq(r.stdout.decode().splitlines(), ["HTTP/1.1 101 Switching Protocols True", "True", "True", "8 True"],
       f"upgraded, echoed, closed ({r.stderr.decode()[-300:]})")
    head = raw.requests[0]["head"]
    check(head.startswith("GET /v1/realtime?model=gpt-4o-realtime HTTP/1.1\r\n") and
          "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" in head and KEYS["OPENAI_API_KEY"] in head,
          f"the head as the program wrote it ({head!r})")


def proxy_env(port):
    """Every proxy variable libcurl reads, naming port."""
    url = "http://127.0.0.1:%d" % port
    return {"http_proxy": url, "https_proxy": url, "HTTPS_PROXY": url, "ALL_PROXY": url, "all_proxy": url,
            "no_proxy": "", "NO_PROXY": ""}


def check_left_mid_attempt(r, log, backup_requests):
    """GIVES_UP's run r against a primary slower than its patience: the
    primary's attempt was stopped when the program left (not at its answer),
    and no member was asked."""
    eq(r.stdout.decode().split(), ["gave", "up", "alive"], f"the program gave up ({r.stderr.decode()[-200:]})")
    steps = [(l["provider"], l["outcome"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"]
    check(bool(steps) and steps[0][::2] == ("openai", "client_gone"),
          f"the primary's attempt stopped when the program left, not at its answer ({steps})")
    eq(steps[1:], [("backup", "skipped", "client_gone")], "no member asked")
    eq(backup_requests, 0, "the backup was not")


# Appended to a program: children(tag, own) starts a child each way that
# keeps descriptors (os.system; subprocess with close_fds=False;
# os.posix_spawn), each printing "TAG KIND socket:[INODE]..." for the
# sockets it found open; first "TAG own ..." for own, the sockets the program
# itself left inheritable. (os.popen is subprocess with close_fds=True: it
# would show nothing.)
CHILDREN = r"""
import subprocess as _llf_sp
def children(tag, own=()):
    print(tag, "own", *(os.readlink("/proc/self/fd/%d" % s.fileno()) for s in own), flush=True)
    cmd = "echo %s %%s $(ls -l /proc/self/fd | grep -o 'socket:\[[0-9]*\]')" % tag
    os.system(cmd % "system")
    _llf_sp.run(["/bin/sh", "-c", cmd % "subprocess"], close_fds=False)
    os.waitpid(os.posix_spawn("/bin/sh", ["sh", "-c", cmd % "posix_spawn"], os.environ), 0)
"""


def check_children(r, tags, kinds=("posix_spawn", "subprocess", "system"), what="a child"):
    """r: a run of a program with CHILDREN (or curlstate's "children").
    At each of tags, every child found open exactly the sockets the program
    had left inheritable: none of the library's."""
    lines = [l.split() for l in r.stdout.decode(errors="replace").splitlines()]
    for tag in tags:
        own = [l[2:] for l in lines if l[:2] == [tag, "own"]]
        seen = {l[1]: l[2:] for l in lines if len(l) > 1 and l[0] == tag and l[1] != "own"}
        eq((len(own), sorted(seen)), (1, sorted(kinds)),
           f"{what} ({tag}): every child reported ({r.stderr.decode(errors='replace')[-300:]})")
        for kind, got in sorted(seen.items()):
            eq(sorted(got), sorted(own[0]), f"{what} ({tag}) started by {kind}: the sockets it holds")


# Uploads of 5 MiB to URL's server (a files endpoint: no call), http:// or
# https://, printing what each got: three with requests (no Expect: the
# whole body, then the answer), three by hand with Expect: 100-continue
# (the body only after a 100, or after a second without an answer, as
# curl does), and one by hand that sends its body half a second after its
# head (a program slower than the server's answer). Each line:
# "requests|expect|late", the 100 seen, the status line, the answer's
# X-Server and body; or the exception that ended it.
UPLOADS = r"""
import requests, socket, ssl, time
scheme, _, hostport = URL.split("/")[:3]
host, port = hostport.rsplit(":", 1)
port = int(port)
files = "%s//%s/v1/files" % (scheme, hostport)
N = 5 << 20
for i in range(3):
    try:
        r = requests.post(files, data=b"x" * N, headers={"Authorization": "Bearer bad"}, timeout=10)
        print("requests", r.status_code, r.headers.get("X-Server"), r.text, flush=True)
    except Exception as e:
        print("requests", type(e).__name__, flush=True)
def answer(s, got):
    # the rest of an answer with a Content-Length, after got
    while b"\r\n\r\n" not in got:
        d = s.recv(65536)
        if not d:
            break
        got += d
    head, _, body = got.partition(b"\r\n\r\n")
    n = [int(l.split(b":")[1]) for l in head.lower().split(b"\r\n") if l.startswith(b"content-length:")]
    while n and len(body) < n[0]:
        d = s.recv(65536)
        if not d:
            break
        body += d
    return head, body
for expect in (1, 1, 1, 0):
    s = socket.create_connection((host, port), timeout=10)
    if scheme == "https:":
        s = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"]).wrap_socket(s, server_hostname=host)
    seen = []
    try:
        s.sendall(("POST /v1/files HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n%s\r\n"
                   % (hostport, N, "Expect: 100-continue\r\n" if expect else "")).encode())
        s.settimeout(1)
        try:
            head, body = answer(s, b"") if expect else (b"", b"")
        except socket.timeout:
            head, body = b"", b""
        if not expect:
            time.sleep(0.5)
        s.settimeout(10)
        if head.startswith(b"HTTP/1.1 100") or not head:
            if expect:
                seen.append(head.split(b"\r\n")[0].decode() or "nothing")
            s.sendall(b"x" * N)
            head, body = answer(s, body)
        lines = head.decode().split("\r\n")
        server = [l.split(":", 1)[1].strip() for l in lines if l.lower().startswith("x-server:")]
        print("expect" if expect else "late", "|".join(seen + [lines[0]]), server[0] if server else None, body.decode(), flush=True)
    except Exception as e:
        print("expect" if expect else "late", "|".join(seen), type(e).__name__, flush=True)
"""


def check_uploads(r, raw, refuses):
    """UPLOADS's run r against raw, a RawServer (early=True when refuses):
    every answer reached the program as the server gave it; an Expect
    went on to the server, which decided whether the body came (none came
    to one that refused)."""
    out = r.stdout.decode().splitlines()
    err = r.stderr.decode()[-300:]
    if refuses:
        want = ["requests 401 early {\"error\":\"unauthorized\"}"] * 3 + \
               ["expect HTTP/1.1 401 Unauthorized early {\"error\":\"unauthorized\"}"] * 3 + \
               ["late HTTP/1.1 401 Unauthorized early {\"error\":\"unauthorized\"}"]
        eq(out, want, f"the server's early answers, whole ({err})")
        expects = [q for q in raw.requests if q["headers"].get("expect")]
        eq([(q["headers"]["expect"], q["dropped"]) for q in expects], [("100-continue", 0)] * 3,
           "the program's Expect went to the server, and no body after its answer")
    else:
        eq([l.split()[:3] for l in out], [["requests", "200", "None"]] * 3 + [["expect", "HTTP/1.1", "100"]] * 3 +
           [["late", "HTTP/1.1", "200"]], f"answered, the Expect uploads after the server's own 100 ({err})")
        eq([(q["headers"].get("expect"), len(q["body"])) for q in raw.requests],
           [(None, 5 << 20)] * 3 + [("100-continue", 5 << 20)] * 3 + [(None, 5 << 20)],
           "every body, whole; the Expect as sent")
