#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-complete: the request (path, headers, exact body), streamed and
# whole completions, -n choices, cut streams, errors and statuses,
# --dry-run, --param, --logit-bias, usage errors.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-complete
}

# body N [JQ-OPTIONS] JQ: jq -r of the JSON body of request N.
body() {
	srv_req_field "$1" .body | jq -r "${@:2}"
}

# chunk TEXT [INDEX [FINISH]]: one streamed completion chunk.
chunk() {
	jq -cn --arg t "$1" --argjson i "${2:-0}" --arg f "${3:-}" \
		'{object: "text_completion", model: "gpt-3.5-turbo-instruct",
		  choices: [{text: $t, index: $i, logprobs: null,
		  finish_reason: (if $f == "" then null else $f end)}]}'
}

# ---- the request and the stream -------------------------------------------

@test "streams the completion and sends the exact request" {
	run --separate-stderr oai-complete Once upon a time </dev/null
	assert_status 0
	assert_stderr ''
	assert_output ' echo: Once upon a time'
	assert_equal 1 "$(srv_nreq)"
	assert_equal /v1/completions "$(srv_req_field 1 .path)"
	assert_equal POST "$(srv_req_field 1 .method)"
	assert_equal 'Bearer sk-test-complete' "$(srv_req_field 1 .headers.authorization)"
	assert_equal text/event-stream "$(srv_req_field 1 .headers.accept)"
	assert_equal application/json "$(srv_req_field 1 '.headers["content-type"]')"
	assert_equal '{"model":"gpt-3.5-turbo-instruct","prompt":"Once upon a time","stream":true,"max_tokens":256}' \
		"$(srv_req_field 1 .body)"
}

@test "standard input comes first, the argument text after it, trailing newlines dropped" {
	run --separate-stderr oai-complete 'and then' < <(printf 'line one\nline two\n\n')
	assert_status 0
	assert_equal 'line one
line two

and then' "$(body 1 .prompt)"
	run --separate-stderr oai-complete < <(printf 'Once upon a time\n')
	assert_status 0
	assert_output ' echo: Once upon a time'
	assert_equal 'Once upon a time' "$(body 2 .prompt)"
}

@test "every parameter reaches the body" {
	run --separate-stderr oai-complete -m davinci-002 -n 2 -t 0.5 \
		--best-of 3 --echo --frequency-penalty 0.25 \
		--logit-bias 50256=-100 --logprobs 2 --max-tokens 7 \
		--presence-penalty -1.5 --seed -42 --stop $'\n' --stop END \
		--suffix '}' --top-p 0.9 --user user-1 --no-stream -u \
		'Q: capital of France?' </dev/null
	assert_status 0
	assert_equal '{"model":"davinci-002","prompt":"Q: capital of France?","temperature":0.5,"top_p":0.9,"max_tokens":7,"stop":["\n","END"],"seed":-42,"frequency_penalty":0.25,"presence_penalty":-1.5,"n":2,"best_of":3,"suffix":"}","echo":true,"logprobs":2,"logit_bias":{"50256":-100},"user":"user-1"}' \
		"$(srv_req_field 1 .body)"
}

@test "a stream split into 1-byte writes, multi-byte characters and all, prints the exact text" {
	local text='héllo wörld — 日本語 🎉'
	srv_queue "$(jq -cn --argjson a "$(chunk "$text")" \
		--argjson b "$(chunk ' ✓' 0 stop)" \
		'{sse: [$a, $b], sse_done: true, chunk: 1}')"
	run --separate-stderr oai-complete x </dev/null
	assert_status 0
	assert_stderr ''
	assert_output "$text ✓"
}

@test "the completion ends with exactly one newline, leading newlines kept" {
	srv_queue "$(jq -cn --argjson a "$(chunk $'\n\nline\n')" \
		--argjson b "$(chunk $'\n')" --argjson c "$(chunk $'\nmore\n\n\n' 0 stop)" \
		'{sse: [$a, $b, $c], sse_done: true}')"
	oai-complete hi </dev/null >"$BATS_TEST_TMPDIR/out"
	assert_equal "$(printf '\n\nline\n\n\nmore\n' | od -c)" "$(od -c <"$BATS_TEST_TMPDIR/out")"
}

@test "--echo prints the prompt first" {
	run --separate-stderr oai-complete --echo 'The sky is' </dev/null
	assert_status 0
	assert_output 'The sky is echo: The sky is'
	assert_equal true "$(body 1 .echo)"
}

# ---- -n ------------------------------------------------------------------

@test "-n: interleaved choices are printed in turn, a line --- between two" {
	run --separate-stderr oai-complete -n 3 'a b' </dev/null
	assert_status 0
	assert_stderr ''
	assert_output ' echo: a b
---
 echo 1: a b
---
 echo 2: a b'
	assert_equal 3 "$(body 1 .n)"
}

@test "-n: the first choice streams while later ones are held, in index order whatever the arrival" {
	srv_queue "$(jq -cn --argjson a "$(chunk B1 1)" --argjson b "$(chunk A1 0)" \
		--argjson c "$(chunk B2 1 stop)" --argjson d "$(chunk A2 0 length)" \
		'{sse: [$a, $b, $c, $d], sse_done: true}')"
	run --separate-stderr oai-complete -n 2 x </dev/null
	assert_status 0
	assert_stderr ''
	assert_output 'A1A2
---
B1B2'
	# --no-stream: choices out of order in the response object
	srv_queue '{"json": {"object": "text_completion", "choices": [
		{"text": "second", "index": 1, "finish_reason": "stop"},
		{"text": "first", "index": 0, "finish_reason": "stop"}]}}'
	run --separate-stderr oai-complete -n 2 --no-stream x </dev/null
	assert_status 0
	assert_output 'first
---
second'
}

@test "-n: an empty choice is an empty place between the lines ---" {
	srv_queue "$(jq -cn --argjson a "$(chunk one 0 stop)" --argjson b "$(chunk '' 1 stop)" \
		--argjson c "$(chunk three 2 stop)" '{sse: [$a, $b, $c], sse_done: true}')"
	run --separate-stderr oai-complete -n 3 x </dev/null
	assert_status 0
	assert_output 'one
---
---
three'
}

@test "a choice index beyond -n is an unexpected response, status 5" {
	srv_queue "$(jq -cn --argjson a "$(chunk ok 0)" --argjson b "$(chunk bad 1)" \
		'{sse: [$a, $b], sse_done: true}')"
	run --separate-stderr oai-complete x </dev/null
	assert_status 5
	assert_output 'ok'
	assert_stderr 'oai-complete: unexpected response: choice index 1 (0 to 0)'
}

# ---- whole completions and JSON ------------------------------------------

@test "--no-stream prints the whole completion" {
	run --separate-stderr oai-complete --no-stream hello </dev/null
	assert_status 0
	assert_stderr ''
	assert_output ' echo: hello'
	assert_equal '{"model":"gpt-3.5-turbo-instruct","prompt":"hello","max_tokens":256}' \
		"$(srv_req_field 1 .body)"
	assert_equal '' "$(srv_req_field 1 '.headers.accept // ""' | grep -x text/event-stream)"
}

@test "--best-of is not streamed (the API cannot)" {
	run --separate-stderr oai-complete --best-of 2 hello </dev/null
	assert_status 0
	assert_output ' echo: hello'
	assert_equal '{"model":"gpt-3.5-turbo-instruct","prompt":"hello","max_tokens":256,"best_of":2}' \
		"$(srv_req_field 1 .body)"
}

@test "--no-stream with a body that is not a completion exits 5" {
	srv_queue '{"json": {"object": "list"}}'
	run --separate-stderr oai-complete --no-stream hello </dev/null
	assert_status 5
	assert_output ''
	assert_stderr "oai-complete: unexpected response from $OPENAI_BASE_URL/completions: not a completion"
}

@test "--json streams each chunk as one JSON line" {
	run --separate-stderr oai-complete --json --logprobs 1 'a b' </dev/null
	assert_status 0
	assert_stderr ''
	[ "${#lines[@]}" -eq 4 ] || fail "$output"
	assert_equal ' echo: a b' "$(jq -j '.choices[0].text' <<<"$output")"
	assert_equal '-0.5' "$(jq -c '.choices[0].logprobs.token_logprobs[0]' <<<"${lines[0]}")"
	assert_equal 'stop' "$(jq -r '.choices[0].finish_reason' <<<"${lines[3]}")"
}

@test "--json --no-stream prints the response object" {
	run --separate-stderr oai-complete --json --no-stream -n 2 hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_equal '[" echo: hi"," echo 1: hi"]' "$(jq -c '[.choices[].text]' <<<"$output")"
}

# ---- usage and finish reasons ----------------------------------------------

@test "-u asks for stream usage and prints tokens and the gpt-3.5-turbo-instruct price" {
	run --separate-stderr oai-complete -u 'a b c' </dev/null
	assert_status 0
	assert_output ' echo: a b c'
	assert_stderr 'oai-complete: usage: 3 prompt + 4 completion = 7 tokens, $0.000013'
	assert_equal true "$(body 1 .stream_options.include_usage)"
	run --separate-stderr oai-complete -u --no-stream -m babbage-002 'a b c' </dev/null
	assert_status 0
	assert_stderr 'oai-complete: usage: 3 prompt + 4 completion = 7 tokens, $0.000003'
	assert_equal null "$(body 2 .stream_options)"
}

@test "-u when the server reports no usage says so" {
	srv_queue "$(jq -cn --argjson a "$(chunk hi 0 stop)" '{sse: [$a], sse_done: true}')"
	run --separate-stderr oai-complete -u x </dev/null
	assert_status 0
	assert_output 'hi'
	assert_stderr 'oai-complete: usage: not reported by the server'
}

@test "finish_reason length is reported at a terminal only, and still succeeds" {
	run --separate-stderr oai-complete --max-tokens 2 'a b c' </dev/null
	assert_status 0
	assert_output ' echo: a'
	assert_stderr ''
	out=$BATS_TEST_TMPDIR/out
	run script -qec "oai-complete --max-tokens 2 'a b c' </dev/null >$out; echo status=\$?" /dev/null
	assert_output $'oai-complete: warning: the completion was cut at the token limit (finish_reason length; see --max-tokens)\r\nstatus=0\r'
	assert_equal ' echo: a' "$(cat "$out")"
	run script -qec "oai-complete -n 2 --max-tokens 2 'a b c' </dev/null >$out; echo status=\$?" /dev/null
	assert_output $'oai-complete: warning: completion 1 of 2 was cut at the token limit (finish_reason length; see --max-tokens)\r\noai-complete: warning: completion 2 of 2 was cut at the token limit (finish_reason length; see --max-tokens)\r\nstatus=0\r'
}

@test "finish_reason content_filter is reported in a pipe too" {
	srv_queue "$(jq -cn --argjson a "$(chunk part 0 content_filter)" '{sse: [$a], sse_done: true}')"
	run --separate-stderr oai-complete x </dev/null
	assert_status 0
	assert_output 'part'
	assert_stderr 'oai-complete: warning: the completion was cut by the content filter (finish_reason content_filter)'
}

# ---- cut streams and errors --------------------------------------------------

@test "a stream cut mid-way keeps an exact prefix in a pipe and exits 5; a terminal gets the newline" {
	local a b spec
	a=$(chunk Hello) b=$(chunk ' world' 0 stop)
	# cut 10 bytes into the second event
	spec=$(jq -cn --argjson a "$a" --argjson b "$b" --argjson n $((${#a} + 8 + 10)) \
		'{sse: [$a, $b], sse_done: true, close_after: $n}')
	srv_queue "$spec"
	run --separate-stderr oai-complete hi </dev/null
	assert_status 5
	assert_output 'Hello'
	assert_stderr_contains 'oai-complete: connection lost before the response was complete'
	srv_queue "$spec"
	oai-complete hi </dev/null >"$BATS_TEST_TMPDIR/out" 2>/dev/null || true
	assert_equal "Hello" "$(od -An -c "$BATS_TEST_TMPDIR/out" | tr -d ' ')"
	srv_queue "$spec"
	run script -qec "oai-complete hi </dev/null 2>/dev/null; echo status=\$?" /dev/null
	assert_output $'Hello\r\nstatus=5\r'
}

@test "a stream that ends cleanly without [DONE] exits 5 with a message" {
	srv_queue "$(jq -cn --argjson a "$(chunk partial)" '{sse: [$a]}')"
	run --separate-stderr oai-complete hi </dev/null
	assert_status 5
	assert_output 'partial'
	assert_stderr 'oai-complete: the stream ended before [DONE]: the completion is incomplete'
}

@test "an error event mid-stream keeps the text, prints the API's message, exits 5 or 4" {
	srv_queue "$(jq -cn --argjson a "$(chunk Hel)" \
		'{sse: [$a, {error: {message: "The server had an error", type: "server_error"}}]}')"
	run --separate-stderr oai-complete hi </dev/null
	assert_status 5
	assert_output 'Hel'
	assert_stderr 'oai-complete: error in the stream: server_error: The server had an error'
	srv_queue "$(jq -cn --argjson a "$(chunk a)" \
		'{sse: [$a, {error: {message: "Too many tokens", type: "invalid_request_error"}}]}')"
	run --separate-stderr oai-complete hi </dev/null
	assert_status 4
	assert_output 'a'
	assert_stderr 'oai-complete: error in the stream: invalid_request_error: Too many tokens'
}

@test "data that is not JSON in the stream exits 5" {
	srv_queue '{"sse": ["{not json"], "sse_done": true}'
	run --separate-stderr oai-complete hi </dev/null
	assert_status 5
	assert_output ''
	assert_stderr 'oai-complete: unexpected data in the stream: not a JSON object'
}

@test "Ctrl-C during a stream exits 130 and keeps what was printed" {
	local a b
	a=$(chunk first) b=$(chunk ' second' 0 stop)
	srv_queue "$(jq -cn --argjson a "$a" --argjson b "$b" --argjson n $((${#a} + 8 + 5)) \
		'{sse: [$a, $b], sse_done: true, stall_after: $n, stall_ms: 20000}')"
	out=$BATS_TEST_TMPDIR/out
	oai-complete hi </dev/null >"$out" 2>"$out.err" &
	pid=$!
	for i in $(seq 500); do [ -s "$out" ] && break; sleep 0.01; done
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	assert_status 130
	assert_equal "first" "$(cat "$out")"
	assert_equal '' "$(cat "$out.err")"
}

@test "| head -c1 ends quietly; a full disk is a loud failure with status 5" {
	srv_queue "$(jq -cn --argjson a "$(chunk abc)" --argjson b "$(chunk def 0 stop)" \
		'{sse: [$a, $b], sse_done: true, chunk_delay_ms: 100}')"
	run --separate-stderr bash -c 'oai-complete hi </dev/null | head -c1; echo " ${PIPESTATUS[0]}"'
	assert_output 'a 0'
	assert_stderr ''
	run --separate-stderr bash -c 'oai-complete hi </dev/null >/dev/full'
	assert_status 5
	assert_stderr_contains 'oai-complete: write error on standard output'
}

@test "401 exits 3, 429 exits 4 after the retries, a 500 is retried" {
	srv_queue '{"cassette": "error_401_invalid_api_key_chat"}'
	run --separate-stderr oai-complete hi </dev/null
	assert_status 3
	assert_output ''
	assert_stderr_contains 'oai-complete: 401 invalid_api_key: Incorrect API key provided'
	srv_reset
	srv_queue '{"cassette": "synthetic/error_429_rate_limit_tokens", "repeat": 2}'
	run --separate-stderr oai-complete --retries 1 hi </dev/null
	assert_status 4
	assert_stderr_contains 'oai-complete: 429 rate_limit_exceeded: Rate limit reached'
	assert_equal 2 "$(srv_nreq)"
	srv_queue '{"cassette": "synthetic/error_500_server_error"}'
	run --separate-stderr oai-complete --retries 1 again </dev/null
	assert_status 0
	assert_stderr ''
	assert_output ' echo: again'
}

@test "no key for api.openai.com is a configuration error before any request" {
	unset OPENAI_API_KEY OPENAI_BASE_URL
	run --separate-stderr oai-complete hi </dev/null
	assert_status 3
	assert_output ''
}

# ---- --dry-run, --param, --logit-bias ---------------------------------------

@test "--dry-run prints the exact body and sends nothing, without a key" {
	unset OPENAI_API_KEY
	run --separate-stderr oai-complete --dry-run -u --stop . hello </dev/null
	assert_status 0
	assert_stderr ''
	assert_output '{"model":"gpt-3.5-turbo-instruct","prompt":"hello","stream":true,"stream_options":{"include_usage":true},"max_tokens":256,"stop":["."]}'
	assert_equal 0 "$(srv_nreq)"
}

@test "--param: JSON values, strings, dotted keys nest, a field the tool set is replaced in place" {
	run --separate-stderr oai-complete --dry-run --param n=2 \
		--param user=me --param 'stop=["\n"]' --param 'a.b.c=true' \
		--param a.d='"7"' --param max_tokens=5 --param x='{not json' \
		--param stream_options.include_usage=true -u hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_output '{"model":"gpt-3.5-turbo-instruct","prompt":"hi","stream":true,"stream_options":{"include_usage":true},"max_tokens":5,"n":2,"user":"me","stop":["\n"],"a":{"b":{"c":true},"d":"7"},"x":"{not json"}'
	# a later param wins, also over a nested one
	run --separate-stderr oai-complete --dry-run --param a.b=1 --param a=2 \
		--param c=1 --param c.d=2 hi </dev/null
	assert_output '{"model":"gpt-3.5-turbo-instruct","prompt":"hi","stream":true,"max_tokens":256,"a":2,"c":{"d":2}}'
}

@test "--param n asks for that many choices; the request carries the params" {
	run --separate-stderr oai-complete --param n=2 hi </dev/null
	assert_status 0
	assert_output ' echo: hi
---
 echo 1: hi'
	assert_equal 2 "$(body 1 .n)"
}

@test "--param errors are usage errors before any request" {
	local a
	for a in novalue =1 a..b=1 .a=1 a.=1 stream=false stream.x=1; do
		run --separate-stderr oai-complete --param "$a" hi </dev/null
		assert_status 2
		assert_output ''
	done
	run --separate-stderr oai-complete --param novalue hi </dev/null
	assert_stderr "oai-complete: --param: 'novalue' is not key=value"
	run --separate-stderr oai-complete --param a..b=1 hi </dev/null
	assert_stderr "oai-complete: --param: 'a..b' has an empty key"
	run --separate-stderr oai-complete --param stream=false hi </dev/null
	assert_stderr "oai-complete: --param: stream is the tool's to set (--no-stream)"
	run --separate-stderr oai-complete --param "$(printf 'a=\xff')" hi </dev/null
	assert_stderr 'oai-complete: --param: not valid UTF-8 at byte offset 2'
	assert_equal 0 "$(srv_nreq)"
}

@test "--logit-bias: token=bias and JSON objects, merged, a later token wins" {
	run --separate-stderr oai-complete --dry-run --logit-bias 50256=-100 \
		--logit-bias '{"11": 5, "50256": 1}' --logit-bias 007=0 hi </dev/null
	assert_status 0
	assert_equal '{"50256":1,"11":5,"7":0}' "$(jq -c .logit_bias <<<"$output")"
	run --separate-stderr oai-complete --logit-bias 1=101 hi </dev/null
	assert_status 2
	assert_stderr 'oai-complete: --logit-bias: 101 is out of range (-100 to 100)'
	run --separate-stderr oai-complete --logit-bias x=1 hi </dev/null
	assert_status 2
	assert_stderr "oai-complete: --logit-bias: 'x' is not a number"
	run --separate-stderr oai-complete --logit-bias 5 hi </dev/null
	assert_status 2
	assert_stderr "oai-complete: --logit-bias: '5' is not token=bias or a JSON object"
	run --separate-stderr oai-complete --logit-bias '{"5": "a"}' hi </dev/null
	assert_status 2
	assert_stderr "oai-complete: --logit-bias: '\"a\"' is not a number"
	run --separate-stderr oai-complete --logit-bias '{"5": 1' hi </dev/null
	assert_status 2
	assert_stderr 'oai-complete: --logit-bias: not a JSON object'
	assert_equal 0 "$(srv_nreq)"
}

# ---- usage errors ----------------------------------------------------------

@test "out-of-range values and bad combinations are usage errors before any request" {
	local args
	for args in '-t 2.5' '--top-p 1.5' '-n 0' '-n 129' '--logprobs 6' \
		'--best-of 21' '--max-tokens -1' '--frequency-penalty 3' \
		'--presence-penalty -3' '--seed x' '-n 3 --best-of 2'; do
		# shellcheck disable=SC2086
		run --separate-stderr oai-complete $args hi </dev/null
		assert_status 2 || fail "$args"
		assert_output ''
	done
	run --separate-stderr oai-complete -n 3 --best-of 2 hi </dev/null
	assert_stderr 'oai-complete: --best-of 2 is less than -n 3'
	run --separate-stderr oai-complete --logprobs 6 hi </dev/null
	assert_stderr 'oai-complete: --logprobs: 6 is out of range (0 to 5)'
	run --separate-stderr oai-complete --stop a --stop b --stop c --stop d --stop e hi </dev/null
	assert_status 2
	assert_stderr 'oai-complete: --stop: at most 4 stop sequences'
	run --separate-stderr oai-complete --stop '' hi </dev/null
	assert_status 2
	assert_stderr 'oai-complete: --stop: empty stop sequence'
	run --separate-stderr oai-complete -m '' hi </dev/null
	assert_status 2
	assert_stderr 'oai-complete: --model: empty model name'
	assert_equal 0 "$(srv_nreq)"
}

@test "no prompt, and a prompt that is not text, are usage errors" {
	run --separate-stderr oai-complete </dev/null
	assert_status 2
	assert_stderr 'oai-complete: no prompt: give it as arguments or on standard input'
	run --separate-stderr oai-complete < <(printf '\n\n')
	assert_status 2
	run --separate-stderr oai-complete < <(printf 'a\xffb')
	assert_status 2
	assert_stderr 'oai-complete: standard input: not valid UTF-8 at byte offset 1'
	run --separate-stderr oai-complete --suffix "$(printf '\xff')" hi </dev/null
	assert_status 2
	assert_stderr 'oai-complete: --suffix: not valid UTF-8 at byte offset 0'
	assert_equal 0 "$(srv_nreq)"
}

@test "with an argument prompt and standard input a terminal, standard input is not read" {
	run script -qec "oai-complete hi; echo status=\$?" /dev/null
	assert_output $' echo: hi\r\nstatus=0\r'
}

@test "--help names the default --max-tokens; an unknown option prints the usage with status 2" {
	run --separate-stderr oai-complete --help
	assert_status 0
	assert_output_contains 'limit the completion'"'"'s length in tokens
                            (default 256)'
	run --separate-stderr oai-complete --bogus
	assert_status 2
	[[ $stderr == *'usage: oai-complete [-u] [-m model] [-n n]'* ]] || fail "$stderr"
}
