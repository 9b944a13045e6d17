# See LICENSE file for copyright and license details.
#
# Shared helper for tests/*.bats: isolated environment, the fake API server
# (tests/server.py) and assertions, without external bats libraries.
#
# Every .bats file must begin with
#
#     bats_require_minimum_version 1.5.0
#
# because the assertions on stderr need `run --separate-stderr` (bats >= 1.5),
# and bats warns on every such run unless the file declares the version.
#
# A typical file:
#
#     bats_require_minimum_version 1.5.0
#     setup_file() { load helper; srv_start; }
#     teardown_file() { srv_stop; }
#     setup() { load helper; srv_reset; }
#
#     @test "oai-models lists models" {
#         srv_queue '{"cassette": "models_list"}'
#         run --separate-stderr oai-models
#         assert_status 0
#         assert_output_contains gpt-4o-mini
#         assert_stderr ''
#         [ "$(srv_req -1 | jq -r .path)" = /v1/models ]
#     }
#
# Why load twice: bats runs setup_file in the file's process and each test
# in a child of it, so what setup_file exports (SRV_*, OPENAI_BASE_URL,
# PATH...) reaches the tests but its functions do not; setup() loads the
# helper again for them, which also gives each test a fresh HOME.  Loading
# wipes OPENAI_* and OAI_*, then restores OPENAI_BASE_URL from SRV_URL, so
# tests start with only the base URL set: export OPENAI_API_KEY yourself.
#
# Server API (all fail the test on error):
#   srv_start [DIR]      start tests/server.py (state in DIR, default a
#                        per-file or per-test temp dir); exports SRV_DIR,
#                        SRV_PORT, SRV_PID, SRV_URL (http://127.0.0.1:PORT)
#                        and OPENAI_BASE_URL ($SRV_URL/v1)
#   srv_stop             stop it (SIGTERM, wait)
#   srv_queue JSON...    queue response specs (see tests/server.py)
#   srv_reset            empty the queue and the request log
#   srv_requests         print requests.jsonl
#   srv_req N            print request N (1-based; -1 = last, -2 = ...)
#   srv_req_field N JQ   print `jq -r JQ` of request N
#   srv_nreq             print the number of requests recorded
# Assertions (print expected and actual on failure):
#   assert_status N, assert_output [TEXT], assert_stderr [TEXT] (TEXT from
#   stdin when omitted), assert_output_contains TEXT,
#   assert_stderr_contains TEXT, refute_output_contains TEXT,
#   refute_stderr_contains TEXT, assert_equal EXPECTED ACTUAL, fail MSG...

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

# --- isolation -----------------------------------------------------------

_helper_isolate() {
	local v tmp

	# The test harness's own settings (OAI_TEST_*) survive the wipe.
	for v in $(compgen -v OPENAI_) $(compgen -v OAI_); do
		case $v in OAI_TEST_*) continue ;; esac
		unset "$v"
	done
	# libcurl obeys these: a proxy would swallow requests to the test server.
	unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY \
		no_proxy NO_PROXY
	unset XDG_CONFIG_HOME XDG_CACHE_HOME XDG_DATA_HOME XDG_STATE_HOME

	tmp=${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-$BATS_RUN_TMPDIR}}
	export HOME="$tmp/home"
	mkdir -p "$HOME"

	# OAI_TEST_BIN: wrappers that run the tools under valgrind (tests/run).
	export PATH="${OAI_TEST_BIN:-$ROOT/bin}:/usr/bin:/bin"
	if [ -d /usr/lib/locale/C.utf8 ] ||
		locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
		export LC_ALL=C.UTF-8
	else
		export LC_ALL=C
	fi
	export TZ=UTC

	if [ -n "${SRV_URL:-}" ]; then
		export OPENAI_BASE_URL="$SRV_URL/v1"
	fi
	# The recordings and the spec: OAI_CASSETTES, OAI_OPENAPI_SPEC...
	. "$ROOT/tests/shared.sh"
}
_helper_isolate

# skip_under_valgrind WHY: for tests of timing or of sheer volume, which
# valgrind (tests/run VALGRIND=1) slows past their point; the plain and
# SANITIZE=1 runs of make check cover them.
skip_under_valgrind() {
	[ -n "${OAI_TEST_BIN:-}" ] && grep -qs valgrind "$OAI_TEST_BIN/oai-chat" &&
		skip "under valgrind: $1 (checked by the plain and SANITIZE=1 runs)"
	return 0
}

# signal_until_gone PID SIG: send SIG until PID is gone (at most ~20 s).
# A background job starts with SIGINT ignored (non-interactive shells do
# that), so a signal sent before the tool installed its handler (slow
# under valgrind or load) would be lost and the test would hang.
signal_until_gone() {
	local i
	for i in $(seq 100); do
		kill -"$2" "$1" 2>/dev/null || return 0
		sleep 0.2
		kill -0 "$1" 2>/dev/null || return 0
	done
}

# assert_quiet_interrupt_reading CMD [ARG...]: CMD reads a FIFO kept open
# and empty; SIGINT must end it with 130, SIGTERM with 143, both silently.
assert_quiet_interrupt_reading() {
	local sig pid st fifo=$BATS_TEST_TMPDIR/in.fifo
	[ -p "$fifo" ] || mkfifo "$fifo"
	for sig in INT TERM; do
		"$@" <"$fifo" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
		pid=$!
		exec 5>"$fifo"
		sleep 0.3
		signal_until_gone $pid $sig
		st=0; wait $pid || st=$?
		exec 5>&-
		assert_equal "$([ $sig = INT ] && echo 130 || echo 143)" "$st" ||
			return 1
		assert_equal '' "$(cat "$BATS_TEST_TMPDIR/err")" || return 1
	done
}

# --- assertions ----------------------------------------------------------

fail() {
	printf '%s\n' "$@" >&2
	return 1
}

# _helper_show LABEL TEXT: print TEXT framed so whitespace is visible.
_helper_show() {
	printf -- '-- %s (%d bytes) --\n%s\n--\n' "$1" "${#2}" "$2" >&2
}

_helper_context() {
	_helper_show 'status' "${status-}"
	_helper_show 'stdout' "${output-}"
	[ -z "${stderr+x}" ] || _helper_show 'stderr' "$stderr"
}

assert_equal() {
	if [ "$1" != "$2" ]; then
		printf 'assert_equal failed\n' >&2
		_helper_show expected "$1"
		_helper_show actual "$2"
		return 1
	fi
}

assert_status() {
	if [ "${status-}" != "$1" ]; then
		printf 'assert_status: expected %s, got %s\n' "$1" "${status-}" >&2
		_helper_context
		return 1
	fi
}

assert_output() {
	local expected
	if [ $# -eq 0 ]; then expected=$(cat); else expected=$1; fi
	if [ "${output-}" != "$expected" ]; then
		printf 'assert_output failed\n' >&2
		_helper_show expected "$expected"
		_helper_show actual "${output-}"
		[ -z "${stderr+x}" ] || _helper_show stderr "$stderr"
		return 1
	fi
}

_helper_need_stderr() {
	[ -n "${stderr+x}" ] ||
		fail "$1: \$stderr unset: use 'run --separate-stderr'"
}

assert_stderr() {
	local expected
	_helper_need_stderr assert_stderr || return 1
	if [ $# -eq 0 ]; then expected=$(cat); else expected=$1; fi
	if [ "$stderr" != "$expected" ]; then
		printf 'assert_stderr failed\n' >&2
		_helper_show expected "$expected"
		_helper_show actual "$stderr"
		_helper_show stdout "${output-}"
		return 1
	fi
}

assert_output_contains() {
	if [[ "${output-}" != *"$1"* ]]; then
		printf 'assert_output_contains: missing %s\n' "$1" >&2
		_helper_context
		return 1
	fi
}

refute_output_contains() {
	if [[ "${output-}" == *"$1"* ]]; then
		printf 'refute_output_contains: found %s\n' "$1" >&2
		_helper_context
		return 1
	fi
}

assert_stderr_contains() {
	_helper_need_stderr assert_stderr_contains || return 1
	if [[ "$stderr" != *"$1"* ]]; then
		printf 'assert_stderr_contains: missing %s\n' "$1" >&2
		_helper_context
		return 1
	fi
}

refute_stderr_contains() {
	_helper_need_stderr refute_stderr_contains || return 1
	if [[ "$stderr" == *"$1"* ]]; then
		printf 'refute_stderr_contains: found %s\n' "$1" >&2
		_helper_context
		return 1
	fi
}

# --- test server ---------------------------------------------------------

srv_start() {
	local dir i
	dir=${1:-${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-$BATS_RUN_TMPDIR}}/srv}
	mkdir -p "$dir" || return 1
	rm -f "$dir/port"
	# Close fd 3 in the server: bats waits for every holder of it to exit.
	python3 "$ROOT/tests/server.py" --dir "$dir" \
		${SRV_CASSETTES:+--cassettes "$SRV_CASSETTES"} \
		</dev/null >>"$dir/server.out" 2>&1 3>&- &
	export SRV_PID=$!
	for i in $(seq 500); do
		[ -s "$dir/port" ] && break
		if ! kill -0 "$SRV_PID" 2>/dev/null; then
			cat "$dir/server.out" >&2
			fail "srv_start: server died"
			return 1
		fi
		sleep 0.01
	done
	[ -s "$dir/port" ] || { fail "srv_start: no port file after 5 s"; return 1; }
	export SRV_DIR="$dir"
	export SRV_PORT=$(cat "$dir/port")
	export SRV_URL="http://127.0.0.1:$SRV_PORT"
	export OPENAI_BASE_URL="$SRV_URL/v1"
	# One server, one queue: tests of a file must not run in parallel.
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
}

srv_stop() {
	local i
	[ -n "${SRV_PID:-}" ] || return 0
	kill "$SRV_PID" 2>/dev/null || true
	# wait only works in the shell that started the server; poll otherwise.
	wait "$SRV_PID" 2>/dev/null || true
	for i in $(seq 300); do
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.01
	done
	unset SRV_PID SRV_PORT SRV_URL OPENAI_BASE_URL
}

# _srv_ctl PATH [BODY]: POST a control request, fail unless it answers 200.
_srv_ctl() {
	local out code
	[ -n "${SRV_URL:-}" ] || { fail "$1: server not started"; return 1; }
	out=$(printf '%s' "${2-}" | curl -sS --noproxy '*' -w '\n%{http_code}' \
		-H 'Content-Type: application/json' --data-binary @- \
		"$SRV_URL$1") || { fail "$1: curl failed"; return 1; }
	code=${out##*$'\n'}
	if [ "$code" != 200 ]; then
		fail "$1: HTTP $code: ${out%$'\n'*}"
		return 1
	fi
}

srv_queue() {
	local spec
	for spec in "$@"; do
		_srv_ctl /_ctl/queue "$spec" || return 1
	done
}

srv_reset() {
	_srv_ctl /_ctl/reset
}

srv_requests() {
	cat "$SRV_DIR/requests.jsonl"
}

srv_nreq() {
	grep -c '' "$SRV_DIR/requests.jsonl" || true
}

srv_req() {
	local n=${1:--1} line
	if [ "$n" -le 0 ]; then
		line=$(tail -n "$((-n))" "$SRV_DIR/requests.jsonl" | head -n 1)
		[ "$(srv_nreq)" -ge "$((-n))" ] || line=
	else
		line=$(sed -n "${n}p" "$SRV_DIR/requests.jsonl")
	fi
	if [ -z "$line" ]; then
		fail "srv_req: no request $n (have $(srv_nreq))"
		return 1
	fi
	printf '%s\n' "$line"
}

srv_req_field() {
	local line
	line=$(srv_req "$1") || return 1
	printf '%s\n' "$line" | jq -r "$2"
}
