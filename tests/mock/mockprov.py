"""mockprov.py — mock LLM providers for end-to-end tests.

One process serves several ports on 127.0.0.1, each speaking one API dialect
(openai chat completions, anthropic messages, gemini generateContent) over
HTTP/1.1 with keep-alive, optionally over TLS, with a scripted behaviour per
port: ok, an error status in the dialect's documented shape, hang, reset,
empty reply, malformed or HTML 200s, slow answers. Every API request is
recorded with the credential it carried, for assertions.

    python3 mockprov.py CONFIG.json      (prints READY once listening)

Admin routes on every port: GET /_mock/requests, POST /_mock/set,
POST /_mock/reset, GET /_mock/blob?size=N&seed=S. See README.md.
"""
import base64
import binascii
import gzip
import hashlib
import itertools
import json
import random
import re
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

RID = re.compile(r"\[rid:[A-Za-z0-9_-]+\]")
STATUS_TEXT = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 402: "Payment Required",
               403: "Forbidden", 404: "Not Found", 408: "Request Timeout", 410: "Gone",
               413: "Payload Too Large", 429: "Too Many Requests", 500: "Internal Server Error",
               502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
               529: "Overloaded"}

record_lock = threading.Lock()
record_file = None


def rand_id(n=24):
    return "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


# ---- dialect bodies -------------------------------------------------------

def openai_error(status, model):
    table = {
        400: ("invalid_request_error", None, "Invalid request."),
        401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
        402: ("insufficient_quota", "insufficient_quota",
              "You exceeded your current quota, please check your plan and billing details."),
        403: ("request_forbidden", "unsupported_country_region_territory",
              "Country, region, or territory not supported"),
        404: ("invalid_request_error", "model_not_found",
              f"The model `{model}` does not exist or you do not have access to it."),
        408: ("server_error", None, "Request timed out."),
        429: ("requests", "rate_limit_exceeded",
              f"Rate limit reached for {model} on requests per min (RPM): Limit 3, Used 3."),
        500: ("server_error", None,
              "The server had an error while processing your request. Sorry about that!"),
        503: ("server_error", None, "The server is overloaded or not ready yet."),
    }
    typ, code, msg = table.get(status, ("server_error", None, f"Error {status}."))
    if status == 410:
        typ, code, msg = table[404]
    return {"error": {"message": msg, "type": typ, "param": None, "code": code}}


def anthropic_error(status, model):
    table = {400: ("invalid_request_error", "Invalid request."),
             401: ("authentication_error", "invalid x-api-key"),
             402: ("billing_error", "Your credit balance is too low."),
             403: ("permission_error", "Your API key does not have permission to use the specified resource."),
             404: ("not_found_error", f"model: {model}"),
             410: ("not_found_error", f"model: {model}"),
             408: ("timeout_error", "Request timed out."),
             413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
             429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
             500: ("api_error", "Internal server error"),
             503: ("api_error", "Service unavailable"),
             529: ("overloaded_error", "Overloaded")}
    typ, msg = table.get(status, ("api_error", f"Error {status}"))
    return {"type": "error", "error": {"type": typ, "message": msg}}


def gemini_error(status, model):
    table = {400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
             401: ("UNAUTHENTICATED", "API key not valid. Please pass a valid API key."),
             403: ("PERMISSION_DENIED", "The caller does not have permission."),
             404: ("NOT_FOUND", f"models/{model} is not found for API version v1beta, or is not supported for generateContent."),
             410: ("NOT_FOUND", f"models/{model} is not found for API version v1beta, or is not supported for generateContent."),
             429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
             500: ("INTERNAL", "An internal error has occurred."),
             503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
             504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete.")}
    st, msg = table.get(status, ("UNKNOWN", f"Error {status}"))
    return {"error": {"code": status, "message": msg, "status": st}}


def account_error(dialect, what):
    """(status, body) of an account failure as each API says it. bad_key:
    OpenAI and Anthropic 401, Gemini 400 INVALID_ARGUMENT with reason
    API_KEY_INVALID. no_credit: OpenAI 429 insufficient_quota (no
    Retry-After), Anthropic 400 invalid_request_error ("credit balance is too
    low"; it sends no 402), Gemini 429 RESOURCE_EXHAUSTED."""
    if what == "bad_key":
        if dialect == "gemini":
            return 400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                   "status": "INVALID_ARGUMENT",
                                   "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                                "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}
        return 401, ERRORS[dialect](401, "")
    if dialect == "openai":
        return 429, {"error": {"message": "You exceeded your current quota, please check your plan and billing details.",
                               "type": "insufficient_quota", "param": None, "code": "insufficient_quota"}}
    if dialect == "anthropic":
        return 400, {"type": "error", "error": {"type": "invalid_request_error", "message":
                     "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing "
                     "to upgrade or purchase credits."}}
    return 429, {"error": {"code": 429, "message": "You exceeded your current quota, please check your plan and "
                           "billing details.", "status": "RESOURCE_EXHAUSTED"}}


def context_error(dialect):
    if dialect == "openai":
        return {"error": {"message": "This model's maximum context length is 8192 tokens. However, your "
                                     "messages resulted in 9000 tokens. Please reduce the length of the messages.",
                          "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}
    if dialect == "anthropic":
        return {"type": "error", "error": {"type": "invalid_request_error",
                                           "message": "prompt is too long: 210000 tokens > 200000 maximum"}}
    return {"error": {"code": 400, "message": "The input token count (3000000) exceeds the maximum number of "
                                              "tokens allowed (1048576).", "status": "INVALID_ARGUMENT"}}


ERRORS = {"openai": openai_error, "anthropic": anthropic_error, "gemini": gemini_error}

# Request checks the real APIs make: for a few well-known models, the most
# output tokens each may be asked for; Mistral refusing every field its
# request schema lacks (a 422: OpenAI's max_completion_tokens, store,
# stream_options, seed, user...); OpenAI's reasoning models refusing
# max_tokens, a temperature, stop and reasoning_effort values they lack, and
# its others reasoning_effort; Anthropic refusing tool_use ids that repeat
# or that have other than letters, digits, _ and -, stop sequences and
# text blocks of white space only,
# the thinking a model lacks, a thinking budget not below max_tokens, and
# sampling settings the newest models lack; Gemini refusing thinking a model
# lacks, penalties (2.5 and 3), JSON output beside functions (before 3), a
# function call without its thought signature (3)
# and schemas with a field its Schema lacks
# (const, additionalProperties...), a type list or a null in an enum. A
# refusal as the API words it, or None.
MAX_OUTPUT = {"gpt-4o-mini": 16384, "gpt-4o": 16384, "o3": 100000, "claude-opus-4-1": 32000,
              "claude-haiku-4-5": 64000, "claude-3-5-haiku": 8192, "gemini-2.0-flash": 8192,
              "deepseek-chat": 8192}

# Gemini 2.5's thinkingBudget range (besides -1, dynamic, and 0, none), longest prefix first
THINKING_BUDGET = {"gemini-2.5-pro": (128, 32768), "gemini-2.5-flash-lite": (512, 24576),
                   "gemini-2.5-flash": (1, 24576)}


def claude_thinking(model):
    """The thinking a Claude model takes, as Anthropic's API answers: "none"
    before 3.7, "enabled" (a budget) to 4.5 and for Haiku 4.x, "both" for
    Opus and Sonnet 4.6, "adaptive" from Opus 4.7 and for Claude 5; None for
    other models."""
    m = re.match(r"claude-(?:(\d+)(?:-(\d{1,2})(?!\d))?-[a-z]+|([a-z]+)-(\d+)(?:-(\d{1,2})(?!\d))?)", model)
    if not m:
        return "none" if re.match(r"claude-(instant|2)", model) else None
    major = int(m.group(1) or m.group(4))
    minor = int(m.group(2) or m.group(5) or 0)
    if major < 3 or (major == 3 and minor != 7):
        return "none"
    if major == 3 or (major == 4 and (m.group(3) == "haiku" or minor <= 5)):
        return "enabled"
    return "both" if major == 4 and minor == 6 else "adaptive"


# Mistral's models, by name (as preload/models.c reads them), and the fields
# of its chat completions request (its OpenAPI, as its Python SDK's
# docs/models/chatcompletionrequest.md lists them): any other it refuses.
MISTRAL = re.compile(r"(?i)(ft:)?(open-|labs-)?(mistral|mixtral|magistral|codestral|devstral|ministral|pixtral|voxtral)")
MISTRAL_FIELDS = {"model", "messages", "temperature", "top_p", "max_tokens", "stream", "stop", "random_seed",
                  "metadata", "response_format", "tools", "tool_choice", "presence_penalty", "frequency_penalty",
                  "n", "prediction", "parallel_tool_calls", "reasoning_effort", "prompt_mode", "guardrails",
                  "prompt_cache_key", "safe_prompt"}


def mistral(model):
    return MISTRAL.match(model.rsplit("/", 1)[-1]) is not None


def pdf_bytes(b64):
    """A PDF's bytes from base64, or None when they are not base64 or not a
    PDF (which every provider refuses)."""
    try:
        data = base64.b64decode(b64, validate=True) if isinstance(b64, str) else None
    except (binascii.Error, ValueError):
        return None
    return data if data and data.startswith(b"%PDF-") else None


def media_parts(dialect, req):
    """(where, part) for every part of a request's messages that may carry
    a document, a tool's result's own parts too."""
    if dialect == "gemini":
        for i, c in enumerate(x for x in req.get("contents") or [] if isinstance(x, dict)):
            for j, p in enumerate(x for x in c.get("parts") or [] if isinstance(x, dict)):
                yield f"contents[{i}].parts[{j}]", p
                fr = p.get("functionResponse") or p.get("function_response")
                for k, q in enumerate(fr.get("parts") or [] if isinstance(fr, dict) else []):
                    if isinstance(q, dict):
                        yield f"contents[{i}].parts[{j}].function_response.parts[{k}]", q
        return
    for i, m in enumerate(x for x in req.get("messages") or [] if isinstance(x, dict)):
        content = m.get("content") if isinstance(m.get("content"), list) else []
        for j, p in enumerate(x for x in content if isinstance(x, dict)):
            yield (f"messages[{i}].content[{j}]" if dialect == "openai" else f"messages.{i}.content.{j}"), p
            inner = p.get("content") if p.get("type") == "tool_result" and isinstance(p.get("content"), list) else []
            for k, q in enumerate(x for x in inner if isinstance(x, dict)):
                yield f"messages.{i}.content.{j}.content.{k}", q


def pdfs(dialect, req):
    """The PDFs a request holds, as each dialect gives one inline."""
    found = []
    for _, p in media_parts(dialect, req):
        b64 = None
        if dialect == "openai" and p.get("type") == "file" and isinstance(p.get("file"), dict):
            url = p["file"].get("file_data")
            if isinstance(url, str) and url.startswith("data:application/pdf;base64,"):
                b64 = url.split(",", 1)[1]
        elif dialect == "anthropic" and p.get("type") == "document" and isinstance(p.get("source"), dict):
            src = p["source"]
            b64 = src.get("data") if src.get("type") == "base64" and src.get("media_type") == "application/pdf" else None
        elif dialect == "gemini":
            inl = p.get("inlineData") or p.get("inline_data")
            if isinstance(inl, dict) and (inl.get("mimeType") or inl.get("mime_type")) == "application/pdf":
                b64 = inl.get("data")
        data = pdf_bytes(b64) if b64 is not None else None
        if data:
            found.append(data)
    return found


def document_refusal(dialect, model, req):
    """What each API refuses of a request's content parts and documents, in
    its own words (OpenAI's for its own models)."""
    for where, p in media_parts(dialect, req):
        kind = p.get("type")
        if dialect == "openai" and re.match(r"(gpt-|o[134]|chatgpt)", model):
            def refused(message, param, code):
                return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}
            if kind not in ("text", "image_url", "input_audio", "refusal", "audio", "file"):
                return refused(f"Invalid value: '{kind}'. Supported values are: 'text', 'image_url', 'input_audio', "
                               "'refusal', 'audio', and 'file'.", f"{where}.type", "invalid_value")
            f = p.get("file") if kind == "file" and isinstance(p.get("file"), dict) else None
            if f is not None and "file_id" not in f and ("filename" not in f or "file_data" not in f):
                # (OpenAI names the file_id when a filename is missing)
                return refused(f"Missing required parameter: '{where}.file.file_id'.", f"{where}.file.file_id",
                               "missing_required_parameter")
            if f is not None and "file_data" in f:
                url = f["file_data"]
                if not isinstance(url, str) or not url.startswith("data:") or ";base64," not in url:
                    return refused(f"Invalid value for '{where}.file.file_data': expected a base64-encoded data URL.",
                                   f"{where}.file.file_data", "invalid_value")
                if not pdf_bytes(url.split(",", 1)[1]):
                    return refused("The file type you uploaded is not supported. Please try again with a pdf",
                                   f"{where}.file.file_data", "invalid_value")
        if dialect == "anthropic":
            def refused(message):
                return {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
            user_kinds = ("text", "image", "document", "search_result", "tool_use", "tool_result", "thinking",
                          "redacted_thinking", "server_tool_use", "web_search_tool_result", "container_upload")
            if kind not in user_kinds:
                return refused(f"{where}.type: Input tag '{kind}' found using 'type' does not match any of the "
                               "expected tags: 'document', 'image', 'redacted_thinking', 'search_result', 'text', "
                               "'thinking', 'tool_result', 'tool_use'")
            if kind == "document":
                extra = [k for k in p if k not in ("type", "source", "title", "context", "citations", "cache_control")]
                if extra:
                    return refused(f"{where}.document.{extra[0]}: Extra inputs are not permitted")
                src = p.get("source") if isinstance(p.get("source"), dict) else {}
                if src.get("type") == "base64":
                    if src.get("media_type") != "application/pdf":
                        return refused(f"{where}.document.source.base64.media_type: Input should be 'application/pdf'")
                    if not pdf_bytes(src.get("data")):
                        return refused(f"{where}.document.source.base64.data: The PDF specified was not valid.")
        if dialect == "gemini":
            def refused(message):
                return {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}
            inl = p.get("inlineData") or p.get("inline_data")
            if isinstance(inl, dict):
                data = inl.get("data")
                try:
                    base64.b64decode(data if isinstance(data, str) else "", validate=True)
                except (binascii.Error, ValueError):
                    return refused(f"Invalid value at '{where}.inline_data.data' (TYPE_BYTES), Base64 decoding "
                                   f"failed for \"{str(data)[:40]}\"")
                if (inl.get("mimeType") or inl.get("mime_type")) == "application/pdf" and not pdf_bytes(data):
                    return refused("The document has no pages.")
    return None


def request_refusal(dialect, model, req, beta=""):
    limit = next((v for k, v in MAX_OUTPUT.items() if model.startswith(k)), None)
    refused_document = document_refusal(dialect, model, req)
    if refused_document:
        return refused_document
    if dialect == "openai":
        def refused(message, param, code):
            return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}
        extra = [k for k in req if k not in MISTRAL_FIELDS]
        if extra and mistral(model):
            # Mistral's own words and status (a 422) for what it does not know
            return {"_status": 422, "object": "error", "message": {"detail": [
                {"type": "extra_forbidden", "loc": ["body", extra[0]], "msg": "Extra inputs are not permitted",
                 "input": req[extra[0]]}]}, "type": "invalid_request_message_error", "param": None, "code": None}
        # OpenAI's lengths: a user of 64 characters, a tool call id of 40 (its own models'; vLLM's ids are 46)
        own = re.match(r"(gpt-|o[134]|chatgpt)", model)
        if own and isinstance(req.get("user"), str) and len(req["user"]) > 64:
            return refused(f"Invalid 'user': string too long. Expected a string with maximum length 64, but got a "
                           f"string with length {len(req['user'])} instead.", "user", "string_above_max_length")
        for i, msg in enumerate(x for x in req.get("messages") or [] if isinstance(x, dict)):
            ids = [(f"messages[{i}].tool_call_id", msg.get("tool_call_id"))] + \
                [(f"messages[{i}].tool_calls[{j}].id", c.get("id"))
                 for j, c in enumerate(msg.get("tool_calls") if isinstance(msg.get("tool_calls"), list) else [])
                 if isinstance(c, dict)]
            for where, v in ids:
                if own and isinstance(v, str) and len(v) > 40:
                    return refused(f"Invalid '{where}': string too long. Expected a string with maximum length 40, "
                                   f"but got a string with length {len(v)} instead.", where, "string_above_max_length")
        # Mistral's tool call ids: 9 letters and digits, in its words and status
        if mistral(model):
            for msg in (x for x in req.get("messages") or [] if isinstance(x, dict)):
                calls = msg.get("tool_calls") if isinstance(msg.get("tool_calls"), list) else []
                for v in [msg.get("tool_call_id")] + [c.get("id") for c in calls if isinstance(c, dict)]:
                    if v is not None and not re.fullmatch(r"[a-zA-Z0-9]{9}", str(v)):
                        return {"object": "error", "message": f"Tool call id was {v} but must be a-z, A-Z, 0-9, "
                                "with a length of 9.", "type": "invalid_function_call", "param": None, "code": "3280"}
        # OpenAI's function names: ^[a-zA-Z0-9_-]{1,64}$ (Anthropic takes 128, Gemini '.' and ':')
        for i, t in enumerate(x for x in req.get("tools") or [] if isinstance(x, dict)):
            name = (t.get("function") or {}).get("name") if isinstance(t.get("function"), dict) else None
            if own and isinstance(name, str) and len(name) > 64:
                return refused(f"Invalid 'tools[{i}].function.name': string too long. Expected a string with "
                               f"maximum length 64, but got a string with length {len(name)} instead.",
                               f"tools[{i}].function.name", "string_above_max_length")
            if own and isinstance(name, str) and not re.fullmatch(r"[a-zA-Z0-9_-]+", name):
                return refused(f"Invalid 'tools[{i}].function.name': string does not match pattern. Expected a "
                               "string that matches the pattern '^[a-zA-Z0-9_-]+$'.", f"tools[{i}].function.name",
                               "invalid_value")
        # DeepSeek: a content of parts, a developer message
        if model.startswith("deepseek"):
            for msg in req.get("messages") or []:
                if isinstance(msg, dict) and (isinstance(msg.get("content"), list) or msg.get("role") == "developer"):
                    return {"error": {"message": "Failed to deserialize the JSON body into the target type: messages["
                                      "0]: unknown variant `developer`" if msg.get("role") == "developer" else
                                      "Failed to deserialize the JSON body into the target type: messages[0]: invalid "
                                      "type: sequence, expected a string", "type": "invalid_request_error",
                                      "param": None, "code": "invalid_request_error"}}
        reasoning = re.match(r"(o[134]|gpt-5)", model) and not model.startswith("gpt-5-chat")
        if reasoning and "max_tokens" in req:
            return refused("Unsupported parameter: 'max_tokens' is not supported with this model. "
                           "Use 'max_completion_tokens' instead.", "max_tokens", "unsupported_parameter")
        if re.match(r"(gpt-4|gpt-3\.5|gpt-5-chat)", model) and ("reasoning_effort" in req or "verbosity" in req):
            param = "reasoning_effort" if "reasoning_effort" in req else "verbosity"
            return refused(f"Unsupported parameter: '{param}' is not supported with this model.", param,
                           "unsupported_parameter")
        if "stop" in req and re.match(r"gpt-5($|-(?!chat)|\.2)|o3|o4-mini", model):
            return refused("Unsupported parameter: 'stop' is not supported with this model.", "stop",
                           "unsupported_parameter")
        effort = req.get("reasoning_effort")
        if reasoning and isinstance(effort, str):
            if model.startswith("gpt-5.1"):
                efforts = ["none", "low", "medium", "high"] + (["xhigh"] if "codex-max" in model else [])
            elif model.startswith("gpt-5.2"):
                efforts = ["none", "low", "medium", "high", "xhigh"]
            else:
                efforts = (["minimal"] if model.startswith("gpt-5") else []) + ["low", "medium", "high"]
            if effort not in efforts:
                names = [f"'{e}'" for e in efforts]
                return refused(f"Unsupported value: '{effort}' is not supported with the '{model}' model. Supported "
                               f"values are: {', '.join(names[:-1])}, and {names[-1]}.", "reasoning_effort",
                               "unsupported_value")
        if reasoning and req.get("temperature", 1) != 1:
            return refused(f"Unsupported value: 'temperature' does not support {req['temperature']} with this "
                           "model. Only the default (1) value is supported.", "temperature", "unsupported_value")
        # a tool result answers a call of the assistant turn before it
        msgs = [x for x in req.get("messages") or [] if isinstance(x, dict)]
        for i, msg in enumerate(msgs):
            if msg.get("role") != "tool":
                continue
            j = i - 1
            while j >= 0 and msgs[j].get("role") == "tool":
                j -= 1
            calls = msgs[j].get("tool_calls") if j >= 0 and msgs[j].get("role") == "assistant" else None
            if not calls:
                return refused("Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                               "message with 'tool_calls'.", f"messages.[{i}].role", None)
            if msg.get("tool_call_id") not in [c.get("id") for c in calls if isinstance(c, dict)]:
                return refused(f"Invalid parameter: 'tool_call_id' of '{msg.get('tool_call_id')}' not found in "
                               "'tool_calls' of previous message.", f"messages.[{i}].tool_call_id", None)
        asked = req.get("max_completion_tokens", req.get("max_tokens"))
        if limit and isinstance(asked, int) and asked > limit:
            return refused(f"max_tokens is too large: {asked}. This model supports at most {limit} completion "
                           f"tokens, whereas you provided {asked}.", "max_tokens", None)
    if dialect == "anthropic":
        def refused(message):
            return {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
        kind = claude_thinking(model)
        if kind == "adaptive":   # no sampling settings: 1 is the default temperature, and the only one
            for param in ("temperature", "top_p", "top_k"):
                if param in req and not (param == "temperature" and req[param] == 1):
                    return refused(f"`{param}` is deprecated for this model.")
        if "temperature" in req and "top_p" in req and re.match(r"claude-(opus|sonnet|haiku)-4", model):
            return refused("`temperature` and `top_p` cannot both be specified for this model. Please use only one.")
        # white space only (or nothing) said where text is asked for
        stops = req.get("stop_sequences")
        if isinstance(stops, list) and any(isinstance(x, str) and not x.strip() for x in stops):
            return refused("stop_sequences: each stop sequence must contain non-whitespace")
        for msg in req.get("messages") or []:
            c = msg.get("content") if isinstance(msg, dict) else None
            blocks = [{"type": "text", "text": c}] if isinstance(c, str) else c if isinstance(c, list) else []
            # (a tool result's text as well, given as a string)
            blocks = blocks + [{"type": "text", "text": b["content"]} for b in blocks if isinstance(b, dict) and
                               b.get("type") == "tool_result" and isinstance(b.get("content"), str) and b["content"]]
            if any(isinstance(b, dict) and b.get("type") == "text" and not str(b.get("text", "")).strip()
                   for b in blocks):
                return refused("messages: text content blocks must contain non-whitespace text")
        for i, tool in enumerate(req.get("tools") if isinstance(req.get("tools"), list) else []):
            if isinstance(tool, dict) and isinstance(tool.get("name"), str) and len(tool["name"]) > 128:
                return refused(f"tools.{i}.custom.name: String should have at most 128 characters")
            schema = tool.get("input_schema") if isinstance(tool, dict) else None
            if isinstance(tool, dict) and "type" not in tool and (not isinstance(schema, dict) or "type" not in schema):
                return refused(f"tools.{i}.custom.input_schema.type: Field required")
        thinking = req.get("thinking") if isinstance(req.get("thinking"), dict) else {}
        if thinking.get("type") in ("enabled", "adaptive") and kind == "none":
            return refused(f"'{model}' does not support thinking.")
        if thinking.get("type") == "enabled" and kind == "adaptive":
            return refused('"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" '
                           'and "output_config.effort" to control thinking behavior.')
        if thinking.get("type") == "adaptive" and kind == "enabled":
            return refused("adaptive thinking is not supported on this model")
        if not req.get("messages"):
            return refused("messages: at least one message is required")
        # thinking on: the last assistant turn's tool call follows its thinking
        if thinking.get("type") in ("enabled", "adaptive"):
            turns = [x for x in req.get("messages") or [] if isinstance(x, dict)]
            at = max((i for i, x in enumerate(turns) if x.get("role") == "assistant"), default=-1)
            blocks = [b for b in turns[at].get("content") if isinstance(b, dict)] \
                if at >= 0 and isinstance(turns[at].get("content"), list) else []
            if any(b.get("type") == "tool_use" for b in blocks) and \
                    blocks[0].get("type") not in ("thinking", "redacted_thinking"):
                return refused(f"messages.{at}.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
                               f"`{blocks[0].get('type')}`. When `thinking` is enabled, a final `assistant` message "
                               "must start with a thinking block (preceeding the lastmost set of `tool_use` and "
                               "`tool_result` blocks). We recommend you include thinking blocks from previous turns. "
                               "To avoid this requirement, disable `thinking`. Please consult our documentation at "
                               "https://docs.claude.com/en/docs/build-with-claude/extended-thinking")
        seen = set()
        for i, msg in enumerate(req.get("messages") or []):
            for j, b in enumerate(msg.get("content") if isinstance(msg.get("content"), list) else []):
                kind = b.get("type") if isinstance(b, dict) else None
                key = {"tool_use": "id", "tool_result": "tool_use_id"}.get(kind)
                if key and not re.fullmatch(r"[a-zA-Z0-9_-]+", str(b.get(key))):
                    return refused(f"messages.{i}.content.{j}.{kind}.{key}: String should match pattern "
                                   "'^[a-zA-Z0-9_-]+$'")
                if kind == "tool_use":
                    if b.get("id") in seen:
                        return refused(f"messages.{i}.content.{j}: `tool_use` ids must be unique")
                    seen.add(b.get("id"))
        # a tool result answers a call of the assistant turn before it
        turns = req.get("messages")
        for i, msg in enumerate(turns):
            blocks = msg.get("content") if isinstance(msg, dict) and isinstance(msg.get("content"), list) else []
            before = turns[i - 1].get("content") if i and isinstance(turns[i - 1], dict) else None
            uses = [b.get("id") for b in before if isinstance(b, dict) and b.get("type") == "tool_use"] \
                if isinstance(before, list) else []
            for j, b in enumerate(blocks):
                if isinstance(b, dict) and b.get("type") == "tool_result" and b.get("tool_use_id") not in uses:
                    return refused(f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` "
                                   f"blocks: {b.get('tool_use_id')}. Each `tool_result` block must have a "
                                   "corresponding `tool_use` block in the previous message.")
        asked = req.get("max_tokens")
        if limit and isinstance(asked, int) and asked > limit:
            return refused(f"max_tokens: {asked} > {limit}, which is the maximum allowed number of output tokens "
                           f"for {model}")
        budget = thinking.get("budget_tokens") if thinking.get("type") == "enabled" else None
        if isinstance(budget, int) and budget < 1024:
            return refused("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
        # interleaved thinking (a beta) lets the budget span the turn's blocks
        if isinstance(budget, int) and isinstance(asked, int) and budget >= asked and "interleaved-thinking" not in beta:
            return refused("`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
                           "documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
                           "#max-tokens-and-context-window-size")
    if dialect == "gemini":
        def refused(message):
            return {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}
        if not req.get("contents"):
            return refused("* GenerateContentRequest.contents: contents is not specified\n")
        gc = req.get("generationConfig") or req.get("generation_config") or {}
        tc = (gc.get("thinkingConfig") or gc.get("thinking_config")) if isinstance(gc, dict) else None
        if isinstance(tc, dict):
            if re.match(r"gemini-(1|2\.0)", model):
                return refused("thinking_config is not supported.")
            budget = tc.get("thinkingBudget", tc.get("thinking_budget"))
            span = next((v for k, v in THINKING_BUDGET.items() if model.startswith(k)), None)
            if span and ("thinkingLevel" in tc or "thinking_level" in tc):
                return refused("Thinking level is not supported for this model.")
            if budget == 0 and re.match(r"gemini-(2\.5|3).*-pro", model):
                return refused("Budget 0 is invalid. This model only works in thinking mode.")
            if span and isinstance(budget, int) and budget not in (-1, 0) and not span[0] <= budget <= span[1]:
                return refused(f"The thinking budget ({budget}) is invalid.")
        penalty = isinstance(gc, dict) and any(k in gc for k in ("presencePenalty", "presence_penalty",
                                                                  "frequencyPenalty", "frequency_penalty"))
        if penalty and re.match(r"gemini-(2\.5|3)", model):
            return refused(f"Penalty is not enabled for models/{model}")
        unsigned = gemini_unsigned_call(req.get("contents")) if model.startswith("gemini-3") else None
        if unsigned:
            return refused("Function call is missing a thought_signature in functionCall parts. This is required "
                           "for tools to work correctly, and missing thought_signature may lead to degraded model "
                           f"performance. Additional data, function call `default_api:{unsigned[0]}` , position "
                           f"{unsigned[1]}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures "
                           "for more details.")
        mime = gc.get("responseMimeType", gc.get("response_mime_type")) if isinstance(gc, dict) else None
        decls = any(t.get("functionDeclarations") or t.get("function_declarations")
                    for t in req.get("tools") or [] if isinstance(t, dict))
        if mime == "application/json" and decls and re.match(r"gemini-(1|2)", model):
            return refused("Function calling with a response mime type: 'application/json' is unsupported")
        asked = gc.get("maxOutputTokens", gc.get("max_output_tokens")) if isinstance(gc, dict) else None
        if limit and isinstance(asked, int) and asked > limit:
            return refused(f"Unable to submit request because it has a maxOutputTokens value of {asked} but the "
                           f"supported range is from 1 (inclusive) to {limit + 1} (exclusive). Update the value and "
                           "try again.")
        schemas = [("generation_config.response_schema", (req.get("generationConfig") or {}).get("responseSchema"))]
        for i, t in enumerate(req.get("tools") or []):
            for j, d in enumerate(t.get("functionDeclarations") or []):
                schemas.append((f"tools[{i}].function_declarations[{j}].parameters", d.get("parameters")))
        for where, sch in schemas:
            bad = gemini_schema_fault(sch, where) if isinstance(sch, dict) else None
            if bad:
                return refused("Invalid JSON payload received. " + bad)
    return None


def gemini_unsigned_call(contents):
    """Gemini 3 wants the first function call of each model turn in the
    current turn (since the last user message with text) to carry the
    thoughtSignature it gave: (name, position) of one that does not, or
    None."""
    contents = [c for c in contents if isinstance(c, dict)] if isinstance(contents, list) else []
    start = 0
    for i, c in enumerate(contents):
        if c.get("role", "user") == "user" and any(isinstance(p, dict) and "text" in p for p in c.get("parts") or []):
            start = i + 1
    for i, c in enumerate(contents[start:], start + 1):
        calls = [p for p in c.get("parts") or [] if isinstance(p, dict) and ("functionCall" in p or "function_call" in p)]
        if c.get("role") == "model" and calls and not (calls[0].get("thoughtSignature") or
                                                        calls[0].get("thought_signature")):
            return (calls[0].get("functionCall") or calls[0].get("function_call") or {}).get("name"), i
    return None


# The fields of Gemini's Schema (an OpenAPI subset; the API reads them in
# camelCase or snake_case): any other is refused as an unknown name.
GEMINI_SCHEMA = {"type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
                 "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
                 "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum"}


def gemini_schema_fault(s, where):
    """What Gemini's schema (an OpenAPI subset: its own fields only, one
    type, a nullable flag, no const, string enums, a string's format only
    enum or date-time) refuses in s, in its words, or None."""
    if str(s.get("type")).lower() == "array" and "items" not in s:
        return f"{where}.items: missing field."
    for k, v in s.items():
        camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k)
        if k == "type" and isinstance(v, list):
            return f"Unknown name \"type\" at '{where}': Proto field is not repeating, cannot start list."
        if camel not in GEMINI_SCHEMA:
            return f"Unknown name \"{k}\" at '{where}': Cannot find field."
        if k == "enum" and isinstance(v, list) and not all(isinstance(x, str) for x in v):
            return f"Invalid value at '{where}.enum' (TYPE_STRING)."
        if k == "format" and str(s.get("type")).lower() == "string" and v not in ("enum", "date-time"):
            return f"{where}.format: only 'enum' and 'date-time' are supported for STRING type"
        if k == "format" and v == "enum" and not s.get("enum"):
            return f"{where}.enum: should be non-empty for STRING type with enum format"
        if k == "enum" and isinstance(v, list) and str(s.get("type")).lower() != "string":
            return f"{where}.enum: only allowed for STRING type"
        if k == "enum" and isinstance(v, list) and "" in v:
            return f"{where}.enum[{v.index('')}]: cannot be empty"
        subs = (list(v.items()) if camel == "properties" and isinstance(v, dict) else
                [("", v)] if camel == "items" and isinstance(v, dict) else
                list(enumerate(v)) if camel == "anyOf" and isinstance(v, list) else [])
        for name, sub in subs:
            bad = gemini_schema_fault(sub, f"{where}.{k}" + (f"[{name!r}]" if name != "" else "")) \
                if isinstance(sub, dict) else None
            if bad:
                return bad
    return None


def last_user_text(dialect, body):
    try:
        if dialect == "gemini":
            parts = body["contents"][-1].get("parts", [])
            return " ".join(p.get("text", "") for p in parts if isinstance(p, dict))
        content = body["messages"][-1]["content"]
        if isinstance(content, str):
            return content
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    except (KeyError, IndexError, TypeError, AttributeError):
        return ""


CALL = re.compile(r"\[call:([A-Za-z0-9_-]+)\]")


def tool_result(dialect, body):
    """The text of a tool result when the conversation ends with one."""
    try:
        if dialect == "openai":
            last = body["messages"][-1]
            return last["content"] if last.get("role") == "tool" else None
        if dialect == "anthropic":
            content = body["messages"][-1]["content"]
            for b in content[-1:] if isinstance(content, list) else []:
                if b.get("type") == "tool_result":
                    c = b.get("content")
                    return c if isinstance(c, str) else " ".join(x.get("text", "") for x in c)
            return None
        for p in body["contents"][-1].get("parts", [])[-1:]:
            fr = p.get("functionResponse") or p.get("function_response")
            if fr:
                r = fr.get("response")
                return r.get("content") if isinstance(r, dict) and isinstance(r.get("content"), str) else json.dumps(r)
    except (KeyError, IndexError, TypeError, AttributeError):
        pass
    return None


def openai_call_id(model, tool):
    """An OpenAI-dialect call's id: Moonshot's Kimi names its calls
    functions.NAME:INDEX, whole or streamed, Mistral's models with 9 letters
    and digits."""
    return f"functions.{tool}:0" if model.startswith("kimi") else "D681PevKs" if mistral(model) else "call_mock1"


def tool_args(tool):
    """A call's arguments: send_big's carry an id beyond 2^53, which a
    double does not hold."""
    return {"channel_id": 1234567890123456789} if tool == "send_big" else {"city": "Paris"}


def forced(dialect, req):
    """OpenAI ends a call it was made to make (tool_choice naming the
    function) with finish_reason "stop", not "tool_calls" (vLLM too)."""
    tc = req.get("tool_choice") if dialect == "openai" else None
    return isinstance(tc, dict) and tc.get("type") == "function"


def tool_call(dialect, name, model, tool, req=None):
    args = tool_args(tool)
    if dialect == "openai":
        cid = openai_call_id(model, tool)
        return {"id": "chatcmpl-" + rand_id(), "object": "chat.completion", "created": int(time.time()),
                "model": model, "choices": [{"index": 0, "message": {
                    "role": "assistant", "content": None, "refusal": None,
                    "tool_calls": [{"id": cid, "type": "function",
                                    "function": {"name": tool, "arguments": json.dumps(args)}}]},
                    "logprobs": None, "finish_reason": "stop" if forced(dialect, req or {}) else "tool_calls"}],
                "usage": {"prompt_tokens": 20, "completion_tokens": 8, "total_tokens": 28}}
    if dialect == "anthropic":
        return {"id": "msg_" + rand_id(), "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "tool_use", "id": "toolu_mock1", "name": tool, "input": args}],
                "stop_reason": "tool_use", "stop_sequence": None,
                "usage": {"input_tokens": 20, "output_tokens": 8}}
    return {"candidates": [{"content": {"parts": [{"functionCall": {"name": tool, "args": args}}], "role": "model"},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 8, "totalTokenCount": 28},
            "modelVersion": model, "responseId": rand_id()}


def system_text(dialect, body):
    try:
        if dialect == "openai":
            return " ".join(m["content"] for m in body.get("messages", [])
                            if m.get("role") in ("system", "developer") and isinstance(m.get("content"), str))
        if dialect == "anthropic":
            sysp = body.get("system", "")
            return sysp if isinstance(sysp, str) else " ".join(b.get("text", "") for b in sysp)
        si = body.get("systemInstruction") or body.get("system_instruction") or {}
        return " ".join(p.get("text", "") for p in si.get("parts", []))
    except (TypeError, AttributeError):
        return ""


def success(dialect, name, model, body):
    text = f"Hello from {name} ({model})"
    sysp = system_text(dialect, body)
    if sysp:
        text += f" [system:{sysp[:40]}]"
    result = tool_result(dialect, body)
    if result is not None:
        text = f"{name} ({model}) got the tool result: {result}"
    m = RID.search(last_user_text(dialect, body))
    if m:
        text += " " + m.group(0)
    for data in pdfs(dialect, body):   # what it read: each PDF's size and digest
        text += f" [pdf:{len(data)}:{hashlib.sha256(data).hexdigest()[:12]}]"
    call = CALL.search(last_user_text(dialect, body))
    if call and result is None and body.get("tools"):
        return tool_call(dialect, name, model, call.group(1), body), text
    pt, ct = 9, len(text.split())
    if dialect == "openai":
        return {"id": "chatcmpl-" + rand_id(), "object": "chat.completion", "created": int(time.time()),
                "model": model, "choices": [{"index": 0, "message": {"role": "assistant", "content": text,
                                                                      "refusal": None},
                                             "logprobs": None, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct},
                "system_fingerprint": "fp_mock"}, text
    if dialect == "anthropic":
        return {"id": "msg_" + rand_id(), "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                "stop_sequence": None, "usage": {"input_tokens": pt, "output_tokens": ct}}, text
    return {"candidates": [{"content": {"parts": [{"text": text}], "role": "model"},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": pt, "candidatesTokenCount": ct, "totalTokenCount": pt + ct},
            "modelVersion": model, "responseId": rand_id()}, text


DEPRECATED = [("Deprecation", "@1767225600"), ("Sunset", "Thu, 01 Jan 2026 00:00:00 GMT")]
SOFT = ("refusal_text", "refusal", "blocked", "empty_answer", "bad_json", "schema_mismatch", "json_ok",
        "bad_args", "truncated", "deprecated", "long_cant", "nope", "image_only", "code_run",
        "content_chunks", "error_in_body", "error_null", "lone_surrogate", "json_lone_surrogate")


def set_text(dialect, body, text):
    if dialect == "openai":
        body["choices"][0]["message"]["content"] = text
    elif dialect == "anthropic":
        body["content"] = [{"type": "text", "text": text}] if text is not None else []
    else:
        body["candidates"][0]["content"]["parts"] = [{"text": text if text is not None else ""}]


def soft(dialect, name, model, req, b):
    """A 200 that is not a usable answer (or, for the controls, one that
    only looks suspicious). Returns (body, extra headers)."""
    body, _ = success(dialect, name, model, req)
    headers = []
    if b == "refusal_text":
        set_text(dialect, body, "I'm sorry, but I can't help with that.")
    elif b == "nope":
        set_text(dialect, body, "Nope. Not doing that.")
    elif b == "long_cant":
        set_text(dialect, body, "Here is a detailed answer. " * 20 + "I can't stress enough how useful "
                 "this is; " + "the rest of the explanation follows. " * 10)
    elif b == "refusal":
        if dialect == "openai":
            msg = body["choices"][0]["message"]
            msg["content"], msg["refusal"] = None, "I'm sorry, I cannot assist with that request."
        elif dialect == "anthropic":
            body["content"], body["stop_reason"] = [], "refusal"
        else:
            body["candidates"][0]["finishReason"] = "SAFETY"
            body["candidates"][0]["content"]["parts"] = []
    elif b == "blocked":
        if dialect == "gemini":
            body = {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
                    "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5}, "modelVersion": model}
        elif dialect == "openai":
            body["choices"][0]["finish_reason"] = "content_filter"
            body["choices"][0]["message"]["content"] = ""
        else:
            body["stop_reason"] = "refusal"
    elif b == "empty_answer":
        set_text(dialect, body, "" if dialect != "anthropic" else None)
    elif b == "bad_json":
        set_text(dialect, body, "Sure! Here is the JSON: {\"name\": ")
    elif b == "schema_mismatch":
        set_text(dialect, body, json.dumps({"name": 5}))
    elif b == "json_ok":
        set_text(dialect, body, json.dumps({"name": f"{name}", "age": 30}))
    elif b == "bad_args" and dialect == "openai":
        body = tool_call(dialect, name, model, "get_weather")
        body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] = "{\"city\": Par"
    elif b == "truncated":
        set_text(dialect, body, "The answer is long and it was cut off in the mid")
        if dialect == "openai":
            body["choices"][0]["finish_reason"] = "length"
        elif dialect == "anthropic":
            body["stop_reason"] = "max_tokens"
        else:
            body["candidates"][0]["finishReason"] = "MAX_TOKENS"
    elif b == "deprecated":
        headers = DEPRECATED
    elif b == "content_chunks" and dialect == "openai":
        # Mistral's reasoning models (Magistral): the content as chunks, its thinking first
        msg = body["choices"][0]["message"]
        msg["content"] = [{"type": "thinking", "thinking": [{"type": "text", "text": "Let me think it over."}]},
                          {"type": "text", "text": msg["content"]}]
    elif b == "lone_surrogate":
        # half an emoji, as a model cut between its halves writes it (json.dumps: "\ud83d")
        set_text(dialect, body, f"Hello from {name} \ud83d there")
    elif b == "json_lone_surrogate":
        # JSON output holding half an emoji, escaped as json.dumps writes it ("\\ud83d")
        set_text(dialect, body, json.dumps({"name": f"{name} \ud83d", "age": 30}))
    elif b == "error_in_body" and dialect == "openai":
        # OpenRouter's 200 when the model's provider failed mid-generation
        ch = body["choices"][0]
        ch["message"]["content"] = "The answer is"
        ch["finish_reason"] = "error"
        ch["error"] = {"code": 502, "message": "Provider disconnected"}
    elif b == "error_null" and dialect == "openai":
        # a good answer saying it has no error
        body["error"] = None
        body["choices"][0]["error"] = None
    elif b == "image_only" and dialect == "gemini":
        # an image model's answer: the image, no text
        body["candidates"][0]["content"]["parts"] = [{"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}]
    elif b == "code_run" and dialect == "gemini":
        # the code execution tool's answer when the model adds no text
        body["candidates"][0]["content"]["parts"] = [
            {"executableCode": {"language": "PYTHON", "code": "print(6 * 7)"}},
            {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "42\n"}}]
    return body, headers


def openai_chunker(model):
    """A function making this stream's chunks (one id and time for all)."""
    cid, created = "chatcmpl-" + rand_id(), int(time.time())

    def chunk(delta, finish=None, usage=None):
        c = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
             "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        if usage:
            c["usage"] = usage
        return "data: " + json.dumps(c) + "\n\n"
    return chunk


def anthropic_event(name, data):
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


def anthropic_message_start(model, input_tokens):
    return anthropic_event("message_start", {"type": "message_start", "message": {
        "id": "msg_" + rand_id(), "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": input_tokens, "output_tokens": 1}}})


def sse_events(dialect, model, text):
    pieces = [text[:len(text) // 3], text[len(text) // 3:2 * len(text) // 3], text[2 * len(text) // 3:]]
    out = []
    if dialect == "openai":
        chunk = openai_chunker(model)
        out.append(chunk({"role": "assistant", "content": ""}))
        out += [chunk({"content": p}) for p in pieces]
        # Mistral sends the usage unasked, in the chunk with the finish
        usage = {"prompt_tokens": 9, "total_tokens": 9 + len(text.split()),
                 "completion_tokens": len(text.split())} if mistral(model) else None
        out.append(chunk({}, "stop", usage))
        out.append("data: [DONE]\n\n")
    elif dialect == "anthropic":
        ev = anthropic_event
        out.append(anthropic_message_start(model, 9))
        out.append(ev("content_block_start", {"type": "content_block_start", "index": 0,
                                              "content_block": {"type": "text", "text": ""}}))
        out.append(ev("ping", {"type": "ping"}))
        out += [ev("content_block_delta", {"type": "content_block_delta", "index": 0,
                                           "delta": {"type": "text_delta", "text": p}}) for p in pieces]
        out.append(ev("content_block_stop", {"type": "content_block_stop", "index": 0}))
        out.append(ev("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                                                           "stop_sequence": None},
                                        "usage": {"output_tokens": len(text.split())}}))
        out.append(ev("message_stop", {"type": "message_stop"}))
    else:
        for i, p in enumerate(pieces):
            c = {"candidates": [{"content": {"parts": [{"text": p}], "role": "model"}, "index": 0}],
                 "modelVersion": model}
            if i == len(pieces) - 1:
                c["candidates"][0]["finishReason"] = "STOP"
                c["usageMetadata"] = {"promptTokenCount": 9, "candidatesTokenCount": len(text.split()),
                                      "totalTokenCount": 9 + len(text.split())}
            out.append("data: " + json.dumps(c) + "\r\n\r\n")   # (Gemini ends its events with CRLF)
    return out


def sse_tool_events(dialect, model, tool, args, made=False):
    """A streamed tool call, framed as each API streams one: OpenAI's first
    chunk carries the role with the call's id and name and empty arguments,
    which follow in pieces; Anthropic's tool_use block starts with an empty
    input and its JSON comes in input_json_delta pieces (the first empty);
    Gemini sends the whole functionCall in one chunk."""
    js = json.dumps(args)
    halves = [js[:len(js) // 2], js[len(js) // 2:]]
    out = []
    if dialect == "openai":
        chunk = openai_chunker(model)
        out.append(chunk({"role": "assistant", "content": None, "refusal": None, "tool_calls": [
            {"index": 0, "id": openai_call_id(model, tool), "type": "function",
             "function": {"name": tool, "arguments": ""}}]}))
        out += [chunk({"tool_calls": [{"index": 0, "function": {"arguments": h}}]}) for h in halves]
        out.append(chunk({}, "stop" if made else "tool_calls"))   # (a forced call ends "stop")
        out.append("data: [DONE]\n\n")
    elif dialect == "anthropic":
        ev = anthropic_event
        out.append(anthropic_message_start(model, 20))
        out.append(ev("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {
            "type": "tool_use", "id": "toolu_mock1", "name": tool, "input": {}}}))
        out.append(ev("ping", {"type": "ping"}))
        out += [ev("content_block_delta", {"type": "content_block_delta", "index": 0,
                                           "delta": {"type": "input_json_delta", "partial_json": h}})
                for h in [""] + halves]
        out.append(ev("content_block_stop", {"type": "content_block_stop", "index": 0}))
        out.append(ev("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use",
                                                                           "stop_sequence": None},
                                        "usage": {"output_tokens": 8}}))
        out.append(ev("message_stop", {"type": "message_stop"}))
    else:
        out.append("data: " + json.dumps({"candidates": [{"content": {"parts": [{"functionCall": {
            "name": tool, "args": args}}], "role": "model"}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 8, "totalTokenCount": 28},
            "modelVersion": model}) + "\r\n\r\n")
    return out


# ---- HTTP ---------------------------------------------------------------

class Closed(Exception):
    pass


class Conn:
    def __init__(self, sock):
        self.sock = sock
        # (a bytearray: bytes += would copy the whole buffer at every TLS
        # record, seconds for a body of megabytes)
        self.buf = bytearray()

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise Closed()
        self.buf += data

    def line(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > 1 << 20:
                raise Closed()
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("latin-1")

    def exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def request(self):
        start = self.line()
        while start == "":
            start = self.line()
        method, target, _ = (start.split(" ", 2) + ["", ""])[:3]
        headers = {}
        while True:
            line = self.line()
            if line == "":
                break
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if headers.get("expect", "").lower() == "100-continue":
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = b""
            while True:
                size = int(self.line().split(";")[0] or "0", 16)
                if size == 0:
                    while self.line() != "":
                        pass
                    break
                body += self.exact(size)
                self.exact(2)
        else:
            body = self.exact(int(headers.get("content-length") or 0))
        return method, target, headers, body


def response(status, headers, body, close=False):
    head = [f"HTTP/1.1 {status} {STATUS_TEXT.get(status, 'Status')}"]
    head += [f"{k}: {v}" for k, v in headers]
    head.append(f"Content-Length: {len(body)}")
    if close:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class Server:
    def __init__(self, spec, tls_ctx):
        self.name = spec["name"]
        self.port = int(spec["port"])
        self.dialect = spec.get("dialect", "openai")
        self.tls = bool(spec.get("tls"))
        self.tls_ctx = tls_ctx if self.tls else None
        self.local = threading.local()   # per connection thread: the request being answered
        self.lock = threading.Lock()
        self.records = []
        self.conns = itertools.count(1)   # a serial per accepted connection: a client's
        self.encode = None                # port may be used again once one closes
        self.apply({"behaviour": spec.get("behaviour", "ok"), "retry_after": spec.get("retry_after"),
                    "delay_ms": spec.get("delay_ms", 0), "key": spec.get("key")})
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(128)

    def apply(self, changes):
        with self.lock:
            for k in ("behaviour", "retry_after", "delay_ms", "key", "encode"):
                if k in changes:
                    setattr(self, k, changes[k])
            self.script_pos = 0

    def next_behaviour(self):
        with self.lock:
            b = self.behaviour
            if isinstance(b, list):
                b = b[min(self.script_pos, len(b) - 1)] if b else "ok"
                self.script_pos += 1
            return str(b)

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(c,), daemon=True).start()

    def handle(self, c):
        self.local.conn = next(self.conns)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if self.tls_ctx:
                c = self.tls_ctx.wrap_socket(c, server_side=True)
            conn = Conn(c)
            while True:
                method, target, headers, body = conn.request()
                keep = self.dispatch(c, method, target, headers, body)
                if not keep or headers.get("connection", "").lower() == "close":
                    break
        except (Closed, OSError, ssl.SSLError, ValueError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    # -- routing --
    def dispatch(self, c, method, target, headers, body):
        url = urllib.parse.urlsplit(target)
        path, query = url.path, urllib.parse.parse_qs(url.query)
        self.local.gzip = False
        if path.startswith("/_mock/"):
            return self.admin(c, method, path, query, body)
        model, stream = None, False
        # a tuned model's name is "tunedModels/NAME"; a percent-encoded colon reads as one
        gem = re.search(r"/(tunedModels|models)/([^/]+?)(?::|%3[aA])([^:%/]*)$", path)
        if self.dialect == "openai" and method == "POST" and path.endswith("/chat/completions"):
            pass
        elif self.dialect == "anthropic" and method == "POST" and path.endswith("/messages"):
            pass
        elif self.dialect == "gemini" and method == "POST" and gem:
            coll, model, op = gem.groups()
            model = "tunedModels/" + model if coll == "tunedModels" else model
            if op not in ("generateContent", "streamGenerateContent"):
                return self.send(c, 404, {"error": {"code": 404, "message": "Not found", "status": "NOT_FOUND"}})
            stream = op == "streamGenerateContent"
        else:
            return self.send(c, 404, {"error": {"message": f"Invalid URL ({method} {path})", "type": "invalid_request_error"}})
        credential = self.credential(headers, query)
        # JSON answers gzip'ed when the client asks, as the real APIs do;
        # encode "unasked": also when it names no coding (RFC 9110 12.5.3:
        # no Accept-Encoding accepts any), not for one that says identity;
        # "always": whatever it says, as a server that ignores it
        ae = headers.get("accept-encoding")
        self.local.gzip = (self.encode == "always" or (self.encode == "unasked" and ae is None)
                           or "gzip" in (ae or "").lower())
        behaviour = self.next_behaviour()
        self.record(method, path, url.query, headers, body, credential, behaviour, c.getpeername(),
                    client_cert(c))
        if self.delay_ms:
            time.sleep(float(self.delay_ms) / 1000)
        try:
            req = json.loads(body or b"{}")
            if not isinstance(req, dict):
                raise ValueError
        except ValueError:
            return self.send(c, 400, ERRORS[self.dialect](400, model or ""))
        model = model or str(req.get("model", ""))
        stream = stream or req.get("stream") is True
        if self.key is not None and credential != self.key:
            return self.send(c, *account_error(self.dialect, "bad_key"))
        if self.dialect == "anthropic" and "anthropic-version" not in headers:
            return self.send(c, 400, {"type": "error", "error": {"type": "invalid_request_error",
                                                                 "message": "anthropic-version: header is required"}})
        refusal = request_refusal(self.dialect, model, req, headers.get("anthropic-beta", ""))
        if refusal:
            return self.send(c, refusal.pop("_status", 400), refusal)
        return self.behave(c, behaviour, model, req, stream)

    def credential(self, headers, query):
        if self.dialect == "openai":
            a = headers.get("authorization", "")
            return a[7:] if a.lower().startswith("bearer ") else (a or None)
        if self.dialect == "anthropic":
            return headers.get("x-api-key")
        return headers.get("x-goog-api-key") or (query.get("key") or [None])[0]

    def record(self, method, path, query, headers, body, credential, behaviour, peer, cert=None):
        rec = {"server": self.name, "port": self.port, "method": method, "path": path, "query": query,
               "headers": headers, "body": body.decode("utf-8", "replace"), "credential": credential,
               "behaviour": behaviour, "ts": time.time(), "peer_port": peer[1], "peer_addr": peer[0],
               "conn": self.local.conn, "client_cert": cert}
        with self.lock:
            self.records.append(rec)
        if record_file:
            with record_lock:
                record_file.write(json.dumps(rec) + "\n")
                record_file.flush()

    def behave(self, c, b, model, req, stream):
        if b.startswith("random:"):
            # random:P — fail with a 503 P % of the time, answer otherwise
            b = "503" if random.random() * 100 < float(b[7:]) else "ok"
        if b.startswith("slow:"):
            # slow:MS[:BEHAVIOUR] — that behaviour (ok by default) after MS ms
            _, ms, b = (b + ":ok").split(":")[:3]
            time.sleep(int(ms) / 1000)
        if b.startswith("thinks:") and not stream:
            # thinks:N — a model that thinks N tokens unasked (Gemini 2.5
            # and 3, OpenAI's reasoning models), which its output limit
            # counts: under N and the answer, the answer is cut, with no
            # text, as the real APIs cut it
            body, text = success(self.dialect, self.name, model, req)
            gc = req.get("generationConfig") or {}
            limit = (gc.get("maxOutputTokens") if self.dialect == "gemini" else
                     req.get("max_completion_tokens", req.get("max_tokens")))
            if isinstance(limit, int) and limit < int(b[7:]) + len(text.split()):
                set_text(self.dialect, body, "" if self.dialect != "anthropic" else None)
                if self.dialect == "openai":
                    body["choices"][0]["finish_reason"] = "length"
                elif self.dialect == "anthropic":
                    body["stop_reason"] = "max_tokens"
                else:
                    body["candidates"][0]["finishReason"] = "MAX_TOKENS"
            return self.send(c, 200, body)
        if b.startswith("thinks:"):
            b = "ok"
        if b == "ok":
            if stream:
                return self.stream(c, model, req)
            body, _ = success(self.dialect, self.name, model, req)
            return self.send(c, 200, body)
        if b == "deprecated" and stream:
            return self.stream(c, model, req, DEPRECATED)
        if b.startswith("stream_") and stream:
            return self.bad_stream(c, b, model, req)
        if b in SOFT:
            body, headers = soft(self.dialect, self.name, model, req, b)
            return self.send(c, 200, body, headers)
        if b == "textplain":
            body, _ = success(self.dialect, self.name, model, req)
            return self.raw(c, 200, "text/plain", json.dumps(body).encode())
        if b in ("raw_tab", "escaped_tab", "leading_zero", "bad_u_escape", "nul_escape"):
            # JSON as cJSON took it and Python's json, JSON.parse and Go refuse it:
            # a raw tab in a string, a number with a leading zero, a \u escape
            # with a bad hex digit (and the controls: an escaped tab, and
            # nul_escape, JSON that begins the text with \u0000)
            body, _ = success(self.dialect, self.name, model, req)
            set_text(self.dialect, body, ("\0" if b == "nul_escape" else "") + f"Hello from {self.name}\tthere")
            text = json.dumps(body)
            if b == "raw_tab":
                text = text.replace("\\t", "\t")
            elif b == "leading_zero":
                text = text[:-1] + ', "seq": 007}'
            elif b == "bad_u_escape":
                text = text.replace("\\t", "\\u12G4")
            return self.raw(c, 200, "application/json", text.encode())
        if b == "jsoncase":   # JSON under a media type in other case, which is the same type
            body, _ = success(self.dialect, self.name, model, req)
            return self.raw(c, 200, "Application/JSON; Charset=UTF-8", json.dumps(body).encode())
        if b == "hang":
            c.settimeout(60)
            try:
                while c.recv(65536):
                    pass
            except OSError:
                pass
            return False
        if b == "reset":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if b == "empty":
            return False
        if b == "not_http":
            # something in the way answering what is not HTTP at all
            c.sendall(b"<html><body>Service Unavailable</body></html>\r\n")
            return False
        if b == "malformed":
            return self.raw(c, 200, "application/json", b'{"id": "chatcmpl-x", "choices": [{"message": {"content": "hel')
        if b == "html":
            return self.raw(c, 200, "text/html", b"<html><body><h1>502 Bad Gateway</h1><p>upstream error</p></body></html>")
        if b == "emptybody":
            return self.raw(c, 200, "application/json", b"")
        if b == "context":
            return self.send(c, 400, context_error(self.dialect))
        if b == "context_limit":   # Anthropic's other wording, input and max_tokens together
            return self.send(c, 400, {"type": "error", "error": {"type": "invalid_request_error", "message":
                                      "input length and `max_tokens` exceed context limit: 178959 + 64000 > 200000, "
                                      "decrease input length or `max_tokens` and try again"}})
        if b in ("bad_key", "no_credit"):
            return self.send(c, *account_error(self.dialect, b))
        status = int(b)
        extra = []
        body = ERRORS[self.dialect](status, model)
        wait = 1 if self.retry_after is None else self.retry_after
        if self.dialect == "gemini" and status == 429:
            # (Gemini sends no Retry-After: the wait is a RetryInfo in the body)
            body["error"]["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{wait}s"}]
        elif status == 429 or (status == 503 and self.retry_after is not None):
            extra.append(("retry-after", str(wait)))
        return self.send(c, status, body, extra)

    def stream(self, c, model, req, headers=()):
        answer, text = success(self.dialect, self.name, model, req)
        head = ("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n" +
                "".join("%s: %s\r\n" % h for h in headers) + "Transfer-Encoding: chunked\r\n\r\n").encode()
        c.sendall(head)
        call = CALL.search(last_user_text(self.dialect, req))
        called = call and req.get("tools") and tool_result(self.dialect, req) is None and answer is not None
        events = (sse_tool_events(self.dialect, model, call.group(1), tool_args(call.group(1)),
                                  forced(self.dialect, req)) if called
                  else sse_events(self.dialect, model, text))
        for ev in events:
            data = ev.encode()
            c.sendall(b"%x\r\n%s\r\n" % (len(data), data))
            time.sleep(0.005)
        c.sendall(b"0\r\n\r\n")
        return True

    def bad_stream(self, c, b, model, req):
        """A 200 stream that is not an answer: an error event first, no event,
        garbage (stream_garbage_more: with more after it); or (stream_slow:MS) a
        good one whose first event is late."""
        if b.startswith("stream_drip:") or b == "stream_break":
            # events spaced out (drip), or cut off with a reset after two (break)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
            _, text = success(self.dialect, self.name, model, req)
            events = sse_events(self.dialect, model, text)
            for i, ev in enumerate(events):
                if b == "stream_break" and i == 2:
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return False
                c.sendall(b"%x\r\n%s\r\n" % (len(ev.encode()), ev.encode()))
                if b != "stream_break":
                    time.sleep(int(b.split(":")[1]) / 1000)
            c.sendall(b"0\r\n\r\n")
            return True
        if b == "stream_garbage_more":
            # a garbage first event, and more of the stream after a pause
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
            ev = b"data: <html>upstream reset</html>\n\n"
            c.sendall(b"%x\r\n%s\r\n" % (len(ev), ev))
            time.sleep(0.5)
            _, text = success(self.dialect, self.name, model, req)
            for ev in sse_events(self.dialect, model, text):
                c.sendall(b"%x\r\n%s\r\n" % (len(ev.encode()), ev.encode()))
            c.sendall(b"0\r\n\r\n")
            return True
        if b.startswith("stream_slow:"):
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
            time.sleep(int(b.split(":")[1]) / 1000)
            _, text = success(self.dialect, self.name, model, req)
            for ev in sse_events(self.dialect, model, text):
                c.sendall(b"%x\r\n%s\r\n" % (len(ev.encode()), ev.encode()))
            c.sendall(b"0\r\n\r\n")
            return True
        if b == "stream_refusal":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
            for ev in sse_events(self.dialect, model, "I'm sorry, but I can't help with that."):
                c.sendall(b"%x\r\n%s\r\n" % (len(ev.encode()), ev.encode()))
            c.sendall(b"0\r\n\r\n")
            return True
        if b == "stream_null_error":
            # a good stream whose every event says "error": null, as some
            # OpenAI-compatible servers write it in every chunk
            _, text = success(self.dialect, self.name, model, req)
            events = []
            for ev in sse_events(self.dialect, model, text):
                head, sep, data = ev.partition("data: ")
                if data.startswith("{"):
                    end = data[data.rindex("}") + 1:]
                    j = json.loads(data[:data.rindex("}") + 1])
                    j["error"] = None
                    ev = head + sep + json.dumps(j) + end
                events.append(ev)
            return self.raw(c, 200, "text/event-stream", "".join(events).encode())
        if b == "stream_late_raw_tab":
            # a good stream whose last piece of text, after the answer began,
            # holds a raw tab: JSON as cJSON took it and Python's json refuses
            _, text = success(self.dialect, self.name, model, req)
            events = sse_events(self.dialect, model, text + "\tthe end")
            last = max(i for i, ev in enumerate(events) if "\\tthe end" in ev)
            events[last] = events[last].replace("\\tthe end", "\tthe end")
            return self.raw(c, 200, "text/event-stream", "".join(events).encode())
        if b == "stream_finish_every_chunk" and self.dialect == "openai":
            # OpenAI-compatible proxies (gcli2api, open-webui's) that put a
            # finish_reason, and the usage so far, on every chunk
            _, text = success(self.dialect, self.name, model, req)
            chunk, n = openai_chunker(model), len(text) // 3
            events = [chunk(dict({"role": "assistant"} if i == 0 else {}, content=piece), "stop",
                            {"prompt_tokens": 9, "completion_tokens": i + 1, "total_tokens": 10 + i})
                      for i, piece in enumerate((text[:n], text[n:2 * n], text[2 * n:]))]
            return self.raw(c, 200, "text/event-stream", "".join(events + ["data: [DONE]\n\n"]).encode())
        if b == "stream_content_chunks" and self.dialect == "openai":
            # Mistral's Magistral: content deltas as arrays of chunks, its
            # thinking first, then the answer's text
            _, text = success(self.dialect, self.name, model, req)
            events = []
            for ev in sse_events(self.dialect, model, text):
                j = json.loads(ev[6:]) if ev.startswith("data: {") else None
                delta = j["choices"][0]["delta"] if j and j.get("choices") else {}
                if delta.get("content"):
                    delta["content"] = [{"type": "text", "text": delta["content"]}]
                    ev = "data: " + json.dumps(j) + "\n\n"
                elif "role" in delta:
                    ev += "data: " + json.dumps(dict(j, choices=[dict(j["choices"][0], delta={"content": [
                        {"type": "thinking", "thinking": [{"type": "text", "text": "THINKING it over"}]}]})])) + "\n\n"
                events.append(ev)
            return self.raw(c, 200, "text/event-stream", "".join(events).encode())
        if b == "stream_refusal_silent":
            # a refusal with no text at all: only the stop reason says it
            # (Anthropic's stop_reason "refusal" with no content block,
            # OpenAI's finish_reason "content_filter" after the role chunk,
            # Gemini's SAFETY with an empty part)
            if self.dialect == "anthropic":
                events = [anthropic_message_start(model, 9), anthropic_event("message_delta", {
                    "type": "message_delta", "delta": {"stop_reason": "refusal", "stop_sequence": None},
                    "usage": {"output_tokens": 0}}), anthropic_event("message_stop", {"type": "message_stop"})]
            elif self.dialect == "openai":
                chunk = openai_chunker(model)
                events = [chunk({"role": "assistant", "content": ""}), chunk({}, "content_filter"), "data: [DONE]\n\n"]
            else:
                events = ["data: " + json.dumps({"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]},
                                                                 "finishReason": "SAFETY", "index": 0}],
                                                 "modelVersion": model}) + "\r\n\r\n"]
            return self.raw(c, 200, "text/event-stream", "".join(events).encode())
        if b == "stream_structured_refusal" and self.dialect == "openai":
            # OpenAI's structured refusal: delta.refusal in place of content
            chunk, text = openai_chunker(model), "I'm sorry, I cannot assist with that request."
            events = ([chunk({"role": "assistant", "content": None, "refusal": ""})] +
                      [chunk({"refusal": p}) for p in (text[:20], text[20:])] + [chunk({}, "stop"), "data: [DONE]\n\n"])
            return self.raw(c, 200, "text/event-stream", "".join(events).encode())
        if b in ("stream_error", "stream_error_framed", "stream_error_after_text"):
            if self.dialect == "anthropic":
                events = ['event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n']
            else:
                events = ["data: " + json.dumps(ERRORS[self.dialect](503, model)) + "\n\n"]
            if b == "stream_error_framed":
                # the error after the events that open every stream (Anthropic's
                # message_start, the first text block's start with no text,
                # and ping; OpenAI's role chunk), as overloads come
                _, text = success(self.dialect, self.name, model, req)
                opening = sse_events(self.dialect, model, text)
                events = [e for e in opening if '"message_start"' in e or '"ping"' in e or '"role"' in e or
                          ('"content_block_start"' in e and '"text": ""' in e)] + events
            elif b == "stream_error_after_text":
                # the error after the first piece of text, in the same write
                _, text = success(self.dialect, self.name, model, req)
                opening = sse_events(self.dialect, model, text)
                events = opening[:{"anthropic": 4, "openai": 2}.get(self.dialect, 1)] + events
        elif b == "stream_empty":
            events = ["data: [DONE]\n\n"] if self.dialect == "openai" else [": keep-alive\n\n"]
        else:
            events = ["data: <html>upstream reset</html>\n\n"]
        body = "".join(events).encode()
        return self.raw(c, 200, "text/event-stream", body)

    def send(self, c, status, obj, extra=()):
        return self.raw(c, status, "application/json", json.dumps(obj).encode(), extra)

    def raw(self, c, status, ctype, body, extra=()):
        if getattr(self.local, "gzip", False) and ctype == "application/json":
            body = gzip.compress(body)
            extra = list(extra) + [("Content-Encoding", "gzip")]
        c.sendall(response(status, [("Content-Type", ctype)] + list(extra), body))
        return True

    # -- admin --
    def admin(self, c, method, path, query, body):
        if path == "/_mock/requests":
            with self.lock:
                return self.send(c, 200, list(self.records))
        if path == "/_mock/set" and method == "POST":
            try:
                changes = json.loads(body or b"{}")
            except ValueError:
                return self.send(c, 400, {"error": "bad json"})
            self.apply(changes)
            return self.send(c, 200, {"ok": True})
        if path == "/_mock/reset" and method == "POST":
            with self.lock:
                self.records = []
                self.script_pos = 0
                self.encode = None
            return self.send(c, 200, {"ok": True})
        if path == "/_mock/blob":
            size = min(int((query.get("size") or ["0"])[0]), 50 << 20)
            rng = random.Random(int((query.get("seed") or ["0"])[0]))
            data = rng.randbytes(size)
            return self.raw(c, 200, "application/octet-stream", data)
        return self.send(c, 404, {"error": "no such admin route"})


def client_cert(c):
    """The common name of the certificate the client presented (a server
    with "client_ca" asks for one), or None."""
    try:
        cert = c.getpeercert() if isinstance(c, ssl.SSLSocket) else None
    except (ValueError, ssl.SSLError):
        return None
    for rdn in (cert or {}).get("subject", ()):
        for k, v in rdn:
            if k == "commonName":
                return v
    return None


def server_tls(spec, default, tls):
    """A TLS server's context: the shared one, or its own when it has a
    certificate of its own ("tls_cert", "tls_key": another CA's) or asks
    clients for theirs ("client_ca": verified against it, optional)."""
    if not spec.get("tls") or not (spec.get("tls_cert") or spec.get("client_ca")):
        return default
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(spec.get("tls_cert") or tls["cert"], spec.get("tls_key") or tls["key"])
    ctx.set_alpn_protocols(["http/1.1"])
    if spec.get("client_ca"):
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.load_verify_locations(spec["client_ca"])
    return ctx


def main():
    global record_file
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    if cfg.get("record"):
        record_file = open(cfg["record"], "a")
    tls_ctx = None
    if cfg.get("tls"):
        tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_ctx.load_cert_chain(cfg["tls"]["cert"], cfg["tls"]["key"])
        tls_ctx.set_alpn_protocols(["http/1.1"])
    servers = [Server(s, server_tls(s, tls_ctx, cfg.get("tls"))) for s in cfg["servers"]]
    for s in servers:
        threading.Thread(target=s.serve, daemon=True).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("READY", flush=True)
    stop.wait()


if __name__ == "__main__":
    main()
