"""The rule catalogue: every parameter and rule of the packs, and the development steps, as Markdown
(docs/rules.md is its output).

Regenerate after editing a pack:

    .venv/bin/python -m zhibu.compliance.catalogue > docs/rules.md

A test fails when docs/rules.md differs from what the packs generate. The page /policy/rules/ shows the
same data (rule_text and param_text are shared with it).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from zhibu.compliance import values as v
from zhibu.compliance.kinds import KINDS, SCHEMA_TYPES, SEVERITIES, STATES
from zhibu.compliance.packs import CONFIDENCE, SUBJECTS, VARIES, Library, Pack, RuleDef, library
from zhibu.development.steps import Development, Interval

REGENERATE = ".venv/bin/python -m zhibu.compliance.catalogue > docs/rules.md"

# How each parameter type is written in a pack (value:).
TYPE_EXAMPLES: dict[str, str] = {
    "int": "`32`",
    "decimal": '`"0.2"`',
    "bool": "`true`",
    "text": "`yearly`（可限定 choices）",
    "duration": "`{months: 6}`（years、months、days、workdays 之一）",
    "frequency": "`{count: 1, per: quarter}`；每两个月：`{count: 1, per: month, every: 2}`",
    "fraction": '`"1/3"`（含本数）；超过半数：`{ratio: "1/2", strict: true}`',
    "range": "`{min: 3, max: 5}`（可只写一端）",
    "day_of_month": "`15`",
    "month_day": '`"09-01"`',
    "tiers": '`[{up_to: 3000, rate: "0.5%"}, …, {up_to: null, rate: "2%"}]`',
    "list": "`[岗位工资, 薪级工资]`",
}


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip() or "—"


def param_text(raw: Any, values: Mapping[str, Any], units: Mapping[str, str] | None = None) -> str:
    """A rule param as written, with each `$key` reference shown with its value: `org.branch_max`（50 名）."""
    units = units or {}
    if isinstance(raw, str) and raw.startswith("$"):
        key = raw[1:]
        return f"`{key}`（{v.display(values.get(key), units.get(key, ''))}）"
    if isinstance(raw, Mapping):
        return "{" + "，".join(f"{k}: {param_text(x, values, units)}" for k, x in raw.items()) + "}"
    if isinstance(raw, list):
        return "[" + "，".join(param_text(x, values, units) for x in raw) + "]"
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def rule_text(rule: RuleDef, pack: Pack) -> list[tuple[str, str]]:
    """(label, text) lines describing one rule, for the Markdown and the page."""
    values = pack.values()
    units = {k: p.unit for k, p in pack.parameters.items()}
    resolved = rule.resolve(values)
    kind = KINDS[rule.kind]
    params = "；".join(f"{name} = {param_text(raw, values, units)}" for name, raw in rule.params.items())
    lines = [
        ("检查类型", f"`{rule.kind}`（{kind.title}）"),
        ("对象", SUBJECTS[rule.subject]),
        ("参数", params or "—"),
        ("严重程度", f"{rule.severity}（{SEVERITIES[rule.severity]}）"),
        ("依据", rule.source),
        ("整改", rule.remedy),
        ("适用于", rule.applies_to.describe()),
        ("读取的事实", "、".join(f"`{n}`" for n in resolved.fact_names()) or "—"),
    ]
    if not rule.enabled:
        lines.append(("状态", "已停用"))
    if rule.note:
        lines.append(("说明", rule.note))
    examples = "；".join(f"{ex.name} → {ex.expect or 'ok'}" for ex in rule.examples)
    lines.append(("例子", examples))
    return lines


def _parameters_table(pack: Pack, keys: list[str] | None = None, base: Pack | None = None) -> list[str]:
    out = []
    if base is None:
        out.append("| 参数 | 名称 | 取值 | 类型 | 来源 | 可信度 | 地方差异 | 说明 |")
        out.append("|---|---|---|---|---|---|---|---|")
    else:
        out.append(f"| 参数 | 名称 | 取值 | {base.name} 的取值 | 来源 | 说明 |")
        out.append("|---|---|---|---|---|---|")
    for key in keys if keys is not None else list(pack.parameters):
        p = pack.parameters[key]
        if base is None:
            out.append(
                f"| `{key}` | {_cell(p.title)} | {_cell(p.display)} | {v.TYPES[p.type]} | {_cell(p.source)} "
                f"| {p.confidence} | {p.varies} | {_cell(p.note)} |"
            )
        else:
            old = base.parameters.get(key)
            before = old.display if old else "（新增）"
            note = p.note if not old or p.note != old.note else ""
            out.append(
                f"| `{key}` | {_cell(p.title)} | {_cell(p.display)} | {_cell(before)} "
                f"| {_cell(p.source)} | {_cell(note)} |"
            )
    return out


def _rule_block(rule: RuleDef, pack: Pack) -> list[str]:
    out = [f"#### `{rule.id}` {rule.title}", ""]
    out += [f"- **{label}**：{text}" for label, text in rule_text(rule, pack)]
    out.append("")
    return out


def _interval_text(
    interval: Interval, dev: Development, values: Mapping[str, Any], units: Mapping[str, str], *, due: bool
) -> str:
    text = f"{dev.event_label(interval.after)}后 {param_text(interval.duration, values, units)}"
    if due:
        text += "内"
        if interval.max is not None:
            text += f"，最长 {param_text(interval.max, values, units)}"
    return text


def _steps_table(pack: Pack) -> list[str]:
    """The development steps of a pack as a table, `$parameter` references shown with their values."""
    dev = pack.development
    if dev is None:
        return []
    values = pack.values()
    units = {k: p.unit for k, p in pack.parameters.items()}
    out = [
        f"### 发展党员的步骤（{len(dev.steps)} 项）",
        "",
        "制度包的 `development` 部分。前置步骤：须先记录的步骤（重复的步骤至少一次）；"
        "不早于：早于此日期的记录被拒绝；期限：晚于期限为检查结果（超过“最长”的被拒绝）；"
        "频次：重复的步骤在本阶段内应有的节奏；标“可选”的步骤不是继续下一步的条件。",
        "",
        "| 序号 | 阶段 | 步骤 | 前置步骤 | 不早于 | 期限 | 频次 | 材料 | 依据 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for step in dev.steps:
        title = f"`{step.code}` {step.title}" + ("（可选）" if step.optional else "")
        requires = "、".join(f"`{r}`" for r in step.requires)
        not_before = "；".join(_interval_text(i, dev, values, units, due=False) for i in step.not_before)
        due = _interval_text(step.due, dev, values, units, due=True) if step.due else ""
        every = param_text(step.every, values, units) if step.every is not None else ""
        if every and step.every_from:
            every += f"（自{dev.event_label(step.every_from)}起）"
        documents = "、".join(d.title + ("" if d.required else "（可选）") for d in step.documents)
        cells = (dev.stage_label(step.stage), title, requires, not_before, due, every, documents, step.source)
        out.append(f"| {step.number} | " + " | ".join(_cell(c) for c in cells) + " |")
    out.append("")
    return out


def render_markdown(lib: Library) -> str:
    """The whole catalogue as Markdown, deterministic (the same packs give the same bytes)."""
    national = lib.national
    out = [
        "# 规则目录（制度包参数与检查规则）",
        "",
        "> 本文件由 `policies/` 下的制度包生成，请勿手工修改。修改制度包后重新生成：",
        f"> `{REGENERATE}`",
        "",
        "整理自全国性规定的研究笔记（`shared/domain/rules.md`），**不是法规原文**；依赖某一数值之前，请对照官方文本核实。",
        "",
        "- 可信度：" + "；".join(f"**{k}** {t}" for k, t in CONFIDENCE.items()),
        "- 地方差异：" + "；".join(f"**{k}** {t}" for k, t in VARIES.items()),
        "- 检查结果状态：" + "；".join(f"`{k}` {t}" for k, t in STATES.items()),
        "- 严重程度：" + "；".join(f"`{k}` {t}" for k, t in SEVERITIES.items()),
        "- 参数取值“未规定”表示全国没有数值；引用它的规则在地方或学校设定之前为“不适用”。",
        "",
        "### 制度包格式",
        "",
        "一个制度包是 `policies/` 下的一个 YAML 文件：`pack`（名称）、`title`、"
        "`parameters`（每项 `type`、`value`、`title`、`unit`、`source`、`confidence`、`varies`、`note`）、"
        "`rules`（每条 `id`、`title`、`kind`、`subject`、`params`、`severity`、`source`、`remedy`、"
        "`applies_to`、`examples`）。规则参数写成 `$参数键` 即引用参数。"
        "叠加包写 `extends: national`（或其他制度包），参数只写 `value`（可加 `note`、`source`），"
        "已有规则只写要改的 `params`、`severity`、`enabled`；新增参数或规则须写全。",
        "",
        "| 类型 | 写法 |",
        "|---|---|",
        *(f"| `{t}` {label} | {TYPE_EXAMPLES[t]} |" for t, label in v.TYPES.items()),
        "",
        f"## 全国基准（`{national.name}`，{national.file}）",
        "",
        national.description,
        "",
        f"### 参数（{len(national.parameters)} 项）",
        "",
        *_parameters_table(national),
        "",
        f"### 规则（{len(national.rules)} 条）",
        "",
    ]
    for rule in national.rules.values():
        out += _rule_block(rule, national)
    out += _steps_table(national)
    overlays = [lib.get(n) for n in lib.names() if n != national.name]
    if overlays:
        out += ["## 叠加制度包", ""]
    for pack in overlays:
        base = lib.get(pack.extends or national.name)
        flag = "（示例，不是真实单位的制度）" if pack.example else ""
        out += [f"### {pack.title}{flag}", "", f"`{pack.name}`，{pack.file}，继承 `{pack.extends}`。", ""]
        if pack.description:
            out += [pack.description, ""]
        if pack.own_parameters:
            out += _parameters_table(pack, list(pack.own_parameters), base)
            out.append("")
        for rule_id in pack.own_rules:
            out += _rule_block(pack.rules[rule_id], pack)
    out += ["## 检查类型", ""]
    for kind in KINDS.values():
        out += [f"### `{kind.name}` {kind.title}", "", kind.summary, ""]
        out.append("| 参数 | 类型 | 必填 | 默认 | 说明 |")
        out.append("|---|---|---|---|---|")
        for name, spec in kind.schema.items():
            types = "、".join(SCHEMA_TYPES[t] for t in spec.types)
            if spec.choices:
                types += "（" + "/".join(spec.choices) + "）"
            default = "—" if spec.default is None else param_text(v.to_plain(spec.default), {})
            required = "是" if spec.required else "否"
            out.append(f"| `{name}` | {types} | {required} | {_cell(default)} | {_cell(spec.doc)} |")
        out += ["", "读取的事实：", ""]
        out += [f"- `{name}`：{text}" for name, text in kind.facts.items()]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    sys.stdout.write(render_markdown(library()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
