"""The Organization tree (materialised path), posts held by people, and committee terms."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q


class OrgKind(models.TextChoices):
    WORK_COMMITTEE = "work_committee", "教育工委"
    COMMITTEE = "committee", "党委"
    GENERAL_BRANCH = "general_branch", "党总支"
    BRANCH = "branch", "党支部"
    GROUP = "group", "党小组"


# Which kinds may sit directly under which; the tree refuses anything else.
ALLOWED_CHILDREN: dict[str, tuple[str, ...]] = {
    OrgKind.WORK_COMMITTEE: (
        OrgKind.WORK_COMMITTEE,
        OrgKind.COMMITTEE,
        OrgKind.GENERAL_BRANCH,
        OrgKind.BRANCH,
    ),
    OrgKind.COMMITTEE: (OrgKind.GENERAL_BRANCH, OrgKind.BRANCH),
    OrgKind.GENERAL_BRANCH: (OrgKind.BRANCH,),
    OrgKind.BRANCH: (OrgKind.GROUP,),
    OrgKind.GROUP: (),
}


class OrganizationQuerySet(models.QuerySet["Organization"]):
    def subtree(self, org: Organization) -> OrganizationQuerySet:
        """The org and everything below it, in one query."""
        return self.filter(path__startswith=org.path)

    def active(self) -> OrganizationQuerySet:
        return self.filter(dissolved_on__isnull=True)


class Organization(models.Model):
    code = models.CharField(
        "组织代码", max_length=32, unique=True, help_text="字母、数字、短横线；建立后不可修改"
    )
    name = models.CharField("名称", max_length=100)
    short_name = models.CharField("简称", max_length=40, blank=True)
    kind = models.CharField("类型", max_length=20, choices=OrgKind.choices)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name="上级组织",
    )
    # "/WC/S001/S001-B01/": the codes from the root; a prefix match is a subtree.
    path = models.CharField(max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    sort_order = models.PositiveIntegerField("排序", default=0)
    established_on = models.DateField("成立日期", null=True, blank=True)
    dissolved_on = models.DateField("撤销日期", null=True, blank=True)
    # A school (the committee or general branch at the top of one school) is the unit of separation.
    is_school = models.BooleanField("学校党组织", default=False)
    note = models.TextField("备注", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = "党组织"
        verbose_name_plural = "党组织"

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    def ancestor_paths(self) -> list[str]:
        """Paths of this org and every ancestor, root first."""
        parts = [p for p in self.path.split("/") if p]
        return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


class PostRole(models.TextChoices):
    SECRETARY = "secretary", "书记"
    DEPUTY_SECRETARY = "deputy_secretary", "副书记"
    ORGANIZATION_OFFICER = "organization_officer", "组织委员"
    PUBLICITY_OFFICER = "publicity_officer", "宣传委员"
    DISCIPLINE_OFFICER = "discipline_officer", "纪检委员"
    COMMITTEE_MEMBER = "committee_member", "委员"
    GROUP_LEADER = "group_leader", "党小组长"


# Posts that manage their org (write access to its subtree); the others see it.
MANAGING_ROLES = (PostRole.SECRETARY, PostRole.DEPUTY_SECRETARY, PostRole.ORGANIZATION_OFFICER)


class PostQuerySet(models.QuerySet["Post"]):
    def current(self, on: dt.date | None = None) -> PostQuerySet:
        on = on or dt.date.today()
        return self.filter(started_on__lte=on).filter(Q(ended_on__isnull=True) | Q(ended_on__gte=on))


class Post(models.Model):
    org = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="posts", verbose_name="党组织"
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="posts", verbose_name="任职人"
    )
    role = models.CharField("职务", max_length=32, choices=PostRole.choices)
    term = models.ForeignKey(
        "CommitteeTerm",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="posts",
        verbose_name="届次",
    )
    started_on = models.DateField("任职日期")
    ended_on = models.DateField("离任日期", null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["org", "role", "started_on"]
        verbose_name = "职务"
        verbose_name_plural = "职务"

    def __str__(self) -> str:
        return f"{self.org} {self.get_role_display()}"

    def is_current(self, on: dt.date | None = None) -> bool:
        on = on or dt.date.today()
        return self.started_on <= on and (self.ended_on is None or self.ended_on >= on)


class CommitteeTerm(models.Model):
    """A committee's term of office (届), from its election to the next."""

    org = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="terms", verbose_name="党组织"
    )
    number = models.PositiveSmallIntegerField("届次", null=True, blank=True)
    started_on = models.DateField("选举日期")
    length_years = models.PositiveSmallIntegerField("任期（年）")
    ended_on = models.DateField("实际换届日期", null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["org", "-started_on"]
        verbose_name = "届次"
        verbose_name_plural = "届次"

    def __str__(self) -> str:
        label = f"第{self.number}届" if self.number else "本届"
        return f"{self.org} {label}"

    @property
    def next_election_on(self) -> dt.date:
        start = self.started_on
        year = start.year + self.length_years
        try:
            return start.replace(year=year)
        except ValueError:  # 29 February
            return start.replace(year=year, day=28)
