"""One scoping mechanism: who may see and manage which part of the org tree.

A user's scope is the union of the org subtrees their current posts and explicit grants give, plus their
own person record. Every selector filters through a `Scope`; nothing reads a table unscoped for a user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

if TYPE_CHECKING:
    from zhibu.orgs.models import Organization
    from zhibu.people.models import Person


QS = TypeVar("QS", bound=QuerySet[Any])


def _collapse(paths: Iterable[str]) -> tuple[str, ...]:
    """Drop paths that lie inside another path of the set."""
    kept: list[str] = []
    for p in sorted(set(paths), key=len):
        if not any(p.startswith(k) for k in kept):
            kept.append(p)
    return tuple(sorted(kept))


def _prefix_q(lookup: str, paths: tuple[str, ...]) -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{f"{lookup}__startswith": p})
    return q


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    manage_paths: tuple[str, ...] = ()
    view_paths: tuple[str, ...] = ()  # includes the manage paths
    person_id: int | None = None
    own_branch_path: str | None = None
    can_reveal_id: bool = False
    is_admin: bool = False
    roles: tuple[tuple[str, str, str], ...] = field(default=())  # (org path, org name, role label)

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    @property
    def manages_anything(self) -> bool:
        return bool(self.manage_paths)

    # Filters -------------------------------------------------------------------------------------
    def orgs(self, qs: QS) -> QS:
        """Organizations this user may see: their subtrees, plus their own branch."""
        q = _prefix_q("path", self.view_paths)
        if self.own_branch_path:
            q |= Q(path=self.own_branch_path)
        return qs.filter(q)

    def managed_orgs(self, qs: QS) -> QS:
        return qs.filter(_prefix_q("path", self.manage_paths))

    def people(self, qs: QS, *, via: str = "org__path") -> QS:
        """People this user may see: those in their subtrees, and themselves."""
        q = _prefix_q(via, self.view_paths)
        if self.person_id:
            q |= Q(pk=self.person_id)
        return qs.filter(q)

    def by_org_path(self, qs: QS, lookup: str) -> QS:
        """Any other record that carries an org path (e.g. the audit log)."""
        return qs.filter(_prefix_q(lookup, self.view_paths))

    # Checks --------------------------------------------------------------------------------------
    def can_view_path(self, path: str) -> bool:
        return any(path.startswith(p) for p in self.view_paths) or path == self.own_branch_path

    def can_manage_path(self, path: str) -> bool:
        return any(path.startswith(p) for p in self.manage_paths)

    def can_manage_org(self, org: Organization) -> bool:
        return self.can_manage_path(org.path)

    def can_view_person(self, person: Person) -> bool:
        return person.pk == self.person_id or any(person.org.path.startswith(p) for p in self.view_paths)

    def can_manage_person(self, person: Person) -> bool:
        return self.can_manage_path(person.org.path)


ANONYMOUS = Scope(user_id=None)


def system_scope() -> Scope:
    """The scope of the system itself (commands, nightly tasks): everything, as an administrator."""
    return Scope(user_id=None, manage_paths=("/",), view_paths=("/",), can_reveal_id=True, is_admin=True)


def scope_for(user: Any, *, on: dt.date | None = None) -> Scope:
    """Build a user's scope in a fixed number of queries (grants, posts, own branch)."""
    from zhibu.orgs.models import MANAGING_ROLES, Post

    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ANONYMOUS
    manage: list[str] = []
    view: list[str] = []
    roles: list[tuple[str, str, str]] = []
    if user.is_superuser:
        manage.append("/")
        roles.append(("/", "全部", "系统管理员"))
    for grant in user.grants.select_related("org").all():
        (manage if grant.role == "manage" else view).append(grant.org.path)
        roles.append((grant.org.path, grant.org.name, grant.get_role_display()))
    own_branch_path = None
    if user.person_id:
        for post in Post.objects.current(on).filter(person_id=user.person_id).select_related("org"):
            (manage if post.role in MANAGING_ROLES else view).append(post.org.path)
            roles.append((post.org.path, post.org.name, post.get_role_display()))
        own_branch_path = (
            type(user.person).objects.filter(pk=user.person_id).values_list("org__path", flat=True).first()
        )
    manage_paths = _collapse(manage)
    return Scope(
        user_id=user.pk,
        manage_paths=manage_paths,
        view_paths=_collapse([*manage, *view]),
        person_id=user.person_id,
        own_branch_path=own_branch_path,
        can_reveal_id=user.has_perm("accounts.reveal_id_number"),
        is_admin=user.is_superuser,
        roles=tuple(roles),
    )


def request_scope(request: HttpRequest) -> Scope:
    """The scope of the request's user, computed once per request."""
    cached = getattr(request, "_zhibu_scope", None)
    if cached is None or cached.user_id != getattr(request.user, "pk", None):
        cached = scope_for(request.user)
        request._zhibu_scope = cached  # type: ignore[attr-defined]
    return cached


class ScopeMiddleware:
    """Puts a lazy `request.scope` on every request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.scope = SimpleLazyObject(lambda: request_scope(request))  # type: ignore[attr-defined]
        return self.get_response(request)
