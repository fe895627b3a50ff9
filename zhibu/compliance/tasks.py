"""Background tasks (Django's tasks API, database backend) and the small daily scheduler.

`zhibu worker` runs the database worker and, beside it, a scheduler thread that once a minute enqueues
`nightly_evaluation` (from ZHIBU_NIGHTLY_HOUR) and `daily_reminders` (from ZHIBU_REMINDER_HOUR) at most
once per day each: a ScheduledRun row per task and day is inserted first, so a restart, or a second
worker, does not enqueue them again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task


@task()
def nightly_evaluation(year: int | None = None) -> list[int]:
    """Evaluate every top-level org (work committee or root) for the year; returns the run ids."""
    from zhibu.compliance.models import Trigger
    from zhibu.compliance.services import evaluate_roots
    from zhibu.core.statistics import planner_statistics_refresh

    year = year or timezone.localdate().year
    runs = [run.pk for run in evaluate_roots(year=year, trigger=Trigger.NIGHTLY)]
    planner_statistics_refresh()  # the day's writes and the findings just stored
    return runs


@task()
def daily_reminders() -> dict[str, int]:
    """Notifications (and e-mails, when SMTP is configured) for due-soon and overdue findings."""
    from zhibu.compliance.notifications import reminders_send

    r = reminders_send()
    return {"findings": r.findings, "created": r.created, "emails": r.emails}


@task()
def send_email(delivery_id: int) -> str:
    from zhibu.compliance.notifications import email_send

    return email_send(delivery_id)


DAILY = (("nightly_evaluation", "ZHIBU_NIGHTLY_HOUR"), ("daily_reminders", "ZHIBU_REMINDER_HOUR"))


def schedule_due(now: dt.datetime | None = None) -> list[str]:
    """Enqueue each daily task whose hour has come and that has not been enqueued today; returns names."""
    from zhibu.compliance.models import ScheduledRun

    now = timezone.localtime(now)
    tasks: dict[str, Any] = {"nightly_evaluation": nightly_evaluation, "daily_reminders": daily_reminders}
    enqueued = []
    for name, hour_setting in DAILY:
        if now.hour < getattr(settings, hour_setting):
            continue
        try:
            with transaction.atomic():
                ScheduledRun.objects.create(task_name=name, day=now.date())
                tasks[name].enqueue()
        except IntegrityError:
            continue  # already enqueued today (by this or another worker)
        enqueued.append(name)
    return enqueued
