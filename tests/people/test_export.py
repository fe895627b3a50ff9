"""Registry export and the import template: masked, neutralised, scoped, and readable by the import."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from urllib.parse import quote

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.factories import make_org, make_person
from zhibu.core.crypto import mask_id_number, mask_phone
from zhibu.core.errors import ServiceError
from zhibu.core.scoping import scope_for
from zhibu.orgs.models import OrgKind
from zhibu.people.exporting import export_people_xlsx, neutralise
from zhibu.people.importing import COLUMNS, import_people
from zhibu.people.models import Person
from zhibu.people.selectors import PersonFilters, person_list_visible_to

TITLES = [c.title for c in COLUMNS]


def export(qs: Any, title: str = "名册") -> tuple[int, Any]:
    buf = io.BytesIO()
    count = export_people_xlsx(qs, buf, title=title)
    buf.seek(0)
    return count, load_workbook(buf).worksheets[0]


def rows_by_name(ws: Any) -> dict[str, dict[str, Any]]:
    header = [c.value for c in ws[1]]
    out = {}
    for row in ws.iter_rows(min_row=2):
        cells = dict(zip(header, row, strict=True))
        out[cells["姓名*"].value] = cells
    return out


def test_export_writes_the_import_columns_and_counts_rows(world):
    count, ws = export(Person.objects.filter(org=world.sa_b1), title="第一党支部")
    assert count == 4
    assert [c.value for c in ws[1]] == TITLES
    assert ws.title == "第一党支部"
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["F"].width == 22
    member = rows_by_name(ws)["张三丰"]
    assert member["所在支部*"].value == "第一党支部（SA-B1）"
    assert member["党小组"].value == "第一党小组"
    assert member["身份*"].value == "正式党员"
    assert member["出生日期"].value.date() == dt.date(1990, 1, 9)
    assert member["组织关系已转入"].value == "是"


def test_id_number_and_phone_are_masked(world):
    member = world.people.member
    _, ws = export(Person.objects.filter(pk=member.pk))
    row = rows_by_name(ws)["张三丰"]
    assert row["身份证号"].value == mask_id_number(member.id_number)
    assert row["手机号"].value == mask_phone("13812345678") == "138****5678"
    every_value = " ".join(str(c.value) for r in ws.iter_rows() for c in r)
    assert member.id_number not in every_value and "13812345678" not in every_value


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", '=HYPERLINK("http://evil.example","点我")'),
        ("position", "+1"),
        ("position", "-x"),
        ("position", "@x"),
        ("note", "=1+1"),
    ],
)
def test_formula_like_text_comes_back_neutralised_and_not_a_formula(world, field, value):
    person = make_person("占位", world.sa_b2)
    Person.objects.filter(pk=person.pk).update(**{field: value})
    _, ws = export(Person.objects.filter(pk=person.pk))
    header = [c.value for c in ws[1]]
    column = next(c for c in COLUMNS if c.field == field)
    cell = ws.cell(row=2, column=header.index(column.title) + 1)
    assert cell.value == "'" + value
    assert cell.data_type == "s"


def test_neutralise_leaves_ordinary_text_alone():
    assert neutralise("语文教师") == "语文教师"
    assert neutralise("-5") == "'-5"


def test_export_reads_rows_in_a_fixed_number_of_queries(world, django_assert_num_queries):
    for i in range(30):
        make_person(f"人员{i}", world.sa_b1, group=world.sa_b1_g2, id_number="")
    qs = Person.objects.all()
    with django_assert_num_queries(1):
        count = export_people_xlsx(qs, io.BytesIO(), title="全部")
    assert count == Person.objects.count()


def test_an_export_re_imports_into_an_empty_branch(world):
    empty = make_org("SA-B3", "第三党支部", OrgKind.BRANCH, world.sa)
    # No ID number or phone: masked values are not meant to re-import.
    make_person(
        "陈静", empty, id_number="", gender="female", position="-班主任", birth_date=dt.date(1991, 2, 3)
    )
    buf = io.BytesIO()
    export_people_xlsx(Person.objects.filter(org=empty), buf, title="第三党支部")
    buf.seek(0)
    actor = world.users.school_secretary
    report = import_people(buf, filename="导出.xlsx", org=empty, actor=actor, scope=scope_for(actor))
    assert report.ok, report.problems
    copies = Person.objects.filter(org=empty, name="陈静").order_by("id")
    assert copies.count() == 2
    original, copy = copies
    fields = ("gender", "birth_date", "position", "status", "employment", "relationship_transferred_in")
    assert [getattr(copy, f) for f in fields] == [getattr(original, f) for f in fields]


# The template --------------------------------------------------------------------------------------
def test_template_download_has_the_headers_instructions_and_drop_downs(world, client_as):
    response = client_as(world.users.branch_secretary).get(reverse("people:import_template"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f"filename*=utf-8''{quote('人员导入模板.xlsx')}" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == TITLES
    assert "填写说明" in wb.sheetnames
    notes = [r[0] for r in wb["填写说明"].iter_rows(min_row=2, values_only=True)]
    assert "身份证号" in notes and "所在支部" in notes
    lists = {dv.formula1 for dv in ws.data_validations.dataValidation}
    assert '"男,女"' in lists and '"是,否"' in lists


def test_the_template_itself_passes_the_header_check(world):
    buf = io.BytesIO()
    from zhibu.people.importing import import_template_xlsx

    import_template_xlsx(buf)
    buf.seek(0)
    actor = world.users.school_secretary
    with pytest.raises(ServiceError, match="没有数据行"):
        import_people(buf, filename="模板.xlsx", org=world.sa, actor=actor, scope=scope_for(actor))


# The page ------------------------------------------------------------------------------------------
def names_in(response: Any) -> set[str]:
    ws = load_workbook(io.BytesIO(response.content)).worksheets[0]
    return {r[0] for r in ws.iter_rows(min_row=2, values_only=True)}


def test_export_through_the_page_is_scoped_to_the_users_school(world, client_as):
    response = client_as(world.users.school_secretary).get(reverse("people:export"))
    assert response.status_code == 200
    assert names_in(response) == {"王建国", "李红梅", "张三丰", "曾小单", "赵六"}
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=utf-8''{quote('人员名册-')}" in disposition


def test_export_through_the_page_follows_the_list_filters(world, client_as):
    response = client_as(world.users.school_secretary).get(reverse("people:export"), {"org": "SA-B2"})
    assert names_in(response) == {"赵六"}
    response = client_as(world.users.school_secretary).get(reverse("people:export"), {"status": "activist"})
    assert names_in(response) == {"曾小单"}


def test_export_of_another_schools_org_is_not_found(world, client_as):
    response = client_as(world.users.school_secretary).get(reverse("people:export"), {"org": "SB-B1"})
    assert response.status_code == 404


def test_a_member_exports_only_themselves(world, client_as):
    response = client_as(world.users.member).get(reverse("people:export"))
    assert names_in(response) == {"张三丰"}


def test_export_needs_login(client, world):
    response = client.get(reverse("people:export"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_selector_and_export_agree_on_the_count(world):
    qs = person_list_visible_to(scope_for(world.users.wc_staff), PersonFilters(org=world.sb))
    count, _ = export(qs)
    assert count == 2


def test_every_export_is_audited_with_who_what_and_how_many(world, client_as):
    from zhibu.core.models import AuditEntry

    client = client_as(world.users.branch_secretary)
    response = client.get("/people/export.xlsx", {"org": "SA-B1"})
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="export")
    assert entry.actor == world.users.branch_secretary and entry.org_path == world.sa_b1.path
    assert "导出人员名册" in entry.note and "人" in entry.note
