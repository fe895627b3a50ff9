"""Account management pages: list, create for a person, reset password, enable/disable, grants."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from zhibu.accounts import services
from zhibu.accounts.models import Grant, GrantRole
from zhibu.accounts.selectors import user_get_managed, user_list_visible_to
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.views import form_add_service_errors, handles_refusals
from zhibu.orgs.selectors import org_get_visible
from zhibu.people.selectors import person_get_visible


class UserCreateForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150, help_text="字母、数字或 _ . @ -，至少3位")
    password = forms.CharField(
        label="初始密码", widget=forms.PasswordInput, help_text="至少8位，不能全是数字"
    )


class PasswordForm(forms.Form):
    password = forms.CharField(label="新密码", widget=forms.PasswordInput)


class GrantForm(forms.Form):
    org = forms.CharField(label="组织代码", max_length=32)
    role = forms.ChoiceField(label="权限", choices=GrantRole.choices)
    note = forms.CharField(label="说明", max_length=200, required=False)


def _require_manager(request: HttpRequest) -> None:
    if not request.scope.manages_anything:  # type: ignore[attr-defined]
        raise NotPermitted("只有管理者可以管理账户")


@login_required
@handles_refusals
def user_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    page = Paginator(user_list_visible_to(request.scope), 50).get_page(request.GET.get("page"))  # type: ignore[attr-defined]
    return render(request, "accounts/users.html", {"page": page})


@login_required
@handles_refusals
def user_new(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    scope = request.scope  # type: ignore[attr-defined]
    person_id = request.GET.get("person") or request.POST.get("person") or ""
    person = person_get_visible(scope, person_id) if person_id else None
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(actor=request.user, scope=scope, person=person, **form.cleaned_data)
        except ServiceError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, f"已建立账户 {user.username}，请把初始密码告知本人并提醒其修改")
            return redirect("accounts:user_detail", user_id=user.pk)
    return render(request, "accounts/user_form.html", {"form": form, "person": person})


@login_required
@handles_refusals
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    _require_manager(request)
    scope = request.scope  # type: ignore[attr-defined]
    user = user_get_managed(scope, user_id)
    return render(
        request,
        "accounts/user_detail.html",
        {
            "u": user,
            "password_form": PasswordForm(),
            "grant_form": GrantForm(),
            "can_reveal": user.has_perm("accounts.reveal_id_number"),
            "may_set_reveal": scope.is_admin or scope.can_reveal_id,
        },
    )


@login_required
@require_POST
@handles_refusals
def user_action(request: HttpRequest, user_id: int) -> HttpResponse:
    """One endpoint for the small actions on an account page; each calls one service."""
    _require_manager(request)
    scope = request.scope  # type: ignore[attr-defined]
    user = user_get_managed(scope, user_id)
    action = request.POST.get("action", "")
    try:
        if action == "password":
            form = PasswordForm(request.POST)
            if not form.is_valid():
                raise ServiceError("请填写新密码")
            services.user_set_password(
                actor=request.user, scope=scope, user=user, password=form.cleaned_data["password"]
            )
            messages.success(request, "密码已重置")
        elif action in ("disable", "enable"):
            services.user_set_active(actor=request.user, scope=scope, user=user, active=action == "enable")
            messages.success(request, "账户已启用" if action == "enable" else "账户已停用")
        elif action in ("reveal_on", "reveal_off"):
            services.user_set_reveal_permission(
                actor=request.user, scope=scope, user=user, allowed=action == "reveal_on"
            )
            messages.success(request, "权限已更新")
        elif action == "grant":
            grant_form = GrantForm(request.POST)
            if not grant_form.is_valid():
                raise ServiceError("请填写组织代码和权限")
            try:
                org = org_get_visible(scope, grant_form.cleaned_data["org"].strip())
            except NotFound as exc:
                raise ServiceError(exc.message) from exc
            services.grant_add(
                actor=request.user,
                scope=scope,
                user=user,
                org=org,
                role=grant_form.cleaned_data["role"],
                note=grant_form.cleaned_data["note"],
            )
            messages.success(request, "已授权")
        elif action == "revoke":
            grant = (
                Grant.objects.filter(pk=_int(request.POST.get("grant")), user=user)
                .select_related("org", "user")
                .first()
            )
            if grant is None:
                raise ServiceError("授权不存在")
            services.grant_revoke(actor=request.user, scope=scope, grant=grant)
            messages.success(request, "已撤销授权")
        else:
            raise ServiceError("未知操作")
    except NotPermitted:
        raise
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("accounts:user_detail", user_id=user.pk)


def _int(value: str | None) -> int:
    try:
        number = int(value or "")
    except ValueError:
        return 0
    return number if 0 < number < 2**63 else 0
