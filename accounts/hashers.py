"""Verification of password hashes written by the previous implementation.

Existing rows hold passlib ``pbkdf2_sha256`` strings
(``$pbkdf2-sha256$29000$<salt>$<digest>``, "adapted base64"). Django cannot
identify them by prefix, so ``User.check_password`` asks this module first and
re-hashes with Django's hasher after a successful login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

PASSLIB_PREFIX = "$pbkdf2-sha256$"


def _ab64_decode(text: str) -> bytes:
    text = text.replace(".", "+")
    return base64.b64decode(text + "=" * (-len(text) % 4))


def is_passlib_hash(encoded: str | None) -> bool:
    return bool(encoded) and encoded.startswith(PASSLIB_PREFIX)


def verify_passlib_pbkdf2_sha256(raw_password: str, encoded: str) -> bool:
    try:
        _, _, rounds, salt, digest = encoded.split("$")
        expected = _ab64_decode(digest)
        actual = hashlib.pbkdf2_hmac("sha256", raw_password.encode("utf-8"), _ab64_decode(salt),
                                     int(rounds), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
