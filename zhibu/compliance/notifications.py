"""Reminders: due-soon and overdue findings become notifications for the users responsible, and e-mail.

Who is responsible: for an org finding, the org's current secretary, deputy secretary and organisation
officer (MANAGING_ROLES); for a person finding, the person themself (if they have an account) and the
secretary of their branch. A user gets at most one notification per rule and subject a day (a unique
constraint; creation tolerates a concurrent worker having inserted the same row).

Meeting notices (kind "meeting_notice", with a link and no state) are written by zhibu.life.notices and
share the page, the unread count, marking read and the e-mail sending below.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from zhibu.compliance.kinds import STATES
from zhibu.compliance.models import (
    DeliveryState,
    EmailDelivery,
    EvaluationRun,
    Finding,
    Notification,
)
from zhibu.core.errors import NotFound
from zhibu.core.scoping import Scope

REMIND_STATES = ("due_soon", "overdue")
RETRY_BASE_SECONDS = 60


@dataclass
class ReminderResult:
    findings: int = 0
    created: int = 0
    emails: int = 0


def latest_runs() -> list[EvaluationRun]:
    """The latest run of each top-level org (work committee or root)."""
    from zhibu.orgs.models import Organization

    roots = Organization.objects.filter(parent__isnull=True).values_list("pk", flat=True)
    latest = (
        EvaluationRun.objects.filter(root_id__in=list(roots))
        .values("root_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    return list(EvaluationRun.objects.filter(pk__in=list(latest)))


def _responsible(findings: list[Finding], on: dt.date) -> dict[int, set[int]]:
    """finding id → ids of the users responsible for it, in a fixed number of queries."""
    from zhibu.accounts.models import User
    from zhibu.orgs.models import MANAGING_ROLES, Post, PostRole

    org_ids = {f.org_id for f in findings}
    managers: dict[int, set[int]] = defaultdict(set)  # org id → person ids in a managing post
    secretaries: dict[int, set[int]] = defaultdict(set)
    for org_id, person_id, role in (
        Post.objects.current(on)
        .filter(org_id__in=org_ids, role__in=MANAGING_ROLES)
        .values_list("org_id", "person_id", "role")
    ):
        managers[org_id].add(person_id)
        if role == PostRole.SECRETARY:
            secretaries[org_id].add(person_id)
    person_ids = {p for ps in managers.values() for p in ps}
    person_ids |= {f.subject_id for f in findings if f.subject_type == "person"}
    user_of: dict[int, int] = dict(
        User.objects.filter(person_id__in=person_ids, is_active=True).values_list("person_id", "pk")
    )
    out: dict[int, set[int]] = {}
    for f in findings:
        if f.subject_type == "person":
            people = set(secretaries.get(f.org_id, ())) | {f.subject_id}
        else:
            people = managers.get(f.org_id, set())
        out[f.pk] = {user_of[p] for p in people if p in user_of}
    return out


def reminders_send(*, today: dt.date | None = None) -> ReminderResult:
    """Turn the due-soon and overdue findings of each root's latest run into today's notifications."""
    from zhibu.accounts.models import User

    today = today or timezone.localdate()
    result = ReminderResult()
    runs = latest_runs()
    findings = list(Finding.objects.filter(run__in=runs, state__in=REMIND_STATES).order_by("id"))
    result.findings = len(findings)
    if not findings:
        return result
    responsible = _responsible(findings, today)
    existing = set(
        Notification.objects.filter(day=today).values_list("user_id", "rule_id", "subject_type", "subject_id")
    )
    created: dict[int, list[Notification]] = defaultdict(list)
    for f in findings:
        for user_id in sorted(responsible[f.pk]):
            key = (user_id, f.rule_id, f.subject_type, f.subject_id)
            if key in existing:
                continue
            existing.add(key)
            n = Notification(
                user_id=user_id,
                day=today,
                rule_id=f.rule_id,
                rule_title=f.rule_title,
                subject_type=f.subject_type,
                subject_id=f.subject_id,
                subject_label=f.subject_label,
                state=f.state,
                due=f.due,
                message=f.message,
                org_id=f.org_id,
                org_path=f.org_path,
                finding=f,
            )
            try:
                with transaction.atomic():
                    n.save()
            except IntegrityError:
                continue  # another worker created it a moment ago
            created[user_id].append(n)
            result.created += 1
    if settings.ZHIBU_EMAIL_ENABLED and created:
        users = User.objects.filter(pk__in=list(created)).exclude(email="")
        for user in users:
            delivery = _email_queue(user, created[user.pk], today)
            result.emails += 1
            _enqueue_send(delivery.pk)
    return result


def _email_queue(user: Any, notes: list[Notification], today: dt.date) -> EmailDelivery:
    lines = [f"{user.display_name}，您好：", "", f"截至 {today:%Y-%m-%d}，以下事项需要您处理：", ""]
    for n in notes:
        due = f"（到期 {n.due:%Y-%m-%d}）" if n.due else ""
        lines.append(f"· 【{STATES.get(n.state, n.state)}】{n.rule_title} · {n.subject_label}{due}")
        lines.append(f"  {n.message}")
    lines += ["", "请登录“支部”系统查看详情（提醒页面）。"]
    with transaction.atomic():
        delivery = EmailDelivery.objects.create(
            user=user,
            to_address=user.email,
            subject=f"支部提醒：{len(notes)} 项事项即将到期或已逾期",
            body="\n".join(lines),
        )
        Notification.objects.filter(pk__in=[n.pk for n in notes]).update(email=delivery)
    return delivery


def _enqueue_send(delivery_id: int, run_after: dt.datetime | None = None) -> None:
    from zhibu.compliance.tasks import send_email

    task = send_email.using(run_after=run_after) if run_after else send_email
    task.enqueue(delivery_id)


def email_send(delivery_id: int) -> str:
    """Send one queued e-mail; on failure record the error and re-enqueue with backoff a few times."""
    delivery = EmailDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None or delivery.state == DeliveryState.SENT:
        return "skipped"
    delivery.attempts += 1
    try:
        send_mail(
            delivery.subject,
            delivery.body,
            settings.DEFAULT_FROM_EMAIL,
            [delivery.to_address],
            fail_silently=False,
        )
    except Exception as exc:
        delivery.state = DeliveryState.FAILED
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if delivery.attempts < settings.ZHIBU_EMAIL_MAX_ATTEMPTS:
            delay = RETRY_BASE_SECONDS * 4 ** (delivery.attempts - 1)  # 1, 4, 16 minutes …
            delivery.next_attempt_at = timezone.now() + dt.timedelta(seconds=delay)
            delivery.save()
            _enqueue_send(delivery.pk, run_after=delivery.next_attempt_at)
        else:
            delivery.next_attempt_at = None
            delivery.save()
        return "failed"
    delivery.state = DeliveryState.SENT
    delivery.sent_at = timezone.now()
    delivery.next_attempt_at = None
    delivery.save()
    return "sent"


# Reads and the user's own changes ------------------------------------------------------------------------


def notifications_of(user: Any, *, limit: int = 200) -> list[Notification]:
    """The user's own notifications (reminders and meeting notices), newest first."""
    return list(Notification.objects.filter(user=user).select_related("org", "email")[:limit])


def unread_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def failed_deliveries_visible_to(scope: Scope, *, limit: int = 100) -> list[EmailDelivery]:
    """Failed e-mails whose notifications lie in what the user manages (administrators: all)."""
    if not scope.manage_paths:
        return []
    q = Q(pk__in=[])
    for p in scope.manage_paths:
        q |= Q(notifications__org_path__startswith=p)
    ids = (
        EmailDelivery.objects.filter(state=DeliveryState.FAILED)
        .filter(q)
        .values_list("pk", flat=True)
        .distinct()
    )
    return list(EmailDelivery.objects.filter(pk__in=list(ids[:limit])).select_related("user"))


def notification_mark_read(*, user: Any, notification_id: int) -> None:
    updated = Notification.objects.filter(pk=notification_id, user=user).count()
    if not updated:
        raise NotFound("没有这条提醒")
    Notification.objects.filter(pk=notification_id, user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notifications_mark_all_read(*, user: Any) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
