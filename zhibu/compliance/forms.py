"""Forms for a school's own policy values: one typed field (or a few) per parameter type.

The form only turns page input into the plain value a pack would hold (`plain_value`); the service
checks it with the same validator as the packs, so a page can never store what a pack could not.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms

from zhibu.compliance.packs import Parameter
from zhibu.compliance.values import DURATION_UNITS, PERIODS, fmt_number, fmt_percent, to_plain

_UNIT_LABELS = [(k, label.lstrip("个")) for k, label in DURATION_UNITS.items()]
_PERIOD_LABELS = [(k, f"每{label}") for k, label in PERIODS.items()]


class OverrideForm(forms.Form):
    """Set one parameter: the fields depend on the parameter's type."""

    key = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(label="说明（依据的本校文件等）", max_length=200, required=False)

    def __init__(self, *args: Any, param: Parameter, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.param = param
        self.fields["key"].initial = param.key
        fields = self._fields_for(param)
        for name, field in fields.items():
            self.fields[name] = field
        self.order_fields([*fields, "note", "key"])
        self._initial_from(param.value)

    def _fields_for(self, p: Parameter) -> dict[str, forms.Field]:
        label = p.title + (f"（{p.unit}）" if p.unit else "")
        t = p.type
        if t == "int":
            low = int(p.bounds.min) if p.bounds and p.bounds.min is not None else None
            high = int(p.bounds.max) if p.bounds and p.bounds.max is not None else None
            return {"value": forms.IntegerField(label=label, min_value=low, max_value=high)}
        if t == "decimal":
            return {"value": forms.DecimalField(label=label, decimal_places=4, max_digits=14)}
        if t == "bool":
            return {
                "value": forms.TypedChoiceField(
                    label=label, choices=[("1", "是"), ("0", "否")], coerce=lambda x: x == "1"
                )
            }
        if t == "text":
            if p.choices:
                return {"value": forms.ChoiceField(label=label, choices=[(c, c) for c in p.choices])}
            return {"value": forms.CharField(label=label, max_length=200)}
        if t == "duration":
            return {
                "n": forms.IntegerField(label=f"{p.title}：数量", min_value=0),
                "unit": forms.ChoiceField(label="单位", choices=_UNIT_LABELS),
            }
        if t == "frequency":
            return {
                "count": forms.IntegerField(label=f"{p.title}：次数", min_value=1),
                "per": forms.ChoiceField(label="周期", choices=_PERIOD_LABELS),
                "every": forms.IntegerField(
                    label="每几个周期（仅按月时可大于1）", min_value=1, initial=1, required=False
                ),
            }
        if t == "fraction":
            return {
                "ratio": forms.CharField(label=f"{p.title}：比例", help_text="写成“分子/分母”，如 1/2"),
                "strict": forms.BooleanField(label="须超过（不含本数）", required=False),
            }
        if t == "range":
            return {
                "min": forms.DecimalField(label=f"{p.title}：下限", required=False),
                "max": forms.DecimalField(label="上限", required=False),
            }
        if t == "day_of_month":
            return {"value": forms.IntegerField(label=label, min_value=1, max_value=31)}
        if t == "month_day":
            return {
                "value": forms.RegexField(
                    label=label, regex=r"^\d{1,2}-\d{1,2}$", help_text="写成“月-日”，如 09-01"
                )
            }
        if t == "tiers":
            return {
                "value": forms.CharField(
                    label=label,
                    widget=forms.Textarea(attrs={"rows": 5}),
                    help_text="每行一档：“上限 费率”，如 3000 0.5%；最后一档上限写 -",
                )
            }
        return {
            "value": forms.CharField(
                label=label, widget=forms.Textarea(attrs={"rows": 4}), help_text="每行一项"
            )
        }

    def _initial_from(self, value: Any) -> None:
        if value is None:
            return
        plain = to_plain(value)
        t = self.param.type
        if t == "duration":
            ((unit, n),) = plain.items()
            self.initial.update({"n": n, "unit": unit})
        elif t == "frequency":
            self.initial.update(plain)
        elif t == "fraction":
            self.initial.update(plain if isinstance(plain, dict) else {"ratio": plain, "strict": False})
        elif t == "range":
            self.initial.update(plain)
        elif t == "bool":
            self.initial["value"] = "1" if value else "0"
        elif t == "tiers":
            self.initial["value"] = "\n".join(
                f"{fmt_number(tier.up_to) if tier.up_to is not None else '-'} {fmt_percent(tier.rate)}"
                for tier in value
            )
        elif t == "list":
            self.initial["value"] = "\n".join(str(x) for x in plain)
        else:
            self.initial["value"] = plain

    def plain_value(self) -> Any:
        """The value as a pack would write it, from the cleaned data (checked by the service)."""
        d = self.cleaned_data
        t = self.param.type
        if t == "duration":
            return {d["unit"]: d["n"]}
        if t == "frequency":
            out = {"count": d["count"], "per": d["per"]}
            if d.get("every") and d["every"] != 1:
                out["every"] = d["every"]
            return out
        if t == "fraction":
            return {"ratio": d["ratio"].strip(), "strict": bool(d.get("strict"))}
        if t == "range":
            return {"min": _plain_number(d.get("min")), "max": _plain_number(d.get("max"))}
        if t == "decimal":
            return str(d["value"])
        if t == "tiers":
            return _parse_tier_lines(d["value"])
        if t == "list":
            return [line.strip() for line in d["value"].splitlines() if line.strip()]
        return d["value"]


def _plain_number(x: Any) -> Any:
    return None if x is None else fmt_number(x)


def _parse_tier_lines(text: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        parts = re.split(r"[\s,，:：]+", line.strip())
        parts = [p for p in parts if p]
        if not parts:
            continue
        if len(parts) == 1:  # a rate alone: the open-ended last tier (the validator names a misplaced one)
            out.append({"up_to": None, "rate": parts[0]})
            continue
        up_to: Any = None if parts[0] in ("-", "以上", "—") else parts[0]
        out.append({"up_to": up_to, "rate": " ".join(parts[1:])})
    return out


class AssignForm(forms.Form):
    pack_name = forms.ChoiceField(label="使用的制度包", required=False)
    note = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pack_name"].choices = [("", "（沿用上级，默认全国基准）"), *choices]  # type: ignore[attr-defined]
