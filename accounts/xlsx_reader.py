"""Uploaded .xlsx workbooks: refusing hostile files, then reading the cells with lxml.

`inspect_upload` looks at the file before anything reads it as a workbook: its size and magic
bytes, then every zip member — its name (no `..`, no absolute or drive path, no backslash, no
duplicate, also case-insensitively), its declared size, the total, the compression ratio and
method — and then parses every member that is XML, whatever its name or encoding, with a parser
that refuses a DTD as soon as it meets one. Only then does `XlsxWorkbook` read the parts an
import needs, with the same parser settings and the same refusal, counting the shared strings
it actually reads.

Python's zipfile never inflates a member beyond its declared `file_size` (a member that holds
more fails its CRC check), so the declared sizes checked here bound what is read.
"""

from __future__ import annotations

import datetime
import re
import zipfile
from typing import Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from .errors import BusinessRuleError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # CFB: encrypted .xlsx or legacy .xls
ZIP_MAGIC = b"PK\x03\x04"
MAX_ZIP_ENTRIES = 500
MAX_UNPACKED_BYTES = 300 * 1024 * 1024
MAX_RATIO = 100  # Apache POI's default ratio limit ...
RATIO_MIN_BYTES = 1024 * 1024  # ... applied to parts big enough to matter (styles.xml compresses)
MAX_SHARED_STRINGS_BYTES = 40 * 1024 * 1024
MAX_SHARED_STRINGS = 1_000_000
MAX_COLUMNS = 60
CHUNK = 64 * 1024

SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d*)$")
_F, _V, _IS = SHEET_NS + "f", SHEET_NS + "v", SHEET_NS + "is"
_DRIVE = re.compile(r"^[A-Za-z]:")
_BOMS = (b"\xef\xbb\xbf", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00", b"\xfe\xff", b"\xff\xfe")


class ImportRefused(BusinessRuleError):
    """The upload cannot be imported at all; nothing was written."""


def _setting(name: str, default):
    return getattr(settings, name, default)


def _damaged() -> ImportRefused:
    return ImportRefused(_("The file is damaged or incomplete."))


def _entities_refused() -> ImportRefused:
    return ImportRefused(_("The workbook contains XML entity declarations, which are not allowed."))


# --- The file and its zip members -----------------------------------------------------------


def inspect_upload(upload) -> None:
    """Refuse, with a message saying why, a file that is not a safe plain .xlsx workbook."""
    limit = _setting("IMPORT_MAX_BYTES", 10 * 1024 * 1024)
    size = upload.size
    if size > limit:
        raise ImportRefused(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)}
        )
    if size == 0:
        raise ImportRefused(_("The file is empty."))
    name = (getattr(upload, "name", "") or "").lower()
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(OLE_MAGIC):
        raise ImportRefused(
            _(
                "This file is password-protected or in the old .xls format. Remove the "
                "password (or use Save As → Excel Workbook .xlsx) and upload it again."
            )
        )
    if name.endswith((".xlsm", ".xltm", ".xlsb")):
        raise ImportRefused(_("Files with macros (.xlsm) are not accepted; save as .xlsx."))
    if name.endswith(".xls"):
        raise ImportRefused(_("The old .xls format is not accepted; save the file as .xlsx."))
    if not head.startswith(ZIP_MAGIC):
        raise ImportRefused(
            _("This file is not an Excel workbook (.xlsx), whatever its name says.")
        )
    try:
        archive = zipfile.ZipFile(upload)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ImportRefused(
            _("The file is damaged or incomplete: it cannot be opened as an .xlsx workbook.")
        ) from error
    with archive:
        inspect_archive(archive)
    upload.seek(0)


def unsafe_member_name(name: str) -> bool:
    """True for a member name that could point outside the folder it is unpacked into."""
    if not name or "\\" in name or "\0" in name:
        return True  # a backslash is a separator on Windows; OOXML part names never hold one
    if name.startswith("/") or _DRIVE.match(name):
        return True
    parts = name.rstrip("/").split("/")
    return any(part in ("", ".", "..") for part in parts)


def inspect_archive(archive: zipfile.ZipFile) -> None:
    """Check every member's name, size, ratio and XML before any part is read as a workbook."""
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise ImportRefused(
            _("The workbook has %(count)d internal parts, more than a data sheet needs (%(max)d).")
            % {"count": len(infos), "max": MAX_ZIP_ENTRIES}
        )
    seen: set[str] = set()
    for info in infos:
        if unsafe_member_name(info.filename):
            raise ImportRefused(
                _(
                    "The workbook holds a part with a path that points outside the workbook "
                    "(“%(name)s”); it was not opened."
                )
                % {"name": info.filename[:80]}
            )
        key = info.filename.rstrip("/").casefold()
        if key in seen:
            raise ImportRefused(
                _(
                    "The workbook holds two parts named “%(name)s”; a real Excel file never "
                    "does, so it was not opened."
                )
                % {"name": info.filename[:80]}
            )
        seen.add(key)
    names = {info.filename for info in infos}
    if any(info.flag_bits & 0x1 for info in infos):
        raise ImportRefused(
            _("This file is password-protected. Remove the password and upload it again.")
        )
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise ImportRefused(_("The workbook contains macros; save it as a plain .xlsx file."))
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise ImportRefused(
            _("This file is not an Excel workbook (.xlsx), whatever its name says.")
        )
    if any(info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for info in infos):
        raise _damaged()  # Excel writes stored or deflated members only
    max_unpacked = _setting("IMPORT_MAX_UNPACKED_BYTES", MAX_UNPACKED_BYTES)
    total = sum(info.file_size for info in infos)
    if total > max_unpacked:
        raise ImportRefused(
            _(
                "The workbook unpacks to %(size)s (limit %(limit)s): it looks like a zip bomb "
                "and was not opened."
            )
            % {"size": filesizeformat(total), "limit": filesizeformat(max_unpacked)}
        )
    for info in infos:
        if info.file_size > RATIO_MIN_BYTES and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise ImportRefused(
                _(
                    "A part of the workbook expands %(ratio)d times when unpacked: it looks like "
                    "a zip bomb and was not opened."
                )
                % {"ratio": info.file_size // max(info.compress_size, 1)}
            )
    shared = next((i for i in infos if i.filename == "xl/sharedStrings.xml"), None)
    max_shared = _setting("IMPORT_MAX_SHARED_STRINGS_BYTES", MAX_SHARED_STRINGS_BYTES)
    if shared is not None and shared.file_size > max_shared:
        raise ImportRefused(
            _("The workbook's table of texts is %(size)s (limit %(limit)s); split the file.")
            % {"size": filesizeformat(shared.file_size), "limit": filesizeformat(max_shared)}
        )
    try:
        content_types = archive.read("[Content_Types].xml")[:200_000]
    except (zipfile.BadZipFile, OSError, RuntimeError, zipfile.LargeZipFile) as error:
        raise _damaged() from error
    if b"macroEnabled" in content_types or b"vbaProject" in content_types:
        raise ImportRefused(_("The workbook contains macros; save it as a plain .xlsx file."))
    for info in infos:
        if not info.is_dir():
            check_xml_member(archive, info)


# --- XML: one parser setting, DTDs refused by the parser ------------------------------------


class _RefuseDoctype:
    """A parser target that builds nothing and stops at the first DOCTYPE.

    lxml calls only the target methods that exist, so a target with no start/end/data parses
    at C speed: the member's whole text is checked for well-formedness, and libxml2 reports a
    DOCTYPE (with or without an internal subset, wherever the prolog puts it) to `doctype`.
    """

    def doctype(self, *_args) -> None:
        raise _entities_refused()

    def close(self) -> None:
        return None


def _parser_options() -> dict:
    return {"resolve_entities": False, "load_dtd": False, "no_network": True, "huge_tree": False}


def looks_like_xml(head: bytes) -> bool:
    """True when a member's first bytes start an XML document, in whatever encoding."""
    for bom in _BOMS:
        if head.startswith(bom):
            return True
    if head[:2] in (b"<\0", b"\0<") or head[:4] in (b"<\0\0\0", b"\0\0\0<"):
        return True  # UTF-16 or UTF-32 without a byte-order mark
    if head[:4] == b"\x4c\x6f\xa7\x94":  # "<?xm" in EBCDIC, which libxml2 also reads
        return True
    return head.lstrip(b" \t\r\n").startswith(b"<")


def check_xml_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse a member that is XML holding a DTD, or XML that is not well formed.

    The DOCTYPE is refused by the parser wherever the prolog puts it, in any encoding libxml2
    reads; a member that does not start like XML (an image) is left to the reader, which never
    parses it unless the workbook points to it, and then refuses it the same way.
    """
    from lxml import etree

    parser = etree.XMLParser(target=_RefuseDoctype(), **_parser_options())
    try:
        with archive.open(info) as part:
            head = part.read(CHUNK)
            if not looks_like_xml(head):
                return  # an image or other binary part: never parsed by the reader either
            chunk = head
            while chunk:
                parser.feed(chunk)
                chunk = part.read(CHUNK)
            parser.close()
    except etree.XMLSyntaxError as error:
        if info.filename.lower().endswith(".vml"):
            return  # Excel's legacy drawings (comment boxes) are not always well-formed XML
        raise ImportRefused(
            _("The workbook could not be read (%(reason)s). Save it again as .xlsx and retry.")
            % {"reason": type(error).__name__}
        ) from error
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, ValueError) as error:
        raise _damaged() from error


def _refuse_doctype(tree) -> None:
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _entities_refused()


def xml_events(handle, tag: str):
    """Yield the end events of the elements named tag; a document with a DTD is refused."""
    from lxml import etree

    context = etree.iterparse(handle, events=("end",), tag=SHEET_NS + tag, **_parser_options())
    checked = False
    for event, element in context:
        if not checked:
            _refuse_doctype(element.getroottree())
            checked = True
        yield event, element
    if not checked and context.root is not None:
        _refuse_doctype(context.root.getroottree())


def xml_tree(data: bytes):
    """Parse a small part into a tree; a document with a DTD is refused."""
    from lxml import etree

    root = etree.fromstring(data, etree.XMLParser(**_parser_options()))
    _refuse_doctype(root.getroottree())
    return root


def _text_of(element) -> str:
    """The text of a shared or inline string: its runs, without phonetic guides (rPh)."""
    return "".join(
        t.text or "" for t in element.iter(SHEET_NS + "t") if t.getparent().tag != SHEET_NS + "rPh"
    )


def _too_many_texts(count: int) -> ImportRefused:
    return ImportRefused(
        _("The workbook declares %(count)s distinct texts; split the file.")
        % {"count": f"{count:,}"}
    )


# --- Reading ---------------------------------------------------------------------------------


class XlsxWorkbook:
    """The parts of an .xlsx an import needs, read straight from the zip with lxml.

    openpyxl's read-only cell parser runs several times slower (bench/README.md, "Excel
    readers"); openpyxl still provides the date-format rules.
    """

    def __init__(self, archive: zipfile.ZipFile):
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

        self.archive = archive
        names = set(archive.namelist())
        workbook = xml_tree(archive.read("xl/workbook.xml"))
        properties = workbook.find(SHEET_NS + "workbookPr")
        self.date1904 = properties is not None and properties.get("date1904") in ("1", "true")
        targets = {}
        if "xl/_rels/workbook.xml.rels" in names:
            for rel in xml_tree(archive.read("xl/_rels/workbook.xml.rels")):
                targets[rel.get("Id")] = rel.get("Target") or ""
        self.sheets = []
        for sheet in workbook.iter(SHEET_NS + "sheet"):
            target = targets.get(sheet.get(REL_ID), "")
            path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            if path in names:
                self.sheets.append((sheet.get("name") or "", path, sheet.get("state") or ""))
        self.shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            self._read_shared_strings()
        self.date_styles: set[int] = set()
        if "xl/styles.xml" in names:
            styles = xml_tree(archive.read("xl/styles.xml"))
            custom = {
                int(fmt.get("numFmtId", -1)): fmt.get("formatCode", "")
                for fmt in styles.iter(SHEET_NS + "numFmt")
            }
            cell_xfs = styles.find(SHEET_NS + "cellXfs")
            for index, xf in enumerate(cell_xfs if cell_xfs is not None else []):
                number_format = int(xf.get("numFmtId", 0))
                code = custom.get(number_format) or BUILTIN_FORMATS.get(number_format, "")
                if code and is_date_format(code):
                    self.date_styles.add(index)

    def _read_shared_strings(self) -> None:
        """Read the table of texts, bounded by the entries read, not by what it declares."""
        shared = self.shared
        append, plain = shared.append, SHEET_NS + "t"
        limit = _setting("IMPORT_MAX_SHARED_STRINGS", MAX_SHARED_STRINGS)
        with self.archive.open("xl/sharedStrings.xml") as handle:
            for _event, item in xml_events(handle, "si"):
                count = len(shared)
                if count % 8192 == 0:
                    table = item.getparent()
                    if count == 0:
                        declared = (table.get("uniqueCount") or "0").strip()
                        if declared.isdigit() and int(declared) > limit:
                            raise _too_many_texts(int(declared))
                    del table[: len(table) - 1]  # the entries already read
                if count >= limit:
                    raise ImportRefused(
                        _("The workbook holds more than %(count)s distinct texts; split the file.")
                        % {"count": f"{limit:,}"}
                    )
                # Most entries are one plain run; rich text and phonetic guides take the long way.
                if len(item) == 1 and item[0].tag == plain:
                    append(item[0].text or "")
                else:
                    append(_text_of(item))
                item.clear()

    def rows(self, path: str):
        """Yield (row number, {column index: JSON-safe value}) for the non-empty rows."""
        from openpyxl.utils import column_index_from_string

        columns: dict[str, int] = {}
        number = 0
        with self.archive.open(path) as handle:
            for _event, row in xml_events(handle, "row"):
                number = int(row.get("r") or number + 1)
                values = {}
                position = 0
                for cell in row.iterchildren(SHEET_NS + "c"):
                    match = _CELL_REF.match(cell.get("r") or "")
                    if match:
                        letters = match.group(1)
                        if letters not in columns:
                            columns[letters] = column_index_from_string(letters) - 1
                        position = columns[letters]
                    if position < MAX_COLUMNS:
                        value = self._value(cell)
                        if value is not None:
                            values[position] = value
                    position += 1
                row.clear()
                while row.getprevious() is not None:
                    del row.getparent()[0]
                yield number, values

    def _value(self, cell) -> Any:
        kind = cell.get("t") or "n"
        raw = inline = None
        for child in cell:
            tag = child.tag
            if tag == _F:
                # Never evaluated; kept as its text so that the row can say what it holds.
                return {"f": "=" + (child.text or "…")}
            if tag == _V:
                raw = child.text
            elif tag == _IS:
                inline = child
        if kind == "inlineStr":
            return _text_of(inline) if inline is not None else None
        if raw is None:
            return None
        if kind == "s":
            try:
                return self.shared[int(raw)]
            except (ValueError, IndexError):
                return None
        if kind in ("str", "e"):
            return raw
        if kind == "b":
            return raw.strip() in ("1", "true")
        if kind == "d":
            return {"d": raw[:10]}
        try:
            number = float(raw)
        except ValueError:
            return raw
        if int(cell.get("s") or 0) in self.date_styles:
            from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

            try:
                moment = from_excel(
                    number, CALENDAR_MAC_1904 if self.date1904 else CALENDAR_WINDOWS_1900
                )
            except (ValueError, OverflowError):
                return raw
            if isinstance(moment, datetime.datetime):
                return {"d": moment.date().isoformat()}
            if isinstance(moment, datetime.date):
                return {"d": moment.isoformat()}
            return str(moment)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
