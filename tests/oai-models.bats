#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-models: listing, long format, retrieval, --json, errors.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() { load helper; srv_reset; }

CASS=$BATS_TEST_DIRNAME/fixtures

@test "oai-models lists the recorded model ids, sorted in byte order" {
	srv_queue '{"cassette": "models_list"}'
	run --separate-stderr oai-models
	assert_status 0
	assert_stderr ''
	expected=$(jq -r '.data[].id' "$CASS/models_list/response.body" | LC_ALL=C sort)
	assert_output "$expected"
	assert_equal GET "$(srv_req_field 1 .method)"
	assert_equal /v1/models "$(srv_req_field 1 .path)"
	assert_equal application/json "$(srv_req_field 1 '.headers.accept')"
}

@test "oai-models -l prints id, ISO 8601 UTC date and owner in aligned columns" {
	srv_queue '{"json": {"object": "list", "data": [
		{"id": "b-model", "object": "model", "created": 1686588896, "owned_by": "openai"},
		{"id": "a", "object": "model", "created": 0, "owned_by": "system"}]}}'
	run --separate-stderr oai-models -l
	assert_status 0
	assert_stderr ''
	assert_output "a        1970-01-01T00:00:00Z  system
b-model  2023-06-12T16:54:56Z  openai"
}

@test "oai-models --long is -l" {
	srv_queue '{"json": {"object": "list", "data": [{"id": "m", "created": 1, "owned_by": "o"}]}}'
	run --separate-stderr oai-models --long
	assert_status 0
	assert_output "m  1970-01-01T00:00:01Z  o"
}

@test "oai-models -l shows - for a missing date or owner" {
	srv_queue '{"json": {"data": [{"id": "m"}]}}'
	run --separate-stderr oai-models -l
	assert_status 0
	assert_output "m  -                     -"
}

@test "oai-models --json prints the API's response as received" {
	srv_queue '{"cassette": "models_list"}'
	run --separate-stderr oai-models --json
	assert_status 0
	assert_output "$(cat "$CASS/models_list/response.body")"
}

@test "oai-models ID retrieves one model" {
	srv_queue '{"cassette": "models_retrieve"}'
	run --separate-stderr oai-models gpt-4o-mini
	assert_status 0
	assert_stderr ''
	assert_output gpt-4o-mini
	assert_equal /v1/models/gpt-4o-mini "$(srv_req_field 1 .path)"
}

@test "oai-models -l ID... keeps the order given" {
	run --separate-stderr oai-models -l gpt-4 gpt-3.5-turbo
	assert_status 0
	assert_output "gpt-4          2023-06-27T16:13:31Z  openai
gpt-3.5-turbo  2023-02-28T18:56:42Z  openai"
}

@test "oai-models with an unknown id: exit 4 and the API's message; the others still shown" {
	srv_queue '{"cassette": "error_404_model_not_found"}'
	run --separate-stderr oai-models fake_id gpt-4
	assert_status 4
	assert_stderr "oai-models: 404 model_not_found: The model 'fake_id' does not exist"
	assert_output gpt-4
	assert_equal 2 "$(srv_nreq)"
}

@test "oai-models --json ID prints each model's JSON" {
	run --separate-stderr oai-models --json gpt-4
	assert_status 0
	assert_equal gpt-4 "$(printf '%s' "$output" | jq -r .id)"
}

@test "oai-models refuses an id that would change the URL path" {
	run --separate-stderr oai-models ../files
	assert_status 2
	assert_stderr "oai-models: invalid model id: '../files'"
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-models: a list response that is not a list is an error" {
	srv_queue '{"json": {"object": "list"}}'
	run --separate-stderr oai-models
	assert_status 5
	assert_stderr "oai-models: unexpected response from $OPENAI_BASE_URL/models: not a model list"
	assert_output ''
}

@test "oai-models: malformed JSON in a 200 response is an error, not a crash" {
	srv_queue '{"body": "{\"data\": [1,]}"}'
	run --separate-stderr oai-models
	assert_status 5
	assert_stderr_contains "not a model list"
}

@test "oai-models -h prints the usage on stdout and exits 0" {
	run --separate-stderr oai-models -h
	assert_status 0
	assert_stderr ''
	assert_output_contains "usage: oai-models [-l] [--json] [id ...]"
	for opt in --long --json --base-url --api-key-file --timeout --retries --verbose --help --version; do
		assert_output_contains -- "$opt"
	done
}

@test "oai-models: an unknown option is a usage error (exit 2)" {
	run --separate-stderr oai-models --bogus
	assert_status 2
	assert_output ''
	assert_stderr_contains "unrecognized option"
	assert_stderr_contains "usage: oai-models"
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-models --version" {
	run --separate-stderr oai-models --version
	assert_status 0
	assert_output "oai-models (oai) 0.1.0"
}

@test "oai-models: usage in the man page SYNOPSIS matches usage()" {
	run --separate-stderr oai-models -h
	grep -q '^\.Op Fl l$' "$ROOT/man/oai-models.1"
	grep -q '^\.Op Fl \\-json$' "$ROOT/man/oai-models.1"
}

@test "oai-models completions mention every long option" {
	for opt in long json base-url api-key-file timeout retries verbose help version; do
		grep -q -- "--$opt" "$ROOT/completions/bash/oai-models"
		grep -q -- "--$opt" "$ROOT/completions/zsh/_oai-models"
		grep -q -- "-l $opt" "$ROOT/completions/fish/oai-models.fish"
	done
}
