"""Template context every page gets."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def zhibu_context(request: HttpRequest) -> dict[str, Any]:
    return {"scope": getattr(request, "scope", None)}
