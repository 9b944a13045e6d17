#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-image --dry-run of edits and variations (issue 11): the form a part
# a line (lib/form.c's oai_form_print), the same parts the request sends,
# nothing sent, no key needed.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	load image
	image_setup -
}


@test "image-dryrun: --edit prints the form's fields and files, sends nothing, needs no key" {
	png 64 64 1 a.png; png 64 64 2 b.png; png 64 64 3 m.png
	local n
	n=$(stat -c %s a.png)
	run --separate-stderr env OPENAI_BASE_URL=https://api.openai.com/v1 \
		oai-image --dry-run --edit a.png --edit b.png --mask m.png -q high \
		--input-fidelity high -n 2 --partial-images 1 'add a hat'
	assert_status 0
	assert_stderr ''
	assert_output <<-EOF
	model=gpt-image-1
	prompt=add a hat
	n=2
	quality=high
	input_fidelity=high
	stream=true
	partial_images=1
	image[]=@a.png ($n bytes, image/png)
	image[]=@b.png ($(stat -c %s b.png) bytes, image/png)
	mask=@m.png ($(stat -c %s m.png) bytes, image/png)
	EOF
	assert_equal 0 "$(srv_nreq)"
	# the fields are those the request sends, in its order
	export OPENAI_API_KEY=sk-test-image-0123456789
	run --separate-stderr oai-image --edit a.png --edit b.png --mask m.png -q high \
		--input-fidelity high -n 2 -o o.png 'add a hat'
	assert_status 0
	assert_equal $'model=gpt-image-1\nprompt=add a hat\nn=2\nquality=high\ninput_fidelity=high' \
		"$(srv_req_field 1 '.form | to_entries[] | "\(.key)=\(.value)"')"
}

@test "image-dryrun: --variation, and a prompt's line breaks and backslashes escaped on its line" {
	png 256 256 9 logo.png
	run --separate-stderr oai-image --dry-run --variation logo.png -n 3 -s 256x256 --user 'u\1'
	assert_status 0
	assert_output <<-EOF
	model=dall-e-2
	n=3
	size=256x256
	response_format=b64_json
	user=u\\\\1
	image=@logo.png ($(stat -c %s logo.png) bytes, image/png)
	EOF
	run --separate-stderr bash -c 'printf "one\n\ntwo\\\\" | oai-image --dry-run -m dall-e-2 --edit logo.png three'
	assert_status 0
	assert_equal 'prompt=one\n\ntwo\\\n\nthree' "$(sed -n 2p <<<"$output")"
	assert_equal 0 "$(srv_nreq)"
}

@test "image-dryrun: the input images are checked first, as for a request" {
	png 64 32 1 rect.png
	run --separate-stderr oai-image --dry-run -m dall-e-2 --edit rect.png x
	assert_status 2
	assert_stderr 'oai-image: rect.png: 64x32 is not square (dall-e-2 takes square images)'
	assert_output ''
	run --separate-stderr oai-image --dry-run --edit nosuch.png x
	assert_status 2
	assert_stderr 'oai-image: nosuch.png: No such file or directory'
}
