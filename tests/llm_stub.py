"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests, with scripted faults.

Each request pops the next behaviour from ``server.script`` (or uses ``server.default``):
  ("stream", text)              normal SSE stream of ``text`` split into words
  ("cut", text, n)              send n words, then drop the connection (no [DONE])
  ("status", code, headers)     reply with an HTTP error status and JSON error body
  ("stall", seconds)            sleep before sending headers
  ("filter", text)              stream text then finish_reason=content_filter
Every request body is recorded in ``server.requests``. For ordering without sleeps: ``received``
is set when a request has arrived (recorded), ``disconnected`` when a client dropped a stream, and
a stream waits for ``gate`` (when it is an Event) after its headers, before its first word.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def bag_of_words(text: str, dim: int = 256) -> list[float]:
    """A deterministic stand-in embedding: hashed word counts, L2-normalised."""
    import hashlib
    import math
    import re

    v = [0.0] * dim
    for w in re.findall(r"[a-z]{3,}", text.lower()):
        v[int(hashlib.md5(w[:6].encode()).hexdigest(), 16) % dim] += 1.0
    n = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / n for x in v]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "StubServer"

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        with self.server.lock:
            self.server.requests.append({"path": self.path, "body": body,
                                         "auth": self.headers.get("authorization")})
            behaviour = self.server.script.pop(0) if self.server.script else self.server.default
        self.server.received.set()
        kind = behaviour[0]
        if kind == "stall":
            time.sleep(behaviour[1])
            behaviour = ("stream", "late answer [1]")
            kind = "stream"
        if kind == "status":
            code, headers = behaviour[1], behaviour[2] if len(behaviour) > 2 else {}
            payload = json.dumps({"error": {"message": f"stub error {code}", "type": "stub",
                                            "code": str(code)}}).encode()
            self.send_response(code)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if self.path.endswith("/embeddings"):
            self._json({"object": "list", "model": body.get("model"),
                        "data": [{"object": "embedding", "index": i, "embedding": bag_of_words(t)}
                                 for i, t in enumerate(body.get("input", []))],
                        "usage": {"prompt_tokens": 1, "total_tokens": 1}})
            return
        words = behaviour[1].split(" ")
        cut = behaviour[2] if kind == "cut" else None
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        if self.server.gate is not None:
            self.server.gate.wait(60)
        try:
            for i, w in enumerate(words):
                if cut is not None and i >= cut:
                    self.wfile.flush()
                    self.connection.shutdown(2)  # drop mid-stream
                    return
                self._event({"content": (w if i == 0 else " " + w)})
                time.sleep(self.server.token_delay)
            finish = "content_filter" if kind == "filter" else "stop"
            self._event({}, finish=finish)
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.server.disconnects += 1
            self.server.disconnected.set()

    def _event(self, delta: dict[str, Any], finish: str | None = None) -> None:
        chunk = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 0,
                 "model": "stub-model",
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.flush()

    def _json(self, obj: Any) -> None:
        payload = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.script: list[tuple] = []
        self.default: tuple = ("stream", "Hello [1]")
        self.token_delay = 0.0
        self.disconnects = 0
        self.received = threading.Event()
        self.disconnected = threading.Event()
        self.gate: threading.Event | None = None
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def start(self) -> "StubServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


if __name__ == "__main__":  # run standalone for manual/browser testing
    import sys

    s = StubServer()
    s.default = ("stream", sys.argv[1] if len(sys.argv) > 1 else "Apps must pay you [1].")
    s.start()
    print(s.base_url, flush=True)
    threading.Event().wait()
