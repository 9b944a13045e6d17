#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-image --meta-fd (issue 11): dall-e-3's revised_prompt on the line of
# its request, usage for the GPT image models; -v's revised prompt.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	load image
	image_setup
}

@test "image-meta: dall-e-3's revised_prompt on --meta-fd, one per image" {
	run --separate-stderr bash -c 'oai-image -m dall-e-3 --meta-fd 3 -o d.png "a dog" 3>meta'
	assert_status 0
	assert_output d.png
	assert_stderr ''
	assert_equal 1 "$(wc -l < meta)"
	assert_equal '["A revised: a dog"]' "$(jq -c .revised_prompt meta)"
	assert_equal 'dall-e-3 /images/generations 0' "$(jq -r '"\(.model) \(.endpoint) \(.exit)"' meta)"
	# with -v, on standard error as well
	run --separate-stderr bash -c 'oai-image -v -m dall-e-3 --meta-fd 3 -o d.png "a dog" 3>meta'
	assert_status 0
	assert_stderr_contains 'oai-image: revised prompt: A revised: a dog'
	assert_equal '["A revised: a dog"]' "$(jq -c .revised_prompt meta)"
}

@test "image-meta: several images, one without a revised prompt: null in its place; none: no member" {
	srv_queue '{"json": {"created": 1, "data": [{"b64_json": "iVBORw==", "revised_prompt": "one\n\"two\""}, {"b64_json": "iVBORw=="}]}}'
	run --separate-stderr bash -c 'oai-image -m dall-e-2 -n 2 --meta-fd 3 -o x.png x 3>meta'
	assert_status 0
	assert_equal '["one\n\"two\"",null]' "$(jq -c .revised_prompt meta)"
	# the GPT image models: usage, no revised_prompt
	run --separate-stderr bash -c 'oai-image --meta-fd 3 -o g.png "a b c" 3>meta'
	assert_status 0
	assert_equal 'false 3 1056' "$(jq -r '"\(has("revised_prompt")) \(.usage.input_tokens) \(.usage.output_tokens)"' meta)"
	# a failed request has none either
	srv_queue '{"status": 400, "json": {"error": {"message": "no", "type": "invalid_request_error", "param": null, "code": null}}}'
	run --separate-stderr bash -c 'oai-image -m dall-e-3 --meta-fd 3 -o f.png x 3>meta'
	assert_status 4
	assert_equal 'false 4' "$(jq -r '"\(has("revised_prompt")) \(.exit)"' meta)"
}
