"""Excel export of a report's table through the shared writer (accounts/spreadsheets.py): the
same figures as on the page, typed cells, formula-looking text kept as text, an audit entry."""

from __future__ import annotations

from django.http import HttpRequest

from accounts import spreadsheets

from .reports import DECIMAL, INT, MONEY, PERCENT, Report

KINDS = {
    MONEY: spreadsheets.MONEY,
    INT: spreadsheets.INTEGER,
    PERCENT: spreadsheets.DECIMAL,
    DECIMAL: spreadsheets.DECIMAL,
}


def _getter(index: int):
    return lambda row: row[index] if index < len(row) else None


def report_response(request: HttpRequest, report: Report, *, filters_line: str = ""):
    columns = [
        spreadsheets.Column(str(name), _getter(i), KINDS.get(kind, spreadsheets.TEXT))
        for i, (name, kind) in enumerate(report.columns)
    ]
    rows = [[str(v) if hasattr(v, "__html__") else v for v in row] for row in report.rows]
    if report.totals:
        rows.append([str(report.totals[0])] + list(report.totals[1:]))
    if filters_line:
        rows.append([filters_line])
    return spreadsheets.export_response(
        request,
        what=f"report-{report.slug}",
        columns=columns,
        queryset=rows,
        sheet_title=str(report.title)[:31],
    )
