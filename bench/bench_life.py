"""Benchmark: organisational life (meetings, plan, talks, ledger) over the demo district of bench_demo.py.

With Django's test client, logged in (force_login) as the work committee's staff (wc_staff, the whole
district), school 1's secretary (school_secretary), the secretary of its first branch (branch_secretary)
and a member of that branch (member), requests the meetings list /life/meetings/ for the district, a school
and a branch (this year), the page of the branch's held meeting with the most attendance rows, the year
plan /life/plan/ and the talks /life/talks/ of the branch, the member's own page /life/me/, the ledger
(xlsx and pdf) of the branch and of the school for this year, the meeting's Word record and the API list
/api/v1/life/meetings/?page_size=100 (district and school) N times after a few warm-ups. Reports the median
and p90 in ms, CPU and SQL ms, the SQL queries per request, the response size and the process's peak RSS
after each case. A request over its limit (a page for a school or branch 300 ms, a district-wide page 1 s, a
download 5 s) is profiled with cProfile and its hot spots printed (--profile auto|always|never). Pending
migrations are applied to the demo database first, as the other benchmarks do. Each download writes an
audit entry into the demo database, as it would in use. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
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

TARGET_MEDIAN_MS = 300  # a page for one school or branch (or less)
DISTRICT_LIMIT_MS = 1000  # a district-wide page or API list
# A download the user waits for holds one of a few synchronous web workers (gunicorn kills a worker at
# 30 s by default): slower than this, it belongs in a background export that mails or lists the file.
DOWNLOAD_LIMIT_MS = 5000


@dataclass(frozen=True)
class Case:
    label: str
    user: str
    path: str
    kind: str  # "page" (school/branch), "district" (whole district), "download"

    @property
    def limit_ms(self) -> int:
        return {"page": TARGET_MEDIAN_MS, "district": DISTRICT_LIMIT_MS}.get(self.kind, DOWNLOAD_LIMIT_MS)


@dataclass(frozen=True)
class Targets:
    root_code: str
    school_code: str
    branch_code: str
    year: int
    meeting_pk: int
    meeting_kind: str
    meeting_attendance: int
    meetings_district: int
    meetings_school: int
    meetings_branch: int
    talks_branch: int


def find_targets(year: int) -> Targets:
    """The district's root, school 1 (school_secretary's), its first branch (branch_secretary's) and, in
    that branch, the held meeting of the year with the most attendance rows (every user here may open it)."""
    from django.db.models import Count
    from django.utils import timezone

    from zhibu.accounts.models import User
    from zhibu.core.scoping import scope_for
    from zhibu.life.models import Meeting, MeetingState, Talk
    from zhibu.orgs.models import Organization

    for name in ("wc_staff", "school_secretary", "branch_secretary", "member"):
        if not User.objects.filter(username=name).exists():
            raise SystemExit(f"no user {name!r}: build the demo first (bench/bench_demo.py)")

    def managed(name: str) -> Organization:
        paths = scope_for(User.objects.get(username=name)).manage_paths
        org = Organization.objects.filter(path__in=paths).order_by("depth").first()
        if org is None:
            raise SystemExit(f"{name} manages no org")
        return org

    root = Organization.objects.filter(parent__isnull=True).order_by("path").first()
    if root is None:
        raise SystemExit("no orgs: build the demo first (bench/bench_demo.py)")
    school, branch = managed("school_secretary"), managed("branch_secretary")
    tz = timezone.get_current_timezone()
    this_year = Meeting.objects.filter(
        starts_at__gte=dt.datetime(year, 1, 1, tzinfo=tz),
        starts_at__lt=dt.datetime(year + 1, 1, 1, tzinfo=tz),
    )
    meeting = (
        this_year.filter(org__path__startswith=branch.path, state=MeetingState.HELD)
        .annotate(n=Count("attendances"))
        .order_by("-n", "pk")
        .first()
    )
    if meeting is None:
        raise SystemExit(f"no held meeting in {branch.name} in {year}: the demo has no meetings that year")
    return Targets(
        root_code=root.code,
        school_code=school.code,
        branch_code=branch.code,
        year=year,
        meeting_pk=meeting.pk,
        meeting_kind=meeting.kind,
        meeting_attendance=meeting.n,  # type: ignore[attr-defined]
        meetings_district=this_year.count(),
        meetings_school=this_year.filter(org__path__startswith=school.path).count(),
        meetings_branch=this_year.filter(org__path__startswith=branch.path).count(),
        talks_branch=Talk.objects.filter(org__path__startswith=branch.path, held_on__year=year).count(),
    )


def cases_for(t: Targets) -> list[Case]:
    y, s, b, pk = t.year, t.school_code, t.branch_code, t.meeting_pk
    api = "/api/v1/life/meetings/?page_size=100"
    return [
        Case("meetings, district", "wc_staff", f"/life/meetings/?year={y}", "district"),
        Case("meetings ?org=school", "wc_staff", f"/life/meetings/?org={s}&year={y}", "page"),
        Case("meeting page", "wc_staff", f"/life/meetings/{pk}/", "page"),
        Case("API meetings, 100", "wc_staff", api, "district"),
        Case(f"API meetings {y}, 100", "wc_staff", f"{api}&year={y}", "district"),
        Case("meetings (own school)", "school_secretary", f"/life/meetings/?year={y}", "page"),
        Case("API meetings, 100", "school_secretary", api, "page"),
        Case("ledger.xlsx, school", "school_secretary", f"/life/ledger.xlsx?org={s}&year={y}", "download"),
        Case("ledger.pdf, school", "school_secretary", f"/life/ledger.pdf?org={s}&year={y}", "download"),
        Case("meetings (own branch)", "branch_secretary", f"/life/meetings/?year={y}", "page"),
        Case("meeting page", "branch_secretary", f"/life/meetings/{pk}/", "page"),
        Case("plan, branch", "branch_secretary", f"/life/plan/?org={b}&year={y}", "page"),
        Case("talks, branch", "branch_secretary", f"/life/talks/?org={b}&year={y}", "page"),
        Case("ledger.xlsx, branch", "branch_secretary", f"/life/ledger.xlsx?org={b}&year={y}", "download"),
        Case("ledger.pdf, branch", "branch_secretary", f"/life/ledger.pdf?org={b}&year={y}", "download"),
        Case("minutes.docx", "branch_secretary", f"/life/meetings/{pk}/minutes.docx", "download"),
        Case("my meetings /life/me/", "member", "/life/me/", "page"),
    ]


def _client_for(clients: dict[str, Any], username: str) -> Any:
    from django.test import Client

    from zhibu.accounts.models import User

    if username not in clients:
        client = Client()
        client.force_login(User.objects.get(username=username))
        clients[username] = client
    return clients[username]


def measure(cases: list[Case], runs: int, slow_runs: int, warmup: int) -> list[dict[str, Any]]:
    """Each case `runs` times (district-wide ones and downloads `slow_runs` times) after `warmup` requests."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clients: dict[str, Any] = {}
    out: list[dict[str, Any]] = []
    for case in cases:
        client = _client_for(clients, case.user)
        for _ in range(warmup):
            response = client.get(case.path)
            if response.status_code != 200:
                raise SystemExit(f"{case.user} {case.path} answered {response.status_code}")
        n = runs if case.kind == "page" else slow_runs
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
            if response.status_code != 200:
                raise SystemExit(f"{case.user} {case.path} answered {response.status_code}")
            queries.append(len(ctx.captured_queries))
            sql_ms.append(timer.seconds * 1000)
            size = len(response.content)
        deciles = statistics.quantiles(timings, n=10, method="inclusive") if n > 1 else [timings[0]] * 9
        median = statistics.median(timings)
        out.append(
            {
                "case": case.label,
                "user": case.user,
                "path": case.path,
                "kind": case.kind,
                "district": case.kind == "district",
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
                "limit_ms": case.limit_ms,
                "ok": median < case.limit_ms,
            }
        )
        print(f"  … {case.user:<17} {case.label:<24} {median:>9.1f} ms", flush=True)
    return out


def profile(case: Case, runs: int, top: int) -> dict[str, Any]:
    """cProfile a request a few times; the hot spots by own time and by cumulative time."""
    return profile_requests(_client_for({}, case.user), case, runs, top)


def verdict(row: dict[str, Any]) -> str:
    if row["kind"] == "download":
        return "fit for a request" if row["ok"] else f"over {row['limit_ms']} ms: background export"
    return "" if row["ok"] else f"← over {row['limit_ms']} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--instance-dir", help="instance folder of the demo (default: the last bench_demo run)"
    )
    parser.add_argument("--year", type=int, help="the year of the lists and ledgers (default: this year)")
    parser.add_argument("--runs", type=int, default=20, help="runs per school or branch page")
    parser.add_argument(
        "--district-runs", type=int, default=10, help="runs per district-wide request and per download"
    )
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="cProfile the requests over their limit (auto), the district-wide ones and downloads"
        " whatever their time (always), or none",
    )
    parser.add_argument("--profile-runs", type=int, default=2)
    parser.add_argument("--top", type=int, default=25, help="functions listed by the profile")
    args = parser.parse_args()

    instance = demo_instance(args.instance_dir)
    engine = setup_django(instance, migrate=True, test_client=True)  # the demo may predate a migration
    from django.utils import timezone

    from zhibu.life.models import Attendance, Meeting, Talk
    from zhibu.people.models import Person

    year = args.year or timezone.localdate().year
    people = Person.objects.count()
    n_meetings, n_attendance, n_talks = (
        Meeting.objects.count(),
        Attendance.objects.count(),
        Talk.objects.count(),
    )
    t = find_targets(year)
    print(
        f"organisational life, {engine}, {people} people, {n_meetings} meetings, {n_attendance} attendance"
        f" rows, {n_talks} talks; {year}: {t.meetings_district} meetings in the district,"
        f" {t.meetings_school} in school {t.school_code}, {t.meetings_branch} in branch {t.branch_code}"
        f" ({t.talks_branch} talks); meeting {t.meeting_pk} ({t.meeting_kind}, {t.meeting_attendance}"
        f" attendance rows); {args.runs} runs ({args.district_runs} district-wide and downloads)"
        f" after {args.warmup} warm-ups",
        flush=True,
    )
    cases = cases_for(t)
    rows = measure(cases, args.runs, args.district_runs, args.warmup)

    print_rows(rows, verdict)
    ok = all(r["ok"] for r in rows)
    print(
        f"  targets: median < {TARGET_MEDIAN_MS} ms for a school or branch, district-wide"
        f" < {DISTRICT_LIMIT_MS} ms, a download < {DOWNLOAD_LIMIT_MS} ms (else a background export)"
        f" → {'OK' if ok else 'OVER'}"
    )

    profiles = []
    for row, case in zip(rows, cases, strict=True):
        if args.profile == "never":
            continue
        if args.profile == "auto" and row["ok"]:
            continue
        if args.profile == "always" and case.kind == "page" and row["ok"]:
            continue
        print(f"\n  profile of {case.user} {case.path} ({args.profile_runs} requests)", flush=True)
        profiled = profile(case, args.profile_runs, args.top)
        print(profiled["cumulative"])
        print(profiled["tottime"])
        profiles.append({k: v for k, v in profiled.items() if k not in ("tottime", "cumulative")})

    result = {
        "benchmark": "life",
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "backend": engine,
        "instance_dir": instance,
        "people": people,
        "meetings_total": n_meetings,
        "attendance_total": n_attendance,
        "talks_total": n_talks,
        "targets": t.__dict__,
        "target_median_ms": TARGET_MEDIAN_MS,
        "district_limit_ms": DISTRICT_LIMIT_MS,
        "download_limit_ms": DOWNLOAD_LIMIT_MS,
        "ok": ok,
        "cases": rows,
        "peak_rss_mb": peak_rss_mb(),
        "profiles": profiles,
    }
    write_result("life", engine, result)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
