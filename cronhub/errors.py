"""The project's own errors: what services, rules and models raise.

They say *what* went wrong (a short title, a readable message, the input field
it belongs to) and *what kind* of failure it is, never how a client hears it:
the API's exception handler turns them into the contract's bodies and status
codes (``cronhub/api/errors.py``), the admin into ``form.add_error(field, ...)``.
This module imports nothing from the web layers.

Language: ``error`` and ``message`` are always English (the API's contract). A text
with variable parts is written as a template (``'Unknown time zone %(zone)r'``) with
``params``, so the admin can show :meth:`CronhubError.localized` — the same text from
the Japanese catalogue — while API bodies keep the English.
"""

from __future__ import annotations

import enum
from typing import Any

from django.utils.translation import gettext

# Marks an English text as a msgid for the catalogue without translating it here: the error
# keeps the English (the API's words) and ``localized()`` translates it where a page shows it.
from django.utils.translation import gettext_noop as N_  # noqa: F401,N812  (re-exported)


def _fill(template: str, params: dict[str, Any]) -> str:
    return template % params if params else template


class Kind(enum.StrEnum):
    """HTTP-neutral kinds of failure; the API maps each to one status code."""

    INVALID = "invalid"  # the input breaks a rule
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # the input clashes with what exists (a taken name, e-mail)
    FORBIDDEN = "forbidden"  # the caller may not do this
    UNAUTHENTICATED = "unauthenticated"  # credentials missing, wrong or unusable
    THROTTLED = "throttled"  # too many attempts; ``retry_after`` says for how long


class CronhubError(Exception):
    """A refusal with a title (``error``), an optional ``message`` and the ``field`` it concerns.

    ``detail_only``: the contract reports this refusal by its message alone
    (``{"detail": ...}``) rather than as ``{"error", "message"}``. ``extra``
    carries additional keys some refusals report (e.g. ``missing_fields``).
    """

    kind: Kind = Kind.INVALID

    def __init__(self, error: str, message: str | None = None, *, field: str | None = None,
                 detail_only: bool = False, retry_after: int | None = None,
                 params: dict[str, Any] | None = None, **extra: Any):
        self.params = params or {}
        self.error_template = error
        self.message_template = message
        self.error = _fill(error, self.params)
        self.message = _fill(message, self.params) if message is not None else None
        super().__init__(self.message or self.error)
        self.field = field
        self.detail_only = detail_only
        self.retry_after = retry_after
        self.extra = extra

    @property
    def text(self) -> str:
        """What a person reads: the message, or the title when there is none (English, as the API
        says it: clients match on these texts)."""
        return self.message or self.error

    def localized(self) -> str:
        """:attr:`text` in the active language (the admin's forms show this): the English text is
        the catalogue's msgid, ``%(name)s`` placeholders filled from ``params`` after translation."""
        template = self.message_template if self.message_template is not None else self.error_template
        return _fill(gettext(template), self.params)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.error!r}, {self.message!r}, field={self.field!r})"


class InvalidInput(CronhubError):
    kind = Kind.INVALID


class NotFound(CronhubError):
    kind = Kind.NOT_FOUND


class Conflict(CronhubError):
    kind = Kind.CONFLICT


class Forbidden(CronhubError):
    kind = Kind.FORBIDDEN


class Unauthenticated(CronhubError):
    kind = Kind.UNAUTHENTICATED

    def __init__(self, detail: str, **kwargs: Any):
        kwargs.setdefault("detail_only", True)
        super().__init__(detail, detail, **kwargs)


class Throttled(CronhubError):
    kind = Kind.THROTTLED
