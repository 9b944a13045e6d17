#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-chat's request parameters (issue 14, item 1): --param, the named
# flags for the fields oai-chat had no option for, -n's printing.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-chat
}

@test "the named flags write their fields with the API's names and shapes" {
	printf 'old text\n' >"$BATS_TEST_TMPDIR/pred"
	run --separate-stderr oai-chat --dry-run --reasoning-effort low \
		--verbosity high --service-tier flex -n 3 --logprobs 2 \
		--logit-bias 50256=-100 --logit-bias '{"7": 5}' --store \
		--metadata team=docs --metadata 'why=a b' --metadata team=web \
		--prediction "$BATS_TEST_TMPDIR/pred" hi
	assert_status 0
	assert_stderr ''
	assert_output '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true,"reasoning_effort":"low","verbosity":"high","service_tier":"flex","n":3,"logprobs":true,"top_logprobs":2,"logit_bias":{"50256":-100,"7":5},"store":true,"metadata":{"why":"a b","team":"web"},"prediction":{"type":"content","content":"old text\n"}}'
}

@test "--param sets any field, JSON or a string, nested, over the tool's own" {
	run --separate-stderr oai-chat --dry-run --no-stream -t 1 \
		--param temperature=0.5 --param web_search_options.search_context_size=low \
		--param 'modalities=["text"]' --param user=u-1 --param n=2 hi
	assert_status 0
	assert_stderr ''
	assert_output '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"temperature":0.5,"web_search_options":{"search_context_size":"low"},"modalities":["text"],"user":"u-1","n":2}'
	run --separate-stderr oai-chat --dry-run --param stream=false hi
	assert_status 2
	assert_output ''
	assert_stderr 'oai-chat: --param: stream is the tool'"'"'s to set (--no-stream)'
}

@test "--param reaches the server in each request, --each too" {
	run --separate-stderr oai-chat --param seed=7 --param 'x.y="z"' hi </dev/null
	assert_status 0
	assert_output 'echo: hi'
	assert_equal '{"seed":7,"x":{"y":"z"}}' "$(srv_req_field 1 '.body | fromjson | {seed, x} | tojson')"
	run --separate-stderr oai-chat --each --param seed=8 <<<'a'
	assert_status 0
	assert_output 'echo: a'
	assert_equal 8 "$(srv_req_field 2 '.body | fromjson | .seed')"
}

@test "-n 3 streamed: the interleaved choices print whole, in order, --- between" {
	run --separate-stderr oai-chat -n 3 hello there </dev/null
	assert_status 0
	assert_stderr ''
	assert_output <<-'EOF'
	echo: hello there
	---
	echo 1: hello there
	---
	echo 2: hello there
	EOF
	assert_equal 3 "$(srv_req_field 1 '.body | fromjson | .n')"
}

@test "-n 2 --no-stream, and --param n=2, print both choices" {
	run --separate-stderr oai-chat --no-stream -n 2 hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_output "$(printf 'echo: hi\n---\necho 1: hi')"
	run --separate-stderr oai-chat --param n=2 hi </dev/null
	assert_status 0
	assert_output "$(printf 'echo: hi\n---\necho 1: hi')"
}

@test "-n with -c keeps the first choice in the conversation" {
	run --separate-stderr oai-chat -n 2 -c "$BATS_TEST_TMPDIR/c.jsonl" hi </dev/null
	assert_status 0
	assert_equal '{"role":"assistant","content":"echo: hi","model":"gpt-4o"}' "$(tail -n1 "$BATS_TEST_TMPDIR/c.jsonl")"
}

@test "a choice index past -n is an error in the stream" {
	srv_queue '{"sse": [{"choices": [{"index": 2, "delta": {"content": "x"}}]}], "sse_done": true}'
	run --separate-stderr oai-chat -n 2 hi </dev/null
	assert_status 5
	assert_output ''
	assert_stderr 'oai-chat: unexpected response: choice index 2 (0 to 1)'
}

@test "--logprobs N: the log probabilities come with --json" {
	run --separate-stderr oai-chat --json --no-stream --logprobs 1 hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_equal '{"logprobs":true,"top_logprobs":1}' "$(srv_req_field 1 '.body | fromjson | {logprobs, top_logprobs} | tojson')"
	assert_equal '[-0.5,-0.5]' "$(jq -c '[.choices[0].logprobs.content[].logprob]' <<<"$output")"
	assert_equal 1 "$(jq -c '.choices[0].logprobs.content[0].top_logprobs | length' <<<"$output")"
	run --separate-stderr oai-chat --json --logprobs 0 hi </dev/null
	assert_status 0
	assert_equal '[-0.5,-0.5]' "$(jq -sc '[.[].choices[0].logprobs.content[]?.logprob]' <<<"$output")"
}

@test "bad values of the new flags are usage errors before any request" {
	local -a cases=(
		"--reasoning-effort huge|--reasoning-effort: 'huge' is not one of none, minimal, low, medium, high, xhigh, max"
		"--verbosity loud|--verbosity: 'loud' is not one of low, medium, high"
		"--service-tier cheap|--service-tier: 'cheap' is not one of auto, default, flex, scale, priority, fast"
		"--logprobs 21|--logprobs: 21 is out of range (0 to 20)"
		"-n 0|--choices: 0 is out of range (1 to 128)"
		"--metadata novalue|--metadata: 'novalue' is not key=value"
		"--metadata =v|--metadata: '=v' is not key=value"
		"--logit-bias 5|--logit-bias: '5' is not token=bias or a JSON object"
		"--logit-bias 5=101|--logit-bias: 101 is out of range (-100 to 100)"
		"--prediction /nonexistent/p|/nonexistent/p: No such file or directory"
	)
	local c
	for c in "${cases[@]}"; do
		# shellcheck disable=SC2086
		run --separate-stderr oai-chat ${c%%|*} hi </dev/null
		assert_status 2
		assert_output ''
		assert_stderr "oai-chat: ${c#*|}"
	done
	run --separate-stderr oai-chat --metadata "k=$(printf '%513s' | tr ' ' v)" hi </dev/null
	assert_status 2
	assert_stderr "oai-chat: --metadata: 'k': keys are at most 64 characters, values 512"
	run --separate-stderr oai-chat $(for i in $(seq 17); do printf -- '--metadata k%d=v ' $i; done) hi </dev/null
	assert_status 2
	assert_stderr 'oai-chat: --metadata: at most 16 pairs'
	assert_equal 0 "$(srv_nreq)"
}

@test "-c keeps the system message of a new conversation; -s replaces it for one run" {
	conv=$BATS_TEST_TMPDIR/s.jsonl
	run --separate-stderr oai-chat -c "$conv" -s 'be brief' one </dev/null
	assert_status 0
	assert_equal '{"role":"system","content":"be brief"}
{"role":"user","content":"one"}
{"role":"assistant","content":"echo: one","model":"gpt-4o"}' "$(cat "$conv")"
	run --separate-stderr oai-chat -c "$conv" two </dev/null
	assert_status 0
	assert_equal '[{"role":"system","content":"be brief"},{"role":"user","content":"one"},{"role":"assistant","content":"echo: one"},{"role":"user","content":"two"}]' \
		"$(srv_req_field 2 '.body | fromjson | .messages | tojson')"
	run --separate-stderr oai-chat -c "$conv" -s other three </dev/null
	assert_status 0
	assert_equal 'other 6' "$(srv_req_field 3 '.body | fromjson | "\(.messages[0].content) \(.messages | length)"')"
	assert_equal 'be brief 7' "$(jq -sr '"\(.[0].content) \(length)"' "$conv")"
}
