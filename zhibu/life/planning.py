"""The year's meeting plan (年度会议计划): proposed from the effective policy, applied as planned meetings.

`propose_year` reads how often each kind must be held (general_assembly.period, committee_meeting.period,
group_meeting.period, party_lecture.period, theme_day.period and .day, life_meeting.min_per_year and
.usual_quarter) and cuts the year into those periods (months, quarters, semesters of the org's school
year). Each period gets its meetings spread over it, every one on a working day of the official calendar,
inside a semester when the period has semester days (a school does not meet in the summer holiday when it
can avoid it), and never two meetings of one kind of one org in the same week. The theme day keeps the
policy's fixed day of the month (moved to the next working day), or the month's first working day.
A meeting whose day is already past (before today, local time) is flagged `past`: the plan page leaves it
unticked, as it is arranged only to record a meeting held before zhibu was used. The first lectures of
the year, as many as party_lecture.secretary_per_year asks, propose the branch's secretary on that day
as their lecturer (the upcoming lectures first, as the past ones are not arranged by default).

`plan_apply` creates the proposals a secretary kept as planned meetings, skipping any period that already
has its meeting, so applying the same plan twice creates nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from zhibu.compliance.kinds import Period, periods_in_year
from zhibu.compliance.packs import EffectivePolicy
from zhibu.compliance.values import Frequency, cn_number
from zhibu.core.calendar import SchoolYearSemesters, WorkdayCalendar, semesters_for
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.scoping import Scope
from zhibu.life.models import Meeting, MeetingKind, MeetingState
from zhibu.life.services import meeting_create
from zhibu.orgs.models import Organization, OrgKind, Post, PostRole
from zhibu.people.models import MEMBER_STATUSES, Person

_QUARTERS = ("第一季度", "第二季度", "第三季度", "第四季度")
# A committee is more than a secretary: the same test as the compliance facts' committee_seats.
_COMMITTEE_ONLY_ROLES = (
    PostRole.ORGANIZATION_OFFICER,
    PostRole.PUBLICITY_OFFICER,
    PostRole.DISCIPLINE_OFFICER,
    PostRole.COMMITTEE_MEMBER,
)
# Where in its slice of a period a meeting is first placed (0 = the slice's first day, 1 = its last).
# Not regulation: it spreads the kinds apart (the committee prepares before the assembly, the lecture
# comes after it) so that the secretary starts from a readable plan.
_POSITION: dict[str, float] = {
    MeetingKind.COMMITTEE_MEETING: 0.2,
    MeetingKind.GENERAL_ASSEMBLY: 0.45,
    MeetingKind.GROUP_MEETING: 0.5,
    MeetingKind.PARTY_LECTURE: 0.65,
    MeetingKind.LIFE_MEETING: 0.5,
}
# What a committee meeting is called by the kind of org that holds it.
_COMMITTEE_TITLES: dict[str, str] = {
    OrgKind.BRANCH: "支部委员会会议",
    OrgKind.GENERAL_BRANCH: "党总支委员会会议",
    OrgKind.COMMITTEE: "党委会议",
}
DEFAULT_START_TIME = "15:00"


def year_unknown_message(year: int) -> str:
    return (
        f"{year}年的节假日安排尚未录入，无法确定哪些日子是工作日，不能生成年度会议计划。"
        f"请管理员在“工作日历”中录入{year}年的放假安排后再试"
    )


@dataclass(frozen=True)
class ProposedMeeting:
    """One meeting the plan proposes: its kind, org, date, title, why (the policy and any move), and the
    period it fulfils (to see whether that period already has its meeting)."""

    kind: str
    org: Organization
    date: dt.date
    title: str
    reason: str
    period_start: dt.date
    period_end: dt.date
    # A party lecture needs its lecturer and title before it can be arranged: the plan page asks for them.
    lecturer: Person | None = None
    lecturer_name: str = ""
    lecture_title: str = ""
    # The day is before today: not arranged unless chosen (to record a meeting held before zhibu was used).
    past: bool = False
    # Who the plan suggests as lecturer (the secretary, for party_lecture.secretary_per_year): the plan
    # page pre-selects them; `lecturer` stays what was actually chosen, so the choice can be cleared.
    proposed_lecturer: Person | None = None

    @property
    def kind_label(self) -> str:
        return str(MeetingKind(self.kind).label)


@dataclass
class PlanResult:
    """What plan_apply did: the meetings it created and how many proposals it skipped."""

    created: list[Meeting] = field(default_factory=list)
    skipped: list[ProposedMeeting] = field(default_factory=list)
    refused: list[tuple[ProposedMeeting, str]] = field(default_factory=list)
    # Those of `created` whose day was already past: a record of meetings held, not a notice to send.
    past: list[Meeting] = field(default_factory=list)

    @property
    def message(self) -> str:
        text = f"已按年度计划安排 {len(self.created)} 次会议"
        if self.past:
            text += (
                f"（其中 {len(self.past)} 次日期已过，作为补记安排，不发布通知；"
                "请登记出席和会议记录后确认召开）"
            )
        if self.skipped:
            text += f"，跳过 {len(self.skipped)} 次（同一周期内已有同类会议）"
        if self.refused:
            reasons = "；".join(f"{item.title}：{why}" for item, why in self.refused[:5])
            more = f"等 {len(self.refused)} 次" if len(self.refused) > 5 else ""
            text += f"；未能安排{more}：{reasons}"
        return text


# Proposing -------------------------------------------------------------------------------------------


def _md(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def _period_label(freq: Frequency, period: Period) -> str:
    """The period as a title reads it: 2026年第一季度, 2026年3月, 2026年1—2月, 2026年 …"""
    if freq.per == "quarter":
        return f"{period.start.year}年{_QUARTERS[(period.start.month - 1) // 3]}"
    return period.label


@dataclass(frozen=True)
class _Terms:
    """The semesters around one calendar year, to keep meetings out of the school holidays."""

    spans: tuple[tuple[dt.date, dt.date, str], ...]  # start, end, label

    @classmethod
    def of(cls, org: Organization, year: int) -> _Terms:
        spans = []
        for school_year in (year - 1, year):
            sy: SchoolYearSemesters = semesters_for(org, school_year)
            for number, sem in ((1, sy.autumn), (2, sy.spring)):
                label = f"{school_year}—{school_year + 1}学年第{cn_number(number)}学期"
                spans.append((sem.starts_on, sem.ends_on, label))
        return cls(tuple(sorted(spans)))

    def semesters_in(self, year: int) -> list[Period]:
        """The semesters that start or end in `year`."""
        return [Period(a, b, label) for a, b, label in self.spans if a.year == year or b.year == year]

    def parts(self, start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
        """The days of [start, end] that lie in a semester, as spans."""
        out = []
        for a, b, _ in self.spans:
            lo, hi = max(a, start), min(b, end)
            if lo <= hi:
                out.append((lo, hi))
        return out

    def holiday_name(self, day: dt.date) -> str:
        """寒假 or 暑假 for a day outside every semester; "" inside one."""
        if any(a <= day <= b for a, b, _ in self.spans):
            return ""
        return "暑假" if 5 <= day.month <= 10 else "寒假"


class _Placer:
    """Places meetings on working days, out of the holidays, one per kind, org and week."""

    def __init__(self, calendar: WorkdayCalendar, terms: _Terms) -> None:
        self.calendar = calendar
        self.terms = terms
        self.weeks: dict[tuple[int, str], set[tuple[int, int]]] = defaultdict(set)

    def _free(self, key: tuple[int, str], day: dt.date, strict: bool) -> bool:
        return not strict or day.isocalendar()[:2] not in self.weeks[key]

    def _search(
        self, key: tuple[int, str], parts: list[tuple[dt.date, dt.date]], preferred: dt.date, strict: bool
    ) -> dt.date | None:
        # The next working day from the preferred date first, then the nearest working day before it.
        for lo, hi in parts:
            if hi < preferred:
                continue
            day = max(lo, preferred)
            while day <= hi:
                found = self.calendar.workday_on_or_after(day).date
                if found > hi:
                    break
                if self._free(key, found, strict):
                    return found
                day = found + dt.timedelta(days=1)
        for lo, hi in reversed(parts):
            day = min(hi, preferred - dt.timedelta(days=1))
            while day >= lo:
                if self.calendar.day(day).is_workday and self._free(key, day, strict):
                    return day
                day -= dt.timedelta(days=1)
        return None

    def place(
        self,
        org: Organization,
        kind: str,
        start: dt.date,
        end: dt.date,
        *,
        position: float = 0.0,
        preferred: dt.date | None = None,
        avoid_holidays: bool = True,
    ) -> tuple[dt.date, str] | None:
        """The day for one meeting in [start, end], and a note when it was moved off its preferred day.

        The preferred day is `preferred`, or the day at `position` (0 to 1) along the school days of
        [start, end] (all its days when it has none: a month of summer holiday)."""
        key = (org.pk, kind)
        parts = self.terms.parts(start, end) if avoid_holidays else []
        all_in_holiday = avoid_holidays and not parts
        parts = parts or [(start, end)]
        if preferred is None:
            preferred = _along(parts, position)
        day = self._search(key, parts, preferred, True) or self._search(key, parts, preferred, False)
        if day is None:
            return None
        self.weeks[key].add(day.isocalendar()[:2])
        notes = []
        if day != preferred:
            holiday = self.terms.holiday_name(preferred)
            if avoid_holidays and holiday and not all_in_holiday:
                why = f"在{holiday}中"
            elif not self.calendar.day(preferred).is_workday:
                info = self.calendar.day(preferred)
                why = f"为{info.name}" if info.name else "为休息日"
            else:
                why = "当周已有同类会议"
            notes.append(f"原定{_md(preferred)}{why}，安排在{_md(day)}")
        holiday = self.terms.holiday_name(day)
        if holiday:
            notes.append(f"该日在{holiday}中，可视情况调整")
        return day, "；".join(notes)


def _slices(start: dt.date, end: dt.date, count: int) -> list[tuple[dt.date, dt.date]]:
    """[start, end] cut into `count` consecutive slices of (nearly) equal length."""
    days = (end - start).days + 1
    out = []
    for i in range(count):
        lo = start + dt.timedelta(days=days * i // count)
        hi = start + dt.timedelta(days=days * (i + 1) // count - 1)
        out.append((lo, max(lo, hi)))
    return out


def _along(parts: Sequence[tuple[dt.date, dt.date]], position: float) -> dt.date:
    """The day at `position` (0 to 1) along the days of `parts` taken end to end."""
    total = sum((hi - lo).days + 1 for lo, hi in parts)
    index = int((total - 1) * position)
    for lo, hi in parts:
        length = (hi - lo).days + 1
        if index < length:
            return lo + dt.timedelta(days=index)
        index -= length
    return parts[-1][1]


def _has_committee(org: Organization, year: int) -> bool:
    """Whether `org` has a committee in office at some time in `year` (one query)."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return (
        Post.objects.filter(org=org, role__in=_COMMITTEE_ONLY_ROLES, started_on__lte=end)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=start))
        .exists()
    )


def _policy_reason(policy: EffectivePolicy, key: str) -> str:
    parameter = policy.parameter(key)
    origin = policy.origin(key)
    where = "全国基准" if origin == "national" else origin
    return f"{parameter.title}：{parameter.display}（{where}）"


def _secretary_posts(branch: Organization, year: int) -> list[Post]:
    """The branch's secretary posts held at some time in `year`, with their holders (one query)."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return list(
        Post.objects.filter(org=branch, role=PostRole.SECRETARY, started_on__lte=end)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=start))
        .select_related("person")
        .order_by("-started_on", "-pk")
    )


def _holder_on(posts: Sequence[Post], day: dt.date) -> Person | None:
    """Who holds one of `posts` on `day` (the latest appointed when two overlap), or None."""
    return next((post.person for post in posts if post.is_current(day)), None)


class _Planner:
    def __init__(
        self, year: int, policy: EffectivePolicy, calendar: WorkdayCalendar, terms: _Terms, today: dt.date
    ) -> None:
        self.year = year
        self.policy = policy
        self.terms = terms
        self.today = today
        self.placer = _Placer(calendar, terms)
        self.out: list[ProposedMeeting] = []

    def periods(self, freq: Frequency) -> list[Period]:
        if freq.per == "semester":
            return self.terms.semesters_in(self.year)
        return periods_in_year(freq, self.year)

    def periodic(self, org: Organization, kind: str, key: str, name: str) -> None:
        """`kind` meetings of `org` as often as the parameter `key` says; titles end with `name`."""
        freq = self.policy.value(key)
        if not isinstance(freq, Frequency):
            return  # not set in this policy: nothing is required, nothing is proposed
        reason = _policy_reason(self.policy, key)
        for period in self.periods(freq):
            label = _period_label(freq, period)
            for i, (lo, hi) in enumerate(_slices(period.start, period.end, freq.count)):
                if kind == MeetingKind.THEME_DAY:
                    placed = self._theme_day(org, lo, hi)
                else:
                    placed = self.placer.place(org, kind, lo, hi, position=_POSITION[kind])
                if placed is None or placed[0].year != self.year:
                    continue  # a semester's meetings that fall in another year belong to that year's plan
                day, note = placed
                suffix = f"（第{cn_number(i + 1)}次）" if freq.count > 1 else ""
                self.add(kind, org, day, f"{label}{name}{suffix}", reason, note, period)

    def _theme_day(self, org: Organization, lo: dt.date, hi: dt.date) -> tuple[dt.date, str] | None:
        # The theme day is "relatively fixed": on the policy's day of the month whatever the holidays
        # (moved to the next working day), or the first working day of the month when no day is set.
        fixed = self.policy.value("theme_day.day")
        if isinstance(fixed, int):
            last = (dt.date(lo.year + lo.month // 12, lo.month % 12 + 1, 1) - dt.timedelta(days=1)).day
            preferred = lo.replace(day=min(fixed, last))
        else:
            preferred = lo
        return self.placer.place(
            org, MeetingKind.THEME_DAY, lo, hi, preferred=preferred, avoid_holidays=False
        )

    def life_meeting(self, org: Organization) -> None:
        count = self.policy.value("life_meeting.min_per_year")
        if not isinstance(count, int) or count < 1:
            return
        quarter = self.policy.value("life_meeting.usual_quarter")
        year_start, year_end = dt.date(self.year, 1, 1), dt.date(self.year, 12, 31)
        if isinstance(quarter, int) and 1 <= quarter <= 4:
            start = dt.date(self.year, 3 * quarter - 2, 1)
            end = dt.date(self.year + quarter // 4, (3 * quarter) % 12 + 1, 1) - dt.timedelta(days=1)
            reason = (
                f"{_policy_reason(self.policy, 'life_meeting.min_per_year')}；"
                f"{_policy_reason(self.policy, 'life_meeting.usual_quarter')}"
            )
        else:
            start, end = year_start, year_end
            reason = _policy_reason(self.policy, "life_meeting.min_per_year")
        whole_year = Period(year_start, year_end, f"{self.year}年")
        for i, (lo, hi) in enumerate(_slices(start, end, count)):
            kind = MeetingKind.LIFE_MEETING
            placed = self.placer.place(org, kind, lo, hi, position=_POSITION[kind])
            if placed is None:
                continue
            suffix = f"（第{cn_number(i + 1)}次）" if count > 1 else ""
            title = f"{self.year}年度{MeetingKind.LIFE_MEETING.label}{suffix}"
            self.add(MeetingKind.LIFE_MEETING, org, placed[0], title, reason, placed[1], whole_year)

    def secretary_lectures(self, branch: Organization) -> None:
        """Propose the branch's secretary as lecturer of as many of each period's lectures as
        party_lecture.secretary_per_year asks (upcoming ones first); say so, or that the post is vacant."""
        key = "party_lecture.secretary_per_year"
        freq = self.policy.value(key)
        if not isinstance(freq, Frequency) or freq.count < 1:
            return
        lectures = [
            i for i, p in enumerate(self.out) if p.kind == MeetingKind.PARTY_LECTURE and p.org.pk == branch.pk
        ]
        if not lectures:
            return
        posts = _secretary_posts(branch, self.year)
        reason = _policy_reason(self.policy, key)
        for period in self.periods(freq):
            inside = [i for i in lectures if period.start <= self.out[i].date <= period.end]
            holders = {i: _holder_on(posts, self.out[i].date) for i in inside}
            # Upcoming before past, a day with a secretary in post before one without, then by date.
            inside.sort(key=lambda i: (self.out[i].past, holders[i] is None, self.out[i].date))
            for i in inside[: freq.count]:
                item, holder = self.out[i], holders[i]
                if holder is None:
                    note = f"{reason}；{_md(item.date)}支部书记空缺，请另定主讲人"
                else:
                    note = f"{reason}；建议由支部书记{holder.name}主讲"
                self.out[i] = replace(item, reason=f"{item.reason}；{note}", proposed_lecturer=holder)

    def add(
        self, kind: str, org: Organization, day: dt.date, title: str, reason: str, note: str, period: Period
    ) -> None:
        full_reason = f"{reason}；{note}" if note else reason
        past = day < self.today
        self.out.append(
            ProposedMeeting(kind, org, day, title, full_reason, period.start, period.end, past=past)
        )


def propose_year(
    org: Organization,
    year: int,
    policy: EffectivePolicy,
    calendar: WorkdayCalendar,
    *,
    today: dt.date | None = None,
) -> list[ProposedMeeting]:
    """The meetings `org` (a branch with its groups, a group, or a committee) should hold in `year` under
    `policy`, each on a working day, those before `today` (local date unless given) flagged past; refused
    when the calendar does not know the year's holidays."""
    if calendar.year_is_estimated(year):
        raise ServiceError(year_unknown_message(year), field="year")
    if org.dissolved_on is not None:
        raise ServiceError(f"{org.name} 已于 {org.dissolved_on:%Y-%m-%d} 撤销，不能再生成会议计划")
    if org.kind == OrgKind.WORK_COMMITTEE:
        raise ServiceError(
            f"{org.name} 是教育工委：年度会议计划请为其下的党委、党总支、党支部或党小组生成", field="org"
        )
    planner = _Planner(year, policy, calendar, _Terms.of(org, year), today or timezone.localdate())
    if org.kind == OrgKind.GROUP:
        groups = [org]
    else:
        if org.kind == OrgKind.BRANCH:
            planner.periodic(org, MeetingKind.GENERAL_ASSEMBLY, "general_assembly.period", "支部党员大会")
        if _has_committee(org, year):
            name = _COMMITTEE_TITLES[org.kind]
            planner.periodic(org, MeetingKind.COMMITTEE_MEETING, "committee_meeting.period", name)
        if org.kind == OrgKind.BRANCH:
            planner.periodic(org, MeetingKind.PARTY_LECTURE, "party_lecture.period", "党课")
            planner.periodic(org, MeetingKind.THEME_DAY, "theme_day.period", "主题党日")
            planner.life_meeting(org)
            planner.secretary_lectures(org)
        groups = list(Organization.objects.active().filter(parent=org, kind=OrgKind.GROUP).order_by("path"))
    # A group without members holds no meetings (meeting_create would refuse them: nobody to invite).
    with_members = set(
        Person.objects.filter(group__in=groups, status__in=MEMBER_STATUSES).values_list("group_id", flat=True)
    )
    for group in groups:
        if group.pk in with_members:
            planner.periodic(group, MeetingKind.GROUP_MEETING, "group_meeting.period", f"{group.name}会议")
    return sorted(planner.out, key=lambda p: (p.date, p.org.path, p.kind))


# Applying ----------------------------------------------------------------------------------------------


def default_start_time() -> dt.time:
    """The hour planned meetings start at: the ZHIBU_MEETING_DEFAULT_TIME setting ("15:00" unless set)."""
    raw = str(getattr(settings, "ZHIBU_MEETING_DEFAULT_TIME", DEFAULT_START_TIME))
    try:
        return dt.time.fromisoformat(raw)
    except ValueError:
        return dt.time.fromisoformat(DEFAULT_START_TIME)


def _existing_per_period(
    items: Sequence[ProposedMeeting],
) -> dict[tuple[int, str, dt.date], int]:
    """How many meetings (not cancelled) each item's org already has of its kind in its period (1 query)."""
    if not items:
        return {}
    lo = min(i.period_start for i in items)
    hi = max(i.period_end for i in items)
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(lo, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(hi + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    rows = (
        Meeting.objects.filter(org_id__in={i.org.pk for i in items}, starts_at__gte=start, starts_at__lt=end)
        .exclude(state=MeetingState.CANCELLED)
        .values_list("org_id", "kind", "also_counts_as", "starts_at")
    )
    held: dict[tuple[int, str], list[dt.date]] = defaultdict(list)
    for org_id, kind, also, starts_at in rows:
        day = timezone.localtime(starts_at, tz).date()
        for counted in {kind, *(also or [])}:
            held[(org_id, counted)].append(day)
    out: dict[tuple[int, str, dt.date], int] = {}
    for item in items:
        key = (item.org.pk, item.kind, item.period_start)
        if key not in out:
            days = held.get((item.org.pk, item.kind), [])
            out[key] = sum(item.period_start <= d <= item.period_end for d in days)
    return out


@transaction.atomic
def plan_apply(
    *,
    actor: Any,
    scope: Scope,
    org: Organization,
    year: int,
    items: Iterable[ProposedMeeting],
    calendar: WorkdayCalendar | None = None,
    now: dt.datetime | None = None,
) -> PlanResult:
    """Create the kept proposals of `org`'s plan for `year` as planned meetings; a period that already has
    its meeting (of that kind, for that org) is skipped, so applying twice creates nothing new. Each meeting
    is created by meeting_create (with its invitees); one it refuses is listed with the reason. A kept
    proposal whose day is past is created all the same (planned, notice unpublished: the record of a
    meeting held before zhibu was used), and counted apart in the result."""
    if not scope.can_view_path(org.path):
        raise NotFound("找不到该党组织")
    if not scope.can_manage_path(org.path):
        raise NotPermitted(f"您不能管理 {org.name} 的会议，不能安排年度计划")
    calendar = calendar or WorkdayCalendar.load([year])
    if calendar.year_is_estimated(year):
        raise ServiceError(year_unknown_message(year), field="year")
    items = sorted(items, key=lambda i: (i.date, i.org.path, i.kind))
    for item in items:
        if not item.org.path.startswith(org.path):
            raise NotPermitted(f"{item.org.name} 不在 {org.name} 之下，不能列入其年度计划")
        if item.date.year != year:
            raise ServiceError(f"“{item.title}”的日期 {item.date:%Y-%m-%d} 不在 {year} 年内", field="items")
        if item.kind not in MeetingKind.values:
            raise ServiceError(f"未知的会议类型：{item.kind}", field="items")
    existing = _existing_per_period(items)
    at = default_start_time()
    tz = timezone.get_current_timezone()
    today = timezone.localdate(now) if now is not None else timezone.localdate()
    result = PlanResult()
    for item in items:
        key = (item.org.pk, item.kind, item.period_start)
        if existing.get(key, 0) > 0:
            existing[key] -= 1
            result.skipped.append(item)
            continue
        try:
            with transaction.atomic():  # one refused meeting (an empty group …) leaves the others standing
                meeting = meeting_create(
                    actor=actor,
                    scope=scope,
                    org=item.org,
                    kind=item.kind,
                    title=item.title,
                    starts_at=dt.datetime.combine(item.date, at, tzinfo=tz),
                    lecturer=item.lecturer,
                    lecturer_name=item.lecturer_name,
                    lecture_title=item.lecture_title,
                    from_plan=True,
                    now=now,
                )
        except ServiceError as exc:
            result.refused.append((item, exc.message))
            continue
        result.created.append(meeting)
        if item.date < today:
            result.past.append(meeting)
    return result
