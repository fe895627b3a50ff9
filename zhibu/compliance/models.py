"""Which policy pack an org uses, and the single values a school sets for itself (the engine adds its
evaluation runs and findings here)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


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
