"""SAM's own `Auth` on an `AWS::Serverless::Api` (a REST API): a TOKEN Lambda authorizer with a
validation expression (the default), a REQUEST Lambda authorizer named by one event, a Cognito user
pool authorizer (tokens checked against a JWKS file), `Authorizer: NONE` and `ApiKeyRequired`,
answered with REST APIs' own statuses and bodies. The API has a `Name`, which `!Ref Api` must not
resolve to, or its events would lose their authorizers. The app is Tests/Integration/apps/sam-rest-auth."""
import time

import jwt
import pytest
import requests

from test_authorizers import KEY, OTHER_KEY, stage_fixture

APP = "Tests/Integration/apps/sam-rest-auth/template.yaml"
POOL_ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool"
EXPLICIT_DENY = {"Message": "User is not authorized to access this resource with an explicit deny"}
NOT_ALLOWED = {"Message": "User is not authorized to access this resource"}


app = stage_fixture(APP)


def pool_token(key=KEY, **claims):
    now = int(time.time())
    body = {"iss": POOL_ISSUER, "sub": "ada", "cognito:username": "ada", "token_use": "id", "iat": now, "exp": now + 600, **claims}
    return jwt.encode({name: value for name, value in body.items() if value is not None}, key, algorithm="RS256", headers={"kid": "k1"})


def get(app, path, **kwargs):
    return requests.get(f"{app.http_url}{path}", timeout=30, **kwargs)


def test_the_default_token_authorizer_admits_an_allowed_token_with_its_context_as_strings_and_principal(app):
    response = get(app, "/token", headers={"X-Token": "allow"})
    assert response.status_code == 200
    assert response.json() == {"principalId": "user-ada", "user": "ada", "level": "3", "admin": "false"}


@pytest.mark.parametrize("token, status, body", [
    ("deny", 403, EXPLICIT_DENY),
    ("other", 403, NOT_ALLOWED),
    ("unauthorized", 401, {"message": "Unauthorized"}),
    ("fail", 500, {"message": None}),
    ("nested", 500, {"message": None}),
])
def test_the_token_authorizers_refusals_are_rest_apis_own(app, token, status, body):
    response = get(app, "/token", headers={"X-Token": token})
    assert (response.status_code, response.json()) == (status, body)


@pytest.mark.parametrize("headers", [{}, {"X-Token": ""}, {"X-Token": "let-me-in"}])
def test_a_missing_token_or_one_the_validation_expression_refuses_is_401_without_calling_the_authorizer(app, headers):
    calls = len(app.invocations("TokenAuthorizerFunction"))
    response = get(app, "/token", headers=headers)
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})
    assert len(app.invocations("TokenAuthorizerFunction")) == calls


def test_an_events_request_authorizer_gets_the_method_request_and_decides(app):
    assert get(app, "/request", params={"token": "allow"}).status_code == 200
    assert (get(app, "/request", params={"token": "nope"}).json()) == EXPLICIT_DENY
    assert get(app, "/request").status_code == 401


def test_a_cognito_authorizer_admits_a_token_of_its_pool_with_its_claims(app):
    response = get(app, "/pool", headers={"Authorization": pool_token()})
    assert response.status_code == 200
    assert response.json()["claims"]["cognito:username"] == "ada"


@pytest.mark.parametrize("make", [lambda: pool_token(OTHER_KEY), lambda: pool_token(iss="https://issuer.example"),
                                  lambda: pool_token(exp=int(time.time()) - 10), lambda: pool_token(exp=None)])
def test_a_cognito_authorizer_refuses_a_token_not_signed_for_its_pool_expired_or_without_expiry(app, make):
    response = get(app, "/pool", headers={"Authorization": make()})
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})


def test_an_event_with_authorizer_none_is_open(app):
    assert get(app, "/open").status_code == 200


def test_a_method_that_requires_an_api_key_refuses_a_request_without_one(app):
    assert (get(app, "/keyed").status_code, get(app, "/keyed").json()) == (403, {"message": "Forbidden"})
    assert get(app, "/keyed", headers={"x-api-key": "any-key"}).status_code == 200


def test_a_cognito_authorizer_takes_only_id_tokens_on_a_method_without_scopes(app):
    response = get(app, "/pool", headers={"Authorization": pool_token(token_use="access", scope="orders/read")})
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})


@pytest.mark.parametrize("claims, status", [
    ({"token_use": "access", "scope": "openid orders/read"}, 200),
    ({"token_use": "access", "scope": "orders/write"}, 401),
    ({}, 401),
])
def test_a_method_with_authorization_scopes_takes_an_access_token_holding_one_of_them(app, claims, status):
    assert get(app, "/scoped", headers={"Authorization": pool_token(**claims)}).status_code == status
