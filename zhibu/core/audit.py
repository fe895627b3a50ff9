"""Writing and reading the audit log. Services call `audit_record`; pages call `audit_history`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import models

from zhibu.core.crypto import EncryptedCharField, mask_id_number, mask_phone
from zhibu.core.models import AuditEntry

# Fields whose values never enter the log in clear.
_MASKERS = {"id_number": mask_id_number, "phone": mask_phone}


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dt.date | dt.datetime | Decimal):
        return str(value)
    return value


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The audited values of an object's concrete fields (foreign keys by id, secrets masked)."""
    out: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        if field.name in ("id", "created_at", "updated_at") or field.name.endswith("_digest"):
            continue
        value = getattr(obj, field.attname)
        if isinstance(field, EncryptedCharField):
            value = _MASKERS.get(field.name, lambda v: "***" if v else "")(value or "")
        out[field.name] = _plain(value)
    return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    org_path: str = "",
    changes: dict[str, Any] | None = None,
    note: str = "",
) -> AuditEntry:
    """Write one audit row for a change an actor made to `obj`."""
    user = actor if getattr(actor, "pk", None) else None
    return AuditEntry.objects.create(
        actor=user,
        actor_name=(getattr(actor, "display_name", "") or getattr(actor, "username", "")) if user else "系统",
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        org_path=org_path,
        changes=changes or {},
        note=note[:500],
    )


def audit_history(obj: models.Model, limit: int = 100) -> list[AuditEntry]:
    """The newest entries about one object."""
    return list(
        AuditEntry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
        .select_related(None)
        .order_by("-at", "-id")[:limit]
    )
