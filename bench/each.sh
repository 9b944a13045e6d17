#!/bin/sh
# See LICENSE file for copyright and license details.
# oai-chat --each over N lines against a local server that takes a fixed
# time per answer (as the API does), compared with a shell loop of
# oai-chat and with xargs -P over oai-chat at the same parallelism:
#   lines per second of each; target: --each -P 8 at least 4x the loop
#   and at least as fast as xargs -P 8 (no process per line).
# Exits 1 when a target is missed, 2 when it cannot measure.
# BENCH_LINES (200) and BENCH_DELAY_MS (20) set the load.
set -u
cd "$(dirname "$0")/.." || exit 2
tool=$PWD/bin/oai-chat
[ -x "$tool" ] || { echo "each.sh: $tool not built (make)"; exit 2; }
command -v python3 >/dev/null || { echo "each.sh: python3 not installed"; exit 2; }
unset OPENAI_API_KEY OPENAI_ORG_ID OPENAI_PROJECT_ID http_proxy https_proxy \
	HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export TOOL="$tool" LINES="${BENCH_LINES:-200}" DELAY="${BENCH_DELAY_MS:-20}"
exec python3 - <<'PY'
import http.server, json, os, socket, subprocess, sys, threading, time

TOOL, N, DELAY = os.environ["TOOL"], int(os.environ["LINES"]), \
    int(os.environ["DELAY"]) / 1000

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def setup(self):
        # headers and body are two writes: without this, a reused
        # connection waits for the client's delayed ACK between them
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    def do_POST(self):
        j = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(DELAY)
        text = j["messages"][-1]["content"]
        if j.get("stream"):
            ev = {"choices": [{"index": 0, "delta": {"content": text},
                               "finish_reason": "stop"}]}
            body = ("data: %s\n\ndata: [DONE]\n\n" % json.dumps(ev)).encode()
            ctype = "text/event-stream"
        else:
            body = json.dumps({"object": "chat.completion", "model": "gpt-4o",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant",
                                         "content": text}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1,
                          "total_tokens": 2}}).encode()
            ctype = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

class S(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

srv = S(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
env = dict(os.environ,
           OPENAI_BASE_URL="http://127.0.0.1:%d/v1" % srv.server_address[1])
data = "".join("line %d\n" % i for i in range(N))
want = data

def run(name, cmd):
    t = time.monotonic()
    r = subprocess.run(["sh", "-c", cmd], env=env, input=data.encode(),
                       stdout=subprocess.PIPE)
    dt = time.monotonic() - t
    out = r.stdout.decode()
    # xargs's processes write in any order, and may interleave
    if r.returncode or (out != want if "xargs" not in name else
                        out.count("\n") != N):
        print("each.sh: %s: exit %d, wrong output" % (name, r.returncode))
        sys.exit(2)
    print("%-22s %7.1f lines/s (%.2f s)" % (name, N / dt, dt))
    return N / dt

q = "'%s'" % TOOL
loop = run("shell loop", 'while IFS= read -r l; do %s "$l" </dev/null; done' % q)
xargs = run("xargs -P 8", "tr '\\n' '\\0' | xargs -0 -P 8 -n 1 %s" % q)
each1 = run("--each -P 1", "%s --each -P 1" % q)
each8 = run("--each -P 8", "%s --each -P 8" % q)
print("--each -P 8 / loop %.1fx (target >= 4), / xargs -P 8 %.2fx "
      "(target >= 1; xargs's output is not in order)" %
      (each8 / loop, each8 / xargs))
srv.shutdown()
sys.exit(0 if each8 >= 4 * loop and each8 >= xargs else 1)
PY
