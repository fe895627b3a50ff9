"""Two secretaries record the same step at the same moment: exactly one record is written."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from tests.development.pipeline import applicant, open_case, record
from zhibu.core.errors import ServiceError
from zhibu.development.models import DevelopmentStep

D = dt.date


@pytest.mark.django_db(transaction=True)
def test_the_same_step_recorded_twice_at_once_is_written_once(world):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the row lock matters on PostgreSQL")
    case = open_case(world, applicant(world))
    barrier = threading.Barrier(2)
    refused: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            record(world, case, "application_talk", D(2023, 3, 20), {"talker": "李红梅"})
        except ServiceError as exc:
            refused.append(exc.message)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert DevelopmentStep.objects.filter(case=case, code="application_talk").count() == 1
    assert len(refused) == 1 and "已于" in refused[0]
