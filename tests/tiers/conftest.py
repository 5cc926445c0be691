import pytest

from tiers.models import ScoringModel


@pytest.fixture
def default_model(db):
    return ScoringModel.objects.get(is_active=True)


@pytest.fixture(autouse=True)
def english_messages():
    """These tests match the services' messages in English (pages still follow the request)."""
    from django.utils import translation

    with translation.override("en"):
        yield
