"""Forms of the secretary's meeting pages: they parse what was typed; the services check every rule."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from zhibu.life.models import MeetingKind
from zhibu.people.models import Person

_DT_FORMAT = "%Y-%m-%dT%H:%M"


def _when_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_DT_FORMAT)


def people_choices(people: Sequence[Person]) -> list[tuple[str, str]]:
    return [("", "—"), *((str(p.pk), p.name) for p in people)]


class MeetingForm(forms.Form):
    """The notice of a meeting (会议通知)."""

    kind = forms.ChoiceField(label="会议类型", choices=MeetingKind.choices)
    org = forms.ChoiceField(label="召开组织")
    title = forms.CharField(label="会议名称", max_length=200)
    starts_at = forms.DateTimeField(label="开始时间", widget=_when_widget())
    ends_at = forms.DateTimeField(label="结束时间", required=False, widget=_when_widget())
    place = forms.CharField(label="地点", max_length=200, required=False)
    topics = forms.CharField(label="议题", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    chair = forms.ChoiceField(label="主持人", required=False)
    recorder = forms.ChoiceField(label="记录人", required=False)
    lecturer = forms.ChoiceField(label="主讲人（本单位）", required=False)
    lecturer_name = forms.CharField(label="主讲人（外来）", max_length=100, required=False)
    lecture_title = forms.CharField(label="党课题目", max_length=200, required=False)
    include_activists = forms.BooleanField(label="邀请入党积极分子参加", required=False)
    also_counts_as = forms.MultipleChoiceField(
        label="同时计为",
        choices=MeetingKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="例如主题党日同时召开支部党员大会或讲党课",
    )

    def __init__(
        self,
        *args: Any,
        orgs: Sequence[tuple[str, str]],
        people: Sequence[Person],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org"].choices = list(orgs)  # type: ignore[attr-defined]
        choices = people_choices(people)
        for name in ("chair", "recorder", "lecturer"):
            self.fields[name].choices = choices  # type: ignore[attr-defined]
        self._people = {str(p.pk): p for p in people}

    def person(self, name: str) -> Person | None:
        return self._people.get(self.cleaned_data.get(name) or "")


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=300)


class AttachmentForm(forms.Form):
    file = forms.FileField(label="文件（JPEG、PNG 图片或 PDF）")
    title = forms.CharField(label="名称", max_length=200, required=False)


class VoteOpenForm(forms.Form):
    title = forms.CharField(label="表决事项", max_length=200)
    secret = forms.TypedChoiceField(
        label="方式",
        choices=[("1", "无记名投票"), ("0", "记名表决")],
        coerce=lambda v: v == "1",
        initial="1",
        widget=forms.RadioSelect,
    )
    development = forms.ChoiceField(label="发展党员表决（可选）", required=False)

    def __init__(self, *args: Any, cases: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["development"].choices = [("", "—（不是发展党员的表决）"), *cases]  # type: ignore[attr-defined]
        if not cases:
            del self.fields["development"]


class VoteCountsForm(forms.Form):
    in_favour = forms.IntegerField(label="赞成", min_value=0)
    against = forms.IntegerField(label="反对", min_value=0)
    abstain = forms.IntegerField(label="弃权", min_value=0)
    written_opinions = forms.IntegerField(label="书面意见（赞成）", min_value=0, required=False)


class VoteCloseForm(forms.Form):
    written_opinions = forms.IntegerField(label="未到会者书面意见（赞成）", min_value=0, required=False)


class YearPlanForm(forms.Form):
    """Which proposals of the year's plan to apply (their keys)."""

    items = forms.MultipleChoiceField(label="会议", required=True)

    def __init__(self, *args: Any, keys: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(k, k) for k in keys]  # type: ignore[attr-defined]
        self.fields["items"].error_messages["required"] = "请至少选择一次会议"
