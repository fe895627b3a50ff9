"""The school year: each school's autumn and spring semesters, or marked defaults when it has set none."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from zhibu.core.calendar import (
    default_semesters,
    school_of,
    school_year_of,
    semesters_for,
    semesters_for_orgs,
)
from zhibu.core.calendar_services import semesters_set
from zhibu.core.errors import NotPermitted, ServiceError
from zhibu.core.models import AuditEntry, Semester

D = dt.date
GOOD = {
    "autumn_starts_on": D(2026, 8, 31),
    "autumn_ends_on": D(2027, 1, 22),
    "spring_starts_on": D(2027, 2, 22),
    "spring_ends_on": D(2027, 7, 2),
}


def test_an_unconfigured_school_gets_the_default_semesters_marked_as_default(world):
    result = semesters_for(world.sa_b1_g1, 2026)
    assert result.school == world.sa and result.school_year == 2026 and result.is_default
    assert (result.autumn.starts_on, result.autumn.ends_on) == (D(2026, 9, 1), D(2027, 1, 31))
    assert (result.spring.starts_on, result.spring.ends_on) == (D(2027, 3, 1), D(2027, 7, 15))
    assert result.autumn.is_default and result.spring.is_default
    assert result.autumn.label == "秋季学期" and result.label == "2026–2027 学年"


def test_the_school_of_any_org_is_itself_or_its_nearest_school_ancestor(world):
    assert school_of(world.sa) == world.sa
    assert school_of(world.sa_b1_g2) == world.sa
    assert school_of(world.sb_b1) == world.sb
    assert school_of(world.wc) is None
    assert semesters_for(world.wc, 2026).school is None and semesters_for(world.wc, 2026).is_default


def test_a_secretary_of_the_school_configures_its_semesters(world, scope_of):
    user = world.users.school_secretary
    semesters_set(actor=user, scope=scope_of(user), school=world.sa, school_year=2026, **GOOD)
    result = semesters_for(world.sa_b1, 2026)
    assert not result.is_default and not result.autumn.is_default
    assert (result.autumn.starts_on, result.spring.ends_on) == (D(2026, 8, 31), D(2027, 7, 2))
    assert result.semester_on(D(2026, 12, 1)) == result.autumn
    assert result.semester_on(D(2027, 2, 1)) is None  # winter vacation
    assert semesters_for(world.sb_b1, 2026).is_default  # school B untouched
    assert semesters_for(world.sa, 2027).is_default  # another school year untouched
    entries = AuditEntry.objects.filter(object_type="core.semester")
    assert entries.count() == 2 and {e.org_path for e in entries} == {world.sa.path}
    assert {e.action for e in entries} == {"create"}


def test_setting_again_updates_and_audits_only_what_changed(world, scope_of):
    user = world.users.school_secretary
    semesters_set(actor=user, scope=scope_of(user), school=world.sa, school_year=2026, **GOOD)
    semesters_set(
        actor=user,
        scope=scope_of(user),
        school=world.sa,
        school_year=2026,
        **{**GOOD, "spring_ends_on": D(2027, 7, 9)},
    )
    assert Semester.objects.count() == 2
    updates = AuditEntry.objects.filter(object_type="core.semester", action="update")
    assert [e.changes for e in updates] == [{"ends_on": ["2027-07-02", "2027-07-09"]}]


@pytest.mark.parametrize(
    "change, field, fragment",
    [
        ({"autumn_ends_on": D(2026, 8, 30)}, "autumn_ends_on", "晚于开始日期"),
        ({"spring_starts_on": D(2027, 7, 3)}, "spring_ends_on", "晚于开始日期"),
        ({"spring_starts_on": D(2027, 1, 10)}, "spring_starts_on", "不能重叠"),
        ({"autumn_starts_on": D(2025, 9, 1)}, "autumn_starts_on", "2026 年开始"),
        ({"spring_ends_on": D(2028, 1, 5)}, "spring_ends_on", "2027 年结束"),
        ({"autumn_starts_on": D(2026, 7, 10)}, "autumn_starts_on", "上一学年的春季学期（默认）"),
        ({"spring_ends_on": D(2027, 9, 5)}, "spring_ends_on", "下一学年的秋季学期（默认）"),
    ],
)
def test_invalid_semesters_are_refused_and_nothing_is_written(world, scope_of, change, field, fragment):
    user = world.users.school_secretary
    with pytest.raises(ServiceError) as exc:
        semesters_set(
            actor=user, scope=scope_of(user), school=world.sa, school_year=2026, **{**GOOD, **change}
        )
    assert any(fragment in m for m in exc.value.errors[field]), exc.value.errors
    assert (
        not Semester.objects.exists() and not AuditEntry.objects.filter(object_type="core.semester").exists()
    )


def test_a_semester_may_not_overlap_the_configured_next_school_year(world, scope_of):
    user = world.users.school_secretary
    scope = scope_of(user)
    semesters_set(
        actor=user,
        scope=scope,
        school=world.sa,
        school_year=2027,
        autumn_starts_on=D(2027, 8, 20),
        autumn_ends_on=D(2028, 1, 20),
        spring_starts_on=D(2028, 2, 20),
        spring_ends_on=D(2028, 7, 1),
    )
    with pytest.raises(ServiceError) as exc:
        semesters_set(
            actor=user,
            scope=scope,
            school=world.sa,
            school_year=2026,
            **{**GOOD, "spring_ends_on": D(2027, 8, 25)},
        )
    assert "自 2027-08-20 起" in exc.value.errors["spring_ends_on"][0]
    assert Semester.objects.filter(school_year=2026).count() == 0


@pytest.mark.parametrize("persona", ["outsider", "branch_secretary", "member"])
def test_only_managers_of_the_school_may_set_its_semesters(world, scope_of, persona):
    user = getattr(world.users, persona)
    with pytest.raises(NotPermitted):
        semesters_set(actor=user, scope=scope_of(user), school=world.sa, school_year=2026, **GOOD)
    assert not Semester.objects.exists()


def test_school_b_cannot_be_edited_by_school_a_but_by_the_work_committee(world, scope_of):
    secretary = world.users.school_secretary
    with pytest.raises(NotPermitted):
        semesters_set(actor=secretary, scope=scope_of(secretary), school=world.sb, school_year=2026, **GOOD)
    staff = world.users.wc_staff
    semesters_set(actor=staff, scope=scope_of(staff), school=world.sb, school_year=2026, **GOOD)
    assert not semesters_for(world.sb_b1, 2026).is_default


def test_semesters_are_set_per_school_only(world, scope_of):
    staff = world.users.wc_staff
    with pytest.raises(ServiceError, match="学校党组织"):
        semesters_set(actor=staff, scope=scope_of(staff), school=world.sa_b1, school_year=2026, **GOOD)


def test_semesters_of_many_orgs_take_a_fixed_number_of_queries(world):
    Semester.objects.create(
        school=world.sa, school_year=2026, kind="autumn", starts_on=D(2026, 8, 31), ends_on=D(2027, 1, 22)
    )
    orgs = [world.sa, world.sa_b1, world.sa_b1_g1, world.sa_b2, world.sb, world.sb_b1, world.wc]
    with CaptureQueriesContext(connection) as ctx:
        result = semesters_for_orgs(orgs, 2026)
    # schools, semesters, and the schools' effective policies (pack assignments, overrides)
    assert len(ctx) == 4
    with CaptureQueriesContext(connection) as ctx:
        semesters_for_orgs(orgs[:2], 2026)
    assert len(ctx) == 4
    assert result[world.sa_b1_g1.pk].autumn.starts_on == D(2026, 8, 31)
    assert result[world.sa_b1_g1.pk].spring.is_default  # only autumn configured: spring stays default
    assert result[world.sb_b1.pk].school == world.sb and result[world.sb_b1.pk].is_default
    assert result[world.wc.pk].school is None


def test_school_year_of_a_date():
    assert school_year_of(D(2026, 9, 10)) == 2026
    assert school_year_of(D(2027, 3, 1)) == 2026
    assert school_year_of(D(2027, 8, 1)) == 2027
    autumn, spring = default_semesters(2026)
    assert autumn.ends_on < spring.starts_on


# The page --------------------------------------------------------------------------------------------


def test_the_page_shows_defaults_and_lets_the_school_secretary_save(world, client_as):
    client = client_as(world.users.school_secretary)
    html = client.get("/calendar/semesters/SA/?year=2026").content.decode()
    assert "第一中学党委 · 学期" in html and "默认" in html and 'value="2026-09-01"' in html
    data = {"school_year": "2026", **{k: v.isoformat() for k, v in GOOD.items()}}
    response = client.post("/calendar/semesters/SA/", data)
    assert response.status_code == 302 and response["Location"].endswith("?year=2026")
    html = client.get("/calendar/semesters/SA/?year=2026").content.decode()
    assert "2026-08-31 至 2027-01-22" in html


def test_the_page_shows_validation_errors(world, client_as):
    client = client_as(world.users.school_secretary)
    data = {
        "school_year": "2026",
        **{k: v.isoformat() for k, v in GOOD.items()},
        "spring_starts_on": "2027-01-10",
    }
    response = client.post("/calendar/semesters/SA/", data)
    assert response.status_code == 400 and "不能重叠" in response.content.decode()
    assert not Semester.objects.exists()


def test_an_org_inside_a_school_leads_to_the_school_page(world, client_as):
    response = client_as(world.users.school_secretary).get("/calendar/semesters/SA-B1/")
    assert response.status_code == 302 and response["Location"] == "/calendar/semesters/SA/"


def test_a_branch_secretary_sees_the_school_semesters_through_the_branch_but_cannot_edit(world, client_as):
    client = client_as(world.users.branch_secretary)
    assert client.get("/calendar/semesters/SA/").status_code == 404  # the school itself is not in view
    response = client.get("/calendar/semesters/SA-B1/?year=2026")
    html = response.content.decode()
    assert response.status_code == 200 and "第一中学党委 · 学期" in html
    assert "2026-09-01 至 2027-01-31" in html and 'name="autumn_starts_on"' not in html
    data = {"school_year": "2026", **{k: v.isoformat() for k, v in GOOD.items()}}
    assert client.post("/calendar/semesters/SA-B1/", data).status_code == 403
    assert client_as(world.users.member).get("/calendar/semesters/SA-B1/").status_code == 200
    assert not Semester.objects.exists()


def test_school_b_secretary_cannot_reach_school_a_page(world, client_as):
    client = client_as(world.users.outsider)
    assert client.get("/calendar/semesters/SA/").status_code == 404
    data = {"school_year": "2026", **{k: v.isoformat() for k, v in GOOD.items()}}
    assert client.post("/calendar/semesters/SA/", data).status_code == 404
    assert not Semester.objects.exists()


def test_a_viewer_of_the_school_who_does_not_manage_it_gets_403_on_post(world, client_as):
    from tests.factories import grant, make_user

    viewer = make_user("viewer")
    grant(viewer, world.sa, "view")
    client = client_as(viewer)
    html = client.get("/calendar/semesters/SA/").content.decode()
    assert "第一中学党委 · 学期" in html and 'name="autumn_starts_on"' not in html
    data = {"school_year": "2026", **{k: v.isoformat() for k, v in GOOD.items()}}
    assert client.post("/calendar/semesters/SA/", data).status_code == 403
    assert not Semester.objects.exists()


def test_the_work_committee_page_has_no_semesters(world, client_as):
    assert client_as(world.users.wc_staff).get("/calendar/semesters/WC/").status_code == 404


def test_a_school_overriding_its_school_year_in_the_policy_changes_its_default_semesters(world, scope_of):
    from zhibu.compliance.models import PolicyOverride

    PolicyOverride.objects.create(org=world.sa, key="school_year.autumn_start", value="08-25")
    result = semesters_for(world.sa_b1, 2026)
    assert result.is_default and result.autumn.starts_on == D(2026, 8, 25)
    assert semesters_for(world.sb_b1, 2026).autumn.starts_on == D(2026, 9, 1)  # school B keeps the national
