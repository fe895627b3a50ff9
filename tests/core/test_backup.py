"""Backup and restore: a full round trip, the refusals, and that a backup never holds a clear ID number."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection

from tests.factories import make_org, make_person
from zhibu.accounts.models import User
from zhibu.cli import main
from zhibu.core import backup
from zhibu.core.audit import audit_record
from zhibu.core.backup import backup_models, backup_to, restore_from
from zhibu.core.errors import ServiceError
from zhibu.core.models import AuditEntry
from zhibu.core.scoping import scope_for
from zhibu.orgs.models import Organization, OrgKind
from zhibu.people.models import Person, Status, StatusChange
from zhibu.people.services import person_change_status

MEDIA_NAME = Path("attachments") / "2026" / "支部大会记录.txt"
MEDIA_BYTES = "第一党支部 2026 年 3 月支部大会记录\n".encode() + bytes(range(256))


def _enrich(world: Any) -> None:
    """The world plus what a real instance holds: a status change, audit entries, groups, a file."""
    perm = Permission.objects.get(codename="reveal_id_number", content_type__app_label="accounts")
    secretaries = Group.objects.create(name="书记")
    secretaries.permissions.add(perm)
    world.users.school_secretary.groups.add(secretaries)
    world.users.school_secretary.user_permissions.add(perm)
    person_change_status(
        actor=world.users.branch_secretary,
        scope=scope_for(world.users.branch_secretary),
        person=world.people.activist,
        to_status=Status.CANDIDATE,
        effective_on=dt.date(2025, 9, 1),
        reason="支委会讨论决定",
    )
    audit_record(
        actor=world.users.branch_secretary,
        action="update",
        obj=world.people.member,
        org_path=world.sa_b1.path,
        changes={"position": ["", "教师"]},
    )
    target = Path(settings.MEDIA_ROOT) / MEDIA_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(MEDIA_BYTES)


def _canonical() -> dict[str, list[dict[str, Any]]]:
    """Every backed-up row with clear values (secrets decrypted), m2m as sorted keys; restore entries out."""
    own = set(backup_models())
    dump: dict[str, list[dict[str, Any]]] = {}
    for model in backup_models():
        rows = []
        for obj in model._base_manager.order_by("pk"):
            if isinstance(obj, AuditEntry) and obj.action == "restore":
                continue
            row: dict[str, Any] = {f.attname: f.value_from_object(obj) for f in model._meta.concrete_fields}
            for f in model._meta.many_to_many:
                related = getattr(obj, f.name).all()
                if f.remote_field.model in own:
                    row[f.name] = sorted(r.pk for r in related)
                else:
                    row[f.name] = sorted(r.natural_key() for r in related)
            rows.append(row)
        dump[model._meta.label_lower] = rows
    return dump


def _empty_everything() -> None:
    call_command("flush", interactive=False, verbosity=0)
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
    assert not Organization.objects.exists()
    assert not User.objects.exists()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".zhibu-"))


@pytest.mark.django_db(transaction=True)
def test_round_trip_restores_every_record_file_and_secret(world, tmp_path):
    _enrich(world)
    clear_id = world.people.member.id_number
    before = _canonical()
    assert before["core.auditentry"] and before["people.statuschange"] and before["auth.group"]
    max_person_pk = max(r["id"] for r in before["people.person"])

    out = tmp_path / "backup.zip"
    mode = getattr(connection, "transaction_mode", None)
    summary = backup_to(out)
    assert "已备份到" in summary and "人员 7" in summary and "附件 1 个" in summary
    assert _leftovers(tmp_path) == []
    assert getattr(connection, "transaction_mode", None) == mode  # SQLite: back to the configured mode

    _empty_everything()
    summary = restore_from(out)
    assert "记录" in summary and "附件 1 个" in summary

    assert _canonical() == before
    assert (Path(settings.MEDIA_ROOT) / MEDIA_NAME).read_bytes() == MEDIA_BYTES
    assert _leftovers(Path(settings.MEDIA_ROOT).parent) == []
    member = Person.objects.get(pk=world.people.member.pk)
    assert member.id_number == clear_id
    assert member.phone == "13812345678"
    # The restore is itself in the audit log.
    assert AuditEntry.objects.filter(action="restore", object_repr="backup.zip").count() == 1
    # Passwords, group and permission assignments came back.
    sec = User.objects.get(username="school_secretary")
    assert sec.check_password("correct-horse-9")
    assert sec.has_perm("accounts.reveal_id_number")
    assert list(sec.groups.values_list("name", flat=True)) == ["书记"]
    # Sequences follow the restored ids (PostgreSQL): new rows get fresh keys.
    newcomer = make_person("周九", Organization.objects.get(code="SA-B2"))
    assert newcomer.pk > max_person_pk
    make_org("SC", "第三中学党委", OrgKind.COMMITTEE, Organization.objects.get(code="WC"), is_school=True)
    assert StatusChange.objects.filter(person=newcomer).exists()


@pytest.mark.django_db(transaction=True)
def test_restore_with_another_field_key_changes_nothing(world, tmp_path, settings):
    _enrich(world)
    out = tmp_path / "backup.zip"
    backup_to(out)
    _empty_everything()

    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ServiceError) as exc:
        restore_from(out)
    assert "field_key" in exc.value.message and "ZHIBU_FIELD_KEYS" in exc.value.message
    assert not Organization.objects.exists()
    assert not Person.objects.exists()
    assert not AuditEntry.objects.exists()
    assert not (Path(settings.MEDIA_ROOT) / MEDIA_NAME).exists()
    assert _leftovers(Path(settings.MEDIA_ROOT).parent) == []


def test_restore_refuses_a_database_that_is_not_empty(world, tmp_path):
    _enrich(world)
    out = tmp_path / "backup.zip"
    backup_to(out)
    counts = {m._meta.label_lower: m._base_manager.count() for m in backup_models()}
    (Path(settings.MEDIA_ROOT) / MEDIA_NAME).unlink()

    with pytest.raises(ServiceError) as exc:
        restore_from(out)
    assert "请在空数据库上恢复：新建实例目录或清空数据库后再试" in exc.value.message
    assert {m._meta.label_lower: m._base_manager.count() for m in backup_models()} == counts
    assert not (Path(settings.MEDIA_ROOT) / MEDIA_NAME).exists()
    assert _leftovers(Path(settings.MEDIA_ROOT).parent) == []


def test_backup_holds_no_clear_id_number_or_phone(world, tmp_path):
    out = tmp_path / "backup.zip"
    backup_to(out)
    raw = out.read_bytes()
    with zipfile.ZipFile(out) as zf:
        data = zf.read("data.json").decode()
        manifest = json.loads(zf.read("manifest.json"))
    people = list(Person.objects.all())
    assert len(people) == 7
    for p in people:
        assert p.id_number and p.id_number not in data
        assert p.id_number.encode() not in raw
    assert "13812345678" not in data
    # The ciphertext is there and decrypts with this instance's key.
    from zhibu.core.crypto import decrypt

    rows = [o for o in json.loads(data) if o["model"] == "people.person"]
    member = next(o for o in rows if o["pk"] == world.people.member.pk)
    assert decrypt(member["fields"]["id_number"]) == world.people.member.id_number
    assert member["fields"]["name"] == "张三丰"
    assert manifest["format"] == backup.FORMAT_VERSION
    assert manifest["counts"]["people.person"] == 7
    assert manifest["counts"]["accounts.user"] == 6
    assert manifest["migrations"]["people"] == ["0001_initial"]
    assert manifest["database_vendor"] in ("sqlite", "postgresql")


def test_permissions_travel_as_natural_keys(world, tmp_path):
    perm = Permission.objects.get(codename="reveal_id_number")
    world.users.school_secretary.user_permissions.add(perm)
    out = tmp_path / "backup.zip"
    backup_to(out)
    with zipfile.ZipFile(out) as zf:
        data = json.loads(zf.read("data.json"))
    user = next(
        o for o in data if o["model"] == "accounts.user" and o["fields"]["username"] == "school_secretary"
    )
    assert user["fields"]["user_permissions"] == [["reveal_id_number", "accounts", "user"]]
    assert user["fields"]["person"] == world.people.school_secretary.pk
    assert not any(o["model"].startswith("contenttypes.") for o in data)


def test_a_failed_backup_leaves_no_file(world, tmp_path, monkeypatch):
    def boom(*args: Any, **kwargs: Any) -> None:
        raise OSError("磁盘已满")

    monkeypatch.setattr(backup, "_write_zip", boom)
    out = tmp_path / "backup.zip"
    with pytest.raises(OSError):
        backup_to(out)
    assert not out.exists()
    assert _leftovers(tmp_path) == []


def test_restore_refuses_a_file_that_is_not_a_zip(db, tmp_path):
    bad = tmp_path / "backup.zip"
    bad.write_text("这不是压缩文件")
    with pytest.raises(ServiceError, match="不是 zhibu 的备份文件"):
        restore_from(bad)


def test_restore_refuses_a_zip_without_manifest(db, tmp_path):
    bad = tmp_path / "backup.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("data.json", "[]")
    with pytest.raises(ServiceError, match=r"缺少 manifest\.json"):
        restore_from(bad)


def _rewrite_manifest(src: Path, dst: Path, **changes: Any) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            content = zin.read(info)
            if info.filename == "manifest.json":
                manifest = json.loads(content)
                manifest.update(changes)
                content = json.dumps(manifest).encode()
            zout.writestr(info, content)


def test_restore_refuses_a_newer_format_or_newer_migrations(world, tmp_path):
    out = tmp_path / "backup.zip"
    backup_to(out)
    newer = tmp_path / "newer.zip"
    _rewrite_manifest(out, newer, format=backup.FORMAT_VERSION + 1)
    with pytest.raises(ServiceError, match="请先升级 zhibu"):
        restore_from(newer)

    with zipfile.ZipFile(out) as zf:
        migrations = json.loads(zf.read("manifest.json"))["migrations"]
    migrations["people"] = ["0099_from_the_future"]
    _rewrite_manifest(out, newer, migrations=migrations)
    with pytest.raises(ServiceError, match="0099_from_the_future"):
        restore_from(newer)


def test_restore_refuses_a_media_path_outside_the_media_folder(db, tmp_path):
    out = tmp_path / "empty.zip"
    backup_to(out)  # an empty database: the restore gets as far as the files
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(out) as zin, zipfile.ZipFile(evil, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr("media/../../escaped.txt", "x")
    with pytest.raises(ServiceError, match="附件路径不安全"):
        restore_from(evil)
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert _leftovers(Path(settings.MEDIA_ROOT).parent) == []


def test_json_array_is_read_object_by_object():
    objects = [{"model": "x", "pk": i, "fields": {"name": "张三丰" * i, "s": '[],{}"]'}} for i in range(50)]
    raw = json.dumps(objects, ensure_ascii=False, indent=1).encode()
    assert list(backup._iter_json_array(io.BytesIO(raw), chunk=7)) == objects
    assert list(backup._iter_json_array(io.BytesIO(b" [ ] "))) == []
    with pytest.raises(ValueError):
        list(backup._iter_json_array(io.BytesIO(raw[:-20]), chunk=64))


def test_cli_backup_and_restore_exit_codes(world, tmp_path, capsys):
    out = tmp_path / "cli.zip"
    assert main(["backup", "-o", str(out)]) == 0
    assert out.is_file() and "已备份到" in capsys.readouterr().out
    assert main(["backup", "-o", str(out)]) == 2  # exists, no --force
    assert main(["restore", "nope.zip"]) == 2
    assert "找不到备份文件" in capsys.readouterr().err
    assert main(["restore", str(out)]) == 2  # the database is not empty
    assert "空数据库" in capsys.readouterr().err
