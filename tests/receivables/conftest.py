"""The receivables tests read messages and pages in English, the product's second language."""

import pytest
from django.test import Client
from django.utils import translation


@pytest.fixture(autouse=True)
def english_messages():
    with translation.override("en"):
        yield


@pytest.fixture
def client_for(db):
    """Like the standard client_for, with a browser that asks for English pages."""

    def make(user) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return make
