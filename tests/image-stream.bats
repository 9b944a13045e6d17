#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-image --partial-images (issue 11): the streamed request (stream,
# partial_images), each partial image and the final one written as its
# event arrives, under their names, printed on time; --json's event
# lines; errors and cuts mid-stream.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	load image
	image_setup
}

body() { srv_req_field "$1" ".body | fromjson | $2"; }
# ev TYPE INDEX FILE: the data of a streamed image event holding FILE
ev() {
	jq -nc --arg t "$1" --argjson k "$2" --arg b "$(base64 -w0 "$3")" \
		'{type: $t, b64_json: $b, created_at: 1, size: "1024x1024",
		  quality: "low", background: "opaque", output_format: "png"}
		 + (if $k >= 0 then {partial_image_index: $k} else
		    {usage: {input_tokens: 3, output_tokens: 5, total_tokens: 8}} end)'
}
# sse DATA...: a queued stream of these events (no [DONE], as the API's)
sse() { srv_queue "$(jq -nc '{sse: $ARGS.positional}' --args "$@")"; }

@test "image-stream: --partial-images 2 -o FILE sends stream and partial_images, writes FILE-partial-0, -1, then FILE" {
	umask 022
	run --separate-stderr oai-image --partial-images 2 -o fox.png "a fox"
	assert_status 0
	assert_stderr ''
	assert_output $'fox-partial-0.png\nfox-partial-1.png\nfox.png'
	assert_equal '{"model":"gpt-image-1","prompt":"a fox","stream":true,"partial_images":2}' "$(srv_req_field 1 .body)"
	assert_equal text/event-stream "$(srv_req_field 1 .headers.accept)"
	assert_equal "8 8" "$(pngsize fox-partial-0.png)"
	assert_equal "9 9" "$(pngsize fox-partial-1.png)"
	assert_equal "1024 1024" "$(pngsize fox.png)"
	assert_equal 644 "$(stat -c %a fox-partial-1.png)"
	assert_equal 'fox-partial-0.png fox-partial-1.png fox.png' "$(echo $(ls -A))"
	# the final image is the one the same request gives unstreamed
	run --separate-stderr oai-image -o plain.png "a fox"
	assert_equal "$(sha plain.png)" "$(sha fox.png)"
}

@test "image-stream: -n 2 numbers each image, its partials after its number" {
	run --separate-stderr oai-image -n 2 --partial-images 1 -o d/cat.webp "a cat"
	assert_status 5
	mkdir d
	run --separate-stderr oai-image -n 2 --partial-images 1 -o d/cat.webp "a cat"
	assert_status 0
	assert_output $'d/cat-1-partial-0.webp\nd/cat-1.webp\nd/cat-2-partial-0.webp\nd/cat-2.webp'
	assert_equal '{"model":"gpt-image-1","prompt":"a cat","n":2,"output_format":"webp","stream":true,"partial_images":1}' "$(srv_req_field 2 .body)"
	[ "$(head -c4 d/cat-2-partial-0.webp)" = RIFF ]
	[ "$(sha d/cat-1.webp)" != "$(sha d/cat-2.webp)" ]
}

@test "image-stream: --edit streams too (form fields stream, partial_images; image_edit events)" {
	png 64 64 1 a.png
	run --separate-stderr oai-image --edit a.png --partial-images 1 -o hat.png "add a hat"
	assert_status 0
	assert_output $'hat-partial-0.png\nhat.png'
	assert_equal /v1/images/edits "$(srv_req_field 1 .path)"
	assert_equal '{"model":"gpt-image-1","prompt":"add a hat","stream":"true","partial_images":"1"}' \
		"$(srv_req_field 1 '.form | tojson')"
	assert_equal "8 8" "$(pngsize hat-partial-0.png)"
}

@test "image-stream: each name is printed as its file is done, before the next event" {
	srv_queue '{"path": "/v1/images/generations", "chunk_delay_ms": 400}'
	run --separate-stderr bash -c 'oai-image --partial-images 1 -o f.png x |
		{ read -r first; [ -e f.png ] && echo late || echo "on time: $first"; cat; }'
	assert_status 0
	assert_output $'on time: f-partial-0.png\nf.png'
}

@test "image-stream: --partial-images 0 streams the one final image to standard output" {
	run --separate-stderr bash -c 'oai-image --partial-images 0 "a fox" > out.png'
	assert_status 0
	assert_stderr ''
	assert_equal 0 "$(body 1 .partial_images)"
	oai-image -o plain.png "a fox" >/dev/null
	assert_equal "$(sha plain.png)" "$(sha out.png)"
}

@test "image-stream: --json prints each event as one JSON line and writes no file" {
	run --separate-stderr oai-image --json --partial-images 2 "a fox"
	assert_status 0
	assert_equal $'image_generation.partial_image 0\nimage_generation.partial_image 1\nimage_generation.completed null' \
		"$(jq -r '"\(.type) \(.partial_image_index)"' <<<"$output")"
	assert_equal 3 "$(wc -l <<<"$output")"
	assert_equal '' "$(ls -A)"
	# with -o, the files too, the events instead of the names
	run --separate-stderr oai-image --json --partial-images 1 -o j.png "a fox"
	assert_status 0
	assert_equal 2 "$(jq -r .type <<<"$output" | wc -l)"
	assert_equal 'j-partial-0.png j.png' "$(echo $(ls -A))"
}

@test "image-stream: refused for dall-e, without -o, out of range" {
	run --separate-stderr oai-image -m dall-e-2 --partial-images 1 -o o.png x
	assert_status 2
	assert_stderr 'oai-image: --partial-images is for the GPT image models, not dall-e-2'
	run --separate-stderr oai-image -m dall-e-3 --partial-images 0 -o o.png x
	assert_status 2
	assert_stderr 'oai-image: --partial-images is for the GPT image models, not dall-e-3'
	run --separate-stderr bash -c 'oai-image --partial-images 2 x > o.png'
	assert_status 2
	assert_stderr 'oai-image: --partial-images 2: partial images need -o FILE'
	run --separate-stderr oai-image --partial-images 4 -o o.png x
	assert_status 2
	assert_stderr 'oai-image: --partial-images: 4 is out of range (0 to 3)'
	assert_equal 0 "$(srv_nreq)"
}

@test "image-stream: an error event mid-stream exits as its type says; the final name never holds a partial image" {
	png 8 8 1 p0.png
	sse "$(ev image_generation.partial_image 0 p0.png)" \
		'{"type":"error","error":{"type":"invalid_request_error","code":"moderation_blocked","message":"Rejected by the safety system."}}'
	run --separate-stderr oai-image --partial-images 2 -o fox.png x
	assert_status 4
	assert_output fox-partial-0.png
	assert_stderr 'oai-image: error in the stream: moderation_blocked: Rejected by the safety system.'
	cmp p0.png fox-partial-0.png
	assert_equal 'fox-partial-0.png p0.png' "$(echo $(ls -A))"
}

@test "image-stream: a stream cut or ended before the final image exits 5 with no file at the target" {
	png 8 8 1 p0.png
	png 16 16 2 fin.png
	sse "$(ev image_generation.partial_image 0 p0.png)"
	run --separate-stderr oai-image --partial-images 1 -o fox.png x
	assert_status 5
	assert_output fox-partial-0.png
	assert_stderr 'oai-image: the stream ended after 0 of the 1 images asked for'
	rm fox-partial-0.png
	# cut inside the final image's event
	srv_queue "$(jq -nc --arg a "$(ev image_generation.partial_image 0 p0.png)" \
		--arg b "$(ev image_generation.completed -1 fin.png)" \
		'{sse: [$a, $b], close_after: (($a | length) + 200)}')"
	run --separate-stderr oai-image --retries 0 --partial-images 1 -o fox.png x
	assert_status 5
	assert_output fox-partial-0.png
	assert_equal 'fin.png fox-partial-0.png p0.png' "$(echo $(ls -A))"
	# bad base64 in an event: that file is not written
	sse '{"type":"image_generation.completed","b64_json":"iVBO!!!!"}'
	run --separate-stderr oai-image --partial-images 1 -o bad.png x
	assert_status 5
	[[ $stderr == *'image 1 is not base64'* ]] || fail "$stderr"
	[ ! -e bad.png ]
}

@test "image-stream: --meta-fd has the usage of the completed event" {
	run --separate-stderr bash -c 'oai-image --meta-fd 3 --partial-images 1 -o m.png "a b c" 3>meta'
	assert_status 0
	assert_equal 1 "$(wc -l < meta)"
	assert_equal 'gpt-image-1 /images/generations 0 3 1056' \
		"$(jq -r '"\(.model) \(.endpoint) \(.exit) \(.usage.input_tokens) \(.usage.output_tokens)"' meta)"
}
