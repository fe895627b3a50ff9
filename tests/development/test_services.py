"""The step services: every time rule and vote rule pinned at its boundary, and refusals write nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import forget_year
from tests.development.pipeline import (
    APPLIED_ON,
    PLAN,
    TODAY,
    applicant,
    date_of,
    drive,
    open_case,
    record,
)
from tests.factories import grant, make_person, make_user
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.models import AuditEntry
from zhibu.core.scoping import scope_for, system_scope
from zhibu.development import services
from zhibu.development.models import (
    BranchVote,
    CaseRole,
    CaseState,
    DevelopmentCase,
    DevelopmentStep,
    Stage,
    StepDocument,
)
from zhibu.development.services import Upload, VoteInput
from zhibu.people.models import Status, StatusChange

pytestmark = pytest.mark.django_db
D = dt.date


def data_of(code: str) -> dict[str, Any]:
    return dict(next(data for c, _, data in PLAN if c == code))


def counts() -> tuple[int, ...]:
    return (
        DevelopmentCase.objects.count(),
        DevelopmentStep.objects.count(),
        BranchVote.objects.count(),
        CaseRole.objects.count(),
        StepDocument.objects.count(),
        StatusChange.objects.count(),
        AuditEntry.objects.count(),
    )


def refused(fn: Any, *args: Any, words: str, **kw: Any) -> ServiceError:
    before = counts()
    with pytest.raises(ServiceError) as exc:
        fn(*args, **kw)
    assert words in exc.value.message, exc.value.message
    assert counts() == before, "a refusal must write nothing"
    return exc.value


# The whole way ----------------------------------------------------------------------------------------


def test_a_case_runs_from_application_to_full_membership(world):
    person = applicant(world)
    case = drive(world, person)
    person.refresh_from_db()
    assert case.state == CaseState.COMPLETED and case.stage == Stage.PROBATION
    assert person.status == Status.FULL_MEMBER
    # Probation counts from the assembly's date; membership age from the end of the probation.
    assert person.joined_on == date_of("reception_vote") == D(2024, 11, 10)
    assert case.probation_ends_on == D(2025, 11, 10) == person.confirmed_on
    path = list(person.status_changes.values_list("to_status", "effective_on"))
    assert path[-4:] == [
        (Status.ACTIVIST, date_of("activist_designation")),
        (Status.CANDIDATE, date_of("candidate_designation")),
        (Status.PROBATIONARY, date_of("reception_vote")),
        (Status.FULL_MEMBER, D(2025, 11, 10)),
    ]
    assert case.steps.count() == len(PLAN) + 1
    # Every step was audited.
    assert AuditEntry.objects.filter(object_type="development.developmentstep").count() == len(PLAN)


def test_the_timeline_names_the_next_step_with_its_window(world):
    case = drive(world, applicant(world), until="activist_designation")
    timeline = services.case_timeline(case)
    assert [r.step.code for r in timeline.next_steps] == ["activist_filing", "mentor_assignment"]
    candidate = timeline.row("candidate_designation")
    assert candidate.window.earliest == D(2024, 9, 5)  # one year after 2023-09-05
    assert "满 1 年" in candidate.window.earliest_reason
    assert [s.code for s in candidate.missing] == ["activist_filing", "mentor_assignment", "activist_review"]


# Application and talk ---------------------------------------------------------------------------------


def test_application_needs_eighteen_full_years(world):
    young = applicant(world, "王小年", born=D(2005, 3, 2))
    refused(open_case, world, young, applied_on=D(2023, 3, 1), words="未满 18 周岁")
    case = open_case(world, young, applied_on=D(2023, 3, 2))  # the eighteenth birthday itself is enough
    assert case.opened_on == D(2023, 3, 2)


def test_application_needs_a_birth_date_and_no_member(world):
    nobody = make_person("无生日", world.sa_b1, status=Status.APPLICANT, id_number="", birth_date=None)
    refused(open_case, world, nobody, words="出生日期")
    refused(open_case, world, world.people.member, words="已是党员")


def test_a_second_open_case_and_a_future_date_are_refused(world):
    person = applicant(world)
    open_case(world, person)
    refused(open_case, world, person, words="已有进行中")
    other = applicant(world, "周未来")
    refused(open_case, world, other, applied_on=TODAY + dt.timedelta(days=1), words="晚于今天")


def test_a_late_talk_is_recorded_not_refused(world):
    """The talk is due within a month; a late one happened and is kept (the findings say it was late)."""
    case = open_case(world, applicant(world))
    step = record(world, case, "application_talk", D(2023, 4, 2), {"talker": "李红梅"})
    assert step.pk and services.case_timeline(case).row("application_talk").window.latest == D(2023, 4, 1)


def test_steps_out_of_order_are_refused(world):
    case = open_case(world, applicant(world))
    refused(record, world, case, "candidate_designation", D(2024, 9, 5), {}, words="须先完成")
    refused(record, world, case, "application_talk", D(2023, 2, 1), {"talker": "李红梅"}, words="早于")
    record(world, case, "application_talk", D(2023, 3, 20), {"talker": "李红梅"})
    refused(record, world, case, "application_talk", D(2023, 3, 21), {"talker": "李红梅"}, words="已于")
    refused(record, world, case, "activist_designation", D(2023, 9, 5), {}, words="推荐方式")


# Activist ---------------------------------------------------------------------------------------------


def test_activist_no_earlier_than_six_months_after_application(world):
    case = drive(world, applicant(world), until="application_talk")
    refused(record, world, case, "activist_designation", D(2023, 8, 31), {"method": "party"}, words="过早")
    record(world, case, "activist_designation", D(2023, 9, 1), {"method": "party"})


def test_a_young_league_member_needs_the_league_recommendation(world):
    person = applicant(world)
    case = services.case_open(
        actor=None,
        scope=system_scope(),
        person=person,
        applied_on=APPLIED_ON,
        league_member=True,
        today=TODAY,
    )
    record(world, case, "application_talk", D(2023, 3, 20), {"talker": "李红梅"})
    refused(
        record, world, case, "activist_designation", D(2023, 9, 5), {"method": "party"}, words="团组织推优"
    )
    record(world, case, "activist_designation", D(2023, 9, 5), {"method": "league"})


def test_mentors_are_one_or_two_full_members(world):
    case = drive(world, applicant(world), until="activist_filing")
    w = world.people
    refused(record, world, case, "mentor_assignment", D(2023, 9, 10), {"mentors": []}, words="1—2 名")
    three = [w.school_secretary.pk, w.branch_secretary.pk, w.member.pk]
    refused(record, world, case, "mentor_assignment", D(2023, 9, 10), {"mentors": three}, words="实际 3 名")
    refused(
        record,
        world,
        case,
        "mentor_assignment",
        D(2023, 9, 10),
        {"mentors": [w.activist.pk]},
        words="须为正式党员",
    )
    record(world, case, "mentor_assignment", D(2023, 9, 10), {"mentors": three[:2]})
    assert set(case.roles.values_list("person__name", flat=True)) == {"王建国", "李红梅"}


# Candidate --------------------------------------------------------------------------------------------


def test_candidate_after_exactly_one_year_of_cultivation_not_a_day_less(world):
    case = drive(world, applicant(world), until="activist_review")
    record(world, case, "activist_review", D(2024, 8, 30), {"conclusion": "良好"})
    refused(record, world, case, "candidate_designation", D(2024, 9, 4), {}, words="最早只能在2024年9月5日")
    record(world, case, "candidate_designation", D(2024, 9, 5), {})
    case.person.refresh_from_db()
    assert case.person.status == Status.CANDIDATE


def test_sponsors_are_two_full_members_and_a_probationary_one_is_refused(world):
    case = drive(world, applicant(world), until="candidate_filing")
    probationer = make_person("钟预备", world.sa_b1, status=Status.PROBATIONARY)
    w = world.people
    error = refused(
        record,
        world,
        case,
        "sponsor_assignment",
        D(2024, 9, 10),
        {"sponsors": [w.branch_secretary.pk, probationer.pk]},
        words="预备党员不能作入党介绍人",
    )
    assert error.field == "入党介绍人"
    refused(
        record,
        world,
        case,
        "sponsor_assignment",
        D(2024, 9, 10),
        {"sponsors": [w.member.pk]},
        words="应为 2 名",
    )
    outsider = world.people.outsider  # school B: not visible to a school-A secretary
    scope = scope_for(world.users.branch_secretary)
    with pytest.raises(ServiceError, match="权限范围"):
        services.step_record(
            actor=world.users.branch_secretary,
            scope=scope,
            case=case,
            code="sponsor_assignment",
            done_on=D(2024, 9, 10),
            data={"sponsors": [w.member.pk, outsider.pk]},
            today=TODAY,
        )


@pytest.mark.parametrize(
    ("days", "hours", "ok"),
    [(3, 0, True), (0, 24, True), (2, 23, False), (2, 24, True)],
)
def test_training_needs_three_days_or_twenty_four_hours(world, days, hours, ok):
    case = drive(world, applicant(world), until="political_review")
    data = {"started_on": "2024-10-08", "days": days, "hours": hours}
    if ok:
        record(world, case, "training", D(2024, 10, 10), data)
    else:
        refused(record, world, case, "training", D(2024, 10, 10), data, words="不足 3 天或 24 学时")


def test_a_failed_political_review_stops_the_committee_review(world):
    case = drive(world, applicant(world), until="sponsor_assignment")
    record(world, case, "political_review", D(2024, 9, 20), {"conclusion": "failed"})
    record(world, case, "training", D(2024, 10, 10), data_of("training"))
    refused(record, world, case, "committee_review", D(2024, 10, 15), {}, words="须先完成")


# Publicity in working days ------------------------------------------------------------------------------


def test_publicity_of_five_working_days_passes_and_four_is_refused(world):
    case = drive(world, applicant(world), until="committee_review")
    error = refused(
        record,
        world,
        case,
        "publicity",
        D(2024, 10, 21),
        {"starts_on": "2024-10-16"},
        words="只有 4 个工作日，少于 5 个工作日",
    )
    assert "应至少到2024年10月22日" in error.message
    step = record(world, case, "publicity", D(2024, 10, 22), {"starts_on": "2024-10-16"})
    assert step.details["workdays"] == 5


def _to_training_in_september(world: Any) -> Any:
    case = drive(world, applicant(world), until="sponsor_assignment")
    record(world, case, "political_review", D(2024, 9, 13), {"conclusion": "passed"})
    record(world, case, "training", D(2024, 9, 19), {"started_on": "2024-09-14", "days": 3, "hours": 24})
    return case


def test_publicity_across_national_day_counts_only_working_days(world):
    """Mon 2024-09-30 is a working day, 10-01…10-07 the holiday: five working days end on Fri 10-11."""
    case = _to_training_in_september(world)
    record(world, case, "committee_review", D(2024, 9, 27), {})
    refused(
        record, world, case, "publicity", D(2024, 10, 10), {"starts_on": "2024-09-30"}, words="4 个工作日"
    )
    record(world, case, "publicity", D(2024, 10, 11), {"starts_on": "2024-09-30"})


def test_publicity_ending_on_a_holiday_is_refused(world):
    case = _to_training_in_september(world)
    record(world, case, "committee_review", D(2024, 9, 20), {})
    refused(record, world, case, "publicity", D(2024, 10, 3), {"starts_on": "2024-09-23"}, words="国庆节")


def test_publicity_in_a_year_the_calendar_does_not_know_is_refused(world, settings):
    # Run the case a year later so that its publicity falls in 2027, which chinesecalendar does not know.
    forget_year(2027)
    case = drive(world, applicant(world), until="training")
    record(world, case, "committee_review", D(2024, 10, 15), {})
    refused(
        record,
        world,
        case,
        "publicity",
        D(2027, 1, 8),
        {"starts_on": "2027-01-04"},
        today=D(2027, 2, 1),
        words="2027年的节假日安排尚未录入",
    )


# The votes --------------------------------------------------------------------------------------------


def _to_vote(world: Any) -> Any:
    return drive(world, applicant(world), until="application_form")


def test_the_entitled_voters_are_the_branchs_full_members_on_the_day(world):
    make_person("钟预备", world.sa_b1, status=Status.PROBATIONARY)  # attends without a vote
    make_person("停党籍", world.sa_b1, status=Status.SUSPENDED)  # excluded
    make_person("后转正", world.sa_b1, confirmed_on=D(2025, 1, 1))  # not yet full on the day
    case = _to_vote(world)
    voters = services.entitled_voters(case.person, date_of("reception_vote"))
    assert sorted(p.name for p in voters) == sorted(["王建国", "李红梅", "张三丰"])
    step = record(
        world, case, "reception_vote", date_of("reception_vote"), {}, vote=VoteInput(present=2, in_favour=2)
    )
    assert step.vote.entitled_count == 3
    assert sorted(v["name"] for v in step.vote.entitled) == sorted(["王建国", "李红梅", "张三丰"])
    assert step.vote.passed and step.outcome == "passed"


def test_quorum_must_be_more_than_half_of_the_entitled(world):
    make_person("第四人", world.sa_b1)  # 4 entitled
    case = _to_vote(world)
    day = date_of("reception_vote")
    error = refused(
        record,
        world,
        case,
        "reception_vote",
        day,
        {},
        vote=VoteInput(present=2, in_favour=2),
        words="恰为半数",
    )
    assert "不能进行表决" in error.message
    step = record(world, case, "reception_vote", day, {}, vote=VoteInput(present=3, in_favour=3))
    assert step.vote.passed


def test_exactly_half_in_favour_of_the_entitled_fails_and_says_why(world):
    make_person("第四人", world.sa_b1)  # 4 entitled, all present
    case = _to_vote(world)
    day = date_of("reception_vote")
    step = record(world, case, "reception_vote", day, {}, vote=VoteInput(present=4, in_favour=2, against=2))
    assert step.outcome == "not_passed" and not step.vote.passed
    assert "恰为应到会 4 人的半数" in step.vote.explanation and "未通过" in step.vote.explanation
    case.refresh_from_db()
    # A failed vote does not count: the next step is still the vote.
    assert services.case_timeline(case).next.step.code == "reception_vote"
    refused(record, world, case, "upper_talk", D(2024, 11, 20), {"talker": "周明"}, words="须先完成")
    again = record(world, case, "reception_vote", D(2024, 11, 17), {}, vote=VoteInput(present=4, in_favour=3))
    assert again.outcome == "passed"


def test_in_favour_is_counted_against_the_entitled_not_those_present(world):
    for n in range(3):
        make_person(f"党员{n}", world.sa_b1)  # 6 entitled
    case = _to_vote(world)
    # 4 present of 6 (quorum met); 3 in favour is all but one of those present, but not more than 3 of 6.
    step = record(
        world, case, "reception_vote", date_of("reception_vote"), {}, vote=VoteInput(present=4, in_favour=3)
    )
    assert not step.vote.passed
    assert "恰为应到会 6 人的半数" in step.vote.explanation


def test_written_opinions_of_absent_voters_count(world):
    for n in range(3):
        make_person(f"党员{n}", world.sa_b1)  # 6 entitled
    case = _to_vote(world)
    day = date_of("reception_vote")
    too_many = VoteInput(present=4, in_favour=4, written_opinions=3)
    refused(record, world, case, "reception_vote", day, {}, vote=too_many, words="书面意见 3 份多于未到会")
    ballots = VoteInput(present=4, in_favour=4, against=1, abstain=1, written_opinions=1)
    refused(record, world, case, "reception_vote", day, {}, vote=ballots, words="多于到会人数与书面意见之和")
    # 4 present in favour + 2 written opinions in favour = 5 … 6 of 6 entitled: passes.
    vote = VoteInput(present=4, in_favour=5, written_opinions=2)
    step = record(world, case, "reception_vote", day, {}, vote=vote)
    assert step.vote.passed and "书面意见 2 份已计入" in step.vote.explanation


def test_vote_counts_larger_than_the_voters_are_refused(world):
    case = _to_vote(world)
    day = date_of("reception_vote")
    refused(
        record,
        world,
        case,
        "reception_vote",
        day,
        {},
        vote=VoteInput(present=4, in_favour=3),
        words="多于应到会",
    )
    refused(
        record,
        world,
        case,
        "reception_vote",
        day,
        {},
        vote=VoteInput(present=3, in_favour=3, against=1),
        words="合计 4 票",
    )


def test_excluded_voters_need_a_reason_and_leave_the_base(world):
    make_person("病休者", world.sa_b1)  # 4 entitled; one excluded → 3
    case = _to_vote(world)
    sick = case.person.org.people.get(name="病休者")
    day = date_of("reception_vote")
    refused(
        record,
        world,
        case,
        "reception_vote",
        day,
        {},
        vote=VoteInput(present=2, in_favour=2, excluded={sick.pk: ""}),
        words="原因",
    )
    step = record(
        world,
        case,
        "reception_vote",
        day,
        {},
        vote=VoteInput(present=2, in_favour=2, excluded={sick.pk: "长期病休，经上级批准"}),
    )
    assert step.vote.entitled_count == 3 and step.vote.excluded[0]["name"] == "病休者"
    assert step.vote.passed


# Approval and probation ---------------------------------------------------------------------------------


def test_approval_within_three_months_later_needs_a_reason_and_six_is_the_limit(world):
    case = drive(world, applicant(world), until="upper_talk")
    # The assembly met 2024-11-10: 3 months → 2025-02-10; 6 months → 2025-05-10.
    refused(record, world, case, "approval", D(2025, 2, 11), {}, words="特殊情况须写明原因")
    refused(
        record,
        world,
        case,
        "approval",
        D(2025, 5, 11),
        {"late_reason": "上级党委换届"},
        words="应重新履行程序",
    )
    step = record(world, case, "approval", D(2025, 5, 10), {"late_reason": "上级党委换届"})
    assert step.details["late_reason"] == "上级党委换届"
    case.refresh_from_db()
    assert case.probation_ends_on == D(2025, 11, 10)  # from the meeting date, not the approval


def test_approval_on_the_last_day_needs_no_reason(world):
    case = drive(world, applicant(world), until="upper_talk")
    record(world, case, "approval", D(2025, 2, 10), {})


def test_the_confirmation_vote_waits_for_the_end_of_probation(world):
    case = drive(world, applicant(world), until="confirmation_application")
    refused(
        record, world, case, "confirmation_vote", D(2025, 11, 9), {"decision": "confirm"}, words="预备期满"
    )
    record(world, case, "confirmation_vote", D(2025, 11, 10), {"decision": "confirm"})


def test_one_extension_of_six_to_twelve_months(world):
    case = drive(world, applicant(world), until="confirmation_application")
    day = D(2025, 11, 12)
    refused(
        record,
        world,
        case,
        "confirmation_vote",
        day,
        {"decision": "extend", "extension_months": 5},
        words="不少于 6 个月",
    )
    refused(
        record,
        world,
        case,
        "confirmation_vote",
        day,
        {"decision": "extend", "extension_months": 13},
        words="不超过 1 年",
    )
    record(world, case, "confirmation_vote", day, {"decision": "extend", "extension_months": 6})
    record(world, case, "confirmation_approval", D(2025, 12, 1), {})
    case.refresh_from_db()
    assert case.probation_ends_on == D(2026, 5, 10) and case.state == CaseState.OPEN
    assert services.case_timeline(case).next.step.code == "confirmation_vote"
    refused(
        record, world, case, "confirmation_vote", D(2026, 5, 9), {"decision": "confirm"}, words="预备期满"
    )
    refused(
        record,
        world,
        case,
        "confirmation_vote",
        D(2026, 5, 12),
        {"decision": "extend", "extension_months": 6},
        words="只能延长 1 次",
    )
    record(world, case, "confirmation_vote", D(2026, 5, 12), {"decision": "confirm"})
    record(world, case, "confirmation_approval", D(2026, 6, 1), {})
    case.person.refresh_from_db()
    assert case.person.confirmed_on == D(2026, 5, 10)  # membership age from the end of the extended probation


def test_cancelling_the_probation_closes_the_case(world):
    case = drive(world, applicant(world), until="confirmation_application")
    record(world, case, "confirmation_vote", D(2025, 11, 12), {"decision": "cancel"})
    record(world, case, "confirmation_approval", D(2025, 12, 1), {})
    case.refresh_from_db()
    case.person.refresh_from_db()
    assert case.state == CaseState.CANCELLED and case.person.status == Status.PROBATION_CANCELLED
    refused(record, world, case, "archiving", D(2025, 12, 5), {}, words="取消预备党员资格")


# Documents, corrections, scope ----------------------------------------------------------------------------


def test_documents_are_checked_and_kept(world):
    person = applicant(world)
    pdf = SimpleUploadedFile("申请书.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    case = services.case_open(
        actor=None,
        scope=system_scope(),
        person=person,
        applied_on=APPLIED_ON,
        documents=[Upload("application_letter", pdf)],
        today=TODAY,
    )
    doc = StepDocument.objects.get(step__case=case)
    assert doc.title == "申请书.pdf" and doc.content_type == "application/pdf" and doc.size == 13
    assert "申请书" not in doc.file.name  # stored under a random name
    fake = SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    refused(
        record,
        world,
        case,
        "application_talk",
        D(2023, 3, 20),
        {"talker": "李"},
        documents=[Upload("talk_record", fake)],
        words="不是 PDF",
    )
    wrong_kind = SimpleUploadedFile("a.pdf", b"%PDF-1.4", content_type="application/pdf")
    refused(
        record,
        world,
        case,
        "application_talk",
        D(2023, 3, 20),
        {"talker": "李"},
        documents=[Upload("application_form", wrong_kind)],
        words="材料类别",
    )


def test_a_document_that_is_too_large_is_refused(world, settings):
    settings.ZHIBU_MAX_UPLOAD_BYTES = 10
    case = open_case(world, applicant(world))
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"x" * 20, content_type="application/pdf")
    refused(
        record,
        world,
        case,
        "application_talk",
        D(2023, 3, 20),
        {"talker": "李"},
        documents=[Upload("talk_record", big)],
        words="超过",
    )


def test_corrections_are_audited_and_checked(world):
    case = drive(world, applicant(world), until="activist_filing")
    talk = case.steps.get(code="application_talk")
    refused(
        services.step_correct,
        actor=None,
        scope=system_scope(),
        record=talk,
        reason="",
        done_on=D(2023, 3, 21),
        words="更正原因",
    )
    refused(
        services.step_correct,
        actor=None,
        scope=system_scope(),
        record=talk,
        reason="笔误",
        done_on=D(2023, 9, 6),
        today=TODAY,
        words="晚于后续步骤",
    )
    services.step_correct(
        actor=None, scope=system_scope(), record=talk, reason="笔误", done_on=D(2023, 3, 21), today=TODAY
    )
    talk.refresh_from_db()
    assert talk.done_on == D(2023, 3, 21)
    entry = AuditEntry.objects.filter(
        object_type="development.developmentstep", object_id=str(talk.pk)
    ).latest("at")
    assert entry.changes["done_on"] == ["2023-03-20", "2023-03-21"] and "笔误" in entry.note
    activist = case.steps.get(code="activist_designation")
    refused(
        services.step_correct,
        actor=None,
        scope=system_scope(),
        record=activist,
        reason="笔误",
        done_on=D(2023, 9, 6),
        words="不能直接修改",
    )


def test_another_school_cannot_touch_the_case(world):
    case = open_case(world, applicant(world))
    outsider = world.users.outsider
    with pytest.raises(NotFound):
        services.step_record(
            actor=outsider,
            scope=scope_for(outsider),
            case=case,
            code="application_talk",
            done_on=D(2023, 3, 20),
            data={"talker": "x"},
            today=TODAY,
        )
    viewer = make_user("viewer")  # sees school A, manages nothing
    grant(viewer, world.sa, "view")
    with pytest.raises(NotPermitted):
        services.step_record(
            actor=viewer,
            scope=scope_for(viewer),
            case=case,
            code="application_talk",
            done_on=D(2023, 3, 20),
            data={"talker": "x"},
            today=TODAY,
        )


def test_discontinue_closes_an_activists_case(world):
    case = drive(world, applicant(world), until="activist_designation")
    refused(
        services.case_discontinue,
        actor=None,
        scope=system_scope(),
        case=case,
        on=D(2024, 1, 1),
        reason="",
        today=TODAY,
        words="原因",
    )
    services.case_discontinue(
        actor=None, scope=system_scope(), case=case, on=D(2024, 1, 1), reason="本人申请", today=TODAY
    )
    case.refresh_from_db()
    case.person.refresh_from_db()
    assert case.state == CaseState.DISCONTINUED and case.person.status == Status.DISCONTINUED


def test_backfilling_an_imported_activist_keeps_the_status(world):
    """Someone imported as an activist gets their history recorded without status changes going backwards."""
    person = world.people.activist  # already an activist in the registry
    case = services.case_open(
        actor=None, scope=system_scope(), person=person, applied_on=D(2022, 1, 10), today=TODAY
    )
    person.refresh_from_db()
    assert person.status == Status.ACTIVIST  # opening the case records the application, status kept
    record(world, case, "application_talk", D(2022, 1, 20), {"talker": "李红梅"})
    record(world, case, "activist_designation", D(2022, 7, 20), {"method": "party"})
    person.refresh_from_db()
    assert person.status == Status.ACTIVIST


def test_the_first_review_is_a_next_step_because_the_candidate_step_needs_it(world):
    case = drive(world, applicant(world), until="mentor_assignment")
    timeline = services.case_timeline(case)
    assert [r.step.code for r in timeline.next_steps] == ["activist_review"]
    # Six months after the activist designation (2023-09-05), as the pack's every_from says.
    assert timeline.row("activist_review").next_due == D(2024, 3, 5)
