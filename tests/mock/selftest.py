"""selftest.py — checks the mock providers themselves with /usr/bin/curl:
each dialect's success and error shapes, scripted behaviours, credentials,
keep-alive, chunked uploads, TLS, streaming, recording and the admin routes.
Prints "mock: N passed, N failed"."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from harness import CURL, Counter, Failed, Mock, check, eq  # noqa: E402

m = Mock([{"name": "o", "dialect": "openai", "key": "ko"},
          {"name": "a", "dialect": "anthropic", "key": "ka"},
          {"name": "g", "dialect": "gemini", "key": "kg"},
          {"name": "t", "dialect": "openai", "key": "ko", "tls": True}])


def curl(*args, inp=None):
    r = subprocess.run([CURL, "-s"] + list(args), capture_output=True, input=inp, timeout=30)
    return r.returncode, r.stdout


def call(server, body, behaviour=None, extra=(), path=None, **kw):
    if behaviour is not None:
        m.set(server, behaviour=behaviour, **kw)
    url = m.base(server) + (path or {"o": "/chat/completions", "t": "/chat/completions",
                                     "a": "/messages", "g": "/models/gem-1:generateContent"}[server])
    auth = {"o": ["-H", "Authorization: Bearer ko"], "t": ["-H", "Authorization: Bearer ko", "--cacert", m.ca],
            "a": ["-H", "x-api-key: ka", "-H", "anthropic-version: 2023-06-01"],
            "g": ["-H", "x-goog-api-key: kg"]}[server]
    rc, out = curl(url, *auth, *extra, "-w", "\n%{http_code}", "-d", json.dumps(body))
    text, _, code = out.decode().rpartition("\n")
    return rc, int(code or 0), text


def documents(ob, ab, gb):
    """A PDF each dialect's way: read (its size and digest in the answer),
    or refused as each API refuses what it does not take."""
    pdf = "JVBERi0xLjQKJcK1wrYK"   # %PDF-1.4 ...
    seen = "[pdf:15:"
    def user(server, parts):
        if server == "g":
            return dict(gb, contents=[{"role": "user", "parts": parts}])
        return dict(ob if server == "o" else ab, messages=[{"role": "user", "content": parts}])
    ofile = {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64," + pdf}}
    adoc = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": pdf}}
    ginl = {"inlineData": {"mimeType": "application/pdf", "data": pdf}}
    for server, part, text in (("o", ofile, lambda j: j["choices"][0]["message"]["content"]),
                               ("a", adoc, lambda j: j["content"][0]["text"]),
                               ("g", ginl, lambda j: j["candidates"][0]["content"]["parts"][0]["text"])):
        rc, code, t = call(server, user(server, [part]), "ok")
        check(code == 200 and seen in text(json.loads(t)), f"{server}: a PDF read ({t[:200]})")
    for server, part, code_want, words in (
            ("o", {"type": "file", "file": {"file_data": ofile["file"]["file_data"]}}, 400, "file.file_id"),
            ("o", {"type": "file", "file": {"filename": "a.pdf", "file_data": pdf}}, 400, "data URL"),
            ("o", adoc, 400, "Invalid value: 'document'"),
            ("a", ofile, 400, "Input tag 'file'"),
            ("a", dict(adoc, source=dict(adoc["source"], media_type="text/plain")), 400, "application/pdf"),
            ("a", dict(adoc, source=dict(adoc["source"], data="eHh4")), 400, "not valid"),
            ("a", dict(adoc, filename="a.pdf"), 400, "Extra inputs"),
            ("g", {"inlineData": {"mimeType": "application/pdf", "data": "data:application/pdf;base64," + pdf}},
             400, "Base64 decoding failed"),
            ("g", {"inlineData": {"mimeType": "application/pdf", "data": "eHh4"}}, 400, "no pages")):
        rc, code, t = call(server, user(server, [part]), "ok")
        eq((code, words in t), (code_want, True), f"{server}: refused, {words}")


def cases():
    ob = {"model": "gpt-x", "messages": [{"role": "user", "content": "hi [rid:r1]"}]}
    ab = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi [rid:r2]"}]}
    gb = {"contents": [{"role": "user", "parts": [{"text": "hi [rid:r3]"}]}]}
    rc, code, t = call("o", ob, "ok")
    j = json.loads(t)
    eq((code, j["object"], j["choices"][0]["finish_reason"]), (200, "chat.completion", "stop"), "openai ok")
    check("[rid:r1]" in j["choices"][0]["message"]["content"] and "usage" in j, "openai rid, usage")
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    for model, cid in (("gpt-x", "call_mock1"), ("kimi-k2", "functions.f:0")):
        rc, code, t = call("o", dict(ob, model=model, tools=tools, messages=[{"role": "user", "content": "[call:f]"}]))
        eq(json.loads(t)["choices"][0]["message"]["tool_calls"][0]["id"], cid, f"openai: {model}'s call id")
        rc, code, t = call("o", dict(ob, model=model, tools=tools, stream=True,
                                     messages=[{"role": "user", "content": "[call:f]"}]))
        check(f'"id": "{cid}"' in t, f"openai: {model}'s call id, streamed")
    rc, code, t = call("a", ab, "ok")
    j = json.loads(t)
    eq((code, j["type"], j["stop_reason"], j["content"][0]["type"]), (200, "message", "end_turn", "text"), "anthropic ok")
    check("[rid:r2]" in j["content"][0]["text"], "anthropic rid")
    rc, code, t = call("a", dict(ab, model="claude-haiku-4-5", temperature=0.5, top_p=0.9), "ok")
    eq((code, json.loads(t)["error"]["type"]), (400, "invalid_request_error"), "anthropic: temperature with top_p")
    rc, code, t = call("a", dict(ab, model="claude-3-5-haiku-latest", temperature=0.5, top_p=0.9), "ok")
    eq(code, 200, "claude 3: temperature with top_p")
    use = {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}]}
    res = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "r"}]}
    rc, code, t = call("a", dict(ab, messages=ab["messages"] + [use, res, use, res]), "ok")
    eq((code, "must be unique" in t), (400, True), "anthropic: tool_use ids that repeat")
    for bad in ("use", "res"):
        u = {"role": "assistant", "content": [dict(use["content"][0], id="functions.f:0" if bad == "use" else "t1")]}
        r = {"role": "user", "content": [dict(res["content"][0], tool_use_id="functions.f:0" if bad == "res" else "t1")]}
        rc, code, t = call("a", dict(ab, messages=ab["messages"] + [u, r]), "ok")
        eq((code, "should match pattern" in t), (400, True), f"anthropic: a {bad} id it does not take")
    rc, code, t = call("a", dict(ab, model="claude-opus-4-1", max_tokens=32001), "ok")
    eq((code, "32001 > 32000" in t), (400, True), "anthropic: max_tokens above the model's")
    rc, code, t = call("o", dict(ob, model="gpt-4o-mini", max_tokens=16385), "ok")
    eq((code, "at most 16384" in t), (400, True), "openai: max_tokens above the model's")
    rc, code, t = call("o", dict(ob, model="o3", max_tokens=10), "ok")
    eq((code, json.loads(t)["error"]["code"]), (400, "unsupported_parameter"), "openai: max_tokens to o3")
    rc, code, t = call("o", dict(ob, model="o3", max_completion_tokens=100000), "ok")
    eq(code, 200, "openai: max_completion_tokens to o3")
    rc, code, t = call("o", dict(ob, model="mistral-large-latest", store=True), "ok")
    eq((code, "extra_forbidden" in t), (422, True), "mistral: store")
    rc, code, t = call("o", dict(ob, model="mistral-large-latest", max_tokens=10), "ok")
    eq(code, 200, "mistral: max_tokens")
    for extra in ({"stream_options": {"include_usage": True}}, {"seed": 1}, {"user": "u"}):
        rc, code, t = call("o", dict(ob, model="labs-devstral-small-2512", **extra), "ok")
        eq((code, "extra_forbidden" in t), (422, True), f"mistral: {extra}")
    rc, code, t = call("o", dict(ob, model="mistral-small-latest", random_seed=1, presence_penalty=0.1), "ok")
    eq(code, 200, "mistral: random_seed, presence_penalty")
    rc, code, t = call("g", dict(gb, generationConfig={"maxOutputTokens": 8193}), "ok",
                       path="/models/gemini-2.0-flash:generateContent")
    eq((code, "supported range" in t), (400, True), "gemini: maxOutputTokens above the model's")
    tool = {"functionDeclarations": [{"name": "f", "parameters": {"type": "object", "properties": {
        "const": {"type": ["string", "null"]}}}}]}
    rc, code, t = call("g", dict(gb, tools=[tool]), "ok")
    eq((code, "cannot start list" in t), (400, True), "gemini: a type list")
    tool["functionDeclarations"][0]["parameters"]["properties"]["const"] = {"type": "string", "enum": ["a", None]}
    rc, code, t = call("g", dict(gb, tools=[tool]), "ok")
    eq(code, 400, "gemini: a null in an enum")
    tool["functionDeclarations"][0]["parameters"]["properties"]["const"] = {"type": "string", "nullable": True}
    rc, code, t = call("g", dict(gb, tools=[tool]), "ok")
    eq(code, 200, "gemini: nullable, and a property named const")
    tool["functionDeclarations"][0]["parameters"]["additionalProperties"] = False
    rc, code, t = call("g", dict(gb, tools=[tool]), "ok")
    eq((code, "Cannot find field" in t), (400, True), "gemini: a field its Schema lacks")
    for prop, words in (({"type": "array"}, "items: missing field"),
                        ({"enum": ["a"]}, "only allowed for STRING type"),
                        ({"type": "integer", "enum": ["1"]}, "only allowed for STRING type"),
                        ({"type": "string", "enum": ["", "a"]}, "enum[0]: cannot be empty"),
                        ({"type": "string", "format": "enum"}, "should be non-empty")):
        tool = {"functionDeclarations": [{"name": "f", "parameters": {"type": "object", "properties": {"p": prop}}}]}
        rc, code, t = call("g", dict(gb, tools=[tool]), "ok")
        eq((code, words in t), (400, True), f"gemini: {words}")
    tool = {"functionDeclarations": [{"name": "f", "parameters": {"type": "object", "properties": {
        "p": {"type": "array", "items": {}}, "e": {"type": "STRING", "enum": ["a"]}}}}]}
    rc, code, t = call("g", dict(gb, tools=[tool]), "ok")
    eq(code, 200, "gemini: an array with items, a string enum")
    rc, code, t = call("g", dict(gb, contents=[]), "ok")
    eq((code, "contents is not specified" in t), (400, True), "gemini: no contents")
    orphan = [{"role": "tool", "tool_call_id": "c9", "content": "r"}, {"role": "user", "content": "so?"}]
    rc, code, t = call("o", dict(ob, messages=orphan), "ok")
    eq((code, "must be a response to a preceeding message" in t), (400, True), "openai: a tool result of no call")
    asked = {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
                                                                   "function": {"name": "f", "arguments": "{}"}}]}
    rc, code, t = call("o", dict(ob, messages=[ob["messages"][0], asked, dict(orphan[0], tool_call_id="c2")]), "ok")
    eq((code, "not found in 'tool_calls'" in t), (400, True), "openai: a tool result of another call")
    rc, code, t = call("o", dict(ob, messages=[ob["messages"][0], asked, dict(orphan[0], tool_call_id="c1")]), "ok")
    eq(code, 200, "openai: a tool result of its call")
    rc, code, t = call("a", dict(ab, messages=[{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t9", "content": "r"}]}]), "ok")
    eq((code, "unexpected `tool_use_id`" in t), (400, True), "anthropic: a tool result of no call")
    rc, code, t = call("a", dict(ab, messages=[]), "ok")
    eq((code, "at least one message" in t), (400, True), "anthropic: no messages")
    for server, body, cut in (("o", dict(ob, max_tokens=300), '"finish_reason": "length"'),
                              ("g", dict(gb, generationConfig={"maxOutputTokens": 300}), '"finishReason": "MAX_TOKENS"')):
        rc, code, t = call(server, body, "thinks:2000")
        eq((code, cut in t, "Hello" in t), (200, True, False), f"{server}: thinking past the limit")
        body = dict(body, max_tokens=3000) if server == "o" else dict(body, generationConfig={"maxOutputTokens": 3000})
        rc, code, t = call(server, body, "thinks:2000")
        eq((code, cut in t, "Hello" in t), (200, False, True), f"{server}: thinking within the limit")
    json_tools = dict(gb, tools=[{"functionDeclarations": [{"name": "f"}]}],
                      generationConfig={"responseMimeType": "application/json"})
    rc, code, t = call("g", json_tools, "ok", path="/models/gemini-2.5-flash:generateContent")
    eq((code, "is unsupported" in t), (400, True), "gemini 2.5: JSON output beside functions")
    rc, code, t = call("g", json_tools, "ok", path="/models/gemini-3-flash-preview:generateContent")
    eq(code, 200, "gemini 3: JSON output beside functions")
    loop = dict(gb, contents=gb["contents"] + [{"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
                                               {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]}])
    rc, code, t = call("g", loop, "ok", path="/models/gemini-3-pro-preview:generateContent")
    eq((code, "thought_signature" in t), (400, True), "gemini 3: a function call without its signature")
    loop["contents"][-2]["parts"][0]["thoughtSignature"] = "skip_thought_signature_validator"
    rc, code, t = call("g", loop, "ok", path="/models/gemini-3-pro-preview:generateContent")
    eq(code, 200, "gemini 3: a signed function call")
    rc, code, t = call("o", dict(ob, model="gpt-4o-mini", reasoning_effort="low"), "ok")
    eq((code, json.loads(t)["error"]["param"]), (400, "reasoning_effort"), "openai: reasoning_effort to gpt-4o-mini")
    rc, code, t = call("o", dict(ob, model="o3", temperature=0.2), "ok")
    eq((code, json.loads(t)["error"]["code"]), (400, "unsupported_value"), "openai: a temperature to o3")
    rc, code, t = call("g", gb, "ok")
    j = json.loads(t)
    eq((code, j["candidates"][0]["finishReason"], j["modelVersion"]), (200, "STOP", "gem-1"), "gemini ok")
    check("[rid:r3]" in j["candidates"][0]["content"]["parts"][0]["text"], "gemini rid")
    rc, code, t = call("t", ob, "ok")
    eq(code, 200, "TLS ok")
    # error shapes
    for status in (400, 401, 402, 403, 404, 408, 410, 429, 500, 502, 503, 504, 529):
        rc, code, t = call("o", ob, str(status))
        j = json.loads(t)
        eq((code, "message" in j["error"]), (status, True), f"openai {status}")
        rc, code, t = call("a", ab, str(status))
        eq((code, json.loads(t)["type"]), (status, "error"), f"anthropic {status}")
        rc, code, t = call("g", gb, str(status))
        eq((code, json.loads(t)["error"]["code"]), (status, status), f"gemini {status}")
    rc, code, t = call("o", ob, "404")
    check("gpt-x" in json.loads(t)["error"]["message"], "404 names the model")
    m.set("o", behaviour="429", retry_after=7)
    rc, out = curl("-i", m.base("o") + "/chat/completions", "-H", "Authorization: Bearer ko", "-d", json.dumps(ob))
    check(b"retry-after: 7" in out.lower(), "429 carries Retry-After")
    m.set("g", behaviour="429", retry_after=7)
    rc, out = curl("-i", m.base("g") + "/models/gem-1:generateContent", "-H", "x-goog-api-key: kg", "-d", json.dumps(gb))
    check(b"retry-after" not in out.lower() and b'"retryDelay": "7s"' in out, "gemini 429: RetryInfo in the body, no header")
    # account failures as each API words them
    for srv, body, what, want in (("o", ob, "bad_key", 401), ("a", ab, "bad_key", 401), ("g", gb, "bad_key", 400),
                                  ("o", ob, "no_credit", 429), ("a", ab, "no_credit", 400), ("g", gb, "no_credit", 429)):
        rc, code, t = call(srv, body, what)
        eq(code, want, f"{srv} {what}")
    check("API_KEY_INVALID" in call("g", gb, "bad_key")[2], "gemini bad key: API_KEY_INVALID")
    check("credit balance is too low" in call("a", ab, "no_credit")[2], "anthropic: credit balance")
    # transport behaviours
    eq(call("o", ob, "hang", extra=["--max-time", "1"])[0], 28, "hang → timeout")
    eq(call("o", ob, "reset")[0], 56, "reset → recv error")
    eq(call("o", ob, "empty")[0], 52, "empty → empty reply")
    rc, code, t = call("o", ob, "malformed")
    check(code == 200 and t.startswith("{") and not t.endswith("}"), "malformed 200")
    rc, code, t = call("o", ob, "html")
    check(code == 200 and t.startswith("<html>"), "html 200")
    eq(call("o", ob, "emptybody")[1:], (200, ""), "empty 200")
    # credentials
    m.set("o", behaviour="ok")
    rc, out = curl(m.base("o") + "/chat/completions", "-H", "Authorization: Bearer wrong", "-w", "%{http_code}", "-o", "/dev/null", "-d", json.dumps(ob))
    eq(out, b"401", "wrong key → 401")
    rc, out = curl(m.base("g") + "/models/gem-1:generateContent", "-H", "x-goog-api-key: wrong", "-w", "%{http_code}",
                   "-o", "/dev/null", "-d", json.dumps(gb))
    eq(out, b"400", "gemini: wrong key → 400 (API_KEY_INVALID)")
    rc, out = curl(m.base("a") + "/messages", "-H", "x-api-key: ka", "-w", "%{http_code}", "-o", "/dev/null", "-d", json.dumps(ab))
    eq(out, b"400", "anthropic without version → 400")
    rc, code, t = call("g", gb, "ok", extra=[], path="/models/gem-1:generateContent?key=kg")
    eq(code, 200, "gemini key in query")
    # scripts advance, last repeats
    m.set("o", behaviour=["503", "ok"])
    codes = [call("o", ob)[1] for _ in range(3)]
    eq(codes, [503, 200, 200], "script")
    # keep-alive and chunked upload
    m.set("o", behaviour="ok")
    r = subprocess.run([CURL, "-sv", m.base("o") + "/chat/completions", m.base("o") + "/chat/completions",
                        "-H", "Authorization: Bearer ko", "-d", json.dumps(ob)], capture_output=True)
    check(b"Re-using existing connection" in r.stderr, "keep-alive")
    rc, out = curl(m.base("o") + "/chat/completions", "-H", "Authorization: Bearer ko", "-X", "POST",
                   "-T", "-", inp=json.dumps(ob).encode())
    check(b"Hello from o" in out, "chunked upload")
    # recording
    m.reset("o")
    call("o", ob, "ok")
    recs = m.requests("o")
    eq((len(recs), recs[0]["credential"], json.loads(recs[0]["body"])["model"]), (1, "ko", "gpt-x"), "recorded")
    url = m.base("o") + "/chat/completions"
    curl(url, url, "-H", "Authorization: Bearer ko", "-d", json.dumps(ob))   # two calls, one connection
    conns = [r["conn"] for r in m.requests("o")]
    check(len(conns) == 3 and conns[1] == conns[2] != conns[0], f"a serial per connection tells them apart {conns}")
    documents(ob, ab, gb)
    # function names: OpenAI's 64 characters, Claude's 128
    for n, want in ((64, 200), (65, 400)):
        rc, code, t = call("o", dict(ob, tools=[{"type": "function", "function": {"name": "f" * n}}]), "ok")
        eq((code, n < 65 or "maximum length 64" in t), (want, True), f"openai: a function name of {n}")
    # Mistral's tool call ids: 9 letters and digits
    for cid, want in (("D681PevKs", 200), ("call_0fypS1hVX", 400)):
        msgs = [{"role": "user", "content": "q"}, {"role": "assistant", "content": None, "tool_calls": [
            {"id": cid, "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": cid, "content": "r"}]
        rc, code, t = call("o", dict(ob, model="mistral-small-latest", messages=msgs), "ok")
        eq((code, want == 200 or "with a length of 9" in t), (want, True), f"mistral: tool call id {cid}")
    for n, want in ((128, 200), (129, 400)):
        rc, code, t = call("a", dict(ab, tools=[{"name": "f" * n, "input_schema": {"type": "object"}}]), "ok")
        eq((code, n < 129 or "at most 128" in t), (want, True), f"anthropic: a tool name of {n}")
    # streams
    rc, code, t = call("o", dict(ob, stream=True), "ok")
    check(t.strip().endswith("data: [DONE]") and "chat.completion.chunk" in t, "openai stream")
    rc, code, t = call("a", dict(ab, stream=True), "ok")
    check("event: message_stop" in t and "content_block_delta" in t, "anthropic stream")
    rc, code, t = call("g", gb, "ok", path="/models/gem-1:streamGenerateContent?alt=sse")
    check(t.startswith("data: ") and '"finishReason": "STOP"' in t, "gemini stream")
    rc, code, t = call("o", dict(ob, stream=True), "stream_null_error")
    check(t.count('"error": null') == t.count("chat.completion.chunk") > 0 and t.strip().endswith("data: [DONE]"),
          "openai stream with error: null in every chunk")
    rc, code, t = call("o", dict(ob, stream=True), "stream_content_chunks")
    check('"type": "thinking"' in t and '"content": [{"type": "text", "text": "Hello' in t, "openai content as chunks")
    rc, code, t = call("o", dict(ob, stream=True), "stream_finish_every_chunk")
    check(t.count('"finish_reason": "stop"') == t.count("chat.completion.chunk") == 3 and t.count('"usage"') == 3
          and t.strip().endswith("data: [DONE]"), "openai stream with a finish on every chunk")
    rc, code, t = call("o", dict(ob, stream=True), "stream_refusal_silent")
    check('"finish_reason": "content_filter"' in t and t.strip().endswith("data: [DONE]"), "openai silent refusal")
    rc, code, t = call("a", dict(ab, stream=True), "stream_refusal_silent")
    check('"stop_reason": "refusal"' in t and "content_block" not in t, "anthropic silent refusal")
    rc, code, t = call("g", gb, "stream_refusal_silent", path="/models/gem-1:streamGenerateContent?alt=sse")
    check('"finishReason": "SAFETY"' in t and '"text": ""' in t, "gemini silent refusal")
    # blob
    u = f"http://127.0.0.1:{m.port('o')}/_mock/blob?size=100000&seed=3"
    eq(curl(u)[1], curl(u)[1], "blob deterministic")
    eq(len(curl(u)[1]), 100000, "blob size")


try:
    cases()
except Failed as e:
    print(f"FAIL {e}")
except Exception as e:  # a crash counts as a failure, with its reason
    Counter.failed += 1
    print(f"FAIL exception {e!r}")
finally:
    m.stop()
print(f"mock: {Counter.passed} passed, {Counter.failed} failed")
sys.exit(1 if Counter.failed else 0)
