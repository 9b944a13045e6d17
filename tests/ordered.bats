#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# The one in-order parallel runner (lib/ordered.c) under its three
# callers: what each of them relies on that their own tests leave open.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-ordered-0123456789
}

MOD='"path": "/v1/moderations"'
CHAT='"path": "/v1/chat/completions"'

@test "oai-moderate -l -v: empty lines at the end are printed last, in no request" {
	local out=$BATS_TEST_TMPDIR/out
	run --separate-stderr sh -c 'printf "hi\n\n\n" | oai-moderate -l -v >"$1"' sh "$out"
	assert_status 0
	assert_stderr ''
	printf 'hi\n\n\n' | cmp - "$out"
	assert_equal 1 "$(srv_nreq)"
	assert_equal '["hi"]' "$(srv_req_field 1 '.body|fromjson|.input|tojson')"
	# nothing but empty lines: nothing sent, each printed
	run --separate-stderr sh -c 'printf "\n\n" | oai-moderate -l -v >"$1"' sh "$out"
	assert_status 0
	assert_stderr ''
	printf '\n\n' | cmp - "$out"
	assert_equal 1 "$(srv_nreq)"
}

@test "oai-moderate -l -v: empty lines after a failed request are not printed" {
	srv_queue "{$MOD, \"status\": 400, \"json\": {\"error\": {\"message\": \"nope\", \"type\": \"invalid_request_error\"}}}"
	run --separate-stderr oai-moderate -l -v < <(printf 'a\n\n\n')
	assert_status 4
	assert_output ''
	assert_stderr 'oai-moderate: 400 invalid_request_error: nope'
}

@test "oai-chat --each: a 401 stops the reading; the lines already read still go" {
	srv_queue "{$CHAT, \"match\": \"one\", \"status\": 401,
		\"json\": {\"error\": {\"message\": \"bad key\", \"type\": \"invalid_request_error\"}}}"
	run --separate-stderr oai-chat --each -P 1 < <(printf 'one\ntwo\nthree\nfour\n')
	assert_status 3
	assert_output $'\necho: two'
	assert_stderr_contains 'standard input:1: 401'
	assert_equal 2 "$(srv_nreq)"
}

@test "oai-chat --each: an empty line between failures keeps its place; the worst status wins" {
	srv_queue "{$CHAT, \"match\": \"one\", \"status\": 400,
		\"json\": {\"error\": {\"message\": \"x\", \"type\": \"invalid_request_error\"}}}"
	run --separate-stderr oai-chat --each --format jsonl < <(printf 'one\n\n\xff\nfour\n')
	assert_status 4
	assert_output <<-'EOF'
	{"index":0,"error":{"status":400,"message":"400 invalid_request_error: x"}}
	{"index":1,"reply":null}
	{"index":2,"error":{"status":0,"message":"standard input:3: not valid UTF-8 at byte offset 0"}}
	{"index":3,"reply":"echo: four","finish_reason":"stop","usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}
	EOF
	assert_equal 2 "$(srv_nreq)"
}
