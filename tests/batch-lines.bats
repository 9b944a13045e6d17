#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-batch --lines: each input line one request, the output the bytes
# oai-embed or oai-chat --each prints for the same input (issue 12).
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-lines OAI_TEST_BATCH_POLL_MS=20
	cd "$BATS_TEST_TMPDIR"
	printf 'first line\nsecond, with "quotes"\r\nthird\n' > a.txt
	printf 'fourth\n' > b.txt
}

# the custom_ids and bodies of the batch's input file (run with --keep-files)
bodies() { oai-files -g file-test1 | jq -c '[.custom_id, .body]'; }

@test "oai-batch -e embeddings --lines prints oai-embed's bytes: jsonl, tsv, f32" {
	for f in jsonl tsv f32; do
		oai-embed --format "$f" --dimensions 5 a.txt b.txt > "embed.$f"
		srv_reset
		oai-batch -e embeddings --lines --keep-files --format "$f" \
			--dimensions 5 a.txt b.txt > "batch.$f" 2> err
		assert_equal '' "$(cat err)"
		cmp "embed.$f" "batch.$f" || fail "$f differs"
	done
	assert_equal 80 "$(stat -c %s batch.f32)"
	assert_equal 4 "$(grep -c '' batch.jsonl)"
	assert_equal '["line-1",{"model":"text-embedding-3-small","input":"first line","encoding_format":"base64","dimensions":5}]
["line-2",{"model":"text-embedding-3-small","input":"second, with \"quotes\"","encoding_format":"base64","dimensions":5}]
["line-3",{"model":"text-embedding-3-small","input":"third","encoding_format":"base64","dimensions":5}]
["line-4",{"model":"text-embedding-3-small","input":"fourth","encoding_format":"base64","dimensions":5}]' "$(bodies)"
}

@test "oai-batch -e embeddings --lines: -m and OAI_EMBED_MODEL as oai-embed; default format jsonl" {
	OAI_EMBED_MODEL=emb-env oai-batch -e embeddings --lines --keep-files < b.txt > out
	assert_equal emb-env "$(bodies | jq -r '.[1].model')"
	assert_equal '{"index":0,"embedding":' "$(head -c 23 out)"
	# a file part has a type, as curl gives one (Prism refuses it without)
	assert_equal application/octet-stream "$(srv_req_field 1 .files.file.content_type)"
	srv_reset
	OAI_EMBED_MODEL=emb-env oai-batch -e embeddings --lines --keep-files -m m2 < b.txt > out
	assert_equal m2 "$(bodies | jq -r '.[1].model')"
}

@test "oai-batch -e chat --lines prints oai-chat --each's bytes: text and jsonl, empty lines not sent" {
	printf 'good\n\nbad\\ one\nlast\n\n' > in.txt
	for f in text jsonl; do
		oai-chat --each --format "$f" -m mm -s "Be brief." Classify: < in.txt > "chat.$f"
		srv_reset
		oai-batch -e chat --lines --keep-files --format "$f" -m mm \
			-s "Be brief." Classify: < in.txt > "batch.$f" 2> err
		assert_equal '' "$(cat err)"
		cmp "chat.$f" "batch.$f" || fail "$f differs"
	done
	assert_equal 'echo: Classify:\n\ngood

echo: Classify:\n\nbad\\ one
echo: Classify:\n\nlast

.' "$(cat batch.text; echo .)"
	assert_equal '["line-1",{"model":"mm","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Classify:\n\ngood"}]}]
["line-3",{"model":"mm","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Classify:\n\nbad\\ one"}]}]
["line-4",{"model":"mm","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Classify:\n\nlast"}]}]' "$(bodies)"
}

@test "oai-batch -e chat --lines: a failed line is named, its output line empty (text) or an error (jsonl), exit 5" {
	printf 'one\ntwo\nthree\n' > in.txt
	srv_queue '{"path": "/v1/batches", "method": "POST", "batch": {"outcome": "expired", "done": 2}}'
	run --separate-stderr oai-batch -e chat --lines --format jsonl < in.txt
	assert_status 5
	assert_output '{"index":0,"reply":"echo: one","finish_reason":"stop","usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}
{"index":1,"reply":"echo: two","finish_reason":"stop","usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}
{"index":2,"error":{"status":0,"message":"batch_expired: This request could not be executed before the completion window expired."}}'
	assert_stderr 'oai-batch: standard input:3: request line-3 failed: batch_expired: This request could not be executed before the completion window expired.
oai-batch: batch_test1 expired: 2 of 3 requests completed'
}

@test "oai-batch --lines --attach prints as the run would, from the batch's own input file" {
	printf 'x\n\ny\n' > in.txt
	run --separate-stderr oai-batch -e chat --lines --detach < in.txt
	assert_status 0
	assert_output batch_test1
	run --separate-stderr oai-batch --attach batch_test1 --lines --format jsonl
	assert_status 0
	assert_stderr ''
	assert_equal '0 echo: x
1 null
2 echo: y' "$(jq -r '"\(.index) \(.reply)"' <<<"$output")"
}

@test "oai-batch --lines: Ctrl-C's resume command keeps --lines and --format" {
	srv_queue '{"path": "/v1/batches", "method": "POST", "batch": {"steps": 1000}}'
	OAI_TEST_BATCH_POLL_MS=50 oai-batch -e embeddings --lines --format tsv < b.txt > out 2> err &
	pid=$!
	for i in $(seq 50); do
		[ "$(srv_requests | grep -c batches/batch_test1)" -ge 1 ] && break
		sleep 0.1
	done
	signal_until_gone $pid INT
	st=0; wait $pid || st=$?
	assert_equal 130 "$st"
	assert_equal '' "$(cat out)"
	assert_equal 'oai-batch: interrupted; the batch goes on: oai-batch --attach batch_test1 --lines --format tsv' "$(cat err)"
}

@test "oai-batch --lines checks its input and options before sending anything (exit 2)" {
	printf 'a\n\nb\n' > gap.txt
	run --separate-stderr oai-batch -e embeddings --lines gap.txt
	assert_status 2
	assert_stderr 'oai-batch: gap.txt:2: empty input (the API rejects it; --skip-empty skips it)'
	printf 'a\n\377\n' > bad.txt
	run --separate-stderr oai-batch -e chat --lines < bad.txt
	assert_status 2
	assert_stderr 'oai-batch: standard input:2: not valid UTF-8 at byte offset 0'
	run --separate-stderr oai-batch --lines < b.txt
	assert_stderr 'oai-batch: --lines goes with -e chat or -e embeddings'
	run --separate-stderr oai-batch -e moderations --lines < b.txt
	assert_stderr 'oai-batch: --lines goes with -e chat or -e embeddings'
	run --separate-stderr oai-batch -e chat --lines --format f32 < b.txt
	assert_stderr 'oai-batch: --format f32 does not go with -e chat'
	run --separate-stderr oai-batch -e embeddings --lines --format text < b.txt
	assert_stderr 'oai-batch: --format text does not go with -e embeddings'
	run --separate-stderr oai-batch -e embeddings --lines -s sys < b.txt
	assert_stderr 'oai-batch: -s does not go with -e embeddings'
	run --separate-stderr oai-batch -e chat --lines --dimensions 3 < b.txt
	assert_stderr 'oai-batch: --dimensions does not go with -e chat'
	run --separate-stderr oai-batch -e chat -m m < b.txt
	assert_stderr 'oai-batch: -m, -s, --dimensions, --format, --with-text, --skip-empty and --whole need --lines'
	run --separate-stderr oai-batch --status batch_x --lines
	assert_stderr 'oai-batch: --lines goes with a run, --detach or --attach'
	run --separate-stderr oai-batch --attach batch_x --lines -m m
	assert_status 2
	assert_stderr 'oai-batch: -m, -s, --dimensions, --skip-empty and --whole go with a run or --detach'
	assert_equal 0 "$(srv_nreq)"
}
