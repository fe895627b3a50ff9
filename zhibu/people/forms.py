"""Page forms for people: parse input into typed values; services validate and decide."""

from __future__ import annotations

from typing import Any

from django import forms

from zhibu.orgs.forms import DateInput
from zhibu.people.models import Education, Employment, Gender, Status
from zhibu.people.status import INITIAL_STATUSES


class PersonForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=50)
    gender = forms.ChoiceField(label="性别", choices=[("", "—"), *Gender.choices], required=False)
    ethnicity = forms.CharField(label="民族", max_length=20, required=False, initial="汉族")
    birth_date = forms.DateField(label="出生日期", required=False, widget=DateInput)
    education = forms.ChoiceField(label="学历", choices=[("", "—"), *Education.choices], required=False)
    id_number = forms.CharField(label="身份证号", max_length=18, required=False)
    phone = forms.CharField(label="手机号", max_length=20, required=False)
    position = forms.CharField(label="职务/岗位", max_length=100, required=False)
    employment = forms.ChoiceField(
        label="在职情况", choices=Employment.choices, initial=Employment.IN_SERVICE
    )
    org = forms.ChoiceField(label="所在支部")
    group = forms.ChoiceField(label="所在党小组", required=False)
    backbone_teacher = forms.BooleanField(label="骨干教师", required=False)
    relationship_transferred_in = forms.BooleanField(label="组织关系已转入", required=False, initial=True)
    in_need = forms.BooleanField(label="困难党员", required=False)
    in_need_note = forms.CharField(label="困难情况", max_length=300, required=False)
    volunteer = forms.BooleanField(label="志愿者", required=False)
    volunteer_skills = forms.CharField(label="志愿服务特长", max_length=200, required=False)
    applied_on = forms.DateField(label="递交入党申请日期", required=False, widget=DateInput)
    activist_on = forms.DateField(label="确定为积极分子日期", required=False, widget=DateInput)
    candidate_on = forms.DateField(label="确定为发展对象日期", required=False, widget=DateInput)
    joined_on = forms.DateField(label="入党日期（预备期起）", required=False, widget=DateInput)
    confirmed_on = forms.DateField(label="转正日期", required=False, widget=DateInput)
    note = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, branches: list[Any], groups: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.branches = {str(b.pk): b for b in branches}
        self.groups = {str(g.pk): g for g in groups}
        self.fields["org"].choices = [  # type: ignore[attr-defined]
            (str(b.pk), f"{b.parent.display_name} · {b.name}" if b.parent else b.name) for b in branches
        ]
        self.fields["group"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *[(str(g.pk), f"{g.parent.name} · {g.name}") for g in groups],
        ]

    def typed(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["org"] = self.branches.get(data.get("org") or "")
        data["group"] = self.groups.get(data.get("group") or "")
        return data


class PersonEditForm(PersonForm):
    """Editing never puts the stored ID or phone number into the page: blank keeps what is stored."""

    SECRET_FIELDS = ("id_number", "phone")

    def __init__(self, *args: Any, masked: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.SECRET_FIELDS:
            field = self.fields[name]
            if masked.get(name):
                field.widget.attrs["placeholder"] = masked[name]
                field.help_text = f"已登记 {masked[name]}；不修改请留空"

    def typed(self) -> dict[str, Any]:
        data = super().typed()
        for name in self.SECRET_FIELDS:
            if not data.get(name):
                data.pop(name, None)
        return data


class PersonCreateForm(PersonForm):
    status = forms.ChoiceField(label="身份", choices=[(s, Status(s).label) for s in INITIAL_STATUSES])
    field_order = ["name", "status"]


class StatusChangeForm(forms.Form):
    to_status = forms.ChoiceField(label="变更为")
    effective_on = forms.DateField(label="生效日期", widget=DateInput)
    reason = forms.CharField(
        label="原因/依据", max_length=300, help_text="如：支部大会决议、上级党委批复文号"
    )

    def __init__(self, *args: Any, allowed: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [(s, Status(s).label) for s in allowed]  # type: ignore[attr-defined]
