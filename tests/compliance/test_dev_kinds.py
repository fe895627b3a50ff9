"""The check kinds of the development pipeline at their boundaries: deadlines with a hard maximum and a
reason, intervals (not before, not longer than, recounted in working days), periodic reviews, the people
named for a case, and a date drawing near."""

from __future__ import annotations

import datetime as dt

import pytest

from zhibu.compliance.catalogue import render_markdown
from zhibu.compliance.kinds import KINDS
from zhibu.compliance.packs import load_packs
from zhibu.core.calendar import WorkdayCalendar

from .test_examples import REPO

D = dt.date
TODAY = D(2026, 6, 30)


def run(kind: str, params: dict, facts: dict, today: dt.date = TODAY, **kw):  # type: ignore[no-untyped-def]
    k = KINDS[kind]
    return k.evaluate(k.parse_params(params), facts, today=today, **kw)


# deadline_after: named facts, a hard maximum and a reason ------------------------------------------------

APPROVAL = {
    "within": {"months": 3},
    "max": {"months": 6},
    "reason_fact": "approval_late_reason",
    "after": "支部大会通过接收预备党员",
    "event": "完成上级党委审批",
    "start_fact": "reception_vote",
    "done_fact": "approval",
}


def approval(vote, done, reason=None, today=TODAY):  # type: ignore[no-untyped-def]
    facts = {"reception_vote": vote, "approval": done, "approval_late_reason": reason}
    return run("deadline_after", APPROVAL, facts, today)


def test_deadline_after_reads_the_facts_its_params_name():
    k = KINDS["deadline_after"]
    assert k.fact_names(k.parse_params(APPROVAL)) == ("reception_vote", "approval", "approval_late_reason")
    out = approval(D(2026, 1, 10), D(2026, 4, 10))
    assert out.state == "ok" and out.due == D(2026, 4, 10)  # exactly three months: in time


def test_deadline_after_missing_named_fact_is_unknown_not_ok():
    out = run("deadline_after", APPROVAL, {"reception_vote": D(2026, 1, 10)})
    assert out.state == "unknown" and "approval" in out.message


def test_a_late_approval_without_a_reason_is_violated_and_with_one_is_ok():
    late = approval(D(2026, 1, 10), D(2026, 4, 11))
    assert late.state == "violated"
    assert "晚了 1 天" in late.message and "未说明逾期理由" in late.message
    justified = approval(D(2026, 1, 10), D(2026, 5, 20), "基层党委换届，会议推迟")
    assert justified.state == "ok" and "已说明逾期理由：基层党委换届，会议推迟" in justified.message


def test_an_approval_past_the_longest_extension_is_violated_even_with_a_reason():
    assert approval(D(2026, 1, 10), D(2026, 7, 10), "理由").state == "ok"  # on the last allowed day
    out = approval(D(2026, 1, 10), D(2026, 7, 11), "理由")
    assert out.state == "violated" and "超过特殊情况下最长的 6 个月" in out.message


def test_an_approval_not_recorded_is_overdue_then_violated_past_the_maximum():
    overdue = approval(D(2026, 3, 1), None, today=D(2026, 6, 2))
    assert overdue.state == "overdue" and overdue.due == D(2026, 6, 1)
    assert "特殊情况最长 6 个月（2026年9月1日前）" in overdue.message
    assert approval(D(2026, 3, 1), None, today=D(2026, 9, 1)).state == "overdue"
    past = approval(D(2026, 3, 1), None, today=D(2026, 9, 2))
    assert past.state == "violated" and "超过特殊情况下最长的 6 个月" in past.message


def test_a_blank_reason_is_no_reason():
    assert approval(D(2026, 1, 10), D(2026, 4, 30), "  ").state == "violated"


# interval_within --------------------------------------------------------------------------------------------

CULTIVATION = {
    "fact": "cultivation",
    "what": "培养教育考察期",
    "min": {"years": 1},
    "from_event": "确定为入党积极分子",
    "to_event": "确定为发展对象",
}


def cultivation(start, end):  # type: ignore[no-untyped-def]
    return run("interval_within", CULTIVATION, {"cultivation": {"from": start, "to": end}})


def test_cultivation_of_exactly_one_year_is_enough():
    out = cultivation(D(2025, 3, 15), D(2026, 3, 15))
    assert out.state == "ok" and "共 1 年" in out.message


def test_cultivation_one_day_short_of_a_year_is_violated():
    out = cultivation(D(2025, 3, 16), D(2026, 3, 15))
    assert out.state == "violated"
    assert "共 11 个月 27 天，未满 1 年" in out.message
    assert "2025年3月16日确定为入党积极分子" in out.message


def test_cultivation_of_eight_months_says_so():
    out = cultivation(D(2025, 9, 1), D(2026, 5, 1))
    assert out.state == "violated" and "共 8 个月，未满 1 年" in out.message


def test_an_interval_not_ended_or_not_recorded_is_not_judged():
    assert cultivation(D(2025, 9, 1), None).state == "not_applicable"
    assert cultivation(None, None).state == "not_applicable"
    assert run("interval_within", CULTIVATION, {"cultivation": None}).state == "not_applicable"
    assert run("interval_within", CULTIVATION, {}).state == "unknown"


PUBLICITY = {"fact": "publicity", "what": "公示期", "min": {"workdays": 5}, "inclusive": True}


def publicity(start, end, recorded=None, **kw):  # type: ignore[no-untyped-def]
    facts = {"publicity": {"from": start, "to": end, "recorded": recorded}}
    return run("interval_within", PUBLICITY, facts, **kw)


def test_publicity_counts_its_first_day_and_without_a_calendar_is_an_estimate():
    out = publicity(D(2026, 6, 8), D(2026, 6, 12), 5)  # Monday to Friday
    assert out.state == "ok" and "共 5 个工作日" in out.message
    assert out.facts_used["estimated"] is True
    short = publicity(D(2026, 6, 8), D(2026, 6, 11), 4)
    assert short.state == "violated" and "少于 5 个工作日" in short.message


def test_a_recorded_count_below_the_minimum_is_violated_even_when_the_dates_pass():
    out = publicity(D(2026, 6, 8), D(2026, 6, 12), 4)
    assert out.state == "violated" and "记录为 4 个工作日，少于 5 个工作日" in out.message


@pytest.mark.django_db
def test_publicity_across_national_day_is_recounted_with_the_official_calendar():
    calendar = WorkdayCalendar.load({2026})

    def add(day: dt.date, n: int) -> dt.date:
        return calendar.add_workdays(day, n).date

    # Five calendar weekdays from Monday 28 September are only three working days (1–7 October off).
    out = publicity(D(2026, 9, 28), D(2026, 10, 2), 5, add_workdays=add)
    assert out.state == "violated"
    assert "记录为 5 个工作日，按日历核算为 3 个工作日" in out.message
    end = calendar.span_last_day(D(2026, 9, 28), 5).date
    assert publicity(D(2026, 9, 28), end, 5, add_workdays=add).state == "ok"
    day_before = end - dt.timedelta(days=1)
    assert publicity(D(2026, 9, 28), day_before, 5, add_workdays=add).state == "violated"


EXTENSION = {"fact": "extensions", "what": "延长预备期", "min": {"months": 6}, "max": {"years": 1}}


def extension(months_later: dt.date):  # type: ignore[no-untyped-def]
    item = {"from": D(2026, 3, 10), "to": months_later, "label": "2026年3月10日支部大会决定"}
    return run("interval_within", EXTENSION, {"extensions": [item]})


def test_an_extension_is_between_six_months_and_a_year():
    assert extension(D(2026, 9, 10)).state == "ok"
    assert extension(D(2027, 3, 10)).state == "ok"
    short = extension(D(2026, 9, 9))
    assert short.state == "violated" and short.message.startswith("2026年3月10日支部大会决定延长预备期")
    long = extension(D(2027, 3, 11))
    assert long.state == "violated" and "超过 1 年" in long.message


def test_no_extension_is_not_applicable():
    assert run("interval_within", EXTENSION, {"extensions": []}).state == "not_applicable"


# periodic ---------------------------------------------------------------------------------------------------

REVIEW = {
    "period": {"count": 1, "per": "month", "every": 6},
    "event": "考察",
    "after": "确定为入党积极分子",
    "until": "确定为发展对象",
    "start_fact": "start",
    "end_fact": "end",
    "events_fact": "reviews",
}


def review(start, end, reviews, today=TODAY, **params):  # type: ignore[no-untyped-def]
    return run("periodic", {**REVIEW, **params}, {"start": start, "end": end, "reviews": reviews}, today)


def test_a_review_due_today_is_due_soon_and_the_day_after_overdue():
    on_due = review(D(2025, 12, 30), None, [])
    assert on_due.state == "due_soon" and on_due.due == D(2026, 6, 30) and "今天到期" in on_due.message
    after = review(D(2025, 12, 30), None, [], today=D(2026, 7, 1))
    assert after.state == "overdue" and "第 1 次应于2026年6月30日前考察，已逾期 1 天" in after.message


def test_the_due_soon_window_is_thirty_days_by_default():
    assert review(D(2026, 1, 31), None, [], today=D(2026, 6, 30)).state == "ok"  # due 31 July: 31 days
    assert review(D(2026, 1, 30), None, [], today=D(2026, 6, 30)).state == "due_soon"  # due 30 July


def test_reviews_in_time_are_ok_and_name_the_next_one():
    out = review(D(2025, 6, 1), None, [D(2025, 11, 20), D(2026, 5, 30)])
    assert out.state == "ok" and out.due == D(2026, 12, 1)
    assert "已考察 2 次，第 3 次应于2026年12月1日前考察" in out.message


def test_a_review_done_late_is_violated():
    out = review(D(2025, 6, 1), None, [D(2025, 12, 2), D(2026, 5, 30)])
    assert (
        out.state == "violated"
        and "第 1 次应于2025年12月1日前考察，实际2025年12月2日，晚了 1 天" in out.message
    )


def test_a_review_missed_before_the_window_closed_is_violated():
    out = review(D(2024, 1, 10), D(2025, 3, 1), [D(2024, 7, 1)])
    assert out.state == "violated" and "至确定为发展对象（2025年3月1日）仍未考察" in out.message


def test_a_review_falling_due_on_the_closing_day_is_not_owed():
    out = review(D(2024, 1, 10), D(2025, 1, 10), [D(2024, 7, 1)])
    assert out.state == "ok" and "均按期" in out.message


def test_a_window_ending_later_stops_asking_before_its_end():
    out = review(D(2025, 9, 1), D(2026, 9, 1), [D(2026, 2, 20)])
    assert out.state == "ok" and "预备期" not in out.message and "前不再需要考察" in out.message


def test_reviews_before_the_start_do_not_count():
    assert review(D(2025, 6, 1), None, [D(2025, 5, 20), D(2025, 11, 1)]).state == "overdue"


def test_two_a_year_means_one_every_six_months():
    out = review(D(2025, 6, 1), None, [], period={"count": 2, "per": "year"})
    assert out.state == "overdue" and out.due == D(2025, 12, 1)


def test_periodic_without_records_or_with_semesters_is_unknown():
    assert review(D(2025, 6, 1), None, None).state == "unknown"
    assert review(D(2025, 6, 1), None, [], period={"count": 1, "per": "semester"}).state == "unknown"
    assert review(None, None, []).state == "not_applicable"


# holders_eligible -----------------------------------------------------------------------------------------

MENTORS = {
    "fact": "mentors",
    "role_label": "培养联系人",
    "count": {"min": 1, "max": 2},
    "statuses": ["full_member"],
    "status_label": "正式党员",
}
SPONSORS = {**MENTORS, "fact": "sponsors", "role_label": "入党介绍人", "count": 2}


def holder(name: str, status: str = "full_member", label: str = "正式党员") -> dict:
    return {"name": name, "status": status, "status_label": label}


def test_one_or_two_full_members_as_mentors_are_ok_none_or_three_are_not():
    one = run("holders_eligible", MENTORS, {"person": "曾小单", "mentors": [holder("张三丰")]})
    assert one.state == "ok" and "曾小单的培养联系人：张三丰（1 名）" in one.message
    none = run("holders_eligible", MENTORS, {"person": "曾小单", "mentors": []})
    assert none.state == "violated" and "曾小单尚无培养联系人；应有 1—2 名" in none.message
    three = [holder("甲"), holder("乙"), holder("丙")]
    assert run("holders_eligible", MENTORS, {"mentors": three}).state == "violated"


def test_a_probationary_or_suspended_sponsor_is_ineligible():
    facts = {"sponsors": [holder("张三丰"), holder("钱七", "suspended", "停止党籍")]}
    out = run("holders_eligible", SPONSORS, facts)
    assert out.state == "violated" and "钱七现为停止党籍，不是正式党员，不能担任入党介绍人" in out.message
    facts = {"sponsors": [holder("张三丰"), holder("赵六", "probationary", "预备党员")]}
    assert run("holders_eligible", SPONSORS, facts).state == "violated"
    assert run("holders_eligible", SPONSORS, {"sponsors": [holder("甲"), holder("乙")]}).state == "ok"


def test_sponsors_must_be_exactly_the_number():
    out = run("holders_eligible", SPONSORS, {"sponsors": [holder("张三丰")]})
    assert out.state == "violated" and "应有 2 名" in out.message


def test_no_assignment_yet_is_not_applicable():
    assert run("holders_eligible", SPONSORS, {"sponsors": None}).state == "not_applicable"


# approaching ------------------------------------------------------------------------------------------------

ENDING = {
    "date_fact": "probation_end",
    "what": "预备期满",
    "before": {"days": 30},
    "action": "应准备讨论转正",
}


def test_the_end_of_probation_is_due_soon_from_thirty_days_before():
    assert run("approaching", ENDING, {"probation_end": D(2026, 7, 31)}).state == "ok"
    soon = run("approaching", ENDING, {"probation_end": D(2026, 7, 30)})
    assert soon.state == "due_soon" and soon.due == D(2026, 7, 30) and "还剩 30 天" in soon.message
    today = run("approaching", ENDING, {"probation_end": TODAY, "person": "曾小单"})
    assert today.state == "due_soon" and today.message.startswith("曾小单今天预备期满")
    assert run("approaching", ENDING, {"probation_end": D(2026, 6, 29)}).state == "not_applicable"
    assert run("approaching", ENDING, {"probation_end": None}).state == "not_applicable"


# The catalogue ----------------------------------------------------------------------------------------------


def test_the_catalogue_lists_the_development_steps_with_their_numbers():
    text = render_markdown(load_packs(REPO / "policies"))
    assert "### 发展党员的步骤" in text
    row = next(line for line in text.splitlines() if "`approval` 上级党委审批" in line)
    assert "`approval.within`（3 个月）内，最长 `approval.max_extended`（6 个月）" in row
    assert "| 17 | 预备党员的接收 |" in row
