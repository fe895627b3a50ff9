"""The development roster (发展党员工作名册): one sheet per stage listing the open cases, as an .xlsx file.

No ID numbers or phones leave in it. The cases, their steps and their mentors and sponsors are read in a
fixed number of queries whatever their number (`load_roster_cases`); the next step and its latest date come
from the caller (the timeline computes them), keyed by case id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.db.models import Prefetch, QuerySet
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from zhibu.development.documents import branch_title
from zhibu.development.models import (
    CaseRole,
    CaseRoleKind,
    CaseState,
    DevelopmentCase,
    DevelopmentStep,
    Stage,
)
from zhibu.development.services import full_years
from zhibu.people.exporting import neutralise

# The steps whose dates the roster shows.
DATED_STEPS = ("application", "activist_designation", "candidate_designation", "reception_vote")
DATE_FORMAT = "yyyy-mm-dd"
# The person's encrypted fields, which the roster never shows.
UNREAD_PERSON_FIELDS = ("id_number", "phone")
HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")

NextSteps = Mapping[int, tuple[str, dt.date | None]]


@dataclass(frozen=True)
class RosterColumn:
    title: str
    width: float


COLUMNS = (
    RosterColumn("姓名", 10),
    RosterColumn("性别", 6),
    RosterColumn("出生日期", 12),
    RosterColumn("年龄", 6),
    RosterColumn("学历", 12),
    RosterColumn("职务/岗位", 16),
    RosterColumn("所在支部", 26),
    RosterColumn("递交入党申请书日期", 14),
    RosterColumn("确定为入党积极分子日期", 14),
    RosterColumn("确定为发展对象日期", 14),
    RosterColumn("培养联系人", 16),
    RosterColumn("入党介绍人", 16),
    RosterColumn("接收预备党员支部大会日期", 14),
    RosterColumn("预备期满日期", 12),
    RosterColumn("下一步", 24),
    RosterColumn("下一步最迟日期", 14),
)


def load_roster_cases(cases: QuerySet[DevelopmentCase]) -> list[DevelopmentCase]:
    """The open cases among `cases` with people, branches, steps and roles: three queries in all."""
    # The roster shows no ID number or phone: they are not read (each would be decrypted for every row).
    return list(
        cases.filter(state=CaseState.OPEN)
        .select_related("person__org__parent")
        .defer(*(f"person__{name}" for name in UNREAD_PERSON_FIELDS))
        .prefetch_related(
            Prefetch("steps", queryset=DevelopmentStep.objects.order_by("done_on", "id")),
            Prefetch(
                "roles",
                queryset=CaseRole.objects.filter(ended_on__isnull=True)
                .select_related("person")
                .defer(*(f"person__{name}" for name in UNREAD_PERSON_FIELDS))
                .order_by("assigned_on", "id"),
            ),
        )
        .order_by("person__org__path", "person__name_pinyin", "id")
    )


def age_on(birth: dt.date | None, on: dt.date) -> int | None:
    """Full years of age on a day."""
    if birth is None:
        return None
    return full_years(birth, on)


def _step_dates(case: DevelopmentCase) -> dict[str, dt.date]:
    """The latest date of each dated step (steps come prefetched in date order)."""
    return {s.code: s.done_on for s in case.steps.all() if s.code in DATED_STEPS}


def _role_names(case: DevelopmentCase, role: str) -> str:
    return "、".join(r.person.name for r in case.roles.all() if r.role == role)


def roster_row(
    case: DevelopmentCase, *, on: dt.date, next_step: tuple[str, dt.date | None] | None
) -> list[Any]:
    """One case as a row of the roster (prefetched relations only: no query)."""
    person = case.person
    dates = _step_dates(case)
    title, latest = next_step if next_step else ("", None)
    return [
        person.name,
        person.get_gender_display() if person.gender else "",
        person.birth_date,
        age_on(person.birth_date, on),
        person.get_education_display() if person.education else "",
        person.position,
        branch_title(person.org),
        dates.get("application") or case.opened_on,
        dates.get("activist_designation") or person.activist_on,
        dates.get("candidate_designation") or person.candidate_on,
        _role_names(case, CaseRoleKind.MENTOR),
        _role_names(case, CaseRoleKind.SPONSOR),
        dates.get("reception_vote"),
        case.probation_ends_on,
        title,
        latest,
    ]


def _sheet(wb: Workbook, title: str) -> WriteOnlyWorksheet:
    ws = wb.create_sheet(title[:31])
    ws.freeze_panes = "A2"
    for index, col in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = col.width
    header = []
    for col in COLUMNS:
        cell = WriteOnlyCell(ws, value=col.title)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        header.append(cell)
    ws.append(header)
    return ws  # type: ignore[no-any-return]


def _cells(ws: WriteOnlyWorksheet, values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if isinstance(value, str):
            out.append(neutralise(value))
        elif isinstance(value, dt.date):
            cell = WriteOnlyCell(ws, value=value)  # type: ignore[arg-type]  # dates are written; the stubs omit them
            cell.number_format = DATE_FORMAT
            out.append(cell)
        else:
            out.append(value)
    return out


def write_roster_xlsx(
    cases: Sequence[DevelopmentCase],
    fileobj: IO[bytes],
    *,
    on: dt.date,
    next_steps: NextSteps | None = None,
) -> dict[str, int]:
    """Write loaded cases to a workbook, one sheet per stage in pipeline order; returns rows per stage."""
    next_steps = next_steps or {}
    wb = Workbook(write_only=True)
    counts: dict[str, int] = {}
    for stage in Stage:
        ws = _sheet(wb, stage.label)
        counts[stage.value] = 0
        for case in cases:
            if case.stage != stage.value:
                continue
            ws.append(_cells(ws, roster_row(case, on=on, next_step=next_steps.get(case.pk))))
            counts[stage.value] += 1
    wb.save(fileobj)
    return counts


def development_roster_xlsx(
    cases: QuerySet[DevelopmentCase],
    fileobj: IO[bytes],
    *,
    on: dt.date,
    next_steps: NextSteps | None = None,
) -> dict[str, int]:
    """The roster of the open cases of a (scope-filtered) queryset; returns rows per stage."""
    return write_roster_xlsx(load_roster_cases(cases), fileobj, on=on, next_steps=next_steps)
