import pytest
from django.contrib.auth.hashers import make_password
from django.test import override_settings

from tests.conftest import PASSWORD


def test_production_hasher_is_argon2(settings):
    # The suite swaps in a fast hasher; outside tests the list leads with Argon2.
    assert settings.PRODUCTION_PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    with override_settings(PASSWORD_HASHERS=settings.PRODUCTION_PASSWORD_HASHERS):
        assert make_password("x-y-z-1234").startswith("argon2")


def test_login_logout_and_home_says_who_and_where(world, client):
    response = client.post("/login/", {"username": "branch_secretary", "password": PASSWORD})
    assert response.status_code == 302
    home = client.get("/")
    text = home.content.decode()
    assert "李红梅" in text and "第一党支部" in text and "书记" in text
    client.post("/logout/")
    assert client.get("/").status_code == 302


def test_wrong_password_says_so_in_chinese(world, client):
    response = client.post("/login/", {"username": "member", "password": "nope"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


@pytest.mark.django_db
def test_repeated_failures_lock_the_login(world, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "member", "password": "nope"})
    response = client.post("/login/", {"username": "member", "password": PASSWORD})
    assert response.status_code == 429
    assert "登录已暂停" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_password_change(world, client_as):
    client = client_as(world.users.member)
    response = client.post(
        "/password/",
        {"old_password": PASSWORD, "new_password1": "another-Horse-77", "new_password2": "another-Horse-77"},
    )
    assert response.status_code == 302
    world.users.member.refresh_from_db()
    assert world.users.member.check_password("another-Horse-77")


def test_pages_need_login(world, client):
    for url in ["/", "/orgs/", "/people/", f"/people/{world.people.member.pk}/", "/orgs/SA/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
