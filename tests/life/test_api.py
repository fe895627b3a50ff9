"""/api/v1/life/: a meeting's whole way through the API with tokens, refusals that write nothing, secret
ballots that never pair a person with a choice, scoping between schools, the year's plan, and the list in a
fixed number of queries."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.api.conftest import assert_chinese_error, send
from tests.factories import make_person, make_user
from zhibu.core.calendar import WorkdayCalendar
from zhibu.core.models import AuditEntry
from zhibu.core.scoping import scope_for
from zhibu.life import services as life_services
from zhibu.life.models import (
    Attendance,
    Ballot,
    BallotReceipt,
    Criticism,
    Meeting,
    MeetingAttachment,
    MeetingState,
    Rectification,
    Talk,
    Vote,
    VoteCast,
    VoteChoice,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/life"
TITLE = "关于调整支部委员分工的决定"


@pytest.fixture
def api_as():  # type: ignore[no-untyped-def]
    """api_as(user) → a client without a session that sends a fresh bearer token of that user."""
    from zhibu.accounts.services import api_token_create

    def make(user):  # type: ignore[no-untyped-def]
        _token, raw = api_token_create(actor=user, user=user, name="组织生活集成")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


@pytest.fixture
def branch(world: Any, api_as: Any) -> SimpleNamespace:
    """The first branch with five full members who may vote, each with a token: the secretary, the school
    secretary, the member, and two more (周思远 will ask leave, 吴晓东 will come)."""
    fourth = make_person("周思远", world.sa_b1)
    fifth = make_person("吴晓东", world.sa_b1)
    u4, u5 = make_user("fourth", fourth), make_user("fifth", fifth)
    return SimpleNamespace(
        secretary=api_as(world.users.branch_secretary),
        school=api_as(world.users.school_secretary),
        member=api_as(world.users.member),
        fourth=api_as(u4),
        fifth=api_as(u5),
        activist=api_as(world.users.activist),
        outsider=api_as(world.users.outsider),
        people=SimpleNamespace(fourth=fourth, fifth=fifth),
    )


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content.decode()
    return response.json()


def written() -> tuple[Any, ...]:
    """Everything a write of organisational life could touch."""
    return (
        list(
            Meeting.objects.order_by("pk").values_list(
                "state", "starts_at", "notice_published_at", "minutes", "held_at", "title"
            )
        ),
        list(Attendance.objects.order_by("pk").values_list("state", "leave_state", "checked_in_at")),
        list(Vote.objects.order_by("pk").values_list("state", "in_favour", "against", "abstain")),
        Ballot.objects.count(),
        BallotReceipt.objects.count(),
        VoteCast.objects.count(),
        Talk.objects.count(),
        list(MeetingAttachment.objects.order_by("pk").values_list("title", "withdrawn_at")),
        Criticism.objects.count(),
        list(Rectification.objects.order_by("pk").values_list("done_on", "evidence")),
        AuditEntry.objects.count(),
    )


def refused(response: Any, status: int, words: str, before: tuple[Any, ...]) -> dict[str, Any]:
    data = assert_chinese_error(response, status)
    assert words in data["detail"], data
    assert written() == before, "a refusal must write nothing"
    return data


def soon(minutes: int) -> str:
    return (timezone.localtime() + dt.timedelta(minutes=minutes)).replace(microsecond=0).isoformat()


def create(client: Client, **kw: Any) -> dict[str, Any]:
    body = {
        "org": "SA-B1",
        "kind": "general_assembly",
        "title": "第四季度支部党员大会",
        "starts_at": soon(30),
    }
    return ok(send(client, "post", f"{URL}/meetings/", {**body, **kw}), 201)


def time_passes_to_the_start(meeting_id: int, minutes: int = 5) -> None:
    """The meeting began `minutes` ago: its times move back, as though the clock had moved on (the
    services read the real clock; nothing else about the meeting changes)."""
    meeting = Meeting.objects.get(pk=meeting_id)
    shift = meeting.starts_at - (timezone.now() - dt.timedelta(minutes=minutes))
    Meeting.objects.filter(pk=meeting_id).update(
        starts_at=meeting.starts_at - shift,
        notice_published_at=meeting.notice_published_at - shift if meeting.notice_published_at else None,
    )
    for row in Attendance.objects.filter(meeting_id=meeting_id, checked_in_at__isnull=False):
        Attendance.objects.filter(pk=row.pk).update(checked_in_at=row.checked_in_at - shift)


def token_of(meeting_id: int) -> str:
    return Meeting.objects.get(pk=meeting_id).check_in_token


def row_of(detail: dict[str, Any], name: str) -> dict[str, Any]:
    return next(a for a in detail["attendances"] if a["person"]["name"] == name)


# The whole way ----------------------------------------------------------------------------------------


def test_a_meeting_is_arranged_held_voted_and_recorded_through_the_api(world, branch):
    api = branch.secretary
    meeting = create(api, place="三楼会议室", topics="调整支部委员分工")
    mid = meeting["id"]
    assert meeting["state"] == "planned" and meeting["notice_published_at"] is None
    assert {a["person"]["name"] for a in meeting["attendances"]} == {
        "王建国",
        "李红梅",
        "张三丰",
        "周思远",
        "吴晓东",
    }
    assert all(a["may_vote"] and a["state"] == "expected" for a in meeting["attendances"])
    assert meeting["quorum"]["applies"] and meeting["quorum"]["entitled"] == 5
    assert meeting["check_in_url"].endswith(f"/life/c/{token_of(mid)}/")

    published = ok(send(api, "post", f"{URL}/meetings/{mid}/publish/"))
    assert published["notice_published_at"] is not None

    # 周思远 asks leave from their phone and the secretary approves it.
    own = ok(send(branch.fourth, "post", f"{URL}/meetings/{mid}/leave/", {"reason": "外出参加教研活动"}))
    assert own["leave_state"] == "requested" and own["person"]["name"] == "周思远"
    decided = ok(send(api, "post", f"{URL}/attendances/{own['id']}/leave-decision/", {"approve": True}))
    assert decided["leave_state"] == "approved" and decided["state"] == "excused"

    # Check-in opens before the start: members scan the code in the room.
    token = token_of(mid)
    for client, name in ((branch.member, "张三丰"), (api, "李红梅"), (branch.fifth, "吴晓东")):
        done = ok(send(client, "post", f"{URL}/check-in/", {"token": token}))
        assert (
            done["already"] is False and name in done["message"] and done["attendance"]["state"] == "present"
        )
    again = ok(send(branch.member, "post", f"{URL}/check-in/", {"token": token}))
    assert again["already"] is True and "无需重复签到" in again["message"]

    # The member sees the meeting with their own row only, and never the check-in code.
    mine = ok(branch.member.get(f"{URL}/meetings/{mid}/"))
    assert [a["person"]["name"] for a in mine["attendances"]] == ["张三丰"]
    assert mine["my_attendance"]["state"] == "present" and mine["check_in_url"] is None
    assert token not in json.dumps(mine) and not mine["can_manage"]

    time_passes_to_the_start(mid)
    marked = ok(
        send(
            api,
            "post",
            f"{URL}/meetings/{mid}/attendance/",
            {"states": {world.people.school_secretary.pk: "present"}},
        )
    )
    assert row_of(marked, "王建国")["check_in_method"] == "secretary"
    assert marked["quorum"]["present"] == 4 and marked["quorum"]["met"], marked["quorum"]

    vote = ok(send(api, "post", f"{URL}/meetings/{mid}/votes/", {"title": TITLE, "secret": True}), 201)
    assert vote["entitled_count"] == 5 and vote["present_count"] == 4 and vote["state"] == "open"
    for client, choice in (
        (branch.member, "in_favour"),
        (api, "in_favour"),
        (branch.school, "in_favour"),
        (branch.fifth, "against"),
    ):
        cast = ok(send(client, "post", f"{URL}/votes/{vote['id']}/ballot/", {"choice": choice}))
        assert cast["vote"]["in_favour"] is None, "a secret vote shows no counts while it is open"
        assert cast["vote"]["mine"] == {"may_vote": False, "has_voted": True, "reason": "您已投票"}
    closed = ok(send(api, "post", f"{URL}/votes/{vote['id']}/close/", {}))
    assert (closed["in_favour"], closed["against"], closed["abstain"]) == (3, 1, 0)
    assert closed["passed"] is True and closed["state"] == "closed"
    assert closed["voted"] == ["李红梅", "王建国", "吴晓东", "张三丰"], "in the order of the roll"
    assert closed["not_voted"] == ["周思远"] and closed["choices"] is None

    minutes = ok(
        send(
            api,
            "post",
            f"{URL}/meetings/{mid}/minutes/",
            {
                "topics": ["调整支部委员分工"],
                "speakers": [
                    {"person_id": world.people.branch_secretary.pk, "summary": "说明分工调整的理由"}
                ],
                "resolutions": [],
                "chair_id": world.people.branch_secretary.pk,
                "recorder_id": world.people.member.pk,
            },
        )
    )
    assert minutes["minutes"]["topics"] == ["调整支部委员分工"]
    assert minutes["minutes"]["speakers"][0]["name"] == "李红梅"
    assert minutes["hold_missing"] == []

    held = ok(send(api, "post", f"{URL}/meetings/{mid}/hold/"))
    assert held["state"] == "held" and held["held_at"] is not None
    assert held["votes"][0]["passed"] is True
    listed = ok(api.get(f"{URL}/meetings/", {"year": timezone.localdate().year, "state": "held"}))
    assert [(m["id"], m["invited"], m["present"]) for m in listed["items"]] == [(mid, 5, 4)]


def test_a_branchs_year_is_planned_held_checked_in_voted_and_printed_through_the_api(world, branch):
    """The issue's whole way: the year's plan, one planned assembly held with check-in, a vote, minutes and
    a photo of the sign-in sheet, then its record and the year's ledger downloaded — all through the API."""
    import io

    from openpyxl import load_workbook

    year = _known_year()
    api = branch.secretary
    applied = ok(send(api, "post", f"{URL}/plan/apply/", {"org": "SA-B1", "year": year, "all": True}))
    assemblies = [
        m for m in applied["created"] if m["kind"] == "general_assembly" and m["org"]["code"] == "SA-B1"
    ]
    assert assemblies and all(m["from_plan"] for m in applied["created"])
    mid = assemblies[-1]["id"]
    # The branch holds the plan's last assembly today: its notice moves to half an hour from now.
    moved = ok(send(api, "patch", f"{URL}/meetings/{mid}/", {"starts_at": soon(30), "place": "三楼会议室"}))
    assert moved["from_plan"] and moved["place"] == "三楼会议室"
    ok(send(api, "post", f"{URL}/meetings/{mid}/publish/"))

    token = token_of(mid)
    for client in (branch.member, api, branch.fifth, branch.school):
        assert (
            ok(send(client, "post", f"{URL}/check-in/", {"token": token}))["attendance"]["state"] == "present"
        )
    time_passes_to_the_start(mid)
    marked = ok(
        send(
            api, "post", f"{URL}/meetings/{mid}/attendance/", {"states": {branch.people.fourth.pk: "absent"}}
        )
    )
    assert marked["quorum"]["met"] and marked["hold_missing"] == ["会议记录尚未填写议题"]

    vote = ok(send(api, "post", f"{URL}/meetings/{mid}/votes/", {"title": TITLE, "secret": True}), 201)
    for client in (branch.member, api, branch.fifth, branch.school):
        ok(send(client, "post", f"{URL}/votes/{vote['id']}/ballot/", {"choice": "in_favour"}))
    closed = ok(send(api, "post", f"{URL}/votes/{vote['id']}/close/", {}))
    assert closed["passed"] is True and closed["in_favour"] == 4

    minutes = {
        "topics": ["调整支部委员分工"],
        "speakers": [{"person_id": world.people.branch_secretary.pk, "summary": "说明分工调整的理由"}],
        "resolutions": ["通过支部委员分工调整方案"],
        "chair_id": world.people.branch_secretary.pk,
        "recorder_id": world.people.member.pk,
    }
    recorded = ok(send(api, "post", f"{URL}/meetings/{mid}/minutes/", minutes))
    assert recorded["minutes"]["topics"] == ["调整支部委员分工"]
    photo = ok(upload(api, mid, PNG, "签到表.png", title="会议签到表"), 201)
    held = ok(send(api, "post", f"{URL}/meetings/{mid}/hold/"))
    assert held["state"] == "held" and [a["title"] for a in held["attachments"]] == ["会议签到表"]
    assert body_of(api.get(photo["download_url"])) == PNG

    docx = api.get(f"{URL}/meetings/{mid}/minutes.docx")
    assert docx.status_code == 200, docx.content[:300]
    with zipfile.ZipFile(io.BytesIO(docx.content)) as zf:
        text = zf.read("word/document.xml").decode()
    assert "调整支部委员分工" in text and "通过支部委员分工调整方案" in text
    ledger = api.get(f"{URL}/ledger.xlsx", {"org": "SA-B1", "year": year})
    assert ledger.status_code == 200, ledger.content[:300]
    cells = {
        str(c.value)
        for ws in load_workbook(io.BytesIO(ledger.content)).worksheets
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    }
    assert any(held["title"] in c for c in cells), "the ledger lists the meeting held"


def test_minutes_saved_over_a_vote_result_added_since_they_were_read_are_refused(world, branch):
    api = branch.secretary
    mid = create(api)["id"]
    for client in (api, branch.member, branch.fifth):
        ok(send(client, "post", f"{URL}/check-in/", {"token": token_of(mid)}))
    time_passes_to_the_start(mid)
    body = {
        "topics": ["调整支部委员分工"],
        "chair_id": world.people.branch_secretary.pk,
        "recorder_id": world.people.member.pk,
    }
    read = ok(api.get(f"{URL}/meetings/{mid}/"))["minutes_fingerprint"]
    saved = ok(send(api, "post", f"{URL}/meetings/{mid}/minutes/", {**body, "seen": read}))
    assert saved["minutes_fingerprint"] != read, "the fingerprint follows the minutes"
    form = saved["minutes_fingerprint"]

    # Closing a vote adds its result to the resolutions after the secretary's form was read.
    vid = ok(send(api, "post", f"{URL}/meetings/{mid}/votes/", {"title": TITLE}), 201)["id"]
    for client in (api, branch.member, branch.fifth):
        ok(send(client, "post", f"{URL}/votes/{vid}/ballot/", {"choice": "in_favour"}))
    ok(send(api, "post", f"{URL}/votes/{vid}/close/", {}))
    now = ok(api.get(f"{URL}/meetings/{mid}/"))
    assert now["minutes"]["resolutions"] and now["minutes_fingerprint"] != form

    stale = {**body, "resolutions": ["手写的决议"], "seen": form}
    refused(send(api, "post", f"{URL}/meetings/{mid}/minutes/", stale), 400, "已有更新", written())
    fresh = {
        **stale,
        "resolutions": [*now["minutes"]["resolutions"], "手写的决议"],
        "seen": now["minutes_fingerprint"],
    }
    again = ok(send(api, "post", f"{URL}/meetings/{mid}/minutes/", fresh))
    assert again["minutes"]["resolutions"][-1] == "手写的决议"


def test_the_member_sees_their_next_meetings_and_open_ballots(world, branch):
    mid = create(branch.secretary)["id"]
    ok(send(branch.member, "post", f"{URL}/check-in/", {"token": token_of(mid)}))
    ok(send(branch.secretary, "post", f"{URL}/check-in/", {"token": token_of(mid)}))
    ok(send(branch.fifth, "post", f"{URL}/check-in/", {"token": token_of(mid)}))
    time_passes_to_the_start(mid, minutes=1)
    vote = ok(send(branch.secretary, "post", f"{URL}/meetings/{mid}/votes/", {"title": TITLE}), 201)

    mine = ok(branch.member.get(f"{URL}/me/meetings/"))
    assert mine["person"]["name"] == "张三丰"
    assert [(m["meeting"]["id"], m["attendance"]["state"]) for m in mine["meetings"]] == [(mid, "present")]
    assert mine["open_votes"] == [
        {
            "id": vote["id"],
            "title": TITLE,
            "secret": True,
            "meeting_id": mid,
            "meeting_title": "第四季度支部党员大会",
            "mine": {"may_vote": True, "has_voted": False, "reason": ""},
        }
    ]
    # 周思远 did not check in: the phone says why they cannot vote yet.
    theirs = ok(branch.fourth.get(f"{URL}/me/meetings/"))
    assert theirs["open_votes"][0]["mine"] == {"may_vote": False, "has_voted": False, "reason": "请先签到"}
    # The activist is not invited to the assembly.
    assert ok(branch.activist.get(f"{URL}/me/meetings/"))["meetings"] == []


# Refusals write nothing -------------------------------------------------------------------------------


def test_check_in_is_refused_outside_the_window_and_to_those_not_invited(world, branch):
    later = create(branch.secretary, starts_at=soon(3 * 24 * 60))["id"]
    before = written()
    refused(
        send(branch.member, "post", f"{URL}/check-in/", {"token": token_of(later)}),
        400,
        "签到尚未开始",
        before,
    )
    now = create(branch.secretary, title="支部党员大会（补）", starts_at=soon(20))["id"]
    before = written()
    refused(send(branch.activist, "post", f"{URL}/check-in/", {"token": token_of(now)}), 403, "不在", before)
    refused(send(branch.outsider, "post", f"{URL}/check-in/", {"token": token_of(now)}), 403, "不在", before)
    data = refused(
        send(branch.member, "post", f"{URL}/check-in/", {"token": "x" * 32}), 400, "签到码无效", before
    )
    assert "token" in data["errors"]


def test_a_second_ballot_minutes_before_the_start_and_counts_beyond_the_voters_are_refused(world, branch):
    mid = create(branch.secretary)["id"]
    before = written()
    refused(
        send(
            branch.secretary,
            "post",
            f"{URL}/meetings/{mid}/minutes/",
            {
                "topics": ["议题"],
                "chair_id": world.people.branch_secretary.pk,
                "recorder_id": world.people.member.pk,
            },
        ),
        400,
        "尚未召开",
        before,
    )
    for client in (branch.member, branch.secretary, branch.fifth):
        ok(send(client, "post", f"{URL}/check-in/", {"token": token_of(mid)}))
    time_passes_to_the_start(mid)
    secret = ok(send(branch.secretary, "post", f"{URL}/meetings/{mid}/votes/", {"title": TITLE}), 201)
    ok(send(branch.member, "post", f"{URL}/votes/{secret['id']}/ballot/", {"choice": "in_favour"}))
    before = written()
    refused(
        send(branch.member, "post", f"{URL}/votes/{secret['id']}/ballot/", {"choice": "against"}),
        400,
        "已投过票",
        before,
    )
    paper = ok(
        send(branch.secretary, "post", f"{URL}/meetings/{mid}/votes/", {"title": "关于推荐优秀党员的决定"}),
        201,
    )
    before = written()
    data = refused(
        send(
            branch.secretary,
            "post",
            f"{URL}/votes/{paper['id']}/counts/",
            {"in_favour": 3, "against": 1, "abstain": 0},
        ),
        400,
        "多于实到会有表决权的 3 人",
        before,
    )
    assert "in_favour" in data["errors"]
    # A member may not count, close or open votes.
    refused(send(branch.member, "post", f"{URL}/votes/{paper['id']}/close/", {}), 403, "无权", before)
    refused(
        send(branch.member, "post", f"{URL}/meetings/{mid}/votes/", {"title": TITLE}), 403, "无权", before
    )


def test_a_member_cannot_manage_a_meeting_they_are_invited_to(world, branch):
    mid = create(branch.secretary)["id"]
    before = written()
    refused(send(branch.member, "post", f"{URL}/meetings/{mid}/publish/"), 403, "无权管理", before)
    refused(
        send(branch.member, "patch", f"{URL}/meetings/{mid}/", {"title": "改名"}), 403, "无权管理", before
    )
    refused(
        send(branch.member, "post", f"{URL}/meetings/{mid}/cancel/", {"reason": "不开了"}),
        403,
        "无权管理",
        before,
    )
    refused(
        send(
            branch.member,
            "post",
            f"{URL}/meetings/",
            {"org": "SA-B1", "kind": "general_assembly", "title": "x", "starts_at": soon(60)},
        ),
        403,
        "无权管理",
        before,
    )


def test_the_notice_is_changed_and_the_meeting_cancelled(world, branch):
    mid = create(branch.secretary)["id"]
    changed = ok(
        send(branch.secretary, "patch", f"{URL}/meetings/{mid}/", {"place": "图书馆", "kind": "theme_day"})
    )
    assert changed["place"] == "图书馆" and changed["kind"] == "theme_day"
    before = written()
    data = refused(
        send(branch.secretary, "patch", f"{URL}/meetings/{mid}/", {"title": None}),
        400,
        "会议名称不能为空",
        before,
    )
    assert "title" in data["errors"]
    refused(
        send(branch.secretary, "patch", f"{URL}/meetings/{mid}/", {"starts_at": 1700000000}),
        422,
        "时间格式",
        before,
    )
    cancelled = ok(
        send(branch.secretary, "post", f"{URL}/meetings/{mid}/cancel/", {"reason": "与期中考试冲突"})
    )
    assert cancelled["state"] == "cancelled" and cancelled["cancelled_reason"] == "与期中考试冲突"


# Secret ballots ---------------------------------------------------------------------------------------


def _pairs_a_person_with_a_choice(data: Any, names: set[str]) -> list[Any]:
    """Every place in a JSON document that ties a person to a choice: an object naming both, a list of
    a name and a choice, or a text holding both."""
    choice_words = set(VoteChoice.values) | {str(c.label) for c in VoteChoice}
    person_keys = {"person", "person_id", "name", "voter", "voter_id"}
    found: list[Any] = []

    def mentions_choice(value: Any) -> bool:
        return isinstance(value, str) and value in choice_words

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            has_person = bool(person_keys & set(node)) or any(
                v in names for v in node.values() if isinstance(v, str)
            )
            has_choice = (
                "choice" in node or "choice_label" in node or any(mentions_choice(v) for v in node.values())
            )
            if has_person and has_choice:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            if any(isinstance(v, str) and v in names for v in node) and any(mentions_choice(v) for v in node):
                found.append(node)
            for value in node:
                walk(value)
        elif isinstance(node, str):
            if any(n in node for n in names) and any(w in node for w in choice_words):
                found.append(node)

    walk(data)
    return found


def test_no_vote_endpoint_ever_pairs_a_person_with_a_secret_choice(world, branch):
    api = branch.secretary
    mid = create(api)["id"]
    for client in (branch.member, api, branch.fifth, branch.school):
        ok(send(client, "post", f"{URL}/check-in/", {"token": token_of(mid)}))
    time_passes_to_the_start(mid)
    vote = ok(send(api, "post", f"{URL}/meetings/{mid}/votes/", {"title": "关于表彰优秀共产党员的决定"}), 201)
    vid = vote["id"]
    names = {"王建国", "李红梅", "张三丰", "周思远", "吴晓东"}
    documents = [vote]
    for client, choice in (
        (branch.member, "in_favour"),
        (api, "against"),
        (branch.fifth, "abstain"),
        (branch.school, "in_favour"),
    ):
        documents.append(ok(send(client, "post", f"{URL}/votes/{vid}/ballot/", {"choice": choice})))
        for reader in (api, branch.member, branch.school):
            documents.append(ok(reader.get(f"{URL}/votes/{vid}/")))
    closed = ok(send(api, "post", f"{URL}/votes/{vid}/close/", {}))
    documents.append(closed)
    for reader in (api, branch.member, branch.fourth):
        documents.append(ok(reader.get(f"{URL}/votes/{vid}/")))
        documents.append(ok(reader.get(f"{URL}/meetings/{mid}/")))
        documents.append(ok(reader.get(f"{URL}/me/meetings/")))
    assert (closed["in_favour"], closed["against"], closed["abstain"]) == (2, 1, 1)
    assert set(closed["voted"]) == names - {"周思远"}
    for doc in documents:
        assert not _pairs_a_person_with_a_choice(doc, names), json.dumps(doc, ensure_ascii=False)[:2000]
    for doc in documents:  # the vote itself, and the votes inside a meeting's detail
        for shown in [doc, *doc.get("votes", [])]:
            assert shown.get("choices") is None


def test_the_scan_finds_the_pairs_of_an_open_vote(world, branch):
    """The scanner above is not blind: an open (记名) vote lists each person's choice, and it sees them."""
    api = branch.secretary
    mid = create(api)["id"]
    for client in (branch.member, api, branch.fifth):
        ok(send(client, "post", f"{URL}/check-in/", {"token": token_of(mid)}))
    time_passes_to_the_start(mid)
    vote = ok(send(api, "post", f"{URL}/meetings/{mid}/votes/", {"title": TITLE, "secret": False}), 201)
    ok(send(branch.member, "post", f"{URL}/votes/{vote['id']}/ballot/", {"choice": "in_favour"}))
    shown = ok(api.get(f"{URL}/votes/{vote['id']}/"))
    assert shown["choices"] == [{"name": "张三丰", "choice_label": "赞成"}]
    assert _pairs_a_person_with_a_choice(shown, {"张三丰"})


# Scoping ----------------------------------------------------------------------------------------------


def test_school_b_gets_404_on_a_meeting_of_school_a_and_lists_keep_to_their_school(world, branch):
    a = create(branch.secretary)
    b = create(branch.outsider, org="SB-B1", title="第二小学支部党员大会")
    aid = a["id"]
    for client in (branch.secretary, branch.school):
        ids = [m["id"] for m in ok(client.get(f"{URL}/meetings/"))["items"]]
        assert aid in ids and b["id"] not in ids
    assert [m["id"] for m in ok(branch.outsider.get(f"{URL}/meetings/"))["items"]] == [b["id"]]
    before = written()
    outsider = branch.outsider
    for method, path, body in (
        ("get", f"/meetings/{aid}/", None),
        ("patch", f"/meetings/{aid}/", {"title": "改名"}),
        ("post", f"/meetings/{aid}/publish/", None),
        ("post", f"/meetings/{aid}/cancel/", {"reason": "x"}),
        ("post", f"/meetings/{aid}/attendance/", {"states": {}}),
        ("post", f"/meetings/{aid}/minutes/", {"topics": ["x"]}),
        ("post", f"/meetings/{aid}/hold/", None),
        ("post", f"/meetings/{aid}/leave/", {"reason": "x"}),
        ("post", f"/meetings/{aid}/votes/", {"title": "x"}),
        ("post", f"/attendances/{a['attendances'][0]['id']}/leave-decision/", {"approve": True}),
    ):
        refused(send(outsider, method, f"{URL}{path}", body), 404, "不存在", before)
    refused(outsider.get(f"{URL}/meetings/", {"org": "SA-B1"}), 400, "不存在", before)
    refused(outsider.get(f"{URL}/plan/", {"org": "SA-B1", "year": 2026}), 400, "不存在", before)


def test_a_member_lists_only_the_meetings_they_are_invited_to(world, branch):
    assembly = create(branch.secretary)["id"]
    group = create(branch.secretary, org="SA-B1-G1", kind="group_meeting", title="第一党小组会")["id"]
    create(branch.school, org="SA-B2", title="第二党支部党员大会")
    listed = ok(branch.member.get(f"{URL}/meetings/"))["items"]
    assert [m["id"] for m in listed] == [assembly, group]
    assert {m["my_state"] for m in listed} == {"expected"}
    # The school secretary, who manages the school, sees all three; the branch secretary their branch's.
    assert ok(branch.school.get(f"{URL}/meetings/", {"org": "SA"}))["count"] == 3
    assert ok(branch.secretary.get(f"{URL}/meetings/", {"kind": "group_meeting"}))["count"] == 1


def test_the_list_runs_the_same_queries_for_one_meeting_and_for_five(world, branch):
    api = branch.secretary

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            ok(api.get(f"{URL}/meetings/"))
        return len(ctx.captured_queries)

    create(api)
    one = queries()
    for i in range(4):
        create(api, title=f"支部党员大会（{i}）", starts_at=soon(60 * (i + 2)))
    assert ok(api.get(f"{URL}/meetings/"))["count"] == 5
    assert queries() == one


# The year's plan --------------------------------------------------------------------------------------


def _known_year() -> int:
    today = timezone.localdate()
    year = today.year
    if WorkdayCalendar.load([year]).year_is_estimated(year):
        pytest.skip(f"the calendar does not know {year}")
    return year


def test_the_plan_is_proposed_and_applied_once(world, branch):
    year = _known_year()
    proposal = ok(branch.secretary.get(f"{URL}/plan/", {"org": "SA-B1", "year": year}))
    kinds = {i["kind"] for i in proposal["items"]}
    assert "general_assembly" in kinds and "group_meeting" in kinds
    assert all(i["reason"] for i in proposal["items"])
    assemblies = [i for i in proposal["items"] if i["kind"] == "general_assembly"]
    keep = [{"kind": i["kind"], "org": i["org"]["code"], "date": i["date"]} for i in assemblies]
    result = ok(
        send(branch.secretary, "post", f"{URL}/plan/apply/", {"org": "SA-B1", "year": year, "items": keep})
    )
    assert len(result["created"]) == len(keep) and all(m["from_plan"] for m in result["created"])
    assert "已按年度计划安排" in result["message"]
    again = ok(
        send(branch.secretary, "post", f"{URL}/plan/apply/", {"org": "SA-B1", "year": year, "items": keep})
    )
    assert again["created"] == [] and len(again["skipped"]) == len(keep)

    before = written()
    odd = {"kind": "general_assembly", "org": "SA-B1", "date": f"{year}-01-01"}
    data = refused(
        send(branch.secretary, "post", f"{URL}/plan/apply/", {"org": "SA-B1", "year": year, "items": [odd]}),
        400,
        "不在",
        before,
    )
    assert "items" in data["errors"]
    refused(
        send(branch.secretary, "post", f"{URL}/plan/apply/", {"org": "SA-B1", "year": year}),
        400,
        "二者选一",
        before,
    )
    refused(
        send(branch.member, "post", f"{URL}/plan/apply/", {"org": "SA-B1", "year": year, "all": True}),
        403,
        "不能管理",
        before,
    )


def test_votes_are_not_found_for_school_b(world, branch):
    api = branch.secretary
    mid = create(api)["id"]
    ok(send(api, "post", f"{URL}/check-in/", {"token": token_of(mid)}))
    ok(send(branch.member, "post", f"{URL}/check-in/", {"token": token_of(mid)}))
    ok(send(branch.fifth, "post", f"{URL}/check-in/", {"token": token_of(mid)}))
    time_passes_to_the_start(mid)
    vid = ok(send(api, "post", f"{URL}/meetings/{mid}/votes/", {"title": TITLE}), 201)["id"]
    before = written()
    for method, path, body in (
        ("get", f"/votes/{vid}/", None),
        ("post", f"/votes/{vid}/ballot/", {"choice": "in_favour"}),
        ("post", f"/votes/{vid}/counts/", {"in_favour": 1}),
        ("post", f"/votes/{vid}/close/", {}),
        ("post", f"/votes/{vid}/development-step/", {}),
    ):
        refused(send(branch.outsider, method, f"{URL}{path}", body), 404, "不存在", before)
    assert Meeting.objects.get(pk=mid).state == MeetingState.PLANNED


# Talks ------------------------------------------------------------------------------------------------


def test_talks_are_recorded_listed_and_covered_through_the_api(world, branch):
    today = timezone.localdate()
    p = world.people
    talk = ok(
        send(
            branch.member,
            "post",
            f"{URL}/talks/",
            {
                "org": "SA-B1",
                "held_on": today.isoformat(),
                "person_a_id": p.member.pk,
                "person_b_id": branch.people.fifth.pk,
                "topic": "教学与党员作用",
                "summary": "谈到带教青年教师的打算",
            },
        ),
        201,
    )
    assert talk["relation"] == "member_member" and talk["summary"] == "谈到带教青年教师的打算"
    ok(
        send(
            branch.secretary,
            "post",
            f"{URL}/talks/",
            {
                "org": "SA-B1",
                "held_on": today.isoformat(),
                "person_a_id": p.branch_secretary.pk,
                "person_b_id": branch.people.fourth.pk,
                "topic": "工作安排",
                "summary": "周思远的私人情况",
            },
        ),
        201,
    )
    everything = ok(branch.secretary.get(f"{URL}/talks/", {"org": "SA-B1"}))
    assert len(everything["items"]) == 2 and all(t["summary"] for t in everything["items"])
    # The member sees their own talk with its summary, and not the others'.
    own = ok(branch.member.get(f"{URL}/talks/", {"org": "SA-B1"}))
    assert [t["topic"] for t in own["items"]] == ["教学与党员作用"]
    assert "周思远的私人情况" not in json.dumps(own, ensure_ascii=False)

    board = ok(branch.secretary.get(f"{URL}/talks/coverage/", {"org": "SA-B1", "year": today.year}))
    assert board["min_per_year"] >= 1 and board["relations"]
    member_member = next(r for r in board["relations"] if r["relation"] == "member_member")
    assert "张三丰" not in member_member["missing"] and "吴晓东" not in member_member["missing"]

    before = written()
    talks_before = ok(branch.secretary.get(f"{URL}/talks/", {"org": "SA-B1"}))
    data = refused(
        send(
            branch.secretary,
            "post",
            f"{URL}/talks/",
            {
                "org": "SA-B1",
                "held_on": today.isoformat(),
                "person_a_id": p.branch_secretary.pk,
                "person_b_id": p.outsider.pk,
                "topic": "跨校",
            },
        ),
        400,
        "不是第一党支部的党员或支部委员",
        before,
    )
    assert "钱七" not in json.dumps(data, ensure_ascii=False) and "person_b_id" in data["errors"]
    assert ok(branch.secretary.get(f"{URL}/talks/", {"org": "SA-B1"})) == talks_before
    refused(branch.outsider.get(f"{URL}/talks/", {"org": "SA-B1"}), 404, "不存在", before)
    refused(branch.outsider.get(f"{URL}/talks/coverage/", {"org": "SA-B1"}), 404, "不存在", before)


# A development vote -----------------------------------------------------------------------------------


def test_a_reception_vote_in_the_assembly_records_the_cases_step(world, branch):
    from tests.development.pipeline import applicant, drive

    person = applicant(world)
    case = drive(world, person, until="application_form")
    p = world.people
    starts = timezone.make_aware(dt.datetime(2024, 11, 10, 14, 30))
    meeting = Meeting.objects.create(
        org=world.sa_b1, kind="general_assembly", title="接收预备党员大会", starts_at=starts
    )
    for voter in (p.school_secretary, p.branch_secretary, p.member):
        Attendance.objects.create(
            meeting=meeting, person=voter, role="member", may_vote=True, state="present"
        )
    vote = ok(
        send(
            branch.secretary,
            "post",
            f"{URL}/meetings/{meeting.pk}/votes/",
            {"title": "接收为预备党员", "development_case_id": case.pk, "development_purpose": "reception"},
        ),
        201,
    )
    # The full members of the branch on the day: the three present and the two of the fixture.
    assert vote["rule"] == "reception_vote" and vote["entitled_count"] == 5
    before = written()
    refused(
        send(branch.secretary, "post", f"{URL}/votes/{vote['id']}/development-step/", {}),
        400,
        "尚未结束",
        before,
    )
    for client in (branch.school, branch.secretary, branch.member):
        ok(send(client, "post", f"{URL}/votes/{vote['id']}/ballot/", {"choice": "in_favour"}))
    assert ok(send(branch.secretary, "post", f"{URL}/votes/{vote['id']}/close/", {}))["passed"] is True
    recorded = ok(send(branch.secretary, "post", f"{URL}/votes/{vote['id']}/development-step/", {}), 201)
    assert recorded["step"]["code"] == "reception_vote" and recorded["step"]["done_on"] == "2024-11-10"
    assert recorded["case"]["next_step"]["code"] == "upper_talk"


# Whatever a caller sends --------------------------------------------------------------------------------

ODD_BODIES = {
    "not json": "this is not json",
    "json array": '[{"title": "x"}]',
    "unknown field": {"title": "x", "hacker": 1, "reason": "x", "token": "x", "choice": "in_favour"},
    "null byte": '{"title": "坏\\u0000", "reason": "坏\\u0000", "token": "\\u0000", "topic": "\\u0000"}',
    "huge integer": '{"in_favour": 1' + "0" * 400 + ', "approve": 1e400, "year": 1e400}',
    "datetime as number": {"org": "SA-B1", "kind": "general_assembly", "title": "x", "starts_at": 1700000000},
    "unknown choice": {"choice": "maybe", "kind": "party", "states": {"1": "asleep"}},
}


def test_odd_bodies_get_a_chinese_4xx_and_write_nothing(world, branch):
    mid = create(branch.secretary)["id"]
    row = Attendance.objects.filter(meeting_id=mid).first()
    assert row is not None
    routes = [
        ("post", f"{URL}/meetings/"),
        ("patch", f"{URL}/meetings/{mid}/"),
        ("post", f"{URL}/meetings/{mid}/cancel/"),
        ("post", f"{URL}/meetings/{mid}/attendance/"),
        ("post", f"{URL}/meetings/{mid}/minutes/"),
        ("post", f"{URL}/meetings/{mid}/leave/"),
        ("post", f"{URL}/meetings/{mid}/votes/"),
        ("post", f"{URL}/attendances/{row.pk}/leave-decision/"),
        ("post", f"{URL}/check-in/"),
        ("post", f"{URL}/plan/apply/"),
        ("post", f"{URL}/talks/"),
    ]
    before = written()
    for method, url in routes:
        for name, body in ODD_BODIES.items():
            response = send(branch.secretary, method, url, body)
            assert_chinese_error(response)
            assert written() == before, (method, url, name)


# Attachments ------------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF_BYTES = b"%PDF-1.4\n" + b"0" * 32


def upload(client: Client, mid: int, content: bytes, name: str, title: str = "") -> Any:
    data: dict[str, Any] = {"file": SimpleUploadedFile(name, content)}
    if title:
        data["title"] = title
    return client.post(f"{URL}/meetings/{mid}/attachments/", data)


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else bytes(response.content)


def test_attachments_are_uploaded_downloaded_and_withdrawn_through_the_api(world, branch):
    api = branch.secretary
    mid = create(api)["id"]
    sheet = ok(upload(api, mid, PNG, "签到表.png", title="签到表"), 201)
    assert (sheet["title"], sheet["content_type"], sheet["size"]) == ("签到表", "image/png", len(PNG))
    slides = ok(upload(api, mid, PDF_BYTES, "党课讲稿.pdf"), 201)
    assert slides["title"] == "党课讲稿.pdf" and slides["content_type"] == "application/pdf"
    detail = ok(api.get(f"{URL}/meetings/{mid}/"))
    assert [a["id"] for a in detail["attachments"]] == [sheet["id"], slides["id"]]

    # An invitee sees the meeting's attachments and downloads them, as on the page; each download audited.
    exports = AuditEntry.objects.filter(action="export").count()
    got = branch.member.get(sheet["download_url"])
    assert got.status_code == 200 and body_of(got) == PNG and got["Content-Type"] == "image/png"
    assert "attachment" in got["Content-Disposition"]
    assert AuditEntry.objects.filter(action="export").count() == exports + 1

    withdrawn = ok(send(api, "post", f"{URL}/attachments/{slides['id']}/withdraw/", {"reason": "传错了文件"}))
    assert withdrawn["withdrawn_at"] is not None and withdrawn["withdrawn_reason"] == "传错了文件"
    kept = ok(api.get(f"{URL}/meetings/{mid}/"))["attachments"]
    assert [(a["title"], a["withdrawn_reason"]) for a in kept] == [
        ("签到表", ""),
        ("党课讲稿.pdf", "传错了文件"),
    ]

    before = written()
    refused(
        send(api, "post", f"{URL}/attachments/{slides['id']}/withdraw/", {"reason": "再撤"}),
        400,
        "已撤回",
        before,
    )
    refused(upload(api, mid, b"just some text", "记录.txt"), 400, "不是", before)
    refused(upload(branch.member, mid, PNG, "照片.png"), 403, "无权管理", before)
    refused(
        send(branch.member, "post", f"{URL}/attachments/{sheet['id']}/withdraw/", {"reason": "不要了"}),
        403,
        "无权管理",
        before,
    )
    data = refused(api.post(f"{URL}/meetings/{mid}/attachments/", {"title": "没有文件"}), 422, "必填", before)
    assert "file" in data["errors"]
    for response in (
        upload(branch.outsider, mid, PNG, "照片.png"),
        branch.outsider.get(sheet["download_url"]),
        send(branch.outsider, "post", f"{URL}/attachments/{sheet['id']}/withdraw/", {"reason": "x"}),
    ):
        refused(response, 404, "不存在", before)


def test_an_attachment_over_the_size_limit_is_refused_and_nothing_is_kept(world, branch, settings):
    mid = create(branch.secretary)["id"]
    settings.ZHIBU_MAX_UPLOAD_BYTES = 16
    before = written()
    refused(upload(branch.secretary, mid, PNG, "大照片.png"), 400, "超过", before)


def test_the_meeting_detail_runs_the_same_queries_for_one_attachment_and_for_three(world, branch):
    api = branch.secretary
    mid = create(api)["id"]

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            ok(api.get(f"{URL}/meetings/{mid}/"))
        return len(ctx.captured_queries)

    ok(upload(api, mid, PNG, "一.png"), 201)
    one = queries()
    ok(upload(api, mid, PNG, "二.png"), 201)
    ok(upload(api, mid, PDF_BYTES, "三.pdf"), 201)
    assert len(ok(api.get(f"{URL}/meetings/{mid}/"))["attachments"]) == 3
    assert queries() == one


def _general_branch_assembly_with_a_withdrawn_file(world: Any) -> tuple[Meeting, Any, Any]:
    """An assembly of the 党总支 SB, arranged by the work committee's staff, with a sign-in sheet kept and a
    photo withdrawn; 钱七 (secretary of SB's first branch, who does not view SB itself) is invited."""
    staff = world.users.wc_staff
    scope = scope_for(staff)
    meeting = life_services.meeting_create(
        actor=staff,
        scope=scope,
        org=world.sb,
        kind="general_assembly",
        title="党总支党员大会",
        starts_at=timezone.now() + dt.timedelta(days=3),
        now=timezone.now() - dt.timedelta(days=30),
    )
    kept = life_services.attachment_add(
        actor=staff, scope=scope, meeting=meeting, file=SimpleUploadedFile("签到表.png", PNG), title="签到表"
    )
    gone = life_services.attachment_add(
        actor=staff, scope=scope, meeting=meeting, file=SimpleUploadedFile("合影.png", PNG), title="误传合影"
    )
    life_services.attachment_withdraw(actor=staff, scope=scope, attachment=gone, reason="传错了会议")
    return meeting, kept, gone


def test_an_invitee_from_another_branch_opens_the_files_but_not_a_withdrawn_one_on_page_and_api(
    world, branch, api_as, client_as
):
    meeting, kept, gone = _general_branch_assembly_with_a_withdrawn_file(world)
    outsider = world.users.outsider
    assert meeting.attendances.filter(person=world.people.outsider).exists()
    assert not scope_for(outsider).can_view_path(world.sb.path)

    # Through the API: the invitee is listed and opens the kept file only; the staff open both.
    listed = ok(branch.outsider.get(f"{URL}/meetings/{meeting.pk}/"))["attachments"]
    assert [a["title"] for a in listed] == ["签到表"]
    got = branch.outsider.get(f"{URL}/attachments/{kept.pk}/")
    assert got.status_code == 200 and body_of(got) == PNG
    before = written()
    refused(branch.outsider.get(f"{URL}/attachments/{gone.pk}/"), 404, "不存在", before)
    staff = api_as(world.users.wc_staff)
    assert [a["title"] for a in ok(staff.get(f"{URL}/meetings/{meeting.pk}/"))["attachments"]] == [
        "签到表",
        "误传合影",
    ]
    assert staff.get(f"{URL}/attachments/{gone.pk}/").status_code == 200

    # On the page the same rule: the kept file opens, the withdrawn one is not found and not linked.
    page = client_as(outsider)
    got = page.get(f"/life/attachments/{kept.pk}/")
    assert got.status_code == 200 and body_of(got) == PNG
    before = written()
    assert page.get(f"/life/attachments/{gone.pk}/").status_code == 404
    assert written() == before
    html = page.get(f"/life/meetings/{meeting.pk}/").content.decode()
    assert f"/life/attachments/{gone.pk}/" not in html
    assert f"/life/attachments/{kept.pk}/" in html  # the invitee's page lists the photo they may open
    page = client_as(world.users.wc_staff)
    assert page.get(f"/life/attachments/{gone.pk}/").status_code == 200
    assert f"/life/attachments/{gone.pk}/" in page.get(f"/life/meetings/{meeting.pk}/").content.decode()


def test_a_member_of_the_branch_opens_its_withdrawn_files_on_page_and_api(world, branch, client_as):
    api = branch.secretary
    mid = create(api)["id"]
    kept = ok(upload(api, mid, PNG, "签到表.png"), 201)
    gone = ok(upload(api, mid, PDF_BYTES, "讲稿.pdf"), 201)
    ok(send(api, "post", f"{URL}/attachments/{gone['id']}/withdraw/", {"reason": "传错了文件"}))

    listed = ok(branch.member.get(f"{URL}/meetings/{mid}/"))["attachments"]
    assert [a["title"] for a in listed] == ["签到表.png", "讲稿.pdf"]
    for a in (kept, gone):
        assert branch.member.get(a["download_url"]).status_code == 200
    page = client_as(world.users.member)
    html = page.get(f"/life/meetings/{mid}/").content.decode()
    for a in (kept, gone):
        assert f"/life/attachments/{a['id']}/" in html
        assert page.get(f"/life/attachments/{a['id']}/").status_code == 200
    # Neither the page nor the API hands a file of this branch to someone of another school.
    before = written()
    refused(branch.outsider.get(kept["download_url"]), 404, "不存在", before)
    assert client_as(world.users.outsider).get(f"/life/attachments/{kept['id']}/").status_code == 404
    assert written() == before


# The life meeting -------------------------------------------------------------------------------------


def test_a_life_meeting_is_prepared_held_and_rectified_through_the_api(world, branch):
    api, p = branch.secretary, world.people
    today = timezone.localdate()
    life = create(api, kind="life_meeting", title="2026年度组织生活会", starts_at=soon(60 * 24))
    mid = life["id"]
    life_url = f"{URL}/meetings/{mid}/life"

    # Before it: opinions gathered (one unnamed) and a talk of the secretary with 周思远 as its preparation.
    named = ok(
        send(
            api,
            "post",
            f"{life_url}/criticisms/",
            {"kind": "opinion", "text": "多开展集体备课", "speaker_id": p.member.pk},
        ),
        201,
    )
    assert named["speaker"]["name"] == "张三丰" and named["kind_label"] == "会前征求的意见"
    ok(send(api, "post", f"{life_url}/criticisms/", {"kind": "opinion", "text": "家长建议多家访"}), 201)
    ok(
        send(
            api,
            "post",
            f"{URL}/talks/",
            {
                "org": "SA-B1",
                "held_on": today.isoformat(),
                "person_a_id": p.branch_secretary.pk,
                "person_b_id": branch.people.fourth.pk,
                "topic": "会前谈心",
                "summary": "周思远的家庭困难",
                "before_life_meeting_id": mid,
            },
        ),
        201,
    )
    record = ok(api.get(f"{life_url}/"))
    assert not record["started"] and record["can_manage"]
    assert [o["text"] for o in record["opinions"]] == ["多开展集体备课", "家长建议多家访"]
    assert record["talks"][0]["summary"] == "周思远的家庭困难"
    # The invitee sees the record, but not the summary of a talk they were not part of.
    theirs = ok(branch.member.get(f"{life_url}/"))
    assert theirs["talks"][0]["topic"] == "会前谈心" and theirs["talks"][0]["summary"] is None
    assert "家庭困难" not in json.dumps(theirs, ensure_ascii=False) and not theirs["can_manage"]
    assert ok(branch.fourth.get(f"{life_url}/"))["talks"][0]["summary"] == "周思远的家庭困难"

    before = written()
    refused(
        send(
            api, "post", f"{life_url}/criticisms/", {"kind": "self", "text": "x", "speaker_id": p.member.pk}
        ),
        400,
        "才开始",
        before,
    )
    data = refused(
        send(
            api,
            "post",
            f"{life_url}/criticisms/",
            {"kind": "opinion", "text": "x", "speaker_id": p.outsider.pk},
        ),
        400,
        "不在",
        before,
    )
    assert "钱七" not in json.dumps(data, ensure_ascii=False) and "speaker_id" in data["errors"]

    time_passes_to_the_start(mid)
    ok(
        send(
            api,
            "post",
            f"{life_url}/criticisms/",
            {"kind": "self", "text": "学习不够深入", "speaker_id": p.member.pk},
        ),
        201,
    )
    mutual = ok(
        send(
            api,
            "post",
            f"{life_url}/criticisms/",
            {
                "kind": "mutual",
                "text": "备课组活动参加少",
                "speaker_id": p.branch_secretary.pk,
                "about_id": p.member.pk,
            },
        ),
        201,
    )
    assert mutual["about"]["name"] == "张三丰"
    due = today + dt.timedelta(days=30)
    item = ok(
        send(
            api,
            "post",
            f"{life_url}/rectifications/",
            {"item": "每月参加一次集体备课", "owner_id": p.member.pk, "due_on": due.isoformat()},
        ),
        201,
    )
    assert item["owner"]["name"] == "张三丰" and item["done_on"] is None and not item["overdue"]

    record = ok(api.get(f"{life_url}/"))
    assert record["started"]
    zhang = next(r for r in record["people"] if r["person"]["name"] == "张三丰")
    assert zhang["spoken"] and [c["text"] for c in zhang["received"]] == ["备课组活动参加少"]
    assert "张三丰" not in record["not_spoken"] and "吴晓东" in record["not_spoken"]
    assert [m["text"] for m in record["mutual"]] == ["备课组活动参加少"]

    # The invitees may not record; another invitee may not mark the owner's item done; school B sees nothing.
    before = written()
    for client, method, path, body in (
        (branch.member, "post", "/criticisms/", {"kind": "self", "text": "x", "speaker_id": p.member.pk}),
        (
            branch.member,
            "post",
            "/rectifications/",
            {"item": "x", "owner_id": p.member.pk, "due_on": due.isoformat()},
        ),
    ):
        refused(send(client, method, f"{life_url}{path}", body), 403, "无权办理", before)
    # An invitee who names someone of another school hears only that they may not record.
    opinion = {"kind": "mutual", "text": "x", "speaker_id": p.member.pk, "about_id": p.outsider.pk}
    refused(send(branch.member, "post", f"{life_url}/criticisms/", opinion), 403, "无权办理", before)
    done_url = f"{URL}/rectifications/{item['id']}/done/"
    refused(
        send(branch.fifth, "post", done_url, {"done_on": today.isoformat(), "evidence": "x"}),
        403,
        "无权办理",
        before,
    )
    for method, url, body in (
        ("get", f"{life_url}/", None),
        ("post", f"{life_url}/criticisms/", {"kind": "opinion", "text": "x"}),
        (
            "post",
            f"{life_url}/rectifications/",
            {"item": "x", "owner_id": p.member.pk, "due_on": due.isoformat()},
        ),
        ("post", done_url, {"done_on": today.isoformat(), "evidence": "x"}),
    ):
        refused(send(branch.outsider, method, url, body), 404, "不存在", before)
    late = (today + dt.timedelta(days=1)).isoformat()
    refused(
        send(branch.member, "post", done_url, {"done_on": late, "evidence": "x"}), 400, "晚于今天", before
    )

    # Its owner marks it done from their phone.
    done = ok(
        send(
            branch.member, "post", done_url, {"done_on": today.isoformat(), "evidence": "已参加11月集体备课"}
        )
    )
    assert done["done_on"] == today.isoformat() and not done["may_mark_done"]
    refused(
        send(api, "post", done_url, {"done_on": today.isoformat(), "evidence": "x"}), 400, "已于", written()
    )


def test_who_gave_an_opinion_and_about_whom_only_the_orgs_managers_see(world, branch, client_as):
    """As on the life meeting's page: the opinions gathered before it are read by every invitee, but their
    speaker and subject only by those who manage the branch; criticism at the meeting stays named."""
    api, p = branch.secretary, world.people
    mid = create(api, kind="life_meeting", title="2026年度组织生活会", starts_at=soon(60 * 24))["id"]
    life_url = f"{URL}/meetings/{mid}/life"
    opinion = {
        "kind": "opinion",
        "text": "备课组长布置任务过于集中",
        "speaker_id": branch.people.fourth.pk,
        "about_id": branch.people.fifth.pk,
    }
    assert ok(send(api, "post", f"{life_url}/criticisms/", opinion), 201)["speaker"]["name"] == "周思远"

    mine = ok(api.get(f"{life_url}/"))["opinions"]
    assert [(o["speaker"]["name"], o["about"]["name"]) for o in mine] == [("周思远", "吴晓东")]
    theirs = ok(branch.member.get(f"{life_url}/"))["opinions"]
    assert [o["text"] for o in theirs] == ["备课组长布置任务过于集中"]
    assert theirs[0]["speaker"] is None and theirs[0]["about"] is None
    said = json.dumps(theirs, ensure_ascii=False)
    assert "周思远" not in said and "吴晓东" not in said
    # Even the one who gave it reads it unnamed here, as on the page (they do not manage the branch).
    assert ok(branch.fourth.get(f"{life_url}/"))["opinions"][0]["speaker"] is None
    # The page agrees.
    assert (
        "周思远 → 吴晓东"
        not in client_as(world.users.member).get(f"/life/meetings/{mid}/life/").content.decode()
    )
    assert (
        "周思远 → 吴晓东"
        in client_as(world.users.branch_secretary).get(f"/life/meetings/{mid}/life/").content.decode()
    )

    time_passes_to_the_start(mid)
    mutual = {
        "kind": "mutual",
        "text": "发言不够坦诚",
        "speaker_id": p.member.pk,
        "about_id": p.branch_secretary.pk,
    }
    ok(send(api, "post", f"{life_url}/criticisms/", mutual), 201)
    theirs = ok(branch.member.get(f"{life_url}/"))
    assert [(m["speaker"]["name"], m["about"]["name"]) for m in theirs["mutual"]] == [("张三丰", "李红梅")]


def test_the_life_record_is_only_for_life_meetings_and_reads_in_fixed_queries(world, branch):
    api, p = branch.secretary, world.people
    assembly = create(api)["id"]
    before = written()
    refused(api.get(f"{URL}/meetings/{assembly}/life/"), 404, "不是组织生活会", before)
    refused(
        send(api, "post", f"{URL}/meetings/{assembly}/life/criticisms/", {"kind": "opinion", "text": "x"}),
        404,
        "不是组织生活会",
        before,
    )
    mid = create(api, kind="life_meeting", title="组织生活会", starts_at=soon(60))["id"]
    life_url = f"{URL}/meetings/{mid}/life"

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            ok(api.get(f"{life_url}/"))
        return len(ctx.captured_queries)

    ok(
        send(
            api,
            "post",
            f"{life_url}/criticisms/",
            {"kind": "opinion", "text": "一", "speaker_id": p.member.pk},
        ),
        201,
    )
    one = queries()
    for text, person in (("二", p.branch_secretary), ("三", p.school_secretary)):
        body = {"kind": "opinion", "text": text, "speaker_id": person.pk, "about_id": p.member.pk}
        ok(send(api, "post", f"{life_url}/criticisms/", body), 201)
    assert len(ok(api.get(f"{life_url}/"))["opinions"]) == 3
    assert queries() == one


# Files ------------------------------------------------------------------------------------------------


def test_the_minutes_and_the_ledger_are_downloaded_by_those_who_oversee_the_branch(world, branch):
    api = branch.secretary
    mid = create(api, title="第四季度支部党员大会")["id"]
    exports = AuditEntry.objects.filter(action="export").count()
    docx = api.get(f"{URL}/meetings/{mid}/minutes.docx")
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    assert docx["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    year = timezone.localdate().year
    xlsx = api.get(f"{URL}/ledger.xlsx", {"org": "SA-B1", "year": year})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK" and "spreadsheetml" in xlsx["Content-Type"]
    pdf = api.get(f"{URL}/ledger.pdf", {"org": "SA-B1"})
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-" and pdf["Content-Type"] == "application/pdf"
    assert AuditEntry.objects.filter(action="export").count() == exports + 3

    before = written()
    # An invitee is not given the record (it names everyone's attendance); school B gets nothing.
    refused(branch.member.get(f"{URL}/meetings/{mid}/minutes.docx"), 404, "不存在", before)
    refused(branch.outsider.get(f"{URL}/meetings/{mid}/minutes.docx"), 404, "不存在", before)
    refused(branch.outsider.get(f"{URL}/ledger.xlsx", {"org": "SA-B1", "year": year}), 404, "不存在", before)
    refused(branch.member.get(f"{URL}/ledger.pdf", {"org": "SA-B1", "year": year}), 404, "不存在", before)
    data = refused(api.get(f"{URL}/ledger.xlsx"), 422, "必填", before)
    assert "org" in data["errors"]
    refused(api.get(f"{URL}/ledger.xlsx", {"org": "SA-B1", "year": 1999}), 422, "不能小于", before)


def test_the_openapi_document_describes_the_files_the_life_routes_return(db, client):
    doc = client.get("/api/v1/openapi.json").json()
    for path, content_type in (
        ("/api/v1/life/meetings/{meeting_id}/minutes.docx", "wordprocessingml"),
        ("/api/v1/life/ledger.xlsx", "spreadsheetml"),
        ("/api/v1/life/ledger.pdf", "application/pdf"),
        ("/api/v1/life/attachments/{attachment_id}/", "image/png"),
    ):
        operation = doc["paths"][path]["get"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in operation["summary"]), path
        assert any(content_type in c for c in operation["responses"]["200"]["content"]), path
    upload_body = doc["paths"]["/api/v1/life/meetings/{meeting_id}/attachments/"]["post"]["requestBody"]
    assert "multipart/form-data" in upload_body["content"]


def test_odd_uploads_and_file_queries_get_a_chinese_4xx_and_write_nothing(world, branch, api_as, settings):
    api = branch.secretary
    mid = create(api)["id"]
    fresh = api_as(world.users.branch_secretary)  # its first request loads the middleware of that moment
    before = written()
    refused(send(api, "post", f"{URL}/meetings/{mid}/attachments/", {"title": "x"}), 422, "必填", before)
    refused(upload(api, mid, PNG, "照片.png", title="签到\x00表"), 400, "NUL", before)
    # The route refuses it by field even without the middleware.
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if not m.endswith("RejectUnstorableInputMiddleware")
    ]
    data = refused(upload(fresh, mid, PNG, "照片.png", title="签到\x00表"), 400, "空字符", before)
    assert "title" in data["errors"]
    refused(upload(api, mid, PNG, "照片.png", title="长" * 201), 400, "不能超过", before)
    refused(upload(api, mid, b"", "空.png"), 400, "是空的", before)
    refused(upload(api, 999999, PNG, "照片.png"), 404, "不存在", before)
    refused(api.get(f"{URL}/meetings/999999/minutes.docx"), 404, "不存在", before)
    refused(api.get(f"{URL}/attachments/999999/"), 404, "不存在", before)
    refused(api.get(f"{URL}/ledger.pdf", {"org": "SA-B1", "year": "今年"}), 422, "整数", before)
    refused(api.get(f"{URL}/ledger.xlsx", {"org": "NO-SUCH"}), 404, "不存在", before)
    refused(
        send(api, "post", f"{URL}/rectifications/999999/done/", {"done_on": "2026-01-01", "evidence": "x"}),
        404,
        "不存在",
        before,
    )
