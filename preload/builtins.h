/* builtins.h — the built-in providers, one list for the two libraries: the
 * core's table (endpoints.c) and the shim's gate (gate.c), which must know
 * their hosts before the core is loaded.
 *
 * X(name, base_url, key_env, alt_key_env, default_model, dialect, needs_key) */
#ifndef LLF_BUILTINS_H
#define LLF_BUILTINS_H

#define LLF_BUILTIN_PROVIDERS(X)                                                                        \
    X("openai", "https://api.openai.com/v1", "OPENAI_API_KEY", NULL, "gpt-4o-mini", LLF_OPENAI, 1)     \
    X("anthropic", "https://api.anthropic.com/v1", "ANTHROPIC_API_KEY", NULL, "claude-sonnet-4-5",    \
      LLF_ANTHROPIC, 1)                                                                                 \
    X("gemini", "https://generativelanguage.googleapis.com/v1beta", "GEMINI_API_KEY", "GOOGLE_API_KEY", \
      "gemini-2.5-flash", LLF_GEMINI, 1)                                                                \
    X("openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", NULL, "openai/gpt-4o-mini",  \
      LLF_OPENAI, 1)                                                                                    \
    X("groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY", NULL, "llama-3.3-70b-versatile",        \
      LLF_OPENAI, 1)                                                                                    \
    X("mistral", "https://api.mistral.ai/v1", "MISTRAL_API_KEY", NULL, "mistral-large-latest",          \
      LLF_OPENAI, 1)                                                                                    \
    X("deepseek", "https://api.deepseek.com", "DEEPSEEK_API_KEY", NULL, "deepseek-chat", LLF_OPENAI, 1) \
    X("together", "https://api.together.xyz/v1", "TOGETHER_API_KEY", NULL,                             \
      "meta-llama/Llama-3.3-70B-Instruct-Turbo", LLF_OPENAI, 1)                                         \
    X("xai", "https://api.x.ai/v1", "XAI_API_KEY", NULL, "grok-3-mini", LLF_OPENAI, 1)                  \
    X("fireworks", "https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY", NULL,                 \
      "accounts/fireworks/models/llama-v3p3-70b-instruct", LLF_OPENAI, 1)                               \
    X("ollama", "http://localhost:11434/v1", "OLLAMA_API_KEY", NULL, "llama3.2", LLF_OPENAI, 0)

/* Base URLs recognised beside a built-in provider's own (its calls still go
 * to its own): Gemini's stable API, a subset of v1beta; DeepSeek's
 * operations under /v1, the same as without (its SDK examples use both).
 * X(name, base_url) */
#define LLF_BUILTIN_ALSO(X)                                          \
    X("gemini", "https://generativelanguage.googleapis.com/v1")     \
    X("deepseek", "https://api.deepseek.com/v1")

#endif
