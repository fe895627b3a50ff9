"""Typed parameter values of policy packs: parsing (with Chinese faults), display and plain (JSON) form.

Every value a pack, an overlay or a school's override sets goes through `parse(type, raw)`; the same
function checks YAML files at load time and form input on the policy page, so both refuse the same
things with the same words. Parsed values are immutable objects (`Duration`, `Frequency`, `Fraction` …)
that the check kinds compute with; `to_plain` turns them back into YAML/JSON-able data.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

# The parameter types a pack may declare (see docs/rules.md, "参数类型").
TYPES: dict[str, str] = {
    "int": "整数",
    "decimal": "数值",
    "bool": "是/否",
    "text": "文字",
    "duration": "期限",
    "frequency": "频次",
    "fraction": "比例",
    "range": "范围",
    "day_of_month": "每月几日",
    "month_day": "月-日",
    "tiers": "分档费率",
    "list": "列表",
}

DURATION_UNITS: dict[str, str] = {"years": "年", "months": "个月", "days": "天", "workdays": "个工作日"}
PERIODS: dict[str, str] = {"month": "月", "quarter": "季度", "semester": "学期", "year": "年"}
_CN_DIGITS = "零一二三四五六七八九十"


class ValueFault(ValueError):
    """A value that does not fit its type; `where` is the sub-key inside the value (e.g. "per")."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.where = where


# Typed values ------------------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (or earlier); the 31st becomes the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def weekday_add(day: dt.date, n: int) -> dt.date:
    """Monday-to-Friday arithmetic: the fallback when no official calendar is supplied (an estimate)."""
    step = 1 if n >= 0 else -1
    left = abs(n)
    while left:
        day += dt.timedelta(days=step)
        if day.weekday() < 5:
            left -= 1
    return day


WorkdayAdder = Callable[[dt.date, int], dt.date]


@dataclass(frozen=True)
class Duration:
    n: int
    unit: str  # one of DURATION_UNITS

    def shift(self, day: dt.date, sign: int = 1, *, add_workdays: WorkdayAdder | None = None) -> dt.date:
        """`day` moved forward (sign=1) or back (sign=-1) by this duration."""
        n = self.n * sign
        if self.unit == "years":
            return add_months(day, 12 * n)
        if self.unit == "months":
            return add_months(day, n)
        if self.unit == "days":
            return day + dt.timedelta(days=n)
        return (add_workdays or weekday_add)(day, n)

    @property
    def is_workdays(self) -> bool:
        return self.unit == "workdays"

    def __str__(self) -> str:
        return f"{self.n} {DURATION_UNITS[self.unit]}"


@dataclass(frozen=True)
class Frequency:
    count: int
    per: str  # one of PERIODS
    every: int = 1  # with per=month: one period spans `every` months (every 2 months …)

    @property
    def months(self) -> int | None:
        """Length of one period in months (None for a semester, whose dates come from the school year)."""
        return {"month": self.every, "quarter": 3, "year": 12}.get(self.per)

    def __str__(self) -> str:
        if self.per == "month" and self.every > 1:
            return f"每 {self.every} 个月 {self.count} 次"
        return f"每{PERIODS[self.per]} {self.count} 次"


def cn_number(n: int) -> str:
    if 0 <= n <= 10:
        return _CN_DIGITS[n]
    return str(n)


@dataclass(frozen=True)
class Fraction:
    num: int
    den: int
    strict: bool = False  # True: "超过" — the fraction itself is not enough

    def reached(self, part: int | Decimal, whole: int | Decimal) -> bool:
        """Whether `part` of `whole` reaches this fraction (strictly more when `strict`)."""
        left, right = part * self.den, whole * self.num
        return left > right if self.strict else left >= right

    def within_max(self, part: int | Decimal, whole: int | Decimal) -> bool:
        """Whether `part` stays within this fraction used as a ceiling (below it when `strict`)."""
        left, right = part * self.den, whole * self.num
        return left < right if self.strict else left <= right

    def at_boundary(self, part: int | Decimal, whole: int | Decimal) -> bool:
        return part * self.den == whole * self.num

    def least(self, whole: int) -> int:
        """The smallest whole count that reaches this fraction of `whole`."""
        q, r = divmod(whole * self.num, self.den)
        if self.strict:
            return q + 1
        return q + (1 if r else 0)

    @property
    def words(self) -> str:
        """Chinese name of the fraction: 半数, 三分之二, 五分之四 …"""
        if (self.num, self.den) == (1, 2):
            return "半数"
        return f"{cn_number(self.den)}分之{cn_number(self.num)}"

    def __str__(self) -> str:
        if self.strict:
            return f"超过 {self.num}/{self.den}（不含本数）"
        return f"{self.num}/{self.den}（含本数）"


@dataclass(frozen=True)
class Range:
    min: int | Decimal | None
    max: int | Decimal | None

    def __str__(self) -> str:
        if self.min is not None and self.max is not None:
            return f"{fmt_number(self.min)}—{fmt_number(self.max)}"
        if self.min is not None:
            return f"不少于 {fmt_number(self.min)}"
        if self.max is not None:
            return f"不超过 {fmt_number(self.max)}"
        return "不限"


@dataclass(frozen=True)
class MonthDay:
    month: int
    day: int

    def in_year(self, year: int) -> dt.date:
        last = calendar.monthrange(year, self.month)[1]
        return dt.date(year, self.month, min(self.day, last))

    def __str__(self) -> str:
        return f"{self.month:02d}-{self.day:02d}"


@dataclass(frozen=True)
class Tier:
    up_to: Decimal | None  # inclusive upper bound of the base; None for "above the last bound"
    rate: Decimal  # a fraction: 0.005 for 0.5 %


def fmt_number(value: int | Decimal | float) -> str:
    """20 → "20", Decimal("20.50") → "20.5", Decimal("1E+3") → "1000"."""
    if isinstance(value, int):
        return str(value)
    d = Decimal(str(value)).normalize()
    text = format(d, "f")
    return text


def fmt_percent(rate: Decimal) -> str:
    return fmt_number(rate * 100) + "%"


# Parsing -----------------------------------------------------------------------------------------------


def describe(raw: Any) -> str:
    if raw is None:
        return "空值"
    text = repr(raw) if not isinstance(raw, str) else f"“{raw}”"
    return text if len(text) <= 60 else text[:57] + "…"


def _int(raw: Any, *, where: str = "", minimum: int | None = None) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        if isinstance(raw, str) and re.fullmatch(r"[+-]?\d+", raw.strip()):
            raw = int(raw.strip())
        else:
            raise ValueFault(f"应为整数，实际为 {describe(raw)}", where)
    if minimum is not None and raw < minimum:
        raise ValueFault(f"应不小于 {minimum}，实际为 {raw}", where)
    return raw


def _decimal(raw: Any, *, where: str = "") -> Decimal:
    if isinstance(raw, bool):
        raise ValueFault(f"应为数值，实际为 {describe(raw)}", where)
    if isinstance(raw, Decimal):
        return raw
    if isinstance(raw, int | float | str):
        try:
            d = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValueFault(f"应为数值，实际为 {describe(raw)}", where) from None
        if d.is_finite():
            return d
    raise ValueFault(f"应为数值，实际为 {describe(raw)}", where)


def _number(raw: Any, *, where: str = "") -> int | Decimal:
    """An int when the value is a whole number written as one ("3" or 3), else a Decimal."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"[+-]?\d+", raw.strip()):
        return int(raw.strip())
    return _decimal(raw, where=where)


def mapping(raw: Any, allowed: Sequence[str], *, what: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise ValueFault(f"{what}应写成键值对（{'、'.join(allowed)}），实际为 {describe(raw)}")
    unknown = [str(k) for k in raw if k not in allowed]
    if unknown:
        raise ValueFault(f"{what}不认识的键：{'、'.join(unknown)}（可用：{'、'.join(allowed)}）", unknown[0])
    return raw


def parse_duration(raw: Any) -> Duration:
    if isinstance(raw, Duration):
        return raw
    m = mapping(raw, tuple(DURATION_UNITS), what="期限")
    if len(m) != 1:
        raise ValueFault("期限应只写一个单位（years、months、days 或 workdays），例如 {months: 6}")
    unit, n = next(iter(m.items()))
    return Duration(_int(n, where=unit, minimum=0), unit)


def parse_frequency(raw: Any) -> Frequency:
    if isinstance(raw, Frequency):
        return raw
    m = mapping(raw, ("count", "per", "every"), what="频次")
    if "count" not in m or "per" not in m:
        raise ValueFault("频次应写成 {count: 次数, per: month|quarter|semester|year}，可加 every")
    count = _int(m["count"], where="count", minimum=1)
    per = m["per"]
    if per not in PERIODS:
        raise ValueFault(f"周期应为 month、quarter、semester 或 year，实际为 {describe(per)}", "per")
    every = _int(m.get("every", 1), where="every", minimum=1)
    if every != 1 and per != "month":
        raise ValueFault("every 只能与 per: month 一起使用（如每 2 个月）", "every")
    if per == "month" and 12 % every:
        raise ValueFault(f"every 应能整除 12（1、2、3、4、6、12），实际为 {every}", "every")
    return Frequency(count, per, every)


_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_fraction(raw: Any) -> Fraction:
    if isinstance(raw, Fraction):
        return raw
    strict = False
    if isinstance(raw, Mapping):
        m = mapping(raw, ("ratio", "strict"), what="比例")
        if "ratio" not in m:
            raise ValueFault("比例应写成 “1/2” 或 {ratio: “1/2”, strict: true}")
        strict = m.get("strict", False)
        if not isinstance(strict, bool):
            raise ValueFault(f"strict 应为 true 或 false，实际为 {describe(strict)}", "strict")
        raw = m["ratio"]
    match = _FRACTION.match(raw) if isinstance(raw, str) else None
    if not match:
        raise ValueFault(f"比例应写成 “分子/分母”（如 “1/2”），实际为 {describe(raw)}", "ratio")
    num, den = int(match.group(1)), int(match.group(2))
    if den == 0 or num > den:
        raise ValueFault(f"比例应在 0 与 1 之间且分母不为 0，实际为 {num}/{den}", "ratio")
    return Fraction(num, den, strict)


def parse_range(raw: Any) -> Range:
    if isinstance(raw, Range):
        return raw
    m = mapping(raw, ("min", "max"), what="范围")
    if "min" not in m and "max" not in m:
        raise ValueFault("范围应写成 {min: 下限, max: 上限}（可只写一端）")
    low = None if m.get("min") is None else _number(m["min"], where="min")
    high = None if m.get("max") is None else _number(m["max"], where="max")
    if low is not None and high is not None and low > high:
        raise ValueFault(f"下限 {fmt_number(low)} 大于上限 {fmt_number(high)}", "min")
    return Range(low, high)


def parse_month_day(raw: Any) -> MonthDay:
    if isinstance(raw, MonthDay):
        return raw
    match = re.fullmatch(r"(\d{1,2})-(\d{1,2})", raw.strip()) if isinstance(raw, str) else None
    if not match:
        raise ValueFault(f"应写成 “月-日”（如 “09-01”），实际为 {describe(raw)}")
    month, day = int(match.group(1)), int(match.group(2))
    try:
        dt.date(2000, month, day)  # a leap year, so 02-29 is allowed
    except ValueError:
        raise ValueFault(f"不是有效的日期：{raw}") from None
    return MonthDay(month, day)


def _rate(raw: Any, where: str) -> Decimal:
    if isinstance(raw, str) and raw.strip().endswith("%"):
        return _decimal(raw.strip()[:-1], where=where) / 100
    return _decimal(raw, where=where)


def parse_tiers(raw: Any) -> tuple[Tier, ...]:
    if isinstance(raw, tuple) and all(isinstance(t, Tier) for t in raw):
        return raw
    if not isinstance(raw, list) or not raw:
        raise ValueFault("分档费率应为列表，每档写成 {up_to: 上限, rate: “0.5%”}，最后一档 up_to 为空")
    tiers: list[Tier] = []
    for i, item in enumerate(raw):
        m = mapping(item, ("up_to", "rate"), what=f"第 {i + 1} 档")
        if "rate" not in m:
            raise ValueFault(f"第 {i + 1} 档缺少 rate", f"{i}.rate")
        up_to = None if m.get("up_to") is None else _decimal(m["up_to"], where=f"{i}.up_to")
        rate = _rate(m["rate"], f"{i}.rate")
        if not Decimal(0) <= rate <= Decimal(1):
            raise ValueFault(f"第 {i + 1} 档费率应在 0 与 100% 之间", f"{i}.rate")
        if up_to is None and i != len(raw) - 1:
            raise ValueFault(f"只有最后一档可以不写上限（第 {i + 1} 档）", f"{i}.up_to")
        if tiers and up_to is not None and tiers[-1].up_to is not None and up_to <= tiers[-1].up_to:
            raise ValueFault(f"第 {i + 1} 档上限应大于上一档", f"{i}.up_to")
        tiers.append(Tier(up_to, rate))
    if tiers[-1].up_to is not None:
        raise ValueFault("最后一档应不写上限（up_to 为空），以覆盖更高的基数", f"{len(raw) - 1}.up_to")
    return tuple(tiers)


def parse_list(raw: Any) -> tuple[Any, ...]:
    if isinstance(raw, tuple):
        raw = list(raw)
    if not isinstance(raw, list):
        raise ValueFault(f"应为列表，实际为 {describe(raw)}")
    out: list[Any] = []
    for i, item in enumerate(raw):
        if isinstance(item, bool) or not isinstance(item, str | int | Decimal):
            raise ValueFault(f"列表项应为文字或数字，第 {i + 1} 项为 {describe(item)}", str(i))
        out.append(item.strip() if isinstance(item, str) else item)
    return tuple(out)


def parse(
    type_: str,
    raw: Any,
    *,
    choices: Sequence[str] | None = None,
    bounds: Range | None = None,
) -> Any:
    """The typed value of `raw` for a parameter type, or ValueFault; None is returned as None."""
    if raw is None:
        return None
    if type_ == "int":
        value: Any = _int(raw)
    elif type_ == "decimal":
        value = _decimal(raw)
    elif type_ == "bool":
        if not isinstance(raw, bool):
            raise ValueFault(f"应为 true 或 false，实际为 {describe(raw)}")
        value = raw
    elif type_ == "text":
        if not isinstance(raw, str) or not raw.strip():
            raise ValueFault(f"应为非空文字，实际为 {describe(raw)}")
        value = raw.strip()
        if choices and value not in choices:
            raise ValueFault(f"应为以下之一：{'、'.join(choices)}，实际为 {describe(raw)}")
    elif type_ == "duration":
        value = parse_duration(raw)
    elif type_ == "frequency":
        value = parse_frequency(raw)
    elif type_ == "fraction":
        value = parse_fraction(raw)
    elif type_ == "range":
        value = parse_range(raw)
    elif type_ == "day_of_month":
        value = _int(raw)
        if not 1 <= value <= 31:
            raise ValueFault(f"应为 1 至 31 之间的日期，实际为 {value}")
    elif type_ == "month_day":
        value = parse_month_day(raw)
    elif type_ == "tiers":
        value = parse_tiers(raw)
    elif type_ == "list":
        value = parse_list(raw)
    else:
        raise ValueFault(f"未知的参数类型 {describe(type_)}（可用：{'、'.join(TYPES)}）")
    if bounds is not None and type_ in ("int", "decimal"):
        if bounds.min is not None and value < bounds.min:
            raise ValueFault(f"应不小于 {fmt_number(bounds.min)}，实际为 {fmt_number(value)}")
        if bounds.max is not None and value > bounds.max:
            raise ValueFault(f"应不大于 {fmt_number(bounds.max)}，实际为 {fmt_number(value)}")
    return value


def type_of(value: Any) -> str | None:
    """The parameter type a parsed value belongs to (for checking references against a schema)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, Decimal):
        return "decimal"
    for cls, name in (
        (Duration, "duration"),
        (Frequency, "frequency"),
        (Fraction, "fraction"),
        (Range, "range"),
        (MonthDay, "month_day"),
    ):
        if isinstance(value, cls):
            return name
    if isinstance(value, str):
        return "text"
    if isinstance(value, tuple):
        return "tiers" if value and isinstance(value[0], Tier) else "list"
    return None


# Plain form and display ----------------------------------------------------------------------------------


def to_plain(value: Any) -> Any:
    """The YAML/JSON form of a typed value (decimals as strings, so no precision is lost)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return fmt_number(value)
    if isinstance(value, Duration):
        return {value.unit: value.n}
    if isinstance(value, Frequency):
        out: dict[str, Any] = {"count": value.count, "per": value.per}
        if value.every != 1:
            out["every"] = value.every
        return out
    if isinstance(value, Fraction):
        ratio = f"{value.num}/{value.den}"
        return {"ratio": ratio, "strict": True} if value.strict else ratio
    if isinstance(value, Range):
        return {"min": to_plain(value.min), "max": to_plain(value.max)}
    if isinstance(value, MonthDay):
        return str(value)
    if isinstance(value, Tier):
        return {"up_to": to_plain(value.up_to), "rate": fmt_percent(value.rate)}
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def display(value: Any, unit: str = "") -> str:
    """A value as a reader sees it in the catalogue and on the policy page."""
    if value is None:
        return "未规定"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | Decimal):
        return f"{fmt_number(value)} {unit}".strip()
    if isinstance(value, Range):
        return f"{value} {unit}".strip()
    if isinstance(value, tuple) and value and isinstance(value[0], Tier):
        parts = []
        low: Decimal | None = None
        for tier in value:
            if tier.up_to is None:
                span = f"{fmt_number(low)} 以上" if low is not None else "全部"
            elif low is None:
                span = f"≤{fmt_number(tier.up_to)}"
            else:
                span = f"{fmt_number(low)}–{fmt_number(tier.up_to)}"
            parts.append(f"{span}：{fmt_percent(tier.rate)}")
            low = tier.up_to
        return "；".join(parts)
    if isinstance(value, tuple):
        return "、".join(fmt_number(v) if isinstance(v, int | Decimal) else str(v) for v in value) or "（空）"
    if isinstance(value, Mapping):
        return "；".join(f"{k}：{display(v)}" for k, v in value.items())
    return str(value)
