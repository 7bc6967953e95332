"""The HTML timeline in headless Chromium: it renders, filters, zooms and runs no log text."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from report_factory import ev, seed_report

from triage.findings import Report
from triage.reports import ReportFormat, render

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
PAYLOADS = ("<script>window.__pwned=1</script>", '<img src=x onerror="window.__pwned=1">')
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def hostile() -> Report:
    """The seed report with script payloads in evidence, summary and session key."""
    base = seed_report(with_stall=True)
    lock = base.findings[0]
    lock = replace(
        lock,
        summary=f"summary {PAYLOADS[1]}",
        evidence=(
            *lock.evidence,
            ev(70, "13:50:00", f"lane task error {PAYLOADS[0]}"),
            ev(71, "13:50:01", f"message {PAYLOADS[1]}"),
        ),
    )
    return replace(base, findings=(lock, *base.findings[1:]))


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    if not CHROMIUM or not CHROMEDRIVER:
        pytest.skip("headless Chromium not installed (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="triage-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(driver: Any, tmp_path: Path) -> Any:
    path = tmp_path / "report.html"
    path.write_text(render(hostile(), ReportFormat.HTML), encoding="utf-8")
    driver.set_window_size(1200, 900)
    driver.get(path.as_uri())
    driver.get_log("browser")  # anything logged before the checks below fails them
    return driver


def visible(driver: Any, selector: str) -> int:
    return int(
        driver.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0]))"
            ".filter(e => e.offsetParent !== null).length",
            selector,
        )
    )


def test_lanes_and_markers_render(page: Any) -> None:
    assert visible(page, ".lane") == 4
    assert visible(page, ".marker") == 4
    assert visible(page, ".span") == 3
    assert page.find_element("css selector", ".summary-list").text.startswith("CRITICAL")


def test_payloads_are_text_and_never_run(page: Any) -> None:
    assert page.execute_script("return typeof window.__pwned") == "undefined"
    texts = [e.text for e in page.find_elements("css selector", ".evidence pre")]
    assert f"lane task error {PAYLOADS[0]}" in texts
    assert f"message {PAYLOADS[1]}" in texts
    assert page.execute_script("return document.querySelectorAll('.evidence img').length") == 0


def test_no_console_errors(page: Any) -> None:
    page.find_element("id", "zoom-from").click()
    errors = [e for e in page.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []


def test_severity_filter_hides_lanes(page: Any) -> None:
    from selenium.webdriver.support.ui import Select

    Select(page.find_element("id", "sev-filter")).select_by_visible_text("critical")
    assert visible(page, ".lane") == 1
    assert visible(page, ".card") == 1
    Select(page.find_element("id", "sev-filter")).select_by_visible_text("high")
    assert visible(page, ".lane") == 2
    Select(page.find_element("id", "sev-filter")).select_by_value("0")
    assert visible(page, ".lane") == 4


def test_session_filter_shows_one_lane(page: Any) -> None:
    from selenium.webdriver.support.ui import Select

    Select(page.find_element("id", "lane-filter")).select_by_visible_text("gateway:963591")
    assert visible(page, ".lane") == 1
    assert visible(page, ".session-block") == 1


def test_zoom_moves_markers(page: Any) -> None:
    marker = ".lane[data-lane='1'] .marker"
    before = page.execute_script(f'return document.querySelector("{marker}").style.left')
    page.execute_script(
        "const el = document.getElementById('zoom-from');"
        "el.value = '500'; el.dispatchEvent(new Event('input'));"
    )
    after = page.execute_script(f'return document.querySelector("{marker}").style.left')
    assert before != after
    assert page.get_log("browser") == []


def test_phone_width_has_no_horizontal_scroll(page: Any) -> None:
    page.set_window_size(390, 844)
    width = page.execute_script("return document.documentElement.scrollWidth")
    viewport = page.execute_script("return window.innerWidth")
    assert width <= viewport
