"""Runs `local-runtime start-lambda` for a test: the template's functions in real `bootstrap` processes
and `hello` (lambda_functions/app.py) in awslambdaric, reached with boto3's lambda client."""
import json
import pathlib
import subprocess
import threading
import time

import boto3
from botocore.config import Config

from stage import free_port

FUNCTIONS = pathlib.Path(__file__).resolve().parent / "lambda_functions"


class StartLambda:
    def __init__(self, local_runtime, root, tmp_path, *args, external_timeout=2):
        self.port = free_port()
        self.lines = []
        self.process = subprocess.Popen(
            [local_runtime, "start-lambda", "--port", str(self.port), "--state", str(tmp_path / "state.sqlite"),
             "--template", str(root / "template.json"), "--external-timeout", str(external_timeout),
             "--external", "hello=python3 -m awslambdaric app.handler", *args],
            cwd=FUNCTIONS, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=lambda: [self.lines.append(l.rstrip()) for l in self.process.stdout], daemon=True).start()
        deadline = time.monotonic() + 60
        while not any("ready" in l for l in self.lines):
            assert time.monotonic() < deadline and self.process.poll() is None, "\n".join(self.lines)
            time.sleep(0.05)
        self.client = boto3.client("lambda", endpoint_url=f"http://127.0.0.1:{self.port}", region_name="us-east-1",
                                   aws_access_key_id="local", aws_secret_access_key="local",
                                   config=Config(read_timeout=60, retries={"max_attempts": 0}))

    def invoke(self, name, payload):
        body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
        response = self.client.invoke(FunctionName=name, Payload=body)
        return response.get("FunctionError"), json.loads(response["Payload"].read())

    def runtime_api(self):
        """AWS_LAMBDA_RUNTIME_API of the (one) runtime process this start-lambda started."""
        children = [child for task in pathlib.Path(f"/proc/{self.process.pid}/task").iterdir()
                    for child in (task / "children").read_text().split()]
        for child in children:
            environment = pathlib.Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
            for entry in environment:
                if entry.startswith(b"AWS_LAMBDA_RUNTIME_API="):
                    return entry.split(b"=", 1)[1].decode()
        raise AssertionError(f"no runtime process among {children}")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
