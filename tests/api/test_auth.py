"""Who may call the API: a browser session (with CSRF on writes) or a bearer token; nobody else."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from tests.api.conftest import assert_chinese_error, everything, send
from zhibu.accounts.models import ApiToken
from zhibu.accounts.services import api_token_authenticate, api_token_create, api_token_revoke
from zhibu.api import BAD_TOKEN, UNAUTHENTICATED

NEW_PERSON = {"name": "周新", "gender": "female", "org": "SA-B1", "status": "applicant"}


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_caller_gets_401_in_chinese(world, client, method):
    before = everything()
    response = send(client, method, "/api/v1/people/", NEW_PERSON if method == "post" else None)
    data = assert_chinese_error(response, 401)
    assert data["detail"] == UNAUTHENTICATED
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert everything() == before


def test_bearer_token_acts_as_its_user_within_their_scope(world, bearer):
    response = bearer(world.users.branch_secretary).get("/api/v1/people/")
    assert response.status_code == 200
    names = {p["name"] for p in response.json()["items"]}
    assert names == {"王建国", "李红梅", "张三丰", "曾小单"}


def test_a_members_token_sees_only_the_member(world, bearer):
    response = bearer(world.users.member).get("/api/v1/people/")
    assert [p["name"] for p in response.json()["items"]] == ["张三丰"]


def test_token_writes_need_no_csrf_token(world, token_for):
    client = Client(
        enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {token_for(world.users.branch_secretary)}"
    )
    response = send(client, "post", "/api/v1/people/", NEW_PERSON)
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "周新"


def test_revoked_token_gets_401(world, token_for):
    raw = token_for(world.users.branch_secretary)
    token = ApiToken.objects.get(key_digest=ApiToken.digest(raw))
    api_token_revoke(actor=world.users.branch_secretary, token=token)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/people/")
    assert assert_chinese_error(response, 401)["detail"] == BAD_TOKEN


def test_token_of_a_disabled_user_gets_401(world, token_for):
    raw = token_for(world.users.branch_secretary)
    world.users.branch_secretary.is_active = False
    world.users.branch_secretary.save()
    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/people/")
    assert_chinese_error(response, 401)


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer ", "bearer " + "x" * 5000, "Bearer zb_\u00e9"])
def test_a_bad_token_gets_401_even_beside_a_valid_session(world, client_as, header):
    client = client_as(world.users.branch_secretary)
    response = client.get("/api/v1/people/", HTTP_AUTHORIZATION=header)
    assert_chinese_error(response, 401)


def test_other_authorization_schemes_fall_back_to_the_session(world, client_as):
    client = client_as(world.users.branch_secretary)
    assert client.get("/api/v1/people/", HTTP_AUTHORIZATION="Basic Zm9vOmJhcg==").status_code == 200
    assert_chinese_error(Client().get("/api/v1/people/", HTTP_AUTHORIZATION="Basic Zm9vOmJhcg=="), 401)


def test_last_use_is_written_at_most_once_a_minute(world):
    token, raw = api_token_create(actor=world.users.member, user=world.users.member, name="同步")
    first = timezone.now()
    assert api_token_authenticate(raw, now=first) == world.users.member
    token.refresh_from_db()
    assert token.last_used_at == first
    api_token_authenticate(raw, now=first + dt.timedelta(seconds=30))
    token.refresh_from_db()
    assert token.last_used_at == first
    later = first + dt.timedelta(minutes=2)
    api_token_authenticate(raw, now=later)
    token.refresh_from_db()
    assert token.last_used_at == later


def test_a_token_request_records_its_use(world, token_for):
    raw = token_for(world.users.member)
    Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/me/")
    assert ApiToken.objects.get(key_digest=ApiToken.digest(raw)).last_used_at is not None


def test_only_the_digest_of_a_token_is_stored(world, token_for):
    raw = token_for(world.users.member)
    token = ApiToken.objects.get()
    assert raw not in (token.key_digest, token.prefix, token.name)
    assert raw.startswith(token.prefix)


# Sessions and CSRF -------------------------------------------------------------------------------------
def _csrf_client(user) -> tuple[Client, str]:  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/")  # any page sets the CSRF cookie
    return client, client.cookies["csrftoken"].value


def test_session_write_without_csrf_token_is_refused_and_writes_nothing(world):
    client, _csrf = _csrf_client(world.users.branch_secretary)
    before = everything()
    response = send(client, "post", "/api/v1/people/", NEW_PERSON)
    assert "CSRF" in assert_chinese_error(response, 403)["detail"]
    response = send(client, "patch", "/api/v1/orgs/SA-B1/", {"name": "改名"})
    assert_chinese_error(response, 403)
    assert everything() == before


def test_session_write_with_csrf_token_is_accepted(world):
    client, csrf = _csrf_client(world.users.branch_secretary)
    response = send(client, "post", "/api/v1/people/", NEW_PERSON, HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 201, response.content


def test_session_reads_need_no_csrf_token(world):
    client, _csrf = _csrf_client(world.users.member)
    assert client.get("/api/v1/people/").status_code == 200


def test_me_tells_the_caller_who_they_act_as(world, bearer):
    data = bearer(world.users.school_secretary).get("/api/v1/me/").json()
    assert data["username"] == "school_secretary"
    assert data["manages_anything"] is True
    assert [r["org_path"] for r in data["roles"]] == ["/WC/SA/"]
