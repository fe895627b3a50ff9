"""The instance folder: everything a running zhibu keeps outside git (database, keys, uploads)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet

REPO_ROOT = Path(__file__).resolve().parent.parent


def instance_dir() -> Path:
    """Where this installation keeps its data; `ZHIBU_INSTANCE_DIR` overrides the default `./instance`."""
    configured = os.environ.get("ZHIBU_INSTANCE_DIR")
    path = Path(configured).expanduser() if configured else Path.cwd() / "instance"
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def _read_or_create(path: Path, make: Callable[[], str]) -> str:
    """Read a key file, creating it atomically (O_EXCL) the first time so parallel starts agree."""
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(make())
    return path.read_text().strip()


def secret_key(folder: Path) -> str:
    """Django's SECRET_KEY: from `ZHIBU_SECRET_KEY`, else the instance's `secret_key` file."""
    return os.environ.get("ZHIBU_SECRET_KEY") or _read_or_create(
        folder / "secret_key", lambda: secrets.token_urlsafe(50)
    )


def field_keys(folder: Path) -> list[str]:
    """Keys for personal fields, newest first: `ZHIBU_FIELD_KEYS` (comma-separated) or `field_key`.

    Losing this key makes every encrypted ID and phone number unreadable; back it up apart from the data.
    """
    configured = os.environ.get("ZHIBU_FIELD_KEYS")
    if configured:
        return [k.strip() for k in configured.split(",") if k.strip()]
    return [_read_or_create(folder / "field_key", lambda: Fernet.generate_key().decode())]
