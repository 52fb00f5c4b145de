"""`local-runtime invoke` driven as a user would: events from files and from stdin."""
import json
import subprocess


def invoke(local_runtime, root, function, event_text):
    return subprocess.run([local_runtime, "invoke", function, "--event", "-"], input=event_text.encode(),
                          cwd=root, capture_output=True, timeout=60)


def test_invoke_prints_a_proxy_response_for_a_recorded_chat_event(local_runtime, root):
    event = (root / "events/chat/01-post-success.json").read_text()
    result = invoke(local_runtime, root, "chat", event)
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200
    assert response["headers"]["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert json.loads(response["body"])["success"] is True


def test_invoke_reports_a_malformed_event_as_a_lambda_error(local_runtime, root):
    result = invoke(local_runtime, root, "chat", '{"version": "2.0", "truncated')
    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert error["errorType"] == "Runtime.MalformedEvent"
