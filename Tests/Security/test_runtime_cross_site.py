"""Issue #24, finding 3: any web page could use the dev console and `@connections`. `/_dev/log`
published connection ids; with one, a cross-site POST pushed text into a user's socket, GET read
their IP and user agent, DELETE dropped them; `/_dev/replay` took a cross-site text/plain POST; a
foreign `Host` (DNS rebinding) was answered; `/_dev?ws=` pointed the console anywhere; and nothing
stopped the console being framed. Now only the stage's own host names are answered there, browsers'
cross-site requests are refused, and the console carries security headers."""
import json
import socket
import threading

import boto3
import pytest
import requests
from websockets.sync.client import connect

from stage import RunningStage

ORIGIN = "http://localhost:5173"
FOREIGN_PAGE = {"Origin": "http://attacker.example", "Sec-Fetch-Site": "cross-site"}


def open_connection(stage, session="victim"):
    ws = connect(f"{stage.ws_url}?sessionId={session}&widget_id=widget_demo_localhost", origin=ORIGIN,
                 user_agent_header="victim-browser/1.0")
    return ws, stage.last_connection_id()


def management_url(stage, connection_id):
    return f"{stage.http_url}/dev/@connections/{connection_id}"


@pytest.mark.parametrize("headers", [
    {"Origin": "http://attacker.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "null"},
    {"Host": "attacker.example"},
    {"Host": "attacker.example:3001", "Origin": "http://attacker.example:3001"},
])
def test_a_foreign_page_cannot_post_read_or_delete_a_connection(stage, headers):
    ws, connection_id = open_connection(stage)
    with ws:
        url = management_url(stage, connection_id)
        pushed = requests.post(url, data="phishing text", headers={"Content-Type": "text/plain", **headers}, timeout=10)
        read = requests.get(url, headers=headers, timeout=10)
        dropped = requests.delete(url, headers=headers, timeout=10)
        assert (pushed.status_code, read.status_code, dropped.status_code) == (403, 403, 403)
        assert "victim-browser" not in read.text and "127.0.0.1" not in read.text
        # The victim's socket got nothing and is still open.
        with pytest.raises(TimeoutError):
            ws.recv(timeout=1)
        ws.send(json.dumps({"action": "sendMessage", "message": "still here?", "conversation_id": "victim"}))
        assert json.loads(ws.recv(timeout=15))


def test_the_stage_itself_and_boto3_still_reach_connections(stage):
    ws, connection_id = open_connection(stage)
    api = boto3.client("apigatewaymanagementapi", endpoint_url=f"{stage.http_url}/dev", region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    with ws:
        api.post_to_connection(ConnectionId=connection_id, Data=b'{"type":"message","content":"ok"}')
        assert json.loads(ws.recv(timeout=10)) == {"type": "message", "content": "ok"}
        same_origin = requests.get(management_url(stage, connection_id), timeout=10,
                                   headers={"Origin": stage.http_url, "Sec-Fetch-Site": "same-origin"})
        assert same_origin.status_code == 200
        assert requests.get(management_url(stage, connection_id), timeout=10,
                            headers={"Host": f"localhost:{stage.port}"}).status_code == 200


@pytest.mark.parametrize("path", ["/_dev", "/_dev/log", "/_dev/fixtures", "/_dev/metrics.json", "/_dev/openapi.yaml", "/openapi.yaml"])
def test_the_console_answers_only_the_stages_own_host_names(stage, path):
    refused = requests.get(f"{stage.http_url}{path}", headers={"Host": f"attacker.example:{stage.port}"}, timeout=10, stream=True)
    assert refused.status_code == 403
    refused.close()
    answered = requests.get(f"{stage.http_url}{path}", headers={"Host": f"[::1]:{stage.port}"}, timeout=10, stream=True)
    assert answered.status_code == 200
    assert "Access-Control-Allow-Origin" not in answered.headers
    answered.close()


def test_the_console_log_does_not_leak_connection_ids_to_other_origins(stage):
    log = requests.get(f"{stage.http_url}/_dev/log", headers={"Origin": "http://attacker.example"}, timeout=10, stream=True)
    assert log.status_code == 403 or "Access-Control-Allow-Origin" not in log.headers
    log.close()


def test_replay_refuses_cross_site_and_non_json_posts(stage):
    body = json.dumps({"path": "events/chat/01-post-success.json"})
    as_form = requests.post(f"{stage.http_url}/_dev/replay", data=body, headers={"Content-Type": "text/plain"}, timeout=30)
    assert as_form.status_code == 415
    cross_site = requests.post(f"{stage.http_url}/_dev/replay", data=body,
                               headers={"Content-Type": "application/json", **FOREIGN_PAGE}, timeout=30)
    assert cross_site.status_code == 403
    same_site = requests.post(f"{stage.http_url}/_dev/replay", data=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert same_site.status_code == 200
    # The log line is written before the answer, but read from the stage's stdout by another thread.
    stage.wait_for_line(r"^chat  replay ")
    assert len(stage.invocations("chat")) == 1, "only the same-site replay ran"


def test_the_console_cannot_be_framed_or_sniffed(stage):
    page = requests.get(f"{stage.http_url}/_dev", timeout=10)
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_allowed_host_adds_a_name_the_stage_answers(local_runtime, root, tmp_path):
    running = RunningStage(local_runtime, root, tmp_path, "--allowed-host", "devbox.test")
    try:
        url = f"{running.http_url}/_dev/fixtures"
        assert requests.get(url, headers={"Host": f"devbox.test:{running.port}"}, timeout=10).status_code == 200
        assert requests.get(url, headers={"Host": f"devbox.test:{running.port + 1}"}, timeout=10).status_code == 403
        assert requests.get(url, headers={"Host": f"other.test:{running.port}"}, timeout=10).status_code == 403
    finally:
        running.stop()


class RecordingServer:
    """A TCP listener on another loopback address that records whether anything connects to it."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.2", 0))
        self.port = self.listener.getsockname()[1]
        self.connected = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        try:
            connection, _ = self.listener.accept()
            self.connected.set()
            connection.close()
        except OSError:
            pass

    def close(self):
        self.listener.close()


def test_the_console_ws_parameter_cannot_point_at_another_host(stage):
    from selenium import webdriver
    import shutil

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    browser = webdriver.Chrome(options=options, service=service)
    elsewhere = RecordingServer()
    try:
        browser.get(f"{stage.http_url}/_dev?ws=ws://127.0.0.2:{elsewhere.port}/dev")
        assert not elsewhere.connected.wait(timeout=5), "the console connected to a server the ws= parameter named"
        assert "127.0.0.2" not in browser.find_element("id", "endpoint").text
    finally:
        elsewhere.close()
        browser.quit()
