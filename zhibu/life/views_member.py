"""The member's phone: my meetings (leave, the check-in window, my votes), the QR code's check-in page, and
the leave and ballot forms.

Views parse input, call one service or selector and render; refusals come back as messages and nothing is
written. A secret ballot's choice is never echoed back, never put in a message (messages live in the
session, which names the user), and never shown to anyone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from zhibu.core.calendar import WorkdayCalendar
from zhibu.core.errors import NotFound, ServiceError
from zhibu.core.views import handles_refusals
from zhibu.life import selectors, services, voting
from zhibu.life.models import (
    Attendance,
    AttendanceState,
    LeaveState,
    Meeting,
    MeetingState,
    Vote,
    VoteChoice,
    VoteState,
)
from zhibu.people.models import Person

ANONYMITY_NOTE = (
    "本表决为无记名投票：系统只记录您已投票，您的选择不与您的姓名一同保存，页面和接口都查不到您投了什么"
)


def _person(request: HttpRequest) -> Person | None:
    person: Person | None = getattr(request.user, "person", None)
    return person


def _when(moment: dt.datetime) -> str:
    m = timezone.localtime(moment)
    return f"{m.month}月{m.day}日 {m:%H:%M}"


@dataclass
class Ballot:
    """One open vote of a meeting as the member sees it: the vote and what they may do in it."""

    vote: Vote
    state: voting.BallotState


@dataclass
class Invitation:
    """One of my upcoming meetings with what I may do in it now."""

    attendance: Attendance
    day: str
    opens: dt.datetime
    closes: dt.datetime
    window_open: bool
    window_closed: bool  # today's meeting whose check-in is over: the page says so, not "届时"
    may_ask_leave: bool
    ballots: list[Ballot] = field(default_factory=list)

    @property
    def meeting(self) -> Meeting:
        return self.attendance.meeting

    @property
    def cancelled(self) -> bool:
        return self.meeting.state == MeetingState.CANCELLED

    @property
    def checked_in(self) -> bool:
        return self.attendance.state == AttendanceState.PRESENT


def _may_ask_leave(row: Attendance, now: dt.datetime) -> bool:
    """Mirrors services.leave_request's conditions, so the form is offered only where it can succeed."""
    return (
        row.meeting.state == MeetingState.PLANNED
        and now < row.meeting.starts_at
        and row.state != AttendanceState.PRESENT
        and row.leave_state not in (LeaveState.REQUESTED, LeaveState.APPROVED)
    )


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """My meetings from today on, what I may do in each now, and the held ones of the last twelve months."""
    person = _person(request)
    if person is None:
        return render(request, "life/member/mine.html", {"person": None})
    now = timezone.now()
    today = timezone.localdate(now)
    # From yesterday: a meeting that began before midnight and is still under way (check-in window open)
    # stays among the current ones, where its votes are cast.
    rows = list(selectors.my_meetings(person, today - dt.timedelta(days=1)))
    years = {timezone.localtime(r.meeting.starts_at).year for r in rows} | {today.year}
    calendar = WorkdayCalendar.load(sorted(years))
    upcoming: list[Invitation] = []
    planned: list[Attendance] = []  # on the year's plan, notice not published yet
    for row in rows:
        meeting = row.meeting
        opens, closes = services.check_in_window(meeting)
        if timezone.localdate(meeting.starts_at) < today and now >= closes:
            continue  # yesterday's and over: among the past ones
        if meeting.state == MeetingState.PLANNED and meeting.notice_published_at is None:
            planned.append(row)
            continue
        upcoming.append(
            Invitation(
                attendance=row,
                day=selectors.meeting_day(meeting, calendar),
                opens=opens,
                closes=closes,
                window_open=meeting.state == MeetingState.PLANNED and opens <= now < closes,
                window_closed=meeting.state == MeetingState.PLANNED and now >= closes,
                may_ask_leave=_may_ask_leave(row, now),
            )
        )
    by_meeting = {i.meeting.pk: i for i in upcoming}
    open_votes = list(
        Vote.objects.filter(meeting_id__in=list(by_meeting), state=VoteState.OPEN).order_by("opened_at", "id")
    )
    states = voting.my_ballot_states(open_votes, person)
    for vote in open_votes:
        by_meeting[vote.meeting_id].ballots.append(Ballot(vote, states[vote.pk]))
    shown = {i.meeting.pk for i in upcoming} | {a.meeting_id for a in planned}
    past = [p for p in selectors.my_past_meetings(person, now) if p.meeting.pk not in shown]
    tally = {s: sum(1 for p in past if p.held and p.attendance.state == s) for s in AttendanceState.values}
    tally["held"] = sum(1 for p in past if p.held)
    return render(
        request,
        "life/member/mine.html",
        {
            "person": person,
            "upcoming": upcoming,
            "planned": planned,
            "past": past,
            "tally": tally,
            "choices": VoteChoice.choices,
            "anonymity_note": ANONYMITY_NOTE,
        },
    )


@login_required
@handles_refusals
@require_http_methods(["GET", "POST"])
def check_in(request: HttpRequest, token: str) -> HttpResponse:
    """The QR code's target: the meeting and a big 签到 button; the POST checks me in (or says why not)."""
    meeting = Meeting.objects.select_related("org").filter(check_in_token=token).first()
    if meeting is None:
        raise NotFound("签到码无效：找不到对应的会议，请重新扫描会场的二维码")
    opens, closes = services.check_in_window(meeting)
    person = _person(request)
    if person is None:
        return render(
            request,
            "life/member/check_in.html",
            {"meeting": meeting, "opens": opens, "closes": closes, "no_person": True},
            status=403,
        )
    if request.method == "POST":
        try:
            result = services.check_in(
                actor=request.user, person=person, meeting=meeting, token=token, now=timezone.now()
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            (messages.info if result.already else messages.success)(request, result.message)
        return redirect("life:check_in", token=token)
    row = Attendance.objects.select_related("person").filter(meeting=meeting, person=person).first()
    now = timezone.now()
    return render(
        request,
        "life/member/check_in.html",
        {
            "meeting": meeting,
            "row": row,
            "opens": opens,
            "closes": closes,
            # The button is offered only while it can succeed; before and after, the page says when.
            "window": "before"
            if now < opens
            else "after"
            if now >= closes or meeting.state == MeetingState.HELD
            else "open",
            "opens_minutes": settings.ZHIBU_CHECK_IN_OPENS_MINUTES,
            "cancelled": meeting.state == MeetingState.CANCELLED,
            "checked_in": row is not None and row.state == AttendanceState.PRESENT,
        },
    )


def _invited_meeting(person: Person, pk: int) -> Meeting:
    """A meeting I am invited to; any other (or a missing one) reads the same."""
    meeting = Meeting.objects.select_related("org").filter(pk=pk, attendances__person=person).first()
    if meeting is None:
        raise NotFound("会议不存在，或您不在这次会议的参会名单中")
    return meeting


@login_required
@require_POST
@handles_refusals
def leave(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Ask leave for a meeting that has not started; the secretary decides."""
    person = _person(request)
    try:
        if person is None:
            raise ServiceError("您的账号没有关联人员档案，不能请假；请直接联系书记")
        meeting = _invited_meeting(person, meeting_id)
        services.leave_request(actor=request.user, meeting=meeting, reason=request.POST.get("reason", ""))
    except NotFound:
        raise  # not my meeting: a 404, like a missing one
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已提交“{meeting.title}”的请假申请，等待书记批准")
    return redirect(f"{reverse('life:mine')}#meeting-{meeting_id}")


@login_required
@require_POST
@handles_refusals
def ballot(request: HttpRequest, vote_id: int) -> HttpResponse:
    """Cast my ballot in an open vote of a meeting I am at. A secret ballot's choice is not repeated back."""
    person = _person(request)
    anchor = ""
    try:
        if person is None:
            raise ServiceError("您的账号没有关联人员档案，不能投票")
        vote = (
            Vote.objects.select_related("meeting__org")
            .filter(pk=vote_id, meeting__attendances__person=person)
            .first()
        )
        if vote is None:
            raise NotFound("表决不存在，或您不在这次会议的参会名单中")
        anchor = f"#meeting-{vote.meeting_id}"
        choice = request.POST.get("choice", "")
        voting.ballot_cast(actor=request.user, vote=vote, choice=choice)
    except NotFound:
        raise  # not a vote of my meeting: a 404, like a missing one
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        if vote.secret:
            messages.success(request, f"您已对“{vote.title}”投票。{ANONYMITY_NOTE}。")
        else:
            label = VoteChoice(choice).label
            messages.success(request, f"您已对“{vote.title}”表决：{label}（记名表决，结果按姓名公布）")
    return redirect(f"{reverse('life:mine')}{anchor}")


urlpatterns: list[URLPattern] = [
    path("me/", mine, name="mine"),
    path("me/meetings/<int:meeting_id>/leave/", leave, name="leave"),
    path("me/votes/<int:vote_id>/ballot/", ballot, name="ballot"),
    path("c/<str:token>/", check_in, name="check_in"),
]
