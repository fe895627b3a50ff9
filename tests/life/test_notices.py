"""Meeting notices: the invitees with an account hear of a published, changed or cancelled meeting once a
day per event, by notification and (with SMTP) e-mail, in a fixed number of queries; the 提醒 page shows
them with a link to the meeting; nobody of another school ever receives or sees them."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_person, make_user
from zhibu.compliance.models import DeliveryState, EmailDelivery, Notification, NotificationKind
from zhibu.core.errors import ServiceError
from zhibu.core.scoping import scope_for
from zhibu.life import services
from zhibu.life.models import Attendance, AttendanceRole, LeaveState, Meeting, MeetingKind
from zhibu.life.notices import notice_emails_send, notices_send

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 12, 10, 15, 0, tzinfo=TZ)
END = dt.datetime(2026, 12, 10, 17, 0, tzinfo=TZ)
EARLIER = dt.datetime(2026, 12, 1, 9, 0, tzinfo=TZ)
LATER = EARLIER + dt.timedelta(hours=3)  # the same local day
NEXT_DAY = EARLIER + dt.timedelta(days=1)


def as_user(user: Any) -> dict[str, Any]:
    return {"actor": user, "scope": scope_for(user)}


def create(world: Any, org: Any = None, user: Any = None, **kw: Any) -> Meeting:
    kw.setdefault("title", "第四季度支部党员大会")
    kw.setdefault("place", "行政楼三楼会议室")
    return services.meeting_create(
        **as_user(user or world.users.branch_secretary),
        org=org or world.sa_b1,
        kind=kw.pop("kind", MeetingKind.GENERAL_ASSEMBLY),
        starts_at=START,
        ends_at=END,
        now=EARLIER,
        **kw,
    )


def recipients(meeting: Meeting, event: str = "published") -> list[str]:
    return sorted(
        Notification.objects.filter(
            subject_type="meeting", subject_id=meeting.pk, rule_id=f"meeting_notice.{event}"
        ).values_list("user__username", flat=True)
    )


@pytest.fixture
def meeting(world: Any) -> Meeting:
    """SA-B1's general assembly: 王建国, 李红梅, 张三丰 (all with accounts) and 周九 (no account)."""
    make_person("周九", world.sa_b1)
    return create(world)


# Who hears of it ---------------------------------------------------------------------------------------


def test_publishing_notifies_each_invitee_with_an_account_once_but_not_the_secretary_who_published(
    world: Any, meeting: Meeting
) -> None:
    assert meeting.attendances.count() == 4  # 周九 is invited but has no account
    sent = notices_send(meeting=meeting, event="published", actor=world.users.branch_secretary, now=EARLIER)
    assert sent == 2
    assert recipients(meeting) == ["member", "school_secretary"]
    note = Notification.objects.get(user=world.users.member)
    assert note.kind == NotificationKind.MEETING_NOTICE and note.state == "" and note.finding is None
    assert note.link == f"/life/me/#meeting-{meeting.pk}"
    assert note.rule_title == "会议通知" and note.subject_label == "第四季度支部党员大会"
    assert "第四季度支部党员大会" in note.message
    assert "2026年12月10日（周四）15:00–17:00" in note.message  # local time, not UTC 07:00
    assert "行政楼三楼会议室" in note.message
    assert note.org == world.sa_b1 and note.org_path == world.sa_b1.path and note.read_at is None


def test_guests_are_notified_and_inactive_accounts_are_not(world: Any, meeting: Meeting) -> None:
    b2_user = make_user("b2_member", world.people.b2)
    Attendance.objects.create(meeting=meeting, person=world.people.b2, role=AttendanceRole.GUEST)
    world.users.member.is_active = False
    world.users.member.save()
    notices_send(meeting=meeting, event="published", actor=world.users.branch_secretary, now=EARLIER)
    assert recipients(meeting) == ["b2_member", "school_secretary"]
    assert Notification.objects.filter(user=b2_user).count() == 1


def test_without_an_actor_everyone_with_an_account_is_notified(world: Any, meeting: Meeting) -> None:
    assert notices_send(meeting=meeting, event="published", now=EARLIER) == 3
    assert recipients(meeting) == ["branch_secretary", "member", "school_secretary"]


def test_a_meeting_without_invitees_with_accounts_notifies_nobody(world: Any) -> None:
    meeting = create(world, org=world.sa_b2, user=world.users.school_secretary, title="第二支部党员大会")
    assert notices_send(meeting=meeting, event="published", now=EARLIER) == 0
    assert not Notification.objects.exists()


def test_an_unknown_event_is_refused_and_writes_nothing(world: Any, meeting: Meeting) -> None:
    with pytest.raises(ValueError, match="unknown meeting notice event"):
        notices_send(meeting=meeting, event="deleted")
    assert not Notification.objects.exists()


# Changes, cancellation and leave -----------------------------------------------------------------------


def test_a_change_says_what_changed_and_the_new_time(world: Any, meeting: Meeting) -> None:
    notices_send(meeting=meeting, event="published", actor=world.users.branch_secretary, now=EARLIER)
    meeting.starts_at = START + dt.timedelta(days=1)
    meeting.ends_at = END + dt.timedelta(days=1)
    meeting.place = "图书馆报告厅"
    meeting.save()
    notices_send(
        meeting=meeting,
        event="changed",
        changed=["时间", "地点"],
        actor=world.users.branch_secretary,
        now=LATER,
    )
    assert recipients(meeting, "changed") == ["member", "school_secretary"]
    note = Notification.objects.get(user=world.users.member, rule_id="meeting_notice.changed")
    assert note.rule_title == "会议通知变更"
    assert "（时间、地点）" in note.message
    assert "2026年12月11日（周五）15:00–17:00" in note.message and "图书馆报告厅" in note.message
    # The published notice stays beside it: one row per event.
    assert Notification.objects.filter(user=world.users.member).count() == 2


def test_a_second_change_the_same_day_rewrites_the_days_notice_and_makes_it_unread(
    world: Any, meeting: Meeting
) -> None:
    notices_send(meeting=meeting, event="changed", changed=["地点"], now=EARLIER)
    first = Notification.objects.get(user=world.users.member)
    Notification.objects.filter(pk=first.pk).update(read_at=EARLIER)
    meeting.title = "第四季度支部党员大会（调整）"
    meeting.save()
    assert notices_send(meeting=meeting, event="changed", changed=["会议名称"], now=LATER) == 3
    note = Notification.objects.get(user=world.users.member)  # still one row
    assert note.pk == first.pk and note.read_at is None
    assert "（会议名称）" in note.message and "（地点）" not in note.message
    assert note.subject_label == "第四季度支部党员大会（调整）"
    # The next day is a new day's notice.
    notices_send(meeting=meeting, event="changed", changed=["议题"], now=NEXT_DAY)
    assert Notification.objects.filter(user=world.users.member).count() == 2


def test_who_asked_leave_hears_only_of_the_cancellation_and_never_their_reason(
    world: Any, meeting: Meeting
) -> None:
    Attendance.objects.filter(meeting=meeting, person=world.people.member).update(
        leave_state=LeaveState.REQUESTED, leave_reason="母亲住院需陪护"
    )
    Attendance.objects.filter(meeting=meeting, person=world.people.school_secretary).update(
        leave_state=LeaveState.REFUSED, leave_reason="外出开会"
    )
    notices_send(meeting=meeting, event="changed", changed=["时间"], actor=world.users.branch_secretary)
    assert recipients(meeting, "changed") == ["school_secretary"]  # a refused leave is still expected
    meeting.cancelled_reason = "与全校教职工大会冲突"
    meeting.save()
    notices_send(meeting=meeting, event="cancelled", actor=world.users.branch_secretary)
    assert recipients(meeting, "cancelled") == ["member", "school_secretary"]
    note = Notification.objects.get(user=world.users.member)
    assert note.rule_title == "会议取消" and note.message.startswith("会议已取消：第四季度支部党员大会")
    assert "与全校教职工大会冲突" in note.message
    assert not Notification.objects.filter(message__contains="母亲住院").exists()
    assert not Notification.objects.filter(message__contains="外出开会").exists()


# Through the services -----------------------------------------------------------------------------------


def test_the_services_notify_on_publish_on_a_change_that_matters_and_on_cancel(
    world: Any, meeting: Meeting
) -> None:
    secretary = as_user(world.users.branch_secretary)
    services.meeting_update(**secretary, meeting=meeting, changes={"place": "会议室甲"}, now=EARLIER)
    assert not Notification.objects.exists()  # not published yet: nobody is told
    services.notice_publish(**secretary, meeting=meeting, now=EARLIER)
    assert recipients(meeting) == ["member", "school_secretary"]
    later = START + dt.timedelta(hours=1)
    services.meeting_update(
        **secretary,
        meeting=meeting,
        changes={"starts_at": later, "ends_at": later + dt.timedelta(hours=2), "place": "图书馆报告厅"},
        now=LATER,
    )
    assert recipients(meeting, "changed") == ["member", "school_secretary"]
    note = Notification.objects.get(user=world.users.member, rule_id="meeting_notice.changed")
    assert "开始时间" in note.message and "地点" in note.message
    assert "16:00–18:00" in note.message and "图书馆报告厅" in note.message
    services.meeting_cancel(**secretary, meeting=meeting, reason="与全校教职工大会冲突")
    assert recipients(meeting, "cancelled") == ["member", "school_secretary"]


def test_cancelling_an_unpublished_meeting_and_a_refused_publish_notify_nobody(
    world: Any, meeting: Meeting
) -> None:
    secretary = as_user(world.users.branch_secretary)
    with pytest.raises(ServiceError):
        services.notice_publish(**secretary, meeting=meeting, now=START + dt.timedelta(minutes=1))
    services.meeting_cancel(**secretary, meeting=meeting, reason="改期另行通知")
    assert not Notification.objects.exists()


# E-mail ------------------------------------------------------------------------------------------------


def test_email_is_queued_for_users_with_an_address_and_sent_after_commit(
    world: Any, meeting: Meeting, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ZHIBU_EMAIL_ENABLED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world.users.member.email = "zhang@example.cn"
    world.users.member.save()
    Attendance.objects.filter(meeting=meeting, person=world.people.member).update(leave_reason="私事")
    with django_capture_on_commit_callbacks() as callbacks:
        notices_send(meeting=meeting, event="published", actor=world.users.branch_secretary, now=EARLIER)
    delivery = EmailDelivery.objects.get()  # the school secretary has no address
    assert delivery.user == world.users.member and delivery.to_address == "zhang@example.cn"
    assert delivery.state == DeliveryState.QUEUED and delivery.subject == "支部会议通知：第四季度支部党员大会"
    assert "张三丰，您好" in delivery.body and "行政楼三楼会议室" in delivery.body
    assert "私事" not in delivery.body
    assert Notification.objects.get(user=world.users.member).email == delivery
    assert Notification.objects.get(user=world.users.school_secretary).email is None
    assert len(callbacks) == 1 and not mail.outbox  # nothing is sent before the transaction commits
    assert notice_emails_send.call([delivery.pk]) == ["sent"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["zhang@example.cn"]


def test_without_smtp_there_is_no_email(
    world: Any, meeting: Meeting, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ZHIBU_EMAIL_ENABLED = False
    world.users.member.email = "zhang@example.cn"
    world.users.member.save()
    with django_capture_on_commit_callbacks() as callbacks:
        assert notices_send(meeting=meeting, event="published", now=EARLIER) == 3
    assert not EmailDelivery.objects.exists() and not callbacks


# Queries -----------------------------------------------------------------------------------------------


def _branch_with(world: Any, code: str, size: int) -> Meeting:
    from tests.factories import make_org
    from zhibu.orgs.models import OrgKind

    org = make_org(code, f"测试支部{code}", OrgKind.BRANCH, world.sa)
    for i in range(size):
        make_user(f"{code.lower()}-{i}", make_person(f"成员{code}{i}", org), email=f"m{i}@{code.lower()}.cn")
    meeting = create(world, org=org, user=world.users.school_secretary, title=f"{code} 党员大会")
    return Meeting.objects.select_related("org").get(pk=meeting.pk)


def _queries(meeting: Meeting, capture: Any) -> int:
    with CaptureQueriesContext(connection) as ctx, capture(execute=True):
        notices_send(meeting=meeting, event="changed", changed=["时间"], now=EARLIER)
    return len(ctx)


def test_the_number_of_queries_does_not_grow_with_the_invitees(
    world: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ZHIBU_EMAIL_ENABLED = True
    small, large = _branch_with(world, "T3", 3), _branch_with(world, "T30", 30)
    assert _queries(small, django_capture_on_commit_callbacks) == _queries(
        large, django_capture_on_commit_callbacks
    )
    assert Notification.objects.filter(subject_id=large.pk).count() == 30
    assert EmailDelivery.objects.count() == 33


# Page and schools --------------------------------------------------------------------------------------


def test_the_page_shows_the_notice_with_its_link_and_marks_it_read(
    world: Any, meeting: Meeting, client_as: Any
) -> None:
    services.notice_publish(**as_user(world.users.branch_secretary), meeting=meeting, now=EARLIER)
    note = Notification.objects.get(user=world.users.member)
    client = client_as(world.users.member)
    html = client.get("/policy/notifications/").content.decode()
    assert "会议通知" in html and "第四季度支部党员大会" in html
    assert f'<a href="/life/me/#meeting-{meeting.pk}">查看会议</a>' in html
    assert 'class="badge unread-count"' in client.get("/policy/notifications/badge/").content.decode()
    assert client.post(f"/policy/notifications/{note.pk}/read/").status_code == 302
    note.refresh_from_db()
    assert note.read_at is not None
    assert "unread-count" not in client.get("/policy/notifications/badge/").content.decode()
    # The mine page anchors the meeting where the link points.
    assert f'id="meeting-{meeting.pk}"' in client.get("/life/me/").content.decode()


def test_a_user_of_another_school_never_receives_or_sees_a_school_a_notice(
    world: Any, meeting: Meeting, client_as: Any
) -> None:
    other = make_user("other", world.people.other)
    b_meeting = create(world, org=world.sb_b1, user=world.users.outsider, title="第二小学支部党员大会")
    notices_send(meeting=meeting, event="published", actor=world.users.branch_secretary, now=EARLIER)
    notices_send(meeting=b_meeting, event="published", actor=world.users.outsider, now=EARLIER)
    assert recipients(b_meeting) == ["other"]
    assert not Notification.objects.filter(
        user__in=[world.users.outsider, other], org_path__startswith=world.sa.path
    )
    a_note = Notification.objects.get(user=world.users.member)
    client = client_as(other)
    html = client.get("/policy/notifications/").content.decode()
    assert "第二小学支部党员大会" in html and "第四季度支部党员大会" not in html
    assert f"#meeting-{meeting.pk}" not in html
    assert client.post(f"/policy/notifications/{a_note.pk}/read/").status_code == 404
    a_note.refresh_from_db()
    assert a_note.read_at is None


def test_publishing_again_after_a_change_does_not_notify_twice(world: Any, meeting: Meeting) -> None:
    secretary = as_user(world.users.branch_secretary)
    services.notice_publish(**secretary, meeting=meeting, now=EARLIER)
    services.meeting_update(**secretary, meeting=meeting, changes={"place": "图书馆报告厅"}, now=LATER)
    before = Notification.objects.count()
    services.notice_publish(**secretary, meeting=meeting, now=LATER)
    assert Notification.objects.count() == before  # the change was announced when it was saved


def test_those_no_longer_invited_are_told_so(world: Any) -> None:
    """A published group meeting moved to the other group: its former members hear they need not come."""
    from zhibu.orgs.models import Organization

    g1, g2 = Organization.objects.get(code="SA-B1-G1"), Organization.objects.get(code="SA-B1-G2")
    people = {p.name: p for p in world.people.__dict__.values()}
    for name, person in people.items():
        if person.org_id == world.sa_b1.pk:
            person.group = g1 if name != "张三丰" else g2
            person.save(update_fields=["group"])
    secretary = as_user(world.users.branch_secretary)
    meeting = create(world, org=g1, kind=MeetingKind.GROUP_MEETING, title="第一党小组会")
    services.notice_publish(**secretary, meeting=meeting, now=EARLIER)
    assert recipients(meeting) == ["school_secretary"]  # the group's other member; the secretary acted
    services.meeting_update(**secretary, meeting=meeting, changes={"org": g2}, now=LATER)
    assert recipients(meeting, "uninvited") == ["school_secretary"]
    assert recipients(meeting, "changed") == ["member"]  # the new group's member hears of it
    note = Notification.objects.filter(rule_id="meeting_notice.uninvited").first()
    assert note is not None and "您已不在参会名单中，无需参加" in note.message
