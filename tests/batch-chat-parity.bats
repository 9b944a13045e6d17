#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# The swap promise for chat (issue 12): oai-batch -e chat --lines takes
# oai-chat's request options and sends the bodies oai-chat --each sends,
# byte for byte (one builder, lib/chatreq.c); -u at the Batch API's
# price; --dry-run prints the JSONL it would upload.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-parity OAI_TEST_BATCH_POLL_MS=20
	export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/cfg"
	mkdir -p "$XDG_CONFIG_HOME/oai/roles"
	cd "$BATS_TEST_TMPDIR"
	printf 'good\n\nbad\\ one\n"quoted" last\n' > in.txt
	printf '{"type":"object","properties":{"a":{"type":"string"}}}\n' > label.json
	printf 'predicted\n' > pred.txt
}

# The request options of both tools, every kind of table entry.
FLAGS=(-m mm -s "Be brief." -t 0.25 --top-p 0.5 --max-tokens 7 --seed -3
	--stop END --stop $'two\nlines' --frequency-penalty 1.5
	--presence-penalty -0.5 --logit-bias 50256=-100 --logprobs 2
	--metadata k=v --metadata k=w --store --reasoning-effort low
	--verbosity high --service-tier flex --prediction pred.txt
	--schema label.json --param user=u1 --param temperature=0.75)

# The bodies of the uploaded input file (kept), as the server stored
# them: each line with its envelope taken off, the body's bytes as sent.
uploaded_bodies() {
	oai-files -g file-test1 |
		sed 's/^{"custom_id":"line-[0-9]*","method":"POST","url":"\/v1\/chat\/completions","body"://; s/}$//'
}

@test "the bodies of oai-batch -e chat --lines are oai-chat --each --dry-run's, byte for byte" {
	run --separate-stderr oai-chat --each --dry-run "${FLAGS[@]}" Classify: < in.txt
	assert_status 0
	assert_equal '' "$stderr"
	printf '%s\n' "$output" > chat.bodies
	assert_equal 3 "$(grep -c '' chat.bodies)"
	# every option reached the body
	assert_equal '{"model":"mm","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Classify:\n\ngood"}],"temperature":0.75,"top_p":0.5,"max_completion_tokens":7,"stop":["END","two\nlines"],"seed":-3,"frequency_penalty":1.5,"presence_penalty":-0.5,"response_format":{"type":"json_schema","json_schema":{"name":"label","schema":{"type":"object","properties":{"a":{"type":"string"}}},"strict":true}},"reasoning_effort":"low","verbosity":"high","service_tier":"flex","logprobs":true,"top_logprobs":2,"logit_bias":{"50256":-100},"store":true,"metadata":{"k":"w"},"prediction":{"type":"content","content":"predicted\n"},"user":"u1"}' "$(head -1 chat.bodies)"
	run --separate-stderr oai-batch -e chat --lines --keep-files "${FLAGS[@]}" Classify: < in.txt
	assert_status 0
	assert_equal '' "$stderr"
	uploaded_bodies > batch.bodies
	cmp chat.bodies batch.bodies
	# the custom_ids still name the input lines (line 2 is empty: not sent)
	assert_equal 'line-1 line-3 line-4' "$(oai-files -g file-test1 | jq -r .custom_id | paste -sd ' ')"
}

@test "the same flags, the same output: oai-chat --each and oai-batch -e chat --lines, text and jsonl" {
	for f in text jsonl; do
		srv_reset
		oai-chat --each --format "$f" "${FLAGS[@]}" Classify: < in.txt > "chat.$f"
		srv_reset
		oai-batch -e chat --lines --format "$f" "${FLAGS[@]}" Classify: < in.txt > "batch.$f" 2> err
		assert_equal '' "$(cat err)"
		cmp "chat.$f" "batch.$f" || fail "$f differs"
	done
	assert_equal 4 "$(grep -c '' batch.text)"
}

@test "oai-batch -r ROLE: the role's options and system message, as oai-chat -r" {
	printf 'model = role-m\ntemperature = 0.2\nmax-tokens = 9\n\nYou are terse.\n' > "$XDG_CONFIG_HOME/oai/roles/terse"
	oai-chat --each --dry-run -r terse < in.txt > chat.bodies
	oai-batch -e chat --lines --dry-run -r terse < in.txt > batch.jsonl
	assert_equal '{"model":"role-m","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"good"}],"temperature":0.2,"max_completion_tokens":9}' "$(head -1 chat.bodies)"
	assert_equal "$(cat chat.bodies)" "$(jq -c .body batch.jsonl)"
	# a flag still wins over the role
	oai-batch -e chat --lines --dry-run -r terse -t 1 < in.txt > batch.jsonl
	assert_equal 1 "$(head -1 batch.jsonl | jq .body.temperature)"
}

@test "oai-batch --dry-run prints the JSONL it would upload: no key, nothing sent" {
	unset OPENAI_API_KEY
	run --separate-stderr oai-batch -e chat --lines --dry-run -m mm -t 0 Q: < in.txt
	assert_status 0
	assert_equal '' "$stderr"
	assert_output '{"custom_id":"line-1","method":"POST","url":"/v1/chat/completions","body":{"model":"mm","messages":[{"role":"user","content":"Q:\n\ngood"}],"temperature":0}}
{"custom_id":"line-3","method":"POST","url":"/v1/chat/completions","body":{"model":"mm","messages":[{"role":"user","content":"Q:\n\nbad\\ one"}],"temperature":0}}
{"custom_id":"line-4","method":"POST","url":"/v1/chat/completions","body":{"model":"mm","messages":[{"role":"user","content":"Q:\n\n\"quoted\" last"}],"temperature":0}}'
	# bare bodies get their custom_ids; requests are compacted, as uploaded
	printf '{"model": "a"}\n{"model":"b"}\n' > bodies.jsonl
	run --separate-stderr oai-batch -e embeddings --dry-run bodies.jsonl
	assert_status 0
	assert_output '{"custom_id":"request-1","method":"POST","url":"/v1/embeddings","body":{"model":"a"}}
{"custom_id":"request-2","method":"POST","url":"/v1/embeddings","body":{"model":"b"}}'
	printf '{"custom_id": "x", "method": "POST", "url": "/v1/moderations", "body": {"input": "hi"}}\n' > req.jsonl
	run --separate-stderr oai-batch --dry-run req.jsonl
	assert_output '{"custom_id":"x","method":"POST","url":"/v1/moderations","body":{"input":"hi"}}'
	# embeddings --lines, past a split into batches: every line, in order
	printf 'a\nb\nc\n' | OAI_TEST_BATCH_REQUESTS=2 oai-batch -e embeddings --lines --dry-run --format f32 > emb.jsonl
	assert_equal 'line-1 a
line-2 b
line-3 c' "$(jq -r '"\(.custom_id) \(.body.input)"' emb.jsonl)"
	# the input is still checked
	run --separate-stderr oai-batch --dry-run < <(printf '{"custom_id":"x"}\n')
	assert_status 2
	assert_stderr 'oai-batch: standard input:1: the method is not POST'
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-batch -u: the results' usage summed, at half the price, as oai-chat -u says it" {
	printf 'gpt-4o 1000 2000\ntext-embedding-3-small 1000 0\n' > prices
	export OAI_PRICES=$BATS_TEST_TMPDIR/prices
	# each reply: 1 prompt + 2 completion tokens = $0.005, $0.0025 in a batch
	run --separate-stderr oai-chat --each -u -m gpt-4o < <(seq 1 3)
	assert_stderr 'oai-chat: usage: 3 prompt + 6 completion = 9 tokens in 3 requests, $0.015000'
	run --separate-stderr oai-batch -e chat --lines -u -m gpt-4o < <(seq 1 3)
	assert_status 0
	assert_stderr 'oai-batch: usage: 3 prompt + 6 completion = 9 tokens in 3 requests, $0.007500'
	# raw requests, embeddings
	run --separate-stderr oai-batch -e embeddings -u < <(printf '{"model":"text-embedding-3-small","input":"a"}\n{"model":"text-embedding-3-small","input":"b c"}\n')
	assert_status 0
	assert_stderr 'oai-batch: usage: 3 tokens in 2 requests, $0.001500'
	# a model without a price, said once
	run --separate-stderr oai-batch -e chat --lines -u -m mm < <(seq 1 2)
	assert_stderr 'oai-batch: usage: 2 prompt + 4 completion = 6 tokens in 2 requests
oai-batch: no price for mm; set OAI_PRICES'
}

@test "oai-batch -u after failed requests: the ones that succeeded; and through --attach" {
	printf 'gpt-4o 1000 2000\n' > prices
	export OAI_PRICES=$BATS_TEST_TMPDIR/prices
	srv_queue '{"path": "/v1/batches", "method": "POST", "batch": {"outcome": "expired", "done": 2}}'
	run --separate-stderr oai-batch -e chat --lines -u -m gpt-4o < <(seq 1 3)
	assert_status 5
	assert_stderr 'oai-batch: standard input:3: request line-3 failed: batch_expired: This request could not be executed before the completion window expired.
oai-batch: batch_test1 expired: 2 of 3 requests completed
oai-batch: usage: 2 prompt + 4 completion = 6 tokens in 2 requests, $0.005000'
	srv_reset
	id=$(oai-batch -e chat --lines --detach -m gpt-4o < <(seq 1 2))
	run --separate-stderr oai-batch --attach "$id" --lines -u
	assert_status 0
	assert_output $'echo: 1\necho: 2'
	assert_stderr 'oai-batch: usage: 2 prompt + 4 completion = 6 tokens in 2 requests, $0.005000'
}

@test "oai-batch: the request options where they do not go, exit 2 with one line" {
	local -a cases=(
		'-t 1 < in.txt|--temperature needs --lines and -e chat'
		'--schema label.json -e chat < in.txt|--schema needs --lines and -e chat'
		'-e embeddings --lines --top-p 1 < in.txt|--top-p does not go with -e embeddings'
		'-e embeddings --lines -r x < in.txt|--role does not go with -e embeddings'
		'--attach batch_x --lines --seed 1|--seed goes with a run or --detach'
		'-e chat --lines --json-object --schema label.json < in.txt|--json-object and --schema exclude each other'
		'-e chat --lines --metadata novalue < in.txt|--metadata: '"'novalue'"' is not key=value'
		'-e chat --lines --param stream=true < in.txt|--param: stream does not go in a batch (batches do not stream)'
		'-e chat --lines -u --detach < in.txt|-u goes with a run or --attach'
		'--status batch_x -u|-u goes with a run or --attach'
		'--list --dry-run|--dry-run goes with a run'
		'-e chat --lines --dry-run --detach < in.txt|--dry-run goes with a run'
	)
	local c
	printf -- '---\nBe kind.\n' > "$XDG_CONFIG_HOME/oai/roles/x"
	for c in "${cases[@]}"; do
		run --separate-stderr eval "oai-batch ${c%%|*}"
		assert_status 2 || fail "$c"
		assert_stderr "oai-batch: ${c#*|}" || fail "$c"
	done
	# oai-chat --each's options that cannot work in a batch: why, in one line
	run --separate-stderr oai-batch -e chat --lines -P 2 < in.txt
	assert_status 2
	assert_stderr "oai-batch: --parallel: the service runs a batch's requests at its own pace"
	run --separate-stderr oai-batch -e chat --lines --no-stream < in.txt
	assert_status 2
	assert_stderr 'oai-batch: --no-stream: batches never stream'
	run --separate-stderr oai-batch -e chat --lines --budget 1 < in.txt
	assert_stderr 'oai-batch: --budget: a batch is paid for whole: see its requests with --dry-run, its cost with -u'
	run --separate-stderr oai-batch -e chat --lines --tool ./x < in.txt
	assert_stderr "oai-batch: --tool: tools run between requests, and a batch's requests are all sent at once"
	# and from a role: where it is said
	printf 'no-stream\n\nBe kind.\n' > "$XDG_CONFIG_HOME/oai/roles/ns"
	run --separate-stderr oai-batch -e chat --lines -r ns < in.txt
	assert_status 2
	assert_stderr "oai-batch: $XDG_CONFIG_HOME/oai/roles/ns:1: --no-stream: batches never stream"
	assert_equal 0 "$(srv_nreq)"
}
