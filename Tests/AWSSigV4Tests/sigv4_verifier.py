"""An HTTP endpoint that checks SigV4 signatures the way AWS does, with botocore as the reference:
it re-signs the request it received over the headers named in `SignedHeaders`, at the request's
own `X-Amz-Date`, and compares. Prints its URL as the first line of stdout and serves until stdin
closes (a signal may be blocked in the test process that started it, and is inherited).

Answers 200 with `{}` to a valid signature (an empty GetItem result for DynamoDB, an accepted post
for @connections), and 403 with `InvalidSignatureException` otherwise.

Usage: sigv4_verifier.py SECRET_ACCESS_KEY
"""
import datetime
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<day>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request, "
    r"SignedHeaders=(?P<signed>[^,]+), Signature=(?P<signature>[0-9a-f]{64})$")


class Verifier(BaseHTTPRequestHandler):
    secret = ""

    def do_POST(self):
        self.verify()

    def do_GET(self):
        self.verify()

    def verify(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        received = self.headers.get("Authorization", "")
        match = AUTHORIZATION.match(received)
        if not match:
            return self.answer(403, f"malformed Authorization header: {received!r}")
        request = AWSRequest(method=self.command, url=f"http://{self.headers['Host']}{self.path}", data=body)
        for name in match["signed"].split(";"):
            for value in self.headers.get_all(name, []):
                request.headers[name] = value
        credentials = Credentials(match["key"], self.secret, self.headers.get("X-Amz-Security-Token"))
        signed_at = datetime.datetime.strptime(self.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
        with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at):
            auth = SigV4Auth(credentials, match["service"], match["region"])
            auth.add_auth(request)
        if request.headers["Authorization"] != received:
            return self.answer(403, "expected " + request.headers["Authorization"] + " for canonical request:\n"
                               + auth.canonical_request(request))
        self.answer(200, None)

    def answer(self, status, problem):
        body = json.dumps({} if problem is None else {"__type": "InvalidSignatureException", "message": problem}).encode()
        self.send_response(status)
        if problem is not None:
            self.send_header("x-amzn-ErrorType", "InvalidSignatureException")
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    Verifier.secret = sys.argv[1]
    server = HTTPServer(("127.0.0.1", 0), Verifier)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"http://127.0.0.1:{server.server_port}", flush=True)
    sys.stdin.read()
    server.shutdown()
