"""Changing the calendar: who may, loading a year's schedule from a file, single days, the command."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import make_user
from zhibu.cli import main
from zhibu.core.audit import audit_history
from zhibu.core.calendar import DaySource, WorkdayCalendar
from zhibu.core.calendar_services import (
    ScheduleEntry,
    calendar_can_change,
    calendar_day_clear,
    calendar_day_set,
    calendar_year_load,
    calendar_year_load_file,
    parse_year_schedule,
)
from zhibu.core.errors import NotPermitted, ServiceError
from zhibu.core.models import AuditEntry, CalendarDay, CalendarYear, CalendarYearDay

D = dt.date

YAML_2027 = """\
year: 2027
note: 国务院办公厅关于2027年部分节假日安排的通知
holidays:
  - {date: 2027-01-01, name: 元旦}
  - {date: 2027-02-06~2027-02-12, name: 春节}
  - date: 2027-10-01~2027-10-07
    name: 国庆节
workdays:
  - {date: 2027-02-14, name: 春节调休上班}
  - {date: 2027-09-26, name: 国庆节调休上班}
"""

CSV_2027 = """\
年份,2027
日期,类型,名称
2027-01-01,放假,元旦
2027-02-06~2027-02-12,放假,春节
2027-02-14,上班,春节调休上班
"""


@pytest.fixture
def admin(db):  # type: ignore[no-untyped-def]
    return make_user("root", is_superuser=True, is_staff=True)


def _nothing_written() -> None:
    assert not CalendarYear.objects.exists()
    assert not CalendarYearDay.objects.exists()
    assert not CalendarDay.objects.exists()
    assert not AuditEntry.objects.filter(object_type__startswith="core.calendar").exists()


# Who may change it ---------------------------------------------------------------------------------------


def test_an_administrator_and_work_committee_staff_may_change_the_calendar(world, admin, scope_of):
    assert calendar_can_change(scope_of(admin))
    assert calendar_can_change(scope_of(world.users.wc_staff))


@pytest.mark.parametrize("persona", ["school_secretary", "branch_secretary", "member", "outsider"])
def test_nobody_else_may_change_the_calendar_and_nothing_is_written(world, scope_of, persona):
    user = getattr(world.users, persona)
    scope = scope_of(user)
    assert not calendar_can_change(scope)
    with pytest.raises(NotPermitted):
        calendar_day_set(actor=user, scope=scope, date=D(2027, 1, 4), is_workday=True)
    with pytest.raises(NotPermitted):
        calendar_day_clear(actor=user, scope=scope, date=D(2027, 1, 4))
    with pytest.raises(NotPermitted):
        calendar_year_load_file(actor=user, scope=scope, content=YAML_2027.encode(), filename="2027.yaml")
    _nothing_written()


# Single days ---------------------------------------------------------------------------------------------


def test_setting_and_clearing_a_day_is_audited(world, scope_of):
    user = world.users.wc_staff
    scope = scope_of(user)
    day = calendar_day_set(actor=user, scope=scope, date=D(2026, 10, 10), is_workday=False, name="临时放假")
    assert WorkdayCalendar.load([2026]).day(D(2026, 10, 10)).source is DaySource.OVERRIDE
    calendar_day_set(actor=user, scope=scope, date=D(2026, 10, 10), is_workday=False, name="临时放假（改）")
    history = audit_history(day)
    assert [e.action for e in history] == ["update", "create"]
    assert history[0].org_path == "" and history[0].actor_name == "wc_staff"
    assert history[0].changes["name"] == ["临时放假", "临时放假（改）"]

    calendar_day_clear(actor=user, scope=scope, date=D(2026, 10, 10))
    assert not CalendarDay.objects.exists()
    assert WorkdayCalendar.load([2026]).is_workday(D(2026, 10, 10)).value is True  # the package again
    assert AuditEntry.objects.filter(object_type="core.calendarday", note="清除单日调整").count() == 1


def test_a_day_gets_a_default_name(world, scope_of):
    scope = scope_of(world.users.wc_staff)
    assert calendar_day_set(actor=None, scope=scope, date=D(2027, 1, 9), is_workday=True).name == "调休上班"
    assert calendar_day_set(actor=None, scope=scope, date=D(2027, 1, 8), is_workday=False).name == "放假"


def test_clearing_a_day_without_an_override_is_refused(world, scope_of):
    with pytest.raises(ServiceError, match="没有单日调整"):
        calendar_day_clear(actor=None, scope=scope_of(world.users.wc_staff), date=D(2027, 1, 4))


# A year's schedule ---------------------------------------------------------------------------------------


def test_loading_a_yaml_year_makes_it_known(admin, scope_of):
    cy = calendar_year_load_file(
        actor=admin, scope=scope_of(admin), content=YAML_2027.encode(), filename="2027.yaml"
    )
    assert cy.year == 2027 and cy.note.startswith("国务院办公厅")
    assert cy.days.count() == 1 + 7 + 7 + 2
    calendar = WorkdayCalendar.load([2027])
    assert calendar.year_source(2027) is DaySource.SCHEDULE
    assert calendar.day(D(2027, 2, 8)).name == "春节" and not calendar.day(D(2027, 2, 8)).is_workday
    assert calendar.is_workday(D(2027, 2, 14)).value is True
    entry = AuditEntry.objects.get(object_type="core.calendaryear")
    assert entry.action == "import" and entry.org_path == "" and "2027.yaml" in entry.note
    assert "2027-02-14 上班 春节调休上班" in entry.changes["days"][1]


def test_loading_a_csv_year_and_reloading_replaces_the_schedule(admin, scope_of):
    scope = scope_of(admin)
    calendar_year_load_file(actor=admin, scope=scope, content=YAML_2027.encode(), filename="a.yaml")
    calendar_year_load_file(actor=admin, scope=scope, content=CSV_2027.encode("gbk"), filename="b.csv")
    assert CalendarYear.objects.count() == 1
    assert CalendarYearDay.objects.count() == 1 + 7 + 1
    assert WorkdayCalendar.load([2027]).is_workday(D(2027, 10, 1)).value is True  # no longer listed


def test_a_csv_without_a_year_row_takes_the_given_year(admin, scope_of):
    content = "日期,类型,名称\n2027-01-01,放假,元旦\n".encode()
    with pytest.raises(ServiceError, match="没有写明年份"):
        parse_year_schedule(content, filename="x.csv")
    assert parse_year_schedule(content, filename="x.csv", year=2027).year == 2027
    with pytest.raises(ServiceError, match="不一致"):
        parse_year_schedule(CSV_2027.encode(), filename="x.csv", year=2028)


@pytest.mark.parametrize(
    "filename, content, fragments",
    [
        ("x.yaml", YAML_2027 + "  - {date: 2028-01-01, name: 元旦}\n", ["第11行", "不在 2027 年"]),
        ("x.yaml", YAML_2027.replace("2027-02-14", "2027-01-01"), ["第9行", "既是放假又是上班", "第4行"]),
        ("x.yaml", YAML_2027 + "  - {date: 2027-09-26, name: 又一次}\n", ["第11行", "重复", "第10行"]),
        ("x.yaml", YAML_2027.replace("name: 元旦", "name: ''"), ["第4行", "缺少名称"]),
        ("x.yaml", YAML_2027.replace("2027-01-01", "2027-13-01"), ["第4行", "不是有效的日期"]),
        ("x.yaml", YAML_2027 + "colour: red\n", ["第11行", "未知的键"]),
        ("x.yaml", "year: 2027\nholidays: [\n", ["YAML 格式有误"]),
        ("x.csv", CSV_2027 + "2028-01-01,放假,元旦\n", ["第6行", "不在 2027 年"]),
        ("x.csv", CSV_2027 + "2027-02-10,上班,春节调休上班\n", ["第6行", "既是放假又是上班", "第4行"]),
        ("x.csv", CSV_2027 + "2027-01-01,放假,元旦\n", ["第6行", "重复", "第3行"]),
        ("x.csv", CSV_2027 + "2027-05-01,放假,\n", ["第6行", "缺少名称"]),
        ("x.csv", CSV_2027 + "2027-05-01,休假吧,劳动节\n", ["第6行", "类型"]),
        ("x.csv", CSV_2027 + "2027-05-05~2027-05-01,放假,劳动节\n", ["第6行", "结束早于开始"]),
        ("x.csv", "年份,2027\n日子,名称\n", ["第2行", "表头缺少"]),
        ("x.txt.exe", CSV_2027, ["只能载入"]),
    ],
)
def test_a_bad_file_changes_nothing_and_names_the_line(admin, scope_of, filename, content, fragments):
    with pytest.raises(ServiceError) as exc:
        calendar_year_load_file(
            actor=admin, scope=scope_of(admin), content=content.encode(), filename=filename
        )
    for fragment in fragments:
        assert fragment in exc.value.message, exc.value.message
    _nothing_written()


def test_a_bad_file_leaves_an_earlier_schedule_alone(admin, scope_of):
    scope = scope_of(admin)
    calendar_year_load_file(actor=admin, scope=scope, content=YAML_2027.encode(), filename="a.yaml")
    with pytest.raises(ServiceError):
        calendar_year_load_file(
            actor=admin, scope=scope, content=(CSV_2027 + "2028-01-01,放假,元旦\n").encode(), filename="b.csv"
        )
    assert CalendarYearDay.objects.count() == 17
    assert AuditEntry.objects.filter(object_type="core.calendaryear").count() == 1


def test_every_fault_is_reported_not_just_the_first(admin, scope_of):
    content = CSV_2027 + "2028-01-01,放假,元旦\n2027-01-01,放假,元旦\n"
    with pytest.raises(ServiceError) as exc:
        calendar_year_load_file(
            actor=admin, scope=scope_of(admin), content=content.encode(), filename="x.csv"
        )
    assert "第6行" in exc.value.message and "第7行" in exc.value.message
    assert len(exc.value.errors["file"]) == 2


def test_entries_given_directly_are_validated_by_date(admin, scope_of):
    entries = [ScheduleEntry(D(2027, 1, 1), False, "元旦"), ScheduleEntry(D(2027, 1, 1), True, "补班")]
    with pytest.raises(ServiceError, match="2027-01-01：2027-01-01 既是放假又是上班"):
        calendar_year_load(actor=admin, scope=scope_of(admin), year=2027, entries=entries)
    with pytest.raises(ServiceError, match="没有任何"):
        calendar_year_load(actor=admin, scope=scope_of(admin), year=2027, entries=[])
    _nothing_written()


# The command ---------------------------------------------------------------------------------------------

CALENDAR_COMMANDS = [[], ["show"], ["load"], ["set"], ["clear"]]


@pytest.mark.parametrize("sub", CALENDAR_COMMANDS)
def test_calendar_commands_have_chinese_help(sub, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["calendar", *sub, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "用法" in out and "显示帮助并退出" in out


def test_load_help_documents_the_file_format(capsys):
    with pytest.raises(SystemExit):
        main(["calendar", "load", "--help"])
    out = capsys.readouterr().out
    assert "holidays:" in out and "日期,类型,名称" in out and "2027-02-14,上班,春节调休上班" in out


def test_calendar_show_a_known_year(db, capsys):
    assert main(["calendar", "show", "2026"]) == 0
    out = capsys.readouterr().out
    assert "2026 年：国务院放假安排（已知）" in out
    assert "2026-10-01 至 2026-10-07  国庆节（7 天）" in out
    assert "2026-02-14 周六  春节调休上班" in out and "2026-10-10 周六  国庆节调休上班" in out


def test_calendar_show_an_unknown_year_says_estimated(db, capsys):
    assert main(["calendar", "show", "2027"]) == 0
    out = capsys.readouterr().out
    assert "放假安排尚未公布，按周一至周五估算" in out and "（估算）" in out


def test_calendar_load_set_clear_round_trip(db, tmp_path, capsys):
    path = tmp_path / "2027.yaml"
    path.write_text(YAML_2027, encoding="utf-8")
    assert main(["calendar", "load", str(path)]) == 0
    assert "已载入 2027 年放假安排：放假 15 天，调休上班 2 天" in capsys.readouterr().out
    assert main(["calendar", "set", "2027-03-08", "--holiday", "--name", "校庆"]) == 0
    assert "已设置 2027-03-08 为放假（校庆）" in capsys.readouterr().out
    assert main(["calendar", "show", "2027"]) == 0
    out = capsys.readouterr().out
    assert "管理员载入的放假安排（已知）" in out and "2027-03-08 周一  放假  校庆" in out
    assert main(["calendar", "clear", "2027-03-08"]) == 0
    assert not CalendarDay.objects.exists()
    assert AuditEntry.objects.filter(actor_name="系统", object_type__startswith="core.calendar").count() == 3


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["calendar", "show", "abc"], "不是整数"),
        (["calendar", "show", "99"], "年份应在"),
        (["calendar", "set", "2027-02-30", "--workday"], "不是有效的日期"),
        (["calendar", "set"], "缺少必需的参数"),
        (["calendar", "set", "2027-02-14"], "--workday 或 --holiday"),
        (["calendar", "set", "2027-02-14", "--workday", "--holiday"], "二者选一"),
        (["calendar", "clear", "2027-02-14"], "没有单日调整"),
        (["calendar", "load", "/nonexistent.yaml"], "找不到文件"),
        (["calendar", "frobnicate"], "无效的选择"),
    ],
)
def test_calendar_commands_exit_2_on_bad_input(db, argv, fragment, capsys):
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(argv))
    assert exc.value.code == 2
    assert fragment in capsys.readouterr().err


def test_calendar_load_of_a_bad_file_exits_2_naming_the_line(db, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text(CSV_2027 + "2028-01-01,放假,元旦\n", encoding="utf-8")
    assert main(["calendar", "load", str(path)]) == 2
    err = capsys.readouterr().err
    assert "第6行" in err and "未作任何改动" in err
    _nothing_written()


def test_calendar_without_a_subcommand_prints_its_help(capsys):
    assert main(["calendar"]) == 2
    assert "子命令" in capsys.readouterr().out
