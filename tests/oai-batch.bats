#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-batch against the test server's Batches and Files endpoints:
# states over time, shuffled output put back in input order, error
# files, validation (local and the service's), expiry, cancel, detach
# and attach, split inputs, Ctrl-C.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-batch OAI_TEST_BATCH_POLL_MS=20
	cd "$BATS_TEST_TMPDIR"
	for i in 1 2 3 4 5 6; do
		printf '{"custom_id":"r%s","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"user","content":"q%s"}]}}\n' $i $i
	done > in.jsonl
}

# ids: the custom_ids and replies of the results
ids() { jq -r '"\(.custom_id) \(.response.body.choices[0].message.content)"'; }

@test "oai-batch prints the results in input order though the service shuffles them" {
	run --separate-stderr oai-batch --keep-files in.jsonl
	assert_status 0
	assert_stderr ''
	assert_equal "r1 echo: q1
r2 echo: q2
r3 echo: q3
r4 echo: q4
r5 echo: q5
r6 echo: q6" "$(ids <<<"$output")"
	# the output file the service wrote is in another order
	order=$(oai-files -g file-test2 | jq -r .custom_id | tr '\n' ' ')
	[ "$order" != "r1 r2 r3 r4 r5 r6 " ] || fail "not shuffled: $order"
	assert_equal batch "$(srv_req_field 1 .form.purpose)"
	assert_equal oai-batch-1.jsonl "$(srv_req_field 1 .files.file.filename)"
	assert_equal "$(sha256sum < in.jsonl | cut -d' ' -f1)" "$(srv_req_field 1 .files.file.sha256)"
	assert_equal '{"input_file_id":"file-test1","endpoint":"/v1/chat/completions","completion_window":"24h"}' \
		"$(srv_req_field 2 .body)"
}

@test "oai-batch polls through validating, in_progress and finalizing, then deletes its files" {
	srv_queue '{"path": "/v1/batches", "method": "POST", "batch": {"steps": 2}}'
	run --separate-stderr oai-batch in.jsonl
	assert_status 0
	assert_stderr ''
	assert_equal 6 "$(grep -c '' <<<"$output")"
	# 4 states, 2 GETs each until completed is seen
	assert_equal 7 "$(srv_requests | jq -r 'select(.path == "/v1/batches/batch_test1") | .method' | grep -c GET)"
	assert_equal "/v1/files/file-test1 /v1/files/file-test2" \
		"$(srv_requests | jq -r 'select(.method == "DELETE") | .path' | tr '\n' ' ' | sed 's/ $//')"
	run --separate-stderr oai-files
	assert_output ''
}

@test "oai-batch: a failed request is named by input line and custom_id, the others printed, exit 5" {
	sed -i '3s/"messages":\[[^]]*\]/"messages":[]/' in.jsonl
	run --separate-stderr oai-batch in.jsonl
	assert_status 5
	assert_equal "r1 r2 r4 r5 r6" "$(ids <<<"$output" | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')"
	assert_stderr "oai-batch: in.jsonl:3: request r3 failed: 400 missing_required_parameter: Missing required parameter: 'messages'."
	# files are kept after a failure, for a look with oai-files
	assert_equal 0 "$(srv_requests | jq -r 'select(.method == "DELETE")' | grep -c . || true)"
}

@test "oai-batch -e chat takes bare bodies and makes up the custom_ids" {
	printf '%s\n' '{"model":"m","messages":[{"role":"user","content":"x"}]}' \
		'{"model":"m","messages":[{"role":"user","content":"y"}]}' > bodies.jsonl
	run --separate-stderr oai-batch -e chat < bodies.jsonl
	assert_status 0
	assert_stderr ''
	assert_equal "request-1 echo: x
request-2 echo: y" "$(ids <<<"$output")"
	[ "$(srv_req_field 1 .files.file.size)" -gt 0 ]
}

@test "oai-batch checks its input before sending anything (exit 2)" {
	printf '{"custom_id":"r1","method":"POST","url":"/v1/chat/completions","body":{}}\n' >> in.jsonl
	run --separate-stderr oai-batch in.jsonl
	assert_status 2
	assert_output ''
	assert_stderr "oai-batch: in.jsonl:7: a custom_id used before"
	printf '{"custom_id":"x","method":"POST","url":"/v1/chat/completions","body":{"stream":true}}\n' > s.jsonl
	run --separate-stderr oai-batch s.jsonl
	assert_status 2
	assert_stderr 'oai-batch: s.jsonl:1: "stream": true (batches do not stream)'
	printf '{"custom_id":"x","method":"POST","url":"/v1/embeddings","body":{}}\n{"custom_id":"y","method":"POST","url":"/v1/chat/completions","body":{}}\n' > u.jsonl
	run --separate-stderr oai-batch u.jsonl
	assert_status 2
	assert_stderr "oai-batch: u.jsonl:2: a url other than the first line's: one batch, one endpoint"
	run --separate-stderr oai-batch <<<'not json'
	assert_status 2
	assert_stderr "oai-batch: standard input:1: not a JSON object"
	run --separate-stderr oai-batch -e chat <<<'{"stream":true}'
	assert_status 2
	run --separate-stderr oai-batch -e images </dev/null
	assert_status 2
	assert_stderr "oai-batch: --endpoint: 'images' is not one of chat, embeddings, completions, moderations, responses"
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-batch: a batch that fails the service's validation shows its line errors, exit 4" {
	srv_queue '{"path": "/v1/batches", "method": "POST", "batch": {"errors": [
		{"line": 4, "code": "model_not_found", "message": "The model m does not exist."}]}}'
	run --separate-stderr oai-batch in.jsonl
	assert_status 4
	assert_output ''
	assert_stderr "oai-batch: batch_test1 failed validation
oai-batch: in.jsonl:4: model_not_found: The model m does not exist."
}

@test "oai-batch: an expired batch prints what completed, names the rest, exit 5" {
	srv_queue '{"path": "/v1/batches", "method": "POST", "batch": {"outcome": "expired", "done": 4}}'
	run --separate-stderr oai-batch in.jsonl
	assert_status 5
	assert_equal "r1 r2 r3 r4" "$(ids <<<"$output" | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')"
	assert_stderr "oai-batch: in.jsonl:5: request r5 failed: batch_expired: This request could not be executed before the completion window expired.
oai-batch: in.jsonl:6: request r6 failed: batch_expired: This request could not be executed before the completion window expired.
oai-batch: batch_test1 expired: 4 of 6 requests completed"
}

@test "oai-batch --detach prints the id; --status shows it; --attach from elsewhere prints the results" {
	run --separate-stderr oai-batch --detach < in.jsonl
	assert_status 0
	assert_output batch_test1
	run --separate-stderr oai-batch --status batch_test1
	assert_status 0
	assert_output "batch_test1  validating  0/6  0 failed  /v1/chat/completions"
	run --separate-stderr oai-batch --status batch_test1
	assert_output "batch_test1  in_progress  0/6  0 failed  /v1/chat/completions"
	cd "$BATS_TEST_TMPDIR/home"	# no local copy of the input
	run --separate-stderr oai-batch --attach batch_test1
	assert_status 0
	assert_stderr ''
	assert_equal "r1 r2 r3 r4 r5 r6" "$(ids <<<"$output" | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')"
	# the order came from the input file
	srv_requests | jq -r .path | grep -qx /v1/files/file-test1/content
}

@test "oai-batch splits an input over the limits into several batches, results in order" {
	export OAI_TEST_BATCH_REQUESTS=4
	run --separate-stderr oai-batch --detach in.jsonl
	assert_status 0
	assert_output "batch_test1
batch_test2"
	run --separate-stderr oai-batch --attach "$output"
	assert_status 0
	assert_equal "r1 r2 r3 r4 r5 r6" "$(ids <<<"$output" | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')"
	unset OAI_TEST_BATCH_REQUESTS
	srv_reset
	OAI_TEST_BATCH_BYTES=300 run --separate-stderr oai-batch in.jsonl
	assert_status 0
	assert_equal 6 "$(grep -c '' <<<"$output")"
	assert_equal 3 "$(srv_requests | jq -r 'select(.method == "POST" and .path == "/v1/batches")' | grep -c '^{')"
}

@test "oai-batch: a failed line in the second batch is named by its input line" {
	sed -i '6s/"messages":\[[^]]*\]/"messages":[]/' in.jsonl
	OAI_TEST_BATCH_REQUESTS=4 run --separate-stderr oai-batch in.jsonl
	assert_status 5
	assert_stderr "oai-batch: in.jsonl:6: request r6 failed: 400 missing_required_parameter: Missing required parameter: 'messages'."
}

@test "oai-batch --cancel cancels; waiting on it prints what completed, exit 5" {
	oai-batch --detach in.jsonl >/dev/null
	run --separate-stderr oai-batch --cancel batch_test1
	assert_status 0
	assert_output "batch_test1  cancelling  0/6  0 failed  /v1/chat/completions"
	assert_equal /v1/batches/batch_test1/cancel "$(srv_req_field -1 .path)"
	run --separate-stderr oai-batch --attach batch_test1
	assert_status 5
	assert_equal 3 "$(grep -c '' <<<"$output")"
	assert_stderr_contains "oai-batch: batch_test1 cancelled: 3 of 6 requests completed"
	run --separate-stderr oai-batch --cancel batch_test1
	assert_status 4
	assert_stderr "oai-batch: 400 invalid_request: Cannot cancel a batch with status 'cancelled'."
}

@test "oai-batch --list shows every batch, newest first; --json the API's answer" {
	oai-batch --detach in.jsonl >/dev/null
	oai-batch --detach -e chat <<<'{"model":"m","messages":[{"role":"user","content":"x"}]}' >/dev/null
	run --separate-stderr oai-batch --list
	assert_status 0
	assert_output "batch_test2  validating  0/1  0 failed  /v1/chat/completions
batch_test1  validating  0/6  0 failed  /v1/chat/completions"
	run --separate-stderr oai-batch --list --json
	assert_status 0
	assert_equal "batch_test2 batch_test1" "$(jq -r '.data[].id' <<<"$output" | tr '\n' ' ' | sed 's/ $//')"
}

@test "oai-batch: Ctrl-C while waiting exits 130 and prints the command that resumes" {
	srv_queue '{"path": "/v1/batches", "method": "POST", "batch": {"steps": 1000}}'
	oai-batch in.jsonl >out 2>err &
	pid=$!
	for i in $(seq 50); do
		[ "$(srv_requests | grep -c batches/batch_test1)" -ge 1 ] && break
		sleep 0.1
	done
	signal_until_gone $pid INT
	st=0; wait $pid || st=$?
	assert_equal 130 "$st"
	assert_equal "oai-batch: interrupted; the batch goes on: oai-batch --attach batch_test1" "$(cat err)"
	assert_equal '' "$(cat out)"
}

@test "oai-batch waits through a 503 and honours Retry-After while polling" {
	srv_queue '{"path": "/v1/batches", "method": "POST", "batch": {"retry_after": 1}}'
	srv_queue '{"path": "/v1/batches/batch_test1", "status": 503, "json": {"error": {"message": "busy"}}}'
	start=$(date +%s.%N)
	run --separate-stderr oai-batch --retries 0 in.jsonl
	end=$(date +%s.%N)
	assert_status 0
	assert_stderr ''
	assert_equal 6 "$(grep -c '' <<<"$output")"
	# 4 answered polls, each saying Retry-After: 1
	awk -v a="$start" -v b="$end" 'BEGIN { exit !(b - a >= 3) }' ||
		fail "polled faster than Retry-After: $start $end"
}

@test "oai-batch: modes that do not go together are refused" {
	run --separate-stderr oai-batch --list --status batch_x
	assert_status 2
	assert_stderr "oai-batch: --detach, --attach, --status, --list and --cancel do not go together"
	run --separate-stderr oai-batch --json in.jsonl
	assert_status 2
	assert_stderr "oai-batch: --json goes with --status, --list or --cancel"
	run --separate-stderr oai-batch --status ../x
	assert_status 2
	assert_stderr "oai-batch: invalid batch id: '../x'"
	assert_equal 0 "$(srv_nreq)"
}
