#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# The optional tier: every tool against real recorded API traffic
# (OAI_TEST_RECORDINGS=DIR, a folder with cassettes/ in the layout of
# tests/fixtures; tests/shared.sh).  The expected values are computed
# from the recordings themselves, so any faithful recording works.
# Without the recordings each test skips with one line saying what to set.
bats_require_minimum_version 1.5.0

setup_file() {
	load helper
	[ -n "$OAI_TEST_RECORDINGS" ] || return 0
	export SRV_CASSETTES=$OAI_TEST_RECORDINGS/cassettes
	srv_start
}
teardown_file() { load helper; [ -z "${SRV_PID:-}" ] || srv_stop; }
setup() {
	load helper
	[ -n "$OAI_TEST_RECORDINGS" ] || skip "$OAI_RECORDINGS_SKIP"
	srv_reset
	cd "$BATS_TEST_TMPDIR"
	REC=$OAI_TEST_RECORDINGS/cassettes
}

need() {	# need CASSETTE: skip when this recording is not in the folder
	[ -e "$REC/$1" ] || skip "recording $1 not in $REC"
}

body_of() {	# body_of NAME: the response body of a recording
	local d=$REC/$1
	[ -f "$d/response.body" ] || d=$REC/${1%/*}/0${1##*/}
	cat "$d/response.body"
}

# The text of a recorded chat stream: its content deltas joined.
stream_text() {
	body_of "$1" | sed -n 's/^data: //p' | tr -d '\r' | grep -v '^\[DONE\]$' |
		jq -j '.choices[0].delta.content // empty'
}

@test "recordings: oai-chat --no-stream prints the recorded reply" {
	need chat_basic
	srv_queue '{"cassette": "chat_basic"}'
	run --separate-stderr oai-chat --no-stream hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_output "$(body_of chat_basic | jq -r '.choices[0].message.content')"
}

@test "recordings: oai-chat prints recorded streams exactly, whole and byte by byte" {
	local c
	for c in chat_stream_2023_plain chat_stream_tool_calls_usage_2026/01; do
		need "${c%/*}"
		for chunk in 0 1; do
			if [ $chunk = 1 ]; then
				srv_queue "{\"cassette\": \"$c\", \"chunk\": 1}"
			else
				srv_queue "{\"cassette\": \"$c\"}"
			fi
			run --separate-stderr oai-chat hi </dev/null
			assert_status 0
			assert_stderr ''
			assert_output "$(stream_text "$c")"
		done
	done
}

@test "recordings: oai-chat prints a recorded streamed tool call as one JSON line" {
	need chat_stream_tool_calls_usage_2026
	srv_queue '{"cassette": "chat_stream_tool_calls_usage_2026/00"}'
	run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_stderr ''
	want=$(body_of chat_stream_tool_calls_usage_2026/00 | sed -n 's/^data: //p' |
		grep -v '^\[DONE\]' | jq -j '.choices[0].delta.tool_calls[0].function.arguments // empty')
	assert_equal "$want" "$(printf '%s' "$output" | jq -r .function.arguments)"
}

@test "recordings: a recorded stream cut every 97th byte is an exact prefix with status 5" {
	need chat_stream_2023_plain
	local raw=$REC/chat_stream_2023_plain/response.http len off st full n=0
	len=$(wc -c < "$raw")
	full=$(stream_text chat_stream_2023_plain)
	srv_queue "{\"cassette\": \"chat_stream_2023_plain\", \"close_after\": 0, \"close_after_step\": 97, \"repeat\": $(((len + 96) / 97))}"
	for ((off = 0; off < len; off += 97)); do
		st=0
		oai-chat --retries 0 hi </dev/null >out 2>err || st=$?
		[ "$st" = 5 ] && [ "$(wc -l < err)" = 1 ] && [[ $full == "$(cat out)"* ]] ||
			fail "cut after $off of $len bytes: status $st, stderr $(cat err)"
		n=$((n + 1))
	done
	assert_equal "$n" "$(srv_nreq)"
}

@test "recordings: recorded API errors are one line with the API's message and the documented status" {
	local c want st
	for c in error_401_invalid_api_key_chat:3 error_400_invalid_function_parameters:4 synthetic/error_500_server_error:5; do
		need "${c%:*}"
		srv_queue "{\"cassette\": \"${c%:*}\"}"
		run --separate-stderr oai-chat --retries 0 hi </dev/null
		assert_status "${c#*:}"
		assert_output ''
		want=$(body_of "${c%:*}" | jq -r .error.message)
		assert_stderr_contains "$want"
		assert_equal 1 "$(printf '%s\n' "$stderr" | wc -l)"
	done
	need error_404_model_not_found
	srv_queue '{"cassette": "error_404_model_not_found"}'
	run --separate-stderr oai-models fake_id
	assert_status 4
	assert_stderr_contains "$(body_of error_404_model_not_found | jq -r .error.message)"
}

@test "recordings: oai-models lists and retrieves what was recorded" {
	need models_list
	srv_queue '{"cassette": "models_list"}'
	run --separate-stderr oai-models
	assert_status 0
	assert_output "$(body_of models_list | jq -r '.data[].id' | LC_ALL=C sort)"
	need models_retrieve
	srv_queue '{"cassette": "models_retrieve"}'
	run --separate-stderr oai-models "$(body_of models_retrieve | jq -r .id)"
	assert_status 0
	assert_output "$(body_of models_retrieve | jq -r .id)"
}

@test "recordings: oai-embed decodes recorded base64 embeddings to the recorded floats" {
	local c dims
	for c in embeddings_base64_single embeddings_base64_3small_512; do
		need "$c"
		srv_queue "{\"cassette\": \"$c\"}"
		run --separate-stderr oai-embed --format f32 <<<'x'
		assert_status 0
		body_of "$c" | jq -r '.data[0].embedding' | base64 -d > want.f32
		srv_queue "{\"cassette\": \"$c\"}"
		oai-embed --format f32 <<<'x' > got.f32
		cmp want.f32 got.f32
	done
}

@test "recordings: oai-moderate reads the recorded result" {
	need moderation_omni_single
	srv_queue '{"cassette": "moderation_omni_single"}'
	run --separate-stderr oai-moderate --json <<<'x'
	want=$(body_of moderation_omni_single | jq -r '.results[0].flagged')
	[ "$want" = true ] && assert_status 1 || assert_status 0
	assert_equal "$(body_of moderation_omni_single | jq -c '.results[0].category_scores')" \
		"$(printf '%s' "$output" | jq -c .category_scores)"
}

@test "recordings: oai-transcribe prints every recorded format verbatim" {
	local f body
	head -c 2000 /dev/urandom > a.mp3
	for f in text json verbose_json srt vtt; do
		need "transcription_$f"
		srv_queue "{\"cassette\": \"transcription_$f\"}"
		oai-transcribe -f "$f" a.mp3 > "out.$f"
		body=$REC/transcription_$f/response.body
		if [ "$(tail -c1 "$body" | od -An -c | tr -d ' ')" = '\n' ]; then
			cmp "out.$f" "$body"
		else
			{ cat "$body"; echo; } | cmp "out.$f" -
		fi
	done
}

@test "recordings: oai-transcribe's multipart upload has the shape of a recorded one" {
	need transcription_whisper_json_multipart_2023
	local real=$REC/transcription_whisper_json_multipart_2023/request.json
	head -c 2000 /dev/urandom > hello.mp3
	run --separate-stderr oai-transcribe -f json hello.mp3
	assert_status 0
	disp() { grep -ao 'Content-Disposition: form-data; name="[a-z_]*"\(; filename="[^"]*"\)\?' |
		sed 's/filename="[^"]*"/filename="F"/' | grep -E 'name="(model|file)"'; }
	assert_equal "$(jq -r '.body.first_400_bytes_latin1' "$real" | disp)" \
		"$(srv_req_field 1 .body_b64 | base64 -d | disp)"
}

@test "recordings: oai-speak writes the recorded audio unchanged" {
	need speech_mp3
	srv_queue '{"cassette": "speech_mp3"}'
	oai-speak 'Hello' > out.mp3
	cmp out.mp3 "$REC/speech_mp3/response.body"
}
