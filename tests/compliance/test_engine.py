"""The evaluation engine: facts gathered in bulk, findings stored per run, scoping and atomicity."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_org, make_person, make_post
from zhibu.compliance.models import EvaluationRun, Finding
from zhibu.compliance.services import evaluation_run
from zhibu.core.errors import NotFound, NotPermitted
from zhibu.orgs.models import CommitteeTerm, OrgKind
from zhibu.people.models import Status

TODAY = dt.date(2026, 6, 30)


def _run(world, scope_of, user=None, org=None, **kw):  # type: ignore[no-untyped-def]
    user = user or world.users.wc_staff
    return evaluation_run(actor=user, scope=scope_of(user), org=org or world.wc, year=2026, today=TODAY, **kw)


def _state(run: EvaluationRun, rule: str, code: str) -> str:
    return Finding.objects.get(run=run, rule_id=rule, subject_type="org", org__code=code).state


def test_secretary_in_post_is_ok_where_one_holds_it_and_violated_where_none(world, scope_of):
    run = _run(world, scope_of)
    assert _state(run, "org.secretary_in_post", "SA-B1") == "ok"
    assert _state(run, "org.secretary_in_post", "SA-B2") == "violated"
    assert _state(run, "org.secretary_in_post", "SB-B1") == "ok"


def test_a_branch_with_two_full_members_breaks_the_minimum(world, scope_of):
    run = _run(world, scope_of)
    assert _state(run, "org.branch_min_full_members", "SB-B1") == "violated"
    assert _state(run, "org.branch_min_full_members", "SA-B1") == "ok"  # 王、李、张 are full members
    finding = Finding.objects.get(run=run, rule_id="org.branch_min_full_members", org__code="SB-B1")
    assert finding.facts["full_members"] == 2
    assert finding.source and finding.remedy
    assert finding.link == "/orgs/SB-B1/"


def test_term_expiry_is_unknown_without_a_term_due_soon_near_its_end_and_overdue_after(world, scope_of):
    CommitteeTerm.objects.create(org=world.sa_b1, started_on=dt.date(2023, 9, 1), length_years=3)
    CommitteeTerm.objects.create(org=world.sb_b1, started_on=dt.date(2023, 3, 1), length_years=3)
    run = _run(world, scope_of)
    assert _state(run, "org.term_expiry", "SA-B2") == "unknown"
    soon = Finding.objects.get(run=run, rule_id="org.term_expiry", org__code="SA-B1")
    assert soon.state == "due_soon"
    assert soon.due == dt.date(2026, 9, 1)
    assert _state(run, "org.term_expiry", "SB-B1") == "overdue"


def test_rules_apply_only_to_their_org_kinds(world, scope_of):
    run = _run(world, scope_of)
    # A group has only its own meetings to hold; none of the branch's structure rules.
    group_rules = Finding.objects.filter(run=run, org__code="SA-B1-G1", subject_type="org")
    assert set(group_rules.values_list("rule_id", flat=True)) == {"life.group_meeting_period"}
    assert not Finding.objects.filter(run=run, rule_id="org.branch_min_full_members", org__code="SA").exists()


def test_members_lapse_is_unknown_until_records_exist(world, scope_of):
    run = _run(world, scope_of)
    lapse = Finding.objects.filter(run=run, rule_id="member.lapse")
    # Members only (the activist is not one), each under their branch, all unknown — never a fake ok.
    assert lapse.count() == 6
    assert set(lapse.values_list("state", flat=True)) == {"unknown"}
    mine = lapse.get(subject_id=world.people.member.pk)
    assert mine.subject_type == "person"
    assert mine.org_path == world.sa_b1.path
    assert (mine.period_start, mine.period_end) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert mine.facts["from"] == "2026-01" and mine.facts["to"] == "2026-05"


def test_the_run_records_counts_and_structural_periods(world, scope_of):
    run = _run(world, scope_of)
    assert run.as_of == TODAY and run.trigger == "manual" and run.triggered_by == world.users.wc_staff
    assert sum(run.counts.values()) == Finding.objects.filter(run=run).count()
    assert run.counts["violated"] >= 2
    assert run.rule_count >= 7
    f = Finding.objects.filter(run=run, rule_id="org.secretary_in_post").first()
    assert f is not None and f.period_start == f.period_end == TODAY


def test_a_school_run_covers_only_its_subtree(world, scope_of):
    run = _run(world, scope_of, user=world.users.school_secretary, org=world.sa)
    paths = set(Finding.objects.filter(run=run).values_list("org_path", flat=True))
    assert paths and all(p.startswith(world.sa.path) for p in paths)


def test_a_member_cannot_run_an_evaluation(world, scope_of):
    with pytest.raises(NotPermitted):
        _run(world, scope_of, user=world.users.member, org=world.sa_b1)
    assert not EvaluationRun.objects.exists()


def test_another_schools_org_is_not_found(world, scope_of):
    with pytest.raises(NotFound):
        _run(world, scope_of, user=world.users.school_secretary, org=world.sb)
    assert not EvaluationRun.objects.exists()


def test_nothing_is_written_when_the_evaluation_fails_midway(world, scope_of):
    with (
        mock.patch("zhibu.compliance.services._store_findings", side_effect=RuntimeError("disk")),
        pytest.raises(RuntimeError),
    ):
        _run(world, scope_of)
    assert not EvaluationRun.objects.exists()
    assert not Finding.objects.exists()


def _count_queries(world, scope_of) -> int:  # type: ignore[no-untyped-def]
    """Queries that read (and the run's own insert); the findings' inserts go in batches by size."""
    scope = scope_of(world.users.wc_staff)
    with CaptureQueriesContext(connection) as ctx:
        evaluation_run(actor=world.users.wc_staff, scope=scope, org=world.wc, year=2026, today=TODAY)
    return sum(1 for q in ctx.captured_queries if 'INSERT INTO "compliance_finding"' not in q["sql"])


def test_findings_round_trip_through_the_database(world, scope_of):
    """Stored in bulk (COPY on PostgreSQL), every field reads back as it was built."""
    run = _run(world, scope_of)
    f = Finding.objects.get(run=run, rule_id="member.lapse", subject_id=world.people.member.pk)
    assert f.facts["activity"] == {"dues": None, "organisational_life": None, "assigned_work": None}
    assert f.subject_label == "张三丰" and f.estimated is False and f.due is None
    assert f.message.startswith("张三丰：尚无") and f.severity == "serious"


def test_the_number_of_queries_does_not_grow_with_orgs_and_people(world, scope_of):
    small = _count_queries(world, scope_of)
    for i in range(12):
        branch = make_org(f"SA-X{i}", f"新支部{i}", OrgKind.BRANCH, world.sa)
        make_org(f"SA-X{i}-G", f"新小组{i}", OrgKind.GROUP, branch)
        CommitteeTerm.objects.create(org=branch, started_on=dt.date(2024, 1, 1), length_years=3)
        for j in range(5):
            p = make_person(
                f"党员{i}-{j}", branch, status=Status.PROBATIONARY if j == 4 else Status.FULL_MEMBER
            )
            if j == 0:
                make_post(branch, p, "secretary")
            if j == 1:
                make_post(branch, p, "organization_officer")
    large = _count_queries(world, scope_of)
    assert large == small
    assert small <= 16


def test_a_working_day_deadline_in_a_year_without_a_schedule_is_marked_estimated(db):
    from zhibu.compliance.services import _Adder
    from zhibu.core.calendar import WorkdayCalendar

    known = _Adder(WorkdayCalendar.load({2025}))
    assert known(dt.date(2025, 9, 26), 3) == dt.date(2025, 9, 30)  # Sunday 28th is a 调休 working day
    assert known.estimated is False
    unknown = _Adder(WorkdayCalendar.load({2199}))
    assert unknown(dt.date(2199, 3, 4), 5) == dt.date(2199, 3, 11)  # Monday + 5 weekdays
    assert unknown.estimated is True
