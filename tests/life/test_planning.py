"""The year's meeting plan: proposed from the effective policy on working days, applied without duplicates."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import make_person, make_post
from zhibu.compliance.models import PolicyAssignment, PolicyOverride
from zhibu.compliance.packs import effective_policy
from zhibu.core.calendar import WorkdayCalendar
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.models import AuditEntry
from zhibu.life.models import Attendance, Meeting, MeetingKind, MeetingState
from zhibu.life.planning import ProposedMeeting, plan_apply, propose_year

D = dt.date
NOW = timezone.make_aware(dt.datetime(2025, 12, 1, 9, 0))


def propose(org, year=2026):  # type: ignore[no-untyped-def]
    return propose_year(org, year, effective_policy(org), WorkdayCalendar.load([year]))


def of_kind(proposals, kind):  # type: ignore[no-untyped-def]
    return [p for p in proposals if p.kind == kind]


def in_a_semester(day: dt.date) -> bool:
    # The national pack's default school year: autumn 09-01 to 01-31, spring 03-01 to 07-15.
    return day.month not in (2, 8) and not (day.month == 7 and day.day > 15)


def test_a_quarterly_assembly_is_planned_once_a_quarter_on_working_days_in_term(world):
    calendar = WorkdayCalendar.load([2026])
    assemblies = of_kind(propose(world.sa_b1), MeetingKind.GENERAL_ASSEMBLY)
    assert [(p.date.month - 1) // 3 + 1 for p in assemblies] == [1, 2, 3, 4]
    assert all(calendar.day(p.date).is_workday for p in assemblies)
    assert all(in_a_semester(p.date) for p in assemblies)
    assert [p.title for p in assemblies] == [
        "2026年第一季度支部党员大会",
        "2026年第二季度支部党员大会",
        "2026年第三季度支部党员大会",
        "2026年第四季度支部党员大会",
    ]
    assert all(p.org == world.sa_b1 for p in assemblies)
    assert "每季度 1 次（全国基准）" in assemblies[0].reason


def test_an_overlay_holding_the_assembly_every_two_months_gives_six(world):
    PolicyAssignment.objects.create(org=world.sa, pack_name="example.assembly_bimonthly")
    assemblies = of_kind(propose(world.sa_b1), MeetingKind.GENERAL_ASSEMBLY)
    assert len(assemblies) == 6
    assert [(p.date.month - 1) // 2 for p in assemblies] == [0, 1, 2, 3, 4, 5]
    assert assemblies[0].title == "2026年1—2月支部党员大会"
    assert "example.assembly_bimonthly" in assemblies[0].reason


def test_a_stored_override_of_the_period_is_followed(world):
    PolicyOverride.objects.create(
        org=world.sa, key="general_assembly.period", value={"count": 1, "per": "month"}
    )
    assemblies = of_kind(propose(world.sa_b1), MeetingKind.GENERAL_ASSEMBLY)
    assert [p.date.month for p in assemblies] == list(range(1, 13))
    assert "本校设置（第一中学党委）" in assemblies[0].reason


def test_the_theme_day_on_the_15th_moves_off_sundays_and_holidays(world):
    PolicyAssignment.objects.create(org=world.sa_b1, pack_name="example.theme_day_15th")
    days = {p.date.month: p for p in of_kind(propose(world.sa_b1), MeetingKind.THEME_DAY)}
    assert sorted(days) == list(range(1, 13))
    assert days[4].date == D(2026, 4, 15)  # a Wednesday: kept
    assert days[3].date == D(2026, 3, 16)  # the 15th is a Sunday
    # The 15th of February 2026 is a Sunday inside the Spring Festival holiday (15–23 February).
    assert days[2].date == D(2026, 2, 24)
    assert "原定2月15日为春节，安排在2月24日" in days[2].reason
    assert days[2].title == "2026年2月主题党日"


def test_without_a_fixed_day_the_theme_day_is_the_first_working_day_of_the_month(world):
    days = {p.date.month: p.date for p in of_kind(propose(world.sa_b1), MeetingKind.THEME_DAY)}
    assert days[10] == D(2026, 10, 8)  # 1–7 October is the National Day holiday
    assert days[4] == D(2026, 4, 1)


def test_groups_with_members_get_a_group_meeting_every_month(world):
    make_person("周九", world.sa_b1, group=world.sa_b1_g2)
    proposals = of_kind(propose(world.sa_b1), MeetingKind.GROUP_MEETING)
    for group in (world.sa_b1_g1, world.sa_b1_g2):
        mine = [p for p in proposals if p.org == group]
        assert [p.date.month for p in mine] == list(range(1, 13))
        assert mine[0].title == f"2026年1月{group.name}会议"


def test_a_group_without_members_gets_no_meetings(world):
    proposals = of_kind(propose(world.sa_b1), MeetingKind.GROUP_MEETING)
    assert {p.org for p in proposals} == {world.sa_b1_g1}


def test_committee_meetings_only_for_a_branch_that_has_a_committee(world):
    assert of_kind(propose(world.sa_b1), MeetingKind.COMMITTEE_MEETING) == []  # only a secretary
    make_post(world.sa_b1, world.people.member, "organization_officer")
    meetings = of_kind(propose(world.sa_b1), MeetingKind.COMMITTEE_MEETING)
    assert [p.date.month for p in meetings] == list(range(1, 13))
    assert meetings[0].title == "2026年1月支部委员会会议"


def test_no_two_meetings_of_one_kind_in_the_same_week(world):
    PolicyOverride.objects.create(
        org=world.sa, key="general_assembly.period", value={"count": 4, "per": "month"}
    )
    assemblies = of_kind(propose(world.sa_b1), MeetingKind.GENERAL_ASSEMBLY)
    weeks = [p.date.isocalendar()[:2] for p in assemblies]
    assert len(weeks) == len(set(weeks))


def test_the_life_meeting_is_planned_once_in_the_usual_quarter(world):
    life = of_kind(propose(world.sa_b1), MeetingKind.LIFE_MEETING)
    assert len(life) == 1 and life[0].date.month in (10, 11, 12)
    assert life[0].title == "2026年度组织生活会"
    PolicyOverride.objects.create(org=world.sa, key="life_meeting.usual_quarter", value=1)
    life = of_kind(propose(world.sa_b1), MeetingKind.LIFE_MEETING)
    assert len(life) == 1 and life[0].date.month in (1, 3)  # February is the winter holiday


def test_a_semester_frequency_follows_the_school_year(world):
    PolicyOverride.objects.create(
        org=world.sa, key="party_lecture.period", value={"count": 2, "per": "semester"}
    )
    lectures = of_kind(propose(world.sa_b1), MeetingKind.PARTY_LECTURE)
    spring = [p for p in lectures if D(2026, 3, 1) <= p.date <= D(2026, 7, 15)]
    assert len(spring) == 2
    assert spring[0].title == "2025—2026学年第二学期党课（第一次）"
    assert all(in_a_semester(p.date) and p.date.year == 2026 for p in lectures)


def test_a_year_whose_holidays_are_unknown_is_refused_and_nothing_is_written(world, scope_of):
    with pytest.raises(ServiceError, match=r"2099年的节假日安排尚未录入.*请管理员在“工作日历”中录入"):
        propose(world.sa_b1, 2099)
    item = propose(world.sa_b1)[0]
    audits = AuditEntry.objects.count()
    with pytest.raises(ServiceError, match="2099年的节假日安排尚未录入"):
        plan_apply(
            actor=world.users.branch_secretary,
            scope=scope_of(world.users.branch_secretary),
            org=world.sa_b1,
            year=2099,
            items=[dataclasses.replace(item, date=D(2099, 3, 2))],
            now=NOW,
        )
    assert Meeting.objects.count() == 0 and AuditEntry.objects.count() == audits


def _with_lecturers(world, proposals: list[ProposedMeeting]) -> list[ProposedMeeting]:  # type: ignore[no-untyped-def]
    # A party lecture needs its lecturer and title: the secretary fills them in on the plan page.
    return [
        dataclasses.replace(p, lecturer=world.people.branch_secretary, lecture_title="学习党章")
        if p.kind == MeetingKind.PARTY_LECTURE
        else p
        for p in proposals
    ]


def test_applying_the_plan_creates_planned_meetings_with_invitees_and_twice_creates_nothing(world, scope_of):
    user = world.users.branch_secretary
    proposals = _with_lecturers(world, propose(world.sa_b1))
    result = plan_apply(
        actor=user, scope=scope_of(user), org=world.sa_b1, year=2026, items=proposals, now=NOW
    )
    assert result.refused == [] and result.skipped == []
    assert len(result.created) == len(proposals) == Meeting.objects.count()
    first = Meeting.objects.get(title="2026年第一季度支部党员大会")
    assert (
        first.from_plan and first.state == MeetingState.PLANNED and first.kind == MeetingKind.GENERAL_ASSEMBLY
    )
    local = timezone.localtime(first.starts_at)
    assert local.date() == of_kind(proposals, MeetingKind.GENERAL_ASSEMBLY)[0].date
    assert (local.hour, local.minute) == (15, 0)
    invited = set(Attendance.objects.filter(meeting=first).values_list("person__name", flat=True))
    assert invited == {"王建国", "李红梅", "张三丰"}  # the branch's members, not the activist

    again = plan_apply(
        actor=user, scope=scope_of(user), org=world.sa_b1, year=2026, items=propose(world.sa_b1), now=NOW
    )
    assert again.created == [] and len(again.skipped) == len(proposals)
    assert Meeting.objects.count() == len(proposals)
    assert f"跳过 {len(proposals)} 次" in again.message


def test_a_period_that_already_has_its_meeting_is_skipped_but_a_cancelled_one_does_not_count(world, scope_of):
    user = world.users.branch_secretary
    tz = timezone.get_current_timezone()
    for state in (MeetingState.HELD, MeetingState.CANCELLED):
        Meeting.objects.create(
            org=world.sa_b1,
            kind=MeetingKind.GENERAL_ASSEMBLY if state == MeetingState.HELD else MeetingKind.THEME_DAY,
            title="已有会议",
            state=state,
            starts_at=dt.datetime(2026, 1, 20, 9, 0, tzinfo=tz),
        )
    items = [p for p in propose(world.sa_b1) if p.date.month == 1 and p.org == world.sa_b1]
    result = plan_apply(actor=user, scope=scope_of(user), org=world.sa_b1, year=2026, items=items, now=NOW)
    assert [p.kind for p in result.skipped] == [MeetingKind.GENERAL_ASSEMBLY]
    assert MeetingKind.THEME_DAY in {m.kind for m in result.created}


def test_only_a_manager_of_the_branch_may_apply_its_plan(world, scope_of):
    items = propose(world.sa_b1)[:1]
    with pytest.raises(NotPermitted):
        plan_apply(
            actor=world.users.member,
            scope=scope_of(world.users.member),
            org=world.sa_b1,
            year=2026,
            items=items,
            now=NOW,
        )
    with pytest.raises(NotFound):
        plan_apply(
            actor=world.users.outsider,
            scope=scope_of(world.users.outsider),
            org=world.sa_b1,
            year=2026,
            items=items,
            now=NOW,
        )
    other_school = propose(world.sb_b1)[:1]
    with pytest.raises(NotPermitted, match="不在 第一党支部 之下"):
        plan_apply(
            actor=world.users.branch_secretary,
            scope=scope_of(world.users.branch_secretary),
            org=world.sa_b1,
            year=2026,
            items=other_school,
            now=NOW,
        )
    assert Meeting.objects.count() == 0


def test_proposing_costs_the_same_queries_however_many_groups(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import make_org
    from zhibu.orgs.models import OrgKind

    policy = effective_policy(world.sa_b1)

    def count() -> int:
        calendar = WorkdayCalendar.load([2025, 2026, 2027])
        with CaptureQueriesContext(connection) as ctx:
            propose_year(world.sa_b1, 2026, policy, calendar)
        return len(ctx.captured_queries)

    before = count()
    for i in range(3):
        group = make_org(f"SA-B1-G{i + 3}", f"第{i + 3}党小组", OrgKind.GROUP, world.sa_b1)
        make_person(f"组员{i}", world.sa_b1, group=group)
    assert count() == before


def test_a_meeting_that_cannot_be_arranged_is_listed_with_its_reason_and_the_rest_stand(world, scope_of):
    user = world.users.branch_secretary
    assembly = of_kind(propose(world.sa_b1), MeetingKind.GENERAL_ASSEMBLY)[0]
    empty_group = dataclasses.replace(
        assembly, kind=MeetingKind.GROUP_MEETING, org=world.sa_b1_g2, title="2026年1月第二党小组会议"
    )
    result = plan_apply(
        actor=user, scope=scope_of(user), org=world.sa_b1, year=2026, items=[assembly, empty_group], now=NOW
    )
    assert [m.title for m in result.created] == [assembly.title]
    assert [(item.org, "第二党小组" in why) for item, why in result.refused] == [(world.sa_b1_g2, True)]
    assert "未能安排：2026年1月第二党小组会议" in result.message
    assert not Meeting.objects.filter(org=world.sa_b1_g2).exists()


# Past dates ------------------------------------------------------------------------------------------


def test_meetings_before_today_are_flagged_past_and_the_others_are_not(world):
    today = D(2026, 6, 15)
    items = propose_year(
        world.sa_b1, 2026, effective_policy(world.sa_b1), WorkdayCalendar.load([2026]), today=today
    )
    assert any(p.date < today for p in items) and any(p.date >= today for p in items)
    assert all(p.past == (p.date < today) for p in items)
    # On the first day of the year nothing of it is past.
    first_day = propose_year(
        world.sa_b1, 2026, effective_policy(world.sa_b1), WorkdayCalendar.load([2026]), today=D(2026, 1, 1)
    )
    assert not any(p.past for p in first_day)


def test_a_past_meeting_kept_is_arranged_as_a_record_planned_without_a_notice(world, scope_of):
    from zhibu.life import services

    user = world.users.branch_secretary
    scope = scope_of(user)
    now = timezone.make_aware(dt.datetime(2026, 6, 15, 9, 0))
    items = propose_year(
        world.sa_b1, 2026, effective_policy(world.sa_b1), WorkdayCalendar.load([2026]), today=now.date()
    )
    gone = of_kind(items, MeetingKind.GENERAL_ASSEMBLY)[0]  # the first quarter's: already past
    coming = next(p for p in of_kind(items, MeetingKind.THEME_DAY) if not p.past)
    assert gone.past and not coming.past
    result = plan_apply(actor=user, scope=scope, org=world.sa_b1, year=2026, items=[gone, coming], now=now)
    assert len(result.created) == 2 and result.refused == []
    record = Meeting.objects.get(title=gone.title)
    assert result.past == [record]
    assert record.state == MeetingState.PLANNED and record.notice_published_at is None and record.from_plan
    assert "其中 1 次日期已过，作为补记安排，不发布通知" in result.message
    # The existing services decide what follows: no notice for a meeting that has begun …
    with pytest.raises(ServiceError, match="开始，不能再发布通知"):
        services.notice_publish(actor=user, scope=scope, meeting=record, now=now)
    # … but its attendance and minutes are recorded and it is confirmed as held.
    services.attendance_mark(
        actor=user,
        scope=scope,
        meeting=record,
        states={a.person_id: "present" for a in record.attendances.all()},
    )
    services.minutes_record(
        actor=user,
        scope=scope,
        meeting=record,
        topics=["学习党章"],
        chair=world.people.branch_secretary,
        recorder=world.people.member,
        now=now,
    )
    held = services.meeting_hold(actor=user, scope=scope, meeting=record, now=now)
    assert held.state == MeetingState.HELD
    assert Meeting.objects.get(title=coming.title).notice_published_at is None


# The secretary's lecture -----------------------------------------------------------------------------


def lectures(world, today, org=None):  # type: ignore[no-untyped-def]
    org = org or world.sa_b1
    proposals = propose_year(org, 2026, effective_policy(org), WorkdayCalendar.load([2026]), today=today)
    return of_kind(proposals, MeetingKind.PARTY_LECTURE)


def test_the_secretary_is_proposed_for_the_first_lecture_of_the_year(world):
    first, *others = lectures(world, D(2026, 1, 1))
    assert first.proposed_lecturer == world.people.branch_secretary
    assert first.lecturer is None  # a suggestion: what is arranged is what the secretary keeps
    assert "支部书记每年为党员讲党课次数：每年 1 次（全国基准）" in first.reason
    assert "建议由支部书记李红梅主讲" in first.reason
    assert others and all(p.proposed_lecturer is None and "书记" not in p.reason for p in others)


def test_late_in_the_year_the_secretary_is_proposed_for_an_upcoming_lecture(world):
    today = D(2026, 11, 23)
    proposed = [p for p in lectures(world, today) if p.proposed_lecturer is not None]
    assert len(proposed) == 1 and not proposed[0].past and proposed[0].date >= today


def test_the_secretary_in_post_on_the_lectures_day_is_proposed(world):
    from zhibu.orgs.models import Post

    Post.objects.filter(org=world.sa_b1, role="secretary").update(ended_on=D(2026, 4, 30))
    successor = make_person("赵新任", world.sa_b1)
    make_post(world.sa_b1, successor, "secretary", started_on=D(2026, 7, 1))
    by_date = {p.date: p for p in lectures(world, D(2026, 5, 10))}
    proposed = [p for p in by_date.values() if p.proposed_lecturer is not None]
    # 29 May falls in the vacancy; the first upcoming lecture with a secretary in post is September's.
    assert [(p.date.month, p.proposed_lecturer) for p in proposed] == [(9, successor)]
    assert "建议由支部书记赵新任主讲" in proposed[0].reason


def test_a_branch_without_a_secretary_gets_no_lecturer_and_is_told_the_post_is_vacant(world):
    from zhibu.orgs.models import Post

    Post.objects.filter(org=world.sa_b1, role="secretary").update(ended_on=D(2025, 12, 31))
    first, *others = lectures(world, D(2026, 1, 1))
    assert all(p.proposed_lecturer is None for p in [first, *others])
    assert "3月9日支部书记空缺，请另定主讲人" in first.reason
    assert "每年 1 次（全国基准）" in first.reason
    assert all("空缺" not in p.reason for p in others)


def test_an_overlay_asking_two_secretary_lectures_proposes_the_secretary_twice(world, tmp_path):
    import shutil

    from django.conf import settings as django_settings

    from zhibu.compliance.packs import load_packs, policies_dir

    folder = tmp_path / "policies"
    folder.mkdir()
    shutil.copy(policies_dir() / "national.yaml", folder / "national.yaml")
    (folder / "twice.yaml").write_text(
        "pack: test.secretary_twice\n"
        "title: 测试：书记每年讲两次党课\n"
        "example: true\n"
        "extends: national\n"
        "description: 测试用叠加包。\n"
        "parameters:\n"
        "  party_lecture.secretary_per_year:\n"
        "    value: {count: 2, per: year}\n"
        "    source: 测试学校党课制度\n",
        encoding="utf-8",
    )
    assert django_settings.configured
    lib = load_packs(folder)
    PolicyAssignment.objects.create(org=world.sa, pack_name="test.secretary_twice")
    policy = effective_policy(world.sa_b1, lib=lib)
    items = propose_year(world.sa_b1, 2026, policy, WorkdayCalendar.load([2026]), today=D(2026, 1, 1))
    proposed = [p for p in of_kind(items, MeetingKind.PARTY_LECTURE) if p.proposed_lecturer is not None]
    assert [p.date.month for p in proposed] == [3, 5]
    assert all(p.proposed_lecturer == world.people.branch_secretary for p in proposed)
    assert "每年 2 次（test.secretary_twice）" in proposed[0].reason


def test_proposing_costs_the_same_queries_however_many_secretaries_the_branch_had(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from zhibu.orgs.models import Post

    policy = effective_policy(world.sa_b1)
    calendar = WorkdayCalendar.load([2026])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            items = propose_year(world.sa_b1, 2026, policy, calendar, today=D(2026, 1, 1))
            assert [p.proposed_lecturer.name for p in items if p.proposed_lecturer] != []
        return len(ctx.captured_queries)

    before = count()
    Post.objects.filter(org=world.sa_b1, role="secretary").update(ended_on=D(2026, 3, 31))
    for i, month in enumerate((4, 6, 8)):
        make_post(
            world.sa_b1, make_person(f"书记{i}", world.sa_b1), "secretary", started_on=D(2026, month, 1)
        )
    assert count() == before
