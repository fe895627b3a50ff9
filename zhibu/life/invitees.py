"""Who is invited to a meeting, in which role, and who may vote: computed from the meeting's kind and org.

- general_assembly, theme_day, study_session, life_meeting, party_lecture: the members of the org
  (probationary included; an org above a branch counts the members of its whole subtree);
- committee_meeting and leadership_life_meeting: the org's committee (its current committee posts);
- group_meeting: the group's members (Person.group);
- party_lecture, theme_day and study_session may also invite activists and candidates for membership.

Only full members vote in an assembly (or in a meeting that also counts as one: a theme day that holds
the quarter's assembly); committee members vote in the committee meeting; nobody else votes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from zhibu.compliance.facts import COMMITTEE_ROLES
from zhibu.core.errors import ServiceError
from zhibu.life.models import AttendanceRole, MeetingKind
from zhibu.orgs.models import Organization, OrgKind, Post, PostRole
from zhibu.people.models import MEMBER_STATUSES, Person, Status

ABOVE_GROUP = (OrgKind.BRANCH, OrgKind.GENERAL_BRANCH, OrgKind.COMMITTEE)
# 民主生活会 is the leadership team's (a school's party committee or general branch), not a branch's.
LEADERSHIP_KINDS = (OrgKind.GENERAL_BRANCH, OrgKind.COMMITTEE)
COMMITTEE_KINDS = (MeetingKind.COMMITTEE_MEETING, MeetingKind.LEADERSHIP_LIFE_MEETING)
# Kinds to which activists (and candidates) may be invited to attend.
OPEN_TO_ACTIVISTS = (MeetingKind.PARTY_LECTURE, MeetingKind.THEME_DAY, MeetingKind.STUDY_SESSION)
# Kinds a meeting may also count as (held inside it, with the same invitees: the branch's members).
MEMBERS_KINDS = (
    MeetingKind.GENERAL_ASSEMBLY,
    MeetingKind.PARTY_LECTURE,
    MeetingKind.THEME_DAY,
    MeetingKind.STUDY_SESSION,
    MeetingKind.LIFE_MEETING,
)
ACTIVIST_STATUSES = (Status.ACTIVIST, Status.CANDIDATE)
# Posts whose holders sit on a committee only when the org has a real committee, not just a secretary.
_COMMITTEE_ONLY = (
    PostRole.ORGANIZATION_OFFICER,
    PostRole.PUBLICITY_OFFICER,
    PostRole.DISCIPLINE_OFFICER,
    PostRole.COMMITTEE_MEMBER,
)


@dataclass(frozen=True)
class Invitee:
    person_id: int
    name: str
    role: str  # an AttendanceRole
    may_vote: bool


def kind_label(kind: str) -> str:
    return str(MeetingKind(kind).label)


def check_org_suits_kind(org: Organization, kind: str) -> None:
    """Refuse a kind the org cannot hold (a group meeting outside a group, an assembly in a group …)."""
    if kind not in MeetingKind.values:
        raise ServiceError(f"未知的会议类型：{kind}", field="kind")
    if org.dissolved_on is not None:
        raise ServiceError(f"{org.name} 已于 {org.dissolved_on:%Y-%m-%d} 撤销，不能再安排会议", field="org")
    label = kind_label(kind)
    if kind == MeetingKind.GROUP_MEETING:
        if org.kind != OrgKind.GROUP:
            raise ServiceError(f"党小组会应由党小组召开，{org.name} 是{org.get_kind_display()}", field="org")
    elif kind == MeetingKind.LEADERSHIP_LIFE_MEETING:
        if org.kind not in LEADERSHIP_KINDS:
            raise ServiceError(
                f"民主生活会由领导班子（学校党委或党总支）召开，{org.name} 是"
                f"{org.get_kind_display()}；党支部召开的是组织生活会",
                field="org",
            )
    elif org.kind not in ABOVE_GROUP:
        raise ServiceError(
            f"{label}应由党支部、党总支或党委召开，{org.name} 是{org.get_kind_display()}", field="org"
        )


def check_also_counts_as(kind: str, also: list[str]) -> None:
    """A meeting may also count as another kind only when both invite the branch's members."""
    for other in also:
        if other not in MeetingKind.values:
            raise ServiceError(f"“同时计为”中有未知的会议类型：{other}", field="also_counts_as")
        if other == kind:
            raise ServiceError(
                f"“同时计为”不能是会议本身的类型（{kind_label(kind)}）", field="also_counts_as"
            )
        if kind not in MEMBERS_KINDS or other not in MEMBERS_KINDS:
            raise ServiceError(
                f"{kind_label(kind)}不能同时计为{kind_label(other)}：两者的参会人员不同",
                field="also_counts_as",
            )


def counts_as(kind: str, also: list[str] | tuple[str, ...], wanted: str) -> bool:
    return kind == wanted or wanted in also


def committee_posts(org: Organization, on: dt.date) -> list[Post]:
    """The org's current committee posts (empty when it has only a secretary: that is no committee)."""
    posts = list(
        Post.objects.current(on)
        .filter(org=org, role__in=COMMITTEE_ROLES)
        .select_related("person")
        .order_by("role", "started_on", "id")
    )
    if not any(p.role in _COMMITTEE_ONLY for p in posts):
        return []
    return posts


def compute(
    org: Organization, kind: str, *, include_activists: bool, also_counts_as: list[str], on: dt.date
) -> list[Invitee]:
    """The invitees of a meeting of `kind` held by `org` on `on` (check_org_suits_kind first)."""
    if kind in COMMITTEE_KINDS:
        posts = committee_posts(org, on)
        if not posts:
            raise ServiceError(
                f"{org.name} 没有在任的支部委员会（只有书记、副书记或无人任职），不能召开{kind_label(kind)}",
                field="kind",
            )
        votes = kind == MeetingKind.COMMITTEE_MEETING
        seen: dict[int, Invitee] = {}
        for post in posts:
            if post.person_id not in seen:
                seen[post.person_id] = Invitee(
                    post.person_id, post.person.name, AttendanceRole.COMMITTEE, votes
                )
        return list(seen.values())

    if kind == MeetingKind.GROUP_MEETING:
        people = Person.objects.filter(group=org, status__in=MEMBER_STATUSES)
    else:
        statuses: tuple[str, ...] = MEMBER_STATUSES
        if include_activists:
            statuses = (*MEMBER_STATUSES, *ACTIVIST_STATUSES)
        people = Person.objects.filter(org__path__startswith=org.path, status__in=statuses)
    assembly = counts_as(kind, also_counts_as, MeetingKind.GENERAL_ASSEMBLY)
    out = []
    for pid, name, status in people.order_by("name_pinyin", "id").values_list("id", "name", "status"):
        if status == Status.FULL_MEMBER:
            out.append(Invitee(pid, name, AttendanceRole.MEMBER, assembly))
        elif status == Status.PROBATIONARY:
            out.append(Invitee(pid, name, AttendanceRole.PROBATIONARY, False))
        else:
            out.append(Invitee(pid, name, AttendanceRole.ACTIVIST, False))
    return out
