"""The dev console in a real browser (headless Chromium driven by selenium): chat through the stage,
see the invocation in the live log, its event and response on click, and the metrics panel count it;
see a refusal — not a hang — from a refused origin. And the OpenAPI document the console links to."""
import json
import pathlib
import shutil
import time

import pytest
import requests
import yaml
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from stage import RunningStage

ARTIFACTS = pathlib.Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,800"):
        options.add_argument(argument)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    yield driver
    driver.quit()


@pytest.fixture
def stage(local_runtime, root, tmp_path):
    running = RunningStage(local_runtime, root, tmp_path)
    yield running
    running.stop()


def test_a_conversation_in_the_console_shows_replies_and_invocations(stage, browser):
    browser.get(f"http://127.0.0.1:{stage.port}/_dev")
    wait = WebDriverWait(browser, 20)
    wait.until(EC.text_to_be_present_in_element((By.ID, "status"), "Online"))
    for question in ("Hello!", "How long does shipping take?"):
        box = browser.find_element(By.ID, "message")
        box.send_keys(question)
        browser.find_element(By.ID, "send").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#messages li.assistant")) >= (1 if question == "Hello!" else 2))
        if question == "Hello!":
            time.sleep(2.1)  # the demo widget's minimum interval between messages
    replies = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#messages li.assistant")]
    assert replies[-1].startswith("Orders ship within one business day")
    wait.until(lambda d: "sendMessage" in d.find_element(By.ID, "log").text)
    assert "$connect" in browser.find_element(By.ID, "log").text
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#fixture option[value='events/chat/01-post-success.json']"))
    Select(browser.find_element(By.ID, "fixture")).select_by_value("events/chat/01-post-success.json")
    browser.find_element(By.ID, "replay").click()
    wait.until(lambda d: "replay POST /api/chat" in d.find_element(By.ID, "log").text)

    # The metrics panel polls every 2 s: both turns and the replay are counted.
    def invocations_of(function):
        cells = browser.find_elements(By.CSS_SELECTOR, f"#metrics tr[data-function='{function}'] td.invocations")
        return int(cells[0].text) if cells else 0
    # The panel is redrawn while it is read: a cell that went stale is read again on the next poll.
    WebDriverWait(browser, 20, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: invocations_of("sendMessage") >= 2 and invocations_of("chat") >= 1)
    assert browser.find_elements(By.CSS_SELECTOR, "#latency rect")

    # A row shows the event the function was handed (the message as sent) and what it returned.
    turn = next(row for row in browser.find_elements(By.CSS_SELECTOR, "#log tr")
                if row.find_elements(By.TAG_NAME, "td")[1].text == "sendMessage")
    turn.click()
    detail = wait.until(EC.visibility_of_element_located((By.ID, "detail")))
    assert '"action": "sendMessage"' in detail.text
    assert '"message": "How long does shipping take?"' in detail.text
    assert '"statusCode": 200' in detail.text
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "dev-console.png"))


def test_the_console_links_the_openapi_document_the_stage_serves(stage, browser):
    browser.get(f"http://127.0.0.1:{stage.port}/_dev")
    link = browser.find_element(By.ID, "openapi").get_attribute("href")
    assert link == f"http://127.0.0.1:{stage.port}/_dev/openapi.yaml"
    for path in ("/_dev/openapi.yaml", "/openapi.yaml"):
        response = requests.get(f"{stage.http_url}{path}", timeout=10)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("application/yaml")
        document = yaml.safe_load(response.text)
        assert str(document["openapi"]).startswith("3.1.")
        assert requests.get(f"{stage.http_url}{path}", headers={"Host": f"attacker.example:{stage.port}"}, timeout=10).status_code == 403


def test_without_an_openapi_document_the_stage_says_where_it_looked(local_runtime, root, tmp_path):
    # A template outside the repository, and a working directory without docs/: nothing to serve.
    shutil.copy(root / "template.json", tmp_path / "template.json")
    running = RunningStage(local_runtime, tmp_path, tmp_path, "--template", str(tmp_path / "template.json"))
    try:
        response = requests.get(f"{running.http_url}/_dev/openapi.yaml", timeout=10)
        assert response.status_code == 404
        assert "docs/openapi.yaml" in response.json()["message"]
    finally:
        running.stop()


def test_a_page_from_a_refused_origin_shows_the_refusal(local_runtime, root, tmp_path, browser):
    # The console connects only to the stage that served it, so the refused origin is the stage's
    # own on an address the demo widget does not allow (it allows localhost and 127.0.0.1).
    refused = RunningStage(local_runtime, root, tmp_path, "--host", "127.0.0.2")
    try:
        browser.get(f"http://127.0.0.2:{refused.port}/_dev")
        refusal = WebDriverWait(browser, 20).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#messages li.refusal")))
        assert "not allowed" in refusal.text
        assert browser.find_element(By.ID, "status").text == "Offline"
        assert browser.find_element(By.ID, "send").get_attribute("disabled")
        refused.wait_for_line(r"^connect  \$connect  \S+  403")
    finally:
        refused.stop()


def test_the_console_is_usable_at_mobile_width(stage, browser):
    browser.set_window_size(380, 800)
    browser.get(f"http://127.0.0.1:{stage.port}/_dev")
    WebDriverWait(browser, 20).until(EC.text_to_be_present_in_element((By.ID, "status"), "Online"))
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 400, f"the page scrolls sideways at 380 px: {width}"
    assert browser.find_element(By.CSS_SELECTOR, "label[for=message]")


def test_the_log_carries_each_invocation_redacted_and_bounded(stage):
    # A chat POST with credentials and a body larger than the console keeps (the padding is ignored by the handler).
    body = {"widget_id": "widget_demo_localhost", "conversation_id": "console-1", "message": "Hello!", "padding": "x" * 40_000}
    requests.post(f"{stage.http_url}/api/chat", json=body, timeout=10,
                  headers={"Origin": "http://localhost:5173", "Authorization": "Bearer secret-token", "Cookie": "session=secret-cookie"})
    log = requests.get(f"{stage.http_url}/_dev/log", timeout=10, stream=True)
    try:
        record = None
        for line in log.iter_lines():
            if line.startswith(b"data: "):
                candidate = json.loads(line[len(b"data: "):])
                if candidate["route"] == "POST /api/chat":
                    record = candidate
                    break
    finally:
        log.close()
    # The body alone is cut, so the event stays JSON with its headers, redacted as --record redacts them.
    assert len(record["event"].encode()) <= 16 * 1024
    event = json.loads(record["event"])
    headers = {name.lower(): value for name, value in event["headers"].items()}
    assert headers["authorization"] == "REDACTED" and event["cookies"] == ["session=REDACTED"]  # payload 2.0 moves cookies out
    assert "secret" not in record["event"]
    assert event["body"].startswith('{"widget_id": "widget_demo_localhost"') and "(truncated: 40" in event["body"]
    assert json.loads(record["response"])["statusCode"] in (200, 400)
