#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# The shape of the work, not its speed: what must be linear is linear,
# what must go out at once goes out at once (issue 17).
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-perf
}

# ---- oai-embed: float arrays ------------------------------------------------

@test "oai-embed decodes a float-array embedding in one walk (200,000 numbers)" {
	# Servers that ignore encoding_format answer with JSON numbers.
	# Looking each element up from the start of the array took ~20 s
	# for this one vector; one walk takes milliseconds.  k + 0.5 prints
	# as itself.
	n=200000
	python3 -c 'import json, sys; n = int(sys.argv[1]); print(json.dumps(
		{"json": {"object": "list", "data": [{"object": "embedding",
		"index": 0, "embedding": [k + 0.5 for k in range(n)]}]}}))' \
		$n >"$BATS_TEST_TMPDIR/spec"
	srv_queue "$(cat "$BATS_TEST_TMPDIR/spec")"
	run --separate-stderr timeout 5 oai-embed <<<'x'
	assert_status 0
	assert_stderr ''
	expect=$(seq -f '%.1f' 0.5 1 $n | paste -sd,)
	[ "$output" = "{\"index\":0,\"embedding\":[$expect]}" ] ||
		fail "output differs: ${output:0:200}..."
}
