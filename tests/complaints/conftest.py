"""Complaint fixtures: an east customer managed by `manager`, and a complaint factory."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import CustomerStatus
from complaints import services
from complaints.models import Status
from tests.factories import ContactFactory, CustomerFactory


@pytest.fixture
def customer(east, head, manager, manager2):
    return CustomerFactory(
        name="上海华鼎精密仪器有限公司",
        department=east,
        primary_manager=manager,
        assistant_manager=manager2,
        status=CustomerStatus.ACTIVE,
        tier="B",
    )


@pytest.fixture
def contact(customer):
    return ContactFactory(customer=customer, name="王采购")


@pytest.fixture
def make_complaint(customer, manager):
    def make(*, status: str = Status.NEW, by=None, **fields):
        fields.setdefault("customer", customer)
        fields.setdefault("channel", "phone")
        fields.setdefault("category", "delivery")
        fields.setdefault("severity", "high")
        fields.setdefault("description", "交货延迟三天")
        fields.setdefault("received_at", timezone.now() - timedelta(minutes=5))
        complaint = services.complaint_create(created_by=by or manager, **fields)
        if status != Status.NEW:
            from complaints.models import Complaint

            Complaint.objects.filter(pk=complaint.pk).update(status=status)
            complaint.refresh_from_db()
        return complaint

    return make
