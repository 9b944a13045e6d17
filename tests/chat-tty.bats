#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-chat's interactive chat and its terminal: a Ctrl-D that comes
# while no line is read (the request out, a reply streaming) ends the
# session after the reply instead of being lost; the terminal's modes
# are given back whole, at the end and when a signal stops or ends it.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-tty
	T=$BATS_TEST_TMPDIR
	export XDG_STATE_HOME=$T/state
	export TERM=xterm
	# for session: the chat, its pid in $T/pid, its status in $T/rc;
	# the signals a background job starts with ignored by default
	CHAT="sh -c 'ulimit -c 0; echo \$\$ >$T/pid; exec env --default-signal oai-chat'; echo \$? >$T/rc"
}
teardown() { ! declare -F tm_stop >/dev/null || tm_stop; }

msgs() { srv_req_field "$1" '.body | fromjson | .messages | tojson'; }

# chat INPUT [ARGS]: INPUT typed at a terminal (script), whose end of
# input is a Ctrl-D once the chat has read the rest; a hang fails
chat() {
	run timeout 10 bash -c "printf '$1' | script -qfec 'oai-chat ${2:-}' /dev/null"
}

@test "tty: a Ctrl-D while the request is out (a 500 after 300 ms) ends the chat, status 0" {
	srv_queue '{"status": 500, "delay_ms": 300,
		"json": {"error": {"message": "boom", "type": "server_error"}}}'
	chat 'hi\n' '--retries 0'
	assert_status 0
	assert_output_contains 'oai-chat: 500 server_error: boom'
	assert_equal 1 "$(srv_nreq)"
}

@test "tty: a Ctrl-D while a reply streams: the reply whole and kept, then the end" {
	srv_queue '{"sse": [{"choices": [{"index": 0, "delta": {"content": "slow"}}]},
		{"choices": [{"index": 0, "delta": {"content": " reply"}}]}], "sse_done": true,
		"stall_after": 70, "stall_ms": 400}'
	chat 'hi\n' "-c $T/c.jsonl"
	assert_status 0
	[[ $output == *slow*' reply'* ]] || fail "$output"	# ^D echoed between, or not
	assert_equal '{"role":"user","content":"hi"}
{"role":"assistant","content":"slow reply","model":"gpt-4o"}' "$(cat "$T/c.jsonl")"
}

@test "tty: lines typed during a reply reach the next prompt; the Ctrl-D after them ends the chat" {
	srv_queue '{"delay_ms": 300}'
	chat 'one\ntwo\n'
	assert_status 0
	assert_equal 2 "$(srv_nreq)"
	assert_equal '[{"role":"user","content":"one"},{"role":"assistant","content":"echo: one"},{"role":"user","content":"two"}]' "$(msgs 2)"
	assert_output_contains 'echo: two'
}

@test "tty: the terminal's modes are the same after the chat as before (end of input, and an unreachable server)" {
	run timeout 10 bash -c "printf 'hi\n' | script -qfec 'stty -g >$T/before; oai-chat; stty -g >$T/after' /dev/null"
	assert_status 0
	assert_equal "$(cat "$T/before")" "$(cat "$T/after")"
	run timeout 10 bash -c "printf 'hi\n' | script -qfec 'OPENAI_BASE_URL=http://127.0.0.1:1/v1 oai-chat --retries 0; stty -g >$T/after' /dev/null"
	assert_status 0
	assert_output_contains 'oai-chat: http://127.0.0.1:1/v1/chat/completions: '
	assert_equal "$(cat "$T/before")" "$(cat "$T/after")"
	# output to a file: libedit leaves the terminal alone, and so do we
	run timeout 10 bash -c "printf 'hi\n' | script -qfec 'oai-chat >$T/out; stty -g >$T/after' /dev/null"
	assert_status 0
	assert_equal 'echo: hi' "$(cat "$T/out")"
	assert_equal "$(cat "$T/before")" "$(cat "$T/after")"
}

# session CMD: CMD run by the shell at a terminal (script) whose input
# is the FIFO $T/in, open on fd 5 (printf X >&5 types X, exec 5>&- ends
# the input: a Ctrl-D); the terminal's output goes to $T/out.  CMD
# writes the terminal's modes to $T/before first, to $T/after last.
session() {
	mkfifo "$T/in"
	script -qfec "stty -g >$T/before; $1; stty -g >$T/after" /dev/null \
		<"$T/in" >"$T/out" 2>&1 3>&- &
	SPID=$!
	exec 5>"$T/in"
}
# waitfor FILE TEXT: until FILE holds TEXT (10 s at most)
waitfor() {
	local i
	for i in $(seq 200); do
		grep -qs -- "$2" "$1" && return 0
		sleep 0.05
	done
	fail "no '$2' in $1: $(cat -v "$1" 2>&1)"
}
stalled() {
	srv_queue '{"sse": [{"choices": [{"index": 0, "delta": {"content": "slow"}}]},
		{"choices": [{"index": 0, "delta": {"content": " reply"}}]}], "sse_done": true,
		"stall_after": 70, "stall_ms": '"$1"'}'
}

@test "tty: SIGQUIT during a reply: the terminal's modes from before, status 131" {
	stalled 30000
	session "$CHAT"
	printf 'hi\n' >&5
	waitfor "$T/out" slow
	kill -QUIT "$(cat "$T/pid")"
	waitfor "$T/rc" .
	exec 5>&-
	wait $SPID
	assert_equal 131 "$(cat "$T/rc")"
	assert_equal "$(cat "$T/before")" "$(cat "$T/after")"
}

@test "tmux: stopped during a reply the terminal has its modes from before; after fg the reply ends, Ctrl-D ends the chat, the modes as before" {
	load tmux
	stalled 1500
	# a shell for job control that leaves the terminal's modes alone
	tm chatstop "PS1='$ ' dash -i"
	wait_for '^\$'
	pty=$(tmux display -p -t "$S" '#{pane_tty}')
	before=$(stty -g <"$pty")
	tmux send-keys -t "$S" 'oai-chat' Enter
	wait_for '^>'
	tmux send-keys -t "$S" 'hi' Enter
	wait_for 'slow'
	tmux send-keys -t "$S" C-z
	wait_for 'Stopped'
	assert_equal "$before" "$(stty -g <"$pty")"
	tmux send-keys -t "$S" 'fg' Enter
	wait_for '^ reply'	# after the ^Z line
	tmux send-keys -t "$S" C-d
	wait_last '$'	# the shell's prompt: the chat has left
	tmux send-keys -t "$S" 'echo rc=$?' Enter
	wait_for 'rc=0'
	assert_equal "$before" "$(stty -g <"$pty")"
}
