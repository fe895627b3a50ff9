"""API routes about the caller: who the session or token acts as, and within which scope."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from zhibu.api import ERRORS, request_scope_of

router = Router(tags=["账户"])


class RoleOut(Schema):
    org_path: str
    org_name: str
    role: str


class MeOut(Schema):
    username: str
    display_name: str
    person_id: int | None
    is_admin: bool
    manages_anything: bool
    roles: list[RoleOut]


@router.get("/me/", response={200: MeOut, **ERRORS}, summary="当前用户")
def me(request: HttpRequest) -> Any:
    """The user this session or token acts as, and the posts and grants that make their scope."""
    scope = request_scope_of(request)
    user: Any = request.user
    return {
        "username": user.username,
        "display_name": user.display_name,
        "person_id": user.person_id,
        "is_admin": scope.is_admin,
        "manages_anything": scope.manages_anything,
        "roles": [{"org_path": p, "org_name": n, "role": r} for p, n, r in scope.roles],
    }
