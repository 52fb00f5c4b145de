"""What one chat message costs the deployed path, counted on a scripted session through the real stage
(`local-runtime serve --store dynamodb`) against moto behind a metering proxy (dynamodb_meter.py):
`@connections` POSTs per streamed reply, and DynamoDB calls and capacity units per admitted, refused
and blocked message and per connection. The targets hold here; `scripts/capacity-model` runs this
module with `CAPACITY_COUNTS_OUT` set to write the counts that docs/capacity.md is computed from."""
import json
import os
import re
import time
import uuid

import boto3
import pytest
import requests
from websockets.sync.client import connect

import dynamodb_meter
import openai_test_server
from stage import RunningStage
from test_serve_dynamodb import put_widget

ORIGIN = "http://localhost:5173"
OTHER_ORIGIN = "http://localhost:5174"
WIDGET = "widget_capacity_0001"
HTTP_WIDGET = "widget_capacity_0002"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}
# Partition keys every message of the whole system would write to: one item or index partition that
# takes a write per message caps the system at ~1,000 writes/s.
SYSTEM_WIDE_KEYS = [r"^USAGE#\d{4}-\d\d-\d\d$", r"^SECURITY_EVENTS$"]
# Seconds the refusals until the block and the blocked request take, with room to spare.
REFUSALS_SECONDS = 15


@pytest.fixture(scope="module")
def session(local_runtime, root, tmp_path_factory, moto):
    """The counts of one scripted session: connect, one streamed reply, then refusals until blocked."""
    endpoint, meter, proxy = dynamodb_meter.start(moto)
    provider = openai_test_server.start()
    table = f"chat-state-{uuid.uuid4().hex[:12]}"
    stage = RunningStage(local_runtime, root, tmp_path_factory.mktemp("capacity"), "--store", "dynamodb", env={
        **CREDENTIALS, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "TABLE_NAME": table,
        "AI_API_URL": provider.base_url("stream-200"), "AI_API_KEY": openai_test_server.API_KEY, "AI_MODEL": "test-model"})
    # A widget allowing one message an hour: every message after the first is refused until the block.
    dynamodb = boto3.client("dynamodb", endpoint_url=moto, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    put_widget(dynamodb, table, WIDGET, ["localhost"], min_interval_ms=3_600_000)
    put_widget(dynamodb, table, HTTP_WIDGET, ["localhost"], min_interval_ms=0)
    counts = {}
    try:
        def finished_sends():
            return len([line for line in stage.lines if line.startswith("sendMessage  ")])

        def send(ws, text):
            """Sends a message and returns its frames and the store calls of its invocation."""
            before, mark = finished_sends(), meter.mark()
            ws.send(json.dumps({"action": "sendMessage", "message": text}))
            frames = []
            while not frames or frames[-1]["type"] not in ("done", "message", "error"):
                frames.append(json.loads(ws.recv(timeout=30)))
            deadline = time.monotonic() + 30
            while finished_sends() <= before and time.monotonic() < deadline:
                time.sleep(0.01)
            return frames, meter.since(mark)

        mark = meter.mark()
        with connect(f"{stage.ws_url}?sessionId=s-capacity&widget_id={WIDGET}", origin=ORIGIN) as ws:
            stage.last_connection_id()
            counts["connect"] = meter.since(mark)
            frames, counts["admitted"] = send(ws, "Tell me everything about shipping.")
            counts["admitted"]["posts"] = len(frames)
            counts["admitted"]["frames"] = [frame["type"] for frame in frames]
            counts["admitted"]["reply_pieces"] = 200
            counts["admitted"]["reply"] = frames[-1].get("content", "")
            # The same message over the HTTP endpoint, to another widget (this one now allows no more
            # from this client): the first of a conversation, then one that continues it.
            for phase in ("http_first", "http_admitted"):
                mark = meter.mark()
                response = requests.post(f"{stage.http_url}/api/chat", headers={"Origin": ORIGIN}, timeout=30, json={
                    "widget_id": HTTP_WIDGET, "conversation_id": "h-capacity", "message": "Tell me everything about shipping.",
                    "conversation_token": "T2MEWOR5ZqlYhKZaFqkHaA"})
                counts[phase] = meter.since(mark)
                counts[phase]["status"] = response.status_code
            # Refused for the interval, again and again, until the refusals block the client. Security
            # events aggregate by minute, and a refusal that starts an event also writes its index
            # entry: the refusals and the blocked request go within one minute, so that which of them
            # start events (the first refusal and the block) does not depend on when the test runs.
            if 60 - time.time() % 60 < REFUSALS_SECONDS:
                time.sleep(60 - time.time() % 60 + 0.1)
            refusals = []
            for attempt in range(10):
                frames, cost = send(ws, f"And again {attempt}?")
                cost["error"] = frames[-1].get("error")
                if cost["error"] != "rate_limit_exceeded":
                    counts["blocked"] = cost
                    break
                refusals.append((frames[-1], cost))
            counts["refusals_before_block"] = len(refusals)
            # A chat POST refused by the limits: the interval this client took on the first widget over
            # the socket, from another allowed origin, which the socket's block does not cover.
            mark = meter.mark()
            response = requests.post(f"{stage.http_url}/api/chat", headers={"Origin": OTHER_ORIGIN}, timeout=30, json={
                "widget_id": WIDGET, "conversation_id": "h-refused", "message": "And over HTTP?"})
            counts["http_refused"] = meter.since(mark)
            counts["http_refused"]["status"] = response.status_code
            counts["http_refused"]["error"] = response.json().get("error")
        counts["refused"] = refusals[0][1]
        counts["refused"]["error"] = refusals[0][0].get("error")
        counts["refused_blocking"] = refusals[-1][1]
        counts["refused_blocking"]["error"] = refusals[-1][0].get("error")
    finally:
        stage.stop()
        provider.shutdown()
        provider.server_close()
        proxy.shutdown()
    if os.environ.get("CAPACITY_COUNTS_KEYS"):
        with open(os.environ["CAPACITY_COUNTS_KEYS"], "w") as out:
            json.dump({phase: value.get("keys") for phase, value in counts.items() if isinstance(value, dict)}, out, indent=1)
    if os.environ.get("CAPACITY_COUNTS_OUT"):
        summary = {phase: {k: v for k, v in value.items() if k not in ("keys", "reply", "frames")} if isinstance(value, dict) else value
                   for phase, value in counts.items()}
        with open(os.environ["CAPACITY_COUNTS_OUT"], "w") as out:
            json.dump(summary, out, indent=2, sort_keys=True)
            out.write("\n")
    return counts


def test_the_session_runs_as_scripted(session):
    assert session["admitted"]["frames"][-1] == "done"
    assert session["admitted"]["reply"] == "".join(f"w{i} " for i in range(200))
    assert session["refused"]["error"] == "rate_limit_exceeded"
    assert session["blocked"]["error"] == "temporarily_blocked"
    assert session["http_admitted"]["status"] == 200


def test_a_200_piece_reply_takes_at_most_12_posts(session):
    assert session["admitted"]["posts"] <= 12, session["admitted"]["frames"]


def test_an_admitted_message_costs_at_most_6_write_units(session):
    assert session["admitted"]["wru"] <= 6, session["admitted"]["keys"]


@pytest.mark.xfail(strict=True, reason="a refusal writes its security event, the day's usage and its client's warning, three "
                                      "items keyed apart (3 write units; 4 for the first refusal of an event, which this is, since "
                                      "it also writes the event's index entry); 2 needs both the usage and the warning off the "
                                      "write path: usage summed from the events (or a stream) and warnings read from them")
def test_a_refused_message_costs_at_most_2_write_units(session):
    assert session["refused"]["wru"] <= 2, session["refused"]["keys"]


def test_a_refused_message_costs_at_most_4_write_units(session):
    assert session["refused"]["wru"] <= 4, session["refused"]["keys"]


def test_a_refused_chat_post_takes_no_per_ip_increment_to_take_back(session):
    assert session["http_refused"]["error"] == "rate_limit_exceeded"
    written = [key for key in session["http_refused"]["keys"] if not key.startswith(("GetItem", "Query", "BatchGetItem"))]
    assert [key for key in written if key.split(" ", 1)[1].startswith("COUNTER#ip:")] == [], written


def test_a_blocked_client_costs_at_most_2_write_units_a_request(session):
    assert session["blocked"]["wru"] <= 2, session["blocked"]["keys"]


def test_no_message_writes_a_key_the_whole_system_shares(session):
    for phase in ("admitted", "refused", "blocked"):
        written = [key.split(" ", 1)[1] for key in session[phase]["keys"] if not key.startswith(("GetItem", "Query"))]
        shared = [key for key in written if any(re.match(pattern, key) for pattern in SYSTEM_WIDE_KEYS)]
        assert shared == [], f"{phase} writes {shared}"
