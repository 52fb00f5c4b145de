"""Personal data that must never be stored in clear, and origins that must never pass for an allowed
domain: a hostile (or just careless) client against a real stage. Admin tokens and allowed-domain
entries are attacked through the admin API in Tests/Integration/test_admin_api.py."""
import http.client
import json
import time

import jwt
import pytest

from stage import RunningStage

ORIGIN = "http://localhost:5173"
WIDGET = "widget_demo_localhost"
SECRET = "pii-attack-tests-admin-secret-0123456789abcdef"


@pytest.fixture
def admin_stage(local_runtime, root, tmp_path):
    stage = RunningStage(local_runtime, root, tmp_path, env={"ADMIN_JWT_SECRET": SECRET})
    yield stage
    stage.stop()


def chat_from(stage, address, message, origin=ORIGIN):
    """A chat POST from its own loopback address (each client has its own limits), as UTF-8."""
    connection = http.client.HTTPConnection("127.0.0.1", stage.port, timeout=15, source_address=(address, 0))
    body = json.dumps({"widget_id": WIDGET, "conversation_id": "pii", "message": message}, ensure_ascii=False).encode()
    connection.request("POST", "/api/chat", body=body, headers={"Origin": origin, "Content-Type": "application/json"})
    response = connection.getresponse()
    status, payload = response.status, response.read()
    connection.close()
    return status, payload


def stored_user_messages(stage):
    now = int(time.time())
    token = jwt.encode({"scope": "admin:read", "iat": now, "exp": now + 300}, SECRET, algorithm="HS256")
    connection = http.client.HTTPConnection("127.0.0.1", stage.port, timeout=15)
    connection.request("GET", "/api/admin/export?domain=localhost", headers={"Authorization": f"Bearer {token}"})
    export = json.loads(connection.getresponse().read())
    return [m["content"] for c in export["conversations"] for m in c["messages"] if m["role"] == "user"]


LEAKS = {
    "card with double spaces": ("my card is 4539  1488  0343  6467 thanks", "4539"),
    "card with slashes": ("card 4539/1488/0343/6467 please", "6467"),
    "card with underscores": ("card 4539_1488_0343_6467 please", "6467"),
    "card with spaced hyphens": ("card 4539 - 1488 - 0343 - 6467 please", "0343"),
    "card touching letters": ("paid with visa4539148803436467exp", "1488"),
    "card in full-width digits": ("card ４５３９ １４８８ ０３４３ ６４６７ ok", "４５３９"),
    "card in Arabic-Indic digits": ("card ٤٥٣٩ ١٤٨٨ ٠٣٤٣ ٦٤٦٧ ok", "٦٤٦٧"),
    "phone with a slash": ("call me on 0171/1234567 today", "1234567"),
    "phone with an en dash": ("call me on 0171 – 1234567 today", "1234567"),
    "IBAN with spaces": ("my IBAN is DE89 3704 0044 0532 0130 00 ok", "0532"),
    "IBAN without spaces": ("iban GB82WEST12345698765432 ok", "98765432"),
    "email with an apostrophe": ("write to o'brien@example.com please", "brien"),
    "email with a plus tag": ("write to jane+orders@example.com please", "jane"),
}


def test_personal_data_in_every_spelling_is_stored_redacted(admin_stage):
    for index, (name, (message, secret)) in enumerate(LEAKS.items()):
        status, payload = chat_from(admin_stage, f"127.0.0.{index + 2}", message)
        assert status == 200, (name, payload)
    stored = stored_user_messages(admin_stage)
    assert len(stored) == len(LEAKS)
    for name, (message, secret) in LEAKS.items():
        assert all(secret not in text for text in stored), (name, stored)


@pytest.mark.parametrize("origin", ["http://evil.127.0.0.1", "http://x.127.0.0.1:5173", "http://127.0.0.1.evil.example",
                                    "http://app.localhost", "http://localhost.evil.example"])
def test_names_built_on_an_allowed_ip_or_localhost_are_not_allowed(admin_stage, origin):
    status, payload = chat_from(admin_stage, "127.0.0.200", "hello", origin=origin)
    assert status == 403, payload
    assert json.loads(payload)["error"] == "domain_not_authorized"
