#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-batch -e embeddings --lines as a drop-in for oai-embed (issue 12):
# --with-text, --skip-empty and --whole print the same bytes; a failed
# request ends the output where oai-embed's ends; --attach recovers -e
# chat's empty lines at the end; custom_ids checked in 8 bytes each.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-parity OAI_TEST_BATCH_POLL_MS=20
	cd "$BATS_TEST_TMPDIR"
	printf 'first line\n\nsecond, with "quotes"\r\n\nthird\n' > a.txt
	printf 'fourth\n' > b.txt
}

@test "oai-batch -e embeddings --lines --with-text --skip-empty prints oai-embed's bytes, also on --attach" {
	oai-embed --with-text --skip-empty --dimensions 3 a.txt b.txt > embed.jsonl
	srv_reset
	run --separate-stderr oai-batch -e embeddings --lines --with-text --skip-empty \
		--dimensions 3 --keep-files a.txt b.txt
	assert_status 0
	assert_stderr ''
	assert_equal "$(cat embed.jsonl)" "$output"
	assert_equal '0 first line
1 second, with "quotes"
2 third
3 fourth' "$(jq -r '"\(.index) \(.text)"' <<<"$output")"
	# the empty lines are not sent; the custom_ids still count them
	assert_equal 'line-1 line-3 line-5 line-6' "$(oai-files -g file-test1 | jq -r .custom_id | tr '\n' ' ' | sed 's/ $//')"
	run --separate-stderr oai-batch --attach batch_test1 --lines --with-text
	assert_status 0
	assert_stderr ''
	assert_equal "$(cat embed.jsonl)" "$output"
	# tsv skips the empty lines too
	oai-embed --skip-empty --format tsv a.txt > embed.tsv
	srv_reset
	oai-batch -e embeddings --lines --skip-empty --format tsv a.txt > batch.tsv
	cmp embed.tsv batch.tsv
	assert_equal 3 "$(grep -c '' batch.tsv)"
}

@test "oai-batch -e embeddings --lines --whole: each file one input, as oai-embed --whole" {
	oai-embed --whole --with-text a.txt b.txt > embed.jsonl
	srv_reset
	run --separate-stderr oai-batch -e embeddings --lines --whole --with-text a.txt b.txt
	assert_status 0
	assert_stderr ''
	assert_equal "$(cat embed.jsonl)" "$output"
	assert_equal 2 "$(grep -c '' <<<"$output")"
	assert_equal "$(printf 'first line\n\nsecond, with "quotes"\r\n\nthird')" "$(head -n1 <<<"$output" | jq -r .text)"
}

@test "oai-batch -e embeddings --lines checks lines as oai-embed does: empty, too long (exit 2, nothing sent)" {
	run --separate-stderr oai-batch -e embeddings --lines a.txt
	assert_status 2
	assert_stderr 'oai-batch: a.txt:2: empty input (the API rejects it; --skip-empty skips it)'
	head -c 30000 /dev/zero | tr '\0' x > long.txt
	run --separate-stderr oai-embed long.txt
	assert_status 2
	assert_stderr 'oai-embed: long.txt:1: input too long (30000 bytes, about 10000 tokens; the model takes 8192)'
	run --separate-stderr oai-batch -e embeddings --lines long.txt
	assert_status 2
	assert_stderr 'oai-batch: long.txt:1: input too long (30000 bytes, about 10000 tokens; the model takes 8192)'
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-batch -e embeddings --lines: output stops at the first failed line, as oai-embed's; every failure named; exit 4" {
	printf 'one\ntwo\nthree\nfour\n' > in.txt
	srv_queue '{"path": "/v1/batches", "method": "POST", "batch": {"fail": [2, 4]}}'
	run --separate-stderr oai-batch -e embeddings --lines --dimensions 2 in.txt
	assert_status 4
	assert_equal 0 "$(jq -s 'map(.index) | join(" ")' <<<"$output" | tr -d '"')"
	assert_stderr 'oai-batch: in.txt:2: request line-2 failed: 400 invalid_request_error: Refused here.
oai-batch: in.txt:4: request line-4 failed: 400 invalid_request_error: Refused here.
oai-batch: in.txt:2 and what follows are not in the output: it stops at the first failed request, as oai-embed'"'"'s does'
	# oai-embed, one input a request, its second refused: the same lines out, the same status
	srv_reset
	srv_queue '{"path": "/v1/embeddings", "match": "two", "status": 400, "json": {"error": {"message": "Refused here.", "type": "invalid_request_error", "param": null, "code": null}}}'
	run --separate-stderr oai-embed -b 1 -P 1 --dimensions 2 in.txt
	assert_status 4
	assert_equal 0 "$(jq -s 'map(.index) | join(" ")' <<<"$output" | tr -d '"')"
}

@test "oai-batch -e embeddings --lines: an expired batch prints up to its first request not run, exit 5" {
	printf 'one\ntwo\nthree\n' > in.txt
	srv_queue '{"path": "/v1/batches", "method": "POST", "batch": {"outcome": "expired", "done": 2}}'
	run --separate-stderr oai-batch -e embeddings --lines --format tsv --dimensions 2 in.txt
	assert_status 5
	assert_equal 2 "$(grep -c '' <<<"$output")"
	assert_stderr 'oai-batch: in.txt:3: request line-3 failed: batch_expired: This request could not be executed before the completion window expired.
oai-batch: batch_test1 expired: 2 of 3 requests completed
oai-batch: in.txt:3 and what follows are not in the output: it stops at the first failed request, as oai-embed'"'"'s does'
}

@test "oai-batch -e chat --lines --attach prints the empty lines at the end, from the batch's metadata" {
	printf 'x\n\ny\n\n\n' > in.txt
	oai-chat --each < in.txt > chat.txt
	srv_reset
	run --separate-stderr oai-batch -e chat --lines --detach < in.txt
	assert_status 0
	assert_equal '{"oai_lines":"5"}' "$(srv_req_field 2 .body | jq -c .metadata)"
	oai-batch --attach batch_test1 --lines > out 2> err
	assert_equal '' "$(cat err)"
	cmp chat.txt out
	assert_equal 5 "$(grep -c '' out)"
}

@test "oai-batch -e chat --lines split in batches: each batch's metadata counts the lines up to its end" {
	printf 'a\n\nb\n\n' > in.txt
	OAI_TEST_BATCH_REQUESTS=1 oai-batch -e chat --lines --detach < in.txt > ids
	assert_equal '{"oai_lines":"2"} {"oai_lines":"4"}' \
		"$(srv_requests | jq -c 'select(.path == "/v1/batches") | .body | fromjson | .metadata' | tr '\n' ' ' | sed 's/ $//')"
	oai-batch --attach "$(cat ids)" --lines > out
	assert_equal 'echo: a

echo: b

.' "$(cat out; echo .)"
}

@test "oai-batch: a custom_id used again in a later batch of a split input is named (exit 2, nothing sent)" {
	for i in 1 2 3 4 5; do
		printf '{"custom_id":"r%s","method":"POST","url":"/v1/embeddings","body":{"input":"x"}}\n' $((i == 5 ? 2 : i))
	done > in.jsonl
	OAI_TEST_BATCH_REQUESTS=2 run --separate-stderr oai-batch in.jsonl
	assert_status 2
	assert_stderr 'oai-batch: in.jsonl:5: a custom_id used before'
	assert_equal 0 "$(srv_nreq)"
	sed -i '5s/r2/r5/' in.jsonl
	OAI_TEST_BATCH_REQUESTS=2 run --separate-stderr oai-batch in.jsonl
	assert_status 0
	assert_equal 5 "$(grep -c '' <<<"$output")"
}

@test "oai-batch: --with-text, --skip-empty and --whole go with --lines -e embeddings" {
	run --separate-stderr oai-batch -e embeddings --lines --with-text --format tsv < b.txt
	assert_status 2
	assert_stderr 'oai-batch: --with-text needs --format jsonl'
	run --separate-stderr oai-batch -e chat --lines --skip-empty < b.txt
	assert_stderr 'oai-batch: --skip-empty does not go with -e chat'
	run --separate-stderr oai-batch -e chat --lines --with-text < b.txt
	assert_stderr 'oai-batch: --with-text does not go with -e chat'
	run --separate-stderr oai-batch -e embeddings --whole < b.txt
	assert_stderr 'oai-batch: -m, -s, --dimensions, --format, --with-text, --skip-empty and --whole need --lines'
	run --separate-stderr oai-batch --attach batch_x --lines --skip-empty
	assert_status 2
	assert_stderr 'oai-batch: -m, -s, --dimensions, --skip-empty and --whole go with a run or --detach'
	assert_equal 0 "$(srv_nreq)"
}
