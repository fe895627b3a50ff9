"""A meeting's record (会议记录) as a Word document, filled from what the system holds about it.

The standard ledger content: the meeting's name, kind, time, place, chair and recorder; who was expected,
present, on leave (with the reason) and absent, and who sat in; for a lecture its lecturer and title; the
topics, the speakers and their points, the votes with their counts and result, the resolutions, and the
attachments by name. A secret vote prints its counts and result only, never who chose what. Something not
recorded yet prints as a blank to fill in by hand: the builder never refuses.

A life meeting (组织生活会, 民主生活会, or a meeting that also counts as one) adds its own content: the
preparation (opinions gathered, talks held before it), each person's self-criticism and the criticism
others made of them, and the rectification items with owner, time limit and state. The record goes to
those who oversee the org, not only to the branch's managers, so it prints what the life meeting page
shows to everyone who may open it: an opinion's text without who gave it or whom it is about, and a talk's
date, people, relation and topic without its summary (private to the two and the branch's managers).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH

from zhibu.development.documents import (
    BLANK,
    DOCX,
    _cell,
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
from zhibu.life.models import (
    Attendance,
    AttendanceState,
    Criticism,
    CriticismKind,
    Meeting,
    MeetingKind,
    Rectification,
    Talk,
    VoteState,
)
from zhibu.life.services import quorum_status
from zhibu.life.voting import vote_results

__all__ = ["DOCX", "meeting_minutes_docx", "minutes_filename"]

LIFE_KINDS = (MeetingKind.LIFE_MEETING, MeetingKind.LEADERSHIP_LIFE_MEETING)
_NUMERALS = "一二三四五六七八九十"


class _Headings:
    """Numbered headings (一、二、…): a life meeting's record has more sections than another's."""

    def __init__(self, doc: DocxDocument) -> None:
        self.doc = doc
        self.count = 0

    def __call__(self, text: str) -> None:
        self.count += 1
        _heading(self.doc, f"{_NUMERALS[self.count - 1]}、{text}")


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


def _attendance(doc: DocxDocument, meeting: Meeting, rows: Sequence[Attendance]) -> None:
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


def _votes(doc: DocxDocument, meeting: Meeting, heading: _Headings) -> None:
    votes = list(meeting.votes.order_by("opened_at", "id"))
    heading("表决情况")
    if not votes:
        _para(doc, "本次会议未进行表决。")
        return
    results = vote_results(votes)
    for i, vote in enumerate(votes, 1):
        result = results[vote.pk]
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


def counts_as_life_meeting(meeting: Meeting) -> bool:
    """组织生活会 or 民主生活会, as its own kind or as one it also counts as."""
    return any(inv.counts_as(meeting.kind, list(meeting.also_counts_as or ()), kind) for kind in LIFE_KINDS)


@dataclass(frozen=True)
class _LifeRecord:
    opinions: list[Criticism]
    talks: list[Talk]
    criticisms: list[Criticism]  # self and mutual, in the order recorded
    rectifications: list[Rectification]


def _life_record(meeting: Meeting) -> _LifeRecord:
    """A life meeting's own content, in three queries whatever its size."""
    criticisms = list(
        Criticism.objects.filter(meeting=meeting)
        .select_related("speaker", "about")
        .order_by("created_at", "id")
    )
    talks = list(
        Talk.objects.filter(before_life_meeting=meeting)
        .select_related("person_a", "person_b")
        .order_by("held_on", "id")
    )
    rectifications = list(
        Rectification.objects.filter(meeting=meeting).select_related("owner").order_by("due_on", "id")
    )
    return _LifeRecord(
        opinions=[c for c in criticisms if c.kind == CriticismKind.OPINION],
        talks=talks,
        criticisms=[c for c in criticisms if c.kind != CriticismKind.OPINION],
        rectifications=rectifications,
    )


def _preparation(doc: DocxDocument, record: _LifeRecord) -> None:
    # Who gave an opinion and whom it is about stay with the branch's managers (the page shows them only
    # to them); the record keeps what was said.
    _para(doc, f"（一）会前征求的意见（{len(record.opinions)} 条）", indent=False)
    _lines(doc, [c.text for c in record.opinions], "未记录会前征求的意见。")
    _para(doc, f"（二）会前谈心谈话（{len(record.talks)} 次）", indent=False)
    # A talk's summary is private to the two who talked and the branch's managers: never on the record.
    _lines(
        doc,
        [
            f"{cn_date(t.held_on)} {t.person_a.name}—{t.person_b.name}（{t.get_relation_display()}）："
            f"{t.topic}"
            for t in record.talks
        ],
        "未记录为本次会议开展的谈心谈话。",
    )


def _criticism(doc: DocxDocument, record: _LifeRecord, attendances: Sequence[Attendance]) -> None:
    """Per person (the expected attendees, then anyone else named): their self-criticism and the
    criticism others made of them; a criticism of nobody in particular is listed last under its speaker."""
    # Those expected to speak (members and committee); activists and guests who sat in are named only
    # when something of theirs is on the record.
    names = {a.person_id: a.person.name for a in attendances if a.role in EXPECTED_ROLES}
    excused = {a.person_id for a in attendances if a.state == AttendanceState.EXCUSED}
    own: dict[int, list[str]] = defaultdict(list)
    received: dict[int, list[str]] = defaultdict(list)
    loose: list[str] = []
    for c in record.criticisms:
        speaker = c.speaker.name if c.speaker else "未署名"
        if c.kind == CriticismKind.SELF and c.speaker is not None:
            names.setdefault(c.speaker.pk, c.speaker.name)
            own[c.speaker.pk].append(c.text)
        elif c.about is not None:
            names.setdefault(c.about.pk, c.about.name)
            received[c.about.pk].append(f"{speaker} 提出的批评：{c.text}")
        else:
            loose.append(f"{speaker} 提出的批评意见：{c.text}")
    if not names and not loose:
        _para(doc, f"{BLANK}{BLANK}")
        return
    silent = [f"{n}（请假）" if pid in excused else n for pid, n in names.items() if not own.get(pid)]
    _para(doc, f"未作自我批评：{'、'.join(silent) if silent else '无'}。")
    for index, (pid, name) in enumerate(
        ((p, n) for p, n in names.items() if own.get(p) or received.get(p)), 1
    ):
        _para(doc, f"{index}. {name}", indent=False)
        for text in own.get(pid, []):
            _para(doc, f"自我批评：{text}")
        for text in received.get(pid, []):
            _para(doc, text)
    for text in loose:
        _para(doc, text)


def _rectification_state(row: Rectification, today: dt.date) -> str:
    if row.done_on is not None:
        done = f"已于{cn_date(row.done_on)}完成"
        return f"{done}：{row.evidence}" if row.evidence else done
    return "已逾期，未完成" if row.due_on < today else "未完成"


def _rectifications(doc: DocxDocument, record: _LifeRecord, today: dt.date) -> None:
    if not record.rectifications:
        _para(doc, "未列出整改事项。")
        return
    table = _table(doc, len(record.rectifications) + 1, 5)
    for col, title in enumerate(("序号", "整改事项", "责任人", "完成时限", "完成情况")):
        _cell(table.rows[0].cells[col], title, bold=True)
    for index, row in enumerate(record.rectifications, 1):
        cells = table.rows[index].cells
        values = (
            str(index),
            row.item,
            row.owner.name,
            cn_date(row.due_on),
            _rectification_state(row, today),
        )
        for col, value in enumerate(values):
            _cell(cells[col], value)


def meeting_minutes_docx(meeting: Meeting, *, today: dt.date | None = None) -> bytes:
    """The record of one meeting (会议记录) as .docx bytes: A4, 宋体 body and 黑体 headings; a life
    meeting's adds its preparation, criticism and rectification items."""
    today = today or timezone.localdate()
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

    heading = _Headings(doc)
    attendances = list(meeting.attendances.select_related("person").order_by("person__name_pinyin", "id"))
    heading("出席情况")
    _attendance(doc, meeting, attendances)

    minutes = meeting.minutes if isinstance(meeting.minutes, dict) else {}
    topics = [str(t) for t in minutes.get("topics") or []]
    if not topics and meeting.topics:
        topics = [line.strip() for line in meeting.topics.splitlines() if line.strip()]
    heading("会议议题")
    _lines(doc, topics, f"{BLANK}{BLANK}")

    life = _life_record(meeting) if counts_as_life_meeting(meeting) else None
    if life is not None:
        heading("会前准备")
        _preparation(doc, life)

    heading("发言情况")
    speakers = [s for s in minutes.get("speakers") or [] if isinstance(s, dict)]
    if not speakers:
        _para(doc, f"{BLANK}{BLANK}")
    for s in speakers:
        _para(doc, f"{s.get('name', '')}：{s.get('summary', '')}")

    if life is not None:
        heading("批评与自我批评")
        _criticism(doc, life, attendances)

    _votes(doc, meeting, heading)

    heading("会议决议")
    _lines(doc, [str(r) for r in minutes.get("resolutions") or []], "本次会议未形成决议。")

    if life is not None:
        heading("整改事项")
        _rectifications(doc, life, today)

    attachments = list(meeting.attachments.filter(withdrawn_at__isnull=True).order_by("uploaded_at", "id"))
    heading("附件")
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
