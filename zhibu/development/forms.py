"""Forms of the development pages. They only turn page input into what the services take; every rule
(dates, intervals, counts, who may be a mentor) is checked by the services, whose refusals land on these
forms' fields."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms

from zhibu.development.services import CONFIRMATION_DECISIONS, RECOMMENDATION_METHODS, Upload, VoteInput
from zhibu.development.steps import StepDef
from zhibu.orgs.models import Organization
from zhibu.people.models import Person

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
VOTE_STEPS = ("reception_vote", "confirmation_vote")
# The label of a step's date where "日期" alone would be unclear.
DATE_LABELS = {
    "training": "培训结束日期",
    "publicity": "公示结束日期",
    "reception_vote": "支部大会日期",
    "confirmation_vote": "支部大会日期",
    "approval": "上级党委审批日期",
    "confirmation_approval": "上级党委审批日期",
    "application_talk": "谈话日期",
    "upper_talk": "谈话日期",
}
# The step-specific fields, whose values go to the service as `data`.
DATA_FIELDS = (
    "talker",
    "method",
    "mentors",
    "sponsors",
    "conclusion",
    "summary",
    "started_on",
    "days",
    "hours",
    "provider",
    "starts_on",
    "objections",
    "leaving_soon",
    "late_reason",
    "group_id",
    "decision",
    "extension_months",
)


def _people_choices(people: Sequence[Person]) -> list[tuple[str, str]]:
    return [(str(p.pk), p.name) for p in people]


class StepForm(forms.Form):
    """Record (or correct) one step: the fields depend on the step's code."""

    done_on = forms.DateField(label="日期", widget=DATE)

    def __init__(
        self,
        *args: Any,
        step: StepDef,
        full_members: Sequence[Person] = (),
        groups: Sequence[Organization] = (),
        voters: Sequence[Person] = (),
        correcting: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.step = step
        self.voters = list(voters)
        self.correcting = correcting
        code = step.code
        self.fields["done_on"].label = DATE_LABELS.get(code, f"{step.title}日期")
        f = self.fields
        if code in ("application_talk", "upper_talk"):
            f["talker"] = forms.CharField(label="谈话人", max_length=100)
        elif code == "activist_designation":
            f["method"] = forms.ChoiceField(
                label="推荐方式", choices=list(RECOMMENDATION_METHODS.items()), widget=forms.RadioSelect
            )
        elif code in ("mentor_assignment", "sponsor_assignment"):
            name = "mentors" if code == "mentor_assignment" else "sponsors"
            f[name] = forms.MultipleChoiceField(
                label="培养联系人" if name == "mentors" else "入党介绍人",
                choices=_people_choices(full_members),
                widget=forms.CheckboxSelectMultiple,
                help_text="从本支部正式党员中选择",
            )
        elif code in ("activist_review", "probation_review"):
            f["conclusion"] = forms.CharField(
                label="考察意见", max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
            )
        elif code == "political_review":
            f["conclusion"] = forms.ChoiceField(
                label="审查结论", choices=[("passed", "合格"), ("failed", "不合格")], widget=forms.RadioSelect
            )
            f["summary"] = forms.CharField(
                label="审查情况", max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3})
            )
        elif code == "training":
            f["started_on"] = forms.DateField(label="培训开始日期", widget=DATE)
            f["days"] = forms.IntegerField(label="培训天数", min_value=0, required=False)
            f["hours"] = forms.IntegerField(label="培训学时", min_value=0, required=False)
            f["provider"] = forms.CharField(label="培训单位", max_length=100, required=False)
        elif code == "publicity":
            f["starts_on"] = forms.DateField(label="公示开始日期", widget=DATE)
            f["objections"] = forms.BooleanField(label="公示期间有反映问题", required=False)
        elif code == "pre_review":
            f["leaving_soon"] = forms.BooleanField(label="发展对象近期将离开本单位", required=False)
        elif code == "approval":
            f["late_reason"] = forms.CharField(
                label="超过审批期限的原因",
                max_length=300,
                required=False,
                help_text="审批晚于支部大会后规定期限时填写",
            )
        elif code == "branch_assignment":
            f["group_id"] = forms.ChoiceField(
                label="编入党小组",
                choices=[("", "不编入党小组"), *((str(g.pk), g.name) for g in groups)],
                required=False,
            )
        elif code == "confirmation_vote":
            f["decision"] = forms.ChoiceField(
                label="表决事项", choices=list(CONFIRMATION_DECISIONS.items()), widget=forms.RadioSelect
            )
            f["extension_months"] = forms.IntegerField(
                label="延长的月数", min_value=1, required=False, help_text="延长预备期时填写"
            )
        if code in VOTE_STEPS and not correcting:
            f["present"] = forms.IntegerField(label="实到会有表决权人数", min_value=0)
            f["written_opinions"] = forms.IntegerField(
                label="未到会党员书面意见（份）", min_value=0, initial=0, required=False
            )
            f["in_favour"] = forms.IntegerField(label="赞成票（含书面赞成意见）", min_value=0)
            f["against"] = forms.IntegerField(label="反对票", min_value=0, initial=0, required=False)
            f["abstain"] = forms.IntegerField(label="弃权票", min_value=0, initial=0, required=False)
            f["secret_ballot"] = forms.BooleanField(label="无记名投票", required=False, initial=True)
            for p in self.voters:
                f[f"exclude_{p.pk}"] = forms.CharField(
                    label=p.name,
                    max_length=200,
                    required=False,
                    widget=forms.TextInput(attrs={"placeholder": "不计入应到会的原因（计入则留空）"}),
                )
        f["note"] = forms.CharField(
            label="备注", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
        )
        if correcting:
            f["reason"] = forms.CharField(label="更正原因", max_length=300)
        elif step.documents:
            f["document_kind"] = forms.ChoiceField(
                label="材料类别", choices=[(d.code, d.title) for d in step.documents], required=False
            )
            f["document"] = forms.FileField(
                label="上传材料", required=False, help_text="PDF、JPEG、PNG 或 Word（.docx）文件"
            )
        # A span is typed from its first day: the start before the end (which is the step's date).
        for start in ("starts_on", "started_on"):
            if start in f:
                self.order_fields([start, "done_on"])

    # Reading the fields in the services' terms ------------------------------------------------------
    def exclude_fields(self) -> list[Any]:
        return [self[f"exclude_{p.pk}"] for p in self.voters]

    def main_fields(self) -> list[Any]:
        return [
            self[n]
            for n in self.fields
            if not n.startswith("exclude_")
            and n not in ("note", "reason", "document_kind", "document")
            and n not in ("present", "written_opinions", "in_favour", "against", "abstain", "secret_ballot")
        ]

    def vote_fields(self) -> list[Any]:
        names = ("present", "written_opinions", "in_favour", "against", "abstain", "secret_ballot")
        return [self[n] for n in names if n in self.fields]

    def tail_fields(self) -> list[Any]:
        return [self[n] for n in ("document_kind", "document", "note", "reason") if n in self.fields]

    def data_values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in DATA_FIELDS:
            if name in self.cleaned_data:
                value = self.cleaned_data[name]
                out[name] = value.isoformat() if isinstance(value, dt.date) else value
        if "extension_months" in out and out["extension_months"] is None:
            out.pop("extension_months")
        return out

    def data_changed(self) -> bool:
        return any(name in self.changed_data for name in DATA_FIELDS)

    def vote(self) -> VoteInput | None:
        if "present" not in self.fields:
            return None
        c = self.cleaned_data
        excluded = {
            p.pk: c[f"exclude_{p.pk}"].strip() for p in self.voters if c.get(f"exclude_{p.pk}", "").strip()
        }
        return VoteInput(
            present=c["present"],
            in_favour=c["in_favour"],
            against=c.get("against") or 0,
            abstain=c.get("abstain") or 0,
            written_opinions=c.get("written_opinions") or 0,
            secret_ballot=bool(c.get("secret_ballot")),
            excluded=excluded,
        )

    def uploads(self) -> list[Upload]:
        f = self.cleaned_data.get("document")
        if not f:
            return []
        return [Upload(kind=self.cleaned_data.get("document_kind") or self.step.documents[0].code, file=f)]


class CaseOpenForm(forms.Form):
    person = forms.ChoiceField(label="申请人")
    applied_on = forms.DateField(label="递交入党申请书日期", widget=DATE)
    league_member = forms.BooleanField(label="共青团员", required=False)
    note = forms.CharField(
        label="备注", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    document = forms.FileField(
        label="入党申请书（扫描件）", required=False, help_text="PDF、JPEG、PNG 或 Word（.docx）文件"
    )

    def __init__(self, *args: Any, people: Sequence[Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [  # type: ignore[attr-defined]
            ("", "请选择"),
            *((str(p.pk), f"{p.name}（{p.org.name}，{p.get_status_display()}）") for p in people),
        ]


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label="材料类别")
    file = forms.FileField(label="文件", help_text="PDF、JPEG、PNG 或 Word（.docx）文件")

    def __init__(self, *args: Any, step: StepDef, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(d.code, d.title) for d in step.documents]  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=300)


class DiscontinueForm(forms.Form):
    on = forms.DateField(label="终止日期", widget=DATE)
    reason = forms.CharField(label="终止培养的原因", max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class PlanForm(forms.Form):
    receive_target = forms.IntegerField(label="计划发展（接收预备党员）人数", min_value=0, initial=0)
    confirm_target = forms.IntegerField(label="计划转正人数", min_value=0, initial=0)
    backbone_teachers_total = forms.IntegerField(
        label="本单位骨干教师总数", min_value=0, required=False, help_text="用于计算党员在骨干教师中的占比"
    )
    backbone_among_members_target = forms.DecimalField(
        label="骨干教师占党员比例目标（%）", max_digits=5, decimal_places=1, required=False
    )
    members_among_backbone_target = forms.DecimalField(
        label="党员占骨干教师比例目标（%）", max_digits=5, decimal_places=1, required=False
    )
    note = forms.CharField(
        label="说明", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
