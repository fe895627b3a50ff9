"""Downloads of organisational life: a meeting's record (.docx) and the year's 三会一课 ledger (.xlsx, .pdf).

Only those who manage or view the org through a post or a grant get them — being a member of the branch
(or an invitee of the meeting) is not enough: the record names everyone's attendance and leave reasons.
Each download is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path
from django.utils import timezone
from django.utils.http import content_disposition_header

from zhibu.core.audit import audit_record
from zhibu.core.errors import NotFound
from zhibu.core.scoping import Scope
from zhibu.core.views import handles_refusals
from zhibu.life.documents import DOCX, meeting_minutes_docx, minutes_filename
from zhibu.life.ledger import PDF, XLSX, Ledger, ledger_pdf, ledger_rows, ledger_xlsx
from zhibu.life.models import Meeting
from zhibu.orgs.models import Organization

# Years a ledger may be asked for: a sanity bound on typing, not a regulation.
EARLIEST_YEAR = 2000


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response


def _oversees(scope: Scope, path_: str) -> bool:
    """Managed or viewed through a post or a grant (one's own branch as a member does not count)."""
    return any(path_.startswith(p) for p in scope.view_paths)


def minutes_download(*, actor: Any, scope: Scope, meeting_id: int) -> HttpResponse:
    """A meeting's record as Word, for those who oversee its org (the page and the API); audited."""
    meeting = (
        Meeting.objects.select_related("org__parent", "chair", "recorder", "lecturer")
        .filter(pk=meeting_id)
        .first()
    )
    if meeting is None or not _oversees(scope, meeting.org.path):
        raise NotFound("会议不存在或不在您的权限范围内")
    content = meeting_minutes_docx(meeting)
    audit_record(
        actor=actor,
        action="export",
        obj=meeting,
        org_path=meeting.org.path,
        note=f"导出会议记录（{meeting.title}）",
    )
    return _download(content, minutes_filename(meeting), DOCX)


def _ledger_of(scope: Scope, code: str, raw_year: str) -> Ledger:
    """The ledger of the org `code` in `raw_year` (this year when empty), if the viewer oversees the org;
    NotFound otherwise, saying what to give."""
    code = code.strip()
    org = Organization.objects.select_related("parent").filter(code=code).first() if code else None
    if org is None or not _oversees(scope, org.path):
        raise NotFound("党组织不存在或不在您的权限范围内（请用 ?org=组织代码 指定）")
    today = timezone.localdate()
    raw = raw_year.strip()
    year = int(raw) if raw.isdigit() else (today.year if not raw else 0)
    if not EARLIEST_YEAR <= year <= today.year + 1:
        raise NotFound(f"年度“{raw}”无效，请填写 {EARLIEST_YEAR} 至 {today.year + 1} 之间的年份")
    return ledger_rows(org, year, today=today)


LEDGER_FORMATS: dict[str, tuple[Callable[[Ledger], bytes], str]] = {
    "xlsx": (ledger_xlsx, XLSX),
    "pdf": (ledger_pdf, PDF),
}


def ledger_download(*, actor: Any, scope: Scope, org_code: str, year: str, suffix: str) -> HttpResponse:
    """The year's 三会一课 ledger of an org as Excel or PDF (the page and the API); audited."""
    build, content_type = LEDGER_FORMATS[suffix]
    ledger = _ledger_of(scope, org_code, year)
    content = build(ledger)
    held = len({m.pk for s in ledger.sections for m in s.meetings})
    audit_record(
        actor=actor,
        action="export",
        obj=ledger.org,
        org_path=ledger.org.path,
        note=f"导出{ledger.year}年“三会一课”台账（{suffix}，{ledger.org_title}，会议 {held} 次）",
    )
    return _download(content, f"三会一课台账-{ledger.org_title}-{ledger.year}年.{suffix}", content_type)


@login_required
@handles_refusals
def minutes_docx(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return minutes_download(actor=request.user, scope=request.scope, meeting_id=meeting_id)  # type: ignore[attr-defined]


def _ledger_view(request: HttpRequest, suffix: str) -> HttpResponse:
    return ledger_download(
        actor=request.user,
        scope=request.scope,  # type: ignore[attr-defined]
        org_code=request.GET.get("org", ""),
        year=request.GET.get("year", ""),
        suffix=suffix,
    )


@login_required
@handles_refusals
def ledger_xlsx_download(request: HttpRequest) -> HttpResponse:
    return _ledger_view(request, "xlsx")


@login_required
@handles_refusals
def ledger_pdf_download(request: HttpRequest) -> HttpResponse:
    return _ledger_view(request, "pdf")


urlpatterns: list[URLPattern | URLResolver] = [
    path("meetings/<int:meeting_id>/minutes.docx", minutes_docx, name="minutes_docx"),
    path("ledger.xlsx", ledger_xlsx_download, name="ledger_xlsx"),
    path("ledger.pdf", ledger_pdf_download, name="ledger_pdf"),
]
