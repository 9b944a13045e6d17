#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# Bad input (issue 5), table-driven over every tool: empty input, invalid
# UTF-8, NUL bytes, 100 MB of input, a never-closed stdin, malformed flags
# and values.  The contract: a documented status, a clear one-line error
# (usage errors may add the usage), never a crash, never minutes.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	load hardening/tools
	srv_reset
	cd "$BATS_TEST_TMPDIR"
	hd_files
}

# feed TOOL FILE: TOOL's main path with FILE as its input: on stdin for the
# filters, as the operand for oai-transcribe; oai-speak and oai-chat get
# it on stdin with no prompt operand.
feed() {
	local t=$1 f=$2
	case $t in
	oai-chat)	run --separate-stderr timeout 60 oai-chat <"$f" ;;
	oai-complete)	run --separate-stderr timeout 60 oai-complete <"$f" ;;
	oai-image)	run --separate-stderr timeout 60 oai-image <"$f" ;;
	oai-speak)	run --separate-stderr timeout 60 oai-speak <"$f" ;;
	oai-transcribe)	cp "$f" in.mp3
			run --separate-stderr timeout 60 oai-transcribe in.mp3 ;;
	*)		hd_cmd "$t"
			run --separate-stderr timeout 60 "${HD_CMD[@]}" <"$f" ;;
	esac
}

assert_clean() {	# TOOL ALLOWED-STATUS...: documented status, no crash
	local t=$1 s ok=
	shift
	assert_no_crash
	[ "$status" != 124 ] || fail "$t: still running after 60 s"
	for s; do [ "$status" = "$s" ] && ok=1; done
	[ -n "$ok" ] || { _helper_context; fail "$t: status $status, want one of $*"; }
	[ "$status" = 0 ] || assert_one_line "$t"
}

@test "input: empty input is refused (2) or an empty result (0), by every tool" {
	for t in "${HD_TOOLS[@]}"; do
		feed "$t" empty
		assert_clean "$t" 0 2
		case $t in	# their main path reads no input: a listing
		oai-models|oai-files|oai-batch) continue ;;
		esac
		[ "$status" = 2 ] || [ -z "$output" ] ||
			fail "$t: output from empty input"
	done
}

@test "input: invalid UTF-8 is a usage error (2) naming the problem, by every text tool" {
	printf 'caf\303 au lait \377\376\n' > bad
	for t in "${HD_TOOLS[@]}"; do
		feed "$t" bad
		case $t in
		oai-models|oai-transcribe|oai-files|oai-batch)
			assert_clean "$t" 0 ;;	# their main path reads no text
		*) assert_clean "$t" 2; assert_equal 0 "$(srv_nreq)" ;;
		esac
		srv_reset
	done
}

@test "input: NUL bytes are refused or escaped, never truncate the text silently, by every tool" {
	printf 'before\0after\n' > nul
	for t in "${HD_TOOLS[@]}"; do
		feed "$t" nul
		assert_clean "$t" 0 2
		if [ "$status" = 0 ] && [ "$(srv_nreq)" -ge 1 ] &&
			[ "$t" != oai-transcribe ] && [ "$t" != oai-models ] &&
			[ "$t" != oai-files ] && [ "$t" != oai-batch ]; then
			# Sent: the whole text reached the server.
			srv_req_field 1 .body | grep -q after ||
				fail "$t: the text after the NUL was dropped"
		fi
		srv_reset
	done
}

@test "input: 100 MB of input: a clear error or a result, within a minute, by every tool" {
	yes 'All work and no play makes Jack a dull boy.' | head -c 100000000 > big
	hd_each big big
}

big() {
	local t=$1
	{
		# As the API does: too long for the model.  (The test server's
		# echo of 100 MB word by word would take minutes itself.)
		srv_queue '{"status": 400, "repeat": 100000, "json": {"error": {"message": "This model'"'"'s maximum context length is 128000 tokens.", "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}}'
		SECONDS=0
		feed "$t" big
		assert_clean "$t" 0 2 4 5
		echo "# $t: status $status in ${SECONDS}s" >&3
		srv_reset
	}
}

@test "input: a never-closed stdin is not read when the input is an operand" {
	# oai-chat reads a stdin that is not a terminal even with a prompt
	# operand, by design (issue 3: stdin first, then the arguments).
	for c in 'oai-speak hi' 'oai-transcribe hello.mp3' 'oai-models' \
		'oai-embed hello.txt' 'oai-moderate hello.txt'; do
		srv_reset
		run --separate-stderr timeout 20 $c < <(exec sleep 30 3>&- >/dev/null)
		[ "$status" != 124 ] || fail "$c waits for stdin"
		assert_status 0
		assert_stderr ''
	done
}

@test "input: malformed flags and values are usage errors (2), by every tool" {
	local args
	for t in "${HD_TOOLS[@]}"; do
		for args in '--no-such-option' '-Z' '--timeout' '--timeout abc' \
			'--timeout 0' '--timeout -1' '--timeout 1e3' \
			'--timeout 99999999999999999999999' '--retries x' \
			'--retries -1' '--retries 1.5' '--timeout= ' \
			'--base-url not-a-url' '--base-url ftp://127.0.0.1/v1' \
			'--base-url='; do
			hd_cmd "$t" $args
			[ "$args" != '--timeout' ] || HD_CMD=("$t" --timeout)
			run --separate-stderr "${HD_CMD[@]}" <"$HD_IN"
			assert_no_crash
			[ "$status" = 2 ] || { _helper_context; fail "$t $args: status $status"; }
			# The first line names the tool (getopt uses argv[0]).
			[[ ${stderr%%$'\n'*} == *"$t: "?* ]] ||
				{ _helper_context; fail "$t $args: first line"; }
			assert_output ''
		done
		assert_equal 0 "$(srv_nreq)"
	done
}

@test "input: an unusable --api-key-file is 3 with one line, by every tool" {
	mkdir dir
	: > emptykey; chmod 600 emptykey
	for t in "${HD_TOOLS[@]}"; do
		for f in nope dir emptykey; do
			hd_cmd "$t" --api-key-file "$f"
			run --separate-stderr "${HD_CMD[@]}" <"$HD_IN"
			assert_status 3
			assert_one_line "$t"
		done
	done
	assert_equal 0 "$(srv_nreq)"
}
