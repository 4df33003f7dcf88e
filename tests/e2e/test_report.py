"""scripts/llmfallback report: the summary of a real log."""
import atexit
import os

from harness import BUILD, KEYS, ROOT, Mock, check, env_for, eq, new_log, run, write_config


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
