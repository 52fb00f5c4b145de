"""A flood of refusals whose client-controlled text is as large as the stage lets through: long
origins, a new one each time, and a long user agent. Counting a refusal into its security event
rewrites the event's item, which DynamoDB bills per KB of it, so the text the event keeps is bounded:
however large what the client sends, a count costs at most two write units, and the write that
creates an event one more for its index entry (a DynamoDB store behind the real stage, every call
priced by the metering proxy)."""
import uuid

import boto3
import requests

import dynamodb_meter
from stage import RunningStage
from test_serve_dynamodb import put_widget

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}
WIDGET = "widget_refusal_cost_01"
LONG_USER_AGENT = "Mozilla/5.0 " + "x" * 1_500


def hostile_origin(n):
    return f"https://{'a' * 60}.{'b' * 60}.{'c' * 60}.{'d' * 60}.{n:04d}.attacker.example"


def test_counting_a_refusal_with_long_headers_into_its_event_costs_at_most_two_write_units(local_runtime, root, tmp_path, moto):
    endpoint, meter, proxy = dynamodb_meter.start(moto)
    table = f"chat-state-{uuid.uuid4().hex[:12]}"
    stage = RunningStage(local_runtime, root, tmp_path, "--store", "dynamodb",
                         env={**CREDENTIALS, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "TABLE_NAME": table})
    try:
        dynamodb = boto3.client("dynamodb", endpoint_url=moto, region_name="us-east-1",
                                aws_access_key_id="testing", aws_secret_access_key="testing")
        put_widget(dynamodb, table, WIDGET, ["localhost"], min_interval_ms=0)
        mark = meter.mark()
        statuses = set()
        for n in range(12):
            response = requests.post(f"{stage.http_url}/api/chat", timeout=30,
                                     headers={"Origin": hostile_origin(n), "User-Agent": LONG_USER_AGENT},
                                     json={"widget_id": WIDGET, "message": "hello"})
            statuses.add(response.status_code)
        event_writes = [call for call in meter.calls[mark:] if call["pk"].startswith("SECURITY_EVENT#") and call["wru"]]
    finally:
        stage.stop()
        proxy.shutdown()
    assert statuses <= {403, 429}, statuses
    assert len(event_writes) >= 12
    creations, counts, seen = [], [], set()
    for call in event_writes:
        (counts if call["pk"] in seen else creations).append(call["wru"])
        seen.add(call["pk"])
    assert max(counts) <= 2, counts
    assert max(creations) <= 3, creations
