"""Sending a stored evidence file back: a streamed response with a Chinese file name, never sniffed, and,
when shown inline in the browser, unable to run script in the site's origin."""

from __future__ import annotations

from django.db.models.fields.files import FieldFile
from django.http import FileResponse
from django.utils.http import content_disposition_header


def stored_file_response(file: FieldFile, *, title: str, content_type: str, inline: bool) -> FileResponse:
    response = FileResponse(file.open("rb"), content_type=content_type or "application/octet-stream")
    fallback = "inline" if inline else "attachment"
    response["Content-Disposition"] = content_disposition_header(not inline, title) or fallback
    response["X-Content-Type-Options"] = "nosniff"
    if inline:
        response["Content-Security-Policy"] = "sandbox"
    return response
