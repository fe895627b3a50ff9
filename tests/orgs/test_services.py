import datetime as dt

import pytest

from tests.factories import make_person
from zhibu.core.errors import NotPermitted, ServiceError
from zhibu.core.models import AuditEntry
from zhibu.orgs.models import CommitteeTerm, Organization, Post
from zhibu.orgs.services import org_create, org_update, post_assign, post_end, term_create
from zhibu.people.models import Status


def test_school_secretary_adds_a_branch_and_it_is_audited(world, scope_of):
    actor = world.users.school_secretary
    org = org_create(
        actor=actor, scope=scope_of(actor), parent=world.sa, code="SA-B3", name="第三党支部", kind="branch"
    )
    assert org.path == "/WC/SA/SA-B3/" and org.depth == 2
    assert Organization.objects.subtree(world.sa).filter(pk=org.pk).exists()
    assert AuditEntry.objects.filter(
        object_type="orgs.organization", object_id=str(org.pk), action="create"
    ).exists()


@pytest.mark.parametrize(
    "parent_attr, code, kind, fragment",
    [
        ("sa", "SA-B1", "branch", "已被使用"),
        ("sa", "bad code!", "branch", "字母、数字和短横线"),
        ("sa_b1", "SA-B1-X", "branch", "党支部下不能设党支部"),
        ("sa", "SA-G", "group", "党委下不能设党小组"),
    ],
)
def test_refuses_invalid_orgs_and_writes_nothing(world, scope_of, parent_attr, code, kind, fragment):
    actor = world.users.school_secretary
    before = Organization.objects.count(), AuditEntry.objects.count()
    with pytest.raises(ServiceError) as exc:
        org_create(
            actor=actor,
            scope=scope_of(actor),
            parent=getattr(world, parent_attr),
            code=code,
            name="新组织",
            kind=kind,
        )
    assert fragment in exc.value.message
    assert (Organization.objects.count(), AuditEntry.objects.count()) == before


def test_branch_secretary_cannot_add_under_the_school(world, scope_of):
    actor = world.users.branch_secretary
    with pytest.raises(NotPermitted):
        org_create(actor=actor, scope=scope_of(actor), parent=world.sa, code="SA-B9", name="x", kind="branch")


def test_update_changes_name_only_for_managers(world, scope_of):
    actor = world.users.branch_secretary
    org_update(actor=actor, scope=scope_of(actor), org=world.sa_b1, data={"name": "语文党支部"})
    world.sa_b1.refresh_from_db()
    assert world.sa_b1.name == "语文党支部"
    with pytest.raises(NotPermitted):
        org_update(actor=actor, scope=scope_of(actor), org=world.sa_b2, data={"name": "x"})
    with pytest.raises(ServiceError):
        org_update(actor=actor, scope=scope_of(actor), org=world.sa_b1, data={"code": "NEW"})


def test_post_assign_checks_membership_place_and_one_secretary(world, scope_of):
    actor = world.users.school_secretary
    scope = scope_of(actor)
    with pytest.raises(ServiceError, match="已有书记"):
        post_assign(
            actor=actor,
            scope=scope,
            org=world.sa_b1,
            person=world.people.member,
            role="secretary",
            started_on=dt.date(2025, 1, 1),
        )
    with pytest.raises(ServiceError, match="不在"):
        post_assign(
            actor=actor,
            scope=scope,
            org=world.sa_b2,
            person=world.people.member,
            role="organization_officer",
            started_on=dt.date(2025, 1, 1),
        )
    with pytest.raises(ServiceError, match="只有党员"):
        post_assign(
            actor=actor,
            scope=scope,
            org=world.sa_b1,
            person=world.people.activist,
            role="publicity_officer",
            started_on=dt.date(2025, 1, 1),
        )
    probationary = make_person("吴预备", world.sa_b1, status=Status.PROBATIONARY)
    with pytest.raises(ServiceError, match="预备党员不能担任委员"):
        post_assign(
            actor=actor,
            scope=scope,
            org=world.sa_b1,
            person=probationary,
            role="publicity_officer",
            started_on=dt.date(2025, 1, 1),
        )
    with pytest.raises(ServiceError, match="党小组不设"):
        post_assign(
            actor=actor,
            scope=scope,
            org=world.sa_b1_g1,
            person=world.people.member,
            role="secretary",
            started_on=dt.date(2025, 1, 1),
        )
    leader = post_assign(
        actor=actor,
        scope=scope,
        org=world.sa_b1_g1,
        person=world.people.member,
        role="group_leader",
        started_on=dt.date(2025, 1, 1),
    )
    assert leader.is_current()


def test_a_post_ends_and_its_holder_loses_the_scope(world, scope_of):
    actor = world.users.school_secretary
    post = Post.objects.get(org=world.sa_b1, role="secretary")
    post_end(actor=actor, scope=scope_of(actor), post=post, ended_on=dt.date(2026, 1, 1))
    assert not scope_of(world.users.branch_secretary).can_manage_org(world.sa_b1)
    with pytest.raises(ServiceError, match="已于"):
        post_end(actor=actor, scope=scope_of(actor), post=post, ended_on=dt.date(2026, 2, 1))


def test_term_records_the_next_election(world, scope_of):
    actor = world.users.school_secretary
    term = term_create(
        actor=actor,
        scope=scope_of(actor),
        org=world.sa,
        started_on=dt.date(2024, 2, 29),
        length_years=5,
        number=3,
    )
    assert term.next_election_on == dt.date(2029, 2, 28)
    with pytest.raises(ServiceError, match="应晚于上一届"):
        term_create(
            actor=actor, scope=scope_of(actor), org=world.sa, started_on=dt.date(2023, 1, 1), length_years=5
        )
    newer = term_create(
        actor=actor, scope=scope_of(actor), org=world.sa, started_on=dt.date(2026, 3, 1), length_years=5
    )
    term.refresh_from_db()
    assert term.ended_on == dt.date(2026, 3, 1) and newer.ended_on is None
    assert CommitteeTerm.objects.count() == 2


def test_dissolve_only_an_empty_org_and_keep_it(world, scope_of):
    from zhibu.orgs.services import org_dissolve

    actor = world.users.school_secretary
    with pytest.raises(ServiceError, match="在册人员"):
        org_dissolve(actor=actor, scope=scope_of(actor), org=world.sa_b2, dissolved_on=dt.date(2026, 1, 1))
    org_dissolve(actor=actor, scope=scope_of(actor), org=world.sa_b1_g2, dissolved_on=dt.date(2026, 1, 1))
    world.sa_b1_g2.refresh_from_db()
    assert world.sa_b1_g2.dissolved_on == dt.date(2026, 1, 1)
    with pytest.raises(NotPermitted):
        org_dissolve(
            actor=world.users.branch_secretary,
            scope=scope_of(world.users.branch_secretary),
            org=world.sa_b1,
            dissolved_on=dt.date(2026, 1, 1),
        )
