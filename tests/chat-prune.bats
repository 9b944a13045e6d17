#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-chat keeps the OAI_HISTORY_SIZE (default 1000) conversations of
# its state directory changed last: saving a new one removes the oldest
# beyond that; nothing else in the directory, no -c file, is touched.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-prune
	T=$BATS_TEST_TMPDIR
	export XDG_STATE_HOME=$T/state
	D=$T/state/oai/conversations
	mkdir -p "$D"
}

# old N: conversations old-1 .. old-N, old-1 changed first (in 2020)
old() {
	local i
	for i in $(seq "$1"); do
		echo '{"role":"user","content":"q'"$i"'"}' > "$D/old-$i.jsonl"
		touch -d "@$((1577836800 + i))" "$D/old-$i.jsonl"
	done
}

@test "OAI_HISTORY_SIZE=3: a new conversation removes the oldest beyond 3, nothing else" {
	old 5
	echo keep > "$D/notes.txt"
	echo '{"role":"user","content":"mine"}' > "$T/mine.jsonl"
	OAI_HISTORY_SIZE=3 run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_output 'echo: hi'
	# the new one and old-4, old-5; old-1..3 gone
	assert_equal 'notes.txt old-4.jsonl old-5.jsonl' "$(cd "$D" && ls | grep -v '^2' | xargs)"
	assert_equal 1 "$(ls "$D" | grep -c '^2.*\.jsonl$')"
	OAI_HISTORY_SIZE=3 run --separate-stderr oai-chat -c "$T/mine.jsonl" again </dev/null
	assert_status 0
	assert_equal 4 "$(ls "$D" | wc -l)"	# -c: no new saved one, none removed
	[ -f "$T/mine.jsonl" ]
}

@test "the default keeps 1000 conversations" {
	old 1
	(cd "$D" && for i in $(seq 2 1000); do echo '{}' > "old-$i.jsonl"; done &&
		touch -d @1577840000 old-*.jsonl && touch -d @1577836800 old-1.jsonl)
	run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_equal 1000 "$(ls "$D" | wc -l)"
	[ ! -e "$D/old-1.jsonl" ] || fail "old-1 kept"
	[ -f "$D/old-2.jsonl" ] || fail "old-2 removed"
}

@test "--continue and --no-save remove nothing" {
	old 4
	OAI_HISTORY_SIZE=2 run --separate-stderr oai-chat -C more </dev/null
	assert_status 0
	OAI_HISTORY_SIZE=2 run --separate-stderr oai-chat --no-save hi </dev/null
	assert_status 0
	assert_equal 'old-1.jsonl old-2.jsonl old-3.jsonl old-4.jsonl' "$(ls "$D" | xargs)"
}

@test "OAI_HISTORY_SIZE that is not a count of 1 or more: exit 2 before any request" {
	old 2
	OAI_HISTORY_SIZE=0 run --separate-stderr oai-chat hi </dev/null
	assert_status 2
	assert_output ''
	assert_stderr 'oai-chat: OAI_HISTORY_SIZE: 0 is out of range (1 to 1000000000)'
	OAI_HISTORY_SIZE=lots run --separate-stderr oai-chat hi </dev/null
	assert_status 2
	assert_stderr "oai-chat: OAI_HISTORY_SIZE: 'lots' is not a number"
	assert_equal 0 "$(srv_nreq)"
	assert_equal 2 "$(ls "$D" | wc -l)"
}

# The new one is kept by name, whatever the others' times (a clock set
# back, a copy with its times kept, a server's clock over NFS).
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
