"""The secretary's pages of organisational life: the year's meetings, the year plan, a meeting's notice, its
page (check-in code, invitees, leave, attendance, minutes, attachments, confirming it held) and its votes.

Views parse input, call one service or selector and render. A refusal (ServiceError) is shown as a message
and nothing is written; a meeting outside the user's scope is a 404 (handles_refusals).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, URLResolver, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from zhibu.compliance.packs import effective_policy
from zhibu.core.audit import audit_record
from zhibu.core.calendar import WorkdayCalendar
from zhibu.core.downloads import stored_file_response
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.scoping import Scope
from zhibu.core.views import form_add_service_errors, handles_refusals
from zhibu.development.models import (
    BranchVote,
    CaseState,
    DevelopmentCase,
    DevelopmentStep,
    Stage,
    VotePurpose,
)
from zhibu.development.services import CONFIRMATION_DECISIONS
from zhibu.life import planning, selectors, services, voting
from zhibu.life.forms import (
    AttachmentForm,
    MeetingForm,
    ReasonForm,
    VoteCloseForm,
    VoteCountsForm,
    VoteOpenForm,
)
from zhibu.life.models import (
    Attendance,
    AttendanceState,
    LeaveState,
    Meeting,
    MeetingAttachment,
    MeetingKind,
    MeetingState,
    Vote,
)
from zhibu.orgs.models import Organization, OrgKind
from zhibu.people.models import MEMBER_STATUSES, Person

_REFUSALS_PASS = (NotFound, NotPermitted)
# Blank speaker rows offered under those already in the minutes.
_BLANK_SPEAKERS = 3
# More speaker rows than any meeting has: a bound on what one form may post, not a rule.
_MAX_SPEAKERS = 300


def _scope(request: HttpRequest) -> Scope:
    return request.scope  # type: ignore[attr-defined,no-any-return]


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year") or request.POST.get("year") or ""
    if raw.isdigit() and 2000 <= int(raw) <= 2100:
        return int(raw)
    return timezone.localdate().year


def _meeting_url(meeting: Meeting | int, anchor: str = "") -> str:
    pk = meeting if isinstance(meeting, int) else meeting.pk
    return reverse("life:meeting", args=[pk]) + (f"#{anchor}" if anchor else "")


def _orgs_for_choice(scope: Scope) -> list[tuple[str, str, int]]:
    """The orgs (not groups) the user views, for the org filter."""
    qs = scope.by_org_path(Organization.objects.active().exclude(kind=OrgKind.GROUP), "path")
    return list(qs.order_by("path").values_list("code", "name", "depth"))


def _org_visible(scope: Scope, code: str) -> Organization:
    """An org the user views, by code; without a code, the top of the user's scope."""
    qs = scope.by_org_path(Organization.objects.active(), "path")
    org = (qs.filter(code=code) if code else qs.exclude(kind=OrgKind.GROUP).order_by("depth", "path")).first()
    if org is None:
        raise NotFound("党组织不存在或不在您的权限范围内")
    return org


def _meeting(request: HttpRequest, pk: int) -> Meeting:
    return selectors.meeting_get_visible(_scope(request), pk)


def _managed_meeting(request: HttpRequest, pk: int) -> Meeting:
    meeting = _meeting(request, pk)
    if not _scope(request).can_manage_path(meeting.org.path):
        raise NotPermitted(f"您无权管理{meeting.org.name}的会议")
    return meeting


def _attempt(request: HttpRequest, done: str, failed: str, call: Callable[[], Any]) -> Any:
    """Run a service; a refusal becomes an error message (nothing was written), success a message."""
    try:
        result = call()
    except _REFUSALS_PASS:
        raise
    except ServiceError as exc:
        messages.error(request, f"{failed}：{exc.message}")
        return None
    if done:
        messages.success(request, done)
    return result if result is not None else True


# The year's meetings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingRow:
    meeting: Meeting
    invited: int
    present: int
    excused: int

    @property
    def rate(self) -> str:
        if not self.invited or self.meeting.state == MeetingState.CANCELLED:
            return "—"
        return f"{round(100 * self.present / self.invited)}%"

    @property
    def counts_as(self) -> list[str]:
        return [
            str(MeetingKind(k).label) for k in self.meeting.also_counts_as or () if k in MeetingKind.values
        ]


@login_required
@handles_refusals
def meetings(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    year = _year(request)
    kind = request.GET.get("kind", "")
    kind = kind if kind in MeetingKind.values else ""
    org = _org_visible(scope, request.GET.get("org", "").strip()[:50]) if scope.view_paths else None
    district = selectors.district_meetings(scope, org, year, kind) if org is not None else None
    if district is not None:  # above the schools: one line per school, not every meeting of the district
        return render(
            request,
            "life/district.html",
            {
                "page": district,
                "org": org,
                "year": year,
                "kind": kind,
                "kinds": MeetingKind.choices,
                "orgs": _orgs_for_choice(scope),
                "years": [year - 1, year, year + 1],
            },
        )
    tz = timezone.get_current_timezone()
    start = dt.datetime(year, 1, 1, tzinfo=tz)
    end = dt.datetime(year + 1, 1, 1, tzinfo=tz)
    qs = selectors.meetings_visible(scope).filter(starts_at__gte=start, starts_at__lt=end)
    if org is not None:
        qs = qs.filter(org_id__in=Organization.objects.filter(path__startswith=org.path).values("pk"))
    qs = qs.annotate(
        invited=Count("attendances"),
        present=Count("attendances", filter=Q(attendances__state=AttendanceState.PRESENT)),
        excused=Count("attendances", filter=Q(attendances__state=AttendanceState.EXCUSED)),
    ).order_by("starts_at", "id")
    months: dict[int, list[MeetingRow]] = {}
    for m in qs:
        if kind and kind != m.kind and kind not in (m.also_counts_as or ()):
            continue  # "also counts as" is a JSON list: filtered here, the same on every database
        row = MeetingRow(m, m.invited, m.present, m.excused)  # type: ignore[attr-defined]
        months.setdefault(timezone.localtime(m.starts_at).month, []).append(row)
    return render(
        request,
        "life/meetings.html",
        {
            "org": org,
            "year": year,
            "kind": kind,
            "kinds": MeetingKind.choices,
            "months": sorted(months.items()),
            "total": sum(len(rows) for rows in months.values()),
            "orgs": _orgs_for_choice(scope),
            "years": [year - 1, year, year + 1],
            "can_manage": org is not None and scope.can_manage_path(org.path),
        },
    )


# The year plan ----------------------------------------------------------------------------------------


def _item_key(item: planning.ProposedMeeting) -> str:
    return f"{item.org.code}|{item.kind}|{item.date:%Y-%m-%d}"


def _with_lecture(
    request: HttpRequest, item: planning.ProposedMeeting, lecturers: dict[str, Person]
) -> planning.ProposedMeeting:
    """A lecture with the lecturer and title typed beside it (both may wait until the notice)."""
    if item.kind != MeetingKind.PARTY_LECTURE:
        return item
    key = _item_key(item)
    lecturer = lecturers.get(request.POST.get(f"lecturer_{key}", ""))
    title = request.POST.get(f"lecture_title_{key}", "").strip()[:200]
    return replace(item, lecturer=lecturer, lecture_title=title) if lecturer or title else item


@login_required
@handles_refusals
def plan(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    year = _year(request)
    org = _org_visible(scope, (request.GET.get("org") or request.POST.get("org") or "").strip()[:50])
    can_manage = scope.can_manage_path(org.path)
    items: list[planning.ProposedMeeting] = []
    refusal = ""
    try:
        items = planning.propose_year(org, year, effective_policy(org), WorkdayCalendar.load([year]))
    except ServiceError as exc:
        refusal = exc.message
    if request.method == "POST":
        if not can_manage:
            raise NotPermitted(f"您不能管理 {org.name} 的会议，不能安排年度计划")
        plan_url = f"{reverse('life:plan')}?org={org.code}&year={year}"
        if refusal:
            messages.error(request, f"未安排：{refusal}")
            return redirect(plan_url)
        chosen = set(request.POST.getlist("items"))
        lecturers = {str(p.pk): p for p in _people_for(org)}
        kept = [_with_lecture(request, i, lecturers) for i in items if _item_key(i) in chosen]
        if not kept:
            messages.error(request, "未安排：请至少选择一次会议")
            return redirect(plan_url)
        result = _attempt(
            request,
            "",
            "未安排",
            lambda: planning.plan_apply(actor=request.user, scope=scope, org=org, year=year, items=kept),
        )
        if result is not None:
            (messages.warning if result.refused else messages.success)(request, result.message)
            return redirect(f"{reverse('life:meetings')}?org={org.code}&year={year}")
        return redirect(plan_url)
    return render(
        request,
        "life/plan.html",
        {
            "org": org,
            "year": year,
            "items": [(_item_key(i), i) for i in items],
            "lecturers": _people_for(org) if can_manage and not refusal else [],
            "refusal": refusal,
            "can_manage": can_manage,
            "orgs": _orgs_for_choice(scope),
            "years": [year - 1, year, year + 1],
        },
    )


# The notice -------------------------------------------------------------------------------------------


def _managed_orgs(scope: Scope) -> list[Organization]:
    return list(scope.managed_orgs(Organization.objects.active()).order_by("path"))


def _people_for(org: Organization | None) -> list[Person]:
    """Who may chair, record or lecture: the members of the org's branch (or of the org's subtree)."""
    if org is None:
        return []
    root = org.parent if org.kind == OrgKind.GROUP and org.parent is not None else org
    return list(
        Person.objects.filter(org__path__startswith=root.path, status__in=MEMBER_STATUSES).order_by(
            "name_pinyin", "pk"
        )
    )


def _local_naive(moment: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(moment).replace(tzinfo=None, second=0, microsecond=0) if moment else None


def _notice_form(
    request: HttpRequest, orgs: list[Organization], org: Organization | None, meeting: Meeting | None
) -> MeetingForm:
    initial: dict[str, Any] = {"org": org.code if org else ""}
    if meeting is not None:
        initial.update(
            kind=meeting.kind,
            title=meeting.title,
            starts_at=_local_naive(meeting.starts_at),
            ends_at=_local_naive(meeting.ends_at),
            place=meeting.place,
            topics=meeting.topics,
            chair=str(meeting.chair_id or ""),
            recorder=str(meeting.recorder_id or ""),
            lecturer=str(meeting.lecturer_id or ""),
            lecturer_name=meeting.lecturer_name,
            lecture_title=meeting.lecture_title,
            include_activists=meeting.include_activists,
            also_counts_as=list(meeting.also_counts_as or ()),
        )
    else:
        # The org select reloads the form (its people change): keep what was typed so far.
        typed = ("kind", "title", "starts_at", "ends_at", "place", "topics", "lecturer_name", "lecture_title")
        initial.update({k: request.GET[k][:2000] for k in typed if request.GET.get(k)})
        if request.GET.get("kind") not in MeetingKind.values:
            initial.pop("kind", None)
    return MeetingForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        orgs=[(o.code, f"{'　' * max(o.depth - 1, 0)}{o.name}") for o in orgs],
        people=_people_for(org),
    )


def _notice_values(form: MeetingForm, orgs: list[Organization]) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "org": next(o for o in orgs if o.code == data["org"]),
        "kind": data["kind"],
        "title": data["title"],
        "starts_at": data["starts_at"],
        "ends_at": data["ends_at"],
        "place": data["place"],
        "topics": data["topics"],
        "chair": form.person("chair"),
        "recorder": form.person("recorder"),
        "lecturer": form.person("lecturer"),
        "lecturer_name": data["lecturer_name"],
        "lecture_title": data["lecture_title"],
        "include_activists": data["include_activists"],
        "also_counts_as": data["also_counts_as"],
    }


def _chosen_org(
    request: HttpRequest, orgs: list[Organization], default: Organization | None
) -> Organization | None:
    code = (request.POST.get("org") or request.GET.get("org") or "").strip()
    return next((o for o in orgs if o.code == code), default)


@login_required
@handles_refusals
def meeting_new(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    orgs = _managed_orgs(scope)
    if not orgs:
        raise NotPermitted("您没有可以安排会议的党组织")
    org = _chosen_org(request, orgs, None)
    if org is None and request.GET.get("org"):
        raise NotFound("党组织不存在或不在您的权限范围内")
    form = _notice_form(request, orgs, org or orgs[0], None)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_create(actor=request.user, scope=scope, **_notice_values(form, orgs))
        except _REFUSALS_PASS:
            raise
        except ServiceError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, f"已安排“{meeting.title}”，确认无误后请发布通知")
            return redirect(_meeting_url(meeting))
    return render(
        request, "life/meeting_form.html", {"form": form, "meeting": None}, status=422 if form.errors else 200
    )


def _same(before: Any, after: Any) -> bool:
    """Unchanged as the form shows it: times to the minute (the form has no seconds)."""
    if isinstance(before, dt.datetime) and isinstance(after, dt.datetime):
        return _local_naive(before) == _local_naive(after)
    return bool(before == after)


@login_required
@handles_refusals
def meeting_edit(request: HttpRequest, meeting_id: int) -> HttpResponse:
    scope = _scope(request)
    meeting = _managed_meeting(request, meeting_id)
    orgs = _managed_orgs(scope)
    form = _notice_form(request, orgs, _chosen_org(request, orgs, meeting.org), meeting)
    if request.method == "POST" and form.is_valid():
        values = _notice_values(form, orgs)
        current = {name: getattr(meeting, name) for name in services.NOTICE_FIELDS}
        changes = {k: v for k, v in values.items() if not _same(current[k], v)}
        try:
            services.meeting_update(actor=request.user, scope=scope, meeting=meeting, changes=changes)
        except _REFUSALS_PASS:
            raise
        except ServiceError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(
                request,
                "已保存会议通知"
                + (
                    "；时间、地点等变更已提醒参会人员"
                    if meeting.notice_published_at
                    else "，确认无误后请发布通知"
                ),
            )
            return redirect(_meeting_url(meeting))
    return render(
        request,
        "life/meeting_form.html",
        {"form": form, "meeting": meeting},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
@handles_refusals
def meeting_publish(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, meeting_id)
    _attempt(
        request,
        "已发布会议通知",
        "通知未发布",
        lambda: services.notice_publish(actor=request.user, scope=_scope(request), meeting=meeting),
    )
    return redirect(_meeting_url(meeting))


@login_required
@require_POST
@handles_refusals
def meeting_cancel(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, meeting_id)
    reason = request.POST.get("reason", "")
    _attempt(
        request,
        "已取消会议",
        "会议未取消",
        lambda: services.meeting_cancel(
            actor=request.user, scope=_scope(request), meeting=meeting, reason=reason
        ),
    )
    return redirect(_meeting_url(meeting))


# A meeting's page -------------------------------------------------------------------------------------


def _check_in_url(request: HttpRequest, meeting: Meeting) -> str:
    try:
        where = reverse("life:check_in", args=[meeting.check_in_token])
    except NoReverseMatch:  # the phone pages are mounted beside these; the contract fixes the address
        where = f"/life/c/{meeting.check_in_token}/"
    return request.build_absolute_uri(where)


def _development_choices(meeting: Meeting) -> list[tuple[str, str]]:
    """Open development cases of the branch at their reception or confirmation vote (the service checks)."""
    is_assembly = MeetingKind.GENERAL_ASSEMBLY in (meeting.kind, *(meeting.also_counts_as or ()))
    if not is_assembly or meeting.org.kind != OrgKind.BRANCH or meeting.state == MeetingState.CANCELLED:
        return []
    purposes = {
        Stage.CANDIDATE: VotePurpose.RECEPTION,
        Stage.RECEPTION: VotePurpose.RECEPTION,
        Stage.PROBATION: VotePurpose.CONFIRMATION,
    }
    cases = (
        DevelopmentCase.objects.filter(
            person__org=meeting.org, state=CaseState.OPEN, stage__in=list(purposes)
        )
        # A reception already voted through waits for the upper committee, not for another vote.
        .exclude(
            stage=Stage.RECEPTION,
            pk__in=DevelopmentStep.objects.filter(code="reception_vote", vote__passed=True).values("case_id"),
        )
        .select_related("person")
        .order_by("person__name_pinyin", "pk")
    )
    out = []
    for case in cases:
        purpose = purposes[Stage(case.stage)]
        out.append((f"{case.pk}:{purpose.value}", f"{case.person.name}：{purpose.label}"))
    return out


@dataclass(frozen=True)
class VoteView:
    vote: Vote
    result: voting.VoteResult
    step_recorded: bool


def _step_recorded(vote: Vote) -> bool:
    try:
        return vote.branch_vote is not None  # type: ignore[attr-defined]
    except BranchVote.DoesNotExist:
        return False


def _minutes_initial(meeting: Meeting, posted: Any = None) -> dict[str, Any]:
    seen = services.minutes_fingerprint(meeting)
    if posted is not None:
        rows = _speaker_rows(posted)
        resolutions = posted.get("resolutions", "")
        if posted.get("seen") and posted.get("seen") != seen:
            # The stored minutes changed after the form was filled (a vote's result, another secretary):
            # keep what was typed and add what was stored meanwhile, for the secretary to check and save.
            typed = [line.strip() for line in resolutions.splitlines() if line.strip()]
            stored = [r for r in (meeting.minutes or {}).get("resolutions") or () if r not in typed]
            resolutions = "\n".join([*typed, *stored])
        return {
            "seen": seen,
            "topics": posted.get("topics", ""),
            "resolutions": resolutions,
            "speakers": rows,
            "chair": posted.get("chair", ""),
            "recorder": posted.get("recorder", ""),
        }
    minutes = meeting.minutes or {}
    speakers = [
        {
            "person_id": str(s.get("person_id") or ""),
            "name": s.get("name", ""),
            "summary": s.get("summary", ""),
        }
        for s in minutes.get("speakers") or ()
    ]
    return {
        "seen": seen,
        "topics": "\n".join(minutes.get("topics") or ()) or meeting.topics,
        "resolutions": "\n".join(minutes.get("resolutions") or ()),
        "speakers": speakers,
        "chair": str(meeting.chair_id or ""),
        "recorder": str(meeting.recorder_id or ""),
    }


def _speaker_rows(data: Any) -> list[dict[str, str]]:
    """The speaker rows of the minutes form (a person or a name, and a summary), blank rows dropped."""
    raw = str(data.get("speakers_total", ""))
    total = min(int(raw), _MAX_SPEAKERS) if raw.isdigit() else 0
    rows = []
    for i in range(total):
        row = {
            "person_id": data.get(f"speaker_{i}_person", ""),
            "name": data.get(f"speaker_{i}_name", "").strip(),
            "summary": data.get(f"speaker_{i}_summary", "").strip(),
        }
        if row["person_id"] or row["name"] or row["summary"]:
            rows.append(row)
    return rows


def _render_meeting(
    request: HttpRequest, meeting: Meeting, *, minutes_posted: Any = None, status: int = 200
) -> HttpResponse:
    scope = _scope(request)
    meeting = (
        Meeting.objects.select_related("org", "chair", "recorder", "lecturer").filter(pk=meeting.pk).get()
    )
    manages = scope.can_manage_path(meeting.org.path)
    sees_roll = manages or scope.can_view_path(meeting.org.path)
    now = timezone.now()
    ctx: dict[str, Any] = {
        "meeting": meeting,
        "manages": manages,
        "sees_roll": sees_roll,
        "day": selectors.meeting_day(meeting),
        "counts_as": [
            str(MeetingKind(k).label) for k in meeting.also_counts_as or () if k in MeetingKind.values
        ],
        "planned": meeting.state == MeetingState.PLANNED,
        "cancelled": meeting.state == MeetingState.CANCELLED,
        "started": now >= meeting.starts_at,
        # Viewed through a post or a grant (one's own branch as a member is not enough for the exports).
        "oversees": any(meeting.org.path.startswith(p) for p in scope.view_paths),
        "is_life_meeting": MeetingKind.LIFE_MEETING in (meeting.kind, *(meeting.also_counts_as or ())),
    }
    attendances = list(
        meeting.attendances.select_related("person").order_by("person__name_pinyin", "person_id")
    )
    ctx["mine"] = next((a for a in attendances if scope.person_id and a.person_id == scope.person_id), None)
    ctx["attachments"] = [
        f for f in meeting.attachments.order_by("uploaded_at", "pk") if attachment_may_open(scope, f, meeting)
    ]
    if not sees_roll:
        return render(request, "life/meeting.html", ctx, status=status)
    ctx["attendances"] = attendances
    counted = ((s.label, sum(1 for a in attendances if a.state == s)) for s in AttendanceState)
    ctx["tally"] = "，".join(f"{label} {n}" for label, n in counted if n)
    ctx["leave_requests"] = [a for a in attendances if a.leave_state == LeaveState.REQUESTED]
    ctx["quorum"] = services.quorum_status(meeting)
    votes = list(meeting.votes.select_related("development_case__person", "branch_vote"))
    results = voting.vote_results(votes)
    ctx["votes"] = [VoteView(v, results[v.pk], _step_recorded(v)) for v in votes]
    if manages:
        opens, closes = services.check_in_window(meeting)
        url = _check_in_url(request, meeting)
        ctx.update(
            check_in_url=url,
            check_in_svg=segno.make(url, error="m").svg_inline(scale=5, title="签到二维码"),
            check_in_opens=opens,
            check_in_closes=closes,
            hold_missing=services.hold_missing(meeting, now) if meeting.state == MeetingState.PLANNED else [],
            markable=services.MARKABLE,
            minutes=_minutes_initial(meeting, minutes_posted),
            people=[a.person for a in attendances],
            vote_form=VoteOpenForm(cases=_development_choices(meeting)),
            decisions=list(CONFIRMATION_DECISIONS.items()),
        )
        filled = len(ctx["minutes"]["speakers"])
        ctx["blank_speakers"] = range(filled, filled + _BLANK_SPEAKERS)
        ctx["speakers_total"] = filled + _BLANK_SPEAKERS
    return render(request, "life/meeting.html", ctx, status=status)


@login_required
@handles_refusals
def meeting(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return _render_meeting(request, _meeting(request, meeting_id))


@login_required
@require_POST
@handles_refusals
def leave_decide(request: HttpRequest, attendance_id: int, decision: str = "") -> HttpResponse:
    scope = _scope(request)
    row = Attendance.objects.filter(pk=attendance_id).select_related("person").first()
    if row is None or decision not in ("approve", "refuse"):
        raise NotFound("请假申请不存在")
    meeting = selectors.meeting_get_visible(scope, row.meeting_id)
    approve = decision == "approve"
    _attempt(
        request,
        f"已{'批准' if approve else '不批准'} {row.person.name} 的请假",
        "请假未审批",
        lambda: services.leave_decide(actor=request.user, scope=scope, attendance=row, approve=approve),
    )
    return redirect(_meeting_url(meeting, "attendance"))


@login_required
@require_POST
@handles_refusals
def attendance_mark(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, meeting_id)
    states: dict[int, str] = {}
    for key in request.POST:
        value = request.POST.get(key, "")
        if key.startswith("state_") and key[6:].isdigit() and value:
            states[int(key[6:])] = value
    if not states:
        messages.error(request, "出席情况未登记：请为参会人员选择出席、请假或缺席")
    else:
        _attempt(
            request,
            "已登记出席情况",
            "出席情况未登记",
            lambda: services.attendance_mark(
                actor=request.user, scope=_scope(request), meeting=meeting, states=states
            ),
        )
    return redirect(_meeting_url(meeting, "attendance"))


def _person_or_none(people: dict[str, Person], raw: str) -> Person | None:
    return people.get(raw) if raw else None


@login_required
@require_POST
@handles_refusals
def minutes_record(request: HttpRequest, meeting_id: int) -> HttpResponse:
    scope = _scope(request)
    meeting = _managed_meeting(request, meeting_id)
    people = {str(a.person_id): a.person for a in meeting.attendances.select_related("person", "person__org")}
    data = request.POST
    speakers: list[dict[str, Any]] = []
    for row in _speaker_rows(data):
        pid = row["person_id"]
        if pid and pid not in people:
            messages.error(request, "会议记录未保存：发言人应为本次会议的参会人员")
            return _render_meeting(request, meeting, minutes_posted=data, status=422)
        speakers.append(
            {"person_id": int(pid) if pid else None, "name": row["name"], "summary": row["summary"]}
        )
    chair, recorder = data.get("chair", ""), data.get("recorder", "")
    if (chair and chair not in people) or (recorder and recorder not in people):
        messages.error(request, "会议记录未保存：主持人和记录人应为本次会议的参会人员")
        return _render_meeting(request, meeting, minutes_posted=data, status=422)
    try:
        services.minutes_record(
            actor=request.user,
            scope=scope,
            meeting=meeting,
            topics=data.get("topics", "").splitlines(),
            speakers=speakers,
            resolutions=data.get("resolutions", "").splitlines(),
            chair=_person_or_none(people, chair),
            recorder=_person_or_none(people, recorder),
            seen=data.get("seen") or None,
        )
    except _REFUSALS_PASS:
        raise
    except ServiceError as exc:
        messages.error(request, f"会议记录未保存：{exc.message}")
        return _render_meeting(request, meeting, minutes_posted=data, status=422)
    messages.success(request, "已保存会议记录")
    return redirect(_meeting_url(meeting, "minutes"))


@login_required
@require_POST
@handles_refusals
def attachment_add(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, meeting_id)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "附件未上传：请选择文件")
    else:
        _attempt(
            request,
            "附件已上传",
            "附件未上传",
            lambda: services.attachment_add(
                actor=request.user,
                scope=_scope(request),
                meeting=meeting,
                file=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
            ),
        )
    return redirect(_meeting_url(meeting, "attachments"))


def attachment_may_open(scope: Scope, attachment: MeetingAttachment, meeting: Meeting) -> bool:
    """Who may open an attachment of a meeting they see (the page, its links and the API use this one
    rule): the photos and scanned sign-in sheets are the meeting's, so its invitees may open them, even one
    of another branch invited to a 党总支 meeting; one withdrawn as uploaded by mistake only those who
    view the meeting's org."""
    return attachment.withdrawn_at is None or scope.can_view_path(meeting.org.path)


def attachment_get_openable(scope: Scope, attachment_id: int) -> MeetingAttachment:
    """An attachment the user may open (attachment_may_open) with its meeting and org, or NotFound: one
    query; outside the scope, withdrawn and missing are not told apart."""
    attachment = (
        MeetingAttachment.objects.select_related("meeting__org")
        .filter(pk=attachment_id, meeting__in=selectors.meetings_visible(scope).values("pk"))
        .first()
    )
    if attachment is None or not attachment_may_open(scope, attachment, attachment.meeting):
        raise NotFound("会议附件不存在或不在您的权限范围内")
    return attachment


def _attachment(request: HttpRequest, attachment_id: int) -> MeetingAttachment:
    return attachment_get_openable(_scope(request), attachment_id)


@login_required
@require_POST
@handles_refusals
def attachment_withdraw(request: HttpRequest, attachment_id: int) -> HttpResponse:
    attachment = _attachment(request, attachment_id)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    _attempt(
        request,
        f"已撤回附件“{attachment.title}”",
        "附件未撤回",
        lambda: services.attachment_withdraw(
            actor=request.user, scope=_scope(request), attachment=attachment, reason=reason
        ),
    )
    return redirect(_meeting_url(attachment.meeting_id, "attachments"))


def attachment_file(*, actor: Any, scope: Scope, attachment_id: int, inline: bool, via: str = "") -> Any:
    """An attachment's stored file for whoever may open it (attachment_may_open), audited; the page and
    the API (`via`="通过接口") both answer with it. A FileResponse streams the file."""
    attachment = attachment_get_openable(scope, attachment_id)
    meeting = attachment.meeting
    audit_record(
        actor=actor,
        action="export",
        obj=attachment,
        org_path=meeting.org.path,
        note=f"{via}下载会议附件：{meeting.title} {attachment.title}",
    )
    return stored_file_response(
        attachment.file, title=attachment.title, content_type=attachment.content_type, inline=inline
    )


@login_required
@handles_refusals
def attachment_download(request: HttpRequest, attachment_id: int) -> HttpResponse:
    return attachment_file(  # type: ignore[no-any-return]
        actor=request.user, scope=_scope(request), attachment_id=attachment_id, inline=True
    )


@login_required
@require_POST
@handles_refusals
def meeting_hold(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting(request, meeting_id)
    _attempt(
        request,
        "已确认会议召开",
        "未确认召开",
        lambda: services.meeting_hold(actor=request.user, scope=_scope(request), meeting=meeting),
    )
    return redirect(_meeting_url(meeting))


# Votes ------------------------------------------------------------------------------------------------


@login_required
@require_POST
@handles_refusals
def vote_open(request: HttpRequest, meeting_id: int) -> HttpResponse:
    scope = _scope(request)
    meeting = _managed_meeting(request, meeting_id)
    choices = _development_choices(meeting)
    form = VoteOpenForm(request.POST, cases=choices)
    if not form.is_valid():
        errors = "；".join(str(e) for errs in form.errors.values() for e in errs)
        messages.error(request, f"表决未开始：{errors}")
        return redirect(_meeting_url(meeting, "votes"))
    case: DevelopmentCase | None = None
    purpose = ""
    picked = form.cleaned_data.get("development") or ""
    if picked:
        case_pk, purpose = picked.split(":", 1)
        case = DevelopmentCase.objects.get(pk=int(case_pk))
    _attempt(
        request,
        f"已开始表决“{form.cleaned_data['title']}”",
        "表决未开始",
        lambda: voting.vote_open(
            actor=request.user,
            scope=scope,
            meeting=meeting,
            title=form.cleaned_data["title"],
            secret=form.cleaned_data["secret"],
            # A committee decides by the committee's quorum and majority, an assembly by its own.
            rule=None if case is not None else services.quorum_rule(meeting) or None,
            development_case=case,
            development_purpose=purpose,
        ),
    )
    return redirect(_meeting_url(meeting, "votes"))


def _vote(request: HttpRequest, vote_id: int) -> Vote:
    vote = Vote.objects.filter(pk=vote_id).first()
    if vote is None:
        raise NotFound("表决不存在")
    vote.meeting = _managed_meeting(request, vote.meeting_id)
    return vote


def _int_or_none(raw: str) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() else None


@login_required
@require_POST
@handles_refusals
def vote_counts(request: HttpRequest, vote_id: int) -> HttpResponse:
    vote = _vote(request, vote_id)
    form = VoteCountsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "计票结果未录入：请填写赞成、反对、弃权的票数（非负整数）")
    else:
        d = form.cleaned_data
        _attempt(
            request,
            "已录入会场计票结果",
            "计票结果未录入",
            lambda: voting.vote_record_counts(
                actor=request.user,
                scope=_scope(request),
                vote=vote,
                in_favour=d["in_favour"],
                against=d["against"],
                abstain=d["abstain"],
                written_opinions=d["written_opinions"] or 0,
            ),
        )
    return redirect(_meeting_url(vote.meeting_id, f"vote-{vote.pk}"))


@login_required
@require_POST
@handles_refusals
def vote_close(request: HttpRequest, vote_id: int) -> HttpResponse:
    vote = _vote(request, vote_id)
    form = VoteCloseForm(request.POST)
    written = form.cleaned_data.get("written_opinions") if form.is_valid() else None
    if not form.is_valid():
        messages.error(request, "表决未结束：书面意见份数应为非负整数")
    else:
        closed = _attempt(
            request,
            "",
            "表决未结束",
            lambda: voting.vote_close(
                actor=request.user, scope=_scope(request), vote=vote, written_opinions=written
            ),
        )
        if closed is not None:
            messages.success(
                request, f"表决已结束：{'通过' if closed.passed else '未通过'}。{closed.explanation}"
            )
    return redirect(_meeting_url(vote.meeting_id, f"vote-{vote.pk}"))


@login_required
@require_POST
@handles_refusals
def vote_step(request: HttpRequest, vote_id: int) -> HttpResponse:
    vote = _vote(request, vote_id)
    data: dict[str, Any] = {}
    if vote.development_purpose == VotePurpose.CONFIRMATION:
        data["decision"] = request.POST.get("decision", "")
        months = _int_or_none(request.POST.get("extension_months", ""))
        if months is not None:
            data["extension_months"] = months
    step = _attempt(
        request,
        "",
        "未记录到发展党员流程",
        lambda: voting.development_step_from_vote(
            actor=request.user, scope=_scope(request), vote=vote, data=data or None
        ),
    )
    if step is not None and vote.development_case is not None:
        label = VotePurpose(vote.development_purpose).label
        who = vote.development_case.person.name
        messages.success(request, f"已将{label}的表决结果记入{who}的发展党员流程")
    return redirect(_meeting_url(vote.meeting_id, f"vote-{vote.pk}"))


urlpatterns: list[URLPattern | URLResolver] = [
    path("meetings/", meetings, name="meetings"),
    path("plan/", plan, name="plan"),
    path("meetings/new/", meeting_new, name="meeting_new"),
    path("meetings/<int:meeting_id>/", meeting, name="meeting"),
    path("meetings/<int:meeting_id>/edit/", meeting_edit, name="meeting_edit"),
    path("meetings/<int:meeting_id>/publish/", meeting_publish, name="meeting_publish"),
    path("meetings/<int:meeting_id>/cancel/", meeting_cancel, name="meeting_cancel"),
    path("meetings/<int:meeting_id>/attendance/", attendance_mark, name="attendance_mark"),
    path("meetings/<int:meeting_id>/minutes/", minutes_record, name="minutes_record"),
    path("meetings/<int:meeting_id>/attachments/", attachment_add, name="attachment_add"),
    path("meetings/<int:meeting_id>/hold/", meeting_hold, name="meeting_hold"),
    path("meetings/<int:meeting_id>/votes/", vote_open, name="vote_open"),
    path("leave/<int:attendance_id>/approve/", leave_decide, {"decision": "approve"}, name="leave_approve"),
    path("leave/<int:attendance_id>/refuse/", leave_decide, {"decision": "refuse"}, name="leave_refuse"),
    path("attachments/<int:attachment_id>/", attachment_download, name="attachment"),
    path("attachments/<int:attachment_id>/withdraw/", attachment_withdraw, name="attachment_withdraw"),
    path("votes/<int:vote_id>/counts/", vote_counts, name="vote_counts"),
    path("votes/<int:vote_id>/close/", vote_close, name="vote_close"),
    path("votes/<int:vote_id>/step/", vote_step, name="vote_step"),
]
