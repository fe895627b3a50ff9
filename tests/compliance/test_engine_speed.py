"""The evaluation's fast paths keep its findings exact: rows built straight from the outcomes (no Finding
objects), facts turned into JSON by type, periods remembered; the timeline's reasons written when read."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from tests.development.pipeline import D, applicant, drive
from zhibu.compliance import facts as facts_mod
from zhibu.compliance import kinds, packs
from zhibu.compliance.models import Finding
from zhibu.compliance.services import _ROW_FIELDS, _Adder, _semesters, evaluation_run
from zhibu.compliance.values import Frequency, MonthDay, fmt_number
from zhibu.core.calendar import WorkdayCalendar
from zhibu.core.scoping import system_scope
from zhibu.demo.build import build_demo
from zhibu.development import services, timeline
from zhibu.development.models import DevelopmentCase
from zhibu.development.rosters import load_roster_cases, roster_row
from zhibu.orgs.models import Organization

TODAY = dt.date(2026, 9, 1)  # the demo's reference date
YEAR = 2026


def _reference_json(x: Any) -> Any:
    """How facts were turned into JSON before the fast path (by isinstance, item by item)."""
    if isinstance(x, dt.date):
        return x.isoformat()
    if isinstance(x, Decimal):
        return fmt_number(x)
    if isinstance(x, Mapping):
        return {str(k): _reference_json(i) for k, i in x.items()}
    if isinstance(x, list | tuple | set | frozenset):
        return [_reference_json(i) for i in x]
    return x


def test_a_finding_row_writes_every_column_but_the_id():
    columns = [f.name for f in Finding._meta.concrete_fields if not f.primary_key]
    assert sorted(_ROW_FIELDS) == sorted(columns)
    assert len(set(_ROW_FIELDS)) == len(_ROW_FIELDS)


def test_facts_become_json_as_they_always_did():
    class Label(str):
        pass

    samples: list[Any] = [
        None,
        True,
        3,
        1.5,
        "党员",
        Label("支部"),
        dt.date(2026, 3, 1),
        dt.datetime(2026, 3, 1, 8, 30),
        Decimal("0.50"),
        [dt.date(2026, 1, 2), "a", None, [Decimal("2")]],
        (1, dt.date(2026, 1, 3)),
        {3: dt.date(2026, 2, 1), "x": {"y": [Decimal("1.25"), (dt.date(2026, 5, 6),)]}},
        {"from": dt.date(2026, 1, 1), "to": None, "recorded": 5},
    ]
    for x in samples:
        assert kinds._json(x) == _reference_json(x), x
    assert kinds._json(frozenset({dt.date(2026, 1, 1)})) == ["2026-01-01"]


def test_periods_in_a_year_are_remembered_but_handed_out_fresh():
    monthly = Frequency(1, "month")
    first = kinds.periods_in_year(monthly, YEAR)
    assert [p.label for p in first[:2]] == ["2026年1月", "2026年2月"] and len(first) == 12
    first.clear()
    assert len(kinds.periods_in_year(monthly, YEAR)) == 12
    school_year = kinds.SchoolYear(MonthDay(9, 1), MonthDay(1, 20), MonthDay(2, 20), MonthDay(7, 10))
    semesters = kinds.periods_in_year(Frequency(1, "semester"), YEAR, school_year=school_year)
    assert [p.label for p in semesters] == [
        "2025—2026学年第一学期",
        "2025—2026学年第二学期",
        "2026—2027学年第一学期",
    ]
    assert kinds.periods_in_year(Frequency(1, "semester"), YEAR) == []


@pytest.fixture
def district(db):  # type: ignore[no-untyped-def]
    build_demo(schools=1, seed=1)
    return Organization.objects.get(parent__isnull=True)


def test_every_stored_finding_is_what_its_rule_finds_for_its_subject(district):
    """A whole district's evaluation against the rules applied one by one to the same facts: every
    column of every stored row (and every fact as JSON, by the reference conversion)."""
    root = district
    run = evaluation_run(actor=None, scope=system_scope(), org=root, year=YEAR, today=TODAY)
    gathered = facts_mod.gather(root, today=TODAY)
    life = facts_mod.gather_life(gathered, root, year=YEAR, today=TODAY)
    cases = facts_mod.gather_cases(root, year=YEAR, today=TODAY)
    policies = packs.effective_policies(gathered.orgs)
    semesters = _semesters(policies.values(), YEAR)
    subjects: dict[tuple[str, int], dict[str, Any]] = {}
    for o in gathered.orgs:
        subjects["org", o.pk] = {**gathered.org_facts[o.pk], "semesters": semesters[id(policies[o.pk])]}
    for m in gathered.members:
        subjects["person", m.id] = facts_mod.person_facts(
            m, year=YEAR, today=TODAY, life=life.attended.get(m.id)
        )
    for case in cases:
        subjects["case", case.id] = case.facts
    for meeting in life.meetings:
        subjects["meeting", meeting.id] = meeting.facts
    for facts in subjects.values():
        for value in facts.values():
            assert kinds._json(value) == _reference_json(value)

    years = {YEAR - 1, YEAR, YEAR + 1, TODAY.year} | {y for c in cases for y in facts_mod.case_years(c)}
    adder = _Adder(WorkdayCalendar.load(years))
    rows = list(Finding.objects.filter(run=run).select_related("org").order_by("id"))
    assert len(rows) == sum(run.counts.values()) > 200
    assert {f.subject_type for f in rows} == {"org", "person", "case", "meeting"}
    assert len({(f.rule_id, f.subject_type, f.subject_id) for f in rows}) == len(rows)
    for f in rows:
        rule = policies[f.org_id].rule(f.rule_id)
        adder.estimated = False
        outcome = rule.check(subjects[f.subject_type, f.subject_id], TODAY, add_workdays=adder)
        day = rule.kind in ("count_within", "post_held", "term_expiry") or f.subject_type == "case"
        expected = {
            "rule_title": rule.title[:200],
            "severity": outcome.severity or rule.severity,
            "state": outcome.state,
            "message": outcome.message,
            "due": outcome.due,
            "estimated": adder.estimated,
            "facts": json.loads(json.dumps(outcome.facts_used, ensure_ascii=False)),
            "period_start": TODAY if day else dt.date(YEAR, 1, 1),
            "period_end": TODAY if day else dt.date(YEAR, 12, 31),
            "org_path": f.org.path,
            "source": rule.source[:300],
            "remedy": rule.remedy,
        }
        stored = {name: getattr(f, name) for name in expected}
        assert stored == expected, (f.rule_id, f.subject_type, f.subject_id)
        assert str(f.subject_id) in f.link or f.org.code in f.link


def test_the_timeline_writes_its_reasons_only_when_read(world):
    case = drive(world, applicant(world), until="activist_designation")
    tl = services.case_timeline(case)
    candidate = tl.row("candidate_designation").window
    assert candidate.earliest_after is not None and candidate.earliest_after.start == D(2023, 9, 5)
    assert candidate.earliest_reason == "推荐和确定入党积极分子（2023-09-05）后满 1 年"
    rows = {r.step.code: r.window for r in tl.rows}
    assert all(w.earliest_reason == "" for w in rows.values() if w.earliest is None)
    assert all(w.latest_reason == "" for w in rows.values() if w.latest is None)
    late = [w for w in rows.values() if w.latest is not None]
    assert late and all(w.latest_reason.endswith("内") and "（" in w.latest_reason for w in late)
    # The events are read once from the records that count, the same as event_dates gives.
    records = list(case.steps.all())
    assert tl.events == timeline.event_dates(records, case.probation_ends_on)


def test_the_roster_reads_no_id_number_or_phone(world):
    case = drive(world, applicant(world), until="mentor_assignment")
    (loaded,) = load_roster_cases(DevelopmentCase.objects.filter(pk=case.pk))
    assert {"id_number", "phone"} <= loaded.person.get_deferred_fields()
    roles = list(loaded.roles.all())
    assert roles and all({"id_number", "phone"} <= r.person.get_deferred_fields() for r in roles)
    assert roster_row(loaded, on=D(2026, 11, 23), next_step=None)[0] == case.person.name
