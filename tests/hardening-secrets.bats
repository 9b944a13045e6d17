#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# Secrets (issue 5), over every tool: a canary key never shows on stdout,
# stderr (with --verbose), in files written or in argv; key files with
# loose modes, symlinks or another owner are refused with the reason;
# redirects never carry the key elsewhere; plain http to a remote host is
# refused unless OAI_ALLOW_HTTP=1.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	load hardening/tools
	srv_reset
	cd "$BATS_TEST_TMPDIR"
	hd_files
	KEY=sk-canary-$$-7c1e0b5d9a
	export OPENAI_API_KEY=$KEY
}

refute_key() {	# nowhere in stdout, stderr or any file under the test dir
	refute_output_contains "$KEY"
	refute_stderr_contains "$KEY"
	local rc=0
	grep -rlF --exclude=key -e "$KEY" "$BATS_TEST_TMPDIR" >&2 || rc=$?
	[ "$rc" = 1 ] || fail "the key is in a file written (grep: $rc)"
}

# The error paths, each a spec for the server (or a base URL).
paths=(
	'{"status": 401, "json": {"error": {"message": "Incorrect API key provided: sk-canary-4567. You can find your API key at https://platform.openai.com/account/api-keys.", "type": "invalid_request_error", "code": "invalid_api_key"}}}'
	'{"status": 429, "headers": {"Retry-After": "0"}, "json": {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}}'
	'{"status": 500, "json": {"error": {"message": "The server had an error", "type": "server_error"}}}'
	'{"status": 200, "bad_json": true}'
	'{"close_after": 5}'
	'{"delay_ms": 2500}'
	connect
	''
)

canary() {	# canary TOOL: every path, with --verbose, never the key
	local t=$1 p
	for p in "${paths[@]}"; do
		srv_reset
		case $p in
		connect) hd_cmd "$t" --verbose --retries 1 --base-url http://127.0.0.1:1/v1 ;;
		'') hd_cmd "$t" --verbose ;;
		*) srv_queue "$p"; hd_cmd "$t" --verbose --retries 0 --timeout 1 ;;
		esac
		run --separate-stderr "${HD_CMD[@]}" <"$HD_IN"
		assert_no_crash
		refute_key
		[ "$p" != connect ] || [ -z "$stderr" ] || assert_stderr_contains "$t: "
	done
	# Bad input: invalid UTF-8 on stdin (and as the argument).
	printf 'bad \377 input\n' > bad.txt
	hd_cmd "$t" --verbose
	run --separate-stderr "${HD_CMD[@]}" <bad.txt
	assert_no_crash
	refute_key
	# The server saw the key only as the bearer token.
	sleep 2.6	# the delayed response above is over
}

@test "secrets: the canary key never appears on stdout, stderr or in files, on every error path, by every tool" {
	for t in "${HD_TOOLS[@]}"; do
		canary "$t"
	done
}

@test "secrets: files written (oai-speak -o, oai-chat -c) never hold the key, even with --verbose" {
	run --separate-stderr oai-speak --verbose -o out.mp3 hi </dev/null
	assert_status 0
	[ -s out.mp3 ]
	run --separate-stderr oai-chat --verbose -c conv.jsonl hi </dev/null
	assert_status 0
	[ -s conv.jsonl ]
	refute_key
}

@test "secrets: the key is not in argv while a request is in flight, by every tool" {
	local t pid i
	for t in "${HD_TOOLS[@]}"; do
		srv_reset
		srv_queue '{"delay_ms": 1500}'
		hd_cmd "$t"
		"${HD_CMD[@]}" <"$HD_IN" >out 2>err &
		pid=$!
		for i in $(seq 200); do
			[ "$(srv_nreq)" -ge 1 ] && break
			sleep 0.02
		done
		[ "$(srv_nreq)" -ge 1 ] || fail "$t: no request"
		# The tool, and any process it runs (valgrind: the wrapper).
		for p in $pid $(pgrep -P "$pid"); do
			tr '\0' ' ' < /proc/"$p"/cmdline > cmdline || true
			! grep -qF -- "$KEY" cmdline || fail "$t: key in argv of $p"
		done
		wait "$pid"
		assert_equal "Bearer $KEY" "$(srv_req_field 1 .headers.authorization)"
	done
}

keyfiles() {	# keyfiles TOOL: loose modes, symlink, other owner: exit 3, the reason
	local t=$1 f=$BATS_TEST_TMPDIR/key m
	unset OPENAI_API_KEY
	for m in 0644 0640 0604 0660 0606 0666; do
		rm -f "$f"; printf '%s\n' "$KEY" > "$f"; chmod "$m" "$f"
		hd_cmd "$t" --api-key-file "$f"
		run --separate-stderr "${HD_CMD[@]}" <"$HD_IN"
		assert_status 3
		assert_one_line "$t"
		assert_stderr_contains "readable by group or others"
		assert_stderr_contains "chmod 600"
		refute_key
	done
	chmod 600 "$f"
	ln -sf "$f" link
	hd_cmd "$t" --api-key-file link
	run --separate-stderr "${HD_CMD[@]}" <"$HD_IN"
	assert_status 3
	assert_one_line "$t"
	assert_stderr_contains "symbolic link"
	if [ "$(id -u)" = 0 ]; then
		cp -p "$f" other && chown 65534 other
		hd_cmd "$t" --api-key-file other
		run --separate-stderr "${HD_CMD[@]}" <"$HD_IN"
		assert_status 3
		assert_one_line "$t"
		assert_stderr_contains "owned by another user"
		rm -f other
	fi
	assert_equal 0 "$(srv_nreq)"
	# And the good one works.
	hd_cmd "$t" --api-key-file "$f"
	run --separate-stderr "${HD_CMD[@]}" <"$HD_IN"
	assert_status 0
	assert_equal "Bearer $KEY" "$(srv_req_field 1 .headers.authorization)"
	srv_reset
}

@test "secrets: key files with loose modes, symlinks or another owner are refused with the reason, by every tool" {
	for t in "${HD_TOOLS[@]}"; do
		keyfiles "$t"
	done
}

redirect() {	# redirect TOOL: 3xx to the second server: not followed
	local t=$1 code
	for code in 301 302 303 307 308; do
		srv_reset
		srv_queue "{\"status\": $code, \"body\": \"\", \"headers\": {\"Location\": \"http://127.0.0.1:$P2$(hd_path "$t")\"}}"
		hd_cmd "$t" --retries 0
		run --separate-stderr "${HD_CMD[@]}" <"$HD_IN"
		assert_no_crash
		[ "$status" != 0 ] || fail "$t: $code taken for success"
		refute_key
		assert_equal 0 "$(grep -c '' "$D2/requests.jsonl")"
		assert_one_line "$t"
	done
}

@test "secrets: a redirect to another host never receives the key, by every tool" {
	local d2=$BATS_TEST_TMPDIR/srv2 p2 i
	mkdir -p "$d2"
	python3 "$ROOT/tests/server.py" --dir "$d2" </dev/null >"$d2/out" 2>&1 3>&- &
	local pid2=$!
	for i in $(seq 500); do [ -s "$d2/port" ] && break; sleep 0.01; done
	p2=$(cat "$d2/port")
	P2=$p2 D2=$d2 hd_each redirect redirect
	kill "$pid2"
	wait "$pid2" || true
}

@test "secrets: plain http to a remote host is refused (2, as tests/lib.bats) unless OAI_ALLOW_HTTP=1, by every tool" {
	for t in "${HD_TOOLS[@]}"; do
		hd_cmd "$t" --retries 0
		OPENAI_BASE_URL=http://10.255.255.1/v1 run --separate-stderr \
			"${HD_CMD[@]}" <"$HD_IN"
		assert_status 2
		assert_one_line "$t"
		assert_stderr_contains "OAI_ALLOW_HTTP=1"
		hd_cmd "$t" --retries 0 --base-url http://example.invalid/v1
		run --separate-stderr "${HD_CMD[@]}" <"$HD_IN"
		assert_status 2
		assert_one_line "$t"
		assert_stderr_contains "OAI_ALLOW_HTTP=1"
		# Allowed: it tries (and fails to resolve the name).
		OAI_ALLOW_HTTP=1 run --separate-stderr "${HD_CMD[@]}" <"$HD_IN"
		assert_status 5
		assert_stderr_contains "$t: http://example.invalid/"
		refute_key
		# Loopback stays allowed: 127.0.0.1 is the test server.
		assert_equal 0 "$(srv_nreq)"
	done
}

# ---- issue 16 -------------------------------------------------------------

@test "secrets: a refused key file with OPENAI_API_KEY also set is one line, exit 3 (no double free), by every tool" {
	local t f
	printf 'sk-file-%s\n' $$ > loose; chmod 644 loose
	printf 'sk-file-%s\n' $$ > good; chmod 600 good
	ln -s good link
	mkfifo fifo
	mkdir dir
	for t in "${HD_TOOLS[@]}"; do
		for f in /nonexistent loose link fifo dir; do
			hd_cmd "$t" --api-key-file "$f"
			run --separate-stderr timeout 10 "${HD_CMD[@]}" <"$HD_IN"
			assert_status 3
			assert_one_line "$t"
			assert_stderr_contains "key file $f"
			refute_key
		done
	done
	assert_equal 0 "$(srv_nreq)"
}

@test "secrets: credentials, a query or a fragment in the base URL are refused (2) without echoing them, by every tool" {
	local t u
	for t in "${HD_TOOLS[@]}"; do
		for u in "http://user:pw-$KEY@127.0.0.1:$SRV_PORT/v1" \
			"http://tok-$KEY@127.0.0.1:$SRV_PORT/v1"; do
			hd_cmd "$t" --verbose
			OPENAI_BASE_URL=$u run --separate-stderr "${HD_CMD[@]}" <"$HD_IN"
			assert_status 2
			assert_stderr "$t: base URL must not contain a user name or password (user:password@host); use --api-key-file for the key"
			hd_cmd "$t" --verbose --base-url "$u"
			run --separate-stderr "${HD_CMD[@]}" <"$HD_IN"
			assert_status 2
			assert_stderr "$t: base URL must not contain a user name or password (user:password@host); use --api-key-file for the key"
		done
		hd_cmd "$t" --verbose
		OPENAI_BASE_URL="$SRV_URL/v1?key=$KEY" run --separate-stderr "${HD_CMD[@]}" <"$HD_IN"
		assert_status 2
		assert_stderr "$t: base URL must not contain a query (?...)"
		OPENAI_BASE_URL="$SRV_URL/v1#$KEY" run --separate-stderr "${HD_CMD[@]}" <"$HD_IN"
		assert_status 2
		assert_stderr "$t: base URL must not contain a fragment (#...)"
	done
	assert_equal 0 "$(srv_nreq)"
	# An '@' in the path is no credential.
	run --separate-stderr oai-models --base-url "$SRV_URL/v1/@x"
	assert_status 4
	assert_equal /v1/@x/models "$(srv_req_field 1 .path)"
}

@test "secrets: a server echoing the key (or any sk- token) in its error gets it redacted, by every tool" {
	local t msg
	msg="Bad header: Authorization: Bearer $KEY; also sk-proj-Abc_def-123456789 and sk-svcacct-zzzzzzzzzz; but not task-runner-12345678, sk-short or sk-proj-****1234"
	for t in "${HD_TOOLS[@]}"; do
		srv_reset
		srv_queue "{\"status\": 400, \"json\": {\"error\": {\"message\": \"$msg\", \"type\": \"invalid_request_error\", \"code\": \"echo\"}}}"
		hd_cmd "$t" --retries 0
		run --separate-stderr "${HD_CMD[@]}" <"$HD_IN"
		assert_status 4
		assert_one_line "$t"
		assert_stderr_contains "$t: 400 echo: Bad header: Authorization: Bearer [redacted]; also sk-[redacted] and sk-[redacted]; but not task-runner-12345678, sk-short or sk-proj-****1234"
		refute_key
	done
}

@test "secrets: the key in a transport error or in --verbose lines is redacted" {
	run --separate-stderr oai-models --verbose --retries 0 --base-url "http://127.0.0.1:1/$KEY"
	assert_status 5
	assert_stderr_contains "oai-models: > GET http://127.0.0.1:1/[redacted]/models"
	assert_stderr_contains "oai-models: http://127.0.0.1:1/[redacted]/models: "
	refute_key
	# From a key file, too.
	unset OPENAI_API_KEY
	printf 'file-key-%s-0123456789\n' $$ > key2; chmod 600 key2
	run --separate-stderr oai-models --retries 0 --api-key-file key2 \
		--base-url "http://127.0.0.1:1/file-key-$$-0123456789"
	assert_status 5
	assert_stderr_contains "oai-models: http://127.0.0.1:1/[redacted]/models: "
	refute_stderr_contains "file-key-$$"
}
