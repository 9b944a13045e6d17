#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# The one input reader (lib/input.c, issue 10 and issue 16 item 8): a
# flooding standard input neither hides Ctrl-C or SIGTERM nor grows
# without limit.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() { load helper; srv_reset; cd "$BATS_TEST_TMPDIR"; }

# flood_signal SIG CMD...: CMD reads 30 MB of lines from a regular file,
# so read() never waits (as with a fast pipe); SIG must end it with
# 128+SIG, quietly, long before the end of the input.
flood_signal() {
	local sig=$1 pid st=0 want
	shift
	want=$([ "$sig" = INT ] && echo 130 || echo 143)
	[ -s lines ] || yes | head -c 30000000 >lines
	"$@" <lines >/dev/null 2>err &
	pid=$!
	sleep 0.5
	signal_until_gone "$pid" "$sig"
	wait "$pid" || st=$?
	assert_equal "$want" "$st" || fail "$* under SIG$sig"
	assert_equal '' "$(cat err)"
}

@test "input: Ctrl-C and SIGTERM end a flood of lines promptly (130, 143)" {
	flood_signal INT oai-embed --dry-run
	flood_signal TERM oai-embed --dry-run
	assert_equal 0 "$(srv_nreq)"
}

@test "input: a prompt from a flooding stdin stops at 64 MiB with one line and exit 2" {
	skip_under_valgrind "64 MiB through every tool"
	local t
	for t in oai-chat oai-speak oai-moderate "oai-embed --whole"; do
		SECONDS=0
		run --separate-stderr timeout 60 bash -c "yes | $t"
		assert_status 2
		assert_stderr "${t%% *}: standard input: over the 64 MiB input limit"
		[ "$SECONDS" -lt 30 ] || fail "$t took ${SECONDS}s"
	done
	assert_equal 0 "$(srv_nreq)"
}

@test "input: a line over 64 MiB is refused with its place" {
	skip_under_valgrind "64 MiB through every tool"
	run --separate-stderr timeout 60 bash -c \
		'{ echo ok; head -c 70000000 /dev/zero | tr "\0" a; } | oai-embed --dry-run'
	assert_status 2
	assert_stderr 'oai-embed: standard input:2: a line over the 64 MiB input limit'
}

@test "input: invalid UTF-8 and NUL bytes are named with their offset, the same way in every tool" {
	printf 'ab\303(' > bad
	run --separate-stderr oai-chat -f bad
	assert_status 2
	assert_stderr 'oai-chat: bad: not valid UTF-8 at byte offset 2'
	run --separate-stderr oai-moderate bad
	assert_status 2
	assert_stderr 'oai-moderate: bad: not valid UTF-8 at byte offset 2'
	printf 'a\0b' > nul
	run --separate-stderr oai-speak < nul
	assert_status 2
	assert_stderr 'oai-speak: standard input: a NUL byte at byte offset 1'
	assert_equal 0 "$(srv_nreq)"
	# -l checks (and prints) the lines before the bad one, as oai-embed
	# embeds them, then stops with its name
	printf 'ok\nab\303(\n' > bad2
	run --separate-stderr oai-moderate -l bad2
	assert_status 2
	assert_stderr 'oai-moderate: bad2:2: not valid UTF-8 at byte offset 2'
	assert_equal '["ok"]' "$(srv_req_field 1 '.body|fromjson|.input|tojson')"
	assert_equal 1 "$(srv_nreq)"
}
