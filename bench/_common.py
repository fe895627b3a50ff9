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


def peak_rss_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # kilobytes on Linux


class SqlTimer:
    """Time spent inside the database driver, measured around each query (Django's captured "time" is
    rounded to the millisecond, which hides SQLite's sub-millisecond queries)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        import time

        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


def profile_requests(client: Any, case: Any, runs: int, top: int) -> dict[str, Any]:
    """cProfile `runs` requests of `case` (with .label, .user, .path) after one warm-up; the hot spots by
    own and by cumulative time, as text and per request for the JSON."""
    import cProfile
    import io
    import pstats

    client.get(case.path)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        client.get(case.path)
    profiler.disable()
    report: dict[str, Any] = {"case": case.label, "user": case.user, "path": case.path, "runs": runs}
    for key in ("tottime", "cumulative"):
        buffer = io.StringIO()
        stats = pstats.Stats(profiler, stream=buffer)
        stats.strip_dirs().sort_stats(key).print_stats(top)
        report[key] = buffer.getvalue()
    stats = pstats.Stats(profiler)

    def short(filename: str) -> str:
        return filename.rsplit("/site-packages/", 1)[-1].replace(str(REPO) + "/", "")

    rows = []
    for (filename, line, func), (_cc, ncalls, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{short(filename)}:{line}({func})",
                "calls": ncalls // runs,
                "own_ms": round(tt * 1000 / runs, 1),
                "cum_ms": round(ct * 1000 / runs, 1),
            }
        )
    report["by_cumulative"] = sorted(rows, key=lambda r: -r["cum_ms"])[:top]
    report["by_own"] = sorted(rows, key=lambda r: -r["own_ms"])[:top]
    return report


def print_rows(rows: list[dict[str, Any]], remark: Any) -> None:
    """The table of measured requests: one line per case, `remark(row)` at its end (e.g. over target)."""
    header = (
        f"  {'user':<17} {'case':<24} {'median ms':>10} {'p90 ms':>8} {'CPU ms':>8} {'SQL ms':>7}"
        f" {'queries':>8} {'KB':>6} {'RSS MB':>7}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for r in rows:
        print(
            f"  {r['user']:<17} {r['case']:<24} {r['median_ms']:>10} {r['p90_ms']:>8}"
            f" {r['cpu_ms_median']:>8} {r['sql_ms_median']:>7} {r['queries']:>8}"
            f" {r['bytes'] // 1024:>6} {r['peak_rss_mb_after']:>7}  {remark(r)}".rstrip()
        )
