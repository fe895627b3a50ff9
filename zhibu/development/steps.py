"""The steps of the development pipeline as data: the `development` section of the national pack.

Pure code (no database): the pack loader calls `parse_development` to validate the section, and an org's
effective policy resolves the `$parameter` references with its own values (`Development.resolve`), so a
locality that changes `publicity.workdays` or `activist.min_cultivation` changes the step rules.

A step has an order (`number`, as in the 25 steps of 《发展党员工作细则》), a stage, prerequisites
(`requires`), minimum intervals that refuse a step recorded too early (`not_before`), a deadline after an
earlier event that the findings check (`due`, with an optional hard `max`), a rhythm for repeated steps
(`every`) and the documents kept with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zhibu.compliance import values as v
from zhibu.compliance.values import Duration, ValueFault, WorkdayAdder

# A pseudo-event usable in `not_before.after` and `due.after`: the end of the probation (the meeting date
# of the reception vote plus the probation, plus any extension) — not a step.
PROBATION_END = "probation_end"
EVENT_LABELS = {PROBATION_END: "预备期满"}

_SECTION_KEYS = ("stages", "steps")
_STEP_KEYS = (
    "code",
    "number",
    "stage",
    "title",
    "who",
    "source",
    "requires",
    "not_before",
    "due",
    "every",
    "every_from",
    "documents",
    "optional",
)
_STEP_REQUIRED = ("code", "number", "stage", "title", "source")


@dataclass(frozen=True)
class DocumentDef:
    code: str
    title: str
    required: bool = True


@dataclass(frozen=True)
class Interval:
    """`after` (a step code or PROBATION_END) plus a duration; raw values may be `$parameter` refs."""

    after: str
    duration: Any
    max: Any = None

    def resolve(self, values: Mapping[str, Any]) -> Interval:
        return Interval(self.after, _value(self.duration, values), _value(self.max, values))


@dataclass(frozen=True)
class StepDef:
    code: str
    number: int
    stage: str
    title: str
    who: str
    source: str
    requires: tuple[str, ...] = ()
    not_before: tuple[Interval, ...] = ()
    due: Interval | None = None
    every: Any = None
    every_from: str | None = None  # the step the rhythm counts from
    documents: tuple[DocumentDef, ...] = ()
    optional: bool = False

    @property
    def repeatable(self) -> bool:
        return self.every is not None

    @property
    def label(self) -> str:
        return f"第{self.number}步 {self.title}"

    def resolve(self, values: Mapping[str, Any]) -> StepDef:
        return StepDef(
            code=self.code,
            number=self.number,
            stage=self.stage,
            title=self.title,
            who=self.who,
            source=self.source,
            requires=self.requires,
            not_before=tuple(i.resolve(values) for i in self.not_before),
            due=self.due.resolve(values) if self.due else None,
            every=_value(self.every, values),
            every_from=self.every_from,
            documents=self.documents,
            optional=self.optional,
        )


def _value(raw: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(raw, str) and raw.startswith("$"):
        return values[raw[1:]]
    return raw


@dataclass(frozen=True)
class Development:
    """The stages and steps in order; `resolve(values)` gives them with typed durations and rhythms."""

    stages: Mapping[str, str]
    steps: tuple[StepDef, ...]
    by_code: Mapping[str, StepDef] = field(default_factory=dict)

    def resolve(self, values: Mapping[str, Any]) -> Development:
        steps = tuple(s.resolve(values) for s in self.steps)
        return Development(self.stages, steps, {s.code: s for s in steps})

    def step(self, code: str) -> StepDef:
        return self.by_code[code]

    def stage_label(self, stage: str) -> str:
        return self.stages.get(stage, stage)

    def event_label(self, event: str) -> str:
        if event in EVENT_LABELS:
            return EVENT_LABELS[event]
        return self.by_code[event].title if event in self.by_code else event

    def in_stage(self, stage: str) -> tuple[StepDef, ...]:
        return tuple(s for s in self.steps if s.stage == stage)


def shift(
    day: dt.date, duration: Duration | None, add_workdays: WorkdayAdder | None = None
) -> dt.date | None:
    """`day` plus a duration (None when the duration is not set by the policy)."""
    if duration is None:
        return None
    return duration.shift(day, add_workdays=add_workdays)


# Parsing ------------------------------------------------------------------------------------------------


def parse_development(
    raw: Any, parameters: Mapping[str, Any]
) -> tuple[Development | None, list[tuple[str, str]]]:
    """Validate the `development` section against the pack's parameters (key → Parameter with `.type`).

    Returns the definition (None on any fault) and the faults as (key, Chinese message)."""
    faults: list[tuple[str, str]] = []

    def fault(key: str, message: str) -> None:
        faults.append((key, message))

    if not isinstance(raw, Mapping):
        fault("development", "应写成 {stages: …, steps: […]}")
        return None, faults
    for k in raw:
        if k not in _SECTION_KEYS:
            fault(f"development.{k}", f"不认识的键 {k}（可用：{'、'.join(_SECTION_KEYS)}）")
    stages = raw.get("stages")
    if not isinstance(stages, Mapping) or not stages:
        fault("development.stages", "应写成“阶段代码: 名称”的键值对")
        stages = {}
    stages = {str(k): str(t) for k, t in stages.items()}
    items = raw.get("steps")
    if not isinstance(items, list) or not items:
        fault("development.steps", "应为步骤列表")
        return None, faults

    def ref(value: Any, path: str, type_: str) -> Any:
        """A `$parameter` of the right type, or a literal parsed as that type."""
        if isinstance(value, str) and value.startswith("$"):
            key = value[1:]
            param = parameters.get(key)
            if param is None:
                fault(path, f"引用了未知参数 {key}")
            elif param.type != type_:
                fault(path, f"参数 {key} 的类型是 {param.type}，这里需要 {type_}")
            return value
        try:
            return v.parse_duration(value) if type_ == "duration" else v.parse_frequency(value)
        except ValueFault as exc:
            fault(path, exc.message)
            return None

    def interval(entry: Any, path: str, *, due: bool) -> Interval | None:
        keys = ("after", "within", "max") if due else ("after", "by")
        if not isinstance(entry, Mapping):
            fault(path, f"应写成 {{{', '.join(keys)}}}")
            return None
        for k in entry:
            if k not in keys:
                fault(f"{path}.{k}", f"不认识的键 {k}（可用：{'、'.join(keys)}）")
        after = entry.get("after")
        if after != PROBATION_END and after not in seen:
            fault(f"{path}.after", f"{after} 不是此前的步骤（也不是 {PROBATION_END}）")
        span = entry.get("within" if due else "by")
        if span is None:
            fault(path, f"缺少 {'within' if due else 'by'}")
            return None
        duration = ref(span, f"{path}.{'within' if due else 'by'}", "duration")
        maximum = ref(entry["max"], f"{path}.max", "duration") if entry.get("max") is not None else None
        return Interval(str(after), duration, maximum)

    steps: list[StepDef] = []
    seen: set[str] = set()
    last_number = 0
    for n, entry in enumerate(items):
        if not isinstance(entry, Mapping):
            fault(f"development.steps.{n}", "步骤应写成键值对")
            continue
        code = entry.get("code")
        path = f"development.steps.{code or n}"
        for k in entry:
            if k not in _STEP_KEYS:
                fault(f"{path}.{k}", f"步骤不认识的键 {k}（可用：{'、'.join(_STEP_KEYS)}）")
        missing = [k for k in _STEP_REQUIRED if entry.get(k) in (None, "")]
        if missing:
            fault(path, f"缺少 {'、'.join(missing)}")
            continue
        code = str(code)
        if code in seen or code == PROBATION_END:
            fault(f"{path}.code", f"步骤代码 {code} 重复或为保留字")
            continue
        number = entry["number"]
        if not isinstance(number, int) or number < last_number:
            fault(f"{path}.number", "步骤序号应为整数，并按顺序排列")
            continue
        last_number = number
        if entry["stage"] not in stages:
            fault(f"{path}.stage", f"未知阶段 {entry['stage']}（可用：{'、'.join(stages)}）")
        requires = entry.get("requires") or []
        if not isinstance(requires, list):
            fault(f"{path}.requires", "应为步骤代码列表")
            requires = []
        for r in requires:
            if r not in seen:
                fault(f"{path}.requires", f"{r} 不是此前的步骤")
        not_before = []
        for i, nb in enumerate(entry.get("not_before") or []):
            parsed = interval(nb, f"{path}.not_before.{i}", due=False)
            if parsed:
                not_before.append(parsed)
        due = interval(entry["due"], f"{path}.due", due=True) if entry.get("due") is not None else None
        every = ref(entry["every"], f"{path}.every", "frequency") if entry.get("every") is not None else None
        every_from = entry.get("every_from")
        if every_from is not None and (every is None or every_from not in seen):
            fault(f"{path}.every_from", f"{every_from} 不是此前的步骤，或此步骤没有 every")
        documents = []
        for i, d in enumerate(entry.get("documents") or []):
            if not isinstance(d, Mapping) or not d.get("code") or not d.get("title"):
                fault(f"{path}.documents.{i}", "材料应写成 {code, title, required}")
                continue
            documents.append(DocumentDef(str(d["code"]), str(d["title"]), bool(d.get("required", True))))
        optional = entry.get("optional", False)
        if not isinstance(optional, bool):
            fault(f"{path}.optional", "应为 true 或 false")
        steps.append(
            StepDef(
                code=code,
                number=number,
                stage=str(entry["stage"]),
                title=str(entry["title"]),
                who=str(entry.get("who") or ""),
                source=str(entry["source"]),
                requires=tuple(str(r) for r in requires),
                not_before=tuple(not_before),
                due=due,
                every=every,
                every_from=str(every_from) if every_from is not None else None,
                documents=tuple(documents),
                optional=bool(optional),
            )
        )
        seen.add(code)
    if faults:
        return None, faults
    return Development(stages, tuple(steps), {s.code: s for s in steps}), faults
