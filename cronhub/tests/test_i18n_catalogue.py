"""The Japanese catalogue: complete, compiled from what is committed, and holding every string
the code marks for translation."""

from __future__ import annotations

import gettext
import re
import shutil

import pytest
from django.core.management import call_command

from cronhub.testing.catalogue import LOCALE_DIR, read_po

PO = LOCALE_DIR / "ja" / "LC_MESSAGES" / "django.po"
MO = LOCALE_DIR / "ja" / "LC_MESSAGES" / "django.mo"
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdfr]|\{\w+\}")


def test_every_msgid_has_a_japanese_msgstr():
    entries = read_po(PO)
    assert len(entries) > 200
    untranslated = [e.msgid for e in entries if not all(e.msgstrs) or e.fuzzy]
    assert untranslated == []


def test_every_translation_keeps_the_placeholders_of_its_msgid():
    for entry in read_po(PO):
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        for text in entry.msgstrs:
            assert sorted(PLACEHOLDER.findall(text)) == wanted, entry.msgid


def test_the_committed_mo_is_compiled_from_the_committed_po():
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in read_po(PO):
        if entry.msgid_plural is None:
            assert compiled.gettext(entry.msgid) == entry.msgstrs[0], entry.msgid
        else:
            assert compiled.ngettext(entry.msgid, entry.msgid_plural, 1) == entry.msgstrs[0], entry.msgid
    assert len(compiled._catalog) - 1 == len(read_po(PO))  # the header is an entry of the .mo


def test_the_catalogue_holds_every_translatable_string_of_the_code(tmp_path):
    """makemessages (gettext's xgettext) over the code finds no msgid the .po lacks, nor one it
    no longer needs. CI installs gettext (``.ci/run``)."""
    if shutil.which("xgettext") is None:
        pytest.fail("gettext tools are needed to check the catalogue: apt-get install gettext")
    committed = PO.read_bytes()
    try:
        call_command("makemessages", locale=["ja"], no_location=True, no_obsolete=True, verbosity=0,
                     ignore_patterns=[".venv", "benchmarks", "*/tests/*", "scripts", "var", "instance"])
        extracted = {(e.msgid, e.msgid_plural) for e in read_po(PO)}
    finally:
        PO.write_bytes(committed)
    assert extracted == {(e.msgid, e.msgid_plural) for e in read_po(PO)}
