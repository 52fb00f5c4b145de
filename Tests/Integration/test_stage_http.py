"""The HTTP API side of the stage, with a plain HTTP client: chat POST, preflight, errors, CORS."""
import pytest
import requests

from stage import RunningStage

ORIGIN = "http://localhost:5173"
BODY = {"widget_id": "widget_demo_localhost", "conversation_id": "h-1", "message": "What are your opening hours?"}


@pytest.fixture(scope="module")
def stage(local_runtime, root, tmp_path_factory):
    running = RunningStage(local_runtime, root, tmp_path_factory.mktemp("http"))
    yield running
    running.stop()


def test_a_chat_post_gets_a_reply_with_cors_headers(stage):
    response = requests.post(f"{stage.http_url}/api/chat", json=BODY, headers={"Origin": ORIGIN}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    body = response.json()
    assert body["success"] is True and body["response"].startswith("We're open")
    assert body["usage"]["messages_remaining_today"] == 999


def test_the_preflight_is_answered_by_the_handler(stage):
    response = requests.options(f"{stage.http_url}/api/chat", timeout=10, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_an_error_for_an_allowed_origin_still_carries_cors_headers(stage):
    response = requests.post(f"{stage.http_url}/api/chat", data="{not json", headers={"Origin": ORIGIN}, timeout=10)
    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.json()["error"] == "invalid_request"


def test_a_refused_origin_gets_403_without_cors_headers(stage):
    response = requests.post(f"{stage.http_url}/api/chat", json=BODY, headers={"Origin": "https://evil.example"}, timeout=10)
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.json()["error"] == "domain_not_authorized"


def test_an_unknown_route_is_not_found_like_api_gateway(stage):
    response = requests.get(f"{stage.http_url}/nothing/here", timeout=10)
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


def test_a_body_over_the_handler_limit_is_413(stage):
    response = requests.post(f"{stage.http_url}/api/chat", data="x" * 200_000, headers={"Origin": ORIGIN}, timeout=10)
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
