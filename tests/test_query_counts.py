"""Every main page and API list runs the same number of queries for a small school and a bigger one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_org, make_person, make_post
from zhibu.compliance.services import evaluation_run
from zhibu.orgs.models import CommitteeTerm, OrgKind

PAGES = [
    "/",
    "/orgs/",
    "/orgs/SA/",
    "/orgs/SA-B1/",
    "/people/",
    "/people/?q=zsf",
    "/accounts/",
    "/tokens/",
    "/policy/SA/",
    "/policy/rules/",
    "/policy/board/SA/",
    "/policy/board/SA-B1/",
    "/policy/me/",
    "/policy/notifications/",
    "/calendar/2026/",
    "/calendar/semesters/SA/",
    "/api/v1/people/",
    "/api/v1/orgs/",
    "/api/v1/orgs/SA/",
    "/api/v1/findings/?org=SA",
]


def _counts(client, person_pk):  # type: ignore[no-untyped-def]
    out = {}
    for url in [*PAGES, f"/people/{person_pk}/"]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, url
        out[url.replace(str(person_pk), "<pk>")] = len(ctx)
    return out


def _grow(world):  # type: ignore[no-untyped-def]
    """Five more branches with groups, posts, terms and forty more people in school A."""
    for b in range(5):
        branch = make_org(f"SA-X{b}", f"新建第{b}党支部", OrgKind.BRANCH, world.sa)
        group = make_org(f"SA-X{b}-G", f"新建第{b}党小组", OrgKind.GROUP, branch)
        people = [make_person(f"新人{b}{i}", branch, group=group) for i in range(8)]
        make_post(branch, people[0], "secretary")
        make_post(branch, people[1], "organization_officer")
        CommitteeTerm.objects.create(org=branch, started_on=dt.date(2024, 1, 1), length_years=3)


@pytest.mark.parametrize("persona", ["school_secretary", "wc_staff"])
def test_pages_do_not_run_more_queries_for_a_bigger_school(world, scope_of, client_as, persona):
    user = getattr(world.users, persona)
    evaluation_run(
        actor=world.users.wc_staff,
        scope=scope_of(world.users.wc_staff),
        org=world.wc,
        year=dt.date.today().year,
    )
    client = client_as(user)
    small = _counts(client, world.people.member.pk)
    _grow(world)
    evaluation_run(
        actor=world.users.wc_staff,
        scope=scope_of(world.users.wc_staff),
        org=world.wc,
        year=dt.date.today().year,
    )
    big = _counts(client, world.people.member.pk)
    grew = {url: (small[url], big[url]) for url in small if big[url] != small[url]}
    assert not grew, f"pages whose queries grew with the data (small, big): {grew}"


def _development_counts(client, case_pks):  # type: ignore[no-untyped-def]
    out = {}
    urls = ["/development/?org=SA", "/development/?org=SA-B1", "/development/plan/?org=SA-B1"]
    urls += [f"/development/cases/{pk}/" for pk in case_pks]
    for url in urls:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, url
        out[url] = len(ctx)
    return out


def test_development_board_and_case_page_do_not_run_more_queries_for_more_cases(world, client_as):
    """The board builds every timeline in memory; a case page reads the same whatever its length."""
    from tests.development.pipeline import applicant, drive

    short = drive(world, applicant(world, "甲短"), until="application_talk")
    long = drive(world, applicant(world, "乙长"), until="oath")
    client = client_as(world.users.school_secretary)
    small = _development_counts(client, [short.pk])
    # The case page of a long case (votes, mentors, sponsors) runs what a short one runs.
    assert (
        _development_counts(client, [long.pk])[f"/development/cases/{long.pk}/"]
        == small[f"/development/cases/{short.pk}/"]
    )
    _grow(world)
    for i, until in enumerate(("activist_review", "candidate_designation", "publicity", "approval", None)):
        drive(world, applicant(world, f"丙{i}"), until=until)
    for i in range(3):
        branch_person = make_person(f"丁{i}", world.sa_b2, status="applicant", birth_date=dt.date(2000, 1, 1))
        drive(world, branch_person, until="mentor_assignment")
    big = _development_counts(client, [short.pk])
    grew = {url: (small[url], big[url]) for url in small if big[url] != small[url]}
    assert not grew, f"development pages whose queries grew with the cases (small, big): {grew}"


def _life_counts(client, meeting_pk, year):  # type: ignore[no-untyped-def]
    out = {}
    urls = [
        f"/life/meetings/?org=SA&year={year}",
        f"/life/meetings/?org=SA-B1&year={year}",
        "/life/plan/?org=SA-B1&year=2026",
        f"/life/meetings/{meeting_pk}/",
        f"/life/meetings/{meeting_pk}/edit/",
    ]
    for url in urls:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, url
        out[url.replace(f"/{meeting_pk}/", "/<pk>/")] = len(ctx)
    return out


def test_meeting_pages_do_not_run_more_queries_for_more_meetings_or_invitees(world, scope_of, client_as):
    """The year's list counts attendance in one query; a meeting's page reads its roll in one."""
    from django.utils import timezone

    from zhibu.life import services, voting
    from zhibu.life.models import AttendanceState, MeetingKind

    user = world.users.branch_secretary
    scope = scope_of(user)
    now = timezone.now()

    def meeting(org, title):  # type: ignore[no-untyped-def]
        m = services.meeting_create(
            actor=user if org == world.sa_b1 else world.users.wc_staff,
            scope=scope if org == world.sa_b1 else scope_of(world.users.wc_staff),
            org=org,
            kind=MeetingKind.GENERAL_ASSEMBLY,
            title=title,
            starts_at=now - dt.timedelta(hours=1),
            now=now - dt.timedelta(days=10),
        )
        states = {pk: AttendanceState.PRESENT for pk in m.attendances.values_list("person_id", flat=True)}
        services.attendance_mark(actor=user, scope=scope_of(world.users.wc_staff), meeting=m, states=states)
        return m

    def with_vote(m):  # type: ignore[no-untyped-def]
        voting.vote_open(actor=user, scope=scope, meeting=m, title="表决年度计划", secret=False)
        services.minutes_record(
            actor=user,
            scope=scope,
            meeting=m,
            topics=["学习"],
            chair=world.people.branch_secretary,
            recorder=world.people.member,
        )
        return m

    first = with_vote(meeting(world.sa_b1, "第一次支部党员大会"))
    year = timezone.localtime(first.starts_at).year
    client = client_as(world.users.school_secretary)
    small = _life_counts(client, first.pk, year)
    _grow(world)
    for i in range(8):
        make_person(f"新党员{i}", world.sa_b1)
    bigger = with_vote(meeting(world.sa_b1, "第二次支部党员大会"))
    assert bigger.attendances.count() > first.attendances.count() + 5
    for b in range(3):
        meeting(world.sa.children.get(code=f"SA-X{b}"), f"新建第{b}党支部党员大会")
    big = _life_counts(client, bigger.pk, year)
    grew = {url: (small[url], big[url]) for url in small if big[url] != small[url]}
    assert not grew, f"meeting pages whose queries grew with the data (small, big): {grew}"


def test_meeting_member_and_api_pages_read_one_open_vote_or_five_in_the_same_queries(
    world, scope_of, client_as
):
    """Results and ballot states are read for all the votes of a page at once (vote_results,
    my_ballot_states), so a meeting with five open votes costs what one with a single vote does."""
    from django.utils import timezone

    from zhibu.life import services, voting
    from zhibu.life.models import AttendanceState, MeetingKind

    user = world.users.branch_secretary
    scope = scope_of(user)
    now = timezone.now()
    meeting = services.meeting_create(
        actor=user,
        scope=scope,
        org=world.sa_b1,
        kind=MeetingKind.GENERAL_ASSEMBLY,
        title="支部党员大会",
        starts_at=now - dt.timedelta(minutes=30),
        ends_at=now + dt.timedelta(hours=2),
        now=now - dt.timedelta(days=3),
    )
    services.notice_publish(actor=user, scope=scope, meeting=meeting, now=now - dt.timedelta(days=2))
    states = {pk: AttendanceState.PRESENT for pk in meeting.attendances.values_list("person_id", flat=True)}
    services.attendance_mark(actor=user, scope=scope, meeting=meeting, states=states)

    def add_vote(i: int) -> None:
        vote = voting.vote_open(
            actor=user, scope=scope, meeting=meeting, title=f"表决事项{i}", secret=i % 2 == 0
        )
        voting.ballot_cast(actor=world.users.school_secretary, vote=vote, choice="in_favour")
        if i % 3 == 0:
            voting.ballot_cast(actor=world.users.member, vote=vote, choice="against")

    urls = {
        world.users.branch_secretary: [
            f"/life/meetings/{meeting.pk}/",
            f"/api/v1/life/meetings/{meeting.pk}/",
        ],
        world.users.member: [
            "/life/me/",
            f"/life/meetings/{meeting.pk}/",
            f"/api/v1/life/meetings/{meeting.pk}/",
        ],
    }
    clients = {u: client_as(u) for u in urls}

    def counts() -> dict[str, int]:
        out = {}
        for u, client in clients.items():
            for url in urls[u]:
                with CaptureQueriesContext(connection) as ctx:
                    response = client.get(url)
                assert response.status_code == 200, url
                out[f"{u.username} {url}"] = len(ctx)
        return out

    add_vote(0)
    counts()  # warm sessions and caches
    one = counts()
    for i in range(1, 5):
        add_vote(i)
    five = counts()
    grew = {url: (one[url], five[url]) for url in one if five[url] != one[url]}
    assert not grew, f"pages whose queries grew with the open votes (one vote, five): {grew}"
