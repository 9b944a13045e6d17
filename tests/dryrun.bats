#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# --dry-run of oai-speak (the JSON body of each part) and oai-transcribe
# (the form, a part a line, as lib/form.c prints it): nothing sent, no
# key needed, nothing written to -o.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	unset OPENAI_API_KEY
	cd "$BATS_TEST_TMPDIR"
}

@test "dryrun: oai-speak prints the body, sends nothing, needs no key, writes no -o file" {
	run --separate-stderr oai-speak --dry-run -m gpt-4o-mini-tts -v nova \
		--instructions 'Calm.' --speed 1.5 -f wav -o out.wav 'Say "hi"'
	assert_status 0
	assert_stderr ''
	assert_output '{"model":"gpt-4o-mini-tts","input":"Say \"hi\"","voice":"nova","instructions":"Calm.","response_format":"wav","speed":1.5}'
	[ ! -e out.wav ]
	assert_equal 0 "$(srv_nreq)"
	# the same body is what a real run sends
	export OPENAI_API_KEY=sk-test-dryrun-0123456789
	oai-speak -m gpt-4o-mini-tts -v nova --instructions 'Calm.' --speed 1.5 \
		-f wav -o out.wav 'Say "hi"'
	assert_equal "$output" "$(srv_req_field 1 .body)"
}

@test "dryrun: oai-speak prints one body a part for a text over 4096 characters" {
	python3 -c 'print(("A sentence of words. " * 300).strip())' > long.txt
	run --separate-stderr oai-speak --dry-run < long.txt
	assert_status 0
	assert_stderr ''
	assert_equal 2 "${#lines[@]}"
	# the parts, joined, are the text less the space they were split at
	assert_equal "$(tr -d ' \n' < long.txt)" \
		"$(printf '%s\n' "${lines[@]}" | jq -j '.input' | tr -d ' \n')"
	assert_equal 6298 "$(printf '%s\n' "${lines[@]}" | jq -j '.input' | wc -c)"
	assert_equal 0 "$(srv_nreq)"
}

@test "dryrun: oai-transcribe prints the form a part a line, escaped; sends nothing, reads no file" {
	head -c 1234 /dev/zero > talk.mp3
	run --separate-stderr oai-transcribe --dry-run -l en -t 0.2 \
		--prompt $'two\nlines' -f verbose_json --timestamps word talk.mp3
	assert_status 0
	assert_stderr ''
	assert_output <<-'EOF'
	model=whisper-1
	response_format=verbose_json
	language=en
	prompt=two\nlines
	temperature=0.2
	timestamp_granularities[]=word
	file=@talk.mp3 (1234 bytes, audio/mpeg)
	EOF
	assert_equal 0 "$(srv_nreq)"
	# the fields are those a real run sends, in its order
	export OPENAI_API_KEY=sk-test-dryrun-0123456789
	oai-transcribe -l en -t 0.2 -f verbose_json --timestamps word talk.mp3 > /dev/null
	assert_equal $'model=whisper-1\nresponse_format=verbose_json\nlanguage=en\ntemperature=0.2\ntimestamp_granularities[]=word' \
		"$(srv_req_field 1 '.form | to_entries[] | "\(.key)=\(.value)"')"
}

@test "dryrun: oai-transcribe --dry-run of standard input and --stream; bad input still refused" {
	run --separate-stderr oai-transcribe --dry-run --stream -m gpt-4o-transcribe --filename a.wav - < /dev/null
	assert_status 0
	assert_stderr ''
	assert_output <<-'EOF'
	model=gpt-4o-transcribe
	stream=true
	file=@- (standard input, audio/wav)
	EOF
	run --separate-stderr oai-transcribe --dry-run missing.mp3
	assert_status 2
	assert_output ''
	assert_stderr_contains 'missing.mp3'
	assert_equal 0 "$(srv_nreq)"
}

@test "dryrun: oai-moderate prints the request bodies, whole or -l, as they would be batched; nothing sent" {
	printf 'hello\n\nworld "x"\r\n' > m.txt
	run --separate-stderr oai-moderate --dry-run -m text-moderation-latest m.txt
	assert_status 0
	assert_stderr ''
	assert_output '{"input":["hello\n\nworld \"x\"\r\n"],"model":"text-moderation-latest"}'
	run --separate-stderr oai-moderate --dry-run -l m.txt
	assert_status 0
	assert_stderr ''
	assert_output '{"input":["hello","world \"x\""],"model":"omni-moderation-latest"}'
	# -l with many lines: the same three requests a real run makes
	seq 1 70 > n.txt
	run --separate-stderr oai-moderate --dry-run -l n.txt
	assert_status 0
	dry=$output
	assert_equal 3 "${#lines[@]}"
	assert_equal 0 "$(srv_nreq)"
	export OPENAI_API_KEY=sk-test-dryrun-0123456789
	oai-moderate -l -P 1 n.txt || :
	assert_equal "$dry" "$(srv_requests | jq -c '.body | fromjson')"
}
