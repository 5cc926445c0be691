"""A corpus of bad files, built here: each gets its own clear message and changes nothing."""

from __future__ import annotations

import datetime
import io
import os
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.urls import reverse

from accounts.models import Contact, Customer, DataTransferLog, Transaction
from tests.excel.conftest import CUSTOMER_HEADERS, TRANSACTION_HEADERS, upload, xlsx_bytes
from tests.factories import CustomerFactory, valid_credit_code

CODE = valid_credit_code(501)


def customers_xlsx(rows=None) -> bytes:
    rows = rows if rows is not None else [["上海华鼎机械有限公司", CODE, "", "", "", "", "", ""]]
    return xlsx_bytes(("客户", [CUSTOMER_HEADERS, *rows]))


def transactions_xlsx(*rows) -> bytes:
    return xlsx_bytes(("ERP", [TRANSACTION_HEADERS, *rows]))


def rezip(content: bytes, replace=None, add=None, drop=()) -> bytes:
    """Return a copy of a zip with some parts replaced, added or left out."""
    replace, add = replace or {}, add or {}
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename in drop:
                continue
            target.writestr(info.filename, replace.get(info.filename, source.read(info)))
        for name, data in {**add, **replace}.items():
            if name not in source.namelist():
                target.writestr(name, data)
    return buffer.getvalue()


def zip_of(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return buffer.getvalue()


def with_encryption_flag(content: bytes) -> bytes:
    """Set the 'encrypted' bit in every local and central header, as a protected zip has."""
    data = bytearray(content)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.find(signature)
        while start != -1:
            data[start + offset] |= 0x01
            start = data.find(signature, start + 4)
    return bytes(data)


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
    b'uniqueCount="1"><si><t>&lol3;</t></si></sst>'
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&x;</workbook>'
)
MACRO_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Override PartName="/xl/workbook.xml" ContentType="application/'
    b'vnd.ms-excel.sheet.macroEnabled.main+xml"/></Types>'
)


def many_strings() -> bytes:
    items = b"".join(b"<si><t>%d</t></si>" % i for i in range(2000))
    sst = (
        b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
        b'main" count="2000" uniqueCount="2000">' + items + b"</sst>"
    )
    return rezip(customers_xlsx(), replace={"xl/sharedStrings.xml": sst})


def huge_unique_count() -> bytes:
    base = customers_xlsx()
    archive = zipfile.ZipFile(io.BytesIO(base))
    if "xl/sharedStrings.xml" in archive.namelist():
        xml = archive.read("xl/sharedStrings.xml")
        xml = xml.replace(b'uniqueCount="', b'uniqueCount="9000000', 1)
        return rezip(base, replace={"xl/sharedStrings.xml": xml})
    sst = (
        b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
        b'main" count="9000000" uniqueCount="9000000"><si><t>x</t></si></sst>'
    )
    return rezip(base, add={"xl/sharedStrings.xml": sst})


def corrupt_sheet() -> bytes:
    base = customers_xlsx()
    return rezip(base, replace={"xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row"})


# (id, file name, content builder, settings to override, expected message)
FILE_LEVEL = [
    ("too-large", "big.xlsx", customers_xlsx, {"IMPORT_MAX_BYTES": 1000}, "the limit is 1000"),
    ("empty", "empty.xlsx", lambda: b"", {}, "empty"),
    ("text-renamed", "list.xlsx", lambda: b"name,code\nfoo,bar\n", {}, "not an Excel workbook"),
    ("pdf-renamed", "scan.xlsx", lambda: b"%PDF-1.4\n%%EOF\n", {}, "not an Excel workbook"),
    ("png-renamed", "p.xlsx", lambda: b"\x89PNG\r\n\x1a\n" + b"\0" * 64, {},
     "not an Excel workbook"),
    ("html-table", "export.xlsx", lambda: b"<html><table><tr><td>1</td></tr></table></html>", {},
     "not an Excel workbook"),
    ("ole-encrypted", "secret.xlsx", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504, {},
     "password-protected"),
    ("legacy-xls-name", "old.xls", customers_xlsx, {}, "old .xls format"),
    ("xlsm-name", "macro.xlsm", customers_xlsx, {}, "macros"),
    ("vba-project", "data.xlsx",
     lambda: rezip(customers_xlsx(), add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0vba"}), {},
     "contains macros"),
    ("macro-content-type", "data.xlsx",
     lambda: rezip(customers_xlsx(), replace={"[Content_Types].xml": MACRO_TYPES}), {},
     "contains macros"),
    ("zip-not-xlsx", "notes.xlsx", lambda: zip_of({"readme.txt": b"hello"}), {},
     "not an Excel workbook"),
    ("docx-renamed", "letter.xlsx",
     lambda: zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}),
     {}, "not an Excel workbook"),
    ("truncated", "cut.xlsx", lambda: customers_xlsx()[:1500], {}, "damaged or incomplete"),
    ("encrypted-zip", "data.xlsx", lambda: with_encryption_flag(customers_xlsx()), {},
     "password-protected"),
    ("too-many-parts", "data.xlsx",
     lambda: rezip(customers_xlsx(), add={f"xl/media/{i}.bin": b"x" for i in range(600)}), {},
     "internal parts"),
    ("zip-bomb-ratio", "bomb.xlsx",
     lambda: rezip(customers_xlsx(), add={"xl/media/zeros.bin": b"\0" * (30 * 1024 * 1024)}), {},
     "zip bomb"),
    ("zip-bomb-total", "bomb.xlsx",
     lambda: rezip(customers_xlsx(), add={"xl/media/noise.bin": os.urandom(2 * 1024 * 1024)}),
     {"IMPORT_MAX_UNPACKED_BYTES": 1024 * 1024, "IMPORT_MAX_BYTES": 20 * 1024 * 1024},
     "zip bomb"),
    ("huge-shared-strings", "big.xlsx", many_strings, {"IMPORT_MAX_SHARED_STRINGS_BYTES": 2000},
     "table of texts"),
    ("shared-strings-count", "big.xlsx", huge_unique_count, {}, "distinct texts"),
    ("billion-laughs", "lol.xlsx",
     lambda: rezip(customers_xlsx(), replace={"xl/sharedStrings.xml": LAUGHS}), {},
     "entity declarations"),
    ("xxe", "xxe.xlsx", lambda: rezip(customers_xlsx(), replace={"xl/workbook.xml": XXE}), {},
     "entity declarations"),
    ("corrupt-xml", "data.xlsx", corrupt_sheet, {}, "could not be read"),
    ("too-many-rows", "long.xlsx",
     lambda: customers_xlsx([[f"客户{i}", "", "", "", "", "", "", ""] for i in range(6)]),
     {"IMPORT_MAX_ROWS": 5}, "more than 5 rows"),
    ("no-header", "data.xlsx", lambda: xlsx_bytes(("x", [["foo", "bar"], [1, 2]])), {},
     "No sheet has the expected header row"),
    ("header-only", "data.xlsx", lambda: customers_xlsx([]), {}, "no data rows"),
    ("transactions-in-customer-import", "erp.xlsx",
     lambda: transactions_xlsx([CODE, datetime.date(2026, 1, 1), 5, 1, "A"]), {},
     "No sheet has the expected header row"),
]  # fmt: skip


def assert_nothing_written(stash_dir, customers_before=0):
    assert Customer.objects.count() == customers_before
    assert Contact.objects.count() == 0
    assert Transaction.objects.count() == 0
    assert not DataTransferLog.objects.filter(kind="import").exists()


@pytest.mark.parametrize(
    ("name", "content", "overrides", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in FILE_LEVEL],
)
def test_a_bad_file_is_refused_with_a_clear_message(
    client_for, manager, settings, stash_dir, name, content, overrides, message
):
    settings.LANGUAGE_CODE = "en"
    for key, value in overrides.items():
        setattr(settings, key, value)
    response = client_for(manager).post(
        reverse("accounts:import_start"), {"kind": "customers", "file": upload(content(), name)}
    )
    assert response.status_code == 200  # the form again, with the message
    errors = " ".join(str(e) for e in response.context["form"].errors.get("file", []))
    assert message in errors, errors
    assert_nothing_written(stash_dir)
    assert not stash_dir.exists() or not any(p.suffix == ".json" for p in stash_dir.iterdir())


def formula_cell_file() -> bytes:
    """A customer sheet whose name cell is a real formula (as typed in Excel)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(CUSTOMER_HEADERS)
    sheet.append(['=HYPERLINK("http://x","y")', CODE])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# (id, kind, content builder, expected message in the preview)
ROW_LEVEL = [
    ("formula-in-name", "customers", formula_cell_file, "formulas are not evaluated"),
    ("formula-in-amount", "transactions",
     lambda: transactions_xlsx([CODE, datetime.date(2026, 1, 1), "=1000*1000", 0, "F1"]),
     "formulas are not evaluated"),
    ("date-not-a-date", "transactions",
     lambda: transactions_xlsx([CODE, "next Tuesday", 5, 1, "A"]), "is not a date"),
    ("negative-amount", "transactions",
     lambda: transactions_xlsx([CODE, datetime.date(2026, 1, 1), -5, 1, "A"]),
     "the amount is negative"),
    ("amount-not-a-number", "transactions",
     lambda: transactions_xlsx([CODE, datetime.date(2026, 1, 1), "lots", 1, "A"]),
     "is not an amount"),
    ("unknown-customer", "transactions",
     lambda: transactions_xlsx([valid_credit_code(777), datetime.date(2026, 1, 1), 5, 1, "A"]),
     "unknown customer"),
    ("bad-credit-code", "customers",
     lambda: customers_xlsx([["新客户有限公司", "91310000ABCDEFGHIJ"]]), "bad credit code"),
    ("unknown-manager", "customers",
     lambda: customers_xlsx([["新客户有限公司", "", "", "", "", "", "", "", "nobody"]]),
     "unknown manager"),
    ("duplicate-rows", "customers",
     lambda: customers_xlsx([["新客户有限公司"], ["新客户有限公司"]]), "duplicate of row 2"),
    ("other-department", "customers",
     lambda: customers_xlsx([["新客户有限公司", "", "", "", "", "", "", "north"]]),
     "you may not import customers into department"),
    ("duplicate-of-existing", "customers",
     lambda: customers_xlsx([["上海华鼎机械有限公司", valid_credit_code(778)]]),
     "duplicate of an existing customer"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "content", "message"), [pytest.param(*case[1:], id=case[0]) for case in ROW_LEVEL]
)
def test_a_file_with_bad_rows_gets_its_errors_and_writes_nothing(
    client_for, manager, north, settings, stash_dir, kind, content, message
):
    settings.LANGUAGE_CODE = "en"
    CustomerFactory(
        name="上海华鼎机械有限公司", credit_code=CODE, department=manager.department,
        primary_manager=manager,
    )  # fmt: skip
    client = client_for(manager)
    response = client.post(
        reverse("accounts:import_start"), {"kind": kind, "file": upload(content())}
    )
    assert response.status_code == 302, response.context["form"].errors
    preview = client.get(response["Location"])
    assert message in preview.content.decode()
    token = response["Location"].rstrip("/").rsplit("/", 1)[1]
    client.post(reverse("accounts:import_commit", args=[token]))
    assert_nothing_written(stash_dir, customers_before=1)


def test_the_corpus_has_at_least_25_files():
    assert len(FILE_LEVEL) + len(ROW_LEVEL) >= 25


# --- Hostile zip members and XML parts -------------------------------------------------------

MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DTD = b'<!DOCTYPE worksheet [<!ENTITY e "injected">]>'


def parts_of(content: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    return {info.filename: archive.read(info) for info in archive.infolist()}


def raw_zip(members: list[tuple[str, bytes]]) -> bytes:
    """A zip holding these members in this order, names as given (duplicates too)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns on a duplicate name
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
            for name, data in members:
                target.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def with_member(name: str, data: bytes = b"owned") -> Callable[[], bytes]:
    return lambda: raw_zip([*parts_of(customers_xlsx()).items(), (name, data)])


def without_declaration(xml: bytes) -> bytes:
    return xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml


def second_sheet_with_other_rows(name: str = "xl/worksheets/sheet1.xml") -> Callable[[], bytes]:
    """The same sheet name twice: the second member holds another customer."""

    def build() -> bytes:
        other = parts_of(customers_xlsx([["另一家公司有限公司", valid_credit_code(502)]]))
        return raw_zip([*parts_of(customers_xlsx()).items(), (name, other[name.lower()])])

    return build


def doctype_after_64_kb() -> bytes:
    parts = parts_of(customers_xlsx())
    sheet = parts["xl/worksheets/sheet1.xml"]
    padded = (
        b'<?xml version="1.0" encoding="UTF-8"?><!--' + b" padding " * 9000 + b"-->"
        + DTD + without_declaration(sheet)
    )  # fmt: skip
    assert padded.index(b"<!DOCTYPE") > 65536
    return rezip(customers_xlsx(), replace={"xl/worksheets/sheet1.xml": padded})


def utf16_part_with_dtd() -> bytes:
    parts = parts_of(customers_xlsx())
    text = without_declaration(parts["xl/workbook.xml"]).decode("utf-8")
    xml = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE workbook [<!ENTITY e "x">]>' + text
    return rezip(customers_xlsx(), replace={"xl/workbook.xml": xml.encode("utf-16")})


def sheet_in_a_part_not_named_xml() -> bytes:
    """The sheet moved to sheet1.bin (relationships and content types follow), with a DTD."""
    parts = parts_of(customers_xlsx())
    sheet = parts.pop("xl/worksheets/sheet1.xml")
    parts["xl/worksheets/sheet1.bin"] = b'<?xml version="1.0"?>' + DTD + without_declaration(sheet)
    for name in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
        parts[name] = parts[name].replace(b"sheet1.xml", b"sheet1.bin")
    return raw_zip(list(parts.items()))


def million_shared_strings() -> bytes:
    """1.1 million distinct texts and no count declared (hex numbers: compact, not a bomb)."""
    items = b"".join(b"<si><t>%x</t></si>" % i for i in range(1_100_000))
    sst = b'<?xml version="1.0"?><sst xmlns="' + MAIN_NS + b'">' + items + b"</sst>"
    parts = parts_of(customers_xlsx())
    parts["xl/sharedStrings.xml"] = sst
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return buffer.getvalue()


OUTSIDE = "outside the workbook"
ENTITIES = "entity declarations"
# (id, content builder, expected message)
HOSTILE_MEMBERS = [
    ("dot-dot-path", with_member("../../x"), OUTSIDE),
    ("dot-dot-inside-path", with_member("xl/../../x.xml"), OUTSIDE),
    ("absolute-path", with_member("/tmp/x"), OUTSIDE),
    ("drive-path", with_member("C:/Windows/x"), OUTSIDE),
    ("drive-backslash-path", with_member("C:\\Windows\\x"), OUTSIDE),
    ("backslash-dot-dot-path", with_member("..\\..\\x"), OUTSIDE),
    ("unc-path", with_member("\\\\server\\share\\x"), OUTSIDE),
    ("duplicate-sheet", second_sheet_with_other_rows(), "two parts named"),
    ("duplicate-sheet-other-case", second_sheet_with_other_rows("XL/worksheets/sheet1.xml"),
     "two parts named"),
    ("doctype-after-64-kb", doctype_after_64_kb, ENTITIES),
    ("utf-16-part-with-dtd", utf16_part_with_dtd, ENTITIES),
    ("sheet-not-named-xml", sheet_in_a_part_not_named_xml, ENTITIES),
    ("unread-part-not-named-xml",
     with_member("customXml/item1.bin", b'<?xml version="1.0"?><!DOCTYPE r SYSTEM '
                 b'"http://example.invalid/x.dtd"><r/>'), ENTITIES),
    ("million-shared-strings", million_shared_strings, "more than 1,000,000 distinct texts"),
]  # fmt: skip


@pytest.fixture
def scratch_tmp(settings, tmp_path, monkeypatch):
    """Temporary files of this test go to a folder of its own, to see that none is left."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    return folder


@pytest.mark.parametrize(
    ("content", "message"), [pytest.param(*case[1:], id=case[0]) for case in HOSTILE_MEMBERS]
)
def test_a_hostile_member_or_part_is_refused_and_nothing_is_unpacked(
    client_for, manager, settings, stash_dir, scratch_tmp, tmp_path, content, message
):
    settings.LANGUAGE_CODE = "en"
    data = content()
    response = client_for(manager).post(
        reverse("accounts:import_start"), {"kind": "customers", "file": upload(data)}
    )
    assert response.status_code == 200  # the form again, with the message
    errors = " ".join(str(e) for e in response.context["form"].errors.get("file", []))
    assert message in errors, errors
    assert_nothing_written(stash_dir)
    assert [p for p in tmp_path.rglob("*") if not p.is_dir()] == []
    for base in (stash_dir, Path.cwd()):
        assert not (base / "../../x").resolve().exists()


def test_the_duplicate_sheet_would_have_read_other_rows():
    """Without the check, zipfile reads the second member of the duplicated name."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        archive = zipfile.ZipFile(io.BytesIO(second_sheet_with_other_rows()()))
    first, second = (archive.read(i) for i in archive.infolist() if "sheet1" in i.filename)
    assert first != second and archive.read("xl/worksheets/sheet1.xml") == second


def test_a_legitimate_utf16_part_a_well_compressed_styles_part_and_a_vml_drawing_are_read(
    client_for, manager, settings
):
    settings.LANGUAGE_CODE = "en"
    parts = parts_of(customers_xlsx())
    workbook = without_declaration(parts["xl/workbook.xml"]).decode("utf-8")
    parts["xl/workbook.xml"] = ('<?xml version="1.0" encoding="UTF-16"?>' + workbook).encode(
        "utf-16"
    )
    styles = parts["xl/styles.xml"]
    # 900 KB of styles that compress more than 100 times, as generated workbooks' styles do.
    padding = b"<!--" + b" " * 900_000 + b"-->"
    parts["xl/styles.xml"] = styles.replace(b"</styleSheet>", padding + b"</styleSheet>")
    # Excel's legacy comment drawing, not always well-formed XML.
    parts["xl/drawings/vmlDrawing1.vml"] = b"<xml><v:shape><br></v:shape></xml>"
    response = client_for(manager).post(
        reverse("accounts:import_start"),
        {"kind": "customers", "file": upload(raw_zip(list(parts.items())))},
    )
    assert response.status_code == 302, response.context["form"].errors


@pytest.mark.parametrize(
    "content", [doctype_after_64_kb, utf16_part_with_dtd, sheet_in_a_part_not_named_xml]
)
def test_the_reader_refuses_a_dtd_by_itself_when_the_inspection_is_skipped(content):
    from accounts.xlsx_reader import ImportRefused, XlsxWorkbook

    archive = zipfile.ZipFile(io.BytesIO(content()))
    with archive, pytest.raises(ImportRefused, match="实体声明|entity declarations"):
        workbook = XlsxWorkbook(archive)
        for _title, path, _state in workbook.sheets:
            list(workbook.rows(path))
