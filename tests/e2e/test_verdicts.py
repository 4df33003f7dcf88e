"""Soft failures: every 200 is judged before the program sees it. Each case
ends with the fallback's answer reaching /usr/bin/curl; each check has a
false-positive control that must pass on the first attempt."""
import atexit
import json
import os
import time

from harness import CURL, KEYS, PY, Mock, check, env_for, eq, new_log, read_log, run, tmpdir, write_config

_m = None


def mock():
    global _m
    if _m is None:
        _m = Mock([
            {"name": "oai", "dialect": "openai", "key": KEYS["OPENAI_API_KEY"]},
            {"name": "backup", "dialect": "openai", "key": KEYS["BACKUP_KEY"]},
            {"name": "claude", "dialect": "anthropic", "key": KEYS["ANTHROPIC_API_KEY"]},
            {"name": "gem", "dialect": "gemini", "key": KEYS["GEMINI_API_KEY"]},
        ])
        atexit.register(_m.stop)
    _m.reset_all()
    for n in _m.servers:
        _m.set(n, behaviour="ok", retry_after=None)
    return _m


def config(m, chain=("backup/gpt-4o-mini",), **extra):
    cfg = {"providers": {
        "openai": {"base_url": m.base("oai")},
        "backup": {"dialect": "openai", "base_url": m.base("backup"), "api_key_env": "BACKUP_KEY"},
        "anthropic": {"base_url": m.base("claude")},
        "gemini": {"base_url": m.base("gem", "/v1beta")}},
        "chain": list(chain)}
    cfg.update(extra)
    return write_config(cfg, "verdicts.json")


def call(m, dialect="openai", extra_body=None, log=None, cfg=None, chain=("backup/gpt-4o-mini",)):
    """One call in the program's dialect; returns (parsed answer, answering server)."""
    if dialect == "openai":
        body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
        url, hdrs = m.base("oai") + "/chat/completions", ["-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}"]
    elif dialect == "anthropic":
        body = {"model": "claude-opus-4-7", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
        url = m.base("claude") + "/messages"
        hdrs = ["-H", f"x-api-key: {KEYS['ANTHROPIC_API_KEY']}", "-H", "anthropic-version: 2023-06-01"]
    else:
        body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
        url = m.base("gem", "/v1beta") + "/models/gemini-2.5-pro:generateContent"
        hdrs = ["-H", f"x-goog-api-key: {KEYS['GEMINI_API_KEY']}"]
    body.update(extra_body or {})
    r = run([CURL, "-sS", url, "-H", "content-type: application/json", *hdrs, "-d", json.dumps(body)],
            env_for(cfg or config(m, chain), log))
    out = json.loads(r.stdout)
    if dialect == "openai":
        msg = out["choices"][0]["message"]
        text = msg.get("content") or ""
    elif dialect == "anthropic":
        text = "".join(b.get("text", "") for b in out["content"])
    else:
        text = "".join(p.get("text", "") for p in out["candidates"][0]["content"]["parts"])
    who = text.split("Hello from ")[1].split(" ")[0] if "Hello from " in text else text[:40]
    return out, who


def primary_for(dialect):
    return {"openai": "oai", "anthropic": "claude", "gemini": "gem"}[dialect]


def test_empty_and_refusals_fall_back_in_every_dialect():
    m = mock()
    for dialect in ("openai", "anthropic", "gemini"):
        for behaviour, reason in (("empty_answer", "no_content"), ("refusal", None),
                                  ("refusal_text", "textual"), ("blocked", None)):
            m.reset_all()
            m.set(primary_for(dialect), behaviour=behaviour)
            log = new_log("soft.log")
            out, who = call(m, dialect, log=log)
            eq(who, "backup", f"{dialect}/{behaviour}: fallback answered")
            first = [l for l in read_log(log) if l["event"] == "attempt"][0]
            check(first["outcome"] in ("empty", "refusal"), f"{dialect}/{behaviour}: outcome {first['outcome']}")
            if reason:
                eq(first["reason"], reason, f"{dialect}/{behaviour}: reason")


def test_gemini_answers_beyond_text():
    """A Gemini answer that is an image, or code the model ran, with no text
    is the answer to a Gemini program, not an empty one; translated for a
    program of another dialect, which has no place for it, it is none."""
    m = mock()
    for behaviour, part in (("image_only", "inlineData"), ("code_run", "codeExecutionResult")):
        m.reset_all()
        m.set("gem", behaviour=behaviour)
        log = new_log("beyond.log")
        out, who = call(m, "gemini", log=log)
        eq(len(m.requests("backup")), 0, f"{behaviour}: no fallback")
        check(any(part in p for p in out["candidates"][0]["content"]["parts"]), f"{behaviour}: the program got it")
        eq([(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt"],
           [("gemini", "ok")], f"{behaviour}: judged an answer")
    m.reset_all()
    m.set("oai", behaviour="503")
    m.set("gem", behaviour="image_only")
    log = new_log("beyond.log")
    out, who = call(m, "openai", log=log, chain=("gemini/gemini-2.5-flash", "backup/gpt-4o-mini"))
    eq(who, "backup", "an image for an OpenAI program is no answer")
    eq([(l["provider"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"],
       [("openai", "overloaded"), ("gemini", "no_content"), ("backup", "ok")], "why")


def test_content_as_chunks_is_an_answer():
    """Mistral's Magistral answers with its content as an array of chunks,
    thinking then text: an answer, handed to an OpenAI program as it came,
    and its text (not its thinking) to a program of another dialect."""
    m = mock()
    m.set("oai", behaviour="content_chunks")
    log = new_log("chunks.log")
    out, who = call(m, log=log)
    eq(len(m.requests("backup")), 0, "no fallback")
    content = out["choices"][0]["message"]["content"]
    check(isinstance(content, list) and content[1]["text"].startswith("Hello from oai"), f"as it came: {content!r}")
    eq([(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt"], [("openai", "ok")], "judged ok")
    m.reset_all()
    m.set("claude", behaviour="503")
    m.set("backup", behaviour="content_chunks")
    out, who = call(m, "anthropic")
    eq(who, "backup", "a member's chunks, for an Anthropic program")
    eq([b["type"] for b in out["content"]], ["text"], "its text, not its thinking")
    check("think it over" not in json.dumps(out), "no thinking in the text")


def test_an_error_in_a_200_falls_back():
    """OpenRouter reports a provider that failed mid-generation in a 200:
    finish_reason "error", the error in the choice, partial text. An
    "error": null is no error."""
    m = mock()
    m.set("oai", behaviour="error_in_body")
    log = new_log("err200.log")
    out, who = call(m, log=log)
    eq(who, "backup", "the backup answered")
    eq([(l["provider"], l["outcome"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"],
       [("openai", "invalid_body", "error_in_body"), ("backup", "ok", "ok")], "why")
    m.reset_all()
    m.set("oai", behaviour="error_null")
    out, who = call(m)
    eq((who, len(m.requests("backup"))), ("oai", 0), "\"error\": null is none")


def test_a_lone_surrogate_is_still_an_answer():
    """Half an emoji (a lone \\ud83d escape), which Python's json and the SDKs
    take: the program gets its own answer's bytes as they came, or a
    member's translated with U+FFFD in its place."""
    m = mock()
    m.set("oai", behaviour="lone_surrogate")
    log = new_log("surrogate.log")
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    r = run([CURL, "-sS", m.base("oai") + "/chat/completions", "-H", "content-type: application/json",
             "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", json.dumps(body)], env_for(config(m), log))
    check(b"Hello from oai \\ud83d there" in r.stdout, f"the bytes as they came: {r.stdout[-120:]!r}")
    eq(len(m.requests("backup")), 0, "no fallback")
    eq([(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt"], [("openai", "ok")], "judged ok")
    m.reset_all()
    m.set("claude", behaviour="503")
    m.set("backup", behaviour="lone_surrogate")
    out, who = call(m, "anthropic")
    eq(out["content"][0]["text"], "Hello from backup \ufffd there", "a member's, translated")


def test_refusal_controls_pass_first_time():
    m = mock()
    m.set("oai", behaviour="long_cant")
    out, who = call(m)
    check("I can't stress enough" in out["choices"][0]["message"]["content"], "a long answer containing I can't")
    eq(len(m.requests("backup")), 0, "is not a refusal")
    m.set("oai", behaviour="ok")
    call(m)
    eq(len(m.requests("backup")), 0, "a plain answer passes")


def test_custom_refusal_patterns():
    m = mock()
    m.set("oai", behaviour="nope")
    out, who = call(m)
    eq(len(m.requests("backup")), 0, "default patterns do not know 'Nope'")
    m.reset_all()
    m.set("oai", behaviour="nope")
    out, who = call(m, cfg=config(m, verdict={"refusal_patterns": ["^Nope\\."]}))
    eq(who, "backup", "a configured pattern catches it")
    m.reset_all()
    m.set("oai", behaviour="refusal_text")
    out, who = call(m, cfg=config(m, verdict={"refusal": False}))
    eq(len(m.requests("backup")), 0, "refusal checks can be turned off")


def test_broken_structured_output():
    m = mock()
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
              "required": ["name"], "additionalProperties": False}
    js = {"response_format": {"type": "json_schema", "json_schema": {"name": "p", "schema": schema}}}
    jo = {"response_format": {"type": "json_object"}}
    for behaviour, extra, reason in (("bad_json", jo, "not_json"), ("schema_mismatch", js, "schema"),
                                     ("bad_args", None, "tool_arguments")):
        m.reset_all()
        m.set("oai", behaviour=behaviour)
        log = new_log("json.log")
        out, who = call(m, extra_body=extra, log=log)
        first = [l for l in read_log(log) if l["event"] == "attempt"][0]
        eq((first["outcome"], first["reason"]), ("schema", reason), f"{behaviour}: verdict")
        eq(len(m.requests("backup")), 1, f"{behaviour}: fallback asked")
    # controls: valid JSON passes; non-JSON text passes when JSON was not asked for
    m.reset_all()
    m.set("oai", behaviour="json_ok")
    out, who = call(m, extra_body=js)
    eq(json.loads(out["choices"][0]["message"]["content"]), {"name": "oai", "age": 30}, "valid JSON")
    # JSON holding a lone surrogate escape (half an emoji) is JSON, as Python reads it
    for extra in (jo, js):
        m.reset_all()
        m.set("oai", behaviour="json_lone_surrogate")
        out, who = call(m, extra_body=extra)
        eq((json.loads(out["choices"][0]["message"]["content"]), len(m.requests("backup"))),
           ({"name": "oai \ud83d", "age": 30}, 0), f"{next(iter(extra['response_format'].values()))}: "
           "JSON with half an emoji is the program's answer")
    m.set("oai", behaviour="bad_json")
    call(m)
    eq(len(m.requests("backup")), 0, "no JSON asked: text with braces passes")
    # Gemini's JSON mode is judged the same way
    m.reset_all()
    m.set("gem", behaviour="schema_mismatch")
    gschema = {k: v for k, v in schema.items() if k != "additionalProperties"}   # (which Gemini refuses)
    out, who = call(m, "gemini", extra_body={"generationConfig": {"responseMimeType": "application/json",
                                                                  "responseSchema": gschema}})
    eq(len(m.requests("backup")), 1, "gemini responseSchema mismatch falls back")
    sent = json.loads(m.requests("backup")[0]["body"])
    eq(sent["response_format"]["type"], "json_schema", "schema carried to the fallback")


def test_truncation_policy():
    m = mock()
    m.set("oai", behaviour="truncated")
    call(m)
    eq(len(m.requests("backup")), 0, "default: accept")
    m.reset_all()
    m.set("oai", behaviour="truncated")
    out, who = call(m, cfg=config(m, verdict={"truncated": "fallback"}))
    eq(who, "backup", "policy fallback")
    m.reset_all()
    m.set("oai", behaviour="truncated")
    call(m, extra_body={"max_tokens": 10}, cfg=config(m, verdict={"truncated": "fallback"}))
    eq(len(m.requests("backup")), 0, "the program set its own limit: accepted")


def test_deprecation_logged_once_per_model():
    m = mock()
    m.set("oai", behaviour="deprecated")
    log = new_log("dep.log")
    cfg = config(m)
    ex = os.path.join(os.environ.get("LLF_BUILD", "build"), "examples/chat_client")
    r = run([ex, m.base("oai") + "/chat/completions", "-n", "3", "-t", "1"], env_for(cfg, log))
    eq(r.returncode, 0, "answers delivered")
    deps = [l for l in read_log(log) if l["event"] == "deprecation"]
    eq(len(deps), 1, "one warning per model and process")
    eq((deps[0]["provider"], deps[0]["model"]), ("openai", "gpt-4o"), "which model")
    check("2026" in deps[0]["date"] or "@1767225600" in deps[0]["date"], f"date given: {deps[0]['date']}")
    eq(len(m.requests("backup")), 0, "a deprecated model still answers")


def test_a_streamed_answer_from_a_deprecated_model_is_logged():
    """A stream whose head carries Deprecation and Sunset, passed to the
    program live: one deprecation event, as for a whole answer, over curl
    and through the relay. (Only an answer not yet delivered was looked at:
    a program that streams never heard its model was being retired.)"""
    m = mock()
    m.set("oai", behaviour="deprecated")
    payload = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    prog = ("import sys, requests\n"
            "r = requests.post(sys.argv[1], data=sys.argv[2], headers={'Authorization': sys.argv[3]}, stream=True, timeout=20)\n"
            "print(r.status_code, sum(1 for l in r.iter_lines() if l.startswith(b'data:')))\n")
    for path, argv in (("curl", [CURL, "-sS", "-N", m.base("oai") + "/chat/completions", "-H", "content-type: application/json",
                                 "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", payload]),
                       ("socket", [PY, "-c", prog, m.base("oai") + "/chat/completions", payload,
                                   f"Bearer {KEYS['OPENAI_API_KEY']}"])):
        log = new_log(f"depstream-{path}.log")
        r = run(argv, env_for(config(m), log))
        eq(r.returncode, 0, f"{path}: streamed ({r.stderr.decode()[-200:]})")
        out = r.stdout.decode()
        got = out.count("data:") if path == "curl" else int(out.split()[1]) if out.startswith("200 ") else 0
        check(got > 1, f"{path}: the stream reached the program ({out[:100]!r})")
        lines = read_log(log)
        eq([(l["provider"], l["outcome"]) for l in lines if l["event"] == "attempt"], [("openai", "ok")],
           f"{path}: the primary's stream, passed live")
        deps = [(l["provider"], l["model"]) for l in lines if l["event"] == "deprecation"]
        eq(deps, [("openai", "gpt-4o")], f"{path}: one deprecation event")


def test_json_that_python_refuses_falls_back():
    """A 200 whose JSON Python's json (the SDKs), JSON.parse and Go refuse,
    and which cJSON upstream takes: a raw tab in the content, a number with a
    leading zero, a \\u escape with a bad hex digit (\\u12G4, which upstream
    read as U+0000). The program would fail on it: it gets the fallback's
    answer; the tab escaped is the program's own."""
    for dialect in ("openai", "anthropic", "gemini"):
        for behaviour in ("raw_tab", "leading_zero", "bad_u_escape"):
            m = mock()
            m.set(primary_for(dialect), behaviour=behaviour)
            log = new_log(f"rfc-{behaviour}.log")
            out, who = call(m, dialect, log=log)
            eq(who, "backup", f"{dialect} {behaviour}: falls back")
            eq([l.get("reason") for l in read_log(log) if l["event"] == "attempt"][:1], ["not_json"],
               f"{dialect} {behaviour}: judged not JSON")
        m = mock()
        m.set(primary_for(dialect), behaviour="escaped_tab")
        out, who = call(m, dialect)
        eq((who, len(m.requests("backup"))), (primary_for(dialect) + "\tthere", 0),
           f"{dialect}: an escaped tab is the program's own answer")


def test_a_nul_escape_is_part_of_the_answer():
    """An answer whose text holds \\u0000 (here first) is JSON, and the text
    goes on after it: not judged empty (the C string cJSON made of it
    ended there), and translated whole, the NUL escaped again."""
    for dialect in ("openai", "anthropic", "gemini"):
        m = mock()
        m.set(primary_for(dialect), behaviour="nul_escape")
        out, who = call(m, dialect)
        eq((who, len(m.requests("backup"))), (primary_for(dialect) + "\tthere", 0), f"{dialect}: the program's own answer")
    for dialect in ("anthropic", "gemini"):
        m = mock()
        m.set(primary_for(dialect), behaviour="503")
        m.set("backup", behaviour="nul_escape")
        out, _ = call(m, dialect)
        text = (out["content"][0]["text"] if dialect == "anthropic"
                else out["candidates"][0]["content"]["parts"][0]["text"])
        eq(text, "\0Hello from backup\tthere", f"{dialect} program, OpenAI member: the text, whole")


def test_a_nul_escape_in_the_request_falls_back_whole():
    """A request whose text holds \\u0000 (Python's json.dumps of a "\\x00")
    is a call: its fallback, to a member of its dialect and of another, is
    sent the text whole, the NUL escaped again. (Such a call passed through,
    for a cJSON that cut a string at a NUL, which ours no longer does.)"""
    for dialect, chain, member in (("openai", ("backup/gpt-4o-mini",), "backup"),
                                   ("anthropic", ("backup/gpt-4o-mini",), "backup"),
                                   ("openai", ("anthropic/claude-haiku-4-5",), "claude"),
                                   ("gemini", ("backup/gpt-4o-mini",), "backup")):
        m = mock()
        m.set(primary_for(dialect), behaviour="503")
        text = "\0Hello \u0000 there"
        extra = ({"messages": [{"role": "user", "content": text}]} if dialect != "gemini"
                 else {"contents": [{"role": "user", "parts": [{"text": text}]}]})
        out, who = call(m, dialect, extra_body=extra, chain=chain)
        eq(who, member, f"{dialect} program, {chain[0]}: fell back")
        sent = json.loads(m.requests(member)[0]["body"])
        msgs = sent.get("messages") or []
        got = msgs[-1]["content"] if msgs else None
        if isinstance(got, list):
            got = "".join(b.get("text", "") for b in got)
        eq(got, text, f"{dialect} program, {chain[0]}: the member was sent the text whole")


def test_wrong_content_type_falls_back():
    m = mock()
    m.set("oai", behaviour="textplain")
    out, who = call(m)
    eq(who, "backup", "JSON served as text/plain is not trusted")
    m.reset_all()
    m.set("oai", behaviour="textplain")
    call(m, cfg=config(m, verdict={"invalid_body": False}))
    eq(len(m.requests("backup")), 0, "unless turned off")
    m.reset_all()
    m.set("oai", behaviour="jsoncase")
    out, who = call(m)
    eq((who, len(m.requests("backup"))), ("oai", 0), "Application/JSON is JSON (media types have no case)")


def test_quality_gate():
    m = mock()
    count = os.path.join(tmpdir(), "gate.count")
    if os.path.exists(count):
        os.unlink(count)
    seen = os.path.join(tmpdir(), "gate.env")
    gate = {"command": f"echo $LLMFALLBACK_PROVIDER >> {count}; env >> {seen}; grep -q 'from backup'",
            "timeout_ms": 5000}
    cfg = config(m, verdict={"validate": gate})
    out, who = call(m, cfg=cfg)
    eq(who, "backup", "the gate rejected the primary's answer")
    eq(open(count).read().split(), ["openai", "backup"], "gate ran per answer with the provider in its env")
    # and no provider's key in its environment (a command the user names
    # judges text; it is not a provider)
    env = open(seen).read()
    os.unlink(seen)
    for var, k in KEYS.items():   # (SPARE_KEY: no provider of this configuration reads it)
        check((k in env) == (var == "SPARE_KEY"), f"{var}: no provider's key in the gate's environment")
    check("PATH=" in env, "the rest of the environment is the program's")
    # in one process, the same answers again: the gate's verdicts are cached
    os.unlink(count)
    m.reset_all()
    prog = os.path.join(os.environ.get("LLF_BUILD", "build"), "progs/handles")
    r = run([prog, m.base("oai") + "/chat/completions", f"http://127.0.0.1:{m.port('oai')}/_mock/blob?size=10"],
            env_for(cfg))
    eq(r.returncode, 0, "four calls answered")
    eq(len(m.requests("backup")), 4, "each by the backup")
    eq(open(count).read().split(), ["openai", "backup"], "the gate ran once per distinct answer")
    # an answer with no text (a tool call) is not sent to it: a gate that
    # wants text would judge nothing
    m.reset_all()
    cfg = config(m, verdict={"validate": {"command": "test -n \"$(cat)\"", "timeout_ms": 5000}})
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    out, who = call(m, cfg=cfg, extra_body={"tools": tools, "messages": [{"role": "user", "content": "[call:get_weather]"}]})
    eq(out["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "get_weather", "the call answered")
    eq(len(m.requests("backup")), 0, "the primary's call, not the gate's empty verdict")
    # a gate that hangs does not hang the program
    m.reset_all()
    cfg = config(m, verdict={"validate": {"command": "sleep 30.713; true", "timeout_ms": 300}})
    out, who = call(m, cfg=cfg)
    eq(who, "oai", "a gate that times out does not reject")
    # ...and is gone, its children too (sh forks the sleep of a compound command)
    def left():
        n = 0
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                n += b"30.713" in open(f"/proc/{pid}/cmdline", "rb").read()
            except OSError:
                pass
        return n
    time.sleep(0.2)
    eq(left(), 0, "no part of the timed-out gate left running")


def test_a_gate_that_cannot_run_is_said_once_and_rejects_nothing():
    """A validate.command that names no command (/bin/sh: 127) or one that
    cannot be run (126) judged every answer degraded: the program got only
    its original failures (a 503 here), and nothing said why. It judges
    nothing now, and one line says so, once for the process's calls."""
    m = mock()
    prog = os.path.join(os.environ.get("LLF_BUILD", "build"), "progs/handles")
    for cmd, st in (("/nonexistent/llf-gate", 127), ("/", 126)):
        m.reset_all()
        m.set("oai", behaviour="503")
        cfg = config(m, verdict={"validate": {"command": cmd, "timeout_ms": 5000}})
        r = run([prog, m.base("oai") + "/chat/completions", f"http://127.0.0.1:{m.port('oai')}/_mock/blob?size=10"],
                env_for(cfg))
        eq(r.returncode, 0, f"{cmd}: four calls answered ({r.stderr.decode()[-300:]})")
        eq(len(m.requests("backup")), 4, f"{cmd}: each by the backup, its answer not judged")
        said = [l for l in r.stderr.decode().splitlines() if "validate.command" in l]
        eq(len(said), 1, f"{cmd}: one line for the process ({r.stderr.decode()[-300:]})")
        check(all(f"exit status {st}" in l for l in said), f"{cmd}: saying why ({said[:1]})")


def test_a_gate_killed_by_a_signal_rejects_as_the_shell_tells_it():
    """A validate.command that dies by a signal (a checker's failed assert,
    the OOM killer) ends as the shell tells of one, 128 and the signal: the
    answer is rejected, as by any other failure. It was taken for exit
    127, "command not found": the answer went unjudged and the line said
    so, wrongly."""
    m = mock()
    cfg = config(m, verdict={"validate": {"command": "grep -q 'from backup' || kill -ABRT $$", "timeout_ms": 5000}})
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    r = run([CURL, "-sS", m.base("oai") + "/chat/completions", "-H", "content-type: application/json",
             "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", body], env_for(cfg))
    eq(r.returncode, 0, f"answered ({r.stderr[-200:]!r})")
    check(b"Hello from backup" in r.stdout, f"the primary's answer rejected, the backup's given ({r.stdout[-200:]!r})")
    check(b"could not be run" not in r.stderr, f"no word of a command not found ({r.stderr[-300:]!r})")


def test_a_gate_is_cut_to_the_programs_own_limit():
    """The gate judges within the program's limit on the whole call (curl
    -m 1), not only its own timeout_ms (20 s here): when the limit comes,
    the gate has said nothing, and the answer it was judging is the
    program's. It took the whole timeout_ms, past the program's limit."""
    m = mock()
    cfg = config(m, verdict={"validate": {"command": "sleep 30.715; true", "timeout_ms": 20000}})
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    t0 = time.monotonic()
    r = run([CURL, "-sS", "-m", "1", m.base("oai") + "/chat/completions", "-H", "content-type: application/json",
             "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-d", body], env_for(cfg))
    took = time.monotonic() - t0
    eq(r.returncode, 0, f"answered ({r.stderr[-200:]!r})")
    check(b"Hello from oai" in r.stdout, "by the primary, whose answer the gate was judging")
    # (a bound ten times the program's limit: this checks that the limit
    # holds at all, not how fast anything is)
    check(took < 10, f"within the program's limit, not the gate's 20 s (took {took:.1f} s)")
    eq(len(m.requests("backup")), 0, "no member asked")


def test_a_stream_held_for_refusals_keeps_its_first_token_limit():
    """With stream_refusal the gate waits for more than the first event, but
    timeouts_ms.first_token is about the first event: a stream whose first
    event came in time and whose text comes slowly is not cut for it (through
    libcurl and through the relay)."""
    m = mock()
    payload = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    url = m.base("oai") + "/chat/completions"
    auth = f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}"
    script = ("import sys, requests\n"
              "r = requests.post(sys.argv[1], data=sys.argv[2], headers={'Authorization': sys.argv[3]}, stream=True, timeout=20)\n"
              "print(r.headers.get('x-llmfallback-provider'), r.text)\n")
    for path, argv in (("curl", [CURL, "-sS", "-N", "-i", url, "-H", auth, "-d", payload]),
                       ("relay", [PY, "-c", script, url, payload, auth.split(": ", 1)[1]])):
        m.reset_all()
        m.set("oai", behaviour="stream_drip:250")
        log = new_log("holdslow.log")
        cfg = config(m, verdict={"stream_refusal": True},
                     timeouts_ms={"connect": 2000, "first_token": 800, "total": 10000})
        r = run(argv, env_for(cfg, log))
        steps = [(l["provider"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"]
        eq(steps, [("openai", "ok")], f"{path}: the primary's slow stream, whole ({r.stderr.decode()[-200:]})")
        check(r.stdout.decode().rstrip().endswith("data: [DONE]") and "x-llmfallback" not in r.stdout.decode(),
              f"{path}: the program got all of it ({r.stdout.decode()[-100:]!r})")
        eq(len(m.requests("backup")), 0, f"{path}: no member asked")


def test_refusal_as_a_whole_stream():
    m = mock()
    for dialect in ("openai", "anthropic", "gemini"):
        server = primary_for(dialect)
        if dialect == "openai":
            body = {"stream": True}
            url, hdrs = m.base("oai") + "/chat/completions", ["-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}"]
            payload = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], **body}
        elif dialect == "anthropic":
            url = m.base("claude") + "/messages"
            hdrs = ["-H", f"x-api-key: {KEYS['ANTHROPIC_API_KEY']}", "-H", "anthropic-version: 2023-06-01"]
            payload = {"model": "claude-opus-4-7", "max_tokens": 50, "stream": True,
                       "messages": [{"role": "user", "content": "hi"}]}
        else:
            url = m.base("gem", "/v1beta") + "/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
            hdrs = ["-H", f"x-goog-api-key: {KEYS['GEMINI_API_KEY']}"]
            payload = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
        argv = [CURL, "-sS", "-N", url, "-H", "content-type: application/json", *hdrs, "-d", json.dumps(payload)]
        for hold in (True, False):
            m.reset_all()
            m.set(server, behaviour="stream_refusal")
            m.set("backup", behaviour="ok")
            log = new_log("srefuse.log")
            cfg = config(m, verdict={"stream_refusal": hold})
            r = run(argv, env_for(cfg, log))
            out = r.stdout.decode()
            if hold:
                check("backup" in out and "sorry" not in out, f"{dialect}: a refused stream falls back (held)")
                first = [l for l in read_log(log) if l["event"] == "attempt"][0]
                eq((first["outcome"], first["reason"]), ("refusal", "textual"), f"{dialect}: why")
            else:
                check("sorry" in out and len(m.requests("backup")) == 0,
                      f"{dialect}: by default a stream goes live at its first event (documented limit)")


def _stream_argv(m, dialect, via="curl"):
    """A streamed call in the program's dialect, by curl -N or (via="relay")
    Python requests over the relay."""
    if dialect == "openai":
        url, auth = m.base("oai") + "/chat/completions", ("Authorization", f"Bearer {KEYS['OPENAI_API_KEY']}")
        payload = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    elif dialect == "anthropic":
        url, auth = m.base("claude") + "/messages", ("x-api-key", KEYS["ANTHROPIC_API_KEY"])
        payload = {"model": "claude-opus-4-7", "max_tokens": 50, "stream": True,
                   "messages": [{"role": "user", "content": "hi"}]}
    else:
        url = m.base("gem", "/v1beta") + "/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
        auth = ("x-goog-api-key", KEYS["GEMINI_API_KEY"])
        payload = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    if via == "curl":
        return [CURL, "-sS", "-N", url, "-H", "content-type: application/json", "-H", "%s: %s" % auth,
                "-H", "anthropic-version: 2023-06-01", "-d", json.dumps(payload)]
    script = ("import sys, requests\n"
              "r = requests.post(sys.argv[1], data=sys.argv[2], stream=True, timeout=20, headers={\n"
              "    'content-type': 'application/json', sys.argv[3]: sys.argv[4], 'anthropic-version': '2023-06-01'})\n"
              "print(r.text)\n")
    return [PY, "-c", script, url, json.dumps(payload), *auth]


def _stream_text(out):
    """The text of a stream in any dialect, its events' pieces joined."""
    text = ""
    for line in out.splitlines():
        if not line.startswith("data: {"):
            continue
        j = json.loads(line[6:])
        delta = ((j.get("choices") or [{}])[0].get("delta") or {}) if "choices" in j else j.get("delta") or {}
        c = delta.get("content") if "choices" in j else delta.get("text")
        if isinstance(c, list):   # (content as chunks: the text ones)
            c = "".join(k.get("text", "") for k in c if k.get("type") == "text")
        text += c if isinstance(c, str) else ""
        for cand in j.get("candidates") or []:
            text += "".join(p.get("text", "") for p in (cand.get("content") or {}).get("parts") or [])
    return text


def test_an_error_that_is_null_is_no_error_event():
    """Some OpenAI-compatible servers write "error": null in every stream
    chunk: no error, neither before the answer began (no fallback) nor after
    it (the attempt is ok, not counted against the provider), and a member's
    stream that has it translates into another dialect."""
    m = mock()
    for dialect, via in (("openai", "curl"), ("openai", "relay"), ("gemini", "curl")):
        m.reset_all()
        m.set(primary_for(dialect), behaviour="stream_null_error")
        log = new_log("nullerr.log")
        r = run(_stream_argv(m, dialect, via), env_for(config(m), log))
        out = r.stdout.decode()
        steps = [(l["provider"], l["outcome"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"]
        eq(steps, [(dialect, "ok", "ok")], f"{dialect} ({via}): the stream is the answer")
        check(f"Hello from {primary_for(dialect)}" in _stream_text(out) and '"error": null' in out,
              f"{dialect} ({via}): the program got the primary's stream ({out[-200:]!r})")
        eq(len(m.requests("backup")), 0, f"{dialect} ({via}): no member asked")
    # a member's stream with it, translated for an Anthropic program
    m.reset_all()
    m.set("claude", behaviour="503")
    m.set("backup", behaviour="stream_null_error")
    log = new_log("nullerr.log")
    r = run(_stream_argv(m, "anthropic"), env_for(config(m), log))
    out = r.stdout.decode()
    eq(r.returncode, 0, f"translated: the transfer completes ({r.stderr.decode()[-200:]})")
    check("Hello from backup" in _stream_text(out) and "event: message_stop" in out, f"translated: whole ({out[-200:]!r})")
    steps = [(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt"]
    eq(steps, [("anthropic", "http_error"), ("backup", "ok")], "translated: the member's attempt is ok")


def test_a_raw_tab_after_a_translated_stream_went_live_is_mended():
    """A member's stream whose late event (after the gate let it go live)
    holds a raw tab in its text: too late to judge or fall back, so the
    translation takes it as cJSON always did and prints it escaped: the
    program gets the whole stream as valid JSON (not a transfer cut short
    at that event, curl's exit 18)."""
    m = mock()
    for program, member, entry in (("anthropic", "backup", "backup/gpt-4o-mini"),
                                   ("openai", "claude", "anthropic/claude-haiku-4-5"),
                                   ("anthropic", "gem", "gemini/gemini-2.5-flash"),
                                   ("gemini", "backup", "backup/gpt-4o-mini")):
        m.reset_all()
        m.set(primary_for(program), behaviour="503")
        m.set(member, behaviour="stream_late_raw_tab")
        log = new_log("latetab.log")
        r = run(_stream_argv(m, program), env_for(config(m, (entry,)), log))
        out, what = r.stdout.decode(), f"{program} program, {member} member"
        eq(r.returncode, 0, f"{what}: the transfer completes ({r.stderr.decode()[-200:]})")
        try:
            text = _stream_text(out)
        except ValueError as e:
            text = f"not JSON: {e}"
        check(text.startswith(f"Hello from {member}") and text.endswith("\tthe end"),
              f"{what}: the text, its tab escaped ({text!r})")
        end = {"openai": "data: [DONE]", "anthropic": "event: message_stop", "gemini": '"finishReason"'}[program]
        check(end in out, f"{what}: its dialect's end of stream ({out[-200:]!r})")
        steps = [(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt"]
        eq(steps[1:], [(entry.split("/")[0], "ok")], f"{what}: the member's attempt is ok")


def test_a_refusal_stream_without_text_falls_back():
    """A stream whose only word is a refusing stop reason (Anthropic's
    stop_reason "refusal", OpenAI's content_filter, Gemini's SAFETY) falls
    back by default, not held for refusals: it is the whole answer, and no
    answer begun (an empty one with refusal checks off). With no member to
    answer, the program gets the original whole."""
    m = mock()
    for dialect in ("openai", "anthropic", "gemini"):
        for via in ("curl", "relay"):
            for refusal, want in ((True, ("refusal", {"anthropic": "refusal"}.get(dialect, "content_filter"))),
                                  (False, ("empty", "empty_stream"))):
                m.reset_all()
                m.set(primary_for(dialect), behaviour="stream_refusal_silent")
                m.set("backup", behaviour="ok")
                log = new_log("silent.log")
                r = run(_stream_argv(m, dialect, via), env_for(config(m, verdict={"refusal": refusal}), log))
                first = [l for l in read_log(log) if l["event"] == "attempt"][0]
                eq((first["outcome"], first["reason"]), want, f"{dialect} ({via}, refusal {refusal}): why")
                check("Hello from backup" in _stream_text(r.stdout.decode()),
                      f"{dialect} ({via}, refusal {refusal}): the backup's stream ({r.stdout.decode()[-200:]!r})")
        # the original, when nothing replaces it: whole, as the provider sent it
        m.reset_all()
        m.set(primary_for(dialect), behaviour="stream_refusal_silent")
        m.set("backup", behaviour="503")
        for via in ("curl", "relay"):
            r = run(_stream_argv(m, dialect, via), env_for(config(m)))
            out = r.stdout.decode()
            end = {"openai": "data: [DONE]", "anthropic": "message_stop", "gemini": "SAFETY"}[dialect]
            eq(r.returncode, 0, f"{dialect} ({via}): the original's transfer completes ({r.stderr.decode()[-200:]})")
            check(out.rstrip().endswith("}") or out.rstrip().endswith("[DONE]"), f"{dialect} ({via}): ends cleanly")
            check(end in out, f"{dialect} ({via}): the original, whole ({out[-200:]!r})")


def test_an_openai_stream_that_refuses_falls_back_unheld():
    """OpenAI's structured refusal, streamed (delta.refusal in place of
    content, then finish_reason "stop"), says so in its first event: it
    falls back by default, not held for refusals, as a whole answer's
    refusal does; with refusal checks off it is the answer."""
    m = mock()
    for via in ("curl", "relay"):
        for refusal, want in ((True, [("openai", "refusal", "refusal"), ("backup", "ok", "ok")]),
                              (False, [("openai", "ok", "ok")])):
            m.reset_all()
            m.set("oai", behaviour="stream_structured_refusal")
            log = new_log("orefusal.log")
            r = run(_stream_argv(m, "openai", via), env_for(config(m, verdict={"refusal": refusal}), log))
            steps = [(l["provider"], l["outcome"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"]
            eq(steps, want, f"{via}, refusal {refusal}: the attempts")
            out = r.stdout.decode()
            if refusal:
                check("Hello from backup" in _stream_text(out) and "sorry" not in out,
                      f"{via}: the backup's stream, not the refusal ({out[-200:]!r})")
            else:
                check("I'm sorry, I cannot" in out and "data: [DONE]" in out, f"{via}: the refusal, whole ({out[-200:]!r})")


def test_a_stream_of_content_chunks_is_read_for_its_text():
    """Mistral's Magistral streams content deltas as arrays of chunks (its
    thinking, then text): held for refusals, the text chunks' text is the
    answer's (not an empty stream); translated for an Anthropic or Gemini
    program, that text reaches it and the thinking does not."""
    m = mock()
    m.set("oai", behaviour="stream_content_chunks")
    log = new_log("chunks.log")
    r = run(_stream_argv(m, "openai"), env_for(config(m, verdict={"stream_refusal": True}), log))
    steps = [(l["provider"], l["outcome"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"]
    eq(steps, [("openai", "ok", "ok")], "held: the primary's answer")
    check(_stream_text(r.stdout.decode()).startswith("Hello from oai"),
          f"held: the program got it ({r.stdout.decode()[-200:]!r})")
    for dialect in ("anthropic", "gemini"):
        m.reset_all()
        m.set(primary_for(dialect), behaviour="503")
        m.set("backup", behaviour="stream_content_chunks")
        log = new_log("chunks.log")
        r = run(_stream_argv(m, dialect), env_for(config(m), log))
        out = r.stdout.decode()
        eq(r.returncode, 0, f"{dialect}: the transfer completes")
        check(_stream_text(out).startswith("Hello from backup") and "THINKING" not in out,
              f"{dialect}: the text chunks' text, not the thinking ({out[-300:]!r})")
