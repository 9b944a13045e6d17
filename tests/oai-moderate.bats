#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-moderate: verdicts, exit status, chunks, lines, thresholds, errors.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() { load helper; srv_reset; export OPENAI_API_KEY=sk-test-mod; }

@test "oai-moderate: clean text is ok, exit 0" {
	run --separate-stderr oai-moderate <<<'hello there'
	assert_status 0
	assert_stderr ''
	assert_output ok
	assert_equal /v1/moderations "$(srv_req_field 1 .path)"
	assert_equal '{"input":["hello there\n"],"model":"omni-moderation-latest"}' "$(srv_req_field 1 .body)"
}

@test "oai-moderate: flagged text prints the categories, exit 1" {
	run --separate-stderr oai-moderate <<<'I will kill you'
	assert_status 1
	assert_stderr ''
	assert_output $'flagged\nviolence\t0.900000'
}

@test "oai-moderate reads the recorded omni response" {
	srv_queue '{"cassette": "moderation_omni_single"}'
	run --separate-stderr oai-moderate <<<'I am killing all my houseplants!'
	assert_status 1
	assert_output $'flagged\nviolence\t0.731202'
	srv_queue '{"cassette": "moderation_omni_single"}'
	run --separate-stderr oai-moderate --json <<<'x'
	assert_status 1
	assert_equal '["violence"]' "$(printf '%s' "$output" | jq -c .flagged_categories)"
	assert_equal 13 "$(printf '%s' "$output" | jq '.category_scores|length')"
	assert_equal 0.7312019875 "$(printf '%s' "$output" | jq .category_scores.violence)"
}

@test "oai-moderate -q prints nothing; the status tells" {
	run --separate-stderr oai-moderate -q <<<'kill'
	assert_status 1
	assert_output ''
	run --separate-stderr oai-moderate --quiet <<<'fine'
	assert_status 0
	assert_output ''
}

@test "oai-moderate -m text-moderation-latest: an older response without some categories" {
	srv_queue '{"json": {"id": "modr-1", "model": "text-moderation-007", "results": [{"flagged": true,
		"categories": {"sexual": false, "hate": true, "violence": false},
		"category_scores": {"sexual": 0.01, "hate": 0.75, "violence": 0.02}}]}}'
	run --separate-stderr oai-moderate -m text-moderation-latest <<<'x'
	assert_status 1
	assert_output $'flagged\nhate\t0.750000'
	assert_equal text-moderation-latest "$(srv_req_field 1 '.body|fromjson|.model')"
}

@test "oai-moderate: long input is checked in chunks, highest score wins" {
	python3 -c 'print("word " * 3000 + "kill")' >"$BATS_TEST_TMPDIR/long"
	run --separate-stderr oai-moderate --json "$BATS_TEST_TMPDIR/long"
	assert_status 1
	assert_equal 4 "$(printf '%s' "$output" | jq .chunks)"
	assert_equal 0.9 "$(printf '%s' "$output" | jq .category_scores.violence)"
	assert_equal "[4095,4095,4095,2720]" "$(srv_req_field 1 '.body|fromjson|.input|map(length)|tojson')"
}

@test "oai-moderate: beyond 32768 bytes, several requests" {
	python3 -c 'print("kill " + "word " * 8000)' >"$BATS_TEST_TMPDIR/long"
	run --separate-stderr oai-moderate "$BATS_TEST_TMPDIR/long"
	assert_status 1
	assert_equal 2 "$(srv_nreq)"
	assert_equal '2 8' "$(srv_requests | jq -r '.body|fromjson|.input|length' | sort -n | xargs)"
}

@test "oai-moderate -l prints flagged lines, -v the clean ones, in one request" {
	run --separate-stderr oai-moderate -l <<<$'hi\nkill him\n\nbye'
	assert_status 1
	assert_output 'kill him'
	assert_equal 1 "$(srv_nreq)"
	assert_equal '["hi","kill him","bye"]' "$(srv_req_field 1 '.body|fromjson|.input|tojson')"
	run --separate-stderr oai-moderate --lines -v <<<$'hi\nkill him\n\nbye'
	assert_status 1
	assert_output $'hi\n\nbye'
	run --separate-stderr oai-moderate -l --invert-match <<<$'all\nfine'
	assert_status 0
	assert_output $'all\nfine'
}

@test "oai-moderate -l: many lines go in batches of 32" {
	seq 40 >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr oai-moderate -l "$BATS_TEST_TMPDIR/in"
	assert_status 0
	assert_output ''
	assert_equal 2 "$(srv_nreq)"
	# the two batches run in parallel (-P 4): either may be logged first
	assert_equal '8 32' "$(srv_requests | jq -r '.body|fromjson|.input|length' | sort -n | xargs)"
}

@test "oai-moderate -l with several files prefixes the file name; --json per line" {
	printf 'kill\nok\n' >"$BATS_TEST_TMPDIR/a"
	printf 'fine\n' >"$BATS_TEST_TMPDIR/b"
	run --separate-stderr oai-moderate -l "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	assert_status 1
	assert_output "$BATS_TEST_TMPDIR/a:kill"
	run --separate-stderr oai-moderate -l --json <<<$'x\nkill it'
	assert_status 1
	assert_equal '2 "kill it" ["violence"]' "$(printf '%s' "$output" | jq -r '"\(.line) \(.text|tojson) \(.flagged_categories|tojson)"')"
}

@test "oai-moderate --threshold flags by score, and overrides the API" {
	run --separate-stderr oai-moderate --threshold hate=0.00004 <<<'fine'
	assert_status 1
	assert_output $'flagged\nhate\t0.000040'
	run --separate-stderr oai-moderate --threshold violence=0.95 <<<'kill'
	assert_status 0
	assert_output ok
}

@test "oai-moderate --threshold: bad category, score or form" {
	run --separate-stderr oai-moderate --threshold nope=0.5 </dev/null
	assert_status 2
	assert_stderr "oai-moderate: --threshold: nope is not a category of omni-moderation-latest"
	run --separate-stderr oai-moderate -m text-moderation-latest --threshold illicit=0.5 </dev/null
	assert_status 2
	assert_stderr "oai-moderate: --threshold: illicit is not a category of text-moderation-latest"
	run --separate-stderr oai-moderate --threshold violence=1.5 </dev/null
	assert_status 2
	assert_stderr_contains "--threshold"
	run --separate-stderr oai-moderate --threshold violence </dev/null
	assert_status 2
	assert_stderr "oai-moderate: --threshold: 'violence' is not CATEGORY=SCORE"
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-moderate: -v needs -l; --verbose still works" {
	run --separate-stderr oai-moderate -v <<<x
	assert_status 2
	assert_stderr "oai-moderate: -v needs -l (for --verbose, spell it out)"
	run --separate-stderr oai-moderate --verbose <<<x
	assert_status 0
	assert_stderr_contains "> POST $OPENAI_BASE_URL/moderations"
	refute_stderr_contains sk-test-mod
}

@test "oai-moderate: empty input, bad UTF-8, missing file are exit 2" {
	run --separate-stderr oai-moderate </dev/null
	assert_status 2
	assert_stderr "oai-moderate: empty input: nothing to check"
	run --separate-stderr oai-moderate < <(printf 'a\xffb')
	assert_status 2
	assert_stderr "oai-moderate: standard input: not valid UTF-8 at byte offset 1"
	run --separate-stderr oai-moderate "$BATS_TEST_TMPDIR/nope"
	assert_status 2
	assert_stderr "oai-moderate: $BATS_TEST_TMPDIR/nope: No such file or directory"
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-moderate: API errors are above 1" {
	srv_queue '{"status": 500, "repeat": 3, "json": {"error": {"message": "down", "type": "server_error"}}}'
	run --separate-stderr oai-moderate <<<x
	assert_status 5
	assert_output ''
	assert_stderr "oai-moderate: 500 server_error: down"
	srv_queue '{"cassette": "error_401_invalid_api_key_chat"}'
	run --separate-stderr oai-moderate <<<x
	assert_status 3
	srv_queue '{"json": {"results": []}}'
	run --separate-stderr oai-moderate <<<x
	assert_status 5
}

@test "oai-moderate: /dev/full is exit 5" {
	run --separate-stderr sh -c 'echo x | oai-moderate >/dev/full'
	assert_status 5
}

@test "oai-moderate --help lists every option; man page and completions too" {
	run --separate-stderr oai-moderate --help
	assert_status 0
	for opt in lines invert-match quiet json model threshold base-url api-key-file timeout retries verbose help version; do
		assert_output_contains "--$opt"
		grep -q -- "$opt" "$ROOT/man/oai-moderate.1"
		grep -q -- "--$opt" "$ROOT/completions/bash/oai-moderate"
		grep -q -- "--$opt" "$ROOT/completions/zsh/_oai-moderate"
		grep -q -- "-l $opt" "$ROOT/completions/fish/oai-moderate.fish"
	done
}

@test "oai-moderate: Ctrl-C or SIGTERM while reading standard input exits 130 or 143 quietly" {
	assert_quiet_interrupt_reading oai-moderate
	assert_quiet_interrupt_reading oai-moderate -l
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-moderate: usage and --help do not claim -v is --verbose (it is --invert-match)" {
	run --separate-stderr oai-moderate --help
	assert_status 0
	[[ $output != *'-v, --verbose'* ]] || fail "$output"
	[[ $output == *$'\n      --verbose             print request details on stderr\n'* ]] || fail "$output"
	run --separate-stderr oai-moderate --no-such-option
	assert_status 2
	[[ $stderr != *'-v | --verbose'* ]] || fail "$stderr"
	[[ $stderr == *' [--verbose] [-h | --help] [--version]' ]] || fail "$stderr"
}

# ---- -l in parallel (issue 17) ------------------------------------------------

@test "oai-moderate -l strips the CR of CRLF lines" {
	printf 'fine\r\nkill him\r\n' >"$BATS_TEST_TMPDIR/crlf"
	run --separate-stderr oai-moderate -l "$BATS_TEST_TMPDIR/crlf"
	assert_status 1
	assert_stderr ''
	assert_output 'kill him'
	assert_equal '["fine","kill him"]' "$(srv_req_field 1 '.body|fromjson|.input|tojson')"
}

@test "oai-moderate -l: a failed request ends the run after the lines before it" {
	for i in $(seq 70); do [ $((i % 10)) = 0 ] && echo "kill $i" || echo "$i"; done >"$BATS_TEST_TMPDIR/in"
	srv_queue '{"path": "/v1/moderations"}' \
		'{"path": "/v1/moderations", "status": 400, "json": {"error": {"message": "nope", "type": "invalid_request_error"}}}'
	run --separate-stderr oai-moderate -l -P 1 "$BATS_TEST_TMPDIR/in"
	assert_status 4
	assert_output $'kill 10\nkill 20\nkill 30'
	assert_stderr 'oai-moderate: 400 invalid_request_error: nope'
}

@test "oai-moderate -l: a line that is not UTF-8 ends the run after the lines before it" {
	printf 'kill a\nok\n\xff\nkill b\n' >"$BATS_TEST_TMPDIR/bad"
	run --separate-stderr oai-moderate -l "$BATS_TEST_TMPDIR/bad"
	assert_status 2
	assert_output 'kill a'
	assert_stderr "oai-moderate: $BATS_TEST_TMPDIR/bad:3: not valid UTF-8 at byte offset 0"
	assert_equal 1 "$(srv_nreq)"
}

@test "oai-moderate -P: bad values are usage errors; --help names it" {
	run --separate-stderr oai-moderate -l -P 0 </dev/null
	assert_status 2
	assert_stderr "oai-moderate: --parallel: 0 is out of range (1 to 64)"
	run --separate-stderr oai-moderate --help
	assert_output_contains '-P, --parallel n'
	assert_equal 0 "$(srv_nreq)"
}
