"""Reads of people for pages, exports and the API, always through a Scope."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from zhibu.core.audit import audit_history
from zhibu.core.errors import NotFound
from zhibu.core.models import AuditEntry
from zhibu.core.scoping import Scope
from zhibu.people.models import Person, Status, StatusChange

FLAGS = {
    "backbone_teacher": ("骨干教师", Q(backbone_teacher=True)),
    "in_need": ("困难党员", Q(in_need=True)),
    "volunteer": ("志愿者", Q(volunteer=True)),
    "not_transferred_in": ("组织关系未转入", Q(relationship_transferred_in=False)),
    "retired": ("退休", Q(employment="retired")),
}
_ASCII = re.compile(r"^[a-z]+$")


@dataclass
class PersonFilters:
    org: Any = None  # an Organization: its subtree
    statuses: list[str] = field(default_factory=list)
    group: Any = None
    flags: list[str] = field(default_factory=list)
    q: str = ""


def search_q(text: str) -> Q:
    """Name, full pinyin (zhangsanfeng) or initials (zsf)."""
    text = text.strip()
    if not text:
        return Q()
    lowered = re.sub(r"\s+", "", text.lower())
    if _ASCII.match(lowered):
        return (
            Q(name_initials__startswith=lowered)
            | Q(name_pinyin__startswith=lowered)
            | Q(name_pinyin__contains=lowered)
        )
    return Q(name__contains=text)


def person_list_visible_to(scope: Scope, filters: PersonFilters | None = None) -> QuerySet[Person]:
    """People the user may see, filtered; the rows carry their branch, school and group (no N+1)."""
    filters = filters or PersonFilters()
    qs = scope.people(Person.objects.all()).select_related("org", "org__parent", "group")
    if filters.org is not None:
        qs = qs.filter(Q(org__path__startswith=filters.org.path) | Q(group=filters.org))
    if filters.statuses:
        qs = qs.filter(status__in=[s for s in filters.statuses if s in Status.values])
    if filters.group is not None:
        qs = qs.filter(group=filters.group)
    for flag in filters.flags:
        if flag in FLAGS:
            qs = qs.filter(FLAGS[flag][1])
    if filters.q:
        qs = qs.filter(search_q(filters.q))
    return qs.order_by("name_pinyin", "id")


def person_get_visible(scope: Scope, pk: int | str) -> Person:
    """One person, or NotFound when absent or outside the scope."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("人员不存在") from None
    if not 0 < pk < 2**63:  # beyond a bigint PostgreSQL would raise instead of finding nothing
        raise NotFound("人员不存在")
    person = person_list_visible_to(scope).filter(pk=pk).first()
    if person is None:
        raise NotFound("人员不存在或不在您的权限范围内")
    return person


@dataclass
class TimelineItem:
    when: Any
    kind: str  # "status" or "edit"
    title: str
    detail: str
    actor: str


def person_timeline(person: Person) -> list[TimelineItem]:
    """Status changes and audited edits of one person, newest first."""
    items: list[TimelineItem] = []
    changes = StatusChange.objects.filter(person=person).select_related("recorded_by").order_by("-id")
    for c in changes:
        title = (
            f"{c.get_from_status_display()} → {c.get_to_status_display()}"
            if c.from_status
            else f"建档：{c.get_to_status_display()}"
        )
        items.append(
            TimelineItem(
                c.effective_on, "status", title, c.reason, c.recorded_by.username if c.recorded_by else "系统"
            )
        )
    for entry in audit_history(person):
        if entry.action not in ("update", "reveal"):
            continue
        detail = (
            "；".join(f"{_field_label(k)}：{v[0] or '空'} → {v[1] or '空'}" for k, v in entry.changes.items())
            or entry.note
        )
        items.append(
            TimelineItem(entry.at.date(), "edit", entry.get_action_display(), detail, entry.actor_name)
        )
    items.sort(key=lambda i: i.when, reverse=True)
    return items


def _field_label(name: str) -> str:
    try:
        return str(getattr(Person._meta.get_field(name), "verbose_name", name))
    except Exception:
        return name


def audit_entries_visible_to(scope: Scope) -> QuerySet[AuditEntry]:
    return scope.by_org_path(AuditEntry.objects.all(), "org_path")
