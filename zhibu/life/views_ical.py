"""The iCalendar feeds, and the page where a user finds their feed links and resets them.

The feeds need no login (calendar apps cannot log in): the signed token in the URL names the user and their
feed key, and each request checks both again (see life/ical.py). The page and the reset need a login and
show or change only the user's own links.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from zhibu.accounts.models import User
from zhibu.core.scoping import Scope, scope_for
from zhibu.core.views import handles_refusals
from zhibu.life import ical
from zhibu.life.models import FeedKey
from zhibu.orgs.models import Organization
from zhibu.people.models import Person

CONTENT_TYPE = "text/calendar; charset=utf-8"


def _calendar(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _read(token: str, kind: str) -> tuple[ical.FeedToken, Any]:
    """The token and the user it was made for, or 404 (tampered, old form, other kind, user disabled,
    key reset since)."""
    parsed = ical.read_token(token)
    if parsed is None or parsed.kind != kind:
        raise Http404
    user = ical.token_user(parsed)
    if user is None:
        raise Http404
    return parsed, user


@require_safe
def ical_person(request: HttpRequest, token: str) -> HttpResponse:
    """A person's meetings, for the user whose person it is: two queries."""
    parsed, user = _read(token, ical.PERSON)
    if user.person_id is None or str(user.person_id) != parsed.subject:
        raise Http404
    person = user.person
    return _calendar(ical.person_feed(person), f"meetings-{person.pk}.ics")


@require_safe
def ical_org(request: HttpRequest, token: str) -> HttpResponse:
    """An org's meetings, while the user the link was made for still sees the org."""
    parsed, user = _read(token, ical.ORG)
    org = Organization.objects.filter(code=parsed.subject).first()
    if org is None or not ical.may_follow_org(scope_for(user), org):
        raise Http404
    return _calendar(ical.org_feed(org), f"meetings-{org.code}.ics")


@dataclass(frozen=True)
class FeedLink:
    label: str
    url: str
    kind: str  # ical.PERSON or ical.ORG


def feed_links_for(
    user: Any,
    *,
    scope: Scope | None = None,
    request: HttpRequest | None = None,
    key: FeedKey | None = None,
) -> list[FeedLink]:
    """The feeds a user may subscribe to: their own meetings, and each org they see by a post or grant
    (absolute URLs when `request` is given). Three queries beyond the user's scope (one more the first
    time, to make the user's feed key)."""
    scope = scope or scope_for(user)
    if scope.is_anonymous:
        return []
    secret = (key or ical.feed_key_for(user.pk)).key

    def url(name: str, token: str) -> str:
        path = reverse(name, args=[token])
        return request.build_absolute_uri(path) if request is not None else path

    links: list[FeedLink] = []
    if user.person_id:
        person = Person.objects.filter(pk=user.person_id).only("name").first()
        if person is not None:
            token = ical.person_token(person.pk, user.pk, secret)
            links.append(FeedLink(f"我的会议（{person.name}）", url("life:ical_person", token), ical.PERSON))
    paths = set(scope.view_paths)
    orgs = Organization.objects.active().filter(path__in=paths)
    if "/" in paths:  # an administrator: the top of the tree
        orgs = Organization.objects.active().filter(parent__isnull=True)
    for org in orgs.order_by("path"):
        token = ical.org_token(org.code, user.pk, secret)
        links.append(FeedLink(f"{org.name}的全部会议", url("life:ical_org", token), ical.ORG))
    return links


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # login_required has run


@login_required
@never_cache
@require_safe
def feeds(request: HttpRequest) -> HttpResponse:
    """The user's own feed links, how to subscribe on a phone or computer, and the reset button."""
    user = _user(request)
    key = ical.feed_key_for(user.pk)
    scope: Scope = request.scope  # type: ignore[attr-defined]
    links = feed_links_for(user, scope=scope, request=request, key=key)
    return render(
        request,
        "life/feeds.html",
        {
            "own": [link for link in links if link.kind == ical.PERSON],
            "orgs": [link for link in links if link.kind == ical.ORG],
            "key": key,
            "has_person": user.person_id is not None,
        },
    )


@login_required
@handles_refusals
@require_POST
def feeds_reset(request: HttpRequest) -> HttpResponse:
    """A new feed key for the user: every old link stops at once."""
    ical.feed_key_reset(actor=request.user, user=_user(request))
    messages.success(
        request,
        "已重新生成日历订阅链接：旧链接已全部失效。请在日历应用中删除原来的订阅，再用下面的新链接重新订阅。",
    )
    return redirect("life:feeds")


urlpatterns: list[URLPattern] = [
    path("ical/person/<str:token>.ics", ical_person, name="ical_person"),
    path("ical/org/<str:token>.ics", ical_org, name="ical_org"),
    path("feeds/", feeds, name="feeds"),
    path("feeds/reset/", feeds_reset, name="feeds_reset"),
]
