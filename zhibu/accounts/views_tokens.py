"""The API tokens page: a user lists, creates and revokes their own tokens; a new token is shown once."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from zhibu.accounts.models import ApiToken, User
from zhibu.accounts.services import api_token_create, api_token_revoke
from zhibu.core.errors import ServiceError
from zhibu.core.views import form_add_service_errors


class TokenForm(forms.Form):
    name = forms.CharField(
        label="用途", max_length=100, help_text="写明哪个系统、做什么用，便于日后核对和吊销"
    )


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # login_required has run


def _page(request: HttpRequest, form: TokenForm, raw: str = "", status: int = 200) -> HttpResponse:
    # The user's own tokens only: a token is never shown to, or revoked by, anyone else here.
    tokens = ApiToken.objects.filter(user=_user(request)).order_by("revoked_at", "-created_at")
    ctx: dict[str, Any] = {"tokens": tokens, "form": form, "raw_token": raw}
    return render(request, "accounts/tokens.html", ctx, status=status)


@never_cache
@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, TokenForm())
    if "revoke" in request.POST:
        return _revoke(request)
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        _token, raw = api_token_create(
            actor=request.user, user=_user(request), name=form.cleaned_data["name"]
        )
    except ServiceError as exc:
        form_add_service_errors(form, exc)
        return _page(request, form, status=400)
    # Rendered, not redirected: the raw token must not be stored anywhere, not even in the session.
    return _page(request, TokenForm(), raw=raw)


def _revoke(request: HttpRequest) -> HttpResponse:
    token_id = request.POST.get("revoke", "")
    token = (
        ApiToken.objects.filter(user=_user(request), pk=int(token_id)).first()
        if token_id.isdigit() and len(token_id) < 19
        else None
    )
    if token is None:
        messages.error(request, "令牌不存在")
        return redirect("accounts:tokens")
    try:
        api_token_revoke(actor=request.user, token=token)
        messages.success(request, f"已吊销令牌“{token.name}”（{token.prefix}…），使用它的系统将无法再访问")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("accounts:tokens")
