#!/bin/sh
# See LICENSE file for copyright and license details.
# Peak memory (maximum RSS, /usr/bin/time -f %M) of the audio tools on
# big transfers against the local test server (tests/server.py, started
# here), compared with curl doing the same:
#   oai-transcribe uploading a 24 MB file, vs curl -F file=@...;
#   oai-speak downloading 50 MB of audio to stdout and to -o FILE, vs
#   curl -o.
# Target: the tools stream, so their peak stays under 16 MiB and within
# 4 MiB of curl's, whatever the size.  Prints the figures; exits 1 when a
# target is missed, 2 when it cannot measure.
set -u
cd "$(dirname "$0")/.." || exit 2
speak=$PWD/bin/oai-speak
transcribe=$PWD/bin/oai-transcribe
for t in "$speak" "$transcribe"; do
	[ -x "$t" ] || { echo "audio.sh: $t not built (make)"; exit 2; }
done
command -v curl >/dev/null || { echo "audio.sh: curl not installed"; exit 2; }
[ -x /usr/bin/time ] ||
	{ echo "audio.sh: /usr/bin/time not installed (apt-get install time)"; exit 2; }

. bench/server.sh audio.sh
unset OPENAI_API_KEY
export OPENAI_BASE_URL=$srv/v1

up=$((24 * 1024 * 1024))
down=$((50 * 1024 * 1024))
head -c $up /dev/urandom > "$dir/talk.mp3"

queue() {	# the next speech response is $down bytes of audio
	curl -sf -o /dev/null -H 'Content-Type: application/json' \
		-d "{\"path\": \"/v1/audio/speech\", \"size\": $down}" \
		"$srv/_ctl/queue" || { echo "audio.sh: cannot queue"; exit 2; }
}
rss() {		# CMD...: peak KiB; the command's stdout goes to /dev/null
	/usr/bin/time -f %M "$@" 2>"$dir/time" >/dev/null ||
		{ cat "$dir/time"; echo "audio.sh: failed: $*" >&2; echo 0; return; }
	tail -n 1 "$dir/time"
}
size() { wc -c < "$1" | tr -d ' '; }

m_tr=$(rss "$transcribe" "$dir/talk.mp3")
m_trc=$(rss curl -sf -F model=whisper-1 -F response_format=text \
	-F "file=@$dir/talk.mp3;type=audio/mpeg" "$srv/v1/audio/transcriptions")
got=$(tail -n 1 "$dir/requests.jsonl" | python3 -c \
	'import json,sys; print(json.load(sys.stdin)["files"]["file"]["size"])')
[ "$got" = $up ] || { echo "audio.sh: upload arrived with $got bytes"; exit 2; }

queue; m_sp=$(rss "$speak" hello)
queue; "$speak" -o "$dir/out.mp3" hello || exit 2
[ "$(size "$dir/out.mp3")" = $down ] || { echo "audio.sh: short download"; exit 2; }
queue; m_spo=$(rss "$speak" -o "$dir/out.mp3" hello)
queue; m_spc=$(rss curl -sf -o "$dir/curl.mp3" -H 'Content-Type: application/json' \
	-d '{"model":"tts-1","input":"hello","voice":"alloy"}' "$srv/v1/audio/speech")
[ "$(size "$dir/curl.mp3")" = $down ] || { echo "audio.sh: curl short download"; exit 2; }

awk -v tr="$m_tr" -v trc="$m_trc" -v sp="$m_sp" -v spo="$m_spo" -v spc="$m_spc" 'BEGIN {
	miss = 0
	line("oai-transcribe, 24 MB upload      ", tr, trc)
	line("oai-speak, 50 MB to stdout        ", sp, spc)
	line("oai-speak -o FILE, 50 MB          ", spo, spc)
	exit miss
}
function line(what, m, c,    ok) {
	ok = m > 0 && m <= 16384 && m - c <= 4096
	if (!ok) miss = 1
	printf "%s peak RSS %6.1f MiB   curl %6.1f MiB   (target < 16 MiB, <= curl + 4) %s\n",
	    what, m / 1024, c / 1024, ok ? "ok" : "MISSED"
}'
