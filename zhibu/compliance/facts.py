"""The facts every rule reads, gathered for a whole subtree in a fixed number of queries.

The check kinds are pure: they read only what is handed to them. This module reads the records once per
evaluation — the orgs of the subtree, the members, the current posts, the open terms, the development
cases with their steps, mentors and sponsors and votes, the year's meetings with their attendance and the
talks — and builds each subject's facts from memory, so the number of queries does not grow with the
number of orgs, people, cases or meetings.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case as SqlCase
from django.db.models import Count, Exists, F, JSONField, OuterRef, Q, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from zhibu.compliance import values as v
from zhibu.development.models import BranchVote, CaseRole, CaseState, DevelopmentCase, DevelopmentStep
from zhibu.life.models import (
    Attendance,
    AttendanceState,
    LeaveState,
    Meeting,
    MeetingKind,
    MeetingState,
    Talk,
)
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
# The tracks of member.lapse: organisational_life is read from attendance (see gather_life); no records of
# dues or assigned work exist yet.
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
    # Current posts by org: the secretaries' person ids, and every committee seat (person id → name).
    secretary_ids: dict[int, set[int]] = field(default_factory=dict)
    seat_holders: dict[int, dict[int, str]] = field(default_factory=dict)
    has_committee: set[int] = field(default_factory=set)


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
    secretary_ids: dict[int, set[int]] = defaultdict(set)
    seats: dict[int, dict[int, str]] = defaultdict(dict)
    has_committee: set[int] = set()
    for org_id, role, person_id, name in (
        Post.objects.current(today)
        .filter(org__path__startswith=root.path)
        .order_by("org_id", "started_on", "id")
        .values_list("org_id", "role", "person_id", "person__name")
    ):
        if role == PostRole.SECRETARY:
            secretaries[org_id].append(name)
            secretary_ids[org_id].add(person_id)
        if role in COMMITTEE_ROLES:
            seats[org_id][person_id] = name
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

    gathered = Gathered(
        orgs=orgs,
        by_id=by_id,
        members=members,
        secretary_ids=dict(secretary_ids),
        seat_holders=dict(seats),
        has_committee=has_committee,
    )
    for o in orgs:
        term = terms.get(o.pk)
        facts: dict[str, Any] = {
            "org_kind": o.kind,
            "holders": secretaries.get(o.pk, []),
            "secretaries": len(secretary_ids.get(o.pk, ())),
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
    return _month(start), _month(end)


def person_facts(
    member: Member, *, year: int, today: dt.date, life: MonthsAttended | None = None
) -> dict[str, Any]:
    """A member's facts for member.lapse: organisational_life from attendance (None when the member was
    invited to no held meeting in the year); dues and assigned work are None (no records yet)."""
    start, end = lapse_window(year, today, member.joined_on)
    activity: dict[str, Any] = dict.fromkeys(LAPSE_TRACKS)
    if life is not None:
        activity["organisational_life"] = life.track(start, end)
    return {
        "person": member.name,
        "status": member.status,
        "from": start,
        "to": end,
        "activity": activity,
    }


# Organisational life -----------------------------------------------------------------------------------

# The meeting kinds whose held meetings an org's facts count, as `<kind>_held` date lists.
COUNTED_KINDS = (
    MeetingKind.GENERAL_ASSEMBLY,
    MeetingKind.COMMITTEE_MEETING,
    MeetingKind.GROUP_MEETING,
    MeetingKind.PARTY_LECTURE,
    MeetingKind.THEME_DAY,
    MeetingKind.LIFE_MEETING,
)
# The kinds whose quorum is checked, with the prefix of their facts (assembly_entitled …).
QUORUM_KINDS = {MeetingKind.GENERAL_ASSEMBLY: "assembly", MeetingKind.COMMITTEE_MEETING: "committee"}


def _month(day: dt.date) -> str:
    """YYYY-MM (what f"{day:%Y-%m}" gives, without strftime: a district's members call it by the
    hundred thousand)."""
    return f"{day.year:04d}-{day.month:02d}"


@dataclass
class MonthsAttended:
    """One member's organisational life in the year, by month (YYYY-MM): months with a held meeting they
    were invited to, months they were present at one, months with an approved leave from one."""

    invited: set[str] = field(default_factory=set)
    present: set[str] = field(default_factory=set)
    excused: set[str] = field(default_factory=set)

    def track(self, start: str, end: str) -> dict[str, list[str]]:
        """The organisational_life track of member.lapse between two months (inclusive), as
        {active, excused}. A month of the window in which no held meeting invited the member counts as
        active: a branch that held nothing that month is judged by the frequency rules, the member is not
        held to a meeting that did not take place. Months present after the window (this month) stay
        active too, so they end a current run."""
        active = set(self.present)
        year, month = int(start[:4]), int(start[5:7])
        last = (int(end[:4]), int(end[5:7]))
        while (year, month) <= last:
            name = f"{year:04d}-{month:02d}"
            if name not in self.invited:
                active.add(name)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return {"active": sorted(active), "excused": sorted(self.excused - self.present)}


@dataclass(frozen=True)
class MeetingSubject:
    """A meeting as the rules see it (subject "meeting"): its org, label and facts."""

    id: int
    org_id: int
    label: str
    facts: dict[str, Any]


@dataclass
class Life:
    meetings: list[MeetingSubject]
    attended: dict[int, MonthsAttended]  # person id → months


def _local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def gather_life(gathered: Gathered, root: Organization, *, year: int, today: dt.date) -> Life:
    """Organisational life of the subtree in the year, in four queries whatever the number of meetings,
    attendances or talks; adds to each org's facts and returns the meetings and members' months.

    Org facts: `<kind>_held` (dates of the org's held meetings of that kind, or whose also_counts_as
    names it; group meetings are the group org's own), `secretary_lectures` (held lectures whose
    lecturer is a current secretary of the org), `year` and the year as the period, and for a branch the
    talk coverage: `talk_committee_pairs`/`_done` (every pair of the committee, when it has one),
    `talk_with_committee`/`_done` (each member not on the committee, with someone holding a committee
    seat — the secretary where there is no committee), `talk_with_members`/`_done` (each such member with
    another one). Who the two people are decides what a talk covers, not the relation recorded on it.
    Meeting facts (meetings of the year begun by today, not cancelled): `meeting_day`,
    `minutes_recorded` (the day the minutes were recorded, None while they are missing or name no
    topic), and for a held assembly or committee meeting `<assembly|committee>_entitled`/`_present`
    (invitees who may vote, and those of them present)."""
    start = timezone.make_aware(dt.datetime(year, 1, 1))
    end = timezone.make_aware(dt.datetime(year + 1, 1, 1))
    # Meetings up to the end of February of the next year: an autumn semester ends in January or February.
    end_counted = timezone.make_aware(dt.datetime(year + 1, 3, 1))
    in_subtree = Meeting.objects.filter(org__path__startswith=root.path)
    rows = list(
        in_subtree.filter(starts_at__gte=start, starts_at__lt=end_counted)
        .exclude(state=MeetingState.CANCELLED)
        .order_by("starts_at", "id")
        .values_list(
            "id",
            "org_id",
            "kind",
            "also_counts_as",
            "title",
            "state",
            "starts_at",
            "lecturer_id",
            "minutes__topics",
            "minutes_recorded_at",
        )
    )
    counts: dict[int, tuple[int, int]] = {
        row["meeting_id"]: (row["entitled"], row["present"])
        for row in Attendance.objects.filter(
            meeting__in=in_subtree.filter(
                state=MeetingState.HELD, starts_at__gte=start, starts_at__lt=end
            ).values("pk")
        )
        .values("meeting_id")
        .annotate(
            entitled=Count("id", filter=Q(may_vote=True)),
            present=Count("id", filter=Q(may_vote=True, state=AttendanceState.PRESENT)),
        )
        .order_by()
    }
    attended: dict[int, MonthsAttended] = defaultdict(MonthsAttended)
    for row in (
        Attendance.objects.filter(
            person__org__path__startswith=root.path,
            meeting__state=MeetingState.HELD,
            meeting__starts_at__gte=start,
            meeting__starts_at__lt=end,
        )
        .annotate(month=TruncMonth("meeting__starts_at"))
        .values("person_id", "month")
        .annotate(
            present=Count("id", filter=Q(state=AttendanceState.PRESENT)),
            excused=Count("id", filter=Q(leave_state=LeaveState.APPROVED)),
        )
        .order_by()
    ):
        month = _month(row["month"])
        months = attended[row["person_id"]]
        months.invited.add(month)
        if row["present"]:
            months.present.add(month)
        if row["excused"]:
            months.excused.add(month)
    talks = list(
        Talk.objects.filter(org__path__startswith=root.path, held_on__year=year).values_list(
            "org_id", "person_a_id", "person_b_id"
        )
    )

    held: dict[int, dict[str, list[dt.date]]] = defaultdict(lambda: defaultdict(list))
    meetings: list[MeetingSubject] = []
    for mid, org_id, kind, also, title, state, starts_at, lecturer_id, topics, recorded_at in rows:
        day = _local_day(starts_at)
        kinds = {kind, *(k for k in (also if isinstance(also, list) else []) if isinstance(k, str))}
        if state == MeetingState.HELD:
            for k in kinds:
                held[org_id][k].append(day)
            if MeetingKind.PARTY_LECTURE in kinds and lecturer_id in gathered.secretary_ids.get(org_id, ()):
                held[org_id]["secretary_lecture"].append(day)
        if day.year != year or day > today or org_id not in gathered.by_id:
            continue
        facts: dict[str, Any] = {
            "org_kind": gathered.by_id[org_id].kind,
            "meeting_day": day,
            "minutes_recorded": _local_day(recorded_at) if topics and recorded_at else None,
        }
        if state == MeetingState.HELD:
            for k, prefix in QUORUM_KINDS.items():
                if k in kinds:
                    entitled, present = counts.get(mid, (0, 0))
                    facts[f"{prefix}_entitled"], facts[f"{prefix}_present"] = entitled, present
        meetings.append(MeetingSubject(mid, org_id, f"{title}（{day:%Y-%m-%d}）", facts))

    branch_talks: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for org_id, a, b in talks:
        o = gathered.by_id.get(org_id)
        if o is None:
            continue
        branch_id = o.parent_id if o.kind == OrgKind.GROUP and o.parent_id is not None else o.pk
        branch_talks[branch_id].append((a, b))
    members_of: dict[int, dict[int, str]] = defaultdict(dict)
    for m in gathered.members:
        members_of[m.org_id][m.id] = m.name

    for o in gathered.orgs:
        facts = gathered.org_facts[o.pk]
        facts.update(
            {
                "year": year,
                "period_start": dt.date(year, 1, 1),
                "period_end": dt.date(year, 12, 31),
                "period_label": f"{year}年",
            }
        )
        for k in COUNTED_KINDS:
            facts[f"{k}_held"] = sorted(held[o.pk].get(k, []))
        facts["secretary_lectures"] = sorted(held[o.pk].get("secretary_lecture", []))
        if o.kind == OrgKind.BRANCH:
            facts.update(
                talk_facts(
                    members_of.get(o.pk, {}),
                    gathered.seat_holders.get(o.pk, {}),
                    has_committee=o.pk in gathered.has_committee,
                    talks=branch_talks.get(o.pk, []),
                )
            )
    return Life(meetings=meetings, attended=dict(attended))


def talk_facts(
    members: dict[int, str],
    seats: dict[int, str],
    *,
    has_committee: bool,
    talks: list[tuple[int, int]],
) -> dict[str, Any]:
    """A branch's talk coverage facts from its members, its committee seats and the year's talks (pairs
    of person ids); talks with someone outside the branch and its committee cover nothing."""
    committee = dict(seats) if has_committee else {}
    others = {pid: name for pid, name in members.items() if pid not in seats}
    pairs = [
        [committee[a], committee[b]]
        for i, a in enumerate(sorted(committee))
        for b in sorted(committee)[i + 1 :]
    ]
    pairs_done: list[list[str]] = []
    with_committee_done: list[str] = []
    with_members_done: list[str] = []
    for a, b in talks:
        if a == b:
            continue
        if a in committee and b in committee:
            pairs_done.append([committee[a], committee[b]])
        elif a in seats and b in others:
            with_committee_done.append(others[b])
        elif b in seats and a in others:
            with_committee_done.append(others[a])
        elif a in others and b in others:
            with_members_done += [others[a], others[b]]
    return {
        "talk_committee_pairs": pairs,
        "talk_committee_pairs_done": pairs_done,
        "talk_with_committee": sorted(others.values()) if seats else [],
        "talk_with_committee_done": with_committee_done,
        "talk_with_members": sorted(others.values()) if len(others) >= 2 else [],
        "talk_with_members_done": with_members_done,
    }


# Development cases -------------------------------------------------------------------------------------

# The statuses a mentor or sponsor must hold, with their labels, as the rules' messages show them.
STATUS_LABELS = dict(Status.choices)


# The steps whose details a case's facts read (publicity's dates and working days, approval's late reason,
# an extension's months).
DETAILED_STEPS = ("publicity", "approval", "confirmation_vote")


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
    # Only the steps whose details case_facts reads bring them (NULL for the rest): decoding every step's
    # JSON was most of the time of reading a district's cases.
    read = SqlCase(When(code__in=DETAILED_STEPS, then=F("details")), output_field=JSONField())
    for step_id, case_id, code, done_on, outcome, details in (
        DevelopmentStep.objects.filter(case__in=ids)
        .order_by("case_id", "done_on", "id")
        .values_list("id", "case_id", "code", "done_on", "outcome", read)
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
