#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-embed: formats, batching, parallel order, retries, failures, input errors.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() { load helper; srv_reset; export OPENAI_API_KEY=sk-test-embed; }

# The vector the test server makes for TEXT (DIMS dims), as oai-embed
# prints it: shortest decimal that reads back as the same float32.
vec() {
	python3 - "$1" "${2:-8}" "${3:-,}" <<'PY'
import hashlib, struct, sys
text, dims, sep = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def f32(x): return struct.unpack("<f", struct.pack("<f", x))[0]
def short(x):
    for p in range(1, 10):
        s = "%.*g" % (p, x)
        if f32(float(s)) == x: return s
out = []
for i in range(dims):
    h = hashlib.sha256(("%d:%s" % (i, text)).encode()).digest()
    out.append(short(f32(struct.unpack("<I", h[:4])[0] / 0xFFFFFFFF * 2.0 - 1.0)))
print(sep.join(out))
PY
}

@test "oai-embed: one jsonl line per input line, 0-based index, base64 on the wire" {
	run --separate-stderr oai-embed <<<$'hello\nworld'
	assert_status 0
	assert_stderr ''
	assert_output "{\"index\":0,\"embedding\":[$(vec hello)]}
{\"index\":1,\"embedding\":[$(vec world)]}"
	assert_equal 1 "$(srv_nreq)"
	assert_equal /v1/embeddings "$(srv_req_field 1 .path)"
	assert_equal '{"input":["hello","world"],"model":"text-embedding-3-small","encoding_format":"base64"}' \
		"$(srv_req_field 1 .body)"
	assert_equal "Bearer sk-test-embed" "$(srv_req_field 1 .headers.authorization)"
}

@test "oai-embed --format tsv, --with-text, --dimensions, -m" {
	run --separate-stderr oai-embed --format tsv --dimensions 3 -m my-model <<<'a b'
	assert_status 0
	assert_output "$(vec 'a b' 3 $'\t')"
	assert_equal 3 "$(srv_req_field 1 '.body|fromjson|.dimensions')"
	assert_equal my-model "$(srv_req_field 1 '.body|fromjson|.model')"
	run --separate-stderr oai-embed --with-text --model m2 <<<'say "hi"'
	assert_status 0
	assert_output "{\"index\":0,\"text\":\"say \\\"hi\\\"\",\"embedding\":[$(vec 'say "hi"')]}"
	assert_equal '"hi"' "$(printf '%s' "$output" | jq -r .text | cut -d' ' -f2)"
}

@test "oai-embed: OAI_EMBED_MODEL sets the default model, -m wins" {
	OAI_EMBED_MODEL=env-model run --separate-stderr oai-embed <<<x
	assert_status 0
	assert_equal env-model "$(srv_req_field 1 '.body|fromjson|.model')"
	OAI_EMBED_MODEL=env-model run --separate-stderr oai-embed -m flag-model <<<x
	assert_equal flag-model "$(srv_req_field 2 '.body|fromjson|.model')"
}

@test "oai-embed --format f32 writes little-endian float32" {
	oai-embed --format f32 --dimensions 4 <<<$'p\nq' >"$BATS_TEST_TMPDIR/v.f32"
	assert_equal 32 "$(wc -c <"$BATS_TEST_TMPDIR/v.f32")"
	run python3 -c 'import struct,sys; print(",".join("%.9g" % x for x in struct.unpack("<8f", open(sys.argv[1],"rb").read())))' "$BATS_TEST_TMPDIR/v.f32"
	expect=$(python3 -c 'import struct,sys; print(",".join("%.9g" % struct.unpack("<f", struct.pack("<f", float(x)))[0] for x in sys.argv[1:]))' $(vec p 4 ' ') $(vec q 4 ' '))
	assert_output "$expect"
}

@test "oai-embed decodes the recorded base64 responses" {
	srv_queue '{"cassette": "embeddings_base64_single"}'
	run --separate-stderr oai-embed --format tsv <<<'Hello, world!'
	assert_status 0
	assert_stderr ''
	assert_equal 1536 "$(printf '%s\n' "$output" | awk -F'\t' '{print NF}')"
	assert_equal "-0.020438407 -0.022282261 0.029636288" \
		"$(printf '%s\n' "$output" | awk -F'\t' '{print $1, $2, $NF}')"
	srv_queue '{"cassette": "embeddings_base64_3small_512"}'
	run --separate-stderr oai-embed --dimensions 512 <<<'x'
	assert_status 0
	assert_equal 512 "$(printf '%s' "$output" | jq '.embedding|length')"
}

@test "oai-embed --dry-run prints the request bodies and sends nothing" {
	run --separate-stderr env -u OPENAI_API_KEY oai-embed --dry-run -b 2 --dimensions 7 <<<$'a\nb\nc'
	assert_status 0
	assert_stderr ''
	assert_output '{"input":["a","b"],"model":"text-embedding-3-small","encoding_format":"base64","dimensions":7}
{"input":["c"],"model":"text-embedding-3-small","encoding_format":"base64","dimensions":7}'
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-embed: batches of at most 2048 inputs" {
	seq 2049 >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr oai-embed -P 1 "$BATS_TEST_TMPDIR/in"
	assert_status 0
	assert_equal 2049 "$(printf '%s\n' "$output" | wc -l)"
	assert_equal 2048 "$(srv_req_field 1 '.body|fromjson|.input|length')"
	assert_equal 1 "$(srv_req_field 2 '.body|fromjson|.input|length')"
	assert_equal 2048 "$(printf '%s\n' "$output" | tail -n 1 | jq .index)"
}

@test "oai-embed: batches stay under 300,000 bytes of input (tokens)" {
	python3 -c 'print(("a" * 24000 + "\n") * 13, end="")' >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr oai-embed --dry-run "$BATS_TEST_TMPDIR/in"
	assert_status 0
	assert_equal "12
1" "$(printf '%s\n' "$output" | jq '.input|length')"
}

@test "oai-embed: an input over 8192 estimated tokens is an error naming its line" {
	python3 -c 'print("short"); print("x" * 30000)' >"$BATS_TEST_TMPDIR/long"
	run --separate-stderr oai-embed -b 1 "$BATS_TEST_TMPDIR/long"
	assert_status 2
	assert_output "{\"index\":0,\"embedding\":[$(vec short)]}"
	assert_stderr "oai-embed: $BATS_TEST_TMPDIR/long:2: input too long (30000 bytes, about 10000 tokens; the model takes 8192)"
}

@test "oai-embed: order kept when parallel requests finish out of order" {
	seq 10 >"$BATS_TEST_TMPDIR/in"
	srv_queue '{"path": "/v1/embeddings", "delay_ms": 400}' \
		'{"path": "/v1/embeddings", "delay_ms": 200}'
	run --separate-stderr oai-embed -P 4 -b 2 "$BATS_TEST_TMPDIR/in"
	assert_status 0
	assert_stderr ''
	expected=$(for i in $(seq 10); do printf '{"index":%d,"embedding":[%s]}\n' $((i - 1)) "$(vec "$i")"; done)
	assert_output "$expected"
	assert_equal 5 "$(srv_nreq)"
	# Which batch reaches the server first (and gets the 400 ms delay)
	# is up to the connections, so no assertion on that: the first two
	# to arrive are slow and the others are not, and the output above
	# must still be in input order.
}

@test "oai-embed: a 429 in the middle slows down and retries, nothing lost" {
	seq 6 >"$BATS_TEST_TMPDIR/in"
	srv_queue '{"path": "/v1/embeddings"}' \
		'{"path": "/v1/embeddings", "status": 429, "headers": {"retry-after-ms": "50"},
		  "json": {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}}'
	run --separate-stderr oai-embed -P 1 -b 2 "$BATS_TEST_TMPDIR/in"
	assert_status 0
	assert_stderr ''
	assert_equal 6 "$(printf '%s\n' "$output" | wc -l)"
	assert_equal "0 1 2 3 4 5" "$(printf '%s\n' "$output" | jq .index | xargs)"
	assert_equal 4 "$(srv_nreq)"
	assert_equal "$(srv_req_field 2 .body)" "$(srv_req_field 3 .body)"
}

@test "oai-embed: a failed batch stops the run, names the first line not embedded" {
	seq 8 >"$BATS_TEST_TMPDIR/in"
	srv_queue '{"path": "/v1/embeddings"}' '{"path": "/v1/embeddings"}' \
		'{"path": "/v1/embeddings", "status": 500, "repeat": 3,
		  "json": {"error": {"message": "boom", "type": "server_error"}}}'
	run --separate-stderr oai-embed -P 1 -b 2 --retries 1 "$BATS_TEST_TMPDIR/in"
	assert_status 5
	assert_equal "0 1 2 3" "$(printf '%s\n' "$output" | jq .index | xargs)"
	assert_stderr "oai-embed: 500 server_error: boom ($BATS_TEST_TMPDIR/in:5 and what follows were not embedded)"
	# the failed batch was tried twice (--retries 1); 7 and 8 may have
	# been sent meanwhile, but were not written
	assert_equal 2 "$(srv_requests | jq -c '.body|fromjson|.input' | grep -c '^\["5","6"\]$')"
	refute_output_contains '"index":6'

}

@test "oai-embed: a 400 is exit 4, a 401 exit 3" {
	srv_queue '{"status": 400, "json": {"error": {"message": "bad dims", "type": "invalid_request_error", "code": null}}}'
	run --separate-stderr oai-embed <<<x
	assert_status 4
	assert_output ''
	assert_stderr "oai-embed: 400 invalid_request_error: bad dims (standard input:1 and what follows were not embedded)"
	srv_queue '{"cassette": "error_401_invalid_api_key_chat"}'
	run --separate-stderr oai-embed <<<x
	assert_status 3
	refute_stderr_contains sk-test-embed
}

@test "oai-embed: a malformed response is exit 5" {
	srv_queue '{"json": {"data": [{"index": 0, "embedding": "!!"}]}}'
	run --separate-stderr oai-embed <<<x
	assert_status 5
	assert_stderr "oai-embed: unexpected response from $OPENAI_BASE_URL/embeddings: bad base64 embedding (standard input:1 and what follows were not embedded)"
}

@test "oai-embed: empty lines are an error naming the line, or skipped" {
	run --separate-stderr oai-embed -b 1 <<<$'a\n\nb'
	assert_status 2
	assert_output "{\"index\":0,\"embedding\":[$(vec a)]}"
	assert_stderr "oai-embed: standard input:2: empty input (the API rejects it; --skip-empty skips it)"
	run --separate-stderr oai-embed --skip-empty <<<$'a\n\nb'
	assert_status 0
	assert_equal "0 1" "$(printf '%s\n' "$output" | jq .index | xargs)"
	assert_equal '["a","b"]' "$(srv_req_field -1 '.body|fromjson|.input|tojson')"
}

@test "oai-embed: invalid UTF-8 names the file and line; CRLF is stripped" {
	printf 'ok\r\n\xff\n' >"$BATS_TEST_TMPDIR/bad"
	run --separate-stderr oai-embed --dry-run "$BATS_TEST_TMPDIR/bad"
	assert_status 2
	assert_output '{"input":["ok"],"model":"text-embedding-3-small","encoding_format":"base64"}'
	assert_stderr "oai-embed: $BATS_TEST_TMPDIR/bad:2: not valid UTF-8 at byte offset 0"
}

@test "oai-embed: several files are one stream; a missing file is exit 2" {
	printf 'a\n' >"$BATS_TEST_TMPDIR/f1"
	printf 'b\n\n' >"$BATS_TEST_TMPDIR/f2"
	run --separate-stderr oai-embed --dry-run "$BATS_TEST_TMPDIR/f1" "$BATS_TEST_TMPDIR/f2"
	assert_status 2
	assert_stderr "oai-embed: $BATS_TEST_TMPDIR/f2:2: empty input (the API rejects it; --skip-empty skips it)"
	run --separate-stderr oai-embed --dry-run "$BATS_TEST_TMPDIR/f1" "$BATS_TEST_TMPDIR/nope"
	assert_status 2
	assert_output '{"input":["a"],"model":"text-embedding-3-small","encoding_format":"base64"}'
	assert_stderr "oai-embed: $BATS_TEST_TMPDIR/nope: No such file or directory"
}

@test "oai-embed --whole embeds each file as one input" {
	run --separate-stderr oai-embed --whole --dry-run <<<$'line 1\nline 2'
	assert_status 0
	assert_output '{"input":["line 1\nline 2"],"model":"text-embedding-3-small","encoding_format":"base64"}'
	run --separate-stderr oai-embed --whole --dry-run </dev/null
	assert_status 2
	assert_stderr "oai-embed: standard input:1: empty input (the API rejects it; --skip-empty skips it)"
}

@test "oai-embed: bad options are usage errors" {
	run --separate-stderr oai-embed --format xml
	assert_status 2
	assert_stderr "oai-embed: --format: 'xml' is not one of jsonl, tsv, f32"
	run --separate-stderr oai-embed -P 0
	assert_status 2
	run --separate-stderr oai-embed --dimensions x
	assert_status 2
	run --separate-stderr oai-embed -b 2049
	assert_status 2
	run --separate-stderr oai-embed --with-text --format tsv
	assert_status 2
	assert_stderr "oai-embed: --with-text needs --format jsonl"
	run --separate-stderr oai-embed --bogus
	assert_status 2
	assert_stderr_contains "usage: oai-embed"
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-embed: 230 KB of text vectors, written in several pieces, lose and repeat nothing" {
	# Each line is formatted in standard output's buffer, which is
	# written past 64 KiB: the whole output against the server's
	# vectors, computed here
	seq 40 | sed 's/^/line /' >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr oai-embed --with-text --dimensions 512 "$BATS_TEST_TMPDIR/in"
	assert_status 0
	assert_stderr ''
	[ "${#output}" -gt 200000 ] || fail "only ${#output} bytes"
	assert_output "$(i=0; while IFS= read -r l; do
		printf '{"index":%d,"text":"%s","embedding":[%s]}\n' $i "$l" "$(vec "$l" 512)"
		i=$((i + 1))
	done <"$BATS_TEST_TMPDIR/in")"
}

@test "oai-embed: /dev/full is exit 5, a closed pipe is quiet" {
	run --separate-stderr oai-embed <<<x >/dev/full
	run --separate-stderr sh -c 'oai-embed <<EOF >/dev/full
x
EOF'
	assert_status 5
	run --separate-stderr sh -c 'seq 5000 | oai-embed | head -c1'
	assert_status 0
	assert_output '{'
	assert_stderr ''
}

@test "oai-embed --verbose logs the requests, never the key" {
	run --separate-stderr oai-embed --verbose <<<x
	assert_status 0
	assert_stderr_contains "> POST $OPENAI_BASE_URL/embeddings"
	refute_stderr_contains sk-test-embed
}

@test "oai-embed --help lists every option; usage matches the man page" {
	run --separate-stderr oai-embed --help
	assert_status 0
	for opt in model dimensions format with-text whole skip-empty parallel batch-size dry-run base-url api-key-file timeout retries verbose help version; do
		assert_output_contains "--$opt"
		grep -q -- "$opt" "$ROOT/man/oai-embed.1"
		grep -q -- "--$opt" "$ROOT/completions/bash/oai-embed"
		grep -q -- "--$opt" "$ROOT/completions/zsh/_oai-embed"
		grep -q -- "-l $opt" "$ROOT/completions/fish/oai-embed.fish"
	done
}

@test "oai-embed --format f32 refuses to write to a terminal, before any request" {
	run script -qec "echo hi | oai-embed --format f32; echo status=\$?" /dev/null
	[[ $output == *'oai-embed: refusing to write float32 vectors to a terminal; redirect standard output or use --format jsonl'* ]] ||
		fail "$output"
	[[ $output == *status=2* ]] || fail "$output"
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-embed: Ctrl-C or SIGTERM while reading standard input exits 130 or 143 quietly" {
	assert_quiet_interrupt_reading oai-embed
	assert_quiet_interrupt_reading oai-embed --whole
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-embed: --with-text keeps a NUL inside a line, and the next line's text" {
	printf 'a\0b\nc\n' > "$BATS_TEST_TMPDIR/in"
	run --separate-stderr oai-embed --with-text "$BATS_TEST_TMPDIR/in"
	assert_status 0
	assert_stderr ''
	assert_equal '"a\u0000b" "c"' "$(printf '%s\n' "$output" | jq -c .text | paste -sd ' ')"
}

# ---- answers read as they arrive (issue 17) ---------------------------------

# data ELEMENT...: a response spec whose data are the JSON elements given.
data() {
	printf '%s\n' "$@" | jq -sc '{json: {object: "list", data: .}}'
}

@test "oai-embed: a bad vector mid-answer: those before are out, the line named is the first not" {
	srv_queue "$(data '{"index":0,"embedding":[0.5,1]}' '{"index":1,"embedding":[2,3]}' \
		'{"index":2,"embedding":"!!"}' '{"index":3,"embedding":[4,5]}')"
	run --separate-stderr oai-embed <<<$'a\nb\nc\nd'
	assert_status 5
	assert_output '{"index":0,"embedding":[0.5,1]}
{"index":1,"embedding":[2,3]}'
	assert_stderr "oai-embed: unexpected response from $OPENAI_BASE_URL/embeddings: bad base64 embedding (standard input:3 and what follows were not embedded)"
}

@test "oai-embed: the last vector of a batch waits for the end of its answer" {
	# Whole vectors, then an answer that is not JSON at its end: the
	# batch's last line is not written, and is the one named.
	srv_queue "{\"body\": \"{\\\"data\\\":[{\\\"index\\\":0,\\\"embedding\\\":[1]},{\\\"index\\\":1,\\\"embedding\\\":[2]}]} x\"}"
	run --separate-stderr oai-embed <<<$'a\nb'
	assert_status 5
	assert_output '{"index":0,"embedding":[1]}'
	assert_stderr "oai-embed: unexpected response from $OPENAI_BASE_URL/embeddings: not an embedding list (standard input:2 and what follows were not embedded)"
	srv_queue "$(data '{"index":0,"embedding":[1]}')"
	run --separate-stderr oai-embed <<<$'a\nb'
	assert_status 5
	assert_output '{"index":0,"embedding":[1]}'
	assert_stderr "oai-embed: unexpected response from $OPENAI_BASE_URL/embeddings: wrong number of embeddings (standard input:2 and what follows were not embedded)"
}

@test "oai-embed: vectors out of order in an answer, index after embedding, \\/ in base64" {
	# 1.0 and -2.0 as float32: AACAPw== and AAAAwA==; "/" escaped as
	# some JSON writers do.
	srv_queue "$(data '{"embedding":[3],"index":2}' '{"index":0,"embedding":"AACAPw=="}' \
		'{"embedding":"AAAAwA==","object":"embedding","index":1}')"
	run --separate-stderr oai-embed <<<$'a\nb\nc'
	assert_status 0
	assert_stderr ''
	assert_output '{"index":0,"embedding":[1]}
{"index":1,"embedding":[-2]}
{"index":2,"embedding":[3]}'
	# 0.99999994 is //9/Pw==
	srv_queue '{"body": "{\"data\":[{\"index\":0,\"embedding\":\"\\/\\/9\\/Pw==\"}]}"}'
	run --separate-stderr oai-embed <<<a
	assert_status 0
	assert_output '{"index":0,"embedding":[0.99999994]}'
}

@test "oai-embed: a connection cut mid-answer is retried; what was written is not written again" {
	seq 6 >"$BATS_TEST_TMPDIR/in"
	# The generated answer is indented JSON, about 250 bytes a vector
	# of 8: the cut comes after the second vector.
	srv_queue '{"path": "/v1/embeddings", "close_after": 700}'
	run --separate-stderr oai-embed -P 1 "$BATS_TEST_TMPDIR/in"
	assert_status 0
	assert_stderr ''
	expected=$(for i in $(seq 6); do printf '{"index":%d,"embedding":[%s]}\n' $((i - 1)) "$(vec "$i")"; done)
	assert_output "$expected"
	assert_equal 2 "$(srv_nreq)"
	assert_equal "$(srv_req_field 1 .body)" "$(srv_req_field 2 .body)"
}

@test "oai-embed: waiting batches past their cap pause, and all comes out in order" {
	# The cap divided by 1024 is 1 KiB: 32 vectors of 8 dimensions.
	export OAI_TEST_LIMIT_DIV=1024
	seq 1000 >"$BATS_TEST_TMPDIR/in"
	srv_queue '{"path": "/v1/embeddings", "delay_ms": 500}'
	run --separate-stderr oai-embed -P 4 -b 200 "$BATS_TEST_TMPDIR/in"
	assert_status 0
	assert_stderr ''
	assert_equal 1000 "$(printf '%s\n' "$output" | wc -l)"
	assert_equal "$(seq 0 999)" "$(printf '%s\n' "$output" | jq .index)"
	assert_equal "{\"index\":999,\"embedding\":[$(vec 1000)]}" "$(printf '%s\n' "$output" | tail -n 1)"
	assert_equal 5 "$(srv_nreq)"
}
