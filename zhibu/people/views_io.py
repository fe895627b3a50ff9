"""Import and export pages (owned by the import/export work; filled in below)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def export_xlsx(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def import_upload(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def import_template(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
