"""iCalendar feeds: a person's meetings and an org's, reached by signed token URLs without a login."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import icalendar
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_person
from zhibu.accounts.models import Grant
from zhibu.life.ical import org_token, person_token
from zhibu.life.models import Attendance, AttendanceRole, Meeting, MeetingKind, MeetingState
from zhibu.life.views_ical import feed_links_for

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def meeting(org, title, *, kind=MeetingKind.GENERAL_ASSEMBLY, invite=(), **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("starts_at", dt.datetime(2026, 3, 10, 15, 0, tzinfo=SHANGHAI))
    m = Meeting.objects.create(org=org, kind=kind, title=title, **kw)
    for person in invite:
        Attendance.objects.create(meeting=m, person=person, role=AttendanceRole.MEMBER)
    return m


def events(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    cal = icalendar.Calendar.from_ical(response.content)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


@pytest.fixture
def meetings(world):  # type: ignore[no-untyped-def]
    member = world.people.member
    return {
        "assembly": meeting(
            world.sa_b1,
            "2026年第一季度支部党员大会",
            invite=[member, world.people.branch_secretary],
            ends_at=dt.datetime(2026, 3, 10, 16, 30, tzinfo=SHANGHAI),
            place="三楼会议室",
            topics="1. 学习党章\n2. 讨论发展对象",
        ),
        "cancelled": meeting(
            world.sa_b1,
            "学习贯彻会议精神",
            kind=MeetingKind.STUDY_SESSION,
            invite=[member],
            state=MeetingState.CANCELLED,
            cancelled_reason="与期中考试冲突",
        ),
        "not_invited": meeting(world.sa_b1, "支委会", kind=MeetingKind.COMMITTEE_MEETING),
        "group": meeting(world.sa_b1_g1, "第一党小组会议", kind=MeetingKind.GROUP_MEETING),
        "branch2": meeting(world.sa_b2, "第二支部党员大会", invite=[world.people.b2]),
        "school_b": meeting(world.sb_b1, "第二小学支部党员大会", invite=[world.people.outsider]),
    }


def person_url(person):  # type: ignore[no-untyped-def]
    return reverse("life:ical_person", args=[person_token(person.pk)])


def org_url(org, user):  # type: ignore[no-untyped-def]
    return reverse("life:ical_org", args=[org_token(org.code, user.pk)])


def uid(m: Meeting) -> str:
    return f"meeting-{m.pk}@zhibu"


def test_a_person_feed_holds_the_meetings_they_are_invited_to(world, meetings, client):
    found = events(client.get(person_url(world.people.member)))
    assert set(found) == {uid(meetings["assembly"]), uid(meetings["cancelled"])}
    event = found[uid(meetings["assembly"])]
    assert event.decoded("DTSTART") == dt.datetime(2026, 3, 10, 15, 0, tzinfo=SHANGHAI)
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert event.decoded("DTEND") == dt.datetime(2026, 3, 10, 16, 30, tzinfo=SHANGHAI)
    assert str(event["SUMMARY"]) == "2026年第一季度支部党员大会"
    assert str(event["LOCATION"]) == "三楼会议室"
    assert "学习党章" in str(event["DESCRIPTION"]) and "第一党支部" in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event.decoded("LAST-MODIFIED") is not None
    cancelled = found[uid(meetings["cancelled"])]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert str(cancelled["SUMMARY"]) == "集中学习：学习贯彻会议精神"
    assert "与期中考试冲突" in str(cancelled["DESCRIPTION"])


def test_the_feed_is_valid_icalendar_with_its_timezone(world, meetings, client):
    body = client.get(person_url(world.people.member)).content.decode()
    assert body.startswith("BEGIN:VCALENDAR") and "VERSION:2.0" in body and "PRODID:" in body
    cal = icalendar.Calendar.from_ical(body)
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]


def test_an_org_feed_holds_its_subtree_and_nothing_of_another_school(world, meetings, client):
    user = world.users.school_secretary
    found = events(client.get(org_url(world.sa, user)))
    expected = {"assembly", "cancelled", "not_invited", "group", "branch2"}
    assert set(found) == {uid(meetings[k]) for k in expected}
    branch = events(client.get(org_url(world.sa_b1, world.users.branch_secretary)))
    assert uid(meetings["branch2"]) not in branch and uid(meetings["group"]) in branch
    assert "第二小学" not in client.get(org_url(world.sa, user)).content.decode()


def test_a_tampered_token_is_not_found(world, meetings, client):
    token = person_token(world.people.member.pk)
    forged = token.replace(f"person:{world.people.member.pk}", f"person:{world.people.outsider.pk}")
    assert client.get(reverse("life:ical_person", args=[forged])).status_code == 404
    assert client.get(reverse("life:ical_person", args=[token + "x"])).status_code == 404
    org = org_token(world.sa.code, world.users.school_secretary.pk)
    assert client.get(reverse("life:ical_org", args=[org.replace("SA", "SB", 1)])).status_code == 404
    # A person's token does not open an org feed, nor the other way round.
    assert client.get(reverse("life:ical_org", args=[token])).status_code == 404
    assert client.get(reverse("life:ical_person", args=[org])).status_code == 404


def test_a_token_made_for_another_user_of_another_school_shows_nothing(world, meetings, client):
    # A link made for the outsider (school B) to school A's org is refused: they do not see it.
    assert client.get(org_url(world.sa, world.users.outsider)).status_code == 404
    # A member sees their branch's meetings they are invited to (their own feed), not the branch's feed.
    assert client.get(org_url(world.sa_b1, world.users.member)).status_code == 404


def test_a_user_who_lost_the_grant_gets_404_for_the_org_feed(world, meetings, client):
    from tests.factories import grant, make_user

    inspector = make_user("inspector")
    grant(inspector, world.sa, "view")
    url = org_url(world.sa, inspector)
    assert client.get(url).status_code == 200
    Grant.objects.filter(user=inspector).delete()
    assert client.get(url).status_code == 404
    grant(inspector, world.sa, "view")
    inspector.is_active = False
    inspector.save()
    assert client.get(url).status_code == 404


def test_the_feeds_take_only_get_and_head(world, client):
    assert client.post(person_url(world.people.member)).status_code == 405
    assert client.head(person_url(world.people.member)).status_code == 200


def test_each_feed_costs_a_constant_number_of_queries(world, client):
    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    member = world.people.member
    user = world.users.school_secretary
    meeting(world.sa_b1, "一", invite=[member])
    before = (count(person_url(member)), count(org_url(world.sa, user)))
    for i in range(5):
        extra = make_person(f"新党员{i}", world.sa_b2)
        meeting(world.sa_b2 if i % 2 else world.sa_b1_g1, f"会议{i}", invite=[member, extra])
    assert (count(person_url(member)), count(org_url(world.sa, user))) == before


def test_feed_links_list_the_own_feed_and_the_orgs_a_user_sees(world, client):
    links = feed_links_for(world.users.branch_secretary)
    assert [link.label for link in links] == ["我的会议（李红梅）", "第一党支部的全部会议"]
    for link in links:
        assert client.get(link.url).status_code == 200
    member_links = feed_links_for(world.users.member)
    assert [link.label for link in member_links] == ["我的会议（张三丰）"]
    assert feed_links_for(world.users.wc_staff)[0].label == "某区教育工委的全部会议"
