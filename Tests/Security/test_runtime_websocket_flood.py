"""Issue #24, finding 1: one WebSocket connection started an invocation per frame with no bound —
20,000 frames in 0.3 s took the stage from 150 to 627 MB, and it stayed there after the socket
closed. Now each connection has a bounded number of invocations in flight; frames beyond it are
refused with API Gateway's throttling frame, and memory comes back after the flood."""
import json
import socket
import time

from websockets.sync.client import connect

from probes import rss_mib, wait_until

ORIGIN = "http://localhost:5173"
FRAMES = 20_000


def open_socket(stage, session, source="127.0.0.1"):
    # The client keeps reading whatever the stage sends (max_queue=None), so that a flood of
    # refusals can never stall the flood itself. `source` is the client's own loopback address.
    sock = socket.create_connection(("127.0.0.1", stage.port), timeout=30, source_address=(source, 0))
    return connect(f"{stage.ws_url}?sessionId={session}&widget_id=widget_demo_localhost", origin=ORIGIN,
                   max_queue=None, open_timeout=30, sock=sock)


def drain(ws, quiet_seconds=3.0, limit_seconds=120.0):
    """Frames the stage sends until it has been quiet for `quiet_seconds`."""
    frames = []
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        try:
            frames.append(json.loads(ws.recv(timeout=quiet_seconds)))
        except TimeoutError:
            break
    return frames


def test_a_frame_flood_is_throttled_per_connection_and_memory_returns(stage):
    pid = stage.process.pid
    with open_socket(stage, "warm-up") as ws:
        ws.send(json.dumps({"action": "sendMessage", "message": "hello", "conversation_id": "warm-up"}))
        drain(ws, quiet_seconds=2)
    idle = rss_mib(pid)

    message = json.dumps({"action": "sendMessage", "message": "hello", "conversation_id": "flood"})
    with open_socket(stage, "flood") as ws:
        connection_id = stage.last_connection_id()
        for _ in range(FRAMES):
            ws.send(message)
        frames = drain(ws)
    peak_after_close = rss_mib(pid)

    throttled = [frame for frame in frames if frame.get("message") == "Too Many Requests"]
    assert throttled, f"no frame was refused; the first frames were {frames[:3]}"
    assert all(frame["connectionId"] == connection_id and frame["requestId"] for frame in throttled)
    refused_in_log = stage.wait_for_line(r"throttled", timeout=30)
    assert connection_id in refused_in_log

    # Memory returns towards idle once the flood has been dealt with (a generous bound: the flood
    # took ~480 MB before the fix).
    settled = wait_until(lambda: rss_mib(pid) < idle + 100, timeout=60, interval=1)
    assert settled, f"RSS {rss_mib(pid):.0f} MiB after the flood (idle {idle:.0f} MiB, {peak_after_close:.0f} MiB at close)"


def test_the_stage_still_answers_other_clients_after_a_flood(stage):
    with open_socket(stage, "flood-2") as ws:
        for _ in range(FRAMES // 4):
            ws.send(json.dumps({"action": "sendMessage", "message": "hello", "conversation_id": "flood-2"}))
    # The flooding client is rate-limited and then blocked; another client is answered as usual.
    with open_socket(stage, "after", source="127.0.0.2") as ws:
        ws.send(json.dumps({"action": "sendMessage", "message": "How long does shipping take?", "conversation_id": "after"}))
        frames = drain(ws, quiet_seconds=5)
    assert any(frame.get("type") == "message" for frame in frames), frames
