"""Evidence files people upload (scans, photos, PDFs, Word files): checked by their content, not their names.

One check for every app that keeps documents: the size limit (settings.ZHIBU_MAX_UPLOAD_BYTES), an empty
file, and the type recognised from the first bytes. The caller says which types it accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from zhibu.core.errors import ServiceError


@dataclass(frozen=True)
class FileType:
    magic: bytes
    content_type: str
    suffix: str
    label: str


PDF = FileType(b"%PDF", "application/pdf", "pdf", "PDF")
JPEG = FileType(b"\xff\xd8\xff", "image/jpeg", "jpg", "JPEG")
PNG = FileType(b"\x89PNG\r\n\x1a\n", "image/png", "png", "PNG 图片")
DOCX = FileType(
    b"PK\x03\x04",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "docx",
    "Word（.docx）",
)


def _either(types: tuple[FileType, ...]) -> str:
    """“JPEG、PNG 图片或 PDF ” — the accepted types as a Chinese list, spaced around Latin words."""
    labels = [t.label for t in types]
    text = labels[-1] if len(labels) == 1 else "、".join(labels[:-1]) + "或" + _space(labels[-1])
    return text + (" " if text[-1].isascii() else "")


def _space(label: str) -> str:
    return f" {label}" if label[0].isascii() else label


@dataclass(frozen=True)
class CheckedUpload:
    name: str  # the uploader's file name, cleaned (a title to show, never a path to store under)
    type: FileType
    size: int


def check_upload(file: UploadedFile, accepted: tuple[FileType, ...], *, field: str) -> CheckedUpload:
    """The file's display name and recognised type, or a ServiceError that says what is wrong with it."""
    name = (file.name or "文件").replace("\\", "/").rsplit("/", 1)[-1][:200]
    limit = settings.ZHIBU_MAX_UPLOAD_BYTES
    if file.size is None or file.size > limit:
        raise ServiceError(f"文件“{name}”超过 {limit // (1024 * 1024)} MB，请压缩或分开上传", field=field)
    if file.size == 0:
        raise ServiceError(f"文件“{name}”是空的", field=field)
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    found = next((t for t in accepted if head.startswith(t.magic)), None)
    if found is None:
        raise ServiceError(f"文件“{name}”不是 {_either(accepted)}文件", field=field)
    return CheckedUpload(name, found, file.size)
