# See LICENSE file for copyright and license details.
# The interactive chat at a real terminal: tmux, one server per test
# under $BATS_TEST_TMPDIR, so a test never meets another's sessions.
#
# tm NAME CMD: start CMD in a tmux session NAME (skips without tmux); the
#   terminal's raw output goes to $BATS_TEST_TMPDIR/raw.
# wait_for RE: until the screen shows RE (10 s at most; the screen on
#   stderr and status 1 when it never does).
# wait_last LINE: until the screen's last line that is not blank is
#   LINE, trailing blanks aside (10 s at most, as wait_for): a shell's
#   prompt back, say.  Keys sent before it would reach the program still
#   running, and one that ends flushes what it had not read (libedit's
#   el_end() sets the terminal back with TCSAFLUSH).
# tm_stop: the tmux server and what runs in it gone (for teardown).

tm() {
	command -v tmux >/dev/null || skip "tmux is not installed"
	# Clock-bound: each step must show within wait_for's 10 s, which
	# the chat under valgrind can outlast (not the Ctrl-D lost between
	# lines: lib/lineedit.c keeps it now, and the script(1) tests run).
	skip_under_valgrind "a terminal driven against the clock"
	export TMUX_TMPDIR=$BATS_TEST_TMPDIR S=$1
	# CMD waits until the pipe is there, so that no byte is missed
	tmux new-session -d -s "$S" -x 100 -y 20 \
		"until [ -e '$BATS_TEST_TMPDIR/go' ]; do sleep 0.01; done; $2"
	tmux pipe-pane -t "$S" -o "cat >>'$BATS_TEST_TMPDIR/raw'"
	touch "$BATS_TEST_TMPDIR/go"
}

wait_for() {
	local i
	for i in $(seq 500); do
		tmux capture-pane -p -t "$S" | grep -q -- "$1" && return 0
		sleep 0.02
	done
	tmux capture-pane -p -t "$S" >&2
	return 1
}

wait_last() {
	local i
	for i in $(seq 500); do
		[ "$(tmux capture-pane -p -t "$S" | sed 's/[[:space:]]*$//' |
		    grep -v '^$' | tail -n 1)" = "$1" ] && return 0
		sleep 0.02
	done
	tmux capture-pane -p -t "$S" >&2
	return 1
}

tm_stop() { [ -z "${S:-}" ] || tmux kill-server 2>/dev/null || :; }
