"""Helpers shared by page views: turning service errors into responses, pagination, error pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from zhibu.core.errors import NotFound, NotPermitted


def handles_refusals(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """NotFound → 404 page, NotPermitted → 403 page, each with the service's message."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            return render(request, "core/error.html", {"code": 404, "message": exc.message}, status=404)
        except NotPermitted as exc:
            return render(request, "core/error.html", {"code": 403, "message": exc.message}, status=403)

    return wrapper


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "core/error.html", {"code": 404, "message": "页面不存在"}, status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "core/error.html", {"code": 403, "message": "您无权访问此页面"}, status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "core/error.html", {"code": 400, "message": "请求无效"}, status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(
        request, "core/error.html", {"code": 500, "message": "系统出错，请稍后再试或联系管理员"}, status=500
    )


def form_add_service_errors(form: Any, exc: Any) -> None:
    """Put a ServiceError's messages on the form fields they name (or on the form as a whole)."""
    for field, msgs in (exc.errors or {None: [exc.message]}).items():
        for m in msgs:
            form.add_error(field if field in form.fields else None, m)
