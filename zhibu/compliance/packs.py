"""Policy packs: loading and validating the YAML files under policies/, and an org's effective policy.

A pack is a YAML file with `pack` (its name), `title`, `parameters` (typed values with their source and
confidence) and `rules` (check kind, params, severity, source, remedy, applies_to, examples). The
national pack is the base; an overlay says `extends: <pack>` and sets single parameter values, adds
rules or changes a rule's params, severity or enabled flag. A rule param written `"$some.key"` refers to
a parameter, so changing the parameter changes every rule that uses it.

Loading reads every file, validates everything, and only then publishes the packs: any fault (unknown
key, wrong type, unknown check kind, unknown parameter, bad params, missing source/title, unknown base,
cycle) refuses the whole set with Chinese messages naming the file and the key (`PackError`).

An org's effective policy: the pack of its nearest ancestor (or itself) with a `PolicyAssignment`, else
national; on top, the `PolicyOverride` values stored for the org and its ancestors (nearest wins).
`effective_policies(orgs)` does that for many orgs in two queries.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from zhibu.compliance import values as v
from zhibu.compliance.kinds import KINDS, SEVERITIES, STATES, Outcome, SchoolYear, check_rule
from zhibu.compliance.values import ValueFault, WorkdayAdder
from zhibu.development.steps import Development, parse_development

if TYPE_CHECKING:
    from zhibu.orgs.models import Organization

NATIONAL = "national"
# Kept in step with orgs.models.OrgKind and people.models.Status (a test checks), so that loading
# packs needs no database or Django set-up (the catalogue command runs without one).
ORG_KINDS: dict[str, str] = {
    "work_committee": "教育工委",
    "committee": "党委",
    "general_branch": "党总支",
    "branch": "党支部",
    "group": "党小组",
}
STATUSES: dict[str, str] = {
    "applicant": "入党申请人",
    "activist": "入党积极分子",
    "candidate": "发展对象",
    "probationary": "预备党员",
    "full_member": "正式党员",
    "suspended": "停止党籍",
    "transferred_out": "已转出",
    "lapsed": "自行脱党",
    "probation_cancelled": "取消预备党员资格",
    "withdrawn": "退党",
    "removed": "除名",
    "expelled": "开除党籍",
    "discontinued": "终止培养",
    "deceased": "去世",
}
SUBJECTS: dict[str, str] = {"org": "党组织", "person": "人员", "case": "发展党员流程", "meeting": "会议"}
CONFIDENCE: dict[str, str] = {
    "C1": "条文原文已核实",
    "C2": "二手资料核实",
    "M": "凭记忆，未核实",
    "L": "地方做法",
}
VARIES: dict[str, str] = {"no": "全国统一", "overlay": "全国默认，地方常细化", "yes": "多由地方规定"}

_PACK_KEYS = ("pack", "title", "extends", "description", "example", "parameters", "rules", "development")
_PARAM_KEYS = (
    "type",
    "value",
    "title",
    "unit",
    "source",
    "confidence",
    "varies",
    "note",
    "choices",
    "bounds",
)
_PARAM_REQUIRED = ("type", "value", "title", "source", "confidence", "varies")
_OVERLAY_PARAM_KEYS = ("value", "note", "source")
_RULE_KEYS = (
    "id",
    "title",
    "kind",
    "subject",
    "params",
    "severity",
    "source",
    "remedy",
    "applies_to",
    "examples",
    "enabled",
    "note",
)
_RULE_REQUIRED = (
    "id",
    "title",
    "kind",
    "subject",
    "params",
    "severity",
    "source",
    "remedy",
    "applies_to",
    "examples",
)
_RULE_PATCH_KEYS = ("id", "params", "severity", "enabled", "remedy", "note", "source")
_EXAMPLE_KEYS = ("facts", "expect", "today", "policy", "note")
_PACK_NAME = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$")
_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
_RULE_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


# Faults ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One thing wrong in one file: `key` is the dotted path inside it."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}：{self.key}：{self.message}"


class PackError(Exception):
    """The packs were refused; nothing of them was published."""

    def __init__(self, faults: list[Fault]) -> None:
        self.faults = faults
        lines = "\n".join(f"  - {f}" for f in faults)
        super().__init__(f"制度包校验未通过（{len(faults)} 处错误），未加载任何制度包：\n{lines}")


# Published structures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """A configurable value with its provenance; `origin` names where the current value was set."""

    key: str
    type: str
    value: Any
    title: str
    source: str
    confidence: str
    varies: str
    unit: str = ""
    note: str = ""
    choices: tuple[str, ...] = ()
    bounds: v.Range | None = None
    origin: str = NATIONAL
    defined_in: str = NATIONAL

    @property
    def display(self) -> str:
        return v.display(self.value, self.unit)

    def parse(self, raw: Any) -> Any:
        """A new value for this parameter, typed, or ValueFault (null is refused: clear instead)."""
        if raw is None:
            raise ValueFault("不能设为空值")
        return v.parse(self.type, raw, choices=self.choices or None, bounds=self.bounds)


@dataclass(frozen=True)
class AppliesTo:
    org_kinds: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = []
        if self.org_kinds:
            parts.append("、".join(ORG_KINDS[k] for k in self.org_kinds))
        if self.statuses:
            parts.append("、".join(STATUSES[s] for s in self.statuses))
        return "；".join(parts) or "全部"


@dataclass(frozen=True)
class Example:
    """Facts of one subject and the state the rule must give them (pass: ok unless stated)."""

    name: str
    facts: dict[str, Any]
    expect: str | None
    today: dt.date | None
    policy: dict[str, Any]  # parameter values this example assumes (typed)


@dataclass(frozen=True)
class RuleDef:
    """A rule as a pack writes it: params may hold `"$key"` references to parameters."""

    id: str
    title: str
    kind: str
    subject: str
    params: dict[str, Any]
    severity: str
    source: str
    remedy: str
    applies_to: AppliesTo
    examples: tuple[Example, ...]
    enabled: bool = True
    note: str = ""
    origin: str = NATIONAL
    defined_in: str = NATIONAL

    def resolve(self, values: Mapping[str, Any]) -> ResolvedRule:
        """This rule with its references replaced by `values`; a fault becomes `error` (evaluates unknown)."""
        refs: dict[str, str] = {}
        unset: list[str] = []
        try:
            substituted, whole = _substitute(self.params, values, refs, unset)
            params = KINDS[self.kind].parse_params(substituted, fixed=whole)
            error = ""
        except (ValueFault, _RefFault) as exc:
            params, error = {}, str(getattr(exc, "message", exc))
        return ResolvedRule(
            id=self.id,
            title=self.title,
            kind=self.kind,
            subject=self.subject,
            params=params,
            raw_params=self.params,
            refs=refs,
            unset=tuple(dict.fromkeys(unset)),
            severity=self.severity,
            source=self.source,
            remedy=self.remedy,
            applies_to=self.applies_to,
            enabled=self.enabled,
            note=self.note,
            origin=self.origin,
            error=error,
        )


@dataclass(frozen=True)
class ResolvedRule:
    """A rule with typed params for one effective policy; what check_rule and the engine use."""

    id: str
    title: str
    kind: str
    subject: str
    params: dict[str, Any]
    raw_params: dict[str, Any]
    refs: dict[str, str]  # param path ("min", "when.value") → parameter key
    unset: tuple[str, ...]  # referenced parameters with no value: the rule is not applicable
    severity: str
    source: str
    remedy: str
    applies_to: AppliesTo
    enabled: bool
    note: str
    origin: str
    error: str = ""

    def check(
        self, facts: Mapping[str, Any], today: dt.date, *, add_workdays: WorkdayAdder | None = None
    ) -> Outcome:
        return check_rule(self, facts, today, add_workdays=add_workdays)

    def fact_names(self) -> tuple[str, ...]:
        """The facts the engine must supply for this rule (besides org_kind/status/person)."""
        if self.error:
            return ()
        return KINDS[self.kind].fact_names(self.params)

    def params_display(self) -> list[tuple[str, str, str]]:
        """(name, value as read, parameter key or "") for each param the pack wrote."""
        out = []
        for name in self.raw_params:
            value = self.params.get(name)
            key = self.refs.get(name, "")
            out.append((name, display_param(value), key))
        return out


def display_param(value: Any) -> str:
    if isinstance(value, Mapping) and {"fact", "op", "value"} <= set(value):
        return f"{value['label']} {value['op']} {v.display(value['value'])}"
    return v.display(value)


@dataclass(frozen=True)
class Pack:
    name: str
    title: str
    file: str
    extends: str | None
    example: bool
    description: str
    parameters: Mapping[str, Parameter]  # the whole merged set, in catalogue order
    rules: Mapping[str, RuleDef]
    chain: tuple[str, ...]  # national … this pack
    own_parameters: tuple[str, ...] = ()  # keys this pack's file sets
    own_rules: tuple[str, ...] = ()  # rule ids this pack's file adds or changes
    # The steps of the development pipeline (defined in the national pack, inherited by overlays).
    development: Development | None = None

    def values(self) -> dict[str, Any]:
        return {k: p.value for k, p in self.parameters.items()}


class Library:
    """Every loaded pack by name."""

    def __init__(self, packs: Mapping[str, Pack], directory: Path) -> None:
        self.packs = dict(packs)
        self.directory = directory

    def __contains__(self, name: object) -> bool:
        return name in self.packs

    def get(self, name: str) -> Pack:
        return self.packs[name]

    @property
    def national(self) -> Pack:
        return self.packs[NATIONAL]

    def names(self) -> list[str]:
        """National first, then the others by name (examples last)."""
        return sorted(self.packs, key=lambda n: (n != NATIONAL, self.packs[n].example, n))


# Loading -----------------------------------------------------------------------------------------------


class _RefFault(Exception):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


def _substitute(
    raw: dict[str, Any], values: Mapping[str, Any], refs: dict[str, str], unset: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Replace every `"$key"` in rule params; returns the params and those that were a reference whole."""

    def walk(x: Any, path: str) -> Any:
        if isinstance(x, str) and x.startswith("$"):
            key = x[1:]
            if key not in values:
                raise _RefFault(path, f"引用了未知参数 {key}")
            refs[path] = key
            if values[key] is None:
                unset.append(key)
            return values[key]
        if isinstance(x, Mapping):
            return {k: walk(i, f"{path}.{k}") for k, i in x.items()}
        if isinstance(x, list):
            return [walk(i, f"{path}.{n}") for n, i in enumerate(x)]
        return x

    out = {name: walk(x, name) for name, x in raw.items()}
    whole = {name: out[name] for name, x in raw.items() if isinstance(x, str) and x.startswith("$")}
    return out, whole


class _Builder:
    """Builds one pack from its file's data on top of its base, collecting faults."""

    def __init__(self, name: str, data: dict[str, Any], file: str, base: Pack | None) -> None:
        self.name, self.data, self.file, self.base = name, data, file, base
        self.faults: list[Fault] = []
        self.known: Mapping[str, Parameter] = {}

    def fault(self, key: str, message: str) -> None:
        fault = Fault(self.file, key, message)
        if fault not in self.faults:
            self.faults.append(fault)

    def text(self, entry: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str:
        x = entry.get(key)
        if x is None or (isinstance(x, str) and not x.strip()):
            if required:
                self.fault(f"{path}.{key}", f"缺少 {key}")
            return ""
        if not isinstance(x, str):
            self.fault(f"{path}.{key}", f"应为文字，实际为 {v.describe(x)}")
            return ""
        return x.strip()

    def unknown_keys(self, entry: Mapping[str, Any], allowed: Iterable[str], path: str, what: str) -> None:
        allowed = tuple(allowed)
        for k in entry:
            if k not in allowed:
                self.fault(f"{path}.{k}", f"{what}不认识的键 {k}（可用：{'、'.join(allowed)}）")

    # Parameters ---------------------------------------------------------------------------------------

    def parameters(self) -> tuple[dict[str, Parameter], list[str]]:
        merged: dict[str, Parameter] = dict(self.base.parameters) if self.base else {}
        own: list[str] = []
        raw = self.data.get("parameters") or {}
        if not isinstance(raw, Mapping):
            self.fault("parameters", "应写成“参数键: 定义”的键值对")
            return merged, own
        for key, entry in raw.items():
            path = f"parameters.{key}"
            if not isinstance(key, str) or not _KEY.match(key):
                self.fault(path, "参数键只能由小写字母、数字、下划线和点组成")
                continue
            if not isinstance(entry, Mapping):
                self.fault(path, f"应写成键值对（至少含 value），实际为 {v.describe(entry)}")
                continue
            base_param = merged.get(key) if self.base else None
            param = (
                self.overlay_parameter(key, entry, base_param)
                if base_param
                else self.new_parameter(key, entry)
            )
            if param is not None:
                merged[key] = param
                own.append(key)
        return merged, own

    def new_parameter(self, key: str, entry: Mapping[str, Any]) -> Parameter | None:
        path = f"parameters.{key}"
        if self.base and "type" not in entry:
            self.fault(
                path,
                f"未知参数：基础制度包 {self.base.name} 中没有 {key}"
                "（检查拼写；新增参数须写明 type、title、source 等）",
            )
            return None
        before = len(self.faults)
        self.unknown_keys(entry, _PARAM_KEYS, path, "参数定义")
        for k in _PARAM_REQUIRED:
            if k not in entry:
                self.fault(f"{path}.{k}", f"缺少 {k}")
        type_ = entry.get("type")
        if type_ not in v.TYPES:
            if "type" in entry:
                self.fault(
                    f"{path}.type", f"未知的参数类型 {v.describe(type_)}（可用：{'、'.join(v.TYPES)}）"
                )
            return None
        title = self.text(entry, "title", path)
        source = self.text(entry, "source", path)
        confidence, varies = entry.get("confidence"), entry.get("varies")
        if "confidence" in entry and confidence not in CONFIDENCE:
            self.fault(
                f"{path}.confidence", f"应为 {'、'.join(CONFIDENCE)} 之一，实际为 {v.describe(confidence)}"
            )
        if "varies" in entry and varies not in VARIES:
            self.fault(f"{path}.varies", f"应为 {'、'.join(VARIES)} 之一，实际为 {v.describe(varies)}")
        choices: tuple[str, ...] = ()
        if "choices" in entry:
            raw_choices = entry["choices"]
            if (
                type_ != "text"
                or not isinstance(raw_choices, list)
                or not all(isinstance(c, str) for c in raw_choices)
            ):
                self.fault(f"{path}.choices", "choices 只用于 text 类型，应为文字列表")
            else:
                choices = tuple(raw_choices)
        bounds = None
        if "bounds" in entry:
            if type_ not in ("int", "decimal"):
                self.fault(f"{path}.bounds", "bounds 只用于 int 或 decimal 类型")
            else:
                try:
                    bounds = v.parse_range(entry["bounds"])
                except ValueFault as exc:
                    self.fault(f"{path}.bounds", exc.message)
        value = self.value(path, type_, entry.get("value"), choices, bounds)
        if len(self.faults) > before:
            return None
        return Parameter(
            key=key,
            type=type_,
            value=value,
            title=title,
            source=source,
            confidence=str(confidence),
            varies=str(varies),
            unit=self.text(entry, "unit", path, required=False),
            note=self.text(entry, "note", path, required=False),
            choices=choices,
            bounds=bounds,
            origin=self.name,
            defined_in=self.name,
        )

    def overlay_parameter(self, key: str, entry: Mapping[str, Any], base: Parameter) -> Parameter | None:
        path = f"parameters.{key}"
        before = len(self.faults)
        if "type" in entry or "title" in entry:
            self.fault(path, f"{key} 已在 {base.defined_in} 中定义，叠加包只能改 value、note、source")
            return None
        self.unknown_keys(entry, _OVERLAY_PARAM_KEYS, path, "叠加参数")
        if "value" not in entry:
            self.fault(f"{path}.value", "缺少 value")
            return None
        value = self.value(path, base.type, entry["value"], base.choices, base.bounds)
        if len(self.faults) > before:
            return None
        return replace(
            base,
            value=value,
            origin=self.name,
            note=self.text(entry, "note", path, required=False) or base.note,
            source=self.text(entry, "source", path, required=False) or base.source,
        )

    def value(self, path: str, type_: str, raw: Any, choices: tuple[str, ...], bounds: v.Range | None) -> Any:
        try:
            return v.parse(type_, raw, choices=choices or None, bounds=bounds)
        except ValueFault as exc:
            where = f".{exc.where}" if exc.where else ""
            self.fault(f"{path}.value{where}", f"{v.TYPES[type_]}类型：{exc.message}")
            return None

    # Rules --------------------------------------------------------------------------------------------

    def rules(self, parameters: Mapping[str, Parameter]) -> tuple[dict[str, RuleDef], list[str]]:
        merged: dict[str, RuleDef] = dict(self.base.rules) if self.base else {}
        own: list[str] = []
        self.known = parameters
        raw = self.data.get("rules") or []
        if not isinstance(raw, list):
            self.fault("rules", "应为规则列表（每项以 id 开头）")
            return merged, own
        seen: set[str] = set()
        for i, entry in enumerate(raw):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
                self.fault(f"rules[{i}]", "每条规则应为键值对并写明 id")
                continue
            rule_id = entry["id"]
            path = f"rules.{rule_id}"
            if rule_id in seen:
                self.fault(path, f"规则 {rule_id} 在本文件中重复")
                continue
            seen.add(rule_id)
            if not _RULE_ID.match(rule_id):
                self.fault(f"{path}.id", "规则 id 应为小写点分形式，如 org.branch_min_full_members")
                continue
            base_rule = merged.get(rule_id) if self.base else None
            rule = self.patch_rule(entry, base_rule) if base_rule else self.new_rule(entry)
            if rule is not None:
                merged[rule_id] = rule
                own.append(rule_id)
        values = {k: p.value for k, p in parameters.items()}
        for rule in merged.values():
            self.check_params(rule, values)
        return merged, own

    def new_rule(self, entry: Mapping[str, Any]) -> RuleDef | None:
        rule_id = entry["id"]
        path = f"rules.{rule_id}"
        before = len(self.faults)
        self.unknown_keys(entry, _RULE_KEYS, path, "规则")
        for k in _RULE_REQUIRED:
            if k not in entry:
                self.fault(f"{path}.{k}", f"缺少 {k}")
        title = self.text(entry, "title", path)
        source = self.text(entry, "source", path)
        remedy = self.text(entry, "remedy", path)
        kind_name = entry.get("kind")
        if "kind" in entry and kind_name not in KINDS:
            self.fault(f"{path}.kind", f"未知的检查类型 {v.describe(kind_name)}（可用：{'、'.join(KINDS)}）")
        subject = entry.get("subject")
        if "subject" in entry and subject not in SUBJECTS:
            self.fault(f"{path}.subject", f"应为 {'、'.join(SUBJECTS)} 之一")
        severity = self.severity(entry, path)
        params = entry.get("params")
        if "params" in entry and not isinstance(params, Mapping):
            self.fault(f"{path}.params", "应为键值对")
        enabled = self.enabled(entry, path)
        applies_to = self.applies_to(entry.get("applies_to"), path) if "applies_to" in entry else AppliesTo()
        examples = self.examples(entry.get("examples"), path) if "examples" in entry else ()
        if len(self.faults) > before:
            return None
        return RuleDef(
            id=rule_id,
            title=title,
            kind=str(kind_name),
            subject=str(subject),
            params=dict(params or {}),
            severity=severity,
            source=source,
            remedy=remedy,
            applies_to=applies_to,
            examples=examples,
            enabled=enabled,
            note=self.text(entry, "note", path, required=False),
            origin=self.name,
            defined_in=self.name,
        )

    def patch_rule(self, entry: Mapping[str, Any], base: RuleDef) -> RuleDef | None:
        path = f"rules.{base.id}"
        before = len(self.faults)
        if "kind" in entry or "title" in entry:
            self.fault(
                path,
                f"规则 {base.id} 已在 {base.defined_in} 中定义，"
                "叠加包只能改 params、severity、enabled、remedy、note、source",
            )
            return None
        self.unknown_keys(entry, _RULE_PATCH_KEYS, path, "叠加规则")
        params = dict(base.params)
        if "params" in entry:
            if not isinstance(entry["params"], Mapping):
                self.fault(f"{path}.params", "应为键值对")
            else:
                params.update(entry["params"])
        severity = self.severity(entry, path) if "severity" in entry else base.severity
        enabled = self.enabled(entry, path) if "enabled" in entry else base.enabled
        if len(self.faults) > before:
            return None
        return replace(
            base,
            params=params,
            severity=severity,
            enabled=enabled,
            remedy=self.text(entry, "remedy", path, required=False) or base.remedy,
            note=self.text(entry, "note", path, required=False) or base.note,
            source=self.text(entry, "source", path, required=False) or base.source,
            origin=self.name,
        )

    def severity(self, entry: Mapping[str, Any], path: str) -> str:
        severity = entry.get("severity")
        if "severity" in entry and severity not in SEVERITIES:
            self.fault(
                f"{path}.severity", f"应为 {'、'.join(SEVERITIES)} 之一，实际为 {v.describe(severity)}"
            )
        return str(severity)

    def enabled(self, entry: Mapping[str, Any], path: str) -> bool:
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            self.fault(f"{path}.enabled", "应为 true 或 false")
            return True
        return enabled

    def applies_to(self, raw: Any, path: str) -> AppliesTo:
        path = f"{path}.applies_to"
        if not isinstance(raw, Mapping):
            self.fault(path, "应写成 {org_kinds: [...], statuses: [...]}")
            return AppliesTo()
        self.unknown_keys(raw, ("org_kinds", "statuses"), path, "适用范围")
        out: dict[str, tuple[str, ...]] = {}
        for key, known in (("org_kinds", ORG_KINDS), ("statuses", STATUSES)):
            items = raw.get(key) or []
            if not isinstance(items, list):
                self.fault(f"{path}.{key}", "应为列表")
                continue
            bad = [str(i) for i in items if i not in known]
            if bad:
                self.fault(f"{path}.{key}", f"未知的值 {'、'.join(bad)}（可用：{'、'.join(known)}）")
            out[key] = tuple(i for i in items if i in known)
        return AppliesTo(out.get("org_kinds", ()), out.get("statuses", ()))

    def examples(self, raw: Any, path: str) -> tuple[Example, ...]:
        path = f"{path}.examples"
        if not isinstance(raw, Mapping) or "pass" not in raw or "fail" not in raw:
            self.fault(path, "应至少有 pass 与 fail 两个例子")
            return ()
        out = []
        for name, entry in raw.items():
            where = f"{path}.{name}"
            if not isinstance(entry, Mapping) or not isinstance(entry.get("facts"), Mapping):
                self.fault(where, "例子应写成 {facts: {...}, expect: 状态}")
                continue
            self.unknown_keys(entry, _EXAMPLE_KEYS, where, "例子")
            expect = entry.get("expect")
            if expect is not None and expect not in STATES:
                self.fault(f"{where}.expect", f"应为 {'、'.join(STATES)} 之一")
            if name == "fail" and expect == "ok":
                self.fault(f"{where}.expect", "fail 例子不能期望 ok")
            if name not in ("pass", "fail") and expect is None:
                self.fault(f"{where}.expect", "pass、fail 以外的例子须写明 expect")
            today = entry.get("today")
            if today is not None and not isinstance(today, dt.date):
                try:
                    today = dt.date.fromisoformat(str(today))
                except ValueError:
                    self.fault(f"{where}.today", "应为日期（如 2025-06-30）")
                    today = None
            policy: dict[str, Any] = {}
            raw_policy = entry.get("policy") or {}
            if not isinstance(raw_policy, Mapping):
                self.fault(f"{where}.policy", "应为“参数键: 值”的键值对")
                raw_policy = {}
            for key, value in raw_policy.items():
                param = self.known.get(key)
                if param is None:
                    self.fault(f"{where}.policy.{key}", f"引用了未知参数 {key}")
                    continue
                try:
                    policy[key] = v.parse(
                        param.type, value, choices=param.choices or None, bounds=param.bounds
                    )
                except ValueFault as exc:
                    self.fault(f"{where}.policy.{key}", exc.message)
            out.append(Example(str(name), dict(entry["facts"]), expect, today, policy))
        return tuple(out)

    def check_params(self, rule: RuleDef, values: dict[str, Any]) -> None:
        """The rule's params resolve against this pack's parameters and fit its kind (examples too)."""
        path = f"rules.{rule.id}"
        kind_ = KINDS[rule.kind]
        cases: list[tuple[str, dict[str, Any]]] = [("params", values)]
        if rule.defined_in == self.name:
            cases += [
                (f"examples.{ex.name}.policy", {**values, **ex.policy}) for ex in rule.examples if ex.policy
            ]
        for label, vals in cases:
            try:
                substituted, whole = _substitute(rule.params, vals, {}, [])
                kind_.parse_params(substituted, fixed=whole)
            except _RefFault as exc:
                self.fault(f"{path}.params.{exc.where}", exc.message)
                return
            except ValueFault as exc:
                where = f".{exc.where}" if exc.where else ""
                suffix = "" if label == "params" else f"（按例子的 {label} 取值）"
                self.fault(f"{path}.params{where}", f"{exc.message}{suffix}")
                return

    def build(self, chain: tuple[str, ...]) -> Pack:
        data = self.data
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            self.fault("title", "缺少制度包标题 title")
            title = ""
        example = data.get("example", False)
        if not isinstance(example, bool):
            self.fault("example", "应为 true 或 false")
            example = False
        description = data.get("description") or ""
        if not isinstance(description, str):
            self.fault("description", "应为文字")
            description = ""
        parameters, own_params = self.parameters()
        rules, own_rules = self.rules(parameters)
        development = self.base.development if self.base else None
        if "development" in data:
            if self.base is not None:
                self.fault("development", "发展党员的步骤只在全国基准中定义；叠加包通过参数调整期限和人数")
            else:
                development, faults = parse_development(data["development"], parameters)
                for key, message in faults:
                    self.fault(key, message)
        return Pack(
            name=self.name,
            title=title.strip(),
            file=self.file,
            extends=self.base.name if self.base else None,
            example=example,
            description=description.strip(),
            parameters=parameters,
            rules=rules,
            chain=chain,
            own_parameters=tuple(own_params),
            own_rules=tuple(own_rules),
            development=development,
        )


def load_packs(directory: Path | str) -> Library:
    """Read, validate and merge every pack under `directory`; PackError (nothing published) on any fault."""
    directory = Path(directory)
    faults: list[Fault] = []
    raw: dict[str, dict[str, Any]] = {}
    files: dict[str, str] = {}
    shown_root = directory.parent

    def shown(p: Path) -> str:
        try:
            return p.relative_to(shown_root).as_posix()
        except ValueError:
            return p.as_posix()

    paths = sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    for p in paths:
        name_of_file = shown(p)
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            faults.append(Fault(name_of_file, "（文件）", f"无法读取 YAML：{exc}"))
            continue
        if not isinstance(data, dict):
            faults.append(
                Fault(name_of_file, "（文件）", "制度包应是一个键值对（pack、title、parameters、rules …）")
            )
            continue
        for k in data:
            if k not in _PACK_KEYS:
                faults.append(
                    Fault(name_of_file, str(k), f"不认识的顶层键 {k}（可用：{'、'.join(_PACK_KEYS)}）")
                )
        name = data.get("pack")
        if not isinstance(name, str) or not _PACK_NAME.match(name):
            faults.append(
                Fault(name_of_file, "pack", "缺少制度包名称 pack，或名称不是小写字母、数字、点、横线")
            )
            continue
        if name in raw:
            faults.append(Fault(name_of_file, "pack", f"制度包名称 {name} 与 {files[name]} 重复"))
            continue
        raw[name], files[name] = data, name_of_file

    if NATIONAL not in raw and not any(f.key == "pack" for f in faults):
        faults.append(Fault(shown(directory), "（目录）", f"找不到全国基准制度包（pack: {NATIONAL}）"))

    # The inheritance graph: every pack leads to national, without cycles.
    chains: dict[str, tuple[str, ...]] = {}
    for name in sorted(raw):
        chain = [name]
        current = name
        while True:
            base = raw[current].get("extends")
            if current == NATIONAL:
                if base is not None:
                    faults.append(Fault(files[current], "extends", "全国基准制度包不能继承其他制度包"))
                break
            if base is None:
                faults.append(
                    Fault(files[current], "extends", f"缺少 extends（叠加包应继承 {NATIONAL} 或其他制度包）")
                )
                chain = []
                break
            if not isinstance(base, str) or base not in raw:
                faults.append(Fault(files[current], "extends", f"继承的制度包 {v.describe(base)} 不存在"))
                chain = []
                break
            if base in chain:
                if name == min(chain[chain.index(base) :]):  # report each cycle once
                    loop = " → ".join([*chain[chain.index(base) :], base])
                    faults.append(Fault(files[current], "extends", f"循环继承：{loop}"))
                chain = []
                break
            chain.append(base)
            current = base
        if chain and current == NATIONAL:
            chains[name] = tuple(reversed(chain))

    built: dict[str, Pack] = {}
    for name in sorted(chains, key=lambda n: (len(chains[n]), n)):
        lineage = chains[name]
        base = built.get(lineage[-2]) if len(lineage) > 1 else None
        if len(lineage) > 1 and base is None:
            continue  # its base was refused; that fault is reported already
        builder = _Builder(name, raw[name], files[name], base)
        pack = builder.build(lineage)
        faults.extend(builder.faults)
        if not builder.faults:
            built[name] = pack
    if faults:
        raise PackError(faults)
    return Library(built, directory)


def policies_dir() -> Path:
    """Where the packs live: $ZHIBU_POLICIES_DIR, else settings.ZHIBU_POLICIES_DIR, else the repository's
    policies/ folder (next to the zhibu package), else ./policies."""
    configured = os.environ.get("ZHIBU_POLICIES_DIR")
    if not configured:
        try:
            from django.conf import settings

            configured = getattr(settings, "ZHIBU_POLICIES_DIR", None) if settings.configured else None
        except ImportError:  # pragma: no cover
            configured = None
    if configured:
        return Path(configured).expanduser()
    beside = Path(__file__).resolve().parents[2] / "policies"
    if (beside / f"{NATIONAL}.yaml").exists():
        return beside
    return Path.cwd() / "policies"


_library: Library | None = None
_lock = threading.Lock()


def library() -> Library:
    """The packs of this process, loaded and validated once."""
    global _library
    if _library is None:
        with _lock:
            if _library is None:
                _library = load_packs(policies_dir())
    return _library


def reset_library() -> None:
    """Forget the loaded packs (tests; a reload after editing the files)."""
    global _library
    with _lock:
        _library = None


# Effective policy --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Override:
    """A value an org stored for itself and its subtree."""

    key: str
    value: Any
    org_id: int
    org_name: str
    org_path: str
    is_school: bool
    note: str = ""

    @property
    def label(self) -> str:
        return f"{'本校' if self.is_school else '本单位'}设置（{self.org_name}）"


@dataclass
class EffectivePolicy:
    """The parameters and rules that hold for one org: a pack plus the stored overrides above it."""

    pack: Pack
    overrides: Mapping[str, Override] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def pack_name(self) -> str:
        return self.pack.name

    def value(self, key: str) -> Any:
        """The typed value of a parameter (KeyError for a key no pack defines)."""
        if key in self.overrides:
            return self.overrides[key].value
        return self.pack.parameters[key].value

    def origin(self, key: str) -> str:
        """Where the value comes from: "national", a pack's name, or "本校设置（org）"."""
        if key in self.overrides:
            return self.overrides[key].label
        return self.pack.parameters[key].origin

    def parameter(self, key: str) -> Parameter:
        """The parameter with its effective value and origin."""
        base = self.pack.parameters[key]
        if key in self.overrides:
            o = self.overrides[key]
            return replace(base, value=o.value, origin=o.label, note=o.note or base.note)
        return base

    def parameters(self) -> list[Parameter]:
        return [self.parameter(k) for k in self.pack.parameters]

    @cached_property
    def values(self) -> dict[str, Any]:
        out = self.pack.values()
        out.update({k: o.value for k, o in self.overrides.items()})
        return out

    @cached_property
    def development(self) -> Development:
        """The development steps with this org's numbers (durations, rhythms) in place of references."""
        if self.pack.development is None:  # a pack always has them once loaded (the loader refuses otherwise)
            raise LookupError("制度包缺少发展党员的步骤")
        return self.pack.development.resolve(self.values)

    @cached_property
    def all_rules(self) -> tuple[ResolvedRule, ...]:
        return tuple(r.resolve(self.values) for r in self.pack.rules.values())

    @cached_property
    def rules(self) -> tuple[ResolvedRule, ...]:
        """The enabled rules with their params substituted (what the engine evaluates)."""
        return tuple(r for r in self.all_rules if r.enabled)

    def rule(self, rule_id: str) -> ResolvedRule:
        for r in self.all_rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def school_year(self) -> SchoolYear:
        return SchoolYear(
            self.value("school_year.autumn_start"),
            self.value("school_year.autumn_end"),
            self.value("school_year.spring_start"),
            self.value("school_year.spring_end"),
        )


def effective_policies(
    orgs: Iterable[Organization], *, lib: Library | None = None
) -> dict[int, EffectivePolicy]:
    """Each org's effective policy, in two queries whatever the number of orgs; orgs sharing the same
    pack and overrides share one EffectivePolicy (and its resolved rules)."""
    from zhibu.compliance.models import PolicyAssignment, PolicyOverride

    lib = lib or library()
    orgs = list(orgs)
    paths = {p for org in orgs for p in org.ancestor_paths()}
    if not orgs:
        return {}
    assigned = dict(
        PolicyAssignment.objects.filter(org__path__in=paths).values_list("org__path", "pack_name")
    )
    stored: dict[str, list[dict[str, Any]]] = {}
    for found in PolicyOverride.objects.filter(org__path__in=paths).values(
        "id", "key", "value", "note", "org_id", "org__path", "org__name", "org__is_school"
    ):
        stored.setdefault(found["org__path"], []).append(dict(found))

    shared: dict[tuple[Any, ...], EffectivePolicy] = {}
    out: dict[int, EffectivePolicy] = {}
    for org in orgs:
        org_paths = org.ancestor_paths()  # root first
        warnings: list[str] = []
        pack = lib.national
        for path in reversed(org_paths):
            if path in assigned:
                name = assigned[path]
                if name in lib:
                    pack = lib.get(name)
                else:
                    warnings.append(f"制度包 {name} 不存在（已改用全国基准）")
                break
        chosen: dict[str, dict[str, Any]] = {}
        for path in org_paths:  # nearer paths come later and win
            for row in stored.get(path, []):
                chosen[row["key"]] = row
        ident = (pack.name, tuple(sorted((k, r["id"]) for k, r in chosen.items())), tuple(warnings))
        if ident not in shared:
            overrides: dict[str, Override] = {}
            notes = list(warnings)
            for key, row in chosen.items():
                if key not in pack.parameters:
                    notes.append(f"{row['org__name']} 设置的参数 {key} 在制度包 {pack.name} 中不存在，已忽略")
                    continue
                try:
                    value = pack.parameters[key].parse(row["value"])
                except ValueFault as exc:
                    notes.append(f"{row['org__name']} 设置的 {key} 无效（{exc.message}），已忽略")
                    continue
                overrides[key] = Override(
                    key=key,
                    value=value,
                    org_id=row["org_id"],
                    org_name=row["org__name"],
                    org_path=row["org__path"],
                    is_school=row["org__is_school"],
                    note=row["note"],
                )
            shared[ident] = EffectivePolicy(pack=pack, overrides=overrides, warnings=tuple(notes))
        out[org.pk] = shared[ident]
    return out


def effective_policy(org: Organization, *, lib: Library | None = None) -> EffectivePolicy:
    """The effective policy of one org (see effective_policies)."""
    return effective_policies([org], lib=lib)[org.pk]
