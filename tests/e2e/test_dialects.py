"""Fallback across dialects with /usr/bin/curl: an OpenAI-dialect call answered
by the Anthropic and the Gemini mocks, an Anthropic-dialect call and a
Gemini-dialect call answered by the OpenAI mock, a tool-call round trip, and
context windows. The program's output must parse in its own dialect."""
import atexit
import base64
import json
import os

from harness import BUILD, CURL, KEYS, PY, Mock, check, env_for, eq, new_log, read_log, run, sha, write_config

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
        _m.set(n, behaviour="ok", retry_after=None, delay_ms=0)
    return _m


def config(m, chain, **extra):
    cfg = {"providers": {
        "openai": {"base_url": m.base("oai")},
        "backup": {"dialect": "openai", "base_url": m.base("backup"), "api_key_env": "BACKUP_KEY"},
        "anthropic": {"base_url": m.base("claude")},
        "gemini": {"base_url": m.base("gem", "/v1beta")}},
        "chain": list(chain), "timeouts_ms": {"connect": 2000, "first_byte": 3000, "total": 5000}}
    cfg.update(extra)
    return write_config(cfg, "dialects.json")


def openai_call(m, body, *args):
    # through a file: one argument may not exceed 128 KiB on Linux
    path = write_config(json.dumps(body), "openai_call_body.json")   # (text: no config defaults added)
    return [CURL, "-sS", m.base("oai") + "/chat/completions",
            "-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}", "-H", "Content-Type: application/json",
            "--data-binary", "@" + path] + list(args)


def anthropic_call(m, body):
    return [CURL, "-sS", m.base("claude") + "/messages", "-H", f"x-api-key: {KEYS['ANTHROPIC_API_KEY']}",
            "-H", "anthropic-version: 2023-06-01", "-H", "content-type: application/json", "-d", json.dumps(body)]


def gemini_call(m, body, model="gemini-2.5-pro"):
    return [CURL, "-sS", m.base("gem", "/v1beta") + f"/models/{model}:generateContent",
            "-H", f"x-goog-api-key: {KEYS['GEMINI_API_KEY']}", "-H", "content-type: application/json",
            "-d", json.dumps(body)]


def chat(model="gpt-4o", text="hello", system="Be brief", **kw):
    msgs = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": text}]
    return dict({"model": model, "messages": msgs}, **kw)


def only_own_keys(m):
    own = {"oai": "OPENAI_API_KEY", "backup": "BACKUP_KEY", "claude": "ANTHROPIC_API_KEY", "gem": "GEMINI_API_KEY"}
    for name in m.servers:
        for r in m.requests(name):
            blob = json.dumps(r["headers"]) + r["path"] + str(r["query"]) + r["body"]
            for var, key in KEYS.items():
                if var != own[name]:
                    check(key not in blob, f"{name} received {var}")


def test_openai_call_answered_by_anthropic():
    m = mock()
    m.set("oai", behaviour="503")
    r = run(openai_call(m, chat(temperature=0.3, top_p=0.9, stop=["END"])),
            env_for(config(m, ["anthropic/claude-haiku-4-5"])))
    out = json.loads(r.stdout)
    eq(out["object"], "chat.completion", "OpenAI-shaped answer")
    msg = out["choices"][0]["message"]
    eq(msg["content"], "Hello from claude (claude-haiku-4-5) [system:Be brief]", "content, system prompt carried")
    eq(out["choices"][0]["finish_reason"], "stop", "finish_reason")
    check(out["usage"]["total_tokens"] == out["usage"]["prompt_tokens"] + out["usage"]["completion_tokens"], "usage")
    req = m.requests("claude")[0]
    body = json.loads(req["body"])
    eq(body["system"], "Be brief", "Anthropic top-level system")
    eq([x["role"] for x in body["messages"]], ["user"], "roles")
    check(isinstance(body.get("max_tokens"), int) and body["max_tokens"] > 0, "max_tokens supplied")
    eq(body.get("stop_sequences"), ["END"], "stop → stop_sequences")
    eq((body.get("temperature"), "top_p" in body), (0.3, False), "temperature kept, top_p not sent with it")
    eq(req["headers"].get("anthropic-version"), "2023-06-01", "anthropic-version")
    eq(req["credential"], KEYS["ANTHROPIC_API_KEY"], "its own key")
    check("authorization" not in req["headers"], "no Bearer header to Anthropic")
    only_own_keys(m)
    # a Claude without sampling settings gets none
    m.reset("claude")
    r = run(openai_call(m, chat(temperature=0.3, top_p=0.9)), env_for(config(m, ["anthropic/claude-opus-4-8"])))
    eq(json.loads(r.stdout)["choices"][0]["message"]["content"], "Hello from claude (claude-opus-4-8) [system:Be brief]",
       "answered by Claude Opus 4.8")
    body = json.loads(m.requests("claude")[0]["body"])
    eq(("temperature" in body, "top_p" in body), (False, False), "no temperature or top_p to Claude Opus 4.8")


def test_stop_sequences_for_a_reasoning_model():
    """gpt-5-mini refuses stop: a call with stop sequences falls back to it
    without them, and gets its answer cut where the first one begins, as a
    model that took them would have stopped (finish_reason stop); from an
    Anthropic program too. A stream, which cannot be cut afterwards, keeps
    them and goes on to the next member when they are refused."""
    m = mock()
    m.set("oai", behaviour="503")
    out = json.loads(run(openai_call(m, chat(system=None, stop=[" (", " from"])),
                         env_for(config(m, ["backup/gpt-5-mini"]))).stdout)
    eq((out["choices"][0]["message"]["content"], out["choices"][0]["finish_reason"]), ("Hello", "stop"),
       "cut at the first stop sequence")
    check("stop" not in json.loads(m.requests("backup")[0]["body"]), "gpt-5-mini was not sent stop")

    m.reset("backup")
    m.set("claude", behaviour="529")
    body = {"model": "claude-sonnet-4-5", "max_tokens": 100, "stop_sequences": [" from"],
            "messages": [{"role": "user", "content": "hi"}]}
    out = json.loads(run(anthropic_call(m, body), env_for(config(m, ["backup/gpt-5-mini"]))).stdout)
    eq(out.get("content"), [{"type": "text", "text": "Hello"}], "an Anthropic program's answer, cut")
    eq((out.get("stop_reason"), out.get("stop_sequence")), ("stop_sequence", " from"),
       "stopped at its stop sequence, as Claude says it")

    m.reset("backup")
    r = run(openai_call(m, chat(system=None, stop=[" from"], stream=True), "-N"),
            env_for(config(m, ["backup/gpt-5-mini", "backup/gpt-4o-mini"])))
    check("Hello" in r.stdout.decode() and "gpt-4o-mini" in r.stdout.decode(), "the stream came from gpt-4o-mini")
    eq([(json.loads(q["body"])["model"], "stop" in json.loads(q["body"])) for q in m.requests("backup")],
       [("gpt-5-mini", True), ("gpt-4o-mini", True)], "the stream kept stop, refused by gpt-5-mini")


WEATHER = [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                             "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                            "required": ["city"]}}}]


def test_a_forced_call_is_tool_use_for_an_anthropic_program():
    """OpenAI ends a call it was made to make (tool_choice naming the
    function) with finish_reason "stop": an Anthropic program, which runs
    its tools on stop_reason "tool_use", gets that, whole and streamed."""
    m = mock()
    m.set("claude", behaviour="529")
    body = {"model": "claude-sonnet-4-5", "max_tokens": 200, "tool_choice": {"type": "tool", "name": "get_weather"},
            "tools": [{"name": "get_weather", "input_schema": WEATHER[0]["function"]["parameters"]}],
            "messages": [{"role": "user", "content": "Weather in Paris? [call:get_weather]"}]}
    cfg = env_for(config(m, ["backup/gpt-4o-mini"]))
    out = json.loads(run(anthropic_call(m, body), cfg).stdout)
    eq(json.loads(m.requests("backup")[0]["body"])["tool_choice"], {"type": "function", "function": {"name": "get_weather"}},
       "the member was made to call it")
    eq(([b["type"] for b in out["content"]], out["stop_reason"]), (["tool_use"], "tool_use"), "whole: tool_use")
    r = run(anthropic_call(m, dict(body, stream=True)) + ["-N"], cfg)
    eq(stream_tool_call("anthropic", r.stdout.decode()), ("get_weather", {"city": "Paris"}, "tool_use"),
       "streamed: tool_use")


def test_tool_calls_without_ids_reach_claude_each_with_its_own():
    """A history whose calls have "id": "" (Gemini's OpenAI-compatible
    endpoint gives them so): each call its own id for Claude, which refuses
    a repeated one, and each result the id of the call it answers by
    position."""
    m = mock()
    m.set("oai", behaviour="503")
    body = {"model": "gemini-2.5-pro", "tools": WEATHER, "messages": [
        {"role": "user", "content": "weather in Paris and Rome?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
            {"id": "", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'}}]},
        {"role": "tool", "tool_call_id": "", "content": "Paris: 20C"},
        {"role": "tool", "tool_call_id": "", "content": "Rome: 25C"}]}
    out = json.loads(run(openai_call(m, body), env_for(config(m, ["anthropic/claude-sonnet-4-5"]))).stdout)
    eq(out["choices"][0]["message"]["content"], "claude (claude-sonnet-4-5) got the tool result: Rome: 25C",
       "Claude answered")
    sent = json.loads(m.requests("claude")[0]["body"])["messages"]
    uses = [(b["id"], b["input"]["city"]) for b in sent[1]["content"]]
    results = [(b["tool_use_id"], b["content"]) for b in sent[2]["content"]]
    check(uses[0][0] != uses[1][0], "two ids")
    eq(results, [(uses[0][0], "Paris: 20C"), (uses[1][0], "Rome: 25C")], "each result answers its call")


def test_what_claude_alone_refuses_of_an_openai_program_is_sent_as_it_takes_it():
    """An OpenAI program's tool without a schema type (an MCP server's {}),
    a blank tool result (a command's empty output) and an image Claude does
    not take (HEIC, which Gemini takes): Claude answers the first two, sent
    an object schema and no content (it refused them with a 400), and is
    skipped for the third, the next member answering."""
    m = mock()
    m.set("oai", behaviour="503")
    tools = [{"type": "function", "function": {"name": "sh", "parameters": {}}},
             {"type": "function", "function": {"name": "ls", "parameters": {"properties": {"d": {"type": "string"}}}}}]
    body = {"model": "gpt-4o", "tools": tools, "messages": [
        {"role": "user", "content": "clean up"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "sh", "arguments": '{}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "\n"}]}
    log = new_log("claude_takes.log")
    out = json.loads(run(openai_call(m, body), env_for(config(m, ["anthropic/claude-sonnet-4-5"]), log)).stdout)
    steps = [(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt"]
    eq(steps, [("openai", "http_error"), ("anthropic", "ok")], "Claude answered")
    check(out["choices"][0]["message"]["content"].startswith("Hello from claude"), f"its answer ({out})")
    sent = json.loads(m.requests("claude")[0]["body"])
    eq([t["input_schema"].get("type") for t in sent["tools"]], ["object", "object"], "schemas with their type")
    eq([b.get("content", "none") for b in sent["messages"][2]["content"]], ["none"], "the blank result without content")
    heic = {"model": "gpt-4o", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "what is it"},
        {"type": "image_url", "image_url": {"url": "data:image/heic;base64,AAAAGGZ0eXBoZWljAAAAAG1pZjE="}}]}]}
    m.reset_all()
    m.set("oai", behaviour="503")
    log = new_log("claude_takes.log")
    out = json.loads(run(openai_call(m, heic),
                         env_for(config(m, ["anthropic/claude-sonnet-4-5", "backup/gpt-4o-mini"]), log)).stdout)
    steps = [(l["provider"], l.get("reason")) for l in read_log(log) if l["event"] == "attempt"]
    eq(steps, [("openai", "overloaded"), ("anthropic", "incompatible"), ("backup", "ok")],
       "Claude skipped as incompatible, the next member asked")
    check(out["choices"][0]["message"]["content"].startswith("Hello from backup"), f"its answer ({out})")
    eq(m.requests("claude"), [], "Claude never sent the image")


# a small PDF of one page: its bytes reach every member as its dialect takes them
PDF_BYTES = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>"
             b"endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def answer_text(dialect, out):
    if dialect == "openai":
        return out["choices"][0]["message"]["content"]
    if dialect == "anthropic":
        return out["content"][0]["text"]
    return out["candidates"][0]["content"]["parts"][0]["text"]


def test_a_pdf_reaches_a_member_of_every_other_dialect():
    """A program's PDF given inline (an OpenAI file part, an Anthropic
    document, a Gemini inlineData) reaches each member of another dialect
    as it takes one: the mock member answers with the size and digest of
    the PDF it read, and refuses (a 400) any form it does not take. A PDF
    only its own provider can read (OpenAI's file_id) skips the others."""
    b64 = base64.b64encode(PDF_BYTES).decode()
    read = f"[pdf:{len(PDF_BYTES)}:{sha(PDF_BYTES)[:12]}]"
    programs = {
        "openai": lambda m: openai_call(m, {"model": "gpt-4o", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "sum it up"},
            {"type": "file", "file": {"filename": "q3.pdf", "file_data": "data:application/pdf;base64," + b64}}]}]}),
        "anthropic": lambda m: anthropic_call(m, {"model": "claude-sonnet-4-5", "max_tokens": 200, "messages": [
            {"role": "user", "content": [
                {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": b64},
                 "title": "Q3 report", "citations": {"enabled": True}},
                {"type": "text", "text": "sum it up"}]}]}),
        "gemini": lambda m: gemini_call(m, {"contents": [{"role": "user", "parts": [
            {"text": "sum it up"}, {"inlineData": {"mimeType": "application/pdf", "data": b64}}]}]}),
    }
    own = {"openai": "oai", "anthropic": "claude", "gemini": "gem"}
    members = {"openai": ("backup/gpt-4o-mini", "backup"), "anthropic": ("anthropic/claude-sonnet-4-5", "claude"),
               "gemini": ("gemini/gemini-2.5-flash", "gem")}
    for program, argv in programs.items():
        for member, (entry, server) in members.items():
            if member == program:
                continue
            m = mock()
            m.set(own[program], behaviour="503")
            log = new_log("pdf.log")
            r = run(argv(m), env_for(config(m, [entry]), log))
            steps = [(l["provider"], l["outcome"]) for l in read_log(log) if l["event"] == "attempt"]
            eq(steps[-1], (entry.split("/")[0], "ok"), f"{program} program, {member} member: answered")
            text = answer_text(program, json.loads(r.stdout))
            check(text.startswith(f"Hello from {server}") and read in text,
                  f"{program} program, {member} member read the PDF whole ({text})")
    # OpenAI's own file, by its id: no other provider can read it
    m = mock()
    m.set("oai", behaviour="503")
    log = new_log("pdf.log")
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "sum it up"}, {"type": "file", "file": {"file_id": "file-abc123"}}]}]}
    out = json.loads(run(openai_call(m, body), env_for(config(m, ["anthropic/claude-sonnet-4-5",
                                                                    "backup/gpt-4o-mini"]), log)).stdout)
    steps = [(l["provider"], l.get("reason")) for l in read_log(log) if l["event"] == "attempt"]
    eq(steps, [("openai", "overloaded"), ("anthropic", "incompatible"), ("backup", "ok")],
       "Claude skipped, the member of the program's dialect asked")
    check(out["choices"][0]["message"]["content"].startswith("Hello from backup"), f"its answer ({out})")
    eq(m.requests("claude"), [], "Claude never sent it")


def test_a_gemini_programs_text_file_reaches_other_dialects_as_its_text():
    """A Gemini program's text file given inline (text/plain here) is its
    text to a member of another dialect, which reads it (the mock answers
    with the rid the file holds); one whose bytes are not UTF-8 text skips
    the member as other media do."""
    note = "meeting notes, [rid:textfile] café".encode()
    for data, steps in ((base64.b64encode(note).decode(), [("gemini", "overloaded"), ("anthropic", "ok")]),
                        ("//7/", [("gemini", "overloaded"), ("anthropic", "incompatible")])):
        m = mock()
        m.set("gem", behaviour="503")
        log = new_log("textfile.log")
        body = {"contents": [{"role": "user", "parts": [
            {"text": "sum it up"}, {"inlineData": {"mimeType": "text/plain", "data": data}}]}]}
        out = run(gemini_call(m, body), env_for(config(m, ["anthropic/claude-sonnet-4-5"]), log)).stdout.decode()
        eq([(l["provider"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"], steps, "who was asked")
        if steps[-1][1] == "ok":
            text = answer_text("gemini", json.loads(out))
            check("[rid:textfile]" in text, f"Claude read the file ({text})")
            sent = json.loads(m.requests("claude")[0]["body"])["messages"][0]["content"]
            eq([b.get("text") for b in sent], ["sum it up", note.decode()], "the file as its text")


def test_a_scanned_pdf_counts_its_pages_against_a_window():
    """A PDF of two scanned pages (some 700 KB of image bytes) counts two
    pages' tokens against a member's window, not its bytes (which at four
    to a token would pass Claude's 200k): Claude is sent it and reads it."""
    pages = (b"%PDF-1.4\n1 0 obj<</Type /Pages /Kids[2 0 R 3 0 R]/Count 2>>endobj\n"
             b"2 0 obj<</Type /Page /Parent 1 0 R /Contents 4 0 R>>endobj\n"
             b"3 0 obj<</Type /Page /Parent 1 0 R /Contents 4 0 R>>endobj\n"
             b"4 0 obj<</Length 716800 /Filter /DCTDecode>>stream\n")
    pdf = pages + bytes(range(256)) * 2800 + b"\nendstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    b64 = base64.b64encode(pdf).decode()
    check(len(b64) / 4 > 200000, "its bytes alone would not fit Claude's window")
    m = mock()
    m.set("oai", behaviour="503")
    log = new_log("pdf_pages.log")
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "what does it say?"},
        {"type": "file", "file": {"filename": "scan.pdf", "file_data": "data:application/pdf;base64," + b64}}]}]}
    out = json.loads(run(openai_call(m, body), env_for(config(m, ["anthropic/claude-sonnet-4-5"]), log)).stdout)
    eq([(l["provider"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"],
       [("openai", "overloaded"), ("anthropic", "ok")], "Claude asked, not skipped for its window")
    text = out["choices"][0]["message"]["content"]
    check(f"[pdf:{len(pdf)}:{sha(pdf)[:12]}]" in text, f"Claude read it whole ({text})")


def test_a_thinking_conversation_whose_last_call_another_dialect_made_goes_on():
    """An Anthropic program thinking in a tool loop, whose last turn a member
    of another dialect answered (a call with no thinking before it, which
    Claude's signature cannot be made up for): Claude refuses the next
    request with a 400 (thinking_history), which falls back, not counted
    against its health; a Claude member is sent it without thinking, a
    member of another dialect as it translates it. A turn that thought
    first goes to Claude as before."""
    def conversation(first):
        return {"model": "claude-sonnet-4-5", "max_tokens": 4000,
                "thinking": {"type": "enabled", "budget_tokens": 2000},
                "tools": [{"name": "get_weather", "input_schema": {"type": "object", "properties": {
                    "city": {"type": "string"}}}}],
                "messages": [{"role": "user", "content": "weather in Paris?"},
                             {"role": "assistant", "content": first + [
                                 {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}]},
                             {"role": "user", "content": [
                                 {"type": "tool_result", "tool_use_id": "call_1", "content": "20C"}]}]}
    m = mock()
    for chain, member in ((["anthropic/claude-haiku-4-5"], ("anthropic", "claude")),
                          (["backup/gpt-4o-mini"], ("backup", "backup"))):
        m.reset_all()
        log = new_log("thought.log")
        out = json.loads(run(anthropic_call(m, conversation([])),
                             env_for(config(m, chain, breaker={"failures": 1}), log)).stdout)
        steps = [(l["provider"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"]
        eq(steps, [("anthropic", "thinking_history"), (member[0], "ok")], f"{chain}: fallen back")
        check(out.get("type") == "message" and out["content"], f"{chain}: an answer ({out})")
        if member[0] == "anthropic":
            sent = json.loads(m.requests("claude")[-1]["body"])
            check("thinking" not in sent and sent["model"] == "claude-haiku-4-5", "the member's, without thinking")
        # the breaker (one failure opens it) heard nothing: the next, thought first, goes to Claude
        log = new_log("thought.log")
        thought = [{"type": "thinking", "thinking": "Look it up.", "signature": "c2ln"}]
        out = json.loads(run(anthropic_call(m, conversation(thought)),
                             env_for(config(m, chain, breaker={"failures": 1}), log)).stdout)
        steps = [(l["provider"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"]
        eq(steps, [("anthropic", "ok")], f"{chain}: a turn that thought first, Claude's")


def test_what_an_openai_member_alone_refuses_is_sent_as_it_takes_it():
    """An Anthropic program's long metadata.user_id (Claude Code's, some 155
    characters) reaches an OpenAI member as 32 hex digits of it (OpenAI
    refuses a user over 64); a history's tool call id over OpenAI's 40
    characters (vLLM's, 46) is shortened alike in the call and its result,
    and to a Mistral model (which takes 9 letters and digits alone) made
    9 hex digits; a DeepSeek member gets a developer message as a system
    one and a content of text parts as one string (it refuses both). Each
    was a 400."""
    m = mock()
    uid = ("user_" + "ab" * 32 + "_account_11111111-2222-3333-4444-555555555555_session_"
           "66666666-7777-8888-9999-000000000000")
    m.set("claude", behaviour="529")
    log = new_log("openai_takes.log")
    body = {"model": "claude-sonnet-4-5", "max_tokens": 100, "metadata": {"user_id": uid},
            "messages": [{"role": "user", "content": "hi"}]}
    out = json.loads(run(anthropic_call(m, body), env_for(config(m, ["backup/gpt-4o-mini"]), log)).stdout)
    eq([(l["provider"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"],
       [("anthropic", "overloaded"), ("backup", "ok")], "the long user: the member answered")
    user = json.loads(m.requests("backup")[0]["body"]).get("user")
    check(isinstance(user, str) and len(user) == 32 and uid not in json.dumps(m.requests("backup")),
          f"sent as 32 hex digits ({user!r})")
    # an OpenAI program of a vLLM-served model, whose history has vLLM's ids
    long_id = "chatcmpl-tool-0123456789abcdef0123456789abcdef"
    body = {"model": "meta-llama/Llama-3.3-70B-Instruct", "messages": [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "weather"}, {"type": "text", "text": "in Paris?"}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": long_id, "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]},
        {"role": "tool", "tool_call_id": long_id, "content": "20C"}], "tools": WEATHER}
    for member in ("gpt-4o-mini", "deepseek-chat", "mistral-large-latest"):
        m.reset_all()
        m.set("oai", behaviour="503")
        log = new_log("openai_takes.log")
        out = json.loads(run(openai_call(m, body), env_for(config(m, [f"backup/{member}"]), log)).stdout)
        eq([(l["provider"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"],
           [("openai", "overloaded"), ("backup", "ok")], f"{member}: the member answered ({out})")
        sent = json.loads(m.requests("backup")[0]["body"])["messages"]
        ids = (sent[2]["tool_calls"][0]["id"], sent[3]["tool_call_id"])
        check(ids[0] == ids[1] and len(ids[0]) <= 40, f"{member}: the id shortened alike ({ids})")
        if member.startswith("mistral"):   # (Mistral's: 9 letters and digits)
            check(len(ids[0]) == 9 and ids[0].isalnum(), f"Mistral's form of the id ({ids})")
            eq((sent[0]["role"], sent[1]["content"]), ("system", body["messages"][1]["content"]), "Mistral's forms")
        elif member == "deepseek-chat":
            eq((sent[0]["role"], sent[1]["content"]), ("system", "weather\nin Paris?"), "DeepSeek's forms")
        else:
            eq((sent[0]["role"], sent[1]["content"]), ("developer", body["messages"][1]["content"]),
               "OpenAI's own forms kept")


def test_an_assistant_turn_that_ends_what_claude_is_sent_is_a_prefill():
    """A system message after the assistant's turn goes to Claude's system
    prompt, and an empty user turn is left out: what Claude would be sent
    ends with the assistant's turn, which it would continue where OpenAI
    answers after it. It is refused as such a conversation is."""
    m = mock()
    m.set("oai", behaviour="503")
    for tail in ({"role": "system", "content": "Now summarize the conversation in one word."},
                 {"role": "user", "content": ""}):
        m.reset_all()
        log = new_log("prefill.log")
        body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Tell me about Paris."},
                                                {"role": "assistant", "content": "Paris is the capital of France."}, tail]}
        out = json.loads(run(openai_call(m, body),
                             env_for(config(m, ["anthropic/claude-sonnet-4-5", "backup/gpt-4o-mini"]), log)).stdout)
        check(out["choices"][0]["message"]["content"].startswith("Hello from backup"), f"backup answered ({tail['role']})")
        eq(len(m.requests("claude")), 0, "Claude was not sent it")
        skips = [(l["provider"], l["reason"], "assistant turn" in l.get("detail", ""))
                 for l in read_log(log) if l.get("outcome") == "skipped"]
        eq(skips, [("anthropic", "incompatible", True)], "skipped as a prefill")


def test_blank_stop_sequences_and_text_for_claude():
    """Claude refuses stop sequences and text blocks of white space only
    (400): a blank text block is not sent, and a blank stop sequence is
    not sent either, the answer cut where it begins; a stream, which
    cannot be cut, goes to the next member."""
    m = mock()
    m.set("oai", behaviour="503")
    cfg = env_for(config(m, ["anthropic/claude-sonnet-4-5", "backup/gpt-4o-mini"]))
    out = json.loads(run(openai_call(m, chat(system=None, stop=[" ", "END"])), cfg).stdout)
    eq((out["choices"][0]["message"]["content"], out["choices"][0]["finish_reason"]), ("Hello", "stop"),
       "Claude's answer, cut at the blank stop sequence")
    eq(json.loads(m.requests("claude")[0]["body"]).get("stop_sequences"), ["END"], "only the others sent")
    m.reset_all()
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say something"},
                                            {"role": "assistant", "content": "\n\n"},
                                            {"role": "user", "content": [{"type": "text", "text": "Try again"},
                                                                         {"type": "text", "text": " "}]}]}
    out = json.loads(run(openai_call(m, body), cfg).stdout)
    check(out["choices"][0]["message"]["content"].startswith("Hello from claude"), "Claude answered")
    eq(json.loads(m.requests("claude")[0]["body"])["messages"],
       [{"role": "user", "content": [{"type": "text", "text": "Say something"}, {"type": "text", "text": "Try again"}]}],
       "the blank text left out")
    m.reset_all()
    r = run(openai_call(m, chat(system=None, stop=["\n"], stream=True), "-N"), cfg)
    check("gpt-4o-mini" in r.stdout.decode(), "the stream came from the next member")
    eq(len(m.requests("claude")), 0, "Claude was not sent it")


def test_big_numbers_in_tool_arguments_are_kept_across_dialects():
    """A call's arguments with an id beyond 2^53 keep it as written between
    OpenAI's JSON text and Anthropic's input object, whole and streamed."""
    m = mock()
    m.set("claude", behaviour="529")
    body = {"model": "claude-sonnet-4-5", "max_tokens": 200,
            "tools": [{"name": "send_big", "input_schema": {"type": "object"}}],
            "messages": [{"role": "user", "content": "Send it [call:send_big]"}]}
    cfg = env_for(config(m, ["backup/gpt-4o-mini"]))
    out = json.loads(run(anthropic_call(m, body), cfg).stdout)   # (Python's json reads the int exactly)
    eq(out["content"][0]["input"], {"channel_id": 1234567890123456789}, "the id as written, whole")
    r = run(anthropic_call(m, dict(body, stream=True)) + ["-N"], cfg)
    eq(stream_tool_call("anthropic", r.stdout.decode())[1], {"channel_id": 1234567890123456789},
       "the id as written, streamed")
    m.set("claude", behaviour="ok")
    m.set("oai", behaviour="503")
    cfg = env_for(config(m, ["anthropic/claude-sonnet-4-5"]))
    out = json.loads(run(openai_call(m, chat(system=None, text="Send it [call:send_big]", tools=[
        {"type": "function", "function": {"name": "send_big", "parameters": {"type": "object"}}}])), cfg).stdout)
    args = out["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
    check("1234567890123456789" in args, f"the id as written for the OpenAI program: {args}")


def test_openai_call_answered_by_gemini():
    m = mock()
    m.set("oai", behaviour="500")
    # penalties, which Gemini 2.5 refuses, are not sent
    r = run(openai_call(m, chat(max_tokens=50, presence_penalty=0.5, frequency_penalty=0.2), "-i"),
            env_for(config(m, ["gemini/gemini-2.5-flash"])))
    head, _, body = r.stdout.decode().partition("\r\n\r\n")
    check("x-llmfallback-provider: gemini" in head, "provider header")
    check(f"content-length: {len(body)}" in head, "content-length of the translated body")
    out = json.loads(body)
    eq(out["choices"][0]["message"]["content"], "Hello from gem (gemini-2.5-flash) [system:Be brief]", "content")
    req = m.requests("gem")[0]
    check(req["path"].endswith("/models/gemini-2.5-flash:generateContent"), f"model in the URL: {req['path']}")
    g = json.loads(req["body"])
    eq(g["systemInstruction"]["parts"][0]["text"], "Be brief", "systemInstruction")
    eq(g["contents"][0]["role"], "user", "role")
    # (and room for the thinking gemini-2.5-flash does unasked, which its limit counts)
    eq(g["generationConfig"], {"maxOutputTokens": 50 + 24576}, "max tokens, no penalties")
    eq(req["credential"], KEYS["GEMINI_API_KEY"], "its own key")
    only_own_keys(m)


# A program that set its locale (a German desktop tool: setlocale(LC_ALL,
# "")) reads and writes 0,7; the library reads and writes JSON's 0.7 all the
# same. Once, every fraction in such a program's request was refused (the
# call passed through unmanaged: the 503 reached it) and printed as 0,7.
COMMA_PROGRAM = """
import json, locale, os, sys, urllib.request, urllib.error
locale.setlocale(locale.LC_ALL, "de_DE.UTF-8")
assert locale.localeconv()["decimal_point"] == ","
body = {"model": "gpt-4o", "temperature": 0.7, "top_p": 0.25, "messages": [{"role": "user", "content": "hi"}]}
req = urllib.request.Request(sys.argv[1] + "/chat/completions", data=json.dumps(body).encode(), headers={
    "content-type": "application/json", "authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
try:
    with urllib.request.urlopen(req, timeout=30) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
"""


def test_a_program_in_a_comma_locale_is_managed():
    m = mock()
    m.set("oai", behaviour="503")
    locales = os.path.join(BUILD, "locale")
    check(os.path.isdir(os.path.join(locales, "de_DE.UTF-8")), f"no de_DE locale in {locales} (make builds it)")
    r = run([PY, "-c", COMMA_PROGRAM, m.base("oai")],
            env_for(config(m, ["gemini/gemini-2.5-flash"]), extra={"LOCPATH": locales}))
    status, _, body = r.stdout.decode().partition(" ")
    eq(status, "200", f"the program's answer: {r.stdout[:200]!r} {r.stderr[-300:]!r}")
    eq(json.loads(body)["choices"][0]["message"]["content"], "Hello from gem (gemini-2.5-flash)", "the answer")
    eq(json.loads(m.requests("gem")[0]["body"])["generationConfig"], {"temperature": 0.7, "topP": 0.25},
       "the member's numbers")


def test_anthropic_call_answered_by_openai():
    m = mock()
    m.set("claude", behaviour="529")
    body = {"model": "claude-opus-4-7", "max_tokens": 100, "system": "Answer in French",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}
    r = run(anthropic_call(m, body), env_for(config(m, ["backup/gpt-4o-mini"])))
    out = json.loads(r.stdout)
    eq((out["type"], out["role"], out["stop_reason"]), ("message", "assistant", "end_turn"), "Anthropic-shaped")
    eq(out["content"], [{"type": "text", "text": "Hello from backup (gpt-4o-mini) [system:Answer in French]"}], "content")
    check(out["usage"]["input_tokens"] > 0, "usage")
    o = json.loads(m.requests("backup")[0]["body"])
    eq(o["messages"][0], {"role": "system", "content": "Answer in French"}, "system message")
    eq(o["max_tokens"], 100, "max_tokens")
    check("anthropic-version" not in m.requests("backup")[0]["headers"], "no Anthropic headers to OpenAI")
    only_own_keys(m)


def test_anthropic_structured_output_is_judged_and_carried():
    """An Anthropic program's output_config.format: its own Claude's answer
    that does not fit the schema falls back, and the OpenAI member is asked
    for the same JSON schema."""
    m = mock()
    m.set("claude", behaviour="schema_mismatch")
    m.set("backup", behaviour="json_ok")
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
              "required": ["name"], "additionalProperties": False}
    body = {"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": "who?"}],
            "output_config": {"format": {"type": "json_schema", "schema": schema}}}
    out = json.loads(run(anthropic_call(m, body), env_for(config(m, ["backup/gpt-4o-mini"]))).stdout)
    eq(json.loads(out.get("content", [{}])[0].get("text", "null")), {"name": "backup", "age": 30},
       "answered by the member, with the JSON asked for")
    sent = json.loads(m.requests("backup")[0]["body"]) if m.requests("backup") else {}
    eq(sent.get("response_format"), {"type": "json_schema", "json_schema": {"name": "response", "schema": schema}},
       "the schema carried as response_format")


def test_anthropic_thinking_blocks_in_the_history():
    """Assistant thinking blocks in an Anthropic program's history: another
    Claude gets them untouched (its own dialect: the program's body), an
    OpenAI member gets the history without them."""
    m = mock()
    msgs = [{"role": "user", "content": "weather?"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Let me check.", "signature": "EqQBCkYIARgCIkB"},
                {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"},
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "rainy"}]}]
    tools = [{"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    body = {"model": "claude-opus-4-1", "max_tokens": 2000, "thinking": {"type": "enabled", "budget_tokens": 1024},
            "tools": tools, "messages": msgs}
    m.set("claude", behaviour=["529", "ok"])
    out = json.loads(run(anthropic_call(m, body), env_for(config(m, ["anthropic/claude-sonnet-4-5"]))).stdout)
    eq(out.get("content"), [{"type": "text", "text": "claude (claude-sonnet-4-5) got the tool result: rainy"}],
       "answered by Claude")
    eq(json.loads(m.requests("claude")[1]["body"])["messages"], msgs, "Claude got the thinking blocks untouched")
    m.reset("claude")
    m.set("claude", behaviour="529")
    out = json.loads(run(anthropic_call(m, body), env_for(config(m, ["backup/gpt-4o-mini"]))).stdout)
    eq(out.get("content"), [{"type": "text", "text": "backup (gpt-4o-mini) got the tool result: rainy"}],
       "answered by the OpenAI member")
    sent = json.loads(m.requests("backup")[0]["body"])["messages"] if m.requests("backup") else []
    eq([(x["role"], x.get("content")) for x in sent[:2]], [("user", "weather?"), ("assistant", None)],
       "the history without the thinking")


def test_a_translated_output_limit_fits_the_member():
    """An Anthropic program asking for 32000 output tokens (as agents do)
    falls back to OpenAI-dialect models that would refuse that: gpt-4o-mini
    takes at most 16384, DeepSeek's chat model 8192, and o3 takes no
    max_tokens and no temperature at all."""
    m = mock()
    m.set("claude", behaviour="529")
    body = {"model": "claude-sonnet-4-5", "max_tokens": 32000, "temperature": 0.2,
            "messages": [{"role": "user", "content": "hi"}]}
    # (o3's with room for its reasoning, which its limit counts)
    for model, field, tokens in (("gpt-4o-mini", "max_tokens", 16384), ("o3", "max_completion_tokens", 57000),
                                 ("deepseek-chat", "max_tokens", 8192)):
        m.reset("backup")
        r = run(anthropic_call(m, body), env_for(config(m, ["backup/" + model])))
        out = json.loads(r.stdout)
        eq(out.get("content"), [{"type": "text", "text": f"Hello from backup ({model})"}], f"{model} answered")
        o = json.loads(m.requests("backup")[0]["body"])
        eq({k: o[k] for k in ("max_tokens", "max_completion_tokens") if k in o}, {field: tokens},
           f"{model}: its output limit")
        eq(o.get("temperature"), None if model == "o3" else 0.2, f"{model}: its sampling settings")


def test_a_member_of_another_openai_family_gets_what_it_accepts():
    """The program's own dialect, another model family: a gpt-5 call with
    reasoning_effort and 100000 output tokens falls back to gpt-4o-mini,
    which refuses both; a gpt-4o call with a temperature and max_tokens
    falls back to o3, which refuses both; a gpt-5 call with minimal
    reasoning falls back to o3 and gpt-5.1, which have no minimal. A model
    that is not OpenAI's gets max_tokens for max_completion_tokens and no
    store, which Mistral refuses; otherwise the program's body as it was."""
    m = mock()
    m.set("oai", behaviour="503")
    cases = [("gpt-5", {"reasoning_effort": "high", "max_completion_tokens": 100000}, "gpt-4o-mini",
              {"max_completion_tokens": 16384}),
             ("gpt-4o", {"temperature": 0.3, "max_tokens": 300}, "o3", {"max_completion_tokens": 300 + 25000}),
             ("gpt-5", {"reasoning_effort": "minimal"}, "o3", {"reasoning_effort": "low"}),
             ("gpt-5", {"reasoning_effort": "minimal"}, "gpt-5.1", {"reasoning_effort": "none"}),
             ("gpt-5", {"reasoning_effort": "high"}, "my-model", {"reasoning_effort": "high"}),
             ("gpt-5", {"max_completion_tokens": 300, "store": True}, "mistral-large-latest", {"max_tokens": 300})]
    for model, extra, member, want in cases:
        m.reset("backup")
        out = json.loads(run(openai_call(m, chat(model=model, system=None, **extra)),
                             env_for(config(m, ["backup/" + member]))).stdout)
        eq(out.get("choices", [{}])[0].get("message", {}).get("content"), f"Hello from backup ({member})",
           f"{model} -> {member}: answered")
        sent = json.loads(m.requests("backup")[0]["body"])
        eq({k: v for k, v in sent.items() if k not in ("model", "messages")}, want, f"{model} -> {member}: fitted")


def test_an_anthropic_member_gets_what_its_model_accepts():
    """The program's own Anthropic dialect, another Claude: a Claude 3.5
    Sonnet call asking for 64000 tokens falls back to Claude 3.5 Haiku,
    which writes at most 8192; one with temperature and top_p falls back to
    Claude Haiku 4.5, which refuses the pair. A Claude Sonnet 4.5 call with
    extended thinking falls back to Claude 3.5 Haiku, which has none, and to
    Claude Opus 4.1, whose lower max_tokens the thinking budget must stay
    under; extended thinking falls back to Claude Opus 4.7, which only
    thinks adaptively, and adaptive thinking to Claude Sonnet 4.5, which
    cannot. A call with sampling settings falls back to Claude Opus 4.8, which
    has none."""
    m = mock()
    thinking = {"max_tokens": 64000, "thinking": {"type": "enabled", "budget_tokens": 48000}}
    cases = [("claude-3-5-sonnet-latest", {"max_tokens": 64000}, "claude-3-5-haiku-latest", {"max_tokens": 8192}),
             ("claude-3-5-sonnet-latest", {"max_tokens": 100, "temperature": 0.3, "top_p": 0.9}, "claude-haiku-4-5",
              {"max_tokens": 100, "temperature": 0.3}),
             ("claude-sonnet-4-5", thinking, "claude-3-5-haiku-latest", {"max_tokens": 8192}),
             ("claude-sonnet-4-5", thinking, "claude-opus-4-1",
              {"max_tokens": 32000, "thinking": {"type": "enabled", "budget_tokens": 24000}}),
             ("claude-opus-4-1", {"max_tokens": 16000, "thinking": {"type": "enabled", "budget_tokens": 8000}},
              "claude-opus-4-7", {"max_tokens": 16000, "thinking": {"type": "adaptive"}}),
             ("claude-opus-4-7", {"max_tokens": 16000, "thinking": {"type": "adaptive"}}, "claude-sonnet-4-5",
              {"max_tokens": 16000}),
             ("claude-opus-4-6", {"max_tokens": 100, "temperature": 0.3, "top_k": 5}, "claude-opus-4-8",
              {"max_tokens": 100})]
    for model, extra, member, want in cases:
        m.reset("claude")
        m.set("claude", behaviour=["529", "ok"])
        body = dict({"model": model, "messages": [{"role": "user", "content": "hi"}]}, **extra)
        r = run(anthropic_call(m, body), env_for(config(m, ["anthropic/" + member])))
        out = json.loads(r.stdout)
        eq(out.get("content"), [{"type": "text", "text": f"Hello from claude ({member})"}], f"{member} answered")
        sent = json.loads(m.requests("claude")[1]["body"])
        eq({k: v for k, v in sent.items() if k not in ("model", "messages")}, want, f"{member}: fitted")


def test_gemini_call_answered_by_openai():
    m = mock()
    m.set("gem", behaviour="503")
    params = {"type": "object", "properties": {"city": {"type": "string"}}, "additionalProperties": False}
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
            "tools": [{"functionDeclarations": [{"name": "get_weather", "parametersJsonSchema": params}]}],
            "generationConfig": {"temperature": 0.2}}
    r = run(gemini_call(m, body), env_for(config(m, ["backup/gpt-4o-mini"])))
    out = json.loads(r.stdout)
    eq(out["candidates"][0]["content"]["parts"][0]["text"], "Hello from backup (gpt-4o-mini)", "Gemini-shaped")
    eq(out["candidates"][0]["finishReason"], "STOP", "finishReason")
    o = json.loads(m.requests("backup")[0]["body"])
    eq((o["model"], o["temperature"]), ("gpt-4o-mini", 0.2), "model and temperature")
    eq(o["tools"][0]["function"].get("parameters"), params, "parametersJsonSchema carried as the parameters")
    only_own_keys(m)


def test_googles_own_rest_example_falls_back_whole():
    """Google's REST example of a system instruction (google-gemini/api-examples
    rest/system_instruction.sh) writes its lists as single objects, which Gemini
    reads as lists of one: the member gets the system prompt and the turn."""
    m = mock()
    m.set("gem", behaviour="503")
    body = {"system_instruction": {"parts": {"text": "You are a cat. Your name is Neko."}},
            "contents": {"parts": {"text": "Hello there"}}}
    r = run(gemini_call(m, body, "gemini-2.5-flash"), env_for(config(m, ["backup/gpt-4o-mini"])))
    out = json.loads(r.stdout)
    text = out.get("candidates", [{}])[0].get("content", {}).get("parts", [{}])[0].get("text", "")
    check(text.startswith("Hello from backup"), f"answered by the member: {out}")
    sent = json.loads(m.requests("backup")[0]["body"])
    eq(sent["messages"], [{"role": "system", "content": "You are a cat. Your name is Neko."},
                          {"role": "user", "content": "Hello there"}], "the system prompt and the turn")


def test_an_image_a_gemini_tool_returned_reaches_claude_not_openai():
    """Gemini 3's multimodal function response (an image in the
    functionResponse's parts, named by the response's {"$ref": ...}): the
    OpenAI member, whose tool messages take text only, is skipped, and Claude
    gets the image in its tool_result. It was left out, and the member
    answered without what the tool returned."""
    m = mock()
    m.set("gem", behaviour="503")
    png = base64.b64encode(b"\x89PNG fake").decode()
    body = {"contents": [
        {"role": "user", "parts": [{"text": "Show me the instrument I ordered"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "get_image", "args": {"item": "instrument"}},
                                     "thoughtSignature": "c2ln"}]},
        {"role": "user", "parts": [{"functionResponse": {
            "name": "get_image", "response": {"image_ref": {"$ref": "instrument.png"}},
            "parts": [{"inlineData": {"displayName": "instrument.png", "mimeType": "image/png", "data": png}}]}}]}],
        "tools": [{"functionDeclarations": [{"name": "get_image", "parameters": {
            "type": "OBJECT", "properties": {"item": {"type": "STRING"}}, "required": ["item"]}}]}]}
    log = new_log("fr_media.log")
    r = run(gemini_call(m, body, "gemini-3-flash-preview"),
            env_for(config(m, ["backup/gpt-4o-mini", "anthropic/claude-haiku-4-5"]), log))
    out = json.loads(r.stdout)
    text = out["candidates"][0]["content"]["parts"][0]["text"]
    check(text.startswith("claude (claude-haiku-4-5)"), f"answered by Claude: {out}")
    eq(len(m.requests("backup")), 0, "the OpenAI member was not sent it")
    skips = [(l["provider"], l["reason"]) for l in read_log(log) if l.get("outcome") == "skipped"]
    eq(skips, [("backup", "incompatible")], "logged as incompatible")
    sent = json.loads(m.requests("claude")[0]["body"])
    result = sent["messages"][2]["content"][0]
    eq(result["type"], "tool_result", "the tool's result")
    eq(result["content"], [{"type": "text", "text": '{"image_ref":{"$ref":"instrument.png"}}'},
                           {"type": "text", "text": "instrument.png"},
                           {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}}],
       "the response, and the image after its name")


def test_single_values_in_a_gemini_schema_reach_openai_as_lists():
    """Gemini's Schema takes a single value for a list (required, enum,
    anyOf), as Google reads every repeated field; OpenAI refuses such a
    schema (400), so the member gets each as a list of one."""
    m = mock()
    m.set("gem", behaviour="503")
    body = {"contents": {"parts": {"text": "Weather in Paris?"}},
            "tools": {"functionDeclarations": {"name": "w", "parameters": {
                "type": "OBJECT", "properties": {"city": {"type": "STRING"}, "unit": {"type": "STRING", "enum": "C"}},
                "required": "city"}}},
            "generationConfig": {"responseMimeType": "application/json", "responseSchema": {
                "type": "OBJECT", "properties": {"t": {"anyOf": {"type": "NUMBER"}}}, "required": "t"}}}
    run(gemini_call(m, body, "gemini-2.5-flash"), env_for(config(m, ["backup/gpt-4o-mini"])))
    sent = json.loads(m.requests("backup")[0]["body"])
    eq(sent["tools"][0]["function"]["parameters"],
       {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["C"]}},
        "required": ["city"]}, "the parameters")
    eq(sent["response_format"]["json_schema"]["schema"],
       {"type": "object", "properties": {"t": {"anyOf": [{"type": "number"}]}}, "required": ["t"]}, "the schema")


def test_a_gemini_member_gets_what_its_model_accepts():
    """The program's own Gemini dialect, another model: a Gemini 2.5 Pro call
    asking for 65536 tokens falls back to Gemini 2.0 Flash, which writes at
    most 8192."""
    m = mock()
    m.set("gem", behaviour=["503", "ok"])
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
            "generationConfig": {"temperature": 0.2, "maxOutputTokens": 65536}}
    r = run(gemini_call(m, body), env_for(config(m, ["gemini/gemini-2.0-flash"])))
    out = json.loads(r.stdout)
    eq(out.get("candidates", [{}])[0].get("content", {}).get("parts"), [{"text": "Hello from gem (gemini-2.0-flash)"}],
       "answered by Gemini 2.0 Flash")
    sent = json.loads(m.requests("gem")[1]["body"])
    eq(sent["generationConfig"], {"temperature": 0.2, "maxOutputTokens": 8192}, "its output limit")


def test_a_gemini_member_gets_the_thinking_its_model_takes():
    """Gemini 2.5 Pro thinking with the largest budget falls back to Gemini
    2.0 Flash, which has no thinking, and to Gemini 2.5 Flash, whose budget is
    smaller; a Gemini 3 call's thinkingLevel falls back to Gemini 2.5 Flash,
    which has no levels; a Flash call without thinking (budget 0) falls back
    to Gemini 2.5 Pro, which always thinks."""
    m = mock()
    cases = [("gemini-2.5-pro", {"thinkingBudget": 32768, "includeThoughts": True}, "gemini-2.0-flash", None),
             ("gemini-2.5-pro", {"thinkingBudget": 32768}, "gemini-2.5-flash", {"thinkingBudget": 24576}),
             ("gemini-3-pro-preview", {"thinkingLevel": "high"}, "gemini-2.5-flash", {}),
             ("gemini-2.5-flash", {"thinkingBudget": 0}, "gemini-2.5-pro", {"thinkingBudget": 128}),
             ("gemini-2.5-flash", {"thinkingBudget": 0}, "gemini-3-pro-preview", {"thinkingLevel": "low"})]
    for model, thinking, member, want in cases:
        m.reset("gem")
        m.set("gem", behaviour=["503", "ok"])
        body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                "generationConfig": {"temperature": 0.2, "thinkingConfig": thinking}}
        r = run(gemini_call(m, body, model), env_for(config(m, ["gemini/" + member])))
        out = json.loads(r.stdout)
        eq(out.get("candidates", [{}])[0].get("content", {}).get("parts"), [{"text": f"Hello from gem ({member})"}],
           f"{model} -> {member}: answered")
        sent = json.loads(m.requests("gem")[1]["body"])["generationConfig"]
        eq(sent.get("thinkingConfig"), want, f"{model} -> {member}: thinking fitted")


def test_tool_call_round_trip_through_anthropic():
    m = mock()
    m.set("oai", behaviour="503")
    cfg = config(m, ["anthropic/claude-haiku-4-5"])
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                                "parameters": {"type": "object",
                                                               "properties": {"city": {"type": "string"}},
                                                               "required": ["city"]}}}]
    first = chat(text="weather? [call:get_weather]", system=None, tools=tools, tool_choice="auto")
    r = run(openai_call(m, first), env_for(cfg))
    out = json.loads(r.stdout)
    choice = out["choices"][0]
    eq(choice["finish_reason"], "tool_calls", "finish_reason tool_calls")
    call = choice["message"]["tool_calls"][0]
    eq((call["type"], call["function"]["name"]), ("function", "get_weather"), "tool call")
    eq(json.loads(call["function"]["arguments"]), {"city": "Paris"}, "arguments as a JSON string")
    sent = json.loads(m.requests("claude")[0]["body"])
    eq(sent["tools"][0]["name"], "get_weather", "tools → Anthropic")
    eq(sent["tools"][0]["input_schema"]["required"], ["city"], "input_schema")
    # second turn: the program answers the call; the primary is still down
    second = dict(first, messages=first["messages"] + [choice["message"],
                  {"role": "tool", "tool_call_id": call["id"], "content": "sunny, 21C"}])
    m.reset("claude")
    r = run(openai_call(m, second), env_for(cfg))
    out = json.loads(r.stdout)
    eq(out["choices"][0]["message"]["content"],
       "claude (claude-haiku-4-5) got the tool result: sunny, 21C", "tool result reached Anthropic")
    sent = json.loads(m.requests("claude")[0]["body"])
    eq([x["role"] for x in sent["messages"]], ["user", "assistant", "user"], "alternating roles")
    eq(sent["messages"][1]["content"][0]["type"], "tool_use", "tool_use in history")
    eq(sent["messages"][2]["content"][0]["type"], "tool_result", "tool_result in history")
    eq(sent["messages"][2]["content"][0]["tool_use_id"], sent["messages"][1]["content"][0]["id"], "ids pair")


def test_tool_call_round_trip_through_gemini():
    """And through Gemini 3, which wants the function call in the history
    signed: one it did not make carries the documented placeholder."""
    for model in ("gemini-2.5-flash", "gemini-3-flash-preview"):
        tool_call_round_trip_through_gemini(model)


def tool_call_round_trip_through_gemini(model):
    m = mock()
    m.set("oai", behaviour="503")
    cfg = config(m, ["gemini/" + model])
    # as OpenAI's strict mode writes an optional field: a type list with null; and JSON Schema's
    # keywords Gemini's Schema lacks
    tools = [{"type": "function", "function": {"name": "get_weather", "strict": True, "parameters": {
        "type": "object", "additionalProperties": False, "required": ["city", "unit"],
        "$schema": "http://json-schema.org/draft-07/schema#",
        "properties": {"city": {"type": "string", "format": "hostname", "examples": ["Paris"]},
                       "unit": {"type": ["string", "null"], "enum": ["C", "F", None]},
                       "days": {"type": "integer", "exclusiveMinimum": 0, "multipleOf": 1},
                       "tags": {"type": "array", "uniqueItems": True, "items": {"const": "x"}},
                       "at": {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "integer"}]}}}}}]
    first = chat(text="weather? [call:get_weather]", system=None, tools=tools)
    out = json.loads(run(openai_call(m, first), env_for(cfg)).stdout)
    call = out["choices"][0]["message"]["tool_calls"][0]
    eq(json.loads(call["function"]["arguments"]), {"city": "Paris"}, "Gemini functionCall → tool_calls")
    second = dict(first, messages=first["messages"] + [out["choices"][0]["message"],
                  {"role": "tool", "tool_call_id": call["id"], "content": "rainy"}])
    out = json.loads(run(openai_call(m, second), env_for(cfg)).stdout)
    check("got the tool result" in (out.get("choices") or [{}])[0].get("message", {}).get("content", "") and
          "rainy" in out["choices"][0]["message"]["content"], f"{model}: functionResponse reached Gemini ({out})")


def test_a_gemini_3_program_can_send_back_a_translated_call():
    """A Gemini 3 program's call answered by OpenAI with a function call:
    the call it is given is signed, so its next request, with that call in
    its history, is taken by its own Gemini 3 (which refuses unsigned
    calls)."""
    m = mock()
    m.set("gem", behaviour=["503", "ok"])
    tools = [{"functionDeclarations": [{"name": "get_weather", "parameters": {
        "type": "OBJECT", "properties": {"city": {"type": "STRING"}}}}]}]
    body = {"contents": [{"role": "user", "parts": [{"text": "weather? [call:get_weather]"}]}], "tools": tools}
    cfg = env_for(config(m, ["backup/gpt-4o-mini"]))
    out = json.loads(run(gemini_call(m, body, "gemini-3-pro-preview"), cfg).stdout)
    turn = out["candidates"][0]["content"]
    eq(turn["parts"][0].get("functionCall", {}).get("name"), "get_weather", "a function call from OpenAI")
    body["contents"] += [turn, {"role": "user", "parts": [
        {"functionResponse": {"name": "get_weather", "response": {"content": "rainy"}}}]}]
    out = json.loads(run(gemini_call(m, body, "gemini-3-pro-preview"), cfg).stdout)
    text = out.get("candidates", [{}])[0].get("content", {}).get("parts", [{}])[0].get("text", "")
    check("gem (gemini-3-pro-preview) got the tool result: rainy" in text, f"its own Gemini 3 took it: {out}")


def test_json_output_beside_tools_to_gemini():
    """Gemini before 3 refuses JSON output beside function declarations: an
    OpenAI call with tools and a JSON schema reaches Gemini 2.5 Flash without
    asking for JSON (the answer is still checked as JSON), Gemini 3 with it;
    and a Gemini 3 program's own body falls back to Gemini 2.5 without it."""
    m = mock()
    m.set("oai", behaviour="503")
    m.set("gem", behaviour="json_ok")
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
              "required": ["name"]}
    tools = [{"type": "function", "function": {"name": "get_weather",
                                                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
    body = chat(system=None, tools=tools,
                response_format={"type": "json_schema", "json_schema": {"name": "p", "schema": schema}})
    for model, json_asked in (("gemini-2.5-flash", False), ("gemini-3-flash-preview", True)):
        m.reset("gem")
        out = json.loads(run(openai_call(m, body), env_for(config(m, ["gemini/" + model]))).stdout)
        eq(json.loads(out.get("choices", [{}])[0].get("message", {}).get("content") or "null"),
           {"name": "gem", "age": 30}, f"{model}: the JSON answer")
        gc = json.loads(m.requests("gem")[0]["body"]).get("generationConfig", {})
        eq(("responseMimeType" in gc, "responseSchema" in gc), (json_asked, json_asked), f"{model}: JSON asked")
    m.reset("gem")
    m.set("gem", behaviour=["503", "json_ok"])
    gbody = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
             "tools": [{"functionDeclarations": [{"name": "f"}]}],
             "generationConfig": {"responseMimeType": "application/json", "responseSchema": schema}}
    out = json.loads(run(gemini_call(m, gbody, "gemini-3-flash-preview"),
                         env_for(config(m, ["gemini/gemini-2.5-flash"]))).stdout)
    eq(json.loads(out.get("candidates", [{}])[0].get("content", {}).get("parts", [{}])[0].get("text") or "null"),
       {"name": "gem", "age": 30}, "a Gemini 3 program answered by Gemini 2.5")
    eq(json.loads(m.requests("gem")[1]["body"]).get("generationConfig"), {}, "without JSON output")


def test_gemini_call_ids_are_unique_across_turns():
    """Gemini's function calls have no ids: the ones made up for two turns
    answered by Gemini differ, so the history can later go to Anthropic,
    which refuses tool_use ids that repeat."""
    m = mock()
    m.set("oai", behaviour="503")
    tools = [{"type": "function", "function": {"name": "get_weather",
                                                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
    msgs, ids = [], []
    for turn in range(2):
        msgs.append({"role": "user", "content": "weather? [call:get_weather]"})
        out = json.loads(run(openai_call(m, chat(system=None, tools=tools, messages=msgs)),
                             env_for(config(m, ["gemini/gemini-2.5-flash"]))).stdout)
        call = out["choices"][0]["message"]["tool_calls"][0]
        ids.append(call["id"])
        msgs += [out["choices"][0]["message"], {"role": "tool", "tool_call_id": call["id"], "content": "rainy"}]
    check(len(set(ids)) == 2, f"two turns, two call ids {ids}")
    out = json.loads(run(openai_call(m, chat(system=None, tools=tools, messages=msgs)),
                         env_for(config(m, ["anthropic/claude-haiku-4-5"]))).stdout)
    check("got the tool result" in out["choices"][0]["message"]["content"], f"Anthropic took the history ({out})")


def test_tool_call_ids_reach_anthropic_as_it_takes_them():
    """Anthropic refuses tool_use ids with other than letters, digits, _
    and - (400 "String should match pattern"), which Kimi's are
    ("functions.get_weather:0"): an Anthropic program answered by Kimi,
    whole or streamed, gets an id its own Claude takes when the history
    comes back, and an OpenAI
    program's history with Kimi's ids reaches a Claude member with ids it
    takes, each call still paired with its result."""
    m = mock()
    m.set("claude", behaviour=["503", "ok"])
    tools = [{"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    msgs = [{"role": "user", "content": "weather? [call:get_weather]"}]
    body = {"model": "claude-sonnet-4-5", "max_tokens": 50, "tools": tools, "messages": msgs}
    cfg = env_for(config(m, ["backup/kimi-k2"]))
    out = json.loads(run(anthropic_call(m, body), cfg).stdout)
    use = (out.get("content") or [{}])[0]
    eq((use.get("type"), use.get("id")), ("tool_use", "functions_get_weather_0"), f"Kimi's call, as Claude takes ids: {out}")
    msgs += [{"role": "assistant", "content": out["content"]},
             {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use["id"], "content": "rainy"}]}]
    out = json.loads(run(anthropic_call(m, body), cfg).stdout)
    text = (out.get("content") or [{}])[0].get("text", "")
    check("claude (claude-sonnet-4-5) got the tool result: rainy" in text, f"its own Claude took the history: {out}")
    # streamed: the tool_use block's id is the whole answer's
    m = mock()
    m.set("claude", behaviour=["503", "ok"])
    msgs = [{"role": "user", "content": "weather? [call:get_weather]"}]
    r = run(anthropic_call(m, dict(body, messages=msgs, stream=True)) + ["-N"], cfg)
    starts = [json.loads(l[6:])["content_block"] for l in r.stdout.decode().splitlines()
              if l.startswith("data: ") and '"content_block_start"' in l]
    name, args, stop = stream_tool_call("anthropic", r.stdout.decode())
    eq([(b.get("type"), b.get("id")) for b in starts], [("tool_use", "functions_get_weather_0")],
       f"Kimi's streamed call, as Claude takes ids: {r.stdout.decode()[-400:]!r}")
    use = {"type": "tool_use", "id": starts[0].get("id") if starts else None, "name": name, "input": args}
    msgs += [{"role": "assistant", "content": [use]},
             {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use["id"], "content": "rainy"}]}]
    out = json.loads(run(anthropic_call(m, dict(body, messages=msgs)), cfg).stdout)
    text = (out.get("content") or [{}])[0].get("text", "")
    check("claude (claude-sonnet-4-5) got the tool result: rainy" in text, f"its own Claude took the streamed one: {out}")
    m = mock()
    m.set("oai", behaviour="503")
    otools = [{"type": "function", "function": {"name": "get_weather",
                                                 "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
    history = [{"role": "user", "content": "weather?"},
               {"role": "assistant", "content": "", "tool_calls": [{"id": "functions.get_weather:0", "type": "function",
                                                                    "function": {"name": "get_weather",
                                                                                 "arguments": "{\"city\": \"Paris\"}"}}]},
               {"role": "tool", "tool_call_id": "functions.get_weather:0", "content": "sunny"}]
    out = json.loads(run(openai_call(m, chat(model="kimi-k2", system=None, tools=otools, messages=history)),
                         env_for(config(m, ["anthropic/claude-haiku-4-5"]))).stdout)
    text = out.get("choices", [{}])[0].get("message", {}).get("content") or ""
    check("got the tool result: sunny" in text, f"the Claude member took the history: {out}")
    sent = json.loads(m.requests("claude")[-1]["body"])["messages"]
    eq((sent[1]["content"][-1]["id"], sent[2]["content"][0]["tool_use_id"]),
       ("functions_get_weather_0", "functions_get_weather_0"), "the call and its result, paired")


def test_incompatible_member_skipped():
    m = mock()
    m.set("oai", behaviour="503")
    log = new_log("incompat.log")
    r = run(openai_call(m, chat(n=2)), env_for(config(m, ["anthropic/claude-haiku-4-5", "backup/gpt-4o-mini"]), log))
    out = json.loads(r.stdout)
    check(out["choices"][0]["message"]["content"].startswith("Hello from backup"), "backup answered n=2")
    eq(len(m.requests("claude")), 0, "Anthropic cannot serve n=2: not sent")
    skips = [(l["provider"], l["reason"]) for l in read_log(log) if l.get("outcome") == "skipped"]
    eq(skips, [("anthropic", "incompatible")], "logged as incompatible")


def test_a_request_no_other_dialect_may_have_is_still_judged():
    """A Gemini request with a cachedContent asking for JSON: members of
    other dialects are skipped (only Gemini holds the cached prompt), but
    the program's own answer is still judged by what it asked for: text
    that is not JSON is a failure, and with nothing to replace it the
    program gets it as it came."""
    m = mock()
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "cachedContent": "cachedContents/abc",
            "generationConfig": {"responseMimeType": "application/json"}}
    log = new_log("judged.log")
    r = run(gemini_call(m, body), env_for(config(m, ["backup/gpt-4o-mini"]), log))
    out = json.loads(r.stdout)
    eq(out["candidates"][0]["content"]["parts"][0]["text"], "Hello from gem (gemini-2.5-pro)", "the primary's own answer")
    steps = [(l["provider"], l["outcome"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"]
    eq(steps, [("gemini", "schema", "not_json"), ("backup", "skipped", "incompatible")], "judged, then skipped")
    eq(len(m.requests("backup")), 0, "the member was not sent it")


def test_what_only_openai_carries_skips_other_dialects():
    """The deprecated functions (an answer's function_call has no form in
    the others), several answers in one stream, and a web search (OpenAI's
    search models run it themselves; another model would answer as if it
    had searched): Anthropic and Gemini members are skipped as
    incompatible, an OpenAI one answers."""
    fn = [{"name": "weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    for body, why in ((chat(functions=fn), "functions"), (chat(n=2, stream=True), "several answers in one stream"),
                      (chat(model="gpt-4o-search-preview", web_search_options={}), "web_search_options")):
        m = mock()
        m.set("oai", behaviour="503")
        log = new_log("openai-only.log")
        cfg = config(m, ["anthropic/claude-haiku-4-5", "gemini/gemini-2.5-flash", "backup/gpt-4o-mini"])
        r = run(openai_call(m, body), env_for(cfg, log))
        eq((r.returncode, len(m.requests("backup"))), (0, 1), f"{why}: the OpenAI member answered ({r.stdout[:120]!r})")
        text = r.stdout.decode()
        if "stream" in body:
            text = "".join(json.loads(l[6:])["choices"][0]["delta"].get("content") or ""
                           for l in text.splitlines() if l.startswith("data: {"))
        check("Hello from backup" in text, f"{why}: its answer ({text[:120]!r})")
        eq((len(m.requests("claude")), len(m.requests("gem"))), (0, 0), f"{why}: the others were not sent it")
        skips = [(l["provider"], l["reason"], l.get("detail", "")) for l in read_log(log) if l.get("outcome") == "skipped"]
        eq([s[:2] for s in skips], [("anthropic", "incompatible"), ("gemini", "incompatible")], f"{why}: both skipped")
        check(all(why in s[2] for s in skips), f"{why}: the log says why ({skips})")


def test_a_gemini_enum_request_skips_members_that_cannot_honour_it():
    """A Gemini program asking for one label of an enum (responseMimeType
    "text/x.enum" with a responseSchema enum, Google's documented way)
    cannot be served by an OpenAI or Anthropic member, which would answer
    in free text: each is skipped as incompatible, and the program gets its
    primary's own failure. A Gemini-dialect member gets the program's body,
    constraint and all, and answers."""
    gc = {"responseMimeType": "text/x.enum",
          "responseSchema": {"type": "STRING", "enum": ["positive", "negative"]}}
    body = {"contents": [{"role": "user", "parts": [{"text": "Is 'I love it' positive or negative?"}]}],
            "generationConfig": gc}
    m = mock()
    m.set("gem", behaviour="503")
    log = new_log("enum.log")
    r = run(gemini_call(m, body) + ["-w", "\n%{http_code}"],
            env_for(config(m, ["backup/gpt-4o-mini", "anthropic/claude-haiku-4-5"]), log))
    text, code = r.stdout.decode().rsplit("\n", 1)
    eq((code, json.loads(text).get("error", {}).get("status")), ("503", "UNAVAILABLE"), "the primary's own 503")
    eq((len(m.requests("backup")), len(m.requests("claude"))), (0, 0), "no member of another dialect was sent it")
    skips = [(l["provider"], l["reason"], l.get("detail", "")) for l in read_log(log) if l.get("outcome") == "skipped"]
    eq([s[:2] for s in skips], [("backup", "incompatible"), ("anthropic", "incompatible")], "both skipped")
    check(all("responseMimeType text/x.enum" in s[2] for s in skips), f"the log says why: {skips}")
    m = mock()
    m.set("gem", behaviour=["503", "ok"])
    r = run(gemini_call(m, body), env_for(config(m, ["backup/gpt-4o-mini", "gemini/gemini-2.5-flash"])))
    out = json.loads(r.stdout)
    eq(out["candidates"][0]["content"]["parts"], [{"text": "Hello from gem (gemini-2.5-flash)"}],
       "the Gemini member answered")
    eq(json.loads(m.requests("gem")[1]["body"])["generationConfig"], gc, "with the program's generationConfig")
    eq(len(m.requests("backup")), 0, "the OpenAI member still skipped")


def test_what_gemini_or_anthropic_would_refuse_is_sent_as_they_take_it():
    """A request OpenAI takes that Gemini or Anthropic would refuse with a
    400, wasting the member: tool schemas with an array without items (as
    MCP tools and Pydantic's tuples write them) or an enum without a type,
    a request of a system prompt alone. Each reaches the member in a form it
    takes, and the member answers. A Gemini history whose function response
    answers no call (one cut short) is refused by OpenAI and Anthropic
    alike: their members are skipped, not sent it."""
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {
            "tags": {"type": "array"},
            "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}],
                     "minItems": 2, "maxItems": 2},
            "mode": {"enum": ["fast", "slow"]}, "kind": {"const": "k"},
            "op": {"type": "string", "enum": ["", "eq", "neq"]}}}}}]
    m = mock()
    m.set("oai", behaviour="503")
    r = run(openai_call(m, chat(text="weather? [call:get_weather]", system=None, tools=tools)),
            env_for(config(m, ["gemini/gemini-2.5-flash"])))
    out = json.loads(r.stdout)
    eq(out.get("choices", [{}])[0].get("message", {}).get("tool_calls", [{}])[0].get("function", {}).get("name"),
       "get_weather", f"the Gemini member answered the call ({out})")
    props = json.loads(m.requests("gem")[0]["body"])["tools"][0]["functionDeclarations"][0]["parameters"]["properties"]
    eq((props["tags"], props["pair"]["items"], props["mode"]["type"], props["kind"], props["op"]["enum"]),
       ({"type": "array", "items": {}}, {"anyOf": [{"type": "integer"}, {"type": "string"}]}, "string",
        {"enum": ["k"], "type": "string"}, ["eq", "neq"]), "the schema as Gemini takes it")
    for member, name in (("gemini/gemini-2.5-flash", "gem"), ("anthropic/claude-haiku-4-5", "claude")):
        m = mock()
        m.set("oai", behaviour="503")
        body = {"model": "gpt-4o", "messages": [{"role": "system", "content": "Write a haiku about the sea."}]}
        out = json.loads(run(openai_call(m, body), env_for(config(m, [member]))).stdout)
        check(out.get("choices", [{}])[0].get("message", {}).get("content", "").startswith(f"Hello from {name}"),
              f"{member} answered a system prompt alone ({out})")
        sent = json.loads(m.requests(name)[0]["body"])
        turns = sent.get("contents") or sent.get("messages")
        eq(json.dumps(turns).count("Write a haiku"), 1, f"{member}: the prompt sent once, as the user's turn")
    m = mock()
    m.set("gem", behaviour="503")
    body = {"contents": [{"role": "user", "parts": [{"functionResponse": {"name": "search",
                                                                         "response": {"output": "3 results"}}}]},
                         {"role": "user", "parts": [{"text": "summarise"}]}]}
    log = new_log("orphan.log")
    r = run(gemini_call(m, body) + ["-w", "\n%{http_code}"],
            env_for(config(m, ["backup/gpt-4o-mini", "anthropic/claude-haiku-4-5"]), log))
    eq(r.stdout.decode().rsplit("\n", 1)[1], "503", "the primary's own 503")
    eq((len(m.requests("backup")), len(m.requests("claude"))), (0, 0), "no member was sent the orphan result")
    skips = [(l["provider"], l["reason"]) for l in read_log(log) if l.get("outcome") == "skipped"]
    eq(skips, [("backup", "incompatible"), ("anthropic", "incompatible")], "both skipped")


def test_an_output_limit_leaves_a_thinking_member_room_to_answer():
    """OpenAI's and Anthropic's output limits are the answer's; a Gemini
    2.5 or 3 model thinks unasked, and Gemini's limit counts its thoughts,
    as an OpenAI reasoning model's max_completion_tokens counts its
    reasoning. Sent the program's 300 (or 1024) tokens as they were, a
    member that thinks 2000 tokens answered nothing, cut at its limit, and
    the fallback failed; given room for its thinking, it answers."""
    cases = [("openai", "gemini/gemini-2.5-flash", "gem", 300, 300 + 24576),
             ("anthropic", "gemini/gemini-2.5-pro", "gem", 1024, 1024 + 32768),
             ("openai", "backup/o3", "backup", 300, 300 + 25000)]
    for prog, member, name, limit, sent in cases:
        m = mock()
        m.set("oai" if prog == "openai" else "claude", behaviour="503")
        m.set(name, behaviour="thinks:2000")
        if prog == "openai":
            r = run(openai_call(m, chat(model="gpt-4o-mini", system=None, max_tokens=limit)),
                    env_for(config(m, [member])))
            out = json.loads(r.stdout)
            text = out.get("choices", [{}])[0].get("message", {}).get("content") or ""
        else:
            r = run(anthropic_call(m, {"model": "claude-haiku-4-5", "max_tokens": limit,
                                       "messages": [{"role": "user", "content": "hello"}]}),
                    env_for(config(m, [member])))
            out = json.loads(r.stdout)
            text = "".join(b.get("text", "") for b in out.get("content") or [])
        check(text.startswith(f"Hello from {name}"), f"{prog} → {member}: answered ({out})")
        got = json.loads(m.requests(name)[0]["body"])
        asked = got.get("generationConfig", {}).get("maxOutputTokens") if name == "gem" else got.get("max_completion_tokens")
        eq(asked, sent, f"{prog} → {member}: the limit and room to think")


def test_context_window_skips_small_members():
    m = mock()
    m.set("oai", behaviour="503")
    log = new_log("context.log")
    big = "word " * 60000   # ~75k tokens by the estimate: over gpt-4's 8k, under Claude's 200k
    cfg = config(m, [{"provider": "backup", "model": "gpt-4"}, "anthropic/claude-haiku-4-5"])
    r = run(openai_call(m, chat(text=big, system=None)), env_for(cfg, log))
    out = json.loads(r.stdout)
    check(out["choices"][0]["message"]["content"].startswith("Hello from claude"), "large window answered")
    eq(len(m.requests("backup")), 0, "small window never sent the prompt")
    skips = [(l["provider"], l["reason"]) for l in read_log(log) if l.get("outcome") == "skipped"]
    eq(skips, [("backup", "context")], "skip logged")
    # an override in the config widens a window
    m.reset_all()
    m.set("oai", behaviour="503")
    cfg = config(m, [{"provider": "backup", "model": "gpt-4", "context": 500000}])
    r = run(openai_call(m, chat(text=big, system=None)), env_for(cfg))
    check(json.loads(r.stdout)["choices"][0]["message"]["content"].startswith("Hello from backup"), "override")
    # the output asked for counts as the member is asked it, lowered to its
    # model's most: ~100k tokens of text and 65,536 asked for (of o3, which
    # writes 100,000) fit gpt-4o's 128k window, asked 16,384, its most (a
    # Gemini program's too, translated)
    for prog in ("openai", "gemini"):
        m.reset_all()
        m.set("oai" if prog == "openai" else "gem", behaviour="503")
        log = new_log(f"context_out_{prog}.log")
        cfg = config(m, ["backup/gpt-4o"])
        text = "word " * 80000
        if prog == "openai":
            argv = openai_call(m, chat(model="o3", text=text, system=None, max_completion_tokens=65536))
        else:
            path = write_config(json.dumps({"contents": [{"role": "user", "parts": [{"text": text}]}],
                                            "generationConfig": {"maxOutputTokens": 65536}}), "gemini_call_body.json")
            argv = [CURL, "-sS", m.base("gem", "/v1beta") + "/models/gemini-2.5-pro:generateContent",
                    "-H", f"x-goog-api-key: {KEYS['GEMINI_API_KEY']}", "-H", "Content-Type: application/json",
                    "--data-binary", "@" + path]
        r = run(argv, env_for(cfg, log))
        sent = m.requests("backup")
        asked = json.loads(sent[0]["body"]) if sent else {}
        check(len(sent) == 1 and asked.get("max_tokens", asked.get("max_completion_tokens")) == 16384,
              f"{prog}: sent, asked its most ({[l.get('reason') for l in read_log(log)]})")
        check(b"Hello from backup" in r.stdout, f"{prog}: answered")
    # a program that sets no output limit: a Claude member is sent its
    # default (8,192), which counts: ~195k tokens of text do not fit its
    # 200k window with it
    m.reset_all()
    m.set("oai", behaviour="503")
    log = new_log("context_default.log")
    r = run(openai_call(m, chat(text="word " * 156000, system=None)),
            env_for(config(m, ["anthropic/claude-haiku-4-5"]), log))
    eq(len(m.requests("claude")), 0, "Claude not sent what would not fit with its default output")
    eq([(l["provider"], l["reason"]) for l in read_log(log) if l.get("outcome") == "skipped"],
       [("anthropic", "context")], "skip logged")


def test_large_image_fits_a_128k_window():
    """A 600 KB image (800 KB of base64) costs a provider at most some 1,600
    tokens, not 200k: gpt-4o-mini's 128k window takes it. A prompt whose
    text is too long for that window still skips it."""
    m = mock()
    m.set("oai", behaviour="503")
    url = "data:image/png;base64," + base64.b64encode(os.urandom(600 * 1024)).decode()
    parts = [{"type": "text", "text": "What is in this picture?"}, {"type": "image_url", "image_url": {"url": url}}]
    log = new_log("image.log")
    cfg = config(m, ["backup/gpt-4o-mini", "anthropic/claude-haiku-4-5"])
    r = run(openai_call(m, chat(model="gpt-4o", system=None, text=parts)), env_for(cfg, log))
    out = r.stdout.decode()
    check(json.loads(out).get("choices", [{}])[0].get("message", {}).get("content", "").startswith("Hello from backup"),
          f"128k window answered (got {out[:200]})")
    sent = m.requests("backup")
    check(len(sent) == 1 and url in sent[0]["body"], "the image reached the backup whole")
    eq([l["reason"] for l in read_log(log) if l.get("outcome") == "skipped"], [], "nothing skipped")
    # ~150k tokens of text with the image: over 128k, under Claude's 200k
    m.reset_all()
    m.set("oai", behaviour="503")
    log = new_log("image_text.log")
    big = [{"type": "text", "text": "word " * 120000}] + parts[1:]
    r = run(openai_call(m, chat(model="gpt-4o", system=None, text=big)), env_for(cfg, log))
    out = r.stdout.decode()
    check(json.loads(out).get("choices", [{}])[0].get("message", {}).get("content", "").startswith("Hello from claude"),
          f"large window answered (got {out[:200]})")
    eq(len(m.requests("backup")), 0, "small window never sent the prompt")
    skips = [(l["provider"], l["reason"]) for l in read_log(log) if l.get("outcome") == "skipped"]
    eq(skips, [("backup", "context")], "text too long: skip logged")


def test_context_exceeded_falls_back_to_larger_window():
    m = mock()
    m.set("oai", behaviour="context")
    log = new_log("ctxerr.log")
    cfg = config(m, [{"provider": "backup", "model": "gpt-4o", "context": 128000},
                     "anthropic/claude-haiku-4-5"])
    r = run(openai_call(m, chat(model="gpt-4o")), env_for(cfg, log))
    out = json.loads(r.stdout)
    check(out["choices"][0]["message"]["content"].startswith("Hello from claude"), "larger window answered")
    eq(len(m.requests("backup")), 0, "a window no larger than the failed one is skipped")
    reasons = [(l["provider"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"]
    eq(reasons[0], ("openai", "context"), "context verdict")
    # a plain 400 that is not about context still goes back untouched
    m.reset_all()
    m.set("oai", behaviour="400")
    r = run(openai_call(m, chat(), "-w", "\n%{http_code}"), env_for(cfg))
    eq(r.stdout.decode().rpartition("\n")[2], "400", "plain 400 untouched")


def test_account_failures_in_each_providers_words_fall_back():
    """What each API really says of a bad key or an account out of credit
    (Gemini's bad key and Anthropic's spent credit are 400s, which a plain
    request error also is) falls back, for a program of each dialect; so
    does Anthropic's other wording of a prompt too long for the window. A
    Gemini 429 asks its wait in the body (no Retry-After): a short one is
    waited for on the same provider."""
    m = mock()
    programs = (("oai", lambda: openai_call(m, chat(model="gpt-4o"))),
                ("claude", lambda: anthropic_call(m, {"model": "claude-sonnet-4-5", "max_tokens": 100,
                                                      "messages": [{"role": "user", "content": "hi"}]})),
                ("gem", lambda: gemini_call(m, {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})))
    for name, call in programs:
        for what in ("bad_key", "no_credit") + (("context_limit",) if name == "claude" else ()):
            m.reset_all()
            m.set(name, behaviour=what)
            log = new_log("account.log")
            # (a prompt too long for Claude's window goes to a larger one only)
            big = what == "context_limit"
            r = run(call(), env_for(config(m, ["gemini/gemini-2.5-pro" if big else "backup/gpt-4o-mini"]), log))
            who = b"Hello from gem" if big else b"Hello from backup"
            check(who in r.stdout, f"{name} {what}: the chain answered ({r.stdout[:160]!r})")
            steps = [(l["status"], l["reason"]) for l in read_log(log) if l["event"] == "attempt"]
            check(len(steps) == 2 and steps[0][1] in ("auth", "billing", "rate_limited", "context"),
                  f"{name} {what}: judged for what it is ({steps})")
    m.reset_all()
    m.set("gem", behaviour=["429", "ok"], retry_after=1)
    r = run(gemini_call(m, {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
            env_for(config(m, ["backup/gpt-4o-mini"], retry={"max_wait_ms": 2000})))
    check(b"Hello from gem" in r.stdout, f"gemini answered after the wait its 429 asked ({r.stdout[:160]!r})")
    eq((len(m.requests("gem")), len(m.requests("backup"))), (2, 0), "asked twice, no fallback")


def stream_text(dialect, out):
    """The answer's text read back from a stream in the program's dialect,
    and whether it was properly terminated."""
    text, ended = "", False
    for block in out.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(l[6:] for l in block.splitlines() if l.startswith("data: "))
        event = next((l[7:] for l in block.splitlines() if l.startswith("event: ")), "")
        if not data:
            continue
        if data == "[DONE]":
            ended = dialect == "openai"
            continue
        j = json.loads(data)
        if dialect == "openai":
            for c in j["choices"][:1]:   # (none in the usage chunk)
                text += c["delta"].get("content") or ""
        elif dialect == "anthropic":
            text += j.get("delta", {}).get("text", "")
            ended = ended or event == "message_stop"
        else:
            cand = j["candidates"][0]
            text += "".join(p.get("text", "") for p in cand["content"]["parts"])
            ended = ended or "finishReason" in cand
    return text, ended


def gemini_invalid_chunks(out):
    """The chunks of a Gemini stream that @google/genai's chat judges invalid
    (isValidResponse): no candidate, no content, no parts, or an empty part.
    One such chunk and the chat drops the whole exchange from its history."""
    bad = []
    for block in out.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(l[6:] for l in block.splitlines() if l.startswith("data: "))
        if not data:
            continue
        cand = (json.loads(data).get("candidates") or [{}])[0]
        parts = (cand.get("content") or {}).get("parts")
        if not parts or any(not p for p in parts):
            bad.append(data)
    return bad


def test_streams_across_every_dialect_pair():
    m = mock()
    callers = {
        "openai": ("oai", "/chat/completions", {"model": "gpt-4o", "stream": True,
                                                "messages": [{"role": "user", "content": "hi"}]},
                   ["-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}"]),
        "anthropic": ("claude", "/messages", {"model": "claude-opus-4-7", "max_tokens": 50, "stream": True,
                                              "messages": [{"role": "user", "content": "hi"}]},
                      ["-H", f"x-api-key: {KEYS['ANTHROPIC_API_KEY']}", "-H", "anthropic-version: 2023-06-01"]),
        "gemini": ("gem", "/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
                   {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
                   ["-H", f"x-goog-api-key: {KEYS['GEMINI_API_KEY']}"]),
    }
    members = {"openai": ("backup/gpt-4o-mini", "backup (gpt-4o-mini)"),
               "anthropic": ("anthropic/claude-haiku-4-5", "claude (claude-haiku-4-5)"),
               "gemini": ("gemini/gemini-2.5-flash", "gem (gemini-2.5-flash)")}
    for caller, (server, path, body, hdrs) in callers.items():
        for member, (entry, who) in members.items():
            if member == caller:
                continue
            m = mock()   # every server back to "ok"
            m.set(server, behaviour="503")
            base = m.base(server, "/v1beta" if caller == "gemini" else "/v1")
            r = run([CURL, "-sS", "-N", base + path, "-H", "content-type: application/json", *hdrs,
                     "-d", json.dumps(body)], env_for(config(m, [entry])))
            text, ended = stream_text(caller, r.stdout.decode())
            eq(text, f"Hello from {who}", f"{caller} program, {member} member: the text")
            check(ended, f"{caller} program, {member} member: its dialect's end of stream")
            if caller == "gemini":
                eq(gemini_invalid_chunks(r.stdout.decode()), [], f"{member} member: every chunk has parts")


def test_an_openai_stream_gets_its_usage_as_openai_sends_it():
    """stream_options.include_usage: OpenAI sends "usage": null in every
    chunk and the usage in one chunk more, with "choices": [], just before
    [DONE]; SDKs read it there (a chunk with choices is not the usage). A
    stream translated from Anthropic or Gemini does the same, and without
    include_usage carries no usage at all, as OpenAI's."""
    for member, entry in (("claude", "anthropic/claude-haiku-4-5"), ("gem", "gemini/gemini-2.5-flash")):
        for asked in (True, False):
            m = mock()
            m.set("oai", behaviour="503")
            body = chat(stream=True, **({"stream_options": {"include_usage": True}} if asked else {}))
            r = run(openai_call(m, body, "-N"), env_for(config(m, [entry])))
            data = [l[6:] for l in r.stdout.decode().splitlines() if l.startswith("data: ")]
            eq(data[-1], "[DONE]", f"{member}: the stream ends")
            chunks = [json.loads(d) for d in data[:-1]]
            if asked:
                last = chunks[-1]
                eq(last["choices"], [], f"{member}: the usage chunk has no choices")
                u = last.get("usage") or {}
                check(u.get("prompt_tokens", 0) > 0 and u.get("completion_tokens", 0) > 0 and
                      u.get("total_tokens") == u["prompt_tokens"] + u["completion_tokens"], f"{member}: its usage {u}")
                eq([c.get("usage", "absent") for c in chunks[:-1]], [None] * (len(chunks) - 1),
                   f"{member}: every other chunk says usage null")
            else:
                eq([c for c in chunks if "usage" in c or not c["choices"]], [], f"{member}: no usage unasked")


def test_requests_another_dialect_would_change_are_skipped():
    """Nulls are "not given" (an OpenAI SDK writes them); an Anthropic
    prefill (a last assistant turn, which Claude continues), a tool result
    with an image and MCP servers (tools Anthropic's servers call) have no
    faithful form elsewhere: those members are skipped as incompatible,
    never sent the request changed."""
    m = mock()
    m.set("oai", behaviour="503")
    r = run(openai_call(m, chat(top_p=None, stream=None, tool_choice=None, temperature=None)),
            env_for(config(m, ["anthropic/claude-haiku-4-5"])))
    check(json.loads(r.stdout)["choices"][0]["message"]["content"].startswith("Hello from claude"), "Anthropic answered")
    sent = json.loads(m.requests("claude")[-1]["body"])
    eq([k for k, v in sent.items() if v is None or k == "tool_choice"], [], "no null and no tool_choice sent")
    tool_image = [{"role": "user", "content": "screenshot"},
                  {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "shot", "input": {}}]},
                  {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [
                      {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                   "data": base64.b64encode(b"png").decode()}}]}]}]
    prefill = [{"role": "user", "content": "Ada as JSON"}, {"role": "assistant", "content": "{"}]
    mcp = {"mcp_servers": [{"type": "url", "url": "https://mcp.example.com/sse", "name": "jira"}]}
    for what, msgs, extra in (("tool_result image", tool_image, {}), ("prefill", prefill, {}),
                              ("mcp_servers", [{"role": "user", "content": "my open tickets?"}], mcp)):
        m = mock()
        m.set("claude", behaviour="503")
        log = new_log("changed.log")
        r = run(anthropic_call(m, dict({"model": "claude-sonnet-4-5", "max_tokens": 50, "messages": msgs}, **extra)),
                env_for(config(m, ["backup/gpt-4o-mini", "gemini/gemini-2.5-flash"]), log))
        eq(json.loads(r.stdout).get("type"), "error", f"{what}: the original failure")
        eq(len(m.requests("backup")) + len(m.requests("gem")), 0, f"{what}: no member sent it")
        skips = [(l["provider"], l["reason"]) for l in read_log(log) if l.get("outcome") == "skipped"]
        eq(skips, [("backup", "incompatible"), ("gemini", "incompatible")], f"{what}: logged as incompatible")


def test_a_gemini_program_never_gets_content_without_parts():
    """Google's SDKs take a candidate whose content has no parts for an
    invalid answer (@google/genai's chat then drops the exchange from its
    history, and the next turn goes without it). A translated answer with no
    text and no call, whole or streamed (the closing chunk of any stream),
    has one part, {"text": ""}, as Gemini's own text-less chunk."""
    for member, entry in (("backup", "backup/gpt-4o-mini"), ("claude", "anthropic/claude-haiku-4-5")):
        m = mock()
        m.set("gem", behaviour="503")
        m.set(member, behaviour="empty_answer")
        body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
        out = json.loads(run(gemini_call(m, body), env_for(config(m, [entry], verdict={"empty": False}))).stdout)
        cand = out["candidates"][0]
        eq((cand["content"], cand["finishReason"]), ({"parts": [{"text": ""}], "role": "model"}, "STOP"),
           f"{member}'s empty answer, whole")
        m.set(member, behaviour="ok")
        r = run([CURL, "-sS", "-N", m.base("gem", "/v1beta") + "/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
                 "-H", f"x-goog-api-key: {KEYS['GEMINI_API_KEY']}", "-H", "content-type: application/json",
                 "-d", json.dumps(body)], env_for(config(m, [entry])))
        chunks = [json.loads(l[6:]) for l in r.stdout.decode().splitlines() if l.startswith("data: ")]
        last = chunks[-1]["candidates"][0] if chunks else {}
        eq((last.get("content"), last.get("finishReason")), ({"parts": [{"text": ""}], "role": "model"}, "STOP"),
           f"{member}'s stream: the closing chunk")


def test_an_openai_refusal_is_the_answers_text_in_other_dialects():
    """An OpenAI member's refusal (message.refusal and no content; in a
    stream, delta.refusal), when the verdict lets it through, is the text of
    the answer in the program's dialect: Anthropic's with stop_reason
    "refusal", Gemini's ending STOP."""
    refusal = "I'm sorry, I cannot assist with that request."
    hi = [{"role": "user", "content": "hi"}]
    callers = {"anthropic": ("claude", "/v1", "/messages", {"model": "claude-opus-4-7", "max_tokens": 50, "messages": hi},
                             ["-H", f"x-api-key: {KEYS['ANTHROPIC_API_KEY']}", "-H", "anthropic-version: 2023-06-01"],
                             "refusal"),
               "gemini": ("gem", "/v1beta", "/models/gemini-2.5-pro:generateContent",
                          {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
                          ["-H", f"x-goog-api-key: {KEYS['GEMINI_API_KEY']}"], "STOP")}
    for caller, (server, prefix, path, body, hdrs, stop) in callers.items():
        m = mock()
        m.set(server, behaviour="503")
        m.set("backup", behaviour="refusal")
        cmd = [CURL, "-sS", m.base(server, prefix) + path, "-H", "content-type: application/json", *hdrs]
        out = json.loads(run(cmd + ["-d", json.dumps(body)],
                             env_for(config(m, ["backup/gpt-4o-mini"], verdict={"refusal": False}))).stdout)
        if caller == "anthropic":
            got = ([b.get("text") for b in out["content"]], out["stop_reason"])
        else:
            got = ([p.get("text") for p in out["candidates"][0]["content"]["parts"]], out["candidates"][0]["finishReason"])
        eq(got, ([refusal], stop), f"{caller} program: the refusal, whole")
        # streamed: its first delta is the refusal (judged so, held or not), so with refusal checks off
        m.set("backup", behaviour="stream_structured_refusal")
        if caller == "anthropic":
            cmd[2], sbody = m.base(server, prefix) + path, dict(body, stream=True)
        else:
            cmd[2], sbody = m.base(server, prefix) + path.replace(":generateContent", ":streamGenerateContent?alt=sse"), body
        out = run(cmd[:2] + ["-N"] + cmd[2:] + ["-d", json.dumps(sbody)],
                  env_for(config(m, ["backup/gpt-4o-mini"], verdict={"refusal": False}))).stdout.decode()
        text, ended = stream_text(caller, out)
        eq((text, stream_tool_call(caller, out)[2], ended), (refusal, stop, True), f"{caller} program: the refusal, streamed")


def test_an_openai_member_saying_its_finish_early_streams_the_whole_answer():
    """An OpenAI-dialect member behind a proxy that puts finish_reason
    "stop", and the usage so far, on every chunk: an Anthropic program's
    stream has the whole answer in one text block and one message_delta, at
    the end; a Gemini program's has the whole text and one finishReason,
    on its last chunk (the answer was cut after its first piece, or its
    blocks closed and reopened around message_delta)."""
    hi = [{"role": "user", "content": "hi"}]
    callers = {"anthropic": ("claude", "/v1", "/messages",
                             {"model": "claude-opus-4-7", "max_tokens": 50, "stream": True, "messages": hi},
                             ["-H", f"x-api-key: {KEYS['ANTHROPIC_API_KEY']}", "-H", "anthropic-version: 2023-06-01"]),
               "gemini": ("gem", "/v1beta", "/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
                          {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
                          ["-H", f"x-goog-api-key: {KEYS['GEMINI_API_KEY']}"])}
    m = mock()
    for caller, (server, prefix, path, body, hdrs) in callers.items():
        m.reset_all()
        m.set(server, behaviour="503")
        m.set("backup", behaviour="ok")
        cmd = [CURL, "-sS", "-N", m.base(server, prefix) + path, "-H", "content-type: application/json", *hdrs,
               "-d", json.dumps(body)]
        cfg = config(m, ["backup/gpt-4o-mini"])
        whole, _ = stream_text(caller, run(cmd, env_for(cfg)).stdout.decode())
        check(whole.startswith("Hello from backup"), f"{caller}: the member's usual stream ({whole!r})")
        m.set("backup", behaviour="stream_finish_every_chunk")
        out = run(cmd, env_for(cfg)).stdout.decode()
        text, ended = stream_text(caller, out)
        eq((text, ended), (whole, True), f"{caller}: the whole answer, ended")
        if caller == "anthropic":
            events = [l[7:] for l in out.splitlines() if l.startswith("event: ")]
            eq((events.count("content_block_start"), events.count("message_delta"), events[-2:]),
               (1, 1, ["message_delta", "message_stop"]), f"one block, closed once at the end ({events})")
            check('"output_tokens": 3' in out or '"output_tokens":3' in out, "the last usage said")
        else:
            eq(out.count("finishReason"), 1, f"one finishReason ({out[-300:]!r})")


def test_gemini_tuned_models_and_an_encoded_colon():
    """A Gemini call to a tuned model (/tunedModels/NAME:generateContent), or
    with its colon percent-encoded as some HTTP clients write it, is a call
    like any other; a tuned model in a chain is asked at its own path."""
    body = json.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    for path in ("/tunedModels/my-tune-7:generateContent", "/models/gemini-2.0-flash%3AgenerateContent"):
        m = mock()
        m.set("gem", behaviour="503")
        r = run([CURL, "-sS", m.base("gem", "/v1beta") + path, "-H", f"x-goog-api-key: {KEYS['GEMINI_API_KEY']}",
                 "-H", "content-type: application/json", "-d", body], env_for(config(m, ["backup/gpt-4o-mini"])))
        out = json.loads(r.stdout)
        eq(out.get("candidates", [{}])[0].get("content", {}).get("parts"), [{"text": "Hello from backup (gpt-4o-mini)"}],
           f"{path}: answered by the chain")
    m = mock()
    m.set("oai", behaviour="503")
    out = json.loads(run(openai_call(m, chat(system=None)), env_for(config(m, ["gemini/tunedModels/my-tune-7"]))).stdout)
    eq(out["choices"][0]["message"]["content"], "Hello from gem (tunedModels/my-tune-7)", "answered by the tuned model")
    eq(m.requests("gem")[0]["path"], "/v1beta/tunedModels/my-tune-7:generateContent", "asked at its own path")


def stream_tool_call(dialect, out):
    """The tool call read back from a stream in the program's dialect, as its
    SDK assembles one: (name, arguments as parsed, why it stopped)."""
    name, args, stop = None, "", None
    for block in out.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(l[6:] for l in block.splitlines() if l.startswith("data: "))
        if not data or data == "[DONE]":
            continue
        j = json.loads(data)
        if dialect == "openai":
            ch = (j.get("choices") or [{}])[0]
            for tc in (ch.get("delta") or {}).get("tool_calls") or []:
                name = tc.get("function", {}).get("name") or name
                args += tc.get("function", {}).get("arguments") or ""
            stop = ch.get("finish_reason") or stop
        elif dialect == "anthropic":
            if j.get("type") == "content_block_start" and j["content_block"]["type"] == "tool_use":
                name = j["content_block"]["name"]
            if j.get("type") == "content_block_delta" and j["delta"]["type"] == "input_json_delta":
                args += j["delta"]["partial_json"]
            if j.get("type") == "message_delta":
                stop = j["delta"].get("stop_reason")
        else:
            cand = j["candidates"][0]
            for p in cand["content"]["parts"]:
                if "functionCall" in p:
                    name, args = p["functionCall"]["name"], json.dumps(p["functionCall"].get("args", {}))
            stop = cand.get("finishReason") or stop
    return name, json.loads(args) if args else None, stop


def test_streamed_tool_calls_across_every_dialect_pair():
    """A tool call streamed by a member of another dialect reaches a
    streaming program as its own dialect streams one: the name, the
    arguments assembled from their pieces, the stop reason that says a tool
    was called."""
    m = mock()
    params = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    ask = "weather? [call:get_weather]"
    callers = {
        "openai": ("oai", "/chat/completions",
                   {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": ask}],
                    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                                                "parameters": params}}]},
                   ["-H", f"Authorization: Bearer {KEYS['OPENAI_API_KEY']}"], "tool_calls"),
        "anthropic": ("claude", "/messages",
                      {"model": "claude-opus-4-7", "max_tokens": 200, "stream": True,
                       "messages": [{"role": "user", "content": ask}],
                       "tools": [{"name": "get_weather", "description": "Weather", "input_schema": params}]},
                      ["-H", f"x-api-key: {KEYS['ANTHROPIC_API_KEY']}", "-H", "anthropic-version: 2023-06-01"],
                      "tool_use"),
        "gemini": ("gem", "/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
                   {"contents": [{"role": "user", "parts": [{"text": ask}]}],
                    "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Weather",
                                                         "parameters": params}]}]},
                   ["-H", f"x-goog-api-key: {KEYS['GEMINI_API_KEY']}"], "STOP"),
    }
    members = {"openai": "backup/gpt-4o-mini", "anthropic": "anthropic/claude-haiku-4-5",
               "gemini": "gemini/gemini-2.5-flash"}
    for caller, (server, path, body, hdrs, stop) in callers.items():
        for member, entry in members.items():
            if member == caller:
                continue
            m = mock()
            m.set(server, behaviour="503")
            base = m.base(server, "/v1beta" if caller == "gemini" else "/v1")
            r = run([CURL, "-sS", "-N", base + path, "-H", "content-type: application/json", *hdrs,
                     "-d", json.dumps(body)], env_for(config(m, [entry])))
            got = stream_tool_call(caller, r.stdout.decode())
            eq(got, ("get_weather", {"city": "Paris"}, stop),
               f"{caller} program, {member} member: the streamed call ({r.stdout.decode()[-300:]!r})")
            if caller == "gemini":
                eq(gemini_invalid_chunks(r.stdout.decode()), [], f"{member} member: every chunk has parts")


def test_gemini_function_names_other_dialects_refuse_come_back_as_the_programs():
    """Gemini's function names may hold '.' and ':' ("weather.get"), which
    OpenAI and Anthropic refuse (400): their members are sent "weather_get",
    and the call they make reaches the Gemini program, whole or streamed, by
    its own name."""
    params = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    body = {"contents": [{"role": "user", "parts": [{"text": "weather? [call:weather_get]"}]}],
            "tools": [{"functionDeclarations": [{"name": "weather.get", "description": "Weather",
                                                 "parameters": params}]}]}
    spath = "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
    for server, entry in (("backup", "backup/gpt-4o-mini"), ("claude", "anthropic/claude-haiku-4-5")):
        for client in ("curl", "curl stream", "relay stream"):
            m = mock()
            m.set("gem", behaviour="503")
            if client == "curl":
                argv = gemini_call(m, body)
            elif client == "curl stream":
                argv = [CURL, "-sS", "-N", m.base("gem", "") + spath, "-H", f"x-goog-api-key: {KEYS['GEMINI_API_KEY']}",
                        "-H", "content-type: application/json", "-d", json.dumps(body)]
            else:   # (Python's http.client: the socket path and the relay)
                argv = [PY, "-c", f"""
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", {m.port("gem")}, timeout=10)
c.request("POST", "{spath}", body={json.dumps(json.dumps(body))},
          headers={{"x-goog-api-key": "{KEYS['GEMINI_API_KEY']}", "content-type": "application/json"}})
sys.stdout.write(c.getresponse().read().decode())
"""]
            r = run(argv, env_for(config(m, [entry])))
            out = r.stdout.decode()
            if client == "curl":
                fc = json.loads(out)["candidates"][0]["content"]["parts"][0]["functionCall"]
                got = (fc["name"], fc["args"], "STOP")
            else:
                got = stream_tool_call("gemini", out)
            eq(got, ("weather.get", {"city": "Paris"}, "STOP"), f"{server} member, {client}: {out[-300:]!r}")
            sent = json.loads(m.requests(server)[-1]["body"])
            names = [t.get("name") or t["function"]["name"] for t in sent["tools"]]
            eq(names, ["weather_get"], f"{server} member, {client}: the name it was sent")


def test_an_anthropic_programs_long_tool_names_come_back_as_its_own():
    """Claude takes tool names of up to 128 characters (Claude Code's MCP
    plugins' mcp__plugin_<plugin>_<server>__<tool> often pass 64), which
    OpenAI refuses (400, 64 at most): members of other dialects are sent
    them cut to 64, and the call they make reaches the Anthropic program,
    whole or streamed, by its own name."""
    long = "mcp__plugin_atlassian-mcp_atlassian__getJiraProjectIssueTypesMetadataForAProject"
    cut = long[:64]
    params = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    body = {"model": "claude-sonnet-4-5", "max_tokens": 200,
            "tools": [{"name": long, "description": "issue types", "input_schema": params},
                      {"name": "short", "input_schema": params}],
            "messages": [{"role": "user", "content": f"issue types? [call:{cut}]"}]}
    for server, entry in (("backup", "backup/gpt-4o-mini"), ("gem", "gemini/gemini-2.5-flash")):
        for stream in (False, True):
            m = mock()
            m.set("claude", behaviour="503")
            argv = anthropic_call(m, dict(body, stream=True) if stream else body)
            out = run(argv[:2] + ["-N"] + argv[2:], env_for(config(m, [entry]))).stdout.decode()
            if stream:
                got = stream_tool_call("anthropic", out)
            else:
                j = json.loads(out)
                use = [b for b in j["content"] if b["type"] == "tool_use"]
                got = (use[0]["name"] if use else None, use[0]["input"] if use else None, j.get("stop_reason"))
            eq(got, (long, {"city": "Paris"}, "tool_use"), f"{server} member, stream {stream}: {out[-300:]!r}")
            sent = json.loads(m.requests(server)[-1]["body"])
            names = [d["name"] for t in sent["tools"] for d in t.get("functionDeclarations", [])] \
                if server == "gem" else [t["function"]["name"] for t in sent["tools"]]
            eq(names, [cut, "short"], f"{server} member: the names it was sent")


def scripted_member(events, ctype="text/event-stream"):
    """A loopback member that answers every POST 200 with these SSE events
    (or other pieces), chunked, and then ends its body cleanly. Returns
    (base URL, the bodies it received, stop)."""
    import http.server
    import threading

    bodies = []

    class Member(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            bodies.append(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for ev in events:
                b = ev.encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Member)
    # a client that drops a stream it has judged (a blocked prompt, at its
    # first event) closes with the rest unread, so the kernel resets the
    # connection: not an error here, and its traceback is noise in the log
    srv.handle_error = lambda *a: None
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{srv.server_port}/v1", bodies, srv.shutdown


def member_at(m, base, name, member="backup", **extra):
    """A config whose one member, backup (or gemini), is served at base."""
    entry = {"backup": "backup/gpt-4o-mini", "gemini": "gemini/gemini-2.5-flash"}[member]
    cfg = json.load(open(config(m, [entry], **extra)))
    cfg["providers"][member]["base_url"] = base if member == "backup" else base.replace("/v1", "/v1beta")
    return write_config(cfg, name)


def test_a_streamed_blocked_prompt_falls_back_or_comes_back_whole():
    """A Gemini primary that blocks the prompt streams one chunk of
    promptFeedback and no candidate: an empty, filtered answer, which falls
    back to a member; when nothing can replace it, the program gets it back
    whole (its one event was the whole stream), on both paths."""
    ev = ('data: {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": '
          '{"promptTokenCount": 5, "totalTokenCount": 5}, "modelVersion": "gemini-2.5-pro"}\r\n\r\n')
    base, _, stop = scripted_member([ev])
    try:
        m = mock()
        gbase = base.replace("/v1", "/v1beta")
        path = "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
        body = json.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
        port = int(base.split(":")[2].split("/")[0])
        curl = [CURL, "-sS", "-N", f"http://127.0.0.1:{port}{path}", "-H", f"x-goog-api-key: {KEYS['GEMINI_API_KEY']}",
                "-H", "content-type: application/json", "-d", body]
        py = [PY, "-c", f"""
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", {port}, timeout=10)
c.request("POST", "{path}", body={body!r}, headers={{"x-goog-api-key": "{KEYS['GEMINI_API_KEY']}"}})
r = c.getresponse()
try:
    sys.stdout.write(r.read().decode())
except (http.client.IncompleteRead, ConnectionError):
    sys.stdout.write("[broken]")
"""]
        for chain, want in (([], "whole"), (["backup/gpt-4o-mini"], "backup")):
            cfg = json.load(open(config(m, chain)))
            cfg["providers"]["gemini"]["base_url"] = gbase
            env = env_for(write_config(cfg, "blocked.json"))
            for client, argv in (("curl", curl), ("relay", py)):
                r = run(argv, env)
                out = r.stdout.decode()
                if want == "whole":
                    eq((r.returncode, out), (0, ev), f"{client}: nothing replaces it: the stream, whole ({r.stderr.decode()[-200:]})")
                else:
                    text = "".join(p.get("text", "") for l in out.splitlines() if l.startswith("data: {")
                                   for c in json.loads(l[6:]).get("candidates", [])
                                   for p in c.get("content", {}).get("parts", []))
                    check(text.startswith("Hello from backup"), f"{client}: the backup answered ({out[:200]!r})")
    finally:
        stop()


def stream_call(m, client="curl", dialect="anthropic"):
    """A streamed call of an Anthropic (or OpenAI) program to its mock, by
    curl (the libcurl hooks) or by Python's http.client (the socket path and
    relay)."""
    msgs = [{"role": "user", "content": "hi"}]
    if dialect == "anthropic":
        server, path = "claude", "/v1/messages"
        body = {"model": "claude-opus-4-7", "max_tokens": 50, "stream": True, "messages": msgs}
        hdrs = {"x-api-key": KEYS["ANTHROPIC_API_KEY"], "anthropic-version": "2023-06-01"}
    else:
        server, path = "oai", "/v1/chat/completions"
        body = {"model": "gpt-4o", "stream": True, "stream_options": {"include_usage": True}, "messages": msgs}
        hdrs = {"authorization": f"Bearer {KEYS['OPENAI_API_KEY']}"}
    hdrs["content-type"] = "application/json"
    if client == "curl":
        return [CURL, "-sS", "-N", m.base(server, path), "-d", json.dumps(body),
                *[a for k, v in hdrs.items() for a in ("-H", f"{k}: {v}")]]
    script = f"""
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", {m.port(server)}, timeout=10)
c.request("POST", "{path}", body={json.dumps(json.dumps(body))}, headers={hdrs!r})
r = c.getresponse()
try:
    while True:
        b = r.read1(65536)
        if not b:
            break
        sys.stdout.write(b.decode())
except (http.client.IncompleteRead, ConnectionError):
    sys.stdout.write("[broken]")
"""
    return [PY, "-c", script]


def test_a_translated_stream_cut_short_stays_broken():
    """A member whose stream stops after a delta, without a finish or its
    terminator, though its HTTP body ends cleanly: the program, in another
    dialect, must see a broken transfer, never its dialect's end of stream."""
    cut = ['data: {"id":"chatcmpl-c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",'
           '"choices":[{"index":0,"delta":{"role":"assistant","content":"The answer is"},"finish_reason":null}]}\n\n']
    base, _, stop = scripted_member(cut)
    try:
        m = mock()
        m.set("claude", behaviour="503")
        cfg = member_at(m, base, "cut.json")
        r = run(stream_call(m), env_for(cfg))
        out = r.stdout.decode()
        check("The answer is" in out, "the text so far went out live")
        check("message_stop" not in out and "stop_reason\":\"end_turn" not in out, f"no end of stream: {out}")
        eq(r.returncode, 18, "curl reports the transfer cut short")
        r = run(stream_call(m, "python"), env_for(cfg))
        out = r.stdout.decode()
        check("The answer is" in out and "message_stop" not in out and out.endswith("[broken]"),
              f"through the relay the connection breaks: {out[-200:]}")
    finally:
        stop()


def oai_tool_chunks(calls):
    """An OpenAI-dialect member's stream of tool-call deltas (each a list of
    tool_calls elements), then the finish reason and [DONE]."""
    def chunk(delta, fin=None):
        return "data: " + json.dumps({"id": "chatcmpl-t", "object": "chat.completion.chunk", "created": 1,
                                      "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": delta,
                                                                           "logprobs": None, "finish_reason": fin}]}) + "\n\n"
    return ([chunk({"role": "assistant", "content": None})] + [chunk({"tool_calls": c}) for c in calls] +
            [chunk({}, "tool_calls"), "data: [DONE]\n\n"])


def anthropic_tool_uses(out):
    """The tool_use blocks of an Anthropic stream as the Anthropic SDK
    assembles them (by the block's index, input_json_delta pieces joined and
    parsed at its stop): [(id, name, input)], the stop reason, whether
    blocks came one at a time and in order, and whether it ended."""
    blocks, order_ok, stop, ended, open_ix = {}, True, None, False, None
    for block in out.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(l[6:] for l in block.splitlines() if l.startswith("data: "))
        if not data:
            continue
        j = json.loads(data)
        t = j.get("type")
        if t == "content_block_start":
            order_ok &= open_ix is None and j["index"] == len(blocks)
            open_ix = j["index"]
            blocks[j["index"]] = dict(j["content_block"], partial="")
        elif t == "content_block_delta":
            order_ok &= j["index"] == open_ix
            if j["delta"]["type"] == "input_json_delta":
                blocks[j["index"]]["partial"] += j["delta"]["partial_json"]
        elif t == "content_block_stop":
            order_ok &= j["index"] == open_ix
            open_ix = None
        elif t == "message_delta":
            stop = j["delta"].get("stop_reason")
        elif t == "message_stop":
            ended = True
    uses = []
    for b in blocks.values():
        if b["type"] == "tool_use":
            try:
                inp = json.loads(b["partial"]) if b["partial"] else b.get("input")
            except ValueError:
                inp = "not JSON: " + b["partial"]
            uses.append((b.get("id"), b.get("name"), inp))
    return uses, stop, order_ok, ended


def test_streamed_openai_tool_calls_are_keyed_on_their_index():
    """An OpenAI-dialect member's streamed tool calls are named by their
    index, as OpenAI's SDKs read them: two calls whose argument pieces come
    interleaved, the id repeated on every delta (vLLM), an empty id on the
    later deltas, no id at all. An Anthropic program (curl, and Python
    through the relay) gets one tool_use block per call, whole and in
    order, each with an id; a Gemini program one functionCall per call."""
    def call(ix, args="", id=None, name=None):
        c = {"index": ix, "function": {"arguments": args}}
        if id is not None:
            c.update(id=id, type="function")
        if name is not None:
            c["function"]["name"] = name
        return [c]
    city = ['{"city":', '"Paris"}']
    shapes = {
        "interleaved": [call(0, "", "call_A", "get_weather"), call(1, "", "call_B", "get_time"),
                        call(0, city[0]), call(1, "{}"), call(0, city[1])],
        "repeated id": [call(0, "", "call_A", "get_weather"), call(0, city[0], "call_A"), call(0, city[1], "call_A")],
        "empty id": [call(0, "", "call_A", "get_weather"), call(0, city[0], ""), call(0, city[1], "")],
        "no id": [call(0, city[0], name="get_weather"), call(0, city[1])],
    }
    weather = ("get_weather", {"city": "Paris"})
    want = {"interleaved": [("call_A",) + weather, ("call_B", "get_time", {})],
            "repeated id": [("call_A",) + weather], "empty id": [("call_A",) + weather],
            "no id": [("call_chatcmpl-t_0",) + weather]}
    for shape, calls in shapes.items():
        base, _, stop = scripted_member(oai_tool_chunks(calls))
        try:
            m = mock()
            m.set("claude", behaviour="503")
            m.set("gem", behaviour="503")
            cfg = member_at(m, base, "tool_index.json")
            for client in ("curl", "python"):
                r = run(stream_call(m, client), env_for(cfg))
                out = r.stdout.decode()
                eq(anthropic_tool_uses(out), (want[shape], "tool_use", True, True),
                   f"{shape}, Anthropic program by {client}: one whole tool_use per call ({out[-600:]!r})")
            r = run([CURL, "-sS", "-N", m.base("gem", "/v1beta") + "/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
                     "-H", f"x-goog-api-key: {KEYS['GEMINI_API_KEY']}", "-H", "content-type: application/json",
                     "-d", json.dumps({"contents": [{"role": "user", "parts": [{"text": "weather?"}]}]})], env_for(cfg))
            out = r.stdout.decode()
            got = [(p["functionCall"]["name"], p["functionCall"].get("args"))
                   for l in out.splitlines() if l.startswith("data: {")
                   for c in json.loads(l[6:]).get("candidates", []) for p in c.get("content", {}).get("parts", [])
                   if "functionCall" in p]
            eq((r.returncode, got), (0, [w[1:] for w in want[shape]]),
               f"{shape}, Gemini program: one functionCall per call ({out[-400:]!r})")
        finally:
            stop()


def test_a_translated_stream_that_ends_after_its_finish_without_done_is_whole():
    """An OpenAI-compatible member that ends its body cleanly after the
    chunk with its finish reason but without data: [DONE] (some servers do;
    OpenAI's SDKs take it whole) gave a whole answer: the Anthropic program
    gets message_delta and message_stop, curl exits 0, the attempt is ok."""
    def chunk(delta, fin=None):
        return "data: " + json.dumps({"id": "chatcmpl-n", "object": "chat.completion.chunk", "created": 1,
                                      "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": delta,
                                                                           "finish_reason": fin}]}) + "\n\n"
    base, _, stop = scripted_member([chunk({"role": "assistant", "content": ""}), chunk({"content": "Hello world"}),
                                     chunk({}, "stop")])
    try:
        m = mock()
        m.set("claude", behaviour="503")
        cfg = member_at(m, base, "no_done.json")
        for client in ("curl", "python"):
            log = new_log(f"no_done_{client}.log")
            r = run(stream_call(m, client), env_for(cfg, log))
            out = r.stdout.decode()
            eq((r.returncode, out.endswith("[broken]")), (0, False), f"{client}: a complete transfer ({r.stderr.decode()[-200:]})")
            eq(stream_text("anthropic", out), ("Hello world", True), f"{client}: the text and message_stop")
            eq([x[0] for x in stream_close("anthropic", out)[0]], ["end_turn"], f"{client}: one message_delta")
            eq([(a["provider"], a["outcome"]) for a in read_log(log) if a.get("event", "attempt") == "attempt"],
               [("anthropic", "http_error"), ("backup", "ok")], f"{client}: the member's attempt is ok")
    finally:
        stop()


def test_an_openai_members_stream_usage_reaches_other_dialects():
    """An OpenAI-dialect member is asked for its stream's usage, which it
    sends in a last chunk of its own after the finish reason; the Anthropic
    program's message_delta carries it."""
    chunk = ('data: {{"id":"chatcmpl-u","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",'
             '"choices":{},"usage":{}}}\n\n')
    events = [chunk.format('[{"index":0,"delta":{"role":"assistant","content":"Hello there"},"finish_reason":null}]',
                           "null"),
              chunk.format('[{"index":0,"delta":{},"finish_reason":"stop"}]', "null"),
              chunk.format("[]", '{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14}'),
              "data: [DONE]\n\n"]
    base, bodies, stop = scripted_member(events)
    try:
        m = mock()
        m.set("claude", behaviour="503")
        r = run(stream_call(m), env_for(member_at(m, base, "usage.json")))
        eq(json.loads(bodies[0]).get("stream_options"), {"include_usage": True}, "the member was asked for usage")
        deltas = [json.loads(l[6:]) for l in r.stdout.decode().splitlines()
                  if l.startswith("data: ") and '"message_delta"' in l]
        eq([(d["delta"]["stop_reason"], d["usage"]) for d in deltas],
           [("end_turn", {"input_tokens": 12, "output_tokens": 2})], "one message_delta, with the usage")
        eq(stream_text("anthropic", r.stdout.decode()), ("Hello there", True), "text and end of stream")
    finally:
        stop()


def test_a_mistral_member_is_never_asked_for_stream_options():
    """Mistral refuses stream_options (422 extra_forbidden) and streams the
    usage unasked, in its last chunk with the finish reason. An Anthropic
    program's stream (with Claude Code's metadata.user_id, which Mistral
    refuses as user) and a Gemini program's (with a seed, Mistral's
    random_seed) translated for the mistral provider at another base URL
    are not asked for it, and their closing events carry that usage; an
    OpenAI program's own stream reaches it without its stream_options,
    store and seed by that name, and gets the usage as Mistral sends it."""
    m = mock()
    cfg = json.load(open(config(m, ["mistral/mistral-large-latest"])))
    cfg["providers"]["mistral"] = {"base_url": m.base("backup")}
    env = env_for(write_config(cfg, "mistral.json"), log=new_log("mistral.log"),
                  extra={"MISTRAL_API_KEY": KEYS["BACKUP_KEY"]})
    words = len("Hello from backup (mistral-large-latest)".split())
    msgs = [{"role": "user", "content": "hi"}]
    calls = {
        "anthropic": ("claude", anthropic_call(m, {"model": "claude-opus-4-7", "max_tokens": 50, "stream": True,
                                                    "metadata": {"user_id": "user_abc"}, "messages": msgs}),
                      {"max_tokens": 50, "stream": True}),
        "gemini": ("gem", [CURL, "-sS", m.base("gem", "/v1beta") + "/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
                           "-H", f"x-goog-api-key: {KEYS['GEMINI_API_KEY']}", "-H", "content-type: application/json",
                           "-d", json.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                                             "generationConfig": {"seed": 7}})],
                   {"random_seed": 7, "stream": True}),
        "openai": ("oai", openai_call(m, {"model": "gpt-4o", "messages": msgs, "stream": True, "store": True,
                                          "seed": 7, "stream_options": {"include_usage": True}}),
                   {"random_seed": 7, "stream": True}),
    }
    for dialect, (server, argv, sent_want) in calls.items():
        m = mock()
        m.set(server, behaviour="503")
        r = run(argv + ["-N"], env)
        out = r.stdout.decode()
        eq(stream_text(dialect, out), ("Hello from backup (mistral-large-latest)", True), f"{dialect}: answered")
        sent = json.loads(m.requests("backup")[0]["body"])
        eq({k: v for k, v in sent.items() if k not in ("model", "messages")}, sent_want, f"{dialect}: what Mistral got")
        if dialect == "gemini":
            last = json.loads([l[6:] for l in out.splitlines() if l.startswith("data: ")][-1])
            u = last.get("usageMetadata", {})
            eq((u.get("promptTokenCount"), u.get("candidatesTokenCount")), (9, words), "gemini: the usage")
        else:
            eq(stream_close(dialect, out)[0], [("stop" if dialect == "openai" else "end_turn", 9, words)],
               f"{dialect}: the finish and its usage")


def stream_close(dialect, out):
    """How a stream in the program's dialect closes: each finish with its
    usage, as (finish, input tokens, output tokens), and whether the finish
    is the last event before the terminator ([DONE], message_stop). OpenAI's
    usage comes in the chunk after the finish, with no choices (asked by
    stream_options.include_usage), the finish's."""
    events = []
    for block in out.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(l[6:] for l in block.splitlines() if l.startswith("data: "))
        event = next((l[7:] for l in block.splitlines() if l.startswith("event: ")), "")
        if data:
            events.append((event, None if data == "[DONE]" else json.loads(data)))
    finishes, last = [], -1
    for i, (event, j) in enumerate(events):
        if dialect == "openai" and j and j["choices"] and j["choices"][0].get("finish_reason"):
            u = j.get("usage") or {}
            finishes.append((j["choices"][0]["finish_reason"], u.get("prompt_tokens"), u.get("completion_tokens")))
        elif dialect == "openai" and j and not j["choices"] and finishes and last == i - 1:
            u = j.get("usage") or {}
            finishes[-1] = (finishes[-1][0], u.get("prompt_tokens"), u.get("completion_tokens"))
        elif dialect == "anthropic" and event == "message_delta":
            finishes.append((j["delta"]["stop_reason"], j["usage"].get("input_tokens"), j["usage"].get("output_tokens")))
        else:
            continue
        last = i
    terminator = ("", None) if dialect == "openai" else ("message_stop", {"type": "message_stop"})
    return finishes, last == len(events) - 2 and events[-1] == terminator


def test_a_gemini_members_stream_ends_as_gemini_ends_it():
    """A Gemini member's stream ends with its finishReason chunk or, its
    prompt blocked, is one chunk of promptFeedback.blockReason and no
    candidate; Gemini 3 sends its usage whole in a chunk of its own after
    the finish. A program of another dialect gets a complete stream (a
    blocked prompt: an empty answer ended by the filter, as a whole one is
    translated), closed once the member's stream is over with the last
    usage, and nothing after the close: through the libcurl hooks and the
    relay alike."""
    gem = 'data: {{{}"modelVersion":"gemini-3-pro-preview","responseId":"g1"}}\r\n\r\n'.format
    text = '"candidates":[{{"content":{{"parts":[{{"text":"{}"}}],"role":"model"}}{},"index":0}}],'.format
    blocked = [gem('"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":10,"totalTokenCount":10},')]
    usage_last = [gem(text("Hello ", "") + '"usageMetadata":{"promptTokenCount":10,"totalTokenCount":10},'),
                  gem(text("world", ',"finishReason":"STOP"') + '"usageMetadata":{"promptTokenCount":10,"totalTokenCount":10},'),
                  gem('"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":2,"totalTokenCount":12},')]
    # (a blocked prompt, let through: with refusal and empty checks off it
    # is the answer; with either on, it falls back)
    cases = [("blocked prompt", blocked, {"verdict": {"refusal": False, "empty": False}}, "",
              {"openai": ("content_filter", 10, 0), "anthropic": ("refusal", 10, 0)}),
             ("usage after the finish", usage_last, {}, "Hello world",
              {"openai": ("stop", 10, 2), "anthropic": ("end_turn", 10, 2)})]
    for name, events, extra, want, ends in cases:
        base, _, stop = scripted_member(events)
        try:
            m = mock()
            m.set("oai", behaviour="503")
            m.set("claude", behaviour="503")
            cfg = member_at(m, base, "gemini_end.json", "gemini", **extra)
            for caller in ("openai", "anthropic"):
                for client in ("curl", "python"):
                    r = run(stream_call(m, client, caller), env_for(cfg))
                    out, what = r.stdout.decode(), f"{name}, {caller} program by {client}"
                    check(r.returncode == 0 and not out.endswith("[broken]"), f"{what}: a complete transfer ({out[-300:]!r})")
                    eq(stream_text(caller, out), (want, True), f"{what}: the text and its dialect's end of stream")
                    eq(stream_close(caller, out), ([ends[caller]], True),
                       f"{what}: one close, with the last usage, and nothing after it")
        finally:
            stop()


def test_a_gemini_stream_without_alt_sse_passes_through():
    """Without ?alt=sse Gemini streams one JSON array, not events: the call
    is not judged or translated (it would look like an empty event stream)
    and reaches the program exactly as the provider sent it."""
    pieces = ['[{"candidates":[{"content":{"parts":[{"text":"Hello from the "}],"role":"model"},"index":0}]}\n',
              ',{"candidates":[{"content":{"parts":[{"text":"primary"}],"role":"model"},"finishReason":"STOP",'
              '"index":0}]}\n]']
    base, bodies, stop = scripted_member(pieces, "application/json; charset=UTF-8")
    try:
        m = mock()
        cfg = json.load(open(config(m, ["backup/gpt-4o-mini"])))
        cfg["providers"]["gemini"]["base_url"] = base.replace("/v1", "/v1beta")
        log = new_log("noalt.log")
        call = [CURL, "-sS", "-N", base.replace("/v1", "/v1beta") + "/models/gemini-2.5-flash:streamGenerateContent",
                "-H", f"x-goog-api-key: {KEYS['GEMINI_API_KEY']}", "-H", "content-type: application/json",
                "-d", json.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})]
        r = run(call, env_for(write_config(cfg, "noalt.json"), log))
        eq(r.stdout.decode(), "".join(pieces), "the provider's array, untouched")
        eq((len(bodies), len(m.requests("backup")), read_log(log)), (1, 0, []), "no fallback, no attempt logged")
    finally:
        stop()
