"""Whatever a caller sends, the answer is a 4xx JSON error in Chinese, and nothing is written."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_chinese_error, everything, send

GOOD_PERSON = {"name": "周新", "gender": "male", "org": "SA-B1", "status": "applicant"}

BODIES = {
    "not json": "this is not json",
    "truncated json": '{"name": "周新", ',
    "json array": '[{"name": "周新"}]',
    "json string": '"周新"',
    "json null": "null",
    "json number": "42",
    "empty body": "",
    "empty object": "{}",
    "string where an int goes": {"sort_order": "many", "reason": 5, "effective_on": 5},
    "int where a string goes": {"name": 5, "to_status": 5},
    "bool where a string goes": {"name": True, "to_status": True},
    "object where a string goes": {"name": {"a": 1}, "to_status": ["x"]},
    "huge number": '{"sort_order": 1e400, "name": 1e400, "to_status": 1e400}',
    "huger integer": '{"sort_order": 1' + "0" * 5000 + "}",
    "big integer": {"sort_order": 10**30, "name": 10**30, "effective_on": 10**30},
    "negative int": {"sort_order": -1, "name": "x", "reason": "x", "effective_on": "x"},
    "unknown field": {**GOOD_PERSON, "code": "X", "kind": "group", "to_status": "x", "hacker": 1},
    "escaped null byte": '{"name": "坏\\u0000名", "to_status": "x\\u0000"}',
    "raw null byte": '{"name": "坏\x00名"}',
    "lone surrogate": (
        '{"name": "\\ud800", "reason": "\\udfff", "to_status": "candidate", "effective_on": "2024-01-01"}'
    ),
    "overlong strings": {"name": "长" * 5000, "reason": "长" * 5000, "code": "A" * 500, "org": "B" * 500},
    "impossible date": {
        "birth_date": "2020-13-45",
        "established_on": "2020-02-30",
        "effective_on": "2020-13-45",
    },
    "date as number": {"birth_date": 1234567890, "established_on": 0, "effective_on": 1},
    "datetime for a date": {"birth_date": "2020-01-01T10:00:00", "effective_on": "2020-01-01T10:00:00"},
    "unknown choice": {"gender": "robot", "kind": "club", "to_status": "king", "status": "king"},
    "deep nesting": "[" * 100_000 + "]" * 100_000,
    "null for required": {"name": None, "code": None, "to_status": None, "effective_on": None},
}


def _routes(world) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    person = world.people.member.pk
    return [
        ("post", "/api/v1/people/"),
        ("patch", f"/api/v1/people/{person}/"),
        ("post", f"/api/v1/people/{person}/status/"),
        ("post", "/api/v1/orgs/"),
        ("patch", "/api/v1/orgs/SA-B1/"),
    ]


# Bodies that some routes may rightly accept (PATCH with nothing to change).
ACCEPTABLE = {("empty object", "patch")}


@pytest.mark.parametrize("case", list(BODIES))
def test_malformed_bodies_are_refused_with_a_chinese_message_and_write_nothing(world, client_as, case):
    client = client_as(world.users.school_secretary)
    before = everything()
    for method, url in _routes(world):
        response = send(client, method, url, BODIES[case])
        if (case, method) in ACCEPTABLE:
            assert response.status_code == 200
            continue
        assert_chinese_error(response)
    assert everything() == before


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "name=%E5%91%A8&org=SA-B1&status=applicant&gender=male"),
        (
            "multipart/form-data; boundary=xx",
            '--xx\r\nContent-Disposition: form-data; name="name"\r\n\r\nA\r\n--xx--\r\n',
        ),
        ("text/plain", "name=周新"),
        ("application/xml", "<person><name>周新</name></person>"),
    ],
)
def test_wrong_content_types_are_refused(world, client_as, content_type, body):
    client = client_as(world.users.school_secretary)
    before = everything()
    for method, url in _routes(world):
        response = send(client, method, url, body, content_type=content_type)
        assert_chinese_error(response)
    assert everything() == before


def test_form_post_is_told_to_send_json(world, client_as):
    response = client_as(world.users.school_secretary).post("/api/v1/people/", GOOD_PERSON)
    assert "application/json" in assert_chinese_error(response, 400)["detail"]


def test_validation_errors_name_each_field(world, client_as):
    response = send(
        client_as(world.users.school_secretary),
        "post",
        "/api/v1/people/",
        {
            **GOOD_PERSON,
            "birth_date": "2020-13-45",
            "backbone_teacher": "perhaps",
            "bogus": 1,
            "name": "长" * 51,
        },
    )
    data = assert_chinese_error(response, 422)
    assert data["errors"] == {
        "birth_date": ["日期格式应为 YYYY-MM-DD（且须是存在的日期）"],
        "backbone_teacher": ["应为 true 或 false"],
        "bogus": ["不是可接受的字段"],
        "name": ["不能超过 50 个字符"],
    }
    assert "birth_date：日期格式应为 YYYY-MM-DD" in data["detail"]


def test_a_missing_body_is_named(world, client_as):
    response = send(client_as(world.users.school_secretary), "post", "/api/v1/people/", "")
    data = assert_chinese_error(response, 422)
    assert data["detail"].startswith("请求体：")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/people/abc/",
        "/api/v1/people/-1/",
        "/api/v1/people/0/",
        "/api/v1/people/1.5/",
        "/api/v1/people/99999999999999999999999/",
        "/api/v1/people/2147483647/",
        "/api/v1/people/%00/",
        "/api/v1/people/%F0%9F%98%80/",
        "/api/v1/orgs/NOPE/",
        "/api/v1/orgs/%00/",
        "/api/v1/orgs/%E5%85%9A/",
        "/api/v1/orgs/" + "A" * 300 + "/",
        "/api/v1/people/?page=-1",
        "/api/v1/people/?page=0",
        "/api/v1/people/?page=abc",
        "/api/v1/people/?page=99999999999999999999",
        "/api/v1/people/?page_size=201",
        "/api/v1/people/?page_size=0",
        "/api/v1/people/?status=king",
        "/api/v1/people/?flag=zz",
        "/api/v1/people/?org=SB",
        "/api/v1/people/?org=NOPE",
        "/api/v1/people/?group=SA-B1",
        "/api/v1/people/?group=99999999999999999999999",
        "/api/v1/people/?q=" + "z" * 51,
        "/api/v1/people/?q=%00",
        "/api/v1/orgs/?kind=club",
        "/api/v1/orgs/?parent=SB",
        "/api/v1/orgs/?include_dissolved=perhaps",
        "/api/v1/orgs/?page=1e400",
    ],
)
def test_odd_paths_and_queries_get_a_chinese_4xx(world, client_as, url):
    response = client_as(world.users.school_secretary).get(url)
    assert_chinese_error(response)


def test_a_page_past_the_end_is_empty_not_an_error(world, client_as):
    response = client_as(world.users.school_secretary).get("/api/v1/people/?page=100000&page_size=200")
    assert response.status_code == 200
    assert response.json()["items"] == []


def test_unknown_query_parameters_are_ignored(world, client_as):
    response = client_as(world.users.school_secretary).get("/api/v1/people/?_=12345&utm=x")
    assert response.status_code == 200


def test_an_oversized_body_is_refused(world, client_as, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = everything()
    response = send(
        client_as(world.users.school_secretary),
        "post",
        "/api/v1/people/",
        {**GOOD_PERSON, "note": "长" * 2000},
    )
    # RejectUnstorableInputMiddleware reads the body first and answers with the 400 page.
    assert 400 <= response.status_code < 500
    assert everything() == before


def test_an_oversized_body_read_by_the_api_is_a_json_413(world, client_as, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if not m.endswith("RejectUnstorableInputMiddleware")
    ]
    before = everything()
    response = send(
        client_as(world.users.school_secretary),
        "post",
        "/api/v1/people/",
        {**GOOD_PERSON, "note": "长" * 2000},
    )
    assert_chinese_error(response, 413)
    assert everything() == before


def test_an_unexpected_failure_is_a_json_500(world, client_as, monkeypatch):
    from zhibu.people import selectors

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "person_list_visible_to", broken)
    response = client_as(world.users.school_secretary).get("/api/v1/people/")
    assert response.status_code == 500
    assert response.json() == {"detail": "系统出错，请稍后再试或联系管理员", "errors": {}}
    assert "boom" not in response.content.decode()


def test_null_bytes_are_refused_by_field_even_without_the_middleware(world, client_as, settings):
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if not m.endswith("RejectUnstorableInputMiddleware")
    ]
    before = everything()
    client = client_as(world.users.school_secretary)
    response = send(client, "post", "/api/v1/people/", {**GOOD_PERSON, "name": "坏\x00名"})
    assert assert_chinese_error(response, 422)["errors"] == {"name": ["不能包含空字符（\\u0000）"]}
    assert_chinese_error(client.get("/api/v1/people/?q=%00"), 422)
    assert_chinese_error(client.get("/api/v1/orgs/%00/"), 404)
    assert everything() == before


def test_the_catch_all_for_unknown_api_paths_answers_in_json(rf):
    from zhibu.api import api_not_found

    response = api_not_found(rf.get("/api/v1/peopl"))
    data = assert_chinese_error(response, 404)
    assert "/api/v1/peopl" in data["detail"]
