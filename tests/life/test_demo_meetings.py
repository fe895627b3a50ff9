"""The demo district's year of organisational life: meetings of every kind held as the pack asks, attendance
for every invitee, talks and a life meeting, the next month planned, and the gaps planted in the main school
found by an evaluation (and no others in most branches)."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from zhibu.accounts.models import User
from zhibu.compliance.models import EvaluationRun, Finding
from zhibu.compliance.packs import library
from zhibu.compliance.services import evaluation_run
from zhibu.core.scoping import system_scope
from zhibu.demo import REFERENCE_DATE, build_demo, plan_district
from zhibu.demo.build import BATCH
from zhibu.demo.plan import LIFE_GAPS, add_months
from zhibu.life import invitees
from zhibu.life.models import (
    Attendance,
    Criticism,
    LeaveState,
    Meeting,
    MeetingKind,
    MeetingState,
    Rectification,
    Talk,
)
from zhibu.life.selectors import my_meetings
from zhibu.orgs.models import Organization, OrgKind
from zhibu.people.models import MEMBER_STATUSES, Person, StatusChange

REF = REFERENCE_DATE
FREQUENCY_RULES = (
    "life.general_assembly_period",
    "life.committee_meeting_period",
    "life.group_meeting_period",
    "life.party_lecture_period",
    "life.theme_day_period",
    "life.life_meeting_yearly",
)


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """Two schools written once for the module (the build takes a few seconds), removed afterwards."""
    with django_db_blocker.unblock():
        build_demo(schools=2, seed=7)
        yield
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def main_school(demo: None, db: None) -> Organization:
    return Organization.objects.get(code="S001")


@pytest.fixture
def run(main_school: Organization) -> EvaluationRun:
    root = Organization.objects.get(parent__isnull=True)
    return evaluation_run(actor=None, scope=system_scope(), org=root, year=REF.year, today=REF)


def local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def status_on(history: list[tuple[dt.date, str]], day: dt.date) -> str:
    status = ""
    for effective_on, to_status in history:
        if effective_on <= day:
            status = to_status
    return status


# The year of meetings ------------------------------------------------------------------------------------


def test_the_main_school_held_meetings_of_every_kind_with_minutes_in_time(main_school):
    start = add_months(REF, -12)
    held = Meeting.objects.filter(org__path__startswith=main_school.path, state=MeetingState.HELD)
    days = [local_day(m.starts_at) for m in held]
    assert days and min(days) >= start and max(days) < REF
    kinds = set(held.values_list("kind", flat=True))
    assert {
        MeetingKind.GENERAL_ASSEMBLY,
        MeetingKind.COMMITTEE_MEETING,
        MeetingKind.GROUP_MEETING,
        MeetingKind.PARTY_LECTURE,
        MeetingKind.THEME_DAY,
        MeetingKind.LIFE_MEETING,
    } <= kinds
    within = library().national.values()["minutes.within"]
    for m in held:
        assert m.minutes["topics"] and m.minutes["resolutions"] and m.minutes["speakers"], m
        assert all(s["person_id"] and s["name"] and s["summary"] for s in m.minutes["speakers"])
        assert m.held_at is not None and m.notice_published_at is not None
        assert m.notice_published_at < m.starts_at
        recorded = local_day(m.minutes_recorded_at)
        assert local_day(m.starts_at) <= recorded <= within.shift(local_day(m.starts_at))
    lectures = held.filter(kind=MeetingKind.PARTY_LECTURE)
    assert all(m.lecture_title and (m.lecturer_id or m.lecturer_name) for m in lectures)
    # Every group of the main school meets, each meeting in its own group.
    groups = Organization.objects.filter(path__startswith=main_school.path, kind=OrgKind.GROUP)
    assert set(held.filter(kind=MeetingKind.GROUP_MEETING).values_list("org_id", flat=True)) == {
        g.pk for g in groups
    }


def test_every_invitee_has_an_attendance_mostly_present_some_excused_a_few_absent(main_school):
    history: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    for person_id, effective_on, to_status in StatusChange.objects.order_by("effective_on", "id").values_list(
        "person_id", "effective_on", "to_status"
    ):
        history[person_id].append((effective_on, to_status))
    people = {p.pk: p for p in Person.objects.filter(org__path__startswith=main_school.path)}
    meetings = Meeting.objects.filter(org__path__startswith=main_school.path).select_related("org")
    rows: dict[int, list[Attendance]] = defaultdict(list)
    for a in Attendance.objects.filter(meeting__in=meetings):
        rows[a.meeting_id].append(a)
    for m in meetings:
        day = local_day(m.starts_at)
        got = {a.person_id: (a.role, a.may_vote) for a in rows[m.pk]}
        if m.kind == MeetingKind.COMMITTEE_MEETING:
            # The current committee (the demo records no earlier term's posts).
            committee = invitees.compute(m.org, m.kind, include_activists=False, also_counts_as=[], on=REF)
            expected = {i.person_id: (i.role, i.may_vote) for i in committee}
        else:
            wanted = ("activist", "candidate", *MEMBER_STATUSES) if m.include_activists else MEMBER_STATUSES
            if m.kind == MeetingKind.GROUP_MEETING:
                pool = [p for p in people.values() if p.group_id == m.org_id]
            else:
                pool = [p for p in people.values() if p.org_id == m.org_id]
            expected = {}
            for p in pool:
                status = status_on(history[p.pk], day)
                if status in wanted:
                    role = {"full_member": "member", "probationary": "probationary"}.get(status, "activist")
                    vote = status == "full_member" and m.kind == MeetingKind.GENERAL_ASSEMBLY
                    expected[p.pk] = (role, vote)
        assert got == expected, m
        if m.state == MeetingState.PLANNED and day >= REF:
            # Invited as meeting_create would invite them now.
            now = invitees.compute(
                m.org, m.kind, include_activists=m.include_activists, also_counts_as=[], on=day
            )
            assert got == {i.person_id: (i.role, i.may_vote) for i in now}, m
    states = Counter(
        a.state for a in Attendance.objects.filter(meeting__in=meetings, meeting__state=MeetingState.HELD)
    )
    total = sum(states.values())
    assert 0.82 <= states["present"] / total <= 0.96
    assert states["excused"] > 0 and states["absent"] > 0 and states["expected"] == 0
    excused = Attendance.objects.filter(meeting__in=meetings, state="excused")
    assert all(a.leave_state == LeaveState.APPROVED and a.leave_reason for a in excused)
    present = Attendance.objects.filter(meeting__in=meetings, state="present")
    assert not present.filter(checked_in_at__isnull=True).exists()
    assert set(present.values_list("check_in_method", flat=True)) == {"qr", "secretary"}


def test_talks_cover_the_branches_and_the_life_meeting_has_criticism_and_two_rectifications(main_school):
    life = Meeting.objects.filter(
        org__path__startswith=main_school.path, kind=MeetingKind.LIFE_MEETING, state=MeetingState.HELD
    )
    assert life.exists()
    for m in life:
        kinds = set(Criticism.objects.filter(meeting=m).values_list("kind", flat=True))
        assert kinds == {"opinion", "self", "mutual"}
        items = Rectification.objects.filter(meeting=m)
        assert items.count() == 2
        assert all(r.due_on > local_day(m.starts_at) for r in items)
        assert all(r.done_on is None or r.done_on <= REF for r in items)
        assert Talk.objects.filter(before_life_meeting=m, held_on__lt=local_day(m.starts_at)).exists()
    talks = Talk.objects.filter(org__path__startswith=main_school.path, held_on__year=REF.year)
    assert set(talks.values_list("relation", flat=True)) >= {"committee_member", "member_member"}
    assert not talks.filter(held_on__gte=REF).exists()


def test_the_next_month_is_planned_and_the_member_login_has_an_upcoming_meeting(main_school):
    planned = Meeting.objects.filter(
        org__path__startswith=main_school.path, state=MeetingState.PLANNED, starts_at__date__gte=REF
    )
    assert planned.exists()
    assert not planned.filter(notice_published_at__isnull=True).exists()
    assert not Attendance.objects.filter(meeting__in=planned).exclude(state="expected").exists()
    assert not planned.filter(starts_at__date__gt=REF + dt.timedelta(days=31)).exists()
    member = User.objects.get(username="member").person
    upcoming = [a for a in my_meetings(member, REF) if a.meeting.state == MeetingState.PLANNED]
    assert upcoming
    assert upcoming[0].meeting.notice_published_at is not None


# The board -----------------------------------------------------------------------------------------------


def test_the_planted_gaps_are_found_by_an_evaluation(main_school, run):
    branches = list(
        Organization.objects.filter(parent=main_school, kind=OrgKind.BRANCH).order_by("sort_order")
    )
    gap = {name: branches[i % len(branches)] for name, i in LIFE_GAPS.items()}
    findings = Finding.objects.filter(run=run)

    def one(rule_id: str, org: Organization, **extra: Any) -> Finding:
        return findings.get(rule_id=rule_id, org=org, subject_type="org", **extra)

    missing = one("life.general_assembly_period", gap["assembly_missing"])
    assert missing.state == "violated"
    assert "第二季度 0 次" in missing.message

    short = findings.filter(rule_id="life.general_assembly_quorum", state="violated")
    assert [f.org for f in short] == [gap["assembly_quorum"]]
    assert "到会人数不足" in short[0].message

    late = findings.filter(rule_id="life.minutes_late").exclude(state="ok")
    assert [(f.org, f.state) for f in late] == [(gap["minutes_missing"], "overdue")]
    meeting = Meeting.objects.get(pk=late[0].subject_id)
    assert meeting.state == MeetingState.PLANNED and not meeting.minutes
    assert dt.timedelta(days=12) <= dt.datetime.combine(REF, dt.time()) - meeting.starts_at.replace(
        tzinfo=None
    )

    lapsed = findings.filter(rule_id="member.lapse", state="violated")
    assert [f.org for f in lapsed] == [gap["lapse"]]
    assert "连续 6 个月未参加党的组织生活" in lapsed[0].message

    # The secretary has not lectured this year (open until the usual warning quarter); the others have.
    lectures = findings.filter(rule_id="life.secretary_lecture", org__kind=OrgKind.BRANCH)
    silent = one("life.secretary_lecture", gap["secretary_lecture"])
    assert silent.facts["counts"] == {f"{REF.year}年": 0}
    assert all(f.facts["counts"] == {f"{REF.year}年": 1} for f in lectures.exclude(pk=silent.pk))

    coverage = one("life.talk_member_member", gap["talk_coverage"])
    assert coverage.facts["missing"]
    assert one("life.talk_committee_member", gap["talk_coverage"]).facts["missing"]
    for rule_id in ("life.talk_member_member", "life.talk_committee_member"):
        others = findings.filter(rule_id=rule_id, subject_type="org").exclude(org=gap["talk_coverage"])
        assert others.exists()
        assert all(not f.facts.get("missing") for f in others), rule_id


def test_most_branches_are_ok_for_the_frequency_rules(main_school, run):
    planted = {"assembly_missing"}
    findings = Finding.objects.filter(run=run, rule_id__in=FREQUENCY_RULES)
    states = Counter(findings.values_list("state", flat=True))
    assert states["ok"] >= 0.9 * sum(states.values())
    bad = findings.exclude(state__in=("ok", "not_applicable"))
    branches = list(
        Organization.objects.filter(parent=main_school, kind=OrgKind.BRANCH).order_by("sort_order")
    )
    assert [(f.rule_id, f.org) for f in bad] == [
        ("life.general_assembly_period", branches[LIFE_GAPS[g] % len(branches)]) for g in planted
    ]
    # Quorum and minutes: only the planted meetings fall short.
    meeting_rules = Finding.objects.filter(run=run, subject_type="meeting").exclude(state="ok")
    assert meeting_rules.count() == 2


# Determinism and bulk writing ------------------------------------------------------------------------------


def test_meetings_are_planned_deterministically_and_without_django():
    first = plan_district(schools=2, seed=7)
    again = plan_district(schools=2, seed=7)
    assert [s.meetings for s in first.schools] == [s.meetings for s in again.schools]
    assert [s.talks for s in first.schools] == [s.talks for s in again.schools]
    later = plan_district(schools=2, seed=7, reference_date=REF + dt.timedelta(days=30))
    assert later.schools[0].meetings != first.schools[0].meetings
    code = "import sys, zhibu.demo.plan; print(any(m.startswith('django') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.strip() == "False"


@pytest.mark.django_db
def test_meetings_are_written_in_bulk_not_one_statement_per_meeting():
    models = (Meeting, Attendance, Talk, Criticism, Rectification)
    before = {model: model.objects.count() for model in models}  # the module's district may be there
    with CaptureQueriesContext(connection) as ctx:
        build_demo(schools=3, seed=7)
    for model in models:
        table = model._meta.db_table
        statements = [
            q["sql"]
            for q in ctx.captured_queries
            if f'"{table}"' in q["sql"] and not q["sql"].startswith("ANALYZE")
        ]
        assert all(sql.startswith("INSERT") for sql in statements), table
        rows = model.objects.count() - before[model]
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        batch = min(BATCH, connection.ops.bulk_batch_size(fields, [None] * rows))
        assert len(statements) == math.ceil(rows / batch), table
    assert Attendance.objects.count() - before[Attendance] > 10 * (Meeting.objects.count() - before[Meeting])
