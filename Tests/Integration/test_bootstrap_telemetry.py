"""What the deployed `bootstrap` tells operators (SPEC §5.6, issue #26): CloudWatch metrics as Embedded
Metric Format lines on stdout, one structured line per invocation and per refusal, Lambda's log format
and level honoured, and never message text or PII in any of it."""
import copy
import json
import os
import pathlib
import re
import subprocess

import pytest

import openai_test_server
from runtime_api import RuntimeAPI

ROOT = pathlib.Path(__file__).resolve().parents[2]
BOOTSTRAP = ROOT / ".build" / "debug" / "bootstrap"
CHAT_EVENT = json.loads((ROOT / "events/chat/01-post-success.json").read_text())
ADMIN_EVENT = json.loads((ROOT / "events/admin/01-missing-token.json").read_text())
START_MS = CHAT_EVENT["requestContext"]["timeEpoch"]
EMAIL, PHONE = "alice.private@example.com", "+44 20 7946 0958"


def chat_event(n, *, ip="198.51.100.7", origin="http://localhost:5173", message="What are your opening hours?",
               widget_id="widget_demo_localhost", user_agent="TelemetryTest/1.0"):
    """The recorded chat POST with another body, client and time: 3 s apart, so that the widget's minimum
    interval between messages (2 s) never refuses one by accident; CLOCK=event makes the time the event's."""
    event = copy.deepcopy(CHAT_EVENT)
    event["requestContext"]["timeEpoch"] = START_MS + n * 3000
    event["requestContext"]["requestId"] = f"req-{n}"
    event["requestContext"]["http"]["sourceIp"] = ip
    event["requestContext"]["http"]["userAgent"] = user_agent
    event["headers"].update({"origin": origin, "x-forwarded-for": ip, "user-agent": user_agent})
    event["body"] = json.dumps({"widget_id": widget_id, "conversation_id": f"conv-{n}", "message": message})
    return json.dumps(event).encode()


@pytest.fixture
def state(local_runtime, root, tmp_path):
    """A state file holding the demo widget, as local-runtime creates it on first run."""
    path = tmp_path / "state.sqlite"
    subprocess.run([local_runtime, "invoke", "chat", "--event", "-", "--state", str(path)], input=(root / "events/chat/02-preflight.json").read_bytes(),
                   cwd=root, check=True, capture_output=True)
    return path


class Bootstrap:
    """One `bootstrap` process behind a test Runtime API; `finish()` stops it and returns its stdout and stderr lines."""

    def __init__(self, handler, state, **env):
        self.api = RuntimeAPI()
        self.process = subprocess.Popen([str(BOOTSTRAP)], env={
            "PATH": os.environ["PATH"], "AWS_LAMBDA_RUNTIME_API": self.api.endpoint, "_HANDLER": handler, "STORE": "sqlite",
            "STATE_PATH": str(state), "CLOCK": "event", **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def invoke(self, payload):
        kind, _, body = self.api.invoke(payload)
        assert kind == "response", body
        return json.loads(body)

    def finish(self):
        self.process.kill()
        stdout, stderr = self.process.communicate(timeout=30)
        self.api.close()
        return stdout.decode().splitlines(), stderr.decode().splitlines()


def metric_totals(lines):
    """Sums every EMF metric over `lines`, checking each EMF document as CloudWatch would: declared
    metrics present as top-level members, dimension keys present, bounded dimensions only."""
    totals, samples = {}, {}
    for line in lines:
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        if "_aws" not in document:
            continue
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Dimensions"] == [["function"], []]
        assert document["function"] in {"connect", "disconnect", "sendMessage", "chat", "admin"}
        assert isinstance(document["_aws"]["Timestamp"], int)
        for metric in directive["Metrics"]:
            value = document[metric["Name"]]
            values = value if isinstance(value, list) else [value]
            if metric["Unit"] == "Count":
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(values)
            else:
                assert metric["Unit"] == "Milliseconds"
                samples.setdefault(metric["Name"], []).extend(values)
    return totals, samples


def test_a_scripted_session_emits_every_metric_with_its_count(state, tmp_path):
    chat = Bootstrap("chat", state, AWS_LAMBDA_LOG_FORMAT="JSON", METRICS_NAMESPACE="ChatWidget/test")
    statuses = [
        chat.invoke(chat_event(1))["statusCode"],                                              # answered
        chat.invoke(chat_event(2, ip="198.51.100.20", message="x" * 2001))["statusCode"],      # message_too_long
        chat.invoke(chat_event(3, ip="198.51.100.21", message="see http://spam.example"))["statusCode"],  # content
        chat.invoke(chat_event(4, ip="198.51.100.22", widget_id="widget_doesnotexist123"))["statusCode"],
        chat.invoke(chat_event(5, ip="198.51.100.23", widget_id="not-a-widget"))["statusCode"],
        chat.invoke(chat_event(6, ip="198.51.100.24", origin="https://evil.example"))["statusCode"],
    ]
    # The same client again within the widget's minimum interval: rate limited.
    rate_limited = json.loads(chat_event(1))
    rate_limited["requestContext"]["timeEpoch"] += 500
    rate_limited["requestContext"]["requestId"] = "req-1b"
    statuses.append(chat.invoke(json.dumps(rate_limited).encode())["statusCode"])
    # Three refusals block a client (AUTO_BLOCK_AFTER_WARNINGS); its next message is refused as blocked.
    for n in (7, 8, 9):
        statuses.append(chat.invoke(chat_event(n, ip="198.51.100.30", message="<b>bold</b> move"))["statusCode"])
    statuses.append(chat.invoke(chat_event(10, ip="198.51.100.30"))["statusCode"])
    stdout, _ = chat.finish()
    assert statuses == [200, 400, 400, 404, 400, 403, 429, 400, 400, 400, 429]

    provider = openai_test_server.start()
    try:
        failing = Bootstrap("chat", state, AI_API_KEY=openai_test_server.API_KEY, AI_API_URL=provider.base_url("malformed"))
        assert failing.invoke(chat_event(11, ip="198.51.100.40"))["statusCode"] == 502
        failing_stdout, _ = failing.finish()
    finally:
        provider.shutdown()
        provider.server_close()

    admin = Bootstrap("admin", state, ADMIN_JWT_SECRET="s" * 40)
    assert admin.invoke(json.dumps(ADMIN_EVENT).encode())["statusCode"] == 401
    admin_stdout, _ = admin.finish()

    totals, samples = metric_totals(stdout + failing_stdout + admin_stdout)
    assert totals == {
        "Messages": 8 + 1,          # every message that reached the chat policy: 1, 2, 3, 1b, 7-10; then 11
        "Replies": 1,
        "AIErrors": 1,
        "MessageTooLong": 1,
        "SuspiciousContent": 1 + 3,
        "WidgetNotFound": 1,
        "InvalidWidgetId": 1,
        "DomainNotAllowed": 1,
        "RateLimitExceeded": 1,
        "BlocksStarted": 1,
        "Blocked": 1,
        "AdminAuthenticationFailures": 1,
    }
    assert len(samples["AILatency"]) == 2 and all(v >= 0 for v in samples["AILatency"])  # the reply and the failed call
    namespaces = {json.loads(l)["_aws"]["CloudWatchMetrics"][0]["Namespace"] for l in stdout if '"_aws"' in l}
    assert namespaces == {"ChatWidget/test"}


def test_json_format_gives_one_line_per_invocation_and_per_refusal(state):
    chat = Bootstrap("chat", state, AWS_LAMBDA_LOG_FORMAT="JSON")
    chat.invoke(chat_event(1))
    chat.invoke(chat_event(2, ip="198.51.100.50", origin="https://evil.example"))
    stdout, _ = chat.finish()
    documents = [json.loads(line) for line in stdout]
    assert [(d["type"], d["level"]) for d in documents] == [("invocation", "INFO"), ("refusal", "WARN"), ("invocation", "INFO")]
    answered, refusal, refused = documents
    # Lambda's request id (as in its START/END/REPORT lines and X-Ray), not API Gateway's.
    assert answered["requestId"] and answered["function"] == "chat" and answered["status"] == 200
    assert answered["widgetId"] == "widget_demo_localhost" and answered["durationMs"] >= 0
    assert refusal["requestId"] == refused["requestId"] != answered["requestId"] and refusal["event"] == "domain_not_allowed"
    assert refusal["widgetId"] == "widget_demo_localhost"  # it exists; a made-up id would not be logged
    assert refused["status"] == 403
    for document in documents:
        assert document["timestamp"].endswith("Z") and document["message"]


def test_a_widget_id_a_client_made_up_is_never_logged(state):
    chat = Bootstrap("chat", state, AWS_LAMBDA_LOG_FORMAT="JSON")
    chat.invoke(chat_event(1, widget_id="widget_attacker_chosen_name"))
    stdout, _ = chat.finish()
    assert stdout and not any("attacker_chosen" in line for line in stdout)


def test_text_format_logs_refusals_as_text_and_keeps_metrics_as_emf(state):
    chat = Bootstrap("chat", state)
    chat.invoke(chat_event(1, ip="198.51.100.60", origin="https://evil.example"))
    stdout, _ = chat.finish()
    assert stdout[0].startswith("WARN refusal requestId=") and " function=chat event=domain_not_allowed widgetId=widget_demo_localhost" in stdout[0]
    assert json.loads(stdout[1])["DomainNotAllowed"] == 1 and "level" not in json.loads(stdout[1])


@pytest.mark.parametrize("log_format, expected", [
    # JSON: lines below the level are not written (Lambda would drop them too); one warning says metrics go with them.
    ("JSON", ["ERROR"]),
    # Text: Lambda filters nothing, so the invocation line keeps its metrics; the refusal line (WARN) is below ERROR.
    ("Text", ["invocation"]),
])
def test_the_log_level_is_honoured(state, log_format, expected):
    chat = Bootstrap("chat", state, AWS_LAMBDA_LOG_FORMAT=log_format, AWS_LAMBDA_LOG_LEVEL="ERROR")
    chat.invoke(chat_event(1))
    chat.invoke(chat_event(2, ip="198.51.100.70", origin="https://evil.example"))
    stdout, _ = chat.finish()
    if log_format == "JSON":
        assert [json.loads(line)["level"] for line in stdout] == expected
        assert "AWS_LAMBDA_LOG_LEVEL=ERROR" in json.loads(stdout[0])["message"]
    else:
        assert [json.loads(line)["type"] for line in stdout] == expected * 2
        assert "Replies" in stdout[0] and "DomainNotAllowed" in stdout[1]


def test_no_message_text_or_pii_reaches_the_logs(state):
    """A session full of PII — in messages, refused messages, user agents, origins — and the client's IP
    address: none of it appears in anything the process writes, in either format."""
    secret_words = "Zanzibar-marmalade-7"
    user_agent = "PrivateBrowser/9.9 (owner alice.private)"
    ips = ["203.0.113.77", "203.0.113.78", "203.0.113.79"]
    for log_format in ("JSON", "Text"):
        chat = Bootstrap("chat", state, AWS_LAMBDA_LOG_FORMAT=log_format, AWS_LAMBDA_LOG_LEVEL="TRACE")
        messages = [f"My email is {EMAIL} and phone {PHONE}, {secret_words}",
                    f"{secret_words} " + "y" * 2001,
                    f"{secret_words} visit http://{EMAIL.split('@')[1]}/x"]
        for n, (message, ip) in enumerate(zip(messages, ips), start=1):
            chat.invoke(chat_event(n, ip=ip, message=message, user_agent=user_agent))
        chat.invoke(chat_event(4, ip=ips[0], origin="https://alice-private-site.example", user_agent=user_agent))
        stdout, stderr = chat.finish()
        written = "\n".join(stdout + stderr)
        assert stdout, "the session was logged at all"
        for needle in [EMAIL, PHONE, secret_words, "opening hours", user_agent, "PrivateBrowser", "alice-private-site", *ips]:
            assert needle not in written, (log_format, needle)
        # A group of the phone number on its own; the same four digits inside a longer number (an EMF
        # timestamp in milliseconds, 1796569794665) are not the phone's.
        assert not re.search(r"(?<!\d)7946(?!\d)", written), log_format
