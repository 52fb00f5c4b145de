"""Issue #24, finding 6: `start-lambda`'s Runtime API took invocations from anyone — another local
process (or a web page that found the port) could call `/next`, answer in the function's place, and
the log showed a leaked continuation — and over capacity callers got 200 with
`Runtime.SandboxStartFailed` where Lambda answers 429 `TooManyRequestsException`. Now each sandbox's
Runtime API sits under a secret path only its runtime process is given, one `/next` may be pending
per sandbox, and over capacity the invoke API answers like Lambda."""
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from botocore.exceptions import ClientError

from lambdas import StartLambda

@pytest.fixture
def lambdas(local_runtime, root, tmp_path):
    running = StartLambda(local_runtime, root, tmp_path, external_timeout=10)
    yield running
    running.stop()


def test_a_process_that_finds_the_port_cannot_take_or_answer_invocations(lambdas):
    assert lambdas.invoke("hello", {"warm": 1})[0] is None
    endpoint = lambdas.runtime_api()
    host_and_port = endpoint.split("/", 1)[0]
    assert "/" in endpoint, f"AWS_LAMBDA_RUNTIME_API carries no secret path: {endpoint}"
    stolen = {}

    def thief():
        try:
            answer = requests.get(f"http://{host_and_port}/2018-06-01/runtime/invocation/next", timeout=15)
            stolen["next"] = answer.status_code
            request_id = answer.headers.get("Lambda-Runtime-Aws-Request-Id")
            if answer.status_code == 200 and request_id:
                stolen["response"] = requests.post(
                    f"http://{host_and_port}/2018-06-01/runtime/invocation/{request_id}/response",
                    data=json.dumps({"stolen": True}), timeout=15).status_code
        except requests.RequestException as error:
            stolen["error"] = repr(error)

    thread = threading.Thread(target=thief)
    thread.start()
    time.sleep(1)
    error, result = lambdas.invoke("hello", {"a": 2})
    thread.join(timeout=30)
    assert error is None and result.get("echo") == {"a": 2}, result
    assert stolen.get("next") in (403, 404), stolen
    assert not any("leaked" in line for line in lambdas.lines), "\n".join(lambdas.lines)


def test_a_second_concurrent_next_is_refused_without_leaking(lambdas):
    assert lambdas.invoke("hello", {"warm": 1})[0] is None
    endpoint = lambdas.runtime_api()
    # The runtime's own /next is pending now; a second one on the right path is refused at once.
    second = requests.get(f"http://{endpoint}/2018-06-01/runtime/invocation/next", timeout=15)
    assert 400 <= second.status_code < 500, second.status_code
    error, result = lambdas.invoke("hello", {"b": 3})
    assert error is None and result["echo"] == {"b": 3}
    assert not any("leaked" in line for line in lambdas.lines), "\n".join(lambdas.lines)


def test_over_capacity_is_429_too_many_requests(local_runtime, root, tmp_path):
    running = StartLambda(local_runtime, root, tmp_path, "--max-concurrency", "1", external_timeout=10)
    try:
        def invoke(_):
            answer = requests.post(f"http://127.0.0.1:{running.port}/2015-03-31/functions/hello/invocations",
                                   data=json.dumps({"sleep": 2}), timeout=60)
            return answer.status_code, answer.headers.get("x-amzn-ErrorType"), answer.text

        with ThreadPoolExecutor(max_workers=3) as pool:
            results = list(pool.map(invoke, range(3)))
        throttled = [result for result in results if result[0] == 429]
        assert throttled, results
        assert all(kind.startswith("TooManyRequestsException") for _, kind, _ in throttled)
        assert all(json.loads(body)["Reason"] and json.loads(body)["Type"] == "User" for _, _, body in throttled)
        assert [result[0] for result in results].count(200) >= 1
        with pytest.raises(ClientError) as refused:
            with ThreadPoolExecutor(max_workers=2) as pool:
                for call in [pool.submit(running.invoke, "hello", {"sleep": 2}) for _ in range(2)]:
                    call.result()
        assert refused.value.response["Error"]["Code"] == "TooManyRequestsException"
    finally:
        running.stop()


@pytest.mark.parametrize("headers", [
    {"Origin": "http://attacker.example", "Content-Type": "text/plain"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Host": "attacker.example:3002"},
])
def test_a_web_page_cannot_invoke_functions(lambdas, headers):
    answer = requests.post(f"http://127.0.0.1:{lambdas.port}/2015-03-31/functions/hello/invocations",
                           data=json.dumps({"from": "a web page"}), headers=headers, timeout=30)
    assert answer.status_code == 403
    assert answer.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert not any("START RequestId" in line for line in lambdas.lines), "the function ran"
