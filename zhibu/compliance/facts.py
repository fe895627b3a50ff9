"""The facts every rule reads, gathered for a whole subtree in a fixed number of queries.

The check kinds are pure: they read only what is handed to them. This module reads the records once per
evaluation — the orgs of the subtree, the members, the current posts, the open terms, the development
cases with their steps, mentors and sponsors and votes — and builds each subject's facts from memory, so
the number of queries does not grow with the number of orgs, people or cases.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q

from zhibu.compliance import values as v
from zhibu.development.models import BranchVote, CaseRole, CaseState, DevelopmentCase, DevelopmentStep
from zhibu.orgs.models import CommitteeTerm, Organization, OrgKind, Post, PostRole
from zhibu.people.models import MEMBER_STATUSES, Person, Status

# Posts that make up a branch committee (支部委员会). A branch below the committee threshold has only a
# secretary (and perhaps a deputy): that is not a committee, so its seats count as 0 (see committee_seats).
COMMITTEE_ROLES = (
    PostRole.SECRETARY,
    PostRole.DEPUTY_SECRETARY,
    PostRole.ORGANIZATION_OFFICER,
    PostRole.PUBLICITY_OFFICER,
    PostRole.DISCIPLINE_OFFICER,
    PostRole.COMMITTEE_MEMBER,
)
_COMMITTEE_ONLY_ROLES = (
    PostRole.ORGANIZATION_OFFICER,
    PostRole.PUBLICITY_OFFICER,
    PostRole.DISCIPLINE_OFFICER,
    PostRole.COMMITTEE_MEMBER,
)
# The tracks of member.lapse: no records of dues, meetings or assigned work exist yet.
LAPSE_TRACKS = ("dues", "organisational_life", "assigned_work")


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    status: str
    org_id: int
    joined_on: dt.date | None


@dataclass
class Gathered:
    """Everything one evaluation reads, held in memory."""

    orgs: list[Organization]
    by_id: dict[int, Organization]
    members: list[Member]
    org_facts: dict[int, dict[str, Any]] = field(default_factory=dict)


def gather(root: Organization, *, today: dt.date) -> Gathered:
    """The active orgs under `root` (itself included) with their facts, and the members: four queries."""
    orgs = list(Organization.objects.active().filter(path__startswith=root.path).order_by("path"))
    by_id = {o.pk: o for o in orgs}
    members = [
        Member(*row)
        for row in Person.objects.filter(org__path__startswith=root.path, status__in=MEMBER_STATUSES)
        .order_by("org__path", "name_pinyin", "id")
        .values_list("id", "name", "status", "org_id", "joined_on")
    ]
    full: dict[int, int] = defaultdict(int)
    total: dict[int, int] = defaultdict(int)
    for m in members:
        total[m.org_id] += 1
        if m.status == Status.FULL_MEMBER:
            full[m.org_id] += 1

    secretaries: dict[int, list[str]] = defaultdict(list)
    seats: dict[int, set[int]] = defaultdict(set)
    has_committee: set[int] = set()
    for org_id, role, person_id, name in (
        Post.objects.current(today)
        .filter(org__path__startswith=root.path)
        .order_by("org_id", "started_on", "id")
        .values_list("org_id", "role", "person_id", "person__name")
    ):
        if role == PostRole.SECRETARY:
            secretaries[org_id].append(name)
        if role in COMMITTEE_ROLES:
            seats[org_id].add(person_id)
        if role in _COMMITTEE_ONLY_ROLES:
            has_committee.add(org_id)

    terms: dict[int, tuple[dt.date, int]] = {}
    for org_id, started_on, years in (
        CommitteeTerm.objects.filter(org__path__startswith=root.path, ended_on__isnull=True)
        .order_by("org_id", "started_on")
        .values_list("org_id", "started_on", "length_years")
    ):
        terms[org_id] = (started_on, years)  # the latest open term wins

    groups: dict[int, int] = defaultdict(int)
    for o in orgs:
        if o.kind == OrgKind.GROUP and o.parent_id is not None:
            groups[o.parent_id] += 1

    gathered = Gathered(orgs=orgs, by_id=by_id, members=members)
    for o in orgs:
        term = terms.get(o.pk)
        facts: dict[str, Any] = {
            "org_kind": o.kind,
            "holders": secretaries.get(o.pk, []),
            "full_members": full[o.pk],
            "members": total[o.pk],
            "committee_seats": len(seats[o.pk]) if o.pk in has_committee else 0,
            "groups": groups[o.pk],
            "term_start": term[0] if term else None,
        }
        if term:
            facts["term_years"] = term[1]
        gathered.org_facts[o.pk] = facts
    return gathered


def lapse_window(year: int, today: dt.date, joined_on: dt.date | None) -> tuple[str, str]:
    """(from, to) months of the year to look at: from January (or joining), to the last full month."""
    start = dt.date(year, 1, 1)
    if joined_on and joined_on > start:
        start = joined_on.replace(day=1)
    end = dt.date(year, 12, 1)
    if today.year == year:
        last = today.replace(day=1) - dt.timedelta(days=1)
        end = last.replace(day=1)
    if end < start:
        end = start
    return f"{start:%Y-%m}", f"{end:%Y-%m}"


def person_facts(member: Member, *, year: int, today: dt.date) -> dict[str, Any]:
    """A member's facts for member.lapse; activity is None (no data yet) until dues and meetings exist."""
    start, end = lapse_window(year, today, member.joined_on)
    return {
        "person": member.name,
        "status": member.status,
        "from": start,
        "to": end,
        "activity": dict.fromkeys(LAPSE_TRACKS),
    }


# Development cases -------------------------------------------------------------------------------------

# The statuses a mentor or sponsor must hold, with their labels, as the rules' messages show them.
STATUS_LABELS = dict(Status.choices)


@dataclass(frozen=True)
class Case:
    """A development case as the rules see it: the person's branch, status and the case's facts."""

    id: int
    person_id: int
    name: str
    status: str
    org_id: int
    state: str
    facts: dict[str, Any]


def _day(raw: Any) -> dt.date | None:
    """A date written in a step's details (ISO text), or None when missing or malformed."""
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            return None
    return None


def gather_cases(root: Organization, *, year: int, today: dt.date) -> list[Case]:
    """The development cases of the people under `root` that a rule may still judge — every open case,
    and completed ones closed this year or not archived yet — with their facts: four queries.

    Facts of a case (dates are the step's `done_on`; None when the step is not recorded):
    application (else the case's opened_on), application_talk, activist_designation,
    candidate_designation, committee_review, pre_review, approval (+ approval_late_reason),
    reception_meeting (first reception vote, any outcome), reception_vote (the passed one: the start of
    the probation), probation_end, confirmation_vote (the first on or after the current probation end),
    confirmation_vote_latest, confirmation_approval (the first on or after the latest vote), archiving;
    cultivation {from, to}; publicity {from, to, recorded} (None until recorded); activist_review and
    probation_review (dates) with the ends of their windows (activist_review_end, probation_review_end);
    mentors (current, with their status now) and sponsors (None until sponsor_assignment is recorded);
    extensions [{from, to, label}] and extension_count (confirmation votes that extended the probation)."""
    archived = DevelopmentStep.objects.filter(case=OuterRef("pk"), code="archiving")
    selected = DevelopmentCase.objects.filter(person__org__path__startswith=root.path).filter(
        Q(state=CaseState.OPEN)
        | Q(state=CaseState.COMPLETED)
        & (Q(closed_on__gte=dt.date(year, 1, 1)) | Q(closed_on__isnull=True) | ~Exists(archived))
    )
    rows = list(
        selected.order_by("person__org__path", "opened_on", "id").values_list(
            "id",
            "person_id",
            "person__name",
            "person__status",
            "person__org_id",
            "state",
            "stage",
            "opened_on",
            "probation_ends_on",
            "closed_on",
        )
    )
    if not rows:
        return []
    ids = selected.values("pk")
    steps: dict[int, list[tuple[int, str, dt.date, str, dict[str, Any]]]] = defaultdict(list)
    for step_id, case_id, code, done_on, outcome, details in (
        DevelopmentStep.objects.filter(case__in=ids)
        .order_by("case_id", "done_on", "id")
        .values_list("id", "case_id", "code", "done_on", "outcome", "details")
    ):
        steps[case_id].append((step_id, code, done_on, outcome, details if isinstance(details, dict) else {}))
    roles: dict[int, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for case_id, role, name, status, assigned_on, ended_on in (
        CaseRole.objects.filter(case__in=ids)
        .order_by("case_id", "assigned_on", "id")
        .values_list("case_id", "role", "person__name", "person__status", "assigned_on", "ended_on")
    ):
        if assigned_on > today or (ended_on is not None and ended_on <= today):
            continue  # not (or no longer) holding the role today
        roles[case_id][role].append(
            {"name": name, "status": status, "status_label": STATUS_LABELS.get(status, status)}
        )
    passed = dict(BranchVote.objects.filter(step__case__in=ids).values_list("step_id", "passed"))

    out = []
    for case_id, person_id, name, status, org_id, state, stage, opened_on, probation_end, closed_on in rows:
        case_steps = steps.get(case_id, [])
        case_roles = roles.get(case_id, {})
        facts = case_facts(
            case_steps,
            mentors=list(case_roles.get("mentor", [])),
            sponsors=list(case_roles.get("sponsor", [])),
            passed=passed,
            opened_on=opened_on,
            probation_end=probation_end,
            closed_on=closed_on if state != CaseState.OPEN else None,
        )
        facts.update({"person": name, "status": status, "stage": stage, "state": state})
        out.append(Case(case_id, person_id, name, status, org_id, state, facts))
    return out


def case_facts(
    steps: list[tuple[int, str, dt.date, str, dict[str, Any]]],
    *,
    mentors: list[dict[str, Any]],
    sponsors: list[dict[str, Any]],
    passed: dict[int, bool],
    opened_on: dt.date,
    probation_end: dt.date | None,
    closed_on: dt.date | None,
) -> dict[str, Any]:
    """One case's facts from its steps (in date order), its current roles and its votes' results."""
    first: dict[str, dt.date] = {}
    details: dict[str, dict[str, Any]] = {}
    dates: dict[str, list[dt.date]] = defaultdict(list)
    reception_vote = None
    extensions: list[dict[str, Any]] = []
    for step_id, code, done_on, outcome, info in steps:
        dates[code].append(done_on)
        if code not in first:
            first[code], details[code] = done_on, info
        if code == "reception_vote" and reception_vote is None:
            if passed.get(step_id, outcome == "passed"):
                reception_vote = done_on
        if code == "confirmation_vote" and outcome == "extend":
            months = info.get("extension_months")
            if isinstance(months, int) and not isinstance(months, bool):
                extensions.append(
                    {
                        "from": done_on,
                        "to": v.add_months(done_on, months),
                        "label": f"{done_on.year}年{done_on.month}月{done_on.day}日支部大会决定",
                    }
                )
            else:
                extensions.append({"from": done_on, "to": None})
    votes = dates.get("confirmation_vote", [])
    latest_vote = votes[-1] if votes else None
    after_end = [d for d in votes if probation_end is not None and d >= probation_end]
    approvals = [d for d in dates.get("confirmation_approval", []) if latest_vote and d >= latest_vote]
    publicity = None
    if "publicity" in first:
        info = details["publicity"]
        recorded = info.get("workdays")
        publicity = {
            "from": _day(info.get("starts_on")),
            "to": _day(info.get("ends_on")) or first["publicity"],
            "recorded": recorded if isinstance(recorded, int) and not isinstance(recorded, bool) else None,
        }
    candidate = first.get("candidate_designation")
    probation_review_end = probation_end
    if closed_on is not None and (probation_review_end is None or closed_on < probation_review_end):
        probation_review_end = closed_on
    return {
        "application": first.get("application", opened_on),
        "application_talk": first.get("application_talk"),
        "activist_designation": first.get("activist_designation"),
        "candidate_designation": candidate,
        "cultivation": {"from": first.get("activist_designation"), "to": candidate},
        "activist_review": dates.get("activist_review", []),
        "activist_review_end": candidate or closed_on,
        "mentors": mentors,
        "sponsors": sponsors if "sponsor_assignment" in first else None,
        "committee_review": first.get("committee_review"),
        "publicity": publicity,
        "pre_review": first.get("pre_review"),
        "reception_meeting": first.get("reception_vote"),
        "reception_vote": reception_vote,
        "approval": first.get("approval"),
        "approval_late_reason": details.get("approval", {}).get("late_reason") or None,
        "probation_review": dates.get("probation_review", []),
        "probation_review_end": probation_review_end,
        "probation_end": probation_end,
        "confirmation_vote": after_end[0] if after_end else None,
        "confirmation_vote_latest": latest_vote,
        "confirmation_approval": approvals[0] if approvals else None,
        "extensions": extensions,
        "extension_count": len(extensions),
        "archiving": first.get("archiving"),
    }


def case_years(case: Case) -> set[int]:
    """The years of a case's publicity (the span counted in working days), whose calendars to load."""
    out: set[int] = set()
    publicity = case.facts.get("publicity")
    for key in ("from", "to"):
        day = publicity.get(key) if publicity else None
        if isinstance(day, dt.date):
            out.add(day.year)
    return out
