"""Runs last: everything the library wrote during the whole suite — every
attempt log, every line it printed on stderr, in every scenario above — is
searched for every test key and for request text. None may appear."""
import glob
import os

from harness import KEYS, LIBRARY_STDERR, check, tmpdir


def test_no_key_or_body_in_any_log_or_message():
    logs = glob.glob(os.path.join(tmpdir(), "**", "*.log"), recursive=True)
    check(len(logs) >= 10, f"the suite wrote logs ({len(logs)})")
    text = "\n".join(open(f, errors="replace").read() for f in logs) + "\n".join(LIBRARY_STDERR)
    check(len(text) > 10000, "there is plenty to search")
    for var, key in KEYS.items():
        check(key not in text, f"{var} never logged")
    for body_text in ("[rid:", "Hello from", "weather?", "sunny, 21C", "Be brief"):
        check(body_text not in text, f"no request or answer text ({body_text!r}) in the logs")
