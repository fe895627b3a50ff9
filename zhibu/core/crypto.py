"""Personal fields (ID numbers, phones) encrypted at rest, with a keyed digest for exact look-ups."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def _keys() -> tuple[str, ...]:
    return tuple(settings.FIELD_ENCRYPTION_KEYS)


def encrypt(value: str) -> str:
    return _fernet(_keys()).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(_keys()).decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong or lost key must be loud, never a silent blank
        raise ValueError(
            "个人信息字段无法解密：字段密钥与数据不符（请检查 instance/field_key 是否为原密钥）"
        ) from exc


def digest(value: str) -> str:
    """A keyed HMAC of a normalised value: finds duplicates without storing the value in clear."""
    key = hashlib.sha256(("zhibu-digest:" + _keys()[-1]).encode()).digest()
    return hmac.new(key, value.strip().upper().encode(), hashlib.sha256).hexdigest()


class EncryptedCharField(models.TextField):
    """A text field stored as a Fernet token; Python code sees the clear value."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str:
        if not value:
            return ""
        return decrypt(value)

    def to_python(self, value: Any) -> str:
        return "" if value is None else str(value)

    def get_prep_value(self, value: Any) -> str:
        value = "" if value is None else str(value)
        return encrypt(value) if value else ""

    def value_to_string(self, obj: models.Model) -> str:
        # Serialisation (backup) keeps the ciphertext: a backup file never holds clear ID numbers.
        value = self.value_from_object(obj)
        return encrypt(value) if value else ""


def mask_id_number(value: str) -> str:
    """110105********123X → the first 6 and last 4 characters stay."""
    if not value:
        return ""
    if len(value) <= 10:
        return value[:2] + "*" * max(len(value) - 2, 0)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """138****5678."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
