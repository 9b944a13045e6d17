#!/bin/sh
# See LICENSE file for copyright and license details.
# oai-batch's check that every custom_id is its own, in the default mode:
# peak memory (maximum RSS, /usr/bin/time -f %M) for $BENCH_IDS_LINES
# (default 1000000) request lines whose last line repeats the first
# line's custom_id, so that the run reads and spools all of the input,
# finds the repeat and stops (exit 2) before anything is sent: no server.
# Exits 1 when the peak is over 16 bytes an id above the 10,000 lines',
# 2 when it cannot measure.
set -u
cd "$(dirname "$0")/.." || exit 2
n=${BENCH_IDS_LINES:-1000000}
tool=${BENCH_IDS_TOOL:-$PWD/bin/oai-batch}
[ -x "$tool" ] || { echo "batch-ids.sh: $tool not built (make)"; exit 2; }
[ -x /usr/bin/time ] || { echo "batch-ids.sh: /usr/bin/time missing"; exit 2; }
dir=$(mktemp -d) || exit 2
trap 'rm -rf "$dir"' EXIT
export TMPDIR=$dir OPENAI_API_KEY=sk-bench OPENAI_BASE_URL=http://127.0.0.1:9/v1

# run N: prints "seconds KiB" for N lines.
run() {
	awk -v n="$1" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "{\"custom_id\":\"request-%d-of-the-benchmark-input\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\"m\",\"input\":\"line %d\"}}\n", i, i
		printf "{\"custom_id\":\"request-1-of-the-benchmark-input\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\"m\",\"input\":\"again\"}}\n"
	}' >"$dir/in"
	/usr/bin/time -f '%e %M' -o "$dir/t" "$tool" "$dir/in" >/dev/null 2>"$dir/err"
	grep -q "in:$(($1 + 1)): a custom_id used before" "$dir/err" ||
		{ cat "$dir/err"; echo "batch-ids.sh: $1 lines: no repeat found"; exit 2; }
	rm -f "$dir/in"
	tail -n1 "$dir/t"
}

set -- $(run 10000); s1=$1 r1=$2
printf 'oai-batch custom_ids %8d lines: %6.1f s, peak RSS %7d KiB\n' 10000 "$s1" "$r1"
set -- $(run "$n"); s2=$1 r2=$2
printf 'oai-batch custom_ids %8d lines: %6.1f s, peak RSS %7d KiB\n' "$n" "$s2" "$r2"
printf 'bytes an id above 10,000 lines: %.1f\n' "$(echo "($r2 - $r1) * 1024 / ($n - 10000)" | bc -l)"
[ $(((r2 - r1) * 1024)) -le $(((n - 10000) * 16)) ] || { echo "batch-ids.sh: over 16 bytes an id"; exit 1; }
