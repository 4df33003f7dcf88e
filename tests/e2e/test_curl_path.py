"""The libcurl path end to end: /usr/bin/curl and examples/chat_client,
unmodified, against the mock providers."""
import atexit
import base64
import json
import os
import re
import socket
import subprocess
import tempfile
import time

from harness import (CURL, BUILD, KEYS, ROOT, SANITIZED, Mock, Skipped, certs, chat_body, check, env_for, eq,
                     new_log, read_log, run, sha, tmpdir, write_config)
from rawserver import TRAILED_ANSWER, TRAILED_EVENTS, RawServer, connect_proxy, huge_answer, took_it, with_trailers

_m = None


def mock():
    global _m
    if _m is None:
        _m = Mock([
            {"name": "primary", "dialect": "openai", "behaviour": "ok", "key": KEYS["OPENAI_API_KEY"]},
            {"name": "backup", "dialect": "openai", "behaviour": "ok", "key": KEYS["BACKUP_KEY"]},
            {"name": "spare", "dialect": "openai", "behaviour": "ok", "key": KEYS["SPARE_KEY"]},
            {"name": "claude", "dialect": "anthropic", "behaviour": "ok", "key": KEYS["ANTHROPIC_API_KEY"]},
            {"name": "tprimary", "dialect": "openai", "behaviour": "ok", "key": KEYS["OPENAI_API_KEY"], "tls": True},
            {"name": "tbackup", "dialect": "openai", "behaviour": "ok", "key": KEYS["BACKUP_KEY"], "tls": True},
        ])
        atexit.register(_m.stop)
    _m.reset_all()
    for n in _m.servers:
        _m.set(n, behaviour="ok", retry_after=None, delay_ms=0)
    return _m


def config(m, chain=("backup/gpt-4o-mini", "spare/gpt-4o-mini"), tls=False, **extra):
    p, b = ("tprimary", "tbackup") if tls else ("primary", "backup")
    cfg = {
        "providers": {
            "openai": {"base_url": m.base(p)},
            "backup": {"dialect": "openai", "base_url": m.base(b), "api_key_env": "BACKUP_KEY"},
            "spare": {"dialect": "openai", "base_url": m.base("spare"), "api_key_env": "SPARE_KEY"},
            "anthropic": {"base_url": m.base("claude")},
        },
        "chain": list(chain),
        "timeouts_ms": {"connect": 2000, "first_byte": 1500, "total": 3000},
    }
    cfg.update(extra)
    return write_config(cfg)


def curl_chat(m, *args, server="primary", model="gpt-4o", text="hello", key=None, tls=False):
    url = m.base(server) + "/chat/completions"
    argv = [CURL, "-sS", url, "-H", "Content-Type: application/json",
            "-H", f"Authorization: Bearer {key or KEYS['OPENAI_API_KEY']}",
            "-d", chat_body(model, text)]
    if tls:
        argv += ["--cacert", m.ca]
    return argv + list(args)


def answer(stdout):
    return json.loads(stdout)["choices"][0]["message"]["content"]


def no_key_leaks(m):
    """Every request a provider received carries only that provider's key."""
    own = {"primary": "OPENAI_API_KEY", "tprimary": "OPENAI_API_KEY", "backup": "BACKUP_KEY",
           "tbackup": "BACKUP_KEY", "spare": "SPARE_KEY", "claude": "ANTHROPIC_API_KEY"}
    for name in m.servers:
        for r in m.requests(name):
            blob = json.dumps(r["headers"]) + r["path"] + str(r.get("query")) + r["body"]
            for var, key in KEYS.items():
                if var != own[name]:
                    check(key not in blob, f"{name} received {var}")


def test_fallback_on_503_http():
    m = mock()
    m.set("primary", behaviour="503")
    log = new_log("fb503.log")
    r = run(curl_chat(m, "-i", "-w", "\n%{http_code} %header{x-llmfallback-provider}"),
            env_for(config(m), log))
    eq(r.returncode, 0, "curl exit")
    out = r.stdout.decode()
    head, _, rest = out.partition("\r\n\r\n")
    body, _, tail = rest.rpartition("\n")
    check(head.startswith("HTTP/1.1 200 OK"), "status line")
    check("x-llmfallback-provider: backup" in head, "provider header")
    check("x-llmfallback-attempts: 2" in head, "attempts header")
    check(f"content-length: {len(body)}" in head, "content-length matches the body")
    check(answer(body).startswith("Hello from backup (gpt-4o-mini)"), "backup's answer")
    eq(tail, "200 backup", "-w http_code and %header")
    eq(len(m.requests("primary")), 1, "primary asked once")
    eq(json.loads(m.requests("backup")[0]["body"])["model"], "gpt-4o-mini", "model replaced")
    lines = read_log(log)
    attempts = [l for l in lines if l["event"] == "attempt"]
    eq([(a["provider"], a["status"], a["outcome"]) for a in attempts],
       [("openai", 503, "http_error"), ("backup", 200, "ok")], "log attempts")
    for a in attempts:
        for f in ("ts", "pid", "path", "call", "attempt", "provider", "model", "status",
                  "outcome", "reason", "ms"):
            check(f in a, f"log field {f}")
    eq(attempts[0]["path"], "curl", "log path")
    summ = [l for l in lines if l["event"] == "summary"]
    eq(len(summ), 1, "one summary")
    eq((summ[0]["calls"], summ[0]["fallbacks"], summ[0]["failures"]), (1, 1, 0), "summary")
    no_key_leaks(m)


def test_fallback_over_https():
    m = mock()
    m.set("tprimary", behaviour="500")
    r = run(curl_chat(m, server="tprimary", tls=True, model="gpt-4o"),
            env_for(config(m, chain=("backup/gpt-4o-mini",), tls=True, ca_bundle=m.ca)))
    eq(r.returncode, 0, "curl exit")
    check(answer(r.stdout).startswith("Hello from tbackup"), "answer over TLS from tbackup")
    eq(len(m.requests("tprimary")), 1, "primary asked")
    eq(m.requests("tbackup")[0]["credential"], KEYS["BACKUP_KEY"], "backup's own key")
    no_key_leaks(m)


def test_each_hard_failure_falls_back():
    m = mock()
    for behaviour in ("429", "500", "502", "503", "504", "529", "408", "401", "402", "403",
                      "404", "410", "reset", "empty", "not_http", "malformed", "html", "emptybody"):
        m.reset_all()
        m.set("primary", behaviour=behaviour, retry_after=60)
        r = run(curl_chat(m, "-w", "\n%{http_code}"), env_for(config(m)))
        body, _, code = r.stdout.decode().rpartition("\n")
        eq((r.returncode, code), (0, "200"), f"{behaviour}: exit and status")
        check(answer(body).startswith("Hello from backup"), f"{behaviour}: backup answered")


def test_a_program_that_asks_for_gzip_itself():
    """curl with its own Accept-Encoding header (no --compressed: it gets the
    bytes as they come and decodes them itself). A healthy primary's gzip'ed
    answer is judged on its decoded text and given back as it came, without
    asking a member; a broken primary's gzip'ed garbage still falls back, and
    the member (asked for no encoding) answers plainly; with --compressed,
    libcurl decodes as usual."""
    import gzip as gz
    m = mock()
    log = new_log("gzip.log")
    r = run(curl_chat(m, "-H", "Accept-Encoding: gzip", "-D", "/dev/stderr"), env_for(config(m), log))
    eq(r.returncode, 0, f"exit ({r.stderr.decode()[-200:]})")
    check(r.stdout[:2] == b"\x1f\x8b", f"the primary's gzip bytes, as they came ({r.stdout[:20]!r})")
    check(answer(gz.decompress(r.stdout)).startswith("Hello from primary"), "the primary's answer")
    eq([(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt"], [("openai", "ok")],
       "judged on its decoded text: ok, no member asked")
    eq(m.requests("primary")[0]["headers"].get("accept-encoding"), "gzip", "the program's header went to its provider")
    m.set("primary", behaviour="malformed")
    r = run(curl_chat(m, "-H", "Accept-Encoding: gzip"), env_for(config(m)))
    check(answer(r.stdout).startswith("Hello from backup"), f"garbage, decoded, falls back ({r.stdout[:60]!r})")
    check("accept-encoding" not in m.requests("backup")[0]["headers"], "the member was asked for no encoding")
    m.set("primary", behaviour="ok")
    r = run(curl_chat(m, "--compressed"), env_for(config(m)))
    check(answer(r.stdout).startswith("Hello from primary"), "--compressed: libcurl's own decoding")
    # libcurl asks for gzip but decodes nothing (--raw): judged decoded too
    log = new_log("gzipraw.log")
    r = run(curl_chat(m, "--compressed", "--raw"), env_for(config(m), log))
    check(answer(gz.decompress(r.stdout)).startswith("Hello from primary"), f"--raw: the gzip bytes ({r.stdout[:20]!r})")
    eq([(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt"], [("openai", "ok")],
       "--raw: judged on its decoded text")


def test_a_member_that_gzips_unasked_is_handed_over_plain():
    """A member is asked for no coding (no Accept-Encoding, which RFC 9110
    reads as any: a server may gzip, as the mock's "unasked" does). One that
    gzips all the same has its answer decoded before anything reads it (its
    stop sequences' cut, the judge, translation) and handed over under the
    library's head, which names no coding: the program gets plain JSON whose
    length its head gives, through libcurl and through the relay, of its own
    dialect and of another."""
    m = mock()
    for encode in ("unasked", "always"):
        for member in ("backup", "claude"):
            m.reset_all()
            m.set("primary", behaviour="503")
            m.set(member, encode=encode)
            chain = ["backup/gpt-4o-mini" if member == "backup" else "anthropic/claude-haiku-4-5"]
            log = new_log(f"gzunasked-{encode}-{member}.log")
            r = run(curl_chat(m, "-D", "/dev/stderr"), env_for(config(m, chain), log))
            what = f"{encode}, {member}"
            check(answer(r.stdout).startswith("Hello from " + member), f"{what}: plain JSON ({r.stdout[:40]!r})")
            head = r.stderr.decode(errors="replace").lower()
            check("content-encoding" not in head and f"content-length: {len(r.stdout)}" in head,
                  f"{what}: no coding named, the length of what came ({head[-300:]!r})")
            check("accept-encoding" not in m.requests(member)[0]["headers"], f"{what}: no coding asked")
    # a stop sequence the member's model refuses (o3's) is applied to the
    # answer decoded, not to its gzip bytes, where it was found nowhere
    m.reset_all()
    m.set("primary", behaviour="503")
    m.set("backup", encode="always")
    r = run([CURL, "-sS", m.base("primary") + "/chat/completions", "-H", "Content-Type: application/json",
             "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}",
             "-d", json.dumps({"model": "gpt-4o", "stop": ["from"], "messages": [{"role": "user", "content": "hi"}]})],
            env_for(config(m, ["backup/o3"])))
    eq(answer(r.stdout), "Hello ", f"cut at its stop sequence ({r.stdout[:120]!r})")
    # through the relay: a Python program's socket
    m.reset_all()
    m.set("primary", behaviour="503")
    m.set("backup", encode="always")
    prog = ("import json, sys, urllib.request\n"
            f"req = urllib.request.Request({m.base('primary') + '/chat/completions'!r}, data={chat_body().encode()!r},"
            f" headers={{'Authorization': 'Bearer ' + {KEYS['OPENAI_API_KEY']!r}, 'Content-Type': 'application/json'}})\n"
            "r = urllib.request.urlopen(req, timeout=20)\n"
            "body = r.read()\n"
            "print(r.headers.get('Content-Encoding'), json.loads(body)['choices'][0]['message']['content'])\n")
    r = run(["/usr/bin/python3", "-c", prog], env_for(config(m)))
    out = r.stdout.decode()
    check(out.startswith("None Hello from backup"), f"relay: plain JSON, no coding named ({out[:80]!r} {r.stderr[-300:]!r})")


def test_an_error_body_gzipped_for_the_program_is_judged_decoded():
    """A program that asks for gzip itself gets its provider's errors gzip'ed
    too: the reasons read from an error's body (a retired model, a context
    exceeded, an empty account) are read from its decoded copy, and fall back
    as they do plainly; a plain 400 still does not, and the program that gets
    the original gets its gzip bytes as they came."""
    import gzip as gz
    m = mock()
    for behaviour, reason, falls in (("404", "model_not_found", True), ("410", "model_not_found", True),
                                      ("context", "context", None), ("400", "client_error", False)):
        m.reset_all()
        m.set("primary", behaviour=behaviour)
        log = new_log(f"gzerr-{behaviour}.log")
        r = run(curl_chat(m, "-H", "Accept-Encoding: gzip", "-w", "\n%{http_code}"), env_for(config(m), log))
        body, _, code = r.stdout.rpartition(b"\n")
        first = [l for l in read_log(log) if l["event"] == "attempt"][0]
        eq((first["provider"], first["reason"]), ("openai", reason), f"{behaviour}: judged on its decoded body")
        if falls:
            eq(code, b"200", f"{behaviour}: fell back")
            check(answer(body).startswith("Hello from backup"), f"{behaviour}: the backup's answer")
        elif falls is False:
            eq(code, b"400", f"{behaviour}: not retried")
            eq(len(m.requests("backup")), 0, f"{behaviour}: no member asked")
            check(body[:2] == b"\x1f\x8b" and b"error" in gz.decompress(body), f"{behaviour}: the gzip bytes as they came")


def test_a_deflated_error_body_is_judged_decoded():
    """deflate as servers send it, zlib's (whose first byte is 'x') and raw
    (whose first byte may be printable: '%' here): a retired model's 404
    asked for by a program that decodes itself is read from its decoded
    body, and falls back."""
    import zlib
    text = json.dumps({"error": {"message": "The model `gpt-4o` does not exist",
                                 "type": "invalid_request_error", "code": "model_not_found"}}).encode()
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    for kind, body in (("zlib", zlib.compress(text)), ("raw", raw.compress(text) + raw.flush())):
        if kind == "raw":
            check(32 <= body[0] < 127 and body[0] != ord("x"), f"raw deflate starting printable ({body[:1]!r})")
        m = mock()
        def reply(c, req, body=body):
            c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Encoding: deflate\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body)
            return True
        srv = RawServer(reply)
        try:
            log = new_log("deflate404.jsonl")
            argv = [CURL, "-s", f"http://127.0.0.1:{srv.port}/v1/chat/completions", "-H", "Content-Type: application/json",
                    "-H", "Accept-Encoding: deflate", "-d", chat_body()]
            r = run(argv, env_for(raw_config(srv, m), log=log))
            check(answer(r.stdout).startswith("Hello from backup"), f"{kind}: fell back ({r.stdout[:100]!r})")
            eq([(x["provider"], x["reason"]) for x in read_log(log) if x.get("event") == "attempt"][0],
               ("openai", "model_not_found"), f"{kind}: judged on its decoded body")
        finally:
            srv.stop()


def test_a_programs_local_port_is_not_a_members():
    """curl --local-port N (one port): the program's provider's connection,
    kept alive after its 503, still holds N, so a member of another server
    connecting from N failed to bind, every time. Members connect from a
    port of their own; the program's next call is made from N again."""
    import socket
    m = mock()
    m.set("primary", behaviour="503")
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    log = new_log("localport.log")
    r = run(curl_chat(m, "--local-port", str(port), "-w", "\n", "--next", *curl_chat(m)[1:],
                      "--local-port", str(port), "-w", "\n"), env_for(config(m), log))
    out = r.stdout.decode().split("\n")
    eq(r.returncode, 0, f"curl ends well ({r.stderr[-200:]!r})")
    check(answer(out[0].encode()).startswith("Hello from backup"), f"the backup answered ({out[:1]!r})")
    check(answer(out[1].encode()).startswith("Hello from backup"), f"and the next call too ({out[1:2]!r})")
    eq([(x["provider"], x["reason"]) for x in read_log(log) if x.get("event") == "attempt"],
       [("openai", "overloaded"), ("backup", "ok")] * 2, "the member connected, both times")
    eq([q["peer_port"] for q in m.requests("primary")], [port, port], "the program's calls from its own port")
    check(all(q["peer_port"] != port for q in m.requests("backup")), "the member's from another")


def test_plain_400_is_not_retried():
    m = mock()
    m.set("primary", behaviour="400")
    r = run(curl_chat(m, "-w", "\n%{http_code}"), env_for(config(m)))
    eq(r.stdout.decode().rpartition("\n")[2], "400", "status")
    eq(len(m.requests("backup")), 0, "no fallback on 400")


def test_hang_times_out_and_falls_back():
    m = mock()
    m.set("primary", behaviour="hang")
    log = new_log("hang.log")
    r = run(curl_chat(m, "-w", "\n%{http_code}"), env_for(config(m), log), timeout=30)
    eq(r.stdout.decode().rpartition("\n")[2], "200", "answered")
    reasons = [l["reason"] for l in read_log(log) if l["event"] == "attempt"]
    check(reasons[0] in ("first_byte_timeout", "timeout"), f"timeout reason {reasons}")


def test_our_limits_end_as_timeouts():
    """A primary silent past timeouts_ms.first_byte, and every member failing:
    curl ends with a timeout (28), not an aborted callback (42); a stream's
    first_token limit holds even with first_byte and total off."""
    m = mock()
    m.set("primary", behaviour="slow:2500")
    for n in ("backup", "spare"):
        m.set(n, behaviour="503")
    r = run(curl_chat(m), env_for(config(m, timeouts_ms={"connect": 2000, "first_byte": 500, "total": 8000})))
    eq(r.returncode, 28, f"curl's timeout exit ({r.stderr.decode()[-200:]})")
    check("timeouts_ms.first_byte" in r.stderr.decode(), f"and says which limit ({r.stderr.decode()[-200:]})")
    m.set("primary", behaviour="stream_slow:2500")
    m.set("backup", behaviour="ok")
    log = new_log("ftoken.log")
    body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    argv = [CURL, "-sS", "-N", "-i", m.base("primary") + "/chat/completions",
            "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", body]
    r = run(argv, env_for(config(m, timeouts_ms={"connect": 2000, "first_byte": 0, "first_token": 500, "total": 0}), log))
    check("x-llmfallback-provider: backup" in r.stdout.decode(), f"the backup's stream ({r.stderr.decode()[-200:]})")
    eq([l["reason"] for l in read_log(log) if l["event"] == "attempt"][0], "first_token_timeout", "why")
    # a stream whose head is late has no first event either (cut at 0.5 s,
    # not by the total limit)
    m.set("primary", behaviour="slow:4000")
    log = new_log("ftoken-head.log")
    r = run(argv, env_for(config(m, timeouts_ms={"connect": 2000, "first_token": 500, "total": 2000}), log))
    check("x-llmfallback-provider: backup" in r.stdout.decode(), f"a late head: the backup's stream ({r.stderr.decode()[-200:]})")
    eq([l["reason"] for l in read_log(log) if l["event"] == "attempt"][0], "first_token_timeout", "a late head: why")
    # only the whole attempt limited: its end is a "timeout" (the first-byte
    # limit, 30 s by default, is cut to it, and was logged as what fired)
    log = new_log("total-only.log")
    r = run(curl_chat(m), env_for(config(m, timeouts_ms={"total": 1000}), log))
    eq([(l["provider"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"][0], ("openai", "timeout"),
       "the total limit's end")


def test_a_first_token_limit_of_zero_is_none():
    """timeouts_ms.first_token 0 is no first-token limit, as 0 is for the
    other limits: a stream whose first event comes after 2.5 s is the
    primary's answer with first_byte at 1 s (0 had been taken for unset,
    which is first_byte's limit: cut at 1 s); unset, first_byte's holds."""
    m = mock()
    m.set("primary", behaviour="stream_slow:2500")
    m.set("backup", behaviour="ok")
    body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    argv = [CURL, "-sS", "-N", "-i", m.base("primary") + "/chat/completions",
            "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", body]
    for ft, want in ((0, ("openai", "ok")), (None, ("openai", "first_token_timeout"))):
        limits = {"connect": 2000, "first_byte": 1000, "total": 10000}
        if ft is not None:
            limits["first_token"] = ft
        log = new_log(f"ftoken-{ft}.log")
        r = run(argv, env_for(config(m, timeouts_ms=limits), log), timeout=30)
        got = [(l["provider"], l["outcome"] if l["outcome"] == "ok" else l["reason"])
               for l in read_log(log) if l["event"] == "attempt"]
        eq(got[:1], [want], f"first_token {ft}: the primary's attempt ({r.stderr.decode()[-200:]})")
        if ft == 0:
            check(r.returncode == 0 and "x-llmfallback-provider" not in r.stdout.decode() and
                  "data: [DONE]" in r.stdout.decode(), f"the primary's whole stream ({r.stdout.decode()[-300:]})")


def test_connection_refused_primary():
    m = mock()
    from harness import free_ports
    dead = free_ports(1)[0]
    cfg = config(m)
    c = json.load(open(cfg))
    c["providers"]["openai"]["base_url"] = f"http://127.0.0.1:{dead}/v1"
    cfg = write_config(c, "dead.json")
    argv = [CURL, "-sS", f"http://127.0.0.1:{dead}/v1/chat/completions",
            "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", chat_body()]
    r = run(argv, env_for(cfg))
    eq(r.returncode, 0, "exit")
    check(answer(r.stdout).startswith("Hello from backup"), "backup answered")
    # and when every member is down too: curl's own error, exactly
    c["providers"]["backup"]["base_url"] = f"http://127.0.0.1:{dead}/v2"
    c["chain"] = ["backup/gpt-4o-mini"]
    cfg = write_config(c, "dead2.json")
    a = run(argv, env_for(preload=False))
    b = run(argv, env_for(cfg))
    # (libcurl's message says how long the connect took: that may differ)
    took = lambda e: re.sub(rb"after [0-9]+ ms", b"after N ms", e)
    eq((b.returncode, b.stdout, took(b.stderr)), (a.returncode, a.stdout, took(a.stderr)),
       "all down: same exit, output and message as without the library")
    eq(a.returncode, 7, "exit 7")


def test_total_failure_returns_original_byte_for_byte():
    m = mock()
    for behaviour in ("503", "429", "529"):
        for args in (["-i"], ["-i", "--fail"], ["-D", "-", "-o", "/dev/null", "-w", "%{http_code} %{size_download}"],
                     ["-w", "%{http_code} %{content_type} %header{content-type}"], ["--fail"]):
            m.reset_all()
            for n in ("primary", "backup", "spare"):
                m.set(n, behaviour=behaviour, retry_after=60)
            a = run(curl_chat(m, *args), env_for(preload=False))
            b = run(curl_chat(m, *args), env_for(config(m)))
            strip = lambda s: b"\n".join(l for l in s.split(b"\n") if not l.lower().startswith(b"date:"))
            eq((b.returncode, strip(b.stdout), b.stderr), (a.returncode, strip(a.stdout), a.stderr),
               f"{behaviour} {args}: same as without the library")
            eq(len(m.requests("backup")) + len(m.requests("spare")), 2 * 1, f"{behaviour}: chain tried")


def test_fail_flag_with_successful_fallback():
    m = mock()
    m.set("primary", behaviour="503")
    r = run(curl_chat(m, "--fail", "-w", "\n%{http_code}"), env_for(config(m)))
    eq(r.returncode, 0, "--fail: exit 0 once the fallback answered")
    eq(r.stdout.decode().rpartition("\n")[2], "200", "status")


def test_secrets_and_log_hygiene():
    m = mock()
    m.set("primary", behaviour="503")
    m.set("backup", behaviour="500")
    log = new_log("secrets.log")
    r = run(curl_chat(m, "-i"), env_for(config(m), log))
    eq(r.returncode, 0, "exit")
    check("Hello from spare" in r.stdout.decode(), "spare answered")
    no_key_leaks(m)
    text = open(log).read()
    for k in KEYS.values():
        check(k not in text, "no key in the log")
    check("hello" not in text, "no request body in the log")
    check(all(k not in r.stderr.decode() for k in KEYS.values()), "no key on stderr")


def test_budget_per_call_exact():
    m = mock()
    for n in ("primary", "backup", "spare"):
        m.set(n, behaviour="503")
    cfg = config(m, chain=("backup/a", "spare/b", "backup/c", "spare/d", "backup/e"),
                 attempts={"per_call": 3, "per_process": 100})
    r = run(curl_chat(m), env_for(cfg))
    total = sum(len(m.requests(n)) for n in ("primary", "backup", "spare"))
    eq(total, 3, "per_call counts every attempt, the original included")
    check('"code"' in r.stdout.decode() or "error" in r.stdout.decode(), "original error body")


def test_budget_per_process_exact():
    m = mock()
    for n in ("primary", "backup", "spare"):
        m.set(n, behaviour="503")
    cfg = config(m, attempts={"per_call": 4, "per_process": 5})
    ex = os.path.join(BUILD, "examples/chat_client")
    r = run([ex, m.base("primary") + "/chat/completions", "-n", "6", "-t", "1"], env_for(cfg))
    eq(len(m.requests("primary")), 6, "every call tried its primary")
    eq(len(m.requests("backup")) + len(m.requests("spare")), 5, "exactly per_process extra attempts")
    check(r.returncode != 0, "calls failed as the primary did")


def test_retry_after_short_same_provider():
    m = mock()
    m.set("primary", behaviour=["429", "ok"], retry_after=1)
    cfg = config(m, retry={"max_wait_ms": 2000})
    r = run(curl_chat(m, "-w", "\n%{http_code}"), env_for(cfg))
    body, _, code = r.stdout.decode().rpartition("\n")
    eq(code, "200", "status")
    check(answer(body).startswith("Hello from primary"), "primary answered after waiting")
    eq(len(m.requests("primary")), 2, "primary asked twice")
    eq(len(m.requests("backup")), 0, "no fallback needed")
    # a longer Retry-After moves on at once
    m.reset_all()
    m.set("primary", behaviour=["429", "ok"], retry_after=30)
    r = run(curl_chat(m), env_for(cfg))
    check(answer(r.stdout).startswith("Hello from backup"), "long Retry-After: backup at once")
    eq(len(m.requests("primary")), 1, "primary asked once")
    # nor is a wait made that the program's own limit on the call (-m 2)
    # would not have waited for: the backup at once, within it
    m.reset_all()
    m.set("primary", behaviour=["429", "ok"], retry_after=3)
    r = run(curl_chat(m, "-m", "2"), env_for(config(m, retry={"max_wait_ms": 20000})))
    check(answer(r.stdout).startswith("Hello from backup"), "a wait past -m: backup at once")
    eq(len(m.requests("primary")), 1, "primary asked once")
    # asking the original again is an extra attempt: per_call and per_process count it
    for limits in ({"per_call": 1}, {"per_process": 0}):
        m.reset_all()
        m.set("primary", behaviour=["429", "ok"], retry_after=1)
        r = run(curl_chat(m, "-w", "\n%{http_code}"), env_for(config(m, retry={"max_wait_ms": 2000}, attempts=limits)))
        eq(r.stdout.decode().rpartition("\n")[2], "429", f"{limits}: the original failure")
        eq(len(m.requests("primary")), 1, f"{limits}: the primary asked once")


def test_disabled_is_pure_pass_through():
    m = mock()
    m.set("primary", behaviour="503")
    r = run(curl_chat(m, "-w", "\n%{http_code}"), env_for(config(m), extra={"LLMFALLBACK_DISABLE": "1"}))
    eq(r.stdout.decode().rpartition("\n")[2], "503", "the program sees the 503")
    eq(len(m.requests("backup")), 0, "no fallback")
    # what a user writes for "not disabled" is not disabled
    for v in ("0", "false", "No", "off", ""):
        r = run(curl_chat(m, "-w", "\n%{http_code}"), env_for(config(m), extra={"LLMFALLBACK_DISABLE": v}))
        eq(r.stdout.decode().rpartition("\n")[2], "200", f"LLMFALLBACK_DISABLE={v!r}: fallback")


def test_non_llm_download_byte_identical():
    m = mock()
    url = f"http://127.0.0.1:{m.port('primary')}/_mock/blob?size=3000000&seed=7"
    a = run([CURL, "-sS", url], env_for(preload=False))
    b = run([CURL, "-sS", url], env_for(config(m)))
    eq(len(a.stdout), 3000000, "size")
    eq(sha(b.stdout), sha(a.stdout), "same bytes with and without the library")
    # a POST that is not a completion call passes untouched too
    url2 = m.base("primary") + "/embeddings"
    a = run([CURL, "-sS", "-i", url2, "-d", "{}"], env_for(preload=False))
    b = run([CURL, "-sS", "-i", url2, "-d", "{}"], env_for(config(m)))
    strip = lambda s: b"\n".join(l for l in s.split(b"\n") if not l.lower().startswith(b"date:"))
    eq(strip(b.stdout), strip(a.stdout), "non-completion POST identical")


def test_bad_config_passes_through_with_one_line():
    m = mock()
    m.set("primary", behaviour="503")
    fifo = os.path.join(tempfile.mkdtemp(dir=tmpdir()), "config.fifo")
    os.mkfifo(fifo)
    cases = [
        (write_config('{"chain": ["backup/x",]}', "broken.json"), {}, "not valid JSON"),
        (config(m), {"LLMFALLBACK_CHAIN": "nosuch/model"}, "unknown provider"),
        (write_config({"chain": ["mistral/mistral-small"]}, "nokey.json"), {}, "MISTRAL_API_KEY is not set"),
        ("/nonexistent/llmfallback.json", {}, "cannot read config"),
        # a long path is shown by its end: the reason stays on the line
        ("/nonexistent" + "/d" * 250 + "/llmfallback.json", {},
         "/d/d/llmfallback.json: No such file or directory; passing calls through untouched"),
        (tempfile.mkdtemp(dir=tmpdir()), {}, "Is a directory"),
        (fifo, {}, "empty"),   # (with no writer: read once, as empty, without waiting)
        (config(m), {"LLMFALLBACK_CHAIN": ","}, "LLMFALLBACK_CHAIN: names no provider/model"),
        (write_config({"ca_bundle": "/nonexistent/ca.pem"}, "ca.json"), {}, "ca_bundle /nonexistent/ca.pem"),
        # a member's key that would add a header line to its requests
        (config(m), {"BACKUP_KEY": KEYS["BACKUP_KEY"] + "\r\nX-Injected: yes"}, "BACKUP_KEY is not a usable key"),
        # a key pasted as an entry is not echoed
        (config(m), {"LLMFALLBACK_CHAIN": "backup/x,sk-ant-api03-Tyz2hbReelLIFuoqoWk91QZxhL4mrMo7Hr0FswvDMxu6VvAEJ"},
         "LLMFALLBACK_CHAIN: chain names an unknown provider (not shown: it may be a key"),
        # names that would add header lines to the program's answer
        (config(m), {"LLMFALLBACK_CHAIN": "backup/gpt-4o-mini\r\nX-Evil: 2"},
         "LLMFALLBACK_CHAIN: chain entry holds a control character in its model"),
        (write_config({"providers": {"bk\r\nX-Evil: 1": {"dialect": "openai", "base_url": m.base("backup"),
                                                          "api_key_env": "BACKUP_KEY"}},
                       "chain": ["bk\r\nX-Evil: 1/gpt-4o-mini"]}, "evilname.json"), {},
         "a provider's name in \"providers\" holds a control character"),
        (write_config({"chain": [""]}, "emptyentry.json"), {}, "a chain entry is empty"),
    ]
    for cfg, extra, needle in cases:
        r = run(curl_chat(m, "-i", "-w", "\n%{http_code}"), env_for(cfg, extra=extra))
        check(b"X-Evil" not in r.stdout, f"{needle}: no header of a name's in the answer")
        err = r.stderr.decode()
        lines = [l for l in err.splitlines() if l.startswith("llmfallback:")]
        eq(len(lines), 1, f"{needle}: one stderr line")
        check(needle in lines[0], f"{needle}: names the problem ({lines[0]!r})")
        check("X-Injected" not in err and "Tyz2" not in err and KEYS["BACKUP_KEY"] not in err, f"{needle}: no key shown")
        eq(r.stdout.decode().rpartition("\n")[2], "503", f"{needle}: pass-through")
    eq(len(m.requests("backup")), 0, "no fallback with a bad config")


def test_a_config_whose_writer_never_ends_is_given_up():
    """LLMFALLBACK_CONFIG=<(...) whose writer keeps the pipe open: the
    library's load, which holds the program's signals, waited for its end,
    and the program with it, past `timeout` (rev29). Now it gives up after
    5 s with one line, and the call passes through."""
    m = mock()
    m.set("primary", behaviour="503")
    env = env_for(config(m))
    cfg = env.pop("LLMFALLBACK_CONFIG")
    argv = ["bash", "-c", 'LLMFALLBACK_CONFIG=<(cat "$1"; exec sleep 40 2>/dev/null) exec "${@:2}"', "-", cfg] + \
        curl_chat(m, "-w", "\n%{http_code}")
    r = run(argv, env, timeout=30)
    lines = [l for l in r.stderr.decode().splitlines() if l.startswith("llmfallback:")]
    eq(len(lines), 1, f"one stderr line ({r.stderr.decode()[-300:]!r})")
    check("its writer has not ended it after 5 s; passing calls through untouched" in lines[0], f"says why: {lines[0]!r}")
    eq(r.stdout.decode().rpartition("\n")[2], "503", "pass-through")
    eq(len(m.requests("backup")), 0, "no fallback")


def test_a_key_read_with_its_newline_is_sent_without_it():
    """A key variable as a Kubernetes secret made --from-file gives it (a
    newline after the key) or written with spaces around it: the member is
    sent the key alone, as its server expects it."""
    m = mock()
    m.set("primary", behaviour="503")
    for value in (KEYS["BACKUP_KEY"] + "\n", " \t" + KEYS["BACKUP_KEY"] + " \r\n"):
        m.reset_all()
        r = run(curl_chat(m), env_for(config(m), extra={"BACKUP_KEY": value}))
        check(answer(r.stdout).startswith("Hello from backup"), f"{value!r}: the backup answers ({r.stdout[:200]!r})")
        eq([q["headers"].get("authorization") for q in m.requests("backup")],
           ["Bearer " + KEYS["BACKUP_KEY"]], f"{value!r}: the key alone")
    no_key_leaks(m)
    # a provider that is no member with a key refused: said in one line, and
    # the chain serves as before
    m.reset_all()
    r = run(curl_chat(m), env_for(config(m), extra={"OPENAI_API_KEY": "sk-SECRET x"}))
    check(answer(r.stdout).startswith("Hello from backup"), "the chain serves")
    lines = [l for l in r.stderr.decode().splitlines() if l.startswith("llmfallback:")]
    check(len(lines) == 1 and "provider openai: OPENAI_API_KEY is not a usable key" in lines[0] and
          "SECRET" not in lines[0], f"one line names the variable only ({lines!r})")


def test_the_programs_key_in_a_header_of_its_own_stays_home():
    """The program's key sent again in a header whose name says nothing of
    a key (X-Custom) is not sent to another provider's member."""
    m = mock()
    m.set("primary", behaviour="503")
    r = run(curl_chat(m, "-H", "X-Custom: " + KEYS["OPENAI_API_KEY"], "-H", "X-Trace: t-1"), env_for(config(m)))
    check(answer(r.stdout).startswith("Hello from backup"), "the backup answers")
    got = m.requests("backup")[0]["headers"]
    check("x-custom" not in got and got.get("x-trace") == "t-1", f"X-Custom left out, X-Trace kept ({sorted(got)})")
    no_key_leaks(m)


def test_the_programs_key_given_as_a_login_option_stays_home_in_its_other_headers():
    """The program's key given through a libcurl option (-u, --oauth2-bearer,
    -b), in no header line, or in a Basic header, which shows the password
    only in base64, and sent again in a header whose name says nothing of a
    key (X-Custom): that header is not sent to another provider's member."""
    m = mock()
    prog = KEYS["OPENAI_API_KEY"]
    basic = base64.b64encode(f"u1:{prog}".encode()).decode()
    url = m.base("primary") + "/chat/completions"
    for how in (["-u", f"u1:{prog}"], ["--oauth2-bearer", prog], ["-b", f"sid={prog}"],
                ["-H", f"Authorization: Basic {basic}"]):
        m.reset_all()
        m.set("primary", behaviour="503")
        r = run([CURL, "-sS", url, "-H", "Content-Type: application/json", *how, "-H", f"X-Custom: {prog}",
                 "-H", "X-Trace: t-1", "-d", chat_body("gpt-4o", "hello")], env_for(config(m)))
        check(answer(r.stdout).startswith("Hello from backup"), f"{how[0]}: the backup answers")
        got = m.requests("backup")[0]["headers"]
        check("x-custom" not in got and got.get("x-trace") == "t-1", f"{how[0]}: X-Custom left out ({sorted(got)})")
        no_key_leaks(m)


def test_a_provider_at_another_server_than_the_program_called_gets_none_of_its_credentials():
    """A built-in provider whose base URL the config moved (ollama to the
    backup's server) is still recognised at its official URL, which the
    program calls (here reaching the primary through --connect-to): its
    member goes to the configured server, another server than the program
    addressed, and is sent none of the program's credentials (Authorization,
    a key= or api_key= in the query, a header carrying one); only its own
    key, when it has one."""
    m = mock()
    m.set("primary", behaviour="503")
    prog = KEYS["OPENAI_API_KEY"]
    cfg = write_config({"providers": {"ollama": {"base_url": m.base("backup")}}, "chain": ["ollama/llama3.2"]},
                       "other_server.json")
    url = f"http://localhost:11434/v1/chat/completions?key={prog}&api_key={prog}&v=1"
    argv = [CURL, "-sS", url, "--connect-to", f"localhost:11434:127.0.0.1:{m.port('primary')}",
            "-H", "Content-Type: application/json", "-H", f"Authorization: Bearer {prog}", "-H", f"X-Custom: {prog}",
            "-H", "X-Trace: t-1", "-d", chat_body("qwen", "hello")]
    for key in (None, KEYS["BACKUP_KEY"]):
        m.reset_all()
        m.set("primary", behaviour="503")
        r = run(argv, env_for(cfg, extra={"OLLAMA_API_KEY": key} if key else None))
        eq(len(m.requests("primary")), 1, f"{key}: the program's own request went to its server")
        got = m.requests("backup")
        eq(len(got), 1, f"{key}: the member went to the configured server")
        blob = json.dumps(got[0]["headers"]) + got[0]["path"] + str(got[0].get("query"))
        check(prog not in blob, f"{key}: none of the program's credentials ({blob})")
        eq((got[0]["credential"], got[0]["headers"].get("x-trace"), got[0].get("query") or ""), (key, "t-1", ""),
           f"{key}: its own key or none, the program's other headers, no query of the program's")
        if key:
            check(answer(r.stdout).startswith("Hello from backup"), "the member answers")


def test_a_chain_variable_ending_in_a_newline():
    """LLMFALLBACK_CHAIN as a file or a YAML block gives it: the white space
    around each entry, newlines included, is not part of it."""
    m = mock()
    m.set("primary", behaviour="503")
    r = run(curl_chat(m), env_for(config(m), extra={"LLMFALLBACK_CHAIN": "backup/gpt-4o-mini,\n spare/gpt-4o-mini\n"}))
    check(answer(r.stdout).startswith("Hello from backup (gpt-4o-mini)"), f"the backup answers ({r.stderr[-300:]!r})")
    check(b"llmfallback:" not in r.stderr, "without a word")


def test_chain_from_keys_when_no_chain():
    m = mock()
    m.set("primary", behaviour="503")
    cfg = write_config({"providers": {
        "openai": {"base_url": m.base("primary")},
        "backup": {"base_url": m.base("backup"), "api_key_env": "BACKUP_KEY", "model": "gpt-4o-mini"}}},
        "nochain.json")
    # only these keys: every built-in with a key joins the chain, and the tests
    # must never reach a provider beyond loopback
    env = env_for(cfg, keys=False, extra={"OPENAI_API_KEY": KEYS["OPENAI_API_KEY"],
                                          "BACKUP_KEY": KEYS["BACKUP_KEY"]})
    log = new_log("nochain.log")
    env["LLMFALLBACK_LOG"] = log
    r = run(curl_chat(m), env)
    check(answer(r.stdout).startswith("Hello from backup (gpt-4o-mini)"), "backup from its key")
    tried = [(l["provider"], l["model"]) for l in read_log(log) if l["event"] == "attempt"]
    eq(tried, [("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("backup", "gpt-4o-mini")],
       "chain: the providers whose key is set, default models")


def test_stream_translated_from_another_dialect():
    m = mock()
    m.set("primary", behaviour="503")
    log = new_log("stream.log")
    cfg = config(m, chain=("anthropic/claude-x", "backup/gpt-4o-mini"))
    body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    r = run([CURL, "-sS", "-N", "-i", m.base("primary") + "/chat/completions",
             "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", body], env_for(cfg, log))
    out = r.stdout.decode()
    head, _, events = out.partition("\r\n\r\n")
    check("text/event-stream" in head.lower() and "x-llmfallback-provider: anthropic" in head, "Anthropic's stream")
    chunks = [json.loads(l[6:]) for l in events.splitlines() if l.startswith("data: {")]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    eq(text, "Hello from claude (claude-x)", "its text, as OpenAI chunks")
    check(all(c["object"] == "chat.completion.chunk" for c in chunks), "chunk objects")
    eq(chunks[-1]["choices"][0]["finish_reason"], "stop", "finish")
    check(events.rstrip().endswith("data: [DONE]"), "OpenAI's terminator")
    sent = json.loads(m.requests("claude")[0]["body"])
    check(sent.get("stream") is True and "max_tokens" in sent, "an Anthropic streaming request")
    eq(len(m.requests("backup")), 0, "the first member answered")


def test_a_translated_stream_is_not_given_the_members_length():
    """A member's stream framed with a Content-Length (not chunked) is
    translated into the program's dialect: another length, so the program
    is told none, in its header callback or its getinfo, and reads the
    whole stream."""
    m = mock()
    m.set("primary", behaviour="503")
    events = "".join(f"event: {e}\ndata: {json.dumps(d)}\n\n" for e, d in (
        ("message_start", {"type": "message_start", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x", "content": [],
            "stop_reason": None, "usage": {"input_tokens": 3, "output_tokens": 0}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": "Hello framed"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                           "usage": {"output_tokens": 2}}),
        ("message_stop", {"type": "message_stop"}))).encode()
    def reply(c, req):
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: %d\r\n\r\n" % len(events)
                  + events)
        return True
    srv = RawServer(reply)
    try:
        cfg = write_config({"providers": {
            "openai": {"base_url": m.base("primary")},
            "framed": {"dialect": "anthropic", "base_url": f"http://127.0.0.1:{srv.port}/v1",
                       "api_key_env": "ANTHROPIC_API_KEY"}},
            "chain": ["framed/claude-x"]})
        body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
        r = run([CURL, "-sS", "-N", "-i", m.base("primary") + "/chat/completions",
                 "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", body,
                 "-w", "\nsize=%{size_download} length=%header{content-length}"], env_for(cfg))
        out = r.stdout.decode()
        head, _, rest = out.partition("\r\n\r\n")
        stream, _, info = rest.rpartition("\n")
        eq(r.returncode, 0, f"curl ends well ({r.stderr[-200:]!r})")
        check("x-llmfallback-provider: framed" in head.lower(), "the member's stream")
        check("content-length" not in head.lower(), f"no Content-Length given ({head!r})")
        chunks = [json.loads(l[6:]) for l in stream.splitlines() if l.startswith("data: {")]
        eq("".join(c["choices"][0]["delta"].get("content") or "" for c in chunks), "Hello framed", "its text")
        check(stream.rstrip().endswith("data: [DONE]"), "the whole stream")
        eq(info, f"size={len(stream.encode())} length=", "getinfo: the size given, and no length")
    finally:
        srv.stop()


def test_anthropic_caller_same_dialect():
    m = mock()
    m.set("claude", behaviour=["529", "ok"], retry_after=60)
    cfg = config(m, chain=("anthropic/claude-haiku-4-5", "backup/gpt-4o-mini"))
    url = m.base("claude") + "/messages"
    body = json.dumps({"model": "claude-opus-4-7", "max_tokens": 64,
                       "messages": [{"role": "user", "content": "hi"}]})
    r = run([CURL, "-sS", url, "-H", f"x-api-key: {KEYS['ANTHROPIC_API_KEY']}",
             "-H", "anthropic-version: 2023-06-01", "-H", "content-type: application/json",
             "-d", body], env_for(cfg))
    out = json.loads(r.stdout)
    eq(out["type"], "message", "an Anthropic answer")
    check(out["content"][0]["text"].startswith("Hello from claude (claude-haiku-4-5)"), "other model")
    reqs = m.requests("claude")
    eq([json.loads(q["body"])["model"] for q in reqs], ["claude-opus-4-7", "claude-haiku-4-5"], "models")
    eq(reqs[1]["headers"].get("anthropic-version"), "2023-06-01", "version header kept")


def test_upload_bodies_stdin_and_file():
    m = mock()
    m.set("primary", behaviour="503")
    body = chat_body(text="from stdin [rid:up-1]").encode()
    url = m.base("primary") + "/chat/completions"
    auth = f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}"
    for args in (["-T", "-", "-X", "POST"], ["--data-binary", "@-"]):
        m.reset_all()
        m.set("primary", behaviour="503")
        r = run([CURL, "-sS", url, "-H", auth, "-H", "Content-Type: application/json"] + args,
                env_for(config(m)), input=body)
        out = answer(r.stdout)
        check(out.startswith("Hello from backup") and "[rid:up-1]" in out, f"{args}: body replayed")
        eq(json.loads(m.requests("primary")[0]["body"])["messages"][0]["content"],
           "from stdin [rid:up-1]", f"{args}: original body intact")


def test_libcurl_program_threads_and_handle_reuse():
    m = mock()
    m.set("primary", behaviour=["503", "ok"])   # alternate per request
    ex = os.path.join(BUILD, "examples/chat_client")
    for mode in ("posts", "copy", "read"):
        m.reset_all()
        m.set("primary", behaviour="503")
        r = run([ex, m.base("primary") + "/chat/completions", "-n", "3", "-t", "8", "--body", mode],
                env_for(config(m)))
        lines = r.stdout.decode().splitlines()
        eq(len(lines), 24, f"{mode}: 24 calls")
        eq(r.returncode, 0, f"{mode}: every call answered with its own tag")
        check(all("status=200 provider=backup rid=ok" in l for l in lines), f"{mode}: via backup")
        eq(len(m.requests("primary")), 24, f"{mode}: handle restored, primary first every call")
    # the handle is restored: after a fallback, the next call is plain again
    m.reset_all()
    m.set("primary", behaviour=["503", "ok", "ok"])
    r = run([ex, m.base("primary") + "/chat/completions", "-n", "3", "-t", "1"], env_for(config(m)))
    providers = [l.split("provider=")[1].split()[0] for l in r.stdout.decode().splitlines()]
    eq(providers, ["backup", "-", "-"], "first call fell back, the next two went straight through")
    no_key_leaks(m)


def test_curl_header_json_and_getinfo_after_fallback():
    m = mock()
    m.set("primary", behaviour="503")
    r = run(curl_chat(m, "-o", "/dev/null", "-w",
                      "%{http_code}|%{content_type}|%{size_download}|%{size_upload}|%{url_effective}|%{header_json}"),
            env_for(config(m)))
    code, ctype, size, up, url, hj = r.stdout.decode().split("|", 5)
    eq(up, str(len(chat_body())), "size_upload is the program's body (not the member's, rewritten)")
    eq(code, "200", "http_code")
    eq(ctype, "application/json", "content_type")
    check(int(size) > 0, "size_download")
    eq(url, m.base("primary") + "/chat/completions", "url_effective is what the program asked")
    h = json.loads(hj)
    eq(h.get("x-llmfallback-provider"), ["backup"], "header_json")
    eq(h.get("content-length"), [size], "content-length == size_download")


def test_duphandle_fork_reset():
    m = mock()
    m.set("primary", behaviour="503")
    log = new_log("handles.log")
    prog = os.path.join(BUILD, "progs/handles")
    blob = f"http://127.0.0.1:{m.port('backup')}/_mock/blob?size=1000&seed=1"
    r = run([prog, m.base("primary") + "/chat/completions", blob], env_for(config(m), log))
    out = r.stdout.decode()
    eq(r.returncode, 0, f"every step answered: {out}")
    for step in ("first", "duphandle", "child", "parent-after-fork"):
        check(f"{step} pid=" in out and "answer=backup" in out.split(f"{step} pid=")[1].split("\n")[0],
              f"{step}: fell back to backup")
    check("reset-download status=200 bytes=1000" in out, "reset handle downloads untouched")
    lines = read_log(log)
    pids = {l["pid"] for l in lines if l["event"] == "summary"}
    eq(len(pids), 2, "one summary per process (parent and child)")
    child = [l for l in lines if l["event"] == "summary" and l["calls"] == 1]
    eq(len(child), 1, "the child counts only its own call")
    eq(len(m.requests("backup")), 4, "four fallbacks")


def test_idle_process_loads_nothing():
    """A process that makes no network call: no core, no cJSON, no libcurl,
    no thread. One that looks up names and talks TCP to hosts that are not a
    provider's (another port of a provider's address, too): still nothing
    loaded (the shim's gate: no base URL names them), no thread, its bytes
    untouched. One that connects to a provider's address loads the core."""
    m = mock()
    code = ("import os,sys,urllib.request;data=urllib.request.urlopen(sys.argv[1]).read() if len(sys.argv)>1 else b'';"
            "maps=open('/proc/self/maps').read();"
            "print('core' if 'libllmfallback-core' in maps else '-', 'cjson' if 'libcjson' in maps else '-',"
            "'curl' if 'libcurl' in maps else '-', open('/proc/self/status').read().split('Threads:')[1].split()[0],"
            "__import__('hashlib').sha256(data).hexdigest()[:16])")
    r = run(["/usr/bin/python3", "-c", code], env_for(config(m)))
    eq(r.stdout.decode().split()[:4], ["-", "-", "-", "1"], "python without network: nothing loaded, one thread")
    # a config whose providers are elsewhere: the mock's blob is not a provider
    other = write_config({"providers": {"openai": {"base_url": "http://127.0.0.1:9/v1"}}, "chain": []}, "other.json")
    url = f"http://127.0.0.1:{m.port('backup')}/_mock/blob?size=100000&seed=5"
    a = run(["/usr/bin/python3", "-c", code, url], env_for(preload=False))
    b = run(["/usr/bin/python3", "-c", code, url], env_for(other))
    eq(b.stdout.decode().split()[3:], a.stdout.decode().split()[3:], "non-provider TCP: one thread, same bytes")
    eq(b.stdout.decode().split()[:3], ["-", "-", "-"], "non-provider TCP: no core, no cJSON, no libcurl loaded")
    c = run(["/usr/bin/python3", "-c", "import socket; socket.getaddrinfo('localhost', 6379); " + code, url],
            env_for(other))
    eq(c.stdout.decode().split()[:3], ["-", "-", "-"], "a name lookup of a host no base URL names: nothing loaded")
    # lookups without a port (Node's, always) of localhost (the built-in
    # ollama's host) and of a provider's address literal: connect decides
    c = run(["/usr/bin/python3", "-c", "import socket; socket.getaddrinfo('localhost', None); "
             "socket.getaddrinfo('127.0.0.1', None); socket.getaddrinfo('::1', None); " + code, url], env_for(other))
    eq(c.stdout.decode().split()[:3], ["-", "-", "-"], "a lookup of localhost or an address, no port: nothing loaded")
    # a lookup of a host that the config names only as a provider or a
    # model ("vm", whose key is not set): the gate took any word of the
    # text for a host, and the core loaded and warned of the key
    vm = write_config({"providers": {"vm": {"dialect": "openai", "base_url": "http://127.0.0.1:9/v1",
                                            "api_key_env": "VM_KEY_UNSET"}},
                       "chain": ["vm/gpt-4o-mini", "openai/vm"]}, "vm.json")
    c = run(["/usr/bin/python3", "-c", "import socket\ntry: socket.getaddrinfo('vm', 5432)\nexcept OSError: pass\n" + code],
            env_for(vm))
    eq((c.stdout.decode().split()[:3], c.stderr.decode()), (["-", "-", "-"], ""),
       "a lookup of a provider's or a model's name as a host: nothing loaded, nothing said")
    # a configuration with a NUL byte in it (refused by the core, where a
    # call loads it) is still read by the gate past the NUL: it made every
    # process load the core at its first connection to anything
    nul = os.path.join(os.path.dirname(other), "nul.json")
    with open(other, "rb") as f, open(nul, "wb") as g:
        g.write(f.read().replace(b'"chain"', b'"chain"\0', 1))
    e = run(["/usr/bin/python3", "-c", code, url], env_for(nul))
    eq(e.stdout.decode().split()[:3], ["-", "-", "-"], f"a config with a NUL byte: nothing loaded ({e.stderr[-200:]!r})")
    # a configuration path that cannot be read may have named any host: a
    # process's first connection loads the core, which says so in one line
    # (as README says), a process without any, nothing
    missing = os.path.join(os.path.dirname(other), "no-such-config.json")
    e = run(["/usr/bin/python3", "-c", code, url], env_for(missing))
    eq(e.stdout.decode().split()[0], "core", "an unreadable config, any host: the core")
    eq(len([l for l in e.stderr.decode().splitlines() if "cannot read config" in l]), 1, "one line says why")
    e = run(["/usr/bin/python3", "-c", code], env_for(missing))
    eq((e.stdout.decode().split()[:3], e.stderr.decode()), (["-", "-", "-"], ""), "and without a connection, nothing")
    # the same program, to a provider's address (not an LLM call) loads the core
    d = run(["/usr/bin/python3", "-c", code, f"http://127.0.0.1:{m.port('primary')}/_mock/blob?size=10&seed=1"],
            env_for(config(m)))
    eq(d.stdout.decode().split()[0], "core", f"a provider's address loads the core ({d.stdout[:80]!r} {d.stderr[-200:]!r})")


def test_stream_first_event_decides():
    m = mock()
    body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    argv = [CURL, "-sS", "-N", "-i", m.base("primary") + "/chat/completions",
            "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", body]
    for behaviour, reason in (("stream_error", "error_event"), ("stream_empty", "empty_stream"),
                              ("stream_garbage", "not_json"), ("stream_error_framed", "error_event")):
        m.reset_all()
        m.set("primary", behaviour=behaviour)
        log = new_log("sfirst.log")
        r = run(argv, env_for(config(m), log))
        out = r.stdout.decode()
        check("x-llmfallback-provider: backup" in out and out.rstrip().endswith("data: [DONE]"),
              f"{behaviour}: only the fallback's stream reached curl")
        check("upstream reset" not in out and "overloaded" not in out, f"{behaviour}: nothing of the primary's")
        first = [l for l in read_log(log) if l["event"] == "attempt"][0]
        eq(first["reason"], reason, f"{behaviour}: why")
    # no first event in time: the first-token limit
    m.reset_all()
    m.set("primary", behaviour="stream_slow:3000")
    log = new_log("sslow.log")
    r = run(argv, env_for(config(m, timeouts_ms={"connect": 2000, "first_token": 800, "total": 8000}), log))
    check("x-llmfallback-provider: backup" in r.stdout.decode(), "a late first token: fallback")
    eq([l for l in read_log(log) if l["event"] == "attempt"][0]["reason"], "first_token_timeout", "why")
    # a good stream is passed through as it arrives, first event held back only
    m.reset_all()
    m.set("primary", behaviour="ok")
    r = run(argv, env_for(config(m)))
    out = r.stdout.decode()
    check("x-llmfallback" not in out and out.rstrip().endswith("data: [DONE]"), "the primary's own stream")


def test_an_anthropic_stream_is_judged_past_message_start():
    """message_start, the first text block's start (no text yet) and ping
    open every Anthropic stream at once, before any answer: an
    overloaded_error after them falls back like one in their place, and the
    program sees only the fallback's stream."""
    m = mock()
    m.set("claude", behaviour="stream_error_framed")
    body = json.dumps({"model": "claude-sonnet-4-5", "max_tokens": 100, "stream": True,
                       "messages": [{"role": "user", "content": "hi"}]})
    argv = [CURL, "-sS", "-N", "-i", m.base("claude") + "/messages", "-H", f"x-api-key: {KEYS['ANTHROPIC_API_KEY']}",
            "-H", "anthropic-version: 2023-06-01", "-H", "Content-Type: application/json", "-d", body]
    log = new_log("aframed.log")
    r = run(argv, env_for(config(m), log))
    out = r.stdout.decode()
    check("x-llmfallback-provider: backup" in out and "event: message_stop" in out, "the fallback's stream, translated")
    check("overloaded" not in out.lower(), "nothing of the primary's")
    eq(out.count("event: message_start"), 1, "one stream's opening")
    eq([l for l in read_log(log) if l["event"] == "attempt"][0]["reason"], "error_event", "why")


def test_a_translated_member_that_errs_after_its_opening_events_falls_back():
    """An Anthropic member, translated for an OpenAI program, opens its
    stream (message_start, a text block's start, ping) and reports an
    overload before any text: the next member answers, and the program sees
    its stream alone (not a translated role chunk, then a broken transfer)."""
    m = mock()
    m.set("primary", behaviour="503")
    m.set("claude", behaviour="stream_error_framed")
    body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    argv = [CURL, "-sS", "-N", "-i", m.base("primary") + "/chat/completions",
            "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", body]
    log = new_log("mframed.log")
    r = run(argv, env_for(config(m, chain=("anthropic/claude-sonnet-4-5", "backup/gpt-4o-mini")), log))
    out = r.stdout.decode()
    eq(r.returncode, 0, f"a whole transfer ({r.stderr.decode()[-200:]})")
    check("x-llmfallback-provider: backup" in out and out.rstrip().endswith("data: [DONE]"), "the backup's stream")
    eq(out.count('"role"'), 1, "one stream's opening")
    eq([(l["provider"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"],
       [("openai", "overloaded"), ("anthropic", "error_event"), ("backup", "ok")], "why")


def test_a_translated_stream_that_errs_after_text_is_a_broken_transfer():
    """A member of another dialect sends text and then an error event in
    one read: the text translated before it reaches the program, and the
    transfer ends broken (18, as a cut one), not as a failure of the
    program's own write callback (23) nor as complete."""
    m = mock()
    m.set("primary", behaviour="503")
    m.set("claude", behaviour="stream_error_after_text")
    body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    argv = [CURL, "-sS", "-N", m.base("primary") + "/chat/completions",
            "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", body]
    r = run(argv, env_for(config(m, chain=("anthropic/claude-sonnet-4-5",))))
    out = r.stdout.decode()
    eq(r.returncode, 18, f"a broken transfer ({r.stderr.decode()[-200:]})")
    text = "".join(json.loads(l[6:])["choices"][0]["delta"].get("content") or ""
                   for l in out.splitlines() if l.startswith("data: {"))
    check(text.startswith("Hello"), f"the text before the error arrived ({out[-300:]})")
    check("[DONE]" not in out and "overloaded" not in out.lower(), "not passed off as complete")


def test_stream_broken_after_first_token_is_not_complete():
    m = mock()
    m.set("primary", behaviour="stream_break")
    body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    argv = [CURL, "-sS", "-N", m.base("primary") + "/chat/completions",
            "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", body]
    a = run(argv, env_for(preload=False))
    b = run(argv, env_for(config(m)))
    check(b.returncode != 0 and "[DONE]" not in b.stdout.decode(), "the program sees the break, not an answer")
    eq(b.returncode, a.returncode, "the same failure as without the library")
    eq(len(m.requests("backup")), 0, "tokens were out: no fallback")


def test_through_a_connect_proxy_the_servers_answer_is_judged():
    """Through a tunnelling proxy (curl -p -x, or https_proxy) libcurl hands
    the proxy's "200 Connection established" block to the header callback
    before the server's. That block is not the answer: a 400 stream call
    reaches the program as the server sent it, and the first-byte limit
    still waits for the server."""
    m = mock()
    proxy = RawServer(connect_proxy)
    try:
        body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
        via = ["-p", "-x", f"http://127.0.0.1:{proxy.port}"]
        argv = [CURL, "-sS", "-N", m.base("primary") + "/chat/completions",
                "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", body, "-w", "\n%{http_code}"] + via
        m.set("primary", behaviour="400")
        a = run(argv, env_for(preload=False))
        log = new_log("proxy400.log")
        b = run(argv, env_for(config(m), log))
        eq(b.stdout, a.stdout, "the 400 as the server sent it")
        check(b.stdout.decode().endswith("\n400"), "status 400")
        eq(len(m.requests("backup")), 0, "a 400 is not worth another provider")
        eq([(l["status"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"], [(400, "client_error")], "judged by the status")
        check(proxy.connections >= 2, "both went through the proxy")
        # a good stream still goes live through the tunnel
        m.set("primary", behaviour="ok")
        r = run(argv, env_for(config(m)))
        out = r.stdout.decode()
        check("primary" in out and out.endswith("data: [DONE]\n\n\n200"), "the primary's stream")
        eq(len(m.requests("backup")), 0, "no fallback for a good stream")
        # the proxy's reply is not the server's first byte
        m.reset_all()
        m.set("primary", behaviour="slow:2500")
        log = new_log("proxyslow.log")
        r = run(curl_chat(m, *via), env_for(config(m), log))
        eq(r.returncode, 0, "curl exit")
        check("backup" in answer(r.stdout), "a late server: fallback")
        eq([l for l in read_log(log) if l["event"] == "attempt"][0]["reason"], "first_byte_timeout", "why")
    finally:
        proxy.stop()


def curlstate(m, case, *urls, preload=True, timeout=20, cfg=None, log=None):
    prog = os.path.join(BUILD, "progs/curlstate")
    return run([prog, case, m.base("primary") + "/chat/completions", *urls],
               env_for(cfg or config(m), log, preload=preload), timeout=timeout)


def lines(r):
    return r.stdout.decode(errors="replace").splitlines()


def test_a_handle_where_libcurls_own_doh_handle_was():
    """libcurl makes and frees DoH handles itself, setting their options
    through the same curl_easy_setopt a program calls; a program's next
    handle may be given one's address. What was recorded for the DoH handle
    must not become the new handle's (its write callback, its body size):
    the call falls back and its answer reaches libcurl's default writer.
    And the method is libcurl's: NOBODY 0 after POSTFIELDS is a POST still."""
    m = mock()
    m.set("primary", behaviour="503")
    doh = f"http://127.0.0.1:{m.port('backup')}/dns-query"
    r = curlstate(m, "doh", doh)
    eq(r.stderr.decode().split("\n")[1:2], ["chat 0 200"], f"the call answered ({r.stderr.decode()[-300:]})")
    check(b"Hello from backup" in r.stdout, f"the fallback's answer on stdout ({r.stdout[:80]!r})")
    # inside the callbacks of a stream a member gives live, getinfo describes
    # what the program is given, as it does after the call
    m.reset_all()
    m.set("primary", behaviour="503")
    r = curlstate(m, "liveinfo")
    url = m.base("primary") + "/chat/completions"
    eq(lines(r), [f"during 200 {url}", f"after 0 200 {url}"], "getinfo during a live fallback stream, and after")
    # NOBODY 0 after POSTFIELDS leaves a POST (libcurl undoes only a HEAD): managed
    m.reset_all()
    r = curlstate(m, "nobody0")
    check("Hello from backup" in r.stdout.decode() and "chat 0 200" in r.stdout.decode(),
          f"NOBODY 0 after POSTFIELDS: still a call, fallen back ({r.stdout[-120:]!r})")


def test_a_write_callback_that_pauses_gets_every_byte():
    """A write callback may return CURL_WRITEFUNC_PAUSE and unpause from
    the progress callback: libcurl hands the same bytes over again. So must
    a delivery of ours (an answer after its transfer, a stream's held first
    events, a translated stream): nothing is lost, whether the primary
    answered or a member did, in the program's dialect or translated."""
    m = mock()

    def streamed(out):
        events = [json.loads(l[6:]) for l in out.splitlines() if l.startswith("data: {")]
        return "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e.get("choices"))

    r = curlstate(m, "pause", preload=False)
    out = r.stdout.decode()
    check(out.startswith("pause 0 200 paused 1 again same") and "Hello from primary" in out,
          f"the program, without the library ({out[:200]!r})")
    for behaviour, who in (("ok", "primary"), ("503", "backup")):
        m.reset_all()
        m.set("primary", behaviour=behaviour)
        r = curlstate(m, "pause")
        out = r.stdout.decode()
        check(out.startswith("pause 0 200 paused 1 again same") and f"Hello from {who}" in out,
              f"{behaviour}: the answer, after the pause ({out[:200]!r} {r.stderr.decode()[-200:]})")
    # a read callback that pauses (CURL_READFUNC_PAUSE) is asked again once unpaused
    for preload, who in ((False, "primary"), (True, "backup")):
        m.reset_all()
        m.set("primary", behaviour="503" if preload else "ok")
        r = curlstate(m, "readpause", preload=preload)
        out = r.stdout.decode()
        check(f"Hello from {who}" in out and out.rstrip().endswith("readpause 0 200 paused 1"),
              f"a read callback's pause, {'with' if preload else 'without'} the library ({out[-200:]!r})")
        if preload:
            check("[rid:R]" in json.dumps(m.requests("backup")[-1]["body"]), "the whole body reached the member")
    # a pause keeps the call's own time limit (28), a progress callback that
    # aborts while paused ends it as libcurl would (42), and a pause asked
    # with curl_easy_pause(RECV) from the write callback holds what follows
    for preload in (False, True):
        m.reset_all()
        m.set("primary", behaviour="503" if preload else "ok")
        for case, want in (("pausetime", "pausetime 28"), ("pauseabort", "pauseabort 42")):
            r = curlstate(m, case, preload=preload)
            eq(r.stdout.decode().strip(), want, f"{case}, {'with' if preload else 'without'} the library")
        for extra in ((), ("stream",)):
            r = curlstate(m, "pauserecv", *extra, preload=preload)
            out = r.stdout.decode()
            check(out.startswith("pauserecv 0 200 while_paused 0") and ("Hello from" in out or "Hello" in out),
                  f"pauserecv {extra}, {'with' if preload else 'without'} the library ({out[:120]!r})")
        r = curlstate(m, "pausecont", preload=preload, timeout=20)
        out = r.stdout.decode()
        check("Hello from" in out and out.rstrip().endswith("pausecont 0 200"),
              f"pausecont, {'with' if preload else 'without'} the library ({out[-120:]!r})")
    for chain, who in ((("backup/gpt-4o-mini",), "backup (gpt-4o-mini)"),
                       (("anthropic/claude-sonnet-4-5",), "claude (claude-sonnet-4-5)")):
        m.reset_all()
        m.set("primary", behaviour="503")
        r = curlstate(m, "pause", "stream", cfg=config(m, chain=chain))
        out = r.stdout.decode()
        check(out.startswith("pause 0 200 paused 4 again same"), f"{who}: four pauses, each piece again ({out[:80]!r})")
        check(streamed(out).startswith(f"Hello from {who}") and out.rstrip().endswith("data: [DONE]"),
              f"{who}: the whole stream ({streamed(out)!r} {out[-60:]!r})")


def test_the_next_call_after_a_translated_stream_is_managed_too():
    """A translated stream's ending is given after its transfer is over:
    the thread's next call (a new handle) still falls back."""
    m = mock()
    m.set("primary", behaviour="503")
    r = curlstate(m, "streams2", cfg=config(m, chain=("anthropic/claude-sonnet-4-5",)))
    out = r.stdout.decode()
    eq([l for l in out.splitlines() if l.startswith("stream ")], ["stream 0 200", "stream 0 200"],
       f"both streams answered ({out[-200:]!r})")
    eq(len(m.requests("claude")), 2, "each by the member")


def test_a_call_left_by_a_jump_does_not_disable_the_next():
    """A program that leaves curl_easy_perform by siglongjmp from a signal
    handler (an alarm() timeout, old style) while a member's attempt runs:
    its next call, on a new handle, still falls back."""
    m = mock()
    m.set("primary", behaviour="503")
    m.set("backup", behaviour=["slow:2500", "ok"])
    cfg = config(m, chain=("backup/gpt-4o-mini",), timeouts_ms={"connect": 2000, "first_byte": 3000, "total": 4000})
    env = env_for(cfg)
    if SANITIZED:   # (the call jumped out of abandons its memory, as any code a jump leaves does)
        env["ASAN_OPTIONS"] += ":detect_leaks=0"
    r = run([os.path.join(BUILD, "progs/curlstate"), "longjmp", m.base("primary") + "/chat/completions"], env)
    out = r.stdout.decode()
    check(out.startswith("first jumped\n"), f"the first call was left by the jump ({out[:100]!r})")
    check("Hello from backup" in out and out.rstrip().endswith("second 0 200"),
          f"the next call fell back ({out[-200:]!r} {r.stderr.decode()[-200:]})")


def test_an_upload_too_large_to_keep_passes_through():
    """A body from a read callback (curl -T) larger than the library keeps
    (256 MiB) is sent as it is, what was read of it first: the server gets
    every byte, and the program its answer."""
    import hashlib, socket, threading
    size = (256 << 20) + 12345
    path = os.path.join(tmpdir(), "huge.json")
    with open(path, "wb") as f:
        f.write(b'{"model":"gpt-4o","messages":[{"role":"user","content":"')
        f.write(b"0123456789abcdef" * ((size - 80) // 16))
        f.write(b'"}]}')
    want = hashlib.sha256(open(path, "rb").read()).hexdigest()
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def sink():
        c, _ = srv.accept()
        f = c.makefile("rb")
        n, chunked = 0, False
        for line in iter(f.readline, b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                n = int(line.split(b":")[1])
            chunked |= line.lower().replace(b" ", b"") == b"transfer-encoding:chunked\r\n"
        h, got = hashlib.sha256(), 0

        def take(left):
            nonlocal got
            while left:
                d = f.read(min(left, 1 << 20))
                if not d:
                    return
                h.update(d)
                got += len(d)
                left -= len(d)
        if chunked:
            while (size := int(f.readline().split(b";")[0], 16)):
                take(size)
                f.readline()
            f.readline()
        else:
            take(n)
        body = json.dumps({"got": got, "sha256": h.hexdigest()}).encode()
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        c.close()

    t = threading.Thread(target=sink, daemon=True)
    t.start()
    try:
        m = mock()
        url = f"http://127.0.0.1:{srv.getsockname()[1]}/v1/chat/completions"
        cfg = write_config({"providers": {"openai": {"base_url": url.rsplit("/", 2)[0]},
                                          "backup": {"dialect": "openai", "base_url": m.base("backup"),
                                                     "api_key_env": "BACKUP_KEY"}},
                            "chain": ["backup/gpt-4o-mini"]})
        r = run([CURL, "-sS", "-X", "POST", "-T", path, url, "-H", "Content-Type: application/json"],
                env_for(cfg), timeout=120)
        eq(r.returncode, 0, f"curl exit ({r.stderr.decode()[-200:]})")
        got = json.loads(r.stdout)
        eq((got["got"], got["sha256"]), (os.path.getsize(path), want), "every byte, in order")
        # a program with libcurl's own reader (stdin): afterwards its handle
        # reads stdin again, as libcurl's default is
        t = threading.Thread(target=sink, daemon=True)
        t.start()
        prog = os.path.join(BUILD, "progs/curlstate")
        with open(path, "rb") as f:
            r = run([prog, "bigstdin", url, m.base("backup") + "/upload"], env_for(cfg), input=f.read(), timeout=120)
        out = r.stdout.decode()
        check('"got": %d' % os.path.getsize(path) in out and out.rstrip().endswith("upload 0"),
               f"stdin whole, then a second upload ({out[-120:]!r} {r.returncode})")
    finally:
        srv.close()
        os.unlink(path)


def test_handle_state_after_a_fallback():
    """Options a program set, or left at libcurl's defaults, behave after a
    managed call as they would without the library."""
    m = mock()
    blob = f"http://127.0.0.1:{m.port('backup')}/_mock/blob?size=1000&seed=2"
    want = run([CURL, "-s", blob], env_for(preload=False)).stdout
    # no write callback: libcurl writes to stdout, before and after the call
    m.set("primary", behaviour="503")
    r = curlstate(m, "stdout", blob)
    eq(r.returncode, 0, f"stdout: no crash ({r.stderr.decode()[-200:]})")
    eq(r.stderr.decode().split("\n")[:2], ["chat 0 200", "download 0 200"], "stdout: both transfers")
    check(b"Hello from backup" in r.stdout and r.stdout.endswith(want), "stdout: answer, then the blob")
    # USERPWD then PASSWORD: libcurl sends a:c, and so does the next call
    m.reset_all()
    r = curlstate(m, "creds")
    auths = [q["headers"].get("authorization") for q in m.requests("primary")]
    eq(auths, ["Basic YTpj", "Basic YTpj"], "creds: the program's user and last password, both calls")
    # the old progress callback keeps running on later transfers
    m.reset_all()
    r = curlstate(m, "progress", blob)
    eq(lines(r), ["chat 0 200", "download 0 200", "progress_calls some"], "progress callback")
    eq(r.stderr.decode(), "", "progress: libcurl's own meter stays silent")
    # the error buffer is emptied at every transfer, as libcurl does
    r = curlstate(m, "errbuf")
    eq(lines(r)[1], "chat 0 200 empty", "errbuf emptied by a good call")
    # a later transfer through the multi interface is described as itself
    missing = f"http://127.0.0.1:{m.port('backup')}/v1/nothing-here"
    r = curlstate(m, "multi", missing)
    eq(lines(r), ["chat 0 200", "download 404 plain"], "multi: getinfo after curl_multi")
    # CURLOPT_CURLU: the effective URL is the program's
    r = curlstate(m, "curlu")
    url = m.base("primary") + "/chat/completions"
    eq(lines(r), [f"call 0 200 {url}", f"call 0 200 {url}"], "curlu: effective URL")
    eq(len(m.requests("primary")), 1 + 1 + 1 + 2, "the primary was asked first every time (since the reset)")


def test_read_callback_bodies_of_declared_size():
    """A read-callback body with a declared size is read to that size only
    (the pipe behind it stays open and holds more); an upload switched from
    POSTFIELDS sends the upload."""
    m = mock()
    m.set("primary", behaviour="503")
    r = curlstate(m, "readsize", timeout=15)
    eq(lines(r)[-1], "chat 0 200", "readsize: answered, no hang")
    sent = [q["body"] for q in m.requests("primary")]
    eq(sent, [json.dumps(json.loads(sent[0]), separators=(",", ":"))], "one request")
    check(sent[0].endswith("}") and "TRAILING" not in sent[0], "readsize: the declared bytes only")
    m.reset_all()
    m.set("primary", behaviour=["ok", "503"])
    r = curlstate(m, "upload")
    out = r.stdout.decode()
    check("Hello from primary" in out and "[rid:A]" in out.split("first")[0], "first call: its own body")
    second = out.split("first")[1]
    check("Hello from backup" in second and "[rid:B]" in second and "[rid:A]" not in second,
          f"second call: the upload, not the old POSTFIELDS ({second[:200]})")


def test_verbose_output_hides_member_keys():
    """curl -v and a libcurl program's own VERBOSE trace show a member's
    request headers with the key replaced: the key is the library's."""
    m = mock()
    m.set("primary", behaviour="503")
    r = run(curl_chat(m, "-v", "-o", "/dev/null"), env_for(config(m)))
    err = r.stderr.decode()
    eq(r.returncode, 0, "curl -v: answered")
    check(KEYS["OPENAI_API_KEY"] in err, "the program's own request is shown as it is")
    check(KEYS["BACKUP_KEY"] not in err and "Authorization: Bearer [redacted by llmfallback]" in err,
          "curl -v: the backup's key is not shown")
    r = curlstate(m, "verbose")
    err = r.stderr.decode()
    eq(lines(r), ["chat 0 200"], "VERBOSE program answered")
    check(KEYS["BACKUP_KEY"] not in err and "> POST /v1/chat/completions" in err and
          "Authorization: Bearer [redacted by llmfallback]" in err, "libcurl's own trace, key hidden")


def test_verbose_output_hides_a_members_credentials_in_its_base_url():
    """A member whose base URL holds its credentials (a login, which libcurl
    sends as its own Authorization: Basic line, and a key= in the query,
    which shows in the request line) has them hidden from the program's
    curl -v trace too."""
    m = mock()
    m.set("primary", behaviour="503")
    port = m.port("backup")
    cfg = config(m, chain=("gw/gpt-4o-mini",))
    with open(cfg) as f:
        c = json.load(f)
    c["providers"]["gw"] = {"dialect": "openai", "api_key_env": "",
                            "base_url": f"http://bu:sk-BASEPASS-77@127.0.0.1:{port}/v1?key=sk-BASEQUERY-88"}
    cfg = write_config(c, "base_url_login.json")
    r = run(curl_chat(m, "-v", "-o", "/dev/null"), env_for(cfg))
    err = r.stderr.decode()
    got = m.requests("backup")
    eq((len(got), got[0]["headers"].get("authorization") if got else None, got[0].get("query") if got else None),
       (1, "Basic " + base64.b64encode(b"bu:sk-BASEPASS-77").decode(), "key=sk-BASEQUERY-88"),
       "the member was sent its base URL's login and key")
    check("sk-BASEPASS-77" not in err and base64.b64encode(b"bu:sk-BASEPASS-77").decode() not in err and
          "sk-BASEQUERY-88" not in err, f"curl -v: none of the member's credentials shown ({err[-1500:]})")
    check("> Authorization: Basic [redacted by llmfallback]" in err and
          "?key=[redacted by llmfallback] HTTP/1.1" in err, "curl -v: shown redacted")


def test_member_redirect_is_not_followed():
    """With curl -L, a member answering 307 to another host must not take the
    member's key (nor the request) there: its 3xx is its answer."""
    import http.server
    import threading

    seen = []

    class Stranger(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            seen.append(dict(self.headers))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    stranger = http.server.ThreadingHTTPServer(("127.0.0.2", 0), Stranger)

    class Redirect(Stranger):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(307)
            self.send_header("Location", f"http://127.0.0.2:{stranger.server_port}/v1/chat/completions")
            self.send_header("Content-Length", "0")
            self.end_headers()

    redirect = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    for srv in (stranger, redirect):
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        m = mock()
        m.set("primary", behaviour="503")
        cfg = config(m)
        c = json.load(open(cfg))
        c["providers"]["backup"]["base_url"] = f"http://127.0.0.1:{redirect.server_port}/v1"
        cfg = write_config(c, "redirect.json")
        r = run(curl_chat(m, "-L", "--location-trusted"), env_for(cfg))
        eq(r.returncode, 0, "answered")
        eq(answer(r.stdout).split(" (")[0], "Hello from spare", "the next member answered")
        eq(seen, [], "nothing reached the host the member redirected to")
    finally:
        stranger.shutdown()
        redirect.shutdown()


def test_quality_gate_child_is_not_the_hosts():
    """A host whose SIGCHLD handler reaps every child (waitpid(-1)) does not
    take the quality gate's child, and with it the verdict."""
    m = mock()
    cfg = config(m, verdict={"validate": {"command": "sleep 0.2; grep -q 'from backup'", "timeout_ms": 5000}})
    r = curlstate(m, "sigchld", cfg=cfg)
    out = r.stdout.decode()
    check("Hello from backup" in out, f"the gate rejected the primary's answer ({out[-200:]})")
    eq(out.splitlines()[-1], "chat 0 200 reaped 0", "the host reaped nothing of ours")
    # a host that ignores SIGCHLD: the kernel would reap the command
    r = curlstate(m, "sigign", cfg=cfg)
    check("Hello from backup" in r.stdout.decode(), "SIGCHLD ignored: the gate still rejected")


def test_passed_transfer_goes_straight_to_the_provider_host():
    """A libcurl transfer the curl hook lets pass (a GET to a provider's host)
    connects where the program sent it: no relay thread starts."""
    m = mock()
    url = f"http://127.0.0.1:{m.port('primary')}/_mock/blob?size=100&seed=3"
    r = curlstate(m, "get", url)
    eq(lines(r), ["get 0 200 threads 1"], "answered directly, one thread")


def test_multi_interface_over_http_goes_through_the_relay():
    """curl -Z runs its transfers through the multi interface, which the
    libcurl hooks leave alone: over http:// the socket path takes them."""
    m = mock()
    m.set("primary", behaviour="503")
    r = run(curl_chat(m, "-Z"), env_for(config(m)))
    eq(r.returncode, 0, "answered")
    eq(answer(r.stdout).split(" (")[0], "Hello from backup", "the relay fell back")


def test_a_multi_call_from_a_passed_transfers_callback_goes_through_the_relay():
    """A download the curl hook lets pass connects straight to where it goes;
    a call the program runs through a multi handle from that download's
    progress callback is the program's, and goes through the relay like any
    multi call: it falls back. (It went straight to the failing primary.)"""
    m = mock()
    m.set("primary", behaviour="503")
    blob = f"http://127.0.0.1:{m.port('spare')}/_mock/blob?size=300000&seed=5"
    r = curlstate(m, "multiin", blob)
    eq(lines(r), ["inside 0 200 marked 1", "get 0 200"], "the inner call fell back; the download passed")
    eq(len(m.requests("backup")), 1, "the backup answered it")


def test_a_multi_call_on_a_handle_sharing_connections_goes_through_the_relay():
    """Handles sharing their connections (CURL_LOCK_DATA_CONNECT): a direct
    connection to the provider that a passed download left in the share is
    not what a later multi call takes (it reused it, past the relay, and
    the primary's 503 came back); the relay's connection that call left is
    not what a later easy call takes (the relay managed that call too, and
    the curl path took the primary for healthy). The handle's own
    FRESH_CONNECT is back at its next use, through a multi handle or not,
    its last one cleaned up with it inside or not."""
    m = mock()
    m.set("primary", behaviour="503")
    log = new_log("sharedconn.log")
    blob = f"http://127.0.0.1:{m.port('primary')}/_mock/blob?size=1000&seed=5"
    r = curlstate(m, "sharedconn", blob, log=log)
    eq(lines(r), ["get 0 200", "multi 0 200 marked 1", "easy 0 200", "mget 0 200 plain 0", "mget 0 200 plain 0",
                  "multi 0 200 marked 1", "multi 0 200 marked 1", "get 0 200 0", "get 0 200 0",
                  "mget2 0 200 plain 1", "easy2 0 200"],
       "every call fell back, on a new connection; the downloads after reuse theirs")
    eq(len(m.requests("backup")), 5, "the backup answered each call once")
    eq([(a["path"], a["provider"], a["status"]) for a in read_log(log) if a["event"] == "attempt"],
       [("socket", "openai", 503), ("socket", "backup", 200), ("curl", "openai", 503), ("curl", "backup", 200),
        ("socket", "openai", 503), ("socket", "backup", 200), ("socket", "openai", 503), ("socket", "backup", 200),
        ("curl", "openai", 503), ("curl", "backup", 200)],
       "each call managed once, the multi ones by the relay")


def test_the_curl_tools_calls_keep_their_connection_alive():
    """The curl tool's handles share their connections whether it runs them
    through a multi handle or not: its calls one after the other (--next)
    over http:// keep one connection alive, as without the library (each
    took a new one, kept apart from the relay's that a multi transfer may
    leave in a share, which the tool never made)."""
    m = mock()
    argv = curl_chat(m, "-o", "/dev/null", "-w", "%{num_connects}")
    for _ in range(2):
        argv += ["--next"] + curl_chat(m, "-o", "/dev/null", "-w", "%{num_connects}")[1:]
    alone = run(argv, env_for(config(m), preload=False))
    r = run(argv, env_for(config(m)))
    eq(alone.stdout, b"100", "without the library: one connection for the three")
    eq(r.stdout, alone.stdout, "with it: the same")


def test_a_members_stream_the_program_stops_reading_is_a_fallback():
    """curl -N | head: the program takes the first bytes of a member's live
    stream, then refuses the rest (its write fails): the call was answered,
    by a member. The summary counted it as a failure, not a fallback."""
    m = mock()
    m.set("primary", behaviour="503")
    m.set("backup", behaviour="stream_drip:200")
    body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    argv = [CURL, "-sSN", m.base("primary") + "/chat/completions", "-H", "Content-Type: application/json",
            "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", body]
    log = new_log("head.log")
    r = run(["bash", "-c", '"$@" | head -c 60', "sh", *argv], env_for(config(m), log))
    eq(len(r.stdout), 60, "the program took the first bytes")
    steps = [(l["provider"], l["status"]) for l in read_log(log) if l["event"] == "attempt"]
    eq(steps, [("openai", 503), ("backup", 200)], "the backup's stream went live")
    eq([(s["calls"], s["fallbacks"], s["failures"]) for s in read_log(log) if s["event"] == "summary"], [(1, 1, 0)],
       "the summary: a fallback, no failure")


def test_a_url_without_a_scheme_is_a_call():
    """libcurl sends a URL without a scheme over the scheme it guesses (http
    for most hosts): "127.0.0.1:PORT/v1/chat/completions" is a call, and
    falls back. (Only URLs starting http were recognised: it passed.)"""
    m = mock()
    m.set("primary", behaviour="503")
    argv = curl_chat(m)
    argv[2] = argv[2].split("://", 1)[1]
    r = run(argv, env_for(config(m)))
    eq(r.returncode, 0, "answered")
    eq(answer(r.stdout).split(" (")[0], "Hello from backup", "fell back")


def test_a_default_protocol_is_the_schemeless_urls_scheme():
    """curl --proto-default https with a URL without a scheme goes over
    https: to a provider at http:// that is no call of it, and passes
    through as without the library (libcurl's TLS to a plain server, given
    up at the program's own limit), logged nowhere and asked of no member.
    (It was read as http, managed, its TLS stopped by our connect limit and
    counted against the provider, and the backup's answer given.) With
    --proto-default http it is a call, and falls back."""
    m = mock()
    m.set("primary", behaviour="503")
    argv = curl_chat(m, "-m", "2", "-w", "\n%{http_code}")
    argv[2] = argv[2].split("://", 1)[1]
    runs = {}
    for preload in (False, True):
        log = new_log("proto-default.log")
        r = run(argv + ["--proto-default", "https"], env_for(config(m), log, preload=preload))
        runs[preload] = (r.returncode, r.stdout.decode().rsplit("\n", 1)[-1])
        if preload:
            eq([l for l in read_log(log) if l["event"] == "attempt"], [], "no attempt logged")
    eq(runs[True], runs[False], "passed through, as without the library")
    eq(len(m.requests("backup")), 0, "no member asked")
    r = run(argv + ["--proto-default", "http"], env_for(config(m)))
    eq(r.stdout.decode().rsplit("\n", 1)[-1], "200", "over http, a call: answered")
    eq(answer(r.stdout.decode().rsplit("\n", 1)[0]).split(" (")[0], "Hello from backup", "fell back")


def test_an_interface_address_is_kept_and_the_call_falls_back():
    """curl --interface ADDRESS binds its socket to that address before it
    connects, with no port yet (IP_BIND_ADDRESS_NO_PORT): the socket goes to
    the relay from that address, as the program chose, and the call falls
    back. (It was bound again to the wildcard address and went straight to
    the primary.) The relay's connections to the providers leave from that
    address too, as the program's would have (they left from the default
    one, which a provider or firewall knowing the host by another would
    refuse); a call from an unbound socket leaves from the default."""
    m = mock()
    m.set("primary", behaviour="503")
    r = run(curl_chat(m, "-Z", "--interface", "127.0.0.2", "-w", "\\n%{local_ip}"), env_for(config(m)))
    eq(r.returncode, 0, "answered")
    body, local = r.stdout.rsplit(b"\n", 1)
    eq(answer(body).split(" (")[0], "Hello from backup", "the relay fell back")
    eq(local.decode(), "127.0.0.2", "from the program's address")
    eq([q["peer_addr"] for q in m.requests("primary") + m.requests("backup")], ["127.0.0.2", "127.0.0.2"],
       "the relay's connections left from the program's address")
    r = run(curl_chat(m, "-Z"), env_for(config(m)))
    eq(answer(r.stdout).split(" (")[0], "Hello from backup", "the relay fell back, unbound")
    eq([q["peer_addr"] for q in m.requests("primary")[1:] + m.requests("backup")[1:]], ["127.0.0.1", "127.0.0.1"],
       "and left from the default address")


def test_a_bound_call_reaches_a_member_of_the_other_family():
    """curl --interface 127.0.0.2, the primary's 503, the only member at
    http://[::1]:PORT: an IPv4 address cannot reach it, and the relay's
    connection to it leaves from the default one. (Bound to the program's
    address with its family forced, it could not connect: the program got
    the 503, and the member's breaker was told it failed.)"""
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        raise Skipped("no IPv6 loopback here")
    m = mock()
    m.set("primary", behaviour="503")
    raw = RawServer(took_it, host="::1")
    try:
        cfg = config_with(m, {"v6": {"dialect": "openai", "base_url": f"http://[::1]:{raw.port}/v1",
                                     "api_key_env": "BACKUP_KEY"}}, ["v6/gpt-4o-mini"])
        r = run(curl_chat(m, "-Z", "--interface", "127.0.0.2"), env_for(cfg))
        eq(r.returncode, 0, f"answered ({r.stderr.decode()[-200:]})")
        eq(answer(r.stdout), "took it", "by the member")
        eq(raw.peers, ["::1"], "reached from the default address")
        eq([q["peer_addr"] for q in m.requests("primary")], ["127.0.0.2"], "the primary from the program's")
    finally:
        raw.stop()


def test_a_socket_bound_to_the_loopback_device_falls_back():
    """curl --interface lo, as root, binds its socket to the loopback device
    (SO_BINDTODEVICE): the relay is there, and the call falls back. (A
    socket bound to another device cannot reach the relay on loopback and
    goes where it was sent; no test here can reach a provider there.)"""
    if os.geteuid() != 0:
        raise Skipped("only root may bind a socket to a device")
    m = mock()
    m.set("primary", behaviour="503")
    r = run(curl_chat(m, "-Z", "--interface", "lo"), env_for(config(m)))
    eq(r.returncode, 0, "answered")
    eq(answer(r.stdout).split(" (")[0], "Hello from backup", "the relay fell back")


def test_getinfo_after_a_streamed_fallback():
    """A stream delivered live by a member: -w reports its head and the bytes
    the program got, not the empty answer buffer."""
    m = mock()
    m.set("primary", behaviour="503")
    body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    r = run([CURL, "-sS", "-N", m.base("primary") + "/chat/completions",
             "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", body, "-o", "/dev/null",
             "-w", "%{http_code}|%{content_type}|%{size_download}|%header{x-llmfallback-provider}"],
            env_for(config(m)))
    code, ctype, size, who = r.stdout.decode().split("|")
    eq((code, ctype, who), ("200", "text/event-stream", "backup"), "status, type and member of the stream")
    direct = run([CURL, "-sS", "-N", m.base("backup") + "/chat/completions",
                  "-H", f"Authorization: Bearer {KEYS['BACKUP_KEY']}",
                  "-d", body.replace("gpt-4o", "gpt-4o-mini"), "-o", "/dev/null", "-w", "%{size_download}"],
                 env_for(preload=False))
    check(int(size) > 0 and abs(int(size) - int(direct.stdout)) < 64,
          f"size_download is what was delivered ({size} vs {direct.stdout.decode()} direct)")


def test_stream_error_everywhere_gives_back_the_original():
    """The primary's stream opens with an error event and every member fails:
    curl gets the primary's stream as it came, with the exit status it would
    have had without the library."""
    m = mock()
    body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    argv = [CURL, "-sS", "-N", "-i", m.base("primary") + "/chat/completions",
            "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", body]
    m.set("primary", behaviour="stream_error")
    want = run(argv, env_for(preload=False))
    for n in ("backup", "spare"):
        m.set(n, behaviour="503")
    got = run(argv, env_for(config(m)))
    eq((got.returncode, got.stdout), (want.returncode, want.stdout), "exit status and bytes")
    eq(len(m.requests("backup")) + len(m.requests("spare")), 2, "both members were tried")
    # a stream stopped at its garbage first event with more to come: what
    # came, and a transfer cut short (curl's error 18), never a whole stream
    m.set("primary", behaviour="stream_garbage_more")
    got = run(argv, env_for(config(m)))
    check(b"upstream reset" in got.stdout, f"what came of the primary's stream ({got.stdout[-200:]!r})")
    eq(got.returncode, 18, f"a partial transfer ({got.stderr.decode()[-200:]})")


def test_http2_over_tls_as_real_providers_speak_it():
    """curl speaks HTTP/2 over TLS (ALPN h2) to the real providers; here to
    HTTP/2 fronts of the mock. A pass-through keeps its HTTP/2 head; a 503
    falls back to a member spoken to over HTTP/2 as well, and so does a
    stream whose first event is an error; the program's view (-i, -w) is
    HTTP/2 throughout."""
    from h2front import H2Front
    m = mock()
    d = os.path.dirname(m.ca)
    pem, key = os.path.join(d, "server.pem"), os.path.join(d, "server.key")
    fp, fb = H2Front(m.port("primary"), pem, key), H2Front(m.port("backup"), pem, key)
    try:
        cfg = config(m, chain=["backup/gpt-4o-mini"], ca_bundle=m.ca, providers={
            "openai": {"base_url": f"https://localhost:{fp.port}/v1"},
            "backup": {"dialect": "openai", "base_url": f"https://localhost:{fb.port}/v1", "api_key_env": "BACKUP_KEY"}})
        url = f"https://localhost:{fp.port}/v1/chat/completions"

        def call(body, *extra):
            log = new_log("h2.log")
            r = run([CURL, "-sS", "-i", url, "--cacert", m.ca, "-H", "Content-Type: application/json",
                     "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", body, *extra,
                     "-w", "\n%{http_version}"], env_for(cfg, log))
            head, _, rest = r.stdout.decode().partition("\r\n\r\n")
            body, _, version = rest.rpartition("\n")
            steps = [(l["provider"], l["status"]) for l in read_log(log) if l["event"] == "attempt"]
            return r.returncode, head, body, version, steps

        rc, head, body, version, steps = call(chat_body())
        eq((rc, head.split("\r\n")[0].strip(), version), (0, "HTTP/2 200", "2"), "pass-through: an HTTP/2 answer")
        check(answer(body).startswith("Hello from primary"), f"the primary's ({body[:100]!r})")
        eq(steps, [("openai", 200)], "one attempt")
        m.set("primary", behaviour="503")
        rc, head, body, version, steps = call(chat_body())
        eq((rc, head.split("\r\n")[0].strip(), version), (0, "HTTP/2 200", "2"), "fallback: an HTTP/2 answer")
        check(answer(body).startswith("Hello from backup"), f"the backup's ({body[:100]!r})")
        check("x-llmfallback-provider: backup" in head.lower(), "its head names the backup")
        eq(steps, [("openai", 503), ("backup", 200)], "the primary, then the backup")
        m.set("primary", behaviour="stream_error")
        stream = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
        rc, head, body, version, steps = call(stream, "-N")
        text = "".join(json.loads(l[6:])["choices"][0]["delta"].get("content") or ""
                       for l in body.splitlines() if l.startswith("data: {"))
        eq((rc, head.split("\r\n")[0].strip(), text), (0, "HTTP/2 200", "Hello from backup (gpt-4o-mini)"),
           f"a stream: the backup's, live ({body[-200:]!r})")
        check(body.rstrip().endswith("data: [DONE]"), "to its end")
        eq(set(fp.protocols + fb.protocols), {"h2"}, "every connection spoke HTTP/2")
    finally:
        fp.stop()
        fb.stop()


_tm = None
CA_VARS = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def tls_mock():
    """TLS servers that ask for a client certificate (optionally) and record
    whose they got: tpri, the program's provider, and tmem, a member, with
    the test CA's certificates; omem, a member with a certificate of
    another CA's. And a client certificate of the test CA's."""
    global _tm
    if _tm is None:
        a = certs()
        b = os.path.join(tmpdir(), "certs-other")
        subprocess.run(["bash", os.path.join(ROOT, "tests/mock/mkcerts.sh"), b], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not os.path.exists(os.path.join(a, "client.pem")):
            subprocess.run(f"cd {a} && openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr "
                           "-subj '/CN=llmfallback test client' && openssl x509 -req -in client.csr -CA ca.pem "
                           "-CAkey ca.key -CAcreateserial -out client.pem -days 2", shell=True, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ca = os.path.join(a, "ca.pem")
        _tm = Mock([
            {"name": "tpri", "key": KEYS["OPENAI_API_KEY"], "tls": True, "client_ca": ca},
            {"name": "tmem", "key": KEYS["BACKUP_KEY"], "tls": True, "client_ca": ca},
            {"name": "omem", "key": KEYS["BACKUP_KEY"], "tls": True, "tls_cert": os.path.join(b, "server.pem"),
             "tls_key": os.path.join(b, "server.key"), "ca": os.path.join(b, "ca.pem")},
        ])
        _tm.other_ca = os.path.join(b, "ca.pem")
        _tm.client = (os.path.join(a, "client.pem"), os.path.join(a, "client.key"))
        atexit.register(_tm.stop)
    _tm.reset_all()
    for n in _tm.servers:
        _tm.set(n, behaviour="ok", retry_after=None, delay_ms=0)
    return _tm


def tls_run(m, member, tls_args, log, chain=("backup/gpt-4o-mini",), urls=1, **extra):
    """curl with the program's own TLS options to tpri (its chain's backup
    at `member`), no CA variable in its environment: the library's trust is
    its ca_bundle, if any, else the system's, which knows neither test CA.
    The answers' bodies and statuses, and the attempts logged."""
    cfg = write_config(dict({
        "providers": {"openai": {"base_url": m.base("tpri")},
                      "backup": {"dialect": "openai", "base_url": m.base(member), "api_key_env": "BACKUP_KEY"}},
        "chain": list(chain), "timeouts_ms": {"connect": 2000, "first_byte": 3000, "total": 5000}}, **extra),
        "tls-opts.json")
    e = env_for(cfg, log)
    for k in CA_VARS:
        e.pop(k, None)
    url = m.base("tpri") + "/chat/completions"
    r = run([CURL, "-sS", *tls_args, "-H", "Content-Type: application/json",
             "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", chat_body(),
             "-w", "\n%{http_code}\n", *[url] * urls], e)
    out = r.stdout.decode().split("\n")
    got = [(out[i], out[i + 1]) for i in range(0, len(out) - 1, 2)]
    steps = [(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt"]
    return got, steps, r.stderr.decode()[-300:]


def test_a_programs_insecure_flag_is_not_a_members():
    """curl -k checks nothing of its own provider's certificate; a member is
    verified with the library's trust all the same (here the system's, which
    does not know the test CA): it is asked nothing, not even over the
    connection -k made to the same server, and the program gets its original
    503. In mode override the candidate fails so, and the program's own
    request after it is made with -k again, and answers."""
    m = tls_mock()
    m.set("tpri", behaviour="503")
    for member, chain in (("tmem", ("backup/gpt-4o-mini",)), ("tmem", ("openai/gpt-4o-mini",))):
        got, steps, err = tls_run(m, member, ["-k"], new_log("insecure.log"), chain=chain)
        eq([g[1] for g in got], ["503"], f"{chain}: the original failure ({err})")
        eq(steps, [("openai", "http_error"), (chain[0].split("/")[0], "transport_error")],
           f"{chain}: the member failed at its certificate")
        eq(len(m.requests("tmem")), 0, f"{chain}: the member was sent nothing (nor its key)")
        eq(len(m.requests("tpri")), 1, f"{chain}: the program's provider was asked once, by the program")
        m.reset_all()
        m.set("tpri", behaviour="503")
    m.set("tpri", behaviour="ok")
    got, steps, err = tls_run(m, "tmem", ["-k"], new_log("insecure-override.log"), chain=(),
                              mode="override", candidate="backup/gpt-4o-mini")
    eq([g[1] for g in got], ["200"], f"override: answered ({err})")
    check(answer(got[0][0]).startswith("Hello from tpri"), f"by the program's provider, with -k ({got})")
    eq(steps, [("backup", "transport_error"), ("openai", "ok")], "the candidate failed first")
    eq(len(m.requests("tmem")), 0, "the candidate was sent nothing")


def test_a_programs_client_certificate_is_not_a_members():
    """curl --cert: the program's own provider is shown the program's client
    certificate; a member that asks for one (and that the library trusts:
    its ca_bundle) is shown none."""
    m = tls_mock()
    m.set("tpri", behaviour=["503", "ok"])
    cert, key = m.client
    got, steps, err = tls_run(m, "tmem", ["--cacert", m.ca, "--cert", cert, "--key", key],
                              new_log("client-cert.log"), urls=2, ca_bundle=m.ca)
    eq([g[1] for g in got], ["200", "200"], f"answered ({err})")
    check(answer(got[0][0]).startswith("Hello from tmem"), f"first by the member ({got})")
    check(answer(got[1][0]).startswith("Hello from tpri"), f"then by the program's provider ({got})")
    eq(steps, [("openai", "http_error"), ("backup", "ok"), ("openai", "ok")], "attempts")
    eq([r["client_cert"] for r in m.requests("tmem")], [None], "the member was shown no client certificate")
    eq([r["client_cert"] for r in m.requests("tpri")], ["llmfallback test client"] * 2,
       "the program's provider was shown the program's, before and after the member")


def test_a_handles_own_tls_is_the_programs_again_after_a_member():
    """A libcurl program sets its TLS once (its CA and key as blobs, the
    key's copied by libcurl and then wiped) and calls twice, then on a
    copy of the handle (duphandle) twice: each first call falls back to a
    member, verified with the library's ca_bundle and shown no client
    certificate; each second call is the program's own again, its client
    certificate presented, its CA trusted."""
    m = tls_mock()
    m.set("tpri", behaviour=["503", "ok", "503", "ok"])
    cert, key = m.client
    cfg = write_config({
        "providers": {"openai": {"base_url": m.base("tpri")},
                      "backup": {"dialect": "openai", "base_url": m.base("tmem"), "api_key_env": "BACKUP_KEY"}},
        "chain": ["backup/gpt-4o-mini"], "ca_bundle": m.ca}, "tls-handle.json")
    e = env_for(cfg)
    for k in CA_VARS:
        e.pop(k, None)
    r = run([os.path.join(BUILD, "progs/curlstate"), "tls", m.base("tpri") + "/chat/completions", m.ca, cert, key], e)
    eq(lines(r), ["call 0 200", "call 0 200", "copy 0 200", "copy 0 200"], f"answered ({r.stderr.decode()[-300:]})")
    eq([r["client_cert"] for r in m.requests("tmem")], [None, None], "the member was shown no client certificate")
    eq([r["client_cert"] for r in m.requests("tpri")], ["llmfallback test client"] * 4,
       "the program's provider was shown the program's, each time")


def fallback_configs(m):
    """A primary that answers 503 and a member, twice: without a first-byte
    limit (libcurl calls the program's progress callback itself) and with
    one (the library calls it): (first_byte, config) each, m reset."""
    for first_byte in (None, 1500):
        m.reset_all()
        m.set("primary", behaviour="503")
        timeouts = {"connect": 2000, "total": 3000, **({"first_byte": first_byte} if first_byte else {})}
        yield first_byte, write_config({
            "providers": {"openai": {"base_url": m.base("primary")},
                          "backup": {"dialect": "openai", "base_url": m.base("backup"), "api_key_env": "BACKUP_KEY"}},
            "chain": ["backup/gpt-4o-mini"], "timeouts_ms": timeouts}, "fallback.json")


def test_a_copy_made_inside_a_call_is_the_programs_handle():
    """A progress callback copies its handle (duphandle) while the call
    runs, once in the program's own attempt and once in the member's: libcurl
    copies what the handle has then, the attempt's URL, headers (the
    member's key), body and capturing callbacks (whose data is the
    attempt's, gone by then). Each copy, sent to a server that is not a
    provider, carries the program's request and key and calls the program's
    header callback; none crashes. Both ways the callback is called: by
    libcurl itself (no first-byte limit), and through the library (one)."""
    m = mock()
    for first_byte, cfg in fallback_configs(m):
        other = m.base("spare") + "/chat/completions"
        r = curlstate(m, "dupmid", other, cfg=cfg)
        how = f"first_byte {first_byte}"
        eq(r.returncode, 0, f"{how}: no crash ({r.stderr.decode()[-300:]})")
        out = lines(r)
        eq(out[0], "call 0 200", f"{how}: the call fell back")
        eq([l.split()[1] for l in out[1:]], [m.base("primary") + "/chat/completions",
                                             m.base("backup") + "/chat/completions"],
           f"{how}: a copy made in each attempt ({out})")
        eq([l.split()[2:4] + l.split()[4:] for l in out[1:]], [["0", "401", "some"]] * 2,
           f"{how}: each copy sent, the program's header callback called ({out})")
        got = m.requests("spare")
        eq(len(got), 2, f"{how}: both copies reached the other server")
        for q in got:
            eq(q["headers"].get("authorization"), "Bearer " + KEYS["OPENAI_API_KEY"], f"{how}: the program's key")
            check("rid:P" in q["body"] and "gpt-4o" in q["body"] and "gpt-4o-mini" not in q["body"],
                  f"{how}: the program's body ({q['body'][:120]})")
            check(KEYS["BACKUP_KEY"] not in json.dumps(q), f"{how}: never the member's key")


def test_a_reset_inside_a_call_holds_after_it():
    """A progress callback resets its handle (curl_easy_reset) while a call
    that falls back runs on it: the call ends without a crash, and the
    handle is then as reset, not given the program's options back by the
    call's end: its next transfer, only its URL and body set, goes without
    the program's headers (its key). Both ways the callback is called."""
    m = mock()
    for first_byte, cfg in fallback_configs(m):
        r = curlstate(m, "resetmid", m.base("spare") + "/chat/completions", cfg=cfg)
        how = f"first_byte {first_byte}"
        eq(r.returncode, 0, f"{how}: no crash ({r.stderr.decode()[-300:]})")
        out = [l for l in lines(r) if l.startswith(("call ", "after "))]
        eq(len(out), 2, f"{how}: both transfers ({lines(r)})")
        got = m.requests("spare")
        eq([(q["headers"].get("authorization"), "rid:Q" in q["body"]) for q in got], [(None, True)],
           f"{how}: the next transfer is a reset handle's")


def test_options_set_inside_a_call_are_for_the_next_transfer():
    """A progress callback sets its handle's headers (a new list: the
    program's, its key among them, and X-Mid), URL and body (COPYPOSTFIELDS
    of a buffer it wipes right after) while a call that falls back runs on
    it, in each attempt. Neither attempt is sent any of it: the member gets
    its own key only, the primary the program's first body. The call's end
    does not put the old values back either: the next transfer, nothing
    set, goes to the new URL with the new headers and body, and so does a
    copy of the handle made in the callback after them. Both ways the
    callback is called."""
    m = mock()
    for first_byte, cfg in fallback_configs(m):
        r = curlstate(m, "setmid", m.base("spare") + "/chat/completions", cfg=cfg)
        how = f"first_byte {first_byte}"
        eq(r.returncode, 0, f"{how}: no crash ({r.stderr.decode()[-300:]})")
        out = lines(r)
        eq([l.split()[:2] for l in out], [["call", "0"], ["after", "0"], ["copy", "0"]], f"{how}: every transfer ({out})")
        eq(out[0], "call 0 200 2", f"{how}: the call fell back, options set in each attempt")
        for q in m.requests("primary"):
            check("rid:P" in q["body"] and "rid:Q" not in q["body"], f"{how}: the primary's body ({q['body'][:120]})")
            eq(q["headers"].get("x-mid"), None, f"{how}: the primary's headers as the call began")
        got = m.requests("backup")
        eq(len(got), 1, f"{how}: the member answered")
        for q in got:
            eq(q["headers"].get("x-mid"), None, f"{how}: nothing the program set meanwhile reached the member")
            eq(q["headers"].get("authorization"), "Bearer " + KEYS["BACKUP_KEY"], f"{how}: the member's own key")
            check(KEYS["OPENAI_API_KEY"] not in json.dumps(q), f"{how}: never the program's key")
            check("rid:P" in q["body"] and "rid:Q" not in q["body"], f"{how}: the call's body ({q['body'][:120]})")
        got = m.requests("spare")
        eq([(q["headers"].get("x-mid"), q["headers"].get("authorization"), "rid:Q" in q["body"]) for q in got],
           [("1", "Bearer " + KEYS["OPENAI_API_KEY"], True)] * 2,
           f"{how}: the next transfer, and the copy's, are what the program set")


def test_where_the_answer_goes_set_inside_a_call_holds_at_once():
    """What says where the answer goes is libcurl's to change mid-transfer,
    and carries nothing to a provider: a header callback that sets a new
    write callback and a new error buffer (freeing the old) at the
    answer's first line, a progress callback that turns itself off at its
    first call. As without the library, the body goes to the new writer
    (which fails it), libcurl's message to the new buffer, and the progress
    callback is called once: held back for the call's end, the body went
    to the old writer, the message into the freed buffer, and the callback
    went on being called. The member answering slowly, both ways the
    progress callback is called; and the program's own provider answering."""
    m = mock()
    want_err = "[Failure writing output to destination]"
    for first_byte, cfg in fallback_configs(m):
        m.set("backup", behaviour="slow:800")
        r = curlstate(m, "outmid", cfg=cfg)
        how = f"first_byte {first_byte}"
        out = lines(r)
        eq(r.returncode, 0, f"{how}: no crash ({out}, {r.stderr.decode()[-300:]})")
        f = out[-1].split(" ", 6)
        eq((f[:3], f[3], f[5], f[6]), (["outmid", "23", "200"], "0", "1", want_err),
           f"{how}: the new writer, the new buffer, one progress call ({out})")
        check(int(f[4]) > 0, f"{how}: the new writer was given the answer ({out})")
    m.reset_all()
    m.set("primary", behaviour="slow:800")
    for preload in (False, True):
        r = curlstate(m, "outmid", preload=preload)
        f = lines(r)[-1].split(" ", 6)
        eq((f[:3], f[3], f[5], f[6]), (["outmid", "23", "200"], "0", "1", want_err),
           f"{'with' if preload else 'without'} the library, the primary answering ({lines(r)})")


def test_a_programs_private_ca_does_not_keep_members_from_the_librarys():
    """curl --cacert with a private CA that signed only its own provider's
    certificate: a member whose certificate another CA signed, the one in
    the library's ca_bundle, answers; the program's next call is verified
    with its own CA again."""
    m = tls_mock()
    m.set("tpri", behaviour=["503", "ok"])
    got, steps, err = tls_run(m, "omem", ["--cacert", m.ca], new_log("private-ca.log"), urls=2,
                              ca_bundle=m.other_ca)
    eq([g[1] for g in got], ["200", "200"], f"answered ({err})")
    check(answer(got[0][0]).startswith("Hello from omem"), f"first by the member ({got})")
    check(answer(got[1][0]).startswith("Hello from tpri"), f"then by the program's provider ({got})")
    eq(steps, [("openai", "http_error"), ("backup", "ok"), ("openai", "ok")], "attempts")
    eq(m.requests("omem")[0]["credential"], KEYS["BACKUP_KEY"], "the member got its own key")


def answer_503(c, req):
    body = b'{"error":{"message":"The server is overloaded","type":"server_error"}}'
    c.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    return True


def test_members_go_to_their_base_url_not_the_programs_route():
    """curl --unix-socket, and a catch-all --connect-to, take the program's
    URL to a server of its own. That route is the program's: another
    provider's member goes where its base URL names, with its own key (not
    into the program's socket, which would see every member's key and
    answer for them all); a member of the program's own provider keeps it."""
    m = mock()
    d = tempfile.mkdtemp(dir=tmpdir())
    for how in ("unix", "connect-to"):
        for chain in (("backup/gpt-4o-mini", "spare/gpt-4o-mini"), ("openai/gpt-4o-mini",)):
            m.reset_all()
            if how == "unix":
                srv = RawServer(answer_503, unix=os.path.join(d, f"{len(chain)}.sock"))
                route = ["--unix-socket", srv.unix]
            else:
                srv = RawServer(answer_503)
                route = ["--connect-to", f"::127.0.0.1:{srv.port}"]
            try:
                r = run(curl_chat(m, *route, "-w", "\n%{http_code}"), env_for(config(m, chain=chain)))
            finally:
                srv.stop()
            out, _, code = r.stdout.decode().rpartition("\n")
            keys = [q["headers"].get("authorization") for q in srv.requests]
            eq(len(m.requests("primary")), 0, f"{how}: the program's URL went by its route")
            if len(chain) == 2:
                check(code == "200" and answer(out).startswith("Hello from backup"),
                      f"{how}: the backup answers, at its own URL ({out[-200:]})")
                eq(len(m.requests("backup")), 1, f"{how}: the backup was asked")
                eq(keys, [f"Bearer {KEYS['OPENAI_API_KEY']}"], f"{how}: the program's server saw its own request only")
            else:
                eq(code, "503", f"{how}: the program's own provider failing twice gives its original failure")
                eq(keys, [f"Bearer {KEYS['OPENAI_API_KEY']}"] * 2,
                   f"{how}: a member of the program's own provider keeps the program's route")
    # a program's handle, used again: its next call goes by its route again
    # (put back after the first call's fallback)
    m.reset_all()
    srv = RawServer(answer_503, unix=os.path.join(d, "again.sock"))
    try:
        r = curlstate(m, "unixsock", srv.unix, cfg=config(m, chain=("backup/gpt-4o-mini",)))
    finally:
        srv.stop()
    eq(lines(r), ["call 0 200", "call 0 200"], "both calls answered")
    eq((len(srv.requests), len(m.requests("primary")), len(m.requests("backup"))), (2, 0, 2),
       "each call's original went by the program's route, each fallback to the backup")


def config_with(m, providers, chain):
    """A config of the program's provider (the primary) and other servers."""
    return write_config({
        "providers": {"openai": {"base_url": m.base("primary")}, "anthropic": {"base_url": m.base("claude")},
                      **providers},
        "chain": list(chain),
        "timeouts_ms": {"connect": 2000, "first_byte": 1500, "total": 3000},
    })


def test_a_netrc_login_stays_with_the_programs_provider():
    """curl -n / --netrc-file (CURLOPT_NETRC): libcurl logs in from the
    program's .netrc by itself, and a "default" entry matches every host: a
    member of another provider would get the program's login (Authorization:
    Basic) beside its own x-api-key. It gets its key only; the program's own
    server, asked first, still gets the login."""
    m = mock()
    d = tempfile.mkdtemp(dir=tmpdir())
    netrc = os.path.join(d, ".netrc")
    with open(netrc, "w") as f:
        f.write("default login produser password NETRC-SECRET-PW\n")
    os.chmod(netrc, 0o600)
    login = "Basic " + base64.b64encode(b"produser:NETRC-SECRET-PW").decode()
    cfg = config(m, chain=("anthropic/claude-sonnet-4-5",))
    for how in (["--netrc-file", netrc], ["-n"]):
        m.reset_all()
        m.set("primary", behaviour="503")
        r = run([CURL, "-sS", m.base("primary") + "/chat/completions", "-H", "Content-Type: application/json",
                 *how, "-d", chat_body(), "-w", "\n%{http_code}"], env_for(cfg, extra={"HOME": d}))
        out, _, code = r.stdout.decode().rpartition("\n")
        check(code == "200" and answer(out).startswith("Hello from claude"), f"{how[0]}: the member answers ({out[-200:]})")
        got = m.requests("primary")
        eq([q["headers"].get("authorization") for q in got], [login], f"{how[0]}: the program's server got its login")
        asked = m.requests("claude")
        eq(len(asked), 1, f"{how[0]}: the member was asked")
        eq(asked[0]["headers"].get("authorization"), None, f"{how[0]}: no login to the member")
        eq(asked[0]["credential"], KEYS["ANTHROPIC_API_KEY"], f"{how[0]}: the member's own key")
        check("NETRC" not in json.dumps(asked[0]) and login[6:] not in json.dumps(asked[0]),
              f"{how[0]}: nothing of the login reaches the member")


COOKIES = ("# Netscape HTTP Cookie File\n\n"
           "127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tSESSION-COOKIE\n"
           "127.0.0.1\tFALSE\t/\tFALSE\t4102444800\tpersist\tPERSIST-COOKIE\n"
           "#HttpOnly_127.0.0.1\tFALSE\t/v1\tFALSE\t4102444800\thonly\tHTTPONLY-COOKIE\n"
           "example.com\tFALSE\t/\tTRUE\t4102444800\telsewhere\tOTHER-SITE\n")


def answer_with_cookie(c, req):
    """An OpenAI-dialect provider that answers, and sets a cookie."""
    body = json.dumps({"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from the cookie setter"},
                                    "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 1, "completion_tokens": 5, "total_tokens": 6}}).encode()
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
              b"Set-Cookie: member=MEMBER-COOKIE; Path=/\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    return True


def cookie_run(m, srv, argv_of, preload):
    """Two calls, the primary failing: the jar file written, the cookies the
    primary was sent, the requests the member got."""
    m.reset_all()
    m.set("primary", behaviour="503")
    srv.requests.clear()
    d = tempfile.mkdtemp(dir=tmpdir())
    with open(os.path.join(d, "cookies.txt"), "w") as f:
        f.write(COOKIES)
    cfg = config_with(m, {"setter": {"dialect": "openai", "base_url": f"http://127.0.0.1:{srv.port}/v1",
                                     "api_key_env": "SPARE_KEY"}}, ("setter/gpt-4o-mini",))
    r = run(argv_of(d), env_for(cfg, preload=preload))
    with open(os.path.join(d, "jar.txt"), "rb") as f:
        jar = f.read()
    return r, jar, [q["headers"].get("cookie") for q in m.requests("primary")], list(srv.requests)


def cookies_as_without_the_library(argv_of, answered, own):
    """argv_of(DIR) makes two calls with DIR/cookies.txt and the jar file
    DIR/jar.txt, the primary failing and the member setting a cookie:
    answered(stdout) says both calls were answered. The member is sent no
    cookie; the primary is sent what it is sent without the library (own
    among its cookies), and the jar file is the one written without it."""
    m = mock()
    srv = RawServer(answer_with_cookie)
    try:
        r, jar, sent, member = cookie_run(m, srv, argv_of, True)
        check(answered(r.stdout.decode()), f"the member answers both calls ({r.stdout[-300:]!r})")
        eq([q["headers"].get("cookie") for q in member], [None, None], "no cookie of the program's to the member")
        r0, jar0, sent0, member0 = cookie_run(m, srv, argv_of, False)
        eq(len(member0), 0, "without the library, no member")
        check(sent0[0] and all(c in sent0[0] for c in own), f"the program sends its cookies ({sent0})")
        eq(sent, sent0, "the primary is sent the program's cookies, and no member's")
        check(own[0].encode() in jar0 and b"#HttpOnly_" in jar0, f"the jar file ({jar0!r})")
        eq(jar, jar0, "the jar file is what the program writes without the library")
    finally:
        srv.stop()


def test_a_cookie_jar_stays_the_programs():
    """curl -b FILE -c JAR (the cookie engine, in the curl tool a share
    handle's jar): cookies are host-scoped, not port-scoped, so a member on
    the program's host would be sent the program's cookies, and its own
    Set-Cookie would land in the program's jar, be sent to the program's
    server next, and be written into the jar file. A member of another
    provider is sent none and leaves none: the primary is sent what it is
    sent without the library, and the jar file is byte for byte what it is
    without the library."""
    m = mock()
    cookies_as_without_the_library(
        lambda d: curl_chat(m, "-b", os.path.join(d, "cookies.txt"), "-c", os.path.join(d, "jar.txt"),
                            m.base("primary") + "/chat/completions"),
        lambda out: out.count("Hello from the cookie setter") == 2, ("SESSION-COOKIE", "HTTPONLY-COOKIE"))


def test_a_handles_own_cookie_jar_stays_the_programs():
    """The same for a libcurl program whose handle has a jar of its own
    (COOKIEFILE, COOKIEJAR, a cookie given with COOKIELIST; no share): the
    jar is set aside for the member and given back, its session cookies,
    expiry and HttpOnly marks as they were."""
    m = mock()
    cookies_as_without_the_library(
        lambda d: [os.path.join(BUILD, "progs/curlstate"), "cookies", m.base("primary") + "/chat/completions", d],
        lambda out: out.splitlines() == ["call 0 200", "call 0 200"], ("IN-MEMORY", "PERSIST-COOKIE"))


def answer_ok(c, req):
    body = json.dumps({"id": "r1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from the member"},
                                    "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 1, "completion_tokens": 4, "total_tokens": 5}}).encode()
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    return True


def test_members_go_to_their_base_url_not_the_programs_dns_entries():
    """curl --resolve (CURLOPT_RESOLVE) puts the program's addresses into
    libcurl's DNS cache: "*:PORT:ADDR" takes every host on that port to the
    program's server (127.0.0.2 here), IP literals too, and an entry for a
    member's host does as much for it. That is the program's way to its
    server: another provider's member, whose base URL has that port, goes
    to its base URL (127.0.0.1) with its key, and the program's server sees
    the program's request only; a member of the program's own provider
    keeps the program's way."""
    m = mock()
    member = RawServer(answer_ok)
    port = member.port
    gateway = RawServer(answer_503, host="127.0.0.2", port=port)
    try:
        url = f"http://127.0.0.3:{port}/v1"   # (what only the program's entries take to its server)
        for how in ([f"*:{port}:127.0.0.2"], [f"127.0.0.3:{port}:127.0.0.2", f"127.0.0.1:{port}:127.0.0.2"]):
            for chain in (("backup/gpt-4o-mini",), ("openai/gpt-4o-mini",)):
                gateway.requests.clear()
                member.requests.clear()
                cfg = write_config({"providers": {"openai": {"base_url": url},
                                                  "backup": {"dialect": "openai", "base_url": f"http://127.0.0.1:{port}/v1",
                                                             "api_key_env": "BACKUP_KEY"}},
                                    "chain": list(chain), "timeouts_ms": {"connect": 2000, "total": 3000}})
                resolve = [a for e in how for a in ("--resolve", e)]
                r = run([CURL, "-sS", url + "/chat/completions", *resolve, "-H", "Content-Type: application/json",
                         "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", chat_body(), "-w", "\n%{http_code}"],
                        env_for(cfg))
                out, _, code = r.stdout.decode().rpartition("\n")
                keys = [q["headers"].get("authorization") for q in gateway.requests]
                if chain[0].startswith("backup"):
                    check(code == "200" and answer(out) == "Hello from the member", f"{how}: the member answers ({out[-200:]})")
                    eq(keys, [f"Bearer {KEYS['OPENAI_API_KEY']}"], f"{how}: the program's server saw its own request only")
                    eq([q["headers"].get("authorization") for q in member.requests], [f"Bearer {KEYS['BACKUP_KEY']}"],
                       f"{how}: the member was reached at its base URL, with its key")
                else:
                    eq(code, "503", f"{how}: the program's own provider failing twice gives its original failure")
                    eq(keys, [f"Bearer {KEYS['OPENAI_API_KEY']}"] * 2, f"{how}: a member of the program's own provider keeps its way")
                    eq(len(member.requests), 0, f"{how}: nothing at 127.0.0.1")
        # One handle, called again, and again after curl_easy_reset (libcurl
        # keeps what the entry put in its cache), and a copy of it called
        # after it was cleaned up: each call's original goes the program's
        # way, each fallback to the member.
        cfg = write_config({"providers": {"openai": {"base_url": url},
                                          "backup": {"dialect": "openai", "base_url": f"http://127.0.0.1:{port}/v1",
                                                     "api_key_env": "BACKUP_KEY"}},
                            "chain": ["backup/gpt-4o-mini"], "timeouts_ms": {"connect": 2000, "total": 3000}})
        prog = os.path.join(BUILD, "progs/curlstate")
        for preload in (False, True):
            gateway.requests.clear()
            member.requests.clear()
            r = run([prog, "resolve", url + "/chat/completions", f"*:{port}:127.0.0.2"], env_for(cfg, preload=preload))
            code = 200 if preload else 503
            eq(lines(r), [f"call 0 {code}"] * 2 + [f"reset 0 {code}"] * 2 + [f"copy 0 {code}"], f"preload {preload}: five calls")
            eq([q["headers"].get("authorization") for q in gateway.requests], [f"Bearer {KEYS['OPENAI_API_KEY']}"] * 5,
               f"preload {preload}: every call's original went the program's way, before and after the reset, and the copy's")
            eq([q["headers"].get("authorization") for q in member.requests], [f"Bearer {KEYS['BACKUP_KEY']}"] * (5 if preload else 0),
               f"preload {preload}: every fallback to the member's base URL")
    finally:
        member.stop()
        gateway.stop()


def test_a_port_of_the_programs_own_is_not_a_members():
    """CURLOPT_PORT takes every URL of the handle to that port, the member's
    too: the member would reach whatever listens there on its host (here
    the program's own server) with its key. It goes to its base URL's
    port."""
    m = mock()
    gateway = RawServer(answer_503)
    try:
        r = curlstate(m, "port", str(gateway.port), cfg=config(m, chain=("backup/gpt-4o-mini",)))
        eq(lines(r), ["call 0 200", "call 0 200"], "both calls answered")
        eq([q["headers"].get("authorization") for q in gateway.requests], [f"Bearer {KEYS['OPENAI_API_KEY']}"] * 2,
           "each call's original went to the program's port, and nothing else")
        eq((len(m.requests("primary")), len(m.requests("backup"))), (0, 2), "each fallback to the backup's own port")
    finally:
        gateway.stop()



def test_trailers_come_after_the_body_as_libcurl_hands_them():
    """A chunked answer's trailer fields reach the program's header callback
    after the body's last byte, as libcurl hands them (never into the body
    under CURLOPT_HEADER), and curl_easy_header finds them as trailers, not
    headers: for a good answer passed through (held, or a live stream, or a
    stream held to its end with stream_refusal), and for the original
    failure given back after every member failed. curl -si prints the same
    bytes with the library and without."""
    m = mock()
    for status in ("200", "503"):
        srv = RawServer(with_trailers(status))
        try:
            base = f"http://127.0.0.1:{srv.port}/v1"
            m.reset_all()
            m.set("backup", behaviour="503")
            for verdict in ({}, {"verdict": {"stream_refusal": True}}):
                cfg = write_config({
                    "providers": {"openai": {"base_url": base},
                                  "backup": {"dialect": "openai", "base_url": m.base("backup"), "api_key_env": "BACKUP_KEY"}},
                    "chain": ["backup/gpt-4o-mini"],
                    "timeouts_ms": {"connect": 2000, "first_byte": 1500, "total": 3000}, **verdict})
                for stream in ((False, True) if status == "200" else (False,)):
                    what = f"{status}{' stream' if stream else ''}{' held to its end' if verdict else ''}"
                    body = json.dumps({"model": "gpt-4o", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
                    argv = [CURL, "-si", "-N", base + "/chat/completions", "-H", "Content-Type: application/json",
                            "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", body]
                    plain = run(argv, env_for(cfg, preload=False)).stdout
                    check(plain.endswith(b"X-Tr: trailer-value\r\nX-Sum: %d\r\n" % len(TRAILED_EVENTS if stream else TRAILED_ANSWER)
                                         if status == "200" else b"}X-Tr: trailer-value\r\nX-Sum: 34\r\n"),
                          f"{what}: curl prints the trailers after the body ({plain[-120:]!r})")
                    got = run(argv, env_for(cfg)).stdout
                    eq(got, plain, f"{what}: curl -si, with the library")
                    if not verdict:
                        eq(len(m.requests("backup")), 1 if status == "503" else 0, f"{what}: the member asked")
                        m.reset_all()
                        m.set("backup", behaviour="503")
                    for extra in (("stream", "stream-inbody") if stream else ("", "inbody")):
                        prog = [os.path.join(BUILD, "progs/curlstate"), "trailers", base + "/chat/completions", extra]
                        plain = run(prog, env_for(cfg, preload=False)).stdout.decode()
                        check("H X-Tr: trailer-value\\r\\n\nH X-Sum:" in plain and "trailer 0 trailer-value 1 0 2" in plain,
                              f"{what} {extra}: libcurl's own order and lookups ({plain[-400:]})")
                        eq(run(prog, env_for(cfg)).stdout.decode(), plain,
                           f"{what} {extra}: the callbacks' order and curl_easy_header, with the library")
        finally:
            srv.stop()


def curlinfo(m, case, *args, preload=True, timeout=20, cfg=None, url=None):
    prog = os.path.join(BUILD, "progs/curlinfo")
    return run([prog, case, url or m.base("primary") + "/chat/completions", *args],
               env_for(cfg or config(m), preload=preload), timeout=timeout)


def test_a_programs_socket_callbacks_are_not_a_members_route():
    """A program's OPENSOCKETFUNCTION may rewrite the address libcurl asks
    for (to a forwarder of its own): that route leads to the program's
    server. Another provider's member goes to its base URL, with its own
    key, and none of the program's socket callbacks see its connection; the
    program's next call goes by its callbacks again."""
    m = mock()
    gateway = RawServer(answer_503)
    try:
        r = curlinfo(m, "osock", str(gateway.port), cfg=config(m, chain=("backup/gpt-4o-mini",)))
    finally:
        gateway.stop()
    eq(lines(r), ["call 0 200", "call 0 200", "opens 2 sockopts 2 closes 2"],
       "both calls answered; the callbacks saw the originals' connections only")
    eq([q["headers"].get("authorization") for q in gateway.requests], [f"Bearer {KEYS['OPENAI_API_KEY']}"] * 2,
       "the program's forwarder saw the program's own requests only")
    eq((len(m.requests("primary")), len(m.requests("backup"))), (0, 2), "each fallback to the backup itself")
    no_key_leaks(m)


def kv(r):
    return dict(l.partition(" ")[::2] for l in lines(r))


def test_a_progress_callbacks_abort_ends_the_call():
    """The program's progress callback returning non-zero ends the call
    with CURLE_ABORTED_BY_CALLBACK, as libcurl ends it, whichever attempt
    it came in: a member's is never followed by the next member. Nothing
    held back is handed over (as libcurl stops a transfer before its
    answer came). Between transfers, in a Retry-After wait, the callback is
    still called about once a second (as libcurl calls it on an idle
    transfer), and its abort ends the call there too."""
    m = mock()
    for case in ("xabort", "pabort"):
        m.reset_all()
        m.set("primary", behaviour="503")
        m.set("backup", behaviour="slow:1500")
        r = curlinfo(m, case, "600")
        got = kv(r)
        eq((got["rc"], got["err"], got["code"], got["got"]), ("42", "Callback aborted", "0", "0"),
           f"{case}: aborted in the member's attempt")
        check(int(got["ms"]) < 1400, f"{case}: at the abort, not at the member's answer ({got['ms']} ms)")
        eq((len(m.requests("primary")), len(m.requests("backup")), len(m.requests("spare"))), (1, 1, 0),
           f"{case}: no member after the abort")
    m.reset_all()
    m.set("primary", behaviour="429", retry_after=2)
    r = curlinfo(m, "xabort", "500", cfg=config(m, retry={"max_wait_ms": 3000}))
    got = kv(r)
    eq((got["rc"], got["err"], got["code"]), ("42", "Callback aborted", "0"), "aborted in the Retry-After wait")
    check(900 < int(got["ms"]) < 1800, f"called about a second into the wait, and stopped there ({got['ms']} ms)")
    eq((len(m.requests("primary")), len(m.requests("backup"))), (1, 0), "nothing asked after the abort")


def test_getinfo_describes_the_transfer_the_program_got():
    """When every member fails and the program gets the original failure,
    curl_easy_getinfo describes the original's transfer, as it would
    without the library: its Retry-After (curl --retry waits by it), its
    address, request size, connections, upload (its body's length too, not
    the member's, whose model differs), and under FAILONERROR no
    body downloaded; after a member's answer, no OS_ERRNO left from a
    refused original."""
    m = mock()
    same = ("rc", "RESPONSE_CODE", "EFFECTIVE_URL", "RETRY_AFTER", "PRIMARY_IP", "PRIMARY_PORT", "LOCAL_IP",
            "NUM_CONNECTS", "REQUEST_SIZE", "SCHEME", "SIZE_UPLOAD_T", "SIZE_DOWNLOAD_T", "REDIRECT_COUNT",
            "OS_ERRNO", "HEADER_SIZE", "SIZE_UPLOAD", "CONTENT_LENGTH_UPLOAD_T", "TWINS")
    cfg = config(m, chain=("backup/gpt-4o-mini",))

    def both(*args, url=None, cfg=cfg):
        a, b = (kv(curlinfo(m, "info", *args, url=url, cfg=cfg, preload=p)) for p in (False, True))
        return {k: a.get(k) for k in same}, {k: b.get(k) for k in same}

    m.set("primary", behaviour="429", retry_after=7)
    m.set("backup", behaviour="500")
    direct, got = both()
    eq(got, direct, "a 429's transfer, after a member's 500")
    eq(direct["RETRY_AFTER"], "7", "(its Retry-After)")
    eq(len(m.requests("backup")), 1, "(the member was asked)")
    m.set("primary", behaviour="503", retry_after=None)
    direct, got = both("fail")
    eq(got, direct, "under FAILONERROR")
    eq(direct["SIZE_DOWNLOAD_T"], "0", "(no body downloaded)")
    from harness import free_ports
    dead = free_ports(1)[0]
    c = json.load(open(cfg))
    c["providers"]["openai"]["base_url"] = f"http://127.0.0.1:{dead}/v1"
    dcfg = write_config(c, "dead-info.json")
    direct, got = both(url=f"http://127.0.0.1:{dead}/v1/chat/completions", cfg=dcfg)
    eq(got, direct, "a refused original's transfer")
    eq((direct["rc"], direct["OS_ERRNO"], direct["SIZE_UPLOAD_T"]), ("7", "111", "0"), "(refused)")
    m.set("backup", behaviour="ok")
    got = kv(curlinfo(m, "info", url=f"http://127.0.0.1:{dead}/v1/chat/completions", cfg=dcfg))
    eq((got["rc"], got["RESPONSE_CODE"], got["OS_ERRNO"]), ("0", "200", "0"),
       "the member's answer after a refused original: as a call to the member")
    # the body the program sent, after a member's answer too (the member's
    # is longer by its model's name)
    m.set("primary", behaviour="503")
    direct, got = both()
    eq((got["RESPONSE_CODE"], got["CONTENT_LENGTH_UPLOAD_T"], got["SIZE_UPLOAD_T"]),
       ("200", direct["CONTENT_LENGTH_UPLOAD_T"], direct["SIZE_UPLOAD_T"]), "the program's upload, after a member's answer")
    # an original that followed a redirect to its failure: its URL and count
    def moved(c, req):
        if req["target"].startswith("/v1/"):
            c.sendall(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /v2/chat/completions\r\nContent-Length: 0\r\n\r\n")
            return True
        return answer_503(c, req)
    srv = RawServer(moved)
    try:
        c["providers"]["openai"]["base_url"] = f"http://127.0.0.1:{srv.port}/v1"
        m.set("backup", behaviour="500")
        direct, got = both("follow", url=f"http://127.0.0.1:{srv.port}/v1/chat/completions",
                           cfg=write_config(c, "moved-info.json"))
    finally:
        srv.stop()
    eq(got, direct, "an original that followed a redirect")
    eq((direct["RESPONSE_CODE"], direct["REDIRECT_COUNT"]), ("503", "1"), "(redirected to its 503)")


def test_the_programs_timeout_bounds_the_whole_call():
    """curl -m (CURLOPT_TIMEOUT) limits the whole call, as without the
    library: a member gets what is left of it, none starts after it, and
    the program then gets the original failure (a primary that ran into
    the limit itself: curl's own error 28, exactly). The library's own
    first-byte limit is what leaves room for a fallback."""
    import time
    m = mock()
    m.set("primary", behaviour="hang")

    def timed(cfg, limit="1.5"):
        t = time.monotonic()
        r = run(curl_chat(m, "-m", limit), env_for(cfg) if cfg else env_for(preload=False))
        return r, time.monotonic() - t

    # (the first-byte limit is checked about once a second: the primary
    # is given up after 0.5 to 1.2 s)
    m.set("backup", behaviour="slow:300")
    r, took = timed(config(m, timeouts_ms={"connect": 2000, "first_byte": 500, "total": 3000}), "2.5")
    check(r.returncode == 0 and answer(r.stdout).startswith("Hello from backup"),
          f"a member that answers within the call's limit ({r.returncode}, {took:.2f} s)")
    m.reset_all()
    m.set("primary", behaviour="503")
    m.set("backup", behaviour="slow:2000")
    r, took = timed(config(m, timeouts_ms={"connect": 2000, "first_byte": 5000, "total": 5000}), "1.5")
    check(r.returncode == 0 and b"overloaded" in r.stdout.lower() and b"backup" not in r.stdout.lower(),
          f"a member cut by the call's limit: the original failure ({r.stdout[:80]!r})")
    # (a process's own start and end on top: more for an ASan build on a
    # busy machine, which took 2.24 s here; the member would answer at 2 s)
    slack = 1.0 if SANITIZED else 0.4
    check(1.4 < took < 1.5 + slack, f"ended at the call's limit ({took:.2f} s)")
    eq(len(m.requests("spare")), 0, "no member after the limit")
    m.set("primary", behaviour="hang")
    m.reset_all()
    cfg = config(m, timeouts_ms={"connect": 2000, "first_byte": 5000, "total": 5000})
    (a, _), (b, took) = timed(None), timed(cfg)
    took_ms = lambda e: re.sub(rb"after [0-9]+ milliseconds", b"after N milliseconds", e)
    eq((b.returncode, b.stdout, took_ms(b.stderr)), (a.returncode, a.stdout, took_ms(a.stderr)),
       "a primary that ran into the call's limit: curl's own error, exactly")
    eq(a.returncode, 28, "(curl's timeout)")
    check(took < 1.5 + slack, f"and no member after it ({took:.2f} s)")
    eq((len(m.requests("backup")), len(m.requests("spare"))), (0, 0), "(none asked)")


def test_a_header_callbacks_refusal_as_libcurl_reports_it():
    """A header callback that refuses a line ends the call as libcurl ends
    it: "Failed writing header" (not the body's "Failure writing output to
    destination"), and no body downloaded; after a fallback as on a call
    the primary answers itself."""
    m = mock()
    direct = kv(curlinfo(m, "habort", preload=False))
    eq((direct["rc"], direct["err"], direct["size"], direct["got"]), ("23", "Failed writing header", "0", "0"),
       "(libcurl's own)")
    eq(kv(curlinfo(m, "habort")), direct, "answered by the primary")
    eq(len(m.requests("backup")), 0, "(the backup not asked)")
    m.set("primary", behaviour="503")
    eq(kv(curlinfo(m, "habort")), direct, "answered by the backup")
    # (the callback refuses the first header line whatever its status: only
    # the backup's request shows the fallback happened)
    eq(len(m.requests("backup")), 1, "(the backup asked once)")


def raw_config(primary, m, chain=("backup/gpt-4o-mini",), **timeouts):
    """The primary a RawServer's, the members the mock's."""
    return write_config({
        "providers": {"openai": {"base_url": f"http://127.0.0.1:{primary.port}/v1"},
                      "backup": {"dialect": "openai", "base_url": m.base("backup"), "api_key_env": "BACKUP_KEY"}},
        "chain": list(chain), "breaker": {"failures": 0},
        "timeouts_ms": {"connect": 2000, "first_byte": 1500, "total": 3000, **timeouts}})


def cut_answer(status, sent, stall=0):
    """An answer whose Content-Length promises more than comes: cut (the
    connection closed) or stalled after `sent` bytes."""
    def answer(c, req):
        body = json.dumps({"error": {"message": "The server is overloaded", "type": "server_error"}}
                          if status >= 400 else {"id": "x", "object": "chat.completion", "choices": [
                              {"index": 0, "message": {"role": "assistant", "content": "cut " * 40}, "finish_reason": "stop"}]}).encode()
        reason = b"OK" if status < 400 else b"Service Unavailable" if status == 503 else b"Error"
        c.sendall(b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                  % (status, reason, len(body), body[:sent]))
        time.sleep(stall)
        return False
    return answer


def test_a_failed_original_keeps_its_status():
    """When every member fails too, the program gets the original failure as
    libcurl reports it: a body cut short (18) or stalled to the program's
    own limit (28) after a status line keeps that status for getinfo
    (curl -w '%{http_code}'), not 000."""
    m = mock()
    m.set("backup", behaviour="503")
    # (a cut answer fails over; one stalled to the program's own limit
    # leaves no time for a member)
    for status, stall, limit, want, asked in ((200, 0, [], "200 18", 1), (503, 0, [], "503 18", 1),
                                              (200, 5, ["-m", "1"], "200 28", 0)):
        srv = RawServer(cut_answer(status, 30, stall))
        try:
            argv = [CURL, "-s", "-o", "/dev/null", "-w", "%{http_code} %{exitcode}", *limit,
                    f"http://127.0.0.1:{srv.port}/v1/chat/completions", "-H", "Content-Type: application/json",
                    "-d", chat_body()]
            cfg = raw_config(srv, m)
            eq(run(argv, env_for(cfg, preload=False)).stdout.decode(), want, f"{want}: (libcurl's own)")
            m.reset("backup")
            eq(run(argv, env_for(cfg)).stdout.decode(), want, f"{want}: with the library")
            eq(len(m.requests("backup")), asked, f"{want}: the backup asked {asked} time(s)")
        finally:
            srv.stop()


def test_fail_with_an_error_status_ends_as_libcurl_ends_it():
    """curl --fail (FAILONERROR): libcurl stops at an error status's head
    with error 22 and that status. The original attempt stops there too
    when its verdict needs no body: a 503 whose body is cut short or never
    comes gives 503 and 22 at once when every member fails, not 18, or 28
    after the attempt's whole limit; and a member still answers when one
    can."""
    m = mock()
    for stall in (0, 30):
        srv = RawServer(cut_answer(503, 20, stall))
        try:
            argv = [CURL, "-s", "--fail", "-w", "%{http_code} %{exitcode}",
                    f"http://127.0.0.1:{srv.port}/v1/chat/completions", "-H", "Content-Type: application/json",
                    "-d", chat_body()]
            cfg = raw_config(srv, m, total=8000)
            what = "stalled" if stall else "cut short"
            m.set("backup", behaviour="503")
            eq(run(argv, env_for(cfg, preload=False)).stdout.decode(), "503 22", f"{what}: (libcurl's own)")
            t = time.monotonic()
            eq(run(argv, env_for(cfg)).stdout.decode(), "503 22", f"{what}: with the library, every member failing")
            check(time.monotonic() - t < 2, f"{what}: at once ({time.monotonic() - t:.2f} s)")
            m.set("backup", behaviour="ok")
            r = run(argv, env_for(cfg))
            check(r.stdout.endswith(b"200 0") and b"Hello from backup" in r.stdout,
                  f"{what}: a member's answer ({r.stdout[-80:]!r})")
        finally:
            srv.stop()


def test_a_readers_upload_keeps_the_programs_framing():
    """A body given through a read callback (curl -T FILE, -T -) reaches
    the server with the head libcurl makes of it without the library: its
    Content-Length or chunked framing, its Expect, and no Content-Type the
    program never set; for a body that is no call (passed through) and for
    a call's original attempt."""
    m = mock()
    srv = RawServer()
    try:
        cfg = raw_config(srv, m)
        url = f"http://127.0.0.1:{srv.port}/v1/chat/completions"
        d = tempfile.mkdtemp()
        for name, data in (("binary", bytes(range(256)) * 20), ("call", chat_body().encode())):
            path = os.path.join(d, name)
            with open(path, "wb") as f:
                f.write(data)
            for args in (["-X", "POST", "-T", path], ["-X", "POST", "-T", "-"]):
                heads = []
                for preload in (False, True):
                    srv.requests.clear()
                    run([CURL, "-s", "-o", "/dev/null", *args, url], env_for(cfg, preload=preload), input=data)
                    check(srv.requests and srv.requests[0]["body"] == data, f"{name} {args[-1]}: the body whole")
                    heads.append(srv.requests[0]["head"])
                check("Content-Type" not in heads[0], f"(libcurl adds no Content-Type: {heads[0]!r})")
                eq(heads[1], heads[0], f"{name} {args[-1]}: the head libcurl makes of it")
    finally:
        srv.stop()


def test_the_first_byte_is_awaited_from_the_uploads_end():
    """timeouts_ms.first_byte counts from the end of the upload: a provider
    that takes a large body slowly (here ~1.3 s) and answers at once is
    not stopped as silent at 0.8 s."""
    m = mock()
    srv = RawServer(took_it, read_rate=1_000_000)
    try:
        cfg = raw_config(srv, m, first_byte=800)
        body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "x" * 1_300_000}]})
        d = tempfile.mkdtemp()
        path = os.path.join(d, "big.json")
        with open(path, "w") as f:
            f.write(body)
        log = new_log("first_byte_upload.jsonl")
        r = run([CURL, "-s", "-o", "/dev/null", "-w", "%{http_code} %{exitcode}", "-H", "Expect:",
                 "-H", "Content-Type: application/json", f"http://127.0.0.1:{srv.port}/v1/chat/completions",
                 "--data-binary", "@" + path], env_for(cfg, log=log))
        eq(r.stdout, b"200 0", "answered")
        eq([(x["provider"], x["outcome"]) for x in read_log(log) if x.get("event") == "attempt"], [("openai", "ok")], "by the primary, at its first attempt")
        eq(len(srv.requests[0]["body"]), len(body), "which took the body whole")
    finally:
        srv.stop()


def test_an_answer_over_the_cap_reaches_the_program_whole():
    """An answer larger than the library may hold is the program's all the
    same, whole, as libcurl alone hands it over: passed on as it comes, not
    cut (a write error, 23) nor replaced by a member's."""
    m = mock()
    answer, size, whole = huge_answer()
    srv = RawServer(answer)
    try:
        out = os.path.join(tempfile.mkdtemp(), "answer")
        argv = [CURL, "-s", "-o", out, "-w", "%{http_code} %{exitcode} %{size_download}",
                f"http://127.0.0.1:{srv.port}/v1/chat/completions", "-H", "Content-Type: application/json",
                "-d", chat_body()]
        log = new_log("over_cap.jsonl")
        r = run(argv, env_for(raw_config(srv, m, total=120000), log=log))   # (256 MiB under ASan on a busy machine: more than 3 s)
        eq(r.stdout, b"200 0 %d" % size, "status, exit code and size as libcurl's")
        with open(out, "rb") as f:
            check(whole(f.read()), "the body whole")
        os.unlink(out)
        eq(len(m.requests("backup")), 0, "no member asked")
        eq([(x["provider"], x["outcome"]) for x in read_log(log) if x.get("event") == "attempt"], [("openai", "ok")], "(logged as the primary's)")
    finally:
        srv.stop()


def test_a_request_target_or_another_method_spelling_is_not_a_call():
    """CURLOPT_REQUEST_TARGET (--request-target) is what the program asks,
    not its URL's path, and an HTTP method is case-sensitive ("post" is not
    POST): neither transfer is a completion call, and each goes to the
    program's server as it set it, with no member asked."""
    m = mock()
    m.set("primary", behaviour="503")
    cfg = config(m)
    for extra in (["--request-target", "/v1/embeddings"], ["-X", "post"], ["-X", "Post"]):
        m.reset_all()
        log = new_log("target.log")
        r = run(curl_chat(m, *extra, "-w", "\n%{http_code}"), env_for(cfg, log))
        eq(r.returncode, 0, f"curl exit {extra}")
        eq(r.stdout.decode().rpartition("\n")[2], "404", f"the primary's own answer {extra}")
        eq((len(m.requests("backup")), len(m.requests("spare"))), (0, 0), f"no member asked {extra}")
        eq([l for l in read_log(log) if l["event"] == "attempt"], [], f"no attempt logged {extra}")


def test_a_body_with_a_key_given_twice_passes_through():
    """A key given twice (at any depth): cJSON, which every translation goes
    through, reads the first, servers the last. The call passes through as
    the program wrote it: a duplicate "stream" streams as the server reads
    it (it was judged as a whole answer and replaced), and a duplicate
    "model" reaches no member (which was sent both)."""
    m = mock()
    cfg = config(m)
    log = new_log("dup.log")
    body = '{"model":"gpt-4o","stream":false,"messages":[{"role":"user","content":"hi"}],"stream":true}'
    argv = curl_chat(m, "-i")
    argv[argv.index(chat_body("gpt-4o", "hello"))] = body
    r = run(argv, env_for(cfg, log))
    out = r.stdout.decode()
    check("text/event-stream" in out and "data: " in out, f"the primary's stream, as it sent it ({out[:200]!r})")
    check("x-llmfallback" not in out, "no member's head")
    eq(len(m.requests("backup")), 0, "no member asked for the good stream")
    m.set("primary", behaviour="503")
    body = '{"model":"gpt-4o","model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'
    argv = curl_chat(m, "-w", "\n%{http_code}")
    argv[argv.index(chat_body("gpt-4o", "hello"))] = body
    r = run(argv, env_for(cfg, log))
    eq(r.stdout.decode().rpartition("\n")[2], "503", "the original failure")
    eq((len(m.requests("backup")), len(m.requests("spare"))), (0, 0), "no member asked")
    eq([l for l in read_log(log) if l["event"] == "attempt"], [], "no attempt logged")


def test_a_base_url_with_a_query_keeps_it_after_the_operation():
    """A base URL with a query (Azure's ?api-version=): a member is sent the
    operation's path before the query, and the query; calls to it are
    recognised by their path."""
    m = mock()
    m.set("primary", behaviour="503")
    c = {"providers": {"openai": {"base_url": m.base("primary")},
                       "azure": {"base_url": m.base("backup", "/openai/deployments/d1?api-version=2024-06-01"),
                                 "api_key_env": "BACKUP_KEY"}},
         "chain": ["azure/gpt-4o"], "timeouts_ms": {"connect": 2000, "total": 3000}}
    cfg = write_config(c, "azure.json")
    r = run(curl_chat(m), env_for(cfg))
    check(answer(r.stdout).startswith("Hello from backup"), f"the member's answer ({r.stdout[:200]!r})")
    got = m.requests("backup")
    eq([(q["path"], q["query"]) for q in got], [("/openai/deployments/d1/chat/completions", "api-version=2024-06-01")],
       "the operation's path, then the query")
    # a program's own call to it is recognised, and falls back
    m.reset_all()
    m.set("backup", behaviour="503")
    c["chain"] = ["openai/gpt-4o-mini"]
    m.set("primary", behaviour="ok")
    argv = curl_chat(m, server="backup", key=KEYS["BACKUP_KEY"])
    argv[2] = m.base("backup", "/openai/deployments/d1/chat/completions?api-version=2024-06-01")
    r = run(argv, env_for(write_config(c, "azure.json")))
    check(answer(r.stdout).startswith("Hello from primary"), f"fallen back from it ({r.stdout[:200]!r})")


def test_a_base_url_without_a_path_is_named_once():
    """A configured openai, anthropic or gemini base URL with no path takes calls
    right under it; a program calling BASE/v1/... (an SDK's base URL copied
    into the config) would pass through without a word, so the process says
    so, once, naming the provider and not the URL. A base with a path, and
    DeepSeek's official one, say nothing. A base URL ending in an endpoint
    (".../v1/chat/completions") would never see its calls recognised: named
    too."""
    m = mock()
    c = {"providers": {"openai": {"base_url": m.base("primary", "")},
                       "backup": {"dialect": "openai", "base_url": m.base("backup"), "api_key_env": "BACKUP_KEY"}},
         "chain": ["backup/gpt-4o-mini"]}
    r = run(curl_chat(m), env_for(write_config(c, "bare.json")))
    warned = [l for l in r.stderr.decode().splitlines() if "base_url has no path" in l]
    eq(len(warned), 1, f"one line ({r.stderr.decode()[-300:]!r})")
    check("provider openai" in warned[0] and "127.0.0.1" not in warned[0], f"names the provider, not the URL ({warned[0]!r})")
    check(answer(r.stdout).startswith("Hello from primary"), "the call itself passes through")
    c["providers"]["openai"]["base_url"] = m.base("primary")
    r = run(curl_chat(m), env_for(write_config(c, "bare.json")))
    check("base_url has no path" not in r.stderr.decode(), f"a base with a path: nothing ({r.stderr.decode()[-300:]!r})")
    # and a Gemini one, under /v1beta (google-genai's base_url is the host alone)
    c["providers"]["gemini"] = {"base_url": "http://127.0.0.1:9"}
    r = run(curl_chat(m), env_for(write_config(c, "bare.json")))
    warned = [l for l in r.stderr.decode().splitlines() if "base_url has no path" in l]
    eq(len(warned), 1, f"one line for gemini ({r.stderr.decode()[-300:]!r})")
    check("provider gemini" in warned[0] and "/v1beta" in warned[0], f"names Gemini's /v1beta ({warned[0]!r})")
    # an endpoint copied into base_url: its calls are never recognised, so it is named too
    del c["providers"]["gemini"]
    for tail in ("/chat/completions", "/chat/completions/", "/models/gemini-2.5-flash:generateContent"):
        c["providers"]["openai"]["base_url"] = m.base("primary") + tail
        r = run(curl_chat(m), env_for(write_config(c, "bare.json")))
        warned = [l for l in r.stderr.decode().splitlines() if "ends in an endpoint" in l]
        eq(len(warned), 1, f"one line for {tail} ({r.stderr.decode()[-300:]!r})")
        check("provider openai" in warned[0] and "127.0.0.1" not in warned[0], f"names the provider ({warned[0]!r})")
def test_certinfo_is_the_originals_after_every_member_failed():
    """curl -w '%{certs}' (CURLINFO_CERTINFO) when the program gets its
    original failure after a member failed: the original's certificate
    chain, as without the library, not the member's (a server of another
    CA's, which the library trusts by its ca_bundle)."""
    m = tls_mock()
    a = certs()
    def go(preload):
        m.reset_all()
        m.set("tpri", behaviour="503")
        m.set("omem", behaviour="500")
        cfg = write_config({
            "providers": {"openai": {"base_url": m.base("tpri")},
                          "backup": {"dialect": "openai", "base_url": m.base("omem"), "api_key_env": "BACKUP_KEY"}},
            "chain": ["backup/gpt-4o-mini"], "ca_bundle": m.other_ca}, "certinfo.json")
        e = env_for(cfg, new_log("certinfo.log"), preload=preload)
        r = run([CURL, "-sS", "-o", "/dev/null", "--cacert", os.path.join(a, "ca.pem"),
                 "-H", "Content-Type: application/json", "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}",
                 "-d", chat_body(), "-w", "%{http_code}|%{num_certs}|%{certs}", m.base("tpri") + "/chat/completions"], e)
        return r.stdout.decode(), len(m.requests("omem"))
    direct, asked = go(False)
    check("Issuer:CN = llmfallback test CA" in direct and direct.split("|")[:1] == ["503"] and direct.split("|")[1] != "0", f"(direct: {direct[:80]})")
    got, asked = go(True)
    eq(asked, 1, "the member was asked, and failed")
    check(got == direct, f"the original's certificates: got {got[:64]!r}, want {direct[:64]!r}")
