#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-chat makes its state directory ($XDG_STATE_HOME/oai/conversations)
# only when it saves a first reply: not for a request that failed, not
# with --no-save or OAI_NO_HISTORY; made, it is 0700.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-state
	T=$BATS_TEST_TMPDIR
	export XDG_STATE_HOME=$T/state
}

nostate() { [ ! -e "$T/state" ] || fail "made: $(find "$T/state")"; }

@test "a one-shot question that fails (500) makes no state directory, exit 5" {
	srv_queue '{"status": 500, "repeat": 5, "json": {"error": {"message": "Boom.", "type": "server_error", "param": null, "code": null}}}'
	run --separate-stderr oai-chat --retries 1 hi </dev/null
	assert_status 5
	assert_output ''
	assert_stderr 'oai-chat: 500 server_error: Boom.'
	assert_equal 2 "$(srv_nreq)"
	nostate
}

@test "a streamed answer cut before any text makes no state directory" {
	srv_queue '{"path": "/v1/chat/completions", "sse": [], "close_after": 0, "repeat": 5}'
	run --separate-stderr oai-chat --retries 0 hi </dev/null
	assert_status 5
	assert_output ''
	assert_stderr "oai-chat: $OPENAI_BASE_URL/chat/completions: transfer closed with outstanding read data remaining"
	nostate
}

@test "--no-save and OAI_NO_HISTORY=1: answered, no state directory" {
	run --separate-stderr oai-chat --no-save hi </dev/null
	assert_status 0
	assert_output 'echo: hi'
	OAI_NO_HISTORY=1 run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_output 'echo: hi'
	assert_equal 2 "$(srv_nreq)"
	nostate
}

@test "the first reply saved makes the state directory, 0700, and the conversation file, 0600" {
	run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_output 'echo: hi'
	assert_equal 700 "$(stat -c %a "$T/state/oai")"
	assert_equal 700 "$(stat -c %a "$T/state/oai/conversations")"
	f=$(ls "$T/state/oai/conversations"/*.jsonl)
	assert_equal 600 "$(stat -c %a "$f")"
	assert_equal '{"role":"user","content":"hi"}
{"role":"assistant","content":"echo: hi","model":"gpt-4o"}' "$(cat "$f")"
}
