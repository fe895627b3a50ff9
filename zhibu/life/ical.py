"""iCalendar (RFC 5545) feeds of meetings, for the calendar apps on members' phones and computers.

Two feeds: a person's (every meeting they are invited to, through their Attendance rows) and an org's (the
meetings of its whole subtree). Calendar apps cannot log in, so a feed is reached by a secret URL whose
token is signed with the site's secret key (django.core.signing, salted for this use):

- "person:<person id>" — the person's own meetings;
- "org:<org code>:<user id>" — an org's meetings, for the user the link was made for: each request checks
  again, with that user's current scope, that they still see the org (a user who lost the post or grant,
  or whose account was disabled, gets 404).

Changing SECRET_KEY invalidates every link. Each feed is built in a constant number of queries.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable

import icalendar
from django.conf import settings
from django.core import signing
from django.utils import timezone

from zhibu.core.scoping import Scope
from zhibu.life.models import Meeting, MeetingKind, MeetingState
from zhibu.orgs.models import Organization
from zhibu.people.models import Person

SALT = "zhibu.life.ical"
PRODID = "-//zhibu//组织生活会议//ZH"
# A calendar event needs an end; a meeting that announced none is shown this long (display only).
SHOWN_LENGTH = dt.timedelta(minutes=90)


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT)


def person_token(person_id: int) -> str:
    """The token of a person's own feed."""
    return _signer().sign(f"person:{person_id}")


def org_token(org_code: str, user_id: int) -> str:
    """The token of an org's feed, made for one user (who must still see the org when it is read)."""
    return _signer().sign(f"org:{org_code}:{user_id}")


def read_token(token: str) -> list[str] | None:
    """The signed parts of a token ("person", id) or ("org", code, user id); None when it was tampered."""
    try:
        value = _signer().unsign(token)
    except signing.BadSignature:
        return None
    return value.split(":")


def may_follow_org(scope: Scope, org: Organization) -> bool:
    """Whether a scope may follow an org's feed: its subtree is in the scope by a post or a grant (being
    a member of a branch shows a person only the meetings they are invited to: their own feed)."""
    return any(org.path.startswith(p) for p in scope.view_paths)


# Building the calendar ---------------------------------------------------------------------------------


def _tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _summary(meeting: Meeting) -> str:
    label = str(MeetingKind(meeting.kind).label) if meeting.kind in MeetingKind.values else meeting.kind
    if label in meeting.title:  # "2026年第一季度支部党员大会" already says what it is
        return meeting.title
    return f"{label}：{meeting.title}"


def _description(meeting: Meeting) -> str:
    lines = [f"党组织：{meeting.org.name}"]
    if meeting.lecture_title:
        lines.append(f"党课题目：{meeting.lecture_title}")
    if meeting.topics:
        lines.append(f"议题：\n{meeting.topics}")
    if meeting.state == MeetingState.CANCELLED and meeting.cancelled_reason:
        lines.append(f"取消原因：{meeting.cancelled_reason}")
    return "\n".join(lines)


def _event(meeting: Meeting, tz: zoneinfo.ZoneInfo) -> icalendar.Event:
    starts = timezone.localtime(meeting.starts_at, tz)
    ends = timezone.localtime(meeting.ends_at, tz) if meeting.ends_at else starts + SHOWN_LENGTH
    event = icalendar.Event()
    event.add("uid", f"meeting-{meeting.pk}@zhibu")
    event.add("dtstamp", meeting.updated_at)
    event.add("last-modified", meeting.updated_at)
    event.add("dtstart", starts)
    event.add("dtend", ends)
    event.add("summary", _summary(meeting))
    if meeting.place:
        event.add("location", meeting.place)
    event.add("description", _description(meeting))
    event.add("status", "CANCELLED" if meeting.state == MeetingState.CANCELLED else "CONFIRMED")
    return event


def calendar_bytes(meetings: Iterable[Meeting], name: str) -> bytes:
    """An iCalendar file of `meetings` (their org selected), named `name` in the calendar app."""
    tz = _tz()
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    for meeting in meetings:
        cal.add_component(_event(meeting, tz))
    cal.add_missing_timezones()
    return cal.to_ical()


def person_feed(person: Person) -> bytes:
    """The meetings `person` is invited to (one query)."""
    meetings = (
        Meeting.objects.filter(attendances__person=person).select_related("org").order_by("starts_at", "id")
    )
    return calendar_bytes(meetings, f"{person.name}的会议")


def org_feed(org: Organization) -> bytes:
    """The meetings of `org` and every org below it (one query)."""
    meetings = (
        Meeting.objects.filter(org__path__startswith=org.path)
        .select_related("org")
        .order_by("starts_at", "id")
    )
    return calendar_bytes(meetings, f"{org.name}会议")
