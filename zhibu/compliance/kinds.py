"""Check kinds: the few shapes of obligation that code knows; packs say which apply with what numbers.

A kind is a pure function `evaluate(params, facts, *, today) -> Outcome`. It reads only the facts it is
given (the engine gathers them in bulk), never the database, and it never returns a bare bool: the
outcome has a state, a Chinese message built from the facts, a due date where there is one, and the
facts it used. A fact that is missing makes the outcome `unknown` — never a fake `ok`.

States: ok · due_soon (not done yet, the due date is near) · overdue (past the due date, still to do)
· violated (broken, or a period closed without it) · not_applicable · unknown (no data to decide).
An `ok` outcome may carry a `due` date: the obligation is open but nothing is wrong yet.

Each kind declares the schema of its params; packs are checked against it when loaded.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol

from zhibu.compliance import values as v
from zhibu.compliance.values import (
    Duration,
    Fraction,
    Frequency,
    MonthDay,
    Range,
    ValueFault,
    WorkdayAdder,
    fmt_number,
)

STATES: dict[str, str] = {
    "ok": "正常",
    "due_soon": "即将到期",
    "overdue": "已逾期",
    "violated": "不符合",
    "not_applicable": "不适用",
    "unknown": "无法判断",
}
SEVERITIES: dict[str, str] = {"info": "提示", "warning": "警示", "serious": "严重"}
ORG_NOUNS: dict[str, str] = {
    "work_committee": "教育工委",
    "committee": "党委",
    "general_branch": "党总支",
    "branch": "党支部",
    "group": "党小组",
}
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
}
_OP_WORDS = {">=": "达到", ">": "超过", "<=": "不超过", "<": "少于", "==": "等于"}


@dataclass(frozen=True)
class Outcome:
    """What one check found: state, Chinese message, due date, the facts it read, and a severity when the
    kind decides it (a "normal" bound breached is a warning even in a serious rule)."""

    state: str
    message: str
    due: dt.date | None = None
    facts_used: dict[str, Any] = field(default_factory=dict)
    severity: str | None = None

    @property
    def is_ok(self) -> bool:
        return self.state == "ok"


class MissingFact(LookupError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# Params schema -----------------------------------------------------------------------------------------

# Schema types beyond the parameter types of values.TYPES.
SCHEMA_TYPES: dict[str, str] = {
    **v.TYPES,
    "number": "数值",
    "choice": "选项",
    "condition": "条件",
    "text_map": "文字映射",
    "int_map": "整数映射",
}


@dataclass(frozen=True)
class Spec:
    """One param of a kind: its accepted types, whether it must be given, its default."""

    types: tuple[str, ...]
    required: bool = True
    default: Any = None
    choices: tuple[str, ...] = ()
    doc: str = ""

    def parse(self, raw: Any) -> Any:
        if raw is None:
            return None
        faults: list[ValueFault] = []
        for t in self.types:
            try:
                return _parse_schema_value(t, raw, self.choices)
            except ValueFault as exc:
                faults.append(exc)
        if len(faults) == 1:
            raise faults[0]
        names = "或".join(SCHEMA_TYPES[t] for t in self.types)
        raise ValueFault(f"应为{names}，实际为 {v.describe(raw)}")


def _parse_schema_value(type_: str, raw: Any, choices: Sequence[str]) -> Any:
    if type_ == "number":
        if isinstance(raw, int | Decimal) and not isinstance(raw, bool):
            return raw
        return v.parse("decimal", raw)
    if type_ == "choice":
        if raw not in choices:
            raise ValueFault(f"应为以下之一：{'、'.join(choices)}，实际为 {v.describe(raw)}")
        return raw
    if type_ == "condition":
        m = v.mapping(raw, ("fact", "op", "value", "label"), what="条件")
        if "fact" not in m or "op" not in m or "value" not in m:
            raise ValueFault("条件应写成 {fact: 事实名, op: '>=', value: 数值}，可加 label")
        if not isinstance(m["fact"], str):
            raise ValueFault("fact 应为事实名", "fact")
        if m["op"] not in OPERATORS:
            raise ValueFault(f"op 应为 {'、'.join(OPERATORS)} 之一", "op")
        value = None if m["value"] is None else _parse_schema_value("number", m["value"], ())
        return {"fact": m["fact"], "op": m["op"], "value": value, "label": str(m.get("label") or m["fact"])}
    if type_ in ("text_map", "int_map"):
        if not isinstance(raw, Mapping) or not raw:
            raise ValueFault(f"应写成非空的键值对，实际为 {v.describe(raw)}")
        out: dict[str, Any] = {}
        for key, item in raw.items():
            if item is None:
                out[str(key)] = None
            elif type_ == "int_map":
                out[str(key)] = v.parse("int", item) if not isinstance(item, int) else item
            else:
                out[str(key)] = v.parse("text", item)
        return out
    return v.parse(type_, raw, choices=choices or None)


# Registry ----------------------------------------------------------------------------------------------

Evaluator = Callable[["_Facts", dict[str, Any], dt.date, WorkdayAdder | None], Outcome]


@dataclass(frozen=True)
class Kind:
    """A check kind: its name, params schema, the facts it reads, and its evaluation."""

    name: str
    title: str
    summary: str  # Chinese, for the catalogue and the page
    doc: str
    schema: dict[str, Spec]
    facts: dict[str, str]  # fact name → what it is (names in <…> come from params)
    fn: Evaluator
    fact_names: Callable[[dict[str, Any]], tuple[str, ...]]

    def parse_params(
        self, raw: Mapping[str, Any], *, fixed: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Typed params from raw ones, or ValueFault(where=param name). `fixed` holds the params that were a
        whole `"$key"` reference, already typed: they must fit the spec (None means "not set")."""
        fixed = fixed or {}
        unknown = [k for k in raw if k not in self.schema]
        if unknown:
            raise ValueFault(
                f"检查类型 {self.name} 没有参数 {unknown[0]}（可用：{'、'.join(self.schema)}）", unknown[0]
            )
        out: dict[str, Any] = {}
        for name, spec in self.schema.items():
            if name not in raw:
                if spec.required:
                    raise ValueFault(f"检查类型 {self.name} 缺少参数 {name}", name)
                out[name] = spec.default if not isinstance(spec.default, Mapping) else dict(spec.default)
                if out[name] is not None:
                    out[name] = spec.parse(out[name])
                continue
            if name in fixed:  # a whole "$key" reference: a typed value (None: not set, not applicable)
                value = fixed[name]
                try:
                    out[name] = None if value is None else spec.parse(value)
                except ValueFault:
                    names = "或".join(SCHEMA_TYPES[t] for t in spec.types)
                    kind_of = v.TYPES.get(v.type_of(value) or "", "?")
                    raise ValueFault(
                        f"引用的参数类型为{kind_of}（{v.display(value)}），应为{names}", name
                    ) from None
                continue
            try:
                out[name] = spec.parse(raw[name])
            except ValueFault as exc:
                raise ValueFault(exc.message, f"{name}.{exc.where}" if exc.where else name) from None
        return out

    def evaluate(
        self,
        params: dict[str, Any],
        facts: Mapping[str, Any],
        *,
        today: dt.date,
        add_workdays: WorkdayAdder | None = None,
        severity: str | None = None,
    ) -> Outcome:
        """Apply this kind to typed params and the subject's facts on `today`; `severity` is the outcome's
        when the kind does not decide one."""
        f = _Facts(facts)
        try:
            outcome = self.fn(f, params, today, add_workdays)
        except MissingFact as exc:
            return Outcome(
                "unknown", f"缺少事实“{exc.key}”，无法判断", facts_used=f.jsonable(), severity=severity
            )
        except (TypeError, ValueError) as exc:
            return Outcome(
                "unknown", f"事实数据有误，无法判断：{exc}", facts_used=f.jsonable(), severity=severity
            )
        used = f.jsonable()
        for k, x in outcome.facts_used.items():
            used[k] = _json(x)
        # A new outcome rather than dataclasses.replace (twice per finding, a district's fifty thousand).
        decided = outcome.severity if severity is None else outcome.severity or severity
        return Outcome(outcome.state, outcome.message, outcome.due, used, decided)


KINDS: dict[str, Kind] = {}


def kind(
    name: str,
    title: str,
    summary: str,
    schema: dict[str, Spec],
    facts: dict[str, str],
    fact_names: Callable[[dict[str, Any]], tuple[str, ...]] | None = None,
) -> Callable[[Evaluator], Evaluator]:
    def register(fn: Evaluator) -> Evaluator:
        KINDS[name] = Kind(
            name=name,
            title=title,
            summary=summary,
            doc=(fn.__doc__ or "").strip(),
            schema=schema,
            facts=facts,
            fn=fn,
            fact_names=fact_names or (lambda _p: tuple(facts)),
        )
        return fn

    return register


# Facts -------------------------------------------------------------------------------------------------


# Values that are JSON already, by exact type (a subclass, such as a str enum, takes the general path).
_PLAIN_TYPES = frozenset({str, int, bool, float, type(None)})


def _json(x: Any) -> Any:
    """A fact as JSON: dates as ISO text, decimals as written, mappings and sequences item by item."""
    t = type(x)
    if t in _PLAIN_TYPES:
        return x
    if t is dt.date:
        return x.isoformat()
    if t is list or t is tuple:
        return [i if type(i) in _PLAIN_TYPES else _json(i) for i in x]
    if t is dict:
        return {str(k): i if type(i) in _PLAIN_TYPES else _json(i) for k, i in x.items()}
    if isinstance(x, dt.date):
        return x.isoformat()
    if isinstance(x, Decimal):
        return fmt_number(x)
    if isinstance(x, Mapping):
        return {str(k): _json(i) for k, i in x.items()}
    if isinstance(x, list | tuple | set | frozenset):
        return [_json(i) for i in x]
    return x


def _as_date(x: Any, key: str) -> dt.date:
    if isinstance(x, dt.datetime):
        return x.date()
    if isinstance(x, dt.date):
        return x
    if isinstance(x, str):
        return dt.date.fromisoformat(x.strip())
    raise ValueError(f"{key} 应为日期，实际为 {x!r}")


def _as_month(x: Any, key: str) -> tuple[int, int]:
    if isinstance(x, dt.date):
        return (x.year, x.month)
    if isinstance(x, str) and len(x.strip()) >= 7:
        year, month = x.strip()[:7].split("-")
        return (int(year), int(month))
    raise ValueError(f"{key} 应为月份（如 2025-01），实际为 {x!r}")


class _Facts:
    """The facts of one subject, recording which ones a check read."""

    def __init__(self, facts: Mapping[str, Any]) -> None:
        self.raw = facts
        self.used: dict[str, Any] = {}

    def has(self, key: str) -> bool:
        return key in self.raw

    def get(self, key: str) -> Any:
        if key not in self.raw:
            raise MissingFact(key)
        self.used[key] = self.raw[key]
        return self.raw[key]

    def opt(self, key: str, default: Any = None) -> Any:
        if key not in self.raw:
            return default
        self.used[key] = self.raw[key]
        return self.raw[key]

    def date(self, key: str) -> dt.date | None:
        x = self.get(key)
        return None if x is None else _as_date(x, key)

    def opt_date(self, key: str) -> dt.date | None:
        x = self.opt(key)
        return None if x is None else _as_date(x, key)

    def number(self, key: str) -> int | Decimal | None:
        x = self.get(key)
        if x is None or (isinstance(x, int) and not isinstance(x, bool)) or isinstance(x, Decimal):
            return x
        if isinstance(x, float | str):
            return Decimal(str(x))
        raise ValueError(f"{key} 应为数值，实际为 {x!r}")

    def count(self, key: str) -> int | None:
        x = self.get(key)
        if x is None:
            return None
        if isinstance(x, bool) or not isinstance(x, int):
            raise ValueError(f"{key} 应为整数，实际为 {x!r}")
        return x

    def subject(self) -> str:
        """How a message names its subject: the person, else the org's kind, else nothing."""
        person = self.opt("person")
        if person:
            return str(person)
        kind_ = self.opt("org_kind")
        return ORG_NOUNS.get(str(kind_), "") if kind_ else ""

    def jsonable(self) -> dict[str, Any]:
        return {k: x if type(x) in _PLAIN_TYPES else _json(x) for k, x in self.used.items()}


# Periods -----------------------------------------------------------------------------------------------

_QUARTERS = ("第一季度", "第二季度", "第三季度", "第四季度")


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    label: str


@dataclass(frozen=True)
class SchoolYear:
    """Semester dates (the school_year.* parameters of the effective policy)."""

    autumn_start: MonthDay
    autumn_end: MonthDay
    spring_start: MonthDay
    spring_end: MonthDay

    def semesters_around(self, year: int) -> list[Period]:
        """The spring semester of `year` and the autumn semesters starting in `year - 1` and `year`."""
        out = []
        for y in (year - 1, year):
            start = self.autumn_start.in_year(y)
            end_year = y + 1 if self.autumn_end.month < self.autumn_start.month else y
            out.append(Period(start, self.autumn_end.in_year(end_year), f"{y}—{y + 1}学年第一学期"))
        out.insert(
            1,
            Period(
                self.spring_start.in_year(year),
                self.spring_end.in_year(year),
                f"{year - 1}—{year}学年第二学期",
            ),
        )
        return out


def period_containing(
    freq: Frequency, day: dt.date, *, school_year: SchoolYear | None = None
) -> Period | None:
    """The period of `freq` that contains `day` (None for a day between semesters, or no school year)."""
    if freq.per == "semester":
        if school_year is None:
            return None
        return next((p for p in school_year.semesters_around(day.year) if p.start <= day <= p.end), None)
    months = freq.months or 12
    first = (day.month - 1) // months * months + 1
    start = dt.date(day.year, first, 1)
    end = v.add_months(start, months) - dt.timedelta(days=1)
    if months == 12:
        label = f"{day.year}年"
    elif freq.per == "quarter":
        label = f"{day.year}年{_QUARTERS[(first - 1) // 3]}"
    elif months == 1:
        label = f"{day.year}年{first}月"
    else:
        label = f"{day.year}年{first}—{end.month}月"
    return Period(start, end, label)


def periods_in_year(freq: Frequency, year: int, *, school_year: SchoolYear | None = None) -> list[Period]:
    """Every period of `freq` that starts in `year` (semesters: those that end in or start in it)."""
    return list(_periods_in_year(freq, year, school_year if freq.per == "semester" else None))


@lru_cache(maxsize=512)
def _periods_in_year(freq: Frequency, year: int, school_year: SchoolYear | None) -> tuple[Period, ...]:
    """periods_in_year, remembered: every org's frequency rules ask for the same few (frozen values)."""
    return tuple(_compute_periods_in_year(freq, year, school_year))


def _compute_periods_in_year(freq: Frequency, year: int, school_year: SchoolYear | None) -> list[Period]:
    if freq.per == "semester":
        if school_year is None:
            return []
        return [p for p in school_year.semesters_around(year) if p.start.year == year or p.end.year == year]
    out: list[Period] = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        p = period_containing(freq, day)
        assert p is not None
        out.append(p)
        day = p.end + dt.timedelta(days=1)
    return out


def _period(f: _Facts, freq: Frequency | None, today: dt.date) -> Period:
    """The period under evaluation: from the facts, else (calendar periods) the one containing today."""
    start, end = f.opt_date("period_start"), f.opt_date("period_end")
    if end is not None:
        start = start or dt.date(end.year, 1, 1)
        label = f.opt("period_label") or f"{cn_date(start)}至{cn_date(end)}"
        return Period(start, end, str(label))
    if freq is not None:
        p = period_containing(freq, today)
        if p is not None and freq.per != "semester":
            return p
    raise MissingFact("period_end")


def _open_obligation(
    *, today: dt.date, due: dt.date, window: Duration | None, closed_msg: str, open_msg: str
) -> tuple[str, str]:
    """State of an obligation not met yet: violated after `due`, due_soon inside the window, else ok."""
    if today > due:
        return "violated", closed_msg
    days_left = (due - today).days
    soon_from = window.shift(due, -1) if window else due
    tail = f"，还剩 {days_left} 天" if days_left else "，今天到期"
    if today >= soon_from:
        return "due_soon", open_msg + tail
    return "ok", open_msg + tail


# The kinds ---------------------------------------------------------------------------------------------

_DUE_SOON = Spec(("duration",), required=False, default={"days": 7}, doc="到期前多久提示")


def _condition_unmet(f: _Facts, when: dict[str, Any] | None) -> Outcome | None:
    """The outcome when a `when` condition does not hold (or cannot be read); None when it holds."""
    if when is None:
        return None
    value = f.number(when["fact"])
    if value is None:
        return Outcome("unknown", f"缺少{when['label']}，无法判断是否适用")
    if when["value"] is None:
        return Outcome("not_applicable", f"本单位适用的制度未规定{when['label']}的门槛，此项不适用")
    if OPERATORS[when["op"]](value, when["value"]):
        return None
    noun = f.subject()
    return Outcome(
        "not_applicable",
        f"{noun}{when['label']}为 {fmt_number(value)}，"
        f"未{_OP_WORDS[when['op']]} {fmt_number(when['value'])}，此项不适用",
    )


def _frequency_facts(p: dict[str, Any]) -> tuple[str, ...]:
    names = [p["events_fact"], "year"]
    if p.get("when"):
        names.append(p["when"]["fact"])
    return tuple(dict.fromkeys(names))


def _soon_from(p: dict[str, Any], period: Period) -> dt.date:
    """From which day a period not yet met is due soon: the usual quarter's first day for a yearly
    obligation with `soon_from_quarter`, else `due_soon_within` before the period's end."""
    quarter = p.get("soon_from_quarter")
    if quarter and (period.end - period.start).days >= 364:
        return max(period.start, dt.date(period.end.year, 3 * int(quarter) - 2, 1))
    window: Duration = p["due_soon_within"]
    return window.shift(period.end, -1)


def _year_periods(f: _Facts, freq: Frequency, year: int) -> list[Period] | None:
    """The periods judged in a year: the calendar ones, or the semesters that start in it (from the
    `semesters` fact, [{from, to, label}]); None for semesters when the engine gave no school year."""
    if freq.per != "semester":
        return periods_in_year(freq, year)
    raw = f.opt("semesters")
    if not raw:
        return None
    out = [
        Period(_as_date(s["from"], "semesters"), _as_date(s["to"], "semesters"), str(s.get("label") or ""))
        for s in raw
    ]
    return [s for s in out if s.start.year == year]


@kind(
    "frequency",
    "频次",
    "每个周期（月、季度、学期、年或每 N 个月）至少发生规定次数；"
    "到期日为周期最后一天，临近时为即将到期，周期结束仍不足为不符合。"
    "给出考核年度（year）时逐一检查该年已开始的每个周期：已结束的周期不足即不符合，当前周期按到期日提示。",
    {
        "period": Spec(("frequency",), doc="每周期应有的次数"),
        "event": Spec(("text",), doc="做什么（动宾短语，如“召开支部党员大会”）"),
        "due_soon_within": _DUE_SOON,
        "events_fact": Spec(("text",), required=False, default="events", doc="活动日期列表读哪个事实"),
        "when": Spec(
            ("condition",), required=False, doc="适用条件，如 {fact: committee_seats, op: '>', value: 0}"
        ),
        "soon_from_quarter": Spec(
            ("int",), required=False, doc="按年的频次：自第几季度起尚未完成即提示即将到期（如组织生活会）"
        ),
    },
    {
        "<events_fact>": "该类活动的日期列表（None 表示尚无记录；默认事实名 events）",
        "year": "考核年度（可省略：只检查一个周期）",
        "semesters": "按学期的频次：考核年度的学期 [{from, to, label}]（由学年日期算出）",
        "period_start": "考核周期开始日（可省略：按自然月/季/年取当天所在周期）",
        "period_end": "考核周期结束日（学期频次且无 year 时必须给出）",
        "period_label": "周期名称（可省略）",
        "<when.fact>": "适用条件读取的数量",
    },
    _frequency_facts,
)
def _frequency(f: _Facts, p: dict[str, Any], today: dt.date, _wd: WorkdayAdder | None) -> Outcome:
    """An event happens at least `count` times in every period (month, quarter, semester, year, or every
    N months); the due date is the period's last day, due soon inside `due_soon_within` of it. With the
    fact `year`, every period of that year begun by today is judged: a closed one short → violated, the
    current one → open (due soon near its end, or from `soon_from_quarter` for a yearly obligation)."""
    unmet = _condition_unmet(f, p["when"])
    if unmet is not None:
        return unmet
    freq: Frequency = p["period"]
    year = f.opt("year")
    if year is not None:
        return _frequency_in_year(f, p, freq, int(year), today)
    period = _period(f, freq, today)
    events = f.get(p["events_fact"])
    if events is None:
        return Outcome("unknown", f"尚无{p['event']}的记录，无法判断")
    if today < period.start:
        return Outcome("not_applicable", f"{period.label}尚未开始")
    dates = [_as_date(x, p["events_fact"]) for x in events]
    n = sum(1 for d in dates if period.start <= d <= period.end)
    need = freq.count
    used = {"count_in_period": n, "period_start": period.start, "period_end": period.end}
    if n >= need:
        return Outcome("ok", f"{period.label}{p['event']} {n} 次，达到应有的 {need} 次", facts_used=used)
    closed_msg = f"{period.label}{p['event']} {n} 次，少于应有的 {need} 次（{freq}）"
    if today > period.end:
        return Outcome("violated", closed_msg, due=period.end, facts_used=used)
    left = (period.end - today).days
    open_msg = f"{period.label}已{p['event']} {n} 次，应于{cn_date(period.end)}前至少 {need} 次" + (
        f"，还剩 {left} 天" if left else "，今天到期"
    )
    state = "due_soon" if today >= _soon_from(p, period) else "ok"
    return Outcome(state, open_msg, due=period.end, facts_used=used)


def _frequency_in_year(f: _Facts, p: dict[str, Any], freq: Frequency, year: int, today: dt.date) -> Outcome:
    event, need = p["event"], freq.count
    periods = _year_periods(f, freq, year)
    if periods is None:
        return Outcome("unknown", f"{freq}须按学年日期划分学期，缺少学期日期，无法判断")
    events = f.get(p["events_fact"])
    if events is None:
        return Outcome("unknown", f"尚无{event}的记录，无法判断")
    begun = [pd for pd in periods if pd.start <= today]
    if not begun:
        return Outcome("not_applicable", f"{year}年的第一个考核周期尚未开始（{freq}）")
    dates = [_as_date(x, p["events_fact"]) for x in events]
    counts = [(pd, sum(1 for d in dates if pd.start <= d <= pd.end)) for pd in begun]
    short = [(pd, n) for pd, n in counts if pd.end < today and n < need]
    current = next(((pd, n) for pd, n in counts if pd.end >= today), None)
    used: dict[str, Any] = {"counts": {pd.label: n for pd, n in counts}}
    head = f"应{freq}{event}"
    if short:
        listed = "；".join(f"{pd.label} {n} 次" for pd, n in short)
        used["short"] = [pd.label for pd, _ in short]
        text = f"{head}，{listed}，少于应有的 {need} 次"
        if current is not None:
            text += f"；{current[0].label}已 {current[1]} 次"
        return Outcome("violated", text, due=short[0][0].end, facts_used=used)
    closed = [pd for pd, _ in counts if pd.end < today]
    done = f"{year}年已结束的 {len(closed)} 个周期均达到 {need} 次" if closed else ""
    if current is None or current[1] >= need:
        tail = f"{current[0].label}{event} {current[1]} 次" if current is not None else ""
        return Outcome("ok", f"{head}：" + "；".join(t for t in (done, tail) if t), facts_used=used)
    pd, n = current
    left = (pd.end - today).days
    text = f"{pd.label}已{event} {n} 次，应于{cn_date(pd.end)}前至少 {need} 次" + (
        f"，还剩 {left} 天" if left else "，今天到期"
    )
    if done:
        text = f"{done}；{text}"
    state = "due_soon" if today >= _soon_from(p, pd) else "ok"
    return Outcome(state, f"{head}：{text}", due=pd.end, facts_used=used)


def _deadline_facts(p: dict[str, Any]) -> tuple[str, ...]:
    names = [p["start_fact"], p["done_fact"]]
    if p.get("reason_fact"):
        names.append(p["reason_fact"])
    return tuple(names)


@kind(
    "deadline_after",
    "事后期限",
    "某事发生后须在期限内完成另一件事：按期完成为正常，逾期完成为不符合；未完成时临近到期日（含当天）为即将到期，过了到期日为已逾期。"
    "可设最长期限（max）：逾期但写明理由（reason_fact）且未超过最长期限的为正常，超过最长期限的为不符合。",
    {
        "within": Spec(("duration",), doc="期限"),
        "after": Spec(("text",), doc="触发事件（如“收到入党申请书”）"),
        "event": Spec(("text",), doc="应完成的事（如“派人谈话”）"),
        "due_soon_within": _DUE_SOON,
        "start_fact": Spec(("text",), required=False, default="start", doc="触发日期读哪个事实"),
        "done_fact": Spec(("text",), required=False, default="done", doc="完成日期读哪个事实"),
        "max": Spec(("duration",), required=False, doc="特殊情况下的最长期限：超过即不符合"),
        "reason_fact": Spec(
            ("text",), required=False, doc="逾期理由读哪个事实：有理由且未超过 max 的逾期完成为正常"
        ),
    },
    {
        "<start_fact>": "触发事件的日期（None：尚未发生，不适用；默认事实名 start）",
        "<done_fact>": "完成日期（None：尚未完成；默认事实名 done）",
        "<reason_fact>": "逾期理由（文字，None 或空：未说明）",
    },
    _deadline_facts,
)
def _deadline_after(f: _Facts, p: dict[str, Any], today: dt.date, wd: WorkdayAdder | None) -> Outcome:
    """An event must follow another within a duration: done in time → ok, done late → violated, not done
    → due soon near the due date (inclusive), overdue after it. With `max`, a late completion that gives
    a reason (`reason_fact`) within `max` is ok; past `max` it is violated, done or not."""
    start = f.date(p["start_fact"])
    done = f.date(p["done_fact"])
    if start is None:
        return Outcome("not_applicable", f"尚未{p['after']}")
    within: Duration = p["within"]
    due = within.shift(start, add_workdays=wd)
    longest: Duration | None = p["max"]
    hard = longest.shift(start, add_workdays=wd) if longest is not None else None
    used: dict[str, Any] = {"due": due}
    if hard is not None:
        used["latest"] = hard
    if (within.is_workdays or (longest is not None and longest.is_workdays)) and wd is None:
        used["estimated"] = True
    head = f"{p['after']}（{cn_date(start)}）后应在 {within}内{p['event']}"
    if done is not None:
        if done <= due:
            return Outcome("ok", f"{head}，已于{cn_date(done)}完成", due=due, facts_used=used)
        late = (done - due).days
        text = f"{head}（{cn_date(due)}前），实际{cn_date(done)}完成，晚了 {late} 天"
        if hard is not None and done > hard:
            return Outcome("violated", f"{text}，超过特殊情况下最长的 {longest}", due=due, facts_used=used)
        if p["reason_fact"]:
            reason = str(f.opt(p["reason_fact"]) or "").strip()
            if reason:
                return Outcome("ok", f"{text}，已说明逾期理由：{reason}", due=due, facts_used=used)
            text += "，未说明逾期理由"
        return Outcome("violated", text, due=due, facts_used=used)
    if today > due:
        late = (today - due).days
        if hard is not None and today > hard:
            return Outcome(
                "violated",
                f"{head}，应于{cn_date(due)}前完成，已逾期 {late} 天，"
                f"超过特殊情况下最长的 {longest}（{cn_date(hard)}）",
                due=due,
                facts_used=used,
            )
        tail = f"；特殊情况最长 {longest}（{cn_date(hard)}前），须说明理由" if hard is not None else ""
        return Outcome(
            "overdue", f"{head}，应于{cn_date(due)}前完成，已逾期 {late} 天{tail}", due=due, facts_used=used
        )
    state, message = _open_obligation(
        today=today,
        due=due,
        window=p["due_soon_within"],
        closed_msg="",
        open_msg=f"{head}，应于{cn_date(due)}前完成",
    )
    return Outcome(state, message, due=due, facts_used=used)


@kind(
    "min_total",
    "最低累计",
    "每人在周期内的累计量（如学时）须达到下限；周期结束仍不足为不符合。",
    {
        "min": Spec(("number",), doc="最低累计量"),
        "unit": Spec(("text",), doc="单位（如“学时”）"),
        "what": Spec(("text",), doc="累计什么（如“集中学习培训”）"),
        "due_soon_within": Spec(("duration",), required=False, default={"days": 30}),
    },
    {
        "total": "本人在周期内的累计量（None：尚无记录）",
        "period_end": "周期结束日（可省略：取当年年底）",
        "period_start": "周期开始日（可省略）",
        "period_label": "周期名称（可省略）",
        "person": "姓名（用于消息，可省略）",
    },
)
def _min_total(f: _Facts, p: dict[str, Any], today: dt.date, _wd: WorkdayAdder | None) -> Outcome:
    """A per-person total in a period (study hours …) reaches a minimum by the period's end."""
    period = _period(f, Frequency(1, "year"), today)
    total = f.number("total")
    who = f"{f.subject()}：" if f.subject() else ""
    if total is None:
        return Outcome("unknown", f"{who}{period.label}尚无{p['what']}记录，无法判断")
    need, unit = p["min"], p["unit"]
    if total >= need:
        return Outcome(
            "ok", f"{who}{period.label}{p['what']} {fmt_number(total)} {unit}，达到 {fmt_number(need)} {unit}"
        )
    short = fmt_number(need - total)
    state, message = _open_obligation(
        today=today,
        due=period.end,
        window=p["due_soon_within"],
        closed_msg=f"{who}{period.label}{p['what']} {fmt_number(total)} {unit}，"
        f"少于 {fmt_number(need)} {unit}，差 {short} {unit}",
        open_msg=f"{who}{period.label}已{p['what']} {fmt_number(total)} {unit}，"
        f"还差 {short} {unit}，截止{cn_date(period.end)}",
    )
    return Outcome(state, message, due=period.end, facts_used={"short": need - total})


def _item(x: Any) -> str:
    """A coverage item: a person ("张三") or an unordered pair (["张三", "李四"] → "李四—张三")."""
    if isinstance(x, list | tuple):
        if len(x) != 2:
            raise ValueError(f"配对应为两个人，实际为 {x!r}")
        return "—".join(sorted(str(i) for i in x))
    return str(x)


@kind(
    "coverage",
    "全覆盖",
    "每个人、或某种关系中的每一对人，在周期内至少发生规定次数（如谈心谈话全覆盖）。",
    {
        "min_count": Spec(("int",), required=False, default=1, doc="每人/每对至少几次"),
        "what": Spec(("text",), doc="做什么（如“谈心谈话”）"),
        "unit": Spec(("text",), required=False, default="人", doc="“人”或“对”"),
        "due_soon_within": Spec(("duration",), required=False, default={"days": 30}),
        "required_fact": Spec(("text",), required=False, default="required", doc="应覆盖的对象读哪个事实"),
        "done_fact": Spec(("text",), required=False, default="done", doc="已发生的记录读哪个事实"),
    },
    {
        "<required_fact>": "应覆盖的人（姓名）或人对（[甲, 乙]）列表（默认事实名 required）",
        "<done_fact>": "周期内每发生一次记一项：人或人对（None：尚无记录；默认事实名 done）",
        "period_end": "周期结束日（可省略：取当年年底）",
        "period_label": "周期名称（可省略）",
    },
    lambda p: (p["required_fact"], p["done_fact"], "period_end", "period_label"),
)
def _coverage(f: _Facts, p: dict[str, Any], today: dt.date, _wd: WorkdayAdder | None) -> Outcome:
    """Each person, or each pair of a relation, has the event at least `min_count` times in the period."""
    period = _period(f, Frequency(1, "year"), today)
    required = [_item(x) for x in f.get(p["required_fact"]) or []]
    done = f.get(p["done_fact"])
    if not required:
        return Outcome("not_applicable", f"{period.label}没有需要{p['what']}的对象")
    if done is None:
        return Outcome("unknown", f"{period.label}尚无{p['what']}记录，无法判断")
    counts = Counter(_item(x) for x in done)
    need, unit = p["min_count"], p["unit"]
    missing = [r for r in dict.fromkeys(required) if counts[r] < need]
    total = len(dict.fromkeys(required))
    used = {"missing": missing}
    if not missing:
        return Outcome(
            "ok",
            f"{period.label}{p['what']}已覆盖全部 {total} {unit}（每{unit}至少 {need} 次）",
            facts_used=used,
        )
    shown = "、".join(missing[:5]) + (f" 等 {len(missing)} {unit}" if len(missing) > 5 else "")
    state, message = _open_obligation(
        today=today,
        due=period.end,
        window=p["due_soon_within"],
        closed_msg=f"{period.label}{p['what']}应覆盖 {total} {unit}，"
        f"有 {len(missing)} {unit}不足 {need} 次：{shown}",
        open_msg=f"{period.label}{p['what']}尚有 {len(missing)} {unit}不足 {need} 次：{shown}，"
        f"截止{cn_date(period.end)}",
    )
    return Outcome(state, message, due=period.end, facts_used=used)


def _vs(fraction: Fraction, part: int, whole: int, whole_label: str) -> str:
    """“超过应到会 10 人的半数” / “恰为应到会 10 人的半数，未超过半数” …"""
    base = f"{whole_label} {whole} 人的{fraction.words}"
    if fraction.at_boundary(part, whole):
        if fraction.strict:
            return f"恰为{base}，未超过{fraction.words}（“超过”不含本数）"
        return f"恰为{base}，达到{fraction.words}（含本数）"
    if fraction.reached(part, whole):
        return f"{'超过' if fraction.strict else '达到'}{base}"
    return f"未{'超过' if fraction.strict else '达到'}{base}（至少需 {fraction.least(whole)} 人）"


@kind(
    "quorum_majority",
    "到会与表决",
    "到会人数须达到应到会人数的比例，赞成票须达到基数（默认应到会人数）的比例；“超过”类比例恰为临界值时不通过，并说明原因。",
    {
        "what": Spec(("text",), doc="会议或表决（如“支部党员大会表决”）"),
        "quorum": Spec(("fraction",), required=False, doc="到会人数须达到应到会的比例"),
        "pass": Spec(("fraction",), required=False, doc="赞成票须达到的比例"),
        "majority_of": Spec(
            ("choice",), required=False, default="entitled", choices=("entitled", "present"), doc="通过的基数"
        ),
        "quorum_note": Spec(("text",), required=False, doc="到会人数恰为临界值时附加的说明"),
        "entitled_fact": Spec(("text",), required=False, default="entitled", doc="应到会人数读哪个事实"),
        "present_fact": Spec(("text",), required=False, default="present", doc="实到会人数读哪个事实"),
        "in_favour_fact": Spec(("text",), required=False, default="in_favour", doc="赞成票数读哪个事实"),
    },
    {
        "<entitled_fact>": "应到会（有表决权）人数（默认事实名 entitled）",
        "<present_fact>": "实到会（有表决权）人数（默认事实名 present）",
        "<in_favour_fact>": "赞成票数（含按规定计入的书面意见；只在检查通过时需要；默认事实名 in_favour）",
    },
    lambda p: (
        (p["entitled_fact"], p["present_fact"])
        + ((p["in_favour_fact"],) if p.get("pass") is not None else ())
    ),
)
def _quorum_majority(f: _Facts, p: dict[str, Any], _today: dt.date, _wd: WorkdayAdder | None) -> Outcome:
    """Present vs entitled reaches the quorum, and votes in favour vs the base (应到会 by default) reach the
    majority; strict fractions (超过) fail at exactly the fraction, and the message says why."""
    entitled = f.count(p["entitled_fact"])
    present = f.count(p["present_fact"])
    if entitled is None or present is None:
        return Outcome("unknown", f"{p['what']}缺少应到会或实到会人数，无法判断")
    if entitled <= 0:
        return Outcome("unknown", f"{p['what']}应到会人数为 {entitled}，无法判断")
    if present > entitled:
        return Outcome("unknown", f"{p['what']}实到会 {present} 人多于应到会 {entitled} 人，记录有误")
    parts: list[str] = []
    failed = False
    quorum: Fraction | None = p["quorum"]
    if quorum is not None:
        parts.append(f"实到会 {present} 人，{_vs(quorum, present, entitled, '应到会')}")
        if not quorum.reached(present, entitled):
            failed = True
            parts[-1] += "，到会人数不足，会议不能进行表决"
            if quorum.at_boundary(present, entitled) and p["quorum_note"]:
                parts[-1] += f"（{p['quorum_note']}）"
    majority: Fraction | None = p["pass"]
    if majority is not None and not failed:
        favour = f.count(p["in_favour_fact"])
        if favour is None:
            return Outcome("unknown", f"{p['what']}缺少赞成票数，无法判断")
        if favour > present and p["majority_of"] == "present":
            return Outcome("unknown", f"{p['what']}赞成 {favour} 票多于实到会 {present} 人，记录有误")
        base, label = (entitled, "应到会") if p["majority_of"] == "entitled" else (present, "实到会")
        text = f"赞成 {favour} 票，{_vs(majority, favour, base, label)}"
        if not majority.reached(favour, base):
            failed = True
            text += "，未通过"
            if p["majority_of"] == "entitled":
                text += "（以应到会人数为基数，不是实到会人数）"
        else:
            text += "，通过"
        parts.append(text)
    return Outcome("violated" if failed else "ok", f"{p['what']}：" + "；".join(parts))


def _months_between(a: tuple[int, int], b: tuple[int, int]) -> int:
    return (b[0] - a[0]) * 12 + b[1] - a[1]


def _month_label(m: tuple[int, int]) -> str:
    return f"{m[0]}年{m[1]}月"


def _month_add(m: tuple[int, int], n: int) -> tuple[int, int]:
    y, mo = divmod(m[0] * 12 + m[1] - 1 + n, 12)
    return (y, mo + 1)


@kind(
    "consecutive_months_without",
    "连续月数",
    "最长连续多少个月没有某项活动（几项中任一项即可）；某项无数据时为无法判断；当前连续月数达到提示月数时提前提示。",
    {
        "months": Spec(("int",), doc="连续多少个月即不符合"),
        "warn_months": Spec(("int",), required=False, doc="连续多少个月提前提示"),
        "tracks": Spec(("text_map",), doc="要看的各项：键 → 做什么（如 dues: 交纳党费）"),
        "count_excused": Spec(
            ("bool",), required=False, default=False, doc="经批准请假（excused）的月份是否计为有活动"
        ),
    },
    {
        "from": "考察起始月（如入党或转入之月，YYYY-MM）",
        "to": "考察截止月（含），一般为上一个完整月份",
        "activity": "每项（tracks 的键）有活动的月份列表，或 {active: 月份列表, "
        "excused: 经批准请假的月份列表}；某项为 None 或缺失表示尚无数据",
        "person": "姓名（用于消息，可省略）",
    },
)
def _consecutive_months_without(
    f: _Facts, p: dict[str, Any], today: dt.date, _wd: WorkdayAdder | None
) -> Outcome:
    """The longest run of months without something (any one track suffices); unknown when a track has no
    data and no other track already shows the run; due soon from `warn_months` of a current run. A
    track may list its excused months apart ({active, excused}); they count as active with
    `count_excused`."""
    first = _as_month(f.get("from"), "from")
    last = _as_month(f.get("to"), "to")
    activity = f.get("activity") or {}
    limit, warn = p["months"], p["warn_months"]
    who = f.subject()
    who = f"{who}：" if who else ""
    violated: list[str] = []
    warned: list[tuple[str, dt.date]] = []
    unknown: list[str] = []
    fine: list[str] = []
    runs: dict[str, int] = {}
    excused_seen: list[str] = []
    for track, doing in p["tracks"].items():
        months = activity.get(track) if isinstance(activity, Mapping) else None
        if months is None:
            unknown.append(doing)
            continue
        excused: set[tuple[int, int]] = set()
        if isinstance(months, Mapping):
            excused = {_as_month(m, track) for m in months.get("excused") or []}
            months = months.get("active") or []
        active = {_as_month(m, track) for m in months}
        if p["count_excused"]:
            active |= excused
        elif excused - active:
            excused_seen.append(doing)
        longest, longest_end, run = 0, first, 0
        for i in range(_months_between(first, last) + 1):
            m = _month_add(first, i)
            run = 0 if m in active else run + 1
            if run > longest:
                longest, longest_end = run, m
        # Activity after the window (e.g. this month) ends the current run.
        if any(_months_between(last, m) > 0 for m in active):
            run = 0
        runs[track] = longest
        if longest >= limit:
            start = _month_add(longest_end, 1 - longest)
            violated.append(
                f"{_month_label(start)}至{_month_label(longest_end)}"
                f"连续 {longest} 个月未{doing}（达到 {limit} 个月）"
            )
        elif warn is not None and run >= warn:
            reach = _month_add(last, limit - run)
            due = v.add_months(dt.date(reach[0], reach[1], 1), 1) - dt.timedelta(days=1)
            warned.append((f"已连续 {run} 个月未{doing}，再有 {limit - run} 个月即满 {limit} 个月", due))
        else:
            fine.append(f"最长连续 {longest} 个月未{doing}" if longest else f"每月均{doing}")
    used = {"longest_runs": runs}
    if violated:
        note = (
            f"（{'、'.join(excused_seen)}：经批准请假的月份按本单位制度不计为有活动）" if excused_seen else ""
        )
        return Outcome(
            "violated",
            f"{who}{'；'.join(violated)}{note}，无正当理由的，按党章第九条可认为自行脱党，应查明原因",
            facts_used=used,
        )
    if unknown:
        known = f"（{'；'.join(t for t, _ in warned) or '；'.join(fine)}）" if warned or fine else ""
        return Outcome("unknown", f"{who}尚无{'、'.join(unknown)}的数据，无法判断{known}", facts_used=used)
    if warned:
        due = min(d for _, d in warned)
        return Outcome(
            "due_soon", f"{who}{'；'.join(t for t, _ in warned)}，应及早批评教育", due=due, facts_used=used
        )
    return Outcome(
        "ok", f"{who}{_month_label(first)}至{_month_label(last)}：{'；'.join(fine)}", facts_used=used
    )


def _count_facts(p: dict[str, Any]) -> tuple[str, ...]:
    names = [p["metric"]]
    if p.get("when"):
        names.append(p["when"]["fact"])
    return tuple(dict.fromkeys(names))


@kind(
    "count_within",
    "人数/数量范围",
    "数量须在硬性上下限之内（否则为不符合，按规则的严重程度），"
    "并在一般范围之内（否则按 normal_severity 提示）；when 条件决定是否适用。",
    {
        "metric": Spec(("text",), doc="读哪个事实（如 full_members）"),
        "label": Spec(("text",), doc="它叫什么（如“正式党员”）"),
        "unit": Spec(("text",), required=False, default="名"),
        "min": Spec(("int",), required=False, doc="硬下限：低于即不符合"),
        "max": Spec(("int",), required=False, doc="硬上限：高于即不符合"),
        "normal": Spec(("range",), required=False, doc="一般范围：超出按 normal_severity 提示"),
        "normal_severity": Spec(
            ("choice",), required=False, default="warning", choices=("info", "warning", "serious")
        ),
        "when": Spec(
            ("condition",), required=False, doc="适用条件，如 {fact: full_members, op: '>=', value: 7}"
        ),
        "requirement": Spec(
            ("text",), required=False, doc="条件成立时的要求（用于消息，如“应设立支部委员会”）"
        ),
    },
    {
        "<metric>": "被检查的数量",
        "<when.fact>": "适用条件读取的数量",
        "org_kind": "组织类型（用于消息，可省略）",
    },
    _count_facts,
)
def _count_within(f: _Facts, p: dict[str, Any], _today: dt.date, _wd: WorkdayAdder | None) -> Outcome:
    """A count lies within hard bounds (else violated, with the rule's severity) and within the "normal"
    range (else violated with `normal_severity`); a `when` condition decides whether it applies at all."""
    noun = f.subject()
    label, unit = p["label"], p["unit"]
    prefix = ""
    when = p["when"]
    if when is not None:
        cond_value = f.number(when["fact"])
        if cond_value is None:
            return Outcome("unknown", f"缺少{when['label']}数，无法判断")
        if when["value"] is None:
            return Outcome("not_applicable", f"本单位适用的制度未规定{when['label']}的门槛，此项不适用")
        limit = fmt_number(when["value"])
        if not OPERATORS[when["op"]](cond_value, when["value"]):
            if when["fact"] == p["metric"]:
                return Outcome("not_applicable", f"{noun}尚无{label}，此项不适用")
            return Outcome(
                "not_applicable",
                f"{noun}{when['label']} {fmt_number(cond_value)} {unit}，"
                f"未{_OP_WORDS[when['op']]} {limit} {unit}，此项不适用",
            )
        if when["fact"] != p["metric"]:
            prefix = f"{noun}{when['label']} {fmt_number(cond_value)} 名，{_OP_WORDS[when['op']]} {limit} 名"
            prefix += f"，{p['requirement']}；" if p["requirement"] else "；"
            noun = ""
    value = f.number(p["metric"])
    if value is None:
        return Outcome("unknown", f"{prefix}缺少{label}数，无法判断")
    have = f"{noun}现有{label} {fmt_number(value)} {unit}" if value else f"{noun}尚无{label}"
    low, high = p["min"], p["max"]
    if low is not None and value < low:
        return Outcome("violated", prefix + have + (f"，少于 {low} {unit}" if value else ""))
    if high is not None and value > high:
        return Outcome("violated", f"{prefix}{have}，多于 {high} {unit}")
    normal: Range | None = p["normal"]
    bounds = [f"不少于 {low} {unit}"] if low is not None and low > 1 else []
    if normal is not None:
        if normal.min is not None and value < normal.min:
            return Outcome(
                "violated", f"{prefix}{have}，少于一般的 {normal} {unit}", severity=p["normal_severity"]
            )
        if normal.max is not None and value > normal.max:
            if normal.min is None:
                text = f"超过一般上限 {fmt_number(normal.max)} {unit}"
            else:
                text = f"超出一般的 {normal} {unit}"
            return Outcome("violated", f"{prefix}{have}，{text}", severity=p["normal_severity"])
        if normal.min is not None and normal.max is not None:
            bounds.append(f"在一般的 {normal} {unit}之内")
        elif normal.max is not None:
            bounds.append(f"未超过一般上限 {fmt_number(normal.max)} {unit}")
        elif normal.min is not None:
            bounds.append(f"不少于一般下限 {fmt_number(normal.min)} {unit}")
    if high is not None:
        bounds.append(f"不超过 {high} {unit}")
    return Outcome("ok", prefix + have + "".join(f"，{b}" for b in bounds))


@kind(
    "ratio_within",
    "比例范围",
    "比例（如评为优秀的占正式党员）不超过上限、不低于下限。",
    {
        "numerator": Spec(("text",), doc="分子读哪个事实"),
        "denominator": Spec(("text",), doc="分母读哪个事实"),
        "numerator_label": Spec(("text",), doc="分子叫什么（如“评为优秀的”）"),
        "denominator_label": Spec(("text",), doc="分母叫什么（如“正式党员”）"),
        "max": Spec(("fraction",), required=False, doc="上限（strict：须低于）"),
        "min": Spec(("fraction",), required=False, doc="下限（strict：须超过）"),
    },
    {"<numerator>": "分子人数", "<denominator>": "分母人数"},
    lambda p: (p["numerator"], p["denominator"]),
)
def _ratio_within(f: _Facts, p: dict[str, Any], _today: dt.date, _wd: WorkdayAdder | None) -> Outcome:
    """A share (e.g. 优秀 among full members) stays within a ceiling and/or reaches a floor."""
    part, whole = f.count(p["numerator"]), f.count(p["denominator"])
    if part is None or whole is None:
        return Outcome("unknown", f"缺少{p['numerator_label']}或{p['denominator_label']}人数，无法判断")
    if whole <= 0:
        return Outcome("not_applicable", f"{p['denominator_label']}为 0 人，此项不适用")
    percent = fmt_number(round(Decimal(part * 100) / whole, 1))
    share = f"{p['numerator_label']} {part} 人，占{p['denominator_label']} {whole} 人的 {percent}%"
    top: Fraction | None = p["max"]
    if top is not None and not top.within_max(part, whole):
        allowed = top.least(whole) - 1 if top.strict else (whole * top.num) // top.den
        bound = "少于" if top.strict else "不超过"
        return Outcome("violated", f"{share}，应{bound}{top.words}（最多 {allowed} 人）")
    low: Fraction | None = p["min"]
    if low is not None and not low.reached(part, whole):
        bound = "超过" if low.strict else "达到"
        return Outcome("violated", f"{share}，应{bound}{low.words}（至少 {low.least(whole)} 人）")
    return Outcome("ok", f"{share}，符合要求")


@kind(
    "term_expiry",
    "任期届满",
    "任期自选举之日起按年数届满：届满前提醒期内为即将到期，届满后为已逾期，超过最长可延期限为不符合。",
    {
        "years_by_kind": Spec(("int_map",), doc="各类组织的任期年数（org_kind → 年）"),
        "remind_before": Spec(("duration",), doc="届满前多久提示"),
        "shift_max": Spec(("duration",), required=False, doc="经批准最多可延期多久，超过即不符合"),
    },
    {
        "org_kind": "组织类型（按它取任期年数）",
        "term_start": "本届选举日期（None：没有届次记录）",
        "term_years": "本届记录的任期年数（可省略：按制度取）",
    },
)
def _term_expiry(f: _Facts, p: dict[str, Any], today: dt.date, _wd: WorkdayAdder | None) -> Outcome:
    """A committee's term ends `years` after its election: due soon within `remind_before` of the end
    (the end day included), overdue after it, violated once past the longest allowed postponement."""
    org_kind = f.opt("org_kind")
    noun = ORG_NOUNS.get(str(org_kind), "") if org_kind else ""
    start = f.date("term_start")
    if start is None:
        return Outcome("unknown", f"{noun}没有届次记录，无法判断任期")
    years = f.opt("term_years")
    source = "届次记录"
    if years is None:
        years = p["years_by_kind"].get(str(org_kind)) if org_kind else None
        source = "制度规定"
        if years is None:
            return Outcome("not_applicable", f"制度未规定{noun or '此类组织'}的任期")
    end = v.add_months(start, 12 * int(years))
    head = f"{noun}本届于{cn_date(start)}选举产生，任期 {years} 年（{source}）"
    used = {"term_end": end, "term_years": years}
    if today > end:
        late = (today - end).days
        shift: Duration | None = p["shift_max"]
        if shift is not None and today > shift.shift(end):
            return Outcome(
                "violated",
                f"{head}，已于{cn_date(end)}届满，逾期 {late} 天仍未换届，超过最长可延期的 {shift}",
                due=end,
                facts_used=used,
            )
        tail = f"；延期换届须经上级党组织批准，最长 {shift}" if shift else ""
        return Outcome(
            "overdue", f"{head}，已于{cn_date(end)}届满，逾期 {late} 天未换届{tail}", due=end, facts_used=used
        )
    remind: Duration = p["remind_before"]
    days_left = (end - today).days
    if today >= remind.shift(end, -1):
        when = "今天届满" if not days_left else f"将于{cn_date(end)}届满，还剩 {days_left} 天"
        return Outcome("due_soon", f"{head}，{when}，应做好换届准备", due=end, facts_used=used)
    return Outcome("ok", f"{head}，至{cn_date(end)}届满", due=end, facts_used=used)


@kind(
    "post_held",
    "职务在任",
    "某职务（如书记）有人在任。",
    {
        "role": Spec(("text",), doc="职务代码（如 secretary）"),
        "role_label": Spec(("text",), doc="职务名称（如“书记”）"),
    },
    {"holders": "现任该职务者姓名列表（None：尚无任职数据）", "org_kind": "组织类型（用于消息，可省略）"},
)
def _post_held(f: _Facts, p: dict[str, Any], _today: dt.date, _wd: WorkdayAdder | None) -> Outcome:
    """A post (the secretary …) is currently held by someone."""
    noun = f.subject()
    holders = f.get("holders")
    if holders is None:
        return Outcome("unknown", f"尚无{noun}任职数据，无法判断")
    if not holders:
        return Outcome("violated", f"{noun}{p['role_label']}空缺")
    return Outcome("ok", f"{noun}{p['role_label']}：{'、'.join(str(h) for h in holders)}")


# Development cases: intervals, periodic reviews, the people named for a case, a date drawing near -----


def _months_in(start: dt.date, end: dt.date) -> int:
    """Whole months from `start` to `end` (the largest m with start + m months <= end; 0 if none)."""
    m = max((end.year - start.year) * 12 + end.month - start.month, 0)
    while m > 0 and v.add_months(start, m) > end:
        m -= 1
    return m


def _span(start: dt.date, end: dt.date, unit: str, wd: WorkdayAdder | None) -> tuple[int, str]:
    """How long the span from `start` (excluded) to `end` (included) is, in `unit` (years count as
    months), and how a message says it."""
    if unit in ("years", "months"):
        months = _months_in(start, end)
        rest = (end - v.add_months(start, months)).days
        years, left = divmod(months, 12) if unit == "years" else (0, months)
        text = " ".join(t for t in (f"{years} 年" if years else "", f"{left} 个月" if left else "") if t)
        if rest or not months:
            text += f"{' ' if text else ''}{rest} 天"
        return months, text
    if unit == "days":
        days = (end - start).days
        return days, f"{days} 天"
    add = wd or v.weekday_add
    n, day = 0, start
    while n <= 1000:
        nxt = add(day, 1)
        if nxt > end:
            break
        n, day = n + 1, nxt
    return n, f"{n} 个工作日"


def _spans(raw: Any, key: str) -> list[Mapping[str, Any]]:
    if isinstance(raw, Mapping):
        return [raw]
    if isinstance(raw, list | tuple) and all(isinstance(x, Mapping) for x in raw):
        return list(raw)
    raise ValueError(f"{key} 应为 {{from, to}} 或其列表，实际为 {raw!r}")


@kind(
    "interval_within",
    "间隔/期限长短",
    "两个日期之间（如确定为入党积极分子至确定为发展对象、公示的起止、延长预备期）须不短于下限（min）、"
    "不长于上限（max）；以工作日计的按工作日历重新核算，并与记录的天数核对。尚未结束的不适用。",
    {
        "fact": Spec(("text",), doc="读哪个事实：{from, to, recorded, label} 或其列表"),
        "what": Spec(("text",), doc="这段时间叫什么（如“培养教育考察期”）"),
        "min": Spec(("duration",), required=False, doc="最短：短于即不符合"),
        "max": Spec(("duration",), required=False, doc="最长：长于即不符合"),
        "inclusive": Spec(
            ("bool",), required=False, default=False, doc="起始日本身算第一天（如公示期），否则从次日算起"
        ),
        "from_event": Spec(
            ("text",), required=False, doc="起始日是什么事（用于消息，如“确定为入党积极分子”）"
        ),
        "to_event": Spec(("text",), required=False, doc="结束日是什么事（用于消息，如“确定为发展对象”）"),
    },
    {
        "<fact>": "from（起始日，None：尚未开始）、to（结束日，None：尚未结束）、"
        "recorded（记录的长度，按 min 的单位，可省略）、label（消息中代替起止日期的说明，可省略）；可为列表",
        "person": "姓名（用于消息，可省略）",
    },
    lambda p: (p["fact"],),
)
def _interval_within(f: _Facts, p: dict[str, Any], _today: dt.date, wd: WorkdayAdder | None) -> Outcome:
    """The span between two dates lasts at least `min` and at most `max` (the end day included; the start
    day too when `inclusive`); working days are counted with the calendar, and a recorded length below
    `min` is a fault even when the dates would pass. Spans not begun or not ended are not judged."""
    raw = f.get(p["fact"])
    what = p["what"]
    if raw is None:
        return Outcome("not_applicable", f"没有{what}的记录")
    low: Duration | None = p["min"]
    high: Duration | None = p["max"]
    bound = low or high
    unit = bound.unit if bound is not None else "days"
    used: dict[str, Any] = {}
    if unit == "workdays" and wd is None:
        used["estimated"] = True
    items = _spans(raw, p["fact"])
    if not items:
        return Outcome("not_applicable", f"没有{what}的记录")
    faults: list[str] = []
    fine: list[str] = []
    judged = 0
    for item in items:
        start = None if item.get("from") is None else _as_date(item["from"], "from")
        end = None if item.get("to") is None else _as_date(item["to"], "to")
        if start is None or end is None:
            continue
        judged += 1
        base = start - dt.timedelta(days=1) if p["inclusive"] else start
        n, length = _span(base, end, unit, wd)
        if item.get("label"):
            head = f"{item['label']}{what} {length}"
        else:
            since = f"{cn_date(start)}{p['from_event'] or ''}"
            head = f"{what}自{since}至{cn_date(end)}{p['to_event'] or ''}，共 {length}"
        problems: list[str] = []
        if low is not None and end < low.shift(base, add_workdays=wd):
            problems.append(f"{'未满' if unit in ('years', 'months') else '少于'} {low}")
        if high is not None and end > high.shift(base, add_workdays=wd):
            problems.append(f"超过 {high}")
        recorded = item.get("recorded")
        if recorded is not None and low is not None:
            if isinstance(recorded, bool) or not isinstance(recorded, int):
                raise ValueError(f"recorded 应为整数，实际为 {recorded!r}")
            unit_word = v.DURATION_UNITS[low.unit]
            if recorded < low.n and (recorded != n or unit != low.unit):
                problems.append(f"记录为 {recorded} {unit_word}，少于 {low}")
            elif recorded != n and unit == low.unit:
                note = f"记录为 {recorded} {unit_word}，按日历核算为 {length}"
                if problems:
                    problems.append(note)
                else:
                    head += f"（{note}）"
        if problems:
            faults.append(f"{head}，{'；'.join(problems)}")
        else:
            bounds = [f"不少于 {low}"] if low is not None else []
            bounds += [f"不超过 {high}"] if high is not None else []
            fine.append(f"{head}，{'、'.join(bounds)}" if bounds else head)
    if faults:
        return Outcome("violated", "；".join(faults), facts_used=used)
    if not judged:
        return Outcome("not_applicable", f"{what}尚未结束，此项暂不检查", facts_used=used)
    return Outcome("ok", "；".join(fine), facts_used=used)


@kind(
    "periodic",
    "定期考察",
    "自某事起（如确定为入党积极分子）按频次定期做某事，直到另一事（如确定为发展对象）或期满为止："
    "第 j 次应在起始日后 j 个周期内完成；逾期完成或期间结束仍未完成为不符合，"
    "未完成而过了到期日为已逾期，临近到期日为即将到期。",
    {
        "period": Spec(("frequency",), doc="频次（如每 6 个月 1 次；按起始日起算，不能用学期）"),
        "event": Spec(("text",), doc="做什么（如“考察”）"),
        "after": Spec(("text",), doc="起始事件（如“确定为入党积极分子”）"),
        "until": Spec(("text",), doc="结束事件（如“确定为发展对象”）"),
        "start_fact": Spec(("text",), doc="起始日期读哪个事实"),
        "end_fact": Spec(("text",), doc="结束日期读哪个事实（None：尚未结束）"),
        "events_fact": Spec(("text",), doc="已做的日期列表读哪个事实"),
        "due_soon_within": Spec(("duration",), required=False, default={"days": 30}),
    },
    {
        "<start_fact>": "起始日期（None：尚未开始，不适用）",
        "<end_fact>": "结束日期（None：尚未结束；可在今天之后，如预备期满日）",
        "<events_fact>": "已做的日期列表（None：尚无记录，无法判断）",
    },
    lambda p: (p["start_fact"], p["end_fact"], p["events_fact"]),
)
def _periodic(f: _Facts, p: dict[str, Any], today: dt.date, _wd: WorkdayAdder | None) -> Outcome:
    """From a start date until an end date (or on), the j-th event is due j periods after the start (with
    n a period: j·months/n months); one owed only when its due date falls before the end. Done after its
    due date, or missed in a window that has closed → violated; missed and past due → overdue; the next
    one near (due_soon_within, inclusive) → due soon."""
    start = f.date(p["start_fact"])
    end = f.date(p["end_fact"])
    raw_events = f.get(p["events_fact"])
    freq: Frequency = p["period"]
    event = p["event"]
    if start is None:
        return Outcome("not_applicable", f"尚未{p['after']}")
    if freq.months is None:
        return Outcome("unknown", f"{freq}不能按起始日推算到期日，无法判断")
    if raw_events is None:
        return Outcome("unknown", f"尚无{event}的记录，无法判断")
    closed = end is not None and end <= today
    done = sorted(d for d in (_as_date(x, p["events_fact"]) for x in raw_events) if d >= start)
    if end is not None:
        done = [d for d in done if d <= end]
    head = f"自{p['after']}（{cn_date(start)}）起应{freq}{event}"
    late: list[str] = []
    overdue: list[tuple[str, dt.date]] = []
    upcoming: tuple[int, dt.date] | None = None
    j = 0
    while j < 1000:
        j += 1
        due = v.add_months(start, j * freq.months // freq.count)
        if end is not None and due >= end:
            break
        if j <= len(done):
            if done[j - 1] > due:
                late.append(
                    f"第 {j} 次应于{cn_date(due)}前{event}，实际{cn_date(done[j - 1])}，"
                    f"晚了 {(done[j - 1] - due).days} 天"
                )
            continue
        if due >= today:
            upcoming = (j, due)
            break
        if end is not None and closed:
            late.append(f"第 {j} 次应于{cn_date(due)}前{event}，至{p['until']}（{cn_date(end)}）仍未{event}")
        else:
            overdue.append((f"第 {j} 次应于{cn_date(due)}前{event}，已逾期 {(today - due).days} 天", due))
    used = {"count": len(done)}
    tally = f"已{event} {len(done)} 次"
    if late or overdue:
        state = "violated" if late else "overdue"
        parts = late + [t for t, _ in overdue]
        due_day = overdue[0][1] if overdue else None
        return Outcome(state, f"{head}，{tally}：{'；'.join(parts)}", due=due_day, facts_used=used)
    if upcoming is not None:
        n, due = upcoming
        window: Duration = p["due_soon_within"]
        left = (due - today).days
        text = f"{head}，{tally}，第 {n} 次应于{cn_date(due)}前{event}" + (
            f"，还剩 {left} 天" if left else "，今天到期"
        )
        state = "due_soon" if today >= window.shift(due, -1) else "ok"
        return Outcome(state, text, due=due, facts_used=used)
    if end is not None and closed:
        return Outcome("ok", f"{head}，至{p['until']}（{cn_date(end)}）{tally}，均按期", facts_used=used)
    return Outcome("ok", f"{head}，{tally}，{p['until']}前不再需要{event}", facts_used=used)


@kind(
    "holders_eligible",
    "人选与资格",
    "为某人确定的人选（如培养联系人、入党介绍人）人数在规定范围内，且每人现在的身份符合要求（如正式党员）。",
    {
        "fact": Spec(("text",), doc="读哪个事实：现任人选列表"),
        "role_label": Spec(("text",), doc="人选叫什么（如“培养联系人”）"),
        "count": Spec(("range", "int"), doc="应有几人：范围（如 1—2）或确切人数"),
        "statuses": Spec(("list",), doc="合格的身份代码（如 [full_member]）"),
        "status_label": Spec(("text",), doc="合格身份的名称（如“正式党员”）"),
    },
    {
        "<fact>": "现任人选列表，每人 {name, status, status_label}（None：尚未确定人选，不适用）",
        "person": "被培养、被介绍的人（用于消息，可省略）",
    },
    lambda p: (p["fact"],),
)
def _holders_eligible(f: _Facts, p: dict[str, Any], _today: dt.date, _wd: WorkdayAdder | None) -> Outcome:
    """The people named for a role (mentors, sponsors) are as many as required (a range, or an exact
    number) and each holds an eligible status now; a suspended or probationary sponsor is not eligible."""
    holders = f.get(p["fact"])
    label = p["role_label"]
    person = f.subject()
    who = f"{person}的" if person else ""
    if holders is None:
        return Outcome("not_applicable", f"尚未确定{who}{label}")
    count = p["count"]
    low, high = (count.min, count.max) if isinstance(count, Range) else (count, count)
    names = [str(h.get("name") or "（无姓名）") for h in holders]
    have = f"{who}{label}：{'、'.join(names)}（{len(names)} 名）" if names else f"{person}尚无{label}"
    need = (
        f"{fmt_number(low)} 名"
        if low == high and low is not None
        else f"{Range(low, high)} 名"
        if low is not None or high is not None
        else ""
    )
    problems: list[str] = []
    if low is not None and len(names) < low:
        problems.append(f"应有 {need}")
    if high is not None and len(names) > high:
        problems.append(f"多于 {need}")
    allowed = set(p["statuses"])
    for h, name in zip(holders, names, strict=True):
        status = h.get("status")
        if status not in allowed:
            shown = h.get("status_label") or status or "身份不明"
            problems.append(f"{name}现为{shown}，不是{p['status_label']}，不能担任{label}")
    if problems:
        return Outcome("violated", f"{have}；{'；'.join(problems)}")
    return Outcome("ok", f"{have}，均为{p['status_label']}" + (f"，人数符合 {need}" if need else ""))


@kind(
    "approaching",
    "临近提示",
    "某个日期（如预备期满）临近时提前提示：提示期内（含当天）为即将到期，之前为正常；日期已过则此项不再提示。",
    {
        "date_fact": Spec(("text",), doc="读哪个日期事实"),
        "what": Spec(("text",), doc="这个日期是什么（如“预备期满”）"),
        "before": Spec(("duration",), doc="提前多久提示"),
        "action": Spec(("text",), doc="临近时应做什么（如“做好讨论转正的准备”）"),
    },
    {"<date_fact>": "日期（None：尚无此日期，不适用）", "person": "姓名（用于消息，可省略）"},
    lambda p: (p["date_fact"],),
)
def _approaching(f: _Facts, p: dict[str, Any], today: dt.date, _wd: WorkdayAdder | None) -> Outcome:
    """A date (the end of a probation …) draws near: due soon within `before` of it (the day itself
    included), ok before that; once it has passed, other rules judge what follows."""
    day = f.date(p["date_fact"])
    what = p["what"]
    who = f.subject()
    if day is None:
        return Outcome("not_applicable", f"{who}尚无{what}日期")
    if today > day:
        return Outcome("not_applicable", f"{who}已于{cn_date(day)}{what}（此项只在{what}前提示）", due=day)
    before: Duration = p["before"]
    left = (day - today).days
    when = f"今天{what}" if not left else f"将于{cn_date(day)}{what}，还剩 {left} 天"
    if today >= before.shift(day, -1):
        return Outcome("due_soon", f"{who}{when}，{p['action']}", due=day)
    return Outcome("ok", f"{who}将于{cn_date(day)}{what}", due=day)


# Applying a rule ---------------------------------------------------------------------------------------


class AppliesToLike(Protocol):
    @property
    def org_kinds(self) -> tuple[str, ...]: ...
    @property
    def statuses(self) -> tuple[str, ...]: ...


class RuleLike(Protocol):
    """What check_rule needs of a rule (packs.ResolvedRule is one)."""

    @property
    def kind(self) -> str: ...
    @property
    def params(self) -> dict[str, Any]: ...
    @property
    def severity(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def applies_to(self) -> AppliesToLike: ...
    @property
    def unset(self) -> tuple[str, ...]: ...
    @property
    def error(self) -> str: ...


def check_rule(
    rule: RuleLike,
    facts: Mapping[str, Any],
    today: dt.date,
    *,
    add_workdays: WorkdayAdder | None = None,
) -> Outcome:
    """Evaluate a resolved rule for one subject: applies_to first (by the facts `org_kind` and `status`
    when given), then the kind; the outcome's severity is filled in (the kind's, else the rule's)."""
    if not rule.enabled:
        return Outcome("not_applicable", "本单位适用的制度已停用此规则", severity=rule.severity)
    org_kind, status = facts.get("org_kind"), facts.get("status")
    applies = rule.applies_to
    if applies.org_kinds and org_kind is not None and org_kind not in applies.org_kinds:
        return Outcome(
            "not_applicable",
            f"此规则不适用于{ORG_NOUNS.get(str(org_kind), str(org_kind))}",
            severity=rule.severity,
        )
    if applies.statuses and status is not None and status not in applies.statuses:
        return Outcome("not_applicable", "此规则不适用于该人员的身份", severity=rule.severity)
    if rule.error:
        return Outcome("unknown", f"规则参数无效：{rule.error}", severity=rule.severity)
    if rule.unset:
        return Outcome(
            "not_applicable",
            f"本单位适用的制度未规定 {'、'.join(rule.unset)}，此规则暂不适用",
            severity=rule.severity,
        )
    return KINDS[rule.kind].evaluate(
        rule.params, facts, today=today, add_workdays=add_workdays, severity=rule.severity
    )
