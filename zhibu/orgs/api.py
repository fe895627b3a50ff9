"""API routes for the org tree: list, detail (posts and head-counts), create, update."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from zhibu.api import (
    ERRORS,
    Count,
    InputSchema,
    IsoDate,
    PageQuery,
    label_of,
    paginate,
    plain,
    request_scope_of,
)
from zhibu.core.errors import NotFound, ServiceError
from zhibu.core.scoping import Scope
from zhibu.orgs import selectors, services
from zhibu.orgs.models import Organization, OrgKind, Post, PostRole

router = Router(tags=["党组织"])

CODE_MAX = 32


# Schemas ----------------------------------------------------------------------------------------------
class OrgRef(Schema):
    code: str
    name: str


class OrgOut(Schema):
    code: str
    name: str
    short_name: str
    kind: OrgKind
    kind_label: str
    parent: OrgRef | None
    depth: int
    sort_order: int
    is_school: bool
    established_on: dt.date | None
    dissolved_on: dt.date | None


class OrgPage(Schema):
    count: int = Field(description="符合条件的总数")
    page: int
    page_size: int
    items: list[OrgOut]


class PersonRef(Schema):
    id: int
    name: str


class PostOut(Schema):
    role: PostRole
    role_label: str
    person: PersonRef
    started_on: dt.date
    ended_on: dt.date | None


class TermOut(Schema):
    number: int | None
    started_on: dt.date
    length_years: int
    ended_on: dt.date | None
    next_election_on: dt.date


class ChildOut(Schema):
    code: str
    name: str
    kind: OrgKind
    kind_label: str
    active_count: int = Field(description="在册人数（党员、预备党员、发展对象、积极分子、申请人、停止党籍）")


class StatusCount(Schema):
    status: str
    status_label: str
    count: int


class OrgDetailOut(OrgOut):
    note: str
    ancestors: list[OrgRef]
    children: list[ChildOut]
    posts: list[PostOut] = Field(description="现任职务")
    terms: list[TermOut]
    counts: list[StatusCount] = Field(description="下属全部人员按身份的人数")
    total_active: int


class OrgListQuery(PageQuery):
    kind: OrgKind | None = Field(None, description="组织类型")
    parent: str | None = Field(None, max_length=CODE_MAX, description="上级组织代码：只列其直接下级")
    include_dissolved: bool = Field(False, description="包括已撤销的组织")


class OrgCreateIn(InputSchema):
    parent: str | None = Field(None, max_length=CODE_MAX, description="上级组织代码（建立顶级组织时为空）")
    code: str = Field(max_length=CODE_MAX, description="组织代码：字母、数字、短横线，建立后不可修改")
    name: str = Field(max_length=100)
    kind: OrgKind
    short_name: str = Field("", max_length=40)
    sort_order: Count = 0
    established_on: IsoDate | None = None
    note: str = Field("", max_length=2000)
    is_school: bool = False


class OrgUpdateIn(InputSchema):
    """Only the fields sent are changed; code, kind and the place in the tree stay."""

    name: str = Field("", max_length=100)
    short_name: str = Field("", max_length=40)
    sort_order: Count = 0
    established_on: IsoDate | None = None
    note: str = Field("", max_length=2000)
    is_school: bool = False


# Output -----------------------------------------------------------------------------------------------
def _ref(org: Organization | None) -> dict[str, Any] | None:
    return {"code": org.code, "name": org.name} if org is not None else None


def org_out(org: Organization) -> dict[str, Any]:
    return {
        "code": org.code,
        "name": org.name,
        "short_name": org.short_name,
        "kind": org.kind,
        "kind_label": label_of(OrgKind, org.kind),
        "parent": _ref(org.parent) if org.parent_id else None,
        "depth": org.depth,
        "sort_order": org.sort_order,
        "is_school": org.is_school,
        "established_on": org.established_on,
        "dissolved_on": org.dissolved_on,
    }


def _post_out(post: Post) -> dict[str, Any]:
    return {
        "role": post.role,
        "role_label": label_of(PostRole, post.role),
        "person": {"id": post.person_id, "name": post.person.name},
        "started_on": post.started_on,
        "ended_on": post.ended_on,
    }


def org_detail_out(scope: Scope, org: Organization) -> dict[str, Any]:
    from zhibu.people.models import Status

    d = selectors.org_detail(scope, org)
    return {
        **org_out(org),
        "note": org.note,
        "ancestors": [_ref(a) for a in d.ancestors],
        "children": [
            {
                "code": c.code,
                "name": c.name,
                "kind": c.kind,
                "kind_label": label_of(OrgKind, c.kind),
                "active_count": d.child_counts.get(c.pk, 0),
            }
            for c in d.children
        ],
        "posts": [_post_out(p) for p in d.posts],
        "terms": [
            {
                "number": t.number,
                "started_on": t.started_on,
                "length_years": t.length_years,
                "ended_on": t.ended_on,
                "next_election_on": t.next_election_on,
            }
            for t in d.terms
        ],
        "counts": [
            {"status": s, "status_label": label_of(Status, s), "count": n} for s, n in d.counts.items() if n
        ],
        "total_active": d.total_active,
    }


def org_get(scope: Scope, code: str) -> Organization:
    """An org by the code in a path; a code no org could have is simply not found."""
    if len(code) > CODE_MAX or any(ord(c) < 32 for c in code):
        raise NotFound("党组织不存在或不在您的权限范围内")
    return selectors.org_get_visible(scope, code)


def org_for_field(scope: Scope, code: str, field: str) -> Organization:
    """An org named in a request body: an unknown one is a mistake in that field (400), not a 404."""
    try:
        return org_get(scope, code)
    except NotFound:
        raise ServiceError(f"党组织“{code}”不存在或不在您的权限范围内", field=field) from None


# Routes -----------------------------------------------------------------------------------------------
@router.get("/", response={200: OrgPage, **ERRORS}, summary="党组织列表")
def org_list(request: HttpRequest, query: Query[OrgListQuery]) -> Any:
    """Organisations visible to the user, in tree order; filter by kind or by parent (direct children)."""
    scope = request_scope_of(request)
    qs = selectors.org_list_visible_to(scope, include_dissolved=query.include_dissolved)
    if query.kind:
        qs = qs.filter(kind=query.kind)
    if query.parent:
        qs = qs.filter(parent=org_for_field(scope, query.parent, "parent"))
    total, rows = paginate(qs.select_related("parent"), query.page, query.page_size)
    return {
        "count": total,
        "page": query.page,
        "page_size": query.page_size,
        "items": [org_out(o) for o in rows],
    }


@router.get("/{code}/", response={200: OrgDetailOut, **ERRORS}, summary="党组织详情")
def org_retrieve(request: HttpRequest, code: Path[str]) -> Any:
    """One organisation with its ancestors, children, current posts, terms and head-counts by status."""
    scope = request_scope_of(request)
    return org_detail_out(scope, org_get(scope, code))


@router.post("/", response={201: OrgDetailOut, **ERRORS}, summary="新建党组织")
def org_create(request: HttpRequest, payload: OrgCreateIn) -> Any:
    """Add an organisation under a parent the user manages."""
    scope = request_scope_of(request)
    parent = org_for_field(scope, payload.parent, "parent") if payload.parent else None
    data = plain(payload.model_dump(exclude={"parent", "code", "name", "kind"}))
    org = services.org_create(
        actor=request.user,
        scope=scope,
        parent=parent,
        code=payload.code,
        name=payload.name,
        kind=str(payload.kind.value),
        **data,
    )
    return Status(201, org_detail_out(scope, org))


@router.patch("/{code}/", response={200: OrgDetailOut, **ERRORS}, summary="修改党组织")
def org_update(request: HttpRequest, code: Path[str], payload: OrgUpdateIn) -> Any:
    """Change an organisation's name and details; only the fields sent are changed."""
    scope = request_scope_of(request)
    org = org_get(scope, code)
    org = services.org_update(
        actor=request.user, scope=scope, org=org, data=plain(payload.model_dump(exclude_unset=True))
    )
    return org_detail_out(scope, org)
