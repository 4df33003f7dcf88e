"""examples/: the legacy tools (shell + curl, Python requests, PHP curl), each
run unmodified under the wrapper with each of the example configs, and the CI
wrapper (shared health memory across the job's processes, the opt-in
fallback threshold). The example configs name the real providers; the tests
only point each provider's base_url at a mock."""
import json
import os
import time

from harness import (SANITIZED, Skipped, WRAPPED, KEYS, PY, ROOT, check, env_for, eq, new_log, read_log, run,
                     shared_mock, tmpdir, write_config)

EX = os.path.join(ROOT, "examples")
WRAP = os.path.join(ROOT, "scripts/llmfallback")
OPENROUTER_KEY = "or-test-openrouter-3c9d"   # checked below never to reach another provider


def mock():
    return shared_mock("examples", [
        {"name": "openai", "dialect": "openai", "key": KEYS["OPENAI_API_KEY"]},
        {"name": "anthropic", "dialect": "anthropic", "key": KEYS["ANTHROPIC_API_KEY"]},
        {"name": "gemini", "dialect": "gemini", "key": KEYS["GEMINI_API_KEY"]},
        {"name": "openrouter", "dialect": "openai", "key": OPENROUTER_KEY},
        {"name": "ollama", "dialect": "openai"},
    ])


def local(m, example, name):
    """An example config as shipped, with each provider's base_url at its mock."""
    with open(os.path.join(EX, example)) as f:
        cfg = json.load(f)
    paths = {"gemini": "/v1beta", "openrouter": "/api/v1"}
    cfg["providers"] = {p: {"base_url": m.base(p, paths.get(p, "/v1"))}
                        for p in ("openai", "anthropic", "gemini", "openrouter", "ollama")}
    cfg.setdefault("breaker", {"failures": 0})
    return write_config(cfg, name)


def env(m, cfg, log):
    return env_for(None, log, preload=False,
                   extra={"OPENAI_BASE_URL": m.base("openai"), "OPENROUTER_API_KEY": OPENROUTER_KEY,
                          })


TOOLS = {
    "shell+curl": lambda q: [os.path.join(EX, "legacy/ask.sh"), q],
    "python requests": lambda q: [PY, os.path.join(EX, "legacy/summarise.py")],
    "php curl": lambda q: ["php", os.path.join(EX, "legacy/ask.php"), q],
}

CHAINS = [   # config, mocks that fail, who answers
    ("configs/openai-anthropic-gemini.json", ["openai", "anthropic"], "gemini (gemini-2.5-flash)"),
    ("configs/openai-openrouter.json", ["openai"], "openrouter (openai/gpt-4o-mini)"),
    ("configs/cloud-to-ollama.json", ["openai"], "ollama (llama3.2)"),
]


def test_legacy_tools_fail_over_with_each_example_config():
    if SANITIZED:
        raise Skipped(WRAPPED)
    m = mock()
    for example, failing, answerer in CHAINS:
        cfg = local(m, example, os.path.basename(example))
        for tool, argv in TOOLS.items():
            m.reset_all()
            for n in failing:
                m.set(n, behaviour="503")
            log = new_log(f"ex-{tool.replace(' ', '-')}.log")
            r = run([WRAP, "--config", cfg, "--log", log, "--"] + argv("What is the capital of France?"),
                    env(m, cfg, log), input=b"A long text about Paris, the capital of France.")
            out = r.stdout.decode()
            check(r.returncode == 0 and f"Hello from {answerer}" in out,
                  f"{tool} with {example}: answered by {answerer} ({out[:200]!r} {r.stderr.decode()[-300:]!r})")
            who = answerer.split()[0]
            reqs = m.requests(who)
            eq(len(reqs), 1, f"{tool} with {example}: one call to {who}")
            own = {"anthropic": KEYS["ANTHROPIC_API_KEY"], "gemini": KEYS["GEMINI_API_KEY"],
                   "openrouter": OPENROUTER_KEY, "ollama": None}[who]
            eq(reqs[0]["credential"], own, f"{tool}: {who} got its own key only")
            check(KEYS["OPENAI_API_KEY"] not in json.dumps(reqs[0]), f"{tool}: not the program's key")
            eq([e["provider"] for e in read_log(log) if e.get("event") == "attempt"],
               ["openai"] + failing[1:] + [who], f"{tool} with {example}: the chain in order")


def test_legacy_tools_get_the_original_failure():
    if SANITIZED:
        raise Skipped(WRAPPED)
    m = mock()
    cfg = local(m, "configs/openai-openrouter.json", "all-fail.json")
    for n in ("openai", "openrouter"):
        m.set(n, behaviour="503")
    log = new_log("ex-fail.log")
    r = run([WRAP, "--config", cfg, "--log", log, "--", os.path.join(EX, "legacy/ask.sh"), "hi"], env(m, cfg, log))
    eq(r.returncode, 22, "curl --fail-with-body exits 22, as without the library")
    check(b"returned error: 503" in r.stderr, f"over the primary's own 503 ({r.stderr[-200:]!r})")
    eq(len(m.requests("openrouter")), 1, "the shell tool's call was tried on the chain's member")
    m.reset("openrouter")
    r = run([WRAP, "--config", cfg, "--log", log, "--", "php", os.path.join(EX, "legacy/ask.php"), "hi"],
            env(m, cfg, log))
    check(r.returncode == 1 and b"the API said 503" in r.stderr, f"PHP sees the original 503 ({r.stderr[-200:]!r})")
    eq(len(m.requests("openrouter")), 1, "PHP's call was tried on the chain's member")


def test_legacy_tools_without_a_question_say_their_usage():
    """ask.sh and ask.php without a question (or with an empty one): their
    usage on stderr and exit 2, nothing on stdout (ask.php printed it on
    stdout and exited 0, which a script calling it took for an answer)."""
    for argv in ([os.path.join(EX, "legacy/ask.sh")], ["php", os.path.join(EX, "legacy/ask.php")]):
        name = os.path.basename(argv[-1])
        for question in ([], [""]):
            r = run(argv + question, env_for(preload=False))
            check((r.returncode, r.stdout) == (2, b"") and f"usage: {name} QUESTION" in r.stderr.decode(),
                  f"{name} {question}: usage error ({r.returncode} {r.stdout[:100]!r} {r.stderr[-200:]!r})")


def step_script(m, calls, exit_code=0):
    path = os.path.join(tmpdir(), f"ci-step-{calls}-{exit_code}.sh")
    with open(path, "w") as f:
        f.write("#!/bin/sh\nset -e\n")
        for i in range(calls):
            f.write(f"{os.path.join(EX, 'legacy/ask.sh')} 'question {i}' > /dev/null\n")
        f.write(f"exit {exit_code}\n")
    os.chmod(path, 0o755)
    return path


def test_ci_wrapper_shares_health_and_enforces_a_threshold():
    if SANITIZED:
        raise Skipped(WRAPPED)
    m = mock()
    m.set("openai", behaviour="503")
    cfg = local(m, "ci/llmfallback.json", "ci.json")
    with open(cfg) as f:
        check(json.load(f)["breaker"] == {"failures": 2, "cooldown_ms": 120000, "shared": True},
              "the example's own breaker settings are under test")
    ci = os.path.join(EX, "ci/with-fallback.sh")
    e = env(m, cfg, None)
    e["LLMFALLBACK"] = WRAP
    e["LLMFALLBACK_CI_LOG"] = log = new_log("ci.log")
    r = run([ci, "--config", cfg, "--", step_script(m, 10)], e)
    eq(r.returncode, 0, f"no threshold: the job passes ({r.stderr.decode()[-300:]})")
    eq(len(m.requests("openai")), 2, "ten processes, the dead primary tried twice: health memory is shared")
    eq(len(m.requests("anthropic")), 10, "every call answered by the fallback")
    check("10 calls in 1 log(s)" in r.stdout.decode(), "the report is printed")
    summaries = [x for x in read_log(log) if x.get("event") == "summary"]
    eq(len(summaries), 10, "one summary per process")

    def job(primary, limit, step, log_name):
        """A fresh job, the primary as given."""
        m.reset_all()
        m.set("openai", behaviour=primary)
        return ci_job(m, ["--config", cfg] + limit, step, log_name)

    r = job("503", ["--max-fallback-share", "0.2"], step_script(m, 4), "ci2.log")
    eq(r.returncode, 1, "over the threshold: the job fails")
    check("4 of 4 calls (100%) needed a fallback, more than the 20% allowed" in r.stderr.decode(),
          f"saying why, in one line ({r.stderr.decode()[-300:]})")
    r = job("ok", ["--max-fallbacks", "0"], step_script(m, 3), "ci3.log")
    eq(r.returncode, 0, "a healthy provider: the job passes with the threshold on")
    r = job("ok", ["--max-fallbacks", "0"], step_script(m, 1, exit_code=3), "ci4.log")
    eq(r.returncode, 3, "the test step's own failure is the job's exit status")
    # a limit out of its range, or an unknown option, stops the job before
    # it runs (it ran the whole job and then exited 2; an unknown option was
    # run as the command)
    for bad in (["--max-fallback-share", "5"], ["--bogus"]):
        r = job("ok", bad, step_script(m, 1), "ci5.log")
        eq((r.returncode, len(m.requests("openai"))), (2, 0), f"{bad}: exit 2, no call made ({r.stderr.decode()[-200:]})")


def ci_job(m, args, step, log_name):
    """with-fallback.sh ARGS -- step, a fresh job: its own log (log_name)
    and health memory."""
    e = env(m, None, None)
    e["LLMFALLBACK"] = WRAP
    e["LLMFALLBACK_CI_LOG"] = new_log(log_name)
    return run([os.path.join(EX, "ci/with-fallback.sh")] + args + ["--", step], e)


def test_ci_wrapper_takes_its_options_with_an_equals_sign_too():
    """--config=FILE, --max-fallbacks=N and --max-fallback-share=F, as
    `llmfallback report` takes them (README: it "takes the same two
    options"): the = spellings were refused as unknown options (exit 2)."""
    if SANITIZED:
        raise Skipped(WRAPPED)
    m = mock()
    m.set("openai", behaviour="503")
    cfg = local(m, "ci/llmfallback.json", "ci-equals.json")
    for limit in ("--max-fallbacks=0", "--max-fallback-share=0.5"):
        r = ci_job(m, [f"--config={cfg}", limit], step_script(m, 1), "ci-equals.log")
        eq(r.returncode, 1, f"{limit}: exceeded, the job fails ({r.stderr.decode()[-300:]})")
        check("needed a fallback" in r.stderr.decode() and "1 calls in 1 log(s)" in r.stdout.decode(),
              f"{limit}: the call fell back, and the report says so ({r.stdout.decode()[-300:]})")
    m.reset_all()
    r = ci_job(m, ["--max-fallback-share=5"], step_script(m, 1), "ci-equals.log")
    eq((r.returncode, len(m.requests("openai"))), (2, 0), "a limit out of its range: exit 2, no call made")


def test_ci_workflow_example_uses_the_wrapper():
    if SANITIZED:
        raise Skipped(WRAPPED)
    with open(os.path.join(EX, "ci/github-actions.yml")) as f:
        wf = f.read()
    check("with-fallback.sh" in wf and "--max-fallback-share" in wf and "make test" in wf,
          "the workflow wraps its test step and sets a threshold")
    check("examples/ci/llmfallback.json" in wf, "with the tested example config")


def test_the_wrapper_gives_a_piped_config_to_every_process():
    """llmfallback --config <(...) -- a script whose first process connects
    somewhere unrelated and whose second calls the API: a pipe can be read
    once, and that first connect's process used it up (the library reads
    its configuration at a process's first lookup or connect), so the curl
    after it read nothing and passed the 503 through. The wrapper reads the
    pipe itself into a private copy every process reads, and removes that
    copy once the program has ended."""
    if SANITIZED:
        raise Skipped(WRAPPED)
    m = mock()
    m.set("openai", behaviour="503")
    cfg = local(m, "configs/openai-openrouter.json", "piped.json")
    e = env(m, cfg, None)

    def piped(script, arg):
        """The wrapper given cfg as a pipe, running bash -c script, arg as its $0."""
        return run(["bash", "-c", 'exec "$1" --config <(cat "$2") -- bash -c "$3" "$4"', "-", WRAP, cfg, script, arg],
                   e, timeout=20)

    r = piped(f'"$0" -c "import socket; s = socket.socket(); s.settimeout(1); s.connect_ex((\'127.0.0.1\', 9))"; '
              f'exec {os.path.join(EX, "legacy/ask.sh")} hi', PY)
    out = r.stdout.decode()
    check(r.returncode == 0 and "Hello from openrouter" in out,
          f"the script's curl fell back ({out[:200]!r} {r.stderr.decode()[-300:]!r})")
    eq(len(m.requests("openrouter")), 1, "the member was asked")
    runtime = e["XDG_RUNTIME_DIR"]
    for _ in range(30):   # (the copy is removed within a second or so of the end)
        left = [f for f in os.listdir(runtime) if f.startswith("llmfallback-config.")]
        if not left:
            break
        time.sleep(0.2)
    eq(left, [], "the private copy removed after the program")
    # a program that waits for all its children is not kept waiting by the
    # copy's watcher (it was the program's child), and a job the program
    # left behind still finds the copy after the program has ended (it was
    # removed as the program's own process ended)
    late = os.path.join(runtime, "late")
    prog = ('(sleep 2.5; cat "$LLMFALLBACK_CONFIG" > "$0") > /dev/null 2>&1 & '
            'exec perl -e \'1 while wait != -1; print "waited\\n"\'')
    r = piped(prog, late)
    eq(r.stdout.decode().strip(), "waited", f"the program's wait for its children returned ({r.stderr.decode()[-200:]})")
    os.unlink(late)
    piped('(sleep 2.5; cat "$LLMFALLBACK_CONFIG" > "$0") > /dev/null 2>&1 & exit 0', late)
    for _ in range(40):
        if os.path.exists(late) and os.path.getsize(late):
            break
        time.sleep(0.2)
    with open(cfg) as f, open(late) as g:
        eq(g.read(), f.read(), "the job left behind read the configuration")
