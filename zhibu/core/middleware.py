"""Input that no database accepts is refused at the door, with a message, instead of a 500 later."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

_NUL_MESSAGE = "请求中含有不允许的控制字符（NUL），请检查输入内容"


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    for values in request.GET.lists():
        if any("\x00" in v for v in (values[0], *values[1])):
            return True
    content_type = request.content_type or ""
    if request.method not in ("POST", "PUT", "PATCH"):
        return False
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        # Field values only: uploaded files may hold any bytes and are parsed by their own readers.
        return any("\x00" in v for _, values in request.POST.lists() for v in values)
    if content_type in ("application/json", "text/plain"):
        # JSON may also spell NUL as an escape.
        return b"\x00" in request.body or b"\\u0000" in request.body
    return False


class RejectUnstorableInputMiddleware:
    """PostgreSQL cannot store NUL characters; refuse such requests with 400 before any view runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            refused = _has_nul(request)
        except RequestDataTooBig:
            return _refuse(request, 413, "请求内容过大")
        if refused:
            return _refuse(request, 400, _NUL_MESSAGE)
        return self.get_response(request)


def _refuse(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": message, "errors": {}}, status=status, json_dumps_params={"ensure_ascii": False}
        )
    return render(request, "core/error.html", {"code": status, "message": message}, status=status)
