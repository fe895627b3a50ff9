"""The forms a branch files for a development case, as Word documents filled from the records.

入党积极分子培养教育考察登记表, 发展对象公示, and the general assembly's resolutions on receiving a
probationary member and on confirming one. Each builder takes a case's records (`load_case_records`) and the
org's effective policy and returns .docx bytes. A builder never refuses: a step not recorded yet prints as
a blank to fill in by hand. Refusing a resolution whose vote is not recorded is the caller's choice
(`require_vote`), since a blank resolution is still a useful form to print before the meeting.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from zhibu.compliance.packs import EffectivePolicy
from zhibu.compliance.values import Duration, Frequency
from zhibu.core.crypto import mask_id_number
from zhibu.core.errors import ServiceError
from zhibu.development.models import (
    BranchVote,
    CaseRole,
    CaseRoleKind,
    DevelopmentCase,
    DevelopmentStep,
    VotePurpose,
)
from zhibu.orgs.models import Organization, OrgKind
from zhibu.people.models import Person

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

BODY_FONT = "宋体"
TITLE_FONT = "黑体"
BODY_SIZE = Pt(12)  # 小四
TITLE_SIZE = Pt(18)  # 小二
# A blank line long enough to write a name or a number on by hand.
BLANK = "＿＿＿＿"
BLANK_DATE = "　　年　　月　　日"
BLANK_MONTH = "　　年　　月"
# Rows printed in a table of repeated records when the policy gives no rhythm to count them from.
FALLBACK_ROWS = 4

ACTIVIST_METHODS = {"party": "党员推荐", "league": "团组织推优", "union": "工会推荐"}


# Records ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRecords:
    """A case with its steps (each with its vote loaded) and its mentors and sponsors."""

    case: DevelopmentCase
    steps: tuple[DevelopmentStep, ...]
    roles: tuple[CaseRole, ...]

    @property
    def person(self) -> Person:
        return self.case.person

    @property
    def org(self) -> Organization:
        return self.case.person.org

    def all(self, code: str) -> list[DevelopmentStep]:
        """The records of one step in date order."""
        return sorted((s for s in self.steps if s.code == code), key=lambda s: (s.done_on, s.pk or 0))

    def last(self, code: str) -> DevelopmentStep | None:
        found = self.all(code)
        return found[-1] if found else None

    def date(self, code: str) -> dt.date | None:
        step = self.last(code)
        return step.done_on if step else None

    def vote(self, purpose: str) -> BranchVote | None:
        """The latest recorded vote for a purpose (a confirmation may be voted again after an extension)."""
        votes = [v for s in self.steps if (v := _vote_of(s)) is not None and v.purpose == purpose]
        return max(votes, key=lambda v: (v.held_on, v.pk or 0)) if votes else None

    def names(self, role: str, *, include_ended: bool = False) -> list[str]:
        """Mentors or sponsors: the case's role rows, else the names the assignment step recorded."""
        rows = [r for r in self.roles if r.role == role and (include_ended or r.ended_on is None)]
        if rows:
            return [
                r.person.name + (f"（{cn_date(r.ended_on)}止）" if r.ended_on else "")
                for r in sorted(rows, key=lambda r: (r.assigned_on, r.pk or 0))
            ]
        code, key = (
            ("mentor_assignment", "mentors")
            if role == CaseRoleKind.MENTOR
            else ("sponsor_assignment", "sponsors")
        )
        step = self.last(code)
        listed = (step.details or {}).get(key, []) if step else []
        return [str(item.get("name", "")) for item in listed if isinstance(item, dict) and item.get("name")]


def _vote_of(step: DevelopmentStep) -> BranchVote | None:
    # A missing reverse one-to-one raises RelatedObjectDoesNotExist, an AttributeError.
    return getattr(step, "vote", None)


def load_case_records(case: DevelopmentCase) -> CaseRecords:
    """A case's steps (with votes) and roles (with people) in two queries."""
    steps = tuple(case.steps.select_related("vote").order_by("done_on", "id"))
    roles = tuple(case.roles.select_related("person").order_by("assigned_on", "id"))
    return CaseRecords(case=case, steps=steps, roles=roles)


def require_vote(records: CaseRecords, purpose: str) -> BranchVote:
    """The vote a resolution reports, or a refusal that says which vote to record first."""
    vote = records.vote(purpose)
    if vote is None:
        what = VotePurpose(purpose).label
        raise ServiceError(
            f"{records.person.name}的发展党员流程尚未记录支部大会“{what}”的表决结果，"
            f"请先在流程中记录表决，再生成决议"
        )
    return vote


# Text ---------------------------------------------------------------------------------------------------


def cn_date(day: dt.date | None) -> str:
    """2026年9月1日, or a blank to fill in by hand."""
    return f"{day.year}年{day.month}月{day.day}日" if day else BLANK_DATE


def cn_month(day: dt.date | None) -> str:
    """1998年7月, or a blank."""
    return f"{day.year}年{day.month}月" if day else BLANK_MONTH


def _or_blank(value: Any) -> str:
    return str(value) if value not in (None, "") else BLANK


def _names(names: Sequence[str]) -> str:
    return "、".join(names) if names else BLANK


def branch_title(org: Organization) -> str:
    """A branch as it signs its papers: the school's name before the branch's (第一中学党委第一党支部)."""
    parent = org.parent if org.kind == OrgKind.BRANCH else None
    return f"{parent.name}{org.name}" if parent is not None else org.name


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


# Layout -------------------------------------------------------------------------------------------------


def _set_fonts(element: Any, font: str) -> None:
    fonts = element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attr), font)


def _new_document() -> DocxDocument:
    """An A4 page, body text 宋体 小四 (East Asian font set, or Word falls back to a Latin one)."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2.54)
    section.left_margin = section.right_margin = Cm(2.8)
    normal = doc.styles["Normal"]
    normal.font.size = BODY_SIZE  # type: ignore[attr-defined]
    _set_fonts(normal.element, BODY_FONT)
    return doc


def _run(
    paragraph: Paragraph, text: str, *, font: str = BODY_FONT, size: Pt = BODY_SIZE, bold: bool = False
) -> Run:
    run = paragraph.add_run(text)
    run.font.size = size
    run.bold = bold
    _set_fonts(run._element, font)
    return run


def _title(doc: DocxDocument, text: str) -> None:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(p, text, font=TITLE_FONT, size=TITLE_SIZE)


def _heading(doc: DocxDocument, text: str) -> None:
    p = doc.add_paragraph()
    _run(p, text, font=TITLE_FONT, size=Pt(14))


def _para(doc: DocxDocument, text: str, *, indent: bool = True, right: bool = False) -> Paragraph:
    p = doc.add_paragraph()
    if right:
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    elif indent:
        p.paragraph_format.first_line_indent = Pt(24)
    _run(p, text)
    return p


def _cell(cell: _Cell, text: str, *, bold: bool = False) -> None:
    paragraph = cell.paragraphs[0]
    _run(paragraph, text, bold=bold)


def _table(doc: DocxDocument, rows: int, cols: int) -> Table:
    table = doc.add_table(rows=rows, cols=cols)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    return table


def _fill_pairs(table: Table, row: int, pairs: Sequence[tuple[str, str]]) -> None:
    """Label/value pairs across a row; the last value spans what is left of the row."""
    cells = table.rows[row].cells
    col = 0
    for index, (label, value) in enumerate(pairs):
        _cell(cells[col], label, bold=True)
        if index == len(pairs) - 1 and col + 1 < len(cells) - 1:
            cells[col + 1].merge(cells[len(cells) - 1])
        _cell(cells[col + 1], value)
        col += 2


def _to_bytes(doc: DocxDocument) -> bytes:
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _expected_count(policy: EffectivePolicy, span_key: str, rhythm_key: str) -> int:
    """How many repeated records a span holds at the policy's rhythm (two reviews in a year at one per half
    year): the number of rows a form prints for them."""
    span, rhythm = policy.value(span_key), policy.value(rhythm_key)
    if not isinstance(span, Duration) or not isinstance(rhythm, Frequency) or not rhythm.months:
        return FALLBACK_ROWS
    months = {"years": 12 * span.n, "months": span.n}.get(span.unit)
    if not months:
        return FALLBACK_ROWS
    return max(1, math.ceil(months / rhythm.months) * rhythm.count)


def _signature(doc: DocxDocument, org: Organization, day: dt.date | None) -> None:
    doc.add_paragraph()
    _para(doc, f"中共{branch_title(org)}（盖章）", right=True)
    _para(doc, cn_date(day), right=True)


# 1. 入党积极分子培养教育考察登记表 ------------------------------------------------------------------------


def cultivation_record_docx(records: CaseRecords, policy: EffectivePolicy) -> bytes:
    """入党积极分子培养教育考察登记表: particulars (ID masked), designation, mentors, reviews, reports."""
    person, org = records.person, records.org
    doc = _new_document()
    _title(doc, "入党积极分子培养教育考察登记表")

    talk = records.last("application_talk")
    designation = records.last("activist_designation")
    method = (
        ACTIVIST_METHODS.get(str((designation.details or {}).get("method", "")), "") if designation else ""
    )
    table = _table(doc, 7, 6)
    _fill_pairs(
        table,
        0,
        [
            ("姓名", person.name),
            ("性别", _or_blank(person.get_gender_display())),
            ("民族", _or_blank(person.ethnicity)),
        ],
    )
    _fill_pairs(
        table,
        1,
        [
            ("出生日期", cn_date(person.birth_date)),
            ("学历", _or_blank(person.get_education_display() if person.education else "")),
            ("身份证号", _or_blank(mask_id_number(person.id_number))),
        ],
    )
    _fill_pairs(table, 2, [("所在支部", branch_title(org)), ("职务/岗位", _or_blank(person.position))])
    _fill_pairs(
        table,
        3,
        [
            ("递交入党申请书日期", cn_date(records.date("application") or records.case.opened_on)),
            ("谈话日期", cn_date(talk.done_on if talk else None)),
            ("谈话人", _or_blank((talk.details or {}).get("talker", "") if talk else "")),
        ],
    )
    _fill_pairs(
        table,
        4,
        [
            ("确定为入党积极分子日期", cn_date(designation.done_on if designation else None)),
            ("确定方式", _or_blank(method)),
        ],
    )
    _fill_pairs(table, 5, [("培养联系人", _names(records.names(CaseRoleKind.MENTOR, include_ended=True)))])
    _fill_pairs(table, 6, [("确定为发展对象日期", cn_date(records.date("candidate_designation")))])

    reviews = records.all("activist_review")
    _heading(doc, "党支部培养教育考察情况")
    rows = max(len(reviews), _expected_count(policy, "activist.min_cultivation", "activist.review_period"))
    table = _table(doc, rows + 1, 3)
    for cell, text in zip(table.rows[0].cells, ("序号", "考察日期", "考察意见"), strict=True):
        _cell(cell, text, bold=True)
    for index in range(rows):
        cells = table.rows[index + 1].cells
        _cell(cells[0], str(index + 1))
        if index < len(reviews):
            _cell(cells[1], cn_date(reviews[index].done_on))
            _cell(cells[2], str((reviews[index].details or {}).get("conclusion", "")))

    reports = records.all("thought_report")
    _heading(doc, "思想汇报情况")
    rows = max(
        len(reports), _expected_count(policy, "activist.min_cultivation", "activist.thought_report_period")
    )
    table = _table(doc, rows + 1, 3)
    for cell, text in zip(table.rows[0].cells, ("序号", "递交日期", "备注"), strict=True):
        _cell(cell, text, bold=True)
    for index in range(rows):
        cells = table.rows[index + 1].cells
        _cell(cells[0], str(index + 1))
        if index < len(reports):
            _cell(cells[1], cn_date(reports[index].done_on))
            _cell(cells[2], reports[index].note)

    _signature(doc, org, None)
    return _to_bytes(doc)


# 2. 发展对象公示 ------------------------------------------------------------------------------------------


def publicity_notice_docx(records: CaseRecords, policy: EffectivePolicy) -> bytes:
    """发展对象公示: the candidate's particulars, the publicity period and where to send objections.

    Printed before the publicity starts too: the period is then blank, its length the policy's."""
    person, org = records.person, records.org
    step = records.last("publicity")
    details = (step.details or {}) if step else {}
    starts_on, ends_on = _parse_date(details.get("starts_on")), _parse_date(details.get("ends_on"))
    if ends_on is None and step is not None:
        ends_on = step.done_on
    workdays = details.get("workdays")
    length = f"{workdays} 个工作日" if workdays else str(policy.value("publicity.workdays"))

    doc = _new_document()
    _title(doc, "发展对象公示")
    _para(
        doc,
        f"根据《中国共产党发展党员工作细则》的有关规定，经中共{branch_title(org)}委员会审查，"
        f"拟接收{person.name}同志为中共预备党员，现将有关情况公示如下：",
    )
    table = _table(doc, 6, 4)
    _fill_pairs(table, 0, [("姓名", person.name), ("性别", _or_blank(person.get_gender_display()))])
    _fill_pairs(
        table,
        1,
        [
            ("出生年月", cn_month(person.birth_date)),
            ("学历", _or_blank(person.get_education_display() if person.education else "")),
        ],
    )
    _fill_pairs(table, 2, [("所在支部", branch_title(org)), ("职务/岗位", _or_blank(person.position))])
    _fill_pairs(
        table,
        3,
        [
            ("递交入党申请书时间", cn_date(records.date("application") or records.case.opened_on)),
            ("确定为入党积极分子时间", cn_date(records.date("activist_designation"))),
        ],
    )
    _fill_pairs(table, 4, [("确定为发展对象时间", cn_date(records.date("candidate_designation")))])
    _fill_pairs(table, 5, [("入党介绍人", _names(records.names(CaseRoleKind.SPONSOR)))])

    _para(doc, f"公示时间：{cn_date(starts_on)}至{cn_date(ends_on)}（{length}）。")
    _para(
        doc,
        "公示期间，如对公示对象有意见或问题，可通过来信、来电、来访等方式向党支部反映。"
        "反映情况应实事求是，以个人名义反映的须署真实姓名，以单位名义反映的须加盖公章。",
    )
    _para(doc, f"联系人：{BLANK}{BLANK}　　联系电话：{BLANK}{BLANK}")
    _para(doc, f"中共{branch_title(org)}", right=True)
    _para(doc, cn_date(starts_on), right=True)
    return _to_bytes(doc)


# 3 and 4. The general assembly's resolutions -------------------------------------------------------------


def _count(value: int | None) -> str:
    return str(value) if value is not None else "　　"


def _vote_paragraphs(doc: DocxDocument, records: CaseRecords, vote: BranchVote | None, matter: str) -> None:
    person, org = records.person, records.org
    held_on = vote.held_on if vote else None
    _para(
        doc,
        f"{cn_date(held_on)}，{branch_title(org)}召开支部党员大会，讨论{person.name}同志{matter}问题。",
    )
    entitled = vote.entitled_count if vote else None
    present = vote.present if vote else None
    written = vote.written_opinions if vote else None
    text = (
        f"支部应到会有表决权的党员 {_count(entitled)} 人，实到会有表决权的党员 {_count(present)} 人，"
        f"因故未到会的有表决权的党员会前提交书面赞成意见 {_count(written)} 份。"
    )
    excluded = [e for e in (vote.excluded if vote else []) if isinstance(e, dict)]
    if excluded:
        listed = "、".join(f"{e.get('name', '')}（{e.get('reason', '')}）" for e in excluded)
        text += f"不计入应到会人数的党员：{listed}。"
    _para(doc, text)
    if vote is None:
        ballot = "采用＿＿＿＿方式表决"
    else:
        ballot = "采用无记名投票方式表决" if vote.secret_ballot else "采用举手方式表决"
    _para(
        doc,
        f"大会{ballot}，赞成 {_count(vote.in_favour if vote else None)} 票"
        f"（含书面意见 {_count(written)} 票），反对 {_count(vote.against if vote else None)} 票，"
        f"弃权 {_count(vote.abstain if vote else None)} 票。",
    )
    table = _table(doc, 2, 6)
    heads = ("应到会有表决权党员", "实到会", "书面意见", "赞成", "反对", "弃权")
    values = (
        entitled,
        present,
        written,
        *((vote.in_favour, vote.against, vote.abstain) if vote else (None,) * 3),
    )
    for cell, head in zip(table.rows[0].cells, heads, strict=True):
        _cell(cell, head, bold=True)
    for cell, value in zip(table.rows[1].cells, values, strict=True):
        _cell(cell, _count(value))
    _para(doc, f"表决结果：{vote.explanation}" if vote else f"表决结果：{BLANK}{BLANK}")


def reception_resolution_docx(records: CaseRecords, policy: EffectivePolicy) -> bytes:
    """支部大会关于接收预备党员的决议: attendance, the votes and the result, from the reception vote."""
    person, org = records.person, records.org
    vote = records.vote(VotePurpose.RECEPTION)
    doc = _new_document()
    _title(doc, "支部大会关于接收预备党员的决议")
    _para(doc, f"（{person.name}同志）", indent=False).alignment = WD_ALIGN_PARAGRAPH.CENTER
    _vote_paragraphs(doc, records, vote, "的入党")
    probation = policy.value("probation.length")
    if vote is None:
        decision = f"大会决议：{BLANK}{BLANK}"
    elif vote.passed:
        decision = (
            f"大会决议：同意接收{person.name}同志为中共预备党员，预备期 {probation}，"
            f"自{cn_date(vote.held_on)}支部大会通过之日算起，报上级党委审批。"
        )
    else:
        decision = f"大会决议：{person.name}同志的入党申请未获支部大会通过。"
    _para(doc, decision)
    _signature(doc, org, vote.held_on if vote else None)
    return _to_bytes(doc)


def confirmation_decision(step: DevelopmentStep | None) -> str:
    """按期转正 / 延长预备期 N 个月 / 取消预备党员资格, from the confirmation vote's outcome."""
    if step is None:
        return ""
    if step.outcome == "confirm":
        return "按期转正"
    if step.outcome == "extend":
        months = (step.details or {}).get("extension_months")
        return f"延长预备期 {_count(months)} 个月"
    if step.outcome == "cancel":
        return "取消预备党员资格"
    return "未获通过"


def confirmation_resolution_docx(records: CaseRecords, policy: EffectivePolicy) -> bytes:
    """支部大会关于预备党员转正的决议: attendance, the votes, the decision and when membership counts from."""
    person, org = records.person, records.org
    vote = records.vote(VotePurpose.CONFIRMATION)
    step = vote.step if vote else None
    doc = _new_document()
    _title(doc, "支部大会关于预备党员转正的决议")
    _para(doc, f"（{person.name}同志）", indent=False).alignment = WD_ALIGN_PARAGRAPH.CENTER
    _vote_paragraphs(doc, records, vote, "的预备党员转正")
    probation_end = records.case.probation_ends_on
    decision = confirmation_decision(step)
    if step is None:
        text = f"大会决议：{BLANK}{BLANK}"
    elif step.outcome == "confirm":
        text = (
            f"大会决议：同意{person.name}同志{decision}，由中共预备党员转为中共正式党员，"
            f"党龄自{cn_date(probation_end)}（预备期满之日）算起，报上级党委审批。"
        )
    elif step.outcome == "extend":
        text = f"大会决议：{person.name}同志{decision}，报上级党委审批。"
    elif step.outcome == "cancel":
        text = f"大会决议：取消{person.name}同志的预备党员资格，报上级党委审批。"
    else:
        text = f"大会决议：{person.name}同志的转正申请{decision}。"
    _para(doc, text)
    _para(doc, f"决定：{decision or BLANK}；预备期满日期：{cn_date(probation_end)}。")
    _signature(doc, org, vote.held_on if vote else None)
    return _to_bytes(doc)
