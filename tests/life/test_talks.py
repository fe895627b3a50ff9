"""Talks (谈心谈话) and the life meeting's preparation, criticism and rectification: the relation from the
posts on the day, the private summary, the coverage board against the compliance finding, the
rectification flow, refusals that write nothing, and the pages' scoping."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import make_person, make_post, make_user
from zhibu.compliance.models import Finding
from zhibu.compliance.services import evaluation_run, policy_override_set
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.models import AuditEntry
from zhibu.life import talks as svc
from zhibu.life.models import Criticism, Meeting, Rectification, Talk
from zhibu.life.services import meeting_create

D = dt.date
TODAY = D(2026, 1, 5)
MAY = D(2025, 5, 6)
MARCH_10 = D(2026, 3, 10)


def at(day: dt.date, hour: int = 15) -> dt.datetime:
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, hour, 0))


def record(world, scope_of, user, a, b, day=MAY, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("topic", "谈思想、谈工作")
    return svc.talk_record(
        actor=user,
        scope=scope_of(user),
        org=kw.pop("org", world.sa_b1),
        held_on=day,
        person_a=a,
        person_b=b,
        today=kw.pop("today", TODAY),
        **kw,
    )


def written() -> tuple[int, int, int, int]:
    return (
        Talk.objects.count(),
        Criticism.objects.count(),
        Rectification.objects.count(),
        AuditEntry.objects.count(),
    )


@pytest.fixture
def zhou(world):  # type: ignore[no-untyped-def]
    """Another plain member of SA-B1, with an account: neither party to the talks nor a manager."""
    person = make_person("周九", world.sa_b1)
    return make_user("zhou", person)


# Recording a talk ---------------------------------------------------------------------------------------


def test_the_relation_follows_the_posts_held_on_the_day_of_the_talk(world, scope_of):
    p, sec = world.people, world.users.branch_secretary
    make_post(world.sa_b1, p.member, "organization_officer", started_on=D(2025, 3, 1))
    before = record(world, scope_of, sec, p.branch_secretary, p.member, D(2025, 2, 1))
    after = record(world, scope_of, sec, p.branch_secretary, p.member, D(2025, 4, 1))
    members = record(world, scope_of, sec, p.school_secretary, p.member, D(2025, 2, 1))
    assert before.relation == "committee_member"
    assert after.relation == "committee_committee"
    assert members.relation == "member_member"
    entry = AuditEntry.objects.get(object_type="life.talk", object_id=str(after.pk))
    assert entry.action == "create" and "李红梅—张三丰" in entry.note


def test_a_talk_recorded_in_a_group_belongs_to_its_branch(world, scope_of):
    p = world.people
    talk = record(
        world, scope_of, world.users.branch_secretary, p.member, p.school_secretary, org=world.sa_b1_g1
    )
    assert talk.org == world.sa_b1_g1 and talk.relation == "member_member"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("same", "不能是同一人"),
        ("future", "晚于今天"),
        ("other_branch", "赵六 不是第一党支部的党员"),
        ("activist", "曾小单 不是第一党支部的党员"),
        ("no_topic", "请填写谈话主题"),
    ],
)
def test_refusals_write_nothing(world, scope_of, case, message):
    p, sec = world.people, world.users.branch_secretary
    args = {
        "same": (p.member, p.member, D(2025, 5, 6), "谈心"),
        "future": (p.member, p.branch_secretary, TODAY + dt.timedelta(days=1), "谈心"),
        "other_branch": (p.member, p.b2, D(2025, 5, 6), "谈心"),
        "activist": (p.branch_secretary, p.activist, D(2025, 5, 6), "谈心"),
        "no_topic": (p.member, p.branch_secretary, D(2025, 5, 6), "  "),
    }[case]
    before = written()
    with pytest.raises(ServiceError) as exc:
        record(world, scope_of, sec, args[0], args[1], args[2], topic=args[3])
    assert message in exc.value.message
    assert written() == before


def test_a_member_records_a_talk_they_took_part_in_but_not_others(world, scope_of, zhou):
    p, member = world.people, world.users.member
    talk = record(world, scope_of, member, p.member, p.school_secretary)
    assert talk.recorded_by == member
    before = written()
    with pytest.raises(NotPermitted, match="只能记录本人参加的谈心谈话"):
        record(world, scope_of, member, p.branch_secretary, zhou.person)
    with pytest.raises(NotFound):
        record(world, scope_of, world.users.outsider, p.branch_secretary, p.member)
    assert written() == before


def test_a_talk_is_corrected_with_a_reason_and_never_deleted(world, scope_of, zhou):
    p = world.people
    talk = record(world, scope_of, world.users.member, p.member, p.branch_secretary, summary="原话")
    before = written()
    with pytest.raises(ServiceError, match="请填写更正原因"):
        svc.talk_correct(
            actor=world.users.member,
            scope=scope_of(world.users.member),
            talk=talk,
            changes={"topic": "x"},
            reason="",
        )
    with pytest.raises(NotPermitted):
        svc.talk_correct(
            actor=zhou, scope=scope_of(zhou), talk=talk, changes={"topic": "x"}, reason="写错了", today=TODAY
        )
    assert written() == before
    svc.talk_correct(
        actor=world.users.member,
        scope=scope_of(world.users.member),
        talk=talk,
        changes={"topic": "谈教学工作", "summary": "改过的要点"},
        reason="主题写错了",
        today=TODAY,
    )
    talk.refresh_from_db()
    assert (talk.topic, talk.summary) == ("谈教学工作", "改过的要点")
    entry = AuditEntry.objects.filter(object_type="life.talk", object_id=str(talk.pk), action="update").get()
    assert "主题写错了" in entry.note and "改过的要点" not in str(entry.changes)


# The summary is private ---------------------------------------------------------------------------------


def test_only_the_two_and_the_branchs_managers_read_the_summary(world, scope_of, zhou, client_as):
    p = world.people
    talk = record(
        world, scope_of, world.users.branch_secretary, p.branch_secretary, p.member, D(2026, 3, 2),
        summary="家中老人住院，需要支部关心", today=D(2026, 3, 3),
    )  # fmt: skip
    assert svc.talk_summary_visible(scope_of(world.users.member), world.users.member, talk)
    assert svc.talk_summary_visible(
        scope_of(world.users.branch_secretary), world.users.branch_secretary, talk
    )
    assert not svc.talk_summary_visible(scope_of(zhou), zhou, talk)
    assert svc.talks_visible(scope_of(zhou), world.sa_b1, 2026) == []
    # The audit log, which those who view the branch may read, keeps no word of it.
    assert not AuditEntry.objects.filter(changes__icontains="老人住院").exists()
    url = "/life/talks/?org=SA-B1&year=2026"
    assert "老人住院" not in client_as(zhou).get(url).content.decode()
    assert "老人住院" in client_as(world.users.member).get(url).content.decode()
    page = client_as(world.users.branch_secretary).get(url).content.decode()
    assert "老人住院" in page and "张三丰" in page


# The coverage board agrees with the finding ---------------------------------------------------------------


def _findings_missing(world, scope_of) -> dict[str, tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    user = world.users.wc_staff
    run = evaluation_run(actor=user, scope=scope_of(user), org=world.wc, year=2025, today=TODAY)
    out = {}
    for rule in ("life.talk_committee", "life.talk_committee_member", "life.talk_member_member"):
        f = Finding.objects.get(run=run, rule_id=rule, subject_type="org", subject_id=world.sa_b1.pk)
        out[rule] = (f.state, list(f.facts.get("missing", [])))
    return out


def _board_missing(world) -> dict[str, tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    board = svc.coverage_board(world.sa_b1, 2025, today=TODAY)
    return {r.rule_id: (r.state, r.missing) for r in board.relations}


def test_the_coverage_board_names_who_the_finding_names(world, scope_of, zhou):
    p, sec = world.people, world.users.branch_secretary
    wu = make_person("吴十", world.sa_b1)
    make_post(world.sa_b1, p.member, "organization_officer")
    make_post(world.sa_b1, p.school_secretary, "publicity_officer")
    record(world, scope_of, sec, p.branch_secretary, p.member)  # a committee pair
    record(world, scope_of, sec, p.member, zhou.person)  # committee ↔ 周九
    record(world, scope_of, sec, zhou.person, wu)  # member ↔ member: both covered
    record(world, scope_of, sec, p.branch_secretary, zhou.person, D(2024, 12, 30))  # another year
    board = svc.coverage_board(world.sa_b1, 2025, today=TODAY)
    assert board.min_per_year == 1 and board.has_committee
    by_rule = {r.rule_id: r for r in board.relations}
    assert by_rule["life.talk_committee"].missing == ["李红梅—王建国", "张三丰—王建国"]
    assert by_rule["life.talk_committee_member"].missing == ["吴十"]
    assert by_rule["life.talk_member_member"].missing == []
    assert _board_missing(world) == _findings_missing(world, scope_of)

    # The policy asks two talks a year: the board and the finding move together.
    user = world.users.wc_staff
    policy_override_set(actor=user, scope=scope_of(user), org=world.sa, key="talk.min_per_year", value=2)
    board = svc.coverage_board(world.sa_b1, 2025, today=TODAY)
    assert board.min_per_year == 2
    assert {r.rule_id: r.missing for r in board.relations}["life.talk_member_member"] == ["吴十", "周九"]
    assert _board_missing(world) == _findings_missing(world, scope_of)


def test_without_a_committee_the_secretary_covers_the_members(world, scope_of):
    p = world.people
    record(world, scope_of, world.users.branch_secretary, p.branch_secretary, p.member)
    board = svc.coverage_board(world.sa_b1, 2025, today=TODAY)
    assert not board.has_committee
    assert [r.missing for r in board.relations] == [[], ["王建国"], ["张三丰", "王建国"]]
    assert board.relations[0].state == "not_applicable"
    assert _board_missing(world) == _findings_missing(world, scope_of)


def _queries(fn) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_the_board_and_the_talks_page_take_the_same_queries_whatever_the_data(world, scope_of, client_as):
    p, sec = world.people, world.users.branch_secretary
    client = client_as(sec)
    url = "/life/talks/?org=SA-B1&year=2025"
    client.get(url)  # warm the policy cache
    small_board = _queries(lambda: svc.coverage_board(world.sa_b1, 2025, today=TODAY))
    small_page = _queries(lambda: client.get(url))
    people = [make_person(f"党员{i}", world.sa_b1) for i in range(6)]
    for i, person in enumerate(people):
        record(world, scope_of, sec, person, people[(i + 1) % 6], summary="要点")
        record(world, scope_of, sec, p.branch_secretary, person)
    assert _queries(lambda: svc.coverage_board(world.sa_b1, 2025, today=TODAY)) == small_board
    response = client.get(url)
    assert response.status_code == 200 and "党员5" in response.content.decode()
    assert _queries(lambda: client.get(url)) == small_page


# The life meeting -----------------------------------------------------------------------------------------


def life_meeting(world, scope_of, day: dt.date = MARCH_10) -> Meeting:  # type: ignore[no-untyped-def]
    sec = world.users.branch_secretary
    return meeting_create(
        actor=sec,
        scope=scope_of(sec),
        org=world.sa_b1,
        kind="life_meeting",
        title="2025年度组织生活会",
        starts_at=at(day),
        now=at(day - dt.timedelta(days=20)),
    )


def test_opinions_before_criticism_after_and_who_has_not_spoken(world, scope_of):
    p, sec = world.people, world.users.branch_secretary
    m = life_meeting(world, scope_of)
    scope = scope_of(sec)
    before_start, after_start = at(D(2026, 3, 5)), at(D(2026, 3, 10), 16)
    svc.criticism_add(
        actor=sec, scope=scope, meeting=m, kind="opinion", text="希望多组织教研交流", now=before_start
    )
    svc.criticism_add(
        actor=sec, scope=scope, meeting=m, kind="opinion", text="意见", speaker=p.member, now=before_start
    )
    snapshot = written()
    refusals = [
        ({"kind": "self", "speaker": p.member, "now": before_start}, "开始后才能记录自我批评"),
        ({"kind": "opinion", "now": after_start}, "会前征求意见应在会前记录"),
        ({"kind": "self", "now": after_start}, "请选择发言人"),
        ({"kind": "mutual", "speaker": p.member, "about": p.member, "now": after_start}, "请记为自我批评"),
        ({"kind": "self", "speaker": p.b2, "now": after_start}, "赵六 不在"),
    ]
    for kw, message in refusals:
        with pytest.raises(ServiceError, match=message):
            svc.criticism_add(actor=sec, scope=scope, meeting=m, text="发言", **kw)  # type: ignore[arg-type]
    with pytest.raises(NotPermitted):
        member = world.users.member
        svc.criticism_add(
            actor=member,
            scope=scope_of(member),
            meeting=m,
            kind="self",
            text="x",
            speaker=p.member,
            now=after_start,
        )
    assert written() == snapshot

    svc.criticism_add(
        actor=sec,
        scope=scope,
        meeting=m,
        kind="self",
        text="理论学习不够深入",
        speaker=p.member,
        now=after_start,
    )
    svc.criticism_add(
        actor=sec,
        scope=scope,
        meeting=m,
        kind="mutual",
        text="批评：备课组活动参加少",
        speaker=p.branch_secretary,
        about=p.member,
        now=after_start,
    )
    page = svc.life_meeting_page(m, scope=scope)
    assert len(page.opinions) == 2 and len(page.mutual) == 1
    assert [r.name for r in page.not_spoken] == ["李红梅", "王建国"]
    zhang = next(r for r in page.people if r.name == "张三丰")
    assert zhang.spoken and zhang.received[0].text == "批评：备课组活动参加少"


def test_talks_before_a_life_meeting_are_its_preparation(world, scope_of, zhou):
    p, sec = world.people, world.users.branch_secretary
    m = life_meeting(world, scope_of)
    talk = record(
        world, scope_of, sec, p.branch_secretary, p.member, D(2026, 3, 1),
        summary="会前谈心要点", before_life_meeting=m, today=D(2026, 3, 2),
    )  # fmt: skip
    before = written()
    with pytest.raises(ServiceError, match="晚于组织生活会"):
        record(
            world,
            scope_of,
            sec,
            p.branch_secretary,
            p.member,
            D(2026, 3, 11),
            before_life_meeting=m,
            today=D(2026, 3, 12),
        )
    assert written() == before
    rows = svc.life_meeting_page(m, scope=scope_of(zhou)).talks
    assert [r.talk for r in rows] == [talk] and rows[0].summary == ""
    assert svc.life_meeting_page(m, scope=scope_of(sec)).talks[0].summary == "会前谈心要点"


def test_rectification_items_are_added_after_the_meeting_and_marked_done(world, scope_of):
    p, sec = world.people, world.users.branch_secretary
    m = life_meeting(world, scope_of)
    scope = scope_of(sec)
    snapshot = written()
    with pytest.raises(ServiceError, match="整改事项在会后列出"):
        svc.rectification_add(
            actor=sec,
            scope=scope,
            meeting=m,
            item="x",
            owner=p.member,
            due_on=D(2026, 6, 30),
            now=at(D(2026, 3, 1)),
        )
    with pytest.raises(ServiceError, match="赵六 不在"):
        svc.rectification_add(actor=sec, scope=scope, meeting=m, item="x", owner=p.b2, due_on=D(2026, 6, 30))
    with pytest.raises(ServiceError, match="早于会议日期"):
        svc.rectification_add(
            actor=sec, scope=scope, meeting=m, item="x", owner=p.member, due_on=D(2026, 3, 1)
        )
    assert written() == snapshot
    item = svc.rectification_add(
        actor=sec, scope=scope, meeting=m, item="每月参加一次教研活动", owner=p.member, due_on=D(2026, 6, 30)
    )
    member = world.users.member
    with pytest.raises(ServiceError, match="晚于今天"):
        svc.rectification_done(
            actor=member,
            scope=scope_of(member),
            rectification=item,
            done_on=D(2026, 5, 2),
            evidence="x",
            today=D(2026, 5, 1),
        )
    with pytest.raises(NotFound):
        outsider = world.users.outsider
        svc.rectification_done(
            actor=outsider, scope=scope_of(outsider), rectification=item, done_on=D(2026, 5, 1), evidence="x"
        )
    assert Rectification.objects.get(pk=item.pk).done_on is None
    svc.rectification_done(
        actor=member,
        scope=scope_of(member),
        rectification=item,
        done_on=D(2026, 5, 1),
        evidence="已参加3次",
        today=D(2026, 5, 1),
    )
    item.refresh_from_db()
    assert (item.done_on, item.evidence) == (D(2026, 5, 1), "已参加3次")
    with pytest.raises(ServiceError, match="已于 2026年5月1日 完成"):
        svc.rectification_done(
            actor=sec, scope=scope, rectification=item, done_on=D(2026, 5, 2), evidence="y"
        )
    assert AuditEntry.objects.filter(object_type="life.rectification", object_id=str(item.pk)).count() == 2


def test_the_life_meeting_page_takes_the_same_queries_whatever_was_said(world, scope_of):
    p, sec = world.people, world.users.branch_secretary
    m = life_meeting(world, scope_of)
    scope = scope_of(sec)
    small = _queries(lambda: svc.life_meeting_page(m, scope=scope))
    for person in (p.member, p.branch_secretary, p.school_secretary):
        svc.criticism_add(actor=sec, scope=scope, meeting=m, kind="self", text="自我批评", speaker=person)
        svc.rectification_add(
            actor=sec, scope=scope, meeting=m, item="整改", owner=person, due_on=D(2026, 12, 31)
        )
    record(
        world,
        scope_of,
        sec,
        p.branch_secretary,
        p.member,
        D(2026, 3, 1),
        before_life_meeting=m,
        today=D(2026, 3, 2),
    )
    page = svc.life_meeting_page(m, scope=scope)
    assert page.not_spoken == [] and len(page.rectifications) == 3
    assert _queries(lambda: svc.life_meeting_page(m, scope=scope)) == small


# Pages ------------------------------------------------------------------------------------------------------


def test_the_life_meeting_page_records_criticism_and_rectification(world, scope_of, client_as):
    p = world.people
    m = life_meeting(world, scope_of)  # held in March: it has started
    url = f"/life/meetings/{m.pk}/life/"
    client = client_as(world.users.branch_secretary)
    page = client.get(url).content.decode()
    assert "尚未作自我批评（3 人）" in page and "添加整改事项" in page
    response = client.post(
        url, {"action": "criticism", "kind": "self", "speaker": p.member.pk, "text": "学习不够"}
    )
    assert response.status_code == 302
    response = client.post(
        url, {"action": "rectification", "item": "加强学习", "owner": p.member.pk, "due_on": "2026-12-31"}
    )
    assert response.status_code == 302
    response = client.post(
        url, {"action": "rectification", "item": "x", "owner": p.member.pk, "due_on": "2026-01-01"}
    )
    assert response.status_code == 200 and "早于会议日期" in response.content.decode()
    page = client.get(url).content.decode()
    assert "学习不够" in page and "加强学习" in page and "尚未作自我批评（2 人）" in page
    # The owner marks their own item done from the same page.
    item = Rectification.objects.get(meeting=m)
    owner = client_as(world.users.member)
    response = owner.post(
        url, {"action": "done", "rectification": item.pk, "done_on": "2026-04-01", "evidence": "已完成"}
    )
    assert response.status_code == 302
    assert Rectification.objects.get(pk=item.pk).done_on == D(2026, 4, 1)


def test_a_member_may_not_record_criticism_on_the_page(world, scope_of, client_as):
    m = life_meeting(world, scope_of)
    before = written()
    response = client_as(world.users.member).post(
        f"/life/meetings/{m.pk}/life/",
        {"action": "criticism", "kind": "self", "speaker": world.people.member.pk, "text": "x"},
    )
    assert response.status_code == 403
    assert written() == before


def test_talk_new_records_a_members_own_talk(world, client_as):
    client = client_as(world.users.member)
    page = client.get("/life/talks/new/?org=SA-B1").content.decode()
    assert "谈话对象" in page and "李红梅" in page
    response = client.post(
        "/life/talks/new/",
        {
            "org": "SA-B1",
            "held_on": "2026-03-02",
            "person_b": world.people.school_secretary.pk,
            "topic": "谈心",
        },
    )
    assert response.status_code == 302
    talk = Talk.objects.get()
    assert (talk.person_a, talk.person_b, talk.relation) == (
        world.people.member,
        world.people.school_secretary,
        "member_member",
    )
    response = client.post(
        "/life/talks/new/",
        {"org": "SA-B1", "held_on": "2026-03-02", "person_b": world.people.member.pk, "topic": "谈心"},
    )
    assert response.status_code == 200 and "不能是同一人" in response.content.decode()
    assert Talk.objects.count() == 1


def test_pages_of_another_school_or_a_non_member_are_not_found(world, scope_of, client_as):
    m = life_meeting(world, scope_of)
    sec = world.users.branch_secretary
    general = meeting_create(
        actor=sec, scope=scope_of(sec), org=world.sa_b1, kind="general_assembly", title="党员大会",
        starts_at=at(D(2026, 3, 12)), now=at(D(2026, 3, 1)),
    )  # fmt: skip
    outsider = client_as(world.users.outsider)
    assert outsider.get(f"/life/meetings/{m.pk}/life/").status_code == 404
    assert outsider.post(f"/life/meetings/{m.pk}/life/", {"action": "criticism"}).status_code == 404
    assert outsider.get("/life/talks/?org=SA-B1").status_code == 404
    assert outsider.get("/life/talks/new/?org=SA-B1").status_code == 404
    assert client_as(sec).get(f"/life/meetings/{general.pk}/life/").status_code == 404
    activist = client_as(world.users.activist)
    assert activist.get("/life/talks/").status_code == 404
    assert activist.get(f"/life/meetings/{m.pk}/life/").status_code == 404
    # A member sees their own branch's board by default.
    member_page = client_as(world.users.member).get("/life/talks/")
    assert member_page.status_code == 200 and "第一党支部" in member_page.content.decode()


def test_the_correct_page_is_for_the_two_and_the_managers(world, scope_of, client_as, zhou):
    p = world.people
    talk = record(
        world, scope_of, world.users.member, p.member, p.branch_secretary, D(2026, 3, 2), today=D(2026, 3, 3)
    )
    url = f"/life/talks/{talk.pk}/correct/"
    assert client_as(zhou).get(url).status_code == 404
    assert client_as(world.users.outsider).post(url).status_code == 404
    client = client_as(world.users.member)
    assert "更正原因" in client.get(url).content.decode()
    data = {
        "held_on": "2026-03-02",
        "person_a": p.member.pk,
        "person_b": p.branch_secretary.pk,
        "topic": "谈教学",
        "summary": "",
    }
    response = client.post(url, data)  # no reason
    assert response.status_code == 200 and Talk.objects.get().topic != "谈教学"
    response = client.post(url, {**data, "reason": "主题写错了"})
    assert response.status_code == 302
    talk.refresh_from_db()
    assert talk.topic == "谈教学"
    assert Talk.objects.count() == 1
