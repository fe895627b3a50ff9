"""/api/v1/orgs/: list, detail, create and update, each within the caller's scope."""

from __future__ import annotations

from tests.api.conftest import assert_chinese_error, everything, send
from zhibu.core.models import AuditEntry
from zhibu.orgs.models import Organization


def codes(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return [o["code"] for o in response.json()["items"]]


def test_list_holds_the_callers_subtree_in_tree_order(world, client_as):
    response = client_as(world.users.school_secretary).get("/api/v1/orgs/")
    assert codes(response) == ["SA", "SA-B1", "SA-B1-G1", "SA-B1-G2", "SA-B2"]
    first = response.json()["items"][0]
    assert first["kind"] == "committee"
    assert first["kind_label"] == "党委"
    assert first["parent"] == {"code": "WC", "name": "某区教育工委"}


def test_a_school_b_user_gets_nothing_of_school_a(world, client_as):
    client = client_as(world.users.outsider)
    assert codes(client.get("/api/v1/orgs/")) == ["SB-B1"]
    assert_chinese_error(client.get("/api/v1/orgs/SA/"), 404)
    assert_chinese_error(client.get("/api/v1/orgs/SA-B1/"), 404)
    assert_chinese_error(client.get("/api/v1/orgs/?parent=SA"), 400)


def test_a_member_sees_only_their_own_branch(world, client_as):
    assert codes(client_as(world.users.member).get("/api/v1/orgs/")) == ["SA-B1"]


def test_list_filters_by_kind_and_parent(world, client_as):
    client = client_as(world.users.wc_staff)
    assert codes(client.get("/api/v1/orgs/?kind=branch")) == ["SA-B1", "SA-B2", "SB-B1"]
    assert codes(client.get("/api/v1/orgs/?parent=SA")) == ["SA-B1", "SA-B2"]
    assert codes(client.get("/api/v1/orgs/?parent=SA-B1&kind=group")) == ["SA-B1-G1", "SA-B1-G2"]


def test_list_is_paginated_with_a_total(world, client_as):
    response = client_as(world.users.wc_staff).get("/api/v1/orgs/?page=2&page_size=3")
    data = response.json()
    assert (data["count"], data["page"], data["page_size"]) == (8, 2, 3)
    assert [o["code"] for o in data["items"]] == ["SA-B1-G1", "SA-B1-G2", "SA-B2"]
    assert client_as(world.users.wc_staff).get("/api/v1/orgs/?page=9").json()["items"] == []


def test_detail_has_posts_children_and_head_counts(world, client_as):
    response = client_as(world.users.branch_secretary).get("/api/v1/orgs/SA-B1/")
    assert response.status_code == 200
    data = response.json()
    assert data["name"] == "第一党支部"
    assert [(p["role"], p["role_label"], p["person"]["name"]) for p in data["posts"]] == [
        ("secretary", "书记", "李红梅")
    ]
    assert [c["code"] for c in data["children"]] == ["SA-B1-G1", "SA-B1-G2"]
    counts = {c["status"]: (c["status_label"], c["count"]) for c in data["counts"]}
    assert counts == {"full_member": ("正式党员", 3), "activist": ("入党积极分子", 1)}
    assert data["total_active"] == 4


def test_create_under_a_managed_parent(world, client_as):
    response = send(
        client_as(world.users.branch_secretary),
        "post",
        "/api/v1/orgs/",
        {"parent": "SA-B1", "code": "SA-B1-G3", "name": "第三党小组", "kind": "group", "sort_order": 3},
    )
    assert response.status_code == 201, response.content
    assert response.json()["parent"]["code"] == "SA-B1"
    org = Organization.objects.get(code="SA-B1-G3")
    assert org.path == "/WC/SA/SA-B1/SA-B1-G3/"
    assert AuditEntry.objects.filter(
        object_type="orgs.organization", object_id=str(org.pk), action="create"
    ).exists()


def test_create_refuses_a_kind_the_parent_cannot_hold(world, client_as):
    before = everything()
    response = send(
        client_as(world.users.school_secretary),
        "post",
        "/api/v1/orgs/",
        {"parent": "SA-B1", "code": "SA-B1-X", "name": "支部下的支部", "kind": "branch"},
    )
    data = assert_chinese_error(response, 400)
    assert "kind" in data["errors"]
    assert everything() == before


def test_create_refuses_callers_who_do_not_manage_the_parent(world, client_as):
    before = everything()
    body = {"parent": "SA-B1", "code": "SA-B1-G9", "name": "小组", "kind": "group"}
    assert_chinese_error(send(client_as(world.users.member), "post", "/api/v1/orgs/", body), 403)
    # Another school's parent is not even found.
    assert (
        "parent"
        in assert_chinese_error(send(client_as(world.users.outsider), "post", "/api/v1/orgs/", body), 400)[
            "errors"
        ]
    )
    # Only an administrator creates a root.
    root = {"code": "NEW", "name": "新工委", "kind": "work_committee"}
    assert_chinese_error(send(client_as(world.users.wc_staff), "post", "/api/v1/orgs/", root), 403)
    assert everything() == before


def test_update_changes_only_the_fields_sent(world, client_as):
    world.sa_b1.short_name = "一支部"
    world.sa_b1.save()
    response = send(
        client_as(world.users.branch_secretary), "patch", "/api/v1/orgs/SA-B1/", {"name": "高一党支部"}
    )
    assert response.status_code == 200, response.content
    world.sa_b1.refresh_from_db()
    assert (world.sa_b1.name, world.sa_b1.short_name) == ("高一党支部", "一支部")
    assert AuditEntry.objects.filter(action="update", object_id=str(world.sa_b1.pk)).exists()


def test_update_refused_outside_the_callers_management(world, client_as):
    before = everything()
    body = {"name": "改名"}
    assert_chinese_error(send(client_as(world.users.member), "patch", "/api/v1/orgs/SA-B1/", body), 403)
    # The school above her branch lies outside her scope altogether.
    assert_chinese_error(
        send(client_as(world.users.branch_secretary), "patch", "/api/v1/orgs/SA/", body), 404
    )
    assert_chinese_error(send(client_as(world.users.outsider), "patch", "/api/v1/orgs/SA-B1/", body), 404)
    assert everything() == before


def test_update_refuses_code_and_kind(world, client_as):
    before = everything()
    response = send(
        client_as(world.users.branch_secretary),
        "patch",
        "/api/v1/orgs/SA-B1/",
        {"code": "X", "kind": "group"},
    )
    data = assert_chinese_error(response, 422)
    assert set(data["errors"]) == {"code", "kind"}
    assert everything() == before


def test_update_refuses_an_empty_name(world, client_as):
    response = send(client_as(world.users.branch_secretary), "patch", "/api/v1/orgs/SA-B1/", {"name": "  "})
    assert "name" in assert_chinese_error(response, 400)["errors"]
