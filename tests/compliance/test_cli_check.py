"""`zhibu check`: an evaluation from the command line, stored, printed as text or JSON."""

from __future__ import annotations

import json

import pytest

from zhibu.cli import main
from zhibu.compliance.models import EvaluationRun, Finding


def test_check_has_chinese_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["check", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "用法" in out and "检查年度" in out


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["check", "--org", "NOPE", "--year", "2026"], "找不到组织代码"),
        (["check", "--org", "SA", "--year", "26"], "1900 至 2200"),
        (["check", "--org", "SA", "--year", "abc"], "不是整数"),
        (["check", "--year", "2026"], "缺少必需的参数"),
    ],
)
def test_check_refuses_bad_input_with_exit_2(world, argv, fragment, capsys):
    with pytest.raises(SystemExit) as exc:
        code = main(argv)
        raise SystemExit(code)
    assert exc.value.code == 2
    assert fragment in capsys.readouterr().err
    assert not EvaluationRun.objects.exists()


def test_check_stores_a_run_and_prints_the_problems_by_state(world, capsys):
    assert main(["check", "--org", "SA", "--year", "2026"]) == 0
    out = capsys.readouterr().out
    run = EvaluationRun.objects.get()
    assert run.trigger == "command" and run.triggered_by is None and run.root == world.sa
    assert "【不符合】" in out and "org.secretary_in_post" in out and "书记空缺" in out
    assert "合计：" in out
    assert "【正常】" not in out  # ok only with --all
    assert "SB-B1" not in out


def test_check_all_includes_ok(world, capsys):
    assert main(["check", "--org", "SA", "--year", "2026", "--all"]) == 0
    assert "【正常】" in capsys.readouterr().out


def test_check_json_is_a_list_of_documented_objects(world, capsys):
    assert main(["check", "--org", "WC", "--year", "2026", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, list) and data
    assert len(data) == Finding.objects.exclude(state="ok").count()
    keys = {"rule", "title", "subject", "org", "state", "severity", "due", "message", "source", "remedy"}
    for item in data:
        assert keys | {"estimated"} <= set(item)
        assert set(item["subject"]) == {"type", "id", "label"}
        assert item["state"] != "ok"
        assert item["due"] is None or len(item["due"]) == 10
    vacancy = next(i for i in data if i["rule"] == "org.secretary_in_post")
    assert vacancy["org"] == "SA-B2" and vacancy["subject"]["type"] == "org"
    assert vacancy["state"] == "violated" and vacancy["estimated"] is False
