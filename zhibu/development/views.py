"""Development pages: the board, a case with its timeline and step forms, the yearly plan, one's own case.

Views parse input, call one service or selector and render; the services check every rule and their
refusals are shown on the form with what was typed kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from zhibu.compliance.packs import effective_policy
from zhibu.core.audit import audit_record
from zhibu.core.downloads import stored_file_response
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.scoping import Scope
from zhibu.core.views import form_add_service_errors, handles_refusals
from zhibu.development import selectors, services
from zhibu.development.forms import (
    VOTE_STEPS,
    CaseOpenForm,
    DiscontinueForm,
    DocumentForm,
    PlanForm,
    ReasonForm,
    StepForm,
)
from zhibu.development.models import CaseState, DevelopmentCase, DevelopmentStep, Stage
from zhibu.development.steps import StepDef
from zhibu.people.models import Person

_REFUSALS_PASS = (NotFound, NotPermitted)


def _scope(request: HttpRequest) -> Scope:
    return request.scope  # type: ignore[attr-defined,no-any-return]


def _case_url(case: DevelopmentCase | int) -> str:
    pk = case if isinstance(case, int) else case.pk
    return reverse("development:case", args=[pk])


def _managed_case(request: HttpRequest, pk: int) -> DevelopmentCase:
    scope = _scope(request)
    case = selectors.case_get_visible(scope, pk)
    if not selectors.sees_pipeline(scope, case.person):
        raise NotFound("发展党员流程不存在或不在您的权限范围内")
    if not scope.can_manage_person(case.person):
        raise NotPermitted("您无权办理此人的发展党员工作")
    return case


# The board ----------------------------------------------------------------------------------------------


@login_required
@handles_refusals
def board(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    if not scope.view_paths:
        if scope.person_id:
            return redirect("development:mine")
        raise NotPermitted("您没有可以查看的党组织")
    code = request.GET.get("org", "").strip()[:50]
    district = selectors.district_page(scope, code, today=timezone.localdate())
    if district is not None:
        return render(
            request,
            "development/district.html",
            {"page": district, "org": district.org, "orgs": selectors.orgs_for_choice(scope)},
        )
    page = selectors.board_page(scope, code, today=timezone.localdate())
    return render(
        request,
        "development/board.html",
        {
            "page": page,
            "org": page.org,
            "orgs": selectors.orgs_for_choice(scope),
            "can_manage": scope.can_manage_org(page.org),
        },
    )


@login_required
@handles_refusals
def case_new(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    org = selectors.org_visible(scope, (request.GET.get("org") or request.POST.get("org") or "").strip()[:50])
    if not scope.can_manage_org(org):
        raise NotPermitted("您无权在此党组织新建发展党员流程")
    people = list(selectors.people_openable(scope, org))
    form = CaseOpenForm(request.POST or None, request.FILES or None, people=people)
    if request.method == "POST" and form.is_valid():
        person = next(p for p in people if str(p.pk) == form.cleaned_data["person"])
        upload = form.cleaned_data.get("document")
        documents = [services.Upload(kind="application_letter", file=upload)] if upload else []
        try:
            case = services.case_open(
                actor=request.user,
                scope=scope,
                person=person,
                applied_on=form.cleaned_data["applied_on"],
                league_member=form.cleaned_data["league_member"],
                note=form.cleaned_data["note"],
                documents=documents,
            )
        except _REFUSALS_PASS:
            raise
        except ServiceError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, f"已为 {person.name} 建立发展党员流程")
            return redirect(_case_url(case))
    return render(request, "development/case_new.html", {"form": form, "org": org})


# A case -------------------------------------------------------------------------------------------------


@login_required
@handles_refusals
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _scope(request)
    case = selectors.case_get_visible(scope, pk)
    if not selectors.sees_pipeline(scope, case.person):
        # One's own case is shown on "my case", without other people's votes and names.
        return redirect("development:mine")
    page = selectors.case_page(case, today=timezone.localdate())
    manages = scope.can_manage_person(case.person)
    is_open = case.state == CaseState.OPEN
    return render(
        request,
        "development/case.html",
        {
            "page": page,
            "case": case,
            "p": case.person,
            "can_manage": manages,
            "can_record": manages and is_open,
            # A probationary member's case ends by a vote (取消预备党员资格), not by stopping the cultivation.
            "can_discontinue": manages and is_open and case.stage != Stage.PROBATION,
            # The materials go to the personnel file after the confirmation, when the case is complete.
            "can_archive": manages
            and case.state == CaseState.COMPLETED
            and "archiving" not in page.timeline.events,
        },
    )


def _step_form(
    request: HttpRequest,
    case: DevelopmentCase,
    step: StepDef,
    *,
    data: Any = None,
    files: Any = None,
    initial: dict[str, Any] | None = None,
    correcting: bool = False,
) -> StepForm:
    voters: list[Person] = []
    policy = effective_policy(case.person.org)
    if step.code in VOTE_STEPS and not correcting:
        raw = (data or {}).get("done_on") or request.GET.get("done_on") or ""
        try:
            held_on = dt.date.fromisoformat(raw) if raw else timezone.localdate()
        except ValueError:
            held_on = timezone.localdate()
        voters = services.entitled_voters(case.person, held_on)
    needs_members = step.code in ("mentor_assignment", "sponsor_assignment")
    form = StepForm(
        data,
        files,
        initial=initial,
        step=step,
        full_members=selectors.branch_full_members(case.person) if needs_members else (),
        groups=selectors.branch_groups(case.person) if step.code == "branch_assignment" else (),
        voters=voters,
        correcting=correcting,
    )
    # The policy's numbers beside the fields they limit (the service checks them).
    if "starts_on" in form.fields and policy.value("publicity.workdays") is not None:
        workdays = policy.value("publicity.workdays")
        form.fields["done_on"].help_text = f"公示期不少于 {workdays}（按法定节假日安排计算）"
    if "days" in form.fields:
        days = policy.value("candidate.training_min.days")
        hours = policy.value("candidate.training_min.hours")
        form.fields["days"].help_text = f"不少于 {days} 天或 {hours} 学时（满足其一）"
    return form


def _step_def(case: DevelopmentCase, code: str) -> StepDef:
    dev = effective_policy(case.person.org).development
    if code not in dev.by_code or code == "application":
        raise NotFound("没有这个步骤")
    return dev.step(code)


@login_required
@handles_refusals
def step_record(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    scope = _scope(request)
    case = _managed_case(request, pk)
    step = _step_def(case, code)
    today = timezone.localdate()
    initial = {"done_on": request.GET.get("done_on") or today}
    if request.method == "POST":
        form = _step_form(request, case, step, data=request.POST, files=request.FILES)
        if form.is_valid():
            try:
                services.step_record(
                    actor=request.user,
                    scope=scope,
                    case=case,
                    code=code,
                    done_on=form.cleaned_data["done_on"],
                    data=form.data_values(),
                    vote=form.vote(),
                    note=form.cleaned_data.get("note") or "",
                    documents=form.uploads(),
                )
            except _REFUSALS_PASS:
                raise
            except ServiceError as exc:
                form_add_service_errors(form, exc)
            else:
                messages.success(request, f"已记录：{step.label}")
                return redirect(_case_url(case))
    else:
        form = _step_form(request, case, step, initial=initial)
    row = services.case_timeline(case).row(code)
    ctx = {"case": case, "p": case.person, "step": step, "form": form, "row": row, "window": row.window}
    if request.htmx and request.GET.get("part") == "voters":  # type: ignore[attr-defined]
        return render(request, "development/step_form.html#voters", ctx)
    return render(request, "development/step_form.html", ctx, status=422 if form.errors else 200)


def _initial_from(record: DevelopmentStep) -> dict[str, Any]:
    d = dict(record.details or {})
    initial: dict[str, Any] = {"done_on": record.done_on, "note": record.note}
    for key in ("talker", "method", "summary", "started_on", "days", "hours", "provider", "starts_on"):
        if key in d:
            initial[key] = d[key]
    if record.code in ("activist_review", "probation_review"):
        initial["conclusion"] = d.get("conclusion", "")
    if record.code == "political_review":
        initial["conclusion"] = record.outcome
    if "mentors" in d:
        initial["mentors"] = [str(m["id"]) for m in d["mentors"]]
    if "sponsors" in d:
        initial["sponsors"] = [str(m["id"]) for m in d["sponsors"]]
    if "objections" in d:
        initial["objections"] = bool(d["objections"])
    if "late_reason" in d:
        initial["late_reason"] = d["late_reason"]
    if record.code == "branch_assignment":
        initial["group_id"] = str(d.get("group_id") or "")
    if record.code == "confirmation_vote":
        initial["decision"] = d.get("decision", "")
        initial["extension_months"] = d.get("extension_months")
    return initial


@login_required
@handles_refusals
def step_correct(request: HttpRequest, record_id: int) -> HttpResponse:
    scope = _scope(request)
    record = selectors.step_record_get(scope, record_id)
    case = _managed_case(request, record.case_id)
    step = _step_def(case, record.code) if record.code != "application" else _application_def(case)
    initial = _initial_from(record)
    if request.method == "POST":
        form = _step_form(request, case, step, data=request.POST, initial=initial, correcting=True)
        if form.is_valid():
            done_on = form.cleaned_data["done_on"]
            try:
                services.step_correct(
                    actor=request.user,
                    scope=scope,
                    record=record,
                    reason=form.cleaned_data["reason"],
                    done_on=done_on if done_on != record.done_on else None,
                    data=form.data_values() if form.data_changed() else None,
                    note=form.cleaned_data.get("note") or "",
                )
            except _REFUSALS_PASS:
                raise
            except ServiceError as exc:
                form_add_service_errors(form, exc)
            else:
                messages.success(request, f"已更正：{step.label}")
                return redirect(_case_url(case))
    else:
        form = _step_form(request, case, step, initial=initial, correcting=True)
    return render(
        request,
        "development/step_correct.html",
        {"case": case, "p": case.person, "step": step, "record": record, "form": form},
        status=422 if form.errors else 200,
    )


def _application_def(case: DevelopmentCase) -> StepDef:
    return effective_policy(case.person.org).development.step("application")


@login_required
@require_POST
@handles_refusals
def document_add(request: HttpRequest, record_id: int) -> HttpResponse:
    scope = _scope(request)
    record = selectors.step_record_get(scope, record_id)
    case = _managed_case(request, record.case_id)
    step = effective_policy(case.person.org).development.step(record.code)
    form = DocumentForm(request.POST, request.FILES, step=step)
    if not form.is_valid():
        messages.error(request, "材料未上传：请选择材料类别和文件")
    else:
        try:
            services.document_add(
                actor=request.user,
                scope=scope,
                record=record,
                upload=services.Upload(kind=form.cleaned_data["kind"], file=form.cleaned_data["file"]),
            )
        except _REFUSALS_PASS:
            raise
        except ServiceError as exc:
            messages.error(request, "材料未上传：" + exc.message)
        else:
            messages.success(request, "材料已上传")
    return redirect(_case_url(case) + f"#step-{record.code}")


@login_required
@handles_refusals
def document_download(request: HttpRequest, doc_id: int) -> HttpResponse:
    scope = _scope(request)
    doc = selectors.document_get_visible(scope, doc_id)
    person = doc.step.case.person
    # Personal documents leaving the system are recorded: who took which document of whom.
    audit_record(
        actor=request.user,
        action="export",
        obj=doc,
        org_path=person.org.path,
        note=f"下载发展党员材料：{person.name} {doc.title}",
    )
    return stored_file_response(  # type: ignore[return-value]  # a FileResponse streams the file
        doc.file, title=doc.title, content_type=doc.content_type, inline=True
    )


@login_required
@require_POST
@handles_refusals
def document_withdraw(request: HttpRequest, doc_id: int) -> HttpResponse:
    scope = _scope(request)
    doc = selectors.document_get_visible(scope, doc_id)
    case = _managed_case(request, doc.step.case_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "材料未撤回：请写明撤回原因")
    else:
        try:
            services.document_withdraw(
                actor=request.user, scope=scope, document=doc, reason=form.cleaned_data["reason"]
            )
        except _REFUSALS_PASS:
            raise
        except ServiceError as exc:
            messages.error(request, "材料未撤回：" + exc.message)
        else:
            messages.success(request, f"已撤回材料“{doc.title}”")
    return redirect(_case_url(case) + f"#step-{doc.step.code}")


@login_required
@handles_refusals
def case_discontinue(request: HttpRequest, pk: int) -> HttpResponse:
    scope = _scope(request)
    case = _managed_case(request, pk)
    form = DiscontinueForm(request.POST or None, initial={"on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.case_discontinue(
                actor=request.user,
                scope=scope,
                case=case,
                on=form.cleaned_data["on"],
                reason=form.cleaned_data["reason"],
            )
        except _REFUSALS_PASS:
            raise
        except ServiceError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, f"已终止 {case.person.name} 的培养")
            return redirect(_case_url(case))
    return render(
        request,
        "development/discontinue.html",
        {"case": case, "p": case.person, "form": form},
        status=422 if form.errors else 200,
    )


# The yearly plan ----------------------------------------------------------------------------------------


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year") or request.POST.get("year") or ""
    if raw.isdigit() and 2000 <= int(raw) <= 2100:
        return int(raw)
    return timezone.localdate().year


@login_required
@handles_refusals
def plan(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    code = (request.GET.get("org") or request.POST.get("org") or "").strip()[:50]
    year = _year(request)
    page = selectors.plan_page(scope, code, year=year)
    can_manage = scope.can_manage_org(page.org)
    initial = {}
    if page.plan is not None:
        initial = {k: getattr(page.plan, k) for k in services.PLAN_FIELDS}
    form = PlanForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not can_manage:
            raise NotPermitted("您无权修改此党组织的发展计划")
        if form.is_valid():
            try:
                services.plan_set(
                    actor=request.user, scope=scope, org=page.org, year=year, values=form.cleaned_data
                )
            except _REFUSALS_PASS:
                raise
            except ServiceError as exc:
                form_add_service_errors(form, exc)
            else:
                messages.success(request, f"已保存 {year} 年发展计划")
                return redirect(f"{reverse('development:plan')}?org={page.org.code}&year={year}")
    return render(
        request,
        "development/plan.html",
        {
            "page": page,
            "org": page.org,
            "form": form if can_manage else None,
            "orgs": selectors.orgs_for_choice(scope),
            "years": [year - 1, year, year + 1],
        },
        status=422 if form.errors else 200,
    )


# My own case --------------------------------------------------------------------------------------------


@login_required
@handles_refusals
def mine(request: HttpRequest) -> HttpResponse:
    mine = selectors.my_case(_scope(request), today=timezone.localdate())
    return render(request, "development/mine.html", {"mine": mine})
