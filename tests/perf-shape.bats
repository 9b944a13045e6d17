#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# The shape of the work, not its speed: what must be linear is linear,
# what must go out at once goes out at once (issue 17).
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-perf
}

# ---- oai-embed: float arrays ------------------------------------------------

@test "oai-embed decodes a float-array embedding in one walk (200,000 numbers)" {
	skip_under_valgrind "a speed test"
	# Servers that ignore encoding_format answer with JSON numbers.
	# Looking each element up from the start of the array took ~20 s
	# for this one vector; one walk takes milliseconds.  k + 0.5 prints
	# as itself.
	n=200000
	python3 -c 'import json, sys; n = int(sys.argv[1]); print(json.dumps(
		{"json": {"object": "list", "data": [{"object": "embedding",
		"index": 0, "embedding": [k + 0.5 for k in range(n)]}]}}))' \
		$n >"$BATS_TEST_TMPDIR/spec"
	srv_queue "$(cat "$BATS_TEST_TMPDIR/spec")"
	run --separate-stderr timeout 5 oai-embed <<<'x'
	assert_status 0
	assert_stderr ''
	expect=$(seq -f '%.1f' 0.5 1 $n | paste -sd,)
	[ "$output" = "{\"index\":0,\"embedding\":[$expect]}" ] ||
		fail "output differs: ${output:0:200}..."
}

# ---- oai-chat: newlines on time ---------------------------------------------

# ev TEXT: a chat chunk event whose delta content is TEXT.
ev() {
	jq -nc --arg c "$1" '{choices: [{index: 0, delta: {content: $c}}]}'
}

# stall_spec N EVENT...: the events, the stream pausing 1 s after the
# first N of them ("data: EVENT\n\n" each; the events are ASCII).
stall_spec() {
	local n=$1 i e bytes=0
	shift
	for ((i = 1; i <= n; i++)); do
		e=${!i}
		bytes=$((bytes + 6 + ${#e} + 2))
	done
	printf '%s\n' "$@" | jq -sc --argjson b "$bytes" \
		'{sse: ., sse_done: true, stall_after: $b, stall_ms: 1000}'
}

# out_during_stall SPEC: start oai-chat, wait for its first output, print
# it (in od -c form); the rest of the stream is still held by the server.
out_during_stall() {
	out=$BATS_TEST_TMPDIR/out
	srv_queue "$1"
	oai-chat hi </dev/null >"$out" 2>"$out.err" &
	pid=$!
	for i in $(seq 500); do [ -s "$out" ] && break; sleep 0.01; done
	od -An -c "$out" | tr -s ' '
	wait "$pid"
}

@test "oai-chat prints a line's newline when it arrives, not with the next delta" {
	spec=$(stall_spec 1 "$(ev $'line one\n')" "$(ev 'line two')")
	during=$(out_during_stall "$spec")
	assert_equal ' l i n e o n e \n' "$during"
	assert_equal "$(printf 'line one\nline two\n' | od -An -c)" \
		"$(od -An -c "$BATS_TEST_TMPDIR/out")"
	assert_equal '' "$(cat "$BATS_TEST_TMPDIR/out.err")"
}

@test "oai-chat holds back only the newlines after the first" {
	spec=$(stall_spec 1 "$(ev $'a\n\n\n')" "$(ev 'b')" "$(ev $'\n')" "$(ev $'\n')" "$(ev $'c\n\n')")
	during=$(out_during_stall "$spec")
	assert_equal ' a \n' "$during"
	assert_equal "$(printf 'a\n\n\nb\n\nc\n' | od -An -c)" \
		"$(od -An -c "$BATS_TEST_TMPDIR/out")"
}

@test "oai-chat: a reply whose last delta is a newline ends with one" {
	srv_queue "$(printf '%s\n' "$(ev 'x')" "$(ev $'\n')" "$(ev $'\n')" |
		jq -sc '{sse: ., sse_done: true}')"
	oai-chat hi </dev/null >"$BATS_TEST_TMPDIR/out"
	assert_equal "$(printf 'x\n' | od -An -c)" "$(od -An -c "$BATS_TEST_TMPDIR/out")"
}

@test "oai-chat: a stream cut after a newline is an exact prefix, in a pipe and at a terminal" {
	e1=$(ev $'x\n')
	spec=$(printf '%s\n' "$e1" "$(ev $'\n\ny')" |
		jq -sc --argjson b $((6 + ${#e1} + 2 + 10)) '{sse: ., close_after: $b}')
	srv_queue "$spec"
	run --separate-stderr bash -c 'oai-chat hi </dev/null >"$1"' _ "$BATS_TEST_TMPDIR/out"
	assert_status 5
	assert_stderr_contains 'oai-chat: '
	assert_equal "$(printf 'x\n' | od -An -c)" "$(od -An -c "$BATS_TEST_TMPDIR/out")"
	srv_queue "$spec"
	run script -qec "oai-chat hi </dev/null 2>/dev/null; echo status=\$?" /dev/null
	assert_output $'x\r\nstatus=5\r'
}

# ---- requests in parallel, answers in order ---------------------------------

# delays PATH MS...: one response spec per delay, served in arrival order.
delays() {
	local p=$1 d
	shift
	for d in "$@"; do srv_queue "{\"path\": \"$p\", \"delay_ms\": $d}"; done
}

# arrival N: request N's arrival, in ms after request 1's.
arrival() {
	srv_requests | jq -s --argjson n "$1" '((.[$n - 1].t - .[0].t) * 1000) | floor'
}

@test "oai-embed: output in input order whatever order the answers come in" {
	seq 24 >"$BATS_TEST_TMPDIR/in"
	delays /v1/embeddings 300 0 150 50 250 0 100 200 0 50 150 0
	run --separate-stderr oai-embed -P 4 -b 2 "$BATS_TEST_TMPDIR/in"
	assert_status 0
	assert_stderr ''
	assert_equal 12 "$(srv_nreq)"
	got=$output
	srv_reset
	assert_equal "$(oai-embed -P 1 "$BATS_TEST_TMPDIR/in")" "$got"
	assert_equal "$(seq 0 23)" "$(printf '%s\n' "$got" | jq .index)"
}

@test "oai-moderate -l: lines in input order whatever order the answers come in" {
	for i in $(seq 384); do [ $((i % 7)) = 0 ] && echo "kill $i" || echo "$i"; done >"$BATS_TEST_TMPDIR/in"
	delays /v1/moderations 300 0 150 50 250 0 100 200 0 50 150 0
	run --separate-stderr oai-moderate -l "$BATS_TEST_TMPDIR/in"
	assert_status 1
	assert_stderr ''
	assert_equal 12 "$(srv_nreq)"
	assert_equal "$(grep kill "$BATS_TEST_TMPDIR/in")" "$output"
	assert_equal 384 "$(srv_requests | jq -s 'map(.body|fromjson|.input|length)|add')"
}

@test "oai-embed -P and oai-moderate -P: that many requests in flight, no more" {
	seq 6 >"$BATS_TEST_TMPDIR/in"
	delays /v1/embeddings 600 600 600 600 600 600
	run --separate-stderr oai-embed -P 3 -b 1 "$BATS_TEST_TMPDIR/in"
	assert_status 0
	assert_equal 6 "$(srv_nreq)"
	# three at once; the fourth only once an answer (600 ms) is in
	[ "$(arrival 3)" -lt 400 ] || fail "third request $(arrival 3) ms after the first"
	[ "$(arrival 4)" -ge 550 ] || fail "fourth request $(arrival 4) ms after the first"
	srv_reset
	seq 64 >"$BATS_TEST_TMPDIR/in"
	delays /v1/moderations 600 600
	run --separate-stderr oai-moderate -l -P 1 "$BATS_TEST_TMPDIR/in"
	assert_status 0
	[ "$(arrival 2)" -ge 550 ] || fail "-P 1: second request $(arrival 2) ms after the first"
	srv_reset
	delays /v1/moderations 600 600
	run --separate-stderr oai-moderate -l -P 2 "$BATS_TEST_TMPDIR/in"
	assert_status 0
	[ "$(arrival 2)" -lt 400 ] || fail "-P 2: second request $(arrival 2) ms after the first"
}
