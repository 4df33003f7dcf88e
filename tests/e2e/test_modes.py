"""Experiments without code changes: mode "override" (the candidate first, the
program's own request as its fallback) and mode "shadow" (a background copy
to the candidate, compared in the log), with unmodified curl, Python and
libcurl programs; and what `llmfallback report` makes of the log."""
import json
import os

from harness import (BUILD, CURL, KEYS, PY, ROOT, Failed, chat_body, shared_mock, check, env_for, eq, new_log,
                     read_log, run, tmpdir, write_config)
from pyclients import CHILDREN, SOCKET_INODES, check_children


def mock():
    return shared_mock("modes", [
        {"name": "primary", "dialect": "openai", "behaviour": "ok", "key": KEYS["OPENAI_API_KEY"]},
        {"name": "claude", "dialect": "anthropic", "behaviour": "ok", "key": KEYS["ANTHROPIC_API_KEY"]},
        {"name": "backup", "dialect": "openai", "behaviour": "ok", "key": KEYS["BACKUP_KEY"]},
    ])


# Unmodified client programs: one chat call with the key in argv, printing
# status, the answering provider's header and the answer.
REQUESTS_PROG = ("import requests, sys; r = requests.post(sys.argv[1], json={'model': 'gpt-4o', 'messages': "
                 "[{'role': 'user', 'content': 'hi'}]}, headers={'Authorization': 'Bearer ' + sys.argv[2]}); "
                 "print(r.status_code, r.headers.get('x-llmfallback-provider'), r.json()['choices'][0]['message']['content'])")

# urllib programs share call(): POST argv[2] to argv[1] with key argv[3];
# returns (status, header names, body); and copies(n): wait (10 s at most)
# until the log holds n shadow lines.
URLLIB_CALL = """import json, os, sys, time, urllib.request
def call():
    req = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), headers={
        'Authorization': 'Bearer ' + sys.argv[3], 'Content-Type': 'application/json'})
    with urllib.request.urlopen(req) as r:
        return r.status, list(r.headers.keys()), r.read()
def copies(n):
    for _ in range(200):
        if open(os.environ['LLMFALLBACK_LOG']).read().count('"shadow"') >= n:
            return
        time.sleep(0.05)
"""


def urllib_prog(name, main):
    path = os.path.join(tmpdir(), name)
    with open(path, "w") as f:
        f.write(URLLIB_CALL + main)
    return path


def config(m, mode, name, **extra):
    cfg = {"providers": {"openai": {"base_url": m.base("primary")},
                         "anthropic": {"base_url": m.base("claude")},
                         "backup": {"dialect": "openai", "base_url": m.base("backup"), "api_key_env": "BACKUP_KEY"}},
           "chain": ["backup/gpt-4o-mini"], "mode": mode, "candidate": "anthropic/claude-sonnet-4-5"}
    cfg.update(extra)
    return write_config(cfg, name)


def curl_call(m, env, text="hello"):
    return run([CURL, "-sS", "-i", m.base("primary") + "/chat/completions",
                "-H", "Authorization: Bearer " + KEYS["OPENAI_API_KEY"], "-H", "Content-Type: application/json",
                "-d", chat_body(text=text)], env)


def split(out):
    head, _, body = out.partition(b"\r\n\r\n")
    return head.decode().lower(), body


def test_override_sends_to_the_candidate_first():
    m = mock()
    log = new_log("override.log")
    r = curl_call(m, env_for(config(m, "override", "override.json"), log))
    head, body = split(r.stdout)
    eq(r.returncode, 0, "curl succeeds")
    check(head.startswith("http/1.1 200"), f"a 200 ({head[:40]})")
    check("x-llmfallback-provider: anthropic" in head, "answered by the candidate")
    ans = json.loads(body)
    check(ans["object"] == "chat.completion" and "Hello from claude (claude-sonnet-4-5)" in
          ans["choices"][0]["message"]["content"], f"in the program's own dialect ({body[:120]!r})")
    eq(len(m.requests("primary")), 0, "the program's provider is not called")
    reqs = m.requests("claude")
    eq(len(reqs), 1, "one call to the candidate")
    eq(reqs[0]["credential"], KEYS["ANTHROPIC_API_KEY"], "with the candidate's own key")
    check(KEYS["OPENAI_API_KEY"] not in json.dumps(reqs[0]), "and not the program's")
    sent = json.loads(reqs[0]["body"])
    check(sent["model"] == "claude-sonnet-4-5" and sent["messages"][0]["content"] in ("hello", [{"type": "text", "text": "hello"}]),
          f"translated to the candidate's dialect ({sent})")
    recs = [e for e in read_log(log) if e.get("event") == "attempt"]
    eq([(e["provider"], e.get("role")) for e in recs], [("anthropic", "override")], "one attempt, marked override")


def test_override_falls_back_to_the_original():
    m = mock()
    m.set("claude", behaviour="503")
    log = new_log("override-fb.log")
    r = curl_call(m, env_for(config(m, "override", "override-fb.json"), log))
    head, body = split(r.stdout)
    check(head.startswith("http/1.1 200") and "x-llmfallback" not in head,
          "the program's own answer, untouched")
    check("Hello from primary (gpt-4o)" in body.decode(), "from its own provider")
    eq(m.requests("primary")[0]["credential"], KEYS["OPENAI_API_KEY"], "with its own key")
    eq(len(m.requests("backup")), 0, "the chain is not needed")
    # candidate and original both fail: the original failure, as it came
    m.reset_all()
    m.set("claude", behaviour="503")
    m.set("primary", behaviour="500")
    m.set("backup", behaviour="502")
    r = curl_call(m, env_for(config(m, "override", "override-fb.json"), new_log("override-fb2.log")))
    head, body = split(r.stdout)
    check(head.startswith("http/1.1 500"), f"the original's 500 ({head[:30]})")
    eq([len(m.requests(n)) for n in ("claude", "primary", "backup")], [1, 1, 1], "each tried once")


def test_an_override_candidate_that_hangs_leaves_the_original_its_time():
    """Under the program's own limit on the call (curl -m 3), a candidate
    that never answers has half of it: the program's own provider is asked
    in the other half, and answers, where the candidate took all of it and
    the program got curl's timeout."""
    m = mock()
    m.set("claude", behaviour="hang")
    log = new_log("override-hang.log")
    r = run([CURL, "-sS", "-i", "-m", "3", m.base("primary") + "/chat/completions",
             "-H", "Authorization: Bearer " + KEYS["OPENAI_API_KEY"], "-H", "Content-Type: application/json",
             "-d", chat_body()], env_for(config(m, "override", "override-hang.json",
                                                timeouts_ms={"first_byte": 60000, "total": 60000}), log))
    head, body = split(r.stdout)
    eq(r.returncode, 0, f"curl ends well ({r.stderr[-200:]!r})")
    check("Hello from primary (gpt-4o)" in body.decode(), f"the program's own provider answers ({body[:100]!r})")
    eq(len(m.requests("primary")), 1, "the original is sent")
    recs = [(e["provider"], e["reason"]) for e in read_log(log) if e.get("event") == "attempt"]
    eq(recs, [("anthropic", "timeout"), ("openai", "ok")], "the candidate's own time ran out, then the original")


def test_shadow_never_touches_the_answer():
    """A Python program (urllib) gets its provider's answer while the candidate
    (2 s slow) is still working; the comparison is logged once the copy comes
    back, before the process ends, and the copy carries only the candidate's key."""
    m = mock()
    m.set("claude", delay_ms=2000)
    log = new_log("shadow.log")
    prog = urllib_prog("shadow_prog.py",
                       "status, hdrs, body = call()\n"
                       "print(json.dumps({'t': time.time(), 'body': body.decode(),\n"
                       "                  'x': any(h.lower().startswith('x-llmfallback') for h in hdrs)}))\n")
    cfg = config(m, "shadow", "shadow.json", shadow={"sample": 1})
    r = run([PY, prog, m.base("primary") + "/chat/completions", chat_body(text="what is 2+2"),
             KEYS["OPENAI_API_KEY"]], env_for(cfg, log))
    eq(r.returncode, 0, f"the program succeeds ({r.stderr.decode()[-300:]})")
    got = json.loads(r.stdout)
    check("Hello from primary (gpt-4o)" in got["body"] and not got["x"], "its own provider's answer, untouched")
    sh = [e for e in read_log(log) if e.get("event") == "shadow"]
    eq(len(sh), 1, "one shadow comparison logged before the process ended")
    e = sh[0]
    eq((e["provider"], e["model"], e["outcome"], e["status"]), ("anthropic", "claude-sonnet-4-5", "ok", 200),
       "the candidate answered")
    eq((e["primary_provider"], e["primary_model"]), ("openai", "gpt-4o"), "beside what the program got")
    check(e["ms"] >= 2000 and e["primary_ms"] < 2000, f"both latencies ({e['ms']}, {e['primary_ms']})")
    check(got["t"] < m.requests("claude")[0]["ts"] + 2.0, "the program had its answer before the copy's came back")
    check(0 < e["similarity"] < 1, f"a similarity figure ({e['similarity']})")
    check(e["tokens_in"] == 9 and e["tokens_out"] > 0 and e["primary_tokens_in"] == 9, "token usage of both")
    reqs = m.requests("claude")
    eq(reqs[0]["credential"], KEYS["ANTHROPIC_API_KEY"], "the copy carries the candidate's key")
    check(KEYS["OPENAI_API_KEY"] not in json.dumps(reqs[0]), "and not the program's")
    eq(len(m.requests("primary")), 1, "the program's call went once")
    check("what is 2+2" not in open(log).read(), "no prompt in the log")


def test_shadow_compares_an_answer_the_program_asked_compressed():
    """curl with its own Accept-Encoding: gzip gets its provider's gzip bytes as
    they came; the shadow comparison reads them decoded (the candidate is asked
    for no encoding), so similarity and the primary's usage are there."""
    import gzip as gz
    m = mock()
    log = new_log("shadowgz.log")
    cfg = config(m, "shadow", "shadowgz.json", shadow={"sample": 1})
    r = run([CURL, "-sS", m.base("primary") + "/chat/completions", "-H", "Accept-Encoding: gzip",
             "-H", "Authorization: Bearer " + KEYS["OPENAI_API_KEY"], "-H", "Content-Type: application/json",
             "-d", chat_body(text="what is 2+2")], env_for(cfg, log))
    eq(r.returncode, 0, f"exit ({r.stderr.decode()[-200:]})")
    check(r.stdout[:2] == b"\x1f\x8b" and b"Hello from primary" in gz.decompress(r.stdout),
          f"the program's gzip bytes, as they came ({r.stdout[:12]!r})")
    sh = [e for e in read_log(log) if e.get("event") == "shadow"]
    eq([(e["provider"], e["outcome"]) for e in sh], [("anthropic", "ok")], "one comparison")
    check(0 < sh[0].get("similarity", -1) < 1, f"a similarity of the decoded answer ({sh[0]})")
    eq(sh[0].get("primary_tokens_in"), 9, "the primary's usage, read from the decoded answer")
    check("accept-encoding" not in m.requests("claude")[0]["headers"], "the copy asked for no encoding")
    # --compressed: libcurl decodes, under a head still naming gzip; and a
    # member that gzips unasked, handed over decoded: compared both
    for what, primary, args in (("--compressed", "ok", ["--compressed"]), ("a member's gzip", "503", [])):
        m.reset_all()
        m.set("primary", behaviour=primary)
        m.set("backup", encode="always")
        log = new_log("shadowgz2.log")
        r = run([CURL, "-sS", m.base("primary") + "/chat/completions", *args,
                 "-H", "Authorization: Bearer " + KEYS["OPENAI_API_KEY"], "-H", "Content-Type: application/json",
                 "-d", chat_body(text="what is 2+2")], env_for(cfg, log))
        check(b"Hello from" in r.stdout, f"{what}: the answer ({r.stdout[:80]!r})")
        eq([(e["outcome"], e["reason"]) for e in read_log(log) if e.get("event") == "shadow"], [("ok", "ok")],
           f"{what}: compared")


def test_shadow_reads_a_candidate_that_compresses_unasked():
    """The copy asks for no encoding; a candidate that gzips its answer all
    the same (RFC 9110 allows any coding to a request that names none) is
    read decoded, as a member's answer is: compared, not "not_json"."""
    m = mock()
    m.set("claude", encode="unasked")
    log = new_log("shadow-cand-gz.log")
    r = curl_call(m, env_for(config(m, "shadow", "shadow-cand-gz.json", shadow={"sample": 1}), log))
    check(b"Hello from primary" in r.stdout, f"the program's answer ({r.stderr.decode()[-200:]})")
    sh = [e for e in read_log(log) if e.get("event") == "shadow"]
    eq([(e["outcome"], e["reason"]) for e in sh], [("ok", "ok")], "the candidate's gzip'ed answer compared")
    check(0 < sh[0].get("similarity", -1) < 1 and sh[0].get("tokens_in", -1) > 0,
          f"with its similarity and usage ({sh[0]})")


# Calls with 4 MB requests, the candidate slow: each waiting copy holds one.
BIG_CALLS = """
big = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "x" * 4000000}]})
sys.argv[2] = big
print(sum(call()[0] == 200 for _ in range(24)))
"""


def test_shadow_queue_is_bounded_in_bytes():
    """24 calls of 4 MB each while the candidate takes its time over the
    first copy: the copies waiting behind it hold 64 MiB at most (16 of these),
    and the rest are logged skipped, queue_full. (Only the count of copies
    was bounded, at 64: every one of these, 100 MB, was held.)"""
    m = mock()
    m.set("claude", delay_ms=30000)   # (the copy in flight at the end: aborted at exit)
    log = new_log("shadow-bytes.log")
    # (the copy's own limit: the first holds the worker for all 24 calls)
    cfg = config(m, "shadow", "shadow-bytes.json", shadow={"sample": 1, "timeout_ms": 10000})
    prog = urllib_prog("shadow_bytes.py", BIG_CALLS)
    r = run([PY, prog, m.base("primary") + "/chat/completions", "", KEYS["OPENAI_API_KEY"]], env_for(cfg, log),
            timeout=120)
    eq(r.stdout.split(), [b"24"], f"every call answered ({r.stderr.decode()[-300:]})")
    full = [e for e in read_log(log) if e.get("event") == "shadow" and e.get("reason") == "queue_full"]
    check(5 <= len(full) <= 8, f"the copies past 64 MiB skipped: {len(full)} (24, less one sent, less 16 waiting)")


def test_shadow_without_a_log_sends_no_copy():
    """A copy exists for its log line: with no log it would be paid for and
    never seen. One line says so, and no copy is sent."""
    m = mock()
    m.reset_all()
    cfg = config(m, "shadow", "shadow-nolog.json", shadow={"sample": 1})
    r = curl_call(m, env_for(cfg))
    check(b"Hello from primary" in r.stdout, "the program's answer")
    warn = [l for l in r.stderr.decode().splitlines() if l.startswith("llmfallback: mode shadow has no log")]
    eq(len(warn), 1, f"one line says why ({r.stderr.decode()[-300:]})")
    eq(len(m.requests("claude")), 0, "no copy sent to the candidate")


def test_shadow_with_a_log_that_cannot_open_sends_no_copy():
    """A log named but not to be opened (its directory is not there) is no
    log either: the copy would be paid for and its line dropped. The log is
    opened at its first line, after the decision at load: the first call
    of a process already sends no copy, and no later one does."""
    m = mock()
    cfg = config(m, "shadow", "shadow-badlog.json", shadow={"sample": 1})
    bad = os.path.join(tmpdir(), "no-such-dir", "shadow.log")
    r = curl_call(m, env_for(cfg, bad))
    check(b"Hello from primary" in r.stdout, f"the program's answer ({r.stderr.decode()[-300:]})")
    err = r.stderr.decode()
    check(any(l.startswith("llmfallback: cannot open log") for l in err.splitlines()), f"the log's failure said ({err[-300:]})")
    eq(len(m.requests("claude")), 0, "no copy sent to the candidate")
    eq(len([l for l in err.splitlines() if "no copy is sent" in l]), 1, f"one line says no copy is sent ({err[-300:]})")
    m.reset_all()
    r = run([os.path.join(BUILD, "examples/chat_client"), m.base("primary") + "/chat/completions", "-n", "3"],
            env_for(cfg, bad))
    eq(r.returncode, 0, "three calls answered")
    eq(len(m.requests("primary")), 3, "the program's calls unchanged")
    eq(len(m.requests("claude")), 0, "none of them copied")


def test_shadow_compares_tool_calls_without_their_ids():
    """The same call from the program's provider (OpenAI, id call_…) and the
    candidate (Anthropic, id toolu_…): the ids, random per answer, are not
    part of the comparison, so the similarity is 1."""
    m = mock()
    log = new_log("shadow-tools.log")
    cfg = config(m, "shadow", "shadow-tools.json", shadow={"sample": 1})
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "Weather in Paris? [call:get_weather]"}],
                       "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {
                           "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]})
    r = run([CURL, "-sS", m.base("primary") + "/chat/completions",
             "-H", "Authorization: Bearer " + KEYS["OPENAI_API_KEY"], "-H", "Content-Type: application/json",
             "-d", body], env_for(cfg, log))
    got = json.loads(r.stdout)
    eq(got["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "get_weather", "the program's call")
    sh = [e for e in read_log(log) if e.get("event") == "shadow"]
    eq([(e["outcome"], e.get("similarity")) for e in sh], [("ok", 1)], f"the same call, similarity 1 ({sh})")


def test_a_copy_out_at_exit_is_waited_for_then_stopped():
    """A program exits while its shadow copy is out with a slow candidate:
    it waits shadow.timeout_ms for it, then the copy is aborted (libcurl is
    not left running while the exit cleans TLS up), and the program ends
    cleanly, long before the candidate would have answered."""
    import time as _t
    m = mock()
    m.set("claude", delay_ms=6000)
    log = new_log("shadowexit.log")
    cfg = config(m, "shadow", "shadowexit.json", shadow={"sample": 1, "timeout_ms": 300})
    t0 = _t.time()
    r = curl_call(m, env_for(cfg, log))
    took = _t.time() - t0
    eq(r.returncode, 0, f"the program ends cleanly ({r.stderr.decode()[-200:]})")
    check(b"Hello from primary" in r.stdout, "with its own answer")
    check(took < 6, f"without waiting for the candidate's 6 s ({took:.1f} s)")
    eq(len(m.requests("claude")), 1, "the copy reached the candidate")
    sh = [e for e in read_log(log) if e.get("event") == "shadow"]
    # (its own limit and the exit's wait are both 300 ms: whichever ends it
    # first names it, timed out or aborted)
    check(len(sh) == 1 and (sh[0]["outcome"], sh[0]["reason"]) in (("transport_error", "timeout"),
                                                                   ("transport_error", "aborted")),
          f"the copy logged as cut short ({sh})")
    check(250 <= sh[0]["ms"] < 1000, f"at about shadow.timeout_ms ({sh[0]['ms']} ms)")
    check(took >= 0.3, f"after waiting shadow.timeout_ms for it ({took:.2f} s)")


def test_a_copy_out_at_exit_waits_after_the_programs_output():
    """A C program's output to a pipe sits in stdio's buffer until exit()
    flushes it, after the atexit handlers, the shadow's wait among them: its
    answer reached its reader only once the copy was done. The wait now
    comes after stdout is flushed: the answer is read at once, and the
    program ends when the copy has been waited for."""
    import subprocess, time as _t
    m = mock()
    m.set("claude", delay_ms=3000)
    log = new_log("shadowflush.log")
    cfg = config(m, "shadow", "shadowflush.json", shadow={"sample": 1, "timeout_ms": 10000})
    prog = os.path.join(BUILD, "progs/plainout")
    t0 = _t.time()
    p = subprocess.Popen([prog, m.base("primary") + "/chat/completions", chat_body()], env=env_for(cfg, log),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
    first = p.stdout.read(16)   # (unbuffered: what is left stays for communicate)
    read_at = _t.time() - t0
    rest, err = p.communicate(timeout=30)
    ended_at = _t.time() - t0
    check(b"Hello from primary" in first + rest, f"the program's answer ({first + rest!r}, {err[-200:]!r})")
    check(read_at < 2, f"read before the copy was done ({read_at:.1f} s)")
    check(ended_at >= 2.5, f"the program ended once the copy was waited for ({ended_at:.1f} s)")
    eq([e.get("outcome") for e in read_log(log) if e.get("event") == "shadow"], ["ok"], "the copy compared")


def test_shadow_samples_and_reports():
    """libcurl program, 8 calls, sample 0.5: four copies; a failing candidate is
    logged without a similarity; the report puts both sides in one table."""
    m = mock()
    log = new_log("shadow-sample.log")
    cfg = config(m, "shadow", "shadow-sample.json", shadow={"sample": 0.5})
    r = run([os.path.join(BUILD, "examples/chat_client"), m.base("primary") + "/chat/completions", "-n", "8"],
            env_for(cfg, log))
    eq(r.returncode, 0, "every call answered with its own rid")
    sh = [e for e in read_log(log) if e.get("event") == "shadow"]
    eq(len(sh), 4, "half the calls copied")
    eq(len(m.requests("claude")), 4, "four copies reached the candidate")
    eq(len(m.requests("primary")), 8, "the program's calls unchanged")
    m.reset_all()
    m.set("claude", behaviour="503")
    r = run([os.path.join(BUILD, "examples/chat_client"), m.base("primary") + "/chat/completions", "-n", "2"],
            env_for(config(m, "shadow", "shadow-fail.json", shadow={"sample": 1}), log))
    eq(r.returncode, 0, "a failing candidate changes nothing for the program")
    bad = [e for e in read_log(log) if e.get("event") == "shadow" and e["outcome"] != "ok"]
    eq([(e["outcome"], e["reason"], "similarity" in e) for e in bad], [("http_error", "overloaded", False)] * 2,
       "failed copies logged without a similarity")
    rep = run([os.path.join(ROOT, "scripts/llmfallback"), "report", log], dict(os.environ))
    out = rep.stdout.decode()
    lines = [" ".join(l.split()) for l in out.splitlines()]
    check("Shadow comparisons" in out, f"a shadow table ({out[-600:]})")
    row = [l for l in lines if l.startswith("anthropic/claude-sonnet-4-5 openai/gpt-4o ")]
    check(len(row) == 1 and row[0].split()[2:4] == ["6", "4/6"], f"six copies, four answered ({row})")
    check("http_error: overloaded 2" in lines, "the failed copies by reason")


def test_override_in_report_and_config_errors():
    m = mock()
    log = new_log("override-report.log")
    env = env_for(config(m, "override", "override-r.json"), log)
    curl_call(m, env)
    m.set("claude", behaviour="503")
    curl_call(m, env)
    rep = run([os.path.join(ROOT, "scripts/llmfallback"), "report", log], dict(os.environ))
    lines = [" ".join(l.split()) for l in rep.stdout.decode().splitlines()]
    check("answered by the override candidate 1" in lines and "answered by a fallback 1" in lines,
          f"override answers counted apart; the program's own provider is then a fallback ({lines[:8]})")
    check("openai 1" in lines, "answered after the candidate failed: the program's provider")
    # a mode without a candidate: one line on stderr, the call passes through
    m.reset_all()
    bad = write_config({"providers": {"openai": {"base_url": m.base("primary")}}, "mode": "shadow"}, "bad-mode.json")
    r = curl_call(m, env_for(bad, new_log("bad-mode.log")))
    err = [l for l in r.stderr.decode().splitlines() if l.startswith("llmfallback:")]
    check(len(err) == 1 and 'needs "candidate"' in err[0], f"one clear line ({err})")
    check(b"Hello from primary" in r.stdout and len(m.requests("claude")) == 0, "passed through untouched")


# how many of this process's descriptors are TCP connections to port argv[4]
TO_CANDIDATE = SOCKET_INODES + """
def to_candidate():
    mine = socket_inodes()
    rows = [l.split() for l in open("/proc/self/net/tcp").readlines()[1:]]
    return sum(int(f[2].split(":")[1], 16) == int(sys.argv[4]) and f[9] in mine for f in rows)
"""


def test_shadow_in_a_forked_child():
    """A parent that copied a call forks; the child's call is copied by the
    child's own worker (the parent's thread is not in the child), and each
    process logs its own comparison before it ends. The parent forks once its
    copy is done: a copy in flight at fork() stays the parent's, and its
    memory in the child is orphaned (reachable, never freed), which the
    sanitized run would report from the child. The parent's connection to
    the candidate, kept alive, is not the child's: it held it open for as
    long as it lived, past the parent's own close."""
    m = mock()
    log = new_log("shadow-fork.log")
    prog = urllib_prog("shadow_fork.py", TO_CANDIDATE +
                       "print(call()[0], flush=True)\n"
                       "copies(1)\n"
                       "print(to_candidate(), flush=True)\n"
                       "pid = os.fork()\n"
                       "if pid == 0:\n"
                       "    print(to_candidate(), flush=True)\n"
                       "    print(call()[0], flush=True)\n"
                       "    sys.exit(0)\n"
                       "os.waitpid(pid, 0)\n")
    cfg = config(m, "shadow", "shadow-fork.json", shadow={"sample": 1})
    r = run([PY, prog, m.base("primary") + "/chat/completions", chat_body(), KEYS["OPENAI_API_KEY"],
             str(m.port("claude"))], env_for(cfg, log))
    eq(r.stdout.split(), [b"200", b"1", b"0", b"200"],
       f"both calls answered; the parent's connection to the candidate, none in the child ({r.stderr.decode()[-300:]})")
    sh = [e for e in read_log(log) if e.get("event") == "shadow"]
    eq(sorted(e["outcome"] for e in sh), ["ok", "ok"], "one comparison per call")
    eq(len({e["pid"] for e in sh}), 2, "from two processes")
    eq(len(m.requests("claude")), 2, "two copies reached the candidate")


def test_shadow_after_the_program_closed_every_descriptor():
    """A program that copied a call, then closed every descriptor (a
    daemon's start) and reused the numbers: the worker's kept-alive
    connection to the candidate is gone, and its number now names one of the
    program's sockets. The next copy goes on a new connection; none of the
    program's sockets is written to (the copy carries the candidate's key)
    or closed."""
    m = mock()
    log = new_log("shadow-closerange.log")
    prog = urllib_prog("shadow_closerange.py", """import socket
print(call()[0], flush=True)
copies(1)
os.closerange(3, 1024)
pairs = [socket.socketpair() for _ in range(16)]   # on the numbers just freed
print(call()[0], flush=True)
copies(2)
got, closed = b"", 0
for a, b in pairs:
    for s in (a, b):
        try:
            s.setblocking(False)
            got += s.recv(65536)
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
print("written", len(got), "closed", closed, flush=True)
""")
    cfg = config(m, "shadow", "shadow-closerange.json", shadow={"sample": 1, "timeout_ms": 3000})
    r = run([PY, prog, m.base("primary") + "/chat/completions", chat_body(), KEYS["OPENAI_API_KEY"]],
            env_for(cfg, log), timeout=60)
    eq(r.stdout.split(), [b"200", b"200", b"written", b"0", b"closed", b"0"],
       f"both calls answered, nothing written to or closed of the program's sockets ({r.stderr.decode()[-300:]})")
    sh = [e for e in read_log(log) if e.get("event") == "shadow"]
    eq([e["outcome"] for e in sh], ["ok", "ok"], "both copies compared")
    eq(len(m.requests("claude")), 2, "both copies reached the candidate")


def test_shadow_in_a_child_forked_after_the_program_closed_every_descriptor():
    """The worker's descriptors are told from the program's by what they
    are, not only by number: after a closerange the program's event loops
    (epoll, like eventfd and timerfd an anonymous inode) take the numbers,
    and a child it forks finds every one of them open, and copies its own
    call."""
    m = mock()
    log = new_log("shadow-closerange-fork.log")
    prog = urllib_prog("shadow_closerange_fork.py", """import select
print(call()[0], flush=True)
copies(1)
os.closerange(3, 1024)
loops = [select.epoll() for _ in range(40)]   # on the numbers just freed
pid = os.fork()
if pid == 0:
    gone = 0
    for e in loops:
        try:
            os.fstat(e.fileno())
        except OSError:
            gone += 1
    print("child closed", gone, flush=True)
    print(call()[0], flush=True)
    copies(2)
    os._exit(0)
os.waitpid(pid, 0)
""")
    cfg = config(m, "shadow", "shadow-closerange-fork.json", shadow={"sample": 1, "timeout_ms": 3000})
    r = run([PY, prog, m.base("primary") + "/chat/completions", chat_body(), KEYS["OPENAI_API_KEY"]],
            env_for(cfg, log), timeout=60)
    eq(r.stdout.split(), [b"200", b"child", b"closed", b"0", b"200"],
       f"none of the program's closed in the child, whose call is answered ({r.stderr.decode()[-300:]})")
    sh = [e for e in read_log(log) if e.get("event") == "shadow"]
    eq([e["outcome"] for e in sh], ["ok", "ok"], "each process's copy compared")


def test_children_inherit_no_descriptor_of_the_shadow_worker():
    """The shadow worker's connection to the candidate, kept alive after a
    copy, and libcurl's wake-up pair of its handle are close-on-exec: a child
    the program starts after the copy holds only the sockets the program
    left inheritable. A libcurl program (the curl path: children by
    system(), popen(), posix_spawn()), and a Python one (the socket path,
    the relay's descriptors too)."""
    m = mock()
    log = new_log("shadow-children.log")
    cfg = config(m, "shadow", "shadow-children.json", shadow={"sample": 1})
    r = run([os.path.join(BUILD, "progs/curlstate"), "children", m.base("primary") + "/chat/completions", log],
            env_for(cfg, log))
    eq(r.stdout.decode().splitlines()[:2], ["chat 0 200", "copied 1"],
       f"the call answered, its copy logged ({r.stderr.decode()[-300:]})")
    check_children(r, ("kids",), kinds=("popen", "posix_spawn", "system"), what="a libcurl program's child")
    eq(len(m.requests("claude")), 1, "the copy reached the candidate")
    log = new_log("shadow-children-py.log")
    prog = urllib_prog("shadow_children.py", CHILDREN + "print(call()[0], flush=True)\ncopies(1)\nchildren('kids')\n")
    r = run([PY, prog, m.base("primary") + "/chat/completions", chat_body(), KEYS["OPENAI_API_KEY"]],
            env_for(config(m, "shadow", "shadow-children-py.json", shadow={"sample": 1}), log))
    eq(r.stdout.decode().splitlines()[:1], ["200"], f"the call answered ({r.stderr.decode()[-300:]})")
    eq([e["outcome"] for e in read_log(log) if e.get("event") == "shadow"], ["ok"], "its copy compared")
    check_children(r, ("kids",), what="a Python program's child")


def test_override_streams_and_the_relay():
    """A streamed call is answered by the candidate's stream, translated live
    into the program's dialect; a Python program (socket path, relay) gets
    the candidate's answer too."""
    m = mock()
    log = new_log("override-stream.log")
    env = env_for(config(m, "override", "override-stream.json"), log)
    body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    r = run([CURL, "-sS", "-N", m.base("primary") + "/chat/completions", "-H",
             "Authorization: Bearer " + KEYS["OPENAI_API_KEY"], "-H", "Content-Type: application/json", "-d", body], env)
    events = [json.loads(l[6:]) for l in r.stdout.decode().splitlines() if l.startswith("data: {")]
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e.get("choices"))
    check(events and all(e["object"] == "chat.completion.chunk" for e in events), "OpenAI chunks")
    check("Hello from claude (claude-sonnet-4-5)" in text, f"the candidate's stream ({text!r})")
    check(r.stdout.decode().rstrip().endswith("data: [DONE]"), "with OpenAI's terminator")
    eq(len(m.requests("primary")), 0, "the program's provider is not called")
    r = run([PY, "-c", REQUESTS_PROG, m.base("primary") + "/chat/completions", KEYS["OPENAI_API_KEY"]], env)
    eq(r.stdout.decode().split(" ", 2)[:2], ["200", "anthropic"], f"through the relay ({r.stderr.decode()[-200:]})")
    eq(len(m.requests("primary")), 0, "still not the program's provider")


def test_both_modes_over_tls():
    """Debian's Python with `requests` over https:// (the OpenSSL path: a
    virtual TLS session into the relay): override answers from the candidate,
    shadow logs its comparison."""
    m = shared_mock("modes-tls", [
        {"name": "tprimary", "dialect": "openai", "key": KEYS["OPENAI_API_KEY"], "tls": True},
        {"name": "tclaude", "dialect": "anthropic", "key": KEYS["ANTHROPIC_API_KEY"], "tls": True},
    ])
    for mode, who, copies in (("override", "anthropic", 0), ("shadow", "None", 1)):
        m.reset_all()
        cfg = write_config({"providers": {"openai": {"base_url": m.base("tprimary")},
                                          "anthropic": {"base_url": m.base("tclaude")}},
                            "chain": [], "mode": mode, "candidate": "anthropic/claude-x", "shadow": {"sample": 1}},
                           f"tls-{mode}.json")
        log = new_log(f"tls-{mode}.log")
        env = env_for(cfg, log, extra={"SSL_CERT_FILE": m.ca, "REQUESTS_CA_BUNDLE": m.ca})
        r = run([PY, "-c", REQUESTS_PROG, m.base("tprimary") + "/chat/completions", KEYS["OPENAI_API_KEY"]], env)
        eq(r.stdout.decode().split(" ", 2)[:2], ["200", who], f"{mode} over TLS ({r.stderr.decode()[-200:]})")
        sh = [e for e in read_log(log) if e.get("event") == "shadow"]
        eq([(e["provider"], e["outcome"]) for e in sh], [("anthropic", "ok")] * copies, f"{mode}: shadow lines")
        eq(m.requests("tclaude")[0]["credential"], KEYS["ANTHROPIC_API_KEY"], f"{mode}: the candidate's own key")


def test_a_shadowing_program_whose_last_thread_ends_ends():
    """A libcurl program whose main thread leaves by pthread_exit while its
    other thread calls (inline, no relay): the shadow worker, idle after
    the copies, never ends, and the process lived on with it for ever. Now
    it ends as glibc ends it, status 0, with both copies compared."""
    import subprocess
    import time
    m = mock()
    log = new_log("shadow-lastthread.log")
    cfg = config(m, "shadow", "shadow-lastthread.json", shadow={"sample": 1})
    t0 = time.time()
    try:
        r = run([os.path.join(BUILD, "progs/lastthread"), m.base("primary") + "/chat/completions"],
                env_for(cfg, log), timeout=15)
    except subprocess.TimeoutExpired:
        raise Failed("still running after 15 s")
    took = time.time() - t0
    eq(r.returncode, 0, f"ended as glibc ends it ({r.stderr.decode()[-300:]})")
    eq(sorted(r.stdout.decode().splitlines()), ["first answered", "second answered"], "both calls answered")
    check(took < 6, f"ended soon after its last thread ({took:.1f} s)")
    eq([e["outcome"] for e in read_log(log) if e.get("event") == "shadow"], ["ok", "ok"], "both copies compared")
