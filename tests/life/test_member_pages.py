"""The member's phone pages: my meetings, asking leave, checking in through the QR code's URL, and casting a
ballot; every refusal is shown as a message and writes nothing, and no page shows anyone else's choice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_user
from zhibu.core.models import AuditEntry
from zhibu.core.scoping import scope_for
from zhibu.life import services, voting
from zhibu.life.models import (
    Attendance,
    AttendanceState,
    Ballot,
    BallotReceipt,
    LeaveState,
    Meeting,
    MeetingKind,
    Vote,
    VoteCast,
)

pytestmark = pytest.mark.django_db

MINE = "/life/me/"


# Helpers ----------------------------------------------------------------------------------------------


def arrange(
    world: Any,
    starts_at: dt.datetime,
    *,
    title: str = "第四季度支部党员大会",
    publish: bool = True,
    ends_at: dt.datetime | None = None,
    org: Any = None,
    user: Any = None,
) -> Meeting:
    """A general assembly arranged (and its notice published, before it starts) by the branch secretary."""
    user = user or world.users.branch_secretary
    kw = {"actor": user, "scope": scope_for(user)}
    meeting = services.meeting_create(
        **kw,
        org=org or world.sa_b1,
        kind=MeetingKind.GENERAL_ASSEMBLY,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        place="行政楼三楼会议室",
        topics="学习党的二十届四中全会精神\n讨论支部委员分工",
    )
    if publish:
        services.notice_publish(**kw, meeting=meeting, now=starts_at - dt.timedelta(days=2))
    return meeting


def under_way(world: Any, **kw: Any) -> Meeting:
    """A meeting that started ten minutes ago: its check-in window is open now."""
    now = timezone.now()
    return arrange(world, now - dt.timedelta(minutes=10), ends_at=now + dt.timedelta(hours=2), **kw)


def soon(world: Any, days: int = 3, **kw: Any) -> Meeting:
    return arrange(world, timezone.now() + dt.timedelta(days=days), **kw)


def check_in(user: Any, meeting: Meeting) -> None:
    services.check_in(actor=user, meeting=meeting, token=meeting.check_in_token)


def written() -> tuple[Any, ...]:
    """Everything a refused request could have written."""
    return (
        list(
            Attendance.objects.order_by("pk").values_list(
                "state", "checked_in_at", "check_in_method", "leave_state", "leave_reason"
            )
        ),
        BallotReceipt.objects.count(),
        Ballot.objects.count(),
        VoteCast.objects.count(),
        AuditEntry.objects.count(),
    )


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def row(meeting: Meeting, person: Any) -> Attendance:
    return Attendance.objects.get(meeting=meeting, person=person)


# My meetings ------------------------------------------------------------------------------------------


def test_my_meetings_show_date_place_topics_and_my_state(world, client_as):
    meeting = soon(world)
    other_branch = soon(world, org=world.sb_b1, user=world.users.outsider, title="第二小学支部大会")
    page = client_as(world.users.member).get(MINE)
    assert page.status_code == 200
    text = page.content.decode()
    assert meeting.title in text and other_branch.title not in text
    local = timezone.localtime(meeting.starts_at)
    assert f"{local.year}年{local.month}月{local.day}日" in text
    assert local.strftime("%H:%M") in text
    assert "行政楼三楼会议室" in text
    assert "讨论支部委员分工" in text
    assert "有表决权" in text and "待签到" in text
    assert "请扫描会场二维码签到" in text  # when the window opens; nothing to press before
    assert reverse("life:leave", args=[meeting.pk]) in text


def test_a_meeting_on_the_plan_without_a_notice_is_listed_apart_without_forms(world, client_as):
    draft = soon(world, days=20, publish=False, title="十二月主题党日")
    text = client_as(world.users.member).get(MINE).content.decode()
    assert "已列入计划（尚未发布通知）" in text and draft.title in text
    assert reverse("life:leave", args=[draft.pk]) not in text


def test_the_window_open_says_scan_the_qr_code_and_offers_no_button_to_check_in(world, client_as):
    meeting = under_way(world)
    text = client_as(world.users.member).get(MINE).content.decode()
    assert "签到进行中" in text and "请扫描会场二维码签到" in text
    assert meeting.check_in_token not in text  # only the QR code carries the token
    assert reverse("life:leave", args=[meeting.pk]) not in text  # started: too late to ask leave


def test_a_cancelled_meeting_says_so_with_its_reason(world, client_as):
    meeting = soon(world)
    user = world.users.branch_secretary
    services.meeting_cancel(actor=user, scope=scope_for(user), meeting=meeting, reason="与期中考试冲突")
    text = client_as(world.users.member).get(MINE).content.decode()
    assert "会议已取消：与期中考试冲突" in text
    assert reverse("life:leave", args=[meeting.pk]) not in text


def test_a_meeting_begun_before_midnight_and_still_under_way_stays_current(world, client_as):
    now = timezone.localtime()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    late = arrange(
        world, midnight - dt.timedelta(minutes=30), ends_at=now + dt.timedelta(hours=1), title="跨夜的会"
    )
    over = arrange(
        world, midnight - dt.timedelta(hours=3), ends_at=midnight - dt.timedelta(hours=1), title="昨晚的会"
    )
    text = client_as(world.users.member).get(MINE).content.decode()
    assert f'id="meeting-{late.pk}"' in text and "签到进行中" in text
    assert f'id="meeting-{over.pk}"' not in text
    # Over but not yet confirmed as held: not current, but among the past meetings, awaiting confirmation.
    assert text.count("跨夜的会") == 1
    past = text.split('id="past"', 1)[1]
    assert "跨夜的会" not in past and "昨晚的会" in past.split(f'id="past-{over.pk}"', 1)[1]
    assert "待书记确认召开" in past


def test_a_meeting_over_earlier_today_says_its_check_in_has_closed(world, client_as):
    now = timezone.localtime()
    start = max(now - dt.timedelta(hours=2), now.replace(hour=0, minute=0, second=0, microsecond=0))
    if now - start < dt.timedelta(minutes=2):
        pytest.skip("刚过午夜：今天还没有已结束的会")
    meeting = arrange(world, start, ends_at=now - dt.timedelta(minutes=1), title="上午已结束的会")
    text = client_as(world.users.member).get(MINE).content.decode()
    card = text.split(f'id="meeting-{meeting.pk}"', 1)[1].split("</article>", 1)[0]
    closes = timezone.localtime(meeting.ends_at)
    assert f"签到已于 {closes.month}月{closes.day}日 {closes:%H:%M} 结束" in card and "届时" not in card


# Past meetings ----------------------------------------------------------------------------------------


def held(
    world: Any,
    days_ago: int,
    *,
    title: str,
    states: dict[int, str] | None = None,
    votes: tuple[tuple[str, bool, dict[str, str]], ...] = (),
) -> Meeting:
    """A general assembly of branch 1 held `days_ago` days ago: attendance recorded (everyone present
    unless `states` says otherwise), each of `votes` (title, secret, {user attribute: choice}) opened, cast
    and closed, minutes recorded and the meeting confirmed held — all at the meeting's own time."""
    secretary = world.users.branch_secretary
    kw = {"actor": secretary, "scope": scope_for(secretary)}
    start = timezone.now() - dt.timedelta(days=days_ago)
    meeting = arrange(world, start, title=title, ends_at=start + dt.timedelta(hours=2))
    roll = dict.fromkeys(meeting.attendances.values_list("person_id", flat=True), AttendanceState.PRESENT)
    roll.update(states or {})
    services.attendance_mark(**kw, meeting=meeting, states=roll, now=start + dt.timedelta(minutes=5))
    for vote_title, secret, choices in votes:
        vote = voting.vote_open(
            **kw, meeting=meeting, title=vote_title, secret=secret, now=start + dt.timedelta(minutes=30)
        )
        for user_attr, choice in choices.items():
            voting.ballot_cast(actor=getattr(world.users, user_attr), vote=vote, choice=choice)
        voting.vote_close(**kw, vote=vote, now=start + dt.timedelta(minutes=40))
    services.minutes_record(
        **kw,
        meeting=meeting,
        topics=["学习"],
        chair=world.people.branch_secretary,
        recorder=world.people.school_secretary,
        now=start + dt.timedelta(hours=1),
    )
    services.meeting_hold(**kw, meeting=meeting, now=start + dt.timedelta(hours=3))
    return meeting


def past_section(client: Any) -> str:
    response = client.get(MINE)
    assert response.status_code == 200
    text: str = response.content.decode()
    return text.split('id="past"', 1)[1].split("</section>", 1)[0]


def test_past_meetings_are_the_held_ones_of_the_last_twelve_months_with_my_attendance(world, client_as):
    member = world.people.member
    recent = held(world, 20, title="上月支部党员大会")
    excused = held(world, 50, title="请了假的党员大会", states={member.pk: AttendanceState.EXCUSED})
    absent = held(world, 80, title="缺了席的党员大会", states={member.pk: AttendanceState.ABSENT})
    held(world, 400, title="一年多以前的党员大会")
    unconfirmed = arrange(world, timezone.now() - dt.timedelta(days=10), title="尚未确认召开的会")
    section = past_section(client_as(world.users.member))
    assert "过去的会议" in section
    for meeting, label in ((recent, "出席"), (excused, "请假（已批准）"), (absent, "缺席")):
        item = section.split(f'id="past-{meeting.pk}"', 1)[1].split("</li>", 1)[0]
        local = timezone.localtime(meeting.starts_at)
        assert f"{local.year}年{local.month}月{local.day}日" in item and "党员大会" in item
        assert meeting.title in item and f">{label}</span>" in item
    assert section.index(recent.title) < section.index(excused.title) < section.index(absent.title)
    assert "一年多以前的党员大会" not in section
    # A meeting whose day has passed but that the secretary has not confirmed is listed, and not counted.
    item = section.split(f'id="past-{unconfirmed.pk}"', 1)[1].split("</li>", 1)[0]
    assert "尚未确认召开的会" in item and "待书记确认召开" in item and "出席" not in item
    assert "已召开 3 次：出席 1 次，请假 1 次，缺席 1 次" in section


def test_past_votes_show_my_own_choice_in_an_open_vote_and_only_that_i_voted_in_a_secret_one(
    world, client_as
):
    held(
        world,
        7,
        title="上周支部党员大会",
        votes=(
            ("无记名表决的事项", True, {"member": "abstain", "school_secretary": "abstain"}),
            ("举手表决的事项", False, {"member": "against", "school_secretary": "in_favour"}),
            ("我没有参加的表决", False, {"school_secretary": "in_favour", "branch_secretary": "in_favour"}),
        ),
    )
    section = past_section(client_as(world.users.member))
    secret_row = section.split("无记名表决的事项", 1)[1].split("</li>", 1)[0]
    open_row = section.split("举手表决的事项", 1)[1].split("</li>", 1)[0]
    missed_row = section.split("我没有参加的表决", 1)[1].split("</li>", 1)[0]
    assert "已投票" in secret_row and "弃权" not in secret_row
    assert "我的表决：反对" in open_row
    assert "未投票" in missed_row
    # Only my own: nobody else's name or choice, and no secret choice anywhere in the section.
    for word in ("王建国", "李红梅", "赞成", "弃权"):
        assert word not in section, word


def test_past_meetings_read_no_secret_ballot_and_a_fixed_number_of_queries(world, django_assert_num_queries):
    from zhibu.life.selectors import my_past_meetings

    for days in (10, 20, 30):
        held(world, days, title=f"{days}天前的大会", votes=(("事项", True, {"member": "in_favour"}),))
    with CaptureQueriesContext(connection) as ctx:
        past = my_past_meetings(world.people.member, timezone.now(), limit=2)
    assert [p.meeting.title for p in past] == ["10天前的大会", "20天前的大会"]
    assert [v.mine for p in past for v in p.votes] == ["已投票", "已投票"]
    assert len(ctx.captured_queries) == 4  # my attendances, their votes, my casts, my receipts
    assert not any('"life_ballot"' in q["sql"] for q in ctx.captured_queries)
    with django_assert_num_queries(1):
        assert my_past_meetings(world.people.activist, timezone.now()) == []


def test_past_meetings_take_the_same_queries_for_one_meeting_or_many(world, client_as):
    client = client_as(world.users.member)
    votes = (("无记名", True, {"member": "in_favour"}), ("记名", False, {"member": "against"}))
    held(world, 10, title="第一次", votes=votes)
    client.get(MINE)  # warm the session and the calendar's caches

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(MINE).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for days in (20, 40, 60, 90):
        held(world, days, title=f"{days}天前", votes=votes)
    assert count() == few
    assert past_section(client).count('id="past-') == 5


def test_no_past_meetings_is_a_friendly_empty_state(world, client_as):
    section = past_section(client_as(world.users.member))
    assert "近 12 个月没有您受邀参加的会议" in section


def test_a_user_without_a_person_record_is_told_so(world, client_as):
    text = client_as(world.users.wc_staff).get(MINE).content.decode()
    assert "没有关联人员档案" in text


def test_my_meetings_need_a_login(client):
    response = client.get(MINE)
    assert response.status_code == 302 and response["Location"] == f"/login/?next={MINE}"


def test_the_forms_need_a_login_and_a_post(world, client, client_as):
    meeting, vote = voting_meeting(world)
    for url in (reverse("life:leave", args=[meeting.pk]), reverse("life:ballot", args=[vote.pk])):
        response = client.post(url, {"reason": "x", "choice": "in_favour"})
        assert response.status_code == 302 and response["Location"] == f"/login/?next={url}"
    before = written()
    member = client_as(world.users.member)
    assert member.get(reverse("life:ballot", args=[vote.pk])).status_code == 405
    assert written() == before


def test_home_links_my_meetings_for_a_person_only(world, client_as):
    assert "我的会议" in client_as(world.users.member).get("/").content.decode()
    assert "我的会议" not in client_as(world.users.wc_staff).get("/").content.decode()


def test_my_meetings_take_the_same_queries_for_one_meeting_or_many(world, client_as):
    client = client_as(world.users.member)
    under_way(world)
    client.get(MINE)  # warm the session and the calendar's caches

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(MINE).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for days in (2, 9, 16):
        soon(world, days=days)
    arrange(world, timezone.now() - dt.timedelta(days=1), title="昨天的会")
    soon(world, days=30, publish=False)
    assert count() == few


# Leave ------------------------------------------------------------------------------------------------


def test_asking_leave_records_the_request_and_says_so(world, client_as):
    meeting = soon(world)
    client = client_as(world.users.member)
    url = reverse("life:leave", args=[meeting.pk])
    response = client.post(url, {"reason": "带学生外出参加比赛"}, follow=True)
    assert "已提交“第四季度支部党员大会”的请假申请，等待书记批准" in messages_of(response)
    mine = row(meeting, world.people.member)
    assert (mine.leave_state, mine.leave_reason) == (LeaveState.REQUESTED, "带学生外出参加比赛")
    assert "待批准" in response.content.decode()
    assert url not in response.content.decode()  # no second form while it waits

    before = written()
    again = client.post(url, {"reason": "再请一次"}, follow=True)
    assert "您已提交请假申请，正在等待批准" in messages_of(again)
    assert written() == before


def test_leave_without_a_reason_is_refused_and_writes_nothing(world, client_as):
    meeting = soon(world)
    before = written()
    response = client_as(world.users.member).post(
        reverse("life:leave", args=[meeting.pk]), {"reason": "  "}, follow=True
    )
    assert "请填写请假原因" in messages_of(response)
    assert written() == before


def test_leave_after_the_start_is_refused(world, client_as):
    meeting = under_way(world)
    before = written()
    response = client_as(world.users.member).post(
        reverse("life:leave", args=[meeting.pk]), {"reason": "临时有事"}, follow=True
    )
    assert any("开始，不能再请假" in m for m in messages_of(response))
    assert written() == before


def test_leave_for_a_meeting_i_am_not_invited_to_reads_as_missing(world, client_as):
    meeting = soon(world, org=world.sb_b1, user=world.users.outsider)
    before = written()
    response = client_as(world.users.member).post(reverse("life:leave", args=[meeting.pk]), {"reason": "x"})
    assert response.status_code == 404 and "会议不存在" in response.content.decode()
    assert written() == before


def test_leave_is_a_post_only(world, client_as):
    meeting = soon(world)
    assert client_as(world.users.member).get(reverse("life:leave", args=[meeting.pk])).status_code == 405


# Check-in by the QR code's URL ------------------------------------------------------------------------


def test_the_qr_url_is_the_check_in_page(world):
    meeting = soon(world)
    assert reverse("life:check_in", args=[meeting.check_in_token]) == f"/life/c/{meeting.check_in_token}/"


def test_checking_in_inside_the_window(world, client_as):
    meeting = under_way(world)
    client = client_as(world.users.member)
    url = reverse("life:check_in", args=[meeting.check_in_token])
    page = client.get(url).content.decode()
    assert meeting.title in page and 'type="submit" class="mine-big">签到' in page
    assert "csrfmiddlewaretoken" in page

    response = client.post(url, follow=True)
    assert response.redirect_chain == [(url, 302)]
    mine = row(meeting, world.people.member)
    assert mine.state == AttendanceState.PRESENT and mine.check_in_method == "qr"
    shown = timezone.localtime(mine.checked_in_at).strftime("%H:%M")
    assert any("张三丰，签到成功" in m for m in messages_of(response))
    text = response.content.decode()
    assert f"已签到 {shown}" in text and 'class="mine-big"' not in text

    before = written()
    twice = client.post(url, follow=True)
    assert any("无需重复签到" in m for m in messages_of(twice))
    assert written() == before


def test_checking_in_before_the_window_opens_is_refused_with_its_times(world, client_as):
    meeting = soon(world)
    url = reverse("life:check_in", args=[meeting.check_in_token])
    before = written()
    response = client_as(world.users.member).post(url, follow=True)
    (message,) = messages_of(response)
    opens = timezone.localtime(
        meeting.starts_at - dt.timedelta(minutes=settings.ZHIBU_CHECK_IN_OPENS_MINUTES)
    )
    assert message.startswith("签到尚未开始") and f"（{opens:%H:%M}）起可以签到" in message
    assert written() == before


def test_checking_in_after_the_window_closed_is_refused(world, client_as):
    now = timezone.now()
    meeting = arrange(world, now - dt.timedelta(hours=3), ends_at=now - dt.timedelta(hours=1))
    before = written()
    response = client_as(world.users.member).post(
        reverse("life:check_in", args=[meeting.check_in_token]), follow=True
    )
    (message,) = messages_of(response)
    assert "签到已于" in message and "结束" in message
    assert written() == before


def test_the_check_in_page_offers_the_button_only_inside_the_window(world, client_as):
    client = client_as(world.users.member)
    now = timezone.now()
    early = soon(world, days=1, title="明天的会")
    late = arrange(
        world, now - dt.timedelta(hours=3), ends_at=now - dt.timedelta(hours=1), title="刚结束的会"
    )
    before = written()
    text = client.get(reverse("life:check_in", args=[early.check_in_token])).content.decode()
    opens = timezone.localtime(early.starts_at - dt.timedelta(minutes=settings.ZHIBU_CHECK_IN_OPENS_MINUTES))
    assert "签到尚未开始" in text and f"（{opens:%H:%M}）起可以签到" in text
    assert 'class="mine-big"' not in text
    text = client.get(reverse("life:check_in", args=[late.check_in_token])).content.decode()
    closes = timezone.localtime(late.ends_at)
    assert (
        f"签到已于 {closes.month}月{closes.day}日 {closes:%H:%M} 结束" in text
        and "请联系书记登记出席" in text
    )
    assert 'class="mine-big"' not in text
    assert written() == before


def test_someone_not_invited_is_refused(world, client_as):
    meeting = under_way(world)  # an assembly: the activist is not invited
    client = client_as(world.users.activist)
    url = reverse("life:check_in", args=[meeting.check_in_token])
    assert "您不在“第四季度支部党员大会”的参会名单中" in client.get(url).content.decode()
    before = written()
    response = client.post(url, follow=True)
    assert messages_of(response) == ["您不在“第四季度支部党员大会”的参会名单中；如需列席请联系书记登记"]
    assert written() == before


def test_a_cancelled_meeting_refuses_check_in(world, client_as):
    meeting = under_way(world)
    user = world.users.branch_secretary
    services.meeting_cancel(actor=user, scope=scope_for(user), meeting=meeting, reason="停电")
    client = client_as(world.users.member)
    url = reverse("life:check_in", args=[meeting.check_in_token])
    assert "会议已取消：停电" in client.get(url).content.decode()
    before = written()
    response = client.post(url, follow=True)
    assert any("已取消，不能签到" in m for m in messages_of(response))
    assert written() == before


def test_an_unknown_token_is_a_404(world, client_as):
    soon(world)
    response = client_as(world.users.member).get("/life/c/not-a-real-token/")
    assert response.status_code == 404
    assert "签到码无效" in response.content.decode()


def test_anonymous_check_in_goes_to_the_login_page_and_back(world, client):
    meeting = under_way(world)
    url = reverse("life:check_in", args=[meeting.check_in_token])
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 302 and response["Location"] == f"/login/?next={url}"
    assert row(meeting, world.people.member).state == AttendanceState.EXPECTED


def test_a_user_without_a_person_record_cannot_check_in(world, client_as):
    meeting = under_way(world)
    before = written()
    response = client_as(make_user("guest_account")).post(
        reverse("life:check_in", args=[meeting.check_in_token])
    )
    assert response.status_code == 403
    assert "没有关联人员档案，不能扫码签到" in response.content.decode()
    assert written() == before


# Ballots ----------------------------------------------------------------------------------------------


def voting_meeting(world: Any, *, secret: bool = True) -> tuple[Meeting, Vote]:
    """An assembly under way with the two secretaries and the member checked in, and a vote open."""
    meeting = under_way(world)
    users = world.users
    for user in (users.branch_secretary, users.school_secretary, users.member):
        check_in(user, meeting)
    vote = voting.vote_open(
        actor=users.branch_secretary,
        scope=scope_for(users.branch_secretary),
        meeting=meeting,
        title="关于调整支部委员分工的决定",
        secret=secret,
    )
    return meeting, vote


def test_a_secret_ballot_from_the_phone_page_once(world, client_as):
    _, vote = voting_meeting(world)
    client = client_as(world.users.member)
    page = client.get(MINE).content.decode()
    url = reverse("life:ballot", args=[vote.pk])
    assert url in page and "无记名投票" in page and "不与您的姓名一同保存" in page

    response = client.post(url, {"choice": "against"}, follow=True)
    (message,) = messages_of(response)
    assert "您已对“关于调整支部委员分工的决定”投票" in message and "不与您的姓名一同保存" in message
    assert "反对" not in message  # the choice is not repeated back (messages live in the session)
    assert list(BallotReceipt.objects.values_list("person_id", flat=True)) == [world.people.member.pk]
    assert list(Ballot.objects.values_list("choice", flat=True)) == ["against"]
    text = response.content.decode()
    assert url not in text and "您已投票" in text

    before = written()
    twice = client.post(url, {"choice": "in_favour"}, follow=True)
    assert messages_of(twice) == ["您已投过票，“关于调整支部委员分工的决定”每人只能投一票"]
    assert written() == before


def test_a_ballot_without_a_choice_is_refused(world, client_as):
    _, vote = voting_meeting(world)
    before = written()
    response = client_as(world.users.member).post(reverse("life:ballot", args=[vote.pk]), follow=True)
    assert messages_of(response) == ["请选择赞成、反对或弃权"]
    assert written() == before


def test_no_ballot_before_checking_in(world, client_as):
    meeting = under_way(world)
    users = world.users
    check_in(users.branch_secretary, meeting)
    check_in(users.school_secretary, meeting)
    vote = voting.vote_open(
        actor=users.branch_secretary,
        scope=scope_for(users.branch_secretary),
        meeting=meeting,
        title="表决事项",
    )
    client = client_as(users.member)
    page = client.get(MINE).content.decode()
    assert "请先签到" in page and reverse("life:ballot", args=[vote.pk]) not in page
    before = written()
    response = client.post(reverse("life:ballot", args=[vote.pk]), {"choice": "in_favour"}, follow=True)
    assert any("尚未在“第四季度支部党员大会”签到" in m for m in messages_of(response))
    assert written() == before


def test_a_vote_of_a_meeting_i_am_not_invited_to_reads_as_missing(world, client_as):
    _, vote = voting_meeting(world)
    before = written()
    response = client_as(world.users.outsider).post(
        reverse("life:ballot", args=[vote.pk]), {"choice": "in_favour"}
    )
    assert response.status_code == 404 and "表决不存在" in response.content.decode()
    assert written() == before


def test_the_page_never_shows_other_members_choices(world, client_as):
    meeting, secret = voting_meeting(world)
    secretary = world.users.branch_secretary
    show_of_hands = voting.vote_open(
        actor=secretary,
        scope=scope_for(secretary),
        meeting=meeting,
        title="关于评选优秀党员的决定",
        secret=False,
    )
    for vote in (secret, show_of_hands):
        voting.ballot_cast(actor=world.users.school_secretary, vote=vote, choice="against")
    client = client_as(world.users.member)
    client.post(reverse("life:ballot", args=[secret.pk]), {"choice": "in_favour"}, follow=True)
    response = client.post(
        reverse("life:ballot", args=[show_of_hands.pk]), {"choice": "abstain"}, follow=True
    )
    # An open vote confirms the voter's own choice to them, and only theirs.
    assert messages_of(response) == ["您已对“关于评选优秀党员的决定”表决：弃权（记名表决，结果按姓名公布）"]
    text = client.get(MINE).content.decode()
    assert text.count("您已投票") == 2
    for word in ("王建国", "赞成", "反对", "弃权"):
        assert word not in text, word


def test_an_unpublished_meeting_begun_today_is_listed_once(world, client_as):
    now = timezone.localtime()
    start = max(now - dt.timedelta(hours=1), now.replace(hour=0, minute=0, second=0, microsecond=0))
    arrange(world, start, title="今天未发通知的会", publish=False)
    text = client_as(world.users.member).get(MINE).content.decode()
    assert text.count("今天未发通知的会") == 1
