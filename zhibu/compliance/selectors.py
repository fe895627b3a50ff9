"""Reads of policies for pages: an org's effective policy with where each value comes from."""

from __future__ import annotations

from dataclasses import dataclass

from zhibu.compliance import packs
from zhibu.compliance.kinds import KINDS, SEVERITIES
from zhibu.compliance.models import PolicyAssignment
from zhibu.compliance.packs import NATIONAL, EffectivePolicy, Parameter, ResolvedRule
from zhibu.compliance.services import policy_editable
from zhibu.core.models import AuditEntry
from zhibu.core.scoping import Scope
from zhibu.orgs.models import Organization
from zhibu.orgs.selectors import org_get_visible


@dataclass(frozen=True)
class ParameterRow:
    param: Parameter  # with the effective value and origin
    national: Parameter
    layer: str  # "national" | "pack" | "override"
    set_here: bool  # the override is stored on this org (so it can be cleared here)

    @property
    def changed(self) -> bool:
        return self.layer != "national"


@dataclass(frozen=True)
class RuleRow:
    rule: ResolvedRule
    kind_title: str
    severity_label: str


@dataclass
class PolicyPage:
    org: Organization
    policy: EffectivePolicy
    pack_assigned_here: str  # the pack set on this org itself ("" if inherited)
    parameters: list[ParameterRow]
    rules: list[RuleRow]
    can_edit: bool
    edit_at: Organization | None  # where a branch's values are edited (its school), when visible
    history: list[AuditEntry]
    packs: list[packs.Pack]


def policy_page(scope: Scope, code: str, *, lib: packs.Library | None = None) -> PolicyPage:
    """An org's effective policy for its page (NotFound outside the scope)."""
    org = org_get_visible(scope, code)
    lib = lib or packs.library()
    policy = packs.effective_policy(org, lib=lib)
    national = lib.national
    rows = []
    for key in policy.pack.parameters:
        param = policy.parameter(key)
        override = policy.overrides.get(key)
        if override is not None:
            layer = "override"
        elif param.origin != NATIONAL:
            layer = "pack"
        else:
            layer = "national"
        rows.append(
            ParameterRow(
                param=param,
                national=national.parameters.get(key, param),
                layer=layer,
                set_here=override is not None and override.org_id == org.pk,
            )
        )
    rules = [
        RuleRow(rule=r, kind_title=KINDS[r.kind].title, severity_label=SEVERITIES[r.severity])
        for r in policy.all_rules
    ]
    assigned = PolicyAssignment.objects.filter(org=org).values_list("pack_name", flat=True).first() or ""
    edit_at = None
    if not policy_editable(org):
        editable = scope.orgs(Organization.objects.filter(path__in=org.ancestor_paths()[:-1], is_school=True))
        edit_at = editable.order_by("-depth").first()
    history = list(
        AuditEntry.objects.filter(
            org_path=org.path,
            object_type__in=("compliance.policyoverride", "compliance.policyassignment"),
        ).order_by("-at", "-id")[:20]
    )
    return PolicyPage(
        org=org,
        policy=policy,
        pack_assigned_here=assigned,
        parameters=rows,
        rules=rules,
        can_edit=scope.can_manage_org(org) and policy_editable(org),
        edit_at=edit_at,
        history=history,
        packs=[lib.get(n) for n in lib.names()],
    )
