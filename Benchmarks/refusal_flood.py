"""What a refusal flood from one client costs: security-event rows written per 10,000 refused
requests, and the latency of normal messages from other clients while it runs.

Usage: python3 Benchmarks/refusal_flood.py [--requests N] [--rounds R] BINARY [BINARY ...]

Each BINARY is a `local-runtime`; the rounds alternate between them (A B A B ...), each on a fresh
state file. One client (127.0.0.1) sends N refused chat POSTs over one keep-alive connection, cycling
through an unknown widget id, a refused origin and a well-formed message (refused once the client is
blocked). Meanwhile other clients, each on its own loopback address (127.0.0.2, 127.0.0.3, ...), send
one normal message each, 0.25 s apart; the same clients also run without the flood. Loopback only.
"""
import argparse
import http.client
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "Integration"))
from stage import RunningStage  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")
WIDGET = "widget_demo_localhost"


def post(connection, body, origin):
    connection.request("POST", "/api/chat", body=json.dumps(body), headers={"Origin": origin, "Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    return response.status


def flood(port, count):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    shapes = [
        ({"widget_id": "widget_no_such_widget_000", "conversation_id": "f", "message": "hi"}, "http://localhost:5173"),
        ({"widget_id": WIDGET, "conversation_id": "f", "message": "hi"}, "https://attacker.example"),
        ({"widget_id": WIDGET, "conversation_id": "f", "message": "hi"}, "http://localhost:5173"),
    ]
    statuses = {}
    for index in range(count):
        body, origin = shapes[index % len(shapes)]
        status = post(connection, body, origin)
        statuses[status] = statuses.get(status, 0) + 1
    connection.close()
    return statuses


def normal_messages(port, clients, spacing):
    latencies = []
    for index in range(clients):
        time.sleep(spacing)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(f"127.0.0.{index + 2}", 0))
        started = time.perf_counter()
        status = post(connection, {"widget_id": WIDGET, "conversation_id": f"n{index}", "message": "What are your opening hours?"},
                      "http://localhost:5173")
        latencies.append((time.perf_counter() - started) * 1000)
        connection.close()
        assert status == 200, status
    return latencies


def run(binary, requests, clients, flooded):
    with tempfile.TemporaryDirectory() as directory:
        stage = RunningStage(binary, ROOT, __import__("pathlib").Path(directory))
        try:
            result = {}
            flooder = None
            if flooded:
                flooder = threading.Thread(target=lambda: result.setdefault("statuses", flood(stage.port, requests)))
                flooder.start()
            latencies = normal_messages(stage.port, clients, 0.25)
            if flooder:
                flooder.join()
            stage.stop()
            database = sqlite3.connect(os.path.join(directory, "state.sqlite"))
            rows = database.execute("SELECT count(*) FROM security_events").fetchone()[0]
            counted = sum(json.loads(text).get("count", 1) for (text,) in database.execute("SELECT json FROM security_events"))
            database.close()
            return {"rows": rows, "refusals_counted": counted, "statuses": result.get("statuses", {}),
                    "p50_ms": statistics.median(latencies), "max_ms": max(latencies)}
        finally:
            stage.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    print(f"refused requests per flood: {options.requests}; normal clients per run: {options.clients}")
    print("| binary | round | flood | security_events rows | refusals they count | p50 normal message (ms) | max (ms) |")
    print("|---|---|---|---|---|---|---|")
    for round_number in range(1, options.rounds + 1):
        for flooded in (False, True):
            for binary in options.binaries:
                outcome = run(binary, options.requests, options.clients, flooded)
                print(f"| {binary} | {round_number} | {'yes' if flooded else 'no'} | {outcome['rows']} | {outcome['refusals_counted']} "
                      f"| {outcome['p50_ms']:.2f} | {outcome['max_ms']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
