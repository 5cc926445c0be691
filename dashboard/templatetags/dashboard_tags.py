"""Formatting of report cells by column kind."""

from __future__ import annotations

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

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


@register.simple_tag
def report_rows(rows, columns) -> SafeString:
    """A report table's body rows, written in Python: the scorecard or the feedback quota of
    600 managers has 9,000 cells, and a template loop costs several times more per cell."""
    kinds = [kind for _name, kind in columns]
    lines = []
    for row in rows:
        cells = []
        for index, (value, kind) in enumerate(zip(row, kinds, strict=False)):
            text = escape(report_value(value, kind))  # plain text: no lazy wrapper per cell
            if index == 0:
                cells.append(f'<th scope="row" class="text-nowrap">{text}</th>')
            else:
                cells.append(
                    f'<td class="money">{text}</td>' if is_number(kind) else f"<td>{text}</td>"
                )
        lines.append(f"<tr>{''.join(cells)}</tr>")
    return mark_safe("\n".join(lines))  # noqa: S308 - every value is escaped above
