#!/bin/sh
# See LICENSE file for copyright and license details.
# Build the seed corpora fuzz/corpus/<target>/ from the test fixtures
# (tests/fixtures: response bodies, SSE streams, error bodies, Retry-After
# headers, SSE vectors), the real recordings when OAI_TEST_RECORDINGS has
# them (tests/shared.sh), plus a few hand-picked edge cases.
# Run by `make fuzz` every time, so seeds follow the fixtures; the
# corpora are not committed (libFuzzer adds what it finds to them).
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
. tests/shared.sh
exec python3 - "$OAI_FIXTURES" \
	${OAI_TEST_RECORDINGS:+"$OAI_TEST_RECORDINGS/cassettes"} <<'PY'
import glob, hashlib, json, os, re, sys

roots = sys.argv[1:]
count = {}

def seed(target, data):
    if isinstance(data, str):
        data = data.encode()
    if target == "json":	# jscan reads them too, cut by a first byte
        for cut in (b"\x00", b"\x2a"):
            seed("jscan", cut + data)
    d = os.path.join("fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    count[target] = count.get(target, 0) + 1

def status_of(headers):
    m = re.match(rb"HTTP/\S+ (\d{3})", headers)
    return int(m.group(1)) if m else 0

def errbody(status, body):
    seed("errbody", bytes([status >> 8, status & 255]) + body)

def strings(v, out):
    if isinstance(v, str):
        out.add(v)
    elif isinstance(v, list):
        for e in v:
            strings(e, out)
    elif isinstance(v, dict):
        for k, e in v.items():
            out.add(k)
            strings(e, out)

def sse(chunks, stop=0):
    # Layout of fuzz/sse.c: stop count, cuts, chunk lengths, stream.
    cuts = [len(c) for c in chunks[:-1]][:31]
    if any(n > 255 for n in cuts):
        cuts = []
    seed("sse", bytes([stop, len(cuts)] + cuts) + b"".join(chunks))

texts = set()
for http in sorted(h for r in roots for h in glob.glob(
        os.path.join(r, "**", "response.http"), recursive=True)):
    raw = open(http, "rb").read()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = status_of(head)
    for m in re.finditer(rb"(?im)^(retry-after(?:-ms)?|x-ratelimit-reset-\w+):"
                         rb"[ \t]*(.*?)\r?$", head):
        seed("retryafter", m.group(2))
    if len(body) > 16384:
        continue
    if re.search(rb"(?im)^content-type:.*event-stream", head):
        sse([body])
        sse([body], stop=1)
        # Cut inside a CRLF, a UTF-8 character and a field name.
        sse([body[:1], body[1:7], body[7:len(body) // 2],
             body[len(body) // 2:]])
        for m in re.finditer(rb"(?m)^data: ?(.*?)\r?$", body):
            if m.group(1) != b"[DONE]":
                seed("json", m.group(1))
                errbody(200, m.group(1))
        continue
    seed("json", body)
    if status >= 400 or len(body) < 2048:
        errbody(status, body)
    try:
        strings(json.loads(body), texts)
    except ValueError:
        if b"\0" not in body:
            seed("jsonw", body)

for s in sorted(texts, key=lambda s: (len(s), s))[:200]:
    if len(s) <= 4096:
        seed("jsonw", s)
# base64 (byte 0 picks the pieces): the answers' own, and blocks of 32
# with one character out of the alphabet, padding inside or at the end.
for s in sorted(t for t in texts if len(t) >= 8 and
                re.fullmatch(r"[A-Za-z0-9+/]+=*", t))[:20]:
    seed("base64", b"\x03" + s[:4096].encode())
q = b"QUJDRGVm+/9z" * 12
for cut, s in [(0, q), (4, q + b"=="), (16, q[:100] + b"="), (1, q[:40] +
               b"=" + q[41:]), (7, q[:33] + b"-" + q[34:]), (2, q[:63] +
               b"\x80" + q[64:]), (9, q[:31] + b"\x00" + q[32:]),
               (5, b"A" * 65), (0, b"")]:
    seed("base64", bytes([cut]) + s)

for vec in [os.path.join(r, "sse-vectors.json") for r in roots] + \
        [os.path.join(os.path.dirname(r), "sse-vectors.json") for r in roots[1:]]:
    if not os.path.exists(vec):
        continue
    for case in json.load(open(vec))["cases"]:
        chunks = [bytes.fromhex(c) for c in case["chunks_hex"]]
        sse(chunks)
        sse([b"".join(chunks)])

# Edge cases the recordings lack.
for s in ['0', '-0.5e+10', '1E400', '123456789012345678901234', 'true',
          ' null ', '""', '"\\u0000"', '"\\ud83d\\ude00"', '"\\udc00\\ud800"',
          '"\\"\\\\\\/\\b\\f\\n\\r\\t"', '[[[[[[[[[[]]]]]]]]]]',
          '{"a":{"a":[1,{"a":"b"}]},"a":2}', '{"":0}', '[]', '{}',
          '{"error":{"message":"m","code":null,"type":"t"}}',
          '{"data":[{"index":0,"embedding":[-0.011622308194637299,'
          '0.005239012,1e-7,-2.5E+3,12345678901234567890,0.0000001192092896,'
          '3.4028235677973366e38,1e-46]}]}']:
    seed("json", s)
for s in [b"", b"a", "h\u00e9\u20ac\U0001f600".encode(), b"\x00\x1f\x7f",
          b"\xc0\xaf", b"\xc2", b"\xe2\x82", b"\xed\xa0\x80",
          b"\xef\xbf\xbd", b"\xf4\x8f\xbf\xbf", b"\xf4\x90\x80\x80",
          b"\xf8\x88\x80\x80\x80", b"\xff", b"\x80"]:
    seed("jsonw", s)
for st, b in [(401, b'{"error":"plain string"}'), (500, b'{"detail":"x"}'),
              (503, b'{"message":{"nested":[1]}}'), (0, b"upstream \xff"),
              (404, b'{"error":{"message":"a\\nb\\u0000c","code":7,'
                    b'"type":"t"}}'), (502, b"<html>Bad gateway</html>\r\n"),
              (429, b"")]:
    errbody(st, b)
for s in ["0", "1", "120", "1.5", "-1", "1e3", "999999999", "1000000000",
          "inf", "nan", "0x10", " 5", "5 ", "Wed, 21 Oct 2015 07:28:00 GMT",
          "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
          "Sun Nov  6 08:49:37 1994", "Fri, 31 Dec 9999 23:59:59 GMT",
          "Thu, 01 Jan 2099 00:00:00 GMT"]:
    seed("retryafter", s)
sse([b"\xef\xbb", b"\xbfdata: a\r", b"\nid: 1\nretry: 10\n\n"])
# Conversation files (byte 0: 1 = --messages, an array is allowed).
for arr, s in [(0, b'{"role":"user","content":"hi"}\n'
                   b'{"role":"assistant","content":"a\\nb"}\n'),
               (0, b'\n  \r\n{ "role" : "system" , "content" : [ ] }'),
               (0, b'{"role":"user"}\n{"role":1}\n'),
               (0, b'{"role":"user","content":"\\u0000 \\ud83d\\ude00"}\r\n'),
               (1, b'[{"role":"user","content":"x"},\n {"role":"tool"}]'),
               (1, b'[{"role":"user"}, 3]'), (1, b'{"role":"user"}'),
               (0, b'[{"role":"user"}]'), (0, b'{"role":"user"')]:
    seed("conv", bytes([arr]) + s)
# Uploads: max, pipe bit and read sizes, file (layout of fuzz/upload.c).
for s in [b"\x05\x02\x03\x00hello world", b"\x00\x81\x07abcdef",
          b"\x10\x00", b"\x10\x80", b"\x05\x00hello",
          b"\xff\x83\x01\x40\xff" + b"ID3" + bytes(1200)]:
    seed("upload", s)
for allow in (0, 1):
    for u in ["https://api.openai.com/v1", "http://localhost:11434/v1",
              "http://127.0.0.1:8080/v1/", "http://[::1]:8000/v1",
              "http://[::ffff:127.0.0.1]/v1", "http://127.0.0.1.nip.io/v1",
              "https://u:p@h/v1", "https://h/v1?k=sk-x", "https://h/v1#f",
              "http:/\\u@h/v1", "HTTPS://H:443/V1", "ftp://h/v1",
              "https://h/v1/@x", "not a url", ""]:
        seed("baseurl", bytes([allow]) + u.encode())
for key, text in [(b"", b"401: Incorrect API key provided: sk-proj-****1234"),
                  (b"sk-abcdefghijkl", b"Bearer sk-abcdefghijkl!"),
                  (b"local-key-1234", b"x local-key-1234 sk-abcdefgh task-sk-abcdefgh"),
                  (b"", b"sk-12345678 sk-1234567 -sk-12345678")]:
    seed("redact", bytes([len(key)]) + key + text)

print("seeds:", ", ".join("%s %d" % kv for kv in sorted(count.items())))
PY
