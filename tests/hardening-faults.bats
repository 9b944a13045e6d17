#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# Faults against the test server (issue 5): cut streams at every byte,
# byte-by-byte and random chunkings, Retry-After, backoff, no retry after
# output, stalls and silent servers, broken stdout, signals, and a check
# that every exit status of oai(7) is asserted by some test.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	load hardening/tools
	srv_reset
	cd "$BATS_TEST_TMPDIR"
	hd_files
	CASS=$OAI_CASSETTES
	# make check walks every 29th cut offset (a prime, so the cuts fall
	# on every kind of byte); make check-long (OAI_TEST_LONG=1) every
	# offset.  Under valgrind (VALGRIND=1) each run costs a second: 97.
	STRIDE=29
	[ "${OAI_TEST_LONG:-}" != 1 ] || STRIDE=1
	! grep -qs valgrind "${OAI_TEST_BIN:-/nonexistent}/oai-chat" || STRIDE=97
}

# cutwalk CASSETTE: serve the recording cut after 0, 1, 2, ... bytes (of
# the raw response, headers included) and check every run.  One queue
# call serves all the cuts (close_after_step); only the tool runs per
# offset.
cutwalk() {
	local c=$1 raw len off st full out lines n=0
	raw=$(cassette_file "$c") || return 1
	len=$(wc -c < "$raw")
	srv_queue "{\"cassette\": \"$c\"}"
	oai-chat hi </dev/null >full 2>err || { cat err >&2; fail "$c: full run failed"; return 1; }
	IFS= read -r -d '' full < full || true
	[ -n "$full" ] || { fail "$c: empty reply"; return 1; }
	srv_reset
	srv_queue "{\"cassette\": \"$c\", \"close_after\": 0, \"close_after_step\": $STRIDE, \"repeat\": $(((len + STRIDE - 1) / STRIDE))}"
	for ((off = 0; off < len; off += STRIDE)); do
		st=0
		oai-chat --retries 0 hi </dev/null >out 2>err || st=$?
		out=
		IFS= read -r -d '' out < out || true
		mapfile -t lines < err
		# A cut reply gets no closing newline in a pipe: what was
		# printed must be an exact prefix of the full reply.
		if [ "$st" != 5 ] || [ "${#lines[@]}" != 1 ] ||
			[[ ${lines[0]} != "oai-chat: "?* ]] ||
			[[ $full != "$out"* ]]; then
			status=$st output=$out stderr=$(cat err)
			_helper_context
			fail "$c cut after $off of $len bytes: want status 5, one line on stderr, a prefix of the reply"
			return 1
		fi
		n=$((n + 1))
	done
	echo "# $c: $n cuts" >&3
	[ "$(srv_nreq)" = "$n" ] || fail "$(srv_nreq) requests for $n runs"
}

cassette_file() {
	local d=$CASS/$1
	[ -f "$d/response.http" ] || d=$CASS/${1%/*}/0${1##*/}
	[ -f "$d/response.http" ] || d=$CASS/$1/00
	[ -f "$d/response.http" ] || { fail "no cassette $1"; return 1; }
	printf '%s\n' "$d/response.http"
}

@test "faults: chat_stream_2023_plain cut at every 29th byte (every byte in check-long): prefix, status 5, one line" {
	cutwalk chat_stream_2023_plain
}

@test "faults: chat_stream_tool_calls_usage_2026/00 cut at every 29th byte (every byte in check-long)" {
	cutwalk chat_stream_tool_calls_usage_2026/00
}

@test "faults: chat_stream_tool_calls_usage_2026/01 cut at every 29th byte (every byte in check-long)" {
	cutwalk chat_stream_tool_calls_usage_2026/01
}

# chunkings CASSETTE: whole, one byte at a time and 20 random chunkings
# all give the same bytes on stdout, status 0, nothing on stderr.
chunkings() {
	local c=$1 raw len i sizes left k
	raw=$(cassette_file "$c") || return 1
	len=$(wc -c < "$raw")
	srv_queue "{\"cassette\": \"$c\"}"
	oai-chat hi </dev/null >full
	srv_queue "{\"cassette\": \"$c\", \"chunk\": 1}"
	run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_output "$(cat full)"
	RANDOM=$((0x5eed + len))	# reproducible
	for ((i = 0; i < 20; i++)); do
		sizes= left=$len
		while [ "$left" -gt 0 ]; do
			k=$((RANDOM % 97 + 1))
			sizes+=${sizes:+,}$k
			left=$((left - k))
		done
		srv_queue "{\"cassette\": \"$c\", \"chunks\": [$sizes]}"
		oai-chat hi </dev/null >out 2>err ||
			{ cat err >&2; fail "chunks [$sizes]: failed"; return 1; }
		cmp full out || { fail "chunks [$sizes]: other output"; return 1; }
		[ ! -s err ] || { cat err >&2; fail "chunks [$sizes]: stderr"; return 1; }
	done
}

@test "faults: chat_stream_2023_plain byte by byte and in 20 random chunkings: same output" {
	chunkings chat_stream_2023_plain
}

@test "faults: chat_stream_tool_calls_usage_2026/00 byte by byte and randomly chunked" {
	chunkings chat_stream_tool_calls_usage_2026/00
}

@test "faults: chat_stream_tool_calls_usage_2026/01 byte by byte and randomly chunked" {
	chunkings chat_stream_tool_calls_usage_2026/01
}

gap() {	# gap N: seconds between request N and N+1, from the server's clock
	jq -rs ".[$1].t - .[$1 - 1].t" "$SRV_DIR/requests.jsonl"
}

# planned K: the K-th wait the tool said (--verbose) it would make, in s
planned() {
	grep -o 'retrying in [0-9.]* s' <<<"$stderr" | sed -n "$1p" | cut -d' ' -f3
}

atleast() {	# atleast X LO
	awk -v x="$1" -v lo="$2" 'BEGIN { exit !(x >= lo) }' ||
		fail "$1 s is less than $2"
}

# The wait is what the tool says it will wait (exact), and it did wait
# that long (the server's clock, from the 429's arrival to the retry's:
# a busy machine can only make that longer, so no upper bound).
@test "faults: 429 with Retry-After: 1 waits 1 s, by every tool" {
	skip_under_valgrind "a timing test"
	for t in "${HD_TOOLS[@]}"; do
		srv_reset
		srv_queue '{"status": 429, "headers": {"Retry-After": "1"}, "json": {"error": {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"}}}'
		hd_cmd "$t" --verbose
		run --separate-stderr "${HD_CMD[@]}" <"$HD_IN"
		assert_status 0
		assert_stderr_contains "$t: retrying in 1.00 s (retry 1 of 2)"
		assert_equal 2 "$(srv_nreq)"
		assert_equal 1.00 "$(planned 1)"
		assert_equal '' "$(planned 2)"
		atleast "$(gap 1)" 0.99
	done
}

@test "faults: 429 with retry-after-ms: 1500 waits 1.5 s" {
	skip_under_valgrind "a timing test"
	srv_queue '{"status": 429, "headers": {"retry-after-ms": "1500"}, "json": {"error": {"message": "slow down"}}}'
	run --separate-stderr oai-models --verbose
	assert_status 0
	assert_equal 1.50 "$(planned 1)"
	atleast "$(gap 1)" 1.49
}

@test "faults: 5xx is retried with a growing backoff (0.5 s, then 1 s, less jitter), by every tool" {
	skip_under_valgrind "a timing test"
	local w1 w2
	for t in "${HD_TOOLS[@]}"; do
		srv_reset
		srv_queue '{"status": 500, "json": {"error": {"message": "boom", "type": "server_error"}}}' \
			'{"status": 503, "json": {"error": {"message": "busy", "type": "server_error"}}}'
		hd_cmd "$t" --verbose
		run --separate-stderr "${HD_CMD[@]}" <"$HD_IN"
		assert_status 0
		assert_equal 3 "$(srv_nreq)"
		w1=$(planned 1) w2=$(planned 2)
		awk -v a="$w1" -v b="$w2" 'BEGIN { exit !(a >= 0.375 && a <= 0.5 && b >= 0.75 && b <= 1) }' ||
			fail "$t: waits of $w1 s and $w2 s, not 0.5 s and 1 s less up to 25%"
		atleast "$(gap 1)" "$(awk -v w="$w1" 'BEGIN { print w - 0.01 }')"
		atleast "$(gap 2)" "$(awk -v w="$w2" 'BEGIN { print w - 0.01 }')"
	done
}

fivexx() {
	srv_reset
	srv_queue '{"status": 502, "repeat": 2, "json": {"error": {"message": "bad gateway", "type": "server_error"}}}'
	hd_cmd "$1" --retries 1
	run --separate-stderr "${HD_CMD[@]}" <"$HD_IN"
	assert_status 5
	assert_one_line "$1"
	assert_stderr_contains 'bad gateway'
	assert_equal 2 "$(srv_nreq)"
}

@test "faults: 5xx after the retries is status 5 with one line, by every tool" {
	hd_each 5xx fivexx
}

@test "faults: no retry once output has started (chat stream, speak audio)" {
	srv_queue '{"sse": ["{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"partial\"}}]}", "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\" more\"}}]}"], "close_after": 90}'
	run --separate-stderr oai-chat --retries 3 hi </dev/null
	assert_status 5
	assert_one_line oai-chat
	[[ $output == partial* ]] || fail "output: $output"
	assert_equal 1 "$(srv_nreq)"

	srv_reset
	srv_queue '{"size": 200000, "close_after": 100000}'
	run --separate-stderr oai-speak --retries 3 hi </dev/null
	assert_status 5
	assert_one_line oai-speak
	assert_equal 1 "$(srv_nreq)"
}

stalled() {	# stalled TOOL SPEC
	srv_reset
	srv_queue "$2"
	hd_cmd "$1" --timeout 1 --retries 0
	run --separate-stderr "${HD_CMD[@]}" <"$HD_IN"
	# Let the server finish with this connection before the next tool.
	sleep 3
	assert_status 5
	assert_one_line "$1"
}
stall() { stalled "$1" '{"stall_after": 10, "stall_ms": 3000}'; }
silent() { stalled "$1" '{"delay_ms": 3000}'; }

@test "faults: a stalled response aborts after --timeout, by every tool" {
	hd_each stall stall
}

@test "faults: a server that never answers hits --timeout, by every tool" {
	hd_each silent silent
}

@test "faults: a stream silent longer than --timeout mid-way is cut (chat)" {
	[ -z "${HD_KNOWN["stall oai-chat"]:-}" ] || skip "known: ${HD_KNOWN["stall oai-chat"]}"
	srv_queue '{"sse": ["{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}", "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"}}]}"], "sse_done": true, "chunk_delay_ms": 4000}'
	run --separate-stderr oai-chat --timeout 1 hi </dev/null
	assert_status 5
	assert_one_line oai-chat
	assert_equal a "$output"
	assert_equal 1 "$(srv_nreq)"
}

@test "faults: >/dev/full is status 5 with one line, by every tool" {
	for t in "${HD_TOOLS[@]}"; do
		srv_reset
		hd_cmd "$t"
		# run captures stdout itself: redirect inside.
		run --separate-stderr bash -c '"$@" >/dev/full' _ "${HD_CMD[@]}" <"$HD_IN"
		assert_status 5
		assert_one_line "$t"
	done
}

closed() {
	srv_reset
	hd_cmd "$1"
	run --separate-stderr bash -c '"$@" >&-' _ "${HD_CMD[@]}" <"$HD_IN"
	assert_status 5
	assert_one_line "$1"
}

@test "faults: a closed stdout (>&-) is status 5 with one line, by every tool" {
	hd_each closed closed
}

@test "faults: | head -c1 ends quietly with status 0, by every tool" {
	for t in "${HD_TOOLS[@]}"; do
		srv_reset
		case $t in
		oai-speak) srv_queue '{"size": 1000000}' ;;
		oai-embed) hd_cmd "$t"; seq 3000 > lines; HD_IN=lines ;;
		esac
		[ "$t" = oai-embed ] || hd_cmd "$t"
		run --separate-stderr bash -c 'set -o pipefail; "$@" | head -c1 >/dev/null' _ "${HD_CMD[@]}" <"$HD_IN"
		assert_status 0
		assert_stderr ''
	done
}

# sig TOOL SIGNAL: start TOOL's main path against a response that stalls
# after 10 bytes, send SIGNAL once the request is in, print the status.
sig() {
	local t=$1 s=$2 pid st=0 i
	srv_reset
	srv_queue '{"stall_after": 10, "stall_ms": 8000}'
	hd_cmd "$t"
	# Background jobs of a script start with SIGINT ignored: undo that.
	env --default-signal=INT "${HD_CMD[@]}" <"$HD_IN" >out 2>err &
	pid=$!
	for i in $(seq 200); do
		[ "$(srv_nreq)" -ge 1 ] && break
		sleep 0.05
	done
	sleep 0.3
	kill -"$s" "$pid"
	wait "$pid" || st=$?
	status=$st output=$(cat out) stderr=$(cat err)
}

@test "faults: SIGINT mid-response is 130, no message noise, by every tool" {
	for t in "${HD_TOOLS[@]}"; do
		sig "$t" INT
		assert_status 130
		assert_no_crash_sig
	done
}

@test "faults: SIGTERM mid-response is 143, no message noise, by every tool" {
	for t in "${HD_TOOLS[@]}"; do
		sig "$t" TERM
		assert_status 143
		assert_no_crash_sig
	done
}

assert_no_crash_sig() {	# stderr: nothing, or one line from the tool
	[ -z "$stderr" ] || assert_one_line "$t"
	[[ $stderr != *Sanitizer* && $stderr != *"=="[0-9]*"=="* ]] ||
		{ _helper_context; fail "$t: sanitizer or valgrind report"; }
}

@test "faults: oai-speak -o interrupted or cut keeps the old file intact, leaves no temporary" {
	mkdir d
	printf 'old audio\n' > d/keep.mp3
	for s in INT TERM; do
		srv_reset
		srv_queue '{"size": 300000, "stall_after": 100000, "stall_ms": 8000}'
		env --default-signal=INT oai-speak -o d/keep.mp3 hi </dev/null >out 2>err &
		pid=$!
		for i in $(seq 200); do [ "$(srv_nreq)" -ge 1 ] && break; sleep 0.05; done
		sleep 0.3
		kill -"$s" $pid
		st=0; wait $pid || st=$?
		[ $st = 130 ] || [ $st = 143 ] || fail "$s: status $st"
		assert_equal 'old audio' "$(cat d/keep.mp3)"
		assert_equal keep.mp3 "$(ls -A d)"
	done
	srv_reset
	srv_queue '{"size": 300000, "close_after": 100000}'
	run --separate-stderr oai-speak --retries 0 -o d/keep.mp3 hi </dev/null
	assert_status 5
	assert_one_line oai-speak
	assert_equal 'old audio' "$(cat d/keep.mp3)"
	assert_equal keep.mp3 "$(ls -A d)"
}

@test "faults: every exit status of oai(7) is asserted by some test" {
	local st
	for st in $(sed -n '/^\.Sh EXIT STATUS/,/^\.Sh/s/^\.It \([0-9][0-9]*\)$/\1/p' "$ROOT/man/oai.7") 143; do
		grep -qE "assert_status $st\b|status\" = $st\b|st = $st\b" "$ROOT"/tests/*.bats ||
			fail "no test asserts exit status $st"
	done
	# The list itself: the table must not be silently emptied.
	assert_equal "0 1 2 3 4 5 6 130" "$(sed -n '/^\.Sh EXIT STATUS/,/^\.Sh/s/^\.It \([0-9][0-9]*\)$/\1/p' "$ROOT/man/oai.7" | tr '\n' ' ' | sed 's/ $//')"
}
