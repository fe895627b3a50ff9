"""/api/v1/findings/: the latest run's findings of an org, with the same scoping as the pages."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from zhibu.compliance.models import EvaluationRun
from zhibu.compliance.services import evaluation_run

URL = "/api/v1/findings/"


def _evaluate(world, scope_of, org=None) -> EvaluationRun:  # type: ignore[no-untyped-def]
    user = world.users.wc_staff
    return evaluation_run(
        actor=user, scope=scope_of(user), org=org or world.wc, year=2026, today=dt.date(2026, 6, 30)
    )


def _get(client: Any, **params: Any) -> Any:
    return client.get(URL, {"year": 2026, **params})


def test_findings_of_a_branch_come_from_the_latest_run_above_it(world, scope_of, client_as):
    _evaluate(world, scope_of)
    latest = _evaluate(world, scope_of)
    response = _get(client_as(world.users.branch_secretary), org="SA-B1")
    assert response.status_code == 200
    data = response.json()
    assert data["run"]["id"] == latest.pk
    assert data["count"] == len(data["items"]) > 0
    assert {i["org"] for i in data["items"]} <= {"SA-B1", "SA-B1-G1", "SA-B1-G2"}
    item = next(i for i in data["items"] if i["rule"] == "org.secretary_in_post")
    assert item["state"] == "ok" and item["subject"]["label"] == "第一党支部"


def test_filters_by_state_and_rule(world, scope_of, client_as):
    _evaluate(world, scope_of)
    client = client_as(world.users.school_secretary)
    data = _get(client, org="SA", state=["violated", "overdue"]).json()
    assert data["items"] and {i["state"] for i in data["items"]} <= {"violated", "overdue"}
    data = _get(client, org="SA", rule="member.lapse").json()
    assert data["items"] and {i["rule"] for i in data["items"]} == {"member.lapse"}
    bad = _get(client, org="SA", state="nonsense")
    assert bad.status_code == 400 and "未知状态" in bad.json()["detail"]


def test_pagination_like_people(world, scope_of, client_as):
    _evaluate(world, scope_of)
    data = _get(client_as(world.users.wc_staff), org="WC", page_size=2, page=2).json()
    assert data["page"] == 2 and data["page_size"] == 2 and len(data["items"]) == 2
    assert data["count"] > 4


def test_another_schools_org_is_404_and_nothing_of_it_leaks(world, scope_of, client_as):
    _evaluate(world, scope_of)
    client = client_as(world.users.school_secretary)
    assert _get(client, org="SB").status_code == 404
    assert _get(client, org="SB-B1").status_code == 404
    data = _get(client, org="SA", page_size=200).json()
    assert all(not i["org"].startswith("SB") for i in data["items"])
    assert "钱七" not in json.dumps(data, ensure_ascii=False)


def test_a_member_sees_only_findings_about_themselves(world, scope_of, client_as):
    _evaluate(world, scope_of)
    data = _get(client_as(world.users.member), org="SA-B1").json()
    assert data["items"]
    assert {(i["subject"]["type"], i["subject"]["id"]) for i in data["items"]} == {
        ("person", world.people.member.pk)
    }


def test_no_run_yet_gives_an_empty_page(world, client_as):
    data = _get(client_as(world.users.branch_secretary), org="SA-B1").json()
    assert data == {"run": None, "count": 0, "page": 1, "page_size": 50, "items": []}


def test_a_manager_runs_an_evaluation(world, client_as):
    client = client_as(world.users.branch_secretary)
    response = client.post(URL + "runs/", {"org": "SA-B1", "year": 2026}, content_type="application/json")
    assert response.status_code == 201, response.content
    run = EvaluationRun.objects.get()
    assert response.json()["id"] == run.pk and run.root == world.sa_b1
    assert run.triggered_by == world.users.branch_secretary and run.trigger == "manual"


def test_a_member_cannot_run_an_evaluation(world, client_as):
    client = client_as(world.users.member)
    response = client.post(URL + "runs/", {"org": "SA-B1", "year": 2026}, content_type="application/json")
    assert response.status_code == 403
    assert not EvaluationRun.objects.exists()


def test_running_on_another_school_is_refused(world, client_as):
    client = client_as(world.users.school_secretary)
    response = client.post(URL + "runs/", {"org": "SB", "year": 2026}, content_type="application/json")
    assert response.status_code == 400
    assert not EvaluationRun.objects.exists()


def test_anonymous_is_401(world, client):
    assert client.get(URL, {"org": "SA"}).status_code == 401
