"""rawserver.py — a loopback HTTP/1.1 server with hand-made answers, for the
tests that check exactly what the relay sends and passes on: it records every
request's raw head, and answers through a function of the test's own."""
import json
import socket
import threading


def echo(c, req):
    """The default answer: the request's raw head, as JSON."""
    body = json.dumps({"method": req["method"], "head": req["head"]}).encode()
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    return True


class RawServer:
    def __init__(self, answer=echo):
        self.answer = answer
        self.requests = []
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def stop(self):
        self.sock.close()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(c,), daemon=True).start()

    def _handle(self, c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        try:
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
                n = int(headers.get("content-length", "0"))   # the tests send no chunked bodies here
                while len(buf) < n:
                    buf += c.recv(65536)
                req = {"method": method, "target": target, "headers": headers,
                       "head": head.decode("latin-1"), "body": buf[:n]}
                buf = buf[n:]
                self.requests.append(req)
                if not self.answer(c, req):
                    return
        except OSError:
            pass
        finally:
            c.close()
