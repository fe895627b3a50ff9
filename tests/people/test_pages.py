import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_person
from zhibu.core.models import AuditEntry
from zhibu.people.models import Person, Status


def test_people_list_finds_by_pinyin_initials_and_full_pinyin(world, client_as):
    client = client_as(world.users.branch_secretary)
    for q in ["zsf", "zhangsanfeng", "张三"]:
        text = client.get("/people/", {"q": q}, HTTP_HX_REQUEST="true").content.decode()
        assert "张三丰" in text and "李红梅" not in text, q
    text = client.get("/people/", {"q": "zxd"}, HTTP_HX_REQUEST="true").content.decode()
    assert "曾小单" in text  # 曾 reads zeng, 单 reads dan inside a given name


def test_people_list_filters_by_status_group_and_flag(world, client_as):
    client = client_as(world.users.school_secretary)
    text = client.get("/people/", {"status": "activist"}).content.decode()
    assert "曾小单" in text and "张三丰" not in text
    text = client.get("/people/", {"org": "SA-B1", "group": world.sa_b1_g1.pk}).content.decode()
    assert "张三丰" in text and "李红梅" not in text
    text = client.get("/people/", {"org": "SA-B2"}).content.decode()
    assert "赵六" in text and "张三丰" not in text


def test_people_list_htmx_returns_only_the_results_fragment(world, client_as):
    client = client_as(world.users.branch_secretary)
    response = client.get("/people/", {"q": "zsf"}, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert '<div id="results">' in text and "<html" not in text and "张三丰" in text


def test_people_list_masks_phones(world, client_as):
    text = client_as(world.users.branch_secretary).get("/people/").content.decode()
    assert "138****5678" in text and "13812345678" not in text


def test_org_filter_outside_the_scope_is_not_found(world, client_as):
    assert client_as(world.users.branch_secretary).get("/people/", {"org": "SB"}).status_code == 404


def _queries(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx)


@pytest.mark.parametrize("params", [{}, {"q": "zsf"}, {"status": "full_member", "flag": "in_need"}])
def test_people_list_runs_a_constant_number_of_queries(world, client_as, params):
    client = client_as(world.users.wc_staff)
    make_person("测试甲", world.sa_b2, in_need=True)  # at least one row matches every case
    small = _queries(client, "/people/", params)
    for i in range(60):
        make_person(f"测试{i}", world.sb_b1 if i % 2 else world.sa_b2, in_need=bool(i % 3))
    assert _queries(client, "/people/", params) == small


def test_org_page_runs_a_constant_number_of_queries(world, client_as):
    client = client_as(world.users.wc_staff)
    small = _queries(client, "/orgs/SA/")
    for i in range(30):
        make_person(f"测试{i}", world.sa_b2)
    assert _queries(client, "/orgs/SA/") == small


def test_person_page_shows_masked_id_and_timeline(world, client_as):
    person = world.people.member
    text = client_as(world.users.branch_secretary).get(f"/people/{person.pk}/").content.decode()
    assert person.id_number not in text
    assert person.id_number[:6] + "********" + person.id_number[-4:] in text
    assert "建档" in text and "查看完整号码" not in text  # no permission, no button


def test_reveal_through_the_page_needs_permission_and_is_audited(world, client_as):
    person = world.people.member
    user = world.users.branch_secretary
    client = client_as(user)
    assert client.post(f"/people/{person.pk}/reveal-id/").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="reveal_id_number"))
    text = client.get(f"/people/{person.pk}/").content.decode()
    assert "查看完整号码" in text
    response = client.post(f"/people/{person.pk}/reveal-id/", HTTP_HX_REQUEST="true")
    assert person.id_number in response.content.decode()
    assert AuditEntry.objects.filter(action="reveal", object_id=str(person.pk)).count() == 1


def test_a_member_sees_their_own_record_and_nobody_else(world, client_as):
    client = client_as(world.users.member)
    assert client.get(f"/people/{world.people.member.pk}/").status_code == 200
    assert client.get(f"/people/{world.people.branch_secretary.pk}/").status_code == 404
    text = client.get("/people/").content.decode()
    assert "张三丰" in text and "李红梅" not in text
    assert client.get(f"/people/{world.people.member.pk}/edit/").status_code == 403
    assert client.get("/people/new/").status_code == 403


def test_create_person_through_the_page(world, client_as):
    client = client_as(world.users.branch_secretary)
    response = client.post(
        "/people/new/",
        {
            "name": "单雨桐",
            "status": "applicant",
            "gender": "female",
            "employment": "in_service",
            "org": str(world.sa_b1.pk),
            "birth_date": "1999-05-01",
            "applied_on": "2026-03-01",
            "relationship_transferred_in": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    person = Person.objects.get(name="单雨桐")
    assert person.name_initials == "syt" and person.status == Status.APPLICANT


def test_create_person_with_a_bad_id_shows_the_reason_and_writes_nothing(world, client_as):
    client = client_as(world.users.branch_secretary)
    before = Person.objects.count()
    response = client.post(
        "/people/new/",
        {
            "name": "错号",
            "status": "applicant",
            "employment": "in_service",
            "org": str(world.sa_b1.pk),
            "id_number": "110105199001010011",
        },
    )
    assert response.status_code == 200
    assert "校验位" in response.content.decode()
    assert Person.objects.count() == before


def test_edit_person_through_the_page_keeps_an_audit_trail(world, client_as):
    person = world.people.member
    client = client_as(world.users.branch_secretary)
    data = {
        "name": person.name,
        "gender": person.gender,
        "ethnicity": "回族",
        "employment": "in_service",
        "org": str(world.sa_b1.pk),
        "group": str(world.sa_b1_g2.pk),
        "birth_date": str(person.birth_date),
        "id_number": person.id_number,
        "phone": person.phone,
        "relationship_transferred_in": "on",
    }
    assert client.post(f"/people/{person.pk}/edit/", data).status_code == 302
    person.refresh_from_db()
    assert person.ethnicity == "回族" and person.group == world.sa_b1_g2
    text = client.get(f"/people/{person.pk}/").content.decode()
    assert "回族" in text and "修改" in text


def test_status_change_through_the_page(world, client_as):
    person = world.people.activist
    client = client_as(world.users.branch_secretary)
    response = client.post(
        f"/people/{person.pk}/status/",
        {
            "to_status": "candidate",
            "effective_on": str(dt.date.today()),
            "reason": "支委会研究",
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.status == Status.CANDIDATE
    bad = client.post(
        f"/people/{person.pk}/status/",
        {"to_status": "full_member", "effective_on": "x", "reason": ""},
        follow=True,
    )
    assert "身份变更未保存" in bad.content.decode()
    person.refresh_from_db()
    assert person.status == Status.CANDIDATE


def test_outsider_cannot_touch_school_a(world, client_as):
    client = client_as(world.users.outsider)
    pk = world.people.member.pk
    assert client.get(f"/people/{pk}/").status_code == 404
    assert client.post(f"/people/{pk}/status/", {"to_status": "deceased"}).status_code == 404
    assert client.post(f"/people/{pk}/reveal-id/").status_code == 404
    assert client.get("/orgs/SA/").status_code == 404
    assert client.post("/orgs/SA/edit/", {"name": "x"}).status_code == 404


def test_the_list_shows_the_current_roll_unless_asked_for_everyone(world, client_as):
    from zhibu.people.services import person_change_status

    actor = world.users.branch_secretary
    from zhibu.core.scoping import scope_for

    person_change_status(
        actor=actor,
        scope=scope_for(actor),
        person=world.people.member,
        to_status=Status.TRANSFERRED_OUT,
        effective_on=dt.date.today(),
        reason="调往外区",
    )
    client = client_as(actor)
    assert "张三丰" not in client.get("/people/", HTTP_HX_REQUEST="true").content.decode()
    assert "张三丰" in client.get("/people/", {"status": "all"}, HTTP_HX_REQUEST="true").content.decode()
    assert (
        "张三丰"
        in client.get("/people/", {"status": "transferred_out"}, HTTP_HX_REQUEST="true").content.decode()
    )


def test_the_edit_form_never_shows_the_stored_id_or_phone_and_blank_keeps_them(world, client_as):
    person = world.people.member
    client = client_as(world.users.branch_secretary)
    page = client.get(f"/people/{person.pk}/edit/").content.decode()
    assert person.id_number not in page and person.phone not in page
    assert "138****5678" in page
    data = {
        "name": person.name,
        "gender": person.gender,
        "ethnicity": "汉族",
        "employment": "in_service",
        "org": str(world.sa_b1.pk),
        "birth_date": str(person.birth_date),
        "id_number": "",
        "phone": "",
        "relationship_transferred_in": "on",
    }
    assert client.post(f"/people/{person.pk}/edit/", data).status_code == 302
    person.refresh_from_db()
    assert person.phone == "13812345678" and person.id_number
    data["phone"] = "13900001111"
    assert client.post(f"/people/{person.pk}/edit/", data).status_code == 302
    person.refresh_from_db()
    assert person.phone == "13900001111"
