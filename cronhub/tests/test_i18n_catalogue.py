"""The Japanese catalogue: complete, compiled from what is committed, and holding every string
the code marks for translation."""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys

import pytest

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
    """makemessages (gettext's xgettext) over a copy of the code finds no msgid the .po lacks, nor
    one it no longer needs. (A copy: the committed .po is never rewritten, not even for a moment,
    while other tests read it.) CI installs gettext (``.ci/run``)."""
    if shutil.which("xgettext") is None:
        pytest.fail("gettext tools are needed to check the catalogue: apt-get install gettext")
    root = LOCALE_DIR.parent
    copy = tmp_path / "src"
    shutil.copytree(root, copy, symlinks=True, ignore=shutil.ignore_patterns(
        ".venv", ".git", "var", "instance", "test-artifacts", "docs", "*.pyc", "__pycache__", "*.png"))
    env = {**os.environ, "TESTING": "true", "CRONHUB_READ_DOT_ENV": "false", "DATABASE_URL": "sqlite://:memory:"}
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "ja", "--no-location", "--no-obsolete",
                    "--ignore=benchmarks", "--ignore=*/tests/*", "--ignore=scripts", "-v", "0"],
                   cwd=copy, env=env, check=True, timeout=300)
    extracted = {(e.msgid, e.msgid_plural) for e in read_po(copy / PO.relative_to(root))}
    assert extracted == {(e.msgid, e.msgid_plural) for e in read_po(PO)}
