# llmfallback — build, test, bench, install.
#
#   make            build/libllmfallback.so (the preload shim) and
#                   build/libllmfallback-core.so (loaded by the shim on first need)
#   make test       every test: unit (plain and ASan+UBSan) and end to end
#   make demo       an unmodified curl failing over between local mock providers
#   make bench      the benchmark table
#   make install PREFIX=/usr/local

CC      ?= cc
PREFIX  ?= /usr/local
BUILD   ?= build
PKGS    := libcurl
# cJSON is our own copy (third_party/cjson, see preload/jsonmem.c for why;
# three parser speed changes in it are marked "llmfallback:"),
# found as <cjson/cJSON.h> like Debian's.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -Ithird_party
CJSON_LIBS := -lm
# zlib: decode.c reads a compressed answer the program asked for itself
CORE_LIBS  := $(CJSON_LIBS) -lz
CJSON_SRC  := third_party/cjson/cJSON.c
CURL_LIBS  := $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)

WARN    := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wstrict-prototypes
CFLAGS  ?= -O2 -g
ALL_CFLAGS = $(CFLAGS) $(WARN) -std=gnu11 -fPIC -fvisibility=hidden -D_GNU_SOURCE $(PKG_CFLAGS)
LDSO    := -shared -Wl,-z,defs -Wl,--as-needed -Wl,-z,noexecstack

SHIM_SRC := buf.c sse.c netaddr.c curlapi.c gate.c shim.c hook_curl.c hook_sock.c hook_dlopen.c hook_ssl.c hook_fd.c \
            hook_exec.c hook_fork.c trust.c sslsym.c forklock.c lineout.c \
            curl_handle.c curl_tls.c curl_info.c curl_deliver.c curl_capture.c curl_attempt.c
CORE_SRC := buf.c netaddr.c hubutil.c config.c endpoints.c models.c dialect.c dialect_openai.c dialect_anthropic.c \
            dialect_gemini.c verdict.c schema.c quality.c sse.c stream.c health.c rewrite.c budget.c engine.c shadow.c log.c expect.c \
            relay.c relay_conn.c relay_route.c relay_serve.c relay_tunnel.c http1.c targets.c \
            jsonmem.c decode.c guest.c lineout.c forklock.c core.c
LOGIC_SRC := $(filter-out core.c,$(CORE_SRC))
LOGIC_FILES := $(LOGIC_SRC:%=preload/%) $(CJSON_SRC)
HDRS := $(wildcard preload/*.h) third_party/cjson/cJSON.h

SHIM_OBJ := $(SHIM_SRC:%.c=$(BUILD)/shim/%.o)
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/core/%.o) $(BUILD)/core/cJSON.o

.PHONY: all test unit demo bench install clean deps fuzz print-logic sanlib
all: $(BUILD)/libllmfallback.so $(BUILD)/libllmfallback-core.so

$(BUILD)/shim/%.o: preload/%.c $(HDRS) | $(BUILD)/shim
	$(CC) $(ALL_CFLAGS) -c $< -o $@
$(BUILD)/core/%.o: preload/%.c $(HDRS) | $(BUILD)/core
	$(CC) $(ALL_CFLAGS) -c $< -o $@
$(BUILD)/core/cJSON.o: $(CJSON_SRC) third_party/cjson/cJSON.h | $(BUILD)/core
	$(CC) $(ALL_CFLAGS) -c $< -o $@
$(BUILD)/shim $(BUILD)/core $(BUILD)/asan:
	mkdir -p $@

# dlopen() must reach glibc as a tail call, so that glibc still sees the
# program as the caller (for $ORIGIN and RUNPATH): keep sibling calls on.
$(BUILD)/shim/hook_dlopen.o: ALL_CFLAGS += -O2 -foptimize-sibling-calls

# The shim needs nothing but libc: idle processes must not load libcurl/cJSON.
$(BUILD)/libllmfallback.so: $(SHIM_OBJ) preload/shim.map
	$(CC) $(LDFLAGS) $(LDSO) -Wl,--version-script=preload/shim.map -o $@ $(SHIM_OBJ)
$(BUILD)/libllmfallback-core.so: $(CORE_OBJ) preload/core.map
	$(CC) $(LDFLAGS) $(LDSO) -Wl,--version-script=preload/core.map -Wl,--exclude-libs,ALL -o $@ $(CORE_OBJ) $(CORE_LIBS)

# Unit tests link the pure logic directly, with a real libcurl for curl_url.
UNIT_SRC := $(wildcard tests/unit/*.c)
# (gate.c, hook_fd.c and trust.c are the shim's, tested here: gate.c for its
# pure part, hook_fd.c whole, as the unit binary's own socketpair and pipe,
# trust.c and sslsym.c on the libssl the unit binary links)
SHIM_TESTED := preload/gate.c preload/hook_fd.c preload/trust.c preload/sslsym.c
# A locale whose decimal point is a comma, which the unit tests of number
# text read and write under (Debian has none but C until one is built; its
# sources are the package locales).
T_LOCALE := $(BUILD)/locale/de_DE.UTF-8/LC_NUMERIC
$(T_LOCALE):
	@mkdir -p $(BUILD)/locale
	localedef -i de_DE -f UTF-8 $(BUILD)/locale/de_DE.UTF-8
UNIT_DEFS := -D_GNU_SOURCE -DT_LOCPATH='"$(BUILD)/locale"'
$(BUILD)/unit: $(UNIT_SRC) $(LOGIC_FILES) $(SHIM_TESTED) $(HDRS) tests/unit/t.h | $(T_LOCALE)
	$(CC) $(CFLAGS) $(WARN) -std=gnu11 $(UNIT_DEFS) $(PKG_CFLAGS) -Ipreload -o $@ \
	  $(UNIT_SRC) $(LOGIC_FILES) $(SHIM_TESTED) $(CORE_LIBS) $(CURL_LIBS) -lssl -lcrypto -lpthread
$(BUILD)/asan/unit: $(UNIT_SRC) $(LOGIC_FILES) $(SHIM_TESTED) $(HDRS) tests/unit/t.h | $(BUILD)/asan $(T_LOCALE)
	$(CC) -O1 -g -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=undefined,float-cast-overflow \
	  -fno-omit-frame-pointer $(WARN) -std=gnu11 $(UNIT_DEFS) $(PKG_CFLAGS) -Ipreload -o $@ \
	  $(UNIT_SRC) $(LOGIC_FILES) $(SHIM_TESTED) $(CORE_LIBS) $(CURL_LIBS) -lssl -lcrypto -lpthread

EXAMPLES := $(BUILD)/examples/chat_client $(BUILD)/progs/handles $(BUILD)/progs/curlstate \
            $(BUILD)/progs/execafter $(BUILD)/progs/curlinfo $(BUILD)/progs/lastthread $(BUILD)/progs/burst \
            $(BUILD)/progs/peercheck $(BUILD)/progs/jumpload $(BUILD)/progs/plainout $(BUILD)/progs/slowload.so \
            $(BUILD)/progs/heldlock $(BUILD)/progs/sslapi $(BUILD)/progs/curlshare
$(BUILD)/examples/%: examples/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -std=gnu11 $(PKG_CFLAGS) -o $@ $< $(CURL_LIBS) -lpthread
$(BUILD)/progs/%: tests/progs/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -std=gnu11 $(PKG_CFLAGS) -o $@ $< $(CURL_LIBS) -lpthread
$(BUILD)/progs/slowload.so: tests/progs/slowload.c
	@mkdir -p $(dir $@)
	$(CC) -O2 $(WARN) -shared -fPIC -o $@ $< -ldl
# (OpenSSL clients: the TLS path)
$(BUILD)/progs/peercheck $(BUILD)/progs/sslapi: $(BUILD)/progs/%: tests/progs/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -std=gnu11 -o $@ $< -lssl -lcrypto
$(BUILD)/progs/curlshare: tests/progs/curlshare.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -std=gnu11 $(PKG_CFLAGS) -o $@ $< $(CURL_LIBS) -lssl -lcrypto

# The library itself under ASan+UBSan, for the end-to-end suite's second run
# (the harness preloads the sanitizer runtimes ahead of it).
SAN_FLAGS := -O1 -g -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=undefined,float-cast-overflow -fno-omit-frame-pointer
sanlib:
	@$(MAKE) -s BUILD=$(BUILD)/sanlib CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" all \
	  $(BUILD)/sanlib/san_first.so
$(BUILD)/san_first.so: tests/e2e/san_first.c
	$(CC) -O2 $(WARN) -shared -fPIC -o $@ $< -ldl

deps:
	@scripts/install-deps

unit: $(BUILD)/unit $(BUILD)/asan/unit

test: deps all unit sanlib $(EXAMPLES)
	@tests/run.sh $(BUILD)

demo: deps all
	@scripts/demo $(BUILD)

bench: all
	@scripts/install-deps --bench
	@tests/bench/run.sh $(BUILD)

# libFuzzer targets for every parser and translator, FUZZ_SECONDS each
# (`make test` runs them briefly; `make fuzz FUZZ_SECONDS=600` for the long runs).
FUZZ_SECONDS ?= 600
fuzz: deps
	@tests/fuzz/run.sh $(BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)
print-logic:
	@echo $(LOGIC_FILES)

install: all
	install -d $(DESTDIR)$(PREFIX)/lib/llmfallback $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0644 docs/llmfallback.1 $(DESTDIR)$(PREFIX)/share/man/man1/llmfallback.1
	install -d $(DESTDIR)$(PREFIX)/share/llmfallback
	install -m 0644 scripts/llmfallback-report.py $(DESTDIR)$(PREFIX)/share/llmfallback/
	install -m 0644 $(BUILD)/libllmfallback.so $(BUILD)/libllmfallback-core.so $(DESTDIR)$(PREFIX)/lib/llmfallback/
	sed 's|^LIBDIR_DEFAULT=.*|LIBDIR_DEFAULT="$(PREFIX)/lib/llmfallback"|' scripts/llmfallback > $(DESTDIR)$(PREFIX)/bin/llmfallback
	chmod 0755 $(DESTDIR)$(PREFIX)/bin/llmfallback

clean:
	rm -rf $(BUILD)
