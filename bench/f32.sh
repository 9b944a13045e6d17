#!/bin/sh
# See LICENSE file for copyright and license details.
# f32_list(), the printing of embeddings' floats as text, by each of its
# paths this CPU has (bench/f32.c, built by make bench): ns a float on
# embedding-like data and on random bit patterns, and each path's speed
# against the scalar one's.  Prints only; exits 2 when not built.
set -u
cd "$(dirname "$0")/.." || exit 2
[ -x bench/f32 ] || { echo "f32.sh: bench/f32 not built (make bench)"; exit 2; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
exec ./bench/f32
