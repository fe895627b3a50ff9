"""Reads for pages and the API: an org's effective policy with where each value comes from; findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from zhibu.compliance import packs
from zhibu.compliance.kinds import KINDS, SEVERITIES, STATES
from zhibu.compliance.models import EvaluationRun, Finding, PolicyAssignment
from zhibu.compliance.packs import NATIONAL, EffectivePolicy, Parameter, ResolvedRule
from zhibu.compliance.rating import Distribution, Rating, branch_rating, ratings_under
from zhibu.compliance.services import policy_editable
from zhibu.core.models import AuditEntry
from zhibu.core.scoping import Scope
from zhibu.orgs.models import Organization, OrgKind
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


# Findings ----------------------------------------------------------------------------------------------


def finding_json(f: Finding) -> dict[str, Any]:
    """A finding as the command and the API give it (documented in the README)."""
    return {
        "rule": f.rule_id,
        "title": f.rule_title,
        "subject": {"type": f.subject_type, "id": f.subject_id, "label": f.subject_label},
        "org": f.org.code,
        "state": f.state,
        "state_label": STATES.get(f.state, f.state),
        "severity": f.severity,
        "period": {"start": f.period_start.isoformat(), "end": f.period_end.isoformat()},
        "due": f.due.isoformat() if f.due else None,
        "estimated": f.estimated,
        "message": f.message,
        "source": f.source,
        "remedy": f.remedy,
        "link": f.link,
    }


def findings_visible_to(scope: Scope, qs: QuerySet[Finding]) -> QuerySet[Finding]:
    """Findings under the user's view paths, and those whose subject is the user themselves."""
    q = Q(pk__in=[])
    for path in scope.view_paths:
        q |= Q(org_path__startswith=path)
    if scope.person_id:
        q |= Q(subject_type="person", subject_id=scope.person_id)
    return qs.filter(q)


def run_latest_for(org: Organization, year: int) -> EvaluationRun | None:
    """The latest run of `year` that covered `org` (run on it or on an org above it)."""
    return (
        EvaluationRun.objects.filter(root__path__in=org.ancestor_paths(), year=year)
        .select_related("root")
        .order_by("-started_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class FindingFilters:
    states: tuple[str, ...] = ()
    rule: str = ""


def finding_list_visible_to(
    scope: Scope, code: str, *, year: int, filters: FindingFilters | None = None
) -> tuple[Organization, EvaluationRun | None, QuerySet[Finding]]:
    """The org (NotFound outside the scope), its latest run of the year, and that run's findings under the
    org that the user may see, filtered."""
    org = org_get_visible(scope, code)
    run = run_latest_for(org, year)
    if run is None:
        return org, None, Finding.objects.none()
    qs = Finding.objects.filter(run=run, org_path__startswith=org.path).select_related("org")
    qs = findings_visible_to(scope, qs)
    filters = filters or FindingFilters()
    if filters.states:
        qs = qs.filter(state__in=filters.states)
    if filters.rule:
        qs = qs.filter(rule_id=filters.rule)
    return org, run, qs.order_by("org_path", "rule_id", "subject_label", "id")


def run_json(run: EvaluationRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "org": run.root.code,
        "year": run.year,
        "as_of": run.as_of.isoformat(),
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "trigger": run.trigger,
        "counts": run.counts,
        "rule_count": run.rule_count,
    }


# The board ---------------------------------------------------------------------------------------------

STATE_ORDER = ("overdue", "violated", "due_soon", "unknown", "ok", "not_applicable")
# What the board lists unless asked otherwise: what someone has to act on. "Unknown" (no records yet,
# e.g. every member's lapse check before dues exist) would bury the few real problems; it stays one
# filter away and is counted above the list.
ACTION_STATES = ("overdue", "violated", "due_soon")
PROBLEM_LIMIT = 200


@dataclass(frozen=True)
class ChildRow:
    org: Organization
    counts: dict[str, int]

    @property
    def problems(self) -> int:
        return sum(self.counts.get(s, 0) for s in ("overdue", "violated", "due_soon"))


@dataclass(frozen=True)
class RunRow:
    run: EvaluationRun
    counts: dict[str, int]


@dataclass
class BoardPage:
    org: Organization
    year: int
    run: EvaluationRun | None
    own: list[Finding]  # the findings about the org itself, one per rule
    children: list[ChildRow]
    findings: list[Finding]  # the subtree's findings, filtered, at most PROBLEM_LIMIT
    findings_total: int
    totals: dict[str, int]
    history: list[RunRow]
    rules: list[tuple[str, str]]  # (id, title) for the filter
    filters: FindingFilters
    can_run: bool
    rating: Rating | None = None  # a branch's own stars with the breakdown
    ratings: list[Rating] = field(default_factory=list)  # the branches below, best first
    distribution: Distribution | None = None


def _counts_by(rows: Any, key: str) -> dict[Any, dict[str, int]]:
    out: dict[Any, dict[str, int]] = {}
    for row in rows:
        out.setdefault(row[key], dict.fromkeys(STATES, 0))[row["state"]] += row["n"]
    return out


def board_page(scope: Scope, code: str, *, year: int, filters: FindingFilters | None = None) -> BoardPage:
    """An org's compliance board: its latest run of the year, rolled up over its children, and history."""
    filters = filters or FindingFilters()
    org = org_get_visible(scope, code)
    runs = list(
        EvaluationRun.objects.filter(root__path__in=org.ancestor_paths(), year=year)
        .select_related("root")
        .order_by("-started_at", "-id")[:10]
    )
    run = runs[0] if runs else None
    page = BoardPage(
        org=org,
        year=year,
        run=run,
        own=[],
        children=[],
        findings=[],
        findings_total=0,
        totals=dict.fromkeys(STATES, 0),
        history=[],
        rules=[],
        filters=filters,
        can_run=scope.can_manage_org(org),
    )
    if run is None:
        return page
    under = findings_visible_to(scope, Finding.objects.filter(org_path__startswith=org.path))
    by_run = _counts_by(
        under.filter(run__in=runs).values("run_id", "state").annotate(n=Count("id")).order_by(), "run_id"
    )
    page.history = [RunRow(r, by_run.get(r.pk, dict.fromkeys(STATES, 0))) for r in runs]
    page.totals = by_run.get(run.pk, page.totals)
    in_run = under.filter(run=run)
    page.own = sorted(
        in_run.filter(org=org, subject_type="org").select_related("org"), key=lambda f: f.rule_id
    )
    page.rules = list(in_run.values_list("rule_id", "rule_title").distinct().order_by("rule_id"))
    children = list(
        scope.orgs(Organization.objects.active().filter(parent=org)).order_by("sort_order", "path")
    )
    if children:
        by_path = _counts_by(
            in_run.values("org_path", "state").annotate(n=Count("id")).order_by(), "org_path"
        )
        rolled: dict[str, dict[str, int]] = {}
        for path, c in by_path.items():
            rest = path[len(org.path) :]
            if not rest:
                continue  # the org's own findings
            child_path = f"{org.path}{rest.split('/', 1)[0]}/"
            into = rolled.setdefault(child_path, dict.fromkeys(STATES, 0))
            for state, n in c.items():
                into[state] += n
        for child in children:
            counts = rolled.get(child.path, dict.fromkeys(STATES, 0))
            page.children.append(ChildRow(child, counts))
    listed = in_run.filter(state__in=filters.states or ACTION_STATES)
    if filters.rule:
        listed = listed.filter(rule_id=filters.rule)
    page.findings_total = listed.count()
    page.findings = list(
        listed.select_related("org").order_by("org_path", "rule_id", "subject_label", "id")[:PROBLEM_LIMIT]
    )
    _add_ratings(scope, page, run)
    return page


def _add_ratings(scope: Scope, page: BoardPage, run: EvaluationRun) -> None:
    """A branch's stars, or the stars of the branches below a school or work committee. Only for those
    who see the branches' own findings: the breakdown is made of them (a member sees only their own)."""
    org = page.org
    if org.kind == OrgKind.GROUP:
        return
    if org.kind == OrgKind.BRANCH:
        if _sees_org_findings(scope, org.path):
            page.rating = branch_rating(run, org)
        return
    visible = {
        pk
        for pk, path in scope.orgs(
            Organization.objects.filter(path__startswith=org.path, kind=OrgKind.BRANCH)
        ).values_list("pk", "path")
        if _sees_org_findings(scope, path)
    }
    if visible:
        page.ratings, page.distribution = ratings_under(run, org, visible=visible)


def _sees_org_findings(scope: Scope, path: str) -> bool:
    return any(path.startswith(p) for p in scope.view_paths)


# My obligations ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostObligations:
    org: Organization
    role_label: str
    run: EvaluationRun | None
    findings: list[Finding]


@dataclass
class Obligations:
    year: int
    person_name: str
    run: EvaluationRun | None  # the latest run over the person's branch
    own: list[Finding]  # findings whose subject is the person
    posts: list[PostObligations]  # for each current post: the org's own non-ok findings


def obligations_of(scope: Scope, *, year: int) -> Obligations:
    """The logged-in person's own findings, and the open problems of the orgs their posts answer for."""
    from zhibu.orgs.models import Post
    from zhibu.people.models import Person

    out = Obligations(year=year, person_name="", run=None, own=[], posts=[])
    if not scope.person_id:
        return out
    person = Person.objects.select_related("org").filter(pk=scope.person_id).first()
    if person is None:
        return out
    out.person_name = person.name
    out.run = run_latest_for(person.org, year)
    if out.run is not None:
        out.own = list(
            Finding.objects.filter(run=out.run, subject_type="person", subject_id=person.pk)
            .select_related("org")
            .order_by("rule_id")
        )
    for post in Post.objects.current().filter(person=person).select_related("org").order_by("org__path"):
        if not scope.can_view_path(post.org.path):
            continue
        run = run_latest_for(post.org, year)
        findings: list[Finding] = []
        if run is not None:
            findings = list(
                Finding.objects.filter(run=run, org=post.org, subject_type="org")
                .exclude(state__in=("ok", "not_applicable"))
                .select_related("org")
                .order_by("rule_id")
            )
        out.posts.append(PostObligations(post.org, post.get_role_display(), run, findings))
    return out
