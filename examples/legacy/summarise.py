#!/usr/bin/env python3
"""summarise.py — a legacy script nobody owns any more: summarises a text
file (or stdin) with OpenAI's chat API through `requests` and prints the
summary. It knows nothing of llmfallback; run it as

    llmfallback --config examples/configs/openai-openrouter.json -- python3 examples/legacy/summarise.py FILE

OPENAI_BASE_URL (as the OpenAI SDKs read it) points it elsewhere."""
import os
import sys

import requests

text = open(sys.argv[1]).read() if len(sys.argv) > 1 else sys.stdin.read()
base = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1")
r = requests.post(f"{base}/chat/completions",
                  headers={"Authorization": f"Bearer {os.environ['OPENAI_API_KEY']}"},
                  json={"model": os.environ.get("SUMMARISE_MODEL", "gpt-4o-mini"),
                        "messages": [{"role": "system", "content": "Summarise the user's text in one sentence."},
                                     {"role": "user", "content": text}]},
                  timeout=120)
if r.status_code != 200:
    sys.exit(f"summarise: the API said {r.status_code}: {r.text[:200]}")
print(r.json()["choices"][0]["message"]["content"])
