"""The secretary's meeting pages through the client: the year's list, the year plan, the notice, a meeting's
page with its check-in code, attendance, leave, minutes, attachments, confirming it held, and votes.

Every refusal is shown as a message and writes nothing; a meeting outside the user's scope is a 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.conftest import forget_year
from tests.development.pipeline import applicant, drive
from tests.factories import make_post
from zhibu.core.models import AuditEntry
from zhibu.core.scoping import scope_for
from zhibu.development.models import BranchVote
from zhibu.life import services, voting
from zhibu.life.models import (
    Attendance,
    AttendanceState,
    Ballot,
    LeaveState,
    Meeting,
    MeetingAttachment,
    MeetingKind,
    MeetingState,
    Vote,
    VoteChoice,
    VoteState,
)
from zhibu.life.voting import ballot_cast

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


# Helpers ----------------------------------------------------------------------------------------------


def written() -> tuple[Any, ...]:
    """Everything a refused request could have written."""
    return (
        list(
            Meeting.objects.order_by("pk").values_list(
                "title", "state", "notice_published_at", "minutes", "held_at", "cancelled_reason"
            )
        ),
        list(Attendance.objects.order_by("pk").values_list("state", "leave_state", "checked_in_at")),
        list(MeetingAttachment.objects.order_by("pk").values_list("pk", "withdrawn_at")),
        list(Vote.objects.order_by("pk").values_list("state", "in_favour")),
        AuditEntry.objects.count(),
    )


def create(world: Any, *, starts_at: dt.datetime | None = None, **kw: Any) -> Meeting:
    """An assembly of the first branch, arranged by its secretary (three full members vote)."""
    user = world.users.branch_secretary
    kw.setdefault("kind", MeetingKind.GENERAL_ASSEMBLY)
    kw.setdefault("org", world.sa_b1)
    kw.setdefault("title", "第四季度支部党员大会")
    return services.meeting_create(
        actor=user,
        scope=scope_for(user),
        starts_at=starts_at or timezone.now() + dt.timedelta(days=3),
        now=timezone.now() - dt.timedelta(days=30),
        **kw,
    )


def past(world: Any, **kw: Any) -> Meeting:
    """An assembly that started an hour ago."""
    return create(world, starts_at=timezone.now() - dt.timedelta(hours=1), **kw)


def url(meeting: Meeting, action: str = "") -> str:
    return f"/life/meetings/{meeting.pk}/" + (f"{action}/" if action else "")


def text(response: Any) -> str:
    return str(response.content.decode())


def all_present(world: Any, meeting: Meeting) -> None:
    services.attendance_mark(
        actor=world.users.branch_secretary,
        scope=scope_for(world.users.branch_secretary),
        meeting=meeting,
        states={a.person_id: AttendanceState.PRESENT for a in meeting.attendances.all()},
    )


def notice(world: Any, **kw: Any) -> dict[str, Any]:
    data = {
        "kind": MeetingKind.GENERAL_ASSEMBLY,
        "org": world.sa_b1.code,
        "title": "十二月支部党员大会",
        "starts_at": (timezone.localtime() + dt.timedelta(days=5)).strftime("%Y-%m-%dT15:00"),
        "place": "三楼会议室",
        "topics": "学习传达上级会议精神",
        "chair": str(world.people.branch_secretary.pk),
    }
    data.update(kw)
    return data


# The year's list --------------------------------------------------------------------------------------


def test_the_list_shows_the_years_meetings_by_month_with_attendance_and_minutes(world, client_as):
    held = past(world, title="上月支部党员大会")
    all_present(world, held)
    create(world, kind=MeetingKind.THEME_DAY, title="主题党日：参观红色教育基地")
    year = timezone.localtime(held.starts_at).year
    page = text(client_as(world.users.branch_secretary).get(f"/life/meetings/?org=SA-B1&year={year}"))
    assert "上月支部党员大会" in page and "主题党日：参观红色教育基地" in page
    assert "出席 3/3（100%）" in page and "会议记录：无" in page
    assert "新建会议" in page and "年度会议计划" in page
    only_days = text(
        client_as(world.users.branch_secretary).get(f"/life/meetings/?org=SA-B1&year={year}&kind=theme_day")
    )
    assert "主题党日：参观红色教育基地" in only_days and "上月支部党员大会" not in only_days


def test_the_list_links_the_years_ledger_the_talks_and_the_calendar_feeds(world, client_as):
    held = past(world, title="上月支部党员大会")
    all_present(world, held)
    year = timezone.localtime(held.starts_at).year
    client = client_as(world.users.branch_secretary)
    page = text(client.get(f"/life/meetings/?org=SA-B1&year={year}"))
    xlsx = f"/life/ledger.xlsx?org=SA-B1&amp;year={year}"
    pdf = f"/life/ledger.pdf?org=SA-B1&amp;year={year}"
    assert xlsx in page and pdf in page and f"/life/talks/?org=SA-B1&amp;year={year}" in page
    assert "/life/feeds/" in page
    download = client.get(xlsx.replace("&amp;", "&"))
    assert download.status_code == 200 and download.content[:2] == b"PK"
    assert "attachment" in download["Content-Disposition"]
    assert client.get(f"/life/talks/?org=SA-B1&year={year}").status_code == 200
    # Above the branches the talks link lets the talks page choose a branch instead of naming the school.
    school = text(client_as(world.users.school_secretary).get(f"/life/meetings/?org=SA&year={year}"))
    assert f"/life/talks/?year={year}" in school and f"/life/ledger.xlsx?org=SA&amp;year={year}" in school


def test_above_the_schools_the_list_is_one_line_per_school_in_constant_queries(
    world, client_as, django_assert_max_num_queries
):
    held = past(world, title="上月支部党员大会")
    all_present(world, held)
    create(world, kind=MeetingKind.THEME_DAY, title="主题党日：参观红色教育基地")
    year = timezone.localtime(held.starts_at).year
    client = client_as(world.users.wc_staff)
    page = text(client.get(f"/life/meetings/?year={year}"))
    assert "某区教育工委" in page and "第一中学党委" in page and "第二小学党总支" in page
    assert "上月支部党员大会" not in page  # no meeting rows above the schools
    row = page.split("第一中学党委</a>", 1)[1].split("</tr>", 1)[0]
    cells = [c.split("<", 1)[0] for c in row.split('class="num">')[1:]]
    assert cells[:4] == ["0", "2", "0", "—"], cells  # nothing confirmed held yet; two arranged
    # A school's own list is unchanged, and so is a branch's.
    assert "上月支部党员大会" in text(client.get(f"/life/meetings/?org=SA&year={year}"))
    # The same number of queries with more schools and meetings.
    with django_assert_max_num_queries(20) as captured:
        client.get(f"/life/meetings/?year={year}")
    few = len(captured)
    from tests.factories import make_org, make_person
    from zhibu.orgs.models import OrgKind

    for i in range(3):
        make_org(f"SX{i}", f"第{i + 3}中学党委", OrgKind.COMMITTEE, world.wc, is_school=True)
    create(world, title="又一次支部党员大会")
    with django_assert_max_num_queries(few) as captured:
        assert "第3中学党委" in text(client.get(f"/life/meetings/?year={year}"))
    # A branch directly under the work committee is in no school: its meetings get a line of their own.
    office = make_org("WC-B1", "机关党支部", OrgKind.BRANCH, world.wc)
    make_person("吴十", office)
    services.meeting_create(
        actor=world.users.wc_staff,
        scope=scope_for(world.users.wc_staff),
        org=office,
        kind=MeetingKind.GENERAL_ASSEMBLY,
        title="机关党支部党员大会",
        starts_at=held.starts_at + dt.timedelta(hours=2),
    )
    page = text(client.get(f"/life/meetings/?year={year}"))
    row = page.split("不属于学校的党组织", 1)[1].split("</tr>", 1)[0]
    assert [c.split("<", 1)[0] for c in row.split('class="num">')[1:]][:2] == ["0", "1"]


def test_a_member_sees_the_meetings_they_are_invited_to_without_the_new_button(world, client_as):
    create(world, title="支部党员大会")
    page = text(client_as(world.users.member).get("/life/meetings/"))
    assert "支部党员大会" in page and "新建会议" not in page


def test_the_list_of_another_schools_org_is_not_found(world, client_as):
    response = client_as(world.users.branch_secretary).get("/life/meetings/?org=SB-B1")
    assert response.status_code == 404


def test_the_nav_links_organisational_life_for_those_who_view_orgs(world, client_as):
    assert "组织生活" in text(client_as(world.users.branch_secretary).get("/"))
    assert "/life/meetings/" not in text(client_as(world.users.member).get("/"))


# The notice -------------------------------------------------------------------------------------------


def test_the_notice_form_arranges_a_meeting_with_its_invitees(world, client_as):
    client = client_as(world.users.branch_secretary)
    assert client.get("/life/meetings/new/?org=SA-B1").status_code == 200
    response = client.post("/life/meetings/new/", notice(world))
    meeting = Meeting.objects.get()
    assert response.status_code == 302 and response["Location"] == url(meeting)
    assert meeting.title == "十二月支部党员大会" and meeting.chair == world.people.branch_secretary
    assert meeting.attendances.count() == 3 and meeting.notice_published_at is None


def test_changing_the_org_reloads_the_notice_form_with_its_people_and_keeps_what_was_typed(world, client_as):
    client = client_as(world.users.branch_secretary)
    page = text(
        client.get(
            "/life/meetings/new/",
            {"org": "SA-B1-G1", "kind": "group_meeting", "title": "十二月党小组会", "place": "教研室"},
            HTTP_HX_REQUEST="true",
        )
    )
    assert 'value="十二月党小组会"' in page and 'value="教研室"' in page
    assert '<option value="group_meeting" selected>' in page
    assert client.get("/life/meetings/new/?org=SB-B1").status_code == 404


def test_a_refused_notice_keeps_what_was_typed_and_writes_nothing(world, client_as):
    client = client_as(world.users.branch_secretary)
    before = written()
    response = client.post("/life/meetings/new/", notice(world, kind=MeetingKind.GROUP_MEETING))
    assert response.status_code == 422
    page = text(response)
    assert "党小组会应由党小组召开" in page and "十二月支部党员大会" in page
    assert written() == before


def test_a_lecture_without_its_lecturer_is_refused_on_the_field(world, client_as):
    before = written()
    response = client_as(world.users.branch_secretary).post(
        "/life/meetings/new/", notice(world, kind=MeetingKind.PARTY_LECTURE, title="党课")
    )
    assert response.status_code == 422 and "党课应填写主讲人" in text(response)
    assert written() == before


def test_the_notice_is_changed_published_and_the_meeting_cancelled_with_a_reason(world, client_as):
    meeting = create(world)
    client = client_as(world.users.branch_secretary)
    form = client.get(url(meeting, "edit"))
    assert form.status_code == 200 and "第四季度支部党员大会" in text(form)
    # Saving the form unchanged changes nothing (its times have no seconds; the stored ones have).
    as_shown = timezone.localtime(meeting.starts_at).strftime("%Y-%m-%dT%H:%M")
    unchanged = notice(world, title=meeting.title, starts_at=as_shown, place="", topics="", chair="")
    before = written()
    assert client.post(url(meeting, "edit"), unchanged).status_code == 302
    assert written() == before
    data = notice(world, title="第四季度支部党员大会（改期）")
    assert client.post(url(meeting, "edit"), data).status_code == 302
    meeting.refresh_from_db()
    assert meeting.title == "第四季度支部党员大会（改期）"

    client.post(url(meeting, "publish"))
    meeting.refresh_from_db()
    assert meeting.notice_published_at is not None

    before = written()
    page = text(client.post(url(meeting, "cancel"), {"reason": ""}, follow=True))
    assert "会议未取消：请填写取消原因" in page and written() == before
    client.post(url(meeting, "cancel"), {"reason": "与全校大会时间冲突"})
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.CANCELLED and meeting.cancelled_reason == "与全校大会时间冲突"


def test_a_member_cannot_open_the_notice_form(world, client_as):
    meeting = create(world)
    client = client_as(world.users.member)
    assert client.get("/life/meetings/new/").status_code == 403
    assert client.get(url(meeting, "edit")).status_code == 403


# A meeting's page -------------------------------------------------------------------------------------


def test_managers_see_the_check_in_code_and_members_do_not(world, client_as):
    meeting = create(world)
    page = text(client_as(world.users.branch_secretary).get(url(meeting)))
    assert "<svg" in page and f"http://testserver/life/c/{meeting.check_in_token}/" in page
    assert "签到时间" in page and "有表决权的党员应到 3 人，实到 0 人" in page
    member_page = client_as(world.users.member).get(url(meeting))
    assert member_page.status_code == 200
    assert "<svg" not in text(member_page) and meeting.check_in_token not in text(member_page)
    assert "我的参会情况" in text(member_page)


def test_a_meeting_of_another_school_is_not_found_and_nothing_is_written(world, client_as):
    meeting = create(world)
    client = client_as(world.users.outsider)
    before = written()
    assert client.get(url(meeting)).status_code == 404
    for action in ("publish", "cancel", "attendance", "minutes", "hold", "votes", "attachments"):
        assert client.post(url(meeting, action), {"reason": "x", "title": "x"}).status_code == 404, action
    assert written() == before


def test_attendance_is_marked_for_everyone_in_one_post(world, client_as):
    meeting = past(world)
    people = world.people
    data = {
        f"state_{people.school_secretary.pk}": "present",
        f"state_{people.branch_secretary.pk}": "present",
        f"state_{people.member.pk}": "absent",
    }
    client = client_as(world.users.branch_secretary)
    assert client.post(url(meeting, "attendance"), data).status_code == 302
    states = dict(meeting.attendances.values_list("person_id", "state"))
    assert states[people.member.pk] == "absent" and states[people.branch_secretary.pk] == "present"
    page = text(client.get(url(meeting)))
    assert "实到 2 人" in page and "代为签到" in page


def test_a_refused_attendance_sheet_writes_nothing(world, client_as):
    meeting = create(world)  # not started yet
    before = written()
    page = text(
        client_as(world.users.branch_secretary).post(
            url(meeting, "attendance"), {f"state_{world.people.member.pk}": "present"}, follow=True
        )
    )
    assert "出席情况未登记" in page and "开始后才能登记出席情况" in page
    assert written() == before


def test_leave_is_approved_or_refused_from_the_page(world, client_as):
    meeting = create(world)
    services.leave_request(actor=world.users.member, meeting=meeting, reason="外出培训")
    row = Attendance.objects.get(meeting=meeting, person=world.people.member)
    client = client_as(world.users.branch_secretary)
    page = text(client.get(url(meeting)))
    assert "待审批的请假" in page and "外出培训" in page
    assert client.post(f"/life/leave/{row.pk}/approve/").status_code == 302
    row.refresh_from_db()
    assert row.leave_state == LeaveState.APPROVED and row.state == AttendanceState.EXCUSED
    before = written()
    page = text(client.post(f"/life/leave/{row.pk}/refuse/", follow=True))
    assert "请假未审批" in page and "没有待审批的请假申请" in page and written() == before
    # The member may not decide their own leave: the page says so and writes nothing.
    assert client_as(world.users.member).post(f"/life/leave/{row.pk}/approve/").status_code == 403


def test_the_minutes_are_recorded_with_speakers_and_resolutions(world, client_as):
    meeting = past(world)
    member = world.people.member
    data = {
        "chair": str(world.people.branch_secretary.pk),
        "recorder": str(member.pk),
        "topics": "传达上级精神\n讨论年度工作",
        "resolutions": "通过年度工作计划",
        "speakers_total": "2",
        "speaker_0_person": str(member.pk),
        "speaker_0_summary": "结合教学谈体会",
        "speaker_1_name": "区教育局 周老师",
        "speaker_1_summary": "介绍兄弟学校经验",
    }
    client = client_as(world.users.branch_secretary)
    assert client.post(url(meeting, "minutes"), data).status_code == 302
    meeting.refresh_from_db()
    assert meeting.minutes["topics"] == ["传达上级精神", "讨论年度工作"]
    assert [s["name"] for s in meeting.minutes["speakers"]] == ["张三丰", "区教育局 周老师"]
    assert meeting.minutes["resolutions"] == ["通过年度工作计划"] and meeting.recorder == member
    assert "介绍兄弟学校经验" in text(client.get(url(meeting)))


def test_minutes_from_a_form_opened_before_a_vote_closed_keep_the_votes_result(world, client_as):
    meeting = past(world)
    all_present(world, meeting)
    client = client_as(world.users.branch_secretary)
    page = text(client.get(url(meeting)))
    seen = page.split('name="seen" value="', 1)[1].split('"', 1)[0]
    # While the form is open, a show-of-hands vote is closed and its result goes into the resolutions.
    secretary = {"actor": world.users.branch_secretary, "scope": scope_for(world.users.branch_secretary)}
    vote = voting.vote_open(**secretary, meeting=meeting, title="评选优秀党员", secret=False)
    voting.vote_record_counts(**secretary, vote=vote, in_favour=3, against=0, abstain=0)
    voting.vote_close(**secretary, vote=vote)
    result = Meeting.objects.get(pk=meeting.pk).minutes["resolutions"][0]
    data = {
        "seen": seen,
        "chair": str(world.people.branch_secretary.pk),
        "recorder": str(world.people.member.pk),
        "topics": "传达上级精神",
        "resolutions": "通过年度工作计划",
        "speakers_total": "0",
    }
    before = written()
    response = client.post(url(meeting, "minutes"), data)
    assert response.status_code == 422 and written() == before
    page = text(response)
    assert "会议记录已有更新" in page
    # The form now holds what was typed and the result stored meanwhile; saving it keeps both.
    form = page.split('name="resolutions"', 1)[1].split("</textarea>", 1)[0]
    assert "通过年度工作计划" in form and result in form
    data["seen"] = page.split('name="seen" value="', 1)[1].split('"', 1)[0]
    data["resolutions"] = f"通过年度工作计划\n{result}"
    assert client.post(url(meeting, "minutes"), data).status_code == 302
    assert Meeting.objects.get(pk=meeting.pk).minutes["resolutions"] == ["通过年度工作计划", result]


def test_refused_minutes_keep_what_was_typed_and_write_nothing(world, client_as):
    meeting = past(world)
    data = {
        "chair": str(world.people.branch_secretary.pk),
        "recorder": str(world.people.member.pk),
        "topics": "传达上级精神",
        "speakers_total": "1",
        "speaker_0_name": "临时来宾",
        "speaker_0_summary": "",
    }
    before = written()
    response = client_as(world.users.branch_secretary).post(url(meeting, "minutes"), data)
    assert response.status_code == 422
    page = text(response)
    assert "会议记录未保存：请填写临时来宾的发言要点" in page and "传达上级精神" in page
    assert written() == before


def test_confirming_held_lists_what_is_missing_then_succeeds(world, client_as):
    meeting = past(world)
    client = client_as(world.users.branch_secretary)
    page = text(client.get(url(meeting)))
    assert "3 人的出席情况尚未登记" in page and "会议记录尚未填写议题" in page
    before = written()
    page = text(client.post(url(meeting, "hold"), follow=True))
    assert "未确认召开" in page and written() == before
    all_present(world, meeting)
    services.minutes_record(
        actor=world.users.branch_secretary,
        scope=scope_for(world.users.branch_secretary),
        meeting=meeting,
        topics=["学习"],
        chair=world.people.branch_secretary,
        recorder=world.people.member,
    )
    client.post(url(meeting, "hold"))
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.HELD


def test_attachments_are_uploaded_refused_by_content_and_withdrawn(world, client_as):
    meeting = past(world)
    client = client_as(world.users.branch_secretary)
    photo = SimpleUploadedFile("现场.png", PNG, content_type="image/png")
    client.post(url(meeting, "attachments"), {"file": photo, "title": "会议现场"})
    attachment = MeetingAttachment.objects.get()
    assert "会议现场" in text(client.get(url(meeting)))
    download = client.get(f"/life/attachments/{attachment.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"\x89PNG")

    before = written()
    fake = SimpleUploadedFile("名单.png", b"not an image at all", content_type="image/png")
    page = text(client.post(url(meeting, "attachments"), {"file": fake}, follow=True))
    assert "附件未上传" in page and "不是 JPEG、PNG 图片或 PDF 文件" in page
    page = text(client.post(f"/life/attachments/{attachment.pk}/withdraw/", {"reason": ""}, follow=True))
    assert "附件未撤回：请填写撤回原因" in page
    assert written()[:4] == before[:4]  # the download above was audited (an export); nothing else

    client.post(f"/life/attachments/{attachment.pk}/withdraw/", {"reason": "传错了"})
    attachment.refresh_from_db()
    assert attachment.withdrawn_reason == "传错了"
    assert client_as(world.users.outsider).get(f"/life/attachments/{attachment.pk}/").status_code == 404


# Votes ------------------------------------------------------------------------------------------------


def test_a_vote_without_quorum_is_refused_and_nothing_is_written(world, client_as):
    meeting = past(world)
    client = client_as(world.users.branch_secretary)
    before = written()
    page = text(client.post(url(meeting, "votes"), {"title": "表决年度计划", "secret": "1"}, follow=True))
    assert "表决未开始" in page and Vote.objects.count() == 0 and written() == before


def test_a_secret_vote_is_opened_cast_closed_and_never_shows_who_voted_what(world, client_as):
    meeting = past(world)
    all_present(world, meeting)
    client = client_as(world.users.branch_secretary)
    client.post(url(meeting, "votes"), {"title": "表决年度工作计划", "secret": "1"})
    vote = Vote.objects.get()
    assert vote.secret and vote.entitled_count == 3
    ballot_cast(actor=world.users.member, vote=vote, choice=VoteChoice.AGAINST)
    ballot_cast(actor=world.users.branch_secretary, vote=vote, choice=VoteChoice.IN_FAVOUR)
    page = text(client.get(url(meeting)))
    assert "已投票 2 人" in page and "结束后公布票数" in page and "尚未投票：王建国" in page
    client.post(f"/life/votes/{vote.pk}/close/", {"written_opinions": "0"})
    vote.refresh_from_db()
    assert vote.state == VoteState.CLOSED and vote.passed is False
    page = text(client.get(url(meeting)))
    assert "赞成 1" in page and "反对 1" in page and vote.explanation in page
    assert "张三丰：反对" not in page and "李红梅：赞成" not in page
    assert Ballot.objects.count() == 2


def test_an_open_vote_shows_who_voted_what(world, client_as):
    meeting = past(world)
    all_present(world, meeting)
    client = client_as(world.users.branch_secretary)
    client.post(url(meeting, "votes"), {"title": "推选优秀党员", "secret": "0"})
    vote = Vote.objects.get()
    ballot_cast(actor=world.users.member, vote=vote, choice=VoteChoice.IN_FAVOUR)
    assert "张三丰：赞成" in text(client.get(url(meeting)))


def test_paper_counts_are_entered_checked_and_decide_the_vote(world, client_as):
    meeting = past(world)
    all_present(world, meeting)
    client = client_as(world.users.branch_secretary)
    client.post(url(meeting, "votes"), {"title": "表决年度工作计划", "secret": "1"})
    vote = Vote.objects.get()
    before = written()
    page = text(
        client.post(
            f"/life/votes/{vote.pk}/counts/", {"in_favour": "4", "against": "0", "abstain": "0"}, follow=True
        )
    )
    assert "计票结果未录入" in page and "多于实到会有表决权的 3 人" in page and written() == before
    client.post(f"/life/votes/{vote.pk}/counts/", {"in_favour": "3", "against": "0", "abstain": "0"})
    client.post(f"/life/votes/{vote.pk}/close/")
    vote.refresh_from_db()
    assert vote.passed is True
    meeting.refresh_from_db()
    assert any("表决年度工作计划：通过" in r for r in meeting.minutes["resolutions"])


def test_a_reception_vote_is_put_to_the_assembly_and_recorded_as_the_cases_step(world, client_as):
    person = applicant(world)
    case = drive(world, person, until="application_form")
    starts = timezone.make_aware(dt.datetime(2024, 11, 10, 14, 30))
    meeting = create(world, starts_at=starts)
    all_present(world, meeting)
    client = client_as(world.users.branch_secretary)
    page = text(client.get(url(meeting)))
    option = f"{case.pk}:reception"
    assert option in page and f"{person.name}：接收预备党员" in page
    client.post(
        url(meeting, "votes"), {"title": f"接收{person.name}为预备党员", "secret": "1", "development": option}
    )
    vote = Vote.objects.get()
    assert vote.development_case == case and vote.rule == "reception_vote"
    for user in (world.users.school_secretary, world.users.branch_secretary, world.users.member):
        ballot_cast(actor=user, vote=vote, choice=VoteChoice.IN_FAVOUR)
    client.post(f"/life/votes/{vote.pk}/close/")
    assert "记入发展党员流程" in text(client.get(url(meeting)))
    client.post(f"/life/votes/{vote.pk}/step/")
    assert BranchVote.objects.get(meeting_vote=vote).passed
    page = text(client.get(url(meeting)))
    assert "已记入发展党员流程" in page
    assert option not in page  # voted through: the case waits for the upper committee, not another vote
    before = written()
    page = text(client.post(f"/life/votes/{vote.pk}/step/", follow=True))
    assert "未记录到发展党员流程" in page and "已记录" in page and written() == before


def test_a_member_cannot_open_a_vote(world, client_as):
    meeting = past(world)
    all_present(world, meeting)
    before = written()
    response = client_as(world.users.member).post(url(meeting, "votes"), {"title": "x", "secret": "1"})
    assert response.status_code == 403 and written() == before


# The year plan ----------------------------------------------------------------------------------------


def test_the_plan_proposes_the_year_with_reasons_and_applies_the_chosen_meetings(world, client_as):
    client = client_as(world.users.branch_secretary)
    page = text(client.get("/life/plan/?org=SA-B1&year=2026"))
    assert "支部党员大会" in page and "全国基准" in page and 'name="items"' in page
    keys = [k for k in page.split('name="items" value="')[1:]]
    chosen = [k.split('"', 1)[0] for k in keys][:2]
    response = client.post("/life/plan/", {"org": "SA-B1", "year": "2026", "items": chosen})
    assert response.status_code == 302
    assert Meeting.objects.filter(from_plan=True).count() == 2
    # Applying the same again creates nothing new.
    client.post("/life/plan/", {"org": "SA-B1", "year": "2026", "items": chosen})
    assert Meeting.objects.filter(from_plan=True).count() == 2


def test_the_plan_of_a_year_the_calendar_does_not_know_says_so(world, client_as):
    forget_year(2027)
    client = client_as(world.users.branch_secretary)
    page = text(client.get("/life/plan/?org=SA-B1&year=2027"))
    assert "2027年的节假日安排尚未录入" in page and 'name="items"' not in page
    before = written()
    page = text(client.post("/life/plan/", {"org": "SA-B1", "year": "2027", "items": ["x"]}, follow=True))
    assert "未安排" in page and written() == before


def test_a_member_sees_no_plan_of_a_branch_they_do_not_view(world, client_as):
    assert client_as(world.users.member).get("/life/plan/?org=SB-B1&year=2026").status_code == 404
    before = written()
    response = client_as(world.users.outsider).post("/life/plan/", {"org": "SA-B1", "year": "2026"})
    assert response.status_code == 404 and written() == before


def test_a_lecture_of_the_plan_takes_its_lecturer_and_title_from_the_plan_page(world, client_as):
    client = client_as(world.users.branch_secretary)
    page = text(client.get("/life/plan/?org=SA-B1&year=2026"))
    keys = [k.split('"', 1)[0] for k in page.split('name="items" value="')[1:]]
    lecture = next(k for k in keys if "|party_lecture|" in k)
    secretary = world.people.branch_secretary
    data = {
        "org": "SA-B1",
        "year": "2026",
        "items": [lecture],
        f"lecturer_{lecture}": str(secretary.pk),
        f"lecture_title_{lecture}": "学习贯彻党章",
    }
    client.post("/life/plan/", data)
    meeting = Meeting.objects.get(kind=MeetingKind.PARTY_LECTURE)
    assert meeting.lecturer == secretary and meeting.lecture_title == "学习贯彻党章" and meeting.from_plan


def test_the_meeting_page_links_the_minutes_document_and_the_life_meeting_page(world, client_as):
    meeting = past(world, kind=MeetingKind.LIFE_MEETING, title="2026年度组织生活会")
    services.minutes_record(
        actor=world.users.branch_secretary,
        scope=scope_for(world.users.branch_secretary),
        meeting=meeting,
        topics=["对照检查"],
        chair=world.people.branch_secretary,
        recorder=world.people.member,
    )
    page = text(client_as(world.users.branch_secretary).get(url(meeting)))
    assert (
        f"/life/meetings/{meeting.pk}/minutes.docx" in page and f"/life/meetings/{meeting.pk}/life/" in page
    )
    # A member of the branch sees the minutes but no export of them.
    assert "minutes.docx" not in text(client_as(world.users.member).get(url(meeting)))


def test_a_committee_meeting_votes_by_the_committees_rule(world, client_as):
    make_post(world.sa_b1, world.people.school_secretary, "organization_officer")
    meeting = past(world, kind=MeetingKind.COMMITTEE_MEETING, title="十二月支委会")
    all_present(world, meeting)
    client_as(world.users.branch_secretary).post(
        url(meeting, "votes"), {"title": "确定发展对象", "secret": "0"}
    )
    vote = Vote.objects.get()
    assert vote.rule == "committee_meeting" and vote.entitled_count == 2


# The plan's past dates and the secretary's lecture ----------------------------------------------------


def _plan_boxes(page: str) -> dict[str, bool]:
    """Each item's key on the plan page and whether its box comes ticked."""
    out = {}
    for chunk in page.split('name="items" value="')[1:]:
        key, rest = chunk.split('"', 1)
        out[key] = rest.split(">", 1)[0].strip() == "checked"
    return out


def _lecturer_selected(page: str, key: str) -> str:
    """The lecturer pre-selected for the lecture `key` on the plan page ("" when none)."""
    select = page.split(f'name="lecturer_{key}"', 1)[1].split("</select>", 1)[0]
    chosen = [o for o in select.split("<option")[1:] if " selected" in o.split(">", 1)[0]]
    return chosen[0].split('value="', 1)[1].split('"', 1)[0] if chosen else ""


def test_past_plan_items_come_unticked_labelled_and_explained(world, client_as, monkeypatch):
    today = dt.date(2026, 6, 15)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: today)
    page = text(client_as(world.users.branch_secretary).get("/life/plan/?org=SA-B1&year=2026"))
    boxes = _plan_boxes(page)
    past_keys = [k for k in boxes if dt.date.fromisoformat(k.rsplit("|", 1)[1]) < today]
    assert past_keys and len(past_keys) < len(boxes)
    assert all(boxes[k] is (k not in past_keys) for k in boxes)
    assert page.count('<span class="muted">（日期已过）</span>') == len(past_keys)
    assert 'id="plan-past"' in page and "默认不勾选，不会安排" in page and "补记" in page
    # On the year's first day nothing is past: every box ticked, no label, no explanation.
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 1, 1))
    page = text(client_as(world.users.branch_secretary).get("/life/plan/?org=SA-B1&year=2026"))
    assert all(_plan_boxes(page).values()) and "日期已过" not in page and 'id="plan-past"' not in page


def test_a_past_plan_item_ticked_is_arranged_as_a_planned_meeting_without_a_notice(
    world, client_as, monkeypatch
):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 6, 15))
    client = client_as(world.users.branch_secretary)
    boxes = _plan_boxes(text(client.get("/life/plan/?org=SA-B1&year=2026")))
    gone = next(k for k, ticked in boxes.items() if not ticked and "|general_assembly|" in k)
    page = text(client.post("/life/plan/", {"org": "SA-B1", "year": "2026", "items": [gone]}, follow=True))
    meeting = Meeting.objects.get(from_plan=True)
    assert meeting.kind == MeetingKind.GENERAL_ASSEMBLY and meeting.state == MeetingState.PLANNED
    assert meeting.notice_published_at is None
    assert timezone.localtime(meeting.starts_at).date().isoformat() == gone.rsplit("|", 1)[1]
    assert "其中 1 次日期已过，作为补记安排" in page


def test_the_plan_page_preselects_the_secretary_for_the_years_first_lecture(world, client_as, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 1, 1))
    client = client_as(world.users.branch_secretary)
    page = text(client.get("/life/plan/?org=SA-B1&year=2026"))
    first, *others = [k for k in _plan_boxes(page) if "|party_lecture|" in k]
    secretary = world.people.branch_secretary
    assert _lecturer_selected(page, first) == str(secretary.pk)
    assert others and all(_lecturer_selected(page, k) == "" for k in others)
    assert "建议由支部书记李红梅主讲" in page and "每年 1 次（全国基准）" in page
    # Still the secretary's choice: cleared, the lecture waits for its lecturer; kept, it is the secretary.
    client.post("/life/plan/", {"org": "SA-B1", "year": "2026", "items": [first], f"lecturer_{first}": ""})
    assert Meeting.objects.get(kind=MeetingKind.PARTY_LECTURE).lecturer is None
    Attendance.objects.all().delete()
    Meeting.objects.all().delete()
    data = {
        "org": "SA-B1",
        "year": "2026",
        "items": [first],
        f"lecturer_{first}": str(world.people.member.pk),
        f"lecture_title_{first}": "学习党史",
    }
    client.post("/life/plan/", data)
    assert Meeting.objects.get(kind=MeetingKind.PARTY_LECTURE).lecturer == world.people.member


def test_the_plan_page_says_the_secretary_post_is_vacant_and_preselects_nobody(world, client_as, monkeypatch):
    from zhibu.orgs.models import Post

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 1, 1))
    Post.objects.filter(org=world.sa_b1, role="secretary").update(ended_on=dt.date(2025, 12, 31))
    page = text(client_as(world.users.school_secretary).get("/life/plan/?org=SA-B1&year=2026"))
    lectures = [k for k in _plan_boxes(page) if "|party_lecture|" in k]
    assert lectures and all(_lecturer_selected(page, k) == "" for k in lectures)
    assert "支部书记空缺，请另定主讲人" in page


def test_the_plan_page_runs_the_same_queries_whatever_the_secretaries_and_past_items(
    world, client_as, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from zhibu.orgs.models import Post

    client = client_as(world.users.school_secretary)  # a school's secretary: not one of the posts changed

    def count(today: dt.date) -> int:
        monkeypatch.setattr(timezone, "localdate", lambda *a, **k: today)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/life/plan/?org=SA-B1&year=2026").status_code == 200
        return len(ctx.captured_queries)

    before = count(dt.date(2026, 1, 1))
    Post.objects.filter(org=world.sa_b1, role="secretary").update(ended_on=dt.date(2026, 3, 31))
    for i, month in enumerate((4, 7, 10)):
        make_post(
            world.sa_b1,
            world.people.member if i else world.people.school_secretary,
            "secretary",
            started_on=dt.date(2026, month, 1),
        )
    assert count(dt.date(2026, 11, 23)) == before
