"""CORS as API Gateway applies it, from a SAM template's settings: an HTTP API's CorsConfiguration
answers preflights and puts its headers on CORS responses; a REST API's Cors answers preflights and
leaves the function's response alone. The app is Tests/Integration/apps/sam-cors."""
import pytest
import requests

from stage import RunningStage

APP = "Tests/Integration/apps/sam-cors/template.yaml"


@pytest.fixture(scope="module")
def app(local_runtime, root, tmp_path_factory):
    running = RunningStage(local_runtime, root, tmp_path_factory.mktemp("sam-cors"), "-t", APP)
    yield running
    running.stop()


def preflight(app, path, origin, headers="content-type"):
    return requests.options(f"{app.http_url}{path}", timeout=30, headers={
        "Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": headers})


def test_an_http_api_answers_a_preflight_from_an_allowed_origin_without_calling_a_function(app):
    calls = len(app.invocations("HttpItemsFunction"))
    response = preflight(app, "/http/items", "https://app.example")
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert response.headers["Access-Control-Allow-Methods"] == "GET,POST"
    assert response.headers["Access-Control-Allow-Headers"] == "content-type,authorization"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert len(app.invocations("HttpItemsFunction")) == calls


def test_an_http_api_preflight_from_another_origin_gets_no_cors_headers(app):
    response = preflight(app, "/http/items", "https://evil.example")
    assert response.status_code == 204
    assert "Access-Control-Allow-Origin" not in response.headers


def test_an_http_api_puts_its_cors_headers_on_the_functions_response_in_place_of_the_functions(app):
    response = requests.get(f"{app.http_url}/http/items", headers={"Origin": "https://app.example"}, timeout=30)
    assert response.status_code == 200 and response.text == "items"
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert response.headers["Access-Control-Expose-Headers"] == "x-request-id"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


def test_a_rest_api_answers_a_preflight_with_its_cors_settings(app):
    response = preflight(app, "/rest/items", "https://anywhere.example")
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS"
    assert response.headers["Access-Control-Allow-Headers"] == "Content-Type"
    assert response.headers["Access-Control-Max-Age"] == "300"


def test_a_rest_api_leaves_the_functions_response_headers_as_they_are(app):
    response = requests.get(f"{app.http_url}/rest/items", headers={"Origin": "https://anywhere.example"}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://elsewhere.example"
