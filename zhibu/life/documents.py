"""A meeting's record (会议记录) as a Word document, filled from what the system holds about it.

The standard ledger content: the meeting's name, kind, time, place, chair and recorder; who was expected,
present, on leave (with the reason) and absent, and who sat in; for a lecture its lecturer and title; the
topics, the speakers and their points, the votes with their counts and result, the resolutions, and the
attachments by name. A secret vote prints its counts and result only, never who chose what. Something not
recorded yet prints as a blank to fill in by hand: the builder never refuses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils import timezone
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH

from zhibu.development.documents import (
    BLANK,
    DOCX,
    _fill_pairs,
    _heading,
    _new_document,
    _para,
    _table,
    _title,
    _to_bytes,
    branch_title,
    cn_date,
)
from zhibu.life import invitees as inv
from zhibu.life.ledger import EXPECTED_ROLES
from zhibu.life.models import Attendance, AttendanceState, Meeting, MeetingKind, VoteState
from zhibu.life.services import quorum_status
from zhibu.life.voting import vote_result

__all__ = ["DOCX", "meeting_minutes_docx", "minutes_filename"]


def _or_blank(text: str) -> str:
    return text or BLANK


def _names(rows: Sequence[Attendance], *, reasons: bool = False) -> str:
    if not rows:
        return "无"
    if reasons:
        return "、".join(
            f"{a.person.name}（{a.leave_reason}）" if a.leave_reason else a.person.name for a in rows
        )
    return "、".join(a.person.name for a in rows)


def _time(meeting: Meeting) -> str:
    start = timezone.localtime(meeting.starts_at)
    text = f"{cn_date(start.date())} {start:%H:%M}"
    if meeting.ends_at:
        end = timezone.localtime(meeting.ends_at)
        text += f"—{end:%H:%M}" if end.date() == start.date() else f"—{cn_date(end.date())} {end:%H:%M}"
    return text


def _kind_text(meeting: Meeting) -> str:
    text = inv.kind_label(meeting.kind)
    also = [k for k in (meeting.also_counts_as or []) if k in MeetingKind.values and k != meeting.kind]
    if also:
        text += f"（同时计为{'、'.join(inv.kind_label(k) for k in also)}）"
    return text


def _lines(doc: DocxDocument, items: Sequence[str], empty: str) -> None:
    if not items:
        _para(doc, empty)
    for i, item in enumerate(items, 1):
        _para(doc, f"{i}. {item}")


def _attendance(doc: DocxDocument, meeting: Meeting) -> None:
    rows = list(meeting.attendances.select_related("person").order_by("person__name_pinyin", "id"))
    expected = [a for a in rows if a.role in EXPECTED_ROLES]
    present = [a for a in expected if a.state == AttendanceState.PRESENT]
    excused = [a for a in expected if a.state == AttendanceState.EXCUSED]
    absent = [a for a in expected if a.state == AttendanceState.ABSENT]
    unmarked = [a for a in expected if a.state == AttendanceState.EXPECTED]
    sitting_in = [a for a in rows if a.role not in EXPECTED_ROLES and a.state == AttendanceState.PRESENT]
    pairs = [
        (f"应到 {len(expected)} 人", _names(expected)),
        (f"实到 {len(present)} 人", _names(present)),
        (f"请假 {len(excused)} 人", _names(excused, reasons=True)),
        (f"缺席 {len(absent)} 人", _names(absent)),
        (f"列席 {len(sitting_in)} 人", _names(sitting_in)),
    ]
    if unmarked:
        pairs.append((f"未登记 {len(unmarked)} 人", _names(unmarked)))
    table = _table(doc, len(pairs), 2)
    for index, pair in enumerate(pairs):
        _fill_pairs(table, index, [pair])
    status = quorum_status(meeting)
    if status.applies:
        _para(doc, f"到会情况：{status.sentence}。")


def _votes(doc: DocxDocument, meeting: Meeting) -> None:
    votes = list(meeting.votes.order_by("opened_at", "id"))
    _heading(doc, "四、表决情况")
    if not votes:
        _para(doc, "本次会议未进行表决。")
        return
    for i, vote in enumerate(votes, 1):
        result = vote_result(vote)
        how = "无记名投票" if vote.secret else "记名表决"
        _para(doc, f"{i}. 表决事项：{vote.title}（{how}）")
        _para(
            doc,
            f"应到会有表决权的人员 {result.entitled_count} 人，实到会 {result.present_count} 人，"
            f"参加表决 {result.voted_count} 人。",
        )
        if result.in_favour is None:
            _para(doc, "表决尚未结束，结果待统计。")
            continue
        counts = f"赞成 {result.in_favour} 票，反对 {result.against} 票，弃权 {result.abstain} 票"
        if result.written_opinions:
            counts += f"（赞成票含书面意见 {result.written_opinions} 份）"
        _para(doc, counts + "。")
        # An open vote is on the record by name; a secret one never is (VoteResult gives no choices).
        if not vote.secret and result.choices:
            _para(
                doc,
                "记名表决情况：" + "；".join(f"{name} {choice}" for name, choice in result.choices) + "。",
            )
        if vote.state == VoteState.CLOSED:
            _para(doc, f"表决结果：{result.explanation or ('通过' if result.passed else '未通过')}")
        else:
            _para(doc, "表决尚未结束，以上为已统计的票数。")


def meeting_minutes_docx(meeting: Meeting) -> bytes:
    """The record of one meeting (会议记录) as .docx bytes: A4, 宋体 body and 黑体 headings."""
    org = meeting.org
    doc = _new_document()
    _title(doc, f"{inv.kind_label(meeting.kind)}会议记录")
    _para(doc, f"中共{branch_title(org)}", indent=False).alignment = WD_ALIGN_PARAGRAPH.CENTER

    pairs: list[list[tuple[str, str]]] = [
        [("会议名称", meeting.title)],
        [("会议类型", _kind_text(meeting))],
        [("时间", _time(meeting))],
        [("地点", _or_blank(meeting.place))],
        [
            ("主持人", _or_blank(meeting.chair.name if meeting.chair else "")),
            ("记录人", _or_blank(meeting.recorder.name if meeting.recorder else "")),
        ],
    ]
    if inv.counts_as(meeting.kind, list(meeting.also_counts_as or ()), MeetingKind.PARTY_LECTURE):
        lecturer = meeting.lecturer.name if meeting.lecturer else meeting.lecturer_name
        pairs.append([("主讲人", _or_blank(lecturer)), ("党课题目", _or_blank(meeting.lecture_title))])
    table = _table(doc, len(pairs), 4)
    for index, row in enumerate(pairs):
        _fill_pairs(table, index, row)

    _heading(doc, "一、出席情况")
    _attendance(doc, meeting)

    minutes = meeting.minutes if isinstance(meeting.minutes, dict) else {}
    topics = [str(t) for t in minutes.get("topics") or []]
    if not topics and meeting.topics:
        topics = [line.strip() for line in meeting.topics.splitlines() if line.strip()]
    _heading(doc, "二、会议议题")
    _lines(doc, topics, f"{BLANK}{BLANK}")

    _heading(doc, "三、发言情况")
    speakers = [s for s in minutes.get("speakers") or [] if isinstance(s, dict)]
    if not speakers:
        _para(doc, f"{BLANK}{BLANK}")
    for s in speakers:
        _para(doc, f"{s.get('name', '')}：{s.get('summary', '')}")

    _votes(doc, meeting)

    _heading(doc, "五、会议决议")
    _lines(doc, [str(r) for r in minutes.get("resolutions") or []], "本次会议未形成决议。")

    attachments = list(meeting.attachments.filter(withdrawn_at__isnull=True).order_by("uploaded_at", "id"))
    _heading(doc, "六、附件")
    _lines(doc, [a.title for a in attachments], "无")

    recorded = timezone.localtime(meeting.minutes_recorded_at).date() if meeting.minutes_recorded_at else None
    doc.add_paragraph()
    _para(doc, f"主持人（签字）：{BLANK}　　记录人（签字）：{BLANK}", right=True)
    _para(doc, f"记录日期：{cn_date(recorded)}", right=True)
    return _to_bytes(doc)


def minutes_filename(meeting: Meeting) -> str:
    """会议记录-第四季度支部党员大会-20261210.docx"""
    day: dt.date = timezone.localtime(meeting.starts_at).date()
    return f"会议记录-{meeting.title}-{day:%Y%m%d}.docx"
