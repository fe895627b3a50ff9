"""API routes for people: list (filtered, paginated), detail, create, update, status change.

ID numbers and phones are always masked here: the full ID number is revealed only on the person's page,
where each reveal is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import P, PathEx, Query, Router, Schema
from ninja.responses import Status as HttpStatus
from pydantic import Field

from zhibu.api import (
    ERRORS,
    MAX_INT,
    InputSchema,
    IsoDate,
    PageQuery,
    label_of,
    paginate,
    plain,
    request_scope_of,
)
from zhibu.core.crypto import mask_id_number, mask_phone
from zhibu.core.errors import NotPermitted, ServiceError
from zhibu.core.scoping import Scope
from zhibu.orgs.api import CODE_MAX, OrgRef, org_for_field
from zhibu.orgs.models import Organization, OrgKind
from zhibu.people import selectors, services
from zhibu.people.models import Education, Employment, Gender, Person, Status, StatusChange

router = Router(tags=["人员"])


# Schemas ----------------------------------------------------------------------------------------------
class GroupRef(Schema):
    id: int
    code: str
    name: str


class PersonOut(Schema):
    id: int
    name: str
    gender: str
    gender_label: str
    birth_date: dt.date | None
    ethnicity: str
    education: str
    education_label: str
    id_number: str = Field(description="脱敏：前6位和后4位")
    phone: str = Field(description="脱敏：前3位和后4位")
    position: str
    employment: str
    employment_label: str
    status: Status
    status_label: str
    org: OrgRef = Field(description="所在支部")
    school: OrgRef | None = Field(description="支部的上级组织")
    group: GroupRef | None = Field(description="所在党小组")
    backbone_teacher: bool
    relationship_transferred_in: bool
    in_need: bool
    volunteer: bool
    applied_on: dt.date | None
    activist_on: dt.date | None
    candidate_on: dt.date | None
    joined_on: dt.date | None
    confirmed_on: dt.date | None


class PersonDetailOut(PersonOut):
    in_need_note: str
    volunteer_skills: str
    note: str


class PersonPage(Schema):
    count: int = Field(description="符合条件的总数")
    page: int
    page_size: int
    items: list[PersonOut]


class StatusChangeOut(Schema):
    id: int
    from_status: str
    from_status_label: str
    to_status: Status
    to_status_label: str
    effective_on: dt.date
    reason: str


class StatusChangeResult(Schema):
    change: StatusChangeOut
    person: PersonDetailOut


class PersonListQuery(PageQuery):
    org: str | None = Field(None, max_length=CODE_MAX, description="组织代码：其下全部人员")
    status: list[Status] = Field([], description="身份，可重复")
    group: str | None = Field(None, max_length=CODE_MAX, description="党小组代码（或其 id）")
    flag: list[str] = Field([], description=f"标记，可重复：{'、'.join(selectors.FLAGS)}")
    q: str = Field("", max_length=50, description="姓名、全拼或首字母")


class _PersonFields(InputSchema):
    """The registry fields, as in people.services.EDITABLE_FIELDS; org and group are codes."""

    name: str = Field("", max_length=50)
    gender: Gender | None = None
    ethnicity: str = Field("", max_length=20)
    birth_date: IsoDate | None = None
    education: Education | None = None
    id_number: str = Field("", max_length=30, description="18位身份证号（输出时脱敏）")
    phone: str = Field("", max_length=30)
    position: str = Field("", max_length=100)
    backbone_teacher: bool = False
    employment: Employment | None = None
    org: str = Field("", max_length=CODE_MAX, description="所在支部的组织代码")
    group: str | None = Field(None, max_length=CODE_MAX, description="所在党小组的组织代码")
    relationship_transferred_in: bool = True
    in_need: bool = False
    in_need_note: str = Field("", max_length=300)
    volunteer: bool = False
    volunteer_skills: str = Field("", max_length=200)
    applied_on: IsoDate | None = None
    activist_on: IsoDate | None = None
    candidate_on: IsoDate | None = None
    joined_on: IsoDate | None = None
    confirmed_on: IsoDate | None = None
    note: str = Field("", max_length=5000)


class PersonCreateIn(_PersonFields):
    status: Status = Field(description="建档时的身份")
    reason: str = Field("建立档案", min_length=1, max_length=300, description="建档依据")


class PersonUpdateIn(_PersonFields):
    """Only the fields sent are changed; the status changes through /people/{id}/status/."""


class StatusChangeIn(InputSchema):
    to_status: Status
    effective_on: IsoDate
    reason: str = Field(max_length=300, description="原因或依据（如会议决议、批复文号）")


# Output -----------------------------------------------------------------------------------------------
def _org_ref(org: Organization | None) -> dict[str, Any] | None:
    return {"code": org.code, "name": org.name} if org is not None else None


def person_out(p: Person) -> dict[str, Any]:
    """A person as the API shows them: ID number and phone masked, codes with their Chinese labels."""
    return {
        "id": p.pk,
        "name": p.name,
        "gender": p.gender,
        "gender_label": label_of(Gender, p.gender),
        "birth_date": p.birth_date,
        "ethnicity": p.ethnicity,
        "education": p.education,
        "education_label": label_of(Education, p.education),
        "id_number": mask_id_number(p.id_number),
        "phone": mask_phone(p.phone),
        "position": p.position,
        "employment": p.employment,
        "employment_label": label_of(Employment, p.employment),
        "status": p.status,
        "status_label": label_of(Status, p.status),
        "org": _org_ref(p.org),
        "school": _org_ref(p.org.parent) if p.org.parent_id else None,
        "group": {"id": p.group.pk, "code": p.group.code, "name": p.group.name}
        if p.group_id and p.group
        else None,
        "backbone_teacher": p.backbone_teacher,
        "relationship_transferred_in": p.relationship_transferred_in,
        "in_need": p.in_need,
        "volunteer": p.volunteer,
        "applied_on": p.applied_on,
        "activist_on": p.activist_on,
        "candidate_on": p.candidate_on,
        "joined_on": p.joined_on,
        "confirmed_on": p.confirmed_on,
    }


def person_detail_out(p: Person) -> dict[str, Any]:
    return {
        **person_out(p),
        "in_need_note": p.in_need_note,
        "volunteer_skills": p.volunteer_skills,
        "note": p.note,
    }


def _change_out(c: StatusChange) -> dict[str, Any]:
    return {
        "id": c.pk,
        "from_status": c.from_status,
        "from_status_label": label_of(Status, c.from_status),
        "to_status": c.to_status,
        "to_status_label": label_of(Status, c.to_status),
        "effective_on": c.effective_on,
        "reason": c.reason,
    }


# Input ------------------------------------------------------------------------------------------------
def _group_filter(scope: Scope, value: str) -> Organization:
    by_code = scope.orgs(Organization.objects.filter(kind=OrgKind.GROUP, code=value)).first()
    if by_code is None and value.isdigit() and len(value) < 19:
        by_code = scope.orgs(Organization.objects.filter(kind=OrgKind.GROUP, pk=int(value))).first()
    if by_code is None:
        raise ServiceError(f"党小组“{value}”不存在或不在您的权限范围内", field="group")
    return by_code


def _filters(scope: Scope, query: PersonListQuery) -> selectors.PersonFilters:
    unknown = [f for f in query.flag if f not in selectors.FLAGS]
    if unknown:
        raise ServiceError(
            f"未知标记：{'、'.join(unknown)}（可选：{'、'.join(selectors.FLAGS)}）", field="flag"
        )
    return selectors.PersonFilters(
        org=org_for_field(scope, query.org, "org") if query.org else None,
        statuses=[s.value for s in query.status],
        group=_group_filter(scope, query.group) if query.group else None,
        flags=list(query.flag),
        q=query.q.strip(),
    )


def _person_data(scope: Scope, payload: _PersonFields, *, exclude: set[str]) -> dict[str, Any]:
    """The body as the service takes it: only the fields sent, org and group as Organizations."""
    data = plain(payload.model_dump(exclude_unset=True, exclude=exclude))
    for field in ("gender", "education", "employment"):
        if field in data and data[field] is None:
            data[field] = ""
    if "org" in data:
        data["org"] = org_for_field(scope, data["org"], "org") if data["org"] else None
    if "group" in data:
        data["group"] = org_for_field(scope, data["group"], "group") if data["group"] else None
    return data


def _get(scope: Scope, person_id: int) -> Person:
    return selectors.person_get_visible(scope, person_id)


PersonId = PathEx[int, P(ge=1, le=MAX_INT, description="人员 id")]


# Routes -----------------------------------------------------------------------------------------------
@router.get("/", response={200: PersonPage, **ERRORS}, summary="人员列表")
def person_list(request: HttpRequest, query: Query[PersonListQuery]) -> Any:
    """People visible to the user, filtered and paginated (a member sees only themselves)."""
    scope = request_scope_of(request)
    qs = selectors.person_list_visible_to(scope, _filters(scope, query))
    total, rows = paginate(qs, query.page, query.page_size)
    return {
        "count": total,
        "page": query.page,
        "page_size": query.page_size,
        "items": [person_out(p) for p in rows],
    }


@router.get("/{person_id}/", response={200: PersonDetailOut, **ERRORS}, summary="人员详情")
def person_retrieve(request: HttpRequest, person_id: PersonId) -> Any:
    """One person the user may see."""
    return person_detail_out(_get(request_scope_of(request), person_id))


@router.post("/", response={201: PersonDetailOut, **ERRORS}, summary="新建人员")
def person_create(request: HttpRequest, payload: PersonCreateIn) -> Any:
    """Register a person in a branch the user manages, in an initial status."""
    scope = request_scope_of(request)
    if not scope.manages_anything:
        raise NotPermitted("您无权新建人员")
    data = _person_data(scope, payload, exclude={"status", "reason"})
    org = data.get("org")
    if isinstance(org, Organization) and not scope.can_manage_org(org):
        raise NotPermitted(f"您无权管理“{org.name}”的人员")
    person = services.person_create(
        actor=request.user,
        scope=scope,
        data=data,
        status=payload.status.value,
        reason=payload.reason.strip() or "建立档案",
    )
    return HttpStatus(201, person_detail_out(_get(scope, person.pk)))


@router.patch("/{person_id}/", response={200: PersonDetailOut, **ERRORS}, summary="修改人员信息")
def person_update(request: HttpRequest, payload: PersonUpdateIn, person_id: PersonId) -> Any:
    """Change registry fields; only the fields sent are changed."""
    scope = request_scope_of(request)
    person = _get(scope, person_id)
    if not scope.can_manage_person(person):
        raise NotPermitted("您无权修改此人员的信息")
    data = _person_data(scope, payload, exclude=set())
    services.person_update(actor=request.user, scope=scope, person=person, data=data)
    return person_detail_out(_get(scope, person_id))


@router.post("/{person_id}/status/", response={201: StatusChangeResult, **ERRORS}, summary="变更人员身份")
def person_change_status(request: HttpRequest, payload: StatusChangeIn, person_id: PersonId) -> Any:
    """Move a person to a new status, if the transition table allows it, with a dated reason."""
    scope = request_scope_of(request)
    person = _get(scope, person_id)
    change = services.person_change_status(
        actor=request.user,
        scope=scope,
        person=person,
        to_status=payload.to_status.value,
        effective_on=payload.effective_on,
        reason=payload.reason,
    )
    return HttpStatus(
        201, {"change": _change_out(change), "person": person_detail_out(_get(scope, person_id))}
    )
