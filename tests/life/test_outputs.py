"""The outputs of organisational life: a meeting's record as Word, the year's 三会一课 ledger as data, as a
workbook and as a PDF that prints Chinese; downloads scoped to those who oversee the org, and audited."""

from __future__ import annotations

import datetime as dt
import io
import re
import time
import zlib
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm
from openpyxl import load_workbook

from tests.factories import make_post
from zhibu.compliance.models import PolicyOverride
from zhibu.core.models import AuditEntry
from zhibu.core.scoping import scope_for
from zhibu.life import services
from zhibu.life.documents import meeting_minutes_docx
from zhibu.life.ledger import kind_text, ledger_pdf, ledger_rows, ledger_xlsx
from zhibu.life.models import (
    Attendance,
    AttendanceState,
    Meeting,
    MeetingKind,
    MeetingState,
    VoteChoice,
)
from zhibu.life.voting import ballot_cast, vote_close, vote_open
from zhibu.orgs.models import Organization

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
YEAR = 2025
TODAY = dt.date(2026, 1, 10)  # the 2025 ledger, every period of it closed
START = dt.datetime(2025, 3, 20, 15, 0, tzinfo=TZ)
BEFORE = dt.datetime(2025, 3, 10, 9, 0, tzinfo=TZ)
DURING = START + dt.timedelta(minutes=30)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _as(user: Any) -> dict[str, Any]:
    return {"actor": user, "scope": scope_for(user)}


def _texts(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(parts)


def _load(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_related("org__parent", "chair", "recorder", "lecturer").get(pk=meeting.pk)


def held_assembly(world: Any, *, secret: bool = True) -> Meeting:
    """The first branch's Q1 assembly, as the services record it: 张三丰 on leave (外出培训), the two
    secretaries present, minutes, a photo, and a vote both present voters carried."""
    sec = world.users.branch_secretary
    people = world.people
    meeting = services.meeting_create(
        **_as(sec),
        org=world.sa_b1,
        kind=MeetingKind.GENERAL_ASSEMBLY,
        title="第一季度支部党员大会",
        starts_at=START,
        ends_at=START + dt.timedelta(hours=2),
        place="行政楼三楼会议室",
        topics="学习传达上级会议精神",
        chair=people.branch_secretary,
        recorder=people.school_secretary,
        now=BEFORE,
    )
    services.leave_request(actor=world.users.member, meeting=meeting, reason="外出培训", now=BEFORE)
    row = Attendance.objects.get(meeting=meeting, person=people.member)
    services.leave_decide(**_as(sec), attendance=row, approve=True)
    services.attendance_mark(
        **_as(sec),
        meeting=meeting,
        states={
            people.branch_secretary.pk: AttendanceState.PRESENT,
            people.school_secretary.pk: AttendanceState.PRESENT,
        },
        now=DURING,
    )
    services.minutes_record(
        **_as(sec),
        meeting=meeting,
        topics=["学习传达上级会议精神", "讨论第二季度工作安排"],
        speakers=[{"person_id": people.school_secretary.pk, "summary": "要把学习成果落实到教学中"}],
        resolutions=["第二季度开展一次主题党日"],
        now=DURING,
    )
    services.attachment_add(
        **_as(sec), meeting=meeting, file=SimpleUploadedFile("x.png", PNG), title="会议照片"
    )
    vote = vote_open(**_as(sec), meeting=meeting, title="关于推选优秀党员的决定", secret=secret)
    for user in (world.users.branch_secretary, world.users.school_secretary):
        ballot_cast(actor=user, vote=vote, choice=VoteChoice.IN_FAVOUR)
    vote_close(**_as(sec), vote=vote)
    services.meeting_hold(**_as(sec), meeting=meeting, now=DURING + dt.timedelta(hours=2))
    return meeting


def plain_meeting(
    org: Organization,
    kind: str,
    day: dt.date,
    *,
    people: list[Any] = (),  # type: ignore[assignment]
    present: int | None = None,
    state: str = MeetingState.HELD,
    also: list[str] | None = None,
    recorded: bool = True,
) -> Meeting:
    """A meeting written straight to the tables: the first `present` invitees present, the rest absent."""
    starts = dt.datetime.combine(day, dt.time(15, 0), tzinfo=TZ)
    meeting = Meeting.objects.create(
        org=org,
        kind=kind,
        title=f"{day:%m月%d日}{MeetingKind(kind).label}",
        starts_at=starts,
        state=state,
        also_counts_as=also or [],
        minutes={"topics": ["学习"], "speakers": [], "resolutions": []} if recorded else {},
        minutes_recorded_at=starts if recorded else None,
    )
    n = len(people) if present is None else present
    Attendance.objects.bulk_create(
        Attendance(
            meeting=meeting,
            person=p,
            role="member",
            state=AttendanceState.PRESENT if i < n else AttendanceState.ABSENT,
        )
        for i, p in enumerate(people)
    )
    return meeting


def branch_members(world: Any) -> list[Any]:
    p = world.people
    return [p.branch_secretary, p.school_secretary, p.member]


# The record of a meeting -------------------------------------------------------------------------------


def test_minutes_give_attendance_with_leave_reasons_the_vote_and_the_resolutions(world):
    meeting = held_assembly(world)
    text = _texts(meeting_minutes_docx(_load(meeting)))
    for expected in (
        "支部党员大会会议记录",
        "中共第一中学党委第一党支部",
        "第一季度支部党员大会",
        "2025年3月20日 15:00—17:00",
        "行政楼三楼会议室",
        "应到 3 人",
        "实到 2 人",
        "请假 1 人",
        "张三丰（外出培训）",
        "缺席 0 人",
        "有表决权的党员应到 3 人，实到 2 人",
        "讨论第二季度工作安排",
        "王建国：要把学习成果落实到教学中",
        "表决事项：关于推选优秀党员的决定（无记名投票）",
        "应到会有表决权的人员 3 人，实到会 2 人",
        "赞成 2 票，反对 0 票，弃权 0 票",
        "第二季度开展一次主题党日",
        "会议照片",
    ):
        assert expected in text, expected
    particulars = Document(io.BytesIO(meeting_minutes_docx(_load(meeting)))).tables[0]
    assert [c.text for c in particulars.rows[4].cells] == ["主持人", "李红梅", "记录人", "王建国"]
    assert "表决结果：" in text and "通过" in text
    # A secret ballot names nobody's choice.
    assert "记名表决情况" not in text and "李红梅 赞成" not in text


def test_an_open_vote_lists_who_voted_what(world):
    meeting = held_assembly(world, secret=False)
    text = _texts(meeting_minutes_docx(_load(meeting)))
    assert "（记名表决）" in text
    assert "记名表决情况：" in text and "李红梅 赞成" in text and "王建国 赞成" in text


def test_a_lecture_gives_its_lecturer_title_and_those_who_sat_in(world):
    sec = world.users.branch_secretary
    meeting = services.meeting_create(
        **_as(sec),
        org=world.sa_b1,
        kind=MeetingKind.PARTY_LECTURE,
        title="第一季度党课",
        starts_at=START,
        lecturer=world.people.branch_secretary,
        lecture_title="新时代教师的初心使命",
        include_activists=True,
        now=BEFORE,
    )
    services.attendance_mark(
        **_as(sec),
        meeting=meeting,
        states={world.people.activist.pk: AttendanceState.PRESENT, world.people.member.pk: "absent"},
        now=DURING,
    )
    text = _texts(meeting_minutes_docx(_load(meeting)))
    assert "党课会议记录" in text
    assert "李红梅" in text and "新时代教师的初心使命" in text
    assert "列席 1 人" in text and "曾小单" in text
    assert "缺席 1 人" in text and "未登记 2 人" in text  # the two secretaries not marked yet
    assert "本次会议未进行表决" in text


def test_minutes_are_a4_with_east_asian_fonts_on_every_run(world):
    content = meeting_minutes_docx(_load(held_assembly(world)))
    doc = Document(io.BytesIO(content))
    section = doc.sections[0]
    assert abs(section.page_width - Cm(21)) < Cm(0.01)
    assert abs(section.page_height - Cm(29.7)) < Cm(0.01)
    runs = [r for p in doc.paragraphs for r in p.runs]
    for table in doc.tables:
        runs.extend(r for row in table.rows for c in row.cells for p in c.paragraphs for r in p.runs)
    runs = [r for r in runs if r.text]
    fonts = {r._element.rPr.rFonts.get(qn("w:eastAsia")) for r in runs}
    assert fonts == {"宋体", "黑体"}
    assert runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"


# The ledger's data -------------------------------------------------------------------------------------


def test_ledger_lists_held_meetings_per_kind_against_what_the_policy_asks(world):
    members = branch_members(world)
    plain_meeting(world.sa_b1, MeetingKind.GENERAL_ASSEMBLY, dt.date(2025, 2, 10), people=members, present=2)
    # A theme day that held the second quarter's assembly counts for both.
    plain_meeting(
        world.sa_b1,
        MeetingKind.THEME_DAY,
        dt.date(2025, 5, 15),
        people=members,
        also=[MeetingKind.GENERAL_ASSEMBLY],
        recorded=False,
    )
    plain_meeting(
        world.sa_b1_g1, MeetingKind.GROUP_MEETING, dt.date(2025, 1, 8), people=[world.people.member]
    )
    # Not in the ledger: planned, cancelled, another year, another branch.
    plain_meeting(world.sa_b1, MeetingKind.GENERAL_ASSEMBLY, dt.date(2025, 8, 1), state=MeetingState.PLANNED)
    plain_meeting(world.sa_b1, MeetingKind.PARTY_LECTURE, dt.date(2025, 9, 1), state=MeetingState.CANCELLED)
    plain_meeting(world.sa_b1, MeetingKind.GENERAL_ASSEMBLY, dt.date(2024, 12, 31))
    plain_meeting(world.sa_b2, MeetingKind.GENERAL_ASSEMBLY, dt.date(2025, 2, 10))

    ledger = ledger_rows(world.sa_b1, YEAR, today=TODAY)
    assert [s.kind for s in ledger.sections] == [
        "general_assembly",
        "committee_meeting",
        "group_meeting",
        "party_lecture",
        "theme_day",
        "life_meeting",
    ]
    assembly = ledger.section("general_assembly")
    assert [m.day for m in assembly.meetings] == [dt.date(2025, 2, 10), dt.date(2025, 5, 15)]
    first = assembly.meetings[0]
    assert (first.invited, first.present, first.absent) == (3, 2, 1)
    assert first.rate == pytest.approx(2 / 3) and first.minutes_recorded
    assert not assembly.meetings[1].minutes_recorded
    assert kind_text(assembly.meetings[1]) == "主题党日（同时计为支部党员大会）"
    assert assembly.due == 4  # one a quarter, the branch only
    assert ledger.section("theme_day").held == 1 and ledger.section("theme_day").due == 12
    assert ledger.section("group_meeting").due == 24  # two groups, one a month each
    assert ledger.section("life_meeting").due == 1

    by_org = {t.name: t for t in ledger.orgs}
    assert set(by_org) == {"第一中学党委第一党支部", "第一党支部第一党小组", "第一党支部第二党小组"}
    branch = by_org["第一中学党委第一党支部"].counts
    assert (branch["general_assembly"].held, branch["general_assembly"].due) == (2, 4)
    assert branch["general_assembly"].short == ("2025年第三季度", "2025年第四季度")
    # A branch with only a secretary has no committee: nothing is asked of it.
    committee = branch["committee_meeting"]
    assert committee.due is None and "支部委员会委员人数" in committee.note
    assert branch["group_meeting"].due is None
    group = by_org["第一党支部第一党小组"].counts["group_meeting"]
    assert (group.held, group.due, len(group.short)) == (1, 12, 11)


def test_ledger_takes_the_frequency_from_the_orgs_effective_policy(world):
    make_post(world.sa_b1, world.people.school_secretary, "organization_officer")  # a real committee
    PolicyOverride.objects.create(
        org=world.sa, key="general_assembly.period", value={"count": 1, "per": "month", "every": 2}
    )
    counts = {t.name: t.counts for t in ledger_rows(world.sa_b1, YEAR, today=TODAY).orgs}
    branch = counts["第一中学党委第一党支部"]
    assert branch["general_assembly"].due == 6 and branch["general_assembly"].frequency == "每 2 个月 1 次"
    assert branch["committee_meeting"].due == 12


def test_the_current_year_counts_only_ended_periods_as_short(world):
    counts = {t.name: t.counts for t in ledger_rows(world.sa_b1, YEAR, today=dt.date(2025, 5, 1)).orgs}
    assert counts["第一中学党委第一党支部"]["general_assembly"].short == ("2025年第一季度",)


def test_ledger_costs_the_same_queries_for_two_meetings_as_for_ten(world):
    members = branch_members(world)
    for month in (1, 2):
        plain_meeting(world.sa_b1, MeetingKind.THEME_DAY, dt.date(2025, month, 15), people=members)
    with CaptureQueriesContext(connection) as two:
        assert sum(s.held for s in ledger_rows(world.sa, YEAR, today=TODAY).sections) == 2
    for month in range(3, 11):
        plain_meeting(world.sa_b2, MeetingKind.THEME_DAY, dt.date(2025, month, 15), people=[world.people.b2])
    make_post(world.sa_b2, world.people.b2, "secretary")
    with CaptureQueriesContext(connection) as ten:
        assert sum(s.held for s in ledger_rows(world.sa, YEAR, today=TODAY).sections) == 10
    assert len(two) == len(ten)


# The workbook and the PDF -------------------------------------------------------------------------------


def test_workbook_has_a_summary_and_a_sheet_per_kind_with_rates(world):
    members = branch_members(world)
    plain_meeting(world.sa_b1, MeetingKind.GENERAL_ASSEMBLY, dt.date(2025, 2, 10), people=members, present=2)
    plain_meeting(world.sa_b1, MeetingKind.GENERAL_ASSEMBLY, dt.date(2025, 5, 10), people=members)
    wb = load_workbook(io.BytesIO(ledger_xlsx(ledger_rows(world.sa_b1, YEAR, today=TODAY))))
    kinds = ["支部党员大会", "支部委员会会议", "党小组会", "党课", "主题党日", "组织生活会"]
    assert wb.sheetnames == ["汇总", *kinds]
    summary = wb["汇总"]
    assert summary.freeze_panes == "A2" and summary["A1"].font.bold
    assert summary["A2"].value == "第一中学党委第一党支部"
    assert summary["C2"].value == "2 / 4"  # 支部党员大会
    assert summary["D2"].value == "—"  # no committee
    assert summary["I2"].value == pytest.approx((2 / 3 + 1) / 2)
    assert summary["J2"].value.startswith("支部党员大会：第三季度、第四季度；党课：第一季度")
    totals = [c.value for c in summary[summary.max_row]]
    assert totals[:4] == ["合计", None, "2 / 4", "—"] and totals[4] == "0 / 24"  # two groups
    sheet = wb["支部党员大会"]
    assert sheet.freeze_panes == "A2" and sheet.column_dimensions["E"].width == 40
    assert [c.value for c in sheet[1]][:3] == ["日期", "党组织", "会议名称"]
    assert sheet["B2"].value == "第一中学党委第一党支部"
    assert (sheet["H2"].value, sheet["I2"].value, sheet["K2"].value) == (3, 2, 1)
    assert sheet["M2"].value == pytest.approx(2 / 3) and sheet["M2"].number_format == "0.0%"
    assert sheet["N2"].value == "是"
    assert sheet.max_row == 3


def _inflated(pdf: bytes) -> bytes:
    """Every compressed stream of a PDF, inflated (the font names and ToUnicode maps live there)."""
    out = []
    for match in re.finditer(rb"stream\r?\n", pdf):
        try:
            out.append(zlib.decompressobj().decompress(pdf[match.end() :]))
        except zlib.error:
            continue
    return b"\n".join(out)


def test_pdf_embeds_a_cjk_font_and_maps_chinese_glyphs_quickly(world):
    members = branch_members(world)
    for month in range(1, 13):
        plain_meeting(world.sa_b1, MeetingKind.THEME_DAY, dt.date(2025, month, 15), people=members)
        plain_meeting(world.sa_b1_g1, MeetingKind.GROUP_MEETING, dt.date(2025, month, 8), people=members[2:])
    for month in (2, 5, 8, 11):
        plain_meeting(world.sa_b1, MeetingKind.GENERAL_ASSEMBLY, dt.date(2025, month, 10), people=members)
    ledger = ledger_rows(world.sa_b1, YEAR, today=TODAY)
    import weasyprint  # noqa: F401  # loading the library once per process is not the page's cost

    # CPU time, not wall time: other processes on a busy machine do not make this test flaky, while a
    # missing libharfbuzz-subset0 (7–14 s of font subsetting per page) still fails it.
    began = time.process_time()
    pdf = ledger_pdf(ledger)
    assert time.process_time() - began < 5
    assert pdf.startswith(b"%PDF")
    inner = _inflated(pdf)
    assert re.search(rb"/FontName\s*/[A-Z]{6}\+Noto-?Sans-?CJK", inner), "the CJK font is not embedded"
    # The glyphs map back to Chinese characters (台 U+53F0, 党 U+515A): they are drawn, not boxes.
    cmaps = b"".join(re.findall(rb"begincmap.*?endcmap", inner, re.S)).upper()
    assert b"<53F0>" in cmaps and b"<515A>" in cmaps


# The downloads -----------------------------------------------------------------------------------------


def test_secretary_downloads_the_minutes_and_the_download_is_audited(world, client_as):
    meeting = held_assembly(world)
    response = client_as(world.users.branch_secretary).get(reverse("life:minutes_docx", args=[meeting.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessing")
    disposition = response["Content-Disposition"]
    assert "filename*=utf-8''" in disposition.lower()
    assert "%E4%BC%9A%E8%AE%AE%E8%AE%B0%E5%BD%95" in disposition  # 会议记录
    assert "张三丰（外出培训）" in _texts(response.content)
    entry = AuditEntry.objects.get(action="export")
    assert entry.object_type == "life.meeting" and entry.object_id == str(meeting.pk)
    assert entry.actor == world.users.branch_secretary and entry.org_path == world.sa_b1.path
    assert "第一季度支部党员大会" in entry.note


@pytest.mark.parametrize("user", ["member", "outsider", "activist"])
def test_minutes_are_not_given_to_members_or_other_schools(world, client_as, user):
    meeting = plain_meeting(world.sa_b1, MeetingKind.GENERAL_ASSEMBLY, dt.date(2025, 2, 10), people=[])
    Attendance.objects.create(meeting=meeting, person=world.people.member, role="member")
    response = client_as(getattr(world.users, user)).get(reverse("life:minutes_docx", args=[meeting.pk]))
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="export").exists()


def test_a_missing_meeting_is_404(world, client_as):
    response = client_as(world.users.wc_staff).get(reverse("life:minutes_docx", args=[999999]))
    assert response.status_code == 404


@pytest.mark.parametrize(("name", "magic"), [("life:ledger_xlsx", b"PK"), ("life:ledger_pdf", b"%PDF")])
def test_school_secretary_downloads_the_ledger_and_it_is_audited(world, client_as, name, magic):
    plain_meeting(
        world.sa_b1, MeetingKind.GENERAL_ASSEMBLY, dt.date(2025, 2, 10), people=branch_members(world)
    )
    response = client_as(world.users.school_secretary).get(reverse(name), {"org": "SA", "year": "2025"})
    assert response.status_code == 200
    assert response.content.startswith(magic)
    disposition = response["Content-Disposition"]
    assert "filename*=utf-8''" in disposition.lower()
    assert "%E5%8F%B0%E8%B4%A6" in disposition  # 台账
    entry = AuditEntry.objects.get(action="export")
    assert entry.object_type == "orgs.organization" and entry.object_id == str(world.sa.pk)
    assert "2025年" in entry.note and "会议 1 次" in entry.note


@pytest.mark.parametrize("name", ["life:ledger_xlsx", "life:ledger_pdf"])
@pytest.mark.parametrize(
    ("user", "params"),
    [
        ("outsider", {"org": "SA", "year": "2025"}),
        ("member", {"org": "SA-B1", "year": "2025"}),
        ("branch_secretary", {"org": "SA", "year": "2025"}),  # above their branch
        ("school_secretary", {"year": "2025"}),
        ("school_secretary", {"org": "SA", "year": "1999"}),
        ("school_secretary", {"org": "SA", "year": "明年"}),
    ],
)
def test_ledger_is_refused_outside_the_viewers_scope_or_for_a_bad_year(world, client_as, name, user, params):
    response = client_as(getattr(world.users, user)).get(reverse(name), params)
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="export").exists()


def test_downloads_need_a_login(world, client):
    assert client.get(reverse("life:ledger_xlsx"), {"org": "SA"}).status_code == 302
    assert client.get(reverse("life:minutes_docx", args=[1])).status_code == 302
