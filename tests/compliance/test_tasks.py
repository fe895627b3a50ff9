"""The tasks run for real through the database backend: enqueue, then the worker in batch mode."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.compliance.test_notifications import TODAY, _person_finding
from zhibu.cli import main
from zhibu.compliance.models import DeliveryState, EmailDelivery, EvaluationRun, Notification, ScheduledRun
from zhibu.compliance.tasks import daily_reminders, nightly_evaluation, schedule_due, send_email

pytestmark = pytest.mark.django_db(transaction=True)


def _work() -> None:
    """Run what is queued (and ready) with the database worker, then return."""
    call_command("db_worker", batch=True, startup_delay=False, interval=0.01, verbosity=0)


def test_nightly_evaluation_through_the_worker_stores_a_nightly_run_per_root(world):
    result = nightly_evaluation.enqueue()
    assert DBTaskResult.objects.filter(pk=result.id, status="READY").exists()
    _work()
    assert DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL"
    run = EvaluationRun.objects.get()
    assert run.root == world.wc and run.trigger == "nightly" and run.year == timezone.localdate().year
    assert run.findings.exists()


def test_daily_reminders_through_the_worker(world, monkeypatch):
    from zhibu.compliance import notifications

    monkeypatch.setattr(notifications.timezone, "localdate", lambda: TODAY)
    _person_finding(world)
    daily_reminders.enqueue()
    _work()
    assert set(Notification.objects.values_list("user__username", flat=True)) == {
        "member",
        "branch_secretary",
    }
    daily_reminders.enqueue()
    _work()
    assert Notification.objects.count() == 2


def test_a_failing_smtp_marks_the_delivery_failed_retries_and_shows_it(world, settings, client_as):
    settings.ZHIBU_EMAIL_ENABLED = True
    settings.EMAIL_BACKEND = "tests.compliance.test_notifications.FailingBackend"
    world.users.branch_secretary.email = "li@example.cn"
    world.users.branch_secretary.save()
    _person_finding(world)
    from zhibu.compliance.notifications import reminders_send

    reminders_send(today=TODAY)
    _work()  # the first attempt fails and is re-enqueued with a delay
    delivery = EmailDelivery.objects.get()
    assert delivery.state == DeliveryState.FAILED and delivery.attempts == 1
    assert "SMTP 服务器拒绝连接" in delivery.last_error
    assert delivery.next_attempt_at is not None
    retry = DBTaskResult.objects.get(status="READY", task_path__endswith="send_email")
    assert retry.run_after is not None and retry.run_after > timezone.now()

    # Visible to the managers in scope (the school's and the work committee's), not to another school.
    assert (
        "SMTP 服务器拒绝连接"
        in client_as(world.users.wc_staff).get("/policy/notifications/").content.decode()
    )
    assert (
        "SMTP 服务器拒绝连接"
        not in client_as(world.users.outsider).get("/policy/notifications/").content.decode()
    )

    # When the retry is due and SMTP works again, it is sent.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now() - dt.timedelta(seconds=1))
    _work()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENT and delivery.attempts == 2


def test_retries_stop_after_the_last_attempt(world, settings):
    settings.ZHIBU_EMAIL_ENABLED = True
    settings.ZHIBU_EMAIL_MAX_ATTEMPTS = 2
    settings.EMAIL_BACKEND = "tests.compliance.test_notifications.FailingBackend"
    world.users.branch_secretary.email = "li@example.cn"
    world.users.branch_secretary.save()
    _person_finding(world)
    from zhibu.compliance.notifications import reminders_send

    reminders_send(today=TODAY)
    for _ in range(3):
        DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now() - dt.timedelta(seconds=1))
        _work()
    delivery = EmailDelivery.objects.get()
    assert delivery.state == DeliveryState.FAILED and delivery.attempts == 2
    assert delivery.next_attempt_at is None
    assert not DBTaskResult.objects.filter(status="READY").exists()
    send_email.enqueue(delivery.pk)  # a manual retry is still possible


def test_the_scheduler_enqueues_each_daily_task_once_a_day(world, settings):
    settings.ZHIBU_NIGHTLY_HOUR = 2
    settings.ZHIBU_REMINDER_HOUR = 7
    tz = timezone.get_current_timezone()
    early = dt.datetime(2026, 6, 30, 1, 0, tzinfo=tz)
    assert schedule_due(early) == []
    assert schedule_due(early.replace(hour=3)) == ["nightly_evaluation"]
    assert schedule_due(early.replace(hour=8)) == ["daily_reminders"]
    assert schedule_due(early.replace(hour=9)) == []  # a restart the same day enqueues nothing again
    assert ScheduledRun.objects.count() == 2
    assert DBTaskResult.objects.filter(status="READY").count() == 2
    assert schedule_due(early + dt.timedelta(days=1, hours=8)) == ["nightly_evaluation", "daily_reminders"]


def test_zhibu_worker_help_is_chinese(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["worker", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "用法：zhibu worker" in out and "后台任务" in out and "--batch" in out


def test_zhibu_nightly_and_remind_commands(world, capsys):
    assert main(["nightly"]) == 0
    assert EvaluationRun.objects.get().trigger == "nightly"
    assert main(["remind"]) == 0
    assert "新提醒" in capsys.readouterr().out


def test_zhibu_worker_batch_runs_the_queue(world):
    nightly_evaluation.enqueue()
    assert main(["worker", "--batch"]) == 0
    assert EvaluationRun.objects.filter(trigger="nightly").count() == 1
