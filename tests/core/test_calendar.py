"""The working-day calendar: the State Council's schedule with make-up days, overrides, estimated years."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from zhibu.core import calendar as cal
from zhibu.core.calendar import CalendarDate, DayKind, DaySource, WorkdayCalendar
from zhibu.core.models import CalendarDay, CalendarYear, CalendarYearDay

D = dt.date
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "day", [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)]
)
def test_the_2026_make_up_days_are_working_days_though_weekends(day):
    assert day.weekday() >= 5
    answer = cal.is_workday(day)
    assert answer.value is True and answer.estimated is False
    info = WorkdayCalendar.load([2026]).day(day)
    assert info.kind is DayKind.MAKEUP and info.name.endswith("调休上班") and info.source is DaySource.PACKAGE


@pytest.mark.parametrize("offset", range(7))
def test_national_day_week_2026_is_a_holiday(offset):
    day = D(2026, 10, 1) + dt.timedelta(days=offset)
    info = WorkdayCalendar.load([2026]).day(day)
    assert info.is_workday is False and info.estimated is False
    assert info.kind is DayKind.HOLIDAY and info.name == "国庆节"


def test_an_ordinary_2026_weekend_and_weekday():
    calendar = WorkdayCalendar.load([2026])
    assert calendar.day(D(2026, 3, 7)).kind is DayKind.WEEKEND
    assert calendar.is_workday(D(2026, 3, 9)).value is True


def test_add_workdays_skips_the_national_day_week():
    # Wednesday 2026-09-30 + 1 working day: 10-01..07 are off, 10-08 (Thursday) is the next working day.
    assert cal.add_workdays(D(2026, 9, 30), 1) == CalendarDate(D(2026, 10, 8), False)
    # Counting on: Fri 10-09, Sat 10-10 (make-up day), Mon 10-12.
    assert cal.add_workdays(D(2026, 9, 30), 3).date == D(2026, 10, 10)
    assert cal.add_workdays(D(2026, 9, 30), 4).date == D(2026, 10, 12)
    # And back: one working day before 10-08 is 09-30.
    assert cal.add_workdays(D(2026, 10, 8), -1) == CalendarDate(D(2026, 9, 30), False)


def test_add_workdays_zero_returns_the_start_unchanged_even_on_a_holiday():
    assert cal.add_workdays(D(2026, 10, 3), 0) == CalendarDate(D(2026, 10, 3), False)
    assert cal.add_workdays(D(2027, 3, 6), 0) == CalendarDate(D(2027, 3, 6), False)


def test_add_workdays_starts_counting_after_the_start_day():
    # Monday 2026-03-09 + 1 is Tuesday, whether or not Monday is a working day.
    assert cal.add_workdays(D(2026, 3, 9), 1).date == D(2026, 3, 10)
    assert cal.add_workdays(D(2026, 3, 7), 1).date == D(2026, 3, 9)  # from a Saturday


def test_publicity_notice_of_five_working_days_across_national_day():
    # Starts Monday 09-28: 28, 29, 30, (holiday week), 10-08, 10-09 → last day Friday 10-09.
    assert cal.span_last_day(D(2026, 9, 28), 5) == CalendarDate(D(2026, 10, 9), False)
    # A notice that starts on a holiday begins on the next working day.
    assert cal.span_last_day(D(2026, 10, 3), 1).date == D(2026, 10, 8)
    with pytest.raises(ValueError):
        cal.span_last_day(D(2026, 9, 28), 0)


def test_workday_on_or_after_rolls_a_deadline_off_a_holiday():
    calendar = WorkdayCalendar.load([2026])
    assert calendar.workday_on_or_after(D(2026, 10, 2)).date == D(2026, 10, 8)
    assert calendar.workday_on_or_after(D(2026, 10, 8)).date == D(2026, 10, 8)


@pytest.mark.parametrize(
    "start, end, expected",
    [
        (D(2026, 3, 9), D(2026, 3, 9), 0),  # the same day
        (D(2026, 3, 7), D(2026, 3, 8), 0),  # Saturday to Sunday: nothing but weekend
        (D(2026, 3, 6), D(2026, 3, 8), 0),  # Friday to Sunday: start excluded
        (D(2026, 3, 6), D(2026, 3, 9), 1),  # Friday to Monday: the Monday
        (D(2026, 3, 9), D(2026, 3, 13), 4),  # Monday to Friday
        (D(2026, 3, 13), D(2026, 3, 9), -4),  # reversed: negative, [end, start)
        (D(2026, 9, 30), D(2026, 10, 8), 1),  # across National Day
        (D(2026, 10, 8), D(2026, 9, 30), -1),
        (D(2026, 10, 1), D(2026, 10, 7), 0),  # inside the holiday
    ],
)
def test_workdays_between_excludes_the_start_and_includes_the_end(start, end, expected):
    count = cal.workdays_between(start, end)
    assert count.days == expected and count.estimated is False


@pytest.mark.parametrize("n", [-12, -5, -1, 0, 1, 3, 7, 20])
def test_workdays_between_inverts_add_workdays(n):
    calendar = WorkdayCalendar.load([2026])
    for start in (D(2026, 9, 26), D(2026, 10, 3), D(2026, 10, 9)):
        assert calendar.workdays_between(start, calendar.add_workdays(start, n).date).days == n


def test_results_refuse_to_be_used_as_plain_values():
    answer = cal.is_workday(D(2026, 3, 9))
    with pytest.raises(TypeError):
        bool(answer)
    with pytest.raises(TypeError):
        bool(cal.workdays_between(D(2026, 3, 9), D(2026, 3, 13)))
    with pytest.raises(TypeError):
        _ = cal.add_workdays(D(2026, 3, 9), 1) < D(2026, 4, 1)  # type: ignore[operator]


def test_a_2027_date_falls_back_to_monday_to_friday_and_is_estimated():
    answer = cal.is_workday(D(2027, 10, 1))  # a Friday; the package does not know 2027
    assert answer.value is True and answer.estimated is True
    assert cal.is_workday(D(2027, 10, 2)).value is False
    calendar = WorkdayCalendar.load([2027])
    assert calendar.year_source(2027) is DaySource.ESTIMATE and calendar.year_is_estimated(2027)
    assert calendar.day(D(2027, 10, 2)).kind is DayKind.WEEKEND


def test_a_computation_that_touches_an_estimated_year_is_estimated():
    # 2026-12-30 (Wednesday) + 2: 12-31 (known), then 2027-01-01 (estimated).
    result = cal.add_workdays(D(2026, 12, 30), 2)
    assert result == CalendarDate(D(2027, 1, 1), True)
    assert cal.add_workdays(D(2026, 12, 29), 1).estimated is False
    assert cal.workdays_between(D(2026, 12, 30), D(2027, 1, 4)).estimated is True
    assert cal.workdays_between(D(2026, 12, 1), D(2026, 12, 31)).estimated is False


def test_the_package_not_knowing_a_year_never_escapes():
    calendar = WorkdayCalendar.load([2040])
    assert calendar.is_workday(D(2040, 1, 2)).estimated is True
    assert cal.package_knows_year(2026) and not cal.package_knows_year(2027)


def _load_2027() -> None:
    cy = CalendarYear.objects.create(year=2027, note="测试")
    days = [(D(2027, 10, 1) + dt.timedelta(days=i), False, "国庆节") for i in range(7)]
    days.append((D(2027, 9, 26), True, "国庆节调休上班"))
    CalendarYearDay.objects.bulk_create(
        CalendarYearDay(calendar_year=cy, date=d, is_workday=w, name=n) for d, w, n in days
    )


def test_a_loaded_year_is_no_longer_estimated_and_follows_its_schedule():
    _load_2027()
    calendar = WorkdayCalendar.load([2027])
    assert calendar.year_source(2027) is DaySource.SCHEDULE
    assert calendar.is_workday(D(2027, 10, 1)) == cal.WorkdayAnswer(False, False)  # a Friday, now a holiday
    assert calendar.is_workday(D(2027, 9, 26)) == cal.WorkdayAnswer(True, False)  # a Sunday, make-up day
    assert calendar.is_workday(D(2027, 3, 8)) == cal.WorkdayAnswer(True, False)  # unlisted Monday
    assert calendar.is_workday(D(2027, 3, 6)) == cal.WorkdayAnswer(False, False)  # unlisted Saturday
    assert cal.add_workdays(D(2027, 9, 30), 1) == CalendarDate(D(2027, 10, 8), False)


def test_a_single_override_beats_the_package_and_the_loaded_schedule():
    CalendarDay.objects.create(date=D(2026, 10, 10), is_workday=False, name="临时放假")
    CalendarDay.objects.create(date=D(2026, 3, 9), is_workday=False, name="停电")
    _load_2027()
    CalendarDay.objects.create(date=D(2027, 10, 2), is_workday=True, name="补班")
    calendar = WorkdayCalendar.load([2026, 2027])
    assert calendar.is_workday(D(2026, 10, 10)).value is False
    info = calendar.day(D(2026, 3, 9))
    assert info.is_workday is False and info.source is DaySource.OVERRIDE and info.kind is DayKind.HOLIDAY
    assert calendar.is_workday(D(2027, 10, 2)).value is True


def test_an_override_in_an_estimated_year_is_itself_not_an_estimate():
    CalendarDay.objects.create(date=D(2028, 1, 3), is_workday=False, name="元旦")
    calendar = WorkdayCalendar.load([2028])
    assert calendar.is_workday(D(2028, 1, 3)) == cal.WorkdayAnswer(False, False)
    assert calendar.is_workday(D(2028, 1, 4)).estimated is True


def test_asking_1000_dates_costs_the_same_queries_as_asking_one():
    _load_2027()
    CalendarDay.objects.create(date=D(2026, 5, 6), is_workday=False, name="x")
    with CaptureQueriesContext(connection) as one:
        calendar = WorkdayCalendar.load([2026, 2027])
        calendar.is_workday(D(2026, 5, 6))
    with CaptureQueriesContext(connection) as many:
        calendar = WorkdayCalendar.load([2026, 2027])
        start = D(2026, 1, 1)
        for i in range(1000):
            calendar.is_workday(start + dt.timedelta(days=i % 730))
        calendar.add_workdays(D(2026, 1, 5), 300)
        calendar.workdays_between(D(2026, 1, 1), D(2027, 12, 31))
    assert len(one) == len(many) <= 3


def test_a_year_not_loaded_is_loaded_once_on_first_use():
    calendar = WorkdayCalendar.load([2026])
    with CaptureQueriesContext(connection) as ctx:
        for i in range(400):
            calendar.is_workday(D(2028, 1, 1) + dt.timedelta(days=i % 366))
    assert len(ctx) <= 3


def test_year_days_lists_every_day():
    days = WorkdayCalendar.load([2028]).year_days(2028)
    assert len(days) == 366 and days[0].date == D(2028, 1, 1) and days[-1].date == D(2028, 12, 31)
