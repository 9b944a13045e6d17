#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-transcribe: multipart upload (compared with a real one), formats,
# options, streaming, stdin, limits and failures.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	cd "$BATS_TEST_TMPDIR"
	cp "$CASS/speech_mp3/response.body" hello.mp3
	SHA=$(sha256sum hello.mp3 | cut -d' ' -f1)
	SIZE=$(wc -c < hello.mp3)
}

CASS=$BATS_TEST_DIRNAME/fixtures

# file_req JQ: a field of the last request's uploaded file
file_req() { srv_req_field -1 ".files.file.$1"; }

@test "oai-transcribe uploads the file and prints the text" {
	run --separate-stderr oai-transcribe hello.mp3
	assert_status 0
	assert_stderr ''
	assert_output "fake transcript of hello.mp3 ($SIZE bytes)"
	assert_equal POST "$(srv_req_field 1 .method)"
	assert_equal /v1/audio/transcriptions "$(srv_req_field 1 .path)"
	assert_equal whisper-1 "$(srv_req_field 1 .form.model)"
	assert_equal text "$(srv_req_field 1 .form.response_format)"
	assert_equal hello.mp3 "$(file_req filename)"
	assert_equal audio/mpeg "$(file_req content_type)"
	assert_equal "$SIZE" "$(file_req size)"
	assert_equal "$SHA" "$(file_req sha256)"
	assert_equal 1 "$(srv_nreq)"
}

@test "oai-transcribe's multipart request has the shape of the real one" {
	real=$CASS/transcription_multipart/request.json
	run --separate-stderr oai-transcribe -f json hello.mp3
	assert_status 0
	# Content type: multipart/form-data with a boundary, as recorded.
	[[ $(jq -r '.headers["Content-Type"]' "$real") == "multipart/form-data; boundary="* ]]
	[[ $(srv_req_field 1 '.headers["content-type"]') == "multipart/form-data; boundary="* ]]
	# The same Content-Disposition lines for model and file (the file
	# name aside), in the same order.
	disp() { grep -ao 'Content-Disposition: form-data; name="[a-z_]*"\(; filename="[^"]*"\)\?' |
		sed 's/filename="[^"]*"/filename="F"/' | grep -E 'name="(model|file)"'; }
	want=$(jq -r '.body.first_400_bytes_latin1' "$real" | disp)
	got=$(srv_req_field 1 .body_b64 | base64 -d | disp)
	assert_equal "$want" "$got"
	# Both send a file name with its extension, and the model as text.
	[[ $(jq -r '.body.first_400_bytes_latin1' "$real") == *'filename="audio_sample.mp3"'* ]]
	srv_req_field 1 .body_b64 | base64 -d | grep -aq '^Content-Disposition: form-data; name="file"; filename="hello.mp3"'
	srv_req_field 1 .body_b64 | base64 -d | grep -aq '^Content-Type: audio/mpeg'
	assert_equal whisper-1 "$(srv_req_field 1 .form.model)"
	assert_equal json "$(srv_req_field 1 .form.response_format)"
}

# Every recorded format comes out exactly as the API sent it (a final
# newline added when the body has none).
@test "oai-transcribe -f prints each recorded format verbatim" {
	for f in text json verbose_json srt vtt; do
		srv_queue "{\"cassette\": \"transcription_$f\"}"
		oai-transcribe -f "$f" hello.mp3 > "out.$f"
		body=$CASS/transcription_$f/response.body
		if [ "$(tail -c1 "$body" | od -An -c | tr -d ' ')" = '\n' ]; then
			cmp "out.$f" "$body"
		else
			{ cat "$body"; echo; } | cmp "out.$f" -
		fi
		assert_equal "$f" "$(srv_req_field -1 .form.response_format)"
	done
	assert_equal 5 "$(srv_nreq)"
}

@test "oai-transcribe --format is -f; a bad format is a usage error" {
	run --separate-stderr oai-transcribe --format srt hello.mp3
	assert_status 0
	assert_equal srt "$(srv_req_field 1 .form.response_format)"
	run --separate-stderr oai-transcribe -f mp3 hello.mp3
	assert_status 2
	assert_stderr "oai-transcribe: --format: 'mp3' is not one of text, json, verbose_json, srt, vtt"
	assert_output ''
	assert_equal 1 "$(srv_nreq)"
}

@test "oai-transcribe -l, --prompt, -t, -m are sent as form fields" {
	run --separate-stderr oai-transcribe -l en --prompt 'Zürich, GmbH' -t 0.2 \
		-m gpt-4o-mini-transcribe hello.mp3
	assert_status 0
	assert_stderr ''
	assert_equal en "$(srv_req_field 1 .form.language)"
	assert_equal 'Zürich, GmbH' "$(srv_req_field 1 .form.prompt)"
	assert_equal 0.2 "$(srv_req_field 1 .form.temperature)"
	assert_equal gpt-4o-mini-transcribe "$(srv_req_field 1 .form.model)"
	run --separate-stderr oai-transcribe --language fr --temperature 1 --model whisper-1 hello.mp3
	assert_status 0
	assert_equal fr "$(srv_req_field 2 .form.language)"
	assert_equal 1 "$(srv_req_field 2 .form.temperature)"
}

@test "oai-transcribe -t sends the number it checked, in decimal" {
	# strtod reads hex and exponents; the API wants a plain decimal
	run --separate-stderr oai-transcribe -t 0x1p-1 hello.mp3
	assert_status 0
	assert_stderr ''
	assert_equal 0.5 "$(srv_req_field 1 .form.temperature)"
	run --separate-stderr oai-transcribe -t 2e-1 hello.mp3
	assert_status 0
	assert_equal 0.2 "$(srv_req_field 2 .form.temperature)"
}

@test "oai-transcribe rejects bad -t, -l, -m and --prompt before uploading" {
	run --separate-stderr oai-transcribe -t 2 hello.mp3
	assert_status 2
	assert_stderr 'oai-transcribe: --temperature: 2 is out of range (0 to 1)'
	run --separate-stderr oai-transcribe -t x hello.mp3
	assert_status 2
	assert_stderr "oai-transcribe: --temperature: 'x' is not a number"
	run --separate-stderr oai-transcribe -l 'e n' hello.mp3
	assert_status 2
	assert_stderr "oai-transcribe: --language: invalid language 'e n' (an ISO-639-1 code such as en)"
	run --separate-stderr oai-transcribe -m '' hello.mp3
	assert_status 2
	assert_stderr 'oai-transcribe: --model: empty model name'
	run --separate-stderr oai-transcribe --prompt $'a\xff' hello.mp3
	assert_status 2
	assert_stderr 'oai-transcribe: --prompt: not valid UTF-8 at byte offset 1'
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-transcribe --timestamps sends timestamp_granularities[] with verbose_json" {
	run --separate-stderr oai-transcribe -f verbose_json --timestamps word \
		--timestamps segment hello.mp3
	assert_status 0
	assert_stderr ''
	assert_equal '["segment","word"]' "$(srv_req_field 1 '.form["timestamp_granularities[]"] | tojson')"
	assert_equal hello.mp3 "$(jq -r '.words[3].word' <<<"$output")"
	run --separate-stderr oai-transcribe -f verbose_json --timestamps segment hello.mp3
	assert_status 0
	assert_equal segment "$(srv_req_field 2 '.form["timestamp_granularities[]"]')"
}

@test "oai-transcribe --timestamps needs verbose_json and word or segment" {
	run --separate-stderr oai-transcribe --timestamps word hello.mp3
	assert_status 2
	assert_stderr 'oai-transcribe: --timestamps needs -f verbose_json'
	run --separate-stderr oai-transcribe -f json --timestamps word hello.mp3
	assert_status 2
	assert_stderr 'oai-transcribe: --timestamps needs -f verbose_json'
	run --separate-stderr oai-transcribe -f verbose_json --timestamps char hello.mp3
	assert_status 2
	assert_stderr "oai-transcribe: --timestamps: 'char' is not one of word, segment"
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-transcribe --translate uses the translations endpoint" {
	run --separate-stderr oai-transcribe --translate --prompt hi hello.mp3
	assert_status 0
	assert_stderr ''
	assert_output "fake transcript of hello.mp3 ($SIZE bytes)"
	assert_equal /v1/audio/translations "$(srv_req_field 1 .path)"
	assert_equal hi "$(srv_req_field 1 .form.prompt)"
	assert_equal "$SHA" "$(file_req sha256)"
}

@test "oai-transcribe --translate refuses -l, --timestamps and --stream" {
	run --separate-stderr oai-transcribe --translate -l de hello.mp3
	assert_status 2
	assert_stderr 'oai-transcribe: --translate takes no -l'
	run --separate-stderr oai-transcribe --translate -f verbose_json --timestamps word hello.mp3
	assert_status 2
	assert_stderr 'oai-transcribe: --translate takes no --timestamps'
	run --separate-stderr oai-transcribe --translate --stream -m gpt-4o-transcribe hello.mp3
	assert_status 2
	assert_stderr 'oai-transcribe: --translate takes no --stream'
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-transcribe - reads stdin, named by --filename, uploaded intact" {
	head -c 3000000 /dev/urandom > big.wav
	sha=$(sha256sum big.wav | cut -d' ' -f1)
	run --separate-stderr oai-transcribe --filename talk.wav - < big.wav
	assert_status 0
	assert_stderr ''
	assert_output 'fake transcript of talk.wav (3000000 bytes)'
	assert_equal talk.wav "$(file_req filename)"
	assert_equal audio/wav "$(file_req content_type)"
	assert_equal 3000000 "$(file_req size)"
	assert_equal "$sha" "$(file_req sha256)"
	# from a pipe too
	cat big.wav | oai-transcribe --filename talk.wav - > /dev/null
	assert_equal "$sha" "$(file_req sha256)"
}

@test "oai-transcribe - without --filename, or a bad --filename, is refused" {
	run --separate-stderr oai-transcribe - < hello.mp3
	assert_status 2
	assert_stderr 'oai-transcribe: reading standard input needs --filename NAME.EXT, so that the API knows the audio format'
	run --separate-stderr oai-transcribe --filename talk.txt - < hello.mp3
	assert_status 2
	assert_stderr "oai-transcribe: --filename: 'talk.txt' needs an extension the API knows (flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg, wav, webm)"
	run --separate-stderr oai-transcribe --filename a/b.mp3 - < hello.mp3
	assert_status 2
	assert_stderr "oai-transcribe: --filename: 'a/b.mp3' is not a file name"
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-transcribe --filename renames a file's upload" {
	run --separate-stderr oai-transcribe --filename meeting.mp3 hello.mp3
	assert_status 0
	assert_equal meeting.mp3 "$(file_req filename)"
	assert_equal "$SHA" "$(file_req sha256)"
}

@test "oai-transcribe gives a file without extension one from its content" {
	cp hello.mp3 recording
	run --separate-stderr oai-transcribe recording
	assert_status 0
	assert_equal recording.mp3 "$(file_req filename)"
	printf 'RIFF\0\0\0\0WAVEfmt ' > sound
	run --separate-stderr oai-transcribe sound
	assert_status 0
	assert_equal sound.wav "$(file_req filename)"
	assert_equal audio/wav "$(file_req content_type)"
	echo 'not audio' > notes
	run --separate-stderr oai-transcribe notes
	assert_status 2
	assert_stderr 'oai-transcribe: notes: cannot tell the audio format; name it with --filename NAME.EXT (flac, m4a, mp3, mp4, mpeg, mpga, ogg, wav, webm)'
	assert_equal 2 "$(srv_nreq)"
}

@test "oai-transcribe refuses a file over 25 MB before uploading" {
	truncate -s 26214401 big.mp3
	run --separate-stderr oai-transcribe big.mp3
	assert_status 2
	assert_stderr "oai-transcribe: big.mp3: 26214401 bytes is over the API's 25 MB (26214400 bytes) limit; split the audio first, e.g. with ffmpeg -f segment"
	assert_output ''
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-transcribe refuses stdin redirected from a file over 25 MB" {
	truncate -s 26214401 big.mp3
	run --separate-stderr oai-transcribe --filename big.mp3 - < big.mp3
	assert_status 2
	assert_stderr "oai-transcribe: standard input: 26214401 bytes is over the API's 25 MB (26214400 bytes) limit; split the audio first, e.g. with ffmpeg -f segment"
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-transcribe uploads a file of exactly 25 MB" {
	truncate -s 26214400 edge.mp3
	run --separate-stderr oai-transcribe edge.mp3
	assert_status 0
	assert_equal 26214400 "$(file_req size)"
}

@test "oai-transcribe: missing, empty or directory files are usage errors" {
	run --separate-stderr oai-transcribe nope.mp3
	assert_status 2
	assert_stderr 'oai-transcribe: nope.mp3: No such file or directory'
	: > empty.mp3
	run --separate-stderr oai-transcribe empty.mp3
	assert_status 2
	assert_stderr 'oai-transcribe: empty.mp3: empty file'
	mkdir d.mp3
	run --separate-stderr oai-transcribe d.mp3
	assert_status 2
	assert_stderr 'oai-transcribe: d.mp3: is a directory'
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-transcribe: no file, two files, unknown option: usage" {
	run --separate-stderr oai-transcribe
	assert_status 2
	assert_output ''
	assert_stderr_contains 'usage: oai-transcribe [-u] [-f format]'
	run --separate-stderr oai-transcribe a.mp3 b.mp3
	assert_status 2
	assert_stderr_contains 'usage: oai-transcribe'
	run --separate-stderr oai-transcribe --bogus hello.mp3
	assert_status 2
	assert_stderr_contains 'usage: oai-transcribe'
}

@test "oai-transcribe --help lists every option" {
	run --separate-stderr oai-transcribe --help
	assert_status 0
	assert_stderr ''
	for o in -f, --format -l, --language -m, --model -t, --temperature \
		--filename --prompt --stream --timestamps --translate --base-url \
		--api-key-file --timeout --retries --verbose --help --version; do
		assert_output_contains " $o"
	done
	run --separate-stderr oai-transcribe -h
	assert_status 0
	assert_output_contains 'usage: oai-transcribe'
}

@test "oai-transcribe --stream prints the deltas (CRLF events) and a newline" {
	run --separate-stderr oai-transcribe --stream -m gpt-4o-transcribe hello.mp3
	assert_status 0
	assert_stderr ''
	assert_output "fake transcript of hello.mp3 ($SIZE bytes)"
	assert_equal true "$(srv_req_field 1 .form.stream)"
	assert_equal null "$(srv_req_field 1 .form.response_format)"
	assert_equal text/event-stream "$(srv_req_field 1 .headers.accept)"
	assert_equal "$SHA" "$(file_req sha256)"
}

@test "oai-transcribe --stream writes each delta as it arrives" {
	srv_queue '{"crlf": true, "chunk_delay_ms": 300, "sse": [
		{"type": "transcript.text.delta", "delta": "Hello"},
		{"type": "transcript.text.delta", "delta": ", world"},
		{"type": "transcript.text.done", "text": "Hello, world"}]}'
	oai-transcribe --stream -m gpt-4o-transcribe hello.mp3 > out &
	pid=$!
	for i in $(seq 100); do [ -s out ] && break; sleep 0.05; done
	# the first delta is out while the second is still on its way
	assert_equal Hello "$(cat out)"
	wait "$pid"
	assert_equal 'Hello, world' "$(cat out)"
}

@test "oai-transcribe --stream: unicode escapes, segments ignored" {
	srv_queue '{"crlf": true, "sse": [
		{"type": "transcript.text.delta", "delta": "Gr\u00fc\u00dfe", "logprobs": []},
		{"type": "transcript.text.segment", "text": "x"},
		{"type": "transcript.text.delta", "delta": " \ud83d\ude00"},
		{"type": "transcript.text.done", "text": "Grüße 😀"}]}'
	run --separate-stderr oai-transcribe --stream -m gpt-4o-mini-transcribe hello.mp3
	assert_status 0
	assert_stderr ''
	assert_output 'Grüße 😀'
}

@test "oai-transcribe --stream: a stream cut before done fails with 5" {
	srv_queue '{"crlf": true, "sse": [
		{"type": "transcript.text.delta", "delta": "Hello"}]}'
	run --separate-stderr oai-transcribe --stream -m gpt-4o-transcribe hello.mp3
	assert_status 5
	assert_output 'Hello'
	assert_stderr 'oai-transcribe: the stream ended before the transcript was complete'
}

@test "oai-transcribe --stream: an error event fails with 5" {
	srv_queue '{"crlf": true, "sse": [
		{"type": "transcript.text.delta", "delta": "Hel"},
		{"type": "error", "error": {"type": "server_error", "message": "overloaded"}}]}'
	run --separate-stderr oai-transcribe --stream -m gpt-4o-transcribe hello.mp3
	assert_status 5
	assert_output 'Hel'
	assert_stderr 'oai-transcribe: error in the stream: server_error: overloaded'
}

@test "oai-transcribe --stream: an error event with only a message reads cleanly" {
	srv_queue '{"sse": [{"type": "error", "error": {"message": "bad thing"}}]}'
	run --separate-stderr oai-transcribe --stream -m gpt-4o-transcribe hello.mp3
	assert_status 5
	assert_output ''
	assert_stderr 'oai-transcribe: error in the stream: bad thing'
}

@test "oai-transcribe --stream: a server that answers with JSON still works" {
	srv_queue '{"json": {"text": "not streamed"}}'
	run --separate-stderr oai-transcribe --stream -m gpt-4o-transcribe hello.mp3
	assert_status 0
	assert_stderr ''
	assert_output 'not streamed'
}

@test "oai-transcribe --stream is refused with whisper-1 and with -f srt" {
	run --separate-stderr oai-transcribe --stream hello.mp3
	assert_status 2
	assert_stderr 'oai-transcribe: --stream needs a model that streams, such as gpt-4o-transcribe or gpt-4o-mini-transcribe; whisper-1 does not'
	run --separate-stderr oai-transcribe --stream -m gpt-4o-transcribe -f srt hello.mp3
	assert_status 2
	assert_stderr 'oai-transcribe: --stream prints text: -f srt cannot be streamed'
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-transcribe: 401 exits 3 with the API's message, key never shown" {
	export OPENAI_API_KEY=sk-secret-123
	srv_queue '{"cassette": "error_401_invalid_api_key_chat"}'
	run --separate-stderr oai-transcribe --verbose hello.mp3
	assert_status 3
	assert_output ''
	assert_stderr_contains 'oai-transcribe: 401 invalid_api_key: '
	refute_stderr_contains sk-secret-123
	assert_equal 'Bearer sk-secret-123' "$(srv_req_field 1 .headers.authorization)"
}

@test "oai-transcribe: a 400 exits 4" {
	srv_queue '{"status": 400, "json": {"error": {"message": "Invalid file format.", "type": "invalid_request_error", "code": null}}}'
	run --separate-stderr oai-transcribe hello.mp3
	assert_status 4
	assert_output ''
	assert_stderr 'oai-transcribe: 400 invalid_request_error: Invalid file format.'
}

@test "oai-transcribe retries a file upload after a 500, sending it whole again" {
	srv_queue '{"status": 500, "headers": {"retry-after-ms": "0"}, "json": {"error": {"message": "boom", "type": "server_error"}}}'
	run --separate-stderr oai-transcribe hello.mp3
	assert_status 0
	assert_stderr ''
	assert_equal 2 "$(srv_nreq)"
	assert_equal "$SHA" "$(srv_req_field 2 .files.file.sha256)"
}

@test "oai-transcribe does not retry a stdin upload (it cannot be rewound)" {
	srv_queue '{"status": 500, "headers": {"retry-after-ms": "0"}, "json": {"error": {"message": "boom", "type": "server_error"}}}'
	run --separate-stderr oai-transcribe --filename x.mp3 - < hello.mp3
	assert_status 5
	assert_stderr 'oai-transcribe: 500 server_error: boom'
	assert_equal 1 "$(srv_nreq)"
}

@test "oai-transcribe reads a pipe given as a file, and does not retry it" {
	run --separate-stderr oai-transcribe --filename a.mp3 <(cat hello.mp3)
	assert_status 0
	assert_equal "$SHA" "$(file_req sha256)"
	srv_queue '{"status": 500, "headers": {"retry-after-ms": "0"}, "json": {"error": {"message": "boom", "type": "server_error"}}}'
	run --separate-stderr oai-transcribe --filename a.mp3 <(cat hello.mp3)
	assert_status 5
	assert_stderr 'oai-transcribe: 500 server_error: boom'
	assert_equal 2 "$(srv_nreq)"
}

@test "oai-transcribe: a write error on stdout exits 5; a closed pipe exits 0" {
	run --separate-stderr bash -c 'oai-transcribe hello.mp3 > /dev/full'
	assert_status 5
	assert_stderr 'oai-transcribe: write error on standard output: No space left on device'
	run --separate-stderr bash -c 'oai-transcribe -f verbose_json hello.mp3 | head -c1'
	assert_status 0
	assert_output '{'
}

@test "oai-transcribe: no progress bar when stderr is not a terminal; one on a terminal" {
	head -c 2000000 /dev/zero > z.wav
	run --separate-stderr oai-transcribe z.wav
	assert_status 0
	assert_stderr ''
	# script(1) gives the tool a terminal: the bar is drawn, then erased.
	run script -qec "oai-transcribe z.wav 2>&1 >/dev/null" /dev/null
	assert_status 0
	[[ $output == *'100%'* ]] || fail "no progress bar: $output"
	[[ $output == *$'\r\e[K'* ]] || fail "bar not erased: $output"
}

@test "oai-transcribe: the completions and the man page list every option" {
	opts=$(oai-transcribe --help | grep -o -- '--[a-z-]*' | sort -u)
	for o in $opts; do
		grep -q -- "$o" "$ROOT/completions/bash/oai-transcribe" || fail "bash: $o"
		grep -q -- "${o#--}" "$ROOT/completions/zsh/_oai-transcribe" || fail "zsh: $o"
		grep -q -- "-l ${o#--}" "$ROOT/completions/fish/oai-transcribe.fish" || fail "fish: $o"
		grep -qF -- "\\-${o#--}" "$ROOT/man/oai-transcribe.1" || fail "man: $o"
	done
}
