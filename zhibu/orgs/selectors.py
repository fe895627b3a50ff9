"""Reads of the org tree for pages and the API, always through a Scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from zhibu.core.errors import NotFound
from zhibu.core.scoping import Scope
from zhibu.orgs.models import CommitteeTerm, Organization, OrgKind, Post, PostRole


def org_list_visible_to(scope: Scope, *, include_dissolved: bool = False) -> QuerySet[Organization]:
    """Every organisation the user may see, in tree order."""
    qs = scope.orgs(Organization.objects.all())
    if not include_dissolved:
        qs = qs.active()
    return qs.order_by("path")


def org_get_visible(scope: Scope, code: str) -> Organization:
    """One organisation by code, or NotFound when it does not exist or lies outside the scope."""
    org = scope.orgs(Organization.objects.filter(code=code)).select_related("parent").first()
    if org is None:
        raise NotFound("党组织不存在或不在您的权限范围内")
    return org


def branches_visible_to(scope: Scope, *, managed: bool = False) -> QuerySet[Organization]:
    qs = Organization.objects.active().filter(kind=OrgKind.BRANCH).select_related("parent")
    return (scope.managed_orgs(qs) if managed else scope.orgs(qs)).order_by("path")


def groups_visible_to(scope: Scope, *, managed: bool = False) -> QuerySet[Organization]:
    qs = Organization.objects.active().filter(kind=OrgKind.GROUP).select_related("parent")
    return (scope.managed_orgs(qs) if managed else scope.orgs(qs)).order_by("path")


@dataclass
class OrgDetail:
    org: Organization
    ancestors: list[Organization]
    children: list[Organization]
    posts: list[Post]
    past_posts: list[Post]
    terms: list[CommitteeTerm]
    counts: dict[str, int]
    total_active: int
    child_counts: dict[int, int]


def org_detail(scope: Scope, org: Organization, *, on: dt.date | None = None) -> OrgDetail:
    """An org's page: its ancestors, children, posts, terms and head-counts by status (fixed queries)."""
    from zhibu.people.models import ACTIVE_STATUSES, Person, Status

    on = on or dt.date.today()
    ancestors = list(scope.orgs(Organization.objects.filter(path__in=org.ancestor_paths()[:-1])))
    children = list(org.children.active().order_by("sort_order", "code"))
    rank = {role: i for i, role in enumerate(PostRole.values)}  # secretary first, as on every roster
    all_posts = sorted(
        org.posts.select_related("person").order_by("-started_on"), key=lambda p: rank.get(p.role, 99)
    )
    posts = [p for p in all_posts if p.is_current(on)]
    past = [p for p in all_posts if not p.is_current(on)]
    terms = list(org.terms.all())
    people = Person.objects.filter(org__path__startswith=org.path)
    rows = people.values("status").annotate(n=Count("id"))
    counts = {s: 0 for s in Status.values}
    for row in rows:
        counts[row["status"]] = row["n"]
    child_counts: dict[int, int] = {}
    if children:
        agg: dict[str, Any] = {
            f"c{c.pk}": Count("id", filter=Q(org__path__startswith=c.path) | Q(group=c)) for c in children
        }
        result = people.filter(status__in=ACTIVE_STATUSES).aggregate(**agg)
        child_counts = {c.pk: result[f"c{c.pk}"] for c in children}
    return OrgDetail(
        org=org,
        ancestors=ancestors,
        children=children,
        posts=posts,
        past_posts=past,
        terms=terms,
        counts=counts,
        total_active=sum(counts[s] for s in ACTIVE_STATUSES),
        child_counts=child_counts,
    )
