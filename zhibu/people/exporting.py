"""Registry export: the import's columns, personal numbers masked, formula-like text neutralised."""

from __future__ import annotations

import re
from typing import IO, Any

from django.db.models import QuerySet
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from zhibu.core.crypto import mask_id_number, mask_phone
from zhibu.people.importing import COLUMNS, FORMULA_STARTS, Column
from zhibu.people.models import Person

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def neutralise(value: str) -> str:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe (CSV/formula injection)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell_value(person: Person, col: Column) -> Any:
    if col.kind == "org":
        # Name for people, code so that a re-import finds the branch even where names repeat.
        return f"{person.org.name}（{person.org.code}）"
    if col.kind == "group":
        return person.group.name if person.group else ""
    if col.kind == "id":
        return mask_id_number(person.id_number)
    if col.kind == "phone":
        return mask_phone(person.phone)
    if col.kind in ("choice", "status"):
        display = getattr(person, f"get_{col.field}_display")()
        return str(display) if getattr(person, col.field) else ""
    value = getattr(person, col.field)
    if col.kind == "bool":
        return "是" if value else "否"
    return value


def _row(person: Person) -> list[Any]:
    values = [_cell_value(person, col) for col in COLUMNS]
    return [neutralise(v) if isinstance(v, str) else v for v in values]


def _sheet_title(title: str) -> str:
    return (_SHEET_FORBIDDEN.sub("", title).strip() or "人员名册")[:31]


def export_people_xlsx(people_qs: QuerySet[Person], fileobj: IO[bytes], *, title: str) -> int:
    """Write the people to an .xlsx registry (streamed, so memory stays flat); returns the row count."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_sheet_title(title))
    ws.freeze_panes = "A2"
    for index, col in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = col.width
    header = []
    for col in COLUMNS:
        cell = WriteOnlyCell(ws, value=col.title)
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    count = 0
    for person in people_qs.select_related("org", "group").iterator(chunk_size=2000):
        ws.append(_row(person))
        count += 1
    wb.save(fileobj)
    return count
