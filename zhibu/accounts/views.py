"""Login, logout, password change and the home page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from zhibu.accounts.selectors import home_summary


class ZhibuAuthenticationForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码不正确（注意区分大小写）",
        "inactive": "此账户已停用，请联系管理员",
    }


class ZhibuLoginView(LoginView):
    template_name = "accounts/login.html"
    authentication_form = ZhibuAuthenticationForm
    redirect_authenticated_user = True


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Who you are, where you belong, and what you can do."""
    return render(request, "accounts/home.html", {"summary": home_summary(request.user, request.scope)})  # type: ignore[attr-defined]
