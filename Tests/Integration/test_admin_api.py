"""The admin API through the real stage, with clients nobody here wrote: tokens minted by PyJWT,
requests over HTTP with `requests`; and the `local-runtime` admin CLI against the same state."""
import json
import subprocess
import time

import jwt
import pytest
import requests

from stage import RunningStage

SECRET = "integration-admin-secret-0123456789"
ADMIN_ORIGIN = "https://admin.example.com"
SHOP = "widget_admin_it_shop_01"


def token(scope="admin", secret=SECRET, expires_in=300, algorithm="HS256", **claims):
    now = int(time.time())
    payload = {"sub": "pytest", "scope": scope, "iat": now, "exp": now + expires_in, **claims}
    return jwt.encode(payload, secret, algorithm=algorithm)


def bearer(value):
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
def admin_stage(local_runtime, root, tmp_path):
    running = RunningStage(local_runtime, root, tmp_path,
                           env={"ADMIN_JWT_SECRET": SECRET, "ADMIN_ORIGIN": ADMIN_ORIGIN, "IP_RATE_LIMIT_PER_MINUTE": "1000"})
    running.api = f"{running.http_url}/api/admin"
    yield running
    running.stop()


def create_shop(stage, **fields):
    body = {"widget_id": SHOP, "name": "Shop", "allowed_domains": ["shop.example"],
            "limits": {"min_message_interval_ms": 0}, **fields}
    response = requests.post(f"{stage.api}/widgets", json=body, headers=bearer(token()), timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["widget"]


def chat(stage, origin, message, conversation="c-1"):
    body = {"widget_id": SHOP, "conversation_id": conversation, "message": message}
    return requests.post(f"{stage.http_url}/api/chat", json=body, headers={"Origin": origin}, timeout=10)


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer not-a-jwt"},
    bearer(token(secret="someone-elses-secret-0123456789abc")),
    bearer(token(expires_in=-120)),
    bearer(jwt.encode({"sub": "x", "scope": "admin", "exp": int(time.time()) + 300}, None, algorithm="none")),
], ids=["missing", "basic", "malformed", "wrongly-signed", "expired", "alg-none"])
def test_requests_without_a_valid_token_are_401_with_a_bearer_challenge(admin_stage, headers):
    response = requests.get(f"{admin_stage.api}/widgets", headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# Claims as functions of the time the test runs (not the time pytest collected it): a token's
# lifetime is measured from `iat`, which `token` sets when it signs.
@pytest.mark.parametrize("claims_at", [
    lambda now: {"exp": now + 86_400 + 60},
    lambda now: {"iat": now, "exp": now + 30 * 86_400},
    lambda now: {"exp": 1e300},
    lambda now: {"nbf": "now"},
    lambda now: {"iat": str(now)},
    lambda now: {"iat": now + 3600, "exp": now + 7200},
], ids=["25-hours", "30-days", "exp-1e300", "string-nbf", "string-iat", "issued-in-an-hour"])
def test_pyjwt_tokens_beyond_the_maximum_lifetime_or_with_non_numeric_times_are_401(admin_stage, claims_at):
    claims = claims_at(int(time.time()))
    response = requests.get(f"{admin_stage.api}/widgets", headers=bearer(token(**claims)), timeout=10)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "unauthorized"


def test_a_pyjwt_token_of_24_hours_is_accepted_and_a_respelled_one_is_not(admin_stage):
    valid = token(expires_in=86_400)
    assert requests.get(f"{admin_stage.api}/widgets", headers=bearer(valid), timeout=10).status_code == 200
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    signature = valid.rsplit(".", 1)[1]
    respelled = valid[:-1] + alphabet[alphabet.index(signature[-1]) ^ 1]  # 43 characters: the last has 2 unused bits
    assert requests.get(f"{admin_stage.api}/widgets", headers=bearer(respelled), timeout=10).status_code == 401


@pytest.mark.parametrize("entry", ["*.com", "com", "co.uk", "github.io", "*.shop.example", "127.1"])
def test_wildcards_single_labels_and_public_suffixes_are_refused_as_allowed_domains(admin_stage, entry):
    body = {"name": "x", "allowed_domains": ["shop.example", entry]}
    response = requests.post(f"{admin_stage.api}/widgets", json=body, headers=bearer(token()), timeout=10)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "allowed_domains[1]" in response.json()["message"] and entry in response.json()["message"]


def test_seed_002s_create_body_is_accepted_and_answered_as_the_seed_documents(admin_stage):
    body = {"widget_id": "widget_abc123_def456", "widget_name": "Customer Support Widget", "agent_id": "boss-support",
            "allowed_domains": ["customer-website.com", "app.customer.com"],
            "settings": {"maxMessagesPerHour": 600, "maxMessagesPerDay": 1000, "primaryColor": "#667eea", "greeting": "Hi! How can I help?"}}
    response = requests.post(f"{admin_stage.api}/widgets", json=body, headers=bearer(token()), timeout=10)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["success"] is True and created["widget_id"] == "widget_abc123_def456"
    assert created["allowed_domains"] == ["customer-website.com", "app.customer.com"]
    assert created["created_at"].endswith("Z")
    assert created["widget"]["name"] == "Customer Support Widget"
    assert created["widget"]["settings"]["agent_id"] == "boss-support"
    assert created["widget"]["settings"]["colors"] == {"primary": "#667eea"}


def test_a_read_only_token_reads_but_cannot_write(admin_stage):
    create_shop(admin_stage)
    read_only = bearer(token(scope="admin:read"))
    assert requests.get(f"{admin_stage.api}/widgets/{SHOP}", headers=read_only, timeout=10).status_code == 200
    response = requests.patch(f"{admin_stage.api}/widgets/{SHOP}", json={"name": "Renamed"}, headers=read_only, timeout=10)
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_widget_lifecycle_create_get_update_deactivate(admin_stage):
    created = create_shop(admin_stage)
    assert created["allowed_domains"] == ["shop.example"] and created["is_active"] is True
    headers = bearer(token())
    duplicate = requests.post(f"{admin_stage.api}/widgets", json={"widget_id": SHOP, "name": "x", "allowed_domains": ["a.example"]},
                              headers=headers, timeout=10)
    assert duplicate.status_code == 409

    patched = requests.patch(f"{admin_stage.api}/widgets/{SHOP}", json={"limits": {"max_messages_per_minute": 3}},
                             headers=headers, timeout=10)
    assert patched.status_code == 200
    assert patched.json()["widget"]["limits"]["max_messages_per_minute"] == 3
    assert patched.json()["widget"]["limits"]["max_messages_per_day"] == 1000, "limits merge key by key"

    assert chat(admin_stage, "https://shop.example", "What are your opening hours?").status_code == 200
    assert requests.delete(f"{admin_stage.api}/widgets/{SHOP}", headers=headers, timeout=10).json()["widget"]["is_active"] is False
    assert chat(admin_stage, "https://shop.example", "Still there?").status_code == 404


@pytest.mark.parametrize("body,field", [
    ({"name": "x", "allowed_domains": ["shop.example"], "widget_id": "Widget-Upper"}, "widget_id"),
    ({"name": "x", "allowed_domains": ["https://not a domain"]}, "allowed_domains[0]"),
    ({"name": "x", "allowed_domains": ["shop.example"], "limits": {"max_messages_per_minute": -1}}, "limits.max_messages_per_minute"),
    ({"name": "x", "allowed_domains": ["shop.example"], "colour": "red"}, "colour"),
    ({"allowed_domains": ["shop.example"]}, "name"),
], ids=["bad-id", "bad-domain", "negative-limit", "unknown-field", "missing-name"])
def test_invalid_widget_bodies_are_400_naming_the_field(admin_stage, body, field):
    response = requests.post(f"{admin_stage.api}/widgets", json=body, headers=bearer(token()), timeout=10)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert field in response.json()["message"]


def test_malformed_and_oversized_bodies_lose_nothing(admin_stage):
    create_shop(admin_stage)
    headers = {**bearer(token()), "Content-Type": "application/json"}
    assert requests.post(f"{admin_stage.api}/widgets", data=b"{\"name\": ", headers=headers, timeout=10).status_code == 400
    assert requests.post(f"{admin_stage.api}/widgets", data=b"\xff\xfe\x00", headers=headers, timeout=10).status_code == 400
    huge = json.dumps({"name": "x" * 200_000, "allowed_domains": ["big.example"]})
    assert requests.post(f"{admin_stage.api}/widgets", data=huge, headers=headers, timeout=10).status_code == 413
    widgets = requests.get(f"{admin_stage.api}/widgets", headers=headers, timeout=10).json()["widgets"]
    assert [w["widget_id"] for w in widgets if w["widget_id"].startswith("widget_admin_it")] == [SHOP]


def test_widgets_list_pages_by_cursor_until_next_cursor_is_null(admin_stage):
    headers = bearer(token())
    for index in range(5):
        body = {"widget_id": f"widget_admin_it_page_{index:02d}", "name": f"Page {index}", "allowed_domains": ["pages.example"]}
        assert requests.post(f"{admin_stage.api}/widgets", json=body, headers=headers, timeout=10).status_code == 201
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = requests.get(f"{admin_stage.api}/widgets", params=params, headers=headers, timeout=10).json()
        assert len(page["widgets"]) <= 2
        seen += [w["widget_id"] for w in page["widgets"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [w for w in seen if w.startswith("widget_admin_it_page")] == [f"widget_admin_it_page_{i:02d}" for i in range(5)]
    assert len(seen) == len(set(seen))


def test_analytics_events_and_export_count_what_the_chat_endpoint_saw(admin_stage):
    create_shop(admin_stage)
    assert chat(admin_stage, "https://shop.example", "Do you ship abroad? mail me at jane@example.org", "c-a").status_code == 200
    assert chat(admin_stage, "https://app.shop.example", "What are your opening hours?", "c-b").status_code == 200
    assert chat(admin_stage, "https://shop.example", "see https://evil.example", "c-a").status_code == 400
    assert chat(admin_stage, "https://evilshop.example", "hello", "c-c").status_code == 403
    read = bearer(token(scope="admin:read"))

    usage = requests.get(f"{admin_stage.api}/analytics/usage", params={"period": "1d", "widget_id": SHOP}, headers=read, timeout=10).json()
    assert usage["data"]["total_messages"] == 2
    assert usage["data"]["unique_domains"] == 2
    assert usage["data"]["blocked_requests"] == 2
    assert sum(day["messages"] for day in usage["data"]["daily_breakdown"]) == 2
    assert requests.get(f"{admin_stage.api}/analytics/usage", params={"period": "2w"}, headers=read, timeout=10).status_code == 400

    events = requests.get(f"{admin_stage.api}/security/events", params={"type": "domain_not_allowed", "hours": 1},
                          headers=read, timeout=10).json()["events"]
    assert [event["type"] for event in events] == ["domain_not_allowed"]
    assert "evilshop.example" in json.dumps(events[0])

    export = requests.get(f"{admin_stage.api}/export", params={"domain": "shop.example"}, headers=read, timeout=10).json()
    assert export["domain"] == "shop.example"
    assert [c["conversation_id"] for c in export["conversations"]] == ["c-a"], "only the domain asked for, not its subdomain"
    assert "jane@example.org" not in json.dumps(export), "PII was redacted before it was stored"
    assert all("evilshop" not in json.dumps(event) for event in export["security_events"])


def test_cors_is_answered_for_the_admin_origin_only(admin_stage):
    preflight = {"Origin": ADMIN_ORIGIN, "Access-Control-Request-Method": "PATCH",
                 "Access-Control-Request-Headers": "authorization,content-type"}
    allowed = requests.options(f"{admin_stage.api}/widgets", headers=preflight, timeout=10)
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == ADMIN_ORIGIN
    assert "PATCH" in allowed.headers["Access-Control-Allow-Methods"]

    refused = requests.options(f"{admin_stage.api}/widgets", headers={**preflight, "Origin": "https://shop.example"}, timeout=10)
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers
    unauthorised = requests.get(f"{admin_stage.api}/widgets", headers={"Origin": ADMIN_ORIGIN}, timeout=10)
    assert unauthorised.status_code == 401
    assert unauthorised.headers["Access-Control-Allow-Origin"] == ADMIN_ORIGIN, "a browser must be able to read the 401"


def run_cli(local_runtime, root, state, *args):
    result = subprocess.run([local_runtime, *args, "--state", str(state)], cwd=root, capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_cli_and_the_stage_share_the_local_secret_and_the_state(local_runtime, root, tmp_path):
    state = tmp_path / "state.sqlite"
    added = json.loads(run_cli(local_runtime, root, state, "widgets", "add", "--domain", "cli.example", "--id", "widget_cli_example_01"))
    assert added["widget"]["allowed_domains"] == ["cli.example"]
    listed = json.loads(run_cli(local_runtime, root, state, "widgets", "list"))
    assert "widget_cli_example_01" in [w["widget_id"] for w in listed["widgets"]]

    cli_token = subprocess.run([local_runtime, "admin", "token", "--state", str(state)], cwd=root, capture_output=True, text=True,
                               timeout=60, env={"PATH": "/usr/bin:/bin"}).stdout.strip()
    claims = jwt.decode(cli_token, options={"verify_signature": False})
    assert claims["scope"] == "admin" and claims["exp"] > time.time()

    stage = RunningStage(local_runtime, root, tmp_path, env={"ADMIN_JWT_SECRET": ""})
    try:
        response = requests.get(f"{stage.http_url}/api/admin/widgets/widget_cli_example_01", headers=bearer(cli_token), timeout=10)
        assert response.status_code == 200, response.text
        refused = requests.post(f"{stage.http_url}/api/chat", headers={"Origin": "https://evil.example"}, timeout=10,
                                json={"widget_id": "widget_cli_example_01", "conversation_id": "c", "message": "hi"})
        assert refused.status_code == 403
    finally:
        stage.stop()
    events = json.loads(run_cli(local_runtime, root, state, "events", "--type", "domain_not_allowed"))
    assert [event["widget_id"] for event in events["events"]] == ["widget_cli_example_01"]


def test_the_cli_refuses_a_public_suffix_and_a_token_beyond_the_maximum_lifetime(local_runtime, root, tmp_path):
    state = tmp_path / "state.sqlite"
    refused = subprocess.run([local_runtime, "widgets", "add", "--domain", "github.io", "--state", str(state)], cwd=root,
                             capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert refused.returncode == 1 and "public suffix" in refused.stderr, refused.stderr
    too_long = subprocess.run([local_runtime, "admin", "token", "--ttl", "86401", "--state", str(state)], cwd=root,
                              capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert too_long.returncode != 0 and "ADMIN_TOKEN_MAX_LIFETIME_SECONDS" in too_long.stderr, too_long.stderr
    day = subprocess.run([local_runtime, "admin", "token", "--ttl", "86400", "--state", str(state)], cwd=root,
                         capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}).stdout.strip()
    claims = jwt.decode(day, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 86_400
