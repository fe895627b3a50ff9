"""On PostgreSQL the database itself refuses UPDATE and DELETE of audit rows, whoever connects.

SQLite is left to the application guard: Django's test flush deletes rows there one by one, and a
trigger would stop it; PostgreSQL flushes with TRUNCATE, which row triggers do not see.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION zhibu_audit_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '审计记录不可修改或删除';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER zhibu_audit_immutable BEFORE UPDATE OR DELETE ON core_auditentry
    FOR EACH ROW EXECUTE FUNCTION zhibu_audit_immutable();
"""
DROP = """
DROP TRIGGER IF EXISTS zhibu_audit_immutable ON core_auditentry;
DROP FUNCTION IF EXISTS zhibu_audit_immutable();
"""


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
