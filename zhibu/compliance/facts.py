"""The facts every rule reads, gathered for a whole subtree in a fixed number of queries.

The check kinds are pure: they read only what is handed to them. This module reads the records once per
evaluation — the orgs of the subtree, the members, the current posts, the open terms — and builds each
subject's facts from memory, so the number of queries does not grow with the number of orgs or people.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

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
