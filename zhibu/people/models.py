"""Person (one row per human, whatever the stage) and the dated history of status changes."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from zhibu.core.crypto import EncryptedCharField


class Status(models.TextChoices):
    APPLICANT = "applicant", "入党申请人"
    ACTIVIST = "activist", "入党积极分子"
    CANDIDATE = "candidate", "发展对象"
    PROBATIONARY = "probationary", "预备党员"
    FULL_MEMBER = "full_member", "正式党员"
    SUSPENDED = "suspended", "停止党籍"
    TRANSFERRED_OUT = "transferred_out", "已转出"
    LAPSED = "lapsed", "自行脱党"
    PROBATION_CANCELLED = "probation_cancelled", "取消预备党员资格"
    WITHDRAWN = "withdrawn", "退党"
    REMOVED = "removed", "除名"
    EXPELLED = "expelled", "开除党籍"
    DISCONTINUED = "discontinued", "终止培养"
    DECEASED = "deceased", "去世"


# Statuses that count as Party members of the branch (who appear on rosters and head-counts as members).
MEMBER_STATUSES = (Status.PROBATIONARY, Status.FULL_MEMBER)
# Statuses on the development pipeline.
PIPELINE_STATUSES = (Status.APPLICANT, Status.ACTIVIST, Status.CANDIDATE)
# Statuses that are still on the branch's books (members, the pipeline, and suspended members).
ACTIVE_STATUSES = (*PIPELINE_STATUSES, *MEMBER_STATUSES, Status.SUSPENDED)


class Gender(models.TextChoices):
    MALE = "male", "男"
    FEMALE = "female", "女"


class Education(models.TextChoices):
    DOCTORATE = "doctorate", "博士研究生"
    MASTER = "master", "硕士研究生"
    BACHELOR = "bachelor", "大学本科"
    JUNIOR_COLLEGE = "junior_college", "大学专科"
    SECONDARY = "secondary", "中专/高中"
    BELOW = "below", "初中及以下"


class Employment(models.TextChoices):
    IN_SERVICE = "in_service", "在职"
    RETIRED = "retired", "退休"
    OTHER = "other", "其他"


class Person(models.Model):
    name = models.CharField("姓名", max_length=50)
    name_pinyin = models.CharField(max_length=200, editable=False, db_index=True)
    name_initials = models.CharField(max_length=50, editable=False, db_index=True)
    gender = models.CharField("性别", max_length=8, choices=Gender.choices)
    ethnicity = models.CharField("民族", max_length=20, default="汉族")
    birth_date = models.DateField("出生日期", null=True, blank=True)
    education = models.CharField("学历", max_length=20, choices=Education.choices, blank=True)
    id_number = EncryptedCharField("身份证号", blank=True)
    id_number_digest = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    phone = EncryptedCharField("手机号", blank=True)
    position = models.CharField("职务/岗位", max_length=100, blank=True)
    backbone_teacher = models.BooleanField("骨干教师", default=False)
    employment = models.CharField(
        "在职情况", max_length=16, choices=Employment.choices, default=Employment.IN_SERVICE
    )
    org = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="people", verbose_name="所在支部"
    )
    group = models.ForeignKey(
        "orgs.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="group_people",
        verbose_name="所在党小组",
    )
    relationship_transferred_in = models.BooleanField("组织关系已转入", default=True)
    in_need = models.BooleanField("困难党员", default=False)
    in_need_note = models.CharField("困难情况", max_length=300, blank=True)
    volunteer = models.BooleanField("志愿者", default=False)
    volunteer_skills = models.CharField("志愿服务特长", max_length=200, blank=True)
    status = models.CharField("政治面貌/身份", max_length=24, choices=Status.choices, db_index=True)
    applied_on = models.DateField("递交入党申请日期", null=True, blank=True)
    activist_on = models.DateField("确定为积极分子日期", null=True, blank=True)
    candidate_on = models.DateField("确定为发展对象日期", null=True, blank=True)
    joined_on = models.DateField("入党日期（预备期起）", null=True, blank=True)
    confirmed_on = models.DateField("转正日期", null=True, blank=True)
    note = models.TextField("备注", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name_pinyin", "id"]
        verbose_name = "人员"
        verbose_name_plural = "人员"
        indexes = [models.Index(fields=["org", "status"])]

    def __str__(self) -> str:
        return self.name


class StatusChange(models.Model):
    """One dated change of a person's status, with its reason; never edited or deleted."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField("原身份", max_length=24, choices=Status.choices, blank=True)
    to_status = models.CharField("新身份", max_length=24, choices=Status.choices)
    effective_on = models.DateField("生效日期")
    reason = models.CharField("原因/依据", max_length=300)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["person", "effective_on", "id"]
        verbose_name = "身份变更"
        verbose_name_plural = "身份变更"

    def __str__(self) -> str:
        return f"{self.person} {self.get_from_status_display()}→{self.get_to_status_display()}"
