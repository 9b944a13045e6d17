#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-chat: streaming and whole replies, prompt rules, options, errors,
# conversations, --dry-run bodies, the interactive mode (through script).
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-chat
}

# a tmux test that failed half way leaves no terminal behind
teardown() { ! declare -F tm_stop >/dev/null || tm_stop; }

CASS=$BATS_TEST_DIRNAME/fixtures

# body N [JQ-OPTIONS] JQ: jq -r of the JSON body of request N.
body() {
	srv_req_field "$1" .body | jq -r "${@:2}"
}

# ---- streaming ------------------------------------------------------------

@test "streams the reply and asks for a stream" {
	run --separate-stderr oai-chat hello world </dev/null
	assert_status 0
	assert_stderr ''
	assert_output 'echo: hello world'
	assert_equal /v1/chat/completions "$(srv_req_field 1 .path)"
	assert_equal POST "$(srv_req_field 1 .method)"
	assert_equal 'Bearer sk-test-chat' "$(srv_req_field 1 .headers.authorization)"
	assert_equal text/event-stream "$(srv_req_field 1 .headers.accept)"
	assert_equal '{"model":"gpt-4o","messages":[{"role":"user","content":"hello world"}],"stream":true}' \
		"$(srv_req_field 1 .body)"
}

@test "a recorded stream split into 1-byte writes prints the exact text" {
	srv_queue '{"cassette": "chat_stream_2023_plain", "chunk": 1}'
	run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_output 'Hello! How can I assist you today?'
}

@test "a recorded 2026 stream with usage, 1-byte writes, -u: tokens, no price for an unknown model" {
	srv_queue '{"cassette": "chat_stream_tool_calls_usage_2026/01", "chunk": 1}'
	run --separate-stderr oai-chat -u hi </dev/null
	assert_status 0
	assert_output 'The capital of France is Paris.'
	assert_stderr <<-'EOF'
	oai-chat: usage: 92 prompt + 8 completion = 100 tokens
	oai-chat: no price for gpt-4o-mini-2024-07-18; set OAI_PRICES
	EOF
	assert_equal true "$(body 1 .stream_options.include_usage)"
}

@test "multi-byte characters split at every byte of the stream arrive intact" {
	local text='héllo wörld — 日本語 🎉' spec
	# One byte per write, 1 ms apart: every boundary falls between reads.
	spec=$(jq -cn --arg t "$text" '{sse: [{choices: [{index: 0, delta: {content: $t}}]},
		{choices: [{index: 0, delta: {content: " ✓"}, finish_reason: "stop"}]}],
		sse_done: true, chunk: 1, chunk_delay_ms: 1}')
	srv_queue "$spec"
	run --separate-stderr oai-chat x </dev/null
	assert_status 0
	assert_stderr ''
	assert_output "$text ✓"
	# and split once inside the 4-byte emoji, with nothing else moving
	srv_queue "$(jq -c '.chunk = null | .chunks = [75, 1, 1, 1]' <<<"$spec")"
	run --separate-stderr oai-chat x </dev/null
	assert_status 0
	assert_output "$text ✓"
}

@test "a tool-call stream prints each call as one JSON line" {
	srv_queue '{"cassette": "chat_stream_tool_calls_usage_2026/00", "chunk": 1}'
	run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_output '{"id":"call_OaiFixture0000000000001","type":"function","function":{"name":"get_capital","arguments":"{\"country\":\"France\"}"}}'
}

@test "a refusal stream goes to stderr with status 1" {
	srv_queue '{"sse": [{"choices": [{"index": 0, "delta": {"role": "assistant", "refusal": "I cannot"}}]},
		{"choices": [{"index": 0, "delta": {"refusal": " help with that."}, "finish_reason": "stop"}]}],
		"sse_done": true}'
	run --separate-stderr oai-chat hi </dev/null
	assert_status 1
	assert_output ''
	assert_stderr 'oai-chat: refusal: I cannot help with that.'
}

@test "a refusal over several lines is one line on stderr, control bytes as spaces" {
	srv_queue '{"sse": [{"choices": [{"index": 0, "delta": {"refusal": "I cannot\nhelp\u001b[2J.\n"}}]}],
		"sse_done": true}'
	run --separate-stderr oai-chat hi </dev/null
	assert_status 1
	assert_output ''
	assert_stderr 'oai-chat: refusal: I cannot help [2J.'
}

@test "finish_reason length warns on stderr and still succeeds" {
	srv_queue '{"sse": [{"choices": [{"index": 0, "delta": {"content": "cut"}}]},
		{"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}], "sse_done": true}'
	run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_output 'cut'
	assert_stderr 'oai-chat: warning: the reply was cut at the token limit (finish_reason length)'
}

@test "the reply ends with exactly one newline" {
	srv_queue '{"sse": [{"choices": [{"index": 0, "delta": {"content": "\n\nline\n"}}]},
		{"choices": [{"index": 0, "delta": {"content": "\n"}}]},
		{"choices": [{"index": 0, "delta": {"content": "\nmore\n\n\n"}}]}], "sse_done": true}'
	oai-chat hi </dev/null >"$BATS_TEST_TMPDIR/out"
	assert_equal "$(printf '\n\nline\n\n\nmore\n' | od -c)" "$(od -c <"$BATS_TEST_TMPDIR/out")"
}

@test "an error event mid-stream keeps the text, prints the API's message, exits 5" {
	srv_queue '{"cassette": "synthetic/chat_stream_error_midstream", "chunk": 7}'
	run --separate-stderr oai-chat hi </dev/null
	assert_status 5
	assert_output 'Hel'
	assert_stderr 'oai-chat: error in the stream: server_error: The server had an error while processing your request. Sorry about that!'
}

@test "an error event of a rejected kind exits 4" {
	srv_queue '{"sse": [{"choices": [{"index": 0, "delta": {"content": "a"}}]},
		{"error": {"message": "Too many tokens", "type": "invalid_request_error", "param": null, "code": null}}]}'
	run --separate-stderr oai-chat hi </dev/null
	assert_status 4
	assert_output 'a'
	assert_stderr 'oai-chat: error in the stream: invalid_request_error: Too many tokens'
}

@test "a stream cut before [DONE] keeps what was printed and exits 5" {
	# 1460 bytes of the raw response: cut inside the "!" event
	srv_queue '{"cassette": "chat_stream_2023_plain", "close_after": 1460}'
	run --separate-stderr oai-chat hi </dev/null
	assert_status 5
	assert_output 'Hello'
	assert_stderr 'oai-chat: connection lost before the response was complete (transfer closed with 1712 bytes remaining to read)'
}

@test "a cut reply is an exact prefix in a pipe (no closing newline), on its own line at a terminal" {
	srv_queue '{"cassette": "chat_stream_2023_plain", "close_after": 1460}'
	oai-chat hi </dev/null >"$BATS_TEST_TMPDIR/out" 2>/dev/null || true
	assert_equal "Hello" "$(od -An -c "$BATS_TEST_TMPDIR/out" | tr -d ' ')"
	srv_queue '{"cassette": "chat_stream_2023_plain", "close_after": 1460}'
	run script -qec "oai-chat hi </dev/null 2>/dev/null; echo status=\$?" /dev/null
	assert_output $'Hello\r\nstatus=5\r'
}

@test "a stream that ends cleanly without [DONE] exits 5 with a message" {
	srv_queue '{"sse": [{"choices": [{"index": 0, "delta": {"content": "partial"}}]}]}'
	run --separate-stderr oai-chat hi </dev/null
	assert_status 5
	assert_output 'partial'
	assert_stderr 'oai-chat: the stream ended before [DONE]: the reply is incomplete'
}

@test "data that is not JSON in the stream exits 5" {
	srv_queue '{"sse": ["{not json"], "sse_done": true}'
	run --separate-stderr oai-chat hi </dev/null
	assert_status 5
	assert_output ''
	assert_stderr 'oai-chat: unexpected data in the stream: not a JSON object'
}

@test "Ctrl-C during a stream exits 130 and keeps what was printed" {
	# the first event is 62 bytes: the pause falls inside the second
	srv_queue '{"sse": [{"choices": [{"index": 0, "delta": {"content": "first"}}]},
		{"choices": [{"index": 0, "delta": {"content": " second"}}]}], "sse_done": true,
		"stall_after": 70, "stall_ms": 20000}'
	out=$BATS_TEST_TMPDIR/out
	oai-chat hi </dev/null >"$out" 2>"$out.err" &
	pid=$!
	for i in $(seq 500); do [ -s "$out" ] && break; sleep 0.01; done
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	assert_status 130
	assert_equal "first" "$(cat "$out")"
	assert_equal '' "$(cat "$out.err")"
}

@test "| head -c1 ends quietly" {
	srv_queue '{"sse": [{"choices": [{"index": 0, "delta": {"content": "abc"}}]},
		{"choices": [{"index": 0, "delta": {"content": "def"}}]}], "sse_done": true, "chunk_delay_ms": 100}'
	run --separate-stderr bash -c 'oai-chat hi </dev/null | head -c1; echo " ${PIPESTATUS[0]}"'
	assert_output 'a 0'
	assert_stderr ''
}

@test "a full disk is a loud failure with status 5" {
	run --separate-stderr bash -c 'oai-chat hi </dev/null >/dev/full'
	assert_status 5
	assert_stderr_contains 'oai-chat: write error on standard output'
}

# ---- HTTP errors ------------------------------------------------------------

@test "401 exits 3 with the API's message" {
	srv_queue '{"cassette": "error_401_invalid_api_key_chat"}'
	run --separate-stderr oai-chat hi </dev/null
	assert_status 3
	assert_output ''
	assert_stderr 'oai-chat: 401 invalid_api_key: Incorrect API key provided: sk-test****************************1234. You can find your API key at https://platform.openai.com/account/api-keys.'
}

@test "429 exits 4 after the retries" {
	srv_queue '{"cassette": "synthetic/error_429_rate_limit_tokens", "repeat": 2}'
	run --separate-stderr oai-chat --retries 1 hi </dev/null
	assert_status 4
	assert_output ''
	assert_stderr_contains 'oai-chat: 429 rate_limit_exceeded: Rate limit reached'
	assert_equal 2 "$(srv_nreq)"
}

@test "500 exits 5; a retry that succeeds streams the reply" {
	srv_queue '{"cassette": "synthetic/error_500_server_error"}'
	run --separate-stderr oai-chat --retries 0 hi </dev/null
	assert_status 5
	assert_stderr 'oai-chat: 500 server_error: The server had an error while processing your request. Sorry about that!'
	srv_queue '{"cassette": "synthetic/error_500_server_error"}'
	run --separate-stderr oai-chat --retries 1 again </dev/null
	assert_status 0
	assert_output 'echo: again'
}

@test "no key for api.openai.com is a configuration error before any request" {
	unset OPENAI_API_KEY OPENAI_BASE_URL
	run --separate-stderr oai-chat hi </dev/null
	assert_status 3
	assert_output ''
}

# ---- whole replies and JSON ---------------------------------------------

@test "--no-stream prints the whole reply" {
	srv_queue '{"cassette": "chat_basic"}'
	run --separate-stderr oai-chat --no-stream hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_output 'Hello! How can I assist you today?'
	assert_equal null "$(body 1 .stream)"
	assert_equal application/json "$(srv_req_field 1 .headers.accept)"
}

@test "--no-stream with a refusal exits 1" {
	srv_queue '{"json": {"object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop",
		"message": {"role": "assistant", "content": null, "refusal": "No."}}]}}'
	run --separate-stderr oai-chat --no-stream hi </dev/null
	assert_status 1
	assert_output ''
	assert_stderr 'oai-chat: refusal: No.'
}

@test "--no-stream with an unexpected body exits 5" {
	srv_queue '{"json": {"object": "list"}}'
	run --separate-stderr oai-chat --no-stream hi </dev/null
	assert_status 5
	assert_stderr "oai-chat: unexpected response from $OPENAI_BASE_URL/chat/completions: not a chat completion"
}

@test "--json streams each chunk as one JSON line" {
	run --separate-stderr oai-chat --json one two </dev/null
	assert_status 0
	assert_stderr ''
	assert_equal 5 "${#lines[@]}"	# role, 3 words, finish
	assert_equal 'echo: one two' "$(printf '%s\n' "${lines[@]}" | jq -j '.choices[0].delta.content // empty')"
	assert_equal stop "$(jq -r .choices[0].finish_reason <<<"${lines[4]}")"
}

@test "--json --no-stream prints the response object" {
	srv_queue '{"cassette": "chat_basic"}'
	run --separate-stderr oai-chat --json --no-stream hi </dev/null
	assert_status 0
	assert_equal "$(cat "$CASS/chat_basic/response.body")" "$output"
}

# ---- usage and prices -------------------------------------------------------

@test "-u prints tokens and the gpt-4o price" {
	run --separate-stderr oai-chat -u a b c </dev/null
	assert_status 0
	assert_output 'echo: a b c'
	# 3 prompt words, 4 reply words: 3*5 + 4*15 = 75 micro-dollars
	assert_stderr 'oai-chat: usage: 3 prompt + 4 completion = 7 tokens, $0.000075'
}

@test "--usage --no-stream uses the response's usage and a dated model name" {
	srv_queue '{"json": {"object": "chat.completion", "model": "gpt-3.5-turbo-0125",
		"choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}],
		"usage": {"prompt_tokens": 1000, "completion_tokens": 2000, "total_tokens": 3000}}}'
	run --separate-stderr oai-chat --usage --no-stream hi </dev/null
	assert_status 0
	assert_output ok
	assert_stderr 'oai-chat: usage: 1000 prompt + 2000 completion = 3000 tokens, $0.003500'
	assert_equal null "$(body 1 .stream_options)"
}

@test "OAI_PRICES adds and overrides prices" {
	printf '# prices\nmy-model 1 2\ngpt-4o 100 100  # override\n' >"$BATS_TEST_TMPDIR/prices"
	export OAI_PRICES=$BATS_TEST_TMPDIR/prices
	run --separate-stderr oai-chat -u -m my-model a </dev/null
	assert_status 0
	assert_stderr 'oai-chat: usage: 1 prompt + 2 completion = 3 tokens, $0.000005'
	run --separate-stderr oai-chat -u a </dev/null
	assert_stderr 'oai-chat: usage: 1 prompt + 2 completion = 3 tokens, $0.000300'
}

@test "-u when the server reports no usage says so" {
	srv_queue '{"sse": [{"choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": "stop"}]}], "sse_done": true}'
	run --separate-stderr oai-chat -u hi </dev/null
	assert_status 0
	assert_stderr 'oai-chat: usage: not reported by the server'
}

# ---- parameters ---------------------------------------------------------

@test "every model parameter reaches the body" {
	run --separate-stderr oai-chat -m gpt-4o-mini -t 0.7 --top-p 0.5 --max-tokens 100 \
		--stop END --stop STOP --seed -42 --frequency-penalty -1.5 --presence-penalty 2 hi </dev/null
	assert_status 0
	assert_equal '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true,"temperature":0.7,"top_p":0.5,"max_completion_tokens":100,"stop":["END","STOP"],"seed":-42,"frequency_penalty":-1.5,"presence_penalty":2}' \
		"$(srv_req_field 1 .body)"
}

@test "long option forms: --model --temperature --system" {
	run --separate-stderr oai-chat --model m1 --temperature 0 --system 'be brief' hi </dev/null
	assert_status 0
	assert_equal m1 "$(body 1 .model)"
	assert_equal 0 "$(body 1 .temperature)"
	assert_equal '[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]' "$(body 1 -c .messages)"
}

@test "OAI_CHAT_MODEL sets the default model; -m wins" {
	export OAI_CHAT_MODEL=env-model
	run oai-chat hi </dev/null
	assert_equal env-model "$(body 1 .model)"
	run oai-chat -m flag-model hi </dev/null
	assert_equal flag-model "$(body 2 .model)"
}

@test "out-of-range values are usage errors before any request" {
	local args
	for args in "-t 2.1" "-t -0.1" "--temperature x" "--top-p 1.5" "--max-tokens 0" \
		"--max-tokens 1.5" "--seed 9223372036854775808" "--frequency-penalty 2.5" \
		"--presence-penalty -3" "-m ''"; do
		eval "run --separate-stderr oai-chat $args hi" </dev/null
		assert_status 2
		assert_output ''
		[ -n "$stderr" ] || fail "no message for $args"
	done
	run --separate-stderr oai-chat --stop a --stop b --stop c --stop d --stop e hi </dev/null
	assert_status 2
	assert_stderr 'oai-chat: --stop: at most 4 stop sequences'
	run --separate-stderr oai-chat -t 3 hi </dev/null
	assert_stderr 'oai-chat: --temperature: 3 is out of range (0 to 2)'
	assert_equal 0 "$(srv_nreq)"
}

@test "--json-object asks for a JSON object" {
	run --separate-stderr oai-chat --dry-run --json-object 'reply in JSON' </dev/null
	assert_status 0
	assert_equal '{"type":"json_object"}' "$(jq -c .response_format <<<"$output")"
}

@test "--schema sends a strict json_schema named after the file" {
	printf '{\n  "type": "object",\n  "properties": {"a b": {"type": "string"}},\n  "required": ["a b"],\n  "additionalProperties": false\n}\n' \
		>"$BATS_TEST_TMPDIR/my.schema.json"
	srv_queue '{"sse": [{"choices": [{"index": 0, "delta": {"content": "{\"a b\":\"x\"}"}, "finish_reason": "stop"}]}], "sse_done": true}'
	run --separate-stderr oai-chat --schema "$BATS_TEST_TMPDIR/my.schema.json" hi </dev/null
	assert_status 0
	assert_output '{"a b":"x"}'
	assert_equal '{"type":"json_schema","json_schema":{"name":"my","schema":{"type":"object","properties":{"a b":{"type":"string"}},"required":["a b"],"additionalProperties":false},"strict":true}}' \
		"$(srv_req_field 1 .body | jq -c .response_format)"
}

@test "--schema with a bad file, and with --json-object, is a usage error" {
	echo '[1]' >"$BATS_TEST_TMPDIR/bad.json"
	run --separate-stderr oai-chat --schema "$BATS_TEST_TMPDIR/bad.json" hi </dev/null
	assert_status 2
	assert_stderr "oai-chat: $BATS_TEST_TMPDIR/bad.json: not a JSON schema object"
	run --separate-stderr oai-chat --schema "$BATS_TEST_TMPDIR/nope.json" hi </dev/null
	assert_status 2
	assert_stderr "oai-chat: $BATS_TEST_TMPDIR/nope.json: No such file or directory"
	echo '{}' >"$BATS_TEST_TMPDIR/ok.json"
	run --separate-stderr oai-chat --json-object --schema "$BATS_TEST_TMPDIR/ok.json" hi </dev/null
	assert_status 2
	assert_stderr 'oai-chat: --json-object and --schema exclude each other'
	assert_equal 0 "$(srv_nreq)"
}

# ---- --dry-run ----------------------------------------------------------

@test "--dry-run prints the exact body and sends nothing, without a key" {
	unset OPENAI_API_KEY
	run --separate-stderr oai-chat --dry-run -s sys -u "quote \" and é" </dev/null
	assert_status 0
	assert_stderr ''
	assert_output '{"model":"gpt-4o","messages":[{"role":"system","content":"sys"},{"role":"user","content":"quote \" and é"}],"stream":true,"stream_options":{"include_usage":true}}'
	assert_equal 0 "$(srv_nreq)"
}

@test "--dry-run bodies are valid CreateChatCompletionRequest objects" {
	local args out
	echo '{"type":"object","properties":{},"additionalProperties":false}' >"$BATS_TEST_TMPDIR/s.json"
	for args in "" "--no-stream" "-u -t 1 --top-p 1 --max-tokens 5 --stop x --seed 1" \
		"--json-object" "--schema $BATS_TEST_TMPDIR/s.json" "--image https://example.com/a.png -s s"; do
		out=$(oai-chat --dry-run $args hello </dev/null)
		[ -n "$out" ] || fail "--dry-run $args printed nothing"
		# required: model (string) and a non-empty messages array of
		# objects with a known role and string or array content
		jq -e '(.model | type == "string") and (.messages | type == "array" and length > 0)
			and all(.messages[]; (.role | IN("system","developer","user","assistant","tool"))
				and (.content | type | IN("string","array")))
			and ((.stream // false) | type == "boolean")
			and (if .stream_options then .stream == true else true end)
			and (if .response_format then .response_format.type | IN("text","json_object","json_schema") else true end)
			and (if .response_format.type == "json_schema" then (.response_format.json_schema.name | test("^[a-zA-Z0-9_-]{1,64}$")) else true end)
			and (if .temperature then .temperature >= 0 and .temperature <= 2 else true end)
			and (if .stop then (.stop | length) <= 4 else true end)' <<<"$out" >/dev/null ||
			fail "not a valid request for '$args': $out"
	done
}

# ---- prompt rules -----------------------------------------------------------

@test "stdin comes first, the argument text after it" {
	run --separate-stderr bash -c 'printf "diff --git a b\n+x\n" | oai-chat write a commit message'
	assert_status 0
	assert_equal 'diff --git a b
+x

write a commit message' "$(body 1 '.messages[0].content')"
}

@test "stdin alone is the prompt" {
	run --separate-stderr bash -c 'echo "from stdin" | oai-chat'
	assert_status 0
	assert_output 'echo: from stdin'
}

@test "no prompt at all is a usage error" {
	run --separate-stderr oai-chat </dev/null
	assert_status 2
	assert_stderr 'oai-chat: no prompt: give it as arguments or on standard input'
	run --separate-stderr oai-chat '' </dev/null
	assert_status 2
	assert_equal 0 "$(srv_nreq)"
}

@test "with an argument prompt and stdin a terminal, stdin is not read" {
	run script -qec "oai-chat --dry-run hello there" /dev/null </dev/null
	assert_status 0
	assert_output_contains '"messages":[{"role":"user","content":"hello there"}]'
}

@test "stdin that is not UTF-8 is a usage error" {
	run --separate-stderr bash -c 'printf "ab\377" | oai-chat hi'
	assert_status 2
	assert_stderr 'oai-chat: standard input: not valid UTF-8 at byte offset 2'
}

@test "-f and --file add files after stdin and before the arguments; - is stdin" {
	echo one >"$BATS_TEST_TMPDIR/a.txt"
	printf 'two\n\n' >"$BATS_TEST_TMPDIR/b.txt"
	run --separate-stderr bash -c "echo zero | oai-chat --dry-run -f '$BATS_TEST_TMPDIR/a.txt' --file '$BATS_TEST_TMPDIR/b.txt' three"
	assert_status 0
	assert_equal 'zero

one

two

three' "$(jq -r '.messages[0].content' <<<"$output")"
	# with -f -, stdin is that file rather than a prompt of its own
	run --separate-stderr bash -c "echo piped | oai-chat --dry-run -f '$BATS_TEST_TMPDIR/a.txt' -f -"
	assert_equal 'one

piped' "$(jq -r '.messages[0].content' <<<"$output")"
	run --separate-stderr oai-chat -f "$BATS_TEST_TMPDIR/missing" hi </dev/null
	assert_status 2
	assert_stderr "oai-chat: $BATS_TEST_TMPDIR/missing: No such file or directory"
}

@test "--image sends files as base64 data URLs with their media type, URLs as given" {
	printf '\211PNG\r\n\032\nrest' >"$BATS_TEST_TMPDIR/x.bin"
	printf '\377\330\377\340jpeg' >"$BATS_TEST_TMPDIR/y.jpg"
	run --separate-stderr oai-chat --dry-run --image "$BATS_TEST_TMPDIR/x.bin" \
		--image "$BATS_TEST_TMPDIR/y.jpg" --image https://example.com/z.webp 'what is this' </dev/null
	assert_status 0
	assert_equal "[{\"type\":\"text\",\"text\":\"what is this\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,$(base64 -w0 <"$BATS_TEST_TMPDIR/x.bin")\"}},{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/jpeg;base64,$(base64 -w0 <"$BATS_TEST_TMPDIR/y.jpg")\"}},{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/z.webp\"}}]" \
		"$(jq -c '.messages[0].content' <<<"$output")"
	echo text >"$BATS_TEST_TMPDIR/t.png"
	run --separate-stderr oai-chat --image "$BATS_TEST_TMPDIR/t.png" hi </dev/null
	assert_status 2
	assert_stderr "oai-chat: $BATS_TEST_TMPDIR/t.png: not a PNG, JPEG, GIF or WebP image"
}

@test "--messages sends a JSON array or JSONL from stdin as they are" {
	run --separate-stderr bash -c "printf '[{\"role\": \"system\", \"content\": \"s\"},\n {\"role\": \"user\", \"content\": \"q\"}]' | oai-chat --messages"
	assert_status 0
	assert_output 'echo: q'
	assert_equal '[{"role":"system","content":"s"},{"role":"user","content":"q"}]' "$(body 1 -c .messages)"
	run --separate-stderr bash -c "printf '{\"role\":\"user\",\"content\":\"a\"}\n\n{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"b\"}]}\n' | oai-chat --messages"
	assert_status 0
	assert_output 'echo: b'
	assert_equal 2 "$(body 2 '.messages | length')"
}

@test "--messages with bad input or a prompt is a usage error" {
	run --separate-stderr bash -c "echo '{\"content\":\"x\"}' | oai-chat --messages"
	assert_status 2
	assert_stderr 'oai-chat: standard input:1: not a JSON message object with a role'
	run --separate-stderr bash -c "echo '[1]' | oai-chat --messages"
	assert_status 2
	assert_stderr 'oai-chat: standard input: element 1 is not a message object with a role'
	run --separate-stderr bash -c "echo '[]' | oai-chat --messages"
	assert_status 2
	run --separate-stderr bash -c "echo '[]' | oai-chat --messages hi"
	assert_status 2
	assert_stderr 'oai-chat: --messages takes no prompt arguments'
	assert_equal 0 "$(srv_nreq)"
}

# ---- conversations -----------------------------------------------------

@test "-c keeps a conversation across runs" {
	conv=$BATS_TEST_TMPDIR/notes.jsonl
	run --separate-stderr oai-chat -c "$conv" first </dev/null
	assert_status 0
	assert_output 'echo: first'
	assert_equal '{"role":"user","content":"first"}
{"role":"assistant","content":"echo: first","model":"gpt-4o"}' "$(cat "$conv")"
	assert_equal 600 "$(stat -c %a "$conv")"
	run --separate-stderr oai-chat --conversation "$conv" -s sys "and then?" </dev/null
	assert_status 0
	assert_equal '[{"role":"system","content":"sys"},{"role":"user","content":"first"},{"role":"assistant","content":"echo: first"},{"role":"user","content":"and then?"}]' \
		"$(body 2 -c .messages)"
	assert_equal 4 "$(wc -l <"$conv")"
	assert_equal '{"role":"assistant","content":"echo: and then?","model":"gpt-4o"}' "$(tail -n1 "$conv")"
}

@test "-c appends nothing when the reply fails, is cut or refused" {
	conv=$BATS_TEST_TMPDIR/c.jsonl
	printf '{"role":"user","content":"old"}' >"$conv"	# no final newline
	srv_queue '{"cassette": "synthetic/error_500_server_error"}'
	run oai-chat --retries 0 -c "$conv" hi </dev/null
	assert_status 5
	srv_queue '{"sse": [{"choices": [{"index": 0, "delta": {"content": "half"}}]}]}'
	run oai-chat -c "$conv" hi </dev/null
	assert_status 5
	srv_queue '{"sse": [{"choices": [{"index": 0, "delta": {"refusal": "no"}}]}], "sse_done": true}'
	run oai-chat -c "$conv" hi </dev/null
	assert_status 1
	assert_equal '{"role":"user","content":"old"}' "$(cat "$conv")"
	run oai-chat -c "$conv" new </dev/null
	assert_status 0
	assert_equal '{"role":"user","content":"old"}
{"role":"user","content":"new"}
{"role":"assistant","content":"echo: new","model":"gpt-4o"}' "$(cat "$conv")"
}

@test "-c with a line that is not a message is a usage error" {
	printf '{"role":"user","content":"ok"}\nnot json\n' >"$BATS_TEST_TMPDIR/bad.jsonl"
	run --separate-stderr oai-chat -c "$BATS_TEST_TMPDIR/bad.jsonl" hi </dev/null
	assert_status 2
	assert_stderr "oai-chat: $BATS_TEST_TMPDIR/bad.jsonl:2: not a JSON message object with a role"
	assert_equal 0 "$(srv_nreq)"
}

@test "-c with --messages appends the given messages and the reply" {
	conv=$BATS_TEST_TMPDIR/m.jsonl
	run bash -c "echo '[{\"role\":\"user\",\"content\":\"q\"}]' | oai-chat --messages -c '$conv'"
	assert_status 0
	assert_equal '{"role":"user","content":"q"}
{"role":"assistant","content":"echo: q","model":"gpt-4o"}' "$(cat "$conv")"
}

# ---- interactive --------------------------------------------------------

@test "interactive: replies, /model, /system, /reset, /help, Ctrl-D; -c keeps it" {
	conv=$BATS_TEST_TMPDIR/i.jsonl
	run bash -c "printf 'hello\n/help\n/model other\n/system be nice\nagain\n/reset\nfresh\n/bogus\n' |
		script -qec 'oai-chat -c $conv' /dev/null"
	assert_status 0
	assert_output_contains 'echo: hello'
	assert_output_contains '/reset        start a new conversation'
	assert_output_contains 'echo: again'
	assert_output_contains 'echo: fresh'
	assert_output_contains 'unknown command /bogus'
	assert_equal 3 "$(srv_nreq)"
	assert_equal gpt-4o "$(body 1 .model)"
	assert_equal '[{"role":"system","content":"be nice"},{"role":"user","content":"hello"},{"role":"assistant","content":"echo: hello"},{"role":"user","content":"again"}]' \
		"$(body 2 -c .messages)"
	assert_equal other "$(body 2 .model)"
	assert_equal '[{"role":"system","content":"be nice"},{"role":"user","content":"fresh"}]' "$(body 3 -c .messages)"
	# /system put the system message first in the file
	assert_equal 7 "$(wc -l <"$conv")"
	assert_equal '{"role":"system","content":"be nice"}' "$(head -n1 "$conv")"
}

@test "interactive: an API error is reported and the chat goes on" {
	srv_queue '{"cassette": "synthetic/error_500_server_error"}'
	run bash -c "printf 'one\ntwo\n' | script -qec 'oai-chat --retries 0' /dev/null"
	assert_status 0
	assert_output_contains 'oai-chat: 500 server_error'
	assert_output_contains 'echo: two'
	assert_equal '[{"role":"user","content":"two"}]' "$(body 2 -c .messages)"
}

@test "interactive: Ctrl-C drops the line at the prompt, stops a reply (what came stays, in the context and the -c file), and the chat goes on" {
	load tmux
	srv_queue '{"sse": [{"choices": [{"index": 0, "delta": {"content": "slow"}}]},
		{"choices": [{"index": 0, "delta": {"content": " reply"}}]}], "sse_done": true,
		"stall_after": 70, "stall_ms": 30000}'
	tm chat "oai-chat -c '$BATS_TEST_TMPDIR/c.jsonl'; echo rc=\$?; sleep 30"
	wait_for '^>'
	tmux send-keys -t chat 'junk'
	wait_for '> junk'
	tmux send-keys -t chat C-c	# drops the line, stays
	tmux send-keys -t chat 'first' Enter
	wait_for 'slow'
	tmux send-keys -t chat C-c
	wait_for 'interrupted'
	tmux send-keys -t chat 'second' Enter
	wait_for 'echo: second'
	tmux send-keys -t chat C-d
	wait_for 'rc=0'
	tm_stop
	assert_equal '[{"role":"user","content":"first"}]' "$(body 1 -c .messages)"
	assert_equal '[{"role":"user","content":"first"},{"role":"assistant","content":"slow"},{"role":"user","content":"second"}]' "$(body 2 -c .messages)"
	assert_equal '{"role":"user","content":"first"}
{"role":"assistant","content":"slow","model":"gpt-4o"}
{"role":"user","content":"second"}
{"role":"assistant","content":"echo: second","model":"gpt-4o"}' "$(cat "$BATS_TEST_TMPDIR/c.jsonl")"
}

# ---- usage, help --------------------------------------------------------

@test "--help lists every option and exits 0" {
	run --separate-stderr oai-chat --help
	assert_status 0
	assert_stderr ''
	for o in --conversation --file --model --system --temperature --usage --dry-run \
		--frequency-penalty --image --json --json-object --max-tokens --messages \
		--no-stream --presence-penalty --schema --seed --stop --top-p --base-url \
		--api-key-file --timeout --retries --verbose --help --version; do
		assert_output_contains "$o "
	done
}

@test "an unknown option prints the usage with status 2" {
	run --separate-stderr oai-chat --bogus hi </dev/null
	assert_status 2
	assert_output ''
	assert_stderr_contains 'usage: oai-chat [-Cu] [-c file]'
}

@test "-c in a directory that does not exist is refused before the request" {
	run --separate-stderr oai-chat -c "$BATS_TEST_TMPDIR/nodir/c.jsonl" hi
	assert_status 2
	assert_stderr "oai-chat: $BATS_TEST_TMPDIR/nodir/c.jsonl: No such file or directory"
	assert_equal 0 "$(srv_nreq)"
}
