"""iCalendar (RFC 5545) feeds of meetings, for the calendar apps on members' phones and computers.

Two feeds: a person's (every meeting they are invited to, through their Attendance rows) and an org's (the
meetings of its whole subtree). Calendar apps cannot log in, so a feed is reached by a secret URL whose
token is signed with the site's secret key (django.core.signing, salted for this use) and names the user the
link was made for and that user's feed key (FeedKey):

- "person:<person id>:<user id>:<key>" — the person's own meetings, for the user whose person it is;
- "org:<org code>:<user id>:<key>" — an org's meetings: each request checks again, with that user's current
  scope, that they still see the org (a user who lost the post or grant gets 404).

Every read checks that the user is active and that the key is still their key: a user stops all their old
links at once by resetting the key (feed_key_reset; the page /life/feeds/), an administrator by disabling
the account. Each feed is built in a constant number of queries.
"""

from __future__ import annotations

import datetime as dt
import secrets
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import icalendar
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from zhibu.core.audit import audit_record
from zhibu.core.errors import NotPermitted
from zhibu.core.scoping import Scope
from zhibu.life.models import FeedKey, Meeting, MeetingKind, MeetingState
from zhibu.orgs.models import Organization
from zhibu.people.models import Person

SALT = "zhibu.life.ical"
PRODID = "-//zhibu//组织生活会议//ZH"
# A calendar event needs an end; a meeting that announced none is shown this long (display only).
SHOWN_LENGTH = dt.timedelta(minutes=90)
PERSON = "person"
ORG = "org"


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT)


# Feed keys --------------------------------------------------------------------------------------------


def feed_key_for(user_id: int) -> FeedKey:
    """The user's current feed key, made on first use (one query once it exists).

    Making it is not audited: it changes nothing a user can see; resetting it is (feed_key_reset)."""
    key, _ = FeedKey.objects.get_or_create(user_id=user_id)
    return key


@transaction.atomic
def feed_key_reset(*, actor: Any, user: Any) -> FeedKey:
    """Give `user` a new feed key, so that every feed link made before stops working at once."""
    if getattr(actor, "pk", None) != user.pk or not user.is_active:
        raise NotPermitted("只能重新生成自己的日历订阅链接")
    key, created = FeedKey.objects.select_for_update().get_or_create(user_id=user.pk)
    before = None if created else key.created_at
    if not created:
        key.renew()
        key.save(update_fields=["key", "created_at"])
    org_path = (
        Person.objects.filter(pk=user.person_id).values_list("org__path", flat=True).first()
        if user.person_id
        else None
    )
    # The key never enters the log: with the site's secret key it makes every one of the user's links.
    audit_record(
        actor=actor,
        action="update",
        obj=key,
        org_path=org_path or "",
        changes={"created_at": [str(before) if before else None, str(key.created_at)]},
        note="重新生成日历订阅链接，旧链接全部失效",
    )
    return key


# Tokens -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedToken:
    """What a valid token says: the feed's kind, its subject (person id or org code), the user, the key."""

    kind: str
    subject: str
    user_id: int
    key: str


def _key_of(user_id: int, key: str | None) -> str:
    return key if key is not None else feed_key_for(user_id).key


def person_token(person_id: int, user_id: int | None = None, key: str | None = None) -> str:
    """The token of a person's own feed, for the user whose person it is (looked up, with the user's
    current key, when not given)."""
    if user_id is None:
        from zhibu.accounts.models import User

        user_id = User.objects.filter(person_id=person_id).values_list("pk", flat=True).get()
    return _signer().sign(f"{PERSON}:{person_id}:{user_id}:{_key_of(user_id, key)}")


def org_token(org_code: str, user_id: int, key: str | None = None) -> str:
    """The token of an org's feed, made for one user (who must still see the org when it is read); the
    user's current key when `key` is not given."""
    return _signer().sign(f"{ORG}:{org_code}:{user_id}:{_key_of(user_id, key)}")


def read_token(token: str) -> FeedToken | None:
    """What a token says; None when it was tampered with or is not of the current four-part form."""
    try:
        value = _signer().unsign(token)
    except signing.BadSignature:
        return None
    kind, _, rest = value.partition(":")
    parts = rest.rsplit(":", 2)  # an org code could hold a colon; the user id and the key cannot
    if kind not in (PERSON, ORG) or len(parts) != 3 or not all(parts):
        return None
    subject, user_id, key = parts
    if not user_id.isdigit() or (kind == PERSON and not subject.isdigit()):
        return None
    return FeedToken(kind=kind, subject=subject, user_id=int(user_id), key=key)


def token_user(token: FeedToken) -> Any | None:
    """The active user a token was made for, with their person, if its key is still theirs (one query)."""
    row = (
        FeedKey.objects.select_related("user__person")
        .filter(user_id=token.user_id, user__is_active=True)
        .first()
    )
    if row is None or not secrets.compare_digest(row.key, token.key):
        return None
    return row.user


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
