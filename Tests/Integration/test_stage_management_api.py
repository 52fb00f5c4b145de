"""boto3's `apigatewaymanagementapi` client, unchanged, against the local stage's @connections API."""
import datetime
import json
import re
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from stage import RunningStage

ORIGIN = "http://localhost:5173"


@pytest.fixture
def api(stage):
    return boto3.client("apigatewaymanagementapi", endpoint_url=f"{stage.http_url}/dev", region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def open_connection(stage, session="m-1"):
    ws = connect(f"{stage.ws_url}?sessionId={session}&widget_id=widget_demo_localhost", origin=ORIGIN,
                 user_agent_header="integration-test/1.0")
    return ws, stage.last_connection_id()


def test_post_to_connection_reaches_the_client(stage, api):
    ws, connection_id = open_connection(stage)
    with ws:
        api.post_to_connection(ConnectionId=connection_id, Data=b'{"type":"message","content":"pushed"}')
        assert json.loads(ws.recv(timeout=10)) == {"type": "message", "content": "pushed"}


def test_get_connection_returns_connected_at_and_identity(stage, api):
    ws, connection_id = open_connection(stage)
    with ws:
        info = api.get_connection(ConnectionId=connection_id)
    assert isinstance(info["ConnectedAt"], datetime.datetime)
    assert isinstance(info["LastActiveAt"], datetime.datetime)
    assert info["Identity"]["SourceIp"] == "127.0.0.1"
    assert info["Identity"]["UserAgent"] == "integration-test/1.0"


def test_delete_connection_closes_the_client_and_fires_disconnect_once(stage, api):
    ws, connection_id = open_connection(stage)
    with ws:
        api.delete_connection(ConnectionId=connection_id)
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)
    stage.wait_for_line(r"^disconnect  \$disconnect  " + re.escape(connection_id))
    time.sleep(0.5)
    assert len([l for l in stage.invocations("disconnect") if connection_id in l]) == 1


def test_posting_to_a_closed_connection_raises_gone_exception(stage, api):
    ws, connection_id = open_connection(stage)
    with ws:
        pass
    stage.wait_for_line(r"^disconnect  \$disconnect  " + re.escape(connection_id))
    with pytest.raises(ClientError) as gone:
        api.post_to_connection(ConnectionId=connection_id, Data=b"late")
    assert gone.value.response["Error"]["Code"] == "GoneException"
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410


def test_an_unknown_connection_is_gone_for_get_and_delete(api):
    for call in (api.get_connection, api.delete_connection):
        with pytest.raises(ClientError) as gone:
            call(ConnectionId="AAAAAAAAAAAAAAA=")
        assert gone.value.response["Error"]["Code"] == "GoneException"


def test_posting_more_than_128_kb_is_payload_too_large(stage, api):
    ws, connection_id = open_connection(stage)
    with ws:
        with pytest.raises(ClientError) as refused:
            api.post_to_connection(ConnectionId=connection_id, Data=b"x" * (128 * 1024 + 1))
    assert refused.value.response["Error"]["Code"] == "PayloadTooLargeException"
