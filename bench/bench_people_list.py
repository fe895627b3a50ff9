"""Benchmark: the people list page over the demo district built by bench_demo.py.

With Django's test client, logged in (force_login) as the work committee's staff (wc_staff, who sees
every school), requests /people/ and some filtered pages N times after a few warm-ups, and reports
the median and p90 in ms and the SQL queries per request. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time

from _common import demo_instance, setup_django, write_result

TARGET_MEDIAN_MS = 300

# (label, user, path, htmx?)
CASES = [
    ("list, page 1", "wc_staff", "/people/", False),
    ("search q=zsf", "wc_staff", "/people/?q=zsf", False),
    ("status=probationary", "wc_staff", "/people/?status=probationary", False),
    ("page 50", "wc_staff", "/people/?page=50", False),
    ("htmx: q=zhang", "wc_staff", "/people/?q=zhang", True),
    ("one school (school_secretary)", "school_secretary", "/people/", False),
]


def measure(runs: int, warmup: int) -> list[dict[str, object]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from zhibu.accounts.models import User

    clients: dict[str, Client] = {}
    out: list[dict[str, object]] = []
    for label, username, path, htmx in CASES:
        if username not in clients:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise SystemExit(f"no user {username!r}: build the demo first (bench/bench_demo.py)")
            client = Client()
            client.force_login(user)
            clients[username] = client
        client = clients[username]
        headers = {"HX-Request": "true"} if htmx else {}
        for _ in range(warmup):
            response = client.get(path, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}")
        timings: list[float] = []
        queries: list[int] = []
        size = 0
        for _ in range(runs):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(path, headers=headers)
                timings.append((time.perf_counter() - started) * 1000)
            queries.append(len(ctx.captured_queries))
            size = len(response.content)
        deciles = statistics.quantiles(timings, n=10, method="inclusive")
        out.append(
            {
                "case": label,
                "user": username,
                "path": path,
                "htmx": htmx,
                "runs": runs,
                "median_ms": round(statistics.median(timings), 1),
                "p90_ms": round(deciles[8], 1),
                "min_ms": round(min(timings), 1),
                "max_ms": round(max(timings), 1),
                "queries": max(queries),
                "queries_min": min(queries),
                "bytes": size,
                "ok": statistics.median(timings) < TARGET_MEDIAN_MS,
            }
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--instance-dir", help="instance folder of the demo (default: the last bench_demo run)"
    )
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    instance = demo_instance(args.instance_dir)
    engine = setup_django(instance, test_client=True)
    from zhibu.people.models import Person

    people = Person.objects.count()
    rows = measure(args.runs, args.warmup)

    print(f"people list, {engine}, {people} people, {args.runs} runs after {args.warmup} warm-ups")
    header = f"  {'case':<30} {'median ms':>10} {'p90 ms':>8} {'queries':>8} {'KB':>6}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    for r in rows:
        print(
            f"  {r['case']:<30} {r['median_ms']:>10} {r['p90_ms']:>8} {r['queries']:>8}"
            f" {int(r['bytes']) // 1024:>6}{'' if r['ok'] else '  ← over target'}"  # type: ignore[call-overload]
        )
    ok = all(r["ok"] for r in rows)
    print(f"  target: median < {TARGET_MEDIAN_MS} ms → {'OK' if ok else 'TOO SLOW'}")

    result = {
        "benchmark": "people_list",
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "backend": engine,
        "instance_dir": instance,
        "people": people,
        "target_median_ms": TARGET_MEDIAN_MS,
        "ok": ok,
        "cases": rows,
    }
    write_result("people_list", engine, result)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
