"""The dev console in a real browser (headless Chromium driven by selenium): chat through the stage,
see the invocation in the live log, and see a refusal — not a hang — from a refused origin."""
import pathlib
import shutil
import time

import pytest
from selenium import webdriver
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
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "dev-console.png"))


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
