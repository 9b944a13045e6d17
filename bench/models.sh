#!/bin/sh
# See LICENSE file for copyright and license details.
# oai-models against the local test server (tests/server.py), compared
# with `curl -s` fetching the same URL, both writing to /dev/null:
#   wall time of the whole process: target within 1.2x of curl's;
#   peak memory (maximum RSS, /usr/bin/time -f %M): within 2 MiB of curl's.
# Uses hyperfine when installed (apt-get install hyperfine), else a loop
# of $BENCH_RUNS runs timed with date +%s%N.  Prints the ratios; exits 1
# when a target is missed, 2 when it cannot measure.
set -u
cd "$(dirname "$0")/.." || exit 2
runs=${BENCH_RUNS:-200}
tool=$PWD/bin/oai-models
[ -x "$tool" ] || { echo "models.sh: $tool not built (make)"; exit 2; }
command -v curl >/dev/null || { echo "models.sh: curl not installed"; exit 2; }

. bench/server.sh models.sh
base=$srv/v1
url=$base/models
# The environment a user would have: no key needed for a local server.
unset OPENAI_API_KEY
export OPENAI_BASE_URL=$base
"$tool" >/dev/null || { echo "models.sh: oai-models failed"; exit 2; }
curl -sf "$url" >/dev/null || { echo "models.sh: curl failed"; exit 2; }

# --- wall time (mean seconds per run) --------------------------------------
if command -v hyperfine >/dev/null; then
	echo "wall time: hyperfine, $runs runs each (-N, no shell)"
	hyperfine -N -w 10 -r "$runs" --style basic \
		--export-json "$dir/h.json" "$tool" "curl -s $url" >"$dir/h.out" 2>&1 ||
		{ cat "$dir/h.out"; exit 2; }
	# Two "mean": values, in command order.
	means=$(sed -n 's/^ *"mean": *\([^,]*\),*$/\1/p' "$dir/h.json")
	t_tool=$(echo "$means" | sed -n 1p)
	t_curl=$(echo "$means" | sed -n 2p)
else
	echo "wall time: $runs runs each, date +%s%N (hyperfine not installed)"
	loop() {	# CMD...: total nanoseconds for $runs runs
		s=$(date +%s%N); j=0
		while [ $j -lt "$runs" ]; do "$@" >/dev/null; j=$((j + 1)); done
		e=$(date +%s%N); echo $((e - s))
	}
	loop "$tool" >/dev/null; loop curl -s "$url" >/dev/null	# warm up
	t_tool=$(awk -v n="$(loop "$tool")" -v r="$runs" 'BEGIN { print n / r / 1e9 }')
	t_curl=$(awk -v n="$(loop curl -s "$url")" -v r="$runs" 'BEGIN { print n / r / 1e9 }')
fi

# --- peak memory (KiB, the largest of 5 runs) ------------------------------
if [ -x /usr/bin/time ]; then
	peak() {
		m=0
		for j in 1 2 3 4 5; do
			k=$(/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1)
			[ "$k" -gt "$m" ] && m=$k
		done
		echo $m
	}
	m_tool=$(peak "$tool")
	m_curl=$(peak curl -s "$url")
else
	m_tool= m_curl=
	echo "peak memory: /usr/bin/time not installed (apt-get install time)"
fi

awk -v tt="$t_tool" -v tc="$t_curl" -v mt="$m_tool" -v mc="$m_curl" 'BEGIN {
	miss = 0
	r = tt / tc
	ok = r <= 1.2 ? "ok" : "MISSED"; if (r > 1.2) miss = 1
	printf "oai-models  %8.2f ms   curl -s %8.2f ms   ratio %.2fx (target <= 1.20x) %s\n",
	    tt * 1000, tc * 1000, r, ok
	if (mt != "") {
		d = (mt - mc) / 1024
		ok = d <= 2 ? "ok" : "MISSED"; if (d > 2) miss = 1
		printf "oai-models  %8d KiB  curl -s %8d KiB  ratio %.2fx, %+.2f MiB (target <= +2 MiB) %s\n",
		    mt, mc, mt / mc, d, ok
	}
	exit miss
}'
