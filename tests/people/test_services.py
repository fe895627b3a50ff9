import datetime as dt

import pytest

from tests.factories import valid_id_number
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.models import AuditEntry
from zhibu.people.models import Person, Status, StatusChange
from zhibu.people.services import person_change_status, person_create, person_reveal_id, person_update

TODAY = dt.date(2026, 11, 23)


def counts():
    return Person.objects.count(), StatusChange.objects.count(), AuditEntry.objects.count()


def base(world, **kw):
    data = {"name": "周新", "gender": "female", "org": world.sa_b1, "birth_date": dt.date(1995, 4, 1)}
    data.update(kw)
    return data


def test_creates_a_person_with_pinyin_first_status_change_and_audit(world, scope_of):
    actor = world.users.branch_secretary
    person = person_create(
        actor=actor,
        scope=scope_of(actor),
        data=base(world, applied_on=dt.date(2025, 3, 1)),
        status=Status.APPLICANT,
        today=TODAY,
    )
    assert person.name_pinyin == "zhouxin" and person.name_initials == "zx"
    change = person.status_changes.get()
    assert change.to_status == Status.APPLICANT and change.effective_on == dt.date(2025, 3, 1)
    entry = AuditEntry.objects.get(object_type="people.person", object_id=str(person.pk))
    assert entry.action == "create" and entry.actor == actor and entry.org_path == world.sa_b1.path


def test_id_number_is_encrypted_at_rest_and_audited_masked(world, scope_of):
    from django.db import connection

    number = valid_id_number(dt.date(1995, 4, 1), serial=41, male=False)
    actor = world.users.branch_secretary
    person = person_create(
        actor=actor,
        scope=scope_of(actor),
        data=base(world, id_number=number),
        status=Status.APPLICANT,
        today=TODAY,
    )
    with connection.cursor() as cur:
        cur.execute("SELECT id_number FROM people_person WHERE id = %s", [person.pk])
        raw = cur.fetchone()[0]
    assert number not in raw and raw
    assert Person.objects.get(pk=person.pk).id_number == number
    entry = AuditEntry.objects.get(object_id=str(person.pk), object_type="people.person")
    assert number not in str(entry.changes)


@pytest.mark.parametrize(
    "override, field, fragment",
    [
        ({"name": ""}, "name", "姓名不能为空"),
        ({"id_number": "110105199504010011"}, "id_number", "校验位"),
        ({"birth_date": dt.date(2027, 1, 1)}, "birth_date", "晚于今天"),
        ({"phone": "12345"}, "phone", "11位"),
        ({"applied_on": dt.date(2025, 5, 1), "activist_on": dt.date(2025, 4, 1)}, "activist_on", "不能早于"),
        ({"gender": "x"}, "gender", "不是可选值"),
    ],
)
def test_refuses_bad_fields_and_writes_nothing(world, scope_of, override, field, fragment):
    actor = world.users.branch_secretary
    before = counts()
    with pytest.raises(ServiceError) as exc:
        person_create(
            actor=actor,
            scope=scope_of(actor),
            data=base(world, **override),
            status=Status.APPLICANT,
            today=TODAY,
        )
    assert fragment in "".join(exc.value.errors[field])
    assert counts() == before


def test_refuses_a_duplicate_id_number_even_from_another_school(world, scope_of):
    actor = world.users.branch_secretary
    with pytest.raises(ServiceError) as exc:
        person_create(
            actor=actor,
            scope=scope_of(actor),
            data=base(world, id_number=world.people.outsider.id_number, birth_date=None, gender=""),
            status=Status.FULL_MEMBER,
            today=TODAY,
        )
    assert "已登记" in exc.value.errors["id_number"][0]


def test_refuses_a_branch_outside_the_scope(world, scope_of):
    actor = world.users.branch_secretary
    with pytest.raises(ServiceError) as exc:
        person_create(
            actor=actor,
            scope=scope_of(actor),
            data=base(world, org=world.sa_b2),
            status=Status.APPLICANT,
            today=TODAY,
        )
    assert "无权" in exc.value.errors["org"][0]


def test_refuses_a_group_of_another_branch(world, scope_of):
    actor = world.users.school_secretary
    with pytest.raises(ServiceError) as exc:
        person_create(
            actor=actor,
            scope=scope_of(actor),
            data=base(world, org=world.sa_b2, group=world.sa_b1_g1),
            status=Status.APPLICANT,
            today=TODAY,
        )
    assert "不属于" in exc.value.errors["group"][0]


def test_update_records_before_and_after(world, scope_of):
    actor = world.users.branch_secretary
    person = world.people.member
    person_update(
        actor=actor, scope=scope_of(actor), person=person, data={"position": "数学教研组长"}, today=TODAY
    )
    entry = AuditEntry.objects.filter(object_id=str(person.pk), action="update").get()
    assert entry.changes["position"] == ["", "数学教研组长"]


def test_update_by_someone_outside_is_refused(world, scope_of):
    actor = world.users.outsider
    with pytest.raises(NotPermitted):
        person_update(actor=actor, scope=scope_of(actor), person=world.people.member, data={"position": "x"})
    assert not AuditEntry.objects.filter(action="update").exists()


def test_status_follows_the_transition_table_and_keeps_history(world, scope_of):
    actor = world.users.branch_secretary
    person = world.people.activist
    person_change_status(
        actor=actor,
        scope=scope_of(actor),
        person=person,
        to_status=Status.CANDIDATE,
        effective_on=dt.date(2026, 6, 1),
        reason="支委会研究确定",
        today=TODAY,
    )
    person.refresh_from_db()
    assert person.status == Status.CANDIDATE and person.candidate_on == dt.date(2026, 6, 1)
    assert list(person.status_changes.values_list("to_status", flat=True)) == [
        Status.ACTIVIST,
        Status.CANDIDATE,
    ]


@pytest.mark.parametrize(
    "to_status, effective_on, reason, fragment",
    [
        (Status.FULL_MEMBER, dt.date(2026, 6, 1), "跳级", "不能从“入党积极分子”直接变更为“正式党员”"),
        (Status.CANDIDATE, dt.date(2026, 12, 1), "支委会", "晚于今天"),
        (Status.CANDIDATE, dt.date(2019, 1, 1), "支委会", "不能早于上一次"),
        (Status.CANDIDATE, dt.date(2026, 6, 1), "  ", "请填写变更原因"),
        ("nonsense", dt.date(2026, 6, 1), "x", "未知身份"),
    ],
)
def test_refuses_a_status_change_outside_the_rules_and_writes_nothing(
    world, scope_of, to_status, effective_on, reason, fragment
):
    actor = world.users.branch_secretary
    before = counts()
    with pytest.raises(ServiceError) as exc:
        person_change_status(
            actor=actor,
            scope=scope_of(actor),
            person=world.people.activist,
            to_status=to_status,
            effective_on=effective_on,
            reason=reason,
            today=TODAY,
        )
    assert fragment in exc.value.message
    assert counts() == before
    world.people.activist.refresh_from_db()
    assert world.people.activist.status == Status.ACTIVIST


def test_deceased_is_final(world, scope_of):
    actor = world.users.branch_secretary
    person = world.people.member
    person_change_status(
        actor=actor,
        scope=scope_of(actor),
        person=person,
        to_status=Status.DECEASED,
        effective_on=dt.date(2026, 1, 1),
        reason="病故",
        today=TODAY,
    )
    with pytest.raises(ServiceError):
        person_change_status(
            actor=actor,
            scope=scope_of(actor),
            person=person,
            to_status=Status.FULL_MEMBER,
            effective_on=dt.date(2026, 2, 1),
            reason="x",
            today=TODAY,
        )


def test_reveal_needs_the_permission_and_is_audited(world, scope_of):
    from django.contrib.auth.models import Permission

    actor = world.users.branch_secretary
    with pytest.raises(NotPermitted):
        person_reveal_id(actor=actor, scope=scope_of(actor), person=world.people.member)
    actor.user_permissions.add(Permission.objects.get(codename="reveal_id_number"))
    actor = type(actor).objects.get(pk=actor.pk)  # drop the permission cache
    assert (
        person_reveal_id(actor=actor, scope=scope_of(actor), person=world.people.member)
        == world.people.member.id_number
    )
    assert AuditEntry.objects.filter(
        action="reveal", object_id=str(world.people.member.pk), actor=actor
    ).exists()


def test_reveal_outside_the_scope_is_not_found_even_with_the_permission(world, scope_of):
    from django.contrib.auth.models import Permission

    actor = world.users.outsider
    actor.user_permissions.add(Permission.objects.get(codename="reveal_id_number"))
    actor = type(actor).objects.get(pk=actor.pk)
    with pytest.raises(NotFound):
        person_reveal_id(actor=actor, scope=scope_of(actor), person=world.people.member)
