"""The forms a branch files (.docx) and the development roster (.xlsx): filled from the records, scoped,
audited, and the roster in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm
from openpyxl import load_workbook

from tests.factories import make_person
from zhibu.compliance.packs import effective_policy
from zhibu.core.crypto import mask_id_number, mask_phone
from zhibu.core.models import AuditEntry
from zhibu.development.documents import (
    confirmation_resolution_docx,
    cultivation_record_docx,
    load_case_records,
    publicity_notice_docx,
    reception_resolution_docx,
)
from zhibu.development.models import (
    BranchVote,
    CaseRole,
    CaseState,
    DevelopmentCase,
    DevelopmentStep,
    Stage,
    VotePurpose,
)
from zhibu.development.rosters import load_roster_cases, write_roster_xlsx
from zhibu.people.models import Education, Person, Status

D = dt.date


# Records, built with the ORM ---------------------------------------------------------------------------


def _case(person: Person, stage: str = Stage.APPLICANT, **kw: Any) -> DevelopmentCase:
    return DevelopmentCase.objects.create(person=person, stage=stage, opened_on=D(2025, 3, 1), **kw)


def _step(
    case: DevelopmentCase, code: str, day: dt.date, outcome: str = "", **details: Any
) -> DevelopmentStep:
    return DevelopmentStep.objects.create(case=case, code=code, done_on=day, outcome=outcome, details=details)


def _role(case: DevelopmentCase, role: str, person: Person, step: DevelopmentStep) -> None:
    CaseRole.objects.create(case=case, role=role, person=person, step=step, assigned_on=step.done_on)


def _vote(step: DevelopmentStep, purpose: str, **kw: Any) -> BranchVote:
    values: dict[str, Any] = {
        "entitled_count": 9,
        "present": 7,
        "written_opinions": 1,
        "in_favour": 7,
        "against": 1,
        "abstain": 0,
        "secret_ballot": True,
        "passed": True,
        "explanation": "赞成票 7 票，超过应到会有表决权党员 9 人的半数，表决通过",
    }
    values.update(kw)
    return BranchVote.objects.create(step=step, purpose=purpose, held_on=step.done_on, **values)


def _full_case(world: Any) -> DevelopmentCase:
    """The activist of SA-B1 carried to a confirmation vote, with mentors, sponsors and both votes."""
    person = world.people.activist
    person.education = Education.BACHELOR
    person.position = "语文教师"
    person.ethnicity = "回族"
    person.phone = "13912345678"
    person.save()
    case = _case(person, Stage.PROBATION, probation_ends_on=D(2027, 9, 1))
    _step(case, "application", D(2025, 3, 1))
    _step(case, "application_talk", D(2025, 3, 20), talker="李红梅")
    _step(case, "activist_designation", D(2025, 9, 5), method="league")
    mentors = _step(case, "mentor_assignment", D(2025, 9, 10), mentors=[{"id": 1, "name": "张三丰"}])
    _role(case, "mentor", world.people.member, mentors)
    _step(case, "activist_review", D(2026, 3, 2), conclusion="学习认真，表现良好")
    _step(case, "thought_report", D(2025, 12, 20))
    _step(case, "candidate_designation", D(2026, 9, 7))
    sponsors = _step(case, "sponsor_assignment", D(2026, 9, 10))
    _role(case, "sponsor", world.people.member, sponsors)
    _role(case, "sponsor", world.people.branch_secretary, sponsors)
    _step(
        case,
        "publicity",
        D(2026, 10, 22),
        starts_on="2026-10-16",
        ends_on="2026-10-22",
        workdays=5,
        objections=False,
    )
    reception = _step(case, "reception_vote", D(2026, 9, 1), "passed")
    _vote(reception, VotePurpose.RECEPTION, excluded=[{"id": 9, "name": "周九", "reason": "受留党察看处分"}])
    confirmation = _step(case, "confirmation_vote", D(2027, 9, 3), "confirm")
    _vote(
        confirmation,
        VotePurpose.CONFIRMATION,
        entitled_count=10,
        present=8,
        written_opinions=0,
        in_favour=8,
        against=0,
        abstain=0,
        explanation="赞成票 8 票，超过应到会有表决权党员 10 人的半数，同意按期转正",
    )
    return case


def _texts(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(parts)


def _runs(content: bytes) -> list[Any]:
    doc = Document(io.BytesIO(content))
    runs = [r for p in doc.paragraphs for r in p.runs]
    for table in doc.tables:
        runs.extend(r for row in table.rows for cell in row.cells for p in cell.paragraphs for r in p.runs)
    return [r for r in runs if r.text]


def _records(case: DevelopmentCase) -> Any:
    case = DevelopmentCase.objects.select_related("person__org__parent").get(pk=case.pk)
    return load_case_records(case), effective_policy(case.person.org)


# The documents ----------------------------------------------------------------------------------------


def test_cultivation_record_is_filled_from_the_records_with_the_id_number_masked(world):
    case = _full_case(world)
    records, policy = _records(case)
    content = cultivation_record_docx(records, policy)
    text = _texts(content)
    person = world.people.activist
    for expected in (
        "入党积极分子培养教育考察登记表",
        "曾小单",
        "回族",
        "1998年7月1日",
        "大学本科",
        "语文教师",
        "第一中学党委第一党支部",
        "2025年3月1日",
        "2025年3月20日",
        "李红梅",
        "2025年9月5日",
        "团组织推优",
        "张三丰",
        "2026年3月2日",
        "学习认真，表现良好",
        "2025年12月20日",
        "2026年9月7日",
        mask_id_number(person.id_number),
    ):
        assert expected in text, expected
    assert person.id_number not in text
    assert "13912345678" not in text and mask_phone(person.phone) not in text


def test_cultivation_record_prints_rows_for_the_reviews_the_policy_expects(world):
    case = _case(world.people.activist, Stage.ACTIVIST)
    records, policy = _records(case)
    doc = Document(io.BytesIO(cultivation_record_docx(records, policy)))
    # One year of cultivation at one review per half year → 2 rows; one report per quarter → 4 rows.
    reviews, reports = doc.tables[1], doc.tables[2]
    assert len(reviews.rows) == 1 + 2
    assert len(reports.rows) == 1 + 4


def test_documents_are_a4_with_chinese_fonts_on_every_run(world):
    case = _full_case(world)
    records, policy = _records(case)
    for build in (
        cultivation_record_docx,
        publicity_notice_docx,
        reception_resolution_docx,
        confirmation_resolution_docx,
    ):
        content = build(records, policy)
        section = Document(io.BytesIO(content)).sections[0]
        assert abs(section.page_width - Cm(21)) < Cm(0.01)
        assert abs(section.page_height - Cm(29.7)) < Cm(0.01)
        runs = _runs(content)
        fonts = {r._element.rPr.rFonts.get(qn("w:eastAsia")) for r in runs}
        assert fonts <= {"宋体", "黑体"}, build.__name__
        assert runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"  # the title


def test_publicity_notice_gives_the_period_and_the_sponsors(world):
    case = _full_case(world)
    text = _texts(publicity_notice_docx(*_records(case)))
    for expected in (
        "发展对象公示",
        "曾小单",
        "1998年7月",
        "2025年3月1日",
        "2025年9月5日",
        "2026年9月7日",
        "张三丰、李红梅",
        "2026年10月16日至2026年10月22日（5 个工作日）",
        "联系人",
        "经中共第一中学党委第一党支部委员会审查",
        "中共第一中学党委第一党支部",
    ):
        assert expected in text, expected
    assert "1998年7月1日" not in text  # the notice shows the birth month only


def test_publicity_notice_before_the_publicity_uses_the_policy_length(world):
    case = _case(world.people.activist, Stage.RECEPTION)
    records, policy = _records(case)
    text = _texts(publicity_notice_docx(records, policy))
    assert f"（{policy.value('publicity.workdays')}）" in text
    assert "　　年　　月　　日至　　年　　月　　日" in text


def test_reception_resolution_reports_attendance_votes_and_result(world):
    case = _full_case(world)
    text = _texts(reception_resolution_docx(*_records(case)))
    for expected in (
        "支部大会关于接收预备党员的决议",
        "2026年9月1日",
        "应到会有表决权的党员 9 人",
        "实到会有表决权的党员 7 人",
        "书面赞成意见 1 份",
        "无记名投票",
        "赞成 7 票",
        "反对 1 票",
        "弃权 0 票",
        "周九（受留党察看处分）",
        "表决通过",
        "同意接收曾小单同志为中共预备党员，预备期 1 年",
    ):
        assert expected in text, expected


def test_confirmation_resolution_gives_the_decision_and_when_membership_counts_from(world):
    case = _full_case(world)
    text = _texts(confirmation_resolution_docx(*_records(case)))
    for expected in (
        "支部大会关于预备党员转正的决议",
        "2027年9月3日",
        "应到会有表决权的党员 10 人",
        "实到会有表决权的党员 8 人",
        "赞成 8 票",
        "同意按期转正",
        "按期转正",
        "党龄自2027年9月1日",
    ):
        assert expected in text, expected


def test_confirmation_resolution_for_an_extension_names_the_months(world):
    case = _case(world.people.activist, Stage.PROBATION, probation_ends_on=D(2027, 9, 1))
    step = _step(case, "confirmation_vote", D(2027, 9, 3), "extend", extension_months=6)
    _vote(step, VotePurpose.CONFIRMATION, secret_ballot=False)
    text = _texts(confirmation_resolution_docx(*_records(case)))
    assert "延长预备期 6 个月" in text
    assert "举手" in text


def test_documents_print_blanks_for_steps_not_recorded(world):
    case = _case(world.people.activist)
    records, policy = _records(case)
    for build in (
        cultivation_record_docx,
        publicity_notice_docx,
        reception_resolution_docx,
        confirmation_resolution_docx,
    ):
        text = _texts(build(records, policy))
        assert "曾小单" in text
        assert "　　年　　月　　日" in text


# The roster -------------------------------------------------------------------------------------------


def _roster_people(world: Any, n: int) -> list[DevelopmentCase]:
    stages = list(Stage)
    cases = []
    for i in range(n):
        person = make_person(f"候选{i}", world.sa_b1, status=Status.APPLICANT, birth_date=D(1995, 1, 1 + i))
        case = _case(person, stages[i % len(stages)])
        _step(case, "application", D(2025, 3, 1))
        step = _step(case, "mentor_assignment", D(2025, 9, 10))
        _role(case, "mentor", world.people.member, step)
        cases.append(case)
    return cases


def _roster(qs: Any, next_steps: Any = None) -> Any:
    buffer = io.BytesIO()
    counts = write_roster_xlsx(load_roster_cases(qs), buffer, on=D(2026, 11, 23), next_steps=next_steps)
    return counts, load_workbook(io.BytesIO(buffer.getvalue()))


def test_roster_has_a_sheet_per_stage_with_open_cases_and_no_id_numbers(world):
    case = _full_case(world)
    _case(world.people.b2, Stage.ACTIVIST, state=CaseState.DISCONTINUED)
    counts, wb = _roster(
        DevelopmentCase.objects.all(), next_steps={case.pk: ("第25步 材料归档", D(2027, 12, 1))}
    )
    assert wb.sheetnames == [s.label for s in Stage]
    assert counts == {"applicant": 0, "activist": 0, "candidate": 0, "reception": 0, "probation": 1}
    ws = wb["预备党员的教育考察和转正"]
    assert ws.freeze_panes == "A2"
    assert ws["A1"].font.bold
    assert ws.column_dimensions["G"].width == 26
    header = [c.value for c in ws[1]]
    row = dict(zip(header, (c.value for c in ws[2]), strict=True))
    assert row["姓名"] == "曾小单"
    assert row["年龄"] == 28
    assert row["所在支部"] == "第一中学党委第一党支部"
    assert row["培养联系人"] == "张三丰"
    assert row["入党介绍人"] == "张三丰、李红梅"
    assert row["接收预备党员支部大会日期"].date() == D(2026, 9, 1)
    assert row["预备期满日期"].date() == D(2027, 9, 1)
    assert row["下一步"] == "第25步 材料归档"
    assert row["下一步最迟日期"].date() == D(2027, 12, 1)
    assert ws.max_row == 2  # the discontinued case is not listed
    values = [str(c.value) for sheet in wb for r in sheet.iter_rows() for c in r]
    assert not any(world.people.activist.id_number in v for v in values)


def test_roster_costs_the_same_queries_for_one_case_as_for_five(world):
    _roster_people(world, 1)
    with CaptureQueriesContext(connection) as one:
        _roster(DevelopmentCase.objects.all())
    _roster_people(world, 4)
    with CaptureQueriesContext(connection) as five:
        counts, _ = _roster(DevelopmentCase.objects.all())
    assert sum(counts.values()) == 5
    assert len(one) == len(five) == 3


# The views --------------------------------------------------------------------------------------------

DOCS = ("doc_cultivation", "doc_publicity", "doc_reception", "doc_confirmation")


@pytest.mark.parametrize("name", DOCS)
def test_branch_secretary_downloads_each_document_and_the_download_is_audited(world, client_as, name):
    case = _full_case(world)
    response = client_as(world.users.branch_secretary).get(reverse(f"development:{name}", args=[case.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessing")
    assert "filename*=utf-8''" in response["Content-Disposition"].lower()
    assert "%E6%9B%BE%E5%B0%8F%E5%8D%95" in response["Content-Disposition"]  # 曾小单
    assert "曾小单" in _texts(response.content)
    entry = AuditEntry.objects.get(action="export", object_id=str(case.pk))
    assert entry.object_type == "development.developmentcase"
    assert entry.actor == world.users.branch_secretary
    assert "曾小单" in entry.note
    assert entry.org_path == world.sa_b1.path


@pytest.mark.parametrize("name", DOCS)
def test_user_of_another_school_gets_404_and_nothing_is_audited(world, client_as, name):
    case = _full_case(world)
    response = client_as(world.users.outsider).get(reverse(f"development:{name}", args=[case.pk]))
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="export").exists()


def test_a_member_cannot_read_a_colleagues_documents(world, client_as):
    case = _full_case(world)
    response = client_as(world.users.member).get(reverse("development:doc_cultivation", args=[case.pk]))
    assert response.status_code == 404


def test_documents_need_a_login(world, client):
    case = _full_case(world)
    response = client.get(reverse("development:doc_cultivation", args=[case.pk]))
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("name", "what"), [("doc_reception", "接收预备党员"), ("doc_confirmation", "预备党员转正")]
)
def test_resolution_is_refused_until_the_vote_is_recorded(world, client_as, name, what):
    case = _case(world.people.activist, Stage.RECEPTION)
    response = client_as(world.users.branch_secretary).get(reverse(f"development:{name}", args=[case.pk]))
    assert response.status_code == 409
    page = response.content.decode()
    assert "曾小单" in page and what in page and "请先在流程中记录表决" in page
    assert not AuditEntry.objects.filter(action="export").exists()


def test_roster_download_is_scoped_and_audited(world, client_as):
    _full_case(world)
    url = reverse("development:roster")
    secretary = client_as(world.users.school_secretary)
    response = secretary.get(url, {"org": "SA"})
    assert response.status_code == 200
    assert "filename*=utf-8''" in response["Content-Disposition"].lower()
    wb = load_workbook(io.BytesIO(response.content))
    assert wb["预备党员的教育考察和转正"]["A2"].value == "曾小单"
    entry = AuditEntry.objects.get(action="export")
    assert entry.object_type == "orgs.organization"
    assert "1 人" in entry.note


@pytest.mark.parametrize(("user", "org"), [("outsider", "SA"), ("member", "SA-B1"), ("school_secretary", "")])
def test_roster_refuses_orgs_outside_the_viewers_scope(world, client_as, user, org):
    response = client_as(getattr(world.users, user)).get(reverse("development:roster"), {"org": org})
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="export").exists()


def test_roster_page_costs_the_same_queries_for_one_case_as_for_five(world, client_as):
    url = reverse("development:roster")
    client = client_as(world.users.school_secretary)
    _roster_people(world, 1)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url, {"org": "SA"}).status_code == 200
    _roster_people(world, 4)
    with CaptureQueriesContext(connection) as five:
        assert client.get(url, {"org": "SA"}).status_code == 200
    assert len(one) == len(five)
