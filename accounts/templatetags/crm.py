"""Formatting for China: money in yuan with thousands separators."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext

register = template.Library()


@register.filter
def yuan(value, places: int = 2) -> str:
    """Format a Decimal as ¥1,234,567.89 (negative as -¥1,234.00); blank for None."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.{int(places)}f}"


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """Return the current query string with some parameters replaced (for pagination links)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


@register.simple_tag
def tier_badge(tier) -> str:
    """A customer's tier as a coloured badge, or a dash with "not graded yet". A tag, not an
    included template: an include per row was a third of a list's rendering time."""
    if tier:
        return format_html('<span class="badge tier-badge tier-{0}">{0}</span>', tier)
    return format_html('<span class="text-muted" title="{}">–</span>', gettext("Not graded yet"))
