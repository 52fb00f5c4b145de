"""Crash durability: `serve` under a sustained chat load (HTTP and WebSocket clients) is killed with
SIGKILL again and again and restarted on the same `--state`. Whatever a client was told succeeded
must be in the store afterwards, the rate counters never pass their limits, and SQLite's
integrity check passes. Bounded: a fixed number of kills, each after a short burst of load."""
import json
import random
import signal
import sqlite3
import string
import subprocess
import threading
import time

import requests
from websockets.sync.client import connect

from stage import RunningStage

KILLS = 20
DAILY_LIMIT = 3000
WIDGET = {
    "widget_id": "widget_crash_durability",
    "name": "Crash durability",
    "allowed_domains": ["localhost"],
    "limits": {"max_messages_per_minute": 100000, "max_messages_per_hour": 100000, "max_messages_per_day": DAILY_LIMIT,
               "min_message_interval_ms": 0},
}
ORIGIN = "http://localhost:5173"


def marker(rng):
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(12))


class Load:
    """Clients that send chat messages until told to stop, each remembering the markers of the
    messages whose reply reached it."""

    def __init__(self, stage, seed):
        self.stage = stage
        self.stop = threading.Event()
        self.acknowledged = []
        self.refused = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.http_client, args=(random.Random(seed * 10 + i),)) for i in range(3)]
        self.threads += [threading.Thread(target=self.websocket_client, args=(random.Random(seed * 10 + 5 + i),)) for i in range(2)]

    def start(self):
        for thread in self.threads:
            thread.start()

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def acknowledge(self, text):
        with self.lock:
            self.acknowledged.append(text)

    def http_client(self, rng):
        session = requests.Session()
        while not self.stop.is_set():
            text = f"hello {marker(rng)}"
            body = {"widget_id": WIDGET["widget_id"], "conversation_id": f"c-{marker(rng)}", "message": text}
            try:
                answer = session.post(f"{self.stage.http_url}/api/chat", json=body, headers={"Origin": ORIGIN}, timeout=10)
            except requests.RequestException:
                return
            if answer.status_code == 200 and answer.json().get("success"):
                self.acknowledge(text)
            elif answer.status_code == 429:
                with self.lock:
                    self.refused += 1

    def websocket_client(self, rng):
        try:
            ws = connect(f"{self.stage.ws_url}?sessionId=s-{marker(rng)}&widget_id={WIDGET['widget_id']}", origin=ORIGIN,
                         open_timeout=10)
        except Exception:
            return
        with ws:
            while not self.stop.is_set():
                text = f"hello {marker(rng)}"
                try:
                    ws.send(json.dumps({"action": "sendMessage", "message": text, "conversation_id": f"w-{marker(rng)}"}))
                    frame = json.loads(ws.recv(timeout=10))
                except Exception:
                    return
                if frame.get("type") in ("message", "done"):
                    self.acknowledge(text)
                elif frame.get("type") == "error":
                    with self.lock:
                        self.refused += 1


def test_acknowledged_messages_survive_repeated_kill_9(local_runtime, root, tmp_path):
    state = tmp_path / "state.sqlite"
    widget_file = tmp_path / "widget.json"
    widget_file.write_text(json.dumps(WIDGET))
    subprocess.run([local_runtime, "widgets", "add", "--json", str(widget_file), "--state", str(state)],
                   cwd=root, check=True, capture_output=True, timeout=60)
    rng = random.Random(2026)
    acknowledged, refused = [], 0
    for kill in range(KILLS):
        stage = RunningStage(local_runtime, root, tmp_path, env={"IP_RATE_LIMIT_PER_MINUTE": "1000000"})
        load = Load(stage, kill)
        load.start()
        time.sleep(rng.uniform(0.3, 1.5))
        stage.process.send_signal(signal.SIGKILL)
        stage.process.wait(timeout=30)
        load.finish()
        acknowledged += load.acknowledged
        refused += load.refused

    assert acknowledged, "no message was acknowledged at all"
    assert refused, f"the load never reached the daily limit of {DAILY_LIMIT}; the counter check proves nothing"
    database = sqlite3.connect(state)
    try:
        assert database.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {content for (content,) in database.execute(
            "SELECT content FROM messages WHERE widget_id = ? AND role = 'user'", (WIDGET["widget_id"],))}
        lost = [text for text in acknowledged if text not in stored]
        assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged messages are not in the store: {lost[:5]}"
        assert len(stored) <= DAILY_LIMIT, f"{len(stored)} messages stored against a daily limit of {DAILY_LIMIT}"
        over = [(key, count) for key, count in database.execute("SELECT key, count FROM counters")
                if WIDGET["widget_id"] in key and count > DAILY_LIMIT]
        assert not over, f"counters past their limit: {over}"
        print(f"{KILLS} kills: {len(acknowledged)} messages acknowledged, {len(stored)} stored, {refused} refused at the limit")
    finally:
        database.close()
