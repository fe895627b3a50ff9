"""Votes in meetings: who may vote, one ballot each, secret ballots that name nobody's choice, the result
against the entitled count, and the development pipeline's reception vote held in a real meeting."""

from __future__ import annotations

import datetime as dt
import logging
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import models
from django.utils import timezone

from tests.development.pipeline import TODAY, applicant, drive, record
from tests.factories import make_person, make_user
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.models import AuditEntry
from zhibu.development.models import BranchVote, DevelopmentStep
from zhibu.life.models import (
    Attendance,
    Ballot,
    BallotReceipt,
    Meeting,
    Vote,
    VoteCast,
    VoteChoice,
)
from zhibu.life.voting import (
    ballot_cast,
    development_step_from_vote,
    my_ballot_state,
    my_ballot_states,
    vote_close,
    vote_open,
    vote_record_counts,
    vote_result,
    vote_results,
)
from zhibu.people.models import Person

pytestmark = pytest.mark.django_db

STARTS = timezone.make_aware(dt.datetime(2026, 11, 20, 15, 0))
TITLE = "关于调整支部委员分工的决定"


@pytest.fixture
def branch(world: Any) -> SimpleNamespace:
    """First branch with four full members who may vote (each with an account) and an activist."""
    fourth = make_person("周思远", world.sa_b1)
    people = world.people
    voters = [people.school_secretary, people.branch_secretary, people.member, fourth]
    users = {
        people.school_secretary.pk: world.users.school_secretary,
        people.branch_secretary.pk: world.users.branch_secretary,
        people.member.pk: world.users.member,
        fourth.pk: make_user("fourth", fourth),
    }
    return SimpleNamespace(voters=voters, users=users, fourth=fourth)


def hold(
    world: Any,
    voters: list[Person],
    *,
    present: list[Person],
    kind: str = "general_assembly",
    starts_at: dt.datetime = STARTS,
    state: str = "planned",
) -> Meeting:
    """A meeting of the first branch under way (not yet confirmed held) with its roll: voters present or on
    leave, the activist as a guest."""
    meeting = Meeting.objects.create(
        org=world.sa_b1, kind=kind, title="第四季度支部党员大会", starts_at=starts_at, state=state
    )
    for person in voters:
        here = person in present
        Attendance.objects.create(
            meeting=meeting,
            person=person,
            role="member",
            may_vote=True,
            state="present" if here else "excused",
            checked_in_at=starts_at if here else None,
            check_in_method="qr" if here else "",
        )
    Attendance.objects.create(
        meeting=meeting, person=world.people.activist, role="activist", may_vote=False, state="present"
    )
    return meeting


def secretary(world: Any, scope_of: Any) -> dict[str, Any]:
    user = world.users.branch_secretary
    return {"actor": user, "scope": scope_of(user)}


def open_vote(world: Any, scope_of: Any, meeting: Meeting, **kw: Any) -> Vote:
    return vote_open(**secretary(world, scope_of), meeting=meeting, title=TITLE, **kw)


def cast_all(branch: SimpleNamespace, vote: Vote, choices: list[str]) -> None:
    """The first voters cast the given choices, each with their own account."""
    for person, choice in zip(branch.voters, choices, strict=False):
        ballot_cast(actor=branch.users[person.pk], vote=vote, choice=choice)


def nothing_cast() -> bool:
    return not (Ballot.objects.exists() or BallotReceipt.objects.exists() or VoteCast.objects.exists())


# Opening ----------------------------------------------------------------------------------------------


def test_refuses_to_open_a_vote_when_exactly_half_of_the_voters_are_present(world, branch, scope_of):
    meeting = hold(world, branch.voters, present=branch.voters[:2])
    audited = AuditEntry.objects.count()
    with pytest.raises(ServiceError) as exc:
        open_vote(world, scope_of, meeting)
    assert "应到会有表决权的正式党员 4 人，实到会 2 人" in exc.value.message
    assert "恰为半数，未超过半数" in exc.value.message and "不能进行表决" in exc.value.message
    assert not Vote.objects.exists() and AuditEntry.objects.count() == audited


def test_opening_keeps_the_voters_entitled_and_present_as_they_were(world, branch, scope_of):
    meeting = hold(world, branch.voters, present=branch.voters[:3])
    vote = open_vote(world, scope_of, meeting)
    assert vote.entitled_count == 4 and vote.present_count == 3
    assert {e["id"] for e in vote.entitled} == {p.pk for p in branch.voters}
    assert world.people.activist.pk not in {e["id"] for e in vote.entitled}
    assert vote.rule == "general_assembly" and vote.secret
    assert AuditEntry.objects.filter(object_type="life.vote", object_id=str(vote.pk)).count() == 1


def test_refuses_a_meeting_not_started_or_cancelled(world, branch, scope_of):
    later = hold(
        world, branch.voters, present=branch.voters, starts_at=timezone.now() + dt.timedelta(hours=2)
    )
    with pytest.raises(ServiceError, match="会议开始后才能表决"):
        open_vote(world, scope_of, later)
    cancelled = hold(world, branch.voters, present=branch.voters, state="cancelled")
    with pytest.raises(ServiceError, match="已取消"):
        open_vote(world, scope_of, cancelled)
    assert not Vote.objects.exists()


def test_only_the_meetings_managers_open_a_vote(world, branch, scope_of):
    meeting = hold(world, branch.voters, present=branch.voters)
    with pytest.raises(NotPermitted):
        vote_open(actor=world.users.member, scope=scope_of(world.users.member), meeting=meeting, title=TITLE)
    with pytest.raises(NotFound):
        vote_open(
            actor=world.users.outsider, scope=scope_of(world.users.outsider), meeting=meeting, title=TITLE
        )
    assert not Vote.objects.exists()


def test_a_vote_takes_its_meetings_rule_and_no_other(world, branch, scope_of):
    meeting = hold(world, branch.voters, present=branch.voters)
    with pytest.raises(
        ServiceError, match="支部党员大会的表决按“general_assembly”的规则进行，不能用“party_lecture”"
    ):
        open_vote(world, scope_of, meeting, rule="party_lecture")
    lecture = hold(world, branch.voters, present=branch.voters, kind="party_lecture")
    with pytest.raises(ServiceError, match="党课没有表决规则：只有支部党员大会、支部委员会会议"):
        open_vote(world, scope_of, lecture)
    assert not Vote.objects.exists()
    assert open_vote(world, scope_of, meeting, rule="general_assembly").rule == "general_assembly"


def test_no_vote_is_opened_once_the_meeting_is_confirmed_held(world, branch, scope_of):
    meeting = hold(world, branch.voters, present=branch.voters, state="held")
    with pytest.raises(ServiceError, match="已确认召开，会议记录已经完成，不能再发起表决"):
        open_vote(world, scope_of, meeting)
    assert not Vote.objects.exists()


def test_a_committee_vote_names_the_committee_members_in_its_explanation(world, branch, scope_of):
    committee = hold(world, branch.voters, present=branch.voters, kind="committee_meeting")
    vote = open_vote(world, scope_of, committee, secret=False)
    assert vote.rule == "committee_meeting"
    cast_all(branch, vote, ["in_favour"] * len(branch.voters))
    closed = vote_close(**secretary(world, scope_of), vote=vote)
    assert "应到会有表决权的委员" in closed.explanation and "正式党员" not in closed.explanation


def test_closing_a_secret_vote_puts_its_ballots_back_in_an_order_that_owes_nothing_to_the_casting(
    world, branch, scope_of
):
    from django.db import connection

    meeting = hold(world, branch.voters, present=branch.voters)
    vote = open_vote(world, scope_of, meeting, secret=True)
    cast_all(branch, vote, ["in_favour", "against", "abstain", "in_favour"][: len(branch.voters)])
    cast = set(Ballot.objects.filter(vote=vote).values_list("pk", flat=True))
    counts = sorted(Ballot.objects.filter(vote=vote).values_list("choice", flat=True))
    vote_close(**secretary(world, scope_of), vote=vote)
    after = Ballot.objects.filter(vote=vote)
    assert sorted(after.values_list("choice", flat=True)) == counts  # the same choices …
    assert not cast & set(after.values_list("pk", flat=True))  # … under keys never seen while it was open
    # … stored in the order of those fresh random keys (SQLite's rowid, PostgreSQL's physical position).
    by_position = {
        "sqlite": "SELECT id FROM life_ballot WHERE vote_id = %s ORDER BY rowid",
        "postgresql": "SELECT id FROM life_ballot WHERE vote_id = %s ORDER BY ctid",
    }
    assert Ballot._meta.db_table == "life_ballot"
    with connection.cursor() as cursor:
        cursor.execute(by_position[connection.vendor], [vote.pk])
        stored = [str(row[0]).replace("-", "") for row in cursor.fetchall()]
    assert stored == sorted(stored)


# Casting ----------------------------------------------------------------------------------------------


def test_refuses_a_ballot_from_someone_not_entitled_or_not_checked_in(world, branch, scope_of):
    meeting = hold(world, branch.voters, present=branch.voters[:3])
    vote = open_vote(world, scope_of, meeting)
    audited = AuditEntry.objects.count()
    with pytest.raises(ServiceError, match=r"不在.*应到会有表决权人员名单中"):
        ballot_cast(actor=world.users.activist, vote=vote, choice=VoteChoice.IN_FAVOUR)
    with pytest.raises(ServiceError, match=r"尚未在.*签到（请假）"):
        ballot_cast(actor=branch.users[branch.fourth.pk], vote=vote, choice=VoteChoice.IN_FAVOUR)
    with pytest.raises(ServiceError, match="请选择赞成、反对或弃权"):
        ballot_cast(actor=world.users.member, vote=vote, choice="maybe")
    assert nothing_cast() and AuditEntry.objects.count() == audited


def test_a_second_ballot_from_the_same_voter_is_refused_and_writes_nothing(world, branch, scope_of):
    meeting = hold(world, branch.voters, present=branch.voters[:3])
    vote = open_vote(world, scope_of, meeting)
    ballot_cast(actor=world.users.member, vote=vote, choice=VoteChoice.IN_FAVOUR)
    audited = AuditEntry.objects.count()
    with pytest.raises(ServiceError, match="您已投过票"):
        ballot_cast(actor=world.users.member, vote=vote, choice=VoteChoice.AGAINST)
    assert Ballot.objects.count() == 1 and BallotReceipt.objects.count() == 1
    assert Ballot.objects.get().choice == VoteChoice.IN_FAVOUR
    assert AuditEntry.objects.count() == audited


def test_an_open_vote_refuses_a_second_cast_too(world, branch, scope_of):
    meeting = hold(world, branch.voters, present=branch.voters[:3])
    vote = open_vote(world, scope_of, meeting, secret=False)
    ballot_cast(actor=world.users.member, vote=vote, choice=VoteChoice.AGAINST)
    with pytest.raises(ServiceError, match="您已投过票"):
        ballot_cast(actor=world.users.member, vote=vote, choice=VoteChoice.IN_FAVOUR)
    assert list(VoteCast.objects.values_list("choice", flat=True)) == [VoteChoice.AGAINST]
    assert not Ballot.objects.exists() and not BallotReceipt.objects.exists()


def test_an_open_votes_result_lists_who_voted_what_in_constant_queries(
    world, branch, scope_of, django_assert_num_queries
):
    meeting = hold(world, branch.voters, present=branch.voters[:3])
    vote = open_vote(world, scope_of, meeting, secret=False)
    ballot_cast(actor=world.users.member, vote=vote, choice=VoteChoice.AGAINST)
    with django_assert_num_queries(2):  # receipts (none), casts with names: counts are made from them
        vote_result(vote)
    cast_all(branch, vote, [VoteChoice.IN_FAVOUR, VoteChoice.IN_FAVOUR])
    with django_assert_num_queries(2):
        result = vote_result(vote)
    assert (result.in_favour, result.against, result.abstain, result.voted_count) == (2, 1, 0, 3)
    assert (world.people.member.name, "反对") in result.choices and len(result.choices) == 3


def test_a_secret_ballot_is_cast_only_by_the_voter(world, branch, scope_of):
    meeting = hold(world, branch.voters, present=branch.voters[:3])
    secret = open_vote(world, scope_of, meeting)
    with pytest.raises(NotPermitted, match="无记名投票须由本人投票"):
        ballot_cast(
            **secretary(world, scope_of), vote=secret, person=world.people.member, choice=VoteChoice.AGAINST
        )
    shown = open_vote(world, scope_of, meeting, secret=False)
    with pytest.raises(NotPermitted):
        ballot_cast(
            actor=world.users.member,
            scope=scope_of(world.users.member),
            vote=shown,
            person=world.people.school_secretary,
            choice=VoteChoice.AGAINST,
        )
    # The organiser records a show of hands in an open vote.
    ballot_cast(**secretary(world, scope_of), vote=shown, person=world.people.member, choice="against")
    assert VoteCast.objects.get().person == world.people.member and nothing_cast() is False
    assert not Ballot.objects.exists()


def test_a_secret_ballot_leaves_no_row_or_entry_that_joins_a_voter_to_a_choice(
    world, branch, scope_of, caplog
):
    meeting = hold(world, branch.voters, present=branch.voters[:3])
    vote = open_vote(world, scope_of, meeting)
    audited = set(AuditEntry.objects.values_list("pk", flat=True))
    caplog.set_level(logging.DEBUG)
    cast_all(branch, vote, [VoteChoice.IN_FAVOUR, VoteChoice.AGAINST, VoteChoice.ABSTAIN])

    # The ballot table has no person, no time and no sequential key.
    ballot_fields = {f.name: f for f in Ballot._meta.concrete_fields}
    assert set(ballot_fields) == {"id", "vote", "choice"}
    assert isinstance(ballot_fields["id"], models.UUIDField)
    # No row of either table holds both a person and a choice, whatever its columns are called.
    for model in (BallotReceipt, Ballot):
        for obj in model.objects.all():
            person_columns = [
                f
                for f in model._meta.concrete_fields
                if f.is_relation and f.related_model is Person and getattr(obj, f.attname) is not None
            ]
            choice_columns = [
                f for f in model._meta.concrete_fields if str(getattr(obj, f.attname)) in VoteChoice.values
            ]
            assert not (person_columns and choice_columns), model
            assert not any(
                isinstance(f, models.DateField | models.DateTimeField) for f in model._meta.concrete_fields
            )
    assert sorted(Ballot.objects.values_list("choice", flat=True)) == sorted(
        [VoteChoice.IN_FAVOUR, VoteChoice.AGAINST, VoteChoice.ABSTAIN]
    )
    assert set(BallotReceipt.objects.values_list("person_id", flat=True)) == {p.pk for p in branch.voters[:3]}
    # The audit log says who voted, never how; nor does any log line.
    entries = AuditEntry.objects.exclude(pk__in=audited)
    assert entries.count() == 3
    words = [*VoteChoice.values, *VoteChoice.labels]
    for entry in entries:
        text = f"{entry.object_repr} {entry.note} {entry.changes}"
        assert "投票" in entry.note and not any(w in text for w in words), text
    for line in caplog.records:
        assert not any(w in line.getMessage() for w in words), line.getMessage()
    # Nor does the result while the vote is open: not even running counts.
    result = vote_result(vote)
    assert result.voted_count == 3 and result.in_favour is None and result.against is None
    assert result.choices == [] and result.not_voted == [branch.fourth.name]


def test_my_ballot_state_says_who_may_vote_and_who_has(world, branch, scope_of):
    meeting = hold(world, branch.voters, present=branch.voters[:3])
    vote = open_vote(world, scope_of, meeting)
    assert my_ballot_state(vote, world.people.member).may_vote
    assert my_ballot_state(vote, branch.fourth).reason == "请先签到"
    assert not my_ballot_state(vote, world.people.activist).may_vote
    ballot_cast(actor=world.users.member, vote=vote, choice=VoteChoice.IN_FAVOUR)
    state = my_ballot_state(vote, world.people.member)
    assert state.has_voted and not state.may_vote


def test_many_votes_are_read_in_a_fixed_number_of_queries_and_as_one_by_one(
    world, branch, scope_of, django_assert_num_queries
):
    meeting = hold(world, branch.voters, present=branch.voters[:3])
    member = world.people.member

    def votes_of_every_kind() -> list[Vote]:
        secret_cast = open_vote(world, scope_of, meeting)
        cast_all(branch, secret_cast, [VoteChoice.AGAINST, VoteChoice.IN_FAVOUR, VoteChoice.ABSTAIN])
        shown = open_vote(world, scope_of, meeting, secret=False)
        cast_all(branch, shown, [VoteChoice.IN_FAVOUR, VoteChoice.AGAINST])
        on_paper = open_vote(world, scope_of, meeting, secret=False)
        vote_record_counts(
            **secretary(world, scope_of), vote=on_paper, in_favour=3, against=0, abstain=0, written_opinions=0
        )
        untouched = open_vote(world, scope_of, meeting)
        closed = open_vote(world, scope_of, meeting)
        cast_all(branch, closed, [VoteChoice.IN_FAVOUR] * 3)
        closed = vote_close(**secretary(world, scope_of), vote=closed)
        return list(
            Vote.objects.filter(pk__in=[v.pk for v in (secret_cast, shown, on_paper, untouched, closed)])
        )

    votes = votes_of_every_kind()
    with django_assert_num_queries(2):  # the receipts of the secret votes, the casts of the open ones
        results = vote_results(votes)
    with django_assert_num_queries(3):  # my receipts, my casts, my attendance where I may still vote
        states = my_ballot_states(votes, member)
    for vote in votes:
        assert results[vote.pk] == vote_result(vote)
        assert states[vote.pk] == my_ballot_state(vote, member)
    secret_cast, shown, _on_paper, untouched, _closed = votes
    assert results[secret_cast.pk].choices == [] and results[secret_cast.pk].in_favour is None
    assert results[shown.pk].choices == [("李红梅", "反对"), ("王建国", "赞成")]
    assert (results[shown.pk].in_favour, results[shown.pk].against) == (1, 1)
    assert [states[v.pk].reason for v in votes] == [
        "您已投票",
        "",
        "本表决在会场计票",
        "",
        "您已投票",
    ]
    assert (
        states[untouched.pk].may_vote
        and my_ballot_states(votes, branch.fourth)[untouched.pk].reason == "请先签到"
    )

    more = votes + votes_of_every_kind()
    with django_assert_num_queries(2):
        vote_results(more)
    with django_assert_num_queries(3):
        my_ballot_states(more, member)
    with django_assert_num_queries(0):
        assert vote_results([]) == {} and my_ballot_states([], member) == {}


# Closing ----------------------------------------------------------------------------------------------


def test_exactly_half_of_the_entitled_in_favour_does_not_pass_and_says_why(world, branch, scope_of):
    meeting = hold(world, branch.voters, present=branch.voters[:3])
    vote = open_vote(world, scope_of, meeting)
    # Two of the three present: two thirds of those present, but only half of the four entitled.
    cast_all(branch, vote, [VoteChoice.IN_FAVOUR, VoteChoice.IN_FAVOUR, VoteChoice.AGAINST])
    vote = vote_close(**secretary(world, scope_of), vote=vote)
    assert vote.state == "closed" and vote.passed is False and vote.closed_at is not None
    assert (vote.in_favour, vote.against, vote.abstain) == (2, 1, 0)
    assert "赞成票恰为应到会 4 人的半数，未超过半数" in vote.explanation and "未通过" in vote.explanation
    meeting.refresh_from_db()
    assert meeting.minutes["resolutions"] == [f"{TITLE}：未通过（无记名投票；{vote.explanation}）"]
    result = vote_result(vote)
    assert (result.in_favour, result.against, result.abstain) == (2, 1, 0)
    assert result.choices == [] and result.passed is False


def test_three_of_four_entitled_in_favour_pass_and_the_result_joins_the_minutes(world, branch, scope_of):
    meeting = hold(world, branch.voters, present=branch.voters[:3])
    meeting.minutes = {"topics": ["分工调整"], "resolutions": ["通过了上季度工作总结"]}
    meeting.save()
    vote = open_vote(world, scope_of, meeting, secret=False)
    cast_all(branch, vote, [VoteChoice.IN_FAVOUR] * 3)
    vote = vote_close(**secretary(world, scope_of), vote=vote)
    assert vote.passed is True and "超过应到会有表决权的正式党员的半数，通过" in vote.explanation
    meeting.refresh_from_db()
    assert meeting.minutes["topics"] == ["分工调整"]
    assert meeting.minutes["resolutions"][0] == "通过了上季度工作总结"
    assert meeting.minutes["resolutions"][1].startswith(f"{TITLE}：通过（记名表决；")
    result = vote_result(vote)
    assert sorted(name for name, _ in result.choices) == sorted(p.name for p in branch.voters[:3])
    assert {label for _, label in result.choices} == {"赞成"}
    with pytest.raises(ServiceError, match="表决已结束"):
        ballot_cast(actor=branch.users[branch.fourth.pk], vote=vote, choice="in_favour")


def test_written_opinions_of_absent_voters_are_counted(world, branch, scope_of):
    meeting = hold(world, branch.voters, present=branch.voters[:3])
    vote = open_vote(world, scope_of, meeting)
    cast_all(branch, vote, [VoteChoice.IN_FAVOUR, VoteChoice.IN_FAVOUR, VoteChoice.AGAINST])
    with pytest.raises(ServiceError, match="书面意见 2 份多于未到会的有表决权党员 1 人"):
        vote_close(**secretary(world, scope_of), vote=vote, written_opinions=2)
    vote = vote_close(**secretary(world, scope_of), vote=vote, written_opinions=1)
    assert vote.passed is True and vote.in_favour == 3 and vote.written_opinions == 1
    assert "未到会党员书面意见 1 份已计入" in vote.explanation


def test_closing_an_empty_vote_is_refused(world, branch, scope_of):
    meeting = hold(world, branch.voters, present=branch.voters[:3])
    vote = open_vote(world, scope_of, meeting)
    with pytest.raises(ServiceError, match="还没有人投票"):
        vote_close(**secretary(world, scope_of), vote=vote)
    vote.refresh_from_db()
    assert vote.state == "open" and vote.passed is None


# Paper ballots ----------------------------------------------------------------------------------------


def test_paper_counts_larger_than_the_voters_are_refused(world, branch, scope_of):
    meeting = hold(world, branch.voters, present=branch.voters[:3])
    vote = open_vote(world, scope_of, meeting)
    kw = secretary(world, scope_of)
    with pytest.raises(ServiceError, match="合计 4 票，多于实到会有表决权的 3 人"):
        vote_record_counts(**kw, vote=vote, in_favour=2, against=1, abstain=1)
    with pytest.raises(ServiceError, match="书面意见 2 份多于未到会的有表决权党员 1 人"):
        vote_record_counts(**kw, vote=vote, in_favour=2, against=1, abstain=0, written_opinions=2)
    with pytest.raises(ServiceError, match="不能为负数"):
        vote_record_counts(**kw, vote=vote, in_favour=-1, against=0, abstain=0)
    vote.refresh_from_db()
    assert (vote.in_favour, vote.against, vote.abstain, vote.written_opinions) == (0, 0, 0, 0)


def test_a_paper_count_decides_the_vote_and_stops_online_ballots(world, branch, scope_of):
    meeting = hold(world, branch.voters, present=branch.voters[:3])
    vote = open_vote(world, scope_of, meeting)
    kw = secretary(world, scope_of)
    vote_record_counts(**kw, vote=vote, in_favour=2, against=1, abstain=0, written_opinions=1)
    with pytest.raises(ServiceError, match="已录入会场计票结果"):
        ballot_cast(actor=world.users.member, vote=vote, choice=VoteChoice.IN_FAVOUR)
    vote = vote_close(**kw, vote=vote)
    assert vote.passed is True and (vote.in_favour, vote.against, vote.written_opinions) == (3, 1, 1)
    assert nothing_cast()


def test_no_paper_count_once_ballots_were_cast_online(world, branch, scope_of):
    meeting = hold(world, branch.voters, present=branch.voters[:3])
    vote = open_vote(world, scope_of, meeting)
    ballot_cast(actor=world.users.member, vote=vote, choice=VoteChoice.IN_FAVOUR)
    with pytest.raises(ServiceError, match="已有人在线投票"):
        vote_record_counts(**secretary(world, scope_of), vote=vote, in_favour=3, against=0, abstain=0)


# The development pipeline's votes ---------------------------------------------------------------------


def test_a_reception_vote_held_in_a_branch_assembly_records_the_cases_step(world, scope_of):
    person = applicant(world)
    case = drive(world, person, until="application_form")
    people = world.people
    full = [people.school_secretary, people.branch_secretary, people.member]
    starts = timezone.make_aware(dt.datetime(2024, 11, 10, 14, 30))
    meeting = hold(world, full, present=full, starts_at=starts)
    Attendance.objects.create(meeting=meeting, person=person, role="guest", state="present")
    kw = secretary(world, scope_of)
    vote = vote_open(
        **kw,
        meeting=meeting,
        title=f"接收{person.name}为预备党员",
        development_case=case,
        development_purpose="reception",
    )
    assert vote.rule == "reception_vote" and vote.entitled_count == 3
    assert person.pk not in {e["id"] for e in vote.entitled}
    for user in (world.users.school_secretary, world.users.branch_secretary, world.users.member):
        ballot_cast(actor=user, vote=vote, choice=VoteChoice.IN_FAVOUR)
    vote = vote_close(**kw, vote=vote)
    assert vote.passed is True

    step = development_step_from_vote(**kw, vote=vote, today=TODAY)
    assert step.code == "reception_vote" and step.outcome == "passed"
    assert step.done_on == dt.date(2024, 11, 10)
    branch_vote = BranchVote.objects.get(step=step)
    assert (branch_vote.entitled_count, branch_vote.present, branch_vote.in_favour) == (3, 3, 3)
    assert branch_vote.secret_ballot and branch_vote.passed
    assert branch_vote.explanation == vote.explanation
    assert branch_vote.meeting_vote == vote  # the pipeline keeps which meeting vote decided it
    with pytest.raises(ServiceError, match="已记录"):
        development_step_from_vote(**kw, vote=vote, today=TODAY)
    # The case moves on: the next step is accepted.
    record(world, case, "upper_talk", dt.date(2024, 11, 20), {"talker": "组织员 周明"})
    assert DevelopmentStep.objects.filter(case=case, code="upper_talk").exists()


def test_a_development_vote_waits_for_the_steps_before_it_and_a_branch_assembly(world, scope_of):
    person = applicant(world)
    case = drive(world, person, until="pre_review")
    people = world.people
    full = [people.school_secretary, people.branch_secretary, people.member]
    starts = timezone.make_aware(dt.datetime(2024, 11, 10, 14, 30))
    meeting = hold(world, full, present=full, starts_at=starts)
    kw = secretary(world, scope_of)
    with pytest.raises(ServiceError, match=r"须先完成.*才能表决接收预备党员"):
        vote_open(**kw, meeting=meeting, title="接收", development_case=case, development_purpose="reception")
    committee = hold(world, full, present=full, starts_at=starts, kind="committee_meeting")
    with pytest.raises(ServiceError, match="须经支部党员大会讨论表决"):
        vote_open(
            **kw, meeting=committee, title="接收", development_case=case, development_purpose="reception"
        )
    with pytest.raises(ServiceError, match="不能用“general_assembly”"):
        vote_open(
            **kw,
            meeting=meeting,
            title="接收",
            rule="general_assembly",
            development_case=case,
            development_purpose="reception",
        )
    assert not Vote.objects.exists()


def test_a_confirmation_vote_records_the_decision_put_to_the_assembly(world, scope_of):
    person = applicant(world)
    case = drive(world, person, until="confirmation_application")
    people = world.people
    full = [people.school_secretary, people.branch_secretary, people.member]
    meeting = hold(world, full, present=full, starts_at=timezone.make_aware(dt.datetime(2025, 11, 12, 15)))
    kw = secretary(world, scope_of)
    vote = vote_open(
        **kw,
        meeting=meeting,
        title=f"{person.name}按期转正",
        secret=False,
        development_case=case,
        development_purpose="confirmation",
    )
    assert vote.rule == "confirmation_vote" and person.pk not in {e["id"] for e in vote.entitled}
    for user in (world.users.school_secretary, world.users.branch_secretary):
        ballot_cast(actor=user, vote=vote, choice=VoteChoice.IN_FAVOUR)
    vote = vote_close(**kw, vote=vote)
    assert vote.passed is True  # two of three entitled
    step = development_step_from_vote(**kw, vote=vote, data={"decision": "confirm"}, today=TODAY)
    assert step.code == "confirmation_vote" and step.outcome == "confirm"
    assert not BranchVote.objects.get(step=step).secret_ballot
