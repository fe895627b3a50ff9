"""The compliance engine's findings about development cases (发展党员流程): facts gathered for a subtree,
rules applied by the person's status, links to the case, stars, and a query count that does not grow with
the number of cases. Cases are built directly with the ORM (the services are tested on their own)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_org, make_person
from zhibu.compliance.models import Finding
from zhibu.compliance.rating import branch_rating
from zhibu.compliance.services import evaluation_run
from zhibu.core.calendar import WorkdayCalendar
from zhibu.development.models import (
    BranchVote,
    CaseRole,
    CaseState,
    DevelopmentCase,
    DevelopmentStep,
    Stage,
)
from zhibu.orgs.models import OrgKind
from zhibu.people.models import Person, Status

D = dt.date
TODAY = D(2026, 6, 30)


def open_case(person: Person, stage: str = Stage.APPLICANT, **kw: Any) -> DevelopmentCase:
    kw.setdefault("opened_on", D(2025, 1, 6))
    return DevelopmentCase.objects.create(person=person, stage=stage, **kw)


def step(
    case: DevelopmentCase, code: str, day: dt.date, outcome: str = "", **details: Any
) -> DevelopmentStep:
    return DevelopmentStep.objects.create(case=case, code=code, done_on=day, outcome=outcome, details=details)


def name(case: DevelopmentCase, role: str, people: list[Person], day: dt.date) -> DevelopmentStep:
    code = "mentor_assignment" if role == "mentor" else "sponsor_assignment"
    s = step(case, code, day, **{f"{role}s": [{"id": p.pk, "name": p.name} for p in people]})
    for p in people:
        CaseRole.objects.create(case=case, role=role, person=p, step=s, assigned_on=day)
    return s


def vote(case: DevelopmentCase, code: str, day: dt.date, outcome: str, **details: Any) -> DevelopmentStep:
    s = step(case, code, day, outcome, **details)
    passed = outcome in ("passed", "confirm", "extend")
    BranchVote.objects.create(
        step=s,
        purpose="reception" if code == "reception_vote" else "confirmation",
        held_on=day,
        entitled_count=9,
        present=8,
        in_favour=7 if passed else 3,
        passed=passed,
        explanation="应到会 9 人，实到会 8 人",
    )
    return s


def evaluate(world, scope_of, org=None, today: dt.date = TODAY):  # type: ignore[no-untyped-def]
    user = world.users.wc_staff
    return evaluation_run(actor=user, scope=scope_of(user), org=org or world.wc, year=today.year, today=today)


def finding(run, rule: str, case: DevelopmentCase) -> Finding:  # type: ignore[no-untyped-def]
    return Finding.objects.get(
        run=run, rule_id=f"development.{rule}", subject_type="case", subject_id=case.pk
    )


def case_rules(run, case: DevelopmentCase) -> set[str]:  # type: ignore[no-untyped-def]
    found = Finding.objects.filter(run=run, subject_type="case", subject_id=case.pk)
    return {rule.removeprefix("development.") for rule in found.values_list("rule_id", flat=True)}


def activist_case(world, designated: dt.date | None = None) -> DevelopmentCase:  # type: ignore[no-untyped-def]
    """The world's activist 曾小单: applied, talked to, designated, with the branch secretary as mentor."""
    designated = designated or D(2025, 10, 1)
    case = open_case(world.people.activist, Stage.ACTIVIST, opened_on=D(2025, 3, 3))
    step(case, "application", D(2025, 3, 3))
    step(case, "application_talk", D(2025, 3, 20), talker="李红梅")
    step(case, "activist_designation", designated, method="party")
    name(case, "mentor", [world.people.branch_secretary], designated)
    return case


def candidate(world, name_: str = "周发展", org=None) -> tuple[Person, DevelopmentCase]:  # type: ignore[no-untyped-def]
    person = make_person(name_, org or world.sa_b1, status=Status.CANDIDATE)
    case = open_case(person, Stage.CANDIDATE, opened_on=D(2024, 9, 2))
    step(case, "application", D(2024, 9, 2))
    step(case, "application_talk", D(2024, 9, 20))
    step(case, "activist_designation", D(2024, 10, 8))
    return person, case


# The subject and its link -----------------------------------------------------------------------------------


def test_a_late_talk_is_a_finding_about_the_case_in_the_persons_branch(world, scope_of):
    applicant = make_person("吴申请", world.sa_b1, status=Status.APPLICANT)
    case = open_case(applicant, opened_on=D(2026, 3, 2))
    step(case, "application", D(2026, 3, 2))
    step(case, "application_talk", D(2026, 4, 10), talker="李红梅")
    run = evaluate(world, scope_of)
    f = finding(run, "application_talk_late", case)
    assert f.state == "violated" and f.severity == "warning"
    assert "收到入党申请书（2026年3月2日）后应在 1 个月内派人谈话（2026年4月2日前）" in f.message
    assert "晚了 8 天" in f.message
    assert f.subject_label == "吴申请" and f.org == world.sa_b1 and f.org_path == world.sa_b1.path
    assert f.link == f"/development/cases/{case.pk}/"
    assert f.period_start == TODAY == f.period_end  # judged as of the day of the run
    assert f.facts["application"] == "2026-03-02" and f.facts["due"] == "2026-04-02"


def test_an_applicant_is_judged_only_by_the_rules_of_applicants(world, scope_of):
    applicant = make_person("吴申请", world.sa_b1, status=Status.APPLICANT)
    case = open_case(applicant, opened_on=D(2026, 6, 20))
    step(case, "application", D(2026, 6, 20))
    run = evaluate(world, scope_of)
    assert case_rules(run, case) == {"application_talk_late"}
    assert finding(run, "application_talk_late", case).state == "ok"  # due 20 July, not near yet


def test_a_talk_not_held_is_overdue(world, scope_of):
    applicant = make_person("吴申请", world.sa_b1, status=Status.APPLICANT)
    case = open_case(applicant, opened_on=D(2026, 5, 6))  # no application step: the case's date counts
    f = finding(evaluate(world, scope_of), "application_talk_late", case)
    assert f.state == "overdue" and f.due == D(2026, 6, 6) and "已逾期 24 天" in f.message


def test_cases_outside_the_evaluated_subtree_are_left_out(world, scope_of):
    applicant = make_person("吴申请", world.sb_b1, status=Status.APPLICANT)
    case = open_case(applicant, opened_on=D(2026, 3, 2))
    assert case_rules(evaluate(world, scope_of, world.sa), case) == set()
    assert case_rules(evaluate(world, scope_of, world.sb), case) == {"application_talk_late"}


# Activists: mentors and reviews -----------------------------------------------------------------------------


def test_an_activist_with_a_full_member_as_mentor_is_fine(world, scope_of):
    case = activist_case(world, designated=D(2026, 2, 2))
    run = evaluate(world, scope_of)
    assert case_rules(run, case) == {"application_talk_late", "mentors", "activist_review"}
    mentors = finding(run, "mentors", case)
    assert mentors.state == "ok" and "曾小单的培养联系人：李红梅（1 名）" in mentors.message
    assert finding(run, "activist_review", case).state == "ok"  # first review due 2 August


def test_a_suspended_mentor_is_ineligible_and_an_ended_one_does_not_count(world, scope_of):
    case = activist_case(world)
    suspended = make_person("停职甲", world.sa_b1, status=Status.SUSPENDED)
    name(case, "mentor", [suspended], D(2026, 1, 5))
    CaseRole.objects.filter(case=case, person=world.people.branch_secretary).update(ended_on=D(2026, 1, 5))
    f = finding(evaluate(world, scope_of), "mentors", case)
    assert f.state == "violated" and f.severity == "serious"
    assert "培养联系人：停职甲（1 名）" in f.message and "停职甲现为停止党籍，不是正式党员" in f.message
    assert "李红梅" not in f.message


def test_an_activist_whose_mentors_all_left_has_none(world, scope_of):
    case = activist_case(world)
    CaseRole.objects.filter(case=case).update(ended_on=D(2026, 3, 1))
    f = finding(evaluate(world, scope_of), "mentors", case)
    assert f.state == "violated" and "曾小单尚无培养联系人" in f.message


def test_an_activist_review_not_held_in_six_months_is_overdue(world, scope_of):
    case = activist_case(world, designated=D(2025, 10, 1))
    f = finding(evaluate(world, scope_of), "activist_review", case)
    assert f.state == "overdue" and f.due == D(2026, 4, 1)
    assert "第 1 次应于2026年4月1日前考察，已逾期 90 天" in f.message
    step(case, "activist_review", D(2026, 3, 30), conclusion="表现良好")
    assert finding(evaluate(world, scope_of), "activist_review", case).state == "ok"


# Candidates: cultivation, sponsors, publicity, deadlines ----------------------------------------------------


def test_an_imported_candidate_with_eight_months_of_cultivation_is_violated(world, scope_of):
    _person, case = candidate(world)
    DevelopmentStep.objects.filter(case=case, code="activist_designation").update(done_on=D(2025, 9, 1))
    step(case, "candidate_designation", D(2026, 5, 1))
    f = finding(evaluate(world, scope_of), "min_cultivation", case)
    assert f.state == "violated" and f.severity == "serious"
    assert (
        "培养教育考察期自2025年9月1日确定为入党积极分子至2026年5月1日确定为发展对象，共 8 个月，未满 1 年"
        in (f.message)
    )


def test_sponsors_are_judged_from_their_assignment_on(world, scope_of):
    _person, case = candidate(world)
    step(case, "candidate_designation", D(2025, 11, 3))
    run = evaluate(world, scope_of)
    assert finding(run, "sponsors", case).state == "not_applicable"
    assert finding(run, "min_cultivation", case).state == "ok"
    probationary = make_person("预备乙", world.sa_b1, status=Status.PROBATIONARY)
    name(case, "sponsor", [world.people.member, probationary], D(2025, 11, 10))
    f = finding(evaluate(world, scope_of), "sponsors", case)
    assert f.state == "violated"
    assert "周发展的入党介绍人：张三丰、预备乙（2 名）" in f.message
    assert "预备乙现为预备党员，不是正式党员，不能担任入党介绍人" in f.message


def test_two_full_members_as_sponsors_are_fine(world, scope_of):
    _person, case = candidate(world)
    step(case, "candidate_designation", D(2025, 11, 3))
    name(case, "sponsor", [world.people.member, world.people.branch_secretary], D(2025, 11, 10))
    assert finding(evaluate(world, scope_of), "sponsors", case).state == "ok"


def test_a_publicity_over_national_day_is_recounted_with_the_calendar(world, scope_of):
    _person, case = candidate(world)
    step(case, "candidate_designation", D(2025, 11, 3))
    step(case, "committee_review", D(2026, 9, 25))
    details = {"starts_on": "2026-09-28", "ends_on": "2026-10-02", "workdays": 5, "objections": False}
    publicity = step(case, "publicity", D(2026, 10, 2), **details)
    today = D(2026, 10, 20)
    f = finding(evaluate(world, scope_of, today=today), "publicity_length", case)
    assert f.state == "violated" and not f.estimated
    assert "公示期自2026年9月28日至2026年10月2日，共 3 个工作日，少于 5 个工作日" in f.message
    assert "记录为 5 个工作日，按日历核算为 3 个工作日" in f.message
    end = WorkdayCalendar.load({2026}).span_last_day(D(2026, 9, 28), 5).date
    publicity.details = {**details, "ends_on": end.isoformat()}
    publicity.done_on = end
    publicity.save()
    assert finding(evaluate(world, scope_of, today=today), "publicity_length", case).state == "ok"


def test_a_pre_review_not_held_a_month_after_the_committee_is_overdue(world, scope_of):
    _person, case = candidate(world)
    step(case, "candidate_designation", D(2025, 11, 3))
    step(case, "committee_review", D(2026, 5, 8))
    run = evaluate(world, scope_of)
    f = finding(run, "pre_review_late", case)
    assert f.state == "overdue" and f.due == D(2026, 6, 8)
    assert finding(run, "reception_meeting_late", case).state == "not_applicable"


def test_an_approval_overdue_after_a_passed_reception_vote_only(world, scope_of):
    _person, case = candidate(world)
    step(case, "pre_review", D(2026, 1, 12), "passed")
    failed = vote(case, "reception_vote", D(2026, 1, 30), "not_passed")
    run = evaluate(world, scope_of)
    assert finding(run, "approval_late", case).state == "not_applicable"  # a failed vote starts nothing
    assert finding(run, "reception_meeting_late", case).state == "ok"  # the meeting was held in time
    assert failed.pk  # the failed vote stays on record; a later one passes
    vote(case, "reception_vote", D(2026, 2, 27), "passed")
    f = finding(evaluate(world, scope_of), "approval_late", case)
    assert f.state == "overdue" and f.due == D(2026, 5, 27) and f.severity == "serious"
    assert "特殊情况最长 6 个月（2026年8月27日前）" in f.message


def test_an_approval_later_than_three_months_needs_a_reason(world, scope_of):
    person, case = candidate(world)
    vote(case, "reception_vote", D(2025, 12, 1), "passed")
    approval = step(case, "approval", D(2026, 3, 10), "approved")
    Person.objects.filter(pk=person.pk).update(status=Status.PROBATIONARY)
    run = evaluate(world, scope_of)
    f = finding(run, "approval_late", case)
    assert f.state == "violated" and "未说明逾期理由" in f.message
    approval.details = {"late_reason": "党委会议因疫情推迟"}
    approval.save()
    f = finding(evaluate(world, scope_of), "approval_late", case)
    assert f.state == "ok" and "已说明逾期理由：党委会议因疫情推迟" in f.message


# Probationers: the end of the probation, confirmation, extensions -------------------------------------------


def probationer(world, ends_on: dt.date, start: dt.date) -> DevelopmentCase:  # type: ignore[no-untyped-def]
    person, case = candidate(world, "郑预备")
    Person.objects.filter(pk=person.pk).update(status=Status.PROBATIONARY)
    vote(case, "reception_vote", start, "passed")
    step(case, "approval", start + dt.timedelta(days=30), "approved")
    case.stage, case.probation_ends_on = Stage.PROBATION, ends_on
    case.save()
    return case


def test_a_probation_ending_within_thirty_days_is_due_soon(world, scope_of):
    case = probationer(world, ends_on=D(2026, 7, 20), start=D(2025, 7, 20))
    run = evaluate(world, scope_of)
    f = finding(run, "probation_ending", case)
    assert f.state == "due_soon" and f.due == D(2026, 7, 20) and "还剩 20 天" in f.message
    assert finding(run, "confirmation_meeting_late", case).state == "ok"


def test_a_confirmation_meeting_not_held_a_month_after_the_end_is_overdue(world, scope_of):
    case = probationer(world, ends_on=D(2026, 5, 20), start=D(2025, 5, 20))
    run = evaluate(world, scope_of)
    assert finding(run, "confirmation_meeting_late", case).state == "overdue"
    assert finding(run, "probation_ending", case).state == "not_applicable"
    assert finding(run, "probation_review", case).state == "violated"  # none in the year of probation


def test_an_unapproved_confirmation_is_overdue_three_months_after_the_vote(world, scope_of):
    case = probationer(world, ends_on=D(2026, 3, 1), start=D(2025, 3, 1))
    vote(case, "confirmation_vote", D(2026, 3, 10), "confirm")
    run = evaluate(world, scope_of)
    assert finding(run, "confirmation_meeting_late", case).state == "ok"
    f = finding(run, "confirmation_approval_late", case)
    assert f.state == "overdue" and f.due == D(2026, 6, 10)


def test_an_extension_of_three_months_and_a_second_extension_are_invalid(world, scope_of):
    case = probationer(world, ends_on=D(2026, 3, 1), start=D(2025, 3, 1))
    vote(case, "confirmation_vote", D(2026, 3, 5), "extend", extension_months=6)
    step(case, "confirmation_approval", D(2026, 3, 20), "approved", decision="extend")
    case.probation_ends_on = D(2026, 9, 1)
    case.save()
    run = evaluate(world, scope_of)
    assert finding(run, "extension_length", case).state == "ok"
    assert finding(run, "extension_times", case).state == "ok"
    assert finding(run, "confirmation_meeting_late", case).state == "ok"  # due after the new end
    assert finding(run, "confirmation_approval_late", case).state == "ok"
    vote(case, "confirmation_vote", D(2026, 6, 1), "extend", extension_months=3)
    run = evaluate(world, scope_of)
    length = finding(run, "extension_length", case)
    assert (
        length.state == "violated"
        and "2026年6月1日支部大会决定延长预备期 3 个月，未满 6 个月" in length.message
    )
    times = finding(run, "extension_times", case)
    assert times.state == "violated" and "延长预备期 2 次，多于 1 次" in times.message


# Closed cases -----------------------------------------------------------------------------------------------


def test_a_completed_case_not_archived_is_judged_only_after_confirmation(world, scope_of):
    member = make_person("新党员", world.sa_b1)  # full member now
    case = open_case(
        member,
        Stage.PROBATION,
        state=CaseState.COMPLETED,
        probation_ends_on=D(2026, 5, 1),
        closed_on=D(2026, 6, 1),
    )
    vote(case, "confirmation_vote", D(2026, 5, 8), "confirm")
    step(case, "confirmation_approval", D(2026, 6, 1), "approved", decision="confirm")
    run = evaluate(world, scope_of)
    assert case_rules(run, case) == {"confirmation_approval_late", "archiving_late"}
    f = finding(run, "archiving_late", case)
    assert f.state == "overdue" and f.due == D(2026, 6, 8)


def test_closed_cases_with_nothing_left_to_judge_are_left_out(world, scope_of):
    archived = make_person("老党员", world.sa_b1)
    done = open_case(archived, state=CaseState.COMPLETED, closed_on=D(2025, 6, 1))
    step(done, "confirmation_approval", D(2025, 6, 1), "approved")
    step(done, "archiving", D(2025, 6, 5))
    stopped = make_person("中止者", world.sa_b1, status=Status.DISCONTINUED)
    dropped = open_case(stopped, state=CaseState.DISCONTINUED, closed_on=D(2026, 2, 1))
    run = evaluate(world, scope_of)
    assert case_rules(run, done) == set() and case_rules(run, dropped) == set()


# Stars ------------------------------------------------------------------------------------------------------


def test_only_branches_with_cases_are_rated_on_development(world, scope_of):
    case = activist_case(world)  # SA-B1: the review is overdue
    run = evaluate(world, scope_of)
    b1 = branch_rating(run, world.sa_b1)
    line = next(x for x in b1.lines if x.rule_id == "development.activist_review")
    assert line.state == "overdue" and line.weight == 3 and line.findings == 1
    assert not any(x.rule_id.startswith("development.") for x in b1.unrated)
    b2 = branch_rating(run, world.sa_b2)  # no case: the development rules take no part
    assert not any(x.rule_id.startswith("development.") for x in (*b2.lines, *b2.unrated))
    assert Finding.objects.filter(run=run, subject_id=case.pk, org=world.sa_b1).exists()


# Queries ----------------------------------------------------------------------------------------------------


def _full_case(world, i: int, branch) -> None:  # type: ignore[no-untyped-def]
    _person, case = candidate(world, f"批量{i}", org=branch)
    step(case, "candidate_designation", D(2025, 11, 3))
    name(case, "sponsor", [world.people.member, world.people.branch_secretary], D(2025, 11, 10))
    step(case, "committee_review", D(2026, 1, 8))
    step(case, "publicity", D(2026, 1, 15), starts_on="2026-01-09", ends_on="2026-01-15", workdays=5)
    step(case, "pre_review", D(2026, 2, 2), "passed")
    vote(case, "reception_vote", D(2026, 3, 2), "passed")


def test_the_evaluation_runs_the_same_number_of_queries_for_more_cases(world, scope_of):
    more = 5
    _full_case(world, 0, world.sa_b1)
    activist_case(world)
    evaluate(world, scope_of)  # the user's permissions are read once and cached
    with CaptureQueriesContext(connection) as small:
        evaluate(world, scope_of)
    branch = make_org("SA-X", "新建党支部", OrgKind.BRANCH, world.sa)
    for i in range(1, more + 1):
        _full_case(world, i, branch if i % 2 else world.sa_b1)
    with CaptureQueriesContext(connection) as big:
        run = evaluate(world, scope_of)
    assert (
        Finding.objects.filter(run=run, subject_type="case").values("subject_id").distinct().count()
        == more + 2
    )
    assert len(big) == len(small), [q["sql"][:120] for q in big.captured_queries]
