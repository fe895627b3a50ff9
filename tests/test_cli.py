"""The operator's `zhibu` command: Chinese help, clear refusals with a non-zero exit, real work when asked."""

from __future__ import annotations

import io

import openpyxl
import pytest

from zhibu.accounts.models import User
from zhibu.cli import build_parser, main
from zhibu.people.models import Person

COMMANDS = ["run", "demo", "import-people", "export-people", "check", "createadmin", "backup", "restore"]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_command_has_chinese_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"] if command else ["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "用法" in out and "显示帮助并退出" in out


def test_the_parser_knows_every_command():
    parser = build_parser()
    assert set(COMMANDS) <= set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["demo", "--schools", "0"], "1 至 2000"),
        (["demo", "--schools", "abc"], "不是整数"),
        (["import-people", "/nonexistent.xlsx", "--org", "SA"], "找不到文件"),
        (["export-people", "--org", "SA"], "缺少必需的参数"),
        (["restore", "/nonexistent.zip"], "找不到备份文件"),
        (["frobnicate"], "无效的选择"),
    ],
)
def test_bad_arguments_exit_non_zero_with_a_chinese_message(argv, fragment, capsys):
    with pytest.raises(SystemExit) as exc:
        code = main(argv)
        raise SystemExit(code)
    assert exc.value.code == 2
    assert fragment in capsys.readouterr().err


def test_import_people_refuses_an_unknown_org(world, tmp_path, capsys):
    path = tmp_path / "名册.csv"
    path.write_text("姓名,所在支部,身份\n张三,SA-B1,正式党员\n", encoding="utf-8")
    assert main(["import-people", str(path), "--org", "NOPE"]) == 2
    assert "找不到组织代码" in capsys.readouterr().err


def test_import_people_imports_and_reports_row_errors(world, tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_text("姓名,性别,所在支部,身份\n周一,男,SA-B2,正式党员\n", encoding="gbk")
    assert main(["import-people", str(good), "--org", "SA"]) == 0
    assert Person.objects.filter(name="周一", org=world.sa_b2).exists()
    bad = tmp_path / "bad.csv"
    bad.write_text("姓名,性别,所在支部,身份,出生日期\n周二,男,SA-B2,正式党员,1990-13-01\n", encoding="utf-8")
    before = Person.objects.count()
    assert main(["import-people", str(bad), "--org", "SA"]) == 1
    err = capsys.readouterr().err
    assert "第2行" in err and "出生日期" in err
    assert Person.objects.count() == before


def test_export_people_writes_a_workbook_of_that_subtree(world, tmp_path):
    out = tmp_path / "out.xlsx"
    assert main(["export-people", "--org", "SA-B1", "-o", str(out)]) == 0
    sheet = openpyxl.load_workbook(io.BytesIO(out.read_bytes())).active
    names = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert "张三丰" in names and "钱七" not in names and "赵六" not in names


def test_createadmin_needs_a_password_when_not_interactive(db, monkeypatch, capsys):
    monkeypatch.delenv("ZHIBU_ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["createadmin", "--username", "admin"]) == 2
    assert "ZHIBU_ADMIN_PASSWORD" in capsys.readouterr().err
    assert not User.objects.filter(username="admin").exists()


def test_createadmin_refuses_a_weak_password_and_creates_with_a_good_one(db, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    monkeypatch.setenv("ZHIBU_ADMIN_PASSWORD", "12345678")
    assert main(["createadmin", "--username", "admin"]) == 2
    assert "密码不符合要求" in capsys.readouterr().err
    monkeypatch.setenv("ZHIBU_ADMIN_PASSWORD", "Sturdy-Password-2026")
    assert main(["createadmin", "--username", "admin"]) == 0
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("Sturdy-Password-2026")
    assert main(["createadmin", "--username", "admin"]) == 2


def test_an_unexpected_failure_is_one_sentence_and_exit_1(db, monkeypatch, capsys):
    def boom(*args, **kwargs):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr("zhibu.cli._ready", boom)
    monkeypatch.delenv("ZHIBU_DEBUG", raising=False)
    assert main(["check", "--org", "SA", "--year", "2026"]) == 1
    err = capsys.readouterr().err
    assert "磁盘已满" in err and "Traceback" not in err


def test_a_new_demo_is_checked_once_so_its_board_is_not_empty(world):
    from zhibu.cli import _first_check
    from zhibu.compliance.models import EvaluationRun, Finding

    _first_check()
    run = EvaluationRun.objects.get()
    assert run.root == world.wc and Finding.objects.filter(run=run, state="violated").exists()
