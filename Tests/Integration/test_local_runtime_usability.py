"""What a newcomer meets before the first message (issue #25): the start-up lines, the stage log's
columns, `--help`, a port that is taken, provider failures that say what happened, and the README's
configuration table against the variables the code reads."""
import json
import pathlib
import re
import subprocess
import time
from urllib.parse import quote

import requests
from websockets.sync.client import connect

from stage import RunningStage, free_port

ORIGIN = "http://localhost:5173"
WIDGET = "widget_demo_localhost"


def test_serve_says_which_provider_and_store_it_uses_then_names_the_log_columns(stage):
    assert "AI provider: embedded responder (AI_API_KEY is not set; set it, with AI_API_URL and AI_MODEL, for an OpenAI-compatible API)" in stage.lines
    assert any(line.startswith("store: sqlite ") and line.endswith("state.sqlite") for line in stage.lines)
    ready = stage.lines.index(next(line for line in stage.lines if line.endswith(" ready")))
    assert "function  route  id (connectionId or requestId)  status  duration" in stage.lines[ready:]


def test_serve_names_the_configured_provider_and_model(local_runtime, root, tmp_path):
    stage = RunningStage(local_runtime, root, tmp_path,
                         env={"AI_API_KEY": "k", "AI_API_URL": "http://127.0.0.1:9/v1", "AI_MODEL": "some-model"})
    try:
        assert "AI provider: OpenAI-compatible API at http://127.0.0.1:9/v1, model some-model (AI_API_URL, AI_MODEL)" in stage.lines
    finally:
        stage.stop()


def test_every_connections_call_gets_a_log_line_with_the_connection_id(stage):
    with connect(f"{stage.ws_url}?sessionId=log-1&widget_id={WIDGET}", origin=ORIGIN) as ws:
        connection_id = stage.last_connection_id()
        endpoint = f"{stage.http_url}/dev/@connections/{quote(connection_id, safe='')}"
        posted = requests.post(endpoint, data=b'{"type":"message","content":"hi"}', timeout=5)
        assert posted.status_code == 200
        assert json.loads(ws.recv(timeout=5)) == {"type": "message", "content": "hi"}
        assert requests.get(endpoint, timeout=5).status_code == 200
    assert requests.post(f"{stage.http_url}/dev/@connections/gone-id", data=b"x", timeout=5).status_code == 410
    stage.wait_for_line(rf"^@connections  POST  {re.escape(connection_id)}  200  \S+ ms$")
    stage.wait_for_line(rf"^@connections  GET  {re.escape(connection_id)}  200  \S+ ms$")
    stage.wait_for_line(r"^@connections  POST  gone-id  410  \S+ ms$")


def test_the_console_gets_the_widgets_greeting_no_404_for_an_icon_and_the_log_so_far(stage):
    greeting = requests.get(f"{stage.http_url}/_dev/widget?widget_id={WIDGET}", timeout=5)
    assert greeting.status_code == 200
    assert greeting.json()["greeting"].startswith("Hi! I'm the demo assistant")
    assert requests.get(f"{stage.http_url}/_dev/widget?widget_id=widget_nobody_has_this", timeout=5).status_code == 404
    assert requests.get(f"{stage.http_url}/favicon.ico", timeout=5).status_code == 204

    requests.post(f"{stage.http_url}/api/chat", headers={"Origin": ORIGIN},
                  json={"widget_id": WIDGET, "conversation_id": "backlog-1", "message": "What are your opening hours?"}, timeout=10)
    stage.wait_for_line(r"^chat  POST /api/chat  \S+  200  ")
    # Opened after the invocation, the log starts with it.
    with requests.get(f"{stage.http_url}/_dev/log", stream=True, timeout=5) as log:
        records = (json.loads(line[len("data: "):]) for line in log.iter_lines(decode_unicode=True) if line.startswith("data: "))
        first = next(records)
    assert (first["function"], first["route"], first["status"]) == ("chat", "POST /api/chat", "200")


def test_a_port_in_use_is_one_line_naming_it(local_runtime, root, tmp_path, stage):
    for command in (["serve", "--state", str(tmp_path / "other.sqlite")], ["start-lambda", "--runtime", "in-process"]):
        result = subprocess.run([local_runtime, *command, "--port", str(stage.port)], cwd=root, capture_output=True, text=True, timeout=60)
        assert result.returncode == 1
        assert result.stderr == f"local-runtime: port {stage.port} is in use; pass --port\n"


def test_help_names_the_environment_each_command_reads(local_runtime, root):
    for command in ("serve", "invoke", "start-lambda"):
        help_text = subprocess.run([local_runtime, command, "--help"], cwd=root, capture_output=True, text=True, timeout=30,
                                   env={"PATH": "/usr/bin:/bin", "COLUMNS": "100"}).stdout
        words = " ".join(help_text.split())
        for variable in ("AI_API_URL", "AI_API_KEY", "AI_MODEL", "ADMIN_JWT_SECRET", "STATE_PATH"):
            assert variable in words, f"{command} --help does not name {variable}"
        # start-lambda's functions always keep state in SQLite; the others take --store dynamodb.
        assert ("AWS_ENDPOINT_URL_DYNAMODB" in words) == (command != "start-lambda")
        assert "Groq's llama-3.3-70b-versatile" in words
    start_lambda = " ".join(subprocess.run([local_runtime, "start-lambda", "--help"], cwd=root, capture_output=True, text=True,
                                           timeout=30).stdout.split())
    assert "unlike serve and replay (in-process)" in start_lambda


def test_invoke_keeps_state_like_every_other_command_in_process_or_in_bootstrap(local_runtime, root, tmp_path):
    """Two invocations share the --state file, one in-process and one in the deployed binary: the
    second sees the first message's usage."""
    state = tmp_path / "invoke.sqlite"
    event = json.loads((root / "events/chat/01-post-success.json").read_text())
    remaining = []
    for index, runtime in enumerate(("in-process", "bootstrap")):
        if index:
            time.sleep(2.1)  # the demo widget's minimum interval between messages
        event["requestContext"]["timeEpoch"] = int(time.time() * 1000)
        result = subprocess.run([local_runtime, "invoke", "chat", "--event", "-", "--state", str(state), "--ai", "embedded",
                                 "--runtime", runtime],
                                input=json.dumps(event), cwd=root, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        remaining.append(json.loads(json.loads(result.stdout)["body"])["usage"]["messages_remaining_today"])
    assert remaining[1] == remaining[0] - 1


def test_a_refused_provider_fails_the_reply_at_once_and_the_log_says_refused(local_runtime, root, tmp_path):
    closed = free_port()
    stage = RunningStage(local_runtime, root, tmp_path, env={"AI_API_KEY": "k", "AI_API_URL": f"http://127.0.0.1:{closed}/v1"})
    try:
        with connect(f"{stage.ws_url}?sessionId=refused-1&widget_id={WIDGET}", origin=ORIGIN) as ws:
            started = time.monotonic()
            ws.send(json.dumps({"action": "sendMessage", "message": "Are you there?"}))
            frame = json.loads(ws.recv(timeout=15))
            elapsed = time.monotonic() - started
        assert frame["type"] == "error" and frame["error"] == "processing_error"
        # Well inside the provider's 10 s connect timeout, which a refused connection no longer waits out.
        assert elapsed < 8, f"a refused connection took {elapsed:.1f} s"
        stage.wait_for_line(rf"connection refused by 127\.0\.0\.1:{closed}")
    finally:
        stage.stop()


def test_the_readme_configuration_table_names_every_variable_the_code_reads(root):
    # The ways the code reads a variable: `environment["X"]`, Configuration's `int("X", …)`,
    # `nonEmpty("X")` and `flag("X")`, the provider's `value("X")`, and the endpoint variables'
    # list in the order the SDKs try them.
    reads = re.compile(r'(?:environment\[|\b(?:int|nonEmpty|flag|value)\()"([A-Z][A-Z0-9_]{2,})"')
    names = set()
    for source in (root / "Sources").rglob("*.swift"):
        text = source.read_text()
        names.update(reads.findall(text))
        names.update(re.findall(r'"(AWS_ENDPOINT_URL_DYNAMODB|DYNAMODB_ENDPOINT|AWS_ENDPOINT_URL)"', text))
    # The shell's own, not the project's settings.
    names -= {"HOME", "PATH"}
    readme = (root / "README.md").read_text()
    configuration = readme[readme.index("## Configuration"):readme.index("## Architecture")]
    missing = sorted(name for name in names if f"`{name}`" not in configuration)
    assert not missing, f"README's configuration table lacks {missing}"
