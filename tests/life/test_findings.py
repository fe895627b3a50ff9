"""The compliance engine's findings about organisational life: how often each kind of meeting was held (with
overlays), quorums, minutes, the secretary's lecture, the theme day, the life meeting, talk coverage and the
organisational-life track of member.lapse. Meetings and attendance are built directly with the ORM (the
meeting services are tested on their own)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import make_org, make_person, make_post
from zhibu.compliance.models import Finding
from zhibu.compliance.rating import branch_rating
from zhibu.compliance.services import evaluation_run, policy_override_set
from zhibu.life.models import Attendance, Meeting, Talk
from zhibu.orgs.models import Organization, OrgKind
from zhibu.people.models import Person

D = dt.date
TODAY = D(2026, 6, 30)


def meeting(
    org: Organization,
    kind: str,
    day: dt.date,
    *,
    state: str = "held",
    also: Iterable[str] = (),
    lecturer: Person | None = None,
    minutes_on: dt.date | None = None,
    topics: Iterable[str] = ("传达学习上级精神",),
) -> Meeting:
    starts_at = timezone.make_aware(dt.datetime(day.year, day.month, day.day, 15, 0))
    recorded = (
        timezone.make_aware(dt.datetime(minutes_on.year, minutes_on.month, minutes_on.day, 18, 0))
        if minutes_on
        else None
    )
    return Meeting.objects.create(
        org=org,
        kind=kind,
        also_counts_as=list(also),
        title=f"{kind} {day:%m-%d}",
        state=state,
        starts_at=starts_at,
        lecturer=lecturer,
        minutes={"topics": list(topics)} if minutes_on else {},
        minutes_recorded_at=recorded,
        held_at=starts_at if state == "held" else None,
    )


def attend(
    m: Meeting, person: Person, state: str = "present", *, may_vote: bool = True, leave: str = ""
) -> None:
    Attendance.objects.create(
        meeting=m, person=person, role="member", may_vote=may_vote, state=state, leave_state=leave
    )


def evaluate(world, scope_of, *, year: int = TODAY.year, today: dt.date = TODAY):  # type: ignore[no-untyped-def]
    user = world.users.wc_staff
    return evaluation_run(actor=user, scope=scope_of(user), org=world.wc, year=year, today=today)


def org_finding(run, rule: str, org: Organization) -> Finding:  # type: ignore[no-untyped-def]
    return Finding.objects.get(run=run, rule_id=f"life.{rule}", subject_type="org", subject_id=org.pk)


def meeting_finding(run, rule: str, m: Meeting) -> Finding:  # type: ignore[no-untyped-def]
    return Finding.objects.get(run=run, rule_id=f"life.{rule}", subject_type="meeting", subject_id=m.pk)


def override(world, scope_of, key: str, value: object) -> None:  # type: ignore[no-untyped-def]
    user = world.users.wc_staff
    policy_override_set(actor=user, scope=scope_of(user), org=world.sa, key=key, value=value)


# How often ------------------------------------------------------------------------------------------------


def test_an_assembly_every_quarter_is_met_and_a_branch_that_held_none_falls_short(world, scope_of):
    meeting(world.sa_b1, "general_assembly", D(2026, 3, 31), minutes_on=D(2026, 4, 1))
    meeting(world.sa_b1, "general_assembly", D(2026, 5, 12), minutes_on=D(2026, 5, 12))
    run = evaluate(world, scope_of)
    ok = org_finding(run, "general_assembly_period", world.sa_b1)
    assert ok.state == "ok", ok.message
    assert "2026年已结束的 1 个周期均达到 1 次" in ok.message and ok.link == "/orgs/SA-B1/"
    short = org_finding(run, "general_assembly_period", world.sa_b2)
    assert short.state == "violated"
    assert "2026年第一季度 0 次，少于应有的 1 次" in short.message
    assert short.due == D(2026, 3, 31)
    assert (short.period_start, short.period_end) == (D(2026, 1, 1), D(2026, 12, 31))


def test_one_quarter_short_is_violated_even_when_the_current_one_is_met(world, scope_of):
    meeting(world.sa_b1, "general_assembly", D(2026, 4, 1))
    meeting(world.sa_b1, "general_assembly", D(2026, 2, 2), state="planned")  # never held
    meeting(world.sa_b1, "general_assembly", D(2026, 2, 3), state="cancelled")
    f = org_finding(evaluate(world, scope_of), "general_assembly_period", world.sa_b1)
    assert f.state == "violated"
    assert "2026年第一季度 0 次" in f.message and "2026年第二季度已 1 次" in f.message


def test_a_theme_day_that_also_holds_the_assembly_counts_for_both(world, scope_of):
    meeting(world.sa_b1, "theme_day", D(2026, 2, 15), also=["general_assembly"])
    meeting(world.sa_b1, "general_assembly", D(2026, 6, 2))
    run = evaluate(world, scope_of)
    assert org_finding(run, "general_assembly_period", world.sa_b1).state == "ok"


def test_committee_meetings_every_two_months_by_a_schools_overlay(world, scope_of):
    make_post(world.sa_b1, world.people.member, "organization_officer")  # the branch now has a committee
    for day in (D(2026, 2, 10), D(2026, 4, 10), D(2026, 6, 1)):
        meeting(world.sa_b1, "committee_meeting", day)
    monthly = org_finding(evaluate(world, scope_of), "committee_meeting_period", world.sa_b1)
    assert monthly.state == "violated" and "2026年1月 0 次" in monthly.message
    override(world, scope_of, "committee_meeting.period", {"count": 1, "per": "month", "every": 2})
    run = evaluate(world, scope_of)
    bimonthly = org_finding(run, "committee_meeting_period", world.sa_b1)
    assert bimonthly.state == "ok", bimonthly.message
    assert "每 2 个月 1 次" in bimonthly.message
    # A branch with no committee is not held to committee meetings.
    assert org_finding(run, "committee_meeting_period", world.sa_b2).state == "not_applicable"


def test_group_meetings_are_judged_for_each_group(world, scope_of):
    for month in range(1, 7):
        meeting(world.sa_b1_g1, "group_meeting", D(2026, month, 8))
    run = evaluate(world, scope_of)
    assert org_finding(run, "group_meeting_period", world.sa_b1_g1).state == "ok"
    missed = org_finding(run, "group_meeting_period", world.sa_b1_g2)
    assert missed.state == "violated" and missed.org == world.sa_b1_g2
    assert "2026年1月 0 次" in missed.message and "2026年5月 0 次" in missed.message
    assert not Finding.objects.filter(run=run, rule_id="life.group_meeting_period", org=world.sa_b1).exists()


def test_a_theme_day_every_month(world, scope_of):
    for month in (1, 2, 4, 5, 6):
        meeting(world.sa_b1, "theme_day", D(2026, month, 15))
    for month in range(1, 7):
        meeting(world.sa_b2, "theme_day", D(2026, month, 15))
    run = evaluate(world, scope_of)
    missed = org_finding(run, "theme_day_period", world.sa_b1)
    assert missed.state == "violated" and "2026年3月 0 次" in missed.message
    assert org_finding(run, "theme_day_period", world.sa_b2).state == "ok"


def test_the_secretary_gives_a_lecture_each_year(world, scope_of):
    secretary, member = world.people.branch_secretary, world.people.member
    meeting(world.sa_b1, "party_lecture", D(2025, 4, 10), lecturer=secretary)
    meeting(world.sb_b1, "party_lecture", D(2025, 4, 10), lecturer=world.people.other)  # not the secretary
    run = evaluate(world, scope_of, year=2025, today=D(2026, 1, 5))
    assert org_finding(run, "secretary_lecture", world.sa_b1).state == "ok"
    missed = org_finding(run, "secretary_lecture", world.sb_b1)
    assert missed.state == "violated" and "由书记讲党课，2025年 0 次，少于应有的 1 次" in missed.message
    assert org_finding(run, "secretary_lecture", world.sa_b2).state == "not_applicable"  # no secretary
    # A lecture by a member counts as a lecture, not as the secretary's.
    meeting(world.sa_b1, "party_lecture", D(2026, 3, 3), lecturer=member)
    current = evaluate(world, scope_of)
    assert org_finding(current, "party_lecture_period", world.sa_b1).state == "due_soon"  # Q2: none yet
    mine = org_finding(current, "secretary_lecture", world.sa_b1)
    assert mine.state == "ok" and "应于2026年12月31日前至少 1 次" in mine.message


def test_the_life_meeting_is_due_by_the_end_of_the_year_and_due_soon_in_its_usual_quarter(world, scope_of):
    meeting(world.sa_b1, "life_meeting", D(2025, 12, 20))
    past = evaluate(world, scope_of, year=2025, today=D(2026, 1, 5))
    assert org_finding(past, "life_meeting_yearly", world.sa_b1).state == "ok"
    missed = org_finding(past, "life_meeting_yearly", world.sa_b2)
    assert missed.state == "violated" and missed.severity == "serious"
    assert "2025年 0 次，少于应有的 1 次" in missed.message
    assert org_finding(evaluate(world, scope_of), "life_meeting_yearly", world.sa_b2).state == "ok"
    autumn = evaluate(world, scope_of, today=D(2026, 10, 1))
    assert org_finding(autumn, "life_meeting_yearly", world.sa_b2).state == "due_soon"


# Meetings: quorum and minutes -----------------------------------------------------------------------------


def test_an_assembly_with_exactly_half_present_has_no_quorum_and_says_why(world, scope_of):
    extra = make_person("周四海", world.sa_b1)
    voters = [world.people.school_secretary, world.people.branch_secretary, world.people.member, extra]
    half = meeting(world.sa_b1, "general_assembly", D(2026, 3, 10), minutes_on=D(2026, 3, 10))
    for i, p in enumerate(voters):
        attend(half, p, "present" if i < 2 else "absent")
    attend(half, world.people.activist, "present", may_vote=False)  # present, but no vote: not counted
    more = meeting(world.sa_b1, "general_assembly", D(2026, 5, 10), minutes_on=D(2026, 5, 10))
    for i, p in enumerate(voters):
        attend(more, p, "present" if i < 3 else "excused", leave="approved" if i >= 3 else "")
    run = evaluate(world, scope_of)
    f = meeting_finding(run, "general_assembly_quorum", half)
    assert f.state == "violated" and f.severity == "serious"
    assert "实到会 2 人，恰为应到会 4 人的半数，未超过半数" in f.message
    assert "按从严理解" in f.message
    assert f.link == f"/life/meetings/{half.pk}/" and f.org == world.sa_b1
    assert f.subject_label == "general_assembly 03-10（2026-03-10）"
    assert f.facts["assembly_entitled"] == 4 and f.facts["assembly_present"] == 2
    assert meeting_finding(run, "general_assembly_quorum", more).state == "ok"


def test_quorum_is_checked_only_for_held_meetings_of_its_kind(world, scope_of):
    committee = meeting(world.sa_b1, "committee_meeting", D(2026, 4, 2), minutes_on=D(2026, 4, 2))
    attend(committee, world.people.branch_secretary)
    attend(committee, world.people.member)
    attend(committee, world.people.school_secretary, "absent")
    planned = meeting(world.sa_b1, "general_assembly", D(2026, 4, 3), state="planned")
    theme = meeting(world.sa_b1, "theme_day", D(2026, 4, 15), minutes_on=D(2026, 4, 15))
    run = evaluate(world, scope_of)
    assert meeting_finding(run, "committee_meeting_quorum", committee).state == "ok"
    rules = {
        m.pk: set(
            Finding.objects.filter(run=run, subject_id=m.pk, subject_type="meeting").values_list(
                "rule_id", flat=True
            )
        )
        for m in (committee, planned, theme)
    }
    assert rules[committee.pk] == {"life.committee_meeting_quorum", "life.minutes_late"}
    assert rules[planned.pk] == {"life.minutes_late"}
    assert rules[theme.pk] == {"life.minutes_late"}


def test_minutes_missing_is_due_on_the_seventh_day_and_overdue_on_the_eighth(world, scope_of):
    seventh = meeting(world.sa_b1, "theme_day", D(2026, 6, 23))
    eighth = meeting(world.sa_b1, "theme_day", D(2026, 6, 22))
    still_planned = meeting(world.sa_b1, "general_assembly", D(2026, 6, 1), state="planned")
    no_topics = meeting(world.sa_b1, "committee_meeting", D(2026, 6, 2), minutes_on=D(2026, 6, 3), topics=())
    in_time = meeting(world.sa_b1, "party_lecture", D(2026, 6, 10), minutes_on=D(2026, 6, 17))
    late = meeting(world.sa_b1, "party_lecture", D(2026, 5, 10), minutes_on=D(2026, 5, 18))
    future = meeting(world.sa_b1, "party_lecture", D(2026, 7, 3), state="planned")
    run = evaluate(world, scope_of)
    soon = meeting_finding(run, "minutes_late", seventh)
    assert soon.state == "due_soon" and soon.due == D(2026, 6, 30) and "今天到期" in soon.message
    over = meeting_finding(run, "minutes_late", eighth)
    assert over.state == "overdue" and "已逾期 1 天" in over.message
    assert meeting_finding(run, "minutes_late", still_planned).state == "overdue"
    assert meeting_finding(run, "minutes_late", no_topics).state == "overdue"
    assert meeting_finding(run, "minutes_late", in_time).state == "ok"
    assert meeting_finding(run, "minutes_late", late).state == "violated"
    assert not Finding.objects.filter(run=run, subject_type="meeting", subject_id=future.pk).exists()


def test_minutes_within_follows_the_schools_value(world, scope_of):
    m = meeting(world.sa_b1, "theme_day", D(2026, 6, 26))
    assert meeting_finding(evaluate(world, scope_of), "minutes_late", m).state == "ok"
    override(world, scope_of, "minutes.within", {"days": 3})
    f = meeting_finding(evaluate(world, scope_of), "minutes_late", m)
    assert f.state == "overdue" and "3 天内" in f.message


# Talks ------------------------------------------------------------------------------------------------------


MAY = D(2025, 5, 6)


def talk(org: Organization, a: Person, b: Person, day: dt.date = MAY) -> Talk:
    return Talk.objects.create(
        org=org, held_on=day, person_a=a, person_b=b, relation="member_member", topic="谈心"
    )


def test_talks_cover_each_member_with_the_secretary_and_with_another_member(world, scope_of):
    people = world.people
    talk(world.sa_b1, people.branch_secretary, people.member)  # secretary ↔ 张三丰
    talk(world.sa_b1_g1, people.school_secretary, people.member)  # recorded in the group: member ↔ member
    talk(world.sa_b1, people.branch_secretary, people.member, D(2024, 12, 30))  # another year
    run = evaluate(world, scope_of, year=2025, today=D(2026, 1, 5))
    with_committee = org_finding(run, "talk_committee_member", world.sa_b1)
    assert with_committee.state == "violated"
    assert "有 1 人不足 1 次：王建国" in with_committee.message
    assert org_finding(run, "talk_member_member", world.sa_b1).state == "ok"
    # No committee (only a secretary): no committee pairs to cover.
    assert org_finding(run, "talk_committee", world.sa_b1).state == "not_applicable"


def test_talks_between_committee_members_cover_each_pair(world, scope_of):
    people = world.people
    make_post(world.sa_b1, people.member, "organization_officer")
    make_post(world.sa_b1, people.school_secretary, "publicity_officer")
    talk(world.sa_b1, people.member, people.branch_secretary)
    talk(world.sa_b1, people.school_secretary, people.branch_secretary)
    run = evaluate(world, scope_of, year=2025, today=D(2026, 1, 5))
    pairs = org_finding(run, "talk_committee", world.sa_b1)
    assert pairs.state == "violated" and "应覆盖 3 对" in pairs.message and "张三丰—王建国" in pairs.message
    talk(world.sa_b1, people.member, people.school_secretary, D(2025, 11, 30))
    run = evaluate(world, scope_of, year=2025, today=D(2026, 1, 5))
    assert org_finding(run, "talk_committee", world.sa_b1).state == "ok"
    assert org_finding(run, "talk_committee_member", world.sa_b1).state == "not_applicable"  # all serve


# member.lapse: organisational life ------------------------------------------------------------------------


def _lapse(run, person: Person) -> Finding:  # type: ignore[no-untyped-def]
    return Finding.objects.get(run=run, rule_id="member.lapse", subject_id=person.pk)


AUGUST = D(2026, 8, 5)


def test_approved_leave_counts_as_attending_unless_the_school_says_otherwise(world, scope_of):
    member = world.people.member
    for month in range(1, 8):
        m = meeting(world.sa_b1, "theme_day", D(2026, month, 15))
        attend(m, member, "present" if month == 1 else "excused", leave="" if month == 1 else "approved")
    counted = _lapse(evaluate(world, scope_of, today=AUGUST), member)
    assert counted.state == "unknown"  # no dues records yet: never a fake ok
    assert "每月均参加党的组织生活" in counted.message
    override(world, scope_of, "lapse.excused_counts", False)
    strict = _lapse(evaluate(world, scope_of, today=AUGUST), member)
    assert strict.state == "violated"
    assert "2026年2月至2026年7月连续 6 个月未参加党的组织生活" in strict.message
    assert "经批准请假的月份按本单位制度不计为有活动" in strict.message


def test_absent_months_count_against_a_member_and_months_without_a_meeting_do_not(world, scope_of):
    member, other = world.people.member, world.people.branch_secretary
    for month in range(1, 8):
        m = meeting(world.sa_b1, "theme_day", D(2026, month, 15))
        attend(m, member, "present" if month == 1 else "absent")
        if month == 1:
            attend(m, other)  # invited once in January, then to nothing
    run = evaluate(world, scope_of, today=AUGUST)
    absent = _lapse(run, member)
    assert absent.state == "violated" and "连续 6 个月未参加党的组织生活" in absent.message
    quiet = _lapse(run, other)
    assert quiet.state == "unknown" and "每月均参加党的组织生活" in quiet.message
    assert quiet.facts["activity"]["organisational_life"]["active"][:2] == ["2026-01", "2026-02"]
    # Nobody invited this year: no records of organisational life, not a clean record.
    nobody = _lapse(run, world.people.b2)
    assert nobody.facts["activity"]["organisational_life"] is None


# Stars and queries -----------------------------------------------------------------------------------------


def test_meeting_and_group_rules_without_findings_take_no_part_in_a_branchs_stars(world, scope_of):
    m = meeting(world.sa_b1, "general_assembly", D(2026, 6, 2))
    attend(m, world.people.member)
    run = evaluate(world, scope_of)
    b1 = branch_rating(run, world.sa_b1)
    rated = {x.rule_id for x in (*b1.lines, *b1.unrated)}
    assert {"life.minutes_late", "life.general_assembly_quorum", "life.group_meeting_period"} <= rated
    b2 = branch_rating(run, world.sa_b2)  # no meeting, no group
    rated = {x.rule_id: x for x in (*b2.lines, *b2.unrated)}
    assert "life.minutes_late" not in rated and "life.group_meeting_period" not in rated
    line = rated["life.general_assembly_period"]
    assert line.state == "violated" and line.weight == 8 and line.points == 0


def _busy_year(world, branch: Organization, n: int) -> None:  # type: ignore[no-untyped-def]
    people = [world.people.member, world.people.branch_secretary, world.people.school_secretary]
    for i in range(n):
        m = meeting(
            branch,
            "general_assembly" if i % 2 else "theme_day",
            D(2026, 1 + i % 6, 1 + i),
            also=["party_lecture"],
        )
        for j, p in enumerate(people):
            attend(m, p, "present" if (i + j) % 3 else "excused", leave="approved" if not (i + j) % 3 else "")
        talk(branch, people[i % 3], people[(i + 1) % 3], D(2026, 1 + i % 6, 2))


def test_the_evaluation_runs_the_same_number_of_queries_for_more_meetings(world, scope_of):
    _busy_year(world, world.sa_b1, 2)
    evaluate(world, scope_of)  # the user's permissions are read once and cached
    with CaptureQueriesContext(connection) as small:
        evaluate(world, scope_of)
    branch = make_org("SA-X", "新建党支部", OrgKind.BRANCH, world.sa)
    _busy_year(world, world.sa_b1, 12)
    _busy_year(world, branch, 6)
    with CaptureQueriesContext(connection) as big:
        run = evaluate(world, scope_of)
    meetings = Finding.objects.filter(run=run, subject_type="meeting")
    assert meetings.values("subject_id").distinct().count() == 20
    assert len(big) == len(small), [q["sql"][:120] for q in big.captured_queries]
