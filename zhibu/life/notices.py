"""Meeting notices for the invitees: a notification (and an e-mail, when SMTP is configured) when a
meeting's notice is published, when a published meeting's notice changes, and when it is cancelled.

The life services call `notices_send` inside their transaction, after the write, so that a refused or
rolled-back change notifies nobody and the e-mails are enqueued only once it commits. The recipients are
the invitees (Attendance rows, guests included) with an active account, less the one who acted; those who
asked leave hear only of a cancellation. The message says what the invitees' own page shows anyway (title,
time, place, what changed, why it was cancelled), never a leave reason or anything from the minutes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from zhibu.compliance.models import EmailDelivery, Notification, NotificationKind
from zhibu.life.models import Attendance, LeaveState, Meeting
from zhibu.people.models import Person

# event → the notice's heading (shown as the notification's title and the e-mail's subject)
EVENTS: dict[str, str] = {
    "published": "会议通知",
    "changed": "会议通知变更",
    "cancelled": "会议取消",
    "uninvited": "不再参加会议",  # the notice changed its org or kind, and no longer invites them
}
# Who asked leave does not need the notice or its changes again; a cancellation reaches them too.
LEAVE_ASKED = (LeaveState.REQUESTED, LeaveState.APPROVED)
# The notification's natural key (the unique constraint notification_once_per_user_subject_day).
UNIQUE_FIELDS = ["user", "rule_id", "subject_type", "subject_id", "day"]
WEEKDAYS = "一二三四五六日"


def notice_link(meeting: Meeting) -> str:
    """Where the invitee reads the meeting: its card on their own meetings page."""
    return f"{reverse('life:mine')}#meeting-{meeting.pk}"


def meeting_when(meeting: Meeting) -> str:
    """The meeting's local date and time: "2026年12月10日（周四）15:00–17:00"."""
    start = timezone.localtime(meeting.starts_at)
    text = f"{start.year}年{start.month}月{start.day}日（周{WEEKDAYS[start.weekday()]}）{start:%H:%M}"
    if meeting.ends_at:
        end = timezone.localtime(meeting.ends_at)
        if end.date() == start.date():
            text += f"–{end:%H:%M}"
        else:
            text += f" 至 {end.year}年{end.month}月{end.day}日 {end:%H:%M}"
    return text


def notice_message(meeting: Meeting, event: str, changed: Sequence[str] = ()) -> str:
    """The notice in one sentence or two, from the meeting as it is now."""
    when, place = meeting_when(meeting), meeting.place or "待通知"
    if event == "cancelled":
        text = f"会议已取消：{meeting.title}（原定 {when}，地点 {place}）。"
        if meeting.cancelled_reason:
            text += f"取消原因：{meeting.cancelled_reason}"
        return text
    if event == "uninvited":
        return f"会议通知有变更，您已不在参会名单中，无需参加：{meeting.title}（{when}，地点 {place}）。"
    head = "会议通知"
    if event == "changed":
        head = f"会议通知有变更（{'、'.join(changed)}）" if changed else "会议通知有变更"
    return f"{head}：{meeting.title}，时间 {when}，地点 {place}。请按时参加，不能参加的请在“我的会议”中请假。"


def notices_send(
    *,
    meeting: Meeting,
    event: str,
    changed: Sequence[str] = (),
    actor: Any = None,
    now: dt.datetime | None = None,
    person_ids: Sequence[int] = (),
) -> int:
    """Notify the meeting's invitees of its notice being published, changed or cancelled; returns how many.

    One notification per user, meeting, event and day: a second change the same day rewrites that day's
    row (new message, unread again) instead of adding one. A fixed number of queries whatever the number
    of invitees. `actor`, the user who acted, is not notified of their own action. "uninvited" goes to
    `person_ids`, the people whose invitation was withdrawn (they have no attendance row any more)."""
    if event not in EVENTS:
        raise ValueError(f"unknown meeting notice event: {event!r}")
    actor_id = getattr(actor, "pk", None)
    if event == "uninvited":
        people = Person.objects.filter(pk__in=list(person_ids), user__is_active=True)
        if actor_id is not None:
            people = people.exclude(user__pk=actor_id)
        recipients: list[tuple[int, str, str]] = list(
            people.order_by("user__pk").values_list("user__pk", "user__email", "name")
        )
    else:
        rows = Attendance.objects.filter(meeting=meeting, person__user__is_active=True)
        if event != "cancelled":
            rows = rows.exclude(leave_state__in=LEAVE_ASKED)
        if actor_id is not None:
            rows = rows.exclude(person__user__pk=actor_id)
        recipients = list(
            rows.order_by("person__user__pk").values_list(
                "person__user__pk", "person__user__email", "person__name"
            )
        )
    if not recipients:
        return 0
    day = timezone.localdate(now or timezone.now())
    title = EVENTS[event]
    message = notice_message(meeting, event, changed)
    link = notice_link(meeting)
    deliveries: dict[int, EmailDelivery] = {}
    if settings.ZHIBU_EMAIL_ENABLED:
        deliveries = {
            user_id: EmailDelivery(
                user_id=user_id,
                to_address=email,
                subject=f"支部{title}：{meeting.title}"[:200],
                body=_email_body(name, message),
            )
            for user_id, email, name in recipients
            if email
        }
        EmailDelivery.objects.bulk_create(deliveries.values())
    org_path = meeting.org.path
    notes = [
        Notification(
            kind=NotificationKind.MEETING_NOTICE,
            user_id=user_id,
            day=day,
            rule_id=f"meeting_notice.{event}",
            rule_title=title,
            subject_type="meeting",
            subject_id=meeting.pk,
            subject_label=meeting.title[:200],
            state="",
            message=message,
            link=link,
            org_id=meeting.org_id,
            org_path=org_path,
            email=deliveries.get(user_id),
        )
        for user_id, _email, _name in recipients
    ]
    update = ["rule_title", "subject_label", "message", "link", "org", "org_path", "read_at", "created_at"]
    Notification.objects.bulk_create(
        notes,
        update_conflicts=True,
        unique_fields=UNIQUE_FIELDS,
        update_fields=[*update, "email"] if deliveries else update,
    )
    if deliveries:
        ids = [d.pk for d in deliveries.values()]
        transaction.on_commit(lambda: notice_emails_send.enqueue(ids))
    return len(notes)


def _email_body(name: str, message: str) -> str:
    return "\n".join([f"{name}，您好：", "", message, "", "请登录“支部”系统，在“我的会议”中查看详情。"])


@task()
def notice_emails_send(delivery_ids: list[int]) -> list[str]:
    """Send one notice's queued e-mails (one task for all its invitees; each retries on its own)."""
    from zhibu.compliance.notifications import email_send

    return [email_send(pk) for pk in delivery_ids]
