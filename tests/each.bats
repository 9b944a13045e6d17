#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# Issue 13: oai-chat --each (map mode), --meta-fd for every tool, usage
# and cost from one price table, --budget.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-each-0123456789
}

stats() { curl -s "$SRV_URL/_ctl/stats" | jq -r ".$1"; }
CHAT='"path": "/v1/chat/completions"'
# A chat completion whose reply is $1.
reply() {
	jq -cn --arg r "$1" '{json: {object: "chat.completion", model: "gpt-4o",
		choices: [{index: 0, finish_reason: "stop",
			message: {role: "assistant", content: $r}}],
		usage: {prompt_tokens: 1, completion_tokens: 2, total_tokens: 3}}}'
}

# ---- map mode ---------------------------------------------------------------

@test "--each: line i answers line i under random delays, -P requests at once" {
	srv_queue "{$CHAT, \"repeat\": 12, \"delay_ms\": 0, \"delay_ms_max\": 150}"
	run --separate-stderr oai-chat --each -P 4 < <(seq 1 12)
	assert_status 0
	assert_stderr ''
	assert_output "$(seq 1 12 | sed 's/^/echo: /')"
	[ "$(srv_nreq)" = 12 ]
	# all 12 in flight would be 12; one at a time 1
	local max; max=$(stats max_inflight)
	[ "$max" -ge 2 ] && [ "$max" -le 4 ] || fail "max_inflight $max"
}

@test "--each -P 1 has one request in flight" {
	srv_queue "{$CHAT, \"repeat\": 4, \"delay_ms\": 50}"
	run --separate-stderr oai-chat --each -P 1 < <(seq 1 4)
	assert_status 0
	[ "$(stats max_inflight)" = 1 ]
}

@test "--each: the instruction before each line, -s for each request, replies escaped reversibly" {
	srv_queue "$(reply $'two\nlines \\ and\r\x01')"
	run --separate-stderr oai-chat --each -s sys "Translate:" <<<'hello'
	assert_status 0
	assert_output 'two\nlines \\ and\r'$'\x01'
	assert_equal '[{"role":"system","content":"sys"},{"role":"user","content":"Translate:\n\nhello"}]' \
		"$(srv_req_field 1 '.body | fromjson | .messages | tojson')"
	assert_equal null "$(srv_req_field 1 '.body | fromjson | .stream')"
	# oai(7)'s decoder gives the reply back
	printf '%s\n' "$output" | perl -pe 's/\\(.)/$1 eq "n" ? "\n" : $1 eq "r" ? "\r" : $1 eq "0" ? "\0" : $1/ge' \
		>"$BATS_TEST_TMPDIR/back"
	printf 'two\nlines \\ and\r\x01\n' | cmp - "$BATS_TEST_TMPDIR/back"
}

@test "--each --format jsonl: index, reply, finish_reason, usage; an empty line is not sent" {
	run --separate-stderr oai-chat --each --format jsonl < <(printf 'a b\n\nc\n')
	assert_status 0
	assert_output <<-'EOF'
	{"index":0,"reply":"echo: a b","finish_reason":"stop","usage":{"prompt_tokens":2,"completion_tokens":3,"total_tokens":5}}
	{"index":1,"reply":null}
	{"index":2,"reply":"echo: c","finish_reason":"stop","usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}
	EOF
	[ "$(srv_nreq)" = 2 ]
}

@test "--each: a rejected line leaves an empty line, is named, the rest is printed, status 4" {
	srv_queue "{$CHAT, \"match\": \"two\", \"status\": 400,
		\"json\": {\"error\": {\"message\": \"bad line\", \"type\": \"invalid_request_error\"}}}"
	run --separate-stderr oai-chat --each < <(printf 'one\ntwo\nthree\n')
	assert_status 4
	assert_output $'echo: one\n\necho: three'
	assert_stderr 'oai-chat: standard input:2: 400 invalid_request_error: bad line'
	srv_queue "{$CHAT, \"match\": \"two\", \"status\": 400,
		\"json\": {\"error\": {\"message\": \"bad line\", \"type\": \"invalid_request_error\"}}}"
	run --separate-stderr oai-chat --each --format jsonl < <(printf 'one\ntwo\n')
	assert_status 4
	assert_equal '{"index":1,"error":{"status":400,"message":"400 invalid_request_error: bad line"}}' \
		"$(sed -n 2p <<<"$output")"
}

@test "--each: the worst status wins, after everything else was printed" {
	srv_queue "{$CHAT, \"match\": \"one\", \"status\": 404, \"json\": {\"error\": {\"message\": \"x\"}}}" \
		"{$CHAT, \"match\": \"two\", \"status\": 500, \"repeat\": 3, \"json\": {\"error\": {\"message\": \"y\"}}}"
	run --separate-stderr oai-chat --each --retries 2 < <(printf 'one\ntwo\nthree\n')
	assert_status 5
	assert_output $'\n\necho: three'
	assert_stderr <<-'EOF'
	oai-chat: standard input:1: 404: x
	oai-chat: standard input:2: 500: y
	EOF
}

@test "--each: a line that is not text, and a bad --messages line, are usage errors of their own" {
	local out=$BATS_TEST_TMPDIR/out
	run --separate-stderr oai-chat --each -o "$out" < <(printf 'ok\n\xff\n')
	assert_status 2
	printf 'echo: ok\n\n' | cmp - "$out"
	assert_stderr 'oai-chat: standard input:2: not valid UTF-8 at byte offset 0'
	run --separate-stderr oai-chat --each --messages -o "$out" < <(printf '[{"role":"user","content":"m"}]\n[1]\n')
	assert_status 2
	printf 'echo: m\n\n' | cmp - "$out"
	assert_stderr_contains 'standard input:2'
}

@test "--each: a 429 holds back every request, then all are answered" {
	srv_queue "{$CHAT, \"status\": 429, \"headers\": {\"retry-after-ms\": \"400\"},
		\"json\": {\"error\": {\"message\": \"slow down\"}}}"
	run --separate-stderr oai-chat --each -P 1 < <(seq 1 3)
	assert_status 0
	assert_output "$(seq 1 3 | sed 's/^/echo: /')"
	[ "$(srv_nreq)" = 4 ]
	local gap; gap=$(srv_requests | jq -s '(.[1].t - .[0].t) * 1000 | floor')
	[ "$gap" -ge 350 ] || fail "retried after $gap ms"
}

@test "--each: x-ratelimit-remaining-requests 0 waits for x-ratelimit-reset-requests" {
	srv_queue "{$CHAT, \"headers\": {\"x-ratelimit-remaining-requests\": \"0\",
		\"x-ratelimit-reset-requests\": \"500ms\"}}"
	run --separate-stderr oai-chat --each -P 1 < <(seq 1 3)
	assert_status 0
	local gap; gap=$(srv_requests | jq -s '(.[1].t - .[0].t) * 1000 | floor')
	[ "$gap" -ge 450 ] || fail "second request after $gap ms"
	gap=$(srv_requests | jq -s '(.[2].t - .[1].t) * 1000 | floor')
	[ "$gap" -lt 400 ] || fail "third request after $gap ms: no limit was said"
}

@test "--each: x-ratelimit-remaining-tokens below a request waits for its reset" {
	srv_queue "{$CHAT, \"headers\": {\"x-ratelimit-remaining-tokens\": \"3\",
		\"x-ratelimit-reset-tokens\": \"0.5s\"}}"
	run --separate-stderr oai-chat --each -P 1 < <(seq 1 2)
	assert_status 0
	local gap; gap=$(srv_requests | jq -s '(.[1].t - .[0].t) * 1000 | floor')
	[ "$gap" -ge 450 ] || fail "second request after $gap ms"
}

@test "--each -o FILE --resume skips the lines FILE answers, drops a cut one" {
	printf 'echo: 1\necho: 2\necho: 3 cut' >"$BATS_TEST_TMPDIR/out"
	run --separate-stderr oai-chat --each -o "$BATS_TEST_TMPDIR/out" --resume < <(seq 1 5)
	assert_status 0
	assert_output ''
	assert_equal "$(seq 1 5 | sed 's/^/echo: /')" "$(cat "$BATS_TEST_TMPDIR/out")"
	[ "$(srv_nreq)" = 3 ]
	# lines 3 to 5 were asked, in any order (-P 4 sends them together)
	assert_equal '3 4 5' "$(srv_requests | jq -r '.body | fromjson | .messages[0].content' | sort | xargs)"
	# without --resume the file starts over
	run --separate-stderr oai-chat --each -o "$BATS_TEST_TMPDIR/out" <<<'x'
	assert_equal 'echo: x' "$(cat "$BATS_TEST_TMPDIR/out")"
}

@test "--each: Ctrl-C stops within a second with 130, keeping what was printed" {
	local fifo=$BATS_TEST_TMPDIR/in pid st start
	mkfifo "$fifo"
	srv_queue "{$CHAT, \"match\": \"slow\", \"delay_ms\": 8000}"
	oai-chat --each -o "$BATS_TEST_TMPDIR/out" <"$fifo" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	exec 5>"$fifo"
	printf 'fast\nslow\n' >&5
	for _ in $(seq 50); do
		[ -s "$BATS_TEST_TMPDIR/out" ] && [ "$(srv_nreq)" = 2 ] && break
		sleep 0.1
	done
	start=$(date +%s%N)
	kill -INT $pid
	st=0; wait $pid || st=$?
	exec 5>&-
	assert_equal 130 "$st"
	# not waiting for the 8 s answer (how fast it is: bench, not tests)
	[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 6000 ] || fail "waited for the slow answer"
	assert_equal 'echo: fast' "$(cat "$BATS_TEST_TMPDIR/out")"
	assert_equal '' "$(cat "$BATS_TEST_TMPDIR/err")"
}

@test "--each --budget stops sending once the cost would pass it, exit 4" {
	printf 'gpt-4o 1000 1000\n' >"$BATS_TEST_TMPDIR/prices"
	export OAI_PRICES=$BATS_TEST_TMPDIR/prices
	# each reply: 1 prompt + 2 completion tokens = $0.003
	run --separate-stderr oai-chat --each -P 1 --budget 0.005 -u < <(seq 1 4)
	assert_status 4
	assert_output 'echo: 1'
	assert_stderr <<-'EOF'
	oai-chat: standard input:2: --budget $0.005000 reached ($0.003000 spent); it and what follows were not sent
	oai-chat: usage: 1 prompt + 2 completion = 3 tokens, $0.003000
	EOF
	[ "$(srv_nreq)" = 1 ]
	run --separate-stderr oai-chat --each --budget 1 -m no-such-model <<<'x'
	assert_status 2
	assert_stderr 'oai-chat: --budget: no price for no-such-model; set OAI_PRICES'
}

@test "--each -u: the total of every request, and no price said once" {
	run --separate-stderr oai-chat --each -u < <(seq 1 3)
	assert_status 0
	assert_stderr 'oai-chat: usage: 3 prompt + 6 completion = 9 tokens in 3 requests, $0.000105'
	run --separate-stderr oai-chat --each -u -m gpt-4o-mini < <(seq 1 3)
	assert_stderr <<-'EOF'
	oai-chat: usage: 3 prompt + 6 completion = 9 tokens in 3 requests
	oai-chat: no price for gpt-4o-mini; set OAI_PRICES
	EOF
}

@test "--each --dry-run prints each request body, sends nothing" {
	run --separate-stderr oai-chat --each --dry-run -m m < <(printf 'a\n\nb\n')
	assert_status 0
	assert_output <<-'EOF'
	{"model":"m","messages":[{"role":"user","content":"a"}]}
	{"model":"m","messages":[{"role":"user","content":"b"}]}
	EOF
	[ "$(srv_nreq)" = 0 ]
}

@test "map mode options need --each, and --each excludes what it cannot do" {
	run --separate-stderr oai-chat -P 2 hi
	assert_status 2
	assert_stderr 'oai-chat: -o, -P, --budget, --format and --resume need --each'
	run --separate-stderr oai-chat --each -c conv.jsonl
	assert_status 2
	assert_stderr 'oai-chat: --each excludes -c, -f, --image and --json'
	run --separate-stderr oai-chat --each --resume
	assert_status 2
	assert_stderr 'oai-chat: --resume needs -o file'
	[ "$(srv_nreq)" = 0 ]
}

# ---- --meta-fd --------------------------------------------------------------

# meta N JQ: field of line N of the metadata file
meta() { sed -n "$1p" "$BATS_TEST_TMPDIR/meta" | jq -c "$2"; }

@test "--meta-fd: oai-chat's line: id, endpoint, model, status, attempts, times, usage, cost" {
	run --separate-stderr oai-chat --meta-fd 3 hi 3>"$BATS_TEST_TMPDIR/meta"
	assert_status 0
	assert_output 'echo: hi'
	[ "$(wc -l <"$BATS_TEST_TMPDIR/meta")" = 1 ]
	assert_equal '["req_test_1","/chat/completions","gpt-4o",200,0,1,0]' \
		"$(meta 1 '[.request_id, .endpoint, .model, .status, .exit, .attempts, .retry_wait_ms]')"
	assert_equal '{"input_tokens":1,"output_tokens":2}' "$(meta 1 .usage)"
	assert_equal 3.5e-05 "$(meta 1 .cost_usd)"
	assert_equal '["number","number"]' "$(meta 1 '[.wall_ms, .ttfb_ms] | map(type)')"
}

@test "--meta-fd: retries, rate-limit headers, details of usage, cached tokens priced" {
	srv_queue '{"status": 500, "headers": {"retry-after-ms": "100"}, "json": {"error": {"message": "x"}}}' \
		'{"headers": {"x-ratelimit-limit-requests": "500", "x-ratelimit-remaining-requests": "499",
			"x-ratelimit-reset-requests": "120ms", "x-ratelimit-remaining-tokens": "29000"},
		"json": {"object": "chat.completion", "model": "gpt-4o-2024-08-06",
		"choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}],
		"usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100,
			"prompt_tokens_details": {"cached_tokens": 400, "audio_tokens": 0},
			"completion_tokens_details": {"reasoning_tokens": 7, "audio_tokens": 0}}}}'
	OAI_META_FD=3 run --separate-stderr oai-chat -u --no-stream hi 3>"$BATS_TEST_TMPDIR/meta"
	assert_status 0
	# (600 * 5 + 400 * 2.5 + 100 * 15) / 1e6
	assert_stderr 'oai-chat: usage: 1000 prompt (400 cached) + 100 completion = 1100 tokens, $0.005500'
	assert_equal '["req_test_2","gpt-4o-2024-08-06",2,true]' \
		"$(meta 1 '[.request_id, .model, .attempts, .retry_wait_ms >= 100]')"
	assert_equal '{"limit-requests":500,"remaining-requests":499,"remaining-tokens":29000,"reset-requests":"120ms"}' \
		"$(meta 1 '.ratelimit')"
	assert_equal '{"input_tokens":1000,"output_tokens":100,"cached_tokens":400,"reasoning_tokens":7,"audio_input_tokens":0,"audio_output_tokens":0}' \
		"$(meta 1 .usage)"
	assert_equal 0.0055 "$(meta 1 .cost_usd)"
}

@test "--meta-fd: a failed request has its line too" {
	srv_queue '{"status": 404, "json": {"error": {"message": "no", "code": "model_not_found"}}}'
	run --separate-stderr oai-chat --meta-fd 3 hi 3>"$BATS_TEST_TMPDIR/meta"
	assert_status 4
	assert_equal '[404,4,null]' "$(meta 1 '[.status, .exit, .cost_usd]')"
}

@test "--meta-fd: every tool writes one line per request" {
	local m=$BATS_TEST_TMPDIR/meta
	printf 'a\nb c\n' | oai-embed -b 1 --meta-fd 3 3>"$m" >/dev/null
	# in the order they finish
	assert_equal '[["/embeddings",200,1,2e-08],["/embeddings",200,2,4e-08]]' \
		"$(jq -sc 'map([.endpoint, .status, .usage.input_tokens, .cost_usd]) | sort_by(.[2])' "$m")"
	[ "$(wc -l <"$m")" = 2 ]
	echo hello | oai-moderate --meta-fd 3 3>"$m" >/dev/null
	assert_equal '"/moderations"' "$(jq -c .endpoint "$m")"
	oai-speak --meta-fd 3 hello there 3>"$m" >/dev/null
	assert_equal '["/audio/speech","tts-1",{"characters":11},0.000165]' \
		"$(jq -c '[.endpoint, .model, .usage, .cost_usd]' "$m")"
	printf 'RIFF' >"$BATS_TEST_TMPDIR/a.wav"
	oai-transcribe -f json --meta-fd 3 "$BATS_TEST_TMPDIR/a.wav" 3>"$m" >/dev/null
	assert_equal '["/audio/transcriptions","whisper-1",{"seconds":2},0.0002]' \
		"$(jq -c '[.endpoint, .model, .usage, .cost_usd]' "$m")"
	oai-models --meta-fd 3 3>"$m" >/dev/null
	assert_equal '["/models",200,null]' "$(jq -c '[.endpoint, .status, .cost_usd]' "$m")"
	[ "$(srv_nreq)" = 6 ]
}

@test "--meta-fd: a descriptor that is not open is a usage error" {
	run --separate-stderr oai-chat --meta-fd 9 hi
	assert_status 2
	assert_stderr 'oai-chat: --meta-fd: 9 is not an open descriptor'
	OAI_META_FD=x run --separate-stderr oai-models
	assert_status 2
	assert_stderr_contains 'OAI_META_FD'
	[ "$(srv_nreq)" = 0 ]
}

# ---- usage and cost ---------------------------------------------------------

@test "-u: preview names of gpt-4-turbo are priced" {
	srv_queue "$(reply ok | jq -c '.json.model = "gpt-4-0125-preview" | .json.usage = {prompt_tokens: 1000, completion_tokens: 1000}')"
	run --separate-stderr oai-chat -u --no-stream hi
	assert_stderr 'oai-chat: usage: 1000 prompt + 1000 completion = 2000 tokens, $0.040000'
}

@test "-u on oai-embed, oai-speak, oai-transcribe" {
	printf 'text-embedding-3-small 1000 0\n' >"$BATS_TEST_TMPDIR/prices"
	OAI_PRICES=$BATS_TEST_TMPDIR/prices run --separate-stderr oai-embed -u -b 1 < <(printf 'a\nb c\n')
	assert_status 0
	assert_stderr 'oai-embed: usage: 3 tokens in 2 requests, $0.003000'
	run --separate-stderr oai-speak -u -m tts-1-hd hello >/dev/null
	assert_stderr 'oai-speak: usage: 5 characters, $0.000150'
	run --separate-stderr oai-speak -u -m gpt-4o-mini-tts hello >/dev/null
	assert_stderr $'oai-speak: usage: 5 characters\noai-speak: no price for gpt-4o-mini-tts; set OAI_PRICES'
	printf 'RIFF' >"$BATS_TEST_TMPDIR/a.wav"
	run --separate-stderr oai-transcribe -u -f json "$BATS_TEST_TMPDIR/a.wav"
	assert_stderr 'oai-transcribe: usage: 2 seconds, $0.000200'
}

@test "OAI_PRICES: units per characters, minute; a bad line is named" {
	printf 'tts-1 1000 chars\nwhisper-1 6 minute\nbad line here now\n' >"$BATS_TEST_TMPDIR/prices"
	export OAI_PRICES=$BATS_TEST_TMPDIR/prices
	run --separate-stderr oai-speak -u hello >/dev/null
	assert_stderr <<-EOF
	oai-speak: OAI_PRICES: $BATS_TEST_TMPDIR/prices:3: expected MODEL INPUT OUTPUT [CACHED], or NAME PRICE chars|minute|image
	oai-speak: usage: 5 characters, \$0.005000
	EOF
	printf 'RIFF' >"$BATS_TEST_TMPDIR/a.wav"
	run --separate-stderr oai-transcribe -u -f json "$BATS_TEST_TMPDIR/a.wav"
	assert_stderr_contains 'usage: 2 seconds, $0.200000'
}

@test "oai-embed --budget stops sending, prints what was done, exit 4" {
	printf 'text-embedding-3-small 1000 0\n' >"$BATS_TEST_TMPDIR/prices"
	export OAI_PRICES=$BATS_TEST_TMPDIR/prices
	run --separate-stderr oai-embed -b 1 -P 1 --budget 0.0025 < <(seq 1 5)
	assert_status 4
	[ "$(wc -l <<<"$output")" = 2 ]
	assert_stderr 'oai-embed: --budget $0.002500 reached ($0.002000 spent) (standard input:3 and what follows were not embedded)'
	[ "$(srv_nreq)" = 2 ]
}
