"""Backup and restore of a whole installation: every zhibu record, user group assignments and uploads.

A backup is one zip file:

    manifest.json   format version, zhibu version, time, database vendor, the latest applied migration of
                    every app, and the number of records of every model
    data.json       Django's "json" serialisation of every model of every `zhibu.*` app (and later apps
                    automatically) plus auth groups; a user's groups and permissions travel with the user
    media/…         every file under MEDIA_ROOT

Primary keys are kept, so references between backed-up records stay plain ids; references to rows that
every database creates for itself (permissions, content types) use natural keys. Encrypted personal
fields stay ciphertext (`EncryptedCharField.value_to_string`): a backup never holds a clear ID number, and
it can only be read again by an instance that has the same field key (`instance/field_key` or
`ZHIBU_FIELD_KEYS`, see `zhibu/instance.py`). Keep that key apart from the backups.

A restore goes into an empty database only, in one transaction; uploads are unpacked into a temporary
folder first and moved into place after the commit, so a failed restore leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.serializers.json import Serializer as JsonSerializer
from django.core.serializers.python import Deserializer as PythonDeserializer
from django.db import DatabaseError, connection, models, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.models import Prefetch
from django.utils import timezone

from zhibu.core.crypto import EncryptedCharField, decrypt
from zhibu.core.errors import ServiceError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATA = "data.json"
MEDIA_PREFIX = "media/"
CHUNK = 2000

EMPTY_DB_HINT = "请在空数据库上恢复：新建实例目录或清空数据库后再试"
KEY_HINT = (
    "字段密钥与备份不符：备份中的身份证号、手机号等是用原实例的字段密钥加密的，"
    "请把原实例的 field_key 文件放到本实例目录（{folder}），或用环境变量 ZHIBU_FIELD_KEYS 提供原密钥，"
    "然后再恢复；数据库未作任何改动"
)

# Models whose verbose name is not Chinese.
_TITLES = {"core.auditentry": "审计记录", "auth.group": "用户组"}


# Which models ---------------------------------------------------------------------------------------


def backup_models() -> list[type[models.Model]]:
    """Every concrete model of every zhibu app (in app order), auth groups first."""
    found: list[type[models.Model]] = [Group]
    for config in apps.get_app_configs():
        if not config.name.startswith("zhibu."):
            continue
        for model in config.get_models():
            opts = model._meta
            if opts.proxy or not opts.managed or opts.swapped:
                continue
            found.append(model)
    return found


def _title(model: type[models.Model]) -> str:
    name = str(model._meta.verbose_name)
    return _TITLES.get(model._meta.label_lower) or (model._meta.label if name.isascii() else name)


# Backup ---------------------------------------------------------------------------------------------


class _Encoder(DjangoJSONEncoder):
    """Like Django's, but keeps microseconds (Django's cuts times to milliseconds)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime):
            r = o.isoformat()
            return r[:-6] + "Z" if r.endswith("+00:00") else r
        if isinstance(o, dt.time) and not timezone.is_aware(o):
            return o.isoformat()
        return super().default(o)


class _Serializer(JsonSerializer):  # type: ignore[misc]
    """Plain ids for references to backed-up models (their ids are kept); natural keys for the rest."""

    _current: Any

    def __init__(self, own: set[type[models.Model]]) -> None:
        super().__init__()
        self._own = own

    def end_object(self, obj: models.Model) -> None:
        # One object a line, encoded in one go (json.dump to a stream uses the slow pure-Python encoder).
        self.stream.write(
            ("\n" if self.first else ",\n") + json.dumps(self.get_dump_object(obj), **self.json_kwargs)
        )
        self._current = None

    def end_serialization(self) -> None:
        self.stream.write("\n]\n")

    def handle_fk_field(self, obj: models.Model, field: Any) -> None:
        if field.remote_field.model in self._own:
            self._current[field.name] = self._value_from_field(obj, field)  # type: ignore[attr-defined]
        else:
            super().handle_fk_field(obj, field)

    def handle_m2m_field(self, obj: models.Model, field: Any) -> None:
        if field.remote_field.model in self._own:
            natural, self.use_natural_foreign_keys = self.use_natural_foreign_keys, False
            try:
                super().handle_m2m_field(obj, field)
            finally:
                self.use_natural_foreign_keys = natural
        else:
            super().handle_m2m_field(obj, field)


def _queryset(model: type[models.Model], own: set[type[models.Model]]) -> models.QuerySet[Any]:
    """All rows in primary-key order, with what the serialiser reads joined or prefetched."""
    qs = model._base_manager.order_by("pk")
    natural_fks = [
        f.name
        for f in model._meta.concrete_fields
        if f.is_relation
        and f.remote_field is not None
        and f.remote_field.model not in own
        and hasattr(f.remote_field.model, "natural_key")
    ]
    if natural_fks:
        qs = qs.select_related(*natural_fks)
    prefetch: list[Any] = []
    for f in model._meta.many_to_many:
        through: Any = f.remote_field.through
        if not through._meta.auto_created:
            continue  # an explicit through model is a model of its own
        target = f.remote_field.model
        if target is Permission:
            prefetch.append(Prefetch(f.name, queryset=Permission.objects.select_related("content_type")))
        elif target in own:
            prefetch.append(Prefetch(f.name, queryset=target._base_manager.only("pk")))
        else:
            prefetch.append(f.name)
    if prefetch:
        qs = qs.prefetch_related(*prefetch)
    return qs


def _latest_migrations() -> dict[str, list[str]]:
    """app label → the names of its latest applied migrations (normally one)."""
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    applied = set(loader.applied_migrations)
    by_app: dict[str, list[str]] = {}
    for app_label, name in sorted(applied):
        key = (app_label, name)
        node = loader.graph.node_map.get(key)
        if node is not None and any(c in applied for c in node.children if c[0] == app_label):
            continue
        by_app.setdefault(app_label, []).append(name)
    return by_app


def _zhibu_version() -> str:
    try:
        return metadata.version("zhibu")
    except metadata.PackageNotFoundError:
        return "unknown"


def _media_files(root: Path, skip: set[Path]) -> Iterator[tuple[Path, str]]:
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            full = Path(dirpath) / name
            if full.resolve() in skip or name.startswith(".zhibu-backup-"):
                continue
            yield full, (MEDIA_PREFIX + full.relative_to(root).as_posix())


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _counts_text(counts: dict[str, int]) -> str:
    by_label = {m._meta.label_lower: m for m in backup_models()}
    parts = []
    for label, n in counts.items():
        if n:
            model = by_label.get(label)
            parts.append(f"{_title(model) if model else label} {n}")
    return "，".join(parts) or "无记录"


@dataclass
class _Written:
    counts: dict[str, int] = field(default_factory=dict)
    media: int = 0


def _write_zip(fh: IO[bytes], skip: set[Path]) -> _Written:
    written = _Written()
    own_models = backup_models()
    own = set(own_models)

    def objects() -> Iterator[models.Model]:
        for model in own_models:
            label = model._meta.label_lower
            written.counts[label] = 0
            for obj in _queryset(model, own).iterator(chunk_size=CHUNK):
                written.counts[label] += 1
                yield obj

    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        with zf.open(DATA, "w", force_zip64=True) as raw:
            text = _TextWriter(raw)
            _Serializer(own).serialize(
                objects(),
                stream=text,  # type: ignore[arg-type]
                cls=_Encoder,
                use_natural_foreign_keys=True,
                use_natural_primary_keys=False,
            )
            text.flush()
        media_root = Path(settings.MEDIA_ROOT)
        for full, arcname in _media_files(media_root, skip):
            zf.write(full, arcname)
            written.media += 1
        manifest = {
            "format": FORMAT_VERSION,
            "zhibu_version": _zhibu_version(),
            "created_at": timezone.now().isoformat(),
            "database_vendor": connection.vendor,
            "migrations": _latest_migrations(),
            "counts": written.counts,
            "media_files": written.media,
        }
        zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
    return written


class _TextWriter:
    """A text stream over a binary one (zip members), buffering small writes."""

    def __init__(self, raw: IO[bytes], limit: int = 1 << 16) -> None:
        self._raw = raw
        self._parts: list[str] = []
        self._len = 0
        self._limit = limit

    def write(self, s: str) -> int:
        self._parts.append(s)
        self._len += len(s)
        if self._len >= self._limit:
            self.flush()
        return len(s)

    def flush(self) -> None:
        if self._parts:
            self._raw.write("".join(self._parts).encode("utf-8"))
            self._parts.clear()
            self._len = 0


@contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent view of the database for the whole backup, without holding up the site's writes."""
    outermost = not connection.in_atomic_block
    if connection.vendor == "sqlite" and outermost:
        # The settings open SQLite transactions IMMEDIATE (a write lock); a backup only reads, and a
        # DEFERRED transaction in WAL mode reads one snapshot while others go on writing.
        connection.ensure_connection()
        previous = getattr(connection, "transaction_mode", None)
        connection.transaction_mode = "DEFERRED"  # type: ignore[attr-defined]
        try:
            with transaction.atomic():
                yield
        finally:
            connection.transaction_mode = previous  # type: ignore[attr-defined]
        return
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def backup_to(path: Path) -> str:
    """Write a complete backup to `path` (via a temporary file, renamed at the end); a Chinese summary."""
    path = Path(path)
    target_dir = path.parent.resolve()
    if not target_dir.is_dir():
        raise ServiceError(f"目录不存在：{target_dir}")
    fd, tmp_name = tempfile.mkstemp(dir=target_dir, prefix=".zhibu-backup-", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            with _snapshot():
                written = _write_zip(fh, skip={tmp.resolve(), path.resolve()})
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    total = sum(written.counts.values())
    return (
        f"已备份到 {path}\n"
        f"记录 {total} 条：{_counts_text(written.counts)}\n"
        f"附件 {written.media} 个；备份文件 {_size(path.stat().st_size)}\n"
        "提示：身份证号等字段在备份中保持加密，恢复时需要本实例的字段密钥（field_key），请另行妥善保存。"
    )


# Restore --------------------------------------------------------------------------------------------


def _iter_json_array(raw: IO[bytes], chunk: int = 1 << 20) -> Iterator[dict[str, Any]]:
    """The objects of a top-level JSON array, one at a time, without reading the whole file."""
    decoder = json.JSONDecoder()
    reader = _Utf8Reader(raw)
    buf = ""
    pos = 0
    eof = False

    def more(n: int) -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        data = reader.read(n)
        if not data:
            eof = True
            return False
        buf = buf[pos:] + data
        pos = 0
        return True

    def skip_ws() -> None:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            if pos < len(buf) or not more(chunk):
                return

    skip_ws()
    if pos >= len(buf) or buf[pos] != "[":
        raise ValueError("data.json 不是 JSON 数组")
    pos += 1
    first = True
    while True:
        skip_ws()
        if pos >= len(buf):
            raise ValueError("data.json 意外结束")
        if buf[pos] == "]":
            return
        if not first:
            if buf[pos] != ",":
                raise ValueError("data.json 格式错误")
            pos += 1
            skip_ws()
        first = False
        want = chunk
        while True:
            try:
                obj, end = decoder.raw_decode(buf, pos)
            except json.JSONDecodeError:
                # Most likely the object goes on in the next chunk.
                if not more(want):
                    raise
                want *= 2
                continue
            break
        if not isinstance(obj, dict):
            raise ValueError("data.json 中有非对象的条目")
        pos = end
        yield obj


class _Utf8Reader:
    """Reads text from a binary stream without splitting a multi-byte character."""

    def __init__(self, raw: IO[bytes]) -> None:
        import codecs

        self._raw = raw
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def read(self, n: int) -> str:
        while True:
            data = self._raw.read(n)
            text = self._decoder.decode(data, final=not data)
            if text or not data:
                return text


def _read_manifest(zf: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(zf.read(MANIFEST).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ServiceError("备份文件的清单（manifest.json）无法读取，文件可能已损坏") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("format"), int):
        raise ServiceError("备份文件的清单（manifest.json）缺少格式版本，不是 zhibu 的备份文件")
    return manifest


def _check_format(manifest: dict[str, Any]) -> None:
    if manifest["format"] > FORMAT_VERSION:
        raise ServiceError(
            f"备份文件格式版本为 {manifest['format']}，本程序只支持到 {FORMAT_VERSION}："
            f"备份由较新版本的 zhibu（{manifest.get('zhibu_version', '未知')}）生成，请先升级 zhibu 再恢复"
        )


def _check_migrations(manifest: dict[str, Any]) -> None:
    """Refuse a backup made by newer code (a migration this code does not have)."""
    recorded = manifest.get("migrations")
    counts = manifest.get("counts")
    if not isinstance(recorded, dict) or not isinstance(counts, dict):
        raise ServiceError("备份文件的清单（manifest.json）不完整：缺少迁移状态或记录数")
    data_apps = {label.split(".", 1)[0] for label in counts}
    installed = {c.label for c in apps.get_app_configs()}
    missing = sorted(data_apps - installed)
    if missing:
        raise ServiceError(
            f"备份中有本程序没有的模块（{'、'.join(missing)}）："
            "备份由较新版本的 zhibu 生成，请先升级 zhibu 再恢复"
        )
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    for migration in loader.disk_migrations.values():
        known.update(migration.replaces)
    applied = set(loader.applied_migrations)
    for app_label in sorted(data_apps):
        for name in recorded.get(app_label, []):
            key = (app_label, name)
            if key not in known:
                raise ServiceError(
                    f"备份的数据结构比本程序新（{app_label} 的迁移 {name} 在本程序中不存在）："
                    f"备份由较新版本的 zhibu（{manifest.get('zhibu_version', '未知')}）生成，"
                    "请先升级 zhibu 再恢复"
                )
            if key not in applied:
                raise ServiceError(
                    "本实例的数据库尚未迁移到最新结构：请先运行 zhibu run（或 manage.py migrate）再恢复"
                )


def _check_empty() -> None:
    found = []
    for model in backup_models():
        if model._base_manager.exists():
            found.append(_title(model))
    if found:
        raise ServiceError(f"数据库不是空的（已有{'、'.join(found[:5])}等数据）。{EMPTY_DB_HINT}")


def _safe_member(name: str) -> PurePosixPath:
    rel = PurePosixPath(name[len(MEDIA_PREFIX) :])
    if rel.is_absolute() or not rel.parts or any(p in ("..", "") for p in rel.parts) or "\\" in name:
        raise ServiceError(f"备份中的附件路径不安全：{name}")
    return rel


def _extract_media(zf: zipfile.ZipFile, into: Path) -> int:
    n = 0
    for info in zf.infolist():
        if not info.filename.startswith(MEDIA_PREFIX) or info.is_dir():
            continue
        rel = _safe_member(info.filename)
        target = into.joinpath(*rel.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(info) as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        n += 1
    return n


def _move_media(staged: Path, media_root: Path) -> None:
    for dirpath, _dirnames, filenames in os.walk(staged):
        for name in filenames:
            src = Path(dirpath) / name
            dst = media_root / src.relative_to(staged)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)


def _decrypt_fields(obj: models.Model, fields: list[Any]) -> None:
    """The backup holds ciphertext; the field encrypts on save, so hand it the clear value."""
    for f in fields:
        value = getattr(obj, f.attname)
        if value:
            try:
                setattr(obj, f.attname, decrypt(value))
            except ValueError as exc:
                raise ServiceError(KEY_HINT.format(folder=settings.INSTANCE_DIR)) from exc


class _Inserter:
    """Inserts deserialised rows as they are (raw, like loaddata), in batches of one model."""

    def __init__(self, batch: int = 500) -> None:
        self._model: type[models.Model] | None = None
        self._rows: list[models.Model] = []
        self._batch = batch

    def add(self, item: Any) -> None:
        obj = item.object
        model = type(obj)
        simple = not model._meta.parents and not any(item.m2m_data.values()) and not item.deferred_fields
        if model is not self._model or not simple:
            self.flush()
        if not simple:
            item.save(using=connection.alias, force_insert=True)
            return
        self._model = model
        self._rows.append(obj)
        if len(self._rows) >= self._batch:
            self.flush()

    def flush(self) -> None:
        if self._rows and self._model is not None:
            fields = [f for f in self._model._meta.local_concrete_fields if not f.generated]
            size = max(1, min(self._batch, connection.ops.bulk_batch_size(fields, self._rows)))
            for start in range(0, len(self._rows), size):
                self._model._base_manager._insert(  # type: ignore[attr-defined]
                    self._rows[start : start + size], fields=fields, using=connection.alias, raw=True
                )
        self._rows = []
        self._model = None


def _load(zf: zipfile.ZipFile, manifest: dict[str, Any]) -> dict[str, int]:
    own = backup_models()
    allowed = {m._meta.label_lower for m in own}
    encrypted: dict[type[models.Model], list[Any]] = {
        m: [f for f in m._meta.concrete_fields if isinstance(f, EncryptedCharField)] for m in own
    }
    counts: dict[str, int] = {}
    deferred = []
    inserter = _Inserter()
    with zf.open(DATA) as raw:
        stream = PythonDeserializer(
            _iter_json_array(raw), using=connection.alias, handle_forward_references=True
        )
        for item in stream:
            model = type(item.object)
            label = model._meta.label_lower
            if label not in allowed:
                raise ServiceError(f"备份数据中有不应恢复的数据类型：{label}")
            _decrypt_fields(item.object, encrypted[model])
            inserter.add(item)
            counts[label] = counts.get(label, 0) + 1
            if item.deferred_fields:
                deferred.append(item)
    inserter.flush()
    for item in deferred:
        item.save_deferred_fields(using=connection.alias)
    expected = {k: int(v) for k, v in manifest["counts"].items() if int(v)}
    if counts != expected:
        raise ServiceError("备份数据与清单中的记录数不符，备份文件可能已损坏或被改动")
    statements = connection.ops.sequence_reset_sql(no_style(), own)
    if statements:
        with connection.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
    return counts


def restore_from(path: Path) -> str:
    """Restore a backup made by `backup_to` into this (empty) instance; a Chinese summary."""
    path = Path(path)
    if not path.is_file() or not zipfile.is_zipfile(path):
        raise ServiceError(f"{path.name} 不是 zhibu 的备份文件（应为 backup 命令生成的 zip 文件）")
    media_root = Path(settings.MEDIA_ROOT)
    staged: Path | None = None
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            lacking = [n for n in (MANIFEST, DATA) if n not in names]
            if lacking:
                raise ServiceError(f"备份文件不完整：缺少 {'、'.join(lacking)}，不是 zhibu 的备份文件")
            manifest = _read_manifest(zf)
            _check_format(manifest)
            _check_migrations(manifest)
            _check_empty()
            media_root.parent.mkdir(parents=True, exist_ok=True)
            staged = Path(tempfile.mkdtemp(dir=media_root.parent, prefix=".zhibu-restore-media-"))
            media = _extract_media(zf, staged)
            try:
                with transaction.atomic():
                    _check_empty()  # again, inside the transaction
                    counts = _load(zf, manifest)
                    from zhibu.core.models import AuditEntry

                    AuditEntry.objects.create(
                        actor=None,
                        actor_name="系统",
                        action="restore",
                        object_type="core.backup",
                        object_id=str(manifest.get("created_at", ""))[:64],
                        object_repr=path.name[:200],
                        note=f"从备份恢复（zhibu {manifest.get('zhibu_version', '未知')}，"
                        f"{sum(counts.values())} 条记录，附件 {media} 个）"[:500],
                    )
            except DeserializationError as exc:
                raise ServiceError(f"备份数据无法载入本版本的数据结构：{exc}") from exc
            except (ValueError, DatabaseError) as exc:
                raise ServiceError(f"备份数据无法载入，数据库未作任何改动：{exc}") from exc
        _move_media(staged, media_root)
    except zipfile.BadZipFile as exc:
        raise ServiceError(f"备份文件已损坏，无法读取：{exc}") from exc
    finally:
        if staged is not None:
            shutil.rmtree(staged, ignore_errors=True)
    created = str(manifest.get("created_at", "未知时间"))
    try:
        created = timezone.localtime(dt.datetime.fromisoformat(created)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        pass
    total = sum(counts.values())
    return (
        f"已从 {path.name} 恢复（备份时间 {created}，zhibu {manifest.get('zhibu_version', '未知')}）\n"
        f"记录 {total} 条：{_counts_text(counts)}\n"
        f"附件 {media} 个"
    )
