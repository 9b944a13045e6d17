#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# The product stands alone (issue 9): the demo and the tests need nothing
# beside the repository, the fixtures are what their generators write, and
# no path of a particular machine is in the repository.
bats_require_minimum_version 1.5.0

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

# The files of the repository (tracked, or new and not ignored).
repo_files() {
	git -C "$ROOT" ls-files -co --exclude-standard 2>/dev/null ||
		(cd "$ROOT" && find . -path ./.git -prune -o -type f -print | sed 's|^\./||')
}

@test "standalone: no absolute path of a machine in the repository" {
	run bash -c 'cd "$1" && grep -nE "(^|[^A-Za-z0-9_.])/(work|home|Users)/" $(cat)' _ "$ROOT" < <(repo_files | grep -v '^tests/fixtures/.*response\.')
	assert_output ''
}

@test "standalone: only tests/shared.sh looks beside the checkout, and only for the optional tier" {
	run bash -c 'cd "$1" && grep -ln "\.\./shared" $(cat)' _ "$ROOT" < <(repo_files | grep -v -e '^tests/standalone.bats$' -e '^README.md$')
	assert_output tests/shared.sh
}

@test "standalone: the fixtures are what tests/fixtures/make.py and sse_vectors.py write" {
	python3 "$ROOT/tests/fixtures/make.py" "$BATS_TEST_TMPDIR/f" >/dev/null
	python3 "$ROOT/tests/fixtures/sse_vectors.py" "$BATS_TEST_TMPDIR/f/sse-vectors.json" >/dev/null
	run diff -r -x make.py -x sse_vectors.py -x '__pycache__' "$ROOT/tests/fixtures" "$BATS_TEST_TMPDIR/f"
	assert_status 0
	assert_output ''
}

@test "standalone: the server serves the repository's fixtures by default" {
	unset OAI_CASSETTES SRV_CASSETTES
	srv_start "$BATS_TEST_TMPDIR/srv"
	srv_queue '{"cassette": "models_list"}'
	curl -s "$SRV_URL/v1/models" > got
	srv_stop
	cmp got "$ROOT/tests/fixtures/models_list/response.body"
}

@test "standalone: make demo makes its own audio and keeps its whole log in a file" {
	DEMO_OUT=$BATS_TEST_TMPDIR/summary.mp3 "$ROOT/tests/demo" >log 2>&1 </dev/null
	[ -s summary.mp3 ]
	head -1 log | grep -q '^demo: no OPENAI_API_KEY; using the local test server'
	grep -q '^demo: echo .* | oai-speak > meeting.mp3$' log
	grep -q '^    echo: fake transcript of meeting.mp3 ([0-9]* bytes)$' log
	tail -1 log | grep -q "^demo: wrote $(wc -c < summary.mp3) bytes of audio to $BATS_TEST_TMPDIR/summary.mp3\$"
}

@test "standalone: make demo with DEMO_AUDIO summarises that file; a failed step leaves no output" {
	head -c 3000 /dev/zero > talk.mp3
	DEMO_AUDIO=$PWD/talk.mp3 DEMO_OUT=$PWD/s.mp3 "$ROOT/tests/demo" >log 2>&1 </dev/null
	grep -q '^    echo: fake transcript of talk.mp3 (3000 bytes)$' log
	[ -s s.mp3 ]
	run env DEMO_AUDIO=$PWD/missing.mp3 DEMO_OUT=$PWD/t.mp3 "$ROOT/tests/demo"
	[ "$status" -ne 0 ]
	[ ! -e t.mp3 ]
	[[ $output == *"oai-transcribe: $PWD/missing.mp3: No such file or directory"* ]]
}
