#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# The build: warning-free with gcc and clang, install and uninstall.
bats_require_minimum_version 1.5.0

setup() { load helper; }

copytree() {	# a private copy of the sources, so builds don't touch bin/
	mkdir -p "$1"
	cp -R "$ROOT/Makefile" "$ROOT/config.mk" "$ROOT/lib" "$ROOT/cmd" \
		"$ROOT/man" "$ROOT/completions" "$1/"
	rm -f "$1"/lib/*.o "$1"/lib/*.a
}

@test "build: clang builds everything with -Wall -Wextra -Werror, no warnings" {
	command -v clang >/dev/null || skip "clang not installed"
	copytree "$BATS_TEST_TMPDIR/src"
	run --separate-stderr make -C "$BATS_TEST_TMPDIR/src" -s CC=clang
	assert_status 0
	refute_stderr_contains warning
	for t in "$ROOT"/cmd/*.c; do
		t=${t##*/}; t=${t%.c}
		[ -x "$BATS_TEST_TMPDIR/src/bin/$t" ]
	done
}

@test "build: make install honours DESTDIR, PREFIX and MANPREFIX; uninstall removes it all" {
	copytree "$BATS_TEST_TMPDIR/src"
	d=$BATS_TEST_TMPDIR/dest
	run make -C "$BATS_TEST_TMPDIR/src" -s install DESTDIR="$d" PREFIX=/opt/oai MANPREFIX=/opt/man
	assert_status 0
	for t in "$ROOT"/cmd/*.c; do
		t=${t##*/}; t=${t%.c}
		[ -x "$d/opt/oai/bin/$t" ]
		[ -f "$d/opt/man/man1/$t.1" ]
	done
	[ -f "$d/opt/man/man7/oai.7" ]
	[ -f "$d/opt/oai/share/bash-completion/completions/oai-models" ]
	[ -f "$d/opt/oai/share/zsh/site-functions/_oai-models" ]
	[ -f "$d/opt/oai/share/fish/vendor_completions.d/oai-models.fish" ]
	run make -C "$BATS_TEST_TMPDIR/src" -s uninstall DESTDIR="$d" PREFIX=/opt/oai MANPREFIX=/opt/man
	assert_status 0
	assert_equal '' "$(find "$d" -type f)"
}

@test "build: make install sets modes whatever the umask and the clone's modes" {
	copytree "$BATS_TEST_TMPDIR/src"
	chmod -R go-rwx "$BATS_TEST_TMPDIR/src"
	d=$BATS_TEST_TMPDIR/dest
	run bash -c 'umask 077 && make -C "$1" -s install DESTDIR="$2" PREFIX=/p' _ "$BATS_TEST_TMPDIR/src" "$d"
	assert_status 0
	assert_equal 755 "$(stat -c %a "$d/p/bin/oai-chat")"
	assert_equal 755 "$(stat -c %a "$d/p/bin")"
	assert_equal 755 "$(stat -c %a "$d/p/share/man/man1")"
	assert_equal 644 "$(stat -c %a "$d/p/share/man/man1/oai-chat.1")"
	assert_equal 644 "$(stat -c %a "$d/p/share/man/man7/oai.7")"
	assert_equal 644 "$(stat -c %a "$d/p/share/bash-completion/completions/oai-chat")"
	assert_equal 644 "$(stat -c %a "$d/p/share/zsh/site-functions/_oai-chat")"
	assert_equal 644 "$(stat -c %a "$d/p/share/fish/vendor_completions.d/oai-chat.fish")"
}

@test "build: user CFLAGS are additive (warnings stay errors)" {
	copytree "$BATS_TEST_TMPDIR/src"
	run --separate-stderr make -C "$BATS_TEST_TMPDIR/src" -s CFLAGS=-O0 lib/liboai.a
	assert_status 0
	grep -q -- '-Werror' "$BATS_TEST_TMPDIR/src/.flags"
	grep -q -- '-O0' "$BATS_TEST_TMPDIR/src/.flags"
}

@test "build: jsmn.h is included by exactly one translation unit" {
	run grep -l 'include <jsmn.h>' "$ROOT"/lib/*.c "$ROOT"/lib/*.h "$ROOT"/cmd/*.c
	assert_equal "$ROOT/lib/json.c" "$output"
}

@test "build: every tool has a man page, completions, README and tests" {
	for t in "$ROOT"/cmd/*.c; do
		t=${t##*/}; t=${t%.c}
		[ -f "$ROOT/man/$t.1" ] || fail "no man/$t.1"
		[ -f "$ROOT/completions/bash/$t" ] || fail "no bash completion for $t"
		[ -f "$ROOT/completions/zsh/_$t" ] || fail "no zsh completion for $t"
		[ -f "$ROOT/completions/fish/$t.fish" ] || fail "no fish completion for $t"
		grep -q "### $t" "$ROOT/README.md" || fail "README has no section for $t"
		[ -f "$ROOT/tests/$t.bats" ] || fail "no tests/$t.bats"
	done
}

@test "build: every option in a tool's --help is in its man page and its bash, zsh and fish completions" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	local t n o man missing=
	for t in "$ROOT"/cmd/*.c; do
		n=${t##*/}; n=${n%.c}
		man=$(mandoc -Tascii "$ROOT/man/$n.1" | sed 's/.\x08//g')
		for o in $("$ROOT/bin/$n" --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
			grep -qe "$o" <<<"$man" || missing+=" $n:man:$o"
			grep -qe "$o" "$ROOT/completions/bash/$n" || missing+=" $n:bash:$o"
			grep -qe "${o#--}" "$ROOT/completions/zsh/_$n" || missing+=" $n:zsh:$o"
			grep -qe "-l ${o#--}" "$ROOT/completions/fish/$n.fish" || missing+=" $n:fish:$o"
		done
	done
	assert_equal '' "$missing"
}
