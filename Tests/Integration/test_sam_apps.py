"""`local-runtime` serving SAM apps that are not this project's: the example apps' YAML templates, with
Python (awslambdaric) and Node (the shipped Runtime API client) functions, driven by real clients."""
import json
import os
import subprocess
import threading
import time

import boto3
import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from stage import RunningStage

NODE_APP = "examples/node-websocket-echo/template.yaml"
PYTHON_APP = "examples/python-websocket-chat/template.yaml"


@pytest.fixture
def node_app(local_runtime, root, tmp_path):
    running = RunningStage(local_runtime, root, tmp_path, "-t", NODE_APP, "--parameter-overrides", "Greeting=hello")
    yield running
    running.stop()


def test_a_node_connect_handler_in_callback_style_refuses_with_its_status(node_app):
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{node_app.port}/live", open_timeout=30)
    assert refused.value.response.status_code == 400


def test_a_route_response_of_an_esm_handler_comes_back_to_the_sender(node_app):
    with connect(f"ws://127.0.0.1:{node_app.port}/live?name=ada", open_timeout=30) as ws:
        ws.send(json.dumps({"action": "anything", "data": "hi"}))
        reply = json.loads(ws.recv(timeout=30))
    assert reply == {"hello": "hi", "stage": "live", "kind": "production-like", "function": "local-echo", "echoed": 1}


def test_a_warm_node_function_keeps_its_module_state_between_messages(node_app):
    with connect(f"ws://127.0.0.1:{node_app.port}/live?name=ada", open_timeout=30) as ws:
        counts = []
        for text in ["one", "two"]:
            ws.send(json.dumps({"data": text}))
            counts.append(json.loads(ws.recv(timeout=30))["echoed"])
    assert counts == [counts[0], counts[0] + 1]


def test_a_node_handler_error_is_api_gateways_internal_server_error_frame(node_app):
    with connect(f"ws://127.0.0.1:{node_app.port}/live?name=ada", open_timeout=30) as ws:
        ws.send(json.dumps({"data": "fail"}))
        reply = json.loads(ws.recv(timeout=30))
        assert reply["message"] == "Internal server error"
        ws.send(json.dumps({"data": "again"}))
        assert json.loads(ws.recv(timeout=30))["hello"] == "again"


def test_an_http_api_event_reaches_a_node_function_with_lambdas_environment(node_app):
    response = requests.get(f"{node_app.http_url}/stats", timeout=30)
    assert response.status_code == 200
    assert response.json() == {"path": "/stats", "version": "2.0", "stage": "$default", "runtime": "AWS_Lambda_nodejs20.x",
                               "region": "us-east-1"}


def test_an_http_api_route_with_payload_format_1_0_gets_the_version_1_event(node_app):
    response = requests.get(f"{node_app.http_url}/v1/stats", timeout=30)
    assert response.status_code == 200
    assert response.json()["version"] == "1.0" and response.json()["path"] == "/v1/stats"


def test_a_rest_api_event_gets_the_proxy_event_in_sams_prod_stage(node_app):
    response = requests.get(f"{node_app.http_url}/rest/stats", timeout=30)
    assert response.status_code == 200
    assert response.json()["stage"] == "Prod" and response.json()["path"] == "/rest/stats" and response.json()["version"] is None


@pytest.fixture
def python_app(local_runtime, root, tmp_path, moto):
    environment = {"AWS_ENDPOINT_URL_DYNAMODB": moto, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                   "AWS_REGION": "us-east-1"}
    table_name = f"chat-{tmp_path.name}"[:200]
    dynamodb = boto3.client("dynamodb", endpoint_url=moto, region_name="us-east-1",
                            aws_access_key_id="local", aws_secret_access_key="local")
    dynamodb.create_table(TableName=table_name, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "connectionId", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}])
    running = RunningStage(local_runtime, root, tmp_path, "-t", PYTHON_APP,
                           "--parameter-overrides", f"ConnectionsTableName={table_name}", env=environment)
    running.table = lambda: sorted(item["connectionId"]["S"] for item in dynamodb.scan(TableName=table_name)["Items"])
    running.table_put = lambda connection_id: dynamodb.put_item(TableName=table_name, Item={"connectionId": {"S": connection_id}})
    yield running
    running.stop()


def wait_for(predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_python_connect_and_disconnect_keep_the_connections_table_on_moto(python_app):
    with connect(f"ws://127.0.0.1:{python_app.port}/dev", open_timeout=30):
        wait_for(lambda: len(python_app.table()) == 1)
    wait_for(lambda: python_app.table() == [])


def test_python_sendmessage_posts_to_every_connection_through_https_callbacks(python_app):
    url = f"ws://127.0.0.1:{python_app.port}/dev"
    with connect(url, open_timeout=30) as alice, connect(url, open_timeout=30) as bob:
        wait_for(lambda: len(python_app.table()) == 2)
        alice.send(json.dumps({"action": "sendmessage", "data": "hello both"}))
        assert alice.recv(timeout=30) == "hello both"
        assert bob.recv(timeout=30) == "hello both"


def test_a_gone_connection_is_dropped_by_the_handler_when_posting_answers_410(python_app):
    url = f"ws://127.0.0.1:{python_app.port}/dev"
    with connect(url, open_timeout=30) as alice:
        wait_for(lambda: len(python_app.table()) == 1)
        python_app.table_put("stale-connection")
        alice.send(json.dumps({"action": "sendmessage", "data": "anyone?"}))
        assert alice.recv(timeout=30) == "anyone?"
        wait_for(lambda: "stale-connection" not in python_app.table())


def test_the_stage_serves_wss_on_the_same_port_with_the_local_ca(python_app, tmp_path):
    import ssl
    context = ssl.create_default_context(cafile=str(tmp_path / "tls" / "ca.pem"))
    with connect(f"wss://127.0.0.1:{python_app.port}/dev", ssl=context, open_timeout=30):
        wait_for(lambda: len(python_app.table()) == 1)


def test_an_event_generated_for_a_route_runs_through_invoke(local_runtime, root, tmp_path):
    app = root / "examples/node-websocket-echo"
    event = subprocess.run([local_runtime, "event", "GET /v1/stats", "--query", "a=1"], cwd=app, capture_output=True, text=True,
                           timeout=60, check=True).stdout
    assert json.loads(event)["queryStringParameters"] == {"a": "1"}
    result = subprocess.run([local_runtime, "invoke", "StatsFunction", "--event", "-"], cwd=app, input=event, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(json.loads(result.stdout)["body"])["version"] == "1.0"


def test_a_recorded_node_session_replays_with_its_expectations(local_runtime, root, tmp_path):
    recorded = tmp_path / "recorded"
    running = RunningStage(local_runtime, root, tmp_path, "-t", NODE_APP, "--record", str(recorded))
    try:
        with connect(f"ws://127.0.0.1:{running.port}/live?name=ada", open_timeout=30) as ws:
            ws.send(json.dumps({"data": "hi"}))
            ws.recv(timeout=30)
    finally:
        running.stop()
    assert len(list(recorded.glob("*.expected.json"))) == len(list(recorded.glob("*.json"))) // 2 >= 2
    result = subprocess.run([local_runtime, "replay", "-t", NODE_APP, str(recorded)], cwd=root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 failed" in result.stdout and "EchoFunction" in result.stdout


BOOTSTRAP = """#!/usr/bin/env python3
import json, os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as next_:
        request_id = next_.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.load(next_)
    body = json.dumps({"echo": event, "handler": os.environ["_HANDLER"], "root": os.environ["LAMBDA_TASK_ROOT"]}).encode()
    urllib.request.urlopen(urllib.request.Request(api + request_id + "/response", data=body, method="POST")).read()
"""


def test_a_provided_runtime_bootstrap_in_a_zip_runs_unpacked_inside_the_state_folder(local_runtime, tmp_path):
    import zipfile
    app = tmp_path / "app"
    app.mkdir()
    with zipfile.ZipFile(app / "function.zip", "w") as archive:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        archive.writestr(info, BOOTSTRAP)
    (app / "template.yaml").write_text(
        'Resources:\n  "../../Escape":\n    Type: AWS::Serverless::Function\n'
        "    Properties: {Runtime: provided.al2023, Handler: my.handler, CodeUri: function.zip}\n")
    state = tmp_path / "state"
    result = subprocess.run([local_runtime, "invoke", "../../Escape", "--event", "-", "--state", str(state / "state.sqlite")],
                            cwd=app, input='{"n": 1}', capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    output = json.loads(result.stdout)
    assert output["echo"] == {"n": 1} and output["handler"] == "my.handler"
    assert output["root"].startswith(str(state / "code") + "/Escape-")
