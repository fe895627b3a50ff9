"""Reads of meetings for the pages and the phone: every read goes through a Scope (or is the person's own).

Managers (and those who view an org through a post or a grant) see the meetings of their subtrees; a
member sees the meetings they are invited to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from zhibu.core.calendar import DayKind, WorkdayCalendar
from zhibu.core.errors import NotFound
from zhibu.core.scoping import Scope
from zhibu.life.models import (
    Attendance,
    AttendanceState,
    BallotReceipt,
    Meeting,
    MeetingState,
    Vote,
    VoteCast,
    VoteChoice,
)
from zhibu.orgs.models import Organization
from zhibu.people.models import Person


def meetings_visible(scope: Scope) -> QuerySet[Meeting]:
    """The meetings a user may see: their subtrees' and those they are invited to (one query)."""
    # The orgs first, then their meetings: the database walks the meeting index by org instead of
    # scanning every meeting for its org's path (3–5× faster for one school of a large district).
    orgs = scope.by_org_path(Organization.objects.all(), "path").values("pk")
    q = Q(org_id__in=orgs)
    if scope.person_id:
        q |= Q(Exists(Attendance.objects.filter(meeting=OuterRef("pk"), person_id=scope.person_id)))
    return Meeting.objects.filter(q).select_related("org")


def meeting_get_visible(scope: Scope, pk: int) -> Meeting:
    """One meeting the user may see, or NotFound (outside the scope and missing are not told apart)."""
    meeting = meetings_visible(scope).filter(pk=pk).first()
    if meeting is None:
        raise NotFound("会议不存在或不在您的权限范围内")
    return meeting


def my_meetings(person: Person, from_date: dt.date) -> QuerySet[Attendance]:
    """A person's invitations to meetings from `from_date` on, soonest first, with the meeting and its
    org (cancelled ones included, so the phone can say so)."""
    start = timezone.make_aware(dt.datetime.combine(from_date, dt.time.min))
    return (
        Attendance.objects.filter(person=person, meeting__starts_at__gte=start)
        .select_related("meeting__org")
        .order_by("meeting__starts_at", "meeting_id")
    )


# How a held meeting's attendance reads to the member; "excused" is leave the secretary approved.
PAST_ATTENDANCE = {
    AttendanceState.PRESENT: "出席",
    AttendanceState.EXCUSED: "请假（已批准）",
    AttendanceState.ABSENT: "缺席",
    AttendanceState.EXPECTED: "未登记",
}
PAST_LIMIT = 30  # a phone page, not an archive: the ledger has the full record


@dataclass(frozen=True)
class MyPastVote:
    """A vote of a past meeting as its voter sees it: their own choice in an open (记名) vote, only
    "已投票" in a secret one (nothing stored could say more)."""

    title: str
    secret: bool
    passed: bool | None
    voted: bool
    mine: str  # 赞成/反对/弃权 (open votes), 已投票 (secret), 未投票


@dataclass(frozen=True)
class MyPastMeeting:
    """One held meeting the person was invited to, with their attendance and their votes."""

    attendance: Attendance
    attendance_label: str
    votes: list[MyPastVote] = field(default_factory=list)

    @property
    def meeting(self) -> Meeting:
        return self.attendance.meeting

    @property
    def held(self) -> bool:
        """False for a meeting whose day has passed but that the secretary has not yet confirmed held."""
        return self.attendance.meeting.state == MeetingState.HELD


def _a_year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def my_past_meetings(person: Person, until: dt.datetime, limit: int = PAST_LIMIT) -> list[MyPastMeeting]:
    """The meetings a person was invited to in the twelve months before `until` (at most `limit`), latest
    first: the held ones, and those whose time has passed but that are not yet confirmed held (`held` is
    False; cancelled ones are left out). Each comes with the person's attendance and, per vote, their own
    choice in an open vote or only whether they voted in a secret one. Four queries at most, whatever the
    number of meetings."""
    since = timezone.make_aware(dt.datetime.combine(_a_year_before(timezone.localdate(until)), dt.time.min))
    rows = list(
        Attendance.objects.filter(
            person=person,
            meeting__state__in=(MeetingState.HELD, MeetingState.PLANNED),
            meeting__starts_at__gte=since,
            meeting__starts_at__lt=until,
        )
        .select_related("meeting__org")
        .order_by("-meeting__starts_at", "-meeting_id")[:limit]
    )
    if not rows:
        return []
    votes = list(Vote.objects.filter(meeting_id__in=[r.meeting_id for r in rows]).order_by("opened_at", "pk"))
    ids = [v.pk for v in votes]
    choices: dict[int, str] = {}
    receipts: set[int] = set()
    if ids:
        casts = VoteCast.objects.filter(vote_id__in=ids, person=person).values_list("vote_id", "choice")
        choices = {vote_id: str(VoteChoice(choice).label) for vote_id, choice in casts}
        # The receipt says that the person voted; the secret ballot itself names no one and is not read.
        receipts = set(
            BallotReceipt.objects.filter(vote_id__in=ids, person=person).values_list("vote_id", flat=True)
        )
    by_meeting: dict[int, list[MyPastVote]] = {r.meeting_id: [] for r in rows}
    for vote in votes:
        voted = vote.pk in (receipts if vote.secret else choices)
        mine = ("已投票" if vote.secret else choices[vote.pk]) if voted else "未投票"
        by_meeting[vote.meeting_id].append(MyPastVote(vote.title, vote.secret, vote.passed, voted, mine))
    return [
        MyPastMeeting(
            r, PAST_ATTENDANCE.get(AttendanceState(r.state), r.get_state_display()), by_meeting[r.meeting_id]
        )
        for r in rows
    ]


def meeting_day(meeting: Meeting, calendar: WorkdayCalendar | None = None) -> str:
    """How the meeting's day reads on the working-day calendar, saying so when the year's schedule is not
    published yet: "2028年3月4日 周六（2028 年放假安排尚未公布，按周一至周五估算为休息日）"."""
    day = timezone.localtime(meeting.starts_at).date()
    info = (calendar or WorkdayCalendar.load([day.year])).day(day)
    head = f"{day.year}年{day.month}月{day.day}日 {info.weekday_name}"
    if info.estimated:
        guess = "工作日" if info.is_workday else "休息日"
        return f"{head}（{day.year} 年放假安排尚未公布，按周一至周五估算为{guess}）"
    if info.kind == DayKind.WORKDAY:
        return f"{head}（工作日）"
    if info.kind == DayKind.WEEKEND:
        return f"{head}（休息日）"
    return f"{head}（{info.name or '节假日'}）"


# Above the schools ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchoolMeetings:
    school: Organization
    held: int
    planned: int  # arranged and not yet confirmed held (past ones included)
    cancelled: int
    invited: int  # invitations to its held meetings
    present: int
    gaps: int  # the latest evaluation's life.* findings overdue or violated in the school

    @property
    def rate(self) -> str:
        return f"{round(100 * self.present / self.invited)}%" if self.invited else "—"


@dataclass(frozen=True)
class DistrictMeetings:
    org: Organization
    year: int
    schools: list[SchoolMeetings]
    run_as_of: dt.date | None
    others: SchoolMeetings | None = None  # the orgs in no school, when they have anything to count

    @property
    def totals(self) -> SchoolMeetings:
        rows = [*self.schools, *([self.others] if self.others else [])]
        return SchoolMeetings(
            self.org,
            sum(s.held for s in rows),
            sum(s.planned for s in rows),
            sum(s.cancelled for s in rows),
            sum(s.invited for s in rows),
            sum(s.present for s in rows),
            sum(s.gaps for s in rows),
        )


def district_meetings(scope: Scope, org: Organization, year: int, kind: str = "") -> DistrictMeetings | None:
    """One line per school when `org` is above the schools (None for a school or below): meetings by state,
    the attendance rate of the held ones (those expected to attend, as the ledger counts it), and the gaps
    the latest evaluation found; orgs in no school (a branch directly under the work committee) share a
    line of their own. A school dissolved during the year keeps its line. A fixed number of aggregate
    queries, so the page costs the same for one school or three hundred."""
    from zhibu.compliance.models import Finding
    from zhibu.compliance.selectors import run_latest_for
    from zhibu.life.ledger import EXPECTED_ROLES

    if org.is_school:
        return None
    in_time = Q(dissolved_on__isnull=True) | Q(dissolved_on__gte=dt.date(year, 1, 1))
    schools = list(
        scope.by_org_path(
            Organization.objects.filter(in_time, is_school=True, path__startswith=org.path), "path"
        ).order_by("path")
    )
    if not schools:
        return None
    tz = timezone.get_current_timezone()
    in_year = Q(
        starts_at__gte=dt.datetime(year, 1, 1, tzinfo=tz),
        starts_at__lt=dt.datetime(year + 1, 1, 1, tzinfo=tz),
    )
    paths = dict(
        scope.by_org_path(Organization.objects.filter(path__startswith=org.path), "path").values_list(
            "pk", "path"
        )
    )
    meetings = Meeting.objects.filter(in_year, org_id__in=list(paths))
    if kind:
        meetings = meetings.filter(kind=kind)
    school_paths = {s.path for s in schools}

    def school_of(path: str) -> str:
        """The deepest school whose subtree holds `path` (paths are "/a/b/c/"); "" for none."""
        parts = [p for p in path.split("/") if p]
        for i in range(len(parts), 0, -1):
            prefix = "/" + "/".join(parts[:i]) + "/"
            if prefix in school_paths:
                return prefix
        return ""

    sums: dict[str, list[int]] = {s.path: [0] * 6 for s in schools}
    sums[""] = [0] * 6
    column = {MeetingState.HELD: 0, MeetingState.PLANNED: 1, MeetingState.CANCELLED: 2}
    for org_id, state, n in meetings.values_list("org_id", "state").annotate(n=Count("id")).order_by():
        sums[school_of(paths[org_id])][column[MeetingState(state)]] += n
    for org_id, invited, present in (
        Attendance.objects.filter(
            meeting_id__in=meetings.filter(state=MeetingState.HELD).values("pk"), role__in=EXPECTED_ROLES
        )
        .values_list("meeting__org_id")
        .annotate(invited=Count("id"), present=Count("id", filter=Q(state=AttendanceState.PRESENT)))
        .order_by()
    ):
        key = school_of(paths[org_id])
        sums[key][3] += invited
        sums[key][4] += present
    run = run_latest_for(org, year)
    if run is not None:
        for path, n in (
            Finding.objects.filter(
                run=run,
                rule_id__startswith="life.",
                state__in=("overdue", "violated"),
                org_path__startswith=org.path,
            )
            .values_list("org_path")
            .annotate(n=Count("id"))
            .order_by()
        ):
            sums[school_of(path)][5] += n
    rows = [SchoolMeetings(s, *sums[s.path]) for s in schools]
    others = SchoolMeetings(org, *sums[""]) if any(sums[""]) else None
    return DistrictMeetings(org, year, rows, run.as_of if run is not None else None, others)
