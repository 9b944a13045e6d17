#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-chat's conversations (issue 14, item 3): the model in -c files,
# conversations saved under $XDG_STATE_HOME/oai, -C and
# --list-conversations, the interactive chat's line history, """ blocks,
# an interrupted answer kept, /system and /reset saying what they did.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-conv
	T=$BATS_TEST_TMPDIR
	export XDG_STATE_HOME=$T/state
	D=$T/state/oai/conversations
}

# a tmux test that failed half way leaves no terminal behind
teardown() { ! declare -F tm_stop >/dev/null || tm_stop; }

# msgs N: the messages of request N, compact
msgs() { srv_req_field "$1" '.body | fromjson | .messages | tojson'; }
model() { srv_req_field "$1" '.body | fromjson | .model'; }
# the one saved conversation's file
saved() { ls "$D"/*.jsonl; }

# ---- the model in -c files ---------------------------------------------

@test "-c: the model is kept on the reply; without -m the next run uses it, -m overrides and is recorded" {
	run --separate-stderr oai-chat -c "$T/c.jsonl" -m gpt-x one </dev/null
	assert_status 0
	assert_equal '{"role":"user","content":"one"}
{"role":"assistant","content":"echo: one","model":"gpt-x"}' "$(cat "$T/c.jsonl")"
	OAI_CHAT_MODEL=from-env run --separate-stderr oai-chat -c "$T/c.jsonl" two </dev/null
	assert_status 0
	assert_equal gpt-x "$(model 2)"
	# the model is no API field: it is not sent back
	assert_equal '[{"role":"user","content":"one"},{"role":"assistant","content":"echo: one"},{"role":"user","content":"two"}]' "$(msgs 2)"
	run --separate-stderr oai-chat -c "$T/c.jsonl" -m gpt-y three </dev/null
	assert_equal gpt-y "$(model 3)"
	assert_equal '{"role":"assistant","content":"echo: three","model":"gpt-y"}' "$(tail -n1 "$T/c.jsonl")"
	run --separate-stderr oai-chat -c "$T/c.jsonl" four </dev/null
	assert_equal gpt-y "$(model 4)"
}

@test "-c: a file with no model on its replies uses -m, \$OAI_CHAT_MODEL or gpt-4o as before" {
	printf '{"role":"user","content":"q"}\n{"role":"assistant","content":"a"}\n' >"$T/old.jsonl"
	OAI_CHAT_MODEL=from-env run --separate-stderr oai-chat -c "$T/old.jsonl" hi </dev/null
	assert_status 0
	assert_equal from-env "$(model 1)"
	assert_equal '{"role":"assistant","content":"echo: hi","model":"from-env"}' "$(tail -n1 "$T/old.jsonl")"
}

@test "--messages accepts a conversation file: the models are taken out of what is sent" {
	printf '{"role":"user","content":"q"}\n{"role":"assistant","content":"a","model":"m1"}\n{"role":"user","content":"r"}\n' >"$T/c.jsonl"
	run --separate-stderr oai-chat --no-save --messages <"$T/c.jsonl"
	assert_status 0
	assert_output 'echo: r'
	assert_equal '[{"role":"user","content":"q"},{"role":"assistant","content":"a"},{"role":"user","content":"r"}]' "$(msgs 1)"
}

# ---- saved conversations and -C ----------------------------------------

@test "a question is saved in a new file (0600 in 0700); -C continues it with its system message and model" {
	run --separate-stderr oai-chat -s sys -m gpt-x one </dev/null
	assert_status 0
	assert_stderr ''
	assert_output 'echo: one'
	f=$(saved)
	[[ $(basename "$f") =~ ^[0-9]{8}-[0-9]{6}-[0-9]+\.jsonl$ ]] || fail "name: $f"
	assert_equal 600 "$(stat -c %a "$f")"
	assert_equal 700 "$(stat -c %a "$D")"
	assert_equal 700 "$(stat -c %a "$T/state/oai")"
	assert_equal '{"role":"system","content":"sys"}
{"role":"user","content":"one"}
{"role":"assistant","content":"echo: one","model":"gpt-x"}' "$(cat "$f")"
	run --separate-stderr oai-chat -C two </dev/null
	assert_status 0
	assert_equal gpt-x "$(model 2)"
	assert_equal '[{"role":"system","content":"sys"},{"role":"user","content":"one"},{"role":"assistant","content":"echo: one"},{"role":"user","content":"two"}]' "$(msgs 2)"
	run --separate-stderr oai-chat --continue -m gpt-y three </dev/null
	assert_equal gpt-y "$(model 3)"
	assert_equal "$f" "$(saved)"	# still one conversation
	assert_equal 7 "$(grep -c '' "$f")"
	assert_equal '{"role":"assistant","content":"echo: three","model":"gpt-y"}' "$(tail -n1 "$f")"
}

@test "-C continues the conversation changed last, not the one begun last" {
	mkdir -p "$D"
	echo '{"role":"user","content":"older"}' >"$D/20240101-000000-1.jsonl"
	echo '{"role":"user","content":"newer"}' >"$D/20250101-000000-1.jsonl"
	touch -d '2020-01-01' "$D/20250101-000000-1.jsonl"
	run --separate-stderr oai-chat -C hi </dev/null
	assert_status 0
	assert_equal '[{"role":"user","content":"older"},{"role":"user","content":"hi"}]' "$(msgs 1)"
	assert_equal 3 "$(grep -c '' "$D/20240101-000000-1.jsonl")"
}

@test "-C with no saved conversation is status 2, nothing sent; the default directory is ~/.local/state/oai" {
	unset XDG_STATE_HOME
	run --separate-stderr oai-chat -C hi </dev/null
	assert_status 2
	assert_output ''
	assert_stderr "oai-chat: --continue: no saved conversation in $HOME/.local/state/oai/conversations"
	assert_equal 0 "$(srv_nreq)"
	run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_equal 1 "$(ls "$HOME/.local/state/oai/conversations" | grep -c '\.jsonl$')"
}

@test "--no-save, OAI_NO_HISTORY, --each, --dry-run and -c save nothing in the state directory" {
	run oai-chat --no-save hi </dev/null
	assert_status 0
	OAI_NO_HISTORY=1 run oai-chat hi </dev/null
	assert_status 0
	run bash -c 'echo x | oai-chat --each'
	assert_status 0
	run oai-chat --dry-run hi </dev/null
	assert_status 0
	run oai-chat -c "$T/c.jsonl" hi </dev/null
	assert_status 0
	assert_equal 4 "$(srv_nreq)"
	[ ! -e "$T/state" ] || fail "$(find "$T/state")"
	# -C --no-save reads the conversation and adds nothing to it
	run oai-chat -m gpt-x hi </dev/null
	before=$(cat "$(saved)")
	run --separate-stderr oai-chat -C --no-save more </dev/null
	assert_status 0
	assert_equal gpt-x "$(model 6)"
	assert_equal "$before" "$(cat "$(saved)")"
}

@test "a conversation that cannot be saved: one warning, the answer and the status stand" {
	: >"$T/file"
	XDG_STATE_HOME=$T/file run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_output 'echo: hi'
	assert_stderr "oai-chat: $T/file/oai/conversations: Not a directory (the conversation is not saved)"
}

@test "-c with -C, --each with -C, --list-conversations with a prompt: usage errors" {
	run --separate-stderr oai-chat -c "$T/c.jsonl" -C hi </dev/null
	assert_status 2
	assert_stderr 'oai-chat: -c and -C exclude each other'
	run --separate-stderr oai-chat --each -C </dev/null
	assert_status 2
	assert_stderr 'oai-chat: --each excludes -C'
	run --separate-stderr oai-chat --list-conversations hi </dev/null
	assert_status 2
	assert_stderr 'oai-chat: --list-conversations takes no prompt and excludes -c, -C and --each'
	assert_equal 0 "$(srv_nreq)"
}

# ---- --list-conversations ----------------------------------------------

@test "--list-conversations: id, date, model, messages, first question, oldest change first; --json" {
	export TZ=UTC
	run --separate-stderr oai-chat --list-conversations
	assert_status 0
	assert_output ''
	mkdir -p "$D"
	printf '{"role":"system","content":"s"}\n{"role":"user","content":"what is\\n  the   time? %s"}\n{"role":"assistant","content":"a","model":"gpt-x"}\n' \
		"$(printf 'é%.0s' $(seq 60))" >"$D/20250102-030405-42.jsonl"
	printf '{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"look"}]}\n' >"$D/20240101-000000-7.jsonl"
	echo 'not a conversation' >"$D/notes.txt"
	touch -d '2025-01-02 03:04:59' "$D/20250102-030405-42.jsonl"
	touch -d '2025-02-01 10:00:00' "$D/20240101-000000-7.jsonl"
	run --separate-stderr oai-chat --list-conversations
	assert_status 0
	assert_stderr ''
	long="what is the time? $(printf 'é%.0s' $(seq 42))..."
	assert_output "$(printf '20250102-030405-42\t2025-01-02 03:04\tgpt-x\t3\t%s\n20240101-000000-7\t2025-02-01 10:00\t-\t1\tlook' "$long")"
	run --separate-stderr oai-chat --list-conversations --json
	assert_status 0
	assert_equal "{\"id\":\"20250102-030405-42\",\"path\":\"$D/20250102-030405-42.jsonl\",\"modified\":\"2025-01-02T03:04:59Z\",\"model\":\"gpt-x\",\"messages\":3,\"first\":\"$long\"}
{\"id\":\"20240101-000000-7\",\"path\":\"$D/20240101-000000-7.jsonl\",\"modified\":\"2025-02-01T10:00:00Z\",\"model\":null,\"messages\":1,\"first\":\"look\"}" "$output"
	assert_equal 0 "$(srv_nreq)"
}

@test "--list-conversations: a file that is not a conversation is said, the others listed, status 2" {
	mkdir -p "$D"
	echo 'junk' >"$D/20240101-000000-1.jsonl"
	echo '{"role":"user","content":"ok"}' >"$D/20240101-000000-2.jsonl"
	run --separate-stderr oai-chat --list-conversations
	assert_status 2
	assert_equal 'ok' "$(cut -f5 <<<"$output")"
	assert_stderr "oai-chat: $D/20240101-000000-1.jsonl:1: not a JSON message object with a role"
}

# ---- the interactive chat ----------------------------------------------

# chat INPUT [ARGS]: an interactive session at a terminal (script)
chat() {
	run bash -c "printf '$1' | script -qec 'oai-chat ${2:-}' /dev/null"
}

@test "interactive: the line history is kept across sessions (0600); --no-save keeps none" {
	chat 'first question\n'
	assert_status 0
	assert_equal 600 "$(stat -c %a "$T/state/oai/history")"
	chat '\020\n'		# Ctrl-P: the line before
	assert_status 0
	assert_equal 2 "$(srv_nreq)"
	assert_equal '[{"role":"user","content":"first question"}]' "$(msgs 2)"
	rm "$T/state/oai/history"
	chat 'again\n' --no-save
	[ ! -e "$T/state/oai/history" ] || fail "a history with --no-save"
}

@test "interactive: a \"\"\" block is one message, a / in it no command" {
	chat '"""\n/not a command\n\n  indented\n"""\nafter\n'
	assert_status 0
	assert_equal 2 "$(srv_nreq)"
	assert_equal '[{"role":"user","content":"/not a command\n\n  indented"}]' "$(msgs 1)"
	assert_equal 'after' "$(msgs 2 | jq -r '.[2].content')"
	refute_output_contains 'unknown command'
}

@test "interactive: saved with its system message; /system and /reset say what they did, /reset begins a new file" {
	chat 'one\n/system be nice\ntwo\n/reset\nthree\n' "-s sys -m gpt-x"
	assert_status 0
	assert_output_contains 'system message set; the conversation goes on'
	assert_output_contains '4 messages forgotten; a new conversation'
	assert_equal 3 "$(srv_nreq)"
	assert_equal '[{"role":"system","content":"be nice"},{"role":"user","content":"one"},{"role":"assistant","content":"echo: one"},{"role":"user","content":"two"}]' "$(msgs 2)"
	assert_equal 2 "$(ls "$D" | grep -c '')"
	first=$(ls -tr "$D" | head -n1) second=$(ls -tr "$D" | tail -n1)
	# /system is the file's too (the first line)
	assert_equal '{"role":"system","content":"be nice"}
{"role":"user","content":"one"}
{"role":"assistant","content":"echo: one","model":"gpt-x"}
{"role":"user","content":"two"}
{"role":"assistant","content":"echo: two","model":"gpt-x"}' "$(cat "$D/$first")"
	assert_equal '{"role":"system","content":"be nice"}
{"role":"user","content":"three"}
{"role":"assistant","content":"echo: three","model":"gpt-x"}' "$(cat "$D/$second")"
	chat '/system\n' -C
	assert_output_contains 'system message removed'
}

# ---- /system kept in the file ------------------------------------------

@test "interactive: /system replaces the file's first line, the rest kept; a later -c goes on with it" {
	printf '{"role":"system","content":"old"}\n{"role":"user","content":"q"}\n{"role":"assistant","content":"a","model":"gpt-x"}\n' >"$T/c.jsonl"
	chmod 640 "$T/c.jsonl"
	ln -s c.jsonl "$T/link.jsonl"
	chat '/system be "brief"\nnext\n' "-c $T/link.jsonl"
	assert_status 0
	assert_output_contains 'system message set; the conversation goes on'
	assert_equal '[{"role":"system","content":"be \"brief\""},{"role":"user","content":"q"},{"role":"assistant","content":"a"},{"role":"user","content":"next"}]' "$(msgs 1)"
	assert_equal '{"role":"system","content":"be \"brief\""}
{"role":"user","content":"q"}
{"role":"assistant","content":"a","model":"gpt-x"}
{"role":"user","content":"next"}
{"role":"assistant","content":"echo: next","model":"gpt-x"}' "$(cat "$T/c.jsonl")"
	[ -L "$T/link.jsonl" ] || fail "the link was replaced"
	assert_equal 640 "$(stat -c %a "$T/c.jsonl")"
	run --separate-stderr oai-chat -c "$T/c.jsonl" again </dev/null
	assert_status 0
	assert_equal '{"role":"system","content":"be \"brief\""}' "$(msgs 2 | jq -c '.[0]')"
	assert_equal 6 "$(msgs 2 | jq length)"
}

@test "interactive: /system with no text takes the file's system line out; in a file without one it is put first" {
	printf '{"role":"system","content":"old"}\n{"role":"user","content":"q"}\n' >"$T/a.jsonl"
	chat '/system\n' "-c $T/a.jsonl"
	assert_status 0
	assert_output_contains 'system message removed'
	assert_equal '{"role":"user","content":"q"}' "$(cat "$T/a.jsonl")"
	assert_equal 0 "$(srv_nreq)"
	printf '{"role":"user","content":"q"}' >"$T/b.jsonl"	# no last newline
	chat '/system new\n' "-c $T/b.jsonl"
	assert_equal '{"role":"system","content":"new"}
{"role":"user","content":"q"}' "$(cat "$T/b.jsonl")"
	run --separate-stderr oai-chat -c "$T/b.jsonl" more </dev/null
	assert_equal '[{"role":"system","content":"new"},{"role":"user","content":"q"},{"role":"user","content":"more"}]' "$(msgs 1)"
}

@test "interactive: /system in a saved conversation is what -C goes on with; -C --no-save leaves the file" {
	chat 'one\n/system terse\n' "-s sys"
	assert_status 0
	f=$(saved)
	assert_equal '{"role":"system","content":"terse"}
{"role":"user","content":"one"}
{"role":"assistant","content":"echo: one","model":"gpt-4o"}' "$(cat "$f")"
	run --separate-stderr oai-chat -C two </dev/null
	assert_equal '[{"role":"system","content":"terse"},{"role":"user","content":"one"},{"role":"assistant","content":"echo: one"},{"role":"user","content":"two"}]' "$(msgs 2)"
	before=$(cat "$f")
	chat '/system other\n' "-C --no-save"
	assert_status 0
	assert_equal "$before" "$(cat "$f")"
	assert_equal 1 "$(ls "$D" | grep -c '')"
}
