#!/bin/sh
# See LICENSE file for copyright and license details.
# oai-embed against the local test server (tests/server.py), 1536 dims:
#   throughput for $BENCH_EMBED_LINES lines (default 100000) versus a naive
#   loop of one curl per line (timed on $BENCH_CURL_LINES lines, default
#   1000, and extrapolated: said so in the output) and versus the official
#   `openai` npm package doing the same batching (2048 inputs, 4 in flight,
#   base64; installed into .bench/npm, gitignored; skipped with a message
#   when npm cannot reach its registry);
#   peak memory (maximum RSS, /usr/bin/time -f %M) for 10,000 and
#   $BENCH_EMBED_BIG (default 1,000,000) lines, both real runs: must not
#   grow.
# The server answers every input with the same precomputed vector (the
# fixed_embedding spec field of tests/server.py): otherwise its Python
# hashing of every dimension, not the client, dominates every timing.
# Prints the ratios; exits 1 when memory grows by more than 2x, 2 when it
# cannot measure.
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

# --- oai-embed ------------------------------------------------------------
t0=$(now)
"$tool" --dimensions "$dims" "$dir/in" >"$dir/out" || { echo "embed.sh: oai-embed failed"; exit 2; }
t1=$(now)
[ "$(wc -l <"$dir/out")" -eq "$lines" ] || { echo "embed.sh: wrong line count"; exit 2; }
tool_s=$(el "$t0" "$t1")
printf 'oai-embed:    %d lines in %.2f s (%.0f lines/s)\n' "$lines" "$tool_s" "$(echo "$lines / $tool_s" | bc -l)"

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
