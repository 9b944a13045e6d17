#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-image: what is sent (JSON, forms with the files' bytes intact), what
# is written (stdout, -o files, numbered names, modes, names printed),
# downloads, the checks before sending, failures.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	load image
	image_setup
}


@test "oai-image sends the JSON request and writes the image to stdout" {
	run --separate-stderr bash -c 'oai-image "a watercolour fox" > fox.png'
	assert_status 0
	assert_stderr ''
	assert_equal POST "$(srv_req_field 1 .method)"
	assert_equal /v1/images/generations "$(srv_req_field 1 .path)"
	assert_equal '{"model":"gpt-image-1","prompt":"a watercolour fox"}' "$(srv_req_field 1 .body)"
	assert_equal "1024 1024" "$(pngsize fox.png)"
}

@test "oai-image decodes the base64 exactly, escaped slashes too, and writes nothing else" {
	head -c 70000 /dev/urandom > want
	b=$(base64 -w0 want | sed 's|/|\\\\/|g')
	srv_queue "{\"body\": \"{\\\"created\\\":1,\\\"data\\\":[{\\\"b64_json\\\":\\\"$b\\\"}]}\"}"
	run --separate-stderr bash -c 'oai-image x > got'
	assert_status 0
	assert_stderr ''
	cmp want got
}

@test "oai-image: the prompt comes from standard input and the arguments, as oai-chat's" {
	printf 'from stdin\n' | oai-image --dry-run and args
	run --separate-stderr bash -c 'printf "from stdin\n" | oai-image --dry-run and args'
	assert_status 0
	assert_output '{"model":"gpt-image-1","prompt":"from stdin\n\nand args"}'
	assert_equal 0 "$(srv_nreq)"
	run --separate-stderr oai-image --dry-run </dev/null
	assert_status 2
	assert_stderr 'oai-image: no prompt: give it as arguments or on standard input'
}

@test "oai-image --dry-run: every parameter of a generation" {
	run --separate-stderr oai-image --dry-run -m dall-e-3 -s 1792x1024 -q hd --style natural --user u-1 "a b"
	assert_status 0
	assert_output '{"model":"dall-e-3","prompt":"a b","size":"1792x1024","quality":"hd","style":"natural","response_format":"b64_json","user":"u-1"}'
	run --separate-stderr oai-image --dry-run -n 2 --background transparent --output-format webp \
		--output-compression 50 --moderation low -q low -s 1536x1024 x
	assert_status 0
	assert_output '{"model":"gpt-image-1","prompt":"x","n":2,"size":"1536x1024","quality":"low","background":"transparent","output_format":"webp","output_compression":50,"moderation":"low"}'
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-image -n 3 -o FILE writes FILE-1..3 atomically and prints their names" {
	umask 022
	run --separate-stderr oai-image -n 3 -o cat.png "a cat"
	assert_status 0
	assert_stderr ''
	assert_output $'cat-1.png\ncat-2.png\ncat-3.png'
	assert_equal 3 "$(body 1 .n)"
	for i in 1 2 3; do
		assert_equal "1024 1024" "$(pngsize cat-$i.png)"
		assert_equal 644 "$(stat -c %a cat-$i.png)"
	done
	[ "$(sha cat-1.png)" != "$(sha cat-2.png)" ]
	assert_equal 'cat-1.png cat-2.png cat-3.png' "$(echo $(ls -A))"
	# no extension: the number goes at the end
	run --separate-stderr oai-image -n 2 -o d/x.y/pic "a cat"
	assert_status 5
	mkdir -p d/x.y
	run --separate-stderr oai-image -n 2 -o d/x.y/pic "a cat"
	assert_output $'d/x.y/pic-1\nd/x.y/pic-2'
}

body() { srv_req_field "$1" ".body | fromjson | $2"; }

@test "oai-image -o FILE.webp asks for webp; an extension that disagrees is refused" {
	run --separate-stderr oai-image -o logo.webp logo
	assert_status 0
	assert_output logo.webp
	assert_equal webp "$(body 1 .output_format)"
	[ "$(head -c4 logo.webp)" = RIFF ]
	run --separate-stderr oai-image -o x.jpg --output-format png logo
	assert_status 2
	assert_stderr 'oai-image: -o x.jpg is named for jpeg, but --output-format is png'
	run --separate-stderr oai-image -m dall-e-3 -o x.webp logo
	assert_status 2
	assert_stderr 'oai-image: -o x.webp: dall-e-3 makes PNG images'
	assert_equal 1 "$(srv_nreq)"
	[ ! -e x.jpg ] && [ ! -e x.webp ]
}

@test "oai-image --edit: a form with every image's bytes intact, the mask and the fields" {
	png 64 64 1 a.png; png 64 64 2 b.png; png 64 64 3 m.png
	run --separate-stderr oai-image --edit a.png --edit b.png --mask m.png -q high \
		--input-fidelity high --background opaque -s 1024x1024 --user u -o out.png "add a hat"
	assert_status 0
	assert_output out.png
	assert_equal /v1/images/edits "$(srv_req_field 1 .path)"
	assert_equal '{"model":"gpt-image-1","prompt":"add a hat","size":"1024x1024","quality":"high","background":"opaque","input_fidelity":"high","user":"u"}' \
		"$(srv_req_field 1 '.form | tojson')"
	assert_equal "$(sha a.png) $(sha b.png)" "$(srv_req_field 1 '.files["image[]"] | map(.sha256) | join(" ")')"
	assert_equal "image/png image/png" "$(srv_req_field 1 '.files["image[]"] | map(.content_type) | join(" ")')"
	assert_equal "a.png b.png" "$(srv_req_field 1 '.files["image[]"] | map(.filename) | join(" ")')"
	assert_equal "$(sha m.png)" "$(srv_req_field 1 '.files.mask.sha256')"
	# one image goes as "image"
	run --separate-stderr oai-image -m dall-e-2 --edit a.png -o one.png "add a hat"
	assert_status 0
	assert_equal "$(sha a.png)" "$(srv_req_field 2 '.files.image.sha256')"
	assert_equal b64_json "$(srv_req_field 2 .form.response_format)"
}

@test "oai-image --variation: dall-e-2, no prompt, the image intact" {
	png 256 256 9 logo.png
	run --separate-stderr oai-image --variation logo.png -n 2 -s 256x256 -o var.png
	assert_status 0
	assert_output $'var-1.png\nvar-2.png'
	assert_equal /v1/images/variations "$(srv_req_field 1 .path)"
	assert_equal '{"model":"dall-e-2","n":"2","size":"256x256","response_format":"b64_json"}' \
		"$(srv_req_field 1 '.form | tojson')"
	assert_equal "$(sha logo.png)" "$(srv_req_field 1 .files.image.sha256)"
	assert_equal "256 256" "$(pngsize var-2.png)"
	run --separate-stderr oai-image --variation logo.png -o v.png a prompt
	assert_status 2
	assert_stderr 'oai-image: --variation takes no prompt'
	run --separate-stderr oai-image -m gpt-image-1 --variation logo.png -o v.png
	assert_status 2
	assert_stderr 'oai-image: --variation: only dall-e-2 makes variations, not gpt-image-1'
}

@test "oai-image checks the input images before sending" {
	png 64 64 1 sq.png; png 64 32 1 rect.png; png 32 32 1 small.png
	printf 'GIF89a......' > pic.gif
	printf 'not an image' > text.png
	{ head -c 24 sq.png; head -c $((4 * 1024 * 1024)) /dev/zero; } > big.png
	: > empty.png
	run --separate-stderr oai-image --edit nosuch.png -o o.png x
	assert_status 2
	assert_stderr 'oai-image: nosuch.png: No such file or directory'
	run --separate-stderr oai-image -m dall-e-2 --edit rect.png -o o.png x
	assert_status 2
	assert_stderr 'oai-image: rect.png: 64x32 is not square (dall-e-2 takes square images)'
	run --separate-stderr oai-image -m dall-e-2 --edit text.png -o o.png x
	assert_status 2
	assert_stderr 'oai-image: text.png: not a PNG image (dall-e-2 takes PNG only)'
	run --separate-stderr oai-image --variation big.png -o o.png
	assert_status 2
	assert_stderr "oai-image: big.png: $((4 * 1024 * 1024 + 24)) bytes is over the 4 MB limit of dall-e-2"
	run --separate-stderr oai-image --edit sq.png --mask small.png -o o.png x
	assert_status 2
	assert_stderr 'oai-image: small.png: 32x32, but sq.png is 64x64: the mask must be the image'"'"'s size'
	run --separate-stderr oai-image --edit pic.gif -o o.png x
	assert_status 2
	assert_stderr 'oai-image: pic.gif: not a PNG, JPEG or WebP image'
	run --separate-stderr oai-image --edit empty.png -o o.png x
	assert_status 2
	assert_stderr 'oai-image: empty.png: empty file'
	run --separate-stderr oai-image --edit . -o o.png x
	assert_status 2
	assert_stderr 'oai-image: .: not a regular file'
	run --separate-stderr oai-image -m dall-e-2 --edit sq.png --edit sq.png -o o.png x
	assert_status 2
	assert_stderr 'oai-image: --edit: dall-e-2 takes one image'
	assert_equal 0 "$(srv_nreq)"
	[ ! -e o.png ]
}

@test "oai-image refuses what the models do not take, before sending" {
	t() { run --separate-stderr oai-image -o o.png "$@" x; assert_status 2; }
	t -m dall-e-3 -n 2; assert_stderr 'oai-image: --count: dall-e-3 makes one image at a time'
	t -m dall-e-2 --style vivid; assert_stderr 'oai-image: --style is for dall-e-3, not dall-e-2'
	t -m dall-e-2 --background opaque; assert_stderr 'oai-image: --background is for the GPT image models, not dall-e-2'
	t -q hd; assert_stderr 'oai-image: --quality: gpt-image-1 takes low, medium, high or auto'
	t -m dall-e-3 -q high; assert_stderr 'oai-image: --quality: dall-e-3 takes standard or hd'
	t -m dall-e-2 -s 1792x1024; assert_stderr 'oai-image: --size: dall-e-2 makes 256x256, 512x512 or 1024x1024 images'
	t -s big; assert_stderr "oai-image: --size: 'big' is not WIDTHxHEIGHT or auto"
	t --response-format url; assert_stderr 'oai-image: --response-format: gpt-image-1 always answers b64_json'
	t --output-compression 50; assert_stderr 'oai-image: --output-compression needs --output-format jpeg or webp'
	t --input-fidelity high; assert_stderr 'oai-image: --input-fidelity is for --edit'
	t --mask m.png; assert_stderr 'oai-image: --mask needs --edit'
	t -n 11; assert_stderr 'oai-image: --count: 11 is out of range (1 to 10)'
	run --separate-stderr oai-image -m dall-e-2 -o o.png "$(printf 'x%.0s' $(seq 1001))"
	assert_status 2
	assert_stderr 'oai-image: the prompt is 1001 characters, over the 1000 dall-e-2 takes'
	run --separate-stderr oai-image -n 2 x
	assert_status 2
	assert_stderr 'oai-image: --count 2: several images need -o FILE'
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-image downloads URLs without the key, and never shows their query" {
	run --separate-stderr oai-image -v -m dall-e-2 --response-format url -n 2 -o u.png x
	assert_status 0
	assert_output $'u-1.png\nu-2.png'
	assert_equal url "$(body 1 .response_format)"
	assert_equal "Bearer $OPENAI_API_KEY" "$(srv_req_field 1 '.headers.authorization')"
	for i in 2 3; do
		assert_equal GET "$(srv_req_field $i .method)"
		assert_equal "/download/img_1_$((i - 1)).png" "$(srv_req_field $i .path)"
		assert_equal null "$(srv_req_field $i '.headers.authorization')"
	done
	assert_equal "1024 1024" "$(pngsize u-2.png)"
	[[ $stderr == *"> GET http://127.0.0.1:$SRV_PORT/download/img_1_1.png?..."* ]] || fail "$stderr"
	[[ $stderr != *s3cr3t* ]] || fail "$stderr"
	# a URL that fails: its status, the query not shown, no file
	srv_queue '{"path": "/download/img_4_1.png", "status": 403, "body": "denied"}'
	run --separate-stderr oai-image -m dall-e-2 --response-format url -o f.png x
	assert_status 3
	[[ $stderr == *'403'* && $stderr != *s3cr3t* ]] || fail "$stderr"
	[ ! -e f.png ]
}

@test "oai-image refuses a plain http URL elsewhere" {
	srv_queue '{"json": {"created": 1, "data": [{"url": "http://images.example.com/a.png?sig=s3cr3t"}]}}'
	run --separate-stderr oai-image -o a.png x
	assert_status 5
	assert_stderr 'oai-image: refusing plain http to images.example.com (the data would travel unencrypted); use https or set OAI_ALLOW_HTTP=1'
	[ ! -e a.png ]
	assert_equal 1 "$(srv_nreq)"
}

@test "oai-image -v prints dall-e-3's revised prompt; --json prints the API's JSON" {
	run --separate-stderr oai-image -v -m dall-e-3 -o d.png "a dog"
	assert_status 0
	assert_output d.png
	[[ $stderr == *'oai-image: revised prompt: A revised: a dog'* ]] || fail "$stderr"
	run --separate-stderr oai-image -m dall-e-3 --json "a dog"
	assert_status 0
	assert_equal 'A revised: a dog' "$(jq -r '.data[0].revised_prompt' <<<"$output")"
	run --separate-stderr oai-image --json "a b c"
	assert_equal 1059 "$(jq -r .usage.total_tokens <<<"$output")"
	# with -o, the image too, and the JSON instead of the names
	run --separate-stderr oai-image --json -o j.png "a dog"
	assert_status 0
	assert_equal 1 "$(jq -r .created <<<"$output" | wc -l)"
	assert_equal "1024 1024" "$(pngsize j.png)"
}

@test "oai-image: API rejections exit 4 with the API's message; bad answers 5 and no file" {
	srv_queue '{"status": 400, "json": {"error": {"message": "Your request was rejected by the safety system.", "type": "image_generation_user_error", "param": null, "code": "moderation_blocked"}}}'
	run --separate-stderr oai-image -o r.png x
	assert_status 4
	assert_stderr 'oai-image: 400 moderation_blocked: Your request was rejected by the safety system.'
	srv_queue '{"json": {"created": 1, "data": [{"b64_json": "iVBO!!!!"}]}}'
	run --separate-stderr oai-image -o r.png x
	assert_status 5
	[[ $stderr == *'image 1 is not base64'* ]] || fail "$stderr"
	srv_queue '{"json": {"created": 1, "data": []}}'
	run --separate-stderr oai-image -o r.png x
	assert_status 5
	[[ $stderr == *'0 images, 1 asked for'* ]] || fail "$stderr"
	assert_equal '' "$(ls -A)"
}

@test "oai-image refuses to write an image to a terminal" {
	run script -qec "oai-image x; echo status=\$?" /dev/null
	[[ $output == *'oai-image: refusing to write an image to a terminal; redirect standard output or use -o FILE'* ]] ||
		fail "$output"
	[[ $output == *status=2* ]] || fail "$output"
	assert_equal 0 "$(srv_nreq)"
}

@test "oai-image: Ctrl-C during a download leaves no partial file" {
	srv_queue '{"path": "/download/img_1_1.png", "stall_after": 100, "stall_ms": 2000}'
	oai-image -m dall-e-2 --response-format url -o slow.png x 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	for i in $(seq 100); do
		ls -A | grep -q '^\.slow\.png\.' && [ -s "$(ls -A | grep '^\.slow')" ] && break
		sleep 0.02
	done
	[ -s "$(ls -A | grep '^\.slow')" ] || fail "no partial temporary file: $(ls -A)"
	kill -INT "$pid"
	st=0
	wait "$pid" || st=$?
	assert_equal 130 "$st"
	assert_equal '' "$(cat "$BATS_TEST_TMPDIR/err")"
	assert_equal '' "$(ls -A)"
}

@test "oai-image --meta-fd: one line per request with the GPT image model's usage" {
	run --separate-stderr bash -c 'oai-image --meta-fd 3 -o m.png "a b c" 3>meta'
	assert_status 0
	assert_output m.png
	assert_equal 1 "$(wc -l < meta)"
	assert_equal 'gpt-image-1 /images/generations 3 1056' \
		"$(jq -r '"\(.model) \(.endpoint) \(.usage.input_tokens) \(.usage.output_tokens)"' meta)"
}
