import pytest

from tiers.models import ScoringModel


@pytest.fixture
def default_model(db):
    return ScoringModel.objects.get(is_active=True)
