#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# Allocation failure (issue 5): a private build with FAILALLOC=1 and
# ASan+UBSan, where OAI_FAILALLOC=n fails the n-th allocation through the
# x*alloc wrappers.  For each tool's main path, n walks 1, 2, ... until
# the tool succeeds (every 5th n in make check, every n in make
# check-long); at every n the tool must exit 5 with exactly
# "TOOL: out of memory", never crash, never print a sanitizer report.
bats_require_minimum_version 1.5.0

setup_file() {
	load helper
	# The walk runs its own ASan build, so once per CI run is enough.
	# (bats 1.8 cannot skip from setup_file: setup() skips each test.)
	export FA_SKIP=
	if [ -n "${OAI_TEST_BIN:-}" ]; then
		FA_SKIP="runs in the plain make check, not under valgrind"
		return 0
	fi
	srv_start
	local src=$BATS_FILE_TMPDIR/src
	mkdir -p "$src"
	cp -R "$ROOT/Makefile" "$ROOT/config.mk" "$ROOT/lib" "$ROOT/cmd" "$src/"
	rm -f "$src"/lib/*.o "$src"/lib/*.a
	make -C "$src" -s FAILALLOC=1 SANITIZE=1 all >"$BATS_FILE_TMPDIR/make.out" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/make.out" >&2; return 1; }
	export FA_BIN=$src/bin
}
teardown_file() { load helper; srv_stop; }
setup() {
	[ -z "${FA_SKIP:-}" ] || skip "$FA_SKIP"
	load helper
	load hardening/tools
	srv_reset
	cd "$BATS_TEST_TMPDIR"
	hd_files
	# Leaks on the way out of die() are not what this file is about
	# (make check SANITIZE=1 and VALGRIND=1 check the normal paths).
	export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
	export UBSAN_OPTIONS=print_stacktrace=1
}

walk() {	# walk TOOL: fail the 1st, 2nd, ... allocation until success
	local t=$1 n st want
	hd_cmd "$t"
	local argv=("$FA_BIN/$t" "${HD_CMD[@]:1}")
	"${argv[@]}" <"$HD_IN" >want 2>err || {
		cat err >&2
		fail "$t: the FAILALLOC build fails without OAI_FAILALLOC"
		return 1
	}
	# make check fails every 5th allocation; make check-long
	# (OAI_TEST_LONG=1) every one.
	local step=5
	[ "${OAI_TEST_LONG:-}" != 1 ] || step=1
	for ((n = 1; n < 20000; n += step)); do
		st=0
		# every run from the same state: oai-chat's saved
		# conversations would pile up, and its pruning scan of them
		# allocate more each run than n grows
		rm -rf "$HOME/.local/state"
		# a hang is a failure with its n, not the file's time limit
		OAI_FAILALLOC=$n timeout -k 5 60 "${argv[@]}" <"$HD_IN" >out \
		    2>err || st=$?
		stderr=$(cat err) status=$st output=
		[ "$st" -ne 124 ] || fail "n=$n: $t hung (killed after 60 s)" ||
			return 1
		if [ "$st" -eq 0 ]; then
			cmp -s want out || fail "n=$n: success with other output" ||
				return 1
			assert_stderr '' || return 1
			echo "# $t: $((n - 1)) allocations walked" >&3
			[ "$n" -gt 1 ] || fail "$t: no allocation went through x*alloc"
			return
		fi
		assert_no_crash || { echo "n=$n" >&2; return 1; }
		[ "$st" -eq 5 ] && [ "$stderr" = "$t: out of memory" ] || {
			_helper_context
			fail "n=$n: want status 5 and '$t: out of memory'"
		}
	done
	fail "$t: still failing after $n allocations"
}

@test "alloc: oai-batch fails cleanly at every allocation of its main path" {
	walk oai-batch
}

@test "alloc: oai-chat fails cleanly at every allocation of its main path" {
	walk oai-chat
}

@test "alloc: oai-complete fails cleanly at every allocation of its main path" {
	walk oai-complete
}

@test "alloc: oai-embed fails cleanly at every allocation of its main path" {
	walk oai-embed
}

@test "alloc: oai-files fails cleanly at every allocation of its main path" {
	walk oai-files
}

@test "alloc: oai-image fails cleanly at every allocation of its main path" {
	walk oai-image
}

@test "alloc: oai-models fails cleanly at every allocation of its main path" {
	walk oai-models
}

@test "alloc: oai-moderate fails cleanly at every allocation of its main path" {
	walk oai-moderate
}

@test "alloc: oai-speak fails cleanly at every allocation of its main path" {
	walk oai-speak
}

@test "alloc: oai-transcribe fails cleanly at every allocation of its main path" {
	walk oai-transcribe
}

@test "alloc: every tool in cmd/ has a walk in this file" {
	load hardening/tools
	for t in "${HD_TOOLS[@]}"; do
		grep -q "^	walk $t\$" "$BATS_TEST_FILENAME" || fail "no walk for $t"
	done
}
