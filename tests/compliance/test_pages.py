"""The rule catalogue page, an org's policy page, and editing a school's own values."""

from __future__ import annotations

import pytest

from zhibu.compliance.models import PolicyAssignment, PolicyOverride
from zhibu.core.models import AuditEntry


def test_catalogue_page_lists_parameters_rules_and_kinds(world, client_as):
    text = client_as(world.users.member).get("/policy/rules/").content.decode()
    assert "org.committee_required" in text and "正式党员7名以上的党支部设立支部委员会" in text
    assert "支部党员大会召开频次" in text and "quorum_majority" in text
    assert "示例：主题党日固定在每月15日" in text


def test_catalogue_needs_login(client):
    assert client.get("/policy/rules/").status_code == 302


def test_school_page_shows_values_origins_and_edit_links(world, client_as):
    PolicyAssignment.objects.create(org=world.wc, pack_name="example.study_24_hours")
    PolicyOverride.objects.create(
        org=world.sa, key="general_assembly.period", value={"count": 1, "per": "month"}
    )
    response = client_as(world.users.school_secretary).get("/policy/SA/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "示例：党员每年集中学习不少于24学时" in text and "沿用上级的指定" in text
    assert "本校设置（第一中学党委）" in text and "每月 1 次" in text
    assert "example.study_24_hours" in text  # the origin of study.member_hours
    assert "/policy/SA/edit/?key=general_assembly.period" in text and "恢复" in text
    assert "org.term_expiry" in text and "term.branch_years" in text


def test_branch_page_is_read_only_and_points_to_the_school(world, client_as):
    text = client_as(world.users.branch_secretary).get("/policy/SA-B1/").content.decode()
    assert "修改</a>" not in text
    text = client_as(world.users.school_secretary).get("/policy/SA-B1/").content.decode()
    assert "/policy/SA/" in text and "修改</a>" not in text


def test_viewing_needs_scope(world, client_as):
    assert client_as(world.users.member).get("/policy/SA-B1/").status_code == 200
    assert client_as(world.users.member).get("/policy/SA-B2/").status_code == 404
    assert client_as(world.users.school_secretary).get("/policy/SB/").status_code == 404
    assert client_as(world.users.outsider).get("/policy/SA/").status_code == 404


@pytest.mark.parametrize(
    ("key", "data", "stored"),
    [
        (
            "general_assembly.period",
            {"count": "1", "per": "month", "every": "2"},
            {"count": 1, "per": "month", "every": 2},
        ),
        ("application_talk.within", {"n": "20", "unit": "days"}, {"days": 20}),
        ("appraisal.excellent_max_share", {"ratio": "1/4"}, "1/4"),
        ("general_assembly.quorum", {"ratio": "2/3", "strict": "on"}, {"ratio": "2/3", "strict": True}),
        ("activist.mentors", {"min": "1", "max": "3"}, {"min": 1, "max": 3}),
        ("theme_day.day", {"value": "15"}, 15),
        ("school_year.spring_end", {"value": "7-10"}, "07-10"),
        ("dues.rounding", {"value": "0.1"}, "0.1"),
        ("dues.base.recalc", {"value": "yearly"}, "yearly"),
        (
            "dues.base.items",
            {"value": "岗位工资\n薪级工资\n基础性绩效工资"},
            ["岗位工资", "薪级工资", "基础性绩效工资"],
        ),
        (
            "dues.tiers.retired",
            {"value": "4000 0.5%\n- 1%"},
            [{"up_to": "4000", "rate": "0.5%"}, {"up_to": None, "rate": "1%"}],
        ),
        ("study.member_hours", {"value": "40"}, 40),
    ],
)
def test_every_type_has_a_form_that_stores_what_a_pack_would(world, client_as, key, data, stored):
    client = client_as(world.users.school_secretary)
    form = client.get(f"/policy/SA/edit/?key={key}")
    assert form.status_code == 200
    response = client.post("/policy/SA/edit/", {"key": key, "note": "本校规定", **data})
    assert response.status_code == 302, response.content.decode()[:2000]
    row = PolicyOverride.objects.get(org=world.sa, key=key)
    assert row.value == stored and row.note == "本校规定"
    assert (
        AuditEntry.objects.filter(object_type="compliance.policyoverride", org_path=world.sa.path).count()
        == 1
    )


def test_a_wrong_value_shows_a_chinese_message_and_writes_nothing(world, client_as):
    client = client_as(world.users.school_secretary)
    response = client.post("/policy/SA/edit/", {"key": "general_assembly.quorum", "ratio": "3/2"})
    assert response.status_code == 200
    assert (
        "general_assembly.quorum" in response.content.decode() and "0 与 1 之间" in response.content.decode()
    )
    response = client.post("/policy/SA/edit/", {"key": "term.branch_years", "value": "9"})
    assert response.status_code == 200
    response = client.post("/policy/SA/edit/", {"key": "dues.tiers.retired", "value": "abc"})
    assert response.status_code == 200 and "应为数值" in response.content.decode()
    response = client.post("/policy/SA/edit/", {"key": "dues.tiers.retired", "value": "- 1%\n5000 2%"})
    assert response.status_code == 200 and "只有最后一档可以不写上限" in response.content.decode()
    assert (
        not PolicyOverride.objects.exists()
        and not AuditEntry.objects.filter(object_type__startswith="compliance.").exists()
    )


def test_the_form_starts_from_the_current_value(world, client_as):
    text = (
        client_as(world.users.school_secretary)
        .get("/policy/SA/edit/?key=dues.tiers.salaried")
        .content.decode()
    )
    assert "3000 0.5%" in text and "- 2%" in text
    text = (
        client_as(world.users.school_secretary)
        .get("/policy/SA/edit/?key=general_assembly.period")
        .content.decode()
    )
    assert 'value="quarter" selected' in text


def test_clear_and_assign_from_the_page(world, client_as):
    client = client_as(world.users.school_secretary)
    PolicyOverride.objects.create(org=world.sa, key="study.member_hours", value=40)
    assert client.post("/policy/SA/clear/", {"key": "study.member_hours"}).status_code == 302
    assert not PolicyOverride.objects.exists()
    assert client.post("/policy/SA/pack/", {"pack_name": "example.theme_day_15th"}).status_code == 302
    assert PolicyAssignment.objects.get(org=world.sa).pack_name == "example.theme_day_15th"
    response = client.post("/policy/SA/pack/", {"pack_name": "nope"}, follow=True)
    assert "不存在" in response.content.decode()


def test_edit_routes_refuse_those_who_may_not_edit(world, client_as):
    member = client_as(world.users.member)
    assert member.get("/policy/SA-B1/edit/?key=study.member_hours").status_code == 403
    assert member.post("/policy/SA-B1/edit/", {"key": "study.member_hours", "value": "1"}).status_code == 403
    branch = client_as(world.users.branch_secretary)
    assert branch.get("/policy/SA-B1/edit/?key=study.member_hours").status_code == 403  # a branch inherits
    assert branch.post("/policy/SA-B1/clear/", {"key": "study.member_hours"}).status_code == 403
    assert branch.post("/policy/SA-B1/pack/", {"pack_name": "national"}).status_code == 403
    assert branch.post("/policy/SA/pack/", {"pack_name": "national"}).status_code == 404  # not visible
    school = client_as(world.users.school_secretary)
    assert school.get("/policy/SB/edit/?key=study.member_hours").status_code == 404
    assert school.get("/policy/SA/edit/?key=no.such").status_code == 404
    assert school.get("/policy/SA/clear/").status_code == 405
    assert not PolicyOverride.objects.exists()
