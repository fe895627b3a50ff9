"""The compliance board and "my obligations": what each persona sees, runs, and never sees."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_org, make_person
from zhibu.compliance.models import EvaluationRun, Finding
from zhibu.compliance.services import evaluation_run
from zhibu.orgs.models import CommitteeTerm, OrgKind


def _evaluate(world, scope_of, org=None, today=dt.date(2026, 6, 30)):  # type: ignore[no-untyped-def]
    user = world.users.wc_staff
    return evaluation_run(actor=user, scope=scope_of(user), org=org or world.wc, year=2026, today=today)


def test_the_board_shows_rules_in_colour_with_message_due_and_source(world, scope_of, client_as):
    CommitteeTerm.objects.create(org=world.sa_b1, started_on=dt.date(2023, 9, 1), length_years=3)
    _evaluate(world, scope_of)
    html = client_as(world.users.branch_secretary).get("/policy/board/SA-B1/?year=2026").content.decode()
    assert "配备书记" in html and "state-ok" in html
    assert "state-due_soon" in html and "2026-09-01" in html
    assert "支部条例" in html
    assert "立即检查" in html


def test_the_board_rolls_up_children_and_lists_problems(world, scope_of, client_as):
    _evaluate(world, scope_of)
    html = client_as(world.users.school_secretary).get("/policy/board/SA/?year=2026").content.decode()
    assert "下级组织" in html and "/policy/board/SA-B2/" in html
    assert "书记空缺" in html  # SA-B2's vacancy, in the list of problems
    assert "检查历史" in html


def test_the_roll_up_counts_every_finding_under_each_child(world, scope_of, client_as):
    from zhibu.compliance.selectors import board_page

    run = _evaluate(world, scope_of)
    page = board_page(scope_of(world.users.wc_staff), "WC", year=2026)
    by_code = {row.org.code: row.counts for row in page.children}
    for code in ("SA", "SB"):
        expected = Finding.objects.filter(run=run, org_path__startswith=f"/WC/{code}/").count()
        assert sum(by_code[code].values()) == expected


def test_the_board_filters_by_state_and_rule(world, scope_of, client_as):
    _evaluate(world, scope_of)
    client = client_as(world.users.wc_staff)
    html = client.get("/policy/board/WC/?year=2026&state=unknown&rule=member.lapse").content.decode()
    assert "尚无交纳党费" in html
    assert "书记空缺" not in html.split('id="findings"')[1]


def test_board_queries_do_not_grow_with_the_district(world, scope_of, client_as):
    client = client_as(world.users.wc_staff)
    _evaluate(world, scope_of)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/policy/board/WC/?year=2026").status_code == 200
        return len(ctx.captured_queries)

    small = count()
    for i in range(5):
        school = make_org(f"SX{i}", f"学校{i}", OrgKind.COMMITTEE, world.wc, is_school=True)
        branch = make_org(f"SX{i}-B1", "第一党支部", OrgKind.BRANCH, school)
        make_person(f"党员{i}", branch)
    _evaluate(world, scope_of)
    assert count() == small


def test_running_from_the_board_stores_a_run(world, client_as):
    client = client_as(world.users.branch_secretary)
    response = client.post("/policy/board/SA-B1/run/", {"year": "2026"})
    assert response.status_code == 302 and response["Location"] == "/policy/board/SA-B1/?year=2026"
    run = EvaluationRun.objects.get()
    assert run.root == world.sa_b1 and run.triggered_by == world.users.branch_secretary


def test_a_member_cannot_run_and_sees_only_themselves_on_their_branch_board(world, scope_of, client_as):
    _evaluate(world, scope_of)
    client = client_as(world.users.member)
    assert client.post("/policy/board/SA-B1/run/", {"year": "2026"}).status_code == 403
    assert EvaluationRun.objects.count() == 1
    html = client.get("/policy/board/SA-B1/?year=2026").content.decode()
    assert "立即检查" not in html
    assert "张三丰" in html and "李红梅" not in html


def test_school_a_sees_nothing_of_school_b(world, scope_of, client_as):
    _evaluate(world, scope_of)
    client = client_as(world.users.school_secretary)
    assert client.get("/policy/board/SB/?year=2026").status_code == 404
    assert client.get("/policy/board/SB-B1/?year=2026").status_code == 404
    assert client.post("/policy/board/SB/run/", {"year": "2026"}).status_code == 404
    html = client.get("/policy/board/SA/?year=2026").content.decode()
    assert "钱七" not in html and "SB-B1" not in html and "第二小学" not in html


def test_estimated_due_dates_are_marked(world, scope_of, client_as):
    _evaluate(world, scope_of)
    run = EvaluationRun.objects.get()
    Finding.objects.filter(run=run, org=world.sa_b2, rule_id="org.secretary_in_post").update(
        due=dt.date(2031, 3, 3), estimated=True
    )
    html = client_as(world.users.school_secretary).get("/policy/board/SA-B2/?year=2026").content.decode()
    assert "（估算）" in html


def test_no_run_yet_says_so(world, client_as):
    html = client_as(world.users.branch_secretary).get("/policy/board/SA-B1/?year=2026").content.decode()
    assert "尚未对本组织运行检查" in html


def test_org_page_links_to_the_board(world, client_as):
    html = client_as(world.users.branch_secretary).get("/orgs/SA-B1/").content.decode()
    assert "/policy/board/SA-B1/" in html


def test_my_obligations_show_my_findings_and_my_posts_problems(world, scope_of, client_as):
    _evaluate(world, scope_of)
    html = client_as(world.users.school_secretary).get("/policy/me/?year=2026").content.decode()
    assert "王建国" in html  # member.lapse about themselves
    assert "第一中学党委 · 书记" in html
    member_html = client_as(world.users.member).get("/policy/me/?year=2026").content.decode()
    assert "张三丰" in member_html and "李红梅" not in member_html


def test_home_links_to_my_obligations(world, client_as):
    assert "/policy/me/" in client_as(world.users.member).get("/").content.decode()


def test_the_problem_list_shows_what_to_act_on_and_keeps_unknowns_one_filter_away(world, scope_of, client_as):
    _evaluate(world, scope_of)
    client = client_as(world.users.school_secretary)
    html = client.get("/policy/board/SA/?year=2026").content.decode()
    problems = html.split("需要处理的结果", 1)[1]
    assert "书记空缺" in problems
    assert "无法判断" not in problems.split("</table>", 1)[0].split("<table", 1)[1]
    html = client.get("/policy/board/SA/?year=2026&state=unknown").content.decode()
    assert "张三丰" in html  # the lapse check of a member, unknown until dues and meetings exist
