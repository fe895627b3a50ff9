"""Every write to the org tree, posts and terms: validated, atomic, audited."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import transaction

from zhibu.core.audit import audit_record, diff, snapshot
from zhibu.core.errors import NotPermitted, ServiceError
from zhibu.core.scoping import Scope
from zhibu.orgs.models import ALLOWED_CHILDREN, CommitteeTerm, Organization, OrgKind, Post, PostRole

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")
EDITABLE_FIELDS = ("name", "short_name", "sort_order", "established_on", "note", "is_school")
# Which posts exist at which level.
ROLES_FOR_KIND: dict[str, tuple[str, ...]] = {
    OrgKind.GROUP: (PostRole.GROUP_LEADER,),
}
_ONE_HOLDER = (PostRole.SECRETARY, PostRole.GROUP_LEADER)


def _validate_fields(data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    name = str(data.get("name") or "").strip()
    if "name" in data and not name:
        errors.setdefault("name", []).append("名称不能为空")
    if len(name) > 100:
        errors.setdefault("name", []).append("名称不能超过100个字")
    if len(str(data.get("short_name") or "")) > 40:
        errors.setdefault("short_name", []).append("简称不能超过40个字")
    established = data.get("established_on")
    if established and established > dt.date.today():
        errors.setdefault("established_on", []).append("成立日期晚于今天")


def org_path_for(parent: Organization | None, code: str) -> str:
    return f"{parent.path if parent else '/'}{code}/"


@transaction.atomic
def org_create(
    *, actor: Any, scope: Scope, parent: Organization | None, code: str, name: str, kind: str, **data: Any
) -> Organization:
    """Add an organisation under a parent the actor manages (a root only for an administrator)."""
    errors: dict[str, list[str]] = {}
    code = (code or "").strip()
    if parent is None:
        if not scope.is_admin:
            raise NotPermitted("只有系统管理员可以建立顶级党组织")
    elif not scope.can_manage_org(parent):
        raise NotPermitted(f"您无权在“{parent.name}”下建立党组织")
    if not _CODE.match(code):
        errors.setdefault("code", []).append("组织代码只能由字母、数字和短横线组成（最多32位）")
    elif Organization.objects.filter(code=code).exists():
        errors.setdefault("code", []).append(f"组织代码 {code} 已被使用")
    if kind not in OrgKind.values:
        errors.setdefault("kind", []).append("组织类型无效")
    elif parent is not None and kind not in ALLOWED_CHILDREN[parent.kind]:
        allowed = "、".join(str(OrgKind(k).label) for k in ALLOWED_CHILDREN[parent.kind]) or "无"
        errors.setdefault("kind", []).append(
            f"{OrgKind(parent.kind).label}下不能设{OrgKind(kind).label}（可设：{allowed}）"
        )
    if parent is not None and parent.dissolved_on is not None:
        errors.setdefault("parent", []).append(f"上级组织“{parent.name}”已撤销")
    data = {k: v for k, v in data.items() if k in EDITABLE_FIELDS}
    data["name"] = name
    _validate_fields(data, errors)
    if errors:
        raise ServiceError(_summary(errors), errors=errors)
    path = org_path_for(parent, code)
    if len(path) > 255:
        raise ServiceError("组织层级过深", field="parent")
    org = Organization(
        parent=parent,
        code=code,
        kind=kind,
        path=path,
        depth=path.count("/") - 2,
        **{**data, "name": name.strip()},
    )
    org.save()
    audit_record(
        actor=actor,
        action="create",
        obj=org,
        org_path=org.path,
        changes={k: [None, v] for k, v in snapshot(org).items() if v not in (None, "", False)},
    )
    return org


@transaction.atomic
def org_update(*, actor: Any, scope: Scope, org: Organization, data: dict[str, Any]) -> Organization:
    """Edit an organisation's name and details; code, kind and place in the tree stay."""
    if not scope.can_manage_org(org):
        raise NotPermitted("您无权修改此党组织")
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ServiceError(f"这些字段不能修改：{'、'.join(sorted(unknown))}")
    errors: dict[str, list[str]] = {}
    _validate_fields(data, errors)
    if errors:
        raise ServiceError(_summary(errors), errors=errors)
    org = Organization.objects.select_for_update().get(pk=org.pk)
    before = snapshot(org)
    for key, value in data.items():
        setattr(org, key, value.strip() if isinstance(value, str) else value)
    changes = diff(before, snapshot(org))
    if changes:
        org.save()
        audit_record(actor=actor, action="update", obj=org, org_path=org.path, changes=changes)
    return org


@transaction.atomic
def post_assign(
    *,
    actor: Any,
    scope: Scope,
    org: Organization,
    person: Any,
    role: str,
    started_on: dt.date,
    term: CommitteeTerm | None = None,
    note: str = "",
) -> Post:
    """Give a person a post in an org; the person must belong to that org's part of the tree."""
    from zhibu.people.models import MEMBER_STATUSES, Status

    if not scope.can_manage_org(org):
        raise NotPermitted("您无权任免此党组织的职务")
    if role not in PostRole.values:
        raise ServiceError("职务无效", field="role")
    allowed = ROLES_FOR_KIND.get(org.kind, tuple(r for r in PostRole.values if r != PostRole.GROUP_LEADER))
    if role not in allowed:
        raise ServiceError(f"{OrgKind(org.kind).label}不设{PostRole(role).label}", field="role")
    # A group's members come from its branch; a committee's posts from anywhere in the school.
    home = org.parent if org.kind == OrgKind.GROUP and org.parent else org
    if not person.org.path.startswith(home.path):
        raise ServiceError(f"{person.name}不在“{home.name}”，不能担任其职务", field="person")
    if person.status not in MEMBER_STATUSES:
        raise ServiceError(
            f"{person.name}当前身份为“{Status(person.status).label}”，只有党员可以任职", field="person"
        )
    if role != PostRole.GROUP_LEADER and person.status != Status.FULL_MEMBER:
        raise ServiceError(f"{person.name}是预备党员，预备党员不能担任委员", field="person")
    if started_on > dt.date.today():
        raise ServiceError("任职日期晚于今天", field="started_on")
    if term is not None and term.org_id != org.pk:
        raise ServiceError("届次不属于此党组织", field="term")
    current = Post.objects.select_for_update().filter(org=org).current(started_on)
    if role in _ONE_HOLDER and current.filter(role=role).exists():
        holder = current.filter(role=role).select_related("person").first()
        raise ServiceError(
            f"“{org.name}”已有{PostRole(role).label}（{holder.person.name if holder else ''}），请先办理离任",
            field="role",
        )
    if current.filter(role=role, person=person).exists():
        raise ServiceError(f"{person.name}已担任此职务", field="person")
    post = Post.objects.create(
        org=org, person=person, role=role, started_on=started_on, term=term, note=note.strip()[:200]
    )
    audit_record(
        actor=actor,
        action="create",
        obj=post,
        org_path=org.path,
        changes={
            "person": [None, person.name],
            "role": [None, post.get_role_display()],
            "started_on": [None, str(started_on)],
        },
    )
    return post


@transaction.atomic
def post_end(*, actor: Any, scope: Scope, post: Post, ended_on: dt.date, note: str = "") -> Post:
    """End a post on a date (离任); the post stays in the record."""
    if not scope.can_manage_org(post.org):
        raise NotPermitted("您无权任免此党组织的职务")
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.ended_on is not None:
        raise ServiceError(f"此职务已于 {post.ended_on:%Y-%m-%d} 离任", field="ended_on")
    if ended_on < post.started_on:
        raise ServiceError(f"离任日期不能早于任职日期（{post.started_on:%Y-%m-%d}）", field="ended_on")
    if ended_on > dt.date.today():
        raise ServiceError("离任日期晚于今天", field="ended_on")
    post.ended_on = ended_on
    post.save(update_fields=["ended_on"])
    audit_record(
        actor=actor,
        action="end",
        obj=post,
        org_path=post.org.path,
        changes={"ended_on": [None, str(ended_on)]},
        note=note,
    )
    return post


@transaction.atomic
def term_create(
    *,
    actor: Any,
    scope: Scope,
    org: Organization,
    started_on: dt.date,
    length_years: int,
    number: int | None = None,
    note: str = "",
) -> CommitteeTerm:
    """Record a committee's election: the start of a term of office of a given length."""
    if not scope.can_manage_org(org):
        raise NotPermitted("您无权记录此党组织的换届")
    if org.kind not in (OrgKind.COMMITTEE, OrgKind.GENERAL_BRANCH, OrgKind.BRANCH):
        raise ServiceError(f"{OrgKind(org.kind).label}不实行换届", field="org")
    if not 1 <= int(length_years) <= 10:
        raise ServiceError("任期应为1至10年", field="length_years")
    if started_on > dt.date.today():
        raise ServiceError("选举日期晚于今天", field="started_on")
    latest = org.terms.order_by("-started_on").first()
    if latest and started_on <= latest.started_on:
        raise ServiceError(f"选举日期应晚于上一届（{latest.started_on:%Y-%m-%d}）", field="started_on")
    term = CommitteeTerm.objects.create(
        org=org, started_on=started_on, length_years=length_years, number=number, note=note.strip()[:200]
    )
    if latest and latest.ended_on is None:
        latest.ended_on = started_on
        latest.save(update_fields=["ended_on"])
    audit_record(
        actor=actor,
        action="create",
        obj=term,
        org_path=org.path,
        changes={"started_on": [None, str(started_on)], "length_years": [None, length_years]},
    )
    return term


def _summary(errors: dict[str, list[str]]) -> str:
    names = {
        "code": "组织代码",
        "name": "名称",
        "kind": "类型",
        "parent": "上级组织",
        "short_name": "简称",
        "established_on": "成立日期",
    }
    return "；".join(f"{names.get(k, k)}：{'；'.join(v)}" for k, v in errors.items())


@transaction.atomic
def org_dissolve(
    *, actor: Any, scope: Scope, org: Organization, dissolved_on: dt.date, note: str = ""
) -> None:
    """Dissolve (撤销) an empty organisation; it stays in the tree, marked, with its history."""
    from zhibu.people.models import ACTIVE_STATUSES, Person

    if org.parent is None or not scope.can_manage_org(org.parent):
        raise NotPermitted("撤销党组织须由上级组织的管理者办理")
    if org.dissolved_on is not None:
        raise ServiceError(f"“{org.name}”已于 {org.dissolved_on:%Y-%m-%d} 撤销")
    if dissolved_on > dt.date.today():
        raise ServiceError("撤销日期晚于今天", field="dissolved_on")
    if org.children.filter(dissolved_on__isnull=True).exists():
        raise ServiceError(f"“{org.name}”下还有未撤销的下级组织，请先撤销或调整")
    remaining = Person.objects.filter(org__path__startswith=org.path, status__in=ACTIVE_STATUSES).count()
    remaining += Person.objects.filter(group=org, status__in=ACTIVE_STATUSES).count()
    if remaining:
        raise ServiceError(f"“{org.name}”还有 {remaining} 名在册人员，请先把他们编入其他组织")
    if Post.objects.filter(org=org).current(dissolved_on).exists():
        raise ServiceError(f"“{org.name}”还有现任职务，请先办理离任")
    org = Organization.objects.select_for_update().get(pk=org.pk)
    org.dissolved_on = dissolved_on
    org.save(update_fields=["dissolved_on", "updated_at"])
    audit_record(
        actor=actor,
        action="end",
        obj=org,
        org_path=org.path,
        changes={"dissolved_on": [None, str(dissolved_on)]},
        note=note,
    )
