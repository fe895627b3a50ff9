"""Every write to an org's policy (a school's own values, the pack it uses): validated, atomic, audited;
and the evaluation runs that store findings."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import JSONField
from django.urls import reverse
from django.utils import timezone

from zhibu.compliance import facts as facts_mod
from zhibu.compliance import packs
from zhibu.compliance.kinds import STATES
from zhibu.compliance.models import EvaluationRun, Finding, PolicyAssignment, PolicyOverride, Trigger
from zhibu.compliance.values import ValueFault, display, to_plain
from zhibu.core.audit import audit_record
from zhibu.core.calendar import WorkdayCalendar
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
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


# Evaluation --------------------------------------------------------------------------------------------

# Kinds that judge the state of things on the day of the run (their period is that day); the others look
# at the year under evaluation. Findings about a development case are always as of the day of the run.
_STRUCTURAL_KINDS = ("count_within", "post_held", "term_expiry")
BATCH_SIZE = 2000


class _Adder:
    """add_workdays for the kinds, remembering whether any date it gave was only estimated."""

    def __init__(self, calendar: WorkdayCalendar) -> None:
        self.calendar = calendar
        self.estimated = False

    def __call__(self, start: dt.date, n: int) -> dt.date:
        result = self.calendar.add_workdays(start, n)
        self.estimated = self.estimated or result.estimated
        return result.date


def _semesters(policies: Iterable[packs.EffectivePolicy], year: int) -> dict[int, list[dict[str, Any]]]:
    """The semesters starting in `year` by each distinct policy's school year (frequencies per semester)."""
    out: dict[int, list[dict[str, Any]]] = {}
    for policy in policies:
        if id(policy) not in out:
            out[id(policy)] = [
                {"from": s.start, "to": s.end, "label": s.label}
                for s in policy.school_year().semesters_around(year)
                if s.start.year == year
            ]
    return out


def _check_may_evaluate(scope: Scope, org: Organization) -> None:
    if not scope.can_view_path(org.path):
        raise NotFound("党组织不存在或不在您的权限范围内")
    # Seeing one's own branch as a member is not enough: a manager or an overseer of the org runs it.
    if not any(org.path.startswith(p) for p in scope.view_paths):
        raise NotPermitted("您无权对此党组织运行检查")


@transaction.atomic
def evaluation_run(
    *,
    actor: Any,
    scope: Scope,
    org: Organization,
    year: int,
    today: dt.date | None = None,
    trigger: str = Trigger.MANUAL,
    lib: packs.Library | None = None,
) -> EvaluationRun:
    """Evaluate every enabled rule over the org's subtree and store the run with its findings."""
    _check_may_evaluate(scope, org)
    if not 1900 <= year <= 2200:
        raise ServiceError("年度应在 1900 至 2200 之间", field="year")
    if trigger not in Trigger.values:
        raise ServiceError(f"未知的发起方式 {trigger}", field="trigger")
    started_at = timezone.now()
    today = today or timezone.localdate()
    gathered = facts_mod.gather(org, today=today)
    life = facts_mod.gather_life(gathered, org, year=year, today=today)
    cases = facts_mod.gather_cases(org, year=year, today=today)
    policies = packs.effective_policies(gathered.orgs, lib=lib)
    semesters = _semesters(policies.values(), year)
    # The calendar of every year a case's dates fall in, loaded at once (publicity is counted in it).
    years = {year - 1, year, year + 1, today.year} | {y for c in cases for y in facts_mod.case_years(c)}
    adder = _Adder(WorkdayCalendar.load(years))
    year_start, year_end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    org_link = reverse("orgs:detail", args=["__code__"])
    person_link = reverse("people:detail", args=[0])
    case_link = reverse("development:case", args=[0])

    rows: list[tuple[Any, ...]] = []
    rule_ids: set[str] = set()
    counts = dict.fromkeys(STATES, 0)
    # The two periods a finding can have, as ISO text once (the database takes a date column's text as is).
    year_period = (year_start.isoformat(), year_end.isoformat())
    day_period = (today.isoformat(), today.isoformat())

    def add(
        rule: packs.ResolvedRule,
        subject: tuple[str, int, str],
        at: Organization,
        facts: dict[str, Any],
        link: str,
    ) -> None:
        adder.estimated = False
        outcome = rule.check(facts, today, add_workdays=adder)
        period = day_period if rule.kind in _STRUCTURAL_KINDS or subject[0] == "case" else year_period
        rule_ids.add(rule.id)
        counts[outcome.state] += 1
        # The finding's row straight away (in the order of _ROW_FIELDS, without the run): building Finding
        # objects only to read their values back was a third of a district's evaluation.
        rows.append(
            (
                rule.id,
                rule.title[:200],
                outcome.severity or rule.severity,
                outcome.state,
                subject[0],
                subject[1],
                subject[2][:200],
                at.pk,
                at.path,
                period[0],
                period[1],
                outcome.due,
                adder.estimated,
                outcome.message,
                rule.source[:300],
                rule.remedy,
                _dumps(outcome.facts_used),
                link,
            )
        )

    for o in gathered.orgs:
        rules = [r for r in policies[o.pk].rules if r.subject == "org"]
        org_facts = {**gathered.org_facts[o.pk], "semesters": semesters[id(policies[o.pk])]}
        for rule in rules:
            if rule.applies_to.org_kinds and o.kind not in rule.applies_to.org_kinds:
                continue
            link = org_link.replace("__code__", o.code)
            add(rule, ("org", o.pk, o.name), o, org_facts, link)
    for m in gathered.members:
        branch = gathered.by_id.get(m.org_id)
        if branch is None:
            continue
        person: dict[str, Any] | None = None  # the member's facts, built once for all their rules
        for rule in policies[branch.pk].rules:
            if rule.subject != "person":
                continue
            if rule.applies_to.statuses and m.status not in rule.applies_to.statuses:
                continue
            if person is None:
                person = facts_mod.person_facts(m, year=year, today=today, life=life.attended.get(m.id))
            add(rule, ("person", m.id, m.name), branch, person, person_link.replace("/0/", f"/{m.id}/"))
    for case in cases:
        branch = gathered.by_id.get(case.org_id)
        if branch is None:
            continue
        for rule in policies[branch.pk].rules:
            if rule.subject != "case":
                continue
            # A case is judged by the rules of its person's status (a completed case only by those of
            # full members, such as archiving).
            if rule.applies_to.statuses and case.status not in rule.applies_to.statuses:
                continue
            add(
                rule,
                ("case", case.id, case.name),
                branch,
                case.facts,
                case_link.replace("/0/", f"/{case.id}/"),
            )

    for meeting in life.meetings:
        at = gathered.by_id[meeting.org_id]
        for rule in policies[at.pk].rules:
            if rule.subject != "meeting":
                continue
            if rule.applies_to.org_kinds and at.kind not in rule.applies_to.org_kinds:
                continue
            # A meeting rule judges the meetings that have the facts it reads: quorum rules only held
            # assemblies or committee meetings, the minutes rule every meeting begun (see gather_life).
            if not all(name in meeting.facts for name in rule.fact_names()):
                continue
            add(
                rule,
                ("meeting", meeting.id, meeting.label),
                at,
                meeting.facts,
                f"/life/meetings/{meeting.id}/",
            )

    run = EvaluationRun.objects.create(
        root=org,
        year=year,
        as_of=today,
        started_at=started_at,
        finished_at=timezone.now(),
        triggered_by=_user(actor),
        trigger=trigger,
        counts=counts,
        rule_count=len(rule_ids),
    )
    _store_findings(run, rows)
    return run


# The columns of a finding's row as evaluation_run builds it: the run, then the rest in this order (every
# column but the id; tests/compliance/test_engine_speed.py checks that no column is left out).
_ROW_FIELDS = (
    "run",
    "rule_id",
    "rule_title",
    "severity",
    "state",
    "subject_type",
    "subject_id",
    "subject_label",
    "org",
    "org_path",
    "period_start",
    "period_end",
    "due",
    "estimated",
    "message",
    "source",
    "remedy",
    "facts",
    "link",
)
_COLUMNS = tuple(next(f for f in Finding._meta.concrete_fields if f.name == name) for name in _ROW_FIELDS)


# One encoder for every finding (json.dumps with an option builds a new one per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def _dumps(facts: dict[str, Any]) -> str:
    """The facts used, as the JSON text stored in the finding's `facts` column."""
    return _ENCODER.encode(facts)


def _insert_many(rows: list[tuple[Any, ...]]) -> None:
    """SQLite: one prepared INSERT executed for every row (dates go as ISO text through the adapter that
    Django's SQLite backend registers, as they would through the ORM)."""
    columns = ", ".join(connection.ops.quote_name(f.column) for f in _COLUMNS)
    table = connection.ops.quote_name(Finding._meta.db_table)
    marks = ", ".join(["%s"] * len(_COLUMNS))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)  # noqa: S608


def _store_findings(run: EvaluationRun, rows: list[tuple[Any, ...]]) -> None:
    """Insert the findings' rows (each without its run): on PostgreSQL with COPY (INSERT spends seconds
    adapting a district's values); on SQLite with one prepared INSERT executed for every row (Django's
    bulk_create stops at 999 parameters, about fifty findings a statement); elsewhere through the ORM."""
    if not rows:
        return
    with_run = [(run.pk, *row) for row in rows]
    if connection.vendor == "sqlite":
        _insert_many(with_run)
        return
    if connection.vendor != "postgresql":
        findings = [
            Finding(
                **{
                    f.attname: json.loads(value) if isinstance(f, JSONField) else value
                    for f, value in zip(_COLUMNS, row, strict=True)
                }
            )
            for row in with_run
        ]
        Finding.objects.bulk_create(findings, batch_size=BATCH_SIZE)
        return
    columns = ", ".join(connection.ops.quote_name(f.column) for f in _COLUMNS)
    table = connection.ops.quote_name(Finding._meta.db_table)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in with_run:
            copy.write_row(row)


def evaluate_roots(*, year: int, trigger: str) -> list[EvaluationRun]:
    """Evaluate every top-level org (each work committee) for a year, as the system (nightly, demo)."""
    from zhibu.core.scoping import system_scope
    from zhibu.orgs.models import Organization

    return [
        evaluation_run(actor=None, scope=system_scope(), org=org, year=year, trigger=trigger)
        for org in Organization.objects.filter(parent__isnull=True).order_by("path")
    ]
