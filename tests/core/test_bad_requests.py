import pytest

from zhibu.people.models import Person


@pytest.mark.parametrize(
    "url",
    [
        "/people/?q=%00",
        "/people/?org=SA%00",
        "/people/99999999999999999999999/",
        "/people/?page=-3",
        "/people/?page=abc",
        "/people/?group=x&status=nope&flag=zz",
        "/orgs/%00/",
        "/orgs/" + "A" * 300 + "/",
    ],
)
def test_odd_page_requests_never_fail_with_500(world, client_as, url):
    response = client_as(world.users.school_secretary).get(url)
    assert response.status_code in (200, 400, 404)


def test_a_form_post_with_a_nul_is_refused_and_writes_nothing(world, client_as):
    before = Person.objects.count()
    response = client_as(world.users.branch_secretary).post(
        "/people/new/", {"name": "坏\x00名", "status": "applicant", "org": str(world.sa_b1.pk)}
    )
    assert response.status_code == 400
    assert "控制字符" in response.content.decode()
    assert Person.objects.count() == before


def test_api_json_with_an_escaped_nul_is_refused(world, client_as):
    response = client_as(world.users.branch_secretary).post(
        "/api/v1/people/", data='{"name": "a\\u0000b"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert "控制字符" in response.json()["detail"]


def test_an_oversized_api_body_is_refused_in_json(world, client_as, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"name": "' + "长" * 2000 + '"}'
    response = client_as(world.users.branch_secretary).post(
        "/api/v1/people/", data=body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["detail"] == "请求内容过大"
