"""A valid run of one case through the pipeline, step by step, for tests of services, pages and the API.

`drive(world, person, until=code)` opens a case and records every step up to and including `until` with
dates and data that satisfy the national pack; `PLAN` holds those dates so that tests can put a boundary
one day off.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from zhibu.core.scoping import system_scope
from zhibu.development import services
from zhibu.development.models import DevelopmentCase
from zhibu.development.services import VoteInput
from zhibu.people.models import Person

D = dt.date
TODAY = D(2026, 11, 23)

# code → (date, data); votes are given separately.
PLAN: list[tuple[str, dt.date, dict[str, Any]]] = [
    ("application_talk", D(2023, 3, 20), {"talker": "李红梅"}),
    ("activist_designation", D(2023, 9, 5), {"method": "party"}),
    ("activist_filing", D(2023, 9, 10), {}),
    ("mentor_assignment", D(2023, 9, 10), {"mentors": "MENTORS"}),
    ("activist_review", D(2024, 3, 1), {"conclusion": "表现良好"}),
    ("thought_report", D(2024, 4, 1), {}),
    ("activist_review", D(2024, 8, 30), {"conclusion": "表现良好"}),
    ("candidate_designation", D(2024, 9, 5), {}),
    ("candidate_filing", D(2024, 9, 10), {}),
    ("sponsor_assignment", D(2024, 9, 10), {"sponsors": "SPONSORS"}),
    ("political_review", D(2024, 9, 20), {"conclusion": "passed", "summary": "政治历史清楚"}),
    ("training", D(2024, 10, 10), {"started_on": "2024-10-08", "days": 3, "hours": 24}),
    ("committee_review", D(2024, 10, 15), {}),
    # Wed 16 → Tue 22 October 2024: 16, 17, 18, 21, 22 = 5 working days.
    ("publicity", D(2024, 10, 22), {"starts_on": "2024-10-16"}),
    ("pre_review", D(2024, 10, 28), {}),
    ("application_form", D(2024, 11, 1), {}),
    ("reception_vote", D(2024, 11, 10), {}),
    ("upper_talk", D(2024, 11, 20), {"talker": "组织员 周明"}),
    ("approval", D(2024, 12, 15), {}),
    ("approval_filing", D(2024, 12, 20), {}),
    ("branch_assignment", D(2024, 12, 20), {}),
    ("oath", D(2024, 12, 25), {}),
    ("probation_review", D(2025, 6, 1), {"conclusion": "表现良好"}),
    ("confirmation_application", D(2025, 10, 15), {}),
    ("confirmation_vote", D(2025, 11, 12), {"decision": "confirm"}),
    ("confirmation_approval", D(2025, 12, 1), {}),
    ("archiving", D(2025, 12, 5), {}),
]
APPLIED_ON = D(2023, 3, 1)
BORN = D(2000, 5, 1)


def date_of(code: str) -> dt.date:
    return next(day for c, day, _ in PLAN if c == code)


def passing_vote(entitled: int) -> VoteInput:
    return VoteInput(present=entitled, in_favour=entitled)


def open_case(world: Any, person: Person, *, applied_on: dt.date = APPLIED_ON) -> DevelopmentCase:
    return services.case_open(
        actor=None, scope=system_scope(), person=person, applied_on=applied_on, today=TODAY
    )


def record(
    world: Any, case: DevelopmentCase, code: str, day: dt.date, data: dict[str, Any], **kw: Any
) -> Any:
    data = dict(data)
    full = [world.people.school_secretary.pk, world.people.branch_secretary.pk]
    if data.get("mentors") == "MENTORS":
        data["mentors"] = full[:1]
    if data.get("sponsors") == "SPONSORS":
        data["sponsors"] = full
    vote = kw.pop("vote", None)
    if code in ("reception_vote", "confirmation_vote") and vote is None:
        vote = passing_vote(len(services.entitled_voters(case.person, day)))
    return services.step_record(
        actor=None,
        scope=system_scope(),
        case=case,
        code=code,
        done_on=day,
        data=data,
        vote=vote,
        today=kw.pop("today", TODAY),
        **kw,
    )


def drive(
    world: Any, person: Person, *, until: str | None = None, skip: tuple[str, ...] = ()
) -> DevelopmentCase:
    """Open a case for `person` and record the plan's steps up to `until` (all when None)."""
    case = open_case(world, person)
    for code, day, data in PLAN:
        if code in skip:
            continue
        record(world, case, code, day, data)
        if code == until:
            break
    case.refresh_from_db()
    return case


def applicant(world: Any, name: str = "刘小青", born: dt.date = BORN, **kw: Any) -> Person:
    from tests.factories import make_person
    from zhibu.people.models import Status

    return make_person(name, world.sa_b1, status=Status.APPLICANT, birth_date=born, **kw)
