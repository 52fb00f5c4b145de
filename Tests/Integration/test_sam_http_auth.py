"""SAM's own `Auth` on an `AWS::Serverless::HttpApi`: the default JWT authorizer (keys from a JWKS
file), a Lambda authorizer with simple responses named by one event, and `Authorizer: NONE`, served as
API Gateway would guard the deployed routes. The app is Tests/Integration/apps/sam-http-auth."""
import pytest
import requests

from test_authorizers import OTHER_KEY, stage_fixture, token

APP = "Tests/Integration/apps/sam-http-auth/template.yaml"


app = stage_fixture(APP)


def test_the_default_jwt_authorizer_admits_a_valid_token_with_its_claims(app):
    response = requests.get(f"{app.http_url}/jwt", headers={"Authorization": f"Bearer {token()}"}, timeout=30)
    assert response.status_code == 200
    assert response.json()["jwt"]["claims"]["sub"] == "ada"


@pytest.mark.parametrize("headers", [{}, {"Authorization": f"Bearer {token(OTHER_KEY)}"}, {"Authorization": f"Bearer {token(aud='x')}"}])
def test_the_default_jwt_authorizer_refuses_a_missing_or_bad_token_with_401(app, headers):
    response = requests.get(f"{app.http_url}/jwt", headers=headers, timeout=30)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


@pytest.mark.parametrize("credential, status", [("deny", 403), ("fail", 500), ("allow", 200)])
def test_an_events_named_lambda_authorizer_replaces_the_default(app, credential, status):
    response = requests.get(f"{app.http_url}/simple", headers={"Authorization": credential}, timeout=30)
    assert response.status_code == status
    if status == 200:
        assert response.json() == {"lambda": {"user": "ada"}}


def test_an_event_with_authorizer_none_is_open(app):
    response = requests.get(f"{app.http_url}/open", timeout=30)
    assert response.status_code == 200


@pytest.mark.parametrize("scope, status", [("chat:admin", 200), ("chat:write chat:admin", 200), ("chat:write", 403)])
def test_an_events_authorization_scopes_need_one_of_them_in_the_token(app, scope, status):
    response = requests.get(f"{app.http_url}/scoped", headers={"Authorization": f"Bearer {token(scope=scope)}"}, timeout=30)
    assert response.status_code == status
