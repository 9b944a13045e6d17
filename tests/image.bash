# See LICENSE file for copyright and license details.
# What the oai-image test files share: each test in a fresh directory w,
# and small PNGs made by the test server's own code.

# image_setup [KEY]: the server's queue empty, OPENAI_API_KEY set (none
# when KEY is "-"), the working directory a fresh $BATS_TEST_TMPDIR/w.
image_setup() {
	srv_reset
	if [ "${1:-}" = - ]; then
		unset OPENAI_API_KEY
	else
		export OPENAI_API_KEY=sk-test-image-0123456789
	fi
	mkdir "$BATS_TEST_TMPDIR/w"
	cd "$BATS_TEST_TMPDIR/w"
}

# png W H SHADE FILE: a small valid PNG
png() {
	python3 -c "import sys; sys.path.insert(0, '$ROOT/tests'); import server
open(sys.argv[4], 'wb').write(server.tiny_png(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))" "$@"
}

# pngsize FILE: "W H" from its IHDR
pngsize() { python3 -c "import struct,sys; d=open(sys.argv[1],'rb').read(24); assert d[:8]==b'\x89PNG\r\n\x1a\n'; print(*struct.unpack('>II', d[16:24]))" "$1"; }

sha() { sha256sum "$1" | cut -d' ' -f1; }
