# See LICENSE file for copyright and license details.
# Sourced by bench/*.sh (from the repo root): start the local test server
# (tests/server.py) for the run, stop it on exit.  Sets dir (its state
# directory, removed on exit), pid and srv (http://127.0.0.1:PORT), and
# clears the proxy and organisation variables that would change requests.
# $1 names the benchmark in messages.
dir=$(mktemp -d)
python3 tests/server.py --dir "$dir" </dev/null >"$dir/server.out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM
i=0
while [ ! -s "$dir/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$dir/port" ] || { cat "$dir/server.out"; echo "$1: server did not start"; exit 2; }
srv=http://127.0.0.1:$(cat "$dir/port")
unset OPENAI_ORG_ID OPENAI_PROJECT_ID http_proxy https_proxy HTTP_PROXY \
	HTTPS_PROXY all_proxy ALL_PROXY
