"""Every write of a meeting's life: create it with its invitees, change and publish its notice, cancel it,
take leave, check in, mark attendance, record the minutes, keep attachments, and confirm it was held.

Services take `actor=` (the user) and, where a manager acts, `scope=`; they refuse with a Chinese
ServiceError/NotPermitted/NotFound and write nothing then (one transaction each). Every change is audited;
nothing is deleted (a meeting is cancelled, an attachment withdrawn). The quorum of a meeting comes from
the effective policy of its org (general_assembly.quorum, committee_meeting.quorum).

Once a notice is published, its invitees are notified of it, of changes that matter to them and of a
cancellation (zhibu.life.notices, inside the same transaction).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from zhibu.compliance.packs import effective_policy
from zhibu.compliance.values import Fraction, add_months
from zhibu.core.audit import audit_record, diff
from zhibu.core.calendar import WorkdayCalendar
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.scoping import Scope
from zhibu.core.uploads import JPEG, PDF, PNG, check_upload
from zhibu.life import invitees as inv
from zhibu.life.models import (
    Attendance,
    AttendanceRole,
    AttendanceState,
    CheckInMethod,
    LeaveState,
    Meeting,
    MeetingAttachment,
    MeetingKind,
    MeetingState,
    VoteState,
)
from zhibu.life.notices import notices_send
from zhibu.orgs.models import Organization
from zhibu.people.models import Person

# Sanity bounds on a meeting's date (typing mistakes, not regulation): nothing before the year 2000 is
# entered by hand, and nothing is planned further than two years ahead.
EARLIEST_YEAR = 2000
MAX_MONTHS_AHEAD = 24
# Attachments: photos and scans (JPEG, PNG) or PDF, recognised by their content, not their names.
_ACCEPTED = (JPEG, PNG, PDF)
# What a secretary may mark on the attendance sheet.
MARKABLE = (AttendanceState.PRESENT, AttendanceState.EXCUSED, AttendanceState.ABSENT)
# Notice fields a planned meeting may change (meeting_update).
NOTICE_FIELDS = (
    "org",
    "kind",
    "title",
    "starts_at",
    "ends_at",
    "place",
    "topics",
    "chair",
    "recorder",
    "lecturer",
    "lecturer_name",
    "lecture_title",
    "include_activists",
    "also_counts_as",
)
_INVITEE_FIELDS = ("org", "kind", "include_activists", "also_counts_as")
# What the invitees are told changed in a published notice (other fields, such as the recorder, are not news).
NOTICE_CHANGE_LABELS = {
    "title": "会议名称",
    "starts_at": "开始时间",
    "ends_at": "结束时间",
    "place": "地点",
    "topics": "议题",
    "lecturer": "主讲人",
    "lecturer_name": "主讲人",
    "lecture_title": "党课题目",
    "org": "参会组织",
    "kind": "会议类型",
    "include_activists": "参会人员",
    "also_counts_as": "参会人员",
}
# Which pack parameter holds each kind's quorum (the kinds that have one).
QUORUM_RULES = {
    MeetingKind.GENERAL_ASSEMBLY: "general_assembly",
    MeetingKind.COMMITTEE_MEETING: "committee_meeting",
}


# Helpers ----------------------------------------------------------------------------------------------


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment)


def _when(moment: dt.datetime) -> str:
    m = _local(moment)
    return f"{m.year}年{m.month}月{m.day}日 {m:%H:%M}"


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _names(names: Sequence[str], limit: int = 5) -> str:
    shown = "、".join(names[:limit])
    return f"{shown}等 {len(names)} 人" if len(names) > limit else shown


def _text(value: Any, label: str, field: str, *, required: bool = False, limit: int = 200) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ServiceError(f"请填写{label}", field=field)
    if len(text) > limit:
        raise ServiceError(f"{label}不能超过 {limit} 字", field=field)
    return text


def _lock(meeting: Meeting) -> Meeting:
    try:
        return Meeting.objects.select_for_update().select_related("org").get(pk=meeting.pk)
    except Meeting.DoesNotExist:
        raise NotFound("会议不存在") from None


def _check_manage(scope: Scope, org: Organization, meeting: Meeting | None = None) -> None:
    """Visible (through the org, or as an invitee) or NotFound; managed or NotPermitted."""
    visible = scope.can_view_path(org.path)
    if not visible and meeting is not None and scope.person_id:
        visible = meeting.attendances.filter(person_id=scope.person_id).exists()
    if not visible:
        raise NotFound("会议或党组织不存在，或不在您的权限范围内")
    if not scope.can_manage_path(org.path):
        raise NotPermitted(f"您无权管理{org.name}的会议")


def _state_label(meeting: Meeting) -> str:
    return str(MeetingState(meeting.state).label)


def _refuse_unless_planned(meeting: Meeting, what: str) -> None:
    if meeting.state != MeetingState.PLANNED:
        raise ServiceError(f"会议“{meeting.title}”{_state_label(meeting)}，不能{what}")


def _refuse_held_roll(meeting: Meeting, what: str) -> None:
    """Once a meeting is confirmed held its roll is final: its votes' quorum was counted from it."""
    if meeting.state == MeetingState.HELD:
        raise ServiceError(
            f"“{meeting.title}”已确认召开，出席情况已随会议记录定稿（表决的到会人数依此计算），不能再{what}"
        )


def _refuse_cancelled(meeting: Meeting, what: str) -> None:
    if meeting.state == MeetingState.CANCELLED:
        raise ServiceError(f"会议“{meeting.title}”已取消，不能{what}")


def _plain_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    def plain(v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return _local(v).isoformat()
        if isinstance(v, Person | Organization):
            return v.pk
        return v

    return diff({k: plain(v) for k, v in before.items()}, {k: plain(v) for k, v in after.items()})


# The notice -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Notice:
    """A meeting's notice fields after checking."""

    org: Organization
    kind: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    place: str
    topics: str
    chair: Person | None
    recorder: Person | None
    lecturer: Person | None
    lecturer_name: str
    lecture_title: str
    include_activists: bool
    also_counts_as: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in NOTICE_FIELDS}


def _check_person(scope: Scope, person: Person | None, label: str, field: str) -> Person | None:
    if person is None:
        return None
    found = Person.objects.select_related("org").filter(pk=person.pk).first()
    if found is None or not scope.can_view_person(found):
        raise ServiceError(f"{label}不存在或不在您的权限范围内", field=field)
    return found


def _check_notice(scope: Scope, data: Mapping[str, Any], now: dt.datetime) -> _Notice:
    org: Organization = data["org"]
    kind = str(data["kind"] or "")
    inv.check_org_suits_kind(org, kind)
    also = list(dict.fromkeys(str(k) for k in (data.get("also_counts_as") or ())))
    inv.check_also_counts_as(kind, also)
    include_activists = bool(data.get("include_activists"))
    if include_activists and not any(k in inv.OPEN_TO_ACTIVISTS for k in (kind, *also)):
        allowed = "、".join(inv.kind_label(k) for k in inv.OPEN_TO_ACTIVISTS)
        raise ServiceError(f"只有{allowed}可以邀请入党积极分子参加", field="include_activists")

    starts_at = data.get("starts_at")
    if not isinstance(starts_at, dt.datetime):
        raise ServiceError("请填写会议开始时间（日期和时刻）", field="starts_at")
    starts_at = _aware(starts_at)
    ends_at = data.get("ends_at")
    if ends_at is not None:
        if not isinstance(ends_at, dt.datetime):
            raise ServiceError("结束时间应为日期和时刻", field="ends_at")
        ends_at = _aware(ends_at)
        if ends_at <= starts_at:
            raise ServiceError(
                f"结束时间（{_when(ends_at)}）应晚于开始时间（{_when(starts_at)}）", field="ends_at"
            )
    day = _local(starts_at).date()
    if day.year < EARLIEST_YEAR:
        raise ServiceError(f"会议日期 {day:%Y-%m-%d} 早于 {EARLIEST_YEAR} 年，请检查", field="starts_at")
    latest = add_months(_local(now).date(), MAX_MONTHS_AHEAD)
    if day > latest:
        raise ServiceError(
            f"会议日期 {day:%Y-%m-%d} 超出两年以后（最晚 {latest:%Y-%m-%d}），请检查", field="starts_at"
        )
    if WorkdayCalendar.load([day.year]).year_is_estimated(day.year):
        raise ServiceError(
            f"{day.year}年的节假日安排尚未录入，无法确定 {day:%Y-%m-%d} 是否为工作日；"
            f"请管理员在“工作日历”中录入{day.year}年的放假安排后再安排会议",
            field="starts_at",
        )

    lecturer = _check_person(scope, data.get("lecturer"), "主讲人", "lecturer")
    lecturer_name = _text(data.get("lecturer_name"), "主讲人姓名", "lecturer_name", limit=100)
    lecture_title = _text(data.get("lecture_title"), "党课题目", "lecture_title")
    # A lecture placed by the yearly plan may wait for its lecturer and/or title until its notice is
    # published (notice_publish and meeting_hold check both).
    deferred = bool(data.get("from_plan"))
    if inv.counts_as(kind, also, MeetingKind.PARTY_LECTURE):
        if lecturer is not None and lecturer_name:
            raise ServiceError("主讲人请选择本单位人员或填写外来主讲人姓名，二者选一", field="lecturer_name")
        if not deferred and lecturer is None and not lecturer_name:
            raise ServiceError("党课应填写主讲人（本单位人员或外来主讲人姓名）", field="lecturer")
        if not deferred and not lecture_title:
            raise ServiceError("党课应填写党课题目", field="lecture_title")
    elif lecturer is not None or lecturer_name or lecture_title:
        raise ServiceError("只有党课（或同时计为党课的会议）填写主讲人和党课题目", field="lecturer")

    return _Notice(
        org=org,
        kind=kind,
        title=_text(data.get("title"), "会议名称", "title", required=True),
        starts_at=starts_at,
        ends_at=ends_at,
        place=_text(data.get("place"), "地点", "place"),
        topics=_text(data.get("topics"), "议题", "topics", limit=2000),
        chair=_check_person(scope, data.get("chair"), "主持人", "chair"),
        recorder=_check_person(scope, data.get("recorder"), "记录人", "recorder"),
        lecturer=lecturer,
        lecturer_name=lecturer_name,
        lecture_title=lecture_title,
        include_activists=include_activists,
        also_counts_as=also,
    )


def _invitees(notice: _Notice) -> list[inv.Invitee]:
    found = inv.compute(
        notice.org,
        notice.kind,
        include_activists=notice.include_activists,
        also_counts_as=notice.also_counts_as,
        on=_local(notice.starts_at).date(),
    )
    if not found:
        raise ServiceError(
            f"{notice.org.name} 没有可以参加{inv.kind_label(notice.kind)}的党员，无法安排会议", field="org"
        )
    return found


@transaction.atomic
def meeting_create(
    *,
    actor: Any,
    scope: Scope,
    org: Organization,
    kind: str,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime | None = None,
    place: str = "",
    topics: str = "",
    chair: Person | None = None,
    recorder: Person | None = None,
    lecturer: Person | None = None,
    lecturer_name: str = "",
    lecture_title: str = "",
    include_activists: bool = False,
    also_counts_as: Sequence[str] = (),
    from_plan: bool = False,
    now: dt.datetime | None = None,
) -> Meeting:
    """Arrange a meeting of an org and invite the people its kind calls for (planned, notice unpublished).

    A date in a year whose holiday schedule is not yet known (neither chinesecalendar nor an administrator's
    entry in the working calendar has it) is refused, as the yearly plan refuses such a year: whether the
    day is a working day decides the theme day's date and how the meeting is counted."""
    now = now or timezone.now()
    org = Organization.objects.get(pk=org.pk)
    _check_manage(scope, org)
    notice = _check_notice(
        scope,
        {
            "org": org,
            "kind": kind,
            "title": title,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "place": place,
            "topics": topics,
            "chair": chair,
            "recorder": recorder,
            "lecturer": lecturer,
            "lecturer_name": lecturer_name,
            "lecture_title": lecture_title,
            "include_activists": include_activists,
            "also_counts_as": also_counts_as,
            "from_plan": from_plan,
        },
        now,
    )
    people = _invitees(notice)
    meeting = Meeting.objects.create(**notice.as_dict(), from_plan=from_plan, created_by=_user(actor))
    Attendance.objects.bulk_create(
        Attendance(meeting=meeting, person_id=i.person_id, role=i.role, may_vote=i.may_vote) for i in people
    )
    audit_record(
        actor=actor,
        action="create",
        obj=meeting,
        org_path=org.path,
        changes=_plain_changes({}, notice.as_dict()),
        note=f"安排{inv.kind_label(notice.kind)}，邀请 {len(people)} 人"
        + (f"，其中有表决权 {sum(i.may_vote for i in people)} 人" if any(i.may_vote for i in people) else ""),
    )
    return meeting


def _sync_attendance(meeting: Meeting, people: list[inv.Invitee]) -> tuple[list[str], list[str], list[int]]:
    """Bring the invitees in line with `people`; keep what was recorded. Returns (added, dropped) names
    and the ids of the people whose invitation was withdrawn.

    A dropped invitee's row is removed only while nothing was recorded on it; one with a leave request or
    an attendance state stays, as a guest without a vote, so that what happened is not lost."""
    rows = {a.person_id: a for a in meeting.attendances.select_related("person")}
    wanted = {i.person_id: i for i in people}
    added, dropped = [], []
    withdrawn: list[int] = []
    Attendance.objects.bulk_create(
        Attendance(meeting=meeting, person_id=pid, role=want.role, may_vote=want.may_vote)
        for pid, want in wanted.items()
        if pid not in rows
    )
    for pid, want in wanted.items():
        row = rows.get(pid)
        if row is None:
            added.append(want.name)
        elif (row.role, row.may_vote) != (want.role, want.may_vote):
            row.role, row.may_vote = want.role, want.may_vote
            row.save(update_fields=["role", "may_vote", "updated_at"])
    for pid, row in rows.items():
        if pid in wanted:
            continue
        dropped.append(row.person.name)
        pristine = row.state == AttendanceState.EXPECTED and not row.leave_state and row.checked_in_at is None
        if pristine:
            row.delete()  # derived from the kind and org, nothing recorded: not a record of anything
            withdrawn.append(pid)
        elif (row.role, row.may_vote) != (AttendanceRole.GUEST, False):
            row.role, row.may_vote = AttendanceRole.GUEST, False
            row.save(update_fields=["role", "may_vote", "updated_at"])
    return added, dropped, withdrawn


@transaction.atomic
def meeting_update(
    *,
    actor: Any,
    scope: Scope,
    meeting: Meeting,
    changes: Mapping[str, Any],
    now: dt.datetime | None = None,
) -> Meeting:
    """Change a planned meeting's notice; the invitees are recomputed only when the org, the kind, the
    activists' invitation or what it also counts as changes, keeping what was already recorded."""
    now = now or timezone.now()
    meeting = _lock(meeting)
    _check_manage(scope, meeting.org, meeting)
    unknown = sorted(set(changes) - set(NOTICE_FIELDS))
    if unknown:
        raise ServiceError(f"不能修改这些项目：{'、'.join(unknown)}")
    _refuse_unless_planned(meeting, "修改通知")
    current = {name: getattr(meeting, name) for name in NOTICE_FIELDS}
    data = {**current, **changes, "from_plan": meeting.from_plan}
    if data["org"].pk != meeting.org_id:
        target = Organization.objects.get(pk=data["org"].pk)
        _check_manage(scope, target)
        data["org"] = target
    notice = _check_notice(scope, data, now)
    after = notice.as_dict()
    changed = _plain_changes(current, after)
    if not changed:
        return meeting
    note = "修改会议通知"
    withdrawn: list[int] = []
    if any(k in changed for k in _INVITEE_FIELDS):
        added, dropped, withdrawn = _sync_attendance(meeting, _invitees(notice))
        if added:
            note += f"；新增参会人员：{_names(added)}"
        if dropped:
            note += f"；不再邀请：{_names(dropped)}"
    for name, value in after.items():
        setattr(meeting, name, value)
    meeting.save()
    audit_record(
        actor=actor, action="update", obj=meeting, org_path=meeting.org.path, changes=changed, note=note
    )
    news = list(dict.fromkeys(NOTICE_CHANGE_LABELS[k] for k in changed if k in NOTICE_CHANGE_LABELS))
    if meeting.notice_published_at and news:
        notices_send(meeting=meeting, event="changed", changed=news, actor=actor, now=now)
    if meeting.notice_published_at and withdrawn:
        notices_send(meeting=meeting, event="uninvited", person_ids=withdrawn, actor=actor, now=now)
    return meeting


@transaction.atomic
def notice_publish(*, actor: Any, scope: Scope, meeting: Meeting, now: dt.datetime | None = None) -> Meeting:
    """Publish (or publish again after a change) the notice of a planned meeting that has not started; the
    invitees with an account are notified (zhibu.life.notices)."""
    now = now or timezone.now()
    meeting = _lock(meeting)
    _check_manage(scope, meeting.org, meeting)
    _refuse_unless_planned(meeting, "发布通知")
    if now >= meeting.starts_at:
        raise ServiceError(f"会议已于 {_when(meeting.starts_at)} 开始，不能再发布通知")
    lecture = _lecture_missing(meeting)
    if lecture:
        raise ServiceError(f"发布通知前请填写{lecture}", field="lecturer")
    before = meeting.notice_published_at
    meeting.notice_published_at = now
    meeting.save(update_fields=["notice_published_at", "updated_at"])
    audit_record(
        actor=actor,
        action="update",
        obj=meeting,
        org_path=meeting.org.path,
        changes=_plain_changes({"notice_published_at": before}, {"notice_published_at": now}),
        note="重新发布会议通知" if before else "发布会议通知",
    )
    if before is None:  # changes since were announced as they were saved (meeting_update)
        notices_send(meeting=meeting, event="published", actor=actor, now=now)
    return meeting


@transaction.atomic
def meeting_cancel(*, actor: Any, scope: Scope, meeting: Meeting, reason: str) -> Meeting:
    """Cancel a planned meeting, with the reason; it stays on record as cancelled."""
    meeting = _lock(meeting)
    _check_manage(scope, meeting.org, meeting)
    _refuse_unless_planned(meeting, "取消")
    still_open = list(meeting.votes.filter(state=VoteState.OPEN).values_list("title", flat=True))
    if still_open:
        raise ServiceError(
            f"“{meeting.title}”还有表决尚未结束（{_names(still_open)}），请先结束表决再取消会议"
        )
    reason = _text(reason, "取消原因", "reason", required=True, limit=300)
    meeting.state = MeetingState.CANCELLED
    meeting.cancelled_reason = reason
    meeting.save(update_fields=["state", "cancelled_reason", "updated_at"])
    audit_record(
        actor=actor,
        action="update",
        obj=meeting,
        org_path=meeting.org.path,
        changes={"state": [MeetingState.PLANNED.value, MeetingState.CANCELLED.value]},
        note=f"取消会议：{reason[:200]}",
    )
    if meeting.notice_published_at:
        notices_send(meeting=meeting, event="cancelled", actor=actor)
    return meeting


# Leave ------------------------------------------------------------------------------------------------


@transaction.atomic
def leave_request(*, actor: Any, meeting: Meeting, reason: str, now: dt.datetime | None = None) -> Attendance:
    """An invitee asks leave for a meeting that has not started yet."""
    now = now or timezone.now()
    meeting = _lock(meeting)
    row = (
        Attendance.objects.select_for_update()
        .filter(meeting=meeting, person_id=getattr(actor, "person_id", None) or 0)
        .first()
    )
    if row is None:
        raise NotFound("会议不存在，或您不在这次会议的参会名单中")
    _refuse_unless_planned(meeting, "请假")
    if now >= meeting.starts_at:
        raise ServiceError(f"会议已于 {_when(meeting.starts_at)} 开始，不能再请假；请联系书记说明情况")
    if row.leave_state == LeaveState.REQUESTED:
        raise ServiceError("您已提交请假申请，正在等待批准")
    if row.leave_state == LeaveState.APPROVED:
        raise ServiceError("您的请假已获批准")
    reason = _text(reason, "请假原因", "reason", required=True, limit=300)
    before = row.leave_state
    row.leave_state = LeaveState.REQUESTED
    row.leave_reason = reason
    row.leave_decided_by = None
    row.save(update_fields=["leave_state", "leave_reason", "leave_decided_by", "updated_at"])
    audit_record(
        actor=actor,
        action="update",
        obj=row,
        org_path=meeting.org.path,
        changes={"leave_state": [before, row.leave_state], "leave_reason": [None, reason]},
        note=f"申请请假：{meeting.title}",
    )
    return row


@transaction.atomic
def leave_decide(*, actor: Any, scope: Scope, attendance: Attendance, approve: bool) -> Attendance:
    """A manager approves (the invitee is excused) or refuses (still expected) a leave request."""
    row = (
        Attendance.objects.select_for_update().select_related("meeting__org", "person").get(pk=attendance.pk)
    )
    meeting = row.meeting
    _check_manage(scope, meeting.org, meeting)
    _refuse_cancelled(meeting, "审批请假")
    _refuse_held_roll(meeting, "审批请假")
    if row.leave_state != LeaveState.REQUESTED:
        raise ServiceError(f"{row.person.name} 没有待审批的请假申请")
    if approve and row.state == AttendanceState.PRESENT:
        raise ServiceError(f"{row.person.name} 已签到出席，无需批准请假")
    before = {"leave_state": row.leave_state, "state": row.state}
    row.leave_state = LeaveState.APPROVED if approve else LeaveState.REFUSED
    if approve:
        row.state = AttendanceState.EXCUSED
    row.leave_decided_by = _user(actor)
    row.save(update_fields=["leave_state", "state", "leave_decided_by", "updated_at"])
    audit_record(
        actor=actor,
        action="update",
        obj=row,
        org_path=meeting.org.path,
        changes=diff(before, {"leave_state": row.leave_state, "state": row.state}),
        note=f"{'批准' if approve else '不批准'} {row.person.name} 请假：{meeting.title}",
    )
    return row


# Check-in and attendance ------------------------------------------------------------------------------


def check_in_window(meeting: Meeting) -> tuple[dt.datetime, dt.datetime]:
    """When QR check-in opens (inclusive) and closes (exclusive)."""
    opens = meeting.starts_at - dt.timedelta(minutes=settings.ZHIBU_CHECK_IN_OPENS_MINUTES)
    closes = meeting.ends_at or meeting.starts_at + dt.timedelta(hours=settings.ZHIBU_CHECK_IN_OPEN_HOURS)
    return opens, closes


@dataclass(frozen=True)
class CheckInResult:
    attendance: Attendance
    already: bool  # checked in before: nothing was written
    message: str


@transaction.atomic
def check_in(
    *,
    actor: Any,
    meeting: Meeting,
    token: str,
    now: dt.datetime | None = None,
    person: Person | None = None,
) -> CheckInResult:
    """An invitee checks themself in with the meeting's QR code, inside the check-in window."""
    now = now or timezone.now()
    own = getattr(actor, "person_id", None)
    if person is not None and person.pk != own:
        raise NotPermitted("只能为本人签到；代为登记出席请由书记在出席登记中办理")
    meeting = _lock(meeting)
    if not secrets.compare_digest(str(token or ""), meeting.check_in_token):
        raise ServiceError("签到码无效，请重新扫描会场的二维码")
    _refuse_cancelled(meeting, "签到")
    row = (
        Attendance.objects.select_for_update()
        .select_related("person")
        .filter(meeting=meeting, person_id=own or 0)
        .first()
    )
    if row is None:
        raise NotPermitted(f"您不在“{meeting.title}”的参会名单中；如需列席请联系书记登记")
    if row.state == AttendanceState.PRESENT and row.checked_in_at is not None:
        return CheckInResult(row, True, f"您已于 {_when(row.checked_in_at)} 签到，无需重复签到")
    _refuse_held_roll(meeting, "签到；如确已参会，请联系书记")
    opens, closes = check_in_window(meeting)
    if now < opens:
        raise ServiceError(
            f"签到尚未开始：会议 {_when(meeting.starts_at)} 开始，"
            f"提前 {settings.ZHIBU_CHECK_IN_OPENS_MINUTES} 分钟（{_local(opens):%H:%M}）起可以签到"
        )
    if now >= closes:
        raise ServiceError(f"签到已于 {_when(closes)} 结束；如确已参会，请联系书记登记出席")
    before = {"state": row.state, "checked_in_at": None}
    row.state = AttendanceState.PRESENT
    row.checked_in_at = now
    row.check_in_method = CheckInMethod.QR
    row.save(update_fields=["state", "checked_in_at", "check_in_method", "updated_at"])
    audit_record(
        actor=actor,
        action="update",
        obj=row,
        org_path=meeting.org.path,
        changes=_plain_changes(before, {"state": row.state, "checked_in_at": now}),
        note=f"扫码签到：{meeting.title}",
    )
    return CheckInResult(row, False, f"{row.person.name}，签到成功（{_when(now)}）")


@transaction.atomic
def attendance_mark(
    *,
    actor: Any,
    scope: Scope,
    meeting: Meeting,
    states: Mapping[int, str],
    now: dt.datetime | None = None,
) -> list[Attendance]:
    """The secretary records who was present, excused or absent, from the meeting's start on."""
    now = now or timezone.now()
    meeting = _lock(meeting)
    _check_manage(scope, meeting.org, meeting)
    _refuse_cancelled(meeting, "登记出席")
    _refuse_held_roll(meeting, "修改")
    if now < meeting.starts_at:
        raise ServiceError(f"会议 {_when(meeting.starts_at)} 才开始，开始后才能登记出席情况")
    rows = {
        a.person_id: a
        for a in Attendance.objects.select_for_update().select_related("person").filter(meeting=meeting)
    }
    for pid, state in states.items():
        if pid not in rows:
            raise ServiceError(f"编号 {pid} 的人员不在本次会议的参会名单中", field="states")
        if state not in MARKABLE:
            raise ServiceError(f"{rows[pid].person.name} 的出席情况应为出席、请假或缺席", field="states")
    changed: list[Attendance] = []
    for pid, state in states.items():
        row = rows[pid]
        if row.state == state:
            continue
        before = {
            "state": row.state,
            "checked_in_at": row.checked_in_at,
            "check_in_method": row.check_in_method,
        }
        row.state = state
        if state == AttendanceState.PRESENT:
            row.checked_in_at, row.check_in_method = now, CheckInMethod.SECRETARY
        else:
            row.checked_in_at, row.check_in_method = None, ""
        row.save(update_fields=["state", "checked_in_at", "check_in_method", "updated_at"])
        audit_record(
            actor=actor,
            action="update",
            obj=row,
            org_path=meeting.org.path,
            changes=_plain_changes(
                before,
                {
                    "state": row.state,
                    "checked_in_at": row.checked_in_at,
                    "check_in_method": row.check_in_method,
                },
            ),
            note=f"登记出席：{row.person.name} {AttendanceState(state).label}",
        )
        changed.append(row)
    return changed


# Minutes and attachments ------------------------------------------------------------------------------


def _lines(values: Sequence[Any], label: str, field: str) -> list[str]:
    out = []
    for v in values:
        text = _text(v, label, field, limit=2000)
        if text:
            out.append(text)
    return out


def _speakers(scope: Scope, raw: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    ids = {int(s["person_id"]) for s in raw if s.get("person_id")}
    people = {p.pk: p for p in Person.objects.select_related("org").filter(pk__in=ids)}
    out = []
    for i, s in enumerate(raw, 1):
        pid = int(s["person_id"]) if s.get("person_id") else None
        summary = _text(s.get("summary"), f"第 {i} 位发言人的发言要点", "speakers", limit=5000)
        if pid is not None:
            person = people.get(pid)
            if person is None or not scope.can_view_person(person):
                raise ServiceError(f"第 {i} 位发言人不存在或不在您的权限范围内", field="speakers")
            name = person.name
        else:
            name = _text(s.get("name"), f"第 {i} 位发言人的姓名", "speakers", required=True, limit=50)
        if not summary:
            raise ServiceError(f"请填写{name}的发言要点", field="speakers")
        out.append({"person_id": pid, "name": name, "summary": summary})
    return out


@transaction.atomic
def minutes_record(
    *,
    actor: Any,
    scope: Scope,
    meeting: Meeting,
    topics: Sequence[str],
    speakers: Sequence[Mapping[str, Any]] = (),
    resolutions: Sequence[str] = (),
    chair: Person | None = None,
    recorder: Person | None = None,
    seen: str | None = None,
    now: dt.datetime | None = None,
) -> Meeting:
    """Record (or correct, audited before and after) the minutes of a meeting that has started.

    `seen`, when given, is the minutes_fingerprint of the minutes the form was filled from: if they have
    changed since (another secretary saved, or closing a vote added its result to the resolutions), the
    save is refused rather than overwriting what the form never showed."""
    now = now or timezone.now()
    meeting = _lock(meeting)
    _check_manage(scope, meeting.org, meeting)
    _refuse_cancelled(meeting, "记录会议记录")
    if seen is not None and seen != minutes_fingerprint(meeting):
        raise ServiceError(
            "您打开页面后，会议记录已有更新（例如表决结果已记入决议）。为避免覆盖，请刷新页面，核对后重新保存",
            field="resolutions",
        )
    if now < meeting.starts_at:
        raise ServiceError(
            f"会议尚未召开（{_when(meeting.starts_at)} 开始），不能为没有召开的会议填写会议记录"
        )
    minutes = {
        "topics": _lines(topics, "议题", "topics"),
        "speakers": _speakers(scope, speakers),
        "resolutions": _lines(resolutions, "决议", "resolutions"),
    }
    chair = _check_person(scope, chair, "主持人", "chair") or meeting.chair
    recorder = _check_person(scope, recorder, "记录人", "recorder") or meeting.recorder
    if chair is None:
        raise ServiceError("请填写主持人", field="chair")
    if recorder is None:
        raise ServiceError("请填写记录人", field="recorder")
    before = {"minutes": meeting.minutes, "chair": meeting.chair_id, "recorder": meeting.recorder_id}
    after = {"minutes": minutes, "chair": chair.pk, "recorder": recorder.pk}
    changed = diff(before, after)
    if not changed:
        return meeting
    first = meeting.minutes_recorded_at is None
    meeting.minutes, meeting.chair, meeting.recorder = minutes, chair, recorder
    if first:
        meeting.minutes_recorded_at = now
    meeting.save(update_fields=["minutes", "chair", "recorder", "minutes_recorded_at", "updated_at"])
    audit_record(
        actor=actor,
        action="create" if first else "update",
        obj=meeting,
        org_path=meeting.org.path,
        changes=changed,
        note="填写会议记录" if first else "修改会议记录",
    )
    return meeting


@transaction.atomic
def attachment_add(
    *, actor: Any, scope: Scope, meeting: Meeting, file: UploadedFile, title: str = ""
) -> MeetingAttachment:
    """Keep a photo, a scanned sign-in sheet or a PDF with the meeting (type checked by content)."""
    meeting = _lock(meeting)
    _check_manage(scope, meeting.org, meeting)
    _refuse_cancelled(meeting, "上传附件")
    checked = check_upload(file, _ACCEPTED, field="file")
    name, match = checked.name, checked.type
    attachment = MeetingAttachment(
        meeting=meeting,
        title=_text(title, "附件名称", "title") or name,
        size=checked.size,
        content_type=match.content_type,
        uploaded_by=_user(actor),
    )
    # The stored name is random (attachment_path); its suffix follows the content, not the upload's name.
    attachment.file.save(f"upload.{match.suffix}", file, save=False)
    attachment.save()
    audit_record(
        actor=actor,
        action="create",
        obj=attachment,
        org_path=meeting.org.path,
        changes={"title": [None, attachment.title], "size": [None, attachment.size]},
        note=f"上传会议附件：{meeting.title}",
    )
    return attachment


@transaction.atomic
def attachment_withdraw(
    *, actor: Any, scope: Scope, attachment: MeetingAttachment, reason: str, now: dt.datetime | None = None
) -> MeetingAttachment:
    """Mark an attachment as withdrawn (uploaded by mistake); the file is kept."""
    now = now or timezone.now()
    attachment = (
        MeetingAttachment.objects.select_for_update().select_related("meeting__org").get(pk=attachment.pk)
    )
    meeting = attachment.meeting
    _check_manage(scope, meeting.org, meeting)
    if attachment.withdrawn_at is not None:
        raise ServiceError(f"附件“{attachment.title}”已撤回")
    reason = _text(reason, "撤回原因", "reason", required=True, limit=300)
    attachment.withdrawn_at = now
    attachment.withdrawn_reason = reason
    attachment.save(update_fields=["withdrawn_at", "withdrawn_reason"])
    audit_record(
        actor=actor,
        action="update",
        obj=attachment,
        org_path=meeting.org.path,
        changes={"withdrawn_at": [None, _local(now).isoformat()]},
        note=f"撤回会议附件：{reason[:200]}",
    )
    return attachment


# Held -------------------------------------------------------------------------------------------------


def minutes_fingerprint(meeting: Meeting) -> str:
    """A short digest of a meeting's stored minutes, to tell whether they changed since a form was filled."""
    text = json.dumps(meeting.minutes or {}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def hold_missing(meeting: Meeting, now: dt.datetime) -> list[str]:
    """What still stands between a meeting and being confirmed as held (empty: nothing)."""
    missing = []
    if now < meeting.starts_at:
        missing.append(f"会议 {_when(meeting.starts_at)} 才开始")
    for condition, what in (
        (Q(state=AttendanceState.EXPECTED), "出席情况尚未登记"),
        (Q(leave_state=LeaveState.REQUESTED), "请假申请尚未审批"),
    ):
        names = list(
            meeting.attendances.filter(condition)
            .order_by("person__name_pinyin", "id")
            .values_list("person__name", flat=True)
        )
        if names:
            missing.append(f"{len(names)} 人的{what}（{_names(names)}）")
    if not (meeting.minutes or {}).get("topics"):
        missing.append("会议记录尚未填写议题")
    lecture = _lecture_missing(meeting)
    if lecture:
        missing.append(f"尚未填写{lecture}")
    still_open = list(
        meeting.votes.filter(state=VoteState.OPEN).order_by("opened_at", "pk").values_list("title", flat=True)
    )
    if still_open:
        missing.append(f"表决尚未结束（{_names(still_open)}），请先结束表决")
    return missing


def _lecture_missing(meeting: Meeting) -> str:
    """For a lecture (or a meeting that also counts as one): what of its lecturer and title is missing."""
    if not inv.counts_as(meeting.kind, list(meeting.also_counts_as or ()), MeetingKind.PARTY_LECTURE):
        return ""
    gaps = []
    if meeting.lecturer_id is None and not meeting.lecturer_name:
        gaps.append("党课主讲人")
    if not meeting.lecture_title:
        gaps.append("党课题目")
    return "和".join(gaps)


@transaction.atomic
def meeting_hold(*, actor: Any, scope: Scope, meeting: Meeting, now: dt.datetime | None = None) -> Meeting:
    """Confirm a meeting was held: every invitee's attendance recorded and minutes with a topic."""
    now = now or timezone.now()
    meeting = _lock(meeting)
    _check_manage(scope, meeting.org, meeting)
    _refuse_unless_planned(meeting, "确认召开")
    missing = hold_missing(meeting, now)
    if missing:
        raise ServiceError(f"“{meeting.title}”还不能确认召开：{'；'.join(missing)}")
    meeting.state = MeetingState.HELD
    meeting.held_at = now
    meeting.save(update_fields=["state", "held_at", "updated_at"])
    audit_record(
        actor=actor,
        action="update",
        obj=meeting,
        org_path=meeting.org.path,
        changes={"state": [MeetingState.PLANNED.value, MeetingState.HELD.value]},
        note="确认会议已召开",
    )
    return meeting


# Quorum -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuorumStatus:
    """Whether enough of those entitled to vote are present for the meeting to decide anything."""

    applies: bool  # False: a kind with no quorum (a lecture, a group meeting …)
    rule: str  # the pack parameter prefix ("general_assembly", "committee_meeting") or ""
    entitled: int
    present: int
    fraction: Fraction | None
    met: bool
    sentence: str

    @property
    def least(self) -> int | None:
        return self.fraction.least(self.entitled) if self.fraction else None


def quorum_rule(meeting: Meeting) -> str:
    """Which quorum a meeting answers to: its own kind's, or the assembly's when it also counts as one."""
    if meeting.kind in QUORUM_RULES:
        return QUORUM_RULES[MeetingKind(meeting.kind)]
    if MeetingKind.GENERAL_ASSEMBLY in (meeting.also_counts_as or []):
        return QUORUM_RULES[MeetingKind.GENERAL_ASSEMBLY]
    return ""


def quorum_status(meeting: Meeting) -> QuorumStatus:
    """The quorum of an assembly or a committee meeting from its attendance, with a Chinese sentence."""
    rule = quorum_rule(meeting)
    if not rule:
        return QuorumStatus(
            False, "", 0, 0, None, True, f"{inv.kind_label(meeting.kind)}不需要达到法定到会人数"
        )
    fraction: Fraction = effective_policy(meeting.org).value(f"{rule}.quorum")
    voters = [s for s in meeting.attendances.filter(may_vote=True).values_list("state", flat=True)]
    entitled, present = len(voters), sum(1 for s in voters if s == AttendanceState.PRESENT)
    who = "委员" if rule == QUORUM_RULES[MeetingKind.COMMITTEE_MEETING] else "有表决权的党员"
    need = ("超过" if fraction.strict else "达到") + fraction.words
    head = f"{who}应到 {entitled} 人，实到 {present} 人"
    if entitled == 0:
        return QuorumStatus(True, rule, 0, 0, fraction, False, f"本次会议没有{who}，不能开会表决")
    least = fraction.least(entitled)
    met = fraction.reached(present, entitled)
    if met:
        sentence = f"{head}，{need}，可以开会表决"
    elif fraction.strict and fraction.at_boundary(present, entitled):
        sentence = f"{head}，恰好{fraction.words}，未{need}（至少需 {least} 人），不能开会表决"
    else:
        sentence = f"{head}，未{need}（至少需 {least} 人），不能开会表决"
    return QuorumStatus(True, rule, entitled, present, fraction, met, sentence)
