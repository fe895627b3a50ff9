"""The meeting services: invitees per kind, leave, check-in at its window's edges, attendance, minutes,
confirming a meeting held, the quorum sentence, attachments and scoping; every refusal writes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import forget_year
from tests.factories import make_person, make_post
from zhibu.core.calendar import WorkdayCalendar
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.models import AuditEntry
from zhibu.core.scoping import scope_for
from zhibu.life import selectors, services
from zhibu.life.models import (
    Attendance,
    AttendanceRole,
    AttendanceState,
    LeaveState,
    Meeting,
    MeetingAttachment,
    MeetingKind,
    MeetingState,
)
from zhibu.people.models import Status

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 12, 10, 15, 0, tzinfo=TZ)
END = dt.datetime(2026, 12, 10, 17, 0, tzinfo=TZ)
EARLIER = dt.datetime(2026, 12, 1, 9, 0, tzinfo=TZ)  # "now" when the meeting is arranged
DURING = START + dt.timedelta(minutes=30)
TINY = dt.timedelta(microseconds=1)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.4\n" + b"0" * 32


# Helpers ----------------------------------------------------------------------------------------------


def state() -> tuple[Any, ...]:
    """Everything a refusal could have written: rows, their recorded values, and the audit log."""
    return (
        list(Meeting.objects.order_by("pk").values_list("state", "notice_published_at", "minutes", "org_id")),
        list(
            Attendance.objects.order_by("pk").values_list(
                "person_id", "role", "may_vote", "state", "leave_state", "checked_in_at"
            )
        ),
        list(MeetingAttachment.objects.order_by("pk").values_list("pk", "withdrawn_at")),
        AuditEntry.objects.count(),
    )


def refused(fn: Any, *, words: str, error: type[ServiceError] = ServiceError, **kw: Any) -> ServiceError:
    before = state()
    with pytest.raises(error) as exc:
        fn(**kw)
    assert words in exc.value.message, exc.value.message
    assert state() == before, "a refusal must write nothing"
    return exc.value


def as_user(user: Any) -> dict[str, Any]:
    return {"actor": user, "scope": scope_for(user)}


def create(world: Any, kind: str = MeetingKind.GENERAL_ASSEMBLY, **kw: Any) -> Meeting:
    user = kw.pop("user", world.users.branch_secretary)
    kw.setdefault("org", world.sa_b1)
    kw.setdefault("title", "第四季度支部党员大会")
    kw.setdefault("starts_at", START)
    kw.setdefault("now", EARLIER)
    return services.meeting_create(**as_user(user), kind=kind, **kw)


def invitees(meeting: Meeting) -> dict[str, tuple[str, bool]]:
    return {a.person.name: (a.role, a.may_vote) for a in meeting.attendances.select_related("person")}


def row(meeting: Meeting, person: Any) -> Attendance:
    return Attendance.objects.get(meeting=meeting, person=person)


def committee(world: Any) -> None:
    """SA-B1 gets a committee: the secretary (already) and an organisation officer."""
    make_post(world.sa_b1, world.people.school_secretary, "organization_officer")


# Invitees per kind ------------------------------------------------------------------------------------


def test_assembly_invites_the_branch_members_and_only_full_members_vote(world):
    make_person("周预备", world.sa_b1, status=Status.PROBATIONARY)
    meeting = create(world)
    assert meeting.state == MeetingState.PLANNED and meeting.notice_published_at is None
    assert invitees(meeting) == {
        "王建国": (AttendanceRole.MEMBER, True),
        "李红梅": (AttendanceRole.MEMBER, True),
        "张三丰": (AttendanceRole.MEMBER, True),
        "周预备": (AttendanceRole.PROBATIONARY, False),
    }
    entry = AuditEntry.objects.get(object_type="life.meeting", object_id=str(meeting.pk))
    assert entry.action == "create" and "邀请 4 人" in entry.note and "有表决权 3 人" in entry.note


def test_committee_meeting_invites_the_committee_who_vote(world):
    committee(world)
    meeting = create(world, MeetingKind.COMMITTEE_MEETING, title="12月支委会")
    assert invitees(meeting) == {
        "王建国": (AttendanceRole.COMMITTEE, True),
        "李红梅": (AttendanceRole.COMMITTEE, True),
    }


def test_committee_meeting_refused_where_there_is_only_a_secretary(world):
    refused(
        create,
        world=world,
        kind=MeetingKind.COMMITTEE_MEETING,
        title="支委会",
        words="第一党支部 没有在任的支部委员会",
    )


def test_group_meeting_invites_the_group_members_and_needs_a_group(world):
    meeting = create(world, MeetingKind.GROUP_MEETING, org=world.sa_b1_g1, title="第一党小组会")
    assert invitees(meeting) == {"张三丰": (AttendanceRole.MEMBER, False)}
    refused(create, world=world, kind=MeetingKind.GROUP_MEETING, words="党小组会应由党小组召开")
    refused(create, world=world, org=world.sa_b1_g1, words="支部党员大会应由党支部、党总支或党委召开")
    # A group without members has nobody to invite.
    refused(
        create,
        world=world,
        kind=MeetingKind.GROUP_MEETING,
        org=world.sa_b1_g2,
        words="没有可以参加党小组会的党员",
    )


def test_lecture_needs_lecturer_and_title_and_may_invite_activists(world):
    lecture = {"kind": MeetingKind.PARTY_LECTURE, "title": "党课"}
    refused(create, world=world, **lecture, lecture_title="学习党章", words="党课应填写主讲人")
    refused(create, world=world, **lecture, lecturer_name="王教授", words="党课应填写党课题目")
    refused(
        create,
        world=world,
        **lecture,
        lecturer=world.people.branch_secretary,
        lecturer_name="王教授",
        lecture_title="学习党章",
        words="二者选一",
    )
    without = create(world, **lecture, lecturer=world.people.branch_secretary, lecture_title="学习党章")
    assert "曾小单" not in invitees(without)
    assert not any(may_vote for _, may_vote in invitees(without).values())
    with_activists = create(
        world, **lecture, lecturer_name="王教授", lecture_title="学习党章", include_activists=True
    )
    assert invitees(with_activists)["曾小单"] == (AttendanceRole.ACTIVIST, False)
    refused(create, world=world, include_activists=True, words="可以邀请入党积极分子参加")


def test_a_planned_lecture_waits_for_its_lecturer_until_the_notice(world):
    """The yearly plan places lectures before anyone knows who will give them."""
    planned = create(world, kind=MeetingKind.PARTY_LECTURE, title="第四季度党课", from_plan=True)
    assert planned.lecturer is None and not planned.lecture_title
    user = as_user(world.users.branch_secretary)
    refused(services.notice_publish, **user, meeting=planned, now=EARLIER, words="党课主讲人和党课题目")
    assert any("党课主讲人" in m for m in services.hold_missing(planned, DURING))
    services.meeting_update(
        **user,
        meeting=planned,
        changes={"lecturer": world.people.branch_secretary, "lecture_title": "学习党章"},
        now=EARLIER,
    )
    services.notice_publish(**user, meeting=planned, now=EARLIER)


def test_theme_day_votes_only_when_it_also_counts_as_the_assembly(world):
    plain = create(world, MeetingKind.THEME_DAY, title="12月主题党日")
    assert {v for _, v in invitees(plain).values()} == {False}
    assembly = create(
        world,
        MeetingKind.THEME_DAY,
        title="12月主题党日暨党员大会",
        also_counts_as=[MeetingKind.GENERAL_ASSEMBLY],
    )
    assert {v for _, v in invitees(assembly).values()} == {True}
    assert services.quorum_status(assembly).rule == "general_assembly"
    assert not services.quorum_status(plain).applies
    refused(
        create,
        world=world,
        kind=MeetingKind.THEME_DAY,
        also_counts_as=[MeetingKind.COMMITTEE_MEETING],
        words="不能同时计为支部委员会会议",
    )


# Dates ------------------------------------------------------------------------------------------------


def _enter_year(year: int) -> None:
    """What an administrator does in 工作日历 once the State Council has published the year's schedule."""
    from zhibu.core.models import CalendarYear

    CalendarYear.objects.create(year=year, note=f"国务院办公厅关于{year}年部分节假日安排的通知")


def test_dates_before_2000_or_more_than_two_years_ahead_are_refused(world):
    refused(create, world=world, starts_at=dt.datetime(1999, 12, 31, 15, tzinfo=TZ), words="早于 2000 年")
    refused(create, world=world, starts_at=dt.datetime(2028, 12, 2, 9, tzinfo=TZ), words="超出两年以后")
    refused(create, world=world, ends_at=START - dt.timedelta(minutes=1), words="应晚于开始时间")
    _enter_year(2028)
    assert create(world, starts_at=dt.datetime(2028, 12, 1, 9, tzinfo=TZ)).pk


def test_a_meeting_in_a_year_the_calendar_does_not_know_is_refused_until_the_year_is_entered(world):
    day = dt.datetime(2028, 3, 4, 9, 0, tzinfo=TZ)  # a Saturday: whether it is worked is unknown
    forget_year(2028)
    assert WorkdayCalendar.load([2028]).year_is_estimated(2028)
    error = refused(create, world=world, starts_at=day, words="2028年的节假日安排尚未录入")
    assert "2028-03-04" in error.message and "工作日历" in error.message and error.field == "starts_at"
    # Moving a planned meeting into that year is refused the same way, and the meeting is left as it was.
    planned = create(world)
    refused(
        services.meeting_update,
        **as_user(world.users.branch_secretary),
        meeting=planned,
        changes={"starts_at": day},
        now=EARLIER,
        words="2028年的节假日安排尚未录入",
    )
    _enter_year(2028)
    meeting = create(world, starts_at=day)
    assert selectors.meeting_day(meeting) == "2028年3月4日 周六（休息日）"
    # Should the entry be withdrawn again, the page says that the day is only an estimate.
    from zhibu.core.models import CalendarYear

    CalendarYear.objects.filter(year=2028).delete()
    assert (
        selectors.meeting_day(meeting)
        == "2028年3月4日 周六（2028 年放假安排尚未公布，按周一至周五估算为休息日）"
    )
    assert selectors.meeting_day(create(world)) == "2026年12月10日 周四（工作日）"
    national_day = create(
        world, starts_at=dt.datetime(2026, 10, 2, 9, 0, tzinfo=TZ), now=EARLIER - dt.timedelta(days=90)
    )
    assert selectors.meeting_day(national_day) == "2026年10月2日 周五（国庆节）"


# Update, publish, cancel -------------------------------------------------------------------------------


def test_update_recomputes_invitees_only_when_org_or_kind_changes_and_keeps_what_was_recorded(world):
    meeting = create(world)
    services.leave_request(actor=world.users.school_secretary, meeting=meeting, reason="出差", now=EARLIER)
    ids_before = set(meeting.attendances.values_list("pk", flat=True))
    services.meeting_update(
        **as_user(world.users.branch_secretary), meeting=meeting, changes={"place": "党员活动室"}, now=EARLIER
    )
    assert set(meeting.attendances.values_list("pk", flat=True)) == ids_before

    services.meeting_update(
        **as_user(world.users.branch_secretary),
        meeting=meeting,
        changes={"org": world.sa_b1_g1, "kind": MeetingKind.GROUP_MEETING, "title": "第一党小组会"},
        now=EARLIER,
    )
    meeting.refresh_from_db()
    assert meeting.kind == MeetingKind.GROUP_MEETING and meeting.place == "党员活动室"
    # 张三丰 is in the group; 王建国 asked leave (a record): kept as a guest; 李红梅 (nothing recorded) goes.
    assert invitees(meeting) == {
        "张三丰": (AttendanceRole.MEMBER, False),
        "王建国": (AttendanceRole.GUEST, False),
    }
    assert row(meeting, world.people.school_secretary).leave_state == LeaveState.REQUESTED
    entry = AuditEntry.objects.filter(object_type="life.meeting", object_id=str(meeting.pk)).latest("id")
    assert entry.changes["kind"] == [MeetingKind.GENERAL_ASSEMBLY, MeetingKind.GROUP_MEETING]
    assert "不再邀请" in entry.note

    refused(
        services.meeting_update,
        **as_user(world.users.branch_secretary),
        meeting=meeting,
        changes={"check_in_token": "x"},
        words="不能修改这些项目",
    )


def test_publish_then_cancel_and_a_cancelled_meeting_changes_no_more(world):
    meeting = create(world)
    secretary = as_user(world.users.branch_secretary)
    services.notice_publish(**secretary, meeting=meeting, now=EARLIER)
    meeting.refresh_from_db()
    assert meeting.notice_published_at == EARLIER
    refused(services.notice_publish, **secretary, meeting=meeting, now=START, words="不能再发布通知")
    refused(services.meeting_cancel, **secretary, meeting=meeting, reason=" ", words="请填写取消原因")
    services.meeting_cancel(**secretary, meeting=meeting, reason="上级临时安排集中培训")
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.CANCELLED and meeting.cancelled_reason == "上级临时安排集中培训"
    refused(
        services.meeting_update, **secretary, meeting=meeting, changes={"place": "会议室"}, words="已取消"
    )
    refused(services.meeting_cancel, **secretary, meeting=meeting, reason="再次", words="已取消")
    refused(
        services.check_in,
        actor=world.users.member,
        meeting=meeting,
        token=meeting.check_in_token,
        now=START,
        words="已取消",
    )


# Leave ------------------------------------------------------------------------------------------------


def test_leave_requested_before_the_start_and_approved_excuses(world):
    meeting = create(world)
    member = world.users.member
    refused(
        services.leave_request, actor=member, meeting=meeting, reason="", now=EARLIER, words="请填写请假原因"
    )
    refused(
        services.leave_request, actor=member, meeting=meeting, reason="病假", now=START, words="不能再请假"
    )
    refused(
        services.leave_request,
        actor=world.users.activist,
        meeting=meeting,
        reason="病假",
        now=EARLIER,
        words="不在这次会议的参会名单中",
        error=NotFound,
    )
    attendance = services.leave_request(actor=member, meeting=meeting, reason="病假", now=EARLIER)
    assert attendance.leave_state == LeaveState.REQUESTED and attendance.state == AttendanceState.EXPECTED
    refused(
        services.leave_request, actor=member, meeting=meeting, reason="病假", now=EARLIER, words="等待批准"
    )
    # The member cannot approve their own leave.
    refused(
        services.leave_decide,
        **as_user(member),
        attendance=attendance,
        approve=True,
        words="无权",
        error=NotPermitted,
    )
    services.leave_decide(**as_user(world.users.branch_secretary), attendance=attendance, approve=True)
    attendance.refresh_from_db()
    assert attendance.leave_state == LeaveState.APPROVED and attendance.state == AttendanceState.EXCUSED
    assert attendance.leave_decided_by == world.users.branch_secretary
    refused(
        services.leave_decide,
        **as_user(world.users.branch_secretary),
        attendance=attendance,
        approve=True,
        words="没有待审批的请假申请",
    )


def test_leave_refused_keeps_the_member_expected(world):
    meeting = create(world)
    attendance = services.leave_request(actor=world.users.member, meeting=meeting, reason="私事", now=EARLIER)
    services.leave_decide(**as_user(world.users.branch_secretary), attendance=attendance, approve=False)
    attendance.refresh_from_db()
    assert attendance.leave_state == LeaveState.REFUSED and attendance.state == AttendanceState.EXPECTED


# Check-in ---------------------------------------------------------------------------------------------


def checkin(
    world: Any, meeting: Meeting, now: dt.datetime, user: Any = None, token: str | None = None
) -> Any:
    return services.check_in(
        actor=user or world.users.member,
        meeting=meeting,
        token=meeting.check_in_token if token is None else token,
        now=now,
    )


def test_check_in_opens_exactly_the_set_minutes_before_the_start(world):
    meeting = create(world, ends_at=END)
    opens = START - dt.timedelta(minutes=60)
    refused(checkin, world=world, meeting=meeting, now=opens - TINY, words="签到尚未开始")
    result = checkin(world, meeting, opens)
    assert not result.already and "签到成功" in result.message
    attendance = row(meeting, world.people.member)
    assert attendance.state == AttendanceState.PRESENT and attendance.checked_in_at == opens
    assert attendance.check_in_method == "qr"


def test_check_in_window_follows_the_setting(world, settings):
    settings.ZHIBU_CHECK_IN_OPENS_MINUTES = 15
    meeting = create(world)
    refused(checkin, world=world, meeting=meeting, now=START - dt.timedelta(minutes=16), words="提前 15 分钟")
    assert not checkin(world, meeting, START - dt.timedelta(minutes=15)).already


def test_check_in_closes_at_the_end(world):
    meeting = create(world, ends_at=END)
    refused(checkin, world=world, meeting=meeting, now=END, words="签到已于 2026年12月10日 17:00 结束")
    assert not checkin(world, meeting, END - TINY).already


def test_check_in_without_an_end_closes_the_set_hours_after_the_start(world):
    meeting = create(world)
    closes = START + dt.timedelta(hours=4)
    refused(checkin, world=world, meeting=meeting, now=closes, words="签到已于 2026年12月10日 19:00 结束")
    assert not checkin(world, meeting, closes - TINY).already


def test_check_in_refuses_someone_not_invited_and_a_wrong_token(world):
    meeting = create(world)
    refused(
        checkin,
        world=world,
        meeting=meeting,
        now=START,
        user=world.users.activist,
        words="不在“第四季度支部党员大会”的参会名单中",
        error=NotPermitted,
    )
    refused(checkin, world=world, meeting=meeting, now=START, token="not-the-token", words="签到码无效")
    other = create(world, title="另一次会议")
    refused(checkin, world=world, meeting=meeting, now=START, token=other.check_in_token, words="签到码无效")


def test_checking_in_twice_says_when_and_writes_nothing(world):
    meeting = create(world)
    checkin(world, meeting, START - dt.timedelta(minutes=5))
    before = state()
    again = checkin(world, meeting, START + dt.timedelta(minutes=20))
    assert again.already and "您已于 2026年12月10日 14:55 签到" in again.message
    assert state() == before


# Attendance, minutes, held ----------------------------------------------------------------------------


def test_attendance_is_marked_from_the_start_on(world):
    meeting = create(world)
    secretary = as_user(world.users.branch_secretary)
    p = world.people
    refused(
        services.attendance_mark,
        **secretary,
        meeting=meeting,
        states={p.member.pk: AttendanceState.PRESENT},
        now=START - TINY,
        words="开始后才能登记出席情况",
    )
    refused(
        services.attendance_mark,
        **secretary,
        meeting=meeting,
        states={p.member.pk: AttendanceState.EXPECTED},
        now=START,
        words="张三丰 的出席情况应为出席、请假或缺席",
    )
    refused(
        services.attendance_mark,
        **secretary,
        meeting=meeting,
        states={p.member.pk: AttendanceState.PRESENT, p.activist.pk: AttendanceState.PRESENT},
        now=START,
        words="不在本次会议的参会名单中",
    )
    refused(
        services.attendance_mark,
        **as_user(world.users.member),
        meeting=meeting,
        states={p.member.pk: AttendanceState.PRESENT},
        now=START,
        words="无权",
        error=NotPermitted,
    )
    changed = services.attendance_mark(
        **secretary,
        meeting=meeting,
        states={p.member.pk: AttendanceState.PRESENT, p.school_secretary.pk: AttendanceState.ABSENT},
        now=START,
    )
    assert len(changed) == 2
    present = row(meeting, p.member)
    assert present.state == AttendanceState.PRESENT and present.check_in_method == "secretary"
    assert row(meeting, p.school_secretary).state == AttendanceState.ABSENT
    assert row(meeting, p.branch_secretary).state == AttendanceState.EXPECTED


def test_minutes_are_refused_before_the_start_and_later_changes_are_audited(world):
    meeting = create(world)
    secretary = as_user(world.users.branch_secretary)
    p = world.people
    minutes = {
        "topics": ["学习党的二十届四中全会精神"],
        "speakers": [
            {"person_id": p.member.pk, "summary": "结合教学谈体会"},
            {"name": "列席教师", "summary": "旁听"},
        ],
        "resolutions": ["下月开展志愿服务"],
        "chair": p.branch_secretary,
        "recorder": p.member,
    }
    refused(
        services.minutes_record,
        **secretary,
        meeting=meeting,
        **minutes,
        now=START - TINY,
        words="不能为没有召开的会议",
    )
    refused(
        services.minutes_record,
        **secretary,
        meeting=meeting,
        **{**minutes, "speakers": [{"person_id": p.outsider.pk, "summary": "?"}]},
        now=START,
        words="第 1 位发言人不存在或不在您的权限范围内",
    )
    services.minutes_record(**secretary, meeting=meeting, **minutes, now=DURING)
    meeting.refresh_from_db()
    assert meeting.minutes["speakers"][0] == {
        "person_id": p.member.pk,
        "name": "张三丰",
        "summary": "结合教学谈体会",
    }
    assert meeting.chair == p.branch_secretary and meeting.minutes_recorded_at == DURING

    services.minutes_record(
        **secretary, meeting=meeting, **{**minutes, "resolutions": ["下月开展志愿服务", "完善台账"]}, now=END
    )
    entry = AuditEntry.objects.filter(object_type="life.meeting", object_id=str(meeting.pk)).latest("id")
    assert entry.action == "update" and entry.note == "修改会议记录"
    before, after = entry.changes["minutes"]
    assert before["resolutions"] == ["下月开展志愿服务"] and after["resolutions"][-1] == "完善台账"
    meeting.refresh_from_db()
    assert meeting.minutes_recorded_at == DURING  # the first recording's time stays


def test_hold_names_what_is_missing_then_is_accepted(world):
    meeting = create(world)
    secretary = as_user(world.users.branch_secretary)
    p = world.people
    error = refused(services.meeting_hold, **secretary, meeting=meeting, now=DURING, words="还不能确认召开")
    assert "3 人的出席情况尚未登记（" in error.message and "张三丰" in error.message
    assert "会议记录尚未填写议题" in error.message
    services.attendance_mark(
        **secretary,
        meeting=meeting,
        states={
            p.member.pk: AttendanceState.PRESENT,
            p.branch_secretary.pk: AttendanceState.PRESENT,
            p.school_secretary.pk: AttendanceState.EXCUSED,
        },
        now=DURING,
    )
    error = refused(services.meeting_hold, **secretary, meeting=meeting, now=DURING, words="还不能确认召开")
    assert "出席情况" not in error.message and "会议记录尚未填写议题" in error.message
    services.minutes_record(
        **secretary, meeting=meeting, topics=["学习"], chair=p.branch_secretary, recorder=p.member, now=DURING
    )
    services.meeting_hold(**secretary, meeting=meeting, now=END)
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.HELD and meeting.held_at == END
    refused(services.meeting_hold, **secretary, meeting=meeting, now=END, words="已召开，不能确认召开")
    # Once held, the roll is final: the quorum of its votes was counted from it.
    refused(
        services.attendance_mark,
        **secretary,
        meeting=meeting,
        states={p.school_secretary.pk: AttendanceState.PRESENT},
        now=END,
        words="已确认召开，出席情况已随会议记录定稿",
    )


def test_a_meeting_with_a_vote_still_open_cannot_be_confirmed_held(world):
    from zhibu.life import voting

    meeting = create(world)
    secretary = as_user(world.users.branch_secretary)
    p = world.people
    everyone = {
        pk: AttendanceState.PRESENT for pk in (p.member.pk, p.branch_secretary.pk, p.school_secretary.pk)
    }
    services.attendance_mark(**secretary, meeting=meeting, states=everyone, now=DURING)
    services.minutes_record(
        **secretary, meeting=meeting, topics=["学习"], chair=p.branch_secretary, recorder=p.member, now=DURING
    )
    voting.vote_open(**secretary, meeting=meeting, title="评选优秀党员", secret=False, now=DURING)
    error = refused(services.meeting_hold, **secretary, meeting=meeting, now=END, words="还不能确认召开")
    assert "表决尚未结束（评选优秀党员），请先结束表决" in error.message


def test_minutes_saved_from_a_stale_form_are_refused_rather_than_losing_a_votes_result(world):
    meeting = create(world)
    secretary = as_user(world.users.branch_secretary)
    p = world.people
    record = {"topics": ["学习"], "chair": p.branch_secretary, "recorder": p.member, "now": DURING}
    services.minutes_record(**secretary, meeting=meeting, **record)
    seen = services.minutes_fingerprint(Meeting.objects.get(pk=meeting.pk))
    # Meanwhile closing a vote adds its result to the resolutions …
    stored = Meeting.objects.get(pk=meeting.pk)
    stored.minutes = {**stored.minutes, "resolutions": ["评选优秀党员：通过"]}
    stored.save(update_fields=["minutes"])
    # … so the form filled before it may not overwrite them.
    error = refused(
        services.minutes_record,
        **secretary,
        meeting=meeting,
        **record,
        resolutions=["另一项"],
        seen=seen,
        words="会议记录已有更新",
    )
    assert error.field == "resolutions"
    fresh = services.minutes_fingerprint(Meeting.objects.get(pk=meeting.pk))
    services.minutes_record(
        **secretary, meeting=meeting, **record, resolutions=["评选优秀党员：通过", "另一项"], seen=fresh
    )
    assert Meeting.objects.get(pk=meeting.pk).minutes["resolutions"] == ["评选优秀党员：通过", "另一项"]


def test_a_leadership_life_meeting_is_the_leadership_teams_not_a_branchs(world):
    refused(
        create,
        world=world,
        kind=MeetingKind.LEADERSHIP_LIFE_MEETING,
        words="民主生活会由领导班子（学校党委或党总支）召开",
    )
    make_post(world.sa, world.people.branch_secretary, "committee_member")
    school = create(
        world,
        kind=MeetingKind.LEADERSHIP_LIFE_MEETING,
        org=world.sa,
        title="学校党委领导班子民主生活会",
        user=world.users.school_secretary,
    )
    assert school.org == world.sa and len(invitees(school)) == 2


# Quorum -----------------------------------------------------------------------------------------------


def test_quorum_at_exactly_half_is_not_met_and_says_why(world):
    committee(world)
    meeting = create(world, MeetingKind.COMMITTEE_MEETING, title="支委会")
    p = world.people
    services.attendance_mark(
        **as_user(world.users.branch_secretary),
        meeting=meeting,
        states={p.branch_secretary.pk: AttendanceState.PRESENT},
        now=START,
    )
    status = services.quorum_status(meeting)
    assert (status.rule, status.entitled, status.present, status.met, status.least) == (
        "committee_meeting",
        2,
        1,
        False,
        2,
    )
    assert status.sentence == "委员应到 2 人，实到 1 人，恰好半数，未超过半数（至少需 2 人），不能开会表决"


def test_assembly_quorum_counts_only_voters_present(world):
    make_person("周九", world.sa_b1)  # a fourth full member
    make_person("周预备", world.sa_b1, status=Status.PROBATIONARY)
    meeting = create(world)
    p = world.people
    secretary = as_user(world.users.branch_secretary)
    services.attendance_mark(
        **secretary,
        meeting=meeting,
        states={p.member.pk: AttendanceState.PRESENT, p.branch_secretary.pk: AttendanceState.PRESENT},
        now=START,
    )
    # The probationary member's presence does not count towards the quorum.
    probationary = Attendance.objects.get(meeting=meeting, person__name="周预备")
    services.attendance_mark(
        **secretary, meeting=meeting, states={probationary.person_id: "present"}, now=START
    )
    half = services.quorum_status(meeting)
    assert (half.entitled, half.present, half.met) == (4, 2, False) and "恰好半数" in half.sentence
    services.attendance_mark(
        **secretary, meeting=meeting, states={p.school_secretary.pk: "present"}, now=START
    )
    met = services.quorum_status(meeting)
    assert met.met and met.sentence == "有表决权的党员应到 4 人，实到 3 人，超过半数，可以开会表决"


def test_a_lecture_has_no_quorum(world):
    meeting = create(
        world, MeetingKind.PARTY_LECTURE, title="党课", lecturer_name="王教授", lecture_title="党史"
    )
    status = services.quorum_status(meeting)
    assert not status.applies and status.sentence == "党课不需要达到法定到会人数"


# Attachments ------------------------------------------------------------------------------------------


def test_attachments_are_recognised_by_content_and_limited_in_size(world, settings):
    meeting = create(world)
    secretary = as_user(world.users.branch_secretary)
    refused(
        services.attachment_add,
        **secretary,
        meeting=meeting,
        file=SimpleUploadedFile("photo.png", b"GIF89a" + b"\x00" * 20),
        words="“photo.png”不是 JPEG、PNG 图片或 PDF 文件",
    )
    refused(
        services.attachment_add,
        **secretary,
        meeting=meeting,
        file=SimpleUploadedFile("notes.docx", b"PK\x03\x04" + b"\x00" * 20),
        words="不是 JPEG、PNG 图片或 PDF 文件",
    )
    settings.ZHIBU_MAX_UPLOAD_BYTES = 2 * 1024 * 1024
    refused(
        services.attachment_add,
        **secretary,
        meeting=meeting,
        file=SimpleUploadedFile("big.pdf", PDF + b"0" * (2 * 1024 * 1024)),
        words="超过 2 MB",
    )
    photo = services.attachment_add(
        **secretary, meeting=meeting, file=SimpleUploadedFile("../../签到表.pdf", PNG)
    )
    assert photo.title == "签到表.pdf" and photo.content_type == "image/png"
    stored = photo.file.name
    assert stored.startswith(f"meetings/{meeting.pk}/") and stored.endswith(".png") and "签到表" not in stored
    with photo.file.open("rb") as fh:
        assert fh.read() == PNG
    refused(services.attachment_withdraw, **secretary, attachment=photo, reason="", words="请填写撤回原因")
    services.attachment_withdraw(**secretary, attachment=photo, reason="传错了")
    photo.refresh_from_db()
    assert photo.withdrawn_at is not None and photo.withdrawn_reason == "传错了"
    refused(services.attachment_withdraw, **secretary, attachment=photo, reason="再撤", words="已撤回")


# Scoping ----------------------------------------------------------------------------------------------


def test_another_schools_manager_gets_not_found_and_a_member_not_permitted(world):
    meeting = create(world)
    outsider, member = world.users.outsider, world.users.member
    refused(create, world=world, user=outsider, words="不在您的权限范围内", error=NotFound)
    refused(create, world=world, user=member, words="无权管理第一党支部的会议", error=NotPermitted)
    for user, error in ((outsider, NotFound), (member, NotPermitted)):
        refused(services.meeting_cancel, **as_user(user), meeting=meeting, reason="x", words="", error=error)
        refused(services.meeting_hold, **as_user(user), meeting=meeting, now=END, words="", error=error)
        refused(
            services.attachment_add,
            **as_user(user),
            meeting=meeting,
            file=SimpleUploadedFile("a.pdf", PDF),
            words="",
            error=error,
        )
    # The school's secretary manages its branches' meetings.
    services.notice_publish(**as_user(world.users.school_secretary), meeting=meeting, now=EARLIER)


def test_selectors_show_managers_their_subtree_and_members_their_invitations(world):
    assembly = create(world)
    lecture = create(
        world,
        MeetingKind.PARTY_LECTURE,
        title="党课",
        lecturer_name="王教授",
        lecture_title="党史",
        include_activists=True,
    )
    committee(world)
    committee_meeting = create(world, MeetingKind.COMMITTEE_MEETING, title="支委会")

    def visible(user: Any) -> set[int]:
        return set(selectors.meetings_visible(scope_for(user)).values_list("pk", flat=True))

    everything = {assembly.pk, lecture.pk, committee_meeting.pk}
    assert visible(world.users.branch_secretary) == everything
    assert visible(world.users.wc_staff) == everything
    assert visible(world.users.member) == {assembly.pk, lecture.pk}  # not on the committee
    assert visible(world.users.activist) == {lecture.pk}
    assert visible(world.users.outsider) == set()
    with pytest.raises(NotFound):
        selectors.meeting_get_visible(scope_for(world.users.outsider), assembly.pk)
    with pytest.raises(NotFound):
        selectors.meeting_get_visible(scope_for(world.users.member), committee_meeting.pk)
    assert selectors.meeting_get_visible(scope_for(world.users.activist), lecture.pk) == lecture

    mine = list(selectors.my_meetings(world.people.member, START.date()))
    assert [a.meeting_id for a in mine] == [assembly.pk, lecture.pk]
    assert selectors.my_meetings(world.people.member, START.date() + dt.timedelta(days=1)).count() == 0


def test_the_lists_take_one_query_however_many_meetings(world, django_assert_num_queries):
    for n in range(3):
        create(world, title=f"党员大会 {n}")
    scope = scope_for(world.users.member)
    with django_assert_num_queries(1):
        assert [m.org.name for m in selectors.meetings_visible(scope)] == ["第一党支部"] * 3
    with django_assert_num_queries(1):
        assert [a.meeting.org.code for a in selectors.my_meetings(world.people.member, START.date())] == [
            "SA-B1"
        ] * 3


def test_inviting_activists_later_adds_them_and_withdrawing_the_invitation_drops_them(world):
    meeting = create(world, MeetingKind.THEME_DAY, title="12月主题党日")
    secretary = as_user(world.users.branch_secretary)
    services.meeting_update(**secretary, meeting=meeting, changes={"include_activists": True}, now=EARLIER)
    assert invitees(meeting)["曾小单"] == (AttendanceRole.ACTIVIST, False)
    entry = AuditEntry.objects.filter(object_type="life.meeting", object_id=str(meeting.pk)).latest("id")
    assert entry.note == "修改会议通知；新增参会人员：曾小单"
    services.meeting_update(**secretary, meeting=meeting, changes={"include_activists": False}, now=EARLIER)
    assert "曾小单" not in invitees(meeting) and len(invitees(meeting)) == 3
    # Saving the same notice again changes and audits nothing.
    before = state()
    services.meeting_update(**secretary, meeting=meeting, changes={"title": "12月主题党日"}, now=EARLIER)
    assert state() == before


def test_once_held_neither_a_late_check_in_nor_a_leave_decision_changes_the_roll(world):
    meeting = create(world)
    secretary = as_user(world.users.branch_secretary)
    p = world.people
    services.leave_request(actor=world.users.member, meeting=meeting, reason="出差", now=EARLIER)
    error = refused(services.meeting_hold, **secretary, meeting=meeting, now=END, words="还不能确认召开")
    assert "1 人的请假申请尚未审批（张三丰）" in error.message
    services.attendance_mark(
        **secretary,
        meeting=meeting,
        states={
            p.member.pk: AttendanceState.ABSENT,
            p.branch_secretary.pk: AttendanceState.PRESENT,
            p.school_secretary.pk: AttendanceState.PRESENT,
        },
        now=DURING,
    )
    services.leave_decide(**secretary, attendance=meeting.attendances.get(person=p.member), approve=False)
    services.minutes_record(
        **secretary, meeting=meeting, topics=["学习"], chair=p.branch_secretary, recorder=p.member, now=DURING
    )
    services.meeting_hold(**secretary, meeting=meeting, now=DURING)
    refused(
        services.check_in,
        actor=world.users.member,
        meeting=meeting,
        token=meeting.check_in_token,
        now=DURING,
        words="已确认召开，出席情况已随会议记录定稿",
    )
    assert meeting.attendances.get(person=p.member).state == AttendanceState.ABSENT


def test_a_meeting_with_a_vote_still_open_cannot_be_cancelled(world):
    from zhibu.life import voting

    meeting = create(world)
    secretary = as_user(world.users.branch_secretary)
    p = world.people
    everyone = {
        pk: AttendanceState.PRESENT for pk in (p.member.pk, p.branch_secretary.pk, p.school_secretary.pk)
    }
    services.attendance_mark(**secretary, meeting=meeting, states=everyone, now=DURING)
    voting.vote_open(**secretary, meeting=meeting, title="评选优秀党员", secret=True, now=DURING)
    refused(
        services.meeting_cancel,
        **secretary,
        meeting=meeting,
        reason="临时停电",
        words="还有表决尚未结束（评选优秀党员），请先结束表决再取消会议",
    )
