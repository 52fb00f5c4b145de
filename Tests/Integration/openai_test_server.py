"""An OpenAI-compatible chat-completions server for tests, with scripted misbehaviour.

The scenario is the first path segment: `AI_API_URL=http://127.0.0.1:PORT/<scenario>/v1`, so the
client under test posts to `/<scenario>/v1/chat/completions`. Every request is recorded and served back
by `GET /_requests` (path, authorization header, JSON body, arrival time), so tests can assert on what
the client actually sent.

Replies are derived from the request: "You said: <last user message>" (streamed word by word), so a
test can tell which request a reply answers.

Run as a program it prints its port on the first line of stdout and serves until stdin closes or it
is terminated; tests in Python can also `start()` it in a thread.
"""
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_KEY = "test-key"
SCENARIOS = {
    "plain": "a whole JSON completion (stream requested but ignored)",
    "stream": "server-sent events, one word per event, 50 ms apart",
    "stream-200": "a 200-piece reply (\"w0 w1 ... w199 \"), one piece per event, 2 ms apart",
    "stream-quirks": "events with comments, CRLF, id/event fields, a usage chunk, every byte sent on its own",
    "slow": "waits 5 s before the response head",
    "stall": "sends the head and one event, then goes silent for 5 s",
    "fail-once-500": "500 on the first request to this path, then a stream",
    "always-503": "503 every time",
    "retry-after-1": "429 with Retry-After: 1 on the first request, then a stream",
    "retry-after-3600": "429 with Retry-After: 3600 every time",
    "malformed": "one good event, then an event whose data is not JSON",
    "cutoff": "two events, then the connection closes mid-body (no terminating chunk)",
    "no-done": "a well-formed body that ends without [DONE] or a finish_reason",
    "error-event": "an error object inside the event stream",
}


def reply_text(body):
    last = next((m.get("content", "") for m in reversed(body.get("messages", [])) if m.get("role") == "user"), "")
    return f"You said: {last}"


def chunk(content=None, finish=None, **extra):
    delta = {} if content is None else {"content": content}
    return {"id": "chatcmpl-test", "object": "chat.completion.chunk", "model": "test",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}


def events_for(text):
    """The events of a well-behaved stream of `text`: role, one word per event, finish, [DONE]."""
    words = text.split(" ")
    pieces = [w if i == 0 else " " + w for i, w in enumerate(words)]
    yield {"id": "chatcmpl-test", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
    for piece in pieces:
        yield chunk(piece)
    yield chunk(finish="stop")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/_requests":
            with self.server.lock:
                payload = json.dumps(self.server.received).encode()
            self._send(200, payload)
        else:
            self._send(404, b'{"error":{"message":"not found"}}')

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        parts = self.path.strip("/").split("/")
        scenario = parts[0] if parts else ""
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        with self.server.lock:
            self.server.received.append({"path": self.path, "authorization": self.headers.get("Authorization"),
                                         "body": body, "time": time.monotonic()})
            count = sum(1 for r in self.server.received if r["path"] == self.path)
        if parts[1:] != ["v1", "chat", "completions"] or scenario not in SCENARIOS:
            return self._error(404, f"unknown scenario path {self.path}; known: {sorted(SCENARIOS)}")
        if self.headers.get("Authorization") != f"Bearer {API_KEY}":
            return self._error(401, "Invalid API Key")
        if body is None:
            return self._error(400, "body is not JSON")
        getattr(self, "scenario_" + scenario.replace("-", "_"))(body, count)

    # Scenarios

    def scenario_plain(self, body, count):
        completion = {"id": "chatcmpl-test", "object": "chat.completion",
                      "choices": [{"index": 0, "message": {"role": "assistant", "content": reply_text(body)},
                                   "finish_reason": "stop"}]}
        self._send(200, json.dumps(completion).encode())

    def scenario_stream(self, body, count):
        self._stream(body, delay=0.05)

    def scenario_stream_200(self, body, count):
        self._start_stream()
        for index in range(200):
            self._event(chunk(f"w{index} "))
            time.sleep(0.002)
        self._event(chunk(finish="stop"))
        self._chunk(b"data: [DONE]\n\n")
        self._end_chunks()

    def scenario_stream_quirks(self, body, count):
        self._start_stream()
        frames = [b": keep-alive comment\r\n\r\n", b"retry: 3000\r\n"]
        for index, event in enumerate(events_for(reply_text(body))):
            frames.append(b"id: %d\r\nevent: message\r\ndata:%s\r\n\r\n" % (index, json.dumps(event, ensure_ascii=False).encode()))
        frames.append(b'data: {"id":"chatcmpl-test","choices":[],"usage":{"total_tokens":12}}\r\n\r\n')
        frames.append(b"data: [DONE]\r\n\r\n")
        for byte in b"".join(frames):
            self._chunk(bytes([byte]))
        self._end_chunks()

    def scenario_slow(self, body, count):
        time.sleep(5)
        self._stream(body)

    def scenario_stall(self, body, count):
        self._start_stream()
        self._event(chunk("Thinking"))
        time.sleep(5)
        self._event(chunk(finish="stop"))
        self._chunk(b"data: [DONE]\n\n")
        self._end_chunks()

    def scenario_fail_once_500(self, body, count):
        if count == 1:
            return self._error(500, "Internal server error")
        self._stream(body)

    def scenario_always_503(self, body, count):
        self._error(503, "Service unavailable")

    def scenario_retry_after_1(self, body, count):
        if count == 1:
            return self._error(429, "Rate limit reached", headers={"Retry-After": "1"})
        self._stream(body)

    def scenario_retry_after_3600(self, body, count):
        self._error(429, "Rate limit reached", headers={"Retry-After": "3600"})

    def scenario_malformed(self, body, count):
        self._start_stream()
        self._event(chunk("Hello"))
        self._chunk(b'data: {"choices": [{"delta": {"content": "broken\n\n')
        self._chunk(b"data: [DONE]\n\n")
        self._end_chunks()

    def scenario_cutoff(self, body, count):
        self._start_stream()
        self._event(chunk("Hello"))
        self._event(chunk(" there"))
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def scenario_no_done(self, body, count):
        self._start_stream()
        self._event(chunk("Hello"))
        self._event(chunk(" there"))
        self._end_chunks()

    def scenario_error_event(self, body, count):
        self._start_stream()
        self._event(chunk("Hel"))
        self._event({"error": {"message": "The model is overloaded", "type": "server_error"}})
        self._end_chunks()

    # Wire helpers

    def _send(self, status, payload, content_type="application/json", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status, message, headers=None):
        self._send(status, json.dumps({"error": {"message": message, "type": "test_error"}}).encode(), headers=headers)

    def _start_stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.flush()

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end_chunks(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _event(self, payload):
        self._chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def _stream(self, body, delay=0.0):
        self._start_stream()
        for event in events_for(reply_text(body)):
            self._event(event)
            time.sleep(delay)
        self._chunk(b"data: [DONE]\n\n")
        self._end_chunks()


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address=("127.0.0.1", 0)):
        super().__init__(address, Handler)
        self.lock = threading.Lock()
        self.received = []

    @property
    def port(self):
        return self.server_address[1]

    def base_url(self, scenario):
        return f"http://127.0.0.1:{self.port}/{scenario}/v1"

    def requests(self, scenario=None):
        with self.lock:
            return [r for r in self.received if scenario is None or r["path"].startswith(f"/{scenario}/")]


def start():
    """A running server on a free loopback port, served from a daemon thread; call `shutdown()` after."""
    server = Server()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    server = start()
    print(server.port, flush=True)
    sys.stdin.read()
    server.shutdown()
