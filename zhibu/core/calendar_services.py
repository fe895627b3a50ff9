"""Every write to the working-day calendar and to schools' semesters: validated, atomic, audited.

The calendar is global (one for the whole installation), so its audit rows carry org_path "". Only an
administrator, or a user who manages a work-committee-level org (教育工委), may change it.

A year's schedule file
----------------------
`zhibu calendar load FILE` and the calendar page read one year's State Council schedule from a YAML or a
CSV file (UTF-8; a CSV may also be GBK, as Excel saves it). Dates are YYYY-MM-DD; a range
YYYY-MM-DD~YYYY-MM-DD (or 至 instead of ~) stands for every day from the first to the last, both
included, at most 31 days. Every date must lie in the file's year, appear once, and carry a name.

YAML::

    year: 2027                      # or 年份; may instead come from --year / the page
    note: 国务院办公厅关于2027年部分节假日安排的通知    # optional (or 依据)
    holidays:                       # days off (or 放假)
      - {date: 2027-01-01, name: 元旦}
      - {date: 2027-02-06~2027-02-12, name: 春节}      # (or 日期, 名称)
    workdays:                       # make-up working days (or 上班)
      - {date: 2027-02-14, name: 春节调休上班}

CSV (a header row; before it, optionally, a row "年份,2027"; lines starting with # are skipped)::

    年份,2027
    日期,类型,名称
    2027-01-01,放假,元旦
    2027-02-06~2027-02-12,放假,春节
    2027-02-14,上班,春节调休上班

类型 is 放假 (also 休, 假, holiday) or 上班 (also 班, workday); the header may also read date,kind,name.

Loading replaces whatever schedule that year had (all or nothing; on any fault nothing is written and
every fault is reported with its line). The loaded schedule then answers for the whole year instead of
the chinesecalendar package; single-day overrides still beat it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any

import yaml
from django.db import transaction

from zhibu.core.audit import audit_record, diff, snapshot
from zhibu.core.calendar import MAKEUP_SUFFIX, semesters_for
from zhibu.core.errors import NotPermitted, ServiceError
from zhibu.core.models import CalendarDay, CalendarYear, CalendarYearDay, Semester, SemesterKind
from zhibu.core.scoping import Scope

MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_FILE_BYTES = 256 * 1024
MAX_RANGE_DAYS = 31
MAX_ERRORS_IN_MESSAGE = 10
NAME_MAX = 40
NOTE_MAX = 200
DEFAULT_HOLIDAY_NAME = "放假"

_RANGE = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2})\s*(?:(?:~|～|至|\.\.)\s*(\d{4}-\d{1,2}-\d{1,2}))?\s*$")
_HOLIDAY_WORDS = {"放假", "休", "假", "休息", "holiday", "holidays", "off", "rest"}
_WORKDAY_WORDS = {"上班", "班", "调休上班", "workday", "workdays", "work"}
_YAML_KEYS = {
    "year": "year",
    "年份": "year",
    "note": "note",
    "依据": "note",
    "说明": "note",
    "holidays": "holidays",
    "放假": "holidays",
    "workdays": "workdays",
    "上班": "workdays",
}
_ENTRY_KEYS = {"date": "date", "日期": "date", "name": "name", "名称": "name"}
_CSV_COLUMNS = {
    "日期": "date",
    "date": "date",
    "类型": "kind",
    "kind": "kind",
    "type": "kind",
    "名称": "name",
    "name": "name",
}


# Who may change the calendar -----------------------------------------------------------------------------


def calendar_can_change(scope: Scope) -> bool:
    """Whether the user may change the calendar: an administrator or a manager of a work committee."""
    from zhibu.orgs.models import Organization, OrgKind

    if scope.is_admin:
        return True
    if not scope.manage_paths:
        return False
    return Organization.objects.filter(path__in=scope.manage_paths, kind=OrgKind.WORK_COMMITTEE).exists()


def calendar_check_can_change(scope: Scope) -> None:
    """NotPermitted unless the user may change the calendar."""
    if not calendar_can_change(scope):
        raise NotPermitted("只有系统管理员或教育工委的管理人员可以修改工作日历")


# Single days -----------------------------------------------------------------------------------------


@transaction.atomic
def calendar_day_set(
    *, actor: Any, scope: Scope, date: dt.date, is_workday: bool, name: str = "", note: str = ""
) -> CalendarDay:
    """Make one date a working day or a day off, whatever the schedule says (audited)."""
    calendar_check_can_change(scope)
    name = (name or "").strip() or (MAKEUP_SUFFIX if is_workday else DEFAULT_HOLIDAY_NAME)
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if not isinstance(date, dt.date) or not MIN_YEAR <= date.year <= MAX_YEAR:
        errors["date"] = [f"日期应在 {MIN_YEAR} 至 {MAX_YEAR} 年之间"]
    if len(name) > NAME_MAX:
        errors["name"] = [f"名称不能超过{NAME_MAX}个字"]
    if len(note) > NOTE_MAX:
        errors["note"] = [f"说明不能超过{NOTE_MAX}个字"]
    if errors:
        raise ServiceError(_first(errors), errors=errors)
    day = CalendarDay.objects.select_for_update().filter(date=date).first()
    before = snapshot(day) if day else {}
    if day is None:
        day = CalendarDay(date=date)
    day.is_workday, day.name, day.note = is_workday, name, note
    day.save()
    changes = diff(before, snapshot(day))
    if changes or not before:
        audit_record(actor=actor, action="update" if before else "create", obj=day, changes=changes)
    return day


@transaction.atomic
def calendar_day_clear(*, actor: Any, scope: Scope, date: dt.date) -> None:
    """Remove the override of one date, so the schedule answers for it again (audited)."""
    calendar_check_can_change(scope)
    day = CalendarDay.objects.select_for_update().filter(date=date).first()
    if day is None:
        raise ServiceError(f"{date:%Y-%m-%d} 没有单日调整，无需清除", field="date")
    before = snapshot(day)
    audit_record(
        actor=actor,
        action="update",
        obj=day,
        changes={k: [v, None] for k, v in before.items() if k != "updated_at"},
        note="清除单日调整",
    )
    day.delete()


# A year's schedule -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleEntry:
    """One date of a year's schedule; `line` is where it came from in a file (None when not from one)."""

    date: dt.date
    is_workday: bool
    name: str
    line: int | None = None

    @property
    def where(self) -> str:
        return f"第{self.line}行" if self.line is not None else f"{self.date:%Y-%m-%d}"


@dataclass(frozen=True)
class ParsedSchedule:
    year: int | None
    note: str
    entries: list[ScheduleEntry]


def _refuse(errors: list[str]) -> ServiceError:
    shown = errors[:MAX_ERRORS_IN_MESSAGE]
    more = f"；另有 {len(errors) - len(shown)} 处错误" if len(errors) > len(shown) else ""
    return ServiceError("放假安排有误，未作任何改动：" + "；".join(shown) + more, errors={"file": errors})


def _first(errors: dict[str, list[str]]) -> str:
    return next(iter(errors.values()))[0]


@transaction.atomic
def calendar_year_load(
    *, actor: Any, scope: Scope, year: int, entries: list[ScheduleEntry], note: str = "", source: str = ""
) -> CalendarYear:
    """Load (or replace) a year's schedule: all or nothing, validated, audited."""
    calendar_check_can_change(scope)
    errors = _validate_schedule(year, entries)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        errors.append(f"依据不能超过{NOTE_MAX}个字")
    if errors:
        raise _refuse(errors)
    cy = CalendarYear.objects.select_for_update().filter(year=year).first()
    before = _schedule_lines(cy) if cy else []
    if cy is None:
        cy = CalendarYear.objects.create(year=year, note=note)
    else:
        cy.days.all().delete()
        cy.note = note
        cy.save()
    CalendarYearDay.objects.bulk_create(
        CalendarYearDay(calendar_year=cy, date=e.date, is_workday=e.is_workday, name=e.name.strip())
        for e in sorted(entries, key=lambda e: e.date)
    )
    audit_record(
        actor=actor,
        action="import",
        obj=cy,
        changes={"days": [before, _schedule_lines(cy)]},
        note=f"载入 {year} 年放假安排" + (f"（{source}）" if source else ""),
    )
    return cy


def _schedule_lines(cy: CalendarYear) -> list[str]:
    return [
        f"{d.date:%Y-%m-%d} {'上班' if d.is_workday else '放假'} {d.name}" for d in cy.days.order_by("date")
    ]


def _validate_schedule(year: int, entries: list[ScheduleEntry]) -> list[str]:
    errors: list[str] = []
    if not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        return [f"年份应在 {MIN_YEAR} 至 {MAX_YEAR} 之间"]
    if not entries:
        return ["没有任何放假或调休上班的日期"]
    seen: dict[dt.date, ScheduleEntry] = {}
    for e in entries:
        if e.date.year != year:
            errors.append(f"{e.where}：日期 {e.date:%Y-%m-%d} 不在 {year} 年")
        name = (e.name or "").strip()
        if not name:
            errors.append(f"{e.where}：{e.date:%Y-%m-%d} 缺少名称")
        elif len(name) > NAME_MAX:
            errors.append(f"{e.where}：名称不能超过{NAME_MAX}个字")
        first = seen.get(e.date)
        if first is None:
            seen[e.date] = e
        elif first.is_workday != e.is_workday:
            errors.append(f"{e.where}：{e.date:%Y-%m-%d} 既是放假又是上班（另见{first.where}）")
        else:
            errors.append(f"{e.where}：日期 {e.date:%Y-%m-%d} 重复（另见{first.where}）")
    return errors


def calendar_year_load_file(
    *, actor: Any, scope: Scope, content: bytes, filename: str, year: int | None = None
) -> CalendarYear:
    """Parse a schedule file (YAML or CSV, see the module docstring) and load it."""
    calendar_check_can_change(scope)
    parsed = parse_year_schedule(content, filename=filename, year=year)
    assert parsed.year is not None  # parse_year_schedule refuses a file without one
    return calendar_year_load(
        actor=actor, scope=scope, year=parsed.year, entries=parsed.entries, note=parsed.note, source=filename
    )


def parse_year_schedule(content: bytes | str, *, filename: str, year: int | None = None) -> ParsedSchedule:
    """Read a schedule file into entries that know their line; ServiceError naming every bad line."""
    if isinstance(content, bytes):
        if len(content) > MAX_FILE_BYTES:
            raise ServiceError(f"文件过大：放假安排文件不应超过 {MAX_FILE_BYTES // 1024} KB", field="file")
        text = _decode(content)
    else:
        text = content
    if "\x00" in text:
        raise ServiceError("文件中含有控制字符，不是文本文件", field="file")
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix in ("yaml", "yml"):
        parsed = _parse_yaml(text)
    elif suffix in ("csv", "txt"):
        parsed = _parse_csv(text)
    else:
        raise ServiceError("只能载入 .yaml、.yml 或 .csv 文件", field="file")
    if year is not None and parsed.year is not None and year != parsed.year:
        raise ServiceError(f"文件中的年份 {parsed.year} 与指定的年份 {year} 不一致", field="file")
    final_year = parsed.year if parsed.year is not None else year
    if final_year is None:
        raise ServiceError(
            "文件中没有写明年份（YAML 写 year: 2027，CSV 首行写 年份,2027），也未另行指定", field="file"
        )
    return ParsedSchedule(final_year, parsed.note, parsed.entries)


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ServiceError("无法识别文件编码：请存为 UTF-8", field="file")


def _dates(text: str, where: str, errors: list[str]) -> list[dt.date]:
    """The dates a cell stands for: one date, or a range with both ends included."""
    m = _RANGE.match(text or "")
    if not m:
        errors.append(
            f"{where}：“{(text or '').strip()[:30]}”不是日期（应为 YYYY-MM-DD 或 YYYY-MM-DD~YYYY-MM-DD）"
        )
        return []
    try:
        first = dt.date.fromisoformat(_pad(m.group(1)))
        last = dt.date.fromisoformat(_pad(m.group(2))) if m.group(2) else first
    except ValueError:
        errors.append(f"{where}：“{text.strip()[:30]}”不是有效的日期")
        return []
    if last < first:
        errors.append(f"{where}：日期段 {first:%Y-%m-%d}~{last:%Y-%m-%d} 的结束早于开始")
        return []
    if (last - first).days >= MAX_RANGE_DAYS:
        errors.append(f"{where}：一段日期最长 {MAX_RANGE_DAYS} 天")
        return []
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _pad(value: str) -> str:
    y, m, d = value.split("-")
    return f"{y}-{int(m):02d}-{int(d):02d}"


def _year_value(text: str, where: str, errors: list[str]) -> int | None:
    text = (text or "").strip()
    if not re.fullmatch(r"\d{4}", text):
        errors.append(f"{where}：年份“{text[:10]}”应为四位数字")
        return None
    return int(text)


def _parse_yaml(text: str) -> ParsedSchedule:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第{mark.line + 1}行：" if mark is not None else ""
        raise ServiceError(
            f"YAML 格式有误，未作任何改动：{where}{getattr(exc, 'problem', '') or exc}"
        ) from exc
    if not isinstance(root, yaml.MappingNode):
        raise ServiceError("YAML 文件应以 year、holidays、workdays 等键开头", field="file")
    errors: list[str] = []
    year: int | None = None
    note = ""
    entries: list[ScheduleEntry] = []
    for key_node, value_node in root.value:
        line = key_node.start_mark.line + 1
        key = _YAML_KEYS.get(str(key_node.value).strip())
        if key is None:
            errors.append(
                f"第{line}行：未知的键“{str(key_node.value)[:20]}”（可用 year、note、holidays、workdays）"
            )
        elif key == "year":
            year = _year_value(_scalar(value_node), f"第{line}行", errors)
        elif key == "note":
            note = _scalar(value_node).strip()
        else:
            entries += _yaml_entries(value_node, is_workday=(key == "workdays"), errors=errors)
    if errors:
        raise _refuse(errors)
    return ParsedSchedule(year, note, entries)


def _scalar(node: yaml.Node) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else ""


def _yaml_entries(node: yaml.Node, *, is_workday: bool, errors: list[str]) -> list[ScheduleEntry]:
    if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
        return []
    if not isinstance(node, yaml.SequenceNode):
        errors.append(f"第{node.start_mark.line + 1}行：应为列表，每项写 date 和 name")
        return []
    out: list[ScheduleEntry] = []
    for item in node.value:
        line = item.start_mark.line + 1
        where = f"第{line}行"
        if not isinstance(item, yaml.MappingNode):
            errors.append(f"{where}：每项应写成 {{date: YYYY-MM-DD, name: 名称}}")
            continue
        fields: dict[str, str] = {}
        for k, v in item.value:
            key = _ENTRY_KEYS.get(str(k.value).strip())
            if key is None:
                errors.append(
                    f"第{k.start_mark.line + 1}行：未知的键“{str(k.value)[:20]}”（可用 date、name）"
                )
            else:
                fields[key] = _scalar(v)
        if "date" not in fields:
            errors.append(f"{where}：缺少 date")
            continue
        for date in _dates(fields["date"], where, errors):
            out.append(ScheduleEntry(date, is_workday, fields.get("name", "").strip(), line))
    return out


def _parse_csv(text: str) -> ParsedSchedule:
    errors: list[str] = []
    year: int | None = None
    columns: dict[str, int] | None = None
    entries: list[ScheduleEntry] = []
    reader = csv.reader(io.StringIO(text))
    for row in reader:
        line = reader.line_num
        where = f"第{line}行"
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        head = cells[0].lower()
        if columns is None and head in ("年份", "year"):
            year = _year_value(cells[1] if len(cells) > 1 else "", where, errors)
            continue
        if columns is None:
            if _RANGE.match(cells[0]):
                columns = {"date": 0, "kind": 1, "name": 2}  # no header: the documented order
            else:
                columns = {}
                for i, c in enumerate(cells):
                    if _CSV_COLUMNS.get(c.lower()):
                        columns[_CSV_COLUMNS[c.lower()]] = i
                missing = [label for key, label in (("date", "日期"), ("kind", "类型")) if key not in columns]
                if missing:
                    raise _refuse([f"{where}：表头缺少“{'、'.join(missing)}”列（应为 日期,类型,名称）"])
                continue

        kind = _cell(cells, columns, "kind").lower()
        if kind in _HOLIDAY_WORDS:
            is_workday = False
        elif kind in _WORKDAY_WORDS:
            is_workday = True
        else:
            errors.append(f"{where}：类型“{kind[:10]}”应为“放假”或“上班”")
            continue
        for date in _dates(_cell(cells, columns, "date"), where, errors):
            entries.append(ScheduleEntry(date, is_workday, _cell(cells, columns, "name"), line))
    if errors:
        raise _refuse(errors)
    return ParsedSchedule(year, "", entries)


def _cell(cells: list[str], columns: dict[str, int], key: str) -> str:
    i = columns.get(key)
    return cells[i] if i is not None and i < len(cells) else ""


# Semesters -------------------------------------------------------------------------------------------


@transaction.atomic
def semesters_set(
    *,
    actor: Any,
    scope: Scope,
    school: Any,
    school_year: int,
    autumn_starts_on: dt.date,
    autumn_ends_on: dt.date,
    spring_starts_on: dt.date,
    spring_ends_on: dt.date,
) -> list[Semester]:
    """Set a school's autumn and spring semesters of one school year (its managers only; audited)."""
    if not getattr(school, "is_school", False):
        raise ServiceError("学期只能按学校党组织设置", field="school")
    if not scope.can_manage_org(school):
        raise NotPermitted(f"您无权设置“{school.name}”的学期")
    errors: dict[str, list[str]] = {}

    def err(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not MIN_YEAR <= school_year <= MAX_YEAR:
        raise ServiceError(f"学年应在 {MIN_YEAR} 至 {MAX_YEAR} 之间", field="school_year")
    nxt = school_year + 1
    if autumn_starts_on >= autumn_ends_on:
        err("autumn_ends_on", "秋季学期的结束日期应晚于开始日期")
    if spring_starts_on >= spring_ends_on:
        err("spring_ends_on", "春季学期的结束日期应晚于开始日期")
    if autumn_starts_on.year != school_year:
        err("autumn_starts_on", f"{school_year}–{nxt} 学年的秋季学期应在 {school_year} 年开始")
    if spring_ends_on.year != nxt:
        err("spring_ends_on", f"{school_year}–{nxt} 学年的春季学期应在 {nxt} 年结束")
    if autumn_ends_on >= spring_starts_on:
        err("spring_starts_on", "春季学期应在秋季学期结束之后开始，两个学期不能重叠")
    before_year = semesters_for(school, school_year - 1).spring
    if autumn_starts_on <= before_year.ends_on:
        default = "（默认）" if before_year.is_default else ""
        err(
            "autumn_starts_on",
            f"秋季学期与上一学年的春季学期{default}（至 {before_year.ends_on:%Y-%m-%d}）重叠",
        )
    after_year = semesters_for(school, nxt).autumn
    if spring_ends_on >= after_year.starts_on:
        default = "（默认）" if after_year.is_default else ""
        err(
            "spring_ends_on",
            f"春季学期与下一学年的秋季学期{default}（自 {after_year.starts_on:%Y-%m-%d} 起）重叠",
        )
    if errors:
        raise ServiceError(_first(errors), errors=errors)
    existing = {
        s.kind: s for s in Semester.objects.select_for_update().filter(school=school, school_year=school_year)
    }
    saved: list[Semester] = []
    for kind, starts_on, ends_on in (
        (SemesterKind.AUTUMN, autumn_starts_on, autumn_ends_on),
        (SemesterKind.SPRING, spring_starts_on, spring_ends_on),
    ):
        sem = existing.get(kind)
        before = snapshot(sem) if sem else {}
        if sem is None:
            sem = Semester(school=school, school_year=school_year, kind=kind)
        sem.starts_on, sem.ends_on = starts_on, ends_on
        after = snapshot(sem, fields=("starts_on", "ends_on", "kind", "school_year", "school"))
        changes = diff({k: v for k, v in before.items() if k in after}, after)
        if changes or sem.pk is None:
            sem.save()
            audit_record(
                actor=actor,
                action="update" if before else "create",
                obj=sem,
                org_path=school.path,
                changes=changes,
            )
        saved.append(sem)
    return saved
