"""The query planner's statistics, refreshed after bulk writes.

SQLite keeps no statistics until ANALYZE runs; without them it may drive a member's own query from the
district's meetings (an index on state and date) instead of from the member's few attendance rows, which
turned /life/me/ from 30 ms into 250 ms on a 300-school district. PostgreSQL's autovacuum analyzes in its
own time, so a bulk load there is analyzed table by table right away.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def planner_statistics_refresh(models: Sequence[type[Model]] = ()) -> None:
    """ANALYZE the tables of `models` (SQLite: the whole database, which costs about a second for a
    300-school district and is what SQLite's own `PRAGMA optimize` would choose after a bulk load)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("ANALYZE")
        elif models:
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
            cursor.execute(f"ANALYZE {tables}")
        else:
            cursor.execute("ANALYZE")
