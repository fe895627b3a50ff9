"""Planner statistics after bulk writes: SQLite has none until ANALYZE runs."""

from __future__ import annotations

from django.db import connection

from zhibu.core.statistics import planner_statistics_refresh
from zhibu.orgs.models import Organization


def test_the_planner_gets_statistics_of_the_tables(world):
    planner_statistics_refresh([Organization])
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'orgs_organization'")
            assert cursor.fetchall(), "no statistics for orgs_organization"
        else:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'orgs_organization'")
            assert cursor.fetchone()[0] == Organization.objects.count()
