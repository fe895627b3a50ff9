"""Reminders: who is notified, never twice a day, e-mail with retries, and the scoped page."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection

from zhibu.compliance.models import (
    DeliveryState,
    EmailDelivery,
    EvaluationRun,
    Finding,
    Notification,
    Trigger,
)
from zhibu.compliance.notifications import email_send, reminders_send
from zhibu.compliance.services import evaluation_run
from zhibu.orgs.models import CommitteeTerm

TODAY = dt.date(2026, 6, 30)


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError("SMTP 服务器拒绝连接")


def _evaluate(world, scope_of):  # type: ignore[no-untyped-def]
    CommitteeTerm.objects.create(org=world.sa_b1, started_on=dt.date(2023, 9, 1), length_years=3)
    user = world.users.wc_staff
    return evaluation_run(actor=user, scope=scope_of(user), org=world.wc, year=2026, today=TODAY)


def _person_finding(world, state="overdue"):  # type: ignore[no-untyped-def]
    run = EvaluationRun.objects.create(
        root=world.wc,
        year=2026,
        as_of=TODAY,
        started_at=dt.datetime(2026, 6, 30, tzinfo=dt.UTC),
        trigger=Trigger.MANUAL,
    )
    return Finding.objects.create(
        run=run,
        rule_id="test.person",
        rule_title="测试事项",
        severity="warning",
        state=state,
        subject_type="person",
        subject_id=world.people.member.pk,
        subject_label="张三丰",
        org=world.sa_b1,
        org_path=world.sa_b1.path,
        period_start=TODAY,
        period_end=TODAY,
        due=TODAY,
        message="请按时完成",
        source="测试",
    )


def test_a_due_soon_finding_notifies_the_branch_secretary_once_and_no_outsider(world, scope_of):
    run = _evaluate(world, scope_of)
    finding = Finding.objects.get(run=run, org=world.sa_b1, state="due_soon", subject_type="org")
    reminders_send(today=TODAY)
    notes = Notification.objects.filter(rule_id=finding.rule_id, subject_id=world.sa_b1.pk)
    assert [n.user for n in notes] == [world.users.branch_secretary]
    assert notes[0].state == "due_soon" and notes[0].due == finding.due
    assert notes[0].kind == "finding" and notes[0].link == ""  # its page is the org's board
    outsider_paths = Notification.objects.filter(user=world.users.outsider).values_list("org_path", flat=True)
    assert not [p for p in outsider_paths if p.startswith(world.sa.path)]
    assert not Notification.objects.filter(user=world.users.member, subject_type="org").exists()


def test_a_person_finding_notifies_the_person_and_their_branch_secretary(world):
    _person_finding(world)
    reminders_send(today=TODAY)
    users = set(Notification.objects.values_list("user__username", flat=True))
    assert users == {"member", "branch_secretary"}


def test_reminders_twice_on_the_same_day_create_no_duplicates(world, scope_of):
    _evaluate(world, scope_of)
    first = reminders_send(today=TODAY)
    count = Notification.objects.count()
    assert first.created == count > 0
    again = reminders_send(today=TODAY)
    assert again.created == 0 and Notification.objects.count() == count
    # The next day reminds again.
    assert reminders_send(today=TODAY + dt.timedelta(days=1)).created == count


def test_a_row_another_worker_inserted_meanwhile_is_tolerated(world, monkeypatch):
    """The path two concurrent workers take: the pre-read misses a row the other has just inserted."""
    finding = _person_finding(world)
    from zhibu.compliance import notifications as mod

    real = mod.Notification.objects.filter

    def stale_filter(*args, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs == {"day": TODAY}:
            return real(pk__in=[])  # a snapshot taken before the other worker committed
        return real(*args, **kwargs)

    Notification.objects.create(
        user=world.users.member,
        day=TODAY,
        rule_id=finding.rule_id,
        rule_title="x",
        subject_type="person",
        subject_id=finding.subject_id,
        subject_label="x",
        state="overdue",
        message="x",
        org=world.sa_b1,
        org_path=world.sa_b1.path,
    )
    monkeypatch.setattr(mod.Notification.objects, "filter", stale_filter)
    result = reminders_send(today=TODAY)
    monkeypatch.undo()
    assert result.created == 1  # only the secretary's; the member's already existed
    assert Notification.objects.filter(user=world.users.member).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_reminder_runs_create_each_notification_once(world, scope_of):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the unique-constraint path is tested above")
    _evaluate(world, scope_of)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            reminders_send(today=TODAY)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    keys = list(Notification.objects.values_list("user_id", "rule_id", "subject_type", "subject_id", "day"))
    assert keys and len(keys) == len(set(keys))


def test_email_goes_to_users_with_an_address_only(world, settings):
    settings.ZHIBU_EMAIL_ENABLED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world.users.branch_secretary.email = "li@example.cn"
    world.users.branch_secretary.save()
    _person_finding(world)
    result = reminders_send(today=TODAY)
    assert result.created == 2 and result.emails == 1
    delivery = EmailDelivery.objects.get()
    assert delivery.to_address == "li@example.cn" and delivery.state == DeliveryState.QUEUED
    assert email_send(delivery.pk) == "sent"
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENT and delivery.attempts == 1
    assert len(mail.outbox) == 1 and "测试事项" in mail.outbox[0].body
    assert Notification.objects.filter(user=world.users.member, email__isnull=True).exists()


def test_without_smtp_there_is_no_email(world, settings):
    settings.ZHIBU_EMAIL_ENABLED = False
    world.users.branch_secretary.email = "li@example.cn"
    world.users.branch_secretary.save()
    _person_finding(world)
    assert reminders_send(today=TODAY).emails == 0
    assert not EmailDelivery.objects.exists()


def test_notifications_page_lists_only_the_users_own_and_marks_read(world, client_as):
    _person_finding(world)
    reminders_send(today=TODAY)
    mine = Notification.objects.get(user=world.users.member)
    theirs = Notification.objects.get(user=world.users.branch_secretary)
    client = client_as(world.users.member)
    html = client.get("/policy/notifications/").content.decode()
    assert "测试事项" in html and "未读" in html and "/policy/board/SA-B1/" in html
    assert f"/policy/notifications/{theirs.pk}/read/" not in html
    assert "1" in client.get("/policy/notifications/badge/").content.decode()
    assert client.post(f"/policy/notifications/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client.post(f"/policy/notifications/{mine.pk}/read/").status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert "unread-count" not in client.get("/policy/notifications/badge/").content.decode()


def test_mark_all_read_touches_only_the_users_own(world, client_as):
    _person_finding(world)
    reminders_send(today=TODAY)
    client_as(world.users.member).post("/policy/notifications/read-all/")
    assert Notification.objects.get(user=world.users.member).read_at is not None
    assert Notification.objects.get(user=world.users.branch_secretary).read_at is None
