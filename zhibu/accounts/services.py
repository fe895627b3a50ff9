"""Writes to accounts: users (created for people, never deleted), grants, and API tokens."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from zhibu.accounts.models import ApiToken, Grant, GrantRole, User
from zhibu.core.audit import audit_record
from zhibu.core.errors import NotPermitted, ServiceError
from zhibu.core.scoping import Scope
from zhibu.orgs.models import Organization

TOKEN_PREFIX = "zb_"  # noqa: S105 - marks a zhibu token in logs and secret scanners
# A token's last use is written at most this often, so that a busy integration does not write on every call.
LAST_USED_EVERY = dt.timedelta(minutes=1)
# Longer than any token we issue; a longer header is refused before it is hashed.
_MAX_RAW_LENGTH = 200


def _org_path(user: User) -> str:
    # Tokens belong to users, not orgs; the user's branch lets their secretaries see the entry in the log.
    return user.person.org.path if user.person_id and user.person is not None else ""


def _check_owner(actor: Any, user: User) -> None:
    if not (getattr(actor, "pk", None) == user.pk or getattr(actor, "is_superuser", False)):
        raise NotPermitted("您只能管理自己的 API 令牌")


@transaction.atomic
def api_token_create(*, actor: Any, user: User, name: str) -> tuple[ApiToken, str]:
    """Issue a token for `user`; only its digest is stored, so the raw token is shown this once."""
    _check_owner(actor, user)
    name = (name or "").strip()
    if not name:
        raise ServiceError("请填写令牌用途（如“人事系统同步”）", field="name")
    if len(name) > 100:
        raise ServiceError("令牌用途不能超过100个字", field="name")
    if not user.is_active:
        raise ServiceError("此账户已停用，不能签发令牌")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_digest=ApiToken.digest(raw),
        prefix=raw[: ApiToken._meta.get_field("prefix").max_length],
    )
    audit_record(
        actor=actor,
        action="create",
        obj=token,
        org_path=_org_path(user),
        changes={"name": [None, name], "prefix": [None, token.prefix], "user": [None, user.username]},
        note="签发 API 令牌",
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: Any, token: ApiToken) -> ApiToken:
    """Revoke a token at once; the row stays as a record of who had access and when."""
    _check_owner(actor, token.user)
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if token.revoked_at is not None:
        raise ServiceError(f"此令牌已于 {timezone.localtime(token.revoked_at):%Y-%m-%d %H:%M} 吊销")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action="revoke",
        obj=token,
        org_path=_org_path(token.user),
        changes={"revoked_at": [None, str(token.revoked_at)]},
        note="吊销 API 令牌",
    )
    return token


def api_token_authenticate(raw: str, *, now: dt.datetime | None = None) -> User | None:
    """The active user a live token belongs to, or None; notes the token's use (at most once a minute)."""
    raw = (raw or "").strip()
    if not raw or len(raw) > _MAX_RAW_LENGTH:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__person")
        .filter(key_digest=ApiToken.digest(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,150}$")


def user_can_manage(scope: Scope, user: User) -> bool:
    """Whether the scope's holder may manage this account (an administrator, or a manager of its person)."""
    if scope.is_admin:
        return True
    if user.is_superuser or user.pk == scope.user_id:
        return False
    return bool(user.person_id) and scope.can_manage_path(_org_path(user))


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ServiceError("密码不符合要求：" + "；".join(exc.messages), field="password") from exc


@transaction.atomic
def user_create(*, actor: Any, scope: Scope, username: str, password: str, person: Any | None) -> User:
    """An account for a person the actor manages (administrators may also create one without a person)."""
    username = (username or "").strip()
    if person is None and not scope.is_admin:
        raise NotPermitted("只有系统管理员可以建立不关联人员的账户")
    if person is not None and not scope.can_manage_person(person):
        raise NotPermitted(f"您无权为{person.name}建立账户")
    if not _USERNAME.match(username):
        raise ServiceError("用户名应为3位以上的字母、数字或 _ . @ -", field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise ServiceError(f"用户名 {username} 已被使用", field="username")
    if person is not None and User.objects.filter(person=person).exists():
        raise ServiceError(f"{person.name}已有账户", field="person")
    _check_password(password)
    user = User.objects.create_user(username=username, password=password, person=person)
    audit_record(
        actor=actor,
        action="create",
        obj=user,
        org_path=_org_path(user),
        changes={"username": [None, username], "person": [None, str(person or "")]},
    )
    return user


@transaction.atomic
def user_set_password(*, actor: Any, scope: Scope, user: User, password: str) -> None:
    """Reset another person's password (the owner changes their own on the password page)."""
    if not user_can_manage(scope, user):
        raise NotPermitted("您无权重置此账户的密码")
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(actor=actor, action="update", obj=user, org_path=_org_path(user), note="重置密码")


@transaction.atomic
def user_set_active(*, actor: Any, scope: Scope, user: User, active: bool) -> None:
    """Disable or re-enable an account; accounts are never deleted, their history stays."""
    if not user_can_manage(scope, user):
        raise NotPermitted("您无权停用或启用此账户")
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="update",
            obj=user,
            org_path=_org_path(user),
            changes={"is_active": [not active, active]},
        )


@transaction.atomic
def user_set_reveal_permission(*, actor: Any, scope: Scope, user: User, allowed: bool) -> None:
    """Only an administrator, or a manager who holds the permission, can pass it on."""
    if not user_can_manage(scope, user) or not (scope.is_admin or scope.can_reveal_id):
        raise NotPermitted("您无权设置“查看完整身份证号”权限")
    perm = Permission.objects.get(codename="reveal_id_number", content_type__app_label="accounts")
    had = user.user_permissions.filter(pk=perm.pk).exists()
    if had == allowed:
        return
    (user.user_permissions.add if allowed else user.user_permissions.remove)(perm)
    audit_record(
        actor=actor,
        action="update",
        obj=user,
        org_path=_org_path(user),
        changes={"reveal_id_number": [had, allowed]},
    )


@transaction.atomic
def grant_add(*, actor: Any, scope: Scope, user: User, org: Organization, role: str, note: str = "") -> Grant:
    """Give an account access to an org subtree the actor manages."""
    if role not in GrantRole.values:
        raise ServiceError("权限类型无效", field="role")
    if not scope.can_manage_org(org):
        raise NotPermitted(f"您无权授予“{org.name}”的权限")
    if not user_can_manage(scope, user) and not (user.person_id is None and scope.is_admin):
        raise NotPermitted("您无权为此账户授权")
    if Grant.objects.filter(user=user, org=org, role=role).exists():
        raise ServiceError("此授权已存在", field="org")
    grant = Grant.objects.create(user=user, org=org, role=role, note=note.strip()[:200])
    audit_record(
        actor=actor,
        action="create",
        obj=grant,
        org_path=org.path,
        changes={"user": [None, user.username], "org": [None, org.name], "role": [None, role]},
    )
    return grant


@transaction.atomic
def grant_revoke(*, actor: Any, scope: Scope, grant: Grant) -> None:
    """Withdraw a grant; the audit log keeps that it existed."""
    if not scope.can_manage_org(grant.org):
        raise NotPermitted("您无权撤销此授权")
    audit_record(
        actor=actor,
        action="end",
        obj=grant,
        org_path=grant.org.path,
        changes={"user": [grant.user.username, None], "org": [grant.org.name, None]},
    )
    grant.delete()
