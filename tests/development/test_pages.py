"""The development pages: board, case page, step forms, corrections, documents, plan, one's own case."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests.development import pipeline
from tests.development.pipeline import PLAN, TODAY, applicant, date_of, drive, open_case
from tests.factories import grant, make_person, make_user
from zhibu.core.models import AuditEntry
from zhibu.core.scoping import system_scope
from zhibu.development import services
from zhibu.development.models import (
    BranchVote,
    CaseState,
    DevelopmentCase,
    DevelopmentPlan,
    DevelopmentStep,
    StepDocument,
)
from zhibu.people.models import Status

PDF = b"%PDF-1.4\n% zhibu test document\n"


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):  # type: ignore[no-untyped-def]
    """The pages and the services read "today" from Django; the pipeline's dates are set against TODAY."""
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)


def _case_url(case: DevelopmentCase) -> str:
    return reverse("development:case", args=[case.pk])


def _step_url(case: DevelopmentCase, code: str) -> str:
    return reverse("development:step_record", args=[case.pk, code])


def _plan_data(code: str) -> dict[str, Any]:
    return dict(next(data for c, _, data in PLAN if c == code))


def _form_data(world: Any, case: DevelopmentCase, code: str, day: dt.date) -> dict[str, Any]:
    """What a secretary types into the step's form for the pipeline's valid run."""
    data: dict[str, Any] = {"done_on": day.isoformat()}
    for key, value in _plan_data(code).items():
        if value == "MENTORS":
            value = [str(world.people.school_secretary.pk)]
        elif value == "SPONSORS":
            value = [str(world.people.school_secretary.pk), str(world.people.branch_secretary.pk)]
        data[key] = value
    if code in ("reception_vote", "confirmation_vote"):
        n = len(services.entitled_voters(case.person, day))
        data.update(present=n, in_favour=n, against=0, abstain=0, written_opinions=0, secret_ballot="on")
    return data


# The board ----------------------------------------------------------------------------------------------


def test_board_counts_open_cases_by_stage_and_flags_overdue_and_due_soon(world, client_as):
    late = applicant(world, "刘迟到")  # applied in 2023, never talked to: the talk is long overdue
    open_case(world, late)
    soon = applicant(world, "陈将至")  # applied ten days ago: the talk is due within a month
    open_case(world, soon, applied_on=TODAY - dt.timedelta(days=10))
    cand = applicant(world, "周发展")
    drive(world, cand, until="candidate_designation")
    outside = make_person("吴校外", world.sb_b1, status=Status.APPLICANT, birth_date=dt.date(2000, 1, 1))
    open_case(world, outside)

    html = client_as(world.users.school_secretary).get("/development/?org=SA").content.decode()

    counts = re.findall(r'<span class="stat">(\d+)</span><span class="stat-label">([^<]+)</span>', html)
    assert counts == [
        ("2", "入党申请人"),
        ("0", "入党积极分子"),
        ("1", "发展对象"),
        ("0", "预备党员的接收"),
        ("0", "预备党员的教育考察和转正"),
    ]
    overdue = html.split("已超期（")[1].split("</section>")[0]
    assert "刘迟到" in overdue and "陈将至" not in overdue
    assert "第2步 党组织派人谈话" in overdue and "最迟 2023-04-01" in overdue
    due_soon = html.split("30 天内到期（")[1].split("</section>")[0]
    assert "陈将至" in due_soon and "刘迟到" not in due_soon
    assert "吴校外" not in html  # school B's case is not in school A's scope


def test_board_plans_candidates_of_the_quarter_and_probations_ending(world, client_as):
    ready = drive(world, applicant(world, "郑可发展"), until="activist_review")
    # The review is missing but may be done now, and a year of cultivation has passed.
    doable = drive(world, applicant(world, "冯待考察"), until="mentor_assignment")
    ending = drive(world, applicant(world, "孔预备"), until="oath")
    DevelopmentCase.objects.filter(pk=ending.pk).update(probation_ends_on=TODAY + dt.timedelta(days=20))
    far = drive(world, applicant(world, "秦尚远"), until="oath")
    DevelopmentCase.objects.filter(pk=far.pk).update(probation_ends_on=TODAY + dt.timedelta(days=90))

    html = client_as(world.users.branch_secretary).get("/development/?org=SA-B1").content.decode()

    candidates = html.split('id="plan-candidates"')[1].split("</section>")[0]
    assert "截至 2026-12-31" in candidates
    assert "郑可发展" in candidates and "最早 2024-09-05" in candidates
    assert "冯待考察" in candidates and "尚需：培养教育考察（支部考察）" in candidates
    assert "孔预备" not in candidates
    probation = html.split('id="plan-probation"')[1].split("</section>")[0]
    assert "孔预备" in probation and (TODAY + dt.timedelta(days=20)).isoformat() in probation
    assert "秦尚远" not in probation
    assert ready.stage == "activist" and doable.stage == "activist"
    assert 'href="/development/roster.xlsx?org=SA-B1"' in html


def test_board_of_an_org_outside_the_scope_is_not_found(world, client_as):
    client = client_as(world.users.branch_secretary)
    assert client.get("/development/?org=SB-B1").status_code == 404
    assert client.get("/development/?org=SA-B2").status_code == 404  # a sibling branch


def test_a_member_without_posts_is_sent_to_their_own_case(world, client_as):
    response = client_as(world.users.member).get("/development/")
    assert response.status_code == 302 and response["Location"] == reverse("development:mine")


def test_nav_links_the_board_for_those_who_view_orgs_only(world, client_as):
    assert 'href="/development/"' in client_as(world.users.branch_secretary).get("/").content.decode()
    assert 'href="/development/"' not in client_as(world.users.member).get("/").content.decode()


# Opening a case -----------------------------------------------------------------------------------------


def test_opening_a_case_from_the_board_with_the_application_letter(world, client_as):
    person = applicant(world, "韩新申")
    client = client_as(world.users.branch_secretary)
    form = client.get("/development/cases/new/?org=SA-B1").content.decode()
    assert "韩新申" in form and "张三丰" not in form  # full members cannot apply

    response = client.post(
        "/development/cases/new/?org=SA-B1",
        {
            "org": "SA-B1",
            "person": str(person.pk),
            "applied_on": "2026-10-08",
            "league_member": "on",
            "document": SimpleUploadedFile("申请书.pdf", PDF, content_type="application/pdf"),
        },
    )

    case = DevelopmentCase.objects.get(person=person)
    assert response.status_code == 302 and response["Location"] == _case_url(case)
    assert case.league_member and case.opened_on == dt.date(2026, 10, 8)
    doc = StepDocument.objects.get(step__case=case)
    assert doc.kind == "application_letter" and doc.title == "申请书.pdf"


def test_opening_a_case_refused_keeps_the_form_and_writes_nothing(world, client_as):
    young = applicant(world, "小少年", born=dt.date(2010, 1, 1))
    before = AuditEntry.objects.count()
    response = client_as(world.users.branch_secretary).post(
        "/development/cases/new/?org=SA-B1",
        {"org": "SA-B1", "person": str(young.pk), "applied_on": "2026-10-08"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "未满 18 周岁" in html and 'value="2026-10-08"' in html
    assert not DevelopmentCase.objects.filter(person=young).exists()
    assert AuditEntry.objects.count() == before


# The case page ------------------------------------------------------------------------------------------


def test_case_page_shows_the_timeline_people_votes_and_next_steps(world, client_as):
    case = drive(world, applicant(world), until="reception_vote")
    response = client_as(world.users.branch_secretary).get(_case_url(case))
    html = response.content.decode()
    assert response.status_code == 200
    assert "刘小青" in html and "预备党员的接收" in html
    # Mentors and sponsors.
    facts = html.split("培养联系人</dt><dd>")[1].split("</dd>")[0]
    assert facts == "王建国"
    assert "入党介绍人</dt><dd>李红梅、王建国" in html or "入党介绍人</dt><dd>王建国、李红梅" in html
    # Done steps with date, content and who recorded them.
    talk = html.split('id="step-application_talk"')[1].split("</li>")[0]
    assert "2023-03-20" in talk and "谈话人</dt><dd>李红梅" in talk and "记录人：系统" in talk
    # The next step with its dates and reason; steps not yet available greyed with what they need.
    assert "第16步 上级党委派人谈话" in html.split('id="next"')[1].split("</section>")[0]
    oath = html.split('id="step-oath"')[1].split("</li>")[0]
    assert 'class="dev-step waiting"' in html and "须先完成" in oath
    approval = html.split('id="step-approval"')[1].split("</li>")[0]
    assert "最迟 2025-02-10" in approval and "接收预备党员（2024-11-10）后 3 个月内" in approval
    # The vote with the entitled list and the explanation.
    vote = BranchVote.objects.get(step__case=case)
    assert f'id="vote-{vote.step_id}"' in html
    assert "<dt>应到会</dt><dd>3 人：" in html and "张三丰" in html and vote.explanation in html
    # Documents of the case.
    assert reverse("development:doc_reception", args=[case.pk]) in html


def test_each_step_kind_is_recorded_through_its_form(world, client_as):
    """Walk a case from the application to the archiving through the pages, one form per step."""
    person = applicant(world)
    case = open_case(world, person)
    client = client_as(world.users.branch_secretary)
    for code, day, _ in PLAN:
        page = client.get(_step_url(case, code))
        assert page.status_code == 200, code
        response = client.post(_step_url(case, code), _form_data(world, case, code, day))
        assert response.status_code == 302, (code, response.content.decode()[-3000:])
    case.refresh_from_db()
    person.refresh_from_db()
    assert case.state == CaseState.COMPLETED and person.status == Status.FULL_MEMBER
    steps = {s.code: s for s in DevelopmentStep.objects.filter(case=case)}
    assert steps["activist_designation"].details == {"method": "party"}
    assert steps["mentor_assignment"].details["mentors"][0]["name"] == "王建国"
    assert steps["political_review"].outcome == "passed"
    assert steps["political_review"].details == {"summary": "政治历史清楚"}
    assert steps["training"].details["days"] == 3 and steps["training"].details["started_on"] == "2024-10-08"
    assert steps["publicity"].details["workdays"] == 5
    vote_step = steps["reception_vote"]
    assert vote_step.vote.passed and vote_step.recorded_by == world.users.branch_secretary
    assert steps["confirmation_approval"].details == {"decision": "confirm"}


def test_vote_form_lists_the_entitled_voters_and_keeps_exclusions_with_reasons(world, client_as):
    case = drive(world, applicant(world), until="application_form")
    client = client_as(world.users.branch_secretary)
    url = _step_url(case, "reception_vote")
    form = client.get(url + "?done_on=2024-11-10").content.decode()
    assert "应到会有表决权的正式党员（3 人" in form
    for name in ("王建国", "李红梅", "张三丰"):
        assert name in form
    # The htmx fragment recomputes the list for another date.
    fragment = client.get(url + "?part=voters&done_on=2024-11-10", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<fieldset id="voters"') and "张三丰" in fragment

    member = world.people.member
    response = client.post(
        url,
        {
            "done_on": "2024-11-10",
            "present": 2,
            "in_favour": 2,
            "against": 0,
            "abstain": 0,
            "secret_ballot": "on",
            f"exclude_{member.pk}": "长期病休，经上级党委同意",
        },
    )
    assert response.status_code == 302
    vote = BranchVote.objects.get(step__case=case)
    assert vote.entitled_count == 2 and vote.passed
    assert vote.excluded == [{"id": member.pk, "name": "张三丰", "reason": "长期病休，经上级党委同意"}]
    html = client.get(_case_url(case)).content.decode()
    assert "张三丰（长期病休，经上级党委同意）" in html


def test_confirmation_vote_form_records_an_extension(world, client_as):
    case = drive(world, applicant(world), until="confirmation_application")
    data = _form_data(world, case, "confirmation_vote", date_of("confirmation_vote"))
    data.update(decision="extend", extension_months=6)
    response = client_as(world.users.branch_secretary).post(_step_url(case, "confirmation_vote"), data)
    assert response.status_code == 302
    step = DevelopmentStep.objects.get(case=case, code="confirmation_vote")
    assert step.outcome == "extend" and step.details == {"extension_months": 6, "decision": "extend"}


def test_branch_assignment_form_offers_the_branch_groups(world, client_as):
    case = drive(world, applicant(world), until="approval_filing")
    client = client_as(world.users.branch_secretary)
    form = client.get(_step_url(case, "branch_assignment")).content.decode()
    assert "第一党小组" in form and "第二党小组" in form
    response = client.post(
        _step_url(case, "branch_assignment"), {"done_on": "2024-12-20", "group_id": str(world.sa_b1_g2.pk)}
    )
    assert response.status_code == 302
    step = DevelopmentStep.objects.get(case=case, code="branch_assignment")
    assert step.details == {"group_id": world.sa_b1_g2.pk, "group_name": "第二党小组"}


def test_a_late_approval_needs_its_reason(world, client_as):
    case = drive(world, applicant(world), until="upper_talk")
    client = client_as(world.users.branch_secretary)
    refused = client.post(_step_url(case, "approval"), {"done_on": "2025-03-01"})
    assert refused.status_code == 422 and "特殊情况须写明原因" in refused.content.decode()
    ok = client.post(_step_url(case, "approval"), {"done_on": "2025-03-01", "late_reason": "上级党委换届"})
    assert ok.status_code == 302
    assert DevelopmentStep.objects.get(case=case, code="approval").details == {"late_reason": "上级党委换届"}


def test_a_refused_publicity_shows_the_reason_keeps_the_data_and_writes_nothing(world, client_as):
    case = drive(world, applicant(world), until="committee_review")
    before = (DevelopmentStep.objects.count(), AuditEntry.objects.count())
    response = client_as(world.users.branch_secretary).post(
        _step_url(case, "publicity"),
        {"done_on": "2024-10-18", "starts_on": "2024-10-16", "note": "张贴于校务公开栏"},
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "只有 3 个工作日，少于 5 个工作日" in html
    assert 'value="2024-10-16"' in html and 'value="2024-10-18"' in html and "张贴于校务公开栏" in html
    assert (DevelopmentStep.objects.count(), AuditEntry.objects.count()) == before


def test_a_refused_pre_review_for_someone_leaving_writes_nothing(world, client_as):
    case = drive(world, applicant(world), until="publicity")
    response = client_as(world.users.branch_secretary).post(
        _step_url(case, "pre_review"), {"done_on": "2024-10-28", "leaving_soon": "on"}
    )
    assert response.status_code == 422 and "不能接收为预备党员" in response.content.decode()
    assert not DevelopmentStep.objects.filter(case=case, code="pre_review").exists()


def test_an_unknown_step_code_is_not_found(world, client_as):
    case = drive(world, applicant(world), until="application_talk")
    client = client_as(world.users.branch_secretary)
    assert client.get(_step_url(case, "nonsense")).status_code == 404
    assert client.get(_step_url(case, "application")).status_code == 404


# Corrections, documents, discontinuing ------------------------------------------------------------------


def test_correcting_a_step_needs_a_reason_and_is_audited(world, client_as):
    case = drive(world, applicant(world), until="activist_review")
    review = DevelopmentStep.objects.filter(case=case, code="activist_review").latest("done_on")
    url = reverse("development:step_correct", args=[review.pk])
    client = client_as(world.users.branch_secretary)
    assert "表现良好" in client.get(url).content.decode()

    missing = client.post(url, {"done_on": "2024-08-30", "conclusion": "表现突出"})
    assert missing.status_code == 422
    review.refresh_from_db()
    assert review.details == {"conclusion": "表现良好"}

    ok = client.post(url, {"done_on": "2024-08-30", "conclusion": "表现突出", "reason": "笔误"})
    assert ok.status_code == 302
    review.refresh_from_db()
    assert review.details == {"conclusion": "表现突出"}
    entries = AuditEntry.objects.filter(object_type="development.developmentstep", object_id=str(review.pk))
    entry = entries.latest("at")
    assert entry.note == "更正：笔误" and entry.changes["details"] == [
        {"conclusion": "表现良好"},
        {"conclusion": "表现突出"},
    ]


def test_correcting_a_fixed_step_is_refused_on_the_form(world, client_as):
    case = drive(world, applicant(world), until="activist_designation")
    step = DevelopmentStep.objects.get(case=case, code="activist_designation")
    response = client_as(world.users.branch_secretary).post(
        reverse("development:step_correct", args=[step.pk]),
        {"done_on": "2023-09-06", "method": "party", "reason": "日期有误"},
    )
    assert response.status_code == 422 and "日期和内容不能直接修改" in response.content.decode()
    step.refresh_from_db()
    assert step.done_on == date_of("activist_designation")


def test_document_upload_scoped_download_and_withdrawal(world, client_as):
    case = drive(world, applicant(world), until="application_talk")
    client = client_as(world.users.branch_secretary)
    response = client.post(
        _step_url(case, "activist_designation"),
        {
            "done_on": "2023-09-05",
            "method": "party",
            "document_kind": "recommendation_form",
            "document": SimpleUploadedFile("推荐表.pdf", PDF, content_type="application/pdf"),
        },
    )
    assert response.status_code == 302
    doc = StepDocument.objects.get(step__case=case)
    url = reverse("development:document", args=[doc.pk])
    html = client.get(_case_url(case)).content.decode()
    assert url in html and "/media/" not in html

    download = client.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    export = AuditEntry.objects.filter(action="export", object_type="development.stepdocument").get()
    assert export.actor == world.users.branch_secretary and "推荐表.pdf" in export.note

    # A second document added later to the recorded step.
    talk = DevelopmentStep.objects.get(case=case, code="application_talk")
    client.post(
        reverse("development:document_add", args=[talk.pk]),
        {"kind": "talk_record", "file": SimpleUploadedFile("谈话记录.pdf", PDF)},
    )
    assert StepDocument.objects.filter(step=talk, kind="talk_record").exists()
    # Not a PDF, image or Word file: refused, nothing stored.
    client.post(
        reverse("development:document_add", args=[talk.pk]),
        {"kind": "talk_record", "file": SimpleUploadedFile("x.pdf", b"not a pdf")},
    )
    assert StepDocument.objects.filter(step=talk).count() == 1

    withdraw = reverse("development:document_withdraw", args=[doc.pk])
    client.post(withdraw, {"reason": ""})
    doc.refresh_from_db()
    assert doc.withdrawn_at is None
    client.post(withdraw, {"reason": "传错文件"})
    doc.refresh_from_db()
    assert doc.withdrawn_at is not None and doc.withdrawn_reason == "传错文件"
    assert "已撤回（传错文件）" in client.get(_case_url(case)).content.decode()

    # Outside the scope the document is not found, and neither is withdrawing it.
    outsider = client_as(world.users.outsider)
    assert outsider.get(url).status_code == 404
    assert outsider.post(withdraw, {"reason": "x"}).status_code == 404


def test_the_applicant_cannot_download_documents_of_their_own_case(world, client_as):
    person = applicant(world)
    user = make_user("liu", person)
    case = services.case_open(
        actor=None,
        scope=system_scope(),
        person=person,
        applied_on=pipeline.APPLIED_ON,
        documents=[services.Upload("application_letter", SimpleUploadedFile("a.pdf", PDF))],
        today=TODAY,
    )
    doc = StepDocument.objects.get(step__case=case)
    assert client_as(user).get(reverse("development:document", args=[doc.pk])).status_code == 404


def test_discontinuing_a_case_needs_a_reason(world, client_as):
    case = drive(world, applicant(world), until="activist_designation")
    client = client_as(world.users.branch_secretary)
    url = reverse("development:discontinue", args=[case.pk])
    assert client.post(url, {"on": "2026-11-01", "reason": ""}).status_code == 422
    assert client.post(url, {"on": "2026-11-01", "reason": "本人申请撤回"}).status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.DISCONTINUED and case.close_reason == "本人申请撤回"
    assert "终止培养" in client.get(_case_url(case)).content.decode()


# Scoping ------------------------------------------------------------------------------------------------


def test_pages_of_a_case_outside_the_scope_are_not_found(world, client_as):
    case = drive(world, applicant(world), until="mentor_assignment")
    step = DevelopmentStep.objects.get(case=case, code="mentor_assignment")
    outsider = client_as(world.users.outsider)
    for url in (
        _case_url(case),
        _step_url(case, "activist_review"),
        reverse("development:step_correct", args=[step.pk]),
        reverse("development:discontinue", args=[case.pk]),
    ):
        assert outsider.get(url).status_code == 404, url
        assert outsider.post(url, {"done_on": "2024-03-01", "conclusion": "x"}).status_code == 404, url
    assert not DevelopmentStep.objects.filter(case=case, code="activist_review").exists()


def test_a_viewer_sees_the_case_but_cannot_record(world, client_as):
    case = drive(world, applicant(world), until="mentor_assignment")
    viewer = make_user("inspector")
    grant(viewer, world.sa, "view")
    client = client_as(viewer)
    html = client.get(_case_url(case)).content.decode()
    assert "刘小青" in html and _step_url(case, "activist_review") not in html
    response = client.post(_step_url(case, "activist_review"), {"done_on": "2024-03-01", "conclusion": "好"})
    assert response.status_code == 403
    assert not DevelopmentStep.objects.filter(case=case, code="activist_review").exists()


def test_another_member_of_the_branch_cannot_see_a_case(world, client_as):
    case = drive(world, applicant(world), until="application_talk")
    assert client_as(world.users.member).get(_case_url(case)).status_code == 404


# The yearly plan ----------------------------------------------------------------------------------------


def test_plan_page_sets_targets_and_compares_them_with_what_was_done(world, client_as):
    drive(world, applicant(world, "甲完成"))  # received 2024-11-10, approved 2024-12-15, confirmed 2025-12-01
    drive(world, applicant(world, "乙接收"), until="reception_vote")  # received 2024-11-10, not approved yet
    for p in (world.people.school_secretary, world.people.member):
        p.backbone_teacher = True
        p.save()
    client = client_as(world.users.branch_secretary)
    url = "/development/plan/?org=SA-B1&year=2024"
    response = client.post(
        url,
        {
            "receive_target": 3,
            "confirm_target": 1,
            "backbone_teachers_total": 8,
            "backbone_among_members_target": "40",
            "members_among_backbone_target": "50",
        },
    )
    assert response.status_code == 302
    plan = DevelopmentPlan.objects.get(org=world.sa_b1, year=2024)
    assert plan.receive_target == 3 and plan.backbone_teachers_total == 8

    html = client.get(url).content.decode()
    assert '<td id="received">2</td>' in html and '<td id="approved">1</td>' in html
    assert '<td id="confirmed">0</td>' in html
    # Members: 王建国, 李红梅, 张三丰, 甲完成 (full) and 乙接收 is still a candidate → 4, two backbone.
    share = html.split('id="backbone-share">')[1].split("</dd>")[0]
    assert share.startswith("50.0%") and "目标 40.0%，已达到" in share
    member_share = html.split('id="member-share">')[1].split("</dd>")[0]
    assert member_share.startswith("25.0%（2/8）") and "未达到" in member_share
    later = client.get("/development/plan/?org=SA-B1&year=2025").content.decode()
    assert '<td id="confirmed">1</td>' in later


def test_plan_cannot_be_set_by_a_viewer_or_outside_the_scope(world, client_as):
    viewer = make_user("inspector")
    grant(viewer, world.sa, "view")
    data = {"receive_target": 1, "confirm_target": 1}
    assert client_as(viewer).post("/development/plan/?org=SA-B1&year=2026", data).status_code == 403
    assert client_as(world.users.outsider).get("/development/plan/?org=SA-B1").status_code == 404
    assert not DevelopmentPlan.objects.exists()


# My own case --------------------------------------------------------------------------------------------


def test_my_case_shows_stage_dates_and_next_step_but_no_votes_or_other_people(world, client_as):
    person = applicant(world)
    user = make_user("liu", person)
    drive(world, person, until="reception_vote")
    client = client_as(user)
    home = client.get("/").content.decode()
    assert reverse("development:mine") in home

    html = client.get("/development/me/").content.decode()
    assert "预备党员的接收" in html
    assert "<strong>2024-11-10</strong> 支部大会讨论接收预备党员" in html
    assert "第16步 上级党委派人谈话" in html
    assert "王建国" in html and "李红梅" in html  # mentor and sponsors by name
    assert "张三丰" not in html  # a voter: no vote lists
    assert "赞成" not in html
    # Their own case page sends them back here.
    case = DevelopmentCase.objects.get(person=person)
    response = client.get(_case_url(case))
    assert response.status_code == 302 and response["Location"] == reverse("development:mine")
    assert client.get(_step_url(case, "upper_talk")).status_code == 404


def test_my_case_without_a_case(world, client_as):
    html = client_as(world.users.member).get("/development/me/").content.decode()
    assert "您目前没有发展党员流程" in html


# Phone-friendly markup ----------------------------------------------------------------------------------


def test_pages_use_phone_friendly_markup(world, client_as):
    case = drive(world, applicant(world), until="committee_review")
    client = client_as(world.users.branch_secretary)
    form = client.get(_step_url(case, "publicity")).content.decode()
    assert 'type="date"' in form and 'class="form-grid"' in form
    for url in ("/development/?org=SA", _case_url(case), "/development/plan/?org=SA-B1"):
        html = client.get(url).content.decode()
        assert 'name="viewport" content="width=device-width' in html
        # Any table scrolls inside its own box.
        assert html.count("<table") == html.count('<div class="table-wrap"><table'), url


def test_a_completed_case_offers_the_archiving_only(world, client_as):
    case = drive(world, applicant(world), until="confirmation_approval")
    client = client_as(world.users.branch_secretary)
    html = client.get(_case_url(case)).content.decode()
    assert "流程状态：已转正" in html
    assert _step_url(case, "archiving") in html
    assert _step_url(case, "probation_review") not in html  # nothing else is recorded on a closed case
    assert client.post(_step_url(case, "archiving"), {"done_on": "2025-12-05"}).status_code == 302
    assert _step_url(case, "archiving") not in client.get(_case_url(case)).content.decode()


def test_a_step_form_says_what_is_missing_before_it(world, client_as):
    case = drive(world, applicant(world), until="application_talk")
    html = client_as(world.users.branch_secretary).get(_step_url(case, "oath")).content.decode()
    assert "须先完成：第17步 上级党委审批" in html


def test_the_board_without_an_org_shows_the_top_of_the_scope(world, client_as):
    drive(world, applicant(world), until="application_talk")
    html = client_as(world.users.school_secretary).get("/development/").content.decode()
    assert "第一中学党委" in html and "刘小青" in html
    assert "第二小学党总支" not in html  # another school is not offered in the org choice


def test_new_case_offers_applicants_and_those_who_may_apply_again_only(world, client_as):
    stopped = make_person("褚再申", world.sa_b1, status=Status.DISCONTINUED, birth_date=dt.date(1999, 1, 1))
    html = client_as(world.users.branch_secretary).get("/development/cases/new/?org=SA-B1").content.decode()
    choices = html.split('id="id_person"')[1].split("</select>")[0]
    assert "褚再申" in choices
    # An activist without a case cannot be set back to applicant; members never apply.
    assert "曾小单" not in choices and "张三丰" not in choices
    assert stopped.status == Status.DISCONTINUED


def test_a_deadline_beyond_the_next_step_makes_the_case_overdue(world, client_as):
    """The approval is owed three months after the vote even while the upper talk before it is pending."""
    from tests.development.pipeline import applicant, drive

    drive(world, applicant(world), until="reception_vote")  # voted 2024-11-10; no talk, no approval
    html = client_as(world.users.branch_secretary).get("/development/?org=SA-B1").content.decode()
    overdue = html.split("已超期（", 1)[1].split("</section>", 1)[0]
    assert "刘小青" in overdue and "第17步 上级党委审批应于 2025-02-10 前" in overdue


def test_above_the_schools_the_board_is_one_line_per_school(world, client_as, django_assert_max_num_queries):
    """A work committee sees counts per school (and who is late from the latest check), not every case."""
    from tests.development.pipeline import applicant, drive

    drive(world, applicant(world), until="activist_designation")
    drive(world, applicant(world, "钱小二"), until="application_talk")
    client = client_as(world.users.wc_staff)
    with django_assert_max_num_queries(12):
        html = client.get("/development/?org=WC").content.decode()
    import re

    table = html.split('<table class="dev-district">', 1)[1]
    row = table.split("第一中学党委", 1)[1].split("</tr>", 1)[0]
    assert [int(n) for n in re.findall(r'class="num">(\d+)<', row)][:6] == [1, 1, 0, 0, 0, 2]
    assert "第二小学党总支" in html and "刘小青" not in html  # no case lines at district level
    assert "尚未运行检查" in html
    school = client.get("/development/?org=SA").content.decode()
    assert "刘小青" in school  # a school's board lists its people
