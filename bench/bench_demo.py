"""Benchmark: build the demo district (300 schools by default) into a fresh database.

Runs `zhibu demo --schools N --seed S` as a subprocess, times it and reads its peak RSS.
SQLite by default, in a new temporary instance folder; PostgreSQL when ZHIBU_DATABASE_URL is set
(the database must be empty). See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from _common import REPO, RESULTS, write_result

TARGET_SECONDS = 300


def masked(url: str) -> str:
    """The database URL without its password."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schools", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--instance-dir", help="instance folder (default: a new temporary folder)")
    args = parser.parse_args()

    instance = Path(args.instance_dir or tempfile.mkdtemp(prefix="zhibu-bench-")).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("ZHIBU_DATABASE_URL", "")
    backend = "postgresql" if database_url.startswith(("postgres", "postgresql")) else "sqlite"
    if backend == "sqlite" and (instance / "zhibu.sqlite3").exists():
        print(f"{instance} already holds a database; give an empty --instance-dir", file=sys.stderr)
        return 2
    env = {**os.environ, "ZHIBU_INSTANCE_DIR": str(instance)}
    command = [
        sys.executable,
        "-m",
        "zhibu.cli",
        "demo",
        "--schools",
        str(args.schools),
        "--seed",
        str(args.seed),
    ]
    print(f"$ {' '.join(command[2:])}   (instance {instance}, {backend})", flush=True)
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)  # noqa: S603
    wall = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kilobytes on Linux
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        print(f"zhibu demo failed with exit code {proc.returncode}", file=sys.stderr)
        return proc.returncode

    reported = re.search(r"用时 ([\d.]+) 秒", proc.stdout)
    counts = re.search(r"已生成：(\d+) 所学校，(\d+) 个党组织，(\d+) 名人员", proc.stdout)
    result = {
        "benchmark": "demo_build",
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "backend": backend,
        "database_url": masked(database_url) if database_url else str(instance / "zhibu.sqlite3"),
        "instance_dir": str(instance),
        "schools": args.schools,
        "seed": args.seed,
        "orgs": int(counts.group(2)) if counts else None,
        "people": int(counts.group(3)) if counts else None,
        "wall_seconds": round(wall, 2),
        "build_seconds": float(reported.group(1)) if reported else None,
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "cpu_count": os.cpu_count(),
        "target_seconds": TARGET_SECONDS,
        "ok": wall < TARGET_SECONDS,
    }
    rows = [
        ("backend", backend),
        ("schools / orgs / people", f"{args.schools} / {result['orgs']} / {result['people']}"),
        ("wall time (incl. start-up, migrate)", f"{wall:.1f} s"),
        ("build_demo time", f"{result['build_seconds']} s"),
        ("peak RSS", f"{result['peak_rss_mb']} MB"),
        ("target", f"< {TARGET_SECONDS} s  → {'OK' if result['ok'] else 'TOO SLOW'}"),
    ]
    print()
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")

    write_result("demo", backend, result)
    # The other benchmarks read the database they should measure from here.
    (RESULTS / "last_demo.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
