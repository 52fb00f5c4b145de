"""The `bootstrap` custom runtime against a Runtime API: the protocol, error shapes, and the same
answers as in-process for the recorded fixtures."""
import json
import os
import pathlib
import subprocess

import pytest

from runtime_api import RuntimeAPI

ROOT = pathlib.Path(__file__).resolve().parents[2]
BOOTSTRAP = ROOT / ".build" / "debug" / "bootstrap"


@pytest.fixture
def runtime(tmp_path):
    api = RuntimeAPI()
    processes = []

    def start(handler, **env):
        process = subprocess.Popen([str(BOOTSTRAP)], env={
            "PATH": os.environ["PATH"], "AWS_LAMBDA_RUNTIME_API": api.endpoint, "_HANDLER": handler,
            "STORE": "sqlite", "STATE_PATH": str(tmp_path / "state.sqlite"), "DEFAULT_WIDGET_ID": "widget_demo_localhost", **env},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        processes.append(process)
        return process

    yield api, start
    for process in processes:
        process.kill()
        process.wait()
    api.close()


def seed_demo_widget(local_runtime, root, state):
    """Creates the state file with the demo widget, as local-runtime does on first run."""
    event = (root / "events/chat/02-preflight.json").read_bytes()
    subprocess.run([local_runtime, "invoke", "chat", "--event", "-", "--state", str(state)], input=event, cwd=root,
                   check=True, capture_output=True)


def test_a_chat_event_is_answered_through_the_runtime_api(runtime, local_runtime, root, tmp_path):
    api, start = runtime
    seed_demo_widget(local_runtime, root, tmp_path / "state.sqlite")
    start("chat")
    kind, _, body = api.invoke((root / "events/chat/01-post-success.json").read_bytes())
    assert kind == "response"
    response = json.loads(body)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["response"].startswith("We're open")


def test_a_malformed_event_is_reported_as_an_error_and_the_loop_goes_on(runtime, local_runtime, root, tmp_path):
    api, start = runtime
    seed_demo_widget(local_runtime, root, tmp_path / "state.sqlite")
    start("chat")
    kind, error_type, body = api.invoke(b'{"version": "2.0", "requestContext": ')
    assert (kind, error_type) == ("error", "Runtime.MalformedEvent")
    document = json.loads(body)
    assert document["errorType"] == "Runtime.MalformedEvent" and document["errorMessage"] and document["stackTrace"] == []
    kind, _, _ = api.invoke((root / "events/chat/02-preflight.json").read_bytes())
    assert kind == "response"


def test_an_unknown_handler_reports_an_init_error_and_exits(runtime):
    api, start = runtime
    process = start("nosuchfunction")
    assert process.wait(timeout=30) != 0
    error_type, document = api.init_error
    assert error_type == "Runtime.InvalidHandler"
    assert "nosuchfunction" in document["errorMessage"]


def test_a_500_from_the_runtime_api_ends_the_process(runtime):
    api, start = runtime
    process = start("chat")
    api.fail_next(500)
    assert process.wait(timeout=30) != 0


def test_one_process_serves_invocations_one_after_another(runtime, local_runtime, root, tmp_path):
    api, start = runtime
    seed_demo_widget(local_runtime, root, tmp_path / "state.sqlite")
    start("chat")
    for _ in range(3):
        assert api.invoke((root / "events/chat/02-preflight.json").read_bytes())[0] == "response"
    next_calls = [r for r in api.requests if r[1].endswith("/next")]
    assert len(next_calls) >= 3


@pytest.fixture
def sigv4_verifier():
    """An @connections endpoint that verifies SigV4 as AWS does (botocore re-signing), secret "verifier-secret"."""
    process = subprocess.Popen([os.sys.executable, str(ROOT / "Tests/AWSSigV4Tests/sigv4_verifier.py"), "verifier-secret"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        yield process.stdout.readline().strip()
    finally:
        process.stdin.close()
        process.wait(timeout=10)


@pytest.mark.parametrize("secret, answered", [("verifier-secret", True), ("another-secret", False)])
def test_with_role_credentials_frames_are_posted_signed_for_execute_api(runtime, root, sigv4_verifier, secret, answered):
    """Deployed, the function's role credentials sign every @connections post: a post signed with the
    verifier's secret is accepted; one signed with another secret is refused, and the invocation fails."""
    api, start = runtime
    start("sendMessage", AWS_ACCESS_KEY_ID="ASIAEXAMPLE", AWS_SECRET_ACCESS_KEY=secret, AWS_SESSION_TOKEN="token",
          AWS_REGION="eu-west-1", WEBSOCKET_MANAGEMENT_ENDPOINT=f"{sigv4_verifier}/dev")
    kind, _, body = api.invoke((root / "events/ws-session/09-send-after-disconnect.json").read_bytes())
    if answered:
        assert kind == "response"
        assert json.loads(body)["statusCode"] == 400, "the refusal of an unregistered connection, delivered"
    else:
        assert kind == "error"
        assert "403 InvalidSignatureException" in json.loads(body)["errorMessage"]
