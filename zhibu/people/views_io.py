"""Registry files in and out: the import page, its template workbook, and the export of the people list."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header

from zhibu.core.audit import audit_record
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.scoping import Scope
from zhibu.core.views import handles_refusals
from zhibu.orgs.models import Organization, OrgKind
from zhibu.people.exporting import export_people_xlsx
from zhibu.people.importing import import_people, import_template_xlsx
from zhibu.people.selectors import person_list_visible_to
from zhibu.people.views import filters_from_request

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Above this many targets the page asks for an org code instead of offering a drop-down.
TARGET_SELECT_LIMIT = 300
PROBLEMS_SHOWN = 500


def _xlsx_response(fill: Any, filename: str) -> HttpResponse:
    """A download named in Chinese: Content-Disposition carries filename*=UTF-8''… (RFC 5987)."""
    buffer = io.BytesIO()
    fill(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response


def _import_targets(scope: Scope) -> QuerySet[Organization]:
    """Branches and schools the user manages: where an import may go."""
    qs = Organization.objects.active().filter(Q(kind=OrgKind.BRANCH) | Q(is_school=True))
    return scope.managed_orgs(qs).order_by("path")


def _require_manager(scope: Scope) -> None:
    if not scope.manages_anything:
        raise NotPermitted("您无权导入人员")


@login_required
@handles_refusals
def import_template(request: HttpRequest) -> HttpResponse:
    _require_manager(request.scope)  # type: ignore[attr-defined]
    return _xlsx_response(import_template_xlsx, "人员导入模板.xlsx")


@login_required
@handles_refusals
def import_upload(request: HttpRequest) -> HttpResponse:
    scope = request.scope  # type: ignore[attr-defined]
    _require_manager(scope)
    targets = _import_targets(scope)
    few = targets.count() <= TARGET_SELECT_LIMIT
    ctx: dict[str, Any] = {
        "targets": list(targets.select_related("parent")) if few else None,
        "chosen": request.POST.get("org", request.GET.get("org", "")),
        "partial": bool(request.POST.get("partial")),
        "max_mb": settings.ZHIBU_MAX_UPLOAD_BYTES // 1024 // 1024,
        "problems_shown": PROBLEMS_SHOWN,
    }
    if request.method == "POST":
        ctx.update(_run_import(request, scope, targets))
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "people/import.html#result", ctx)
    return render(request, "people/import.html", ctx)


def _run_import(request: HttpRequest, scope: Scope, targets: QuerySet[Organization]) -> dict[str, Any]:
    """The context of one upload: a report, or the reason the file was refused."""
    upload = request.FILES.get("file")
    if upload is None:
        return {"error": "请选择要导入的文件"}
    limit = settings.ZHIBU_MAX_UPLOAD_BYTES
    if upload.size is not None and upload.size > limit:  # refused before a byte of it is parsed
        return {"error": f"文件过大（{upload.size / 1024 / 1024:.1f} MB），上限为 {limit // 1024 // 1024} MB"}
    org = targets.filter(code=request.POST.get("org", "").strip()).first()
    if org is None:
        return {"error": "请选择要导入到的党组织（须为您管理的支部或学校）"}
    try:
        report = import_people(
            upload,
            filename=upload.name or "",
            org=org,
            actor=request.user,
            scope=scope,
            partial=bool(request.POST.get("partial")),
        )
    except (NotPermitted, NotFound):
        raise
    except ServiceError as exc:
        return {"error": exc.message, "org": org}
    return {"report": report, "org": org}


@login_required
@handles_refusals
def export_xlsx(request: HttpRequest) -> HttpResponse:
    scope = request.scope  # type: ignore[attr-defined]
    filters = filters_from_request(request)
    people = person_list_visible_to(scope, filters)
    title = filters.org.name if filters.org is not None else "人员名册"
    filename = f"人员名册-{timezone.localdate():%Y%m%d}.xlsx"

    def fill(fh: Any) -> None:
        count = export_people_xlsx(people, fh, title=title)
        # Personal data leaving the system is recorded, like a reveal: who, what list, how many rows.
        audit_record(
            actor=request.user,
            action="export",
            obj=filters.org or request.user,  # type: ignore[arg-type]  # login_required: a real User
            org_path=filters.org.path if filters.org is not None else (scope.view_paths or ("",))[0],
            note=f"导出人员名册 {count} 人（{request.GET.urlencode() or '全部'}）",
        )

    return _xlsx_response(fill, filename)
