"""Excel export of a report's table: the same figures as on the page, typed cells."""

from __future__ import annotations

import io
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from .reports import INT, MONEY, PERCENT, Report

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A text cell starting with one of these could be read as a formula (OWASP ASVS V1.2.10).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
FORMATS = {MONEY: "#,##0.00", INT: "0", PERCENT: "0.0"}


def cell_value(value):
    """Return what goes into a cell: numbers as numbers, text guarded against formulas."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def report_workbook(report: Report, *, filters_line: str = "") -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(report.title)[:31])
    bold = Font(bold=True)
    title = WriteOnlyCell(sheet, value=cell_value(str(report.title)))
    title.font = bold
    sheet.append([title])
    if filters_line:
        sheet.append([cell_value(filters_line)])
    header = []
    for name, _kind in report.columns:
        cell = WriteOnlyCell(sheet, value=cell_value(str(name)))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in list(report.rows) + ([report.totals] if report.totals else []):
        cells = []
        for (_name, kind), value in zip(report.columns, row, strict=False):
            cell = WriteOnlyCell(sheet, value=cell_value(value))
            if kind in FORMATS and isinstance(value, int | Decimal | float):
                cell.number_format = FORMATS[kind]
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def report_response(report: Report, *, filters_line: str = "") -> HttpResponse:
    response = HttpResponse(
        report_workbook(report, filters_line=filters_line), content_type=XLSX_CONTENT_TYPE
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="report-{report.slug}-{stamp}.xlsx"'
    return response
