#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# Limits on what a server can make a tool hold (issue 16): proxies never
# see plain http or loopback requests, caps on bodies, stream lines and
# events (decompressed too), error bodies read briefly, --max-time for
# streams, no core dump with the key, and a reply complete at [DONE]
# stays complete whatever happens to the connection afterwards.
# OAI_TEST_LIMIT_DIV=1024 turns the 256 MiB, 1 MiB and 64 MiB caps into
# 256 KiB, 1 KiB and 64 KiB, so the tests send little.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	cd "$BATS_TEST_TMPDIR"
	export OPENAI_API_KEY=sk-limits-$$-4f0c2a9e71
}

# A second server, standing in for a proxy: P2, D2 (its state), PID2.
proxy_start() {
	local i
	D2=$BATS_TEST_TMPDIR/proxy
	mkdir -p "$D2"
	python3 "$ROOT/tests/server.py" --dir "$D2" </dev/null \
		>"$D2/out" 2>&1 3>&- &
	PID2=$!
	for i in $(seq 500); do [ -s "$D2/port" ] && break; sleep 0.01; done
	P2=$(cat "$D2/port")
}

proxy_stop() {
	kill "$PID2" 2>/dev/null || true
	wait "$PID2" 2>/dev/null || true
}

# ---- proxies ------------------------------------------------------------

@test "limits: a loopback base URL never goes through a proxy (http_proxy, ALL_PROXY)" {
	proxy_start
	local v
	for v in http_proxy ALL_PROXY all_proxy; do
		srv_reset
		env "$v=http://127.0.0.1:$P2" oai-models >out 2>err ||
			{ cat err >&2; proxy_stop; fail "$v: oai-models failed"; }
		assert_equal '' "$(cat err)"
		assert_equal 1 "$(srv_nreq)"
		assert_equal "Bearer $OPENAI_API_KEY" \
			"$(srv_req_field 1 .headers.authorization)"
		assert_equal 0 "$(grep -c '' "$D2/requests.jsonl")"
	done
	proxy_stop
}

@test "limits: plain http allowed to a remote host (OAI_ALLOW_HTTP=1) still never goes through a proxy" {
	proxy_start
	OAI_ALLOW_HTTP=1 http_proxy=http://127.0.0.1:$P2 run --separate-stderr \
		oai-models --retries 0 --base-url http://example.invalid/v1
	proxy_stop
	assert_status 5
	assert_stderr_contains "oai-models: http://example.invalid/v1/models: "
	assert_equal 0 "$(grep -c '' "$D2/requests.jsonl")"
}

@test "limits: https keeps its proxy (a CONNECT tunnel: the key stays encrypted)" {
	proxy_start
	https_proxy=http://127.0.0.1:$P2 run --separate-stderr \
		oai-models --retries 0 --base-url https://example.invalid/v1
	proxy_stop
	assert_status 5
	grep -q '"CONNECT example.invalid:443 ' "$D2/server.log" ||
		fail "no CONNECT at the proxy: $(cat "$D2/server.log")"
	refute_stderr_contains "$OPENAI_API_KEY"
}

# ---- caps -----------------------------------------------------------------

@test "limits: a buffered 2xx body over the cap ends with one line, exit 5" {
	export OAI_TEST_LIMIT_DIV=1024
	srv_queue "{\"body\": \"$(printf '%*s' 300000 '' | tr ' ' x)\"}"
	run --separate-stderr oai-models
	assert_status 5
	assert_output ''
	assert_stderr 'oai-models: the response is larger than 256 KiB; giving up'
	# Just under it is fine (the cap is not the problem then).
	srv_queue "{\"body\": \"$(printf '%*s' 200000 '' | tr ' ' x)\"}"
	run --separate-stderr oai-models
	assert_status 5
	assert_stderr_contains 'unexpected'
}

@test "limits: a compression bomb is capped after decompression, by every buffered tool" {
	export OAI_TEST_LIMIT_DIV=1024
	local bomb
	bomb=$(head -c 1048576 /dev/zero | gzip -9 | base64 -w0)
	[ "${#bomb}" -lt 4000 ]
	srv_queue "{\"body_b64\": \"$bomb\", \"headers\": {\"Content-Encoding\": \"gzip\", \"Content-Type\": \"application/json\"}}"
	run --separate-stderr oai-models
	assert_status 5
	assert_stderr 'oai-models: the response is larger than 256 KiB; giving up'
	# oai-embed reads its answer as it comes: zeros are not JSON from
	# the first byte, so its bomb is one long base64 string.
	srv_queue "{\"body_b64\": \"$bomb\", \"headers\": {\"Content-Encoding\": \"gzip\", \"Content-Type\": \"application/json\"}}"
	run --separate-stderr oai-embed <<<hello
	assert_status 5
	assert_stderr "oai-embed: unexpected response from $OPENAI_BASE_URL/embeddings: not an embedding list (standard input:1 and what follows were not embedded)"
	bomb=$({ printf '{"data":[{"index":0,"embedding":"'; head -c 1048576 /dev/zero | tr '\0' A; } | gzip -9 | base64 -w0)
	[ "${#bomb}" -lt 4000 ]
	srv_queue "{\"body_b64\": \"$bomb\", \"headers\": {\"Content-Encoding\": \"gzip\", \"Content-Type\": \"application/json\"}}"
	run --separate-stderr oai-embed <<<hello
	assert_status 5
	assert_stderr 'oai-embed: the response is larger than 256 KiB; giving up (standard input:1 and what follows were not embedded)'
	srv_queue "{\"body_b64\": \"$bomb\", \"headers\": {\"Content-Encoding\": \"gzip\", \"Content-Type\": \"application/json\"}}"
	run --separate-stderr oai-chat --no-stream hi
	assert_status 5
	assert_stderr 'oai-chat: the response is larger than 256 KiB; giving up'
	assert_equal 'deflate, gzip, br, zstd' "$(srv_req_field 1 '.headers["accept-encoding"]')"
}

@test "limits: streams and audio ask for no compression (the sink's bytes are never inflated)" {
	run --separate-stderr oai-chat hi
	assert_status 0
	run --separate-stderr oai-speak -o out.mp3 hi
	assert_status 0
	assert_equal null "$(srv_req_field 1 '.headers["accept-encoding"]')"
	assert_equal null "$(srv_req_field 2 '.headers["accept-encoding"]')"
}

@test "limits: an event-stream line over the cap ends with one line, exit 5" {
	export OAI_TEST_LIMIT_DIV=1024
	local big
	big=$(printf '%*s' 70000 '' | tr ' ' x)
	srv_queue "{\"sse\": [\"{\\\"choices\\\":[{\\\"index\\\":0,\\\"delta\\\":{\\\"content\\\":\\\"ok\\\"}}]}\", \"$big\"]}"
	run --separate-stderr oai-chat hi
	assert_status 5
	assert_output 'ok'
	assert_stderr 'oai-chat: the event stream sent a line larger than 64 KiB; giving up'
}

@test "limits: the data of one event over the cap ends with one line, exit 5" {
	export OAI_TEST_LIMIT_DIV=1024
	local line body
	line="data: $(printf '%*s' 10000 '' | tr ' ' x)"
	body=$(for i in $(seq 8); do printf '%s\\n' "$line"; done)
	srv_queue "{\"body\": \"${body}\\n\", \"framing\": \"chunked\", \"chunk\": 4096, \"headers\": {\"Content-Type\": \"text/event-stream\"}}"
	run --separate-stderr oai-chat hi
	assert_status 5
	assert_stderr 'oai-chat: the event stream sent the data of one event larger than 64 KiB; giving up'
}

# ---- time ---------------------------------------------------------------

@test "limits: an error body that never ends is read briefly: the status line, exit 5" {
	local t0
	t0=$(date +%s)
	srv_queue '{"status": 500, "body": "upstream is down and this body trickles on", "chunk": 1, "chunk_delay_ms": 300}'
	run --separate-stderr timeout 10 oai-chat --retries 0 --timeout 1 hi
	assert_status 5
	assert_output ''
	assert_stderr_contains 'oai-chat: 500: upst'
	[[ $stderr != *$'\n'* ]] || fail "more than one line"
	[ "$(( $(date +%s) - t0 ))" -le 4 ] || fail "took $(( $(date +%s) - t0 )) s"
}

@test "limits: an error body over the cap is cut there and reported, exit 5" {
	skip_under_valgrind "a timing test"
	export OAI_TEST_LIMIT_DIV=1024
	local t0 m
	m=$(printf '%*s' 2000 '' | tr ' ' m)
	t0=$(date +%s)
	srv_queue "{\"status\": 500, \"json\": {\"error\": {\"message\": \"$m\"}}, \"stall_after\": 1500, \"stall_ms\": 5000}"
	run --separate-stderr timeout 10 oai-chat --retries 0 hi
	assert_status 5
	assert_stderr "oai-chat: 500: {\"error\": {\"message\": \"${m:0:177}"
	[ "$(( $(date +%s) - t0 ))" -le 3 ] || fail "took $(( $(date +%s) - t0 )) s"
}

@test "limits: keep-alive comments cannot hold a stream past --max-time" {
	local body t0
	body=$(for i in $(seq 100); do printf ': ka\\n\\n'; done)
	srv_queue "{\"body\": \"$body\", \"framing\": \"chunked\", \"chunk\": 6, \"chunk_delay_ms\": 200, \"headers\": {\"Content-Type\": \"text/event-stream\"}}"
	t0=$(date +%s)
	run --separate-stderr timeout 15 oai-chat --retries 0 --timeout 1 --max-time 2 hi
	assert_status 5
	assert_output ''
	assert_stderr "oai-chat: gave up after --max-time 2 s: $OPENAI_BASE_URL/chat/completions"
	[ "$(( $(date +%s) - t0 ))" -le 5 ] || fail "took $(( $(date +%s) - t0 )) s"
}

@test "limits: --max-time bounds a plain request below --timeout too" {
	srv_queue '{"delay_ms": 3000}'
	run --separate-stderr oai-models --retries 0 --max-time 1
	assert_status 5
	assert_stderr "oai-models: gave up after --max-time 1 s: $OPENAI_BASE_URL/models"
}

@test "limits: --max-time takes whole seconds from 1 to a week, in every tool" {
	local t
	for t in oai-chat oai-embed oai-models oai-moderate oai-speak oai-transcribe; do
		run --separate-stderr "$t" --max-time 0
		assert_status 2
		assert_stderr "$t: --max-time: 0 is out of range (1 to 604800)"
		run --separate-stderr "$t" --max-time 5s
		assert_status 2
		assert_stderr "$t: --max-time: '5s' is not a number"
		run --separate-stderr "$t" --help
		assert_status 0
		assert_output_contains '--max-time seconds'
	done
}

# ---- the end of a stream ------------------------------------------------

@test "limits: after [DONE] a dropped connection is success: exit 0, final newline, conversation saved" {
	srv_queue '{"close_after": 1000000}'
	run --separate-stderr oai-chat -c conv.jsonl hi
	assert_status 0
	assert_output 'echo: hi'
	assert_stderr ''
	srv_queue '{"close_after": 1000000}'
	oai-chat hi >out
	assert_equal '\n' "$(tail -c1 out | od -An -c | tr -d ' ')"
	srv_reset
	assert_equal 2 "$(grep -c '' conv.jsonl)"
	assert_equal '"echo: hi"' "$(tail -n1 conv.jsonl | jq .content)"
	# Cut before [DONE]: still the error it always was.
	srv_queue '{"sse": ["{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"par\"}}]}"], "close_after": 30}'
	run --separate-stderr oai-chat hi
	assert_status 5
}

@test "limits: after [DONE] a silent connection ends the reply within about a second" {
	skip_under_valgrind "a timing test"
	local ev='data: {"choices":[{"index":0,"delta":{"content":"ok"}}]}' t0 n
	n=$(( ${#ev} + 2 + 14 ))
	srv_queue "{\"sse\": [\"{\\\"choices\\\":[{\\\"index\\\":0,\\\"delta\\\":{\\\"content\\\":\\\"ok\\\"}}]}\"], \"sse_done\": true, \"stall_after\": $n, \"stall_ms\": 8000}"
	t0=$(date +%s)
	run --separate-stderr timeout 15 oai-chat hi
	assert_status 0
	assert_output ok
	assert_stderr ''
	[ "$(( $(date +%s) - t0 ))" -le 4 ] || fail "took $(( $(date +%s) - t0 )) s"
}

# ---- core dumps -----------------------------------------------------------

@test "limits: SIGQUIT with core dumps enabled leaves no core holding the key" {
	case $(cat /proc/sys/kernel/core_pattern 2>/dev/null) in
	'|'*|'') skip "core dumps go to a program here, not to a file" ;;
	esac
	local pid st i
	srv_queue '{"delay_ms": 3000}'
	mkdir dumps
	cd dumps
	(
		ulimit -c unlimited || exit 99
		exec oai-chat hi >../out 2>../err
	) &
	pid=$!
	for i in $(seq 200); do
		[ "$(srv_nreq)" -ge 1 ] && break
		sleep 0.02
	done
	[ "$(srv_nreq)" -ge 1 ] || fail "no request"
	kill -QUIT "$pid"
	st=0; wait "$pid" || st=$?
	assert_equal 131 "$st"
	assert_equal '' "$(ls)"
	# And with the key from a key file, the same.
	unset OPENAI_API_KEY
	printf 'sk-limits-file-%s-0b9d\n' $$ > ../key
	chmod 600 ../key
	srv_reset
	srv_queue '{"delay_ms": 3000}'
	(
		ulimit -c unlimited || exit 99
		exec oai-models --api-key-file ../key >../out 2>../err
	) &
	pid=$!
	for i in $(seq 200); do
		[ "$(srv_nreq)" -ge 1 ] && break
		sleep 0.02
	done
	kill -QUIT "$pid"
	st=0; wait "$pid" || st=$?
	assert_equal 131 "$st"
	assert_equal '' "$(ls)"
}
