#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
#
# Conformance tier: the requests the tools send must validate against the
# official OpenAPI description ($OAI_OPENAPI_SPEC, or openapi.yaml in
# $OAI_TEST_RECORDINGS; tests/shared.sh).  Stoplight Prism (`prism mock`, installed by
# tests/conformance/setup.sh, i.e. `make deps`) serves a copy of the spec
# patched by tests/conformance/fixspec.js (see there why) and answers 422
# to a request that does not validate.
#
# The tier proves it can fail before it counts a pass: setup_file sends one
# invalid request per endpoint used here and requires 422 for each (401 for
# a missing key); if any is accepted, Prism validates nothing and every test
# fails.  Then two kinds of checks:
#   - bodies printed by `--dry-run` are POSTed to Prism with curl and must
#     get 2xx;
#   - the tools send to Prism directly (--base-url) and Prism's log must say
#     the request passed validation (the tools' exit status is not judged
#     there: Prism answers with the spec's examples, not real data).
# Tools or options not there yet skip their cases with a message; without
# node, the installed Prism or the spec, every test is skipped.
#
# Known blind spot: Prism treats the multipart field
# `timestamp_granularities[]` (the API's own spelling) as an unknown extra
# field and does not check its values; likewise `image[]` (several images
# of one edit, as the official SDKs send them), so it sees no `image` and
# refuses the form: that case is tested against tests/server.py only.

bats_require_minimum_version 1.5.0

PRISM_DIR=$BATS_TEST_DIRNAME/conformance
KEY=sk-conformance-dummy-key

setup_file() {
	# Read before the helper wipes OAI_*.
	local spec=${OAI_OPENAPI_SPEC:-}
	load helper
	spec=${spec:-$OAI_OPENAPI_SPEC}
	local dir=$BATS_FILE_TMPDIR port try i

	export CONF_SKIP=
	if ! command -v node >/dev/null 2>&1; then
		CONF_SKIP="node not installed (make deps)"
	elif [ ! -x "$PRISM_DIR/node_modules/.bin/prism" ]; then
		CONF_SKIP="Prism not installed: run make deps (tests/conformance/setup.sh)"
	elif [ ! -f "$spec" ]; then
		CONF_SKIP="OpenAPI description not found: set OAI_OPENAPI_SPEC=FILE, or OAI_TEST_RECORDINGS=DIR holding openapi.yaml, to run this tier"
	fi
	[ -z "$CONF_SKIP" ] || return 0

	node "$PRISM_DIR/fixspec.js" "$spec" "$dir/openapi.json" ||
		{ fail "fixspec.js failed"; return 1; }

	export PRISM_LOG=$dir/prism.log
	for try in 1 2 3; do
		port=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		: >"$PRISM_LOG"
		# fd 3 closed: bats waits for every holder of it to exit.
		"$PRISM_DIR/node_modules/.bin/prism" mock --errors \
			-h 127.0.0.1 -p "$port" "$dir/openapi.json" \
			</dev/null >"$PRISM_LOG" 2>&1 3>&- &
		export PRISM_PID=$!
		for i in $(seq 1200); do	# 120 s: startup takes 10-30 s
			grep -q 'Prism is listening' "$PRISM_LOG" && break
			kill -0 "$PRISM_PID" 2>/dev/null || break
			sleep 0.1
		done
		grep -q 'Prism is listening' "$PRISM_LOG" && break
		kill "$PRISM_PID" 2>/dev/null
		wait "$PRISM_PID" 2>/dev/null
		unset PRISM_PID
	done
	if [ -z "${PRISM_PID:-}" ]; then
		tail -n 20 "$PRISM_LOG" >&2
		fail "prism mock did not start"
		return 1
	fi
	export PRISM_URL="http://127.0.0.1:$port"

	_prove_it_can_fail >"$dir/proof" 2>&1 && touch "$dir/proved"
	# Shared with the tests: they must not run in parallel.
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
	export CONF_DIR=$dir
}

teardown_file() {
	[ -n "${PRISM_PID:-}" ] || return 0
	kill "$PRISM_PID" 2>/dev/null || true
	wait "$PRISM_PID" 2>/dev/null || true
	for _ in $(seq 300); do
		kill -0 "$PRISM_PID" 2>/dev/null || break
		sleep 0.01
	done
}

setup() {
	load helper
	[ -z "$CONF_SKIP" ] || skip "$CONF_SKIP"
	[ -e "$CONF_DIR/proved" ] || {
		grep '^FAIL' "$CONF_DIR/proof" >&2
		fail "Prism accepted an invalid request: it validates nothing"
		return 1
	}
	export OPENAI_BASE_URL=$PRISM_URL OPENAI_API_KEY=$KEY
}

# --- helpers ---------------------------------------------------------------

# _code ARGS...: curl to Prism with the dummy key, print the HTTP status.
_code() {
	curl -sS --noproxy '*' -o "$BATS_FILE_TMPDIR/resp" -w '%{http_code}' \
		"$@"
}

# _expect CODE WHAT CURL-ARGS...: require status CODE, else say what.
_expect() {
	local want=$1 what=$2 got
	shift 2
	got=$(_code "$@")
	if [ "$got" = "$want" ]; then
		echo "ok: $what: $got"
	else
		echo "FAIL: $what: expected $want, got $got"
		head -c 500 "$BATS_FILE_TMPDIR/resp"
		echo
		return 1
	fi
}

# Invalid requests, one per endpoint the tools use, each must be refused.
_prove_it_can_fail() {
	local a="Authorization: Bearer $KEY" j='Content-Type: application/json'
	local u=$PRISM_URL rc=0 wav=$BATS_FILE_TMPDIR/proof.wav

	printf 'RIFF\044\0\0\0WAVE' >"$wav"
	_expect 401 "GET /models without a key" "$u/models" || rc=1
	_expect 404 "GET /modelz (no such path)" -H "$a" "$u/modelz" || rc=1
	_expect 422 "chat without messages, temperature \"hot\"" -H "$a" \
		-H "$j" -d '{"model":"gpt-4o","temperature":"hot"}' \
		"$u/chat/completions" || rc=1
	_expect 422 "chat with an unknown role" -H "$a" -H "$j" \
		-d '{"model":"gpt-4o","messages":[{"role":"wizard","content":"x"}]}' \
		"$u/chat/completions" || rc=1
	_expect 422 "embeddings without input" -H "$a" -H "$j" \
		-d '{"model":"text-embedding-3-small"}' "$u/embeddings" || rc=1
	_expect 422 "moderations without input" -H "$a" -H "$j" \
		-d '{"model":"omni-moderation-latest"}' "$u/moderations" || rc=1
	_expect 422 "speech with speed \"fast\"" -H "$a" -H "$j" \
		-d '{"model":"tts-1","input":"x","voice":"alloy","speed":"fast"}' \
		"$u/audio/speech" || rc=1
	_expect 422 "completions without prompt, max_tokens \"many\"" -H "$a" \
		-H "$j" -d '{"model":"gpt-3.5-turbo-instruct","max_tokens":"many"}' \
		"$u/completions" || rc=1
	_expect 422 "transcription without model (multipart)" -H "$a" \
		-F "file=@$wav" "$u/audio/transcriptions" || rc=1
	_expect 422 "translation without file (multipart)" -H "$a" \
		-F model=whisper-1 "$u/audio/translations" || rc=1
	_expect 422 "image generation without prompt" -H "$a" -H "$j" \
		-d '{"model":"gpt-image-1","n":"many"}' \
		"$u/images/generations" || rc=1
	_expect 422 "batch with an endpoint not in the enum" -H "$a" -H "$j" \
		-d '{"input_file_id":"file-x","endpoint":"/v1/nope","completion_window":"24h"}' \
		"$u/batches" || rc=1
	return $rc
}

# need_tool TOOL [OPTION...]: skip unless bin/TOOL exists and its --help
# mentions every OPTION.
need_tool() {
	local t=$1 o help
	shift
	[ -x "$ROOT/bin/$t" ] || skip "$t not built yet"
	help=$("$ROOT/bin/$t" --help 2>&1) || true
	for o in "$@"; do
		[[ $help == *"$o"* ]] || skip "$t --help does not list $o yet"
	done
}

# check_body PATH FILE: POST every JSON value in FILE to Prism's PATH; each
# must validate (2xx).
check_body() {
	local path=$1 file=$2 n=0 body got
	# A pipe or <(...) can be read once: keep a copy.
	if [ ! -f "$file" ]; then
		cat "$file" >"$BATS_TEST_TMPDIR/body.json"
		file=$BATS_TEST_TMPDIR/body.json
	fi
	[ -s "$file" ] && jq -e . "$file" >/dev/null ||
		{ fail "not JSON:" "$(head -c 500 "$file")"; return 1; }
	while IFS= read -r body; do
		n=$((n + 1))
		got=$(printf '%s' "$body" | _code -H "Authorization: Bearer $KEY" \
			-H 'Content-Type: application/json' --data-binary @- \
			"$PRISM_URL$path")
		case $got in
		2??) ;;
		*)	fail "body $n for $path: HTTP $got" "$body" \
				"$(head -c 3000 "$BATS_FILE_TMPDIR/resp")"
			return 1 ;;
		esac
	done < <(jq -c . "$file")
	[ "$n" -gt 0 ] || { fail "no body in $file"; return 1; }
}

# dry_run PATH TOOL ARGS...: run TOOL --dry-run ARGS (stdin inherited),
# require exit 0, then check_body its output against PATH.
dry_run() {
	local path=$1 out=$BATS_TEST_TMPDIR/dry.json
	shift
	run --separate-stderr "$@"
	assert_status 0
	assert_stderr ''
	printf '%s\n' "$output" >"$out"
	check_body "$path" "$out"
}

# log_mark: print the number of lines in Prism's log so far.
log_mark() {
	grep -c '' "$PRISM_LOG" || true
}

# validated MARK METHOD PATH [N]: after log line MARK, Prism must have
# received N (default 1) METHOD PATH requests, all of them passing
# validation, and no request failing it.
validated() {
	local mark=$1 method=$2 path=$3 want=${4:-1} i new nrecv npass
	for i in $(seq 100); do
		new=$(tail -n "+$((mark + 1))" "$PRISM_LOG")
		nrecv=$(grep -c "\[HTTP SERVER\] $method $path .*Request received" <<<"$new")
		npass=$(grep -c 'passed the validation rules' <<<"$new")
		[ "$npass" -lt "$want" ] || break
		grep -q 'did not pass' <<<"$new" && break
		sleep 0.05
	done
	if [ "$nrecv" != "$want" ] || [ "$npass" != "$want" ] ||
		grep -q 'did not pass\|UNPROCESSABLE\|UNAUTHORIZED\|NO_PATH' <<<"$new"; then
		fail "expected $want valid $method $path, got $nrecv received," \
			"$npass valid; Prism's log:" "$new"
		_helper_context
		return 1
	fi
}

# A short WAV file for the transcription tool.
make_wav() {
	python3 -c 'import wave, sys
w = wave.open(sys.argv[1], "wb"); w.setnchannels(1); w.setsampwidth(2)
w.setframerate(16000); w.writeframes(b"\0\0" * 1600); w.close()' "$1"
}

# --- the proof ---------------------------------------------------------------

@test "conformance: Prism refuses invalid requests (the tier can fail)" {
	cat "$CONF_DIR/proof"
	run cat "$CONF_DIR/proof"
	[ "$(grep -c '^ok: ' <<<"$output")" -eq 12 ]
	refute_output_contains FAIL
	# And the valid counterpart passes, so 2xx below means "valid".
	check_body /chat/completions <(printf '%s' \
		'{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}')
}

@test "conformance: check_body and validated catch an invalid request" {
	run check_body /embeddings <(echo '{"model":"m","input":"x","dimensions":"8"}')
	[ "$status" -ne 0 ]
	local mark
	mark=$(log_mark)
	curl -s -o /dev/null -H "Authorization: Bearer $KEY" \
		-H 'Content-Type: application/json' -d '{"input":7}' \
		"$PRISM_URL/moderations"
	run validated "$mark" post /moderations
	[ "$status" -ne 0 ]
	[[ $output == *"did not pass"* ]]
}

# --- oai-models -------------------------------------------------------------

@test "conformance: oai-models lists (GET /models)" {
	need_tool oai-models
	local mark
	mark=$(log_mark)
	run --separate-stderr oai-models
	assert_status 0
	assert_stderr ''
	[ -n "$output" ]
	validated "$mark" get /models
}

@test "conformance: oai-models -l and --json (GET /models)" {
	need_tool oai-models
	local mark
	mark=$(log_mark)
	run --separate-stderr oai-models -l
	assert_status 0
	run --separate-stderr oai-models --json
	assert_status 0
	[ -n "$output" ]	# jq -e passes on empty input
	jq -e '.object == "list"' <<<"$output"
	validated "$mark" get /models 2
}

@test "conformance: oai-models ID retrieves (GET /models/{model})" {
	need_tool oai-models
	local mark
	mark=$(log_mark)
	run --separate-stderr oai-models --json gpt-4o-mini
	assert_status 0
	assert_stderr ''
	validated "$mark" get /models/gpt-4o-mini
}

@test "conformance: oai-models --base-url reaches Prism" {
	need_tool oai-models
	local mark
	mark=$(log_mark)
	unset OPENAI_BASE_URL
	run --separate-stderr oai-models --base-url "$PRISM_URL"
	assert_status 0
	validated "$mark" get /models
}

# --- oai-chat ---------------------------------------------------------------

@test "conformance: oai-chat --dry-run, plain prompt" {
	need_tool oai-chat --dry-run
	dry_run /chat/completions oai-chat --dry-run 'Say hi'
}

@test "conformance: oai-chat --dry-run, system, sampling, stop, seed" {
	need_tool oai-chat --dry-run --system --temperature --top-p \
		--max-tokens --stop --seed --frequency-penalty --presence-penalty
	dry_run /chat/completions oai-chat --dry-run -s 'Be terse.' \
		-m gpt-4o-mini -t 0.5 --top-p 0.9 --max-tokens 64 --stop END \
		--stop STOP --seed 7 --frequency-penalty 0.5 \
		--presence-penalty -0.5 'Say hi'
}

@test "conformance: oai-chat --dry-run --no-stream and --usage" {
	need_tool oai-chat --dry-run --no-stream --usage
	dry_run /chat/completions oai-chat --dry-run --no-stream 'Say hi'
	dry_run /chat/completions oai-chat --dry-run --usage 'Say hi'
}

@test "conformance: oai-chat --dry-run --json-object and --schema" {
	need_tool oai-chat --dry-run --json-object --schema
	dry_run /chat/completions oai-chat --dry-run --json-object \
		'Reply with a JSON object'
	cat >"$BATS_TEST_TMPDIR/schema.json" <<-'EOF'
	{"type": "object", "properties": {"name": {"type": "string"}},
	 "required": ["name"], "additionalProperties": false}
	EOF
	dry_run /chat/completions oai-chat --dry-run \
		--schema "$BATS_TEST_TMPDIR/schema.json" 'Name a colour'
}

@test "conformance: oai-chat --dry-run --messages" {
	need_tool oai-chat --dry-run --messages
	dry_run /chat/completions oai-chat --dry-run --messages < <(printf '%s' \
		'[{"role":"system","content":"Be terse."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello."},{"role":"user","content":"Again"}]')
}

@test "conformance: oai-chat --dry-run --image" {
	need_tool oai-chat --dry-run --image
	printf '\211PNG\r\n\032\n' >"$BATS_TEST_TMPDIR/x.png"
	dry_run /chat/completions oai-chat --dry-run \
		--image "$BATS_TEST_TMPDIR/x.png" 'What is this?'
}

@test "conformance: oai-chat sends a valid streamed request" {
	need_tool oai-chat
	local mark
	mark=$(log_mark)
	run --separate-stderr oai-chat --retries 0 'Say hi'
	validated "$mark" post /chat/completions
}

@test "conformance: oai-chat sends a valid non-streamed request" {
	need_tool oai-chat --no-stream
	local mark
	mark=$(log_mark)
	run --separate-stderr oai-chat --retries 0 --no-stream -s 'Be terse.' 'Say hi'
	validated "$mark" post /chat/completions
}

# --- oai-complete -----------------------------------------------------------

@test "conformance: oai-complete --dry-run, plain prompt, --no-stream, --usage" {
	need_tool oai-complete --dry-run
	dry_run /completions oai-complete --dry-run 'Once upon a time'
	dry_run /completions oai-complete --dry-run --no-stream 'Once upon a time'
	dry_run /completions oai-complete --dry-run -u 'Once upon a time'
}

@test "conformance: oai-complete --dry-run, every parameter" {
	need_tool oai-complete --dry-run --best-of --echo --logit-bias \
		--logprobs --suffix --user --stop --seed
	dry_run /completions oai-complete --dry-run -m davinci-002 -n 2 \
		-t 0.5 --top-p 0.9 --max-tokens 0 --best-of 3 --echo \
		--frequency-penalty 0.5 --presence-penalty -0.5 --seed 7 \
		--logit-bias 50256=-100 --logit-bias '{"11": 5}' --logprobs 5 \
		--stop END --stop $'\n' --suffix '}' --user user-1 'Say hi'
}

@test "conformance: oai-complete --dry-run --param" {
	need_tool oai-complete --dry-run --param
	dry_run /completions oai-complete --dry-run --param n=2 \
		--param user=me --param 'stop=["\n"]' \
		--param stream_options.include_usage=true 'Say hi'
}

@test "conformance: oai-complete sends a valid streamed request" {
	need_tool oai-complete
	local mark
	mark=$(log_mark)
	run --separate-stderr oai-complete --retries 0 -u 'Say hi'
	validated "$mark" post /completions
}

@test "conformance: oai-complete sends a valid non-streamed request" {
	need_tool oai-complete --no-stream
	local mark
	mark=$(log_mark)
	run --separate-stderr oai-complete --retries 0 --no-stream --echo \
		--logprobs 2 'Say hi'
	validated "$mark" post /completions
}

# --- oai-embed --------------------------------------------------------------

@test "conformance: oai-embed --dry-run, lines and --dimensions" {
	need_tool oai-embed --dry-run --dimensions
	dry_run /embeddings oai-embed --dry-run < <(printf 'one\ntwo\nthree\n')
	dry_run /embeddings oai-embed --dry-run --dimensions 8 \
		-m text-embedding-3-large < <(printf 'one\n')
}

@test "conformance: oai-embed --dry-run --whole" {
	need_tool oai-embed --dry-run --whole
	dry_run /embeddings oai-embed --dry-run --whole < <(printf 'one\ntwo\n')
}

@test "conformance: oai-embed sends a valid request" {
	need_tool oai-embed
	local mark
	mark=$(log_mark)
	run --separate-stderr oai-embed --retries 0 < <(printf 'one\ntwo\n')
	validated "$mark" post /embeddings
}

# --- oai-moderate -----------------------------------------------------------

@test "conformance: oai-moderate sends a valid request" {
	need_tool oai-moderate
	local mark
	mark=$(log_mark)
	run --separate-stderr oai-moderate --retries 0 < <(printf 'hello\n')
	validated "$mark" post /moderations
}

@test "conformance: oai-moderate -l sends a valid batch" {
	need_tool oai-moderate --lines
	local mark
	mark=$(log_mark)
	run --separate-stderr oai-moderate --retries 0 -l < <(printf 'a\nb\nc\n')
	validated "$mark" post /moderations
}

# --- oai-speak --------------------------------------------------------------

@test "conformance: oai-speak sends a valid request" {
	need_tool oai-speak
	local mark
	mark=$(log_mark)
	run --separate-stderr oai-speak --retries 0 'Hello there' \
		>"$BATS_TEST_TMPDIR/out.mp3"
	validated "$mark" post /audio/speech
}

@test "conformance: oai-speak with voice, format, speed, instructions" {
	need_tool oai-speak --voice --format --speed --instructions
	local mark
	mark=$(log_mark)
	run --separate-stderr oai-speak --retries 0 -m gpt-4o-mini-tts \
		--voice nova --format wav --speed 1.5 \
		--instructions 'Cheerfully.' 'Hello there'
	validated "$mark" post /audio/speech
}

# --- oai-transcribe ---------------------------------------------------------

@test "conformance: oai-transcribe uploads a valid multipart request" {
	need_tool oai-transcribe
	make_wav "$BATS_TEST_TMPDIR/a.wav"
	local mark
	mark=$(log_mark)
	run --separate-stderr oai-transcribe --retries 0 "$BATS_TEST_TMPDIR/a.wav"
	validated "$mark" post /audio/transcriptions
}

@test "conformance: oai-transcribe with format, language, prompt, temperature" {
	need_tool oai-transcribe --format --language --prompt --temperature \
		--timestamps
	make_wav "$BATS_TEST_TMPDIR/a.wav"
	local mark
	mark=$(log_mark)
	run --separate-stderr oai-transcribe --retries 0 -f verbose_json \
		-l en --prompt 'Names: Zoë.' -t 0.2 --timestamps word \
		"$BATS_TEST_TMPDIR/a.wav"
	validated "$mark" post /audio/transcriptions
}

@test "conformance: oai-transcribe --stream" {
	need_tool oai-transcribe --stream
	make_wav "$BATS_TEST_TMPDIR/a.wav"
	local mark
	mark=$(log_mark)
	run --separate-stderr oai-transcribe --retries 0 --stream \
		-m gpt-4o-mini-transcribe "$BATS_TEST_TMPDIR/a.wav"
	validated "$mark" post /audio/transcriptions
}

@test "conformance: oai-transcribe --translate" {
	need_tool oai-transcribe --translate
	make_wav "$BATS_TEST_TMPDIR/a.wav"
	local mark
	mark=$(log_mark)
	run --separate-stderr oai-transcribe --retries 0 --translate \
		"$BATS_TEST_TMPDIR/a.wav"
	validated "$mark" post /audio/translations
}

# oai-image (issue 11): the JSON of a generation, and the forms.

@test "conformance: oai-image --dry-run, GPT image model parameters" {
	need_tool oai-image --dry-run
	dry_run /images/generations oai-image --dry-run "a fox" </dev/null
	dry_run /images/generations oai-image --dry-run -m gpt-image-1 -n 2 \
		-q high -s 1536x1024 --background transparent \
		--output-format webp --output-compression 80 --moderation low \
		--user u-1 "a fox" </dev/null
}

@test "conformance: oai-image --dry-run, dall-e parameters" {
	need_tool oai-image --dry-run
	dry_run /images/generations oai-image --dry-run -m dall-e-3 -q hd \
		-s 1792x1024 --style natural "a fox" </dev/null
	dry_run /images/generations oai-image --dry-run -m dall-e-2 -n 3 \
		-s 256x256 --response-format url "a fox" </dev/null
}

@test "conformance: oai-image --edit and --variation upload valid forms" {
	need_tool oai-image --edit --variation
	python3 -c "import sys; sys.path.insert(0, '$ROOT/tests'); import server
open(sys.argv[1], 'wb').write(server.tiny_png(32, 32, 1))" "$BATS_TEST_TMPDIR/a.png"
	local mark
	mark=$(log_mark)
	run --separate-stderr oai-image --retries 0 -o "$BATS_TEST_TMPDIR/o.png" \
		--edit "$BATS_TEST_TMPDIR/a.png" \
		--mask "$BATS_TEST_TMPDIR/a.png" -q high --input-fidelity high \
		--output-format png "add a hat"
	validated "$mark" post /images/edits
	mark=$(log_mark)
	run --separate-stderr oai-image --retries 0 -o "$BATS_TEST_TMPDIR/v.png" \
		--variation "$BATS_TEST_TMPDIR/a.png" -n 2 -s 256x256
	validated "$mark" post /images/variations
}

@test "conformance: oai-image --partial-images: the streamed generation and edit" {
	need_tool oai-image --partial-images
	dry_run /images/generations oai-image --dry-run --partial-images 2 \
		-q low "a fox" </dev/null
	dry_run /images/generations oai-image --dry-run -n 2 \
		--partial-images 0 "a fox" </dev/null
	python3 -c "import sys; sys.path.insert(0, '$ROOT/tests'); import server
open(sys.argv[1], 'wb').write(server.tiny_png(32, 32, 1))" "$BATS_TEST_TMPDIR/a.png"
	local mark
	mark=$(log_mark)
	run --separate-stderr oai-image --retries 0 -o "$BATS_TEST_TMPDIR/o.png" \
		--edit "$BATS_TEST_TMPDIR/a.png" --partial-images 3 "add a hat"
	validated "$mark" post /images/edits
}

# --- oai-batch ----------------------------------------------------------------

# The upload (POST /files, multipart) and the batch (POST /batches, JSON):
# --detach stops there, before Prism's example batch would be waited on.
@test "conformance: oai-batch uploads its input and creates valid batches (POST /files, /batches)" {
	need_tool oai-batch --detach --lines
	local mark e
	for e in embeddings chat; do
		mark=$(log_mark)
		run --separate-stderr oai-batch --retries 0 --detach -e "$e" \
			--lines < <(printf 'one\ntwo\n')
		validated "$mark" post '/\(files\|batches\)' 2
		[ "$(tail -n "+$((mark + 1))" "$PRISM_LOG" | grep -c '\[HTTP SERVER\] post /batches .*Request received')" = 1 ]
	done
	mark=$(log_mark)
	run --separate-stderr oai-batch --retries 0 --detach \
		< <(printf '%s\n' '{"custom_id":"a","method":"POST","url":"/v1/moderations","body":{"input":"x"}}')
	validated "$mark" post '/\(files\|batches\)' 2
}
