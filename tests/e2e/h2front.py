"""h2front.py — HTTP/2 over TLS in front of a mock server, as the real
providers speak it to curl (ALPN h2): each request is passed to the mock over
HTTP/1.1 and its answer (status, headers, body as it comes) sent back on the
request's stream. For the tests of the libcurl path over HTTP/2 (python3-h2).
Small answers only: the body is sent within the stream's flow-control window."""
import http.client
import ssl

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from rawserver import RawServer

HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"}


class H2Front(RawServer):
    """A RawServer whose connections speak HTTP/2 (its accept loop, stop)."""

    def __init__(self, backend_port, cert, key):
        self.backend = backend_port
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.ctx.set_alpn_protocols(["h2"])
        self.protocols = []   # what each connection negotiated
        super().__init__()

    def _handle(self, raw):
        try:
            s = self.ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        self.protocols.append(s.selected_alpn_protocol())
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        conn.initiate_connection()
        s.sendall(conn.data_to_send())
        reqs = {}
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    return
                for ev in conn.receive_data(data):
                    if isinstance(ev, h2.events.RequestReceived):
                        reqs[ev.stream_id] = [dict(ev.headers), b""]
                    elif isinstance(ev, h2.events.DataReceived):
                        reqs[ev.stream_id][1] += ev.data
                        conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    elif isinstance(ev, h2.events.StreamEnded):
                        self._answer(conn, s, ev.stream_id, *reqs.pop(ev.stream_id))
                    elif isinstance(ev, h2.events.ConnectionTerminated):
                        return
                out = conn.data_to_send()
                if out:
                    s.sendall(out)
        except (OSError, ssl.SSLError, h2.exceptions.ProtocolError):
            pass
        finally:
            s.close()

    def _answer(self, conn, s, sid, headers, body):
        b = http.client.HTTPConnection("127.0.0.1", self.backend, timeout=30)
        fwd = {k: v for k, v in headers.items() if not k.startswith(":") and k not in HOP}
        fwd["host"] = headers.get(":authority", "localhost")
        b.request(headers[":method"], headers[":path"], body=body or None, headers=fwd)
        r = b.getresponse()
        conn.send_headers(sid, [(":status", str(r.status))] +
                          [(k.lower(), v) for k, v in r.getheaders() if k.lower() not in HOP])
        s.sendall(conn.data_to_send())
        while True:   # (as it comes: a stream's events each in their DATA frame)
            piece = r.read1(16384)
            if not piece:
                break
            conn.send_data(sid, piece)
            s.sendall(conn.data_to_send())
        conn.end_stream(sid)
        s.sendall(conn.data_to_send())
        b.close()
