"""API routes for the development pipeline (发展党员): cases, their steps, votes and yearly plans.

The routes parse input, call one service of development/services.py and format its result; every rule
(order, intervals, sponsors, the vote) is checked there and refused with its Chinese reason. A case is
scoped through its person (development/selectors.py): managers of the person's branch (or above) may
write, those who view the branch may read, and the person may read their own case — its steps, dates and
results, not the contents of the records (reviews, notes, documents) nor the names of the voters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import File, Form, P, Path, PathEx, Query, Router, Schema
from ninja.files import UploadedFile as NinjaUploadedFile
from ninja.responses import Status as HttpStatus
from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from zhibu.api import (
    ERRORS,
    MAX_INT,
    Count,
    InputSchema,
    IsoDate,
    PageQuery,
    QuerySchema,
    label_of,
    paginate,
    request_scope_of,
)
from zhibu.compliance.packs import effective_policy, library
from zhibu.core.audit import audit_record
from zhibu.core.downloads import stored_file_response
from zhibu.core.errors import NotFound, ServiceError
from zhibu.core.scoping import Scope
from zhibu.development import selectors, services
from zhibu.development import timeline as tl
from zhibu.development.models import (
    BranchVote,
    CaseRole,
    CaseRoleKind,
    CaseState,
    DevelopmentCase,
    DevelopmentPlan,
    DevelopmentStep,
    Stage,
    StepDocument,
    VotePurpose,
)
from zhibu.development.steps import Development, Interval, StepDef
from zhibu.orgs.api import CODE_MAX, OrgRef, org_for_field, org_get
from zhibu.orgs.models import Organization
from zhibu.people.selectors import person_get_visible

router = Router(tags=["发展党员"])

# The steps decided by the branch general assembly: they take a `vote`, no other step does.
VOTE_STEPS = {"reception_vote": VotePurpose.RECEPTION, "confirmation_vote": VotePurpose.CONFIRMATION}
# What `data` of a step holds (the keys development/services.py reads), for GET /development/steps/.
DATA_FIELDS: dict[str, dict[str, str]] = {
    "application_talk": {"talker": "谈话人姓名（必填）"},
    "activist_designation": {"method": "推荐方式（必填）：party 党员推荐、league 团组织推优、union 工会推荐"},
    "mentor_assignment": {"mentors": "培养联系人的人员 id 列表（正式党员，人数见制度）"},
    "activist_review": {"conclusion": "考察意见（必填）"},
    "sponsor_assignment": {"sponsors": "入党介绍人的人员 id 列表（正式党员，人数见制度）"},
    "political_review": {
        "conclusion": "审查结论（必填）：passed 合格、failed 不合格",
        "summary": "审查情况",
    },
    "training": {
        "started_on": "培训开始日期 YYYY-MM-DD（必填；done_on 为结束日期）",
        "days": "培训天数",
        "hours": "培训学时",
        "provider": "培训单位",
    },
    "publicity": {
        "starts_on": "公示开始日期 YYYY-MM-DD（必填；done_on 为公示结束日，须是工作日）",
        "objections": "公示期间是否有异议：true 或 false",
    },
    "pre_review": {"leaving_soon": "是否将在短期内离开本单位（是则不能接收）：true 或 false"},
    "upper_talk": {"talker": "谈话人姓名（必填）"},
    "approval": {"late_reason": "超过审批期限时的原因（超期时必填）"},
    "branch_assignment": {"group_id": "编入的党小组 id（本支部的党小组，可为 null）"},
    "probation_review": {"conclusion": "考察意见（必填）"},
    "confirmation_vote": {
        "decision": "表决事项（必填）：confirm 按期转正、extend 延长预备期、cancel 取消预备党员资格",
        "extension_months": "延长预备期的月数（decision 为 extend 时必填）",
    },
}
_JSON_DEPTH = 4
_JSON_ITEMS = 200


# Schemas ----------------------------------------------------------------------------------------------
class PersonRef(Schema):
    id: int
    name: str


class WindowOut(Schema):
    earliest: dt.date | None = Field(description="不得早于此日记录")
    earliest_reason: str
    latest: dt.date | None = Field(description="应在此日前完成（超期仍可记录，检查结果会指出）")
    latest_reason: str
    hard_latest: dt.date | None = Field(description="最长期限：超过则拒绝记录")


class NextStepOut(Schema):
    code: str
    number: int
    title: str
    earliest: dt.date | None = Field(description="不得早于此日")
    latest: dt.date | None = Field(description="应在此日前（重复进行的步骤：下一次应在此日前）")


class CaseOut(Schema):
    id: int
    person: PersonRef
    org: OrgRef = Field(description="人员所在支部")
    state: CaseState
    state_label: str
    stage: Stage
    stage_label: str
    league_member: bool
    opened_on: dt.date = Field(description="递交入党申请书日期")
    probation_ends_on: dt.date | None
    closed_on: dt.date | None
    close_reason: str
    next_step: NextStepOut | None = Field(description="下一步（流程已结束时为 null）")


class CasePage(Schema):
    count: int = Field(description="符合条件的总数")
    page: int
    page_size: int
    items: list[CaseOut]


class DocumentOut(Schema):
    id: int
    kind: str
    title: str
    size: int


class RecordOut(Schema):
    id: int
    code: str
    done_on: dt.date
    outcome: str
    details: dict[str, Any] | None = Field(description="内容（本人查看自己的流程时为 null，下同）")
    note: str | None
    recorded_by: str | None = Field(description="记录人姓名（系统导入时为空）")
    documents: list[DocumentOut] | None = Field(description="随此步骤保存的材料（不含已撤回的）")


class StepRowOut(Schema):
    code: str
    number: int
    title: str
    stage: str
    repeatable: bool
    optional: bool
    done: bool
    available: bool = Field(description="前置步骤均已完成")
    missing: list[str] = Field(description="尚未完成的前置步骤代码")
    records: list[RecordOut]
    window: WindowOut
    next_due: dt.date | None = Field(description="重复进行的步骤：下一次应在此日前")


class RoleOut(Schema):
    id: int = Field(description="人员 id")
    name: str
    assigned_on: dt.date
    ended_on: dt.date | None = Field(description="已更换的为更换日期，现任为 null")


class VoterOut(Schema):
    id: int
    name: str


class ExcludedVoterOut(Schema):
    id: int
    name: str
    reason: str


class VoteOut(Schema):
    step_id: int
    purpose: VotePurpose
    purpose_label: str
    held_on: dt.date
    entitled_count: int
    present: int
    in_favour: int
    against: int
    abstain: int
    written_opinions: int
    secret_ballot: bool
    passed: bool
    explanation: str
    entitled: list[VoterOut] | None = Field(description="应到会有表决权的党员名单（仅管理者可见）")
    excluded: list[ExcludedVoterOut] | None = Field(description="不计入应到会的党员及原因（仅管理者可见）")


class CaseDetailOut(CaseOut):
    steps: list[StepRowOut]
    mentors: list[RoleOut]
    sponsors: list[RoleOut]
    votes: list[VoteOut]


class StepResult(Schema):
    step: RecordOut
    vote: VoteOut | None
    case: CaseOut


class CaseListQuery(PageQuery):
    org: str | None = Field(None, max_length=CODE_MAX, description="组织代码：其下全部人员的流程")
    stage: list[Stage] = Field([], description="所处阶段，可重复")
    state: list[CaseState] = Field([], description="状态，可重复")
    person: int | None = Field(None, ge=1, le=MAX_INT, description="人员 id")


class CaseCreateIn(InputSchema):
    person_id: int = Field(ge=1, le=MAX_INT)
    applied_on: IsoDate = Field(description="递交入党申请书日期")
    league_member: bool = Field(False, description="是否共青团员")
    note: str = Field("", max_length=2000)


def _storable_json(value: Any, depth: int = 0) -> int:
    """Refuse nested JSON no database stores (NUL, lone surrogates) or that is too big; returns its size."""
    if depth > _JSON_DEPTH:
        raise PydanticCustomError("json_depth", f"嵌套不能超过 {_JSON_DEPTH} 层")
    if isinstance(value, str):
        if "\x00" in value:
            raise PydanticCustomError("null_character", "不能包含空字符（\\u0000）")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise PydanticCustomError("invalid_unicode", "包含无效的字符") from None
        return 1
    items: Iterable[Any] = ()
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = value
    size = 1 + sum(_storable_json(v, depth + 1) for v in items)
    if size > _JSON_ITEMS:
        raise PydanticCustomError("json_size", f"内容过多（最多 {_JSON_ITEMS} 项）")
    return size


class ExcludedIn(InputSchema):
    person_id: int = Field(ge=1, le=MAX_INT)
    reason: str = Field(max_length=200, description="不计入应到会的原因（如受留党察看处分、外出半年以上）")


class VoteIn(InputSchema):
    present: Count = Field(description="实到会有表决权的党员人数")
    in_favour: Count = Field(description="赞成票（含未到会党员的书面赞成意见）")
    against: Count = 0
    abstain: Count = 0
    written_opinions: Count = Field(0, description="未到会党员的书面意见份数")
    secret_ballot: bool = True
    excluded: list[ExcludedIn] = Field([], max_length=500, description="不计入应到会的党员")


class StepRecordIn(InputSchema):
    code: str = Field(max_length=40, description="步骤代码，见 GET /development/steps/")
    done_on: IsoDate = Field(description="步骤日期（培训为结束日期，公示为结束日）")
    data: dict[str, Any] = Field({}, description="此步骤的内容，见 GET /development/steps/ 的 data_fields")
    vote: VoteIn | None = Field(None, description="支部大会表决结果（仅 reception_vote、confirmation_vote）")
    note: str = Field("", max_length=2000)

    @field_validator("data", mode="before")
    @classmethod
    def _data_is_storable(cls, value: Any) -> Any:
        _storable_json(value)
        return value


class StepCorrectIn(InputSchema):
    reason: str = Field(min_length=1, max_length=300, description="更正原因")
    done_on: IsoDate | None = None
    data: dict[str, Any] | None = Field(None, description="更正后的全部内容（不改内容时不传）")
    note: str | None = Field(None, max_length=2000)

    @field_validator("data", mode="before")
    @classmethod
    def _data_is_storable(cls, value: Any) -> Any:
        _storable_json(value)
        return value


class DiscontinueIn(InputSchema):
    on: IsoDate = Field(description="终止培养日期")
    reason: str = Field(min_length=1, max_length=300)


class PlanFields(InputSchema):
    receive_target: Count = Field(0, description="计划发展（接收预备党员）人数")
    confirm_target: Count = Field(0, description="计划转正人数")
    backbone_teachers_total: Count | None = Field(None, description="本单位骨干教师总数")
    backbone_among_members_target: Decimal | None = Field(
        None, ge=0, le=100, max_digits=4, decimal_places=1, description="骨干教师占党员比例目标（%）"
    )
    members_among_backbone_target: Decimal | None = Field(
        None, ge=0, le=100, max_digits=4, decimal_places=1, description="党员占骨干教师比例目标（%）"
    )
    note: str = Field("", max_length=5000)


class PlanOut(Schema):
    org: OrgRef
    year: int
    saved: bool = Field(description="是否已制定（未制定时各项为默认值）")
    receive_target: int
    confirm_target: int
    backbone_teachers_total: int | None
    backbone_among_members_target: float | None
    members_among_backbone_target: float | None
    note: str
    updated_at: dt.datetime | None


class StepsQuery(QuerySchema):
    org: str | None = Field(None, max_length=CODE_MAX, description="组织代码（不传时为全国基本制度）")


class StageOut(Schema):
    code: str
    label: str


class NotBeforeOut(Schema):
    after: str = Field(description="起算的步骤代码（或 probation_end：预备期满）")
    after_label: str
    duration: str


class DueOut(Schema):
    after: str
    after_label: str
    within: str
    max: str | None = Field(description="特殊情况的最长期限")


class DocumentDefOut(Schema):
    code: str
    title: str
    required: bool


class StepDefOut(Schema):
    code: str
    number: int
    stage: str
    stage_label: str
    title: str
    who: str
    source: str
    requires: list[str]
    not_before: list[NotBeforeOut]
    due: DueOut | None
    every: str | None = Field(description="重复进行的步骤的频次")
    optional: bool
    documents: list[DocumentDefOut]
    data_fields: dict[str, str] = Field(description="请求体 data 中可填的键及说明")
    vote: bool = Field(description="是否须提交支部大会表决结果 vote")


class StepsOut(Schema):
    org: OrgRef | None
    pack: str = Field(description="所依据的制度包")
    stages: list[StageOut]
    steps: list[StepDefOut]


# Reading ----------------------------------------------------------------------------------------------
def _cases_visible_to(scope: Scope) -> QuerySet[DevelopmentCase]:
    """Cases of the people in the user's subtrees, and the user's own case."""
    qs = DevelopmentCase.objects.all()
    visible = scope.by_org_path(qs, "person__org__path")
    if scope.person_id:
        visible = visible | qs.filter(person_id=scope.person_id)
    return visible


def _next_step(case: DevelopmentCase, timeline: tl.Timeline | None) -> dict[str, Any] | None:
    if timeline is None:
        return None
    row: tl.Row | None = None
    if case.state == CaseState.OPEN:
        # A repeated review that a later step requires is marked optional in the pack, so the timeline
        # names no next step while an activist waits for the first review: then it is that review.
        row = timeline.next or next((r for r in timeline.rows if r.available and not r.done), None)
    elif case.state == CaseState.COMPLETED:  # only the archiving is left after the confirmation
        row = next((r for r in timeline.next_steps if r.step.code == "archiving"), None)
    if row is None:
        return None
    return {
        "code": row.step.code,
        "number": row.step.number,
        "title": row.step.title,
        "earliest": row.window.earliest,
        "latest": row.window.latest or row.next_due,
    }


def case_out(case: DevelopmentCase, timeline: tl.Timeline | None) -> dict[str, Any]:
    """A case as the API lists it, with the next step its timeline gives."""
    org = case.person.org
    return {
        "id": case.pk,
        "person": {"id": case.person.pk, "name": case.person.name},
        "org": {"code": org.code, "name": org.name},
        "state": case.state,
        "state_label": label_of(CaseState, case.state),
        "stage": case.stage,
        "stage_label": label_of(Stage, case.stage),
        "league_member": case.league_member,
        "opened_on": case.opened_on,
        "probation_ends_on": case.probation_ends_on,
        "closed_on": case.closed_on,
        "close_reason": case.close_reason,
        "next_step": _next_step(case, timeline),
    }


def cases_out(cases: Sequence[DevelopmentCase]) -> list[dict[str, Any]]:
    """Cases whose `steps` are prefetched, with their next steps: one policy read, one calendar."""
    timelines = selectors.timelines_for(cases, timezone.localdate())
    return [case_out(case, timelines[case.pk]) for case in cases]


def _window_out(w: tl.Window) -> dict[str, Any]:
    return {
        "earliest": w.earliest,
        "earliest_reason": w.earliest_reason,
        "latest": w.latest,
        "latest_reason": w.latest_reason,
        "hard_latest": w.hard_latest,
    }


def _record_out(r: DevelopmentStep, *, contents: bool) -> dict[str, Any]:
    """A recorded step; without `contents` (the subject reading their own case) its date and outcome only."""
    out: dict[str, Any] = {"id": r.pk, "code": r.code, "done_on": r.done_on, "outcome": r.outcome}
    if not contents:
        return {**out, "details": None, "note": None, "recorded_by": None, "documents": None}
    return {
        **out,
        "details": r.details or {},
        "note": r.note,
        "recorded_by": r.recorded_by.display_name if r.recorded_by else "",
        "documents": [
            {"id": d.pk, "kind": d.kind, "title": d.title, "size": d.size} for d in r.documents.all()
        ],
    }


def _vote_out(v: BranchVote, *, manager: bool) -> dict[str, Any]:
    return {
        "step_id": v.step_id,
        "purpose": v.purpose,
        "purpose_label": label_of(VotePurpose, v.purpose),
        "held_on": v.held_on,
        "entitled_count": v.entitled_count,
        "present": v.present,
        "in_favour": v.in_favour,
        "against": v.against,
        "abstain": v.abstain,
        "written_opinions": v.written_opinions,
        "secret_ballot": v.secret_ballot,
        "passed": v.passed,
        "explanation": v.explanation,
        "entitled": list(v.entitled) if manager else None,
        "excluded": list(v.excluded) if manager else None,
    }


def _records_of(case: DevelopmentCase) -> list[DevelopmentStep]:
    current = StepDocument.objects.filter(withdrawn_at__isnull=True)
    return list(
        case.steps.select_related("recorded_by__person").prefetch_related(
            Prefetch("documents", queryset=current)
        )
    )


def case_detail_out(scope: Scope, case: DevelopmentCase) -> dict[str, Any]:
    """A case with every step of its org's pipeline in order, its mentors, sponsors and votes."""
    records = _records_of(case)
    timeline = services.case_timeline(case, records=records)
    roles = list(CaseRole.objects.filter(case=case).select_related("person"))
    votes = BranchVote.objects.filter(step__case=case).order_by("held_on", "pk")
    manager = scope.can_manage_person(case.person)
    contents = selectors.sees_pipeline(scope, case.person)

    def people(kind: str) -> list[dict[str, Any]]:
        return [
            {"id": r.person.pk, "name": r.person.name, "assigned_on": r.assigned_on, "ended_on": r.ended_on}
            for r in roles
            if r.role == kind
        ]

    return {
        **case_out(case, timeline),
        "steps": [
            {
                "code": row.step.code,
                "number": row.step.number,
                "title": row.step.title,
                "stage": row.step.stage,
                "repeatable": row.step.repeatable,
                "optional": row.step.optional,
                "done": row.done,
                "available": row.available,
                "missing": [s.code for s in row.missing],
                "records": [_record_out(r, contents=contents) for r in row.records],
                "window": _window_out(row.window),
                "next_due": row.next_due,
            }
            for row in timeline.rows
        ],
        "mentors": people(CaseRoleKind.MENTOR),
        "sponsors": people(CaseRoleKind.SPONSOR),
        "votes": [_vote_out(v, manager=manager) for v in votes],
    }


def _case_summary(case: DevelopmentCase) -> dict[str, Any]:
    case = DevelopmentCase.objects.select_related("person__org").get(pk=case.pk)
    return case_out(case, services.case_timeline(case))


def _step_result(scope: Scope, record: DevelopmentStep) -> dict[str, Any]:
    record = (
        DevelopmentStep.objects.select_related("recorded_by__person", "case")
        .prefetch_related(
            Prefetch("documents", queryset=StepDocument.objects.filter(withdrawn_at__isnull=True))
        )
        .get(pk=record.pk)
    )
    vote = BranchVote.objects.filter(step=record).first()
    return {
        "step": _record_out(record, contents=True),
        "vote": _vote_out(vote, manager=True) if vote else None,
        "case": _case_summary(record.case),
    }


def _plan_out(org: Organization, year: int, plan: DevelopmentPlan | None) -> dict[str, Any]:
    def pct(value: Decimal | None) -> float | None:
        return float(value) if value is not None else None

    plan_ = plan or DevelopmentPlan(org=org, year=year)
    return {
        "org": {"code": org.code, "name": org.name},
        "year": year,
        "saved": plan is not None,
        "receive_target": plan_.receive_target,
        "confirm_target": plan_.confirm_target,
        "backbone_teachers_total": plan_.backbone_teachers_total,
        "backbone_among_members_target": pct(plan_.backbone_among_members_target),
        "members_among_backbone_target": pct(plan_.members_among_backbone_target),
        "note": plan_.note,
        "updated_at": plan_.updated_at if plan else None,
    }


def _interval_label(dev: Development, i: Interval) -> str:
    return dev.event_label(i.after)


def _step_def_out(dev: Development, s: StepDef) -> dict[str, Any]:
    return {
        "code": s.code,
        "number": s.number,
        "stage": s.stage,
        "stage_label": dev.stage_label(s.stage),
        "title": s.title,
        "who": s.who,
        "source": s.source,
        "requires": list(s.requires),
        "not_before": [
            {"after": i.after, "after_label": _interval_label(dev, i), "duration": str(i.duration)}
            for i in s.not_before
        ],
        "due": {
            "after": s.due.after,
            "after_label": _interval_label(dev, s.due),
            "within": str(s.due.duration),
            "max": str(s.due.max) if s.due.max is not None else None,
        }
        if s.due
        else None,
        "every": str(s.every) if s.every is not None else None,
        "optional": s.optional,
        "documents": [{"code": d.code, "title": d.title, "required": d.required} for d in s.documents],
        "data_fields": DATA_FIELDS.get(s.code, {}),
        "vote": s.code in VOTE_STEPS,
    }


CaseId = PathEx[int, P(ge=1, le=MAX_INT, description="发展党员流程 id")]
StepId = PathEx[int, P(ge=1, le=MAX_INT, description="步骤记录 id")]
DocumentId = PathEx[int, P(ge=1, le=MAX_INT, description="材料 id")]
Year = PathEx[int, P(ge=1, le=9999, description="年度")]


# Routes -----------------------------------------------------------------------------------------------
@router.get("/cases/", response={200: CasePage, **ERRORS}, summary="发展党员流程列表")
def case_list(request: HttpRequest, query: Query[CaseListQuery]) -> Any:
    """Cases of the people the user may see (a member or activist: their own), with each next step."""
    scope = request_scope_of(request)
    qs = _cases_visible_to(scope)
    if query.org:
        org = org_for_field(scope, query.org, "org")
        qs = qs.filter(person__org__path__startswith=org.path)
    if query.stage:
        qs = qs.filter(stage__in=[s.value for s in query.stage])
    if query.state:
        qs = qs.filter(state__in=[s.value for s in query.state])
    if query.person:
        qs = qs.filter(person_id=query.person)
    qs = qs.select_related("person__org").prefetch_related("steps").order_by("opened_on", "pk")
    total, rows = paginate(qs, query.page, query.page_size)
    return {"count": total, "page": query.page, "page_size": query.page_size, "items": cases_out(rows)}


@router.get("/cases/{case_id}/", response={200: CaseDetailOut, **ERRORS}, summary="发展党员流程详情")
def case_retrieve(request: HttpRequest, case_id: CaseId) -> Any:
    """One case with its steps in order, each with its records and its date window."""
    scope = request_scope_of(request)
    return case_detail_out(scope, selectors.case_get_visible(scope, case_id))


@router.post("/cases/", response={201: CaseDetailOut, **ERRORS}, summary="递交入党申请书（新建流程）")
def case_create(request: HttpRequest, payload: CaseCreateIn) -> Any:
    """Step 1: record the written application, which opens the person's case."""
    scope = request_scope_of(request)
    try:
        person = person_get_visible(scope, payload.person_id)
    except NotFound:
        raise ServiceError("人员不存在或不在您的权限范围内", field="person_id") from None
    case = services.case_open(
        actor=request.user,
        scope=scope,
        person=person,
        applied_on=payload.applied_on,
        league_member=payload.league_member,
        note=payload.note,
    )
    return HttpStatus(201, case_detail_out(scope, selectors.case_get_visible(scope, case.pk)))


@router.post("/cases/{case_id}/steps/", response={201: StepResult, **ERRORS}, summary="记录步骤")
def step_create(request: HttpRequest, payload: StepRecordIn, case_id: CaseId) -> Any:
    """Record one step after every rule of the org's policy is checked; a refusal writes nothing."""
    scope = request_scope_of(request)
    case = selectors.case_get_visible(scope, case_id)
    vote = None
    if payload.vote is not None:
        if payload.code not in VOTE_STEPS:
            raise ServiceError(
                "只有支部大会表决的步骤（接收预备党员、预备党员转正）填写表决结果", field="vote"
            )
        excluded: dict[int, str] = {}
        for item in payload.vote.excluded:
            if item.person_id in excluded:
                raise ServiceError("不计入应到会的党员有重复", field="vote.excluded")
            excluded[item.person_id] = item.reason
        vote = services.VoteInput(
            present=payload.vote.present,
            in_favour=payload.vote.in_favour,
            against=payload.vote.against,
            abstain=payload.vote.abstain,
            written_opinions=payload.vote.written_opinions,
            secret_ballot=payload.vote.secret_ballot,
            excluded=excluded,
        )
    record = services.step_record(
        actor=request.user,
        scope=scope,
        case=case,
        code=payload.code.strip(),
        done_on=payload.done_on,
        data=payload.data,
        vote=vote,
        note=payload.note,
    )
    return HttpStatus(201, _step_result(scope, record))


@router.patch("/steps/{step_id}/", response={200: StepResult, **ERRORS}, summary="更正步骤记录")
def step_update(request: HttpRequest, payload: StepCorrectIn, step_id: StepId) -> Any:
    """Correct a recorded step's date, content or note, with the reason (audited)."""
    scope = request_scope_of(request)
    record = services.step_correct(
        actor=request.user,
        scope=scope,
        record=selectors.step_record_get(scope, step_id),
        reason=payload.reason,
        done_on=payload.done_on,
        data=payload.data,
        note=payload.note,
    )
    return _step_result(scope, record)


@router.post("/cases/{case_id}/discontinue/", response={200: CaseOut, **ERRORS}, summary="终止培养")
def case_discontinue(request: HttpRequest, payload: DiscontinueIn, case_id: CaseId) -> Any:
    """Stop the cultivation of an applicant, activist or candidate, with the reason."""
    scope = request_scope_of(request)
    case = services.case_discontinue(
        actor=request.user,
        scope=scope,
        case=selectors.case_get_visible(scope, case_id),
        on=payload.on,
        reason=payload.reason,
    )
    return _case_summary(case)


@router.get("/plans/{code}/{year}/", response={200: PlanOut, **ERRORS}, summary="年度发展计划")
def plan_retrieve(request: HttpRequest, code: Path[str], year: Year) -> Any:
    """An org's development plan for a year (defaults when none is set yet)."""
    org = org_get(request_scope_of(request), code)
    return _plan_out(org, year, DevelopmentPlan.objects.filter(org=org, year=year).first())


@router.put("/plans/{code}/{year}/", response={200: PlanOut, **ERRORS}, summary="制定或修改年度发展计划")
def plan_update(request: HttpRequest, payload: PlanFields, code: Path[str], year: Year) -> Any:
    """Set the whole plan of an org for a year (fields not sent take their defaults)."""
    scope = request_scope_of(request)
    org = org_get(scope, code)
    plan = services.plan_set(actor=request.user, scope=scope, org=org, year=year, values=payload.model_dump())
    return _plan_out(org, year, plan)


@router.get("/steps/", response={200: StepsOut, **ERRORS}, summary="发展党员步骤定义")
def step_definitions(request: HttpRequest, query: Query[StepsQuery]) -> Any:
    """The steps of an org's effective policy (or the national pack): order, prerequisites, intervals,
    documents and what `data` each step takes."""
    scope = request_scope_of(request)
    org: Organization | None = None
    dev: Development | None
    if query.org:
        org = org_for_field(scope, query.org, "org")
        policy = effective_policy(org)
        dev = policy.pack.development.resolve(policy.values) if policy.pack.development else None
        pack = policy.pack_name
    else:
        national = library().national
        dev = national.development.resolve(national.values()) if national.development else None
        pack = national.name
    if dev is None:  # the pack loader refuses a pack without them; this only guards the type
        raise ServiceError("制度包没有定义发展党员的步骤")
    return {
        "org": {"code": org.code, "name": org.name} if org else None,
        "pack": pack,
        "stages": [{"code": c, "label": label} for c, label in dev.stages.items()],
        "steps": [_step_def_out(dev, s) for s in dev.steps],
    }


# Documents ---------------------------------------------------------------------------------------------


class StoredDocumentOut(Schema):
    id: int
    step_id: int
    kind: str
    title: str
    size: int
    content_type: str
    uploaded_at: dt.datetime
    withdrawn_at: dt.datetime | None
    withdrawn_reason: str


class WithdrawIn(InputSchema):
    reason: str = Field(max_length=300, description="撤回原因")


def _document_out(doc: StepDocument) -> dict[str, Any]:
    return {
        "id": doc.pk,
        "step_id": doc.step_id,
        "kind": doc.kind,
        "title": doc.title,
        "size": doc.size,
        "content_type": doc.content_type,
        "uploaded_at": doc.uploaded_at,
        "withdrawn_at": doc.withdrawn_at,
        "withdrawn_reason": doc.withdrawn_reason,
    }


@router.post(
    "/steps/{step_id}/documents/",
    response={201: StoredDocumentOut, **ERRORS},
    summary="上传步骤材料（multipart：kind 与 file）",
)
def document_upload(
    request: HttpRequest, step_id: StepId, kind: Form[str], file: File[NinjaUploadedFile]
) -> Any:
    """Keep a document with a recorded step: a PDF, JPEG, PNG or Word file of a category the step lists."""
    scope = request_scope_of(request)
    record = selectors.step_record_get(scope, step_id)
    doc = services.document_add(
        actor=request.user, scope=scope, record=record, upload=services.Upload(kind=kind.strip(), file=file)
    )
    return HttpStatus(201, _document_out(doc))


@router.get("/documents/{document_id}/", summary="下载材料（文件本身）", response={**ERRORS})
def document_download(request: HttpRequest, document_id: DocumentId) -> Any:
    """The stored file, for those who see the branch's pipeline; every download is audited."""
    scope = request_scope_of(request)
    doc = selectors.document_get_visible(scope, document_id)
    person = doc.step.case.person
    audit_record(
        actor=request.user,
        action="export",
        obj=doc,
        org_path=person.org.path,
        note=f"通过接口下载发展党员材料：{person.name} {doc.title}",
    )
    return stored_file_response(doc.file, title=doc.title, content_type=doc.content_type, inline=False)


@router.post(
    "/documents/{document_id}/withdraw/",
    response={200: StoredDocumentOut, **ERRORS},
    summary="撤回材料（文件保留）",
)
def document_withdraw(request: HttpRequest, payload: WithdrawIn, document_id: DocumentId) -> Any:
    """Mark a document uploaded by mistake as withdrawn, with the reason; the file is kept as evidence."""
    scope = request_scope_of(request)
    doc = selectors.document_get_visible(scope, document_id)
    doc = services.document_withdraw(actor=request.user, scope=scope, document=doc, reason=payload.reason)
    return _document_out(doc)
