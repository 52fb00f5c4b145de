"""A minimal Lambda Runtime API (2018-06-01) in the standard library, to drive `bootstrap` in tests
independently of local-runtime's own emulator: it hands out queued events and records what the
runtime reports."""
import json
import queue
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RuntimeAPI:
    def __init__(self):
        self.events = queue.Queue()
        self.results = {}
        self.init_error = None
        self.requests = []
        self._done = {}
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status, body=b"", headers=None):
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                api.requests.append(("GET", self.path, dict(self.headers)))
                if self.path != "/2018-06-01/runtime/invocation/next":
                    return self._reply(404)
                request_id, payload, status = api.events.get()
                if status != 200:
                    return self._reply(status, b'{"errorType":"ServiceException"}')
                self._reply(200, payload, {
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": "99999999999999",
                    "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:000000000000:function:test",
                    "Lambda-Runtime-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                })

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                api.requests.append(("POST", self.path, dict(self.headers)))
                parts = self.path.split("/")
                if self.path == "/2018-06-01/runtime/init/error":
                    api.init_error = (self.headers.get("Lambda-Runtime-Function-Error-Type"), json.loads(body))
                elif len(parts) == 6 and parts[5] in ("response", "error"):
                    api.results[parts[4]] = (parts[5], self.headers.get("Lambda-Runtime-Function-Error-Type"), body)
                    api._done.setdefault(parts[4], threading.Event()).set()
                else:
                    return self._reply(404)
                self._reply(202, b'{"status":"OK"}')

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def endpoint(self):
        return f"127.0.0.1:{self.server.server_address[1]}"

    def invoke(self, payload: bytes, timeout=30):
        """Queues an event and waits for the runtime's report: (kind, error type, body)."""
        request_id = str(uuid.uuid4())
        done = self._done.setdefault(request_id, threading.Event())
        self.events.put((request_id, payload, 200))
        assert done.wait(timeout), f"no report for {request_id}"
        return self.results[request_id]

    def fail_next(self, status=500):
        self.events.put(("", b"", status))

    def close(self):
        self.server.shutdown()
