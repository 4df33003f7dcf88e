"""make install PREFIX=…: the library, the wrapper and the man page; the
installed wrapper works; the man page documents every key the config loader
accepts and every variable the library reads."""
import atexit
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from harness import SANITIZED, Skipped, WRAPPED, BUILD, CURL, KEYS, ROOT, Mock, chat_body, check, env_for, eq, new_log, read_log, run, tmpdir, write_config


def failing_primary(name):
    """A mock whose primary answers 503 and whose backup answers, and a
    config named name that falls back from the one to the other."""
    m = Mock([{"name": "p", "dialect": "openai", "behaviour": "503"}, {"name": "b", "dialect": "openai"}])
    atexit.register(m.stop)
    cfg = write_config({"providers": {"openai": {"base_url": m.base("p")},
                                      "backup": {"base_url": m.base("b"), "api_key_env": "BACKUP_KEY"}},
                        "chain": ["backup/gpt-4o-mini"]}, name)
    return m, cfg


def call(m, wrapper, env):
    """curl's call to the primary, run by the wrapper argv."""
    return run(wrapper + ["--", CURL, "-sS", m.base("p") + "/chat/completions", "-d", chat_body()], env)


def answered(r):
    """Whether curl printed the backup's answer (not the primary's 503)."""
    try:
        return json.loads(r.stdout)["choices"][0]["message"]["content"].startswith("Hello from b")
    except (ValueError, KeyError, IndexError, TypeError):
        return False


def rendered_page(path=os.path.join(ROOT, "docs/llmfallback.1")):
    """The man page at path as man renders it, 200 columns wide."""
    return subprocess.run(["man", "-l", path], capture_output=True,
                          env=dict(os.environ, MANPAGER="cat", MANWIDTH="200")).stdout.decode()


def test_install_and_man_page():
    if SANITIZED:
        raise Skipped(WRAPPED)
    prefix = tempfile.mkdtemp(prefix="prefix-", dir=tmpdir())
    r = subprocess.run(["make", "-s", "install", f"PREFIX={prefix}"], cwd=ROOT, capture_output=True)
    eq(r.returncode, 0, f"make install ({r.stderr.decode()[-300:]})")
    for f in ("bin/llmfallback", "lib/llmfallback/libllmfallback.so", "lib/llmfallback/libllmfallback-core.so",
              "share/man/man1/llmfallback.1"):
        check(os.path.exists(os.path.join(prefix, f)), f"installed {f}")
    m, cfg = failing_primary("install.json")
    env = env_for(preload=False)
    log = os.path.join(prefix, "attempts.jsonl")
    r = call(m, [os.path.join(prefix, "bin/llmfallback"), "--config", cfg, "--log", log], env)
    check(answered(r), f"the installed wrapper falls back ({r.stderr.decode()[-200:]})")
    # its report, also with the library preloaded from elsewhere (a
    # LLMFALLBACK_LIBDIR without a share/ beside it sent report there)
    for extra in ({}, {"LLMFALLBACK_LIBDIR": os.path.join(prefix, "lib/llmfallback")},
                  {"LLMFALLBACK_LIBDIR": os.path.dirname(os.path.abspath(__file__))}):
        r = run([os.path.join(prefix, "bin/llmfallback"), "report", log], dict(env, **extra))
        eq(r.returncode, 0, f"the installed report runs with {extra} ({r.stderr.decode()[-200:]})")
        check(b"backup" in r.stdout, "and tells who answered")
    m.stop()
    page = rendered_page(os.path.join(prefix, "share/man/man1/llmfallback.1"))
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


def test_the_man_page_says_what_the_wrapper_does():
    """EXIT STATUS names each status the wrapper itself exits with (it said
    "that of PROGRAM, or 2", but a program not found is 127, one that
    cannot be run 126), and shadow.sample's phase is drawn from the pid as
    preload/shadow.c does (it said "random")."""
    page = rendered_page()
    status = re.sub(r"\s+", " ", page.split("EXIT STATUS")[1].split("SEE ALSO")[0])
    d = tempfile.mkdtemp(dir=tmpdir())
    wrapper = os.path.join(ROOT, "scripts/llmfallback")
    for argv, what in (([os.path.join(d, "nosuch")], "not found"), ([d], "a directory"), (["--bogus"], "unknown option")):
        r = run([wrapper] + argv, dict(os.environ))
        check(f"{r.returncode} " in status and what in status,
              f"{r.returncode} for {what}: {r.stderr.decode()[:100]!r} in EXIT STATUS ({status})")
    sample = re.sub(r"\s+", " ", page.split("shadow.sample")[1].split("ca_bundle")[0])
    check("random" not in sample and "pid" in sample, f"shadow.sample: a phase from the pid ({sample})")


def test_the_wrapper_preloads_a_library_whose_path_has_a_space_or_colon():
    """LD_PRELOAD is split at spaces and colons, with no escape: a wrapper
    and library copied under "my dir" ran the program without the library
    (ld.so: "cannot be preloaded"), no fallback. The wrapper preloads it
    through a link of its own to the library's directory (the library finds
    its core beside the path it was preloaded by), removed once the program
    has ended; a LLMFALLBACK_LIBDIR without a space, a link to such a
    directory, is used as given (it was resolved back to the space)."""
    if SANITIZED:
        raise Skipped(WRAPPED)
    m, cfg = failing_primary("spaced.json")
    show = ["--", "sh", "-c", 'printf %s "$LD_PRELOAD"']
    for name in ("my dir", "provider:a"):
        top = os.path.join(tempfile.mkdtemp(prefix="copy-", dir=tmpdir()), name)
        os.makedirs(os.path.join(top, "build"))
        shutil.copytree(os.path.join(ROOT, "scripts"), os.path.join(top, "scripts"))
        for so in ("libllmfallback.so", "libllmfallback-core.so"):
            shutil.copy(os.path.join(BUILD, so), os.path.join(top, "build"))
        wrapper = os.path.join(top, "scripts/llmfallback")
        env = env_for(preload=False)
        r = call(m, [wrapper, "--config", cfg], env)
        check(answered(r) and b"cannot be preloaded" not in r.stderr,
              f"{name!r}: the call fell back ({r.stdout[:100]!r} {r.stderr.decode()[-300:]})")
        preload = run([wrapper] + show, env).stdout.decode()
        check(" " not in preload and ":" not in preload and preload.startswith(env["XDG_RUNTIME_DIR"] + "/")
              and os.path.realpath(preload) == os.path.join(top, "build/libllmfallback.so"),
              f"{name!r}: preloaded through a link ({preload})")
        for _ in range(30):   # (the link is removed within a second or so of the end)
            left = [f for f in os.listdir(env["XDG_RUNTIME_DIR"]) if f.startswith("llmfallback-lib.")]
            if not left:
                break
            time.sleep(0.2)
        eq(left, [], f"{name!r}: the link removed after the program")
        link = os.path.join(os.path.dirname(top), "lib")
        os.symlink(os.path.join(top, "build"), link)
        preload = run([wrapper] + show, dict(env, LLMFALLBACK_LIBDIR=link)).stdout.decode()
        eq(preload, os.path.join(link, "libllmfallback.so"), f"{name!r}: LLMFALLBACK_LIBDIR as given")


def test_the_wrapper_makes_inherited_paths_absolute():
    """LLMFALLBACK_CONFIG and LLMFALLBACK_LOG set in the environment, not
    by --config and --log, are made absolute as the options' are (README:
    setting them yourself is the same): relative ones were left so, and a
    script whose curl ran in another directory found no configuration. An
    inherited pipe is copied for every process as --config's is; stderr
    stays stderr; an option still wins over an inherited value."""
    if SANITIZED:
        raise Skipped(WRAPPED)
    m, cfg = failing_primary("inherited.json")
    d = os.path.dirname(cfg)
    log = new_log("inherited.log")
    wrapper = os.path.join(ROOT, "scripts/llmfallback")
    env = env_for(preload=False, extra={"LLMFALLBACK_CONFIG": os.path.basename(cfg),
                                         "LLMFALLBACK_LOG": os.path.basename(log)})
    # (the wrapper started in d, its program's curl run from /)
    r = run(["sh", "-c", 'cd "$0" && exec "$@"', d, wrapper, "--", "sh", "-c", 'cd / && exec "$@"', "-",
             CURL, "-sS", m.base("p") + "/chat/completions", "-d", chat_body()], env)
    check(answered(r), f"the call fell back ({r.stdout[:100]!r} {r.stderr.decode()[-300:]})")
    eq([e["provider"] for e in read_log(log) if e.get("event") == "attempt"], ["openai", "backup"],
       "into the log named from the starting directory")
    show = ["--", "sh", "-c", 'printf %s "$LLMFALLBACK_CONFIG|$LLMFALLBACK_LOG"']
    r = run(["sh", "-c", 'cd "$0" && exec "$@"', d, wrapper] + show, dict(env, LLMFALLBACK_LOG="stderr"))
    eq(r.stdout.decode(), f"{os.path.realpath(d)}/{os.path.basename(cfg)}|stderr", "stderr stays stderr")
    r = run(["bash", "-c", 'LLMFALLBACK_CONFIG=<(cat "$0") exec "$@"', cfg, wrapper] + show, env, timeout=20)
    copy = r.stdout.decode().split("|")[0]
    check(copy.startswith(os.path.join(env["XDG_RUNTIME_DIR"], "llmfallback-config.")),
          f"an inherited pipe is copied ({r.stdout!r} {r.stderr.decode()[-200:]})")
    r = run([wrapper, "--config", cfg] + show, dict(env, LLMFALLBACK_CONFIG="/dev/stdin"), input=b"", timeout=20)
    check(r.stdout.decode().startswith(cfg + "|"), f"--config wins ({r.stdout!r})")


def wrapped_call(m, given, redirect, env, before=""):
    """The wrapper given --config given (bash's redirect applied to it
    first, after bash ran before), running curl's call to the primary after
    printing the configuration and LLMFALLBACK_DISABLE it was handed."""
    show = 'printf "%s|%s\\n" "${LLMFALLBACK_CONFIG-unset}" "${LLMFALLBACK_DISABLE-unset}"; exec "$@"'
    args = ["--config", given] if given else []
    return run(["bash", "-c", f'{before}exec "$@" {redirect}', "-", os.path.join(ROOT, "scripts/llmfallback")] + args +
               ["--", "sh", "-c", show, "-", CURL, "-sS", "-w", "\n%{http_code}", m.base("p") + "/chat/completions",
                "-d", chat_body()], env, timeout=20)


def test_a_config_the_wrapper_cannot_read_is_one_line_naming_it():
    """A pipe or descriptor the wrapper reads for the program that gives
    nothing (stdin closed, /dev/null, a pipe whose writer wrote nothing) is
    said in one line naming the path as given, and the calls pass through:
    there were cat's line, the wrapper's, then the library's naming an empty
    copy the user never gave (that one alone for /dev/null). The program
    gets no configuration and LLMFALLBACK_DISABLE=1; no copy is left."""
    if SANITIZED:
        raise Skipped(WRAPPED)
    m, cfg = failing_primary("unread.json")
    env = env_for(preload=False)
    for given, redirect, why in (("/dev/stdin", "<&-", "No such file or directory"), ("/dev/null", "", "empty"),
                                 ("/dev/fd/5", "5< <(:)", "empty")):
        for inherited in (False, True):
            m.reset_all()
            e = dict(env, LLMFALLBACK_CONFIG=given) if inherited else env
            r = wrapped_call(m, None if inherited else given, redirect, e)
            what = f"{given} {'inherited' if inherited else 'given'}"
            eq(r.stderr.decode(), f"llmfallback: cannot read the configuration {given}: {why}; passing calls through "
                                  "untouched\n", f"{what}: one line")
            out = r.stdout.decode()
            check(out.startswith("unset|1\n") and out.endswith("\n503"), f"{what}: no config, disabled, the 503 ({out!r})")
            eq((len(m.requests("p")), len(m.requests("b"))), (1, 0), f"{what}: passed through")
    # a writer that never ends its pipe is given up after 5 s, as the library would
    m.reset_all()
    r = wrapped_call(m, "/dev/fd/5", f'5< <(cat "{cfg}"; exec sleep 30 2>/dev/null)', env)
    eq(r.stderr.decode(), "llmfallback: cannot read the configuration /dev/fd/5: its writer has not ended it after "
                          "5 s; passing calls through untouched\n", "a writer that never ends: one line")
    eq((len(m.requests("p")), len(m.requests("b"))), (1, 0), "a writer that never ends: passed through")
    eq([f for f in os.listdir(env["XDG_RUNTIME_DIR"]) if f.startswith("llmfallback-config.")], [], "no copy left")
    m.stop()


def test_a_config_the_wrapper_copies_stops_at_the_librarys_limit():
    """--config /dev/zero (or /dev/urandom, or a pipe whose writer never
    stops) was copied for 5 s without a limit, hundreds of MB into
    $XDG_RUNTIME_DIR, for a configuration the library then refused past its
    1 MiB. The wrapper reads one byte past the library's limit at most and
    says in one line that the configuration is too large; the calls pass
    through. A pipe of the limit exactly is copied whole and obeyed."""
    if SANITIZED:
        raise Skipped(WRAPPED)
    with open(os.path.join(ROOT, "preload/core.h")) as f:
        limit = 1 << int(re.search(r"define LLF_CONFIG_MAX \(\(size_t\)1 << (\d+)\)", f.read()).group(1))
    m, cfg = failing_primary("limit.json")
    env = env_for(preload=False)
    with open(cfg) as f:
        text = f.read()
    # (a regression must not fill the disk: files of at most 8 MiB)
    small = "ulimit -f 8192; "
    too_large = ("llmfallback: cannot read the configuration {}: too large (the library reads at most "
                 f"{limit >> 10} KiB); passing calls through untouched\n")

    def piped(size):
        padded = os.path.join(tmpdir(), f"padded-{size}.json")
        with open(padded, "w") as f:
            f.write(text + " " * (size - len(text)))
        m.reset_all()
        return wrapped_call(m, "/dev/fd/5", f'5< <(cat "{padded}")', env, small)
    r = piped(limit + 1)
    eq(r.stderr.decode(), too_large.format("/dev/fd/5"), "one byte more: one line")
    check(r.stdout.decode().startswith("unset|1\n") and r.stdout.decode().endswith("\n503"),
          f"one byte more: passed through ({r.stdout[-100:]!r})")
    t0 = time.time()
    r = wrapped_call(m, "/dev/zero", "", env, small)
    eq(r.stderr.decode(), too_large.format("/dev/zero"), "/dev/zero: one line")
    check(time.time() - t0 < 4, f"/dev/zero: read no further ({time.time() - t0:.1f} s)")
    eq(len(m.requests("b")), 0, "no fallback")
    eq([f for f in os.listdir(env["XDG_RUNTIME_DIR"]) if f.startswith("llmfallback-config.")], [], "no copy left")
    r = piped(limit)
    check(b"Hello from b" in r.stdout and r.stdout.endswith(b"\n200") and r.stderr == b"",
          f"the limit exactly: obeyed ({r.stdout[-200:]!r} {r.stderr.decode()[-300:]})")
    m.stop()
