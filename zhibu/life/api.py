"""API routes for organisational life (组织生活): meetings with their notice, invitees, leave, check-in,
attendance, minutes, attachments and holding; the year's plan; votes; talks and their coverage; the life
meeting's opinions, criticism and rectification items; a meeting's record (.docx) and the year's ledger
(.xlsx, .pdf); and a member's own meetings and ballots.

The routes parse input, call one service of life/services.py, life/voting.py or life/planning.py and
format the result; every rule is checked there and refused with its Chinese reason. A meeting is scoped
through its org (life/selectors.py): those who view the org see the whole roll, a member sees the meetings
they are invited to and, of the roll, only their own attendance. The QR check-in token is shown only to
those who manage the meeting, so that nobody checks in from elsewhere.

A secret vote never shows who voted what, to anyone: while it is open not even the running counts; after
closing only the counts, and to those who see the roll, who has voted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import replace
from typing import Annotated, Any

from django.db import models
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from ninja import File, Form, P, PathEx, Query, Router, Schema
from ninja.files import UploadedFile as NinjaUploadedFile
from ninja.responses import Status as HttpStatus
from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from zhibu.api import (
    ERRORS,
    MAX_INT,
    Count,
    InputSchema,
    IsoDate,
    PageQuery,
    QuerySchema,
    label_of,
    paginate,
    request_scope_of,
)
from zhibu.compliance.packs import effective_policy
from zhibu.core.calendar import WorkdayCalendar
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.scoping import Scope
from zhibu.development import services as development
from zhibu.development.api import CaseOut, case_out
from zhibu.development.models import DevelopmentCase, VotePurpose
from zhibu.life import planning, selectors, services, talks, voting
from zhibu.life.documents import DOCX
from zhibu.life.ledger import PDF, XLSX
from zhibu.life.models import (
    Attendance,
    AttendanceRole,
    AttendanceState,
    Criticism,
    CriticismKind,
    Meeting,
    MeetingAttachment,
    MeetingKind,
    MeetingState,
    Rectification,
    Talk,
    TalkRelation,
    Vote,
    VoteChoice,
    VoteState,
)
from zhibu.life.views import (  # the page's rule too
    attachment_file,
    attachment_get_openable,
    attachment_may_open,
)
from zhibu.life.views_ledger import ledger_download, minutes_download  # the pages' downloads too
from zhibu.orgs.api import CODE_MAX, OrgRef, org_for_field
from zhibu.orgs.models import Organization
from zhibu.people.models import Person
from zhibu.people.selectors import person_get_visible

router = Router(tags=["组织生活"])

# A year the list and the plan accept (the services refuse dates before 2000 themselves).
YEAR_MIN, YEAR_MAX = 2000, 2100
# How many items one plan may apply at once (a branch's year is a few dozen meetings).
PLAN_ITEMS_MAX = 500

_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$")
_MOMENT_MESSAGE = "时间格式应为 YYYY-MM-DDTHH:MM（可带秒和时区，如 2026-12-10T15:00+08:00）"


def _iso_moment_only(value: Any) -> Any:
    # pydantic would also take numbers (seconds since 1970); a moment is written as ISO 8601.
    if value is None or isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _MOMENT.match(value):
        return value
    raise PydanticCustomError("moment_format", _MOMENT_MESSAGE)


IsoDateTime = Annotated[dt.datetime, BeforeValidator(_iso_moment_only)]


# Schemas ----------------------------------------------------------------------------------------------
class PersonRef(Schema):
    id: int
    name: str


class MeetingOut(Schema):
    id: int
    org: OrgRef
    kind: MeetingKind
    kind_label: str
    also_counts_as: list[str] = Field(description="同时计为的会议类型")
    title: str
    state: MeetingState
    state_label: str
    from_plan: bool = Field(description="来自年度计划")
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    place: str
    notice_published_at: dt.datetime | None = Field(description="通知发布时间（未发布为 null）")
    held_at: dt.datetime | None = Field(description="确认召开时间")
    invited: int = Field(description="参会人数（应到）")
    present: int = Field(description="出席人数")
    my_state: AttendanceState | None = Field(description="本人的出席情况（未被邀请为 null）")


class MeetingPage(Schema):
    count: int = Field(description="符合条件的总数")
    page: int
    page_size: int
    items: list[MeetingOut]


class AttendanceOut(Schema):
    id: int
    person: PersonRef
    role: AttendanceRole
    role_label: str
    may_vote: bool = Field(description="有表决权")
    state: AttendanceState
    state_label: str
    checked_in_at: dt.datetime | None
    check_in_method: str = Field(description="qr 扫码签到、secretary 代为签到")
    leave_state: str = Field(description="请假：requested 待批准、approved 已批准、refused 未批准")
    leave_reason: str


class SpeakerOut(Schema):
    person_id: int | None
    name: str
    summary: str


class MinutesOut(Schema):
    topics: list[str] = []
    speakers: list[SpeakerOut] = []
    resolutions: list[str] = []


class QuorumOut(Schema):
    applies: bool = Field(description="此类会议是否有法定到会人数")
    rule: str = Field(description="制度参数前缀（general_assembly、committee_meeting）")
    entitled: int = Field(description="应到会有表决权人数")
    present: int
    least: int | None = Field(description="至少需到会人数")
    met: bool
    sentence: str


class AttachmentOut(Schema):
    id: int
    meeting_id: int
    title: str
    size: int
    content_type: str
    uploaded_at: dt.datetime
    withdrawn_at: dt.datetime | None = Field(description="撤回时间（未撤回为 null；撤回的文件仍保留）")
    withdrawn_reason: str
    download_url: str = Field(description="下载地址（接口）")


class ChoiceOut(Schema):
    name: str
    choice_label: str


class BallotStateOut(Schema):
    may_vote: bool
    has_voted: bool
    reason: str


class VoteOut(Schema):
    id: int
    meeting_id: int
    title: str
    secret: bool = Field(description="无记名投票")
    state: VoteState
    state_label: str
    rule: str = Field(description="表决规则（制度参数前缀）")
    entitled_count: int = Field(description="应到会有表决权人数")
    present_count: int
    voted_count: int = Field(description="已投票人数")
    in_favour: int | None = Field(description="赞成（含书面意见；无记名投票结束前为 null）")
    against: int | None
    abstain: int | None
    written_opinions: int | None
    passed: bool | None
    explanation: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    development_case_id: int | None
    development_purpose: str
    choices: list[ChoiceOut] | None = Field(
        description="记名表决：每人的表决（无记名投票永远为 null；仅可查看全部参会名单者可见）"
    )
    voted: list[str] | None = Field(description="已投票的人（不含其选择；仅可查看全部参会名单者可见）")
    not_voted: list[str] | None = Field(description="尚未投票的应到会有表决权人员")
    mine: BallotStateOut | None = Field(description="本人能否投票、是否已投票")


class WindowOut(Schema):
    opens: dt.datetime
    closes: dt.datetime


class MeetingDetailOut(MeetingOut):
    day: str = Field(description="会议日期在工作日历上的情况")
    topics: str
    chair: PersonRef | None
    recorder: PersonRef | None
    lecturer: PersonRef | None
    lecturer_name: str
    lecture_title: str
    include_activists: bool
    cancelled_reason: str
    minutes: MinutesOut
    minutes_recorded_at: dt.datetime | None
    minutes_fingerprint: str = Field(
        description=(
            "会议记录的指纹：保存会议记录时作为 seen 传回，记录在此后有变化（如表决结果已记入决议）则拒绝保存"
        )
    )
    quorum: QuorumOut
    can_manage: bool = Field(description="当前用户能否管理此会议")
    check_in_url: str | None = Field(description="签到二维码的地址（仅会议管理者可见）")
    check_in_window: WindowOut
    attendances: list[AttendanceOut] = Field(description="参会名单（党员本人只见到自己的一行）")
    my_attendance: AttendanceOut | None
    attachments: list[AttachmentOut]
    votes: list[VoteOut]
    hold_missing: list[str] | None = Field(description="确认召开前还缺什么（仅管理者、计划中的会议）")


class MeetingListQuery(PageQuery):
    org: str | None = Field(None, max_length=CODE_MAX, description="组织代码：其下全部组织的会议")
    year: int | None = Field(None, ge=YEAR_MIN, le=YEAR_MAX, description="年度（按开始时间）")
    kind: list[MeetingKind] = Field([], description="会议类型，可重复")
    state: list[MeetingState] = Field([], description="状态，可重复")


class MeetingCreateIn(InputSchema):
    org: str = Field(max_length=CODE_MAX, description="召开会议的组织代码")
    kind: MeetingKind
    title: str = Field(min_length=1, max_length=200)
    starts_at: IsoDateTime = Field(description="开始时间（不带时区时按北京时间）")
    ends_at: IsoDateTime | None = None
    place: str = Field("", max_length=200)
    topics: str = Field("", max_length=2000)
    chair_id: int | None = Field(None, ge=1, le=MAX_INT, description="主持人 id")
    recorder_id: int | None = Field(None, ge=1, le=MAX_INT, description="记录人 id")
    lecturer_id: int | None = Field(None, ge=1, le=MAX_INT, description="党课主讲人 id（本单位人员）")
    lecturer_name: str = Field("", max_length=100, description="外来主讲人姓名")
    lecture_title: str = Field("", max_length=200)
    include_activists: bool = Field(False, description="邀请入党积极分子参加")
    also_counts_as: list[MeetingKind] = Field([], max_length=8, description="同时计为的会议类型")


class MeetingUpdateIn(InputSchema):
    """Only the fields sent are changed; a person field sent as null is cleared."""

    org: str | None = Field(None, max_length=CODE_MAX)
    kind: MeetingKind | None = None
    title: str | None = Field(None, min_length=1, max_length=200)
    starts_at: IsoDateTime | None = None
    ends_at: IsoDateTime | None = None
    place: str | None = Field(None, max_length=200)
    topics: str | None = Field(None, max_length=2000)
    chair_id: int | None = Field(None, ge=1, le=MAX_INT)
    recorder_id: int | None = Field(None, ge=1, le=MAX_INT)
    lecturer_id: int | None = Field(None, ge=1, le=MAX_INT)
    lecturer_name: str | None = Field(None, max_length=100)
    lecture_title: str | None = Field(None, max_length=200)
    include_activists: bool | None = None
    also_counts_as: list[MeetingKind] | None = Field(None, max_length=8)


class ReasonIn(InputSchema):
    reason: str = Field(min_length=1, max_length=300)


class AttendanceMarkIn(InputSchema):
    states: dict[int, AttendanceState] = Field(
        description="人员 id → present 出席、excused 请假、absent 缺席", max_length=2000
    )


class SpeakerIn(InputSchema):
    person_id: int | None = Field(None, ge=1, le=MAX_INT, description="发言人 id（非本单位人员不填）")
    name: str = Field("", max_length=50, description="非本单位发言人的姓名")
    summary: str = Field(min_length=1, max_length=5000)


class MinutesIn(InputSchema):
    topics: list[Annotated[str, Field(max_length=2000)]] = Field(max_length=100)
    speakers: list[SpeakerIn] = Field([], max_length=500)
    resolutions: list[Annotated[str, Field(max_length=2000)]] = Field([], max_length=100)
    chair_id: int | None = Field(None, ge=1, le=MAX_INT)
    recorder_id: int | None = Field(None, ge=1, le=MAX_INT)
    seen: str | None = Field(
        None,
        max_length=64,
        description=(
            "读取时会议详情中的 minutes_fingerprint；传入后，若会议记录此后已有变化则拒绝保存，以免覆盖"
        ),
    )


class LeaveDecisionIn(InputSchema):
    approve: bool = Field(description="true 批准（记为请假）、false 不批准（仍为应到）")


class CheckInIn(InputSchema):
    token: str = Field(min_length=1, max_length=64, description="会场二维码中的签到码")


class CheckInOut(Schema):
    message: str
    already: bool = Field(description="此前已签到，本次未作记录")
    meeting_id: int
    meeting_title: str
    attendance: AttendanceOut


class PlanQuery(QuerySchema):
    org: str = Field(max_length=CODE_MAX, description="组织代码")
    year: int = Field(ge=YEAR_MIN, le=YEAR_MAX)


class ProposedOut(Schema):
    kind: MeetingKind
    kind_label: str
    org: OrgRef
    date: dt.date
    title: str
    reason: str = Field(description="依据（制度参数）及调整说明")
    period_start: dt.date
    period_end: dt.date


class PlanOut(Schema):
    org: OrgRef
    year: int
    items: list[ProposedOut]


class PlanItemIn(InputSchema):
    kind: MeetingKind
    org: str = Field(max_length=CODE_MAX)
    date: IsoDate
    lecturer_id: int | None = Field(None, ge=1, le=MAX_INT, description="党课：主讲人 id")
    lecturer_name: str = Field("", max_length=100, description="党课：外来主讲人姓名")
    lecture_title: str = Field("", max_length=200, description="党课：题目")


class PlanApplyIn(InputSchema):
    org: str = Field(max_length=CODE_MAX)
    year: int = Field(ge=YEAR_MIN, le=YEAR_MAX)
    items: list[PlanItemIn] = Field(
        [], max_length=PLAN_ITEMS_MAX, description="保留的建议（按类型、组织、日期）"
    )
    all: bool = Field(False, description="true：按全部建议安排（此时不传 items）")


class RefusedOut(Schema):
    item: ProposedOut
    reason: str


class PlanResultOut(Schema):
    created: list[MeetingOut]
    skipped: list[ProposedOut] = Field(description="同一周期内已有同类会议，未重复安排")
    refused: list[RefusedOut]
    message: str


class VoteOpenIn(InputSchema):
    title: str = Field(min_length=1, max_length=200, description="表决事项")
    secret: bool = Field(True, description="无记名投票")
    rule: str | None = Field(
        None,
        max_length=60,
        description=(
            "表决规则（制度参数前缀）：可不填，按会议类型确定（党员大会 general_assembly，"
            "支委会 committee_meeting）；填写时须与之一致"
        ),
    )
    development_case_id: int | None = Field(None, ge=1, le=MAX_INT, description="发展党员的表决：流程 id")
    development_purpose: VotePurpose | None = Field(None, description="reception 接收、confirmation 转正")


class BallotIn(InputSchema):
    choice: VoteChoice
    person_id: int | None = Field(
        None, ge=1, le=MAX_INT, description="记名表决时组织者代为登记的表决人（本人投票不填）"
    )


class BallotOut(Schema):
    message: str
    vote: VoteOut


class CountsIn(InputSchema):
    in_favour: Count = Field(description="会场赞成票（不含书面意见）")
    against: Count = 0
    abstain: Count = 0
    written_opinions: Count = Field(0, description="未到会党员的书面赞成意见")


class CloseIn(InputSchema):
    written_opinions: Count | None = Field(None, description="在线投票时：未到会党员的书面赞成意见")


class StepFromVoteIn(InputSchema):
    data: dict[str, str | int | bool | None] = Field(
        {}, max_length=20, description="步骤内容（如转正的 decision）"
    )
    note: str = Field("", max_length=2000)


class StepRecordOut(Schema):
    id: int
    code: str
    done_on: dt.date
    outcome: str


class StepFromVoteOut(Schema):
    step: StepRecordOut
    case: CaseOut


class MyMeetingOut(Schema):
    meeting: MeetingOut
    attendance: AttendanceOut


class MyVoteOut(Schema):
    id: int
    title: str
    secret: bool
    meeting_id: int
    meeting_title: str
    mine: BallotStateOut


class MyMeetingsOut(Schema):
    person: PersonRef | None = Field(description="账号关联的人员（未关联时为 null，列表为空）")
    count: int
    page: int
    page_size: int
    meetings: list[MyMeetingOut] = Field(description="今天起的会议，按时间先后")
    open_votes: list[MyVoteOut] = Field(description="正在进行、本人参会的表决")


class TalkQuery(QuerySchema):
    org: str = Field(
        "", max_length=CODE_MAX, description="党支部代码（不传时为本人所在或所管理的第一个支部）"
    )
    year: int | None = Field(None, ge=YEAR_MIN, le=YEAR_MAX, description="年度（默认今年）")


class TalkOut(Schema):
    id: int
    org: OrgRef
    held_on: dt.date
    person_a: PersonRef
    person_b: PersonRef
    relation: TalkRelation
    relation_label: str
    topic: str
    summary: str | None = Field(description="谈话要点（仅谈话双方和支部管理者可见，否则为 null）")
    before_life_meeting_id: int | None = Field(description="作为哪次组织生活会的会前谈心谈话")


class TalkPage(Schema):
    org: OrgRef
    year: int
    items: list[TalkOut]


class TalkIn(InputSchema):
    org: str = Field(max_length=CODE_MAX, description="党支部（或其党小组）代码")
    held_on: IsoDate
    person_a_id: int = Field(ge=1, le=MAX_INT, description="谈话人 id")
    person_b_id: int = Field(ge=1, le=MAX_INT, description="谈话对象 id")
    topic: str = Field(min_length=1, max_length=200)
    summary: str = Field("", max_length=5000)
    before_life_meeting_id: int | None = Field(
        None, ge=1, le=MAX_INT, description="组织生活会 id（会前谈心谈话）"
    )


class CoverageItemOut(Schema):
    label: str
    count: int
    met: bool


class CoverageRelationOut(Schema):
    relation: TalkRelation
    title: str
    rule_id: str
    unit: str
    state: str = Field(description="检查结果（制度没有此项时为空）")
    state_label: str
    message: str
    items: list[CoverageItemOut]
    missing: list[str]


class CoverageOut(Schema):
    org: OrgRef
    year: int
    min_per_year: int = Field(description="每年至少谈话次数（制度参数 talk.min_per_year）")
    committee: list[str]
    has_committee: bool
    missing_total: int
    relations: list[CoverageRelationOut]


class CriticismOut(Schema):
    id: int
    kind: CriticismKind
    kind_label: str
    speaker: PersonRef | None = Field(
        description="发言人（会前意见可不署名，为 null；会前意见的发言人只对本组织的管理者显示）"
    )
    about: PersonRef | None = Field(description="意见或批评的对象（会前意见的对象同样只对管理者显示）")
    text: str
    created_at: dt.datetime


class SelfCriticismOut(Schema):
    person: PersonRef
    attendance_state: AttendanceState
    excused: bool = Field(description="已请假")
    spoken: bool = Field(description="已有自我批评的记录")
    texts: list[CriticismOut] = Field(description="本人的自我批评")
    received: list[CriticismOut] = Field(description="他人对本人的批评")


class RectificationOut(Schema):
    id: int
    meeting_id: int
    item: str
    owner: PersonRef
    due_on: dt.date
    done_on: dt.date | None
    evidence: str
    overdue: bool = Field(description="已过完成时限仍未完成")
    may_mark_done: bool = Field(description="当前用户能否标记完成（管理者或责任人）")


class LifeMeetingOut(Schema):
    meeting: MeetingOut
    started: bool = Field(description="会议已开始（开始前只能记录会前征求的意见）")
    can_manage: bool = Field(description="当前用户能否记录批评和整改事项")
    opinions: list[CriticismOut] = Field(description="会前征求的意见")
    talks: list[TalkOut] = Field(description="会前谈心谈话（谈话要点仅谈话双方和支部管理者可见）")
    people: list[SelfCriticismOut] = Field(description="参会人员的自我批评和收到的批评，按姓名")
    mutual: list[CriticismOut] = Field(description="相互批评")
    not_spoken: list[str] = Field(description="尚无自我批评记录的参会人员")
    rectifications: list[RectificationOut]


class CriticismIn(InputSchema):
    kind: CriticismKind = Field(description="opinion 会前征求的意见、self 自我批评、mutual 相互批评")
    text: str = Field(min_length=1, max_length=5000)
    speaker_id: int | None = Field(None, ge=1, le=MAX_INT, description="发言人 id（会前意见可不署名）")
    about_id: int | None = Field(None, ge=1, le=MAX_INT, description="对象 id（相互批评必填）")


class RectificationIn(InputSchema):
    item: str = Field(min_length=1, max_length=300, description="整改事项")
    owner_id: int = Field(ge=1, le=MAX_INT, description="责任人 id（参会人员）")
    due_on: IsoDate = Field(description="完成时限")


class RectificationDoneIn(InputSchema):
    done_on: IsoDate = Field(description="完成日期")
    evidence: str = Field(min_length=1, max_length=2000, description="完成情况")


class LedgerQuery(QuerySchema):
    org: str = Field(max_length=CODE_MAX, description="党组织代码")
    year: int | None = Field(None, ge=YEAR_MIN, le=YEAR_MAX, description="年度（默认今年）")


MeetingId = PathEx[int, P(ge=1, le=MAX_INT, description="会议 id")]
AttachmentId = PathEx[int, P(ge=1, le=MAX_INT, description="附件 id")]
RectificationId = PathEx[int, P(ge=1, le=MAX_INT, description="整改事项 id")]
AttendanceId = PathEx[int, P(ge=1, le=MAX_INT, description="出席记录 id")]
VoteId = PathEx[int, P(ge=1, le=MAX_INT, description="表决 id")]


# Reading ----------------------------------------------------------------------------------------------
def _sees_roll(scope: Scope, org: Organization) -> bool:
    """Whether the user sees a meeting's whole roll: through a post or grant on its org (not merely as a
    member of the branch, which Scope.can_view_path would also accept)."""
    return any(org.path.startswith(p) for p in scope.view_paths)


def _list_qs(scope: Scope) -> QuerySet[Meeting]:
    """Visible meetings with their head-counts and the user's own attendance, in one query per page."""
    qs = selectors.meetings_visible(scope).annotate(
        n_invited=models.Count("attendances", distinct=True),
        n_present=models.Count(
            "attendances", filter=Q(attendances__state=AttendanceState.PRESENT), distinct=True
        ),
    )
    if scope.person_id:
        mine = Attendance.objects.filter(meeting=OuterRef("pk"), person_id=scope.person_id).values("state")
        qs = qs.annotate(my_state=Subquery(mine[:1]))
    return qs.order_by("starts_at", "pk")


def _person(p: Person | None) -> dict[str, Any] | None:
    return {"id": p.pk, "name": p.name} if p is not None else None


def meeting_out(m: Meeting) -> dict[str, Any]:
    """A meeting as the lists show it (annotated by _list_qs)."""
    return {
        "id": m.pk,
        "org": {"code": m.org.code, "name": m.org.name},
        "kind": m.kind,
        "kind_label": label_of(MeetingKind, m.kind),
        "also_counts_as": list(m.also_counts_as or []),
        "title": m.title,
        "state": m.state,
        "state_label": label_of(MeetingState, m.state),
        "from_plan": m.from_plan,
        "starts_at": m.starts_at,
        "ends_at": m.ends_at,
        "place": m.place,
        "notice_published_at": m.notice_published_at,
        "held_at": m.held_at,
        "invited": getattr(m, "n_invited", 0),
        "present": getattr(m, "n_present", 0),
        "my_state": getattr(m, "my_state", None) or None,
    }


def attendance_out(a: Attendance) -> dict[str, Any]:
    return {
        "id": a.pk,
        "person": {"id": a.person.pk, "name": a.person.name},
        "role": a.role,
        "role_label": label_of(AttendanceRole, a.role),
        "may_vote": a.may_vote,
        "state": a.state,
        "state_label": label_of(AttendanceState, a.state),
        "checked_in_at": a.checked_in_at,
        "check_in_method": a.check_in_method,
        "leave_state": a.leave_state,
        "leave_reason": a.leave_reason,
    }


def _own_person(scope: Scope) -> Person | None:
    return Person.objects.filter(pk=scope.person_id).first() if scope.person_id else None


def vote_out(vote: Vote, *, roll: bool, person: Person | None) -> dict[str, Any]:
    """A vote's result; `roll`: the user sees the meeting's whole roll (names of who has voted);
    `person`: the user's own, for their ballot state."""
    return votes_out([vote], roll=roll, person=person)[0]


def votes_out(votes: list[Vote], *, roll: bool, person: Person | None) -> list[dict[str, Any]]:
    """Many votes' results (as vote_out), read in a fixed number of queries whatever their number."""
    results = voting.vote_results(votes)
    states: dict[int, voting.BallotState] = {}
    if person is not None:
        # Only the votes the person is entitled to have a ballot state of theirs.
        mine = [v for v in votes if any(int(e["id"]) == person.pk for e in v.entitled)]
        states = voting.my_ballot_states(mine, person)
    return [_vote_out(v, results[v.pk], states.get(v.pk), roll=roll) for v in votes]


def _ballot_state_out(state: voting.BallotState) -> dict[str, Any]:
    return {"may_vote": state.may_vote, "has_voted": state.has_voted, "reason": state.reason}


def _vote_out(
    vote: Vote, result: voting.VoteResult, state: voting.BallotState | None, *, roll: bool
) -> dict[str, Any]:
    mine = _ballot_state_out(state) if state is not None else None
    waiting = Counter(result.not_voted)
    voted = []
    for entry in vote.entitled:  # in the order of the roll, never the order of voting
        if waiting[entry["name"]]:
            waiting[entry["name"]] -= 1
        else:
            voted.append(entry["name"])
    choices = None
    if roll and not vote.secret:
        choices = [{"name": name, "choice_label": label} for name, label in result.choices]
    return {
        "id": vote.pk,
        "meeting_id": vote.meeting_id,
        "title": vote.title,
        "secret": vote.secret,
        "state": vote.state,
        "state_label": label_of(VoteState, vote.state),
        "rule": vote.rule,
        "entitled_count": result.entitled_count,
        "present_count": result.present_count,
        "voted_count": result.voted_count,
        "in_favour": result.in_favour,
        "against": result.against,
        "abstain": result.abstain,
        "written_opinions": result.written_opinions,
        "passed": result.passed,
        "explanation": result.explanation,
        "opened_at": vote.opened_at,
        "closed_at": vote.closed_at,
        "development_case_id": vote.development_case_id,
        "development_purpose": vote.development_purpose,
        "choices": choices,
        "voted": voted if roll else None,
        "not_voted": list(result.not_voted) if roll else None,
        "mine": mine,
    }


def attachment_out(f: MeetingAttachment) -> dict[str, Any]:
    return {
        "id": f.pk,
        "meeting_id": f.meeting_id,
        "title": f.title,
        "size": f.size,
        "content_type": f.content_type,
        "uploaded_at": f.uploaded_at,
        "withdrawn_at": f.withdrawn_at,
        "withdrawn_reason": f.withdrawn_reason,
        "download_url": reverse("api:life_attachment_download", kwargs={"attachment_id": f.pk}),
    }


def _check_in_url(request: HttpRequest, meeting: Meeting) -> str:
    try:
        path = reverse("life:check_in", args=[meeting.check_in_token])
    except NoReverseMatch:  # the member pages are mounted separately; the contract fixes the path
        path = f"/life/c/{meeting.check_in_token}/"
    return request.build_absolute_uri(path)


def meeting_detail_out(request: HttpRequest, scope: Scope, meeting_id: int) -> dict[str, Any]:
    """One meeting with its notice, roll (or the user's own row), quorum, minutes, attachments and votes."""
    meeting = _list_qs(scope).select_related("chair", "recorder", "lecturer").filter(pk=meeting_id).first()
    if meeting is None:
        raise NotFound("会议不存在或不在您的权限范围内")
    roll = _sees_roll(scope, meeting.org)
    manager = scope.can_manage_path(meeting.org.path)
    rows = meeting.attendances.select_related("person").order_by("person__name_pinyin", "pk")
    if not roll:
        rows = rows.filter(person_id=scope.person_id or 0)
    attendances = list(rows)
    mine = next((a for a in attendances if a.person_id == scope.person_id), None)
    quorum = services.quorum_status(meeting)
    opens, closes = services.check_in_window(meeting)
    minutes = meeting.minutes or {}
    # Withdrawn ones too, marked so (as on the meeting's page): they stay on record as evidence, for those
    # who view the org; an invitee from elsewhere gets only those they may open (the page's one rule).
    attachments = [
        f
        for f in MeetingAttachment.objects.filter(meeting=meeting).order_by("uploaded_at", "pk")
        if attachment_may_open(scope, f, meeting)
    ]
    votes = list(Vote.objects.filter(meeting=meeting).order_by("opened_at", "pk"))
    person = _own_person(scope) if votes else None
    missing = None
    if manager and meeting.state == MeetingState.PLANNED:
        missing = services.hold_missing(meeting, timezone.now())
    return {
        **meeting_out(meeting),
        "day": selectors.meeting_day(meeting),
        "topics": meeting.topics,
        "chair": _person(meeting.chair),
        "recorder": _person(meeting.recorder),
        "lecturer": _person(meeting.lecturer),
        "lecturer_name": meeting.lecturer_name,
        "lecture_title": meeting.lecture_title,
        "include_activists": meeting.include_activists,
        "cancelled_reason": meeting.cancelled_reason,
        "minutes": {
            "topics": list(minutes.get("topics") or []),
            "speakers": list(minutes.get("speakers") or []),
            "resolutions": list(minutes.get("resolutions") or []),
        },
        "minutes_recorded_at": meeting.minutes_recorded_at,
        "minutes_fingerprint": services.minutes_fingerprint(meeting),
        "quorum": {
            "applies": quorum.applies,
            "rule": quorum.rule,
            "entitled": quorum.entitled,
            "present": quorum.present,
            "least": quorum.least,
            "met": quorum.met,
            "sentence": quorum.sentence,
        },
        "can_manage": manager,
        "check_in_url": _check_in_url(request, meeting) if manager else None,
        "check_in_window": {"opens": opens, "closes": closes},
        "attendances": [attendance_out(a) for a in attendances],
        "my_attendance": attendance_out(mine) if mine is not None else None,
        "attachments": [attachment_out(f) for f in attachments],
        "votes": votes_out(votes, roll=roll, person=person),
        "hold_missing": missing,
    }


def _person_for_field(scope: Scope, pk: int | None, label: str, field: str) -> Person | None:
    if pk is None:
        return None
    try:
        return person_get_visible(scope, pk)
    except NotFound:
        raise ServiceError(f"{label}（编号 {pk}）不存在或不在您的权限范围内", field=field) from None


def _vote_get(scope: Scope, vote_id: int) -> Vote:
    """A vote of a meeting the user may see, or NotFound."""
    vote = (
        Vote.objects.select_related("meeting__org")
        .filter(pk=vote_id, meeting__in=selectors.meetings_visible(scope).values("pk"))
        .first()
    )
    if vote is None:
        raise NotFound("表决不存在或不在您的权限范围内")
    return vote


def _vote_response(scope: Scope, vote: Vote) -> dict[str, Any]:
    vote = Vote.objects.select_related("meeting__org").get(pk=vote.pk)
    return vote_out(vote, roll=_sees_roll(scope, vote.meeting.org), person=_own_person(scope))


def _proposed_out(p: planning.ProposedMeeting) -> dict[str, Any]:
    return {
        "kind": p.kind,
        "kind_label": p.kind_label,
        "org": {"code": p.org.code, "name": p.org.name},
        "date": p.date,
        "title": p.title,
        "reason": p.reason,
        "period_start": p.period_start,
        "period_end": p.period_end,
    }


def _proposal(scope: Scope, code: str, year: int) -> tuple[Organization, list[planning.ProposedMeeting]]:
    org = org_for_field(scope, code, "org")
    return org, planning.propose_year(org, year, effective_policy(org), WorkdayCalendar.load([year]))


def _year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)


# Meetings ---------------------------------------------------------------------------------------------
@router.get("/meetings/", response={200: MeetingPage, **ERRORS}, summary="会议列表")
def meeting_list(request: HttpRequest, query: Query[MeetingListQuery]) -> Any:
    """Meetings the user may see (a member: those they are invited to), by time; filter by org subtree,
    year, kind and state."""
    scope = request_scope_of(request)
    # Count and page on the plain query; the head-counts (a join over every attendance row, grouped) are
    # computed for the page's meetings only.
    qs = selectors.meetings_visible(scope).order_by("starts_at", "pk")
    if query.org:
        org = org_for_field(scope, query.org, "org")
        qs = qs.filter(org_id__in=Organization.objects.filter(path__startswith=org.path).values("pk"))
    if query.year:
        start, end = _year_bounds(query.year)
        qs = qs.filter(starts_at__gte=start, starts_at__lt=end)
    if query.kind:
        qs = qs.filter(kind__in=[k.value for k in query.kind])
    if query.state:
        qs = qs.filter(state__in=[s.value for s in query.state])
    total, page = paginate(qs.values_list("pk", flat=True), query.page, query.page_size)
    rows = {m.pk: m for m in _list_qs(scope).filter(pk__in=page)}
    items = [meeting_out(rows[pk]) for pk in page]
    return {"count": total, "page": query.page, "page_size": query.page_size, "items": items}


@router.get("/meetings/{meeting_id}/", response={200: MeetingDetailOut, **ERRORS}, summary="会议详情")
def meeting_retrieve(request: HttpRequest, meeting_id: MeetingId) -> Any:
    """The notice, the roll with attendance (a member: their own row), quorum, minutes and votes."""
    return meeting_detail_out(request, request_scope_of(request), meeting_id)


@router.post("/meetings/", response={201: MeetingDetailOut, **ERRORS}, summary="安排会议")
def meeting_create(request: HttpRequest, payload: MeetingCreateIn) -> Any:
    """Arrange a meeting; the invitees follow from its kind and org (notice not yet published)."""
    scope = request_scope_of(request)
    meeting = services.meeting_create(
        actor=request.user,
        scope=scope,
        org=org_for_field(scope, payload.org, "org"),
        kind=payload.kind.value,
        title=payload.title,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        place=payload.place,
        topics=payload.topics,
        chair=_person_for_field(scope, payload.chair_id, "主持人", "chair_id"),
        recorder=_person_for_field(scope, payload.recorder_id, "记录人", "recorder_id"),
        lecturer=_person_for_field(scope, payload.lecturer_id, "主讲人", "lecturer_id"),
        lecturer_name=payload.lecturer_name,
        lecture_title=payload.lecture_title,
        include_activists=payload.include_activists,
        also_counts_as=[k.value for k in payload.also_counts_as],
    )
    return HttpStatus(201, meeting_detail_out(request, scope, meeting.pk))


_PEOPLE_FIELDS = {
    "chair_id": ("chair", "主持人"),
    "recorder_id": ("recorder", "记录人"),
    "lecturer_id": ("lecturer", "主讲人"),
}
_REQUIRED = {"org": "组织", "kind": "会议类型", "title": "会议名称", "starts_at": "开始时间"}


@router.patch("/meetings/{meeting_id}/", response={200: MeetingDetailOut, **ERRORS}, summary="修改会议通知")
def meeting_update(request: HttpRequest, payload: MeetingUpdateIn, meeting_id: MeetingId) -> Any:
    """Change a planned meeting's notice; only the fields sent change (the invitees follow the kind)."""
    scope = request_scope_of(request)
    meeting = selectors.meeting_get_visible(scope, meeting_id)
    changes: dict[str, Any] = {}
    for name, value in payload.model_dump(exclude_unset=True).items():
        if name in _PEOPLE_FIELDS:
            field, label = _PEOPLE_FIELDS[name]
            changes[field] = _person_for_field(scope, value, label, name)
        elif value is None and name in _REQUIRED:
            raise ServiceError(f"{_REQUIRED[name]}不能为空", field=name)
        elif name == "org":
            changes["org"] = org_for_field(scope, value, "org")
        elif name == "kind":
            changes["kind"] = MeetingKind(value).value
        elif name == "also_counts_as":
            changes[name] = [MeetingKind(k).value for k in value or []]
        elif name == "include_activists":
            changes[name] = bool(value)
        elif name in ("place", "topics", "lecturer_name", "lecture_title"):
            changes[name] = value or ""
        else:
            changes[name] = value
    services.meeting_update(actor=request.user, scope=scope, meeting=meeting, changes=changes)
    return meeting_detail_out(request, scope, meeting.pk)


@router.post(
    "/meetings/{meeting_id}/publish/", response={200: MeetingDetailOut, **ERRORS}, summary="发布会议通知"
)
def meeting_publish(request: HttpRequest, meeting_id: MeetingId) -> Any:
    """Publish (or publish again) the notice of a planned meeting that has not started."""
    scope = request_scope_of(request)
    meeting = selectors.meeting_get_visible(scope, meeting_id)
    services.notice_publish(actor=request.user, scope=scope, meeting=meeting)
    return meeting_detail_out(request, scope, meeting.pk)


@router.post("/meetings/{meeting_id}/cancel/", response={200: MeetingDetailOut, **ERRORS}, summary="取消会议")
def meeting_cancel(request: HttpRequest, payload: ReasonIn, meeting_id: MeetingId) -> Any:
    """Cancel a planned meeting with the reason; it stays on record as cancelled."""
    scope = request_scope_of(request)
    meeting = selectors.meeting_get_visible(scope, meeting_id)
    services.meeting_cancel(actor=request.user, scope=scope, meeting=meeting, reason=payload.reason)
    return meeting_detail_out(request, scope, meeting.pk)


@router.post(
    "/meetings/{meeting_id}/attendance/", response={200: MeetingDetailOut, **ERRORS}, summary="登记出席情况"
)
def attendance_mark(request: HttpRequest, payload: AttendanceMarkIn, meeting_id: MeetingId) -> Any:
    """The secretary records who was present, excused or absent (from the meeting's start on)."""
    scope = request_scope_of(request)
    meeting = selectors.meeting_get_visible(scope, meeting_id)
    states = {pid: state.value for pid, state in payload.states.items()}
    services.attendance_mark(actor=request.user, scope=scope, meeting=meeting, states=states)
    return meeting_detail_out(request, scope, meeting.pk)


@router.post(
    "/meetings/{meeting_id}/minutes/", response={200: MeetingDetailOut, **ERRORS}, summary="填写会议记录"
)
def minutes_record(request: HttpRequest, payload: MinutesIn, meeting_id: MeetingId) -> Any:
    """Record (or correct) the minutes of a meeting that has started: topics, speakers, resolutions. With
    `seen` (the minutes_fingerprint read), a save over minutes changed since is refused, not overwritten."""
    scope = request_scope_of(request)
    meeting = selectors.meeting_get_visible(scope, meeting_id)
    services.minutes_record(
        actor=request.user,
        scope=scope,
        meeting=meeting,
        topics=payload.topics,
        speakers=[s.model_dump() for s in payload.speakers],
        resolutions=payload.resolutions,
        chair=_person_for_field(scope, payload.chair_id, "主持人", "chair_id"),
        recorder=_person_for_field(scope, payload.recorder_id, "记录人", "recorder_id"),
        seen=payload.seen,
    )
    return meeting_detail_out(request, scope, meeting.pk)


@router.post(
    "/meetings/{meeting_id}/hold/", response={200: MeetingDetailOut, **ERRORS}, summary="确认会议已召开"
)
def meeting_hold(request: HttpRequest, meeting_id: MeetingId) -> Any:
    """Confirm the meeting was held: every invitee's attendance recorded and minutes with a topic."""
    scope = request_scope_of(request)
    meeting = selectors.meeting_get_visible(scope, meeting_id)
    services.meeting_hold(actor=request.user, scope=scope, meeting=meeting)
    return meeting_detail_out(request, scope, meeting.pk)


# Attachments ------------------------------------------------------------------------------------------
def _attachment_get(scope: Scope, attachment_id: int) -> MeetingAttachment:
    """An attachment the user may open, by the page's rule (an invitee of the meeting; a withdrawn one
    only those who view its org), or NotFound."""
    return attachment_get_openable(scope, attachment_id)


@router.post(
    "/meetings/{meeting_id}/attachments/",
    response={201: AttachmentOut, **ERRORS},
    summary="上传会议附件（multipart：file，可选 title）",
)
def attachment_upload(
    request: HttpRequest, meeting_id: MeetingId, file: File[NinjaUploadedFile], title: Form[str] = ""
) -> Any:
    """Keep a photo, a scanned sign-in sheet or a PDF with the meeting; the type is read from the content,
    not the name, and a file over the size limit is refused."""
    scope = request_scope_of(request)
    meeting = selectors.meeting_get_visible(scope, meeting_id)
    if "\x00" in title:
        raise ServiceError("附件名称不能包含空字符（\\u0000）", field="title")
    attachment = services.attachment_add(
        actor=request.user, scope=scope, meeting=meeting, file=file, title=title
    )
    return HttpStatus(201, attachment_out(attachment))


@router.get(
    "/attachments/{attachment_id}/",
    response={**ERRORS},
    summary="下载会议附件（文件本身）",
    url_name="life_attachment_download",
    openapi_extra={
        "responses": {
            200: {
                "description": "附件文件（图片或 PDF），每次下载均记入审计日志",
                "content": {
                    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                    "image/png": {"schema": {"type": "string", "format": "binary"}},
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                },
            }
        }
    },
)
def attachment_download(request: HttpRequest, attachment_id: AttachmentId) -> Any:
    """The stored file, for the meeting's invitees and those who view its org (a withdrawn one only for
    the latter, as on the page); every download is audited."""
    return attachment_file(
        actor=request.user,
        scope=request_scope_of(request),
        attachment_id=attachment_id,
        inline=False,
        via="通过接口",
    )


@router.post(
    "/attachments/{attachment_id}/withdraw/",
    response={200: AttachmentOut, **ERRORS},
    summary="撤回会议附件（文件保留）",
)
def attachment_withdraw(request: HttpRequest, payload: ReasonIn, attachment_id: AttachmentId) -> Any:
    """Mark an attachment uploaded by mistake as withdrawn, with the reason; the file is kept."""
    scope = request_scope_of(request)
    attachment = services.attachment_withdraw(
        actor=request.user,
        scope=scope,
        attachment=_attachment_get(scope, attachment_id),
        reason=payload.reason,
    )
    return attachment_out(attachment)


@router.post("/meetings/{meeting_id}/leave/", response={200: AttendanceOut, **ERRORS}, summary="请假（本人）")
def leave_request(request: HttpRequest, payload: ReasonIn, meeting_id: MeetingId) -> Any:
    """An invitee asks leave for a meeting that has not started yet."""
    scope = request_scope_of(request)
    meeting = selectors.meeting_get_visible(scope, meeting_id)
    row = services.leave_request(actor=request.user, meeting=meeting, reason=payload.reason)
    return attendance_out(Attendance.objects.select_related("person").get(pk=row.pk))


@router.post(
    "/attendances/{attendance_id}/leave-decision/",
    response={200: AttendanceOut, **ERRORS},
    summary="审批请假",
)
def leave_decide(request: HttpRequest, payload: LeaveDecisionIn, attendance_id: AttendanceId) -> Any:
    """Approve (the invitee is excused) or refuse (still expected) a leave request."""
    scope = request_scope_of(request)
    row = Attendance.objects.filter(
        pk=attendance_id, meeting__in=selectors.meetings_visible(scope).values("pk")
    ).first()
    if row is None:
        raise NotFound("出席记录不存在或不在您的权限范围内")
    row = services.leave_decide(actor=request.user, scope=scope, attendance=row, approve=payload.approve)
    return attendance_out(row)


@router.post("/check-in/", response={200: CheckInOut, **ERRORS}, summary="扫码签到（本人）")
def check_in(request: HttpRequest, payload: CheckInIn) -> Any:
    """The invitee checks in with the token of the meeting's QR code, inside the check-in window."""
    meeting = Meeting.objects.filter(check_in_token=payload.token).first()
    if meeting is None:
        raise ServiceError("签到码无效，请重新扫描会场的二维码", field="token")
    result = services.check_in(actor=request.user, meeting=meeting, token=payload.token)
    return {
        "message": result.message,
        "already": result.already,
        "meeting_id": meeting.pk,
        "meeting_title": meeting.title,
        "attendance": attendance_out(result.attendance),
    }


# The year's plan --------------------------------------------------------------------------------------
@router.get("/plan/", response={200: PlanOut, **ERRORS}, summary="年度会议计划建议")
def plan_propose(request: HttpRequest, query: Query[PlanQuery]) -> Any:
    """The meetings an org should hold in a year under its policy, each on a working day, with why."""
    org, proposal = _proposal(request_scope_of(request), query.org, query.year)
    return {
        "org": {"code": org.code, "name": org.name},
        "year": query.year,
        "items": [_proposed_out(p) for p in proposal],
    }


@router.post("/plan/apply/", response={200: PlanResultOut, **ERRORS}, summary="按年度计划安排会议")
def plan_apply(request: HttpRequest, payload: PlanApplyIn) -> Any:
    """Arrange the proposals kept (or all of them) as planned meetings; a period that already has its
    meeting is skipped, so applying twice creates nothing new."""
    scope = request_scope_of(request)
    if payload.all == bool(payload.items):
        raise ServiceError(
            "请列出要安排的建议（items），或传 all: true 按全部建议安排，二者选一", field="items"
        )
    org, proposal = _proposal(scope, payload.org, payload.year)
    by_key = {(p.kind, p.org.code, p.date): p for p in proposal}
    chosen: list[planning.ProposedMeeting] = []
    if payload.all:
        chosen = proposal
    seen: set[tuple[str, str, dt.date]] = set()
    for i, item in enumerate(payload.items, 1):
        key = (item.kind.value, item.org, item.date)
        found = by_key.get(key)
        if found is None:
            raise ServiceError(
                f"第 {i} 项（{item.org} {item.date:%Y-%m-%d} {label_of(MeetingKind, item.kind.value)}）"
                f"不在 {org.name} {payload.year} 年的计划建议中，请先查看计划建议",
                field="items",
            )
        if key in seen:
            raise ServiceError(f"第 {i} 项与前面的项重复", field="items")
        seen.add(key)
        lecturer = _person_for_field(scope, item.lecturer_id, f"第 {i} 项的主讲人", "items")
        chosen.append(
            replace(
                found, lecturer=lecturer, lecturer_name=item.lecturer_name, lecture_title=item.lecture_title
            )
        )
    result = planning.plan_apply(actor=request.user, scope=scope, org=org, year=payload.year, items=chosen)
    created = _list_qs(scope).filter(pk__in=[m.pk for m in result.created])
    return {
        "created": [meeting_out(m) for m in created],
        "skipped": [_proposed_out(p) for p in result.skipped],
        "refused": [{"item": _proposed_out(p), "reason": why} for p, why in result.refused],
        "message": result.message,
    }


# Votes ------------------------------------------------------------------------------------------------
@router.post("/meetings/{meeting_id}/votes/", response={201: VoteOut, **ERRORS}, summary="开始表决")
def vote_open(request: HttpRequest, payload: VoteOpenIn, meeting_id: MeetingId) -> Any:
    """Open a vote in a meeting under way with the entitled voters; refused without a quorum."""
    scope = request_scope_of(request)
    meeting = selectors.meeting_get_visible(scope, meeting_id)
    case = None
    if payload.development_case_id is not None:
        case = DevelopmentCase.objects.filter(pk=payload.development_case_id).first()
        if case is None:
            raise ServiceError("发展党员流程不存在或不在您的权限范围内", field="development_case_id")
    vote = voting.vote_open(
        actor=request.user,
        scope=scope,
        meeting=meeting,
        title=payload.title,
        secret=payload.secret,
        rule=payload.rule or None,
        development_case=case,
        development_purpose=payload.development_purpose.value if payload.development_purpose else "",
    )
    return HttpStatus(201, _vote_response(scope, vote))


@router.get("/votes/{vote_id}/", response={200: VoteOut, **ERRORS}, summary="表决结果")
def vote_retrieve(request: HttpRequest, vote_id: VoteId) -> Any:
    """A vote's counts and result; a secret vote shows counts only after closing, and never who voted what."""
    scope = request_scope_of(request)
    return _vote_response(scope, _vote_get(scope, vote_id))


@router.post("/votes/{vote_id}/ballot/", response={200: BallotOut, **ERRORS}, summary="投票")
def ballot_cast(request: HttpRequest, payload: BallotIn, vote_id: VoteId) -> Any:
    """Cast one's ballot once (checked in, entitled, while the vote is open); the answer names no choice."""
    scope = request_scope_of(request)
    vote = _vote_get(scope, vote_id)
    person = None
    if payload.person_id is not None:
        person = _person_for_field(scope, payload.person_id, "表决人", "person_id")
    voting.ballot_cast(actor=request.user, vote=vote, choice=payload.choice.value, person=person, scope=scope)
    return {"message": "投票成功", "vote": _vote_response(scope, vote)}


@router.post("/votes/{vote_id}/counts/", response={200: VoteOut, **ERRORS}, summary="录入会场计票结果")
def vote_counts(request: HttpRequest, payload: CountsIn, vote_id: VoteId) -> Any:
    """Record the count of a paper ballot made in the room (not more ballots than voters present)."""
    scope = request_scope_of(request)
    vote = voting.vote_record_counts(
        actor=request.user,
        scope=scope,
        vote=_vote_get(scope, vote_id),
        in_favour=payload.in_favour,
        against=payload.against,
        abstain=payload.abstain,
        written_opinions=payload.written_opinions,
    )
    return _vote_response(scope, vote)


@router.post("/votes/{vote_id}/close/", response={200: VoteOut, **ERRORS}, summary="结束表决")
def vote_close(request: HttpRequest, payload: CloseIn, vote_id: VoteId) -> Any:
    """Close the vote, decide it against the entitled count and add the result to the minutes."""
    scope = request_scope_of(request)
    vote = voting.vote_close(
        actor=request.user,
        scope=scope,
        vote=_vote_get(scope, vote_id),
        written_opinions=payload.written_opinions,
    )
    return _vote_response(scope, vote)


@router.post(
    "/votes/{vote_id}/development-step/",
    response={201: StepFromVoteOut, **ERRORS},
    summary="据表决结果记录发展党员步骤",
)
def development_step(request: HttpRequest, payload: StepFromVoteIn, vote_id: VoteId) -> Any:
    """Record a case's reception or confirmation vote step from this closed vote of the assembly."""
    scope = request_scope_of(request)
    step = voting.development_step_from_vote(
        actor=request.user,
        scope=scope,
        vote=_vote_get(scope, vote_id),
        data=dict(payload.data),
        note=payload.note,
    )
    case = DevelopmentCase.objects.select_related("person__org").get(pk=step.case_id)
    return HttpStatus(
        201,
        {
            "step": {"id": step.pk, "code": step.code, "done_on": step.done_on, "outcome": step.outcome},
            "case": case_out(case, development.case_timeline(case)),
        },
    )


# Talks ------------------------------------------------------------------------------------------------
def talk_out(talk: Talk, *, summary_visible: bool) -> dict[str, Any]:
    return {
        "id": talk.pk,
        "org": {"code": talk.org.code, "name": talk.org.name},
        "held_on": talk.held_on,
        "person_a": {"id": talk.person_a.pk, "name": talk.person_a.name},
        "person_b": {"id": talk.person_b.pk, "name": talk.person_b.name},
        "relation": talk.relation,
        "relation_label": label_of(TalkRelation, talk.relation),
        "topic": talk.topic,
        "summary": talk.summary if summary_visible else None,
        "before_life_meeting_id": talk.before_life_meeting_id,
    }


def _talk_branch(scope: Scope, code: str) -> Organization:
    branch = talks.branch_visible(scope, code)
    talks.check_sees_branch_talks(scope, branch)
    return branch


@router.get("/talks/", response={200: TalkPage, **ERRORS}, summary="谈心谈话记录")
def talk_list(request: HttpRequest, query: Query[TalkQuery]) -> Any:
    """A branch's talks of the year: all of them for those who oversee it, one's own for a member."""
    scope = request_scope_of(request)
    branch = _talk_branch(scope, query.org)
    year = query.year or timezone.localdate().year
    rows = talks.talks_visible(scope, branch, year)
    return {
        "org": {"code": branch.code, "name": branch.name},
        "year": year,
        "items": [talk_out(r.talk, summary_visible=r.summary_visible) for r in rows],
    }


def _talk_party(scope: Scope, branch: Organization, pk: int, on: dt.date, field: str) -> Person:
    # Only people the user sees or the branch's own members and committee: a refusal names nobody else.
    person = Person.objects.select_related("org").filter(pk=pk).first()
    allowed = person is not None and (
        scope.can_view_person(person) or pk in {pid for pid, _ in talks.talk_people(branch, on)}
    )
    if person is None or not allowed:
        raise ServiceError(f"谈话一方（编号 {pk}）不是{branch.name}的党员或支部委员", field=field)
    return person


@router.post("/talks/", response={201: TalkOut, **ERRORS}, summary="记录谈心谈话")
def talk_create(request: HttpRequest, payload: TalkIn) -> Any:
    """Record a talk: a manager records any of the branch's, a member one they took part in."""
    scope = request_scope_of(request)
    org = org_for_field(scope, payload.org, "org")
    branch = talks.branch_of(org)
    meeting = None
    if payload.before_life_meeting_id is not None:
        meeting = next(
            (m for m in talks.life_meetings_for_talks(branch) if m.pk == payload.before_life_meeting_id), None
        )
        if meeting is None:
            raise ServiceError(f"所选会议不是{branch.name}的组织生活会", field="before_life_meeting_id")
    talk = talks.talk_record(
        actor=request.user,
        scope=scope,
        org=org,
        held_on=payload.held_on,
        person_a=_talk_party(scope, branch, payload.person_a_id, payload.held_on, "person_a_id"),
        person_b=_talk_party(scope, branch, payload.person_b_id, payload.held_on, "person_b_id"),
        topic=payload.topic,
        summary=payload.summary,
        before_life_meeting=meeting,
    )
    talk = Talk.objects.select_related("org", "person_a", "person_b").get(pk=talk.pk)
    return HttpStatus(201, talk_out(talk, summary_visible=True))


@router.get("/talks/coverage/", response={200: CoverageOut, **ERRORS}, summary="谈心谈话覆盖情况")
def talk_coverage(request: HttpRequest, query: Query[TalkQuery]) -> Any:
    """Who or which pairs of a branch must talk in the year, how often they did, and who is missing."""
    scope = request_scope_of(request)
    branch = _talk_branch(scope, query.org)
    year = query.year or timezone.localdate().year
    board = talks.coverage_board(branch, year)
    return {
        "org": {"code": branch.code, "name": branch.name},
        "year": year,
        "min_per_year": board.min_per_year,
        "committee": list(board.committee),
        "has_committee": board.has_committee,
        "missing_total": board.missing_total,
        "relations": [
            {
                "relation": r.relation,
                "title": r.title,
                "rule_id": r.rule_id,
                "unit": r.unit,
                "state": r.state,
                "state_label": r.state_label,
                "message": r.message,
                "items": [{"label": i.label, "count": i.count, "met": i.met} for i in r.items],
                "missing": list(r.missing),
            }
            for r in board.relations
        ],
    }


# The life meeting -------------------------------------------------------------------------------------
def _life_meeting_get(scope: Scope, meeting_id: int) -> Meeting:
    meeting = selectors.meeting_get_visible(scope, meeting_id)
    if not talks.is_life_meeting(meeting):
        raise NotFound("会议不是组织生活会")
    return meeting


def _check_records_life_meeting(scope: Scope, meeting: Meeting) -> None:
    # Before the people are looked up, so that an invitee who may not record hears that, not about them.
    if not scope.can_manage_path(meeting.org.path):
        raise NotPermitted(f"您无权办理{meeting.org.name}组织生活会的记录")


def _invitee_for_field(meeting: Meeting, pk: int | None, label: str, field: str) -> Person | None:
    """An invitee of the meeting by id; anyone else is refused without being named."""
    if pk is None:
        return None
    row = Attendance.objects.select_related("person").filter(meeting=meeting, person_id=pk).first()
    if row is None:
        raise ServiceError(f"{label}（编号 {pk}）不在“{meeting.title}”的参会名单中", field=field)
    return row.person


def criticism_out(c: Criticism, *, named: bool = True) -> dict[str, Any]:
    """One opinion or criticism; `named=False` leaves out who gave it and about whom (null)."""
    return {
        "id": c.pk,
        "kind": c.kind,
        "kind_label": label_of(CriticismKind, c.kind),
        "speaker": _person(c.speaker) if named else None,
        "about": _person(c.about) if named else None,
        "text": c.text,
        "created_at": c.created_at,
    }


def rectification_out(scope: Scope, r: Rectification, *, manages: bool, today: dt.date) -> dict[str, Any]:
    return {
        "id": r.pk,
        "meeting_id": r.meeting_id,
        "item": r.item,
        "owner": {"id": r.owner.pk, "name": r.owner.name},
        "due_on": r.due_on,
        "done_on": r.done_on,
        "evidence": r.evidence,
        "overdue": r.done_on is None and r.due_on < today,
        "may_mark_done": r.done_on is None and (manages or r.owner_id == scope.person_id),
    }


def life_meeting_out(scope: Scope, meeting_id: int) -> dict[str, Any]:
    """A life meeting's record as its page shows it, in a fixed number of queries."""
    meeting = _list_qs(scope).filter(pk=meeting_id).first()
    if meeting is None:
        raise NotFound("会议不存在或不在您的权限范围内")
    if not talks.is_life_meeting(meeting):
        raise NotFound("会议不是组织生活会")
    page = talks.life_meeting_page(meeting, scope=scope)
    manages = scope.can_manage_path(meeting.org.path)
    today = timezone.localdate()
    return {
        "meeting": meeting_out(meeting),
        "started": page.started,
        "can_manage": manages,
        # Who gave an opinion before the meeting, and about whom, only its org's managers see (as on the
        # page); self-criticism and mutual criticism are spoken at the meeting and stay named.
        "opinions": [criticism_out(c, named=manages) for c in page.opinions],
        "talks": [talk_out(r.talk, summary_visible=r.summary_visible) for r in page.talks],
        "people": [
            {
                "person": {"id": p.person_id, "name": p.name},
                "attendance_state": p.attendance_state,
                "excused": p.excused,
                "spoken": p.spoken,
                "texts": [criticism_out(c) for c in p.texts],
                "received": [criticism_out(c) for c in p.received],
            }
            for p in page.people
        ],
        "mutual": [criticism_out(c) for c in page.mutual],
        "not_spoken": [p.name for p in page.not_spoken],
        "rectifications": [
            rectification_out(scope, r, manages=manages, today=today) for r in page.rectifications
        ],
    }


@router.get(
    "/meetings/{meeting_id}/life/", response={200: LifeMeetingOut, **ERRORS}, summary="组织生活会记录"
)
def life_meeting_retrieve(request: HttpRequest, meeting_id: MeetingId) -> Any:
    """A life meeting's opinions and talks before it, each invitee's self-criticism, mutual criticism and
    rectification items; a talk's summary only to the two who talked and the branch's managers, and who
    gave an opinion before it and about whom only to the managers."""
    return life_meeting_out(request_scope_of(request), meeting_id)


@router.post(
    "/meetings/{meeting_id}/life/criticisms/",
    response={201: CriticismOut, **ERRORS},
    summary="记录会前意见、自我批评或相互批评",
)
def criticism_create(request: HttpRequest, payload: CriticismIn, meeting_id: MeetingId) -> Any:
    """Before the meeting an opinion gathered (named or not); once it has started a self-criticism or one
    invitee's criticism of another."""
    scope = request_scope_of(request)
    meeting = _life_meeting_get(scope, meeting_id)
    _check_records_life_meeting(scope, meeting)
    item = talks.criticism_add(
        actor=request.user,
        scope=scope,
        meeting=meeting,
        kind=payload.kind.value,
        text=payload.text,
        speaker=_invitee_for_field(meeting, payload.speaker_id, "发言人", "speaker_id"),
        about=_invitee_for_field(meeting, payload.about_id, "对象", "about_id"),
    )
    item = Criticism.objects.select_related("speaker", "about").get(pk=item.pk)
    return HttpStatus(201, criticism_out(item))


@router.post(
    "/meetings/{meeting_id}/life/rectifications/",
    response={201: RectificationOut, **ERRORS},
    summary="列出整改事项",
)
def rectification_create(request: HttpRequest, payload: RectificationIn, meeting_id: MeetingId) -> Any:
    """After the life meeting has started: what is to be put right, who owns it, by when."""
    scope = request_scope_of(request)
    meeting = _life_meeting_get(scope, meeting_id)
    _check_records_life_meeting(scope, meeting)
    row = talks.rectification_add(
        actor=request.user,
        scope=scope,
        meeting=meeting,
        item=payload.item,
        owner=_invitee_for_field(meeting, payload.owner_id, "责任人", "owner_id"),
        due_on=payload.due_on,
    )
    row = Rectification.objects.select_related("owner").get(pk=row.pk)
    return HttpStatus(201, rectification_out(scope, row, manages=True, today=timezone.localdate()))


@router.post(
    "/rectifications/{rectification_id}/done/",
    response={200: RectificationOut, **ERRORS},
    summary="整改事项完成",
)
def rectification_done(
    request: HttpRequest, payload: RectificationDoneIn, rectification_id: RectificationId
) -> Any:
    """Mark a rectification item done, with the day and what was done (its owner or a manager)."""
    scope = request_scope_of(request)
    row = (
        Rectification.objects.select_related("meeting__org", "owner")
        .filter(pk=rectification_id, meeting__in=selectors.meetings_visible(scope).values("pk"))
        .first()
    )
    if row is None:
        raise NotFound("整改事项不存在或不在您的权限范围内")
    row = talks.rectification_done(
        actor=request.user, scope=scope, rectification=row, done_on=payload.done_on, evidence=payload.evidence
    )
    manages = scope.can_manage_path(row.meeting.org.path)
    return rectification_out(scope, row, manages=manages, today=timezone.localdate())


# Files ------------------------------------------------------------------------------------------------
def _binary(content_type: str, description: str) -> dict[str, Any]:
    """The OpenAPI answer of a route that returns a file rather than JSON."""
    return {
        "responses": {
            200: {
                "description": description,
                "content": {content_type: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    }


@router.get(
    "/meetings/{meeting_id}/minutes.docx",
    response={**ERRORS},
    summary="下载会议记录（Word）",
    openapi_extra=_binary(DOCX, "会议记录 .docx（仅通过职务或授权管理、查看该组织者可下载；记入审计日志）"),
)
def minutes_docx(request: HttpRequest, meeting_id: MeetingId) -> Any:
    """The meeting's record as Word: notice, attendance, minutes and votes."""
    return minutes_download(actor=request.user, scope=request_scope_of(request), meeting_id=meeting_id)


def _ledger(request: HttpRequest, query: LedgerQuery, suffix: str) -> Any:
    year = str(query.year) if query.year is not None else ""
    return ledger_download(
        actor=request.user, scope=request_scope_of(request), org_code=query.org, year=year, suffix=suffix
    )


@router.get(
    "/ledger.xlsx",
    response={**ERRORS},
    summary="下载“三会一课”台账（Excel）",
    openapi_extra=_binary(XLSX, "一个组织一年的“三会一课”台账 .xlsx（记入审计日志）"),
)
def ledger_xlsx(request: HttpRequest, query: Query[LedgerQuery]) -> Any:
    """The year's 三会一课 ledger of an org the user oversees, as Excel."""
    return _ledger(request, query, "xlsx")


@router.get(
    "/ledger.pdf",
    response={**ERRORS},
    summary="下载“三会一课”台账（PDF）",
    openapi_extra=_binary(PDF, "一个组织一年的“三会一课”台账 .pdf（记入审计日志）"),
)
def ledger_pdf(request: HttpRequest, query: Query[LedgerQuery]) -> Any:
    """The year's 三会一课 ledger of an org the user oversees, as PDF."""
    return _ledger(request, query, "pdf")


# Mine -------------------------------------------------------------------------------------------------
@router.get("/me/meetings/", response={200: MyMeetingsOut, **ERRORS}, summary="我的会议和表决")
def my_meetings(request: HttpRequest, query: Query[PageQuery]) -> Any:
    """The user's meetings from today on with their attendance, and the open votes of their meetings."""
    scope = request_scope_of(request)
    person = Person.objects.filter(pk=scope.person_id).first() if scope.person_id else None
    empty = {"count": 0, "page": query.page, "page_size": query.page_size, "meetings": [], "open_votes": []}
    if person is None:
        return {**empty, "person": None}
    total, rows = paginate(
        selectors.my_meetings(person, timezone.localdate()).select_related("person"),
        query.page,
        query.page_size,
    )
    meetings = {m.pk: m for m in _list_qs(scope).filter(pk__in=[a.meeting_id for a in rows])}
    votes = (
        Vote.objects.filter(state=VoteState.OPEN, meeting__attendances__person=person)
        .exclude(meeting__state=MeetingState.CANCELLED)
        .select_related("meeting")
        .order_by("opened_at", "pk")
    )
    open_votes = []
    # Each read by the rule that ballot_cast applies (my_ballot_states), not by a copy of it.
    listed = list(votes)
    states = voting.my_ballot_states(listed, person)
    for vote in listed:
        open_votes.append(
            {
                "id": vote.pk,
                "title": vote.title,
                "secret": vote.secret,
                "meeting_id": vote.meeting_id,
                "meeting_title": vote.meeting.title,
                "mine": _ballot_state_out(states[vote.pk]),
            }
        )
    return {
        **empty,
        "person": {"id": person.pk, "name": person.name},
        "count": total,
        "meetings": [
            {"meeting": meeting_out(meetings[a.meeting_id]), "attendance": attendance_out(a)}
            for a in rows
            if a.meeting_id in meetings
        ],
        "open_votes": open_votes,
    }
