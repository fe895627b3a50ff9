"""Benchmark: the development pipeline's pages, API and roster over the demo district built by bench_demo.py.

With Django's test client, logged in (force_login) as the work committee's staff (wc_staff, the whole
district), as school 1's secretary (school_secretary) and as the secretary of its first branch
(branch_secretary), requests the development board /development/ (and ?org=<school code>), one case page,
the API list /api/v1/development/cases/?page_size=100 and the roster download /development/roster.xlsx
(district, school, branch) N times after a few warm-ups. Reports the median and p90 in ms, the time
spent in SQL, the SQL queries per request, the response size and the process's peak RSS after each case.
A district-wide request slower than 1 s is profiled with cProfile and its hot spots printed
(--profile always|never). Pending migrations are applied to the demo database first, as
bench_evaluate.py does. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

from _common import (
    SqlTimer,
    demo_instance,
    peak_rss_mb,
    print_rows,
    profile_requests,
    setup_django,
    write_result,
)

TARGET_MEDIAN_MS = 300  # a page for one school (or less)
DISTRICT_LIMIT_MS = 1000  # said plainly when a district-wide request is slower


@dataclass(frozen=True)
class Case:
    label: str
    user: str
    path: str
    district: bool  # over the whole district: compared against DISTRICT_LIMIT_MS, not the page target


@dataclass(frozen=True)
class Targets:
    root_code: str
    school_code: str
    branch_code: str
    case_pk: int
    case_steps: int
    case_person: str


def find_targets() -> Targets:
    """The district's root, school 1 (school_secretary's), its first branch (branch_secretary's) and, in
    that branch, the case with the most recorded steps (every user here may open it)."""
    from django.db.models import Count

    from zhibu.accounts.models import User
    from zhibu.core.scoping import scope_for
    from zhibu.development.models import DevelopmentCase
    from zhibu.orgs.models import Organization

    def user(name: str) -> Any:
        found = User.objects.filter(username=name).first()
        if found is None:
            raise SystemExit(f"no user {name!r}: build the demo first (bench/bench_demo.py)")
        return found

    def managed(name: str) -> Organization:
        paths = scope_for(user(name)).manage_paths
        org = Organization.objects.filter(path__in=paths).order_by("depth").first()
        if org is None:
            raise SystemExit(f"{name} manages no org")
        return org

    root = Organization.objects.filter(parent__isnull=True).order_by("path").first()
    if root is None:
        raise SystemExit("no orgs: build the demo first (bench/bench_demo.py)")
    school, branch = managed("school_secretary"), managed("branch_secretary")
    case = (
        DevelopmentCase.objects.filter(person__org__path__startswith=branch.path)
        .annotate(n=Count("steps"))
        .select_related("person")
        .order_by("-n", "pk")
        .first()
    )
    if case is None:
        raise SystemExit(f"no development case in {branch.name}: the demo has no development data")
    return Targets(root.code, school.code, branch.code, case.pk, case.n, case.person.name)  # type: ignore[attr-defined]


def cases_for(t: Targets) -> list[Case]:
    api = "/api/v1/development/cases/?page_size=100"
    return [
        Case("board, district", "wc_staff", "/development/", True),
        Case("board ?org=school", "wc_staff", f"/development/?org={t.school_code}", False),
        Case("case page", "wc_staff", f"/development/cases/{t.case_pk}/", False),
        Case("API cases, 100", "wc_staff", api, True),
        Case("roster.xlsx, district", "wc_staff", f"/development/roster.xlsx?org={t.root_code}", True),
        Case("roster.xlsx, school", "wc_staff", f"/development/roster.xlsx?org={t.school_code}", False),
        Case("board (own school)", "school_secretary", "/development/", False),
        Case("case page", "school_secretary", f"/development/cases/{t.case_pk}/", False),
        Case("API cases, 100", "school_secretary", api, False),
        Case(
            "roster.xlsx, school", "school_secretary", f"/development/roster.xlsx?org={t.school_code}", False
        ),
        Case("board (own branch)", "branch_secretary", "/development/", False),
        Case("case page", "branch_secretary", f"/development/cases/{t.case_pk}/", False),
        Case("API cases, 100", "branch_secretary", api, False),
        Case(
            "roster.xlsx, branch", "branch_secretary", f"/development/roster.xlsx?org={t.branch_code}", False
        ),
    ]


def measure(cases: list[Case], runs: int, district_runs: int, warmup: int) -> list[dict[str, Any]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from zhibu.accounts.models import User

    clients: dict[str, Client] = {}
    out: list[dict[str, Any]] = []
    for case in cases:
        if case.user not in clients:
            client = Client()
            client.force_login(User.objects.get(username=case.user))
            clients[case.user] = client
        client = clients[case.user]
        for _ in range(warmup):
            response = client.get(case.path)
            if response.status_code != 200:
                raise SystemExit(f"{case.user} {case.path} answered {response.status_code}")
        n = district_runs if case.district else runs
        timings: list[float] = []
        sql_ms: list[float] = []
        cpu_ms: list[float] = []
        queries: list[int] = []
        size = 0
        for _ in range(n):
            timer = SqlTimer()
            with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(timer):
                started, cpu = time.perf_counter(), time.process_time()
                response = client.get(case.path)
                timings.append((time.perf_counter() - started) * 1000)
                cpu_ms.append((time.process_time() - cpu) * 1000)
            queries.append(len(ctx.captured_queries))
            sql_ms.append(timer.seconds * 1000)
            size = len(response.content)
        deciles = statistics.quantiles(timings, n=10, method="inclusive") if n > 1 else [timings[0]] * 9
        median = statistics.median(timings)
        limit = DISTRICT_LIMIT_MS if case.district else TARGET_MEDIAN_MS
        out.append(
            {
                "case": case.label,
                "user": case.user,
                "path": case.path,
                "district": case.district,
                "runs": n,
                "median_ms": round(median, 1),
                "p90_ms": round(deciles[8], 1),
                "min_ms": round(min(timings), 1),
                "max_ms": round(max(timings), 1),
                "cpu_ms_median": round(statistics.median(cpu_ms), 1),
                "sql_ms_median": round(statistics.median(sql_ms), 1),
                "queries": max(queries),
                "queries_min": min(queries),
                "bytes": size,
                "peak_rss_mb_after": peak_rss_mb(),
                "limit_ms": limit,
                "ok": median < limit,
            }
        )
        print(f"  … {case.user:<17} {case.label:<24} {median:>8.1f} ms", flush=True)
    return out


def _median_ms(fn: Any, runs: int) -> tuple[float, float, float, Any]:
    """Median wall ms, CPU ms (this process) and SQL ms of `fn()` over runs; its last result."""
    from django.db import connection

    walls, cpus, sqls, result = [], [], [], None
    for _ in range(runs):
        timer = SqlTimer()
        with connection.execute_wrapper(timer):
            started, cpu = time.perf_counter(), time.process_time()
            result = fn()
            walls.append((time.perf_counter() - started) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        sqls.append(timer.seconds * 1000)
    return (
        round(statistics.median(walls), 1),
        round(statistics.median(cpus), 1),
        round(statistics.median(sqls), 1),
        result,
    )


def phases(root_code: str, runs: int) -> list[dict[str, Any]]:
    """Where a district-wide board and roster spend their time, phase by phase, without a profiler's
    overhead: the same calls as the views (development/selectors.py, views_docs.py), as wc_staff. The
    "what if" lines leave the encrypted ID number and phone unread (deferred), which neither needs."""
    from django.utils import timezone

    from zhibu.accounts.models import User
    from zhibu.core.scoping import scope_for
    from zhibu.development import selectors
    from zhibu.development.models import CaseState, DevelopmentCase
    from zhibu.development.rosters import load_roster_cases, write_roster_xlsx
    from zhibu.development.views_docs import _next_steps

    scope = scope_for(User.objects.get(username="wc_staff"))
    today = timezone.localdate()
    org = selectors.org_visible(scope, "")
    board_qs = scope.by_org_path(
        DevelopmentCase.objects.filter(state=CaseState.OPEN, person__org__path__startswith=org.path),
        "person__org__path",
    ).order_by("person__name_pinyin", "id")
    out: list[dict[str, Any]] = []

    def add(what: str, fn: Any) -> Any:
        wall, cpu, sql, result = _median_ms(fn, runs)
        out.append({"phase": what, "median_ms": wall, "cpu_ms": cpu, "sql_ms": sql})
        print(f"  {what:<58} {wall:>9} {cpu:>9} {sql:>8}", flush=True)
        return result

    print(f"\n  phases, district-wide as wc_staff, median of {runs}")
    print(f"  {'phase':<58} {'ms':>9} {'CPU ms':>9} {'SQL ms':>8}")
    cases = add("board: read open cases + person + org + steps", lambda: selectors._cases(board_qs))
    add(
        "  what if: person's id_number, phone deferred",
        lambda: selectors._cases(board_qs.defer("person__id_number", "person__phone")),
    )
    timelines = add(
        "board: timelines_for (policies, calendar, build)", lambda: selectors.timelines_for(cases, today)
    )
    add(
        "board: _line per case (next steps, deadlines)",
        lambda: [selectors._line(c, timelines[c.pk], today) for c in cases],
    )
    add("board: board_page in all", lambda: selectors.board_page(scope, "", today=today))
    add("board: orgs_for_choice (the org drop-down)", lambda: selectors.orgs_for_choice(scope))
    roster_qs = scope.by_org_path(
        DevelopmentCase.objects.filter(person__org__path__startswith=org.path), "person__org__path"
    )
    rcases = add("roster: load_roster_cases (cases, steps, roles)", lambda: load_roster_cases(roster_qs))
    add(
        "  what if: person's id_number, phone deferred",
        lambda: load_roster_cases(roster_qs.defer("person__id_number", "person__phone")),
    )
    nxt = add("roster: _next_steps (timelines without workdays)", lambda: _next_steps(rcases))
    add(
        "roster: write_roster_xlsx",
        lambda: write_roster_xlsx(rcases, io.BytesIO(), on=today, next_steps=nxt),
    )
    return out


def profile(case: Case, runs: int, top: int) -> dict[str, Any]:
    """cProfile a request a few times; the hot spots by own time and by cumulative time."""
    from django.test import Client

    from zhibu.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=case.user))
    return profile_requests(client, case, runs, top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--instance-dir", help="instance folder of the demo (default: the last bench_demo run)"
    )
    parser.add_argument("--runs", type=int, default=20, help="runs per school or branch request")
    parser.add_argument("--district-runs", type=int, default=10, help="runs per district-wide request")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="cProfile the district-wide requests: those over 1 s (auto), all of them, or none",
    )
    parser.add_argument("--profile-runs", type=int, default=2)
    parser.add_argument("--top", type=int, default=25, help="functions listed by the profile")
    parser.add_argument(
        "--phase-runs", type=int, default=3, help="runs of each phase of the district board and roster"
    )
    args = parser.parse_args()

    instance = demo_instance(args.instance_dir)
    engine = setup_django(instance, migrate=True, test_client=True)  # the demo may predate a migration
    from zhibu.development.models import DevelopmentCase, DevelopmentStep
    from zhibu.people.models import Person

    people = Person.objects.count()
    n_cases = DevelopmentCase.objects.count()
    n_open = DevelopmentCase.objects.filter(state="open").count()
    n_steps = DevelopmentStep.objects.count()
    targets = find_targets()
    print(
        f"development pipeline, {engine}, {people} people, {n_cases} cases ({n_open} open), {n_steps} steps;"
        f" school {targets.school_code}, branch {targets.branch_code}, case {targets.case_pk}"
        f" ({targets.case_steps} steps); {args.runs} runs ({args.district_runs} district-wide)"
        f" after {args.warmup} warm-ups",
        flush=True,
    )
    cases = cases_for(targets)
    rows = measure(cases, args.runs, args.district_runs, args.warmup)

    print_rows(rows, lambda r: "" if r["ok"] else f"← over {r['limit_ms']} ms")
    ok = all(r["ok"] for r in rows)
    print(
        f"  targets: median < {TARGET_MEDIAN_MS} ms for a school or branch,"
        f" district-wide < {DISTRICT_LIMIT_MS} ms → {'OK' if ok else 'OVER'}"
    )

    slow = any(r["district"] and not r["ok"] for r in rows)
    phase_rows = (
        phases(targets.root_code, args.phase_runs)
        if args.profile == "always" or (args.profile == "auto" and slow)
        else []
    )
    profiles = []
    for row, case in zip(rows, cases, strict=True):
        if not case.district or args.profile == "never":
            continue
        if args.profile == "auto" and row["median_ms"] < DISTRICT_LIMIT_MS:
            continue
        print(f"\n  profile of {case.user} {case.path} ({args.profile_runs} requests)", flush=True)
        profiled = profile(case, args.profile_runs, args.top)
        print(profiled["cumulative"])
        print(profiled["tottime"])
        profiles.append({k: v for k, v in profiled.items() if k not in ("tottime", "cumulative")})

    result = {
        "benchmark": "development",
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "backend": engine,
        "instance_dir": instance,
        "people": people,
        "cases_total": n_cases,
        "cases_open": n_open,
        "steps_total": n_steps,
        "targets": targets.__dict__,
        "target_median_ms": TARGET_MEDIAN_MS,
        "district_limit_ms": DISTRICT_LIMIT_MS,
        "ok": ok,
        "cases": rows,
        "peak_rss_mb": peak_rss_mb(),
        "phases": phase_rows,
        "profiles": profiles,
    }
    write_result("development", engine, result)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
