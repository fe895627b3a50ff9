import pytest

from zhibu.accounts import services
from zhibu.accounts.models import Grant, User
from zhibu.core.errors import NotPermitted, ServiceError
from zhibu.core.models import AuditEntry


def test_branch_secretary_creates_an_account_for_a_member_of_the_branch(world, scope_of):
    actor = world.users.branch_secretary
    from tests.factories import make_person

    person = make_person("新党员", world.sa_b1)
    user = services.user_create(
        actor=actor, scope=scope_of(actor), username="xindangyuan", password="Long-enough-77", person=person
    )
    assert user.check_password("Long-enough-77") and user.person == person
    assert AuditEntry.objects.filter(
        object_type="accounts.user", object_id=str(user.pk), action="create"
    ).exists()


@pytest.mark.parametrize(
    "username, password, fragment",
    [
        ("member", "Long-enough-77", "已被使用"),
        ("a b", "Long-enough-77", "用户名应为"),
        ("newname", "12345678", "密码"),
    ],
)
def test_account_creation_refuses_bad_input_and_writes_nothing(world, scope_of, username, password, fragment):
    from tests.factories import make_person

    actor = world.users.branch_secretary
    person = make_person("新党员", world.sa_b1)
    before = User.objects.count()
    with pytest.raises(ServiceError) as exc:
        services.user_create(
            actor=actor, scope=scope_of(actor), username=username, password=password, person=person
        )
    assert fragment in exc.value.message
    assert User.objects.count() == before


def test_no_account_for_someone_outside_the_scope(world, scope_of):
    actor = world.users.branch_secretary
    with pytest.raises(NotPermitted):
        services.user_create(
            actor=actor,
            scope=scope_of(actor),
            username="x_other",
            password="Long-enough-77",
            person=world.people.other,
        )
    with pytest.raises(NotPermitted):
        services.user_create(
            actor=actor, scope=scope_of(actor), username="nobody", password="Long-enough-77", person=None
        )


def test_disable_and_reset_are_audited_and_a_disabled_account_cannot_log_in(world, scope_of, client):
    actor = world.users.branch_secretary
    member = world.users.member
    services.user_set_password(actor=actor, scope=scope_of(actor), user=member, password="Brand-new-99")
    services.user_set_active(actor=actor, scope=scope_of(actor), user=member, active=False)
    assert AuditEntry.objects.filter(object_id=str(member.pk), object_type="accounts.user").count() == 2
    response = client.post("/login/", {"username": "member", "password": "Brand-new-99"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_nobody_manages_their_own_or_an_administrators_account(world, scope_of):
    actor = world.users.school_secretary
    with pytest.raises(NotPermitted):
        services.user_set_active(actor=actor, scope=scope_of(actor), user=actor, active=False)
    admin = User.objects.create_superuser(username="root", password="Long-enough-77")
    with pytest.raises(NotPermitted):
        services.user_set_password(actor=actor, scope=scope_of(actor), user=admin, password="Long-enough-78")


def test_grants_extend_the_scope_within_what_the_actor_manages(world, scope_of):
    actor = world.users.school_secretary
    member = world.users.member
    services.grant_add(actor=actor, scope=scope_of(actor), user=member, org=world.sa_b2, role="view")
    assert scope_of(member).can_view_path(world.sa_b2.path)
    with pytest.raises(NotPermitted):
        services.grant_add(actor=actor, scope=scope_of(actor), user=member, org=world.sb, role="view")
    grant = Grant.objects.get(user=member, org=world.sa_b2)
    services.grant_revoke(actor=actor, scope=scope_of(actor), grant=grant)
    assert not scope_of(member).can_view_path(world.sa_b2.path)
    assert AuditEntry.objects.filter(object_type="accounts.grant", action="end").exists()


def test_reveal_permission_can_only_be_passed_on_by_a_holder(world, scope_of):
    from django.contrib.auth.models import Permission

    actor = world.users.school_secretary
    with pytest.raises(NotPermitted):
        services.user_set_reveal_permission(
            actor=actor, scope=scope_of(actor), user=world.users.branch_secretary, allowed=True
        )
    actor.user_permissions.add(Permission.objects.get(codename="reveal_id_number"))
    actor = User.objects.get(pk=actor.pk)
    services.user_set_reveal_permission(
        actor=actor, scope=scope_of(actor), user=world.users.branch_secretary, allowed=True
    )
    assert User.objects.get(pk=world.users.branch_secretary.pk).has_perm("accounts.reveal_id_number")


def test_account_pages(world, client_as):
    client = client_as(world.users.school_secretary)
    text = client.get("/accounts/").content.decode()
    assert "branch_secretary" in text and "outsider" not in text
    person = world.people.b2
    response = client.post(
        f"/accounts/new/?person={person.pk}",
        {"username": "zhaoliu", "password": "Long-enough-77", "person": person.pk},
    )
    assert response.status_code == 302
    user = User.objects.get(username="zhaoliu")
    response = client.post(
        f"/accounts/{user.pk}/action/", {"action": "grant", "org": "SA-B1", "role": "view"}
    )
    assert response.status_code == 302 and Grant.objects.filter(user=user, org=world.sa_b1).exists()
    response = client.post(
        f"/accounts/{user.pk}/action/", {"action": "grant", "org": "SB", "role": "view"}, follow=True
    )
    assert "不在您的权限范围内" in response.content.decode()
    assert client.get(f"/accounts/{world.users.outsider.pk}/").status_code == 404
    assert client_as(world.users.member).get("/accounts/").status_code == 403
