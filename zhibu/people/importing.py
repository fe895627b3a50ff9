"""Registry import: a spreadsheet (.xlsx or .csv) of people checked row by row, then written all at once."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.datavalidation import DataValidation

from zhibu.core import idcard
from zhibu.core.audit import snapshot
from zhibu.core.errors import NotPermitted, ServiceError
from zhibu.core.models import AuditEntry
from zhibu.core.scoping import Scope
from zhibu.orgs.models import Organization, OrgKind
from zhibu.people.models import Education, Employment, Gender, Person, Status, StatusChange
from zhibu.people.services import label, person_build, validate_person_data
from zhibu.people.status import DATE_FIELD_FOR, INITIAL_STATUSES

MAX_ROWS = 5000
# Wider rows are cut here so that a hostile file cannot make us hold millions of cells per row.
MAX_COLUMNS = 64
# A zip that inflates past this is not a registry of 5000 people (and may be a zip bomb).
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
# Text starting with these is run as a formula by spreadsheet programs; exports prefix an apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TRUE_WORDS = frozenset({"是", "y", "yes", "1", "√", "✓", "true", "t", "对"})
FALSE_WORDS = frozenset({"否", "n", "no", "0", "×", "✗", "x", "false", "f", "无"})
DATE_FORMATS_HINT = "可写作 2020-01-05、2020/1/5、2020.1.5、20200105 或 2020年1月5日"
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATE_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_ORG_WITH_CODE = re.compile(r"^(.*?)\s*[（(]\s*([A-Za-z0-9_-]+)\s*[)）]$")
STATUS_ALIASES = {
    "积极分子": Status.ACTIVIST,
    "中共党员": Status.FULL_MEMBER,
    "中共预备党员": Status.PROBATIONARY,
}
EDUCATION_ALIASES = {
    "博士": Education.DOCTORATE,
    "硕士": Education.MASTER,
    "研究生": Education.MASTER,
    "本科": Education.BACHELOR,
    "大学": Education.BACHELOR,
    "大专": Education.JUNIOR_COLLEGE,
    "专科": Education.JUNIOR_COLLEGE,
    "中专": Education.SECONDARY,
    "高中": Education.SECONDARY,
    "初中": Education.BELOW,
}


class CellError(ValueError):
    """A cell that cannot be read; the message is Chinese and shown to the user."""


@dataclass(frozen=True)
class Column:
    header: str
    field: str  # a Person field, or "status"
    required: bool
    kind: str  # text, id, phone, choice, bool, date, org, group, status
    width: int
    help: str
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)

    @property
    def title(self) -> str:
        """The header as written in files: required columns carry an asterisk."""
        return f"{self.header}*" if self.required else self.header


def _initial_status_choices() -> tuple[tuple[str, str], ...]:
    return tuple((str(s), str(Status(s).label)) for s in INITIAL_STATUSES)


def _bool_col(header: str, field_name: str, help_text: str) -> Column:
    return Column(header, field_name, False, "bool", 10, help_text, (("1", "是"), ("0", "否")))


def _date_col(header: str, field_name: str, help_text: str) -> Column:
    return Column(header, field_name, False, "date", 14, f"{help_text}；{DATE_FORMATS_HINT}")


# The registry's columns, defined once: the import reads them, the template and the export write them.
COLUMNS: tuple[Column, ...] = (
    Column("姓名", "name", True, "text", 12, "必填，不超过50字"),
    Column(
        "性别", "gender", False, "choice", 6, "填写身份证号时可不填（由身份证号推出）", tuple(Gender.choices)
    ),
    Column("民族", "ethnicity", False, "text", 8, "如 汉族、回族；不填按汉族"),
    _date_col("出生日期", "birth_date", "填写身份证号时可不填；填写时须与身份证号一致"),
    Column("学历", "education", False, "choice", 12, "最高学历", tuple(Education.choices)),
    Column("身份证号", "id_number", False, "id", 22, "18位，末位可为X；请设为文本格式，以免被 Excel 截断"),
    Column("手机号", "phone", False, "phone", 14, "11位手机号，座机可写作 010-12345678"),
    Column("职务/岗位", "position", False, "text", 16, "如 语文教师、教务处主任"),
    Column("在职情况", "employment", False, "choice", 10, "不填按在职", tuple(Employment.choices)),
    Column(
        "所在支部", "org", True, "org", 24, "支部名称或组织代码；重名时请填写组织代码；导入到某支部时可不填"
    ),
    Column("党小组", "group", False, "group", 12, "该支部下的党小组名称"),
    Column(
        "身份", "status", True, "status", 14, "导入时的身份；日期见右侧各阶段日期", _initial_status_choices()
    ),
    _bool_col("骨干教师", "backbone_teacher", "是/否，不填为否"),
    _bool_col("组织关系已转入", "relationship_transferred_in", "是/否，不填为是"),
    _bool_col("困难党员", "in_need", "是/否，不填为否"),
    Column("困难情况", "in_need_note", False, "text", 20, "困难党员的情况说明，不超过300字"),
    _bool_col("志愿者", "volunteer", "是/否，不填为否"),
    Column("志愿服务特长", "volunteer_skills", False, "text", 16, "不超过200字"),
    _date_col("递交入党申请日期", "applied_on", "不晚于今天"),
    _date_col("确定为积极分子日期", "activist_on", "不早于递交申请日期"),
    _date_col("确定为发展对象日期", "candidate_on", "不早于确定为积极分子日期"),
    _date_col("入党日期", "joined_on", "预备期开始之日"),
    _date_col("转正日期", "confirmed_on", "不早于入党日期"),
    Column("备注", "note", False, "text", 24, ""),
)
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}


@dataclass(frozen=True)
class Problem:
    row: int | None  # spreadsheet row number; None for the file as a whole
    column: str  # column letter, "" when not tied to a column
    header: str
    message: str

    def __str__(self) -> str:
        where = f"第{self.row}行" if self.row else ""
        if self.column:
            where += f" {self.column}列（{self.header}）"
        elif self.header:
            where += f" {self.header}"
        return f"{where.strip()}：{self.message}" if where.strip() else self.message


@dataclass
class ImportReport:
    ok: bool
    created: int
    problems: list[str]
    summary: str
    rows_checked: int
    details: list[Problem] = field(default_factory=list)


@dataclass
class _Row:
    number: int
    data: dict[str, Any] = field(default_factory=dict)
    status: str = ""
    clean: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


# Reading the file -----------------------------------------------------------------------------------
def _read_limited(fileobj: IO[bytes]) -> bytes:
    """The file's bytes, refused when empty or over the upload limit (measured before reading)."""
    limit = settings.ZHIBU_MAX_UPLOAD_BYTES
    size = _size(fileobj)
    if size is not None and size > limit:
        raise ServiceError(f"文件过大（{size / 1024 / 1024:.1f} MB），上限为 {limit // 1024 // 1024} MB")
    data = fileobj.read(limit + 1)
    if len(data) > limit:  # the stream could not tell its size
        raise ServiceError(f"文件过大，上限为 {limit // 1024 // 1024} MB")
    if not data.strip():
        raise ServiceError("文件是空的")
    return data


def _size(fileobj: IO[bytes]) -> int | None:
    size = getattr(fileobj, "size", None)
    if isinstance(size, int):
        return size
    try:
        here = fileobj.tell()
        end = fileobj.seek(0, io.SEEK_END)
        fileobj.seek(here)
        return end - here
    except (OSError, AttributeError, ValueError):
        return None


def _file_kind(filename: str, data: bytes) -> str:
    """xlsx or csv, decided by the extension and checked against the content."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ServiceError("这是旧版 Excel（.xls）文件，请在 Excel 中“另存为” .xlsx 后再导入")
    if ext not in ("xlsx", "csv"):
        raise ServiceError("不支持的文件类型：请上传 .xlsx（Excel）或 .csv 文件")
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"  # a workbook renamed .csv is still a workbook
    if ext == "xlsx":
        raise ServiceError(
            "文件不是有效的 Excel（.xlsx）文件，可能是其他格式改了扩展名；请用 Excel 打开后另存为 .xlsx"
        )
    return "csv"


def _xlsx_rows(data: bytes) -> Iterator[tuple[Any, ...]]:
    broken = ServiceError("Excel 文件已损坏或格式不正确，无法读取；请用 Excel 打开后重新保存为 .xlsx")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(info.file_size for info in zf.infolist()) > MAX_UNZIPPED_BYTES:
                raise ServiceError("Excel 文件解压后过大，请删除多余的工作表或内容后再导入")
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ServiceError:
        raise
    except Exception as exc:  # a damaged workbook can fail anywhere inside zipfile or openpyxl
        raise broken from exc
    try:
        if not wb.worksheets:
            raise ServiceError("Excel 文件中没有工作表")
        yield from wb.worksheets[0].iter_rows(values_only=True, max_col=MAX_COLUMNS)
    except ServiceError:
        raise
    except Exception as exc:  # the sheet's XML is read lazily, so damage may surface only here
        raise broken from exc
    finally:
        wb.close()


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ServiceError("无法识别 CSV 文件的编码，请另存为“CSV UTF-8”或 .xlsx 后再导入")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            yield row[:MAX_COLUMNS]
    except csv.Error as exc:
        # The csv module speaks English; say the same in Chinese, with the line it stopped at.
        raise ServiceError(f"CSV 文件第{reader.line_num}行格式有误：{_csv_reason(str(exc))}") from exc


def _csv_reason(english: str) -> str:
    if "NUL" in english:
        return "含有空字符，可能不是文本格式的 CSV 文件，请另存为“CSV UTF-8”或 .xlsx"
    if "field larger than field limit" in english:
        return "某个单元格的内容过长"
    if "new-line character seen in unquoted field" in english or "unexpected end of data" in english:
        return "引号或换行不配对，请用 Excel 打开后重新保存"
    return "无法按 CSV 读取，请用 Excel 打开后另存为 .xlsx"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# Parsing cells --------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date):
        return f"{value:%Y-%m-%d}"
    text = str(value).replace("\u3000", " ").strip()
    if "\x00" in text:
        # No database stores NUL; PostgreSQL would fail the whole import at the write.
        raise CellError("含有不可见的控制字符（空字符），请删除后再导入；若整个文件如此，请另存为“CSV UTF-8”")
    # Undo the apostrophe our export puts before formula-like text, so an export re-imports as it was.
    if text[:1] == "'" and text[1:2] in FORMULA_STARTS:
        text = text[1:]
    return text


def _parse_text(value: Any, col: Column) -> str:
    return _text(value)


def _parse_id(value: Any, col: Column) -> str:
    if isinstance(value, float) or (isinstance(value, int) and value >= 10**15):
        # Excel keeps 15 significant digits: an 18-digit number has lost its last digits already.
        raise CellError("身份证号被 Excel 存成了数字（末几位已丢失），请将该列设为文本格式后重新填写")
    return idcard.normalise(_text(value))


def _parse_phone(value: Any, col: Column) -> str:
    return re.sub(r"\s", "", _text(value))


def _parse_choice(value: Any, col: Column) -> str:
    text = _text(value)
    for code, choice_label in col.choices:
        if text in (choice_label, code):
            return code
    if col.field == "gender" and text in ("男性", "女性"):
        return Gender.MALE if text == "男性" else Gender.FEMALE
    if col.field == "education" and text in EDUCATION_ALIASES:
        return str(EDUCATION_ALIASES[text])
    allowed = "、".join(choice_label for _, choice_label in col.choices)
    raise CellError(f"“{text}”不是可选值（可填：{allowed}）")


def _parse_status(value: Any, col: Column) -> str:
    text = _text(value)
    if text in STATUS_ALIASES:
        return str(STATUS_ALIASES[text])
    code = next((v for v, lab in Status.choices if text in (v, lab)), None)
    if code is not None:
        if code not in INITIAL_STATUSES:
            allowed = "、".join(lab for _, lab in col.choices)
            raise CellError(f"“{text}”的人员不能通过导入建档（可填：{allowed}）")
        return code
    return _parse_choice(value, col)


def _parse_bool(value: Any, col: Column) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError(f"“{_text(value)}”应填写 是 或 否")


def _parse_date(value: Any, col: Column) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1000 < value < 100000:
        # A date cell that lost its date format shows as Excel's day count.
        serial = from_excel(value)
        if isinstance(serial, dt.datetime):
            return serial.date()
    text = _text(value).split(" ")[0].split("T")[0]
    match = _DATE_TEXT.match(text) or _DATE_DIGITS.match(text)
    if not match:
        raise CellError(f"“{_text(value)}”不是有效日期（{DATE_FORMATS_HINT}）")
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise CellError(f"日期“{_text(value)}”不存在") from None


PARSERS: dict[str, Callable[[Any, Column], Any]] = {
    "text": _parse_text,
    "id": _parse_id,
    "phone": _parse_phone,
    "choice": _parse_choice,
    "status": _parse_status,
    "bool": _parse_bool,
    "date": _parse_date,
}


class _Branches:
    """Finds the branch and group a row names, within the target org's subtree (two queries in all)."""

    def __init__(self, org: Organization) -> None:
        self.org = org
        orgs = list(
            Organization.objects.subtree(org)
            .filter(kind__in=(OrgKind.BRANCH, OrgKind.GROUP))
            .order_by("path")
        )
        self.branches = [o for o in orgs if o.kind == OrgKind.BRANCH]
        self.groups: dict[int, list[Organization]] = {}
        for o in orgs:
            if o.kind == OrgKind.GROUP and o.parent_id is not None:
                self.groups.setdefault(o.parent_id, []).append(o)

    def branch(self, value: Any) -> Organization:
        text = _text(value)
        if not text:
            if self.org.kind == OrgKind.BRANCH:
                return self.org
            raise CellError("请填写所在支部（支部名称或组织代码）")
        with_code = _ORG_WITH_CODE.match(text)
        code = with_code[2] if with_code else text
        by_code = [b for b in self.branches if b.code.lower() == code.lower()]
        if by_code:
            return by_code[0]
        by_name = [b for b in self.branches if text in (b.name, b.short_name)]
        if len(by_name) == 1:
            return by_name[0]
        if by_name:
            codes = "、".join(b.code for b in by_name)
            raise CellError(f"“{text}”有 {len(by_name)} 个同名支部，请改填组织代码（{codes}）")
        raise CellError(f"在“{self.org.name}”下找不到支部“{text}”（可填写支部名称或组织代码）")

    def group(self, value: Any, branch: Organization) -> Organization:
        text = _text(value)
        groups = self.groups.get(branch.pk, [])
        for g in groups:
            if text in (g.name, g.short_name, g.code):
                return g
        known = "、".join(g.name for g in groups) or "无"
        raise CellError(f"“{branch.name}”下没有党小组“{text}”（现有：{known}）")


# Checking rows --------------------------------------------------------------------------------------
def _check_header(header: Sequence[Any]) -> dict[int, Column]:
    """Column index → Column; refuses missing required, unknown and repeated headers."""
    by_header = {c.header: c for c in COLUMNS}
    found: dict[int, Column] = {}
    unknown: list[str] = []
    repeated: list[str] = []
    for index, raw in enumerate(header):
        text = _text(raw.replace("\x00", "") if isinstance(raw, str) else raw).rstrip("*＊").strip()
        if not text:
            continue
        col = by_header.get(text)
        if col is None:
            unknown.append(f"{get_column_letter(index + 1)}列“{text}”")
        elif col in found.values():
            repeated.append(f"“{text}”")
        else:
            found[index] = col
    missing = [f"“{c.header}”" for c in COLUMNS if c.required and c not in found.values()]
    parts = []
    if missing:
        parts.append(f"缺少必填列 {'、'.join(missing)}")
    if unknown:
        parts.append(f"无法识别的列 {'、'.join(unknown)}")
    if repeated:
        parts.append(f"重复的列 {'、'.join(repeated)}")
    if parts:
        raise ServiceError(
            f"表头有误：{'；'.join(parts)}。第1行应为表头，列名请与导入模板一致（可下载模板对照）"
        )
    return found


def _parse_row(number: int, cells: Sequence[Any], columns: dict[int, Column], branches: _Branches) -> _Row:
    row = _Row(number)
    for index, value in enumerate(cells):
        if index not in columns and not _blank(value):
            letter = get_column_letter(index + 1)
            row.problems.append(Problem(number, letter, "无表头", "该列没有表头，内容无法识别"))
    for index, col in columns.items():
        value = cells[index] if index < len(cells) else None
        if col.kind == "group" or (_blank(value) and col.kind not in ("org", "status")):
            continue  # the group is looked up once the branch is known
        try:
            _read_cell(row, col, value, branches)
        except CellError as exc:
            row.problems.append(_problem(row, columns, col.field, str(exc)))
    _parse_group(row, cells, columns, branches)
    return row


def _read_cell(row: _Row, col: Column, value: Any, branches: _Branches) -> None:
    if col.kind == "org":
        row.data["org"] = branches.branch(value)
    elif col.kind == "status":
        if _blank(value):
            raise CellError("请填写身份")
        row.status = _parse_status(value, col)
    else:
        row.data[col.field] = PARSERS[col.kind](value, col)


def _parse_group(row: _Row, cells: Any, columns: dict[int, Column], branches: _Branches) -> None:
    index = next((i for i, c in columns.items() if c.kind == "group"), None)
    if index is None or index >= len(cells) or _blank(cells[index]) or "org" not in row.data:
        return
    try:
        row.data["group"] = branches.group(cells[index], row.data["org"])
    except CellError as exc:
        row.problems.append(_problem(row, columns, "group", str(exc)))


def _problem(row: _Row, columns: dict[int, Column], field_name: str, message: str) -> Problem:
    """A problem placed in the column that holds the field (or named by its label when absent)."""
    for index, col in columns.items():
        if col.field == field_name:
            return Problem(row.number, get_column_letter(index + 1), col.header, message)
    col_def = COLUMN_BY_FIELD.get(field_name)
    header = col_def.header if col_def else (label(field_name) if hasattr(Person, field_name) else field_name)
    return Problem(row.number, "", header, message)


def _validate(row: _Row, columns: dict[int, Column], scope: Scope, today: dt.date) -> None:
    clean, errors = validate_person_data(row.data, scope=scope, today=today)
    failed = {col.field for p in row.problems for col in COLUMNS if col.header == p.header}
    for field_name, messages in errors.items():
        if field_name in failed:
            continue  # the cell itself was unreadable; its own message says why
        row.problems.extend(_problem(row, columns, field_name, m) for m in messages)
    row.clean = clean


def _mark_duplicate_ids(rows: list[_Row], columns: dict[int, Column]) -> None:
    seen: dict[str, list[_Row]] = {}
    for row in rows:
        id_number = row.data.get("id_number")
        if id_number:
            seen.setdefault(id_number, []).append(row)
    for same in seen.values():
        if len(same) < 2:
            continue
        for row in same:
            others = "、".join(f"第{r.number}行" for r in same if r is not row)
            row.problems.append(_problem(row, columns, "id_number", f"与{others}的身份证号重复"))


def _read_rows(
    fileobj: IO[bytes], filename: str, branches: _Branches, scope: Scope, today: dt.date
) -> list[_Row]:
    data = _read_limited(fileobj)
    kind = _file_kind(filename, data)
    lines = iter(_xlsx_rows(data) if kind == "xlsx" else _csv_rows(data))
    header = next(lines, None)
    if header is None or all(_blank(v) for v in header):
        raise ServiceError("第1行没有表头；请使用导入模板（第1行为列名，从第2行起每行一人）")
    columns = _check_header(header)
    rows: list[_Row] = []
    for number, cells in enumerate(lines, start=2):
        if all(_blank(v) for v in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise ServiceError(f"数据超过 {MAX_ROWS} 行，请拆分成几个文件分批导入")
        rows.append(_parse_row(number, cells, columns, branches))
    if not rows:
        raise ServiceError("文件中没有数据行（第1行为表头，从第2行起每行一人）")
    for row in rows:
        _validate(row, columns, scope, today)
    _mark_duplicate_ids(rows, columns)
    return rows


# Writing --------------------------------------------------------------------------------------------
def _write(rows: list[_Row], *, actor: Any, filename: str, today: dt.date) -> int:
    user = actor if getattr(actor, "pk", None) else None
    actor_name = (getattr(actor, "display_name", "") or getattr(actor, "username", "")) if user else "系统"
    reason = f"名册导入：{filename}"[:300]
    people = [person_build(r.clean, status=r.status) for r in rows]
    try:
        with transaction.atomic():
            Person.objects.bulk_create(people, batch_size=500)
            StatusChange.objects.bulk_create(
                [_status_change(p, user=user, reason=reason, today=today) for p in people], batch_size=1000
            )
            AuditEntry.objects.bulk_create(
                [_audit_entry(p, user=user, actor_name=actor_name, note=reason) for p in people],
                batch_size=500,
            )
    except IntegrityError as exc:
        # Someone registered one of these ID numbers between our check and the write.
        raise ServiceError(
            "写入时发现身份证号已被登记（可能有人同时在录入），未导入任何数据，请重新导入"
        ) from exc
    return len(people)


def _status_change(person: Person, *, user: Any, reason: str, today: dt.date) -> StatusChange:
    date_field = DATE_FIELD_FOR.get(person.status)
    effective_on = (getattr(person, date_field) if date_field else None) or today
    return StatusChange(
        person=person,
        from_status="",
        to_status=person.status,
        effective_on=effective_on,
        reason=reason,
        recorded_by=user,
    )


def _audit_entry(person: Person, *, user: Any, actor_name: str, note: str) -> AuditEntry:
    changes = {k: [None, v] for k, v in snapshot(person).items() if v not in (None, "", False)}
    return AuditEntry(
        actor=user,
        actor_name=actor_name,
        action="import",
        object_type=person._meta.label_lower,
        object_id=str(person.pk),
        object_repr=str(person)[:200],
        org_path=person.org.path,
        changes=changes,
        note=note[:500],
    )


def _summary(created: int, problems: int, bad_rows: int, partial: bool) -> str:
    if not problems:
        return f"已导入 {created} 人"
    if not partial:
        return f"发现 {problems} 处错误，未导入任何数据；请改正后重新导入"
    return f"已导入 {created} 人；另有 {bad_rows} 行有错误未导入（共 {problems} 处错误）"


def import_people(
    fileobj: IO[bytes],
    *,
    filename: str,
    org: Organization,
    actor: Any,
    scope: Scope,
    partial: bool = False,
    today: dt.date | None = None,
) -> ImportReport:
    """Import a registry into `org`'s branches: every row is checked first, then all (or the good) written."""
    today = today or dt.date.today()
    if not scope.can_manage_org(org):
        raise NotPermitted(f"您无权向“{org.name}”导入人员")
    rows = _read_rows(fileobj, filename, _Branches(org), scope, today)
    details = sorted((p for r in rows for p in r.problems), key=lambda p: (p.row or 0, p.column))
    good = [r for r in rows if not r.problems]
    created = (
        _write(good, actor=actor, filename=filename, today=today) if good and (partial or not details) else 0
    )
    return ImportReport(
        ok=not details,
        created=created,
        problems=[str(p) for p in details],
        summary=_summary(created, len(details), len(rows) - len(good), partial),
        rows_checked=len(rows),
        details=details,
    )


# The template ---------------------------------------------------------------------------------------
HEADER_FONT = Font(bold=True)
REQUIRED_FILL = PatternFill("solid", fgColor="FDE8E7")


def _allowed_values(col: Column) -> str:
    if col.kind in ("choice", "status"):
        return "、".join(lab for _, lab in col.choices)
    if col.kind == "bool":
        return "是 / 否（也可填 Y/N、1/0、√）"
    if col.kind == "date":
        return DATE_FORMATS_HINT
    return ""


def import_template_xlsx(fileobj: IO[bytes]) -> None:
    """Write the empty import template: the header row, drop-down lists, and a sheet of instructions."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new Workbook always has one sheet
    ws.title = "人员名册"
    ws.append([c.title for c in COLUMNS])
    ws.freeze_panes = "A2"
    for index, col in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        cell = ws.cell(row=1, column=index)
        cell.font = HEADER_FONT
        if col.required:
            cell.fill = REQUIRED_FILL
        ws.column_dimensions[letter].width = col.width
        if col.kind in ("id", "phone"):
            ws.column_dimensions[letter].number_format = "@"  # keep 18-digit IDs from turning into numbers
        if col.kind in ("choice", "status", "bool"):
            options = ",".join(lab for _, lab in col.choices)
            dv = DataValidation(type="list", formula1=f'"{options}"', allow_blank=True)
            dv.error = f"请从下拉列表中选择：{options}"
            dv.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
            ws.add_data_validation(dv)
    _instructions(wb.create_sheet("填写说明"))
    wb.save(fileobj)


def _instructions(ws: Any) -> None:
    ws.append(["列名", "必填", "说明", "可填的值 / 格式"])
    for cell in ws[1]:
        cell.font = HEADER_FONT
    for col in COLUMNS:
        ws.append([col.header, "是" if col.required else "", col.help, _allowed_values(col)])
    ws.append([])
    for line in (
        "第1行为表头，请勿修改列名；从第2行起每行一人，空行会被跳过。",
        f"每个文件最多 {MAX_ROWS} 行，大小不超过 {settings.ZHIBU_MAX_UPLOAD_BYTES // 1024 // 1024} MB。",
        "导入前会检查每一行；默认只要有一处错误就不导入任何数据，改正后重新导入即可。",
        "也可保存为 CSV（UTF-8 或 GBK 编码）后导入。",
    ):
        ws.append([line])
    for letter, width in zip("ABCD", (20, 6, 50, 50), strict=True):
        ws.column_dimensions[letter].width = width
