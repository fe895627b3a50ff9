"""A branch's year in the browser, on a phone: the secretary proposes the year's meetings from the policy,
arranges them in one step, finds them in the year's list and prints the 三会一课 ledger (Excel and PDF)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD
from zhibu.core.calendar import WorkdayCalendar
from zhibu.life.models import Meeting

PHONE_WIDTH = 375
TOLERANCE = 2  # px: rounding of sub-pixel borders


def fits(page: Any, what: str) -> None:
    width = int(page.evaluate("document.documentElement.scrollWidth"))
    if width > PHONE_WIDTH + TOLERANCE:
        screenshot(page, "life-year-too-wide")
        raise AssertionError(f"{what}宽 {width}px，超出手机屏幕 {PHONE_WIDTH}px")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_branchs_year_is_planned_and_its_ledger_printed_on_a_phone(world, live_server, phone):
    year = timezone.localdate().year
    if WorkdayCalendar.load([year]).year_is_estimated(year):
        pytest.skip(f"the calendar does not know {year}: the plan refuses such a year (tested elsewhere)")
    phone.goto(f"{live_server.url}/login/?next=/life/plan/%3Forg%3DSA-B1%26year%3D{year}")
    phone.fill("#id_username", "branch_secretary")
    phone.fill("#id_password", PASSWORD)
    phone.click("main button[type=submit]")
    expect(phone.locator("h1")).to_contain_text(f"{year} 年会议计划")
    proposed = phone.locator("input[name=items]").count()
    assert proposed >= 12, proposed  # at least the monthly theme days
    expect(phone.locator("main")).to_contain_text("全国基准")  # each item says which rule asks for it
    fits(phone, "年度会议计划")
    screenshot(phone, "life-year-plan")

    # Past dates come unticked; ticking everything back-fills them (a school starting mid-year does).
    phone.locator(".life-plan-tools input").check()
    assert phone.locator("input[name=items]:checked").count() == proposed
    phone.locator("button[type=submit]", has_text="安排选中的会议").click()
    phone.wait_for_url(re.compile(r"/life/meetings/\?org=SA-B1&year=\d+"))
    arranged = Meeting.objects.filter(org__code__startswith="SA-B1", from_plan=True).count()
    assert arranged == proposed
    expect(phone.locator("main")).to_contain_text(f"共 {arranged} 次会议")
    fits(phone, "会议列表")
    screenshot(phone, "life-year-meetings")

    with phone.expect_download() as xlsx_download:
        phone.locator("a", has_text="三会一课台账（Excel）").click()
    workbook = load_workbook(io.BytesIO(open(xlsx_download.value.path(), "rb").read()))
    assert workbook.sheetnames[0] == "汇总" and len(workbook.sheetnames) > 1, workbook.sheetnames
    with phone.expect_download() as pdf_download:
        phone.locator("a", has_text="台账（PDF）").click()
    assert open(pdf_download.value.path(), "rb").read(5) == b"%PDF-"
    assert not phone.problems, phone.problems
