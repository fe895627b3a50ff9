"""Registry import: good files write people, status history and audit rows; any problem writes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
import zipfile
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import Workbook

from tests.factories import valid_id_number
from zhibu.core import idcard
from zhibu.core.errors import NotPermitted, ServiceError
from zhibu.core.models import AuditEntry
from zhibu.core.scoping import scope_for
from zhibu.people import importing
from zhibu.people.importing import import_people
from zhibu.people.models import Person, Status, StatusChange

TODAY = dt.date(2026, 6, 1)
HEADER = ["姓名*", "性别", "身份证号", "所在支部*", "党小组", "身份*", "入党日期", "转正日期", "职务/岗位"]
ID_A = valid_id_number(dt.date(1982, 3, 4), serial=11)
ID_B = valid_id_number(dt.date(1983, 5, 6), serial=12, male=False)
ID_C = valid_id_number(dt.date(1984, 7, 8), serial=13)


def xlsx(rows: list[list[Any]], header: list[str] = HEADER) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def csv_bytes(rows: list[list[Any]], encoding: str, header: list[str] = HEADER) -> io.BytesIO:
    text = io.StringIO()
    csv.writer(text).writerows([header, *rows])
    return io.BytesIO(text.getvalue().encode(encoding))


def good_rows() -> list[list[Any]]:
    return [
        [
            "周明",
            "男",
            ID_A,
            "SA-B1",
            "第一党小组",
            "正式党员",
            dt.date(2005, 7, 1),
            "2006-07-01",
            "数学教师",
        ],
        ["吴芳", "", ID_B, "第二党支部", "", "预备党员", "2025/9/1", "", "+1 班主任"],
    ]


def counts() -> tuple[int, int, int]:
    return Person.objects.count(), StatusChange.objects.count(), AuditEntry.objects.count()


def run(world: Any, fileobj: Any, *, filename: str = "名册.xlsx", user: str = "school_secretary", **kw: Any):
    actor = getattr(world.users, user)
    kw.setdefault("org", world.sa)
    return import_people(fileobj, filename=filename, actor=actor, scope=scope_for(actor), today=TODAY, **kw)


def refused(world: Any, fileobj: Any, **kw: Any) -> str:
    """The whole-file refusal's message; also checks that nothing was written."""
    before = counts()
    with pytest.raises(ServiceError) as exc:
        run(world, fileobj, **kw)
    assert counts() == before
    return exc.value.message


def rejected(world: Any, fileobj: Any, **kw: Any) -> importing.ImportReport:
    """A report with problems; also checks that nothing was written."""
    before = counts()
    report = run(world, fileobj, **kw)
    assert not report.ok
    assert report.created == 0
    assert "未导入任何数据" in report.summary
    assert counts() == before
    return report


# Good files ----------------------------------------------------------------------------------------
def test_good_xlsx_import_creates_people_status_changes_and_audit_rows(world):
    before = counts()
    report = run(world, xlsx(good_rows()), filename="一中名册.xlsx")
    assert report.ok, report.problems
    assert (report.created, report.rows_checked, report.summary) == (2, 2, "已导入 2 人")
    assert counts() == (before[0] + 2, before[1] + 2, before[2] + 2)

    zhou = Person.objects.get(name="周明")
    assert (zhou.org, zhou.group, zhou.status) == (world.sa_b1, world.sa_b1_g1, Status.FULL_MEMBER)
    assert (zhou.id_number, zhou.birth_date, zhou.gender) == (ID_A, dt.date(1982, 3, 4), "male")
    assert zhou.name_pinyin and zhou.id_number_digest
    wu = Person.objects.get(name="吴芳")
    assert (wu.org, wu.gender, wu.joined_on, wu.position) == (
        world.sa_b2,
        "female",
        dt.date(2025, 9, 1),
        "+1 班主任",
    )

    change = StatusChange.objects.get(person=zhou)
    assert (change.from_status, change.to_status) == ("", Status.FULL_MEMBER)
    assert change.effective_on == dt.date(2006, 7, 1)  # the stage date of the status
    assert change.reason == "名册导入：一中名册.xlsx"
    assert change.recorded_by == world.users.school_secretary
    entry = AuditEntry.objects.get(object_type="people.person", object_id=str(zhou.pk))
    assert (entry.action, entry.org_path, entry.actor) == (
        "import",
        world.sa_b1.path,
        world.users.school_secretary,
    )
    assert ID_A not in str(entry.changes)  # the log keeps the ID masked


def test_status_change_falls_back_to_today_without_a_stage_date(world):
    row = ["郑华", "男", ID_C, "SA-B1", "", "入党申请人", "", "", ""]
    assert run(world, xlsx([row])).created == 1
    assert StatusChange.objects.get(person__name="郑华").effective_on == TODAY


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_csv_imports_in_utf8_with_and_without_bom_and_in_gbk(world, encoding):
    rows = [[("" if v is None else str(v)) for v in r] for r in good_rows()]
    report = run(world, csv_bytes(rows, encoding), filename="名册.csv")
    assert report.ok, report.problems
    assert set(Person.objects.filter(name__in=["周明", "吴芳"]).values_list("name", flat=True)) == {
        "周明",
        "吴芳",
    }


@pytest.mark.parametrize(
    "written",
    [dt.date(2005, 7, 1), "2005-07-01", "2005/7/1", "2005.7.1", "20050701", "2005年7月1日", 20050701],
)
def test_dates_are_read_in_the_usual_ways(world, written):
    row = ["周明", "男", ID_A, "SA-B1", "", "预备党员", written, "", ""]
    assert run(world, xlsx([row])).ok
    assert Person.objects.get(name="周明").joined_on == dt.date(2005, 7, 1)


def test_choice_and_boolean_columns_take_chinese_labels_and_common_spellings(world):
    header = [
        "姓名",
        "身份证号",
        "所在支部",
        "身份",
        "学历",
        "在职情况",
        "骨干教师",
        "困难党员",
        "组织关系已转入",
    ]
    row = ["周明", ID_A, "第一党支部（SA-B1）", "积极分子", "本科", "退休", "√", "Y", "否"]
    assert run(world, xlsx([row], header=header)).ok
    p = Person.objects.get(name="周明")
    assert (p.status, p.education, p.employment) == (Status.ACTIVIST, "bachelor", "retired")
    assert (p.backbone_teacher, p.in_need, p.relationship_transferred_in) == (True, True, False)


def test_importing_into_a_branch_needs_no_branch_cell(world):
    row = ["周明", "男", ID_A, "", "", "正式党员", "", "", ""]
    assert run(world, xlsx([row]), org=world.sa_b1, user="branch_secretary").ok
    assert Person.objects.get(name="周明").org == world.sa_b1


# Whole-file refusals -------------------------------------------------------------------------------
def test_wrong_header_names_the_missing_and_unknown_columns(world):
    header = ["姓名", "出生年月", "所在支部"]
    message = refused(world, xlsx([["周明", "1982-03", "SA-B1"]], header=header))
    assert "缺少必填列 “身份”" in message
    assert "B列“出生年月”" in message


def test_empty_file_is_refused(world):
    assert refused(world, io.BytesIO(b"")) == "文件是空的"


def test_header_without_data_rows_is_refused(world):
    assert "没有数据行" in refused(world, xlsx([]))


def test_too_many_rows_are_refused(world, monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 3)
    rows = [[f"人{i}", "男", "", "SA-B1", "", "正式党员", "", "", ""] for i in range(4)]
    assert "超过 3 行" in refused(world, csv_bytes(rows, "utf-8"), filename="a.csv")


def test_a_20mb_file_is_refused_before_it_is_parsed(world, monkeypatch, tmp_path):
    def never(*args, **kwargs):
        raise AssertionError("a file over the limit must not reach openpyxl")

    monkeypatch.setattr(importing, "load_workbook", never)
    big = tmp_path / "big.xlsx"
    with big.open("wb") as fh:
        fh.write(b"PK\x03\x04")
        fh.seek(20 * 1024 * 1024)
        fh.write(b"\0")
    started = time.monotonic()
    with big.open("rb") as fh:
        message = refused(world, fh)
    assert "文件过大" in message and "10 MB" in message
    assert time.monotonic() - started < 1


def test_a_file_that_is_not_excel_renamed_xlsx_gets_a_clear_message(world):
    message = refused(world, io.BytesIO("姓名,身份\n张三,正式党员\n".encode()))
    assert "不是有效的 Excel" in message


def test_a_damaged_workbook_gets_a_clear_message(world):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    buf.seek(0)
    assert "已损坏" in refused(world, buf)


@pytest.mark.parametrize(
    ("filename", "data", "expected"),
    [
        ("名册.docx", b"PK\x03\x04rest", "不支持的文件类型"),
        ("名册.xls", b"\xd0\xcf\x11\xe0rest", "旧版 Excel"),
    ],
)
def test_unsupported_file_types_are_refused(world, filename, data, expected):
    assert expected in refused(world, io.BytesIO(data), filename=filename)


# Row problems: named by row and column, nothing written ---------------------------------------------
def test_bad_date_names_row_and_column(world):
    rows = good_rows()
    rows[1][6] = "2020-13-45"
    rows[1][7] = "去年"
    report = rejected(world, xlsx(rows))
    assert report.problems == [
        "第3行 G列（入党日期）：日期“2020-13-45”不存在",
        f"第3行 H列（转正日期）：“去年”不是有效日期（{importing.DATE_FORMATS_HINT}）",
    ]
    assert report.summary == "发现 2 处错误，未导入任何数据；请改正后重新导入"


def test_duplicate_id_number_within_the_file_names_both_rows(world):
    rows = good_rows()
    rows[1][2] = ID_A
    rows[1][1] = "男"
    problems = rejected(world, xlsx(rows)).problems
    assert "第2行 C列（身份证号）：与第3行的身份证号重复" in problems
    assert "第3行 C列（身份证号）：与第2行的身份证号重复" in problems


def test_id_number_already_in_the_database_is_refused(world):
    rows = good_rows()
    rows[0][2] = world.people.outsider.id_number  # another school's person
    rows[0][1] = ""
    problems = rejected(world, xlsx(rows)).problems
    assert problems == ["第2行 C列（身份证号）：该身份证号已登记在系统中（可能是另一支部的人员，请核对）"]


def test_wrong_id_checksum_says_what_it_should_be(world):
    first17 = ID_A[:17]
    wrong = first17 + ("0" if idcard.check_character(first17) != "0" else "1")
    rows = good_rows()
    rows[0][2] = wrong
    problems = rejected(world, xlsx(rows)).problems
    assert problems == [
        f"第2行 C列（身份证号）：身份证号校验位错误（按 GB 11643 应为 {idcard.check_character(first17)}）"
    ]


def test_id_number_stored_as_a_number_is_refused(world):
    rows = good_rows()
    rows[0][2] = float(ID_A[:17])
    problems = rejected(world, xlsx(rows)).problems
    assert any(p.startswith("第2行 C列（身份证号）：身份证号被 Excel 存成了数字") for p in problems)


def test_unknown_branch_is_named(world):
    rows = good_rows()
    rows[0][3] = "第九党支部"
    problems = rejected(world, xlsx(rows)).problems
    assert (
        "第2行 D列（所在支部）：在“第一中学党委”下找不到支部“第九党支部”（可填写支部名称或组织代码）"
        in problems
    )


def test_ambiguous_branch_name_asks_for_the_code(world):
    row = ["周明", "男", ID_A, "第一党支部", "", "正式党员", "", "", ""]
    problems = rejected(world, xlsx([row]), org=world.wc, user="wc_staff").problems
    assert problems == ["第2行 D列（所在支部）：“第一党支部”有 2 个同名支部，请改填组织代码（SA-B1、SB-B1）"]


def test_group_must_belong_to_the_branch(world):
    rows = good_rows()
    rows[1][4] = "第一党小组"  # a group of SA-B1, the row is in SA-B2
    problems = rejected(world, xlsx(rows)).problems
    assert problems == ["第3行 E列（党小组）：“第二党支部”下没有党小组“第一党小组”（现有：无）"]


def test_status_must_be_an_initial_status(world):
    rows = good_rows()
    rows[0][5] = "已转出"
    rows[1][5] = ""
    problems = rejected(world, xlsx(rows)).problems
    assert problems[0].startswith("第2行 F列（身份）：“已转出”的人员不能通过导入建档")
    assert problems[1] == "第3行 F列（身份）：请填写身份"


def test_service_rules_are_reported_in_their_column(world):
    rows = good_rows()
    rows[0][1] = "女"  # the ID number says male
    rows[0][7] = "2004-01-01"  # confirmed before joining
    problems = rejected(world, xlsx(rows)).problems
    assert "第2行 B列（性别）：性别与身份证号不符" in problems
    assert "第2行 H列（转正日期）：转正日期不能早于入党日期（预备期起）（2005-07-01）" in problems


def test_cells_without_a_header_are_not_silently_dropped(world):
    rows = good_rows()
    rows[0].append("多余内容")
    problems = rejected(world, xlsx(rows)).problems
    assert problems == ["第2行 J列（无表头）：该列没有表头，内容无法识别"]


def test_every_row_is_checked_and_row_numbers_skip_blank_lines(world):
    rows = [good_rows()[0], ["", "", "", "", "", "", "", "", ""], ["", "男", "", "SA-B1", "", "正式党员"]]
    report = rejected(world, xlsx(rows))
    assert report.rows_checked == 2
    assert report.problems == ["第4行 A列（姓名）：姓名不能为空"]


# Scope ---------------------------------------------------------------------------------------------
def test_a_branch_secretary_cannot_import_into_the_whole_school(world):
    before = counts()
    with pytest.raises(NotPermitted):
        run(world, xlsx(good_rows()), user="branch_secretary", org=world.sa)
    assert counts() == before


def test_another_schools_secretary_cannot_import_into_this_school(world):
    with pytest.raises(NotPermitted):
        run(world, xlsx(good_rows()), user="outsider", org=world.sa)


def test_a_branch_outside_the_target_is_not_found(world):
    rows = good_rows()[:1]
    rows[0][3] = "SA-B2"
    problems = rejected(world, xlsx(rows), user="branch_secretary", org=world.sa_b1).problems
    assert problems == [
        "第2行 D列（所在支部）：在“第一党支部”下找不到支部“SA-B2”（可填写支部名称或组织代码）"
    ]


# Partial -------------------------------------------------------------------------------------------
def test_partial_import_writes_only_the_good_rows(world):
    rows = good_rows()
    rows[1][6] = "不详"
    before = counts()
    report = run(world, xlsx(rows), partial=True)
    assert not report.ok
    assert report.created == 1
    assert report.summary == "已导入 1 人；另有 1 行有错误未导入（共 1 处错误）"
    assert counts() == (before[0] + 1, before[1] + 1, before[2] + 1)
    assert Person.objects.filter(name="周明").exists()
    assert not Person.objects.filter(name="吴芳").exists()


# The page ------------------------------------------------------------------------------------------
def upload(name: str, data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_import_page_shows_the_form_to_a_manager(world, client_as):
    response = client_as(world.users.branch_secretary).get(reverse("people:import"))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("people:import_template") in html
    assert 'value="SA-B1"' in html and 'value="SA-B2"' not in html


@pytest.mark.parametrize("route", ["people:import", "people:import_template"])
def test_a_user_who_manages_nothing_gets_403(world, client_as, route):
    assert client_as(world.users.member).get(reverse(route)).status_code == 403


def test_anonymous_users_are_sent_to_login(client, world):
    response = client.get(reverse("people:import"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_uploading_a_good_file_imports_it(world, client_as):
    rows = good_rows()[:1]
    response = client_as(world.users.branch_secretary).post(
        reverse("people:import"), {"org": "SA-B1", "file": upload("名册.xlsx", xlsx(rows).getvalue())}
    )
    assert response.status_code == 200
    assert "已导入 1 人" in response.content.decode()
    assert Person.objects.filter(name="周明", org=world.sa_b1).exists()


def test_uploading_a_bad_file_shows_the_problems_and_writes_nothing(world, client_as):
    rows = good_rows()
    rows[0][6] = "2020-13-45"
    before = counts()
    response = client_as(world.users.school_secretary).post(
        reverse("people:import"), {"org": "SA", "file": upload("名册.xlsx", xlsx(rows).getvalue())}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "第2行" in html and "G列（入党日期）" in html and "未导入任何数据" in html
    assert counts() == before


def test_uploading_a_non_excel_file_shows_a_red_message(world, client_as):
    response = client_as(world.users.school_secretary).post(
        reverse("people:import"), {"org": "SA", "file": upload("名册.xlsx", b"hello")}
    )
    assert response.status_code == 200
    assert 'class="errors"' in response.content.decode()
    assert "不是有效的 Excel" in response.content.decode()


def test_uploading_an_oversized_file_is_refused(world, client_as, settings):
    settings.ZHIBU_MAX_UPLOAD_BYTES = 1024
    before = counts()
    response = client_as(world.users.school_secretary).post(
        reverse("people:import"), {"org": "SA", "file": upload("名册.xlsx", b"PK\x03\x04" + b"\0" * 2048)}
    )
    assert "文件过大" in response.content.decode()
    assert counts() == before


def test_uploading_into_an_org_outside_the_scope_is_refused(world, client_as):
    before = counts()
    response = client_as(world.users.school_secretary).post(
        reverse("people:import"), {"org": "SB-B1", "file": upload("名册.xlsx", xlsx(good_rows()).getvalue())}
    )
    assert response.status_code == 200
    assert "须为您管理的支部或学校" in response.content.decode()
    assert counts() == before


def test_htmx_upload_returns_only_the_result(world, client_as):
    response = client_as(world.users.branch_secretary).post(
        reverse("people:import"),
        {"org": "SA-B1", "file": upload("名册.xlsx", xlsx(good_rows()[:1]).getvalue())},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="result">')
    assert "已导入 1 人" in html


def test_a_nul_in_a_csv_cell_is_a_row_error_not_a_database_failure(world):
    data = "姓名,所在支部,身份\n张三,SA-B1,正式党员\n李\x00四,SA-B1,正式党员\n".encode()
    actor = world.users.branch_secretary
    before = Person.objects.count()
    report = import_people(
        io.BytesIO(data), filename="x.csv", org=world.sa_b1, actor=actor, scope=scope_for(actor)
    )
    assert not report.ok and any("第3行" in p and "空字符" in p for p in report.problems)
    assert Person.objects.count() == before


def test_a_csv_the_reader_cannot_parse_is_explained_in_chinese_with_its_line(world):
    data = ('姓名,所在支部,身份\n张三,SA-B1,正式党员\n李四,SA-B1,"' + "长" * 140_000 + '"\n').encode()
    actor = world.users.branch_secretary
    with pytest.raises(ServiceError) as exc:
        import_people(
            io.BytesIO(data), filename="x.csv", org=world.sa_b1, actor=actor, scope=scope_for(actor)
        )
    assert "第3行" in exc.value.message and "过长" in exc.value.message
    assert "field" not in exc.value.message
