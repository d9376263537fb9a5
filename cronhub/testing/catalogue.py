"""Read a gettext catalogue (``.po``) without gettext tools: what the catalogue tests compare."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent.parent / "locale"


@dataclass
class Entry:
    msgid: str
    msgid_plural: str | None
    msgstrs: list[str]
    fuzzy: bool


_KEY = re.compile(r"^(msgid|msgid_plural|msgstr(?:\[\d+\])?|msgctxt) (\".*\")$")


def read_po(path: Path) -> list[Entry]:
    """Every entry but the header, in file order."""
    entries: list[Entry] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        current = None
        fuzzy = False
        for line in block.splitlines():
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            if line.startswith("#") or not line.strip():
                continue
            match = _KEY.match(line)
            if match:
                current = match.group(1)
                fields[current] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and current:
                fields[current] += ast.literal_eval(line)
        if "msgid" not in fields or fields["msgid"] == "":
            continue
        strs = [value for key, value in sorted(fields.items()) if key.startswith("msgstr")]
        entries.append(Entry(fields["msgid"], fields.get("msgid_plural"), strs, fuzzy))
    return entries
