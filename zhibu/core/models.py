"""The audit log: one row per change made through a service; the app never updates or deletes one."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("审计记录不可修改")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("审计记录不可删除")


class AuditEntry(models.Model):
    ACTIONS = [
        ("create", "新建"),
        ("update", "修改"),
        ("status", "身份变更"),
        ("reveal", "查看完整证件号"),
        ("import", "导入"),
        ("end", "结束"),
        ("login", "登录"),
        ("restore", "恢复备份"),
        ("export", "导出"),
        ("revoke", "吊销"),
    ]
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=16, choices=ACTIONS)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    # The org path of the object, so the log itself can be scoped like everything else.
    org_path = models.CharField(max_length=255, blank=True, db_index=True)
    changes = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=500, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["object_type", "object_id", "at"])]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.get_action_display()} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("审计记录不可修改")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("审计记录不可删除")


# The working-day calendar ------------------------------------------------------------------------------
# chinesecalendar knows the State Council's schedules it was released with; these tables hold what an
# administrator adds: a whole year's schedule (which then replaces the package's for that year) and single
# days that beat both. zhibu.core.calendar reads them; zhibu.core.calendar_services writes them.


class CalendarYear(models.Model):
    """A year's holiday schedule loaded by an administrator: the year then counts as known."""

    year = models.PositiveSmallIntegerField("年份", unique=True)
    note = models.CharField("依据", max_length=200, blank=True, help_text="如：国务院办公厅关于……的通知")
    loaded_at = models.DateTimeField("载入时间", auto_now=True)

    class Meta:
        ordering = ["year"]
        verbose_name = "年度放假安排"
        verbose_name_plural = "年度放假安排"

    def __str__(self) -> str:
        return f"{self.year} 年放假安排"


class CalendarYearDay(models.Model):
    """One dated entry of a loaded schedule: a holiday, or a make-up working day (调休上班)."""

    calendar_year = models.ForeignKey(
        CalendarYear, on_delete=models.CASCADE, related_name="days", verbose_name="年度放假安排"
    )
    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("上班")
    name = models.CharField("名称", max_length=40)

    class Meta:
        ordering = ["date"]
        verbose_name = "放假安排日期"
        verbose_name_plural = "放假安排日期"

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class CalendarDay(models.Model):
    """A single day set by an administrator; it beats the loaded schedule and the package."""

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("上班")
    name = models.CharField("名称", max_length=40, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = "日历单日调整"
        verbose_name_plural = "日历单日调整"

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '放假'} {self.name}".rstrip()


# The school year ----------------------------------------------------------------------------------------


class SemesterKind(models.TextChoices):
    AUTUMN = "autumn", "秋季学期"
    SPRING = "spring", "春季学期"


class Semester(models.Model):
    """A school's semester of one school year (2026 = 2026–2027: autumn 2026, spring 2027)."""

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="semesters",
        limit_choices_to={"is_school": True},
        verbose_name="学校党组织",
    )
    school_year = models.PositiveSmallIntegerField("学年", help_text="起始年份：2026 即 2026–2027 学年")
    kind = models.CharField("学期", max_length=8, choices=SemesterKind.choices)
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["school", "school_year", "starts_on"]
        verbose_name = "学期"
        verbose_name_plural = "学期"
        constraints = [
            models.UniqueConstraint(
                fields=["school", "school_year", "kind"], name="semester_unique_per_school"
            ),
            models.CheckConstraint(
                condition=models.Q(starts_on__lt=models.F("ends_on")), name="semester_starts_before_end"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school_year}–{self.school_year + 1} 学年{self.get_kind_display()}"
