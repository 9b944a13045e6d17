#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-chat's interactive chat (issue 14, item 3): bracketed paste, a
# paste of several lines as one message, the terminal never left in the
# mode; lines in UTF-8.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	load tmux
	srv_reset
	export OPENAI_API_KEY=sk-test-paste
	T=$BATS_TEST_TMPDIR
	export XDG_STATE_HOME=$T/state
	export TERM=xterm
}

msgs() { srv_req_field "$1" '.body | fromjson | .messages | tojson'; }

# chat INPUT [ARGS]: an interactive session at a terminal (script); the
# terminal's output, raw, in $output
chat() {
	run bash -c "printf '$1' | script -qec 'oai-chat ${2:-}' /dev/null"
}

# modes: the bracketed-paste switches in $output, in order (h on, l off)
modes() { grep -ao $'\e\\[?2004[hl]' <<<"$output" | cut -c8 | tr -d '\n'; }

@test "paste: the text between ESC [ 200 ~ and ESC [ 201 ~ is one message, its newlines kept" {
	chat '\033[200~first line\r  second\n\rlast\033[201~\nnext\n'
	assert_status 0
	assert_equal 2 "$(srv_nreq)"
	assert_equal '[{"role":"user","content":"first line\n  second\n\nlast"}]' "$(msgs 1)"
	assert_equal 'next' "$(msgs 2 | jq -r '.[2].content')"
	assert_output_contains 'echo: first line'
}

@test "paste: the mode is on while a line is read and off before the answer and at the end" {
	chat 'hi\n'
	assert_status 0
	assert_equal hlhl "$(modes)"
	[[ $output == *$'\e[?2004l'*'echo: hi'*$'\e[?2004h> '* ]] || fail "$output"
	[[ $output == *$'\e[?2004h> '*$'\e[?2004h> '* ]] || fail "$output"
}

@test "paste: no mode with TERM=dumb, none unset, none when standard output is no terminal" {
	TERM=dumb chat 'hi\n'
	assert_status 0
	assert_equal '' "$(modes)"
	assert_output_contains 'echo: hi'
	unset TERM
	chat 'hi\n'
	assert_equal '' "$(modes)"
	run bash -c "printf 'hi\n' | script -qec 'oai-chat >$T/out' /dev/null"
	assert_status 0
	assert_equal '' "$(modes)"
	run grep -c $'\e\\[?2004' "$T/out"
	assert_output 0
	assert_equal 3 "$(srv_nreq)"
}

@test "interactive: a line in UTF-8 is sent whole, whatever the locale" {
	LC_ALL=C chat 'caf\303\251 \342\202\254\n'
	assert_status 0
	assert_equal '[{"role":"user","content":"café €"}]' "$(msgs 1)"
	chat '\033[200~na\303\257ve\r\342\234\223\033[201~\n'
	assert_equal '[{"role":"user","content":"naïve\n✓"}]' "$(msgs 2)"
}

@test "paste: a pasted message is one line of the history" {
	chat '\033[200~one\rtwo\033[201~\n'
	chat '\020\n'		# Ctrl-P: the message before
	assert_status 0
	assert_equal 2 "$(srv_nreq)"
	assert_equal '[{"role":"user","content":"one\ntwo"}]' "$(msgs 2)"
}

# ---- through tmux: what a terminal does --------------------------------

rawmodes() { grep -ao $'\e\\[?2004[hl]' "$T/raw" | cut -c8 | tr -d '\n'; }
teardown() { tm_stop; }

@test "tmux: paste-buffer -p (bracketed, as the chat asked) is one message; the terminal is left out of the mode" {
	tm chatpaste "oai-chat -c '$T/c.jsonl'; echo rc=\$?; sleep 30"
	wait_for '^>'
	tmux set-buffer -b p "$(printf 'one\ntwo\n\n  three')"
	tmux paste-buffer -p -b p -t "$S"
	tmux send-keys -t "$S" Enter
	wait_for 'echo: one'
	tmux send-keys -t "$S" C-c	# at the prompt: drops the line
	tmux send-keys -t "$S" C-d
	wait_for 'rc=0'
	assert_equal 1 "$(srv_nreq)"
	assert_equal '[{"role":"user","content":"one\ntwo\n\n  three"}]' "$(msgs 1)"
	assert_equal '{"role":"user","content":"one\ntwo\n\n  three"}' "$(head -n1 "$T/c.jsonl")"
	assert_equal hlhlhl "$(rawmodes)"
}

@test "tmux: suspended at the prompt the mode is off, on again after fg, and the paste still one message" {
	# a shell for job control, itself never in the mode
	echo 'set enable-bracketed-paste off' >"$T/inputrc"
	tm chatstop "INPUTRC='$T/inputrc' PS1='$ ' bash --norc --noprofile -i"
	wait_for '^\$'
	tmux send-keys -t "$S" 'oai-chat' Enter
	wait_for '^>'
	tmux send-keys -t "$S" C-z
	wait_for 'Stopped'
	assert_equal hl "$(rawmodes)"
	tmux send-keys -t "$S" 'fg' Enter
	for i in $(seq 500); do [ "$(rawmodes)" = hlh ] && break; sleep 0.02; done
	assert_equal hlh "$(rawmodes)"
	tmux set-buffer -b p "$(printf 'a\nb')"
	tmux paste-buffer -p -b p -t "$S"
	tmux send-keys -t "$S" Enter
	wait_for 'echo: a'
	tmux send-keys -t "$S" C-d
	wait_last '$'	# the shell's prompt: the chat has left
	tmux send-keys -t "$S" 'echo rc=$?' Enter
	wait_for 'rc=0'
	assert_equal '[{"role":"user","content":"a\nb"}]' "$(msgs 1)"
	assert_equal hlhlhl "$(rawmodes)"
}
