"""Issue #24, finding 4: a `@connections` POST of 128 KB + 1 byte was answered 500 with an empty
body (boto3 retries 5xx), and `/_dev/replay` with a body over 4 KB answered 500. An oversized body
is 413 wherever a size is exceeded (SPEC §5.1), and no input gets a 500."""
import json
import time

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from websockets.sync.client import connect

ORIGIN = "http://localhost:5173"
LIMIT = 128 * 1024


def open_connection(stage):
    """A connection the stage has registered: the handshake's 101 goes out a moment before the stage
    files the connection for `@connections`, which answers 410 until then."""
    ws = connect(f"{stage.ws_url}?sessionId=big&widget_id=widget_demo_localhost", origin=ORIGIN)
    connection_id = stage.last_connection_id()
    deadline = time.monotonic() + 10
    while requests.get(f"{stage.http_url}/dev/@connections/{connection_id}", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "the connection never became reachable through @connections"
        time.sleep(0.02)
    return ws, connection_id


@pytest.mark.parametrize("size", [LIMIT + 1, LIMIT + 4096, 2 * 1024 * 1024])
def test_an_oversized_post_to_a_connection_is_413_payload_too_large(stage, size):
    ws, connection_id = open_connection(stage)
    with ws:
        answer = requests.post(f"{stage.http_url}/dev/@connections/{connection_id}", data=b"x" * size, timeout=30)
    assert answer.status_code == 413, (answer.status_code, answer.text)
    assert answer.headers["x-amzn-ErrorType"] == "PayloadTooLargeException"
    assert json.loads(answer.text)["message"]


def test_an_oversized_post_to_an_unknown_connection_is_still_413(stage):
    answer = requests.post(f"{stage.http_url}/dev/@connections/AAAAAAAAAAAAAAA=", data=b"x" * (LIMIT + 1), timeout=30)
    assert answer.status_code == 413


def test_a_post_of_exactly_the_limit_is_delivered(stage):
    ws, connection_id = open_connection(stage)
    with ws:
        answer = requests.post(f"{stage.http_url}/dev/@connections/{connection_id}", data=b"y" * LIMIT, timeout=30)
        assert answer.status_code == 200
        assert ws.recv(timeout=10) == "y" * LIMIT


def test_boto3_gets_payload_too_large_without_retrying(stage):
    ws, connection_id = open_connection(stage)
    api = boto3.client("apigatewaymanagementapi", endpoint_url=f"{stage.http_url}/dev", region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local",
                       config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    with ws:
        with pytest.raises(ClientError) as refused:
            api.post_to_connection(ConnectionId=connection_id, Data=b"x" * (LIMIT + 1))
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert refused.value.response["Error"]["Code"] == "PayloadTooLargeException"


@pytest.mark.parametrize("size", [4097, 64 * 1024, 1024 * 1024])
def test_an_oversized_replay_request_is_413(stage, size):
    body = json.dumps({"path": "events/chat/01-post-success.json", "padding": "p" * size})
    answer = requests.post(f"{stage.http_url}/_dev/replay", data=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert answer.status_code == 413, (answer.status_code, answer.text)


def test_an_oversized_http_api_body_is_413(stage):
    answer = requests.post(f"{stage.http_url}/api/chat", data=b"{" + b" " * (10 * 1024 * 1024 + 1), timeout=60,
                           headers={"Content-Type": "application/json", "Origin": ORIGIN})
    assert answer.status_code == 413


@pytest.mark.parametrize("request_line", [
    b"POST /dev/@connections/%ZZ HTTP/1.1",
    b"POST /dev/@connections/ HTTP/1.1",
    b"PATCH /dev/@connections/abc HTTP/1.1",
    b"POST /_dev/replay HTTP/1.1",
    b"GET /dev/@connections/" + b"A" * 4000 + b" HTTP/1.1",
])
def test_odd_requests_never_get_a_500(stage, request_line):
    from probes import raw_request
    body = b'{"path": 5}'
    request = request_line + f"\r\nHost: 127.0.0.1:{stage.port}".encode() + b"\r\nContent-Type: application/json\r\nContent-Length: " + \
        str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    answer = raw_request(stage.port, request, timeout=20)
    assert answer.startswith(b"HTTP/1.1 4"), answer[:300]
