"""Browser tests: Playwright's sync API driving Debian's Chromium against pytest-django's live server.

How to run them locally: see tests/browser/README.md. In short: `apt-get install chromium fonts-noto-cjk`
once, then `.venv/bin/python -m pytest -m browser`. Never `playwright install`: the browser is Debian's.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API keeps an event loop running on the test thread; Django refuses database access
# from a thread with a running loop unless this is set (the live server itself runs in its own thread).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("ZHIBU_CHROMIUM", "/usr/bin/chromium"))
# No sandbox (CI runs as root), and nothing that calls out to Google: this machine has no network, and
# Chromium's background connections would otherwise fail many at a time.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOT_DIR = Path(os.environ.get("ZHIBU_SCREENSHOT_DIR", tempfile.gettempdir())) / "zhibu-screenshots"


def _no_browser(reason: str) -> None:
    # CI must never pass by skipping: there the browser is installed by .ci/run, so its absence is a bug.
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}（CI 中浏览器测试不能跳过）", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless; `launch` gives it a new, empty profile directory of its own."""
    if not CHROMIUM.is_file():
        _no_browser(f"找不到 {CHROMIUM}：请先 apt-get install chromium fonts-noto-cjk")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extras install it
        _no_browser("未安装 playwright（pip install -e '.[dev]'）")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A fresh context (no cookies) the size of a phone: 375 × 740 CSS pixels."""
    context = browser.new_context(
        viewport={"width": 375, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(15_000)
    # The browser asks for /favicon.ico by itself and the site has none; answering here keeps that 404
    # out of the server's log (which the live server would write after the test's output is closed).
    context.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    page = context.new_page()
    page.problems = []  # type: ignore[attr-defined]

    def on_console(msg: Any) -> None:
        if msg.type == "error":
            page.problems.append(f"console: {msg.text} {msg.location.get('url', '')}")

    def on_response(response: Any) -> None:
        if response.status >= 400:
            page.problems.append(f"HTTP {response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: page.problems.append(f"page error: {exc}"))
    page.on("response", on_response)
    try:
        yield page
    finally:
        context.close()


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """A PNG to look at after the run (in $ZHIBU_SCREENSHOT_DIR or the temp folder, zhibu-screenshots/)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
