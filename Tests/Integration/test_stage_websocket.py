"""The local stage driven by the Python `websockets` client, as a widget page would use it."""
import json
import re
import socket
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from stage import RunningStage

ORIGIN = "http://localhost:5173"
WIDGET = "widget_demo_localhost"


def url(stage, session="s-1", trailing_slash=False, **extra):
    query = "&".join(f"{k}={v}" for k, v in {"sessionId": session, "widget_id": WIDGET, **extra}.items() if v is not None)
    return f"{stage.ws_url}{'/' if trailing_slash else ''}?{query}"


def test_a_message_gets_the_assistant_reply_as_a_frame(stage):
    with connect(url(stage), origin=ORIGIN) as ws:
        ws.send(json.dumps({"action": "sendMessage", "message": "How long does shipping take?"}))
        frame = json.loads(ws.recv(timeout=10))
    token = frame.pop("conversation_token")
    assert frame == {"type": "message", "role": "assistant", "conversation_id": "s-1",
                     "content": "Orders ship within one business day; delivery usually takes 2 to 4 days."}
    assert len(token) == 22


def test_a_handshake_without_origin_is_rejected_with_connects_status(stage):
    with pytest.raises(InvalidStatus) as refused:
        connect(url(stage))
    assert refused.value.response.status_code == 403


def test_a_handshake_without_session_id_is_rejected_with_400(stage):
    with pytest.raises(InvalidStatus) as refused:
        connect(url(stage, session=None), origin=ORIGIN)
    assert refused.value.response.status_code == 400


def test_a_trailing_slash_before_the_query_is_tolerated(stage):
    with connect(url(stage, trailing_slash=True), origin=ORIGIN) as ws:
        ws.send(json.dumps({"action": "sendMessage", "message": "hello"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "message"


def test_an_anonymous_connection_needs_no_token(stage):
    with connect(url(stage, session="anon-1"), origin=ORIGIN) as ws:
        ws.send(json.dumps({"action": "sendMessage", "message": "hi"}))
        assert json.loads(ws.recv(timeout=10))["role"] == "assistant"


def test_an_unknown_action_gets_api_gateways_forbidden_frame(stage):
    with connect(url(stage), origin=ORIGIN) as ws:
        ws.send(json.dumps({"action": "dance"}))
        frame = json.loads(ws.recv(timeout=10))
        connection_id = stage.last_connection_id()
    assert frame["message"] == "Forbidden"
    assert frame["connectionId"] == connection_id
    assert frame["requestId"]


def test_a_message_that_is_not_json_gets_the_forbidden_frame(stage):
    with connect(url(stage), origin=ORIGIN) as ws:
        ws.send("this is not json")
        assert json.loads(ws.recv(timeout=10))["message"] == "Forbidden"


def test_a_message_over_128_kb_closes_the_connection_with_1009(stage):
    with connect(url(stage), origin=ORIGIN, max_size=None) as ws:
        ws.send("x" * (128 * 1024 + 1))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 1009
    stage.wait_for_line(r"^disconnect  \$disconnect")


def test_a_refused_message_is_an_error_frame_and_the_connection_stays_open(stage):
    with connect(url(stage), origin=ORIGIN) as ws:
        ws.send(json.dumps({"action": "sendMessage", "message": "visit https://spam.example"}))
        refused = json.loads(ws.recv(timeout=10))
        time.sleep(2.1)  # the demo widget's minimum interval between messages
        ws.send(json.dumps({"action": "sendMessage", "message": "What is your return policy?"}))
        answered = json.loads(ws.recv(timeout=10))
    assert refused["type"] == "error" and refused["error"] == "content_filtered"
    assert answered["type"] == "message"


def test_an_abrupt_tcp_drop_fires_disconnect_exactly_once(stage):
    # No keepalive pings: the connection is abandoned, not closed, and is never used again.
    ws = connect(url(stage), origin=ORIGIN, ping_interval=None)
    connection_id = stage.last_connection_id()
    ws.socket.shutdown(socket.SHUT_RDWR)
    ws.socket.close()
    stage.wait_for_line(r"^disconnect  \$disconnect  " + re.escape(connection_id))
    time.sleep(0.5)
    assert len([l for l in stage.invocations("disconnect") if connection_id in l]) == 1


def test_a_client_close_fires_disconnect_exactly_once(stage):
    with connect(url(stage), origin=ORIGIN):
        connection_id = stage.last_connection_id()
    stage.wait_for_line(r"^disconnect  \$disconnect  " + re.escape(connection_id))
    time.sleep(0.5)
    assert len([l for l in stage.invocations("disconnect") if connection_id in l]) == 1


def test_an_idle_connection_is_closed_with_1001_going_away(local_runtime, root, tmp_path):
    stage = RunningStage(local_runtime, root, tmp_path, "--idle-timeout", "1")
    try:
        with connect(url(stage), origin=ORIGIN) as ws:
            connection_id = stage.last_connection_id()
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
        assert closed.value.rcvd.code == 1001
        assert closed.value.rcvd.reason == "Going away"
        stage.wait_for_line(r"^disconnect  \$disconnect  " + re.escape(connection_id))
    finally:
        stage.stop()


def test_shutdown_closes_open_connections_and_fires_their_disconnect(local_runtime, root, tmp_path):
    stage = RunningStage(local_runtime, root, tmp_path)
    with connect(url(stage), origin=ORIGIN) as ws:
        connection_id = stage.last_connection_id()
        stage.process.terminate()
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is None or closed.value.rcvd.code in (1000, 1001)
    stage.process.wait(timeout=15)
    assert any(l.startswith(f"disconnect  $disconnect  {connection_id}") for l in stage.lines), "\n".join(stage.lines)


def test_recorded_events_replay_unchanged(local_runtime, root, tmp_path):
    import subprocess
    recorded = tmp_path / "recorded"
    stage = RunningStage(local_runtime, root, tmp_path, "--record", str(recorded))
    try:
        with connect(url(stage), origin=ORIGIN) as ws:
            ws.send(json.dumps({"action": "sendMessage", "message": "hello"}))
            ws.recv(timeout=10)
        stage.wait_for_line(r"^disconnect  \$disconnect")
    finally:
        stage.stop()
    names = sorted(p.name for p in recorded.iterdir() if not p.name.endswith(".expected.json"))
    assert [n.split("-", 1)[1] for n in names] == ["connect.json", "sendMessage.json", "disconnect.json"]
    events = [json.loads((recorded / name).read_text()) for name in names]
    assert events[0]["requestContext"]["eventType"] == "CONNECT" and events[0]["queryStringParameters"]["sessionId"] == "s-1"
    assert "messageId" in events[1]["requestContext"] and "headers" not in events[1]
    assert events[2]["requestContext"]["disconnectStatusCode"] == 1000
    assert len({event["requestContext"]["connectionId"] for event in events}) == 1
    result = subprocess.run([local_runtime, "replay", str(recorded)], cwd=root, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed, 0 failed" in result.stdout


def test_the_stage_runs_the_real_bootstrap_with_runtime_bootstrap(local_runtime, root, tmp_path):
    stage = RunningStage(local_runtime, root, tmp_path, "--runtime", "bootstrap")
    try:
        with connect(url(stage, session="boot-1"), origin=ORIGIN) as ws:
            ws.send(json.dumps({"action": "sendMessage", "message": "How long does shipping take?"}))
            frame = json.loads(ws.recv(timeout=30))
        assert frame["type"] == "message" and frame["content"].startswith("Orders ship")
        stage.wait_for_line(r"^disconnect  \$disconnect", timeout=30)
        assert any(line.startswith("REPORT RequestId:") and "Init Duration" in line for line in stage.lines)
    finally:
        stage.stop()


@pytest.mark.parametrize("reply_path", ["in-process", "http"])
def test_both_reply_paths_deliver_the_same_frames(local_runtime, root, tmp_path, reply_path):
    stage = RunningStage(local_runtime, root, tmp_path, "--reply-path", reply_path)
    try:
        with connect(url(stage, session=f"paths-{reply_path}"), origin=ORIGIN) as ws:
            ws.send(json.dumps({"action": "sendMessage", "message": "How long does shipping take?"}))
            reply = json.loads(ws.recv(timeout=10))
            time.sleep(2.1)  # the demo widget's minimum interval between messages
            ws.send(json.dumps({"action": "sendMessage", "message": "see https://evil.example"}))
            refusal = json.loads(ws.recv(timeout=10))
    finally:
        stage.stop()
    assert reply["content"].startswith("Orders ship within one business day")
    assert refusal["type"] == "error" and refusal["error"] == "content_filtered"
