"""A hostile client against the widget endpoints, over a real stage with real clients: conversations
that belong to their owner, rules that history turns cannot skip, lengths that cannot be stretched,
refusals that cost the attacker rather than us, and the headers every response carries."""
import json
import time

import jwt
import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

import openai_test_server
from stage import RunningStage

ORIGIN = "http://localhost:5173"
OTHER_ORIGIN = "http://127.0.0.1:8080"
WIDGET = "widget_demo_localhost"
SECRET = "attack-tests-admin-secret-0123456789abcdef"
# The demo widget admits one message per client IP every 2 s: turns from this machine are spaced by more.
TURN_SPACING = 2.1


@pytest.fixture
def chat_stage(local_runtime, root, tmp_path, provider):
    """A stage whose functions ask the recording provider, so that a test sees every turn it was sent."""
    stage = RunningStage(local_runtime, root, tmp_path, env={
        "AI_API_URL": provider.base_url("plain"), "AI_API_KEY": openai_test_server.API_KEY, "AI_MODEL": "test-model",
        "ADMIN_JWT_SECRET": SECRET})
    yield stage
    stage.stop()


def post_chat(stage, body, origin=ORIGIN, user_agent="victim-browser"):
    # UTF-8 as browsers send it (requests' `json=` would escape every non-ASCII character as \uXXXX).
    return requests.post(f"{stage.http_url}/api/chat", data=json.dumps({"widget_id": WIDGET, **body}, ensure_ascii=False).encode(),
                         headers={"Origin": origin, "User-Agent": user_agent, "Content-Type": "application/json"}, timeout=15)


def turns_sent(provider):
    """The user and assistant turns of each request the provider received, in order."""
    return [[m for m in r["body"]["messages"] if m["role"] != "system"] for r in provider.requests("plain")]


def admin_headers():
    now = int(time.time())
    return {"Authorization": "Bearer " + jwt.encode({"scope": "admin", "iat": now, "exp": now + 300}, SECRET, algorithm="HS256")}


def security_events(stage, **query):
    response = requests.get(f"{stage.http_url}/api/admin/security/events", params={"hours": 1, "limit": 1000, **query},
                            headers=admin_headers(), timeout=15)
    assert response.status_code == 200, response.text
    return response.json()["events"]


# Conversations belong to their client

def test_a_conversation_id_alone_neither_reads_nor_extends_anothers_conversation(chat_stage, provider):
    first = post_chat(chat_stage, {"conversation_id": "c1", "message": "I am Jane Roe and I live at 12 Elm Street"})
    assert first.status_code == 200
    time.sleep(TURN_SPACING)
    stolen = post_chat(chat_stage, {"conversation_id": "c1", "message": "What did I tell you?"},
                       origin=OTHER_ORIGIN, user_agent="attacker-script")
    assert stolen.status_code == 200
    assert turns_sent(provider)[1] == [{"role": "user", "content": "What did I tell you?"}], "the attacker saw earlier turns"
    assert stolen.json()["conversation_token"] != first.json()["conversation_token"]

    time.sleep(TURN_SPACING)
    resumed = post_chat(chat_stage, {"conversation_id": "c1", "conversation_token": first.json()["conversation_token"],
                                     "message": "Where do I live?"})
    assert resumed.status_code == 200
    owner_history = turns_sent(provider)[2]
    assert "Elm Street" in owner_history[0]["content"], "the owner keeps its conversation"
    assert all("What did I tell you?" not in turn["content"] for turn in owner_history), "the attacker added to it"


def test_a_made_up_token_opens_an_empty_conversation(chat_stage, provider):
    assert post_chat(chat_stage, {"conversation_id": "c1", "message": "My card is on file"}).status_code == 200
    time.sleep(TURN_SPACING)
    guessed = post_chat(chat_stage, {"conversation_id": "c1", "conversation_token": "AAAAAAAAAAAAAAAAAAAAAA", "message": "Repeat that"})
    assert guessed.status_code == 200
    assert turns_sent(provider)[1] == [{"role": "user", "content": "Repeat that"}]


def test_a_malformed_conversation_token_is_a_clear_400(chat_stage):
    for token in ["short", "!" * 22, "AAAAAAAAAAAAAAAAAAAAAB", 42]:
        response = post_chat(chat_stage, {"conversation_id": "c1", "conversation_token": token, "message": "hi"})
        assert response.status_code == 400, token
        assert response.json()["error"] == "invalid_request"


def ws_url(stage, session):
    return f"{stage.ws_url}?sessionId={session}&widget_id={WIDGET}"


def reply(ws):
    frame = json.loads(ws.recv(timeout=15))
    assert frame["type"] in ("message", "done"), frame
    return frame


def test_a_websocket_frame_cannot_name_another_sessions_conversation(chat_stage, provider):
    with connect(ws_url(chat_stage, "victim-1"), origin=ORIGIN) as victim:
        victim.send(json.dumps({"action": "sendMessage", "message": "My phone is in my profile, name Jane Roe"}))
        reply(victim)
    time.sleep(TURN_SPACING)
    with connect(ws_url(chat_stage, "attacker-1"), origin=OTHER_ORIGIN, user_agent_header="attacker") as attacker:
        attacker.send(json.dumps({"action": "sendMessage", "message": "Summarise our chat", "conversation_id": "victim-1"}))
        frame = reply(attacker)
    assert frame["conversation_id"] == "victim-1"
    assert turns_sent(provider)[1] == [{"role": "user", "content": "Summarise our chat"}]


def test_a_reconnecting_page_continues_its_conversation_with_the_token_of_its_last_reply(chat_stage, provider):
    with connect(ws_url(chat_stage, "page-1"), origin=ORIGIN) as first:
        first.send(json.dumps({"action": "sendMessage", "message": "Remember the word pineapple"}))
        token = reply(first)["conversation_token"]
    time.sleep(TURN_SPACING)
    with connect(ws_url(chat_stage, "page-1"), origin=ORIGIN) as second:
        second.send(json.dumps({"action": "sendMessage", "message": "Which word?", "conversation_token": token}))
        assert reply(second)["conversation_token"] == token
    assert turns_sent(provider)[1][0] == {"role": "user", "content": "Remember the word pineapple"}


# Client-supplied history obeys the rules of a new message

def history(*turns):
    return [{"role": role, "content": content} for role, content in turns]


@pytest.mark.parametrize("turn", [
    ("user", "see https://evil.example/login"),
    ("assistant", "<script>fetch('//evil.example')</script>"),
    ("assistant", "click javascript:alert(1)"),
])
def test_a_history_turn_breaking_the_content_rules_is_refused(stage, turn):
    response = post_chat(stage, {"conversation_id": "h1", "messages": history(turn, ("user", "and now?"))})
    assert response.status_code == 400
    assert response.json()["error"] == "content_filtered"


def test_a_history_turn_over_the_length_limit_is_refused(stage):
    response = post_chat(stage, {"conversation_id": "h1", "messages": history(("assistant", "x y " * 625), ("user", "ok?"))})
    assert response.status_code == 400
    assert response.json()["error"] == "message_too_long"


def test_a_history_within_each_limit_but_huge_in_total_is_refused(stage):
    turns = [("user" if i % 2 == 0 else "assistant", f"turn {i} " + "lorem ipsum " * 160) for i in range(25)]
    response = post_chat(stage, {"conversation_id": "h1", "messages": history(*turns, ("user", "summarise"))})
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_history_turns_reach_the_provider_redacted(chat_stage, provider):
    response = post_chat(chat_stage, {"conversation_id": "h2", "messages": history(
        ("user", "write to jane.roe@example.com"), ("assistant", "Noted."), ("user", "thanks"))})
    assert response.status_code == 200
    sent = json.dumps(turns_sent(provider)[0])
    assert "jane.roe@example.com" not in sent


# Lengths cannot be stretched

def test_combining_marks_count_towards_the_length_limit(stage):
    response = post_chat(stage, {"conversation_id": "l1", "message": "a" + "\u0301" * 60_000})
    assert response.status_code == 400
    assert response.json()["error"] == "message_too_long"


def test_a_message_of_exactly_the_limit_in_scalars_is_accepted(stage):
    response = post_chat(stage, {"conversation_id": "l1", "message": "abcdéfghij" * 200})
    assert response.status_code == 200


# Refusals cost the attacker, not us

@pytest.mark.parametrize("refused", [
    {"widget_id": "widget_no_such_widget_000"},
    {"widget_id": "not a widget id"},
    {"message": "x" * 2001},
])
def test_refusals_of_every_kind_count_towards_the_automatic_block(stage, refused):
    for _ in range(3):
        assert post_chat(stage, {"conversation_id": "b1", "message": "hello", **refused}).status_code in (400, 403, 404)
    blocked = post_chat(stage, {"conversation_id": "b1", "message": "a fair question"})
    assert blocked.status_code == 429
    assert blocked.json()["error"] == "temporarily_blocked"
    assert int(blocked.headers["Retry-After"]) > 0


def test_a_blocked_client_is_answered_as_blocked_for_an_over_long_message_too(stage):
    """Else every over-long message of a blocked client would count a warning and write an event of
    its own, where a blocked client's other requests write only their `blocked` event."""
    for _ in range(3):
        assert post_chat(stage, {"widget_id": "widget_no_such_widget_000", "conversation_id": "b1", "message": "hi"}).status_code == 404
    refused = post_chat(stage, {"conversation_id": "b1", "message": "x" * 2001})
    assert refused.status_code == 429
    assert refused.json()["error"] == "temporarily_blocked"
    assert int(refused.headers["Retry-After"]) > 0


def test_a_blocked_client_cannot_open_a_websocket(stage):
    for _ in range(3):
        assert post_chat(stage, {"widget_id": "widget_no_such_widget_000", "conversation_id": "b1", "message": "hi"}).status_code == 404
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(stage, "b-ws"), origin=ORIGIN)
    assert refused.value.response.status_code == 429


def test_a_page_elsewhere_cannot_get_its_visitors_blocked_on_the_widgets_site(stage):
    """evil.example's page makes the visitor's browser send refused requests: a form-like POST, preflights and
    WebSocket handshakes, each with the Origin the browser sets. The visitor then chats on the real site."""
    evil = "https://evil.example"
    for _ in range(3):
        requests.post(f"{stage.http_url}/api/chat", data="x", headers={"Origin": evil, "Content-Type": "text/plain"}, timeout=15)
        requests.options(f"{stage.http_url}/api/chat", headers={"Origin": evil, "Access-Control-Request-Method": "POST"}, timeout=15)
        with pytest.raises(InvalidStatus):
            connect(ws_url(stage, "csrf"), origin=evil)
    assert post_chat(stage, {"conversation_id": "v1", "message": "hello"}).status_code == 200
    time.sleep(TURN_SPACING)
    with connect(ws_url(stage, "visitor"), origin=ORIGIN) as ws:
        ws.send(json.dumps({"action": "sendMessage", "message": "still here?"}))
        assert json.loads(ws.recv(timeout=15))["type"] == "message"


def test_one_clients_ipv6_addresses_share_its_block(local_runtime, root):
    """A client with an IPv6 /64 cannot buy fresh limits by changing address (events fed through `invoke`)."""
    import subprocess
    import tempfile

    def invoke(ip, state):
        event = {"version": "2.0", "routeKey": "POST /api/chat", "rawPath": "/api/chat", "headers": {"origin": ORIGIN},
                 "requestContext": {"http": {"method": "POST", "path": "/api/chat", "sourceIp": ip}, "timeEpoch": int(time.time() * 1000)},
                 "body": json.dumps({"widget_id": "widget_no_such_widget_000", "conversation_id": "v6", "message": "hi"})}
        out = subprocess.run([local_runtime, "invoke", "chat", "--event", "-", "--state", state], input=json.dumps(event),
                             capture_output=True, text=True, cwd=root, timeout=60)
        return json.loads(json.loads(out.stdout)["body"])["error"]

    with tempfile.TemporaryDirectory() as directory:
        state = f"{directory}/state.sqlite"
        errors = [invoke(f"2001:db8:1:2::{index}", state) for index in range(1, 6)]
    assert errors[:3] == ["widget_not_found_or_inactive"] * 3
    assert errors[3:] == ["temporarily_blocked"] * 2


def test_a_refusal_flood_over_http_writes_a_bounded_number_of_events_that_count_it(chat_stage):
    for index in range(200):
        post_chat(chat_stage, {"widget_id": f"widget_flood_{index:012d}", "conversation_id": "f1", "message": "hi"},
                  origin=f"https://attacker{index}.example")
    events = security_events(chat_stage)
    assert len(events) <= 4, [(e["type"], e["count"]) for e in events]
    assert sum(e["count"] for e in events if e["type"] in ("widget_not_found", "blocked")) >= 200
    flood = next(e for e in events if e["type"] == "widget_not_found")
    assert 1 <= len(flood["sample_widget_ids"]) <= 5 and 1 <= len(flood["sample_origins"]) <= 5


def test_a_blocked_sockets_flood_writes_a_bounded_number_of_events(chat_stage):
    with connect(ws_url(chat_stage, "flood-ws"), origin=ORIGIN) as ws:
        for _ in range(4):
            ws.send(json.dumps({"action": "sendMessage", "message": "<b>spam</b>"}))
            json.loads(ws.recv(timeout=15))
        errors = []
        for _ in range(300):
            ws.send(json.dumps({"action": "sendMessage", "message": "let me in"}))
            errors.append(json.loads(ws.recv(timeout=15)).get("error"))
    assert set(errors) == {"temporarily_blocked"}
    events = security_events(chat_stage)
    assert len(events) <= 4, [(e["type"], e["count"]) for e in events]
    assert sum(e["count"] for e in events if e["type"] == "blocked") >= 300


# Every response carries the security headers

@pytest.mark.parametrize("request_args", [
    ("POST", "/api/chat", {"json": {"widget_id": WIDGET, "conversation_id": "s1", "message": "hi"}, "headers": {"Origin": ORIGIN}}),
    ("POST", "/api/chat", {"data": "not json", "headers": {"Origin": ORIGIN}}),
    ("OPTIONS", "/api/chat", {"headers": {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}}),
    ("GET", "/api/admin/widgets", {}),
])
def test_every_handler_response_carries_the_security_headers(stage, request_args):
    method, path, kwargs = request_args
    response = requests.request(method, f"{stage.http_url}{path}", timeout=15, **kwargs)
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", "")
    assert response.headers.get("Referrer-Policy") == "no-referrer"
    assert "Strict-Transport-Security" not in response.headers, "a plain-HTTP stage must not pin localhost to HTTPS"
