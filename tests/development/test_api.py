"""/api/v1/development/: a whole case through the API, refusals that write nothing, scoping, the own case,
the step definitions, plans, and the list in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import assert_chinese_error, send
from tests.development.pipeline import APPLIED_ON, PLAN, applicant, date_of, drive, open_case
from tests.factories import make_person
from zhibu.core.models import AuditEntry
from zhibu.development.models import (
    BranchVote,
    CaseRole,
    DevelopmentCase,
    DevelopmentPlan,
    DevelopmentStep,
    Stage,
    StepDocument,
)
from zhibu.development.services import entitled_voters
from zhibu.people.models import Person, Status, StatusChange

URL = "/api/v1/development"
D = dt.date


@pytest.fixture
def api_as():  # type: ignore[no-untyped-def]
    """api_as(user) → a client without a session that sends a fresh bearer token of that user."""
    from zhibu.accounts.services import api_token_create

    def make(user):  # type: ignore[no-untyped-def]
        _token, raw = api_token_create(actor=user, user=user, name="发展党员集成")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


def written() -> dict[str, int]:
    """Every row a development write could touch."""
    return {
        "cases": DevelopmentCase.objects.count(),
        "steps": DevelopmentStep.objects.count(),
        "roles": CaseRole.objects.count(),
        "votes": BranchVote.objects.count(),
        "plans": DevelopmentPlan.objects.count(),
        "audit": AuditEntry.objects.count(),
        "status_changes": StatusChange.objects.count(),
    }


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content.decode()
    return response.json()


def step_body(
    world: Any, case_person: Person, code: str, day: dt.date, data: dict[str, Any]
) -> dict[str, Any]:
    """The request body of a step of the pipeline's plan, with mentors, sponsors and a passing vote."""
    data = dict(data)
    if data.get("mentors") == "MENTORS":
        data["mentors"] = [world.people.school_secretary.pk]
    if data.get("sponsors") == "SPONSORS":
        data["sponsors"] = [world.people.school_secretary.pk, world.people.branch_secretary.pk]
    body: dict[str, Any] = {"code": code, "done_on": day.isoformat(), "data": data}
    if code in ("reception_vote", "confirmation_vote"):
        n = len(entitled_voters(case_person, day))
        body["vote"] = {"present": n, "in_favour": n, "against": 0, "abstain": 0, "excluded": []}
    return body


def refused(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    data = assert_chinese_error(response, status)
    if field is not None:
        assert field in data["errors"], data
    return data


# The whole pipeline -----------------------------------------------------------------------------------


def test_a_case_runs_from_application_to_archiving_with_a_token(world, api_as):
    api = api_as(world.users.branch_secretary)
    person = applicant(world)
    case = ok(
        send(api, "post", f"{URL}/cases/", {"person_id": person.pk, "applied_on": APPLIED_ON.isoformat()}),
        201,
    )
    assert case["stage"] == "applicant" and case["state"] == "open"
    assert case["next_step"]["code"] == "application_talk"
    assert case["steps"][0]["code"] == "application" and case["steps"][0]["done"]

    for code, day, data in PLAN:
        result = ok(
            send(api, "post", f"{URL}/cases/{case['id']}/steps/", step_body(world, person, code, day, data)),
            201,
        )
        assert result["step"]["code"] == code
        assert result["step"]["done_on"] == day.isoformat()
        assert result["step"]["recorded_by"] == "李红梅"
        if code == "training":
            assert result["case"]["stage"] == "candidate"
        if code in ("reception_vote", "confirmation_vote"):
            assert result["vote"]["passed"] is True, result["vote"]
            assert "通过" in result["vote"]["explanation"]
        if code == "approval":
            assert result["case"]["probation_ends_on"] == "2025-11-10"  # the reception vote + one year
        if code == "confirmation_approval":
            assert result["case"]["state"] == "completed"
            assert result["case"]["next_step"]["code"] == "archiving"

    detail = ok(api.get(f"{URL}/cases/{case['id']}/"))
    assert detail["state"] == "completed" and detail["stage"] == "probation"
    assert detail["next_step"] is None
    assert all(row["done"] for row in detail["steps"] if not row["optional"]), [
        row["code"] for row in detail["steps"] if not row["done"]
    ]
    assert [row["number"] for row in detail["steps"]] == sorted(row["number"] for row in detail["steps"])
    reviews = next(row for row in detail["steps"] if row["code"] == "activist_review")
    assert [r["done_on"] for r in reviews["records"]] == ["2024-03-01", "2024-08-30"]
    assert [m["name"] for m in detail["mentors"]] == ["王建国"]
    assert {s["name"] for s in detail["sponsors"]} == {"王建国", "李红梅"}
    assert [v["purpose"] for v in detail["votes"]] == ["reception", "confirmation"]
    assert {v["name"] for v in detail["votes"][0]["entitled"]} == {"王建国", "李红梅", "张三丰"}
    person.refresh_from_db()
    assert person.status == Status.FULL_MEMBER
    assert person.confirmed_on == D(2025, 11, 10)


def test_a_browser_session_records_a_step_too(world, client_as):
    case = open_case(world, applicant(world))
    client = client_as(world.users.branch_secretary)
    body = {"code": "application_talk", "done_on": "2023-03-20", "data": {"talker": "李红梅"}}
    result = ok(send(client, "post", f"{URL}/cases/{case.pk}/steps/", body), 201)
    assert result["step"]["details"] == {"talker": "李红梅"}
    assert result["case"]["next_step"]["code"] == "activist_designation"


# Refusals write nothing -------------------------------------------------------------------------------


def test_a_step_recorded_too_early_is_refused_at_the_window_the_api_shows(world, api_as):
    api = api_as(world.users.branch_secretary)
    case = drive(world, applicant(world), until="application_talk")
    row = next(
        r for r in ok(api.get(f"{URL}/cases/{case.pk}/"))["steps"] if r["code"] == "activist_designation"
    )
    earliest = D.fromisoformat(row["window"]["earliest"])
    assert earliest == D(2023, 9, 1)  # six months after the application (activist.min_application_age)
    before = written()
    body = {
        "code": "activist_designation",
        "done_on": str(earliest - dt.timedelta(days=1)),
        "data": {"method": "party"},
    }
    data = refused(send(api, "post", f"{URL}/cases/{case.pk}/steps/", body), 400, "done_on")
    assert "过早" in data["detail"] and "2023年9月1日" in data["detail"]
    assert written() == before
    body["done_on"] = earliest.isoformat()
    ok(send(api, "post", f"{URL}/cases/{case.pk}/steps/", body), 201)


def test_a_probationary_sponsor_is_refused(world, api_as):
    api = api_as(world.users.branch_secretary)
    case = drive(world, applicant(world), until="candidate_filing")
    probationer = make_person("周预备", world.sa_b1, status=Status.PROBATIONARY)
    before = written()
    body = {
        "code": "sponsor_assignment",
        "done_on": "2024-09-10",
        "data": {"sponsors": [world.people.school_secretary.pk, probationer.pk]},
    }
    data = refused(send(api, "post", f"{URL}/cases/{case.pk}/steps/", body), 400)
    assert "周预备" in data["detail"] and "预备党员不能作入党介绍人" in data["detail"]
    assert written() == before


def test_a_vote_with_more_present_than_voters_is_refused(world, api_as):
    api = api_as(world.users.branch_secretary)
    person = applicant(world)
    case = drive(world, person, until="application_form")
    voters = len(entitled_voters(person, date_of("reception_vote")))
    before = written()
    body = step_body(world, person, "reception_vote", date_of("reception_vote"), {})
    body["vote"].update(present=voters + 1, in_favour=voters + 1)
    data = refused(send(api, "post", f"{URL}/cases/{case.pk}/steps/", body), 400, "present")
    assert f"多于应到会有表决权的 {voters} 人" in data["detail"]
    assert written() == before


def test_an_exact_half_is_no_quorum_and_no_majority(world, api_as):
    """With four voters, two present is no quorum (refused); two in favour of four is no majority: the vote
    is recorded as not passed, with the reason, and the case does not move."""
    make_person("吴四", world.sa_b1)  # a fourth full member of the branch
    api = api_as(world.users.branch_secretary)
    person = applicant(world)
    case = drive(world, person, until="application_form")
    day = date_of("reception_vote")
    assert len(entitled_voters(person, day)) == 4
    url = f"{URL}/cases/{case.pk}/steps/"
    before = written()
    body = step_body(world, person, "reception_vote", day, {})
    body["vote"].update(present=2, in_favour=2)
    data = refused(send(api, "post", url, body), 400, "present")
    assert "实到会 2 人，恰为" in data["detail"] and "不能进行表决" in data["detail"], data
    assert written() == before

    body["vote"].update(present=4, in_favour=2, against=2)
    result = ok(send(api, "post", url, body), 201)
    assert result["step"]["outcome"] == "not_passed"
    assert result["vote"]["passed"] is False
    assert "恰为应到会 4 人的" in result["vote"]["explanation"] and "未通过" in result["vote"]["explanation"]
    assert result["case"]["stage"] == case.stage == "reception"
    assert result["case"]["next_step"]["code"] == "reception_vote"
    person.refresh_from_db()
    assert person.status == Status.CANDIDATE


def test_an_excluded_voter_leaves_the_base_of_the_vote(world, api_as):
    fourth = make_person("吴四", world.sa_b1)
    api = api_as(world.users.branch_secretary)
    person = applicant(world)
    case = drive(world, person, until="application_form")
    url = f"{URL}/cases/{case.pk}/steps/"
    body = step_body(world, person, "reception_vote", date_of("reception_vote"), {})
    body["vote"].update(present=3, in_favour=2, against=1)
    body["vote"]["excluded"] = [{"person_id": world.people.other.pk, "reason": "外单位人员"}]
    before = written()
    refused(send(api, "post", url, body), 400, "excluded")
    body["vote"]["excluded"] = [{"person_id": fourth.pk, "reason": "外出学习半年以上"}] * 2
    refused(send(api, "post", url, body), 400, "vote.excluded")
    assert written() == before
    body["vote"]["excluded"] = [{"person_id": fourth.pk, "reason": "外出学习半年以上"}]
    vote = ok(send(api, "post", url, body), 201)["vote"]
    assert vote["entitled_count"] == 3 and vote["passed"] is True
    assert vote["excluded"] == [{"id": fourth.pk, "name": "吴四", "reason": "外出学习半年以上"}]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"code": "no_such_step", "done_on": "2023-03-20", "data": {}}, 400, "code"),
        ({"code": "application_talk", "done_on": "2023-02-30", "data": {"talker": "x"}}, 422, "done_on"),
        ({"code": "application_talk", "done_on": "20230320", "data": {"talker": "x"}}, 422, "done_on"),
        ({"code": "application_talk", "done_on": "2099-01-01", "data": {"talker": "x"}}, 400, "done_on"),
        ({"code": "application_talk", "done_on": "2023-03-20", "data": {}}, 400, "talker"),
        ({"code": "application_talk", "done_on": "2023-03-20", "data": {"talker": "a\x00b"}}, 400, None),
        ('{"code": "application_talk", "done_on": "2023-03-20", "data": {"t": ["\\ud800"]}}', 422, "data"),
        ({"code": "application_talk", "done_on": "2023-03-20", "data": [1]}, 422, "data"),
        ({"code": "application_talk", "done_on": "2023-03-20", "extra": 1}, 422, "extra"),
        ({"code": "activist_designation", "done_on": "2023-09-05", "data": {"method": "party"}}, 400, "code"),
        (
            {
                "code": "application_talk",
                "done_on": "2023-03-20",
                "data": {"talker": "x"},
                "vote": {"present": 1, "in_favour": 1},
            },
            400,
            "vote",
        ),
        ("{not json", 400, None),
    ],
)
def test_bad_input_is_refused_in_chinese_and_writes_nothing(world, api_as, body, status, field):
    api = api_as(world.users.branch_secretary)
    case = open_case(world, applicant(world))
    before = written()
    refused(send(api, "post", f"{URL}/cases/{case.pk}/steps/", body), status, field)
    assert written() == before


def test_opening_a_case_is_refused_for_a_member_and_for_someone_too_young(world, api_as):
    young = applicant(world, "钱小小", born=D(2008, 1, 1))
    api = api_as(world.users.branch_secretary)
    before = written()
    data = refused(
        send(api, "post", f"{URL}/cases/", {"person_id": young.pk, "applied_on": "2025-06-01"}),
        400,
        "applied_on",
    )
    assert "未满 18 周岁" in data["detail"]
    refused(
        send(api, "post", f"{URL}/cases/", {"person_id": world.people.member.pk, "applied_on": "2025-06-01"}),
        400,
    )
    refused(
        send(api, "post", f"{URL}/cases/", {"person_id": 999999, "applied_on": "2025-06-01"}),
        400,
        "person_id",
    )
    assert written() == before


# Corrections, discontinuing, plans --------------------------------------------------------------------


def test_a_step_is_corrected_with_a_reason_but_a_fixed_one_is_not(world, api_as):
    api = api_as(world.users.branch_secretary)
    case = drive(world, applicant(world), until="activist_review")
    review = case.steps.get(code="activist_review")
    body = {"reason": "笔误", "data": {"conclusion": "表现突出"}}
    result = ok(send(api, "patch", f"{URL}/steps/{review.pk}/", body))
    assert result["step"]["details"] == {"conclusion": "表现突出"}
    designation = case.steps.get(code="activist_designation")
    before = written()
    refused(
        send(api, "patch", f"{URL}/steps/{designation.pk}/", {"reason": "改日期", "done_on": "2023-09-06"}),
        400,
    )
    refused(send(api, "patch", f"{URL}/steps/{review.pk}/", {"done_on": "2024-03-02"}), 422, "reason")
    assert written() == before


def test_a_case_is_discontinued_with_its_reason(world, api_as):
    api = api_as(world.users.branch_secretary)
    person = applicant(world)
    case = drive(world, person, until="application_talk")
    refused(
        send(api, "post", f"{URL}/cases/{case.pk}/discontinue/", {"on": "2023-03-01", "reason": "x"}),
        400,
        "on",
    )
    result = ok(
        send(
            api, "post", f"{URL}/cases/{case.pk}/discontinue/", {"on": "2024-01-10", "reason": "本人撤回申请"}
        )
    )
    assert result["state"] == "discontinued" and result["next_step"] is None
    person.refresh_from_db()
    assert person.status == Status.DISCONTINUED
    listed = ok(api.get(f"{URL}/cases/?state=discontinued"))
    assert [c["id"] for c in listed["items"]] == [case.pk]
    assert ok(api.get(f"{URL}/cases/?state=open"))["count"] == 0


def test_a_plan_is_set_and_read_by_a_manager_only(world, api_as):
    api, member, outsider = (
        api_as(u) for u in (world.users.branch_secretary, world.users.member, world.users.outsider)
    )
    assert ok(api.get(f"{URL}/plans/SA-B1/2026/"))["saved"] is False
    body = {
        "receive_target": 2,
        "confirm_target": 1,
        "members_among_backbone_target": "60.5",
        "note": "重点培养青年教师",
    }
    plan = ok(send(api, "put", f"{URL}/plans/SA-B1/2026/", body))
    assert plan["saved"] and plan["receive_target"] == 2 and plan["members_among_backbone_target"] == 60.5
    assert ok(api.get(f"{URL}/plans/SA-B1/2026/"))["note"] == "重点培养青年教师"
    before = written()
    refused(send(api, "put", f"{URL}/plans/SA-B1/2026/", {**body, "members_among_backbone_target": 101}), 422)
    refused(send(api, "put", f"{URL}/plans/SA-B1/1999/", body), 400, "year")
    refused(send(member, "put", f"{URL}/plans/SA-B1/2026/", body), 403)
    refused(send(outsider, "put", f"{URL}/plans/SA-B1/2026/", body), 404)
    refused(outsider.get(f"{URL}/plans/SA-B1/2026/"), 404)
    assert written() == before


# The step definitions ---------------------------------------------------------------------------------


def test_the_step_definitions_say_what_to_send(world, api_as):
    api = api_as(world.users.branch_secretary)
    out = ok(api.get(f"{URL}/steps/?org=SA-B1"))
    assert out["org"]["code"] == "SA-B1"
    codes = [s["code"] for s in out["steps"]]
    assert codes[0] == "application" and codes[-1] == "archiving" and len(codes) == 27
    step = {s["code"]: s for s in out["steps"]}
    assert step["activist_designation"]["not_before"] == [
        {"after": "application", "after_label": "递交入党申请书", "duration": "6 个月"}
    ]
    assert step["reception_vote"]["vote"] and not step["training"]["vote"]
    assert set(step["training"]["data_fields"]) == {"started_on", "days", "hours", "provider"}
    assert step["application"]["documents"][0]["code"] == "application_letter"
    assert ok(api.get(f"{URL}/steps/"))["org"] is None
    refused(api.get(f"{URL}/steps/?org=SB-B1"), 400, "org")


def test_a_schools_own_number_reaches_the_definitions_and_the_refusals(world, api_as):
    """School A asks for a year (not six months) between application and activist: the API says so and the
    step recorded at six months is refused."""
    from zhibu.compliance.models import PolicyOverride

    PolicyOverride.objects.create(org=world.sa, key="activist.min_application_age", value={"years": 1})
    api = api_as(world.users.branch_secretary)
    step = next(
        s for s in ok(api.get(f"{URL}/steps/?org=SA-B1"))["steps"] if s["code"] == "activist_designation"
    )
    assert step["not_before"][0]["duration"] == "1 年"
    national = next(s for s in ok(api.get(f"{URL}/steps/"))["steps"] if s["code"] == "activist_designation")
    assert national["not_before"][0]["duration"] == "6 个月"
    case = drive(world, applicant(world), until="application_talk")
    assert ok(api.get(f"{URL}/cases/"))["items"][0]["next_step"]["earliest"] == "2024-03-01"
    body = {"code": "activist_designation", "done_on": "2023-09-05", "data": {"method": "party"}}
    refused(send(api, "post", f"{URL}/cases/{case.pk}/steps/", body), 400, "done_on")


# Scoping ----------------------------------------------------------------------------------------------


def test_school_b_gets_nothing_of_school_a_and_writes_nothing(world, api_as):
    case = drive(world, applicant(world), until="activist_review")
    step = case.steps.get(code="activist_review")
    b = api_as(world.users.outsider)
    before = written()
    refused(b.get(f"{URL}/cases/{case.pk}/"), 404)
    refused(
        send(b, "post", f"{URL}/cases/{case.pk}/steps/", {"code": "thought_report", "done_on": "2024-04-01"}),
        404,
    )
    refused(send(b, "patch", f"{URL}/steps/{step.pk}/", {"reason": "x", "note": "y"}), 404)
    refused(send(b, "post", f"{URL}/cases/{case.pk}/discontinue/", {"on": "2024-05-01", "reason": "x"}), 404)
    refused(send(b, "post", f"{URL}/cases/", {"person_id": case.person_id, "applied_on": "2024-05-01"}), 400)
    assert ok(b.get(f"{URL}/cases/"))["count"] == 0
    refused(b.get(f"{URL}/cases/?org=SA"), 400, "org")
    assert written() == before


def test_the_list_never_shows_school_b(world, api_as):
    ours = drive(world, applicant(world), until="application_talk")
    theirs = open_case(
        world, make_person("郑九", world.sb_b1, status=Status.APPLICANT, birth_date=D(1999, 1, 1))
    )
    for user in (world.users.school_secretary, world.users.branch_secretary):
        listed = ok(api_as(user).get(f"{URL}/cases/?page_size=200"))
        assert [c["id"] for c in listed["items"]] == [ours.pk]
        refused(api_as(user).get(f"{URL}/cases/{theirs.pk}/"), 404)
    assert [c["id"] for c in ok(api_as(world.users.outsider).get(f"{URL}/cases/"))["items"]] == [theirs.pk]
    assert [c["id"] for c in ok(api_as(world.users.wc_staff).get(f"{URL}/cases/"))["items"]] == [
        ours.pk,
        theirs.pk,
    ]
    filtered = ok(api_as(world.users.wc_staff).get(f"{URL}/cases/?org=SB&stage=applicant"))
    assert [c["id"] for c in filtered["items"]] == [theirs.pk]


def test_an_activist_reads_their_own_case_and_nothing_else(world, api_as):
    own = open_case(world, world.people.activist, applied_on=D(2024, 3, 1))
    other = drive(world, applicant(world), until="reception_vote")
    me = api_as(world.users.activist)
    listed = ok(me.get(f"{URL}/cases/"))
    assert [c["id"] for c in listed["items"]] == [own.pk]
    assert listed["items"][0]["person"]["name"] == "曾小单"
    detail = ok(me.get(f"{URL}/cases/{own.pk}/"))
    assert detail["steps"][0]["records"][0]["done_on"] == "2024-03-01"
    refused(me.get(f"{URL}/cases/{other.pk}/"), 404)
    before = written()
    body = {"code": "application_talk", "done_on": "2024-03-10", "data": {"talker": "自己"}}
    refused(send(me, "post", f"{URL}/cases/{own.pk}/steps/", body), 403)
    refused(send(me, "post", f"{URL}/cases/{own.pk}/discontinue/", {"on": "2024-05-01", "reason": "x"}), 403)
    assert written() == before
    # A member who is not the subject sees no one's case, not even by naming the person.
    assert ok(api_as(world.users.member).get(f"{URL}/cases/?person={other.person_id}"))["count"] == 0
    refused(api_as(world.users.member).get(f"{URL}/cases/{own.pk}/"), 404)


def test_the_subject_reads_dates_and_results_but_not_contents_or_voters(world, api_as):
    from zhibu.accounts.models import User

    person = applicant(world)
    case = drive(world, person, until="reception_vote")
    user = User.objects.create_user(username="liuxq", password="correct-horse-9", person=person)
    own = ok(api_as(user).get(f"{URL}/cases/{case.pk}/"))
    vote = own["votes"][0]
    assert vote["passed"] is True and vote["entitled_count"] == 3
    assert vote["entitled"] is None and vote["excluded"] is None
    review = next(r for r in own["steps"] if r["code"] == "political_review")["records"][0]
    assert review["done_on"] == "2024-09-20" and review["outcome"] == "passed"
    assert review["details"] is None and review["note"] is None and review["documents"] is None
    assert "政治历史清楚" not in json.dumps(own, ensure_ascii=False)
    managed = ok(api_as(world.users.branch_secretary).get(f"{URL}/cases/{case.pk}/"))
    assert len(managed["votes"][0]["entitled"]) == 3 and managed["votes"][0]["excluded"] == []
    review = next(r for r in managed["steps"] if r["code"] == "political_review")["records"][0]
    assert review["details"] == {"summary": "政治历史清楚"}


# Queries ----------------------------------------------------------------------------------------------


def _list_queries(api: Client) -> tuple[int, int]:
    api.get(f"{URL}/cases/")  # the token's first use of the minute records when it was used
    with CaptureQueriesContext(connection) as ctx:
        out = ok(api.get(f"{URL}/cases/"))
    assert all(c["next_step"] for c in out["items"])
    return out["count"], len(ctx)


def test_the_list_runs_the_same_queries_for_one_case_and_for_five(world, api_as):
    from tests.factories import make_org
    from zhibu.orgs.models import OrgKind

    api = api_as(world.users.school_secretary)
    drive(world, applicant(world, "甲一"), until="mentor_assignment")
    one = _list_queries(api)
    assert one[0] == 1
    other_branch = world.sa_b2
    drive(world, applicant(world, "乙二"), until="application_talk")
    drive(world, applicant(world, "丙三"), until="political_review")
    open_case(world, make_person("丁四", other_branch, status=Status.APPLICANT, birth_date=D(1999, 2, 2)))
    new_branch = make_org("SA-X1", "新建党支部", OrgKind.BRANCH, world.sa)
    open_case(world, make_person("戊五", new_branch, status=Status.APPLICANT, birth_date=D(1999, 3, 3)))
    five = _list_queries(api)
    assert five[0] == 5
    assert five[1] == one[1], (one, five)


def test_the_json_is_what_the_openapi_document_says(world, api_as):
    schema = json.loads(api_as(world.users.branch_secretary).get("/api/v1/openapi.json").content)
    paths = [p for p in schema["paths"] if p.startswith("/api/v1/development/")]
    assert "/api/v1/development/cases/{case_id}/steps/" in paths
    assert "/api/v1/development/plans/{code}/{year}/" in paths
    assert Stage.CANDIDATE in schema["components"]["schemas"]["Stage"]["enum"]


# Documents ----------------------------------------------------------------------------------------------


def test_documents_are_uploaded_downloaded_and_withdrawn_through_the_api(world, api_as):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = open_case(world, applicant(world))
    application = case.steps.get(code="application")
    api = api_as(world.users.branch_secretary)
    before = written()
    bad = api.post(
        f"{URL}/steps/{application.pk}/documents/",
        {"kind": "application_letter", "file": SimpleUploadedFile("a.exe", b"MZ\x90\x00")},
    )
    refused(bad, 400, "documents")
    assert written() == before and not StepDocument.objects.exists()
    pdf = SimpleUploadedFile("入党申请书.pdf", b"%PDF-1.4 application")
    doc = ok(
        api.post(f"{URL}/steps/{application.pk}/documents/", {"kind": "application_letter", "file": pdf}), 201
    )
    assert doc["title"] == "入党申请书.pdf" and doc["content_type"] == "application/pdf" and doc["size"] == 20
    got = api.get(f"{URL}/documents/{doc['id']}/")
    assert got.status_code == 200 and b"".join(got.streaming_content) == b"%PDF-1.4 application"
    assert "attachment" in got["Content-Disposition"]
    assert AuditEntry.objects.filter(action="export", object_type="development.stepdocument").count() == 1
    # Another school does not get the file.
    assert api_as(world.users.outsider).get(f"{URL}/documents/{doc['id']}/").status_code == 404
    refused(send(api, "post", f"{URL}/documents/{doc['id']}/withdraw/", {"reason": ""}), 400, "reason")
    done = ok(send(api, "post", f"{URL}/documents/{doc['id']}/withdraw/", {"reason": "传错了文件"}))
    assert done["withdrawn_reason"] == "传错了文件" and done["withdrawn_at"]
    assert StepDocument.objects.get(pk=doc["id"]).file  # kept as evidence
