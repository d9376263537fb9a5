"""Role checks (admin, writer, user) as DRF permission classes, and the ownership rule.

Roles are read from the database user on every request, never from the token.
"""

from __future__ import annotations

from rest_framework import permissions, status

from cronhub.api.errors import ApiError, DetailError


class IsAuthenticatedUser(permissions.BasePermission):
    """Any authenticated role: admin, user or viewer."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)


class _HasRole(IsAuthenticatedUser):
    """Signed in (else 401), and ``role`` true on the user (else 403 ``{"detail": refusal}``)."""

    role: str
    refusal: str

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if not getattr(request.user, self.role):
            raise DetailError(status.HTTP_403_FORBIDDEN, self.refusal)
        return True


class IsWriter(_HasRole):
    """Role user or admin."""

    role = "can_write"
    refusal = "User or admin access required"


class IsAdmin(_HasRole):
    role = "is_admin"
    refusal = "Admin access required"


def ensure_owner_or_admin(user, owner_id: str | None, *, error: str = "Forbidden",
                          message: str = "You can only modify jobs you created.") -> None:
    """Shape-A 403 unless ``user`` is an admin or ``owner_id`` is theirs.

    Objects whose owner was deleted (``owner_id`` None) are admin-only.
    """
    if user.is_admin:
        return
    if owner_id is None or owner_id != user.pk:
        raise ApiError(status.HTTP_403_FORBIDDEN, error, message)
