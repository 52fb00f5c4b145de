"""Authorizers as API Gateway runs them: Lambda authorizers on a WebSocket $connect (IAM policy, identity
from the query string) and on HTTP API routes (simple responses from a header; IAM policies), and a JWT
authorizer with keys from a JWKS file, each one's context reaching the route's events. The app is
Tests/Integration/apps/authorized."""
import json
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from stage import RunningStage

APP = "Tests/Integration/apps/authorized/template.yaml"


KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def stage_with_jwks(local_runtime, root, state, template):
    """A stage serving `template` whose JWT authorizers take `KEY`'s public key (kid k1) from a JWKS file."""
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    (state / "jwks.json").write_text(json.dumps({"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}))
    return RunningStage(local_runtime, root, state, "-t", template, "--jwks", str(state / "jwks.json"))


def stage_fixture(template):
    """A module-scoped pytest fixture: `stage_with_jwks` serving `template`, stopped after the module."""
    @pytest.fixture(scope="module")
    def running_stage(local_runtime, root, tmp_path_factory):
        running = stage_with_jwks(local_runtime, root, tmp_path_factory.mktemp("stage"), template)
        yield running
        running.stop()
    return running_stage


app = stage_fixture(APP)


def token(key=KEY, **claims):
    now = int(time.time())
    body = {"iss": "https://issuer.example", "aud": "chat-app", "sub": "ada", "scope": "chat:write", "iat": now, "exp": now + 600, **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})


def test_a_valid_jwt_reaches_the_route_with_its_claims_and_scopes(app):
    response = requests.get(f"{app.http_url}/jwt", headers={"Authorization": f"Bearer {token()}"}, timeout=30)
    assert response.status_code == 200
    assert response.json()["jwt"]["claims"]["sub"] == "ada" and response.json()["jwt"]["scopes"] == ["chat:write"]


@pytest.mark.parametrize("bad", [
    token(OTHER_KEY), token(iss="https://elsewhere.example"), token(aud="another-app"), token(exp=int(time.time()) - 60), "not-a-jwt",
], ids=["foreign key", "issuer", "audience", "expired", "garbage"])
def test_a_jwt_that_fails_a_check_is_401(app, bad):
    response = requests.get(f"{app.http_url}/jwt", headers={"Authorization": f"Bearer {bad}"}, timeout=30)
    assert response.status_code == 401 and response.json() == {"message": "Unauthorized"}


def test_a_route_with_a_jwt_authorizer_and_no_token_is_401(app):
    assert requests.get(f"{app.http_url}/jwt", timeout=30).status_code == 401


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


def test_jwks_from_an_openid_providers_metadata_follows_its_jwks_uri(local_runtime, root, tmp_path):
    """`--jwks https://issuer/.well-known/openid-configuration`: what an identity provider publishes."""
    import http.server
    import threading

    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    documents = {"/jwks": {"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}}

    class Provider(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(documents.get(self.path, {})).encode()
            self.send_response(200 if self.path in documents else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    documents["/.well-known/openid-configuration"] = {"issuer": "https://issuer.example", "jwks_uri": f"{base}/jwks"}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    running = RunningStage(local_runtime, root, tmp_path, "-t", APP, "--jwks", f"{base}/.well-known/openid-configuration")
    try:
        response = requests.get(f"{running.http_url}/jwt", headers={"Authorization": f"Bearer {token()}"}, timeout=30)
        assert response.status_code == 200
        assert requests.get(f"{running.http_url}/jwt", headers={"Authorization": f"Bearer {token(OTHER_KEY)}"}, timeout=30).status_code == 401
    finally:
        running.stop()
        server.shutdown()
