"""`local-runtime serve --store dynamodb`: a whole WebSocket session against moto's DynamoDB, with
the table inspected through boto3 — the state a deployed stack would keep."""
import base64
import hashlib
import json
import os
import subprocess
import uuid

import boto3
import pytest
from websockets.sync.client import connect

from stage import RunningStage

ORIGIN = "http://localhost:5173"
WIDGET = "widget_demo_localhost"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}


@pytest.fixture
def table_name():
    return f"chat-state-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def dynamodb(moto):
    return boto3.client("dynamodb", endpoint_url=moto, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def dynamodb_stage(local_runtime, root, tmp_path, moto, table_name):
    running = RunningStage(local_runtime, root, tmp_path, "--store", "dynamodb",
                           env={**CREDENTIALS, "AWS_ENDPOINT_URL_DYNAMODB": moto, "TABLE_NAME": table_name})
    yield running
    running.stop()


def item(dynamodb, table, pk, sk):
    return dynamodb.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True).get("Item")


def storage_key(widget, conversation, token):
    """Where a conversation's messages are stored: its id, `~`, and the first 16 bytes of a SHA-256 of
    widget, id and token (each followed by a zero byte), base64url (docs/protocol.md)."""
    digest = hashlib.sha256(b"".join(part.encode() + b"\0" for part in (widget, conversation, token))).digest()
    return conversation + "~" + base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def test_a_whole_session_keeps_its_state_in_dynamodb(dynamodb_stage, dynamodb, table_name):
    assert item(dynamodb, table_name, "WIDGETS", WIDGET) is not None, "the demo widget is seeded into the table"

    with connect(f"{dynamodb_stage.ws_url}?sessionId=s-dynamo&widget_id={WIDGET}", origin=ORIGIN) as ws:
        connection_id = dynamodb_stage.last_connection_id()
        connection = item(dynamodb, table_name, f"CONNECTION#{connection_id}", "CONNECTION")
        assert json.loads(connection["record"]["S"])["sessionId"] == "s-dynamo"
        assert int(connection["expires_at"]["N"]) > 0

        ws.send(json.dumps({"action": "sendMessage", "message": "How long does shipping take?"}))
        frame = json.loads(ws.recv(timeout=10))
        assert frame["type"] == "message"
        assert frame["content"] == "Orders ship within one business day; delivery usually takes 2 to 4 days."
        conversation = storage_key(WIDGET, "s-dynamo", frame["conversation_token"])

    dynamodb_stage.wait_for_line(r"^disconnect  \$disconnect  ")
    assert item(dynamodb, table_name, f"CONNECTION#{connection_id}", "CONNECTION") is None

    messages = dynamodb.query(TableName=table_name, KeyConditionExpression="pk = :pk AND begins_with(sk, :m)",
                              ExpressionAttributeValues={":pk": {"S": f"CONVERSATION#{WIDGET}#{conversation}"},
                                                         ":m": {"S": "MESSAGE#"}}, ConsistentRead=True)["Items"]
    assert [json.loads(m["record"]["S"])["role"] for m in messages] == ["user", "assistant"]
    limits = dynamodb.scan(TableName=table_name, FilterExpression="begins_with(pk, :c)",
                           ExpressionAttributeValues={":c": {"S": "LIMITS#limits:"}})["Items"]
    assert len(limits) == 1, "the client's windows and interval on the widget are one item"
    counts = json.loads(limits[0]["limits"]["S"])["counts"]
    assert sorted(counts.values()) == [1, 1, 1], "minute, hour and day windows counted once"


def put_widget(dynamodb, table, widget_id, domains, min_interval_ms):
    """Writes a widget as the store lays it out: the record under WIDGETS, an item per allowed domain."""
    record = {"widget_id": widget_id, "name": "Patient widget", "allowed_domains": domains, "is_active": True,
              "limits": {"min_message_interval_ms": min_interval_ms}, "settings": {"greeting": "Hi"},
              "created_at": 1750000000000, "updated_at": 1750000000000}
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "WIDGETS"}, "sk": {"S": widget_id},
                                             "record": {"S": json.dumps(record)}, "version": {"N": "1"}})
    for domain in domains:
        dynamodb.put_item(TableName=table, Item={"pk": {"S": f"DOMAIN#{domain}"}, "sk": {"S": widget_id}})


def test_limits_hold_across_a_restart_of_serve(local_runtime, root, tmp_path, moto, table_name, dynamodb):
    """A widget allowing one message an hour: the second message, sent after a restart, is refused
    because the interval lives in the table, not in the process."""
    environment = {**CREDENTIALS, "AWS_ENDPOINT_URL_DYNAMODB": moto, "TABLE_NAME": table_name}
    frames = []
    for run in range(2):
        stage = RunningStage(local_runtime, root, tmp_path / str(run), "--store", "dynamodb", env=environment)
        if run == 0:
            put_widget(dynamodb, table_name, "widget_hourly_00000001", ["localhost"], min_interval_ms=3_600_000)
        try:
            with connect(f"{stage.ws_url}?sessionId=s-restart&widget_id=widget_hourly_00000001", origin=ORIGIN) as ws:
                ws.send(json.dumps({"action": "sendMessage", "message": f"hello {run}"}))
                frames.append(json.loads(ws.recv(timeout=10)))
        finally:
            stage.stop()
    assert frames[0]["type"] == "message"
    assert frames[1]["type"] == "error"
    assert frames[1]["error"] == "rate_limit_exceeded"
    assert 3000 < frames[1]["retry_after"] <= 3600


def test_serve_without_credentials_names_what_is_missing(local_runtime, root, tmp_path, moto):
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    result = subprocess.run([local_runtime, "serve", "--port", "0", "--store", "dynamodb"], cwd=root, capture_output=True,
                            text=True, timeout=60, env={**environment, "AWS_ENDPOINT_URL_DYNAMODB": moto})
    assert result.returncode != 0
    assert "AWS_ACCESS_KEY_ID is not set" in result.stdout + result.stderr
