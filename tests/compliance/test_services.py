"""Writing a school's own policy values and its pack: checked like a pack, audited, nothing on failure."""

from __future__ import annotations

import pytest

from zhibu.compliance import services
from zhibu.compliance.models import PolicyAssignment, PolicyOverride
from zhibu.compliance.packs import effective_policy
from zhibu.core.errors import NotPermitted, ServiceError
from zhibu.core.models import AuditEntry


def audit_rows():  # type: ignore[no-untyped-def]
    return AuditEntry.objects.filter(object_type__startswith="compliance.")


def test_school_secretary_sets_a_value_for_the_school_audited(world, scope_of):
    user = world.users.school_secretary
    row = services.policy_override_set(
        actor=user,
        scope=scope_of(user),
        org=world.sa,
        key="general_assembly.period",
        value={"count": 1, "per": "month", "every": 2},
        note="本校2025年工作计划",
    )
    assert row.value == {"count": 1, "per": "month", "every": 2}
    assert str(effective_policy(world.sa_b1).value("general_assembly.period")) == "每 2 个月 1 次"
    entry = audit_rows().get()
    assert entry.action == "create" and entry.org_path == world.sa.path and entry.actor == user
    assert entry.changes == {"general_assembly.period": [None, {"count": 1, "per": "month", "every": 2}]}
    assert "每季度 1 次 → 每 2 个月 1 次" in entry.note

    services.policy_override_set(
        actor=user,
        scope=scope_of(user),
        org=world.sa,
        key="general_assembly.period",
        value={"count": 1, "per": "month"},
    )
    second = audit_rows().order_by("-id").first()
    assert second is not None and second.action == "update"
    assert second.changes["general_assembly.period"][0] == {"count": 1, "per": "month", "every": 2}


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("general_assembly.quorum", "3/2", "0 与 1 之间"),
        ("term.branch_years", 7, "不大于 5"),
        ("study.member_hours", "many", "应为整数"),
        ("general_assembly.period", {"count": 1, "per": "week"}, "month、quarter"),
        ("dues.base.recalc", "monthly", "on_salary_change"),
        ("org.group_split_from", None, "不能设为空值"),
    ],
)
def test_a_wrong_value_is_refused_in_chinese_naming_the_key_and_nothing_is_written(
    world, scope_of, key, value, words
):
    user = world.users.school_secretary
    with pytest.raises(ServiceError) as exc:
        services.policy_override_set(actor=user, scope=scope_of(user), org=world.sa, key=key, value=value)
    assert key in exc.value.message and words in exc.value.message
    assert exc.value.field == "value"
    assert not PolicyOverride.objects.exists() and not audit_rows().exists()


def test_an_unknown_key_is_refused(world, scope_of):
    user = world.users.school_secretary
    with pytest.raises(ServiceError, match="未知参数"):
        services.policy_override_set(actor=user, scope=scope_of(user), org=world.sa, key="no.such", value=1)
    assert not PolicyOverride.objects.exists()


def test_who_may_set_values(world, scope_of):
    cases = [
        (world.users.member, world.sa, NotPermitted),
        (world.users.outsider, world.sa, NotPermitted),
        (world.users.branch_secretary, world.sa, NotPermitted),
        (world.users.branch_secretary, world.sa_b1, ServiceError),  # a branch inherits its school's values
    ]
    for user, org, error in cases:
        with pytest.raises(error):
            services.policy_override_set(
                actor=user, scope=scope_of(user), org=org, key="study.member_hours", value=40
            )
    staff = world.users.wc_staff
    services.policy_override_set(
        actor=staff, scope=scope_of(staff), org=world.sb, key="study.member_hours", value=40
    )
    services.policy_override_set(
        actor=staff, scope=scope_of(staff), org=world.wc, key="study.member_hours", value=36
    )
    assert PolicyOverride.objects.count() == 2


def test_clearing_restores_the_inherited_value_audited(world, scope_of):
    user = world.users.school_secretary
    services.policy_override_set(
        actor=user, scope=scope_of(user), org=world.sa, key="study.member_hours", value=40
    )
    services.policy_override_clear(actor=user, scope=scope_of(user), org=world.sa, key="study.member_hours")
    assert not PolicyOverride.objects.exists()
    assert effective_policy(world.sa_b1).value("study.member_hours") == 32
    entry = audit_rows().order_by("-id").first()
    assert entry is not None and entry.action == "end" and entry.changes == {"study.member_hours": [40, None]}
    with pytest.raises(ServiceError, match="没有设置"):
        services.policy_override_clear(
            actor=user, scope=scope_of(user), org=world.sa, key="study.member_hours"
        )
    with pytest.raises(NotPermitted):
        services.policy_override_clear(
            actor=world.users.member, scope=scope_of(world.users.member), org=world.sa, key="x"
        )


def test_assigning_a_pack_is_checked_and_audited(world, scope_of):
    user = world.users.school_secretary
    row = services.policy_assign(
        actor=user, scope=scope_of(user), org=world.sa, pack_name="example.theme_day_15th"
    )
    assert row is not None and effective_policy(world.sa_b2).value("theme_day.day") == 15
    with pytest.raises(ServiceError, match="不存在"):
        services.policy_assign(actor=user, scope=scope_of(user), org=world.sa, pack_name="example.nope")
    assert PolicyAssignment.objects.get().pack_name == "example.theme_day_15th"
    services.policy_assign(actor=user, scope=scope_of(user), org=world.sa, pack_name="")
    assert not PolicyAssignment.objects.exists()
    actions = list(audit_rows().order_by("id").values_list("action", flat=True))
    assert actions == ["create", "end"]
    with pytest.raises(NotPermitted):
        services.policy_assign(
            actor=world.users.outsider,
            scope=scope_of(world.users.outsider),
            org=world.sa,
            pack_name="national",
        )
