# See LICENSE file for copyright and license details.
# oai: the OpenAI API as small Unix tools.  POSIX make plus GNU make's
# wildcard/patsubst (Debian's make); see config.mk for knobs.

include config.mk

TOOLS = $(patsubst cmd/%.c,%,$(wildcard cmd/*.c))
BIN   = $(TOOLS:%=bin/%)
LIBSRC = $(wildcard lib/*.c)
LIBOBJ = $(LIBSRC:.c=.o)
UNIT   = $(patsubst %.c,%,$(wildcard tests/unit/test_*.c))
MAN1   = $(wildcard man/*.1)
MAN7   = $(wildcard man/*.7)

# SANITIZE=1 builds everything with AddressSanitizer and UBSan.
SAN_1  = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN    = $(SAN_$(SANITIZE))
# FAILALLOC=1: allocations fail on demand (OAI_FAILALLOC=n), for tests.
FAILALLOC_1 = -DOAI_FAILALLOC

OAI_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror \
	-Ilib $(CURL_CFLAGS) $(SAN) $(FAILALLOC_$(FAILALLOC))
OAI_LDFLAGS = $(SAN)

# Per-tool extra libraries: LIBS_oai-chat = -ledit
LIBS_oai-chat = -ledit

all: $(BIN)

# Rebuild everything when the flags change (SANITIZE=1 after a plain
# build must not mix objects).
.flags: FORCE
	@echo '$(CC) $(CFLAGS) $(OAI_CFLAGS) $(LDFLAGS)' | cmp -s - $@ || \
		echo '$(CC) $(CFLAGS) $(OAI_CFLAGS) $(LDFLAGS)' > $@

lib/%.o: lib/%.c lib/oai.h lib/httpint.h lib/jsonint.h .flags
	$(CC) $(CFLAGS) $(OAI_CFLAGS) -c -o $@ $<

lib/liboai.a: $(LIBOBJ)
	rm -f $@
	ar rcs $@ $(LIBOBJ)

bin/%: cmd/%.c lib/liboai.a lib/oai.h .flags
	@mkdir -p bin
	$(CC) $(CFLAGS) $(OAI_CFLAGS) -o $@ $< lib/liboai.a \
		$(LDFLAGS) $(OAI_LDFLAGS) $(CURL_LIBS) $(LIBS_$*) -lm

tests/unit/%: tests/unit/%.c tests/unit/tap.h lib/liboai.a lib/oai.h .flags
	$(CC) $(CFLAGS) $(OAI_CFLAGS) -o $@ $< lib/liboai.a \
		$(LDFLAGS) $(OAI_LDFLAGS) $(CURL_LIBS) -lm

unit: $(UNIT)

# Everything the tests need, from Debian's packages (run as root); the
# same list works on Debian 12 and 13.  libclang-rt-dev is the clang
# runtime (fuzzing, sanitizers) of the release's default clang; node and
# npm are installed only when the commands are missing (Debian's nodejs
# has no npm; a nodejs from elsewhere brings its own).
DEBS = build-essential pkg-config libcurl4-openssl-dev libjsmn-dev \
	libedit-dev bats mandoc python3 curl jq clang valgrind \
	libclang-rt-dev tmux
deps: deps-deb deps-npm

deps-deb:
	@missing=; for p in $(DEBS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
		grep -q 'ok installed' || missing="$$missing $$p"; done; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && apt-get install -y -qq $$missing; \
	else echo "dependencies present"; fi

# Stoplight Prism for the conformance tier (tests/conformance.bats).
deps-npm: deps-deb
	@./tests/conformance/setup.sh

lint-man:
	mandoc -Tlint -Wwarning $(MAN1) $(MAN7)

# The whole suite: unit tests, man page lint, bats; ends with
# "N passed, N failed".  VALGRIND=1 runs every tool under valgrind.
check: all unit
	@VALGRIND=$(VALGRIND) SANITIZE=$(SANITIZE) ./tests/run

# The exhaustive walks make check samples: every cut offset of every
# stream, every allocation failure (CI runs this; about 15 minutes).
LONG_BATS = tests/hardening-faults.bats tests/hardening-alloc.bats
check-long: all unit
	@OAI_TEST_LONG=1 VALGRIND=$(VALGRIND) SANITIZE=$(SANITIZE) \
		./tests/run $(LONG_BATS)

# For make check-long: f32_shortest() against printf and
# strtof on every float (one to two hours of one core).
check-long-f32: tests/unit/test_f32
	@./tests/unit/test_f32 --all

# Each of f32_list()'s SIMD paths this CPU has (AVX2, AVX-512) against
# its scalar one on every float, a process a path side by side (about
# 2 minutes on 2 cores).
check-long-f32simd: tests/unit/test_f32
	@./tests/unit/test_f32 --all-simd

# The suite's main job against the local test server (no key needed).
demo: all
	@./tests/demo

bench: all bench/f32
	@./bench/run

# bench/f32.sh's float-printing microbenchmark (f32_list() by each path).
bench/f32: bench/f32.c lib/liboai.a lib/oai.h .flags
	$(CC) $(CFLAGS) $(OAI_CFLAGS) -o $@ bench/f32.c lib/liboai.a \
		$(LDFLAGS) $(OAI_LDFLAGS) -lm

# libFuzzer targets in fuzz/ (clang; the runtime is libclang-rt-14-dev):
# each is linked against lib/ compiled with the fuzzer's coverage and
# ASan+UBSan into fuzz/bin/liboai.a, never against lib/liboai.a.  `make fuzz`
# runs each target FUZZTIME seconds in turn; fuzz/regress/ inputs are
# replayed by `make check` (tests/unit/test_regress.c).
FUZZ_CC      = clang
FUZZTIME     = 60
FUZZ_TARGETS = json sse jsonw errbody retryafter conv upload baseurl redact \
	jscan base64
FUZZ_CFLAGS  = -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror \
	-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all -Ilib $(CURL_CFLAGS)
FUZZ_LIBOBJ  = $(LIBSRC:lib/%.c=fuzz/bin/lib/%.o)

fuzz/bin/lib/%.o: lib/%.c $(wildcard lib/*.h)
	@mkdir -p fuzz/bin/lib
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

# An archive, as lib/liboai.a is: a target links only the objects it
# needs (lib/lineedit.o, say, would need libedit).
fuzz/bin/liboai.a: $(FUZZ_LIBOBJ)
	rm -f $@
	ar rcs $@ $(FUZZ_LIBOBJ)

fuzz/bin/%: fuzz/%.c fuzz/fuzz.h fuzz/bin/liboai.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< fuzz/bin/liboai.a \
		$(CURL_LIBS) -lm

fuzz-build: $(FUZZ_TARGETS:%=fuzz/bin/%)

# The replay driver includes the targets' sources.
tests/unit/test_regress: fuzz/fuzz.h $(FUZZ_TARGETS:%=fuzz/%.c)

fuzz: fuzz-build
	@FUZZTIME=$(FUZZTIME) ./fuzz/run $(FUZZ_TARGETS)

.PHONY: fuzz fuzz-build
.PRECIOUS: fuzz/bin/lib/%.o

# Modes are set, not inherited from the clone's umask: programs 0755,
# man pages and completions 0644, directories 0755.
install: all
	umask 022; mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANPREFIX)/man1 \
		$(DESTDIR)$(MANPREFIX)/man7 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	for f in $(BIN); do cp -f $$f $(DESTDIR)$(PREFIX)/bin/ && \
		chmod 0755 $(DESTDIR)$(PREFIX)/bin/$${f#bin/}; done
	for f in $(MAN1); do cp -f $$f $(DESTDIR)$(MANPREFIX)/man1/ && \
		chmod 0644 $(DESTDIR)$(MANPREFIX)/man1/$${f#man/}; done
	for f in $(MAN7); do cp -f $$f $(DESTDIR)$(MANPREFIX)/man7/ && \
		chmod 0644 $(DESTDIR)$(MANPREFIX)/man7/$${f#man/}; done
	for f in completions/bash/*; do cp -f $$f $(DESTDIR)$(BASHCOMPDIR)/ && \
		chmod 0644 $(DESTDIR)$(BASHCOMPDIR)/$${f#completions/bash/}; done
	for f in completions/zsh/*; do cp -f $$f $(DESTDIR)$(ZSHCOMPDIR)/ && \
		chmod 0644 $(DESTDIR)$(ZSHCOMPDIR)/$${f#completions/zsh/}; done
	for f in completions/fish/*; do cp -f $$f $(DESTDIR)$(FISHCOMPDIR)/ && \
		chmod 0644 $(DESTDIR)$(FISHCOMPDIR)/$${f#completions/fish/}; done

uninstall:
	for t in $(TOOLS); do \
		rm -f $(DESTDIR)$(PREFIX)/bin/$$t \
			$(DESTDIR)$(MANPREFIX)/man1/$$t.1; done
	for f in $(MAN7); do rm -f $(DESTDIR)$(MANPREFIX)/man7/$${f#man/}; done
	for f in completions/bash/*; do rm -f $(DESTDIR)$(BASHCOMPDIR)/$${f#completions/bash/}; done
	for f in completions/zsh/*; do rm -f $(DESTDIR)$(ZSHCOMPDIR)/$${f#completions/zsh/}; done
	for f in completions/fish/*; do rm -f $(DESTDIR)$(FISHCOMPDIR)/$${f#completions/fish/}; done

clean:
	rm -f $(BIN) lib/*.o lib/liboai.a $(UNIT) bench/f32 .flags
	rm -rf bin fuzz/bin

FORCE:
.PHONY: all unit deps deps-deb deps-npm lint-man check check-long check-long-f32 check-long-f32simd demo bench install uninstall clean FORCE
.PRECIOUS: lib/%.o
