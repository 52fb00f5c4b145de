"""`serve` exposes the functions' metrics at /metrics in Prometheus text format (SPEC §5.6): the same counts
the deployed functions emit as Embedded Metric Format lines, scraped here with prometheus_client's parser."""
import json
import time

import requests
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

ORIGIN = "http://localhost:5173"
WIDGET = "widget_demo_localhost"


def scrape(stage):
    response = requests.get(f"{stage.http_url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def chat(stage, message, origin=ORIGIN, widget=WIDGET):
    headers = {"Origin": origin, "Content-Type": "application/json"}
    return requests.post(f"{stage.http_url}/api/chat", headers=headers, timeout=10,
                         data=json.dumps({"widget_id": widget, "conversation_id": "c1", "message": message}))


def test_metrics_count_what_the_functions_did(stage):
    before = scrape(stage)
    assert before[("chat_widget_messages_total", (("function", "chat"),))] == 0
    assert before[("chat_widget_rate_limit_exceeded_total", (("function", "sendMessage"),))] == 0

    assert chat(stage, "What are your opening hours?").status_code == 200
    assert chat(stage, "x" * 2001).status_code == 400                        # message_too_long
    assert chat(stage, "hi", widget="widget_nobody_has_this").status_code == 404
    assert chat(stage, "hi", origin="https://evil.example").status_code == 403
    time.sleep(2.1)  # the demo widget's minimum interval between one client's messages, across both APIs
    with connect(f"{stage.ws_url}?sessionId=m1&widget_id={WIDGET}", origin=ORIGIN) as ws:
        ws.send(json.dumps({"action": "sendMessage", "message": "How long does shipping take?"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "message"
        ws.send(json.dumps({"action": "sendMessage", "message": "And returns?"}))  # within the 2 s interval
        assert json.loads(ws.recv(timeout=10))["error"] == "rate_limit_exceeded"
    assert requests.get(f"{stage.http_url}/api/admin/widgets", timeout=10).status_code == 401

    after = scrape(stage)

    def value(name, function):
        return after[(name, (("function", function),))]

    assert value("chat_widget_messages_total", "chat") == 2
    assert value("chat_widget_replies_total", "chat") == 1
    assert value("chat_widget_message_too_long_total", "chat") == 1
    assert value("chat_widget_widget_not_found_total", "chat") == 1
    assert value("chat_widget_domain_not_allowed_total", "chat") == 1
    assert value("chat_widget_messages_total", "sendMessage") == 2
    assert value("chat_widget_replies_total", "sendMessage") == 1
    assert value("chat_widget_rate_limit_exceeded_total", "sendMessage") == 1
    assert value("chat_widget_admin_authentication_failures_total", "admin") == 1
    assert value("chat_widget_ai_latency_seconds_count", "chat") == 1
    assert value("chat_widget_ai_latency_seconds_count", "sendMessage") == 1
    assert after[("chat_widget_invocations_total", (("function", "connect"), ("outcome", "ok")))] >= 1
    assert after[("chat_widget_invocations_total", (("function", "disconnect"), ("outcome", "ok")))] >= 0


def test_metrics_follow_the_consoles_host_and_cross_site_rules(stage):
    assert requests.get(f"{stage.http_url}/metrics", headers={"Host": "attacker.example"}, timeout=10).status_code == 403
    assert requests.get(f"{stage.http_url}/metrics", headers={"Sec-Fetch-Site": "cross-site"}, timeout=10).status_code == 403
    refused = requests.post(f"{stage.http_url}/metrics", timeout=10)
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET, HEAD"
