"""Resident ID numbers (GB 11643-1999): 18 characters, the last a MOD 11-2 check character."""

from __future__ import annotations

import datetime as dt
import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def normalise(value: str) -> str:
    return value.strip().upper().replace(" ", "")


def check_character(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def validate(value: str) -> str | None:
    """None when the number is valid, else a Chinese reason."""
    value = normalise(value)
    if not _SHAPE.match(value):
        return "身份证号应为18位（前17位数字，末位为数字或X）"
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return f"身份证号中的出生日期 {value[6:14]} 不存在"
    if check_character(value[:17]) != value[17]:
        return f"身份证号校验位错误（按 GB 11643 应为 {check_character(value[:17])}）"
    return None


def birth_date(value: str) -> dt.date:
    value = normalise(value)
    return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def gender(value: str) -> str:
    """'male' or 'female' from the 17th digit."""
    return "male" if int(normalise(value)[16]) % 2 else "female"
