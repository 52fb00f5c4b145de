"""Replies from an OpenAI-compatible provider, end to end: `local-runtime serve` and `invoke` with
AI_API_URL pointed at the scripted server of openai_test_server.py, driven by real clients."""
import json
import subprocess
import time

import pytest
from websockets.sync.client import connect

import openai_test_server
from stage import RunningStage

ORIGIN = "http://localhost:5173"
WIDGET = "widget_demo_localhost"
# The demo widget's min_message_interval_ms is 2000: turns of one client are spaced by more.
TURN_SPACING = 2.1


def ai_environment(provider, scenario):
    return {"AI_API_URL": provider.base_url(scenario), "AI_API_KEY": openai_test_server.API_KEY, "AI_MODEL": "test-model"}


@pytest.fixture
def stage_with(local_runtime, root, tmp_path, provider):
    """A stage whose functions use `provider` with the given scenario."""
    stages = []

    def start(scenario):
        stage = RunningStage(local_runtime, root, tmp_path, env=ai_environment(provider, scenario))
        stages.append(stage)
        return stage

    yield start
    for stage in stages:
        stage.stop()


def ws_url(stage, session):
    return f"{stage.ws_url}?sessionId={session}&widget_id={WIDGET}"


def frames_until_final(ws):
    """Frames of one reply, through its `done`, `message` or `error` frame."""
    frames = []
    while True:
        frame = json.loads(ws.recv(timeout=15))
        frames.append(frame)
        if frame["type"] in ("done", "message", "error"):
            return frames


def test_a_streamed_reply_reaches_the_websocket_as_deltas_then_one_done(stage_with, provider):
    stage = stage_with("stream")
    with connect(ws_url(stage, "stream-1"), origin=ORIGIN) as ws:
        ws.send(json.dumps({"action": "sendMessage", "message": "Do you ship to Norway?"}))
        frames = frames_until_final(ws)
    deltas, done = frames[:-1], frames[-1]
    assert len(deltas) >= 2 and all(f["type"] == "delta" for f in deltas)
    assert done["type"] == "done"
    assert done["content"] == "You said: Do you ship to Norway?"
    assert "".join(f["content"] for f in deltas) == done["content"]
    assert done["conversation_id"] == "stream-1"


def test_a_three_turn_conversation_sends_the_earlier_turns_to_the_provider(stage_with, provider):
    stage = stage_with("stream")
    questions = ["Hello!", "Do you ship to Norway?", "And how long does it take?"]
    with connect(ws_url(stage, "memory-1"), origin=ORIGIN) as ws:
        for index, question in enumerate(questions):
            if index:
                time.sleep(TURN_SPACING)
            ws.send(json.dumps({"action": "sendMessage", "message": question}))
            assert frames_until_final(ws)[-1]["type"] == "done"
    requests = provider.requests("stream")
    assert len(requests) == 3
    third = requests[2]["body"]["messages"]
    assert third[0]["role"] == "system"
    assert third[1:] == [
        {"role": "user", "content": "Hello!"},
        {"role": "assistant", "content": "You said: Hello!"},
        {"role": "user", "content": "Do you ship to Norway?"},
        {"role": "assistant", "content": "You said: Do you ship to Norway?"},
        {"role": "user", "content": "And how long does it take?"},
    ]


def test_personal_data_is_redacted_before_it_reaches_the_provider(stage_with, provider):
    stage = stage_with("stream")
    with connect(ws_url(stage, "pii-1"), origin=ORIGIN) as ws:
        ws.send(json.dumps({"action": "sendMessage", "message": "Mail me at jane.doe@example.com please"}))
        frames_until_final(ws)
    sent = provider.requests("stream")[0]["body"]["messages"][-1]["content"]
    assert "jane.doe@example.com" not in sent


def test_a_provider_that_keeps_failing_gives_a_friendly_processing_error_frame(stage_with, provider):
    stage = stage_with("always-503")
    with connect(ws_url(stage, "down-1"), origin=ORIGIN) as ws:
        ws.send(json.dumps({"action": "sendMessage", "message": "Are you there?"}))
        frames = frames_until_final(ws)
    assert [f["type"] for f in frames] == ["error"]
    assert frames[0]["error"] == "processing_error"
    assert "503" not in frames[0]["message"]
    assert len(provider.requests("always-503")) == 2


def test_invoke_chat_answers_with_the_providers_whole_reply(local_runtime, root, provider, tmp_path):
    event = (root / "events/chat/01-post-success.json").read_text()
    result = subprocess.run([local_runtime, "invoke", "chat", "--event", "-", "--state", str(tmp_path / "state.sqlite")],
                            input=event.encode(), cwd=root,
                            capture_output=True, timeout=60, env={"PATH": "/usr/bin:/bin", **ai_environment(provider, "stream")})
    assert result.returncode == 0, result.stderr
    body = json.loads(json.loads(result.stdout)["body"])
    assert body["success"] is True
    assert body["response"] == "You said: What are your opening hours?"


def test_replay_stays_deterministic_with_a_provider_configured(local_runtime, root, provider):
    result = subprocess.run([local_runtime, "replay", "events/"], cwd=root, capture_output=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", **ai_environment(provider, "always-503")})
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert provider.requests() == []


def test_an_invalid_ai_api_url_is_reported_as_an_init_error(local_runtime, root, tmp_path):
    event = (root / "events/chat/01-post-success.json").read_text()
    result = subprocess.run([local_runtime, "invoke", "chat", "--event", "-", "--state", str(tmp_path / "state.sqlite")],
                            input=event.encode(), cwd=root,
                            capture_output=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "AI_API_KEY": "k", "AI_API_URL": "not a url"})
    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert error["errorType"] == "Runtime.InitError"
    assert "AI_API_URL" in error["errorMessage"]
