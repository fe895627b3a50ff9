"""The demo district: its shape, its people's consistency, its posts and logins, and determinism."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import Counter, defaultdict

import pytest

from zhibu.accounts.models import Grant, User
from zhibu.cli import main
from zhibu.core import idcard
from zhibu.core.scoping import scope_for
from zhibu.demo import DEMO_PASSWORD, REFERENCE_DATE, build_demo, demo_logins, plan_district
from zhibu.demo.plan import add_years, chinese_number
from zhibu.orgs.models import CommitteeTerm, Organization, OrgKind, Post
from zhibu.people.models import MEMBER_STATUSES, PIPELINE_STATUSES, Person, Status, StatusChange
from zhibu.people.status import INITIAL_STATUSES, is_allowed

STAGES = ("applied_on", "activist_on", "candidate_on", "joined_on", "confirmed_on")


def age_on(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# Pure planning: no database ------------------------------------------------------------------------


def test_plan_is_deterministic_and_touches_no_database():
    first = plan_district(schools=3, seed=7)
    again = plan_district(schools=3, seed=7)
    other = plan_district(schools=3, seed=8)
    assert first == again
    assert first != other
    assert [p.name for s in first.schools for p in s.people] == [
        p.name for s in again.schools for p in s.people
    ]
    # A larger district starts with the same first school.
    assert plan_district(schools=5, seed=7).schools[0] == first.schools[0]


def test_plan_ids_unique_and_valid_across_a_large_district():
    plan = plan_district(schools=60, seed=1)
    ids = [p.id_number for s in plan.schools for p in s.people]
    assert len(ids) == len(set(ids))
    assert all(idcard.validate(i) is None for i in ids)
    names = [s.school.name for s in plan.schools]
    assert len(names) == len(set(names))


def test_chinese_numbers():
    assert [chinese_number(n) for n in (1, 10, 12, 20, 21, 100, 105, 110, 999, 1010, 2000, 1305)] == [
        "一",
        "十",
        "十二",
        "二十",
        "二十一",
        "一百",
        "一百零五",
        "一百一十",
        "九百九十九",
        "一千零一十",
        "二千",
        "一千三百零五",
    ]


# The written district ------------------------------------------------------------------------------


@pytest.fixture
def demo(db):  # type: ignore[no-untyped-def]
    return build_demo(schools=2, seed=7)


def test_result_counts(demo):
    assert demo.schools == 2
    assert demo.orgs == Organization.objects.count()
    assert demo.people == Person.objects.count()
    assert demo.seconds > 0


def test_org_tree(demo):
    wc = Organization.objects.get(kind=OrgKind.WORK_COMMITTEE)
    assert wc.code == "WC" and wc.path == "/WC/" and wc.depth == 0 and wc.parent is None
    assert wc.name.endswith("教育工作委员会")
    schools = list(Organization.objects.filter(is_school=True))
    assert len(schools) == 2
    assert len({s.name for s in schools}) == 2
    for org in Organization.objects.select_related("parent"):
        if org.parent is not None:
            assert org.path == f"{org.parent.path}{org.code}/"
        assert org.depth == org.path.count("/") - 2
    for school in schools:
        assert school.kind in (OrgKind.COMMITTEE, OrgKind.GENERAL_BRANCH)
        assert school.parent == wc
        assert re.fullmatch(r"S\d{3}", school.code)
        branches = list(school.children.all())
        assert 2 <= len(branches) <= 4
        for branch in branches:
            assert branch.kind == OrgKind.BRANCH
            assert re.fullmatch(rf"{school.code}-B\d", branch.code)
            groups = list(branch.children.all())
            assert 1 <= len(groups) <= 3
            assert all(g.kind == OrgKind.GROUP for g in groups)
            assert all(re.fullmatch(rf"{branch.code}-G\d", g.code) for g in groups)
        # A 5-year term for a 党委, 3 for a 党总支; one current term.
        current = school.terms.filter(ended_on__isnull=True)
        assert current.count() == 1
        assert current.get().length_years == (5 if school.kind == OrgKind.COMMITTEE else 3)
    for term in CommitteeTerm.objects.filter(org__kind=OrgKind.BRANCH):
        assert term.length_years == 3
    assert CommitteeTerm.objects.filter(ended_on__isnull=True, started_on__gt=REFERENCE_DATE).count() == 0


def test_people_cover_every_status_and_flag(demo):
    for school in Organization.objects.filter(is_school=True):
        assert 40 <= Person.objects.filter(org__path__startswith=school.path).count() <= 80
    statuses = set(Person.objects.values_list("status", flat=True))
    assert set(PIPELINE_STATUSES) | set(MEMBER_STATUSES) <= statuses
    people = Person.objects.all()
    assert people.filter(employment="retired").exists()
    assert people.filter(backbone_teacher=True).exists()
    assert people.filter(in_need=True).exists()
    assert not people.filter(in_need=True, in_need_note="").exists()
    assert people.filter(relationship_transferred_in=False).exists()
    assert people.filter(volunteer=True).exclude(volunteer_skills="").exists()
    assert not people.filter(volunteer=True, volunteer_skills="").exists()
    assert Person.objects.filter(org__kind=OrgKind.BRANCH).count() == Person.objects.count()


def test_people_are_consistent(demo):
    people = list(Person.objects.select_related("org", "group"))
    digests = [p.id_number_digest for p in people]
    assert len(set(digests)) == len(digests)
    ethnicities = Counter(p.ethnicity for p in people)
    assert ethnicities.most_common(1)[0][0] == "汉族"
    for p in people:
        assert 2 <= len(p.name) <= 4, p.name
        assert p.name_pinyin and p.name_initials
        assert idcard.validate(p.id_number) is None, p.id_number
        assert idcard.birth_date(p.id_number) == p.birth_date
        assert idcard.gender(p.id_number) == p.gender
        assert re.fullmatch(r"1[3-9]\d{9}", p.phone), p.phone
        assert p.birth_date is not None
        age = age_on(p.birth_date, REFERENCE_DATE)
        if p.employment == "retired":
            assert age >= 60
        else:
            assert 22 <= age <= 60
        if p.status == Status.APPLICANT:
            assert age >= 22
        dates = [getattr(p, f) for f in STAGES]
        present = [d for d in dates if d is not None]
        assert present == sorted(present), (p.name, dates)
        assert all(d <= REFERENCE_DATE for d in present)
        assert p.applied_on is not None and p.applied_on >= add_years(p.birth_date, 18)
        # The dates a status needs are there, and no later ones.
        needed = {
            Status.APPLICANT: 1,
            Status.ACTIVIST: 2,
            Status.CANDIDATE: 3,
            Status.PROBATIONARY: 4,
        }.get(Status(p.status), 5)
        assert all(d is not None for d in dates[:needed]), (p.name, p.status, dates)
        assert all(d is None for d in dates[needed:]), (p.name, p.status, dates)
        if p.status == Status.PROBATIONARY:
            assert p.joined_on is not None and (REFERENCE_DATE - p.joined_on).days <= 365
        if p.confirmed_on is not None:
            assert p.joined_on is not None and p.confirmed_on == add_years(p.joined_on, 1)
        assert p.org.kind == OrgKind.BRANCH
        if p.group is not None:
            assert p.group.parent_id == p.org_id
        if p.status in (*MEMBER_STATUSES, Status.SUSPENDED):
            assert p.group is not None


def test_every_person_has_the_status_changes_that_led_there(demo):
    changes: dict[int, list[StatusChange]] = defaultdict(list)
    for c in StatusChange.objects.order_by("person_id", "effective_on", "id"):
        changes[c.person_id].append(c)
    people = list(Person.objects.all())
    assert len(changes) == len(people)
    for p in people:
        rows = changes[p.pk]
        assert rows[0].from_status == "" and rows[0].to_status in INITIAL_STATUSES
        for before, after in itertools.pairwise(rows):
            assert after.from_status == before.to_status
            assert is_allowed(before.to_status, after.to_status)
            assert after.effective_on >= before.effective_on
        assert rows[-1].to_status == p.status
        assert rows[-1].effective_on <= REFERENCE_DATE
        assert all(c.reason for c in rows)


def test_posts_are_held_by_full_members_of_the_subtree(demo):
    posts = list(Post.objects.select_related("org", "org__parent", "person", "person__org", "term"))
    assert posts
    for post in posts:
        home = post.org.parent if post.org.kind == OrgKind.GROUP else post.org
        assert post.person.org.path.startswith(home.path), (post, post.person.org.path)
        assert post.person.status == Status.FULL_MEMBER
        assert post.person.confirmed_on is not None and post.person.confirmed_on <= post.started_on
        assert post.started_on <= REFERENCE_DATE and post.ended_on is None
        if post.term is not None:
            assert post.term.org_id == post.org_id and post.term.ended_on is None
        if post.org.kind == OrgKind.GROUP:
            assert post.role == "group_leader" and post.person.group_id == post.org_id
    by_org: dict[int, list[str]] = defaultdict(list)
    for post in posts:
        by_org[post.org_id].append(post.role)
    for org in Organization.objects.exclude(kind=OrgKind.WORK_COMMITTEE):
        roles = by_org[org.pk]
        if org.is_school:
            assert sorted(roles) == sorted(
                [
                    "secretary",
                    "deputy_secretary",
                    "organization_officer",
                    "publicity_officer",
                    "discipline_officer",
                ]
            )
        elif org.kind == OrgKind.BRANCH:
            assert roles.count("secretary") == 1
        else:
            assert roles == ["group_leader"]


def test_logins(demo):
    users = {u.username: u for u in User.objects.select_related("person", "person__org")}
    assert set(users) == {"wc_staff", "school_secretary", "branch_secretary", "member", "activist"}
    assert all(u.check_password(DEMO_PASSWORD) for u in users.values())
    assert len({u.password for u in users.values()}) == 1  # hashed once
    school = Organization.objects.get(code="S001")
    first_branch = Organization.objects.get(code="S001-B1")

    staff = users["wc_staff"]
    assert staff.person is None
    assert Grant.objects.filter(user=staff, org__code="WC", role="manage").exists()
    assert scope_for(staff).can_manage_path("/WC/S002/")

    secretary = users["school_secretary"]
    assert Post.objects.filter(person=secretary.person, org=school, role="secretary").exists()
    assert secretary.has_perm("accounts.reveal_id_number")
    assert not users["branch_secretary"].has_perm("accounts.reveal_id_number")
    assert scope_for(secretary).can_manage_org(school)

    branch_secretary = users["branch_secretary"]
    assert Post.objects.filter(person=branch_secretary.person, org=first_branch, role="secretary").exists()
    scope = scope_for(branch_secretary)
    assert scope.can_manage_org(first_branch)
    assert not scope.can_manage_path("/WC/S002/")

    member = users["member"].person
    assert member is not None and member.org == first_branch and member.status == Status.FULL_MEMBER
    assert not Post.objects.filter(person=member).exists()
    activist = users["activist"].person
    assert activist is not None and activist.org == first_branch and activist.status == Status.ACTIVIST

    assert demo.logins == demo_logins()
    assert [u for u, _, _ in demo.logins] == [
        "wc_staff",
        "school_secretary",
        "branch_secretary",
        "member",
        "activist",
    ]


def test_demo_logins_empty_without_demo(db):
    assert demo_logins() == []


def test_force_appends_a_second_district(demo):
    again = build_demo(schools=1, seed=7)
    assert Organization.objects.filter(parent__isnull=True).count() == 2
    assert Organization.objects.filter(code="WC2").exists()
    assert again.logins[0][0] == "wc_staff2"
    assert User.objects.filter(username="member2").exists()


def test_cli_refuses_a_non_empty_database(world, capsys):
    assert main(["demo"]) == 2
    assert "--force" in capsys.readouterr().err
    assert Organization.objects.filter(is_school=True).count() == 2  # untouched


def test_cli_rejects_a_silly_school_count(capsys):
    assert main(["demo", "--schools", "0"]) == 2
