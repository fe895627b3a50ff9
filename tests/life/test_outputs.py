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
from zhibu.life.ledger import (
    kind_text,
    ledger_html,
    ledger_pdf,
    ledger_rows,
    ledger_xlsx,
    section_total,
)
from zhibu.life.models import (
    Attendance,
    AttendanceState,
    Criticism,
    Meeting,
    MeetingKind,
    MeetingState,
    Rectification,
    Talk,
    TalkRelation,
    Vote,
    VoteChoice,
)
from zhibu.life.talks import criticism_add, rectification_add, rectification_done, talk_record
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


def _runs_fonts(content: bytes) -> set[str | None]:
    doc = Document(io.BytesIO(content))
    runs = [r for p in doc.paragraphs for r in p.runs]
    for table in doc.tables:
        runs.extend(r for row in table.rows for c in row.cells for p in c.paragraphs for r in p.runs)
    return {r._element.rPr.rFonts.get(qn("w:eastAsia")) for r in runs if r.text}


def test_a_votes_record_costs_the_same_queries_for_one_vote_as_for_four(world):
    meeting = held_assembly(world, secret=False)
    with CaptureQueriesContext(connection) as one:
        meeting_minutes_docx(_load(meeting))
    for i in range(3):
        Vote.objects.create(
            meeting=meeting, title=f"第{i + 2}项", secret=bool(i % 2), rule="general_assembly"
        )
    with CaptureQueriesContext(connection) as four:
        text = _texts(meeting_minutes_docx(_load(meeting)))
    assert "第4项" in text
    assert len(one) == len(four)


def held_life_meeting(world: Any) -> Meeting:
    """The first branch's life meeting, as the services record it: an opinion and a talk before it, each
    secretary's self-criticism, one criticism of the branch secretary, and two rectification items."""
    sec, people = world.users.branch_secretary, world.people
    meeting = services.meeting_create(
        **_as(sec),
        org=world.sa_b1,
        kind=MeetingKind.LIFE_MEETING,
        title="2025年度组织生活会",
        starts_at=START,
        topics="对照检查",
        now=BEFORE,
    )
    criticism_add(
        **_as(sec),
        meeting=meeting,
        kind="opinion",
        text="希望支部多组织教学研讨",
        speaker=people.member,
        about=people.branch_secretary,
        now=BEFORE,
    )
    talk_record(
        **_as(sec),
        org=world.sa_b1,
        held_on=dt.date(2025, 3, 12),
        person_a=people.branch_secretary,
        person_b=people.member,
        topic="听取对支部工作的意见",
        summary="谈到家中老人住院，需要照顾",
        before_life_meeting=meeting,
        today=dt.date(2025, 3, 12),
    )
    criticism_add(
        **_as(sec),
        meeting=meeting,
        kind="self",
        text="理论学习不够系统",
        speaker=people.branch_secretary,
        now=DURING,
    )
    criticism_add(
        **_as(sec),
        meeting=meeting,
        kind="self",
        text="联系青年教师不够",
        speaker=people.school_secretary,
        now=DURING,
    )
    criticism_add(
        **_as(sec),
        meeting=meeting,
        kind="mutual",
        text="布置工作时听取意见不够",
        speaker=people.school_secretary,
        about=people.branch_secretary,
        now=DURING,
    )
    done = rectification_add(
        **_as(sec),
        meeting=meeting,
        item="制定支部年度学习计划",
        owner=people.branch_secretary,
        due_on=dt.date(2025, 4, 30),
        now=DURING,
    )
    rectification_done(
        **_as(sec),
        rectification=done,
        done_on=dt.date(2025, 4, 20),
        evidence="计划已印发",
        today=dt.date(2025, 4, 20),
    )
    rectification_add(
        **_as(sec),
        meeting=meeting,
        item="每月联系两名青年教师",
        owner=people.school_secretary,
        due_on=dt.date(2025, 6, 30),
        now=DURING,
    )
    return meeting


def test_a_life_meetings_record_gives_preparation_criticism_and_rectification(world):
    meeting = held_life_meeting(world)
    content = meeting_minutes_docx(_load(meeting), today=dt.date(2025, 7, 1))
    text = _texts(content)
    for expected in (
        "三、会前准备",
        "（一）会前征求的意见（1 条）",
        "希望支部多组织教学研讨",
        "（二）会前谈心谈话（1 次）",
        "2025年3月12日 李红梅—张三丰（支委与党员）：听取对支部工作的意见",
        "五、批评与自我批评",
        "未作自我批评：张三丰。",
        "自我批评：理论学习不够系统",
        "自我批评：联系青年教师不够",
        "王建国 提出的批评：布置工作时听取意见不够",
        "八、整改事项",
        "制定支部年度学习计划",
        "2025年4月30日",
        "已于2025年4月20日完成：计划已印发",
        "每月联系两名青年教师",
        "已逾期，未完成",
        "九、附件",
    ):
        assert expected in text, expected
    # The record goes to everyone who oversees the branch: a talk's private summary is never on it.
    assert "老人住院" not in text
    table = Document(io.BytesIO(content)).tables[-1]
    assert [c.text for c in table.rows[0].cells] == ["序号", "整改事项", "责任人", "完成时限", "完成情况"]
    assert [c.text for c in table.rows[2].cells][:3] == ["2", "每月联系两名青年教师", "王建国"]
    assert _runs_fonts(content) == {"宋体", "黑体"}


def test_a_life_meeting_before_its_time_limit_is_not_overdue(world):
    meeting = held_life_meeting(world)
    text = _texts(meeting_minutes_docx(_load(meeting), today=dt.date(2025, 6, 1)))
    assert "已逾期" not in text and "未完成" in text


@pytest.mark.parametrize(
    ("kind", "also"),
    [
        (MeetingKind.LEADERSHIP_LIFE_MEETING, []),
        (MeetingKind.GENERAL_ASSEMBLY, [MeetingKind.LIFE_MEETING]),
    ],
)
def test_a_meeting_counting_as_a_life_meeting_gets_its_sections(world, kind, also):
    members = branch_members(world)
    meeting = plain_meeting(world.sa_b1, kind, dt.date(2025, 3, 20), people=members, also=also)
    Criticism.objects.create(meeting=meeting, kind="self", speaker=members[0], text="担当不够")
    text = _texts(meeting_minutes_docx(_load(meeting)))
    assert "会前准备" in text and "未记录会前征求的意见" in text
    assert "批评与自我批评" in text and "自我批评：担当不够" in text
    assert "整改事项" in text and "未列出整改事项" in text


def test_another_meetings_record_has_no_life_meeting_sections(world):
    text = _texts(meeting_minutes_docx(_load(held_assembly(world))))
    assert "会前准备" not in text and "批评与自我批评" not in text and "整改事项" not in text
    assert "四、表决情况" in text and "六、附件" in text


def test_a_life_meetings_record_costs_the_same_queries_for_one_item_as_for_five(world):
    people = world.people
    members = branch_members(world)
    meeting = plain_meeting(world.sa_b1, MeetingKind.LIFE_MEETING, dt.date(2025, 3, 20), people=members)

    def add(numbers: range) -> None:
        for i in numbers:
            Criticism.objects.create(
                meeting=meeting,
                kind="mutual",
                speaker=members[i % 3],
                about=members[(i + 1) % 3],
                text="批评",
            )
            Criticism.objects.create(meeting=meeting, kind="opinion", text=f"意见{i}")
            Rectification.objects.create(
                meeting=meeting, item=f"整改{i}", owner=members[i % 3], due_on=dt.date(2025, 6, 1)
            )
            Talk.objects.create(
                org=world.sa_b1,
                held_on=dt.date(2025, 3, 1),
                person_a=people.branch_secretary,
                person_b=members[1 + i % 2],
                relation=TalkRelation.COMMITTEE_MEMBER,
                topic=f"谈话{i}",
                before_life_meeting=meeting,
            )

    add(range(1))
    with CaptureQueriesContext(connection) as one:
        meeting_minutes_docx(_load(meeting))
    add(range(1, 5))
    with CaptureQueriesContext(connection) as five:
        text = _texts(meeting_minutes_docx(_load(meeting)))
    assert "整改4" in text and "谈话4" in text and "意见4" in text
    assert len(one) == len(five)


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


def test_ledger_lists_study_sessions_and_leadership_life_meetings_when_held(world):
    members = branch_members(world)
    plain_meeting(world.sa_b1, MeetingKind.STUDY_SESSION, dt.date(2025, 4, 2), people=members)
    plain_meeting(world.sa, MeetingKind.LEADERSHIP_LIFE_MEETING, dt.date(2025, 12, 20), people=members[:2])
    # A theme day that was also a study session counts under both.
    plain_meeting(
        world.sa_b1, MeetingKind.THEME_DAY, dt.date(2025, 5, 15), people=members, also=["study_session"]
    )
    ledger = ledger_rows(world.sa, YEAR, today=TODAY)
    assert ledger.kinds[-2:] == ("study_session", "leadership_life_meeting")
    study = ledger.section("study_session")
    assert [m.day for m in study.meetings] == [dt.date(2025, 4, 2), dt.date(2025, 5, 15)]
    assert study.due is None and section_total(study) == "2"  # the pack sets no frequency for it
    leadership = ledger.section("leadership_life_meeting")
    assert [m.org_name for m in leadership.meetings] == ["第一中学党委"]
    by_org = {t.name: t.counts for t in ledger.orgs}
    assert by_org["第一中学党委"]["leadership_life_meeting"].held == 1  # a school committee is listed
    wb = load_workbook(io.BytesIO(ledger_xlsx(ledger)))
    assert wb.sheetnames[-2:] == ["集中学习", "民主生活会"]
    assert wb["集中学习"].max_row == 3 and wb["民主生活会"]["B2"].value == "第一中学党委"
    heads = [c.value for c in wb["汇总"][1]]
    assert "集中学习（已开/应开）" in heads and "民主生活会（已开/应开）" in heads
    html = ledger_html(ledger)
    assert "集中学习（已召开 2 次）" in html and "民主生活会（已召开 1 次）" in html


def test_ledger_leaves_out_kinds_neither_held_nor_asked(world):
    ledger = ledger_rows(world.sa, YEAR, today=TODAY)
    assert "study_session" not in ledger.kinds and "leadership_life_meeting" not in ledger.kinds
    assert "集中学习" not in load_workbook(io.BytesIO(ledger_xlsx(ledger))).sheetnames


def test_one_branchs_extra_meetings_do_not_hide_anothers_missing_one(world):
    b1, b2 = branch_members(world), [world.people.b2]
    for day in (dt.date(2025, 2, 10), dt.date(2025, 3, 10), dt.date(2025, 5, 10), dt.date(2025, 8, 10)):
        plain_meeting(world.sa_b1, MeetingKind.GENERAL_ASSEMBLY, day, people=b1)
    plain_meeting(world.sa_b1, MeetingKind.GENERAL_ASSEMBLY, dt.date(2025, 11, 10), people=b1)
    for day in (dt.date(2025, 2, 10), dt.date(2025, 5, 10), dt.date(2025, 11, 10)):  # no Q3
        plain_meeting(world.sa_b2, MeetingKind.GENERAL_ASSEMBLY, day, people=b2)
    ledger = ledger_rows(world.sa, YEAR, today=TODAY)
    by_org = {t.name: t.counts["general_assembly"] for t in ledger.orgs}
    assert (by_org["第一中学党委第一党支部"].held, by_org["第一中学党委第一党支部"].due) == (5, 4)
    assert by_org["第一中学党委第二党支部"].short == ("2025年第三季度",)
    assembly = ledger.section("general_assembly")
    assert assembly.held == 8 and assembly.due == 8  # the sum that used to read as compliance
    assert section_total(assembly) == "达标 1 / 2（共 8 次）"

    summary = load_workbook(io.BytesIO(ledger_xlsx(ledger)))["汇总"]
    rows = {r[0].value: [c.value for c in r] for r in summary.iter_rows(min_row=2)}
    assert rows["第一中学党委第二党支部"][2] == "3 / 4"
    assert rows["合计"][2] == "达标 1 / 2（共 8 次）"
    note = summary.cell(row=summary.max_row, column=1).value
    assert "不能抵补" in note and "达标 3 / 4" in note
    assert f"A{summary.max_row}" in str(summary.merged_cells)
    html = ledger_html(ledger)
    assert re.search(r"达标 1 / 2<br><span[^>]*>共 8 次</span>", html) and "不能抵补" in html
    assert "支部党员大会（已召开 8 次，达到频次要求的党组织 1 / 2）" in html
    assert "应召开 8 次" not in html


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
    totals = [c.value for c in summary[summary.max_row - 1]]
    # The total counts the orgs that met the requirement, never the branches' meetings summed.
    assert totals[:4] == ["合计", None, "达标 0 / 1（共 2 次）", "—"]
    assert totals[4] == "达标 0 / 2（共 0 次）"  # two groups
    assert summary.cell(row=summary.max_row, column=1).value.startswith("说明：")
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
