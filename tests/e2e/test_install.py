"""make install PREFIX=…: the library, the wrapper and the man page; the
installed wrapper works; the man page documents every key the config loader
accepts and every variable the library reads."""
import atexit
import json
import os
import re
import subprocess
import tempfile

from harness import SANITIZED, Skipped, WRAPPED, CURL, KEYS, ROOT, Mock, chat_body, check, env_for, eq, run, tmpdir, write_config


def test_install_and_man_page():
    if SANITIZED:
        raise Skipped(WRAPPED)
    prefix = tempfile.mkdtemp(prefix="prefix-", dir=tmpdir())
    r = subprocess.run(["make", "-s", "install", f"PREFIX={prefix}"], cwd=ROOT, capture_output=True)
    eq(r.returncode, 0, f"make install ({r.stderr.decode()[-300:]})")
    for f in ("bin/llmfallback", "lib/llmfallback/libllmfallback.so", "lib/llmfallback/libllmfallback-core.so",
              "share/man/man1/llmfallback.1"):
        check(os.path.exists(os.path.join(prefix, f)), f"installed {f}")
    m = Mock([{"name": "p", "dialect": "openai", "behaviour": "503"}, {"name": "b", "dialect": "openai"}])
    atexit.register(m.stop)
    cfg = write_config({"providers": {"openai": {"base_url": m.base("p")},
                                      "backup": {"base_url": m.base("b"), "api_key_env": "BACKUP_KEY"}},
                        "chain": ["backup/gpt-4o-mini"]}, "install.json")
    env = env_for(preload=False)
    log = os.path.join(prefix, "attempts.jsonl")
    r = run([os.path.join(prefix, "bin/llmfallback"), "--config", cfg, "--log", log, "--", CURL, "-sS",
             m.base("p") + "/chat/completions", "-d", chat_body()], env)
    check(json.loads(r.stdout)["choices"][0]["message"]["content"].startswith("Hello from b"),
          f"the installed wrapper falls back ({r.stderr.decode()[-200:]})")
    # its report, also with the library preloaded from elsewhere (a
    # LLMFALLBACK_LIBDIR without a share/ beside it sent report there)
    for extra in ({}, {"LLMFALLBACK_LIBDIR": os.path.join(prefix, "lib/llmfallback")},
                  {"LLMFALLBACK_LIBDIR": os.path.dirname(os.path.abspath(__file__))}):
        r = run([os.path.join(prefix, "bin/llmfallback"), "report", log], dict(env, **extra))
        eq(r.returncode, 0, f"the installed report runs with {extra} ({r.stderr.decode()[-200:]})")
        check(b"backup" in r.stdout, "and tells who answered")
    m.stop()
    page = subprocess.run(["man", "-l", os.path.join(prefix, "share/man/man1/llmfallback.1")],
                          capture_output=True, env=dict(os.environ, MANPAGER="cat", MANWIDTH="200")).stdout.decode()
    check("LLMFALLBACK" in page, "man renders the page")
    source = open(os.path.join(ROOT, "preload/config.c")).read()
    keys = set()
    for arr in re.findall(r"static const char \*const \w+\[\] = \{([^}]*)\}", source):
        keys.update(k for k in re.findall(r'"([a-z_]+)"', arr))
    check(len(keys) > 25, f"config keys found in config.c ({len(keys)})")
    flat = re.sub(r"[\s\u2010-]+", "", page)
    missing = sorted(k for k in keys if k.replace("_", "") not in flat.replace("_", "") and k != "provider")
    eq(missing, [], "every config key is documented in the man page")
    for var in ("LLMFALLBACK_CONFIG", "LLMFALLBACK_CHAIN", "LLMFALLBACK_LOG", "LLMFALLBACK_DISABLE",
                "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "SSL_CERT_FILE", "XDG_RUNTIME_DIR"):
        check(var in page, f"{var} documented")
