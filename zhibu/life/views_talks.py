"""Pages of talks (谈心谈话) and of the life meeting (组织生活会): the year's talks with the coverage
board, the form to record a talk, and a life meeting's preparation, criticism and rectification items.

Views parse input, call one service or selector and render; refusals show on the form with what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.scoping import Scope
from zhibu.core.views import form_add_service_errors, handles_refusals
from zhibu.life import talks as svc
from zhibu.life.models import CriticismKind, Meeting, Rectification
from zhibu.life.selectors import meeting_get_visible
from zhibu.people.models import Person

_PASS = (NotFound, NotPermitted)
_DATE = forms.DateInput(attrs={"type": "date"})


def _scope(request: HttpRequest) -> Scope:
    return request.scope  # type: ignore[attr-defined,no-any-return]


def _year(raw: str, default: int) -> int:
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else default


def _person(pk: Any) -> Person | None:
    return Person.objects.filter(pk=int(pk)).first() if str(pk or "").isdigit() else None


def _choices(form: forms.Form, name: str, choices: list[Any]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


# Forms --------------------------------------------------------------------------------------------------


class TalkForm(forms.Form):
    held_on = forms.DateField(label="谈话日期", widget=_DATE)
    person_a = forms.TypedChoiceField(label="谈话人", coerce=int)
    person_b = forms.TypedChoiceField(label="谈话对象", coerce=int)
    topic = forms.CharField(label="主题", max_length=200)
    summary = forms.CharField(
        label="谈话要点",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="仅谈话双方和支部书记等管理人员可以查看",
    )
    before_life_meeting = forms.TypedChoiceField(
        label="为哪次组织生活会做准备", required=False, coerce=int, empty_value=None
    )

    def __init__(
        self, *args: Any, people: list[tuple[int, str]], meetings: list[Meeting], fixed_a: bool, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        choices = [("", "请选择"), *people]
        _choices(self, "person_a", choices)
        _choices(self, "person_b", choices)
        _choices(
            self,
            "before_life_meeting",
            [("", "（不是会前谈话）")]
            + [(m.pk, f"{m.title}（{timezone.localtime(m.starts_at):%Y-%m-%d}）") for m in meetings],
        )
        if fixed_a:  # a member records their own talk: the service is given their own person
            self.fields["person_a"].widget = forms.HiddenInput()
            self.fields["person_a"].required = False


class CriticismForm(forms.Form):
    kind = forms.ChoiceField(label="类别", choices=CriticismKind.choices)
    speaker = forms.TypedChoiceField(label="发言人", required=False, coerce=int, empty_value=None)
    about = forms.TypedChoiceField(label="对象", required=False, coerce=int, empty_value=None)
    text = forms.CharField(label="内容", max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, people: list[tuple[int, str]], **kw: Any) -> None:
        super().__init__(*args, **kw)
        _choices(self, "speaker", [("", "（未署名）"), *people])
        _choices(self, "about", [("", "—"), *people])


class RectificationForm(forms.Form):
    item = forms.CharField(label="整改事项", max_length=300)
    owner = forms.TypedChoiceField(label="责任人", coerce=int)
    due_on = forms.DateField(label="完成时限", widget=_DATE)

    def __init__(self, *args: Any, people: list[tuple[int, str]], **kw: Any) -> None:
        super().__init__(*args, **kw)
        _choices(self, "owner", [("", "请选择"), *people])


class DoneForm(forms.Form):
    done_on = forms.DateField(label="完成日期", widget=_DATE)
    evidence = forms.CharField(label="完成情况", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


# Talks --------------------------------------------------------------------------------------------------


@login_required
@handles_refusals
def talks(request: HttpRequest) -> HttpResponse:
    """The branch's talks of the year and the coverage board by relation."""
    scope = _scope(request)
    today = timezone.localdate()
    branch = svc.branch_visible(scope, request.GET.get("org", "").strip()[:50])
    svc.check_sees_branch_talks(scope, branch)
    year = _year(request.GET.get("year", "").strip(), today.year)
    board = svc.coverage_board(branch, year, today=today)
    rows = svc.talks_visible(scope, branch, year)
    branches = list(svc.branches_visible(scope).values_list("code", "name"))
    return render(
        request,
        "life/talks/list.html",
        {
            "org": branch,
            "year": year,
            "years": list(range(today.year, today.year - 5, -1)),
            "board": board,
            "rows": rows,
            "branches": branches,
            "oversees": any(branch.path.startswith(p) for p in scope.view_paths),
            "can_manage": scope.can_manage_path(branch.path),
            "can_record": scope.can_manage_path(branch.path) or scope.own_branch_path == branch.path,
        },
    )


@login_required
@handles_refusals
def talk_new(request: HttpRequest) -> HttpResponse:
    """Record a talk: a manager records any of the branch's, a member one they took part in."""
    scope = _scope(request)
    today = timezone.localdate()
    code = (request.GET.get("org") or request.POST.get("org") or "").strip()[:50]
    branch = svc.branch_visible(scope, code)
    svc.check_sees_branch_talks(scope, branch)
    manages = scope.can_manage_path(branch.path)
    if not manages and scope.person_id is None:
        raise NotPermitted("只有谈话双方或支部书记等管理人员可以记录谈心谈话")
    people = svc.talk_people(branch, today)
    if not manages and scope.person_id not in {pid for pid, _ in people}:
        raise NotPermitted(f"您不是{branch.name}的党员或支部委员，不能在此记录谈心谈话")
    meetings = svc.life_meetings_for_talks(branch)
    initial: dict[str, Any] = {"held_on": today}
    if not manages:
        initial["person_a"] = scope.person_id
    if request.GET.get("meeting", "").isdigit():
        initial["before_life_meeting"] = int(request.GET["meeting"])
    form = TalkForm(
        request.POST or None, initial=initial, people=people, meetings=meetings, fixed_a=not manages
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = data["before_life_meeting"]
        try:
            talk = svc.talk_record(
                actor=request.user,
                scope=scope,
                org=branch,
                held_on=data["held_on"],
                person_a=_person(data["person_a"] if manages else scope.person_id),  # type: ignore[arg-type]
                person_b=_person(data["person_b"]),  # type: ignore[arg-type]
                topic=data["topic"],
                summary=data["summary"],
                before_life_meeting=next((m for m in meetings if m.pk == chosen), None),
                today=today,
            )
        except _PASS:
            raise
        except ServiceError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, f"已记录 {talk.person_a.name} 与 {talk.person_b.name} 的谈心谈话")
            return redirect(f"{reverse('life:talks')}?org={branch.code}&year={talk.held_on.year}")
    return render(request, "life/talks/new.html", {"form": form, "org": branch, "manages": manages})


@dataclass(frozen=True)
class RectRow:
    item: Rectification
    done_form: DoneForm | None
    may_mark_done: bool
    overdue: bool


class TalkCorrectForm(TalkForm):
    reason = forms.CharField(label="更正原因", max_length=300)


@login_required
@handles_refusals
def talk_correct(request: HttpRequest, talk_id: int) -> HttpResponse:
    """Correct a talk's record, with the reason (one of the two who talked, or a manager)."""
    scope = _scope(request)
    talk = svc.talk_get_visible(scope, talk_id)
    if not svc.talk_summary_visible(scope, request.user, talk):
        raise NotPermitted("只能更正本人参加的谈心谈话，其他谈话请由书记更正")
    branch = svc.branch_of(talk.org)
    manages = scope.can_manage_path(branch.path)
    people = svc.talk_people(branch, talk.held_on)
    known = {pid for pid, _ in people}
    people += [(x.pk, x.name) for x in (talk.person_a, talk.person_b) if x.pk not in known]
    meetings = svc.life_meetings_for_talks(branch)
    if talk.before_life_meeting is not None and talk.before_life_meeting not in meetings:
        meetings.append(talk.before_life_meeting)
    initial = {
        "held_on": talk.held_on,
        "person_a": talk.person_a_id,
        "person_b": talk.person_b_id,
        "topic": talk.topic,
        "summary": talk.summary,
        "before_life_meeting": talk.before_life_meeting_id,
    }
    form = TalkCorrectForm(
        request.POST or None, initial=initial, people=people, meetings=meetings, fixed_a=False
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = data["before_life_meeting"]
        changes = {
            "held_on": data["held_on"],
            "person_a": _person(data["person_a"]),
            "person_b": _person(data["person_b"]),
            "topic": data["topic"],
            "summary": data["summary"],
            "before_life_meeting": next((m for m in meetings if m.pk == chosen), None) if chosen else None,
        }
        if _run(
            form,
            lambda: svc.talk_correct(
                actor=request.user, scope=scope, talk=talk, changes=changes, reason=data["reason"]
            ),
        ):
            messages.success(request, "已更正谈话记录")
            return redirect(f"{reverse('life:talks')}?org={branch.code}&year={data['held_on'].year}")
    return render(
        request, "life/talks/correct.html", {"form": form, "org": branch, "talk": talk, "manages": manages}
    )


# The life meeting -----------------------------------------------------------------------------------------


@login_required
@handles_refusals
def life_meeting(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """A life meeting: opinions and talks before it, self- and mutual criticism, rectification items."""
    scope = _scope(request)
    meeting = meeting_get_visible(scope, meeting_id)
    if not svc.is_life_meeting(meeting):
        raise NotFound("会议不是组织生活会")
    manages = scope.can_manage_path(meeting.org.path)
    page = svc.life_meeting_page(meeting, scope=scope)
    people = page.invitees
    criticism = CriticismForm(people=people, initial={"kind": "self" if page.started else "opinion"})
    rectification = RectificationForm(people=people)
    done_forms: dict[int, DoneForm] = {}
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action in ("criticism", "rectification") and not manages:
        raise NotPermitted(f"您无权办理{meeting.org.name}组织生活会的记录")
    if action == "criticism":
        criticism = CriticismForm(request.POST, people=people)
        if criticism.is_valid():
            data = criticism.cleaned_data
            if _run(
                criticism,
                lambda: svc.criticism_add(
                    actor=request.user,
                    scope=scope,
                    meeting=meeting,
                    kind=data["kind"],
                    text=data["text"],
                    speaker=_person(data["speaker"]),
                    about=_person(data["about"]),
                ),
            ):
                messages.success(request, f"已记录{CriticismKind(data['kind']).label}")
                return redirect("life:life_meeting", meeting_id=meeting.pk)
    elif action == "rectification":
        rectification = RectificationForm(request.POST, people=people)
        if rectification.is_valid():
            data = rectification.cleaned_data
            if _run(
                rectification,
                lambda: svc.rectification_add(
                    actor=request.user,
                    scope=scope,
                    meeting=meeting,
                    item=data["item"],
                    owner=_person(data["owner"]),
                    due_on=data["due_on"],
                ),
            ):
                messages.success(request, "已添加整改事项")
                return redirect("life:life_meeting", meeting_id=meeting.pk)
    elif action == "done":
        row = next((r for r in page.rectifications if str(r.pk) == request.POST.get("rectification")), None)
        if row is None:
            raise NotFound("整改事项不存在")
        form = DoneForm(request.POST)
        done_forms[row.pk] = form
        if form.is_valid():
            data = form.cleaned_data
            if _run(
                form,
                lambda: svc.rectification_done(
                    actor=request.user,
                    scope=scope,
                    rectification=row,
                    done_on=data["done_on"],
                    evidence=data["evidence"],
                ),
            ):
                messages.success(request, f"整改事项“{row.item}”已完成")
                return redirect("life:life_meeting", meeting_id=meeting.pk)
    elif action:
        raise NotFound("未知的操作")
    today = timezone.localdate()
    rect_rows = [
        RectRow(
            r,
            done_forms.get(r.pk) or (DoneForm(initial={"done_on": today}) if r.done_on is None else None),
            manages or r.owner_id == scope.person_id,
            r.done_on is None and r.due_on < today,
        )
        for r in page.rectifications
    ]
    return render(
        request,
        "life/talks/life_meeting.html",
        {
            "page": page,
            "meeting": meeting,
            "manages": manages,
            "criticism_form": criticism,
            "rectification_form": rectification,
            "rect_rows": rect_rows,
        },
    )


def _run(form: forms.Form, call: Any) -> bool:
    """Call a service; its refusal goes on the form (NotFound/NotPermitted pass through)."""
    try:
        call()
    except _PASS:
        raise
    except ServiceError as exc:
        form_add_service_errors(form, exc)
        return False
    return True


urlpatterns: list[URLPattern] = [
    path("talks/", talks, name="talks"),
    path("talks/new/", talk_new, name="talk_new"),
    path("talks/<int:talk_id>/correct/", talk_correct, name="talk_correct"),
    path("meetings/<int:meeting_id>/life/", life_meeting, name="life_meeting"),
]
