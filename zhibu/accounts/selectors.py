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
