#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-chat keeps the OAI_HISTORY_SIZE (default 1000) conversations of
# its state directory changed last: saving a new one removes the oldest
# beyond that; nothing else in the directory, no -c file, no .jsonl of a
# name oai-chat does not give, is touched.
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

# old N: conversations 20200101-000000-1 .. -N (named as oai-chat names
# them, the last field a process id), the first changed first (in 2020)
old() {
	local i
	for i in $(seq "$1"); do
		echo '{"role":"user","content":"q'"$i"'"}' > "$D/20200101-000000-$i.jsonl"
		touch -d "@$((1577836800 + i))" "$D/20200101-000000-$i.jsonl"
	done
}
# saved: the conversations of $D saved by the test (not made by it, in
# 2020 or 2100); others: the other files, in C order
saved() { LC_ALL=C ls "$D" | grep -E '^20[0-9]{6}-' | grep -v -E '^(20200101|21000101)-'; }
others() { LC_ALL=C ls "$D" | grep -v -x -F -f <(saved; echo /) | xargs; }

@test "OAI_HISTORY_SIZE=3: a new conversation removes the oldest beyond 3, nothing else" {
	old 5
	echo keep > "$D/notes.txt"
	echo '{"role":"user","content":"mine"}' > "$T/mine.jsonl"
	OAI_HISTORY_SIZE=3 run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_output 'echo: hi'
	# the new one and old 4, 5; 1..3 gone
	assert_equal '20200101-000000-4.jsonl 20200101-000000-5.jsonl notes.txt' "$(others)"
	assert_equal 1 "$(saved | grep -c '\.jsonl$')"
	OAI_HISTORY_SIZE=3 run --separate-stderr oai-chat -c "$T/mine.jsonl" again </dev/null
	assert_status 0
	assert_equal 4 "$(ls "$D" | wc -l)"	# -c: no new saved one, none removed
	[ -f "$T/mine.jsonl" ]
}

@test "the default keeps 1000 conversations" {
	old 1
	(cd "$D" && for i in $(seq 2 1000); do echo '{}' > "20200101-000000-$i.jsonl"; done &&
		touch -d @1577840000 20200101-*.jsonl &&
		touch -d @1577836800 20200101-000000-1.jsonl)
	run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_equal 1000 "$(ls "$D" | wc -l)"
	[ ! -e "$D/20200101-000000-1.jsonl" ] || fail "the oldest kept"
	[ -f "$D/20200101-000000-2.jsonl" ] || fail "the second oldest removed"
}

@test "--continue and --no-save remove nothing" {
	old 4
	OAI_HISTORY_SIZE=2 run --separate-stderr oai-chat -C more </dev/null
	assert_status 0
	OAI_HISTORY_SIZE=2 run --separate-stderr oai-chat --no-save hi </dev/null
	assert_status 0
	assert_equal '20200101-000000-1.jsonl 20200101-000000-2.jsonl 20200101-000000-3.jsonl 20200101-000000-4.jsonl' "$(ls "$D" | xargs)"
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
	echo '{"role":"user","content":"q"}' > "$D/21000101-000000-1.jsonl"
	touch -d @4102444800 "$D/21000101-000000-1.jsonl"	# 2100
	OAI_HISTORY_SIZE=1 run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_output 'echo: hi'
	assert_equal 1 "$(ls "$D" | wc -l)"
	f=$D/$(saved) && [ -f "$f" ] || fail "the new conversation was removed"
	assert_equal 1 "$(grep -c '"content":"hi"' "$f")"
}

@test "OAI_HISTORY_SIZE=2: of the others, the oldest goes; the new one stays" {
	echo '{}' > "$D/21000101-000000-7.jsonl"
	echo '{}' > "$D/21000101-000001-7-2.jsonl"	# a /reset in the same second
	touch -d @4102444800 "$D/21000101-000000-7.jsonl"
	touch -d @4102444801 "$D/21000101-000001-7-2.jsonl"
	OAI_HISTORY_SIZE=2 run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_equal '21000101-000001-7-2.jsonl' "$(others)"
	assert_equal 1 "$(saved | grep -c '\.jsonl$')"
}

# A copy kept under a name of one's own is not oai-chat's to remove, nor
# is it counted; names near oai-chat's are not its either.
@test "OAI_HISTORY_SIZE=1: a .jsonl of another name is neither removed nor counted" {
	old 2
	for f in notes 2020-01-01 20200101-000000 20200101-000000-x \
	    20200101-000000-1- 2020010-000000-1 20200101-00000-1 \
	    20200101_000000-1 20200101-000000--1 20200101-000000-1-2-3; do
		echo '{"role":"user","content":"q"}' > "$D/$f.jsonl"
		touch -d @1577836000 "$D/$f.jsonl"	# older than old's
	done
	OAI_HISTORY_SIZE=1 run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_equal '2020-01-01.jsonl 2020010-000000-1.jsonl 20200101-00000-1.jsonl 20200101-000000--1.jsonl 20200101-000000-1-.jsonl 20200101-000000-1-2-3.jsonl 20200101-000000-x.jsonl 20200101-000000.jsonl 20200101_000000-1.jsonl notes.jsonl' "$(others)"
	run --separate-stderr oai-chat --list-conversations
	assert_status 0
	assert_equal 11 "${#lines[@]}"	# listed, all of them
}
