"""Helpers for the Excel tests: workbooks built in memory, uploads, a private stash folder."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

CUSTOMER_HEADERS = [
    "客户名称", "统一社会信用代码", "客户类型", "行业", "省份", "城市", "状态", "部门",
    "客户经理", "信用额度",
]  # fmt: skip
CONTACT_HEADERS = ["客户名称", "联系人", "职务", "电话", "邮箱", "生日", "主要联系人"]
TRANSACTION_HEADERS = ["Customer credit code", "Date", "Amount", "Profit", "Reference"]


@pytest.fixture(autouse=True)
def stash_dir(settings, tmp_path):
    settings.IMPORT_STASH_DIR = tmp_path / "imports"
    return settings.IMPORT_STASH_DIR


def xlsx_bytes(*sheets: tuple[str, list[list]]) -> bytes:
    """Return an .xlsx with the given sheets: (title, rows), the first row being the header."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(content: bytes, name: str = "data.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name,
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def read_xlsx(content: bytes, sheet: int = 0) -> list[list]:
    workbook = load_workbook(io.BytesIO(content))
    return [[cell.value for cell in row] for row in workbook.worksheets[sheet].iter_rows()]


def response_bytes(response) -> bytes:
    return b"".join(response.streaming_content)
