"""get_FOO_display() answers from a dict built once per field, in the active language."""

from __future__ import annotations

from unittest import mock

import pytest
from django.utils import translation

from accounts.models import Customer, CustomerStatus
from complaints.models import Complaint
from contracts.models import Contract


def test_it_labels_in_the_active_language():
    customer = Customer(status=CustomerStatus.ACTIVE, industry="it")
    with translation.override("en"):
        assert customer.get_status_display() == "Active"
        assert customer.get_industry_display() == "Information technology"
    with translation.override("zh-hans"):
        assert customer.get_status_display() == str(CustomerStatus.ACTIVE.label)
        assert customer.get_status_display() != "Active"


def test_an_unknown_value_shows_as_it_is():
    assert Customer(status="no-such-status").get_status_display() == "no-such-status"


@pytest.mark.parametrize("model", [Customer, Complaint, Contract])
def test_it_does_not_rebuild_the_choices_on_every_call(model):
    instance = model(status=model._meta.get_field("status").choices[0][0])
    instance.get_status_display()
    # Django's own version hashes (and so translates) every label of the field per call.
    with mock.patch("django.db.models.base.make_hashable") as django_rebuild:
        for _ in range(3):
            assert instance.get_status_display()
    django_rebuild.assert_not_called()
