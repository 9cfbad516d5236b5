"""The page in headless Chromium: two pages (one per server), a message typed in one appears in the
other; then the first page's server restarts and the page reconnects by itself."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
# make test-chat sets this: there the browser test fails, never skips, when Chromium is missing.
REQUIRED = os.environ.get("CHAT_TEST_REQUIRE_BROWSER") == "1"
WAIT = 30  # seconds for the page to show a message: bounds a hang on a busy machine, not a target

if not (CHROMIUM and DRIVER):
    if REQUIRED:
        raise RuntimeError("chromium and chromium-driver are required (make test-chat installs them)")
    pytest.skip("chromium / chromedriver not installed (make test-chat installs them)", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture
def browser():
    profile = tempfile.mkdtemp(prefix="chat-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",  # we run as root in CI
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def texts(driver) -> list[str]:
    return [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#messages li")]


def open_page(driver, url: str, name: str) -> str:
    if len(driver.window_handles) == 1 and driver.current_url in ("data:,", "about:blank"):
        handle = driver.current_window_handle
    else:
        driver.switch_to.new_window("tab")
        handle = driver.current_window_handle
    driver.get(url)
    WebDriverWait(driver, WAIT).until(lambda d: d.find_element(By.ID, "status").text == "connected")
    field = driver.find_element(By.ID, "name")
    field.clear()
    field.send_keys(name)
    return handle


def say(driver, handle: str, text: str) -> None:
    driver.switch_to.window(handle)
    box = driver.find_element(By.ID, "content")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def wait_for(driver, handle: str, needle: str) -> None:
    driver.switch_to.window(handle)
    WebDriverWait(driver, WAIT).until(lambda d: any(needle in t for t in texts(d)))


def test_two_pages_talk_and_a_page_resumes_after_its_server_restarts(make_server, browser):
    a, b = make_server(), make_server()
    page_a = open_page(browser, a.url + "/", "alice")
    page_b = open_page(browser, b.url + "/", "bob")

    say(browser, page_a, "hello from a")
    wait_for(browser, page_b, "alice")
    wait_for(browser, page_b, "hello from a")
    say(browser, page_b, "hi <b>a</b>")
    wait_for(browser, page_a, "hi <b>a</b>")  # shown as text, not markup

    # a's server goes away; what bob says meanwhile shows on alice's page after it reconnects
    a.stop()
    say(browser, page_b, "while you were away")
    a.start()
    wait_for(browser, page_a, "while you were away")
    browser.switch_to.window(page_a)
    lines = texts(browser)
    assert sum("while you were away" in t for t in lines) == 1
    assert sum("hello from a" in t for t in lines) == 1
