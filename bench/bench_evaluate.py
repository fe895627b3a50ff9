"""Benchmark: one evaluation of every rule over the whole demo district built by bench_demo.py.

Runs `evaluation_run` on the work committee (every school, branch and member) as the system would from
`zhibu check`, inside a transaction that is rolled back (the demo database is left as it was, apart from
migrations applied first), and reports seconds, SQL queries and the number of findings. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time

from _common import demo_instance, setup_django, write_result

TARGET_SECONDS = 5.0


class _Rollback(Exception):
    pass


def measure(year: int, runs: int) -> list[dict[str, object]]:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from zhibu.compliance.models import Finding, Trigger
    from zhibu.compliance.packs import library
    from zhibu.compliance.services import evaluation_run
    from zhibu.core.scoping import Scope
    from zhibu.orgs.models import Organization

    root = Organization.objects.filter(parent__isnull=True).order_by("path").first()
    if root is None:
        raise SystemExit("no orgs: build the demo first (bench/bench_demo.py)")
    scope = Scope(user_id=None, manage_paths=("/",), view_paths=("/",), is_admin=True)
    library()  # the packs are loaded once per process, not per evaluation
    out: list[dict[str, object]] = []
    for _ in range(runs):
        result: dict[str, object] = {}
        try:
            with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                run = evaluation_run(actor=None, scope=scope, org=root, year=year, trigger=Trigger.COMMAND)
                seconds = time.perf_counter() - started
                inserts = sum(
                    1 for q in ctx.captured_queries if 'INSERT INTO "compliance_finding"' in q["sql"]
                )
                result = {
                    "seconds": round(seconds, 2),
                    "queries": len(ctx.captured_queries),
                    "finding_inserts": inserts,
                    "findings": Finding.objects.filter(run=run).count(),
                    "counts": run.counts,
                }
                raise _Rollback
        except _Rollback:
            pass
        out.append(result)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--instance-dir", help="instance folder of the demo (default: the last bench_demo run)"
    )
    parser.add_argument("--year", type=int, default=dt.date.today().year)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    instance = demo_instance(args.instance_dir)
    engine = setup_django(instance, migrate=True)
    from zhibu.orgs.models import Organization
    from zhibu.people.models import Person

    orgs, people = Organization.objects.count(), Person.objects.count()
    rows = measure(args.year, args.runs)
    best = min(float(r["seconds"]) for r in rows)  # type: ignore[arg-type]
    ok = best < TARGET_SECONDS
    print(f"evaluation of {args.year}, {engine}, {orgs} orgs, {people} people, {args.runs} runs")
    for r in rows:
        print(
            f"  {r['seconds']:>6} s  {r['queries']:>4} queries ({r['finding_inserts']} finding inserts)"
            f"  {r['findings']} findings"
        )
    if engine == "postgresql":
        print("  (on PostgreSQL the findings are stored with one COPY, which the query count does not show)")
    print(f"  counts: {rows[-1]['counts']}")
    print(f"  target: < {TARGET_SECONDS} s → {'OK' if ok else 'TOO SLOW'}")
    result = {
        "benchmark": "evaluate",
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "backend": engine,
        "instance_dir": instance,
        "orgs": orgs,
        "people": people,
        "year": args.year,
        "target_seconds": TARGET_SECONDS,
        "ok": ok,
        "runs": rows,
    }
    write_result("evaluate", engine, result)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
