"""The development pipeline (发展党员): one case per person, its dated steps, documents, mentors and
sponsors, the branch assembly's votes, and each branch's yearly development plan.

Which steps exist, in what order, with which prerequisites and intervals, is data: the `development`
section of the national policy pack (see development/steps.py). These tables only keep what happened.
Nothing here is hard-deleted: a step is corrected by an audited edit, a document is withdrawn, a case
is closed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Stage(models.TextChoices):
    APPLICANT = "applicant", "入党申请人"
    ACTIVIST = "activist", "入党积极分子"
    CANDIDATE = "candidate", "发展对象"
    RECEPTION = "reception", "预备党员的接收"
    PROBATION = "probation", "预备党员的教育考察和转正"


class CaseState(models.TextChoices):
    OPEN = "open", "进行中"
    COMPLETED = "completed", "已转正"
    DISCONTINUED = "discontinued", "终止培养"
    CANCELLED = "cancelled", "取消预备党员资格"


class DevelopmentCase(models.Model):
    """One person's way from application to full membership (发展党员流程)."""

    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="development_cases", verbose_name="人员"
    )
    state = models.CharField("状态", max_length=16, choices=CaseState.choices, default=CaseState.OPEN)
    stage = models.CharField("所处阶段", max_length=16, choices=Stage.choices, default=Stage.APPLICANT)
    league_member = models.BooleanField("共青团员", default=False)
    opened_on = models.DateField("递交入党申请书日期")
    probation_ends_on = models.DateField("预备期满日期", null=True, blank=True)
    closed_on = models.DateField("结束日期", null=True, blank=True)
    close_reason = models.CharField("结束原因", max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["opened_on", "id"]
        verbose_name = "发展党员流程"
        verbose_name_plural = "发展党员流程"
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=models.Q(state="open"), name="one_open_case_per_person"
            )
        ]
        indexes = [models.Index(fields=["state", "stage"])]

    def __str__(self) -> str:
        return f"{self.person} 的发展党员流程"


class DevelopmentStep(models.Model):
    """One recorded step of a case (one of the 25, or a repeated review or report), dated."""

    case = models.ForeignKey(DevelopmentCase, on_delete=models.PROTECT, related_name="steps")
    code = models.CharField("步骤", max_length=40)
    done_on = models.DateField("日期")
    outcome = models.CharField("结果", max_length=16, blank=True)
    details = models.JSONField("内容", default=dict, blank=True)
    note = models.TextField("备注", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["case", "done_on", "id"]
        verbose_name = "发展党员步骤"
        verbose_name_plural = "发展党员步骤"
        indexes = [models.Index(fields=["case", "code"])]

    def __str__(self) -> str:
        return f"{self.case.person} {self.code} {self.done_on:%Y-%m-%d}"


def document_path(instance: StepDocument, filename: str) -> str:
    # The stored name never uses the uploader's file name (it may hold anything); the title keeps it.
    import uuid
    from pathlib import PurePath

    suffix = PurePath(filename).suffix.lower()[:10]
    return f"development/{instance.step.case_id}/{uuid.uuid4().hex}{suffix}"


class StepDocument(models.Model):
    """A document kept with a step (the application, a talk record, a review, the 入党志愿书 …)."""

    step = models.ForeignKey(DevelopmentStep, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField("材料类别", max_length=40)
    title = models.CharField("文件名", max_length=200)
    file = models.FileField(upload_to=document_path, max_length=200)
    size = models.PositiveIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdrawn_reason = models.CharField("撤回原因", max_length=300, blank=True)

    class Meta:
        ordering = ["step", "uploaded_at", "id"]
        verbose_name = "发展党员材料"
        verbose_name_plural = "发展党员材料"

    def __str__(self) -> str:
        return self.title


class CaseRoleKind(models.TextChoices):
    MENTOR = "mentor", "培养联系人"
    SPONSOR = "sponsor", "入党介绍人"


class CaseRole(models.Model):
    """A mentor (培养联系人) or sponsor (入党介绍人) named for a case by a step."""

    case = models.ForeignKey(DevelopmentCase, on_delete=models.PROTECT, related_name="roles")
    role = models.CharField("角色", max_length=16, choices=CaseRoleKind.choices)
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", verbose_name="人员"
    )
    step = models.ForeignKey(DevelopmentStep, on_delete=models.PROTECT, related_name="roles")
    assigned_on = models.DateField("确定日期")
    ended_on = models.DateField("终止日期", null=True, blank=True)

    class Meta:
        ordering = ["case", "role", "assigned_on", "id"]
        verbose_name = "培养联系人/入党介绍人"
        verbose_name_plural = "培养联系人/入党介绍人"

    def __str__(self) -> str:
        return f"{self.case.person} {self.get_role_display()} {self.person}"


class VotePurpose(models.TextChoices):
    RECEPTION = "reception", "接收预备党员"
    CONFIRMATION = "confirmation", "预备党员转正"


class BranchVote(models.Model):
    """The general assembly's vote on one person, with the entitled voters as they were that day."""

    step = models.OneToOneField(DevelopmentStep, on_delete=models.PROTECT, related_name="vote")
    purpose = models.CharField("表决事项", max_length=16, choices=VotePurpose.choices)
    held_on = models.DateField("支部大会日期")
    entitled = models.JSONField("应到会有表决权党员", default=list)  # [{"id": .., "name": ..}]
    excluded = models.JSONField("不计入应到会的党员", default=list)  # [{"id", "name", "reason"}]
    entitled_count = models.PositiveIntegerField("应到会人数")
    present = models.PositiveIntegerField("实到会有表决权人数")
    written_opinions = models.PositiveIntegerField("未到会党员书面赞成意见", default=0)
    in_favour = models.PositiveIntegerField("赞成票（含书面意见）")
    against = models.PositiveIntegerField("反对票", default=0)
    abstain = models.PositiveIntegerField("弃权票", default=0)
    secret_ballot = models.BooleanField("无记名投票", default=True)
    passed = models.BooleanField("通过")
    explanation = models.TextField("结果说明")
    # When the assembly voted in zhibu (from phones or a counted paper ballot), the meeting's vote.
    meeting_vote = models.OneToOneField(
        "life.Vote", null=True, blank=True, on_delete=models.PROTECT, related_name="branch_vote"
    )

    class Meta:
        verbose_name = "支部大会表决"
        verbose_name_plural = "支部大会表决"

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.held_on:%Y-%m-%d}"


class DevelopmentPlan(models.Model):
    """A branch's yearly development plan (年度发展计划) and its dual-cultivation targets (双培养)."""

    org = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="development_plans", verbose_name="党组织"
    )
    year = models.PositiveIntegerField("年度")
    receive_target = models.PositiveIntegerField("计划发展（接收预备党员）人数", default=0)
    confirm_target = models.PositiveIntegerField("计划转正人数", default=0)
    backbone_teachers_total = models.PositiveIntegerField(
        "本单位骨干教师总数", null=True, blank=True, help_text="用于计算党员在骨干教师中的占比"
    )
    backbone_among_members_target = models.DecimalField(
        "骨干教师占党员比例目标（%）", max_digits=5, decimal_places=1, null=True, blank=True
    )
    members_among_backbone_target = models.DecimalField(
        "党员占骨干教师比例目标（%）", max_digits=5, decimal_places=1, null=True, blank=True
    )
    note = models.TextField("说明", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["org", "-year"]
        verbose_name = "年度发展计划"
        verbose_name_plural = "年度发展计划"
        constraints = [models.UniqueConstraint(fields=["org", "year"], name="one_plan_per_org_year")]

    def __str__(self) -> str:
        return f"{self.org} {self.year}年发展计划"
