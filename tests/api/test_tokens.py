"""The API tokens page and the token services: own tokens only, shown once, audited, revocable."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.api.conftest import everything
from zhibu.accounts.models import ApiToken
from zhibu.accounts.services import api_token_create, api_token_revoke
from zhibu.core.errors import NotPermitted, ServiceError
from zhibu.core.models import AuditEntry

TOKEN = re.compile(r'value="(zb_[A-Za-z0-9_-]+)"')


def test_anonymous_visitor_is_sent_to_login(db, client):
    response = client.get("/tokens/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_creating_a_token_shows_it_once_and_audits_it(world, client_as):
    client = client_as(world.users.branch_secretary)
    response = client.post("/tokens/", {"name": "人事系统同步"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    raw = TOKEN.search(response.content.decode()).group(1)  # type: ignore[union-attr]
    token = ApiToken.objects.get(user=world.users.branch_secretary)
    assert (token.name, token.key_digest, token.prefix) == ("人事系统同步", ApiToken.digest(raw), raw[:8])
    entry = AuditEntry.objects.get(object_type="accounts.apitoken", object_id=str(token.pk))
    assert (entry.action, entry.actor) == ("create", world.users.branch_secretary)
    assert raw not in str(entry.changes)
    # The list shows the prefix, never the token again.
    page = client.get("/tokens/").content.decode()
    assert "人事系统同步" in page and token.prefix in page and raw not in page
    # And the token works.
    assert (
        Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/me/").json()["username"] == "branch_secretary"
    )


def test_a_token_needs_a_name(world, client_as):
    before = everything()
    response = client_as(world.users.member).post("/tokens/", {"name": "  "})
    assert response.status_code == 400
    assert everything() == before


def test_revoking_a_token_stops_it_at_once(world, client_as, token_for):
    raw = token_for(world.users.member)
    token = ApiToken.objects.get()
    client = client_as(world.users.member)
    response = client.post("/tokens/", {"revoke": str(token.pk)})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEntry.objects.filter(object_type="accounts.apitoken", action="revoke").count() == 1
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/me/").status_code == 401
    assert "已于" in client.get("/tokens/").content.decode()


def test_the_page_lists_and_revokes_only_ones_own_tokens(world, client_as, token_for):
    token_for(world.users.outsider, name="别人的令牌")
    other = ApiToken.objects.get()
    client = client_as(world.users.member)
    assert "别人的令牌" not in client.get("/tokens/").content.decode()
    before = everything()
    client.post("/tokens/", {"revoke": str(other.pk)})
    client.post("/tokens/", {"revoke": "99999999999999999999999"})
    client.post("/tokens/", {"revoke": "abc"})
    other.refresh_from_db()
    assert other.revoked_at is None
    assert everything() == before


def test_services_refuse_someone_elses_tokens(world):
    with pytest.raises(NotPermitted):
        api_token_create(actor=world.users.member, user=world.users.activist, name="x")
    token, _raw = api_token_create(actor=world.users.activist, user=world.users.activist, name="x")
    with pytest.raises(NotPermitted):
        api_token_revoke(actor=world.users.member, token=token)
    api_token_revoke(actor=world.users.activist, token=token)
    with pytest.raises(ServiceError):
        api_token_revoke(actor=world.users.activist, token=token)
