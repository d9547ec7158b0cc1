"""The status page in a real browser: Debian's chromium, driven by selenium through /usr/bin/chromedriver
(Selenium Manager downloads nothing). A real Watchdog on SQLite with a firing alert; the pages must
render it with its samples and sparkline, the ack form must work (and refuse a wrong token), and the
browser must log no error and load nothing from another origin.

Skipped without chromium and chromedriver, unless WATCHDOG_REQUIRE_BROWSER=1 (CI), where that fails.
With WATCHDOG_SCREENSHOTS=DIR the pages are also saved there, after a longer history (docs/img, see README).
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from runtime_helpers import sql
from status_helpers import STUCK, TOKEN, firing

from artifacts.servers import Receiver, eventually
from watchdog import Watchdog
from watchdog.runtime.web import CSP

CHROMEDRIVER = Path("/usr/bin/chromedriver")
DESKTOP, PHONE = (1280, 900), (390, 844)

pytestmark = pytest.mark.browser


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    missing = [] if CHROMEDRIVER.exists() and shutil.which("chromium") else ["chromium and chromium-driver"]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium (the test extra)")
    if missing:
        reason = f"no browser: install {' and '.join(missing)}"
        if os.environ.get("WATCHDOG_REQUIRE_BROWSER") == "1":
            pytest.fail(f"a browser is required (WATCHDOG_REQUIRE_BROWSER=1): {reason}")
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}", f"--window-size={DESKTOP[0]},{DESKTOP[1]}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(30)
    yield browser
    browser.quit()


# A silence that is not active (it would change the page's states): listed on the rule pages.
PLANNED = """
silences:
  - name: planned-migration
    match: {target: main}
    from: 2099-01-01T08:00:00Z
    until: 2099-01-01T12:00:00Z
    comment: scheduler database moved to the new cluster
"""


@pytest.fixture
def running(make_watchdog: Callable[..., Watchdog], jobs_db: Path, receiver: Receiver) -> str:
    _, base = firing(make_watchdog, jobs_db, receiver, extra=PLANNED)
    eventually(lambda: _history(base) >= 5, "a few evaluations for the sparkline", timeout=30, every=0.2)
    if os.environ.get("WATCHDOG_SCREENSHOTS"):  # for the docs: a longer history whose value moves
        for more in range(2, 6):
            sql(jobs_db, STUCK)
            eventually(lambda: _history(base) >= 5 * more, "more evaluations", timeout=30, every=0.2)
    return base


def _history(base: str) -> int:
    return requests.get(f"{base}/rules/jobs_stuck", timeout=5).text.count('class="dot dot-')


def _errors(driver: Any) -> list[dict[str, Any]]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _foreign(driver: Any, base: str) -> list[str]:
    """Resources the page loaded from anywhere but the watchdog itself."""
    names = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    origin = urlsplit(base).netloc
    return [name for name in names if not name.startswith("data:") and urlsplit(name).netloc != origin]


def _screenshot(driver: Any, name: str, size: tuple[int, int]) -> None:
    folder = os.environ.get("WATCHDOG_SCREENSHOTS")
    if folder:
        driver.set_window_size(*size)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(size[0], min(max(height + 140, size[1]), 2400))
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))
        driver.set_window_size(*DESKTOP)


def test_the_status_page_shows_the_firing_alert_with_its_samples_and_no_error(driver: Any, running: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{running}/")
    alert = driver.find_element(By.CSS_SELECTOR, "article.alert-firing")
    assert "jobs_stuck" in alert.text and " jobs pending for more than 5 minutes" in alert.text
    assert alert.find_element(By.CSS_SELECTOR, "a[href='https://example.org/runbooks/jobs-stuck']")
    headers = [th.text for th in alert.find_elements(By.CSS_SELECTOR, "table.samples th")]
    cells = [td.text for td in alert.find_elements(By.CSS_SELECTOR, "table.samples tbody td")]
    assert "status" in headers and "pending" in cells
    states = {row.find_elements(By.TAG_NAME, "td")[1].text: row.find_element(By.CSS_SELECTOR, ".state").text
              for row in driver.find_elements(By.CSS_SELECTOR, "table.rules tbody tr")}
    assert states == {"jobs_stuck": "firing", "jobs_counted": "ok", "never_runs": "error"}
    targets = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "ul.targets li")]
    assert targets == ["down gone", "up main"]
    assert driver.find_element(By.TAG_NAME, "header").value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"
    assert _errors(driver) == [] and _foreign(driver, running) == []
    assert requests.get(f"{running}/", timeout=5).headers["Content-Security-Policy"] == CSP
    _screenshot(driver, "status", DESKTOP)
    _screenshot(driver, "status-phone", PHONE)


def test_the_rule_page_draws_the_sparkline_and_shows_the_sql(driver: Any, running: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{running}/rules/jobs_stuck")
    svg = driver.find_element(By.CSS_SELECTOR, "svg.sparkline")
    assert svg.size["width"] > 100 and svg.size["height"] > 20
    dots = svg.find_elements(By.CSS_SELECTOR, "circle.dot-violated")
    assert len(dots) >= 5 and svg.find_elements(By.TAG_NAME, "polyline")
    assert dots[0].value_of_css_property("fill") != "rgb(0, 0, 0)"  # the stylesheet applied, not blocked
    assert "FROM" in driver.find_element(By.CSS_SELECTOR, "pre.sql").text
    assert driver.find_element(By.CSS_SELECTOR, "table.samples")
    assert "planned-migration" in driver.page_source and "scheduler database moved" in driver.page_source
    assert _errors(driver) == [] and _foreign(driver, running) == []
    _screenshot(driver, "rule", DESKTOP)
    _screenshot(driver, "rule-phone", PHONE)


def test_the_pages_fit_a_phone_screen(driver: Any, running: str) -> None:
    driver.set_window_size(*PHONE)
    for path in ("/", "/rules/jobs_stuck"):
        driver.get(f"{running}{path}")
        assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"), path


def _ack(driver: Any, token: str) -> None:
    from selenium.webdriver.common.by import By

    form = driver.find_element(By.CSS_SELECTOR, "article.alert-firing form.ack")
    form.find_element(By.NAME, "for").clear()
    form.find_element(By.NAME, "for").send_keys("2h")
    form.find_element(By.NAME, "comment").send_keys("restarting the worker")
    form.find_element(By.NAME, "by").send_keys("ana")
    form.find_element(By.NAME, "token").send_keys(token)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def test_the_ack_form_acknowledges_the_alert(driver: Any, running: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{running}/")
    _ack(driver, TOKEN)
    eventually(lambda: "ack=done" in driver.current_url, "the redirect back to the page", timeout=10, every=0.1)
    assert urlsplit(driver.current_url).path == "/"
    assert driver.find_element(By.CSS_SELECTOR, ".notice.ok").text == "Acknowledged."
    acked = driver.find_element(By.CSS_SELECTOR, "article.alert-firing .acked").text
    assert "ana" in acked and "restarting the worker" in acked
    assert not driver.find_elements(By.CSS_SELECTOR, "article.alert-firing form.ack")
    [alert] = [a for a in requests.get(f"{running}/api/v1/status", timeout=5).json()["alerts"] if a["rule"] == "jobs_stuck"]
    assert alert["ack"]["by"] == "ana" and alert["ack"]["comment"] == "restarting the worker"
    assert TOKEN not in driver.page_source
    assert _errors(driver) == []


def test_a_wrong_token_shows_an_error_and_acknowledges_nothing(driver: Any, running: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{running}/rules/jobs_stuck")
    _ack(driver, "not-the-token")
    eventually(lambda: "ack=token" in driver.current_url, "the redirect back to the page", timeout=10, every=0.1)
    assert urlsplit(driver.current_url).path == "/rules/jobs_stuck"
    assert "the token is wrong" in driver.find_element(By.CSS_SELECTOR, ".notice.bad").text
    assert not driver.find_elements(By.CSS_SELECTOR, ".acked")
    assert all(a["ack"] is None for a in requests.get(f"{running}/api/v1/status", timeout=5).json()["alerts"])
    assert _errors(driver) == []
