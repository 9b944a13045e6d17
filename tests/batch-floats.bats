#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-batch -e embeddings --lines reads float-array embeddings (servers
# that ignore encoding_format) as oai-embed does, through lib/vecout.c's
# vec_addnum (f32_parse): the same bytes out, also for numbers that need
# strtod (over 19 significant digits, exponents past 22, past a double).
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-floats OAI_TEST_BATCH_POLL_MS=20
	cd "$BATS_TEST_TMPDIR"
	printf 'x\n' > in.txt
}

# the answer to one input: a float array with these numbers
answer() {
	printf '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[%s]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":1,"total_tokens":1}}' "$1"
}

# oai-embed's and oai-batch's output for the vector, in format $2
both() {
	local body
	body=$(answer "$1")
	srv_reset
	srv_queue "$(jq -nc --arg b "$body" '{path: "/v1/embeddings", body: $b, headers: {"Content-Type": "application/json"}}')"
	oai-embed --format "$2" in.txt > embed.out
	srv_reset
	srv_queue "$(jq -nc --arg b "$body" '{path: "/v1/batches", method: "POST", batch: {answer_body: $b}}')"
	# not run's $output: it would drop f32's NUL bytes
	run --separate-stderr sh -c 'oai-batch -e embeddings --lines --format "$1" in.txt > batch.out' sh "$2"
	assert_status 0
	assert_output ''
	assert_stderr ''
	# the answer was read from the batch's output file, not asked again
	assert_equal 0 "$(srv_requests | jq -s 'map(select(.path == "/v1/embeddings")) | length')"
}

V='0.1,-0.123456789,0.12345678901234567890123,-1.00000000000000000000001e-3,1.5e-30,2.5e25,3.4028234663852886e38,1e39,1e400,-1e-400,-0'

@test "oai-batch prints a float-array answer as oai-embed does (jsonl), numbers past f32_parse's fast path included" {
	both "$V" jsonl
	assert_equal '{"index":0,"embedding":[0.1,-0.12345679,0.12345679,-0.001,1.5e-30,2.5e+25,3.4028235e+38,null,null,-0,-0]}' "$(cat embed.out)"
	cmp embed.out batch.out
}

@test "oai-batch --format tsv and f32 of a float-array answer: oai-embed's bytes" {
	both "$V" tsv
	cmp embed.out batch.out
	assert_equal '0.1	-0.12345679	0.12345679	-0.001	1.5e-30	2.5e+25	3.4028235e+38	null	null	-0	-0' "$(cat batch.out)"
	both "$V" f32
	cmp embed.out batch.out
	assert_equal 44 "$(wc -c < batch.out)"
}

@test "oai-batch: an element of a float array that is not a number is a bad embedding (exit 5)" {
	srv_queue "$(jq -nc --arg b "$(answer '0.5,"0.25"')" '{path: "/v1/batches", method: "POST", batch: {answer_body: $b}}')"
	run --separate-stderr oai-batch -e embeddings --lines in.txt
	assert_status 5
	assert_output ''
	assert_stderr "oai-batch: in.txt:1: request line-1 failed: bad embedding
oai-batch: in.txt:1 and what follows are not in the output: it stops at the first failed request, as oai-embed's does"
}
