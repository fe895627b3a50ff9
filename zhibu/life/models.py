"""Organisational life (组织生活): meetings of every kind with their notice, invitees, leave, attendance,
check-in, minutes, attachments and votes; talks between members; the life meeting's criticism and its
rectification items.

How often each kind must be held, quorums and majorities come from the policy pack. These tables keep what
was planned and what happened. Nothing here is hard-deleted: a meeting is cancelled, an attachment
withdrawn. A secret ballot is kept in two tables that nothing joins: who voted (BallotReceipt) and what
was voted (Ballot, with a random key and no time).
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class MeetingKind(models.TextChoices):
    GENERAL_ASSEMBLY = "general_assembly", "支部党员大会"
    COMMITTEE_MEETING = "committee_meeting", "支部委员会会议"
    GROUP_MEETING = "group_meeting", "党小组会"
    PARTY_LECTURE = "party_lecture", "党课"
    THEME_DAY = "theme_day", "主题党日"
    LIFE_MEETING = "life_meeting", "组织生活会"
    LEADERSHIP_LIFE_MEETING = "leadership_life_meeting", "民主生活会"
    STUDY_SESSION = "study_session", "集中学习"


# The four kinds of 三会一课 (a group label only).
SANHUI_YIKE = (
    MeetingKind.GENERAL_ASSEMBLY,
    MeetingKind.COMMITTEE_MEETING,
    MeetingKind.GROUP_MEETING,
    MeetingKind.PARTY_LECTURE,
)


class MeetingState(models.TextChoices):
    PLANNED = "planned", "计划"
    HELD = "held", "已召开"
    CANCELLED = "cancelled", "已取消"


def _token() -> str:
    return secrets.token_urlsafe(24)


class Meeting(models.Model):
    org = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="meetings", verbose_name="党组织"
    )
    kind = models.CharField("会议类型", max_length=32, choices=MeetingKind.choices)
    # A theme day that also holds the quarter's assembly or a lecture counts for those kinds too.
    also_counts_as = models.JSONField("同时计为", default=list, blank=True)
    title = models.CharField("会议名称", max_length=200)
    state = models.CharField(
        "状态", max_length=16, choices=MeetingState.choices, default=MeetingState.PLANNED
    )
    from_plan = models.BooleanField("来自年度计划", default=False)
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间", null=True, blank=True)
    place = models.CharField("地点", max_length=200, blank=True)
    topics = models.TextField("议题", blank=True)
    notice_published_at = models.DateTimeField("通知发布时间", null=True, blank=True)
    chair = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="主持人",
    )
    recorder = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="记录人",
    )
    lecturer = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="主讲人",
    )
    lecturer_name = models.CharField("主讲人（非本支部人员）", max_length=100, blank=True)
    lecture_title = models.CharField("党课题目", max_length=200, blank=True)
    include_activists = models.BooleanField("邀请入党积极分子参加", default=False)
    # Minutes (会议记录): {"topics": [...], "speakers": [{"person_id", "name", "summary"}],
    # "resolutions": [...]}
    minutes = models.JSONField("会议记录", default=dict, blank=True)
    minutes_recorded_at = models.DateTimeField("记录时间", null=True, blank=True)
    held_at = models.DateTimeField("确认召开时间", null=True, blank=True)
    cancelled_reason = models.CharField("取消原因", max_length=300, blank=True)
    check_in_token = models.CharField(max_length=64, default=_token, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = "会议"
        verbose_name_plural = "会议"
        indexes = [
            models.Index(fields=["org", "kind", "starts_at"]),
            models.Index(fields=["state", "starts_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.title}（{self.starts_at:%Y-%m-%d}）"


class AttendanceRole(models.TextChoices):
    MEMBER = "member", "党员"
    PROBATIONARY = "probationary", "预备党员"
    COMMITTEE = "committee", "支委"
    ACTIVIST = "activist", "入党积极分子"
    GUEST = "guest", "列席"


class AttendanceState(models.TextChoices):
    EXPECTED = "expected", "应到"
    PRESENT = "present", "出席"
    EXCUSED = "excused", "请假"
    ABSENT = "absent", "缺席"


class LeaveState(models.TextChoices):
    NONE = "", "—"
    REQUESTED = "requested", "待批准"
    APPROVED = "approved", "已批准"
    REFUSED = "refused", "未批准"


class CheckInMethod(models.TextChoices):
    QR = "qr", "扫码签到"
    SECRETARY = "secretary", "代为签到"


class Attendance(models.Model):
    """One invitee of a meeting: their role, whether they may vote, leave, and whether they came."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="attendances")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="attendances")
    role = models.CharField("身份", max_length=16, choices=AttendanceRole.choices)
    may_vote = models.BooleanField("有表决权", default=False)
    state = models.CharField("出席情况", max_length=16, choices=AttendanceState.choices, default="expected")
    checked_in_at = models.DateTimeField("签到时间", null=True, blank=True)
    check_in_method = models.CharField("签到方式", max_length=16, choices=CheckInMethod.choices, blank=True)
    leave_state = models.CharField("请假", max_length=16, choices=LeaveState.choices, blank=True, default="")
    leave_reason = models.CharField("请假原因", max_length=300, blank=True)
    leave_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["meeting", "id"]
        verbose_name = "出席"
        verbose_name_plural = "出席"
        constraints = [
            models.UniqueConstraint(fields=["meeting", "person"], name="one_attendance_per_person")
        ]
        indexes = [models.Index(fields=["person", "state"])]

    def __str__(self) -> str:
        return f"{self.meeting} {self.person} {self.get_state_display()}"


def attachment_path(instance: MeetingAttachment, filename: str) -> str:
    from pathlib import PurePath

    suffix = PurePath(filename).suffix.lower()[:10]
    return f"meetings/{instance.meeting_id}/{uuid.uuid4().hex}{suffix}"


class MeetingAttachment(models.Model):
    """A photo, a scanned sign-in sheet, a lecture's slides: kept with the meeting as evidence."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="attachments")
    title = models.CharField("文件名", max_length=200)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    size = models.PositiveIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["meeting", "uploaded_at", "id"]
        verbose_name = "会议附件"
        verbose_name_plural = "会议附件"

    def __str__(self) -> str:
        return self.title


class VoteState(models.TextChoices):
    OPEN = "open", "投票中"
    CLOSED = "closed", "已结束"


class VoteChoice(models.TextChoices):
    IN_FAVOUR = "in_favour", "赞成"
    AGAINST = "against", "反对"
    ABSTAIN = "abstain", "弃权"


class Vote(models.Model):
    """An agenda item put to a vote in a meeting (票决/表决), open or secret, with the entitled voters as they
    were when it opened and the result when it closed."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="votes")
    title = models.CharField("表决事项", max_length=200)
    secret = models.BooleanField("无记名投票", default=True)
    state = models.CharField("状态", max_length=16, choices=VoteState.choices, default=VoteState.OPEN)
    rule = models.CharField("表决规则（制度参数前缀）", max_length=60, default="general_assembly")
    entitled = models.JSONField("应到会有表决权人员", default=list)  # [{"id", "name"}]
    entitled_count = models.PositiveIntegerField("应到会人数", default=0)
    present_count = models.PositiveIntegerField("实到会有表决权人数", default=0)
    written_opinions = models.PositiveIntegerField("书面意见（赞成）", default=0)
    in_favour = models.PositiveIntegerField("赞成", default=0)
    against = models.PositiveIntegerField("反对", default=0)
    abstain = models.PositiveIntegerField("弃权", default=0)
    passed = models.BooleanField("通过", null=True, blank=True)
    explanation = models.TextField("结果说明", blank=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # A development case's reception or confirmation vote is decided here (the step links to it).
    development_case = models.ForeignKey(
        "development.DevelopmentCase",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="meeting_votes",
    )
    development_purpose = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["meeting", "opened_at", "id"]
        verbose_name = "表决"
        verbose_name_plural = "表决"

    def __str__(self) -> str:
        return self.title


class VoteCast(models.Model):
    """An open (记名) vote: who voted what."""

    vote = models.ForeignKey(Vote, on_delete=models.PROTECT, related_name="casts")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    choice = models.CharField(max_length=16, choices=VoteChoice.choices)
    cast_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "记名表决"
        verbose_name_plural = "记名表决"
        constraints = [models.UniqueConstraint(fields=["vote", "person"], name="one_open_vote_per_person")]

    def __str__(self) -> str:
        return f"{self.vote} {self.person} {self.get_choice_display()}"


class BallotReceipt(models.Model):
    """That a person has voted in a secret ballot — and nothing about how."""

    vote = models.ForeignKey(Vote, on_delete=models.PROTECT, related_name="receipts")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "投票凭证"
        verbose_name_plural = "投票凭证"
        constraints = [models.UniqueConstraint(fields=["vote", "person"], name="one_ballot_per_person")]

    def __str__(self) -> str:
        return f"{self.vote} 已投票"


class Ballot(models.Model):
    """One secret ballot's choice: a random key, the vote, the choice; no person, no time, no order."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vote = models.ForeignKey(Vote, on_delete=models.PROTECT, related_name="ballots")
    choice = models.CharField(max_length=16, choices=VoteChoice.choices)

    class Meta:
        verbose_name = "选票"
        verbose_name_plural = "选票"

    def __str__(self) -> str:
        return f"{self.vote} 选票"


class TalkRelation(models.TextChoices):
    COMMITTEE_COMMITTEE = "committee_committee", "支委之间"
    COMMITTEE_MEMBER = "committee_member", "支委与党员"
    MEMBER_MEMBER = "member_member", "党员之间"


class Talk(models.Model):
    """A talk between two people (谈心谈话); the summary is private to the two and the secretary."""

    org = models.ForeignKey("orgs.Organization", on_delete=models.PROTECT, related_name="talks")
    held_on = models.DateField("日期")
    person_a = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", verbose_name="谈话人"
    )
    person_b = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", verbose_name="谈话对象"
    )
    relation = models.CharField("关系", max_length=24, choices=TalkRelation.choices)
    topic = models.CharField("主题", max_length=200)
    summary = models.TextField("谈话要点", blank=True)
    before_life_meeting = models.ForeignKey(
        Meeting, null=True, blank=True, on_delete=models.PROTECT, related_name="preparation_talks"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "id"]
        verbose_name = "谈心谈话"
        verbose_name_plural = "谈心谈话"
        indexes = [models.Index(fields=["org", "held_on"])]

    def __str__(self) -> str:
        return f"{self.person_a}—{self.person_b} {self.held_on:%Y-%m-%d}"


class CriticismKind(models.TextChoices):
    OPINION = "opinion", "会前征求的意见"
    SELF = "self", "自我批评"
    MUTUAL = "mutual", "相互批评"


class Criticism(models.Model):
    """What the life meeting heard: opinions gathered before it, each member's self-criticism, criticism."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="criticisms")
    kind = models.CharField("类别", max_length=16, choices=CriticismKind.choices)
    speaker = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="发言人",
    )
    about = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="对象",
    )
    text = models.TextField("内容")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["meeting", "id"]
        verbose_name = "批评与自我批评"
        verbose_name_plural = "批评与自我批评"

    def __str__(self) -> str:
        return f"{self.meeting} {self.get_kind_display()}"


class Rectification(models.Model):
    """A rectification item after a life meeting: what, who owns it, by when, and when it was done."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="rectifications")
    item = models.CharField("整改事项", max_length=300)
    owner = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", verbose_name="责任人"
    )
    due_on = models.DateField("完成时限")
    done_on = models.DateField("完成日期", null=True, blank=True)
    evidence = models.TextField("完成情况", blank=True)

    class Meta:
        ordering = ["meeting", "due_on", "id"]
        verbose_name = "整改事项"
        verbose_name_plural = "整改事项"

    def __str__(self) -> str:
        return self.item


def _feed_key() -> str:
    return secrets.token_urlsafe(16)


class FeedKey(models.Model):
    """A user's key for their calendar feed links (see life/ical.py). Every link carries it, so a new key
    stops every old link at once. Made when the user first needs a link."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_key", verbose_name="用户"
    )
    key = models.CharField("密钥", max_length=64, default=_feed_key)
    created_at = models.DateTimeField("生成时间", default=timezone.now)

    class Meta:
        verbose_name = "日历订阅密钥"
        verbose_name_plural = "日历订阅密钥"

    def __str__(self) -> str:
        return f"{self.user} 的日历订阅密钥"

    def renew(self) -> None:
        """A new random key (not saved)."""
        self.key = _feed_key()
        self.created_at = timezone.now()
