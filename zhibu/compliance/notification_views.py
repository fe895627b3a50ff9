"""The notifications page: a user's own reminders and meeting notices; managers also see failed e-mails in
their scope."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from zhibu.compliance import notifications as svc
from zhibu.compliance.kinds import STATES
from zhibu.core.errors import NotFound


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    scope = request.scope  # type: ignore[attr-defined]
    notes = svc.notifications_of(request.user)
    return render(
        request,
        "compliance/notifications.html",
        {
            "notes": notes,
            "unread": sum(n.read_at is None for n in notes),
            "failed": svc.failed_deliveries_visible_to(scope),
            "states": STATES,
        },
    )


@login_required
def notifications_badge(request: HttpRequest) -> HttpResponse:
    """The unread count for the nav, loaded by htmx after the page (one query, off the page's path)."""
    return render(request, "compliance/notifications_badge.html", {"count": svc.unread_count(request.user)})


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    try:
        svc.notification_mark_read(user=request.user, notification_id=notification_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return redirect("compliance:notifications")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    count = svc.notifications_mark_all_read(user=request.user)
    messages.success(request, f"已将 {count} 条提醒标为已读")
    return redirect("compliance:notifications")
