"""/api/v1/people/: list, detail, create, update and status change, scoped and always masked."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import assert_chinese_error, everything, send
from tests.factories import make_person, valid_id_number
from zhibu.core.crypto import mask_id_number
from zhibu.core.models import AuditEntry
from zhibu.people.models import Person, Status, StatusChange


def names(response) -> set[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return {p["name"] for p in response.json()["items"]}


def test_list_holds_the_callers_subtree(world, client_as):
    assert names(client_as(world.users.school_secretary).get("/api/v1/people/")) == {
        "王建国",
        "李红梅",
        "张三丰",
        "曾小单",
        "赵六",
    }


def test_a_school_a_user_gets_nothing_of_school_b(world, client_as):
    client = client_as(world.users.school_secretary)
    assert not {"钱七", "孙八"} & names(client.get("/api/v1/people/?page_size=200"))
    assert_chinese_error(client.get(f"/api/v1/people/{world.people.outsider.pk}/"), 404)
    assert_chinese_error(client.get("/api/v1/people/?org=SB"), 400)


def test_a_school_b_user_gets_nothing_of_school_a(world, client_as):
    client = client_as(world.users.outsider)
    assert names(client.get("/api/v1/people/")) == {"钱七", "孙八"}
    assert_chinese_error(client.get(f"/api/v1/people/{world.people.member.pk}/"), 404)
    before = everything()
    url = f"/api/v1/people/{world.people.member.pk}/"
    assert_chinese_error(send(client, "patch", url, {"position": "x"}), 404)
    assert_chinese_error(
        send(
            client,
            "post",
            url + "status/",
            {"to_status": "suspended", "effective_on": "2024-01-02", "reason": "x"},
        ),
        404,
    )
    assert everything() == before


def test_a_member_sees_only_themselves_and_may_write_nothing(world, client_as):
    client = client_as(world.users.member)
    me = world.people.member
    assert names(client.get("/api/v1/people/")) == {"张三丰"}
    assert client.get(f"/api/v1/people/{me.pk}/").status_code == 200
    assert_chinese_error(client.get(f"/api/v1/people/{world.people.branch_secretary.pk}/"), 404)
    before = everything()
    assert_chinese_error(send(client, "patch", f"/api/v1/people/{me.pk}/", {"position": "组长"}), 403)
    assert_chinese_error(
        send(
            client,
            "post",
            "/api/v1/people/",
            {"name": "新人", "gender": "male", "org": "SA-B1", "status": "applicant"},
        ),
        403,
    )
    assert_chinese_error(
        send(
            client,
            "post",
            f"/api/v1/people/{me.pk}/status/",
            {"to_status": "withdrawn", "effective_on": "2024-01-02", "reason": "本人申请"},
        ),
        403,
    )
    assert everything() == before


def test_filters(world, client_as):
    world.people.b2.backbone_teacher = True
    world.people.b2.save()
    client = client_as(world.users.school_secretary)
    assert names(client.get("/api/v1/people/?org=SA-B2")) == {"赵六"}
    assert names(client.get("/api/v1/people/?status=activist&status=probationary")) == {"曾小单"}
    assert names(client.get("/api/v1/people/?group=SA-B1-G1")) == {"张三丰"}
    assert names(client.get(f"/api/v1/people/?group={world.sa_b1_g1.pk}")) == {"张三丰"}
    assert names(client.get("/api/v1/people/?flag=backbone_teacher")) == {"赵六"}
    assert names(client.get("/api/v1/people/?q=zsf")) == {"张三丰"}
    assert names(client.get("/api/v1/people/?q=zengxiao")) == {"曾小单"}
    assert names(client.get("/api/v1/people/?q=红梅")) == {"李红梅"}
    assert names(client.get("/api/v1/people/?org=SA&status=full_member&q=wang")) == {"王建国"}


def test_list_is_paginated_with_a_total(world, client_as):
    data = client_as(world.users.school_secretary).get("/api/v1/people/?page=2&page_size=2").json()
    assert (data["count"], data["page"], data["page_size"], len(data["items"])) == (5, 2, 2, 2)


def test_output_uses_codes_with_chinese_labels(world, client_as):
    data = client_as(world.users.branch_secretary).get(f"/api/v1/people/{world.people.member.pk}/").json()
    assert (data["status"], data["status_label"]) == ("full_member", "正式党员")
    assert data["org"] == {"code": "SA-B1", "name": "第一党支部"}
    assert data["school"] == {"code": "SA", "name": "第一中学党委"}
    assert data["group"] == {"id": world.sa_b1_g1.pk, "code": "SA-B1-G1", "name": "第一党小组"}


def test_id_numbers_and_phones_are_always_masked(world, client_as):
    member = world.people.member
    # Even an administrator who may reveal ID numbers on the person's page gets them masked here.
    from tests.factories import make_user

    admin = make_user("admin", is_superuser=True)
    for user in (world.users.branch_secretary, admin):
        client = client_as(user)
        for response in (client.get("/api/v1/people/"), client.get(f"/api/v1/people/{member.pk}/")):
            body = response.content.decode()
            assert member.id_number not in body
            assert "13812345678" not in body
        data = client.get(f"/api/v1/people/{member.pk}/").json()
        assert data["id_number"] == mask_id_number(member.id_number)
        assert data["phone"] == "138****5678"


def test_create_registers_a_person_with_history_and_audit(world, client_as):
    id_number = valid_id_number(dt.date(1995, 4, 3), male=False)
    response = send(
        client_as(world.users.branch_secretary),
        "post",
        "/api/v1/people/",
        {
            "name": "周新",
            "org": "SA-B1",
            "group": "SA-B1-G2",
            "status": "activist",
            "id_number": id_number,
            "phone": "13900001111",
            "applied_on": "2023-03-01",
            "activist_on": "2023-09-01",
        },
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["id_number"] == mask_id_number(id_number)
    assert id_number not in response.content.decode()
    assert (data["gender"], data["birth_date"]) == ("female", "1995-04-03")  # read from the ID number
    person = Person.objects.get(pk=data["id"])
    assert (person.group, person.status) == (world.sa_b1_g2, Status.ACTIVIST)
    assert StatusChange.objects.filter(person=person, to_status="activist").count() == 1
    assert AuditEntry.objects.filter(
        object_type="people.person", object_id=str(person.pk), action="create"
    ).exists()


def test_create_reports_service_errors_by_field_and_writes_nothing(world, client_as):
    before = everything()
    response = send(
        client_as(world.users.branch_secretary),
        "post",
        "/api/v1/people/",
        {"name": "周新", "org": "SA-B1", "group": "SA-B1-G1", "status": "probationary", "id_number": "123"},
    )
    data = assert_chinese_error(response, 400)
    assert "id_number" in data["errors"]
    assert everything() == before


def test_create_refuses_an_initial_status_the_pipeline_forbids(world, client_as):
    before = everything()
    response = send(
        client_as(world.users.branch_secretary),
        "post",
        "/api/v1/people/",
        {"name": "周新", "gender": "male", "org": "SA-B1", "status": "expelled"},
    )
    assert "status" in assert_chinese_error(response, 400)["errors"]
    assert everything() == before


def test_create_refuses_a_branch_the_caller_only_sees(world, client_as):
    # The branch secretary manages SA-B1 only; a group or a branch elsewhere is refused.
    before = everything()
    client = client_as(world.users.branch_secretary)
    body = {"name": "周新", "gender": "male", "status": "applicant"}
    assert (
        "org"
        in assert_chinese_error(send(client, "post", "/api/v1/people/", {**body, "org": "SA-B2"}), 400)[
            "errors"
        ]
    )
    assert (
        "org"
        in assert_chinese_error(send(client, "post", "/api/v1/people/", {**body, "org": "SB-B1"}), 400)[
            "errors"
        ]
    )
    assert everything() == before


def test_update_changes_only_the_fields_sent(world, client_as):
    member = world.people.member
    response = send(
        client_as(world.users.branch_secretary),
        "patch",
        f"/api/v1/people/{member.pk}/",
        {"phone": "13900001111", "group": None, "position": "语文教师"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "139****1111"
    member.refresh_from_db()
    assert (member.phone, member.group, member.position, member.name) == (
        "13900001111",
        None,
        "语文教师",
        "张三丰",
    )
    entry = AuditEntry.objects.filter(
        object_type="people.person", object_id=str(member.pk), action="update"
    ).get()
    assert "13900001111" not in str(entry.changes)


def test_update_refuses_a_status_change(world, client_as):
    before = everything()
    response = send(
        client_as(world.users.branch_secretary),
        "patch",
        f"/api/v1/people/{world.people.member.pk}/",
        {"status": "suspended"},
    )
    assert "status" in assert_chinese_error(response, 422)["errors"]
    assert everything() == before


def test_status_change_follows_the_transition_table(world, client_as):
    activist = world.people.activist
    client = client_as(world.users.branch_secretary)
    url = f"/api/v1/people/{activist.pk}/status/"
    response = send(
        client, "post", url, {"to_status": "candidate", "effective_on": "2024-05-01", "reason": "支委会决议"}
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["change"]["from_status"], data["change"]["to_status_label"]) == ("activist", "发展对象")
    assert data["person"]["status"] == "candidate"
    activist.refresh_from_db()
    assert (activist.status, activist.candidate_on) == ("candidate", dt.date(2024, 5, 1))

    before = everything()
    response = send(
        client, "post", url, {"to_status": "full_member", "effective_on": "2024-06-01", "reason": "x"}
    )
    assert "to_status" in assert_chinese_error(response, 400)["errors"]
    assert everything() == before


def test_list_query_count_does_not_grow_with_rows(world, client_as):
    client = client_as(world.users.school_secretary)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/people/?page_size=200")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    for i in range(5):
        make_person(f"测试{i}", world.sa_b2, group=None)
    few = queries()
    for i in range(5, 50):
        make_person(f"测试{i}", world.sa_b1, group=world.sa_b1_g1)
    assert queries() == few
    assert client.get("/api/v1/people/?page_size=200").json()["count"] == 55
