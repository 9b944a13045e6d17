#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# Files and input (issue 16): what -o does to what is at the target
# (devices, FIFOs, symbolic links, modes, signals), oai-transcribe's
# byte counting, oai-chat -c through links, oai-models ids, oai-chat
# --json lines and tool call indexes, oai-speak < a directory.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	mkdir "$BATS_TEST_TMPDIR/w"
	cd "$BATS_TEST_TMPDIR/w"
}

need_root() { [ "$(id -u)" = 0 ] || skip "needs root (mknod)"; }

# wait_tmp NAME: until -o NAME's hidden temporary file holds some bytes.
wait_tmp() {
	local i f
	for i in $(seq 200); do
		f=$(ls -A | grep "^\.$1\." || true)
		[ -n "$f" ] && [ -s "$f" ] && return 0
		sleep 0.05
	done
	fail "no temporary file for $1: $(ls -A)"
}

# --- -o: what is at the target --------------------------------------------

@test "-o to a character device writes to it and keeps the node" {
	need_root
	mknod null c 1 3	# a private /dev/null: the real one stays safe
	run --separate-stderr oai-speak -o null hi
	assert_status 0
	assert_stderr ''
	[ -c null ] || fail "null is no longer a character device: $(ls -l null)"
	assert_equal null "$(ls -A)"
	run --separate-stderr oai-speak -o /dev/null hi
	assert_status 0
	[ -c /dev/null ] || fail "/dev/null is no longer a character device"
	assert_equal '' "$(ls -A /dev | grep '^\.null\.' || true)"
}

@test "-o to a FIFO: the reader gets the audio, the FIFO stays" {
	mkfifo f
	timeout 10 cat f > got &
	run --separate-stderr timeout 10 oai-speak -o f hi
	wait
	assert_status 0
	assert_stderr ''
	[ -p f ] || fail "f is no longer a FIFO: $(ls -l f)"
	assert_equal 256 "$(wc -c < got)"
	assert_equal "$(printf 'f\ngot')" "$(ls -A)"
}

@test "-o /dev/stdout writes to standard output (a pipe, a file)" {
	oai-speak -o /dev/stdout hi | wc -c > n
	assert_equal 256 "$(cat n)"
	[ -L /dev/stdout ] || fail "/dev/stdout is no longer a link"
	oai-speak -o /dev/stdout hello > out.mp3
	assert_equal 640 "$(wc -c < out.mp3)"
	assert_equal "$(printf 'n\nout.mp3')" "$(ls -A)"
}

@test "-o through a symbolic link: the link stays, its file gets the audio" {
	mkdir d
	echo old > d/real.mp3
	ln -s d/real.mp3 link.mp3
	run --separate-stderr oai-speak -o link.mp3 hi
	assert_status 0
	assert_stderr ''
	[ -L link.mp3 ] || fail "link.mp3 was replaced: $(ls -l link.mp3)"
	assert_equal d/real.mp3 "$(readlink link.mp3)"
	assert_equal 256 "$(wc -c < d/real.mp3)"
	assert_equal real.mp3 "$(ls -A d)"
	# a relative link is relative to its own directory; chains are followed
	ln -s ../new.mp3 d/rel
	ln -s d/rel chain
	run --separate-stderr oai-speak -o chain hello
	assert_status 0
	[ -L chain ] && [ -L d/rel ] || fail "a link was replaced"
	assert_equal 640 "$(wc -c < new.mp3)"
	# a dangling link creates the file it names, as > does
	ln -s d/made.mp3 dangling
	run --separate-stderr oai-speak -o dangling hi
	assert_status 0
	[ -L dangling ] || fail "dangling was replaced"
	assert_equal 256 "$(wc -c < d/made.mp3)"
	assert_equal "$(printf 'made.mp3\nreal.mp3\nrel')" "$(ls -A d)"
	# a loop is an error naming the file, and nothing is requested
	ln -s loop2 loop1
	ln -s loop1 loop2
	srv_reset
	run --separate-stderr oai-speak -o loop1 hi
	assert_status 5
	assert_stderr 'oai-speak: loop1: Too many levels of symbolic links'
}

@test "-o drops setuid, setgid and sticky bits of the file it replaces" {
	echo old > s.mp3
	chmod 7755 s.mp3
	run --separate-stderr oai-speak -o s.mp3 hi
	assert_status 0
	assert_equal 755 "$(stat -c %a s.mp3)"
	chmod 2640 s.mp3
	oai-speak -o s.mp3 hi
	assert_equal 640 "$(stat -c %a s.mp3)"
}

@test "-o to a socket is refused before the request" {
	python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("sock")'
	run --separate-stderr oai-speak -o sock hi
	assert_status 2
	assert_stderr 'oai-speak: -o: sock is a socket'
	assert_equal 0 "$(srv_nreq)"
}

# --- -o: signals and limits -----------------------------------------------

@test "-o: SIGHUP, SIGQUIT, SIGALRM, SIGUSR1, SIGUSR2 mid-download leave no file" {
	local sig st pid
	ulimit -c 0
	for sig in HUP QUIT ALRM USR1 USR2; do
		srv_queue '{"size": 100000, "stall_after": 5000, "stall_ms": 3000}'
		# a background job starts with SIGQUIT ignored: undo that
		env --default-signal=QUIT oai-speak -o a.mp3 hello 2>err &
		pid=$!
		wait_tmp a.mp3
		kill -"$sig" "$pid"
		st=0
		wait "$pid" || st=$?
		assert_equal "$sig $((128 + $(kill -l "$sig")))" "$sig $st"
		rm -f err
		assert_equal '' "$(ls -A)"
	done
}

@test "-o: SIGTERM mid-download exits 143 and leaves no file" {
	srv_queue '{"size": 100000, "stall_after": 5000, "stall_ms": 3000}'
	oai-speak -o t.mp3 hello &
	pid=$!
	wait_tmp t.mp3
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	assert_equal 143 "$st"
	assert_equal '' "$(ls -A)"
}

@test "-o: a file size limit (SIGXFSZ) is a write error that leaves no file" {
	srv_queue '{"size": 100000}'
	run --separate-stderr bash -c 'ulimit -f 8; oai-speak -o big.mp3 hello'
	assert_status 5
	assert_stderr 'oai-speak: write error on big.mp3: File too large'
	assert_equal '' "$(ls -A)"
}

# --- oai-chat -c through symbolic links -------------------------------------

@test "oai-chat -c follows a link: the link stays, its file gets the lines" {
	export OPENAI_API_KEY=sk-test
	mkdir d
	printf '%s\n' '{"role":"user","content":"before"}' > d/real.jsonl
	ln -s d/real.jsonl conv
	run --separate-stderr oai-chat -c conv hi
	assert_status 0
	assert_output 'echo: hi'
	assert_stderr ''
	[ -L conv ] || fail "conv was replaced"
	assert_equal 3 "$(wc -l < d/real.jsonl)"
	assert_equal before "$(srv_req_field -1 '.body | fromjson | .messages[0].content')"
	# a dangling link creates the file it names
	ln -s d/new.jsonl conv2
	run --separate-stderr oai-chat -c conv2 hi
	assert_status 0
	[ -L conv2 ] || fail "conv2 was replaced"
	assert_equal '{"role":"user","content":"hi"}' "$(head -n 1 d/new.jsonl)"
	assert_equal 600 "$(stat -c %a d/new.jsonl)"
}

@test "oai-chat -c: a dangling link into a missing directory is refused before the request" {
	export OPENAI_API_KEY=sk-test
	ln -s nodir/c.jsonl conv
	run --separate-stderr oai-chat -c conv hi
	assert_status 2
	assert_output ''
	assert_stderr 'oai-chat: conv: No such file or directory'
	assert_equal 0 "$(srv_nreq)"
}

# --- oai-models: ids ----------------------------------------------------------

@test "oai-models escapes control characters in the ids and owners it prints" {
	srv_queue '{"json": {"object": "list", "data": [
	    {"id": "a\u001b[31mb", "created": 0, "owned_by": "x\ny"},
	    {"id": "n\u0000ul\\l", "created": 0, "owned_by": "o"},
	    {"id": "c1\u009bz\tq\u00e9", "created": 0, "owned_by": "o"}]}}'
	run --separate-stderr oai-models -l
	assert_status 0
	assert_stderr ''
	assert_output <<-'OUT'
	a\x1b[31mb        1970-01-01T00:00:00Z  x\ny
	c1\xc2\x9bz\tqé  1970-01-01T00:00:00Z  o
	n\x00ul\\l        1970-01-01T00:00:00Z  o
	OUT
}

@test "oai-models refuses . .. and control characters in ids, encodes the rest" {
	run --separate-stderr oai-models . .. $'a\nb' $'c\x1b[2Jd' ''
	assert_status 2
	assert_output ''
	assert_stderr <<-'ERR'
	oai-models: invalid model id: '.'
	oai-models: invalid model id: '..'
	oai-models: invalid model id: 'a\nb'
	oai-models: invalid model id: 'c\x1b[2Jd'
	oai-models: invalid model id: ''
	ERR
	assert_equal 0 "$(srv_nreq)"
	run --separate-stderr oai-models 'a?b#c%d e' ft:gpt-4o:org:x
	assert_equal /v1/models/a%3Fb%23c%25d%20e "$(srv_req_field 1 .path)"
	assert_equal /v1/models/ft:gpt-4o:org:x "$(srv_req_field 2 .path)"
}

# --- oai-chat --json, tool calls; oai-speak < a directory -------------------

@test "oai-chat --json prints an event whose data spans several lines on one line" {
	export OPENAI_API_KEY=sk-test
	srv_queue '{"headers": {"Content-Type": "text/event-stream"}, "body": "data: {\"choices\":\ndata:  [{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n"}'
	run --separate-stderr oai-chat --json hello
	assert_status 0
	assert_stderr ''
	assert_output '{"choices":[{"delta":{"content":"hi"}}]}'
}

@test "oai-chat: a tool call index past 127 is a protocol error, skipped indexes print nothing" {
	export OPENAI_API_KEY=sk-test
	srv_queue '{"sse": [{"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 999, "id": "c", "function": {"name": "f", "arguments": ""}}]}}]}]}'
	run --separate-stderr oai-chat hello
	assert_status 5
	assert_output ''
	assert_stderr 'oai-chat: unexpected response: tool call index 999 (0 to 127)'
	srv_queue '{"sse": [{"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 2, "id": "c", "function": {"name": "f", "arguments": "{}"}}]}}]}], "sse_done": true}'
	run --separate-stderr oai-chat hello
	assert_status 0
	assert_stderr ''
	assert_output '{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}'
}

@test "oai-speak < a directory exits 2 like the other tools" {
	run --separate-stderr oai-speak < /
	assert_status 2
	assert_output ''
	assert_stderr 'oai-speak: standard input: Is a directory'
	assert_equal 0 "$(srv_nreq)"
}

# --- oai-transcribe: bytes counted as they are sent ---------------------------

@test "oai-transcribe: /dev/zero stops at the 25 MB limit, at once" {
	skip_under_valgrind "a timing test"
	export OPENAI_API_KEY=sk-test
	SECONDS=0
	run --separate-stderr timeout 20 oai-transcribe --filename z.mp3 /dev/zero
	assert_status 2
	assert_output ''
	assert_stderr "oai-transcribe: /dev/zero: over the API's 25 MB (26214400 bytes) limit; split the audio first, e.g. with ffmpeg -f segment"
	[ "$SECONDS" -le 10 ] || fail "took $SECONDS s"
	# the same from a pipe on standard input
	run --separate-stderr timeout 20 bash -c 'head -c 30000000 /dev/zero | oai-transcribe --filename z.mp3 -'
	assert_status 2
	assert_stderr "oai-transcribe: standard input: over the API's 25 MB (26214400 bytes) limit; split the audio first, e.g. with ffmpeg -f segment"
	# what is under the limit goes through, counted from a pipe
	srv_reset
	run --separate-stderr bash -c 'head -c 100000 /dev/zero | oai-transcribe --filename z.mp3 -'
	assert_status 0
	assert_equal 100000 "$(srv_req_field -1 .files.file.size)"
}

@test "oai-transcribe: an empty device or pipe is refused like an empty file" {
	export OPENAI_API_KEY=sk-test
	run --separate-stderr oai-transcribe --filename n.mp3 /dev/null
	assert_status 2
	assert_output ''
	assert_stderr 'oai-transcribe: /dev/null: empty file'
	run --separate-stderr oai-transcribe --filename n.mp3 - < /dev/null
	assert_status 2
	assert_stderr 'oai-transcribe: standard input: empty file'
	: > empty.mp3
	run --separate-stderr oai-transcribe empty.mp3
	assert_status 2
	assert_stderr 'oai-transcribe: empty.mp3: empty file'
}
