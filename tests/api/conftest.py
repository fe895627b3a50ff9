"""Helpers for API tests: JSON requests, bearer tokens, and a count of everything a write would touch."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from zhibu.accounts.models import ApiToken
from zhibu.core.models import AuditEntry
from zhibu.orgs.models import Organization, Post
from zhibu.people.models import Person, StatusChange

CJK = re.compile(r"[\u4e00-\u9fff]")


def send(client: Client, method: str, url: str, body: Any = None, **extra: Any) -> Any:
    """A request with a JSON body (a str body is sent as it is, for malformed input)."""
    data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
    content_type = extra.pop("content_type", "application/json")
    return getattr(client, method.lower())(url, data=data or "", content_type=content_type, **extra)


def assert_chinese_error(response: Any, status: int | None = None) -> dict[str, Any]:
    """A 4xx JSON error whose detail a person can read."""
    if status is not None:
        assert response.status_code == status, response.content.decode()
    assert 400 <= response.status_code < 500, response.content.decode()
    assert response["Content-Type"].startswith("application/json")
    data: dict[str, Any] = json.loads(response.content)
    assert CJK.search(data["detail"]), data
    return data


def everything() -> dict[str, int]:
    return {
        "people": Person.objects.count(),
        "orgs": Organization.objects.count(),
        "audit": AuditEntry.objects.count(),
        "status_changes": StatusChange.objects.count(),
        "posts": Post.objects.count(),
        "tokens": ApiToken.objects.count(),
    }


@pytest.fixture
def token_for():  # type: ignore[no-untyped-def]
    """token_for(user) → a raw bearer token issued to that user."""
    from zhibu.accounts.services import api_token_create

    def issue(user, name="测试集成"):  # type: ignore[no-untyped-def]
        _token, raw = api_token_create(actor=user, user=user, name=name)
        return raw

    return issue


@pytest.fixture
def bearer(token_for):  # type: ignore[no-untyped-def]
    """bearer(user) → a fresh client (no session) that sends that user's token."""

    def make(user):  # type: ignore[no-untyped-def]
        return Client(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")

    return make
