"""Reads of meetings for the pages and the phone: every read goes through a Scope (or is the person's own).

Managers (and those who view an org through a post or a grant) see the meetings of their subtrees; a
member sees the meetings they are invited to.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from zhibu.core.calendar import DayKind, WorkdayCalendar
from zhibu.core.errors import NotFound
from zhibu.core.scoping import Scope
from zhibu.life.models import Attendance, Meeting
from zhibu.people.models import Person


def meetings_visible(scope: Scope) -> QuerySet[Meeting]:
    """The meetings a user may see: their subtrees' and those they are invited to (one query)."""
    by_org = scope.by_org_path(Meeting.objects.all(), "org__path").values("pk")
    q = Q(pk__in=by_org)
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
