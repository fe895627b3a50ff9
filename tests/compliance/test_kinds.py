"""Each check kind at its boundaries: states, due dates and the Chinese messages built from the facts."""

from __future__ import annotations

import datetime as dt

import pytest

from zhibu.compliance.kinds import KINDS, SchoolYear, period_containing, periods_in_year
from zhibu.compliance.values import Frequency, MonthDay, parse

D = dt.date


TODAY = D(2025, 6, 30)


def run(kind: str, params: dict, facts: dict, today: dt.date = TODAY):  # type: ignore[no-untyped-def]
    k = KINDS[kind]
    return k.evaluate(k.parse_params(params), facts, today=today)


# frequency ------------------------------------------------------------------------------------------------

QUARTERLY = {
    "period": {"count": 1, "per": "quarter"},
    "event": "召开支部党员大会",
    "due_soon_within": {"days": 14},
}


def test_frequency_met_in_the_quarter_is_ok():
    out = run("frequency", QUARTERLY, {"events": [D(2025, 5, 10)]})
    assert out.state == "ok"
    assert "2025年第二季度召开支部党员大会 1 次" in out.message


def test_frequency_missed_in_a_closed_quarter_is_violated():
    out = run(
        "frequency",
        QUARTERLY,
        {
            "events": [D(2025, 1, 5)],
            "period_start": D(2025, 4, 1),
            "period_end": D(2025, 6, 30),
            "period_label": "2025年第二季度",
        },
        D(2025, 7, 1),
    )
    assert out.state == "violated"
    assert out.due == D(2025, 6, 30)
    assert "少于应有的 1 次" in out.message


def test_frequency_on_the_last_day_of_the_period_is_due_soon_not_violated():
    out = run("frequency", QUARTERLY, {"events": []}, D(2025, 6, 30))
    assert out.state == "due_soon"
    assert out.due == D(2025, 6, 30)
    assert "今天到期" in out.message


def test_frequency_early_in_the_period_is_open_but_not_wrong():
    out = run("frequency", QUARTERLY, {"events": []}, D(2025, 4, 10))
    assert out.state == "ok" and out.due == D(2025, 6, 30)
    assert "应于2025年6月30日前至少 1 次" in out.message


def test_frequency_window_boundary():
    # 14 days before 30 June is 16 June: due soon from that day on.
    assert run("frequency", QUARTERLY, {"events": []}, D(2025, 6, 15)).state == "ok"
    assert run("frequency", QUARTERLY, {"events": []}, D(2025, 6, 16)).state == "due_soon"


def test_frequency_every_two_months():
    params = {"period": {"count": 1, "per": "month", "every": 2}, "event": "召开支部党员大会"}
    out = run("frequency", params, {"events": [D(2025, 3, 3)]}, D(2025, 4, 20))
    assert out.state == "ok"  # March–April
    assert "2025年3—4月" in out.message
    assert run("frequency", params, {"events": [D(2025, 2, 3)]}, D(2025, 4, 30)).state == "due_soon"


def test_frequency_without_records_is_unknown():
    out = run("frequency", QUARTERLY, {"events": None})
    assert out.state == "unknown" and "尚无召开支部党员大会的记录" in out.message


def test_frequency_missing_fact_is_unknown_never_ok():
    out = run("frequency", QUARTERLY, {})
    assert out.state == "unknown" and "events" in out.message


def test_frequency_future_period_is_not_applicable():
    out = run(
        "frequency", QUARTERLY, {"events": [], "period_start": D(2025, 7, 1), "period_end": D(2025, 9, 30)}
    )
    assert out.state == "not_applicable"


def test_periods_of_a_year_and_semesters():
    assert [p.label for p in periods_in_year(Frequency(1, "quarter"), 2025)][-1] == "2025年第四季度"
    assert len(periods_in_year(Frequency(1, "month", 2), 2025)) == 6
    sy = SchoolYear(MonthDay(9, 1), MonthDay(1, 31), MonthDay(3, 1), MonthDay(7, 15))
    autumn = period_containing(Frequency(1, "semester"), D(2025, 12, 1), school_year=sy)
    assert autumn is not None and (autumn.start, autumn.end) == (D(2025, 9, 1), D(2026, 1, 31))
    assert autumn.label == "2025—2026学年第一学期"
    assert period_containing(Frequency(1, "semester"), D(2025, 8, 1), school_year=sy) is None  # summer break
    spring = period_containing(Frequency(1, "semester"), D(2025, 3, 1), school_year=sy)
    assert spring is not None and spring.label == "2024—2025学年第二学期"


def test_semester_frequency_needs_the_period_from_the_engine():
    params = {"period": {"count": 2, "per": "semester"}, "event": "讲党课"}
    assert run("frequency", params, {"events": []}).state == "unknown"
    out = run(
        "frequency",
        params,
        {
            "events": [D(2025, 3, 9), D(2025, 5, 9)],
            "period_start": D(2025, 3, 1),
            "period_end": D(2025, 7, 15),
        },
    )
    assert out.state == "ok"


# deadline_after -------------------------------------------------------------------------------------------

TALK = {"within": {"months": 1}, "after": "收到入党申请书", "event": "派人谈话"}


def test_deadline_done_on_the_due_date_is_ok():
    out = run("deadline_after", TALK, {"start": D(2025, 1, 31), "done": D(2025, 2, 28)})
    assert out.state == "ok" and out.due == D(2025, 2, 28)  # 31 Jan + 1 month = end of February


def test_deadline_done_a_day_late_is_violated():
    out = run("deadline_after", TALK, {"start": D(2025, 1, 5), "done": D(2025, 2, 6)})
    assert out.state == "violated" and "晚了 1 天" in out.message


def test_deadline_open_states_around_the_due_date():
    facts = {"start": D(2025, 1, 5), "done": None}
    assert run("deadline_after", TALK, facts, D(2025, 1, 20)).state == "ok"
    assert run("deadline_after", TALK, facts, D(2025, 1, 29)).state == "due_soon"
    on_due = run("deadline_after", TALK, facts, D(2025, 2, 5))
    assert on_due.state == "due_soon" and "今天到期" in on_due.message
    late = run("deadline_after", TALK, facts, D(2025, 2, 6))
    assert late.state == "overdue" and "已逾期 1 天" in late.message


def test_deadline_without_trigger_is_not_applicable_and_without_done_fact_unknown():
    assert run("deadline_after", TALK, {"start": None, "done": None}).state == "not_applicable"
    assert run("deadline_after", TALK, {"start": D(2025, 1, 5)}).state == "unknown"


def test_deadline_in_workdays_falls_back_to_weekdays_and_says_it_is_estimated():
    params = {"within": {"workdays": 5}, "after": "公示开始", "event": "结束公示"}
    out = run("deadline_after", params, {"start": D(2025, 6, 6), "done": None}, D(2025, 6, 6))  # a Friday
    assert out.due == D(2025, 6, 13)
    assert out.facts_used["estimated"] is True
    k = KINDS["deadline_after"]
    official = k.evaluate(
        k.parse_params(params),
        {"start": D(2025, 6, 6), "done": None},
        today=D(2025, 6, 6),
        add_workdays=lambda d, n: d + dt.timedelta(days=n * 2),
    )
    assert official.due == D(2025, 6, 16) and "estimated" not in official.facts_used


# min_total ------------------------------------------------------------------------------------------------

HOURS = {"min": 32, "unit": "学时", "what": "集中学习培训"}


def test_min_total_exactly_the_minimum_is_ok():
    out = run("min_total", HOURS, {"total": 32, "person": "张三丰"})
    assert out.state == "ok" and "张三丰：2025年集中学习培训 32 学时，达到 32 学时" == out.message


def test_min_total_short_after_the_year_is_violated_with_the_gap():
    facts = {"total": "20.5", "period_end": D(2025, 12, 31), "period_label": "2025年"}
    out = run("min_total", HOURS, facts, D(2026, 1, 1))
    assert out.state == "violated" and "差 11.5 学时" in out.message


def test_min_total_short_within_the_year():
    assert run("min_total", HOURS, {"total": 20}, D(2025, 6, 30)).state == "ok"
    assert run("min_total", HOURS, {"total": 20}, D(2025, 12, 10)).state == "due_soon"
    assert run("min_total", HOURS, {"total": None}).state == "unknown"


# coverage -------------------------------------------------------------------------------------------------

TALKS = {"what": "谈心谈话", "unit": "对"}


def test_coverage_pairs_are_unordered():
    facts = {"required": [["甲", "乙"], ["甲", "丙"]], "done": [["乙", "甲"], ["甲", "丙"]]}
    assert run("coverage", TALKS, facts).state == "ok"


def test_coverage_missing_pair_after_the_year_is_violated_and_named():
    facts = {"required": [["甲", "乙"], ["甲", "丙"]], "done": [["乙", "甲"]]}
    out = run("coverage", TALKS, {**facts, "period_end": D(2025, 12, 31)}, D(2026, 1, 2))
    assert out.state == "violated" and "丙—甲" in out.message and "有 1 对不足 1 次" in out.message


def test_coverage_min_count_two():
    params = {**TALKS, "min_count": 2, "unit": "人"}
    facts = {"required": ["甲"], "done": ["甲"]}
    assert run("coverage", params, facts, D(2025, 12, 15)).state == "due_soon"
    assert run("coverage", params, {"required": ["甲"], "done": ["甲", "甲"]}).state == "ok"
    assert run("coverage", params, {"required": [], "done": []}).state == "not_applicable"
    assert run("coverage", params, {"required": ["甲"], "done": None}).state == "unknown"


# quorum_majority ------------------------------------------------------------------------------------------

ASSEMBLY = {
    "what": "支部党员大会表决",
    "quorum": {"ratio": "1/2", "strict": True},
    "pass": {"ratio": "1/2", "strict": True},
    "quorum_note": "“半数以上”读法有分歧，按从严理解",
}


def test_exact_half_present_fails_a_strict_quorum_and_says_why():
    out = run("quorum_majority", ASSEMBLY, {"entitled": 10, "present": 5, "in_favour": 5})
    assert out.state == "violated"
    assert "恰为应到会 10 人的半数，未超过半数" in out.message
    assert "读法有分歧" in out.message


def test_exact_half_in_favour_of_the_entitled_fails_even_if_most_present_agree():
    out = run("quorum_majority", ASSEMBLY, {"entitled": 10, "present": 8, "in_favour": 5})
    assert out.state == "violated"
    assert "赞成 5 票，恰为应到会 10 人的半数" in out.message
    assert "以应到会人数为基数" in out.message


def test_one_more_than_half_passes():
    out = run("quorum_majority", ASSEMBLY, {"entitled": 10, "present": 6, "in_favour": 6})
    assert out.state == "ok" and "通过" in out.message


def test_non_strict_fraction_accepts_exactly_the_fraction():
    params = {"what": "党组织会议（干部任免）", "quorum": "2/3"}
    assert run("quorum_majority", params, {"entitled": 9, "present": 6}).state == "ok"
    out = run("quorum_majority", params, {"entitled": 9, "present": 5})
    assert out.state == "violated" and "至少需 6 人" in out.message


def test_majority_of_those_present_when_the_base_is_present():
    params = {"what": "选举", "pass": {"ratio": "1/2", "strict": True}, "majority_of": "present"}
    assert run("quorum_majority", params, {"entitled": 20, "present": 9, "in_favour": 5}).state == "ok"


def test_quorum_bad_or_missing_counts_are_unknown():
    assert (
        run("quorum_majority", ASSEMBLY, {"entitled": 10, "present": 12, "in_favour": 6}).state == "unknown"
    )
    assert run("quorum_majority", ASSEMBLY, {"entitled": 0, "present": 0, "in_favour": 0}).state == "unknown"
    assert run("quorum_majority", ASSEMBLY, {"entitled": 10, "present": 8}).state == "unknown"


def test_four_fifths_strict():
    params = {"what": "选举", "quorum": {"ratio": "4/5", "strict": True}}
    assert run("quorum_majority", params, {"entitled": 10, "present": 8}).state == "violated"
    assert run("quorum_majority", params, {"entitled": 10, "present": 9}).state == "ok"


# consecutive_months_without -------------------------------------------------------------------------------

LAPSE = {
    "months": 6,
    "warn_months": 3,
    "tracks": {"dues": "交纳党费", "organisational_life": "参加党的组织生活"},
}


def months(*ms: str) -> list[str]:
    return list(ms)


def test_five_months_without_dues_is_a_warning_six_is_violated():
    life = months("2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06")
    five = run(
        "consecutive_months_without",
        LAPSE,
        {"from": "2025-01", "to": "2025-06", "activity": {"dues": ["2025-01"], "organisational_life": life}},
    )
    assert five.state == "due_soon" and "已连续 5 个月未交纳党费" in five.message
    assert five.due == D(2025, 7, 31)
    six = run(
        "consecutive_months_without",
        LAPSE,
        {"from": "2025-01", "to": "2025-06", "activity": {"dues": [], "organisational_life": life}},
    )
    assert six.state == "violated" and "连续 6 个月未交纳党费" in six.message


def test_a_past_run_of_six_still_counts_after_payments_resume():
    life = [f"2025-{m:02d}" for m in range(1, 13)]
    out = run(
        "consecutive_months_without",
        LAPSE,
        {
            "from": "2025-01",
            "to": "2025-12",
            "activity": {"dues": ["2025-01", "2025-08", "2025-12"], "organisational_life": life},
        },
    )
    assert out.state == "violated" and "2025年2月至2025年7月" in out.message


def test_activity_this_month_ends_the_current_run():
    life = months("2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06")
    out = run(
        "consecutive_months_without",
        LAPSE,
        {
            "from": "2025-01",
            "to": "2025-06",
            "activity": {"dues": ["2025-01", "2025-02", "2025-07"], "organisational_life": life},
        },
    )
    assert out.state == "ok"


def test_no_data_is_unknown_but_a_known_violation_still_shows():
    unknown = run(
        "consecutive_months_without", LAPSE, {"from": "2025-01", "to": "2025-06", "activity": {"dues": None}}
    )
    assert unknown.state == "unknown" and "尚无交纳党费、参加党的组织生活的数据" in unknown.message
    known = run(
        "consecutive_months_without",
        LAPSE,
        {"from": "2025-01", "to": "2025-06", "activity": {"dues": [], "organisational_life": None}},
    )
    assert known.state == "violated"


# count_within ---------------------------------------------------------------------------------------------


def test_count_below_hard_minimum_reads_naturally():
    out = run(
        "count_within",
        {"metric": "full_members", "label": "正式党员", "min": 3},
        {"org_kind": "branch", "full_members": 2},
    )
    assert out.state == "violated" and out.message == "党支部现有正式党员 2 名，少于 3 名"
    assert out.severity is None  # the rule's severity applies
    assert (
        run(
            "count_within", {"metric": "full_members", "label": "正式党员", "min": 3}, {"full_members": 3}
        ).state
        == "ok"
    )


def test_count_outside_normal_range_is_a_warning_beyond_hard_bound_violated():
    params = {"metric": "seats", "label": "委员", "normal": {"min": 3, "max": 5}, "max": 7}
    six = run("count_within", params, {"seats": 6})
    assert six.state == "violated" and six.severity == "warning"
    assert run("count_within", params, {"seats": 7}).severity == "warning"
    eight = run("count_within", params, {"seats": 8})
    assert eight.state == "violated" and eight.severity is None and "多于 7 名" in eight.message
    assert run("count_within", params, {"seats": 2}).severity == "warning"
    assert run("count_within", params, {"seats": 3}).state == "ok"


def test_count_when_condition_decides_applicability():
    params = {
        "metric": "committee_seats",
        "label": "支部委员会委员",
        "min": 1,
        "when": {"fact": "full_members", "label": "正式党员", "op": ">=", "value": 7},
        "requirement": "应设立支部委员会",
    }
    assert run("count_within", params, {"full_members": 6, "committee_seats": 0}).state == "not_applicable"
    out = run("count_within", params, {"full_members": 7, "committee_seats": 0, "org_kind": "branch"})
    assert out.state == "violated"
    assert out.message == "党支部正式党员 7 名，达到 7 名，应设立支部委员会；尚无支部委员会委员"
    assert run("count_within", params, {"full_members": 7}).state == "unknown"


def test_count_when_threshold_not_set_is_not_applicable():
    params = {
        "metric": "groups",
        "label": "党小组",
        "min": 1,
        "when": {"fact": "members", "op": ">=", "value": None},
    }
    assert run("count_within", params, {"members": 80, "groups": 0}).state == "not_applicable"


# ratio_within ---------------------------------------------------------------------------------------------

EXCELLENT = {
    "numerator": "excellent",
    "denominator": "full_members",
    "numerator_label": "评为优秀的",
    "denominator_label": "正式党员",
    "max": "1/3",
}


def test_ratio_exactly_a_third_is_within_a_non_strict_ceiling():
    assert run("ratio_within", EXCELLENT, {"excellent": 3, "full_members": 9}).state == "ok"
    out = run("ratio_within", EXCELLENT, {"excellent": 4, "full_members": 9})
    assert out.state == "violated" and "最多 3 人" in out.message


def test_ratio_strict_ceiling_and_floor():
    strict = {**EXCELLENT, "max": {"ratio": "1/3", "strict": True}}
    assert run("ratio_within", strict, {"excellent": 3, "full_members": 9}).state == "violated"
    floor = {**EXCELLENT, "max": None, "min": {"ratio": "1/2", "strict": True}}
    assert run("ratio_within", floor, {"excellent": 5, "full_members": 10}).state == "violated"
    assert run("ratio_within", EXCELLENT, {"excellent": 0, "full_members": 0}).state == "not_applicable"


# term_expiry ----------------------------------------------------------------------------------------------

TERM = {
    "years_by_kind": {"branch": 3, "committee": 5},
    "remind_before": {"months": 6},
    "shift_max": {"years": 1},
}


def test_term_one_day_before_expiry_is_due_soon_and_on_the_day_too():
    facts = {"org_kind": "branch", "term_start": D(2022, 7, 1)}
    day_before = run("term_expiry", TERM, facts, D(2025, 6, 30))
    assert (
        day_before.state == "due_soon"
        and day_before.due == D(2025, 7, 1)
        and "还剩 1 天" in day_before.message
    )
    assert run("term_expiry", TERM, facts, D(2025, 7, 1)).state == "due_soon"
    after = run("term_expiry", TERM, facts, D(2025, 7, 2))
    assert after.state == "overdue" and "逾期 1 天" in after.message


def test_term_reminder_window_starts_six_months_before():
    facts = {"org_kind": "branch", "term_start": D(2022, 7, 1)}
    assert run("term_expiry", TERM, facts, D(2024, 12, 31)).state == "ok"
    assert run("term_expiry", TERM, facts, D(2025, 1, 1)).state == "due_soon"


def test_term_beyond_the_longest_postponement_is_violated():
    facts = {"org_kind": "branch", "term_start": D(2021, 7, 1)}
    assert run("term_expiry", TERM, facts, D(2025, 7, 1)).state == "overdue"
    assert run("term_expiry", TERM, facts, D(2025, 7, 2)).state == "violated"


def test_term_recorded_length_wins_and_missing_term_is_unknown():
    out = run(
        "term_expiry",
        TERM,
        {"org_kind": "branch", "term_start": D(2022, 7, 1), "term_years": 5},
        D(2025, 7, 2),
    )
    assert out.state == "ok" and "届次记录" in out.message
    assert run("term_expiry", TERM, {"org_kind": "branch", "term_start": None}).state == "unknown"
    assert (
        run("term_expiry", TERM, {"org_kind": "group", "term_start": D(2022, 1, 1)}).state == "not_applicable"
    )


def test_term_from_29_february():
    out = run("term_expiry", TERM, {"org_kind": "branch", "term_start": D(2024, 2, 29)}, D(2027, 3, 1))
    assert out.due == D(2027, 2, 28) and out.state == "overdue"


# post_held ------------------------------------------------------------------------------------------------


def test_post_held():
    params = {"role": "secretary", "role_label": "书记"}
    assert (
        run("post_held", params, {"holders": ["李红梅"], "org_kind": "branch"}).message
        == "党支部书记：李红梅"
    )
    assert run("post_held", params, {"holders": []}).state == "violated"
    assert run("post_held", params, {}).state == "unknown"


# schemas --------------------------------------------------------------------------------------------------


def test_every_kind_documents_itself():
    for k in KINDS.values():
        assert k.doc and k.title and k.summary and k.facts, k.name
        for name, spec in k.schema.items():
            assert spec.doc or not spec.required or name in ("role",), (k.name, name)


@pytest.mark.parametrize(
    ("kind", "params", "where"),
    [
        ("frequency", {"period": {"count": 0, "per": "month"}, "event": "x"}, "period.count"),
        ("frequency", {"period": {"count": 1, "per": "week"}, "event": "x"}, "period.per"),
        ("frequency", {"event": "x"}, "period"),
        ("count_within", {"metric": "m", "label": "l", "min": "three"}, "min"),
        ("count_within", {"metric": "m", "label": "l", "colour": "red"}, "colour"),
        ("quorum_majority", {"what": "x", "quorum": "3/2"}, "quorum.ratio"),
        ("quorum_majority", {"what": "x", "majority_of": "everyone"}, "majority_of"),
    ],
)
def test_params_that_do_not_fit_the_kind_are_refused_with_the_place(kind, params, where):
    from zhibu.compliance.values import ValueFault

    with pytest.raises(ValueFault) as exc:
        KINDS[kind].parse_params(params)
    assert exc.value.where == where


def test_outcome_facts_are_json_ready():
    import json

    out = run("term_expiry", TERM, {"org_kind": "branch", "term_start": D(2022, 7, 1)})
    json.dumps(out.facts_used)
    assert out.facts_used["term_start"] == "2022-07-01"
    assert parse("duration", {"months": 6}).shift(D(2025, 8, 31)) == D(2026, 2, 28)


# check_rule -----------------------------------------------------------------------------------------------


def national_rule(rule_id: str):  # type: ignore[no-untyped-def]
    from tests.compliance.test_examples import LIB

    return LIB.national.rules[rule_id].resolve(LIB.national.values())


def test_check_rule_honours_applies_to_and_fills_the_severity():
    from zhibu.compliance.kinds import check_rule

    rule = national_rule("org.branch_min_full_members")
    assert check_rule(rule, {"org_kind": "group", "full_members": 0}, TODAY).state == "not_applicable"
    out = check_rule(rule, {"org_kind": "branch", "full_members": 0}, TODAY)
    assert out.state == "violated" and out.severity == "serious"
    lapse = national_rule("member.lapse")
    assert check_rule(lapse, {"status": "activist"}, TODAY).state == "not_applicable"
    assert check_rule(lapse, {"status": "full_member"}, TODAY).state == "unknown"  # facts missing


def test_check_rule_keeps_the_kinds_own_severity():
    rule = national_rule("org.committee_size")
    assert rule.check({"org_kind": "branch", "committee_seats": 6}, TODAY).severity == "warning"
    assert rule.check({"org_kind": "branch", "committee_seats": 8}, TODAY).severity == "serious"


def test_rules_tell_the_engine_which_facts_to_gather():
    assert national_rule("org.committee_required").fact_names() == ("committee_seats", "full_members")
    assert national_rule("org.group_split").fact_names() == ("groups", "members")
    assert national_rule("org.secretary_in_post").fact_names() == ("holders", "org_kind")
    assert national_rule("org.term_expiry").fact_names() == ("org_kind", "term_start", "term_years")
    assert national_rule("member.lapse").fact_names() == ("from", "to", "activity", "person")


def test_a_text_parameter_can_feed_a_choice_param():
    k = KINDS["quorum_majority"]
    params = k.parse_params({"what": "选举", "majority_of": "$x"}, fixed={"majority_of": "present"})
    assert params["majority_of"] == "present"
    from zhibu.compliance.values import ValueFault

    with pytest.raises(ValueFault, match="引用的参数类型为文字"):
        k.parse_params({"what": "选举", "majority_of": "$x"}, fixed={"majority_of": "everyone"})
