"""The year's ledger of 三会一课 (with theme days, life meetings and, when any were held, study sessions and
leadership life meetings) for an org's subtree, as data, as an .xlsx workbook and as a printable PDF.

Only held meetings are listed, by the day they started; a meeting that also counts as another kind (a
theme day that holds the quarter's assembly) is listed under each kind it counts for, as the findings
count it. How many meetings were due comes from each org's effective policy: the same frequency rules the
findings evaluate (`life.*_period`, `life.life_meeting_yearly`), with their org kinds and conditions, and
the same periods (`periods_in_year`). Everything is read in a fixed number of queries (`ledger_rows`).
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from zhibu.compliance.facts import COMMITTEE_ROLES
from zhibu.compliance.kinds import OPERATORS, Period, periods_in_year
from zhibu.compliance.packs import EffectivePolicy, ResolvedRule, effective_policies
from zhibu.compliance.values import Frequency
from zhibu.life.models import AttendanceRole, AttendanceState, Meeting, MeetingKind, MeetingState
from zhibu.orgs.models import Organization, OrgKind, Post, PostRole
from zhibu.people.exporting import neutralise

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"

# The kinds of the ledger, in its order, with the pack rule that says how often each is due. Every meeting
# kind is here: the last two have no frequency rule in the national pack, so their sections and sheets
# appear only when the subtree held one in the year or an org's pack gives them a rule (ALWAYS_SHOWN).
LEDGER_KINDS: tuple[tuple[MeetingKind, str], ...] = (
    (MeetingKind.GENERAL_ASSEMBLY, "life.general_assembly_period"),
    (MeetingKind.COMMITTEE_MEETING, "life.committee_meeting_period"),
    (MeetingKind.GROUP_MEETING, "life.group_meeting_period"),
    (MeetingKind.PARTY_LECTURE, "life.party_lecture_period"),
    (MeetingKind.THEME_DAY, "life.theme_day_period"),
    (MeetingKind.LIFE_MEETING, "life.life_meeting_yearly"),
    (MeetingKind.STUDY_SESSION, "life.study_session_period"),
    (MeetingKind.LEADERSHIP_LIFE_MEETING, "life.leadership_life_meeting_yearly"),
)
# The kinds an inspector asks for even when nothing was held (三会一课, theme day, life meeting).
ALWAYS_SHOWN = frozenset(k.value for k, _ in LEDGER_KINDS[:6])
# Who counts as expected (应到): the members and the committee; activists and guests sit in (列席).
EXPECTED_ROLES = (AttendanceRole.MEMBER, AttendanceRole.PROBATIONARY, AttendanceRole.COMMITTEE)
# Posts that make an org's committee a real one (not just a secretary), as in the findings' facts.
_COMMITTEE_ONLY = (
    PostRole.ORGANIZATION_OFFICER,
    PostRole.PUBLICITY_OFFICER,
    PostRole.DISCIPLINE_OFFICER,
    PostRole.COMMITTEE_MEMBER,
)


# Data -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerMeeting:
    """One held meeting as a ledger row."""

    pk: int
    kind: str  # the meeting's own kind
    also: tuple[str, ...]  # the other kinds it counts for
    starts_at: dt.datetime  # local time
    org_id: int
    org_name: str
    title: str
    topics: str
    chair: str
    lecturer: str
    lecture_title: str
    invited: int  # 应到 (members and committee)
    present: int
    excused: int
    absent: int
    sitting_in: int  # 列席 (activists, guests) present
    minutes_recorded: bool

    @property
    def day(self) -> dt.date:
        return self.starts_at.date()

    @property
    def rate(self) -> float | None:
        """Present of expected, or None when nobody was expected."""
        return self.present / self.invited if self.invited else None


@dataclass(frozen=True)
class KindCount:
    """One org's meetings of one kind in the year against what its policy asks."""

    held: int
    due: int | None  # None: the policy asks nothing of this org for this kind
    frequency: str  # 每季度 1 次 …
    short: tuple[str, ...] = ()  # ended periods with fewer than the policy asks
    note: str = ""  # why nothing is due, or why it cannot be told


@dataclass(frozen=True)
class OrgTotals:
    org_id: int
    name: str
    kind: str
    counts: dict[str, KindCount]
    average_rate: float | None


@dataclass(frozen=True)
class KindSection:
    kind: str
    label: str
    meetings: tuple[LedgerMeeting, ...]
    due: int | None  # summed over the orgs of which the policy asks it
    orgs_due: int = 0  # orgs of which the policy asks this kind
    orgs_met: int = 0  # of those, the ones with no ended period short

    @property
    def held(self) -> int:
        return len(self.meetings)

    @property
    def average_rate(self) -> float | None:
        return _mean(m.rate for m in self.meetings)


@dataclass(frozen=True)
class Ledger:
    org: Organization
    org_title: str
    year: int
    today: dt.date
    sections: tuple[KindSection, ...]
    orgs: tuple[OrgTotals, ...] = field(default=())

    @property
    def title(self) -> str:
        return f"{self.year}年“三会一课”台账"

    @property
    def average_rate(self) -> float | None:
        """The mean attendance rate of the year's meetings (each meeting once)."""
        unique = {m.pk: m for s in self.sections for m in s.meetings}
        return _mean(m.rate for m in unique.values())

    def section(self, kind: str) -> KindSection:
        return next(s for s in self.sections if s.kind == kind)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds the ledger shows, in its order (the summary's columns)."""
        return tuple(s.kind for s in self.sections)


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _org_label(org: Organization, by_id: Mapping[int, Organization]) -> str:
    """A group with its branch's name, a branch with its school's (第一党支部第一党小组)."""
    parent = by_id.get(org.parent_id) if org.parent_id else None
    if org.kind in (OrgKind.GROUP, OrgKind.BRANCH) and parent is not None:
        return f"{parent.name}{org.name}"
    return org.name


# What was due -----------------------------------------------------------------------------------------


def _periods(freq: Frequency, year: int, policy: EffectivePolicy) -> list[Period]:
    """The periods judged in a year, as the findings take them (semesters: those starting in it)."""
    if freq.per == "semester":
        return [p for p in policy.school_year().semesters_around(year) if p.start.year == year]
    return periods_in_year(freq, year)


def _alive(org: Organization, periods: Sequence[Period]) -> list[Period]:
    """The periods during which the org existed."""
    return [
        p
        for p in periods
        if (org.dissolved_on is None or p.start <= org.dissolved_on)
        and (org.established_on is None or p.end >= org.established_on)
    ]


def _count(
    rule: ResolvedRule | None,
    org: Organization,
    facts: Mapping[str, Any],
    dates: Sequence[dt.date],
    year: int,
    today: dt.date,
    policy: EffectivePolicy,
) -> KindCount:
    held = len(dates)
    if rule is None or not rule.enabled or rule.error or rule.unset:
        return KindCount(held, None, "", note="适用的制度未规定频次")
    if rule.applies_to.org_kinds and org.kind not in rule.applies_to.org_kinds:
        return KindCount(held, None, "", note="不适用于此类党组织")
    freq = rule.params.get("period")
    if not isinstance(freq, Frequency):
        return KindCount(held, None, "", note="适用的制度未规定频次")
    when = rule.params.get("when")
    if when:
        value = facts.get(when["fact"])
        if value is None or when["value"] is None:
            return KindCount(held, None, str(freq), note=f"缺少{when['label']}，无法判断是否适用")
        if not OPERATORS[when["op"]](value, when["value"]):
            return KindCount(held, None, str(freq), note=f"{when['label']}为 {value}，不适用")
    periods = _alive(org, _periods(freq, year, policy))
    short = tuple(
        p.label
        for p in periods
        if p.end < today and sum(1 for d in dates if p.start <= d <= p.end) < freq.count
    )
    return KindCount(held, len(periods) * freq.count, str(freq), short=short)


def meets(count: KindCount) -> bool:
    """An org meets what its policy asks of a kind when none of the year's ended periods fell short."""
    return count.due is not None and not count.short


# Reading ----------------------------------------------------------------------------------------------


def _topics(minutes: Any, planned: str) -> str:
    recorded = (minutes or {}).get("topics") if isinstance(minutes, dict) else None
    if recorded:
        return "；".join(str(t) for t in recorded)
    return planned


def _load_meetings(root: Organization, year: int) -> list[Meeting]:
    """The held meetings of the subtree that started in the year, with their attendance counts (one
    query)."""
    start = timezone.make_aware(dt.datetime(year, 1, 1))
    end = timezone.make_aware(dt.datetime(year + 1, 1, 1))
    expected = Q(attendances__role__in=EXPECTED_ROLES)
    return list(
        Meeting.objects.filter(
            org__path__startswith=root.path,
            state=MeetingState.HELD,
            starts_at__gte=start,
            starts_at__lt=end,
        )
        .select_related("org", "chair", "lecturer")
        .annotate(
            n_invited=Count("attendances", filter=expected),
            n_present=Count("attendances", filter=expected & Q(attendances__state=AttendanceState.PRESENT)),
            n_excused=Count("attendances", filter=expected & Q(attendances__state=AttendanceState.EXCUSED)),
            n_absent=Count("attendances", filter=expected & Q(attendances__state=AttendanceState.ABSENT)),
            n_sitting_in=Count(
                "attendances",
                filter=~expected & Q(attendances__state=AttendanceState.PRESENT),
            ),
        )
        .order_by("starts_at", "id")
    )


def _org_facts(orgs: Sequence[Organization], on: dt.date) -> dict[int, dict[str, Any]]:
    """The facts the frequency rules' conditions read: committee seats and secretaries (one query)."""
    seats: dict[int, set[int]] = defaultdict(set)
    secretaries: dict[int, set[int]] = defaultdict(set)
    real_committee: set[int] = set()
    for org_id, role, person_id in (
        Post.objects.current(on)
        .filter(org_id__in=[o.pk for o in orgs], role__in=COMMITTEE_ROLES)
        .values_list("org_id", "role", "person_id")
    ):
        seats[org_id].add(person_id)
        if role == PostRole.SECRETARY:
            secretaries[org_id].add(person_id)
        if role in _COMMITTEE_ONLY:
            real_committee.add(org_id)
    return {
        o.pk: {
            "org_kind": o.kind,
            "committee_seats": len(seats[o.pk]) if o.pk in real_committee else 0,
            "secretaries": len(secretaries[o.pk]),
        }
        for o in orgs
    }


def ledger_rows(org: Organization, year: int, *, today: dt.date | None = None) -> Ledger:
    """The ledger of `org`'s subtree for `year`: held meetings per kind and each org's count against its
    policy, in a fixed number of queries whatever the number of orgs or meetings."""
    today = today or timezone.localdate()
    year_start, year_end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    orgs = [
        o
        for o in Organization.objects.filter(path__startswith=org.path).order_by("path")
        if o.dissolved_on is None or o.dissolved_on >= year_start
    ]
    by_id = {o.pk: o for o in orgs}
    if org.pk not in by_id:  # the root itself dissolved before the year: still the ledger's heading
        by_id[org.pk] = org
    # The root's parent names a branch's school in the heading (no query when it was selected).
    parent = org.parent if org.parent_id is not None else None
    if parent is not None:
        by_id[parent.pk] = parent
    policies = effective_policies(orgs)
    facts = _org_facts(orgs, min(today, year_end))

    rows: dict[str, list[LedgerMeeting]] = defaultdict(list)
    dates: dict[int, dict[str, list[dt.date]]] = defaultdict(lambda: defaultdict(list))
    rates: dict[int, list[float | None]] = defaultdict(list)
    kinds = {k.value for k, _ in LEDGER_KINDS}
    for m in _load_meetings(org, year):
        also = tuple(k for k in (m.also_counts_as or []) if isinstance(k, str) and k != m.kind)
        lecturer = m.lecturer.name if m.lecturer else m.lecturer_name
        owner = by_id.get(m.org_id, m.org)  # an org dissolved since still names its meetings
        row = LedgerMeeting(
            pk=m.pk,
            kind=m.kind,
            also=also,
            starts_at=timezone.localtime(m.starts_at),
            org_id=m.org_id,
            org_name=_org_label(owner, by_id),
            title=m.title,
            topics=_topics(m.minutes, m.topics),
            chair=m.chair.name if m.chair else "",
            lecturer=lecturer,
            lecture_title=m.lecture_title,
            invited=m.n_invited,  # type: ignore[attr-defined]
            present=m.n_present,  # type: ignore[attr-defined]
            excused=m.n_excused,  # type: ignore[attr-defined]
            absent=m.n_absent,  # type: ignore[attr-defined]
            sitting_in=m.n_sitting_in,  # type: ignore[attr-defined]
            minutes_recorded=bool(m.minutes_recorded_at and (m.minutes or {}).get("topics")),
        )
        rates[m.org_id].append(row.rate)
        for k in (m.kind, *also):
            if k in kinds:
                rows[k].append(row)
                dates[m.org_id][k].append(row.day)

    totals: list[OrgTotals] = []
    due_by_kind: dict[str, int | None] = {}
    orgs_due: dict[str, int] = defaultdict(int)
    orgs_met: dict[str, int] = defaultdict(int)
    for o in orgs:
        policy = policies[o.pk]
        rules = {r.id: r for r in policy.all_rules}
        counts = {
            kind.value: _count(
                rules.get(rule_id), o, facts[o.pk], dates[o.pk][kind.value], year, today, policy
            )
            for kind, rule_id in LEDGER_KINDS
        }
        if not any(c.due is not None or c.held for c in counts.values()):
            continue  # an org of which nothing is asked and that held nothing (a school's committee)
        for kind, c in counts.items():
            if c.due is not None:
                due_by_kind[kind] = (due_by_kind.get(kind) or 0) + c.due
                orgs_due[kind] += 1
                orgs_met[kind] += meets(c)
        totals.append(
            OrgTotals(
                org_id=o.pk,
                name=_org_label(o, by_id),
                kind=o.get_kind_display(),
                counts=counts,
                average_rate=_mean(rates[o.pk]),
            )
        )

    sections = tuple(
        KindSection(
            kind.value,
            str(kind.label),
            tuple(rows[kind.value]),
            due_by_kind.get(kind.value),
            orgs_due=orgs_due[kind.value],
            orgs_met=orgs_met[kind.value],
        )
        for kind, _ in LEDGER_KINDS
        if kind.value in ALWAYS_SHOWN or rows[kind.value] or kind.value in due_by_kind
    )
    return Ledger(
        org=org,
        org_title=_org_label(org, by_id),
        year=year,
        today=today,
        sections=sections,
        orgs=tuple(totals),
    )


# Text helpers shared by the workbook and the PDF ---------------------------------------------------------


def percent(rate: float | None) -> str:
    return f"{rate * 100:.1f}%" if rate is not None else "—"


def held_vs_due(count: KindCount) -> str:
    """“3 / 4”, “2（不要求）”."""
    if count.due is None:
        return f"{count.held}" if count.held else "—"
    return f"{count.held} / {count.due}"


def section_total(section: KindSection) -> str:
    """A kind's total over the subtree: how many of the orgs asked to hold it met the requirement, and the
    meetings held (“达标 3 / 4（共 13 次）”). Held and due are not summed against each other: one branch's
    extra meetings must not hide another's missing one."""
    if not section.orgs_due:
        return str(section.held) if section.held else "—"
    return f"达标 {section.orgs_met} / {section.orgs_due}（共 {section.held} 次）"


TOTAL_NOTE = (
    "说明：各党组织一行为本年度已开次数 / 按其适用制度应开次数。“合计”一行不把各党组织的次数相加，"
    "而是统计达到频次要求的党组织数：“达标 3 / 4（共 13 次）”指应开此类会议的 4 个党组织中有 3 个"
    "在本年度每个已结束的周期都开足了规定次数，“共 13 次”为已召开的此类会议总次数；"
    "一个党组织多开的会议不能抵补另一个党组织缺开的会议。“—”表示该类会议对此党组织不作要求。"
)


def short_periods(totals: OrgTotals, year: int) -> str:
    """“支部党员大会：第三季度、第四季度；党课：第一季度” (the year is the ledger's, so it is left out)."""
    prefix = f"{year}年"
    return "；".join(
        f"{MeetingKind(k).label}：{'、'.join(p.removeprefix(prefix) or '全年' for p in c.short)}"
        for k, c in totals.counts.items()
        if c.short
    )


def _lecturer(m: LedgerMeeting) -> str:
    if m.lecture_title:
        return f"{m.lecturer}：{m.lecture_title}" if m.lecturer else m.lecture_title
    return m.lecturer


def kind_text(m: LedgerMeeting) -> str:
    """The meeting's own kind and what else it counts as: “主题党日（同时计为支部党员大会）”."""
    label = {k.value: str(k.label) for k in MeetingKind}
    text = label.get(m.kind, m.kind)
    also = [label[k] for k in m.also if k in label]
    return f"{text}（同时计为{'、'.join(also)}）" if also else text


def meeting_columns(m: LedgerMeeting) -> list[Any]:
    """The values of a meeting's row, in the order of MEETING_HEADERS."""
    return [
        m.day,
        m.org_name,
        m.title,
        kind_text(m),
        m.topics,
        m.chair,
        _lecturer(m),
        m.invited,
        m.present,
        m.excused,
        m.absent,
        m.sitting_in,
        m.rate,
        "是" if m.minutes_recorded else "否",
    ]


MEETING_HEADERS: tuple[tuple[str, float], ...] = (
    ("日期", 12),
    ("党组织", 24),
    ("会议名称", 28),
    ("会议类型", 18),
    ("议题", 40),
    ("主持人", 10),
    ("主讲人及题目", 24),
    ("应到", 7),
    ("实到", 7),
    ("请假", 7),
    ("缺席", 7),
    ("列席", 7),
    ("出席率", 9),
    ("已记录", 8),
)
RATE_COLUMN = 1 + [title for title, _ in MEETING_HEADERS].index("出席率")


# The workbook -----------------------------------------------------------------------------------------

HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
DATE_FORMAT = "yyyy-mm-dd"


def _header(ws: Worksheet, titles: Sequence[tuple[str, float]]) -> None:
    ws.append([t for t, _ in titles])
    for index, (_, width) in enumerate(titles, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
        cell = ws.cell(row=1, column=index)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.freeze_panes = "A2"


def _append(ws: Worksheet, values: Sequence[Any], *, percent_cols: Sequence[int] = ()) -> None:
    ws.append([neutralise(v) if isinstance(v, str) else v for v in values])
    row = ws.max_row
    for index, value in enumerate(values, start=1):
        if isinstance(value, dt.date):
            ws.cell(row=row, column=index).number_format = DATE_FORMAT
    for index in percent_cols:
        ws.cell(row=row, column=index).number_format = "0.0%"


def _summary_headers(ledger: Ledger) -> list[tuple[str, float]]:
    heads: list[tuple[str, float]] = [("党组织", 28), ("类型", 8)]
    for section in ledger.sections:
        heads.append((f"{section.label}（已开/应开）", 16))
    heads += [("平均出席率", 11), ("未达到频次的周期", 48)]
    return heads


def ledger_xlsx(ledger: Ledger) -> bytes:
    """The ledger as a workbook: a summary sheet (each org's held vs due per kind, average attendance
    rate), then one sheet per kind listing its held meetings."""
    wb = Workbook()
    summary = wb.active
    assert summary is not None  # a new workbook has its first sheet
    summary.title = "汇总"
    heads = _summary_headers(ledger)
    _header(summary, heads)
    rate_col = 3 + len(ledger.kinds)
    for totals in ledger.orgs:
        short = short_periods(totals, ledger.year)
        _append(
            summary,
            [
                totals.name,
                totals.kind,
                *(held_vs_due(totals.counts[k]) for k in ledger.kinds),
                totals.average_rate,
                short,
            ],
            percent_cols=[rate_col],
        )
    _append(
        summary,
        [
            "合计",
            "",
            *(section_total(s) for s in ledger.sections),
            ledger.average_rate,
            "",
        ],
        percent_cols=[rate_col],
    )
    for cell in summary[summary.max_row]:
        cell.font = Font(bold=True)
    # The note says how the total row counts, so nobody reads it as the branches' sum.
    _append(summary, [TOTAL_NOTE])
    note_row = summary.max_row
    summary.merge_cells(start_row=note_row, start_column=1, end_row=note_row, end_column=len(heads))
    summary.cell(row=note_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    summary.row_dimensions[note_row].height = 48
    for section in ledger.sections:
        ws = wb.create_sheet(section.label[:31])
        _header(ws, MEETING_HEADERS)
        for m in section.meetings:
            _append(ws, meeting_columns(m), percent_cols=[RATE_COLUMN])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# The PDF ----------------------------------------------------------------------------------------------


def ledger_html(ledger: Ledger) -> str:
    """The HTML the PDF is printed from."""
    sections = [
        {
            "section": s,
            "rows": [
                {
                    "m": m,
                    "kind": kind_text(m) if m.also else "",
                    "lecturer": _lecturer(m),
                    "rate": percent(m.rate),
                }
                for m in s.meetings
            ],
            "average": percent(s.average_rate),
        }
        for s in ledger.sections
    ]
    summary = [
        {
            "t": t,
            "cells": [held_vs_due(t.counts[k]) for k in ledger.kinds],
            "rate": percent(t.average_rate),
            "short": short_periods(t, ledger.year),
        }
        for t in ledger.orgs
    ]
    return render_to_string(
        "life/ledger/pdf.html",
        {
            "ledger": ledger,
            "kinds": [s.label for s in ledger.sections],
            "summary": summary,
            # “达标 1 / 2” over “（共 8 次）”: the count of orgs first, the meetings on their own line.
            "totals": [section_total(s).partition("（") for s in ledger.sections],
            "average": percent(ledger.average_rate),
            "note": TOTAL_NOTE,
            "sections": sections,
        },
    )


def ledger_pdf(ledger: Ledger) -> bytes:
    """The ledger as an A4 landscape PDF with a CJK font (the title, org and year on every page)."""
    from weasyprint import HTML  # heavy import: only when a PDF is asked for

    pdf = HTML(string=ledger_html(ledger)).write_pdf()
    assert pdf is not None  # write_pdf without a target returns the bytes
    return bytes(pdf)
