"""Typed, loud readers for environment variables.

Every reader names the variable in its error, so a bad value stops start-up with
a message an operator can act on. Secrets may come from ``NAME_FILE`` instead of
``NAME`` (container and systemd credential files).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from cronhub.values import bool_word, zone


class Settings:
    """Reads variables from an environ mapping (``os.environ`` by default)."""

    def __init__(self, environ=None):
        self.environ = os.environ if environ is None else environ

    def raw(self, name: str, default: str | None = None, *, aliases: tuple[str, ...] = ()) -> str | None:
        """The first of ``name`` and its aliases that is set (``NAME_FILE`` counts)."""
        for key in (name, *aliases):
            file_path = self.environ.get(f"{key}_FILE")
            if file_path:
                try:
                    return Path(file_path).read_text(encoding="utf-8").strip()
                except OSError as exc:
                    raise ImproperlyConfigured(f"{key}_FILE: cannot read {file_path!r}: {exc}") from exc
            value = self.environ.get(key)
            if value is not None:
                return value
        return default

    def str(self, name: str, default: str = "", **kw) -> str:
        value = self.raw(name, None, **kw)
        return default if value is None else value.strip()

    def bool(self, name: str, default: bool, **kw) -> bool:
        value = self.raw(name, None, **kw)
        if value is None or value.strip() == "":
            return default
        flag = bool_word(value)
        if flag is not None:
            return flag
        raise ImproperlyConfigured(
            f"{name}: expected a boolean (1/true/yes/on or 0/false/no/off), got {value!r}"
        )

    def int(self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None,
            clamp: bool = False, **kw) -> int:
        value = self.raw(name, None, **kw)
        if value is None or value.strip() == "":
            number = default
        else:
            try:
                number = int(value.strip())
            except ValueError:
                raise ImproperlyConfigured(f"{name}: expected a whole number, got {value!r}") from None
        if clamp:
            if minimum is not None:
                number = max(minimum, number)
            if maximum is not None:
                number = min(maximum, number)
            return number
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name}: must be at least {minimum}, got {number}")
        if maximum is not None and number > maximum:
            raise ImproperlyConfigured(f"{name}: must be at most {maximum}, got {number}")
        return number

    def choice(self, name: str, default: str, choices: tuple[str, ...], **kw) -> str:
        value = self.str(name, default, **kw).lower() or default
        if value not in choices:
            raise ImproperlyConfigured(f"{name}: must be one of {', '.join(choices)}; got {value!r}")
        return value

    def timezone(self, name: str, default: str) -> str:
        value = self.str(name, default) or default
        if zone(value) is None:
            raise ImproperlyConfigured(f"{name}: unknown IANA time zone {value!r}")
        return value

    def list(self, name: str, default: str = "", **kw) -> list[str]:
        return [item.strip() for item in self.str(name, default, **kw).split(",") if item.strip()]
