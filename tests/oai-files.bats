#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-files: list, upload, get, info, delete against the test server's
# Files endpoints; failures per operand; ids checked before use.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-files
	cd "$BATS_TEST_TMPDIR"
	printf 'hello\n' > a.txt
	printf '{"x":1}\n' > b.jsonl
}

@test "oai-files -u streams each file with its purpose and prints the new ids" {
	run --separate-stderr oai-files -u a.txt b.jsonl -p user_data
	assert_status 0
	assert_stderr ''
	assert_output "file-test1
file-test2"
	assert_equal POST "$(srv_req_field 1 .method)"
	assert_equal /v1/files "$(srv_req_field 1 .path)"
	assert_equal user_data "$(srv_req_field 1 .form.purpose)"
	assert_equal a.txt "$(srv_req_field 1 .files.file.filename)"
	assert_equal "$(sha256sum < a.txt | cut -d' ' -f1)" "$(srv_req_field 1 .files.file.sha256)"
	assert_equal b.jsonl "$(srv_req_field 2 .files.file.filename)"
}

@test "oai-files lists id, bytes, date, purpose and name in aligned columns, oldest first" {
	oai-files -u a.txt -p user_data >/dev/null
	oai-files -u b.jsonl -p batch >/dev/null
	run --separate-stderr oai-files
	assert_status 0
	assert_stderr ''
	assert_output "file-test1  6  2023-11-14T22:13:21Z  user_data  a.txt
file-test2  8  2023-11-14T22:13:22Z  batch      b.jsonl"
	run --separate-stderr oai-files -p batch
	assert_status 0
	assert_output "file-test2  8  2023-11-14T22:13:22Z  batch  b.jsonl"
	assert_equal "order=asc&purpose=batch" "$(srv_req_field -1 .query)"
}

@test "oai-files follows has_more pages to the end of the listing" {
	srv_queue '{"path": "/v1/files", "method": "GET", "json": {"object": "list", "has_more": true,
		"data": [{"id": "file-a", "bytes": 1, "created_at": 0, "purpose": "batch", "filename": "a"}]}}'
	srv_queue '{"path": "/v1/files", "method": "GET", "json": {"object": "list", "has_more": false,
		"data": [{"id": "file-bb", "bytes": 22, "created_at": 0, "purpose": "evals", "filename": "b\u001b[2J"}]}}'
	run --separate-stderr oai-files
	assert_status 0
	assert_stderr ''
	assert_output 'file-a    1  1970-01-01T00:00:00Z  batch  a
file-bb  22  1970-01-01T00:00:00Z  evals  b\x1b[2J'
	assert_equal "order=asc&after=file-a" "$(srv_req_field 2 .query)"
}

@test "oai-files -i shows the files named; an unknown one is reported, the others shown, exit 4" {
	oai-files -u a.txt -p user_data >/dev/null
	run --separate-stderr oai-files -i file-nope file-test1
	assert_status 4
	assert_output "file-test1  6  2023-11-14T22:13:21Z  user_data  a.txt"
	assert_stderr "oai-files: 404 invalid_request_error: No such File object: file-nope"
}

@test "oai-files -g writes the content to standard output" {
	oai-files -u b.jsonl -p batch >/dev/null
	run --separate-stderr oai-files -g file-test1
	assert_status 0
	assert_stderr ''
	assert_output '{"x":1}'
	assert_equal /v1/files/file-test1/content "$(srv_req_field -1 .path)"
}

@test "oai-files -g refuses binary content at a terminal, writes it elsewhere" {
	command -v script >/dev/null || skip "script(1) not installed"
	printf 'a\0b' > bin.dat
	oai-files -u bin.dat -p user_data >/dev/null
	run script -qec "oai-files -g file-test1" /dev/null
	assert_status 2
	assert_output_contains "oai-files: refusing to write binary content to a terminal; redirect standard output"
	oai-files -g file-test1 > got.dat
	cmp bin.dat got.dat
}

@test "oai-files -d deletes the files named, silently; --json prints the answers" {
	oai-files -u a.txt b.jsonl -p user_data >/dev/null
	run --separate-stderr oai-files -d file-test1
	assert_status 0
	assert_output ''
	assert_stderr ''
	assert_equal DELETE "$(srv_req_field -1 .method)"
	run --separate-stderr oai-files --json -d file-test2
	assert_status 0
	assert_equal true "$(jq -r .deleted <<<"$output")"
	run --separate-stderr oai-files
	assert_output ''
}

@test "oai-files -u - uploads standard input under --filename" {
	run --separate-stderr oai-files -u - -p batch --filename in.jsonl < b.jsonl
	assert_status 0
	assert_output file-test1
	assert_equal in.jsonl "$(srv_req_field 1 .files.file.filename)"
	assert_equal 8 "$(srv_req_field 1 .files.file.size)"
}

@test "oai-files refuses bad combinations and ids before any request" {
	run --separate-stderr oai-files -u a.txt
	assert_status 2
	assert_stderr "oai-files: -u needs -p purpose"
	run --separate-stderr oai-files -u a.txt missing.txt -p batch
	assert_status 2
	assert_stderr "oai-files: missing.txt: No such file or directory"
	run --separate-stderr oai-files -u - -p batch
	assert_status 2
	assert_stderr "oai-files: standard input can be uploaded once, named with --filename"
	run --separate-stderr oai-files -d -g file-x
	assert_status 2
	assert_stderr "oai-files: -d, -g, -i and -u do not go together"
	run --separate-stderr oai-files file-x
	assert_status 2
	assert_stderr "oai-files: ids need -d, -g or -i; files need -u"
	run --separate-stderr oai-files -d
	assert_status 2
	assert_stderr "oai-files: -d needs ids"
	run --separate-stderr oai-files -g ..
	assert_status 2
	assert_stderr "oai-files: invalid file id: '..'"
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-files -u: the API's refusal of a purpose is one line, exit 4" {
	run --separate-stderr oai-files -u a.txt -p nonsense
	assert_status 4
	assert_output ''
	assert_stderr_contains "oai-files: 400 invalid_request_error: 'nonsense' is not one of"
}
