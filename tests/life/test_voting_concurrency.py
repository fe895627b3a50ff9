"""A voter taps "投票" twice at the same moment (two phones, a double tap): one ballot, one receipt."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import make_person, make_user
from zhibu.core.errors import ServiceError
from zhibu.core.scoping import scope_for
from zhibu.life.models import Attendance, Ballot, BallotReceipt, Meeting, VoteCast, VoteChoice
from zhibu.life.voting import ballot_cast, vote_open


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("secret", [True, False], ids=["secret", "open"])
def test_simultaneous_ballots_of_one_voter_are_written_once(world, secret):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the unique-constraint path is tested in test_voting.py")
    fourth = make_person("周思远", world.sa_b1)
    make_user("fourth", fourth)
    people = world.people
    meeting = Meeting.objects.create(
        org=world.sa_b1,
        kind="general_assembly",
        title="第四季度支部党员大会",
        starts_at=timezone.make_aware(dt.datetime(2026, 11, 20, 15, 0)),
        state="planned",  # under way: votes are cast before the meeting is confirmed held
    )
    for person in (people.school_secretary, people.branch_secretary, people.member, fourth):
        Attendance.objects.create(
            meeting=meeting, person=person, role="member", may_vote=True, state="present"
        )
    secretary = world.users.branch_secretary
    vote = vote_open(
        actor=secretary, scope=scope_for(secretary), meeting=meeting, title="表决事项", secret=secret
    )
    barrier = threading.Barrier(2)
    refused: list[str] = []
    errors: list[BaseException] = []

    def work(choice: str) -> None:
        try:
            barrier.wait()
            ballot_cast(actor=world.users.member, vote=vote, choice=choice)
        except ServiceError as exc:
            refused.append(exc.message)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, args=(choice,)) for choice in (VoteChoice.IN_FAVOUR, VoteChoice.AGAINST)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(refused) == 1 and "您已投过票" in refused[0]
    if secret:
        assert BallotReceipt.objects.filter(vote=vote, person=people.member).count() == 1
        assert Ballot.objects.filter(vote=vote).count() == 1
        assert not VoteCast.objects.exists()
    else:
        assert VoteCast.objects.filter(vote=vote, person=people.member).count() == 1
        assert not Ballot.objects.exists() and not BallotReceipt.objects.exists()
