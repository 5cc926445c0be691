"""The Chinese translation is complete, compiled, and covers every string in the code."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

PO_PATH = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_entry_is_translated_and_none_is_fuzzy():
    po = polib.pofile(str(PO_PATH))
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []


def test_the_compiled_catalogue_matches_the_po_file():
    po = polib.pofile(str(PO_PATH))
    with translation.override("zh-hans"):
        for entry in po.translated_entries():
            if entry.msgid_plural or entry.msgctxt:
                continue
            assert translation.gettext(entry.msgid) == entry.msgstr, entry.msgid


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is not installed")
def test_the_po_file_holds_every_string_of_the_code(tmp_path):
    base = Path(settings.BASE_DIR)
    copy = tmp_path / "src"
    ignore = shutil.ignore_patterns(".venv", "var", ".git", "test-artifacts", "*.sqlite3*", "bench")
    shutil.copytree(base, copy, ignore=ignore)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete",
         "--ignore", "tests/*"],
        cwd=copy,
        check=True,
        capture_output=True,
    )  # fmt: skip
    fresh = {entry.msgid for entry in polib.pofile(str(copy / PO_PATH.relative_to(base)))}
    committed = {entry.msgid for entry in polib.pofile(str(PO_PATH))}
    assert sorted(fresh - committed) == [], "run `make messages` and translate the new strings"
