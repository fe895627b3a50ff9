"""What the benchmarks share: where results go, which demo database to measure, Django set-up."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parent.parent


def demo_instance(explicit: str | None) -> str:
    """The instance folder to measure: the one given, else the last bench_demo.py run's (exit 2 if none)."""
    last = RESULTS / "last_demo.json"
    demo = json.loads(last.read_text()) if last.exists() else {}
    instance = explicit or demo.get("instance_dir")
    if not instance:
        sys.exit("no demo database: run bench/bench_demo.py first or give --instance-dir")
    if not explicit and demo.get("backend") == "postgresql" and not os.environ.get("ZHIBU_DATABASE_URL"):
        sys.exit("the last demo was built on PostgreSQL: set ZHIBU_DATABASE_URL again")
    return str(instance)


def setup_django(instance_dir: str, *, migrate: bool = False, test_client: bool = False) -> str:
    """Set Django up on that instance; returns the database backend's short name (sqlite3, postgresql)."""
    os.environ["ZHIBU_INSTANCE_DIR"] = instance_dir
    if test_client:  # Django's test client asks for the host "testserver"
        hosts = os.environ.get("ZHIBU_ALLOWED_HOSTS", "127.0.0.1,localhost")
        if "testserver" not in hosts.split(","):
            os.environ["ZHIBU_ALLOWED_HOSTS"] = hosts + ",testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhibu.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
    from django.conf import settings

    return str(settings.DATABASES["default"]["ENGINE"]).rsplit(".", 1)[-1]


def write_result(name: str, backend: str, result: dict[str, Any]) -> Path:
    """Write one run's figures to bench/results/NAME-BACKEND-STAMP.json (git-ignored) and say where."""
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"{name}-{backend}-{stamp}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"\n  written {out.relative_to(REPO)}")
    return out
