# See LICENSE file for copyright and license details.
#
# Tests of the test server itself (tests/server.py) and of tests/helper.bash,
# so that the tool tests can trust them.

bats_require_minimum_version 1.5.0

setup_file() {
	load helper
	srv_start
}

teardown_file() {
	srv_stop
}

setup() {
	load helper
	srv_reset
	CAS=$OAI_CASSETTES
	T=$BATS_TEST_TMPDIR
}

# c ARGS...: curl quietly against the server (path relative to SRV_URL).
c() {
	local path=$1
	shift
	curl -sS "$SRV_URL$path" "$@"
}

@test "helper isolates the environment" {
	[ "$HOME" = "$BATS_TEST_TMPDIR/home" ]
	[ -d "$HOME" ]
	[ "$PATH" = "${OAI_TEST_BIN:-$ROOT/bin}:/usr/bin:/bin" ]
	[ "$OPENAI_BASE_URL" = "$SRV_URL/v1" ]
	# Only the harness's own OAI_ variables (tests/shared.sh) are left.
	[ -z "$(compgen -v OAI_ | grep -Evx 'OAI_TEST_[A-Z_]+|OAI_CASSETTES|OAI_SSE_VECTORS|OAI_OPENAPI_SPEC|OAI_FIXTURES|OAI_RECORDINGS_SKIP')" ]
	[ "$(compgen -v OPENAI_)" = OPENAI_BASE_URL ]
}

@test "health answers 200 and is not recorded" {
	run --separate-stderr curl -sS -w ' %{http_code}' "$SRV_URL/_ctl/health"
	assert_status 0
	assert_output '{"ok": true} 200'
	assert_stderr ''
	assert_equal 0 "$(srv_nreq)"
}

@test "records method, path, query, headers and body" {
	printf '{"x": "\303\251t\303\251"}' >"$T/body"
	c '/v1/anything?a=1&b=2' -o /dev/null -H 'Authorization: Bearer sk-test' \
		-H 'X-Custom: yes' -H 'Content-Type: application/json' \
		--data-binary @"$T/body"
	assert_equal 1 "$(srv_nreq)"
	assert_equal 1 "$(srv_req_field 1 .n)"
	assert_equal POST "$(srv_req_field 1 .method)"
	assert_equal /v1/anything "$(srv_req_field 1 .path)"
	assert_equal 'a=1&b=2' "$(srv_req_field 1 .query)"
	assert_equal 'Bearer sk-test' "$(srv_req_field 1 .headers.authorization)"
	assert_equal yes "$(srv_req_field 1 '.headers["x-custom"]')"
	assert_equal "$(cat "$T/body")" "$(srv_req_field 1 .body)"
	assert_equal "$(base64 -w0 "$T/body")" "$(srv_req_field 1 .body_b64)"
	assert_equal "$(wc -c <"$T/body")" "$(srv_req_field 1 .body_size)"
	assert_equal "$(sha256sum "$T/body" | cut -d' ' -f1)" \
		"$(srv_req_field 1 .body_sha256)"
}

@test "binary body is recorded with body null" {
	printf '\377\376\000x' >"$T/bin"
	c /v1/x -o /dev/null --data-binary @"$T/bin"
	assert_equal null "$(srv_req_field -1 .body)"
	assert_equal "$(base64 -w0 "$T/bin")" "$(srv_req_field -1 .body_b64)"
	assert_equal 4 "$(srv_req_field -1 .body_size)"
}

@test "srv_req counts from 1 and from the end" {
	c /v1/one -o /dev/null
	c /v1/two -o /dev/null
	c /v1/three -o /dev/null
	assert_equal /v1/one "$(srv_req_field 1 .path)"
	assert_equal /v1/three "$(srv_req_field -1 .path)"
	assert_equal /v1/two "$(srv_req_field -2 .path)"
	run srv_req 4
	assert_status 1
	run srv_req -4
	assert_status 1
	run srv_req 0
	assert_status 1
}

@test "x-request-id numbers the requests" {
	run c /v1/models -o /dev/null -D -
	assert_output_contains $'x-request-id: req_test_1\r'
	run c /v1/models -o /dev/null -D -
	assert_output_contains $'x-request-id: req_test_2\r'
}

@test "queue pops in order, then the default handler answers" {
	srv_queue '{"body": "one"}' '{"body": "two"}'
	assert_equal one "$(c /v1/x)"
	assert_equal two "$(c /v1/x)"
	run c /v1/x -w '%{http_code}'
	assert_output_contains '"Invalid URL (GET /v1/x)"'
	[[ $output == *$'}\n404' ]]
}

@test "queue accepts an array of specs" {
	srv_queue '[{"body": "a"}, {"body": "b", "status": 201}]'
	assert_equal 'a 200' "$(c /v1/x -w ' %{http_code}')"
	assert_equal 'b 201' "$(c /v1/x -w ' %{http_code}')"
}

@test "queue rejects bad specs" {
	run srv_queue 'not json'
	assert_status 1
	run srv_queue '[1, 2]'
	assert_status 1
}

@test "path and method select a spec; others stay queued in order" {
	srv_queue '{"path": "/v1/embeddings", "body": "E"}' \
		'{"method": "POST", "body": "P"}' '{"body": "A"}'
	assert_equal A "$(c /v1/models)"
	assert_equal P "$(c /v1/models -d x)"
	assert_equal E "$(c /v1/embeddings -d x)"
	assert_equal '[]' "$(c /_ctl/queue)"
}

@test "repeat serves a spec N times" {
	srv_queue '{"body": "R", "repeat": 3}' '{"body": "after"}'
	assert_equal R "$(c /v1/x)"
	assert_equal R "$(c /v1/x)"
	assert_equal R "$(c /v1/x)"
	assert_equal after "$(c /v1/x)"
}

@test "reset clears queue and request log" {
	srv_queue '{"body": "stale"}'
	c /v1/x -o /dev/null
	srv_queue '{"body": "stale"}'
	srv_reset
	assert_equal 0 "$(srv_nreq)"
	assert_equal '[]' "$(c /_ctl/queue)"
	run c /v1/models -D -
	assert_output_contains 'x-request-id: req_test_1'
}

@test "status, headers, json and body_b64" {
	srv_queue '{"status": 429, "headers": {"Retry-After": "7", "X-Request-ID": null}, "json": {"error": {"message": "slow down"}}}'
	run c /v1/chat/completions -d '{}' -i
	assert_output_contains $'HTTP/1.1 429 Too Many Requests\r'
	assert_output_contains $'Retry-After: 7\r'
	assert_output_contains $'Content-Type: application/json\r'
	refute_output_contains 'x-request-id'
	assert_output_contains '{"error": {"message": "slow down"}}'
	srv_queue '{"body_b64": "AAEC/w=="}'
	c /v1/x -o "$T/out"
	assert_equal '000102ff' "$(od -An -tx1 "$T/out" | tr -d ' \n')"
}

@test "bad_json sends a truncated JSON body" {
	srv_queue '{"bad_json": true, "status": 500}'
	run c /v1/models -w ' %{http_code}'
	assert_output '{"error":  500'
}

@test "cassette replays response.http byte for byte" {
	srv_queue '{"cassette": "models_list"}' \
		'{"cassette": "error_404_model_not_found"}'
	c /v1/models -i -o "$T/a"
	cmp "$T/a" "$CAS/models_list/response.http"
	c /v1/models/fake_id -i -o "$T/b"
	cmp "$T/b" "$CAS/error_404_model_not_found/response.http"
}

@test "cassette name/N picks exchange N of a recording" {
	srv_queue '{"cassette": "chat_tool_calls_parallel/1"}' \
		'{"cassette": "chat_tool_calls_parallel"}'
	c /v1/chat/completions -d '{}' -i -o "$T/a"
	cmp "$T/a" "$CAS/chat_tool_calls_parallel/01/response.http"
	c /v1/chat/completions -d '{}' -i -o "$T/b"
	cmp "$T/b" "$CAS/chat_tool_calls_parallel/00/response.http"
}

@test "a missing cassette is a 500 from the server, not a hang" {
	srv_queue '{"cassette": "no_such_thing"}'
	run c /v1/models -w '%{http_code}' --max-time 5
	assert_status 0
	assert_output_contains 'no cassette'
	[[ $output == *$'}\n500' ]]
}

@test "connections are kept alive across requests" {
	run curl -sS -o /dev/null -o /dev/null -w '%{num_connects}\n' \
		"$SRV_URL/v1/models" "$SRV_URL/v1/models/gpt-4"
	assert_status 0
	assert_output $'1\n0'
}

@test "chunk and chunk_delay_ms pace the body; the bytes are intact" {
	srv_queue '{"body": "abcdefgh", "chunk": 3, "chunk_delay_ms": 150}'
	run c /v1/x -w ' %{time_total}'
	assert_status 0
	[[ $output == 'abcdefgh '* ]]
	# Three pieces, two pauses.
	awk -v t="${output#* }" 'BEGIN { exit !(t >= 0.3) }'
	srv_queue '{"body": "abcdefgh", "chunks": [1, 2]}'
	assert_equal abcdefgh "$(c /v1/x)"
}

@test "close_after cuts the body; curl reports a partial transfer (18)" {
	srv_queue '{"body": "0123456789", "close_after": 4}'
	run --separate-stderr c /v1/x -D "$T/h"
	assert_status 18
	assert_output 0123
	grep -q $'^Content-Length: 10\r$' "$T/h"
}

@test "close_after cuts a cassette's raw response" {
	# 765 bytes of headers, then 835 of body: cut in the body.
	srv_queue '{"cassette": "chat_basic", "close_after": 900}'
	run --separate-stderr c /v1/chat/completions -d '{}' -i -o "$T/out"
	assert_status 18
	cmp "$T/out" <(head -c 900 "$CAS/chat_basic/response.http")
}

@test "sse events are streamed chunked and end with [DONE]" {
	srv_queue '{"sse": ["a", "{\"b\": 1}"], "sse_done": true}'
	run c /v1/chat/completions -d '{}' -D "$T/h"
	assert_status 0
	assert_output $'data: a\n\ndata: {"b": 1}\n\ndata: [DONE]'
	grep -q $'^Transfer-Encoding: chunked\r$' "$T/h"
	grep -q $'^Content-Type: text/event-stream; charset=utf-8\r$' "$T/h"
	srv_queue '{"sse": ["a"], "crlf": true}'
	c /v1/x -o "$T/crlf"
	cmp "$T/crlf" <(printf 'data: a\r\n\r\n')
}

@test "a cut stream is a partial transfer, chunked or not" {
	srv_queue '{"sse": ["a", "b"], "sse_done": true, "close_after": 12}'
	run --separate-stderr c /v1/x
	assert_status 18
	assert_output $'data: a\n\ndat'
	srv_queue '{"sse": ["a"], "framing": "close"}'
	run --separate-stderr c /v1/x -D "$T/h"
	assert_status 0
	grep -q $'^Connection: close\r$' "$T/h"
}

@test "stall_ms pauses after stall_after bytes; delay_ms before headers" {
	srv_queue '{"body": "0123456789", "stall_after": 2, "stall_ms": 2000}'
	run --separate-stderr c /v1/x --max-time 0.5
	assert_status 28
	assert_output 01
	srv_queue '{"body": "x", "delay_ms": 2000}'
	run --separate-stderr c /v1/x --max-time 0.5 -D "$T/h"
	assert_status 28
	[ ! -s "$T/h" ]
}

@test "multipart form fields and files are parsed" {
	head -c 3000 /dev/urandom >"$T/audio.mp3"
	c /v1/audio/transcriptions -o /dev/null -F model=whisper-1 \
		-F 'file=@'"$T/audio.mp3"';type=audio/mpeg' \
		-F 'include[]=logprobs' -F 'include[]=x' -F $'note=h\303\251'
	assert_equal whisper-1 "$(srv_req_field 1 .form.model)"
	assert_equal 'logprobs x' "$(srv_req_field 1 '.form["include[]"] | join(" ")')"
	assert_equal 'hé' "$(srv_req_field 1 .form.note)"
	assert_equal audio.mp3 "$(srv_req_field 1 .files.file.filename)"
	assert_equal audio/mpeg "$(srv_req_field 1 .files.file.content_type)"
	assert_equal 3000 "$(srv_req_field 1 .files.file.size)"
	assert_equal "$(sha256sum "$T/audio.mp3" | cut -d' ' -f1)" \
		"$(srv_req_field 1 .files.file.sha256)"
}

@test "chunked request bodies and Expect: 100-continue" {
	head -c 200000 /dev/urandom >"$T/big"
	run c /v1/x -o /dev/null -w '%{time_total}' \
		-H 'Transfer-Encoding: chunked' -H 'Expect: 100-continue' \
		--data-binary @"$T/big"
	assert_status 0
	# Without a 100 Continue curl would wait a whole second.
	awk -v t="$output" 'BEGIN { exit !(t < 0.9) }'
	assert_equal chunked "$(srv_req_field 1 '.headers["transfer-encoding"]')"
	assert_equal 200000 "$(srv_req_field 1 .body_size)"
	assert_equal "$(sha256sum "$T/big" | cut -d' ' -f1)" \
		"$(srv_req_field 1 .body_sha256)"
}

@test "default models list and model retrieve" {
	c /v1/models -o "$T/list"
	cmp "$T/list" "$CAS/models_list/response.body"
	run c /v1/models/gpt-4
	assert_output '{
  "id": "gpt-4",
  "object": "model",
  "created": 1687882411,
  "owned_by": "openai"
}'
	c /v1/models/fake_id -o "$T/404" -w '%{http_code}' >"$T/code"
	cmp "$T/404" "$CAS/error_404_model_not_found/response.body"
	assert_equal 404 "$(cat "$T/code")"
}

@test "default chat echoes the last message" {
	run c /v1/chat/completions -d '{"model": "m", "messages": [{"role": "user", "content": "hi"}, {"role": "user", "content": [{"type": "text", "text": "a "}, {"type": "image_url", "image_url": {}}, {"type": "text", "text": "b"}]}]}'
	assert_equal 'echo: a b' "$(jq -r '.choices[0].message.content' <<<"$output")"
	assert_equal chat.completion "$(jq -r .object <<<"$output")"
	assert_equal stop "$(jq -r '.choices[0].finish_reason' <<<"$output")"
	assert_equal 3 "$(jq -r .usage.prompt_tokens <<<"$output")"
}

@test "default chat stream: role, word deltas, stop, usage, [DONE]" {
	run c /v1/chat/completions -d '{"model": "m", "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "hello  big world"}]}'
	assert_status 0
	[[ $output == *$'\n\ndata: [DONE]' ]]
	grep '^data: {' <<<"$output" | cut -c7- >"$T/ev"
	assert_equal assistant "$(jq -r 'select(.choices[0].delta.role) | .choices[0].delta.role' "$T/ev")"
	assert_equal 'echo: hello  big world' \
		"$(jq -j '.choices[0].delta.content // empty' "$T/ev")"
	assert_equal '"echo:"," hello","  big"," world"' \
		"$(jq -c '.choices[0].delta.content // empty' "$T/ev" | sed 1d | paste -sd,)"
	assert_equal stop "$(jq -r '.choices[0].finish_reason // empty' "$T/ev")"
	assert_equal 7 "$(jq -r '.usage.total_tokens // empty' "$T/ev")"
}

@test "default embeddings: floats or base64 of dimensions float32" {
	run c /v1/embeddings -d '{"model": "e", "input": ["a b", "c"]}'
	assert_equal '8 8' "$(jq -r '[.data[].embedding | length] | join(" ")' <<<"$output")"
	assert_equal 3 "$(jq -r .usage.prompt_tokens <<<"$output")"
	jq -e '[.data[].embedding[] | select(. < -1 or . > 1)] == []' <<<"$output"
	a=$(jq -c '.data[0].embedding' <<<"$output")
	run c /v1/embeddings -d '{"input": "a b", "encoding_format": "base64", "dimensions": 5}'
	jq -r '.data[0].embedding' <<<"$output" | base64 -d >"$T/vec"
	assert_equal 20 "$(wc -c <"$T/vec")"
	# Deterministic: same text, same values whatever the format.
	run c /v1/embeddings -d '{"input": "a b", "encoding_format": "base64"}'
	b=$(jq -r '.data[0].embedding' <<<"$output" | base64 -d |
		python3 -c 'import sys, struct, json; d = sys.stdin.buffer.read(); print(json.dumps(list(struct.unpack("<8f", d)), separators=(",", ":")))')
	assert_equal "$a" "$b"
}

@test "default moderation flags kill" {
	run c /v1/moderations -d '{"input": ["I will kill it", "nice day"]}'
	assert_equal 'true false' "$(jq -r '[.results[].flagged] | join(" ")' <<<"$output")"
	assert_equal 0.9 "$(jq -r '.results[0].category_scores.violence' <<<"$output")"
	assert_equal true "$(jq -r '.results[0].categories.violence' <<<"$output")"
	assert_equal 13 "$(jq -r '.results[1].category_applied_input_types | length' <<<"$output")"
}

@test "default speech: size, content type, WAV header" {
	run c /v1/audio/speech -d '{"input": "hello"}' -o "$T/a" -w '%{content_type} %{size_download}'
	assert_output 'audio/mpeg 640'
	assert_equal fff3 "$(head -c2 "$T/a" | od -An -tx1 | tr -d ' \n')"
	srv_queue '{"path": "/v1/audio/speech", "size": 1000}'
	run c /v1/audio/speech -d '{"input": "hello", "response_format": "wav"}' -o "$T/w" -w '%{content_type} %{size_download}'
	assert_output 'audio/wav 1000'
	assert_equal RIFF "$(head -c4 "$T/w")"
	# RIFF size = file - 8, data size = file - 44, both little-endian.
	assert_equal 992 "$(od -An -tu4 -j4 -N4 "$T/w" | tr -d ' ')"
	assert_equal 956 "$(od -An -tu4 -j40 -N4 "$T/w" | tr -d ' ')"
}

@test "default transcription formats and stream" {
	printf 'abc' >"$T/x.wav"
	run c /v1/audio/transcriptions -F file=@"$T/x.wav" -F response_format=text
	assert_output 'fake transcript of x.wav (3 bytes)'
	run c /v1/audio/translations -F file=@"$T/x.wav"
	assert_equal 'fake transcript of x.wav (3 bytes)' "$(jq -r .text <<<"$output")"
	run c /v1/audio/transcriptions -F file=@"$T/x.wav" -F response_format=vtt
	[[ $output == WEBVTT* ]]
	c /v1/audio/transcriptions -F file=@"$T/x.wav" -F stream=true -o "$T/s"
	grep -q $'^data: {"type":"transcript.text.delta","delta":"fake"}\r$' "$T/s"
	tr -d '\r' <"$T/s" | grep '^data: ' | tail -n 1 | cut -c7- >"$T/done"
	assert_equal transcript.text.done "$(jq -r .type "$T/done")"
	run c /v1/audio/transcriptions -d '{}' -o /dev/null -w '%{http_code}'
	assert_output 400
}

@test "server exits 0 on SIGTERM" {
	python3 "$ROOT/tests/server.py" --dir "$T/s2" 3>&- &
	pid=$!
	for i in $(seq 300); do [ -s "$T/s2/port" ] && break; sleep 0.01; done
	curl -sS "http://127.0.0.1:$(cat "$T/s2/port")/_ctl/health" >/dev/null
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	assert_equal 0 "$rc"
}
