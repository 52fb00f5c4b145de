"""The latency of a streamed reply through the stage against DynamoDB on moto: from sending a
WebSocket message to its first delta and to its `done` frame, with the `@connections` POSTs it took.

Usage: python3 Benchmarks/stream_relay.py [--messages N] [--rounds R] BINARY [BINARY ...]

Each BINARY is a `local-runtime`; the rounds alternate between them (A B A B ...), each on a fresh
table. A widget without an interval and with room for every message is written first; then one
client sends N messages, one after another, each answered by the scripted provider's 200-piece
stream (Tests/Integration/openai_test_server.py, scenario `stream-200`: a piece every 2 ms).
Loopback only; moto answers one request at a time, so store calls weigh more than on DynamoDB.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "Integration"))
import boto3  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

import openai_test_server  # noqa: E402
from stage import RunningStage  # noqa: E402
from test_serve_dynamodb import put_widget  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")
ORIGIN = "http://localhost:5173"
WIDGET = "widget_bench_stream_01"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}


def run(binary, moto, provider, messages):
    table = f"bench-{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryDirectory() as scratch:
        stage = RunningStage(binary, ROOT, __import__("pathlib").Path(scratch), "--store", "dynamodb", env={
            **CREDENTIALS, "AWS_ENDPOINT_URL_DYNAMODB": moto, "TABLE_NAME": table,
            "AI_API_URL": provider.base_url("stream-200"), "AI_API_KEY": openai_test_server.API_KEY, "AI_MODEL": "test-model"})
        try:
            dynamodb = boto3.client("dynamodb", endpoint_url=moto, region_name="us-east-1",
                                    aws_access_key_id="testing", aws_secret_access_key="testing")
            put_widget(dynamodb, table, WIDGET, ["localhost"], min_interval_ms=0)
            first, done, posts = [], [], []
            with connect(f"{stage.ws_url}?sessionId=s-bench&widget_id={WIDGET}", origin=ORIGIN) as ws:
                for index in range(messages):
                    started = time.perf_counter()
                    ws.send(json.dumps({"action": "sendMessage", "message": f"Question {index}?"}))
                    frames = 0
                    while True:
                        frame = json.loads(ws.recv(timeout=30))
                        frames += 1
                        if frames == 1:
                            first.append(time.perf_counter() - started)
                        if frame["type"] in ("done", "message", "error"):
                            break
                    done.append(time.perf_counter() - started)
                    posts.append(frames)
            return first, done, posts
        finally:
            stage.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    arguments = parser.parse_args()
    moto_process = subprocess.Popen([os.path.join(ROOT, "scripts", "moto-dynamodb")], stdout=subprocess.PIPE, text=True)
    provider = openai_test_server.start()
    results = {binary: ([], [], []) for binary in arguments.binaries}
    try:
        moto = moto_process.stdout.readline().strip()
        for _ in range(arguments.rounds):
            for binary in arguments.binaries:
                for collected, measured in zip(results[binary], run(binary, moto, provider, arguments.messages)):
                    collected.extend(measured)
    finally:
        provider.shutdown()
        moto_process.terminate()
        moto_process.wait(timeout=10)
    print("| binary | messages | first frame p50 | done p50 | done p90 | POSTs a reply |")
    print("|---|---|---|---|---|---|")
    for binary, (first, done, posts) in results.items():
        deciles = statistics.quantiles(done, n=10)
        print(f"| {binary} | {len(done)} | {statistics.median(first) * 1000:.0f} ms | {statistics.median(done) * 1000:.0f} ms | "
              f"{deciles[8] * 1000:.0f} ms | {statistics.median(posts):.0f} |")


if __name__ == "__main__":
    main()
