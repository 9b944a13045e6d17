#!/bin/sh
# See LICENSE file for copyright and license details.
# oai-embed against the local test server (tests/server.py), 1536 dims:
#   the physical limit first: curl alone sending the same batched
#   requests (the bodies of oai-embed --dry-run) with as many in flight,
#   the responses thrown away unparsed; then oai-embed at -P 4 in both
#   wire formats (base64, and the JSON number arrays of servers that
#   ignore encoding_format) and with --format f32; then -P 1, 2, 4, 8
#   against curl alone at each.  Lines/s, CPU seconds (user + sys) and
#   peak RSS for each, and the ratios against curl alone, for
#   $BENCH_EMBED_LINES lines (default 100000).  On a shared machine the
#   lines/s move with the load; the CPU seconds much less.
#   Then throughput versus a naive loop of one curl per line (timed on
#   $BENCH_CURL_LINES lines, default 1000, and extrapolated: said so in
#   the output) and versus the official `openai` npm package doing the
#   same batching (2048 inputs, 4 in flight, base64; installed into
#   .bench/npm, gitignored; skipped with a message when npm cannot reach
#   its registry);
#   peak memory (maximum RSS, /usr/bin/time -f %M) for 10,000 and
#   $BENCH_EMBED_BIG (default 1,000,000) lines, both real runs: must not
#   grow.
# The server answers every input with the same precomputed vector (the
# fixed_embedding spec field of tests/server.py): otherwise its Python
# hashing of every dimension, not the client, dominates every timing.
# Prints the ratios; exits 1 when memory grows by more than 2x or passes
# 32 MiB at -P 8, 2 when it cannot measure.
set -u
cd "$(dirname "$0")/.." || exit 2
root=$PWD
lines=${BENCH_EMBED_LINES:-100000}
clines=${BENCH_CURL_LINES:-1000}
big=${BENCH_EMBED_BIG:-1000000}
dims=${BENCH_EMBED_DIMS:-1536}
tool=$root/bin/oai-embed
[ -x "$tool" ] || { echo "embed.sh: $tool not built (make)"; exit 2; }
command -v curl >/dev/null || { echo "embed.sh: curl not installed"; exit 2; }

. bench/server.sh embed.sh
base=$srv/v1
export OPENAI_BASE_URL=$base OPENAI_API_KEY=sk-bench
curl -sf --data-binary '{"path": "/v1/embeddings", "repeat": 1000000000, "fixed_embedding": true}' \
	"$srv/_ctl/queue" >/dev/null || { echo "embed.sh: cannot queue the fixed embedding"; exit 2; }

now() { date +%s.%N; }
el() { echo "$2 - $1" | bc -l; }

awk -v n="$lines" 'BEGIN { for (i = 1; i <= n; i++) printf "line number %d of the benchmark\n", i }' >"$dir/in"
head -n "$clines" "$dir/in" >"$dir/in.small"

[ -x /usr/bin/time ] || { echo "embed.sh: /usr/bin/time missing"; exit 2; }

# queue SPEC-FIELDS: from now on the server answers every embedding request
# with the fixed vector, plus these fields.
queue() {
	curl -sf -X POST "$srv/_ctl/reset" >/dev/null &&
	curl -sf --data-binary "{\"path\": \"/v1/embeddings\", \"repeat\": 1000000000, \"fixed_embedding\": true$1}" \
		"$srv/_ctl/queue" >/dev/null || { echo "embed.sh: cannot queue the fixed embedding"; exit 2; }
}

# measure NAME CMD...: CMD's wall time, CPU and peak RSS into $dir/NAME.t
# ("wall user sys KiB"), its output into $dir/NAME.out.
measure() {
	m=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$dir/$m.t" "$@" >"$dir/$m.out" \
		2>"$dir/$m.err" || { cat "$dir/$m.err"; echo "embed.sh: $m failed"; exit 2; }
}

# row NAME LABEL [VS]: one line of the table, with ratios against VS's.
row() {
	set -- "$1" "$2" "${3:-}" $(cat "$dir/$1.t")
	awk -v l="$2" -v n="$lines" -v w="$4" -v u="$5" -v s="$6" -v k="$7" \
	    -v vs="$3" -v vt="$( [ -n "$3" ] && cat "$dir/$3.t")" 'BEGIN {
		if (w <= 0) w = 0.01
		printf "%-32s %8.0f lines/s %7.2f s CPU %6.1f MiB", l, n / w,
		    u + s, k / 1024
		if (vs != "") {
			split(vt, v, " ")
			if (v[1] <= 0) v[1] = 0.01
			if (v[2] + v[3] <= 0) v[3] = 0.01
			printf "   %3.0f%% of its lines/s, %.1fx its CPU", \
			    100 * v[1] / w, (u + s) / (v[2] + v[3])
		}
		printf "\n"
	}'
}

# curlalone NAME P: the bodies in $dir/req.* sent by one curl, P at once.
curlalone() {
	sep=
	for f in "$dir"/req.*; do
		printf '%surl = "%s/embeddings"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata-binary = "@%s"\noutput = "/dev/null"\nfail\n' \
			"$sep" "$base" "$OPENAI_API_KEY" "$f"
		sep='next
'
	done >"$dir/curl.cfg"
	measure "$1" curl --parallel --parallel-immediate --parallel-max "$2" -K "$dir/curl.cfg"
}

awk -v n="$lines" 'BEGIN { for (i = 1; i <= n; i++) printf "line number %d of the benchmark\n", i }' >"$dir/in"
head -n "$clines" "$dir/in" >"$dir/in.small"
"$tool" --dry-run --dimensions "$dims" "$dir/in" | split -l 1 -a 4 - "$dir/req."

echo "$lines lines, $dims dimensions, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
queue ''
curlalone curl4 4
row curl4 "curl alone -P 4 (base64)"
measure embed4 "$tool" --dimensions "$dims" "$dir/in"
[ "$(wc -l <"$dir/embed4.out")" -eq "$lines" ] || { echo "embed.sh: wrong line count"; exit 2; }
rm -f "$dir/embed4.out"
row embed4 "oai-embed -P 4 (base64)" curl4
measure f32 "$tool" --format f32 --dimensions "$dims" "$dir/in"
rm -f "$dir/f32.out"
row f32 "oai-embed -P 4 --format f32" curl4
awk -v a="$(cat "$dir/embed4.t")" -v b="$(cat "$dir/f32.t")" 'BEGIN {
	split(a, x, " "); split(b, y, " ")
	printf "%-32s %.2fx the CPU of --format f32\n", "text output", (x[2] + x[3]) / (y[2] + y[3] > 0 ? y[2] + y[3] : 0.01) }'
queue ', "float_arrays": true'
curlalone curlfa 4
row curlfa "curl alone -P 4 (float arrays)"
measure embedfa "$tool" --dimensions "$dims" "$dir/in"
rm -f "$dir/embedfa.out"
row embedfa "oai-embed -P 4 (float arrays)" curlfa
queue ''
for p in 1 2 4 8; do
	curlalone "curlp$p" "$p"
	row "curlp$p" "curl alone -P $p"
	measure "embedp$p" "$tool" -P "$p" --dimensions "$dims" "$dir/in"
	rm -f "$dir/embedp$p.out"
	row "embedp$p" "oai-embed -P $p" "curlp$p"
done
tool_s=$(cut -d' ' -f1 "$dir/embed4.t")
# Answers are decoded as they arrive: memory must not grow with -P.
p8=$(cut -d' ' -f4 "$dir/embedp8.t")
printf 'peak RSS:     -P 8 %d KiB (target 32 MiB)\n' "$p8"
[ "$p8" -le 32768 ] || { echo "embed.sh: over 32 MiB at -P 8"; over=1; }

# --- one curl per line ----------------------------------------------------
t0=$(now)
while IFS= read -r l; do
	jq -cn --arg t "$l" --argjson d "$dims" '{input: $t, model: "text-embedding-3-small", dimensions: $d}' |
		curl -sf -H "Authorization: Bearer $OPENAI_API_KEY" -H 'Content-Type: application/json' \
			--data-binary @- "$base/embeddings" >/dev/null || { echo "embed.sh: curl failed"; exit 2; }
done <"$dir/in.small"
t1=$(now)
curl_s=$(echo "$(el "$t0" "$t1") * $lines / $clines" | bc -l)
printf 'curl loop:    %d lines in %.2f s, extrapolated to %d lines: %.1f s\n' \
	"$clines" "$(el "$t0" "$t1")" "$lines" "$curl_s"
printf 'ratio:        oai-embed is %.1fx faster than a curl per line\n' "$(echo "$curl_s / $tool_s" | bc -l)"

# --- openai npm -----------------------------------------------------------
npmdir=$root/.bench/npm
if [ ! -d "$npmdir/node_modules/openai" ]; then
	mkdir -p "$npmdir"
	(cd "$npmdir" && npm install --silent --no-audit --no-fund openai >/dev/null 2>&1) ||
		echo "openai npm:   skipped (npm install openai failed: registry unreachable?)"
fi
if [ -d "$npmdir/node_modules/openai" ] && command -v node >/dev/null; then
	cat >"$npmdir/embed.mjs" <<'JS'
import OpenAI from "openai";
import fs from "node:fs";
const [file, dims] = [process.argv[2], Number(process.argv[3])];
const lines = fs.readFileSync(file, "utf8").split("\n").filter((l) => l);
const client = new OpenAI();
const batches = [];
for (let i = 0; i < lines.length; i += 2048) batches.push(lines.slice(i, i + 2048));
// Batches are written in order as they complete, as oai-embed does (one
// string for all of them would pass V8's string length limit).
const out = new Array(batches.length);
const fd = fs.openSync(process.argv[4], "w");
let next = 0, written = 0;
async function worker() {
	while (next < batches.length) {
		const k = next++;
		const r = await client.embeddings.create({ model: "text-embedding-3-small",
			input: batches[k], dimensions: dims, encoding_format: "base64" });
		out[k] = r.data.map((d, j) => JSON.stringify({ index: k * 2048 + j,
			embedding: Array.from(new Float32Array(Buffer.from(d.embedding, "base64").buffer.slice(0))) }) + "\n").join("");
		while (written < batches.length && out[written] !== undefined) {
			fs.writeSync(fd, out[written]);
			out[written++] = null;
		}
	}
}
await Promise.all([worker(), worker(), worker(), worker()]);
fs.closeSync(fd);
JS
	t0=$(now)
	(cd "$npmdir" && node embed.mjs "$dir/in" "$dims" "$dir/out.npm") ||
		{ echo "embed.sh: the npm script failed"; exit 2; }
	t1=$(now)
	[ "$(wc -l <"$dir/out.npm")" -eq "$lines" ] || { echo "embed.sh: npm: wrong line count"; exit 2; }
	npm_s=$(el "$t0" "$t1")
	printf 'openai npm:   %d lines in %.2f s (%.0f lines/s)\n' "$lines" "$npm_s" "$(echo "$lines / $npm_s" | bc -l)"
	printf 'ratio:        oai-embed is %.2fx the speed of the openai npm package\n' "$(echo "$npm_s / $tool_s" | bc -l)"
fi

# --- peak memory ----------------------------------------------------------
[ -x /usr/bin/time ] || { echo "embed.sh: /usr/bin/time missing: no memory figures"; exit 0; }
awk 'BEGIN { for (i = 1; i <= 10000; i++) printf "line number %d of the benchmark\n", i }' >"$dir/in.10k"
/usr/bin/time -f %M -o "$dir/rss1" "$tool" --dimensions "$dims" "$dir/in.10k" >/dev/null ||
	{ echo "embed.sh: oai-embed failed"; exit 2; }
t0=$(now)
/usr/bin/time -f %M -o "$dir/rss2" sh -c \
	"awk -v n=$big 'BEGIN { for (i = 1; i <= n; i++) printf \"line number %d of the benchmark\\n\", i }' |
	 \"$tool\" --dimensions $dims >/dev/null" || { echo "embed.sh: the big run failed"; exit 2; }
t1=$(now)
r1=$(cat "$dir/rss1") r2=$(cat "$dir/rss2")
printf 'big run:      %d lines in %.1f s (%.0f lines/s)\n' "$big" "$(el "$t0" "$t1")" "$(echo "$big / ($(el "$t0" "$t1"))" | bc -l)"
printf 'peak RSS:     10,000 lines %d KiB; %d lines %d KiB\n' "$r1" "$big" "$r2"
printf 'ratio:        %d / 10,000 lines peak RSS: %.2f\n' "$big" "$(echo "$r2 / $r1" | bc -l)"
[ "$r2" -le $((r1 * 2)) ] || { echo "embed.sh: memory grows with the input"; exit 1; }
[ -z "${over:-}" ] || exit 1
