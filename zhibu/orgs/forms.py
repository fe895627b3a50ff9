"""Forms parse page input into typed values; the services decide what is allowed."""

from __future__ import annotations

from django import forms

from zhibu.orgs.models import OrgKind, PostRole


class DateInput(forms.DateInput):
    input_type = "date"


class OrgEditForm(forms.Form):
    name = forms.CharField(label="名称", max_length=100)
    short_name = forms.CharField(label="简称", max_length=40, required=False)
    established_on = forms.DateField(label="成立日期", required=False, widget=DateInput)
    sort_order = forms.IntegerField(label="排序", min_value=0, initial=0, required=False)
    note = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class OrgCreateForm(OrgEditForm):
    code = forms.CharField(label="组织代码", max_length=32, help_text="字母、数字、短横线；建立后不可修改")
    kind = forms.ChoiceField(label="类型", choices=OrgKind.choices)
    is_school = forms.BooleanField(label="学校党组织（一所学校的最高党组织）", required=False)

    field_order = ["code", "name", "short_name", "kind", "is_school", "established_on", "sort_order", "note"]

    def __init__(self, *args: object, allowed_kinds: tuple[str, ...] = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if allowed_kinds:
            self.fields["kind"].choices = [(k, OrgKind(k).label) for k in allowed_kinds]  # type: ignore[attr-defined]


class PostAssignForm(forms.Form):
    person = forms.TypedChoiceField(label="任职人", coerce=int)
    role = forms.ChoiceField(label="职务", choices=PostRole.choices)
    started_on = forms.DateField(label="任职日期", widget=DateInput)
    note = forms.CharField(label="备注", max_length=200, required=False)


class PostEndForm(forms.Form):
    ended_on = forms.DateField(label="离任日期", widget=DateInput)


class TermForm(forms.Form):
    number = forms.IntegerField(label="届次", min_value=1, required=False)
    started_on = forms.DateField(label="选举日期", widget=DateInput)
    # The usual length comes from the org's effective policy (term.*_years); the view sets it as the
    # initial value and says where it comes from. 1–10 only catches typing mistakes.
    length_years = forms.IntegerField(label="任期（年）", min_value=1, max_value=10)
