import datetime as dt

import pytest

from tests.factories import valid_id_number
from zhibu.core import idcard
from zhibu.core.crypto import decrypt, digest, encrypt, mask_id_number, mask_phone
from zhibu.people.pinyin import full_pinyin, initials


def test_accepts_a_known_valid_id_number():
    # The GB 11643 worked example.
    assert idcard.validate("11010519491231002X") is None


def test_refuses_a_wrong_check_character_and_names_the_right_one():
    problem = idcard.validate("110105194912310021")
    assert problem is not None and "校验位" in problem and "X" in problem


@pytest.mark.parametrize(
    "value, fragment",
    [("1101051949123100", "18位"), ("11010519491331002X", "出生日期"), ("ABCDEFGHIJKLMNOPQR", "18位")],
)
def test_refuses_malformed_numbers(value, fragment):
    assert fragment in (idcard.validate(value) or "")


def test_reads_birth_date_and_gender():
    number = valid_id_number(dt.date(1990, 2, 28), serial=7, male=False)
    assert idcard.birth_date(number) == dt.date(1990, 2, 28)
    assert idcard.gender(number) == "female"


def test_lowercase_x_is_normalised():
    assert idcard.validate("11010519491231002x") is None


def test_encryption_round_trip_and_digest_is_stable_and_secret(settings):
    token = encrypt("11010519491231002X")
    assert "11010519491231002X" not in token
    assert decrypt(token) == "11010519491231002X"
    assert digest("11010519491231002x ") == digest("11010519491231002X")
    assert "11010519491231002X" not in digest("11010519491231002X")


def test_masks():
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("") == "" and mask_phone("") == ""


@pytest.mark.parametrize(
    "name, full, short",
    [
        ("张三丰", "zhangsanfeng", "zsf"),
        ("曾国藩", "zengguofan", "zgf"),
        ("单田芳", "shantianfang", "stf"),
        ("欧阳娜娜", "ouyangnana", "oynn"),
        ("解晓东", "xiexiaodong", "xxd"),
        ("尉迟恭", "yuchigong", "ycg"),
    ],
)
def test_pinyin_reads_surnames_as_surnames(name, full, short):
    assert full_pinyin(name) == full
    assert initials(name) == short
