#!/bin/sh
# See LICENSE file for copyright and license details.
# oai-chat streaming 2,000 tokens from a local server (started here, in
# the embedded Python below), against `curl -N` fetching the same stream:
#   user+system CPU of oai-chat: target at most 2x curl's;
#   per-delta latency, from the server writing an event to its text
#   reaching oai-chat's stdout (same clock: the server and the reader
#   are one Python process): target within 1 ms (p99 is compared).
# Prints the measurements and the ratios; exits 1 when a target is
# missed, 2 when it cannot measure.  BENCH_RUNS sets the CPU runs (20).
set -u
cd "$(dirname "$0")/.." || exit 2
tool=$PWD/bin/oai-chat
[ -x "$tool" ] || { echo "chat.sh: $tool not built (make)"; exit 2; }
command -v curl >/dev/null || { echo "chat.sh: curl not installed"; exit 2; }
command -v python3 >/dev/null || { echo "chat.sh: python3 not installed"; exit 2; }
unset OPENAI_API_KEY OPENAI_ORG_ID OPENAI_PROJECT_ID http_proxy https_proxy \
	HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export TOOL="$tool" RUNS="${BENCH_RUNS:-20}"
exec python3 - <<'PY'
import http.server, json, os, resource, select, subprocess, sys, threading, time

TOKENS = 2000
TOOL, RUNS = os.environ["TOOL"], int(os.environ["RUNS"])
sent = {}          # token index -> monotonic send time (paced runs)
pace = [0.0]       # seconds between events; 0 = as fast as possible

def event(i):
    c = {"id": "chatcmpl-bench", "object": "chat.completion.chunk",
         "created": 1700000000, "model": "gpt-4o",
         "choices": [{"index": 0, "delta": {"content": "t%d " % i},
                      "logprobs": None, "finish_reason": None}]}
    return b"data: " + json.dumps(c, separators=(",", ":")).encode() + b"\n\n"

EVENTS = [event(i) for i in range(TOKENS)]
END = (b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk",'
       b'"created":1700000000,"model":"gpt-4o","choices":[{"index":0,'
       b'"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        w = self.wfile
        for i, ev in enumerate(EVENTS):
            if pace[0]:
                time.sleep(pace[0])
                sent[i] = time.monotonic()
            w.write(b"%x\r\n%s\r\n" % (len(ev), ev))
            w.flush()
        w.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(END), END))
        w.flush()

class S(http.server.ThreadingHTTPServer):
    daemon_threads = True

srv = S(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
base = "http://127.0.0.1:%d/v1" % srv.server_address[1]
env = dict(os.environ, OPENAI_BASE_URL=base)
body = json.dumps({"model": "gpt-4o", "stream": True,
                   "messages": [{"role": "user", "content": "bench"}]})

def cpu(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(RUNS):
        r = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL)
        if r.returncode:
            print("chat.sh: %s exited %d" % (cmd[0], r.returncode))
            sys.exit(2)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ((after.ru_utime - before.ru_utime) +
            (after.ru_stime - before.ru_stime)) / RUNS

chat = cpu([TOOL, "bench"])
curl = cpu(["curl", "-sN", "--noproxy", "*", "-H",
            "Content-Type: application/json", "-d", body,
            base + "/chat/completions"])
ratio = chat / curl if curl > 0 else float("inf")
print("cpu per stream of %d tokens: oai-chat %.2f ms, curl -N %.2f ms, "
      "ratio %.2f (target <= 2)" % (TOKENS, chat * 1e3, curl * 1e3, ratio))

# Latency: events 0.5 ms apart; the reader stamps each token on arrival.
pace[0] = 0.0005
p = subprocess.Popen([TOOL, "bench"], env=env, stdin=subprocess.DEVNULL,
                     stdout=subprocess.PIPE)
fd, buf, lat = p.stdout.fileno(), b"", []
while True:
    d = os.read(fd, 65536)
    now = time.monotonic()
    if not d:
        break
    buf += d
    *done, buf = buf.split(b" ")
    for tok in done:
        tok = tok.strip()
        if tok.startswith(b"t"):
            i = int(tok[1:])
            if i in sent:
                lat.append(now - sent[i])
p.wait()
if len(lat) != TOKENS or p.returncode:
    print("chat.sh: got %d of %d deltas, exit %d" % (len(lat), TOKENS,
          p.returncode))
    sys.exit(2)
lat.sort()
p50, p99, mx = (lat[len(lat) // 2], lat[int(len(lat) * 0.99)], lat[-1])
print("per-delta latency: p50 %.3f ms, p99 %.3f ms, max %.3f ms; "
      "p99 ratio to 1 ms %.2f (target <= 1)" % (p50 * 1e3, p99 * 1e3,
      mx * 1e3, p99 / 1e-3))
srv.shutdown()
sys.exit(0 if ratio <= 2 and p99 <= 1e-3 else 1)
PY
