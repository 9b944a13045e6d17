#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# The library's shared behaviour, exercised through oai-models: keys and
# key files, headers, base URL, retries, errors, timeouts, output.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() { load helper; srv_reset; }

KEY=sk-canary-0123456789abcdef

keyfile() {	# keyfile MODE: a key file with that mode, path on stdout
	local f=$BATS_TEST_TMPDIR/key
	printf '%s\n' "$KEY" > "$f"
	chmod "$1" "$f"
	printf '%s' "$f"
}

refute_key_anywhere() {
	refute_output_contains "$KEY"
	refute_stderr_contains "$KEY"
}

@test "lib: OPENAI_API_KEY is sent as a bearer token" {
	OPENAI_API_KEY=$KEY run --separate-stderr oai-models
	assert_status 0
	assert_equal "Bearer $KEY" "$(srv_req_field 1 .headers.authorization)"
}

@test "lib: no key and a server other than api.openai.com: no Authorization header" {
	run --separate-stderr oai-models
	assert_status 0
	assert_equal null "$(srv_req_field 1 .headers.authorization)"
}

@test "lib: no key for api.openai.com is exit 3 before any request" {
	OPENAI_BASE_URL=https://api.openai.com/v1 run --separate-stderr oai-models
	assert_status 3
	assert_stderr "oai-models: no API key: set OPENAI_API_KEY or use --api-key-file FILE"
	assert_output ''
}

@test "lib: --api-key-file reads the first line and overrides the environment" {
	f=$(keyfile 600)
	OPENAI_API_KEY=sk-env run --separate-stderr oai-models --api-key-file "$f"
	assert_status 0
	assert_equal "Bearer $KEY" "$(srv_req_field 1 .headers.authorization)"
}

@test "lib: a key file readable by group or others is refused, as ssh does" {
	f=$(keyfile 644)
	run --separate-stderr oai-models --api-key-file "$f"
	assert_status 3
	assert_stderr "oai-models: key file $f is readable by group or others (mode 0644); run: chmod 600 $f"
	assert_equal 0 "$(srv_nreq)"
	refute_key_anywhere
}

@test "lib: a key file that is a symbolic link is refused" {
	f=$(keyfile 600)
	ln -s "$f" "$BATS_TEST_TMPDIR/link"
	run --separate-stderr oai-models --api-key-file "$BATS_TEST_TMPDIR/link"
	assert_status 3
	assert_stderr "oai-models: key file $BATS_TEST_TMPDIR/link is a symbolic link; refusing to use it"
}

@test "lib: a key file owned by another user is refused" {
	[ "$(id -u)" = 0 ] || skip "needs root to chown"
	f=$(keyfile 600)
	chown 65534 "$f"
	run --separate-stderr oai-models --api-key-file "$f"
	assert_status 3
	assert_stderr "oai-models: key file $f is owned by another user (uid 65534); refusing to use it"
}

@test "lib: a missing, empty or directory key file is exit 3" {
	run --separate-stderr oai-models --api-key-file "$BATS_TEST_TMPDIR/nope"
	assert_status 3
	assert_stderr "oai-models: cannot open key file $BATS_TEST_TMPDIR/nope: No such file or directory"
	: > "$BATS_TEST_TMPDIR/empty"; chmod 600 "$BATS_TEST_TMPDIR/empty"
	run --separate-stderr oai-models --api-key-file "$BATS_TEST_TMPDIR/empty"
	assert_status 3
	assert_stderr "oai-models: key file $BATS_TEST_TMPDIR/empty is empty"
	mkdir -m 700 "$BATS_TEST_TMPDIR/d"
	run --separate-stderr oai-models --api-key-file "$BATS_TEST_TMPDIR/d"
	assert_status 3
	assert_stderr "oai-models: key file $BATS_TEST_TMPDIR/d is not a regular file"
}

@test "lib: a key with a newline or space inside is refused (no header injection)" {
	OPENAI_API_KEY=$'sk-a\r\nX-Evil: 1' run --separate-stderr oai-models
	assert_status 3
	assert_stderr "oai-models: the API key contains a space or control character"
	assert_equal 0 "$(srv_nreq)"
}

@test "lib: OPENAI_ORG_ID and OPENAI_PROJECT_ID become headers" {
	OPENAI_ORG_ID=org-1 OPENAI_PROJECT_ID=proj_2 run --separate-stderr oai-models
	assert_status 0
	assert_equal org-1 "$(srv_req_field 1 '.headers["openai-organization"]')"
	assert_equal proj_2 "$(srv_req_field 1 '.headers["openai-project"]')"
}

@test "lib: --base-url overrides OPENAI_BASE_URL, trailing slashes ignored" {
	OPENAI_BASE_URL=http://127.0.0.1:1/v1 run --separate-stderr oai-models --base-url "$SRV_URL/v1//"
	assert_status 0
	assert_equal /v1/models "$(srv_req_field 1 .path)"
}

@test "lib: a FIFO as key file is refused at once, not waited on" {
	mkfifo -m 600 "$BATS_TEST_TMPDIR/fifo"
	run --separate-stderr timeout 10 oai-models --api-key-file "$BATS_TEST_TMPDIR/fifo"
	assert_status 3
	assert_stderr "oai-models: key file $BATS_TEST_TMPDIR/fifo is not a regular file"
}

@test "lib: plain http to a host that is not loopback is refused unless OAI_ALLOW_HTTP=1" {
	run --separate-stderr oai-models --base-url http://example.invalid/v1
	assert_status 2
	assert_stderr "oai-models: refusing plain http to example.invalid (the key and data would travel unencrypted); use https or set OAI_ALLOW_HTTP=1"
	OAI_ALLOW_HTTP=1 run --separate-stderr oai-models --retries 0 --base-url http://example.invalid/v1
	assert_status 5
	assert_stderr_contains "oai-models: http://example.invalid/v1/models: "
}

@test "lib: a host name that merely starts with 127. is not loopback: plain http refused" {
	run --separate-stderr oai-models --base-url http://127.0.0.1.example.invalid/v1
	assert_status 2
	assert_stderr "oai-models: refusing plain http to 127.0.0.1.example.invalid (the key and data would travel unencrypted); use https or set OAI_ALLOW_HTTP=1"
	run --separate-stderr oai-models --base-url http://127.evil/v1
	assert_status 2
	assert_stderr_contains "refusing plain http to 127.evil "
}

@test "lib: a base URL that is not http(s) is a usage error" {
	run --separate-stderr oai-models --base-url ftp://127.0.0.1/v1
	assert_status 2
	assert_stderr "oai-models: base URL must be http or https: ftp://127.0.0.1/v1"
	run --separate-stderr oai-models --base-url 'not a url'
	assert_status 2
	assert_stderr "oai-models: invalid base URL: not a url"
}

@test "lib: 500 then success is retried and succeeds" {
	srv_queue '{"status": 500, "json": {"error": {"message": "boom", "type": "server_error", "param": null, "code": null}}, "headers": {"retry-after-ms": "10"}}'
	run --separate-stderr oai-models
	assert_status 0
	assert_stderr ''
	assert_equal 2 "$(srv_nreq)"
}

@test "lib: 429 with retry-after-ms is retried; -v shows the retry and never the key" {
	srv_queue '{"status": 429, "json": {"error": {"message": "slow down", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}, "headers": {"retry-after-ms": "30"}}'
	OPENAI_API_KEY=$KEY run --separate-stderr oai-models -v
	assert_status 0
	assert_equal 2 "$(srv_nreq)"
	assert_stderr_contains "oai-models: > GET $SRV_URL/v1/models"
	assert_stderr_contains "oai-models: < 429 Too Many Requests in "
	assert_stderr_contains "oai-models: retrying in 0.03 s (retry 1 of 2)"
	assert_stderr_contains "x-request-id: req_test_2"
	refute_key_anywhere
	refute_stderr_contains "Authorization"
	refute_stderr_contains "Bearer"
}

@test "lib: Retry-After in seconds is honoured" {
	srv_queue '{"status": 429, "json": {"error": {"message": "x", "type": "t", "param": null, "code": null}}, "headers": {"retry-after": "1"}}'
	start=$(date +%s%N)
	run --separate-stderr oai-models -v
	end=$(date +%s%N)
	assert_status 0
	assert_stderr_contains "retrying in 1.00 s"
	[ $(( (end - start) / 1000000 )) -ge 1000 ]
}

@test "lib: Retry-After as an HTTP date is honoured" {
	skip_under_valgrind "a timing test"
	d=$(date -u -d '+2 seconds' '+%a, %d %b %Y %H:%M:%S GMT')
	srv_queue "{\"status\": 503, \"body\": \"\", \"headers\": {\"retry-after\": \"$d\"}}"
	run --separate-stderr oai-models -v
	assert_status 0
	assert_stderr_contains "retrying in "
	refute_stderr_contains "retrying in 0.0"
}

@test "lib: 429 after the retries are exhausted is exit 4 with the API's message" {
	srv_queue '{"cassette": "synthetic/error_429_rate_limit_tokens", "repeat": 3}'
	run --separate-stderr oai-models --retries 2 --timeout 30
	assert_status 4
	assert_equal 3 "$(srv_nreq)"
	assert_stderr_contains "oai-models: 429 rate_limit_exceeded: Rate limit reached for gpt-4o-mini in organization"
}

@test "lib: --retries 0 makes one request" {
	srv_queue '{"status": 500, "json": {"error": {"message": "The server had an error", "type": "server_error", "param": null, "code": null}}}'
	run --separate-stderr oai-models --retries 0
	assert_status 5
	assert_equal 1 "$(srv_nreq)"
	assert_stderr "oai-models: 500 server_error: The server had an error"
}

@test "lib: x-should-retry: false stops retries, true forces them" {
	srv_queue '{"status": 500, "json": {"error": {"message": "no", "type": "server_error", "param": null, "code": null}}, "headers": {"x-should-retry": "false"}}'
	run --separate-stderr oai-models
	assert_status 5
	assert_equal 1 "$(srv_nreq)"
	srv_reset
	srv_queue '{"status": 400, "json": {"error": {"message": "try again", "type": "invalid_request_error", "param": null, "code": null}}, "headers": {"x-should-retry": "true", "retry-after-ms": "1"}}'
	run --separate-stderr oai-models
	assert_status 0
	assert_equal 2 "$(srv_nreq)"
}

@test "lib: 401 is exit 3 with the recorded message; 403 too; 400 is 4" {
	srv_queue '{"cassette": "error_401_invalid_api_key_chat"}'
	OPENAI_API_KEY=$KEY run --separate-stderr oai-models
	assert_status 3
	assert_stderr_contains "oai-models: 401 invalid_api_key: Incorrect API key provided"
	refute_key_anywhere
	srv_queue '{"status": 403, "json": {"error": {"message": "forbidden", "type": "x", "param": null, "code": null}}}'
	run --separate-stderr oai-models
	assert_status 3
	assert_stderr "oai-models: 403 x: forbidden"
	srv_queue '{"cassette": "error_400_invalid_function_parameters"}'
	run --separate-stderr oai-models
	assert_status 4
	assert_stderr_contains "oai-models: 400 "
}

@test "lib: an error body that is not JSON still gives one line with the status" {
	srv_queue '{"status": 502, "body": "<html>\n<h1>Bad Gateway</h1>\n</html>", "headers": {"content-type": "text/html"}}' '{"status": 502, "body": "<html>\n<h1>Bad Gateway</h1>\n</html>"}' '{"status": 502, "body": "<html>\n<h1>Bad Gateway</h1>\n</html>"}'
	run --separate-stderr oai-models --retries 0
	assert_status 5
	assert_stderr "oai-models: 502: <html> <h1>Bad Gateway</h1> </html>"
	srv_reset
	srv_queue '{"status": 500, "bad_json": true}'
	run --separate-stderr oai-models --retries 0
	assert_status 5
	[ "${#lines[@]}" -eq 0 ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	assert_stderr_contains "oai-models: 500"
}

@test "lib: an error with an empty body shows the reason phrase" {
	srv_queue '{"status": 404, "body": ""}'
	run --separate-stderr oai-models
	assert_status 4
	assert_stderr "oai-models: 404 Not Found"
}

@test "lib: Ollama- and vLLM-style error bodies" {
	srv_queue '{"status": 404, "json": {"error": "model \"x\" not found, try pulling it first"}}'
	run --separate-stderr oai-models
	assert_status 4
	assert_stderr 'oai-models: 404: model "x" not found, try pulling it first'
	srv_queue '{"status": 400, "json": {"detail": "bad things"}}'
	run --separate-stderr oai-models
	assert_status 4
	assert_stderr 'oai-models: 400: bad things'
}

@test "lib: a redirect is not followed (the key must not travel elsewhere)" {
	srv_queue '{"status": 302, "body": "", "headers": {"location": "http://127.0.0.1:1/steal"}}'
	OPENAI_API_KEY=$KEY run --separate-stderr oai-models
	assert_status 5
	assert_stderr "oai-models: 302 Found (redirects are not followed)"
	assert_equal 1 "$(srv_nreq)"
}

@test "lib: a slow response hits --timeout: exit 5" {
	srv_queue '{"delay_ms": 3000, "repeat": 3}'
	run --separate-stderr oai-models --timeout 1 --retries 0
	assert_status 5
	assert_stderr "oai-models: timed out after 1 s: $SRV_URL/v1/models"
}

@test "lib: a connection closed mid-body is retried, then exit 5" {
	srv_queue '{"cassette": "models_list", "close_after": 800, "repeat": 2}'
	run --separate-stderr oai-models --retries 1
	assert_status 5
	assert_equal 2 "$(srv_nreq)"
	assert_stderr_contains "oai-models: $SRV_URL/v1/models: "
	assert_output ''
}

@test "lib: a refused connection is exit 5 after the retries" {
	run --separate-stderr oai-models --base-url http://127.0.0.1:1/v1 --retries 1
	assert_status 5
	assert_stderr_contains "oai-models: http://127.0.0.1:1/v1/models: "
	assert_stderr_contains "onnect"
}

@test "lib: one connection is reused across the requests of a run" {
	run --separate-stderr oai-models gpt-4 gpt-3.5-turbo gpt-4
	assert_status 0
	ports=$(jq -r '.client_port // empty' "$SRV_DIR/requests.jsonl" | sort -u | wc -l)
	[ -z "$(jq -r '.client_port // empty' "$SRV_DIR/requests.jsonl")" ] && skip "server does not record client ports"
	assert_equal 1 "$ports"
}

@test "lib: a numeric option that is not a number, or out of range, is exit 2" {
	run --separate-stderr oai-models --timeout 5s
	assert_status 2
	assert_stderr "oai-models: --timeout: '5s' is not a number"
	run --separate-stderr oai-models --retries 101
	assert_status 2
	assert_stderr "oai-models: --retries: 101 is out of range (0 to 100)"
	run --separate-stderr oai-models --timeout ''
	assert_status 2
	assert_equal 0 "$(srv_nreq)"
}

@test "lib: output to /dev/full fails with a message and exit 5" {
	run --separate-stderr oai-models '>' /dev/full
	run --separate-stderr sh -c 'oai-models > /dev/full'
	assert_status 5
	assert_stderr "oai-models: write error on standard output: No space left on device"
}

@test "lib: a reader that goes away (| head -c1) ends the tool quietly with status 0" {
	srv_queue '{"json": {"data": []}}'
	big=$(python3 -c 'import json; print(json.dumps({"data": [{"id": "m%06d" % i} for i in range(200000)]}))')
	printf '%s' "$big" > "$BATS_TEST_TMPDIR/big.json"
	srv_reset
	srv_queue "{\"body_b64\": \"$(base64 -w0 < "$BATS_TEST_TMPDIR/big.json")\"}"
	run --separate-stderr bash -c 'set -o pipefail; oai-models | head -c1; echo " rc=${PIPESTATUS[0]}"'
	assert_output "m rc=0"
	assert_stderr ''
}

@test "lib: closed stdin, stdout and stderr do not break the tool" {
	# valgrind itself needs its descriptors: this is about our code
	[ -z "${OAI_TEST_BIN:-}" ] || skip "not under the valgrind wrappers"
	run --separate-stderr bash -c 'oai-models <&- 2>&- | wc -l'
	assert_status 0
	[ "$output" -gt 10 ]
}

@test "lib: SIGINT during a request exits 130, SIGTERM 143, with no message" {
	srv_queue '{"delay_ms": 5000, "repeat": 2}'
	oai-models > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	pid=$!
	sleep 0.5
	signal_until_gone $pid INT
	status=0; wait $pid || status=$?
	assert_status 130
	assert_equal '' "$(cat "$BATS_TEST_TMPDIR/err")"
	oai-models > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" &
	pid=$!
	sleep 0.5
	signal_until_gone $pid TERM
	status=0; wait $pid || status=$?
	assert_status 143
}

@test "lib: OPENAI_ORG_ID or OPENAI_PROJECT_ID with a line break is refused (no header injection)" {
	OPENAI_ORG_ID=$'org-1\r\nX-Evil: 1' run --separate-stderr oai-models
	assert_status 3
	assert_stderr "oai-models: OPENAI_ORG_ID contains a control character"
	OPENAI_PROJECT_ID=$'p\nX-Evil: 1' run --separate-stderr oai-models
	assert_status 3
	assert_stderr "oai-models: OPENAI_PROJECT_ID contains a control character"
	assert_equal 0 "$(srv_nreq)"
}

@test "lib: getopt's messages carry the tool's name, as the tool's own do" {
	run --separate-stderr "$ROOT/bin/oai-models" --bogus
	assert_status 2
	assert_stderr_contains "oai-models: unrecognized option '--bogus'"
	refute_stderr_contains "$ROOT"
}
