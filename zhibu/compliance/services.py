"""Every write to an org's policy (a school's own values, the pack it uses): validated, atomic, audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from zhibu.compliance import packs
from zhibu.compliance.models import PolicyAssignment, PolicyOverride
from zhibu.compliance.values import ValueFault, display, to_plain
from zhibu.core.audit import audit_record
from zhibu.core.errors import NotPermitted, ServiceError
from zhibu.core.scoping import Scope
from zhibu.orgs.models import Organization, OrgKind


def policy_editable(org: Organization) -> bool:
    """Only a school's org, or one above schools, keeps its own policy values; branches inherit them."""
    return org.is_school or org.kind == OrgKind.WORK_COMMITTEE


def _check_may_edit(scope: Scope, org: Organization) -> None:
    if not scope.can_manage_org(org):
        raise NotPermitted("您无权修改此党组织的制度设置")
    if not policy_editable(org):
        raise ServiceError("只有学校党组织或上级党组织可以设置本单位制度，党支部沿用学校的设置")


@transaction.atomic
def policy_override_set(
    *,
    actor: Any,
    scope: Scope,
    org: Organization,
    key: str,
    value: Any,
    note: str = "",
    lib: packs.Library | None = None,
) -> PolicyOverride:
    """Set one parameter for an org and its subtree; the value is checked exactly as a pack's would be."""
    _check_may_edit(scope, org)
    policy = packs.effective_policy(org, lib=lib)
    if key not in policy.pack.parameters:
        raise ServiceError(f"未知参数 {key}（制度包 {policy.pack_name} 中没有此参数）", field="key")
    param = policy.pack.parameters[key]
    try:
        typed = param.parse(value)
    except ValueFault as exc:
        raise ServiceError(f"{param.title}（{key}）：{exc.message}", field="value") from None
    trial = packs.EffectivePolicy(
        pack=policy.pack, overrides={**policy.overrides, key: _trial(key, typed, org)}
    )
    broken = [r for r in trial.all_rules if r.error and not policy.rule(r.id).error]
    if broken:
        raise ServiceError(
            f"{param.title}（{key}）取此值后规则“{broken[0].title}”无效：{broken[0].error}", field="value"
        )
    plain = to_plain(typed)
    note = (note or "").strip()[:200]
    existing = PolicyOverride.objects.select_for_update().filter(org=org, key=key).first()
    before = existing.value if existing else None
    if existing is None:
        row = PolicyOverride.objects.create(org=org, key=key, value=plain, note=note, set_by=_user(actor))
        action = "create"
    else:
        existing.value, existing.note, existing.set_by = plain, note, _user(actor)
        existing.save(update_fields=["value", "note", "set_by", "set_at"])
        row, action = existing, "update"
    audit_record(
        actor=actor,
        action=action,
        obj=row,
        org_path=org.path,
        changes={key: [before, plain]},
        note=f"{param.title}：{policy.parameter(key).display} → {display(typed, param.unit)}"
        + (f"（{note}）" if note else ""),
    )
    return row


@transaction.atomic
def policy_override_clear(*, actor: Any, scope: Scope, org: Organization, key: str) -> None:
    """Remove an org's own value: the pack's (or an ancestor's) value holds again."""
    _check_may_edit(scope, org)
    row = PolicyOverride.objects.select_for_update().filter(org=org, key=key).first()
    if row is None:
        raise ServiceError(f"本单位没有设置 {key}", field="key")
    audit_record(
        actor=actor,
        action="end",
        obj=row,
        org_path=org.path,
        changes={key: [row.value, None]},
        note="恢复上级或制度包的取值",
    )
    row.delete()


@transaction.atomic
def policy_assign(
    *,
    actor: Any,
    scope: Scope,
    org: Organization,
    pack_name: str,
    note: str = "",
    lib: packs.Library | None = None,
) -> PolicyAssignment | None:
    """Make an org (and its subtree) use a pack; an empty name removes it (the ancestors' choice holds)."""
    _check_may_edit(scope, org)
    lib = lib or packs.library()
    pack_name = (pack_name or "").strip()
    if pack_name and pack_name not in lib:
        raise ServiceError(f"制度包 {pack_name} 不存在", field="pack_name")
    existing = PolicyAssignment.objects.select_for_update().filter(org=org).first()
    before = existing.pack_name if existing else None
    if not pack_name:
        if existing is None:
            return None
        audit_record(
            actor=actor, action="end", obj=existing, org_path=org.path, changes={"pack_name": [before, None]}
        )
        existing.delete()
        return None
    if existing is None:
        row = PolicyAssignment.objects.create(
            org=org, pack_name=pack_name, note=note.strip()[:200], set_by=_user(actor)
        )
        action = "create"
    else:
        existing.pack_name, existing.note, existing.set_by = pack_name, note.strip()[:200], _user(actor)
        existing.save(update_fields=["pack_name", "note", "set_by", "set_at"])
        row, action = existing, "update"
    audit_record(
        actor=actor, action=action, obj=row, org_path=org.path, changes={"pack_name": [before, pack_name]}
    )
    return row


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _trial(key: str, value: Any, org: Organization) -> packs.Override:
    return packs.Override(
        key=key, value=value, org_id=org.pk, org_name=org.name, org_path=org.path, is_school=org.is_school
    )
