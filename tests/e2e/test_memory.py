"""Memory: under valgrind, what is still allocated when a libcurl program
ends does not grow with the number of calls it made through the library
(each call falling back), and nothing is definitely lost."""
import atexit
import os
import re
import shutil

from harness import BUILD, KEYS, SANITIZED, Mock, Skipped, check, env_for, eq, run, write_config

_m = None


def mock():
    global _m
    if _m is None:
        _m = Mock([{"name": "primary", "dialect": "openai", "key": KEYS["OPENAI_API_KEY"]},
                   {"name": "backup", "dialect": "openai", "key": KEYS["BACKUP_KEY"]}])
        atexit.register(_m.stop)
    return _m


def heap_after(m, cfg, calls):
    ex = os.path.join(BUILD, "examples/chat_client")
    r = run(["valgrind", "--leak-check=full", "--error-exitcode=99", ex, m.base("primary") + "/chat/completions",
             "-n", str(calls), "-t", "1"], env_for(cfg), timeout=600)
    err = r.stderr.decode()
    in_use = re.search(r"in use at exit: ([\d,]+) bytes", err)
    lost = re.search(r"definitely lost: ([\d,]+) bytes", err)
    return (int(in_use.group(1).replace(",", "")) if in_use else -1,
            int(lost.group(1).replace(",", "")) if lost else 0, r.returncode, r.stdout.decode().count("status=200"))


def test_no_growth_over_a_thousand_calls():
    if SANITIZED:
        raise Skipped("valgrind cannot run under ASan (the plain pass runs it; here LeakSanitizer stands in)")
    if not shutil.which("valgrind"):
        check(False, "valgrind is installed (scripts/install-deps)")
        return
    m = mock()
    m.set("primary", behaviour="503")
    m.set("backup", behaviour="ok")
    cfg = write_config({"providers": {
        "openai": {"base_url": m.base("primary")},
        "backup": {"dialect": "openai", "base_url": m.base("backup"), "api_key_env": "BACKUP_KEY"}},
        "chain": ["backup/gpt-4o-mini"], "attempts": {"per_process": 100000}}, "memory.json")
    small, lost_s, rc_s, ok_s = heap_after(m, cfg, 100)
    big, lost_b, rc_b, ok_b = heap_after(m, cfg, 1000)
    eq((ok_s, ok_b), (100, 1000), "every call fell back and was answered")
    check(small >= 0 and big >= 0, "valgrind reported")
    check(big - small < 16384, f"heap in use at exit: {small} after 100 calls, {big} after 1000: no growth per call")
    eq((lost_s, lost_b), (0, 0), "nothing definitely lost")
    check(rc_s != 99 and rc_b != 99, "no memory errors")
