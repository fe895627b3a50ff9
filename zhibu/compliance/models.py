"""Which policy pack an org uses, and the single values a school sets for itself (the engine adds its
evaluation runs and findings here)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from zhibu.compliance.kinds import SEVERITIES, STATES


class PolicyAssignment(models.Model):
    """An org (and its subtree, unless a nearer org sets another) uses this pack instead of national."""

    org = models.OneToOneField(
        "orgs.Organization", on_delete=models.PROTECT, related_name="policy_assignment", verbose_name="党组织"
    )
    pack_name = models.CharField("制度包", max_length=100)
    note = models.CharField("说明", max_length=200, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    set_at = models.DateTimeField("设置时间", auto_now=True)

    class Meta:
        verbose_name = "制度包指定"
        verbose_name_plural = "制度包指定"

    def __str__(self) -> str:
        return f"{self.org} 使用 {self.pack_name}"


class PolicyOverride(models.Model):
    """One parameter value an org sets for itself and its subtree (nearest org wins, above any pack)."""

    org = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="policy_overrides", verbose_name="党组织"
    )
    key = models.CharField("参数", max_length=100)
    value = models.JSONField("取值")
    note = models.CharField("说明", max_length=200, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    set_at = models.DateTimeField("设置时间", auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "key"], name="policy_override_one_per_org_key")]
        ordering = ["org", "key"]
        verbose_name = "本单位制度设置"
        verbose_name_plural = "本单位制度设置"

    def __str__(self) -> str:
        return f"{self.org} {self.key}"


class Trigger(models.TextChoices):
    MANUAL = "manual", "手动"
    COMMAND = "command", "命令行"
    NIGHTLY = "nightly", "每日自动"


class EvaluationRun(models.Model):
    """One evaluation of every rule over an org's subtree: the evidence its findings belong to."""

    root = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="evaluation_runs", verbose_name="党组织"
    )
    year = models.PositiveSmallIntegerField("年度")
    as_of = models.DateField("检查日期")
    started_at = models.DateTimeField("开始时间")
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="发起人",
    )
    trigger = models.CharField("发起方式", max_length=16, choices=Trigger.choices)
    counts = models.JSONField("各状态数量", default=dict)
    rule_count = models.PositiveIntegerField("规则数", default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["root", "year", "-started_at"], name="evalrun_root_year")]
        verbose_name = "检查"
        verbose_name_plural = "检查"

    def __str__(self) -> str:
        return f"{self.root} {self.year} 年检查（{self.as_of}）"


class Finding(models.Model):
    """What one rule found for one subject in one run; evidence, never updated."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="findings")
    rule_id = models.CharField("规则", max_length=100)
    rule_title = models.CharField("规则名称", max_length=200)
    severity = models.CharField("严重程度", max_length=16, choices=list(SEVERITIES.items()))
    state = models.CharField("状态", max_length=16, choices=list(STATES.items()))
    subject_type = models.CharField(
        "对象类型",
        max_length=16,
        choices=[("org", "党组织"), ("person", "人员"), ("case", "发展党员流程"), ("meeting", "会议")],
    )
    subject_id = models.PositiveBigIntegerField("对象 id")
    subject_label = models.CharField("对象", max_length=200)
    org = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="+", verbose_name="党组织"
    )
    # For scoping: the org's path; for a person, their branch's.
    org_path = models.CharField(max_length=255)
    period_start = models.DateField("期间起")
    period_end = models.DateField("期间止")
    due = models.DateField("到期日", null=True, blank=True)
    estimated = models.BooleanField("日期为估算", default=False)
    message = models.TextField("说明")
    source = models.CharField("依据", max_length=300)
    remedy = models.TextField("整改办法", blank=True)
    facts = models.JSONField("所用事实", default=dict)
    link = models.CharField("处理页面", max_length=300, blank=True)

    class Meta:
        ordering = ["org_path", "rule_id", "id"]
        indexes = [
            models.Index(fields=["run", "state"], name="finding_run_state"),
            models.Index(fields=["org_path"], name="finding_org_path"),
            models.Index(fields=["rule_id"], name="finding_rule"),
        ]
        verbose_name = "检查结果"
        verbose_name_plural = "检查结果"

    def __str__(self) -> str:
        return f"{self.rule_id} {self.subject_label}：{self.state}"


class NotificationKind(models.TextChoices):
    FINDING = "finding", "检查提醒"
    MEETING_NOTICE = "meeting_notice", "会议通知"


class Notification(models.Model):
    """One user's note for one day: a reminder of a due-soon or overdue finding, or a meeting's notice
    (published, changed, cancelled: zhibu.life.notices), which carries a link and no state."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name="用户"
    )
    kind = models.CharField(
        "类型", max_length=16, choices=NotificationKind.choices, default=NotificationKind.FINDING
    )
    day = models.DateField("提醒日期")
    # For a meeting notice: "meeting_notice.<event>", so that the unique constraint below keeps one note
    # per user, meeting, event and day.
    rule_id = models.CharField("规则", max_length=100)
    rule_title = models.CharField("规则名称", max_length=200)
    subject_type = models.CharField("对象类型", max_length=16)
    subject_id = models.PositiveBigIntegerField("对象 id")
    subject_label = models.CharField("对象", max_length=200)
    state = models.CharField("状态", max_length=16, choices=list(STATES.items()), blank=True)  # "": notice
    due = models.DateField("到期日", null=True, blank=True)
    message = models.TextField("说明")
    # A site path for a notice ("/life/me/#meeting-12"); blank for a finding, whose page is its org's board.
    link = models.CharField("链接", max_length=300, blank=True)
    org = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="+", verbose_name="党组织"
    )
    org_path = models.CharField(max_length=255)
    finding = models.ForeignKey(Finding, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    email = models.ForeignKey(
        "EmailDelivery", null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    created_at = models.DateTimeField("提醒时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "rule_id", "subject_type", "subject_id", "day"],
                name="notification_once_per_user_subject_day",
            )
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]
        verbose_name = "提醒"
        verbose_name_plural = "提醒"

    def __str__(self) -> str:
        return f"{self.user} {self.rule_id} {self.subject_label}（{self.day}）"


class DeliveryState(models.TextChoices):
    QUEUED = "queued", "待发送"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"


class EmailDelivery(models.Model):
    """One reminder e-mail to one user (a digest of that day's new notifications) and how sending went."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="收件人"
    )
    to_address = models.EmailField("邮箱")
    subject = models.CharField("主题", max_length=200)
    body = models.TextField("正文")
    state = models.CharField(
        "状态", max_length=16, choices=DeliveryState.choices, default=DeliveryState.QUEUED
    )
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    last_error = models.TextField("最近错误", blank=True)
    next_attempt_at = models.DateTimeField("下次重试", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state"], name="emaildelivery_state")]
        verbose_name = "邮件发送"
        verbose_name_plural = "邮件发送"

    def __str__(self) -> str:
        return f"{self.to_address} {self.subject}（{self.get_state_display()}）"


class ScheduledRun(models.Model):
    """A daily task enqueued for a day: the scheduler enqueues each task at most once a day."""

    task_name = models.CharField("任务", max_length=100)
    day = models.DateField("日期")
    enqueued_at = models.DateTimeField("入队时间", auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task_name", "day"], name="scheduledrun_once_a_day")]
        verbose_name = "定时任务"
        verbose_name_plural = "定时任务"

    def __str__(self) -> str:
        return f"{self.task_name} {self.day}"
