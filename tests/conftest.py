"""Shared personas and a small two-school district.

    WC  教育工委
    ├── SA  第一中学党委 (school A)
    │   ├── SA-B1 第一党支部 ── SA-B1-G1, SA-B1-G2 (groups)
    │   └── SA-B2 第二党支部
    └── SB  第二小学党总支 (school B)
        └── SB-B1 第一党支部

Personas: wc_staff (manages WC), school_secretary (SA), branch_secretary (SA-B1), member (SA-B1),
activist (SA-B1), outsider (secretary of SB-B1, school B). Password for all: correct-horse-9.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from tests.factories import grant, make_org, make_person, make_post, make_user
from zhibu.orgs.models import OrgKind
from zhibu.people.models import Status

PASSWORD = "correct-horse-9"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _calendar_knows_this_year(request):  # type: ignore[no-untyped-def]
    """From 1 January of a year chinesecalendar does not know yet (until its update for the year is pinned),
    the test database holds the year as an administrator enters it in 工作日历, so that tests dated "now"
    keep running (meetings in a year the calendar does not know are refused). Tests about an unknown year
    name one explicitly and clear it first (`forget_year`)."""
    from zhibu.core.calendar import package_knows_year

    year = dt.date.today().year
    uses_db = request.node.get_closest_marker("django_db") is not None or any(
        f in request.fixturenames for f in ("db", "transactional_db", "world", "live_server")
    )
    if package_knows_year(year) or not uses_db:
        return
    from zhibu.core.models import CalendarYear

    request.getfixturevalue("django_db_setup")  # the test database, never the real one
    with request.getfixturevalue("django_db_blocker").unblock():
        CalendarYear.objects.get_or_create(year=year, defaults={"note": "测试：本年放假安排尚未收录"})


def forget_year(year: int) -> None:
    """Make sure the calendar does not know `year` (see _calendar_knows_this_year)."""
    from zhibu.core.models import CalendarYear

    CalendarYear.objects.filter(year=year).delete()


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    wc = make_org("WC", "某区教育工委", OrgKind.WORK_COMMITTEE)
    sa = make_org("SA", "第一中学党委", OrgKind.COMMITTEE, wc, is_school=True)
    sa_b1 = make_org("SA-B1", "第一党支部", OrgKind.BRANCH, sa)
    sa_b1_g1 = make_org("SA-B1-G1", "第一党小组", OrgKind.GROUP, sa_b1)
    sa_b1_g2 = make_org("SA-B1-G2", "第二党小组", OrgKind.GROUP, sa_b1)
    sa_b2 = make_org("SA-B2", "第二党支部", OrgKind.BRANCH, sa)
    sb = make_org("SB", "第二小学党总支", OrgKind.GENERAL_BRANCH, wc, is_school=True)
    sb_b1 = make_org("SB-B1", "第一党支部", OrgKind.BRANCH, sb)

    p_school_sec = make_person("王建国", sa_b1, birth_date=dt.date(1970, 3, 2))
    p_branch_sec = make_person("李红梅", sa_b1, birth_date=dt.date(1978, 5, 6))
    p_member = make_person(
        "张三丰", sa_b1, group=sa_b1_g1, phone="13812345678", birth_date=dt.date(1990, 1, 9)
    )
    p_activist = make_person("曾小单", sa_b1, status=Status.ACTIVIST, birth_date=dt.date(1998, 7, 1))
    p_b2 = make_person("赵六", sa_b2)
    p_outsider = make_person("钱七", sb_b1)
    p_other = make_person("孙八", sb_b1)

    make_post(sa, p_school_sec, "secretary")
    make_post(sa_b1, p_branch_sec, "secretary")
    make_post(sb_b1, p_outsider, "secretary")

    wc_staff = make_user("wc_staff")
    grant(wc_staff, wc, "manage")
    users = SimpleNamespace(
        wc_staff=wc_staff,
        school_secretary=make_user("school_secretary", p_school_sec),
        branch_secretary=make_user("branch_secretary", p_branch_sec),
        member=make_user("member", p_member),
        activist=make_user("activist", p_activist),
        outsider=make_user("outsider", p_outsider),
    )
    return SimpleNamespace(
        wc=wc,
        sa=sa,
        sa_b1=sa_b1,
        sa_b1_g1=sa_b1_g1,
        sa_b1_g2=sa_b1_g2,
        sa_b2=sa_b2,
        sb=sb,
        sb_b1=sb_b1,
        people=SimpleNamespace(
            school_secretary=p_school_sec,
            branch_secretary=p_branch_sec,
            member=p_member,
            activist=p_activist,
            b2=p_b2,
            outsider=p_outsider,
            other=p_other,
        ),
        users=users,
    )


@pytest.fixture
def scope_of():  # type: ignore[no-untyped-def]
    """scope_of(user) → that user's Scope, fresh from the database."""
    from zhibu.core.scoping import scope_for

    return scope_for


@pytest.fixture
def client_as(client):  # type: ignore[no-untyped-def]
    """client_as(user) → the test client logged in as that user."""

    def login(user):  # type: ignore[no-untyped-def]
        client.force_login(user)
        return client

    return login
