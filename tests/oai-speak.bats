#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-speak: request body, audio to stdout or -o FILE (atomic), options,
# long text split and joined (mp3, pcm, wav), failures.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	mkdir "$BATS_TEST_TMPDIR/w"
	cd "$BATS_TEST_TMPDIR/w"
}

CASS=$BATS_TEST_DIRNAME/fixtures

body() { srv_req_field "$1" ".body | fromjson | $2"; }

# b64 PYEXPR: base64 of the bytes a Python expression builds (struct ok)
b64() { python3 -c "import base64,struct,sys; sys.stdout.write(base64.b64encode($1).decode())"; }

# A WAV the way the API streams it: sizes unknown (0xFFFFFFFF).
WAVHDR='b"RIFF"+struct.pack("<I",0xFFFFFFFF)+b"WAVEfmt "+struct.pack("<IHHIIHH",16,1,1,24000,48000,2,16)+b"data"+struct.pack("<I",0xFFFFFFFF)'

# Long text: 150 sentences of 41 characters = 6150 characters.
longtext() { for i in $(seq 150); do printf 'This is sentence number %03d of the text. ' "$i"; done; }

@test "oai-speak sends the text and writes the recorded mp3 unchanged" {
	srv_queue '{"cassette": "speech_mp3"}'
	oai-speak 'Hello, world!' > out.mp3
	cmp out.mp3 "$CASS/speech_mp3/response.body"
	assert_equal POST "$(srv_req_field 1 .method)"
	assert_equal /v1/audio/speech "$(srv_req_field 1 .path)"
	assert_equal application/json "$(srv_req_field 1 '.headers["content-type"]')"
	assert_equal '{"model":"tts-1","input":"Hello, world!","voice":"alloy","response_format":"mp3"}' \
		"$(srv_req_field 1 .body)"
}

@test "oai-speak joins its arguments with spaces; reads stdin without them" {
	run --separate-stderr bash -c 'oai-speak Hello   "big world" | wc -c'
	assert_status 0
	assert_stderr ''
	assert_equal 'Hello big world' "$(body 1 .input)"
	assert_output "$((128 * 15))"
	printf 'From stdin.\n\n' | oai-speak > out
	assert_equal 'From stdin.' "$(body 2 .input)"
	assert_equal "$((128 * 11))" "$(wc -c < out)"
}

@test "oai-speak streams audio to stdout as it arrives" {
	srv_queue '{"size": 4000, "chunk": 1000, "chunk_delay_ms": 400}'
	oai-speak hi > out &
	pid=$!
	for i in $(seq 100); do [ -s out ] && break; sleep 0.05; done
	# the first piece is written while the rest is on its way
	assert_equal 1000 "$(wc -c < out)"
	wait "$pid"
	assert_equal 4000 "$(wc -c < out)"
}

@test "oai-speak -m, -v, -f, --speed, --instructions go into the body" {
	run --separate-stderr bash -c 'oai-speak -m gpt-4o-mini-tts -v nova -f flac --speed 1.5 --instructions "Cheerful." hi | head -c4'
	assert_status 0
	assert_stderr ''
	assert_output 'fLaC'
	assert_equal '{"model":"gpt-4o-mini-tts","input":"hi","voice":"nova","instructions":"Cheerful.","response_format":"flac","speed":1.5}' \
		"$(srv_req_field 1 .body)"
	oai-speak --model tts-1-hd --voice echo --format opus --speed 0.25 hi > /dev/null
	assert_equal '{"model":"tts-1-hd","input":"hi","voice":"echo","response_format":"opus","speed":0.25}' \
		"$(srv_req_field 2 .body)"
	for f in mp3 aac wav pcm; do
		oai-speak -f "$f" hi > /dev/null
		assert_equal "$f" "$(body -1 .response_format)"
	done
}

@test "oai-speak: bad -f, --speed, empty -m/-v are usage errors before any request" {
	run --separate-stderr oai-speak -f ogg hi
	assert_status 2
	assert_stderr "oai-speak: --format: 'ogg' is not one of mp3, opus, aac, flac, wav, pcm"
	run --separate-stderr oai-speak --speed 4.5 hi
	assert_status 2
	assert_stderr 'oai-speak: --speed: 4.5 is out of range (0.25 to 4)'
	run --separate-stderr oai-speak --speed 0.2 hi
	assert_status 2
	assert_stderr 'oai-speak: --speed: 0.2 is out of range (0.25 to 4)'
	run --separate-stderr oai-speak --speed fast hi
	assert_status 2
	assert_stderr "oai-speak: --speed: 'fast' is not a number"
	run --separate-stderr oai-speak -m '' hi
	assert_status 2
	assert_stderr 'oai-speak: --model: empty model name'
	run --separate-stderr oai-speak -v '' hi
	assert_status 2
	assert_stderr 'oai-speak: --voice: empty voice name'
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-speak --instructions is refused with tts-1 and tts-1-hd" {
	run --separate-stderr oai-speak --instructions calm hi
	assert_status 2
	assert_output ''
	assert_stderr 'oai-speak: --instructions does not work with tts-1; use -m gpt-4o-mini-tts'
	run --separate-stderr oai-speak -m tts-1-hd --instructions calm hi
	assert_status 2
	assert_stderr 'oai-speak: --instructions does not work with tts-1-hd; use -m gpt-4o-mini-tts'
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-speak: invalid UTF-8 names the byte offset; empty text is refused" {
	run --separate-stderr oai-speak $'ab\xc3(' 
	assert_status 2
	assert_stderr 'oai-speak: the text: not valid UTF-8 at byte offset 2'
	run --separate-stderr oai-speak < <(printf 'h\xe9llo')
	assert_status 2
	assert_stderr 'oai-speak: standard input: not valid UTF-8 at byte offset 1'
	run --separate-stderr oai-speak < /dev/null
	assert_status 2
	assert_stderr 'oai-speak: no text to speak'
	run --separate-stderr oai-speak '  ' $'\n'
	assert_status 2
	assert_stderr 'oai-speak: no text to speak'
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-speak refuses to write audio to a terminal, with a hint" {
	run script -qec "oai-speak hi; echo status=\$?" /dev/null
	[[ $output == *'oai-speak: refusing to write audio to a terminal; redirect standard output or use -o FILE'* ]] ||
		fail "$output"
	[[ $output == *status=2* ]] || fail "$output"
	assert_equal 0 "$(srv_nreq)"
	# -o is fine from a terminal
	run script -qec "oai-speak -o t.mp3 hi; echo status=\$?" /dev/null
	[[ $output == *status=0* ]] || fail "$output"
	[ -s t.mp3 ]
}

@test "oai-speak -o writes the file atomically and leaves no temporary file" {
	run --separate-stderr oai-speak -o out.mp3 hello
	assert_status 0
	assert_output ''
	assert_stderr ''
	assert_equal $((128 * 5)) "$(wc -c < out.mp3)"
	assert_equal out.mp3 "$(ls -A)"
	umask 022
	oai-speak --output new.mp3 hi
	assert_equal 644 "$(stat -c %a new.mp3)"
	chmod 600 new.mp3
	oai-speak -o new.mp3 again
	assert_equal 600 "$(stat -c %a new.mp3)"
	assert_equal $((128 * 5)) "$(wc -c < new.mp3)"
	oai-speak -o - hi > dash.mp3
	[ ! -e ./- ]
	assert_equal 256 "$(wc -c < dash.mp3)"
}

@test "oai-speak -o: audio cut mid-body leaves no file and no temporary file" {
	srv_queue '{"size": 100000, "chunk": 10000, "close_after": 30000}'
	run --separate-stderr oai-speak -o out.mp3 hello
	assert_status 5
	assert_output ''
	assert_stderr_contains 'oai-speak: connection lost before the response was complete'
	assert_equal '' "$(ls -A)"
}

@test "oai-speak -o: a failed run keeps the old file as it was" {
	echo old > keep.mp3
	srv_queue '{"status": 500, "json": {"error": {"message": "boom", "type": "server_error"}}, "repeat": 3}'
	run --separate-stderr oai-speak --retries 0 -o keep.mp3 hello
	assert_status 5
	assert_stderr 'oai-speak: 500 server_error: boom'
	assert_equal old "$(cat keep.mp3)"
	assert_equal keep.mp3 "$(ls -A)"
}

@test "oai-speak -o: interrupted (SIGINT) leaves no file behind" {
	srv_queue '{"size": 100000, "stall_after": 5000, "stall_ms": 5000}'
	oai-speak -o int.mp3 hello &
	pid=$!
	for i in $(seq 100); do
		ls -A | grep -q '^\.int\.mp3\.' && [ -s "$(ls -A | grep '^\.int')" ] && break
		sleep 0.05
	done
	kill -INT "$pid"
	st=0
	wait "$pid" || st=$?
	assert_equal 130 "$st"
	assert_equal '' "$(ls -A)"
}

@test "oai-speak -o: unwritable places fail with 5, a directory with 2" {
	run --separate-stderr oai-speak -o nodir/x.mp3 hi
	assert_status 5
	assert_stderr 'oai-speak: nodir/x.mp3: No such file or directory'
	mkdir d
	run --separate-stderr oai-speak -o d hi
	assert_status 2
	assert_stderr 'oai-speak: -o: d is a directory'
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-speak splits text over 4096 characters at sentence ends (mp3)" {
	longtext > long.txt
	run --separate-stderr bash -c 'oai-speak < long.txt > out.mp3'
	assert_status 0
	assert_stderr ''
	assert_equal 2 "$(srv_nreq)"
	one=$(body 1 .input)
	two=$(body 2 .input)
	# 99 whole sentences fit in 4096 characters
	assert_equal 4058 "${#one}"
	[[ $one == *'sentence number 099 of the text.' ]] || fail "$one"
	[[ $two == 'This is sentence number 100 '* ]] || fail "$two"
	assert_equal "$(cat long.txt)" "$one $two "
	# the two audio parts, back to back
	assert_equal $((128 * (4058 + ${#two}))) "$(wc -c < out.mp3)"
}

@test "oai-speak cuts at a line end, not at 3.14, and not to a tiny piece" {
	text=$(for i in $(seq 300); do printf 'pi is 3.14 '; done; printf 'Title line\n';
		for i in $(seq 500); do printf 'pi is 3.14 '; done)
	oai-speak "$text" > /dev/null
	assert_equal 3310 "$(body 1 '.input | length')"
	[[ $(body 1 .input) == *' Title line' ]] || fail "$(body 1 .input)"
	assert_equal 3 "$(srv_nreq)"
	srv_reset
	# a line end after only 10 characters would waste a request
	text=$(printf 'Title line\n'; for i in $(seq 800); do printf 'pi is 3.14 '; done)
	oai-speak "$text" > /dev/null
	assert_equal 3 "$(srv_nreq)"
	[[ $(body 1 .input) == $'Title line\npi is 3.14 '* ]] || fail "$(body 1 .input)"
	# cut at the last space that fits, a word boundary
	[[ $(body 1 .input) == *' pi' ]] || fail "$(body 1 .input)"
	[[ $(body 2 .input) == 'is 3.14 pi '* ]] || fail "$(body 2 .input)"
}

@test "oai-speak counts characters, not bytes" {
	e=$(printf 'é%.0s' $(seq 4096))
	oai-speak "$e" > /dev/null
	assert_equal 1 "$(srv_nreq)"
	oai-speak "${e}é" > /dev/null
	assert_equal 3 "$(srv_nreq)"
	assert_equal 4096 "$(body 2 '.input | length')"
	assert_equal 1 "$(body 3 '.input | length')"
}

@test "oai-speak splits at spaces without sentences, inside a word as a last resort" {
	words=$(for i in $(seq 1000); do printf 'word%03d ' "$i"; done)
	oai-speak "$words" > /dev/null
	assert_equal 2 "$(srv_nreq)"
	one=$(body 1 .input)
	[[ $one == *' word512' ]] || fail "${one: -20}"
	big=$(head -c 5000 /dev/zero | tr '\0' x)
	oai-speak "$big" > /dev/null
	assert_equal 4096 "$(body 3 '.input | length')"
	assert_equal 904 "$(body 4 '.input | length')"
}

@test "oai-speak joins mp3 parts, dropping the ID3 tags of later parts" {
	p1=$(b64 'b"ID3\x04\x00\x00\x00\x00\x00\x03TAG" + b"\xff\xf3AAAA"')
	p2=$(b64 'b"ID3\x04\x00\x00\x00\x00\x00\x03TAG" + b"\xff\xf3BBBB"')
	srv_queue "{\"body_b64\": \"$p1\", \"headers\": {\"Content-Type\": \"audio/mpeg\"}}" \
		"{\"body_b64\": \"$p2\", \"headers\": {\"Content-Type\": \"audio/mpeg\"}}"
	longtext | oai-speak > out.mp3
	assert_equal "$(printf 'ID3\4\0\0\0\0\0\3TAG\377\363AAAA\377\363BBBB' | od -An -tx1)" \
		"$(od -An -tx1 < out.mp3)"
}

@test "oai-speak joins pcm parts byte for byte" {
	longtext | oai-speak -f pcm > out.pcm
	assert_equal 2 "$(srv_nreq)"
	assert_equal $((128 * 6148)) "$(wc -c < out.pcm)"
}

@test "oai-speak -f wav -o: one header with the right sizes (API-style unknown sizes fixed)" {
	p1=$(b64 "$WAVHDR + b'\x01\x00' * 1000")
	p2=$(b64 "$WAVHDR + b'\x02\x00' * 500")
	srv_queue "{\"body_b64\": \"$p1\"}" "{\"body_b64\": \"$p2\"}"
	longtext | oai-speak -f wav -o out.wav
	assert_equal $((44 + 3000)) "$(wc -c < out.wav)"
	run python3 -c "
import wave; w = wave.open('out.wav')
print(w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes())"
	assert_output '1 2 24000 1500'
	assert_equal "$((36 + 3000)) 3000" \
		"$(python3 -c "import struct; d=open('out.wav','rb').read(); print(struct.unpack('<I',d[4:8])[0], struct.unpack('<I',d[40:44])[0])")"
	# one RIFF header only
	assert_equal 1 "$(grep -c RIFF out.wav)"
}

@test "oai-speak -f wav to a redirected file: sizes fixed in place" {
	p1=$(b64 "$WAVHDR + b'\x01\x00' * 100")
	srv_queue "{\"body_b64\": \"$p1\"}"
	oai-speak -f wav hi > out.wav
	assert_equal '1 100' "$(python3 -c "
import wave; w = wave.open('out.wav'); print(w.getnchannels(), w.getnframes())")"
	# appended output cannot be fixed: the header stays as sent
	srv_queue "{\"body_b64\": \"$p1\"}"
	echo -n > app.wav
	oai-speak -f wav hi >> app.wav
	assert_equal ffffffff "$(od -An -tx1 -j40 -N4 app.wav | tr -d ' ')"
}

@test "oai-speak -f wav to a pipe: one header, sizes unknown, later headers stripped" {
	longtext | oai-speak -f wav | cat > out.wav
	assert_equal 2 "$(srv_nreq)"
	assert_equal 1 "$(grep -c RIFF out.wav)"
	assert_equal ffffffff "$(od -An -tx1 -j4 -N4 out.wav | tr -d ' ')"
	assert_equal ffffffff "$(od -An -tx1 -j40 -N4 out.wav | tr -d ' ')"
	# the server's parts carry real sizes: 44-byte header each
	assert_equal $((128 * 6148 - 44)) "$(wc -c < out.wav)"
}

@test "oai-speak: long text in opus, aac or flac is refused with a way out" {
	longtext > long.txt
	for f in opus aac flac; do
		run --separate-stderr oai-speak -f $f < long.txt
		assert_status 2
		assert_output ''
		assert_stderr "oai-speak: the text is 6150 characters, over the API's 4096, and $f audio cannot be joined: use -f mp3, wav or pcm (and convert), or split the text yourself"
	done
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-speak: -v is the voice, --verbose still prints request details" {
	export OPENAI_API_KEY=sk-secret-456
	run --separate-stderr bash -c 'oai-speak --verbose -v onyx hi > /dev/null'
	assert_status 0
	assert_stderr_contains "oai-speak: > POST $OPENAI_BASE_URL/audio/speech"
	assert_stderr_contains 'oai-speak: < 200 OK'
	refute_stderr_contains sk-secret-456
	assert_equal onyx "$(body 1 .voice)"
}

@test "oai-speak: 401 exits 3, 400 exits 4, 500 is retried" {
	srv_queue '{"cassette": "error_401_invalid_api_key_chat"}'
	run --separate-stderr oai-speak hi
	assert_status 3
	assert_output ''
	assert_stderr_contains 'oai-speak: 401 invalid_api_key: '
	srv_reset
	run --separate-stderr oai-speak -v nobody hi
	srv_queue '{"status": 400, "json": {"error": {"message": "Invalid voice.", "type": "invalid_request_error", "code": "invalid_value"}}}'
	run --separate-stderr oai-speak -v nobody hi
	assert_status 4
	assert_stderr 'oai-speak: 400 invalid_value: Invalid voice.'
	srv_reset
	srv_queue '{"status": 500, "headers": {"retry-after-ms": "0"}, "json": {"error": {"message": "boom", "type": "server_error"}}}'
	run --separate-stderr bash -c 'oai-speak hi | wc -c'
	assert_status 0
	assert_stderr ''
	assert_output 256
	assert_equal 2 "$(srv_nreq)"
}

@test "oai-speak: a 200 that is JSON, not audio, is an error" {
	srv_queue '{"json": {"object": "not audio"}}'
	run --separate-stderr oai-speak hi
	assert_status 5
	assert_output ''
	assert_stderr "oai-speak: unexpected response from $OPENAI_BASE_URL/audio/speech: application/json instead of audio"
}

@test "oai-speak: a cut stream to stdout exits 5" {
	srv_queue '{"size": 100000, "close_after": 30000}'
	run --separate-stderr bash -c 'oai-speak hi | wc -c'
	assert_output 30000
	assert_stderr_contains 'oai-speak: connection lost before the response was complete'
	run --separate-stderr bash -c 'srv=1; oai-speak hi > /dev/null; echo $?'
	assert_output 0
}

@test "oai-speak: a write error on stdout exits 5; a closed pipe exits 0" {
	run --separate-stderr bash -c 'oai-speak hi > /dev/full'
	assert_status 5
	assert_stderr 'oai-speak: write error on standard output: No space left on device'
	srv_queue '{"size": 1000000}'
	run --separate-stderr bash -c 'oai-speak hi | head -c1 | wc -c; exit ${PIPESTATUS[0]}'
	assert_status 0
	assert_output 1
	assert_stderr ''
}

@test "oai-speak --help lists every option; bad options are usage errors" {
	run --separate-stderr oai-speak --help
	assert_status 0
	assert_stderr ''
	for o in -f, --format -m, --model -o, --output -v, --voice --instructions \
		--speed --base-url --api-key-file --timeout --retries --verbose \
		--help --version; do
		assert_output_contains " $o"
	done
	run --separate-stderr oai-speak --bogus
	assert_status 2
	assert_output ''
	assert_stderr_contains 'usage: oai-speak [-u] [-f format] [-m model] [-o file] [-v voice]'
}

@test "oai-speak: the completions and the man page list every option" {
	opts=$(oai-speak --help | grep -o -- '--[a-z-]*' | sort -u)
	for o in $opts; do
		grep -q -- "$o" "$ROOT/completions/bash/oai-speak" || fail "bash: $o"
		grep -q -- "${o#--}" "$ROOT/completions/zsh/_oai-speak" || fail "zsh: $o"
		grep -q -- "-l ${o#--}" "$ROOT/completions/fish/oai-speak.fish" || fail "fish: $o"
		grep -qF -- "\\-${o#--}" "$ROOT/man/oai-speak.1" || fail "man: $o"
	done
}

@test "oai-speak: a 200 with an empty body is an error, and -o keeps no file" {
	srv_queue '{"body": "", "headers": {"content-type": "audio/mpeg"}}'
	run --separate-stderr oai-speak -o "$BATS_TEST_TMPDIR/e.mp3" hello
	assert_status 5
	assert_stderr "oai-speak: unexpected response from $OPENAI_BASE_URL/audio/speech: no audio"
	[ ! -e "$BATS_TEST_TMPDIR/e.mp3" ]
	assert_equal '' "$(ls -A "$BATS_TEST_TMPDIR" | grep 'e\.mp3' || true)"
}
