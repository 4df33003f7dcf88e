"""scripts/llmfallback report: the summary of a real log."""
import atexit
import os
import shutil
import tempfile

from harness import BUILD, KEYS, ROOT, Mock, as_nobody, check, env_for, eq, new_log, run, write_config


def test_report_summarises_a_log():
    m = Mock([{"name": "p", "dialect": "openai", "key": KEYS["OPENAI_API_KEY"], "behaviour": ["503", "ok", "503", "503"]},
              {"name": "b", "dialect": "openai", "key": KEYS["BACKUP_KEY"], "behaviour": ["ok", "ok", "500"]}])
    atexit.register(m.stop)
    cfg = write_config({"providers": {"openai": {"base_url": m.base("p")},
                                      "backup": {"base_url": m.base("b"), "api_key_env": "BACKUP_KEY"}},
                        "chain": ["backup/gpt-4o-mini"]}, "report.json")
    log = new_log("report.log")
    run([os.path.join(BUILD, "examples/chat_client"), m.base("p") + "/chat/completions", "-n", "4", "-t", "1"],
        env_for(cfg, log))
    r = run([os.path.join(ROOT, "scripts/llmfallback"), "report", log], dict(os.environ))
    out = r.stdout.decode()
    eq(r.returncode, 0, f"report runs ({r.stderr.decode()[-200:]})")
    check(out.startswith("4 calls in 1 log(s)"), "four calls")
    lines = [" ".join(l.split()) for l in out.splitlines()]
    check("answered by a fallback 2" in lines, f"two fallbacks ({out})")
    check("answered by the original 1" in lines, "one answered by the original")
    check("failed (original failure returned) 1" in lines, "one failed")
    check("http_error: overloaded 3" in lines and "http_error: server_error 1" in lines, "failures by reason")
    check("backup 2" in lines, "answered by backup")
    check(any(l.startswith("openai/gpt-4o 4 ") for l in lines), "latency row for the original model")
    # the limits count every call that needed a fallback: the two a member
    # answered and the one whose member failed too (a provider's bad night
    # shows up even when nothing could rescue a call)
    for limit, rc in (("2", 1), ("3", 0)):
        r = run([os.path.join(ROOT, "scripts/llmfallback"), "report", "--max-fallbacks", limit, log], dict(os.environ))
        eq(r.returncode, rc, f"--max-fallbacks {limit} ({r.stderr.decode()[-200:]})")
    r = run([os.path.join(ROOT, "scripts/llmfallback"), "report", "--max-fallbacks", "2", log], dict(os.environ))
    check("3 of 4 calls needed a fallback, more than the 2 allowed" in r.stderr.decode(), f"why ({r.stderr.decode()})")
    # a log shared with a program's own output (--log stderr, captured with
    # the program's stderr): lines that are JSON but no object, or an
    # attempt without its time, are passed over or read as they can be, not
    # the end of the report
    with open(log, "a") as f:
        f.write('42\n[1, 2]\n"text"\nnot json at all\n')
        f.write('{"event":"attempt","pid":1,"call":9,"attempt":1,"provider":"x","model":"y","outcome":"ok","ms":null}\n')
    r = run([os.path.join(ROOT, "scripts/llmfallback"), "report", log], dict(os.environ))
    eq(r.returncode, 0, f"report reads a mixed log ({r.stderr.decode()[-300:]})")
    check(r.stdout.decode().startswith("5 calls in 1 log(s), 4 unreadable lines"), f"({r.stdout.decode()[:80]})")
    m.stop()


REPORT = os.path.join(ROOT, "scripts/llmfallback")


def report(*args):
    r = run([REPORT, "report", *args], dict(os.environ))
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def all_fallbacks_log():
    """A log of three calls, each answered by a fallback."""
    log = new_log("fallbacks.log")
    with open(log, "w") as f:
        for call in (1, 2, 3):
            f.write(f'{{"event":"attempt","pid":7,"call":{call},"attempt":1,"provider":"p","model":"m",'
                    f'"outcome":"http_error","reason":"overloaded","ms":5}}\n')
            f.write(f'{{"event":"attempt","pid":7,"call":{call},"attempt":2,"provider":"b","model":"m",'
                    f'"outcome":"ok","reason":"","ms":5}}\n')
    return log


def test_report_refuses_limits_it_cannot_judge():
    """A limit that is no number, outside 0..1 for the share, or negative or
    fractional for the count is a usage error (2, one line), not a gate that
    passes everything (nan) or can never pass (-1); 1 stays "exceeded"."""
    log = all_fallbacks_log()
    for opt, value in [("--max-fallback-share", "nan"), ("--max-fallback-share", "inf"),
                       ("--max-fallback-share", "2"), ("--max-fallback-share", "-1"),
                       ("--max-fallback-share", "half"), ("--max-fallbacks", "-1"),
                       ("--max-fallbacks", "1.5"), ("--max-fallbacks", "nan")]:
        rc, out, err = report(opt, value, log)
        eq(rc, 2, f"{opt} {value} ({err.strip()})")
        check(out == "" and len(err.splitlines()) == 1 and opt in err and repr(value) in err,
              f"{opt} {value}: one line naming it ({err!r})")
    for opt, value, want in [("--max-fallback-share", "1", 0), ("--max-fallback-share", "0", 1),
                             ("--max-fallback-share", "0.9", 1), ("--max-fallbacks", "3", 0),
                             ("--max-fallbacks", "0", 1)]:
        rc, out, err = report(opt, value, log)
        eq(rc, want, f"{opt} {value} ({err.strip()})")
        check(out.startswith("3 calls in 1 log(s)"), f"{opt} {value}: the report ({out[:60]})")
    rc, out, err = report("--max-fallback-share", "-0", log)
    check(rc == 1 and "more than the 0% allowed" in err, f"-0 is 0 ({err.strip()})")


def test_report_tells_a_log_it_cannot_read():
    """A log that is a directory (or that may not be read, below) is named,
    on one line, with why, and exits 2: not a traceback with 1, which says
    "too many fallbacks" to a CI job."""
    log = all_fallbacks_log()
    d = tempfile.mkdtemp()
    rc, out, err = report(log, d)
    check(rc == 2 and out == "" and err == f"llmfallback report: {d}: Is a directory\n", f"a directory ({rc}, {err!r})")


def test_report_tells_a_log_it_may_not_read():
    d = tempfile.mkdtemp()
    os.chmod(d, 0o755)
    locked = os.path.join(d, "locked.log")
    shutil.copy(all_fallbacks_log(), locked)
    os.chmod(locked, 0)
    who, wrapper = as_nobody(REPORT)
    r = run(who + [wrapper, "report", locked], dict(os.environ))
    check(r.returncode == 2 and r.stderr.decode() == f"llmfallback report: {locked}: Permission denied\n",
          f"a file it may not read ({r.returncode}, {r.stderr.decode()!r})")


def test_report_skips_lines_whose_fields_are_no_logs():
    """An object whose fields the report reads have other types (a
    program's own JSON on a shared stderr) is passed over and counted, as a
    line that is no JSON is, not a traceback."""
    log = all_fallbacks_log()
    with open(log, "a") as f:
        f.write('{"event":"attempt","pid":[1]}\n'
                '{"event":"attempt","pid":7,"call":{"n":4},"provider":"p","outcome":"ok"}\n'
                '{"event":"attempt","pid":7,"call":5,"provider":["p"],"outcome":"ok"}\n'
                '{"event":"attempt","pid":7,"call":6,"provider":"p","outcome":"ok","ms":"12"}\n'
                '{"event":"attempt","pid":7,"call":7,"provider":"p","outcome":"ok","ms":NaN}\n'
                '{"event":"attempt","pid":7,"call":8,"provider":"p","outcome":"ok","ms":1e999}\n'
                '{"event":"attempt","pid":7,"call":9,"provider":"p","outcome":"ok","ms":true}\n'
                '{"event":"shadow","provider":"c","model":"m","similarity":[0.5]}\n'
                '{"event":["attempt"],"pid":7}\n'
                'not json\n')
        # fields the report does not read are not judged; a string JSON can
        # hold but UTF-8 cannot is printed escaped
        f.write('{"event":"attempt","pid":7,"call":10,"attempt":"first","provider":"\\ud800","model":"m",'
                '"outcome":"ok","ms":3}\n')
    rc, out, err = report("--max-fallbacks", "3", log)
    eq(rc, 0, f"the report runs ({err[-300:]})")
    check(out.startswith("4 calls in 1 log(s), 10 unreadable lines\n"), f"({out[:80]!r})")
    lines = [" ".join(l.split()) for l in out.splitlines()]
    check("answered by a fallback 3" in lines and "answered by the original 1" in lines, f"({out})")
    check(any(l.startswith("\\ud800/m 1 ") for l in lines), f"the odd provider, escaped ({out})")


def test_report_skips_a_line_nested_too_deep():
    """A line nested deeper than Python's recursion limit (a program's own
    JSON on a shared stderr, or garbage) is counted as unreadable like any
    other, and the report exits as it would without it: it ended in a
    RecursionError traceback and 1, "limit exceeded" to a CI job."""
    log = all_fallbacks_log()
    deep = new_log("deep.log")
    with open(deep, "w") as f:
        f.write("[" * 3000 + "]" * 3000 + "\n" + '{"a":' * 3000 + "1" + "}" * 3000 + "\n")
    for limit, want in (("3", 0), ("2", 1)):
        rc, out, err = report("--max-fallbacks", limit, log, deep)
        eq(rc, want, f"--max-fallbacks {limit} ({err[-300:]})")
        check(out.startswith("3 calls in 2 log(s), 2 unreadable lines\n") and "Traceback" not in err,
              f"--max-fallbacks {limit}: the report, two lines unreadable ({out[:80]!r} {err[-200:]!r})")


def test_shadow_copies_skipped_are_not_counted_as_sent():
    """A copy skipped (a stream, a full queue) was never sent: the row's
    copies are those sent, the skipped ones counted by their reason."""
    log = new_log("shadow-skips.log")
    with open(log, "w") as f:
        for n, (outcome, reason) in enumerate((("ok", ""), ("ok", ""), ("http_error", "overloaded"),
                                               ("skipped", "stream"), ("skipped", "queue_full"))):
            f.write(f'{{"event":"shadow","pid":7,"call":{n + 1},"provider":"c","model":"m","primary_provider":"p",'
                    f'"primary_model":"m","outcome":"{outcome}","reason":"{reason}","ms":5,"primary_ms":4'
                    + (',"similarity":1' if outcome == "ok" else "") + '}\n')
    rc, out, err = report(log)
    eq(rc, 0, f"the report runs ({err[-300:]})")
    row = [l.split() for l in out.splitlines() if l.strip().startswith("c/m ")]
    check(len(row) == 1 and row[0][2:4] == ["3", "2/3"], f"three copies sent, two answered ({row})")
    lines = [" ".join(l.split()) for l in out.splitlines()]
    check("skipped: stream 1" in lines and "skipped: queue_full 1" in lines, f"the skipped by reason ({out})")


def test_report_tells_apart_the_programs_a_pid_runs():
    """A wrapper that makes a call and then execs curl, which makes one:
    two programs under one pid, each numbering its calls from 1, each ending
    at its summary line (a pid reused later in a long log too). Two calls,
    not one with two failures. A JSON object with no event is no log entry:
    counted as unreadable."""
    log = new_log("exec.log")
    with open(log, "w") as f:
        for outcome in ("http_error", "ok"):
            f.write('{"event":"attempt","pid":7,"call":1,"attempt":1,"provider":"p","model":"m",'
                    f'"outcome":"{outcome}","reason":"overloaded","ms":5}}\n')
            if outcome != "ok":
                f.write('{"event":"attempt","pid":7,"call":1,"attempt":2,"provider":"b","model":"m",'
                        '"outcome":"ok","reason":"","ms":5}\n')
            f.write('{"event":"summary","pid":7,"calls":1,"fallbacks":%d,"failures":0,"attempts":%d}\n'
                    % ((1, 2) if outcome != "ok" else (0, 1)))
        f.write('{"result":1}\n')
    rc, out, err = report(log)
    eq(rc, 0, f"the report runs ({err[-300:]})")
    check(out.startswith("2 calls in 1 log(s), 1 unreadable lines\n"), f"({out[:80]!r})")
    lines = [" ".join(l.split()) for l in out.splitlines()]
    check("answered by a fallback 1" in lines and "answered by the original 1" in lines, f"({out})")


def test_a_redirect_handed_to_the_program_is_no_failure():
    """A 3xx of the original is the program's to follow (it may well
    succeed): logged as such, not counted among the summary's failures nor
    on the report's failed line, and no member is asked."""
    from harness import CURL, chat_body, read_log
    m = Mock([{"name": "p", "dialect": "openai", "key": KEYS["OPENAI_API_KEY"], "behaviour": "307"},
              {"name": "b", "dialect": "openai", "key": KEYS["BACKUP_KEY"]}])
    try:
        cfg = write_config({"providers": {"openai": {"base_url": m.base("p")},
                                          "backup": {"base_url": m.base("b"), "api_key_env": "BACKUP_KEY"}},
                            "chain": ["backup/gpt-4o-mini"]}, "redirect.json")
        log = new_log("redirect.log")
        for _ in range(2):
            r = run([CURL, "-sS", "-o", "/dev/null", "-w", "%{http_code}", m.base("p") + "/chat/completions",
                     "-H", "Content-Type: application/json", "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}",
                     "-d", chat_body()], env_for(cfg, log))
            eq(r.stdout.decode(), "307", "the program gets the redirect")
        eq(len(m.requests("b")), 0, "no member asked")
        lines = read_log(log)
        eq([(a["status"], a["outcome"], a["reason"]) for a in lines if a["event"] == "attempt"],
           [(307, "redirect", "not_followed")] * 2, "logged as a redirect")
        eq([(s["calls"], s["failures"], s["fallbacks"]) for s in lines if s["event"] == "summary"],
           [(1, 0, 0)] * 2, "no failure in the summaries")
        rc, out, err = report(log)
        lines = [" ".join(l.split()) for l in out.splitlines()]
        check("redirect handed to the program 2" in lines, f"the report's line ({out})")
        check(not any(l.startswith("failed") or l.startswith("redirect:") for l in lines),
              f"none failed, no failure seen ({out})")
    finally:
        m.stop()
