"""Formatting of report cells by column kind."""

from __future__ import annotations

from django import template

from accounts.templatetags.crm import yuan

from ..reports import DECIMAL, INT, MONEY, PERCENT

register = template.Library()


@register.filter
def cells(row, columns):
    """Pair a report row's values with their column kinds: [(value, kind), ...]."""
    return [(value, kind) for value, (_name, kind) in zip(row, columns, strict=False)]


@register.filter
def report_value(value, kind: str) -> str:
    if value is None or value == "":
        return "–" if kind in (MONEY, INT, PERCENT, DECIMAL) else ""
    if kind == MONEY:
        return yuan(value)
    if kind == PERCENT:
        return f"{value} %"
    if kind == INT:
        return f"{value:,}"
    return str(value)


@register.filter
def is_number(kind: str) -> bool:
    return kind in (MONEY, INT, PERCENT, DECIMAL)
