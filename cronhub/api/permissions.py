"""The role rules of ``cronhub.permissions`` as DRF permission classes and API refusals.

Roles are read from the database user on every request, never from the token. The rules
themselves live in ``cronhub/permissions.py`` (the admin asks the same ones).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework import permissions, status

from cronhub import permissions as rules
from cronhub.api.errors import ApiError, DetailError


class IsAuthenticatedUser(permissions.BasePermission):
    """Any authenticated role: admin, user or viewer."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)


class _HasRole(IsAuthenticatedUser):
    """Signed in (else 401), and ``rule(user)`` true (else 403 ``{"detail": refusal}``)."""

    rule: Callable[[Any], bool]
    refusal: str

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if not type(self).rule(request.user):
            raise DetailError(status.HTTP_403_FORBIDDEN, self.refusal)
        return True


class IsWriter(_HasRole):
    """Role user or admin."""

    rule = rules.is_writer
    refusal = "User or admin access required"


class IsAdmin(_HasRole):
    rule = rules.is_admin
    refusal = "Admin access required"


def ensure(allowed: bool, *, error: str = "Forbidden",
           message: str = "You can only modify jobs you created.") -> None:
    """Shape-A 403 unless a rule of ``cronhub.permissions`` said yes."""
    if not allowed:
        raise ApiError(status.HTTP_403_FORBIDDEN, error, message)
