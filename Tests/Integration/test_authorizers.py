"""Lambda authorizers as API Gateway runs them: on a WebSocket $connect (IAM policy, identity from the
query string) and on HTTP API routes (simple responses from a header; IAM policies), with the
authorizer's context reaching the route's events. The app is Tests/Integration/apps/authorized."""
import json

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from stage import RunningStage

APP = "Tests/Integration/apps/authorized/template.yaml"


@pytest.fixture(scope="module")
def app(local_runtime, root, tmp_path_factory):
    running = RunningStage(local_runtime, root, tmp_path_factory.mktemp("authorized"), "-t", APP)
    yield running
    running.stop()


def handshake_status(app, query):
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{app.port}/dev{query}", open_timeout=30)
    return refused.value.response.status_code, json.loads(refused.value.response.body or b"null")


def test_connect_without_the_identity_source_is_401_unauthorized(app):
    assert handshake_status(app, "") == (401, {"message": "Unauthorized"})


def test_connect_denied_by_the_policy_is_403_forbidden(app):
    assert handshake_status(app, "?token=deny") == (403, {"message": "Forbidden"})


def test_connect_with_a_failing_authorizer_is_500(app):
    assert handshake_status(app, "?token=fail")[0] == 500


def test_an_allowed_connection_carries_the_authorizer_context_in_later_events(app):
    with connect(f"ws://127.0.0.1:{app.port}/dev?token=allow", open_timeout=30) as ws:
        ws.send(json.dumps({"action": "whoami"}))
        assert json.loads(ws.recv(timeout=30)) == {"user": "ada", "tier": "gold", "principalId": "user-ada"}


@pytest.mark.parametrize("token, status", [(None, 401), ("deny", 403), ("fail", 500), ("allow", 200)])
def test_a_simple_response_authorizer_guards_an_http_route(app, token, status):
    headers = {"Authorization": token} if token else {}
    response = requests.get(f"{app.http_url}/simple", headers=headers, timeout=30)
    assert response.status_code == status
    if status == 200:
        assert response.json() == {"lambda": {"user": "ada"}}
    elif status in (401, 403):
        assert response.json() == {"message": {401: "Unauthorized", 403: "Forbidden"}[status]}


@pytest.mark.parametrize("token, status", [("deny", 403), ("fail", 500), ("allow", 200)])
def test_an_iam_policy_authorizer_guards_an_http_route(app, token, status):
    response = requests.get(f"{app.http_url}/policy", params={"token": token}, timeout=30)
    assert response.status_code == status
    if status == 200:
        assert response.json() == {"lambda": {"user": "ada", "tier": "gold"}}
