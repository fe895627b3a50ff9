from zhibu.orgs.models import Organization
from zhibu.people.models import Person


def names(qs):
    return sorted(p.name for p in qs)


def test_work_committee_staff_see_every_school(world, scope_of):
    scope = scope_of(world.users.wc_staff)
    assert scope.orgs(Organization.objects.all()).count() == Organization.objects.count()
    assert scope.people(Person.objects.all()).count() == Person.objects.count()


def test_school_secretary_sees_their_school_only(world, scope_of):
    scope = scope_of(world.users.school_secretary)
    assert {o.code for o in scope.orgs(Organization.objects.all())} == {
        "SA",
        "SA-B1",
        "SA-B1-G1",
        "SA-B1-G2",
        "SA-B2",
    }
    assert "钱七" not in names(scope.people(Person.objects.all()))


def test_branch_secretary_sees_their_branch(world, scope_of):
    scope = scope_of(world.users.branch_secretary)
    assert names(scope.people(Person.objects.all())) == names(Person.objects.filter(org=world.sa_b1))
    assert scope.can_manage_org(world.sa_b1_g1) and not scope.can_manage_org(world.sa)


def test_member_sees_only_themselves_and_manages_nothing(world, scope_of):
    scope = scope_of(world.users.member)
    assert names(scope.people(Person.objects.all())) == ["张三丰"]
    assert not scope.manages_anything
    assert list(scope.orgs(Organization.objects.all())) == [world.sa_b1]


def test_a_path_prefix_does_not_leak_into_a_sibling_with_a_longer_code(world, scope_of):
    from tests.factories import make_org

    make_org("SA-B10", "第十党支部", "branch", world.sa)
    scope = scope_of(world.users.branch_secretary)  # manages /WC/SA/SA-B1/
    assert not scope.orgs(Organization.objects.filter(code="SA-B10")).exists()


def test_inactive_user_has_no_scope(world, scope_of):
    user = world.users.school_secretary
    user.is_active = False
    assert scope_of(user).is_anonymous
