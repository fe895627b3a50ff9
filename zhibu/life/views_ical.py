"""The iCalendar feeds (no login: calendar apps cannot log in; the signed token in the URL is the key)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_safe

from zhibu.accounts.models import User
from zhibu.core.scoping import Scope, scope_for
from zhibu.life import ical
from zhibu.orgs.models import Organization
from zhibu.people.models import Person

CONTENT_TYPE = "text/calendar; charset=utf-8"


def _calendar(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _int(text: str) -> int:
    if not text.isdigit():
        raise Http404
    return int(text)


@require_safe
def ical_person(request: HttpRequest, token: str) -> HttpResponse:
    """A person's meetings: two queries."""
    parts = ical.read_token(token)
    if not parts or len(parts) != 2 or parts[0] != "person":
        raise Http404
    person = Person.objects.filter(pk=_int(parts[1])).first()
    if person is None:
        raise Http404
    return _calendar(ical.person_feed(person), f"meetings-{person.pk}.ics")


@require_safe
def ical_org(request: HttpRequest, token: str) -> HttpResponse:
    """An org's meetings, while the user the link was made for still sees the org."""
    parts = ical.read_token(token)
    if not parts or len(parts) != 3 or parts[0] != "org":
        raise Http404
    user = User.objects.filter(pk=_int(parts[2]), is_active=True).first()
    org = Organization.objects.filter(code=parts[1]).first()
    if user is None or org is None or not ical.may_follow_org(scope_for(user), org):
        raise Http404
    return _calendar(ical.org_feed(org), f"meetings-{org.code}.ics")


@dataclass(frozen=True)
class FeedLink:
    label: str
    url: str


def feed_links_for(
    user: Any, *, scope: Scope | None = None, request: HttpRequest | None = None
) -> list[FeedLink]:
    """The feeds a user may subscribe to: their own meetings, and each org they see by a post or grant
    (absolute URLs when `request` is given). Two queries beyond the user's scope."""
    scope = scope or scope_for(user)
    if scope.is_anonymous:
        return []

    def url(name: str, token: str) -> str:
        path = reverse(name, args=[token])
        return request.build_absolute_uri(path) if request is not None else path

    links: list[FeedLink] = []
    if user.person_id:
        person = Person.objects.filter(pk=user.person_id).only("name").first()
        if person is not None:
            links.append(
                FeedLink(f"我的会议（{person.name}）", url("life:ical_person", ical.person_token(person.pk)))
            )
    paths = set(scope.view_paths)
    orgs = Organization.objects.active().filter(path__in=paths)
    if "/" in paths:  # an administrator: the top of the tree
        orgs = Organization.objects.active().filter(parent__isnull=True)
    for org in orgs.order_by("path"):
        links.append(
            FeedLink(f"{org.name}的全部会议", url("life:ical_org", ical.org_token(org.code, user.pk)))
        )
    return links


urlpatterns: list[URLPattern] = [
    path("ical/person/<str:token>.ics", ical_person, name="ical_person"),
    path("ical/org/<str:token>.ics", ical_org, name="ical_org"),
]
