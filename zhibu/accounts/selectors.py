"""Reads for the home page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zhibu.core.scoping import Scope
from zhibu.orgs.models import Organization


@dataclass
class HomeSummary:
    person: Any
    roles: list[tuple[str, str, str]]
    managed: list[Organization]
    viewed: list[Organization]


def home_summary(user: Any, scope: Scope) -> HomeSummary:
    from zhibu.people.models import Person

    person = (
        Person.objects.select_related("org", "org__parent", "group").filter(pk=user.person_id).first()
        if user.person_id
        else None
    )
    tops = Organization.objects.filter(path__in=[*scope.view_paths]).order_by("path")
    top_list = list(tops)
    if "/" in scope.view_paths:
        top_list = list(Organization.objects.filter(parent__isnull=True).order_by("path"))
    managed = [o for o in top_list if scope.can_manage_org(o)]
    viewed = [o for o in top_list if not scope.can_manage_org(o)]
    return HomeSummary(person=person, roles=list(scope.roles), managed=managed, viewed=viewed)


def user_list_visible_to(scope: Scope) -> Any:
    """Accounts the user may manage: an administrator sees all, a manager those of people in their subtree."""
    from django.db.models import Q

    from zhibu.accounts.models import User

    qs = User.objects.select_related("person", "person__org").prefetch_related("grants__org")
    if not scope.is_admin:
        q = Q(pk__in=[])
        for path in scope.manage_paths:
            q |= Q(person__org__path__startswith=path)
        qs = qs.filter(q).exclude(is_superuser=True)
    return qs.order_by("username")


def user_get_managed(scope: Scope, user_id: int) -> Any:
    from zhibu.core.errors import NotFound

    if not 0 < user_id < 2**63:
        raise NotFound("账户不存在")
    user = user_list_visible_to(scope).filter(pk=user_id).first()
    if user is None:
        raise NotFound("账户不存在或不在您的权限范围内")
    return user
