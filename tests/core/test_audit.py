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


def test_postgresql_itself_refuses_to_change_audit_rows(world):
    from django.db import DatabaseError, connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the database-level guard exists on PostgreSQL only (see core migration 0002)")
    entry = audit_record(actor=None, action="update", obj=world.sa_b1, org_path=world.sa_b1.path)
    for sql in (
        "UPDATE core_auditentry SET note = 'x' WHERE id = %s",
        "DELETE FROM core_auditentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk, note="").exists()
