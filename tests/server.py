# See LICENSE file for copyright and license details.
"""Fake OpenAI API server for the test suite (Python 3 stdlib only).

    python3 tests/server.py --dir DIR [--cassettes DIR]

--cassettes defaults to $OAI_CASSETTES, then tests/fixtures.

Binds 127.0.0.1 on a free port, writes the port to DIR/port once listening,
logs to DIR/server.log and appends every API request, in order, to
DIR/requests.jsonl (one JSON object per line; "t" is its arrival time in
seconds since the epoch, for measuring retry gaps).

Control endpoints (never recorded):
    POST /_ctl/queue   a response spec, or a JSON array of specs, appended to
                       the queue; API requests pop the first spec that matches
    GET  /_ctl/queue   the specs still waiting, as a JSON array
    POST /_ctl/reset   empty the queue and the request log, restart numbering
    GET  /_ctl/health  200
    GET  /_ctl/stats   {"inflight": N, "max_inflight": N}: API requests being
                       answered now, and the most at once since the last reset

Response spec fields (all optional, combinable):
    path, method       only match requests with this path (no query) / method
    repeat             serve the spec N times before it leaves the queue
    status             default 200
    headers            {name: value}; replaces a default header of that name
                       (case-insensitive), a null value removes it
    body | body_b64 | json | bad_json | sse | cassette
                       the body source; without one the default handler for
                       the path builds the response and the other fields
                       (status, headers, size, transport options) apply to it
    sse, sse_done, crlf
                       list of data strings sent as "data: X\\n\\n" events,
                       then "data: [DONE]"; crlf uses CRLF line ends
    cassette           "name" or "name/N" (exchange N, i.e. folder name/0N);
                       replays response.http bytes exactly (own headers,
                       Connection: close) and ignores status/headers
    size               bytes of audio from the default /v1/audio/speech
    fixed_embedding    the default /v1/embeddings gives every input the same
                       vector (computed once per dimension count), so a
                       benchmark measures the client, not the server's hashing
    float_arrays       the default /v1/embeddings answers JSON number arrays
                       whatever encoding_format asks (as vLLM, llama.cpp and
                       Ollama do)
    framing            "length" (Content-Length; default except for SSE),
                       "chunked" (default for SSE) or "close" (no length,
                       end of body = end of connection)
    chunk, chunks, chunk_delay_ms
                       write the body in pieces of N bytes, or of the listed
                       sizes, sleeping between pieces (SSE: one piece per
                       event by default)
    delay_ms           sleep before sending anything
    delay_ms_max       with delay_ms: sleep a random time between the two
    match              only match requests whose body contains this text
    stall_after, stall_ms
                       send headers and the first stall_after body bytes,
                       sleep stall_ms, then send the rest
    close_after        send only the first N body bytes (cassettes: of the raw
                       response), then close; the full length stays advertised
    close_after_step   with repeat: each serving cuts close_after_step bytes
                       later than the previous one (walk every cut offset)

Every generated response carries "x-request-id: req_test_<n>", n being the
request's number in requests.jsonl.  Cassettes keep their recorded headers.
"""

import argparse
import base64
import hashlib
import http.server
import json
import os
import random
import re
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
import zlib

# The fixtures written for this project (tests/fixtures/make.py); real
# recordings of the same layout can be served with --cassettes DIR.
CASSETTES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "fixtures")
CREATED = 1700000000  # fixed "created" timestamp: output must be deterministic

HTTP_REASONS = http.server.BaseHTTPRequestHandler.responses


class Response:
    """A response to send: either raw bytes (cassette) or status+headers+body.

    For streams, pieces is the list of body writes (one per SSE event), so
    the client sees them arrive separately.
    """

    def __init__(self, status=200, headers=None, body=b"", stream=False,
                 raw=None, pieces=None):
        self.status = status
        self.headers = list(headers or [])  # [(name, value)], order kept
        self.body = body
        self.stream = stream
        self.raw = raw
        self.pieces = pieces

    def set_header(self, name, value):
        self.headers = [(k, v) for k, v in self.headers
                        if k.lower() != name.lower()]
        if value is not None:
            self.headers.append((name, str(value)))


def json_response(obj, status=200, indent=None):
    text = json.dumps(obj, indent=indent, ensure_ascii=False)
    return Response(status, [("Content-Type", "application/json")],
                    text.encode())


def api_error(status, message, type_="invalid_request_error", param=None,
              code=None):
    # The API indents error bodies by four spaces and ends them with LF.
    body = {"error": {"message": message, "type": type_, "param": param,
                      "code": code}}
    text = json.dumps(body, indent=4, ensure_ascii=False) + "\n"
    return Response(status, [("Content-Type", "application/json; charset=utf-8")],
                    text.encode())


def sse_response(events, done=True, crlf=False):
    """events: list of str (data payloads) or dict (serialised compactly)."""
    nl = "\r\n" if crlf else "\n"
    pieces = []
    for ev in events:
        if not isinstance(ev, str):
            ev = json.dumps(ev, separators=(",", ":"), ensure_ascii=False)
        pieces.append(("data: " + ev + nl + nl).encode())
    if done:
        pieces.append(("data: [DONE]" + nl + nl).encode())
    return Response(200, [("Content-Type", "text/event-stream; charset=utf-8")],
                    b"".join(pieces), stream=True, pieces=pieces)


# ---------------------------------------------------------------- requests

class Request:
    """What the handlers see of a request, already recorded."""

    def __init__(self, n, method, path, query, headers, body):
        self.n = n
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers  # lowercased name -> value
        self.body = body        # bytes
        self.form = None
        self.files = None       # field -> dict, plus "data" (not logged)
        self._json = None

    def json(self):
        """The body as JSON, or None if it is not a JSON object."""
        if self._json is None:
            try:
                v = json.loads(self.body.decode("utf-8"))
                self._json = v if isinstance(v, dict) else False
            except (UnicodeDecodeError, ValueError):
                self._json = False
        return self._json or None


def header_params(value):
    """Split 'type; a=1; b="x;y"' into ('type', {'a': '1', 'b': 'x;y'})."""
    parts = re.findall(r'(?:[^;"]|"(?:\\.|[^"\\])*")+', value)
    main = parts[0].strip().lower() if parts else ""
    params = {}
    for p in parts[1:]:
        k, _, v = p.strip().partition("=")
        v = v.strip()
        if len(v) >= 2 and v[0] == v[-1] == '"':
            v = re.sub(r'\\(.)', r'\1', v[1:-1])
        params[k.strip().lower()] = v
    return main, params


def parse_multipart(body, boundary):
    """Return (form, files) from a multipart/form-data body.

    form: field -> text (a list when a field repeats, e.g. include[]);
    files: field -> {filename, content_type, size, sha256, data}.
    """
    form, files = {}, {}
    delim = b"--" + boundary.encode("latin-1")
    segs = body.split(delim)
    # segs[0] is the preamble; the part after the closing "--" the epilogue.
    for seg in segs[1:]:
        if seg.startswith(b"--"):
            break
        if seg.startswith(b"\r\n"):
            seg = seg[2:]
        head, sep, data = seg.partition(b"\r\n\r\n")
        if not sep:
            continue
        if data.endswith(b"\r\n"):
            data = data[:-2]
        hdrs = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        _, disp = header_params(hdrs.get("content-disposition", ""))
        name = disp.get("name", "")
        if "filename" in disp:
            f = {
                "filename": disp["filename"],
                "content_type": hdrs.get("content-type"),
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "data": data,
            }
            # A repeated file field (image[]) becomes a list.
            if name in files:
                if not isinstance(files[name], list):
                    files[name] = [files[name]]
                files[name].append(f)
            else:
                files[name] = f
        else:
            text = data.decode("utf-8", "replace")
            if name in form:
                if not isinstance(form[name], list):
                    form[name] = [form[name]]
                form[name].append(text)
            else:
                form[name] = text
    return form, files


# ---------------------------------------------------------------- handlers
#
# Each default handler takes (req, spec) and returns a Response.  spec is
# the matching queued spec without a body source, or {}.  Add endpoints to
# ROUTES below.

_models_cache = None


def cassette_dir(name):
    root = CASSETTES
    d = os.path.join(root, name)
    if os.path.isfile(os.path.join(d, "response.http")):
        return d
    # "name/1" means exchange 1, stored as folder "name/01"; bare "name"
    # of a multi-exchange recording means its first exchange.
    head, _, tail = name.rpartition("/")
    if head and tail.isdigit():
        d = os.path.join(root, head, "%02d" % int(tail))
    else:
        d = os.path.join(root, name, "00")
    if os.path.isfile(os.path.join(d, "response.http")):
        return d
    raise FileNotFoundError("no cassette %r under %s" % (name, root))


def models_list_body():
    global _models_cache
    if _models_cache is None:
        with open(os.path.join(cassette_dir("models_list"),
                               "response.body"), "rb") as f:
            _models_cache = f.read()
    return _models_cache


def h_models_list(req, spec):
    return Response(200, [("Content-Type", "application/json")],
                    models_list_body())


def h_model_get(req, spec):
    mid = urllib.parse.unquote(req.path[len("/v1/models/"):])
    for m in json.loads(models_list_body())["data"]:
        if m.get("id") == mid:
            obj = {k: m.get(k) for k in ("id", "object", "created", "owned_by")}
            return json_response(obj, indent=2)
    # Shaped byte for byte like cassettes/error_404_model_not_found.
    err = {"error": {"message": "The model '%s' does not exist" % mid,
                     "type": "invalid_request_error", "param": "model",
                     "code": "model_not_found"}}
    return json_response(err, 404, indent=2)


def need_json(req):
    j = req.json()
    if j is None:
        return None, api_error(
            400, "We could not parse the JSON body of your request. (HINT: "
            "This likely means you aren't using your HTTP library correctly. "
            "The OpenAI API expects a JSON payload, but what was sent was "
            "not valid JSON. If you have trouble figuring out how to fix "
            "this, please contact us through our help center at "
            "help.openai.com.)")
    return j, None


def content_text(content):
    """Message content: a string, or a list of parts whose text parts join."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content
                       if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def count_words(text):
    return len(text.split())


# ---- chat: n, logprobs and tool calls (issue 14) ------------------------
#
# h_chat hands a request to h_chat_more first; it answers when the request
# asks for more than one plain reply:
#   n > 1          choice i says "echo: TEXT" (i = 0) or "echo i: TEXT",
#                  interleaved in a stream as the API does
#   logprobs true  each piece gets a logprob of -0.5 and top_logprobs
#                  entries up to top_logprobs
#   tools          the reply calls the spec's "tool_calls" ([{"name",
#                  "arguments"}], arguments a string or JSON), or, unless
#                  the last message is a tool result, one call of each tool
#                  offered with the arguments {"text": LAST USER TEXT};
#                  streamed, every call's arguments come in two fragments
#   tool results   the reply is "echo: " and the tool messages' contents
#                  since the last assistant message, joined by " | "


def chat_more_calls(j, msgs, spec):
    tools = j.get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    if "tool_calls" not in spec and msgs and isinstance(msgs[-1], dict) \
            and msgs[-1].get("role") == "tool":
        return None
    user = ""
    for m in msgs:
        if isinstance(m, dict) and m.get("role") == "user":
            user = content_text(m.get("content"))
    calls = spec.get("tool_calls")
    if calls is None:
        calls = [{"name": (t.get("function") or {}).get("name", "")}
                 for t in tools if isinstance(t, dict)]
    out = []
    for c in calls:
        args = c.get("arguments", {"text": user})
        if not isinstance(args, str):
            args = json.dumps(args, separators=(",", ":"), ensure_ascii=False)
        out.append({"name": c.get("name", ""), "arguments": args})
    return out


def chat_more(req, spec, j, msgs):
    n = j.get("n") if isinstance(j.get("n"), int) else 1
    lp = j.get("logprobs") is True
    calls = chat_more_calls(j, msgs, spec)
    trailing = []
    for m in reversed(msgs):
        if not isinstance(m, dict) or m.get("role") != "tool":
            break
        trailing.insert(0, content_text(m.get("content")))
    if n <= 1 and not lp and calls is None and not trailing:
        return None
    model = j.get("model") or "gpt-4o-mini"
    last = msgs[-1] if isinstance(msgs[-1], dict) else {}
    text = " | ".join(trailing) if trailing else \
        content_text(last.get("content"))
    cid = "chatcmpl-test%d" % req.n
    ntop = j.get("top_logprobs") if isinstance(j.get("top_logprobs"), int) else 0

    def logprobs(words):
        if not lp:
            return None
        return {"content": [{"token": w, "logprob": -0.5,
                             "bytes": list(w.encode()),
                             "top_logprobs": [{"token": w, "logprob": -0.5,
                                               "bytes": list(w.encode())}] *
                             ntop} for w in words], "refusal": None}

    def tcs(stream):
        return [{"index": i, "id": "call_test%d_%d" % (req.n, i),
                 "type": "function",
                 "function": {"name": c["name"],
                              "arguments": "" if stream else c["arguments"]}}
                for i, c in enumerate(calls)]

    words = [re.findall(r"\s*\S+|\s+", ("echo%s: " % (" %d" % i if i else ""))
                        + text) for i in range(n)]
    finish = "tool_calls" if calls is not None else "stop"
    base = {"id": cid, "created": CREATED, "model": model,
            "system_fingerprint": "fp_test"}
    if j.get("stream") is not True:
        chs = []
        for i in range(n):
            msg = {"role": "assistant", "content": "".join(words[i]),
                   "refusal": None}
            if calls is not None:
                msg["content"] = None
                msg["tool_calls"] = tcs(False)
                for t in msg["tool_calls"]:
                    del t["index"]
            chs.append({"index": i, "message": msg,
                        "logprobs": logprobs(words[i]), "finish_reason": finish})
        return json_response(dict(base, object="chat.completion", choices=chs,
                                  usage={"prompt_tokens": 1,
                                         "completion_tokens": 1,
                                         "total_tokens": 2}), indent=2)

    def chunk(i, delta, finish=None, lps=None):
        return dict(base, object="chat.completion.chunk",
                    choices=[{"index": i, "delta": delta, "logprobs": lps,
                              "finish_reason": finish}])
    events = []
    if calls is not None:
        events.append(chunk(0, {"role": "assistant", "content": None,
                                "tool_calls": tcs(True)}))
        for i, c in enumerate(calls):
            a = c["arguments"]
            for piece in (a[:len(a) // 2], a[len(a) // 2:]):
                events.append(chunk(0, {"tool_calls": [
                    {"index": i, "function": {"arguments": piece}}]}))
        events.append(chunk(0, {}, finish))
        return sse_response(events)
    for i in range(n):
        events.append(chunk(i, {"role": "assistant", "content": ""}))
    for k in range(max(len(w) for w in words)):
        for i in range(n):
            if k < len(words[i]):
                events.append(chunk(i, {"content": words[i][k]},
                                    lps=logprobs([words[i][k]])))
    for i in range(n):
        events.append(chunk(i, {}, finish))
    return sse_response(events)


def h_chat(req, spec):
    j, err = need_json(req)
    if err:
        return err
    msgs = j.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return api_error(400, "Missing required parameter: 'messages'.",
                         param="messages", code="missing_required_parameter")
    more = chat_more(req, spec, j, msgs)
    if more is not None:
        return more
    model = j.get("model") or "gpt-4o-mini"
    last = msgs[-1] if isinstance(msgs[-1], dict) else {}
    reply = "echo: " + content_text(last.get("content"))
    # Word-sized deltas as the API sends them: leading space kept on each.
    words = re.findall(r"\s*\S+|\s+", reply)
    prompt = sum(count_words(content_text(m.get("content")))
                 for m in msgs if isinstance(m, dict))
    usage = {"prompt_tokens": prompt, "completion_tokens": len(words),
             "total_tokens": prompt + len(words)}
    cid = "chatcmpl-test%d" % req.n

    if j.get("stream") is True:
        opts = j.get("stream_options")
        with_usage = isinstance(opts, dict) and opts.get("include_usage") is True

        def chunk(delta, finish=None, choices=True):
            c = {"id": cid, "object": "chat.completion.chunk",
                 "created": CREATED, "model": model,
                 "system_fingerprint": "fp_test",
                 "choices": [{"index": 0, "delta": delta, "logprobs": None,
                              "finish_reason": finish}] if choices else []}
            if with_usage:
                c["usage"] = None
            return c

        events = [chunk({"role": "assistant", "content": "", "refusal": None})]
        events += [chunk({"content": w}) for w in words]
        events.append(chunk({}, "stop"))
        if with_usage:
            u = chunk(None, choices=False)
            u["usage"] = usage
            events.append(u)
        return sse_response(events)

    obj = {"id": cid, "object": "chat.completion", "created": CREATED,
           "model": model,
           "choices": [{"index": 0,
                        "message": {"role": "assistant", "content": reply,
                                    "refusal": None, "annotations": []},
                        "logprobs": None, "finish_reason": "stop"}],
           "usage": usage, "service_tier": "default",
           "system_fingerprint": "fp_test"}
    return json_response(obj, indent=2)


def h_completions(req, spec):
    """POST /v1/completions: choice i continues the prompt with
    " echo: PROMPT" (" echo i: PROMPT" after the first) in word-sized
    pieces; max_tokens counts pieces (finish_reason "length" past it),
    echo puts the prompt first, logprobs gives each piece -0.5, n
    choices are interleaved in a stream as the API does."""
    j, err = need_json(req)
    if err:
        return err
    prompt = j.get("prompt")
    if isinstance(prompt, list):
        prompt = prompt[0] if prompt and isinstance(prompt[0], str) else ""
    if not isinstance(prompt, str):
        return api_error(400, "Missing required parameter: 'prompt'.",
                         param="prompt", code="missing_required_parameter")
    model = j.get("model") or "gpt-3.5-turbo-instruct"
    n = j.get("n") if isinstance(j.get("n"), int) else 1
    limit = j.get("max_tokens")
    limit = limit if isinstance(limit, int) else 16
    nlp = j.get("logprobs")
    choices = []
    for i in range(n):
        words = re.findall(r"\s*\S+|\s+", " echo%s: %s" %
                           (" %d" % i if i else "", prompt))
        finish = "stop"
        if len(words) > limit:
            words, finish = words[:limit], "length"
        if j.get("echo") is True:
            words = [prompt] + words
        choices.append((words, finish))
    ntok = sum(len(w) for w, _ in choices)
    prompt_tokens = count_words(prompt)
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": ntok,
             "total_tokens": prompt_tokens + ntok}
    cid = "cmpl-test%d" % req.n

    def logprobs(words):
        if not isinstance(nlp, int):
            return None
        offs, o = [], 0
        for w in words:
            offs.append(o)
            o += len(w)
        return {"tokens": words, "token_logprobs": [-0.5] * len(words),
                "top_logprobs": [{w: -0.5} for w in words],
                "text_offset": offs}

    def obj(chs):
        return {"id": cid, "object": "text_completion", "created": CREATED,
                "model": model, "system_fingerprint": "fp_test",
                "choices": chs}

    if j.get("stream") is True:
        opts = j.get("stream_options")
        with_usage = isinstance(opts, dict) and opts.get("include_usage") is True
        events = []
        for k in range(max(len(w) for w, _ in choices)):
            for i, (words, _) in enumerate(choices):
                if k < len(words):
                    events.append(obj([{"text": words[k], "index": i,
                                        "logprobs": logprobs([words[k]]),
                                        "finish_reason": None}]))
        for i, (_, finish) in enumerate(choices):
            events.append(obj([{"text": "", "index": i, "logprobs": None,
                                "finish_reason": finish}]))
        if with_usage:
            for e in events:
                e["usage"] = None
            u = obj([])
            u["usage"] = usage
            events.append(u)
        return sse_response(events)
    return json_response(obj([{"text": "".join(w), "index": i,
                               "logprobs": logprobs(w),
                               "finish_reason": f}
                              for i, (w, f) in enumerate(choices)])
                         | {"usage": usage}, indent=2)


def fake_embedding(text, dims):
    """dims float32 values in [-1, 1] from a hash of the text."""
    out = []
    for i in range(dims):
        h = hashlib.sha256(("%d:%s" % (i, text)).encode()).digest()
        u = struct.unpack("<I", h[:4])[0]
        v = u / 0xFFFFFFFF * 2.0 - 1.0
        # Round through float32 so the float and base64 forms agree.
        out.append(struct.unpack("<f", struct.pack("<f", v))[0])
    return out


FIXED_EMB = {}  # (dims, base64?) -> "fixed_embedding"'s vector as JSON


def h_embeddings(req, spec):
    j, err = need_json(req)
    if err:
        return err
    inp = j.get("input")
    if isinstance(inp, str):
        inputs = [inp]
    elif isinstance(inp, list) and inp:
        inputs = [x if isinstance(x, str) else json.dumps(x) for x in inp]
    else:
        return api_error(400, "'input' is a required property", param="input")
    dims = j.get("dimensions", 8)
    if type(dims) is not int or dims < 1:
        return api_error(400, "Invalid value for 'dimensions': must be a "
                         "positive integer.", param="dimensions")
    b64 = (j.get("encoding_format") == "base64" and
           not spec.get("float_arrays"))
    data = []
    for i, text in enumerate(inputs):
        if spec.get("fixed_embedding"):  # benchmarks: the client's time
            if (dims, b64) not in FIXED_EMB:  # as JSON, computed once
                vec = fake_embedding("fixed", dims)
                FIXED_EMB[(dims, b64)] = json.dumps(base64.b64encode(
                    struct.pack("<%df" % dims, *vec)).decode() if b64 else vec)
            data.append('{"object": "embedding", "index": %d, "embedding": '
                        '%s}' % (i, FIXED_EMB[(dims, b64)]))
            continue
        vec = fake_embedding(text, dims)
        if b64:
            emb = base64.b64encode(struct.pack("<%df" % dims, *vec)).decode()
        else:
            emb = vec
        data.append({"object": "embedding", "index": i, "embedding": emb})
    words = sum(count_words(t) for t in inputs)
    obj = {"object": "list", "data": data,
           "model": j.get("model") or "text-embedding-3-small",
           "usage": {"prompt_tokens": words, "total_tokens": words}}
    if spec.get("fixed_embedding"):  # the vectors are JSON text already
        obj["data"] = None
        head, tail = json.dumps(obj).split("null", 1)
        return Response(200, [("Content-Type", "application/json")],
                        (head + "[" + ",".join(data) + "]" + tail).encode())
    return json_response(obj, indent=2)


MOD_CATEGORIES = [
    "harassment", "harassment/threatening", "sexual", "hate",
    "hate/threatening", "illicit", "illicit/violent", "self-harm/intent",
    "self-harm/instructions", "self-harm", "sexual/minors", "violence",
    "violence/graphic",
]


def h_moderations(req, spec):
    j, err = need_json(req)
    if err:
        return err
    inp = j.get("input")
    if isinstance(inp, str):
        inputs = [inp]
    elif isinstance(inp, list) and inp and all(isinstance(x, dict) for x in inp):
        # Multi-modal parts form one input; only text parts count here.
        inputs = [content_text(inp)]
    elif isinstance(inp, list) and inp:
        inputs = [x if isinstance(x, str) else "" for x in inp]
    else:
        return api_error(400, "'input' is a required property", param="input")
    results = []
    for text in inputs:
        kill = re.search(r"\bkill\b", text, re.I) is not None
        scores = {}
        for i, c in enumerate(MOD_CATEGORIES):
            scores[c] = 0.9 if (kill and c == "violence") else (i + 1) * 1e-5
        results.append({
            "flagged": kill,
            "categories": {c: scores[c] >= 0.5 for c in MOD_CATEGORIES},
            "category_scores": scores,
            "category_applied_input_types": {c: ["text"] for c in MOD_CATEGORIES},
        })
    obj = {"id": "modr-test%d" % req.n,
           "model": j.get("model") or "omni-moderation-latest",
           "results": results}
    return json_response(obj, indent=2)


SPEECH_TYPES = {
    "mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac",
    "flac": "audio/flac", "wav": "audio/wav", "pcm": "audio/pcm",
}


def fake_audio(fmt, text, size):
    """size bytes of deterministic fake audio in format fmt."""
    seed = hashlib.sha256(text.encode()).digest()
    if fmt == "wav":
        # A real 44-byte RIFF header: 24 kHz mono 16-bit PCM, like the API.
        n = max(size - 44, 0)
        head = (b"RIFF" + struct.pack("<I", 36 + n) + b"WAVE" + b"fmt " +
                struct.pack("<IHHIIHH", 16, 1, 1, 24000, 48000, 2, 16) +
                b"data" + struct.pack("<I", n))
        return head + (seed * (n // len(seed) + 1))[:n]
    frame = {"mp3": b"\xff\xf3\x44\xc4", "opus": b"OggS", "flac": b"fLaC",
             "aac": b"\xff\xf1\x50\x80"}.get(fmt, b"") + seed
    return (frame * (size // len(frame) + 1))[:size]


def h_speech(req, spec):
    j, err = need_json(req)
    if err:
        return err
    text = j.get("input")
    if not isinstance(text, str) or not text:
        return api_error(400, "Missing required parameter: 'input'.",
                         param="input", code="missing_required_parameter")
    fmt = j.get("response_format") or "mp3"
    if fmt not in SPEECH_TYPES:
        return api_error(400, "Invalid value: '%s'. Supported values are: "
                         "'mp3', 'opus', 'aac', 'flac', 'wav', and 'pcm'."
                         % fmt, param="response_format",
                         code="invalid_value")
    size = spec.get("size")
    if not isinstance(size, int) or size < 0:
        size = 128 * len(text.encode())
    audio = fake_audio(fmt, text, size)
    if j.get("stream_format") == "sse":
        events = []
        for off in range(0, len(audio), 1024):
            events.append({"type": "speech.audio.delta",
                           "audio": base64.b64encode(audio[off:off + 1024]).decode()})
        words = count_words(text)
        events.append({"type": "speech.audio.done",
                       "usage": {"input_tokens": words,
                                 "output_tokens": len(events),
                                 "total_tokens": words + len(events)}})
        return sse_response(events, done=False, crlf=True)
    return Response(200, [("Content-Type", SPEECH_TYPES[fmt])], audio)


def h_transcribe(req, spec):
    if req.files is None:
        return api_error(400, "Expected multipart/form-data request body.")
    f = req.files.get("file")
    if f is None:
        return api_error(400, "Missing required parameter: 'file'.",
                         param="file", code="missing_required_parameter")
    form = req.form
    text = "fake transcript of %s (%d bytes)" % (f["filename"], f["size"])
    fmt = form.get("response_format") or "json"
    task = "translate" if req.path.endswith("translations") else "transcribe"
    words = text.split()
    plain = [("Content-Type", "text/plain; charset=utf-8")]

    if form.get("stream") == "true":
        events = [{"type": "transcript.text.delta", "delta": d}
                  for d in re.findall(r"\s*\S+", text)]
        events.append({"type": "transcript.text.done", "text": text,
                       "usage": {"type": "tokens", "input_tokens": 10,
                                 "input_token_details": {"text_tokens": 0,
                                                         "audio_tokens": 10},
                                 "output_tokens": len(words),
                                 "total_tokens": 10 + len(words)}})
        return sse_response(events, done=False, crlf=True)
    if fmt == "text":
        return Response(200, plain, (text + "\n").encode())
    if fmt == "srt":
        body = "1\n00:00:00,000 --> 00:00:02,000\n%s\n\n\n" % text
        return Response(200, plain, body.encode())
    if fmt == "vtt":
        body = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n%s\n\n" % text
        return Response(200, plain, body.encode())
    if fmt == "json":
        obj = {"text": text, "usage": {"type": "duration", "seconds": 2}}
        return Response(200, [("Content-Type", "application/json")],
                        json.dumps(obj, separators=(",", ":")).encode())
    if fmt == "verbose_json":
        obj = {"task": task, "language": "english", "duration": 2.0,
               "text": text,
               "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": 2.0,
                             "text": " " + text, "tokens": [50364, 50464],
                             "temperature": 0.0, "avg_logprob": -0.5,
                             "compression_ratio": 0.8,
                             "no_speech_prob": 0.002}],
               "usage": {"type": "duration", "seconds": 2}}
        gran = form.get("timestamp_granularities[]", [])
        if "word" in (gran if isinstance(gran, list) else [gran]):
            step = 2.0 / len(words)
            obj["words"] = [{"word": w, "start": round(i * step, 3),
                             "end": round((i + 1) * step, 3)}
                            for i, w in enumerate(words)]
        return Response(200, [("Content-Type", "application/json")],
                        json.dumps(obj, separators=(",", ":")).encode())
    return api_error(400, "Invalid value: '%s'. Supported values are: 'json', "
                     "'text', 'srt', 'verbose_json', and 'vtt'." % fmt,
                     param="response_format", code="invalid_value")


# ---------------------------------------------------------------- images
#
# /v1/images/generations (JSON), /edits and /variations (forms).  Images
# are small valid PNGs of the size asked (JPEG and WebP: the right magic
# bytes around the PNG), each of an answer different, the same for the
# same prompt; b64_json always for the GPT
# image models, else as response_format says (default url).  A url points
# back here, at /download/NAME?sig=..., which serves it once asked.
# dall-e-3 adds revised_prompt; the GPT image models add usage.  With
# stream (true, or "true" in a form) the answer is image_stream()'s.


_images = {}
_images_lock = threading.Lock()


def image_family(model):
    if model in ("dall-e-2", "dall-e-3"):
        return model
    if model.startswith("gpt-image") or model.startswith("chatgpt-image"):
        return "gpt"
    return "other"


def tiny_png(w, h, shade):
    def chunk(kind, data):
        c = kind + data
        return (struct.pack(">I", len(data)) + c +
                struct.pack(">I", zlib.crc32(c) & 0xffffffff))
    row = b"\x00" + bytes([shade & 255, (shade * 7) & 255, 200]) * w
    raw = zlib.compress(row * h, 6)
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def fake_image(size, fmt, shade):
    m = re.fullmatch(r"(\d+)x(\d+)", size or "")
    w, h = (int(m.group(1)), int(m.group(2))) if m else (1024, 1024)
    png = tiny_png(min(w, 4096), min(h, 4096), shade)
    if fmt == "jpeg":
        return b"\xff\xd8\xff\xe0" + png + b"\xff\xd9"
    if fmt == "webp":
        return b"RIFF" + struct.pack("<I", len(png) + 4) + b"WEBP" + png
    return png


IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg",
               "webp": "image/webp"}


def h_images(req, spec):
    kind = req.path.rsplit("/", 1)[1]
    if kind == "generations":
        params, err = need_json(req)
        if err:
            return err
        files = {}
    else:
        if req.files is None:
            return api_error(400, "Expected multipart/form-data request "
                             "body.")
        params, files = dict(req.form), req.files
        for k in ("n", "output_compression"):
            if k in params:
                try:
                    params[k] = int(params[k])
                except ValueError:
                    return api_error(400, "Invalid value for '%s'." % k,
                                     param=k)
    model = params.get("model") or "dall-e-2"
    fam = image_family(model)
    prompt = params.get("prompt")
    if kind != "variations" and not isinstance(prompt, str):
        return api_error(400, "Missing required parameter: 'prompt'.",
                         param="prompt", code="missing_required_parameter")
    images = files.get("image") or files.get("image[]")
    if kind != "generations" and not images:
        return api_error(400, "Missing required parameter: 'image'.",
                         param="image", code="missing_required_parameter")
    rf = params.get("response_format")
    if fam == "gpt" and rf is not None:
        return api_error(400, "Unknown parameter: 'response_format'.",
                         param="response_format", code="unknown_parameter")
    n = params.get("n", 1)
    if not isinstance(n, int) or not 1 <= n <= 10:
        return api_error(400, "Invalid 'n': must be between 1 and 10.",
                         param="n", code="invalid_value")
    fmt = params.get("output_format") or "png"
    b64 = fam in ("gpt", "other") and rf is None or rf == "b64_json"
    data = []
    for i in range(n):
        # the same request, the same image (tests compare runs)
        img = fake_image(params.get("size"), fmt,
                         zlib.crc32((prompt or "").encode()) + i * 16)
        item = {}
        if b64:
            item["b64_json"] = base64.b64encode(img).decode()
        else:
            name = "img_%d_%d.%s" % (req.n, i + 1, fmt)
            with _images_lock:
                _images[name] = (IMAGE_TYPES[fmt], img)
            item["url"] = "http://%s/download/%s?se=2099&sig=s3cr3t" % (
                req.headers.get("host", "127.0.0.1"), name)
        if fam == "dall-e-3":
            item["revised_prompt"] = "A revised: " + prompt
        data.append(item)
    body = {"created": CREATED, "data": data}
    if fam == "gpt":
        words = len((prompt or "").split())
        nimg = len(images) if isinstance(images, list) else int(bool(images))
        body.update({"background": params.get("background") or "opaque",
                     "output_format": fmt,
                     "size": params.get("size") or "1024x1024",
                     "quality": params.get("quality") or "medium",
                     "usage": {"input_tokens": words + 323 * nimg,
                               "input_tokens_details": {
                                   "image_tokens": 323 * nimg,
                                   "text_tokens": words},
                               "output_tokens": 1056 * n,
                               "total_tokens": words + 323 * nimg + 1056 * n}})
    if params.get("stream") in (True, "true"):
        return image_stream(kind, params, body, prompt)
    return json_response(body)


def image_stream(kind, params, body, prompt):
    """stream (GPT image models): for each image, partial_images events
    (a smaller image each, shaded by its index), then its completed event
    with the usage; each event named by its type, no [DONE], as the API's
    ImageGenStreamEvent / ImageEditStreamEvent."""
    if "usage" not in body:
        return api_error(400, "Streaming is not supported for this model.",
                         param="stream", code="invalid_value")
    try:
        partial = int(params.get("partial_images") or 0)
    except ValueError:
        partial = -1
    if not 0 <= partial <= 3:
        return api_error(400, "Invalid 'partial_images': must be between "
                         "0 and 3.", param="partial_images",
                         code="invalid_value")
    prefix = "image_generation" if kind == "generations" else "image_edit"
    fmt = body["output_format"]
    common = {"created_at": CREATED, "size": body["size"],
              "quality": body["quality"], "background": body["background"],
              "output_format": fmt}
    pieces = []
    for i, item in enumerate(body["data"]):
        evs = []
        for k in range(partial):
            img = fake_image("%dx%d" % (8 + k, 8 + k), fmt,
                             zlib.crc32((prompt or "").encode()) + i * 16 + k)
            evs.append(dict(type=prefix + ".partial_image",
                            b64_json=base64.b64encode(img).decode(),
                            partial_image_index=k, **common))
        evs.append(dict(type=prefix + ".completed", b64_json=item["b64_json"],
                        usage=body["usage"], **common))
        for ev in evs:
            pieces.append(("event: %s\ndata: %s\n\n" % (ev["type"], json.dumps(
                ev, separators=(",", ":")))).encode())
    return Response(200, [("Content-Type", "text/event-stream; charset=utf-8")],
                    b"".join(pieces), stream=True, pieces=pieces)


def h_image_download(req, spec):
    name = req.path[len("/download/"):]
    with _images_lock:
        got = _images.get(name)
    if got is None:
        return Response(404, [("Content-Type", "application/xml")],
                        b"<Error><Code>BlobNotFound</Code></Error>")
    return Response(200, [("Content-Type", got[0])], got[1])


IMAGE_ROUTES = [
    ("POST", r"/v1/images/generations", h_images),
    ("POST", r"/v1/images/edits", h_images),
    ("POST", r"/v1/images/variations", h_images),
    ("GET", r"/download/[A-Za-z0-9_.]+", h_image_download),
]


# (method, path regex, handler): first match wins.
ROUTES = [
    ("GET", r"/v1/models", h_models_list),
    ("GET", r"/v1/models/.+", h_model_get),
    ("POST", r"/v1/chat/completions", h_chat),
    ("POST", r"/v1/completions", h_completions),
    ("POST", r"/v1/embeddings", h_embeddings),
    ("POST", r"/v1/moderations", h_moderations),
    ("POST", r"/v1/audio/speech", h_speech),
    ("POST", r"/v1/audio/transcriptions", h_transcribe),
    ("POST", r"/v1/audio/translations", h_transcribe),
] + IMAGE_ROUTES


# ---------------------------------------------------------------- files
# and batches (issue 12).  Files live in memory until /_ctl/reset.  A
# batch moves one state further on each GET of it (validating ->
# in_progress -> finalizing -> completed); the spec that answers its
# POST /v1/batches may hold "batch": {...} with
#     steps         GETs spent in each state (default 1)
#     outcome       "completed" (default), "failed", "expired"
#     errors        [{line, code, message, param}]: fail validation with
#                   these (in addition to what the server finds itself)
#     done          expired or cancelled: how many requests completed
#                   before (default half, rounded down)
#     fail          [N, ...]: request lines N (from 1) are answered 400
#                   (error file), whatever their url's handler would say
#     seed          of the shuffle of the output file (default 1)
#     retry_after   N: every GET of the batch says Retry-After: N
#     answer        spec fields for the answer to every request line, as
#                   a queued spec has them (bench/batch.sh: the
#                   fixed_embedding of the embeddings handler)
#     answer_body   JSON text on one line: the body of every request
#                   line's answer (200), verbatim, its numbers' text kept
#                   (tests/batch-floats.bats: float arrays as a server
#                   writes them, past what a Python float prints)
# Every request line is answered by the default handler of its url, so
# results are those the endpoint itself would give; non-2xx answers go
# to the error file.  Output lines come in a shuffled (seeded) order.

import random

FILES = {}      # id -> {"meta": OpenAIFile, "data": bytes}
BATCHES = {}    # id -> {"obj": Batch, "cfg": spec's "batch", "gets": n}
STORE = {"files": 0, "batches": 0, "lock": threading.RLock()}
FILE_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data",
                 "evals", "batch_output")
BATCH_ENDPOINTS = ("/v1/responses", "/v1/chat/completions", "/v1/embeddings",
                   "/v1/completions", "/v1/moderations")


def store_reset():
    with STORE["lock"]:
        FILES.clear()
        BATCHES.clear()
        STORE["files"] = STORE["batches"] = 0


def new_file(data, filename, purpose):
    with STORE["lock"]:
        STORE["files"] += 1
        n = STORE["files"]
    fid = "file-test%d" % n
    meta = {"object": "file", "id": fid, "purpose": purpose,
            "filename": filename, "bytes": len(data),
            "created_at": CREATED + n, "expires_at": None,
            "status": "processed", "status_details": None}
    FILES[fid] = {"meta": meta, "data": data}
    return meta


def no_such(kind, oid, param="id"):
    return api_error(404, "No such %s object: %s" % (kind, oid), param=param)


def page(req, items, key):
    """A list answer with limit, after and order=desc|asc (by creation)."""
    q = urllib.parse.parse_qs(req.query)
    items = sorted(items, key=lambda o: o[key],
                   reverse=q.get("order", ["desc"])[0] != "asc")
    if "after" in q:
        ids = [o["id"] for o in items]
        if q["after"][0] in ids:
            items = items[ids.index(q["after"][0]) + 1:]
    limit = int(q.get("limit", ["10000"])[0])
    more = len(items) > limit
    items = items[:limit]
    return json_response({"object": "list", "data": items,
                          "first_id": items[0]["id"] if items else None,
                          "last_id": items[-1]["id"] if items else None,
                          "has_more": more}, indent=2)


def h_file_upload(req, spec):
    if req.files is None:
        return api_error(400, "Expected multipart/form-data request body.")
    f = req.files.get("file")
    if f is None:
        return api_error(400, "Missing required parameter: 'file'.",
                         param="file", code="missing_required_parameter")
    purpose = req.form.get("purpose")
    if purpose not in FILE_PURPOSES[:-1]:
        return api_error(400, "'%s' is not one of %s - 'purpose'" % (
            purpose, list(FILE_PURPOSES[:-1])), param="purpose")
    return json_response(new_file(f["data"], f["filename"], purpose),
                         indent=2)


def h_files_list(req, spec):
    q = urllib.parse.parse_qs(req.query)
    items = [f["meta"] for f in FILES.values()
             if "purpose" not in q or f["meta"]["purpose"] == q["purpose"][0]]
    return page(req, items, "created_at")


def file_of(req):
    fid = urllib.parse.unquote(req.path.split("/")[3])
    return fid, FILES.get(fid)


def h_file_get(req, spec):
    fid, f = file_of(req)
    return json_response(f["meta"], indent=2) if f else no_such("File", fid)


def h_file_content(req, spec):
    fid, f = file_of(req)
    if not f:
        return no_such("File", fid)
    return Response(200, [("Content-Type", "application/octet-stream")],
                    f["data"])


def h_file_delete(req, spec):
    fid, f = file_of(req)
    if not f:
        return no_such("File", fid)
    del FILES[fid]
    return json_response({"object": "file", "deleted": True, "id": fid},
                         indent=2)


def batch_check(data, endpoint):
    """The service's validation of an input file: [BatchError]."""
    errors, seen = [], set()
    for i, line in enumerate(data.decode("utf-8", "replace").split("\n")):
        if not line.strip():
            continue

        def bad(code, message, param=None):
            errors.append({"code": code, "message": message,
                           "param": param, "line": i + 1})
        try:
            r = json.loads(line)
        except ValueError:
            bad("invalid_json_line", "This line is not parseable as valid "
                "JSON.")
            continue
        if not isinstance(r, dict):
            bad("invalid_request", "The request must be a JSON object.")
        elif r.get("url") != endpoint:
            bad("mismatched_endpoint", "The URL provided for this request "
                "does not match the batch endpoint.", "url")
        elif r.get("custom_id") in seen:
            bad("duplicate_custom_id", "The custom_id for this request is "
                "a duplicate of another request.", "custom_id")
        elif not isinstance(r.get("body"), dict):
            bad("invalid_request", "The body of this request is not an "
                "object.", "body")
        else:
            seen.add(r.get("custom_id"))
    return errors


# answer_body's place in an output line, until the line is text
ANSWER_BODY = "\0answer_body"


def batch_results(b, lines, upto):
    """Output and error lines for the first upto requests; the rest
    expired or were cancelled (error file, no response)."""
    out, err = [], []
    for i, r in enumerate(lines):
        line = {"id": "batch_req_test%d" % (i + 1),
                "custom_id": r.get("custom_id"), "response": None,
                "error": None}
        if i >= upto:
            line["error"] = {
                "code": "batch_expired" if b["obj"]["status"] != "cancelled"
                else "batch_cancelled",
                "message": "This request could not be executed before the "
                "completion window expired." if b["obj"]["status"] !=
                "cancelled" else "This request was cancelled."}
            err.append(line)
            continue
        if i + 1 in b["cfg"].get("fail", []):
            line["response"] = {"status_code": 400, "request_id":
                                "req_batch_test%d" % (i + 1), "body": {
                                    "error": {"message": "Refused here.",
                                              "type": "invalid_request_error",
                                              "param": None, "code": None}}}
            err.append(line)
            continue
        if "answer_body" in b["cfg"]:
            line["response"] = {"status_code": 200, "request_id":
                                "req_batch_test%d" % (i + 1),
                                "body": ANSWER_BODY}
            out.append(line)
            continue
        body = json.dumps(r["body"]).encode()
        sub = Request(0, "POST", r["url"], "", {"content-type":
                      "application/json"}, body)
        resp = default_response(sub, b["cfg"].get("answer") or {})
        try:
            rbody = json.loads(resp.body.decode())
        except ValueError:
            rbody = resp.body.decode("utf-8", "replace")
        line["response"] = {"status_code": resp.status,
                            "request_id": "req_batch_test%d" % (i + 1),
                            "body": rbody}
        (out if resp.status < 300 else err).append(line)
    rnd = random.Random(b["cfg"].get("seed", 1))
    rnd.shuffle(out)
    rnd.shuffle(err)
    return out, err


def batch_finish(b, status, upto=None):
    """Enter a final state (or finalizing), with its files."""
    o, now = b["obj"], int(time.time())
    lines = [json.loads(x) for x in
             FILES[o["input_file_id"]]["data"].decode().split("\n") if x.strip()]
    if upto is None:
        upto = len(lines)
    o["status"] = status
    o[status + "_at"] = now
    out, err = batch_results(b, lines, upto)
    for kind, rows in (("output", out), ("error", err)):
        if rows:
            data = "".join(json.dumps(x) + "\n" for x in rows)
            if "answer_body" in b["cfg"]:
                data = data.replace(json.dumps(ANSWER_BODY),
                                    b["cfg"]["answer_body"])
            data = data.encode()
            meta = new_file(data, "%s_%s.jsonl" % (o["id"], kind),
                            "batch_output")
            o[kind + "_file_id"] = meta["id"]
    failed = sum(1 for x in err if x.get("response"))
    o["request_counts"] = {"total": len(lines), "completed": len(out),
                           "failed": failed if status != "expired" and
                           status != "cancelled" else len(err)}


def batch_advance(b):
    o, cfg = b["obj"], b["cfg"]
    b["gets"] += 1
    if b["gets"] % max(int(cfg.get("steps", 1)), 1):
        return
    st, now = o["status"], int(time.time())
    total = o["request_counts"]["total"]
    if st == "validating":
        if cfg.get("outcome") == "failed" or b["errors"]:
            o["status"], o["failed_at"] = "failed", now
            o["errors"] = {"object": "list", "data": b["errors"]}
        else:
            o["status"], o["in_progress_at"] = "in_progress", now
    elif st == "in_progress" and cfg.get("outcome") == "expired":
        o["expired_at"] = now
        batch_finish(b, "expired", cfg.get("done", total // 2))
    elif st == "in_progress":
        o["status"], o["finalizing_at"] = "finalizing", now
        o["request_counts"]["completed"] = total
    elif st == "finalizing":
        batch_finish(b, "completed")
    elif st == "cancelling":
        batch_finish(b, "cancelled", cfg.get("done", total // 2))


def h_batch_create(req, spec):
    j, err = need_json(req)
    if err:
        return err
    fid, endpoint = j.get("input_file_id"), j.get("endpoint")
    if endpoint not in BATCH_ENDPOINTS:
        return api_error(400, "Invalid value: '%s'. Supported values are: "
                         "%s." % (endpoint, ", ".join(
                             "'%s'" % e for e in BATCH_ENDPOINTS)),
                         param="endpoint", code="invalid_value")
    if j.get("completion_window") != "24h":
        return api_error(400, "Invalid value for 'completion_window'.",
                         param="completion_window", code="invalid_value")
    f = FILES.get(fid)
    if not f:
        return no_such("File", fid, "input_file_id")
    if f["meta"]["purpose"] != "batch":
        return api_error(400, "The input file must have purpose 'batch'.",
                         param="input_file_id")
    cfg = spec.get("batch") or {}
    with STORE["lock"]:
        STORE["batches"] += 1
        n = STORE["batches"]
    errors = batch_check(f["data"], endpoint) + list(cfg.get("errors", []))
    total = sum(1 for x in f["data"].split(b"\n") if x.strip())
    obj = {"id": "batch_test%d" % n, "object": "batch", "endpoint": endpoint,
           "model": None, "errors": None, "input_file_id": fid,
           "completion_window": "24h", "status": "validating",
           "output_file_id": None, "error_file_id": None,
           "created_at": CREATED + n, "in_progress_at": None,
           "expires_at": CREATED + n + 86400, "finalizing_at": None,
           "completed_at": None, "failed_at": None, "expired_at": None,
           "cancelling_at": None, "cancelled_at": None,
           "request_counts": {"total": 0 if errors else total,
                              "completed": 0, "failed": 0},
           "metadata": j.get("metadata")}
    BATCHES[obj["id"]] = {"obj": obj, "cfg": cfg, "gets": 0,
                          "errors": errors}
    return json_response(obj, indent=2)


def batch_of(req):
    bid = urllib.parse.unquote(req.path.split("/")[3])
    return bid, BATCHES.get(bid)


def h_batch_get(req, spec):
    bid, b = batch_of(req)
    if not b:
        return no_such("Batch", bid)
    with STORE["lock"]:
        resp = json_response(b["obj"], indent=2)
        batch_advance(b)
    if b["cfg"].get("retry_after") is not None:
        resp.set_header("Retry-After", b["cfg"]["retry_after"])
    return resp


def h_batches_list(req, spec):
    return page(req, [b["obj"] for b in BATCHES.values()], "created_at")


def h_batch_cancel(req, spec):
    bid, b = batch_of(req)
    if not b:
        return no_such("Batch", bid)
    o = b["obj"]
    if o["status"] not in ("validating", "in_progress", "finalizing"):
        return api_error(400, "Cannot cancel a batch with status '%s'."
                         % o["status"], code="invalid_request")
    o["status"], o["cancelling_at"] = "cancelling", int(time.time())
    b["gets"] = 0
    return json_response(o, indent=2)


ROUTES += [
    ("POST", r"/v1/files", h_file_upload),
    ("GET", r"/v1/files", h_files_list),
    ("GET", r"/v1/files/[^/]+", h_file_get),
    ("DELETE", r"/v1/files/[^/]+", h_file_delete),
    ("GET", r"/v1/files/[^/]+/content", h_file_content),
    ("POST", r"/v1/batches", h_batch_create),
    ("GET", r"/v1/batches", h_batches_list),
    ("GET", r"/v1/batches/[^/]+", h_batch_get),
    ("POST", r"/v1/batches/[^/]+/cancel", h_batch_cancel),
]


def default_response(req, spec):
    for method, pattern, fn in ROUTES:
        if method == req.method and re.fullmatch(pattern, req.path):
            return fn(req, spec)
    return api_error(404, "Invalid URL (%s %s)" % (req.method, req.path))


# ---------------------------------------------------------------- specs

BODY_KEYS = ("body", "body_b64", "json", "bad_json", "sse", "cassette")


def spec_response(req, spec):
    """Build the Response for a request from its spec ({} if none).

    x-request-id goes in before the spec's headers, so a spec can drop it.
    """
    if "cassette" in spec:
        with open(os.path.join(cassette_dir(spec["cassette"]),
                               "response.http"), "rb") as f:
            return Response(raw=f.read())
    if "sse" in spec:
        resp = sse_response(spec["sse"], done=bool(spec.get("sse_done")),
                            crlf=bool(spec.get("crlf")))
    elif "json" in spec:
        resp = json_response(spec["json"])
    elif spec.get("bad_json"):
        resp = Response(200, [("Content-Type", "application/json")],
                        b'{"error": ')
    elif "body" in spec:
        resp = Response(200, [("Content-Type", "text/plain; charset=utf-8")],
                        str(spec["body"]).encode())
    elif "body_b64" in spec:
        resp = Response(200, [("Content-Type", "application/octet-stream")],
                        base64.b64decode(spec["body_b64"]))
    else:
        resp = default_response(req, spec)
    resp.set_header("x-request-id", "req_test_%d" % req.n)
    if "status" in spec:
        resp.status = int(spec["status"])
    for k, v in (spec.get("headers") or {}).items():
        resp.set_header(k, v)
    return resp


def split_pieces(body, spec, default):
    """The list of body writes asked for by chunk/chunks, else default."""
    if spec.get("chunks"):
        out, off = [], 0
        for n in spec["chunks"]:
            out.append(body[off:off + int(n)])
            off += int(n)
        if off < len(body):
            out.append(body[off:])
        return [p for p in out if p]
    if spec.get("chunk"):
        n = max(int(spec["chunk"]), 1)
        return [body[i:i + n] for i in range(0, len(body), n)]
    return [p for p in default if p]


class State:
    """Queue and request log, shared by all handler threads."""

    def __init__(self, directory):
        self.dir = directory
        self.lock = threading.Lock()
        self.queue = []
        self.n = 0
        self.inflight = self.max_inflight = 0
        self.reqlog = os.path.join(directory, "requests.jsonl")
        open(self.reqlog, "w").close()

    def reset(self):
        store_reset()  # files and batches
        with self.lock:
            self.queue = []
            self.n = 0
            self.max_inflight = self.inflight
            open(self.reqlog, "w").close()

    def record(self, method, path, query, headers, body, form, files,
               client_port=None):
        """Number and log a request; the log line is written before the
        response so a test sees it as soon as the client returns."""
        with self.lock:
            self.n += 1
            entry = {"n": self.n, "t": time.time(), "method": method,
                     "path": path, "query": query, "headers": headers,
                     "client_port": client_port}
            try:
                entry["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                entry["body"] = None
            entry["body_b64"] = base64.b64encode(body).decode()
            entry["body_size"] = len(body)
            entry["body_sha256"] = hashlib.sha256(body).hexdigest()
            if form is not None:
                entry["form"] = form
                keep = ("filename", "content_type", "size", "sha256")
                entry["files"] = {
                    k: [{x: f[x] for x in keep} for f in v]
                    if isinstance(v, list) else {x: v[x] for x in keep}
                    for k, v in files.items()}
            with open(self.reqlog, "a") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
            return self.n

    def busy(self, k):
        with self.lock:
            self.inflight += k
            self.max_inflight = max(self.max_inflight, self.inflight)

    def pop(self, method, path, body=b""):
        with self.lock:
            for i, spec in enumerate(self.queue):
                if spec.get("path", path) != path:
                    continue
                if "match" in spec and \
                        spec["match"].encode() not in body:
                    continue
                if spec.get("method", method).upper() != method:
                    continue
                left = int(spec.get("repeat", 1)) - 1
                if left > 0:
                    self.queue[i] = dict(spec, repeat=left)
                    if "close_after_step" in spec:
                        self.queue[i]["close_after"] = (
                            int(spec.get("close_after", 0)) +
                            int(spec["close_after_step"]))
                else:
                    del self.queue[i]
                return spec
            return {}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and 100-continue support
    server_version = "oai-test-server"
    # TCP_NODELAY: a write that follows a small one (a piece after the
    # headers, the next event) goes at once, not after the client's
    # delayed ACK (~40 ms on Linux) of a reused connection
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        self.server.log("%s %s" % (self.address_string(), fmt % args))

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            out = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("EOF in chunked body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # Trailers, up to the empty line.
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(out)
                out.append(self.rfile.read(size))
                self.rfile.readline(65537)  # CRLF after the chunk data
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def handle_one(self):
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, url.query
        method = self.command
        try:
            body = self.read_body()
        except (ValueError, ConnectionError) as e:
            self.server.log("bad request body: %s" % e)
            self.close_connection = True
            return
        if path.startswith("/_ctl/"):
            return self.control(method, path, body)

        headers = {}
        for k, v in self.headers.items():
            k = k.lower()
            headers[k] = headers[k] + ", " + v if k in headers else v
        form = files = None
        ctype, params = header_params(headers.get("content-type", ""))
        if ctype == "multipart/form-data" and params.get("boundary"):
            form, files = parse_multipart(body, params["boundary"])
        n = self.server.state.record(method, path, query, headers, body,
                                     form, files, self.client_address[1])
        req = Request(n, method, path, query, headers, body)
        req.form, req.files = form, files
        spec = self.server.state.pop(method, path, body)
        try:
            resp = spec_response(req, spec)
        except Exception as e:  # a bad spec must not hang the client
            self.server.log("spec error: %r" % e)
            resp = api_error(500, "test server: %s" % e, "server_error")
            resp.set_header("x-request-id", "req_test_%d" % n)
        self.server.state.busy(1)
        try:
            self.send(resp, spec)
        finally:
            self.server.state.busy(-1)

    def control(self, method, path, body):
        state = self.server.state
        if path == "/_ctl/health" and method == "GET":
            resp = json_response({"ok": True})
        elif path == "/_ctl/reset" and method == "POST":
            state.reset()
            resp = json_response({"ok": True})
        elif path == "/_ctl/stats" and method == "GET":
            with state.lock:
                resp = json_response({"inflight": state.inflight,
                                      "max_inflight": state.max_inflight})
        elif path == "/_ctl/queue" and method == "GET":
            with state.lock:
                resp = json_response(state.queue)
        elif path == "/_ctl/queue" and method == "POST":
            try:
                specs = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                specs, msg = None, "invalid JSON: %s" % e
            else:
                msg = "spec must be a JSON object or an array of objects"
            if isinstance(specs, dict):
                specs = [specs]
            if isinstance(specs, list) and all(isinstance(s, dict) for s in specs):
                with state.lock:
                    state.queue.extend(specs)
                    resp = json_response({"ok": True, "queued": len(state.queue)})
            else:
                resp = api_error(400, msg)
        else:
            resp = api_error(404, "no control endpoint %s %s" % (method, path))
        resp.set_header("x-request-id", "req_test_ctl")
        self.send(resp, {})

    def send(self, resp, spec):
        self.server.log('"%s" %s%s' % (
            self.requestline,
            resp.status if resp.raw is None else "cassette",
            " spec=" + json.dumps(spec)[:200] if spec else ""))
        if spec.get("delay_ms_max"):
            time.sleep(random.uniform(spec.get("delay_ms", 0),
                                      spec["delay_ms_max"]) / 1000)
        elif spec.get("delay_ms"):
            time.sleep(spec["delay_ms"] / 1000)
        if resp.raw is not None:
            # Cassette: one byte stream, headers included; it says
            # Connection: close, so the connection ends with it.
            head, body = b"", resp.raw
            hlen = body.find(b"\r\n\r\n") + 4
            stall_at = hlen + int(spec.get("stall_after", 0))
            pieces = split_pieces(body, spec, [body])
            framing = "close"
        else:
            framing = spec.get("framing") or ("chunked" if resp.stream else "length")
            if framing == "chunked" and self.request_version < "HTTP/1.1":
                framing = "close"
            for name in ("Content-Length", "Transfer-Encoding", "Connection"):
                resp.set_header(name, None)
            if framing == "length":
                resp.set_header("Content-Length", len(resp.body))
            elif framing == "chunked":
                resp.set_header("Transfer-Encoding", "chunked")
            else:
                resp.set_header("Connection", "close")
            reason = HTTP_REASONS.get(resp.status, ("Unknown",))[0]
            lines = ["HTTP/1.1 %d %s" % (resp.status, reason)]
            lines += ["%s: %s" % kv for kv in resp.headers]
            head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
            body = resp.body
            stall_at = int(spec.get("stall_after", 0))
            pieces = split_pieces(body, spec, resp.pieces or [body])

        # close_after cuts the byte stream; stall_at splits a piece so the
        # pause falls exactly there.
        cut = "close_after" in spec
        limit = int(spec["close_after"]) if cut else len(body)
        plan, off = [], 0
        for p in pieces:
            p = p[:max(limit - off, 0)]
            if off < stall_at < off + len(p):
                plan += [p[:stall_at - off], p[stall_at - off:]]
            else:
                plan.append(p)
            off += len(p)
        plan = [p for p in plan if p]
        stall = spec.get("stall_ms", 0) / 1000
        delay = spec.get("chunk_delay_ms", 0) / 1000

        try:
            # The headers go with the first piece (a whole body: one
            # write), unless a stall falls between them.
            if stall and stall_at == 0 or not plan:
                self.wfile.write(head)
                head = b""
            off = 0
            if stall and stall_at == 0:
                time.sleep(stall)
            for i, p in enumerate(plan):
                if i and delay:
                    time.sleep(delay)
                if framing == "chunked":
                    self.wfile.write(head + b"%x\r\n%s\r\n" % (len(p), p))
                else:
                    self.wfile.write(head + p)
                head = b""
                off += len(p)
                if stall and off == stall_at:
                    time.sleep(stall)
            if framing == "chunked" and not cut:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError) as e:
            self.server.log("client went away: %s" % e)
            cut = True
        if cut or framing == "close":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_one


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, directory):
        self.logf = open(os.path.join(directory, "server.log"), "a",
                         buffering=1)
        self.loglock = threading.Lock()
        self.state = State(directory)
        super().__init__(("127.0.0.1", 0), Handler)

    def log(self, msg):
        with self.loglock:
            self.logf.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))

    def handle_error(self, request, client_address):
        import traceback
        self.log("error from %s:\n%s" % (client_address,
                                        traceback.format_exc()))


def main():
    global CASSETTES
    ap = argparse.ArgumentParser(description="fake OpenAI API for tests")
    ap.add_argument("--dir", required=True, help="state and log directory")
    ap.add_argument("--cassettes", help="cassettes directory")
    args = ap.parse_args()
    CASSETTES = args.cassettes or os.environ.get("OAI_CASSETTES") or CASSETTES

    os.makedirs(args.dir, exist_ok=True)
    srv = Server(args.dir)

    def stop(signum, frame):
        raise SystemExit(0)  # unwinds serve_forever in the main thread
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    # The socket listens already: publish the port atomically.
    port = srv.server_address[1]
    tmp = os.path.join(args.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, os.path.join(args.dir, "port"))
    srv.log("listening on 127.0.0.1:%d pid %d" % (port, os.getpid()))
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.log("stopping")
        srv.server_close()


if __name__ == "__main__":
    sys.exit(main())
