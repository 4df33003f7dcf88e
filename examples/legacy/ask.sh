#!/bin/sh
# ask.sh — a legacy shell tool: asks OpenAI's chat API one question with curl
# and prints the answer. It knows nothing of llmfallback; run it as
#   llmfallback --config examples/configs/openai-anthropic-gemini.json -- examples/legacy/ask.sh "question"
# OPENAI_BASE_URL (as the OpenAI SDKs read it) points it elsewhere.
set -eu
question=${1:?usage: ask.sh QUESTION}
base=${OPENAI_BASE_URL:-https://api.openai.com/v1}
model=${ASK_MODEL:-gpt-4o-mini}
body=$(jq -n --arg m "$model" --arg q "$question" '{model: $m, messages: [{role: "user", content: $q}]}')
answer=$(curl -sS --fail-with-body "$base/chat/completions" \
    -H "Authorization: Bearer $OPENAI_API_KEY" \
    -H "Content-Type: application/json" \
    -d "$body")
printf '%s\n' "$answer" | jq -r '.choices[0].message.content'
