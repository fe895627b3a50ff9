"""Every rule's examples run as tests, and docs/rules.md is what the packs generate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from zhibu.compliance.catalogue import REGENERATE, render_markdown
from zhibu.compliance.packs import load_packs

REPO = Path(__file__).resolve().parents[2]
LIB = load_packs(REPO / "policies")
DEFAULT_TODAY = dt.date(2025, 6, 30)

CASES = [
    pytest.param(pack, rule, example, id=f"{pack.name}:{rule.id}:{example.name}")
    for pack in (LIB.get(n) for n in LIB.names())
    for rule in (pack.rules[i] for i in (pack.rules if pack.name == "national" else pack.own_rules))
    for example in rule.examples
]


@pytest.mark.parametrize(("pack", "rule", "example"), CASES)
def test_rule_example(pack, rule, example):
    resolved = rule.resolve({**pack.values(), **example.policy})
    outcome = resolved.check(example.facts, example.today or DEFAULT_TODAY)
    assert outcome.message, "every outcome explains itself"
    if example.name == "pass":
        assert outcome.state == (example.expect or "ok"), outcome.message
    elif example.name == "fail":
        assert outcome.state != "ok", outcome.message
        if example.expect:
            assert outcome.state == example.expect, outcome.message
    else:
        assert outcome.state == example.expect, outcome.message


def test_every_rule_has_a_passing_and_a_failing_example():
    for rule in LIB.national.rules.values():
        names = {e.name for e in rule.examples}
        assert {"pass", "fail"} <= names, rule.id


def test_the_shipped_rules_that_need_unbuilt_records_say_unknown():
    lapse = LIB.national.rules["member.lapse"].resolve(LIB.national.values())
    no_data = {
        "from": "2025-01",
        "to": "2025-06",
        "activity": {"dues": None, "organisational_life": None, "assigned_work": None},
    }
    assert lapse.check(no_data, DEFAULT_TODAY).state == "unknown"


def test_docs_rules_md_is_what_the_packs_generate():
    committed = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == render_markdown(LIB), f"docs/rules.md 与制度包不一致，请重新生成：{REGENERATE}"
