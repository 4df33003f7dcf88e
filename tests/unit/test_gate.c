/* The shim's gate: a name or address is a provider's only if a base URL
 * mentions it as its host, at its port. */
#include <stdio.h>
#include <string.h>

#include "builtins.h"
#include "dialect.h"
#include "gate.h"
#include "t.h"

/* The built-in base URLs are read as they are, not lowered (gate.c's
 * load): each must be so already, with nothing llf_gate_lower changes. */
static void builtins_lower(void)
{
#define URL(n, url, key, alt, model, d, needs) url,
#define ALSO(n, url) url,
    static const char *const urls[] = {LLF_BUILTIN_PROVIDERS(URL) LLF_BUILTIN_ALSO(ALSO)};
#undef URL
#undef ALSO
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        char t[256];
        snprintf(t, sizeof t, "%s", urls[i]);
        llf_gate_lower(t);
        CHECK_STR(t, urls[i]);
    }
}

void test_gate(void)
{
    builtins_lower();
    char t[] = "https://api.openai.com/v1\nhttp://localhost:11434/v1\n"
               "{\"providers\": {\"x\": {\"base_url\": \"http://127.0.0.1:8080/v1\"},\n"
               "  \"y\": {\"base_url\": \"https://[::1]:9443/v1\"}, \"z\": {\"base_url\": \"HTTP://Gw.Example:81\"}}}";
    llf_gate_lower(t);
    CHECK(llf_gate_mentions(t, "api.openai.com", 443));
    CHECK(llf_gate_mentions(t, "API.OpenAI.com.", 0));          /* any case, fully qualified, any port */
    CHECK(!llf_gate_mentions(t, "api.openai.com", 80));         /* not the scheme's port */
    CHECK(!llf_gate_mentions(t, "openai.com", 0));              /* a part of a host is not the host */
    CHECK(!llf_gate_mentions(t, "api.openai", 0));
    CHECK(!llf_gate_mentions(t, "pi.openai.com", 443));
    CHECK(llf_gate_mentions(t, "localhost", 11434));
    CHECK(!llf_gate_mentions(t, "localhost", 6379));            /* a database on loopback is not ollama */
    CHECK(llf_gate_mentions(t, "127.0.0.1", 8080));
    CHECK(!llf_gate_mentions(t, "127.0.0.1", 8081));
    CHECK(!llf_gate_mentions(t, "27.0.0.1", 8080));
    CHECK(!llf_gate_mentions(t, "127.0.0.2", 8080));
    CHECK(llf_gate_mentions(t, "::1", 9443));                   /* an IPv6 literal, in brackets */
    CHECK(!llf_gate_mentions(t, "::1", 443));
    CHECK(llf_gate_mentions(t, "gw.example", 81));
    CHECK(!llf_gate_mentions(t, "", 0) && !llf_gate_mentions(NULL, "x", 0) && !llf_gate_mentions(t, NULL, 0));
    /* a base URL's host written fully qualified (a trailing dot) */
    char q[] = "http://localhost.:19105/v1\nhttps://llm.example.:8443/v1\nhttp://short.example./";
    CHECK(llf_gate_mentions(q, "localhost", 19105) && !llf_gate_mentions(q, "localhost", 19106));
    CHECK(llf_gate_mentions(q, "llm.example", 8443) && llf_gate_mentions(q, "LLM.example.", 8443));
    CHECK(llf_gate_mentions(q, "short.example", 80) && !llf_gate_mentions(q, "short.example", 443));
    CHECK(!llf_gate_mentions(q, "llm", 0) && !llf_gate_mentions(q, "local", 0));
    /* a config written with JSON's escaped slashes (PHP's json_encode):
     * a host with no port after it was not taken for one */
    char e[] = "{\"base_url\": \"https:\\/\\/LLM.corp.example\\/v1\"}\n{\"u\": \"http:\\/\\/10.1.2.3\"}";
    llf_gate_lower(e);
    CHECK(llf_gate_mentions(e, "llm.corp.example", 443) && !llf_gate_mentions(e, "llm.corp.example", 80));
    CHECK(llf_gate_mentions(e, "10.1.2.3", 80) && !llf_gate_mentions(e, "10.1.2.3", 443));
    /* only a URL's host: not a word elsewhere (a provider named as a host
     * is, a model, a path; a host with no scheme, which the core refuses) */
    char w[] = "{\"providers\": {\"vm\": {\"base_url\": \"http://10.0.0.5/vm/v1\"}, \"gw\": {\"base_url\": "
               "\"https://user:pw@gateway.example:8443/v1\"}}, \"chain\": [\"vm/vllm\"], \"host\": \"proxy.internal\"}";
    llf_gate_lower(w);
    CHECK(!llf_gate_mentions(w, "vm", 0) && !llf_gate_mentions(w, "vllm", 0) && !llf_gate_mentions(w, "proxy.internal", 0));
    CHECK(!llf_gate_mentions(w, "providers", 0) && !llf_gate_mentions(w, "v1", 0));
    CHECK(llf_gate_mentions(w, "10.0.0.5", 80) && llf_gate_mentions(w, "gateway.example", 8443));
    CHECK(!llf_gate_mentions(w, "user", 0) && !llf_gate_mentions(w, "pw", 0));
    /* a host written with JSON's \u escapes, as the core reads it */
    char u[] = "{\"base_url\": \"http://\\u0031\\u0032\\u0037.0.0.1:28101/v1\", \"x\": \"\\\\u0041\"}";
    llf_gate_lower(u);
    CHECK(llf_gate_mentions(u, "127.0.0.1", 28101) && !llf_gate_mentions(u, "127.0.0.1", 80));
    CHECK(strstr(u, "\\u0041") != NULL);   /* (an escaped backslash escapes nothing) */

    /* an IPv6 literal written otherwise than inet_ntop writes it (which
     * connect() is matched by), or IPv4-mapped (matched as its IPv4
     * address): each URL's standard form added, with its scheme and port */
    static const struct {
        const char *url, *host;
        long port;
    } v6[] = {{"http://[::ffff:127.0.0.1]:18701/v1", "127.0.0.1", 18701},
              {"http://[0:0:0:0:0:ffff:7f00:1]:18701/v1", "127.0.0.1", 18701},
              {"https://[FD00:0::1]/v1", "fd00::1", 443},
              {"https://[fd00:0000::0001]:8443", "fd00::1", 8443}};
    for (size_t i = 0; i < sizeof v6 / sizeof v6[0]; i++) {
        llf_buf b = {0};
        CHECK(llf_buf_printf(&b, "{\"base_url\": \"%s\", \"x\": \"\\u0041\"}", v6[i].url) == 0);
        llf_gate_lower(b.p);
        CHECK(!llf_gate_mentions(b.p, v6[i].host, v6[i].port));   /* (as written: not found) */
        CHECK(llf_gate_v6_forms(&b) == 0);
        CHECK(llf_gate_mentions(b.p, v6[i].host, v6[i].port) && !llf_gate_mentions(b.p, v6[i].host, v6[i].port + 1));
        llf_buf_free(&b);
    }
    llf_buf none = {0};   /* (standard forms and no literal: nothing added) */
    CHECK(llf_buf_adds(&none, "https://[::1]:9443/v1 http://[fe80::1%25eth0]:1/ http://[zz]/ https://a.example") == 0);
    size_t was = none.n;
    CHECK(llf_gate_v6_forms(&none) == 0 && none.n == was);
    llf_buf_free(&none);

    /* a lookup of localhost or of an address literal decides nothing
     * (connect, with the port, does): without a port it matched every
     * provider on the host (the built-in ollama's localhost:11434) */
    CHECK(!llf_gate_name("localhost", NULL) && !llf_gate_name("LOCALHOST.", NULL) && !llf_gate_name("localhost", "11434"));
    CHECK(!llf_gate_name("127.0.0.1", NULL) && !llf_gate_name("::1", "443"));
    CHECK(llf_gate_name("api.openai.com", NULL) && llf_gate_name("api.openai.com", "https"));
    CHECK(!llf_gate_name("api.openai.com", "80"));
}
