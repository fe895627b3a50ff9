"""iCalendar feeds: a person's meetings and an org's, reached by signed token URLs without a login."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import icalendar
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_person
from zhibu.accounts.models import Grant
from zhibu.life.ical import feed_key_for, org_token, person_token
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
    """The person's feed, made for their own user with that user's current key."""
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


# Feed keys: the token names the user and their current key -------------------------------------------

FEEDS = "/life/feeds/"
RESET = "/life/feeds/reset/"


def sign(value: str) -> str:
    from django.core import signing

    from zhibu.life.ical import SALT

    return signing.Signer(salt=SALT).sign(value)


def key_of(user) -> str:  # type: ignore[no-untyped-def]
    return feed_key_for(user.pk).key


def page_urls(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    return re.findall(
        r'<input id="feed-url-[^"]+" type="url" readonly value="([^"]+)"', response.content.decode()
    )


def test_the_routes_are_named_as_the_lead_links_them():
    assert (reverse("life:feeds"), reverse("life:feeds_reset")) == (FEEDS, RESET)


def test_tokens_of_the_old_two_and_three_part_form_are_not_found(world, meetings, client):
    member = world.users.member
    assert client.get(person_url(world.people.member)).status_code == 200
    old_person = sign(f"person:{world.people.member.pk}")
    old_org = sign(f"org:{world.sa.code}:{world.users.school_secretary.pk}")
    assert client.get(reverse("life:ical_person", args=[old_person])).status_code == 404
    assert client.get(reverse("life:ical_org", args=[old_org])).status_code == 404
    # Nor a person token without the key, or with an empty one.
    no_key = sign(f"person:{world.people.member.pk}:{member.pk}")
    empty_key = sign(f"person:{world.people.member.pk}:{member.pk}:")
    for token in (no_key, empty_key):
        assert client.get(reverse("life:ical_person", args=[token])).status_code == 404


def test_a_person_feed_opens_only_for_the_user_whose_person_it_is(world, meetings, client):
    member, secretary = world.users.member, world.users.branch_secretary
    own = person_token(world.people.member.pk, member.pk, key_of(member))
    assert client.get(reverse("life:ical_person", args=[own])).status_code == 200
    # The secretary's own valid key does not make the member's person feed theirs.
    theirs = person_token(world.people.member.pk, secretary.pk, key_of(secretary))
    assert client.get(reverse("life:ical_person", args=[theirs])).status_code == 404


def test_a_user_of_school_a_cannot_read_school_b_with_a_token_forged_from_another_users_key(
    world, meetings, client
):
    a, b = world.users.school_secretary, world.users.outsider

    def url(user_id: int, key: str) -> str:
        return reverse("life:ical_org", args=[org_token(world.sb_b1.code, user_id, key)])

    # The link school B's secretary really has works, for them.
    assert "第二小学支部党员大会" in client.get(url(b.pk, key_of(b))).content.decode()
    # School A's user with B's user id and A's own key, with A's id and B's key, or with A's id and key.
    assert client.get(url(b.pk, key_of(a))).status_code == 404
    assert client.get(url(a.pk, key_of(b))).status_code == 404
    assert client.get(url(a.pk, key_of(a))).status_code == 404
    # A's own valid link with school B's code put in breaks the signature.
    own = org_token(world.sa.code, a.pk, key_of(a))
    assert (
        client.get(reverse("life:ical_org", args=[own.replace("org:SA:", "org:SB-B1:", 1)])).status_code
        == 404
    )


def test_a_disabled_users_feeds_are_not_found(world, meetings, client):
    secretary = world.users.branch_secretary
    urls = [person_url(world.people.branch_secretary), org_url(world.sa_b1, secretary)]
    assert [client.get(u).status_code for u in urls] == [200, 200]
    secretary.is_active = False
    secretary.save()
    assert [client.get(u).status_code for u in urls] == [404, 404]


def test_the_feed_is_never_stored_by_a_cache(world, meetings, client):
    response = client.get(person_url(world.people.member))
    assert "no-store" in response["Cache-Control"]


# The page ---------------------------------------------------------------------------------------------


def test_the_page_needs_a_login(world, client):
    response = client.get(FEEDS)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_subscribe_url_from_the_page_works_without_a_login(world, meetings, client_as):
    client = client_as(world.users.branch_secretary)
    response = client.get(FEEDS)
    assert "no-store" in response["Cache-Control"]
    urls = page_urls(response)
    assert len(urls) == 2 and all(u.startswith("http://testserver/life/ical/") for u in urls)
    page = response.content.decode()
    assert "设置 → 日历 → 账户 → 添加账户 → 其他 → 添加已订阅的日历" in page
    assert "从 URL 添加" in page and "不用登录就能看到其中会议的时间、地点" in page
    client.logout()
    person, org = (events(client.get(u)) for u in urls)
    assert uid(meetings["assembly"]) in person and uid(meetings["not_invited"]) not in person
    assert uid(meetings["not_invited"]) in org and uid(meetings["branch2"]) not in org


def test_a_plain_member_sees_only_their_own_meetings_feed(world, meetings, client_as):
    response = client_as(world.users.member).get(FEEDS)
    urls = page_urls(response)
    assert len(urls) == 1 and "/life/ical/person/" in urls[0]
    assert "我的会议（张三丰）" in response.content.decode()


def test_a_user_without_a_person_gets_the_org_feeds(world, meetings, client_as):
    response = client_as(world.users.wc_staff).get(FEEDS)
    urls = page_urls(response)
    assert len(urls) == 1 and "/life/ical/org/" in urls[0]
    page = response.content.decode()
    assert "某区教育工委的全部会议" in page and "没有关联人员档案" in page
    client_as(world.users.wc_staff).logout()
    assert uid(meetings["school_b"]) in events(client_as(world.users.wc_staff).get(urls[0]))


def test_a_user_with_no_feeds_is_told_why(world, client_as):
    from tests.factories import make_user

    response = client_as(make_user("nobody")).get(FEEDS)
    assert page_urls(response) == []
    page = response.content.decode()
    assert "您暂时没有可以订阅的会议日历" in page and "重新生成链接" not in page


def test_the_page_never_shows_another_users_links(world, client_as):
    from zhibu.life.ical import read_token

    others = {
        u.pk: key_of(u) for u in (world.users.member, world.users.school_secretary, world.users.outsider)
    }
    viewer = world.users.branch_secretary
    page = client_as(viewer).get(FEEDS)
    text = page.content.decode()
    assert not any(key in text for key in others.values())
    for url in page_urls(page):
        token = url.rsplit("/", 1)[1].removesuffix(".ics")
        parsed = read_token(token)
        assert parsed is not None and (parsed.user_id, parsed.key) == (viewer.pk, key_of(viewer))


def test_the_page_takes_the_same_queries_for_one_org_or_many(world, client_as):
    from tests.factories import grant, make_org, make_user
    from zhibu.orgs.models import OrgKind

    inspector = make_user("inspector")
    grant(inspector, world.sa_b1, "view")
    client = client_as(inspector)
    client.get(FEEDS)  # warm the session; the first visit also makes the feed key

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            urls = page_urls(client.get(FEEDS))
        return len(ctx.captured_queries), len(urls)

    few, shown = count()
    for i in range(3):
        grant(
            inspector,
            make_org(f"X{i}", f"第{i}中学党委", OrgKind.COMMITTEE, world.wc, is_school=True),
            "view",
        )
    many, shown_many = count()
    assert (shown, shown_many) == (1, 4)
    assert many == few


# Reset ------------------------------------------------------------------------------------------------


def test_reset_stops_every_old_link_at_once_and_the_new_links_work(world, meetings, client_as):
    from zhibu.core.models import AuditEntry
    from zhibu.life.models import FeedKey

    secretary = world.users.branch_secretary
    client = client_as(secretary)
    old = page_urls(client.get(FEEDS))
    old_key = key_of(secretary)
    response = client.post(RESET, follow=True)
    assert "旧链接已全部失效" in response.content.decode()
    new = page_urls(response)
    assert len(new) == len(old) == 2 and not set(new) & set(old)
    client.logout()
    assert [client.get(u).status_code for u in old] == [404, 404]
    assert [client.get(u).status_code for u in new] == [200, 200]
    entry = AuditEntry.objects.get(object_type="life.feedkey", actor=secretary)
    assert entry.object_id == str(FeedKey.objects.get(user=secretary).pk)
    assert entry.org_path == world.sa_b1.path and "重新生成" in entry.note
    logged = f"{entry.changes} {entry.note} {entry.object_repr}"
    assert old_key not in logged and key_of(secretary) not in logged


def test_reset_takes_only_a_post(world, client_as):
    from zhibu.core.models import AuditEntry

    client = client_as(world.users.member)
    key = key_of(world.users.member)
    assert client.get(RESET).status_code == 405
    client.logout()
    response = client.post(RESET)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert key_of(world.users.member) == key
    assert not AuditEntry.objects.filter(object_type="life.feedkey").exists()


def test_reset_needs_the_csrf_token(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users.member)
    key = key_of(world.users.member)
    assert client.post(RESET).status_code == 403
    assert key_of(world.users.member) == key


def test_nobody_resets_another_users_key(world):
    from zhibu.core.errors import NotPermitted
    from zhibu.core.models import AuditEntry
    from zhibu.life.ical import feed_key_reset

    key = key_of(world.users.member)
    with pytest.raises(NotPermitted):
        feed_key_reset(actor=world.users.branch_secretary, user=world.users.member)
    assert key_of(world.users.member) == key
    assert not AuditEntry.objects.filter(object_type="life.feedkey").exists()
