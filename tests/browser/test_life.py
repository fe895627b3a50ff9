"""A meeting from notice to minutes on phone-sized screens (375 × 800): the branch secretary publishes the
notice and shows the QR code, a member scans it (logging in on the way), checks in and casts a secret
ballot from "我的会议", and the secretary records attendance and minutes and confirms the meeting held."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD
from zhibu.core.scoping import scope_for
from zhibu.life import services, voting
from zhibu.life.models import Attendance, AttendanceState, Ballot, BallotReceipt, MeetingKind, MeetingState

PHONE = {"width": 375, "height": 800}
TOLERANCE = 2  # px: rounding of sub-pixel borders
# The meeting starts this long after it is arranged: time enough for the secretary to publish the notice
# (refused once a meeting has started), after which the test waits for the start (votes, attendance and
# minutes need a meeting under way).
LEAD = dt.timedelta(seconds=15)


@pytest.fixture
def phones(browser: Any) -> Iterator[Any]:
    """new_phone() → a page in a fresh context (its own cookies) of 375 × 800, recording problems."""
    contexts: list[Any] = []

    def new_phone() -> Any:
        context = browser.new_context(
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(15_000)
        context.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda exc: page.problems.append(f"page error: {exc}"))
        page.on("response", lambda r: r.status >= 400 and page.problems.append(f"HTTP {r.status} {r.url}"))
        return page

    try:
        yield new_phone
    finally:
        for context in contexts:
            context.close()


def fits(page: Any, what: str) -> None:
    width = int(page.evaluate("document.documentElement.scrollWidth"))
    if width > PHONE["width"] + TOLERANCE:  # name the widest elements, so a failure says what to fix
        wide = page.evaluate(
            """() => Array.from(document.querySelectorAll('main *'))
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 2)
                .slice(-5)
                .map(e => e.tagName + '.' + e.className + ': ' + e.textContent.trim().slice(0, 60))"""
        )
        screenshot(page, "life-too-wide")
        raise AssertionError(f"{what}宽 {width}px，超出手机屏幕 {PHONE['width']}px：{wide}")


def log_in(page: Any, username: str) -> None:
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")


def member_css_applied(page: Any) -> None:
    sheets = page.evaluate("Array.from(document.styleSheets).map(s => [s.href, s.cssRules.length])")
    assert any(href and href.endswith("/life/member.css") and n > 10 for href, n in sheets), sheets


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_meeting_from_notice_to_minutes_on_phones(world, live_server, phones):
    users, people = world.users, world.people
    secretary_scope = scope_for(users.branch_secretary)
    starts_at = timezone.now() + LEAD
    meeting = services.meeting_create(
        actor=users.branch_secretary,
        scope=secretary_scope,
        org=world.sa_b1,
        kind=MeetingKind.GENERAL_ASSEMBLY,
        title="第四季度支部党员大会",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        place="行政楼三楼会议室",
        topics="学习党的二十届四中全会精神\n讨论支部委员分工",
    )
    meeting_url = f"{live_server.url}/life/meetings/{meeting.pk}/"
    check_in_url = f"{live_server.url}/life/c/{meeting.check_in_token}/"

    # The secretary publishes the notice and puts the QR code on the screen.
    sec = phones()
    sec.goto(f"{live_server.url}/login/?next=/life/meetings/{meeting.pk}/")
    log_in(sec, "branch_secretary")
    sec.wait_for_url(meeting_url)
    sec.locator("#notice button[type=submit]", has_text="发布通知").click()
    expect(sec.locator("#notice h2")).to_contain_text(re.compile(r"\d{2}:\d{2} 发布"))  # not "尚未发布"
    meeting.refresh_from_db()
    assert meeting.notice_published_at is not None
    qr = sec.locator("#check-in")
    expect(qr.locator("svg")).to_be_visible()
    expect(qr).to_contain_text(check_in_url)  # the QR code's address, printed under it
    fits(sec, "会议页面")
    screenshot(sec, "life-secretary-qr")

    # A member scans the code: not logged in on this phone yet, so the login page comes first and leads back.
    mem = phones()
    mem.goto(check_in_url)
    mem.wait_for_url(re.compile(r"/login/\?next="))
    log_in(mem, "member")
    mem.wait_for_url(check_in_url)
    member_css_applied(mem)
    expect(mem.locator("h1")).to_contain_text("第四季度支部党员大会")
    fits(mem, "签到页面")
    screenshot(mem, "life-check-in-before")
    mem.locator("button.mine-big", has_text="签到").click()
    expect(mem.locator(".mine-big-done")).to_contain_text("已签到")
    expect(mem.locator(".messages")).to_contain_text("张三丰，签到成功")
    row = Attendance.objects.get(meeting=meeting, person=people.member)
    assert row.state == AttendanceState.PRESENT and row.check_in_method == "qr"
    fits(mem, "签到结果页面")
    screenshot(mem, "life-check-in-done")

    # The secretary checks in too (two of the three voters: quorum), then the meeting starts.
    services.check_in(actor=users.branch_secretary, meeting=meeting, token=meeting.check_in_token)
    time.sleep(max(0.0, (starts_at - timezone.now()).total_seconds()) + 0.5)

    # The secretary opens a secret vote from the meeting page.
    sec.goto(meeting_url)
    sec.locator("#votes summary", has_text="发起表决").click()
    sec.locator("#votes input[name=title]").fill("关于调整支部委员分工的决定")
    expect(sec.locator("#votes input[name=secret][value='1']")).to_be_checked()
    sec.locator("#votes button[type=submit]", has_text="开始表决").click()
    expect(sec.locator("#votes")).to_contain_text("关于调整支部委员分工的决定")
    vote = meeting.votes.get()
    assert vote.secret and vote.state == "open"

    # The member votes from 我的会议.
    mem.goto(f"{live_server.url}/life/me/")
    card = mem.locator(f"#meeting-{meeting.pk}")
    expect(card).to_contain_text("已签到")
    ballot = card.locator(f"#vote-{vote.pk}")
    expect(ballot).to_contain_text("不与您的姓名一同保存")
    fits(mem, "我的会议页面")
    screenshot(mem, "life-mine-ballot")
    ballot.locator("label", has_text="赞成").click()
    ballot.locator("button[type=submit]", has_text="投票").click()
    expect(mem.locator(".messages")).to_contain_text("您已对“关于调整支部委员分工的决定”投票")
    expect(mem.locator(f"#vote-{vote.pk}")).to_contain_text("您已投票")
    assert "赞成" not in mem.locator(".messages").inner_text()
    assert list(BallotReceipt.objects.filter(vote=vote).values_list("person_id", flat=True)) == [
        people.member.pk
    ]
    assert list(Ballot.objects.filter(vote=vote).values_list("choice", flat=True)) == ["in_favour"]
    fits(mem, "投票后的我的会议页面")
    screenshot(mem, "life-mine-voted")

    # The secretary votes as well, closes the vote, records who came and the minutes, and confirms it held.
    voting.ballot_cast(actor=users.branch_secretary, vote=vote, choice="in_favour")
    sec.goto(meeting_url)
    sec.locator(f"#vote-{vote.pk} button[type=submit]", has_text="结束表决").click()
    expect(sec.locator(f"#vote-{vote.pk}")).to_contain_text("已结束")
    absent = sec.locator(f"input[name=state_{people.school_secretary.pk}][value=absent]")
    absent.check()
    sec.locator("#attendance button[type=submit]", has_text="保存出席情况").click()
    expect(sec.locator(".messages")).to_contain_text("已登记出席情况")
    minutes = sec.locator("#minutes")
    minutes.locator("select[name=chair]").select_option(label="李红梅")
    minutes.locator("select[name=recorder]").select_option(label="李红梅")
    minutes.locator("textarea[name=topics]").fill("学习党的二十届四中全会精神\n讨论支部委员分工")
    minutes.locator("textarea[name=resolutions]").fill("通过关于调整支部委员分工的决定")
    fits(sec, "会议记录表单")
    screenshot(sec, "life-minutes-form")
    minutes.locator("button[type=submit]", has_text="保存会议记录").click()
    expect(sec.locator(".messages")).to_contain_text("已保存会议记录")
    sec.locator("#hold button[type=submit]", has_text="确认会议已召开").click()
    expect(sec.locator("h1")).to_contain_text("已召开")
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.HELD and meeting.minutes["topics"][0] == "学习党的二十届四中全会精神"
    fits(sec, "已召开的会议页面")
    screenshot(sec, "life-held")

    # Back on the member's phone, the meeting shows as held, with the member's check-in.
    mem.goto(f"{live_server.url}/life/me/")
    expect(mem.locator(f"#meeting-{meeting.pk}")).to_contain_text("已召开")
    fits(mem, "我的会议页面")
    screenshot(mem, "life-mine-after")
    assert sec.problems == [] and mem.problems == []
