"""Votes in meetings (表决): open a vote with the voters entitled that day, cast ballots — open (记名) or
secret (无记名) — or record a count made on paper in the room, and close it with the result.

The quorum and the majority come from the policy pack, by a parameter prefix (`<rule>.quorum`,
`<rule>.pass`); a vote passes against the number entitled to vote (应到会), not the number present. The
counting and its explanation are the development pipeline's `tally`, so a branch assembly's vote reads the
same wherever it is held.

A secret ballot is two rows written in one transaction: a receipt that the person has voted and a ballot
with the choice, joined by nothing (a random key, no person, no time). The receipt's unique constraint is
what refuses a second ballot, also when two requests arrive at the same moment. Nothing else names a
secret voter's choice: not the audit log, not the result, not a log line; while a secret vote is open not
even the running counts are shown, since watching them change after each voter would reveal the choice.

`Vote.in_favour` counts the written opinions in favour of absent voters (书面意见) as well, as the
development pipeline's `BranchVote` and `VoteInput` do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from zhibu.compliance.packs import effective_policy
from zhibu.compliance.values import Fraction
from zhibu.core.audit import audit_record, diff, snapshot
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.scoping import Scope
from zhibu.development import services as development
from zhibu.development.models import BranchVote, CaseState, DevelopmentCase, DevelopmentStep, VotePurpose
from zhibu.development.services import VoteInput
from zhibu.life import services
from zhibu.life.models import (
    Attendance,
    AttendanceState,
    Ballot,
    BallotReceipt,
    Meeting,
    MeetingKind,
    MeetingState,
    Vote,
    VoteCast,
    VoteChoice,
    VoteState,
)
from zhibu.orgs.models import Organization
from zhibu.people.models import Person

# A development vote decides the case's step of the same name, with the parameters of that name.
DEVELOPMENT_STEPS: Mapping[str, str] = {
    VotePurpose.RECEPTION: "reception_vote",
    VotePurpose.CONFIRMATION: "confirmation_vote",
}
_COUNTED_FIELDS = [
    "state",
    "entitled_count",
    "present_count",
    "written_opinions",
    "in_favour",
    "against",
    "abstain",
    "passed",
    "closed_at",
]


# Helpers ----------------------------------------------------------------------------------------------


def _check_manage(scope: Scope, meeting: Meeting) -> None:
    if not scope.can_view_path(meeting.org.path):
        raise NotFound("会议不存在或不在您的权限范围内")
    if not scope.can_manage_path(meeting.org.path):
        raise NotPermitted(f"您无权组织“{meeting.title}”的表决")


def _locked_vote(vote: Vote) -> Vote:
    return Vote.objects.select_for_update(of=("self",)).select_related("meeting__org").get(pk=vote.pk)


def _fractions(org: Organization, rule: str) -> tuple[Fraction, Fraction]:
    """The quorum and the majority of a rule, from the org's effective policy."""
    policy = effective_policy(org)
    out: list[Fraction] = []
    for key in (f"{rule}.quorum", f"{rule}.pass"):
        try:
            value = policy.value(key)
        except KeyError:
            raise ServiceError(f"制度包没有规定参数 {key}，不能按“{rule}”的规则表决", field="rule") from None
        if not isinstance(value, Fraction):
            raise ServiceError(f"制度包参数 {key} 不是比例，不能用于表决", field="rule")
        out.append(value)
    return out[0], out[1]


# How the explanation names those entitled to vote, by rule (the assembly's and the development votes' are
# the full members).
_VOTERS = {"committee_meeting": "有表决权的委员"}


def _voters(rule: str) -> str:
    return _VOTERS.get(rule, "有表决权的正式党员")


def _what(title: str) -> str:
    return f"“{title}”的表决"


def _present_ids(meeting_id: int, entitled_ids: set[int]) -> set[int]:
    """Those entitled to vote who are checked in now."""
    present = Attendance.objects.filter(
        meeting_id=meeting_id, state=AttendanceState.PRESENT, person_id__in=entitled_ids
    ).values_list("person_id", flat=True)
    return set(present)


def _entitled_ids(vote: Vote) -> set[int]:
    return {int(e["id"]) for e in vote.entitled}


def _voter_ids(vote: Vote) -> set[int]:
    """Who has voted: the receipts of a secret vote, the casts of an open one."""
    rows = BallotReceipt.objects.filter(vote=vote) if vote.secret else VoteCast.objects.filter(vote=vote)
    return set(rows.values_list("person_id", flat=True))


def _paper_counted(vote: Vote) -> bool:
    return vote.in_favour + vote.against + vote.abstain + vote.written_opinions > 0


def _count(raw: Any, label: str, field: str) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ServiceError(f"{label}应为整数", field=field) from None
    if value < 0:
        raise ServiceError(f"{label}不能为负数", field=field)
    return value


# Opening ----------------------------------------------------------------------------------------------


@transaction.atomic
def vote_open(
    *,
    actor: Any,
    scope: Scope,
    meeting: Meeting,
    title: str,
    secret: bool = True,
    rule: str | None = None,
    development_case: DevelopmentCase | None = None,
    development_purpose: str = "",
    now: dt.datetime | None = None,
) -> Vote:
    """Open a vote in a meeting under way with the entitled voters and those present; refuse without quorum.

    `rule` is the parameter prefix of the quorum and the majority (general_assembly by default); a
    development vote (`development_case` and `development_purpose` reception/confirmation) takes the rule
    of its step and, as its entitled voters, the branch's full members on the meeting's day."""
    now = now or timezone.now()
    meeting = Meeting.objects.select_for_update(of=("self",)).select_related("org").get(pk=meeting.pk)
    _check_manage(scope, meeting)
    title = (title or "").strip()
    if not title:
        raise ServiceError("请填写表决事项", field="title")
    if len(title) > 200:
        raise ServiceError("表决事项不能超过200字", field="title")
    if meeting.state == MeetingState.CANCELLED:
        raise ServiceError(f"“{meeting.title}”已取消，不能表决")
    if meeting.state == MeetingState.HELD:
        raise ServiceError(f"“{meeting.title}”已确认召开，会议记录已经完成，不能再发起表决")
    if meeting.starts_at > now:
        starts = timezone.localtime(meeting.starts_at)
        raise ServiceError(f"“{meeting.title}”于{starts:%Y-%m-%d %H:%M}开始，会议开始后才能表决")

    if development_case is not None:
        rule, voters = _development_voters(scope, meeting, development_case, development_purpose, rule)
        entitled = [(p.pk, p.name) for p in voters]
    else:
        if development_purpose:
            raise ServiceError("发展党员的表决须选择发展对象", field="development_case")
        own = services.quorum_rule(meeting)
        if not own:
            kinds = "、".join(str(MeetingKind(k).label) for k in services.QUORUM_RULES)
            raise ServiceError(
                f"{meeting.get_kind_display()}没有表决规则：只有{kinds}（或同时计为党员大会的会议）可以表决"
            )
        if rule not in (None, "", own):
            raise ServiceError(
                f"{meeting.get_kind_display()}的表决按“{own}”的规则进行，不能用“{rule}”", field="rule"
            )
        rule = own
        entitled = list(
            meeting.attendances.filter(may_vote=True)
            .order_by("person__name_pinyin", "person_id")
            .values_list("person_id", "person__name")
        )
    quorum, majority = _fractions(meeting.org, rule)
    if not entitled:
        raise ServiceError(f"“{meeting.title}”没有有表决权的应到会人员，不能表决")
    present = _present_ids(meeting.pk, {pk for pk, _ in entitled})
    # The tally of an empty vote checks the quorum and says why it is not met.
    development.tally(
        entitled=len(entitled),
        vote=VoteInput(present=len(present), in_favour=0),
        quorum=quorum,
        majority=majority,
        what=_what(title),
        voters=_voters(rule),
    )
    vote = Vote.objects.create(
        meeting=meeting,
        title=title,
        secret=secret,
        rule=rule,
        entitled=[{"id": pk, "name": name} for pk, name in entitled],
        entitled_count=len(entitled),
        present_count=len(present),
        development_case=development_case,
        development_purpose=development_purpose if development_case is not None else "",
    )
    audit_record(
        actor=actor,
        action="create",
        obj=vote,
        org_path=meeting.org.path,
        changes={
            "title": [None, title],
            "secret": [None, secret],
            "rule": [None, rule],
            "entitled_count": [None, len(entitled)],
            "present_count": [None, len(present)],
        },
        note=f"“{meeting.title}”开始表决",
    )
    return vote


def _development_voters(
    scope: Scope, meeting: Meeting, case: DevelopmentCase, purpose: str, rule: str | None
) -> tuple[str, list[Person]]:
    """The step and the entitled voters of a reception or confirmation vote, after checking the case."""
    try:
        code = DEVELOPMENT_STEPS[VotePurpose(purpose)]
    except ValueError:
        raise ServiceError(
            "发展党员的表决事项应为接收预备党员或预备党员转正", field="development_purpose"
        ) from None
    label = VotePurpose(purpose).label
    if rule not in (None, code):
        raise ServiceError(f"{label}的表决按“{code}”的规则进行，不能用“{rule}”", field="rule")
    case = DevelopmentCase.objects.select_related("person__org").get(pk=case.pk)
    person = case.person
    if not scope.can_view_person(person):
        raise NotFound("发展党员流程不存在或不在您的权限范围内")
    if not scope.can_manage_person(person):
        raise NotPermitted("您无权办理此人的发展党员工作")
    if person.org_id != meeting.org_id:
        raise ServiceError(
            f"{person.name} 属于{person.org.name}，不能在{meeting.org.name}的会议上表决{label}",
            field="development_case",
        )
    if MeetingKind.GENERAL_ASSEMBLY not in (meeting.kind, *(meeting.also_counts_as or [])):
        raise ServiceError(
            f"{label}须经支部党员大会讨论表决，“{meeting.title}”是{meeting.get_kind_display()}",
            field="development_case",
        )
    if case.state != CaseState.OPEN:
        raise ServiceError(f"{person.name} 的发展党员流程已{case.get_state_display()}，不能表决")
    row = development.case_timeline(case).row(code)
    if row.missing:
        names = "、".join(s.label for s in row.missing)
        raise ServiceError(f"{person.name} 须先完成 {names}，才能表决{label}", field="development_case")
    if row.done and not row.step.repeatable:
        raise ServiceError(f"{person.name} 的“{row.step.title}”已记录，不能再表决", field="development_case")
    if Vote.objects.filter(development_case=case, development_purpose=purpose, state=VoteState.OPEN).exists():
        raise ServiceError(f"{person.name} 的{label}表决已在进行中", field="development_case")
    held_on = timezone.localdate(meeting.starts_at)
    return code, development.entitled_voters(person, held_on)


# Casting ----------------------------------------------------------------------------------------------


def ballot_cast(
    *,
    actor: Any,
    vote: Vote,
    choice: str,
    person: Person | None = None,
    scope: Scope | None = None,
) -> None:
    """Cast a voter's ballot once: only an entitled voter who is checked in, while the vote is open.

    A voter casts their own (`person` defaults to the actor's). In an open vote the meeting's organiser
    may record another voter's choice (show of hands; needs `scope`); a secret ballot is only ever cast
    by the voter. Returns nothing that could identify the ballot."""
    if choice not in VoteChoice.values:
        raise ServiceError("请选择赞成、反对或弃权", field="choice")
    own: Person | None = getattr(actor, "person", None)
    voter = person or own
    if voter is None:
        raise ServiceError("您的账号没有关联党员信息，不能投票")
    who = "您" if own is not None and voter.pk == own.pk else voter.name
    try:
        # The receipt (or the open cast) and the ballot are written together or not at all; a second
        # attempt by the same voter fails on the receipt's unique constraint, however close in time.
        with transaction.atomic():
            # Casts queue behind the vote's row (a few milliseconds each) so that closing the vote, which
            # takes the same lock, counts every ballot that was accepted and none that comes after.
            locked = _locked_vote(vote)
            _check_cast(scope, locked, voter, who, own)
            if locked.secret:
                BallotReceipt.objects.create(vote=locked, person=voter)
                Ballot.objects.create(vote=locked, choice=choice)
                changes: dict[str, Any] = {}
                note = f"{voter.name} 投票"
            else:
                VoteCast.objects.create(vote=locked, person=voter, choice=choice)
                changes = {"choice": [None, choice]}
                note = f"{voter.name} 表决：{VoteChoice(choice).label}"
            audit_record(
                actor=actor,
                action="create",
                obj=locked,
                org_path=locked.meeting.org.path,
                changes=changes,
                note=note,
            )
    except IntegrityError:
        raise ServiceError(f"{who}已投过票，“{vote.title}”每人只能投一票") from None


def _check_cast(scope: Scope | None, vote: Vote, voter: Person, who: str, own: Person | None) -> None:
    meeting = vote.meeting
    if vote.state != VoteState.OPEN:
        raise ServiceError(f"“{vote.title}”的表决已结束，不能再投票")
    if meeting.state == MeetingState.CANCELLED:
        raise ServiceError(f"“{meeting.title}”已取消，不能投票")
    if own is None or voter.pk != own.pk:
        if vote.secret:
            raise NotPermitted("无记名投票须由本人投票，他人不能代投")
        if scope is None or not scope.can_manage_path(meeting.org.path):
            raise NotPermitted("只有会议的组织者可以代为登记记名表决")
    if _paper_counted(vote):
        raise ServiceError(f"“{vote.title}”已录入会场计票结果，不能再在线投票")
    if voter.pk not in _entitled_ids(vote):
        raise ServiceError(f"{who}不在“{vote.title}”的应到会有表决权人员名单中，不能投票")
    attendance = Attendance.objects.filter(meeting_id=meeting.pk, person_id=voter.pk).first()
    if attendance is None or attendance.state != AttendanceState.PRESENT:
        state = attendance.get_state_display() if attendance is not None else "未列入出席名单"
        raise ServiceError(f"{who}尚未在“{meeting.title}”签到（{state}），须到会签到后才能投票")


# Counting on paper ------------------------------------------------------------------------------------


@transaction.atomic
def vote_record_counts(
    *,
    actor: Any,
    scope: Scope,
    vote: Vote,
    in_favour: int,
    against: int,
    abstain: int,
    written_opinions: int = 0,
) -> Vote:
    """Record the count of a paper ballot made in the room; `in_favour` are the votes in the room, the
    written opinions in favour of absent voters are given apart and added to them."""
    locked = _locked_vote(vote)
    _check_manage(scope, locked.meeting)
    if locked.state != VoteState.OPEN:
        raise ServiceError(f"“{locked.title}”的表决已结束，不能再录入计票结果")
    if _voter_ids(locked):
        raise ServiceError(f"“{locked.title}”已有人在线投票，不能再录入会场计票结果")
    room_favour = _count(in_favour, "赞成票", "in_favour")
    room_against = _count(against, "反对票", "against")
    room_abstain = _count(abstain, "弃权票", "abstain")
    written = _count(written_opinions, "书面意见", "written_opinions")
    present = len(_present_ids(locked.meeting_id, _entitled_ids(locked)))
    ballots = room_favour + room_against + room_abstain
    if ballots > present:
        raise ServiceError(
            f"赞成、反对、弃权合计 {ballots} 票，多于实到会有表决权的 {present} 人", field="in_favour"
        )
    quorum, majority = _fractions(locked.meeting.org, locked.rule)
    # The same checks as the development pipeline's: written opinions only from those absent, quorum.
    development.tally(
        entitled=locked.entitled_count,
        vote=VoteInput(
            present=present,
            in_favour=room_favour + written,
            against=room_against,
            abstain=room_abstain,
            written_opinions=written,
        ),
        quorum=quorum,
        majority=majority,
        what=_what(locked.title),
        voters=_voters(locked.rule),
    )
    before = snapshot(locked, _COUNTED_FIELDS)
    locked.present_count = present
    locked.in_favour = room_favour + written
    locked.against = room_against
    locked.abstain = room_abstain
    locked.written_opinions = written
    locked.save(update_fields=["present_count", "in_favour", "against", "abstain", "written_opinions"])
    audit_record(
        actor=actor,
        action="update",
        obj=locked,
        org_path=locked.meeting.org.path,
        changes=diff(before, snapshot(locked, _COUNTED_FIELDS)),
        note="录入会场计票结果",
    )
    return locked


# Closing ----------------------------------------------------------------------------------------------


@transaction.atomic
def vote_close(
    *,
    actor: Any,
    scope: Scope,
    vote: Vote,
    written_opinions: int | None = None,
    now: dt.datetime | None = None,
) -> Vote:
    """Close a vote: count the ballots (or take the paper count) with the written opinions, decide it
    against the entitled count, explain the result and add it to the meeting's resolutions.

    `written_opinions` (absent voters' written opinions in favour) are given here for a vote cast
    online; a paper count carries its own."""
    now = now or timezone.now()
    locked = _locked_vote(vote)
    meeting = Meeting.objects.select_for_update(of=("self",)).select_related("org").get(pk=locked.meeting_id)
    _check_manage(scope, meeting)
    if locked.state != VoteState.OPEN:
        raise ServiceError(f"“{locked.title}”的表决已经结束")
    voters = _voter_ids(locked)
    if voters:
        written = _count(written_opinions or 0, "书面意见", "written_opinions")
        counts = _choice_counts(locked)
        present = len(_present_ids(meeting.pk, _entitled_ids(locked)) | voters)
        in_favour = counts[VoteChoice.IN_FAVOUR] + written
        against, abstain = counts[VoteChoice.AGAINST], counts[VoteChoice.ABSTAIN]
    elif _paper_counted(locked):
        if written_opinions is not None and written_opinions != locked.written_opinions:
            raise ServiceError("会场计票的书面意见请随计票结果一并录入", field="written_opinions")
        written, present = locked.written_opinions, locked.present_count
        in_favour, against, abstain = locked.in_favour, locked.against, locked.abstain
    else:
        raise ServiceError(f"“{locked.title}”还没有人投票，也没有录入会场计票结果，不能结束表决")
    quorum, majority = _fractions(meeting.org, locked.rule)
    passed, explanation = development.tally(
        entitled=locked.entitled_count,
        vote=VoteInput(
            present=present,
            in_favour=in_favour,
            against=against,
            abstain=abstain,
            written_opinions=written,
            secret_ballot=locked.secret,
        ),
        quorum=quorum,
        majority=majority,
        what=_what(locked.title),
        voters=_voters(locked.rule),
    )
    if locked.secret:
        _rewrite_ballots(locked)
    before = snapshot(locked, _COUNTED_FIELDS)
    locked.present_count = present
    locked.written_opinions = written
    locked.in_favour, locked.against, locked.abstain = in_favour, against, abstain
    locked.passed = passed
    locked.explanation = explanation
    locked.state = VoteState.CLOSED
    locked.closed_at = now
    locked.save()
    audit_record(
        actor=actor,
        action="end",
        obj=locked,
        org_path=meeting.org.path,
        changes=diff(before, snapshot(locked, _COUNTED_FIELDS)),
        note=f"表决结束：{'通过' if passed else '未通过'}",
    )

    how = "无记名投票" if locked.secret else "记名表决"
    line = f"{locked.title}：{'通过' if passed else '未通过'}（{how}；{explanation}）"
    minutes = dict(meeting.minutes or {})
    minutes["resolutions"] = [*(minutes.get("resolutions") or []), line]
    meeting.minutes = minutes
    meeting.save(update_fields=["minutes", "updated_at"])
    audit_record(
        actor=actor,
        action="update",
        obj=meeting,
        org_path=meeting.org.path,
        changes={"minutes.resolutions": [None, line]},
        note="表决结果记入会议记录",
    )
    return locked


def _choice_counts(vote: Vote) -> dict[str, int]:
    rows = Ballot.objects.filter(vote=vote) if vote.secret else VoteCast.objects.filter(vote=vote)
    counts = dict.fromkeys(VoteChoice.values, 0)
    for choice, n in rows.values_list("choice").annotate(n=Count("pk")).order_by():
        counts[choice] = n
    return counts


def _rewrite_ballots(vote: Vote) -> None:
    """Put the ballots back into the box in an order that owes nothing to the casting, in the closing
    transaction: the same choices under fresh random keys, inserted in the order of those keys.

    While a vote is open, a ballot and its receipt were written by one transaction, so the database itself
    can pair them: by insertion order (SQLite's hidden rowid, PostgreSQL's physical position) and, on
    PostgreSQL, by the writing transaction's id (xmin). Afterwards the ballots carry the closing
    transaction's id and a random order; only what the database has not yet reclaimed (PostgreSQL's
    superseded row versions until vacuum, its write-ahead log) remembers the old ones. The ballots are
    anonymous and replaced one for one with the same choices, so the count and the tally are unchanged."""
    choices = list(Ballot.objects.filter(vote=vote).values_list("choice", flat=True))
    fresh = sorted((Ballot(vote=vote, choice=choice) for choice in choices), key=lambda b: b.id)
    Ballot.objects.filter(vote=vote).delete()
    Ballot.objects.bulk_create(fresh)


# Development votes ------------------------------------------------------------------------------------


@transaction.atomic
def development_step_from_vote(
    *,
    actor: Any,
    scope: Scope,
    vote: Vote,
    data: Mapping[str, Any] | None = None,
    note: str = "",
    today: dt.date | None = None,
) -> DevelopmentStep:
    """Record a case's reception or confirmation vote step from a closed vote of the branch assembly."""
    vote = Vote.objects.select_related("meeting", "development_case__person").get(pk=vote.pk)
    case = vote.development_case
    if case is None:
        raise ServiceError(f"“{vote.title}”不是发展党员的表决")
    if vote.state != VoteState.CLOSED:
        raise ServiceError(f"“{vote.title}”的表决尚未结束，结束后才能据此记录")
    code = DEVELOPMENT_STEPS[vote.development_purpose]
    held_on = timezone.localdate(vote.meeting.starts_at)
    if BranchVote.objects.filter(meeting_vote=vote).exists():
        raise ServiceError(f"{case.person.name} {held_on:%Y-%m-%d} 的表决结果已记录")
    # The pipeline counts the entitled voters again for the day; they must be the ones who voted.
    now_entitled = {p.pk: p.name for p in development.entitled_voters(case.person, held_on)}
    then_entitled = {int(e["id"]): e["name"] for e in vote.entitled}
    if now_entitled.keys() != then_entitled.keys():
        changed = [
            name
            for pk, name in {**now_entitled, **then_entitled}.items()
            if (pk in now_entitled) != (pk in then_entitled)
        ]
        raise ServiceError(
            f"表决时应到会有表决权的正式党员为 {len(then_entitled)} 人，现按{held_on:%Y-%m-%d}计算为 "
            f"{len(now_entitled)} 人（{'、'.join(changed)}的身份有变化），请核对人员身份后再记录"
        )
    step = development.step_record(
        actor=actor,
        scope=scope,
        case=case,
        code=code,
        done_on=held_on,
        data=data,
        vote=VoteInput(
            present=vote.present_count,
            in_favour=vote.in_favour,
            against=vote.against,
            abstain=vote.abstain,
            written_opinions=vote.written_opinions,
            secret_ballot=vote.secret,
        ),
        note=note or f"据“{vote.meeting.title}”表决“{vote.title}”的结果记录",
        today=today,
        meeting_vote=vote,
    )
    if step.vote.passed != vote.passed:  # the same tally on the same counts; differs only if the pack did
        raise ServiceError("按现行制度参数重新计算的表决结果与会上宣布的结果不一致，请核对制度参数")
    return step


# Reading ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VoteResult:
    """What a page shows of a vote. The counts of a secret vote stay hidden until it closes; a secret
    vote never lists choices by person, an open one does."""

    title: str
    secret: bool
    state: str
    entitled_count: int
    present_count: int
    voted_count: int
    in_favour: int | None
    against: int | None
    abstain: int | None
    written_opinions: int | None
    passed: bool | None
    explanation: str
    choices: list[tuple[str, str]]  # open votes: (name, choice label), by name
    not_voted: list[str]  # entitled voters who have not voted (names, in the order of the roll)


def vote_result(vote: Vote) -> VoteResult:
    """The counts and the explanation of a vote; for an open (记名) vote also who voted what."""
    return vote_results([vote])[vote.pk]


def vote_results(votes: Iterable[Vote]) -> dict[int, VoteResult]:
    """The results of many votes by vote id, in two queries whatever their number and kind: the receipts
    of the secret ones (who has voted, never what) and the casts of the open ones (who voted what)."""
    votes = list(votes)
    if not votes:
        return {}
    ids = [v.pk for v in votes]
    voters: dict[int, set[int]] = {pk: set() for pk in ids}
    receipts = BallotReceipt.objects.filter(vote_id__in=ids).values_list("vote_id", "person_id")
    for vote_id, person_id in receipts:
        voters[vote_id].add(person_id)
    casts: dict[int, list[tuple[str, str]]] = {pk: [] for pk in ids}
    running: dict[int, dict[str, int]] = {pk: dict.fromkeys(VoteChoice.values, 0) for pk in ids}
    rows = (
        VoteCast.objects.filter(vote_id__in=ids)  # a secret vote has none: its choices are in Ballot
        .order_by("person__name_pinyin", "person_id")
        .values_list("vote_id", "person_id", "person__name", "choice")
    )
    for vote_id, person_id, name, choice in rows:
        voters[vote_id].add(person_id)
        casts[vote_id].append((name, str(VoteChoice(choice).label)))
        running[vote_id][choice] += 1
    return {v.pk: _result(v, voters[v.pk], casts[v.pk], running[v.pk]) for v in votes}


def _result(
    vote: Vote, voters: set[int], choices: list[tuple[str, str]], running: dict[str, int]
) -> VoteResult:
    counts: tuple[int | None, ...]
    if vote.state == VoteState.CLOSED or _paper_counted(vote):
        counts = (vote.in_favour, vote.against, vote.abstain, vote.written_opinions)
    elif vote.secret:
        # Running counts of a secret vote would reveal each choice as it is cast.
        counts = (None, None, None, None)
    else:
        counts = (*(running[c] for c in VoteChoice.values), vote.written_opinions)
    in_favour, against, abstain, written = counts
    return VoteResult(
        title=vote.title,
        secret=vote.secret,
        state=vote.state,
        entitled_count=vote.entitled_count,
        present_count=vote.present_count,
        voted_count=len(voters),
        in_favour=in_favour,
        against=against,
        abstain=abstain,
        written_opinions=written,
        passed=vote.passed,
        explanation=vote.explanation,
        choices=[] if vote.secret else choices,
        not_voted=[e["name"] for e in vote.entitled if int(e["id"]) not in voters],
    )


@dataclass(frozen=True)
class BallotState:
    """Whether a person may vote now, whether they have voted, and if they may not, why."""

    may_vote: bool
    has_voted: bool
    reason: str = ""


def my_ballot_state(vote: Vote, person: Person) -> BallotState:
    """A person's standing in a vote: may vote, has voted, or why not."""
    return my_ballot_states([vote], person)[vote.pk]


def my_ballot_states(votes: Iterable[Vote], person: Person) -> dict[int, BallotState]:
    """A person's standing in many votes by vote id, in three queries whatever their number (their
    receipts, their open casts, the meetings they are checked in at) — the rule ballot_cast applies."""
    votes = list(votes)
    if not votes:
        return {}
    ids = [v.pk for v in votes]
    voted = set(
        BallotReceipt.objects.filter(vote_id__in=ids, person=person).values_list("vote_id", flat=True)
    )
    voted |= set(VoteCast.objects.filter(vote_id__in=ids, person=person).values_list("vote_id", flat=True))
    present = set(
        Attendance.objects.filter(
            meeting_id__in={v.meeting_id for v in votes}, person=person, state=AttendanceState.PRESENT
        ).values_list("meeting_id", flat=True)
    )
    return {v.pk: _ballot_state(v, person, v.pk in voted, v.meeting_id in present) for v in votes}


def _ballot_state(vote: Vote, person: Person, has_voted: bool, present: bool) -> BallotState:
    if has_voted:
        return BallotState(may_vote=False, has_voted=True, reason="您已投票")
    if vote.state != VoteState.OPEN:
        return BallotState(may_vote=False, has_voted=False, reason="表决已结束")
    if _paper_counted(vote):
        return BallotState(may_vote=False, has_voted=False, reason="本表决在会场计票")
    if person.pk not in _entitled_ids(vote):
        return BallotState(may_vote=False, has_voted=False, reason="您不在应到会有表决权人员名单中")
    if not present:
        return BallotState(may_vote=False, has_voted=False, reason="请先签到")
    return BallotState(may_vote=True, has_voted=False)
