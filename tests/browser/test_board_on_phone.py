"""A branch secretary on a phone: open the branch's compliance board, run a check, read the result."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD

PHONE_WIDTH = 375
TOLERANCE = 2


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_branch_secretary_runs_a_check_and_reads_the_board_on_a_phone(world, live_server, phone):
    page = phone
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "branch_secretary")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))

    page.goto(f"{live_server.url}/orgs/SA-B1/")
    page.locator("a", has_text="检查结果").first.click()
    page.wait_for_url(re.compile(r"/policy/board/SA-B1/"))
    expect(page.locator("main")).to_contain_text("尚未对本组织运行检查")
    page.locator("button", has_text="立即检查").click()
    page.wait_for_url(re.compile(r"/policy/board/SA-B1/\?year="))
    expect(page.locator("main")).to_contain_text("配备书记")
    expect(page.locator(".badge.state-ok").first).to_be_visible()
    width = int(page.evaluate("document.documentElement.scrollWidth"))
    # What sticks out, outside the tables (which scroll inside their own box), for the message.
    wide = page.evaluate(
        "Array.from(document.querySelectorAll('body *'))"
        ".filter(e => !e.closest('.table-wrap') && e.getBoundingClientRect().right > 380)"
        ".slice(0, 3).map(e => e.tagName + '.' + e.className + ':' + (e.id || e.name || ''))"
    )
    assert width <= PHONE_WIDTH + TOLERANCE, ("检查结果页在手机上出现横向滚动", wide)
    screenshot(page, "board-phone")
    screenshot(page, "board-phone-first-screen", full_page=False)
