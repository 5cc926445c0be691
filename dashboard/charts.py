"""Server-drawn charts: small functions that return inline SVG markup.

No script, no external asset: the SVG sits in the page, prints as vectors, and each mark carries
a <title> (a tooltip and an accessible label). Every piece of text is escaped here, so the result
is marked safe for templates. The numbers come in as plain values; nothing here queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import count

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Colour-blind-friendly palette (Okabe–Ito); tiers keep the colours of their badges (app.css).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"]
TIER_COLOURS = {"A": "#6f42c1", "B": "#0d6efd", "C": "#20c997", "D": "#adb5bd", "": "#dee2e6"}
WIDTH = 640
FONT = 'font-family="system-ui, sans-serif" font-size="12"'
_ids = count(1)


def _num(value) -> float:
    return float(value or 0)


def _fmt(value) -> str:
    """Format a figure for a label: thousands separators, at most one decimal."""
    if value is None:
        return "–"
    if isinstance(value, (int,)) or (isinstance(value, Decimal | float) and value == int(value)):
        return f"{int(value):,}"
    return f"{float(value):,.1f}"


def colour(index: int, key: str | None = None) -> str:
    if key is not None and key in TIER_COLOURS:
        return TIER_COLOURS[key]
    return PALETTE[index % len(PALETTE)]


def _open(title: str, height: int, description: str = "") -> tuple[str, str]:
    ident = f"chart-{next(_ids)}"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="crm-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{ident}-t{" " + ident + "-d" if description else ""}" {FONT}>'
        f'<title id="{ident}-t">{escape(title)}</title>'
    )
    if description:
        head += f'<desc id="{ident}-d">{escape(description)}</desc>'
    return ident, head


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _legend(names: Sequence[tuple[str, str]], y: int) -> str:
    parts, x = [], 10
    for name, fill in names:
        parts.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{fill}"/>'
            f'<text x="{x + 16}" y="{y}">{escape(name)}</text>'
        )
        x += 30 + 8 * len(str(name))
    return "".join(parts)


def bar_chart(
    items: Sequence[tuple[str, object]], *, title: str, value_suffix: str = "", max_value=None
) -> SafeString:
    """Horizontal bars, one per (label, value)."""
    items = list(items)
    row, left = 24, 160
    height = max(1, len(items)) * row + 20
    _, svg = _open(title, height)
    top = _nice_max(max_value if max_value is not None else max([_num(v) for _, v in items] or [0]))
    span = WIDTH - left - 80
    parts = [svg]
    for i, (label, value) in enumerate(items):
        y = 10 + i * row
        length = span * _num(value) / top if top else 0
        text = f"{_fmt(value)}{value_suffix}"
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{escape(str(label)[:24])}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{colour(0, str(label))}"><title>{escape(label)}: {escape(text)}</title></rect>'
            f'<text x="{left + length + 4:.1f}" y="{y + 15}">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def stacked_bar_chart(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[object]]],
    *,
    title: str,
    tier_colours: bool = False,
) -> SafeString:
    """Vertical bars per category, each split into the series' values."""
    categories = list(categories)
    height, bottom, left = 260, 200, 60
    _, svg = _open(title, height)
    totals = [sum(_num(values[i]) for _, values in series) for i in range(len(categories))]
    top = _nice_max(max(totals or [0]))
    band = (WIDTH - left - 10) / max(1, len(categories))
    bar = min(60.0, band * 0.7)
    parts = [svg, _axis(left, bottom, top)]
    for i, category in enumerate(categories):
        x = left + i * band + (band - bar) / 2
        y = float(bottom)
        for j, (name, values) in enumerate(series):
            value = _num(values[i])
            h = (bottom - 20) * value / top if top else 0
            if h <= 0:
                continue
            y -= h
            fill = _series_colour(j, name, tier_colours)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{fill}">'
                f"<title>{escape(category)} · {escape(name)}: {escape(_fmt(values[i]))}</title>"
                f"</rect>"
            )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{bottom + 16}" text-anchor="middle">'
            f"{escape(str(category)[:12])}</text>"
        )
    fills = [(name, _series_colour(j, name, tier_colours)) for j, (name, _) in enumerate(series)]
    parts.append(_legend(fills, height - 12))
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _series_colour(index: int, name: str, tier_colours: bool) -> str:
    """A tier series takes its badge colour; any other series name there is "ungraded"."""
    if tier_colours:
        return TIER_COLOURS.get(str(name), TIER_COLOURS[""])
    return colour(index)


def _axis(left: int, bottom: int, top: float) -> str:
    parts = [f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - 10}" y2="{bottom}" stroke="#666"/>']
    for k in range(5):
        value = top * k / 4
        y = bottom - (bottom - 20) * k / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - 10}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{escape(_short(value))}</text>'
        )
    return "".join(parts)


def _short(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 10_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def line_chart(
    categories: Sequence[str], series: Sequence[tuple[str, Sequence[object]]], *, title: str
) -> SafeString:
    """One line per series over the categories (e.g. quarters), with a dot per point."""
    categories = list(categories)
    height, bottom, left = 260, 200, 60
    _, svg = _open(title, height)
    values = [_num(v) for _, vs in series for v in vs]
    top = _nice_max(max(values or [0]))
    low = min(0.0, min(values or [0]))
    left += 24  # keep the first point clear of the axis labels
    step = (WIDTH - left - 30) / max(1, len(categories) - 1)
    parts = [svg, _axis(left - 24, bottom, top)]

    def y_of(v):
        return bottom - (bottom - 20) * (_num(v) - low) / ((top - low) or 1)

    for j, (name, vs) in enumerate(series):
        fill = colour(j)
        points = " ".join(f"{left + i * step:.1f},{y_of(v):.1f}" for i, v in enumerate(vs))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{fill}" stroke-width="2"/>')
        for i, v in enumerate(vs):
            parts.append(
                f'<circle cx="{left + i * step:.1f}" cy="{y_of(v):.1f}" r="3.5" fill="{fill}">'
                f"<title>{escape(categories[i])} · {escape(name)}: {escape(_fmt(v))}</title>"
                f"</circle>"
            )
    for i, category in enumerate(categories):
        parts.append(
            f'<text x="{left + i * step:.1f}" y="{bottom + 16}" text-anchor="middle">'
            f"{escape(category)}</text>"
        )
    parts.append(_legend([(name, colour(j)) for j, (name, _) in enumerate(series)], height - 12))
    parts.append("</svg>")
    return mark_safe("".join(parts))


def heat_map(
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    matrix: Sequence[Sequence[int]],
    *,
    title: str,
    links: Sequence[Sequence[str | None]] | None = None,
    row_title: str = "",
    col_title: str = "",
) -> SafeString:
    """A grid of cells shaded by count; a cell with a link is a link (to the customers)."""
    cell, left, top_margin = 56, 110, 50
    height = top_margin + cell * len(row_labels) + 20
    _, svg = _open(title, height)
    biggest = max([v for row in matrix for v in row] or [0]) or 1
    parts = [svg]
    if col_title:
        parts.append(f'<text x="{left}" y="14" font-weight="bold">{escape(col_title)}</text>')
    if row_title:
        parts.append(
            f'<text x="4" y="{top_margin - 8}" font-weight="bold">{escape(row_title)}</text>'
        )
    for j, label in enumerate(col_labels):
        parts.append(
            f'<text x="{left + j * cell + cell / 2:.1f}" y="{top_margin - 8}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    for i, label in enumerate(row_labels):
        y = top_margin + i * cell
        parts.append(
            f'<text x="{left - 8}" y="{y + cell / 2 + 4:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        for j, value in enumerate(matrix[i]):
            x = left + j * cell
            share = value / biggest
            fill = f"rgba(0,114,178,{0.08 + 0.85 * share:.2f})" if value else "#f4f4f4"
            ink = "#fff" if share > 0.55 else "#000"
            mark = (
                f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{fill}" '
                f'stroke="#ccc"><title>{escape(label)} → {escape(col_labels[j])}: {value}</title>'
                f'</rect><text x="{x + cell / 2 - 1:.1f}" y="{y + cell / 2 + 4:.1f}" '
                f'text-anchor="middle" fill="{ink}">{value}</text>'
            )
            link = links[i][j] if links else None
            if link and value:
                mark = f'<a href="{escape(link)}">{mark}</a>'
            parts.append(mark)
    parts.append("</svg>")
    return mark_safe("".join(parts))
