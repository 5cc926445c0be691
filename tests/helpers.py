"""Small assertions shared by the page tests."""

from __future__ import annotations

from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

# Pages are Simplified Chinese unless the visitor asks otherwise; tests compare with the
# message as gettext gives it in that language, so they hold before and after translation.
PAGE_LANGUAGE = "zh-hans"


def zh(message: str, **params) -> str:
    """Return message in the page language, formatted with params if any."""
    with translation.override(PAGE_LANGUAGE):
        text = gettext(message)
    return text % params if params else text


def assert_in_page(response, message: str) -> None:
    """Assert the rendered page shows message (HTML-escaped, as the template writes it)."""
    assert escape(message) in response.content.decode(), message


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]
