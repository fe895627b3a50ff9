"""Users, explicit scope grants, and API tokens."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    person = models.OneToOneField(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="user",
        verbose_name="人员",
    )

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        permissions = [("reveal_id_number", "查看完整身份证号")]

    @property
    def display_name(self) -> str:
        if self.person_id and self.person is not None:
            return self.person.name
        return self.get_full_name() or self.username


class GrantRole(models.TextChoices):
    MANAGE = "manage", "管理"
    VIEW = "view", "查看"


class Grant(models.Model):
    """Access to an org subtree given explicitly (e.g. work committee staff), beside what posts give."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants")
    org = models.ForeignKey("orgs.Organization", on_delete=models.PROTECT, related_name="grants")
    role = models.CharField("权限", max_length=16, choices=GrantRole.choices)
    note = models.CharField("说明", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        unique_together = [("user", "org", "role")]
        verbose_name = "授权"
        verbose_name_plural = "授权"

    def __str__(self) -> str:
        return f"{self.user} {self.get_role_display()} {self.org}"


class ApiToken(models.Model):
    """A bearer token for integrations; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("用途", max_length=100)
    key_digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()
