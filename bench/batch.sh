#!/bin/sh
# See LICENSE file for copyright and license details.
# oai-batch -e embeddings --lines against the local test server
# (tests/server.py), polling every 10 ms: peak memory (maximum RSS,
# /usr/bin/time -f %M) for 10,000 lines (one batch) and for
# $BENCH_BATCH_LINES (default 100000) and $BENCH_BATCH_BIG (default
# 200000) lines (2 and 4 batches of 50,000: the requests of one batch are
# what the client indexes at a time, so past one batch memory must not
# grow; set BENCH_BATCH_BIG=1000000 for 20 batches, minutes of the
# server's time).  The server answers every line with one precomputed
# vector of $BENCH_BATCH_DIMS (default 64) dimensions (the batch's
# "answer" spec field: its Python hashing would take the time otherwise;
# few dimensions, as the output files of a 1536 a line run would be GBs).  Each run's
# output must have one vector a line.  Exits 1 when the big run's peak
# RSS is over 1.5x the 100,000 lines', 2 when it cannot measure.
set -u
cd "$(dirname "$0")/.." || exit 2
mid=${BENCH_BATCH_LINES:-100000}
big=${BENCH_BATCH_BIG:-200000}
dims=${BENCH_BATCH_DIMS:-64}
tool=$PWD/bin/oai-batch
[ -x "$tool" ] || { echo "batch.sh: $tool not built (make)"; exit 2; }
[ -x /usr/bin/time ] || { echo "batch.sh: /usr/bin/time missing"; exit 2; }
command -v curl >/dev/null || { echo "batch.sh: curl not installed"; exit 2; }

. bench/server.sh batch.sh
export OPENAI_BASE_URL=$srv/v1 OPENAI_API_KEY=sk-bench OAI_TEST_BATCH_POLL_MS=10
export TMPDIR=$dir
curl -sf --data-binary '{"path": "/v1/batches", "method": "POST", "repeat": 1000000000,
	"batch": {"answer": {"fixed_embedding": true}}}' \
	"$srv/_ctl/queue" >/dev/null || { echo "batch.sh: cannot queue the batch spec"; exit 2; }

# run N: N lines through oai-batch; prints "seconds KiB".
run() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) printf "line number %d of the benchmark\n", i }' >"$dir/in"
	/usr/bin/time -f '%e %M' -o "$dir/t" "$tool" -e embeddings --lines \
		--dimensions "$dims" --format f32 "$dir/in" >"$dir/out" 2>"$dir/err" ||
		{ cat "$dir/err"; echo "batch.sh: $1 lines failed"; exit 2; }
	[ "$(wc -c <"$dir/out")" -eq $(($1 * dims * 4)) ] ||
		{ echo "batch.sh: $1 lines: wrong output size"; exit 2; }
	rm -f "$dir/out" "$dir/in"
	curl -sf -X POST "$srv/_ctl/reset" >/dev/null	# files, batches
	curl -sf --data-binary '{"path": "/v1/batches", "method": "POST", "repeat": 1000000000,
		"batch": {"answer": {"fixed_embedding": true}}}' "$srv/_ctl/queue" >/dev/null
	cat "$dir/t"
}

echo "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
set -- $(run 10000); s1=$1 r1=$2
printf 'oai-batch --lines %8d lines: %7.1f s, peak RSS %6d KiB\n' 10000 "$s1" "$r1"
set -- $(run "$mid"); s2=$1 r2=$2
printf 'oai-batch --lines %8d lines: %7.1f s, peak RSS %6d KiB\n' "$mid" "$s2" "$r2"
set -- $(run "$big"); s3=$1 r3=$2
printf 'oai-batch --lines %8d lines: %7.1f s, peak RSS %6d KiB\n' "$big" "$s3" "$r3"
printf 'ratio:        %d / %d lines peak RSS: %.2f\n' "$big" "$mid" "$(echo "$r3 / $r2" | bc -l)"
[ "$((r3 * 2))" -le "$((r2 * 3))" ] || { echo "batch.sh: memory grows with the input"; exit 1; }
