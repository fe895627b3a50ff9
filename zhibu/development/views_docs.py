"""Downloads of a case's forms (.docx) and of the development roster (.xlsx); each download is audited."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.http import content_disposition_header

from zhibu.compliance.packs import EffectivePolicy, effective_policies, effective_policy
from zhibu.core.audit import audit_record
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.scoping import Scope
from zhibu.core.views import handles_refusals
from zhibu.development import timeline
from zhibu.development.documents import (
    DOCX,
    CaseRecords,
    confirmation_resolution_docx,
    cultivation_record_docx,
    load_case_records,
    publicity_notice_docx,
    reception_resolution_docx,
    require_vote,
)
from zhibu.development.models import DevelopmentCase, VotePurpose
from zhibu.development.rosters import NextSteps, load_roster_cases, write_roster_xlsx
from zhibu.development.selectors import sees_pipeline
from zhibu.orgs.models import Organization
from zhibu.people.views_io import XLSX

Builder = Callable[[CaseRecords, EffectivePolicy], bytes]


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response


def refuses_with_message(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A ServiceError that is neither 404 nor 403 (a vote not recorded yet) becomes a 409 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except (NotFound, NotPermitted):
            raise
        except ServiceError as exc:
            return render(request, "core/error.html", {"code": 409, "message": exc.message}, status=409)

    return wrapper


def _case_visible(scope: Scope, pk: int) -> DevelopmentCase:
    case = DevelopmentCase.objects.select_related("person__org__parent").filter(pk=pk).first()
    # The forms carry other people's names and votes: only those who see the branch's pipeline get them,
    # not the subject reading their own case.
    if case is None or not sees_pipeline(scope, case.person):
        raise NotFound("发展党员流程不存在或不在您的权限范围内")
    return case


def _case_document(
    request: HttpRequest, pk: int, *, title: str, build: Builder, vote: str | None = None
) -> HttpResponse:
    case = _case_visible(request.scope, pk)  # type: ignore[attr-defined]
    records = load_case_records(case)
    if vote is not None:
        require_vote(records, vote)
    content = build(records, effective_policy(case.person.org))
    # Personal data leaving the system is recorded: who took which form of whom.
    audit_record(
        actor=request.user,
        action="export",
        obj=case,
        org_path=case.person.org.path,
        note=f"导出《{title}》（{case.person.name}）",
    )
    return _download(content, f"{title}-{case.person.name}.docx", DOCX)


@login_required
@handles_refusals
def cultivation_record(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_document(request, pk, title="入党积极分子培养教育考察登记表", build=cultivation_record_docx)


@login_required
@handles_refusals
def publicity_notice(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_document(request, pk, title="发展对象公示", build=publicity_notice_docx)


@login_required
@handles_refusals
@refuses_with_message
def reception_resolution(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_document(
        request,
        pk,
        title="支部大会关于接收预备党员的决议",
        build=reception_resolution_docx,
        vote=VotePurpose.RECEPTION,
    )


@login_required
@handles_refusals
@refuses_with_message
def confirmation_resolution(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_document(
        request,
        pk,
        title="支部大会关于预备党员转正的决议",
        build=confirmation_resolution_docx,
        vote=VotePurpose.CONFIRMATION,
    )


def _roster_org(scope: Scope, code: str) -> Organization:
    """The org whose roster is asked for, if the viewer manages or views it (their own branch is not enough:
    a member sees their own record, not the branch's pipeline)."""
    org = Organization.objects.filter(code=code).first() if code else None
    if org is None or not any(org.path.startswith(p) for p in scope.view_paths):
        raise NotFound("党组织不存在或不在您的权限范围内（请用 ?org=组织代码 指定）")
    return org


def _next_steps(cases: list[DevelopmentCase]) -> NextSteps:
    """Each case's next step and its latest date, from the timeline with its org's policy (no query per
    case: the policies take two queries in all, the steps come prefetched)."""
    orgs = {c.person.org.pk: c.person.org for c in cases}
    policies = effective_policies(orgs.values())
    out: dict[int, tuple[str, Any]] = {}
    for case in cases:
        dev = policies[case.person.org.pk].development
        tl = timeline.build(dev, list(case.steps.all()), probation_ends_on=case.probation_ends_on)
        if tl.next is not None:
            out[case.pk] = (tl.next.step.label, tl.next.window.latest)
    return out


@login_required
@handles_refusals
def roster(request: HttpRequest) -> HttpResponse:
    scope: Scope = request.scope  # type: ignore[attr-defined]
    org = _roster_org(scope, request.GET.get("org", "").strip())
    qs = scope.by_org_path(
        DevelopmentCase.objects.filter(person__org__path__startswith=org.path), "person__org__path"
    )
    cases = load_roster_cases(qs)
    today = timezone.localdate()
    buffer = io.BytesIO()
    counts = write_roster_xlsx(cases, buffer, on=today, next_steps=_next_steps(cases))
    audit_record(
        actor=request.user,
        action="export",
        obj=org,
        org_path=org.path,
        note=f"导出发展党员工作名册 {sum(counts.values())} 人（{org.name}）",
    )
    return _download(buffer.getvalue(), f"发展党员工作名册-{org.name}-{today:%Y%m%d}.xlsx", XLSX)


urlpatterns = [
    path("cases/<int:pk>/documents/cultivation.docx", cultivation_record, name="doc_cultivation"),
    path("cases/<int:pk>/documents/publicity.docx", publicity_notice, name="doc_publicity"),
    path("cases/<int:pk>/documents/reception.docx", reception_resolution, name="doc_reception"),
    path("cases/<int:pk>/documents/confirmation.docx", confirmation_resolution, name="doc_confirmation"),
    path("roster.xlsx", roster, name="roster"),
]
