"""`local-runtime start-lambda` with boto3's lambda client: template functions in real `bootstrap`
processes, and a Python function in `awslambdaric` — the AWS runtime client — proving the emulator
speaks the Runtime API."""
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from lambdas import StartLambda


@pytest.fixture
def lambdas(local_runtime, root, tmp_path):
    running = StartLambda(local_runtime, root, tmp_path)
    yield running
    running.stop()


def test_awslambdaric_serves_a_python_function_through_the_runtime_api(lambdas):
    error, result = lambdas.invoke("hello", {"a": 1})
    assert error is None
    assert result["echo"] == {"a": 1} and result["remaining_ms_positive"] is True and result["request_id"]


def test_a_python_exception_comes_back_as_an_unhandled_function_error(lambdas):
    error, result = lambdas.invoke("hello", {"fail": True})
    assert error == "Unhandled"
    assert result["errorType"] == "ValueError" and result["errorMessage"] == "asked to fail"


def test_a_timeout_is_lambdas_timeout_error_and_the_next_invocation_is_served(lambdas):
    error, result = lambdas.invoke("hello", {"sleep": 5})
    assert error == "Unhandled"
    assert result["errorType"] == "Sandbox.Timedout" and "Task timed out after 2.00 seconds" in result["errorMessage"]
    error, result = lambdas.invoke("hello", {"b": 2})
    assert error is None and result["echo"] == {"b": 2}


def test_a_template_function_runs_in_the_real_bootstrap(lambdas, root):
    error, result = lambdas.invoke("chat", (root / "events/chat/01-post-success.json").read_bytes())
    assert error is None
    assert result["statusCode"] == 200
    assert json.loads(result["body"])["response"].startswith("We're open")


def test_a_malformed_event_to_the_bootstrap_is_an_unhandled_error_and_it_keeps_serving(lambdas, root):
    error, result = lambdas.invoke("ChatFunction", b'{"broken": ')
    assert error == "Unhandled" and result["errorType"] == "Runtime.MalformedEvent"
    error, result = lambdas.invoke("ChatFunction", (root / "events/chat/02-preflight.json").read_bytes())
    assert error is None and result["statusCode"] == 204


def test_an_unknown_function_is_resource_not_found(lambdas):
    with pytest.raises(lambdas.client.exceptions.ResourceNotFoundException):
        lambdas.invoke("nope", {})


def test_concurrent_invocations_get_separate_sandboxes_instead_of_a_queue(lambdas):
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: lambdas.invoke("hello", {"sleep": 1}), range(3)))
    assert all(error is None for error, _ in results)
    # Each overlapping invocation started its own sandbox: three cold starts, not one warm process in turn.
    deadline = time.monotonic() + 5
    while len([l for l in lambdas.lines if "Init Duration" in l]) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len([l for l in lambdas.lines if "Init Duration" in l]) == 3


def test_each_invocation_logs_start_end_and_report_like_lambda(lambdas):
    lambdas.invoke("hello", {"c": 3})
    time.sleep(0.2)
    assert any(l.startswith("START RequestId: ") for l in lambdas.lines)
    assert any(l.startswith("END RequestId: ") for l in lambdas.lines)
    assert any(re.match(r"REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms", l) for l in lambdas.lines)


def test_the_in_process_runtime_gives_the_same_answer_as_the_bootstrap(local_runtime, root, tmp_path):
    event = (root / "events/chat/09-rest-proxy-v1.json").read_bytes()
    answers = []
    for kind in ("bootstrap", "in-process"):
        running = StartLambda(local_runtime, root, tmp_path / kind if (tmp_path / kind).mkdir() is None else tmp_path, "--runtime", kind)
        try:
            error, response = running.invoke("chat", event)
        finally:
            running.stop()
        # Each new conversation gets a token of its own (random by design); everything else must match.
        body = json.loads(response["body"])
        assert len(body.pop("conversation_token")) == 22
        answers.append((error, {**response, "body": body}))
    assert answers[0] == answers[1]
    assert answers[0][1]["statusCode"] == 200
