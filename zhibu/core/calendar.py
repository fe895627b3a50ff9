"""The working-day calendar (China's official one) and the school year.

Working days
------------
Whether a date is a working day is answered, in this order of precedence, by:

1. a single-day override an administrator set (`CalendarDay`);
2. the year's schedule an administrator loaded (`CalendarYear`), which replaces the package's for that
   whole year: a listed date is a holiday or a make-up working day (调休上班), any other date is a working
   day from Monday to Friday;
3. the State Council's schedule as the `chinesecalendar` package knows it (2004 to the package's last
   year), make-up working days included;
4. Monday to Friday, as an *estimate*, for a year that neither the package nor an administrator knows.

Every answer says whether it is estimated: a day answered by rule 4 is, and anything computed from such
a day (a deadline, a count) is too. The result types refuse to be used as plain values (`bool(answer)`
raises, a `CalendarDate` is not a `date`, a `CalendarCount` is not an `int`), so a caller has to read
`.value`/`.date`/`.days` and cannot overlook `.estimated` without writing it down.

`WorkdayCalendar.load(years)` reads what the database holds for those years in a fixed number of queries
(three) and answers from memory after that, however many dates are asked; a date of a year not loaded
loads that year on first use (three more queries per year). The module-level functions build a calendar
for one question and are meant for single questions, not loops.

The school year
---------------
`semesters_for(org, school_year)` gives the autumn and spring semesters of the school an org belongs to:
the school's configured dates or, when it has none, the default dates below, marked as default.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NoReturn

import chinese_calendar

if TYPE_CHECKING:
    from zhibu.core.models import Semester
    from zhibu.orgs.models import Organization

ONE_DAY = dt.timedelta(days=1)
MAKEUP_SUFFIX = "调休上班"
WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


class DaySource(enum.StrEnum):
    """Where an answer about one day came from."""

    OVERRIDE = "override"  # 单日调整
    SCHEDULE = "schedule"  # 管理员载入的年度放假安排
    PACKAGE = "package"  # chinesecalendar 中的国务院放假安排
    ESTIMATE = "estimate"  # 放假安排未知，按周一至周五估算

    @property
    def label(self) -> str:
        return _SOURCE_LABELS[self]


_SOURCE_LABELS = {
    DaySource.OVERRIDE: "单日调整",
    DaySource.SCHEDULE: "管理员载入的放假安排",
    DaySource.PACKAGE: "国务院放假安排",
    DaySource.ESTIMATE: "按周一至周五估算",
}


class DayKind(enum.StrEnum):
    """How a day shows on a calendar page."""

    WORKDAY = "workday"  # 工作日
    WEEKEND = "weekend"  # 周末（休息）
    HOLIDAY = "holiday"  # 节假日：a named day off, weekends inside a holiday included
    MAKEUP = "makeup"  # 调休上班：a working Saturday or Sunday


def _refuse_truth(kind: str) -> NoReturn:
    raise TypeError(f"{kind} 不能直接当作真假值使用：请读取 .value 并检查 .estimated")


@dataclass(frozen=True, slots=True)
class WorkdayAnswer:
    """Whether a date is a working day (`value`), and whether that is only an estimate."""

    value: bool
    estimated: bool

    def __bool__(self) -> bool:
        _refuse_truth("WorkdayAnswer")


@dataclass(frozen=True, slots=True)
class CalendarDate:
    """A date computed in working days; `estimated` when a day it depends on was estimated."""

    date: dt.date
    estimated: bool


@dataclass(frozen=True, slots=True)
class CalendarCount:
    """A number of working days; `estimated` when a day it counted (or skipped) was estimated."""

    days: int
    estimated: bool

    def __bool__(self) -> bool:
        _refuse_truth("CalendarCount")


@dataclass(frozen=True, slots=True)
class DayInfo:
    """Everything the calendar knows about one date."""

    date: dt.date
    is_workday: bool
    estimated: bool
    name: str  # "国庆节", "国庆节调休上班", an override's name, or "" for a plain day
    source: DaySource

    @property
    def kind(self) -> DayKind:
        weekend = self.date.weekday() >= 5
        if self.is_workday:
            return DayKind.MAKEUP if weekend else DayKind.WORKDAY
        if self.name or not weekend:
            return DayKind.HOLIDAY
        return DayKind.WEEKEND

    @property
    def weekday_name(self) -> str:
        return WEEKDAY_NAMES[self.date.weekday()]

    @property
    def answer(self) -> WorkdayAnswer:
        return WorkdayAnswer(self.is_workday, self.estimated)


# The package ------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def package_knows_year(year: int) -> bool:
    """Whether chinesecalendar holds the State Council's schedule of `year`."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def _package_names() -> dict[str, str]:
    return {h.value: h.chinese for h in chinese_calendar.Holiday}


_CHINESE_NAMES = _package_names()


def _package_day(date: dt.date) -> tuple[bool, str] | None:
    """(is working day, Chinese name) from the package, or None when it does not know the date's year."""
    try:
        is_workday = chinese_calendar.is_workday(date)
        _, english = chinese_calendar.get_holiday_detail(date)
    except NotImplementedError:
        return None
    name = _CHINESE_NAMES.get(english, english) if english else ""
    if is_workday and name:
        name += MAKEUP_SUFFIX
    return is_workday, name


# The calendar ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Year:
    source: DaySource  # SCHEDULE, PACKAGE or ESTIMATE
    days: dict[dt.date, tuple[bool, str]]  # a loaded schedule's entries; empty otherwise
    note: str = ""


class WorkdayCalendar:
    """Answers about working days from memory, for the years it has loaded (more on demand)."""

    def __init__(self) -> None:
        self._years: dict[int, _Year] = {}
        self._overrides: dict[dt.date, tuple[bool, str]] = {}
        self._cache: dict[dt.date, DayInfo] = {}

    @classmethod
    def load(cls, years: Iterable[int]) -> WorkdayCalendar:
        """A calendar holding what the database says about `years`: three queries, whatever the span."""
        calendar = cls()
        calendar._load(set(years))
        return calendar

    @classmethod
    def around(cls, *dates: dt.date) -> WorkdayCalendar:
        """A calendar loaded for the years of `dates` and the years on either side of them."""
        return cls.load({day.year + offset for day in dates for offset in (-1, 0, 1)})

    def _load(self, years: set[int]) -> None:
        from zhibu.core.models import CalendarDay, CalendarYear, CalendarYearDay

        years = {y for y in years if dt.MINYEAR <= y <= dt.MAXYEAR} - set(self._years)
        if not years:
            return
        lo, hi = min(years), max(years)
        years = set(range(lo, hi + 1)) - set(self._years)  # one contiguous span; gaps cost nothing more
        loaded = {cy.year: cy for cy in CalendarYear.objects.filter(year__gte=lo, year__lte=hi)}
        entries: dict[int, dict[dt.date, tuple[bool, str]]] = {y: {} for y in loaded}
        if loaded:
            rows = CalendarYearDay.objects.filter(calendar_year__year__in=list(loaded)).values_list(
                "calendar_year__year", "date", "is_workday", "name"
            )
            for year, date, is_workday, name in rows:
                entries[year][date] = (is_workday, name)
        overrides = CalendarDay.objects.filter(date__gte=dt.date(lo, 1, 1), date__lte=dt.date(hi, 12, 31))
        for date, is_workday, name in overrides.values_list("date", "is_workday", "name"):
            if date.year in years:  # a year already loaded keeps what it has answered
                self._overrides[date] = (is_workday, name)
        for year in years:
            if year in loaded:
                self._years[year] = _Year(DaySource.SCHEDULE, entries[year], loaded[year].note)
            elif package_knows_year(year):
                self._years[year] = _Year(DaySource.PACKAGE, {})
            else:
                self._years[year] = _Year(DaySource.ESTIMATE, {})

    def _year(self, year: int) -> _Year:
        if year not in self._years:
            self._load({year})
        return self._years[year]

    # Questions -------------------------------------------------------------------------------------

    def year_source(self, year: int) -> DaySource:
        """SCHEDULE or PACKAGE when the year's schedule is known, ESTIMATE when it is not."""
        return self._year(year).source

    def year_is_estimated(self, year: int) -> bool:
        return self._year(year).source is DaySource.ESTIMATE

    def year_note(self, year: int) -> str:
        return self._year(year).note

    def day(self, date: dt.date) -> DayInfo:
        """What the calendar says about `date` (see the module docstring for the order of sources)."""
        if isinstance(date, dt.datetime):
            date = date.date()
        info = self._cache.get(date)
        if info is not None:
            return info
        year = self._year(date.year)
        override = self._overrides.get(date)
        if override is not None:
            info = DayInfo(date, override[0], False, override[1], DaySource.OVERRIDE)
        elif year.source is DaySource.SCHEDULE:
            is_workday, name = year.days.get(date, (date.weekday() < 5, ""))
            info = DayInfo(date, is_workday, False, name, DaySource.SCHEDULE)
        else:
            known = _package_day(date) if year.source is DaySource.PACKAGE else None
            if known is not None:
                info = DayInfo(date, known[0], False, known[1], DaySource.PACKAGE)
            else:
                info = DayInfo(date, date.weekday() < 5, True, "", DaySource.ESTIMATE)
        self._cache[date] = info
        return info

    def is_workday(self, date: dt.date) -> WorkdayAnswer:
        """Whether `date` is a working day; `estimated` when its year's schedule is unknown."""
        return self.day(date).answer

    def add_workdays(self, start: dt.date, n: int) -> CalendarDate:
        """The n-th working day after `start` (n > 0) or before it (n < 0); `start` itself never counts.

        add_workdays(Friday, 1) is the next working day; add_workdays(d, -1) is the last working day
        before d. n == 0 returns `start` unchanged (even when it is not a working day) and consults no
        day, so it is never estimated; use `workday_on_or_after` to move a date onto a working day.
        The result is estimated when any day stepped over, or the result, was estimated.
        Inverse of `workdays_between`: workdays_between(s, add_workdays(s, n).date).days == n.
        """
        step = ONE_DAY if n > 0 else -ONE_DAY
        remaining = abs(n)
        date, estimated = start, False
        while remaining:
            date += step
            info = self.day(date)
            estimated = estimated or info.estimated
            if info.is_workday:
                remaining -= 1
        return CalendarDate(date, estimated)

    def workdays_between(self, start: dt.date, end: dt.date) -> CalendarCount:
        """How many working days one moves from `start` to `end`: `start` excluded, `end` included.

        Counts the working days in (start, end] when start <= end; when end < start it counts those in
        [end, start) and returns that number negated. The same day gives 0; Saturday to Sunday gives 0;
        Friday to the next Monday gives 1 (in an ordinary week). Estimated when any day counted was.
        """
        if start == end:
            return CalendarCount(0, False)
        sign, lo, hi = (1, start + ONE_DAY, end) if start < end else (-1, end, start - ONE_DAY)
        count, estimated = 0, False
        date = lo
        while date <= hi:
            info = self.day(date)
            estimated = estimated or info.estimated
            count += info.is_workday
            date += ONE_DAY
        return CalendarCount(sign * count, estimated)

    def span_last_day(self, start: dt.date, n: int) -> CalendarDate:
        """The last day of a period of `n` working days that starts on `start` (n >= 1).

        `start` is the period's first day when it is a working day; otherwise the period begins on the
        next working day. A publicity notice that runs 5 working days from Monday 2026-09-28 ends on
        2026-10-09 (National Day week skipped). Equal to add_workdays(start - 1 day, n).
        """
        if n < 1:
            raise ValueError("工作日天数至少为 1")
        return self.add_workdays(start - ONE_DAY, n)

    def workday_on_or_after(self, date: dt.date) -> CalendarDate:
        """`date` itself when it is a working day, else the next working day (a deadline that rolls on)."""
        return self.add_workdays(date - ONE_DAY, 1)

    def year_days(self, year: int) -> list[DayInfo]:
        """Every day of `year`, in order."""
        first = dt.date(year, 1, 1)
        return [
            self.day(first + dt.timedelta(days=i)) for i in range((dt.date(year, 12, 31) - first).days + 1)
        ]


# Single questions ------------------------------------------------------------------------------------


def is_workday(date: dt.date) -> WorkdayAnswer:
    """Whether `date` is a working day (one calendar load; use WorkdayCalendar for many dates)."""
    return WorkdayCalendar.load([date.year]).is_workday(date)


def add_workdays(start: dt.date, n: int) -> CalendarDate:
    """See WorkdayCalendar.add_workdays."""
    return WorkdayCalendar.around(start).add_workdays(start, n)


def workdays_between(start: dt.date, end: dt.date) -> CalendarCount:
    """See WorkdayCalendar.workdays_between."""
    return WorkdayCalendar.load(range(min(start, end).year, max(start, end).year + 1)).workdays_between(
        start, end
    )


def span_last_day(start: dt.date, n: int) -> CalendarDate:
    """See WorkdayCalendar.span_last_day: the last day of n working days starting on `start`."""
    return WorkdayCalendar.around(start).span_last_day(start, n)


# The school year -------------------------------------------------------------------------------------

# The pack parameters that give a school year's default semester dates, in SchoolYear's field order.
SCHOOL_YEAR_KEYS = ("autumn_start", "autumn_end", "spring_start", "spring_end")
# A date from August on belongs to the school year that starts that calendar year.
SCHOOL_YEAR_FIRST_MONTH = 8


@dataclass(frozen=True, slots=True)
class SemesterSpan:
    """One semester's dates; `is_default` when the school has not configured them."""

    kind: str  # a SemesterKind value
    starts_on: dt.date
    ends_on: dt.date
    is_default: bool

    @property
    def label(self) -> str:
        from zhibu.core.models import SemesterKind

        return str(SemesterKind(self.kind).label)

    def contains(self, date: dt.date) -> bool:
        return self.starts_on <= date <= self.ends_on


@dataclass(frozen=True, slots=True)
class SchoolYearSemesters:
    """The two semesters of one school year for one school (None: an org outside any school)."""

    school: Organization | None
    school_year: int
    autumn: SemesterSpan
    spring: SemesterSpan

    @property
    def is_default(self) -> bool:
        """True when neither semester was configured by the school."""
        return self.autumn.is_default and self.spring.is_default

    @property
    def semesters(self) -> tuple[SemesterSpan, SemesterSpan]:
        return (self.autumn, self.spring)

    @property
    def label(self) -> str:
        return f"{self.school_year}–{self.school_year + 1} 学年"

    def semester_on(self, date: dt.date) -> SemesterSpan | None:
        """The semester `date` falls in, or None in a vacation."""
        return next((s for s in self.semesters if s.contains(date)), None)


def school_year_of(date: dt.date) -> int:
    """The school year a date belongs to: 2026-09-10 and 2027-03-01 both belong to 2026 (2026–2027)."""
    return date.year if date.month >= SCHOOL_YEAR_FIRST_MONTH else date.year - 1


def default_semesters(school_year: int, pattern: Any = None) -> tuple[SemesterSpan, SemesterSpan]:
    """The default autumn and spring semesters of a school year, marked as default.

    `pattern` is a policy's `school_year()` (the school_year.* parameters); without one, the national
    pack's. The dates are policy, not code: a locality sets its school year in its pack.
    """
    from zhibu.core.models import SemesterKind

    if pattern is None:
        from zhibu.compliance.kinds import SchoolYear
        from zhibu.compliance.packs import library

        values = library().national.values()
        pattern = SchoolYear(*(values[f"school_year.{k}"] for k in SCHOOL_YEAR_KEYS))

    def on(month_day: Any, first_year: int) -> dt.date:
        # Months before the autumn start belong to the next calendar year of the school year.
        year = first_year if month_day.month >= pattern.autumn_start.month else first_year + 1
        return month_day.in_year(year)

    return (
        SemesterSpan(
            SemesterKind.AUTUMN,
            on(pattern.autumn_start, school_year),
            on(pattern.autumn_end, school_year),
            True,
        ),
        SemesterSpan(
            SemesterKind.SPRING,
            on(pattern.spring_start, school_year),
            on(pattern.spring_end, school_year),
            True,
        ),
    )


def _nearest_schools(orgs: Sequence[Organization]) -> dict[int, Organization | None]:
    """Each org's school: itself when it is one, else its nearest ancestor that is (one query at most)."""
    from zhibu.orgs.models import Organization

    wanted = {p for org in orgs if not org.is_school for p in org.ancestor_paths()}
    schools = (
        {o.path: o for o in Organization.objects.filter(path__in=wanted, is_school=True)} if wanted else {}
    )
    out: dict[int, Organization | None] = {}
    for org in orgs:
        if org.is_school:
            out[org.pk] = org
        else:
            out[org.pk] = next((schools[p] for p in reversed(org.ancestor_paths()) if p in schools), None)
    return out


def _semesters_of(
    school: Organization | None, school_year: int, rows: dict[str, Semester], pattern: Any = None
) -> SchoolYearSemesters:
    autumn, spring = default_semesters(school_year, pattern)
    spans = []
    for default in (autumn, spring):
        row = rows.get(default.kind)
        spans.append(
            SemesterSpan(default.kind, row.starts_on, row.ends_on, False) if row is not None else default
        )
    return SchoolYearSemesters(school, school_year, spans[0], spans[1])


def school_of(org: Organization) -> Organization | None:
    """The school an org belongs to: itself or its nearest ancestor with is_school (None above schools)."""
    return _nearest_schools([org])[org.pk]


def semesters_for(org: Organization, school_year: int) -> SchoolYearSemesters:
    """The semesters of `org`'s school in `school_year`: configured ones, or the defaults (two queries)."""
    return semesters_for_orgs([org], school_year)[org.pk]


def semesters_for_orgs(orgs: Iterable[Organization], school_year: int) -> dict[int, SchoolYearSemesters]:
    """semesters_for of many orgs at once, keyed by org id: four queries however many orgs."""
    from zhibu.core.models import Semester

    orgs = list(orgs)
    school_by_org = _nearest_schools(orgs)
    school_ids = {s.pk for s in school_by_org.values() if s is not None}
    rows: dict[int, dict[str, Semester]] = {}
    if school_ids:
        for sem in Semester.objects.filter(school_id__in=school_ids, school_year=school_year):
            rows.setdefault(sem.school_id, {})[sem.kind] = sem
    # A school's defaults come from its effective policy (its pack and overrides): two more queries.
    from zhibu.compliance.packs import effective_policies

    schools = {s.pk: s for s in school_by_org.values() if s is not None}
    policies = effective_policies(schools.values()) if schools else {}
    return {
        org_id: _semesters_of(
            school,
            school_year,
            rows.get(school.pk, {}) if school else {},
            policies[school.pk].school_year() if school else None,
        )
        for org_id, school in school_by_org.items()
    }
