#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-chat's OAI_HISTORY_SIZE pruning never removes the conversation it
# has just saved, whatever the times of the others (a file changed "in
# the future": a clock set back, a copy with its times kept, a server's
# clock over NFS).
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-review-prune
	T=$BATS_TEST_TMPDIR
	export XDG_STATE_HOME=$T/state
	D=$T/state/oai/conversations
	mkdir -p "$D"
}

@test "OAI_HISTORY_SIZE=1: the new conversation stays though another was changed later" {
	echo '{"role":"user","content":"q"}' > "$D/later.jsonl"
	touch -d @4102444800 "$D/later.jsonl"	# 2100
	OAI_HISTORY_SIZE=1 run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_output 'echo: hi'
	assert_equal 1 "$(ls "$D" | wc -l)"
	f=$(ls "$D"/2*.jsonl) || fail "the new conversation was removed"
	assert_equal 1 "$(grep -c '"content":"hi"' "$f")"
}

@test "OAI_HISTORY_SIZE=2: of the others, the oldest goes; the new one stays" {
	echo '{}' > "$D/a.jsonl"
	echo '{}' > "$D/b.jsonl"
	touch -d @4102444800 "$D/a.jsonl"
	touch -d @4102444801 "$D/b.jsonl"
	OAI_HISTORY_SIZE=2 run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_equal 'b.jsonl' "$(cd "$D" && ls | grep -v '^2' | xargs)"
	assert_equal 1 "$(ls "$D" | grep -c '^2.*\.jsonl$')"
}
