"""The calendar page: everyone logged in sees a year; only calendar administrators change it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.core.test_calendar_admin import CSV_2027, YAML_2027
from zhibu.core.models import AuditEntry, CalendarDay, CalendarYear

BANNER_2027 = "2027 年的放假安排尚未公布，按周一至周五估算"


def _cell(html: str, date: str) -> str:
    """The class attribute of one day's cell."""
    m = re.search(r'class="([^"]*)"[^>]*data-date="' + date + '"', html)
    assert m, date
    return m.group(1)


def test_the_page_needs_a_login(client, db):
    response = client.get("/calendar/2026/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_member_sees_2026_with_holidays_make_up_days_and_weekends(world, client_as):
    response = client_as(world.users.member).get("/calendar/2026/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "2026 年工作日历" in html and BANNER_2027.replace("2027", "2026") not in html
    assert "国务院放假安排" in html
    assert "d-holiday" in _cell(html, "2026-10-01")
    assert "d-makeup" in _cell(html, "2026-10-10")
    assert "d-weekend" in _cell(html, "2026-03-07")
    assert "d-workday" in _cell(html, "2026-03-09")
    assert html.count('cal-month"') == 12
    assert "10月1日至10月7日 国庆节（7 天）" in html
    assert "单日调整" not in html.split('<div class="cal-lists">')[1]  # no admin forms for a member
    assert 'action="/calendar/day/"' not in html


def test_a_member_sees_the_estimated_banner_for_2027(world, client_as):
    html = client_as(world.users.member).get("/calendar/2027/").content.decode()
    assert BANNER_2027 in html
    assert "d-estimated" in _cell(html, "2027-03-08")


def test_the_current_year_page_works(world, client_as):
    response = client_as(world.users.member).get("/calendar/")
    assert response.status_code == 200
    assert f"{dt.date.today().year} 年工作日历" in response.content.decode()


@pytest.mark.parametrize("year", ["1800", "3000"])
def test_an_absurd_year_is_not_found(world, client_as, year):
    assert client_as(world.users.member).get(f"/calendar/{year}/").status_code == 404


def test_the_year_page_takes_a_fixed_number_of_queries(world, client_as):
    client = client_as(world.users.wc_staff)
    client.get("/calendar/2026/")
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/calendar/2026/").status_code == 200
    CalendarDay.objects.bulk_create(
        CalendarDay(date=dt.date(2026, 3, d), is_workday=False) for d in range(1, 29)
    )
    with CaptureQueriesContext(connection) as ctx2:
        assert client.get("/calendar/2026/").status_code == 200
    assert len(ctx2) == len(ctx)


def test_work_committee_staff_get_the_forms_and_can_set_a_day(world, client_as):
    client = client_as(world.users.wc_staff)
    html = client.get("/calendar/2027/?day=2027-03-08").content.decode()
    assert 'action="/calendar/day/"' in html and 'action="/calendar/load/"' in html
    assert 'value="2027-03-08"' in html
    response = client.post("/calendar/day/", {"date": "2027-03-08", "action": "holiday", "name": "校庆"})
    assert response.status_code == 302 and response["Location"] == "/calendar/2027/"
    html = client.get("/calendar/2027/").content.decode()
    assert "d-override" in _cell(html, "2027-03-08") and "校庆" in html
    response = client.post("/calendar/day/", {"date": "2027-03-08", "action": "clear"})
    assert response.status_code == 302 and not CalendarDay.objects.exists()


def test_clearing_a_day_without_an_override_shows_the_error(world, client_as):
    response = client_as(world.users.wc_staff).post(
        "/calendar/day/", {"date": "2027-03-08", "action": "clear"}
    )
    assert response.status_code == 400 and "没有单日调整" in response.content.decode()


def test_uploading_a_year_makes_it_known(world, client_as):
    client = client_as(world.users.wc_staff)
    upload = SimpleUploadedFile("2027.yaml", YAML_2027.encode(), content_type="application/x-yaml")
    response = client.post("/calendar/load/", {"year": "2027", "file": upload})
    assert response.status_code == 302 and response["Location"] == "/calendar/2027/"
    html = client.get("/calendar/2027/").content.decode()
    assert BANNER_2027 not in html and "管理员载入的放假安排" in html
    assert "d-holiday" in _cell(html, "2027-10-01")


def test_a_bad_upload_names_the_line_and_changes_nothing(world, client_as):
    client = client_as(world.users.wc_staff)
    upload = SimpleUploadedFile("2027.csv", (CSV_2027 + "2028-01-01,放假,元旦\n").encode())
    response = client.post("/calendar/load/", {"year": "2027", "file": upload})
    assert response.status_code == 400
    html = response.content.decode()
    assert "第6行" in html and "不在 2027 年" in html
    assert not CalendarYear.objects.exists()


@pytest.mark.parametrize("persona", ["school_secretary", "branch_secretary", "member", "outsider"])
def test_others_may_not_change_the_calendar_from_the_page(world, client_as, persona):
    client = client_as(getattr(world.users, persona))
    assert 'action="/calendar/day/"' not in client.get("/calendar/2027/").content.decode()
    response = client.post("/calendar/day/", {"date": "2027-03-08", "action": "holiday"})
    assert response.status_code == 403
    upload = SimpleUploadedFile("2027.yaml", YAML_2027.encode())
    assert client.post("/calendar/load/", {"year": "2027", "file": upload}).status_code == 403
    assert not CalendarDay.objects.exists() and not CalendarYear.objects.exists()
    assert not AuditEntry.objects.filter(object_type__startswith="core.calendar").exists()


def test_the_change_routes_take_only_post(world, client_as):
    client = client_as(world.users.wc_staff)
    assert client.get("/calendar/day/").status_code == 405
    assert client.get("/calendar/load/").status_code == 405
