import pytest

from zhibu.core.audit import audit_record
from zhibu.core.models import AuditEntry


def test_audit_rows_cannot_be_updated_or_deleted(world):
    entry = audit_record(
        actor=world.users.branch_secretary,
        action="update",
        obj=world.sa_b1,
        org_path=world.sa_b1.path,
        changes={"name": ["a", "b"]},
    )
    entry.note = "changed"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.update(note="x")
    assert AuditEntry.objects.get(pk=entry.pk).note == ""
