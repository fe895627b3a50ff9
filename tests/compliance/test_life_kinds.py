"""The check kinds as organisational life uses them: a frequency judged over every period of a year, with
a condition and a usual quarter; coverage, quorum and month runs reading facts named by the rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

from zhibu.compliance.kinds import KINDS, Outcome

D = dt.date


def run(kind: str, params: dict[str, Any], facts: dict[str, Any], today: dt.date) -> Outcome:
    k = KINDS[kind]
    return k.evaluate(k.parse_params(params), facts, today=today)


QUARTERLY = {"period": {"count": 1, "per": "quarter"}, "event": "召开支部党员大会", "events_fact": "held"}


# frequency over a year --------------------------------------------------------------------------------------


def test_every_closed_quarter_of_the_year_is_judged_not_only_the_current_one():
    out = run("frequency", QUARTERLY, {"year": 2025, "held": [D(2025, 5, 6), D(2025, 7, 1)]}, D(2025, 8, 1))
    assert out.state == "violated"
    assert "2025年第一季度 0 次，少于应有的 1 次" in out.message and "2025年第三季度已 1 次" in out.message
    assert out.due == D(2025, 3, 31) and out.facts_used["short"] == ["2025年第一季度"]


def test_an_event_on_the_last_day_of_a_quarter_counts_for_that_quarter():
    facts = {"year": 2025, "held": [D(2025, 3, 31), D(2025, 4, 1)]}
    assert run("frequency", QUARTERLY, facts, D(2025, 4, 2)).state == "ok"
    facts = {"year": 2025, "held": [D(2025, 4, 1), D(2025, 4, 2)]}
    assert run("frequency", QUARTERLY, facts, D(2025, 4, 2)).state == "violated"


def test_the_current_period_is_open_until_its_last_day():
    facts = {"year": 2025, "held": [D(2025, 2, 1)]}
    assert run("frequency", QUARTERLY, facts, D(2025, 6, 22)).state == "ok"
    soon = run("frequency", QUARTERLY, facts, D(2025, 6, 23))  # seven days before the end, by default
    assert soon.state == "due_soon" and soon.due == D(2025, 6, 30) and "还剩 7 天" in soon.message
    assert run("frequency", QUARTERLY, facts, D(2025, 7, 1)).state == "violated"


def test_a_past_year_is_judged_whole_and_a_future_one_not_at_all():
    facts = {"year": 2024, "held": [D(2024, 2, 1), D(2024, 5, 1), D(2024, 8, 1), D(2024, 11, 1)]}
    out = run("frequency", QUARTERLY, facts, D(2025, 3, 1))
    assert out.state == "ok" and "2024年已结束的 4 个周期均达到 1 次" in out.message
    assert run("frequency", QUARTERLY, {"year": 2026, "held": []}, D(2025, 3, 1)).state == "not_applicable"
    assert run("frequency", QUARTERLY, {"year": 2025, "held": None}, D(2025, 3, 1)).state == "unknown"


def test_every_two_months_makes_six_periods():
    params = {**QUARTERLY, "period": {"count": 1, "per": "month", "every": 2}}
    out = run("frequency", params, {"year": 2025, "held": [D(2025, 2, 1), D(2025, 6, 1)]}, D(2025, 6, 10))
    assert out.state == "violated" and "2025年3—4月 0 次" in out.message


def test_semesters_come_from_the_engine_in_a_year():
    params = {**QUARTERLY, "period": {"count": 2, "per": "semester"}}
    semesters = [
        {"from": D(2025, 2, 17), "to": D(2025, 7, 10), "label": "2024—2025学年第二学期"},
        {"from": D(2025, 9, 1), "to": D(2026, 1, 20), "label": "2025—2026学年第一学期"},
    ]
    facts = {"year": 2025, "held": [D(2025, 3, 1)], "semesters": semesters}
    out = run("frequency", params, facts, D(2025, 8, 1))
    assert out.state == "violated" and "2024—2025学年第二学期 1 次，少于应有的 2 次" in out.message
    assert run("frequency", params, {"year": 2025, "held": []}, D(2025, 8, 1)).state == "unknown"


def test_a_condition_that_does_not_hold_makes_the_frequency_not_applicable():
    params = {**QUARTERLY, "when": {"fact": "seats", "op": ">", "value": 0, "label": "委员人数"}}
    out = run("frequency", params, {"year": 2025, "held": [], "seats": 0}, D(2025, 8, 1))
    assert out.state == "not_applicable" and "委员人数为 0" in out.message
    assert run("frequency", params, {"year": 2025, "held": [], "seats": 3}, D(2025, 8, 1)).state == "violated"
    assert run("frequency", params, {"year": 2025, "held": []}, D(2025, 8, 1)).state == "unknown"


def test_a_yearly_obligation_is_due_soon_from_its_usual_quarter():
    params = {"period": {"count": 1, "per": "year"}, "event": "召开组织生活会", "soon_from_quarter": 4}
    facts = {"year": 2025, "events": []}
    assert run("frequency", params, facts, D(2025, 9, 30)).state == "ok"
    assert run("frequency", params, facts, D(2025, 10, 1)).state == "due_soon"
    assert run("frequency", params, facts, D(2026, 1, 1)).state == "violated"
    early = {**params, "soon_from_quarter": 1}
    assert run("frequency", early, facts, D(2025, 1, 2)).state == "due_soon"


def test_frequency_reads_the_facts_its_rule_names():
    k = KINDS["frequency"]
    params = k.parse_params({**QUARTERLY, "when": {"fact": "seats", "op": ">", "value": 0}})
    assert k.fact_names(params) == ("held", "year", "seats")


# coverage, quorum and month runs with named facts ----------------------------------------------------------


def test_coverage_reads_named_facts():
    params = {"what": "谈心谈话", "required_fact": "need", "done_fact": "had"}
    out = run(
        "coverage",
        params,
        {"need": ["甲", "乙"], "had": ["甲"], "period_end": D(2025, 12, 31)},
        D(2026, 1, 2),
    )
    assert out.state == "violated" and "乙" in out.message
    assert KINDS["coverage"].fact_names(KINDS["coverage"].parse_params(params))[:2] == ("need", "had")


def test_quorum_reads_named_facts_and_asks_for_votes_only_with_a_pass_threshold():
    k = KINDS["quorum_majority"]
    params = {
        "what": "支部委员会会议",
        "quorum": {"ratio": "1/2", "strict": True},
        "entitled_fact": "seats",
        "present_fact": "came",
    }
    assert k.fact_names(k.parse_params(params)) == ("seats", "came")
    out = run("quorum_majority", params, {"seats": 4, "came": 2}, D(2025, 1, 1))
    assert out.state == "violated" and "恰为应到会 4 人的半数" in out.message
    assert run("quorum_majority", params, {"seats": 5, "came": 3}, D(2025, 1, 1)).state == "ok"
    with_pass = k.parse_params({**params, "pass": {"ratio": "1/2", "strict": True}})
    assert k.fact_names(with_pass) == ("seats", "came", "in_favour")


LAPSE = {"months": 6, "tracks": {"life": "参加党的组织生活"}}


def test_excused_months_count_only_when_the_rule_says_so():
    facts = {
        "from": "2025-01",
        "to": "2025-07",
        "activity": {"life": {"active": ["2025-01"], "excused": [f"2025-0{m}" for m in range(2, 8)]}},
    }
    strict = run("consecutive_months_without", LAPSE, facts, D(2025, 8, 5))
    assert strict.state == "violated" and "经批准请假的月份按本单位制度不计为有活动" in strict.message
    lenient = run("consecutive_months_without", {**LAPSE, "count_excused": True}, facts, D(2025, 8, 5))
    assert lenient.state == "ok" and "每月均参加党的组织生活" in lenient.message


def test_five_excused_months_and_an_absent_one_are_a_run_of_six_without_counting_leave():
    facts = {
        "from": "2025-01",
        "to": "2025-07",
        "activity": {"life": {"active": ["2025-01"], "excused": ["2025-02", "2025-03"]}},
    }
    assert run("consecutive_months_without", LAPSE, facts, D(2025, 8, 5)).state == "violated"
    out = run("consecutive_months_without", {**LAPSE, "count_excused": True}, facts, D(2025, 8, 5))
    assert out.state == "ok" and "最长连续 4 个月" in out.message
