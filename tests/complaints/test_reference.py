"""Reference numbers: CP-<year>-<6 digits>, unique and gap-free per year."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction

from complaints import services
from complaints.models import Complaint


def test_numbers_count_per_year(make_complaint):
    with time_machine.travel(datetime(2026, 12, 31, 23, 0, tzinfo=ZoneInfo("Asia/Shanghai"))):
        first, second = make_complaint(), make_complaint()
    with time_machine.travel(datetime(2027, 1, 1, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))):
        third = make_complaint()
    assert [first.reference, second.reference, third.reference] == [
        "CP-2026-000001",
        "CP-2026-000002",
        "CP-2027-000001",
    ]


def test_a_rolled_back_intake_gives_its_number_back(make_complaint):
    make_complaint()
    with pytest.raises(RuntimeError), transaction.atomic():
        make_complaint()
        raise RuntimeError
    assert make_complaint().reference.endswith("-000002")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_20_concurrent_intakes_get_unique_gap_free_numbers(make_complaint, manager, customer):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for 20 truly concurrent writers")
    barrier = threading.Barrier(20)
    errors = []

    def create():
        try:
            barrier.wait()
            make_complaint()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(int(ref[-6:]) for ref in Complaint.objects.values_list("reference", flat=True))
    assert numbers == list(range(1, 21))
    assert services.ReferenceCounter.objects.get().last_number == 20
