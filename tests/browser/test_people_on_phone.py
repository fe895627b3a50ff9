"""A branch secretary on a phone: log in, find a member by pinyin initials, open the record."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD

PHONE_WIDTH = 375
TOLERANCE = 2  # px: rounding of sub-pixel borders


def _page_width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def _assets_loaded(page: Any) -> None:
    """The site's CSS applied and htmx present: static files are served."""
    assert page.evaluate("typeof window.htmx") == "object", "htmx 未加载"
    sheets = page.evaluate("Array.from(document.styleSheets).map(s => [s.href, s.cssRules.length])")
    assert any(href and href.endswith("/zhibu/site.css") and n > 10 for href, n in sheets), sheets
    # The header's background comes from site.css.
    assert page.evaluate("getComputedStyle(document.querySelector('header.top')).backgroundColor") == (
        "rgb(179, 38, 30)"
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_branch_secretary_finds_a_member_by_initials_on_a_phone(world, live_server, phone):
    page = phone
    member = world.people.member
    clear_id = member.id_number

    page.goto(f"{live_server.url}/login/")
    _assets_loaded(page)
    page.fill("#id_username", "branch_secretary")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator("header .who")).to_contain_text("李红梅")
    screenshot(page, "home-phone", full_page=False)

    page.goto(f"{live_server.url}/people/")
    _assets_loaded(page)
    results = page.locator("#results").first
    expect(results).to_contain_text("李红梅")  # the whole branch before searching
    page.locator("#q").press_sequentially("zsf", delay=50)
    # htmx swaps the filtered rows into #results and pushes the query into the address.
    expect(results).not_to_contain_text("李红梅")
    expect(results.locator("a", has_text="张三丰")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]q=zsf"))
    # The fragment replaces the results box rather than landing inside it (no nested, duplicate ids).
    assert page.locator("[id=results]").count() == 1, (
        'htmx 把 #results 片段插进了 #results 里面（id 重复）：筛选表单和翻页链接需要 hx-swap="outerHTML"'
    )
    assert _page_width(page) <= PHONE_WIDTH + TOLERANCE, "人员列表在手机上出现横向滚动"
    screenshot(page, "people-list-phone")

    results.locator("a", has_text="张三丰").click()
    page.wait_for_url(re.compile(rf"/people/{member.pk}/$"))
    expect(page.locator("h1")).to_contain_text("张三丰")
    shown = page.locator("#id-number").inner_text()
    assert "********" in shown
    assert clear_id not in shown
    assert clear_id not in page.content()
    assert shown.startswith(clear_id[:6]) and clear_id[-4:] in shown
    width = _page_width(page)
    screenshot(page, "person-detail-phone")
    screenshot(page, "person-detail-phone-first-screen", full_page=False)
    assert width <= PHONE_WIDTH + TOLERANCE, f"人员页面宽 {width}px，超出手机屏幕 {PHONE_WIDTH}px"
    assert page.problems == []  # type: ignore[attr-defined]
