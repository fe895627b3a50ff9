"""The steps as data: the national pack's definition, its validation, and an overlay's numbers flowing in."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from zhibu.compliance import packs
from zhibu.compliance.packs import PackError, load_packs
from zhibu.compliance.values import Duration
from zhibu.development import timeline as tl
from zhibu.development.steps import parse_development

NATIONAL = Path(__file__).resolve().parents[2] / "policies"


def national() -> packs.Pack:
    return load_packs(NATIONAL).national


def test_the_national_pack_defines_five_stages_and_the_twenty_five_steps_in_order():
    dev = national().development
    assert dev is not None
    assert list(dev.stages) == ["applicant", "activist", "candidate", "reception", "probation"]
    numbers = [s.number for s in dev.steps]
    assert numbers == sorted(numbers) and set(numbers) == set(range(1, 26))
    for step in dev.steps:
        assert step.source and step.title
        for code in step.requires:
            assert dev.steps.index(dev.step(code)) < dev.steps.index(step)


def test_numbers_come_from_parameters_so_an_overlay_changes_the_steps():
    pack = national()
    assert pack.development is not None
    values = pack.values()
    dev = pack.development.resolve(values)
    assert dev.step("candidate_designation").not_before[0].duration == Duration(1, "years")
    assert dev.step("approval").due is not None and dev.step("approval").due.max == Duration(6, "months")
    values["activist.min_cultivation"] = Duration(18, "months")
    assert pack.development.resolve(values).step("candidate_designation").not_before[0].duration == Duration(
        18, "months"
    )


def _section(**step: Any) -> dict[str, Any]:
    base = {
        "code": "application",
        "number": 1,
        "stage": "applicant",
        "title": "递交入党申请书",
        "source": "细则",
    }
    second = {"number": 2, "stage": "applicant", "title": "谈话", "source": "细则", **step}
    return {"stages": {"applicant": "入党申请人"}, "steps": [base, second]}


@pytest.mark.parametrize(
    ("step", "key", "words"),
    [
        ({"code": "talk", "requires": ["later"]}, "development.steps.talk.requires", "不是此前的步骤"),
        (
            {"code": "talk", "due": {"after": "application", "within": "$nope"}},
            "development.steps.talk.due.within",
            "未知参数",
        ),
        (
            {"code": "talk", "due": {"after": "application", "within": "$applicant.min_age"}},
            "development.steps.talk.due.within",
            "类型是 int",
        ),
        ({"code": "talk", "stage": "elsewhere"}, "development.steps.talk.stage", "未知阶段"),
        ({"code": "talk", "colour": "red"}, "development.steps.talk.colour", "不认识的键"),
        ({"code": "application"}, "development.steps.application.code", "重复"),
        (
            {"code": "talk", "not_before": [{"after": "application", "by": {"weeks": 2}}]},
            "development.steps.talk.not_before.0.by",
            "期限",
        ),
    ],
)
def test_a_bad_step_definition_is_refused_with_its_key(step, key, words):
    params = national().parameters
    dev, faults = parse_development(_section(**step), params)
    assert dev is None
    assert any(k == key and words in m for k, m in faults), faults


def test_an_overlay_may_not_redefine_the_steps(tmp_path):
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "national.yaml").write_text(
        (NATIONAL / "national.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    overlay = {
        "pack": "district",
        "title": "某区",
        "extends": "national",
        "development": _section(code="talk"),
    }
    (folder / "district.yaml").write_text(yaml.safe_dump(overlay, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PackError) as exc:
        load_packs(folder)
    assert any(f.key == "development" and "只在全国基准中定义" in f.message for f in exc.value.faults)


class _Rec:
    def __init__(self, pk: int, code: str, day: dt.date, outcome: str = "", details: Any = None) -> None:
        self.pk, self.code, self.done_on, self.outcome, self.details = pk, code, day, outcome, details or {}


def test_after_an_approved_extension_the_decision_is_taken_again():
    records = [
        _Rec(1, "confirmation_application", dt.date(2025, 10, 1)),
        _Rec(2, "confirmation_vote", dt.date(2025, 11, 12), "extend", {"extension_months": 6}),
        _Rec(3, "confirmation_approval", dt.date(2025, 12, 1), "approved", {"decision": "extend"}),
    ]
    counted = tl.counting(records)
    assert "confirmation_vote" not in counted and "confirmation_approval" not in counted
    records.append(_Rec(4, "confirmation_vote", dt.date(2026, 5, 12), "confirm"))
    assert [r.pk for r in tl.counting(records)["confirmation_vote"]] == [4]
