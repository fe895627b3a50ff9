"""The status lifecycle as a table: which change is allowed from which status, and what it records."""

from __future__ import annotations

from zhibu.people.models import Status

S = Status

# from status → the statuses it may change to. Anything else is refused.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.APPLICANT: (S.ACTIVIST, S.DISCONTINUED, S.TRANSFERRED_OUT, S.DECEASED),
    S.ACTIVIST: (S.CANDIDATE, S.DISCONTINUED, S.TRANSFERRED_OUT, S.DECEASED),
    S.CANDIDATE: (S.PROBATIONARY, S.ACTIVIST, S.DISCONTINUED, S.TRANSFERRED_OUT, S.DECEASED),
    S.PROBATIONARY: (S.FULL_MEMBER, S.PROBATION_CANCELLED, S.WITHDRAWN, S.TRANSFERRED_OUT, S.DECEASED),
    S.FULL_MEMBER: (
        S.SUSPENDED,
        S.LAPSED,
        S.WITHDRAWN,
        S.REMOVED,
        S.EXPELLED,
        S.TRANSFERRED_OUT,
        S.DECEASED,
    ),
    S.SUSPENDED: (S.FULL_MEMBER, S.REMOVED, S.DECEASED),
    # Someone transferred out may come back (the relationship is transferred in again).
    S.TRANSFERRED_OUT: (S.FULL_MEMBER, S.PROBATIONARY, S.APPLICANT, S.ACTIVIST, S.CANDIDATE),
    # After these a person may apply again; how long they must wait is a policy rule, not a table entry.
    S.DISCONTINUED: (S.APPLICANT,),
    S.PROBATION_CANCELLED: (S.APPLICANT,),
    S.LAPSED: (S.APPLICANT,),
    S.WITHDRAWN: (S.APPLICANT,),
    S.REMOVED: (S.APPLICANT,),
    S.EXPELLED: (S.APPLICANT,),
    S.DECEASED: (),
}

# The key date a change into a status sets on the person, when it is still empty or the change is new.
DATE_FIELD_FOR: dict[str, str] = {
    S.APPLICANT: "applied_on",
    S.ACTIVIST: "activist_on",
    S.CANDIDATE: "candidate_on",
    S.PROBATIONARY: "joined_on",
    S.FULL_MEMBER: "confirmed_on",
}

# Statuses a record may start in (a registry import brings existing members as they are).
INITIAL_STATUSES: tuple[str, ...] = (
    S.APPLICANT,
    S.ACTIVIST,
    S.CANDIDATE,
    S.PROBATIONARY,
    S.FULL_MEMBER,
    S.SUSPENDED,
)


def allowed_next(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


def is_allowed(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, ())
