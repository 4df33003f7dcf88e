"""rawserver.py — a loopback HTTP/1.1 server with hand-made answers, for the
tests that check exactly what the relay sends and passes on: it records every
request's raw head, and answers through a function of the test's own."""
import base64
import hashlib
import json
import socket
import struct
import threading
import time


def echo(c, req):
    """The default answer: the request's raw head, as JSON."""
    body = json.dumps({"method": req["method"], "head": req["head"]}).encode()
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    return True


class RawServer:
    def __init__(self, answer=echo, tls=None, unix=None, host="127.0.0.1", port=0, read_rate=None, early=False,
                 refuse_expect=False):
        self.answer = answer
        # answer every head with Expect: 100-continue with a 417 (with a
        # body), keeping the connection for the request sent again without
        self.refuse_expect = refuse_expect
        # answer right after the head, then read and drop the body until the
        # client closes or is silent for 3 s, and close (as nginx answers a 401 or
        # 413 to an upload); no 100 to an Expect. A request's "dropped"
        # counts what came of its body after the head.
        self.early = early
        # bytes a second a request body is read at (a provider slow to take
        # a large upload), with a small receive buffer; None: at once
        self.read_rate = read_rate
        self.tls = tls   # an ssl.SSLContext: TLS on every connection
        self.unix = unix   # a path: listen on this Unix socket instead of a port
        self.requests = []
        self.connections = 0
        self.peers = []   # each connection's source address
        self.sock = socket.socket(socket.AF_UNIX if unix else socket.AF_INET6 if ":" in host else socket.AF_INET)
        if read_rate:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        self.sock.bind(unix or (host, port))   # (a loopback address, another than 127.0.0.1 too)
        self.sock.listen(64)
        self.port = None if unix else self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def stop(self):
        self.sock.close()

    def _serve(self):
        while True:
            try:
                c, peer = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self.peers.append(peer[0] if isinstance(peer, tuple) else peer)
            threading.Thread(target=self._handle, args=(c,), daemon=True).start()

    def _handle(self, c):
        if not self.unix:
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        try:
            if self.tls:
                c = self.tls.wrap_socket(c, server_side=True)
            while True:
                while b"\r\n\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, target = lines[0].split(" ")[:2]
                headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
                if self.refuse_expect and headers.get("expect", "").lower() == "100-continue":
                    self.requests.append({"method": method, "target": target, "headers": headers,
                                          "head": head.decode("latin-1"), "body": b"", "rest": b""})
                    c.sendall(b"HTTP/1.1 417 Expectation Failed\r\nX-Server: early\r\nContent-Length: 4\r\n\r\nnope")
                    continue
                if self.early:
                    req = {"method": method, "target": target, "headers": headers, "head": head.decode("latin-1"),
                           "body": b"", "rest": b"", "dropped": len(buf)}
                    self.requests.append(req)
                    self.answer(c, req)
                    c.settimeout(3)
                    while True:
                        d = c.recv(65536)
                        if not d:
                            return
                        req["dropped"] += len(d)
                if headers.get("expect", "").lower() == "100-continue":
                    c.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                if headers.get("transfer-encoding", "").lower() == "chunked":
                    body, buf = self._chunked(c, buf)
                else:
                    n = int(headers.get("content-length", "0"))
                    while len(buf) < n:
                        if self.read_rate:
                            time.sleep(16384 / self.read_rate)
                        d = c.recv(16384 if self.read_rate else 65536)
                        if not d:
                            return
                        buf += d
                    body, buf = buf[:n], buf[n:]
                # (rest: what came after this request, for an answer that
                # takes the connection over)
                req = {"method": method, "target": target, "headers": headers,
                       "head": head.decode("latin-1"), "body": body, "rest": buf}
                self.requests.append(req)
                if not self.answer(c, req):
                    return
        except OSError:
            pass
        finally:
            c.close()

    @staticmethod
    def _chunked(c, buf):
        body = b""
        while True:
            while b"\r\n" not in buf:
                buf += c.recv(65536)
            line, buf = buf.split(b"\r\n", 1)
            n = int(line.split(b";")[0], 16)
            while len(buf) < n + 2:
                buf += c.recv(65536)
            body, buf = body + buf[:n], buf[n + 2:]
            if n == 0:
                return body, buf


def unauthorized(c, req):
    """A 401, as a server gives an upload with a bad key (with early=True:
    after the head, before the body)."""
    body = b'{"error":"unauthorized"}'
    c.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nX-Server: early\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    return True


def took_it(c, req):
    """A good chat answer (OpenAI), at once."""
    body = json.dumps({"id": "x", "object": "chat.completion", "model": "gpt-4o", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "took it"}, "finish_reason": "stop"}]}).encode()
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    return True


def websocket_echo(c, req):
    """A WebSocket server (RFC 6455): 101, then every frame back, unmasked,
    to a close frame, which it answers before it closes. 426 to anything
    that is not an upgrade (what a server says when the relay strips it)."""
    h = req["headers"]
    if h.get("upgrade", "").lower() != "websocket" or "upgrade" not in h.get("connection", "").lower():
        c.sendall(b"HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n")
        return True
    accept = base64.b64encode(hashlib.sha1(h["sec-websocket-key"].encode() + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
    buf = req["rest"]
    def need(n):
        nonlocal buf
        while len(buf) < n:
            d = c.recv(65536)
            if not d:
                raise OSError("closed mid-frame")
            buf += d
        out, buf = buf[:n], buf[n:]
        return out
    while True:
        b0, b1 = need(2)
        n = b1 & 0x7f
        n = struct.unpack(">H", need(2))[0] if n == 126 else struct.unpack(">Q", need(8))[0] if n == 127 else n
        mask = need(4) if b1 & 0x80 else b"\0\0\0\0"
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(need(n)))
        size = bytes([n]) if n < 126 else bytes([127]) + struct.pack(">Q", n)
        c.sendall(bytes([0x80 | (b0 & 0x0f)]) + size + data)
        if b0 & 0x0f == 8:
            return False


def half_close(c, req):
    """For a tunnel's tests (no HTTP: the head is any first line and a blank
    one). GREET: a greeting, then this side's end (a half-close), then what
    the client sends, to its end, kept in req["late"]. Any other: what
    follows the head, to the client's end (its half-close), then an answer
    of it all ("PONG:" and it). Closes."""
    if req["method"] == "GREET":
        c.sendall(b"HELLO\n")
        c.shutdown(socket.SHUT_WR)
    late = req["rest"]
    while True:
        d = c.recv(65536)
        if not d:
            break
        late += d
    req["late"] = late
    if req["method"] != "GREET":
        time.sleep(0.2)   # (an answer well after the end: nothing of it is in the same read)
        c.sendall(b"PONG:" + late)
    return False


def ticks(c, req):
    """A tick a line, every 0.3 s, fifteen of them, whatever was asked;
    then closes."""
    for i in range(15):
        c.sendall(b"TICK%d\n" % i)
        time.sleep(0.3)
    return False


def connect_proxy(c, req):
    """An HTTP proxy that only tunnels (CONNECT host:port), to loopback
    only; any other request gets a 405."""
    if req["method"] != "CONNECT":
        c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
        return True
    host, _, port = req["target"].rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        return True
    u = socket.create_connection(("127.0.0.1", int(port)))
    c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    if req["rest"]:
        u.sendall(req["rest"])

    def pipe(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        finally:
            try:
                b.shutdown(socket.SHUT_WR)
            except OSError:
                pass
    t = threading.Thread(target=pipe, args=(c, u), daemon=True)
    t.start()
    pipe(u, c)
    t.join(5)
    u.close()
    return False


TRAILED_ANSWER = json.dumps({"id": "c1", "object": "chat.completion", "model": "gpt-4o", "choices": [
    {"index": 0, "message": {"role": "assistant", "content": "Hello with trailers"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4}}).encode()
TRAILED_EVENTS = b"".join(
    b"data: %s\n\n" % json.dumps({"id": "c1", "object": "chat.completion.chunk", "model": "gpt-4o",
                                  "choices": [{"index": 0, "delta": d, "finish_reason": f}]}).encode()
    for d, f in (({"role": "assistant", "content": ""}, None), ({"content": "Hello"}, None),
                 ({"content": " with trailers"}, None), ({}, "stop"))) + b"data: [DONE]\n\n"


def with_trailers(status):
    """An answer in chunks with trailer fields after the last one (Trailer:
    announces them): status "200" (a chat completion, or its stream when the
    request asks for one) or "503" (an error)."""
    def answer(c, req):
        stream = b'"stream": true' in req["body"] or b'"stream":true' in req["body"]
        body = (TRAILED_EVENTS if stream else TRAILED_ANSWER) if status == "200" else b'{"error":{"message":"overloaded"}}'
        ctype = b"text/event-stream" if stream and status == "200" else b"application/json"
        line = b"200 OK" if status == "200" else b"503 Service Unavailable"
        half = len(body) // 2
        c.sendall(b"HTTP/1.1 %s\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\nTrailer: X-Tr, X-Sum\r\n\r\n"
                  b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\nX-Tr: trailer-value\r\nX-Sum: %d\r\n\r\n"
                  % (line, ctype, half, body[:half], len(body) - half, body[half:], len(body)))
        return True
    return answer


OVER_CAP = (256 << 20) + 4096   # MAX_BODY (curl_handle.h, relay_serve.c) and a little


def huge_answer():
    """A good answer larger than the library holds (MAX_BODY), sent as it is
    made; and whether some bytes are all of it."""
    pre = (b'{"id":"x","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":'
           b'{"role":"assistant","content":"')
    post = b'"},"finish_reason":"stop"}]}'
    size = len(pre) + OVER_CAP + len(post)
    piece = b"x" * (1 << 20)

    def answer(c, req):
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % size + pre)
        for off in range(0, OVER_CAP, len(piece)):
            c.sendall(piece[:OVER_CAP - off])
        c.sendall(post)
        return True

    def whole(data):
        return (len(data) == size and data.startswith(pre) and data.endswith(post)
                and data.count(b"x", len(pre), size - len(post)) == OVER_CAP)
    whole.sha256 = lambda: hashlib.sha256(pre + b"x" * OVER_CAP + post).hexdigest()
    return answer, size, whole
