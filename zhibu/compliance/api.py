"""API routes for findings: the latest run's findings of an org (scoped), and running an evaluation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.responses import Status as HttpStatus
from pydantic import Field

from zhibu.api import ERRORS, InputSchema, PageQuery, paginate, request_scope_of
from zhibu.compliance import selectors, services
from zhibu.compliance.kinds import STATES
from zhibu.compliance.models import Trigger
from zhibu.core.errors import NotPermitted, ServiceError
from zhibu.orgs.api import CODE_MAX, org_for_field

router = Router(tags=["检查结果"])

YEAR = Field(None, ge=1900, le=2200, description="年度（默认今年）")


class SubjectOut(Schema):
    type: str
    id: int
    label: str


class PeriodOut(Schema):
    start: dt.date
    end: dt.date


class FindingOut(Schema):
    rule: str
    title: str
    subject: SubjectOut
    org: str = Field(description="所属党组织代码（人员为其所在支部）")
    state: str
    state_label: str
    severity: str
    period: PeriodOut
    due: dt.date | None
    estimated: bool = Field(description="到期日按周一至周五估算")
    message: str
    source: str
    remedy: str
    link: str


class RunOut(Schema):
    id: int
    org: str
    year: int
    as_of: dt.date
    started_at: dt.datetime
    finished_at: dt.datetime | None
    trigger: str
    counts: dict[str, int]
    rule_count: int


class FindingPage(Schema):
    run: RunOut | None = Field(description="所依据的最近一次检查（尚未检查时为 null）")
    count: int
    page: int
    page_size: int
    items: list[FindingOut]


class FindingListQuery(PageQuery):
    org: str = Field(max_length=CODE_MAX, description="组织代码：其下全部检查结果")
    year: int | None = YEAR
    state: list[str] = Field([], description=f"状态，可重复：{'、'.join(STATES)}")
    rule: str = Field("", max_length=100, description="规则编号")


class RunIn(InputSchema):
    org: str = Field(max_length=CODE_MAX, description="组织代码")
    year: int | None = YEAR


@router.get("/", response={200: FindingPage, **ERRORS}, summary="检查结果")
def finding_list(request: HttpRequest, query: Query[FindingListQuery]) -> Any:
    """Findings of the latest run covering an org, within the user's scope (a member: their own)."""
    scope = request_scope_of(request)
    unknown = [s for s in query.state if s not in STATES]
    if unknown:
        raise ServiceError(f"未知状态：{'、'.join(unknown)}（可选：{'、'.join(STATES)}）", field="state")
    year = query.year or timezone.localdate().year
    _org, run, qs = selectors.finding_list_visible_to(
        scope,
        query.org,
        year=year,
        filters=selectors.FindingFilters(states=tuple(query.state), rule=query.rule.strip()),
    )
    total, rows = paginate(qs, query.page, query.page_size)
    return {
        "run": selectors.run_json(run) if run else None,
        "count": total,
        "page": query.page,
        "page_size": query.page_size,
        "items": [selectors.finding_json(f) for f in rows],
    }


@router.post("/runs/", response={201: RunOut, **ERRORS}, summary="运行检查")
def run_create(request: HttpRequest, payload: RunIn) -> Any:
    """Evaluate every rule over an org's subtree now and store the run (managers of the org only)."""
    scope = request_scope_of(request)
    org = org_for_field(scope, payload.org, "org")
    if not scope.can_manage_org(org):
        raise NotPermitted("您无权对此党组织运行检查")
    run = services.evaluation_run(
        actor=request.user,
        scope=scope,
        org=org,
        year=payload.year or timezone.localdate().year,
        trigger=Trigger.MANUAL,
    )
    return HttpStatus(201, selectors.run_json(run))
