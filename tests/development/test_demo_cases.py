"""The demo district's development cases: every stage in the main school, dates that agree with the people's
and with the national pack's rules, mentors and sponsors who are full members, votes that pass."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from zhibu.accounts.models import User
from zhibu.compliance.packs import library
from zhibu.compliance.values import Duration, Fraction, Range, add_months
from zhibu.core.calendar import WorkdayCalendar
from zhibu.demo import REFERENCE_DATE, build_demo, plan_district
from zhibu.demo.build import BATCH
from zhibu.demo.plan import COMPLETED_PER_SCHOOL
from zhibu.development import timeline
from zhibu.development.models import (
    BranchVote,
    CaseRole,
    CaseRoleKind,
    CaseState,
    DevelopmentCase,
    DevelopmentPlan,
    DevelopmentStep,
    Stage,
)
from zhibu.development.steps import Development
from zhibu.orgs.models import Organization, OrgKind, Post
from zhibu.people.models import Person, Status

MAIN_SCHOOL = "S001"  # the school the school_secretary and branch_secretary logins manage


@pytest.fixture
def demo(db):  # type: ignore[no-untyped-def]
    return build_demo(schools=2, seed=7)


@pytest.fixture
def dev() -> Development:
    pack = library().national
    assert pack.development is not None
    return pack.development.resolve(pack.values())


def value(key: str) -> Any:
    return library().national.parameters[key].value


def cases_with_steps() -> list[tuple[DevelopmentCase, list[DevelopmentStep]]]:
    steps: dict[int, list[DevelopmentStep]] = defaultdict(list)
    for s in DevelopmentStep.objects.order_by("case_id", "done_on", "id"):
        steps[s.case_id].append(s)
    cases = DevelopmentCase.objects.select_related("person", "person__org")
    return [(c, steps[c.pk]) for c in cases]


def main_school() -> Organization:
    return Organization.objects.get(code=MAIN_SCHOOL)


def in_main(case: DevelopmentCase) -> bool:
    return case.person.org.path.startswith(main_school().path)


def test_every_stage_has_open_cases_in_the_main_school(demo):
    school = main_school()
    secretary = User.objects.get(username="school_secretary").person
    assert Post.objects.filter(person=secretary, org=school, role="secretary").exists()
    stages = set(
        DevelopmentCase.objects.filter(
            state=CaseState.OPEN, person__org__path__startswith=school.path
        ).values_list("stage", flat=True)
    )
    assert stages == set(Stage.values)


def test_every_person_on_the_way_in_has_one_open_case_and_a_few_members_a_completed_one(demo):
    on_the_way = Person.objects.filter(
        status__in=[Status.APPLICANT, Status.ACTIVIST, Status.CANDIDATE, Status.PROBATIONARY]
    )
    open_cases = DevelopmentCase.objects.filter(state=CaseState.OPEN)
    assert sorted(open_cases.values_list("person_id", flat=True)) == sorted(
        on_the_way.values_list("pk", flat=True)
    )
    completed = DevelopmentCase.objects.filter(state=CaseState.COMPLETED).select_related("person")
    assert completed.exists()
    for case in completed:
        assert case.person.status == Status.FULL_MEMBER
        assert case.closed_on is not None and case.closed_on <= REFERENCE_DATE
    # A few per school, not every member.
    members = Person.objects.filter(status=Status.FULL_MEMBER).count()
    schools = Organization.objects.filter(is_school=True).count()
    assert completed.count() <= schools * COMPLETED_PER_SCHOOL < members


def test_the_activist_login_has_an_open_case_with_mentors(demo):
    person = User.objects.get(username="activist").person
    assert person is not None
    case = DevelopmentCase.objects.get(person=person, state=CaseState.OPEN)
    assert case.stage == Stage.ACTIVIST
    mentors = list(CaseRole.objects.filter(case=case, role=CaseRoleKind.MENTOR).select_related("person"))
    span: Range = value("activist.mentors")
    assert span.min is not None and span.max is not None
    assert span.min <= len(mentors) <= span.max
    for role in mentors:
        assert role.person.org_id == person.org_id
        assert role.person.status == Status.FULL_MEMBER


def test_step_dates_are_ordered_and_agree_with_the_person(demo, dev):
    length: Duration = value("probation.length")
    for case, steps in cases_with_steps():
        p = case.person
        codes = [s.code for s in steps]
        first = {}
        for s in steps:
            first.setdefault(s.code, s.done_on)
        assert codes[0] == "application" and case.opened_on == p.applied_on == steps[0].done_on
        assert all(s.done_on <= REFERENCE_DATE for s in steps)
        assert all(s.code in dev.by_code for s in steps)
        for s in steps:
            step = dev.step(s.code)
            if not step.repeatable:
                assert codes.count(s.code) == 1, (p.name, s.code)
            for required in step.requires:
                assert required in first and first[required] <= s.done_on, (p.name, s.code, required)
        assert first.get("activist_designation") == p.activist_on
        assert first.get("candidate_designation") == p.candidate_on
        approved = "approval" in first
        assert p.status in (Status.PROBATIONARY, Status.FULL_MEMBER) if approved else p.joined_on is None
        if approved:
            assert first["reception_vote"] == p.joined_on
            assert case.probation_ends_on == length.shift(p.joined_on)
        else:
            assert case.probation_ends_on is None
        if case.state == CaseState.COMPLETED:
            assert p.confirmed_on == case.probation_ends_on
            assert case.closed_on == first["confirmation_approval"]
        else:
            assert p.confirmed_on is None
        assert case.stage == timeline.stage_of(dev, steps, Stage.APPLICANT)
        # The political review passed and was still valid at the committee's review and at the vote.
        if "political_review" in first:
            review = next(s for s in steps if s.code == "political_review")
            assert review.outcome == "passed" and review.details["summary"]
            valid_for: Duration = value("political_review.valid_for")
            for code in ("committee_review", "reception_vote"):
                assert code not in first or first[code] <= valid_for.shift(review.done_on)


def test_minimum_intervals_and_deadlines_are_kept_but_for_one_late_talk(demo, dev):
    calendar = WorkdayCalendar.around(REFERENCE_DATE)
    late: list[tuple[str, str]] = []
    for case, steps in cases_with_steps():
        line = timeline.build(
            dev,
            steps,
            probation_ends_on=case.probation_ends_on,
            add_workdays=lambda d, n: calendar.add_workdays(d, n).date,
        )
        for s in steps:
            window = line.row(s.code).window
            assert window.earliest is None or s.done_on >= window.earliest, (case.person.name, s.code)
            if window.latest is not None and s.done_on > window.latest:
                late.append((s.code, case.person.org.path[: len(main_school().path)]))
        # Repeated steps keep their rhythm: never more than one period between two of them.
        for code in ("activist_review", "thought_report", "probation_review"):
            months = timeline.frequency_months(dev.step(code).every)
            days = [s.done_on for s in steps if s.code == code]
            for before, after in itertools.pairwise(days):
                assert after <= add_months(before, months), (case.person.name, code)
    assert late == [("application_talk", main_school().path)]


def owed_reviews(start: dt.date, end: dt.date, months: int) -> list[dt.date]:
    """The due dates of the reviews owed between `start` and `end`: the j-th by start + j periods."""
    dues, j = [], 1
    while add_months(start, j * months) < end:
        dues.append(add_months(start, j * months))
        j += 1
    return dues


def test_reviews_are_on_time_but_for_one_overdue_activist_in_the_main_school(demo, dev):
    overdue = []
    for case, steps in cases_with_steps():
        first = {s.code: s.done_on for s in reversed(steps)}
        for code, start_code in (
            ("activist_review", "activist_designation"),
            ("probation_review", "reception_vote"),
        ):
            if start_code not in first or (code == "probation_review" and "approval" not in first):
                continue
            months = timeline.frequency_months(dev.step(code).every)
            end = first.get("candidate_designation") if code == "activist_review" else case.probation_ends_on
            end = min(end or REFERENCE_DATE, REFERENCE_DATE)
            done = [s.done_on for s in steps if s.code == code]
            dues = owed_reviews(first[start_code], end, months)
            assert all(day <= due for day, due in zip(done, dues, strict=False)), (case.person.name, code)
            if len(done) < len(dues):
                overdue.append((case, code))
    assert len(overdue) == 1
    case, code = overdue[0]
    assert code == "activist_review" and case.stage == Stage.ACTIVIST and in_main(case)


def test_an_overdue_approval_and_a_probation_ending_soon_in_the_main_school(demo):
    within: Duration = value("approval.within")
    warning: Duration = value("probation.end_warning")
    overdue_approvals, ending = [], []
    for case, steps in cases_with_steps():
        if case.state != CaseState.OPEN:
            continue
        codes = {s.code: s.done_on for s in steps}
        if "reception_vote" in codes and "approval" not in codes:
            if within.shift(codes["reception_vote"]) < REFERENCE_DATE:
                overdue_approvals.append(case)
        ends = case.probation_ends_on
        if ends is not None and REFERENCE_DATE <= ends <= warning.shift(REFERENCE_DATE):
            ending.append(case)
    for found in (overdue_approvals, ending):
        assert len(found) == 1 and in_main(found[0])
    assert overdue_approvals[0].person.status == Status.CANDIDATE
    assert overdue_approvals[0].stage == Stage.RECEPTION
    # The one ending soon has asked to be confirmed.
    assert DevelopmentStep.objects.filter(case=ending[0], code="confirmation_application").exists()


def test_mentors_and_sponsors_are_full_members_of_the_branch_named_by_their_step(demo):
    span: Range = value("activist.mentors")
    sponsors_needed: int = value("candidate.sponsors")
    roles: dict[int, list[CaseRole]] = defaultdict(list)
    for role in CaseRole.objects.select_related("person", "case__person"):
        roles[role.step_id].append(role)
    steps = DevelopmentStep.objects.filter(code__in=["mentor_assignment", "sponsor_assignment"])
    assert steps.exists()
    for step in steps.select_related("case__person"):
        named = roles[step.pk]
        key = "mentors" if step.code == "mentor_assignment" else "sponsors"
        assert step.details[key] == [{"id": r.person_id, "name": r.person.name} for r in named]
        if step.code == "mentor_assignment":
            assert span.min is not None and span.max is not None
            assert span.min <= len(named) <= span.max
            assert {r.role for r in named} == {CaseRoleKind.MENTOR}
        else:
            assert len(named) == sponsors_needed
            assert {r.role for r in named} == {CaseRoleKind.SPONSOR}
        for r in named:
            assert r.assigned_on == step.done_on
            assert r.person_id != step.case.person_id
            assert r.person.org_id == step.case.person.org_id
            assert r.person.status == Status.FULL_MEMBER
            assert r.person.confirmed_on is not None and r.person.confirmed_on <= step.done_on


def test_every_vote_passes_by_the_packs_rule_counted_against_the_entitled(demo):
    votes = list(BranchVote.objects.select_related("step__case__person"))
    assert {v.purpose for v in votes} == {"reception", "confirmation"}
    people = {p.pk: p for p in Person.objects.all()}
    for vote in votes:
        subject = vote.step.case.person
        prefix = "reception_vote" if vote.purpose == "reception" else "confirmation_vote"
        quorum: Fraction = value(f"{prefix}.quorum")
        majority: Fraction = value(f"{prefix}.pass")
        assert vote.held_on == vote.step.done_on and vote.step.code == prefix
        assert vote.entitled_count == len(vote.entitled) > 0
        for voter in vote.entitled:
            p = people[voter["id"]]
            assert voter["name"] == p.name and p.pk != subject.pk
            assert p.org_id == subject.org_id and p.status == Status.FULL_MEMBER
            assert p.confirmed_on is not None and p.confirmed_on <= vote.held_on
        assert vote.present <= vote.entitled_count
        assert vote.written_opinions <= vote.entitled_count - vote.present
        assert vote.in_favour + vote.against + vote.abstain <= vote.present + vote.written_opinions
        assert quorum.reached(vote.present, vote.entitled_count)
        assert majority.reached(vote.in_favour, vote.entitled_count)
        assert vote.passed and vote.step.outcome in ("passed", "confirm")
        assert (
            f"应到会有表决权的正式党员 {vote.entitled_count} 人，实到会 {vote.present} 人" in vote.explanation
        )
        assert f"赞成 {vote.in_favour} 票" in vote.explanation and vote.explanation.endswith("通过")


def test_training_and_publicity_meet_the_pack_but_for_one_short_publicity(demo):
    min_days: int = value("candidate.training_min.days")
    min_hours: int = value("candidate.training_min.hours")
    for s in DevelopmentStep.objects.filter(code="training"):
        assert s.details["days"] >= min_days and s.details["hours"] >= min_hours
        started = dt.date.fromisoformat(s.details["started_on"])
        assert (s.done_on - started).days == s.details["days"] - 1
        assert s.details["provider"]
    need: Duration = value("publicity.workdays")
    calendar = WorkdayCalendar.around(REFERENCE_DATE)
    short = []
    publicities = list(DevelopmentStep.objects.filter(code="publicity").select_related("case__person__org"))
    assert publicities
    for s in publicities:
        starts = dt.date.fromisoformat(s.details["starts_on"])
        ends = dt.date.fromisoformat(s.details["ends_on"])
        assert ends == s.done_on and not s.details["objections"]
        counted = calendar.workdays_between(starts - dt.timedelta(days=1), ends)
        assert counted.days == s.details["workdays"] and not counted.estimated
        assert calendar.is_workday(starts).value and calendar.is_workday(ends).value
        if counted.days < need.n:
            short.append(s)
    assert len(short) == 1 and in_main(short[0].case) and short[0].details["workdays"] == need.n - 1


def test_the_main_school_and_each_of_its_branches_have_a_plan_for_the_year(demo):
    school = main_school()
    branches = list(Organization.objects.filter(kind=OrgKind.BRANCH, parent=school))
    plans = {p.org_id: p for p in DevelopmentPlan.objects.filter(year=REFERENCE_DATE.year)}
    assert set(plans) == {b.pk for b in branches} | {school.pk}
    working = [plans[b.pk] for b in branches if b.name != "退休党支部"]
    assert sum(p.receive_target for p in working) == plans[school.pk].receive_target > 0
    assert sum(p.confirm_target for p in working) == plans[school.pk].confirm_target > 0
    for plan in working:
        assert plan.backbone_teachers_total is not None
        backbone = Person.objects.filter(org_id=plan.org_id, backbone_teacher=True).count()
        assert plan.backbone_teachers_total > backbone
        assert plan.backbone_among_members_target is not None
        assert plan.members_among_backbone_target is not None
        # The plan counts the branch's candidates among those to receive this year.
        candidates = Person.objects.filter(org_id=plan.org_id, status=Status.CANDIDATE).count()
        assert plan.receive_target >= candidates


def test_backbone_teachers_are_a_realistic_share(demo):
    teachers = Person.objects.filter(employment="in_service").exclude(status=Status.TRANSFERRED_OUT)
    share = teachers.filter(backbone_teacher=True).count() / teachers.count()
    assert 0.1 <= share <= 0.4


def test_cases_are_planned_deterministically():
    first = plan_district(schools=2, seed=7)
    again = plan_district(schools=2, seed=7)
    assert [s.cases for s in first.schools] == [s.cases for s in again.schools]
    assert first.schools[0].targets == again.schools[0].targets


@pytest.mark.django_db
def test_cases_are_written_in_bulk_not_one_statement_per_case():
    with CaptureQueriesContext(connection) as ctx:
        build_demo(schools=3, seed=7)
    models = (DevelopmentCase, DevelopmentStep, CaseRole, BranchVote, DevelopmentPlan)
    for model in models:
        table = model._meta.db_table
        # (PostgreSQL's ANALYZE after the load names every table once.)
        statements = [
            q["sql"] for q in ctx.captured_queries if table in q["sql"] and not q["sql"].startswith("ANALYZE")
        ]
        assert all(sql.startswith("INSERT") for sql in statements), table
        # As many INSERTs as the database's limit on parameters per statement makes batches, no more.
        rows = model.objects.count()
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        batch = min(BATCH, connection.ops.bulk_batch_size(fields, [None] * rows))
        assert len(statements) == math.ceil(rows / batch), table
    assert DevelopmentCase.objects.count() > 3 * len(models)
